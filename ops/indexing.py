"""Slicing, indexing and selection ops: slice, slice_axis, slice_like, take, pick, gather_nd, scatter_nd, one_hot,
Embedding, where, clip, and the sequence ops SequenceMask, SequenceLast, SequenceReverse, with their `_backward_*`
ops. Kernels: ops/cpu/indexing.py.

Names, params, defaults and aliases are MXNet 1.9.1's (checked on it, native CPU kernels). Facts worth knowing:
- slice follows Python's slice semantics per axis (None, negative and out-of-range bounds, negative steps), and an
  empty result is allowed; slice_axis instead requires 0 <= begin < end <= size after wrapping negatives.
- Indices may have any dtype (float32 is common) and are truncated toward zero. take and pick clip (default) or
  wrap out-of-range indices, and take's 'raise' also rejects negative ones; Embedding clips; one_hot gives an
  all-off row for an index outside [0, depth); gather_nd counts a negative index from the end and raises for one
  out of range; scatter_nd drops negative and out-of-range indices, and a repeated index keeps the last value.
- Gradients: take, pick, gather_nd and Embedding scatter-add rows (repeats accumulate, clipped or wrapped as in
  the forward); indices, conditions and sequence lengths get none.
- pick's index is data's shape without `axis`, or with it as 1 (either, whatever keepdims says); axis=None is
  rejected, as in MXNet. Embedding's output takes the weight's dtype; the `dtype` param only gives an unknown
  weight its dtype. sparse_grad is accepted and ignored (the gradient is dense).
- where's condition has x's shape, or is 1-D over x's first axis; NaN counts as true. clip tests x > a_max first,
  then x < a_min (in double precision); its gradient passes where a_min <= x <= a_max.
- SequenceMask and SequenceLast take axis 0 or 1, SequenceReverse only 0; a length truncates toward zero. The
  sequence_length input exists only with use_sequence_length=True; its dtype defaults to data's.
"""

import numpy as np

from .autodiff import apply
from .cpu import indexing as cpu
from .elemwise import fmt, merge, same_shape_rule
from .errors import DTypeError, ShapeError
from .registry import Bool, DType, Enum, Float, Int, OpDef, OptInt, OptInts, Shape, register, same_dtype
from .shape import _backward, _lhs_type, _norm_axis, _types_like_data


def _like_third(p, in_shapes, out_shapes):
    """Backward ops (ograd, indices, data) whose one output is shaped like data."""
    ins = list(in_shapes)
    ins[2] = merge(ins[2], out_shapes[0])
    return ins, [ins[2]]


def _types_like_third(p, in_types, out_types):
    ins = list(in_types)
    ins[0] = ins[0] if ins[0] is not None else out_types[0]
    return ins, [ins[0] if ins[0] is not None else ins[2]]


def _scatter_backward(name, kernel, params, doc):
    return register(OpDef(name, arguments=("ograd", "indices", "data"), params=params,
                          infer_shape=_like_third, infer_type=_types_like_third, cpu=kernel,
                          doc="Backward of %s (internal): dy's rows added at the indexed positions." % doc))


# ---------------------------------------------------------------------------------------------------------------
# slice, slice_axis, slice_like: the backward puts dy into zeros of the input's shape
# ---------------------------------------------------------------------------------------------------------------


def _slice_check(p, ndim):
    begin, end, step = tuple(p.begin), tuple(p.end), tuple(p.step)
    if all(s is None for s in step):
        step = ()       # step=None (read as (None,)) or all None: every step is 1
    if len(begin) != len(end):
        raise ShapeError("slice: begin=%s and end=%s must have the same length" % (begin, end))
    if step and len(step) != len(begin):
        raise ShapeError("slice: step=%s and begin=%s must have the same length" % (step, begin))
    if len(begin) > ndim:
        raise ShapeError("slice: begin=%s slices more axes than the input's %d" % (begin, ndim))
    if any(s == 0 for s in step):
        raise ShapeError("slice: step=%s cannot contain 0" % (step,))
    return [slice(b, e, step[i] if step else None) for i, (b, e) in enumerate(zip(begin, end))]


def slice_region(p, shape):
    """The tuple of Python slices `slice` takes of an array of `shape`."""
    return tuple(_slice_check(p, len(shape)))


