"""`mx.nd.sparse.<op>`: the ops MXNet 1.9.1 defines on row_sparse and csr arrays, with MXNet's output storage types.

Each op waits for its inputs, runs the kernels of ops/cpu/sparse.py on the host arrays and wraps the result
(`_rsp` / `_csr` for sparse results, a dense NDArray otherwise); see the Note in dataflow/ndarray/sparse/ for why
sparse work is synchronous. The output storage types are MXNet's (recorded in tests/fixtures/mxnet-1.9.1/sparse_ops):

  dot        csr x dense = dense; csr.T x dense = row_sparse; csr x row_sparse = dense; csr.T x row_sparse =
             row_sparse; dense x csr (or csr.T) = csr (every row stores every column a csr row reaches);
             row_sparse x dense, dense x row_sparse = dense; `forward_stype` converts the result.
  add/sub    rsp +- rsp = rsp (the union of rows, kept where values cancel); csr +- csr = csr (MXNet stores only
             the entries whose result is not zero, for every csr o csr); with dense = dense.
  mul        rsp * rsp = rsp (the union of rows, as MXNet), csr * csr = csr (the intersection); rsp * dense =
             rsp; csr * dense = csr (also broadcast from (m, 1) / (1, n)); div: csr / broadcast dense = csr, else
             dense (broadcast_div of a same-shape csr and dense is MXNet's error).
  scalar     sparse * s, sparse / s keep the storage type; sparse + s, sparse - s are dense.
  reductions sum/mean/norm = dense; `_square_sum(rsp, axis=1, keepdims=True)` = row_sparse, other axes dense.
  unary      the zero-preserving ops (ZERO_PRESERVING) keep the storage type; the others give dense.
  others     retain (rsp), slice (csr), clip (0 inside [a_min, a_max]), zeros_like, add_n of rsp, cast_storage.
More ops (and FullyConnected) are in sparse/more_ops.py. Anything else computes densely (`_dense_fallback`), as
MXNet's storage fallback does. The plain `mx.nd.<op>` front ends reach these functions through
`fallback.implements` when an input is sparse (`_serve`, at the end). Under `autograd.record()` every op goes to
its front end's dense fallback instead, which records it (`_recorded`): the sparse kernels have no gradients yet,
and an unrecorded result would silently lose its inputs' gradients.
"""
import builtins
import functools
import operator
import sys
import threading

import numpy as np

from ops.cpu import sparse as kernels
from ops.cpu.sparse_ops import retained_rows
from scheduler import loop_threads
from scheduler.infer_storage import ZERO_PRESERVING
from ..autograd import state as _autograd
from ..base import MXNetError
from .ndarray import NDArray, _from_host
from .sparse import fallback
from .sparse.arrays import BaseSparseNDArray, _csr, _rsp

__all__ = ["dot", "add", "subtract", "multiply", "divide", "elemwise_add", "elemwise_sub", "elemwise_mul",
           "elemwise_div", "broadcast_add", "broadcast_sub", "broadcast_plus", "broadcast_minus", "broadcast_mul",
           "broadcast_div", "sum", "mean", "norm", "retain", "cast_storage", "slice", "clip", "zeros_like", "where",
           "add_n", "ElementWiseSum", "square_sum"]

# unary ops with f(0) == 0 keep the input's storage type (ZERO_PRESERVING, infer_storage's); these give dense
DENSE_UNARY = ("exp", "cos", "sigmoid", "rsqrt", "log", "log10", "log2", "gamma", "gammaln", "arccos", "arccosh",
               "cosh")
__all__ += list(ZERO_PRESERVING) + list(DENSE_UNARY)


def _nd():
    """The `mx.nd` namespace (fully imported by the time any op runs; importing it here would be a circle)."""
    return sys.modules["dataflow.ndarray"]


# -- inputs and outputs ------------------------------------------------------------------------------------------------

def _is_sparse(x, stype=None):
    return isinstance(x, BaseSparseNDArray) and (stype is None or x.stype == stype)


