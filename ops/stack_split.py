"""Joining arrays along a new axis and splitting them: stack, SliceChannel (split), _split_v2 (mx.np.split and
array_split) and _npi_hsplit. The other shape ops are in ops/shape.py, Concat in ops/nn.py.

Names, params, defaults and aliases are MXNet 1.9.1's (checked on it, native CPU kernels). stack, SliceChannel and
_split_v2 accept negative axes; SliceChannel's outputs are `output0`, `output1`, ... (also with num_outputs=1).
Where MXNet does not check (stack of different shapes) we raise instead.
"""
import numpy as np

from .autodiff import apply
from .cpu import shape as cpu
from .cpu.common import assign
from .elemwise import fmt, merge
from .errors import ShapeError
from .registry import Bool, Int, OpDef, Shape, register
from .shape import _ndim, _norm_axis, _types_like_data


def _stack_shape(p, in_shapes, out_shapes):
    """Inputs share one shape; out inserts num_args at axis (in [-(ndim+1), ndim])."""
    common = None
    for i, s in enumerate(in_shapes):
        if s is not None and common is not None and (len(s) != len(common) or
                                                     any(a and b and a != b for a, b in zip(s, common))):
            raise ShapeError("stack: input arg%d has shape %s, the others %s" % (i, fmt(s), fmt(common)))
        common = merge(common, s)
    out = out_shapes[0]
    ndim = len(common) if common is not None else (len(out) - 1 if out is not None else None)
    if ndim is None:
        return list(in_shapes), list(out_shapes)
    a = _norm_axis("stack", p.axis, ndim, extra=1)
    if out is not None:
        common = merge(common, tuple(out[:a]) + tuple(out[a + 1:]))
    out = merge(tuple(common[:a]) + (p.num_args,) + tuple(common[a:]), out)
    return [common] * len(in_shapes), [out]


def _stack_grad(p, ins, outs, dys):
    grads = apply("SliceChannel", dys[0], num_outputs=p.num_args, axis=p.axis, squeeze_axis=True)
    return list(grads) if p.num_args > 1 else [grads]


register(OpDef("stack", variadic="num_args", params=dict(
                   axis=Int(0, "The axis in the result array along which the input arrays are stacked."),
                   num_args=Int(doc="Number of inputs to be stacked.")),
               infer_shape=_stack_shape, cpu=cpu.stack, gradient=_stack_grad,
               doc="Joins a sequence of arrays along a new axis."))


