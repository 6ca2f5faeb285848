"""Sparse kernels of more mx.nd ops, as MXNet 1.9.1 runs them (recorded in tests/fixtures/mxnet-1.9.1/sparse_ops):

  comparisons  `x == s`, `x != s`, `x > s`, `x >= s`, `x < s`, `x <= s` (and the swapped forms) of a sparse x and a
               scalar s keep x's storage type when the comparison of 0 with s is false (the unstored zeros stay
               zero): the stored values are compared, the indices kept. Otherwise the result is dense.
  maximum, minimum, hypot (`mx.nd._internal._maximum` ...) of two row_sparse or two csr arrays of one shape keep
               that storage type (f(0, 0) is 0): row_sparse stores the union of their rows, csr the entries whose
               result is not zero (sparse_ops._merged, as every csr o csr). Other storage types are dense.
  take         `take(csr, indices)` along axis 0 with mode clip or wrap gives the csr of the picked rows; mode
               raise and other axes are computed densely.
  scatter ops  `_scatter_elemwise_div(rsp, any)` = row_sparse: lhs's stored rows divided by rhs's, other rows
               left out; `_scatter_plus_scalar`, `_scatter_minus_scalar` of a sparse array add to its stored
               values only (same storage type). Dense inputs: elemwise_div, _plus_scalar, _minus_scalar.
  getnnz       `mx.nd.contrib.getnnz(csr, axis=None|1)`: the stored entries of the whole matrix (shape (1,)) or of
               each row, int64.

The ops register with `sparse_ops._serve`, so the plain front ends (`mx.nd.take`, the NDArray operators) reach them;
a call these kernels do not cover falls back to dense like any other op.
"""
import sys

import numpy as np

from ops.cpu import sparse as kernels
from ...base import MXNetError
from ..ndarray import NDArray
from ..sparse_ops import _ctx, _dense, _dense_fallback, _host, _is_sparse, _merged, _parts, _serve
from .arrays import _csr, _rsp

__all__ = ["getnnz"]

# the scalar comparison ops (the NDArray operators call them: `0 > x` is `_lesser_scalar(x, 0)`)
_COMPARISONS = {"_equal_scalar": np.equal, "_not_equal_scalar": np.not_equal, "_greater_scalar": np.greater,
                "_greater_equal_scalar": np.greater_equal, "_lesser_scalar": np.less,
                "_lesser_equal_scalar": np.less_equal}


def _compare_scalar(op_name, compare):
    def op(data, scalar):
        if not _is_sparse(data) or compare(0, scalar):
            return _dense_fallback(op_name, data, scalar=scalar)
        values, indices, indptr = _parts(data)
        result = compare(values, scalar).astype(values.dtype)
        if data.stype == "csr":
            return _csr(result, indices.copy(), indptr.copy(), data.shape, _ctx(data))
        return _rsp(result, indices.copy(), data.shape, _ctx(data))
    op.__name__ = op.__qualname__ = op_name
    return op


def _union_binary(op_name, kind):
    def op(lhs, rhs):
        if isinstance(lhs, NDArray) and isinstance(rhs, NDArray) and lhs.stype == rhs.stype != "default" \
                and lhs.shape == rhs.shape:
            return _merged(kind, lhs, rhs)
        return _dense_fallback(op_name, lhs, rhs)
    op.__name__ = op.__qualname__ = op_name
    return op


def _take_rows(rows, n, mode):
    """The row numbers `rows` (any numbers) mapped into [0, n) as `mode` ('clip' or 'wrap') says, int64."""
    rows = np.trunc(rows).astype(np.int64).reshape(-1)      # MXNet casts float indices toward zero
    return np.clip(rows, 0, n - 1) if mode == "clip" else np.mod(rows, n)


