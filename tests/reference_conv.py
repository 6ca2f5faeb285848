"""numpy references for Convolution, Deconvolution and Pooling and their backward ops (tests only).

Written from the definitions, not from our kernels: convolutions as a sum over kernel offsets of strided slices
of the zero-padded input (einsum per group), the transposed convolution as a scatter of the same slices, pooling
as a plain loop over windows with MXNet 1.9.1's window rules (see ops/cpu/conv.py's docstring; checked against
MXNet's native CPU kernels in tests/test_conv.py). Everything is computed in float64 and rounded to the input's
dtype once; use tiny shapes.
"""
import itertools
import math

import numpy as np


def _per_dim(value, nd, default):
    return tuple(value) if value else (default,) * nd


def _f64(*arrays):
    return [np.asarray(a, np.float64) for a in arrays]


def _offsets(kernel):
    return itertools.product(*(range(k) for k in kernel))


def _taps(k_off, dilate, stride, n_out):
    """Slices picking, for kernel offset k_off, the padded-input index o*stride + k*dilate of each output o."""
    return tuple(slice(k * d, k * d + s * (o - 1) + 1, s) for k, d, s, o in zip(k_off, dilate, stride, n_out))


def conv_geometry(p, nd):
    return (_per_dim(p.stride, nd, 1), _per_dim(p.pad, nd, 0), _per_dim(p.dilate, nd, 1))


def conv_out_dims(p, spatial):
    stride, pad, dilate = conv_geometry(p, len(p.kernel))
    return tuple((x + 2 * q - d * (k - 1) - 1) // s + 1
                 for x, q, d, k, s in zip(spatial, pad, dilate, p.kernel, stride))


