"""CUDA kernels of the neural-network family and their `_backward_*` kernels.

Layout as ops/cpu/nn.py: the gradient pass's ops (add_n, zeros_like, ones_like, BlockGrad); FullyConnected (the
tiled GEMM of ops/cuda/matrix.py, bias added in its epilogue); Activation and its gradient (elementwise templates
of ops/cuda/elemwise.py with the scalar functions below); the softmax family (one thread per row of the softmax
axis, three passes over the row: max, sum of exp, write; float64 accumulation); SoftmaxOutput's gradient (one
pass over the elements, the 'valid' count reduced on the device); the regression losses; BatchNorm (one block per
channel reduces the batch statistics, then an elementwise pass normalises); Dropout; Concat.

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
from .elemwise import _trunc_, map_binary, map_scalar, map_unary, template
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


# ---- Activation --------------------------------------------------------------------------------------------------
def _softrelu(x):
    # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), without overflow
    return max(x, 0) + math.log1p(math.exp(-abs(x)))


def _relu_grad(dy, v):
    return dy if v > 0 else 0


def _sigmoid_grad(dy, v):
    return dy * v * (1 - v)


def _tanh_grad(dy, v):
    return dy * (1 - v * v)


def _softrelu_grad(dy, v):
    return -dy * math.expm1(-v)


def _softsign_grad(dy, v):
    d = 1 + abs(v)
    return dy / (d * d)


_ACTIVATION = {"relu": cpu_elemwise.relu, "sigmoid": cpu_elemwise._sigmoid, "tanh": cpu_elemwise._tanh,
               "softrelu": _softrelu, "softsign": cpu_elemwise._softsign}
_ACTIVATION_GRAD = {"relu": _relu_grad, "sigmoid": _sigmoid_grad, "tanh": _tanh_grad, "softrelu": _softrelu_grad,
                    "softsign": _softsign_grad}


for _f in _ACTIVATION.values():            # built (not compiled) now, so the PTX test sees them
    template("unary", _f)
for _f in _ACTIVATION_GRAD.values():
    template("binary", _f)


def activation(ctx, p, inputs, outputs, req):
    map_unary(_ACTIVATION[p.act_type], inputs[0], outputs[0], req[0])


def backward_activation(ctx, p, inputs, outputs, req):
    """inputs (dy, v): v is the output, or the input for softsign."""
    map_binary(_ACTIVATION_GRAD[p.act_type], inputs[0], inputs[1], outputs[0], req[0])


# ---- softmax family ------------------------------------------------------------------------------------------------
@cuda.jit
def _softmax_kernel(out, x, n, post, rows, inv_t, log, lengths, use_length, add):
    # row r = (pre index, post index); its elements are x[base + j * post], j < n (< length[r] with use_length)
    r = cuda.grid(1)
    step = cuda.gridsize(1)
    while r < rows:
        base = (r // post) * n * post + r % post
        m = n
        if use_length:
            m = min(max(lengths[r], 0), n)
        mx = -math.inf
        for j in range(m):
            v = float64(x[base + j * post]) * inv_t
            if v > mx or v != v:
                mx = v
        if m == 0:
            mx = 0.0
        s = 0.0
        for j in range(m):
            s += math.exp(float64(x[base + j * post]) * inv_t - mx)
        ls = math.log(s) if m > 0 else 0.0
        if s == 0:
            s = 1.0
        for j in range(n):
            idx = base + j * post
            if j < m:
                e = float64(x[idx]) * inv_t - mx
                v = e - ls if log else math.exp(e) / s
            else:
                v = 0.0
            if add:
                old = out[idx]
                out[idx] = v
                out[idx] = old + out[idx]
            else:
                out[idx] = v
        r += step


@cuda.jit
def _softmax_grad_kernel(out, dy, y, n, post, rows, inv_t, log, add):
    # softmax: dx = y (dy - sum(dy y)) / T; log_softmax: dx = (dy - exp(y) sum(dy)) / T
    r = cuda.grid(1)
    step = cuda.gridsize(1)
    while r < rows:
        base = (r // post) * n * post + r % post
        s = 0.0
        for j in range(n):
            idx = base + j * post
            s += float64(dy[idx]) if log else float64(dy[idx]) * float64(y[idx])
        for j in range(n):
            idx = base + j * post
            g = float64(dy[idx])
            yv = float64(y[idx])
            v = ((g - math.exp(yv) * s) if log else yv * (g - s)) * inv_t
            if add:
                old = out[idx]
                out[idx] = v
                out[idx] = old + out[idx]
            else:
                out[idx] = v
        r += step


declare("nn.softmax", _softmax_kernel, [(_A, _A, _I, _I, _I, _F, _B, types.Array(types.int64, 1, "C"), _B, _B)])
declare("nn.softmax_grad", _softmax_grad_kernel, [(_A, _A, _A, _I, _I, _I, _F, _B, _B)])
_NO_LENGTH = None


def _no_length():
    global _NO_LENGTH
    if _NO_LENGTH is None:
        _NO_LENGTH = empty((1,), np.int64)
    return _NO_LENGTH


def softmax(x, axis, out, req, temperature=None, log=False, length=None):
    """out (req) (log_)softmax of x / temperature along axis; with length, positions past a row's length are 0."""
    if req == NULL or out.size == 0:
        return
    x = as_compute(x)
    n = x.shape[axis]
    post = int(np.prod(x.shape[axis + 1:]))
    rows = x.size // n
    inv_t = 1.0 / temperature if temperature is not None and temperature != 1.0 else 1.0
    lengths = _no_length() if length is None else flat(as_compute(length, np.int64))

    def compute(dst, add=False):
        _go(_softmax_kernel, rows, flat(dst), flat(x), n, post, rows, inv_t, log, lengths, length is not None, add)
    if out.dtype == F16:
        in_compute_dtype(out, req, compute)
    else:
        compute(out, req == ADD)


