"""CPU kernels of the indexing family (ops/indexing.py): slices as numpy views, gathers and scatter-adds as numba
loops, where and clip as numba selections.

Indices arrive in any dtype (MXNet's indices are often float32) and become int64 positions in `positions`:
a float index truncates toward zero, as C++'s cast does, then is clipped, wrapped or checked (mode). The gathers
(`take`, `Embedding`, `gather_nd`, `pick`) copy rows of the data viewed as (pre, n, post); their backward kernels
scatter-add rows of the output gradient, so repeated indices accumulate. numba has no float16: data that is only
moved travels as its uint16 bits, and float16 sums are computed in float32 and rounded once.
Every loop is njit(nogil=True, cache=True); the Sequence ops are numpy selections over (time, batch) views.
"""
import numpy as np
from numba import njit

from .common import F16, F32, assign, compute_dtype, scalar_in, store
from .shape import _bits
from ..errors import MXNetError
from ..registry import ADD, NULL

_jit = njit(nogil=True, cache=True)
CLIP, WRAP, RAISE = 0, 1, 2
MODES = {"clip": CLIP, "wrap": WRAP, "raise": RAISE}


def _numba_index(idx):
    return idx.astype(F32) if idx.dtype == F16 else idx


@_jit
def _positions(idx, n, mode, out):
    """out[j] = idx[j] truncated, then clipped to [0, n) / wrapped mod n / checked; returns the first bad j or -1."""
    for j in range(idx.size):
        i = np.int64(idx[j])
        if mode == 0:
            i = min(max(i, 0), n - 1)
        elif mode == 1:
            i = i % n
        elif i < 0 or i >= n:
            return j
        out[j] = i
    return -1


def positions(op, idx, n, mode, what="index"):
    """int64 positions of `idx` (any shape) into an axis of size n; raises naming op for mode 'raise'."""
    flat = _numba_index(np.ascontiguousarray(idx).reshape(-1))
    out = np.empty(flat.size, np.int64)
    if n == 0 and flat.size:
        raise MXNetError("%s: cannot index an axis of size 0" % op)
    bad = _positions(flat, n, MODES[mode], out)
    if bad >= 0:
        raise MXNetError("%s: %s %s is out of bounds for an axis of size %d (mode='raise')"
                         % (op, what, idx.reshape(-1)[bad], n))
    return out.reshape(idx.shape)


@_jit
def _gather(src, pos, dst):
    """dst[i, j, :] = src[i, pos[j], :]."""
    for i in range(src.shape[0]):
        if src.shape[2] == 1:                    # a gather of single elements: no slice per element
            for j in range(pos.size):
                dst[i, j, 0] = src[i, pos[j], 0]
        else:
            for j in range(pos.size):
                dst[i, j, :] = src[i, pos[j], :]


@_jit
def _scatter_add(g, pos, dst):
    """dst[i, pos[j], :] += g[i, j, :] (repeated positions accumulate)."""
    for i in range(g.shape[0]):
        for j in range(pos.size):
            r = pos[j]
            for k in range(g.shape[2]):
                dst[i, r, k] += g[i, j, k]


def _pre_n_post(shape, axis):
    return int(np.prod(shape[:axis])), shape[axis], int(np.prod(shape[axis + 1:]))


def gather_rows(src3, pos, out, req):
    """out (viewed (pre, len(pos), post)) = rows pos of src3 (pre, n, post)."""
    pre, _, post = src3.shape

    def compute(dst):
        _gather(_bits(src3), pos.reshape(-1), _bits(dst).reshape(pre, pos.size, post))   # sizes: may be 0
    store(out, req, compute)


