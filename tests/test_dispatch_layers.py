"""Gluon layers on the cheap imperative paths (dataflow/ndarray/calls.py, dataflow/gluon/block.py), and what
they must keep of MXNet's semantics.

- Dense and Activation call their op through a `BoundCall` (the front-end call parsed once): results, errors,
  replaced front ends (AMP), copies and autograd recording must be as through `mx.nd.X`.
- Dense(activation=...) runs FullyConnected and the activation as one engine push (`BoundChain`, Note [chained
  calls]) while autograd does not record: bit for bit the two ops' result, two recorded nodes under `record()`,
  the Activation block's hooks and a replaced `mx.nd.Activation` still honoured.
- A warm imperative layer goes from `HybridBlock.__call__` straight to `hybrid_forward`: hooks, an overridden
  `forward` and `hybridize()` still take effect.
"""
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dataflow as mx
from dataflow import autograd
from dataflow.gluon import nn


def _dense_numpy(layer, x):
    return np.maximum(x @ layer.weight.data().asnumpy().T + layer.bias.data().asnumpy(), 0)


# ---- layers calling their op through a BoundCall (dataflow/ndarray/calls.py) ------------------------------------

def test_a_bound_call_equals_the_front_end_call_and_reinfers_per_signature():
    """A `BoundCall` is `mx.nd.X(*inputs, **params)` parsed once: a new input shape or dtype is inferred anew, a
    wrong input count or shape gets the front end's error, and a pending write to an input is waited for."""
    from dataflow.ndarray.calls import BoundCall
    fc = BoundCall("FullyConnected", 3, num_hidden=3, no_bias=False, flatten=True)
    rs = np.random.RandomState(5)
    w, b = rs.rand(3, 4).astype(np.float32), rs.rand(3).astype(np.float32)
    for shape, dtype in (((2, 4), np.float32), ((5, 2, 2), np.float32), ((1, 4), np.float64)):
        x = rs.rand(*shape).astype(dtype)
        got = fc(mx.nd.array(x, dtype=dtype), mx.nd.array(w, dtype=dtype), mx.nd.array(b, dtype=dtype))
        assert got.dtype == dtype and got.shape == (shape[0], 3)
        np.testing.assert_allclose(got.asnumpy(), x.reshape(shape[0], -1) @ w.T + b, rtol=1e-5)
    with pytest.raises(mx.base.MXNetError, match="weight"):
        fc(mx.nd.ones((2, 5)), mx.nd.array(w), mx.nd.array(b)).wait_to_read()
    with pytest.raises(mx.base.MXNetError):
        fc(mx.nd.ones((2, 4)), mx.nd.array(w))
    big = mx.nd.ones((300, 300))
    slow = mx.nd.dot(big, big)                      # over the inline limit: runs on a worker, pending a while
    x = mx.nd.slice(slow, begin=(0, 0), end=(2, 4))      # queued behind the dot: so is the call
    np.testing.assert_allclose(fc(x, mx.nd.array(w), mx.nd.array(b)).asnumpy(), np.full((2, 4), 300.0) @ w.T + b,
                               rtol=1e-5)


def test_layers_follow_a_replaced_front_end_and_survive_copies(monkeypatch):
    """Dense and Activation call their op through a `BoundCall`: while `mx.nd.FullyConnected` is replaced (as
    AMP's casting wrappers replace it) the layer calls the replacement; a deep copy or pickle of a called layer
    works and computes the same."""
    import copy
    import pickle
    layer = nn.Dense(3, activation="relu", in_units=4)
    layer.initialize(mx.init.Uniform(1.0))
    x = np.random.RandomState(2).rand(2, 4).astype(np.float32)
    want = _dense_numpy(layer, x)
    np.testing.assert_allclose(layer(mx.nd.array(x)).asnumpy(), want, rtol=1e-5)
    calls = []
    original = mx.nd.FullyConnected

    def wrapper(*args, **kwargs):
        calls.append(sorted(kwargs))
        return original(*args, **kwargs)
    monkeypatch.setattr(mx.nd, "FullyConnected", wrapper)
    np.testing.assert_allclose(layer(mx.nd.array(x)).asnumpy(), want, rtol=1e-5)
    assert calls == [["flatten", "no_bias", "num_hidden"]]
    monkeypatch.undo()
    for twin in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        np.testing.assert_allclose(twin(mx.nd.array(x)).asnumpy(), want, rtol=1e-5)
    np.testing.assert_allclose(layer(mx.nd.array(x)).asnumpy(), want, rtol=1e-5)
    assert len(calls) == 1


