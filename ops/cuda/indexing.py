"""CUDA kernels of the data-movement and indexing ops of ops/shape.py and ops/indexing.py that
ops/cuda/shape.py does not cover (the row moves of take/Embedding/pick/gather_nd/Sequence*/Pad are in rows.py).

Most of them are views: the output reads the input through (shape, strides, offset) with ops/cuda/shape.py's
strided gather (swapaxes, reverse with negative strides, slice with steps, tile/repeat with zero strides,
depth_to_space as a transpose of reshapes). The gradients of slices write dy into a strided region of zeros
(`_scatter_kernel`); the gradients of tile/repeat sum strided blocks (`_strided_sum_kernel`).
"""
import numpy as np
from numba import cuda, types

from ..registry import ADD, NULL, WRITE
from .common import (F16, as_compute, broadcast_into, collapse, copy_view, declare, empty, fill, flat, in_compute_dtype,
                     put, strided_offset)
from .shape import _c_strides, _go, _I, _B, _A, _AD, _AI, strided_gather

_FOLLOW_UP = "not yet: issue 8 follow-up (runs through the host)"


def _region_view(region, shape):
    """(shape, strides, offset) of x[region] for a C-contiguous x of `shape` (region: a tuple of slices)."""
    st = _c_strides(shape)
    out_shape, out_st, offset = [], [], 0
    for d, n in enumerate(shape):
        s = region[d] if d < len(region) else slice(None)
        start, stop, step = s.indices(n)
        m = len(range(start, stop, step))
        if m:
            offset += start * st[d]
        out_shape.append(m)
        out_st.append(step * st[d])
    return tuple(out_shape), tuple(out_st), offset


# ---- strided scatter: out[offset + sum(c_d * so_d)] = x[i] -------------------------------------------------------
@cuda.jit
def _scatter_kernel(out, x, shape, so, offset, add, n):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        put(out, strided_offset(i, shape, so, offset), x[i], add)
        i += step


def _nd_sigs(nds=(1, 2, 3)):
    sigs = []
    for nd in nds:
        t = types.UniTuple(_I, nd)
        sigs += [(a, a, t, t, _I, _B, _I) for a in (_A, _AD, _AI)]
    return sigs


declare("indexing.scatter", _scatter_kernel, _nd_sigs())


def _scatter(x, dst, shape, strides, offset, add=False):
    """dst (flat, compute dtype) at offset + sum(c_d * strides_d) = (or +=) x (C-contiguous, of `shape`)."""
    if x.size == 0:
        return
    shape, so = collapse(shape, strides)
    n = x.size
    _go(_scatter_kernel, n, flat(dst), flat(as_compute(x, dst.dtype)), shape, so, offset, add, n)


def _into_zeros(dy, out, req, shape, strides, offset):
    """out (req) = zeros of out's shape with dy written at the strided region (the gradient of a view)."""
    if req == NULL or out.size == 0:
        return
    if req == ADD and out.dtype != F16:
        _scatter(dy, out, shape, strides, offset, add=True)
        return

    def compute(dst):
        fill(dst, 0)
        _scatter(dy, dst, shape, strides, offset)
    in_compute_dtype(out, req, compute)


# ---- strided sum: out[i] = sum over k of x[base(i) + off(k)] ----------------------------------------------------
@cuda.jit
def _strided_sum_kernel(out, x, oshape, ostr, rshape, rstr, rtotal, add, n):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        base = strided_offset(i, oshape, ostr, 0)
        acc = x[base]
        for k in range(1, rtotal):
            acc += x[strided_offset(k, rshape, rstr, base)]
        put(out, i, acc, add)
        i += step


def _sum_sigs():
    sigs = []
    for nd in (1, 2):
        t = types.UniTuple(_I, nd)
        sigs += [(a, a, t, t, t, t, _I, _B, _I) for a in (_A, _AD, _AI)]
    return sigs


declare("indexing.strided_sum", _strided_sum_kernel, _sum_sigs())


def _strided_sum(dy, out, req, oshape, ostr, rshape, rstr):
    """out (req) = dy summed over the (rshape, rstr) block at each output coordinate (oshape, ostr)."""
    if req == NULL or out.size == 0:
        return
    if dy.size == 0:
        fill(out, 0, req)
        return
    oshape, ostr = collapse(oshape, ostr)
    rshape, rstr = collapse(rshape, rstr)
    rtotal = int(np.prod(rshape))
    n = out.size
    dyc = as_compute(dy)
    if out.dtype == F16:
        in_compute_dtype(out, req, lambda dst: _go(_strided_sum_kernel, n, flat(dst), flat(dyc), oshape, ostr,
                                                   rshape, rstr, rtotal, False, n))
    else:
        _go(_strided_sum_kernel, n, flat(out), flat(as_compute(dy, out.dtype)), oshape, ostr, rshape, rstr, rtotal,
            req == ADD, n)


