"""Batched matrix products: batch_dot, linalg gemm (`_linalg_gemm`) and gemm2 (`_linalg_gemm2`).

`dot` lives in ops/matrix.py. The three ops here share one shape rule: every operand is a stack of matrices with
the same leading (batch) dims; rows lie along `axis` (batch_dot: the second-to-last axis), columns along the last
axis; op(X) transposes the matrices of X. With op(A) (m, k) and op(B) (k, n), the output (and gemm's C) is (m, n)
on A's batch dims. The rule fills unknown dims in every direction: the batch dims and m, k, n are each merged from
whichever operands know them.

Facts checked on MXNet 1.9.1 (native CPU kernels):
- batch_dot needs N-D x N-D operands with N >= 3 and equal leading dims (no broadcasting); float32/float64 on CPU
  (float16 on GPU only; here float16 runs in float32 as dot's does); `_npx_batch_dot` is an alias.
- gemm and gemm2 take n >= 2 dims; `axis` (default -2) is normalised by adding ndim and must then lie in
  [0, ndim - 1); inputs must match except on the row and column axes; C must equal the output's shape (no
  broadcasting). Their shape and dtype inference accept any dtype, but the kernels run float32 and float64 only:
  here the dtype rule rejects the others. `linalg_gemm` and `linalg_gemm2` are aliases (mx.nd.linalg_gemm).
- gemm with beta=0 does not read C (BLAS semantics): a NaN in C does not reach the output.
"""
import numpy as np

from .autodiff import apply
from .cpu import linalg as cpu
from .elemwise import float_only, fmt
from .errors import DTypeError, ShapeError
from .registry import Bool, Float, Int, OpDef, Str, register, same_dtype

# ---------------------------------------------------------------------------------------------------------------
# The shared shape rule
# ---------------------------------------------------------------------------------------------------------------


def _split(shape, axis):
    """(batch dims, rows, columns) of a stack of matrices with rows along `axis`, columns along the last axis."""
    return tuple(shape[:axis]) + tuple(shape[axis + 1:-1]), shape[axis], shape[-1]


def _join(batch, rows, cols, axis):
    return tuple(batch[:axis]) + (rows,) + tuple(batch[axis:]) + (cols,)


def _matmul_shape(name, names, p, axis, min_ndim, in_shapes, out_shapes):
    """The rule of out = op(A) op(B) [+ C]: `names` are the inputs' names (2 or 3), for messages."""
    shapes = list(in_shapes) + list(out_shapes)
    ranks = {len(s) for s in shapes if s is not None}
    if not ranks:
        return list(in_shapes), list(out_shapes)
    shown = ", ".join("%s %s" % (n, fmt(s)) for n, s in zip(list(names) + ["output"], shapes))
    where = "%s (%s; transpose_a=%s, transpose_b=%s)" % (name, shown, p.transpose_a, p.transpose_b)
    if len(ranks) > 1:
        raise ShapeError("%s: the operands must have the same number of dimensions" % where)
    ndim = ranks.pop()
    if ndim < min_ndim:
        raise ShapeError("%s: the operands need at least %d dimensions" % (where, min_ndim))
    ax = axis + ndim if axis < 0 else axis
    if not 0 <= ax < ndim - 1:
        raise ShapeError("%s: invalid row axis %d for %d-D operands (it must lie in [%d, %d))"
                         % (where, axis, ndim, -ndim, ndim - 1))
    # op(A) = (m, k), op(B) = (k, n), output and C = (m, n); each dim merged from whoever knows it.
    parts = [None if s is None else _split(s, ax) for s in shapes]
    transposed = [p.transpose_a, p.transpose_b] + [False] * (len(shapes) - 2)
    mats = [None if q is None else (q[0],) + ((q[2], q[1]) if t else (q[1], q[2]))
            for q, t in zip(parts, transposed)]
    # (operand, position in the op(X) matrix) of each of m, k, n
    where_dim = {"m": [(0, 1)] + [(i, 1) for i in range(2, len(shapes))],
                 "k": [(0, 2), (1, 1)],
                 "n": [(1, 2)] + [(i, 2) for i in range(2, len(shapes))]}
    dims = {d: _merge_dim(where, d, [mats[i][j] for i, j in spots if mats[i] is not None])
            for d, spots in where_dim.items()}
    batch = None
    for q in mats:
        if q is not None:
            if batch is not None and any(x and y and x != y for x, y in zip(batch, q[0])):
                raise ShapeError("%s: the batch dims must be equal (every dim except the row and column axes)"
                                 % where)
            batch = q[0] if batch is None else tuple(x or y for x, y in zip(batch, q[0]))
    m, k, n = dims["m"], dims["k"], dims["n"]
    a = _join(batch, *((k, m) if p.transpose_a else (m, k)), ax)
    b = _join(batch, *((n, k) if p.transpose_b else (k, n)), ax)
    out = _join(batch, m, n, ax)
    ins = [a, b] + [out] * (len(in_shapes) - 2)
    return ins, [out]


