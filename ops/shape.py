"""Shape and data-movement ops: transpose, SwapAxis, expand_dims, squeeze, reverse, tile, repeat, Pad,
broadcast_like, depth_to_space, space_to_depth, diag. stack, SliceChannel, _split_v2 and _npi_hsplit are in
ops/stack_split.py; slicing and indexing (slice, take, pick, gather_nd, Embedding, where, clip, the Sequence ops ...)
in ops/indexing.py; dot, Reshape, Flatten, broadcast_to and reshape_like in ops/matrix.py; UpSampling in
ops/upsampling.py; the no-input _arange and _eye in ops/init.py.

Names, params, defaults and aliases are MXNet 1.9.1's (checked on it, native CPU kernels). Facts worth knowing:
- transpose and reverse reject negative axes (MXNet indexes the shape with them unchecked); SwapAxis, squeeze,
  expand_dims, broadcast_like and diag accept them.
- reverse with an axis listed twice reverses it twice (no change). squeeze of an all-ones shape gives (1,).
- Pad takes 4-D or 5-D float input only, pads no batch or channel axis, and reflect pads less than the axis size;
  its values are numpy.pad's.
- diag of a diagonal just past the corner is empty; one further off is an error ("Diagonal does not exist").
Where MXNet does not check (transpose with a repeated axis) we raise instead.

Backward ops that need the forward input's shape take the input itself (`_backward_tile(ograd, data)`), as
`_backward_Concat` does: the scheduler has no other way to hand a backward node its forward's shapes.
"""
import numpy as np

from .autodiff import apply
from .cpu import shape as cpu
from .elemwise import float_only, fmt, known, merge, same_shape_rule
from .errors import ShapeError
from .registry import Enum, Float, Int, OpDef, OptInt, OptShape, Shape, register


def _norm_axis(op, axis, ndim, what="axis", extra=0):
    """axis in [-(ndim + extra), ndim + extra) as a non-negative index; raises naming the op and the value."""
    n = ndim + extra
    if not -n <= axis < n:
        raise ShapeError("%s: %s=%d is out of range for an input of %d dimensions" % (op, what, axis, ndim))
    return axis % n if n else 0


def _ndim(*shapes):
    return next((len(s) for s in shapes if s is not None), None)


def _view_grad(p, ins, outs, dys):
    return [apply("reshape_like", dys[0], ins[0])]


# ---------------------------------------------------------------------------------------------------------------
# transpose, SwapAxis
# ---------------------------------------------------------------------------------------------------------------

def transpose_perm(p, ndim):
    """The permutation transpose applies: `axes`, or all axes reversed."""
    axes = tuple(p.axes)
    if not axes:
        return tuple(range(ndim))[::-1]
    if sorted(axes) != list(range(ndim)):
        raise ShapeError("transpose: axes=%s is not a permutation of the %d axes of the input (0 to %d)"
                         % (axes, ndim, ndim - 1))
    return axes


# out[i] = data[perm[i]], so data[perm[i]] = out[i] fills the input from the output.
def _transpose_shape(p, in_shapes, out_shapes):
    data, out = in_shapes[0], out_shapes[0]
    ndim = _ndim(data, out)
    if ndim is None:
        return list(in_shapes), list(out_shapes)
    perm = transpose_perm(p, ndim)
    if data is not None:
        out = merge(tuple(data[a] for a in perm), out)
    back = [0] * ndim
    for i, a in enumerate(perm):
        back[a] = out[i]
    return [merge(data, tuple(back))], [out]


# d transpose(x, perm) = transpose(dy, inverse(perm))
def _transpose_grad(p, ins, outs, dys):
    if not p.axes:
        return [apply("transpose", dys[0])]
    inverse = [0] * len(p.axes)
    for i, a in enumerate(p.axes):
        inverse[a] = i
    return [apply("transpose", dys[0], axes=tuple(inverse))]


register(OpDef("transpose", params=dict(axes=Shape((), "Target axis order. By default the axes will be inverted.")),
               infer_shape=_transpose_shape, cpu=cpu.transpose, gradient=_transpose_grad,
               doc="Permutes the dimensions of an array."))


def _swap_shape(p, in_shapes, out_shapes):
    data, out = in_shapes[0], out_shapes[0]
    ndim = _ndim(data, out)
    if ndim is None:
        return list(in_shapes), list(out_shapes)
    d1 = _norm_axis("SwapAxis", p.dim1, ndim, "dim1")
    d2 = _norm_axis("SwapAxis", p.dim2, ndim, "dim2")

    def swap(s):
        s = list(s)
        s[d1], s[d2] = s[d2], s[d1]
        return tuple(s)
    data = merge(data, None if out is None else swap(out))
    return [data], [merge(None if data is None else swap(data), out)]


