"""mx.test_utils: each helper against an independent truth (MXNet 1.9.1's recorded behaviour, numpy, gradients
worked out by hand), including that the checkers fail when they should."""
import json
import os

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import dataflow as mx
from dataflow import test_utils as tu
from tests.paths import FIXTURES

HERE = os.path.join(FIXTURES, "test_utils")
with open(os.path.join(HERE, "cases.json")) as _f:
    CASES = json.load(_f)
ARRAYS = np.load(os.path.join(HERE, "arrays.npz"))


def _tol(value):
    return {np.dtype(k): v for k, v in value["dict"].items()} if isinstance(value, dict) else value


# -- assert_almost_equal: MXNet's rule and message ------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES["assert_almost_equal"], ids=lambda c: str(c["index"]))
def test_assert_almost_equal_raises_as_mxnet_does(case):
    a, b = ARRAYS["a%d" % case["index"]], ARRAYS["b%d" % case["index"]]
    kwargs = {k: (_tol(v) if k in ("rtol", "atol") else tuple(v) if k == "mismatches" else v)
              for k, v in case["kwargs"].items()}
    x, y = (mx.nd.array(a, dtype=a.dtype), mx.nd.array(b, dtype=b.dtype)) if case["ndarray"] else (a, b)
    if not case["raised"]:
        tu.assert_almost_equal(x, y, names=("lhs", "rhs"), **kwargs)
    else:
        # MXNet crashes with IndexError locating the worst element of a broadcast comparison; ours reports it
        with pytest.raises(AssertionError) as info:
            tu.assert_almost_equal(x, y, names=("lhs", "rhs"), **kwargs)
        lines = [line for line in str(info.value).splitlines() if line.startswith(("Error", "Location"))]
        if case["exception"] == "AssertionError":
            assert lines[:2] == case["message_lines"][:2]
        else:
            assert lines[0].startswith("Error") and "mismatch 100" in lines[0]
    equal_nan = case["kwargs"].get("equal_nan", False)
    assert tu.almost_equal(a, b, equal_nan=equal_nan) == case["almost_equal"]


@given(data=st.data())
def test_assert_almost_equal_raises_exactly_when_a_element_is_out_of_tolerance(data):
    shape = data.draw(hnp.array_shapes(max_dims=3, max_side=4))
    elements = st.floats(-10, 10, allow_nan=False, width=64)
    b = data.draw(hnp.arrays(np.float64, shape, elements=elements))
    noise = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-1e-3, 1e-3)))
    a = b + noise * data.draw(st.sampled_from([0.0, 0.01, 1.0]))
    rtol = data.draw(st.sampled_from([None, 1e-5, 1e-4, 1e-2]))
    atol = data.draw(st.sampled_from([None, 0.0, 1e-6, 1e-4]))
    # the rule, from the documentation: |a - b| <= atol + rtol |b| everywhere, float64 defaults 1e-5 / 1e-20
    ok = np.all(np.abs(a - b) <= (1e-20 if atol is None else atol) + (1e-5 if rtol is None else rtol) * np.abs(b))
    if ok:
        tu.assert_almost_equal(a, b, rtol=rtol, atol=atol)
    else:
        with pytest.raises(AssertionError, match="exceeds tolerance"):
            tu.assert_almost_equal(a, b, rtol=rtol, atol=atol)