def scatter_add_rows(g3, pos, out, req, n):
    """out (viewed (pre, n, post)) = zeros with the rows of g3 (pre, len(pos), post) added at pos."""
    if req == NULL:
        return
    pre, _, post = g3.shape
    cdt = compute_dtype(out.dtype)
    direct = req != ADD and out.dtype == cdt
    acc = out if direct else np.zeros(out.shape, cdt)
    if direct:
        acc[...] = 0
    _scatter_add(np.ascontiguousarray(g3, dtype=cdt), pos.reshape(-1), acc.reshape(pre, n, post))
    if not direct:
        assign(out, req, acc)


# ---- slices ---------------------------------------------------------------------------------------------------
def _slice_into(region, inputs, outputs, req):
    """out = data's shape, zero outside `region`, dy inside it (the gradient of a slice)."""
    dy, out = inputs[0], outputs[0]
    if req[0] == NULL:
        return
    if req[0] == ADD:
        out[region] += dy.astype(out.dtype, copy=False)
        return
    out[...] = 0
    out[region] = dy


def slice_(ctx, p, inputs, outputs, req):
    from ..indexing import slice_region
    assign(outputs[0], req[0], inputs[0][slice_region(p, inputs[0].shape)])


def backward_slice(ctx, p, inputs, outputs, req):
    from ..indexing import slice_region
    _slice_into(slice_region(p, inputs[1].shape), inputs, outputs, req)


def slice_axis(ctx, p, inputs, outputs, req):
    from ..indexing import slice_axis_region
    assign(outputs[0], req[0], inputs[0][slice_axis_region(p, inputs[0].shape)])


def backward_slice_axis(ctx, p, inputs, outputs, req):
    from ..indexing import slice_axis_region
    _slice_into(slice_axis_region(p, inputs[1].shape), inputs, outputs, req)


def slice_like(ctx, p, inputs, outputs, req):
    out = outputs[0]
    assign(out, req[0], inputs[0][tuple(slice(0, d) for d in out.shape)])


def backward_slice_like(ctx, p, inputs, outputs, req):
    _slice_into(tuple(slice(0, d) for d in inputs[0].shape), inputs, outputs, req)


# ---- take, Embedding ------------------------------------------------------------------------------------------
def take(ctx, p, inputs, outputs, req):
    a, idx = inputs
    axis = p.axis % a.ndim
    pre, n, post = _pre_n_post(a.shape, axis)
    gather_rows(a.reshape(pre, n, post), positions("take", idx, n, p.mode), outputs[0], req[0])


def backward_take(ctx, p, inputs, outputs, req):
    """inputs (dy, indices, a): dy's rows added at the taken positions ('raise' checked in the forward)."""
    dy, idx, a = inputs
    axis = p.axis % a.ndim
    pre, n, post = _pre_n_post(a.shape, axis)
    pos = positions("take", idx, n, "clip" if p.mode == "raise" else p.mode)
    scatter_add_rows(dy.reshape(pre, pos.size, post), pos, outputs[0], req[0], n)


def embedding(ctx, p, inputs, outputs, req):
    data, weight = inputs
    gather_rows(weight.reshape(1, p.input_dim, p.output_dim), positions("Embedding", data, p.input_dim, "clip"),
                outputs[0], req[0])


def backward_embedding(ctx, p, inputs, outputs, req):
    dy, data = inputs
    pos = positions("Embedding", data, p.input_dim, "clip")
    scatter_add_rows(dy.reshape(1, pos.size, p.output_dim), pos, outputs[0], req[0], p.input_dim)


# ---- pick -----------------------------------------------------------------------------------------------------
@_jit
def _pick(src, pos, dst):
    for i in range(src.shape[0]):
        for k in range(src.shape[2]):
            dst[i, k] = src[i, pos[i, k], k]


@_jit
def _pick_add(g, pos, dst):
    for i in range(g.shape[0]):
        for k in range(g.shape[1]):
            dst[i, pos[i, k], k] += g[i, k]


def _pick_layout(p, data, index):
    axis = p.axis % data.ndim
    pre, n, post = _pre_n_post(data.shape, axis)
    return pre, n, post, positions("pick", index, n, p.mode).reshape(pre, post)


