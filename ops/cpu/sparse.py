"""Kernels of the sparse storage types on raw numpy arrays (the `mx.nd.sparse` functions in
dataflow/ndarray/sparse_ops.py wrap them in RowSparseNDArray / CSRNDArray).

The two formats, as MXNet stores them (aux arrays int64):
  row_sparse  `data` (k, *row_shape) holds the rows `indices` (k,) of a dense array; indices strictly increasing.
  csr         2-D; row i's values are data[indptr[i]:indptr[i+1]] at the columns indices[...] (sorted in a row).
Every function here takes canonical inputs and returns canonical outputs; validation is the caller's job.

Note [csr entries as keys]: an entry (row, col) of a csr array of n columns has the key row * n + col; because the
columns of a row are sorted, the keys of a canonical csr array are strictly increasing, exactly like a row_sparse
array's indices. So one pair of merges on sorted keys (`merge_union`, `merge_intersection`) serves the elementwise
ops of both formats.

Note [parallel csr dot]: csr x dense computes output rows independently, so `csr_dot(threads=2)` splits the rows
into blocks of equal nnz, one per thread (a numba prange). Whether to is the caller's choice (sparse_ops.py asks
scheduler/loop_threads.py, the policy of the fused loops: a thread-safe threading layer, idle cores, and each size's
own timings), and only from PARALLEL_MIN_WORK multiply-adds (nnz x dense columns; 2^18, about 0.1-0.2 ms on one
thread) up. Measured on the bench's `sparse` case (512 x 20000 csr at 1%, x 20000 x 64; 2 shared cores, load
average 6): one thread 1.9-2.8 ms, two 1.8-5.8 ms, so the policy mostly keeps one; scipy 1.6-3.4 ms, MXNet 8-12 ms.
csr.T x dense scatters into shared output rows and stays serial. dense x csr is computed as (csr.T x dense.T).T
and dense x csr.T as (csr x dense.T).T (in sparse_ops.py), so they use these two kernels.
numba has no float16: float16 operands are computed in float32 and the result rounded once.
"""
import numpy as np
from numba import njit, prange

from .common import F16, F32

_jit = njit(nogil=True, cache=True)
_pjit = njit(nogil=True, cache=True, parallel=True)
INDEX = np.dtype(np.int64)              # MXNet's default aux type (indices, indptr)
PARALLEL_MIN_WORK = 1 << 18             # Note [parallel csr dot]


def _numba_dtype(x):
    return x.astype(F32) if x.dtype == F16 else x


# -- conversions (cast_storage) ----------------------------------------------------------------------------------------

@_jit
def _row_counts(x):
    counts = np.zeros(x.shape[0], np.int64)
    for i in range(x.shape[0]):
        c = 0
        for j in range(x.shape[1]):
            if x[i, j] != 0:
                c += 1
        counts[i] = c
    return counts


@_jit
def _fill_csr(x, indptr, data, indices):
    for i in range(x.shape[0]):
        p = indptr[i]
        for j in range(x.shape[1]):
            if x[i, j] != 0:
                data[p] = x[i, j]
                indices[p] = j
                p += 1


def dense_to_csr(x):
    """(data, indices, indptr) of the 2-D array x's nonzero entries."""
    x = np.ascontiguousarray(x)
    work = _numba_dtype(x)
    indptr = np.zeros(x.shape[0] + 1, INDEX)
    np.cumsum(_row_counts(work), out=indptr[1:])
    data, indices = np.empty(indptr[-1], work.dtype), np.empty(indptr[-1], INDEX)
    _fill_csr(work, indptr, data, indices)
    return data.astype(x.dtype, copy=False), indices, indptr


@_jit
def _scatter_csr(data, indices, indptr, out):
    for i in range(out.shape[0]):
        for p in range(indptr[i], indptr[i + 1]):
            out[i, indices[p]] = data[p]


def csr_to_dense(data, indices, indptr, shape):
    out = np.zeros(shape, F32 if data.dtype == F16 else data.dtype)
    _scatter_csr(_numba_dtype(data), indices, indptr, out)
    return out.astype(data.dtype, copy=False)


def dense_to_rsp(x):
    """(data, indices) of the rows of x (any ndim >= 1) holding a nonzero value."""
    x = np.asarray(x)
    rows = x.reshape(x.shape[0], -1) if x.ndim else x.reshape(1, 1)
    indices = np.flatnonzero(np.any(rows != 0, axis=1)).astype(INDEX)
    return np.ascontiguousarray(x[indices]), indices


def rsp_to_dense(data, indices, shape):
    out = np.zeros(shape, data.dtype)
    out[indices] = data
    return out


