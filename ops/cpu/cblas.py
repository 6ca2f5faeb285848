"""CBLAS GEMM called from numba code: numpy's own OpenBLAS (the library np.dot uses, so dataflow's BLAS thread
policy applies; numpy's wheels ship it as scipy-openblas64 with 64-bit integers), bound by symbol name so that
numba's cache keeps the compiled callers. Where numpy's BLAS is another library `available()` is False and the
callers keep their own paths (im2col + np.dot, per-step np.dot).

Gives: `available()`, `gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc)` and
`gemv(m, n, a, lda, x, y)` (njit; row-major, on the arrays' first elements, float32 or float64).
"""
import ctypes
import glob
import os

import numba
import numpy as np
from numba import types

__all__ = ["available", "gemm", "gemv"]

_GEMM = types.void(types.int32, types.int32, types.int32, types.int64, types.int64, types.int64, types.float64,
                   types.voidptr, types.int64, types.voidptr, types.int64, types.float64, types.voidptr, types.int64)
_SGEMM = types.void(types.int32, types.int32, types.int32, types.int64, types.int64, types.int64, types.float32,
                    types.voidptr, types.int64, types.voidptr, types.int64, types.float32, types.voidptr, types.int64)
_GEMV = types.void(types.int32, types.int32, types.int64, types.int64, types.float64, types.voidptr, types.int64,
                   types.voidptr, types.int64, types.float64, types.voidptr, types.int64)
_SGEMV = types.void(types.int32, types.int32, types.int64, types.int64, types.float32, types.voidptr, types.int64,
                    types.voidptr, types.int64, types.float32, types.voidptr, types.int64)
_sgemm = types.ExternalFunction("dataflow_cblas_sgemm", _SGEMM)
_dgemm = types.ExternalFunction("dataflow_cblas_dgemm", _GEMM)
_sgemv = types.ExternalFunction("dataflow_cblas_sgemv", _SGEMV)
_dgemv = types.ExternalFunction("dataflow_cblas_dgemv", _GEMV)
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112

_bound = None


def _numpy_openblas():
    """numpy's bundled OpenBLAS (scipy-openblas64, ILP64 CBLAS symbols), or None."""
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    paths = sorted(glob.glob(os.path.join(libs, "libscipy_openblas64_*.so")))
    if not paths:
        return None
    try:
        lib = ctypes.CDLL(paths[0])
        return {name: ctypes.cast(getattr(lib, "scipy_cblas_%s64_" % name), ctypes.c_void_p).value
                for name in ("sgemm", "dgemm", "sgemv", "dgemv")}
    except (OSError, AttributeError):
        return None


def available():
    """Whether the BLAS symbols are bound (numpy's bundled OpenBLAS found); binds them on the first call."""
    global _bound
    if _bound is None:
        addresses = _numpy_openblas()
        _bound = addresses is not None
        if _bound:
            import llvmlite.binding as llvm
            for name, address in addresses.items():
                llvm.add_symbol("dataflow_cblas_" + name, address)
    return _bound


@numba.njit(nogil=True, cache=True)
def gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc):
    """c (m x n, ldc) = op(a) @ op(b) + beta * c, row-major, on the arrays' first elements (float32 or float64)."""
    ta = _TRANS if trans_a else _NO_TRANS
    tb = _TRANS if trans_b else _NO_TRANS
    if c.itemsize == 4:
        _sgemm(_ROW_MAJOR, ta, tb, m, n, k, np.float32(1.0), a.ctypes, lda, b.ctypes, ldb, np.float32(beta),
               c.ctypes, ldc)
    else:
        _dgemm(_ROW_MAJOR, ta, tb, m, n, k, 1.0, a.ctypes, lda, b.ctypes, ldb, beta, c.ctypes, ldc)


@numba.njit(nogil=True, cache=True)
def gemv(m, n, a, lda, x, y):
    """y (m) = a (m x n, lda, row-major) @ x (n), contiguous vectors, float32 or float64."""
    if y.itemsize == 4:
        _sgemv(_ROW_MAJOR, _NO_TRANS, m, n, np.float32(1.0), a.ctypes, lda, x.ctypes, 1, np.float32(0.0), y.ctypes, 1)
    else:
        _dgemv(_ROW_MAJOR, _NO_TRANS, m, n, 1.0, a.ctypes, lda, x.ctypes, 1, 0.0, y.ctypes, 1)
