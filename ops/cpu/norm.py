"""CPU kernels of the normalisation ops (LayerNorm, InstanceNorm, L2Normalization, LRN), the two losses
(softmax_cross_entropy, smooth_l1) and their `_backward_*` kernels.

Each op reshapes its input into the layout its loop wants: rows to normalise (LayerNorm's rows end at its axis,
a copy unless that is the last axis; InstanceNorm's rows are (n, c) pairs), a (P, R, Q) block reduced over R
(L2Normalization), a (N, C, S) block with a window over C (LRN). The loops are njit(nogil=True, cache=True)
functions that sum in float64; float16 data is computed in float32 (as every kernel of the project) and rounded
once. Transcendental
math goes through ops/cpu/vmath.py (LRN's power, softmax's exp). Every kernel honours req via ops/cpu/common.py.
"""
import math

import numpy as np
from numba import njit

from ..errors import MXNetError
from ..registry import INPLACE, WRITE
from . import vmath
from .common import F32, assign, compute_dtype, scalar_in, store, ufunc
from .lazy_ufunc import vectorize

# reassoc lets the float64 row sums vectorise; no comparisons or transcendental calls here depend on it.
_loop = njit(nogil=True, cache=True, fastmath={"contract", "reassoc"}, error_model="numpy")


def _c(x):
    """x in the dtype a kernel computes in (float16 -> float32), C-contiguous, without a copy when it already is."""
    return np.ascontiguousarray(x, dtype=compute_dtype(x.dtype))


def _scratch(out, req, dtype):
    """The buffer a loop writes out's value into: out itself when it may (WRITE or INPLACE, in the compute dtype;
    INPLACE is safe because each loop reads an element before writing it), else a new array of out's shape."""
    return out if req in (WRITE, INPLACE) and out.dtype == dtype else np.empty(out.shape, dtype)


def _finish(out, req, buf):
    """Store the loop's result `buf` into out as req says (nothing to do when the loop wrote out itself)."""
    if buf is not out:
        assign(out, req, buf)


# ---- LayerNorm, InstanceNorm: normalise the rows of a 2-D block --------------------------------------------------
@_loop
def _norm_rows(x, eps, gamma, beta, channels, out, mean, var):
    """Per row i: mean[i], var[i] (biased) and out[i] = (x[i] - mean) / sqrt(var + eps) * g + b, where g, b are
    gamma[j], beta[j] along the row (channels == 0, LayerNorm) or gamma[i % channels], beta[i % channels]
    (InstanceNorm, rows are (n, c) pairs)."""
    n, m = x.shape
    for i in range(n):
        s = 0.0
        for j in range(m):
            s += x[i, j]
        mu = s / m
        v = 0.0
        for j in range(m):
            d = x[i, j] - mu
            v += d * d
        v /= m
        r = 1.0 / math.sqrt(v + eps)
        mean[i] = mu
        var[i] = v
        if channels > 0:
            g = gamma[i % channels] * r
            b = beta[i % channels]
            for j in range(m):
                out[i, j] = (x[i, j] - mu) * g + b
        else:
            for j in range(m):
                out[i, j] = (x[i, j] - mu) * r * gamma[j] + beta[j]


@_loop
def _norm_rows_backward(dy, x, gamma, mean, rstd, channels, dx, dgamma, dbeta):
    """Gradients of _norm_rows with xhat = (x - mean) * rstd and g = dy * gamma:
    dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) along each row; dgamma += dy * xhat and dbeta += dy, summed
    per column (channels == 0) or per row (dgamma[i], dbeta[i]; the caller sums the rows of each channel)."""
    n, m = x.shape
    for i in range(n):
        mu = mean[i]
        r = rstd[i]
        gi = gamma[i % channels] if channels > 0 else 0.0
        sg = 0.0
        sgx = 0.0
        sdy = 0.0
        sdyx = 0.0
        for j in range(m):
            xh = (x[i, j] - mu) * r
            gj = gi if channels > 0 else gamma[j]
            g = dy[i, j] * gj
            sg += g
            sgx += g * xh
            if channels > 0:
                sdy += dy[i, j]
                sdyx += dy[i, j] * xh
            else:
                dgamma[j] += dy[i, j] * xh
                dbeta[j] += dy[i, j]
        sg /= m
        sgx /= m
        for j in range(m):
            xh = (x[i, j] - mu) * r
            gj = gi if channels > 0 else gamma[j]
            dx[i, j] = r * (dy[i, j] * gj - sg - xh * sgx)
        if channels > 0:
            dgamma[i] = sdyx
            dbeta[i] = sdy


