"""Whole training steps as few calls as possible (issue 15): the fused optimizer step and the bound call of a
hybridized block. Truth: the same work with `DATAFLOW_JIT=0` (per-weight update ops, interpreted Plans), which
the rest of the suite checks against numpy and MXNet's fixtures."""
import contextlib
import os
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import dataflow as mx
from dataflow import autograd, gluon
from dataflow.optimizer import fused


@contextlib.contextmanager
def per_weight():
    """Updates pushed one op per weight, as before batching (the truth the fused steps must equal)."""
    with mock.patch.object(fused, "fused_optimizers", lambda: ()):
        yield


@contextlib.contextmanager
def jit_mode(value):
    """DATAFLOW_JIT=value inside the block (read at every step and plan run)."""
    old = os.environ.get("DATAFLOW_JIT")
    os.environ["DATAFLOW_JIT"] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("DATAFLOW_JIT", None)
        else:
            os.environ["DATAFLOW_JIT"] = old


def _updated(optimizer, kwargs, weights, grads, steps, dtype):
    """The weights and states after `steps` Updater calls over all weights (a Trainer.step's work)."""
    opt = mx.optimizer.create(optimizer, **kwargs)
    updater = mx.optimizer.get_updater(opt)
    ws = [mx.nd.array(w, dtype=dtype) for w in weights]
    gs = [mx.nd.array(g, dtype=dtype) for g in grads]
    for step in range(steps):
        updater(list(range(len(ws))), gs, ws)
        if step == 0:
            fused.wait()        # the loops compile in the background: later steps run fused
    states = [s for i in sorted(updater.states) for s in _flat_states(updater.states[i])]
    return [w.asnumpy() for w in ws] + [s.asnumpy() for s in states]


def _flat_states(state):
    if state is None:
        return []
    if isinstance(state, (tuple, list)):
        return [a for s in state for a in _flat_states(s)]
    return [state]


_OPTIMIZERS = st.sampled_from([
    ("sgd", {}), ("sgd", {"momentum": 0.9}), ("nag", {}), ("adam", {"beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6}),
    ("ccsgd", {"momentum": 0.5})])


@settings(deadline=None, max_examples=12)
@given(_OPTIMIZERS, st.floats(1e-3, 0.5), st.sampled_from([0.0, 1e-3, 0.1]), st.sampled_from([None, 0.05, 2.0]),
       st.sampled_from([1.0, 0.125]), st.sampled_from([np.float32, np.float64]), st.integers(0, 2**31 - 1))
def test_a_fused_step_equals_the_per_weight_ops(rule, lr, wd, clip, rescale, dtype, seed):
    optimizer, extra = rule
    kwargs = dict(extra, learning_rate=lr, wd=wd, clip_gradient=clip, rescale_grad=rescale)
    rs = np.random.RandomState(seed)
    shapes = [(3, 4), (4,), (2, 3, 2), (1,), (7,)]
    weights = [rs.uniform(-1, 1, s) for s in shapes]
    grads = [rs.uniform(-2, 2, s) for s in shapes]
    with per_weight():
        want = _updated(optimizer, kwargs, weights, grads, 3, dtype)
    before = fused.pushed
    got = _updated(optimizer, kwargs, weights, grads, 3, dtype)
    assert fused.pushed > before, "the fused path did not run"
    for w, g in zip(want, got, strict=True):
        np.testing.assert_array_equal(g, w)


def _trained(optimizer, kwargs, steps=4, multi_precision_half=False):
    mx.random.seed(3)
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(6, activation="relu"), gluon.nn.Dense(3))
    net.initialize(mx.init.Uniform(0.5))
    if multi_precision_half:        # one float16 layer next to float32 ones: its update is not batched
        net[1].cast("float16")
    trainer = gluon.Trainer(net.collect_params(), optimizer, dict(kwargs, multi_precision=multi_precision_half))
    rs = np.random.RandomState(0)
    x = mx.nd.array(rs.randn(5, 4))
    for step in range(steps):
        with autograd.record():
            h = net[0](x)
            out = net[1](h.astype("float16")).astype("float32") if multi_precision_half else net[1](h)
            loss = (out * out).sum()
        loss.backward()
        trainer.step(5)
        if step == 0:
            fused.wait()
    return [p.data().asnumpy() for p in net.collect_params().values()]


@pytest.mark.parametrize("optimizer,kwargs", [("sgd", {"learning_rate": 0.05, "momentum": 0.9, "wd": 1e-3}),
                                              ("adam", {"learning_rate": 0.01})])
@pytest.mark.parametrize("half", [False, True])
def test_trainer_steps_fused_equal_per_weight(optimizer, kwargs, half):
    with per_weight():
        want = _trained(optimizer, kwargs, multi_precision_half=half)
    before = fused.pushed
    got = _trained(optimizer, kwargs, multi_precision_half=half)
    assert fused.pushed > before
    for w, g in zip(want, got, strict=True):
        np.testing.assert_array_equal(g, w)


def test_module_update_fused_equals_per_weight():
    def run():
        mx.random.seed(5)
        data = mx.sym.Variable("data")
        net = mx.sym.FullyConnected(data, num_hidden=8, name="fc1")
        # no transcendental op: the executor's compiled and interpreted runs are then equal to the bit, whichever
        # steps ran compiled (it compiles in the background)
        net = mx.sym.Activation(net, act_type="relu")
        net = mx.sym.FullyConnected(net, num_hidden=3, name="fc2")
        net = mx.sym.LinearRegressionOutput(net, name="out")
        mod = mx.mod.Module(net, data_names=["data"], label_names=["out_label"])
        rs = np.random.RandomState(1)
        batch = mx.io.DataBatch([mx.nd.array(rs.randn(4, 5))], [mx.nd.array(rs.randn(4, 3))])
        mod.bind(data_shapes=[("data", (4, 5))], label_shapes=[("out_label", (4, 3))])
        mod.init_params(mx.init.Uniform(0.3))
        mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
        for step in range(4):
            mod.forward(batch, is_train=True)
            mod.backward()
            mod.update()
            if step == 0:
                fused.wait()
        return {k: v.asnumpy() for k, v in mod.get_params()[0].items()}
    with per_weight():
        want = run()
    before = fused.pushed
    got = run()
    assert fused.pushed > before
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])


