"""CPU kernels of ops/boxes.py: box_nms, box_iou, box_encode, box_decode, bipartite_matching, MultiBoxDetection,
Proposal and MultiProposal.

Box arithmetic runs in the data's dtype (float16 in float32), in MXNet's order of operations, because an IoU
compared with a threshold decides which boxes survive: computed in float64, an IoU that float32 rounds onto the
threshold would decide differently. The three suppressing ops share one greedy NMS loop, `greedy_nms`; they differ
only in its arguments (which boxes may suppress which, `>` or `>=`, MXNet's `+1` pixel widths for Proposal).
Sorts by score are stable, so equal scores keep their input order, as MXNet's.
"""
import numpy as np
from numba import njit

from ..errors import MXNetError
from .common import assign, compute_dtype, store


# ---------------------------------------------------------------------------------------------------------------
# The shared pieces: IoU and greedy NMS
# ---------------------------------------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def greedy_nms(boxes, area, classes, thresh, inclusive, offset, max_keep, keep):
    """Greedy non-maximum suppression over corner `boxes` (n, 4) of areas `area`, in order of decreasing score.

    Box i, unless suppressed itself, suppresses every later box j of its class (float64 `classes`, equal) whose
    IoU with it exceeds `thresh` (or equals it, when `inclusive`). Intersections are `x2 - x1 + offset` wide
    (MXNet's Proposal counts pixels: offset 1), at least 0. Stops once `max_keep` (> 0) boxes are kept. Sets keep[i]
    to whether box i is kept; returns how many are. `thresh` and `offset` are scalars of the boxes' dtype."""
    n = boxes.shape[0]
    zero = thresh - thresh      # a zero of the boxes' dtype
    suppressed = np.zeros(n, np.bool_)
    keep[:] = False
    kept = 0
    for i in range(n):
        if suppressed[i]:
            continue
        keep[i] = True
        kept += 1
        if kept == max_keep:
            break
        for j in range(i + 1, n):
            if suppressed[j] or classes[i] != classes[j]:
                continue
            w = min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0]) + offset
            h = min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1]) + offset
            inter = max(w, zero) * max(h, zero)
            union = area[i] + area[j] - inter
            iou = inter / union if union > zero else zero
            if iou > thresh or (inclusive and iou == thresh):
                suppressed[j] = True
    return kept


def areas(boxes, center=False, offset=0):
    """Areas of boxes (..., 4) given in center or corner form (widths x2 - x1 + offset); 0 for a box of negative
    width or height, as MXNet's."""
    if center:
        w, h = boxes[..., 2], boxes[..., 3]
    else:
        w, h = boxes[..., 2] - boxes[..., 0] + offset, boxes[..., 3] - boxes[..., 1] + offset
    return np.where((w < 0) | (h < 0), 0, w * h).astype(boxes.dtype, copy=False)


def _corners(boxes, center):
    """Corner boxes (..., 4) from `boxes` in center ([x, y, w, h]) or corner form, in the boxes' dtype."""
    if not center:
        return boxes
    half_w, half_h = boxes[..., 2] / 2, boxes[..., 3] / 2
    return np.stack([boxes[..., 0] - half_w, boxes[..., 1] - half_h, boxes[..., 0] + half_w, boxes[..., 1] + half_h],
                    axis=-1)


def _centers(boxes):
    """[x, y, w, h] of corner boxes (..., 4)."""
    w, h = boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]
    return np.stack([(boxes[..., 0] + boxes[..., 2]) / 2, (boxes[..., 1] + boxes[..., 3]) / 2, w, h], axis=-1)


def _as_compute(x):
    return x.astype(compute_dtype(x.dtype), copy=False)


def iou_matrix(lhs, rhs, center, out=None):
    """IoU of every box of lhs (L, 4) with every one of rhs (R, 4), both in center or corner form: (L, R) (into
    `out` when given); 0 where the union is empty."""
    out = np.empty((len(lhs), len(rhs)), lhs.dtype) if out is None else out
    _iou_loops(np.ascontiguousarray(_corners(lhs, center)), np.ascontiguousarray(_corners(rhs, center)),
               areas(lhs, center), areas(rhs, center), lhs.dtype.type(0), out)
    return out


