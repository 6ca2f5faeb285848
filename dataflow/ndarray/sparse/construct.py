"""Making sparse arrays: `csr_matrix`, `row_sparse_array`, `zeros`, `empty`, `array`, and a dense array's `tostype`.

The accepted argument forms, default dtypes and errors are MXNet 1.9.1's (tests/test_sparse_core.py checks them
against its recorded results): a dtype left out is the source's for NDArrays, numpy arrays and scipy matrices,
float32 otherwise; index arrays are always int64. Storage given as (data, indices[, indptr]) is taken as it is, as
MXNet takes it: only sizes that cannot fit are refused here, `check_format()` checks the order and range.
"""
import numbers

import numpy as np

from ops.errors import MXNetError

from ...context import as_context
from ..ndarray import _DEFAULT_DTYPE, NDArray
from . import formats
from .arrays import _INDEX, BaseSparseNDArray, CSRNDArray, RowSparseNDArray, _csr, _rsp

_SPARSE_STYPES = ("row_sparse", "csr")


def csr_matrix(arg1, shape=None, ctx=None, dtype=None):
    """A CSRNDArray from (data, indices, indptr), (data, (row, col)) coordinates, a shape (M, N) (empty), a dense
    array (NDArray, numpy array or nested lists), a CSRNDArray or a scipy.sparse.csr_matrix.

    Examples
    --------
    >>> import dataflow as mx
    >>> mx.nd.sparse.csr_matrix(([1., 2.], ([0, 1], [1, 0])), shape=(2, 3)).asnumpy()
    array([[0., 1., 0.],
           [2., 0., 0.]], dtype=float32)
    """
    import scipy.sparse as spsp
    if isinstance(arg1, tuple):
        if len(arg1) == 2 and isinstance(arg1[1], tuple) and len(arg1[1]) == 2:
            data, (row, col) = arg1
            coo = spsp.coo_matrix((_host(data), (_host(row), _host(col))), shape=shape)
            _check_shape(coo.shape, shape)
            return array(coo.tocsr(), ctx=ctx, dtype=dtype)
        if len(arg1) == 2:
            _check_shape(arg1, shape)
            return empty("csr", arg1, ctx=ctx, dtype=dtype)
        if len(arg1) == 3:
            return _csr_from_parts(*arg1, shape=shape, ctx=ctx, dtype=dtype)
        raise ValueError("Unexpected length of input tuple: " + str(len(arg1)))
    if isinstance(arg1, CSRNDArray) or _is_scipy_csr(arg1):
        _check_shape(arg1.shape, shape)
        return array(arg1, ctx=ctx, dtype=dtype)
    if isinstance(arg1, RowSparseNDArray):
        raise ValueError("Unexpected input type: RowSparseNDArray")
    dense = _dense_source(arg1, dtype)
    _check_shape(dense.shape, shape)
    if dense.ndim != 2:
        raise ValueError("To convert to a CSR, the NDArray should be 2 Dimensional. Current shape is %s"
                         % str(dense.shape))
    return _csr(*formats.csr_from_dense(dense), dense.shape, _ctx_of(arg1, ctx))


def row_sparse_array(arg1, shape=None, ctx=None, dtype=None):
    """A RowSparseNDArray from (data, indices), a shape (empty), a dense array (NDArray, numpy array or nested
    lists) or a RowSparseNDArray.

    Examples
    --------
    >>> import dataflow as mx
    >>> mx.nd.sparse.row_sparse_array(([[1., 2.]], [2]), shape=(3, 2)).asnumpy()
    array([[0., 0.],
           [0., 0.],
           [1., 2.]], dtype=float32)
    """
    if isinstance(arg1, tuple):
        if len(arg1) < 2:
            raise ValueError("Unexpected length of input tuple: " + str(len(arg1)))
        if len(arg1) > 2 or all(isinstance(d, numbers.Integral) for d in arg1):
            _check_shape(arg1, shape)
            return empty("row_sparse", arg1, ctx=ctx, dtype=dtype)
        return _rsp_from_parts(arg1[0], arg1[1], shape=shape, ctx=ctx, dtype=dtype)
    if isinstance(arg1, RowSparseNDArray):
        _check_shape(arg1.shape, shape)
        return array(arg1, ctx=ctx, dtype=dtype)
    if isinstance(arg1, CSRNDArray):
        raise ValueError("Unexpected input type: CSRNDArray")
    dense = _dense_source(arg1, dtype)
    _check_shape(dense.shape, shape)
    return _rsp(*formats.rsp_from_dense(dense), dense.shape, _ctx_of(arg1, ctx))


