"""CUDA kernels of ops/boxes.py: box_iou, box_encode and box_decode, one thread per output box (pair), with the
CPU kernels' arithmetic (ops/cpu/boxes.py) in the compute dtype (float16 in float32); box_nms's backward, one
thread per gradient element scattered by the forward's record.

box_nms and MultiBoxDetection: one thread block per image (leading index) runs the CPU kernel's steps with the
block-wide pieces of `_sorting_pieces`: the threads rank the valid rows by decreasing score (a row's rank counts
the rows of greater score and the equal ones before it: the CPU's stable order, O(n^2 / threads)), then run the
greedy loop one kept box at a time, the block's threads suppressing the later candidates in parallel between two
syncthreads. Their IoU is box_iou's device function (`_box_pieces`), whose products are rounded as the CPU's (no
fused multiply-add), since an IoU is compared with a threshold: box_nms gives the CPU's outputs bit for bit.
MultiBoxDetection first decodes its boxes one thread per anchor; the GPU's exp may round an ulp away from numpy's.

The other ops that sort and match or suppress (bipartite_matching, Proposal, MultiProposal) run through the host
(`WITHOUT`).
"""
import math

import numpy as np
from numba import cuda, types
from numba.cuda import libdevice

from ..errors import MXNetError
from . import storage as gpu_storage
from .common import as_compute, copy_into, declare, empty, fill, flat, in_compute_dtype, launch, stream, SIMULATOR


def _exact_product(dt):
    """a * b of dtype dt rounded once. NVVM fuses a product into a neighbouring add or subtract by default (an FMA,
    rounded once instead of twice), and an IoU compared with a threshold must round as the CPU's does; libdevice's
    `_rn` products are never fused. The simulator has no libdevice: there a plain product (numpy's, rounded once)."""
    if SIMULATOR:
        return _plain_product
    return libdevice.fmul_rn if dt == types.float32 else libdevice.dmul_rn


@cuda.jit(device=True)
def _plain_product(a, b):
    return a * b


def _box_pieces(dt):
    """The device functions of the box arithmetic in dtype dt (float32 or float64), with ops/cpu/boxes.py's
    operations and roundings: corners of a box, its area, the IoU of two boxes."""
    mul = _exact_product(dt)
    zero, two = dt(0), dt(2)

    @cuda.jit(device=True)
    def corner(b, k, center):
        """Corners (x1, y1, x2, y2) of the box at b[k:k + 4], given in center or corner form."""
        x, y, z, w = b[k], b[k + 1], b[k + 2], b[k + 3]
        if center:
            return x - z / two, y - w / two, x + z / two, y + w / two
        return x, y, z, w

    @cuda.jit(device=True)
    def area(b, k, center):
        """Area of the box at b[k:k + 4]; 0 for a negative width or height."""
        if center:
            w, h = b[k + 2], b[k + 3]
        else:
            w, h = b[k + 2] - b[k], b[k + 3] - b[k + 1]
        return zero if (w < zero or h < zero) else mul(w, h)

    @cuda.jit(device=True)
    def iou(a0, a1, a2, a3, area_a, b0, b1, b2, b3, area_b, zero):
        """IoU of corner boxes a and b of areas area_a and area_b; `zero` when the union is empty (box_iou passes
        0, box_nms thresh - thresh, as their CPU kernels)."""
        w = max(min(a2, b2) - max(a0, b0), zero)
        h = max(min(a3, b3) - max(a1, b1), zero)
        inter = mul(w, h)
        union = area_a + area_b - inter
        return inter / union if union > zero else zero

    return corner, area, iou, two


def _iou_kernel_for(dt):
    corner, area, iou, _ = _box_pieces(dt)

    @cuda.jit
    def iou_kernel(out, lhs, rhs, n_rhs, center, zero, total):
        # one thread per (lhs box, rhs box)
        t = cuda.grid(1)
        step = cuda.gridsize(1)
        while t < total:
            i = t // n_rhs
            j = t - i * n_rhs
            a0, a1, a2, a3 = corner(lhs, 4 * i, center)
            b0, b1, b2, b3 = corner(rhs, 4 * j, center)
            out[t] = iou(a0, a1, a2, a3, area(lhs, 4 * i, center), b0, b1, b2, b3, area(rhs, 4 * j, center), zero)
            t += step
    return iou_kernel


