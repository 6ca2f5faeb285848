"""The contrib indexing ops: `_contrib_index_copy`, `_contrib_index_array` and `_contrib_boolean_mask` (MXNet's
src/operator/contrib/index_copy.cc, index_array.cc, boolean_mask.cc), with their backward ops. Kernels:
ops/cpu/contrib_indexing.py.

Facts checked on MXNet 1.9.1 (native CPU):
- index_copy(old_tensor, index_vector, new_tensor): the output is old_tensor with row index[i] replaced by
  new_tensor[i]. index is 1-D of new_tensor's length, any dtype, truncated toward zero; new_tensor has old_tensor's
  rank, dtype and trailing dims, and at most as many rows. A repeated index keeps the last row. Gradients: old gets
  dy with the indexed rows zeroed, new gets dy's indexed rows, the index none (zeros).
- index_array(data, axes=None): int64 (d_1, ..., d_n, m) with idx[i_1, ..., i_n, j] = i_axes[j] (every axis when
  axes is None; negative axes count from the end; axes=() gives a last dim of 0). No gradient (zeros).
- boolean_mask(data, index, axis=0): the rows of data where index is non-zero (any non-zero value, 0.5 and -1
  too), in order; only axis 0 is supported ("Not supported yet" otherwise); index is 1-D of data.shape[0] entries,
  any dtype; no rows gives shape (0, ...). Gradient: dy's rows scattered back to the kept rows, zero elsewhere; the
  index gets none. Its output shape depends on index's values (`OpDef.value_shapes`): it runs imperatively and
  under autograd; a bound graph (simple_bind, which MXNet's executor refuses as well) or a hybridized block cannot
  infer it.
Differs on purpose: MXNet writes out of bounds for an index_copy index outside [0, old_tensor.shape[0]) (memory
corruption, or silently nothing); here that is an error naming the index. index_array's axes outside the data's
rank are refused here (MXNet does not check them).
"""
import numpy as np

from .autodiff import apply
from .cpu import contrib_indexing as cpu
from .elemwise import merge
from .errors import DTypeError, ShapeError
from .registry import Int, OpDef, OptShape, register


# ---- index_copy ---------------------------------------------------------------------------------------------------
def _index_copy_shape(p, in_shapes, out_shapes):
    old, index, new = in_shapes
    old = merge(old, out_shapes[0])
    if index is not None and len(index) != 1:
        raise ShapeError("_contrib_index_copy: index_vector must be 1-D, got shape %s" % (index,))
    if old is not None and new is not None:
        if len(new) != len(old):
            raise ShapeError("_contrib_index_copy: new_tensor %s must have old_tensor's rank (old_tensor %s)"
                             % (new, old))
        if old[0] and new[0] and new[0] > old[0]:
            raise ShapeError("_contrib_index_copy: new_tensor %s has more rows than old_tensor %s" % (new, old))
    # proposals win over what is known, so that the inference pass reports a conflict naming the input
    if old is not None:
        rows = index[0] if index is not None and index[0] else (new[0] if new is not None else 0)
        new = merge((rows,) + tuple(old[1:]), new)
    if new is not None:
        index = merge((new[0],), index)
    return [old, index, new], [old]


def _index_copy_type(p, in_types, out_types):
    old, index, new = in_types
    old = old if old is not None else (out_types[0] if out_types[0] is not None else new)
    return [old, index, old if old is not None else new], [old]


def _index_copy_grad(p, ins, outs, dys):
    d_old, d_new = apply("_contrib_backward_index_copy", dys[0], ins[1], ins[2])
    return [d_old, None, d_new]


register(OpDef("_contrib_index_copy", arguments=("old_tensor", "index_vector", "new_tensor"),
               infer_shape=_index_copy_shape, infer_type=_index_copy_type, gradient=_index_copy_grad,
               cpu=cpu.index_copy,
               doc="Copies the elements of a `new_tensor` into the `old_tensor`: row i of new_tensor becomes row "
                   "index[i] of the output, the other rows are old_tensor's. index is 1-D with new_tensor's number "
                   "of rows, which must not exceed old_tensor's."))


def _backward_index_copy_shape(p, in_shapes, out_shapes):
    dy, index, new = in_shapes
    dy, new = merge(dy, out_shapes[0]), merge(new, out_shapes[1])
    return [dy, index, new], [dy, new]


def _backward_index_copy_type(p, in_types, out_types):
    dy, index, new = in_types
    dy = dy if dy is not None else out_types[0]
    return [dy, index, dy if new is None else new], [dy, dy]


def _backward_index_copy_grad(p, ins, outs, dys):
    # linear in ograd; its adjoint puts the new rows' gradient over the old one's: index_copy itself
    d_old, d_new = (dy if dy is not None else apply("zeros_like", out) for dy, out in zip(dys, outs))
    return [apply("_contrib_index_copy", d_old, ins[1], d_new), None, None]


