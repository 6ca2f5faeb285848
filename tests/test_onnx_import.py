"""`mx.onnx.import_model` (alias `mx.contrib.onnx.import_model`), `get_model_metadata`, `import_to_gluon`:
every export case round-trips (export -> import -> dataflow equals the original forward); models built with
`onnx.helper` import and equal onnxruntime's outputs; bad files and unknown ops give clear errors."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import dataflow as mx  # noqa: E402
from ops.errors import MXNetError  # noqa: E402
from tests.onnx_check import forward, random_params, run_onnx  # noqa: E402
from tests.test_onnx_export import CASES, _small_cnn  # noqa: E402

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

# ops whose round trip cannot give the same values or types
NOT_ROUND_TRIP = {
    "shape_array": "int64 output: the imported shape_array is the same op, compared in the export test",
}


def run_imported(path, data):
    sym, arg_params, aux_params = mx.onnx.import_model(path)
    args = dict(arg_params)
    args.update({k: mx.nd.array(v, dtype=v.dtype) for k, v in data.items()})
    missing = set(sym.list_arguments()) - set(args)
    assert not missing, missing
    exe = sym.bind(mx.cpu(), {k: args[k] for k in sym.list_arguments()}, aux_states=aux_params, grad_req="null")
    return [o.asnumpy() for o in exe.forward(is_train=False)]


@pytest.mark.parametrize("case", [c for c in CASES if c[0] not in NOT_ROUND_TRIP], ids=lambda c: c[0])
def test_export_import_round_trip(case, tmp_path):
    _, sym, data = case
    params = random_params(sym, data, np.random.RandomState(0),
                           label=sym.get_internals()[len(sym.get_internals()) - 1].name + "_label")
    path = str(tmp_path / "m.onnx")
    order = [n for n in sym.list_inputs() if n in data]
    mx.onnx.export_model(sym, params, [data[n].shape for n in order], [data[n].dtype for n in order],
                         onnx_file_path=path)
    want = forward(sym, data, params)
    got = run_imported(path, data)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=1e-4, atol=1e-5)


def test_round_trip_of_a_model_zoo_net(tmp_path):
    from dataflow.gluon.model_zoo import vision
    net = vision.get_model("resnet18_v1")
    net.initialize(mx.init.Xavier())
    x = np.random.RandomState(3).uniform(-1, 1, (1, 3, 32, 32)).astype(np.float32)
    want = net(mx.nd.array(x)).asnumpy()
    params = {k: v.data() for k, v in net.collect_params().items()}
    path = mx.onnx.export_model(net(mx.sym.var("data")), params, [x.shape], onnx_file_path=str(tmp_path / "r.onnx"))
    np.testing.assert_allclose(run_imported(path, {"data": x})[0], want, rtol=1e-4, atol=1e-5)
    block = mx.onnx.import_to_gluon(path, mx.cpu())
    np.testing.assert_allclose(block(mx.nd.array(x)).asnumpy(), want, rtol=1e-4, atol=1e-5)


def _save(tmp_path, nodes, inputs, outputs, initializers=(), opset=13, name="h.onnx"):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = str(tmp_path / name)
    onnx.save(model, path)
    return path


def _init(name, value):
    return numpy_helper.from_array(np.asarray(value), name)


def test_a_model_built_with_onnx_helper(tmp_path):
    """Ops and attribute forms another exporter writes, checked against onnxruntime on the same file."""
    rs = np.random.RandomState(5)
    f32 = lambda *s: rs.normal(0, 0.5, s).astype(np.float32)  # noqa: E731
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("BatchNormalization", ["c1", "g", "beta", "mean", "var"], ["bn"], epsilon=1e-5),
        helper.make_node("LeakyRelu", ["bn"], ["r1"], alpha=0.2),
        helper.make_node("AveragePool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Constant", [], ["half"], value=numpy_helper.from_array(np.array(0.5, np.float32))),
        helper.make_node("Mul", ["p1", "half"], ["m1"]),
        helper.make_node("Slice", ["m1", "starts", "ends", "axes", "steps"], ["s1"]),
        helper.make_node("ReduceMean", ["s1"], ["rm"], axes=[2], keepdims=1),
        helper.make_node("Sub", ["s1", "rm"], ["d1"]),
        helper.make_node("Shape", ["d1"], ["shp"]),
        helper.make_node("ConstantOfShape", ["shp"], ["ones"],
                         value=numpy_helper.from_array(np.array([1.0], np.float32))),
        helper.make_node("Add", ["d1", "ones"], ["a1"]),
        helper.make_node("Flatten", ["a1"], ["f1"], axis=1),
        helper.make_node("MatMul", ["f1", "wm"], ["mm"]),
        helper.make_node("Add", ["mm", "bm"], ["fc"]),
        helper.make_node("Unsqueeze", ["fc", "ax1"], ["u1"]),
        helper.make_node("Concat", ["u1", "u1"], ["cc"], axis=1),
        helper.make_node("Transpose", ["cc"], ["tt"], perm=[0, 2, 1]),
        helper.make_node("Reshape", ["tt", "shape2"], ["sq"]),
        helper.make_node("Softmax", ["sq"], ["y"], axis=-1),
        helper.make_node("Gather", ["emb", "idx"], ["gathered"], axis=0),
        helper.make_node("ReduceSum", ["gathered", "ax1"], ["y2"], keepdims=0),
    ]
    inits = [_init("w1", f32(4, 2, 3, 3)), _init("b1", f32(4)), _init("g", f32(4) + 1), _init("beta", f32(4)),
             _init("mean", f32(4)), _init("var", np.abs(f32(4)) + 0.5),
             _init("starts", np.array([0, 1], np.int64)), _init("ends", np.array([INT64, -1], np.int64)),
             _init("axes", np.array([-1, 2], np.int64)), _init("steps", np.array([1, 1], np.int64)),
             _init("wm", f32(4 * 2 * 4, 5)), _init("bm", f32(5)), _init("ax1", np.array([1], np.int64)),
             _init("shape2", np.array([0, -1], np.int64)), _init("emb", f32(6, 3)),
             _init("idx", np.array([[0, 5], [-1, 2]], np.int64))]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2, 8, 8])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 10]),
                  helper.make_tensor_value_info("y2", TensorProto.FLOAT, [2, 3])], inits)
    x = f32(2, 2, 8, 8)
    want = run_onnx(path, {"x": x})
    got = run_imported(path, {"x": x})
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
    _, arg_params, aux_params = mx.onnx.import_model(path)
    assert set(aux_params) == {"mean", "var"}
    assert "starts" not in arg_params and "w1" in arg_params     # constants read as attributes are no params


INT64 = np.iinfo(np.int64).max


def test_softmax_before_opset_13_flattens(tmp_path):
    nodes = [helper.make_node("Softmax", ["x"], ["y"], axis=1)]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, 4])], opset=11)
    x = np.random.RandomState(0).normal(size=(2, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(run_imported(path, {"x": x})[0], run_onnx(path, {"x": x})[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1])
def test_flatten_at_any_axis(axis, tmp_path):
    nodes = [helper.make_node("Flatten", ["x"], ["y"], axis=axis)]
    rows = int(np.prod((2, 3, 4, 5)[:axis % 4]))
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4, 5])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, 120 // rows])])
    x = np.random.RandomState(0).normal(size=(2, 3, 4, 5)).astype(np.float32)
    np.testing.assert_array_equal(run_imported(path, {"x": x})[0], run_onnx(path, {"x": x})[0])


def test_metadata(tmp_path):
    data = {"data": np.zeros((2, 3, 8, 8), np.float32)}
    sym = _small_cnn()
    params = random_params(sym, data, np.random.RandomState(0), label="softmax_label")
    path = mx.onnx.export_model(sym, params, [(2, 3, 8, 8)], onnx_file_path=str(tmp_path / "m.onnx"))
    meta = mx.onnx.get_model_metadata(path)
    assert meta == {"input_tensor_data": [("data", (2, 3, 8, 8), TensorProto.FLOAT)],
                    "output_tensor_data": [("softmax", (2, 10))]}
    dynamic = mx.onnx.export_model(sym, params, [(2, 3, 8, 8)], onnx_file_path=str(tmp_path / "d.onnx"),
                                   dynamic=True, dynamic_input_shapes=[(None, 3, 8, 8)])
    assert mx.onnx.get_model_metadata(dynamic)["input_tensor_data"] == [("data", (0, 3, 8, 8), TensorProto.FLOAT)]


def test_contrib_alias(tmp_path, capsys):
    import dataflow.contrib.onnx as contrib_onnx
    assert mx.contrib.onnx is contrib_onnx
    path = _save(tmp_path, [helper.make_node("Relu", ["x"], ["y"])],
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])])
    sym, arg_params, aux_params = mx.contrib.onnx.import_model(path)
    assert sym.list_arguments() == ["x"] and arg_params == {} and aux_params == {}
    assert mx.contrib.onnx.get_model_metadata(path)["output_tensor_data"] == [("y", (3,))]


def test_corrupt_file(tmp_path):
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"\x08\x07garbage that is not a protobuf \xff\xff\xff")
    with pytest.raises(MXNetError, match="cannot read .*bad.onnx"):
        mx.onnx.import_model(str(path))
    with pytest.raises(MXNetError, match="cannot read"):
        mx.onnx.get_model_metadata(str(path))


def test_unknown_op_names_op_and_node(tmp_path):
    node = helper.make_node("Hardmax", ["x"], ["y"], name="hm")
    path = _save(tmp_path, [node], [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    with pytest.raises(MXNetError, match=r"Hardmax \(node 'hm'\)"):
        mx.onnx.import_model(path)


def test_unsupported_form_names_op_and_node(tmp_path):
    nodes = [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], pads=[0, 0, 1, 1], name="mp")]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 2, 2])])
    with pytest.raises(MXNetError, match=r"MaxPool \(node 'mp'\) with asymmetric pads"):
        mx.onnx.import_model(path)
