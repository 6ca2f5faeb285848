"""NumPy semantics inside hybridized numpy-mode blocks (issue 23, NP-GRAPH): comparisons, maximum/minimum and where
across dtypes, matmul with 1-D operands, the reductions behind var/std/average/trace/any/all (shape () over every
axis), sum/mean given a dtype, bitwise functions, integer mod's gradient. Truths: MXNet 1.9.1's hybridized
results (tests/fixtures/mxnet-1.9.1/np_graph/, made by reference/np_graph_fixtures.py), NumPy, and the array side
where it agrees with MXNet."""
import json
import os

import numpy as onp
import pytest

from dataflow import autograd, np
from dataflow.base import MXNetError
from tests.numpy_blocks import Apply, np_mode, run_both  # noqa: F401 - np_mode: autouse fixture
from tests.test_numpy_symbol import check_both

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "np_graph")
BINARY = json.load(open(os.path.join(FIXTURES, "binary.json")))
FUNCTIONS = json.load(open(os.path.join(FIXTURES, "functions.json")))


def hybridized(fn, *host_inputs):
    block = Apply(fn)
    block.hybridize()
    out = block(*[np.array(x, dtype=x.dtype) for x in host_inputs])
    return out.asnumpy()


def check_recorded(record, fn, *host_inputs):
    """The hybridized `fn` gives MXNet's `record`: its dtype, shape and values, or an MXNetError where MXNet
    refused."""
    if "error" in record:
        with pytest.raises(MXNetError):
            hybridized(fn, *host_inputs)
        return
    out = hybridized(fn, *host_inputs)
    assert (str(out.dtype), list(out.shape)) == (record["dtype"], record["shape"])
    onp.testing.assert_allclose(out.astype(onp.float64).reshape(-1), record["value"], rtol=1e-6)


# -- comparisons, maximum/minimum, where: operands of one dtype, as MXNet 1.9.1 ------------------------------------
@pytest.mark.parametrize("key", sorted(BINARY["pairs"]))
def test_binary_functions_across_dtypes_are_mxnets(key):
    op, lhs_dtype, rhs_dtype = key.split("/")
    lhs = onp.array(BINARY["lhs"]).astype(lhs_dtype)
    rhs = onp.array(BINARY["rhs"]).astype(rhs_dtype)
    check_recorded(BINARY["pairs"][key], lambda F, x, y: getattr(F.np, op)(x, y), lhs, rhs)


@pytest.mark.parametrize("key", sorted(BINARY["where"]))
def test_where_across_dtypes_is_mxnets(key):
    condition_dtype, x_dtype, y_dtype = key.split("/")
    condition = onp.array(BINARY["condition"]).astype(condition_dtype)
    x, y = onp.array(BINARY["lhs"]).astype(x_dtype), onp.array(BINARY["rhs"]).astype(y_dtype)
    check_recorded(BINARY["where"][key], lambda F, c, a, b: F.np.where(c, a, b), condition, x, y)


def test_a_refused_pair_names_the_node_and_both_dtypes():
    with pytest.raises(MXNetError, match=r"maximum.*(int8.*float32|float32.*int8)"):
        hybridized(lambda F, x, y: F.np.maximum(x, y), onp.ones(3, "int8"), onp.ones(3, "float32"))