def test_tolerances_match_mxnet():
    rec = CASES["tolerances"]
    for pair, expected in rec["get_tols"].items():
        x, y = pair.split(",")
        assert list(tu.get_tols(np.zeros(1, x), np.zeros(1, y), None, None)) == pytest.approx(expected), pair
    assert list(tu.get_tols(1.0, 2, None, None)) == rec["get_tols_numbers"]
    assert list(tu.get_tols(np.zeros(1, np.float32), np.zeros(1, np.float64), {np.dtype(np.float32): 0.5},
                            0.25)) == rec["get_tols_dict"]
    assert {np.dtype(k).name: v for k, v in tu.default_numeric_eps().items()} == rec["default_numeric_eps"]
    assert (tu.get_rtol(), tu.get_atol()) == (rec["get_rtol_default"], rec["get_atol_default"])
    assert tu.get_rtol(None, np.dtype(np.float16)) == rec["get_rtol_f16"] and tu.get_atol(0.5) == 0.5
    assert [tu.get_etol(), tu.get_etol(0.1)] == rec["get_etol"]
    assert np.dtype(tu.default_dtype()).name == rec["default_dtype"]
    assert tu.effective_dtype(mx.nd.zeros((1,), dtype="float16")).name == rec["effective_dtype_nd"]


def test_nd_arrays_are_compared_by_value_and_bools_exactly():
    tu.assert_almost_equal(mx.nd.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-6]))
    with pytest.raises(AssertionError):
        tu.assert_almost_equal(np.array([True, False]), np.array([True, True]))
    with pytest.raises(AssertionError, match="are not equal"):
        tu.assert_almost_equal(np.zeros((2, 1)), np.zeros((2,)), use_broadcast=False)


def test_ignore_nan_allclose_and_error_rate():
    a, b = np.array([1.0, np.nan, 3.0]), np.array([1.0, 5.0, np.nan])
    tu.assert_almost_equal_ignore_nan(a, b)
    with pytest.raises(AssertionError):
        tu.assert_almost_equal_ignore_nan(a + 1, b)
    tu.assert_allclose(np.array([1.0, np.nan]), np.array([1.0, np.nan]))          # equal_nan by default
    with pytest.raises(AssertionError):
        tu.assert_allclose(np.array([1.0]), np.array([1.0 + 1e-6]))              # rtol 1e-7, atol 0
    x = np.arange(10.0)
    y = x.copy()
    y[3] += 1
    tu.assert_almost_equal_with_err(x, y, etol=0.15)                               # 10% differ
    with pytest.raises(AssertionError):
        tu.assert_almost_equal_with_err(x, y, etol=0.05)


def test_reductions_match_mxnet():
    rec = CASES["reductions"]
    x = ARRAYS["reduce_in"]
    for i, (axis, keep) in enumerate(rec["reduce_cases"]):
        axis = tuple(axis) if isinstance(axis, list) else axis
        np.testing.assert_array_equal(tu.np_reduce(x, axis, keep, np.sum), ARRAYS["reduce_sum_%d" % i])
        np.testing.assert_array_equal(tu.np_reduce(x, axis, keep, np.max), ARRAYS["reduce_max_%d" % i])
    y = ARRAYS["collapse_in"]
    for i, shape in enumerate(rec["collapse_shapes"]):
        np.testing.assert_allclose(tu.collapse_sum_like(y, tuple(shape)), ARRAYS["collapse_%d" % i], rtol=1e-12)


# -- small helpers ---------------------------------------------------------------------------------------------------

def test_same_assert_exception_assert_raises_and_retry():
    assert tu.same(np.array([1, 2]), mx.nd.array([1, 2]).asnumpy()) and not tu.same(np.array([1]), np.array([2]))
    tu.assert_exception(lambda: 1 / 0, ZeroDivisionError)
    tu.assertRaises(KeyError, {}.__getitem__, "x")
    with pytest.raises(AssertionError):
        tu.assert_exception(lambda: None, ValueError)
    calls = []

    @tu.retry(3)
    def flaky():
        calls.append(1)
        assert len(calls) == 3
    flaky()
    assert len(calls) == 3

    @tu.retry(2)
    def always_fails():
        calls.append(1)
        raise AssertionError("no")
    with pytest.raises(AssertionError, match="no"):
        always_fails()
    assert len(calls) == 5