def zeros(stype, shape, ctx=None, dtype=None, **kwargs):
    """An all-zero array of storage type `stype` (no stored values; 'default' gives a dense `mx.nd.zeros`)."""
    if stype == "default":
        from ..creation import zeros as dense_zeros
        return dense_zeros(shape, ctx=ctx, dtype=dtype, **kwargs)
    if stype not in _SPARSE_STYPES:
        raise ValueError("unknown storage type" + str(stype))
    shape = _shape(shape)
    ctx = as_context(ctx)
    dtype = np.dtype(_DEFAULT_DTYPE if dtype is None else dtype)
    data = np.zeros((0,) + shape[1:] if stype == "row_sparse" else (0,), dtype=dtype)
    if stype == "csr":
        if len(shape) != 2:
            raise MXNetError("zeros: a csr array is 2-D, got shape %s" % (shape,))
        return _csr(data, np.zeros(0, _INDEX), np.zeros(shape[0] + 1, _INDEX), shape, ctx)
    return _rsp(data, np.zeros(0, _INDEX), shape, ctx)


def empty(stype, shape, ctx=None, dtype=None):
    """A sparse array with nothing stored (all zeros), as MXNet's `empty` for sparse storage types."""
    if stype not in _SPARSE_STYPES:
        raise Exception("unknown stype : " + str(stype))
    return zeros(stype, shape, ctx=ctx, dtype=dtype)


def array(source_array, ctx=None, dtype=None):
    """A sparse copy of a CSRNDArray, RowSparseNDArray or scipy.sparse.csr_matrix (put in canonical form: sorted
    column indices, duplicates summed)."""
    if isinstance(source_array, NDArray):
        if source_array.stype == "default":
            raise AssertionError("Please use `tostype` to create RowSparseNDArray or CSRNDArray from an NDArray")
        result = source_array.astype(source_array.dtype if dtype is None else dtype)
        target = as_context(ctx)
        return result if target == result.context else result.copyto(target)
    if _is_scipy_csr(source_array):
        csr = source_array.sorted_indices()
        csr.sum_duplicates()
        return _csr_from_parts(csr.data, csr.indices, csr.indptr, shape=csr.shape, ctx=ctx,
                               dtype=source_array.dtype if dtype is None else dtype)
    if isinstance(source_array, (np.ndarray, np.generic)):
        raise ValueError("Please use mx.nd.array to create an NDArray with source_array of type ",
                         type(source_array))
    raise ValueError("Unexpected source_array type: ", type(source_array))


def dense_tostype(dense, stype):
    """`NDArray.tostype(stype)` of a dense array: a copy in storage type `stype`."""
    if stype == "default":
        return dense.copy()
    if stype == "csr":
        if dense.ndim != 2:
            raise ValueError("To convert to a CSR, the NDArray should be 2 Dimensional. Current shape is %s"
                             % str(dense.shape))
        return _csr(*formats.csr_from_dense(dense.asnumpy()), dense.shape, dense.context)
    if stype == "row_sparse":
        if dense.ndim == 0:
            raise MXNetError("cast_storage: a row_sparse array needs at least one dimension, got shape ()")
        return _rsp(*formats.rsp_from_dense(dense.asnumpy()), dense.shape, dense.context)
    raise formats.unknown_stype(stype)


# -- from parts --------------------------------------------------------------------------------------------------------

