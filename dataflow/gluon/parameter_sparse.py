"""Parameters of storage type 'row_sparse' (`Parameter(stype='row_sparse')`, `contrib.nn.SparseEmbedding`).

Note [row_sparse parameters]
~~~~~~~~~~~~~~~~~~~~~~~~~~~~
MXNet keeps the whole value of such a parameter in the kvstore of its Trainer, which also runs the optimizer; each
context's array (`_data`) is a RowSparseNDArray holding the rows last pulled from there. So here too:
- initialisation (and `set_data`, loading) writes every row into every context's array (MXNet's initializers fill
  all rows of a row_sparse array); the Trainer's store takes its value from the first context at its first use;
- `row_sparse_data(row_id)` / `list_row_sparse_data(row_id)` pull the rows `row_id` (sorted, unique) from the store
  into the context's array (`Trainer._row_sparse_pull` -> `KVStore.row_sparse_pull`) and return that array itself;
  without a Trainer, and through `data()` / `list_data()`, MXNet's errors;
- the gradient is a RowSparseNDArray of the rows the lookups used (gluon/sparse_grad.py): the Trainer pushes it to
  the store, whose optimizer updates only those rows (lazy updates); the next pull reads the updated rows;
- saving (`_reduce`) pulls every row: the file holds a row_sparse record with all rows, as MXNet's.
A parameter gets one Trainer for life (MXNet refuses a second one: the store holds the value).
"""
import numpy as np

from ops.errors import MXNetError

from .. import ndarray as nd
from ..context import cpu
from ..ndarray.sparse import _rsp

STYPES = ("default", "row_sparse", "csr")

__all__ = ["check_stypes", "refuse_dense_access", "all_rows", "empty_rows", "pull_rows", "reduce", "set_rows",
           "lookup"]


def check_stypes(name, stype, grad_stype):
    """MXNet's check of a Parameter's storage types."""
    if grad_stype not in STYPES:
        raise AssertionError("grad_stype for Parameter '%s' must be one of 'default', 'row_sparse', or 'csr', but "
                             "got '%s'" % (name, grad_stype))
    if stype not in STYPES:
        raise AssertionError("stype for Parameter '%s' must be one of 'default', 'row_sparse', or 'csr', but got "
                             "'%s'" % (name, stype))
    if stype == "csr":
        raise MXNetError("Parameter '%s': stype 'csr' is not supported (MXNet's Trainer cannot update it either); "
                         "use 'row_sparse'" % name)


def refuse_dense_access(param):
    """Make `param.data()` / `list_data()` raise MXNet's errors: bound to the instance, so that the data() of a dense
    parameter (a hot path) pays no check."""
    def data(ctx=None):
        raise RuntimeError("Cannot return a copy of Parameter '%s' on ctx %s via data() because its storage type is "
                           "%s. Please use row_sparse_data() instead." % (param.name, ctx, param._stype))

    def list_data():
        raise RuntimeError("Cannot return copies of Parameter '%s' on all contexts via list_data() because its "
                           "storage type is %s. Please use row_sparse_data() instead." % (param.name, param._stype))
    param.data, param.list_data = data, list_data


def all_rows(data, ctx):
    """A RowSparseNDArray on `ctx` holding every row of `data` (a dense or sparse NDArray, or array-like)."""
    values = data.asnumpy() if isinstance(data, nd.NDArray) else np.asarray(data)
    return _rsp(np.array(values), np.arange(values.shape[0], dtype=np.int64), values.shape, ctx)


def empty_rows(array):
    """A RowSparseNDArray of `array`'s shape, dtype and context without rows (a zero gradient)."""
    return _rsp(np.zeros((0,) + tuple(array.shape[1:]), np.dtype(array.dtype)), np.zeros(0, np.int64), array.shape,
                array.context)


def set_rows(param, data):
    """`set_data` of a row_sparse parameter: every row into every context's array, and into the Trainer's store."""
    arrays = param._check_and_get(param._data, list)
    values = data.asnumpy() if isinstance(data, nd.NDArray) else np.asarray(data)
    for a in arrays:
        a.wait_to_write()
        a._set_storage(values.astype(a.dtype), [np.arange(values.shape[0], dtype=np.int64)])
    if param._trainer is not None:
        param._trainer._param_value_changed(param)


def pull_rows(param, ctx, row_id):
    """`row_sparse_data` (ctx a Context) and `list_row_sparse_data` (ctx `list`): the context's array(s) after
    pulling the rows `row_id` into them from the Trainer's store (see the Note)."""
    if not isinstance(row_id, nd.NDArray):
        raise TypeError("row_id must have NDArray type, but %s is given" % type(row_id))
    if param._trainer is None:
        raise RuntimeError("Cannot get row_sparse data for Parameter '%s' when no Trainer is created with it."
                           % param.name)
    results = param._check_and_get(param._data, ctx)
    param._trainer._row_sparse_pull(param, results, row_id)
    return results


def reduce(param):
    """`_reduce()`: every row on the CPU, pulled from the Trainer's store (before a Trainer: the first context's
    array, which initialisation filled)."""
    first = param._check_and_get(param._data, list)[0]
    if param._trainer is None:
        return first.copyto(cpu())
    out = empty_rows(first).copyto(cpu())
    param._trainer._row_sparse_pull(param, out, nd.arange(0, param.shape[0], dtype="int64"))
    return out


def lookup(x, weight):
    """`Embedding(x, weight)` of a RowSparseNDArray `weight` from its stored rows (an absent row reads zeros),
    without a dense copy of the weight; indices are rounded and clipped as Embedding does."""
    weight.wait_to_read()
    rows, values = weight._indices, weight._data
    ids = np.clip(np.rint(x.asnumpy()), 0, weight.shape[0] - 1).astype(np.int64)
    out = np.zeros(ids.shape + tuple(weight.shape[1:]), values.dtype)
    if rows.size:
        pos = np.minimum(np.searchsorted(rows, ids), rows.size - 1)
        found = rows[pos] == ids
        out[found] = values[pos[found]]
    return nd.array(out, ctx=weight.context, dtype=values.dtype)
