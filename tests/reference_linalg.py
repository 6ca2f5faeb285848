"""numpy references for the batched matrix products (batch_dot, linalg gemm/gemm2) and the normalisation ops and
losses (LayerNorm, InstanceNorm, L2Normalization, LRN, softmax_cross_entropy, smooth_l1); tests/specs_linalg.py
uses them.

Written from MXNet 1.9.1's documented and observed semantics (see the docstrings of ops/linalg.py and ops/norm.py
for the facts checked on it); they never call our kernels. Floating results are computed in float64 and rounded to
the output dtype once. The products loop over the batch with np.dot, the normalisations loop over rows or
channels explicitly, so reference and kernel differ in how they compute, not only in what they call. Hidden outputs
(LayerNorm's mean and std, InstanceNorm's mean and var, L2Normalization's norm, LRN's tmp_norm) are returned too:
the kernel tests compare every output.
"""
import itertools

import numpy as np


def _f64(x):
    return np.asarray(x, dtype=np.float64)


# ---- batched matrix products -------------------------------------------------------------------------------------
def _matmul(a, b, ta, tb, axis):
    """op(A) op(B) per matrix, rows along `axis`, columns along the last axis, via np.dot per batch index."""
    a, b = _f64(a), _f64(b)
    ax = axis % a.ndim
    a, b = np.moveaxis(a, ax, -2), np.moveaxis(b, ax, -2)
    if ta:
        a = np.swapaxes(a, -1, -2)
    if tb:
        b = np.swapaxes(b, -1, -2)
    out = np.empty(a.shape[:-1] + b.shape[-1:])
    for idx in itertools.product(*map(range, a.shape[:-2])):
        out[idx] = np.dot(a[idx], b[idx])
    return np.moveaxis(out, -2, ax)


def batch_dot(p, lhs, rhs):
    return _matmul(lhs, rhs, p.transpose_a, p.transpose_b, -2).astype(lhs.dtype)


def linalg_gemm(p, a, b, c):
    return (p.alpha * _matmul(a, b, p.transpose_a, p.transpose_b, p.axis) + p.beta * _f64(c)).astype(a.dtype)


def linalg_gemm2(p, a, b):
    return (p.alpha * _matmul(a, b, p.transpose_a, p.transpose_b, p.axis)).astype(a.dtype)


# ---- LayerNorm, InstanceNorm -------------------------------------------------------------------------------------
def layer_norm(p, x, gamma, beta):
    """(out, mean, std): per position of the other axes, the mean and sqrt(biased var + eps) along `axis`."""
    axis = p.axis % x.ndim
    xm = np.moveaxis(_f64(x), axis, -1)
    out, mean, std = np.empty(xm.shape), np.empty(xm.shape[:-1]), np.empty(xm.shape[:-1])
    for idx in np.ndindex(xm.shape[:-1]):
        row = xm[idx]
        mean[idx] = row.mean()
        std[idx] = np.sqrt(((row - mean[idx]) ** 2).mean() + p.eps)
        out[idx] = (row - mean[idx]) / std[idx] * _f64(gamma) + _f64(beta)
    return (np.moveaxis(out, -1, axis).astype(x.dtype), np.expand_dims(mean, axis).astype(x.dtype),
            np.expand_dims(std, axis).astype(x.dtype))


def group_norm(p, x, gamma, beta):
    """(out, mean, std): per (n, group), the mean and sqrt(biased var + eps) over the group's channels and the
    spatial dims; gamma and beta hold one value per group."""
    n, g = x.shape[0], p.num_groups
    blocks = _f64(x).reshape(n, g, -1)
    mean = blocks.mean(axis=2)
    std = np.sqrt(((blocks - mean[:, :, None]) ** 2).mean(axis=2) + p.eps)
    out = (blocks - mean[:, :, None]) / std[:, :, None] * _f64(gamma)[None, :, None] + _f64(beta)[None, :, None]
    return out.reshape(x.shape).astype(x.dtype), mean.astype(x.dtype), std.astype(x.dtype)


