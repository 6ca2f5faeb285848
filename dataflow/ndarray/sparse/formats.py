"""The sparse formats on raw numpy arrays: dense <-> csr / row_sparse, `check_format`'s rules, csr row slices.

Everything here is host numpy work on the arrays of a sparse NDArray (see arrays.py); nothing waits or pushes.
"""
import numpy as np

from ops.errors import MXNetError

_INDEX = np.dtype(np.int64)

# MXNet's check_format messages (its CheckFormat kernels' error codes, one message each)
CSR_SHAPE_ERROR = "Shape mismatch of this csr NDArray"
CSR_INDPTR_ERROR = ("IndPtr of csr NDArray should be non-negative, in non-decreasing order, start with 0, and end "
                    "with value equal with size of indices.")
CSR_INDICES_ERROR = ("Indices of csr NDArray should be non-negative, in ascending order per row  and less than the "
                     "number of columns.")
RSP_SHAPE_ERROR = "Shape mismatch of this row_sparse NDArray"
RSP_INDICES_ERROR = ("Indices of row_sparse NDArray should be non-negative, less than the size of first dimension "
                     "and in ascending order")


def unknown_stype(stype):
    return MXNetError("Invalid Input: %r, valid values are: {'default', 'row_sparse', 'csr'}, in operator "
                      "cast_storage(stype=%r)" % (stype, stype))


# -- dense -> sparse ---------------------------------------------------------------------------------------------------

def csr_from_dense(dense):
    """(data, indices, indptr) of a 2-D numpy array: its non-zero entries row by row (NaN counts as non-zero)."""
    nonzero = dense != 0
    indptr = np.zeros(dense.shape[0] + 1, dtype=_INDEX)
    np.cumsum(np.count_nonzero(nonzero, axis=1), out=indptr[1:])
    _, indices = np.nonzero(nonzero)
    return np.ascontiguousarray(dense[nonzero]), indices.astype(_INDEX, copy=False), indptr


def rsp_from_dense(dense):
    """(data, indices) of a numpy array of ndim >= 1: the rows holding a non-zero value."""
    rows = dense.shape[0]
    flat = dense.reshape(rows, int(np.prod(dense.shape[1:])))       # -1 cannot be inferred for 0 rows
    indices = np.flatnonzero(np.count_nonzero(flat, axis=1)).astype(_INDEX)
    return np.ascontiguousarray(dense[indices]), indices


# -- sparse -> dense ---------------------------------------------------------------------------------------------------

def to_dense(array):
    """The dense numpy value of a sparse NDArray; a storage that would index outside the array is an MXNetError
    (check_format's message and what is wrong) rather than a crash or a wrong result. Order is not required."""
    _raise(_shape_problem(array) or _index_problem(array, order=False))
    data, shape = array._data, array.shape
    out = np.zeros(shape, dtype=data.dtype)
    if array.stype == "csr":
        rows = np.repeat(np.arange(shape[0]), np.diff(array._indptr))
        out[rows, array._indices] = data
    else:
        out[array._indices] = data
    return out


# -- check_format ------------------------------------------------------------------------------------------------------

def check(array, full_check=True):
    """MXNet's CheckFormat: the O(1) shape checks, then (full_check) the O(nnz) index checks. The error is MXNet's
    message followed by the first thing found wrong."""
    _raise(_shape_problem(array) or (full_check and _index_problem(array, order=True)))


def _raise(problem):
    if problem:
        raise MXNetError("%s (%s)" % problem)