def _host(x):
    """A dense NDArray's (or array-like's) values as numpy, read-only: a CPU array's own storage, not a copy."""
    if not isinstance(x, NDArray):
        return np.asarray(x)
    if x.context.device_type == "gpu":
        return x.asnumpy()
    x.wait_to_read()
    return x._data


def _parts(x):
    """(data, indices, indptr-or-None) host arrays of a sparse array, once its pending writes are done."""
    x.wait_to_read()
    return x._data, x._indices, x._indptr if x.stype == "csr" else None


def _ctx(*arrays):
    for a in arrays:
        if isinstance(a, NDArray):
            return a.context
    return None


def _dense(values, like):
    ctx = _ctx(like)
    return _from_host(np.ascontiguousarray(values), ctx if ctx is not None else _nd().current_context(),
                      values.dtype)


def _as_stype(result, stype):
    """`result` in storage type `stype` (None: as it is)."""
    if stype is None or stype == result.stype:
        return result
    return cast_storage(result, stype)


def _dense_fallback(op_name, *args, **kwargs):
    """MXNet's storage fallback: the op `mx.nd.<op_name>` on dense copies of the sparse inputs, with MXNet's
    warning. The front end does both (dataflow/ndarray/sparse/fallback.py): called from it, say it has no kernel;
    called directly, call it."""
    if getattr(_SERVING, "depth", 0):
        raise _NoSparseKernel(op_name)
    return _front_end(op_name)(*args, **kwargs)


def _front_end(op_name):
    """The front end `mx.nd.<op_name>` (a dotted name for a submodule's: '_internal._square_sum')."""
    return functools.reduce(getattr, op_name.split("."), _nd())


def _require_shapes(op_name, lhs, rhs, ok):
    if not ok:
        raise MXNetError("%s: incompatible shapes: lhs %s, rhs %s" % (op_name, tuple(lhs.shape), tuple(rhs.shape)))


# -- dot ---------------------------------------------------------------------------------------------------------------

_DOT_SITES = {}     # (rows, nnz, width) -> LoopThreads: its timings decide one or two threads for that size


def _csr_dot(data, indices, indptr, b, brow=None):
    """kernels.csr_dot, on two threads where the project's loop-thread policy (scheduler/loop_threads.py: a
    thread-safe numba threading layer, idle cores, measured wins per size) and the work's size allow it."""
    if not kernels.parallel_pays(len(data), b.shape[1]) or not loop_threads.parallel_ok():
        return kernels.csr_dot(data, indices, indptr, b, brow)
    key = (len(indptr) - 1, len(data), b.shape[1])
    site = _DOT_SITES.get(key)
    if site is None:
        if len(_DOT_SITES) > 256:
            _DOT_SITES.clear()
        threads = np.ones(1, np.int64)
        site = _DOT_SITES[key] = (loop_threads.LoopThreads([(threads, 0)], ("sparse csr_dot",) + key), threads)
    with site[0]:
        return kernels.csr_dot(data, indices, indptr, b, brow, threads=int(site[1][0]))


def dot(lhs, rhs, transpose_a=False, transpose_b=False, forward_stype=None):
    """Dot product of two arrays, at least one sparse; output storage types as in the module's docstring."""
    ta, tb = bool(transpose_a), bool(transpose_b)
    ls, rs = lhs.shape, rhs.shape
    if len(ls) != 2 or len(rs) != 2:
        if not (_is_sparse(lhs) or _is_sparse(rhs)):
            return _dense_fallback("dot", lhs, rhs, transpose_a=ta, transpose_b=tb)
        raise MXNetError("dot: sparse dot needs 2-D operands, got lhs %s, rhs %s" % (ls, rs))
    inner_l, inner_r = ls[0] if ta else ls[1], rs[1] if tb else rs[0]
    _require_shapes("dot", lhs, rhs, inner_l == inner_r)
    return _as_stype(_dot(lhs, rhs, ta, tb), forward_stype)


