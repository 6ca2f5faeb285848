"""CUDA kernels of the data-movement and indexing ops of ops/shape.py and ops/indexing.py that
ops/cuda/shape.py does not cover yet.

Most of them are views: the output reads the input through (shape, strides, offset) with ops/cuda/shape.py's
strided gather (swapaxes, reverse with negative strides, slice with steps, tile/repeat with zero strides,
depth_to_space as a transpose of reshapes). The gradients of slices write dy into a strided region of zeros
(`_scatter_kernel`); the gradients of tile/repeat sum strided blocks (`_strided_sum_kernel`).
"""
import numpy as np
from numba import cuda, types

from ..registry import ADD, NULL, WRITE
from . import storage as gpu_storage
from .common import (F16, as_compute, broadcast_into, collapse, copy_view, declare, empty, fill, flat, in_compute_dtype,
                     put)
from .shape import _c_strides, _go, _I, _B, _1D, _A, _AD, _AI, strided_gather

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
        r = i
        j = offset
        for d in range(len(shape) - 1, -1, -1):
            c = r % shape[d]
            r //= shape[d]
            j += c * so[d]
        if add:
            old = out[j]
            out[j] = x[i]
            out[j] = old + out[j]
        else:
            out[j] = x[i]
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
        r = i
        base = 0
        for d in range(len(oshape) - 1, -1, -1):
            c = r % oshape[d]
            r //= oshape[d]
            base += c * ostr[d]
        acc = x[base]
        for k in range(1, rtotal):
            r = k
            j = base
            for d in range(len(rshape) - 1, -1, -1):
                c = r % rshape[d]
                r //= rshape[d]
                j += c * rstr[d]
            acc += x[j]
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



# ---- row moves on host-computed positions: take/Embedding/gather_nd/pick/scatter_nd/Sequence*/one_hot ----------
@cuda.jit
def _rows_kernel(out, x, dst_rows, src_rows, post, add, n):
    # out[dst_rows[q] * post + k] (=/+=) x[src_rows[q] * post + k]; distinct destinations
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        k = i % post
        q = i // post
        d = dst_rows[q] * post + k
        v = x[src_rows[q] * post + k]
        if add:
            old = out[d]
            out[d] = v
            out[d] = old + out[d]
        else:
            out[d] = v
        i += step


@cuda.jit
def _rows_add_kernel(out, x, dst_rows, src_rows, post, n):
    # out[dst_rows[q] * post + k] += x[src_rows[q] * post + k]; repeated destinations accumulate (atomics)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        k = i % post
        q = i // post
        cuda.atomic.add(out, dst_rows[q] * post + k, x[src_rows[q] * post + k])
        i += step


_AL = _1D[types.int64]
declare("indexing.rows", _rows_kernel, [(a, a, _AL, _AL, _I, _B, _I) for a in (_A, _AD, _AI)])
declare("indexing.rows_add", _rows_add_kernel, [(a, a, _AL, _AL, _I, _I) for a in (_A, _AD, _AI)])


def _host(x):
    return gpu_storage.to_host(x, gpu_storage.current_device())


def _device(h):
    h = np.ascontiguousarray(h, np.int64).reshape(-1)
    d = empty(h.shape, np.int64)
    if h.size:
        gpu_storage.from_host(h, d, gpu_storage.current_device())
    return d


def _rows(x, out, req, dst_rows, src_rows, post, base=None, atomic=False):
    """out (req): rows (of `post` elements) dst_rows of out get x's rows src_rows (atomic: accumulated); with
    `base`, every other element of out is base (0: a scatter into zeros), else every row of out is written."""
    if req == NULL or out.size == 0:
        return
    total = len(dst_rows) * post
    d_dst, d_src = _device(dst_rows), _device(src_rows)

    def run(dst, add):
        if total == 0:
            return
        xc = as_compute(x, dst.dtype)
        if atomic:
            _go(_rows_add_kernel, total, flat(dst), flat(xc), d_dst, d_src, post, total)
        else:
            _go(_rows_kernel, total, flat(dst), flat(xc), d_dst, d_src, post, add, total)
    if out.dtype != F16 and (base is None or (base == 0 and req == ADD)):
        run(out, req == ADD)
        return
    if out.dtype != F16 and req != ADD:
        fill(out, base)
        run(out, False)
        return

    def compute(dst):
        if base is not None:
            fill(dst, base)
        run(dst, False)
    in_compute_dtype(out, req, compute)


def _grid_rows(pre, n, pos):
    """Rows r * n + pos[j] of a (pre, n, post) array, in (r, j) order."""
    return (np.arange(pre, dtype=np.int64)[:, None] * n + np.asarray(pos, np.int64).reshape(1, -1)).reshape(-1)


def _pre_n_post(shape, axis):
    return int(np.prod(shape[:axis])), shape[axis], int(np.prod(shape[axis + 1:]))


