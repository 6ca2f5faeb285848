"""`mx.np` / `mx.npx` maths found wrong by MXNet's own test_numpy_op.py (math half, issue 23), each checked here
against an independent truth: NumPy, or MXNet 1.9.1 itself (tests/fixtures/mxnet-1.9.1/np_math/, recorded by
reference/np_math_fixtures.py) where MXNet's numpy mode differs from NumPy."""
import json
import os

import numpy as onp
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import dataflow as mx
from dataflow import np, npx
from ops.errors import MXNetError

small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)


# -- argmin / argmax ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["argmin", "argmax"])
@given(shape=small_shapes, data=st.data())
@settings(deadline=None)
def test_argmin_argmax_follow_numpy_including_zero_dim_and_empty_axes(name, shape, data):
    axis = data.draw(st.sampled_from([None] + list(range(-max(len(shape), 1), max(len(shape), 1)))))
    x = onp.random.RandomState(0).uniform(size=shape).astype(onp.float32)
    try:
        expected = getattr(onp, name)(x, axis=axis)
    except ValueError:      # an empty sequence: NumPy's ValueError, MXNet's MXNetError
        with pytest.raises(MXNetError):
            getattr(np, name)(np.array(x), axis)
        return
    got = getattr(np, name)(np.array(x), axis=axis)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    onp.testing.assert_array_equal(got.asnumpy(), expected)


def test_argmax_axis_out_of_range_is_both_an_mxnet_error_and_numpys_axis_error():
    with pytest.raises(MXNetError):
        np.argmax(np.zeros((5, 3)), 3)
    with pytest.raises(getattr(onp, "exceptions", onp).AxisError):  # numpy.exceptions: NumPy >= 1.25
        np.argmin(np.zeros(()), 1)


# -- npx.softmax / log_softmax on empty arrays ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(3, 0, 4), (0, 0)])
def test_softmax_of_an_empty_array_is_empty_and_has_an_empty_gradient(name, shape):
    x = np.zeros(shape)
    x.attach_grad()
    for axis in range(-len(shape), len(shape)):
        with mx.autograd.record():
            y = getattr(npx, name)(x, axis=axis)
        assert y.asnumpy().shape == shape
        y.backward()
        assert x.grad.asnumpy().shape == shape


# -- MXNet fixtures -------------------------------------------------------------------------------------------------
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "np_math", "cases.json")


def decode(encoded):
    data = [float(v) if isinstance(v, str) else v for v in encoded["data"]]
    return onp.array(data, dtype=encoded["dtype"]).reshape(encoded["shape"])


def cases(prefix):
    with open(FIXTURES) as f:
        recorded = json.load(f)
    return [pytest.param(recorded[name], id=name) for name in sorted(recorded) if name.startswith(prefix)]


# -- around / round ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", cases("around_"))
@pytest.mark.parametrize("name", ["around", "round", "round_"])
def test_around_of_integers_equals_mxnet(case, name):
    x, decimals = decode(case["inputs"]["x"]), case["inputs"]["decimals"]
    got = getattr(np, name)(np.array(x, dtype=x.dtype), decimals)
    expected = decode(case["outputs"])
    assert got.dtype == expected.dtype
    onp.testing.assert_array_equal(got.asnumpy(), expected)


@given(x=hnp.arrays(onp.int32, small_shapes, elements=st.integers(-5, 5)), decimals=st.integers(-5, 5))
@settings(deadline=None)
def test_around_of_small_integers_equals_numpy(x, decimals):
    """|x| <= 5: where truncation (MXNet) and rounding halves to even (NumPy) agree."""
    onp.testing.assert_array_equal(np.around(np.array(x, dtype=x.dtype), decimals).asnumpy(), onp.around(x, decimals))


# -- clip -------------------------------------------------------------------------------------------------------------
def test_clip_method_takes_min_and_max_and_a_number_stays_a_number():
    x = onp.array([[-2.0, 0.5], [3.0, 0.05]], dtype=onp.float32)
    onp.testing.assert_array_equal(np.array(x).clip(min=-0.1, max=0.1).asnumpy(), x.clip(min=-0.1, max=0.1))
    onp.testing.assert_array_equal(np.array(x).clip(None, 0.1).asnumpy(), x.clip(None, 0.1))
    assert np.clip(0.7, None, 0.5) == onp.clip(0.7, None, 0.5)
    with pytest.raises(ValueError):
        np.clip(np.array(x), None, None)