@njit(cache=True, nogil=True)
def _iou_loops(a, b, area_a, area_b, zero, out):
    for i in range(a.shape[0]):
        for j in range(b.shape[0]):
            w = max(min(a[i, 2], b[j, 2]) - max(a[i, 0], b[j, 0]), zero)
            h = max(min(a[i, 3], b[j, 3]) - max(a[i, 1], b[j, 1]), zero)
            inter = w * h
            union = area_a[i] + area_b[j] - inter
            out[i, j] = inter / union if union > zero else zero


# ---------------------------------------------------------------------------------------------------------------
# box_nms
# ---------------------------------------------------------------------------------------------------------------

def box_nms(ctx, p, inputs, outputs, req):
    """Per leading index: valid rows (score > valid_thresh, not background) by decreasing score, the first topk,
    greedy NMS; the kept rows first (coordinates in out_format), then rows of -1. `record` holds each output
    row's input row as MXNet's does, counted over all leading indices (b * N + i), -1 for the padding."""
    data = inputs[0]
    n, width = data.shape[-2], data.shape[-1]
    rows = _as_compute(data.reshape(-1, n, width))
    out = np.full(rows.shape, -1, rows.dtype)
    record = np.full(rows.shape[:2], -1, rows.dtype)
    thresh = rows.dtype.type(p.overlap_thresh)
    coords = slice(p.coord_start, p.coord_start + 4)
    use_ids = p.id_index >= 0
    for b in range(rows.shape[0]):
        batch = rows[b]
        scores = batch[:, p.score_index]
        valid = scores > rows.dtype.type(p.valid_thresh)
        if use_ids and p.background_id >= 0:
            valid &= batch[:, p.id_index] != p.background_id
        candidates = np.flatnonzero(valid)
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        if p.topk > 0:
            order = order[:p.topk]
        given = batch[order, coords]
        boxes = np.ascontiguousarray(_corners(given, p.in_format == "center"))
        if use_ids and not p.force_suppress:
            classes = batch[order, p.id_index].astype(np.float64)
        else:
            classes = np.zeros(len(order))
        keep = np.empty(len(order), np.bool_)
        greedy_nms(boxes, areas(given, p.in_format == "center"), classes, thresh, False, thresh - thresh, -1, keep)
        kept = order[keep]
        out[b, :len(kept)] = batch[kept]
        if p.in_format != p.out_format:
            corner = boxes[keep]
            out[b, :len(kept), coords] = corner if p.out_format == "corner" else _centers(corner)
        record[b, :len(kept)] = b * n + kept
    assign(outputs[0], req[0], out.reshape(outputs[0].shape))
    assign(outputs[1], req[1], record.reshape(outputs[1].shape))


def backward_box_nms(ctx, p, inputs, outputs, req):
    """The output gradient's rows scattered back to the input rows they came from (`record`); 0 elsewhere."""
    dy, record = inputs
    rows = dy.reshape(-1, dy.shape[-1])
    source = record.reshape(-1).astype(np.int64)
    kept = source >= 0
    dx = np.zeros(rows.shape, outputs[0].dtype)
    dx[source[kept]] = rows[kept]
    assign(outputs[0], req[0], dx.reshape(outputs[0].shape))


# ---------------------------------------------------------------------------------------------------------------
# box_iou, box_encode, box_decode
# ---------------------------------------------------------------------------------------------------------------

def box_iou(ctx, p, inputs, outputs, req):
    lhs, rhs = (_as_compute(x).reshape(-1, 4) for x in inputs)
    out, center = outputs[0], p.format == "center"
    if out.dtype == lhs.dtype:
        store(out, req[0], lambda dst: iou_matrix(lhs, rhs, center, dst.reshape(len(lhs), len(rhs))))
    else:
        assign(out, req[0], iou_matrix(lhs, rhs, center).reshape(out.shape))


