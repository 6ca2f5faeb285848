"""CPU kernels of ops/detection.py: MultiBoxPrior, MultiBoxTarget, ROIAlign, PSROIPooling, DeformableConvolution
and the backward kernels.

Where MXNet's result depends on float32 rounding it is computed in float32 as MXNet's C++ does: the anchors, the
IoUs and background probabilities that decide MultiBoxTarget's matches, PSROIPooling's bin bounds (floor/ceil of a
float32 product can differ from float64's). ROIAlign samples at positions computed in float64: its bilinear value
is continuous in them, so the last bits do not matter; nor do DeformableConvolution's taps. Sums of gradients
accumulate in float64. ROIAlign, PSROIPooling and DeformableConvolution each run one njit pass that computes the
forward or, with `backward`, scatters the gradient over the same samples: the geometry is written once.
"""
import math

import numpy as np
from numba import njit

from ..errors import MXNetError
from .common import assign, compute_dtype
from .vision import _round_half_away

_loop = njit(nogil=True, cache=True)
_F32 = np.float32


def batch_indices(op_name, rois, batch, allow_negative):
    """The rois' batch indices as C's int conversion gives them (toward zero); out-of-range ones are refused,
    as MXNet would read outside the data. Negative ones are kept where the op defines them (-> 0)."""
    index = np.trunc(rois[:, 0].astype(np.float64))
    bad = (index >= batch) | ~np.isfinite(index) | (index < 0 if not allow_negative else False)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise MXNetError("%s: rois row %d has batch index %s, outside the data's batch of %d"
                         % (op_name, r, rois[r, 0], batch))
    return index.astype(np.int64)


# ---- MultiBoxPrior ---------------------------------------------------------------------------------------------------
def prior_half_sizes(p, h, w):
    """(num_anchors, 2) float32 half widths and heights of the anchors at one pixel: every size at ratios[0], then
    sizes[0] at each further ratio (MXNet's order, in its float arithmetic)."""
    pairs = [(size, p.ratios[0]) for size in p.sizes] + [(p.sizes[0], ratio) for ratio in p.ratios[1:]]
    halves = []
    for size, ratio in pairs:
        size, root = _F32(size), np.sqrt(_F32(ratio))
        halves.append((size * _F32(h) / _F32(w) * root / _F32(2), size / root / _F32(2)))
    return np.array(halves, _F32)


def prior_steps(p, h, w):
    """(step_y, step_x) in float32: -1 (or any non-positive) means one pixel of the map in [0, 1] units."""
    if p.steps[0] <= 0 or p.steps[1] <= 0:
        return _F32(1) / _F32(h), _F32(1) / _F32(w)
    return _F32(p.steps[0]), _F32(p.steps[1])


def multibox_prior(ctx, p, inputs, outputs, req):
    h, w = inputs[0].shape[2:4]
    step_y, step_x = prior_steps(p, h, w)
    cy = (np.arange(h, dtype=_F32) + _F32(p.offsets[0])) * step_y
    cx = (np.arange(w, dtype=_F32) + _F32(p.offsets[1])) * step_x
    half = prior_half_sizes(p, h, w)
    boxes = np.empty((h, w, len(half), 4), _F32)
    boxes[..., 0] = cx[None, :, None] - half[None, None, :, 0]
    boxes[..., 1] = cy[:, None, None] - half[None, None, :, 1]
    boxes[..., 2] = cx[None, :, None] + half[None, None, :, 0]
    boxes[..., 3] = cy[:, None, None] + half[None, None, :, 1]
    if p.clip:
        np.clip(boxes, 0, 1, out=boxes)
    assign(outputs[0], req[0], boxes.reshape(outputs[0].shape))


# ---- MultiBoxTarget --------------------------------------------------------------------------------------------------
def box_iou(anchors, boxes):
    """(A, L) float32 IoUs of anchors (A, 4) and boxes (L, 4), 0 where the union is 0 (MXNet's safe divide)."""
    a, g = anchors[:, None, :], boxes[None, :, :]
    inter = (np.maximum(_F32(0), np.minimum(a[..., 2], g[..., 2]) - np.maximum(a[..., 0], g[..., 0])) *
             np.maximum(_F32(0), np.minimum(a[..., 3], g[..., 3]) - np.maximum(a[..., 1], g[..., 1])))
    union = ((a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1]) + (g[..., 2] - g[..., 0]) * (g[..., 3] - g[..., 1])
             - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union == 0, _F32(0), inter / union).astype(_F32)


