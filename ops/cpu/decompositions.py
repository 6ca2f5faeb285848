"""CPU kernels of the matrix decompositions (ops/decompositions.py): numpy.linalg (LAPACK) batched over the leading
axes, and their gradients written out with numpy. Each writes its outputs with `assign` (req honoured).
potrf and syevd read the symmetric part of A (LAPACK reads one triangle of a matrix assumed symmetric; the
symmetric part makes the result, and so the numeric gradient, depend on both). Eigenvectors and singular vectors
are signed so that each one's largest-magnitude component is positive (`signed_columns`).

The gradient formulas (X^-T is the inverse transposed, sym(X) = (X + X^T) / 2, all per matrix of the batch):
- inverse Y = A^-1:           dA = -Y^T dY Y^T
- det d = det(A):             dA = dd * d * A^-T
- slogdet (s, l):             dA = dl * A^-T (the sign has no gradient)
- potrf L (A = L L^T):        dA = sym(L^-T Phi(L^T dL) L^-1), Phi the lower triangle with a halved diagonal
- syevd (U rows = eigenvectors, lambda ascending; A = U^T diag(lambda) U), with V = U^T:
                              dA = sym(V (diag(dlambda) + F o (V^T dV)) V^T), F_ij = 1 / (lambda_j - lambda_i) off
                              the diagonal, 0 on it
- svd (A = UT diag(s) V, M <= N rows; Townsend 2016, with U = UT, W = V^T and F_ij = 1 / (s_j^2 - s_i^2)):
    dA = U [diag(ds) + (F o (U^T dU - dU^T U)) S + S (F o (W^T dW - dW^T W))] W^T + U S^-1 dW^T (I - W W^T)
"""
import numpy as np

from ..errors import MXNetError
from .common import assign


def _t(x):
    return np.swapaxes(x, -1, -2)


def _lapack(name, fn, *args):
    try:
        return fn(*args)
    except np.linalg.LinAlgError as err:
        raise MXNetError("%s: %s (a singular or not positive definite input matrix)" % (name, err)) from None


def _batch_shape(x, out):
    """The batch result of `x` in the output's shape (legacy: (1,) for a single matrix)."""
    return np.asarray(x).reshape(out.shape)


# ---- inverse, det, slogdet ------------------------------------------------------------------------------------
def linalg_inverse(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], _lapack("_linalg_inverse", np.linalg.inv, inputs[0]).astype(outputs[0].dtype))


def backward_linalg_inverse(ctx, p, inputs, outputs, req):
    dy, y = inputs
    assign(outputs[0], req[0], -(_t(y) @ dy @ _t(y)))


def linalg_det(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], _batch_shape(np.linalg.det(inputs[0]), outputs[0]).astype(outputs[0].dtype))


def backward_linalg_det(ctx, p, inputs, outputs, req):
    dd, a, d = inputs
    scale = (dd * d).reshape(a.shape[:-2] + (1, 1))
    assign(outputs[0], req[0], scale * _t(_lapack("_backward_linalg_det", np.linalg.inv, a)))


def linalg_slogdet(ctx, p, inputs, outputs, req):
    sign, logdet = np.linalg.slogdet(inputs[0])
    assign(outputs[0], req[0], _batch_shape(sign, outputs[0]).astype(outputs[0].dtype))
    assign(outputs[1], req[1], _batch_shape(logdet, outputs[1]).astype(outputs[1].dtype))


def backward_linalg_slogdet(ctx, p, inputs, outputs, req):
    dlogdet, a = inputs
    scale = dlogdet.reshape(a.shape[:-2] + (1, 1))
    assign(outputs[0], req[0], scale * _t(_lapack("_backward_linalg_slogdet", np.linalg.inv, a)))


# ---- potrf (Cholesky) -------------------------------------------------------------------------------------------
def _sym(x):
    return (x + _t(x)) / 2


