"""The fused RNN op and ONNX's LSTM/GRU/RNN: Gluon's recurrent layers and `mx.sym.RNN` export (onnxruntime equals
dataflow, with a dynamic batch), ONNX recurrent nodes built with `onnx.helper` import (dataflow equals
onnxruntime), and exports round-trip."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import dataflow as mx  # noqa: E402
from ops.errors import MXNetError  # noqa: E402
from tests.onnx_check import assert_exports_equal, run_onnx  # noqa: E402
from tests.test_onnx_import import _save, run_imported  # noqa: E402

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

rs = np.random.RandomState(11)


def _u(*shape):
    return rs.uniform(-1, 1, shape).astype(np.float32)


@pytest.mark.parametrize("layer", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_gluon_layers_export_with_a_dynamic_batch(layer, bidirectional, tmp_path):
    net = getattr(mx.gluon.rnn, layer)(8, num_layers=2, bidirectional=bidirectional, input_size=5)
    net.initialize()
    sym = net(mx.sym.var("data"))
    path = assert_exports_equal(sym, {"data": _u(4, 3, 5)}, tmp_path, dynamic=True, more=[{"data": _u(4, 6, 5)}])
    ops = {n.op_type for n in onnx.load(path).graph.node}
    assert layer in ops and "Concat" not in ops     # the packing Concat is folded into per-layer W, R, B
    feed = {"data": _u(4, 3, 5)}
    np.testing.assert_allclose(run_imported(path, feed)[0], run_onnx(path, feed)[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode,bidirectional", [("lstm", False), ("gru", True), ("rnn_relu", True),
                                                ("rnn_tanh", False)])
def test_symbolic_rnn_with_states_exports_and_round_trips(mode, bidirectional, tmp_path):
    d = 2 if bidirectional else 1
    names = ["x", "p", "h"] + (["c"] if mode == "lstm" else [])
    sym = mx.sym.RNN(*[mx.sym.var(n) for n in names], state_size=6, num_layers=2, mode=mode,
                     bidirectional=bidirectional, state_outputs=True, name="rnn")
    feed = {"x": _u(3, 2, 4), "h": _u(2 * d, 2, 6)}
    if mode == "lstm":
        feed["c"] = _u(2 * d, 2, 6)
    path = assert_exports_equal(sym, feed, tmp_path)
    want = run_onnx(path, feed)
    got = run_imported(path, feed)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("op_type,gates,extra", [("LSTM", 4, {}), ("GRU", 3, {"linear_before_reset": 1}),
                                                 ("RNN", 1, {"activations": ["Relu", "Relu"]})])
def test_onnx_recurrent_nodes_import(op_type, gates, extra, tmp_path):
    """Nodes as another exporter writes them: no initial state (zeros), a bidirectional layer."""
    hidden, features = 5, 3
    inits = [numpy_helper.from_array(_u(2, gates * hidden, features), "W"),
             numpy_helper.from_array(_u(2, gates * hidden, hidden), "R"),
             numpy_helper.from_array(_u(2, 2 * gates * hidden), "B")]
    outs = ["Y", "Y_h"] + (["Y_c"] if op_type == "LSTM" else [])
    node = helper.make_node(op_type, ["x", "W", "R", "B"], outs, hidden_size=hidden, direction="bidirectional",
                            **extra)
    path = _save(tmp_path, [node], [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 2, features])],
                 [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [4, 2, 2, hidden]),
                  helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, [2, 2, hidden])], inits)
    x = _u(4, 2, features)
    for g, w in zip(run_imported(path, {"x": x}), run_onnx(path, {"x": x})):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


def test_gru_without_linear_before_reset_is_refused(tmp_path):
    inits = [numpy_helper.from_array(_u(1, 6, 3), "W"), numpy_helper.from_array(_u(1, 6, 2), "R")]
    node = helper.make_node("GRU", ["x", "W", "R"], ["Y"], hidden_size=2, name="g")
    path = _save(tmp_path, [node], [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 1, 3])],
                 [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2, 1, 1, 2])], inits)
    with pytest.raises(MXNetError, match=r"GRU \(node 'g'\) with linear_before_reset=0"):
        mx.onnx.import_model(path)


def test_rnn_with_a_projection_is_refused(tmp_path):
    sym = mx.sym.RNN(mx.sym.var("x"), mx.sym.var("p"), mx.sym.var("h"), mx.sym.var("c"), state_size=6,
                     projection_size=3, num_layers=1, mode="lstm", name="lstmp")
    from tests.onnx_check import random_params
    data = {"x": _u(3, 2, 4), "h": _u(1, 2, 3), "c": _u(1, 2, 6)}
    with pytest.raises(MXNetError, match=r"RNN \(node 'lstmp'\) with projection_size"):
        mx.onnx.export_model(sym, random_params(sym, data, rs), [(3, 2, 4), (1, 2, 3), (1, 2, 6)],
                             onnx_file_path=str(tmp_path / "m.onnx"))
