"""mx.autograd: grad(), Function, mark_variables, get_symbol and the recording state (higher order:
test_autograd_higher_order.py).

Truths: numpy's analytic derivatives, and MXNet 1.9.1's values and behaviour recorded by
reference/autograd_fixtures.py (tests/fixtures/mxnet-1.9.1/autograd/README.md).
"""
import json
import os

import numpy as np
import pytest
import scipy.special

from dataflow import autograd, nd
from ops.errors import MXNetError
from tests.paths import FIXTURES

HERE = os.path.join(FIXTURES, "autograd")
with open(os.path.join(HERE, "behaviour.json")) as _f:
    BEHAVIOUR = json.load(_f)


def f64(a):
    return nd.array(np.asarray(a, dtype=np.float64), dtype="float64")


# -- grad() ------------------------------------------------------------------------------------------------------

def _expressions():
    yield lambda x, w: (nd.exp(x) * w).sum()
    yield lambda x, w: nd.FullyConnected(x.reshape((1, 3)), w.reshape((1, 3)), num_hidden=1, no_bias=True)
    yield lambda x, w: nd.broadcast_add(nd.tanh(x), w) * x + nd.sigmoid(w)


@pytest.mark.parametrize("k", range(3))
def test_grad_equals_backward(k):
    f = list(_expressions())[k]
    rng = np.random.RandomState(k)
    X, Wv = rng.normal(size=3), rng.normal(size=3)
    x, w = nd.array(X), nd.array(Wv)
    x.attach_grad()
    w.attach_grad()
    with autograd.record():
        y = f(x, w)
    gx, gw = autograd.grad(y, [x, w], retain_graph=True)
    assert not x.grad.asnumpy().any(), "grad() must leave .grad alone"
    y.backward()
    np.testing.assert_allclose(gx.asnumpy(), x.grad.asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(gw.asnumpy(), w.grad.asnumpy(), rtol=1e-6)
    # and the same with create_graph (the imperative path)
    with autograd.record():
        y = f(x, w)
    cx, cw = autograd.grad(y, [x, w], create_graph=True)
    np.testing.assert_allclose(cx.asnumpy(), x.grad.asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(cw.asnumpy(), w.grad.asnumpy(), rtol=1e-6)


def test_grad_values_and_type_match_mxnet():
    b = BEHAVIOUR
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = (x * x).sum()
    y.backward()
    with autograd.record():
        y = nd.exp(x)
    g = autograd.grad(y, x)
    assert type(g).__name__ == b["grad_returns"] == "list"
    np.testing.assert_allclose(g[0].asnumpy(), b["grad_single_var_value"], rtol=1e-6)
    np.testing.assert_allclose(x.grad.asnumpy(), b["grad_write_leaves_dot_grad"])
    with pytest.raises(MXNetError, match="retain_graph=True"):      # grad released the graph
        y.backward()
    assert "retain_graph=True" in b["grad_then_backward"]


def test_head_grads_and_retain_graph_match_mxnet():
    x = nd.array([1.0, 2.0, 3.0])
    x.attach_grad()
    with autograd.record():
        y = nd.sin(x)
        g = autograd.grad(y, [x], head_grads=nd.array([1.0, 2.0, 3.0]), retain_graph=True)[0]
    np.testing.assert_allclose(g.asnumpy(), BEHAVIOUR["grad_head_grads"], rtol=1e-6)
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), BEHAVIOUR["grad_retained_then_backward"], rtol=1e-6)


def test_second_backward_without_retain_graph_raises():
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()                        # the retained graph can be used once more
    np.testing.assert_allclose(x.grad.asnumpy(), [2.0, 4.0])
    with pytest.raises(MXNetError, match="retain_graph=True"):
        y.backward()
    assert "retain_graph=True" in BEHAVIOUR["second_backward"]
    with pytest.raises(MXNetError, match="not in a computational graph"):
        nd.array([1.0]).backward()


def test_grad_errors_name_the_variable():
    x, u, v = nd.array([1.0, 2.0]), nd.array([1.0, 2.0]), nd.array([3.0])
    x.attach_grad()
    v.attach_grad()
    with autograd.record():
        y = x * 2 + u
    with pytest.raises(MXNetError, match="2-th variable because it does not require gradient"):
        autograd.grad(y, [x, u])
    with autograd.record():
        y = x * 2
    with pytest.raises(MXNetError, match="2-th variable because it is unreachable from the outputs"):
        autograd.grad(y, [x, v])
    with autograd.record():
        z = x * 2
        w = z * z
    with pytest.raises(MXNetError, match="1-th variable because it does not require gradient"):
        autograd.grad(w, [z])
    with pytest.raises(MXNetError, match="empty"):
        autograd.grad(w, [])
    with pytest.raises(MXNetError, match="same length"):
        autograd.grad(w, [x], head_grads=[nd.ones((2,)), nd.ones((2,))])
    assert "unreachable" in BEHAVIOUR["grad_unreachable"]
    assert "does not require gradient" in BEHAVIOUR["grad_wrt_intermediate"]