def _sorting_pieces(dt):
    """The block-wide device functions of the suppressing ops (called by every thread of a block, on the rows
    base .. base + n - 1 of flat scratch arrays): a stable sort by score and the greedy NMS loop."""
    _, _, iou, _ = _box_pieces(dt)

    @cuda.jit(device=True)
    def rank_by_score(score, valid, base, n, order, tid, threads):
        """order[base + r] = the r-th of the valid rows (valid[base + i] != 0) by decreasing score, equal scores
        in row order (the CPU's stable sort): a row's rank counts the valid rows of greater score and those of
        equal score before it. Returns the number of valid rows; order is complete after the next syncthreads."""
        i = tid
        while i < n:
            if valid[base + i]:
                s = score[base + i]
                rank = 0
                for j in range(n):
                    if valid[base + j]:
                        t = score[base + j]
                        if t > s or (t == s and j < i):
                            rank += 1
                order[base + rank] = i
            i += threads
        count = 0
        for j in range(n):
            if valid[base + j]:
                count += 1
        return count

    @cuda.jit(device=True)
    def greedy_nms(corners, areas, classes, by_class, thresh, inclusive, suppressed, kept_at, base, m, tid,
                   threads):
        """ops/cpu/boxes.py's greedy_nms over the m candidates in sorted position (corners, areas, classes;
        suppressed 0 beforehand): each kept candidate, one at a time, suppresses the later ones of its class
        (any class unless by_class) whose IoU exceeds thresh (or equals it, when inclusive), the block's threads
        taking them in parallel. Thread 0 lists the kept positions in kept_at; returns how many are kept."""
        zero = thresh - thresh
        kept = 0
        for i in range(m):
            if suppressed[base + i] == 0:                # the same for every thread: written before the last sync
                if tid == 0:
                    kept_at[base + kept] = i
                kept += 1
                c = 4 * (base + i)
                a0, a1, a2, a3 = corners[c], corners[c + 1], corners[c + 2], corners[c + 3]
                j = i + 1 + tid
                while j < m:
                    if suppressed[base + j] == 0 and (not by_class or classes[base + j] == classes[base + i]):
                        d = 4 * (base + j)
                        v = iou(a0, a1, a2, a3, areas[base + i], corners[d], corners[d + 1], corners[d + 2],
                                corners[d + 3], areas[base + j], zero)
                        if v > thresh or (inclusive and v == thresh):
                            suppressed[base + j] = 1
                    j += threads
            cuda.syncthreads()
        return kept

    return rank_by_score, greedy_nms


def _nms_kernel_for(dt):
    corner, area, _, two = _box_pieces(dt)
    rank_by_score, greedy_nms = _sorting_pieces(dt)

    @cuda.jit
    def nms_kernel(out, record, data, s, valid, order, suppressed, kept_at, corners, areas, classes, batch, n,
                   width, coord_start, score_index, id_index, by_class, use_background, background, valid_thresh,
                   thresh, topk, center_in, convert, center_out):
        # one block per batch item; from `s` on, scratch arrays of n (corners: 4 n) per batch item
        tid = cuda.threadIdx.x
        threads = cuda.blockDim.x
        b = cuda.blockIdx.x
        while b < batch:
            base = b * n
            i = tid
            while i < n:
                row = (base + i) * width
                s[base + i] = data[row + score_index]
                valid[base + i] = s[base + i] > valid_thresh and not (use_background
                                                                       and data[row + id_index] == background)
                i += threads
            cuda.syncthreads()
            m = rank_by_score(s, valid, base, n, order, tid, threads)
            if 0 < topk < m:
                m = topk
            cuda.syncthreads()
            k = tid
            while k < m:
                row = (base + order[base + k]) * width
                x1, y1, x2, y2 = corner(data, row + coord_start, center_in)
                corners[4 * (base + k)], corners[4 * (base + k) + 1] = x1, y1
                corners[4 * (base + k) + 2], corners[4 * (base + k) + 3] = x2, y2
                areas[base + k] = area(data, row + coord_start, center_in)
                classes[base + k] = data[row + id_index]
                suppressed[base + k] = 0
                k += threads
            cuda.syncthreads()
            kept = greedy_nms(corners, areas, classes, by_class, thresh, False, suppressed, kept_at, base, m, tid,
                              threads)
            # the kept rows (coordinates converted when the formats differ), then rows of -1
            r = tid
            while r < n:
                o = (base + r) * width
                if r < kept:
                    k = kept_at[base + r]
                    src = order[base + k]
                    for col in range(width):
                        out[o + col] = data[(base + src) * width + col]
                    if convert:
                        c = 4 * (base + k)
                        x1, y1, x2, y2 = corners[c], corners[c + 1], corners[c + 2], corners[c + 3]
                        o += coord_start
                        if center_out:
                            out[o], out[o + 1] = (x1 + x2) / two, (y1 + y2) / two
                            out[o + 2], out[o + 3] = x2 - x1, y2 - y1
                        else:
                            out[o], out[o + 1], out[o + 2], out[o + 3] = x1, y1, x2, y2
                    record[base + r] = base + src
                else:
                    for col in range(width):
                        out[o + col] = -1
                    record[base + r] = -1
                r += threads
            cuda.syncthreads()                           # before the next batch item's scratch is written
            b += cuda.gridDim.x
    return nms_kernel