def _csr_from_parts(data, indices, indptr, shape=None, ctx=None, dtype=None):
    dtype = _default_dtype(data, dtype)
    data, indices, indptr = _part(data, dtype, "data"), _part(indices, _INDEX, "indices"), \
        _part(indptr, _INDEX, "indptr")
    if shape is None:
        if indices.shape[0] == 0:
            raise ValueError("invalid shape")
        shape = (len(indptr) - 1, int(indices.max()) + 1)
    shape = _shape(shape)
    if data.ndim != 1 or indptr.ndim != 1 or indices.ndim != 1 or indptr.shape[0] == 0 or len(shape) != 2:
        raise ValueError("invalid shape")
    if data.shape[0] != indices.shape[0]:
        raise MXNetError("csr_matrix: %d values (data) but %d column indices; there must be one index per value"
                         % (data.shape[0], indices.shape[0]))
    return _csr(data, indices, indptr, shape, as_context(ctx))


def _rsp_from_parts(data, indices, shape=None, ctx=None, dtype=None):
    dtype = _default_dtype(data, dtype)
    data, indices = _part(data, dtype, "data"), _part(indices, _INDEX, "indices")
    if shape is None:
        if indices.shape[0] == 0:
            raise ValueError("invalid shape")
        shape = (int(indices[-1]) + 1,) + data.shape[1:]
    shape = _shape(shape)
    if data.ndim != len(shape) or indices.ndim != 1 or int(np.prod(shape[1:])) == 0:
        raise ValueError("invalid shape")
    if data.shape[0] != indices.shape[0] or data.shape[1:] != shape[1:]:
        raise MXNetError("row_sparse_array: data of shape %s does not fit %d row indices of an array of shape %s "
                         "(data must be (len(indices),) + shape[1:])" % (data.shape, indices.shape[0], shape))
    return _rsp(data, indices, shape, as_context(ctx))


# -- helpers -----------------------------------------------------------------------------------------------------------

def _is_scipy_csr(value):
    import scipy.sparse as spsp
    return spsp.issparse(value) and value.format == "csr"


def _host(value):
    return value.asnumpy() if isinstance(value, NDArray) else value


def _part(value, dtype, name):
    """A fresh C-contiguous numpy copy of one storage array."""
    try:
        return np.array(_host(value), dtype=dtype, order="C", copy=True)
    except (TypeError, ValueError):
        raise TypeError("values must be array like object (%s: %r)" % (name, type(value).__name__)) from None


def _default_dtype(source, dtype):
    """MXNet's `_prepare_default_dtype`: the source's dtype for arrays and scipy matrices, float32 otherwise."""
    if dtype is not None:
        return np.dtype(dtype)
    if isinstance(source, (NDArray, np.ndarray)) or hasattr(source, "tocsr"):
        return np.dtype(source.dtype)
    return _DEFAULT_DTYPE


def _dense_source(source, dtype):
    """The numpy value of a dense source (NDArray, numpy array or nested lists) in MXNet's default dtype."""
    if isinstance(source, BaseSparseNDArray):
        raise ValueError("Unexpected input type: %s" % type(source).__name__)
    dtype = _default_dtype(source, dtype)
    try:
        return np.array(_host(source), dtype=dtype, order="C", copy=True)
    except (TypeError, ValueError) as err:
        raise TypeError("source_array must be array like object: %s" % err) from None


def _ctx_of(source, ctx):
    if ctx is None and isinstance(source, NDArray):
        return source.context
    return as_context(ctx)


def _shape(shape):
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if any(not isinstance(d, numbers.Integral) or d < 0 for d in shape):
        raise ValueError("invalid shape %r: a sparse array's dims are non-negative integers" % (shape,))
    return tuple(int(d) for d in shape)


def _check_shape(s1, s2):
    """MXNet's rule: a shape given must equal the one found, if both are given."""
    if s1 and s2 and tuple(s1) != tuple(s2):
        raise ValueError("Shape mismatch detected. " + str(tuple(s1)) + " v.s. " + str(tuple(s2)))
