"""Plain-loop references for ops/boxes.py (tests only): box_nms, box_iou, box_encode, box_decode,
bipartite_matching, MultiBoxDetection, Proposal/MultiProposal.

Written from MXNet 1.9.1's definitions as ops/boxes.py's docstring states them (the exact numbers are checked
against MXNet's fixtures in tests/test_boxes.py): Python loops in float64, rounded to the data's dtype once. The
samplers in tests/specs_boxes.py keep coordinates on a dyadic grid and thresholds dyadic, so that float32 and
float64 agree on every IoU comparison. Tiny shapes only.
"""
import math

import numpy as np


def _as_param(value, dtype):
    """A float param as the kernels compare it: in the data's dtype (float16 data computes in float32)."""
    return float(np.float64(value) if np.dtype(dtype) == np.float64 else np.float32(value))


def _corner(box, center):
    x0, y0, x1, y1 = (float(v) for v in box)
    if center:
        return x0 - x1 / 2, y0 - y1 / 2, x0 + x1 / 2, y0 + y1 / 2
    return x0, y0, x1, y1


def _area(box, center, offset=0.0):
    w, h = (float(box[2]), float(box[3])) if center else (box[2] - box[0] + offset, box[3] - box[1] + offset)
    return 0.0 if w < 0 or h < 0 else w * h


def iou(a, b, center=False, offset=0.0):
    """IoU of two boxes (4 numbers each) in center or corner form; 0 for an empty union."""
    ca, cb = _corner(a, center), _corner(b, center)
    w = max(min(ca[2], cb[2]) - max(ca[0], cb[0]) + offset, 0.0)
    h = max(min(ca[3], cb[3]) - max(ca[1], cb[1]) + offset, 0.0)
    inter = w * h
    union = _area(a, center, offset) + _area(b, center, offset) - inter
    return inter / union if union > 0 else 0.0


def _greedy(boxes, order, thresh, same, inclusive=False, center=False, offset=0.0, max_keep=0):
    """The indices of `order` kept by greedy NMS: each survives unless an earlier survivor of its class (`same`)
    overlaps it by more than thresh (or as much, when inclusive)."""
    kept = []
    for i in order:
        if max_keep and len(kept) == max_keep:
            break
        overlaps = [iou(boxes[i], boxes[j], center, offset) for j in kept if same(i, j)]
        if any(o > thresh or (inclusive and o == thresh) for o in overlaps):
            continue
        kept.append(i)
    return kept


def _nms_kept(p, batch, dtype):
    """The rows of one (N, K) batch that box_nms keeps, in output order."""
    def valid(i):
        background = p.id_index >= 0 and p.background_id >= 0 and batch[i, p.id_index] == p.background_id
        return batch[i, p.score_index] > _as_param(p.valid_thresh, dtype) and not background

    def same(i, j):
        return p.id_index < 0 or p.force_suppress or batch[i, p.id_index] == batch[j, p.id_index]
    order = sorted((i for i in range(len(batch)) if valid(i)), key=lambda i: -batch[i, p.score_index])
    if p.topk > 0:
        order = order[:p.topk]
    coords = batch[:, p.coord_start:p.coord_start + 4]
    return _greedy(coords, order, _as_param(p.overlap_thresh, dtype), same, center=p.in_format == "center")


