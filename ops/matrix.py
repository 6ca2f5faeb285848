"""Matrix and shape ops: dot, Reshape, Flatten, broadcast_to, broadcast_axis, reshape_like, shape_array, size_array,
and the AMP casts amp_cast and amp_multicast.

Reshape and Flatten are views: their outputs may take the input's buffer (in-place option (0, 0)), and their
kernel copies only when the output is not the input's memory.
"""
import numpy as np

from .autodiff import apply
from .cpu import elemwise as cpu_elemwise
from .cpu import matrix as cpu
from .elemwise import float_only, fmt, known, merge, same_shape_rule, size
from .errors import ShapeError
from .registry import Bool, DType, Int, OpDef, OptInt, Shape, Str, register

# ---------------------------------------------------------------------------------------------------------------
# dot
# ---------------------------------------------------------------------------------------------------------------


# dot(lhs, rhs): lhs's last axis (first if transpose_a) contracts with rhs's first axis (last if transpose_b);
# out = lhs's other axes + rhs's other axes, in order; 1-D . 1-D gives shape (1,) (checked on MXNet 1.9.1).
def _dot_split(shape, contract_first):
    """(contracted dim, other dims) of one operand; a 1-D operand is contracted whole."""
    if len(shape) == 1:
        return shape[0], ()
    return (shape[0], tuple(shape[1:])) if contract_first else (shape[-1], tuple(shape[:-1]))


def _dot_shape(p, in_shapes, out_shapes):
    lhs, rhs = in_shapes
    for s in (lhs, rhs):
        if s is not None and len(s) == 0:
            raise ShapeError("dot: operands need at least one dimension, got lhs %s rhs %s" % (fmt(lhs), fmt(rhs)))
    if lhs is None or rhs is None:
        return list(in_shapes), list(out_shapes)
    if len(lhs) == 1 and len(rhs) == 1 and (p.transpose_a or p.transpose_b):
        raise ShapeError("dot: cannot transpose vectors (transpose_a=%s, transpose_b=%s, lhs %s, rhs %s)"
                         % (p.transpose_a, p.transpose_b, fmt(lhs), fmt(rhs)))
    k_lhs, lhs_rest = _dot_split(lhs, p.transpose_a)
    k_rhs, rhs_rest = _dot_split(rhs, not p.transpose_b)
    k = k_lhs or k_rhs
    # Propose the contracted dims equal; a conflict (2x3 . 4x5) is reported by the inference pass on rhs.
    if len(lhs) > 1:
        lhs = (k,) + lhs_rest if p.transpose_a else lhs_rest + (k,)
    else:
        lhs = (k,)
    if len(rhs) > 1:
        rhs = rhs_rest + (k,) if p.transpose_b else (k,) + rhs_rest
    else:
        rhs = (k,)
    out = lhs_rest + rhs_rest or (1,)
    return [lhs, rhs], [merge(out, out_shapes[0])]


register(OpDef("dot", arguments=("lhs", "rhs"),
               params=dict(transpose_a=Bool(False, "If true then transpose the first input before dot."),
                           transpose_b=Bool(False, "If true then transpose the second input before dot."),
                           forward_stype=Str(None, "The desired storage type of the forward output.")),
               infer_shape=_dot_shape, infer_type=float_only("dot"), cpu=cpu.dot, gradient=lambda p, ins, outs, dys:
               apply("_backward_dot", dys[0], *ins, transpose_a=p.transpose_a, transpose_b=p.transpose_b),
               doc="Dot product of two arrays: the last axis of lhs with the first axis of rhs."))


# With A, B the 2-D views of lhs and rhs (Y = A B): dA = dY B^T, dB = A^T dY, mapped back to each operand's
# layout (transposed back when transpose_a / transpose_b).
def _backward_dot_shape(p, in_shapes, out_shapes):
    return list(in_shapes), [merge(in_shapes[1], out_shapes[0]), merge(in_shapes[2], out_shapes[1])]


