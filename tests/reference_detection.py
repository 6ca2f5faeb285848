"""Plain numpy/Python references of ops/detection.py's ops, written from MXNet 1.9.1's documented algorithms and
checked against its fixture (tests/test_detection.py). Loops over Python scalars: slow, small inputs only."""
import math

import numpy as np

F32 = np.float32


def multibox_prior(p, data):
    h, w = data.shape[2], data.shape[3]
    if p.steps[0] > 0 and p.steps[1] > 0:
        sy, sx = F32(p.steps[0]), F32(p.steps[1])
    else:
        sy, sx = F32(1) / F32(h), F32(1) / F32(w)
    shapes = [(s, p.ratios[0]) for s in p.sizes] + [(p.sizes[0], r) for r in p.ratios[1:]]
    out = []
    for i in range(h):
        cy = (F32(i) + F32(p.offsets[0])) * sy
        for j in range(w):
            cx = (F32(j) + F32(p.offsets[1])) * sx
            for size, ratio in shapes:
                half_w = F32(size) * F32(h) / F32(w) * np.sqrt(F32(ratio)) / F32(2)
                half_h = F32(size) / np.sqrt(F32(ratio)) / F32(2)
                out.append([cx - half_w, cy - half_h, cx + half_w, cy + half_h])
    out = np.array(out, F32).reshape(1, -1, 4)
    return np.clip(out, 0, 1) if p.clip else out


