"""`mx.nd.sparse`: sparse NDArrays (`CSRNDArray`, `RowSparseNDArray`), their constructors and the sparse ops.

Note [sparse storage]
~~~~~~~~~~~~~~~~~~~~~
A sparse array holds host numpy arrays (arrays.py): the values `_data`, int64 `_indices` and, for csr, `_indptr`,
in MXNet's canonical form (row_sparse indices strictly increasing; csr indptr non-decreasing from 0 to nnz, the
column indices of each row increasing). Its engine var orders it with pushed work like any NDArray, but sparse
work itself is computed synchronously on the host: an op waits for its inputs, runs its numba/numpy kernel and
wraps the result (`_csr` / `_rsp`, no validation or copies). The reason is that the number of stored values
depends on the input values, so an output's storage cannot be allocated before its inputs are computed, which the
engine's push-then-run model needs. A sparse array on a GPU context keeps its storage on the host as well; its
dense conversion lands on the device.

An ordinary `mx.nd` op given a sparse input runs the op's sparse implementation when sparse_ops.py registers one,
else MXNet's storage fallback (fallback.py: dense copies and a `StorageFallbackWarning` with MXNet's message).

Files: arrays.py (the classes, `_csr`, `_rsp`), formats.py (dense <-> sparse, `check_format`, csr row slices),
construct.py (`csr_matrix`, `row_sparse_array`, `zeros`, `empty`, `array`), fallback.py; `nd.save`/`nd.load`
of sparse arrays are in serialization.py, the sparse ops in sparse_ops.py and more_ops.py (scalar comparisons,
_maximum/_minimum/_hypot, take of csr rows, the _scatter_* ops, contrib.getnnz).
"""
from ...context import Context  # noqa: F401 - as MXNet's module holds them
from ..ndarray import NDArray  # noqa: F401
from .arrays import BaseSparseNDArray, CSRNDArray, RowSparseNDArray, _csr, _rsp  # noqa: F401
from .construct import array, csr_matrix, empty, row_sparse_array, zeros  # noqa: F401
from .fallback import StorageFallbackWarning, implements  # noqa: F401

__all__ = ["BaseSparseNDArray", "CSRNDArray", "RowSparseNDArray", "array", "csr_matrix", "empty",
           "row_sparse_array", "zeros"]

# the sparse ops, as MXNet's mx.nd.sparse holds them (last: sparse_ops imports the modules above)
from .. import sparse_ops as _sparse_ops  # noqa: E402
from ..sparse_ops import *  # noqa: F401,F403,E402
from . import more_ops as _more_ops  # noqa: E402,F401 - registers its sparse kernels with the front ends

__all__ += _sparse_ops.__all__
