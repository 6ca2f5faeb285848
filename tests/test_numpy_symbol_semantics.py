"""NumPy semantics inside hybridized numpy-mode blocks (issue 23, NP-SEM): NumPy's dot / tensordot / vdot / inner /
outer with their gradients, mixed dtypes promoted as MXNet's numpy mode does, true division of integers as float32,
checked against MXNet 1.9.1 (tests/fixtures/mxnet-1.9.1/np_sem/, made by reference/np_sem_fixtures.py), against NumPy
and against the same code run on mx.np arrays."""
import json
import operator
import os

import numpy as onp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dataflow as mx
from dataflow import autograd, np
from dataflow.base import MXNetError
from tests.numpy_blocks import Apply, np_mode, run_both  # noqa: F401 - np_mode: autouse fixture
from tests.test_numpy_symbol import _np_graph, check_both

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "np_sem")
with open(os.path.join(FIXTURES, "promotion.json")) as _f:
    PROMOTION = json.load(_f)
CONTRACTION = dict(onp.load(os.path.join(FIXTURES, "contraction.npz")))
OPERATORS = {"add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
             "true_divide": operator.truediv, "mod": operator.mod, "power": operator.pow}
RS = onp.random.RandomState(3)


def _hybridized(fn):
    block = Apply(fn)
    block.hybridize()
    return block


def _outcome(block, *arrays):
    """{"dtype", "value"} of the block's output, or {"error"} when it refuses the inputs."""
    try:
        out = block(*arrays)
        return {"dtype": str(out.dtype), "value": out.asnumpy().astype(onp.float64)}
    except MXNetError as err:
        return {"error": str(err)}


def _check_outcome(key, got, want):
    if "error" in want:
        assert "error" in got, (key, got)
        return
    assert "error" not in got, (key, got["error"])
    assert got["dtype"] == want["dtype"], (key, got["dtype"], want["dtype"])
    onp.testing.assert_allclose(got["value"], want["value"], rtol=1e-3, err_msg=key)


def _operands(lhs_dtype, rhs_dtype=None):
    lhs = onp.array(PROMOTION["lhs"]).astype(lhs_dtype)
    rhs = None if rhs_dtype is None else onp.array(PROMOTION["rhs"]).astype(rhs_dtype)
    return lhs, rhs


# -- 2. mixed dtypes promote as MXNet's numpy mode does ---------------------------------------------------------------
@pytest.mark.parametrize("op", sorted(OPERATORS))
def test_array_operands_promote_as_mxnet(op):
    """Every pair of dtypes: the hybridized block's dtype and values are MXNet's, or it is refused as MXNet's is;
    the values are NumPy's and the array side's (where both give one)."""
    for key, want in PROMOTION["pairs"].items():
        name, lhs_dtype, rhs_dtype = key.split("/")
        if name != op:
            continue
        lhs, rhs = _operands(lhs_dtype, rhs_dtype)
        got = _outcome(_hybridized(lambda F, x, y: getattr(F.np, op)(x, y)), np.array(lhs, dtype=lhs_dtype),
                       np.array(rhs, dtype=rhs_dtype))
        _check_outcome(key, got, want)
        if "error" in want:
            assert lhs_dtype in got["error"] and rhs_dtype in got["error"] and "_npi_" + op in got["error"], got
            continue
        with onp.errstate(all="ignore"):
            numpy_value = getattr(onp, op)(lhs.astype(want["dtype"]), rhs.astype(want["dtype"]))
        onp.testing.assert_allclose(got["value"], numpy_value.astype(onp.float64), rtol=1e-3, err_msg=key)
        try:    # the array side (dataflow/numpy/multiarray.py) refuses bool ** bool, which MXNet computes
            imperative = getattr(np, op)(np.array(lhs, dtype=lhs_dtype), np.array(rhs, dtype=rhs_dtype))
        except MXNetError:
            assert key == "power/bool/bool", key
            continue
        onp.testing.assert_allclose(got["value"], imperative.asnumpy().astype(onp.float64), rtol=1e-3, err_msg=key)


