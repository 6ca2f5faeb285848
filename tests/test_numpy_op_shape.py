"""`mx.np` / `mx.npx` shape, linalg, sorting and random functions found wrong by MXNet's own test_numpy_op.py (shape
half, issue 23), each checked here against an independent truth: NumPy, a numeric fact (a gradient of zero for
inputs that reach no output element), or MXNet 1.9.1 itself (tests/fixtures/mxnet-1.9.1/np_shape/, recorded by
reference/np_shape_fixtures.py) where MXNet's numpy mode differs from NumPy."""
import builtins
import json
import os

import numpy as onp
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import dataflow as mx
from dataflow import np, npx
from ops.errors import MXNetError

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "np_shape")
with open(os.path.join(FIXTURES, "cases.json")) as _fh:
    CASES = json.load(_fh)


def decoded(encoded):
    return onp.array(encoded["data"], dtype=encoded["dtype"]).reshape(encoded["shape"])


def case_names(prefix):
    return sorted(name for name in CASES if name.startswith(prefix))


def check_outcome(name, call):
    """`call()` gives MXNet's recorded array (shape, dtype, values) or raises its recorded exception class."""
    expected = CASES[name]["outputs"]
    if "error" in expected:
        error = MXNetError if expected["error"] == "MXNetError" else getattr(builtins, expected["error"])
        with pytest.raises(error):
            call().asnumpy()
        return
    out = call()
    want = decoded(expected)
    assert out.shape == want.shape
    assert out.dtype == want.dtype
    onp.testing.assert_allclose(out.asnumpy(), want, rtol=1e-5, atol=1e-6)


# -- results with no elements still reach their inputs (a zero gradient, no "not in a graph" error) -------------------
@pytest.mark.parametrize("make", [
    lambda x: np.broadcast_to(x[:1, :1], (2, 4, 0)),
    lambda x: np.concatenate([x[:0], x[:0]], axis=0),
    lambda x: np.split(x, [0, 0], axis=0)[0],
    lambda x: np.take(x, onp.zeros((0,), onp.int64), axis=1),
    lambda x: np.linalg.svd(np.ones((2, 0, 3, 3)) * x.sum())[1],
], ids=["broadcast_to", "concatenate", "split", "take", "svd"])
def test_an_empty_result_is_recorded_and_gives_a_zero_gradient(make):
    x = np.array(onp.arange(6, dtype=onp.float32).reshape(3, 2) - 2.5)
    x.attach_grad()
    with mx.autograd.record():
        y = make(x)
    assert y.size == 0
    y.backward()
    onp.testing.assert_array_equal(x.grad.asnumpy(), onp.zeros((3, 2), onp.float32))


def test_concatenate_of_empty_operands_reaches_each_of_them():
    a, b = np.ones((0, 3)), np.ones((0, 3))
    b.attach_grad()
    with mx.autograd.record():
        y = np.concatenate([a, b], axis=0)
    y.backward()        # only b asks for a gradient: it must still be in the graph
    assert b.grad.shape == (0, 3)


# -- manipulation -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", case_names("broadcast_to_"))
def test_broadcast_to_takes_npx_minus_two_as_mxnet(name):
    inputs = CASES[name]["inputs"]
    check_outcome(name, lambda: np.broadcast_to(np.array(decoded(inputs["a"])), tuple(inputs["shape"])))


@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3), data=st.data())
@settings(deadline=None, max_examples=25)
def test_transpose_takes_negative_axes_as_numpy(shape, data):
    axes = data.draw(st.permutations(range(len(shape))))
    negative = [a - len(shape) if data.draw(st.booleans()) else a for a in axes]
    x = onp.random.RandomState(1).uniform(size=shape).astype(onp.float32)
    onp.testing.assert_array_equal(np.array(x).transpose(negative).asnumpy(), x.transpose(negative))


def test_squeeze_of_a_zero_dim_array_takes_axis_0_and_minus_1():
    check_outcome("squeeze_zero_dim_axis_minus1", lambda: np.squeeze(np.array(1.5), -1))
    assert np.squeeze(np.array(2.0), 0).shape == onp.squeeze(onp.array(2.0), 0).shape
    with pytest.raises(getattr(onp, "exceptions", onp).AxisError):  # numpy.exceptions: NumPy >= 1.25
        np.squeeze(np.array(2.0), 1)


@pytest.mark.parametrize("name", case_names("delete_"))
def test_delete_ignores_negative_and_out_of_bounds_index_array_entries(name):
    inputs = CASES[name]["inputs"]
    obj = inputs["obj"]
    obj = np.array(decoded(obj)) if isinstance(obj, dict) else obj
    check_outcome(name, lambda: np.delete(np.array(decoded(inputs["a"])), obj, axis=inputs["axis"]))


