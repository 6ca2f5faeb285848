"""Plain numpy reference of `_contrib_ModulatedDeformableConvolution` (DCNv2), written from the paper and MXNet
1.9.1's documented shapes, checked against MXNet's outputs in tests/test_deformable.py. Python loops: small inputs
only."""
import math

import numpy as np


def _sample(img, y, x):
    """Bilinear sample at (y, x): corners outside the map read 0; beyond one pixel outside, 0."""
    h, w = img.shape
    if not (-1 < y < h and -1 < x < w):
        return 0.0
    y0, x0 = int(math.floor(y)), int(math.floor(x))
    total = 0.0
    for yy, xx, weight in ((y0, x0, (1 - (y - y0)) * (1 - (x - x0))), (y0, x0 + 1, (1 - (y - y0)) * (x - x0)),
                           (y0 + 1, x0, (y - y0) * (1 - (x - x0))), (y0 + 1, x0 + 1, (y - y0) * (x - x0))):
        if 0 <= yy < h and 0 <= xx < w:
            total += weight * float(img[yy, xx])
    return total


def modulated_deformable_convolution(p, data, offset, mask, weight, bias=None):
    (kh, kw), (sh, sw) = p.kernel, tuple(p.stride) or (1, 1)
    (dh, dw), (ph, pw) = tuple(p.dilate) or (1, 1), tuple(p.pad) or (0, 0)
    n_, c_, _, _ = data.shape
    oh, ow = offset.shape[2:]
    filters, groups = p.num_filter, p.num_group
    cin, fout, per_dg = c_ // groups, filters // groups, c_ // p.num_deformable_group
    x = data.astype(np.float64)
    out = np.zeros((n_, filters, oh, ow))
    for n in range(n_):
        for c in range(c_):
            g = c // per_dg
            for i in range(kh):
                for j in range(kw):
                    tap = i * kw + j
                    ch = g * 2 * kh * kw + 2 * tap
                    taps = np.array([[float(mask[n, g * kh * kw + tap, a, b]) *
                                      _sample(x[n, c], a * sh - ph + i * dh + float(offset[n, ch, a, b]),
                                              b * sw - pw + j * dw + float(offset[n, ch + 1, a, b]))
                                      for b in range(ow)] for a in range(oh)])
                    group = c // cin
                    for f in range(group * fout, (group + 1) * fout):
                        out[n, f] += float(weight[f, c - group * cin, i, j]) * taps
    if bias is not None:
        out += bias.astype(np.float64).reshape(1, -1, 1, 1)
    return out.astype(data.dtype)
