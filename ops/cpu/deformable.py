"""CPU kernels of `_contrib_ModulatedDeformableConvolution` (DCNv2) and its backward; ops/detection.py defines the op.

DCNv2 samples differently from DCNv1 (ops/cpu/detection.py's `_deform_pass`): a tap at (y, x) anywhere in
(-1, H) x (-1, W) is the bilinear blend of its four corners with the corners outside the map reading 0 (so taps
within one pixel outside still see the border), further out it is 0; the sample is then scaled by the tap's mask.
The backward is that forward's exact derivative, as MXNet's CPU kernels give it: data gets each sample's corner
weights times mask times the column gradient, the offsets get d sample / d (y, x), the mask the unscaled sample.
Everything runs in float64; the convolution over the columns is one einsum per group, as DCNv1's.
"""
import math

import numpy as np
from numba import njit

from .common import assign
from .detection import dcn_geometry, grouped_weight

_loop = njit(nogil=True, cache=True)


@_loop
def _corner(img, y, x):
    h, w = img.shape
    return img[y, x] if 0 <= y < h and 0 <= x < w else 0.0


@_loop
def _modulated_pass(x, offset, mask, geometry, deformable_groups, cols, dx, doffset, dmask, backward):
    """Forward: cols (N, C * kh * kw, OH * OW) = mask * the moved taps of x, sampled bilinearly. Backward: from
    cols holding their gradient, accumulate dx, doffset and dmask."""
    kh, kw, sh, sw, dh, dw, ph, pw = geometry
    n_, c_, height, width = x.shape
    oh, ow = offset.shape[2], offset.shape[3]
    per_group = c_ // deformable_groups
    for n in range(n_):
        for c in range(c_):
            g = c // per_group
            img = x[n, c]
            for i in range(kh):
                for j in range(kw):
                    tap = i * kw + j
                    row = c * kh * kw + tap
                    oy_channel = g * 2 * kh * kw + 2 * tap
                    m_channel = g * kh * kw + tap
                    for a in range(oh):
                        for b in range(ow):
                            k = a * ow + b
                            y = a * sh - ph + i * dh + offset[n, oy_channel, a, b]
                            xx = b * sw - pw + j * dw + offset[n, oy_channel + 1, a, b]
                            if not (y > -1 and xx > -1 and y < height and xx < width):
                                if not backward:
                                    cols[n, row, k] = 0.0
                                continue                    # no gradient either
                            y0, x0 = int(math.floor(y)), int(math.floor(xx))
                            ly, lx = y - y0, xx - x0
                            v1, v2 = _corner(img, y0, x0), _corner(img, y0, x0 + 1)
                            v3, v4 = _corner(img, y0 + 1, x0), _corner(img, y0 + 1, x0 + 1)
                            w1, w2, w3, w4 = (1 - ly) * (1 - lx), (1 - ly) * lx, ly * (1 - lx), ly * lx
                            sample = w1 * v1 + w2 * v2 + w3 * v3 + w4 * v4
                            m = mask[n, m_channel, a, b]
                            if not backward:
                                cols[n, row, k] = m * sample
                                continue
                            grad = cols[n, row, k]
                            dmask[n, m_channel, a, b] += grad * sample
                            grad *= m
                            for yy, xc, wt in ((y0, x0, w1), (y0, x0 + 1, w2), (y0 + 1, x0, w3),
                                               (y0 + 1, x0 + 1, w4)):
                                if 0 <= yy < height and 0 <= xc < width:
                                    dx[n, c, yy, xc] += grad * wt
                            doffset[n, oy_channel, a, b] += grad * ((1 - lx) * (v3 - v1) + lx * (v4 - v2))
                            doffset[n, oy_channel + 1, a, b] += grad * ((1 - ly) * (v2 - v1) + ly * (v4 - v3))


def _setup(p, inputs):
    kernel, stride, dilate, pad = dcn_geometry(p)
    geometry = np.array(kernel + stride + dilate + pad, np.int64)
    return geometry, [np.ascontiguousarray(a, np.float64) for a in inputs]


def _columns(p, x, offset, mask, geometry):
    taps = int(geometry[0] * geometry[1])
    cols = np.empty((x.shape[0], x.shape[1] * taps, offset.shape[2] * offset.shape[3]))
    _modulated_pass(x, offset, mask, geometry, p.num_deformable_group, cols, x, offset, mask, False)
    return cols


def modulated_deformable_convolution(ctx, p, inputs, outputs, req):
    """inputs (data, offset, mask, weight (, bias)) -> out."""
    geometry, (x, offset, mask, weight) = _setup(p, inputs[:4])
    g, n = p.num_group, x.shape[0]
    cols = _columns(p, x, offset, mask, geometry)
    cols = cols.reshape(n, g, -1, cols.shape[2])
    out = np.einsum("gfk,ngkp->ngfp", grouped_weight(weight, g), cols).reshape(outputs[0].shape)
    if not p.no_bias:
        out += inputs[4].astype(np.float64).reshape(1, -1, 1, 1)
    assign(outputs[0], req[0], out)


def backward_modulated_deformable_convolution(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data, offset, mask, weight) -> data_grad, offset_grad, mask_grad, weight_grad
    (, bias_grad)."""
    geometry, (dy, x, offset, mask, weight) = _setup(p, inputs)
    g, n = p.num_group, x.shape[0]
    dy = dy.reshape(n, g, weight.shape[0] // g, -1)
    w = grouped_weight(weight, g)
    cols = _columns(p, x, offset, mask, geometry)
    cols = cols.reshape(n, g, -1, cols.shape[2])
    assign(outputs[3], req[3], np.einsum("ngfp,ngkp->gfk", dy, cols).reshape(weight.shape))
    if not p.no_bias:
        assign(outputs[4], req[4], dy.sum(axis=(0, 3)).reshape(-1))
    dcols = np.ascontiguousarray(np.einsum("gfk,ngfp->ngkp", w, dy).reshape(n, -1, dy.shape[3]))
    dx, doffset, dmask = np.zeros(x.shape), np.zeros(offset.shape), np.zeros(mask.shape)
    _modulated_pass(x, offset, mask, geometry, p.num_deformable_group, dcols, dx, doffset, dmask, True)
    assign(outputs[0], req[0], dx)
    assign(outputs[1], req[1], doffset)
    assign(outputs[2], req[2], dmask)
