"""NumPy's sum, mean, max, min and prod (MXNet's `_np_sum`, `_npi_mean`, `_np_max`, `_np_min`, `_np_prod`): as the
legacy reductions, whose kernels and gradient they run, except that reducing every axis gives shape () (a graph
output of that shape is a zero-dim mx.np array), `axis=()` reduces nothing, zero-dim data is taken, `dtype` sets
the result's dtype (computed in a dtype wide enough for both), the mean of integers is float32 (MXNet's numpy
default) and `initial` joins the reduction. The other numpy-mode ops are in ops/numpy_ops.py (var and std in
ops/numpy_moments.py).
"""
import numpy as np

from .autodiff import apply
from .cpu.common import assign
from .errors import ShapeError
from . import registry
from .registry import Bool, DType, OpDef, OptFloat, OptShape, register

NP_REDUCTIONS = {"_np_sum": "sum", "_npi_mean": "mean", "_np_max": "max", "_np_min": "min", "_np_prod": "prod"}
_INITIAL = {"sum": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum}


def _np_reduced_shape(p, shape, name):
    from .cpu.reduce import reduced_axes
    axes = () if p.axis is not None and not p.axis else reduced_axes(p, shape, name)
    if p.keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _np_reduction_rule(name):
    def rule(p, in_shapes, out_shapes):
        if name == "_npi_mean" and p.initial is not None:
            raise ShapeError("_npi_mean: initial=%s is not supported (NumPy's mean has no initial)" % p.initial)
        if in_shapes[0] is None:
            return list(in_shapes), list(out_shapes)
        return list(in_shapes), [_np_reduced_shape(p, in_shapes[0], name)]
    return rule


def _np_reduction_type(name):
    def rule(p, in_types, out_types):
        if p.dtype is not None:
            return list(in_types), [p.dtype]
        if in_types[0] is None:
            return list(in_types), list(out_types)
        t = np.dtype(in_types[0])
        if name == "_npi_mean" and t.kind in "iub":
            return list(in_types), [np.dtype(np.float32)]
        if name in ("_np_sum", "_np_prod") and t.kind == "b":       # counts, as NumPy and MXNet
            return list(in_types), [np.dtype(np.int64)]
        return list(in_types), [t]
    return rule


def _accumulation_dtype(mode, given, result):
    """The dtype a reduction of `given` data into a `result` computes in: the wider of two floats (float data
    keeps its precision for an integer result), else the result's; a float16 sum or mean adds in float32, as
    MXNet's accumulation type (and the array side)."""
    given, result = np.dtype(given), np.dtype(result)
    if given.kind == "f":
        work = np.promote_types(given, result) if result.kind == "f" else given
    else:
        work = result
    return np.dtype(np.float32) if work == np.float16 and mode in ("sum", "mean") else work


def _np_reduction_kernel(name):
    mode = NP_REDUCTIONS[name]
    legacy = registry.get(mode).cpu

    def kernel(ctx, p, inputs, outputs, req):
        out = outputs[0]
        work = _accumulation_dtype(mode, inputs[0].dtype, out.dtype)
        x = inputs[0].astype(work, copy=False)
        x = x.reshape(x.shape or (1,))          # zero-dim data and results run as shape (1,), views of the same memory
        if p.initial is None and (p.axis is None or p.axis) and work == out.dtype:
            legacy(ctx, p, [x], [out.reshape(out.shape or (1,))], req)
            return
        if p.axis is not None and not p.axis:       # NumPy's axis=(): nothing reduced
            value = x
        else:
            value = np.empty(out.shape or (1,), work)
            legacy(ctx, p, [x], [value], ["write"])
        if p.initial is not None:
            value = _INITIAL[mode](value, work.type(p.initial))
        assign(out, req[0], value.astype(out.dtype, copy=False).reshape(out.shape))
    return kernel


def _np_reduction_gradient(name):
    mode = NP_REDUCTIONS[name]

    def gradient(p, ins, outs, dys):
        axis = () if p.axis is None else p.axis
        if p.axis is not None and not p.axis:
            return [apply("_copy", dys[0])]
        backward = "_backward_reduce" if p.dtype is None else "_backward_np_reduce"
        return [apply(backward, dys[0], ins[0], outs[0], mode=mode, axis=axis, keepdims=p.keepdims)]
    return gradient


# A reduction given a `dtype` has a gradient and result in that dtype: they are computed in the data's (float) dtype,
# as MXNet's, so that the mean of float32 data into float16 still spreads exactly 1/n.
def _backward_np_reduce_kernel(ctx, p, inputs, outputs, req):
    dy, x, y = inputs
    if x.dtype.kind == "f":
        dy, y = dy.astype(x.dtype, copy=False), y.astype(x.dtype, copy=False)
    _LEGACY_BACKWARD.cpu(ctx, p, [dy, x, y], outputs, req)


_LEGACY_BACKWARD = registry.get("_backward_reduce")
register(OpDef("_backward_np_reduce", arguments=_LEGACY_BACKWARD.arguments, params=dict(_LEGACY_BACKWARD.params),
               infer_shape=_LEGACY_BACKWARD.infer_shape, infer_type=_LEGACY_BACKWARD.infer_type,
               cpu=_backward_np_reduce_kernel, doc="The gradient of a numpy-mode reduction given a dtype."))


for _name in NP_REDUCTIONS:
    register(OpDef(_name, params=dict(axis=OptShape(None, "The axis or axes to reduce over; all by default."),
                                      dtype=DType(None, "The result's dtype (default: the data's)."),
                                      keepdims=Bool(False, "Keep the reduced axes with size 1."),
                                      initial=OptFloat(None, "A starting value joined to the reduction.")),
                   infer_shape=_np_reduction_rule(_name), infer_type=_np_reduction_type(_name),
                   cpu=_np_reduction_kernel(_name), gradient=_np_reduction_gradient(_name),
                   doc="NumPy's %s over the given axes (all by default; shape () then)." % NP_REDUCTIONS[_name]))

FORWARD = tuple(NP_REDUCTIONS)
BACKWARD = ("_backward_np_reduce",)
