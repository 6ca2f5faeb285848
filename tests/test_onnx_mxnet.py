"""ONNX files from MXNet 1.9.1 itself (tests/fixtures/mxnet-1.9.1/onnx/README.md): `import_model` of the file
MXNet's exporter wrote equals MXNet's output, and `export_model` of MXNet's saved checkpoint (file paths) runs in
onnxruntime equal to MXNet's output."""
import json
import os

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import dataflow as mx  # noqa: E402
from tests.onnx_check import run_onnx  # noqa: E402
from tests.paths import FIXTURES  # noqa: E402
from tests.test_onnx_import import run_imported  # noqa: E402

HERE = os.path.join(FIXTURES, "onnx")
with open(os.path.join(HERE, "info.json")) as _f:
    INFO = json.load(_f)
MODELS = ["small_cnn", "mlp"]


@pytest.mark.parametrize("name", MODELS)
def test_mxnets_onnx_file_imports(name):
    io = np.load(os.path.join(HERE, name + "-io.npz"))
    got = run_imported(os.path.join(HERE, name + ".onnx"), {"data": io["data"]})[0]
    np.testing.assert_allclose(got, io["output"], rtol=1e-4, atol=1e-5)
    assert mx.onnx.get_model_metadata(os.path.join(HERE, name + ".onnx"))["output_tensor_data"][0][0] == \
        INFO[name]["outputs"][0]


@pytest.mark.parametrize("name", MODELS)
def test_mxnets_checkpoint_exports(name, tmp_path):
    io = np.load(os.path.join(HERE, name + "-io.npz"))
    prefix = os.path.join(HERE, name)
    path = mx.onnx.export_model(prefix + "-symbol.json", prefix + "-0000.params", [io["data"].shape],
                                onnx_file_path=str(tmp_path / "ours.onnx"))
    np.testing.assert_allclose(run_onnx(path, {"data": io["data"]})[0], io["output"], rtol=1e-4, atol=1e-5)
    import onnx
    graph = onnx.load(path).graph
    assert [o.name for o in graph.output] == INFO[name]["outputs"]     # MXNet's output names
    assert [i.name for i in graph.input] == ["data"]