def _slice_shape(p, in_shapes, out_shapes):
    data, out = in_shapes[0], out_shapes[0]
    if data is None:
        return list(in_shapes), list(out_shapes)
    region = _slice_check(p, len(data))
    lengths = [len(range(*s.indices(d))) if d else 0 for s, d in zip(region, data)]
    out = merge(tuple(lengths) + tuple(data[len(region):]), out)
    return [merge(data, (0,) * len(region) + tuple(out[len(region):]))], [out]


_SLICE = dict(begin=OptInts(doc="Starting indices for the slice operation, supports negative indices."),
              end=OptInts(doc="Ending indices for the slice operation, supports negative indices."),
              step=OptInts((), "Step for the slice operation, supports negative values."))
register(OpDef("slice", aliases=("crop", "_npx_slice"), params=_SLICE, infer_shape=_slice_shape, cpu=cpu.slice_,
               gradient=lambda p, ins, outs, dys: [apply("_backward_slice", dys[0], ins[0], **p.as_dict())],
               doc="Slices a region of the array: data[begin[0]:end[0]:step[0], ...], with None and negative "
                   "values as in Python."))
_backward("_backward_slice", cpu.backward_slice, _SLICE, "slice: dy in zeros")


def _slice_axis_bounds(p, shape):
    """(axis, begin, end) normalised for an input of `shape`; raises for MXNet's invalid ranges."""
    a = _norm_axis("slice_axis", p.axis, len(shape))
    size = shape[a]
    begin = p.begin + size if p.begin < 0 else p.begin
    end = size if p.end is None else (p.end + size if p.end < 0 else p.end)
    if size and not 0 <= begin < end <= size:
        raise ShapeError("slice_axis: begin=%s, end=%s is not a non-empty range of axis %d of size %d"
                         % (p.begin, p.end, a, size))
    return a, begin, end


def slice_axis_region(p, shape):
    a, begin, end = _slice_axis_bounds(p, shape)
    return (slice(None),) * a + (slice(begin, end),)


def _slice_axis_shape(p, in_shapes, out_shapes):
    data, out = in_shapes[0], out_shapes[0]
    if data is None:
        return list(in_shapes), list(out_shapes)
    a, begin, end = _slice_axis_bounds(p, data)
    known_len = data[a] or (p.begin >= 0 and p.end is not None and p.end >= 0)
    out = merge(tuple((max(end - begin, 0) if known_len else 0) if i == a else d for i, d in enumerate(data)), out)
    return [merge(data, tuple(0 if i == a else o for i, o in enumerate(out)))], [out]


_SLICE_AXIS = dict(axis=Int(doc="Axis along which to be sliced, supports negative indexes."),
                   begin=Int(doc="The beginning index along the axis to be sliced, supports negative indexes."),
                   end=OptInt(doc="The ending index along the axis to be sliced, supports negative indexes."))
register(OpDef("slice_axis", params=_SLICE_AXIS, infer_shape=_slice_axis_shape, cpu=cpu.slice_axis,
               gradient=lambda p, ins, outs, dys: [apply("_backward_slice_axis", dys[0], ins[0], **p.as_dict())],
               doc="Slices along a given axis from begin to end."))
_backward("_backward_slice_axis", cpu.backward_slice_axis, _SLICE_AXIS, "slice_axis: dy in zeros")


def _slice_like_shape(p, in_shapes, out_shapes):
    data, like = in_shapes
    if data is None or like is None:
        return list(in_shapes), list(out_shapes)
    if not p.axes:
        if len(data) != len(like):
            raise ShapeError("slice_like: without axes, data %s and shape_like %s need the same number of "
                             "dimensions" % (fmt(data), fmt(like)))
        axes = range(len(data))
    else:
        axes = []
        for a in p.axes:                           # counted on data's axes, then looked up in shape_like
            axes.append(_norm_axis("slice_like", a, len(data)))
            if axes[-1] >= len(like):
                raise ShapeError("slice_like: axis %d is out of range for shape_like %s" % (a, fmt(like)))
    out = list(data)
    for a in axes:
        if data[a] and like[a] and like[a] > data[a]:
            raise ShapeError("slice_like: axis %d of shape_like %s is larger than data's %s"
                             % (a, fmt(like), fmt(data)))
        out[a] = like[a]
    return list(in_shapes), [merge(tuple(out), out_shapes[0])]