def test_environment_sets_and_restores(monkeypatch):
    monkeypatch.setenv("DF_TU_KEEP", "old")
    monkeypatch.delenv("DF_TU_NEW", raising=False)
    with tu.environment({"DF_TU_KEEP": "new", "DF_TU_NEW": "1"}):
        assert os.environ["DF_TU_KEEP"] == "new" and os.environ["DF_TU_NEW"] == "1"
    assert os.environ["DF_TU_KEEP"] == "old" and "DF_TU_NEW" not in os.environ
    with pytest.raises(RuntimeError):
        with tu.environment("DF_TU_KEEP", None):
            assert "DF_TU_KEEP" not in os.environ
            raise RuntimeError
    assert os.environ["DF_TU_KEEP"] == "old"


def test_random_data_follows_numpy_streams():
    np.random.seed(5)
    got = (tu.random_arrays((2, 3)), tu.rand_shape_2d(), tu.rand_shape_3d(4, 5, 6), tu.rand_shape_nd(4, 7, True))
    np.random.seed(5)
    want_array = np.random.randn(2, 3).astype(np.float32)
    want_2d = (np.random.randint(1, 11), np.random.randint(1, 11))
    want_3d = (np.random.randint(1, 5), np.random.randint(1, 6), np.random.randint(1, 7))
    want_nd = tuple(np.random.randint(0, 8, size=4))
    np.testing.assert_array_equal(got[0], want_array)
    assert got[1:] == (want_2d, want_3d, want_nd)
    assert len(tu.random_arrays((2,), (3,))) == 2 and tu.random_arrays(()).shape == ()
    u = tu.random_uniform_arrays((100,), low=2, high=3)[0]
    assert u.dtype == np.float32 and 2 <= u.min() and u.max() < 3
    sample = tu.random_sample(list(range(10)), 4)
    assert len(set(sample)) == 4 and set(sample) <= set(range(10))


def test_rand_ndarray_and_large_tensor_helpers():
    x = tu.rand_ndarray((3, 4), dtype=np.float64)
    assert x.shape == (3, 4) and x.dtype is np.float64 and x.context == tu.default_context()
    assert tu.rand_ndarray((2,)).dtype is np.float32
    csr = tu.rand_ndarray((3, 4), stype="csr", density=0.5)       # sparse forms: tests/test_sparse_symbol.py
    assert csr.stype == "csr" and csr.shape == (3, 4) and csr.data.shape == (6,)
    np.testing.assert_array_equal(tu.create_vector(5).asnumpy(), np.arange(5))
    assert tu.create_vector(5).dtype is np.int64
    np.testing.assert_array_equal(tu.create_2d_tensor(3, 2).asnumpy(), np.repeat(np.arange(3)[:, None], 2, 1))
    np.testing.assert_array_equal(tu.get_identity_mat_batch(3).asnumpy(), np.stack([np.eye(3)] * 2))
    np.testing.assert_array_equal(tu.assign_each(np.array([1.0, 4.0]), np.sqrt), [1.0, 2.0])
    np.testing.assert_array_equal(tu.assign_each2(np.array([1.0, 2]), np.array([3.0, 4]), max), [3.0, 4.0])


def test_default_context_can_be_set():
    before = tu.default_context()
    try:
        tu.set_default_context(mx.cpu(1))
        assert tu.default_context() == mx.cpu(1) and mx.nd.zeros((1,)).context == mx.cpu(1)
    finally:
        tu.set_default_context(before)
    assert tu.default_context() == before


def test_dummy_iter_repeats_the_first_batch():
    it = mx.io.NDArrayIter(np.arange(12.0).reshape(6, 2), batch_size=2)
    dummy = tu.DummyIter(it)
    first = [next(dummy).data[0].asnumpy() for _ in range(5)]
    assert dummy.batch_size == 2 and dummy.provide_data == it.provide_data
    for batch in first:
        np.testing.assert_array_equal(batch, [[0, 1], [2, 3]])


