"""Reductions: sum, mean, prod, max, min, norm over `axis` (all axes by default), with `keepdims` and `exclude`.

MXNet 1.x conventions: reducing every axis without keepdims gives shape (1,), not (); `exclude=True` reduces over
the axes NOT listed. One backward op, `_backward_reduce`, spreads the output gradient back over the reduced axes
for every reduction (`mode` says how).
"""
from .autodiff import apply
from .cpu import reduce as cpu
from .cpu.reduce import reduced_axes
from .elemwise import float_only, fmt
from .errors import ShapeError
from .registry import Bool, Enum, Int, OpDef, OptShape, Str, register


def reduced_shape(p, shape, name):
    axes = reduced_axes(p, len(shape), name)
    if p.keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    out = tuple(d for i, d in enumerate(shape) if i not in axes)
    return out or (1,)


def _reduce_shape_rule(name):
    def rule(p, in_shapes, out_shapes):
        data = in_shapes[0]
        if data is None:
            return list(in_shapes), list(out_shapes)
        if len(data) == 0:
            raise ShapeError("%s: the input needs at least one dimension, got %s" % (name, fmt(data)))
        return list(in_shapes), [reduced_shape(p, data, name)]
    return rule


_PARAMS = dict(axis=OptShape(None, "The axis or axes to reduce over; all by default."),
               keepdims=Bool(False, "Keep the reduced axes with size 1."),
               exclude=Bool(False, "Reduce over the axes not in `axis`."))


def reduction(name, kernel, mode, aliases=(), params=None, infer_type=None, doc=""):
    all_params = dict(_PARAMS, **(params or {}))

    def gradient(p, ins, outs, dys):
        return [apply("_backward_reduce", dys[0], ins[0], outs[0], mode=mode if mode != "norm" else
                      "norm%d" % p.ord, axis=p.axis, keepdims=p.keepdims, exclude=p.exclude)]
    extra = {} if infer_type is None else dict(infer_type=infer_type)
    return register(OpDef(name, params=all_params, infer_shape=_reduce_shape_rule(name), cpu=kernel,
                          gradient=gradient, aliases=tuple(aliases), doc=doc, **extra))


reduction("sum", cpu.sum_, "sum", ("sum_axis",), doc="The sum of array elements over the given axes.")
reduction("mean", cpu.mean, "mean", doc="The mean of array elements over the given axes.")
reduction("prod", cpu.prod, "prod", doc="The product of array elements over the given axes.")
reduction("max", cpu.max_, "max", ("max_axis",), doc="The maximum of array elements over the given axes.")
reduction("min", cpu.min_, "min", ("min_axis",), doc="The minimum of array elements over the given axes.")
reduction("norm", cpu.norm, "norm", params=dict(ord=Int(2, "Order of the norm: 1 or 2."),
                                                out_dtype=Str(None, "The dtype of the output.")),
          infer_type=float_only("norm"), doc="The L1 or L2 norm over the given axes (flattened: all elements).")


def _backward_reduce_shape(p, in_shapes, out_shapes):
    return list(in_shapes), [in_shapes[1]]


# d sum = dy spread over the reduced axes; d mean = that / count; d prod = dy * out / x; d max, d min = dy where x
# equals the result; d norm1 = dy * sign(x); d norm2 = dy * x / out.
register(OpDef("_backward_reduce", arguments=("out_grad", "data", "output"),
               params=dict(_PARAMS, mode=Enum(("sum", "mean", "prod", "max", "min", "norm1", "norm2"))),
               infer_shape=_backward_reduce_shape, cpu=cpu.backward_reduce,
               doc="The gradient of a reduction with respect to its input."))
