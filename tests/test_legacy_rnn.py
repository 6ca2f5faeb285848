"""`mx.rnn`, the legacy symbolic cells, against MXNet 1.9.1 (fixtures of reference/legacy_rnn_fixtures.py, whose
`build(mx, case)` both sides run): the unrolled graph's JSON, outputs and gradients for the weights MXNet used,
weight packing, checkpoints, `encode_sentences` and `BucketSentenceIter`."""
import json
import os
import random

import numpy as np
import pytest

import dataflow as mx
from tests.paths import FIXTURES, load_reference

REF = load_reference("legacy_rnn_fixtures")
HERE = os.path.join(FIXTURES, "legacy_rnn")
with open(os.path.join(HERE, "cases.json")) as _fh:
    MX = json.load(_fh)

needs_rnn_op = pytest.mark.skipif(not hasattr(mx.sym, "RNN"), reason="the fused RNN op (ops/rnn.py) is not here yet")


def _cases(fused_mark=needs_rnn_op):
    return [pytest.param(name, marks=fused_mark) if name in REF.FUSED else name for name in REF.CASES]


def _build(name):
    with pytest.warns(UserWarning, match="NTC layout") if name == "fused_gru_ntc" else _no_warning():
        return REF.build(mx, name)


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("name", _cases())
def test_unrolled_graph_is_mxnets_json(name):
    _, group, _ = _build(name)
    ours = json.loads(group.tojson())
    # compared as JSON text of the parsed graphs, so node order and attribute order count too
    assert json.dumps(ours) == json.dumps(MX[name]["graph"])
    assert group.list_arguments() == MX[name]["arguments"]
    assert group.list_outputs() == MX[name]["outputs"]


@pytest.mark.parametrize("name", _cases())
def test_outputs_and_gradients_equal_mxnet(name):
    _, group, _ = _build(name)
    ref = np.load(os.path.join(HERE, name + ".npz"))
    args = {k[4:]: mx.nd.array(ref[k]) for k in ref.files if k.startswith("arg:")}
    grads = {k: mx.nd.zeros(v.shape) for k, v in args.items()}
    exe = group.bind(mx.cpu(), args, args_grad=grads)
    random_in_training = REF.CASES[name][4]
    outs = exe.forward(is_train=not random_in_training)
    for i, out in enumerate(outs):
        np.testing.assert_allclose(out.asnumpy(), ref["out%d" % i], rtol=1e-4, atol=1e-5)
    if random_in_training:
        return
    exe.backward([mx.nd.array(ref["head%d" % i]) for i in range(len(outs))])
    for key, grad in exe.grad_dict.items():
        np.testing.assert_allclose(grad.asnumpy(), ref["grad:" + key], rtol=1e-4, atol=1e-5, err_msg=key)


@pytest.mark.parametrize("name", ["zoneout_lstm", "dropout_stack", "unfused_rnn_relu_dropout"])
def test_random_cells_train_with_dropout(name):
    """In training the dropout masks act: outputs differ from inference, and some dropped units are zero."""
    _, group, _ = _build(name)
    ref = np.load(os.path.join(HERE, name + ".npz"))
    args = {k[4:]: mx.nd.array(ref[k]) for k in ref.files if k.startswith("arg:")}
    exe = group.bind(mx.cpu(), args)
    mx.random.seed(1)
    trained = exe.forward(is_train=True)[0].asnumpy()
    assert trained.shape == ref["out0"].shape
    assert not np.allclose(trained, ref["out0"])


def _unpacked_reference(name):
    ref = np.load(os.path.join(HERE, name + ".npz"))
    return ref, {k[len("unpacked:"):]: ref[k] for k in ref.files if k.startswith("unpacked:")}


