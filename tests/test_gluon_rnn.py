"""gluon.rnn cells and layers and gluon.contrib.rnn cells against MXNet 1.9.1 (tests/fixtures/mxnet-1.9.1/rnn/).

Each case is built by `build(mx, case)` of reference/rnn_fixtures.py, the script that recorded the fixtures, here
with mx = dataflow: same blocks, same parameters (seeded, in sorted-name order), same inputs and loss weights.
Outputs, final states and the gradients of sum(out*w) + sum(state*ws) wrt the input, the given states and every
parameter are compared imperatively and hybridized.
"""
import importlib.util
import json
import os

import numpy as np
import pytest

import dataflow as mx
from dataflow.base import MXNetError
from tests import paths

FIXTURES = os.path.join(paths.FIXTURES, "rnn")
REF = paths.load_reference("rnn_fixtures")
with open(os.path.join(FIXTURES, "cases.json")) as _fh:
    CASES = json.load(_fh)
RTOL, ATOL = 1e-4, 1e-5


def _fixture(name):
    return dict(np.load(os.path.join(FIXTURES, name + ".npz")))


class Unrolled(mx.gluon.HybridBlock):
    """A hybridizable model around a cell: unroll over the whole sequence; inputs x, [valid_length], *states."""

    def __init__(self, cell, case, **kwargs):
        super().__init__(prefix="", **kwargs)
        self.cell = cell
        self._case = case

    def hybrid_forward(self, F, x, *rest):
        valid = rest[0] if self._case.get("valid_length") else None
        states = list(rest[1:] if valid is not None else rest)
        out, states = self.cell.unroll(self._case["T"], x, begin_state=states or None, layout=self._case["layout"],
                                       merge_outputs=True, valid_length=valid)
        return [out] + list(states)


def _wrapper_call(model):
    def call(x, states, valid):
        results = model(x, *([valid] if valid is not None else []), *states)
        return results[0], results[1:]
    return call


def _check(case, rec, expected):
    assert np.array_equal(rec["w"], expected["w"])            # the same seeded loss weights as the recording
    for key, want in expected.items():
        if key in ("x", "w") or key.startswith("state") or key.startswith("ws"):
            continue
        assert key in rec, "%s: %s was not computed" % (case["name"], key)
        np.testing.assert_allclose(rec[key], want, rtol=RTOL, atol=ATOL, err_msg="%s: %s" % (case["name"], key))
    assert set(k for k in rec if k.startswith("grad")) == set(k for k in expected if k.startswith("grad"))


@pytest.mark.parametrize("mode", ["imperative", "hybrid"])
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_mxnet(case, mode):
    expected = _fixture(case["name"])
    block = REF.build(mx, case)
    x, states, rs = REF.inputs_of(case, REF.state_shapes(block))
    np.testing.assert_array_equal(x, expected["x"])
    wrapper = None
    if mode == "hybrid":
        if isinstance(block, mx.gluon.HybridBlock) and case["kind"] == "cell":
            model = Unrolled(block, case)
            model.hybridize()
            wrapper = _wrapper_call(model)
        else:
            block.hybridize()       # a layer traced alone, or each step of a Block stack's cells
    rec = REF.run(mx, case, block, x, states, rs, hybrid_wrapper=wrapper)
    _check(case, rec, expected)


def test_layer_matches_its_unfused_cells():
    case = dict(REF.SAVED_LAYER, name="unfuse")
    layer = REF.build(mx, case)
    x = mx.nd.array(np.random.RandomState(3).uniform(-1, 1, size=(3, 2, 3)))
    cells = layer._unfuse()
    out, _ = cells.unroll(3, x, layout="TNC", merge_outputs=True)
    np.testing.assert_allclose(layer(x).asnumpy(), out.asnumpy(), rtol=1e-5, atol=1e-6)