def test_a_layer_under_record_still_records_through_its_bound_call():
    layer = nn.Dense(2, activation="relu", in_units=3)
    layer.initialize(mx.init.Uniform(1.0))
    x = mx.nd.array(np.random.RandomState(4).rand(4, 3))
    layer(x)                                        # bound calls made outside record
    with autograd.record():
        loss = layer(x).sum()
    loss.backward()
    w, b = layer.weight.data().asnumpy(), layer.bias.data().asnumpy()
    mask = (x.asnumpy() @ w.T + b) > 0
    np.testing.assert_allclose(layer.weight.grad().asnumpy(), mask.T.astype(np.float32) @ x.asnumpy(), rtol=1e-5)
    np.testing.assert_allclose(layer.bias.grad().asnumpy(), mask.sum(axis=0), rtol=1e-5)


# ---- Dense(activation=...) as one push: a BoundChain (dataflow/ndarray/calls.py, Note [chained calls]) -------------

def _count_pushes(monkeypatch):
    """A list that gets one entry per engine push from now on."""
    from scheduler.engine import get_engine
    engine = get_engine()
    pushes, push = [], engine.push

    def counting(fn, *args, **kwargs):
        pushes.append(fn)
        return push(fn, *args, **kwargs)
    monkeypatch.setattr(engine, "push", counting)
    return pushes


@given(act=st.sampled_from(["relu", "sigmoid", "tanh", "softrelu", "softsign"]),
       dtype=st.sampled_from(["float32", "float64", "float16"]), flatten=st.booleans(),
       shape=st.sampled_from([(1, 6), (3, 6), (2, 2, 6)]), seed=st.integers(0, 2 ** 16))
def test_a_dense_layer_with_an_activation_equals_its_two_ops_bit_for_bit(act, dtype, flatten, shape, seed):
    """The chained FullyConnected + Activation gives exactly what the two front-end calls give (the activation is
    elementwise, in place or not), and numpy's formula up to rounding."""
    rs = np.random.RandomState(seed)
    in_units = 6 if not flatten else int(np.prod(shape[1:]))
    layer = nn.Dense(4, activation=act, flatten=flatten, in_units=in_units, dtype=dtype)
    layer.initialize(mx.init.Uniform(1.0))
    x = mx.nd.array(rs.uniform(-2, 2, shape), dtype=dtype)
    w, b = layer.weight.data(), layer.bias.data()
    want = mx.nd.Activation(mx.nd.FullyConnected(x, w, b, num_hidden=4, flatten=flatten), act_type=act).asnumpy()
    for _ in range(2):                                  # the first call infers, the second hits the cache
        got = layer(x).asnumpy()
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    rows = x.asnumpy().astype(np.float64).reshape(-1, in_units) if not flatten or x.ndim == 2 else \
        x.asnumpy().astype(np.float64).reshape(x.shape[0], -1)
    z = rows @ w.asnumpy().astype(np.float64).T + b.asnumpy().astype(np.float64)
    f = {"relu": lambda v: np.maximum(v, 0), "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh,
         "softrelu": lambda v: np.log1p(np.exp(v)), "softsign": lambda v: v / (1 + np.abs(v))}[act]
    tol = 2e-2 if dtype == "float16" else 1e-5
    np.testing.assert_allclose(got.astype(np.float64), f(z).reshape(got.shape), rtol=tol, atol=tol)


def test_a_dense_layer_pushes_once_but_records_two_nodes(monkeypatch):
    layer = nn.Dense(3, activation="tanh", in_units=4)
    layer.initialize(mx.init.Uniform(1.0))
    x = mx.nd.array(np.random.RandomState(6).rand(2, 4))
    layer(x).wait_to_read()
    pushes = _count_pushes(monkeypatch)
    layer(x).wait_to_read()
    assert len(pushes) == 1
    from dataflow.ndarray import ndarray as nd_impl
    monkeypatch.setattr(nd_impl, "_GPU_USED", True)      # GPU arrays exist: one op's kernels per push, two pushes
    np.testing.assert_array_equal(layer(x).asnumpy(), mx.nd.Activation(
        mx.nd.FullyConnected(x, layer.weight.data(), layer.bias.data(), num_hidden=3), act_type="tanh").asnumpy())
    monkeypatch.setattr(nd_impl, "_GPU_USED", False)
    assert len(pushes) == 5
    x.attach_grad()
    del pushes[:]
    with autograd.record():
        y = layer(x)
    assert len(pushes) == 2                          # under record: the FullyConnected and the Activation
    ops = [n["op"] for n in json.loads(autograd.get_symbol(y).tojson())["nodes"]]
    assert ops.count("FullyConnected") == 1 and ops.count("Activation") == 1
    y.backward()
    w, b = layer.weight.data().asnumpy(), layer.bias.data().asnumpy()
    t = np.tanh(x.asnumpy() @ w.T + b)
    np.testing.assert_allclose(x.grad.asnumpy(), (1 - t * t) @ w, rtol=1e-5)