# ---- views ---------------------------------------------------------------------------------------------------
def reshape_view(ctx, p, inputs, outputs, req):
    """expand_dims, squeeze: the output is the input reshaped."""
    copy_view(inputs[0], outputs[0], req[0])


def swapaxes(ctx, p, inputs, outputs, req):
    x = inputs[0]
    perm = list(range(x.ndim))
    d1, d2 = p.dim1 % x.ndim, p.dim2 % x.ndim
    perm[d1], perm[d2] = perm[d2], perm[d1]
    st = _c_strides(x.shape)
    strided_gather(x, outputs[0], req[0], tuple(x.shape[a] for a in perm), tuple(st[a] for a in perm))


def reverse(ctx, p, inputs, outputs, req):
    x = inputs[0]
    index = [slice(None)] * x.ndim
    for a in p.axis:                      # a repeated axis is reversed twice, as MXNet does
        index[a] = slice(None, None, -1) if index[a] == slice(None) else slice(None)
    _gather_region(x, outputs[0], req[0], tuple(index))


def _gather_region(x, out, req, region):
    shape, strides, offset = _region_view(region, x.shape)
    strided_gather(x, out, req, shape, strides, offset)


def broadcast_like(ctx, p, inputs, outputs, req):
    broadcast_into(inputs[0], outputs[0], req[0])


def slice_(ctx, p, inputs, outputs, req):
    from ..indexing import slice_region
    _gather_region(inputs[0], outputs[0], req[0], slice_region(p, inputs[0].shape))


def slice_like(ctx, p, inputs, outputs, req):
    out = outputs[0]
    _gather_region(inputs[0], out, req[0], tuple(slice(0, d) for d in out.shape))


def _slice_into(region, inputs, outputs, req):
    out = outputs[0]
    shape, strides, offset = _region_view(region, out.shape)
    _into_zeros(inputs[0], out, req[0], shape, strides, offset)


def backward_slice(ctx, p, inputs, outputs, req):
    from ..indexing import slice_region
    _slice_into(slice_region(p, inputs[1].shape), inputs, outputs, req)


def backward_slice_axis(ctx, p, inputs, outputs, req):
    from ..indexing import slice_axis_region
    _slice_into(slice_axis_region(p, inputs[1].shape), inputs, outputs, req)


def backward_slice_like(ctx, p, inputs, outputs, req):
    _slice_into(tuple(slice(0, d) for d in inputs[0].shape), inputs, outputs, req)


# ---- stack, SliceChannel -------------------------------------------------------------------------------------
def stack(ctx, p, inputs, outputs, req):
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    axis = p.axis % (inputs[0].ndim + 1)
    k = len(inputs)
    pre, post = int(np.prod(out.shape[:axis])), int(np.prod(out.shape[axis + 1:]))

    def compute(dst):
        for j, x in enumerate(inputs):
            _scatter(x, dst, (pre, post), (k * post, 1), j * post)
    in_compute_dtype(out, req[0], compute)


def slice_channel(ctx, p, inputs, outputs, req):
    x = inputs[0]
    axis = p.axis % x.ndim
    n = x.shape[axis]
    step = n // p.num_outputs
    pre, post = int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis + 1:]))
    for i, (out, r) in enumerate(zip(outputs, req)):
        strided_gather(x, out, r, (pre, step, post), (n * post, post, 1), i * step * post)


# ---- tile, repeat --------------------------------------------------------------------------------------------
def _tile_layout(x_shape, reps):
    """(wide shape (r0, d0, r1, d1, ...), its C strides, the input's strides along it (0 along the r dims))."""
    from ..cpu.shape import _tile_views
    wide, narrow = _tile_views(x_shape, reps)
    xs = _c_strides(narrow)
    return wide, _c_strides(wide), tuple(0 if k % 2 == 0 else xs[k] for k in range(len(wide)))


def tile(ctx, p, inputs, outputs, req):
    x = inputs[0]
    wide, _, xs = _tile_layout(x.shape, p.reps)
    strided_gather(x, outputs[0], req[0], wide, xs)


