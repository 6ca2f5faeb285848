"""CUDA kernels of the ops that move rows at positions computed on the host: take's and Embedding's gradients,
Embedding, pick, gather_nd, scatter_nd, one_hot, SequenceMask/Last/Reverse and Pad.

The host turns the op's indices into (destination row, source row) pairs (ops/cpu/indexing.py's `positions` rules,
so errors and clipping are the CPU kernel's); one kernel copies or accumulates those rows (`_rows_kernel`, or
`_rows_add_kernel` with atomics where destinations repeat).
"""
import numpy as np
from numba import cuda, types

from ..registry import ADD, NULL
from . import storage as gpu_storage
from .common import F16, as_compute, declare, empty, fill, flat, in_compute_dtype, put
from .shape import _c_strides, _go, _I, _B, _1D, _A, _AD, _AI

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
        put(out, d, x[src_rows[q] * post + k], add)
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
declare("rows.rows", _rows_kernel, [(a, a, _AL, _AL, _I, _B, _I) for a in (_A, _AD, _AI)])
declare("rows.rows_add", _rows_add_kernel, [(a, a, _AL, _AL, _I, _I) for a in (_A, _AD, _AI)])


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


KERNELS = {
    "_backward_take": backward_take, "Embedding": embedding, "_backward_Embedding": backward_embedding,
    "pick": pick, "_backward_pick": backward_pick, "gather_nd": gather_nd, "_backward_gather_nd": backward_gather_nd,
    "scatter_nd": scatter_nd, "one_hot": one_hot, "SequenceMask": sequence_mask, "SequenceLast": sequence_last,
    "_backward_SequenceLast": backward_sequence_last, "SequenceReverse": sequence_reverse, "Pad": pad,
    "_backward_Pad": backward_pad,
}

# backward ops without a spec row whose kernels the simulator reaches through a forward op's gradient
TESTED_THROUGH_GRADIENTS = {"_backward_take", "_backward_Embedding", "_backward_pick", "_backward_gather_nd",
                            "_backward_SequenceLast", "_backward_Pad"}
