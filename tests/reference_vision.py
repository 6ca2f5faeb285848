"""numpy references for ops/vision.py (tests only): ROIPooling, GridGenerator, BilinearSampler, SpatialTransformer.

Plain loops over output cells, written from MXNet 1.9.1's definitions (see ops/vision.py's docstring; the exact
numbers are checked against MXNet's fixture in tests/test_new_ops.py). float64 throughout, rounded to the data's
dtype once; hidden outputs are returned as the kernels keep them. Tiny shapes only.
"""
import math

import numpy as np


def _c_round(v):
    return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)


def roi_pooling(p, x, rois):
    n, c, h, w = x.shape
    ph, pw = p.pooled_size
    cdt = np.float32 if x.dtype != np.float64 else np.float64      # MXNet's bin arithmetic is in DType
    out = np.zeros((len(rois), c, ph, pw))
    argmax = -np.ones((len(rois), c, ph, pw))
    for r, roi in enumerate(rois.astype(np.float64)):
        b = int(roi[0])
        x1, y1, x2, y2 = (_c_round(float(cdt(v) * cdt(p.spatial_scale))) for v in roi[1:])
        if not 0 <= b < n:
            continue
        bin_h = cdt(max(y2 - y1 + 1, 1)) / cdt(ph)
        bin_w = cdt(max(x2 - x1 + 1, 1)) / cdt(pw)
        for i in range(ph):
            h0 = min(max(int(math.floor(cdt(i) * bin_h)) + y1, 0), h)
            h1 = min(max(int(math.ceil(cdt(i + 1) * bin_h)) + y1, 0), h)
            for j in range(pw):
                w0 = min(max(int(math.floor(cdt(j) * bin_w)) + x1, 0), w)
                w1 = min(max(int(math.ceil(cdt(j + 1) * bin_w)) + x1, 0), w)
                if h1 <= h0 or w1 <= w0:
                    continue
                block = x[b, :, h0:h1, w0:w1].astype(np.float64).reshape(c, -1)
                k = block.argmax(axis=1)
                out[r, :, i, j] = block[np.arange(c), k]
                argmax[r, :, i, j] = (h0 + k // (w1 - w0)) * w + w0 + k % (w1 - w0)
    return out.astype(x.dtype), argmax.astype(x.dtype)


def _affine_target(h, w):
    """MXNet's -1 + k * 2 / (size - 1): NaN along an axis of size 1 (0 * inf), as MXNet 1.9.1 gives."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ys, xs = np.meshgrid(-1 + np.arange(h) * 2.0 / (h - 1), -1 + np.arange(w) * 2.0 / (w - 1), indexing="ij")
    return np.stack([xs.reshape(-1), ys.reshape(-1), np.ones(h * w)])


def _affine_grid(theta, h, w):
    return np.einsum("nij,jk->nik", theta.astype(np.float64).reshape(-1, 2, 3), _affine_target(h, w)) \
        .reshape(-1, 2, h, w)


def grid_generator(p, data):
    if p.transform_type == "affine":
        h, w = p.target_shape
        return _affine_grid(data, h, w).astype(data.dtype), _affine_target(h, w).astype(data.dtype)
    h, w = data.shape[2:]
    grid = np.empty(data.shape)
    for i in range(h):
        for j in range(w):
            grid[:, 0, i, j] = (data[:, 0, i, j] + j) / ((w - 1) / 2) - 1
            grid[:, 1, i, j] = (data[:, 1, i, j] + i) / ((h - 1) / 2) - 1
    ii, jj = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return grid.astype(data.dtype), np.stack([jj, ii]).astype(data.dtype)


def _sample(x, grid):
    n, c, h, w = x.shape
    oh, ow = grid.shape[2:]
    out = np.zeros((n, c, oh, ow))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                xr = (float(grid[b, 0, i, j]) + 1) * (w - 1) / 2
                yr = (float(grid[b, 1, i, j]) + 1) * (h - 1) / 2
                if not (math.isfinite(xr) and math.isfinite(yr)):
                    out[b, :, i, j] = np.nan
                    continue
                x0, y0 = math.floor(xr), math.floor(yr)
                for yy, wy in ((y0, 1 - (yr - y0)), (y0 + 1, yr - y0)):
                    for xx, wx in ((x0, 1 - (xr - x0)), (x0 + 1, xr - x0)):
                        if 0 <= yy < h and 0 <= xx < w:
                            out[b, :, i, j] += x[b, :, yy, xx].astype(np.float64) * wy * wx
    return out


def bilinear_sampler(p, x, grid):
    return _sample(x, grid).astype(x.dtype), np.zeros(grid.shape, x.dtype)


def spatial_transformer(p, x, loc):
    h, w = p.target_shape
    grid = _affine_grid(loc, h, w)
    return (_sample(x, grid).astype(x.dtype), _affine_target(h, w).astype(x.dtype), grid.astype(x.dtype))