def linalg_potrf(ctx, p, inputs, outputs, req):
    factor = _lapack("_linalg_potrf", np.linalg.cholesky, _sym(inputs[0]))
    assign(outputs[0], req[0], factor.astype(outputs[0].dtype))


def backward_linalg_potrf(ctx, p, inputs, outputs, req):
    dl, low = inputs
    phi = np.tril(_t(low) @ dl)
    n = low.shape[-1]
    phi[..., np.arange(n), np.arange(n)] /= 2
    low_inv = _lapack("_backward_linalg_potrf", np.linalg.inv, low)
    assign(outputs[0], req[0], _sym(_t(low_inv) @ phi @ low_inv))


# ---- syevd (symmetric eigendecomposition) ------------------------------------------------------------------------
def signed_columns(vectors):
    """The sign each column of `vectors` is multiplied by so that its largest-magnitude component is positive
    (LAPACK's signs are arbitrary; this fixes one)."""
    if vectors.size == 0:                   # no components to look at (empty matrices or batches)
        return np.ones(vectors.shape[:-2] + (1, vectors.shape[-1]), vectors.dtype)
    rows = np.argmax(np.abs(vectors), axis=-2)[..., None, :]
    return np.where(np.take_along_axis(vectors, rows, axis=-2) < 0, -1, 1).astype(vectors.dtype)


def linalg_syevd(ctx, p, inputs, outputs, req):
    values, vectors = np.linalg.eigh(_sym(inputs[0]))
    vectors = vectors * signed_columns(vectors)
    assign(outputs[0], req[0], _t(vectors).astype(outputs[0].dtype))       # eigenvectors as rows
    assign(outputs[1], req[1], values.astype(outputs[1].dtype))


def _gaps(values, squared=False):
    """F_ij = 1 / (v_j - v_i) off the diagonal (v squared when asked), 0 on it and at equal values."""
    v = values * values if squared else values
    gaps = v[..., None, :] - v[..., :, None]
    with np.errstate(divide="ignore"):
        inverse = np.where(gaps == 0, 0, 1 / np.where(gaps == 0, 1, gaps))
    return inverse


def backward_linalg_syevd(ctx, p, inputs, outputs, req):
    du, dlam, u, lam = inputs
    v, dv = _t(u), _t(du)
    inner = _gaps(lam) * (_t(v) @ dv)
    n = lam.shape[-1]
    inner[..., np.arange(n), np.arange(n)] += dlam
    assign(outputs[0], req[0], _sym(v @ inner @ _t(v)))


# ---- svd (numpy mode's _npi_svd) ---------------------------------------------------------------------------------
def npi_svd(ctx, p, inputs, outputs, req):
    u, s, vt = np.linalg.svd(inputs[0], full_matrices=False)
    signs = signed_columns(u)
    u, vt = u * signs, vt * _t(signs)
    for out, r, value in zip(outputs, req, (u, s, vt)):
        assign(out, r, value.astype(out.dtype))


def backward_npi_svd(ctx, p, inputs, outputs, req):
    du, ds, dvt, a, u, s, vt = inputs
    w, dw = _t(vt), _t(dvt)
    f = _gaps(s, squared=True)
    s_mat = s[..., :, None] * np.eye(s.shape[-1], dtype=s.dtype)
    inner = f * (_t(u) @ du - _t(du) @ u) @ s_mat + s_mat @ (f * (_t(w) @ dw - _t(dw) @ w))
    inner = inner + ds[..., :, None] * np.eye(s.shape[-1], dtype=s.dtype)
    grad = u @ inner @ _t(w)
    with np.errstate(divide="ignore", invalid="ignore"):
        s_inv = np.where(s == 0, 0, 1 / np.where(s == 0, 1, s))
    away = dw - w @ (_t(w) @ dw)           # (I - W W^T) dW
    grad = grad + u @ (s_inv[..., :, None] * _t(away))
    assign(outputs[0], req[0], grad)
