"""CUDA kernels of the neural-network family (ops/nn.py) and their `_backward_*` kernels.

Layout as ops/cpu/nn.py: the gradient pass's ops (add_n, zeros_like, ones_like, BlockGrad); FullyConnected (the
tiled GEMM of ops/cuda/matrix.py, bias added in its epilogue); BatchNorm (one block per channel reduces the batch
statistics, then an elementwise pass normalises; the backward updates the moving statistics); Dropout; Concat.
The softmax family and the loss outputs: ops/cuda/softmax.py; activations: ops/cuda/activation.py.

Dropout's mask is drawn on the host from `ops.random_state.generator()` with exactly the CPU kernel's draws and
copied to the device: a seeded run gives the same mask on mx.cpu() and mx.gpu(), so CPU and GPU training can be
compared element for element. (numba.cuda.random's xoroshiro on the device would save the copy but give other
numbers; see the issue 8 follow-ups.)
"""
import math

import numpy as np
from numba import cuda, float64, types

from ..cpu import elemwise as cpu_elemwise
from ..random_state import generator
from ..registry import ADD, NULL, WRITE
from .common import (F16, F32, as_compute, broadcast_into, compute_dtype, copy_into, copy_view, declare, empty, fill,
                     flat, in_compute_dtype, launch, put, store, stream)
from .elemwise import map_binary
from .matrix import Mat, gemm, gemm_any
from .reduce import SUM, run_reduce

_A = types.Array(types.float32, 1, "C")
_I, _B, _F = types.int64, types.boolean, types.float64


def _go(kernel, n, *args):
    kernel[launch(n) + (stream(),)](*args)


# ---- ops the gradient pass uses --------------------------------------------------------------------------------
def add_n(ctx, p, inputs, outputs, req):
    """out = inputs[0] + inputs[1] + ..., left to right in out's dtype."""
    def compute(dst):
        if len(inputs) == 1:
            copy_into(inputs[0], dst)
            return
        map_binary(cpu_elemwise.add, inputs[0], inputs[1], dst, WRITE)
        for x in inputs[2:]:
            map_binary(cpu_elemwise.add, dst, x, dst, WRITE)
    store(outputs[0], req[0], compute)


def zeros_like(ctx, p, inputs, outputs, req):
    fill(outputs[0], 0, req[0])


def ones_like(ctx, p, inputs, outputs, req):
    fill(outputs[0], 1, req[0])


def block_grad(ctx, p, inputs, outputs, req):
    copy_view(inputs[0], outputs[0], req[0])