# -- functions built on the numpy-mode reductions ----------------------------------------------------------------------
BUILDERS = {      # reference/np_graph_fixtures.py's FUNCTIONS (the tests never import mxnet)
    "var/int32": lambda F, x: F.np.var(x),
    "var/int32/axis0": lambda F, x: F.np.var(x, axis=0),
    "std/int32/axis1/ddof1": lambda F, x: F.np.std(x, axis=1, ddof=1),
    "var/float32": lambda F, x: F.np.var(x),
    "var/float32/keepdims": lambda F, x: x.var(keepdims=True),
    "std/float32/ddof1": lambda F, x: x.std(ddof=1),
    "std/float32/axis0/float64": lambda F, x: x.std(axis=0, dtype="float64"),
    "average/int32": lambda F, x: F.np.average(x),
    "average/int32/axis1": lambda F, x: F.np.average(x, axis=1),
    "average/float32": lambda F, x: F.np.average(x),
    "average/float32/weights": lambda F, x: F.np.average(x, weights=F.np.abs(x)),
    "trace/int8": lambda F, x: F.np.trace(x),
    "trace/float32": lambda F, x: F.np.trace(x),
    "trace/float32/offset1": lambda F, x: F.np.trace(x, offset=1),
    "any/int32": lambda F, x: F.np.any(x),
    "any/float32/axis0": lambda F, x: F.np.any(x, axis=0),
    "all/int32": lambda F, x: F.np.all(x),
    "all/float32/keepdims": lambda F, x: F.np.all(x, keepdims=True),
    "sum/bool": lambda F, x: F.np.sum(x),
    "sum/bool/axis0": lambda F, x: x.sum(axis=0),
    "prod/bool": lambda F, x: F.np.prod(x),
    "max/bool": lambda F, x: F.np.max(x),
    "mean/bool": lambda F, x: F.np.mean(x),
    "bitwise_not/int8": lambda F, x: F.np.bitwise_not(x),
    "bitwise_not/int32": lambda F, x: F.np.bitwise_not(x),
    "bitwise_not/uint8": lambda F, x: F.np.bitwise_not(x),
    "bitwise_not/int64": lambda F, x: F.np.bitwise_not(x),
    "bitwise_not/bool": lambda F, x: F.np.bitwise_not(x),
    "invert/int32": lambda F, x: F.np.invert(x),
    "invert/bool": lambda F, x: F.np.invert(x),
    "bitwise_not/float32": lambda F, x: F.np.bitwise_not(x),
}
@pytest.mark.parametrize("key", sorted(FUNCTIONS["results"]))
def test_functions_are_mxnets(key):
    dtype = key.split("/")[1]
    data = onp.array(FUNCTIONS["data"])
    check_recorded(FUNCTIONS["results"][key], BUILDERS[key], (data > 0) if dtype == "bool" else data.astype(dtype))


@pytest.mark.parametrize("fn", [lambda F, x: F.np.var(x), lambda F, x: F.np.std(x, axis=0, ddof=1),
                                lambda F, x: F.np.average(x, axis=1), lambda F, x: x.var(axis=1, keepdims=True)])
def test_integer_moments_keep_the_dtype_on_both_sides(fn):
    # MXNet 1.9.1 (and the array side) truncate the float result into the integer dtype
    x = onp.array([[1, -2, 3, 7], [4, 0, -3, -9], [5, 5, -1, 2]], "int32")
    want = onp.asarray(fn(onp_namespace(), x.astype(onp.float64)))
    imperative, hybrid = run_both(fn, x)
    for got in (imperative[0], hybrid[0]):
        assert got.dtype == onp.int32 and got.shape == want.shape
        onp.testing.assert_array_equal(got, onp.trunc(want).astype(onp.int32))


def onp_namespace():
    class F:
        np = onp
    return F


@pytest.mark.parametrize("fn", [lambda F, x: F.np.var(x), lambda F, x: x.std(axis=1, ddof=1),
                                lambda F, x: F.np.average(x, axis=(0, 2)), lambda F, x: F.np.trace(x[0]),
                                lambda F, x: F.np.any(x > 0.5, axis=1), lambda F, x: F.np.all(x > -0.5),
                                lambda F, x: x.var(keepdims=True)])
def test_reductions_give_numpys_shapes_imperatively_and_hybridized(fn):
    x = onp.random.RandomState(3).uniform(-1, 1, (2, 3, 4)).astype("float32")
    check_both(fn, onp.asarray(fn(onp_namespace(), x)), x)


