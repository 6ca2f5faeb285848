"""CPU kernels of ops/vision.py: ROIPooling, GridGenerator, BilinearSampler, SpatialTransformer and their backward
kernels.

ROIPooling's window bounds are computed with numpy in the data's dtype (MXNet computes the bin sizes in DType,
and floor/ceil of a float32 product can differ from float64's); the max and the scatter of its gradient run in
njit loops. The bilinear sampler maps a grid value g in [-1, 1] to the pixel coordinate (g + 1) * (size - 1) / 2 and
mixes the four neighbours, a neighbour outside the image counting as 0; its gradient with respect to the grid is
the derivative of that piecewise-bilinear function (MXNet's). Loops compute in float64 and store in the output's
dtype.
"""
import math

import numpy as np
from numba import njit

from .common import assign, compute_dtype

_loop = njit(nogil=True, cache=True)


# ---- ROIPooling -----------------------------------------------------------------------------------------------------
def _round_half_away(v):
    """C's round(): halves away from zero (numpy's round is to even)."""
    return np.sign(v) * np.floor(np.abs(v) + v.dtype.type(0.5))


def _roi_windows(rois, pooled, size, cdt):
    """Per roi and output cell along one axis: [start, end) clipped to [0, size), as MXNet's ROIPooling computes
    them in the data's dtype. `rois` columns (start, end) of the axis, already scaled and rounded."""
    start, end = rois
    length = np.maximum(end - start + 1, 1).astype(cdt)
    bin_size = length / cdt.type(pooled)
    cells = np.arange(pooled, dtype=cdt)
    lo = np.floor(cells[None, :] * bin_size[:, None]).astype(np.int64) + start[:, None].astype(np.int64)
    hi = np.ceil((cells[None, :] + 1) * bin_size[:, None]).astype(np.int64) + start[:, None].astype(np.int64)
    return np.clip(lo, 0, size), np.clip(hi, 0, size)


@_loop
def _roi_max(x, batch_index, h0, h1, w0, w1, out, argmax):
    n_rois, channels, ph, pw = out.shape
    width = x.shape[3]
    for r in range(n_rois):
        b = batch_index[r]
        for c in range(channels):
            for i in range(ph):
                for j in range(pw):
                    best = -np.inf
                    where = -1
                    if b >= 0:
                        for a in range(h0[r, i], h1[r, i]):
                            for k in range(w0[r, j], w1[r, j]):
                                v = x[b, c, a, k]
                                if v > best:
                                    best = v
                                    where = a * width + k
                    out[r, c, i, j] = best if where >= 0 else 0.0
                    argmax[r, c, i, j] = where


def roi_pooling(ctx, p, inputs, outputs, req):
    """outputs: the pooled (R, C, PH, PW) maxima, and the flat h * W + w index of each maximum (-1: empty)."""
    x, rois = inputs
    cdt = compute_dtype(x.dtype)
    r = rois.astype(cdt)
    scaled = _round_half_away(r[:, 1:5] * cdt.type(p.spatial_scale))
    ph, pw = p.pooled_size
    h0, h1 = _roi_windows((scaled[:, 1], scaled[:, 3]), ph, x.shape[2], cdt)
    w0, w1 = _roi_windows((scaled[:, 0], scaled[:, 2]), pw, x.shape[3], cdt)
    batch = np.trunc(r[:, 0].astype(np.float64)).astype(np.int64)
    batch[(batch < 0) | (batch >= x.shape[0])] = -1        # an roi of no image pools to 0
    out = np.empty(outputs[0].shape, np.float64)
    argmax = np.empty(outputs[0].shape, np.int64)
    _roi_max(np.ascontiguousarray(x, cdt), batch, h0, h1, w0, w1, out, argmax)
    assign(outputs[0], req[0], out)
    assign(outputs[1], req[1], argmax)