def test_a_shape_error_in_a_fused_step_names_the_op():
    updater = mx.optimizer.get_updater(mx.optimizer.create("sgd", learning_rate=0.1, momentum=0.9))
    ws = [mx.nd.ones((2, 3)), mx.nd.ones((4,))]
    gs = [mx.nd.ones((2, 3)), mx.nd.ones((5,))]
    with pytest.raises(mx.base.MXNetError, match="sgd_mom_update"):
        updater([0, 1], gs, ws)
    mx.nd.waitall()
    np.testing.assert_allclose(ws[0].asnumpy(), 1 - 0.1)       # the weight before the bad one was updated


# ---------------------------------------------------------------------------------------------------------------
# The bound call of a hybridized block (scheduler/compile.py::Binder)
# ---------------------------------------------------------------------------------------------------------------

def _mlp():
    mx.random.seed(7)
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(16, activation="relu"), gluon.nn.Dense(8, activation="tanh"), gluon.nn.Dense(2))
    net.initialize(mx.init.Uniform(0.5))
    return net


def _compiled(net, x):
    """Run net on x until its graph runs compiled."""
    for _ in range(3):
        net(x)
        mx.nd.waitall()         # the calls may have queued behind the engine's worker
    net._last_call.cached._plan.wait()
    net(x)
    mx.nd.waitall()


def test_hybridized_calls_equal_interpreted_ones_across_new_arrays():
    """Many calls through the bound fast path, with new and reused input arrays, equal the interpreted graph's."""
    rs = np.random.RandomState(2)
    inputs = [mx.nd.array(rs.randn(3, 5)) for _ in range(4)]
    with jit_mode("0"):
        ref = _mlp()
        ref.hybridize()
        want = [ref(x).asnumpy() for x in inputs + inputs[::-1]]
    net = _mlp()
    net.hybridize()
    _compiled(net, inputs[0])
    got = [net(x) for x in inputs + inputs[::-1]]
    cached = net._last_call.cached
    assert cached._run is not None and cached._run._fast is not None, "the bound fast path did not run"
    for w, g in zip(want, got, strict=True):    # compiled tanh may differ from numpy's in the last bit
        np.testing.assert_allclose(g.asnumpy(), w, rtol=1e-5, atol=1e-7)
    outs = [net(inputs[1]) for _ in range(3)]       # each call its own output array
    assert len({id(o._data) for o in outs}) == 3
    for o in outs:
        np.testing.assert_allclose(o.asnumpy(), want[1], rtol=1e-5, atol=1e-7)


def test_an_input_viewing_a_larger_array_runs_bound():
    """An input that is a slice of a larger array (a view, new at this call) gives the interpreted answer."""
    net = _mlp()
    net.hybridize()
    rs = np.random.RandomState(4)
    big = mx.nd.array(rs.randn(6, 5))
    x = big[2:5]
    _compiled(net, mx.nd.array(rs.randn(3, 5)))
    assert net._last_call.cached._run._fast is not None
    got = net(x).asnumpy()
    with jit_mode("0"):
        ref = _mlp()
        ref.hybridize()
        np.testing.assert_allclose(got, ref(x.copy()).asnumpy(), rtol=1e-5, atol=1e-7)
