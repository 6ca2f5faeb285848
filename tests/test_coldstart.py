"""Cold start (issue 15): what a fresh `import dataflow` loads, and what the first inference call needs.

Each check runs in a fresh interpreter, where sys.modules shows what was imported (Note [lazy submodules] in
dataflow/__init__.py)."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Imported on first use only: each costs import time a first model does not need.
LAZY = ["graphviz", "scipy.special", "scipy.linalg", "numpy.testing", "unittest", "multiprocessing", "numba.cuda",
        "dataflow.viz", "dataflow.test_utils", "dataflow.module", "dataflow.io", "dataflow.metric", "dataflow.model",
        "dataflow.contrib", "dataflow.image", "dataflow.monitor", "dataflow.gluon.data", "dataflow.gluon.model_zoo",
        "dataflow.gluon.contrib", "dataflow.gluon.rnn", "dataflow.gluon.loss", "dataflow.gluon.trainer",
        "dataflow.optimizer", "dataflow.lr_scheduler", "dataflow.executor", "ssl", "urllib.request",
        "numba.np.npyimpl",         # numba's ufunc machinery: no DUFunc is made at import (ops/cpu/lazy_ufunc.py)
        "ops.jit",                  # the Plan compiler's bodies: at the first run of a compiled Plan
        "scipy", "yaml", "importlib.metadata", "email"]     # numba's import checks (Note [numba's import checks])


def run(body, cwd=ROOT, **env):
    environ = dict(os.environ, **env)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(body)], cwd=cwd, env=environ, capture_output=True,
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


def test_lazy_dufuncs_are_made_on_first_call_and_compute_as_numpy():
    out = run("""
        import json
        import numpy as np
        import dataflow as mx
        from ops.cpu import elemwise
        from ops.cpu.lazy_ufunc import LazyDUFunc, scalar_function
        f = elemwise.maximum
        before = [isinstance(f, LazyDUFunc), f._dufunc is None, scalar_function(f).__name__, f._dufunc is None]
        a = np.array([3, -1, 7], np.int32)
        b = np.array([2, 5, 7], np.int32)
        y = mx.nd.maximum(mx.nd.array(a, dtype="int32"), mx.nd.array(b, dtype="int32")).asnumpy()
        r = elemwise.hypot(np.array([3.0, 5.0]), np.array([4.0, 12.0]))     # called directly, as a ufunc
        print(json.dumps([before, f._dufunc is not None, y.tolist(), str(y.dtype), r.tolist(), f.nin,
                          type(f.dufunc).__name__]))
        """)
    before, made, y, dtype, r, nin, kind = out
    assert before == [True, True, "maximum", True]     # the Python function is reachable without making the DUFunc
    assert made and kind == "DUFunc" and nin == 2
    assert y == np.maximum([3, -1, 7], [2, 5, 7]).tolist() and dtype == "int32"
    assert r == [5.0, 13.0]


def test_jit_bodies_are_generated_per_op_on_first_use():
    out = run("""
        import json
        import numpy as np
        import ops.jit
        import ops.jit.elemwise as bodies
        from ops import registry
        generated = sorted(bodies._GENERATED)
        from ops.jit.elemwise import map1__exp      # a generated plan module imports its loops by name
        body = ops.jit.body(registry.get("relu"), registry.get("relu").parse_params({}), (((4,), np.float32),),
                            (((4,), np.float32),), ("write",))
        x = np.array([-1.0, 0.5, 2.0, -3.0], np.float32)
        y = np.full(4, 7.0, np.float32)
        body.fn(x, y, *body.args)
        errors = []
        for name in ("map2__exp", "map1_no_such_key"):
            try:
                getattr(bodies, name)
            except AttributeError as error:
                errors.append(name in str(error))
        print(json.dumps([generated, sorted(bodies._GENERATED), map1__exp.py_func.__name__, y.tolist(), errors]))
        """)
    generated, after, name, y, errors = out
    assert generated == [] and after == ["_exp", "relu"] and name == "map1__exp"
    assert y == [0.0, 0.5, 2.0, 0.0]
    assert errors == [True, True]


def test_front_end_signatures_are_made_when_read():
    out = run("""
        import inspect, json
        import dataflow as mx
        sig = inspect.signature(mx.nd.FullyConnected)
        sym_sig = inspect.signature(mx.sym.Activation)
        print(json.dumps([list(sig.parameters)[:6], str(sig.parameters["num_hidden"].default),
                          "name" in sym_sig.parameters, str(sig.replace(parameters=[])),
                          sig == inspect.signature(mx.nd.FullyConnected)]))
        """)
    names, default, has_name, empty, equal = out
    assert names == ["data", "weight", "bias", "num_hidden", "no_bias", "flatten"] and default == "_Null"
    assert has_name and empty == "()" and equal


def test_blas_limit_without_threadpoolctl_where_every_blas_is_openblas():
    # numpy's wheels bring OpenBLAS: its own thread setter is called (found in /proc/self/maps), and threadpoolctl,
    # asked afterwards, sees one thread. Hosts with another BLAS go through threadpoolctl at import.
    out = run("""
        import json, sys
        import numpy
        import dataflow
        imported = "threadpoolctl" in sys.modules
        info = dataflow.threads.blas_info()
        print(json.dumps([imported, [(d["internal_api"], d["num_threads"]) for d in info]]))
        """)
    imported, libraries = out
    if all(api == "openblas" for api, _ in libraries) and sys.platform.startswith("linux"):
        assert not imported
    assert libraries and all(n == 1 for _, n in libraries)


def test_numba_probes_each_cache_directory_once(tmp_path):
    # Note [numba's cache directory check] in ops/__init__.py: one writability probe per directory, not per function
    out = run("""
        import json, os, tempfile
        probes = []
        real = tempfile.TemporaryFile
        def counting(*args, **kwargs):
            probes.append(os.path.abspath(kwargs.get("dir") or args[-1]))
            return real(*args, **kwargs)
        tempfile.TemporaryFile = counting
        import numba
        import dataflow as mx
        from ops.jit.elemwise import map1__exp, map1__sqrt     # more cache=True functions of one directory
        mx.nd.sqrt(mx.nd.array([4.0], dtype="float64")).asnumpy()
        print(json.dumps([len(probes), len(set(probes))]))
        """, NUMBA_CACHE_DIR=str(tmp_path))
    probes, directories = out
    assert probes == directories


def test_import_and_first_hybridized_call_compile_nothing():
    # What the coldstart benchmark relies on when it starts its compile clock after the import (bench/ours.py): the
    # import compiles no numba function, and a first hybridized call neither (a Plan compiles from its second run).
    out = run("""
        import json
        from numba.core import event
        compiled = []
        class Count(event.Listener):
            def on_start(self, ev):
                compiled.append(str(ev.data.get("dispatcher")))
            def on_end(self, ev):
                pass
        event.register("numba:compile", Count())
        import numpy as np
        import dataflow as mx
        at_import = list(compiled)
        nn = mx.gluon.nn
        net = nn.HybridSequential()
        net.add(nn.Dense(16, activation="relu"), nn.Dense(2))
        net.initialize()
        net.hybridize()
        net(mx.nd.array(np.ones((1, 5), np.float32))).wait_to_read()
        print(json.dumps([at_import, compiled]))
        """)
    assert out == [[], []]


def test_first_hybridized_call_imports_no_compiler(tmp_path):
    # Note [the first run imports no compiler] in scheduler/compile.py: the bodies, codegen and the plan cache are
    # imported when a range is due to compile (its second run), and the Plan then still compiles and computes
    compiler = ["ops.jit", "scheduler.codegen", "scheduler.plan_cache"]
    out = run("""
        import json, sys
        import numpy as np
        import dataflow as mx
        from scheduler import compile as jit
        nn = mx.gluon.nn
        net = nn.HybridSequential()
        net.add(nn.Dense(16, activation="relu"), nn.Dense(2))
        net.initialize()
        net.hybridize()
        x = np.random.RandomState(0).uniform(-1, 1, (3, 5)).astype(np.float32)
        first = net(mx.nd.array(x)).asnumpy()
        after_first = [m for m in %r if m in sys.modules]
        second = net(mx.nd.array(x)).asnumpy()
        after_second = [m for m in %r if m in sys.modules]
        plan = net._last_call.cached._plan
        plan.wait()
        third = net(mx.nd.array(x)).asnumpy()
        w = [net[i].weight.data().asnumpy() for i in range(2)]
        b = [net[i].bias.data().asnumpy() for i in range(2)]
        ref = np.maximum(x @ w[0].T + b[0], 0) @ w[1].T + b[1]
        print(json.dumps([after_first, after_second, isinstance(plan, jit.CompiledPlan), plan.info()["segments"],
                          [float(np.abs(y - ref).max()) for y in (first, second, third)]]))
        """ % (compiler, compiler), NUMBA_CACHE_DIR=str(tmp_path))
    after_first, after_second, compiled, segments, errors = out
    assert after_first == [] and after_second == compiler
    assert compiled and segments >= 1
    assert max(errors) < 1e-5


def test_import_pauses_the_collector_and_freezes_what_it_loaded():
    # Note [the import's garbage collector] in dataflow/_startup.py
    out = run("""
        import gc, json
        counts = []
        gc.callbacks.append(lambda phase, info: counts.append(1) if phase == "start" else None)
        before = len(counts)
        import dataflow
        during = len(counts) - before
        frozen = gc.get_freeze_count()
        class Cycle:
            pass
        a = Cycle()
        a.me = a
        del a
        found = gc.collect()
        print(json.dumps([during, gc.isenabled(), frozen, found]))
        """)
    during, enabled, frozen, found = out
    assert during == 0 and enabled
    assert frozen > 10000           # the modules, functions and types of numpy, numba and the op library
    assert found >= 1               # a cycle made after the import is still collected


def test_numba_gets_its_config_file_plugins_and_scipy_when_it_uses_them(tmp_path):
    # Note [numba's import checks]: numba imported by dataflow still reads .numba_config.yaml (through the real
    # PyYAML), loads its entry points at its first compilation, and SciPy imports as usual afterwards.
    pytest.importorskip("yaml", reason="numba reads its config file only with PyYAML installed")
    (tmp_path / ".numba_config.yaml").write_text("developer_mode: 1\n")
    out = run("""
        import json, sys
        import dataflow
        import numba
        from numba.core import config, entrypoints
        at_import = [m for m in ("yaml", "importlib.metadata", "scipy") if m in sys.modules]
        numba.njit(lambda x: x + 1)(1)
        import importlib.metadata, scipy, yaml
        print(json.dumps([config.DEVELOPER_MODE, at_import, entrypoints._already_initialized,
                          type(sys.modules["importlib.metadata"]).__name__, hasattr(yaml, "safe_load"),
                          hasattr(scipy, "__version__"), hasattr(importlib.metadata, "entry_points")]))
        """, cwd=str(tmp_path), PYTHONPATH=ROOT)
    developer_mode, at_import, plugins, kind, has_yaml, has_scipy, has_metadata = out
    assert developer_mode == 1
    assert at_import == ["yaml"]        # read from the config file at numba's import; the others not needed yet
    assert plugins and kind == "module" and has_yaml and has_scipy and has_metadata


def test_kernel_caches_are_set_up_at_first_use_and_still_hit(tmp_path):
    # Note [numba's cache set-up, deferred]: the first process compiles and saves, the second loads
    body = """
        import json
        import numpy as np
        import dataflow
        from ops.jit.elemwise import map1__sqrt
        before = type(map1__sqrt._cache).__name__
        x = np.array([4.0, 9.0], np.float32)
        y = np.zeros(2, np.float32)
        map1__sqrt(x, y, False)
        stats = map1__sqrt.stats
        print(json.dumps([before, type(map1__sqrt._cache).__name__, sum(stats.cache_hits.values()),
                          sum(stats.cache_misses.values()), y.tolist()]))
        """
    first = run(body, NUMBA_CACHE_DIR=str(tmp_path))
    second = run(body, NUMBA_CACHE_DIR=str(tmp_path))
    assert first == ["_DeferredCache", "FunctionCache", 0, 1, [2.0, 3.0]]
    assert second == ["_DeferredCache", "FunctionCache", 1, 0, [2.0, 3.0]]


def test_a_kernel_whose_source_changed_since_its_definition_runs_uncached(tmp_path):
    out = run("""
        import json, os, sys
        import numba
        import dataflow
        path = os.path.join(%r, "kernel_src.py")
        with open(path, "w") as f:
            f.write("def twice(x):\\n    return 2 * x\\n")
        sys.path.insert(0, os.path.dirname(path))
        import kernel_src
        kernel_src.twice.__module__ = "ops.kernel_src"      # as if one of the op library's kernels
        same = numba.njit(cache=True)(kernel_src.twice)
        edited = numba.njit(cache=True)(kernel_src.twice)
        kinds = [type(same._cache).__name__, type(edited._cache).__name__]
        same(1)
        with open(path, "a") as f:
            f.write("# edited\\n")
        edited(1)
        print(json.dumps(kinds + [type(same._cache).__name__, type(edited._cache).__name__, edited(3)]))
        """ % str(tmp_path), NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    assert out == ["_DeferredCache", "_DeferredCache", "FunctionCache", "NullCache", 6]