@pytest.mark.parametrize("name,kind", [("lstm_merged", "lstm"), ("fused_lstm_2l_bi", "fused_lstm")])
def test_unpack_and_pack_weights_equal_mxnet(name, kind):
    ref, unpacked = _unpacked_reference(name)
    cell = REF.make_cell(mx, kind)
    params = {k[4:]: mx.nd.array(ref[k]) for k in ref.files if k.startswith("arg:") and k[4:] in cell.params._params}
    ours = cell.unpack_weights(params)
    expected = {k: v for k, v in unpacked.items() if k not in ("data",) and "begin_state" not in k}
    assert sorted(ours) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(ours[key].asnumpy(), value, err_msg=key)
    packed = cell.pack_weights(ours)
    assert sorted(packed) == sorted(params)
    for key, value in params.items():
        np.testing.assert_array_equal(packed[key].asnumpy(), value.asnumpy())


def test_fused_pack_refuses_a_wrong_gate_shape():
    cell = mx.rnn.FusedRNNCell(4, num_layers=1, mode="gru", prefix="g_")
    args = cell.unpack_weights({"g_parameters": mx.nd.arange(3 * 4 * (3 + 4 + 2))})
    args["g_l0_h2h_z_weight"] = mx.nd.zeros((4, 5))
    with pytest.raises(ValueError, match=r"g_l0_h2h_z_weight has shape \(4, 5\), expected \(4, 4\)"):
        cell.pack_weights(args)
    with pytest.raises(ValueError, match="do not fit"):
        cell.unpack_weights({"g_parameters": mx.nd.zeros((50,))})


@needs_rnn_op
def test_fused_cell_equals_its_unfused_stack():
    """The fused LSTM and `unfuse()` give the same outputs for the same (unpacked) weights."""
    ref, unpacked = _unpacked_reference("fused_lstm_2l_bi")
    fused, fused_group, _ = REF.build(mx, "fused_lstm_2l_bi")
    args = {k[4:]: mx.nd.array(ref[k]) for k in ref.files if k.startswith("arg:")}
    expected = [o.asnumpy() for o in fused_group.bind(mx.cpu(), args).forward()]
    stack, group, _ = REF.build(mx, "unfused_lstm_2l_bi")
    unfused_args = stack.pack_weights({k: mx.nd.array(v) for k, v in unpacked.items() if k != "flstm_parameters"})
    for layer in range(2):          # the fused states are (layer * direction, N, H); the stack's are per cell
        for d, direction in enumerate("lr"):
            for i in range(2):
                fused_state = ref["arg:flstm_begin_state_%d" % i][layer * 2 + d]
                unfused_args["flstm_%s%d_begin_state_%d" % (direction, layer, i)] = mx.nd.array(fused_state)
    exe = group.bind(mx.cpu(), {n: unfused_args[n] for n in group.list_arguments()})
    np.testing.assert_allclose(exe.forward()[0].asnumpy(), expected[0], rtol=1e-4, atol=1e-5)


def test_rnn_checkpoint_saves_unpacked_and_loads_packed(tmp_path):
    cell = mx.rnn.LSTMCell(3, prefix="ck_")
    out, _ = cell.unroll(2, mx.sym.Variable("data"), merge_outputs=True)
    rng = np.random.RandomState(0)
    args = {"ck_i2h_weight": rng.rand(12, 2), "ck_i2h_bias": rng.rand(12), "ck_h2h_weight": rng.rand(12, 3),
            "ck_h2h_bias": rng.rand(12)}
    args = {k: mx.nd.array(v) for k, v in args.items()}
    prefix = str(tmp_path / "lm")
    callback = mx.rnn.do_rnn_checkpoint(cell, prefix, period=2)
    callback(0, out, args, {})
    assert not os.path.exists(prefix + "-0001.params")
    callback(1, out, args, {})
    saved = mx.nd.load(prefix + "-0002.params")
    assert sorted(saved) == sorted("arg:ck_%s%s_%s" % (g, gate, k) for g in ("i2h", "h2h")
                                   for gate in ("_i", "_f", "_c", "_o") for k in ("weight", "bias"))
    np.testing.assert_array_equal(saved["arg:ck_h2h_f_weight"].asnumpy(), args["ck_h2h_weight"].asnumpy()[3:6])
    sym, arg, aux = mx.rnn.load_rnn_checkpoint([cell], prefix, 2)
    assert sym.tojson() == out.tojson() and aux == {}
    for key, value in args.items():
        np.testing.assert_array_equal(arg[key].asnumpy(), value.asnumpy())