@pytest.mark.parametrize("name, call", [
    ("transpose_negative", lambda: np.array(decoded(CASES["transpose_negative"]["inputs"]["a"])).transpose((-1, 1, 0))),
    ("transpose_repeated", lambda: np.ones((3, 4)).transpose((0, 0))),
    ("transpose_out_of_range", lambda: np.ones((3, 4)).transpose((0, 2))),
    ("trace_zero_dim", lambda: np.trace(np.array(1.0))),
    ("trace_one_dim", lambda: np.trace(np.ones(2))),
    ("trace_same_axes", lambda: np.trace(np.ones((3, 2, 2)), axis1=1, axis2=1)),
    ("trace_axis_out_of_range", lambda: np.trace(np.ones((3, 2, 2)), axis1=0, axis2=-4)),
    ("eye_negative", lambda: np.eye(-1)),
    ("eye_negative_m", lambda: np.eye(1, -1)),
    ("diag_empty_k2", lambda: np.diag(np.array(()), 2)),
    ("diag_empty_k-3", lambda: np.diag(np.array(()), -3)),
    ("nonzero_zero_dim", lambda: npx.nonzero(np.array(5.0))),
    ("nonzero_zero_dim_false", lambda: npx.nonzero(np.array(0.0))),
    ("nonzero_2d", lambda: npx.nonzero(np.array([[0.0, 1.0], [2.0, 0.0]]))),
    ("einsum_broadcast", lambda: np.einsum("ij, ij -> i", np.array([[1.0, 2.0, 3.0]]),
                                           np.array([[1.0, 1.0, 1.0], [2.0, 0.0, -1.0]]))),
    ("unique_inverse_flat", lambda: np.unique(np.array([[3.0, 1.0], [1.0, 2.0]]), return_inverse=True)[1]),
])
def test_manipulation_edge_cases_as_mxnet(name, call):
    check_outcome(name, call)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), data=st.data())
@settings(deadline=None, max_examples=25)
def test_einsum_broadcasts_size_one_labels_with_numpy_gradients(shape, data):
    ones = tuple(1 if data.draw(st.booleans()) else d for d in shape)
    labels = "abc"[:len(shape)]
    rs = onp.random.RandomState(2)
    a, b = rs.uniform(-1, 1, ones).astype(onp.float64), rs.uniform(-1, 1, shape).astype(onp.float64)
    x, y = np.array(a), np.array(b)
    x.attach_grad()
    with mx.autograd.record():
        out = np.einsum("%s,%s->%s" % (labels, labels, labels[0]), x, y)
    onp.testing.assert_allclose(out.asnumpy(), onp.einsum("%s,%s->%s" % (labels, labels, labels[0]), a, b),
                                rtol=1e-10)
    out.backward()
    # d/da of sum_rest(a*b) over the broadcast axes: b summed down to a's shape
    expected = onp.broadcast_to(b, shape)
    axes = tuple(i for i, (m, n) in enumerate(zip(ones, shape)) if m == 1 and n != 1)
    onp.testing.assert_allclose(x.grad.asnumpy(), expected.sum(axis=axes, keepdims=True), rtol=1e-10)


def test_diag_of_an_empty_vector_off_the_diagonal_is_zeros_with_an_empty_gradient():
    v = np.array(onp.zeros((0,), onp.int8))
    v.attach_grad()
    with mx.autograd.record():
        d = np.diag(v, -2)
    onp.testing.assert_array_equal(d.asnumpy(), onp.diag(onp.zeros((0,), onp.int8), -2))
    assert d.dtype == onp.int8
    d.backward()
    assert v.grad.shape == (0,)


# -- linalg -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", case_names("tensorsolve_"))
def test_tensorsolve_shapes_as_mxnet(name):
    inputs = CASES[name]["inputs"]
    check_outcome(name, lambda: np.linalg.tensorsolve(np.array(decoded(inputs["a"])), np.array(decoded(inputs["b"]))))


@pytest.mark.parametrize("name", case_names("norm_"))
def test_norm_takes_inf_as_a_string(name):
    inputs = CASES[name]["inputs"]
    axis = inputs["axis"] if isinstance(inputs["axis"], int) else tuple(inputs["axis"])
    check_outcome(name, lambda: np.linalg.norm(np.array(decoded(inputs["x"])), inputs["ord"], axis))


