"""mx.np.ndarray rules found by running MXNet's own numpy unit tests (issue 23): Python scalars with integer and
bool arrays, assignment while recording, formatting, order='F', indexing corner cases, copies under autograd.

Truth: MXNet 1.9.1 (tests/fixtures/mxnet-1.9.1/np_array/rules.json, recorded by reference/np_array_fixtures.py)
and NumPy."""
import json
import math
import os

import numpy as onp
import pytest

import dataflow as mx
from dataflow import autograd, np
from ops.errors import MXNetError

RULES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "np_array", "rules.json")
with open(RULES) as _fh:
    FIXTURE = json.load(_fh)

OPERATORS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
             "truediv": lambda a, b: a / b, "pow": lambda a, b: a ** b, "mod": lambda a, b: a % b}
SCALARS = {"i3": 3, "f1_5": 1.5, "fneg2_5": -2.5, "b1": True}
VALUES = [1, 2, 3, 5]


def _scalar_case(name):
    reflected = name.endswith("_r")
    dtype, op, scalar = (name[:-2] if reflected else name).split("_", 2)
    return dtype, op, scalar, reflected


@pytest.mark.parametrize("name", sorted(FIXTURE["scalar_ops"]))
def test_array_with_python_scalar_as_mxnet(name):
    """MXNet casts a Python scalar to an integer array's dtype (int32 * 1.5 is int32 * 1), divides truly in
    float32, and computes bool arrays with scalars in int64 (int) or float32 (float)."""
    expected = FIXTURE["scalar_ops"][name]
    dtype, op, scalar, reflected = _scalar_case(name)
    base = np.array([v % 2 == 1 for v in VALUES] if dtype == "bool" else VALUES, dtype=dtype)
    scalar = SCALARS[scalar]
    if name == "bool_pow_fneg2_5":      # 0 ** -2 in int64: undefined (MXNet's kernel gives INT64_MIN), refused here
        with pytest.raises(MXNetError):
            (base ** scalar).asnumpy()
        return
    out = OPERATORS[op](scalar, base) if reflected else OPERATORS[op](base, scalar)
    assert str(out.dtype) == expected["dtype"]
    got = out.asnumpy().astype(onp.float64)
    want = onp.array([onp.nan if v is None else v for v in expected["value"]])
    finite = onp.isfinite(want)
    assert onp.array_equal(onp.isfinite(got), finite)
    onp.testing.assert_allclose(got[finite], want[finite], rtol=1e-3 if dtype == "float16" else 1e-6)


COMPARISONS = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b,
               "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b}
COMPARED_SCALARS = {"i2": 2, "f2_5": 2.5, "f0_5": 0.5, "b1": True}


@pytest.mark.parametrize("name", sorted(FIXTURE["compare_ops"]))
def test_comparison_with_python_scalar_as_mxnet(name):
    """The scalar is cast to the array's dtype first: int32 == 2.5 compares with 2, bool == 0.5 with True."""
    expected = FIXTURE["compare_ops"][name]
    dtype, op, scalar, reflected = _scalar_case(name)
    base = np.array([v % 2 == 1 for v in VALUES] + [False] if dtype == "bool" else VALUES + [0], dtype=dtype)
    scalar = COMPARED_SCALARS[scalar]
    out = COMPARISONS[op](scalar, base) if reflected else COMPARISONS[op](base, scalar)
    assert str(out.dtype) == expected["dtype"]
    assert out.asnumpy().tolist() == expected["value"]


# -- assignment while recording (Note [assignment while recording] in dataflow/numpy/multiarray.py) ----------------
_ASSIGN = {
    "partial_key_graph_value": (lambda: np.zeros((3, 4)), lambda: np.ones((4,)), 0),
    "partial_slice_graph_value": (lambda: np.zeros((3, 4)), lambda: np.ones((2, 4)), slice(0, 2)),
    "partial_list_graph_value": (lambda: np.zeros((3, 4)), lambda: np.ones((2, 4)), [0, 2]),
    "whole_ellipsis_broadcast": (lambda: np.zeros((3, 4)), lambda: np.ones((4,)), Ellipsis),
    "whole_empty_tuple": (lambda: np.zeros((3, 4)), lambda: np.ones((3, 4)), ()),
    "whole_none": (lambda: np.zeros((3, 4)), lambda: np.ones((1, 3, 4)), None),
    "whole_colon": (lambda: np.zeros((3, 4)), lambda: np.ones((3, 1)), slice(None)),
    "whole_to_int32": (lambda: np.zeros((3, 4), dtype="int32"), lambda: np.ones((3, 4)), ()),
}


