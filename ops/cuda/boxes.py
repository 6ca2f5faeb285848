"""CUDA kernels of ops/boxes.py: box_iou, box_encode and box_decode, one thread per output box (pair), with the
CPU kernels' arithmetic (ops/cpu/boxes.py) in the compute dtype (float16 in float32); box_nms's backward, one
thread per gradient element scattered by the forward's record.

The ops that sort and suppress (box_nms, bipartite_matching, MultiBoxDetection, Proposal, MultiProposal) run through
the host: a data-dependent sort followed by a sequential greedy loop, on a few thousand boxes after a detector's
heads, where the copy costs less than a GPU sort would save (`WITHOUT`).
"""
import math

import numpy as np
from numba import cuda, types

from ..errors import MXNetError
from . import storage as gpu_storage
from .common import as_compute, copy_into, declare, empty, fill, flat, in_compute_dtype, launch, stream


@cuda.jit(device=True)
def _corner(b, k, center):
    """Corners (x1, y1, x2, y2) of box k of the flat boxes b, given in center or corner form."""
    x, y, z, w = b[4 * k], b[4 * k + 1], b[4 * k + 2], b[4 * k + 3]
    if center:
        return x - z / 2, y - w / 2, x + z / 2, y + w / 2
    return x, y, z, w


@cuda.jit(device=True)
def _area(b, k, center):
    if center:
        w, h = b[4 * k + 2], b[4 * k + 3]
    else:
        w, h = b[4 * k + 2] - b[4 * k], b[4 * k + 3] - b[4 * k + 1]
    return 0 * w if (w < 0 or h < 0) else w * h


@cuda.jit
def _iou_kernel(out, lhs, rhs, n_rhs, center, total):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        i = t // n_rhs
        j = t - i * n_rhs
        a0, a1, a2, a3 = _corner(lhs, i, center)
        b0, b1, b2, b3 = _corner(rhs, j, center)
        zero = a0 - a0
        w = max(min(a2, b2) - max(a0, b0), zero)
        h = max(min(a3, b3) - max(a1, b1), zero)
        inter = w * h
        union = _area(lhs, i, center) + _area(rhs, j, center) - inter
        out[t] = inter / union if union > zero else zero
        t += step


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


_I, _B = types.int64, types.boolean
_FLOATS = [(t, types.Array(t, 1, "C")) for t in (types.float32, types.float64)]
declare("boxes.iou", _iou_kernel, [(a, a, a, _I, _B, _I) for _, a in _FLOATS])
declare("boxes.encode", _encode_kernel, [(a,) * 8 + (_I, _I, _I) for _, a in _FLOATS])
declare("boxes.decode", _decode_kernel, [(a,) * 3 + (_I,) + (t,) * 5 + (_B, _I) for t, a in _FLOATS])
declare("boxes.nms_backward", _nms_backward_kernel, [(a, a, a, _I, _I) for _, a in _FLOATS])


def _go(kernel, n, *args):
    if n:
        kernel[launch(n) + (stream(),)](*args)


def box_iou(ctx, p, inputs, outputs, req):
    lhs, rhs = as_compute(inputs[0]), as_compute(inputs[1])
    n_rhs = rhs.size // 4
    center = p.format == "center"
    in_compute_dtype(outputs[0], req[0], lambda dst: _go(_iou_kernel, dst.size, flat(dst), flat(lhs), flat(rhs),
                                                         n_rhs, center, dst.size))


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


def backward_box_nms(ctx, p, inputs, outputs, req):
    """The output gradient's rows scattered to the input rows of the forward's record; 0 elsewhere."""
    dy, record = as_compute(inputs[0]), as_compute(inputs[1])      # one dtype (the op's dtype rule)
    width = dy.shape[dy.ndim - 1]      # (the simulator's shapes take no negative index)

    def compute(dst):
        fill(dst, 0)
        _go(_nms_backward_kernel, dy.size, flat(dst), flat(dy), flat(record), width, dy.size)
    in_compute_dtype(outputs[0], req[0], compute)


KERNELS = {"_contrib_box_iou": box_iou, "_contrib_box_encode": box_encode, "_contrib_box_decode": box_decode,
           "_backward_contrib_box_nms": backward_box_nms}

_SORTS = ("a data-dependent stable sort by score, then a sequential greedy loop over a few thousand boxes: runs "
          "through the host (ops/cpu/boxes.py)")
WITHOUT = {"_contrib_box_nms": "greedy NMS: " + _SORTS,
           "_contrib_bipartite_matching": "greedy matching: " + _SORTS,
           "_contrib_MultiBoxDetection": "greedy NMS: " + _SORTS,
           "_contrib_Proposal": "greedy NMS: " + _SORTS,
           "_contrib_MultiProposal": "greedy NMS: " + _SORTS}