def _iou(a, b):
    iw = max(F32(0), min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(F32(0), min(a[3], b[3]) - max(a[1], b[1]))
    inter = F32(iw * ih)
    union = F32((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
    return F32(0) if union == 0 else F32(inter / union)


def multibox_target(p, anchor, label, cls_pred):
    anchors = anchor.reshape(-1, 4).astype(F32)
    n_anchors, batch = len(anchors), len(label)
    loc = np.zeros((batch, n_anchors, 4), F32)
    mask = np.zeros((batch, n_anchors, 4), F32)
    cls = np.full((batch, n_anchors), p.ignore_label, F32)
    for b in range(batch):
        gts = []
        for row in label[b]:
            if row[0] == -1:
                break
            gts.append(row.astype(F32))
        if not gts:
            continue
        iou = [[_iou(a, g[1:5]) for g in gts] for a in anchors]
        match = {}                       # anchor -> ground truth of the positives
        best = {}                        # anchor -> (its best IoU, that ground truth)
        free = set(range(len(gts)))
        while free:
            pairs = [(iou[j][k], -j, -k) for j in range(n_anchors) if j not in match for k in free]
            top = max(pairs, default=(F32(0),))
            if not top[0] > F32(1e-6):
                break
            # max() ties break toward the lowest anchor, then the lowest ground truth: MXNet's scan order
            j, k = -top[1], -top[2]
            match[j] = k
            free.discard(k)
        for j in range(n_anchors):
            if j not in match:
                k = int(np.argmax(iou[j]))       # first of the best
                best[j] = (iou[j][k], k)
                if p.overlap_threshold > 0 and iou[j][k] > F32(p.overlap_threshold):
                    match[j] = k
        negatives = [j for j in range(n_anchors) if j not in match]
        if p.negative_mining_ratio > 0:
            wanted = min(int(F32(len(match)) * F32(p.negative_mining_ratio)), n_anchors - len(match))
            scored = []
            for j in negatives:
                if best[j][0] < F32(p.negative_mining_thresh):
                    z = cls_pred[b, :, j].astype(np.float64)
                    scored.append((np.exp(z[0] - z.max()) / np.exp(z - z.max()).sum(), j))
            negatives = [j for _, j in sorted(scored)[:max(wanted, 0)]]
        for j in negatives:
            cls[b, j] = 0
        for j, k in match.items():
            g, a = gts[k], anchors[j]
            cls[b, j] = g[0] + 1
            mask[b, j] = 1
            aw, ah = a[2] - a[0], a[3] - a[1]
            gw, gh = g[3] - g[1], g[4] - g[2]
            v = p.variances
            loc[b, j] = [((g[1] + g[3]) / 2 - (a[0] + a[2]) / 2) / aw / v[0],
                         ((g[2] + g[4]) / 2 - (a[1] + a[3]) / 2) / ah / v[1],
                         math.log(gw / aw) / v[2], math.log(gh / ah) / v[3]]
    return loc.reshape(batch, -1), mask.reshape(batch, -1), cls


def _bilinear(img, y, x):
    """MXNet's ROIAlign sample: 0 beyond one pixel outside the map, clamped to the border inside that."""
    h, w = img.shape
    if y < -1 or y > h or x < -1 or x > w:
        return 0.0
    y, x = min(max(y, 0.0), h - 1), min(max(x, 0.0), w - 1)
    y0, x0 = int(y), int(x)
    y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
    ly, lx = y - y0, x - x0
    return ((1 - ly) * (1 - lx) * img[y0, x0] + (1 - ly) * lx * img[y0, x1] + ly * (1 - lx) * img[y1, x0] +
            ly * lx * img[y1, x1])


def roi_align(p, data, rois):
    ph, pw = p.pooled_size
    c_out = data.shape[1] // (ph * pw) if p.position_sensitive else data.shape[1]
    out = np.zeros((len(rois), c_out, ph, pw))
    off = 0.5 if p.aligned else 0.0
    for r, roi in enumerate(rois.astype(np.float64)):
        b = int(roi[0])
        if b < 0:
            continue
        x0, y0, x1, y1 = (v * p.spatial_scale - off for v in roi[1:])
        rw, rh = (x1 - x0, y1 - y0) if p.aligned else (max(x1 - x0, 1.0), max(y1 - y0, 1.0))
        gh = p.sample_ratio if p.sample_ratio > 0 else math.ceil(rh / ph)
        gw = p.sample_ratio if p.sample_ratio > 0 else math.ceil(rw / pw)
        for c in range(c_out):
            for i in range(ph):
                for j in range(pw):
                    src = (c * ph + i) * pw + j if p.position_sensitive else c
                    total = sum(_bilinear(data[b, src].astype(np.float64), y0 + (i + (iy + 0.5) / gh) * rh / ph,
                                          x0 + (j + (ix + 0.5) / gw) * rw / pw)
                                for iy in range(gh) for ix in range(gw))
                    out[r, c, i, j] = total / max(gh * gw, 1)
    return out.astype(data.dtype)


def psroi_pooling(p, data, rois):
    """R-FCN's position-sensitive average pooling (MXNet's GPU kernel), bin bounds in the data's dtype."""
    size, dims = p.pooled_size, p.output_dim
    group = p.group_size or size
    dt = np.float64 if data.dtype == np.float64 else np.float32
    n, _, h, w = data.shape
    out = np.zeros((len(rois), dims, size, size))
    for r, roi in enumerate(rois):
        b = int(roi[0])
        corners = [dt(math.copysign(math.floor(abs(float(v)) + 0.5), float(v))) for v in roi[1:]]
        x0, y0 = corners[0] * dt(p.spatial_scale), corners[1] * dt(p.spatial_scale)
        rw = max((corners[2] + dt(1)) * dt(p.spatial_scale) - x0, dt(0.1))
        rh = max((corners[3] + dt(1)) * dt(p.spatial_scale) - y0, dt(0.1))
        bh, bw = dt(rh / dt(size)), dt(rw / dt(size))
        for i in range(size):
            h0 = min(max(math.floor(dt(i) * bh + y0), 0), h)
            h1 = min(max(math.ceil(dt(i + 1) * bh + y0), 0), h)
            for j in range(size):
                w0 = min(max(math.floor(dt(j) * bw + x0), 0), w)
                w1 = min(max(math.ceil(dt(j + 1) * bw + x0), 0), w)
                if h1 <= h0 or w1 <= w0:
                    continue
                gi, gj = min(i * group // size, group - 1), min(j * group // size, group - 1)
                for d in range(dims):
                    c = (d * group + gi) * group + gj
                    out[r, d, i, j] = data[b, c, h0:h1, w0:w1].astype(np.float64).mean()
    return out.astype(data.dtype)


def _deform_sample(img, y, x):
    """MXNet's CPU DeformableConvolution tap: 0 outside [0, H) x [0, W), bilinear inside, clamped at the far
    border."""
    h, w = img.shape
    if not (0 <= y < h and 0 <= x < w):
        return 0.0
    y0, x0 = int(math.floor(y)), int(math.floor(x))
    if y0 >= h - 1:
        y = float(y0)
    if x0 >= w - 1:
        x = float(x0)
    y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
    ly, lx = y - y0, x - x0
    return ((1 - ly) * (1 - lx) * img[y0, x0] + (1 - ly) * lx * img[y0, x1] + ly * (1 - lx) * img[y1, x0] +
            ly * lx * img[y1, x1])


def deformable_convolution(p, data, offset, weight, bias=None):
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
                    ch = g * 2 * kh * kw + 2 * (i * kw + j)
                    taps = np.array([[_deform_sample(x[n, c], a * sh - ph + i * dh + float(offset[n, ch, a, b]),
                                                     b * sw - pw + j * dw + float(offset[n, ch + 1, a, b]))
                                      for b in range(ow)] for a in range(oh)])
                    group = c // cin
                    for f in range(group * fout, (group + 1) * fout):
                        out[n, f] += float(weight[f, c - group * cin, i, j]) * taps
    if bias is not None:
        out += bias.astype(np.float64).reshape(1, -1, 1, 1)
    return out.astype(data.dtype)