def csr_rows(indptr):
    """The row of every stored entry of a csr array."""
    return np.repeat(np.arange(len(indptr) - 1, dtype=INDEX), np.diff(indptr))


def csr_from_keys(keys, data, shape):
    """A csr (data, indices, indptr) from increasing entry keys (Note [csr entries as keys])."""
    rows, cols = np.divmod(keys, max(shape[1], 1))
    indptr = np.zeros(shape[0] + 1, INDEX)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    return data, cols.astype(INDEX, copy=False), indptr


def csr_keys(indices, indptr, ncols):
    return csr_rows(indptr) * ncols + indices


# -- merges of sorted index sets (elementwise ops of both formats) -----------------------------------------------------

@_jit
def _merge(a, b, union):
    """Sorted keys of a | b (union) or a & b, and each key's position in a and in b (-1: absent)."""
    n = a.size + b.size if union else min(a.size, b.size)
    keys, pa, pb = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    i = j = k = 0
    while i < a.size or j < b.size:
        if j >= b.size or (i < a.size and a[i] < b[j]):
            if union:
                keys[k], pa[k], pb[k] = a[i], i, -1
                k += 1
            i += 1
        elif i >= a.size or b[j] < a[i]:
            if union:
                keys[k], pa[k], pb[k] = b[j], -1, j
                k += 1
            j += 1
        else:
            keys[k], pa[k], pb[k] = a[i], i, j
            k += 1
            i += 1
            j += 1
    return keys[:k], pa[:k], pb[:k]


def merge_union(a, b):
    return _merge(np.ascontiguousarray(a, INDEX), np.ascontiguousarray(b, INDEX), True)


def merge_intersection(a, b):
    return _merge(np.ascontiguousarray(a, INDEX), np.ascontiguousarray(b, INDEX), False)


def gather_or_zero(values, positions):
    """values[positions] with zero rows where a position is -1 (an index the operand does not store)."""
    out = np.zeros((len(positions),) + values.shape[1:], values.dtype)
    have = positions >= 0
    out[have] = values[positions[have]]
    return out


# -- dot ---------------------------------------------------------------------------------------------------------------

@_jit
def _csr_dot_rows(data, indices, indptr, b, brow, out, lo, hi):
    """out[i] = sum over row i's entries (k, v) of v * b[brow[k]] (brow[k] < 0: b holds no row k), i in [lo, hi)."""
    n = out.shape[1]
    for i in range(lo, hi):
        for j in range(n):
            out[i, j] = 0
        for p in range(indptr[i], indptr[i + 1]):
            r = brow[indices[p]]
            if r >= 0:
                v = data[p]
                for j in range(n):
                    out[i, j] += v * b[r, j]


@_pjit
def _csr_dot_rows_parallel(data, indices, indptr, b, brow, out, bounds):
    """`_csr_dot_rows` over the row blocks [bounds[c], bounds[c + 1]), one block per thread."""
    for c in prange(len(bounds) - 1):
        _csr_dot_rows(data, indices, indptr, b, brow, out, bounds[c], bounds[c + 1])


def csr_dot(data, indices, indptr, b, brow=None, threads=1):
    """csr (m, k) x b: a dense (m, n). b is dense (k, n), or the data of a row_sparse (k, n) whose row r is
    b[brow[r]] (-1 where absent). `threads` > 1 splits the rows into blocks of equal nnz (Note [parallel csr dot]);
    the caller decides when that pays (`parallel_pays`) and that numba's threading layer allows it."""
    if brow is None:
        brow = np.arange(b.shape[0], dtype=INDEX)
    dtype = data.dtype
    data = _numba_dtype(data)
    b = np.ascontiguousarray(b).astype(data.dtype, copy=False)
    m = len(indptr) - 1
    out = np.empty((m, b.shape[1]), data.dtype)
    if threads > 1 and m > 1:
        bounds = np.searchsorted(indptr, np.linspace(0, indptr[-1], threads + 1)).clip(0, m)
        bounds[0], bounds[-1] = 0, m
        _csr_dot_rows_parallel(data, indices, indptr, b, brow, out, bounds.astype(INDEX))
    else:
        _csr_dot_rows(data, indices, indptr, b, brow, out, 0, m)
    return out.astype(dtype, copy=False)


def parallel_pays(nnz, width):
    """Whether a csr dot of nnz stored values by `width` dense columns is worth splitting over threads."""
    return nnz * width >= PARALLEL_MIN_WORK


@_jit
def _csr_t_dot(data, indices, indptr, b, brow, slot, out):
    """out[slot[k]] += v * b[brow[i]] for every entry (i, k, v) of the csr (brow[i] < 0: b holds no row i)."""
    for i in range(len(indptr) - 1):
        r = brow[i]
        if r < 0:
            continue
        for p in range(indptr[i], indptr[i + 1]):
            s = slot[indices[p]]
            v = data[p]
            for j in range(out.shape[1]):
                out[s, j] += v * b[r, j]