def _detection_kernels_for(dt):
    """MultiBoxDetection: `decode` (one thread per anchor of each image: its best class after the background 0,
    score, validity, decoded box) and `detect` (one block per image: sort, nms_topk, NMS, the output rows)."""
    _, area, _, two = _box_pieces(dt)
    rank_by_score, greedy_nms = _sorting_pieces(dt)
    mul = _exact_product(dt)
    zero, one = dt(0), dt(1)

    @cuda.jit(device=True)
    def clipped(v, clip):
        if clip:
            if v < zero:
                return zero
            if v > one:
                return one
        return v                                         # NaN stays NaN, as np.clip's

    @cuda.jit
    def decode(ids, s, valid, boxes, cls, loc, anchors, classes, n, v0, v1, v2, v3, clip, threshold, total):
        t = cuda.grid(1)
        step = cuda.gridsize(1)
        while t < total:
            b = t // n
            i = t - b * n
            # numpy's argmax over the classes after 0: the first maximum, or the first NaN if any
            best, score = 0, cls[(b * classes + 1) * n + i]
            for c in range(2, classes):
                v = cls[(b * classes + c) * n + i]
                if score == score and (v > score or v != v):
                    best, score = c - 1, v
            ids[t], s[t] = best, score
            valid[t] = score >= threshold
            a0, a1, a2, a3 = anchors[4 * i], anchors[4 * i + 1], anchors[4 * i + 2], anchors[4 * i + 3]
            w, h = a2 - a0, a3 - a1
            x = mul(mul(loc[4 * t], v0), w) + (a0 + a2) / two
            y = mul(mul(loc[4 * t + 1], v1), h) + (a1 + a3) / two
            half_w = mul(math.exp(mul(loc[4 * t + 2], v2)), w) / two
            half_h = mul(math.exp(mul(loc[4 * t + 3], v3)), h) / two
            boxes[4 * t], boxes[4 * t + 1] = clipped(x - half_w, clip), clipped(y - half_h, clip)
            boxes[4 * t + 2], boxes[4 * t + 3] = clipped(x + half_w, clip), clipped(y + half_h, clip)
            t += step

    @cuda.jit
    def detect(out, ids, s, valid, boxes, order, suppressed, kept_at, corners, areas, sorted_ids, batch, n,
               by_class, thresh, topk):
        tid = cuda.threadIdx.x
        threads = cuda.blockDim.x
        b = cuda.blockIdx.x
        while b < batch:
            base = b * n
            count = rank_by_score(s, valid, base, n, order, tid, threads)
            m = topk if 0 < topk < count else count
            cuda.syncthreads()
            k = tid
            while k < m:
                src, dst = 4 * (base + order[base + k]), 4 * (base + k)
                for c in range(4):
                    corners[dst + c] = boxes[src + c]
                areas[base + k] = area(corners, dst, False)
                sorted_ids[base + k] = ids[base + order[base + k]] if by_class else zero
                suppressed[base + k] = 0
                k += threads
            cuda.syncthreads()
            greedy_nms(corners, areas, sorted_ids, by_class, thresh, True, suppressed, kept_at, base, m, tid,
                       threads)
            # rows: the m candidates by score (class -1 when suppressed); MXNet's leftovers after nms_topk (the
            # valid anchors from the m-th on, in anchor order, class -1); then rows of -1
            r = tid
            while r < n:
                o = 6 * (base + r)
                for col in range(6):
                    out[o + col] = -1
                src = -1
                if r < m:
                    src = order[base + r]
                    if suppressed[base + r] == 0:
                        out[o] = ids[base + src]
                elif r < count:
                    seen = 0
                    for j in range(n):
                        if valid[base + j]:
                            if seen == r:
                                src = j
                                break
                            seen += 1
                if src >= 0:
                    out[o + 1] = s[base + src]
                    for c in range(4):
                        out[o + 2 + c] = boxes[4 * (base + src) + c]
                r += threads
            cuda.syncthreads()
            b += cuda.gridDim.x
    return decode, detect