def box_nms(p, data):
    n, width = data.shape[-2:]
    rows = data.astype(np.float64).reshape(-1, n, width)
    out = -np.ones(rows.shape)
    record = -np.ones(rows.shape[:2] + (1,))
    c = slice(p.coord_start, p.coord_start + 4)
    center = p.in_format == "center"
    for b, batch in enumerate(rows):
        for k, i in enumerate(_nms_kept(p, batch, data.dtype)):
            out[b, k] = batch[i]
            corner = _corner(batch[i, c], center)
            if p.out_format == "corner":
                out[b, k, c] = corner
            elif not center:
                x0, y0, x1, y1 = corner
                out[b, k, c] = ((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0)
            record[b, k] = b * n + i           # the input row counted over all leading indices, as MXNet's
    return out.reshape(data.shape).astype(data.dtype), record.reshape(data.shape[:-1] + (1,)).astype(data.dtype)


def backward_box_nms(dy, record):
    """Row k of the output gradient goes to input row record[k], counted over all leading indices (none for -1)."""
    grads = dy.reshape(-1, dy.shape[-1])
    dx = np.zeros(grads.shape)
    for k, row in enumerate(record.reshape(-1)):
        if row >= 0:
            dx[int(row)] = grads[k]
    return dx.reshape(dy.shape).astype(dy.dtype)


def box_iou(p, lhs, rhs):
    a, b = lhs.reshape(-1, 4), rhs.reshape(-1, 4)
    out = np.array([[iou(x, y, p.format == "center") for y in b] for x in a]).reshape(lhs.shape[:-1] + rhs.shape[:-1])
    return out.astype(lhs.dtype)


def _center(box):
    x0, y0, x1, y1 = (float(v) for v in box)
    return (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0


def box_encode(p, samples, matches, anchors, refs, means, stds):
    targets = np.zeros(anchors.shape)
    masks = np.zeros(anchors.shape)
    for b in range(samples.shape[0]):
        for i in range(samples.shape[1]):
            if samples[b, i] <= 0.5:
                continue
            ax, ay, aw, ah = _center(anchors[b, i])
            gx, gy, gw, gh = _center(refs[b, int(matches[b, i])])
            raw = ((gx - ax) / aw, (gy - ay) / ah, math.log(gw / aw), math.log(gh / ah))
            targets[b, i] = [(r - m) / s for r, m, s in zip(raw, means.astype(np.float64), stds.astype(np.float64))]
            masks[b, i] = 1
    return targets.astype(anchors.dtype), masks.astype(anchors.dtype)


def box_decode(p, data, anchors):
    out = np.zeros(data.shape)
    std = (p.std0, p.std1, p.std2, p.std3)
    for b in range(data.shape[0]):
        for i in range(data.shape[1]):
            a = anchors[0, i].astype(np.float64)
            ax, ay, aw, ah = a if p.format == "center" else _center(a)
            d = [float(v) * s for v, s in zip(data[b, i], std)]
            dw, dh = (min(d[2], p.clip), min(d[3], p.clip)) if p.clip > 0 else (d[2], d[3])
            x, y = d[0] * aw + ax, d[1] * ah + ay
            hw, hh = math.exp(dw) * aw / 2, math.exp(dh) * ah / 2
            out[b, i] = (x - hw, y - hh, x + hw, y + hh)
    return out.astype(data.dtype)


def bipartite_matching(p, data):
    n, m = data.shape[-2:]
    scores = data.astype(np.float64).reshape(-1, n, m)
    rows = -np.ones(scores.shape[:2])
    cols = -np.ones((scores.shape[0], m))
    threshold = _as_param(p.threshold, data.dtype)
    for b, s in enumerate(scores):
        pairs = sorted(((i, j) for i in range(n) for j in range(m)), key=lambda ij: s[ij] if p.is_ascend else -s[ij])
        count = 0
        for i, j in pairs:
            if (s[i, j] >= threshold) if p.is_ascend else (s[i, j] <= threshold):
                break
            if rows[b, i] < 0 and cols[b, j] < 0:
                rows[b, i], cols[b, j] = j, i
                count += 1
                if 0 < p.topk < count:       # MXNet stops after topk + 1 matches
                    break
    return rows.reshape(data.shape[:-1]).astype(data.dtype), cols.reshape(data.shape[:-2] + (m,)).astype(data.dtype)


def multibox_detection(p, cls_prob, loc_pred, anchor):
    batch, classes, n = cls_prob.shape
    out = -np.ones((batch, n, 6))
    v = p.variances
    for b in range(batch):
        valid = []                                   # (anchor, class, score, box) in anchor order
        for i in range(n):
            probs = [float(cls_prob[b, c, i]) for c in range(1, classes)]
            if not probs:
                continue
            best = max(range(len(probs)), key=lambda c: (probs[c], -c))
            if probs[best] < _as_param(p.threshold, cls_prob.dtype):
                continue
            al, at, ar, ab = (float(t) for t in anchor[0, i])
            aw, ah = ar - al, ab - at
            lx, ly, lw, lh = (float(t) for t in loc_pred[b, 4 * i:4 * i + 4])
            x, y = lx * v[0] * aw + (al + ar) / 2, ly * v[1] * ah + (at + ab) / 2
            hw, hh = math.exp(lw * v[2]) * aw / 2, math.exp(lh * v[3]) * ah / 2
            box = [x - hw, y - hh, x + hw, y + hh]
            if p.clip:
                box = [min(max(t, 0.0), 1.0) for t in box]
            valid.append((best, probs[best], box))
        order = sorted(range(len(valid)), key=lambda k: -valid[k][1])
        if 0 < p.nms_topk < len(order):
            order = order[:p.nms_topk]
        for k in range(len(order), len(valid)):         # MXNet's leftovers: the k-th valid anchor, class -1
            out[b, k] = [-1, valid[k][1]] + valid[k][2]
        boxes, ids = [valid[k][2] for k in order], [valid[k][0] for k in order]
        kept = set(_greedy(boxes, range(len(order)), _as_param(p.nms_threshold, cls_prob.dtype),
                           lambda i, j, ids=ids: p.force_suppress or ids[i] == ids[j], inclusive=True))
        for r, k in enumerate(order):
            out[b, r] = [valid[k][0] if r in kept else -1, valid[k][1]] + valid[k][2]
    return out.astype(cls_prob.dtype)


def _anchors(p):
    stride = p.feature_stride
    size, center = stride * stride, 0.5 * (stride - 1)
    out = []
    for ratio in p.ratios:
        for scale in p.scales:
            w = math.floor(math.sqrt(math.floor(size / ratio)) + 0.5) * scale
            h = math.floor(w / scale * ratio + 0.5) * scale
            out.append([center - 0.5 * (w - 1), center - 0.5 * (h - 1), center + 0.5 * (w - 1), center + 0.5 * (h - 1)])
    return out


def proposal(p, cls_prob, bbox_pred, im_info):
    anchors = _anchors(p)
    na = len(anchors)
    batch, _, height, width = cls_prob.shape
    post = p.rpn_post_nms_top_n
    rois, scores = np.zeros((batch * post, 5)), np.zeros((batch * post, 1))
    for b in range(batch):
        im_h, im_w, scale = (float(t) for t in im_info[b])
        min_size = p.rpn_min_size * scale
        boxes, score = [], []
        for h in range(height):
            for w in range(width):
                for a in range(na):
                    box = [anchors[a][k] + (w if k % 2 == 0 else h) * p.feature_stride for k in range(4)]
                    d = [float(bbox_pred[b, 4 * a + k, h, w]) for k in range(4)]
                    if p.iou_loss:
                        box = [box[k] + d[k] for k in range(4)]
                    else:
                        bw, bh = box[2] - box[0] + 1, box[3] - box[1] + 1
                        cx, cy = box[0] + 0.5 * (bw - 1) + d[0] * bw, box[1] + 0.5 * (bh - 1) + d[1] * bh
                        pw, ph = math.exp(d[2]) * bw, math.exp(d[3]) * bh
                        box = [cx - 0.5 * (pw - 1), cy - 0.5 * (ph - 1), cx + 0.5 * (pw - 1), cy + 0.5 * (ph - 1)]
                    box = [max(min(t, (im_w if k % 2 == 0 else im_h) - 1), 0.0) for k, t in enumerate(box)]
                    s = float(cls_prob[b, na + a, h, w])
                    if h >= int(im_h / p.feature_stride) or w >= int(im_w / p.feature_stride):
                        s = -1.0
                    if box[2] - box[0] + 1 < min_size or box[3] - box[1] + 1 < min_size:
                        box = [t + (min_size / 2 if k >= 2 else -min_size / 2) for k, t in enumerate(box)]
                        s = -1.0
                    boxes.append(box)
                    score.append(s)
        count = len(score)
        pre = min(p.rpn_pre_nms_top_n if p.rpn_pre_nms_top_n > 0 else count, count)
        order = sorted(range(count), key=lambda i: -score[i])[:pre]
        kept = _greedy(boxes, order, _as_param(p.threshold, np.float32), lambda i, j: True, offset=1.0,
                       max_keep=min(post, pre))
        for r in range(post):
            i = kept[r % len(kept)]
            rois[b * post + r] = [b] + boxes[i]
            scores[b * post + r] = score[i]
    return rois.astype(cls_prob.dtype), scores.astype(cls_prob.dtype)