def _split_shape(p, in_shapes, out_shapes):
    data, n = in_shapes[0], p.num_outputs
    if n < 1:
        raise ShapeError("SliceChannel: num_outputs=%d must be at least 1" % n)
    outs = list(out_shapes)
    ndim = len(data) if data is not None else _ndim(*outs)
    if ndim is None:
        return list(in_shapes), outs
    ndim = ndim if data is not None or not p.squeeze_axis else ndim + 1
    a = _norm_axis("SliceChannel", p.axis, ndim)
    piece = None
    for o in outs:                                   # every output has one shape
        if o is not None:
            piece = merge(piece, tuple(o[:a]) + (1,) + tuple(o[a:]) if p.squeeze_axis else o)
    if piece is not None:                            # back to the input: n pieces along axis
        whole = tuple(d * n if i == a else d for i, d in enumerate(piece))
        data = merge(data, whole if not p.squeeze_axis else tuple(n if i == a else d for i, d in enumerate(piece)))
    dim = data[a]
    if dim and dim % n:
        raise ShapeError("SliceChannel: cannot split axis %d of %s into num_outputs=%d equal parts"
                         % (a, fmt(data), n))
    if dim and p.squeeze_axis and dim != n:
        raise ShapeError("SliceChannel: squeeze_axis=True needs input.shape[%d] == num_outputs, got %s and %d"
                         % (a, fmt(data), n))
    one = tuple(d // n if i == a else d for i, d in enumerate(data))
    if p.squeeze_axis:
        one = tuple(d for i, d in enumerate(one) if i != a)
    return [data], [merge(one, o) for o in outs]


# The outputs side by side along axis; an output without a gradient contributes zeros.
def _split_grad(p, ins, outs, dys):
    parts = [dy if dy is not None else apply("zeros_like", y) for dy, y in zip(dys, outs)]
    if p.squeeze_axis:
        parts = [apply("expand_dims", g, axis=p.axis) for g in parts]
    return [apply("Concat", *parts, dim=p.axis)]


register(OpDef("SliceChannel", aliases=("split",),
               params=dict(num_outputs=Int(doc="Number of splits; it must evenly divide the length of the axis."),
                           axis=Int(1, "Axis along which to split."),
                           squeeze_axis=Bool(False, "Remove the split axis (of length 1) from the outputs.")),
               outputs=lambda p: ["output%d" % i for i in range(p.num_outputs)],
               infer_shape=_split_shape, cpu=cpu.slice_channel, gradient=_split_grad,
               doc="Splits an array along an axis into num_outputs equal parts."))


# _split_v2 (mx.np.split / array_split) and _npi_hsplit: pieces between points, or `sections` pieces whose lengths
# differ by at most one (the longer first, NumPy's array_split); pieces may be empty. `indices` starts with 0, as
# MXNet's. _npi_hsplit splits NumPy's hsplit axis: 0 of a 1-D array, else 1 (its `axis` is ignored).
def _split_axis(name, p, ndim):
    if name == "_npi_hsplit":
        if ndim == 0:
            raise ShapeError("_npi_hsplit: hsplit only works on arrays of 1 or more dimensions")
        return 0 if ndim == 1 else 1
    return _norm_axis(name, p.axis, ndim)


def _split_bounds(name, p, length):
    """The (begin, end) of each piece along an axis of `length`; raises for MXNet's invalid points (any points
    split an empty axis, into empty pieces)."""
    if length == 0:
        return [(0, 0)] * _split_v2_count(p)
    if p.sections > 0:
        base, longer = divmod(length, p.sections)
        starts = [i * base + min(i, longer) for i in range(p.sections + 1)]
    else:
        starts = list(p.indices) + [length]
    for i, (begin, end) in enumerate(zip(starts, starts[1:])):
        if not 0 <= begin <= end <= length:
            raise ShapeError("%s: piece %d, [%d, %d), is not a range inside the axis of length %d (the split "
                             "points %s must rise and lie in [0, %d])" % (name, i, begin, end, length,
                                                                         tuple(p.indices[1:]), length))
    return list(zip(starts, starts[1:]))


def _split_v2_count(p):
    if p.sections < 0 or (p.sections == 0 and not p.indices):
        raise ShapeError("_split_v2: give sections > 0 or indices, got sections=%d, indices=%s"
                         % (p.sections, tuple(p.indices)))
    return p.sections or len(p.indices)


def _split_v2_ops(name):
    """Register op `name` (and its backward `name`_backward): rule, kernels and gradient."""
    def rule(p, in_shapes, out_shapes):
        data = in_shapes[0]
        if data is None:
            return list(in_shapes), list(out_shapes)
        a = _split_axis(name, p, len(data))
        if not data[a]:     # the length is unknown (or 0: then every piece is empty too, which 0 also says)
            return [data], [merge(tuple(0 if i == a else d for i, d in enumerate(data)), o) for o in out_shapes]
        outs = []
        for (begin, end), o in zip(_split_bounds(name, p, data[a]), out_shapes):
            if p.squeeze_axis and end - begin != 1:
                raise ShapeError("%s: squeeze_axis=True needs pieces of length 1, got [%d, %d) of axis %d of %s"
                                 % (name, begin, end, a, fmt(data)))
            piece = tuple(end - begin if i == a else d for i, d in enumerate(data))
            outs.append(merge(piece[:a] + piece[a + 1:] if p.squeeze_axis else piece, o))
        return [data], outs

    def pieces(p, x):
        a = _split_axis(name, p, x.ndim)
        return [x[(slice(None),) * a + (slice(begin, end),)] for begin, end in _split_bounds(name, p, x.shape[a])]

    def kernel(ctx, p, inputs, outputs, req):
        for piece, out, r in zip(pieces(p, inputs[0]), outputs, req):
            assign(out, r, piece.reshape(out.shape))

    def backward_kernel(ctx, p, inputs, outputs, req):
        """inputs: data (for its shape), then one ograd per piece; the gradient is the ograds side by side."""
        grad = np.zeros_like(outputs[0])
        for piece, dy in zip(pieces(p, grad), inputs[1:]):
            piece[...] = dy.reshape(piece.shape)
        assign(outputs[0], req[0], grad)

    def gradient(p, ins, outs, dys):
        dys = [dy if dy is not None else apply("zeros_like", y) for dy, y in zip(dys, outs)]
        return [apply(name + "_backward", ins[0], *dys, **p.as_dict())]

    def backward_rule(p, in_shapes, out_shapes):
        data = merge(in_shapes[0], out_shapes[0])
        return [data] + list(in_shapes[1:]), [data]

    register(OpDef(name, params=dict(_SPLIT_V2), outputs=lambda p: ["output%d" % i for i in range(_split_v2_count(p))],
                   infer_shape=rule, cpu=kernel, gradient=gradient,
                   doc="Splits an array along an axis at the given points or into sections; pieces may be empty."))
    register(OpDef(name + "_backward", params=dict(_SPLIT_V2),
                   arguments=lambda p: ["data"] + ["ograd%d" % i for i in range(_split_v2_count(p))],
                   infer_shape=backward_rule, infer_type=_types_like_data, cpu=backward_kernel,
                   doc="Backward of %s (internal): the ograds side by side in data's shape." % name))


_SPLIT_V2 = dict(indices=Shape(doc="The points to split at, starting with 0; ignored when sections > 0."),
                 axis=Int(1, "Axis along which to split."),
                 squeeze_axis=Bool(False, "Remove the split axis (each piece of length 1) from the outputs."),
                 sections=Int(0, "Number of sections, of lengths differing by at most one (0: split at indices)."))
_split_v2_ops("_split_v2")
_split_v2_ops("_npi_hsplit")
