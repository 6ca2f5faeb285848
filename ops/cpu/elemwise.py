"""CPU kernels of the elementwise family: binary, broadcast, scalar and unary ops, Cast, and the fill ops.

Each op's math is one scalar function under `numba.vectorize(cache=True)` (a DUFunc: compiled per dtype on first
use, releases the GIL, broadcasts like numpy). The kernel builders at the bottom of this file turn one scalar
function into an op's kernel `kernel(ctx, p, inputs, outputs, req)`; kernels carry the op's name
(`elemwise_add`, `_plus_scalar`). See ops/cpu/common.py, Note [numba ufuncs per dtype], for dtypes and req.
The scalar functions are plain Python under the decorator, so a CUDA family can compile the same ones.

Adding an op: a scalar function here (skip it if one exists), a kernel line, and one line in ops/elemwise.py.
"""
import math

import numba

from .common import assign, copy_view, scalar_in, ufunc

_scalar = numba.vectorize(cache=True)


# ---- scalar functions ------------------------------------------------------------------------------------------
@_scalar
def add(a, b):
    return a + b


@_scalar
def sub(a, b):
    return a - b


@_scalar
def mul(a, b):
    return a * b


@_scalar
def div(a, b):
    # Integers: the float64 quotient converted back truncates toward zero, C++'s integer division (exact up to
    # 2**53, so int64 operands beyond that may differ in the last units).
    return a / b


@_scalar
def power(a, b):
    # Integers: computed in float64 and truncated, as MXNet's int pow does (2 ** -1 == 0).
    return math.pow(a, b)


@_scalar
def neg(a):
    return -a


@_scalar
def ln(x):
    return math.log(x)


@_scalar
def relu(x):
    return x if x > 0 else 0         # max(x, 0); NaN gives 0, as in MXNet


# ---- kernel builders -------------------------------------------------------------------------------------------
def elementwise(f):
    """Kernel computing outputs[0] = f(*inputs) elementwise, numpy broadcasting (same-shape and broadcast ops)."""
    def kernel(ctx, p, inputs, outputs, req):
        ufunc(f, inputs, outputs[0], req[0])
    return kernel


def with_scalar(f, reverse=False):
    """Kernel computing f(data, scalar), or f(scalar, data) when reverse; the scalar is taken in out's dtype.

    `is_int=False` on an integer input makes the output float64 (the dtype rule), so data is converted to it."""
    def kernel(ctx, p, inputs, outputs, req):
        s = scalar_in(p.scalar, outputs[0].dtype)
        ufunc(f, (s, inputs[0]) if reverse else (inputs[0], s), outputs[0], req[0])
    return kernel


# ---- kernels ---------------------------------------------------------------------------------------------------
elemwise_add = broadcast_add = elementwise(add)
elemwise_sub = broadcast_sub = elementwise(sub)
elemwise_mul = broadcast_mul = elementwise(mul)
elemwise_div = broadcast_div = elementwise(div)
_power = elementwise(power)
negative = elementwise(neg)
log = elementwise(ln)

_plus_scalar = with_scalar(add)
_minus_scalar = with_scalar(sub)
_rminus_scalar = with_scalar(sub, reverse=True)
_mul_scalar = with_scalar(mul)
_div_scalar = with_scalar(div)
_rdiv_scalar = with_scalar(div, reverse=True)
_power_scalar = with_scalar(power)
_rpower_scalar = with_scalar(power, reverse=True)


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