def backward_roi_pooling(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data, rois, maxidx) -> data_grad: each output cell's gradient goes to its maximum."""
    dy, x, rois, argmax = inputs
    n, c, h, w = x.shape
    grad = np.zeros((n, c, h * w), np.float64)
    batch = np.trunc(rois[:, 0].astype(np.float64)).astype(np.int64)
    idx = argmax.astype(np.int64)
    rr, cc, ii, jj = np.nonzero(idx >= 0)
    np.add.at(grad, (batch[rr], cc, idx[rr, cc, ii, jj]), dy[rr, cc, ii, jj].astype(np.float64))
    assign(outputs[0], req[0], grad.reshape(x.shape))


# ---- GridGenerator ------------------------------------------------------------------------------------------------
def affine_target(h, w):
    """The (3, h * w) target grid: normalised x, y in [-1, 1] (row-major over the output) and a row of ones."""
    with np.errstate(divide="ignore", invalid="ignore"):
        xs = -1.0 + np.arange(w) * 2.0 / (w - 1)
        ys = -1.0 + np.arange(h) * 2.0 / (h - 1)
    return np.stack([np.tile(xs, h), np.repeat(ys, w), np.ones(h * w)])


def affine_grid(theta, h, w):
    """(N, 2, h, w) source coordinates of the affine maps theta (N, 6) = rows of a 2 x 3 matrix."""
    t = theta.astype(np.float64).reshape(-1, 2, 3)
    return (t @ affine_target(h, w)).reshape(-1, 2, h, w)


def affine_grid_backward(dgrid, h, w):
    """d theta (N, 6) from d grid (N, 2, h, w)."""
    return (dgrid.astype(np.float64).reshape(-1, 2, h * w) @ affine_target(h, w).T).reshape(-1, 6)


def _warp_scale(h, w):
    return np.array([2.0 / (w - 1), 2.0 / (h - 1)]).reshape(1, 2, 1, 1)


def grid_generator(ctx, p, inputs, outputs, req):
    """affine: theta (N, 6) -> grid (N, 2, H, W); warp: flow (N, 2, H, W) -> grid = (flow + pixel) scaled to
    [-1, 1]. The hidden output keeps the target grid (affine: (3, H * W)) or the pixel coordinates (warp)."""
    if p.transform_type == "affine":
        h, w = p.target_shape
        assign(outputs[0], req[0], affine_grid(inputs[0], h, w))
        assign(outputs[1], req[1], affine_target(h, w))
        return
    flow = inputs[0].astype(np.float64)
    h, w = flow.shape[2:]
    pixels = np.stack([np.broadcast_to(np.arange(w), (h, w)), np.broadcast_to(np.arange(h)[:, None], (h, w))])
    with np.errstate(divide="ignore", invalid="ignore"):
        assign(outputs[0], req[0], (flow + pixels) * _warp_scale(h, w) - 1.0)
    assign(outputs[1], req[1], pixels)


def backward_grid_generator(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data) -> data_grad."""
    dgrid = inputs[0]
    h, w = dgrid.shape[2:]
    if p.transform_type == "affine":
        assign(outputs[0], req[0], affine_grid_backward(dgrid, h, w))
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            assign(outputs[0], req[0], dgrid.astype(np.float64) * _warp_scale(h, w))


# ---- BilinearSampler ----------------------------------------------------------------------------------------------
@_loop
def _corner(gx, gy, h, w):
    """The top-left neighbour (x0, y0) of grid point (gx, gy) in [-1, 1] on an (h, w) input, and the weights wx, wy
    of that neighbour's column and row (1 - wx, 1 - wy for the next ones)."""
    xr = (gx + 1.0) * (w - 1) / 2.0
    yr = (gy + 1.0) * (h - 1) / 2.0
    x0 = math.floor(xr) if math.isfinite(xr) else -2.0     # NaN/inf: no neighbour inside
    y0 = math.floor(yr) if math.isfinite(yr) else -2.0
    return int(x0), int(y0), 1.0 - (xr - x0), 1.0 - (yr - y0)