# ---- FullyConnected --------------------------------------------------------------------------------------------
def _fc_rows(x, flatten):
    return (x.shape[0], x.size // x.shape[0]) if flatten else (x.size // x.shape[x.ndim - 1], x.shape[x.ndim - 1])


def fully_connected(ctx, p, inputs, outputs, req):
    """out = data @ weight.T + bias, data as (n, k) (flatten) or (..., k)."""
    x, w = inputs[0], inputs[1]
    n, k = _fc_rows(x, p.flatten)
    bias = None if p.no_bias else inputs[2]

    def make(a, b, c):
        return Mat.rowmajor(a, n, k), Mat.rowmajor(b, p.num_hidden, k).T, Mat.rowmajor(c, n, p.num_hidden)
    gemm_any(x, w, outputs[0], make, req[0], bias=bias)


def backward_fully_connected(ctx, p, inputs, outputs, req):
    """inputs (dy, data, weight) -> d_data = dy @ W, d_weight = dy^T @ X, d_bias = sum of dy's rows."""
    dy, x, w = inputs
    n, k = _fc_rows(x, p.flatten)
    h = p.num_hidden
    gemm_any(dy, w, outputs[0], lambda g, w_, d: (Mat.rowmajor(g, n, h), Mat.rowmajor(w_, h, k),
                                                   Mat.rowmajor(d, n, k)), req[0])
    gemm_any(dy, x, outputs[1], lambda g, x_, d: (Mat.rowmajor(g, n, h).T, Mat.rowmajor(x_, n, k),
                                                   Mat.rowmajor(d, h, k)), req[1])
    if not p.no_bias and req[2] != NULL:
        run_reduce(SUM, as_compute(dy).reshape(n, h), (0,), outputs[2], req[2])


# ---- BatchNorm -------------------------------------------------------------------------------------------------------
_BN_THREADS = 4 if cuda.config.ENABLE_CUDASIM else 256


@cuda.jit(device=True)
def _block_sum(part, tid):
    """The sum of the block's shared `part` (each thread `tid` has written part[tid]), by halving; every thread of
    the block calls it and gets the sum, and may write `part` again afterwards."""
    cuda.syncthreads()
    s = _BN_THREADS // 2
    while s > 0:
        if tid < s:
            part[tid] += part[tid + s]
        cuda.syncthreads()
        s //= 2
    total = part[0]
    cuda.syncthreads()
    return total


@cuda.jit
def _bn_stats_kernel(x, pre, channels, post, eps, train, mean, invstd, moving_mean, moving_var):
    # one block per channel c: mean and biased variance of x[:, c, :] viewed (pre, channels, post) (training), or
    # the moving stats (inference); mean[c] and invstd[c] = 1 / sqrt(var + eps)
    part = cuda.shared.array(_BN_THREADS, float64)
    tid = cuda.threadIdx.x
    c = cuda.blockIdx.x
    count = pre * post
    while c < channels:
        if train:
            acc = 0.0
            e = tid
            while e < count:
                acc += float64(x[((e // post) * channels + c) * post + e % post])
                e += _BN_THREADS
            part[tid] = acc
            mu = _block_sum(part, tid) / count
            acc = 0.0
            e = tid
            while e < count:
                d = float64(x[((e // post) * channels + c) * post + e % post]) - mu
                acc += d * d
                e += _BN_THREADS
            part[tid] = acc
            var = _block_sum(part, tid) / count
            if tid == 0:
                mean[c] = mu
                invstd[c] = 1.0 / math.sqrt(var + eps)
        elif tid == 0:
            mean[c] = moving_mean[c]
            invstd[c] = 1.0 / math.sqrt(float64(moving_var[c]) + eps)
        c += cuda.gridDim.x


@cuda.jit
def _bn_moving_update_kernel(moving_mean, moving_var, mean, invstd, eps, momentum, n):
    # the backward's update: moving = momentum * moving + (1 - momentum) * batch, var = 1 / invstd^2 - eps
    c = cuda.grid(1)
    step = cuda.gridsize(1)
    while c < n:
        s = float64(invstd[c])
        moving_mean[c] = moving_mean[c] * momentum + (1.0 - momentum) * float64(mean[c])
        moving_var[c] = moving_var[c] * momentum + (1.0 - momentum) * (1.0 / (s * s) - eps)
        c += step


@cuda.jit
def _bn_normalize_kernel(out, x, channels, post, mean, invstd, gamma, beta, fix_gamma, add, n):
    # y = (x - mean[c]) * invstd[c] * gamma[c] (gamma 1 with fix_gamma) + beta[c]
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        c = (i // post) % channels
        scale = invstd[c] if fix_gamma else invstd[c] * gamma[c]
        v = (x[i] - mean[c]) * scale + beta[c]
        put(out, i, v, add)
        i += step


@cuda.jit
def _bn_grad_sums_kernel(dy, x, pre, channels, post, mean, invstd, sum_dy, sum_dy_xhat):
    # one block per channel: sum(dy) and sum(dy * xhat), xhat = (x - mean) * invstd
    part = cuda.shared.array(_BN_THREADS, float64)
    tid = cuda.threadIdx.x
    c = cuda.blockIdx.x
    count = pre * post
    while c < channels:
        a = 0.0
        b = 0.0
        e = tid
        while e < count:
            i = ((e // post) * channels + c) * post + e % post
            g = float64(dy[i])
            a += g
            b += g * (float64(x[i]) - mean[c]) * invstd[c]
            e += _BN_THREADS
        part[tid] = a
        a = _block_sum(part, tid)
        part[tid] = b
        b = _block_sum(part, tid)
        if tid == 0:
            sum_dy[c] = a
            sum_dy_xhat[c] = b
        c += cuda.gridDim.x


@cuda.jit
def _bn_dx_kernel(out, dy, x, channels, post, mean, invstd, gamma, sum_dy, sum_dy_xhat, inv_n, fix_gamma,
                  batch_stats, add, n):
    # dx = scale * (dy - sum_dy / n - xhat * sum_dy_xhat / n) with batch statistics, else dy * scale
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        c = (i // post) % channels
        scale = invstd[c] if fix_gamma else invstd[c] * gamma[c]
        if batch_stats:
            xhat = (x[i] - mean[c]) * invstd[c]
            v = scale * (dy[i] - sum_dy[c] * inv_n - xhat * sum_dy_xhat[c] * inv_n)
        else:
            v = dy[i] * scale
        put(out, i, v, add)
        i += step


_AF64 = types.Array(types.float64, 1, "C")
declare("nn.bn_stats", _bn_stats_kernel, [(_A, _I, _I, _I, _F, _B, _A, _A, _A, _A)])
declare("nn.bn_moving_update", _bn_moving_update_kernel, [(_A, _A, _A, _A, _F, _F, _I)])
declare("nn.bn_normalize", _bn_normalize_kernel, [(_A, _A, _I, _I, _A, _A, _A, _A, _B, _B, _I)])
declare("nn.bn_grad_sums", _bn_grad_sums_kernel, [(_A, _A, _I, _I, _I, _A, _A, _A, _A)])
declare("nn.bn_dx", _bn_dx_kernel, [(_A, _A, _A, _I, _I, _A, _A, _A, _A, _A, types.float32, _B, _B, _B, _I)])


def _bn_layout(x, axis):
    ax = axis % x.ndim
    return int(np.prod(x.shape[:ax])), x.shape[ax], int(np.prod(x.shape[ax + 1:]))


def _channel_blocks(channels):
    return min(channels, 2 if cuda.config.ENABLE_CUDASIM else 65535)


def batch_norm(ctx, p, inputs, outputs, req):
    """Outputs: y, the mean used, and 1/sqrt(var + eps) (see ops/cpu/nn.py); a fixed gamma is overwritten with
    ones, and the moving stats are left to the backward."""
    x, gamma, beta, moving_mean, moving_var = inputs
    pre, channels, post = _bn_layout(x, p.axis)
    acc = moving_mean.dtype
    xc = as_compute(x)
    train = bool(ctx.is_train and not p.use_global_stats)
    mean, invstd = empty((channels,), acc), empty((channels,), acc)
    _bn_stats_kernel[_channel_blocks(channels), _BN_THREADS, stream()](
        flat(xc), pre, channels, post, float(p.eps), train, mean, invstd, flat(moving_mean), flat(moving_var))
    if p.fix_gamma and ctx.computes_gradients:     # as the CPU kernel (ops/cpu/nn.py batch_norm)
        fill(gamma, 1)
    g, b = as_compute(gamma, acc), as_compute(beta, acc)

    def normalize(dst, add=False):
        n = dst.size
        _go(_bn_normalize_kernel, n, flat(dst), flat(xc), channels, post, mean, invstd, flat(g), flat(b),
            bool(p.fix_gamma), add, n)
    out = outputs[0]
    if req[0] != NULL:
        if out.dtype != xc.dtype or acc != xc.dtype:
            in_compute_dtype(out, req[0], normalize) if out.dtype == F16 else store(out, req[0], normalize)
        else:
            normalize(out, req[0] == ADD)
    copy_into(mean, outputs[1], req[1])
    copy_into(invstd, outputs[2], req[2])


def backward_batch_norm(ctx, p, inputs, outputs, req):
    """inputs (dy, data, gamma, mean, invstd, moving_mean, moving_var) -> d_data, d_gamma, d_beta; in training
    without use_global_stats it also updates the moving stats."""
    dy, x, gamma, mean, invstd, moving_mean, moving_var = inputs
    pre, channels, post = _bn_layout(x, p.axis)
    acc = invstd.dtype
    dyc, xc = as_compute(dy), as_compute(x)
    sum_dy, sum_dy_xhat = empty((channels,), acc), empty((channels,), acc)
    _bn_grad_sums_kernel[_channel_blocks(channels), _BN_THREADS, stream()](
        flat(dyc), flat(xc), pre, channels, post, flat(mean), flat(invstd), sum_dy, sum_dy_xhat)
    g = as_compute(gamma, acc)
    batch_stats = bool(ctx.is_train and not p.use_global_stats)

    def dx(dst, add=False):
        n = dst.size
        _go(_bn_dx_kernel, n, flat(dst), flat(dyc), flat(xc), channels, post, flat(mean), flat(invstd), flat(g),
            sum_dy, sum_dy_xhat, acc.type(1.0 / (pre * post)), bool(p.fix_gamma), batch_stats, add, n)
    out = outputs[0]
    if req[0] != NULL:
        if out.dtype == F16:
            in_compute_dtype(out, req[0], dx)
        else:
            dx(out, req[0] == ADD)
    if p.fix_gamma:
        fill(outputs[1], 0, req[1])
    else:
        copy_into(sum_dy_xhat, outputs[1], req[1])
    copy_into(sum_dy, outputs[2], req[2])
    if batch_stats:
        _go(_bn_moving_update_kernel, channels, flat(moving_mean), flat(moving_var), flat(mean), flat(invstd),
            float(p.eps), float(p.momentum), channels)


# ---- Dropout ---------------------------------------------------------------------------------------------------------
def dropout(ctx, p, inputs, outputs, req):
    """Training (or mode='always'): the CPU kernel's mask, drawn on the host with the same generator calls, copied
    to the device; out = x * mask. Otherwise the identity with a mask of ones."""
    from . import storage as gpu_storage
    x = inputs[0]
    out, mask = outputs
    if (ctx.is_train or p.mode == "always") and p.p > 0:
        keep = 1.0 - p.p
        axes = {a % x.ndim for a in p.axes}
        mshape = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
        cdt = compute_dtype(x.dtype)
        with np.errstate(all="ignore"):
            scale = cdt.type(1.0 / keep if keep else np.inf)
            m_host = (generator().random(mshape, dtype=np.float32) < keep).astype(cdt) * scale
        m = empty(mshape, cdt)
        gpu_storage.from_host(m_host, m, gpu_storage.current_device())
        map_binary(cpu_elemwise.mul, x, m, out, req[0])
        broadcast_into(m, mask, req[1])
    else:
        copy_view(x, out, req[0])
        fill(mask, 1, req[1])


# ---- Concat ----------------------------------------------------------------------------------------------------------
@cuda.jit
def _slab_kernel(dst, src, n_src, post, n_dst, offset, to_dst, add, n):
    # src viewed (pre, n_src, post) <-> the slab [offset, offset + n_src) of dst viewed (pre, n_dst, post):
    # to_dst: dst slab (req) src (Concat); else src (req) dst slab (its gradient)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        q = i % post
        j = (i // post) % n_src
        r = i // (post * n_src)
        k = (r * n_dst + offset + j) * post + q
        if to_dst:
            if add:
                old = dst[k]
                dst[k] = src[i]
                dst[k] = old + dst[k]
            else:
                dst[k] = src[i]
        else:
            if add:
                old = src[i]
                src[i] = dst[k]
                src[i] = old + src[i]
            else:
                src[i] = dst[k]
        i += step


declare("nn.slab", _slab_kernel, [(_A, _A, _I, _I, _I, _I, _B, _B, _I)])


def concat(ctx, p, inputs, outputs, req):
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    axis = p.dim % inputs[0].ndim
    post = int(np.prod(out.shape[axis + 1:]))

    def compute(dst, add=False):
        offset = 0
        for x in inputs:
            n = x.size
            if n:
                _go(_slab_kernel, n, flat(dst), flat(as_compute(x, dst.dtype)), x.shape[axis], post,
                    out.shape[axis], offset, True, add, n)
            offset += x.shape[axis]
    compute(out, req[0] == ADD)


def backward_concat(ctx, p, inputs, outputs, req):
    """inputs (dy, arg0, ...): output i is dy's slab for arg i."""
    dy = inputs[0]
    axis = p.dim % dy.ndim
    post = int(np.prod(dy.shape[axis + 1:]))
    offset = 0
    for out, r in zip(outputs, req):
        n = out.size
        if r != NULL and n:
            src = dy if dy.dtype == out.dtype else as_compute(dy, out.dtype)
            _go(_slab_kernel, n, flat(src), flat(out), out.shape[axis], post, dy.shape[axis], offset, False,
                r == ADD, n)
        offset += out.shape[axis]


KERNELS = {
    "add_n": add_n, "zeros_like": zeros_like, "ones_like": ones_like, "BlockGrad": block_grad,
    "FullyConnected": fully_connected, "_backward_FullyConnected": backward_fully_connected,
    "BatchNorm": batch_norm, "_backward_BatchNorm": backward_batch_norm,
    "Dropout": dropout, "Concat": concat, "_backward_Concat": backward_concat,
}
__all__ = ["KERNELS", "gemm", "F32"]