def _merge_dim(where, what, values):
    known = {v for v in values if v}
    if len(known) > 1:
        label = {"m": "the rows of the output", "k": "the contracted dims", "n": "the columns of the output"}[what]
        raise ShapeError("%s: shape mismatch: %s differ (%s)" % (where, label, " vs ".join(map(str, sorted(known)))))
    return known.pop() if known else 0


def _backward_shape(n_grads):
    """Backward ops (dY, A, B) -> (dA, dB[, dC]): each gradient has its operand's shape (dC: dY's)."""
    def rule(p, in_shapes, out_shapes):
        dy, a, b = in_shapes
        ins = [dy, _first(a, out_shapes[0]), _first(b, out_shapes[1])]
        outs = [ins[1], ins[2]] + ([_first(dy, out_shapes[2])] if n_grads == 3 else [])
        if n_grads == 3:
            ins[0] = outs[2]
        return ins, outs
    return rule


def _first(a, b):
    return a if a is not None else b


def _linalg_type(name):
    """MXNet's la_op kernels run float32 and float64 only."""
    def rule(p, in_types, out_types):
        in_types, out_types = same_dtype(p, in_types, out_types)
        for t in list(in_types) + list(out_types):
            if t is not None and np.dtype(t) not in (np.float32, np.float64):
                raise DTypeError("%s: this operation only supports float32 and float64, not %s"
                                 % (name, np.dtype(t).name))
        return in_types, out_types
    return rule


# ---------------------------------------------------------------------------------------------------------------
# batch_dot
# ---------------------------------------------------------------------------------------------------------------

_BATCH_DOT = dict(transpose_a=Bool(False, "If true then transpose the first input before dot."),
                  transpose_b=Bool(False, "If true then transpose the second input before dot."),
                  forward_stype=Str(None, "The desired storage type of the forward output."))


# out[b...] = op(lhs[b...]) @ op(rhs[b...]) over the leading batch dims.
def _batch_dot_shape(p, in_shapes, out_shapes):
    return _matmul_shape("batch_dot", ("lhs", "rhs"), p, -2, 3, in_shapes, out_shapes)


# Y = op(A) op(B): d op(A) = dY op(B)^T, d op(B) = op(A)^T dY, transposed back for a transposed operand.
def _batch_dot_grad(p, ins, outs, dys):
    return apply("_backward_batch_dot", dys[0], *ins, transpose_a=p.transpose_a, transpose_b=p.transpose_b)


register(OpDef("batch_dot", aliases=("_npx_batch_dot",), arguments=("lhs", "rhs"), params=_BATCH_DOT,
               infer_shape=_batch_dot_shape, infer_type=float_only("batch_dot"), gradient=_batch_dot_grad,
               cpu=cpu.batch_dot,
               doc="Batchwise dot product: out[b, :, :] = dot(lhs[b, :, :], rhs[b, :, :]) for N-D (N >= 3) "
                   "arrays with equal leading dims."))