def instance_norm(p, x, gamma, beta):
    """(out, mean, var): per (n, c), the mean and biased variance over the spatial dims."""
    n, c = x.shape[:2]
    out, mean, var = np.empty(x.shape), np.empty((n, c)), np.empty((n, c))
    for i, j in itertools.product(range(n), range(c)):
        block = _f64(x[i, j])
        mean[i, j] = block.mean()
        var[i, j] = ((block - mean[i, j]) ** 2).mean()
        out[i, j] = (block - mean[i, j]) / np.sqrt(var[i, j] + p.eps) * float(gamma[j]) + float(beta[j])
    return out.astype(x.dtype), mean.astype(x.dtype), var.astype(x.dtype)


# ---- L2Normalization, LRN ----------------------------------------------------------------------------------------
def l2_normalization(p, x):
    """(out, norm): norm = sqrt(sum of squares + eps) over every axis but 0 (instance), over axis 1 (channel) or
    over the axes after 1 (spatial); norm has shape (N,), (N, prod(spatial)) or (N, C)."""
    xf = _f64(x)
    if p.mode == "instance":
        axes = tuple(range(1, x.ndim))
    elif p.mode == "channel":
        axes = (1,)
    else:
        axes = tuple(range(2, x.ndim))
    norm = np.sqrt((xf * xf).sum(axis=axes, keepdims=True) + p.eps)
    out = xf / norm
    if p.mode == "instance":
        norm = norm.reshape(x.shape[0])
    elif p.mode == "channel":
        norm = norm.reshape(x.shape[0], -1)
    else:
        norm = norm.reshape(x.shape[:2])
    return out.astype(x.dtype), norm.astype(x.dtype)


def lrn(p, x):
    """(out, tmp_norm): tmp_norm[:, c] = knorm + alpha / nsize * sum of x[:, j]^2 for |j - c| <= nsize // 2."""
    xf = _f64(x)
    c, half = x.shape[1], p.nsize // 2
    norm = np.empty(x.shape)
    for i in range(c):
        window = xf[:, max(0, i - half):min(c, i + half + 1)]
        norm[:, i] = p.knorm + p.alpha / p.nsize * (window * window).sum(axis=1)
    return (xf * norm ** -p.beta).astype(x.dtype), norm.astype(x.dtype)


# ---- losses ----------------------------------------------------------------------------------------------------
def softmax_cross_entropy(p, data, label):
    """(1,): sum over rows of -log(softmax(data[i])[int(label[i])])."""
    total = 0.0
    for row, lab in zip(_f64(data), label):
        z = row - row.max()
        total += np.log(np.exp(z).sum()) - z[int(lab)]
    return np.array([total]).astype(data.dtype)


def smooth_l1(p, x):
    """(sigma a)^2 / 2 if |a| < 1/sigma^2 else |a| - 1/(2 sigma^2); integers: sigma truncated to the dtype, the
    result computed in floating point and truncated (MXNet's DType arithmetic)."""
    if x.dtype.kind in "iub":
        sigma = float(np.array(p.scalar).astype(np.int64).astype(x.dtype))
        bound = np.inf if sigma == 0 else 1 / (sigma * sigma)
        a = x.astype(np.float64)
        y = np.where(a > bound, a - 0.5 * bound, np.where(a < -bound, -a - 0.5 * bound, 0.5 * a * a * sigma * sigma))
        return np.trunc(y).astype(np.int64).astype(x.dtype)
    sigma = float(np.asarray(p.scalar, x.dtype))
    a = _f64(x)
    bound = np.inf if sigma == 0 else 1 / (sigma * sigma)
    return np.where(np.abs(a) < bound, 0.5 * (sigma * a) ** 2, np.abs(a) - 0.5 * bound).astype(x.dtype)