def test_loads_parameters_saved_by_mxnet():
    expected = _fixture("saved_gru")
    layer = mx.gluon.rnn.GRU(REF.H, num_layers=2, bidirectional=True, input_size=REF.C)
    assert sorted(layer._collect_params_with_prefix()) == list(expected["keys"])
    layer.load_parameters(os.path.join(FIXTURES, "saved_gru.params"))
    np.testing.assert_allclose(layer(mx.nd.array(expected["x"])).asnumpy(), expected["out"], rtol=RTOL, atol=ATOL)


def _run_export(tmp_path, model, args):
    want = [o.asnumpy() for o in model(*args)]
    model.export(str(tmp_path / "model"))
    names = ["data%d" % i for i in range(len(args))]
    loaded = mx.gluon.SymbolBlock.imports(str(tmp_path / "model-symbol.json"), names,
                                          str(tmp_path / "model-0000.params"))
    got = loaded(*args)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.asnumpy(), w, rtol=1e-5, atol=1e-6)


def test_export_and_import_a_cell_model(tmp_path):
    case = next(c for c in CASES if c["name"] == "cell_lstm")
    model = Unrolled(REF.build(mx, case), case)
    model.hybridize()
    x = mx.nd.array(_fixture("cell_lstm")["x"])
    states = [mx.nd.array(_fixture("cell_lstm")["state%d" % i]) for i in range(2)]
    _run_export(tmp_path, model, [x] + states)


