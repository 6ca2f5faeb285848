"""The sparse array classes: `BaseSparseNDArray`, `CSRNDArray`, `RowSparseNDArray`, and `_csr` / `_rsp`, the
constructors every sparse op uses for its results (no validation, no copies).

A sparse array's storage is host numpy arrays: `_data` (the values: (nnz,) for csr, (nnz, *shape[1:]) for
row_sparse), `_indices` (int64) and, for csr, `_indptr` (int64); `_shape` is the logical shape. The arrays are
replaced, never resized, when the value changes (`copyto` into a sparse array, `x[:] = ...`), so a reader takes the
references once and works on them. See the Note in `__init__.py` for why sparse work is synchronous.
"""
import warnings
import weakref

import numpy as np

from ...base import NotSupportedForSparseNDArray
from ...context import Context, check_supported, current_context
from ..ndarray import _GRAD_STYPES, NDArray, _from_host
from . import formats

_INDEX = np.dtype(np.int64)     # MXNet's aux type for every sparse index array


class BaseSparseNDArray(NDArray):
    """An NDArray stored in a sparse format; see `CSRNDArray` and `RowSparseNDArray`."""
    __slots__ = ("_shape", "_indices", "_indptr")

    # -- what every NDArray has ------------------------------------------------------------------------------------
    @property
    def shape(self):
        return self._shape

    @property
    def ndim(self):
        return len(self._shape)

    @property
    def size(self):
        # MXNet: "the `size` for a sparse ndarray is ambiguous, hence disabled"
        raise NotImplementedError("size is not defined for a sparse NDArray (%s)" % type(self).__name__)

    def __len__(self):
        return self._shape[0]

    def __repr__(self):
        return "\n<%s %s @%s>" % (type(self).__name__, "x".join("%d" % d for d in self._shape), self._ctx)

    @property
    def data(self):
        """A copy of the stored values as an NDArray: csr's (nnz,), row_sparse's rows (nnz, *shape[1:])."""
        return _copy_out(self, self._data)

    @property
    def indices(self):
        """A copy of the indices as an int64 NDArray: csr's column indices, row_sparse's row indices."""
        return _copy_out(self, self._indices)

    @property
    def _num_aux(self):
        return len(self._aux_arrays())

    @property
    def _aux_types(self):
        return [a.dtype.type for a in self._aux_arrays()]

    def _aux_type(self, i):
        return self._aux_arrays()[i].dtype.type

    def _storage(self):
        """(values, aux arrays in MXNet's order) once pending writes are done."""
        self.wait_to_read()
        return self._data, self._aux_arrays()

    def asnumpy(self):
        """A dense numpy copy of the array."""
        self.wait_to_read()
        return formats.to_dense(self)

    def tostype(self, stype):
        """A copy of the array in storage type `stype` ('default' or this array's own; MXNet refuses casts between
        csr and row_sparse)."""
        if stype == "default":
            return _from_host(self.asnumpy(), self._ctx, self._data.dtype)
        if stype == self.stype:
            return self.copy()
        if stype in ("csr", "row_sparse"):
            raise ValueError("cast_storage from %s to %s is not supported" % (self.stype, stype))
        raise formats.unknown_stype(stype)

    # -- copies ----------------------------------------------------------------------------------------------------
    def copyto(self, other):
        """Copy into `other` (a dense array or an array of this storage type, same shape), or into a new array on
        a Context. Returns the destination."""
        if isinstance(other, Context):
            check_supported(other)
            data, aux = self._storage()
            return _make(type(self), data.copy(), [a.copy() for a in aux], self._shape, other)
        if not isinstance(other, NDArray):
            raise TypeError("copyto does not support type " + str(type(other)))
        if other is self:
            warnings.warn("You are attempting to copy an array to itself", RuntimeWarning, stacklevel=2)
            return False
        if other.stype not in ("default", self.stype):
            raise TypeError("copyto does not support destination NDArray stype " + str(other.stype))
        if other.shape != self._shape:
            raise ValueError("copyto: shape mismatch, source %s, target %s" % (self._shape, other.shape))
        if other.stype == "default":
            return self.tostype("default").copyto(other)
        data, aux = self._storage()
        other.wait_to_read()
        other._set_storage(data.astype(other._data.dtype), [a.copy() for a in aux])
        return other

    def copy(self):
        return self.copyto(self._ctx)

    def astype(self, dtype, copy=True):
        """A copy with values of `dtype` (self when the dtype matches and `copy` is False)."""
        dtype = np.dtype(dtype)
        if not copy and dtype == self._data.dtype:
            return self
        data, aux = self._storage()
        return _make(type(self), data.astype(dtype), [a.copy() for a in aux], self._shape, self._ctx)

    def detach(self):
        return _make(type(self), self._data, self._aux_arrays(), self._shape, self._ctx, self._var)

    def check_format(self, full_check=True):
        """Raise an MXNetError if the array's storage breaks its format (O(1) checks, plus the O(nnz) ones with
        `full_check`), with MXNet's messages."""
        self.wait_to_read()
        formats.check(self, full_check)

    # -- what sparse arrays do not do --------------------------------------------------------------------------------
    def reshape(self, *shape, **kwargs):
        raise NotSupportedForSparseNDArray(self.reshape, None, shape)

    def _at(self, idx):
        raise NotSupportedForSparseNDArray(self._at, "[idx]", idx)

    def _slice(self, start, stop):
        raise NotSupportedForSparseNDArray(self._slice, None, start, stop)

    def as_np_ndarray(self):
        raise ValueError("cannot convert ndarray of stype {} to numpy ndarray".format(self.stype))

    def attach_grad(self, grad_req="write", stype=None):
        # the recorded graph holds dense arrays only: a sparse variable would silently get no gradient
        raise NotSupportedForSparseNDArray(self.attach_grad, None, grad_req)

    def to_dlpack_for_read(self):
        raise NotSupportedForSparseNDArray(self.to_dlpack_for_read, None)

    to_dlpack_for_write = to_dlpack_for_read

    def _sync_copyfrom(self, source_array):
        raise NotImplementedError()

    def _set_storage(self, data, aux):
        self._data = data
        if self.stype == "csr":
            self._indptr, self._indices = aux
        else:
            (self._indices,) = aux

    # -- arithmetic: the sparse ops (sparse_ops.py), imported when first used -----------------------------------------
    def __add__(self, other):
        from .. import sparse_ops
        return sparse_ops.add(self, other)

    def __sub__(self, other):
        from .. import sparse_ops
        return sparse_ops.subtract(self, other)

    def __mul__(self, other):
        from .. import sparse_ops
        return sparse_ops.multiply(self, other)

    def __truediv__(self, other):
        from .. import sparse_ops
        return sparse_ops.divide(self, other)

    __div__ = __truediv__

    def __iadd__(self, other):
        (self + other).copyto(self)
        return self

    def __isub__(self, other):
        (self - other).copyto(self)
        return self

    def __imul__(self, other):
        (self * other).copyto(self)
        return self

    def __itruediv__(self, other):
        (self / other).copyto(self)
        return self

    __idiv__ = __itruediv__

    # -- x[:] = value --------------------------------------------------------------------------------------------------
    def __setitem__(self, key, value):
        name = type(self).__name__
        if not isinstance(key, slice):
            raise TypeError("%s only supports [:] for assignment" % name)
        if key != slice(None):
            raise ValueError("Assignment with slice for %s is not implemented yet." % name)
        if isinstance(value, NDArray):
            if value is not self:
                value.copyto(self)
        elif isinstance(value, (np.ndarray, np.generic)):
            warnings.warn("Assigning non-NDArray object to %s is not efficient" % name, RuntimeWarning,
                          stacklevel=2)
            _from_host(np.array(value, dtype=self._data.dtype), self._ctx, self._data.dtype).copyto(self)
        elif isinstance(value, (int, float, np.number)):
            self._assign_scalar(float(value))
        else:
            raise TypeError("type %s not supported" % str(type(value)))

    def __getstate__(self):
        from ..serialization import _record
        return {"handle": bytearray(_record(self, "the pickled array"))}

    def __setstate__(self, state):
        from ..serialization import read_record
        loaded = read_record(bytes(state["handle"]), "pickled NDArray")
        self._data, self._shape, self._ctx = loaded._data, loaded._shape, loaded._ctx
        self._indices, self._indptr = loaded._indices, loaded._indptr
        from scheduler.engine import Var
        self._var, self._entry = Var(), None

    def __reduce__(self):
        return _unpickle, (type(self),), self.__getstate__()