@cuda.jit
def _encode_kernel(targets, masks, samples, matches, anchors, refs, means, stds, n, m, total):
    # one thread per (image, anchor): targets and mask of its 4 coordinates
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        b = t // n
        positive = samples[t] > 0.5
        for c in range(4):
            targets[4 * t + c] = 0
            masks[4 * t + c] = 1 if positive else 0
        if positive:
            g = b * m + int(matches[t])
            aw, ah = anchors[4 * t + 2] - anchors[4 * t], anchors[4 * t + 3] - anchors[4 * t + 1]
            gw, gh = refs[4 * g + 2] - refs[4 * g], refs[4 * g + 3] - refs[4 * g + 1]
            ax, ay = (anchors[4 * t] + anchors[4 * t + 2]) / 2, (anchors[4 * t + 1] + anchors[4 * t + 3]) / 2
            gx, gy = (refs[4 * g] + refs[4 * g + 2]) / 2, (refs[4 * g + 1] + refs[4 * g + 3]) / 2
            targets[4 * t] = ((gx - ax) / aw - means[0]) / stds[0]
            targets[4 * t + 1] = ((gy - ay) / ah - means[1]) / stds[1]
            targets[4 * t + 2] = (math.log(gw / aw) - means[2]) / stds[2]
            targets[4 * t + 3] = (math.log(gh / ah) - means[3]) / stds[3]
        t += step


@cuda.jit
def _decode_kernel(out, data, anchors, n, std0, std1, std2, std3, clip, center, total):
    # one thread per (image, anchor)
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        i = t % n
        if center:
            ax, ay, aw, ah = anchors[4 * i], anchors[4 * i + 1], anchors[4 * i + 2], anchors[4 * i + 3]
        else:
            aw, ah = anchors[4 * i + 2] - anchors[4 * i], anchors[4 * i + 3] - anchors[4 * i + 1]
            ax, ay = (anchors[4 * i] + anchors[4 * i + 2]) / 2, (anchors[4 * i + 1] + anchors[4 * i + 3]) / 2
        x = data[4 * t] * std0 * aw + ax
        y = data[4 * t + 1] * std1 * ah + ay
        dw, dh = data[4 * t + 2] * std2, data[4 * t + 3] * std3
        if clip > 0:
            dw, dh = min(dw, clip), min(dh, clip)
        half_w, half_h = math.exp(dw) * aw / 2, math.exp(dh) * ah / 2
        out[4 * t], out[4 * t + 1] = x - half_w, y - half_h
        out[4 * t + 2], out[4 * t + 3] = x + half_w, y + half_h
        t += step


@cuda.jit
def _nms_backward_kernel(dx, dy, record, width, total):
    # one thread per element of dy: row k goes to input row record[k] (dx is zero beforehand; rows are distinct)
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        k = t // width
        source = int(record[k])
        if source >= 0:
            dx[source * width + t - k * width] = dy[t]
        t += step