register(OpDef("slice_like", arguments=("data", "shape_like"),
               params=dict(axes=Shape((), "Axes on which data is sliced to shape_like's size; all by default.")),
               infer_shape=_slice_like_shape, infer_type=_lhs_type, cpu=cpu.slice_like,
               gradient=lambda p, ins, outs, dys: [apply("_backward_slice_like", dys[0], ins[0]), None],
               doc="Slices data (from 0) to the shape of shape_like, on all axes or the given ones."))
_backward("_backward_slice_like", cpu.backward_slice_like, {}, "slice_like: dy in zeros")

# ---------------------------------------------------------------------------------------------------------------
# take
# ---------------------------------------------------------------------------------------------------------------


# out = a.shape[:axis] + indices.shape + a.shape[axis+1:]
def _take_shape(p, in_shapes, out_shapes):
    a, idx = in_shapes
    out = out_shapes[0]
    if a is None:
        return list(in_shapes), list(out_shapes)
    axis = _norm_axis("take", p.axis, len(a))
    if idx is None and out is not None and len(out) >= len(a):
        idx = tuple(out[axis:axis + len(out) - len(a) + 1])
    if idx is None:
        return [a, idx], [out]
    out = merge(tuple(a[:axis]) + tuple(idx) + tuple(a[axis + 1:]), out)
    k = len(idx)
    a = merge(a, tuple(out[:axis]) + (a[axis],) + tuple(out[axis + k:]))
    return [a, merge(idx, tuple(out[axis:axis + k]))], [out]


_TAKE = dict(axis=Int(0, "The axis of input array to be taken, in [-r, r-1]."),
             mode=Enum(("clip", "raise", "wrap"), "clip", "How out-of-bound indices behave."))
register(OpDef("take", arguments=("a", "indices"), params=_TAKE, infer_shape=_take_shape, infer_type=_lhs_type,
               cpu=cpu.take,
               gradient=lambda p, ins, outs, dys: [apply("_backward_take", dys[0], ins[1], ins[0], **p.as_dict()),
                                                   None],
               doc="Takes elements from an input array along the given axis."))
_scatter_backward("_backward_take", cpu.backward_take, _TAKE, "take")

# ---------------------------------------------------------------------------------------------------------------
# pick
# ---------------------------------------------------------------------------------------------------------------


def _pick_shape(p, in_shapes, out_shapes):
    data, index = in_shapes
    out = out_shapes[0]
    if p.axis is None:
        raise ShapeError("pick: axis=None is not supported; give an axis")
    if data is None:
        return list(in_shapes), list(out_shapes)
    a = _norm_axis("pick", p.axis, len(data))
    without = tuple(d for i, d in enumerate(data) if i != a) or (1,)      # MXNet 1.x has no 0-d arrays
    kept = tuple(1 if i == a else d for i, d in enumerate(data))
    if index is not None:
        form = kept if len(index) == len(data) else without
        if len(index) != len(form) or any(x and y and x != y for x, y in zip(index, form)):
            raise ShapeError("pick: index %s must have data %s's shape without axis %d, %s (or with it as 1)"
                             % (fmt(index), fmt(data), a, fmt(without)))
        index = merge(index, form)
    out = merge(kept if p.keepdims else without, out)
    if len(data) > 1:                                  # data's other dims, back from the output
        data = merge(data, tuple(out[:a]) + (data[a],) + tuple(out[a + int(p.keepdims):]))
    return [data, index if index is not None else without], [out]


_PICK = dict(axis=OptInt(-1, "The axis to pick the elements along; negative values count from the right."),
             keepdims=Bool(False, "Keep the picked axis as a dimension of size one."),
             mode=Enum(("clip", "wrap"), "clip", "How out-of-bound indices behave."))
register(OpDef("pick", aliases=("choose_element_0index", "_npx_pick"), arguments=("data", "index"), params=_PICK,
               infer_shape=_pick_shape, infer_type=_lhs_type, cpu=cpu.pick,
               gradient=lambda p, ins, outs, dys: [apply("_backward_pick", dys[0], ins[1], ins[0], **p.as_dict()),
                                                   None],
               doc="Picks elements from an input array according to the indices along the given axis."))
_scatter_backward("_backward_pick", cpu.backward_pick, _PICK, "pick")

# ---------------------------------------------------------------------------------------------------------------
# gather_nd, scatter_nd
# ---------------------------------------------------------------------------------------------------------------