def _softmax_backward(dy, y, axis, out, req, temperature, log):
    if req == NULL or out.size == 0:
        return
    dy, y = as_compute(dy), as_compute(y)
    n = y.shape[axis]
    post = int(np.prod(y.shape[axis + 1:]))
    rows = y.size // n
    inv_t = 1.0 / temperature if temperature is not None and temperature != 1.0 else 1.0

    def compute(dst, add=False):
        _go(_softmax_grad_kernel, rows, flat(dst), flat(dy), flat(y), n, post, rows, inv_t, log, add)
    if out.dtype == F16:
        in_compute_dtype(out, req, compute)
    else:
        compute(out, req == ADD)


def softmax_op(ctx, p, inputs, outputs, req):
    x = inputs[0]
    softmax(x, p.axis % x.ndim, outputs[0], req[0], p.temperature, length=inputs[1] if len(inputs) > 1 else None)


def log_softmax_op(ctx, p, inputs, outputs, req):
    x = inputs[0]
    softmax(x, p.axis % x.ndim, outputs[0], req[0], p.temperature, log=True)


def backward_softmax(ctx, p, inputs, outputs, req):
    y = inputs[1]
    _softmax_backward(inputs[0], y, p.axis % y.ndim, outputs[0], req[0], p.temperature, False)


def backward_log_softmax(ctx, p, inputs, outputs, req):
    y = inputs[1]
    _softmax_backward(inputs[0], y, p.axis % y.ndim, outputs[0], req[0], p.temperature, True)


def softmax_activation(ctx, p, inputs, outputs, req):
    """instance: softmax over the last axis; channel: over axis 1."""
    x = inputs[0]
    softmax(x, 1 if p.mode == "channel" else x.ndim - 1, outputs[0], req[0])