def backward_take(ctx, p, inputs, outputs, req):
    from ..cpu.indexing import positions
    dy, idx, a = inputs
    axis = p.axis % a.ndim
    pre, n, post = _pre_n_post(a.shape, axis)
    pos = positions("take", _host(idx), n, "clip" if p.mode == "raise" else p.mode).reshape(-1)
    _rows(dy, outputs[0], req[0], _grid_rows(pre, n, pos), np.arange(pre * pos.size), post, 0, atomic=True)


def embedding(ctx, p, inputs, outputs, req):
    from ..cpu.indexing import positions
    data, weight = inputs
    pos = positions("Embedding", _host(data), p.input_dim, "clip").reshape(-1)
    _rows(weight, outputs[0], req[0], np.arange(pos.size), pos, p.output_dim)


def backward_embedding(ctx, p, inputs, outputs, req):
    from ..cpu.indexing import positions
    dy, data = inputs
    pos = positions("Embedding", _host(data), p.input_dim, "clip").reshape(-1)
    _rows(dy, outputs[0], req[0], pos, np.arange(pos.size), p.output_dim, 0, atomic=True)


def _pick_elements(p, data, index):
    from ..cpu.indexing import positions
    axis = p.axis % data.ndim
    pre, n, post = _pre_n_post(data.shape, axis)
    pos = positions("pick", _host(index), n, p.mode).reshape(pre, post)
    r, k = np.arange(pre)[:, None], np.arange(post)[None, :]
    return ((r * n + pos) * post + k).reshape(-1)


def pick(ctx, p, inputs, outputs, req):
    data, index = inputs
    src = _pick_elements(p, data, index)
    _rows(data, outputs[0], req[0], np.arange(src.size), src, 1)


def backward_pick(ctx, p, inputs, outputs, req):
    dy, index, data = inputs
    dst = _pick_elements(p, data, index)
    _rows(dy, outputs[0], req[0], dst, np.arange(dst.size), 1, 0)


