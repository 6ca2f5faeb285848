"""`mx.np.linalg`: norms, and the decompositions on the registry's `_linalg_*` / `_npi_svd` ops
(ops/decompositions.py), differentiable as MXNet's are; the rest composed of them (`solve` is inv(a) @ b, `pinv`
from the SVD) or, where MXNet 1.9.1 falls back to NumPy itself (`qr`, `matrix_rank`, `cond`, `lstsq`, `eig`,
`eigvals`), computed on the host without a gradient. Inputs are float32 or float64, batched over leading axes."""
import numbers

import numpy as onp

from .contraction import _batched_product, dot
from .functions import _array, _host, _no_elements, abs, max, min, sqrt, sum  # noqa: A004 - NumPy's names
from .manipulation import tril, triu
from .multiarray import _np, _op, reshape_to

__all__ = ["norm", "svd", "cholesky", "inv", "det", "slogdet", "solve", "tensorinv", "tensorsolve", "pinv",
           "eigvals", "eig", "eigvalsh", "eigh", "qr", "matrix_rank", "cond", "lstsq", "matrix_power", "multi_dot"]

LinAlgError = onp.linalg.LinAlgError


def _matrices(a, name, square=True):
    a = _array(a)
    if a.ndim < 2:
        raise LinAlgError("%d-dimensional array given. Array must be at least two-dimensional" % a.ndim)
    if square and a.shape[-1] != a.shape[-2]:
        raise LinAlgError("Last 2 dimensions of the array must be square")
    if a.dtype.kind != "f":
        a = a.astype(onp.float32)
    return a


def _batch_result(x, a):
    """A per-matrix result (legacy shape: (1,) for one matrix) in the batch's shape, () for one matrix."""
    return reshape_to(x, a.shape[:-2])


def _swap_last(x):
    return _np(_op("SwapAxis", x, dim1=x.ndim - 1, dim2=x.ndim - 2))


def _matmul(a, b):
    """a (..., m, k) @ b (..., k, n) over equal leading axes."""
    return _batched_product(a, b, a.shape[:-2], a.shape[-2:-1], a.shape[-1:], b.shape[-1:])