def pick(ctx, p, inputs, outputs, req):
    data, index = inputs
    pre, n, post, pos = _pick_layout(p, data, index)
    store(outputs[0], req[0], lambda dst: _pick(_bits(data).reshape(pre, n, post), pos,
                                                 _bits(dst).reshape(pre, post)))


def backward_pick(ctx, p, inputs, outputs, req):
    dy, index, data = inputs
    out = outputs[0]
    if req[0] == NULL:
        return
    pre, n, post, pos = _pick_layout(p, data, index)
    acc = np.zeros(out.shape, compute_dtype(out.dtype))
    _pick_add(np.ascontiguousarray(dy, dtype=acc.dtype).reshape(pre, post), pos, acc.reshape(pre, n, post))
    assign(out, req[0], acc)


# ---- gather_nd, scatter_nd ------------------------------------------------------------------------------------
@_jit
def _nd_positions(idx, dims, drop, out):
    """Linear positions of the columns of idx (M, K) into dims (M,). A negative index counts from the end
    (gather_nd) or drops the column (drop: scatter_nd, out[j] = -1), as does one out of range. Returns the
    first bad column (not drop) or -1."""
    for j in range(idx.shape[1]):
        lin = 0
        for m in range(idx.shape[0]):
            v = idx[m, j]
            if v < 0 and not drop:
                i = np.int64(v + dims[m])
            else:
                i = np.int64(v)
            if i < 0 or i >= dims[m]:
                if not drop:
                    return j
                lin = -1
                break
            lin = lin * dims[m] + i
        out[j] = lin
    return -1


def nd_positions(op, idx, dims, drop):
    m = idx.shape[0]
    flat = _numba_index(np.ascontiguousarray(idx).reshape(m, -1))
    out = np.empty(flat.shape[1], np.int64)
    bad = _nd_positions(flat, np.array(dims, np.int64), drop, out)
    if bad >= 0:
        raise MXNetError("%s: index %s is out of bounds for the first %d axes %s of data"
                         % (op, tuple(flat[:, bad].tolist()), m, tuple(dims)))
    return out


def gather_nd(ctx, p, inputs, outputs, req):
    data, idx = inputs
    m = idx.shape[0]
    rows = int(np.prod(data.shape[:m]))
    gather_rows(data.reshape(1, rows, -1), nd_positions("gather_nd", idx, data.shape[:m], False),
                outputs[0], req[0])


def backward_gather_nd(ctx, p, inputs, outputs, req):
    """inputs (dy, indices, data): dy's rows added at the gathered positions."""
    dy, idx, data = inputs
    m = idx.shape[0]
    rows = int(np.prod(data.shape[:m]))
    pos = nd_positions("gather_nd", idx, data.shape[:m], False)
    scatter_add_rows(dy.reshape(1, pos.size, -1), pos, outputs[0], req[0], rows)


@_jit
def _scatter_rows(src, pos, dst):
    """dst[pos[j], :] = src[j, :] in order (a repeated position keeps the last row); pos -1 is skipped."""
    for j in range(pos.size):
        if pos[j] >= 0:
            dst[pos[j], :] = src[j, :]


def scatter_nd(ctx, p, inputs, outputs, req):
    data, idx = inputs
    out = outputs[0]
    m = idx.shape[0]
    pos = nd_positions("scatter_nd", idx, out.shape[:m], True)

    def compute(dst):
        dst[...] = 0
        _scatter_rows(_bits(data).reshape(pos.size, -1), pos, _bits(dst).reshape(int(np.prod(out.shape[:m])), -1))
    store(out, req[0], compute)


# ---- one_hot --------------------------------------------------------------------------------------------------
@_jit
def _one_hot(idx, on, off, dst):
    dst[:] = off
    for j in range(idx.size):
        i = np.int64(idx[j])
        if 0 <= i < dst.shape[1]:
            dst[j, i] = on


