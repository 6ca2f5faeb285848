"""numpy references for the shape and indexing ops (tests/specs_shape.py uses them).

Written from MXNet 1.9.1's documented and observed semantics (see the docstrings of ops/shape.py and
ops/indexing.py for the facts checked on it); they never call our kernels or shape rules. Gathers and scatters are
written as per-element loops over numpy's indexing, so they differ from the kernels in how they compute.
"""
import numpy as np


def _trunc(idx):
    """Indices as C++ casts them: truncated toward zero."""
    return np.trunc(np.asarray(idx, dtype=np.float64)).astype(np.int64)


def _axis(a, ndim):
    return a + ndim if a < 0 else a


# ---- shape --------------------------------------------------------------------------------------------------
def transpose(p, x):
    return np.transpose(x, tuple(p.axes) or None).copy()


def swapaxes(p, x):
    return np.swapaxes(x, p.dim1, p.dim2).copy()


def expand_dims(p, x):
    return np.expand_dims(x, p.axis).copy()


def squeeze(p, x):
    y = np.squeeze(x) if p.axis is None else np.squeeze(x, axis=tuple(p.axis))
    return y.reshape(1) if y.ndim == 0 else y.copy()


def reverse(p, x):
    for a in p.axis:
        x = np.flip(x, a)
    return x.copy()


def tile(p, x):
    return np.tile(x, tuple(p.reps))


def repeat(p, x):
    return np.repeat(x, p.repeats, axis=p.axis)


def pad(p, x):
    pairs = [(p.pad_width[2 * i], p.pad_width[2 * i + 1]) for i in range(x.ndim)]
    if p.mode == "constant":
        return np.pad(x, pairs, mode="constant", constant_values=np.array(p.constant_value, x.dtype))
    return np.pad(x, pairs, mode=p.mode)


def stack(p, *xs):
    return np.stack(xs, axis=p.axis)


def slice_channel(p, x):
    parts = np.split(x, p.num_outputs, axis=p.axis)
    return tuple(np.squeeze(y, axis=p.axis) if p.squeeze_axis else y.copy() for y in parts)


def slice_(p, x):
    step = tuple(p.step) or (None,) * len(p.begin)
    return x[tuple(slice(b, e, s) for b, e, s in zip(p.begin, p.end, step))].copy()


def slice_axis(p, x):
    a = _axis(p.axis, x.ndim)
    n = x.shape[a]
    begin = p.begin + n if p.begin < 0 else p.begin
    end = n if p.end is None else (p.end + n if p.end < 0 else p.end)
    return np.take(x, np.arange(begin, end), axis=a)


def slice_like(p, x, like):
    axes = [_axis(a, x.ndim) for a in p.axes] if p.axes else range(x.ndim)
    index = [slice(None)] * x.ndim
    for a in axes:
        index[a] = slice(0, like.shape[a])
    return x[tuple(index)].copy()


def broadcast_like(p, lhs, rhs):
    if p.lhs_axes is None or p.rhs_axes is None:
        target = rhs.shape
    else:
        target = list(lhs.shape)
        for a, b in zip(p.lhs_axes, p.rhs_axes):
            target[_axis(a, lhs.ndim)] = rhs.shape[_axis(b, rhs.ndim)]
    return np.broadcast_to(lhs, tuple(target)).copy()


def depth_to_space(p, x):
    # out[n, c, h*b + i, w*b + j] = x[n, (i*b + j) * C' + c, h, w], C' = C / b^2
    b = p.block_size
    n, c, h, w = x.shape
    cc = c // (b * b)
    out = np.empty((n, cc, h * b, w * b), x.dtype)
    for i in range(b):
        for j in range(b):
            out[:, :, i::b, j::b] = x[:, (i * b + j) * cc:(i * b + j + 1) * cc]
    return out