def _dot(lhs, rhs, ta, tb):
    if _is_sparse(lhs, "csr") and not _is_sparse(rhs) and not tb:
        data, indices, indptr = _parts(lhs)
        b = _host(rhs).astype(data.dtype, copy=False)
        if ta:
            out, rows = kernels.csr_t_dot(data, indices, indptr, lhs.shape[1], b)
            return _rsp(out, rows, (lhs.shape[1], rhs.shape[1]), _ctx(lhs))
        return _dense(_csr_dot(data, indices, indptr, b), lhs)
    if _is_sparse(lhs, "csr") and _is_sparse(rhs, "row_sparse") and not tb:
        data, indices, indptr = _parts(lhs)
        rdata, rrows, _ = _parts(rhs)
        brow = np.full(rhs.shape[0], -1, np.int64)
        brow[rrows] = np.arange(len(rrows))
        b = rdata.reshape(len(rrows), rhs.shape[1]).astype(data.dtype, copy=False)
        if ta:
            out, rows = kernels.csr_t_dot(data, indices, indptr, lhs.shape[1], b, brow)
            return _rsp(out, rows, (lhs.shape[1], rhs.shape[1]), _ctx(lhs))
        return _dense(_csr_dot(data, indices, indptr, b, brow), lhs)
    if not _is_sparse(lhs) and _is_sparse(rhs, "csr"):
        # a x csr = (csr.T x a.T).T and a x csr.T = (csr x a.T).T: the csr kernels, on rows of a.T
        data, indices, indptr = _parts(rhs)
        a = _host(lhs)
        a_t = np.ascontiguousarray(a if ta else a.T).astype(data.dtype, copy=False)
        if tb:
            columns = np.flatnonzero(np.diff(indptr))
            values_t = _csr_dot(data, indices, indptr, a_t)[columns]
        else:
            values_t, columns = kernels.csr_t_dot(data, indices, indptr, rhs.shape[1], a_t)
        shape = (a_t.shape[1], rhs.shape[0] if tb else rhs.shape[1])
        return _csr(*kernels.dense_columns_as_csr(values_t.T, columns), shape, _ctx(lhs))
    if _is_sparse(lhs, "row_sparse") and not _is_sparse(rhs):
        data, rows, _ = _parts(lhs)
        b = _host(rhs).astype(data.dtype, copy=False)
        b = b.T if tb else b
        if ta:
            return _dense(data.T @ b[rows], lhs)
        out = np.zeros((lhs.shape[0], b.shape[1]), data.dtype)
        out[rows] = data @ b
        return _dense(out, lhs)
    if not _is_sparse(lhs) and _is_sparse(rhs, "row_sparse"):
        data, rows, _ = _parts(rhs)
        a = _host(lhs).astype(data.dtype, copy=False)
        a = a.T if ta else a
        if tb:
            out = np.zeros((a.shape[0], rhs.shape[0]), data.dtype)
            out[:, rows] = a @ data.T
            return _dense(out, lhs)
        return _dense(a[:, rows] @ data, lhs)
    return _dense_fallback("dot", lhs, rhs, transpose_a=ta, transpose_b=tb)


# -- elementwise binary ------------------------------------------------------------------------------------------------

_OPERATORS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}
_NUMPY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "maximum": np.maximum,
          "minimum": np.minimum, "hypot": np.hypot}
_DENSE_NAMES = {"add": "elemwise_add", "sub": "elemwise_sub", "mul": "elemwise_mul", "div": "elemwise_div"}
_BROADCAST_NAMES = {"add": "broadcast_add", "sub": "broadcast_sub", "mul": "broadcast_mul", "div": "broadcast_div"}


def _apply(kind, a, b, dtype):
    with np.errstate(all="ignore"):
        return _NUMPY[kind](a, b).astype(dtype, copy=False)