def one_hot(ctx, p, inputs, outputs, req):
    idx, out = inputs[0], outputs[0]
    on, off = scalar_in(p.on_value, out.dtype), scalar_in(p.off_value, out.dtype)
    flat = _numba_index(np.ascontiguousarray(idx).reshape(-1))
    store(out, req[0], lambda dst: _one_hot(flat, _bits(on)[()], _bits(off)[()], _bits(dst).reshape(-1, p.depth)))


# ---- where, clip ----------------------------------------------------------------------------------------------
@_jit
def _where_flat(c, x, y, out):
    for i in range(out.size):
        out[i] = x[i] if c[i] != 0 else y[i]


@_jit
def _where_rows(c, x, y, out):
    for r in range(out.shape[0]):
        if c[r] != 0:
            out[r, :] = x[r, :]
        else:
            out[r, :] = y[r, :]


def where(ctx, p, inputs, outputs, req):
    """out = x where condition != 0 (NaN counts as true), else y; a 1-D condition picks whole rows of x."""
    c, x, y = inputs
    c = c != 0 if c.dtype == F16 else c
    rows = c.ndim == 1 and x.ndim > 1

    def compute(dst):
        xb, yb, ob = _bits(x), _bits(y), _bits(dst)
        if rows:
            _where_rows(c, xb.reshape(len(c), -1), yb.reshape(len(c), -1), ob.reshape(len(c), -1))
        else:
            _where_flat(c.reshape(-1), xb.reshape(-1), yb.reshape(-1), ob.reshape(-1))
    store(outputs[0], req[0], compute)


@_jit
def _clip(x, lo, hi, lo_v, hi_v, out):
    # MXNet tests x > a_max first, so with a_min > a_max, x > a_max gives a_max: the later `if` wins here.
    for i in range(x.size):
        v = x[i]
        r = v
        if v < lo:
            r = lo_v
        if v > hi:
            r = hi_v
        out[i] = r


@_jit
def _clip_grad(g, x, lo, hi, out):
    for i in range(x.size):
        v = x[i]
        r = g[i]
        if v < lo:
            r = 0
        if v > hi:
            r = 0
        out[i] = r


def _bounds(p, dtype):
    """a_min, a_max for comparing data of `dtype` as MXNet does, in double: for float32 data, the float32
    bounds rounded inwards give the same answers (x > hi in double iff x > hi rounded down), and vectorise."""
    lo, hi = np.float64(p.a_min), np.float64(p.a_max)
    if dtype != np.float32:
        return lo, hi
    lo32, hi32 = np.float32(lo), np.float32(hi)
    lo32 = np.nextafter(lo32, np.float32(np.inf)) if lo32 < lo else lo32
    hi32 = np.nextafter(hi32, np.float32(-np.inf)) if hi32 > hi else hi32
    return lo32, hi32


def _flat(a):
    return a.reshape(-1)


def clip(ctx, p, inputs, outputs, req):
    x, out = inputs[0], outputs[0]
    cdt = compute_dtype(out.dtype)
    xc = x.astype(cdt) if x.dtype != cdt else x
    lo, hi = _bounds(p, cdt)
    lo_v, hi_v = scalar_in(p.a_min, cdt)[()], scalar_in(p.a_max, cdt)[()]
    if req[0] in (ADD,) or cdt != out.dtype:
        tmp = np.empty(out.shape, cdt)
        _clip(_flat(xc), lo, hi, lo_v, hi_v, _flat(tmp))
        assign(out, req[0], tmp)
    elif req[0] != NULL:
        _clip(_flat(xc), lo, hi, lo_v, hi_v, _flat(out))


def backward_clip(ctx, p, inputs, outputs, req):
    """inputs (dy, data): dy where a_min <= data <= a_max, else 0."""
    dy, x = inputs
    cdt = compute_dtype(dy.dtype)
    lo, hi = _bounds(p, cdt)
    tmp = np.empty(x.shape, cdt)
    _clip_grad(_flat(dy.astype(cdt, copy=False)), _flat(x.astype(cdt, copy=False)), lo, hi, _flat(tmp))
    assign(outputs[0], req[0], tmp)


