"""CPU kernels of the neural-network family (ops/nn.py) and their `_backward_*` kernels.

Layout: the ops the gradient pass uses (add_n, zeros_like, ones_like, BlockGrad); FullyConnected; the softmax
family (softmax, log_softmax, SoftmaxActivation, SoftmaxOutput); the regression losses; BatchNorm; Dropout; Concat.
Activation and LeakyReLU: ops/cpu/activation.py.

Transcendental math goes through ops/cpu/vmath.py (other dtypes: float16 computed in float32). Every kernel
honours req through ops/cpu/common.py. A FullyConnected whose GEMMs reach blas_threads.PARALLEL_FLOPS runs them
inside the GemmSite of its shapes (Note [when a 2-thread GEMM pays] in ops/cpu/blas_threads.py); a smaller one
runs in one numba call once numba is loaded (Note [small FullyConnected] in ops/cpu/fc_blas.py).
"""
import numpy as np

from . import blas_threads as threads, fc_blas
from .common import F16, F32, assign, compute_dtype, copy_view, store
from .matrix import gemm
from ..random_state import generator
from ..registry import INPLACE, WRITE

F64 = np.dtype(np.float64)


def _c(x):
    """x in the dtype a kernel computes in (float16 -> float32), without a copy when it already is."""
    return x.astype(F32) if x.dtype == F16 else x


# ---- ops the gradient pass uses --------------------------------------------------------------------------------
def add_n(ctx, p, inputs, outputs, req):
    """out = inputs[0] + inputs[1] + ..., summed left to right in out's dtype (float16 rounds each step, integers
    wrap, as MXNet's ElementwiseSum does)."""
    def compute(dst):
        if len(inputs) == 1:
            np.copyto(dst, inputs[0])
            return
        np.add(inputs[0], inputs[1], out=dst)
        for x in inputs[2:]:
            np.add(dst, x, out=dst)
    store(outputs[0], req[0], compute)


def zeros_like(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], 0)


def ones_like(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], 1)


def block_grad(ctx, p, inputs, outputs, req):
    """Identity (the gradient is what BlockGrad stops)."""
    copy_view(inputs[0], outputs[0], req[0])


# ---- FullyConnected --------------------------------------------------------------------------------------------
def _fc_rows(x, flatten):
    return x.reshape(x.shape[0], -1) if flatten else x.reshape(-1, x.shape[-1])


def fc_gemm_flops(p, data):
    """FLOPs of each GEMM FullyConnected (forward or backward) runs on `data`: 2 * rows * k * num_hidden."""
    return 2 * data.size * p.num_hidden


def fully_connected(ctx, p, inputs, outputs, req):
    """out = data @ weight.T + bias over data as (n, k) (flatten) or (..., k) (flatten=False)."""
    x, w, out = inputs[0], inputs[1], outputs[0]
    x2 = x if x.ndim == 2 else _fc_rows(x, p.flatten)      # a 2-D data already is its rows, either way
    bias = None if p.no_bias else inputs[2]
    if bias is not None and bias.ndim != 1:                # a (num_hidden, 1) bias (ops/nn.py: _fc_shape)
        bias = bias.reshape(-1)
    flops = 2 * x.size * p.num_hidden                      # fc_gemm_flops, written out: this runs per imperative call
    if flops < threads.PARALLEL_FLOPS:
        if out.ndim == 2 and (req[0] == WRITE or req[0] == INPLACE):
            # the common small call, straight in (a batch-1 layer's frames count): numpy's BLAS call made from
            # numba once it is loaded, the same bits (Note [small FullyConnected] in fc_blas.py)
            if (out.dtype is not F32 and out.dtype is not F64) or not fc_blas.forward(x2, w, bias, out):
                gemm(x2, w.T, out, bias)
        else:
            _fc_forward(p, x2, w, bias, out, req[0])
    else:                                                  # big: on the cores the thread policy gives this call
        with threads.gemm_site(("FullyConnected", x2.shape, w.shape, x.dtype.char), flops):
            _fc_forward(p, x2, w, bias, out, req[0])


def _fc_forward(p, x2, w, bias, out, r):
    if r == WRITE or r == INPLACE:              # the common call, straight into out (no scratch, no closure)
        gemm(x2, w.T, out if out.ndim == 2 else out.reshape(-1, p.num_hidden), bias)
    else:
        store(out, r, lambda dst: gemm(x2, w.T, dst.reshape(-1, p.num_hidden), bias))


def backward_fully_connected(ctx, p, inputs, outputs, req):
    """inputs (dy, data, weight) -> d_data = dy @ W, d_weight = dy^T @ X, d_bias = sum of dy's rows (BLAS)."""
    dy, x, w = inputs
    flops = fc_gemm_flops(p, x)
    if flops >= threads.PARALLEL_FLOPS:
        with threads.gemm_site(("_backward_FullyConnected", x.shape, w.shape, x.dtype.char, tuple(req)), flops):
            _fc_backward(p, dy, x, w, outputs, req)
    else:
        _fc_backward(p, dy, x, w, outputs, req)


def _fc_backward(p, dy, x, w, outputs, req):
    x2 = _fc_rows(x, p.flatten)
    g = dy.reshape(x2.shape[0], p.num_hidden)
    store(outputs[0], req[0], lambda dst: gemm(g, w, dst.reshape(x2.shape)))
    store(outputs[1], req[1], lambda dst: gemm(g.T, x2, dst))
    if not p.no_bias:
        assign(outputs[2], req[2], _c(g).sum(axis=0))


# ---- Dropout ----------------------------------------------------------------------------------------------------
def dropout(ctx, p, inputs, outputs, req):
    """Training (or mode='always'): keep each element (each slice along `axes`) with probability 1 - p and scale
    it by 1/(1 - p); the mask output holds 0 or 1/(1 - p). Otherwise the identity, with a mask of ones."""
    x = inputs[0]
    out, mask = outputs
    if (ctx.is_train or p.mode == "always") and p.p > 0:
        keep = 1.0 - p.p
        axes = {a % x.ndim for a in p.axes}
        mshape = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
        cdt = compute_dtype(x.dtype)
        with np.errstate(all="ignore"):      # p = 1: 0 * inf = NaN, as in MXNet
            scale = cdt.type(1.0 / keep if keep else np.inf)
            m = (generator().random(mshape, dtype=np.float32) < keep).astype(cdt) * scale
            assign(out, req[0], _c(x) * m)
        assign(mask, req[1], m)
    else:
        copy_view(x, out, req[0])
        assign(mask, req[1], 1)


# ---- Concat -----------------------------------------------------------------------------------------------------
def concat(ctx, p, inputs, outputs, req):
    axis = p.dim % inputs[0].ndim
    store(outputs[0], req[0], lambda dst: np.concatenate(inputs, axis=axis, out=dst, casting="unsafe"))


def backward_concat(ctx, p, inputs, outputs, req):
    """inputs (dy, arg0, ...): the args give only their shapes; output i is dy's slice for arg i."""
    dy = inputs[0]
    axis = p.dim % dy.ndim
    start = 0
    for out, r in zip(outputs, req):
        stop = start + out.shape[axis]
        index = [slice(None)] * dy.ndim
        index[axis] = slice(start, stop)
        assign(out, r, dy[tuple(index)])
        start = stop