@_loop
def _sample(x, grid, out):
    n_, c_, h, w = x.shape
    oh, ow = grid.shape[2], grid.shape[3]
    for n in range(n_):
        for i in range(oh):
            for j in range(ow):
                x0i, y0i, wx, wy = _corner(grid[n, 0, i, j], grid[n, 1, i, j], h, w)
                for c in range(c_):
                    v = 0.0
                    for dy_ in range(2):
                        for dx_ in range(2):
                            yy, xx = y0i + dy_, x0i + dx_
                            # an outside neighbour is a 0 still multiplied by its weight: a NaN grid gives NaN
                            value = x[n, c, yy, xx] if 0 <= yy < h and 0 <= xx < w else 0.0
                            v += value * (wy if dy_ == 0 else 1.0 - wy) * (wx if dx_ == 0 else 1.0 - wx)
                    out[n, c, i, j] = v


@_loop
def _sample_backward(dy, x, grid, dx, dgrid):
    n_, c_, h, w = x.shape
    oh, ow = grid.shape[2], grid.shape[3]
    for n in range(n_):
        for i in range(oh):
            for j in range(ow):
                x0i, y0i, wx, wy = _corner(grid[n, 0, i, j], grid[n, 1, i, j], h, w)
                gx = 0.0
                gy = 0.0
                for c in range(c_):
                    g = dy[n, c, i, j]
                    v = np.zeros(4)                 # top left, top right, bottom left, bottom right
                    for k in range(4):
                        yy, xx = y0i + k // 2, x0i + k % 2
                        if 0 <= yy < h and 0 <= xx < w:
                            v[k] = x[n, c, yy, xx]
                            dx[n, c, yy, xx] += g * (wy if k < 2 else 1.0 - wy) * (wx if k % 2 == 0 else 1.0 - wx)
                    # out = v0 wy wx + v1 wy (1 - wx) + v2 (1 - wy) wx + v3 (1 - wy)(1 - wx); d wx / d xr = -1
                    gx -= g * (wy * (v[0] - v[1]) + (1.0 - wy) * (v[2] - v[3]))
                    gy -= g * (wx * (v[0] - v[2]) + (1.0 - wx) * (v[1] - v[3]))
                dgrid[n, 0, i, j] = gx * (w - 1) / 2.0
                dgrid[n, 1, i, j] = gy * (h - 1) / 2.0


def sample(x, grid):
    """(N, C, OH, OW) float64 bilinear samples of x at grid (N, 2, OH, OW)."""
    out = np.empty(x.shape[:2] + grid.shape[2:], np.float64)
    _sample(np.ascontiguousarray(x, np.float64), np.ascontiguousarray(grid, np.float64), out)
    return out


def sample_backward(dy, x, grid):
    """(d x, d grid) in float64."""
    dx = np.zeros(x.shape, np.float64)
    dgrid = np.empty(grid.shape, np.float64)
    _sample_backward(np.ascontiguousarray(dy, np.float64), np.ascontiguousarray(x, np.float64),
                     np.ascontiguousarray(grid, np.float64), dx, dgrid)
    return dx, dgrid


def bilinear_sampler(ctx, p, inputs, outputs, req):
    x, grid = inputs
    assign(outputs[0], req[0], sample(x, grid))
    assign(outputs[1], req[1], 0)


def backward_bilinear_sampler(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data, grid) -> data_grad, grid_grad."""
    dx, dgrid = sample_backward(*inputs)
    assign(outputs[0], req[0], dx)
    assign(outputs[1], req[1], dgrid)


# ---- SpatialTransformer: an affine grid, then the bilinear sampler -------------------------------------------------
def spatial_transformer(ctx, p, inputs, outputs, req):
    """outputs: the sampled (N, C, H, W), and the hidden target grid (3, H * W) and source grid (N, 2, H, W)."""
    x, loc = inputs
    h, w = p.target_shape
    grid = affine_grid(loc, h, w)
    assign(outputs[0], req[0], sample(x, grid))
    assign(outputs[1], req[1], affine_target(h, w))
    assign(outputs[2], req[2], grid)


def backward_spatial_transformer(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data, grid_src) -> data_grad, loc_grad."""
    dy, x, grid = inputs
    dx, dgrid = sample_backward(dy, x, grid)
    assign(outputs[0], req[0], dx)
    assign(outputs[1], req[1], affine_grid_backward(dgrid, *p.target_shape))