def _conv_f64(x, w, stride, pad, dilate, groups):
    """y[n, f, o] = sum_{c in f's group, k} xpad[n, c, o * stride + k * dilate] * w[f, c, k], float64."""
    nd = x.ndim - 2
    xp = np.pad(x, [(0, 0), (0, 0)] + [(q, q) for q in pad])
    n_out = tuple((xp.shape[2 + i] - dilate[i] * (w.shape[2 + i] - 1) - 1) // stride[i] + 1 for i in range(nd))
    cg, fg = x.shape[1] // groups, w.shape[0] // groups
    y = np.zeros((x.shape[0], w.shape[0]) + n_out)
    for g in range(groups):
        for k in _offsets(w.shape[2:]):
            patch = xp[(slice(None), slice(g * cg, (g + 1) * cg)) + _taps(k, dilate, stride, n_out)]
            y[:, g * fg:(g + 1) * fg] += np.einsum("nc...,fc->nf...", patch, w[(slice(g * fg, (g + 1) * fg),
                                                                                slice(None)) + k])
    return y


def _scatter_f64(dy, w, stride, pad, dilate, groups, in_dims):
    """The transpose of _conv_f64 in x: dx[n, c, o * stride + k * dilate - pad] += dy[n, f, o] * w[f, c, k]."""
    fg, cg = w.shape[0] // groups, w.shape[1]
    padded = tuple(max(x + 2 * q, s * (o - 1) + d * (k - 1) + 1)
                   for x, q, s, o, d, k in zip(in_dims, pad, stride, dy.shape[2:], dilate, w.shape[2:]))
    dxp = np.zeros((dy.shape[0], cg * groups) + padded)
    for g in range(groups):
        for k in _offsets(w.shape[2:]):
            dxp[(slice(None), slice(g * cg, (g + 1) * cg)) + _taps(k, dilate, stride, dy.shape[2:])] += np.einsum(
                "nf...,fc->nc...", dy[:, g * fg:(g + 1) * fg], w[(slice(g * fg, (g + 1) * fg), slice(None)) + k])
    return dxp[(slice(None), slice(None)) + tuple(slice(q, q + x) for q, x in zip(pad, in_dims))]


def _weight_grad_f64(dy, x, w_shape, stride, pad, dilate, groups):
    """dw[f, c, k] = sum_{n, o} dy[n, f, o] * xpad[n, c, o * stride + k * dilate]."""
    xp = np.pad(x, [(0, 0), (0, 0)] + [(q, q) for q in pad])
    fg, cg = w_shape[0] // groups, w_shape[1]
    dw = np.zeros(w_shape)
    for g in range(groups):
        for k in _offsets(w_shape[2:]):
            patch = xp[(slice(None), slice(g * cg, (g + 1) * cg)) + _taps(k, dilate, stride, dy.shape[2:])]
            dyg = dy[:, g * fg:(g + 1) * fg].reshape(dy.shape[0], fg, -1)
            dw[(slice(g * fg, (g + 1) * fg), slice(None)) + k] = np.einsum(
                "nfo,nco->fc", dyg, patch.reshape(patch.shape[0], cg, -1))
    return dw


def _bias_axes(y):
    return (0,) + tuple(range(2, y.ndim))


def convolution(p, x, w, b=None):
    dtype = x.dtype
    x, w = _f64(x, w)
    y = _conv_f64(x, w, *conv_geometry(p, len(p.kernel)), p.num_group)
    if b is not None:
        y += np.asarray(b, np.float64).reshape((1, -1) + (1,) * (y.ndim - 2))
    return y.astype(dtype)


def backward_convolution(p, dy, x, w):
    dtype = x.dtype
    dy, x, w = _f64(dy, x, w)
    geometry = conv_geometry(p, len(p.kernel))
    dx = _scatter_f64(dy, w, *geometry, p.num_group, x.shape[2:])
    dw = _weight_grad_f64(dy, x, w.shape, *geometry, p.num_group)
    grads = (dx, dw) + (() if p.no_bias else (dy.sum(axis=_bias_axes(dy)),))
    return tuple(g.astype(dtype) for g in grads)


# ---- Deconvolution: y = the transpose of a convolution of y's shape with the same kernel, stride, dilate --------

def deconv_pad_adj(p, spatial):
    """(pad, adj) per dim; with target_shape, MXNet's: cut = full - target, pad = ceil(cut / 2), adj = cut % 2."""
    nd = len(p.kernel)
    stride, pad, dilate = conv_geometry(p, nd)
    if not any(p.target_shape):
        return pad, _per_dim(p.adj, nd, 0)
    full = [s * (x - 1) + d * (k - 1) + 1 for s, x, d, k in zip(stride, spatial, dilate, p.kernel)]
    cut = [f - t for f, t in zip(full, p.target_shape)]
    return tuple((c + 1) // 2 for c in cut), tuple(c % 2 for c in cut)


def deconv_out_dims(p, spatial):
    stride, _, dilate = conv_geometry(p, len(p.kernel))
    pad, adj = deconv_pad_adj(p, spatial)
    return tuple(s * (x - 1) + d * (k - 1) + 1 - 2 * q + a
                 for s, x, d, k, q, a in zip(stride, spatial, dilate, p.kernel, pad, adj))


def deconvolution(p, x, w, b=None):
    """y[n, f, o * stride + k * dilate - pad] += x[n, c, o] * w[c, f', k] (f' = f within c's group): the data
    gradient of the convolution from y's shape to x's shape whose weight is w, evaluated at dy = x."""
    dtype = x.dtype
    x, w = _f64(x, w)
    stride, _, dilate = conv_geometry(p, len(p.kernel))
    pad, _ = deconv_pad_adj(p, x.shape[2:])
    y = _scatter_f64(x, w, stride, pad, dilate, p.num_group, deconv_out_dims(p, x.shape[2:]))
    if b is not None:
        y += np.asarray(b, np.float64).reshape((1, -1) + (1,) * (y.ndim - 2))
    return y.astype(dtype)


def backward_deconvolution(p, dy, x, w):
    """dx = the convolution of dy with weight w; dw from x and the patches of dy; db = sum of dy."""
    dtype = x.dtype
    dy, x, w = _f64(dy, x, w)
    stride, _, dilate = conv_geometry(p, len(p.kernel))
    pad, _ = deconv_pad_adj(p, x.shape[2:])
    dx = _conv_f64(dy, w, stride, pad, dilate, p.num_group)
    dx = dx[(slice(None), slice(None)) + tuple(slice(0, s) for s in x.shape[2:])]
    dw = _weight_grad_f64(x, dy, w.shape, stride, pad, dilate, p.num_group)
    grads = (dx, dw) + (() if p.no_bias else (dy.sum(axis=_bias_axes(dy)),))
    return tuple(g.astype(dtype) for g in grads)


# ---- Pooling -------------------------------------------------------------------------------------------------

def pool_geometry(p, spatial):
    """(kernel, stride, pad, out_dims) with MXNet's conventions (global_pool spans the input)."""
    nd = len(spatial)
    if p.global_pool:
        return tuple(spatial), (1,) * nd, (0,) * nd, (1,) * nd
    kernel, stride, pad = tuple(p.kernel), _per_dim(p.stride, nd, 1), _per_dim(p.pad, nd, 0)
    if p.pooling_convention == "same":
        out = tuple(math.ceil(x / s) for x, s in zip(spatial, stride))
    elif p.pooling_convention == "full":
        out = tuple(math.ceil((x + 2 * q - k) / s) + 1 for x, q, k, s in zip(spatial, pad, kernel, stride))
    else:
        out = tuple((x + 2 * q - k) // s + 1 for x, q, k, s in zip(spatial, pad, kernel, stride))
    return kernel, stride, pad, out


def _windows(p, spatial):
    """Per output position: (slices of the real window, divisor for avg)."""
    kernel, stride, pad, out = pool_geometry(p, spatial)
    count_pad = p.count_include_pad is None or p.count_include_pad
    for o in itertools.product(*(range(n) for n in out)):
        start = [i * s - q for i, s, q in zip(o, stride, pad)]
        lo = [max(a, 0) for a in start]
        hi = [min(a + k, x) for a, k, x in zip(start, kernel, spatial)]
        padded_end = [min(a + k, x + q) for a, k, x, q in zip(start, kernel, spatial, pad)]
        if count_pad:
            area = math.prod(e - a for e, a in zip(padded_end, start))
        else:
            area = math.prod(max(h - low, 0) for h, low in zip(hi, lo))
        yield o, tuple(slice(low, max(h, low)) for low, h in zip(lo, hi)), area


def pooling(p, x):
    dtype = x.dtype
    xf = np.asarray(x, np.float64)
    spatial = x.shape[2:]
    out = pool_geometry(p, spatial)[3]
    y = np.zeros(x.shape[:2] + out)
    for o, win, area in _windows(p, spatial):
        v = xf[(slice(None), slice(None)) + win].reshape(x.shape[0], x.shape[1], -1)
        at = (slice(None), slice(None)) + o
        if p.pool_type == "max":
            y[at] = v.max(axis=2) if v.shape[2] else float(np.finfo(dtype).min)
        elif p.pool_type == "sum":
            y[at] = v.sum(axis=2)
        elif p.pool_type == "avg":
            y[at] = v.sum(axis=2) / area if area > 0 else 0.0
        else:
            s = (v ** p.p_value).sum(axis=2)
            y[at] = s if p.p_value == 1 else (np.sqrt(s) if p.p_value == 2 else np.cbrt(s))
    y = y.astype(dtype)
    # max pooling over channel-first data has MXNet's hidden workspace output; ours holds the output again
    return (y, y) if p.pool_type == "max" and getattr(p, "layout", None) in (None, "NCW", "NCHW", "NCDHW") else y


def backward_pooling(p, dy, x, y):
    """max: to the first input of the window (row-major) equal to the output; avg, sum spread; lp scaled."""
    dtype = x.dtype
    dyf, xf, yf = _f64(dy, x, y)
    dx = np.zeros(x.shape)
    spatial = x.shape[2:]
    for o, win, area in _windows(p, spatial):
        for n, c in itertools.product(range(x.shape[0]), range(x.shape[1])):
            g, yv = dyf[(n, c) + o], yf[(n, c) + o]
            window = xf[(n, c) + win]
            grad = dx[(n, c) + win]                     # a view of dx (basic slicing)
            if p.pool_type == "max":
                hits = np.flatnonzero(window.reshape(-1) == yv)
                if hits.size:
                    grad[np.unravel_index(hits[0], window.shape)] += g
            elif p.pool_type == "sum" or (p.pool_type == "lp" and p.p_value == 1):
                grad += g
            elif p.pool_type == "avg":
                grad += g / area if area > 0 else 0.0
            else:
                grad += g * (window / yv) ** (p.p_value - 1)
    return dx.astype(dtype)


def _adaptive_windows(p, h, w):
    """((i, j), rows, cols) per output cell: rows floor(i*H/OH) .. ceil((i+1)*H/OH) - 1, the columns likewise."""
    size = p.output_size
    oh, ow = (size[0], size[0]) if len(size) == 1 else tuple(size) if len(size) == 2 else (1, 1)
    return [((i, j), slice(math.floor(i * h / oh), math.ceil((i + 1) * h / oh)),
             slice(math.floor(j * w / ow), math.ceil((j + 1) * w / ow)))
            for i, j in itertools.product(range(oh), range(ow))], (oh, ow)


def adaptive_avg_pooling(p, x):
    (xf,) = _f64(x)
    cells, out_hw = _adaptive_windows(p, *x.shape[2:])
    out = np.empty(x.shape[:2] + out_hw)
    for (i, j), rows, cols in cells:
        out[:, :, i, j] = xf[:, :, rows, cols].mean(axis=(2, 3))
    return out.astype(x.dtype)


def backward_adaptive_avg_pooling(p, dy, x):
    """Each output cell's gradient spread evenly over its window (windows may overlap)."""
    dyf, = _f64(dy)
    dx = np.zeros(x.shape)
    for (i, j), rows, cols in _adaptive_windows(p, *x.shape[2:])[0]:
        size = (rows.stop - rows.start) * (cols.stop - cols.start)
        dx[:, :, rows, cols] += dyf[:, :, i, j][:, :, None, None] / size
    return dx.astype(x.dtype)
