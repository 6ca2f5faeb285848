"""CPU kernels of BatchNorm and _backward_BatchNorm as njit loops, one channel at a time (issue 17 item 4).

The data is viewed as (pre, C, post) around the channel axis (NCHW: (N, C, H*W)), so each (i, c) row is one
contiguous run and no pass makes a temporary the size of the data. Training runs channel by channel: the forward
reads a channel for its statistics and, while it is still in cache, writes y = (x - mean[c]) * a[c] + b[c]; the
backward reads dy and x for sum(dy) and sum(dy * (x - mean)) and then writes dx = a[c] * dy + b[c] * (x - mean[c])
+ e[c] (inference: dx = a[c] * dy). So each array comes from memory once (measured 20% less time than two whole
passes on inception's (32, 96, 28, 28), the same on larger data). Inference forward is one apply pass.
Statistics accumulate in float64 around a per-channel shift (the channel's first element), which keeps the
one-pass variance E[(x-s)^2] - E[x-s]^2 exact to float32 precision even when |mean| >> std.

Both cores (blocks of channels through ops/cpu/conv_parallel.py) were measured and not kept: no gain, more CPU
time, on the shared 2-core machine (BatchNorm is ~1 ms of memory traffic per call).

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


@numba.njit(nogil=True, cache=True)
def _scale_shift(x3, m, a, b, y3):
    """y3[i, c, j] = (x3[i, c, j] - m[c]) * a[c] + b[c] (centred first: x - mean is exact where x ~ mean)."""
    pre, C, post = x3.shape
    for i in range(pre):
        for c in range(C):
            mc, ac, bc = m[c], a[c], b[c]
            for j in range(post):
                y3[i, c, j] = (x3[i, c, j] - mc) * ac + bc


@numba.njit(nogil=True, cache=True, fastmath=_REASSOC, error_model="numpy")
def _normalize_channels(x3, eps, gamma, beta, fix_gamma, write, mean, invstd, coef, y3):
    """Training forward, one channel at a time: its mean[c] and invstd[c] = 1/sqrt(var + eps) (stored in the
    moving stats' dtype), then, while the channel is still in cache, y3[:, c] = (x3 - mean) * scale + beta (when
    `write`). coef: a (2, C) scratch of the data's dtype (the rounding of mean and scale to it)."""
    pre, C, post = x3.shape
    n = pre * post
    for c in range(C):
        if n == 0:
            mean[c] = np.nan
            invstd[c] = np.nan
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
        invstd[c] = 1 / np.sqrt(max(ss / n - m * m, 0.0) + eps)
        coef[0, c] = mean[c]
        coef[1, c] = invstd[c] if fix_gamma else invstd[c] * gamma[c]
        if not write:
            continue
        mc, ac, bc = coef[0, c], coef[1, c], y3.dtype.type(beta[c])
        for i in range(pre):
            for j in range(post):
                y3[i, c, j] = (x3[i, c, j] - mc) * ac + bc


@numba.njit(nogil=True, cache=True, fastmath=_REASSOC, error_model="numpy")
def _backward_channels(dy3, x3, mean, invstd, gamma, fix_gamma, train, write, sum_dy, sum_dy_xhat, coef, dx3):
    """Backward, one channel at a time: sum_dy[c] = sum(dy), sum_dy_xhat[c] = sum(dy * (x - mean)) * invstd in
    float64, then, while the channel is still in cache, dx3[:, c] (when `write`): training
    dx = scale * dy - q * (x - mean) - scale * sum_dy / n with q = scale * invstd * sum_dy_xhat / n, inference
    dx = scale * dy (x plays no part: no 0 * inf). coef: a (4, C) scratch of the data's dtype."""
    pre, C, post = x3.shape
    n = pre * post
    for c in range(C):
        m = np.float64(mean[c])
        s = 0.0
        sx = 0.0
        for i in range(pre):
            for j in range(post):
                g = np.float64(dy3[i, c, j])
                s += g
                sx += g * (np.float64(x3[i, c, j]) - m)
        inv = np.float64(invstd[c])
        sum_dy[c] = s
        sum_dy_xhat[c] = sx * inv if n > 0 else 0.0       # an empty batch: 0, not 0 * its NaN invstd
        scale = inv if fix_gamma else inv * np.float64(gamma[c])
        if not write or n == 0:
            continue
        coef[1, c] = scale
        a = coef[1, c]
        if not train:
            for i in range(pre):
                for j in range(post):
                    dx3[i, c, j] = a * dy3[i, c, j]
            continue
        coef[0, c] = mean[c]
        coef[2, c] = -(scale * inv * sum_dy_xhat[c] / n)
        coef[3, c] = -scale * s / n
        mc, b, e = coef[0, c], coef[2, c], coef[3, c]
        for i in range(pre):
            for j in range(post):
                dx3[i, c, j] = a * dy3[i, c, j] + b * (x3[i, c, j] - mc) + e


