"""NumPy's var and std under MXNet's names (`_npi_var`, `_npi_std`) and their gradient op.

sum((x - mean)**2) / (n - ddof) over `axis` (every axis by default: shape (); `axis=()` reduces nothing), computed
in float64 for float64 data or result, else float32, then written in the result's dtype: `dtype` when given, else
the data's. As MXNet 1.9.1, integer data keeps its dtype, the value truncated (fixtures np_graph/functions.json).
A traced graph cannot name its input's dtype, which is why these are ops rather than graphs of reductions.
"""
import numpy as np

from .autodiff import apply
from .cpu.common import assign
from .elemwise import like_inputs, types_like_inputs
from .numpy_reductions import _np_reduced_shape
from .registry import Bool, DType, Int, OpDef, OptShape, register

MOMENTS = ("_npi_var", "_npi_std")


def _axes(p, ndim):
    from .cpu.reduce import reduced_axes
    return () if p.axis is not None and not p.axis else reduced_axes(p, (1,) * ndim, "_npi_var")


def _work(*dtypes):
    return np.dtype(np.float64 if np.dtype(np.float64) in [np.dtype(t) for t in dtypes] else np.float32)


def _deviation(p, x, work):
    """(x - mean over the reduced axes, n - ddof), in `work`."""
    axes = _axes(p, x.ndim)
    xf = x.astype(work, copy=False)
    count = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    return xf - xf.mean(axis=axes, keepdims=True) if axes else xf * 0, count - p.ddof, axes


def _moment_kernel(name):
    def kernel(ctx, p, inputs, outputs, req):
        x, out = inputs[0], outputs[0]
        deviation, divisor, axes = _deviation(p, x, _work(x.dtype, out.dtype))
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (deviation * deviation).sum(axis=axes, keepdims=p.keepdims) / divisor
            if name == "_npi_std":
                value = np.sqrt(value)
            assign(out, req[0], np.asarray(value).astype(out.dtype).reshape(out.shape))
    return kernel


def _backward_moment_kernel(name):
    """d var / dx = 2 (x - mean) / (n - ddof); d std / dx = (x - mean) / ((n - ddof) std), times dy spread over the
    reduced axes."""
    def kernel(ctx, p, inputs, outputs, req):
        dy, x, y = inputs
        work = _work(x.dtype, dy.dtype)
        deviation, divisor, axes = _deviation(p, x, work)
        kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
        g, y = dy.astype(work, copy=False).reshape(kept), y.astype(work, copy=False).reshape(kept)
        with np.errstate(divide="ignore", invalid="ignore"):
            if name == "_npi_var":
                grad = g * deviation * (2.0 / divisor)
            else:       # std 0 (all equal): the deviation is 0 too, and so is the gradient taken here
                grad = np.where(y == 0, 0, g * deviation / (divisor * y))
        assign(outputs[0], req[0], grad.astype(outputs[0].dtype, copy=False))
    return kernel


def _shape_rule(name):
    def rule(p, in_shapes, out_shapes):
        if in_shapes[0] is None:
            return list(in_shapes), list(out_shapes)
        return list(in_shapes), [_np_reduced_shape(p, in_shapes[0], name)]
    return rule


def _type_rule(p, in_types, out_types):
    if p.dtype is not None:
        return list(in_types), [p.dtype]
    return list(in_types), [in_types[0] if in_types[0] is not None else out_types[0]]


def _params():
    return dict(axis=OptShape(None, "The axis or axes to reduce over; all by default."),
                dtype=DType(None, "The result's dtype (default: the data's)."),
                ddof=Int(0, "Delta degrees of freedom: the divisor is n - ddof."),
                keepdims=Bool(False, "Keep the reduced axes with size 1."))


for _name in MOMENTS:
    register(OpDef(_name, params=_params(), infer_shape=_shape_rule(_name), infer_type=_type_rule,
                   cpu=_moment_kernel(_name),
                   gradient=lambda p, ins, outs, dys, _name=_name: [apply("_backward" + _name, dys[0], ins[0],
                                                                          outs[0], **p.as_dict())],
                   doc="NumPy's %s over the given axes (all by default; shape () then); integer data keeps its "
                       "dtype, as MXNet's." % _name[len("_npi_"):]))
    register(OpDef("_backward" + _name, params=_params(), arguments=("ograd", "data", "output"),
                   infer_shape=like_inputs(1), infer_type=types_like_inputs(1), cpu=_backward_moment_kernel(_name),
                   doc="The gradient of %s." % _name))

FORWARD = MOMENTS
BACKWARD = tuple("_backward" + name for name in MOMENTS)