def _merged(kind, lhs, rhs):
    """rsp o rsp or csr o csr of one shape. rsp: the union of the rows, zero rows included (as MXNet). csr: the
    entries of either whose result is not zero (as MXNet, which drops them; csr * csr only visits the
    intersection)."""
    a, ai, ap = _parts(lhs)
    b, bi, bp = _parts(rhs)
    csr = lhs.stype == "csr"
    ncols = lhs.shape[1] if csr else 0
    ka = kernels.csr_keys(ai, ap, ncols) if csr else ai
    kb = kernels.csr_keys(bi, bp, ncols) if csr else bi
    merge = kernels.merge_intersection if kind == "mul" and csr else kernels.merge_union
    keys, pa, pb = merge(ka, kb)
    values = _apply(kind, kernels.gather_or_zero(a, pa), kernels.gather_or_zero(b.astype(a.dtype, copy=False), pb),
                    a.dtype)
    if csr:
        nonzero = values != 0
        if not nonzero.all():
            keys, values = keys[nonzero], values[nonzero]
        return _csr(*kernels.csr_from_keys(keys, values, lhs.shape), lhs.shape, _ctx(lhs))
    return _rsp(values, keys, lhs.shape, _ctx(lhs))


def _times_dense(kind, sparse, dense, swapped=False):
    """sparse * dense (or sparse / dense) at the sparse array's entries, dense broadcast to its shape."""
    values = np.broadcast_to(_host(dense), sparse.shape)
    data, indices, indptr = _parts(sparse)
    if sparse.stype == "csr":
        at = values[kernels.csr_rows(indptr), indices]
        pair = (at, data) if swapped else (data, at)
        return _csr(_apply(kind, *pair, data.dtype), indices.copy(), indptr.copy(), sparse.shape, _ctx(sparse))
    at = values[indices]
    pair = (at, data) if swapped else (data, at)
    return _rsp(_apply(kind, *pair, data.dtype), indices.copy(), sparse.shape, _ctx(sparse))


def _with_scalar(kind, x, scalar, swapped):
    if kind in ("mul", "div") and not swapped:
        data, indices, indptr = _parts(x)
        values = _apply(kind, data, scalar, data.dtype)
        if x.stype == "csr":
            return _csr(values, indices.copy(), indptr.copy(), x.shape, _ctx(x))
        return _rsp(values, indices.copy(), x.shape, _ctx(x))
    dense = x.tostype("default")
    return _OPERATORS[kind](scalar, dense) if swapped else _OPERATORS[kind](dense, scalar)


def _binary(kind, lhs, rhs, broadcast):
    op_name = (_BROADCAST_NAMES if broadcast else _DENSE_NAMES)[kind]
    if not isinstance(lhs, NDArray) or not isinstance(rhs, NDArray):
        if isinstance(lhs, NDArray) and _is_sparse(lhs):
            return _with_scalar(kind, lhs, rhs, False)
        if isinstance(rhs, NDArray) and _is_sparse(rhs):
            return _with_scalar(kind, rhs, lhs, True)
        return getattr(_nd(), {"add": "add", "sub": "subtract", "mul": "multiply", "div": "divide"}[kind])(lhs, rhs)
    same = lhs.shape == rhs.shape
    if not same:
        try:
            np.broadcast_shapes(lhs.shape, rhs.shape)
        except ValueError:
            _require_shapes(op_name, lhs, rhs, False)
        if not broadcast:
            _require_shapes(op_name, lhs, rhs, False)
    if not broadcast:       # elemwise_*: sparse o sparse of one type; sparse * dense keeps the sparse storage
        if lhs.stype == rhs.stype != "default" and kind != "div":
            return _merged(kind, lhs, rhs)
        if kind == "mul" and _is_sparse(lhs) != _is_sparse(rhs):
            return _times_dense(kind, lhs, rhs) if _is_sparse(lhs) else _times_dense(kind, rhs, lhs, swapped=True)
    elif kind in ("mul", "div") and _is_sparse(lhs, "csr") and not _is_sparse(rhs) \
            and np.broadcast_shapes(lhs.shape, rhs.shape) == lhs.shape:
        if kind == "div" and same:
            raise MXNetError("broadcast_div: please use elemwise_div for division between csr and dense of the "
                             "same shape %s (as MXNet)" % (lhs.shape,))
        return _times_dense(kind, lhs, rhs)     # broadcast_mul/div(csr, dense) = csr
    return _dense_fallback(op_name, lhs, rhs)


