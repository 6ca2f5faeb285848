"""`mx.np.linalg` (dataflow/numpy/linalg.py over ops/decompositions.py) against NumPy on random well-conditioned
batches (hypothesis over batch shapes, zero-size ones included), decompositions checked by what defines them
(reconstruction, orthonormality; vector signs are arbitrary), gradients against numeric ones, and bad input."""
import numpy as onp
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from dataflow import np
from dataflow.base import MXNetError
from tests.numpy_func_cases import check, check_gradient

batches = st.lists(st.integers(0, 2), max_size=2).map(tuple)
unit = st.floats(-1, 1)


def square(data, batch, n, shift=None):
    """A well-conditioned float32 batch: uniform entries plus `shift` (n by default) times the identity."""
    x = data.draw(hnp.arrays(onp.float64, batch + (n, n), elements=unit))
    return (x + (n if shift is None else shift) * onp.eye(n)).astype(onp.float32)


def positive_definite(data, batch, n):
    b = data.draw(hnp.arrays(onp.float64, batch + (n, n), elements=unit))
    return (b @ onp.swapaxes(b, -1, -2) + onp.eye(n)).astype(onp.float32)


def mm(a, b):
    return onp.matmul(a.asnumpy().astype(onp.float64), b.asnumpy().astype(onp.float64))


@given(data=st.data(), batch=batches, n=st.integers(1, 4))
def test_inv_det_slogdet_solve(data, batch, n):
    x = square(data, batch, n)
    if data.draw(st.booleans()) and x.size:
        x[..., 0, :] *= -1
    a = np.array(x)
    check(np.linalg.inv(a), onp.linalg.inv(x), rtol=1e-4, atol=1e-4)
    check(np.linalg.det(a), onp.linalg.det(x), rtol=1e-4, atol=1e-4)
    sign, logdet = np.linalg.slogdet(a)
    check(sign, onp.linalg.slogdet(x)[0])
    check(logdet, onp.linalg.slogdet(x)[1], rtol=1e-4, atol=1e-4)
    b = data.draw(hnp.arrays(onp.float32, batch + (n, 2), elements=st.floats(-1, 1, width=32)))
    check(np.linalg.solve(a, np.array(b)), onp.linalg.solve(x, b), rtol=1e-4, atol=1e-4)
    check(np.linalg.solve(a, np.array(b[..., 0])), onp.linalg.solve(x, b[..., :1])[..., 0], rtol=1e-4, atol=1e-4)


@given(data=st.data(), batch=batches, n=st.integers(1, 4))
def test_cholesky_and_eigh(data, batch, n):
    x = positive_definite(data, batch, n)
    a = np.array(x)
    check(np.linalg.cholesky(a), onp.linalg.cholesky(x), rtol=1e-4, atol=1e-4)
    values, vectors = np.linalg.eigh(a)
    check(values, onp.linalg.eigvalsh(x), rtol=1e-4, atol=1e-4)
    check(np.linalg.eigvalsh(a), onp.linalg.eigvalsh(x), rtol=1e-4, atol=1e-4)
    v = vectors.asnumpy().astype(onp.float64)
    onp.testing.assert_allclose(onp.swapaxes(v, -1, -2) @ v, onp.broadcast_to(onp.eye(n), batch + (n, n)),
                                atol=1e-4)
    onp.testing.assert_allclose((v * values.asnumpy()[..., None, :]) @ onp.swapaxes(v, -1, -2), x, rtol=1e-3,
                                atol=1e-3)


@given(data=st.data(), batch=batches, m=st.integers(1, 4), n=st.integers(1, 4))
def test_svd_and_pinv(data, batch, m, n):
    x = data.draw(hnp.arrays(onp.float32, batch + (m, n), elements=st.floats(-1, 1, width=32)))
    a = np.array(x)
    ut, s, v = np.linalg.svd(a)
    k = min(m, n)
    assert ut.shape == batch + (m, k) and s.shape == batch + (k,) and v.shape == batch + (k, n)
    check(s, onp.linalg.svd(x, compute_uv=False), rtol=1e-4, atol=1e-4)
    check(np.linalg.svd(a, compute_uv=False), onp.linalg.svd(x, compute_uv=False), rtol=1e-4, atol=1e-4)
    onp.testing.assert_allclose((ut.asnumpy() * s.asnumpy()[..., None, :]) @ v.asnumpy(), x, atol=1e-4)
    check(np.linalg.pinv(a), onp.linalg.pinv(x), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("ord", [None, "fro", "nuc", 1, -1, 2, -2, onp.inf, -onp.inf])
@given(x=hnp.arrays(onp.float32, hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4),
                    elements=st.floats(-3, 3, width=32)), keepdims=st.booleans())