_I, _B, _AI = types.int64, types.boolean, types.Array(types.int64, 1, "C")
_FLOATS = [(t, types.Array(t, 1, "C")) for t in (types.float32, types.float64)]
_IOU_KERNELS, _NMS_KERNELS = {}, {}
for _t, _a in _FLOATS:
    _dtype = np.dtype(_t.name)
    _IOU_KERNELS[_dtype] = declare("boxes.iou." + _t.name, _iou_kernel_for(_t), [(_a, _a, _a, _I, _B, _t, _I)])
    _NMS_KERNELS[_dtype] = declare("boxes.nms." + _t.name, _nms_kernel_for(_t),
                                   [(_a, _a, _a, _a) + (_AI,) * 4 + (_a,) * 3 + (_I,) * 6 + (_B, _B)
                                    + (_t,) * 3 + (_I,) + (_B,) * 3])
_DETECTION_KERNELS = {}
for _t, _a in _FLOATS:
    _decode, _detect = _detection_kernels_for(_t)
    _DETECTION_KERNELS[np.dtype(_t.name)] = (
        declare("boxes.detection_decode." + _t.name, _decode,
                [(_a, _a, _AI, _a, _a, _a, _a, _I, _I) + (_t,) * 4 + (_B, _t, _I)]),
        declare("boxes.detection." + _t.name, _detect,
                [(_a, _a, _a, _AI, _a) + (_AI,) * 3 + (_a,) * 3 + (_I, _I, _B, _t, _I)]))
declare("boxes.encode", _encode_kernel, [(a,) * 8 + (_I, _I, _I) for _, a in _FLOATS])
declare("boxes.decode", _decode_kernel, [(a,) * 3 + (_I,) + (t,) * 5 + (_B, _I) for t, a in _FLOATS])
declare("boxes.nms_backward", _nms_backward_kernel, [(a, a, a, _I, _I) for _, a in _FLOATS])


def _go(kernel, n, *args):
    if n:
        kernel[launch(n) + (stream(),)](*args)


def _block_per_image(batch, n):
    """Launch shape of the block-per-image kernels: (blocks, threads, stream); the simulator's 2 blocks of 4
    threads still exercise both strides."""
    if SIMULATOR:
        return min(batch, 2), 4, stream()
    return min(batch, 4096), min(256, max(32, n)), stream()


def box_iou(ctx, p, inputs, outputs, req):
    lhs, rhs = as_compute(inputs[0]), as_compute(inputs[1])
    n_rhs = rhs.size // 4
    center = p.format == "center"
    kernel, zero = _IOU_KERNELS[lhs.dtype], lhs.dtype.type(0)
    in_compute_dtype(outputs[0], req[0], lambda dst: _go(kernel, dst.size, flat(dst), flat(lhs), flat(rhs), n_rhs,
                                                         center, zero, dst.size))


def box_encode(ctx, p, inputs, outputs, req):
    """The matches of the positive samples are checked on the host first (a small copy), as the CPU kernel does."""
    samples, matches, anchors, refs, means, stds = (as_compute(x) for x in inputs)
    batch, n = samples.shape
    m = refs.shape[1]
    dev = gpu_storage.current_device()
    positive = gpu_storage.to_host(samples, dev) > 0.5
    index = gpu_storage.to_host(matches, dev).astype(np.int64)
    bad = positive & ((index < 0) | (index >= m))
    if bad.any():
        b, i = np.argwhere(bad)[0]
        raise MXNetError("_contrib_box_encode: matches[%d, %d] = %d is no row of refs %s"
                         % (b, i, index[b, i], list(refs.shape)))
    targets, masks = empty(outputs[0].shape, samples.dtype), empty(outputs[1].shape, samples.dtype)
    _go(_encode_kernel, batch * n, flat(targets), flat(masks), flat(samples), flat(matches), flat(anchors),
        flat(refs), flat(means), flat(stds), n, m, batch * n)
    for result, out, r in zip((targets, masks), outputs, req, strict=True):
        copy_into(result, out, r)