register(OpDef("_backward_batch_dot", arguments=("out_grad", "lhs", "rhs"), outputs=("lhs_grad", "rhs_grad"),
               params=_BATCH_DOT, infer_shape=_backward_shape(2), infer_type=float_only("_backward_batch_dot"),
               cpu=cpu.backward_batch_dot, doc="Gradients of batch_dot with respect to lhs and rhs."))

# ---------------------------------------------------------------------------------------------------------------
# linalg gemm, gemm2
# ---------------------------------------------------------------------------------------------------------------


def _gemm_params(with_beta):
    params = dict(transpose_a=Bool(False, "Multiply with transposed of first input (A)."),
                  transpose_b=Bool(False, "Multiply with transposed of second input (B)."),
                  alpha=Float(1.0, "Scalar factor multiplied with A*B."))
    if with_beta:
        params["beta"] = Float(1.0, "Scalar factor multiplied with C.")
    params["axis"] = Int(-2, "Axis corresponding to the matrix rows.")
    return params


def _gemm_shape(p, in_shapes, out_shapes):
    return _matmul_shape("_linalg_gemm", ("A", "B", "C"), p, p.axis, 2, in_shapes, out_shapes)


def _gemm2_shape(p, in_shapes, out_shapes):
    return _matmul_shape("_linalg_gemm2", ("A", "B"), p, p.axis, 2, in_shapes, out_shapes)


# Y = alpha op(A) op(B) + beta C: dA, dB as for batch_dot, times alpha; dC = beta dY.
def _gemm_grad(p, ins, outs, dys):
    return apply("_backward_linalg_gemm", dys[0], ins[0], ins[1], **p.as_dict())


# Y = alpha op(A) op(B): dA, dB as for batch_dot, times alpha.
def _gemm2_grad(p, ins, outs, dys):
    return apply("_backward_linalg_gemm2", dys[0], *ins, **p.as_dict())


register(OpDef("_linalg_gemm", aliases=("linalg_gemm",), arguments=("A", "B", "C"), params=_gemm_params(True),
               infer_shape=_gemm_shape, infer_type=_linalg_type("_linalg_gemm"), gradient=_gemm_grad,
               cpu=cpu.linalg_gemm,
               doc="Performs general matrix multiplication and accumulation: out = alpha * op(A) * op(B) + "
                   "beta * C, batched over the leading dims; rows along `axis`, columns along the last axis."))
register(OpDef("_backward_linalg_gemm", arguments=("out_grad", "A", "B"), outputs=("A_grad", "B_grad", "C_grad"),
               params=_gemm_params(True), infer_shape=_backward_shape(3),
               infer_type=_linalg_type("_backward_linalg_gemm"), cpu=cpu.backward_linalg_gemm,
               doc="Gradients of linalg gemm with respect to A, B and C."))
register(OpDef("_linalg_gemm2", aliases=("linalg_gemm2",), arguments=("A", "B"), params=_gemm_params(False),
               infer_shape=_gemm2_shape, infer_type=_linalg_type("_linalg_gemm2"), gradient=_gemm2_grad,
               cpu=cpu.linalg_gemm2,
               doc="Performs general matrix multiplication: out = alpha * op(A) * op(B), batched over the leading "
                   "dims; rows along `axis`, columns along the last axis."))
register(OpDef("_backward_linalg_gemm2", arguments=("out_grad", "A", "B"), outputs=("A_grad", "B_grad"),
               params=_gemm_params(False), infer_shape=_backward_shape(2),
               infer_type=_linalg_type("_backward_linalg_gemm2"), cpu=cpu.backward_linalg_gemm2,
               doc="Gradients of linalg gemm2 with respect to A and B."))