def test_mark_variables_matches_mxnet():
    x, gx = nd.array([1.0, 2.0]), nd.array([10.0, 10.0])
    autograd.mark_variables(x, gx, grad_reqs="add")
    with autograd.record():
        y = x * 3
    y.backward()
    np.testing.assert_allclose(gx.asnumpy(), BEHAVIOUR["mark_variables_add"])
    assert x.grad is gx
    a, b = nd.array([1.0]), nd.array([2.0])
    ga, gb = nd.array([5.0]), nd.array([5.0])
    autograd.mark_variables([a, b], [ga, gb], grad_reqs=["write", "null"])
    with autograd.record():
        y = a * b
    y.backward()
    assert ga.asnumpy().tolist() == [2.0] and gb.asnumpy().tolist() == [5.0]
    with pytest.raises(MXNetError, match="must match"):
        autograd.mark_variables([a, b], [ga])


# -- Function ----------------------------------------------------------------------------------------------------

class Sigmoid(autograd.Function):
    def forward(self, x):
        y = 1 / (1 + nd.exp(-x))
        self.save_for_backward(y)
        return y

    def backward(self, dy):
        y, = self.saved_tensors
        return dy * y * (1 - y)


class MulAdd(autograd.Function):
    """(a * b, a + b), with its gradients written by hand."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b, a + b

    def backward(self, d_prod, d_sum):
        a, b = self.saved_tensors
        return d_prod * b + d_sum, d_prod * a + d_sum


def test_function_equals_builtin_maths():
    x = nd.array([0.5, -1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = Sigmoid()(x)
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), BEHAVIOUR["function_sigmoid_grad"], rtol=1e-6)
    builtin = x.grad.asnumpy().copy()
    with autograd.record():
        z = nd.sigmoid(x)
    z.backward()
    np.testing.assert_allclose(builtin, x.grad.asnumpy(), rtol=1e-6)


def test_function_with_two_inputs_and_outputs_inside_a_graph():
    rng = np.random.RandomState(2)
    A, B = rng.normal(size=4), rng.normal(size=4)
    a, b = nd.array(A), nd.array(B)
    a.attach_grad()
    b.attach_grad()
    with autograd.record():
        p, s = MulAdd()(nd.exp(a), b)
        out = (p * s).sum()
    out.backward()
    ea = np.exp(A)      # out = ea b (ea + b): d/da = ea * (2 ea b + b^2), d/db = ea^2 + 2 ea b
    np.testing.assert_allclose(a.grad.asnumpy(), ea * (2 * ea * B + B * B), rtol=1e-5)
    np.testing.assert_allclose(b.grad.asnumpy(), ea * ea + 2 * ea * B, rtol=1e-5)
    # grad() and an unused output (its gradient is zeros)
    with autograd.record():
        p, s = MulAdd()(a, b)
    ga, gb = autograd.grad(p, [a, b])
    np.testing.assert_allclose(ga.asnumpy(), B, rtol=1e-6)
    np.testing.assert_allclose(gb.asnumpy(), A, rtol=1e-6)


def test_function_errors():
    class WrongCount(autograd.Function):
        def forward(self, a, c):
            return a * c

        def backward(self, dy):
            return dy

    a, c = nd.array([1.0]), nd.array([2.0])
    a.attach_grad()
    with autograd.record():
        y = WrongCount()(a, c)
    with pytest.raises(MXNetError, match="must return exactly the same number.*Expecting 2 got 1"):
        y.backward()
    assert BEHAVIOUR["function_wrong_count"].startswith("ERROR MXNetError")
    f = Sigmoid()
    f(a)
    with pytest.raises(AssertionError, match="only be called once"):
        f(a)
    assert "only be called once" in BEHAVIOUR["function_called_twice"]
    assert Sigmoid()(a).asnumpy().shape == (1,)          # outside record(): just forward


# -- get_symbol --------------------------------------------------------------------------------------------------

def _structure(graph):
    """A graph JSON without the names MXNet numbers per process."""
    nodes = [(n["op"], n.get("attrs", {}), n["inputs"]) for n in graph["nodes"]]
    return nodes, graph["arg_nodes"], graph["heads"], graph["node_row_ptr"]


def test_get_symbol_matches_mxnet_structure():
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = nd.exp(x * 2 + 1)
    sym = autograd.get_symbol(y)
    expected = BEHAVIOUR["get_symbol_json"]
    assert _structure(json.loads(sym.tojson())) == _structure(expected)
    (arg,) = sym.list_arguments()
    assert arg.startswith("var") and BEHAVIOUR["get_symbol_arguments"][0].startswith("var")
    assert sym.list_outputs()[0].startswith("node_") and sym.list_outputs()[0].endswith("_output")
    assert autograd.get_symbol(x).list_outputs() == [arg]
    # the Symbol computes what was recorded
    out = sym.eval(**{arg: nd.array([0.5, 1.0])})[0]
    np.testing.assert_allclose(out.asnumpy(), np.exp([2.0, 3.0]), rtol=1e-6)
    with pytest.raises(MXNetError, match="not computed inside autograd.record"):
        autograd.get_symbol(nd.array([1.0]))


# -- recording state ---------------------------------------------------------------------------------------------

def test_set_recording_and_training_return_the_previous_state():
    b = BEHAVIOUR
    assert [autograd.is_recording(), autograd.is_training()] == b["initial"]
    try:
        assert autograd.set_recording(True) is b["set_recording_true"]
        assert autograd.set_recording(True) is b["set_recording_true_again"]
        assert autograd.set_recording(False) is b["set_recording_false"]
        assert autograd.set_training(True) is b["set_training_true"]
        assert autograd.set_training(False) is b["set_training_false"]
    finally:
        autograd.set_recording(False)
        autograd.set_training(False)


def test_scopes_nest_like_mxnet():
    n = BEHAVIOUR["nesting"]
    with autograd.record():
        assert [autograd.is_recording(), autograd.is_training()] == n["record"]
        with autograd.pause():
            assert [autograd.is_recording(), autograd.is_training()] == n["pause"]
            with autograd.train_mode():
                assert [autograd.is_recording(), autograd.is_training()] == n["pause_train"]
        with autograd.predict_mode():
            assert [autograd.is_recording(), autograd.is_training()] == n["predict"]
        prev = autograd.set_recording(False)
        assert [autograd.is_recording(), prev] == n["set_inside"]
    assert [autograd.is_recording(), autograd.is_training()] == n["after"]
    with autograd.record(train_mode=False):
        assert [autograd.is_recording(), autograd.is_training()] == BEHAVIOUR["record_predict"]


def test_nothing_is_recorded_while_paused():
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        with autograd.pause():
            y = x * 2
        z = y * x
    z.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [2.0, 4.0])     # y is a constant


def test_function_backward_is_recorded_with_create_graph():
    class Cube(autograd.Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x * x * x

        def backward(self, dy):
            x, = self.saved_tensors
            return dy * 3 * x * x

    x = f64([1.0, 2.0, -0.5])
    x.attach_grad()
    with autograd.record():
        y = Cube()(x)
        g = autograd.grad(y, x, create_graph=True)[0]
    g.backward()
    np.testing.assert_allclose(g.asnumpy(), 3 * x.asnumpy() ** 2)
    np.testing.assert_allclose(x.grad.asnumpy(), 6 * x.asnumpy())


def test_second_order_through_an_op_without_one_raises_clearly():
    x = f64([1.5, 2.5])
    x.attach_grad()
    with autograd.record():
        g = autograd.grad(nd.gammaln(x), x, create_graph=True)[0]
    np.testing.assert_allclose(g.asnumpy(), scipy.special.digamma([1.5, 2.5]), rtol=1e-6)
    with pytest.raises(MXNetError, match="_backward_gammaln.*has no gradient"):
        g.backward()


def test_docstring_examples():
    import doctest

    from dataflow.autograd import differentiate, function
    for module in (autograd, differentiate, function):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0, module.__name__


def test_second_order_through_a_hidden_output_raises_clearly():
    """Dropout's first-order gradient reads its hidden mask; a gradient of that gradient would reach the mask."""
    x = f64([0.3, -0.7, 1.2, 0.1])
    x.attach_grad()
    with autograd.record():
        g = autograd.grad(nd.Dropout(x, p=0.5), x, create_graph=True)[0]
    with pytest.raises(MXNetError, match="Dropout.*hidden output mask"):
        g.backward()