def _layer_rows(x, axis):
    """x with `axis` moved last, as a C-contiguous (rows, C) block in the compute dtype (a copy if axis isn't last)."""
    moved = np.moveaxis(x, axis, -1)
    return _c(moved).reshape(-1, x.shape[axis]), moved.shape


def layer_norm(ctx, p, inputs, outputs, req):
    """outputs: out, mean and std = sqrt(var + eps), the latter two with data's shape and axis of size 1."""
    x, gamma, beta = inputs
    axis = p.axis % x.ndim
    x2, moved = _layer_rows(x, axis)
    cdt = x2.dtype
    mean, var = np.empty(len(x2), cdt), np.empty(len(x2), cdt)
    if axis == x.ndim - 1:                  # the loop writes the output itself when req and dtype allow
        buf = _scratch(outputs[0], req[0], cdt)
        _norm_rows(x2, p.eps, _c(gamma), _c(beta), 0, buf.reshape(x2.shape), mean, var)
    else:
        out2 = np.empty(x2.shape, cdt)
        _norm_rows(x2, p.eps, _c(gamma), _c(beta), 0, out2, mean, var)
        buf = np.moveaxis(out2.reshape(moved), -1, axis)
    _finish(outputs[0], req[0], buf)
    assign(outputs[1], req[1], mean.reshape(outputs[1].shape))
    assign(outputs[2], req[2], np.sqrt(var + cdt.type(p.eps)).reshape(outputs[2].shape))


def backward_layer_norm(ctx, p, inputs, outputs, req):
    """inputs (dy, data, gamma, mean, std) -> d_data, d_gamma, d_beta."""
    dy, x, gamma, mean, std = inputs
    axis = p.axis % x.ndim
    x2, moved = _layer_rows(x, axis)
    dy2 = _layer_rows(dy, axis)[0]
    cdt = x2.dtype
    dx2 = np.empty(x2.shape, cdt)
    dgamma, dbeta = np.zeros(x2.shape[1]), np.zeros(x2.shape[1])
    rstd = 1 / std.reshape(-1).astype(np.float64)
    _norm_rows_backward(dy2, x2, _c(gamma), _c(mean).reshape(-1), rstd, 0, dx2, dgamma, dbeta)
    assign(outputs[0], req[0], np.moveaxis(dx2.reshape(moved), -1, axis))
    assign(outputs[1], req[1], dgamma)
    assign(outputs[2], req[2], dbeta)


def instance_norm(ctx, p, inputs, outputs, req):
    """outputs: out, and the per-(n, c) mean and biased variance (hidden outputs, shape (N, C))."""
    x, gamma, beta = inputs
    n, c = x.shape[0], x.shape[1]
    x2 = _c(x).reshape(n * c, -1)
    cdt = x2.dtype
    buf = _scratch(outputs[0], req[0], cdt)
    mean, var = np.empty(n * c, cdt), np.empty(n * c, cdt)
    _norm_rows(x2, p.eps, _c(gamma), _c(beta), c, buf.reshape(x2.shape), mean, var)
    _finish(outputs[0], req[0], buf)
    assign(outputs[1], req[1], mean.reshape(n, c))
    assign(outputs[2], req[2], var.reshape(n, c))


def backward_instance_norm(ctx, p, inputs, outputs, req):
    """inputs (dy, data, gamma, mean, var) -> d_data, d_gamma, d_beta."""
    dy, x, gamma, mean, var = inputs
    n, c = x.shape[0], x.shape[1]
    x2, dy2 = _c(x).reshape(n * c, -1), _c(dy).reshape(n * c, -1)
    dx2 = np.empty(x2.shape, x2.dtype)
    dgamma, dbeta = np.zeros(n * c), np.zeros(n * c)
    rstd = 1 / np.sqrt(var.reshape(-1).astype(np.float64) + p.eps)
    _norm_rows_backward(dy2, x2, _c(gamma), _c(mean).reshape(-1), rstd, c, dx2, dgamma, dbeta)
    assign(outputs[0], req[0], dx2.reshape(x.shape))
    assign(outputs[1], req[1], dgamma.reshape(n, c).sum(axis=0))
    assign(outputs[2], req[2], dbeta.reshape(n, c).sum(axis=0))


