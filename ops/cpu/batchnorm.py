"""CPU kernels of BatchNorm and _backward_BatchNorm as two-pass njit loops (issue 17 item 4).

The data is viewed as (pre, C, post) around the channel axis (NCHW: (N, C, H*W)), so each (i, c) row is one
contiguous run and no pass makes a temporary the size of the data. Forward in training: one pass for the
per-channel statistics, one to write y = (x - mean[c]) * a[c] + b[c]. Backward in training: one pass for sum(dy) and
sum(dy * (x - mean)), one to write dx = a[c] * dy + b[c] * (x - mean[c]) + e[c]. Inference needs only the apply pass.
Statistics accumulate in float64 around a per-channel shift (the channel's first element), which keeps the
one-pass variance E[(x-s)^2] - E[x-s]^2 exact to float32 precision even when |mean| >> std.

The formulas are MXNet's, as the numpy kernels these loops replaced state them; those are kept in
tests/reference_bn_kernels.py as the reference the tests compare against (tests/test_conv_paths.py). float16 is
computed in float32, the statistics and moving stats in the moving stats' dtype (float32 for float16 data).
"""
import numba
import numpy as np

from ..registry import ADD, NULL
from .common import F16, F32, assign

__all__ = ["backward_batch_norm", "batch_norm"]

_REASSOC = {"reassoc"}      # lets LLVM vectorise the float64 sums; no other fast-math liberty (NaNs propagate)


@numba.njit(nogil=True, cache=True, fastmath=_REASSOC)
def _channel_stats(x3, mean, var):
    """mean[c], var[c] (biased) of x3[:, c, :] in float64."""
    pre, C, post = x3.shape
    n = pre * post
    for c in range(C):
        if n == 0:
            mean[c] = np.nan
            var[c] = np.nan
            continue
        shift = np.float64(x3[0, c, 0])
        s = 0.0
        ss = 0.0
        for i in range(pre):
            for j in range(post):
                d = np.float64(x3[i, c, j]) - shift
                s += d
                ss += d * d
        m = s / n
        mean[c] = shift + m
        var[c] = max(ss / n - m * m, 0.0)


@numba.njit(nogil=True, cache=True)
def _scale_shift(x3, m, a, b, y3):
    """y3[i, c, j] = (x3[i, c, j] - m[c]) * a[c] + b[c] (centred first: x - mean is exact where x ~ mean)."""
    pre, C, post = x3.shape
    for i in range(pre):
        for c in range(C):
            mc, ac, bc = m[c], a[c], b[c]
            for j in range(post):
                y3[i, c, j] = (x3[i, c, j] - mc) * ac + bc


@numba.njit(nogil=True, cache=True, fastmath=_REASSOC)
def _grad_sums(dy3, x3, mean, sum_dy, sum_dy_xc):
    """sum_dy[c] = sum of dy, sum_dy_xc[c] = sum of dy * (x - mean[c]), over (pre, post), in float64."""
    pre, C, post = x3.shape
    for c in range(C):
        m = np.float64(mean[c])
        s = 0.0
        sx = 0.0
        for i in range(pre):
            for j in range(post):
                g = np.float64(dy3[i, c, j])
                s += g
                sx += g * (np.float64(x3[i, c, j]) - m)
        sum_dy[c] = s
        sum_dy_xc[c] = sx


@numba.njit(nogil=True, cache=True)
def _affine2(dy3, x3, m, a, b, e, dx3):
    """dx3[i, c, j] = a[c] * dy3[i, c, j] + b[c] * (x3[i, c, j] - m[c]) + e[c]."""
    pre, C, post = x3.shape
    for i in range(pre):
        for c in range(C):
            mc, ac, bc, ec = m[c], a[c], b[c], e[c]
            for j in range(post):
                dx3[i, c, j] = ac * dy3[i, c, j] + bc * (x3[i, c, j] - mc) + ec


def _view3(x, axis):
    """x (compute dtype, C-contiguous) as (pre, C, post) around channel axis `axis`."""
    ax = axis % x.ndim
    return x.reshape(int(np.prod(x.shape[:ax])), x.shape[ax], int(np.prod(x.shape[ax + 1:])))


def _compute(x):
    return np.ascontiguousarray(x, dtype=F32 if x.dtype == F16 else x.dtype)


def _direct(out, req, dtype):
    """out itself when a kernel can write it directly (req write/inplace, C-contiguous, compute dtype)."""
    return req not in (ADD, NULL) and out.dtype == dtype and out.flags.c_contiguous