def test_verify_generator_accepts_the_right_distribution_only():
    rng = np.random.RandomState(0)
    buckets, probs = tu.gen_buckets_probs_with_ppf(lambda q: q, 5)              # uniform on [0, 1)
    assert probs == [0.2] * 5 and buckets[1] == (0.2, 0.4)
    tu.verify_generator(lambda n: rng.uniform(0, 1, n), buckets, probs, nsamples=20000, nrepeat=3)
    with pytest.raises(AssertionError, match="Generator test fails"):
        tu.verify_generator(lambda n: rng.beta(2, 2, n), buckets, probs, nsamples=20000, nrepeat=3)
    p, observed, expected = tu.chi_square_check(lambda n: rng.randint(0, 3, n), [0, 1, 2], [1 / 3] * 3, 3000)
    assert observed.sum() == 3000 and list(expected) == [1000] * 3 and 0 <= p <= 1
    assert tu.mean_check(lambda n: rng.normal(2, 1, n), 2, 1, 10000)
    assert not tu.mean_check(lambda n: rng.normal(2.5, 1, n), 2, 1, 10000)


# -- symbols: forward, backward, numeric gradients, consistency ------------------------------------------------------

A, B = mx.sym.var("a"), mx.sym.var("b")
SYM = A * B + mx.sym.sin(A)           # d/da = b + cos(a), d/db = a


def _point(dtype=np.float64):
    rng = np.random.RandomState(1)
    return {"a": rng.uniform(-1, 1, (2, 3)).astype(dtype), "b": rng.uniform(-1, 1, (2, 3)).astype(dtype)}


def test_simple_forward_and_check_symbolic_forward():
    p = _point()
    want = p["a"] * p["b"] + np.sin(p["a"])
    np.testing.assert_allclose(tu.simple_forward(SYM, a=p["a"], b=p["b"]), want, rtol=1e-5)
    outs = tu.check_symbolic_forward(SYM, p, [want])
    assert outs[0].shape == (2, 3)
    tu.check_symbolic_forward(SYM, [p["a"], p["b"]], {SYM.list_outputs()[0]: want}, dtype=np.float64)
    with pytest.raises(AssertionError, match="EXPECTED_.*FORWARD_|FORWARD_"):
        tu.check_symbolic_forward(SYM, p, [want + 0.01])
    with pytest.raises(ValueError, match="do not match"):
        tu.check_symbolic_forward(SYM, {"a": p["a"]}, [want])


@pytest.mark.parametrize("req_a", ["write", "add", "null"])
def test_check_symbolic_backward_against_hand_gradients(req_a):
    p = _point()
    dy = np.random.RandomState(2).uniform(-1, 1, (2, 3))
    expected = {"a": dy * (p["b"] + np.cos(p["a"])), "b": dy * p["a"]}
    grad_req = {"a": req_a, "b": "write"}
    grads = tu.check_symbolic_backward(SYM, p, [dy], expected, grad_req=grad_req, dtype=np.float64)
    np.testing.assert_allclose(grads["b"].asnumpy(), expected["b"], rtol=1e-10)
    # a wrong expected gradient fails ('null' checks that the gradient array was left alone, whatever expected)
    wrong = {"a": expected["a"] * 1.01, "b": expected["b"]} if req_a != "null" else {"a": expected["a"],
                                                                                    "b": expected["b"] + 0.1}
    with pytest.raises(AssertionError, match="BACKWARD_a" if req_a != "null" else "BACKWARD_b"):
        tu.check_symbolic_backward(SYM, p, [dy], wrong, grad_req=grad_req, dtype=np.float64)
    tu.check_symbolic_backward(SYM, p, [dy], expected, grad_req=[req_a, "write"], dtype=np.float64)