# indices (M, Y...) index data's first M axes: out = Y + data.shape[M:]
def _gather_nd_shape(p, in_shapes, out_shapes):
    data, idx = in_shapes
    if idx is not None and len(idx) < 2:
        raise ShapeError("gather_nd: indices %s need at least 2 dimensions (M, ...)" % fmt(idx))
    if data is None or idx is None or not idx[0]:
        return list(in_shapes), list(out_shapes)
    if idx[0] > len(data):
        raise ShapeError("gather_nd: indices %s index %d axes, data %s has %d"
                         % (fmt(idx), idx[0], fmt(data), len(data)))
    return list(in_shapes), [merge(tuple(idx[1:]) + tuple(data[idx[0]:]), out_shapes[0])]


register(OpDef("gather_nd", aliases=("_npx_gather_nd",), arguments=("data", "indices"),
               infer_shape=_gather_nd_shape, infer_type=_lhs_type, cpu=cpu.gather_nd,
               gradient=lambda p, ins, outs, dys: [apply("_backward_gather_nd", dys[0], ins[1], ins[0]), None],
               doc="Gathers elements or slices from data: out[y] = data[indices[0, y], ..., indices[M-1, y]]."))
_scatter_backward("_backward_gather_nd", cpu.backward_gather_nd, {}, "gather_nd")


# out = zeros(shape) with out[indices[:, y]] = data[y]: data = indices.shape[1:] + shape[M:]
def _scatter_nd_shape(p, in_shapes, out_shapes):
    data, idx = in_shapes
    shape = tuple(p.shape)
    if idx is not None and len(idx) < 2:
        raise ShapeError("scatter_nd: indices %s need at least 2 dimensions (M, ...)" % fmt(idx))
    if idx is not None and idx[0]:
        if idx[0] > len(shape):
            raise ShapeError("scatter_nd: indices %s index %d axes, shape=%s has %d"
                             % (fmt(idx), idx[0], shape, len(shape)))
        want = tuple(idx[1:]) + shape[idx[0]:]
        if data is not None and (len(data) != len(want) or any(a and b and a != b for a, b in zip(data, want))):
            raise ShapeError("scatter_nd: data %s, indices %s and shape=%s do not fit: data should be %s"
                             % (fmt(data), fmt(idx), shape, fmt(want)))
        data = merge(data, want)
    return [data, idx], [merge(shape, out_shapes[0])]


# d scatter_nd = gather_nd(dy, indices) (exact when no index repeats)
register(OpDef("scatter_nd", arguments=("data", "indices"), params=dict(shape=Shape(doc="Shape of output.")),
               infer_shape=_scatter_nd_shape, infer_type=_lhs_type, cpu=cpu.scatter_nd,
               gradient=lambda p, ins, outs, dys: [apply("gather_nd", dys[0], ins[1]), None],
               doc="Scatters data into a new tensor of `shape` at the given indices (zeros elsewhere)."))

# ---------------------------------------------------------------------------------------------------------------
# one_hot, Embedding
# ---------------------------------------------------------------------------------------------------------------


def _one_hot_shape(p, in_shapes, out_shapes):
    idx, out = in_shapes[0], out_shapes[0]
    if p.depth < 0:
        raise ShapeError("one_hot: depth=%d must be a non-negative integer" % p.depth)
    if idx is not None:
        out = merge(tuple(idx) + (p.depth,), out)
    elif out is not None and len(out) > 0:
        idx = tuple(out[:-1])
    return [idx], [out]


def _param_dtype_out(p, in_types, out_types):
    return list(in_types), [p.dtype]


register(OpDef("one_hot", aliases=("_npx_one_hot",), arguments=("indices",), params=dict(
                   depth=Int(doc="Depth of the one hot dimension."),
                   on_value=Float(1.0, "The value assigned to the locations represented by indices."),
                   off_value=Float(0.0, "The value assigned to the locations not represented by indices."),
                   dtype=DType(np.dtype(np.float32), "DType of the output")),
               infer_shape=_one_hot_shape, infer_type=_param_dtype_out, cpu=cpu.one_hot,
               gradient=lambda p, ins, outs, dys: [None],
               doc="Returns a one-hot array: indices.shape + (depth,), on_value at each index, off_value elsewhere."))


# weight (input_dim, output_dim); out = data.shape + (output_dim,)
def _embedding_shape(p, in_shapes, out_shapes):
    data, out = in_shapes[0], out_shapes[0]
    if p.input_dim < 1 or p.output_dim < 1:
        raise ShapeError("Embedding: input_dim=%d and output_dim=%d must be positive" % (p.input_dim, p.output_dim))
    if data is not None:
        out = merge(tuple(data) + (p.output_dim,), out)
    if out is not None and len(out) > 0:
        data = merge(data, tuple(out[:-1]))
    return [data, (p.input_dim, p.output_dim)], [out]