def _write(out, req, dtype, shape, fill):
    """Run fill(dst3) into out, or into a scratch then stored as req says."""
    if req == NULL:
        return
    if _direct(out, req, dtype):
        fill(out.reshape(shape))
    else:
        tmp = np.empty(shape, dtype)
        fill(tmp)
        assign(out, req, tmp.reshape(out.shape))


def batch_norm(ctx, p, inputs, outputs, req):
    """Normalise per channel with the batch's mean and biased variance (training) or the moving stats
    (inference, use_global_stats); outputs (y, mean, 1/sqrt(var + eps)). With fix_gamma, gamma is overwritten
    with ones as MXNet does (Note [BatchNorm moving stats] in ops/nn.py)."""
    x, gamma, beta, moving_mean, moving_var = inputs
    xc = _compute(x)
    x3 = _view3(xc, p.axis)
    acc = moving_mean.dtype
    if ctx.is_train and not p.use_global_stats:
        mean64 = np.empty(x3.shape[1])
        var64 = np.empty(x3.shape[1])
        _channel_stats(x3, mean64, var64)
        mean = mean64.astype(acc)
        invstd = (1 / np.sqrt(var64 + p.eps)).astype(acc)
    else:
        mean = moving_mean.copy()
        invstd = 1 / np.sqrt(moving_var + acc.type(p.eps))
    if p.fix_gamma and ctx.computes_gradients:     # MXNet writes ones into gamma, except in a graph without grads
        gamma[...] = 1
    scale = invstd if p.fix_gamma else invstd * gamma
    m, a, b = (v.astype(xc.dtype) for v in (mean, scale, beta))
    _write(outputs[0], req[0], xc.dtype, x3.shape, lambda y3: _scale_shift(x3, m, a, b, y3))
    assign(outputs[1], req[1], mean)
    assign(outputs[2], req[2], invstd)


def backward_batch_norm(ctx, p, inputs, outputs, req):
    """inputs (dy, data, gamma, mean, invstd, moving_mean, moving_var) -> d_data, d_gamma, d_beta; in training
    without use_global_stats it also updates the moving stats in place.

    With xhat = (x - mean) * invstd and scale = invstd * gamma (invstd under fix_gamma), n the count per channel:
    training dx = scale * (dy - sum(dy)/n - xhat * sum(dy * xhat)/n), inference dx = scale * dy;
    d_gamma = sum(dy * xhat) (0 under fix_gamma), d_beta = sum(dy)."""
    dy, x, gamma, mean, invstd, moving_mean, moving_var = inputs
    acc = invstd.dtype
    xc, dyc = _compute(x), _compute(dy)
    x3, dy3 = _view3(xc, p.axis), _view3(dyc, p.axis)
    pre, C, post = x3.shape
    sum_dy, sum_dy_xc = np.empty(C), np.empty(C)
    _grad_sums(dy3, x3, mean, sum_dy, sum_dy_xc)
    inv64 = invstd.astype(np.float64)
    sum_dy_xhat = sum_dy_xc * inv64
    scale = inv64 if p.fix_gamma else inv64 * gamma
    if p.use_global_stats or not ctx.is_train:
        a, zero = scale.astype(xc.dtype), np.zeros(C, xc.dtype)
        fill = lambda dx3: _scale_shift(dy3, zero, a, zero, dx3)     # noqa: E731 (x plays no part: no 0 * inf)
    else:
        n = pre * post
        q = scale * inv64 * sum_dy_xhat / n            # dx = scale*dy - q*(x - mean) - scale*sum_dy/n
        coef = tuple(v.astype(xc.dtype) for v in (mean, scale, -q, -scale * sum_dy / n))
        fill = lambda dx3: _affine2(dy3, x3, *coef, dx3)     # noqa: E731
        update_moving_stats(p, mean, invstd, moving_mean, moving_var)
    _write(outputs[0], req[0], xc.dtype, x3.shape, fill)
    assign(outputs[1], req[1], 0 if p.fix_gamma else sum_dy_xhat.astype(acc))
    assign(outputs[2], req[2], sum_dy.astype(acc))


def update_moving_stats(p, mean, invstd, moving_mean, moving_var):
    """moving = momentum * moving + (1 - momentum) * batch, the batch variance recovered from the saved
    1/sqrt(var + eps) as MXNet's backward does."""
    acc = moving_mean.dtype
    var = 1 / np.square(invstd.astype(acc)) - acc.type(p.eps)
    moving_mean *= acc.type(p.momentum)
    moving_mean += acc.type(1 - p.momentum) * mean
    moving_var *= acc.type(p.momentum)
    moving_var += acc.type(1 - p.momentum) * var