def _mxnet_message(entry):
    return entry["message"].split("): ", 1)[1].rstrip(".")


@pytest.mark.parametrize("name", sorted(_ASSIGN))
def test_assigning_a_recorded_value_as_mxnet(name):
    """A recorded value assigned to part of an array is refused; assigned to all of it, it is a recorded copy."""
    expected = FIXTURE["assign_recording"][name]
    make_x, make_v, key = _ASSIGN[name]
    x, v = make_x(), make_v()
    v.attach_grad()
    if "error" in expected:
        with pytest.raises(MXNetError, match=_escape(_mxnet_message(expected))):
            with autograd.record():
                x[key] = v * 2
        return
    with autograd.record():
        x[key] = v * 2
        x.backward()
    assert str(x.dtype) == expected["dtype"]
    onp.testing.assert_array_equal(x.asnumpy(), onp.array(expected["x"]))
    onp.testing.assert_allclose(v.grad.asnumpy(), onp.array(expected["grad"]))


def _escape(text):
    import re
    return re.escape(text)


def test_assigning_plain_values_while_recording_is_allowed():
    x = np.zeros((3, 4))
    with autograd.record():
        x[0] = 1
        x[1] = np.ones((4,))
    onp.testing.assert_array_equal(x.asnumpy(), onp.array(FIXTURE["assign_recording"]["plain_values"]["x"]))


@pytest.mark.parametrize("name,key", [("target_variable_partial", 0), ("target_variable_whole", slice(None))])
def test_assigning_to_a_variable_while_recording_is_refused(name, key):
    x = np.zeros((3, 4))
    x.attach_grad()
    with pytest.raises(MXNetError, match=_escape(_mxnet_message(FIXTURE["assign_recording"][name]))):
        with autograd.record():
            x[key] = 1


def test_assigning_to_a_recorded_result_is_refused():
    a = np.ones((3, 4))
    a.attach_grad()
    with pytest.raises(MXNetError, match="already in a computational graph"):
        with autograd.record():
            y = a * 2
            y[0] = 5


def test_assigning_outside_recording_keeps_working_on_graph_arrays():
    a = np.ones((3, 4))
    a.attach_grad()
    a[0] = 7
    onp.testing.assert_array_equal(a.asnumpy()[0], [7, 7, 7, 7])


# -- NumPy's assignment of values with extra leading length-1 axes -------------------------------------------------
@pytest.mark.parametrize("key,value_shape", [((1, 2), (1, 1, 4)), ((slice(1, 3),), (1, 2, 4, 4)), (1, (1, 1)),
                                             ((0, 1, 2), (1, 1)), ((slice(None), 0), (1, 1, 1, 4))])
def test_assigning_values_with_leading_unit_axes(key, value_shape):
    """NumPy assigns a value with more (leading, length-1) axes than the selection: they are dropped."""
    target = onp.arange(3 * 4 * 4, dtype=onp.float32).reshape(3, 4, 4)
    value = -onp.arange(int(onp.prod(value_shape)), dtype=onp.float32).reshape(value_shape) - 1
    selected = target[key].shape
    expected = target.copy()
    expected[key] = value.reshape(value_shape[max(len(value_shape) - len(selected), 0):])
    for given in (value, np.array(value)):
        x = np.array(target)
        x[key] = given
        onp.testing.assert_array_equal(x.asnumpy(), expected)