def test_state_info_and_begin_state():
    cell = mx.rnn.FusedRNNCell(5, num_layers=2, bidirectional=True, prefix="f_")
    assert cell.state_shape == [(4, 0, 5), (4, 0, 5)]
    states = cell.begin_state()
    assert [s.name for s in states] == ["f_begin_state_0", "f_begin_state_1"]
    assert states[0].attr("__layout__") == "LNC"
    stack = mx.rnn.SequentialRNNCell()
    stack.add(mx.rnn.GRUCell(2, prefix="a_"))
    stack.add(mx.rnn.LSTMCell(3, prefix="b_"))
    assert stack.state_shape == [(0, 2), (0, 3), (0, 3)]
    assert sorted(stack.params._params) == sorted("%s%s_%s" % (p, g, k) for p in ("a_", "b_")
                                                  for g in ("i2h", "h2h") for k in ("weight", "bias"))


def test_shared_params_share_variables():
    params = mx.rnn.RNNParams("shared_")
    a = mx.rnn.LSTMCell(3, prefix="a_", params=params)
    b = mx.rnn.LSTMCell(3, prefix="b_", params=params)
    x = mx.sym.Variable("x")
    out_a, _ = a.unroll(2, x, merge_outputs=True)
    out_b, _ = b.unroll(2, out_a, merge_outputs=True)
    assert [n for n in out_b.list_arguments() if "weight" in n] == ["shared_i2h_weight", "shared_h2h_weight"]


def test_misuse_raises_clear_errors():
    base = mx.rnn.LSTMCell(3, prefix="z_")
    zoneout = mx.rnn.ZoneoutCell(base, zoneout_states=0.5)
    with pytest.raises(RuntimeError, match="modifier cell"):
        base.begin_state()
    assert len(zoneout.begin_state()) == 2
    with pytest.raises(TypeError, match="unfuse"):
        mx.rnn.ZoneoutCell(mx.rnn.FusedRNNCell(3))
    with pytest.raises(NotImplementedError, match="unroll"):
        mx.rnn.FusedRNNCell(3)(mx.sym.Variable("x"), [])
    with pytest.raises(NotImplementedError, match="unroll"):
        mx.rnn.BidirectionalCell(mx.rnn.GRUCell(2), mx.rnn.GRUCell(2, prefix="r_"))(mx.sym.Variable("x"), [])
    with pytest.raises(ValueError, match="3 inputs given for length 2"):
        mx.rnn.GRUCell(2).unroll(2, [mx.sym.Variable("x%d" % i) for i in range(3)])
    with pytest.raises(ValueError, match="time axis"):
        mx.rnn.GRUCell(2).unroll(2, mx.sym.Variable("x"), layout="NC")
    with pytest.raises(ValueError, match="unknown mode 'lstmp'"):
        mx.rnn.FusedRNNCell(3, mode="lstmp")
    with pytest.raises(TypeError, match="dropout probability must be a number"):
        mx.rnn.DropoutCell("0.5")
    with pytest.raises(ValueError, match="Only support odd number"):
        mx.rnn.ConvLSTMCell((1, 2, 4, 4), 3, h2h_kernel=(2, 3))


def test_encode_sentences_equals_mxnet():
    for name, (encoded, vocab) in REF.encode_cases(mx).items():
        assert [encoded, vocab] == MX["encode"][name], name
    with pytest.raises(KeyError, match="Unknown token dog"):
        mx.rnn.encode_sentences([["the", "dog"]], vocab={"the": 0})