def test_export_and_import_a_layer(tmp_path):
    case = next(c for c in CASES if c["name"] == "layer_lstm_l2_ntc_states")
    layer = REF.build(mx, case)
    layer.hybridize()
    expected = _fixture(case["name"])
    x = mx.nd.array(expected["x"])
    states = [mx.nd.array(expected["state%d" % i]) for i in range(2)]
    out, new_states = layer(x, states)
    np.testing.assert_allclose(out.asnumpy(), expected["out"], rtol=RTOL, atol=ATOL)
    layer.export(str(tmp_path / "model"))
    loaded = mx.gluon.SymbolBlock.imports(str(tmp_path / "model-symbol.json"), ["data0", "data1", "data2"],
                                          str(tmp_path / "model-0000.params"))
    got = loaded(x, *states)
    np.testing.assert_allclose(got[0].asnumpy(), expected["out"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(got[1].asnumpy(), expected["hn0"], rtol=RTOL, atol=ATOL)


def test_layer_parameter_names_shapes_and_deferred_input_size():
    layer = mx.gluon.rnn.LSTM(5, num_layers=2, bidirectional=True, prefix="lstm_")
    shapes = {n: p.shape for n, p in layer.collect_params().items()}
    assert shapes["lstm_l0_i2h_weight"] == (20, 0) and shapes["lstm_r1_i2h_weight"] == (20, 10)
    assert shapes["lstm_l0_h2h_weight"] == (20, 5) and shapes["lstm_r0_h2h_bias"] == (20,)
    assert len(shapes) == 16
    layer.initialize()
    assert layer(mx.nd.ones((3, 2, 7))).shape == (3, 2, 10)
    assert layer.l0_i2h_weight.shape == (20, 7)
    proj = mx.gluon.rnn.LSTM(5, projection_size=2, prefix="p_")
    assert proj.collect_params()["p_l0_h2r_weight"].shape == (2, 5)
    assert proj.collect_params()["p_l0_h2h_weight"].shape == (20, 2)
    assert [i["shape"] for i in proj.state_info(3)] == [(1, 3, 2), (1, 3, 5)]
    assert repr(mx.gluon.rnn.GRU(4, num_layers=2, input_size=3)) == "GRU(3 -> 4, TNC, num_layers=2)"


def test_cell_deferred_input_size_and_begin_state():
    cell = mx.gluon.rnn.GRUCell(4, prefix="g_")
    cell.initialize()
    states = cell.begin_state(batch_size=2)
    assert [s.shape for s in states] == [(2, 4)]
    out, new = cell(mx.nd.ones((2, 6)), states)
    assert out.shape == (2, 4) and cell.i2h_weight.shape == (12, 6)
    syms = cell.begin_state(func=mx.sym.var)
    assert [s.name for s in syms] == ["g_begin_state_1"]
    out, _ = cell.unroll(3, mx.sym.var("data"), layout="NTC", merge_outputs=True)
    assert out.infer_shape(data=(2, 3, 6))[1] == [(2, 3, 4)]


def test_modifier_cell_guards_its_base_cell():
    base = mx.gluon.rnn.LSTMCell(3)
    mx.gluon.rnn.ZoneoutCell(base, 0.1)
    with pytest.raises(AssertionError, match="modifier"):
        base.begin_state(batch_size=1)
    with pytest.raises(AssertionError, match="already modified"):
        mx.gluon.rnn.ResidualCell(base)
    with pytest.raises(NotImplementedError, match="unroll"):
        mx.gluon.rnn.BidirectionalCell(mx.gluon.rnn.RNNCell(2), mx.gluon.rnn.RNNCell(2))(mx.nd.ones((1, 2)), [])


def test_bad_state_shape_names_the_layer_and_both_shapes():
    layer = mx.gluon.rnn.LSTM(4, num_layers=2, input_size=3, prefix="mylstm_")
    layer.initialize()
    bad = [mx.nd.zeros((2, 2, 5)), mx.nd.zeros((2, 2, 4))]
    with pytest.raises(ValueError, match=r"mylstm.*\(2, 2, 4\).*\(2, 2, 5\)") as err:
        layer(mx.nd.ones((3, 2, 3)), bad)
    assert isinstance(err.value, MXNetError)
    with pytest.raises(MXNetError, match="expected 2 recurrent state"):
        layer(mx.nd.ones((3, 2, 3)), bad[:1])


def test_bad_layout_is_refused_with_the_layer_name():
    with pytest.raises(ValueError, match=r"gru\d*.*'CTN'.*TNC"):
        mx.gluon.rnn.GRU(4, layout="CTN")
    cell = mx.gluon.rnn.RNNCell(2, input_size=3)
    cell.initialize()
    with pytest.raises(ValueError, match="length=4 but the inputs have 3 steps"):
        cell.unroll(4, mx.nd.ones((2, 3, 3)), layout="NTC")


def test_dropout_between_layers_only_in_training():
    layer = mx.gluon.rnn.RNN(50, num_layers=2, dropout=0.5, input_size=3, activation="tanh")
    layer.initialize(mx.init.Constant(0.01))
    x = mx.nd.ones((2, 4, 3))
    a, b = layer(x).asnumpy(), layer(x).asnumpy()
    np.testing.assert_array_equal(a, b)                         # inference: no dropout
    with mx.autograd.record():
        c = layer(x).asnumpy()
    assert not np.allclose(a, c)                               # training: the first layer's outputs are dropped


def _numpy_lstm(x, h, c, wi, wh, bi, bh, clip):
    """One LSTM layer over x (T, N, C) in float64, gates (i, f, g, o), the cell state clipped to `clip`."""
    def sigmoid(v):
        return 1 / (1 + np.exp(-v))
    outs = []
    for x_t in x:
        i, f, g, o = np.split(x_t @ wi.T + bi + h @ wh.T + bh, 4, axis=1)
        c = np.clip(sigmoid(f) * c + sigmoid(i) * np.tanh(g), *clip)
        h = sigmoid(o) * np.tanh(c)
        outs.append(h)
    return np.stack(outs), h, c


def test_lstm_state_clip_against_numpy():
    # MXNet 1.9.1's oneDNN RNN ignores the clip (see the fixtures' README), so numpy is the truth here
    layer = mx.gluon.rnn.LSTM(H := 4, input_size=3, state_clip_min=-0.2, state_clip_max=0.3, prefix="clip_")
    layer.initialize()
    REF.set_parameters(layer, seed=5)
    rs = np.random.RandomState(6)
    x, h0, c0 = rs.uniform(-1, 1, (5, 2, 3)), rs.uniform(-1, 1, (1, 2, H)), rs.uniform(-1, 1, (1, 2, H))
    p = {k[len("clip_l0_"):]: v.data().asnumpy().astype(np.float64) for k, v in layer.collect_params().items()}
    want, h, c = _numpy_lstm(x, h0[0], c0[0], p["i2h_weight"], p["h2h_weight"], p["i2h_bias"], p["h2h_bias"],
                             (-0.2, 0.3))
    assert c.min() < 0 and (c.min() == -0.2 or c.max() == 0.3)     # the clip is active in this case
    out, (hn, cn) = layer(mx.nd.array(x), [mx.nd.array(h0), mx.nd.array(c0)])
    np.testing.assert_allclose(out.asnumpy(), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cn.asnumpy()[0], c, rtol=1e-5, atol=1e-6)


def test_layer_traced_as_a_symbol_infers_states_and_length():
    layer = mx.gluon.rnn.GRU(4, num_layers=2, layout="NTC", input_size=3, prefix="g_")
    out = layer(mx.sym.var("data", shape=(2, 5, 3)))    # zero states of unknown batch, filled in by inference
    assert out.infer_shape()[1] == [(2, 5, 4)]
    traced = layer(mx.sym.var("data"))                  # the fused op needs no length while tracing
    assert traced.infer_shape(data=(3, 7, 3))[1] == [(3, 7, 4)]
    assert [n["op"] for n in json.loads(traced.tojson())["nodes"]].count("RNN") == 1

    class Model(mx.gluon.HybridBlock):            # a traced parent; the layer's input size is inferred from its input
        def __init__(self):
            super().__init__(prefix="m_")
            with self.name_scope():
                self.embed = mx.gluon.nn.Dense(3, flatten=False, in_units=2)
                self.gru = mx.gluon.rnn.GRU(4, layout="NTC")

        def hybrid_forward(self, F, x, states):
            return self.gru(self.embed(x), states)
    model = Model()
    model.initialize()
    x = mx.nd.array(np.random.RandomState(0).uniform(-1, 1, (2, 5, 2)))
    states = model.gru.begin_state(2)
    want_out, want_states = model(x, states)
    model.hybridize()
    got_out, got_states = model(x, states)
    np.testing.assert_allclose(got_out.asnumpy(), want_out.asnumpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_states[0].asnumpy(), want_states[0].asnumpy(), rtol=1e-5, atol=1e-6)


def test_variational_dropout_keeps_one_mask_per_sequence():
    rs = np.random.RandomState(11)
    x = mx.nd.array(rs.uniform(0.5, 1, (4, 6, 3)))            # NTC
    for drop_states in (0.0, 0.3):         # 0: whole-sequence Dropout around the base unroll; else step by step
        base = mx.gluon.rnn.RNNCell(40, activation="relu", input_size=3)
        cell = mx.gluon.contrib.rnn.VariationalDropoutCell(base, drop_outputs=0.5, drop_states=drop_states)
        cell.initialize(mx.init.Constant(0.1))
        with mx.autograd.train_mode():
            out, _ = cell.unroll(6, x, layout="NTC", merge_outputs=True)
        dropped = out.asnumpy() == 0
        assert (dropped == dropped[:, :1, :]).all()             # the same units dropped at every step
        assert 0.3 < dropped.mean() < 0.7


def test_zoneout_keeps_either_the_new_or_the_previous_output():
    rs = np.random.RandomState(12)
    x = mx.nd.array(rs.uniform(-1, 1, (3, 5, 2)))
    base = mx.gluon.rnn.GRUCell(30, input_size=2)
    cell = mx.gluon.rnn.ZoneoutCell(base, zoneout_outputs=0.5)
    cell.initialize()
    begin = [mx.nd.zeros((3, 30))]
    with mx.autograd.train_mode():
        out, _ = cell.unroll(5, x, begin_state=begin, layout="NTC", merge_outputs=True)
    new, _ = base.unroll(5, x, begin_state=begin, layout="NTC", merge_outputs=True)   # states are not zoned out
    out, new = out.asnumpy(), new.asnumpy()
    previous = np.concatenate([np.zeros_like(out[:, :1]), out[:, :-1]], axis=1)
    took_new, kept = np.isclose(out, new), np.isclose(out, previous)
    assert (took_new | kept).all()
    assert 0.2 < (kept & ~took_new).mean() < 0.8


def test_hybridized_layer_switches_between_with_and_without_states():
    layer = mx.gluon.rnn.LSTM(4, input_size=3)
    layer.initialize()
    x = mx.nd.array(np.random.RandomState(2).uniform(-1, 1, (3, 2, 3)))
    want = layer(x).asnumpy()
    layer.hybridize()
    out = layer(x)
    with_states = layer(x, layer.begin_state(2))
    again = layer(x)
    assert isinstance(out, mx.nd.NDArray) and isinstance(again, mx.nd.NDArray)
    assert len(with_states) == 2 and len(with_states[1]) == 2
    for got in (out, with_states[0], again):
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-6, atol=1e-7)


def test_reprs_follow_mxnet():
    assert repr(mx.gluon.rnn.RNNCell(4, input_size=3)) == "RNNCell(3 -> 4, tanh)"
    assert repr(mx.gluon.rnn.LSTMCell(4)) == "LSTMCell(None -> 16)"
    assert repr(mx.gluon.rnn.GRUCell(4, input_size=2)) == "GRUCell(2 -> 12)"
    assert repr(mx.gluon.contrib.rnn.LSTMPCell(4, 2, input_size=3)) == "LSTMPCell(3 -> 16 -> 2)"
    assert repr(mx.gluon.rnn.LSTM(4, bidirectional=True, dropout=0.5)) == "LSTM(None -> 4, TNC, dropout=0.5, " \
                                                                           "bidirectional)"
    assert repr(mx.gluon.rnn.DropoutCell(0.5)) == "DropoutCell(rate=0.5, axes=())"


@pytest.mark.skipif(importlib.util.find_spec("gluonnlp") is None,
                    reason="gluonnlp is not installed (tests/install_mxnet_libs.sh)")
def test_gluonnlp_lstm_language_models_build_and_train():
    mx.install_as_mxnet()
    nlp = importlib.import_module("gluonnlp")
    vocab = nlp.Vocab(nlp.data.count_tokens(list("abcdefgh") * 2))
    x = mx.nd.array(np.random.RandomState(9).randint(0, len(vocab), size=(5, 2)))
    models = [nlp.model.get_model("standard_lstm_lm_200", vocab=vocab, pretrained=False)[0],
              nlp.model.get_model("awd_lstm_lm_600", vocab=vocab, pretrained=False)[0],
              nlp.model.train.AWDRNN("lstm", len(vocab), embed_size=8, hidden_size=16, num_layers=2,
                                     tie_weights=False, dropout=0.1, weight_drop=0.2, drop_h=0.1, drop_i=0.1,
                                     drop_e=0.1),
              nlp.model.BigRNN(len(vocab), embed_size=8, hidden_size=16, num_layers=2, projection_size=6,
                               embed_dropout=0.1, encode_dropout=0.1)]
    for model in models:
        model.initialize()
        with mx.autograd.record():
            out = model(x, model.begin_state(batch_size=2, func=mx.nd.zeros))[0]
        out.backward()
        assert out.shape == (5, 2, len(vocab)) and np.isfinite(out.asnumpy()).all()
        grads = [p.grad().asnumpy() for name, p in model.collect_params().items()
                 if "h2h_weight" in name and p.grad_req != "null"]
        assert grads and all(np.abs(g).sum() > 0 for g in grads), type(model).__name__


# ---- the fused RNN op in the layers: MXNet's exported graph, sequence lengths ------------------------------------

RNN_OP = os.path.join(paths.FIXTURES, "rnn_op")


def test_mxnet_exported_layer_imports_and_our_export_writes_mxnets_graph(tmp_path):
    """MXNet's export of a hybridized LSTM (the fused RNN op over `_rnn_param_concat`, its zero states as inputs
    data1, data2) runs here with MXNet's output; exporting the same layer writes the same graph."""
    expected = np.load(os.path.join(RNN_OP, "gluon_lstm.npz"))
    x = mx.nd.array(expected["x"])
    zeros = mx.nd.zeros((4, 2, 4))
    loaded = mx.gluon.SymbolBlock.imports(os.path.join(RNN_OP, "gluon_lstm-symbol.json"), ["data0", "data1", "data2"],
                                          os.path.join(RNN_OP, "gluon_lstm-0000.params"))
    np.testing.assert_allclose(loaded(x, zeros, zeros).asnumpy(), expected["out"], rtol=RTOL, atol=ATOL)
    layer = mx.gluon.rnn.LSTM(4, num_layers=2, layout="NTC", bidirectional=True, input_size=3, prefix="lstm_")
    layer.initialize()
    layer.hybridize()
    params = mx.nd.load(os.path.join(RNN_OP, "gluon_lstm-0000.params"))
    for name, param in layer.collect_params().items():
        param.set_data(params["arg:" + name])
    np.testing.assert_allclose(layer(x).asnumpy(), expected["out"], rtol=RTOL, atol=ATOL)
    layer.export(str(tmp_path / "ours"))
    with open(tmp_path / "ours-symbol.json") as ours, open(os.path.join(RNN_OP, "gluon_lstm-symbol.json")) as theirs:
        assert ours.read() == theirs.read()     # byte for byte: node_row_ptr does not count RNN's hidden reserve


@pytest.mark.parametrize("hybrid", [False, True])
def test_layer_with_sequence_length_equals_each_row_alone(hybrid):
    layer = mx.gluon.rnn.LSTM(3, num_layers=2, bidirectional=True, layout="NTC", input_size=2,
                              use_sequence_length=True, prefix="seq_")
    layer.initialize(mx.init.Uniform(0.5))
    plain = mx.gluon.rnn.LSTM(3, num_layers=2, bidirectional=True, layout="NTC", input_size=2, prefix="seq_",
                              params=layer.collect_params())
    if hybrid:
        layer.hybridize()
    x = mx.nd.array(np.random.RandomState(2).uniform(-1, 1, (3, 5, 2)))
    lengths = [5, 2, 4]
    x.attach_grad()
    with mx.autograd.record():
        out, (h, c) = layer(x, layer.begin_state(3), mx.nd.array(lengths))
    out.backward()
    for b, n in enumerate(lengths):
        row = x[b:b + 1, :n].copy()
        row.attach_grad()
        with mx.autograd.record():
            want, (wh, wc) = plain(row, plain.begin_state(1))
        want.backward()
        np.testing.assert_allclose(out[b, :n].asnumpy(), want[0].asnumpy(), rtol=1e-5, atol=1e-6)
        assert not out[b, n:].asnumpy().any()
        np.testing.assert_allclose(h[:, b].asnumpy(), wh[:, 0].asnumpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(c[:, b].asnumpy(), wc[:, 0].asnumpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(x.grad[b, :n].asnumpy(), row.grad[0].asnumpy(), rtol=1e-5, atol=1e-6)
        assert not x.grad[b, n:].asnumpy().any()


def test_bidirectional_layer_in_a_traced_parent_infers_its_input_size():
    class Model(mx.gluon.HybridBlock):
        def __init__(self):
            super().__init__(prefix="m_")
            with self.name_scope():
                self.embed = mx.gluon.nn.Dense(3, flatten=False)
                self.lstm = mx.gluon.rnn.LSTM(4, layout="NTC", num_layers=2, bidirectional=True)

        def hybrid_forward(self, F, x):
            return self.lstm(self.embed(x))
    model = Model()
    model.initialize()
    model.hybridize()
    assert model(mx.nd.ones((2, 5, 2))).shape == (2, 5, 8)
    assert model.lstm.l0_i2h_weight.shape == model.lstm.r0_i2h_weight.shape == (16, 3)
