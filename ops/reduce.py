"""Reductions (sum, mean, prod, max, min, nansum, nanprod, norm), argmax/argmin, and ordering (topk, sort, argsort).

Facts, all checked on MXNet 1.9.1 (native CPU kernels):
- Reducing every axis without keepdims gives shape (1,), not (). No axis (None or `()`) reduces every axis even with
  `exclude=True`; otherwise `exclude=True` reduces the axes NOT listed (listing all of them reduces nothing). An axis
  out of range or listed twice (`(1, -1)` on 2-d data) is an error. norm has no `exclude`.
- Every dtype keeps its dtype. Integer sums and products wrap in the dtype; an integer mean is that wrapped sum
  divided with C++ truncation (int8 [100, 100, 100] -> 300 wraps to 44 -> 14). float16 accumulates in float32.
- nansum / nanprod treat NaN as 0 / 1 (an all-NaN lane gives 0 / 1); their gradient is 0 at the NaNs.
- norm: `ord` 1 or 2 only; `out_dtype` one of float16, float32, float64, int32, int64, int8 gives the output's
  dtype (MXNet 1.9.1 infers that dtype but its kernel then fails unless it equals the data's: we cast). Integer
  data is accepted. MXNet's integer L2 norm runs its scaled sum of squares in integer arithmetic and returns
  about max|x| (int32 [-11, -7, -3] -> 11); here it is floor(sqrt(sum x*x)) (13), the norm the docs describe.
- argmax / argmin: `axis` is one int or None (the flattened data); the output has the data's dtype (float32 data:
  float32 indices), the first occurrence wins ties and a NaN counts as the extreme; the gradient is zero.
  argmax_channel is argmax over axis 1 without keepdims and has no gradient. bool data is refused.
- topk: axis -1, k 1 (k < 1: the whole axis), ret_typ 'indices', is_ascend False, dtype float32 (the indices' dtype,
  one of float16, float32, float64, int32, int64, uint8). 'value' and 'both' give the data's dtype and a k-long
  axis ('value' keeps the indices as a hidden second output, as MXNet does, for the gradient); 'mask' gives the
  data's shape and dtype (the `dtype` param is ignored); axis=None works on the flattened data. k larger than the
  axis is an error. The gradient of 'value'/'both' scatters the head gradient back; 'indices'/'mask' give zero.
- sort (is_ascend True; a hidden indices output) and argsort (is_ascend True, dtype float32; zero gradient). MXNet
  1.9.1 cannot build sort's backward (`_backward_topk` rejects its own axis attribute); ours scatters the head
  gradient back through the indices, as topk's does. MXNet refuses float16 in sort and argsort (not in topk);
  we take it. Hidden indices are int64 here (our choice: MXNet's are internal).
- Ties: MXNet's CPU kernels order with std::sort / std::partial_sort, so the order among tied elements is
  unspecified: stable for lanes of up to 16 elements (libstdc++'s insertion sort), arbitrary beyond. Ours is always
  stable (ties keep their index order, in both directions), which agrees with MXNet wherever MXNet is stable. NaN
  counts as the largest value (MXNet's comparator leaves NaNs unordered).
- Gradients: max/min give the head gradient to every tied element; prod's is dy * out / x (NaN at a zero, as
  MXNet's); the L2 norm's is dy * x / norm, 0 where the norm is 0 (MXNet gives NaN there, 0/0).
"""
import numpy as np

from .autodiff import apply
from .cpu import reduce as cpu
from .cpu.reduce import one_axis, reduced_axes, topk_k
from .elemwise import fmt, merge, size
from .errors import DTypeError, ShapeError
from .registry import Bool, DType, Enum, Int, OpDef, OptInt, OptShape, register, same_dtype

# ---------------------------------------------------------------------------------------------------------------
# Reductions over `axis`
# ---------------------------------------------------------------------------------------------------------------


def reduced_shape(p, shape, name):
    axes = reduced_axes(p, shape, name)
    if p.keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    out = tuple(d for i, d in enumerate(shape) if i not in axes)
    return out or (1,)


def _reduce_shape_rule(name):
    def rule(p, in_shapes, out_shapes):
        data = in_shapes[0]
        if name == "norm" and p.ord not in (1, 2):
            raise ShapeError("norm: ord must be 1 or 2, got ord=%d" % p.ord)
        if data is None:
            return list(in_shapes), list(out_shapes)
        if len(data) == 0:
            raise ShapeError("%s: the input needs at least one dimension, got %s" % (name, fmt(data)))
        return list(in_shapes), [reduced_shape(p, data, name)]
    return rule