def group_norm(ctx, p, inputs, outputs, req):
    """InstanceNorm's loop with rows (n, group) and gamma, beta per group; outputs out, mean, std (N, groups)."""
    x, gamma, beta = inputs
    rows = x.shape[0] * p.num_groups
    x2 = _c(x).reshape(rows, -1)
    cdt = x2.dtype
    buf = _scratch(outputs[0], req[0], cdt)
    mean, var = np.empty(rows, cdt), np.empty(rows, cdt)
    _norm_rows(x2, p.eps, _c(gamma), _c(beta), p.num_groups, buf.reshape(x2.shape), mean, var)
    _finish(outputs[0], req[0], buf)
    assign(outputs[1], req[1], mean.reshape(outputs[1].shape))
    assign(outputs[2], req[2], np.sqrt(var + cdt.type(p.eps)).reshape(outputs[2].shape))


def backward_group_norm(ctx, p, inputs, outputs, req):
    """inputs (dy, data, gamma, mean, std) -> d_data, d_gamma, d_beta."""
    dy, x, gamma, mean, std = inputs
    g = p.num_groups
    rows = x.shape[0] * g
    x2, dy2 = _c(x).reshape(rows, -1), _c(dy).reshape(rows, -1)
    dx2 = np.empty(x2.shape, x2.dtype)
    dgamma, dbeta = np.zeros(rows), np.zeros(rows)
    rstd = 1 / std.reshape(-1).astype(np.float64)
    _norm_rows_backward(dy2, x2, _c(gamma), _c(mean).reshape(-1), rstd, g, dx2, dgamma, dbeta)
    assign(outputs[0], req[0], dx2.reshape(x.shape))
    assign(outputs[1], req[1], dgamma.reshape(-1, g).sum(axis=0))
    assign(outputs[2], req[2], dbeta.reshape(-1, g).sum(axis=0))


# ---- L2Normalization: a (P, R, Q) block normalised over R --------------------------------------------------------
def l2_blocks(shape, mode):
    """(P, R, Q) of data's shape for `mode`: the norm is taken over R, one per (P, Q)."""
    n = shape[0]
    rest = int(np.prod(shape[1:], dtype=np.int64))
    if mode == "instance":
        return n, rest, 1
    if mode == "channel":
        return n, shape[1], rest // shape[1]
    return n * shape[1], rest // shape[1], 1          # spatial


@_loop
def _l2_normalize(x, eps, out, norm):
    """out = x / norm with norm[a, q] = sqrt(sum over r of x[a, r, q]^2 + eps), summed in float64."""
    p_, r_, q_ = x.shape
    acc = np.empty(q_, np.float64)
    for a in range(p_):
        acc[:] = 0.0
        for r in range(r_):
            for q in range(q_):
                acc[q] += x[a, r, q] * x[a, r, q]
        for q in range(q_):
            acc[q] = math.sqrt(acc[q] + eps)
            norm[a, q] = acc[q]
        for r in range(r_):
            for q in range(q_):
                out[a, r, q] = x[a, r, q] / acc[q]


@_loop
def _l2_normalize_rows(x, eps, out, norm):
    """The Q == 1 case of _l2_normalize (instance, spatial) on the 2-D (P, R): the reduced axis is contiguous."""
    p_, r_ = x.shape
    for a in range(p_):
        s = 0.0
        for r in range(r_):
            s += x[a, r] * x[a, r]
        n = math.sqrt(s + eps)
        norm[a] = n
        for r in range(r_):
            out[a, r] = x[a, r] / n


@_loop
def _l2_normalize_backward(dy, y, norm, dx):
    """dx = (dy - y * sum_R(dy * y)) / norm, the gradient of y = x / sqrt(sum_R(x^2) + eps)."""
    p_, r_, q_ = y.shape
    acc = np.empty(q_, np.float64)
    for a in range(p_):
        acc[:] = 0.0
        for r in range(r_):
            for q in range(q_):
                acc[q] += dy[a, r, q] * y[a, r, q]
        for r in range(r_):
            for q in range(q_):
                dx[a, r, q] = (dy[a, r, q] - y[a, r, q] * acc[q]) / norm[a, q]


@_loop
def _l2_normalize_rows_backward(dy, y, norm, dx):
    p_, r_ = y.shape
    for a in range(p_):
        s = 0.0
        for r in range(r_):
            s += dy[a, r] * y[a, r]
        for r in range(r_):
            dx[a, r] = (dy[a, r] - y[a, r] * s) / norm[a]


def l2_normalization(ctx, p, inputs, outputs, req):
    """outputs: out and the norm per (P, Q) (hidden output)."""
    x = inputs[0]
    blocks = l2_blocks(x.shape, p.mode)
    x3 = _c(x).reshape(blocks)
    cdt = x3.dtype
    buf = _scratch(outputs[0], req[0], cdt)
    norm = np.empty((blocks[0], blocks[2]), cdt)
    if blocks[2] == 1:
        _l2_normalize_rows(x3[:, :, 0], p.eps, buf.reshape(blocks[:2]), norm[:, 0])
    else:
        _l2_normalize(x3, p.eps, buf.reshape(blocks), norm)
    _finish(outputs[0], req[0], buf)
    assign(outputs[1], req[1], norm.reshape(outputs[1].shape))


