"""Axes given by the user (an int or a sequence of ints, negative ones counting from the back) as non-negative
axes of an array: one function for the legacy `mx.nd` wrappers and `mx.np`, below both so neither imports the
other for it."""
import numbers

import numpy as onp

from ops.errors import ShapeError

NUMPY_AXIS_ERROR = getattr(onp, "exceptions", onp).AxisError     # numpy.exceptions is NumPy >= 1.25's


class AxisError(ShapeError, NUMPY_AXIS_ERROR):
    """An axis out of range: MXNet raises an MXNetError there, NumPy an AxisError; this is both."""
    def __init__(self, axis, ndim):
        NUMPY_AXIS_ERROR.__init__(self, axis, ndim)

    __str__ = NUMPY_AXIS_ERROR.__str__


def axis_tuple(axis):
    """`axis` (an int or a sequence of ints) as a tuple."""
    return (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)


def normalize_axes(axis, ndim, zero_dim_takes_axis_0=True):
    """`axis` (an int or a sequence) as a list of non-negative axes of an `ndim`-D array, in the order given;
    raises AxisError for an axis out of range. A zero-dim array takes axis 0 or -1 (as NumPy's reductions do)
    unless `zero_dim_takes_axis_0` is False."""
    bound = max(ndim, 1) if zero_dim_takes_axis_0 else ndim
    out = []
    for a in axis_tuple(axis):
        if not -bound <= a < bound:
            raise AxisError(a, ndim)
        out.append(a % ndim if ndim else 0)
    return out