# -- cumsum, ediff1d and concatenate with empty operands under autograd ------------------------------------------------
@pytest.mark.parametrize("axis", [None, 0, 1, 2])
def test_cumsum_of_an_empty_array_is_recorded(axis):
    x = np.zeros((2, 0, 3), dtype="float16")
    x.attach_grad()
    with mx.autograd.record():
        y = np.cumsum(x, axis=axis, dtype="float64")
    y.backward()
    expected = onp.cumsum(onp.zeros((2, 0, 3), onp.float16), axis=axis, dtype=onp.float64)
    assert (y.shape, y.dtype) == (expected.shape, expected.dtype)
    assert x.grad.shape == x.shape


@pytest.mark.parametrize("shape", [(), (1,), (4, 0, 5)])
def test_ediff1d_of_fewer_than_two_elements_still_differentiates_to_zero(shape):
    a, end = np.ones(shape), np.array([1.0, 2.0])
    a.attach_grad()
    end.attach_grad()
    with mx.autograd.record():
        y = np.ediff1d(a, to_end=end, to_begin=3.0)
    onp.testing.assert_array_equal(y.asnumpy(), onp.ediff1d(onp.ones(shape), to_end=[1.0, 2.0], to_begin=3.0))
    y.backward()
    onp.testing.assert_array_equal(a.grad.asnumpy(), onp.zeros(shape))
    onp.testing.assert_array_equal(end.grad.asnumpy(), onp.ones(2))


# -- where / nan_to_num ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_where_with_a_scalar_branch_keeps_the_array_branchs_dtype(dtype):
    x = onp.array([[onp.nan, 1.5], [-onp.inf, onp.inf]], dtype=dtype)
    got = np.where(np.array(x) > 0, 7, np.array(x))
    expected = onp.where(x > 0, onp.array(7, dtype), x)
    assert got.dtype == expected.dtype
    onp.testing.assert_array_equal(got.asnumpy(), expected)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("copy", [True, False])
def test_nan_to_num_equals_numpy_and_changes_its_input_without_copy(dtype, copy):
    host = onp.array([onp.nan, onp.inf, -onp.inf, -574, 0, 23425], dtype=dtype)
    x = np.array(host, dtype=dtype)
    got = np.nan_to_num(x, copy=copy, nan=0.0, posinf=9999.9, neginf=-9999.9)
    expected = onp.nan_to_num(host, copy=copy, nan=0.0, posinf=9999.9, neginf=-9999.9)
    onp.testing.assert_array_equal(got.asnumpy(), expected)
    assert (got is x) == (not copy)
    onp.testing.assert_array_equal(x.asnumpy(), host)      # NumPy changed `host` in place just as `x` when not copy


def test_nan_to_num_differentiates_to_one_where_finite():
    x = np.array([onp.nan, 2.0, onp.inf, -3.0])
    x.attach_grad()
    with mx.autograd.record():
        y = np.nan_to_num(x)
    y.backward()
    onp.testing.assert_array_equal(x.grad.asnumpy(), [0.0, 1.0, 0.0, 1.0])


# -- `out` of the element-wise tests ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["isnan", "isinf", "isposinf", "isneginf", "isfinite"])
def test_bool_tests_write_into_a_bool_out_and_refuse_another_dtype(name):
    host = onp.array([onp.nan, onp.inf, -onp.inf, 1.0], dtype=onp.float32)
    out = np.zeros(4, dtype="bool")
    assert getattr(np, name)(np.array(host), out) is out
    onp.testing.assert_array_equal(out.asnumpy(), getattr(onp, name)(host))
    with pytest.raises(TypeError):
        getattr(np, name)(np.array(host), out=np.zeros(4))