@pytest.mark.parametrize("op", sorted(OPERATORS))
def test_numbers_give_mxnet_dtypes(op):
    """An array with a number, as `F.np.op(x, n)`, `F.np.op(n, x)`, `x op n` and `n op x`: MXNet's dtypes (an
    integer array stays integer with an integer number in `x op n` and `n + x` only) and NumPy's values."""
    for key, want in PROMOTION["scalar"].items():
        name, dtype, number, side = key.split("/")
        if name != op:
            continue
        number = float(number) if "." in number else int(number)
        function = OPERATORS[op] if side.endswith("o") else None

        def fn(F, x, _function=function, _number=number, _reflected=side.startswith("r")):
            call = _function or getattr(F.np, op)
            return call(_number, x) if _reflected else call(x, _number)
        x, _ = _operands(dtype)
        got = _outcome(_hybridized(fn), np.array(x, dtype=dtype))
        _check_outcome(key, got, want)
        with onp.errstate(all="ignore"):
            operands = (number, x.astype(onp.float64)) if side.startswith("r") else (x.astype(onp.float64), number)
            numpy_value = getattr(onp, op)(*operands)
        if op == "mod":     # a zero divisor gives 0 in MXNet, NaN in NumPy
            numpy_value = onp.nan_to_num(numpy_value, nan=0.0)
        numpy_value = numpy_value.astype(want["dtype"])
        onp.testing.assert_allclose(got["value"], numpy_value.astype(onp.float64), rtol=1e-3, err_msg=key)


def test_mixed_dtype_gradients_are_summed_and_cast_back():
    """float32 (2, 3) * float64 (3,): a float64 product; each gradient has its operand's shape and dtype."""
    a = RS.uniform(-1, 1, (2, 3)).astype("float32")
    b = RS.uniform(-1, 1, (3,)).astype("float64")
    for hybridize in (False, True):
        block = Apply(lambda F, x, y: x * y / (y + 2) - x)
        if hybridize:
            block.hybridize()
        x, y = np.array(a, dtype="float32"), np.array(b, dtype="float64")
        x.attach_grad()
        y.attach_grad()
        with autograd.record():
            out = block(x, y)
        out.backward()
        assert out.dtype == onp.float64 and x.grad.dtype == onp.float32 and y.grad.dtype == onp.float64
        onp.testing.assert_allclose(x.grad.asnumpy(), onp.broadcast_to(b / (b + 2) - 1, a.shape), rtol=1e-5)
        onp.testing.assert_allclose(y.grad.asnumpy(), (a.astype("float64") * 2 / (b + 2) ** 2).sum(axis=0),
                                    rtol=1e-5)


def test_refused_pair_names_the_node_and_dtypes():
    block = _hybridized(lambda F, x, y: x + y)
    with pytest.raises(MXNetError, match=r"_npi_add.*int8 and uint8"):
        block(np.array([1, 2], dtype="int8"), np.array([1, 2], dtype="uint8"))


def test_mxnet_numpy_json_of_mixed_dtypes_loads_as_one_node():
    """MXNet's `_npi_multiply` / `_npi_true_divide` nodes are read as themselves and promote."""
    for op, want in (("_npi_multiply", "float32"), ("_npi_true_divide", "float32"), ("_npi_power", "int64")):
        graph = {"nodes": [{"op": "null", "name": "a", "inputs": []}, {"op": "null", "name": "b", "inputs": []},
                           {"op": op, "name": "y", "inputs": [[0, 0, 0], [1, 0, 0]]}],
                 "arg_nodes": [0, 1], "heads": [[2, 0, 0]], "attrs": {"mxnet_version": ["int", 10901],
                                                                      "is_np_shape": ["int", 1]}}
        sym = mx.sym.load_json(json.dumps(graph))
        assert [n["op"] for n in json.loads(sym.tojson())["nodes"]] == ["null", "null", op]
        a = onp.array([[1, 2, 3], [4, 5, 6]], "int32")
        b = onp.array([1, 2, 3], "float32" if want == "float32" else "int64")
        out = sym.eval(ctx=mx.cpu(), a=mx.nd.array(a, dtype="int32"), b=mx.nd.array(b, dtype=b.dtype))[0]
        assert out.dtype == onp.dtype(want), op
        function = {"_npi_multiply": onp.multiply, "_npi_true_divide": onp.true_divide, "_npi_power": onp.power}[op]
        onp.testing.assert_allclose(out.asnumpy(), function(a, b), rtol=1e-6)