@pytest.mark.parametrize("case,layout,buckets", [("iter_nt", "NT", None), ("iter_tn_buckets", "TN", [4, 6, 8])])
def test_bucket_sentence_iter_equals_mxnet(case, layout, buckets, capsys):
    state = random.getstate(), np.random.get_state()
    try:
        ours = REF.iterate_sentences(mx, layout, buckets)
    finally:
        random.setstate(state[0])
        np.random.set_state(state[1])
    assert ours == MX[case]
    assert "WARNING: discarded" in capsys.readouterr().out


def test_bucket_sentence_iter_rejects_a_bad_layout():
    with pytest.raises(ValueError, match="Invalid layout NTC"):
        mx.rnn.BucketSentenceIter([[1, 2, 3]] * 4, 2, layout="NTC")


@needs_rnn_op
def test_fused_cell_in_a_module_initialises_and_trains():
    """Module.init_params reaches the fused vector's FusedRNN initializer (MXNet sets both forget-gate biases, i2h
    and h2h, to forget_bias; the other biases get the global initializer's zeros), and a fused LSTM regression
    learns."""
    cell = mx.rnn.FusedRNNCell(6, num_layers=1, mode="lstm", prefix="lm_")
    outputs, _ = cell.unroll(4, mx.sym.Variable("data"), layout="TNC", merge_outputs=True)
    pred = mx.sym.FullyConnected(mx.sym.Reshape(outputs, shape=(-1, 6)), num_hidden=1, name="pred")
    net = mx.sym.LinearRegressionOutput(pred, mx.sym.Reshape(mx.sym.Variable("label"), shape=(-1, 1)), name="out")
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, (4, 16, 2)).astype(np.float32)
    y = np.cumsum(x[:, :, 0], axis=0).transpose(1, 0).reshape(16, 4)       # running sum of the first feature
    it = mx.io.NDArrayIter(x.transpose(1, 0, 2), y, batch_size=8, label_name="label")
    mod = mx.mod.Module(net, data_names=["data"], label_names=["label"])
    mod.bind([mx.io.DataDesc("data", (4, 8, 2), layout="TNC")], [mx.io.DataDesc("label", (4, 8), layout="TN")])
    mod.init_params(mx.init.Xavier())
    unpacked = cell.unpack_weights(mod.get_params()[0])
    np.testing.assert_array_equal(unpacked["lm_l0_i2h_f_bias"].asnumpy(), np.ones(6))
    np.testing.assert_array_equal(unpacked["lm_l0_h2h_f_bias"].asnumpy(), np.ones(6))
    np.testing.assert_array_equal(unpacked["lm_l0_h2h_i_bias"].asnumpy(), np.zeros(6))

    class TimeMajor(mx.io.DataIter):       # NDArrayIter batches on axis 0; the fused cell wants (T, N, C)
        def __init__(self):
            super().__init__(8)
            self.provide_data = [mx.io.DataDesc("data", (4, 8, 2), layout="TNC")]
            self.provide_label = [mx.io.DataDesc("label", (4, 8), layout="TN")]

        def reset(self):
            it.reset()

        def next(self):
            batch = it.next()
            return mx.io.DataBatch([batch.data[0].transpose((1, 0, 2))], [batch.label[0].T], pad=0)

    def mse():
        return mx.metric.CustomMetric(lambda label, pred: float(((label.reshape(-1) - pred.reshape(-1)) ** 2).mean()),
                                      name="mse")
    first = mod.score(TimeMajor(), mse())[0][1]
    it.reset()
    mod.fit(TimeMajor(), num_epoch=60, eval_metric=mse(), optimizer="adam",
            optimizer_params=(("learning_rate", 0.02),))
    last = mod.score(TimeMajor(), mse())[0][1]
    assert last < 0.1 < first, (first, last)
