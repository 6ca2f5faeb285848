"""CPU kernels of the elementwise family that are not built from a DUFunc: hard_sigmoid (a loop with two float
params), the copies and casts, the fill ops, and `_sum_to_like`. ops/cpu/elemwise.py re-exports them, where
ops/elemwise.py finds every kernel of the family.
"""
import numba
import numpy as np

from .common import assign, compute_dtype, copy_view, in_compute_dtype, scalar_in

_inline = numba.njit(cache=True, inline="always")


@_inline
def _hard_sigmoid(x, alpha, beta):
    y = alpha * x + beta                  # clipped to [0, 1]; NaN stays NaN, as in MXNet
    return 0 if y <= 0 else (1 if y >= 1 else y)


@numba.njit(nogil=True, cache=True)
def _hard_sigmoid_flat(x, alpha, beta, out):
    # out may be x: in place gets its own loop, else LLVM's overlap check picks its scalar fallback (vmath.py)
    if x.ctypes.data == out.ctypes.data:
        for i in range(x.shape[0]):
            x[i] = _hard_sigmoid(x[i], alpha, beta)
    else:
        for i in range(x.shape[0]):
            out[i] = _hard_sigmoid(x[i], alpha, beta)


def hard_sigmoid(ctx, p, inputs, outputs, req):
    """max(0, min(1, alpha x + beta)); alpha and beta are float32 params in MXNet, also for float64 data. A loop
    over flat arrays: a DUFunc taking alpha and beta as broadcast 0-d inputs ran 15x slower."""
    out = outputs[0]
    cdt = compute_dtype(out.dtype)
    x = inputs[0] if inputs[0].dtype == cdt else inputs[0].astype(cdt)
    alpha, beta = cdt.type(np.float32(p.alpha)), cdt.type(np.float32(p.beta))
    in_compute_dtype(out, req[0], lambda dst: _hard_sigmoid_flat(x.reshape(-1), alpha, beta, dst.reshape(-1)))


def _copy(ctx, p, inputs, outputs, req):
    """outputs[0] = inputs[0]; nothing to do when the output already is the input's memory (in place)."""
    copy_view(inputs[0], outputs[0], req[0])


def cast(ctx, p, inputs, outputs, req):
    """outputs[0] = inputs[0] converted to p.dtype: floats to integers truncate toward zero, as C++ casts do."""
    assign(outputs[0], req[0], inputs[0])


def _zeros(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], 0)


def _ones(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], 1)


def _full(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], scalar_in(p.value, outputs[0].dtype))


def sum_to_like(ctx, p, inputs, outputs, req):
    """outputs[0] = inputs[0] summed over the axes along which an array of the output's shape was broadcast."""
    g, out = inputs[0], outputs[0]
    extra = g.ndim - out.ndim
    axes = tuple(range(extra)) + tuple(extra + i for i, d in enumerate(out.shape) if d == 1 and g.shape[extra + i] != 1)
    assign(out, req[0], g.sum(axis=axes).reshape(out.shape) if axes else g)