def test_any_and_all_of_no_elements():
    empty = onp.zeros((2, 0), "float32")
    for fn in (lambda F, x: F.np.any(x), lambda F, x: F.np.all(x), lambda F, x: F.np.any(x, axis=1),
               lambda F, x: F.np.all(x, axis=1)):
        want = onp.asarray(fn(onp_namespace(), empty))
        out = hybridized(fn, empty)
        assert out.dtype == onp.bool_ and out.shape == want.shape
        onp.testing.assert_array_equal(out, want)


def test_moment_methods_and_dot_method():
    a = onp.random.RandomState(4).uniform(-1, 1, (3, 4)).astype("float32")
    b = onp.random.RandomState(5).uniform(-1, 1, (4,)).astype("float32")
    check_both(lambda F, x, y: (x.var(axis=0, ddof=1), x.std(), x.dot(y)),
               [a.var(axis=0, ddof=1), a.std(), a.dot(b)], a, b, rtol=1e-5, atol=1e-6)


# -- sum and mean given a dtype --------------------------------------------------------------------------------------
_DTYPE_PAIRS = [("float16", "float16"), ("float32", "float16"), ("float16", "float32"), ("float32", "float64"),
                ("int8", "int32")]


# the mean of floats into an integer dtype too (MXNet's harness draws no float sum into one)
@pytest.mark.parametrize("function, given, dtype", [("sum",) + pair for pair in _DTYPE_PAIRS]
                         + [("mean",) + pair for pair in _DTYPE_PAIRS + [("float32", "int32")]])
def test_sum_and_mean_with_a_dtype(function, given, dtype):
    x = onp.random.RandomState(6).uniform(-100, 100, (3, 50)).astype(given)
    # NumPy's accumulation in a wide type (MXNet's harness: float16 -> float32, float32 -> float64), then the cast
    want = getattr(onp, function)(x.astype(onp.float64), axis=1).astype(dtype)
    block = Apply(lambda F, a: getattr(F.np, function)(a, axis=1, dtype=dtype))
    block.hybridize()
    arr = np.array(x, dtype=given)
    arr.attach_grad()
    with autograd.record():
        out = block(arr)
    out.backward()
    assert out.dtype == onp.dtype(dtype) and out.shape == want.shape
    tol = 2e-3 if "float16" in (given, dtype) else 1e-6
    onp.testing.assert_allclose(out.asnumpy().astype(onp.float64), want.astype(onp.float64), rtol=tol, atol=tol)
    if given.startswith("float"):       # the gradient in the data's dtype: exactly 1 or 1/n, as MXNet's harness
        spread = onp.ones(x.shape, given) / (x.shape[1] if function == "mean" else 1)
        onp.testing.assert_array_equal(arr.grad.asnumpy(), spread)


def test_sum_and_prod_of_bools_count_in_int64():
    x = onp.array([[True, False, True], [True, True, False]])
    out = hybridized(lambda F, a: F.np.sum(a, axis=0), x)
    assert out.dtype == onp.int64
    onp.testing.assert_array_equal(out, x.sum(axis=0))
    out = hybridized(lambda F, a: F.np.prod(a, axis=1), x)
    assert out.dtype == onp.int64
    onp.testing.assert_array_equal(out, x.prod(axis=1))


# -- matmul with 1-D operands ----------------------------------------------------------------------------------------
MATMUL = onp.load(os.path.join(FIXTURES, "matmul.npz"))


@pytest.mark.parametrize("key", sorted({k.split("/")[0] for k in MATMUL.files}))
def test_matmul_and_its_gradients_are_mxnets(key):
    a, b, head = MATMUL[key + "/a"], MATMUL[key + "/b"], MATMUL[key + "/head"]
    block = Apply(lambda F, x, y: F.np.matmul(x, y))
    block.hybridize()
    x, y = np.array(a), np.array(b)
    x.attach_grad()
    y.attach_grad()
    with autograd.record():
        out = block(x, y)
    out.backward(np.array(head))
    for got, name in ((out, "out"), (x.grad, "grad_a"), (y.grad, "grad_b")):
        want = MATMUL["%s/%s" % (key, name)]
        assert got.shape == want.shape, name
        onp.testing.assert_allclose(got.asnumpy(), want, rtol=1e-5, atol=1e-6)


