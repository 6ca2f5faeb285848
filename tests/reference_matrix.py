"""numpy references for the ops of tests/specs_matrix.py: broadcast_axis, shape_array, size_array, the AMP casts,
_linspace and the deprecated row selectors batch_take, _onehot_encode, fill_element_0index (tests only).

Written from MXNet 1.9.1's documented semantics and the edge cases checked on it (see the ops' docstrings).
"""
import numpy as np

_AMP = (np.dtype(np.float16), np.dtype(np.float32))


def broadcast_axis(p, x):
    shape = list(x.shape)
    for axis, n in zip(p.axis, p.size):
        shape[axis] = n
    return np.broadcast_to(x, shape).copy()


def shape_array(p, x):
    return np.array(x.shape, np.int64)


def size_array(p, x):
    return np.array([x.size], np.int64)


def amp_cast(p, x):
    return x.astype(p.dtype if x.dtype in _AMP else x.dtype)


def amp_multicast(p, *xs):
    amp = [x.dtype for x in xs if x.dtype in _AMP]
    if not amp:
        return tuple(x.copy() for x in xs)
    target = min(amp, key=lambda t: t.itemsize) if p.cast_narrow else max(amp, key=lambda t: t.itemsize)
    return tuple(x.astype(target if x.dtype in _AMP else x.dtype) for x in xs)


def linspace(p):
    """Sample i is start + i * step, in float64, then converted (integers truncate toward zero)."""
    if p.num == 1:
        values = np.array([p.start])
    else:
        step = (p.stop - p.start) / (p.num - 1 if p.endpoint else p.num)
        values = np.array([p.start + i * step for i in range(p.num)])
    return values.astype(p.dtype)


def batch_take(p, a, indices):
    rows = a.reshape(-1, a.shape[-1])
    out = [rows[i, min(max(int(j), 0), a.shape[-1] - 1)] for i, j in enumerate(indices.reshape(-1))]
    return np.array(out, a.dtype).reshape(indices.shape)


def onehot_encode(p, indices, like):
    out = np.zeros(like.shape, like.dtype)
    for i, v in enumerate(indices):
        j = int(v)                          # truncation toward zero
        if 0 <= j < like.shape[1]:
            out[i, j] = 1
    return out


def fill_element_0index(p, lhs, values, indices):
    out = lhs.copy()
    for i, v in enumerate(indices):
        j = int(v)
        if 0 <= j < lhs.shape[1]:
            out[i, j] = values[i]
    return out
