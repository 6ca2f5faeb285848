"""CPU kernels of the reductions: numpy's SIMD reductions over the reduced axes (they release the GIL)."""
import numpy as np

from ..errors import ShapeError
from .common import F16, F32, assign


def reduced_axes(p, ndim, name):
    """The sorted axes reduced over for an input of `ndim` dims (raises for an axis out of range)."""
    axis = p.axis
    if axis is None or len(axis) == 0:
        axes = set(range(ndim)) if not p.exclude else set()
    else:
        axes = set()
        for a in axis:
            if not -ndim <= a < ndim:
                raise ShapeError("%s: axis %d is out of range for an input of %d dimensions" % (name, a, ndim))
            axes.add(a % ndim)
        if p.exclude:
            axes = set(range(ndim)) - axes
    return tuple(sorted(axes))


def _reduce(np_fn):
    def kernel(ctx, p, inputs, outputs, req):
        x, out = inputs[0], outputs[0]
        axes = reduced_axes(p, x.ndim, "reduce")
        data = x.astype(F32) if x.dtype == F16 else x
        assign(out, req[0], np_fn(data, axis=axes).reshape(out.shape))
    return kernel


sum_ = _reduce(np.sum)
mean = _reduce(np.mean)
prod = _reduce(np.prod)
max_ = _reduce(np.max)
min_ = _reduce(np.min)


def norm(ctx, p, inputs, outputs, req):
    x, out = inputs[0], outputs[0]
    if p.ord not in (1, 2):
        raise ValueError("norm: ord must be 1 or 2, got %d" % p.ord)
    axes = reduced_axes(p, x.ndim, "norm")
    data = x.astype(F32) if x.dtype == F16 else x
    value = np.sum(np.abs(data), axis=axes) if p.ord == 1 else np.sqrt(np.sum(data * data, axis=axes))
    assign(out, req[0], value.reshape(out.shape))


def backward_reduce(ctx, p, inputs, outputs, req):
    dy, x, y = inputs
    axes = reduced_axes(p, x.ndim, "_backward_reduce")
    kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    g, y = dy.reshape(kept), y.reshape(kept)
    if p.mode == "sum":
        grad = np.broadcast_to(g, x.shape)
    elif p.mode == "mean":
        grad = np.broadcast_to(g / max(1, x.size // max(1, y.size)), x.shape)
    elif p.mode == "prod":
        grad = g * y / x
    elif p.mode in ("max", "min"):
        grad = g * (x == y)
    elif p.mode == "norm1":
        grad = g * np.sign(x)
    else:
        grad = g * x / np.where(y == 0, 1, y)
    assign(outputs[0], req[0], grad)
