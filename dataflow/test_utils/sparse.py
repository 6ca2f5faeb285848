"""Random sparse test arrays, as MXNet 1.9.1's `mx.test_utils` makes them: `rand_sparse_ndarray`,
`create_sparse_array`, `create_sparse_array_zd`, `shuffle_csr_column_indices`, and `rand_ndarray`'s sparse forms.

The distributions are MXNet's: a row_sparse array keeps each row with probability `density` (values uniform on
[0, 1)); a 'uniform' csr array is `scipy.sparse.rand` (exactly round(density * rows * cols) entries, values uniform on
[0, 1)); a 'powerlaw' csr array puts values 1 + U(0.001, 2) first in column 0 of every row, then fills rows with
2, 4, 8 ... entries until the wanted number of entries is reached. Randomness comes from numpy's global generator
(`np.random.seed` makes them repeatable), as in MXNet.
"""
import numpy as np

from .. import ndarray as nd
from .data import assign_each
from .tolerance import default_context, default_dtype


def _validate_csr_shape(num_rows, num_cols, density, distribution):
    if density < 0 or density > 1:
        raise ValueError("density has to be between 0 and 1")
    if num_rows <= 0 or num_cols <= 0:
        raise ValueError("num_rows or num_cols should be greater than 0")
    if distribution == "powerlaw" and int(num_rows * num_cols * density) < 2 * num_rows:
        raise ValueError("not supported for this density: %s for this shape (%s, %s) Please keep : num_rows * "
                         "num_cols * density >= 2 * num_rows" % (density, num_rows, num_cols))


def shuffle_csr_column_indices(csr):
    """Shuffle the column indices (and not the values) within each row of the scipy csr matrix `csr`, in place:
    a valid csr matrix need not keep its column indices sorted."""
    for row in range(len(csr.indptr) - 1):
        start, stop = csr.indptr[row], csr.indptr[row + 1]
        columns = np.array(csr.indices[start:stop])
        np.random.shuffle(columns)
        csr.indices[start:stop] = columns


def _uniform_csr(num_rows, num_cols, density, dtype, data_init, shuffle_csr_indices):
    import scipy.sparse as spsp
    _validate_csr_shape(num_rows, num_cols, density, "uniform")
    csr = spsp.rand(num_rows, num_cols, density, dtype=dtype, format="csr")
    if data_init is not None:
        csr.data.fill(data_init)
    if shuffle_csr_indices:
        shuffle_csr_column_indices(csr)
    return nd.sparse.csr_matrix((csr.data, csr.indices, csr.indptr), shape=(num_rows, num_cols), dtype=dtype)


def _powerlaw_csr(num_rows, num_cols, density, dtype):
    _validate_csr_shape(num_rows, num_cols, density, "powerlaw")
    left = int(num_rows * num_cols * density)        # entries still to place
    dense = np.zeros((num_rows, num_cols), dtype=dtype)
    for row in range(num_rows):     # first every row gets one entry, in column 0
        dense[row, 0] = 1 + np.random.uniform(0.001, 2)
        left -= 1
        if left <= 0:
            return nd.sparse.csr_matrix(dense)
    width = 2
    for row in range(num_rows):     # then rows of 2, 4, 8 ... entries
        limit = min(num_cols, width)
        if limit == num_cols and left > limit:      # a full row
            dense[row] = 1 + np.random.uniform(0.001, 2)
            left -= limit - 1
            if left <= 0:
                return nd.sparse.csr_matrix(dense)
            continue
        for col in range(1, limit):
            dense[row, col] = 1 + np.random.uniform(0.001, 2)
            left -= 1
            if left <= 0:
                return nd.sparse.csr_matrix(dense)
        width *= 2
    if left > 0:
        raise ValueError("not supported for this density: %s for this shape (%s,%s)" % (density, num_rows, num_cols))
    return nd.sparse.csr_matrix(dense)