# -- norms -----------------------------------------------------------------------------------------------------------
def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's name
    """Vector norms (ord None/2, 1, inf, -inf, 0, or any p) along one axis, and matrix norms ('fro', 'nuc', 1, -1,
    2, -2, inf, -inf) over two axes (a 2-D `x` with `ord` given and no axis is one matrix); with neither `ord` nor
    `axis`, the 2-norm of the flattened `x`."""
    x = _array(x)
    ord = {"inf": onp.inf, "-inf": -onp.inf}.get(ord, ord) if isinstance(ord, str) else ord  # MXNet takes both
    if axis is None and (ord is None or x.ndim == 1):
        axis = tuple(range(x.ndim)) if ord is None else (0,)
    elif axis is None:
        if x.ndim != 2:
            raise ValueError("Improper number of dimensions to norm.")
        axis = (0, 1)
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    if len(axes) == 2 and ord is not None:
        return _matrix_norm(x, ord, axes, keepdims)
    if len(axes) != 1 and ord not in (None, "fro"):
        raise ValueError("Invalid norm order %r for vectors" % (ord,))
    magnitude = abs(x)
    if ord in (None, 2, "fro"):
        return sqrt(sum(x * x, axis=axes, keepdims=keepdims))
    if ord == onp.inf:
        return max(magnitude, axis=axes, keepdims=keepdims)
    if ord == -onp.inf:
        return min(magnitude, axis=axes, keepdims=keepdims)
    if ord == 0:
        return sum((x != 0).astype(x.dtype), axis=axes, keepdims=keepdims)
    if ord == 1:
        return sum(magnitude, axis=axes, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError("Invalid norm order %r for vectors" % (ord,))
    return sum(magnitude ** ord, axis=axes, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):  # noqa: A002
    rows, cols = (a % x.ndim for a in axes)
    if rows == cols:
        raise ValueError("Duplicate axes given.")
    if ord == "fro":
        result = sqrt(sum(x * x, axis=(rows, cols)))
    elif ord in ("nuc", 2, -2):
        rest = [a for a in range(x.ndim) if a not in (rows, cols)]
        values = svd(x.transpose(rest + [rows, cols]), compute_uv=False)
        result = sum(values, axis=-1) if ord == "nuc" else (max if ord == 2 else min)(values, axis=-1)
    elif ord in (1, -1, onp.inf, -onp.inf):
        summed, over = (rows, cols) if ord in (1, -1) else (cols, rows)
        lines = sum(abs(x), axis=summed, keepdims=True)
        result = (max if ord > 0 else min)(lines, axis=(over,), keepdims=True)
        result = reshape_to(result, tuple(d for i, d in enumerate(result.shape) if i not in (rows, cols)))
    else:
        raise ValueError("Invalid norm order %r for matrices" % (ord,))
    if keepdims:
        shape = tuple(1 if i in (rows, cols) else d for i, d in enumerate(x.shape))
        result = reshape_to(result, shape)
    return result


# -- decompositions --------------------------------------------------------------------------------------------------
def inv(a):
    """The inverse of each square matrix of `a`."""
    return _np(_op("_linalg_inverse", _matrices(a, "inv")))


def det(a):
    """The determinant of each square matrix of `a`."""
    a = _matrices(a, "det")
    return _batch_result(_np(_op("_linalg_det", a)), a)


def slogdet(a):
    """(sign, log|det|) of each square matrix of `a`."""
    a = _matrices(a, "slogdet")
    sign, logdet = _np(_op("_linalg_slogdet", a))
    return _batch_result(sign, a), _batch_result(logdet, a)


def cholesky(a):
    """The lower Cholesky factor L (a = L L^T) of each symmetric positive definite matrix of `a`."""
    return _np(_op("_linalg_potrf", _matrices(a, "cholesky")))


def eigh(a, UPLO="L"):  # noqa: N803 - NumPy's name
    """(eigenvalues ascending, eigenvectors as columns) of each symmetric matrix of `a`, read from its lower
    (`UPLO='L'`) or upper triangle, as NumPy's and MXNet's."""
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    a = _matrices(a, "eigh")
    if not a.size:
        return _no_elements(a.shape[:-1], a), _no_elements(a.shape, a)
    if UPLO == "L":
        a = tril(a) + _swap_last(tril(a, -1))
    else:
        a = triu(a) + _swap_last(triu(a, 1))
    rows, values = _np(_op("_linalg_syevd", a))
    return values, _swap_last(rows)


def eigvalsh(a, UPLO="L"):  # noqa: N803 - NumPy's name
    return eigh(a, UPLO)[0]


def svd(a, compute_uv=True):
    """(ut, s, v) with a = ut @ diag(s) @ v for each (M, N) matrix of `a`, s descending. MXNet's takes M <= N; a
    taller matrix is decomposed through its transpose here."""
    a = _matrices(a, "svd", square=False)
    if not a.size and a.shape[-2] <= a.shape[-1]:     # nothing to decompose (MXNet's shapes; a taller one: below)
        batch, m = a.shape[:-2], a.shape[-2]
        result = (_no_elements(batch + (m, m), a), _no_elements(batch + (m,), a), _no_elements(a.shape, a))
    elif a.shape[-2] > a.shape[-1]:
        v, s, ut = svd(_swap_last(a))
        result = (_swap_last(ut), s, _swap_last(v))
    else:
        result = tuple(_np(_op("_npi_svd", a)))
    return result if compute_uv else result[1]


def pinv(a, rcond=1e-15, hermitian=False):
    """The Moore-Penrose pseudo-inverse, from the SVD: singular values up to rcond * the largest count as 0."""
    a = _matrices(a, "pinv", square=False)
    ut, s, v = svd(a)
    largest = max(s, axis=-1, keepdims=True)
    kept = s > largest * (rcond if isinstance(rcond, numbers.Number) else _array(rcond)[..., None])
    inverse_s = kept.astype(s.dtype) / (s + (1 - kept.astype(s.dtype)))
    return _matmul(_swap_last(v) * reshape_to(inverse_s, inverse_s.shape[:-1] + (1, s.shape[-1])), _swap_last(ut))


def solve(a, b):
    """x with a @ x = b for each square matrix of `a` (`b` one vector or matrix per matrix of `a`)."""
    a = _matrices(a, "solve")
    b = _array(b).astype(a.dtype, copy=False)
    vector = b.ndim == a.ndim - 1
    columns = reshape_to(b, b.shape + (1,)) if vector else b
    if columns.shape[:-1] != a.shape[:-1]:
        raise ValueError("solve: a of shape %s and b of shape %s do not match" % (a.shape, b.shape))
    x = _matmul(inv(a), columns)
    return reshape_to(x, b.shape) if vector else x


def tensorinv(a, ind=2):
    """The inverse of `a` as a tensor with its first `ind` axes against the rest."""
    a = _array(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    rows, cols = a.shape[:ind], a.shape[ind:]
    n = int(onp.prod(rows))
    if n != int(onp.prod(cols)):
        raise LinAlgError("Last 2 dimensions of the array must be square")
    return reshape_to(inv(reshape_to(a, (n, -1))), cols + rows)


def tensorsolve(a, b, axes=None):
    """x with tensordot(a, x, x.ndim) = b. MXNet's x has a's last a.ndim - b.ndim axes, and all of a's when
    a.ndim == b.ndim (its slice `[-(a.ndim - b.ndim):]`, kept as is)."""
    a, b = _array(a), _array(b)
    if axes is not None:
        order = [i for i in range(a.ndim) if i not in [k % a.ndim for k in axes]] + [k % a.ndim for k in axes]
        a = a.transpose(order)
    unknown = a.shape[-(a.ndim - b.ndim):]
    n = int(onp.prod(b.shape))
    return reshape_to(solve(reshape_to(a, (n, -1)), reshape_to(b, (n,))), unknown)


def matrix_power(a, n):
    """a @ a @ ... (`n` times; the inverse's powers for negative `n`, the identity for 0), by squaring."""
    a = _matrices(a, "matrix_power")
    if not isinstance(n, numbers.Integral):
        raise TypeError("exponent must be an integer")
    if n == 0:
        return _host(onp.broadcast_to(onp.eye(a.shape[-1]), a.shape), a.dtype, a.context)
    base, n = (inv(a), -n) if n < 0 else (a, n)
    result = None
    while n:
        if n & 1:
            result = base if result is None else _matmul(result, base)
        n >>= 1
        if n:
            base = _matmul(base, base)
    return result


def multi_dot(arrays):
    """The product of the matrices in order (the first may be a vector, as the last)."""
    arrays = [_array(a) for a in arrays]
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    result = arrays[0]
    for a in arrays[1:]:
        result = dot(result, a)
    return result


# -- NumPy on the host (MXNet 1.9.1's fallbacks; no gradient) -------------------------------------------------------
def _host_result(values, like):
    if isinstance(values, tuple):
        return tuple(_host_result(v, like) for v in values)
    values = onp.asarray(values)
    return _host(values, like.dtype if values.dtype.kind == "f" else values.dtype, like.context)


def qr(a, mode="reduced"):
    a = _matrices(a, "qr", square=False)
    return _host_result(onp.linalg.qr(a.asnumpy(), mode=mode), a)


def matrix_rank(M, tol=None, hermitian=False):  # noqa: N803 - NumPy's name
    a = _array(M)
    return _host(onp.asarray(onp.linalg.matrix_rank(a.asnumpy(), tol, hermitian)), onp.int64, a.context)


def cond(x, p=None):
    a = _matrices(x, "cond", square=False)
    return _host_result(onp.linalg.cond(a.asnumpy(), p), a)


def lstsq(a, b, rcond="warn"):
    a = _matrices(a, "lstsq", square=False)
    solution, residuals, rank, values = onp.linalg.lstsq(a.asnumpy(), _array(b).asnumpy(),
                                                         rcond=None if rcond == "warn" else rcond)
    return (_host_result(solution, a), _host_result(residuals, a), _host(onp.asarray(rank), onp.int64, a.context),
            _host_result(values, a))


def eig(a):
    """(eigenvalues, eigenvectors as columns) of each square matrix of `a`; real ones only, as MXNet's."""
    a = _matrices(a, "eig")
    values, vectors = onp.linalg.eig(a.asnumpy())
    if onp.iscomplexobj(values) and onp.any(values.imag):
        raise LinAlgError("eig: the matrix has complex eigenvalues, which mx.np does not represent")
    return _host_result(values.real, a), _host_result(vectors.real, a)


def eigvals(a):
    return eig(a)[0]
