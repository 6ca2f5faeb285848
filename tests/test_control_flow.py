"""Control flow: mx.nd.contrib / mx.sym.contrib foreach, while_loop and cond (ops/control_flow.py).

Truths: each loop equals its unrolled equivalent (plain ops in a Python loop, recorded by autograd) forward and
backward; MXNet 1.9.1's files (tests/fixtures/mxnet-1.9.1/control_flow/, recorded by
reference/control_flow_fixtures.py) load, write back byte for byte, and give MXNet's outputs and gradients; the same
program traced here writes MXNet's JSON; a hybridized block equals the imperative one.
"""
import json
import pathlib

import numpy as np
import pytest
from hypothesis import given, strategies as st

import dataflow as mx
from dataflow import autograd, gluon
from dataflow.base import MXNetError
from dataflow.symbol import contrib_control_flow
from tests.paths import FIXTURES

FIX = pathlib.Path(FIXTURES) / "control_flow"
CASES = json.loads((FIX / "cases.json").read_text())


def _arrays(rng, shapes):
    return {k: rng.uniform(-1, 1, size=s).astype(np.float32) for k, s in shapes.items()}


def _at(x, t):
    """x[t] as recorded ops (basic indexing is not recorded by autograd here)."""
    return mx.nd.slice_axis(x, axis=0, begin=t, end=t + 1).reshape(x.shape[1:])


def _imperative(fn, values, heads=None):
    """Outputs and input gradients of `fn(**NDArrays)` (a list of NDArrays) under autograd, for head gradients
    `heads` (default ones)."""
    arrays = {k: mx.nd.array(v) for k, v in values.items()}
    for a in arrays.values():
        a.attach_grad()
    with autograd.record():
        outs = fn(**arrays)
    heads = heads or [np.ones(o.shape, np.float32) for o in outs]
    autograd.backward(outs, [mx.nd.array(h) for h in heads])
    return [o.asnumpy() for o in outs], {k: a.grad.asnumpy() for k, a in arrays.items()}, heads


def _symbolic(sym, values, heads):
    args = {k: mx.nd.array(v) for k, v in values.items() if k in sym.list_arguments()}
    grads = {k: mx.nd.zeros(v.shape) for k, v in args.items()}
    ex = sym.bind(mx.cpu(), args, args_grad=grads)
    outs = ex.forward(is_train=True)
    ex.backward([mx.nd.array(h) for h in heads])
    return [o.asnumpy() for o in outs], {k: g.asnumpy() for k, g in grads.items()}


def _close(got, want, rtol=1e-5, atol=1e-6):
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------------------------------------------
# foreach
# ---------------------------------------------------------------------------------------------------------------

def _rnn_step(F, w):
    def step(x, states):
        h = F.tanh(F.dot(x, w) + states[0])
        return [h * 2, h + states[1]], [h, states[1] * 0.5]
    return step


def _foreach_loop(F, data, h, c, w):
    outs, states = F.contrib.foreach(_rnn_step(F, w), data, [h, c])
    return outs + states


def _foreach_unrolled(data, h, c, w):
    step, states, outs = _rnn_step(mx.nd, w), [h, c], []
    for t in range(data.shape[0]):
        out, states = step(_at(data, t), states)
        outs.append(out)
    return [mx.nd.stack(*[o[0] for o in outs]), mx.nd.stack(*[o[1] for o in outs])] + states


@given(length=st.integers(1, 5), batch=st.integers(1, 3), hidden=st.integers(1, 4), seed=st.integers(0, 2 ** 16))
def test_foreach_equals_unrolled_imperative_and_symbolic(length, batch, hidden, seed):
    rng = np.random.RandomState(seed)
    values = _arrays(rng, dict(data=(length, batch, hidden), h=(batch, hidden), c=(batch, hidden),
                               w=(hidden, hidden)))
    want, want_grads, heads = _imperative(_foreach_unrolled, values)
    got, got_grads, _ = _imperative(lambda **a: _foreach_loop(mx.nd, **a), values, heads)
    _close(got, want)
    _close([got_grads[k] for k in values], [want_grads[k] for k in values])
    sym = mx.sym.Group(_foreach_loop(mx.sym, *[mx.sym.var(k) for k in ("data", "h", "c", "w")]))
    got, got_grads = _symbolic(sym, values, heads)
    _close(got, want)
    _close([got_grads[k] for k in values], [want_grads[k] for k in values])


