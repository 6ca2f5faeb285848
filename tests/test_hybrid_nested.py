"""HybridBlock arguments and outputs nested in lists (`model(x, [h, c]) -> (y, [h, c])`), as MXNet flattens them:
the graph's inputs are `data0`, `data1`, ... over the flat arrays, the outputs are regrouped into the nesting
`hybrid_forward` returned, and `export`/`SymbolBlock` name and take the inputs the same way.

Truths: MXNet 1.9.1 (tests/fixtures/mxnet-1.9.1/hybrid_blocks/, recorded by reference/hybrid_blocks_fixtures.py,
whose `build_nested` builds the block here too: its outputs, its exported file and that file imported), the block
run imperatively, and numpy.
"""
import json
import os

import numpy as np
import pytest

import dataflow as mx
from tests import paths

FIXTURES = os.path.join(paths.FIXTURES, "hybrid_blocks")
REF = paths.load_reference("hybrid_blocks_fixtures")
WANT = np.load(os.path.join(FIXTURES, "cases.npz"))
with open(os.path.join(FIXTURES, "cases.json")) as _fh:
    META = json.load(_fh)


def _inputs():
    return [mx.nd.array(a) for a in REF.nested_inputs()]


def _numpy_truth(block):
    x, h, c = REF.nested_inputs()
    w, b = block.dense.weight.data().asnumpy(), block.dense.bias.data().asnumpy()
    y = np.tanh(x @ w.T + b + h)
    return y, y, c * 2


@pytest.mark.parametrize("hybrid", [False, True])
def test_nested_call_matches_mxnet_and_numpy(hybrid):
    block = REF.build_nested(mx)
    if hybrid:
        block.hybridize()
    x, h, c = _inputs()
    for _ in range(2):
        out = block(x, [h, c])
        assert isinstance(out, (list, tuple)) and len(out) == 2 and isinstance(out[1], list) and len(out[1]) == 2
        y, (h2, c2) = out
        for got, name, want in zip((y, h2, c2), ("y", "h", "c"), _numpy_truth(block)):
            np.testing.assert_allclose(got.asnumpy(), WANT["nested_" + name], rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-5, atol=1e-6)
    if hybrid:
        inputs, out = block._cached_graph
        assert [i.name for i in inputs] == ["data0", "data1", "data2"]


def test_nested_gradients_match_the_imperative_block():
    grads = []
    for hybrid in (False, True):
        block = REF.build_nested(mx)
        if hybrid:
            block.hybridize()
        x, h, c = _inputs()
        for a in (x, h, c):
            a.attach_grad()
        with mx.autograd.record():
            y, (h2, c2) = block(x, [h, c])
            total = y.sum() + (h2 * 2).sum() + (c2 * 3).sum()
        total.backward()
        grads.append([a.grad.asnumpy() for a in (x, h, c)] + [block.dense.weight.grad().asnumpy()])
    y = _numpy_truth(REF.build_nested(mx))[0]
    np.testing.assert_allclose(grads[0][1], 3 * (1 - y ** 2), rtol=1e-5)       # dy/dh sums both y heads
    np.testing.assert_allclose(grads[0][2], np.full((2, 4), 6.0), rtol=1e-6)
    for imperative, hybrid in zip(*grads):
        np.testing.assert_allclose(hybrid, imperative, rtol=1e-5, atol=1e-6)


def test_export_names_the_flat_inputs_as_mxnet(tmp_path):
    block = REF.build_nested(mx)
    block.hybridize()
    x, h, c = _inputs()
    block(x, [h, c])
    path = str(tmp_path / "nested")
    block.export(path)
    sym = mx.sym.load(path + "-symbol.json")
    assert sym.list_arguments() == META["nested_arguments"]
    assert sym.list_outputs() == META["nested_outputs"]
    imported = mx.gluon.SymbolBlock.imports(path + "-symbol.json", ["data0", "data1", "data2"], path + "-0000.params")
    outs = imported(x, h, c)
    assert len(outs) == META["imported_output_count"]
    for k, o in enumerate(outs):
        np.testing.assert_allclose(o.asnumpy(), WANT["imported_out%d" % k], rtol=1e-5, atol=1e-6)
    assert META["imported_nested_call"] == "ValueError"     # the file's inputs are flat
    with pytest.raises(ValueError, match="argument structure"):
        imported(x, [h, c])


