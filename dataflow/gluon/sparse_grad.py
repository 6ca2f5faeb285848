"""Row_sparse gradients of Gluon parameters (`Parameter(grad_stype='row_sparse')`, `Embedding(sparse_grad=True)`).

Note [row_sparse gradients]
~~~~~~~~~~~~~~~~~~~~~~~~~~~
`grad()` / `list_grad()` of a parameter whose grad_stype is 'row_sparse' return a RowSparseNDArray. MXNet's rows are
the indices its sparse Embedding looked up (sorted, unique; a row whose summed gradient is zero is still present,
so lazy updates still apply its weight decay and momentum), and its backward never makes a dense gradient. Here a
non-hybridized `Embedding(sparse_grad=True)` recorded by autograd does the same (`embedding`): it looks the rows up
outside the recording and marks its output as a variable of its own, so the backward stops there and leaves the
output's gradient dy (a host array of zeros until backward writes it, so no op on the engine's worker); the
lookup's indices and dy are noted on the parameter, and `grad()` sums dy per index (`ops.cpu.sparse_update.sum_rows`,
one sort and one pass): the cost follows the batch, not the vocabulary. A parameter also used by other ops gets its
gradient in the dense `_grad` array as usual, and `grad()` returns its rows that are not all zero, summed with the
noted lookups' rows when there are both. A hybridized block notes its lookups the same way when
it can lift them out of its compiled graph (Note [hybridized sparse embeddings] in cached_sparse.py), else its
gradient is dense too. A row_sparse parameter (parameter_sparse.py) has a RowSparseNDArray `_grad` in place of
the dense one. The dense array is read only when backward wrote it since the step began (the `fresh_grad`
flag of the weight's autograd record), so a plain sparse Embedding never pays a pass over the vocabulary.

The noted lookups belong to one backward: they are kept until the gradient is read, and the next recorded forward
after a read starts a new set (with grad_req 'add' they accumulate until `zero_grad`). A forward recorded twice
before one backward counts both.
"""
import math

import numpy as np

from ops.cpu.sparse_update import sum_rows

from .. import autograd
from .. import ndarray as nd
from ..ndarray.sparse import _rsp
from . import parameter_sparse

__all__ = ["embedding", "records", "reset", "row_sparse_grads"]


def _rows_of(param):
    rows = getattr(param, "_sparse_rows", None)
    if rows is None:
        rows = param._sparse_rows = {"consumed": False, "by_ctx": {}, "built": None}
    return rows


def embedding(param, x, weight, **kwargs):
    """`nd.Embedding(x, weight, **kwargs)` of the parameter's array `weight` (dense, or the RowSparseNDArray of a
    row_sparse parameter: Note [row_sparse parameters] in parameter_sparse.py), recorded so that its gradient is
    noted as (indices, dy) rows instead of flowing into a dense gradient (see the Note)."""
    with autograd.pause():
        out = parameter_sparse.lookup(x, weight) if weight.stype == "row_sparse" else nd.Embedding(x, weight, **kwargs)
    if not autograd.is_recording() or param.grad_req == "null":
        return out
    dy = _zeros_like(out)
    autograd.mark_variables([out], [dy], "write")
    rows = _rows_of(param)
    if not rows["by_ctx"] or (rows["consumed"] and param.grad_req != "add"):
        rows["by_ctx"].clear()
        for array in param._data or ():         # a new step: the dense gradient is old until a backward writes it
            if array._entry is not None:
                array._entry.node.recorded.fresh_grad = False
    rows["consumed"], rows["built"] = False, None
    rows["by_ctx"].setdefault(weight.context, []).append((x, dy, out._entry.node.recorded))
    return out


def _zeros_like(out):
    """The gradient buffer of a lookup's output: zeros where backward never reaches it. On a CPU a host array made
    here (np.zeros), not a `_zeros` op that would wait for the engine's worker."""
    if out.context.device_type != "cpu":
        with autograd.pause():
            return nd.zeros(out.shape, out.context, out.dtype)
    return nd.NDArray(np.zeros(out.shape, out.dtype), ctx=out.context)


def records(param):
    """The autograd records whose `fresh_grad` says whether backward reached the parameter's noted lookups since the
    last step (the Trainer's stale-gradient check), or None when none are noted."""
    rows = getattr(param, "_sparse_rows", None)
    if rows is None or not rows["by_ctx"]:
        return None
    return [r for lookups in rows["by_ctx"].values() for _, _, r in lookups]


def reset(param):
    """Forget the noted rows (`zero_grad`)."""
    rows = getattr(param, "_sparse_rows", None)
    if rows is not None:
        rows["by_ctx"].clear()
        rows["consumed"], rows["built"] = False, None


def row_sparse_grads(param, dense_grads):
    """The RowSparseNDArrays of the dense gradients `dense_grads` (one per context), see the Note. Once backward has
    reached every noted lookup, the arrays made are kept and returned again until the next lookup or `zero_grad`,
    so a change made to them (`clip_global_norm` scaling them in place) is what the Trainer then applies."""
    rows = _rows_of(param)
    rows["consumed"] = True
    built = rows.get("built") or {}
    dense_written = {a.context for a in param._data or () if a._entry is not None and a._entry.node.recorded.fresh_grad}
    out = [built[g.context] if g.context in built else
           _row_sparse(g, rows["by_ctx"].get(g.context), g.context in dense_written) for g in dense_grads]
    lookups = records(param)
    if lookups and all(r.fresh_grad for r in lookups):
        rows["built"] = {**built, **{g.context: a for g, a in zip(dense_grads, out)}}
    return out


def _host(array):
    """The array's values on the host, without a copy for a CPU array."""
    if array.context.device_type != "cpu":
        return array.asnumpy()
    array.wait_to_read()
    return array._data


def _row_sparse(dense, noted, dense_written=True):
    n, width = dense.shape[0], math.prod(dense.shape[1:])
    dtype = np.dtype(dense.dtype)
    ids, dys = [], []
    if dense.stype == "row_sparse":     # a row_sparse parameter's own gradient array (parameter_sparse.py)
        dense.wait_to_read()
        ids.append(dense._indices)
        dys.append(dense._data.reshape(-1, width))
    elif dense_written or not noted:
        values = _host(dense).reshape(n, width)
        ids.append(np.flatnonzero(values.any(axis=1)))
        dys.append(values[ids[0]])
    for x, dy, _ in noted or ():
        ids.append(_row_ids(_host(x), n))
        dys.append(_host(dy).reshape(-1, width))
    if not ids:
        return _rsp(np.zeros((0,) + dense.shape[1:], dtype), np.zeros(0, np.int64), dense.shape, dense.context)
    if len(ids) > 1:
        ids, dys = [np.concatenate(ids)], [np.concatenate(dys)]
    rows, data = sum_rows(ids[0], dys[0].astype(dtype, copy=False))
    return _rsp(data.reshape((len(rows),) + dense.shape[1:]), rows, dense.shape, dense.context)


def _row_ids(x, n):
    """The rows an Embedding looks up for indices `x` of a vocabulary of `n` rows: rounded, clipped to [0, n)."""
    ids = np.rint(x.reshape(-1)) if x.dtype.kind == "f" else x.reshape(-1).astype(np.int64)
    np.maximum(ids, 0, out=ids)         # ufuncs in place: np.clip's wrapper costs more than the work here
    np.minimum(ids, n - 1, out=ids)
    return ids.astype(np.int64, copy=False)