def test_foreach_nested_data_and_outer_op_result():
    """Two data arrays; the body reads an outer op's output (cut into the subgraph as `sigmoid0_output`)."""
    rng = np.random.RandomState(1)
    values = _arrays(rng, dict(x=(3, 2, 2), y=(3, 2, 2), s=(2, 2), p=(1, 2)))

    def program(F, x, y, s, p):
        scale = F.sigmoid(p)

        def step(data, states):
            a, b = data
            new = states[0] * a + F.broadcast_mul(b, scale)
            return new * 3, [new]
        outs, states = F.contrib.foreach(step, [x, y], [s])
        return [outs, states[0]]

    def unrolled(x, y, s, p):
        scale, outs = mx.nd.sigmoid(p), []
        for t in range(3):
            s = s * _at(x, t) + mx.nd.broadcast_mul(_at(y, t), scale)
            outs.append(s * 3)
        return [mx.nd.stack(*outs), s]
    want, want_grads, heads = _imperative(unrolled, values)
    got, got_grads, _ = _imperative(lambda **a: program(mx.nd, **a), values, heads)
    _close(got, want)
    _close([got_grads[k] for k in values], [want_grads[k] for k in values])
    sym = mx.sym.Group(program(mx.sym, *[mx.sym.var(k) for k in values]))
    assert sym.list_arguments() == ["x", "y", "s", "p"]
    got, got_grads = _symbolic(sym, values, heads)
    _close(got, want)
    _close([got_grads[k] for k in values], [want_grads[k] for k in values])


# ---------------------------------------------------------------------------------------------------------------
# while_loop
# ---------------------------------------------------------------------------------------------------------------

def _while_program(F, limit, max_iterations):
    def cond(i, s):
        return F.sum(i) < limit

    def func(i, s):
        new_s = F.broadcast_add(F.tanh(s), i)
        return [new_s * 2], [i + 1, new_s]
    return lambda i, s: F.contrib.while_loop(cond, func, [i, s], max_iterations=max_iterations)


@given(limit=st.integers(0, 4), max_iterations=st.integers(1, 5), width=st.integers(1, 3),
       seed=st.integers(0, 2 ** 16))
def test_while_loop_equals_unrolled(limit, max_iterations, width, seed):
    rng = np.random.RandomState(seed)
    values = dict(i=np.zeros((1,), np.float32), s=rng.uniform(-1, 1, (2, width)).astype(np.float32))
    steps = min(limit, max_iterations)

    def unrolled(i, s):
        outs = []
        for _ in range(steps):
            s = mx.nd.broadcast_add(mx.nd.tanh(s), i)
            outs.append(s * 2)
            i = i + 1
        return outs + [i, s]
    step_heads = [rng.uniform(-1, 1, (2, width)).astype(np.float32) for _ in range(steps)]
    final_heads = [rng.uniform(-1, 1, (1,)).astype(np.float32), rng.uniform(-1, 1, (2, width)).astype(np.float32)]
    want, want_grads, _ = _imperative(unrolled, values, step_heads + final_heads)
    padded_head = np.zeros((max_iterations, 2, width), np.float32)     # padding rows: undefined, no gradient
    if steps:
        padded_head[:steps] = step_heads
    loop = _while_program(mx.nd, limit, max_iterations)

    def imperative(i, s):
        outs, final = loop(i, s)
        return outs + final     # no step ran: no step outputs (MXNet's imperative form)
    got, got_grads, _ = _imperative(imperative, values, ([padded_head] if steps else []) + final_heads)
    outs, final = _while_program(mx.sym, limit, max_iterations)(mx.sym.var("i"), mx.sym.var("s"))
    sym_got, sym_grads = _symbolic(mx.sym.Group(outs + final), values, [padded_head] + final_heads)
    assert sym_got[0].shape == (max_iterations, 2, width)
    for outputs, grads in ((got, got_grads), (sym_got, sym_grads)):
        if steps:
            assert outputs[0].shape == (max_iterations, 2, width)
            _close([outputs[0][:steps]], [np.stack(want[:steps])])
        _close(outputs[-2:], want[-2:])
        _close([grads["s"], grads["i"]], [want_grads["s"], want_grads["i"]])