def test_grad_of_several_heads_with_some_head_grads():
    rng = np.random.RandomState(11)
    X = rng.normal(size=3)
    x = f64(X)
    x.attach_grad()
    hg = rng.normal(size=3)
    with autograd.record():
        y1, y2 = nd.sin(x), x * x
    (gx,) = autograd.grad([y1, y2], [x], head_grads=[f64(hg), None])
    np.testing.assert_allclose(gx.asnumpy(), np.cos(X) * hg + 2 * X, rtol=1e-12)


# ---- x[key] under record() is an op autograd records (MXNet: slice / take), so gradients flow through it --------
_KEYS = [1, -1, (1, 2), (slice(0, 2),), (slice(None, None, -1), 2), (Ellipsis, 1), (None, 1, slice(1, 4, 2)),
         (slice(3, 0, -2), Ellipsis, slice(None, None, -1)), [2, 0, 2],
         (np.array([0, 2]), slice(None), np.array([1, 3])), (1, 2, 3), (slice(5, 9),)]


@pytest.mark.parametrize("key", _KEYS, ids=[repr(k) for k in _KEYS])
def test_indexing_under_record_passes_gradients(key):
    rs = np.random.RandomState(0)
    x0 = rs.randn(3, 4, 5)
    np_key = np.array(key) if isinstance(key, list) else key
    ref = np.asarray(x0[np_key])
    w = np.asarray(rs.randn(*ref.shape))
    x = f64(x0)
    x.attach_grad()
    with autograd.record():
        y = x[key]
        loss = (y * f64(w.reshape(y.shape))).sum()
    loss.backward()
    want = np.zeros_like(x0)
    np.add.at(want, np_key, w)
    assert y.shape == (ref.shape or (1,))
    np.testing.assert_allclose(y.asnumpy().reshape(ref.shape), ref)
    np.testing.assert_allclose(x.grad.asnumpy(), want)