def _embedding_type(p, in_types, out_types):
    weight = in_types[1] if in_types[1] is not None else (out_types[0] if out_types[0] is not None else p.dtype)
    return [in_types[0], weight], [weight]


_EMB = dict(input_dim=Int(doc="Vocabulary size of the input indices."),
            output_dim=Int(doc="Dimension of the embedding vectors."),
            dtype=DType(np.dtype(np.float32), "Data type of weight."),
            sparse_grad=Bool(False, "Compute row sparse gradient (accepted; the gradient here is dense)."))


def _backward_embedding_shape(p, in_shapes, out_shapes):
    return list(in_shapes), [(p.input_dim, p.output_dim)]


register(OpDef("Embedding", aliases=("_npx_embedding",), arguments=("data", "weight"), params=_EMB,
               infer_shape=_embedding_shape, infer_type=_embedding_type, cpu=cpu.embedding,
               gradient=lambda p, ins, outs, dys: [None, apply("_backward_Embedding", dys[0], ins[0],
                                                               **p.as_dict())],
               doc="Maps integer indices to vector representations: out = weight[data]."))
register(OpDef("_backward_Embedding", arguments=("ograd", "data"), params=_EMB,
               infer_shape=_backward_embedding_shape, infer_type=_lhs_type, cpu=cpu.backward_embedding,
               doc="Backward of Embedding (internal): dy's rows added at the looked-up rows of the weight."))

# ---------------------------------------------------------------------------------------------------------------
# where, clip
# ---------------------------------------------------------------------------------------------------------------


def _where_shape(p, in_shapes, out_shapes):
    cond = in_shapes[0]
    (shape, _), _ = same_shape_rule(p, in_shapes[1:], out_shapes)
    if shape is None and cond is not None and len(cond) > 1:
        shape = cond                                   # a condition of 2+ dims has x's shape
    if shape is not None and cond is not None:
        if len(cond) == len(shape):
            if any(a and b and a != b for a, b in zip(cond, shape)):
                raise ShapeError("where: condition %s and x %s must have one shape" % (fmt(cond), fmt(shape)))
            cond = shape = merge(cond, shape)
        elif len(cond) == 1 and len(shape) > 1:
            if cond[0] and shape[0] and cond[0] != shape[0]:
                raise ShapeError("where: a 1-D condition %s must have x %s's first dimension"
                                 % (fmt(cond), fmt(shape)))
            cond = (cond[0] or shape[0],)
        else:
            raise ShapeError("where: condition %s must have x %s's shape, or be 1-D over its first axis"
                             % (fmt(cond), fmt(shape)))
    return [cond, shape, shape], [shape]


def _where_type(p, in_types, out_types):
    (x, y), outs = same_dtype(p, in_types[1:], out_types)
    return [in_types[0], x, y], outs


# d where(c, x, y) = where(c, dy, 0), where(c, 0, dy); the condition gets none
def _where_grad(p, ins, outs, dys):
    zeros = apply("zeros_like", dys[0])
    return [None, apply("where", ins[0], dys[0], zeros), apply("where", ins[0], zeros, dys[0])]


register(OpDef("where", arguments=("condition", "x", "y"), infer_shape=_where_shape, infer_type=_where_type,
               cpu=cpu.where, gradient=_where_grad,
               doc="Takes elements from x where condition is non-zero, from y elsewhere."))

_CLIP = dict(a_min=Float(doc="Minimum value"), a_max=Float(doc="Maximum value"))
register(OpDef("clip", params=_CLIP, infer_shape=same_shape_rule, inplace=((0, 0),), cpu=cpu.clip,
               gradient=lambda p, ins, outs, dys: [apply("_backward_clip", dys[0], ins[0], **p.as_dict())],
               doc="Clips (limits) the values in an array to [a_min, a_max]."))
_backward("_backward_clip", cpu.backward_clip, _CLIP, "clip: dy inside [a_min, a_max]")

# ---------------------------------------------------------------------------------------------------------------
# SequenceMask, SequenceLast, SequenceReverse
# ---------------------------------------------------------------------------------------------------------------


