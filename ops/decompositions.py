"""Matrix decompositions, batched over the leading axes: MXNet's `_linalg_inverse`, `_linalg_det`,
`_linalg_slogdet`, `_linalg_potrf` (Cholesky), `_linalg_syevd` (symmetric eigendecomposition) and numpy mode's
`_npi_svd`, each with its gradient (formulas in ops/cpu/decompositions.py). `mx.np.linalg` maps onto them.

Facts, checked on MXNet 1.9.1 (native CPU kernels):
- float32 and float64 only, as the other la_op ops; input (..., n, n) (svd: (..., M, N) with M <= N).
- det and slogdet of a single matrix give shape (1,) (numpy mode's front end views it as ()); a batch gives the
  batch's shape. MXNet's det keeps its LU factors as hidden outputs; ours recomputes the inverse in the backward.
- syevd returns the eigenvectors as the ROWS of U (A = U^T diag(L) U), eigenvalues ascending.
- A singular matrix (inverse), or one not positive definite (potrf), is an error ("non-convertible"); det of a
  singular matrix is 0.
- potrf and syevd read A as symmetric; their gradients are symmetric (MXNet's potrf gradient is; its numpy-mode
  eigh gradient is zero, a bug we do not copy).
"""
from .autodiff import apply
from .cpu import decompositions as cpu
from .errors import ShapeError
from .linalg import _linalg_type
from .registry import OpDef, register


def _fmt(shape):
    return "[%s]" % ",".join(str(d) for d in shape)


def _matrices(name, shape, square=True):
    if len(shape) < 2:
        raise ShapeError("%s: the input must have at least 2 dimensions (a batch of matrices), got %s"
                         % (name, _fmt(shape)))
    if square and shape[-1] != shape[-2]:
        raise ShapeError("%s: the input matrices must be square, got %s" % (name, _fmt(shape)))


def _square_rule(name, outputs):
    """Shape rule of an op on (..., n, n) matrices; `outputs(shape)` gives the output shapes."""
    def rule(p, in_shapes, out_shapes):
        data = in_shapes[0]
        if data is None:
            return list(in_shapes), list(out_shapes)
        _matrices(name, data)
        return [data], outputs(tuple(data))
    return rule


def _batch(shape):
    return tuple(shape[:-2]) or (1,)


def _grad_shape(data_index):
    """Shape rule of a backward op whose one output has the shape of its input `data_index`."""
    def rule(p, in_shapes, out_shapes):
        data = in_shapes[data_index] if in_shapes[data_index] is not None else out_shapes[0]
        ins = list(in_shapes)
        ins[data_index] = data
        return ins, [data]
    return rule


def _grad_type(data_index, name):
    check = _linalg_type(name)

    def rule(p, in_types, out_types):
        data = in_types[data_index] if in_types[data_index] is not None else out_types[0]
        return check(p, [data if t is None else t for t in in_types], [data])
    return rule


def _head_grads(dys, outs):
    """The head gradients, zeros for outputs nothing was computed from (autograd passes None for those)."""
    return [dy if dy is not None else apply("zeros_like", out) for dy, out in zip(dys, outs)]


def _op(name, outputs, infer_shape, kernel, gradient, doc, aliases=True):
    register(OpDef(name, aliases=(name.replace("_linalg_", "linalg_"),) if aliases else (), arguments=("A",),
                   outputs=outputs, infer_shape=infer_shape, infer_type=_linalg_type(name), cpu=kernel,
                   gradient=gradient, doc=doc))


def _backward(name, arguments, data_index, kernel, doc):
    register(OpDef(name, arguments=arguments, infer_shape=_grad_shape(data_index),
                   infer_type=_grad_type(data_index, name), cpu=kernel, doc=doc))


_op("_linalg_inverse", ("output",), _square_rule("_linalg_inverse", lambda s: [s]), cpu.linalg_inverse,
    lambda p, ins, outs, dys: [apply("_backward_linalg_inverse", dys[0], outs[0])],
    "The inverse of each square matrix of A (batched over the leading axes).")
