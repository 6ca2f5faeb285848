"""Default context, dtype and comparison tolerances of `mx.test_utils`, as MXNet 1.9.1 chooses them.

A tolerance argument is None (use the default for the data's dtype), a number (use it), or a dict dtype -> number
(use its entry for the data's dtype, else the default). Comparing two arrays uses the looser of their defaults.
"""
import numbers

import numpy as np

from .. import context as _context


def default_context():
    """The context tests run on: the current default context."""
    return _context.current_context()


def set_default_context(ctx):
    """Make `ctx` the default context of this thread (what `mx.current_context()` returns outside `with`)."""
    _context._state.ctx = ctx      # the thread-local slot `with ctx:` sets and restores


def default_dtype():
    """The dtype tests create arrays with: float32."""
    return np.float32


_FLOATS = (np.float16, np.float32, np.float64)
_EXACT = (np.bool_, np.int8, np.uint8, np.int32, np.uint32, np.int64, np.uint64)


def default_rtols():
    """Relative tolerance per dtype: float16 1e-2, float32 1e-4, float64 1e-5, exact for bool and integers."""
    return dict(zip(map(np.dtype, _FLOATS + _EXACT), (1e-2, 1e-4, 1e-5) + (0,) * len(_EXACT)))


def default_atols():
    """Absolute tolerance per dtype: float16 1e-1, float32 1e-3, float64 1e-20, exact for bool and integers."""
    return dict(zip(map(np.dtype, _FLOATS + _EXACT), (1e-1, 1e-3, 1e-20) + (0,) * len(_EXACT)))


def default_numeric_eps():
    """Finite-difference step per float dtype; powers of two, so adding one to an input drops no bits."""
    return {np.dtype(np.float16): 2.0 ** -6, np.dtype(np.float32): 2.0 ** -9, np.dtype(np.float64): 2.0 ** -14}


def effective_dtype(dat):
    """The dtype whose tolerance applies to `dat` (a numpy array or NDArray): its own dtype. (MXNet answers float16
    for float32 data on TF32-capable GPUs; no kernel here computes in TF32.)"""
    return np.dtype(dat.dtype)


def get_tolerance(dat, tol, default_tol):
    """`tol` when it is a number; else the entry of the dict `tol` (or of `default_tol`) for `dat`'s dtype."""
    if isinstance(tol, numbers.Number):
        return tol
    dtype = effective_dtype(dat)
    tol = tol or {}
    return tol[dtype] if dtype in tol else default_tol[dtype]


def get_tols(x, y, rtol, atol):
    """(rtol, atol) for comparing `x` with `y`: the larger of the two data's tolerances."""
    x = np.array(x) if isinstance(x, numbers.Number) else x
    y = np.array(y) if isinstance(y, numbers.Number) else y
    rtol = max(get_tolerance(x, rtol, default_rtols()), get_tolerance(y, rtol, default_rtols()))
    atol = max(get_tolerance(x, atol, default_atols()), get_tolerance(y, atol, default_atols()))
    return rtol, atol


def get_atol(atol=None, dtype=np.dtype(np.float64)):
    """`atol`, or the default absolute tolerance of `dtype` when it is None."""
    return default_atols()[np.dtype(dtype)] if atol is None else atol


def get_rtol(rtol=None, dtype=np.dtype(np.float64)):
    """`rtol`, or the default relative tolerance of `dtype` when it is None."""
    return default_rtols()[np.dtype(dtype)] if rtol is None else rtol


def get_etol(etol=None):
    """`etol` (the fraction of elements allowed to differ), 0 when it is None."""
    return 0 if etol is None else etol