def box_encode(ctx, p, inputs, outputs, req):
    """Targets ((g - a) / a_size - mean) / std and (log(g_size / a_size) - mean) / std of each positive sample
    (> 0.5) against its matched reference box; 0 with mask 0 for the others."""
    samples, matches, anchors, refs, means, stds = (_as_compute(x) for x in inputs)
    batch, n = samples.shape
    positive = samples > 0.5
    index = matches.astype(np.int64)
    bad = positive & ((index < 0) | (index >= refs.shape[1]))
    if bad.any():
        b, i = np.argwhere(bad)[0]
        raise MXNetError("_contrib_box_encode: matches[%d, %d] = %s is no row of refs %s"
                         % (b, i, matches[b, i], list(refs.shape)))
    matched = np.take_along_axis(refs, np.where(positive, index, 0)[..., None], axis=1)
    a, g = _centers(anchors), _centers(matched)
    with np.errstate(all="ignore"):
        targets = np.concatenate([((g[..., :2] - a[..., :2]) / a[..., 2:] - means[:2]) / stds[:2],
                                  (np.log(g[..., 2:] / a[..., 2:]) - means[2:]) / stds[2:]], axis=-1)
    mask = np.broadcast_to(positive[..., None], targets.shape)
    assign(outputs[0], req[0], np.where(mask, targets, 0))
    assign(outputs[1], req[1], mask)


def box_decode(ctx, p, inputs, outputs, req):
    """Corner boxes of the offsets `data` (B, N, 4) from anchors (1, N, 4) in `format`: center + offset * std *
    size, size * exp(offset * std) (the log-size offset clipped at `clip` when clip > 0)."""
    data, anchors = (_as_compute(x) for x in inputs)
    dt = data.dtype.type
    a = anchors[0] if p.format == "center" else _centers(anchors[0])
    std = np.array([p.std0, p.std1, p.std2, p.std3], data.dtype)
    x = data[..., 0] * std[0] * a[:, 2] + a[:, 0]
    y = data[..., 1] * std[1] * a[:, 3] + a[:, 1]
    dw, dh = data[..., 2] * std[2], data[..., 3] * std[3]
    if p.clip > 0:
        dw, dh = np.minimum(dw, dt(p.clip)), np.minimum(dh, dt(p.clip))
    with np.errstate(all="ignore"):
        half_w, half_h = np.exp(dw) * a[:, 2] / 2, np.exp(dh) * a[:, 3] / 2
    assign(outputs[0], req[0], np.stack([x - half_w, y - half_h, x + half_w, y + half_h], axis=-1))


# ---------------------------------------------------------------------------------------------------------------
# bipartite_matching
# ---------------------------------------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _match(scores, order, threshold, ascend, topk, row_match, col_match):
    """Greedy matching of one (N, M) score matrix along `order` (its flat positions sorted best first): a pair is
    matched when its row and column are free and its score passes the threshold. MXNet stops once more than topk
    pairs are matched, so topk > 0 keeps topk + 1 matches."""
    m = scores.shape[1]
    row_match[:] = -1
    col_match[:] = -1
    count = 0
    for k in order:
        i, j = k // m, k % m
        score = scores[i, j]
        if not (score < threshold if ascend else score > threshold):
            break
        if row_match[i] == -1 and col_match[j] == -1:
            row_match[i] = j
            col_match[j] = i
            count += 1
            if topk > 0 and count > topk:
                break


def bipartite_matching(ctx, p, inputs, outputs, req):
    data = _as_compute(inputs[0])
    n, m = data.shape[-2], data.shape[-1]
    scores = data.reshape(-1, n, m)
    rows = np.empty((scores.shape[0], n), np.int64)
    cols = np.empty((scores.shape[0], m), np.int64)
    threshold = data.dtype.type(p.threshold)
    for b in range(scores.shape[0]):
        flat = scores[b].ravel()
        order = np.argsort(flat if p.is_ascend else -flat, kind="stable")
        _match(scores[b], order, threshold, p.is_ascend, p.topk, rows[b], cols[b])
    assign(outputs[0], req[0], rows.reshape(outputs[0].shape))
    assign(outputs[1], req[1], cols.reshape(outputs[1].shape))


# ---------------------------------------------------------------------------------------------------------------
# MultiBoxDetection
# ---------------------------------------------------------------------------------------------------------------