def _unpickle(cls):
    return cls.__new__(cls)


class CSRNDArray(BaseSparseNDArray):
    """A 2-D array in compressed sparse row format: the column indices of row i are
    ``indices[indptr[i]:indptr[i+1]]`` (ascending, no duplicates) and their values ``data[indptr[i]:indptr[i+1]]``.

    Examples
    --------
    >>> import dataflow as mx
    >>> a = mx.nd.sparse.csr_matrix(([1., 2., 3.], [1, 0, 2], [0, 1, 2, 2, 3]), shape=(4, 3))
    >>> a.asnumpy()
    array([[0., 1., 0.],
           [2., 0., 0.],
           [0., 0., 0.],
           [0., 0., 3.]], dtype=float32)
    """
    __slots__ = ()

    @property
    def stype(self):
        return "csr"

    def _aux_arrays(self):
        return [self._indptr, self._indices]

    @property
    def indptr(self):
        """A copy of the row pointers (rows + 1,) as an int64 NDArray."""
        return _copy_out(self, self._indptr)

    def asscipy(self):
        """A `scipy.sparse.csr_matrix` copy."""
        import scipy.sparse as spsp
        self.wait_to_read()
        return spsp.csr_matrix((self._data.copy(), self._indices.copy(), self._indptr.copy()), shape=self._shape,
                               dtype=self._data.dtype)

    def __getitem__(self, key):
        """`x[i]` and `x[begin:end]`: the rows as a new CSRNDArray (MXNet's `slice` on axis 0)."""
        if isinstance(key, (int, np.integer)):
            begin = self._shape[0] - 1 if key == -1 else int(key)
            return formats.csr_rows(self, begin, begin + 1)
        if isinstance(key, slice):
            if key.step is not None:
                raise ValueError("CSRNDArray only supports continuous slicing on axis 0")
            if key.start is None and key.stop is None:
                return self
            return formats.csr_rows(self, key.start or 0, key.stop if key.stop else self._shape[0])
        if isinstance(key, tuple):
            raise ValueError("Multi-dimension indexing is not supported")
        raise ValueError("Undefined behaviour for {}".format(key))

    def _assign_scalar(self, value):
        raise ValueError("Assigning numeric types to CSRNDArray is not implemented yet.")


