"""CUDA kernels of the normalisation family and its losses (ops/norm.py): LayerNorm, InstanceNorm,
L2Normalization, LRN, softmax_cross_entropy, smooth_l1, and their `_backward_*` kernels.

Layout as ops/cpu/norm.py: every normalising op reads its data as an (A, R, Q) block whose rows (one per (a, q),
elements a*R*Q + j*Q + q for j < R) are normalised: LayerNorm's (outer, C, inner) around its axis (no transpose
needed), InstanceNorm's (N*C, S, 1), L2Normalization's l2_blocks. One thread per row, three passes over the row,
float64 accumulation (as the CPU loops). LRN is one thread per element of (N, C, S) summing its channel window.
softmax_cross_entropy: one thread per row; the labels are checked and truncated on the host (the CPU kernel's
`_labels`, which raises for an out-of-range label) and copied up as int64. smooth_l1 is the elementwise scalar
template (forward) and an elementwise kernel (backward). Results go to compute-dtype scratch arrays and are stored
into the outputs with `copy_into` (req, float16).
"""
import math

import numpy as np
from numba import cuda, float64, types

from ..cpu import norm as cpu_norm
from ..cpu.common import scalar_in
from ..registry import ADD, NULL
from . import storage as gpu_storage
from .common import as_compute, compute_dtype, copy_into, declare, empty, flat, in_compute_dtype, launch, put, stream
from .elemwise import map_scalar, template

_A = types.Array(types.float32, 1, "C")
_AD = types.Array(types.float64, 1, "C")
_AI = types.Array(types.int32, 1, "C")
_AL = types.Array(types.int64, 1, "C")
_I, _B, _F = types.int64, types.boolean, types.float64


def _go(kernel, n, *args):
    if n > 0:
        kernel[launch(n) + (stream(),)](*args)


def _store(results, outputs, req):
    """Store each scratch result into its output as req says."""
    for r, o, q in zip(results, outputs, req):
        if q != NULL and o.size:
            copy_into(r, o, q)


# ---- LayerNorm, InstanceNorm -------------------------------------------------------------------------------------
@cuda.jit(device=True)
def _row_start(t, r_, q_):
    """The first element of row t = (a, q) of an array viewed (A, R, Q), the row running along R (stride Q)."""
    a = t // q_
    return a * r_ * q_ + (t - a * q_)


@cuda.jit
def _norm_rows(x, gamma, beta, eps, channels, r_, q_, out, mean, var, std, rows):
    # row t = (a, q): elements a*R*Q + j*Q + q. channels > 0: InstanceNorm (gamma per row t % channels), else
    # LayerNorm (gamma per j). std: var holds sqrt(var + eps) (LayerNorm's std output)
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < rows:
        base = _row_start(t, r_, q_)
        s = 0.0
        for j in range(r_):
            s += float64(x[base + j * q_])
        mu = s / r_
        v = 0.0
        for j in range(r_):
            d = float64(x[base + j * q_]) - mu
            v += d * d
        v /= r_
        r = 1.0 / math.sqrt(v + eps)
        mean[t] = mu
        if std:
            var[t] = math.sqrt(v + eps)
        else:
            var[t] = v
        if channels > 0:
            g = gamma[t % channels] * r
            b = beta[t % channels]
            for j in range(r_):
                k = base + j * q_
                out[k] = (float64(x[k]) - mu) * g + b
        else:
            for j in range(r_):
                k = base + j * q_
                out[k] = (float64(x[k]) - mu) * r * gamma[j] + beta[j]
        t += step


