"""Dense kernels of the sparse family (ops/sparse_ops.py): what `cast_storage`, `_sparse_retain` and `_square_sum`
compute on dense arrays (inside a compiled graph, every array is dense: a sparse input is bound as its dense twin,
Note [sparse executors]). The sparse kernels are dataflow/ndarray/sparse_ops.py's, reached by the imperative
front ends through `fallback.implements`."""
import numpy as np

from ..errors import MXNetError
from .common import assign, copy_view
from .reduce import reduced_axes


def cast_storage(ctx, p, inputs, outputs, req):
    """A dense array in any storage type holds the same values: a copy."""
    copy_view(inputs[0], outputs[0], req[0])


def retained_rows(indices, rows, op_name="_sparse_retain"):
    """The row indices to keep, as int64; an index outside [0, rows) is an error (as MXNet's)."""
    wanted = np.asarray(indices).astype(np.int64).reshape(-1)
    if wanted.size and (wanted.min() < 0 or wanted.max() >= rows):
        bad = wanted[(wanted < 0) | (wanted >= rows)]
        raise MXNetError("%s: row index out of range [0, %d): %s" % (op_name, rows, bad.tolist()))
    return wanted


def sparse_retain(ctx, p, inputs, outputs, req):
    """out = data on the rows listed in `indices`, zero on the others."""
    data, indices = inputs
    kept = np.zeros_like(data)
    rows = retained_rows(indices, data.shape[0])
    kept[rows] = data[rows]
    assign(outputs[0], req[0], kept)


def square_sum(ctx, p, inputs, outputs, req):
    """sum(data * data) over the reduced axes (float16 accumulates in float32, other floats in float64)."""
    data, out = inputs[0], outputs[0]
    acc = np.float64 if data.dtype.kind == "f" and data.dtype.itemsize > 2 else \
        np.float32 if data.dtype.kind == "f" else data.dtype
    axes = reduced_axes(p, data.shape, "_square_sum")
    value = np.square(data, dtype=acc).sum(axis=axes, dtype=acc)
    assign(out, req[0], value.reshape(out.shape))