register(OpDef("_backward_dot", arguments=("out_grad", "lhs", "rhs"), outputs=("lhs_grad", "rhs_grad"),
               params=dict(transpose_a=Bool(False), transpose_b=Bool(False), forward_stype=Str(None)),
               infer_shape=_backward_dot_shape, infer_type=float_only("_backward_dot"), cpu=cpu.backward_dot,
               doc="Gradients of dot with respect to lhs and rhs."))

# ---------------------------------------------------------------------------------------------------------------
# Reshape
# ---------------------------------------------------------------------------------------------------------------


def _reshape_special(data, spec, p):
    """Apply MXNet's special values left to right: 0 copy a dim, -1 infer it, -2 copy all remaining dims,
    -3 merge two dims, -4 split one dim into the next two values (one may be -1). Unknown dims stay 0."""
    def fail(why):
        raise ShapeError("Reshape: cannot reshape %s with shape=%s%s: %s"
                         % (fmt(data), tuple(p.shape), ", reverse=True" if p.reverse else "", why))
    out, src, infer, i = [], 0, None, 0
    while i < len(spec):
        v = spec[i]
        if v > 0:
            out.append(v)
            src += 1
        elif v == 0:
            if src >= len(data):
                fail("0 copies input dim %d, which does not exist" % src)
            out.append(data[src])
            src += 1
        elif v == -1:
            if infer is not None:
                fail("only one dim can be -1 (inferred)")
            infer = len(out)
            out.append(0)
            src += 1
        elif v == -2:
            out.extend(data[src:])
            src = len(data)
        elif v == -3:
            if src + 1 >= len(data):
                fail("-3 merges input dims %d and %d, which do not exist" % (src, src + 1))
            out.append(data[src] * data[src + 1])
            src += 2
        elif v == -4:
            if i + 2 >= len(spec):
                fail("-4 must be followed by two values")
            if src >= len(data):
                fail("-4 splits input dim %d, which does not exist" % src)
            d0, d1, d2 = data[src], spec[i + 1], spec[i + 2]
            if d1 == -1 and d2 == -1:
                fail("-4's split dims cannot both be -1")
            if d1 < -1 or d2 < -1 or d1 == 0 or d2 == 0:
                fail("-4's split dims must be positive or -1, got %d, %d" % (d1, d2))
            if d1 == -1:
                d1 = d0 // d2 if d0 % d2 == 0 else -2
            elif d2 == -1:
                d2 = d0 // d1 if d0 % d1 == 0 else -2
            if d0 and (d1 * d2 != d0):
                fail("split dims %d, %d do not divide input dim %d" % (spec[i + 1], spec[i + 2], d0))
            out.extend([max(d1, 0), max(d2, 0)])
            src += 1
            i += 2
        else:
            fail("%d is not a valid dim (use a positive size, 0, -1, -2, -3 or -4)" % v)
        i += 1
    if infer is not None and known(data):
        rest = size(out[:infer] + out[infer + 1:])
        if rest and size(data) % rest:
            fail("the input size %d is not a multiple of %d" % (size(data), rest))
        out[infer] = size(data) // rest if rest else 0
    return tuple(out)


def _reshape_target(data, p):
    """Output shape from the legacy target_shape: 0 is inferred; keep_highest keeps the input's first dim."""
    out = list(p.target_shape)
    if any(d < 0 for d in out):
        raise ShapeError("Reshape: target_shape=%s: dims cannot be negative" % (tuple(p.target_shape),))
    if p.keep_highest:
        out[0] = data[0]
    zeros = [i for i, d in enumerate(out) if d == 0 and not (p.keep_highest and i == 0)]
    if len(zeros) == 1 and known(data) and size(out[:zeros[0]] + out[zeros[0] + 1:]):
        out[zeros[0]] = size(data) // size(out[:zeros[0]] + out[zeros[0] + 1:])
    return tuple(out)