@_loop
def _best_gt(iou, j):
    best, where = _F32(-1.0), -1
    for k in range(iou.shape[1]):
        if iou[j, k] > best:
            best, where = iou[j, k], k
    return best, where


@_loop
def _match(iou, cls_pred, overlap_threshold, mining_ratio, mining_thresh, flags, matched):
    """MXNet's matching for one image. iou (A, G) float32 over the valid ground truths, cls_pred (classes, A).
    Fills flags (1 positive, 0 negative, -1 ignored) and matched (the ground truth of each positive); returns the
    number of negatives asked for when fewer candidates exist (MXNet's failed check), else -1."""
    n_anchors, n_gt = iou.shape
    best_iou = np.full(n_anchors, _F32(-1.0))
    gt_done = np.zeros(n_gt, np.bool_)
    n_positive = 0
    # 1. each ground truth takes the best (anchor, ground truth) pair left, while one has IoU > 1e-6
    for _ in range(n_gt):
        best_a, best_g, best = -1, -1, _F32(1e-6)
        for j in range(n_anchors):
            if flags[j] == 1:
                continue
            for k in range(n_gt):
                if not gt_done[k] and iou[j, k] > best:
                    best_a, best_g, best = j, k, iou[j, k]
        if best_a < 0:
            break
        best_iou[best_a], matched[best_a] = best, best_g
        gt_done[best_g] = True
        flags[best_a] = 1
        n_positive += 1
    # 2. other anchors whose best IoU is above the threshold
    if overlap_threshold > 0:
        for j in range(n_anchors):
            if flags[j] == 1:
                continue
            best_iou[j], matched[j] = _best_gt(iou, j)
            if best_iou[j] > overlap_threshold:
                flags[j] = 1
                n_positive += 1
    # 3. negatives: all the rest, or the hardest ones (lowest background probability) below mining_thresh
    if mining_ratio <= 0:
        for j in range(n_anchors):
            if flags[j] != 1:
                flags[j] = 0
        return -1
    n_negative = int(_F32(n_positive) * mining_ratio)
    n_negative = min(n_negative, n_anchors - n_positive)
    if n_negative <= 0:
        return -1
    candidates = np.empty(n_anchors, np.int64)
    background = np.empty(n_anchors, _F32)
    n = 0
    for j in range(n_anchors):
        if flags[j] == 1:
            continue
        if best_iou[j] < 0:
            best_iou[j], matched[j] = _best_gt(iou, j)
        if best_iou[j] < mining_thresh:
            top = cls_pred[0, j]
            for k in range(1, cls_pred.shape[0]):
                top = max(top, cls_pred[k, j])
            total = _F32(0.0)
            for k in range(cls_pred.shape[0]):
                total += np.exp(cls_pred[k, j] - top)
            candidates[n] = j
            background[n] = np.exp(cls_pred[0, j] - top) / total
            n += 1
    if n < n_negative:
        return n_negative
    order = np.argsort(background[:n], kind="mergesort")      # stable: ties keep the anchor order
    for i in range(n_negative):
        flags[candidates[order[i]]] = 0
    return -1