class RowSparseNDArray(BaseSparseNDArray):
    """An array of at least one dimension holding only some of its rows: ``dense[indices[i]] = data[i]`` for the
    row indices `indices` (ascending, int64); every other row is zero.

    Examples
    --------
    >>> import dataflow as mx
    >>> a = mx.nd.sparse.row_sparse_array(([[1., 2.], [3., 4.]], [1, 4]), shape=(6, 2))
    >>> a.indices.asnumpy()
    array([1, 4])
    """
    __slots__ = ()

    @property
    def stype(self):
        return "row_sparse"

    def _aux_arrays(self):
        return [self._indices]

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            raise Exception("__getitem__ with int key is not implemented for RowSparseNDArray yet")
        if isinstance(key, slice):
            if key != slice(None):
                raise Exception("RowSparseNDArray only supports [:] for __getitem__")
            return self
        if isinstance(key, tuple):
            raise ValueError("Multi-dimension indexing is not supported")
        raise ValueError("Undefined behaviour for {}".format(key))

    def _assign_scalar(self, value):
        """x[:] = v: every row stored (MXNet's `_set_value` on a row_sparse array fills all rows)."""
        self.wait_to_read()
        rows = self._shape[0]
        self._set_storage(np.full((rows,) + self._shape[1:], value, dtype=self._data.dtype),
                          [np.arange(rows, dtype=_INDEX)])

    def retain(self, *args, **kwargs):
        """The rows of this array whose indices are in `indices` (see `mx.nd.sparse.retain`)."""
        from .. import sparse_ops
        return sparse_ops.retain(self, *args, **kwargs)


def _copy_out(array, part):
    array.wait_to_read()
    return _from_host(part.copy(), array._ctx, part.dtype)


def _make(cls, data, aux, shape, ctx, var=None):
    result = cls.__new__(cls)
    NDArray.__init__(result, data, var, ctx if ctx is not None else current_context())
    result._shape = tuple(int(d) for d in shape)
    result._indptr = None
    result._set_storage(data, aux)
    return result


def _as_index(indices):
    return indices if indices.dtype == _INDEX else indices.astype(_INDEX)


def _rsp(data_np, indices_np, shape, ctx=None):
    """A RowSparseNDArray on host arrays already in canonical form (indices sorted, unique; converted to int64 if
    they are not), without validation or copies: what sparse ops return."""
    return _make(RowSparseNDArray, data_np, [_as_index(indices_np)], shape, ctx)


def _csr(data_np, indices_np, indptr_np, shape, ctx=None):
    """A CSRNDArray on host arrays already in canonical form, without validation or copies."""
    return _make(CSRNDArray, data_np, [_as_index(indptr_np), _as_index(indices_np)], shape, ctx)


# -- attach_grad(stype=...) ------------------------------------------------------------------------------------------

def ask_grad_stype(array, stype):
    """Remember the storage type `array.attach_grad(stype=...)` asked for (None / 'default': dense)."""
    if stype not in (None, "default", "row_sparse", "csr"):
        raise ValueError("attach_grad: unknown storage type %r; MXNet's are 'default', 'row_sparse', 'csr'"
                         % (stype,))
    if stype == "csr" and array.ndim != 2:
        raise ValueError("attach_grad: a csr gradient needs a 2-D array, got shape %s" % (array.shape,))
    key = id(array)
    if stype in (None, "default"):
        _GRAD_STYPES.pop(key, None)
    else:           # keyed by id (NDArray's == is elementwise), dropped with the array
        _GRAD_STYPES[key] = (weakref.ref(array, lambda _, key=key: _GRAD_STYPES.pop(key, None)), stype)


def grad_in_asked_stype(array, grad):
    """`array.grad` for an array whose attach_grad asked for a sparse storage type: the dense gradient as one."""
    ref, stype = _GRAD_STYPES[id(array)]
    return grad.tostype(stype) if ref() is array else grad