# -- integer functions and mod's gradient ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor", "lcm"])
def test_integer_binary_functions(name):
    a = onp.array([[6, -3, 12], [5, 0, 7]], "int32")
    b = onp.array([4, 9, -8], "int32")
    fn = lambda F, x, y: getattr(F.np, name)(x, y)  # noqa: E731
    onp.testing.assert_array_equal(hybridized(fn, a, b), getattr(onp, name)(a, b))
    with_number = hybridized(lambda F, x: getattr(F.np, name)(x, 6), a)
    onp.testing.assert_array_equal(with_number, getattr(onp, name)(a, onp.int32(6)))
    with pytest.raises(MXNetError, match="_npi_%s.*integer types, not float32" % name):
        hybridized(fn, a.astype("float32"), b.astype("float32"))


MOD = onp.load(os.path.join(FIXTURES, "mod_grad.npz"))


@pytest.mark.parametrize("dtype", ["int32", "float32"])
def test_mod_gradient_is_mxnets(dtype):
    block = Apply(lambda F, x, y: F.np.mod(x, y))
    block.hybridize()
    x, y = np.array(MOD[dtype + "/a"]), np.array(MOD[dtype + "/b"])
    x.attach_grad()
    y.attach_grad()
    with autograd.record():
        out = block(x, y)
    out.backward()
    onp.testing.assert_array_equal(out.asnumpy(), MOD[dtype + "/out"])
    onp.testing.assert_array_equal(x.grad.asnumpy(), MOD[dtype + "/grad_a"])
    onp.testing.assert_array_equal(y.grad.asnumpy(), MOD[dtype + "/grad_b"])


def test_uint8_with_int8_is_refused_as_mxnet():
    # MXNet 1.9.1 raises MXNetError (tests/fixtures/mxnet-1.9.1/np_sem/promotion.json, "add/int8/uint8")
    with pytest.raises(MXNetError, match="_npi_add.*uint8 and int8"):
        hybridized(lambda F, x, y: x + y, onp.ones(2, "uint8"), onp.ones(2, "int8"))


def test_run_both_agrees_for_bitwise_not():
    x = onp.array([[1, -2, 3], [0, 5, -6]], "int32")
    imperative, hybrid = run_both(lambda F, a: F.np.bitwise_not(a), x)
    onp.testing.assert_array_equal(hybrid[0], onp.bitwise_not(x))
    onp.testing.assert_array_equal(imperative[0], onp.bitwise_not(x))


@pytest.mark.parametrize("name, axis, ddof", [("var", None, 0), ("var", 1, 1), ("std", None, 1), ("std", (0, 2), 0)])
def test_var_and_std_gradients(name, axis, ddof):
    x = onp.random.RandomState(8).uniform(-1, 1, (3, 4, 2))
    n = x.size if axis is None else onp.prod([x.shape[a] for a in onp.atleast_1d(axis)])
    deviation = x - x.mean(axis=axis, keepdims=True)
    value = getattr(onp, name)(x, axis=axis, ddof=ddof, keepdims=True)
    # d var/dx = 2 (x - mean) / (n - ddof); d std/dx = (x - mean) / ((n - ddof) std)
    want = 2 * deviation / (n - ddof) if name == "var" else deviation / ((n - ddof) * value)
    block = Apply(lambda F, a: getattr(F.np, name)(a, axis=axis, ddof=ddof))
    block.hybridize()
    arr = np.array(x, dtype="float64")
    arr.attach_grad()
    with autograd.record():
        out = block(arr)
    out.backward()
    onp.testing.assert_allclose(out.asnumpy(), getattr(onp, name)(x, axis=axis, ddof=ddof), rtol=1e-12)
    onp.testing.assert_allclose(arr.grad.asnumpy(), want, rtol=1e-10, atol=1e-12)