# -- 3. true division of integers is float32 --------------------------------------------------------------------------
def test_true_division_of_integers_is_float32_in_a_graph():
    a = onp.array([[0, 1, 3], [5, -7, 9]], dtype="int32")
    b = onp.array([2, -4, 3], dtype="int32")
    fn = lambda F, x, y: [x / 2, x / y, 3 / y, F.np.true_divide(x, y), F.np.divide(x, 4), x / 2.5]  # noqa: E731
    expected = [a / 2, a / b, 3 / b, a / b, a / 4, a / 2.5]
    imperative, hybrid = run_both(fn, a, b)
    for ours_i, ours_h, want in zip(imperative, hybrid, expected):
        assert ours_i.dtype == onp.float32 and ours_h.dtype == onp.float32, (ours_i.dtype, ours_h.dtype)
        onp.testing.assert_allclose(ours_h, want.astype(onp.float32), rtol=1e-6)
        onp.testing.assert_allclose(ours_h, ours_i, rtol=1e-6)


# -- 1. dot and the other contractions are NumPy's --------------------------------------------------------------------
def test_contractions_match_mxnet():
    c = CONTRACTION
    fn = lambda F, a, b3, b1, cc: (F.np.dot(a, b3), F.np.dot(a, b1), F.np.tensordot(a, cc, axes=1),  # noqa: E731
                                   F.np.tensordot(b3, cc, axes=([1, 2], [0, 1])), F.np.vdot(a, a),
                                   F.np.inner(a, b3.sum(axis=0).T), F.np.outer(b1, cc))
    inputs = (c["a"], c["b3"], c["b1"], c["c"])
    a, b3, b1, cc = inputs
    numpy = [onp.dot(a, b3), onp.dot(a, b1), onp.tensordot(a, cc, 1), onp.tensordot(b3, cc, ([1, 2], [0, 1])),
             onp.vdot(a, a), onp.inner(a, b3.sum(axis=0).T), onp.outer(b1, cc)]
    imperative, hybrid = run_both(fn, *inputs)
    for k, (ours_i, ours_h, want) in enumerate(zip(imperative, hybrid, numpy)):
        mxnet = c["y%d" % k]
        assert mxnet.shape == want.shape
        assert ours_h.shape == want.shape and ours_h.dtype == mxnet.dtype, (k, ours_h.shape)    # vdot: ()
        onp.testing.assert_allclose(ours_h, mxnet, rtol=1e-5, atol=1e-6)
        onp.testing.assert_allclose(ours_h, want, rtol=1e-5, atol=1e-6)
        onp.testing.assert_allclose(ours_i, mxnet, rtol=1e-5, atol=1e-6)


def test_dot_gradient_matches_mxnet():
    c = CONTRACTION
    for hybridize in (False, True):
        block = Apply(lambda F, x, y: F.np.dot(x, y))
        if hybridize:
            block.hybridize()
        a, b = np.array(c["a"]), np.array(c["b3"])
        a.attach_grad()
        b.attach_grad()
        with autograd.record():
            out = block(a, b)
        out.backward(np.array(c["head"]))
        onp.testing.assert_allclose(a.grad.asnumpy(), c["grad_a"], rtol=1e-5, atol=1e-6)
        onp.testing.assert_allclose(b.grad.asnumpy(), c["grad_b3"], rtol=1e-5, atol=1e-6)


def _shapes_for_dot(draw):
    a = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(1, 3))))
    b = [draw(st.integers(1, 3)) for _ in range(draw(st.integers(1, 4)))]
    b[0 if len(b) == 1 else len(b) - 2] = a[-1]
    return a, tuple(b)