register(OpDef("_contrib_backward_index_copy", arguments=("ograd", "index_vector", "new_tensor"),
               outputs=("old_tensor_grad", "new_tensor_grad"), infer_shape=_backward_index_copy_shape,
               infer_type=_backward_index_copy_type, cpu=cpu.backward_index_copy,
               gradient=_backward_index_copy_grad,
               doc="Gradients of _contrib_index_copy: dy with the indexed rows zeroed (old_tensor), dy's indexed "
                   "rows (new_tensor)."))


# ---- index_array --------------------------------------------------------------------------------------------------
def _index_array_shape(p, in_shapes, out_shapes):
    data = in_shapes[0]
    if data is None:
        return list(in_shapes), list(out_shapes)
    return [data], [tuple(data) + (len(cpu.index_array_axes(p, len(data))),)]


register(OpDef("_contrib_index_array", params=dict(
    axes=OptShape(None, "The axes to include in the index array. Supports negative values.")),
    infer_shape=_index_array_shape, infer_type=lambda p, ins, outs: (list(ins), [np.dtype(np.int64)]),
    gradient=lambda p, ins, outs, dys: [None], cpu=cpu.index_array,
    doc="Returns an array of indexes of the input array: for data of shape (d_1, ..., d_n) an int64 array idx of "
        "shape (d_1, ..., d_n, n) with idx[i_1, ..., i_n, :] = [i_1, ..., i_n]; with `axes`, (d_1, ..., d_n, m) "
        "with idx[i_1, ..., i_n, j] = i_axes[j]."))


# ---- boolean_mask -------------------------------------------------------------------------------------------------
def _boolean_mask_check(p, data, index):
    if p.axis != 0:
        raise ShapeError("_contrib_boolean_mask: axis=%d is not supported, only axis=0 (as in MXNet 1.9.1)" % p.axis)
    if index is not None and len(index) != 1:
        raise ShapeError("_contrib_boolean_mask: index must be 1-D, got shape %s" % (index,))
    if data is not None and index is not None and data[0] and index[0] and data[0] != index[0]:
        raise ShapeError("_contrib_boolean_mask: index %s must have one entry per row of data %s" % (index, data))


def _boolean_mask_shape(p, in_shapes, out_shapes):
    """The graph passes' rule: the number of rows kept is known only from index's values, so a graph (a bound
    symbol, a hybridized block) cannot hold this op; the imperative path takes `_boolean_mask_values` instead."""
    data, index = in_shapes
    _boolean_mask_check(p, data, index)
    if data is None:
        return list(in_shapes), list(out_shapes)
    raise ShapeError("_contrib_boolean_mask: the output's shape depends on the values of `index`, so it cannot be "
                     "inferred in a graph (a bound symbol or a hybridized block; MXNet 1.9.1's executor refuses it "
                     "too): call it imperatively, as mx.nd.contrib.boolean_mask (autograd records it)")


def _boolean_mask_values(p, values):
    data, index = values
    _boolean_mask_check(p, data.shape, index.shape)
    return [(int(np.count_nonzero(index)),) + data.shape[1:]]


def _boolean_mask_type(p, in_types, out_types):
    data = in_types[0] if in_types[0] is not None else out_types[0]
    return [data, in_types[1]], [data]


def _boolean_mask_grad(p, ins, outs, dys):
    return [apply("_contrib_backward_boolean_mask", dys[0], ins[0], ins[1], axis=p.axis), None]


_AXIS = {"axis": Int(0, "An integer that represents the axis in NDArray to mask from.")}
register(OpDef("_contrib_boolean_mask", arguments=("data", "index"), params=_AXIS, infer_shape=_boolean_mask_shape,
               infer_type=_boolean_mask_type, value_shapes=_boolean_mask_values, gradient=_boolean_mask_grad,
               cpu=cpu.boolean_mask,
               doc="Given an n-d NDArray data, and a 1-d NDArray index, the operator produces an un-predeterminable "
                   "shaped n-d NDArray out, which stands for the rows in x where the corresponding element in index "
                   "is non-zero. Its shape depends on index's values, so it runs imperatively (and under autograd), "
                   "not in a bound graph."))


def _backward_boolean_mask_shape(p, in_shapes, out_shapes):
    dy, data, index = in_shapes
    data = merge(data, out_shapes[0])
    return [dy, data, index], [data]


def _backward_boolean_mask_type(p, in_types, out_types):
    dy, data, index = in_types
    if dy is not None and data is not None and np.dtype(dy) != np.dtype(data):
        raise DTypeError("_contrib_backward_boolean_mask: ograd %s and data %s differ" % (dy, data))
    data = data if data is not None else dy
    return [data, data, index], [data]


register(OpDef("_contrib_backward_boolean_mask", arguments=("ograd", "data", "index"), params=_AXIS,
               infer_shape=_backward_boolean_mask_shape, infer_type=_backward_boolean_mask_type,
               cpu=cpu.backward_boolean_mask,
               doc="Gradient of _contrib_boolean_mask with respect to data: dy's rows at the kept rows, zero "
                   "elsewhere."))