def test_while_loop_imperative_matches_mxnet_doc_example():
    cond = lambda i, s: i <= 5      # noqa: E731
    func = lambda i, s: ([i + s], [i + 1, s + i])       # noqa: E731
    loop_vars = (mx.nd.array([0], dtype="int64"), mx.nd.array([1], dtype="int64"))
    outputs, states = mx.nd.contrib.while_loop(cond, func, loop_vars, max_iterations=10)
    assert outputs[0].shape == (10, 1)
    assert outputs[0][:6].asnumpy().ravel().tolist() == [1, 2, 4, 7, 11, 16]
    assert [s.asscalar() for s in states] == [6, 16]
    with pytest.raises(ValueError, match="max_iterations should be specified"):
        mx.nd.contrib.while_loop(cond, func, loop_vars)


# ---------------------------------------------------------------------------------------------------------------
# cond
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_cond_equals_the_branch_it_picks(sign):
    rng = np.random.RandomState(3)
    values = _arrays(rng, dict(a=(2, 3), b=(2, 3)))
    values["a"] = np.abs(values["a"]) * sign

    def program(F, a, b):
        return [F.contrib.cond(F.sum(a) > 0, lambda: a * b + 1, lambda: F.tanh(a - b))]

    def branch(a, b):
        return [a * b + 1] if sign > 0 else [mx.nd.tanh(a - b)]
    want, want_grads, heads = _imperative(branch, values)
    got, got_grads, _ = _imperative(lambda **v: program(mx.nd, **v), values, heads)
    _close(got + [got_grads["a"], got_grads["b"]], want + [want_grads["a"], want_grads["b"]])
    got, got_grads = _symbolic(mx.sym.Group(program(mx.sym, mx.sym.var("a"), mx.sym.var("b"))), values, heads)
    _close(got + [got_grads["a"], got_grads["b"]], want + [want_grads["a"], want_grads["b"]])


# ---------------------------------------------------------------------------------------------------------------
# MXNet's files
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", sorted(CASES))
def test_mxnet_file_loads_round_trips_and_runs(case):
    text = (FIX / ("%s-symbol.json" % case)).read_text()
    sym = mx.sym.load_json(text)
    assert sym.tojson() == text
    assert sym.list_arguments() == CASES[case]["arguments"]
    assert sym.list_outputs() == CASES[case]["outputs"]
    data = np.load(FIX / ("%s.npz" % case))
    values = {k[4:]: data[k] for k in data.files if k.startswith("arg:")}
    heads = [data["head:%d" % i] for i in range(len(CASES[case]["outputs"]))]
    got, grads = _symbolic(sym, values, heads)
    assert [list(g.shape) for g in got] == CASES[case]["shapes"]
    for i, g in enumerate(got):
        want = data["out:%d" % i]
        if case == "while_count" and i == 0:       # 3 steps of 5: MXNet's padding rows are undefined
            g, want = g[:3], want[:3]
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-6)
    for k, g in grads.items():
        np.testing.assert_allclose(g, data["grad:" + k], rtol=1e-5, atol=1e-6)


def test_tracing_writes_mxnets_json(monkeypatch):
    """The program reference/control_flow_fixtures.py recorded, traced here, gives MXNet's file byte for byte."""
    import collections
    monkeypatch.setattr(contrib_control_flow, "_subgraph_counts", collections.Counter())
    with mx.name.NameManager():
        data, h0, w, b = (mx.sym.var(n) for n in ("data", "h0", "w", "b"))

        def step(x, states):
            h = mx.sym.tanh(mx.sym.dot(x, w) + mx.sym.broadcast_add(states[0], b))
            return h * 2, [h]
        outs, states = mx.sym.contrib.foreach(step, data, [h0])
        sym = mx.sym.Group([outs, states[0]])
    assert sym.tojson() == (FIX / "foreach_rnn-symbol.json").read_text()


# ---------------------------------------------------------------------------------------------------------------
# Gluon
# ---------------------------------------------------------------------------------------------------------------

