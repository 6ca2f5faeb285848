"""What MXNet's own sparse unit tests exercise beyond tests/test_sparse_ops.py (issue 22), against MXNet 1.9.1's
recorded behaviour (reference/sparse_ops_fixtures.py `issue22` -> tests/fixtures/mxnet-1.9.1/sparse_ops/issue22.*)
and numpy: `mx.nd.sparse.adagrad_update` (`_sparse_adagrad_update`) and mx.optimizer.AdaGrad on row_sparse
gradients, the straight-through estimators `contrib.round_ste` / `contrib.sign_ste`, gamma / gammaln gradients at
their poles, FullyConnected with a (num_hidden, 1) bias, and elemwise_mul of a sparse and a dense variable in a bound
graph."""
import json
import os
import warnings

import numpy as np
import pytest

import dataflow as mx
from dataflow.base import MXNetError
from scheduler import infer_storage
from scheduler.graph import IndexedGraph

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "sparse_ops")
with open(os.path.join(FIXTURES, "issue22.json")) as _f:
    RECORD = json.load(_f)
ARRAYS = np.load(os.path.join(FIXTURES, "issue22.npz"))


def make(stype, value):
    dense = mx.nd.array(value, dtype=value.dtype)
    return dense if stype == "default" else dense.tostype(stype)


@pytest.fixture(autouse=True)
def _quiet_fallback():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# -- adagrad_update ----------------------------------------------------------------------------------------------------

def adagrad_numpy(weight, grad, history, lr, epsilon=1e-7, rescale_grad=1.0, clip_gradient=-1.0):
    """MXNet's documented rule, on every row (a zero gradient row changes nothing: there is no weight decay)."""
    g = rescale_grad * grad.astype(np.float64)
    if clip_gradient > 0:
        g = np.clip(g, -clip_gradient, clip_gradient)
    history = history + g * g
    return weight - lr * g / np.sqrt(history + epsilon), history


ADAGRAD_CASES = [c for c in RECORD["adagrad"] if c["key"] != "adagrad/optimizer"]


