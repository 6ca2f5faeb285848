"""Op spec rows for the matrix decompositions (ops/decompositions.py): inverse, det, slogdet, potrf, syevd and
numpy mode's svd; see tests/op_specs.py. References are SciPy's LAPACK wrappers (scipy.linalg), an implementation
apart from the kernels' numpy.linalg; vectors are signed as the kernels sign them (largest component positive).

Samplers draw well-conditioned matrices (the gradient check's central differences need it): a random matrix
(entries in [-1, 1]) plus n + 1 times the identity, strictly diagonally dominant (inverse, det, slogdet; a row
negated sometimes, for a negative determinant), B B^T + I (potrf), Q diag(distinct eigenvalues) Q^T (syevd) and
a product with distinct singular values (svd). Shapes and the error cases were checked on MXNet 1.9.1 (det of one
matrix is (1,); svd wants M <= N).
Import tests.op_specs, never this module first (op_specs appends these rows at its end).
"""
import numpy as np
import scipy.linalg as sl
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ops.errors import DTypeError, ShapeError
from tests.op_specs import Err, OpSpec, Shp

F32_F64 = ("float32", "float64")
_TOL = {"float32": (2e-4, 2e-4), "float64": (1e-9, 1e-9)}


# ---- samplers ---------------------------------------------------------------------------------------------------
def _batch(draw):
    return tuple(draw(st.lists(st.integers(1, 2), max_size=2)))


def _uniform(draw, shape, lo=-1.0, hi=1.0):
    return draw(hnp.arrays(np.float64, shape, elements=st.floats(lo, hi)))


def _orthogonal(draw, n, batch):
    return np.linalg.qr(_uniform(draw, batch + (n, n)) + 2 * np.eye(n))[0]


def general_sample(draw, dtype):
    n = draw(st.integers(1, 4))
    batch = _batch(draw)
    a = _uniform(draw, batch + (n, n)) + (n + 1) * np.eye(n)      # strictly diagonally dominant: invertible
    if draw(st.booleans()):
        a[..., 0, :] *= -1
    return {}, [a.astype(dtype)]


def positive_definite_sample(draw, dtype):
    n = draw(st.integers(1, 4))
    b = _uniform(draw, _batch(draw) + (n, n))
    return {}, [(b @ np.swapaxes(b, -1, -2) + np.eye(n)).astype(dtype)]


def symmetric_sample(draw, dtype):
    n = draw(st.integers(1, 4))
    batch = _batch(draw)
    q = _orthogonal(draw, n, batch)
    values = np.arange(n) * 1.5 - 1.0 + _uniform(draw, batch + (n,), 0.0, 0.5)
    return {}, [((q * values[..., None, :]) @ np.swapaxes(q, -1, -2)).astype(dtype)]


def svd_sample(draw, dtype):
    m = draw(st.integers(1, 3))
    n = draw(st.integers(m, 4))
    batch = _batch(draw)
    values = np.arange(m, 0, -1) * 1.5 + _uniform(draw, batch + (m,), 0.0, 0.5)
    u = _orthogonal(draw, m, batch)
    v = _orthogonal(draw, n, batch)[..., :m, :]
    return {}, [((u * values[..., None, :]) @ v).astype(dtype)]


# ---- references (per matrix, with SciPy) --------------------------------------------------------------------------
def _per_matrix(fn, a):
    """fn applied to each matrix of the batch `a`, the results stacked (one array per output)."""
    batch = a.shape[:-2]
    results = [fn(a[i]) for i in np.ndindex(*batch)] if batch else [fn(a)]
    results = [r if isinstance(r, tuple) else (r,) for r in results]
    return tuple(np.array([r[k] for r in results]).reshape(batch + np.shape(results[0][k]))
                 for k in range(len(results[0])))


def _signed(vectors):
    """Columns signed so that each one's largest-magnitude component is positive."""
    rows = np.argmax(np.abs(vectors), axis=0)
    return np.where(vectors[rows, np.arange(vectors.shape[1])] < 0, -1, 1)