def box_decode(ctx, p, inputs, outputs, req):
    data, anchors = as_compute(inputs[0]), as_compute(inputs[1])
    dt = data.dtype.type
    n = data.shape[1]
    args = (n, dt(p.std0), dt(p.std1), dt(p.std2), dt(p.std3), dt(p.clip), p.format == "center")
    in_compute_dtype(outputs[0], req[0], lambda dst: _go(_decode_kernel, dst.size // 4, flat(dst), flat(data),
                                                         flat(anchors), *args, dst.size // 4))


def box_nms(ctx, p, inputs, outputs, req):
    """ops/cpu/boxes.py's box_nms, one thread block per leading index (see `_nms_kernel_for`)."""
    data = as_compute(inputs[0])
    n, width = data.shape[data.ndim - 2], data.shape[data.ndim - 1]
    batch = data.size // (n * width) if n * width else 0
    out, record = empty(data.shape, data.dtype), empty(outputs[1].shape, data.dtype)
    if batch * n:
        dt = data.dtype.type
        order, suppressed, kept_at, valid = (empty((batch * n,), np.int64) for _ in range(4))
        s, areas, classes = (empty((batch * n,), data.dtype) for _ in range(3))
        corners = empty((batch * n * 4,), data.dtype)
        use_ids = p.id_index >= 0
        _NMS_KERNELS[data.dtype][_block_per_image(batch, n)](
            flat(out), flat(record), flat(data), s, valid, order, suppressed, kept_at, corners, areas, classes,
            batch, n, width, p.coord_start, p.score_index, max(p.id_index, 0), use_ids and not p.force_suppress,
            use_ids and p.background_id >= 0, dt(p.background_id), dt(p.valid_thresh), dt(p.overlap_thresh), p.topk,
            p.in_format == "center", p.in_format != p.out_format, p.out_format == "center")
    copy_into(out, outputs[0], req[0])
    copy_into(record, outputs[1], req[1])


def multibox_detection(ctx, p, inputs, outputs, req):
    """ops/cpu/boxes.py's multibox_detection: decoding one thread per anchor, then one thread block per image."""
    cls, loc, anchors = (as_compute(x) for x in inputs)
    batch, classes, n = cls.shape
    out = empty((batch, n, 6), cls.dtype)
    if batch * n and classes >= 2:
        dt = cls.dtype.type
        decode, detect = _DETECTION_KERNELS[cls.dtype]
        order, suppressed, kept_at, valid = (empty((batch * n,), np.int64) for _ in range(4))
        ids, s, areas, sorted_ids = (empty((batch * n,), cls.dtype) for _ in range(4))
        boxes, corners = empty((batch * n * 4,), cls.dtype), empty((batch * n * 4,), cls.dtype)
        _go(decode, batch * n, ids, s, valid, boxes, flat(cls), flat(loc), flat(anchors), classes, n,
            *(dt(v) for v in p.variances), p.clip, dt(p.threshold), batch * n)
        detect[_block_per_image(batch, n)](flat(out), ids, s, valid, boxes, order, suppressed, kept_at, corners, areas,
                                           sorted_ids, batch, n, not p.force_suppress, dt(p.nms_threshold), p.nms_topk)
    else:
        fill(out, -1)
    copy_into(out, outputs[0], req[0])


def backward_box_nms(ctx, p, inputs, outputs, req):
    """The output gradient's rows scattered to the input rows of the forward's record; 0 elsewhere."""
    dy, record = as_compute(inputs[0]), as_compute(inputs[1])      # one dtype (the op's dtype rule)
    width = dy.shape[dy.ndim - 1]      # (the simulator's shapes take no negative index)

    def compute(dst):
        fill(dst, 0)
        _go(_nms_backward_kernel, dy.size, flat(dst), flat(dy), flat(record), width, dy.size)
    in_compute_dtype(outputs[0], req[0], compute)


KERNELS = {"_contrib_box_nms": box_nms, "_contrib_box_iou": box_iou, "_contrib_box_encode": box_encode,
           "_contrib_box_decode": box_decode, "_backward_contrib_box_nms": backward_box_nms,
           "_contrib_MultiBoxDetection": multibox_detection}

WITHOUT = {
    "_contrib_bipartite_matching": "greedy matching over all N x M pairs by score, each match depending on every "
                                   "earlier one: a sequential loop, run through the host (ops/cpu/boxes.py)",
    "_contrib_Proposal": "not ported yet: would reuse box_nms's block-wide sort and greedy loop (`_sorting_pieces`), "
                         "with MXNet's +1 pixel widths and a keep limit; runs through the host (ops/cpu/boxes.py)",
    "_contrib_MultiProposal": "as _contrib_Proposal: runs through the host (ops/cpu/boxes.py)"}
