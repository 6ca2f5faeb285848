"""`python -m dataflow.onnx export ...` and `info`: a checkpoint on disk to an ONNX file that onnxruntime runs
equal to dataflow's forward."""
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import dataflow as mx  # noqa: E402
from dataflow.onnx.__main__ import main  # noqa: E402
from tests.onnx_check import forward, random_params, run_onnx  # noqa: E402
from tests.test_onnx_export import _small_cnn  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _checkpoint(tmp_path):
    sym = _small_cnn()
    data = {"data": np.random.RandomState(2).uniform(-1, 1, (1, 3, 10, 10)).astype(np.float32)}
    params = random_params(sym, data, np.random.RandomState(0), label="softmax_label")
    args = {k: v for k, v in params.items() if k in sym.list_arguments()}
    aux = {k: v for k, v in params.items() if k not in args}
    mx.model.save_checkpoint(str(tmp_path / "model"), 0, sym, args, aux)
    return sym, data, params


def test_export_by_command_line(tmp_path):
    sym, data, params = _checkpoint(tmp_path)
    result = subprocess.run([sys.executable, "-m", "dataflow.onnx", "export", str(tmp_path / "model-symbol.json"),
                             str(tmp_path / "model-0000.params"), "--shape", "1,3,10,10"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    path = str(tmp_path / "model.onnx")
    assert result.stdout.strip() == path
    np.testing.assert_allclose(run_onnx(path, data)[0], forward(sym, data, params)[0], rtol=1e-4, atol=1e-5)


def test_output_option_info_and_errors(tmp_path, capsys):
    _checkpoint(tmp_path)
    out = str(tmp_path / "other.onnx")
    assert main(["export", str(tmp_path / "model-symbol.json"), str(tmp_path / "model-0000.params"),
                 "--shape", "2,3,10,10", "--output", out, "--dynamic"]) == 0
    assert os.path.isfile(out)
    capsys.readouterr()
    assert main(["info", out]) == 0
    assert capsys.readouterr().out.split("\n")[:2] == ["input  data (0, 0, 0, 0)", "output softmax (0, 0)"]
    assert main(["export", str(tmp_path / "model-symbol.json"), str(tmp_path / "model-0000.params"),
                 "--shape", "1,3,10,10", "--shape", "1,3"]) == 1
    assert "data inputs are ['data']" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", "a-symbol.json", "a.params", "--shape", "1,x"])