def _seq_axes(name, p, allowed):
    if p.axis not in allowed:
        raise ShapeError("%s: axis=%d is not supported; the sequence axis must be %s"
                         % (name, p.axis, " or ".join(str(a) for a in allowed)))
    return p.axis, 1 - p.axis


def _seq_rule(name, allowed, drop_axis):
    """data (time, batch, ...) or (batch, time, ...) by axis; sequence_length (batch,)."""
    def rule(p, in_shapes, out_shapes):
        axis, batch = _seq_axes(name, p, allowed)
        ins, out = list(in_shapes), out_shapes[0]
        data = ins[0]
        if data is not None and len(data) < 2:
            raise ShapeError("%s: data %s needs at least 2 dimensions (time, batch, ...)" % (name, fmt(data)))
        if data is None and out is not None and not drop_axis:
            data = out
        if data is not None:
            data = merge(data, None if out is None or drop_axis else out)
            if drop_axis and out is not None and len(out) == len(data) - 1:
                data = merge(data, tuple(out[:axis]) + (data[axis],) + tuple(out[axis:]))
            out = merge(tuple(d for i, d in enumerate(data) if i != axis) if drop_axis else data, out)
            if p.use_sequence_length:
                length = ins[1]
                if length is not None and (len(length) != 1 or length[0] and data[batch] and
                                           length[0] != data[batch]):
                    raise ShapeError("%s: sequence_length %s must be (batch,) = (%d,) for data %s"
                                     % (name, fmt(length), data[batch], fmt(data)))
                ins[1] = merge(length, (data[batch],))
                data = merge(data, tuple(ins[1][0] if i == batch else d for i, d in enumerate(data)))
        ins[0] = data
        return ins, [out]
    return rule


def _seq_type(p, in_types, out_types):
    t = in_types[0] if in_types[0] is not None else out_types[0]
    ins = [t] + [in_types[1] if in_types[1] is not None else t for _ in in_types[1:]]
    return ins, [t]


def _seq_args(p):
    return ["data"] + (["sequence_length"] if p.use_sequence_length else [])


def _seq_params(**extra):
    return dict(use_sequence_length=Bool(False, "If set to true, this layer takes in an extra input parameter "
                                                "`sequence_length` to specify variable length sequence"),
                **extra, axis=Int(0, "The sequence axis."))


def _seq_op(name, kernel, allowed, drop_axis, gradient, doc, aliases=(), **extra):
    return register(OpDef(name, aliases=aliases, arguments=_seq_args, params=_seq_params(**extra),
                          infer_shape=_seq_rule(name, allowed, drop_axis), infer_type=_seq_type, cpu=kernel,
                          gradient=gradient, doc=doc))


# d mask(x) = mask(dy) with 0 in the masked steps; the lengths get no gradient
def _mask_grad(p, ins, outs, dys):
    if not p.use_sequence_length:
        return [dys[0]]
    return [apply("SequenceMask", dys[0], ins[1], use_sequence_length=True, value=0.0, axis=p.axis), None]


def _last_grad(p, ins, outs, dys):
    g = apply("_backward_SequenceLast", dys[0], *ins, use_sequence_length=p.use_sequence_length, axis=p.axis)
    return [g] + [None] * (len(ins) - 1)


# reversing is its own inverse: d reverse(x) = reverse(dy)
def _reverse_grad(p, ins, outs, dys):
    return [apply("SequenceReverse", dys[0], *ins[1:], use_sequence_length=p.use_sequence_length,
                  axis=p.axis)] + [None] * (len(ins) - 1)


_seq_op("SequenceMask", cpu.sequence_mask, (0, 1), False, _mask_grad,
        "Sets the steps of each sequence beyond its length to `value`.", aliases=("_npx_sequence_mask",),
        value=Float(0.0, "The value to be used as a mask."))
_seq_op("SequenceLast", cpu.sequence_last, (0, 1), True, _last_grad, "Takes the last step of each sequence.")
_seq_op("SequenceReverse", cpu.sequence_reverse, (0,), False, _reverse_grad,
        "Reverses the first `length` steps of each sequence, keeping the rest in place.")


def _backward_last_shape(p, in_shapes, out_shapes):
    ins = list(in_shapes)
    ins[1] = merge(ins[1], out_shapes[0])
    return ins, [ins[1]]