def backward_tile(ctx, p, inputs, outputs, req):
    dy, x = inputs
    wide, ws, _ = _tile_layout(x.shape, p.reps)
    _strided_sum(dy, outputs[0], req[0], wide[1::2], ws[1::2], wide[0::2], ws[0::2])


def repeat(ctx, p, inputs, outputs, req):
    from ..cpu.shape import _repeat_views
    x = inputs[0]
    pre, n, post = _repeat_views(x.shape, p)
    strided_gather(x, outputs[0], req[0], (pre, n, p.repeats, post), (n * post, post, 0, 1))


def backward_repeat(ctx, p, inputs, outputs, req):
    from ..cpu.shape import _repeat_views
    dy, x = inputs
    pre, n, post = _repeat_views(x.shape, p)
    r = p.repeats
    _strided_sum(dy, outputs[0], req[0], (pre, n, post), (n * r * post, r * post, 1), (r,), (post,))


# ---- depth_to_space, space_to_depth --------------------------------------------------------------------------
def _permuted(x, out, req, view, perm):
    xs = _c_strides(view)
    strided_gather(x, out, req, tuple(view[a] for a in perm), tuple(xs[a] for a in perm))


def depth_to_space(ctx, p, inputs, outputs, req):
    x, b = inputs[0], p.block_size
    n, c, h, w = x.shape
    _permuted(x, outputs[0], req[0], (n, b, b, c // (b * b), h, w), (0, 3, 4, 1, 5, 2))


def space_to_depth(ctx, p, inputs, outputs, req):
    x, b = inputs[0], p.block_size
    n, c, h, w = x.shape
    _permuted(x, outputs[0], req[0], (n, c, h // b, b, w // b, b), (0, 3, 5, 1, 2, 4))


# ---- _backward_clip ------------------------------------------------------------------------------------------
@cuda.jit
def _clip_grad_kernel(out, g, x, lo, hi, n):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        v = x[i]
        r = g[i]
        if v < lo:
            r = 0
        if v > hi:
            r = 0
        out[i] = r
        i += step


declare("indexing.clip_grad", _clip_grad_kernel, [(_A, _A, _A, types.float32, types.float32, _I),
                                                  (_AD, _AD, _AD, types.float64, types.float64, _I),
                                                  (_AI, _AI, _AI, types.float64, types.float64, _I)])


def backward_clip(ctx, p, inputs, outputs, req):
    from ..cpu.indexing import _bounds
    from .common import compute_dtype
    dy, x = inputs
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    cdt = compute_dtype(dy.dtype)
    lo, hi = _bounds(p, cdt)
    g, xc = as_compute(dy, cdt), as_compute(x, cdt)
    n = out.size
    in_compute_dtype(out, req[0], lambda dst: _go(_clip_grad_kernel, n, flat(dst), flat(g), flat(xc), lo, hi, n))



# ---- diag, _eye, _arange -------------------------------------------------------------------------------------
def _diag_start(n_rows, n_cols, k):
    from ..cpu.shape import _diag_index
    rows, cols = _diag_index(n_rows, n_cols, k)
    return len(rows), (int(rows[0]) if len(rows) else 0), (int(cols[0]) if len(rows) else 0)


def _diag_view(p, shape):
    """(shape, strides, offset) of np.diagonal(x, k, axis1, axis2) for a C-contiguous x of `shape`."""
    a1, a2 = p.axis1 % len(shape), p.axis2 % len(shape)
    st = _c_strides(shape)
    length, r0, c0 = _diag_start(shape[a1], shape[a2], p.k)
    keep = [d for d in range(len(shape)) if d not in (a1, a2)]
    return (tuple(shape[d] for d in keep) + (length,), tuple(st[d] for d in keep) + (st[a1] + st[a2],),
            r0 * st[a1] + c0 * st[a2] if length else 0)


def _matrix_diag(out_shape, k):
    length, r0, c0 = _diag_start(out_shape[0], out_shape[1], k)
    return (length,), (out_shape[1] + 1,), r0 * out_shape[1] + c0


def diag(ctx, p, inputs, outputs, req):
    x, out = inputs[0], outputs[0]
    if x.ndim == 1:
        _into_zeros(x, out, req[0], *_matrix_diag(out.shape, p.k))
    else:
        strided_gather(x, out, req[0], *_diag_view(p, x.shape))


def backward_diag(ctx, p, inputs, outputs, req):
    dy, x = inputs
    out = outputs[0]
    if x.ndim == 1:
        strided_gather(dy, out, req[0], *_matrix_diag(dy.shape, p.k))
    else:
        _into_zeros(dy, out, req[0], *_diag_view(p, x.shape))


def eye(ctx, p, inputs, outputs, req):
    from .common import compute_dtype
    out = outputs[0]
    shape, strides, offset = _matrix_diag(out.shape, p.k)
    ones = empty(shape, compute_dtype(out.dtype))
    fill(ones, 1)
    _into_zeros(ones, out, req[0], shape, strides, offset)


@cuda.jit
def _arange_kernel(out, start, step_, repeat, n):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        out[i] = i // repeat
        out[i] = start + out[i] * step_
        i += step


declare("indexing.arange", _arange_kernel, [(_A, types.float32, types.float32, _I, _I),
                                            (_AD, types.float64, types.float64, _I, _I),
                                            (_AI, types.int32, types.int32, _I, _I)])


def arange(ctx, p, inputs, outputs, req):
    from ..cpu.common import scalar_in
    from .common import compute_dtype
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    cdt = compute_dtype(out.dtype)
    start = scalar_in(0.0 if p.stop is None and not p.infer_range else p.start, cdt)[()]
    step_ = scalar_in(p.step, cdt)[()]
    n = out.size
    in_compute_dtype(out, req[0], lambda dst: _go(_arange_kernel, n, flat(dst), start, step_, p.repeat, n))


# ---- UpSampling (nearest; bilinear runs through the host) ----------------------------------------------------
def upsampling(ctx, p, inputs, outputs, req):
    from ..cpu.shape import _up_parts
    out = outputs[0]
    if p.sample_type == "bilinear":
        from . import host_fallback
        from .. import registry
        host_fallback(registry.get("UpSampling"))(ctx, p, inputs, outputs, req)
        return
    if req[0] == NULL or out.size == 0:
        return
    st = _c_strides(out.shape)

    def compute(dst):
        for i, (x, s, ch) in enumerate(_up_parts(p, inputs, out.shape)):
            n, c, h, w = x.shape
            tmp = empty((n, c, h, s, w, s), dst.dtype)
            strided_gather(x, tmp, WRITE, tmp.shape, (c * h * w, h * w, w, 0, 1, 0))
            _scatter(tmp, dst, (n, c, h * s, w * s), tuple(st), ch.start * st[1],
                     add=bool(i) and p.multi_input_mode == "sum")
    in_compute_dtype(out, req[0], compute)


def backward_upsampling(ctx, p, inputs, outputs, req):
    from ..cpu.shape import _up_parts
    if p.sample_type == "bilinear":
        from . import host_fallback
        from .. import registry
        host_fallback(registry.get("_backward_UpSampling"))(ctx, p, inputs, outputs, req)
        return
    dy = inputs[0]
    st = _c_strides(dy.shape)
    g = flat(as_compute(dy))
    for (_, s, ch), out, r in zip(_up_parts(p, inputs[1:], dy.shape), outputs, req):
        off = ch.start * st[1]
        _strided_sum(g[off:], out, r, out.shape, (st[0], st[1], s * st[2], s * st[3]), (s, s), (st[2], st[3]))


KERNELS = {
    "expand_dims": reshape_view, "squeeze": reshape_view, "SwapAxis": swapaxes, "reverse": reverse,
    "broadcast_like": broadcast_like, "slice": slice_, "_backward_slice": backward_slice,
    "_backward_slice_axis": backward_slice_axis, "slice_like": slice_like,
    "_backward_slice_like": backward_slice_like, "_backward_clip": backward_clip, "stack": stack,
    "SliceChannel": slice_channel, "tile": tile, "_backward_tile": backward_tile, "repeat": repeat,
    "_backward_repeat": backward_repeat, "depth_to_space": depth_to_space, "space_to_depth": space_to_depth,
    "diag": diag, "_backward_diag": backward_diag, "_eye": eye, "_arange": arange,
    "UpSampling": upsampling, "_backward_UpSampling": backward_upsampling,
}

# ops of this family still without a CUDA kernel, and why (they run through the host)
WITHOUT = {name: "deprecated in MXNet (pick and one_hot, which have CUDA kernels, replace it): runs through the host"
           for name in ("batch_take", "_onehot_encode", "fill_element_0index")}

# backward ops without a spec row whose kernels the simulator reaches through a forward op's gradient
TESTED_THROUGH_GRADIENTS = {
    "_backward_slice", "_backward_slice_axis", "_backward_slice_like", "_backward_clip", "_backward_tile",
    "_backward_repeat", "_backward_diag", "_backward_UpSampling",
}