def _reshape_shape(p, in_shapes, out_shapes):
    data, out = in_shapes[0], out_shapes[0]
    if not p.shape and not p.target_shape:
        raise ShapeError("Reshape: give the target shape as shape= (or the legacy target_shape=)")
    if data is None:
        # Without the input, only a target made of plain sizes tells the output.
        if p.shape and all(d > 0 for d in p.shape):
            out = merge(out, tuple(p.shape))
        return list(in_shapes), [out]
    if p.shape:
        spec, d = (tuple(p.shape), tuple(data))
        if p.reverse:
            spec, d = spec[::-1], d[::-1]
        inferred = _reshape_special(d, spec, p)
        inferred = inferred[::-1] if p.reverse else inferred
    else:
        inferred = _reshape_target(data, p)
    if known(data) and known(inferred) and size(data) != size(inferred):
        raise ShapeError("Reshape: target shape %s (shape=%s%s) has %d elements, the input %s has %d"
                         % (fmt(inferred), tuple(p.shape or p.target_shape), ", reverse=True" if p.reverse else "",
                            size(inferred), fmt(data), size(data)))
    out = merge(inferred, out)
    # Backward: one unknown input dim follows from a fully known output.
    unknown = [i for i, d in enumerate(data) if d == 0]
    if len(unknown) == 1 and known(out):
        rest = size(data[:unknown[0]] + data[unknown[0] + 1:])
        if size(out) % rest == 0:
            data = data[:unknown[0]] + (size(out) // rest,) + data[unknown[0] + 1:]
    return [tuple(data)], [out]


# d reshape(x) = dy reshaped back to x's shape (Reshape, Flatten)
def _reshape_grad(p, ins, outs, dys):
    return [apply("reshape_like", dys[0], ins[0])]


register(OpDef("Reshape", aliases=("reshape",),
               params=dict(shape=Shape((), "The target shape"),
                           reverse=Bool(False, "If true then the special values are inferred from right to left"),
                           target_shape=Shape((), "(Deprecated! Use shape instead.) Target new shape."),
                           keep_highest=Bool(False, "(Deprecated! Use shape instead.) Keep the highest dim.")),
               infer_shape=_reshape_shape, inplace=((0, 0),), cpu=cpu.reshape, gradient=_reshape_grad,
               doc="Reshapes the input array; 0, -1, -2, -3 and -4 in shape have MXNet's special meanings."))

# ---------------------------------------------------------------------------------------------------------------
# Flatten
# ---------------------------------------------------------------------------------------------------------------


# (n, d1, d2, ...) -> (n, d1*d2*...); a 1-D input (n,) becomes (n, 1).
def _flatten_shape(p, in_shapes, out_shapes):
    data, out = in_shapes[0], out_shapes[0]
    if data is None:
        return list(in_shapes), list(out_shapes)
    if len(data) == 0:
        raise ShapeError("Flatten: the input needs at least one dimension, got shape ()")
    out = merge((data[0], size(data[1:])), out)
    # Backward: the first dim, and one unknown trailing dim, follow from the output.
    data = list(data)
    data[0] = data[0] or out[0]
    unknown = [i for i in range(1, len(data)) if data[i] == 0]
    if len(unknown) == 1 and out[1]:
        u = unknown[0]
        rest = size(data[1:u] + data[u + 1:])
        if out[1] % rest == 0:
            data[u] = out[1] // rest
    return [tuple(data)], [out]


register(OpDef("Flatten", aliases=("flatten",), infer_shape=_flatten_shape, inplace=((0, 0),), cpu=cpu.flatten,
               gradient=_reshape_grad,
               doc="Flattens the input array into a 2-D array by collapsing the higher dimensions."))

# ---------------------------------------------------------------------------------------------------------------
# broadcast_to
# ---------------------------------------------------------------------------------------------------------------


# Same rank as data (MXNet requires it); a 0 in shape keeps data's dim; a data dim of 1 stretches.
def _broadcast_to_shape(p, in_shapes, out_shapes):
    data, target = in_shapes[0], tuple(p.shape)
    if any(d < 0 for d in target):
        raise ShapeError("broadcast_to: shape=%s: dims cannot be negative" % (target,))
    if data is None:
        if all(target):
            return list(in_shapes), [merge(target, out_shapes[0])]
        return list(in_shapes), list(out_shapes)
    if len(data) != len(target):
        raise ShapeError("broadcast_to: operand of shape %s cannot be broadcast to shape=%s (ranks differ)"
                         % (fmt(data), target))
    out = []
    for d, t in zip(data, target):
        if t and d and d != 1 and d != t:
            raise ShapeError("broadcast_to: array cannot be broadcast from %s to shape=%s" % (fmt(data), target))
        out.append(t or d)
    return list(in_shapes), [merge(tuple(out), out_shapes[0])]


register(OpDef("broadcast_to",
               params=dict(shape=Shape((), "The shape of the desired array; a 0 keeps the input's dim.")),
               infer_shape=_broadcast_to_shape, cpu=cpu.broadcast_to,
               gradient=lambda p, ins, outs, dys: [apply("_sum_to_like", dys[0], ins[0])],
               doc="Broadcasts the input array to a new shape."))

# ---------------------------------------------------------------------------------------------------------------
# reshape_like
# ---------------------------------------------------------------------------------------------------------------


# out = lhs.shape[:lhs_begin] + rhs.shape[rhs_begin:rhs_end] + lhs.shape[lhs_end:], holding lhs's values; the
# defaults (None) take the whole of both, so out has rhs's shape.
def _reshape_like_shape(p, in_shapes, out_shapes):
    lhs, rhs = in_shapes
    if lhs is None or rhs is None:
        return list(in_shapes), list(out_shapes)
    lb, le = _span(p.lhs_begin, p.lhs_end, len(lhs))
    rb, re = _span(p.rhs_begin, p.rhs_end, len(rhs))
    out = tuple(lhs[:lb]) + tuple(rhs[rb:re]) + tuple(lhs[le:])
    if known(lhs) and known(out) and size(lhs) != size(out):
        raise ShapeError("reshape_like: cannot reshape lhs %s (size %d) to %s (size %d)"
                         % (fmt(lhs), size(lhs), fmt(out), size(out)))
    return list(in_shapes), [merge(out, out_shapes[0])]


def _span(begin, end, ndim):
    begin = 0 if begin is None else (begin + ndim if begin < 0 else begin)
    end = ndim if end is None else (end + ndim if end < 0 else end)
    return begin, end


def _reshape_like_type(p, in_types, out_types):
    return list(in_types), [in_types[0]]


register(OpDef("reshape_like", arguments=("lhs", "rhs"),
               params=dict(lhs_begin=OptInt(None), lhs_end=OptInt(None), rhs_begin=OptInt(None),
                           rhs_end=OptInt(None)),
               infer_shape=_reshape_like_shape, infer_type=_reshape_like_type, inplace=((0, 0),),
               cpu=cpu.reshape_like, gradient=lambda p, ins, outs, dys: [apply("reshape_like", dys[0], ins[0]),
                                                                        None],
               doc="Reshapes lhs to the shape of rhs (or of a span of it)."))


# ---------------------------------------------------------------------------------------------------------------
# broadcast_axis
# ---------------------------------------------------------------------------------------------------------------


# data with a dim of 1 at each of `axis` -> that dim becomes size[i] (checked on MXNet 1.9.1: axes are 0 ..
# ndim - 1, negative ones are rejected, and an axis given twice fails because its dim is no longer 1).
def _broadcast_axis_shape(p, in_shapes, out_shapes):
    data = in_shapes[0]
    if len(p.axis) != len(p.size):
        raise ShapeError("broadcast_axis: axis=%s and size=%s must have the same length" % (p.axis, p.size))
    if data is None and out_shapes[0] is not None:       # backwards: the broadcast axes were 1
        data = tuple(1 if i in p.axis else d for i, d in enumerate(out_shapes[0]))
    if data is None:
        return list(in_shapes), list(out_shapes)
    out = list(data)
    for axis, n in zip(p.axis, p.size):
        if not 0 <= axis < len(data):
            raise ShapeError("broadcast_axis: axis %d is out of range [0, %d) for data %s" % (axis, len(data),
                                                                                          fmt(data)))
        if out[axis] not in (0, 1):         # 0: not known yet
            raise ShapeError("broadcast_axis: axis %d of data %s has size %d, not 1%s"
                             % (axis, fmt(data), out[axis], " (given twice)" if data[axis] == 1 else ""))
        out[axis] = n
    data = tuple(1 if i in p.axis else d for i, d in enumerate(data))
    return [data], [merge(tuple(out), out_shapes[0])]


register(OpDef("broadcast_axis", aliases=("broadcast_axes",),
               params=dict(axis=Shape((), "The axes to perform the broadcasting."),
                           size=Shape((), "Target sizes of the broadcasting axes.")),
               infer_shape=_broadcast_axis_shape, cpu=cpu.broadcast_to,
               gradient=lambda p, ins, outs, dys: [apply("_sum_to_like", dys[0], ins[0])],
               doc="Broadcasts the input array over particular axes: each axis in `axis`, of size 1, becomes of "
                   "the matching size in `size`."))

# ---------------------------------------------------------------------------------------------------------------
# shape_array, size_array: int64 outputs, no gradient
# ---------------------------------------------------------------------------------------------------------------


def _int64_out(p, in_types, out_types):
    return list(in_types), [np.dtype(np.int64)]


def _no_grad(p, ins, outs, dys):
    return [None]


register(OpDef("shape_array", infer_shape=lambda p, ins, outs: (list(ins), [None if ins[0] is None
                                                                            else (len(ins[0]),)]),
               infer_type=_int64_out, gradient=_no_grad, cpu=cpu.shape_array,
               doc="Returns a 1D int64 array containing the shape of data."))
register(OpDef("size_array", infer_shape=lambda p, ins, outs: (list(ins), [(1,)]),
               infer_type=_int64_out, gradient=_no_grad, cpu=cpu.size_array,
               doc="Returns a 1D int64 array of one element, the size of data."))

# ---------------------------------------------------------------------------------------------------------------
# amp_cast, amp_multicast (automatic mixed precision)
# ---------------------------------------------------------------------------------------------------------------

# The casts touch only low-precision-or-float32 data (MXNet's bfloat16, which numpy lacks, is not supported);
# float64 and integer arrays pass through with their dtype (checked on MXNet 1.9.1).
_AMP_TYPES = (np.dtype(np.float16), np.dtype(np.float32))


def _amp_cast_type(p, in_types, out_types):
    data = in_types[0]
    if data is None:
        return list(in_types), list(out_types)
    return list(in_types), [p.dtype if np.dtype(data) in _AMP_TYPES else data]


# d amp_cast(x) = dy cast back to x's dtype
def _cast_back(p, ins, outs, dys):
    return [None if dy is None else apply("_backward_Cast", dy, x) for dy, x in zip(dys, ins)]


register(OpDef("amp_cast", params=dict(dtype=DType(doc="Output data type.")), infer_shape=same_shape_rule,
               infer_type=_amp_cast_type, gradient=_cast_back, cpu=cpu_elemwise.cast,
               doc="Cast function between low precision float/FP32 used by AMP. It casts only between low "
                   "precision float/FP32 and does not do anything for other types."))


def _amp_multicast_shape(p, in_shapes, out_shapes):
    shapes = [merge(i, o) for i, o in zip(in_shapes, out_shapes)]
    return shapes, list(shapes)


# float16/float32 inputs go to the widest (cast_narrow: narrowest) of them; other dtypes keep theirs. Known only
# once every input's dtype is.
def _amp_multicast_type(p, in_types, out_types):
    if any(t is None for t in in_types):
        return list(in_types), list(out_types)
    amp = [np.dtype(t) for t in in_types if np.dtype(t) in _AMP_TYPES]
    target = (min if p.cast_narrow else max)(amp, key=lambda t: t.itemsize) if amp else None
    return list(in_types), [target if np.dtype(t) in _AMP_TYPES else t for t in in_types]


register(OpDef("amp_multicast", arguments=lambda p: ["data_%d" % i for i in range(p.num_outputs)],
               outputs=lambda p: ["output%d" % i for i in range(p.num_outputs)],
               params=dict(num_outputs=Int(doc="Number of input/output pairs to be casted to the widest type."),
                           cast_narrow=Bool(False, "Whether to cast to the narrowest type")),
               infer_shape=_amp_multicast_shape, infer_type=_amp_multicast_type, gradient=_cast_back,
               cpu=cpu.amp_multicast,
               doc="Cast function used by AMP, that casts its inputs to the common widest type. It casts only "
                   "between low precision float/FP32 and does not do anything for other types."))
