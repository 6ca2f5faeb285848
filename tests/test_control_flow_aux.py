"""Control flow bodies holding ops with aux states (BatchNorm's moving stats), and the saved-forward backward.

Truths: MXNet 1.9.1's files (tests/fixtures/mxnet-1.9.1/control_flow/, `aux_cases.json`, `*_bn*`; recorded by
reference/control_flow_fixtures.py): the moving stats are plain arguments of the control flow node, as MXNet lists
them; inference outputs; a Gluon block's training step run imperatively by MXNet (outputs, gradients, moving stats
after the backward), which the hybridized block here must give too (MXNet itself cannot differentiate it
hybridized). Beyond MXNet: symbolic loops bound with gradients equal their unrolled graphs (outputs, gradients for
each grad_req, moving stats updated once per step, in the backward, as the unrolled BatchNorms update them).
"""
import collections
import json
import pathlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import dataflow as mx
from dataflow import autograd, gluon
from dataflow.symbol import contrib_control_flow
from tests.paths import FIXTURES

FIX = pathlib.Path(FIXTURES) / "control_flow"
AUX_CASES = json.loads((FIX / "aux_cases.json").read_text())


def _close(got, want, rtol=1e-5, atol=1e-5):
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------------------------------------------
# MXNet's files
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", sorted(AUX_CASES))
def test_mxnet_file_with_batchnorm_in_the_body(case):
    """The moving stats are arguments (MXNet lists no aux states); inference uses them and leaves them alone."""
    text = (FIX / ("%s-symbol.json" % case)).read_text()
    sym = mx.sym.load_json(text)
    assert sym.tojson() == text
    info = AUX_CASES[case]
    assert sym.list_arguments() == info["arguments"]
    assert sym.list_auxiliary_states() == info["auxiliary_states"] == []
    assert sym.list_outputs() == info["outputs"]
    data = np.load(FIX / ("%s.npz" % case))
    args = {k[4:]: mx.nd.array(data[k]) for k in data.files if k.startswith("arg:")}
    ex = sym.bind(mx.cpu(), args, grad_req="null")
    outs = ex.forward(is_train=False)
    assert [list(o.shape) for o in outs] == info["shapes"]
    for i, o in enumerate(outs):
        got, want = o.asnumpy(), data["out:%d" % i]
        if case == "while_bn" and i == 0:       # 2 steps of 3: MXNet's padding rows are undefined
            got, want = got[:2], want[:2]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    for k, a in args.items():
        np.testing.assert_array_equal(a.asnumpy(), data["after:" + k])


def test_tracing_batchnorm_body_writes_mxnets_json(monkeypatch):
    """The moving stats' entries carry version 1 (a BatchNorm inside mutates them), as MXNet writes."""
    monkeypatch.setattr(contrib_control_flow, "_subgraph_counts", collections.Counter({"foreach": 4}))
    with mx.name.NameManager() as names:
        names._counter.update(_foreach=4, _plus=5, identity=3)      # what the script had named before
        data, h0 = mx.sym.var("data"), mx.sym.var("h0")

        def step(x, states):
            y = mx.sym.BatchNorm(x, name="bn", fix_gamma=False, momentum=0.5) + states[0]
            return y, [y]
        outs, states = mx.sym.contrib.foreach(step, data, [h0])
        sym = mx.sym.Group([outs, states[0]])
    assert sym.tojson() == (FIX / "foreach_bn-symbol.json").read_text()


# ---------------------------------------------------------------------------------------------------------------
# Gluon: the block MXNet ran imperatively (reference/control_flow_fixtures.py, `_GluonBN`)
# ---------------------------------------------------------------------------------------------------------------