def test_mxnet_export_imports_and_runs():
    path = os.path.join(FIXTURES, "nested")
    imported = mx.gluon.SymbolBlock.imports(path + "-symbol.json", ["data0", "data1", "data2"], path + "-0000.params")
    outs = imported(*_inputs())
    for k, o in enumerate(outs):
        np.testing.assert_allclose(o.asnumpy(), WANT["imported_out%d" % k], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("hybrid", [False, True])
def test_symbol_block_with_nested_inputs_and_outputs(hybrid):
    path = os.path.join(FIXTURES, "nested")
    sym = mx.sym.load(path + "-symbol.json")
    data0, data1, data2 = (mx.sym.var(n) for n in ("data0", "data1", "data2"))
    block = mx.gluon.SymbolBlock([sym[0], [sym[1], sym[2]]], [data0, [data1, data2]])
    block.collect_params().load(path + "-0000.params")
    if hybrid:
        block.hybridize()
    x, h, c = _inputs()
    y, (h2, c2) = block(x, [h, c])
    for got, name in zip((y, h2, c2), ("y", "h", "c")):
        np.testing.assert_allclose(got.asnumpy(), WANT["symbolblock_" + name], rtol=1e-5, atol=1e-6)
    s_y, (s_h, s_c) = block(mx.sym.var("a"), [mx.sym.var("b"), mx.sym.var("c")])     # traced with Symbols
    assert s_c.list_arguments()[-1] == "c"


class _Optional(mx.gluon.HybridBlock):
    """`(x, None)` and `(x, [bias])`: None arguments get no graph input, as in MXNet."""

    def hybrid_forward(self, F, x, extra=None):
        if extra is None:
            return x * 2
        return [x + extra[0], [extra[0]]]


def test_none_and_nested_arguments_trace_their_own_graphs():
    block = _Optional()
    block.hybridize()
    x = mx.nd.array([1.0, -2.0])
    b = mx.nd.array([0.5, 0.25])
    np.testing.assert_allclose(block(x, None).asnumpy(), [2.0, -4.0])
    assert [i.name for i in block._cached_graph[0]] == ["data"]
    out, (same,) = block(x, [b])
    np.testing.assert_allclose(out.asnumpy(), [1.5, -1.75])
    np.testing.assert_allclose(same.asnumpy(), [0.5, 0.25])
    assert [i.name for i in block._cached_graph[0]] == ["data0", "data1"]
    with pytest.raises(ValueError, match="must be \\(nested\\) list of Symbol or NDArray"):
        block(x, [b, 3])


class _LanguageModel(mx.gluon.HybridBlock):
    """GluonNLP's StandardRNN shape: `model(x, [h, c]) -> (logits, [h, c])` around an LSTM layer."""

    def __init__(self):
        super().__init__(prefix="lm_")
        with self.name_scope():
            self.embedding = mx.gluon.nn.Embedding(10, 3)
            self.encoder = mx.gluon.rnn.LSTM(4, num_layers=2, input_size=3)
            self.decoder = mx.gluon.nn.Dense(10, flatten=False, in_units=4)

    def hybrid_forward(self, F, inputs, begin_state):
        encoded, state = self.encoder(self.embedding(inputs), begin_state)
        return self.decoder(encoded), state


def test_hybridized_language_model_with_a_state_list_matches_the_imperative_one():
    rs = np.random.RandomState(3)
    tokens = mx.nd.array(rs.randint(0, 10, (5, 2)))           # TNC: 5 steps, batch 2
    results = []
    for hybrid in (False, True):
        mx.random.seed(0)
        model = _LanguageModel()
        model.initialize(mx.init.Uniform(0.3))
        if hybrid:
            model.hybridize()
        states = model.encoder.begin_state(batch_size=2)
        with mx.autograd.record():
            logits, new_states = model(tokens, states)
            loss = logits.sum() + sum((s * s).sum() for s in new_states)
        loss.backward()
        results.append([logits.asnumpy()] + [s.asnumpy() for s in new_states] +
                       [p.grad().asnumpy() for p in model.collect_params().values()])
    assert len(results[1]) == len(results[0])
    for imperative, hybrid in zip(*results):
        np.testing.assert_allclose(hybrid, imperative, rtol=1e-4, atol=1e-5)