@settings(deadline=None, max_examples=15)
@given(data=st.data())
def test_dot_of_any_ranks_is_numpys(data):
    """Hybridized == imperative == NumPy, values and the gradients of sum(dot(a, b))."""
    shape_a, shape_b = _shapes_for_dot(data.draw)
    a = RS.uniform(-1, 1, shape_a).astype("float32")
    b = RS.uniform(-1, 1, shape_b).astype("float32")
    want = onp.dot(a, b)
    imperative, hybrid = run_both(lambda F, x, y: F.np.dot(x, y), a, b)
    assert imperative[0].shape == want.shape and hybrid[0].shape == want.shape
    onp.testing.assert_allclose(hybrid[0], want, rtol=1e-5, atol=1e-5)
    onp.testing.assert_allclose(imperative[0], want, rtol=1e-5, atol=1e-5)
    ones = onp.ones(want.shape, "float64")
    axes_b = [i for i in range(b.ndim) if i != (0 if b.ndim == 1 else b.ndim - 2)]
    grad_a = onp.tensordot(ones, b.astype("float64"), (list(range(a.ndim - 1, ones.ndim)), axes_b))
    grad_a = grad_a.reshape(a.shape)
    grad_b = onp.tensordot(a.astype("float64"), ones, (list(range(a.ndim - 1)), list(range(a.ndim - 1))))
    grad_b = onp.moveaxis(grad_b, 0, 0 if b.ndim == 1 else b.ndim - 2)
    for hybridize in (False, True):
        block = Apply(lambda F, x, y: F.np.dot(x, y))
        if hybridize:
            block.hybridize()
        x, y = np.array(a), np.array(b)
        x.attach_grad()
        y.attach_grad()
        with autograd.record():
            out = block(x, y)
        out.backward()
        onp.testing.assert_allclose(x.grad.asnumpy(), grad_a, rtol=1e-5, atol=1e-5)
        onp.testing.assert_allclose(y.grad.asnumpy(), grad_b, rtol=1e-5, atol=1e-5)


def test_tensordot_inner_outer_vdot_of_integers_and_negative_axes():
    a = RS.randint(-5, 5, (2, 3, 4)).astype("int32")
    b = RS.randint(-5, 5, (4, 3)).astype("int32")
    fn = lambda F, x, y: [F.np.tensordot(x, y, axes=([-1, 1], [0, -1])), F.np.inner(x, y.T),  # noqa: E731
                          F.np.outer(x, y), F.np.tensordot(x, y, axes=0)]
    want = [onp.tensordot(a, b, ([-1, 1], [0, -1])), onp.inner(a, b.T), onp.outer(a, b), onp.tensordot(a, b, 0)]
    imperative, hybrid = run_both(fn, a, b)
    for ours_i, ours_h, w in zip(imperative, hybrid, want):
        assert ours_h.dtype == w.dtype == ours_i.dtype and ours_h.shape == w.shape
        onp.testing.assert_array_equal(ours_h, w)


def test_contraction_errors_name_the_node_and_shapes():
    block = _hybridized(lambda F, x, y: F.np.dot(x, y))
    with pytest.raises(MXNetError, match=r"_np_dot.*shape-mismatch.*\[2,3\].*\[4,5,6\]"):
        block(np.ones((2, 3)), np.ones((4, 5, 6)))
    block = _hybridized(lambda F, x, y: F.np.tensordot(x, y, axes=([0], [5])))
    with pytest.raises(MXNetError, match=r"_npi_tensordot.*axis 5 is out of range"):
        block(np.ones((2, 3)), np.ones((2, 3)))