@cuda.jit
def _norm_rows_backward(dy, x, gamma, mean, sd, eps, channels, r_, q_, dx, rows):
    # dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma; rstd = 1 / sd (LayerNorm's std) or
    # 1 / sqrt(sd + eps) (InstanceNorm's var)
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < rows:
        base = _row_start(t, r_, q_)
        mu = mean[t]
        if channels > 0:
            r = 1.0 / math.sqrt(float64(sd[t]) + eps)
            gi = gamma[t % channels]
        else:
            r = 1.0 / float64(sd[t])
            gi = gamma[0]
        sg = 0.0
        sgx = 0.0
        for j in range(r_):
            k = base + j * q_
            xh = (x[k] - mu) * r
            gj = gi if channels > 0 else gamma[j]
            g = dy[k] * gj
            sg += float64(g)
            sgx += g * xh
        sg /= r_
        sgx /= r_
        for j in range(r_):
            k = base + j * q_
            xh = (x[k] - mu) * r
            gj = gi if channels > 0 else gamma[j]
            dx[k] = r * (dy[k] * gj - sg - xh * sgx)
        t += step


@cuda.jit
def _norm_params_backward(dy, x, mean, sd, eps, channels, r_, q_, rows, dgamma, dbeta, nk):
    # one thread per parameter k: dgamma[k] = sum dy * xhat, dbeta[k] = sum dy over the elements of channel k
    # (InstanceNorm: rows t with t % channels == k, all j; LayerNorm: position j == k of every row)
    k = cuda.grid(1)
    step = cuda.gridsize(1)
    while k < nk:
        sdx = 0.0
        sdy = 0.0
        if channels > 0:
            for t in range(k, rows, channels):
                mu = mean[t]
                r = 1.0 / math.sqrt(float64(sd[t]) + eps)
                for j in range(r_):
                    e = t * r_ + j
                    sdx += dy[e] * ((x[e] - mu) * r)
                    sdy += float64(dy[e])
        else:
            for t in range(rows):
                e = _row_start(t, r_, q_) + k * q_
                mu = mean[t]
                r = 1.0 / float64(sd[t])
                sdx += dy[e] * ((x[e] - mu) * r)
                sdy += float64(dy[e])
        dgamma[k] = sdx
        dbeta[k] = sdy
        k += step


_norm_sig = [(_A, _A, _A, _F, _I, _I, _I, _A, _A, _A, _B, _I), (_AD, _AD, _AD, _F, _I, _I, _I, _AD, _AD, _AD, _B, _I)]
declare("norm.norm_rows", _norm_rows, _norm_sig)
declare("norm.norm_rows_backward", _norm_rows_backward,
        [(_A, _A, _A, _A, _A, _F, _I, _I, _I, _A, _I), (_AD, _AD, _AD, _AD, _AD, _F, _I, _I, _I, _AD, _I)])
declare("norm.norm_params_backward", _norm_params_backward,
        [(_A, _A, _A, _A, _F, _I, _I, _I, _I, _AD, _AD, _I), (_AD, _AD, _AD, _AD, _F, _I, _I, _I, _I, _AD, _AD, _I)])


def _layer_block(shape, axis):
    c = shape[axis]
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    inner = int(np.prod(shape[axis + 1:], dtype=np.int64))
    return outer, c, inner


def _norm_forward(x, gamma, beta, eps, channels, r_, q_, rows, std, outputs, req):
    x, gamma, beta = as_compute(x), as_compute(gamma), as_compute(beta)
    cdt = x.dtype
    out, mean, var = empty((x.size,), cdt), empty((rows,), cdt), empty((rows,), cdt)
    _go(_norm_rows, rows, flat(x), flat(gamma), flat(beta), float(eps), channels, r_, q_, out, mean, var, std,
        rows)
    _store([out.reshape(outputs[0].shape), mean.reshape(outputs[1].shape), var.reshape(outputs[2].shape)],
           outputs, req)


def _norm_backward(inputs, eps, channels, r_, q_, rows, nk, outputs, req):
    dy, x, gamma, mean, sd = (as_compute(v) for v in inputs)
    cdt = x.dtype
    if req[0] != NULL and x.size:
        dx = empty((x.size,), cdt)
        _go(_norm_rows_backward, rows, flat(dy), flat(x), flat(gamma), flat(mean), flat(sd), float(eps), channels,
            r_, q_, dx, rows)
        copy_into(dx.reshape(outputs[0].shape), outputs[0], req[0])
    if (req[1] != NULL or req[2] != NULL) and nk:
        dgamma, dbeta = empty((nk,), np.float64), empty((nk,), np.float64)
        if x.size:
            _go(_norm_params_backward, nk, flat(dy), flat(x), flat(mean), flat(sd), float(eps), channels, r_, q_,
                rows, dgamma, dbeta, nk)
        else:
            dgamma[:] = 0
            dbeta[:] = 0
        _store([dgamma, dbeta], outputs[1:], req[1:])