def take(a, indices, axis=0, mode="clip"):
    """take(csr, indices) along axis 0 with mode 'clip' or 'wrap': the picked rows, csr; other cases densely
    (MXNet's mode 'raise' too)."""
    if not _is_sparse(a, "csr") or _is_sparse(indices) or int(axis) not in (0, -2) or a.shape[0] == 0 \
            or mode not in ("clip", "wrap"):
        return _dense_fallback("take", a, indices, axis=axis, mode=mode)
    index_values = _host(indices)
    if index_values.ndim != 1:
        return _dense_fallback("take", a, indices, axis=axis, mode=mode)
    rows = _take_rows(index_values, a.shape[0], mode)
    data, cols, indptr = _parts(a)
    return _csr(*kernels.csr_take_rows(data, cols, indptr, rows), (len(rows), a.shape[1]), _ctx(a))


def scatter_elemwise_div(lhs, rhs, **_ignored):
    """MXNet's `_scatter_elemwise_div`: for a row_sparse lhs, lhs / rhs at lhs's stored rows only (row_sparse);
    otherwise elemwise_div."""
    if not _is_sparse(lhs, "row_sparse"):
        return _nd_op("elemwise_div")(lhs, rhs)
    if not isinstance(rhs, NDArray) or rhs.shape != lhs.shape:
        raise MXNetError("_scatter_elemwise_div: lhs %s and rhs %s must have one shape"
                         % (lhs.shape, getattr(rhs, "shape", type(rhs).__name__)))
    values, rows, _ = _parts(lhs)
    divisor = rhs.tostype("default") if _is_sparse(rhs) else rhs
    with np.errstate(all="ignore"):
        result = (values / _host(divisor)[rows]).astype(values.dtype)
    return _rsp(result, rows.copy(), lhs.shape, _ctx(lhs))


def _scatter_scalar(op_name, dense_name, sign):
    def op(data, scalar=1.0, is_int=True, **_ignored):
        if not _is_sparse(data):
            return _nd_op(dense_name)(data, scalar=scalar)
        values, indices, indptr = _parts(data)
        result = (values + sign * scalar).astype(values.dtype)
        if data.stype == "csr":
            return _csr(result, indices.copy(), indptr.copy(), data.shape, _ctx(data))
        return _rsp(result, indices.copy(), data.shape, _ctx(data))
    op.__name__ = op.__qualname__ = op_name
    op.__doc__ = "MXNet's `%s`: the scalar applied to a sparse array's stored values only (same storage type); " \
                 "`%s` for a dense array." % (op_name, dense_name)
    return op


scatter_plus_scalar = _scatter_scalar("_scatter_plus_scalar", "_plus_scalar", 1)
scatter_minus_scalar = _scatter_scalar("_scatter_minus_scalar", "_minus_scalar", -1)


def _nd_op(name):
    nd = sys.modules["dataflow.ndarray"]
    return getattr(nd, name, None) or getattr(nd._internal, name)


def getnnz(data, axis=None):
    """The number of stored entries of a csr matrix (axis None, shape (1,)) or of each of its rows (axis 1), int64.
    MXNet's `contrib.getnnz`."""
    if not _is_sparse(data, "csr"):
        raise MXNetError("getnnz: data must be a CSRNDArray, got %s" % getattr(data, "stype", type(data).__name__))
    _, _, indptr = _parts(data)
    if axis is None:
        return _dense(np.array([indptr[-1]], np.int64), data)
    if int(axis) in (1, -1):
        return _dense(np.diff(indptr).astype(np.int64), data)
    raise MXNetError("getnnz with axis = %s is not supported yet (axis None or 1)" % (axis,))


for _name, _compare in _COMPARISONS.items():
    _serve((_name,), _compare_scalar(_name, _compare), scalar=True)
for _name in ("maximum", "minimum", "hypot"):
    _serve(("_" + _name,), _union_binary("_" + _name, _name))
_serve(("take",), take, ("axis", "mode"))


def install_front_ends(nd):
    """`mx.nd.contrib.getnnz` and the `_scatter_*` ops (sparse-only: they have no registered OpDef)."""
    nd.contrib.getnnz = getnnz
    nd._internal._scatter_elemwise_div = scatter_elemwise_div
    nd._internal._scatter_plus_scalar = scatter_plus_scalar
    nd._internal._scatter_minus_scalar = scatter_minus_scalar
