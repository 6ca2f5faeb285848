"""`_npi_pad`, MXNet 1.9.1's numpy-mode pad: NumPy's pad of any rank, one (before, after) pair per axis or one pair
for every axis, in the modes constant (`constant_value`), edge, reflect, symmetric, maximum and minimum; the
kernel is NumPy's, on the host, so widths past the axis reflect again as NumPy's do.

Facts checked on MXNet 1.9.1: the attribute is `pad_width='((1, 2),)'`; `reflect_type` takes only 'even'; only
mode 'constant' has a gradient there ("Other modes are not supported" when the backward runs). Here every mode
has one (`_pad_backward`): each padded element comes from one element of the array as padded before its axis.
"""
import numpy as np

from .autodiff import apply
from .cpu.common import assign
from .elemwise import fmt, merge
from .errors import MXNetError, ShapeError
from .registry import Enum, Field, Float, OpDef, Str, register


class PadWidths(Field):
    """A tuple of (before, after) pairs of ints: `((1, 2), (0, 3))`, `"((1, 2),)"`."""
    type_name = "tuple of <Shape(tuple)>"

    def parse(self, value):
        if isinstance(value, str):
            import ast
            value = ast.literal_eval(value.strip())
        pairs = tuple(tuple(int(w) for w in pair) for pair in value)
        if not pairs or any(len(pair) != 2 or min(pair) < 0 for pair in pairs):
            raise ValueError("expected (before, after) pairs of non-negative ints, got %r" % (value,))
        return pairs


MODES = ("constant", "edge", "reflect", "symmetric", "maximum", "minimum")
_INDEX_MAPPED = ("edge", "reflect", "symmetric")        # each output element is one input element


def widths_of(p, ndim):
    """One (before, after) pair per axis of an input of `ndim` axes."""
    pairs = p.pad_width
    if len(pairs) == 1:
        return pairs * ndim
    if len(pairs) != ndim:
        raise ShapeError("_npi_pad: pad_width=%s gives %d pairs for an input of %d axes (one pair, or one per axis)"
                         % (pairs, len(pairs), ndim))
    return pairs


def _pad_shape(p, in_shapes, out_shapes):
    data = in_shapes[0]
    if data is None:
        return list(in_shapes), list(out_shapes)
    widths = widths_of(p, len(data))        # a length 0 is an empty axis: a numpy-mode graph's shapes are given
    return [data], [merge(tuple(d + before + after for d, (before, after) in zip(data, widths)), out_shapes[0])]


def _pad(ctx, p, inputs, outputs, req):
    x, out = inputs[0], outputs[0]
    widths = widths_of(p, x.ndim)
    if x.size == 0 and p.mode != "constant" and any(before or after for before, after in widths):
        raise MXNetError("_npi_pad: mode '%s' cannot extend an empty axis of the input of shape %s (NumPy's rule)"
                         % (p.mode, fmt(x.shape)))
    extra = {"constant_values": p.constant_value} if p.mode == "constant" else {}
    assign(out, req[0], np.pad(x, widths, mode=p.mode, **extra))


def _pad_backward(ctx, p, inputs, outputs, req):
    """inputs (dy, data). NumPy pads one axis after the other, so the gradient folds dy back one axis at a time,
    the last first: each padded element's gradient goes to its source along that axis (edge, reflect, symmetric:
    NumPy's pad of arange names it; maximum, minimum: the first extreme of the array as padded before that axis;
    constant: none), the interior's to itself."""
    dy, data = inputs
    widths = widths_of(p, data.ndim)
    padded = [data]         # the array before each axis's padding
    for axis in range(data.ndim - 1):
        padded.append(_pad_axis(padded[-1], axis, widths[axis], p))
    grad = dy.astype(np.float64)
    for axis in reversed(range(data.ndim)):
        n, (before, _) = data.shape[axis], widths[axis]
        moved = np.moveaxis(grad, axis, 0)
        folded = np.array(moved[before:before + n])
        if p.mode in _INDEX_MAPPED:
            folded[...] = 0
            np.add.at(folded, np.pad(np.arange(n), widths[axis], mode=p.mode), moved)
        elif p.mode in ("maximum", "minimum") and n:
            pick = np.argmax if p.mode == "maximum" else np.argmin
            source = pick(np.moveaxis(padded[axis], axis, 0), axis=0)
            outside = moved.sum(axis=0) - moved[before:before + n].sum(axis=0)
            np.put_along_axis(folded, source[None], np.take_along_axis(folded, source[None], 0) + outside, 0)
        grad = np.moveaxis(folded, 0, axis)
    assign(outputs[0], req[0], grad)


def _pad_axis(x, axis, pair, p):
    widths = [(0, 0)] * x.ndim
    widths[axis] = pair
    extra = {"constant_values": p.constant_value} if p.mode == "constant" else {}
    return np.pad(x, widths, mode=p.mode, **extra)


def _backward_shape(p, in_shapes, out_shapes):
    data = merge(in_shapes[1], out_shapes[0])
    return [in_shapes[0], data], [data]


def _backward_type(p, in_types, out_types):
    dtype = in_types[0] if in_types[0] is not None else out_types[0]
    return [dtype, in_types[1]], [dtype]


_PARAMS = dict(pad_width=PadWidths(doc="(before, after) widths: one pair per axis, or one pair for every axis."),
               mode=Enum(MODES, "constant", "How the added elements are filled (NumPy's modes)."),
               constant_value=Float(0.0, "The value of the added elements in mode 'constant'."),
               reflect_type=Str("even", "Only 'even' is supported."))
register(OpDef("_npi_pad", params=_PARAMS, infer_shape=_pad_shape, cpu=_pad,
               gradient=lambda p, ins, outs, dys: [apply("_backward_npi_pad", dys[0], ins[0], **p.as_dict())],
               doc="NumPy's pad: the input with widths added before and after each axis, filled by `mode`."))
register(OpDef("_backward_npi_pad", arguments=("ograd", "data"), params=dict(_PARAMS), infer_shape=_backward_shape,
               infer_type=_backward_type, cpu=_pad_backward, doc="Backward of _npi_pad (internal)."))

FORWARD = ("_npi_pad",)
BACKWARD = ("_backward_npi_pad",)