# -- indexing that selects nothing, under autograd -----------------------------------------------------------------
@pytest.mark.parametrize("key", [(slice(0, 0), slice(0, 0), 1, 2), (slice(0, 0),) * 4, (slice(2, 2), 0)])
def test_empty_selection_is_recorded_with_a_zero_gradient(key):
    x = np.array(onp.arange(4 * 3 * 2 * 5, dtype=onp.float32).reshape(4, 3, 2, 5))
    x.attach_grad()
    with autograd.record():
        y = x[key]
    assert y.shape == onp.empty((4, 3, 2, 5))[key].shape
    y.backward()
    onp.testing.assert_array_equal(x.grad.asnumpy(), onp.zeros((4, 3, 2, 5)))


# -- copies are recorded -------------------------------------------------------------------------------------------
def test_copy_is_recorded():
    x = np.array([1.0, 2.0, 3.0])
    x.attach_grad()
    with autograd.record():
        y = (x.copy() * x).sum()
    y.backward()
    onp.testing.assert_allclose(x.grad.asnumpy(), 2 * onp.array([1.0, 2.0, 3.0]))


def test_concatenate_of_one_array_is_recorded():
    x = np.ones((4, 3))
    x.attach_grad()
    with autograd.record():
        y = np.sum(np.concatenate(np.split(x, 4)[1:2]))
    y.backward()
    onp.testing.assert_array_equal(x.grad.asnumpy(), onp.array([[0] * 3, [1] * 3, [0] * 3, [0] * 3]))


# -- unsupported orders, formatting --------------------------------------------------------------------------------
def test_order_f_is_not_implemented_as_mxnet():
    assert FIXTURE["errors"]["empty_order_F"] == "NotImplementedError"
    with pytest.raises(NotImplementedError):
        np.empty((2, 3), order="F")
    assert FIXTURE["errors"]["copy_order_F"] == "NotImplementedError"
    with pytest.raises(NotImplementedError):
        np.array([1, 2]).copy(order="F")
    assert np.empty((2, 3), order="C").shape == (2, 3)


def test_format_as_mxnet():
    fmt = FIXTURE["format"]
    assert "{:0.3g}".format(np.array(math.pi)) == fmt["0d_3g"]
    assert "{:0.3g}".format(np.array(math.pi)[()]) == fmt["0d_item_3g"]
    assert "{}".format(np.array([math.pi])) == fmt["1d_plain"]
    assert "{:5d}".format(np.array(7, dtype="int32")) == fmt["0d_int_5d"]
    assert FIXTURE["errors"]["format_1d_with_spec"] == "TypeError"
    with pytest.raises(TypeError):
        "{:30}".format(np.array([math.pi]))


@pytest.mark.parametrize("name,shapes", [("dot_not_aligned", ((4, 5), (2, 3))),
                                         ("dot_3d_1d_not_aligned", ((3, 4, 5), (6,)))])
def test_dot_of_misaligned_shapes_is_an_mxnet_error(name, shapes):
    assert FIXTURE["errors"][name] == "MXNetError"
    with pytest.raises(MXNetError, match="not aligned") as caught:
        np.dot(np.ones(shapes[0]), np.ones(shapes[1]))
    assert isinstance(caught.value, ValueError)      # NumPy's kind too


# -- multinomial -----------------------------------------------------------------------------------------------------
def test_multinomial_takes_float32_probabilities_summing_to_one():
    pvals = np.array([0.4, 0.3, 0.2, 0.1, 0.0])      # float32: the first four sum to 1 + 2**-26
    assert float(onp.float64(pvals.asnumpy()[:-1]).sum()) > 1.0
    counts = np.random.multinomial(100, pvals, size=(3,)).asnumpy()
    assert counts.shape == (3, 5)
    onp.testing.assert_array_equal(counts.sum(axis=1), [100] * 3)
    assert (counts[:, -1] == 0).all()
    with pytest.raises(ValueError):
        np.random.multinomial(10, [0.7, 0.6, 0.0])


@pytest.mark.parametrize("pvals", [[], ()])
@pytest.mark.parametrize("size", [None, 0, (2, 3)])
def test_multinomial_of_no_categories_is_empty(pvals, size):
    expected = onp.random.multinomial(10, [1.0], size=size).shape[:-1] + (0,)
    for given in (pvals, np.array(pvals)):
        out = np.random.multinomial(10, given, size=size)
        assert out.shape == expected
        assert out.size == 0


