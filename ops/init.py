"""Fill ops with no inputs: _zeros, _ones, _full (behind mx.nd.zeros/ones/full and the initializers).

The output's shape and dtype come from the params. An empty shape (the default) is MXNet 1.x's unknown shape:
the rule leaves the output to be inferred from its consumers.
"""
import numpy as np

from .cpu import elemwise as cpu
from .elemwise import merge
from .registry import DType, Float, OptShape, OpDef, Shape, Str, register


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