def _softmax_output_shape(p, shape):
    """(3-D shape (rows, k, rest), axis 1) of SoftmaxOutput's data."""
    size = int(np.prod(shape))
    if p.multi_output:
        return (shape[0], shape[1], size // (shape[0] * shape[1]))
    if p.preserve_shape:
        return (size // shape[len(shape) - 1], shape[len(shape) - 1], 1)
    return (shape[0], size // shape[0], 1)


def softmax_output(ctx, p, inputs, outputs, req):
    x = inputs[0]
    shape = _softmax_output_shape(p, x.shape)
    softmax(x.reshape(shape), 1, outputs[0].reshape(shape), req[0])


@cuda.jit
def _softmax_output_grad_kernel(out, o, label, k, rest, off, on, use_ignore, ignore, scale, count, out_grad, add,
                                n):
    # element (r, c, j) of (rows, k, rest): g = o - off - on * [c == label(r, j)], 0 for an ignored label, times
    # scale / count (count: the number of labels not ignored, or 1), times o with out_grad; see ops/cpu/nn.py
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    cnt = max(count[0], 1.0)
    while i < n:
        j = i % rest
        c = (i // rest) % k
        r = i // (rest * k)
        lab = int(_trunc_(float64(label[r * rest + j])))
        ov = float64(o[i])
        g = ov - off
        if lab == c:
            g -= on
        if use_ignore and lab == ignore:
            g = 0.0
        g = g * scale / cnt
        if out_grad:
            g *= ov
        put(out, i, g, add)
        i += step


def _not_ignored(lab, ignore):
    return 1.0 if _trunc_(float64(lab)) != ignore else 0.0


template("scalar", _not_ignored)
for _f in (cpu_elemwise.add, cpu_elemwise.sub, cpu_elemwise.mul):
    template("binary", _f)
    template("broadcast", _f)
template("scalar", cpu_elemwise.mul)
declare("nn.softmax_output_grad", _softmax_output_grad_kernel,
        [(_A, _A, _A, _I, _I, _F, _F, _B, _I, _F, types.Array(types.float64, 1, "C"), _B, _B, _I)])


def backward_softmax_output(ctx, p, inputs, outputs, req):
    """inputs (output, label) -> d_data; the math of ops/cpu/nn.py's backward_softmax_output, per element."""
    out, label = inputs
    dst = outputs[0]
    if req[0] == NULL or dst.size == 0:
        return
    o = as_compute(out)
    if tuple(label.shape) == tuple(out.shape):          # probabilities as labels: (o - label) * scale (* o)
        def compute(d):
            map_binary(cpu_elemwise.sub, o, label, d, WRITE)
            map_scalar(cpu_elemwise.mul, d, d.dtype.type(p.grad_scale), d, WRITE)
            if p.out_grad:
                map_binary(cpu_elemwise.mul, d, o, d, WRITE)
        in_compute_dtype(dst, req[0], compute) if dst.dtype == F16 else store(dst, req[0], compute)
        return
    rows, k, rest = _softmax_output_shape(p, out.shape)
    label = as_compute(label)
    ignore = int(p.ignore_label)
    count = empty((1,), np.float64)     # the 'valid' count stays on the device: no host round trip
    if p.normalization == "valid":
        flags = empty((label.size,), np.float64)
        map_scalar(_not_ignored, flat(label), float64(ignore), flags, WRITE)
        run_reduce(SUM, flags, (0,), count, WRITE)
        scale = p.grad_scale
    else:
        fill(count, 1.0)
        scale = p.grad_scale / (rest if p.multi_output else 1) / {"null": 1, "batch": rows if p.multi_output
                                                                   else label.size}[p.normalization]
    off, on = 0.0, 1.0
    if not p.multi_output and p.smooth_alpha:
        off = p.smooth_alpha / (k - 1) if k > 1 else 0.0
        on = 1.0 - p.smooth_alpha - off
        off = float(np.dtype(o.dtype).type(off))

    def compute(d, add=False):
        n = d.size
        _go(_softmax_output_grad_kernel, n, flat(d), flat(o), flat(label), k, rest, off, on, bool(p.use_ignore),
            ignore, float(scale), count, bool(p.out_grad), add, n)
    if dst.dtype == F16:
        in_compute_dtype(dst, req[0], compute)
    else:
        compute(dst, req[0] == ADD)


# ---- regression losses ---------------------------------------------------------------------------------------------
def linear_regression_output(ctx, p, inputs, outputs, req):
    copy_view(inputs[0], outputs[0], req[0])


mae_regression_output = linear_regression_output


def logistic_regression_output(ctx, p, inputs, outputs, req):
    map_unary(cpu_elemwise._sigmoid, inputs[0], outputs[0], req[0])


@cuda.jit
def _regression_grad_kernel(out, o, label, scale, sign, add, n):
    # d = o - label (sign: 1 where o > label, else -1), times grad_scale / num_output
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        d = o[i] - label[i]
        if sign:
            d = 1 if d > 0 else -1
        v = d * scale
        put(out, i, v, add)
        i += step


declare("nn.regression_grad", _regression_grad_kernel, [(_A, _A, _A, types.float32, _B, _B, _I)])


def _regression_grad(sign):
    def kernel(ctx, p, inputs, outputs, req):
        out, label = inputs
        dst = outputs[0]
        if req[0] == NULL or dst.size == 0:
            return
        cdt = compute_dtype(dst.dtype)
        o, lab = as_compute(out, cdt), as_compute(label, cdt)
        num_output = label.size // label.shape[0] if label.ndim and label.shape[0] else 1
        scale = cdt.type(p.grad_scale / num_output)

        def compute(d, add=False):
            _go(_regression_grad_kernel, d.size, flat(d), flat(o), flat(lab), scale, sign, add, d.size)
        if dst.dtype != cdt:
            in_compute_dtype(dst, req[0], compute)
        else:
            compute(dst, req[0] == ADD)
    return kernel


backward_linear_reg_out = _regression_grad(False)
backward_logistic_reg_out = _regression_grad(False)
backward_mae_reg_out = _regression_grad(True)


# ---- BatchNorm -------------------------------------------------------------------------------------------------------
_BN_THREADS = 4 if cuda.config.ENABLE_CUDASIM else 256


@cuda.jit
def _bn_stats_kernel(x, pre, channels, post, eps, momentum, train, mean, invstd, moving_mean, moving_var):
    # one block per channel c: mean and biased variance of x[:, c, :] viewed (pre, channels, post) (training), or
    # the moving stats (inference); mean[c] and invstd[c] = 1 / sqrt(var + eps); training updates the moving stats
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
            cuda.syncthreads()
            s = _BN_THREADS // 2
            while s > 0:
                if tid < s:
                    part[tid] += part[tid + s]
                cuda.syncthreads()
                s //= 2
            mu = part[0] / count
            cuda.syncthreads()
            acc = 0.0
            e = tid
            while e < count:
                d = float64(x[((e // post) * channels + c) * post + e % post]) - mu
                acc += d * d
                e += _BN_THREADS
            part[tid] = acc
            cuda.syncthreads()
            s = _BN_THREADS // 2
            while s > 0:
                if tid < s:
                    part[tid] += part[tid + s]
                cuda.syncthreads()
                s //= 2
            var = part[0] / count
            if tid == 0:
                mean[c] = mu
                invstd[c] = 1.0 / math.sqrt(var + eps)
                moving_mean[c] = moving_mean[c] * momentum + (1.0 - momentum) * mu
                moving_var[c] = moving_var[c] * momentum + (1.0 - momentum) * var
            cuda.syncthreads()
        elif tid == 0:
            mean[c] = moving_mean[c]
            invstd[c] = 1.0 / math.sqrt(float64(moving_var[c]) + eps)
        c += cuda.gridDim.x


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
    part2 = cuda.shared.array(_BN_THREADS, float64)
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
        part2[tid] = b
        cuda.syncthreads()
        s = _BN_THREADS // 2
        while s > 0:
            if tid < s:
                part[tid] += part[tid + s]
                part2[tid] += part2[tid + s]
            cuda.syncthreads()
            s //= 2
        if tid == 0:
            sum_dy[c] = part[0]
            sum_dy_xhat[c] = part2[0]
        cuda.syncthreads()
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
declare("nn.bn_stats", _bn_stats_kernel, [(_A, _I, _I, _I, _F, _F, _B, _A, _A, _A, _A)])
declare("nn.bn_normalize", _bn_normalize_kernel, [(_A, _A, _I, _I, _A, _A, _A, _A, _B, _B, _I)])
declare("nn.bn_grad_sums", _bn_grad_sums_kernel, [(_A, _A, _I, _I, _I, _A, _A, _A, _A)])
declare("nn.bn_dx", _bn_dx_kernel, [(_A, _A, _A, _I, _I, _A, _A, _A, _A, _A, types.float32, _B, _B, _B, _I)])


def _bn_layout(x, axis):
    ax = axis % x.ndim
    return int(np.prod(x.shape[:ax])), x.shape[ax], int(np.prod(x.shape[ax + 1:]))


def _channel_blocks(channels):
    return min(channels, 2 if cuda.config.ENABLE_CUDASIM else 65535)


def batch_norm(ctx, p, inputs, outputs, req):
    """Outputs: y, the mean used, and 1/sqrt(var + eps) (see ops/cpu/nn.py); training updates the moving stats."""
    x, gamma, beta, moving_mean, moving_var = inputs
    pre, channels, post = _bn_layout(x, p.axis)
    acc = moving_mean.dtype
    xc = as_compute(x)
    train = bool(ctx.is_train and not p.use_global_stats)
    mean, invstd = empty((channels,), acc), empty((channels,), acc)
    _bn_stats_kernel[_channel_blocks(channels), _BN_THREADS, stream()](
        flat(xc), pre, channels, post, float(p.eps), float(p.momentum), train, mean, invstd, flat(moving_mean),
        flat(moving_var))
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
    """inputs (dy, data, gamma, mean, invstd) -> d_data, d_gamma, d_beta."""
    dy, x, gamma, mean, invstd = inputs
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



# ---- LeakyReLU ---------------------------------------------------------------------------------------------------
# act_type codes; rrelu's forward draws its slopes on the host (ops.random_state) and runs through the host kernel.
_LEAKY, _ELU, _SELU, _GELU, _PRELU, _RRELU = range(6)
_LEAKY_MODES = {"leaky": _LEAKY, "elu": _ELU, "selu": _SELU, "gelu": _GELU, "prelu": _PRELU, "rrelu": _RRELU}
_SELU_A, _SELU_L = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
_SQRT1_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


@cuda.jit
def _leaky_kernel(out, x, mode, a, gamma, post, c, n):
    # out = f(x) per element; prelu's slope is gamma[(i // post) % c] (c = 1: one slope for all)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        v = x[i]
        if mode == _PRELU:
            r = v if v > 0 else v * gamma[(i // post) % c]
        elif mode == _ELU:
            r = v if v > 0 else a * math.expm1(v)
        elif mode == _SELU:
            r = _SELU_L * v if v > 0 else (_SELU_A * _SELU_L) * math.expm1(v)
        elif mode == _GELU:
            r = 0.5 * v * (1.0 + math.erf(v * _SQRT1_2))
        else:
            r = v if v > 0 else a * v
        out[i] = r
        i += step


@cuda.jit
def _leaky_grad_kernel(out, dy, x, y, mode, a, gamma, post, c, n):
    # dx per element from dy, the input x and the output y (gamma: prelu's slopes, or rrelu's per-element mask)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        g = dy[i]
        if mode == _PRELU:
            r = g if x[i] > 0 else g * gamma[(i // post) % c]
        elif mode == _RRELU:
            r = g if x[i] > 0 else g * gamma[i]
        elif mode == _ELU:
            r = g if y[i] > 0 else (y[i] + a) * g
        elif mode == _SELU:
            r = _SELU_L * g if y[i] > 0 else (y[i] + _SELU_A * _SELU_L) * g
        elif mode == _GELU:
            v = x[i]
            r = g * (0.5 * (1.0 + math.erf(v * _SQRT1_2)) + v * _INV_SQRT_2PI * math.exp(-0.5 * v * v))
        else:
            r = g if y[i] > 0 else a * g
        out[i] = r
        i += step


@cuda.jit
def _prelu_neg_kernel(out, dy, x, n):
    # prelu's gamma gradient before the sum: x * dy where x <= 0, else 0
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        v = x[i]
        out[i] = 0 if v > 0 else v * dy[i]
        i += step


_AD = types.Array(types.float64, 1, "C")
declare("nn.leaky_relu", _leaky_kernel, [(_A, _A, _I, types.float32, _A, _I, _I, _I),
                                         (_AD, _AD, _I, types.float64, _AD, _I, _I, _I)])
declare("nn.leaky_relu_grad", _leaky_grad_kernel, [(_A, _A, _A, _A, _I, types.float32, _A, _I, _I, _I),
                                                   (_AD, _AD, _AD, _AD, _I, types.float64, _AD, _I, _I, _I)])
declare("nn.prelu_neg", _prelu_neg_kernel, [(_A, _A, _A, _I), (_AD, _AD, _AD, _I)])


def _slope(p, cdt):
    # the CPU's float32 loops take np.float32(slope); the numpy formulas (float64) the Python float
    return np.float32(p.slope) if cdt == F32 else np.float64(p.slope)


def _prelu_layout(x, gamma):
    """(post, c): element i of x (C-contiguous) takes gamma[(i // post) % c] (gamma along axis 1, or one value)."""
    if gamma.size == 1 or x.ndim < 2:
        return 1, 1
    return int(np.prod(x.shape[2:])), gamma.size


def leaky_relu(ctx, p, inputs, outputs, req):
    if p.act_type == "rrelu":            # random slopes drawn on the host, as on the CPU
        from . import host_fallback
        from .. import registry
        host_fallback(registry.get("LeakyReLU"))(ctx, p, inputs, outputs, req)
        return
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    cdt = compute_dtype(out.dtype)
    x = as_compute(inputs[0], cdt)
    mode = _LEAKY_MODES[p.act_type]
    gamma, post, c = x, 1, 1
    if mode == _PRELU:
        gamma = as_compute(inputs[1], cdt)
        post, c = _prelu_layout(x, gamma)
    a = _slope(p, cdt)

    def compute(dst):
        _go(_leaky_kernel, dst.size, flat(dst), flat(x), mode, a, flat(gamma), post, c, dst.size)
    in_compute_dtype(out, req[0], compute)


def backward_leaky_relu(ctx, p, inputs, outputs, req):
    """inputs (dy, data, output[, gamma | mask]) -> d_data[, d_gamma] (prelu)."""
    out = outputs[0]
    cdt = compute_dtype(out.dtype)
    dy, x, y = (as_compute(v, cdt) for v in inputs[:3])
    mode = _LEAKY_MODES[p.act_type]
    gamma, post, c = x, 1, 1
    if mode in (_PRELU, _RRELU):
        gamma = as_compute(inputs[3], cdt)
    if mode == _PRELU:
        post, c = _prelu_layout(x, gamma)
    a = _slope(p, cdt)
    n = x.size

    def compute(dst):
        _go(_leaky_grad_kernel, n, flat(dst), flat(dy), flat(x), flat(y), mode, a, flat(gamma), post, c, n)
    if n:
        in_compute_dtype(out, req[0], compute)
    if mode == _PRELU and req[1] != NULL:
        neg = empty(x.shape, cdt)
        if n:
            _go(_prelu_neg_kernel, n, flat(neg), flat(dy), flat(x), n)
        g = outputs[1]
        axes = tuple(i for i in range(x.ndim) if i != 1 or g.size == 1)
        run_reduce(SUM, neg, axes, g, req[1])

KERNELS = {
    "add_n": add_n, "zeros_like": zeros_like, "ones_like": ones_like, "BlockGrad": block_grad,
    "FullyConnected": fully_connected, "_backward_FullyConnected": backward_fully_connected,
    "Activation": activation, "_backward_Activation": backward_activation,
    "softmax": softmax_op, "log_softmax": log_softmax_op, "_backward_softmax": backward_softmax,
    "_backward_log_softmax": backward_log_softmax, "SoftmaxActivation": softmax_activation,
    "SoftmaxOutput": softmax_output, "_backward_SoftmaxOutput": backward_softmax_output,
    "LinearRegressionOutput": linear_regression_output, "_backward_linear_reg_out": backward_linear_reg_out,
    "LogisticRegressionOutput": logistic_regression_output, "_backward_logistic_reg_out": backward_logistic_reg_out,
    "MAERegressionOutput": mae_regression_output, "_backward_mae_reg_out": backward_mae_reg_out,
    "BatchNorm": batch_norm, "_backward_BatchNorm": backward_batch_norm,
    "Dropout": dropout, "Concat": concat, "_backward_Concat": backward_concat,
    "LeakyReLU": leaky_relu, "_backward_LeakyReLU": backward_leaky_relu,
}
__all__ = ["KERNELS", "gemm", "F32"]