_AXIS = OptShape(None, "The axis or axes to reduce over; all by default.")
_KEEPDIMS = Bool(False, "Keep the reduced axes with size 1.")
REDUCE_PARAMS = dict(axis=_AXIS, keepdims=_KEEPDIMS, exclude=Bool(False, "Reduce over the axes not in `axis`."))


def _reduce_grad(mode):
    def rule(p, ins, outs, dys):
        grad_mode = "norm%d" % p.ord if mode == "norm" else mode
        return [apply("_backward_reduce", dys[0], ins[0], outs[0], mode=grad_mode, axis=p.axis,
                      keepdims=p.keepdims, exclude=getattr(p, "exclude", False))]
    return rule


def reduction(name, kernel, aliases=(), params=REDUCE_PARAMS, infer_type=same_dtype, doc=""):
    return register(OpDef(name, params=dict(params), infer_shape=_reduce_shape_rule(name), infer_type=infer_type,
                          cpu=kernel, gradient=_reduce_grad(name), aliases=tuple(aliases), doc=doc))


_NORM_DTYPES = ("float16", "float32", "float64", "int32", "int64", "int8")


# out: out_dtype when given (data's dtype cannot then be inferred from it), else data's dtype.
def _norm_type(p, in_types, out_types):
    if p.out_dtype is None:
        return same_dtype(p, in_types, out_types)
    if p.out_dtype.name not in _NORM_DTYPES:
        raise DTypeError("norm: out_dtype=%s is not one of None, %s" % (p.out_dtype.name, ", ".join(_NORM_DTYPES)))
    return list(in_types), [p.out_dtype]


reduction("sum", cpu.sum_, ("sum_axis",), doc="The sum of array elements over the given axes.")
reduction("mean", cpu.mean, doc="The mean of array elements over the given axes.")
reduction("prod", cpu.prod, doc="The product of array elements over the given axes.")
reduction("max", cpu.max_, ("max_axis",), doc="The maximum of array elements over the given axes.")
reduction("min", cpu.min_, ("min_axis",), doc="The minimum of array elements over the given axes.")
reduction("nansum", cpu.nansum, doc="The sum of array elements over the given axes, treating NaN as 0.")
reduction("nanprod", cpu.nanprod, doc="The product of array elements over the given axes, treating NaN as 1.")
reduction("norm", cpu.norm, infer_type=_norm_type,
          params=dict(ord=Int(2, "Order of the norm: 1 or 2."), axis=_AXIS,
                      out_dtype=DType(None, "The dtype of the output (default: the data's)."), keepdims=_KEEPDIMS),
          doc="The L1 or L2 norm over the given axes (all elements by default).")


def _backward_reduce_shape(p, in_shapes, out_shapes):
    data = merge(in_shapes[1], out_shapes[0])
    return [in_shapes[0], data, in_shapes[2]], [data]


def _backward_reduce_type(p, in_types, out_types):
    data = in_types[1] if in_types[1] is not None else out_types[0]
    return [in_types[0], data, in_types[2]], [data]


# The math of each mode is above cpu.backward_reduce.
register(OpDef("_backward_reduce", arguments=("out_grad", "data", "output"),
               params=dict(REDUCE_PARAMS, mode=Enum(("sum", "mean", "prod", "max", "min", "nansum", "nanprod", "norm1",
                                               "norm2"))),
               infer_shape=_backward_reduce_shape, infer_type=_backward_reduce_type, cpu=cpu.backward_reduce,
               doc="The gradient of a reduction with respect to its input."))


# ---------------------------------------------------------------------------------------------------------------
# argmax, argmin, argmax_channel
# ---------------------------------------------------------------------------------------------------------------

def _no_bool(name, rule=same_dtype):
    """`rule`, refusing bool data (MXNet's index and ordering kernels do not take it)."""
    def checked(p, in_types, out_types):
        in_types, out_types = rule(p, in_types, out_types)
        if in_types[0] is not None and np.dtype(in_types[0]).kind == "b":
            raise DTypeError("%s: bool data is not supported" % name)
        return in_types, out_types
    return checked


def _arg_shape_rule(name):
    # axis=None: (1,) (keepdims: 1 in every dim); axis a: the data's shape without a (keepdims: with 1 there).
    def rule(p, in_shapes, out_shapes):
        data = in_shapes[0]
        if data is None:
            return list(in_shapes), list(out_shapes)
        axis = one_axis(p.axis, data, name)
        if axis is None:
            out = (1,) * len(data) if p.keepdims else (1,)
        elif p.keepdims:
            out = data[:axis] + (1,) + data[axis + 1:]
        else:
            out = (data[:axis] + data[axis + 1:]) or (1,)
        return list(in_shapes), [out]
    return rule


def _zero_grad(p, ins, outs, dys):
    return [None]