# ---- SequenceMask, SequenceLast, SequenceReverse --------------------------------------------------------------
def _time_major(x, axis):
    """x viewed (time, batch, ...)."""
    return x if axis == 0 else np.swapaxes(x, 0, 1)


def _lengths(p, inputs, steps, batch):
    """Each sequence's length (truncated toward zero), or the whole time axis."""
    if not p.use_sequence_length:
        return np.full(batch, steps, np.int64)
    return inputs[1].astype(np.float64).astype(np.int64)


def _keep(p, inputs, x):
    t = _time_major(x, p.axis)
    lengths = _lengths(p, inputs, t.shape[0], t.shape[1])
    keep = np.arange(t.shape[0])[:, None] < lengths[None, :]
    return t, keep.reshape(keep.shape + (1,) * (t.ndim - 2))


def sequence_mask(ctx, p, inputs, outputs, req):
    t, keep = _keep(p, inputs, inputs[0])
    assign(_time_major(outputs[0], p.axis), req[0], np.where(keep, t, scalar_in(p.value, t.dtype)))


def _last_index(p, inputs, t):
    return _lengths(p, inputs, t.shape[0], t.shape[1]) - 1, np.arange(t.shape[1])


def sequence_last(ctx, p, inputs, outputs, req):
    t = _time_major(inputs[0], p.axis)
    assign(outputs[0], req[0], t[_last_index(p, inputs, t)])


def backward_sequence_last(ctx, p, inputs, outputs, req):
    """inputs (dy, data[, sequence_length]): dy put at each sequence's last step, zeros elsewhere."""
    dy, out = inputs[0], outputs[0]
    t = _time_major(out, p.axis)
    index = _last_index(p, inputs[1:], t)
    if req[0] == ADD:
        t[index] += dy
    elif req[0] != NULL:
        out[...] = 0
        t[index] = dy


def sequence_reverse(ctx, p, inputs, outputs, req):
    t = inputs[0]
    lengths = _lengths(p, inputs, t.shape[0], t.shape[1])
    steps = np.arange(t.shape[0])[:, None]
    source = np.where(steps < lengths[None, :], lengths[None, :] - 1 - steps, steps)
    assign(outputs[0], req[0], t[source, np.arange(t.shape[1])[None, :]])


# ---- batch_take, _onehot_encode, fill_element_0index ---------------------------------------------------------------
def _row_columns(index, k):
    """(rows, columns) of the in-range entries of a float index vector, truncated toward zero as C++ does."""
    cols = np.trunc(index.astype(np.float64))
    rows = np.nonzero((cols >= 0) & (cols < k))[0]
    return rows, cols[rows].astype(np.int64)


def batch_take(ctx, p, inputs, outputs, req):
    a, indices = inputs
    k = a.shape[-1]
    rows = a.reshape(-1, k)
    cols = np.clip(indices.reshape(-1).astype(np.int64), 0, k - 1)
    assign(outputs[0], req[0], rows[np.arange(len(rows)), cols].reshape(outputs[0].shape))


def onehot_encode(ctx, p, inputs, outputs, req):
    """inputs (indices, a matrix giving the shape) -> row i one-hot at indices[i]."""
    out = np.zeros(outputs[0].shape, outputs[0].dtype)
    rows, cols = _row_columns(inputs[0], out.shape[1])
    out[rows, cols] = 1
    assign(outputs[0], req[0], out)


def fill_element_0index(ctx, p, inputs, outputs, req):
    """inputs (matrix, values, indices) -> the matrix with element (i, indices[i]) set to values[i]."""
    lhs, values, index = inputs
    out = lhs.copy()
    rows, cols = _row_columns(index, out.shape[1])
    out[rows, cols] = values[rows]
    assign(outputs[0], req[0], out)