class _MXNetsRNN(gluon.HybridBlock):
    """The block reference/control_flow_fixtures.py exported from MXNet (`gluon_rnn`)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.dense = gluon.nn.Dense(3, in_units=5, flatten=False)

    def hybrid_forward(self, F, x, h):
        def step(xt, states):
            hn = F.tanh(self.dense(xt) + states[0])
            return hn, [hn]
        outs, states = F.contrib.foreach(step, x, [h])
        last = F.contrib.cond(F.sum(states[0]) > 0, lambda: states[0] * 2, lambda: states[0] - 1)
        return outs, last


def test_block_exported_by_mxnet_loads_and_runs_and_export_matches(tmp_path, monkeypatch):
    import collections
    data = np.load(FIX / "gluon_rnn.npz")
    x, h = mx.nd.array(data["x"]), mx.nd.array(data["h"])
    loaded = gluon.SymbolBlock.imports(str(FIX / "gluon_rnn-symbol.json"), ["data0", "data1"],
                                       str(FIX / "gluon_rnn-0000.params"))
    _close([a.asnumpy() for a in loaded(x, h)], [data["out0"], data["out1"]])
    # the subgraph names count per process: MXNet had traced the other cases of the script first
    counts = collections.Counter({"foreach": 3, "cond_pred": 2, "cond_then": 2, "cond_else": 2})
    monkeypatch.setattr(contrib_control_flow, "_subgraph_counts", counts)
    net = _MXNetsRNN(prefix="rnn_")
    net.collect_params().load(str(FIX / "gluon_rnn-0000.params"))     # export writes full names
    _close([a.asnumpy() for a in net(x, h)], [data["out0"], data["out1"]])
    net.hybridize()
    _close([a.asnumpy() for a in net(x, h)], [data["out0"], data["out1"]])
    net.export(str(tmp_path / "ours"))
    assert (tmp_path / "ours-symbol.json").read_text() == (FIX / "gluon_rnn-symbol.json").read_text()


class _Recurrent(gluon.HybridBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.dense = gluon.nn.Dense(3, flatten=False)

    def hybrid_forward(self, F, x, h):
        def step(xt, states):
            hn = F.tanh(self.dense(xt) + states[0])
            return hn, [hn]
        outs, states = F.contrib.foreach(step, x, [h])
        shifted = F.contrib.cond(F.sum(states[0]) > 100, lambda: states[0] * 0, lambda: states[0] + 1)
        _, (_, decayed) = F.contrib.while_loop(lambda i, s: F.sum(i) < 2, lambda i, s: ([s], [i + 1, F.tanh(s)]),
                                               [F.zeros((1,)), shifted], max_iterations=3)
        return outs, decayed


def _run_block(net, x, h):
    x.attach_grad()
    with autograd.record():
        o, s = net(x, h)
        (o.sum() + (s * s).sum()).backward()
    return [o.asnumpy(), s.asnumpy(), x.grad.asnumpy(), net.dense.weight.grad().asnumpy()]


def test_hybridized_equals_imperative_and_export_loads(tmp_path):
    net = _Recurrent()
    net.initialize(mx.init.Xavier(rnd_type="gaussian"))
    rng = np.random.RandomState(5)
    x, h = mx.nd.array(rng.randn(4, 2, 5)), mx.nd.array(rng.randn(2, 3))
    want = _run_block(net, x, h)
    net.hybridize()
    got = _run_block(net, x, h)
    _close(got, want)
    _close([a.asnumpy() for a in net(x, h)], want[:2])
    net.export(str(tmp_path / "net"))
    loaded = gluon.SymbolBlock.imports(str(tmp_path / "net-symbol.json"), ["data0", "data1"],
                                       str(tmp_path / "net-0000.params"))
    _close([a.asnumpy() for a in loaded(x, h)], want[:2])


def test_nested_foreach_equals_imperative_and_round_trips():
    def program(F, x, h, w):
        def outer(xt, states):
            def inner(xtt, st):
                n = F.tanh(xtt * w + st[0])
                return n, [n]
            o, s = F.contrib.foreach(inner, xt, [states[0]])
            return o, [s[0] * 0.5]
        outs, st = F.contrib.foreach(outer, x, [h])
        return [outs, st[0]]
    values = _arrays(np.random.RandomState(7), dict(x=(3, 4, 2), h=(2,), w=(2,)))
    want, want_grads, heads = _imperative(lambda **a: program(mx.nd, **a), values)
    sym = mx.sym.Group(program(mx.sym, *[mx.sym.var(k) for k in values]))
    loaded = mx.sym.load_json(sym.tojson())
    assert loaded.tojson() == sym.tojson()
    for s in (sym, loaded):
        got, grads = _symbolic(s, values, heads)
        _close(got, want)
        _close([grads[k] for k in values], [want_grads[k] for k in values])


# ---------------------------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------------------------

def test_state_changing_shape_is_an_error_naming_the_op_and_shapes():
    step = lambda x, states: (x, [mx.nd.sum(states[0], axis=1)])     # noqa: E731
    with pytest.raises(MXNetError, match=r"foreach: state 0 changed from shape \(2, 3\).* to \(2,\)"):
        mx.nd.contrib.foreach(step, mx.nd.ones((3, 2)), [mx.nd.ones((2, 3))])
    outs, states = mx.sym.contrib.foreach(lambda x, s: (x, [mx.sym.sum(s[0], axis=1)]), mx.sym.var("data"),
                                          [mx.sym.var("h")])
    with pytest.raises(MXNetError, match=r"_foreach.*state 0 goes into the subgraph as \(2, 3\) but comes out "
                                         r"as \(2,\)"):
        mx.sym.Group([outs, states[0]]).infer_shape(data=(3, 2), h=(2, 3))


def test_data_of_different_lengths_is_an_error():
    with pytest.raises(MXNetError, match=r"data 0 has shape \(3, 2\), data 1 has shape \(4, 2\)"):
        mx.nd.contrib.foreach(lambda x, s: (x[0] + x[1], s), [mx.nd.ones((3, 2)), mx.nd.ones((4, 2))],
                              [mx.nd.ones((2,))])


def test_body_returning_the_wrong_structure_is_an_error():
    with pytest.raises(MXNetError, match="foreach: the body returned 2 states, but the loop has 1"):
        mx.nd.contrib.foreach(lambda x, s: (x, [s[0], s[0]]), mx.nd.ones((3, 2)), [mx.nd.ones((2,))])
    with pytest.raises(MXNetError, match="states nested as"):
        mx.sym.contrib.foreach(lambda x, s: (x, [s[0], s[0]]), mx.sym.var("d"), [mx.sym.var("s")])
    with pytest.raises(MXNetError, match="must be a \\(nested\\) list of NDArray"):
        mx.nd.contrib.foreach(lambda x, s: ("oops", s), mx.nd.ones((3, 2)), [mx.nd.ones((2,))])
    with pytest.raises(ValueError, match="The length of loop_vars should be consistent"):
        mx.nd.contrib.while_loop(lambda i: i < 3, lambda i: ([i], [i, i]), [mx.nd.zeros((1,))], max_iterations=4)
    with pytest.raises(MXNetError, match=r"_cond.*output 0 is \(2, 3\) in the then-branch but \(1,\)"):
        mx.sym.contrib.cond(mx.sym.var("p"), lambda: mx.sym.var("a") * 2,
                            lambda: mx.sym.sum(mx.sym.var("a"))).infer_shape(p=(1,), a=(2, 3))


def test_a_file_whose_locs_do_not_fit_its_subgraph_fails_naming_the_node():
    text = (FIX / "foreach_rnn-symbol.json").read_text()
    with pytest.raises(MXNetError, match=r"node 4 \(_foreach0\): _foreach: its subgraph has 4 inputs \(data-0, w, "
                                         r"h0-0, b\), but the params place 3"):
        mx.sym.load_json(text.replace('"remain_locs": "[1, 3]"', '"remain_locs": "[1]"'))
    with pytest.raises(MXNetError, match=r"node 4 \(_foreach0\).*remain_locs \[1, 7\].*do not describe one "
                                         r"subgraph"):
        mx.sym.load_json(text.replace('"remain_locs": "[1, 3]"', '"remain_locs": "[1, 7]"'))
    with pytest.raises(MXNetError, match=r"node 3 \(_while_loop0\): _while_loop: cond_input_locs \[0\], "
                                         r"func_input_locs \[1, 2, 9\] do not number the node's inputs"):
        mx.sym.load_json((FIX / "while_count-symbol.json").read_text().replace(
            '"func_input_locs": "[1, 2, 0]"', '"func_input_locs": "[1, 2, 9]"'))
    doc = json.loads(text)
    del doc["nodes"][4]["subgraphs"]
    with pytest.raises(MXNetError, match=r"node 4 \(_foreach0\): _foreach: expected 1 subgraph\(s\), the node "
                                         r"has 0"):
        mx.sym.load_json(json.dumps(doc))
    doc = json.loads((FIX / "foreach_two_data-symbol.json").read_text())
    assert doc["nodes"][5]["op"] == "sigmoid"
    doc["nodes"][5]["subgraphs"] = []
    with pytest.raises(MXNetError, match="has subgraphs, but the operator takes none"):
        mx.sym.load_json(json.dumps(doc))