_ARG_PARAMS = dict(axis=OptInt(None, "The axis along which to search; None searches the flattened data."),
                   keepdims=_KEEPDIMS)
for _name, _kernel, _what in (("argmax", cpu.argmax, "maximum"), ("argmin", cpu.argmin, "minimum")):
    register(OpDef(_name, params=_ARG_PARAMS, infer_shape=_arg_shape_rule(_name), infer_type=_no_bool(_name),
                   cpu=_kernel, gradient=_zero_grad,
                   doc="Indices of the %s values along an axis (first occurrence), in the data's dtype." % _what))


def _argmax_channel_shape(p, in_shapes, out_shapes):
    data = in_shapes[0]
    if data is None:
        return list(in_shapes), list(out_shapes)
    if len(data) < 2:
        raise ShapeError("argmax_channel: the data needs a channel axis 1, got shape %s" % fmt(data))
    return list(in_shapes), [data[:1] + data[2:]]


register(OpDef("argmax_channel", infer_shape=_argmax_channel_shape, infer_type=_no_bool("argmax_channel"),
               cpu=cpu.argmax_channel, doc="Indices of the maximum values along axis 1 (the channels)."))


# ---------------------------------------------------------------------------------------------------------------
# topk, sort, argsort
# ---------------------------------------------------------------------------------------------------------------

_INDEX_DTYPES = ("float16", "float32", "float64", "int32", "int64", "uint8")
_HIDDEN_INDICES = np.dtype(np.int64)      # the hidden indices of topk 'value' and sort (ours to choose)


def _index_dtype(name, dtype):
    if dtype.name not in _INDEX_DTYPES:
        raise DTypeError("%s: dtype=%s is not one of %s" % (name, dtype.name, ", ".join(_INDEX_DTYPES)))
    return dtype


def _sorted_shape(name, data, axis, k):
    """The shape of the first k of each sorted lane (axis None: of the flattened data)."""
    axis = one_axis(axis, data, name)
    n = size(data) if axis is None else data[axis]
    if n and k > n:
        raise ShapeError("%s: k=%d is larger than the %d elements %s of the input of shape %s"
                         % (name, k, n, "in all" if axis is None else "along axis %d" % axis, fmt(data)))
    k = topk_k(k, n)
    return (k,) if axis is None else data[:axis] + (k,) + data[axis + 1:]


def _topk_outputs(p):
    return ("output0", "output1") if p.ret_typ in ("value", "both") else ("output",)


def _topk_shape(p, in_shapes, out_shapes):
    data = in_shapes[0]
    if data is None:
        return list(in_shapes), list(out_shapes)
    if len(data) == 0:
        raise ShapeError("topk: the input needs at least one dimension, got %s" % fmt(data))
    out = _sorted_shape("topk", data, p.axis, p.k)
    if p.ret_typ == "mask":
        out = data
    return list(in_shapes), [out] * len(_topk_outputs(p))


# values, mask: the data's dtype; indices: `dtype`; 'value' hides int64 indices.
def _topk_type(p, in_types, out_types):
    index = _index_dtype("topk", p.dtype)
    data = in_types[0]
    if data is None and p.ret_typ != "indices":
        data = out_types[0]
    outs = {"indices": [index], "mask": [data], "both": [data, index], "value": [data, _HIDDEN_INDICES]}
    return [data], outs[p.ret_typ]


# d data = the value output's gradient scattered back through the indices; indices and masks have none.
def _topk_grad(p, ins, outs, dys):
    if p.ret_typ not in ("value", "both") or dys[0] is None:
        return [None]
    return [apply("_backward_topk", dys[0], outs[1], ins[0], axis=p.axis)]


register(OpDef("topk", params=dict(axis=OptInt(-1, "Axis along which to choose; None: the flattened data."),
                                   k=Int(1, "Number of elements to select; k < 1 selects the whole axis."),
                                   ret_typ=Enum(("both", "indices", "mask", "value"), "indices",
                                                "What to return: values, indices, both, or a 0/1 mask."),
                                   is_ascend=Bool(False, "Select the smallest elements instead of the largest."),
                                   dtype=DType(np.dtype(np.float32), "The dtype of the indices.")),
               outputs=_topk_outputs, num_visible_outputs=lambda p: 2 if p.ret_typ == "both" else 1,
               infer_shape=_topk_shape, infer_type=_no_bool("topk", _topk_type), cpu=cpu.topk,
               gradient=_topk_grad, doc="The top k elements (or their indices, or a mask) along an axis."))