register(OpDef("_backward_SequenceLast", arguments=lambda p: ["ograd"] + _seq_args(p), params=_seq_params(),
               infer_shape=_backward_last_shape, infer_type=_types_like_data, cpu=cpu.backward_sequence_last,
               doc="Backward of SequenceLast (internal): dy at each sequence's last step, zeros elsewhere."))


# ---------------------------------------------------------------------------------------------------------------
# batch_take, _onehot_encode, fill_element_0index: MXNet's deprecated row selectors, without gradients
# ---------------------------------------------------------------------------------------------------------------


# a (..., k) with at least 2 dims, indices (int32) of a.size / k elements -> out shaped like indices:
# out[i] = a_rows[i, clip(indices[i], 0, k - 1)] (checked on MXNet 1.9.1: out-of-range indices clip).
def _batch_take_shape(p, in_shapes, out_shapes):
    a, indices = in_shapes
    indices = merge(indices, out_shapes[0])
    if a is not None and len(a) < 2:
        raise ShapeError("batch_take: data %s must have at least 2 dims" % fmt(a))
    if a is not None and indices is not None and all(a) and all(indices):
        rows = int(np.prod(a[:-1]))
        if rows != int(np.prod(indices)):
            raise ShapeError("batch_take: indices %s must have as many elements as data %s has rows (%d)"
                             % (fmt(indices), fmt(a), rows))
    return [a, indices], [indices]


def _batch_take_type(p, in_types, out_types):
    data = in_types[0] if in_types[0] is not None else out_types[0]
    return [data, np.dtype(np.int32)], [data]


register(OpDef("batch_take", arguments=("a", "indices"), infer_shape=_batch_take_shape, infer_type=_batch_take_type,
               cpu=cpu.batch_take,
               doc="Takes elements from a data batch: output[i] = input[i, indices[i]] over the rows of the input "
                   "(deprecated in MXNet: use pick)."))


def _float32_only(op_name):
    def rule(p, in_types, out_types):
        for t in list(in_types) + list(out_types):
            if t is not None and np.dtype(t) != np.float32:
                raise DTypeError("%s: only float32 inputs and outputs are supported, not %s"
                                 % (op_name, np.dtype(t).name))
        f32 = np.dtype(np.float32)
        return [f32] * len(in_types), [f32] * len(out_types)
    return rule


def _rows_and_vectors(op_name, n_vectors):
    """lhs (rows, k) -> out like lhs; the other inputs (rows,). One rule for _onehot_encode (lhs = the indices, rhs
    = the output's shape) and fill_element_0index, as MXNet's legacy checks have it."""
    def rule(p, in_shapes, out_shapes):
        matrix = merge(in_shapes[-1] if op_name == "_onehot_encode" else in_shapes[0], out_shapes[0])
        vectors = in_shapes[:-1] if op_name == "_onehot_encode" else in_shapes[1:]
        for v in vectors:
            if v is not None and len(v) != 1:
                raise ShapeError("%s: index and value inputs must be 1-D, got %s" % (op_name, fmt(v)))
        if matrix is not None and len(matrix) != 2:
            raise ShapeError("%s: the matrix must be 2-D, got %s" % (op_name, fmt(matrix)))
        rows = None if matrix is None else (matrix[0],)
        for v in vectors:
            rows = merge(rows, v)
        if matrix is not None:
            matrix = merge(matrix, (rows[0], 0))
        vectors = [rows] * n_vectors
        ins = vectors + [matrix] if op_name == "_onehot_encode" else [matrix] + vectors
        return ins, [matrix]
    return rule


register(OpDef("_onehot_encode", arguments=("lhs", "rhs"), infer_shape=_rows_and_vectors("_onehot_encode", 1),
               infer_type=_float32_only("_onehot_encode"), cpu=cpu.onehot_encode,
               doc="One-hot encoding of the indices lhs into a matrix shaped like rhs (behind the deprecated "
                   "mx.nd.onehot_encode): row i is 1 at column lhs[i], 0 elsewhere (all 0 for an index out of "
                   "range)."))
register(OpDef("fill_element_0index", arguments=("lhs", "mhs", "rhs"),
               infer_shape=_rows_and_vectors("fill_element_0index", 2),
               infer_type=_float32_only("fill_element_0index"), cpu=cpu.fill_element_0index,
               doc="Fill one element of each line(row for python, column for R/Julia) in lhs according to index "
                   "indicated by rhs and values indicated by mhs. This function assume rhs uses 0-based index. "
                   "A row whose index is out of range keeps its values."))