def test_matrix_norms(ord, x, keepdims):
    axes = (x.ndim - 2, x.ndim - 1)
    check(np.linalg.norm(np.array(x), ord, axis=axes, keepdims=keepdims),
          onp.linalg.norm(x, ord, axis=axes, keepdims=keepdims), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("ord", [None, 0, 1, 2, 3, 0.5, onp.inf, -onp.inf])
@given(x=hnp.arrays(onp.float32, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
                    elements=st.floats(0.25, 3, width=32)), data=st.data())
def test_vector_norms(ord, x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    check(np.linalg.norm(np.array(x), ord, axis=axis), onp.linalg.norm(x, ord, axis=axis), rtol=1e-4, atol=1e-4)


def test_composed_and_host_functions():
    rng = onp.random.RandomState(0)
    x = (rng.randn(2, 3, 3) + 3 * onp.eye(3)).astype(onp.float32)
    a = np.array(x)
    check(np.linalg.matrix_power(a, 3), onp.linalg.matrix_power(x, 3), rtol=1e-4, atol=1e-4)
    check(np.linalg.matrix_power(a, -2), onp.linalg.matrix_power(x, -2), rtol=1e-3, atol=1e-4)
    check(np.linalg.matrix_power(a, 0), onp.linalg.matrix_power(x, 0))
    check(np.linalg.multi_dot([a[0], a[1], np.array(x[0, 0])]), onp.linalg.multi_dot([x[0], x[1], x[0, 0]]),
          rtol=1e-4, atol=1e-4)
    t = rng.randn(6, 2, 3).astype(onp.float32)
    check(np.linalg.tensorinv(np.array(t), 1), onp.linalg.tensorinv(t, 1), rtol=1e-3, atol=1e-3)
    check(np.linalg.tensorsolve(np.array(t), np.array(x[0, :2].reshape(6))),
          onp.linalg.tensorsolve(t, x[0, :2].reshape(6)), rtol=1e-3, atol=1e-3)
    q, r = np.linalg.qr(a[0])
    onp.testing.assert_allclose(mm(q, r), x[0], atol=1e-5)
    check(np.linalg.matrix_rank(np.array(onp.ones((3, 3), onp.float32))), onp.int64(1))
    check(np.linalg.cond(a[0]), onp.linalg.cond(x[0]), rtol=1e-4)
    check(np.linalg.lstsq(a[0], np.array(x[1, 0]))[0], onp.linalg.lstsq(x[0], x[1, 0], rcond=None)[0],
          rtol=1e-4, atol=1e-5)
    symmetric = x[0] + x[0].T
    check(np.linalg.eigvals(np.array(symmetric)), onp.linalg.eigvals(symmetric), rtol=1e-4, atol=1e-4)


def test_bad_input_raises_numpy_error_kinds():
    with pytest.raises(np.linalg.LinAlgError, match="at least two-dimensional"):
        np.linalg.inv(np.ones(3))
    with pytest.raises(np.linalg.LinAlgError, match="square"):
        np.linalg.det(np.ones((2, 3)))
    with pytest.raises(ValueError):
        np.linalg.solve(np.eye(2), np.ones(3))
    with pytest.raises(ValueError, match="Invalid norm order"):
        np.linalg.norm(np.ones((2, 2)), "nuc", axis=0)
    with pytest.raises(MXNetError, match="_linalg_inverse.*[Ss]ingular"):
        np.linalg.inv(np.array([[1.0, 2.0], [2.0, 4.0]])).asnumpy()
    with pytest.raises(MXNetError, match="_linalg_potrf.*positive definite"):
        np.linalg.cholesky(np.array([[1.0, 2.0], [2.0, 1.0]])).asnumpy()
    with pytest.raises(TypeError, match="integer"):
        np.linalg.matrix_power(np.eye(2), 0.5)


def _spd(m, x):
    return m.matmul(x, x.T) + m.eye(3)


GRAD_CASES = {
    "inv": (lambda m, x: m.sum(m.linalg.inv(x + 3 * m.eye(3)) ** 2), (3, 3)),
    "det": (lambda m, x: m.linalg.det(x + 2 * m.eye(3)) ** 2, (3, 3)),
    "slogdet": (lambda m, x: m.linalg.slogdet(x + 2 * m.eye(3))[1] * 3, (3, 3)),
    "solve": (lambda m, x: m.sum(m.linalg.solve(x + 3 * m.eye(3), x[0]) ** 2), (3, 3)),
    "cholesky": (lambda m, x: m.sum(m.linalg.cholesky(_spd(m, x)) ** 2 * m.arange(9.0).reshape(3, 3)), (3, 3)),
    "eigh": (lambda m, x: m.sum(m.linalg.eigh(_spd(m, x))[0] * m.arange(3.0))
             + m.sum(m.linalg.eigh(_spd(m, x))[1][:, 0] ** 2 * m.arange(3.0)), (3, 3)),
    "svd_values": (lambda m, x: m.sum(m.linalg.svd(x, compute_uv=False) * m.arange(1.0, 3.0)), (2, 4)),
    "pinv": (lambda m, x: m.sum(m.linalg.pinv(x) ** 2), (2, 3)),
    "norm_nuc_2": (lambda m, x: m.linalg.norm(x, "nuc") + m.linalg.norm(x, 2) ** 2, (3, 2)),
    "matrix_power": (lambda m, x: m.sum(m.linalg.matrix_power(x, 3)), (3, 3)),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradients_equal_numeric(name):
    f, shape = GRAD_CASES[name]
    check_gradient(f, shape, rtol=2e-3, atol=2e-3)
