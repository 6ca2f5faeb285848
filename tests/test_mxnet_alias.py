"""`install_as_mxnet()` and `python -m dataflow.run`: unmodified MXNet programs on dataflow.

In-process tests check the import forms, that `mxnet.X` *is* `dataflow.X`, and the ModuleNotFoundError naming
both names; every one removes the alias again. Two subprocess tests run scripts: one written the MXNet way (a
Gluon linear regression, checked against the same SGD steps in numpy, plus argv, `__main__`, the script's
directory on sys.path, its exit code, and `import mxnet` in a spawned worker), and one whose output and
traceback are compared with Python's own `python script.py` (same stdout, same stderr, exit code 1).
"""
import doctest
import importlib
import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import dataflow
from dataflow import _mxnet_alias

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def alias():
    """The alias installed for one test, then removed (the finder and every `mxnet*` module entry)."""
    before = set(sys.modules)
    dataflow.install_as_mxnet()
    yield
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _mxnet_alias._MXNetAliasFinder)]
    for name in set(sys.modules) - before:
        if name == "mxnet" or name.startswith("mxnet."):
            del sys.modules[name]


def test_import_forms_give_dataflow_modules(alias):
    import mxnet as mx
    import mxnet.gluon.nn as nn
    from mxnet import autograd, gluon, nd
    from mxnet.base import MXNetError
    from mxnet.gluon.data import DataLoader
    assert mx is dataflow and mx.__version__ == "1.9.1"
    assert nn is dataflow.gluon.nn and gluon is dataflow.gluon and nd is dataflow.ndarray
    assert autograd is dataflow.autograd and MXNetError is dataflow.base.MXNetError
    assert DataLoader is dataflow.gluon.data.DataLoader
    assert sys.modules["mxnet.gluon"] is dataflow.gluon
    assert importlib.import_module("mxnet.gluon.data.dataloader") is dataflow.gluon.data.dataloader
    # op namespaces generated at import are modules too
    assert importlib.import_module("mxnet.ndarray.random") is dataflow.ndarray.random
    assert importlib.import_module("mxnet.symbol.contrib") is dataflow.symbol.contrib


def test_doctest(alias):
    result = doctest.testmod(_mxnet_alias)
    assert result.failed == 0 and result.attempted > 0


def test_alias_shares_classes_and_module_state(alias):
    import mxnet
    array = mxnet.nd.ones((2, 3))
    assert isinstance(array, dataflow.nd.NDArray)
    with mxnet.cpu(1):          # the default context is module state of dataflow.context
        assert dataflow.current_context() == dataflow.cpu(1)
    assert dataflow.current_context() == dataflow.cpu(0)
    with pytest.raises(dataflow.base.MXNetError):
        mxnet.nd.ones((2, 3)) + mxnet.nd.ones((4, 5))
    # the modules keep their own identity (names and specs)
    assert mxnet.gluon.__name__ == "dataflow.gluon" and mxnet.gluon.__spec__.name == "dataflow.gluon"


def test_missing_module_names_both_names(alias):
    with pytest.raises(ModuleNotFoundError) as caught:
        importlib.import_module("mxnet.gluon.no_such_module")
    message = str(caught.value)
    assert "'mxnet.gluon.no_such_module'" in message and "'dataflow.gluon.no_such_module'" in message
    with pytest.raises(ModuleNotFoundError, match="dataflow.no_such_top"):
        exec("import mxnet.no_such_top.deeper")     # a missing parent is reported, not the leaf


def test_a_module_failing_on_its_own_import_shows_its_error(alias, monkeypatch):
    def broken(name):
        raise ModuleNotFoundError("No module named 'requests'", name="requests")
    monkeypatch.setattr(_mxnet_alias.importlib, "import_module", broken)
    with pytest.raises(ModuleNotFoundError) as caught:
        _mxnet_alias._resolve("mxnet.gluon.utils")
    assert caught.value.name == "requests" and "dataflow" not in str(caught.value)


def test_install_is_idempotent_and_refuses_a_real_mxnet(alias, monkeypatch):
    dataflow.install_as_mxnet()
    assert sum(isinstance(f, _mxnet_alias._MXNetAliasFinder) for f in sys.meta_path) == 1
    monkeypatch.setitem(sys.modules, "mxnet", types.ModuleType("mxnet"))
    with pytest.raises(ImportError, match="already imported"):
        dataflow.install_as_mxnet()