def loc_targets(anchors, boxes, variances):
    """(A, 4) float32 regression targets of anchors to their boxes: centre offsets over anchor sizes and log
    size ratios, each divided by its variance."""
    v = np.asarray(variances, _F32)
    aw, ah = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    ax, ay = (anchors[:, 0] + anchors[:, 2]) * _F32(0.5), (anchors[:, 1] + anchors[:, 3]) * _F32(0.5)
    gw, gh = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    gx, gy = (boxes[:, 0] + boxes[:, 2]) * _F32(0.5), (boxes[:, 1] + boxes[:, 3]) * _F32(0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.stack([(gx - ax) / aw / v[0], (gy - ay) / ah / v[1],
                         np.log(gw / aw) / v[2], np.log(gh / ah) / v[3]], axis=1)


def _valid_labels(label):
    """The number of leading label rows before the first row of class -1, whose box must be -1 too."""
    padded = np.flatnonzero(label[:, 0] == -1)
    if not len(padded):
        return len(label)
    first = padded[0]
    if not (label[first, 1:5] == -1).all():
        raise MXNetError("_contrib_MultiBoxTarget: label row %d has class -1 (padding) but box %s; padding rows "
                         "must be -1 throughout" % (first, label[first, 1:5].tolist()))
    return first


def multibox_target(ctx, p, inputs, outputs, req):
    anchor, label, cls_pred = (np.ascontiguousarray(a, _F32) for a in inputs)
    anchors = anchor.reshape(-1, 4)
    n_anchors = len(anchors)
    loc = np.zeros((len(label), n_anchors, 4), _F32)
    mask = np.zeros((len(label), n_anchors, 4), _F32)
    cls = np.full((len(label), n_anchors), _F32(p.ignore_label), _F32)
    for b in range(len(label)):
        n_valid = _valid_labels(label[b])
        if n_valid == 0:
            continue
        flags = np.full(n_anchors, -1, np.int8)
        matched = np.full(n_anchors, -1, np.int64)
        short = _match(box_iou(anchors, label[b, :n_valid, 1:5]), cls_pred[b], _F32(p.overlap_threshold),
                       _F32(p.negative_mining_ratio), _F32(p.negative_mining_thresh), flags, matched)
        if short >= 0:
            raise MXNetError("_contrib_MultiBoxTarget: image %d needs %d negatives but only %d anchors are below "
                             "negative_mining_thresh=%s" % (b, short, int((flags == -1).sum()),
                                                            p.negative_mining_thresh))
        positive = flags == 1
        gt = label[b, matched[positive]]
        cls[b, positive] = gt[:, 0] + _F32(1)              # 0 is the background
        cls[b, flags == 0] = 0
        mask[b, positive] = 1
        loc[b, positive] = loc_targets(anchors[positive], gt[:, 1:5], p.variances)
    assign(outputs[0], req[0], loc.reshape(outputs[0].shape))
    assign(outputs[1], req[1], mask.reshape(outputs[1].shape))
    assign(outputs[2], req[2], cls)


# ---- ROIAlign --------------------------------------------------------------------------------------------------------
@_loop
def _roi_align_pass(x, rois, batch, spatial_scale, sample_ratio, position_sensitive, aligned, out, dx, backward):
    """Forward (out = the bins' averages of bilinear samples of x) or backward (dx += out's gradient spread over
    the same samples and weights). x/dx (N, C, H, W); out (R, C_out, PH, PW); rois (R, 5) float64. Each sample's
    corners and weights serve every channel (measured 3x faster than a channel-outer order over a sample table)."""
    n_rois, c_out, ph_, pw_ = out.shape
    height, width = x.shape[2], x.shape[3]
    offset = 0.5 if aligned else 0.0
    for r in range(n_rois):
        b = batch[r]
        if b < 0:
            continue                        # forward: stays 0; backward: no gradient
        x0 = rois[r, 1] * spatial_scale - offset
        y0 = rois[r, 2] * spatial_scale - offset
        roi_w = rois[r, 3] * spatial_scale - offset - x0
        roi_h = rois[r, 4] * spatial_scale - offset - y0
        if not aligned:
            roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
        bin_h, bin_w = roi_h / ph_, roi_w / pw_
        grid_h = sample_ratio if sample_ratio > 0 else int(math.ceil(roi_h / ph_))
        grid_w = sample_ratio if sample_ratio > 0 else int(math.ceil(roi_w / pw_))
        count = max(grid_h * grid_w, 1)
        for i in range(ph_):
            for j in range(pw_):
                for iy in range(grid_h):
                    y = y0 + i * bin_h + (iy + 0.5) * bin_h / grid_h
                    for ix in range(grid_w):
                        xx = x0 + j * bin_w + (ix + 0.5) * bin_w / grid_w
                        if y < -1.0 or y > height or xx < -1.0 or xx > width:
                            continue                # a sample outside the map counts as 0
                        yc, xc = max(y, 0.0), max(xx, 0.0)
                        y_lo, x_lo = int(yc), int(xc)
                        if y_lo >= height - 1:
                            y_lo = y_hi = height - 1
                            yc = float(y_lo)
                        else:
                            y_hi = y_lo + 1
                        if x_lo >= width - 1:
                            x_lo = x_hi = width - 1
                            xc = float(x_lo)
                        else:
                            x_hi = x_lo + 1
                        ly, lx = yc - y_lo, xc - x_lo
                        w1, w2, w3, w4 = (1 - ly) * (1 - lx), (1 - ly) * lx, ly * (1 - lx), ly * lx
                        for c in range(c_out):
                            src = (c * ph_ + i) * pw_ + j if position_sensitive else c
                            if backward:
                                g = out[r, c, i, j] / count
                                dx[b, src, y_lo, x_lo] += g * w1
                                dx[b, src, y_lo, x_hi] += g * w2
                                dx[b, src, y_hi, x_lo] += g * w3
                                dx[b, src, y_hi, x_hi] += g * w4
                            else:
                                out[r, c, i, j] += (w1 * x[b, src, y_lo, x_lo] + w2 * x[b, src, y_lo, x_hi] +
                                                    w3 * x[b, src, y_hi, x_lo] + w4 * x[b, src, y_hi, x_hi]) / count


def roi_align_batch(p, rois, data_shape):
    """Batch indices of the rois (negative -> -1: pooled to 0), after MXNet's checks."""
    batch = batch_indices("_contrib_ROIAlign", rois, data_shape[0], allow_negative=True)
    if p.aligned:
        r = rois.astype(np.float64)
        empty = ((r[:, 3] - r[:, 1]) * p.spatial_scale <= 0) | ((r[:, 4] - r[:, 2]) * p.spatial_scale <= 0)
        empty &= batch >= 0
        if empty.any():
            k = int(np.flatnonzero(empty)[0])
            raise MXNetError("_contrib_ROIAlign: with aligned=True rois must have a positive width and height; "
                             "rois row %d is %s" % (k, rois[k].tolist()))
    return np.where(batch < 0, -1, batch)


def roi_align(ctx, p, inputs, outputs, req):
    x, rois = inputs
    batch = roi_align_batch(p, rois, x.shape)
    out = np.zeros(outputs[0].shape, np.float64)
    _roi_align_pass(np.ascontiguousarray(x, np.float64), rois.astype(np.float64), batch, float(p.spatial_scale),
                    p.sample_ratio, p.position_sensitive, p.aligned, out, out[:1, :1, :1, :1], False)
    assign(outputs[0], req[0], out)


def backward_roi_align(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data, rois) -> data_grad."""
    dy, x, rois = inputs
    batch = roi_align_batch(p, rois, x.shape)
    dx = np.zeros(x.shape, np.float64)
    _roi_align_pass(dx, rois.astype(np.float64), batch, float(p.spatial_scale), p.sample_ratio,
                    p.position_sensitive, p.aligned, np.ascontiguousarray(dy, np.float64), dx, True)
    assign(outputs[0], req[0], dx)


# ---- PSROIPooling ----------------------------------------------------------------------------------------------------
def psroi_bins(p, rois, height, width, cdt):
    """Per roi and cell, [start, end) bounds along y and x clipped to the map, as MXNet computes them in the data's
    dtype: (h0, h1) (R, P) and (w0, w1) (R, P)."""
    r = _round_half_away(rois[:, 1:5].astype(cdt))
    scale = cdt.type(p.spatial_scale)
    bounds = []
    for start, end, size in ((r[:, 1], r[:, 3], height), (r[:, 0], r[:, 2], width)):
        start = start * scale
        length = np.maximum((end + cdt.type(1)) * scale - start, cdt.type(0.1))
        bin_size = length / cdt.type(p.pooled_size)
        cells = np.arange(p.pooled_size, dtype=cdt)
        lo = np.floor(cells[None, :] * bin_size[:, None] + start[:, None])
        hi = np.ceil((cells[None, :] + 1) * bin_size[:, None] + start[:, None])
        bounds += [np.clip(lo, 0, size).astype(np.int64), np.clip(hi, 0, size).astype(np.int64)]
    return bounds


def group_size(p):
    """MXNet's group_size 0 means pooled_size."""
    return p.group_size or p.pooled_size


def psroi_groups(p):
    """The group cell of each pooled cell along one axis: floor(cell * group_size / pooled_size)."""
    g = group_size(p)
    return np.minimum(np.arange(p.pooled_size) * g // p.pooled_size, g - 1).astype(np.int64), g


@_loop
def _psroi_pass(x, batch, h0, h1, w0, w1, groups, group_size, out, dx, backward):
    """Forward (out = each bin's mean over its area of its group cell's channel) or backward (dx += out's
    gradient / area over the same area). x/dx (N, C, H, W), out (R, output_dim, P, P)."""
    n_rois, dims, pooled = out.shape[0], out.shape[1], out.shape[2]
    for r in range(n_rois):
        b = batch[r]
        for d in range(dims):
            for i in range(pooled):
                for j in range(pooled):
                    area = (h1[r, i] - h0[r, i]) * (w1[r, j] - w0[r, j])
                    if h1[r, i] <= h0[r, i] or w1[r, j] <= w0[r, j]:
                        continue                        # an empty bin: 0, and no gradient
                    c = (d * group_size + groups[i]) * group_size + groups[j]
                    if backward:
                        g = out[r, d, i, j] / area
                        for a in range(h0[r, i], h1[r, i]):
                            for k in range(w0[r, j], w1[r, j]):
                                dx[b, c, a, k] += g
                    else:
                        total = 0.0
                        for a in range(h0[r, i], h1[r, i]):
                            for k in range(w0[r, j], w1[r, j]):
                                total += x[b, c, a, k]
                        out[r, d, i, j] = total / area


def psroi_geometry(p, x_shape, x_dtype, rois):
    batch = batch_indices("_contrib_PSROIPooling", rois, x_shape[0], allow_negative=False)
    h0, h1, w0, w1 = psroi_bins(p, rois, x_shape[2], x_shape[3], compute_dtype(x_dtype))
    groups, g = psroi_groups(p)
    return batch, h0, h1, w0, w1, groups, g


def psroi_pooling(ctx, p, inputs, outputs, req):
    x, rois = inputs
    geometry = psroi_geometry(p, x.shape, x.dtype, rois)
    out = np.zeros(outputs[0].shape, np.float64)
    _psroi_pass(np.ascontiguousarray(x, np.float64), *geometry, out, out[:1, :1, :1, :1], False)
    assign(outputs[0], req[0], out)


def backward_psroi_pooling(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data, rois) -> data_grad."""
    dy, x, rois = inputs
    geometry = psroi_geometry(p, x.shape, x.dtype, rois)
    dx = np.zeros(x.shape, np.float64)
    _psroi_pass(dx, *geometry, np.ascontiguousarray(dy, np.float64), dx, True)
    assign(outputs[0], req[0], dx)


# ---- DeformableConvolution ---------------------------------------------------------------------------------------
@_loop
def _tap(img, y, x):
    """MXNet's CPU sample of one (H, W) map at (y, x) in [0, H) x [0, W): the four corners' weights (clamped at the
    far border, where that axis no longer moves), the corners, and whether y and x are free to move."""
    h, w = img.shape
    y_lo, x_lo = int(math.floor(y)), int(math.floor(x))
    y_free, x_free = y_lo < h - 1, x_lo < w - 1
    y_hi = y_lo + 1 if y_free else h - 1
    x_hi = x_lo + 1 if x_free else w - 1
    ly = y - y_lo if y_free else 0.0
    lx = x - x_lo if x_free else 0.0
    return y_lo, x_lo, y_hi, x_hi, ly, lx, y_free, x_free


@_loop
def _deform_pass(x, offset, geometry, deformable_groups, cols, dcols, dx, doffset, backward):
    """Forward: cols (N, C * kh * kw, OH * OW) = the taps of x moved by their offsets and sampled bilinearly (0
    outside the map). Backward: from dcols (cols' gradient), dx += each sample's share of its four corners and
    doffset += d sample / d (dy, dx) times its gradient."""
    kh, kw, sh, sw, dh, dw, ph, pw = geometry
    n_, c_, height, width = x.shape
    oh, ow = offset.shape[2], offset.shape[3]
    per_group = c_ // deformable_groups
    for n in range(n_):
        for c in range(c_):
            g = c // per_group
            for i in range(kh):
                for j in range(kw):
                    tap = i * kw + j
                    row = (c * kh + i) * kw + j
                    oy_channel = g * 2 * kh * kw + 2 * tap
                    for a in range(oh):
                        for b in range(ow):
                            y = a * sh - ph + i * dh + offset[n, oy_channel, a, b]
                            xx = b * sw - pw + j * dw + offset[n, oy_channel + 1, a, b]
                            if not (y >= 0 and xx >= 0 and y < height and xx < width):
                                continue                    # cols stay 0; no gradient
                            y_lo, x_lo, y_hi, x_hi, ly, lx, y_free, x_free = _tap(x[n, c], y, xx)
                            v1, v2 = x[n, c, y_lo, x_lo], x[n, c, y_lo, x_hi]
                            v3, v4 = x[n, c, y_hi, x_lo], x[n, c, y_hi, x_hi]
                            w1, w2, w3, w4 = (1 - ly) * (1 - lx), (1 - ly) * lx, ly * (1 - lx), ly * lx
                            k = a * ow + b
                            if not backward:
                                cols[n, row, k] = w1 * v1 + w2 * v2 + w3 * v3 + w4 * v4
                                continue
                            grad = dcols[n, row, k]
                            dx[n, c, y_lo, x_lo] += grad * w1
                            dx[n, c, y_lo, x_hi] += grad * w2
                            dx[n, c, y_hi, x_lo] += grad * w3
                            dx[n, c, y_hi, x_hi] += grad * w4
                            if y_free:
                                doffset[n, oy_channel, a, b] += grad * ((1 - lx) * (v3 - v1) + lx * (v4 - v2))
                            if x_free:
                                doffset[n, oy_channel + 1, a, b] += grad * ((1 - ly) * (v2 - v1) + ly * (v4 - v3))


def dcn_geometry(p):
    """(kernel, stride, dilate, pad) of a DeformableConvolution as 2-tuples, MXNet's defaults filled in."""
    return (tuple(p.kernel), tuple(p.stride) or (1, 1), tuple(p.dilate) or (1, 1), tuple(p.pad) or (0, 0))


def _dcn_setup(p, x, offset):
    kernel, stride, dilate, pad = dcn_geometry(p)
    geometry = np.array(kernel + stride + dilate + pad, np.int64)
    return geometry, np.ascontiguousarray(x, np.float64), np.ascontiguousarray(offset, np.float64)


def _columns(p, x, offset, geometry):
    n, c = x.shape[:2]
    taps = int(geometry[0] * geometry[1])
    cols = np.zeros((n, c * taps, offset.shape[2] * offset.shape[3]))
    _deform_pass(x, offset, geometry, p.num_deformable_group, cols, cols, x, offset, False)
    return cols


def grouped_weight(weight, groups):
    """(groups, F / groups, C / groups * kh * kw) view of the weight."""
    return weight.reshape(groups, weight.shape[0] // groups, -1)


def deformable_convolution(ctx, p, inputs, outputs, req):
    geometry, x, offset = _dcn_setup(p, inputs[0], inputs[1])
    cols = _columns(p, x, offset, geometry)
    g = p.num_group
    w = grouped_weight(inputs[2].astype(np.float64), g)
    n = x.shape[0]
    cols = cols.reshape(n, g, -1, cols.shape[2])
    out = np.einsum("gfk,ngkp->ngfp", w, cols).reshape(outputs[0].shape)
    if not p.no_bias:
        out += inputs[3].astype(np.float64).reshape(1, -1, 1, 1)
    assign(outputs[0], req[0], out)


def backward_deformable_convolution(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data, offset, weight) -> data_grad, offset_grad, weight_grad (, bias_grad)."""
    dy, data, offset_in, weight = inputs
    geometry, x, offset = _dcn_setup(p, data, offset_in)
    g, n = p.num_group, x.shape[0]
    dy = dy.astype(np.float64).reshape(n, g, weight.shape[0] // g, -1)
    w = grouped_weight(weight.astype(np.float64), g)
    cols = _columns(p, x, offset, geometry)
    cols = cols.reshape(n, g, -1, cols.shape[2])
    assign(outputs[2], req[2], np.einsum("ngfp,ngkp->gfk", dy, cols).reshape(weight.shape))
    if not p.no_bias:
        assign(outputs[3], req[3], dy.sum(axis=(0, 3)).reshape(-1))
    dcols = np.ascontiguousarray(np.einsum("gfk,ngfp->ngkp", w, dy).reshape(n, -1, dy.shape[3]))
    dx, doffset = np.zeros(x.shape), np.zeros(offset.shape)
    _deform_pass(x, offset, geometry, p.num_deformable_group, dcols, dcols, dx, doffset, True)
    assign(outputs[0], req[0], dx)
    assign(outputs[1], req[1], doffset)