def _sort_shape(name, n_out):
    def rule(p, in_shapes, out_shapes):
        data = in_shapes[0]
        if data is None:
            out = merge(None, out_shapes[0])
            return [out if out is not None and p.axis is not None else None], [out] * n_out
        if len(data) == 0:
            raise ShapeError("%s: the input needs at least one dimension, got %s" % (name, fmt(data)))
        return list(in_shapes), [_sorted_shape(name, data, p.axis, 0)] * n_out
    return rule


def _sort_type(p, in_types, out_types):
    data = in_types[0] if in_types[0] is not None else out_types[0]
    return [data], [data, _HIDDEN_INDICES]


def _argsort_type(p, in_types, out_types):
    return list(in_types), [_index_dtype("argsort", p.dtype)]


def _sort_grad(p, ins, outs, dys):
    return [apply("_backward_topk", dys[0], outs[1], ins[0], axis=p.axis)]


_SORT_AXIS = OptInt(-1, "Axis along which to sort; None: the flattened data.")
register(OpDef("sort", params=dict(axis=_SORT_AXIS, is_ascend=Bool(True, "Sort in ascending order.")),
               outputs=("output0", "output1"), num_visible_outputs=lambda p: 1, infer_shape=_sort_shape("sort", 2),
               infer_type=_no_bool("sort", _sort_type), cpu=cpu.sort, gradient=_sort_grad,
               doc="The data sorted along an axis (a stable sort)."))
register(OpDef("argsort", params=dict(axis=_SORT_AXIS, is_ascend=Bool(True, "Sort in ascending order."),
                                      dtype=DType(np.dtype(np.float32), "The dtype of the indices.")),
               infer_shape=_sort_shape("argsort", 1), infer_type=_no_bool("argsort", _argsort_type),
               cpu=cpu.argsort, gradient=_zero_grad,
               doc="The indices that sort the data along an axis (a stable sort)."))


def _backward_topk_shape(p, in_shapes, out_shapes):
    data = merge(in_shapes[2], out_shapes[0])
    return [in_shapes[0], in_shapes[1], data], [data]


def _backward_topk_type(p, in_types, out_types):
    data = in_types[2] if in_types[2] is not None else out_types[0]
    return [in_types[0], in_types[1], data], [data]


register(OpDef("_backward_topk", arguments=("out_grad", "indices", "data"), params=dict(axis=_SORT_AXIS),
               infer_shape=_backward_topk_shape, infer_type=_backward_topk_type, cpu=cpu.backward_topk,
               doc="The gradient of topk's and sort's values: the head gradient scattered back to the data."))

# ---------------------------------------------------------------------------------------------------------------
# _np_cumsum (numpy mode's `np.cumsum`): axis None works on the flattened data; without `dtype` the data's dtype is
# kept (int32 stays int32, unlike NumPy) and bool data sums as int64 (both checked on MXNet 1.9.1).
# ---------------------------------------------------------------------------------------------------------------


def _cumsum_shape(p, in_shapes, out_shapes):
    data = in_shapes[0]
    if data is None:
        return list(in_shapes), list(out_shapes)
    if p.axis is None:
        return [data], [(size(data),)]
    one_axis(p.axis, data, "_np_cumsum")
    return [data], [merge(data, out_shapes[0])]


def _cumsum_type(p, in_types, out_types):
    data = in_types[0]
    if p.dtype is not None:
        return [data], [p.dtype]
    if data is None:
        return list(in_types), list(out_types)
    return [data], [np.dtype(np.int64) if np.dtype(data).kind == "b" else data]


def _cumsum_grad(p, ins, outs, dys):
    return [apply("_backward_np_cumsum", dys[0], ins[0], axis=p.axis)]


_CUMSUM_AXIS = OptInt(None, "Axis along which the cumulative sum is computed; None: the flattened data.")
register(OpDef("_np_cumsum", params=dict(axis=_CUMSUM_AXIS,
                                         dtype=DType(None, "The dtype of the output and of the accumulator.")),
               infer_shape=_cumsum_shape, infer_type=_cumsum_type, cpu=cpu.np_cumsum, gradient=_cumsum_grad,
               doc="The cumulative sum of the elements along an axis."))


def _backward_cumsum_type(p, in_types, out_types):
    data = in_types[1] if in_types[1] is not None else out_types[0]
    return [in_types[0], data], [data]


register(OpDef("_backward_np_cumsum", arguments=("out_grad", "data"), params=dict(axis=_CUMSUM_AXIS),
               infer_shape=lambda p, ins, outs: ([ins[0], merge(ins[1], outs[0])], [merge(ins[1], outs[0])]),
               infer_type=_backward_cumsum_type, cpu=cpu.backward_np_cumsum,
               doc="The gradient of _np_cumsum: the head gradient's reversed cumulative sum along the axis."))