class _GluonBN(gluon.HybridBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.bn = gluon.nn.BatchNorm(in_channels=4, momentum=0.5)
            self.dense = gluon.nn.Dense(4, in_units=4, flatten=False)
            self.bn2 = gluon.nn.BatchNorm(in_channels=4, momentum=0.8, center=False)

    def hybrid_forward(self, F, x, h):
        def step(xt, states):
            y = F.tanh(self.dense(self.bn(xt))) + states[0]
            return y, [y]
        outs, states = F.contrib.foreach(step, x, [h])
        last = F.contrib.cond(F.sum(states[0]) > 0, lambda: self.bn2(states[0]), lambda: states[0] * 2)
        _, (_, s) = F.contrib.while_loop(lambda i, s: F.sum(i) < 2, lambda i, s: ([s], [i + 1, self.bn2(s) * 0.5]),
                                         [F.zeros((1,)), last], max_iterations=3)
        return outs, s


def _gluon_bn_net(data):
    net = _GluonBN(prefix="bnnet_")
    net.initialize()
    for name, p in net.collect_params().items():
        p.set_data(mx.nd.array(data["param:" + name]))
    return net


@pytest.mark.parametrize("hybridize", [False, True])
def test_gluon_block_with_batchnorm_in_loops_trains_as_mxnet_imperatively(hybridize, tmp_path, monkeypatch):
    data = np.load(FIX / "gluon_bn.npz")
    # the subgraph names count per process: MXNet had traced the other cases of the script first
    counts = collections.Counter({"foreach": 5, "cond_pred": 4, "cond_then": 4, "cond_else": 4,
                                  "while_loop_cond": 2, "while_loop_func": 2})
    monkeypatch.setattr(contrib_control_flow, "_subgraph_counts", counts)
    net = _gluon_bn_net(data)
    if hybridize:
        net.hybridize()
    x, h = mx.nd.array(data["x"]), mx.nd.array(data["h"])
    x.attach_grad()
    with autograd.record():
        outs = net(x, h)
    autograd.backward(list(outs), [mx.nd.array(data["head:%d" % i]) for i in range(2)])
    _close([o.asnumpy() for o in outs], [data["out:0"], data["out:1"]])
    _close([x.grad.asnumpy()], [data["grad:x"]], rtol=1e-4, atol=1e-5)
    params = net.collect_params()
    for name, p in params.items():
        if p.grad_req != "null":
            _close([p.grad().asnumpy()], [data["grad:" + name]], rtol=1e-4, atol=1e-5)
        _close([p.data().asnumpy()], [data["after:" + name]])        # moving stats: once per step, in backward
    _close([o.asnumpy() for o in net(x, h)], [data["inference:0"], data["inference:1"]])
    if hybridize:
        net.export(str(tmp_path / "ours"))
        assert (tmp_path / "ours-symbol.json").read_text() == (FIX / "gluon_bn-symbol.json").read_text()


def test_gluon_bn_export_by_mxnet_loads_and_infers():
    """Two variable nodes share each of bn2's parameter names (MXNet's file): both are that one parameter."""
    text = (FIX / "gluon_bn-symbol.json").read_text()
    assert mx.sym.load_json(text).tojson() == text
    data = np.load(FIX / "gluon_bn.npz")
    loaded = gluon.SymbolBlock.imports(str(FIX / "gluon_bn-symbol.json"), ["data0", "data1"],
                                       str(FIX / "gluon_bn-0000.params"))
    got = loaded(mx.nd.array(data["x"]), mx.nd.array(data["h"]))
    _close([o.asnumpy() for o in got], [data["inference:0"], data["inference:1"]])


# ---------------------------------------------------------------------------------------------------------------
# Symbolic loops with BatchNorm bound with gradients, against their unrolled graphs
# ---------------------------------------------------------------------------------------------------------------

_STATS = ("mm", "mv")


def _bn(F, x, v, momentum, name):
    return F.BatchNorm(x, v["gamma"], v["beta"], v["mm"], v["mv"], momentum=momentum, fix_gamma=False, name=name)


def _foreach_bn(F, v, length, momentum):
    def step(x, states):
        out = F.tanh(_bn(F, x, v, momentum, "bn")) + states[0]
        return [out * 2], [out]
    outs, states = F.contrib.foreach(step, v["data"], [v["h"]])
    return outs + states


def _foreach_bn_unrolled(F, v, length, momentum):
    outs, h = [], v["h"]
    for t in range(length):
        x = F.reshape(F.slice_axis(v["data"], axis=0, begin=t, end=t + 1), shape=(-3, -2))
        h = F.tanh(_bn(F, x, v, momentum, "bn%d" % t)) + h
        outs.append(h * 2)
    return [F.stack(*outs, axis=0), h]


def _while_bn(F, v, length, momentum):
    def func(i, s):
        new = F.tanh(_bn(F, s, v, momentum, "bn")) * 0.5 + F.broadcast_mul(s, v["gamma"])
        return [new], [i + 1, new]
    outs, final = F.contrib.while_loop(lambda i, s: F.sum(i) < length, func, [v["i"], v["h"]],
                                       max_iterations=length + 1)
    return [F.slice_axis(outs[0], axis=0, begin=0, end=length), final[1]]   # the padding row has no value


def _while_bn_unrolled(F, v, length, momentum):
    s, outs = v["h"], []
    for t in range(length):
        s = F.tanh(_bn(F, s, v, momentum, "bn%d" % t)) * 0.5 + F.broadcast_mul(s, v["gamma"])
        outs.append(s)
    return [F.stack(*outs, axis=0), s]


def _cond_bn(F, v, length, momentum):
    then = lambda: F.tanh(_bn(F, v["h"], v, momentum, "bn")) * v["h"]      # noqa: E731
    return [F.contrib.cond(F.sum(v["i"]) < length, then, lambda: v["h"] * 3)]


def _cond_bn_unrolled(F, v, length, momentum):
    return [F.tanh(_bn(F, v["h"], v, momentum, "bn")) * v["h"]]     # sum(i) == 0 < length: the then-branch


_PROGRAMS = {"foreach": (_foreach_bn, _foreach_bn_unrolled), "while_loop": (_while_bn, _while_bn_unrolled),
             "cond": (_cond_bn, _cond_bn_unrolled)}


def _bind_run(sym, values, reqs, heads, seeds):
    """forward(is_train=True) + backward of `sym`: outputs, gradient arrays (seeded: 'add' adds to the seed, 'null'
    leaves it) and the moving stats after."""
    args = {k: mx.nd.array(values[k]) for k in sym.list_arguments()}
    aux = {k: mx.nd.array(values[k]) for k in sym.list_auxiliary_states()}
    grads = {k: mx.nd.array(seeds[k]) for k in args}
    ex = sym.bind(mx.cpu(), args, args_grad=grads, grad_req={k: reqs.get(k, "null") for k in args}, aux_states=aux)
    outs = [o.asnumpy() for o in ex.forward(is_train=True)]
    ex.backward([mx.nd.array(h) for h in heads])
    stats = {k: (args[k] if k in args else aux[k]).asnumpy() for k in _STATS}
    return outs, {k: g.asnumpy() for k, g in grads.items()}, stats


@settings(deadline=None)
@given(program=st.sampled_from(sorted(_PROGRAMS)), length=st.integers(1, 3), batch=st.integers(2, 3),
       channels=st.integers(1, 3), momentum=st.sampled_from([0.5, 0.9]),
       reqs=st.fixed_dictionaries({k: st.sampled_from(["write", "add", "null"])
                                   for k in ("data", "h", "gamma", "beta")}),
       seed=st.integers(0, 2 ** 16))
def test_loop_with_batchnorm_equals_its_unrolled_graph(program, length, batch, channels, momentum, reqs, seed):
    """Outputs, gradients for each grad_req, and the moving stats after the backward (one update per step)."""
    rng = np.random.RandomState(seed)
    values = dict(data=rng.uniform(-1, 1, (length, batch, channels)), h=rng.uniform(-1, 1, (batch, channels)),
                  gamma=rng.uniform(0.5, 1.5, channels), beta=rng.uniform(-1, 1, channels),
                  mm=rng.uniform(-1, 1, channels), mv=rng.uniform(0.5, 1.5, channels), i=np.zeros(1))
    values = {k: v.astype(np.float32) for k, v in values.items()}
    loop, unrolled = _PROGRAMS[program]
    v = {k: mx.sym.var(k) for k in values}
    sym = mx.sym.Group(loop(mx.sym, v, length, momentum))
    want_sym = mx.sym.Group(unrolled(mx.sym, v, length, momentum))
    assert sym.list_auxiliary_states() == [] and set(_STATS) <= set(sym.list_arguments())   # as MXNet lists them
    assert want_sym.list_auxiliary_states() == list(_STATS)
    shapes = want_sym.infer_shape(**{k: values[k].shape for k in want_sym.list_arguments()})[1]
    heads = [rng.uniform(-1, 1, s).astype(np.float32) for s in shapes]
    seeds = {k: rng.uniform(-1, 1, x.shape).astype(np.float32) for k, x in values.items()}
    got = _bind_run(sym, values, reqs, heads, seeds)
    # the truth: the unrolled graph's gradients with grad_req 'write' (what 'add' adds to the seed; 'null' keeps it)
    zeros = {k: np.zeros_like(x) for k, x in seeds.items()}
    want = _bind_run(want_sym, values, {k: "write" for k in reqs}, heads, zeros)
    _close(got[0], want[0])
    for k, req in reqs.items():
        if k not in want[1]:        # `data`: foreach's alone
            continue
        expected = {"write": want[1][k], "add": seeds[k] + want[1][k], "null": seeds[k]}[req]
        _close([got[1][k]], [expected], rtol=1e-4, atol=1e-5)
    if all(reqs[k] == "null" for k in want[1]):     # no gradient: no backward, so nothing updates the stats
        want[2].update({k: values[k] for k in _STATS})
    _close([got[2][k] for k in _STATS], [want[2][k] for k in _STATS])


# ---------------------------------------------------------------------------------------------------------------
# The saved forward (Note [saved forward values] in ops/cpu/control_flow.py)
# ---------------------------------------------------------------------------------------------------------------

def _dropout_loop(F, data, h, w):
    def step(x, states):
        y = F.Dropout(F.broadcast_mul(x, w), p=0.5) + states[0]
        return [y], [y * 0.5]
    outs, states = F.contrib.foreach(step, data, [h])
    return outs + states


def test_backward_uses_the_forwards_random_masks():
    """A Dropout in the body: the gradients are those of the mask the forward drew (a recomputed forward would draw
    another). With y_t = dropout(x_t * w) + s_t and ones as head gradients, dx_t = w * kept_t * 2 * (1 + 0.5 + ...)
    counts how often y_t reaches the heads: once as an output, and halved through each later state."""
    rng = np.random.RandomState(3)
    length, shape = 4, (3, 5)
    data, w = rng.uniform(0.5, 1.5, (length,) + shape), rng.uniform(0.5, 1.5, shape[1:])
    sym = mx.sym.Group(_dropout_loop(mx.sym, *(mx.sym.var(k) for k in ("data", "h", "w"))))
    args = dict(data=mx.nd.array(data), h=mx.nd.zeros(shape), w=mx.nd.array(w))
    grads = {k: mx.nd.zeros(a.shape) for k, a in args.items()}
    ex = sym.bind(mx.cpu(), args, args_grad=grads)
    mx.random.seed(7)
    outs = [o.asnumpy() for o in ex.forward(is_train=True)]
    ex.backward([mx.nd.ones(o.shape) for o in outs])
    states = np.concatenate([np.zeros((1,) + shape), 0.5 * outs[0][:-1]])
    kept = (outs[0] - states) != 0
    assert 0 < kept.mean() < 1
    reach = np.array([sum(0.5 ** k for k in range(length - t)) for t in range(length)])   # outputs, states
    reach += 0.5 ** np.arange(length, 0, -1)        # ... and the final state head
    want = w * kept * 2 * reach[:, None, None]
    np.testing.assert_allclose(grads["data"].asnumpy(), want, rtol=1e-5)


def test_backward_after_an_inference_forward_recomputes():
    """Nothing saved (forward(is_train=False)): the backward runs the steps again, giving the training gradients."""
    rng = np.random.RandomState(4)
    values = dict(data=rng.uniform(-1, 1, (3, 2, 4)), h=rng.uniform(-1, 1, (2, 4)), w=rng.uniform(-1, 1, (4,)))
    sym = mx.sym.Group(_foreach_tanh(mx.sym, *(mx.sym.var(k) for k in values)))
    results = []
    for is_train in (True, False):
        args = {k: mx.nd.array(v) for k, v in values.items()}
        grads = {k: mx.nd.zeros(v.shape) for k, v in values.items()}
        ex = sym.bind(mx.cpu(), args, args_grad=grads)
        ex.forward(is_train=is_train)
        ex.backward([mx.nd.ones((3, 2, 4)), mx.nd.ones((2, 4))])
        results.append([grads[k].asnumpy() for k in values])
    _close(results[1], results[0])


def _foreach_tanh(F, data, h, w):
    def step(x, states):
        y = F.tanh(F.broadcast_mul(x, w) + states[0])
        return [y], [y]
    outs, states = F.contrib.foreach(step, data, [h])
    return outs + states


class _Loop(gluon.HybridBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.dense = gluon.nn.Dense(4, flatten=False)

    def hybrid_forward(self, F, x, h):
        def step(xt, states):
            y = F.tanh(self.dense(xt) + states[0])
            return [y], [y]
        outs, states = F.contrib.foreach(step, x, [h])
        _, (_, s) = F.contrib.while_loop(lambda i, s: F.sum(i) < 2, lambda i, s: ([s], [i + 1, F.tanh(s) * 2]),
                                         [F.zeros((1,)), states[0]], max_iterations=4)
        return outs[0], s


def test_two_recorded_calls_before_one_backward_keep_their_own_saved_steps():
    rng = np.random.RandomState(5)
    xs = [mx.nd.array(rng.uniform(-1, 1, (3, 2, 4))) for _ in range(2)]
    h = mx.nd.array(rng.uniform(-1, 1, (2, 4)))
    net = _Loop()
    net.initialize(mx.init.Uniform(0.5))
    results = []
    for hybridize in (False, True):
        net.hybridize(hybridize)
        for x in xs:
            x.attach_grad()
        with autograd.record():
            first, second = net(xs[0], h), net(xs[1], h)
            loss = (first[0] * first[0]).sum() + first[1].sum() + (second[0] * 3).sum() + (second[1] ** 2).sum()
        loss.backward()
        results.append([x.grad.asnumpy() for x in xs] + [net.dense.weight.grad().asnumpy()])
    _close(results[1], results[0], rtol=1e-4)


def test_subgraph_plans_are_bound_once_per_signature():
    """Repeated training steps and inference calls reuse the subgraph's runners (one per shapes, dtypes, gradient
    steps or not, thread): a second run binds nothing new."""
    values = dict(data=np.ones((3, 2, 4)), h=np.zeros((2, 4)), w=np.ones(4))
    sym = mx.sym.Group(_foreach_tanh(mx.sym, *(mx.sym.var(k) for k in values)))
    sub = sym._outputs[0].node.params.subgraphs[0]
    args = {k: mx.nd.array(v) for k, v in values.items()}
    ex = sym.bind(mx.cpu(), args, args_grad={k: mx.nd.zeros(v.shape) for k, v in values.items()})
    counts = []
    for _ in range(3):
        ex.forward(is_train=True)
        ex.backward([mx.nd.ones((3, 2, 4)), mx.nd.ones((2, 4))])
        ex.forward(is_train=False)
        mx.nd.waitall()
        counts.append(len(sub._runners))
    assert counts == [2, 2, 2]      # with gradient steps (training), without (inference)