register(OpDef("SwapAxis", aliases=("swapaxes",),
               params=dict(dim1=Int(0, "the first axis to be swapped."), dim2=Int(0, "the second axis to be swapped.")),
               infer_shape=_swap_shape, cpu=cpu.swapaxes,
               gradient=lambda p, ins, outs, dys: [apply("SwapAxis", dys[0], dim1=p.dim1, dim2=p.dim2)],
               doc="Interchanges two axes of an array."))

# ---------------------------------------------------------------------------------------------------------------
# expand_dims, squeeze: views
# ---------------------------------------------------------------------------------------------------------------


def _expand_dims_shape(p, in_shapes, out_shapes):
    data, out = in_shapes[0], out_shapes[0]
    if data is not None:
        a = _norm_axis("expand_dims", p.axis, len(data), extra=1)
        out = merge(tuple(data[:a]) + (1,) + tuple(data[a:]), out)
        data = merge(data, tuple(out[:a]) + tuple(out[a + 1:]))
    elif out is not None and len(out) > 0:
        a = _norm_axis("expand_dims", p.axis, len(out) - 1, extra=1)
        data = tuple(out[:a]) + tuple(out[a + 1:])
    return [data], [out]


register(OpDef("expand_dims", params=dict(axis=Int(doc="Position where new axis is to be inserted.")),
               infer_shape=_expand_dims_shape, inplace=((0, 0),), cpu=cpu.reshape_view, gradient=_view_grad,
               doc="Inserts a new axis of size 1 into the array shape."))


def _squeezed_axes(p, data):
    """The axes squeeze removes, or None while an unknown dim leaves it open."""
    if p.axis is None:
        return None if 0 in data else [i for i, d in enumerate(data) if d == 1]
    axes = [_norm_axis("squeeze", a, len(data)) for a in p.axis]
    if len(set(axes)) != len(axes):
        raise ShapeError("squeeze: axis=%s has a duplicate value" % (tuple(p.axis),))
    for a in axes:
        if data[a] not in (0, 1):
            raise ShapeError("squeeze: cannot squeeze axis %d of %s: its size is %d, not 1" % (a, fmt(data), data[a]))
    return axes


def _squeeze_shape(p, in_shapes, out_shapes):
    data, out = in_shapes[0], out_shapes[0]
    if data is None:
        return list(in_shapes), list(out_shapes)
    axes = _squeezed_axes(p, data)
    if axes is None:
        return list(in_shapes), list(out_shapes)
    kept = [i for i in range(len(data)) if i not in axes]
    out = merge(tuple(data[i] for i in kept) or (1,), out)
    if kept and out is not None and len(out) == len(kept):     # the kept dims, back from the output
        data = merge(data, tuple(out[kept.index(i)] if i in kept else 1 for i in range(len(data))))
    return [data], [out]


register(OpDef("squeeze", params=dict(axis=OptShape(None, "Selects a subset of the single-dimensional entries in "
                                                          "the shape.")),
               infer_shape=_squeeze_shape, inplace=((0, 0),), cpu=cpu.reshape_view, gradient=_view_grad,
               doc="Removes axes of length one; an all-ones shape becomes (1,)."))

# ---------------------------------------------------------------------------------------------------------------
# reverse
# ---------------------------------------------------------------------------------------------------------------


def _reverse_shape(p, in_shapes, out_shapes):
    in_shapes, out_shapes = same_shape_rule(p, in_shapes, out_shapes)
    data = in_shapes[0]
    for a in p.axis if data is not None else ():
        if not 0 <= a < len(data):
            raise ShapeError("reverse: axis %d is out of range for an input of %d dimensions (0 to %d)"
                             % (a, len(data), len(data) - 1))
    return in_shapes, out_shapes


register(OpDef("reverse", aliases=("flip",), params=dict(axis=Shape(doc="The axis which to reverse elements.")),
               infer_shape=_reverse_shape, cpu=cpu.reverse,
               gradient=lambda p, ins, outs, dys: [apply("reverse", dys[0], axis=p.axis)],
               doc="Reverses the order of elements along the given axes."))

# ---------------------------------------------------------------------------------------------------------------
# tile, repeat: the backward sums the copies back
# ---------------------------------------------------------------------------------------------------------------


