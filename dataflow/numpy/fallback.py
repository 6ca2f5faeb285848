"""`mx.np`'s host fallbacks: the NumPy functions MXNet 1.9.1 also runs through NumPy itself (its
`mxnet/numpy/fallback.py`): the arguments' arrays are copied to the host, NumPy computes, and array results come
back as mx.np arrays on the first argument array's context. No gradient flows through them (as in MXNet)."""
import functools

import numpy as onp
from numpy import finfo, min_scalar_type, promote_types, result_type  # noqa: F401 - not array functions: NumPy's own

from ..ndarray.ndarray import NDArray
from . import fallback_linalg  # noqa: F401 - makes `mx.np.fallback_linalg`, as MXNet has it
from .elementwise import positive, signbit  # noqa: F401 - MXNet's fallbacks that mx.np implements natively here
from .functions import _host, ndim, size  # noqa: F401
from .manipulation import rollaxis  # noqa: F401
from .reductions import count_nonzero, nanprod, ptp  # noqa: F401
from .sorting import argwhere, flatnonzero, searchsorted  # noqa: F401

# The functions computed on the host here (those NumPy 2 still has): MXNet 1.9.1's fallbacks that mx.np does not
# implement natively, and a few more mx.np functions that MXNet has natively but are computed on the host here
_ON_HOST = ("allclose", "apply_along_axis", "apply_over_axes", "argpartition", "array_equal", "array_equiv", "choose",
            "compress", "corrcoef", "correlate", "cov", "diag_indices_from", "digitize", "divmod", "extract",
            "float_power", "frexp", "heaviside", "histogram", "histogram2d", "histogram_bin_edges", "histogramdd",
            "i0", "interp", "intersect1d", "isclose", "isin", "ix_", "lexsort", "modf", "nanargmax", "nanargmin",
            "nancumprod", "nancumsum", "nanmax", "nanmedian", "nanmin", "nanpercentile", "nanquantile", "packbits",
            "partition", "piecewise", "poly", "polyadd", "polydiv", "polyfit", "polyint", "polymul", "polysub",
            "real", "resize", "roots", "select", "setdiff1d", "setxor1d", "spacing", "take_along_axis", "trapezoid",
            "tril_indices_from", "trim_zeros", "triu_indices_from", "union1d", "unpackbits", "unwrap", "vander",
            "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "invert", "lcm")

# MXNet 1.9.1's `mx.np.fallback.__all__`; the names below that mx.np implements natively are re-exported from there
_MXNET_NAMES = ("allclose", "alltrue", "apply_along_axis", "apply_over_axes", "argpartition", "argwhere",
                "array_equal", "array_equiv", "choose", "compress", "corrcoef", "correlate", "count_nonzero", "cov",
                "digitize", "divmod", "extract", "flatnonzero", "float_power", "frexp", "heaviside", "histogram2d",
                "histogram_bin_edges", "histogramdd", "i0", "in1d", "interp", "intersect1d", "isclose", "isin", "ix_",
                "lexsort", "min_scalar_type", "mirr", "modf", "msort", "nanargmax", "nanargmin", "nancumprod",
                "nancumsum", "nanmax", "nanmedian", "nanmin", "nanpercentile", "nanprod", "nanquantile", "ndim",
                "npv", "partition", "piecewise", "packbits", "poly", "polyadd", "polydiv", "polyfit", "polyint",
                "polymul", "polysub", "positive", "ppmt", "promote_types", "ptp", "pv", "rate", "real",
                "result_type", "rollaxis", "roots", "searchsorted", "select", "setdiff1d", "setxor1d", "signbit",
                "size", "spacing", "take_along_axis", "trapz", "tril_indices_from", "trim_zeros",
                "triu_indices_from", "union1d", "unpackbits", "unwrap", "vander")


def _to_host(value):
    if isinstance(value, NDArray):
        return value.asnumpy()
    if isinstance(value, (list, tuple)):
        return type(value)(_to_host(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_host(v) for k, v in value.items()}
    return value


def _first_context(values):
    for value in values:
        if isinstance(value, NDArray):
            return value.context
        if isinstance(value, (list, tuple)):
            found = _first_context(value)
            if found is not None:
                return found
    return None


def _to_device(value, ctx):
    if isinstance(value, onp.ndarray):
        return _host(value, value.dtype, ctx)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_to_device(v, ctx) for v in value)
    return value


def _fallback(name):
    host_function = getattr(onp, name)

    @functools.wraps(host_function)
    def function(*args, **kwargs):
        ctx = _first_context(list(args) + list(kwargs.values()))
        return _to_device(host_function(*_to_host(args), **_to_host(kwargs)), ctx)
    function.__doc__ = "NumPy's `%s`, computed on the host (no gradient), as MXNet's fallback." % name
    return function


globals().update({name: _fallback(name) for name in _ON_HOST if hasattr(onp, name)})
trapz = _fallback("trapezoid" if hasattr(onp, "trapezoid") else "trapz")     # MXNet's (and NumPy 1's) name

# MXNet's list, less the names NumPy 2 dropped, whatever the NumPy here: the financial functions (NumPy >= 1.20
# has none) and `alltrue`, `in1d`, `msort`, which mx.np has natively
NOT_FALLING_BACK = ("alltrue", "in1d", "msort", "mirr", "npv", "ppmt", "pv", "rate")
__all__ = [name for name in _MXNET_NAMES if name not in NOT_FALLING_BACK]
# The rest of what mx.np takes from this module (numpy/__init__.py): the other host-computed functions
ALSO_ON_HOST = [name for name in _ON_HOST if hasattr(onp, name) and name not in __all__] + ["trapz", "finfo"]
