"""Cold start (issue 15): what a fresh `import dataflow` loads, and what the first inference call needs.

Each check runs in a fresh interpreter, where sys.modules shows what was imported (Note [lazy submodules] in
dataflow/__init__.py)."""
import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Imported on first use only: each costs import time a first model does not need.
LAZY = ["graphviz", "scipy.special", "scipy.linalg", "numpy.testing", "unittest", "multiprocessing", "numba.cuda",
        "dataflow.viz", "dataflow.test_utils", "dataflow.module", "dataflow.io", "dataflow.metric", "dataflow.model",
        "dataflow.contrib", "dataflow.image", "dataflow.monitor", "dataflow.gluon.data", "dataflow.gluon.model_zoo",
        "dataflow.gluon.contrib"]


def run(body, **env):
    environ = dict(os.environ, **env)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(body)], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_leaves_the_rest_for_later():
    loaded = run("""
        import json, sys
        import dataflow
        print(json.dumps([m for m in %r if m in sys.modules]))
        """ % (LAZY,))
    assert loaded == []


def test_lazy_submodules_work_on_first_use():
    out = run("""
        import json, sys
        import dataflow as mx
        names = [mx.viz.plot_network.__name__, mx.test_utils.assert_almost_equal.__name__, mx.mod.Module.__name__,
                 mx.module.Module.__name__, mx.io.NDArrayIter.__name__, mx.metric.Accuracy.__name__,
                 mx.gluon.data.DataLoader.__name__, mx.gluon.model_zoo.vision.get_model.__name__,
                 mx.gluon.contrib.nn.__name__, mx.contrib.__name__, mx.image.__name__]
        from dataflow import callback
        from dataflow.gluon.data import ArrayDataset
        errors = []
        for owner, attr in ((mx, "no_such_module"), (mx, "_private"), (mx.gluon, "no_such_module")):
            try:
                getattr(owner, attr)
            except AttributeError as error:
                errors.append(str(error))
        print(json.dumps([names, callback.__name__, "viz" in dir(mx) and "test_utils" in dir(mx), errors,
                          "graphviz" in sys.modules]))
        """)
    names, callback, listed, errors, graphviz = out
    assert names == ["plot_network", "assert_almost_equal", "Module", "Module", "NDArrayIter", "Accuracy",
                     "DataLoader", "get_model", "dataflow.gluon.contrib.nn", "dataflow.contrib", "dataflow.image"]
    assert callback == "dataflow.callback" and listed and graphviz
    assert len(errors) == 3 and "no_such_module" in errors[0] and "_private" in errors[1]


def test_mxnet_alias_reaches_lazy_submodules():
    out = run("""
        import json, dataflow
        dataflow.install_as_mxnet()
        import mxnet as mx
        import mxnet.gluon.model_zoo.vision as vision
        from mxnet import test_utils, viz
        from mxnet.gluon.data import DataLoader
        print(json.dumps([mx is dataflow, vision is dataflow.gluon.model_zoo.vision, test_utils is dataflow.test_utils,
                          viz is dataflow.viz, DataLoader is dataflow.gluon.data.DataLoader]))
        """)
    assert out == [True] * 5


def test_first_inference_call_needs_no_numba_setup():
    # numba's one-time target setup (~1 s, loading scipy.linalg among others) starts with the first numba function
    # a process calls: the kernels of a first MLP inference (FullyConnected, relu) and float arithmetic call none.
    # DATAFLOW_JIT=0 keeps the Plan compiler (scheduler/compile.py) out of this check, which is about the kernels.
    out = run("""
        import json, sys
        import numpy as np
        import dataflow as mx
        from numba.core.runtime import rtsys
        nn = mx.gluon.nn
        net = nn.HybridSequential()
        net.add(nn.Dense(16, activation="relu"), nn.Dense(8, activation="relu"), nn.Dense(2))
        net.initialize()
        net.hybridize()
        x = np.random.RandomState(0).uniform(-1, 1, (3, 5)).astype(np.float32)
        y = net(mx.nd.array(x)).asnumpy()
        w = [net[i].weight.data().asnumpy() for i in range(3)]
        b = [net[i].bias.data().asnumpy() for i in range(3)]
        ref = x
        for i in range(3):
            ref = ref @ w[i].T + b[i]
            ref = np.maximum(ref, 0) if i < 2 else ref
        a = mx.nd.array([-1.0, 0.0, np.nan, 2.0])
        imperative = mx.nd.relu((a + 1) * 2 / 4 - 0.5 * a - a).asnumpy()     # relu(0.5 - a)
        print(json.dumps([rtsys._init, "scipy.linalg" in sys.modules, float(np.abs(y - ref).max()),
                          [None if v != v else v for v in imperative.tolist()]]))
        """, DATAFLOW_JIT="0")
    numba_initialised, scipy_linalg, error, imperative = out
    assert not numba_initialised and not scipy_linalg
    assert error < 1e-5
    assert imperative == [1.5, 0.5, None, 0.0]