def _decode_multibox(loc, anchors, variances, clip):
    """Corner boxes (B, A, 4) from SSD's offsets loc (B, A, 4) of corner anchors (A, 4), clipped to [0, 1]."""
    v = np.array(variances, loc.dtype)
    w, h = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    cx, cy = (anchors[:, 0] + anchors[:, 2]) / 2, (anchors[:, 1] + anchors[:, 3]) / 2
    x, y = loc[..., 0] * v[0] * w + cx, loc[..., 1] * v[1] * h + cy
    with np.errstate(all="ignore"):
        half_w, half_h = np.exp(loc[..., 2] * v[2]) * w / 2, np.exp(loc[..., 3] * v[3]) * h / 2
    boxes = np.stack([x - half_w, y - half_h, x + half_w, y + half_h], axis=-1)
    return np.clip(boxes, 0, 1) if clip else boxes


def multibox_detection(ctx, p, inputs, outputs, req):
    """Rows [class, score, x1, y1, x2, y2] per anchor: each anchor's best class after the background class 0
    (MXNet 1.9.1 skips class 0 whatever `background_id` says), kept when its score >= threshold; by decreasing
    score, the first nms_topk, then NMS (IoU >= nms_threshold) marks the suppressed rows' class -1. Rows of
    anchors below the threshold are -1."""
    cls, loc, anchors = (_as_compute(x) for x in inputs)
    batch, classes, n = cls.shape
    dt = cls.dtype.type
    out = np.full((batch, n, 6), -1, cls.dtype)
    boxes = _decode_multibox(loc.reshape(batch, n, 4), anchors.reshape(n, 4), p.variances, p.clip)
    anchor_index = np.arange(n)
    for b in range(batch):
        if classes < 2:
            break
        ids = np.argmax(cls[b, 1:], axis=0)             # the first of equal maxima, as MXNet's strict `>`
        scores = cls[b, 1 + ids, anchor_index]
        valid = np.flatnonzero(scores >= dt(p.threshold))
        order = valid[np.argsort(-scores[valid], kind="stable")]
        if 0 < p.nms_topk < len(order):
            order = order[:p.nms_topk]
            # MXNet gathers the valid rows in anchor order into the output, then writes the sorted top k over the
            # first rows: the rows after them keep the k-th valid anchor's score and box, with class -1
            rest = valid[len(order):]
            out[b, len(order):len(valid), 1], out[b, len(order):len(valid), 2:] = scores[rest], boxes[b, rest]
        rows = out[b, :len(order)]
        rows[:, 0], rows[:, 1], rows[:, 2:] = ids[order], scores[order], boxes[b, order]
        same_class = np.zeros(len(order)) if p.force_suppress else ids[order].astype(np.float64)
        keep = np.empty(len(order), np.bool_)
        thresh = dt(p.nms_threshold)
        boxes_b = np.ascontiguousarray(rows[:, 2:])
        greedy_nms(boxes_b, areas(boxes_b), same_class, thresh, True, thresh - thresh, -1, keep)
        rows[~keep, 0] = -1
    assign(outputs[0], req[0], out)


# ---------------------------------------------------------------------------------------------------------------
# Proposal, MultiProposal
# ---------------------------------------------------------------------------------------------------------------

_F32 = np.float32


def proposal_anchors(stride, ratios, scales):
    """Faster R-CNN's anchors (len(ratios) * len(scales), 4) around the base box [0, 0, stride - 1, stride - 1],
    ratios outer, scales inner, in float32 as MXNet computes them."""
    size = _F32(stride) * _F32(stride)
    center = _F32(0.5) * (_F32(stride) - _F32(1))
    out = []
    for ratio in ratios:
        for scale in scales:
            w = np.floor(np.sqrt(np.floor(size / _F32(ratio))) + _F32(0.5)) * _F32(scale)
            h = np.floor(w / _F32(scale) * _F32(ratio) + _F32(0.5)) * _F32(scale)
            half_w, half_h = _F32(0.5) * (w - _F32(1)), _F32(0.5) * (h - _F32(1))
            out.append([center - half_w, center - half_h, center + half_w, center + half_h])
    return np.array(out, _F32)


