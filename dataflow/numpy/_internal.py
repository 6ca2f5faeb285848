"""`mx.nd.np._internal`: MXNet's `_npi` functions under their short names, as `F.np._internal.X` reaches them in
a non-hybridized block. The boolean-mask assignments are written here (dataflow has no such op: `x[mask] = v`
does the work); any other name is the registered `_npi_<name>` op, returning mx.np arrays."""
import numpy as onp

from ops.errors import MXNetError, ShapeError

from .. import ndarray as _nd
from ..ndarray.ndarray import NDArray
from .multiarray import _np


def boolean_mask_assign_scalar(data, mask, value=0.0, start_axis=0, out=None):
    """`value` written into `data` where `mask` (over data's axes from `start_axis` on) is non-zero, as MXNet's
    `_npi_boolean_mask_assign_scalar`: in place only, so `out` must be `data`."""
    return _assign_masked(data, mask, value, start_axis, out)


def boolean_mask_assign_tensor(data, mask, value, start_axis=0, out=None):
    """`boolean_mask_assign_scalar` with an array `value`, broadcast over the masked positions."""
    return _assign_masked(data, mask, value, start_axis, out)


def _assign_masked(data, mask, value, start_axis, out):
    if out is not data:
        raise MXNetError("boolean_mask_assign: only in-place assignment is supported (pass out=data), as MXNet's "
                         "npi_boolean_assign")
    mask = onp.asarray(mask.asnumpy() if isinstance(mask, NDArray) else mask) != 0
    covered = data.shape[start_axis:start_axis + mask.ndim]
    if mask.shape != covered:
        raise ShapeError("boolean_mask_assign: boolean index of shape %s does not match data of shape %s from "
                         "axis %d" % (mask.shape, data.shape, start_axis))
    data[(slice(None),) * start_axis + (mask,)] = value
    return data


def __getattr__(name):
    op = getattr(_nd._internal, "_npi_" + name, None)
    if op is None:
        raise AttributeError("module 'mx.nd.np._internal' has no function %r (no op _npi_%s)" % (name, name))

    def call(*args, **kwargs):
        return _np(op(*args, **kwargs))
    call.__name__ = name
    return call