def test_a_dense_layer_honours_hooks_on_its_activation_and_a_replaced_front_end(monkeypatch):
    """A hook on the Activation child sees the FullyConnected output (the two calls run apart); while AMP (or
    anyone) replaces `mx.nd.Activation`, the replacement is called."""
    layer = nn.Dense(3, activation="relu", in_units=4)
    layer.initialize(mx.init.Uniform(1.0))
    x = np.random.RandomState(7).rand(2, 4).astype(np.float32)
    w, b = layer.weight.data().asnumpy(), layer.bias.data().asnumpy()
    want = np.maximum(x @ w.T + b, 0)
    seen = []
    layer.act.register_forward_hook(lambda block, args, out: seen.append(args[0].asnumpy()))
    np.testing.assert_allclose(layer(mx.nd.array(x)).asnumpy(), want, rtol=1e-5)
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], x @ w.T + b, rtol=1e-5)
    layer.act._forward_hooks.clear()
    np.testing.assert_allclose(layer(mx.nd.array(x)).asnumpy(), want, rtol=1e-5)
    assert len(seen) == 1
    calls, original = [], mx.nd.Activation

    def wrapper(*args, **kwargs):
        calls.append(kwargs["act_type"])
        return original(*args, **kwargs)
    monkeypatch.setattr(mx.nd, "Activation", wrapper)
    np.testing.assert_allclose(layer(mx.nd.array(x)).asnumpy(), want, rtol=1e-5)
    assert calls == ["relu"]
    monkeypatch.undo()
    layer.act._act_type = "sigmoid"                 # a changed activation is followed
    np.testing.assert_allclose(layer(mx.nd.array(x)).asnumpy(), 1 / (1 + np.exp(-(x @ w.T + b))), rtol=1e-5)


def test_a_chained_call_falls_back_when_the_second_op_would_change_the_output():
    """A BoundChain whose second op's rules give another shape or dtype for some inputs runs the two calls."""
    from dataflow.ndarray.calls import BoundCall, BoundChain
    chain = BoundChain(BoundCall("FullyConnected", 2, num_hidden=3, no_bias=True, flatten=True),
                       BoundCall("Activation", 1, act_type="relu"))
    chain.form.call.then = BoundCall("Cast", 1, dtype="float64").form.call     # rules giving another dtype
    x, w = mx.nd.array([[1.0, -2.0]]), mx.nd.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    np.testing.assert_array_equal(chain(x, w).asnumpy(), [[1.0, 0.0, 0.0]])
    assert not chain.form.call._inferred            # nothing cached: every such call falls back


def test_a_layer_called_again_still_honours_hooks_overridden_forward_and_hybridize():
    """`HybridBlock.__call__` goes straight to `hybrid_forward` for a warm imperative layer; a hook added later, a
    subclass's own `forward` and `hybridize()` still take effect."""
    layer = nn.Dense(2, in_units=3)
    layer.initialize(mx.init.Uniform(1.0))
    x = mx.nd.array(np.random.RandomState(8).rand(4, 3))
    want = x.asnumpy() @ layer.weight.data().asnumpy().T + layer.bias.data().asnumpy()
    for _ in range(2):
        np.testing.assert_allclose(layer(x).asnumpy(), want, rtol=1e-5)
    seen = []
    layer.register_forward_pre_hook(lambda block, args: seen.append("pre"))
    layer.register_forward_hook(lambda block, args, out: seen.append(out.shape))
    np.testing.assert_allclose(layer(x).asnumpy(), want, rtol=1e-5)
    assert seen == ["pre", (4, 2)]

    class Doubled(nn.Dense):
        def forward(self, x):
            return super().forward(x) * 2
    twice = Doubled(2, in_units=3)
    twice.initialize(mx.init.Uniform(1.0))
    w, b = twice.weight.data().asnumpy(), twice.bias.data().asnumpy()
    for _ in range(2):
        np.testing.assert_allclose(twice(x).asnumpy(), 2 * (x.asnumpy() @ w.T + b), rtol=1e-5)
    twice.hybridize()
    for _ in range(2):
        np.testing.assert_allclose(twice(x).asnumpy(), 2 * (x.asnumpy() @ w.T + b), rtol=1e-5)
    assert twice._last_call is not None             # the compiled graph ran


def test_hook_registration_returns_a_handle_that_detaches():
    """MXNet 1.9.1's register_forward_hook / register_forward_pre_hook return a HookHandle: `detach()` (or leaving
    its `with` block) removes the hook, and later calls no longer run it."""
    layer = nn.Dense(3, in_units=4)
    layer.initialize()
    x = mx.nd.ones((2, 4))
    seen = []
    post = layer.register_forward_hook(lambda block, args, out: seen.append("post"))
    with layer.register_forward_pre_hook(lambda block, args: seen.append("pre")):
        layer(x)
    layer(x)
    post.detach()
    layer(x)
    assert seen == ["pre", "post", "post"]