def _proposals(p, scores, deltas, im_info, anchors):
    """(boxes (H * W * A, 4), scores) of one image: shifted anchors moved by the deltas (A * 4, H, W) and clipped to
    the image; positions outside the image's feature map and boxes under rpn_min_size score -1."""
    a = anchors.shape[0]
    height, width = scores.shape[1:]
    stride = _F32(p.feature_stride)
    sy, sx = np.meshgrid(np.arange(height, dtype=_F32) * stride, np.arange(width, dtype=_F32) * stride,
                         indexing="ij")
    shift = np.stack([sx, sy, sx, sy], axis=-1)[:, :, None, :]           # (H, W, 1, 4)
    boxes = (anchors[None, None] + shift).reshape(-1, 4)                  # index (h * W + w) * A + anchor
    d = deltas.reshape(a, 4, height, width).transpose(2, 3, 0, 1).reshape(-1, 4)
    score = scores[a:].transpose(1, 2, 0).reshape(-1).copy()
    im_h, im_w, im_scale = (_F32(v) for v in im_info)
    one, half = _F32(1), _F32(0.5)
    if p.iou_loss:
        moved = boxes + d
    else:
        w, h = boxes[:, 2] - boxes[:, 0] + one, boxes[:, 3] - boxes[:, 1] + one
        cx, cy = boxes[:, 0] + half * (w - one), boxes[:, 1] + half * (h - one)
        px, py = d[:, 0] * w + cx, d[:, 1] * h + cy
        with np.errstate(all="ignore"):
            pw, ph = np.exp(d[:, 2]) * w, np.exp(d[:, 3]) * h
        moved = np.stack([px - half * (pw - one), py - half * (ph - one), px + half * (pw - one),
                          py + half * (ph - one)], axis=-1)
    limit = np.array([im_w, im_h, im_w, im_h], _F32) - one
    moved = np.maximum(np.minimum(moved, limit), _F32(0))
    real_h, real_w = int(im_h / stride), int(im_w / stride)
    outside = np.zeros((height, width, a), np.bool_)
    outside[real_h:] = True
    outside[:, real_w:] = True
    score[outside.reshape(-1)] = -1
    min_size = _F32(p.rpn_min_size) * im_scale
    small = ((moved[:, 2] - moved[:, 0] + one) < min_size) | ((moved[:, 3] - moved[:, 1] + one) < min_size)
    moved[small] += np.array([-1, -1, 1, 1], _F32) * (min_size / _F32(2))
    score[small] = -1
    return moved, score


def _propose(p, cls, bbox, im_info, rois, out_scores, batch_index):
    """Fill rois (post, 5) and out_scores (post, 1) for one image: the best rpn_pre_nms_top_n boxes, NMS (IoU >
    threshold, pixel widths), up to rpn_post_nms_top_n kept boxes, repeated cyclically when fewer survive."""
    anchors = proposal_anchors(p.feature_stride, p.ratios, p.scales)
    boxes, score = _proposals(p, cls, bbox, im_info, anchors)
    count = len(score)
    pre = min(p.rpn_pre_nms_top_n if p.rpn_pre_nms_top_n > 0 else count, count)
    post = min(p.rpn_post_nms_top_n, pre)
    order = np.argsort(-score, kind="stable")[:pre]
    keep = np.empty(len(order), np.bool_)
    ordered = np.ascontiguousarray(boxes[order])
    greedy_nms(ordered, areas(ordered, offset=_F32(1)), np.zeros(len(order)), _F32(p.threshold), False,
               _F32(1), post, keep)
    kept = order[keep]
    picks = kept[np.arange(rois.shape[0]) % len(kept)]
    rois[:, 0] = batch_index
    rois[:, 1:] = boxes[picks]
    out_scores[:, 0] = score[picks]


def proposal(ctx, p, inputs, outputs, req):
    """Proposal (one image) and MultiProposal (a batch): rois [image index, x1, y1, x2, y2] and their scores,
    rpn_post_nms_top_n per image."""
    cls, bbox, im_info = (x.astype(_F32, copy=False) for x in inputs)
    post = p.rpn_post_nms_top_n
    rois = np.empty((cls.shape[0] * post, 5), _F32)
    scores = np.empty((cls.shape[0] * post, 1), _F32)
    for b in range(cls.shape[0]):
        _propose(p, cls[b], bbox[b], im_info[b], rois[b * post:(b + 1) * post], scores[b * post:(b + 1) * post], b)
    assign(outputs[0], req[0], rois)
    assign(outputs[1], req[1], scores)