def test_mx_test_utils_names_the_numpy_tests_import():
    from dataflow import test_utils
    assert test_utils.is_op_runnable() is True
    assert test_utils.has_tvm_ops() is False
    assert test_utils.use_np is mx.util.use_np
    assert test_utils.getenv is mx.util.getenv and test_utils.setenv is mx.util.setenv


# -- errors MXNet raises as MXNetError (NumPy: ValueError): ShapeError is both ------------------------------------
@pytest.mark.parametrize("name,call", [
    ("matmul_vector_scalar", lambda: np.matmul(np.ones((1,)), np.ones(()))),
    ("max_of_empty", lambda: np.ones((2, 0)).max()),
    ("min_of_empty", lambda: np.min(np.ones((0,)))),
])
def test_errors_are_mxnet_errors(name, call):
    assert FIXTURE["errors"][name] == "MXNetError"
    with pytest.raises(MXNetError) as caught:
        call()
    assert isinstance(caught.value, ValueError)


# -- gradients -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["int8", "float32", "float16"])
def test_mean_with_dtype_averages_then_casts(dtype):
    """The value is the float mean cast to `dtype`; the gradient is 1/n whatever the cast (MXNet's)."""
    expected = FIXTURE["gradients"]["mean_f16_dtype_" + dtype]
    x = np.array(onp.linspace(-1, 1, 6, dtype=onp.float32).reshape(3, 2, 1).astype(onp.float16))
    x.attach_grad()
    with autograd.record():
        y = x.mean(axis=0, dtype=dtype, keepdims=True)
    y.backward()
    assert str(y.dtype) == expected["dtype"]
    onp.testing.assert_allclose(y.asnumpy().astype(float), expected["value"], rtol=1e-3)
    onp.testing.assert_allclose(x.grad.asnumpy().astype(float), expected["grad"], rtol=1e-3)


def test_float16_sum_accumulates_in_float32():
    values = onp.random.RandomState(3).uniform(-1, 1, size=(7, 300)).astype(onp.float32)
    for source, dtype in ((onp.float16, None), (onp.float32, "float16"), (onp.float16, "float16")):
        x = np.array(values.astype(source))
        got = np.sum(x, axis=1, dtype=dtype)
        want = values.astype(source).astype(onp.float64).sum(axis=1).astype(onp.float16)
        assert got.dtype == onp.float16
        onp.testing.assert_array_equal(got.asnumpy(), want)


def test_product_with_an_empty_axis_is_recorded():
    expected = FIXTURE["gradients"]["tensordot_empty_inner"]
    a, b = np.ones((3, 0)), np.ones((0, 5))
    a.attach_grad()
    b.attach_grad()
    with autograd.record():
        y = np.tensordot(a, b, 1)
    y.backward()
    assert list(y.shape) == expected["shape"]
    onp.testing.assert_array_equal(y.asnumpy(), expected["value"])
    assert [list(a.grad.shape), list(b.grad.shape)] == expected["grad_shapes"]
    for sa, sb in (((0, 3), (3, 5)), ((2, 0), (0, 0))):
        a, b = np.ones(sa), np.ones(sb)
        a.attach_grad()
        with autograd.record():
            y = np.matmul(a, b)
        y.backward()
        assert y.shape == onp.matmul(onp.ones(sa), onp.ones(sb)).shape and a.grad.shape == sa


def test_grad_of_a_null_variable_is_none_once_backward_freed_the_graph():
    record = FIXTURE["gradients"]
    n, w = np.ones((3,)), np.ones((3,))
    n.attach_grad(grad_req="null")
    w.attach_grad()
    assert repr(n.grad) == record["grad_req_null_grad"]
    with autograd.record():
        y = (n * w).sum()
    y.backward(retain_graph=True)
    assert repr(n.grad) == record["grad_req_null_grad_after_backward_retained"]
    y.backward()
    assert repr(n.grad) == record["grad_req_null_grad_after_backward"] == "None"
    onp.testing.assert_array_equal(w.grad.asnumpy(), [1, 1, 1])


