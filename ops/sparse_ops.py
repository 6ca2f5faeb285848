"""The ops MXNet 1.9.1 defines for sparse storage, as registry OpDefs so that symbolic graphs can hold them:
`cast_storage` (alias `_sparse_cast_storage`), `_sparse_retain` (`mx.nd.sparse.retain`), `_square_sum` and
`_contrib_SparseEmbedding`.

A graph node sees dense arrays (a sparse argument is bound as its dense twin, Note [sparse executors] in
dataflow/executor_sparse.py), so the kernels here are the dense forms (ops/cpu/sparse_ops.py): cast_storage copies,
_sparse_retain zeroes the rows not listed, _square_sum is sum(x * x, axis, keepdims, exclude). The storage types
their outputs take are scheduler/infer_storage.py's rules; the imperative front ends reach the sparse kernels of
dataflow/ndarray/sparse_ops.py for sparse inputs (`fallback.implements`).

Gradients, as MXNet's: cast_storage passes dy through; _sparse_retain gives data dy on the retained rows (indices
get none); _square_sum gives 2 * x * dy (dy broadcast back over the reduced axes). `_contrib_SparseEmbedding` is
Embedding with MXNet's sparse_grad=True always on: same params, shapes, kernel and gradient values; its weight's
gradient is row_sparse (infer_storage's GRADIENT rule) and the sparse executor lifts it like
Embedding(sparse_grad=True).
"""
import dataclasses

from .autodiff import apply
from .cpu import sparse_ops as cpu
from .elemwise import merge, same_shape_rule
from .errors import ShapeError
from .reduce import REDUCE_PARAMS, reduced_shape
from .registry import Enum, OpDef, get, register, same_dtype

STORAGE_TYPES = ("default", "row_sparse", "csr")


def _pass_grad(p, ins, outs, dys):
    return [dys[0]]


register(OpDef("cast_storage", aliases=("_sparse_cast_storage",),
               params=dict(stype=Enum(STORAGE_TYPES, doc="The output's storage type.")),
               infer_shape=same_shape_rule, inplace=((0, 0),), cpu=cpu.cast_storage, gradient=_pass_grad,
               doc="Casts the storage type of an array: default (dense), row_sparse or csr. The values do not "
                   "change; csr needs a 2-D array."))


# out: data's shape; indices: a vector of row indices (any length)
def _retain_shape(p, in_shapes, out_shapes):
    data = merge(in_shapes[0], out_shapes[0])
    indices = in_shapes[1]
    if indices is not None and len(indices) != 1:
        raise ShapeError("_sparse_retain: indices must be 1-D, got shape %s" % (tuple(indices),))
    if data is not None and len(data) == 0:
        raise ShapeError("_sparse_retain: data needs at least one dimension, got shape ()")
    return [data, indices], [data]


def _retain_type(p, in_types, out_types):
    data = in_types[0] if in_types[0] is not None else out_types[0]
    return [data, in_types[1]], [data]


register(OpDef("_sparse_retain", arguments=("data", "indices"), infer_shape=_retain_shape,
               infer_type=_retain_type, cpu=cpu.sparse_retain,
               gradient=lambda p, ins, outs, dys: [apply("_sparse_retain", dys[0], ins[1]), None],
               doc="Keeps the rows of data listed in indices (a row_sparse array storing exactly those rows); "
                   "the other rows are zero."))


def _square_sum_shape(p, in_shapes, out_shapes):
    data = in_shapes[0]
    if data is None:
        return list(in_shapes), list(out_shapes)
    if len(data) == 0:
        raise ShapeError("_square_sum: the input needs at least one dimension, got shape ()")
    return list(in_shapes), [reduced_shape(p, data, "_square_sum")]


def _square_sum_grad(p, ins, outs, dys):
    spread = apply("_backward_reduce", dys[0], ins[0], outs[0], mode="sum", axis=p.axis, keepdims=p.keepdims,
                   exclude=p.exclude)
    return [spread * ins[0] * 2.0]


register(OpDef("_square_sum", params=dict(REDUCE_PARAMS), infer_shape=_square_sum_shape, infer_type=same_dtype,
               cpu=cpu.square_sum, gradient=_square_sum_grad,
               doc="The sum of squares of array elements over the given axes (MXNet's sparse optimizers use it on "
                   "row_sparse arrays)."))

SPARSE_EMBEDDING = "_contrib_SparseEmbedding"
register(dataclasses.replace(
    get("Embedding"), name=SPARSE_EMBEDDING, aliases=(),
    doc="Embedding whose weight gradient is row_sparse (Embedding with sparse_grad=True): maps integer indices to "
        "vector representations, out = weight[data]."))
