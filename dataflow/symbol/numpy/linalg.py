"""`mx.sym.np.linalg`: NumPy's linalg functions on Symbols: `norm` composed of reductions, the decompositions
(inv, det, slogdet, cholesky, eigh, svd) as the registry's linalg ops, pinv and solve built on them. eig, eigvals,
tensorinv and tensorsolve are not here (no op; shapes unknown while tracing)."""
import numbers

import numpy as onp

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
# One matrix's per-matrix result (det, slogdet) has shape (1,) here, a graph's zero-dim shape.
def _swap_last(x):
    return _sym("SwapAxis", x, dim1=-1, dim2=-2)


def inv(a):
    """The inverse of each square matrix of `a`."""
    return _sym("_linalg_inverse", a)


def det(a):
    """The determinant of each square matrix of `a`."""
    return _sym("_linalg_det", a)


def slogdet(a):
    """(sign, log|det|) of each square matrix of `a`."""
    sign, logdet = _sym("_linalg_slogdet", a)
    return sign, logdet


def cholesky(a):
    """The lower Cholesky factor L (a = L L^T) of each symmetric positive definite matrix of `a`."""
    return _sym("_linalg_potrf", a)


def eigh(a, UPLO="L"):  # noqa: N803 - NumPy's name
    """(eigenvalues ascending, eigenvectors as columns) of each symmetric matrix of `a`."""
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    rows, values = _sym("_linalg_syevd", a)
    return values, _swap_last(rows)


def eigvalsh(a, UPLO="L"):  # noqa: N803 - NumPy's name
    return eigh(a, UPLO)[0]


def svd(a):
    """(ut, s, v) with a = ut @ diag(s) @ v for each (M, N) matrix of `a`, M <= N (MXNet's `svd`; a taller
    matrix, which the array form decomposes through its transpose, is an error when the graph runs)."""
    ut, s, v = _sym("_npi_svd", a)
    return ut, s, v


def pinv(a, rcond=1e-15, hermitian=False):
    """The Moore-Penrose pseudo-inverse of each (M, N) matrix of `a` (M <= N), from its SVD: singular values up to
    `rcond` (a number) times the largest count as zero."""
    if not isinstance(rcond, numbers.Number):
        raise NotImplementedError("np.linalg.pinv of a Symbol: rcond must be a number, got %s"
                                  % type(rcond).__name__)
    ut, s, v = svd(a)
    threshold = _sym("_mul_scalar", max(s, axis=-1, keepdims=True), scalar=float(rcond), is_int=False)
    kept = _sym("broadcast_greater", s, threshold)       # 1 where kept, in s's dtype
    inverse_s = _sym("broadcast_div", kept, s + (1 - kept))
    scaled_columns = _sym("broadcast_mul", _swap_last(v), _sym("expand_dims", inverse_s, axis=-2))
    return _sym("linalg_gemm2", scaled_columns, _swap_last(ut))


def solve(a, b):
    """x with a @ x = b for each square matrix of `a`, `b` one matrix (..., M, K) per matrix of `a` (NumPy's
    vector `b` of one axis fewer is not supported in a graph: its rank is unknown while tracing)."""
    return _sym("linalg_gemm2", inv(a), b)