_backward("_backward_linalg_inverse", ("out_grad", "output"), 1, cpu.backward_linalg_inverse,
          "The gradient of _linalg_inverse: -Y^T dY Y^T.")

_op("_linalg_det", ("output",), _square_rule("_linalg_det", lambda s: [_batch(s)]), cpu.linalg_det,
    lambda p, ins, outs, dys: [apply("_backward_linalg_det", dys[0], ins[0], outs[0])],
    "The determinant of each square matrix of A.")
_backward("_backward_linalg_det", ("out_grad", "A", "output"), 1, cpu.backward_linalg_det,
          "The gradient of _linalg_det: dd * det * A^-T.")

_op("_linalg_slogdet", ("output0", "output1"), _square_rule("_linalg_slogdet", lambda s: [_batch(s), _batch(s)]),
    cpu.linalg_slogdet,
    lambda p, ins, outs, dys: [apply("_backward_linalg_slogdet", dys[1], ins[0]) if dys[1] is not None else None],
    "The sign and the natural logarithm of the absolute value of the determinant of each square matrix of A.")
_backward("_backward_linalg_slogdet", ("out_grad", "A"), 1, cpu.backward_linalg_slogdet,
          "The gradient of _linalg_slogdet's logarithm: dl * A^-T.")

_op("_linalg_potrf", ("output",), _square_rule("_linalg_potrf", lambda s: [s]), cpu.linalg_potrf,
    lambda p, ins, outs, dys: [apply("_backward_linalg_potrf", dys[0], outs[0])],
    "The lower Cholesky factor L (A = L L^T) of each symmetric positive definite matrix of A.")
_backward("_backward_linalg_potrf", ("out_grad", "output"), 1, cpu.backward_linalg_potrf,
          "The gradient of _linalg_potrf (symmetric).")

_op("_linalg_syevd", ("output0", "output1"), _square_rule("_linalg_syevd", lambda s: [s, s[:-1]]), cpu.linalg_syevd,
    lambda p, ins, outs, dys: [apply("_backward_linalg_syevd", *_head_grads(dys, outs), outs[0], outs[1])],
    "The eigendecomposition A = U^T diag(L) U of each symmetric matrix of A: eigenvectors as the rows of U, "
    "eigenvalues ascending.")
_backward("_backward_linalg_syevd", ("U_grad", "L_grad", "U", "L"), 2, cpu.backward_linalg_syevd,
          "The gradient of _linalg_syevd (symmetric).")


def _svd_shape(p, in_shapes, out_shapes):
    data = in_shapes[0]
    if data is None:
        return list(in_shapes), list(out_shapes)
    _matrices("_npi_svd", data, square=False)
    if data[-2] > data[-1]:
        raise ShapeError("_npi_svd: the input matrices must have no more rows than columns (M <= N), got %s"
                         % _fmt(data))
    batch, m = tuple(data[:-2]), data[-2]
    return [tuple(data)], [batch + (m, m), batch + (m,), tuple(data)]


def _svd_grad(p, ins, outs, dys):
    return [apply("_backward_npi_svd", *_head_grads(dys, outs), ins[0], *outs)]


_op("_npi_svd", ("output0", "output1", "output2"), _svd_shape, cpu.npi_svd, _svd_grad,
    "The singular value decomposition A = UT diag(L) V of each (M, N) matrix of A, M <= N: UT (M, M) and V (M, N) "
    "orthonormal, L (M) descending.", aliases=False)
_backward("_backward_npi_svd", ("UT_grad", "L_grad", "V_grad", "A", "UT", "L", "V"), 3, cpu.backward_npi_svd,
          "The gradient of _npi_svd.")

BACKWARD = ("_backward_linalg_inverse", "_backward_linalg_det", "_backward_linalg_slogdet", "_backward_linalg_potrf",
            "_backward_linalg_syevd", "_backward_npi_svd")
FORWARD = ("_linalg_inverse", "_linalg_det", "_linalg_slogdet", "_linalg_potrf", "_linalg_syevd", "_npi_svd")
__all__ = ["FORWARD", "BACKWARD"]
