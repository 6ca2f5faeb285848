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

  FullyConnected  csr data, dense weight and bias: dot(data, weight.T) + bias, dense.
  round_ste, sign_ste  (`_contrib_*_ste`) keep the storage type: the stored values rounded / signed.

The ops register with `sparse_ops._serve`, so the plain front ends (`mx.nd.take`, the NDArray operators) reach them;
a call these kernels do not cover falls back to dense like any other op.

`install_front_ends` puts the front ends that are not simply the generated ones: `mx.nd.sparse.<name>` for MXNet's
sparse op names (MXNET_SPARSE_NAMES) that sparse_ops has no function for (the generated ones, which reach the
sparse kernels; for the `*_update` ones fallback.py imports the row kernels of dataflow/optimizer/sparse.py),
`mx.nd.cast_storage` (a dense input must reach the sparse conversion too), and the sparse-only ops without an OpDef
(getnnz, `_scatter_*`).
"""
import functools
import sys

import numpy as np

from ops import registry

from ops.cpu import sparse as kernels
from ...base import MXNetError
from ..ndarray import NDArray
from ...autograd import state as _autograd
from ...frontend import make_function
from ..sparse_ops import (_csr_dot, _ctx, _dense, _dense_fallback, _host, _is_sparse, _map_data, _merged, _parts,
                          _serve, cast_storage)
from .arrays import _csr, _rsp

__all__ = ["getnnz"]

# the ops MXNet 1.9.1 generates into mx.nd.sparse and mx.sym.sparse (their plain front ends where this module has no
# function of that name; `retain` is the op `_sparse_retain`)
MXNET_SPARSE_NAMES = ("ElementWiseSum", "Embedding", "FullyConnected", "LinearRegressionOutput",
                      "LogisticRegressionOutput", "MAERegressionOutput", "_contrib_round_ste", "_contrib_sign_ste",
                      "abs", "adagrad_update", "adam_update", "add_n", "arccos",
                      "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "broadcast_add", "broadcast_div",
                      "broadcast_minus", "broadcast_mul", "broadcast_plus", "broadcast_sub", "cast_storage", "cbrt",
                      "ceil", "clip", "concat", "cos", "cosh", "degrees", "dot", "elemwise_add", "elemwise_div",
                      "elemwise_mul", "elemwise_sub", "exp", "expm1", "fix", "floor", "ftrl_update", "gamma",
                      "gammaln", "log", "log10", "log1p", "log2", "make_loss", "mean", "negative", "norm", "radians",
                      "relu", "rint", "round", "rsqrt", "sgd_mom_update", "sgd_update", "sigmoid", "sign", "sin",
                      "sinh", "slice", "sqrt", "square", "stop_gradient", "sum", "tan", "tanh", "trunc", "where",
                      "zeros_like")

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


def FullyConnected(data, weight, bias=None, num_hidden=None, no_bias=False, flatten=True, **kwargs):  # noqa: N802
    """FullyConnected on csr data: dot(data, weight.T) + bias, dense (MXNet's sparse FullyConnected); the front ends
    `mx.nd.FullyConnected` and `mx.nd.sparse.FullyConnected` reach it for sparse inputs."""
    if not _is_sparse(data, "csr") or _is_sparse(weight) or (bias is not None and _is_sparse(bias)):
        args = [data, weight] + ([] if no_bias or bias is None else [bias])
        return _dense_fallback("FullyConnected", *args, num_hidden=num_hidden, no_bias=no_bias, flatten=flatten,
                               **kwargs)
    if num_hidden is not None and weight.shape[0] != int(num_hidden):
        raise MXNetError("FullyConnected: weight shape %s does not match num_hidden=%s"
                         % (tuple(weight.shape), num_hidden))
    if weight.ndim != 2 or weight.shape[1] != data.shape[1]:
        raise MXNetError("FullyConnected: csr data %s needs weight of shape (num_hidden, %d), got %s"
                         % (data.shape, data.shape[1], tuple(weight.shape)))
    values, indices, indptr = _parts(data)
    out = _csr_dot(values, indices, indptr, np.ascontiguousarray(_host(weight).T).astype(values.dtype))
    if not no_bias and bias is not None:
        b = _host(bias)
        if b.shape not in ((weight.shape[0],), (weight.shape[0], 1)):      # MXNet accepts both
            raise MXNetError("FullyConnected: bias shape %s, expected (%d,) or (%d, 1)"
                             % (b.shape, weight.shape[0], weight.shape[0]))
        out += b.reshape(-1).astype(out.dtype)
    return _dense(out, data)


for _name, _compare in _COMPARISONS.items():
    _serve((_name,), _compare_scalar(_name, _compare), scalar=True)
for _name in ("maximum", "minimum", "hypot"):
    _serve(("_" + _name,), _union_binary("_" + _name, _name))
_serve(("take",), take, ("axis", "mode"))
_serve(("FullyConnected",), FullyConnected, ("num_hidden", "no_bias", "flatten"))


def _straight_through(name):
    """`_contrib_round_ste` / `_contrib_sign_ste` of a sparse array: round / sign of its stored values (f(0) = 0)."""
    def op(data):
        return _map_data(data, lambda values: getattr(sys.modules["dataflow.ndarray"].contrib, name)(values))
    op.__name__ = op.__qualname__ = "_contrib_" + name
    return op


for _name in ("round_ste", "sign_ste"):
    _serve(("_contrib_" + _name,), _straight_through(_name))


def install_front_ends(nd):
    """`mx.nd.contrib.getnnz`, the `_scatter_*` ops, the plain front ends under `mx.nd.sparse` (MXNET_SPARSE_NAMES),
    and `mx.nd.cast_storage` (and `mx.nd.sparse.cast_storage`): its output's storage type is a param, not its
    input's, so a dense input must reach `cast_storage` too (the generated front end hands only calls with sparse
    arrays to the sparse kernels); under `autograd.record()` the generated one runs, which records the copy."""
    generated = nd.cast_storage

    @functools.wraps(cast_storage)
    def front_end(data, stype, **kwargs):
        if _autograd.is_recording() or kwargs:
            return generated(data, stype=stype, **kwargs)
        return cast_storage(data, stype)
    nd.cast_storage = nd.sparse.cast_storage = front_end
    for name in MXNET_SPARSE_NAMES:        # Embedding, sgd_update ...: the plain ones reach the sparse kernels
        if not hasattr(nd.sparse, name):
            front_end = getattr(nd.contrib, name[len("_contrib_"):]) if name.startswith("_contrib_") else \
                getattr(nd, name)
            setattr(nd.sparse, name, front_end)
        if name not in nd.sparse.__all__:       # adagrad_update is generated there (`_sparse_adagrad_update`)
            nd.sparse.__all__.append(name)
    # the op's own front end under its full name (mx.nd.sparse.retain is `retain`): what `retain` records
    nd._internal._sparse_retain = make_function(registry.get("_sparse_retain"), "_sparse_retain", nd._invoke,
                                                ("out", "name"))
    nd.contrib.getnnz = getnnz         # and the sparse-only ops without an OpDef
    nd._internal._scatter_elemwise_div = scatter_elemwise_div
    nd._internal._scatter_plus_scalar = scatter_plus_scalar
    nd._internal._scatter_minus_scalar = scatter_minus_scalar