def test_autograd_grad_of_a_zero_dim_head():
    x = np.array([1.0, 2.0, 3.0])
    x.attach_grad()
    with autograd.record():
        y = (x * x).sum()
    (g,) = autograd.grad(y, [x])
    onp.testing.assert_allclose(g.asnumpy(), [2.0, 4.0, 6.0])


def test_numeric_gradient_of_a_numpy_symbol_with_a_zero_dim_output():
    """check_numeric_gradient binds a graph whose head is zero-dim (its head gradient is made on the host)."""
    from dataflow.test_utils import check_numeric_gradient
    a = mx.sym.Variable("a").as_np_ndarray()
    b = mx.sym.Variable("b").as_np_ndarray()
    sym = mx.sym.np.vdot(a, b).as_nd_ndarray()
    rng = onp.random.RandomState(0)
    check_numeric_gradient(sym, [mx.nd.array(rng.uniform(size=(3, 3))), mx.nd.array(rng.uniform(size=(3, 3)))],
                           rtol=1e-2, atol=1e-2)


def test_symbol_as_np_and_as_nd():
    legacy = mx.sym.Variable("x")
    assert legacy.as_nd_ndarray() is legacy
    numpy_mode = legacy.as_np_ndarray()
    assert type(numpy_mode).__name__ == "_Symbol" and numpy_mode.list_arguments() == ["x"]
    assert type(numpy_mode.as_nd_ndarray()) is type(legacy)


# -- ndarray methods of MXNet's np.ndarray -------------------------------------------------------------------------
def test_ndarray_methods_match_numpy():
    data = onp.random.RandomState(1).uniform(-1, 1, size=(3, 4)).astype(onp.float32)
    x = np.array(data)
    onp.testing.assert_allclose(x.var(axis=0).asnumpy(), data.var(axis=0), rtol=1e-5)
    onp.testing.assert_allclose(x.std(axis=1, ddof=1).asnumpy(), data.std(axis=1, ddof=1), rtol=1e-5)
    onp.testing.assert_array_equal((x > 0).any(axis=1).asnumpy(), (data > 0).any(axis=1))
    onp.testing.assert_array_equal((x > -2).all().asnumpy(), (data > -2).all())
    onp.testing.assert_allclose(x.cumsum(axis=1).asnumpy(), data.cumsum(axis=1), rtol=1e-5)
    onp.testing.assert_allclose(x.dot(np.array(data.T)).asnumpy(), data.dot(data.T), rtol=1e-5)
    for got, want in zip((x > 0).nonzero(), (data > 0).nonzero()):
        onp.testing.assert_array_equal(got.asnumpy(), want)
    moved = x.as_in_ctx(mx.cpu())
    assert type(moved) is np.ndarray and moved.context == mx.cpu()


def test_max_over_nonempty_axes_of_an_empty_array_is_empty():
    x = onp.ones((0, 3))
    for axis in (1, (1,), -1):
        assert np.ones((0, 3)).max(axis=axis).shape == x.max(axis=axis).shape
        assert np.min(np.ones((0, 3)), axis=axis).shape == x.min(axis=axis).shape
    with pytest.raises(MXNetError):
        np.ones((0, 3)).max(axis=0)


def test_linspace_to_integers_truncates_as_mxnet():
    """MXNet casts the float samples toward zero (NumPy >= 1.20 floors them)."""
    got = np.linspace(-2, 4, 30, dtype="int32")
    assert got.dtype == onp.int32
    assert got.asnumpy().tolist() == FIXTURE["values"]["linspace_int32"]


@pytest.mark.parametrize("begin,end,step", [([], [], None), ((1,), (3,), None), ((None, 1), (None, 3), None),
                                            ((1,), (3,), (None,)), ((None,), (None,), (-1,))])