@pytest.mark.parametrize("name", case_names("eigvalsh_"))
def test_eigvalsh_reads_the_named_triangle(name):
    inputs = CASES[name]["inputs"]
    check_outcome(name, lambda: np.linalg.eigvalsh(np.array(decoded(inputs["a"])), UPLO=inputs["UPLO"]))
    # NumPy agrees, and eigh's vectors diagonalise the matrix made from that triangle
    a = decoded(inputs["a"])
    w, v = np.linalg.eigh(np.array(a), UPLO=inputs["UPLO"])
    onp.testing.assert_allclose(w.asnumpy(), onp.linalg.eigvalsh(a, UPLO=inputs["UPLO"]), rtol=1e-8, atol=1e-10)
    sym = onp.tril(a) + onp.swapaxes(onp.tril(a, -1), -1, -2) if inputs["UPLO"] == "L" else \
        onp.triu(a) + onp.swapaxes(onp.triu(a, 1), -1, -2)
    onp.testing.assert_allclose(sym @ v.asnumpy(), v.asnumpy() * w.asnumpy()[..., None, :], rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("name", case_names("svd_empty_"))
def test_svd_of_an_empty_array_has_mxnets_shapes(name):
    shape = tuple(CASES[name]["inputs"]["shape"])
    assert [list(r.shape) for r in np.linalg.svd(np.ones(shape))] == CASES[name]["outputs"]


def test_eigh_of_an_empty_batch():
    w, v = np.linalg.eigh(np.ones((0, 4, 4)))
    assert w.shape == (0, 4) and v.shape == (0, 4, 4)


# -- random -----------------------------------------------------------------------------------------------------------
_RANDOM_CALLS = {
    "normal_negative_scale": lambda: np.random.normal(0.0, -1.0),
    "normal_zero_scale": lambda: np.random.normal(0.0, 0.0),
    "lognormal_negative_sigma": lambda: np.random.lognormal(0.0, -1.0),
    "exponential_negative": lambda: np.random.exponential(-1.0),
    "exponential_zero": lambda: np.random.exponential(0.0),
    "exponential_negative_array": lambda: np.random.exponential(np.array([-1.0])),
    "rayleigh_negative": lambda: np.random.rayleigh(-1.0),
    "rayleigh_negative_array": lambda: np.random.rayleigh(np.array([-1.0])),
    "gamma_zero_shape": lambda: np.random.gamma(0.0, 1.0),
    "gamma_zero_scale_array": lambda: np.random.gamma(np.array([1.0]), np.array([0.0])),
    "weibull_zero": lambda: np.random.weibull(0.0),
    "weibull_negative_array": lambda: np.random.weibull(np.array([-1.0])),
    "pareto_zero": lambda: np.random.pareto(0.0),
    "bernoulli_prob_above_one": lambda: npx.random.bernoulli(prob=np.array([2.0])),
    "bernoulli_both": lambda: npx.random.bernoulli(prob=0.5, logit=0.0),
    "randn_float64": lambda: np.random.randn(2, 3, dtype="float64"),
    "rand_float16": lambda: np.random.rand(4, dtype="float16"),
    "uniform_n": lambda: npx.random.uniform_n(np.zeros(2), np.ones(2), batch_shape=(3,)),
    "normal_n_scalar_batch": lambda: npx.random.normal_n(batch_shape=6),
    "bernoulli_logit": lambda: npx.random.bernoulli(logit=np.zeros((2, 3)), dtype="int32"),
    "multivariate_normal_batched": lambda: np.random.multivariate_normal(
        np.zeros((3, 2)), np.broadcast_to(np.array([[1.0, 0.0], [0.0, 2.0]]), (4, 3, 2, 2)), (2, 5)),
}


@pytest.mark.parametrize("name", sorted(_RANDOM_CALLS))
def test_random_parameters_and_shapes_as_mxnet(name):
    expected = CASES["random_" + name]["outputs"]
    if "error" in expected:
        with pytest.raises(ValueError):
            _RANDOM_CALLS[name]().asnumpy()
        return
    out = _RANDOM_CALLS[name]()
    assert list(out.shape) == expected["shape"]
    if "dtype" in expected:
        assert out.dtype == onp.dtype(expected["dtype"])


def test_bernoulli_follows_its_probability():
    mx.random.seed(7)
    p = onp.array([0.05, 0.5, 0.95], onp.float32)
    draws = npx.random.bernoulli(prob=np.array(onp.tile(p, (4000, 1)))).asnumpy()
    onp.testing.assert_allclose(draws.mean(axis=0), p, atol=0.03)
    logit = onp.log(p / (1 - p))
    draws = npx.random.bernoulli(logit=np.array(onp.tile(logit, (4000, 1)))).asnumpy()
    onp.testing.assert_allclose(draws.mean(axis=0), p, atol=0.03)


def test_batched_multivariate_normal_has_each_batch_covariance():
    mx.random.seed(3)
    cov = onp.array([[[1.0, 0.5], [0.5, 2.0]], [[3.0, -1.0], [-1.0, 1.0]]])
    mean = onp.array([[1.0, -1.0], [0.0, 2.0]])
    draws = np.random.multivariate_normal(np.array(mean), np.array(cov), (20000,)).asnumpy().astype(onp.float64)
    assert draws.shape == (20000, 2, 2)
    onp.testing.assert_allclose(draws.mean(axis=0), mean, atol=0.06)
    for k in range(2):
        onp.testing.assert_allclose(onp.cov(draws[:, k].T), cov[k], atol=0.1)


def test_npx_random_seed_repeats_a_draw():
    npx.random.seed(5)
    first = np.random.uniform(size=(2, 3)).asnumpy()
    npx.random.seed(5)
    onp.testing.assert_array_equal(np.random.uniform(size=(2, 3)).asnumpy(), first)