def layer_norm(ctx, p, inputs, outputs, req):
    """outputs: out, mean and std = sqrt(var + eps) (data's shape with axis of size 1)."""
    x = inputs[0]
    outer, c, inner = _layer_block(x.shape, p.axis % x.ndim)
    _norm_forward(x, inputs[1], inputs[2], p.eps, 0, c, inner, outer * inner, True, outputs, req)


def backward_layer_norm(ctx, p, inputs, outputs, req):
    """inputs (dy, data, gamma, mean, std) -> d_data, d_gamma, d_beta."""
    x = inputs[1]
    outer, c, inner = _layer_block(x.shape, p.axis % x.ndim)
    _norm_backward(inputs, p.eps, 0, c, inner, outer * inner, c, outputs, req)


def instance_norm(ctx, p, inputs, outputs, req):
    """outputs: out, and the per-(n, c) mean and biased variance (N, C)."""
    x = inputs[0]
    n, c = x.shape[0], x.shape[1]
    _norm_forward(x, inputs[1], inputs[2], p.eps, c, x.size // max(1, n * c), 1, n * c, False, outputs, req)


def backward_instance_norm(ctx, p, inputs, outputs, req):
    """inputs (dy, data, gamma, mean, var) -> d_data, d_gamma, d_beta."""
    x = inputs[1]
    n, c = x.shape[0], x.shape[1]
    _norm_backward(inputs, p.eps, c, x.size // max(1, n * c), 1, n * c, c, outputs, req)


def group_norm(ctx, p, inputs, outputs, req):
    """InstanceNorm's rows with (n, group) pairs and gamma, beta per group; mean and std outputs (N, groups)."""
    x = inputs[0]
    rows = x.shape[0] * p.num_groups
    _norm_forward(x, inputs[1], inputs[2], p.eps, p.num_groups, x.size // max(1, rows), 1, rows, True, outputs, req)


# ---- L2Normalization -----------------------------------------------------------------------------------------------
@cuda.jit
def _l2_rows(x, eps, r_, q_, out, norm, rows):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < rows:
        base = _row_start(t, r_, q_)
        s = 0.0
        for j in range(r_):
            v = x[base + j * q_]
            s += float64(v * v)
        nv = math.sqrt(s + eps)
        norm[t] = nv
        for j in range(r_):
            k = base + j * q_
            out[k] = float64(x[k]) / nv
        t += step


@cuda.jit
def _l2_rows_backward(dy, y, norm, r_, q_, dx, rows):
    # dx = (dy - y * sum_R(dy * y)) / norm
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < rows:
        base = _row_start(t, r_, q_)
        s = 0.0
        for j in range(r_):
            k = base + j * q_
            s += float64(dy[k] * y[k])
        nv = float64(norm[t])
        for j in range(r_):
            k = base + j * q_
            dx[k] = (float64(dy[k]) - float64(y[k]) * s) / nv
        t += step


declare("norm.l2_rows", _l2_rows, [(_A, _F, _I, _I, _A, _A, _I), (_AD, _F, _I, _I, _AD, _AD, _I)])
declare("norm.l2_rows_backward", _l2_rows_backward,
        [(_A, _A, _A, _I, _I, _A, _I), (_AD, _AD, _AD, _I, _I, _AD, _I)])


def l2_normalization(ctx, p, inputs, outputs, req):
    """outputs: out and the norm per (P, Q)."""
    x = as_compute(inputs[0])
    pp, r_, q_ = cpu_norm.l2_blocks(x.shape, p.mode)
    cdt = x.dtype
    out, norm = empty((x.size,), cdt), empty((pp * q_,), cdt)
    _go(_l2_rows, pp * q_, flat(x), float(p.eps), r_, q_, out, norm, pp * q_)
    _store([out.reshape(outputs[0].shape), norm.reshape(outputs[1].shape)], outputs, req)


def backward_l2_normalization(ctx, p, inputs, outputs, req):
    """inputs (dy, output, norm) -> d_data."""
    if req[0] == NULL:
        return
    dy, y, norm = (as_compute(v) for v in inputs)
    pp, r_, q_ = cpu_norm.l2_blocks(y.shape, p.mode)
    dx = empty((y.size,), y.dtype)
    _go(_l2_rows_backward, pp * q_, flat(dy), flat(y), flat(norm), r_, q_, dx, pp * q_)
    copy_into(dx.reshape(outputs[0].shape), outputs[0], req[0])


# ---- LRN -----------------------------------------------------------------------------------------------------------
@cuda.jit
def _lrn_forward(x, half, c_, s_, scale, knorm, beta, out, norm, n):
    # norm = knorm + alpha / nsize * sum of x^2 over the channel window; out = x * norm^-beta
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        c = (i // s_) % c_
        base = i - c * s_
        acc = 0.0
        for j in range(max(0, c - half), min(c_, c + half + 1)):
            v = x[base + j * s_]
            acc += float64(v * v)
        norm[i] = acc * scale + knorm
        nv = float64(norm[i])
        out[i] = float64(x[i]) * math.exp(-beta * math.log(nv))
        i += step


@cuda.jit
def _lrn_backward_terms(dy, x, norm, beta, w, n):
    # w = dy * x * norm^(-beta - 1)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        s = float64(norm[i])
        w[i] = float64(dy[i]) * float64(x[i]) * math.exp(-beta * math.log(s)) / s
        i += step


@cuda.jit
def _lrn_backward(dy, x, norm, w, half, c_, s_, beta, coef, dx, n):
    # dx = dy * norm^-beta - 2 alpha beta / nsize * x * windowsum(w)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        c = (i // s_) % c_
        base = i - c * s_
        acc = 0.0
        for j in range(max(0, c - half), min(c_, c + half + 1)):
            acc += w[base + j * s_]
        dx[i] = float64(dy[i]) * math.exp(-beta * math.log(float64(norm[i]))) - float64(x[i]) * acc * coef
        i += step


declare("norm.lrn_forward", _lrn_forward,
        [(_A, _I, _I, _I, _F, _F, _F, _A, _A, _I), (_AD, _I, _I, _I, _F, _F, _F, _AD, _AD, _I)])
declare("norm.lrn_backward_terms", _lrn_backward_terms, [(_A, _A, _A, _F, _AD, _I), (_AD, _AD, _AD, _F, _AD, _I)])
declare("norm.lrn_backward", _lrn_backward,
        [(_A, _A, _A, _AD, _I, _I, _I, _F, _F, _A, _I), (_AD, _AD, _AD, _AD, _I, _I, _I, _F, _F, _AD, _I)])


def _lrn_shape(shape):
    c = shape[1]
    return c, int(np.prod(shape[2:], dtype=np.int64))


def lrn(ctx, p, inputs, outputs, req):
    """outputs: out = x * norm ** -beta and norm (MXNet's hidden tmp_norm)."""
    x = as_compute(inputs[0])
    c_, s_ = _lrn_shape(x.shape)
    out, norm = empty((x.size,), x.dtype), empty((x.size,), x.dtype)
    _go(_lrn_forward, x.size, flat(x), p.nsize // 2, c_, s_, float(p.alpha / p.nsize), float(p.knorm),
        float(p.beta), out, norm, x.size)
    _store([out.reshape(outputs[0].shape), norm.reshape(outputs[1].shape)], outputs, req)


def backward_lrn(ctx, p, inputs, outputs, req):
    """inputs (dy, data, norm) -> d_data = dy s^-b - 2ab/n x winsum(dy x s^(-b-1))."""
    if req[0] == NULL:
        return
    dy, x, norm = (as_compute(v) for v in inputs)
    c_, s_ = _lrn_shape(x.shape)
    n = x.size
    w, dx = empty((n,), np.float64), empty((n,), x.dtype)
    _go(_lrn_backward_terms, n, flat(dy), flat(x), flat(norm), float(p.beta), w, n)
    _go(_lrn_backward, n, flat(dy), flat(x), flat(norm), w, p.nsize // 2, c_, s_, float(p.beta),
        float(2 * p.alpha * p.beta / p.nsize), dx, n)
    copy_into(dx.reshape(outputs[0].shape), outputs[0], req[0])


# ---- softmax_cross_entropy ---------------------------------------------------------------------------------------
@cuda.jit(device=True)
def _max_and_exp_sum(x, base, k_):
    """max(x[base:base + k_]) and sum(exp(x - max)) over the row: softmax's stable denominator."""
    m = x[base]
    for j in range(1, k_):
        m = max(m, x[base + j])
    se = 0.0
    for j in range(k_):
        se += float64(math.exp(x[base + j] - m))
    return m, se


@cuda.jit
def _sce_rows(x, lab, k_, loss, rows):
    # loss[t] = log(sum exp(x - max)) + max - x[label]
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < rows:
        base = t * k_
        m, se = _max_and_exp_sum(x, base, k_)
        loss[t] = math.log(se) + float64(m) - float64(x[base + lab[t]])
        t += step


@cuda.jit
def _sum_into(v, out, n):
    # out[0] = sum of v (one thread, in order: a few rows)
    if cuda.grid(1) == 0:
        s = 0.0
        for i in range(n):
            s += v[i]
        out[0] = s


@cuda.jit
def _sce_rows_backward(dy, x, lab, k_, dx, rows):
    # dx = (softmax(x) - onehot(label)) * dy[0]
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < rows:
        base = t * k_
        m, se = _max_and_exp_sum(x, base, k_)
        g = float64(dy[0])
        for j in range(k_):
            v = float64(math.exp(x[base + j] - m)) / se
            if j == lab[t]:
                v -= 1.0
            dx[base + j] = v * g
        t += step


declare("norm.sce_rows", _sce_rows, [(_A, _AL, _I, _AD, _I), (_AD, _AL, _I, _AD, _I)])
declare("norm.sum_into", _sum_into, [(_AD, _AD, _I)])
declare("norm.sce_rows_backward", _sce_rows_backward, [(_A, _A, _AL, _I, _A, _I), (_AD, _AD, _AL, _I, _AD, _I)])


def _device_labels(label, k):
    """The labels as int64 class indices on the device, checked on the host (MXNetError when out of range)."""
    dev = gpu_storage.current_device()
    idx = cpu_norm._labels(gpu_storage.to_host(label, dev).reshape(-1), k)
    d = empty(idx.shape, np.int64)
    if idx.size:
        gpu_storage.from_host(np.ascontiguousarray(idx), d, dev)
    return d


def softmax_cross_entropy(ctx, p, inputs, outputs, req):
    """out (1,) = sum over rows of -log softmax(x)[label]."""
    if req[0] == NULL:
        return
    x = as_compute(inputs[0])
    rows, k_ = x.shape
    lab = _device_labels(inputs[1], k_)
    loss, total = empty((max(1, rows),), np.float64), empty((1,), np.float64)
    _go(_sce_rows, rows, flat(x), lab, k_, loss, rows)
    _sum_into[1, 1, stream()](loss, total, rows)
    copy_into(total, outputs[0], req[0])


def backward_softmax_cross_entropy(ctx, p, inputs, outputs, req):
    """inputs (dy, data, label) -> d_data = (softmax(data) - onehot(label)) * dy[0]."""
    if req[0] == NULL:
        return
    dy, x = as_compute(inputs[0]), as_compute(inputs[1])
    rows, k_ = x.shape
    lab = _device_labels(inputs[2], k_)
    dx = empty(x.shape, x.dtype)
    _go(_sce_rows_backward, rows, flat(dy), flat(x), lab, k_, flat(dx), rows)
    copy_into(dx, outputs[0], req[0])


# ---- smooth_l1 -------------------------------------------------------------------------------------------------
def _smooth_l1_value(a, sigma):
    # as ops/cpu/norm.py::_smooth_l1 (integers: sigma in the data's dtype, the float result truncated)
    bsq = sigma * sigma
    if bsq == 0:
        return 0.5 * a * a * bsq
    inv = 1.0 / bsq
    if a > inv:
        return a - 0.5 * inv
    if a < -inv:
        return -a - 0.5 * inv
    return 0.5 * a * a * bsq


template("scalar", _smooth_l1_value)         # declared now, for the PTX test (built lazily otherwise)


@cuda.jit
def _smooth_l1_grad(out, dy, x, sigma, add, n):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        a = x[i]
        g = dy[i]
        bsq = sigma * sigma
        if bsq == 0:
            v = g * a * bsq
        else:
            inv = 1.0 / bsq
            if a > inv:
                v = g
            elif a < -inv:
                v = -g
            else:
                v = g * a * bsq
        put(out, i, v, add)
        i += step


declare("norm.smooth_l1_grad", _smooth_l1_grad,
        [(_A, _A, _A, types.float32, _B, _I), (_AI, _AI, _AI, types.int32, _B, _I),
         (_AD, _AD, _AD, types.float64, _B, _I)])


def smooth_l1(ctx, p, inputs, outputs, req):
    """out = smooth_l1(data, sigma = scalar taken in the output's dtype)."""
    out = outputs[0]
    map_scalar(_smooth_l1_value, inputs[0], scalar_in(p.scalar, compute_dtype(out.dtype))[()], out, req[0])


def backward_smooth_l1(ctx, p, inputs, outputs, req):
    """inputs (dy, data) -> d_data = dy * (sign(a) outside [-1/sigma^2, 1/sigma^2], sigma^2 a inside)."""
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    cdt = compute_dtype(out.dtype)
    dy, x = as_compute(inputs[0], cdt), as_compute(inputs[1], cdt)
    sigma = scalar_in(p.scalar, cdt)[()]

    def compute(dst):
        _go(_smooth_l1_grad, dst.size, flat(dst), flat(dy), flat(x), sigma, False, dst.size)
    if out.dtype == cdt and req[0] == ADD:
        _go(_smooth_l1_grad, out.size, flat(out), flat(dy), flat(x), sigma, True, out.size)
    else:
        in_compute_dtype(out, req[0], compute)


# op name -> CUDA kernel (attached by ops/cuda/__init__.py::register)
KERNELS = {
    "GroupNorm": group_norm,
    "smooth_l1": smooth_l1,
    "_backward_smooth_l1": backward_smooth_l1,
    "softmax_cross_entropy": softmax_cross_entropy,
    "_backward_softmax_cross_entropy": backward_softmax_cross_entropy,
    "L2Normalization": l2_normalization,
    "_backward_L2Normalization": backward_l2_normalization,
    "LayerNorm": layer_norm,
    "_backward_LayerNorm": backward_layer_norm,
    "InstanceNorm": instance_norm,
    "_backward_InstanceNorm": backward_instance_norm,
    "LRN": lrn,
    "_backward_LRN": backward_lrn,
}

# ops of this family still without a CUDA kernel, and why (they run through the host)
WITHOUT = {"_backward_GroupNorm": "the shared row kernels' backward reads InstanceNorm's var, while GroupNorm keeps "
                                  "std; runs through the host until they take either"}

# backward ops without a spec row whose kernels the simulator reaches through a forward op's gradient
# (tests/cuda_cases.py::test_norm_family_gradients_on_gpu_match_cpu)
TESTED_THROUGH_GRADIENTS = {"_backward_LayerNorm", "_backward_InstanceNorm", "_backward_L2Normalization",
                            "_backward_LRN", "_backward_softmax_cross_entropy", "_backward_smooth_l1"}
