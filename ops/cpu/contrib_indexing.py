"""CPU kernels of ops/contrib_indexing.py: index_copy, index_array, boolean_mask and their backward ops.

Row copies as numpy fancy indexing: these ops move whole rows, so numpy's copy loops are as fast as a numba loop.
Indices arrive in any dtype and truncate toward zero (a C++ cast), as in ops/cpu/indexing.py.
"""
import numpy as np

from ..errors import MXNetError, ShapeError
from .common import assign


def _rows(index, n):
    """int64 row positions of index_copy's index vector, each checked to be in [0, n)."""
    with np.errstate(invalid="ignore"):
        truncated = np.trunc(index.astype(np.float64)) if index.dtype.kind == "f" else index
    bad = ~((truncated >= 0) & (truncated < n))     # also NaN
    if bad.any():
        raise MXNetError("_contrib_index_copy: index_vector holds %s, outside [0, %d) (the rows of old_tensor)"
                         % (index[bad][0], n))
    return truncated.astype(np.int64)


def index_copy(ctx, p, inputs, outputs, req):
    old, index, new = inputs
    value = old.copy()
    value[_rows(index, old.shape[0])] = new             # a repeated index keeps the last row, as MXNet's loop
    assign(outputs[0], req[0], value)


def backward_index_copy(ctx, p, inputs, outputs, req):
    dy, index, _ = inputs
    rows = _rows(index, dy.shape[0])
    d_old = dy.copy()
    d_old[rows] = 0
    assign(outputs[0], req[0], d_old)
    assign(outputs[1], req[1], dy[rows])


def index_array_axes(p, ndim):
    """The axes index_array lists, each in [0, ndim) (its shape rule calls this too)."""
    if p.axes is None:
        return tuple(range(ndim))
    for axis in p.axes:
        if not -ndim <= axis < ndim:
            raise ShapeError("_contrib_index_array: axes=%s is out of range for data of %d dimensions"
                             % (tuple(p.axes), ndim))
    return tuple(a + ndim if a < 0 else a for a in p.axes)


def index_array(ctx, p, inputs, outputs, req):
    shape = inputs[0].shape
    grid = np.indices(shape, dtype=np.int64)
    axes = index_array_axes(p, len(shape))
    value = np.stack([grid[a] for a in axes], axis=-1) if axes else np.empty(shape + (0,), np.int64)
    assign(outputs[0], req[0], value)


def boolean_mask(ctx, p, inputs, outputs, req):
    data, index = inputs
    assign(outputs[0], req[0], data[index != 0])        # NaN counts as non-zero


def backward_boolean_mask(ctx, p, inputs, outputs, req):
    dy, data, index = inputs
    grad = np.zeros(data.shape, data.dtype)
    grad[index != 0] = dy
    assign(outputs[0], req[0], grad)