# out = data promoted to len(reps) dims (leading 1s), times reps promoted to data's dims (leading 1s)
def _tile_shape(p, in_shapes, out_shapes):
    data, out, reps = in_shapes[0], out_shapes[0], tuple(p.reps)
    if any(r < 1 for r in reps):
        raise ShapeError("tile: reps=%s: every rep must be a positive integer" % (reps,))
    if data is None:
        return list(in_shapes), list(out_shapes)
    ndim = max(len(data), len(reps))
    dims = (1,) * (ndim - len(data)) + tuple(data)
    full = (1,) * (ndim - len(reps)) + reps
    out = merge(tuple(d * r for d, r in zip(dims, full)), out)
    back = tuple(o // r if o else 0 for o, r in zip(out, full))[ndim - len(data):]
    return [merge(data, back)], [out]


def _backward_like_data(p, in_shapes, out_shapes):
    """Backward ops (ograd, data, ...) whose one output is shaped like data."""
    ins = list(in_shapes)
    ins[1] = merge(ins[1], out_shapes[0])
    return ins, [ins[1]]


def _types_like_data(p, in_types, out_types):
    ins = list(in_types)
    ins[0] = ins[0] if ins[0] is not None else out_types[0]
    ins[1] = ins[1] if ins[1] is not None else ins[0]
    return ins, [ins[0] if ins[0] is not None else ins[1]]


def _lhs_type(p, in_types, out_types):
    """The output has the first input's dtype; the other inputs' dtypes are free (shapes, indices)."""
    ins = list(in_types)
    ins[0] = ins[0] if ins[0] is not None else out_types[0]
    return ins, [ins[0]] + list(out_types[1:])


def _backward(name, kernel, params, doc, arguments=("ograd", "data")):
    return register(OpDef(name, arguments=arguments, params=params, infer_shape=_backward_like_data,
                          infer_type=_types_like_data, cpu=kernel, doc="Backward of %s (internal)." % doc))


_TILE = dict(reps=Shape(doc="The number of times for repeating the tensor a."))
register(OpDef("tile", params=_TILE, infer_shape=_tile_shape, cpu=cpu.tile,
               gradient=lambda p, ins, outs, dys: [apply("_backward_tile", dys[0], ins[0], reps=p.reps)],
               doc="Repeats the whole array multiple times."))
_backward("_backward_tile", cpu.backward_tile, _TILE, "tile: dy summed over the repetitions")


def _repeat_shape(p, in_shapes, out_shapes):
    data, out = in_shapes[0], out_shapes[0]
    if p.repeats < 0:
        raise ShapeError("repeat: repeats=%d cannot be a negative number" % p.repeats)
    if data is None:
        return list(in_shapes), list(out_shapes)
    if p.axis is None:
        return [data], [merge((int(np.prod(data)) * p.repeats if known(data) else 0,), out)]
    a = _norm_axis("repeat", p.axis, len(data))
    out = merge(tuple(d * p.repeats if i == a else d for i, d in enumerate(data)), out)
    data = merge(data, tuple(o // p.repeats if i == a and p.repeats else (o if i != a else 0)
                             for i, o in enumerate(out)))
    return [data], [out]


_REPEAT = dict(repeats=Int(doc="The number of repetitions for each element."),
               axis=OptInt(None, "The axis along which to repeat values; by default the flattened input."))
register(OpDef("repeat", params=_REPEAT, infer_shape=_repeat_shape, cpu=cpu.repeat,
               gradient=lambda p, ins, outs, dys: [apply("_backward_repeat", dys[0], ins[0], repeats=p.repeats,
                                                         axis=p.axis)],
               doc="Repeats each element of an array after itself."))
_backward("_backward_repeat", cpu.backward_repeat, _REPEAT, "repeat: dy summed over the repetitions")

# ---------------------------------------------------------------------------------------------------------------
# Pad
# ---------------------------------------------------------------------------------------------------------------


def _pad_check(p, ndim):
    pw = tuple(p.pad_width)
    if ndim not in (4, 5):
        raise ShapeError("Pad: only 4-D or 5-D input is supported, got %d dimensions" % ndim)
    if len(pw) != 2 * ndim:
        raise ShapeError("Pad: pad_width=%s needs 2 values per axis of the %d-D input" % (pw, ndim))
    if any(pw[:4]):
        raise ShapeError("Pad: pad_width=%s pads the first two axes; they must be zero" % (pw,))
    if any(w < 0 for w in pw):
        raise ShapeError("Pad: pad_width=%s cannot be negative" % (pw,))


def _pad_shape(p, in_shapes, out_shapes):
    data, out = in_shapes[0], out_shapes[0]
    ndim = _ndim(data, out)
    if ndim is None:
        return list(in_shapes), list(out_shapes)
    _pad_check(p, ndim)
    extra = [p.pad_width[2 * i] + p.pad_width[2 * i + 1] for i in range(ndim)]
    if data is not None and p.mode == "reflect":
        for i, d in enumerate(data):
            if d and max(p.pad_width[2 * i], p.pad_width[2 * i + 1]) >= d:
                raise ShapeError("Pad: reflect padding pad_width=%s must be smaller than the input %s on each axis"
                                 % (tuple(p.pad_width), fmt(data)))
    if data is not None:
        out = merge(tuple(d + e if d else 0 for d, e in zip(data, extra)), out)
    data = merge(data, tuple(o - e if o else 0 for o, e in zip(out, extra)))
    return [data], [out]


def _backward_pad_shape(p, in_shapes, out_shapes):
    ins, outs = _pad_shape(p, list(out_shapes), list(in_shapes))
    return outs, ins


_PAD = dict(mode=Enum(("constant", "edge", "reflect"), doc="Padding type to use."),
            pad_width=Shape(doc="Widths of the padding regions: (before_1, after_1, ... , before_N, after_N)."),
            constant_value=Float(0.0, "The value used for padding when `mode` is 'constant'."))
register(OpDef("Pad", aliases=("pad",), params=_PAD, infer_shape=_pad_shape, infer_type=float_only("Pad"),
               cpu=cpu.pad, gradient=lambda p, ins, outs, dys: [apply("_backward_Pad", dys[0], **p.as_dict())],
               doc="Pads an array (4-D or 5-D, the last two or three axes) with a constant, its edge values or "
                   "its reflection."))
register(OpDef("_backward_Pad", arguments=("ograd",), params=_PAD, infer_shape=_backward_pad_shape,
               infer_type=float_only("_backward_Pad"), cpu=cpu.backward_pad,
               doc="Backward of Pad (internal): the borders folded back onto the cells they copy."))

# ---------------------------------------------------------------------------------------------------------------
# broadcast_like
# ---------------------------------------------------------------------------------------------------------------


def _broadcast_like_shape(p, in_shapes, out_shapes):
    lhs, rhs = in_shapes
    if lhs is None or rhs is None:
        return list(in_shapes), list(out_shapes)
    if p.lhs_axes is None or p.rhs_axes is None:
        if len(lhs) != len(rhs):
            raise ShapeError("broadcast_like: lhs %s cannot be broadcast to rhs %s (ranks differ)"
                             % (fmt(lhs), fmt(rhs)))
        pairs = [(i, i) for i in range(len(lhs)) if lhs[i] != rhs[i]]
    else:
        if len(p.lhs_axes) != len(p.rhs_axes):
            raise ShapeError("broadcast_like: lhs_axes=%s and rhs_axes=%s differ in length"
                             % (tuple(p.lhs_axes), tuple(p.rhs_axes)))
        pairs = [(_norm_axis("broadcast_like", a, len(lhs), "lhs_axes"),
                  _norm_axis("broadcast_like", b, len(rhs), "rhs_axes")) for a, b in zip(p.lhs_axes, p.rhs_axes)]
    out = list(lhs)
    for a, b in pairs:
        if lhs[a] not in (0, 1) and rhs[b] and lhs[a] != rhs[b]:
            raise ShapeError("broadcast_like: lhs %s cannot be broadcast to rhs %s on axis %d"
                             % (fmt(lhs), fmt(rhs), a))
        out[a] = rhs[b] if lhs[a] in (0, 1) else lhs[a]
    return list(in_shapes), [merge(tuple(out), out_shapes[0])]


register(OpDef("broadcast_like", arguments=("lhs", "rhs"),
               params=dict(lhs_axes=OptShape(None, "Axes to perform broadcast on in the first input array"),
                           rhs_axes=OptShape(None, "Axes to copy from the second input array")),
               infer_shape=_broadcast_like_shape, infer_type=_lhs_type, cpu=cpu.broadcast_like,
               gradient=lambda p, ins, outs, dys: [apply("_sum_to_like", dys[0], ins[0]), None],
               doc="Broadcasts lhs to the shape of rhs (or on the given axes, to rhs's sizes there)."))

# ---------------------------------------------------------------------------------------------------------------
# depth_to_space, space_to_depth
# ---------------------------------------------------------------------------------------------------------------


def _block_rule(name, to_space):
    # depth_to_space: (n, c, h, w) -> (n, c / b^2, h b, w b); space_to_depth is its inverse.
    def forward(s, b):
        n, c, h, w = s
        if to_space:
            return (n, c // (b * b) if c else 0, h * b, w * b)
        return (n, c * b * b, h // b if h else 0, w // b if w else 0)

    def rule(p, in_shapes, out_shapes):
        data, out, b = in_shapes[0], out_shapes[0], p.block_size
        if b < 1:
            raise ShapeError("%s: block_size=%d must be a positive integer" % (name, b))
        for s in (data, out):
            if s is not None and len(s) != 4:
                raise ShapeError("%s: the input must be 4-D, got %s" % (name, fmt(s)))
        if data is not None:
            if to_space and data[1] % (b * b):
                raise ShapeError("%s: the input %s has %d channels, not a multiple of block_size**2 = %d"
                                 % (name, fmt(data), data[1], b * b))
            if not to_space and (data[2] % b or data[3] % b):
                raise ShapeError("%s: the input %s has height %d and width %d, not both multiples of "
                                 "block_size=%d" % (name, fmt(data), data[2], data[3], b))
            out = merge(forward(data, b), out)
        if out is not None:
            n, c, h, w = out
            data = merge(data, (n, c * b * b, h // b if h else 0, w // b if w else 0) if to_space else
                         (n, c // (b * b) if c else 0, h * b, w * b))
        return [data], [out]
    return rule


_BLOCK = dict(block_size=Int(doc="Blocks of [block_size, block_size] are moved"))
register(OpDef("depth_to_space", params=_BLOCK, infer_shape=_block_rule("depth_to_space", True),
               cpu=cpu.depth_to_space,
               gradient=lambda p, ins, outs, dys: [apply("space_to_depth", dys[0], block_size=p.block_size)],
               doc="Rearranges (permutes) data from depth into blocks of spatial data (NCHW)."))
register(OpDef("space_to_depth", params=_BLOCK, infer_shape=_block_rule("space_to_depth", False),
               cpu=cpu.space_to_depth,
               gradient=lambda p, ins, outs, dys: [apply("depth_to_space", dys[0], block_size=p.block_size)],
               doc="Rearranges (permutes) blocks of spatial data into depth (NCHW)."))

# ---------------------------------------------------------------------------------------------------------------
# diag
# ---------------------------------------------------------------------------------------------------------------


def _diag_shape(p, in_shapes, out_shapes):
    data = in_shapes[0]
    if data is None:
        return list(in_shapes), list(out_shapes)
    if len(data) == 0:
        raise ShapeError("diag: the input needs at least one dimension, got shape ()")
    if len(data) == 1:
        n = data[0] + abs(p.k) if data[0] else 0
        return [data], [merge((n, n), out_shapes[0])]
    a1 = _norm_axis("diag", p.axis1, len(data), "axis1")
    a2 = _norm_axis("diag", p.axis2, len(data), "axis2")
    if a1 == a2:
        raise ShapeError("diag: axis1=%d and axis2=%d refer to the same axis" % (p.axis1, p.axis2))
    d1, d2 = data[a1], data[a2]
    length = (min(d1, d2 - p.k) if p.k >= 0 else min(d1 + p.k, d2)) if d1 and d2 else 0
    if length < 0:      # MXNet: a diagonal just past the corner is empty, one further off does not exist
        raise ShapeError("diag: Diagonal does not exist: k=%d is off the sub-arrays of axes (%d, %d) of an input "
                         "of shape %s (sizes %d x %d)" % (p.k, p.axis1, p.axis2, fmt(data), d1, d2))
    rest = tuple(d for i, d in enumerate(data) if i not in (a1, a2))
    return [data], [merge(rest + (length,), out_shapes[0])]


_DIAG = dict(k=Int(0, "Diagonal in question: k > 0 above the main diagonal, k < 0 below."),
             axis1=Int(0, "The first axis of the sub-arrays of interest. Ignored when the input is a 1-D array."),
             axis2=Int(1, "The second axis of the sub-arrays of interest. Ignored when the input is a 1-D array."))
register(OpDef("diag", params=_DIAG, infer_shape=_diag_shape, cpu=cpu.diag,
               gradient=lambda p, ins, outs, dys: [apply("_backward_diag", dys[0], ins[0], **p.as_dict())],
               doc="Extracts a diagonal (2-D or more input) or builds a diagonal matrix (1-D input)."))
_backward("_backward_diag", cpu.backward_diag, _DIAG, "diag")