@_jit
def _stored_columns(indices, indptr, brow, ncols):
    """The sorted columns with an entry in some row i that has brow[i] >= 0 (O(nnz + ncols), no sort)."""
    seen = np.zeros(ncols, np.bool_)
    for i in range(len(indptr) - 1):
        if brow[i] >= 0:
            for p in range(indptr[i], indptr[i + 1]):
                seen[indices[p]] = True
    return np.nonzero(seen)[0].astype(np.int64)


def csr_t_dot(data, indices, indptr, ncols, b, brow=None):
    """csr(m, k).T x b as row_sparse (data, indices): the rows are the csr's columns stored in a row that meets a
    row of b (MXNet keeps such a row even where the products cancel). b as in `csr_dot`."""
    if brow is None:
        brow = np.arange(b.shape[0], dtype=INDEX)
    rows = _stored_columns(indices, indptr, brow, ncols)
    slot = np.full(ncols, -1, INDEX)
    slot[rows] = np.arange(len(rows))
    dtype = data.dtype
    work = _numba_dtype(data)
    out = np.zeros((len(rows), b.shape[1]), work.dtype)
    _csr_t_dot(work, indices, indptr, np.ascontiguousarray(b).astype(work.dtype, copy=False), brow, slot, out)
    return out.astype(dtype, copy=False), rows


def dense_columns_as_csr(values, columns):
    """The (m, len(columns)) array `values` as the csr (data, indices, indptr) of an (m, n) array storing, in every
    row, exactly `columns` (MXNet's dot(dense, csr) output: each row holds every column some csr row can reach,
    zeros included)."""
    m = values.shape[0]
    data = np.ascontiguousarray(values).reshape(-1)
    indices = np.tile(np.asarray(columns, INDEX), m)
    indptr = np.arange(m + 1, dtype=INDEX) * len(columns)
    return data, indices, indptr


# -- reductions --------------------------------------------------------------------------------------------------------

def csr_sum(data, indices, indptr, shape, axis):
    """sum of a csr array over axis None / 0 / 1 (dense; accumulated in float64 for floats, then cast)."""
    acc = np.float64 if data.dtype.kind == "f" else np.int64
    if axis is None:
        return np.asarray(data.sum(dtype=acc), data.dtype).reshape(1)
    if axis == 0:
        return np.bincount(indices, weights=data, minlength=shape[1]).astype(data.dtype)
    return np.bincount(csr_rows(indptr), weights=data, minlength=shape[0]).astype(data.dtype)


def rsp_sum(data, indices, shape, axis, square=False):
    """sum (or sum of squares) of a row_sparse array over axis None / 0 / 1 (dense)."""
    values = np.square(data) if square else data
    if axis is None:
        return np.asarray(values.sum(), data.dtype).reshape(1)
    if axis == 0:
        return values.sum(axis=0).astype(data.dtype)
    out = np.zeros(shape[:axis] + shape[axis + 1:], data.dtype)
    out[indices] = values.sum(axis=axis)
    return out


def csr_slice(data, indices, indptr, begin, end):
    """csr[begin[0]:end[0], begin[1]:end[1]] (steps of 1; begin/end complete, non-negative)."""
    lo, hi = indptr[begin[0]], indptr[end[0]]
    data, indices = data[lo:hi], indices[lo:hi]
    rows = csr_rows(indptr[begin[0]:end[0] + 1] - lo)
    keep = (indices >= begin[1]) & (indices < end[1])
    counts = np.bincount(rows[keep], minlength=end[0] - begin[0])
    new_indptr = np.zeros(end[0] - begin[0] + 1, INDEX)
    np.cumsum(counts, out=new_indptr[1:])
    return data[keep].copy(), (indices[keep] - begin[1]).astype(INDEX), new_indptr


def csr_take_rows(data, indices, indptr, rows):
    """The csr rows `rows` (valid row numbers, repeats allowed) of a csr matrix, in that order: (data, indices,
    indptr) of the result."""
    starts, lengths = indptr[rows], indptr[rows + 1] - indptr[rows]
    out_indptr = np.zeros(len(rows) + 1, INDEX)
    np.cumsum(lengths, out=out_indptr[1:])
    # entry j of the result comes from starts[r] + (j - out_indptr[r]) for the row r it falls in
    positions = np.repeat(starts - out_indptr[:-1], lengths) + np.arange(out_indptr[-1], dtype=INDEX)
    return data[positions], indices[positions], out_indptr