def rand_sparse_ndarray(shape, stype, density=None, dtype=None, distribution=None, data_init=None, rsp_indices=None,
                        modifier_func=None, shuffle_csr_indices=False, ctx=None):
    """A random sparse array and its storage as numpy/NDArray parts: `(array, (values, row indices))` for
    'row_sparse', `(array, (indptr, indices, data))` for 'csr' (NDArrays, MXNet's order).

    `density` (random when None) is the chance of a row (row_sparse) or the fraction of entries (csr) being stored;
    `distribution` 'uniform' (default) or, for csr, 'powerlaw'; `data_init` fills every stored value;
    `rsp_indices` gives the stored rows; `modifier_func` maps every stored value."""
    ctx = ctx or default_context()
    density = np.random.rand() if density is None else density
    dtype = default_dtype() if dtype is None else dtype
    distribution = distribution or "uniform"
    if stype == "row_sparse":
        if distribution != "uniform":
            raise ValueError("Distribution %s not supported for row_sparse" % distribution)
        if rsp_indices is not None:
            indices = np.asarray(rsp_indices)
            if len(indices) > shape[0]:
                raise ValueError("rsp_indices has %d rows, more than the %d of shape %s"
                                 % (len(indices), shape[0], shape))
        else:
            indices = np.argwhere(np.random.rand(shape[0]) < density).flatten()
        if indices.shape[0] == 0:
            return nd.sparse.zeros("row_sparse", shape, ctx=ctx, dtype=dtype), (np.array([], dtype=dtype),
                                                                                np.array([]))
        values = np.random.rand(indices.shape[0], *shape[1:]).astype(dtype)
        if data_init is not None:
            values.fill(data_init)
        if modifier_func is not None:
            values = assign_each(values, modifier_func).astype(dtype)
        array = nd.sparse.row_sparse_array((values, indices), shape=shape, dtype=dtype, ctx=ctx)
        return array, (values, indices)
    if stype == "csr":
        if len(shape) != 2:
            raise ValueError("a csr array is 2-D, got shape %s" % (shape,))
        if distribution == "uniform":
            csr = _uniform_csr(shape[0], shape[1], density, dtype, data_init, shuffle_csr_indices)
        elif distribution == "powerlaw":
            csr = _powerlaw_csr(shape[0], shape[1], density, dtype)
        else:
            raise ValueError("Distribution not supported: %s" % distribution)
        csr = csr.as_in_context(ctx)
        return csr, (csr.indptr, csr.indices, csr.data)
    raise ValueError("unknown storage type %r; the sparse ones are 'row_sparse' and 'csr'" % (stype,))


def create_sparse_array(shape, stype, data_init=None, rsp_indices=None, dtype=None, modifier_func=None, density=.5,
                        shuffle_csr_indices=False):
    """A random sparse array (`rand_sparse_ndarray`); given `rsp_indices` are sorted first (canonical rows)."""
    if stype == "row_sparse":
        indices = None if rsp_indices is None else np.sort(np.asarray(rsp_indices))
        return rand_sparse_ndarray(shape, stype, density=density, data_init=data_init, rsp_indices=indices,
                                   dtype=dtype, modifier_func=modifier_func)[0]
    if stype == "csr":
        return rand_sparse_ndarray(shape, stype, density=density, data_init=data_init, dtype=dtype,
                                   modifier_func=modifier_func, shuffle_csr_indices=shuffle_csr_indices)[0]
    raise AssertionError("Unknown storage type: " + str(stype))


def create_sparse_array_zd(shape, stype, density, data_init=None, rsp_indices=None, dtype=None, modifier_func=None,
                           shuffle_csr_indices=False):
    """`create_sparse_array` where, for row_sparse, only `rsp_indices` decides the stored rows (density 0)."""
    if stype == "row_sparse":
        density = 0.0
        if rsp_indices is not None and len(rsp_indices) > shape[0]:
            raise ValueError("rsp_indices has more rows than shape %s" % (shape,))
    return create_sparse_array(shape, stype, data_init=data_init, rsp_indices=rsp_indices, dtype=dtype,
                               modifier_func=modifier_func, density=density, shuffle_csr_indices=shuffle_csr_indices)
