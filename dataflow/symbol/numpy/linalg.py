"""`mx.sym.np.linalg`: NumPy's linalg functions on Symbols: `norm` composed of reductions, the decompositions
(inv, det, slogdet, cholesky, svd; eigh / eigvalsh and the real-only eig / eigvals as MXNet's `_npi_eigh` ...) as
the registry's linalg ops, solve and tensorinv built on them, pinv and tensorsolve as MXNet's `_npi_pinv` and
`_npi_tensorsolve` (ops/numpy_extras.py, which read the shapes when the graph is bound)."""
import numbers

import numpy as onp

from ..symbol import Symbol
from ._symbol import _sym, max, min, squeeze, sum  # noqa: A004 - NumPy's names


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's name
    """NumPy's `linalg.norm` composed of reductions, as mx.np's: vector norms (ord None/2, 1, inf, -inf, any other
    number) along one axis and matrix norms ('fro', 1, -1, inf, -inf) over two given axes; with neither `ord` nor
    `axis`, the 2-norm of the flattened `x`. The spectral norms ('nuc', 2, -2 of matrices) and ord 0 are not
    supported in a graph, nor `ord` without `axis` (whether `x` is a matrix is known only when the graph runs)."""
    if axis is None:
        if ord not in (None, "fro"):
            raise NotImplementedError("np.linalg.norm of a Symbol: ord=%r needs an axis (the input's number of "
                                      "axes is unknown while tracing)" % (ord,))
        axes = ()
    else:
        axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    if len(axes) == 2 and ord not in (None, "fro"):
        return _matrix_norm(x, ord, axes, keepdims)
    if len(axes) > 2 or (len(axes) != 1 and ord not in (None, "fro")):
        raise ValueError("Improper number of dimensions to norm.")
    if ord in (None, 2, "fro"):
        return _sym("sqrt", sum(x * x, axis=axes or None, keepdims=keepdims))
    magnitude = _sym("abs", x)
    if ord == onp.inf:
        return max(magnitude, axis=axes, keepdims=keepdims)
    if ord == -onp.inf:
        return min(magnitude, axis=axes, keepdims=keepdims)
    if ord == 1:
        return sum(magnitude, axis=axes, keepdims=keepdims)
    if isinstance(ord, str) or ord == 0:
        raise NotImplementedError("np.linalg.norm of a Symbol: ord=%r is not supported for vectors" % (ord,))
    return sum(magnitude ** ord, axis=axes, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):  # noqa: A002
    """The 1 / inf norms (and their minima): the largest (smallest) column / row sum of magnitudes."""
    if ord not in (1, -1, onp.inf, -onp.inf):
        raise NotImplementedError("np.linalg.norm of a Symbol: matrix ord=%r is not supported" % (ord,))
    rows, cols = axes
    summed, over = (rows, cols) if ord in (1, -1) else (cols, rows)
    lines = sum(_sym("abs", x), axis=summed, keepdims=True)
    result = (max if ord > 0 else min)(lines, axis=over, keepdims=True)
    return result if keepdims else squeeze(result, axis=(rows, cols))


# -- decompositions: the registry's linalg ops, batched over the leading axes -----------------------------------------
def _per_matrix(result, a):
    """A per-matrix `result` (the legacy ops give one matrix's as shape (1,)) in the shape of `a`'s batch axes."""
    return _sym("reshape_like", result, a, lhs_begin=0, lhs_end=None, rhs_begin=0, rhs_end=-2)


def inv(a):
    """The inverse of each square matrix of `a`."""
    return _sym("_linalg_inverse", a)


def det(a):
    """The determinant of each square matrix of `a`."""
    return _per_matrix(_sym("_linalg_det", a), a)


def slogdet(a):
    """(sign, log|det|) of each square matrix of `a`."""
    sign, logdet = _sym("_linalg_slogdet", a)
    return _per_matrix(sign, a), _per_matrix(logdet, a)


def cholesky(a):
    """The lower Cholesky factor L (a = L L^T) of each symmetric positive definite matrix of `a`."""
    return _sym("_linalg_potrf", a)


def eigh(a, UPLO="L"):  # noqa: N803 - NumPy's name
    """(eigenvalues ascending, eigenvectors as columns) of each symmetric matrix of `a`, read from its `UPLO`
    triangle (MXNet's `_npi_eigh`: integer matrices give float64)."""
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    values, vectors = _sym("_npi_eigh", a, UPLO=UPLO)
    return values, vectors


def eigvalsh(a, UPLO="L"):  # noqa: N803 - NumPy's name
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return _sym("_npi_eigvalsh", a, UPLO=UPLO)


def svd(a):
    """(ut, s, v) with a = ut @ diag(s) @ v for each (M, N) matrix of `a`, M <= N (MXNet's `svd`; a taller
    matrix, which the array form decomposes through its transpose, is an error when the graph runs)."""
    ut, s, v = _sym("_npi_svd", a)
    return ut, s, v


def pinv(a, rcond=1e-15, hermitian=False):
    """The Moore-Penrose pseudo-inverse of each matrix of `a`: singular values up to `rcond` (a number, or a
    Symbol broadcast over the batch) times the largest count as zero (MXNet's `_npi_pinv`)."""
    if isinstance(rcond, Symbol):
        return _sym("_npi_pinv", a, rcond, hermitian=bool(hermitian))
    return _sym("_npi_pinv_scalar_rcond", a, rcond=float(rcond), hermitian=bool(hermitian))


def eig(a):
    """(eigenvalues, right eigenvectors as columns) of each square matrix of `a`; a complex eigenvalue is an error
    when the graph runs (MXNet's are real only)."""
    values, vectors = _sym("_npi_eig", a)
    return values, vectors


def eigvals(a):
    return _sym("_npi_eigvals", a)


def tensorinv(a, ind=2):
    """The inverse of `a` for `tensordot(., ., ind)`: `a` as a (prod(shape[:ind]), prod(shape[ind:])) matrix,
    inverted, in the shape shape[ind:] + shape[:ind]. The legacy Reshape's -3 merges two axes, so the first `ind`
    axes are merged one at a time; reshape_like reads the final shape from `a` when the graph runs."""
    if not isinstance(ind, numbers.Integral) or ind <= 0:
        raise ValueError("Invalid ind argument.")
    matrix = a
    for _ in range(ind - 1):
        matrix = _sym("Reshape", matrix, shape=(-3, -2))
    inverse = _sym("_linalg_inverse", _sym("Reshape", matrix, shape=(0, -1)))
    rows_shaped = _sym("reshape_like", inverse, a, lhs_begin=0, lhs_end=1, rhs_begin=ind, rhs_end=None)
    return _sym("reshape_like", rows_shaped, a, lhs_begin=-1, lhs_end=None, rhs_begin=0, rhs_end=ind)


def tensorsolve(a, b, axes=None):
    """x with tensordot(a, x, x.ndim) == b, `axes` of `a` moved to its end first (MXNet's `_npi_tensorsolve`)."""
    return _sym("_npi_tensorsolve", a, b, a_axes=() if axes is None else tuple(axes))


def solve(a, b):
    """x with a @ x = b for each square matrix of `a`, `b` one matrix (..., M, K) per matrix of `a` (NumPy's
    vector `b` of one axis fewer is not supported in a graph: its rank is unknown while tracing)."""
    return _sym("linalg_gemm2", inv(a), b)