def test_npx_slice_with_default_steps(begin, end, step):
    data = onp.arange(24, dtype=onp.float32).reshape(2, 3, 4)
    key = tuple(slice(b, e, None if step is None else step[i]) for i, (b, e) in enumerate(zip(begin, end)))
    onp.testing.assert_array_equal(mx.npx.slice(np.array(data), begin=begin, end=end, step=step).asnumpy(),
                                   data[key])
    onp.testing.assert_array_equal(mx.nd.slice(mx.nd.array(data), begin=begin, end=end, step=step).asnumpy(),
                                   data[key])


@pytest.mark.parametrize("num,endpoint", [(0, False), (0, True), (1, False), (1, True), (5, False)])
def test_linspace_of_few_samples(num, endpoint):
    want = onp.linspace(2.0, 8.0, num, endpoint=endpoint, dtype=onp.float32)
    onp.testing.assert_allclose(mx.nd.linspace(2, 8, num, endpoint=endpoint).asnumpy(), want, rtol=1e-6)
    onp.testing.assert_allclose(np.linspace(2, 8, num, endpoint=endpoint).asnumpy(), want, rtol=1e-6)


@pytest.mark.parametrize("name,num", [("linspace_negative_num", -1), ("linspace_float_num", 2.5)])
def test_linspace_refuses_a_bad_number_of_samples(name, num):
    assert FIXTURE["errors"][name] == "MXNetError"
    with pytest.raises(MXNetError):
        np.linspace(0, 10, num)


# -- NumPy's ufunc keywords (dataflow/numpy/_ufunc.py) ---------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(FIXTURE["ufunc_keywords"]))
def test_ufunc_keywords_as_mxnet(case):
    import ast
    expected = FIXTURE["ufunc_keywords"][case]
    name, keyword = case.split(":")
    key, value = keyword.split("=", 1)
    value = ast.literal_eval(value)
    x, n = np.ones((2, 2)), np.ones((2,), dtype="int32")
    call = {"add": lambda **kw: np.add(x, x, **kw), "exp": lambda **kw: np.exp(x, **kw),
            "bitwise_not": lambda **kw: np.bitwise_not(n, **kw)}[name]
    if expected is None:
        want = {"add": onp.full((2, 2), 2.0), "exp": onp.full((2, 2), onp.e), "bitwise_not": [-2, -2]}[name]
        onp.testing.assert_allclose(call(**{key: value}).asnumpy(), want, rtol=1e-6)
        return
    error = {"TypeError": TypeError, "NotImplementedError": NotImplementedError}[expected[0]]
    with pytest.raises(error) as caught:
        call(**{key: value})
    assert str(caught.value) == expected[1]


def test_every_mxnet_ufunc_takes_the_keywords():
    from dataflow.numpy import _ufunc
    for name in _ufunc.UNARY + _ufunc.BINARY:
        with pytest.raises(NotImplementedError):
            getattr(np, name)(*([np.ones((2,), dtype="int32")] * (1 if name in _ufunc.UNARY else 2)), where=False)


def test_ldexp_of_integers_as_mxnet():
    expected = FIXTURE["values"]["ldexp_int32"]
    got = np.ldexp(np.array([[3, -2], [5, 1]], dtype="int32"), np.array([[1, 2], [-1, 0]], dtype="int32"))
    assert str(got.dtype) == expected["dtype"] and got.asnumpy().tolist() == expected["value"]


def test_arctan2_of_float16_differentiates():
    y = onp.array([[0.5, -1.0, 0.25]], dtype=onp.float16)
    x = onp.array([[0.3, 0.2, -0.5]], dtype=onp.float16)
    a, b = np.array(y), np.array(x)
    a.attach_grad()
    b.attach_grad()
    with autograd.record():
        out = np.arctan2(a, b)
    out.backward()
    assert out.dtype == onp.float16
    y64, x64 = y.astype(onp.float64), x.astype(onp.float64)
    onp.testing.assert_allclose(out.asnumpy(), onp.arctan2(y64, x64), rtol=2e-3)
    onp.testing.assert_allclose(a.grad.asnumpy(), x64 / (x64 ** 2 + y64 ** 2), rtol=1e-2)
    onp.testing.assert_allclose(b.grad.asnumpy(), -y64 / (x64 ** 2 + y64 ** 2), rtol=1e-2)