def _shape_problem(array):
    """(message, detail) when the storage arrays' shapes do not fit the array's shape, else None."""
    data, shape, indices = array._data, array.shape, array._indices
    if array.stype == "csr":
        indptr = array._indptr
        if len(shape) != 2:
            return CSR_SHAPE_ERROR, "shape %s is not 2-D" % (shape,)
        if indices.ndim != 1 or indptr.ndim != 1 or data.ndim != 1:
            return CSR_SHAPE_ERROR, "data, indices and indptr must be 1-D, got shapes %s, %s, %s" % (
                data.shape, indices.shape, indptr.shape)
        if indptr.shape[0] != shape[0] + 1:
            return CSR_SHAPE_ERROR, "indptr has %d entries for %d rows; it needs %d" % (
                indptr.shape[0], shape[0], shape[0] + 1)
        if indices.shape[0] != data.shape[0]:
            return CSR_SHAPE_ERROR, "%d values but %d column indices" % (data.shape[0], indices.shape[0])
        return None
    if indices.ndim != 1:
        return RSP_SHAPE_ERROR, "indices must be 1-D, got shape %s" % (indices.shape,)
    if data.ndim != len(shape) or data.shape[1:] != shape[1:]:
        return RSP_SHAPE_ERROR, "stored rows of shape %s do not fit an array of shape %s" % (data.shape[1:], shape)
    if indices.shape[0] != data.shape[0]:
        return RSP_SHAPE_ERROR, "%d row indices for %d stored rows" % (indices.shape[0], data.shape[0])
    return None


def _first(mask):
    return int(np.argmax(mask))


def _index_problem(array, order):
    """(message, detail) for the first index outside the array (and, with `order`, the first out of order)."""
    shape, indices = array.shape, array._indices
    if array.stype == "csr":
        indptr, nnz = array._indptr, len(indices)
        if shape[0]:
            if indptr[0] != 0:
                return CSR_INDPTR_ERROR, "indptr[0] is %d, not 0" % indptr[0]
            steps = np.diff(indptr)
            if np.any(steps < 0):
                i = _first(steps < 0)
                return CSR_INDPTR_ERROR, "indptr[%d] = %d is less than indptr[%d] = %d" % (
                    i + 1, indptr[i + 1], i, indptr[i])
            if indptr[-1] != nnz:
                return CSR_INDPTR_ERROR, "indptr[-1] is %d but there are %d column indices" % (indptr[-1], nnz)
        if not nnz:
            return None
        outside = (indices < 0) | (indices >= shape[1])
        if outside.any():
            j = _first(outside)
            return CSR_INDICES_ERROR, "row %d: column index %d is outside [0, %d)" % (
                _row_of(indptr, j), indices[j], shape[1])
        if order:
            rising = np.diff(indices) > 0
            starts = indptr[1:-1]
            rising[starts[(starts > 0) & (starts < nnz)] - 1] = True     # a row's first index follows nothing
            if not rising.all():
                j = _first(~rising) + 1
                return CSR_INDICES_ERROR, "row %d: column index %d follows %d; column indices must increase " \
                    "within a row" % (_row_of(indptr, j), indices[j], indices[j - 1])
        return None
    if not len(indices):
        return None
    outside = (indices < 0) | (indices >= shape[0])
    if outside.any():
        j = _first(outside)
        return RSP_INDICES_ERROR, "indices[%d] = %d is outside [0, %d)" % (j, indices[j], shape[0])
    if order:
        steps = np.diff(indices) <= 0
        if steps.any():
            j = _first(steps) + 1
            return RSP_INDICES_ERROR, "indices[%d] = %d does not exceed indices[%d] = %d" % (
                j, indices[j], j - 1, indices[j - 1])
    return None


def _row_of(indptr, position):
    return int(np.searchsorted(indptr, position, side="right")) - 1


# -- csr rows ----------------------------------------------------------------------------------------------------------

def csr_rows(array, begin, end):
    """Rows [begin, end) of a CSRNDArray as a new one (MXNet's `slice` on axis 0: negative bounds count from the
    end; an empty or out-of-range range is an MXNetError naming the bounds)."""
    from .arrays import _csr
    rows = array.shape[0]
    b = begin + rows if begin < 0 else begin
    e = end + rows if end < 0 else end
    if not (0 <= b < e <= rows):
        raise MXNetError("slice: invalid range [%d, %d) of axis 0 of a CSRNDArray of shape %s: need 0 <= begin < end "
                         "<= %d (negative bounds count from the end)" % (begin, end, array.shape, rows))
    array.wait_to_read()
    indptr = array._indptr
    lo, hi = indptr[b], indptr[e]
    return _csr(array._data[lo:hi].copy(), array._indices[lo:hi].copy(), indptr[b:e + 1] - lo,
                (e - b, array.shape[1]), array.context)
