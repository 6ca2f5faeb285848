"""Ops with no inputs: the fills _zeros, _ones, _full (behind mx.nd.zeros/ones and the initializers), and the
ranges _linspace, _arange and _eye (behind mx.nd.linspace / arange / eye and their mx.sym forms).

The output's shape and dtype come from the params. _arange with stop=None counts from 0 to start; an empty range,
step=0 or repeat < 1 is an error (as MXNet's). An empty shape (the default) is MXNet 1.x's unknown shape:
the rule leaves the output to be inferred from its consumers.
"""
import numpy as np

from .cpu import elemwise as cpu
from .cpu import init as cpu_init
from .cpu import shape as cpu_shape
from .elemwise import merge
from .errors import ShapeError
from .registry import Bool, DType, Float, Int, OptFloat, OptShape, OpDef, Shape, Str, register


def _init_shape(p, in_shapes, out_shapes):
    return [], [merge(tuple(p.shape), out_shapes[0]) if p.shape else out_shapes[0]]


def _init_type(p, in_types, out_types):
    return [], [p.dtype]


def _params(shape_field=Shape((), "The shape of the output")):
    return dict(shape=shape_field, ctx=Str("", "Context of output, in format [cpu|gpu|cpu_pinned](n)."),
                dtype=DType(np.dtype(np.float32), "Target data type."))


def fill(name, kernel, params=None, doc=""):
    """A no-input op writing a constant of the params' shape and dtype."""
    return register(OpDef(name, arguments=(), params=params or _params(), infer_shape=_init_shape,
                          infer_type=_init_type, cpu=kernel, doc=doc))


fill("_zeros", cpu._zeros, doc="Fills the output with zeros.")
fill("_ones", cpu._ones, doc="Fills the output with ones.")
# MXNet's _full alone defaults shape to None (unknown), not ().
fill("_full", cpu._full, dict(_params(OptShape(None, "The shape of the output")),
                             value=Float(doc="Value with which to fill newly created tensor")),
     doc="Fills the output with `value`.")


# num evenly spaced values from start to stop (stop itself only with endpoint); checked on MXNet 1.9.1: num=1
# gives [start], num=0 an empty array, integer dtypes truncate each value toward zero.
def _linspace_shape(p, in_shapes, out_shapes):
    if p.num < 0:
        raise ShapeError("_linspace: num=%d: the number of samples must be non-negative" % p.num)
    return [], [(p.num,)]


register(OpDef("_linspace", arguments=(), params=dict(
    start=Float(doc="Start of interval."),
    stop=Float(doc="End of interval, unless endpoint is set to False."),
    num=Int(doc="Number of samples to generate. Must be non-negative."),
    endpoint=Bool(True, "If True, stop is the last sample. Otherwise, it is not included."),
    ctx=Str("", "Context of output, in format [cpu|gpu|cpu_pinned](n).Only used for imperative calls."),
    dtype=DType(np.dtype(np.float32), "Target data type.")),
    infer_shape=_linspace_shape, infer_type=_init_type, cpu=cpu_init.linspace,
    doc="Return evenly spaced numbers over a specified interval. Similar to Numpy"))

# ---------------------------------------------------------------------------------------------------------------
# _arange, _eye
# ---------------------------------------------------------------------------------------------------------------


def _arange_shape(p, in_shapes, out_shapes):
    if p.step == 0:
        raise ShapeError("_arange: step=0 is not a valid step")
    if p.repeat < 1:
        raise ShapeError("_arange: repeat=%d must be positive" % p.repeat)
    if p.infer_range and p.stop is None:       # the length comes from the consumers
        return [], list(out_shapes)
    start, stop = (0.0, p.start) if p.stop is None else (p.start, p.stop)
    n = int(np.ceil((stop - start) / p.step))
    if n <= 0:
        raise ShapeError("_arange: (start, stop, step) = (%g, %g, %g) is an empty range" % (start, stop, p.step))
    return [], [merge((n * p.repeat,), out_shapes[0])]


_CTX = Str("", "Context of output, in format [cpu|gpu|cpu_pinned](n). Only used for imperative calls.")
register(OpDef("_arange", arguments=(), params=dict(
                   start=Float(doc="Start of interval; with stop=None, the interval is [0, start)."),
                   stop=OptFloat(None, "End of interval (excluded)."),
                   step=Float(1.0, "Spacing between values."),
                   repeat=Int(1, "The repeating time of all elements."),
                   infer_range=Bool(False, "Infer the stop position from start, step, repeat and the output "
                                           "size (with stop=None)."),
                   ctx=_CTX, dtype=DType(np.dtype(np.float32), "Target data type.")),
               infer_shape=_arange_shape, infer_type=_init_type, cpu=cpu_shape.arange,
               doc="Evenly spaced values in [start, stop), each repeated `repeat` times."))


def _eye_shape(p, in_shapes, out_shapes):
    if p.N < 0 or p.M < 0:
        raise ShapeError("_eye: N=%d and M=%d cannot be negative" % (p.N, p.M))
    return [], [merge((p.N, p.M or p.N), out_shapes[0])]


register(OpDef("_eye", arguments=(), params=dict(
                   N=Int(doc="Number of rows in the output."),
                   M=Int(0, "Number of columns in the output. If 0, defaults to N"),
                   k=Int(0, "Index of the diagonal: 0 the main one, > 0 above it, < 0 below."),
                   ctx=_CTX, dtype=DType(np.dtype(np.float32), "Target data type.")),
               infer_shape=_eye_shape, infer_type=_init_type, cpu=cpu_shape.eye,
               doc="A 2-D array with ones on the k-th diagonal and zeros elsewhere."))