def space_to_depth(p, x):
    # out[n, (i*b + j) * C + c, h, w] = x[n, c, h*b + i, w*b + j]
    b = p.block_size
    n, c, h, w = x.shape
    out = np.empty((n, c * b * b, h // b, w // b), x.dtype)
    for i in range(b):
        for j in range(b):
            out[:, (i * b + j) * c:(i * b + j + 1) * c] = x[:, :, i::b, j::b]
    return out


def diag(p, x):
    if x.ndim == 1:
        return np.diag(x, p.k)
    return np.diagonal(x, p.k, p.axis1, p.axis2).copy()


def arange(p):
    start, stop = (0.0, p.start) if p.stop is None else (p.start, p.stop)
    n = int(np.ceil((stop - start) / p.step))
    if p.dtype.kind in "iu":
        values = int(np.trunc(start)) + np.arange(n) * int(np.trunc(p.step))
    else:
        values = start + np.arange(n) * p.step
    return np.repeat(values, p.repeat).astype(p.dtype)


def eye(p):
    return np.eye(p.N, p.M or p.N, p.k, dtype=p.dtype)


def upsampling(p, *xs):
    """Nearest: out[n, c, y, x] = in[n, c, y // s, x // s], s = the output size over the input's.
    Bilinear: each input pixel (i, j) adds weight[c, 0] times its value to the k x k output cells from
    (i s - pad, j s - pad), k = 2s - s % 2, pad = s // 2 (a depthwise deconvolution)."""
    if p.sample_type == "bilinear":
        x, w = (v.astype(np.float64) for v in xs)
        s, k, pad = p.scale, 2 * p.scale - p.scale % 2, p.scale // 2
        n, c, h, wd = x.shape
        full = np.zeros((n, c, (h - 1) * s + k, (wd - 1) * s + k))
        for i in range(h):
            for j in range(wd):
                full[:, :, i * s:i * s + k, j * s:j * s + k] += x[:, :, i, j, None, None] * w[None, :, 0]
        return full[:, :, pad:pad + h * s, pad:pad + wd * s].astype(xs[0].dtype)
    size = xs[0].shape[2] * p.scale
    parts = []
    for x in xs:
        s = size // x.shape[2]
        parts.append(np.repeat(np.repeat(x, s, axis=2), s, axis=3))
    if p.multi_input_mode == "sum":
        return sum(part.astype(np.float64) for part in parts).astype(xs[0].dtype)
    return np.concatenate(parts, axis=1)


# ---- indexing -----------------------------------------------------------------------------------------------
def take(p, a, idx):
    axis = _axis(p.axis, a.ndim)
    n = a.shape[axis]
    i = _trunc(idx)
    i = np.clip(i, 0, n - 1) if p.mode != "wrap" else np.mod(i, n)
    return np.take(a, i, axis=axis)


def pick(p, x, idx):
    axis = _axis(p.axis, x.ndim)
    n = x.shape[axis]
    i = _trunc(idx).reshape(tuple(1 if k == axis else d for k, d in enumerate(x.shape)))
    i = np.clip(i, 0, n - 1) if p.mode == "clip" else np.mod(i, n)
    y = np.take_along_axis(x, i, axis=axis)
    return y if p.keepdims or x.ndim == 1 else np.squeeze(y, axis=axis)


def gather_nd(p, data, idx):
    """out[y] = data[idx[0, y], ..., idx[M-1, y]], negative indices counting from the end."""
    m = idx.shape[0]
    cols = _trunc(idx).reshape(m, -1)
    rows = [data[tuple(cols[:, j])] for j in range(cols.shape[1])]
    return np.array(rows, dtype=data.dtype).reshape(idx.shape[1:] + data.shape[m:])


def scatter_nd(p, data, idx):
    out = np.zeros(tuple(p.shape), data.dtype)
    m = idx.shape[0]
    cols = _trunc(idx).reshape(m, -1)
    rows = data.reshape((cols.shape[1],) + out.shape[m:])
    for j in range(cols.shape[1]):
        c = cols[:, j]
        if all(0 <= c[k] < out.shape[k] for k in range(m)):
            out[tuple(c)] = rows[j]
    return out


def one_hot(p, idx):
    i = _trunc(idx)
    out = np.full(idx.shape + (p.depth,), np.array(p.off_value).astype(np.float64), np.float64)
    hot = (np.arange(p.depth) == i[..., None]) & (i[..., None] >= 0)
    out[hot] = p.on_value
    return _to(out, p.dtype)


def _to(values, dtype):
    """float64 values to dtype as C++ converts them (integers truncate toward zero, then wrap)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        return np.trunc(values).astype(np.int64).astype(dtype)
    return values.astype(dtype)


def embedding(p, data, weight):
    return weight[np.clip(_trunc(data), 0, p.input_dim - 1)]


def where(p, c, x, y):
    mask = c != 0
    if mask.ndim == 1 and x.ndim > 1:
        mask = mask.reshape((-1,) + (1,) * (x.ndim - 1))
    return np.where(mask, x, y)


def clip(p, x):
    lo, hi = p.a_min, p.a_max
    v = x.astype(np.float64)
    y = np.where(v > hi, _to(np.array(hi), x.dtype), np.where(v < lo, _to(np.array(lo), x.dtype), x))
    return y.astype(x.dtype)


def _time_major(x, axis):
    return x if axis == 0 else np.swapaxes(x, 0, 1)


def _lengths(p, x, length, axis):
    steps, batch = _time_major(x, axis).shape[:2]
    return _trunc(length) if p.use_sequence_length else np.full(batch, steps)


def sequence_mask(p, x, length=None):
    out = x.copy()
    t = _time_major(out, p.axis)
    for b, n in enumerate(_lengths(p, x, length, p.axis)):
        t[max(n, 0):, b] = np.array(p.value).astype(x.dtype) if x.dtype.kind == "f" else _to(np.array(p.value),
                                                                                             x.dtype)
    return out


def sequence_last(p, x, length=None):
    t = _time_major(x, p.axis)
    return np.stack([t[n - 1, b] for b, n in enumerate(_lengths(p, x, length, p.axis))])


def sequence_reverse(p, x, length=None):
    out = x.copy()
    for b, n in enumerate(_lengths(p, x, length, 0)):
        out[:n, b] = x[:n, b][::-1]
    return out
