"""Hybridized blocks under record(): pooled Plans (arenas) and skipped gradients (issues 15/16).

Each recorded call of a hybridized block runs on a Plan of its own; once its backward has run and freed the graph
(or its outputs die), that Plan goes back to a small pool and the next call reuses it instead of a fresh arena.
Truths: numpy's forward and gradients of a Dense layer (x @ W.T + b), the pool's count of Plans built, gc's count
of live Plans, and for the RNN the parameter gradients of the same call with the data gradient wanted (the data
gradient skipped by req NULL must not change them).
"""
import gc

import numpy as np

import dataflow as mx
from dataflow.gluon.cached_graph import _CachedBackward
from ops.registry import NULL


def _dense():
    net = mx.gluon.nn.Dense(16, in_units=8)
    net.initialize(mx.init.Uniform(0.5))
    net.hybridize()
    return net


def _recorded(net):
    """The block's `_CachedBackward` (one signature recorded)."""
    found = [c for c in net._cached_plans._entries.values() if isinstance(c, _CachedBackward)]
    assert len(found) == 1
    return found[0]


def _data(seed, shape=(4, 8)):
    return np.random.RandomState(seed).uniform(-1, 1, shape).astype(np.float32)


def _check_grads(net, x, dy):
    w = net.weight.data().asnumpy().astype(np.float64)
    np.testing.assert_allclose(net.weight.grad().asnumpy(), dy.T @ x, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(net.bias.grad().asnumpy(), dy.sum(0), rtol=1e-5, atol=1e-5)
    return w


def test_training_steps_reuse_one_plan_and_stay_correct():
    net = _dense()
    w, b = net.weight.data().asnumpy(), net.bias.data().asnumpy()

    def live_plans():
        from scheduler.plan import Plan
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is Plan)     # isinstance fails on a dead weakref.proxy
    before = None
    for step in range(30):      # no waitall: the next call may find the last backward still pending
        x, dy = _data(step), _data(100 + step, (4, 16))
        with mx.autograd.record():
            y = net(mx.nd.array(x))
        y.backward(mx.nd.array(dy))
        np.testing.assert_allclose(y.asnumpy(), x @ w.T + b, rtol=1e-5, atol=1e-5)
        _check_grads(net, x, dy)
        if step == 2:
            before = live_plans()
    assert _recorded(net).plans_built <= 2
    assert live_plans() <= before


def test_two_calls_before_one_backward_keep_separate_plans():
    net = _dense()
    xs = [_data(k) for k in range(4)]
    dys = [_data(10 + k, (4, 16)) for k in range(4)]
    with mx.autograd.record():
        y0 = net(mx.nd.array(xs[0]))
        y1 = net(mx.nd.array(xs[1]))
    y0.backward(mx.nd.array(dys[0]))
    _check_grads(net, xs[0], dys[0])
    mx.nd.waitall()
    with mx.autograd.record():      # one takes y0's Plan back from the pool; y1's must be left alone
        y2 = net(mx.nd.array(xs[2]))
        y3 = net(mx.nd.array(xs[3]))
    for k, y in [(3, y3), (2, y2), (1, y1)]:
        y.backward(mx.nd.array(dys[k]))
        _check_grads(net, xs[k], dys[k])
    assert _recorded(net).plans_built == 3


def test_a_retained_graph_keeps_its_plan_until_it_dies():
    net = _dense()
    x1, x2 = _data(1), _data(2)
    dy1, dy2 = _data(11, (4, 16)), _data(12, (4, 16))
    with mx.autograd.record():
        y1 = net(mx.nd.array(x1))
    y1.backward(mx.nd.array(dy1), retain_graph=True)
    mx.nd.waitall()                 # no engine op holds y1's Plan any more; its graph does
    with mx.autograd.record():      # y1's graph may still run backward: a second Plan
        y2 = net(mx.nd.array(x2))
    y2.backward(mx.nd.array(dy2))
    _check_grads(net, x2, dy2)
    y1.backward(mx.nd.array(dy1))
    _check_grads(net, x1, dy1)
    assert _recorded(net).plans_built == 2
    del y1, y2
    gc.collect()
    for seed in range(3):           # both Plans are back in the pool: no third one
        with mx.autograd.record():
            y = net(mx.nd.array(_data(seed)))
        y.backward(mx.nd.array(dy1))
        _check_grads(net, _data(seed), dy1)
    assert _recorded(net).plans_built == 2


def test_outputs_dropped_without_backward_give_their_plan_back():
    net = _dense()
    for seed in range(10):
        with mx.autograd.record():
            y = net(mx.nd.array(_data(seed)))
        mx.nd.waitall()             # its forward has run: once y dies, nothing holds its Plan
        del y
    assert _recorded(net).plans_built == 1


def _lstm_grads(x_wants_grad):
    net = mx.gluon.rnn.LSTM(8, num_layers=1, input_size=5)
    net.initialize(mx.init.Uniform(0.3))
    for p in net.collect_params().values():     # the same weights in both runs
        p.set_data(mx.nd.array(np.random.RandomState(len(p.name)).uniform(-0.3, 0.3, p.shape)))
    net.hybridize()
    x = mx.nd.array(_data(5, (6, 3, 5)))
    if x_wants_grad:
        x.attach_grad()
    for _ in range(2):              # the second call runs on the pooled Plan
        with mx.autograd.record():
            y = net(x)
        y.backward(mx.nd.array(_data(6, (6, 3, 8))))
    grads = {p.name.split("_", 1)[-1]: p.grad().asnumpy() for p in net.collect_params().values()}
    mx.nd.waitall()
    return net, grads


def _a_plan(net):
    """One of the block's Plans: pooled, or still held by the last call's lease (a push lets go of its Plan on the
    engine's worker after its gradients are out, so waiting for them does not say which)."""
    recorded = _recorded(net)
    with recorded._lock:
        plans = list(recorded._idle) + [lease.plan for lease in recorded._out if lease.plan is not None]
    assert plans
    return plans[0]


def test_an_unwanted_data_gradient_is_skipped_and_changes_nothing():
    net, skipped = _lstm_grads(False)
    plan = _a_plan(net)
    rnn_backward = [s for s in plan.steps if s.op_name == "_backward_RNN"]
    assert rnn_backward and rnn_backward[0].req[0] == NULL      # no data gradient: the GEMM is skipped
    net, full = _lstm_grads(True)
    plan = _a_plan(net)
    assert [s for s in plan.steps if s.op_name == "_backward_RNN"][0].req[0] != NULL
    assert skipped.keys() == full.keys()
    for name in full:
        np.testing.assert_allclose(skipped[name], full[name], rtol=1e-6, atol=1e-7)