# -- *_like creation ------------------------------------------------------------------------------------------------
def test_like_functions_take_numpys_arguments():
    a = np.ones((2, 3), dtype="int8")
    full = np.full_like(a, True, "float16", "C")
    assert (full.dtype, full.shape) == (onp.dtype("float16"), (2, 3)) and full.asnumpy().all()
    empty = np.empty_like(a, onp.bool_, "C", False)
    assert (empty.dtype, empty.shape) == (onp.dtype(onp.bool_), (2, 3))
    with pytest.raises(NotImplementedError):
        np.empty_like(a, subok=True)
    with pytest.raises(NotImplementedError):
        np.zeros_like(a, order="F")


# -- npx.constraint_check -------------------------------------------------------------------------------------------
def test_constraint_check_passes_true_and_raises_the_message():
    x = np.arange(6).reshape(2, 3)
    onp.testing.assert_array_equal((x * npx.constraint_check(np.ones((2, 3), dtype="bool"), "m")).asnumpy(),
                                   onp.arange(6).reshape(2, 3))
    with pytest.raises(ValueError, match="scale must be positive"):
        npx.constraint_check(x > 0, "scale must be positive")


# -- integer mod's gradient -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["mod", "remainder"])
def test_integer_mod_differentiates_to_zero_as_mxnet(name):
    a, b = np.array([[5, -7], [9, 3]], dtype="int32"), np.array([3, 2], dtype="int32")
    a.attach_grad()
    b.attach_grad()
    with mx.autograd.record():
        y = getattr(np, name)(a, b)
    y.backward()
    onp.testing.assert_array_equal(y.asnumpy(), onp.mod([[5, -7], [9, 3]], [3, 2]))
    assert not a.grad.asnumpy().any() and not b.grad.asnumpy().any()


@pytest.mark.parametrize("name", ["isnan", "isinf", "isposinf", "isneginf", "isfinite"])
@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "bool"])
def test_bool_tests_of_integers_equal_numpy(name, dtype):
    host = onp.array([[-1, 0, 1], [127, -128, 5]]).astype(dtype)
    got = getattr(np, name)(np.array(host, dtype=dtype))
    assert got.dtype == onp.bool_
    onp.testing.assert_array_equal(got.asnumpy(), getattr(onp, name)(host))


# -- NumPy's dispatch protocols -------------------------------------------------------------------------------------
def test_numpy_functions_and_ufuncs_of_mx_arrays_run_mx_np():
    host = onp.arange(6, dtype=onp.float32).reshape(2, 3)
    x = np.array(host)
    for got, expected in [(onp.sum(x, axis=0), host.sum(axis=0)), (onp.exp(x), onp.exp(host)),
                          (onp.add(host, x), host + host), (onp.empty_like(np.zeros((0, 1))), onp.zeros((0, 1)))]:
        assert isinstance(got, np.ndarray) and got.shape == expected.shape
        onp.testing.assert_allclose(got.asnumpy(), expected, rtol=1e-6)


def test_numpy_functions_mx_np_lacks_run_on_the_host_but_not_while_recording():
    x = np.array([3.0, 1.0, 2.0])
    got = onp.cumprod(x)        # not dispatched by MXNet: NumPy on a host copy, back as an mx.np array
    assert isinstance(got, np.ndarray)
    onp.testing.assert_array_equal(got.asnumpy(), [3.0, 3.0, 6.0])
    x.attach_grad()
    with mx.autograd.record():
        with pytest.raises(ValueError):
            onp.cumprod(x)


@pytest.mark.parametrize("mod, truth", [(lambda a: a % 4, lambda h: h % 4), (lambda a: 7 % a, lambda h: 7 % h),
                                        (lambda a: np.mod(a, 2.5), lambda h: onp.mod(h, 2))],   # MXNet casts 2.5 to 2
                         ids=["array % number", "number % array", "np.mod(array, float)"])
def test_integer_mod_by_a_number_differentiates_to_zero_and_equals_numpy(mod, truth):
    host = onp.array([[5, -7], [9, 3]], dtype=onp.int32)
    a = np.array(host, dtype="int32")
    a.attach_grad()
    with mx.autograd.record():
        y = mod(a)
    y.backward()
    onp.testing.assert_array_equal(y.asnumpy(), truth(host))
    assert y.dtype == onp.int32 and not a.grad.asnumpy().any()