def _nd_layout(op, idx, dims, drop, size):
    from ..cpu.indexing import nd_positions
    pos = nd_positions(op, _host(idx), dims, drop)
    rows = int(np.prod(dims))
    return pos, (size // rows if rows else 0)


def gather_nd(ctx, p, inputs, outputs, req):
    data, idx = inputs
    pos, post = _nd_layout("gather_nd", idx, data.shape[:idx.shape[0]], False, data.size)
    _rows(data, outputs[0], req[0], np.arange(pos.size), pos, post)


def backward_gather_nd(ctx, p, inputs, outputs, req):
    dy, idx, data = inputs
    pos, post = _nd_layout("gather_nd", idx, data.shape[:idx.shape[0]], False, data.size)
    _rows(dy, outputs[0], req[0], pos, np.arange(pos.size), post, 0, atomic=True)


def scatter_nd(ctx, p, inputs, outputs, req):
    data, idx = inputs
    out = outputs[0]
    pos, post = _nd_layout("scatter_nd", idx, out.shape[:idx.shape[0]], True, out.size)
    last = {}
    for j, q in enumerate(pos.tolist()):      # a repeated position keeps the last row, -1 is dropped
        if q >= 0:
            last[q] = j
    _rows(data, out, req[0], list(last.keys()), list(last.values()), post, 0)


def one_hot(ctx, p, inputs, outputs, req):
    from ..cpu.common import scalar_in
    from .common import compute_dtype
    idx, out = inputs[0], outputs[0]
    cdt = compute_dtype(out.dtype)
    on = scalar_in(p.on_value, out.dtype).astype(cdt)
    off = scalar_in(p.off_value, out.dtype).astype(cdt)[()]
    h = _host(idx).reshape(-1)
    h = (h.astype(np.float32) if h.dtype == F16 else h).astype(np.int64)
    j = np.nonzero((h >= 0) & (h < p.depth))[0]
    src = empty((1,), cdt)
    gpu_storage.from_host(on.reshape(1), src, gpu_storage.current_device())
    _rows(src, out, req[0], j * p.depth + h[j], np.zeros(j.size), 1, off)


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


# ---- SequenceMask, SequenceLast, SequenceReverse -------------------------------------------------------------
def _seq_lengths(p, inputs, steps, batch):
    if not p.use_sequence_length:
        return np.full(batch, steps, np.int64)
    return _host(inputs[1]).astype(np.float64).astype(np.int64)


def _time_rows(axis, steps, batch):
    """row(s, b): the row (of the trailing elements) of step s of sequence b, for time axis 0 or 1."""
    return (lambda s, b: s * batch + b) if axis == 0 else (lambda s, b: b * steps + s)


def sequence_mask(ctx, p, inputs, outputs, req):
    from ..cpu.common import scalar_in
    from .common import compute_dtype
    x, out = inputs[0], outputs[0]
    steps, batch = (x.shape[0], x.shape[1]) if p.axis == 0 else (x.shape[1], x.shape[0])
    post = x.size // (steps * batch) if steps * batch else 0
    lengths = _seq_lengths(p, inputs, steps, batch)
    s, b = np.meshgrid(np.arange(steps), np.arange(batch), indexing="ij")
    keep = s < lengths[None, :]
    rows = _time_rows(p.axis, steps, batch)(s[keep], b[keep])
    value = scalar_in(p.value, x.dtype).astype(compute_dtype(out.dtype))[()]
    _rows(x, out, req[0], rows, rows, post, value)


def _last_rows(p, inputs, shape):
    steps, batch = (shape[0], shape[1]) if p.axis == 0 else (shape[1], shape[0])
    last = _seq_lengths(p, inputs, steps, batch) - 1
    last = np.where(last < 0, last + steps, last)           # numpy's index -1: the last step
    post = int(np.prod(shape[2:]))
    return _time_rows(p.axis, steps, batch)(last, np.arange(batch)), post


def sequence_last(ctx, p, inputs, outputs, req):
    x, out = inputs[0], outputs[0]
    rows, post = _last_rows(p, inputs, x.shape)
    _rows(x, out, req[0], np.arange(len(rows)), rows, post)


def backward_sequence_last(ctx, p, inputs, outputs, req):
    dy, out = inputs[0], outputs[0]
    rows, post = _last_rows(p, inputs[1:], out.shape)
    _rows(dy, out, req[0], rows, np.arange(len(rows)), post, 0)


def sequence_reverse(ctx, p, inputs, outputs, req):
    x = inputs[0]
    steps, batch = x.shape[0], x.shape[1]
    post = int(np.prod(x.shape[2:]))
    lengths = _seq_lengths(p, inputs, steps, batch)
    s = np.arange(steps)[:, None]
    source = np.where(s < lengths[None, :], lengths[None, :] - 1 - s, s)
    b = np.arange(batch)[None, :]
    _rows(x, outputs[0], req[0], (s * batch + b).reshape(-1), (source * batch + b).reshape(-1), post)


# ---- Pad ------------------------------------------------------------------------------------------------------
def _pad_sources(p, x_shape):
    """For each element of the padded output (C order), the flat input element it copies, or -1 (constant)."""
    from ..cpu.shape import _pairs
    st = _c_strides(x_shape)
    src = np.zeros((), np.int64)
    for (b, a), n, s in zip(_pairs(p, len(x_shape)), x_shape, st):
        j = np.arange(-b, n + a, dtype=np.int64)
        if p.mode == "constant":
            m = np.where((j >= 0) & (j < n), j * s, -1)
        elif p.mode == "edge":
            m = np.clip(j, 0, n - 1) * s
        else:                              # reflect, the edge not repeated (b, a < n)
            j = np.abs(j)
            m = np.where(j >= n, 2 * (n - 1) - j, j) * s
        src = np.where((src[..., None] < 0) | (m < 0), -1, src[..., None] + m)
    return src.reshape(-1)


def pad(ctx, p, inputs, outputs, req):
    from ..cpu.common import scalar_in
    from .common import compute_dtype
    x, out = inputs[0], outputs[0]
    src = _pad_sources(p, x.shape)
    dst = np.nonzero(src >= 0)[0]
    base = scalar_in(p.constant_value, out.dtype).astype(compute_dtype(out.dtype))[()] \
        if p.mode == "constant" else None
    _rows(x, out, req[0], dst, src[dst], 1, base)


def backward_pad(ctx, p, inputs, outputs, req):
    dy, out = inputs[0], outputs[0]
    src = _pad_sources(p, out.shape)
    dst = np.nonzero(src >= 0)[0]
    _rows(dy, out, req[0], src[dst], dst, 1, 0, atomic=p.mode != "constant")


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
    "_backward_take": backward_take, "Embedding": embedding, "_backward_Embedding": backward_embedding,
    "pick": pick, "_backward_pick": backward_pick, "gather_nd": gather_nd, "_backward_gather_nd": backward_gather_nd,
    "scatter_nd": scatter_nd, "one_hot": one_hot, "diag": diag, "_backward_diag": backward_diag, "_eye": eye,
    "_arange": arange, "SequenceMask": sequence_mask, "SequenceLast": sequence_last,
    "_backward_SequenceLast": backward_sequence_last, "SequenceReverse": sequence_reverse, "Pad": pad,
    "_backward_Pad": backward_pad, "UpSampling": upsampling, "_backward_UpSampling": backward_upsampling,
}

# ops of this family still without a CUDA kernel, and why (they run through the host)
WITHOUT = {name: "deprecated in MXNet (pick and one_hot, which have CUDA kernels, replace it): runs through the host"
           for name in ("batch_take", "_onehot_encode", "fill_element_0index")}

# backward ops without a spec row whose kernels the simulator reaches through a forward op's gradient
TESTED_THROUGH_GRADIENTS = {
    "_backward_slice", "_backward_slice_axis", "_backward_slice_like", "_backward_clip", "_backward_tile",
    "_backward_repeat", "_backward_take", "_backward_Embedding", "_backward_pick", "_backward_gather_nd",
    "_backward_diag", "_backward_SequenceLast", "_backward_Pad", "_backward_UpSampling",
}