def test_numeric_grad_is_the_central_difference_of_the_first_output_sum():
    p = _point()
    executor = SYM.bind(mx.cpu(), {k: mx.nd.array(v, dtype=np.float64) for k, v in p.items()})
    grads = tu.numeric_grad(executor, {k: v.copy() for k, v in p.items()}, eps=1e-6, dtype=np.float64)
    np.testing.assert_allclose(grads["a"], p["b"] + np.cos(p["a"]), rtol=1e-7)
    np.testing.assert_allclose(grads["b"], p["a"], rtol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_check_numeric_gradient_passes_right_and_fails_wrong_gradients(dtype):
    p = _point(dtype)
    tu.check_numeric_gradient(SYM, p, dtype=dtype)
    tu.check_numeric_gradient(mx.sym.dot(A, B, transpose_b=True), p, dtype=dtype, rtol=1e-2, atol=1e-3)
    tu.check_numeric_gradient(SYM, p, grad_nodes={"a": "add", "b": "null"}, dtype=dtype)
    # BlockGrad hides d/da from backward(), so the symbolic gradient of a is wrong on purpose
    wrong = mx.sym.BlockGrad(A) * B + A
    with pytest.raises(AssertionError, match="NUMERICAL_a"):
        tu.check_numeric_gradient(wrong, p, grad_nodes=["a"], dtype=dtype)
    tu.check_numeric_gradient(wrong, p, grad_nodes=["b"], dtype=dtype)


def test_check_numeric_gradient_with_aux_states():
    rng = np.random.RandomState(3)
    sym = mx.sym.BatchNorm(mx.sym.var("data"), fix_gamma=False, name="bn")
    tu.check_numeric_gradient(sym, {"data": rng.randn(3, 2, 2), "bn_gamma": rng.rand(2) + 0.5,
                                    "bn_beta": rng.rand(2)},
                              aux_states=[rng.rand(2), rng.rand(2) + 0.5], dtype=np.float64)


def test_check_consistency_across_dtypes_and_symbols():
    sym = mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=3, name="fc")
    ctx_list = [{"ctx": mx.cpu(0), "data": (2, 4), "type_dict": {"data": np.float64}},
                {"ctx": mx.cpu(0), "data": (2, 4), "type_dict": {"data": np.float32}}]
    np.random.seed(0)
    gt = tu.check_consistency(sym, ctx_list)
    assert set(gt) >= {"fc_output", "data", "fc_weight", "fc_bias"} and gt["fc_output"].dtype is np.float64
    other = mx.sym.FullyConnected(mx.sym.var("data") * 1.01, num_hidden=3, name="fc")     # same names, off by 1%
    with pytest.raises(AssertionError, match="exceeds tolerance"):
        tu.check_consistency([sym, other], ctx_list)
    tu.check_consistency([sym, other], ctx_list, rtol=0.05, atol=0.05)


def test_matrices_for_linear_algebra_tests():
    np.random.seed(0)
    m = tu.new_matrix_with_real_eigvals_nd((2, 4, 4))
    for a in m:
        eig = np.linalg.eigvals(a)
        assert np.allclose(eig.imag, 0, atol=1e-8) and np.all(np.abs(eig.real) <= 10)
    q = tu.new_orthonormal_matrix_2d(5)
    np.testing.assert_allclose(q.T @ q, np.eye(5), atol=1e-10)
    s = tu.new_sym_matrix_with_real_eigvals_nd((3, 3, 3))
    np.testing.assert_allclose(s, np.swapaxes(s, -1, -2), atol=1e-10)
    assert s.shape == (3, 3, 3)


def test_download_and_discard_stderr(tmp_path, capfd):
    source = tmp_path / "source.bin"
    source.write_bytes(b"payload")
    target = tu.download(source.as_uri(), fname="copy.bin", dirname=str(tmp_path / "sub"))
    assert open(target, "rb").read() == b"payload"
    source.write_bytes(b"changed")
    assert open(tu.download(source.as_uri(), fname="copy.bin", dirname=str(tmp_path / "sub")), "rb").read() == \
        b"payload"                                                       # an existing file is kept
    assert open(tu.download(source.as_uri(), fname=target, overwrite=True), "rb").read() == b"changed"
    with tu.discard_stderr():
        os.write(2, b"hidden\n")
    os.write(2, b"shown\n")
    err = capfd.readouterr().err
    assert "shown" in err and "hidden" not in err