def test_mxnet_np_dot_json_is_numpys_dot():
    graph = _np_graph("_np_dot", {})
    doc = json.loads(graph)
    doc["nodes"].insert(1, {"op": "null", "name": "w", "inputs": []})
    doc["nodes"][2]["inputs"] = [[0, 0, 0], [1, 0, 0]]
    doc["arg_nodes"], doc["heads"] = [0, 1], [[2, 0, 0]]
    sym = mx.sym.load_json(json.dumps(doc))
    a, b = RS.uniform(-1, 1, (2, 4)).astype("float32"), RS.uniform(-1, 1, (3, 4, 5)).astype("float32")
    out = sym.eval(ctx=mx.cpu(), **{doc["nodes"][0]["name"]: mx.nd.array(a), "w": mx.nd.array(b)})[0]
    onp.testing.assert_allclose(out.asnumpy(), onp.dot(a, b), rtol=1e-5, atol=1e-6)


# -- 4. zero-dim results are zero-dim arrays --------------------------------------------------------------------------
def test_reductions_over_every_axis_are_zero_dim_as_mxnet():
    with open(os.path.join(FIXTURES, "zero_dim.json")) as f:
        mxnet = json.load(f)
    fn = lambda F, x: (x.sum(), F.np.mean(x), x.max(), x.sum() + 1, F.np.sum(x, axis=(0, 1)))  # noqa: E731
    x = onp.arange(6.0).reshape(2, 3).astype("float32")
    imperative, hybrid = run_both(fn, x)
    for k, (ours_i, ours_h) in enumerate(zip(imperative, hybrid)):
        assert list(ours_h.shape) == mxnet["shapes"][k] == list(ours_i.shape), (k, ours_h.shape)
        onp.testing.assert_allclose(ours_h, mxnet["values"][k], rtol=1e-6)


@pytest.mark.parametrize("name, fn, numpy_fn", [
    ("argmax", lambda F, x: F.np.argmax(x), lambda x: onp.argmax(x)),
    ("index", lambda F, x: x[1, 2], lambda x: x[1, 2]),
    ("squeeze", lambda F, x: F.np.squeeze(x[:1, :1]), lambda x: onp.squeeze(x[:1, :1])),
    ("dot_1d", lambda F, x: F.np.dot(x[0], x[1]), lambda x: onp.dot(x[0], x[1])),
    ("chain", lambda F, x: F.np.exp(x.mean() / 4) * 2 > 1, lambda x: onp.exp(x.mean() / 4) * 2 > 1),
    ("broadcast", lambda F, x: x.sum() * x - x.max(), lambda x: x.sum() * x - x.max()),
    ("int_mean", lambda F, x: F.np.mean(x.astype("int32")), lambda x: onp.float32(x.astype("int32").mean())),
    ("keepdims", lambda F, x: x.sum(keepdims=True), lambda x: x.sum(keepdims=True)),
    ("broadcast_to_scalar", lambda F, x: F.np.broadcast_to(x.max(), ()), lambda x: x.max()),
])
def test_zero_dim_results_in_a_graph(name, fn, numpy_fn):
    x = onp.arange(6.0).reshape(2, 3).astype("float32")
    check_both(fn, numpy_fn(x), x)


def test_zero_dim_inputs_and_their_gradients():
    s, x = onp.array(2.0, "float32"), onp.ones((2, 3), "float32")
    check_both(lambda F, a, b: a * b + F.np.exp(a), s * x + onp.exp(s), s, x)
    block = _hybridized(lambda F, a, b: (a * b).sum() + a)
    a, b = np.array(s), np.array(x)
    a.attach_grad()
    with autograd.record():
        out = block(a, b)
    out.backward()
    assert out.shape == () and a.grad.shape == () and float(a.grad) == 7.0


def test_export_of_a_zero_dim_graph_loads_as_one(tmp_path):
    block = _hybridized(lambda F, x: F.np.sum(x * 2))
    x = onp.arange(6.0).reshape(2, 3).astype("float32")
    assert block(np.array(x)).shape == ()
    block.export(str(tmp_path / "zd"))
    ops = [n["op"] for n in json.loads((tmp_path / "zd-symbol.json").read_text())["nodes"]]
    assert "_np_sum" in ops and "_mul_scalar" in ops, ops      # MXNet's own name for np.sum
    loaded = mx.gluon.SymbolBlock.imports(str(tmp_path / "zd-symbol.json"), ["data"])
    out = loaded(np.array(x))
    assert out.shape == () and float(out) == 30.0