def _run(args, cwd):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable] + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


TRAINING_SCRIPT = '''\
import json
import multiprocessing
import sys

import mxnet as mx
import mxnet.gluon.nn as nn
from mxnet import autograd, gluon, nd

import helper     # next to this script: found through sys.path[0]


def child_module_name(queue):
    queue.put(mx.nd.ones((2,)).__class__.__module__)


def main():
    x = nd.array(json.loads(sys.argv[1])["x"])
    y = nd.array(json.loads(sys.argv[1])["y"])
    net = nn.Dense(1, in_units=3)
    net.initialize(mx.init.Zero())
    net.weight.set_data(nd.array([[0.5, -0.25, 1.0]]))
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    loss_fn = gluon.loss.L2Loss()
    for step in range(5):
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(x.shape[0])
    # a spawned worker re-imports this program, `import mxnet` included
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    worker = context.Process(target=child_module_name, args=(queue,))
    worker.start()
    child = queue.get(timeout=120)
    worker.join()
    print(json.dumps({"weight": net.weight.data().asnumpy().tolist(), "bias": net.bias.data().asnumpy().tolist(),
                      "argv": sys.argv[2:], "name": __name__, "path0": sys.path[0], "helper": helper.VALUE,
                      "module": type(x).__module__, "child_module": child}))
    sys.exit(int(sys.argv[2]))


if __name__ == "__main__":
    main()
'''


def test_mxnet_training_script_runs_unmodified(tmp_path):
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, (8, 3)).astype(np.float32)
    y = (x @ np.array([1.0, 2.0, -1.0], np.float32) + 0.5).reshape(8, 1).astype(np.float32)
    folder = tmp_path / "prog"
    folder.mkdir()
    (folder / "train.py").write_text(TRAINING_SCRIPT)
    (folder / "helper.py").write_text("VALUE = 42\n")
    proc = _run(["-m", "dataflow.run", str(folder / "train.py"), json.dumps({"x": x.tolist(), "y": y.tolist()}),
                 "7", "--flag"], cwd=str(tmp_path))
    assert proc.returncode == 7, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    # the same five steps in numpy: L2Loss = (pred - y)^2 / 2 per sample, the step divides by the batch size
    w, b = np.array([[0.5, -0.25, 1.0]]), np.zeros(1)
    for _ in range(5):
        err = x @ w.T + b - y
        w, b = w - 0.1 * (err.T @ x) / 8, b - 0.1 * err.sum(0) / 8
    np.testing.assert_allclose(out["weight"], w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["bias"], b, rtol=1e-5, atol=1e-6)
    assert out["argv"] == ["7", "--flag"] and out["name"] == "__main__"
    assert out["path0"] == os.path.realpath(str(folder)) and out["helper"] == 42
    assert out["module"].startswith("dataflow.") and out["child_module"] == out["module"]


RAISING_SCRIPT = '''\
import json
import sys
if "dataflow" in sys.modules:   # under `python -m dataflow.run` (its alias answers); plain Python never imports it
    import mxnet as mx


def fail(value):
    raise ValueError("bad value %r" % value)


print(json.dumps({"argv": sys.argv, "name": __name__, "file": __file__, "path0": sys.path[0]}))
sys.stdout.flush()
fail(sys.argv[1:])
'''


def test_failing_script_behaves_as_under_python(tmp_path):
    """stdout, the traceback on stderr and the exit code equal Python's own `python script.py` run."""
    (tmp_path / "sub").mkdir()
    script = tmp_path / "sub" / "fails.py"
    script.write_text(RAISING_SCRIPT)
    relative = os.path.join("sub", "fails.py")
    ours = _run(["-m", "dataflow.run", relative, "a", "b c"], cwd=str(tmp_path))
    python = _run([relative, "a", "b c"], cwd=str(tmp_path))
    assert python.returncode == 1 and ours.returncode == 1
    assert ours.stdout == python.stdout
    assert json.loads(ours.stdout)["argv"] == [relative, "a", "b c"]
    assert ours.stderr == python.stderr
    assert ours.stderr.startswith("Traceback (most recent call last):\n  File \"%s\"" % script)
    assert ours.stderr.rstrip().endswith("ValueError: bad value ['a', 'b c']")