def _view3(x, axis):
    """x (compute dtype, C-contiguous) as (pre, C, post) around channel axis `axis`."""
    ax = axis % x.ndim
    return x.reshape(int(np.prod(x.shape[:ax])), x.shape[ax], int(np.prod(x.shape[ax + 1:])))


def _compute(x):
    return np.ascontiguousarray(x, dtype=F32 if x.dtype == F16 else x.dtype)


def _direct(out, req, dtype):
    """out itself when a kernel can write it directly (req write/inplace, C-contiguous, compute dtype)."""
    return req not in (ADD, NULL) and out.dtype == dtype and out.flags.c_contiguous


def _destination(out, req, dtype, shape):
    """(dst3, store): the array a kernel writes out's values into (out itself where it can, else a scratch; a
    dummy for req null, which the kernel is told not to write) and store(), which then puts them into out."""
    if req == NULL:
        return np.empty((1, 1, 1), dtype), lambda: None
    if _direct(out, req, dtype):
        return out.reshape(shape), lambda: None
    if req != ADD and out.dtype == dtype and out.ndim and out[:1].flags.c_contiguous:
        view = out.view()           # batch-strided (Concat elision): (N, C, inner) is a view where axis > 0
        try:
            view.shape = shape
            return view, lambda: None
        except AttributeError:      # no view of that shape: the scratch below
            pass
    tmp = np.empty(shape, dtype)
    return tmp, lambda: assign(out, req, tmp.reshape(out.shape))


def _write(out, req, dtype, shape, fill):
    """Run fill(dst3) into out, or into a scratch then stored as req says."""
    if req != NULL:
        dst, store = _destination(out, req, dtype, shape)
        fill(dst)
        store()


def batch_norm(ctx, p, inputs, outputs, req):
    """Normalise per channel with the batch's mean and biased variance (training) or the moving stats
    (inference, use_global_stats); outputs (y, mean, 1/sqrt(var + eps)). With fix_gamma, gamma is overwritten
    with ones as MXNet does (Note [BatchNorm moving stats] in ops/nn.py)."""
    x, gamma, beta, moving_mean, moving_var = inputs
    xc = _compute(x)
    x3 = _view3(xc, p.axis)
    acc, C = moving_mean.dtype, x3.shape[1]
    if p.fix_gamma and ctx.computes_gradients:     # MXNet writes ones into gamma, except in a graph without grads
        gamma[...] = 1
    if ctx.is_train and not p.use_global_stats:
        mean, invstd = np.empty(C, acc), np.empty(C, acc)
        y3, store = _destination(outputs[0], req[0], xc.dtype, x3.shape)
        _normalize_channels(x3, p.eps, gamma, beta, p.fix_gamma, req[0] != NULL, mean, invstd,
                            np.empty((2, C), xc.dtype), y3)
        store()
    else:
        mean = moving_mean.copy()
        invstd = 1 / np.sqrt(moving_var + acc.type(p.eps))
        scale = invstd if p.fix_gamma else invstd * gamma
        m, a, b = (v.astype(xc.dtype) for v in (mean, scale, beta))
        _write(outputs[0], req[0], xc.dtype, x3.shape, lambda y3: _scale_shift(x3, m, a, b, y3))
    assign(outputs[1], req[1], mean)
    assign(outputs[2], req[2], invstd)


# both kernels take batch-strided arrays (scheduler/plan.py `_SampleBySample`): inputs through `_compute`'s contiguous
# copies (numba's loops over strided (N, C, inner) views measured 2-9x slower), outputs where they are
# (`_destination`)
batch_norm.batch_strided = True


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
    C = x3.shape[1]
    train = ctx.is_train and not p.use_global_stats
    sum_dy, sum_dy_xhat = np.empty(C), np.empty(C)
    dx3, store = _destination(outputs[0], req[0], xc.dtype, x3.shape)
    _backward_channels(dy3, x3, mean, invstd, gamma, p.fix_gamma, train, req[0] != NULL, sum_dy, sum_dy_xhat,
                       np.empty((4, C), xc.dtype), dx3)
    store()
    if train:
        update_moving_stats(p, mean, invstd, moving_mean, moving_var)
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


backward_batch_norm.batch_strided = True