def backward_l2_normalization(ctx, p, inputs, outputs, req):
    """inputs (dy, output, norm) -> d_data."""
    dy, y, norm = inputs
    blocks = l2_blocks(y.shape, p.mode)
    y3 = _c(y).reshape(blocks)
    dx3 = np.empty(blocks, y3.dtype)
    dy3, norm2 = _c(dy).reshape(blocks), _c(norm).reshape(blocks[0], blocks[2])
    if blocks[2] == 1:
        _l2_normalize_rows_backward(dy3[:, :, 0], y3[:, :, 0], norm2[:, 0], dx3[:, :, 0])
    else:
        _l2_normalize_backward(dy3, y3, norm2, dx3)
    assign(outputs[0], req[0], dx3.reshape(y.shape))


# ---- LRN: a window over the channels of (N, C, S) ----------------------------------------------------------------
@_loop
def _channel_window_sum(v, half, out):
    """out[n, c, s] = sum of v[n, j, s] over j in [c - half, c + half] inside [0, C), summed in float64."""
    n_, c_, s_ = v.shape
    acc = np.empty(s_, np.float64)
    for n in range(n_):
        for c in range(c_):
            acc[:] = 0.0
            for j in range(max(0, c - half), min(c_, c + half + 1)):
                for s in range(s_):
                    acc[s] += v[n, j, s]
            for s in range(s_):
                out[n, c, s] = acc[s]


def _power(x, exponent):
    """x ** exponent for x > 0, as exp(exponent * log(x)) through vmath (float32 vectorised)."""
    y = vmath.apply("log", x)
    y *= y.dtype.type(exponent)
    return vmath.apply("exp", y, y)