def _det_shape(x, a):
    return x.reshape(a.shape[:-2] or (1,)).astype(a.dtype)


def inverse_ref(p, a):
    return _per_matrix(sl.inv, a)[0].astype(a.dtype)


def det_ref(p, a):
    return _det_shape(_per_matrix(sl.det, a.astype(np.float64))[0], a)


def slogdet_ref(p, a):
    det = _per_matrix(sl.det, a.astype(np.float64))[0]
    return _det_shape(np.sign(det), a), _det_shape(np.log(np.abs(det)), a)


def potrf_ref(p, a):
    return _per_matrix(lambda m: sl.cholesky(m, lower=True), a.astype(np.float64))[0].astype(a.dtype)


def syevd_ref(p, a):
    def one(m):
        values, vectors = sl.eigh((m + m.T) / 2)
        return (vectors * _signed(vectors)).T, values
    u, values = _per_matrix(one, a.astype(np.float64))
    return u.astype(a.dtype), values.astype(a.dtype)


def svd_ref(p, a):
    def one(m):
        u, s, vt = sl.svd(m, full_matrices=False)
        signs = _signed(u)
        return u * signs, s, vt * signs[:, None]
    return tuple(x.astype(a.dtype) for x in _per_matrix(one, a.astype(np.float64)))


_NOT_SQUARE = Err({}, ((2, 3),), match=r"square.*\[2,3\]")
_VECTOR = Err({}, ((3,),), match=r"2 dimensions.*\[3\]")
_INT = Err({}, dtypes=("int32",), exc=DTypeError, match="int32")

SPECS = [
    OpSpec("_linalg_inverse", inverse_ref, general_sample, dtypes=F32_F64, aliases=("linalg_inverse",), tol=_TOL,
           grad=True, errors=(_NOT_SQUARE, _VECTOR, _INT), shapes=(Shp({}, ((2, 3, 3),), ((2, 3, 3),)),)),
    OpSpec("_linalg_det", det_ref, general_sample, dtypes=F32_F64, aliases=("linalg_det",), tol=_TOL, grad=True,
           errors=(_NOT_SQUARE, _VECTOR, _INT),
           shapes=(Shp({}, ((2, 2),), ((1,),)), Shp({}, ((3, 2, 2),), ((3,),)))),
    OpSpec("_linalg_slogdet", slogdet_ref, general_sample, dtypes=F32_F64, aliases=("linalg_slogdet",), tol=_TOL,
           grad=True, errors=(_NOT_SQUARE, _INT), shapes=(Shp({}, ((2, 2),), ((1,), (1,))),)),
    OpSpec("_linalg_potrf", potrf_ref, positive_definite_sample, dtypes=F32_F64, aliases=("linalg_potrf",),
           tol=_TOL, grad=True, errors=(_NOT_SQUARE, _INT), shapes=(Shp({}, ((4, 3, 3),), ((4, 3, 3),)),)),
    OpSpec("_linalg_syevd", syevd_ref, symmetric_sample, dtypes=F32_F64, aliases=("linalg_syevd",), tol=_TOL,
           grad=True, errors=(_NOT_SQUARE, _INT), shapes=(Shp({}, ((2, 3, 3),), ((2, 3, 3), (2, 3))),)),
    OpSpec("_npi_svd", svd_ref, svd_sample, dtypes=F32_F64, tol=_TOL, grad=True,
           errors=(Err({}, ((3, 2),), exc=ShapeError, match=r"M <= N.*\[3,2\]"), _INT),
           shapes=(Shp({}, ((2, 3),), ((2, 2), (2,), (2, 3))), Shp({}, ((4, 1, 3),), ((4, 1, 1), (4, 1), (4, 1, 3))))),
]

EXEMPT = {name: "internal to %s's gradient; checked through it (grad=True)" % name.replace("_backward", "")
          for name in ("_backward_linalg_inverse", "_backward_linalg_det", "_backward_linalg_slogdet",
                       "_backward_linalg_potrf", "_backward_linalg_syevd", "_backward_npi_svd")}
