"""MXNet's Python functions of `mx.nd` that wrap an op: `moveaxis` (a transpose) and `onehot_encode`.
MXNet's path `mxnet.ndarray.ndarray.moveaxis` still finds them (ndarray.py's module `__getattr__`)."""
from ops import registry

from .._axes import AxisError, axis_tuple, normalize_axes
from .ndarray import _invoke


def _axis_tuple(axes, ndim):
    """`axes` (an int or a sequence) as non-negative axes of an `ndim`-D array, each once (NumPy's rule)."""
    axes = axis_tuple(axes)
    try:
        axes = tuple(normalize_axes(axes, ndim, zero_dim_takes_axis_0=False))
    except AxisError:       # MXNet's moveaxis turns NumPy's AxisError into a ValueError
        raise ValueError("moveaxis: source and destination must verify 0 <= axis < tensor.ndim (%d): got %s"
                         % (ndim, list(axes))) from None
    if len(set(axes)) != len(axes):
        raise ValueError("moveaxis: repeated axis in %s" % list(axes))
    return axes


def moveaxis(tensor, source, destination):
    """`tensor` with the axes `source` moved to the positions `destination`, the others in their order (a
    transpose)."""
    source, destination = _axis_tuple(source, tensor.ndim), _axis_tuple(destination, tensor.ndim)
    if len(source) != len(destination):
        raise ValueError("`source` and `destination` arguments must have the same number of elements")
    order = [axis for axis in range(tensor.ndim) if axis not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return _invoke(registry.get("transpose"), "transpose", (tensor,), dict(axes=tuple(order)))


def onehot_encode(indices, out):
    """One-hot encoding of `indices` into the matrix `out` (deprecated in MXNet: use one_hot)."""
    return _invoke(registry.get("_onehot_encode"), "_onehot_encode", (indices, out), dict(out=out))