def _lrn_norm(x3, p):
    """knorm + alpha / nsize * (sum of x^2 over the window of nsize channels)."""
    norm = np.empty_like(x3)
    _channel_window_sum(x3 * x3, p.nsize // 2, norm)
    norm *= norm.dtype.type(p.alpha / p.nsize)
    norm += norm.dtype.type(p.knorm)
    return norm


def lrn(ctx, p, inputs, outputs, req):
    """outputs: out = x * norm ** -beta and norm (MXNet's hidden tmp_norm)."""
    x = inputs[0]
    x3 = _c(x).reshape(x.shape[0], x.shape[1], -1)
    norm = _lrn_norm(x3, p)
    assign(outputs[0], req[0], (x3 * _power(norm, -p.beta)).reshape(x.shape))
    assign(outputs[1], req[1], norm.reshape(x.shape))


def backward_lrn(ctx, p, inputs, outputs, req):
    """inputs (dy, data, norm) -> d_data. With y_i = x_i s_i^-b, s_i = k + a/n sum_{j in win(i)} x_j^2 (the window
    is symmetric, so i in win(j) iff j in win(i)): dx = dy s^-b - 2ab/n x winsum(dy x s^(-b-1))."""
    dy, x, norm = inputs
    shape3 = (x.shape[0], x.shape[1], -1)
    x3, dy3, s3 = _c(x).reshape(shape3), _c(dy).reshape(shape3), _c(norm).reshape(shape3)
    pw = _power(s3, -p.beta)
    w = np.empty_like(x3)
    _channel_window_sum(dy3 * x3 * pw / s3, p.nsize // 2, w)
    dx = dy3 * pw - x3 * w * x3.dtype.type(2 * p.alpha * p.beta / p.nsize)
    assign(outputs[0], req[0], dx.reshape(x.shape))


# ---- softmax_cross_entropy -------------------------------------------------------------------------------------
def _labels(label, k):
    """Integer class indices as C++ `static_cast<int>` gives them (truncated); out of range raises."""
    with np.errstate(invalid="ignore"):
        idx = np.trunc(label.astype(np.float64))
    bad = ~((idx >= 0) & (idx < k))
    if bad.any():
        i = int(np.argmax(bad))
        raise MXNetError("softmax_cross_entropy: label %s at row %d is not a class index in [0, %d)"
                         % (label[i], i, k))
    return idx.astype(np.int64)


def _exp_shifted(x):
    """(exp(x - rowmax), rowmax) of the 2-D x in its compute dtype."""
    m = x.max(axis=1, keepdims=True)
    e = x - m
    return vmath.apply("exp", e, e), m


def softmax_cross_entropy(ctx, p, inputs, outputs, req):
    """out (1,) = sum over rows of -log softmax(x)[label] = log(sum(exp(x - m))) + m - x[label]."""
    x, label = inputs
    xc = _c(x)
    rows = np.arange(x.shape[0])
    lab = _labels(label, x.shape[1])
    e, m = _exp_shifted(xc)
    loss = np.log(e.sum(axis=1, dtype=np.float64)) + m[:, 0] - xc[rows, lab]
    assign(outputs[0], req[0], loss.sum().reshape(1))


def backward_softmax_cross_entropy(ctx, p, inputs, outputs, req):
    """inputs (dy, data, label) -> d_data = (softmax(data) - onehot(label)) * dy[0]."""
    dy, x, label = inputs
    xc = _c(x)
    lab = _labels(label, x.shape[1])
    e, _ = _exp_shifted(xc)
    e /= e.sum(axis=1, keepdims=True)
    e[np.arange(x.shape[0]), lab] -= 1
    e *= _c(dy)[0]
    assign(outputs[0], req[0], e)


# ---- smooth_l1 -------------------------------------------------------------------------------------------------
_scalar = vectorize(cache=True)     # made on first use (ops/cpu/lazy_ufunc.py)


@_scalar
def _smooth_l1(a, sigma):
    # (sigma a)^2 / 2 where |a| < 1/sigma^2, else |a| - 1/(2 sigma^2); sigma = 0 gives 0 (as MXNet: the bounds
    # are +-inf). Integers: sigma is taken in the data's dtype and the float result truncated.
    bsq = sigma * sigma
    if bsq == 0:
        return 0.5 * a * a * bsq
    inv = 1.0 / bsq
    if a > inv:
        return a - 0.5 * inv
    if a < -inv:
        return -a - 0.5 * inv
    return 0.5 * a * a * bsq


@_scalar
def _smooth_l1_grad(dy, a, sigma):
    bsq = sigma * sigma
    if bsq == 0:
        return dy * a * bsq
    inv = 1.0 / bsq
    if a > inv:
        return dy
    if a < -inv:
        return -dy
    return dy * a * bsq


# float32 loops: constants in float32 and branch-free selects, so LLVM vectorises them (the DUFuncs above run
# the other dtypes). |a| > 1/sigma^2 is MXNet's `a > 1/bsq || a < -1/bsq`; sigma = 0 gives inf bounds, hence 0.
_f32_loop = njit(cache=True, **vmath.JIT_FLAGS)
_HALF = np.float32(0.5)


@_f32_loop
def _smooth_l1_f32(x, sigma, out):
    bsq = sigma * sigma
    inv = np.float32(1) / bsq
    half_inv = _HALF * inv
    half_bsq = _HALF * bsq
    for i in range(x.shape[0]):
        a = x[i]
        out[i] = abs(a) - half_inv if abs(a) > inv else half_bsq * a * a


@_f32_loop
def _smooth_l1_grad_f32(dy, x, sigma, out):
    bsq = sigma * sigma
    inv = np.float32(1) / bsq
    for i in range(x.shape[0]):
        a = x[i]
        g = dy[i]
        out[i] = (g if a > 0 else -g) if abs(a) > inv else g * a * bsq


def _flat_f32(*arrays):
    """Flat float32 views when every array is float32 (C-contiguous, as kernels get them), else None."""
    if all(a.dtype == F32 for a in arrays):
        return [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    return None


def smooth_l1(ctx, p, inputs, outputs, req):
    """out = smooth_l1(data, sigma = scalar taken in the output's dtype)."""
    x, out = inputs[0], outputs[0]
    flat = _flat_f32(x, out)
    if flat is None:
        ufunc(_smooth_l1, (x, scalar_in(p.scalar, out.dtype)), out, req[0])
    else:
        store(out, req[0], lambda dst: _smooth_l1_f32(flat[0], np.float32(p.scalar), dst.reshape(-1)))


def backward_smooth_l1(ctx, p, inputs, outputs, req):
    """inputs (dy, data) -> d_data = dy * (sign(a) outside [-1/sigma^2, 1/sigma^2], sigma^2 a inside)."""
    dy, x = inputs
    flat = _flat_f32(dy, x, outputs[0])
    if flat is None:
        ufunc(_smooth_l1_grad, (dy, x, scalar_in(p.scalar, outputs[0].dtype)), outputs[0], req[0])
    else:
        store(outputs[0], req[0], lambda dst: _smooth_l1_grad_f32(flat[0], flat[1], np.float32(p.scalar),
                                                                  dst.reshape(-1)))