def _make_binary(kind, broadcast, name, what):
    def op(lhs, rhs):
        return _binary(kind, lhs, rhs, broadcast)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = "%s of two arrays (or an array and a scalar), at least one sparse; output storage types as in " \
                 "dataflow/ndarray/sparse_ops.py's docstring (MXNet's)." % what
    return op


def _auto(kind, name):
    def op(lhs, rhs):
        broadcast = isinstance(lhs, NDArray) and isinstance(rhs, NDArray) and lhs.shape != rhs.shape
        return _binary(kind, lhs, rhs, broadcast)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = "MXNet's `sparse.%s`: elementwise for equal shapes, broadcasting otherwise." % name
    return op


elemwise_add = _make_binary("add", False, "elemwise_add", "Elementwise sum")
elemwise_sub = _make_binary("sub", False, "elemwise_sub", "Elementwise difference")
elemwise_mul = _make_binary("mul", False, "elemwise_mul", "Elementwise product")
elemwise_div = _make_binary("div", False, "elemwise_div", "Elementwise quotient")
broadcast_add = _make_binary("add", True, "broadcast_add", "Broadcasting sum")
broadcast_sub = _make_binary("sub", True, "broadcast_sub", "Broadcasting difference")
broadcast_mul = _make_binary("mul", True, "broadcast_mul", "Broadcasting product")
broadcast_div = _make_binary("div", True, "broadcast_div", "Broadcasting quotient")
add, subtract, multiply, divide = (_auto(k, n) for k, n in (("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                                                            ("div", "divide")))


def add_n(*args):
    """Sum of arrays: row_sparse when all are row_sparse, otherwise dense."""
    if args and all(_is_sparse(a, "row_sparse") for a in args):
        result = args[0]
        for other in args[1:]:
            _require_shapes("add_n", result, other, result.shape == other.shape)
            result = _merged("add", result, other)
        return result if len(args) > 1 else result.copy()
    return _dense_fallback("add_n", *args)


# -- reductions --------------------------------------------------------------------------------------------------------

def _axis(op_name, axis, ndim):
    if axis is None or axis == ():
        return None
    if isinstance(axis, (tuple, list)):
        if len(axis) != 1:
            return "dense"
        axis = axis[0]
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise MXNetError("%s: axis %d out of range for %d-D input" % (op_name, axis, ndim))
    return axis % ndim


def _reduce(op_name, data, axis, keepdims, exclude, mean):
    ax = _axis(op_name, axis, data.ndim)
    if not _is_sparse(data) or exclude or ax == "dense" or data.ndim != 2:
        return _dense_fallback(op_name, data, axis=axis, keepdims=keepdims, exclude=exclude)
    values, indices, indptr = _parts(data)
    if data.stype == "csr":
        out = kernels.csr_sum(values, indices, indptr, data.shape, ax)
    else:
        out = kernels.rsp_sum(values, indices, data.shape, ax)
    if mean:
        count = np.prod(data.shape) if ax is None else data.shape[ax]
        out = (out / count).astype(values.dtype) if count else np.full_like(out, np.nan)
    if keepdims:
        out = out.reshape((1, 1) if ax is None else tuple(1 if i == ax else d for i, d in enumerate(data.shape)))
    return _dense(out, data)


def sum(data, axis=None, keepdims=False, exclude=False):  # noqa: A001 - MXNet's name
    """Sum over `axis` (None: all) of a csr or row_sparse array, as a dense array."""
    return _reduce("sum", data, axis, keepdims, exclude, mean=False)


def mean(data, axis=None, keepdims=False, exclude=False):
    """Mean over `axis` (None: all) of a csr or row_sparse array, as a dense array."""
    return _reduce("mean", data, axis, keepdims, exclude, mean=True)


def norm(data, ord=2, axis=None, keepdims=False):  # noqa: A002 - MXNet's name
    """The 2-norm of all values (dense, shape (1,)); other forms are computed densely."""
    if not _is_sparse(data) or axis is not None or ord != 2:
        return _dense_fallback("norm", data, ord=ord, axis=axis, keepdims=keepdims)
    values = _parts(data)[0]
    acc = np.float64 if values.dtype.kind == "f" else np.int64
    out = np.sqrt(np.square(values, dtype=acc).sum(dtype=acc)).astype(values.dtype).reshape((1,) * (
        data.ndim if keepdims else 1))
    return _dense(out, data)


def square_sum(data, axis=None, keepdims=False, exclude=False):
    """MXNet's `_square_sum` (`mx.nd._internal._square_sum`): sum of squares of a 2-D row_sparse array over axis 0
    (dense) or 1 (dense; row_sparse with keepdims). A dense input is computed densely; other sparse inputs and
    axes are MXNet's error."""
    if not _is_sparse(data):
        return _dense_fallback("_internal._square_sum", data, axis=axis, keepdims=keepdims, exclude=exclude)
    if not _is_sparse(data, "row_sparse") or data.ndim != 2:
        raise MXNetError("_square_sum: only a 2-D row_sparse input is supported, got %s %s"
                         % (data.stype, tuple(data.shape)))
    ax = _axis("_square_sum", axis, 2)
    if ax not in (0, 1) or exclude:
        raise MXNetError("_square_sum: axis must be 0 or 1 (got %r, exclude=%s)" % (axis, exclude))
    values, indices, _ = _parts(data)
    if ax == 1 and keepdims:
        return _rsp(np.square(values).sum(axis=1, keepdims=True).astype(values.dtype), indices.copy(),
                    (data.shape[0], 1), _ctx(data))
    out = kernels.rsp_sum(values, indices, data.shape, ax, square=True)
    return _dense(out.reshape((1, -1) if keepdims else out.shape), data)


# -- structure ---------------------------------------------------------------------------------------------------------

def retain(data, indices=None, **_ignored):
    """The rows `indices` of the row_sparse `data`, as row_sparse storing exactly those rows (zero where data
    stores none, as MXNet's `_sparse_retain`). Other keywords are ignored, as by MXNet's ops without parameters.
    Other storage types are MXNet's error here (the op's dense kernel serves the dense twins of a bound graph)."""
    if not _is_sparse(data, "row_sparse"):
        raise MXNetError("retain: data must be a RowSparseNDArray, got %s"
                         % getattr(data, "stype", type(data).__name__))
    if indices is None:
        raise MXNetError("retain: the input 'indices' is missing")
    values, rows, _ = _parts(data)
    wanted = np.unique(retained_rows(_host(indices), data.shape[0], "retain"))
    slot = np.minimum(np.searchsorted(rows, wanted), max(len(rows) - 1, 0))
    stored = rows[slot] == wanted if len(rows) else np.zeros(len(wanted), bool)
    return _rsp(kernels.gather_or_zero(values, np.where(stored, slot, -1)), wanted, data.shape, _ctx(data))


def cast_storage(data, stype):
    """`data` converted to storage type `stype` ('default', 'csr', 'row_sparse')."""
    if stype not in ("default", "csr", "row_sparse"):
        raise MXNetError("cast_storage: unknown storage type %r" % (stype,))
    if data.stype == stype:
        return data.copy()
    if _is_sparse(data):
        if stype != "default":
            raise MXNetError("cast_storage: operator not implemented for %s -> %s (as in MXNet)" % (data.stype, stype))
        return data.tostype("default")
    values = _host(data)
    if stype == "csr":
        if values.ndim != 2:
            raise MXNetError("cast_storage: csr needs a 2-D array, got shape %s" % (values.shape,))
        return _csr(*kernels.dense_to_csr(values), values.shape, _ctx(data))
    return _rsp(*kernels.dense_to_rsp(values), values.shape, _ctx(data))


def slice(data, begin, end, step=()):  # noqa: A001 - MXNet's name
    """data[begin:end] of a csr array along its first one or two axes (step 1), as csr; others densely."""
    if not _is_sparse(data, "csr") or any(s not in (None, 1) for s in step or ()):
        return _dense_fallback("slice", data, begin=begin, end=end, step=step)
    full_begin, full_end = [], []
    for axis, size in enumerate(data.shape):
        b = begin[axis] if axis < len(begin) else None
        e = end[axis] if axis < len(end) else None
        b, e, _ = builtins.slice(b, e).indices(size)
        full_begin.append(b)
        full_end.append(max(e, b))
    values, indices, indptr = _parts(data)
    shape = (full_end[0] - full_begin[0], full_end[1] - full_begin[1])
    return _csr(*kernels.csr_slice(values, indices, indptr, full_begin, full_end), shape, _ctx(data))



def clip(data, a_min, a_max):
    """Values clipped to [a_min, a_max]; a sparse input keeps its storage type when 0 is inside the range."""
    if not _is_sparse(data):
        return _dense_fallback("clip", data, a_min, a_max)
    if not a_min <= 0 <= a_max:
        raise MXNetError("clip: a sparse input needs a_min <= 0 <= a_max to stay sparse, got a_min=%s a_max=%s"
                         % (a_min, a_max))
    return _map_data(data, lambda d: _nd().clip(d, a_min, a_max))


def zeros_like(data):
    """An all-zero array of data's shape, dtype and storage type (no stored entries)."""
    if not _is_sparse(data):
        return _nd().zeros_like(data)
    values = _parts(data)[0]
    if data.stype == "csr":
        return _csr(values[:0].copy(), np.zeros(0, np.int64), np.zeros(data.shape[0] + 1, np.int64), data.shape,
                    _ctx(data))
    return _rsp(values[:0].copy(), np.zeros(0, np.int64), data.shape, _ctx(data))


def where(condition, x, y):
    """MXNet's `where` (computed densely for sparse inputs)."""
    return _dense_fallback("where", condition, x, y)


# -- unary -------------------------------------------------------------------------------------------------------------

def _map_data(x, f):
    """x with f (an mx.nd function) applied to its stored values: same storage type and indices."""
    values, indices, indptr = _parts(x)
    mapped = f(_from_host(values, x.context, values.dtype)).asnumpy()
    if x.stype == "csr":
        return _csr(mapped, indices.copy(), indptr.copy(), x.shape, _ctx(x))
    return _rsp(mapped, indices.copy(), x.shape, _ctx(x))


def _unary(name, zero_preserving):
    def op(data, **kwargs):
        if _is_sparse(data) and zero_preserving:
            return _map_data(data, lambda d: getattr(_nd(), name)(d, **kwargs))
        return _dense_fallback(name, data, **kwargs)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = "MXNet's `%s`, elementwise; %s." % (
        name, "a sparse input keeps its storage type" if zero_preserving else "the result is dense")
    return op


for _name in ZERO_PRESERVING + DENSE_UNARY:
    globals()[_name] = _unary(_name, _name in ZERO_PRESERVING)


# -- the plain mx.nd front ends on sparse inputs -----------------------------------------------------------------------

class _NoSparseKernel(Exception):
    """Raised inside a front-end call when the storage types have no sparse kernel (fallback.py then densifies)."""


_SERVING = threading.local()       # depth of front-end calls being served in this thread


def _serve(op_names, fn, params=(), scalar=False):
    """Register `fn` as the sparse implementation of the front ends `op_names` (fallback.implements): the call's
    inputs become fn's arguments and the named params its keywords."""
    def run(inputs, p, out):
        if out is not None or _autograd.is_recording():
            return NotImplemented       # recorded: the dense op on dense copies (see `_recorded`)
        args = list(inputs) + ([p.scalar] if scalar else [])
        kwargs = {name: getattr(p, name) for name in params if hasattr(p, name)}
        _SERVING.depth = getattr(_SERVING, "depth", 0) + 1
        try:
            return fn(*args, **kwargs)
        except _NoSparseKernel:
            return NotImplemented
        finally:
            _SERVING.depth -= 1
    fallback.implements(*op_names)(run)


_serve(("dot",), dot, ("transpose_a", "transpose_b", "forward_stype"))
for _names, _fn in ((("elemwise_add", "_plus", "_add"), elemwise_add), (("elemwise_sub", "_minus", "_sub"),
                    elemwise_sub), (("elemwise_mul", "_mul"), elemwise_mul), (("elemwise_div", "_div"), elemwise_div),
                    (("broadcast_add", "broadcast_plus"), broadcast_add),
                    (("broadcast_sub", "broadcast_minus"), broadcast_sub), (("broadcast_mul",), broadcast_mul),
                    (("broadcast_div",), broadcast_div), (("add_n", "ElementWiseSum"), add_n),
                    (("zeros_like",), zeros_like), (("where",), where)):
    _serve(_names, _fn)
_serve(("_mul_scalar",), multiply, scalar=True)
_serve(("_div_scalar",), divide, scalar=True)
_serve(("sum",), sum, ("axis", "keepdims", "exclude"))
_serve(("mean",), mean, ("axis", "keepdims", "exclude"))
_serve(("norm",), norm, ("ord", "axis", "keepdims"))
_serve(("slice",), slice, ("begin", "end", "step"))
_serve(("clip",), clip, ("a_min", "a_max"))
_serve(("_square_sum",), square_sum, ("axis", "keepdims", "exclude"))
_serve(("_sparse_retain",), retain)
for _name in ZERO_PRESERVING + DENSE_UNARY:
    _serve((_name,), globals()[_name])


# -- under autograd.record(): the front ends, which record -------------------------------------------------------------

def _recorded(op_name, fn):
    """fn, except under `autograd.record()`: then the front end `mx.nd.<op_name>` (op_name: a name, or a function of
    the call's arguments giving one), which records the op, computed on dense copies: the sparse kernels have no
    gradients here, and a result nobody recorded would silently drop its gradient."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        if _autograd.is_recording() and not getattr(_SERVING, "depth", 0):
            return _front_end(op_name(*args) if callable(op_name) else op_name)(*args, **kwargs)
        return fn(*args, **kwargs)
    return call


def _auto_op_name(kind):
    """The front end MXNet's `sparse.add` etc. resolves to for its arguments."""
    def name(lhs, rhs):
        if isinstance(lhs, NDArray) and isinstance(rhs, NDArray):
            return (_DENSE_NAMES if lhs.shape == rhs.shape else _BROADCAST_NAMES)[kind]
        swapped = not isinstance(lhs, NDArray)
        return "_internal._%s%s_scalar" % ("r" if swapped and kind in ("sub", "div") else "",
                                          {"add": "plus", "sub": "minus", "mul": "mul", "div": "div"}[kind])
    return name


for _name in ("dot", "elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div", "broadcast_add",
              "broadcast_sub", "broadcast_mul", "broadcast_div", "sum", "mean", "norm", "slice", "clip", "where",
              "add_n") + ZERO_PRESERVING + DENSE_UNARY:
    globals()[_name] = _recorded(_name, globals()[_name])
square_sum = _recorded("_internal._square_sum", square_sum)
retain = _recorded("_internal._sparse_retain", retain)
broadcast_plus, broadcast_minus, ElementWiseSum = broadcast_add, broadcast_sub, add_n
for _kind, _name in (("add", "add"), ("sub", "subtract"), ("mul", "multiply"), ("div", "divide")):
    globals()[_name] = _recorded(_auto_op_name(_kind), globals()[_name])