@pytest.mark.parametrize("case", ADAGRAD_CASES, ids=[c["key"] for c in ADAGRAD_CASES])
def test_adagrad_update_matches_mxnet(case):
    inputs = [make(s, ARRAYS["adagrad/" + n]) for s, n in zip(case["stypes"], ("weight", "grad", "history"))]
    weight, _, history = inputs
    kwargs = case["kwargs"]
    if kwargs.get("wd"):            # MXNet: "Operator not implemented" for any storage types
        with pytest.raises(MXNetError, match="wd"):
            mx.nd.sparse.adagrad_update(*inputs, out=weight, **kwargs).wait_to_read()
        return
    out = mx.nd.sparse.adagrad_update(*inputs, out=weight, **kwargs)
    assert out is weight
    if "error" in case:
        # MXNet 1.9.1 has no dense kernel (its storage inference refuses all-dense inputs); ours runs the rule
        want_w, want_h = adagrad_numpy(*(ARRAYS["adagrad/" + n] for n in ("weight", "grad", "history")), **kwargs)
        np.testing.assert_allclose(weight.asnumpy(), want_w, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(history.asnumpy(), want_h, rtol=1e-6, atol=1e-7)
        return
    assert out.stype == case["stype"] and history.stype == case["stypes"][2]
    np.testing.assert_array_equal(weight.asnumpy(), ARRAYS[case["key"] + "/weight"])      # the same rounding
    np.testing.assert_array_equal(history.asnumpy(), ARRAYS[case["key"] + "/history"])


def test_adagrad_optimizer_with_row_sparse_gradients_matches_mxnet():
    case = next(c for c in RECORD["adagrad"] if c["key"] == "adagrad/optimizer")
    updater = mx.optimizer.get_updater(mx.optimizer.AdaGrad(**case["kwargs"]))
    weight = mx.nd.array(ARRAYS["adagrad/weight"])
    for step, grad in enumerate((ARRAYS["adagrad/grad"], ARRAYS["adagrad/optimizer/grad2"])):
        updater(0, mx.nd.array(grad).tostype("row_sparse"), weight)
        np.testing.assert_array_equal(weight.asnumpy(), ARRAYS["adagrad/optimizer/weight%d" % step])
    assert updater.states[0].stype == case["history_stype"]
    np.testing.assert_array_equal(updater.states[0].asnumpy(), ARRAYS["adagrad/optimizer/history"])


def test_adagrad_row_sparse_weight_with_an_empty_row_sparse_history():
    """AdaGrad's state for a row_sparse weight is row_sparse zeros without rows: the update fills it."""
    rng = np.random.RandomState(0)
    w = rng.uniform(-1, 1, (5, 3)).astype(np.float32)
    g = np.zeros((5, 3), np.float32)
    g[[1, 4]] = rng.uniform(-1, 1, (2, 3))
    weight, history = make("row_sparse", w), mx.nd.sparse.zeros("row_sparse", (5, 3))
    mx.nd.sparse.adagrad_update(weight, make("row_sparse", g), history, out=weight, lr=0.5)
    want_w, want_h = adagrad_numpy(w, g, np.zeros_like(w), 0.5)
    np.testing.assert_allclose(weight.asnumpy(), want_w, rtol=1e-6)
    np.testing.assert_allclose(history.asnumpy(), want_h, rtol=1e-6)
    assert weight.stype == history.stype == "row_sparse"


def test_adagrad_update_refuses_a_partial_row_sparse_weight():
    weight = make("row_sparse", np.eye(4, 3, dtype=np.float32))        # rows 0..2 only
    grad = make("row_sparse", np.ones((4, 3), np.float32))
    with pytest.raises(MXNetError, match="all its rows"):
        mx.nd.sparse.adagrad_update(weight, grad, mx.nd.sparse.zeros("row_sparse", (4, 3)), out=weight, lr=0.1)


# -- straight-through estimators ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["round_ste", "sign_ste"])
def test_straight_through_estimators_match_mxnet(name):
    data = mx.nd.array(ARRAYS["ste/x"])
    data.attach_grad()
    with mx.autograd.record():
        out = getattr(mx.nd.contrib, name)(data)
    out.backward(mx.nd.array(ARRAYS["ste/head"]))
    np.testing.assert_array_equal(out.asnumpy(), ARRAYS["ste/%s/out" % name])
    np.testing.assert_array_equal(data.grad.asnumpy(), ARRAYS["ste/%s/grad" % name])      # the head, as is
    case = next(c for c in RECORD["ste"] if c["name"] == name)
    x = ARRAYS["ste/x"] * (np.abs(ARRAYS["ste/x"]) > 1)
    for stype, want in case["sparse_stypes"].items():
        result = getattr(mx.nd.sparse, "_contrib_" + name)(make(stype, x))
        assert result.stype == want
        np.testing.assert_array_equal(result.asnumpy(), ARRAYS["ste/%s/%s" % (name, stype)])


@pytest.mark.parametrize("name", ["round_ste", "sign_ste"])
def test_straight_through_estimators_in_a_bound_graph(name):
    x = ARRAYS["ste/x"]
    head = ARRAYS["ste/head"]
    symbol = getattr(mx.sym.contrib, name)(mx.sym.var("x")) * 3
    executor = symbol.simple_bind(mx.cpu(), x=x.shape)
    out = executor.forward(is_train=True, x=mx.nd.array(x))[0]
    executor.backward(mx.nd.array(head))
    reference = {"round_ste": lambda v: np.sign(v) * np.floor(np.abs(v) + 0.5), "sign_ste": np.sign}[name]
    np.testing.assert_array_equal(out.asnumpy(), 3 * reference(x))
    np.testing.assert_allclose(executor.grad_dict["x"].asnumpy(), 3 * head, rtol=1e-6)
    graph = IndexedGraph(getattr(mx.sym.contrib, name)(mx.sym.var("x", stype="csr"))._outputs)
    inferred = infer_storage.infer_storage(graph)
    assert inferred.entries[graph.heads[0]] == "csr" and inferred.fallback == []


# -- gamma / gammaln gradients at the poles ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["gamma", "gammaln"])
def test_gamma_gradients_match_mxnet(name, dtype):
    x = ARRAYS["gamma/x"]
    data = mx.nd.array(x, dtype=dtype)
    data.attach_grad()
    with mx.autograd.record():
        out = getattr(mx.nd, name)(data)
    out.backward(mx.nd.ones(x.shape, dtype=dtype))
    tag = "gamma/%s/%s" % (name, dtype)
    np.testing.assert_allclose(out.asnumpy(), ARRAYS[tag + "/out"], rtol=1e-5)
    np.testing.assert_allclose(data.grad.asnumpy(), ARRAYS[tag + "/grad"], rtol=1e-5)     # inf, -inf, nan placed alike


@pytest.mark.parametrize("name", ["gamma", "gammaln"])
def test_gamma_gradients_of_a_row_sparse_input_match_mxnet(name):
    dense = ARRAYS["gamma/%s/rsp_in" % name]
    executor = getattr(mx.sym.sparse, name)(mx.sym.var("data", stype="row_sparse")).bind(
        mx.cpu(), {"data": make("row_sparse", dense)}, args_grad={"data": mx.nd.zeros(dense.shape)})
    executor.forward(is_train=True)
    executor.backward(mx.nd.ones(dense.shape))
    np.testing.assert_allclose(executor.outputs[0].asnumpy(), ARRAYS["gamma/%s/rsp_out" % name], rtol=1e-5)
    np.testing.assert_allclose(executor.grad_dict["data"].asnumpy(), ARRAYS["gamma/%s/rsp_grad" % name], rtol=1e-5)


# -- FullyConnected with a (num_hidden, 1) bias ----------------------------------------------------------------------

def test_fully_connected_takes_a_column_bias_as_mxnet():
    x, w, b = (ARRAYS["fc_col/" + n] for n in "xwb")
    out = mx.nd.FullyConnected(mx.nd.array(x), mx.nd.array(w), mx.nd.array(b), num_hidden=3)
    np.testing.assert_allclose(out.asnumpy(), ARRAYS["fc_col/out"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(out.asnumpy(), x @ w.T + b.T, rtol=1e-6, atol=1e-7)
    symbol = mx.sym.FullyConnected(mx.sym.var("x"), mx.sym.var("w"), mx.sym.var("b"), num_hidden=3)
    arg_shapes, _, _ = symbol.infer_shape(x=(5, 4), w=(3, 4))
    assert [list(s) for s in arg_shapes] == RECORD["fc_col"]["infer_bias"]     # (num_hidden,) when not given
    assert symbol.infer_shape(x=(5, 4), w=(3, 4), b=(3, 1))[0][2] == (3, 1)
    executor = symbol.simple_bind(mx.cpu(), x=(5, 4), w=(3, 4), b=(3, 1), grad_req="null")
    bound = executor.forward(x=mx.nd.array(x), w=mx.nd.array(w), b=mx.nd.array(b))[0]
    np.testing.assert_allclose(bound.asnumpy(), ARRAYS["fc_col/out"], rtol=1e-6, atol=1e-7)


def test_fully_connected_column_bias_backward_is_an_error_as_in_mxnet():
    assert "Check failed" in RECORD["fc_col"]["backward_error"]
    args = [mx.nd.array(ARRAYS["fc_col/" + n]) for n in "xwb"]
    for a in args:
        a.attach_grad()
    with pytest.raises(MXNetError, match="FullyConnected"):
        with mx.autograd.record():
            y = mx.nd.FullyConnected(*args, num_hidden=3)
        y.backward(mx.nd.array(ARRAYS["fc_col/head"]))
        args[2].grad.wait_to_read()


# -- elemwise_mul of a sparse and a dense variable, bound --------------------------------------------------------------

@pytest.mark.parametrize("case", RECORD["mixed_mul"], ids=[c["key"] for c in RECORD["mixed_mul"]])
def test_bound_mixed_storage_elemwise_mul_matches_mxnet(case):
    """MXNet 1.9.1 keeps the sparse operand's storage type (its test_elemwise_binary_ops expects dense here, which
    MXNet 1.9.1 itself does not give)."""
    key, (lhs, rhs) = case["key"], case["stypes"]
    symbol = mx.sym.sparse.elemwise_mul(mx.sym.var("lhs", stype=lhs), mx.sym.var("rhs", stype=rhs))
    location = {"lhs": make(lhs, ARRAYS[key + "/lhs"]), "rhs": make(rhs, ARRAYS[key + "/rhs"])}
    executor = symbol.bind(mx.cpu(), location, args_grad={k: mx.nd.zeros((5, 4)) for k in location})
    executor.forward(is_train=True)
    out = executor.outputs[0]
    assert out.stype == case["out_stype"]
    np.testing.assert_allclose(out.asnumpy(), ARRAYS[key + "/out"], rtol=1e-6)
    executor.backward(mx.nd.array(ARRAYS[key + "/head"]))
    for name, stype in zip(("lhs", "rhs"), case["grad_stypes"]):
        grad = executor.grad_dict[name]
        assert grad.stype == stype
        np.testing.assert_allclose(grad.asnumpy(), ARRAYS["%s/grad_%s" % (key, name)], rtol=1e-6)


def test_update_op_front_ends_update_their_states_with_a_row_sparse_gradient():
    """The plain front end reaches the row kernels (not the dense fallback, which would lose the state's update)."""
    w = np.arange(8, dtype=np.float32).reshape(4, 2)
    g = np.zeros((4, 2), np.float32)
    g[2] = [1.0, -2.0]
    weight, mom = mx.nd.array(w), mx.nd.ones((4, 2))
    mx.nd.sgd_mom_update(weight, make("row_sparse", g), mom, out=weight, lr=0.1, momentum=0.9)
    want_mom = np.ones((4, 2), np.float32)
    want_mom[2] = 0.9 - 0.1 * g[2]          # only the gradient's rows (lazy_update)
    np.testing.assert_allclose(mom.asnumpy(), want_mom, rtol=1e-6)
    np.testing.assert_allclose(weight.asnumpy(), np.where(g.any(axis=1, keepdims=True), w + want_mom, w), rtol=1e-6)
