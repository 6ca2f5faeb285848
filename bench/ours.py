"""The dataflow runner: every workload on `import dataflow as mx`. Run by the harness as `python -m bench.ours`
(or imported into the harness for --smoke / --in-process); see bench/protocol.py for the conversation.

Numba's compilation is timed with a listener on numba's "numba:compile" event (cache loads do not fire it), so a
variant's `numba_compile_s` is real compilation and `first_call_s` also holds cache loading and tracing.
"""
import os
import sys
import threading
import time

if __package__ in (None, ""):                 # run as a file: make `bench` importable
    sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np

from bench import graphs, mx_cases, protocol, spec
from bench.protocol import NotApplicable

IMPL = "dataflow"

_clock = None


class _CompileClock:
    """Seconds of numba compilation (outermost compiles only, per thread), since it was installed."""

    def __init__(self):
        from numba.core import event

        class Listener(event.Listener):
            def on_start(inner, ev):  # noqa: N805
                self._start()

            def on_end(inner, ev):  # noqa: N805
                self._end()

        self._lock = threading.Lock()
        self._depth, self._t0 = {}, {}
        self.total, self.count = 0.0, 0
        event.register("numba:compile", Listener())

    def _start(self):
        tid = threading.get_ident()
        with self._lock:
            d = self._depth.get(tid, 0)
            if d == 0:
                self._t0[tid] = time.perf_counter()
            self._depth[tid] = d + 1

    def _end(self):
        tid = threading.get_ident()
        with self._lock:
            d = self._depth.get(tid, 1) - 1
            self._depth[tid] = d
            if d == 0:
                self.total += time.perf_counter() - self._t0.pop(tid)
                self.count += 1


def compile_clock():
    global _clock
    if _clock is None:
        _clock = _CompileClock()
    return _clock.total


def _mx():
    import dataflow as mx
    compile_clock()
    return mx


def _waitall(mx):
    return lambda _last=None: mx.nd.waitall()


def memory_stats(mx, p):
    """{graph: {mode: {naive, planned, lower_bound}}} of simple_bind over the memory workload's graphs."""
    out = {}
    for name, sym, shapes in graphs.memory_graphs(mx, p):
        out[name] = {}
        for mode, req in (("inference", "null"), ("training", "write")):
            ex = sym.simple_bind(mx.cpu(), grad_req=req, **shapes)
            out[name][mode] = dict(ex.memory_stats())
            del ex
    return out


def build(workload, p):
    if workload in mx_cases.SHARED:
        mx = _mx()
        return mx_cases.build(mx, workload, p, _waitall(mx), ("imperative", "hybridized"))
    if workload == "memory":
        mx = _mx()
        return {}, {"memory": memory_stats(mx, p)}
    raise NotApplicable("%s is measured by the harness" % workload if workload in ("coldstart", "dist") else
                        "unknown workload %r" % workload)


def settle():
    """Wait for the background compiles the warm-up queued (a Plan compiles from its second run, off the calling
    thread): the timed blocks then measure the compiled Plans, as a long-running job runs them. JAX and
    torch.compile compile inside their first call, which their warm-up covers."""
    from scheduler import compile as jit
    jit.wait_all()


def coldstart(p):
    """In a fresh interpreter: import dataflow, build the seed MLP, hybridize, first call (waited for).

    `import dataflow` comes first, as in a user's script (dataflow imports numba itself). The compile clock starts
    after it: the import compiles nothing (tests/test_coldstart.py)."""
    t0 = time.perf_counter()
    import dataflow as mx
    t1 = time.perf_counter()
    compile_clock()                           # times numba's compilations from here on
    mx.random.seed(42)
    net = graphs.mlp_net(mx)
    net.hybridize()
    x = mx.nd.array(np.random.RandomState(0).uniform(0, 1, (p["batch"], spec.MLP_IN)).astype(np.float32))
    t_built = time.perf_counter()
    net(x).wait_to_read()
    t2 = time.perf_counter()
    return {"import_s": t1 - t0, "build_s": t_built - t1, "call_s": t2 - t_built,
            "first_call_s": t2 - t1, "total_s": t2 - t0,
            "cpu_s": time.process_time(),     # this process's CPU from its start: less noisy than wall on a busy host
            "numba_compile_s": _clock.total,
            "numba_compiled": _clock.count, "cache_dir": os.environ.get("NUMBA_CACHE_DIR")}


def info():
    import llvmlite
    import numba
    import scipy
    import dataflow
    out = {"impl": IMPL, "versions": {"dataflow": getattr(dataflow, "__version__", "?"), "numba": numba.__version__,
                                      "llvmlite": llvmlite.__version__, "numpy": np.__version__,
                                      "scipy": scipy.__version__},
           "blas": protocol.blas_info(),
           "engine": os.environ.get("MXNET_ENGINE_TYPE", "ThreadedEngine (default)")}
    try:
        out["numba_threading_layer"] = numba.threading_layer()
    except ValueError:
        out["numba_threading_layer"] = "not initialised (no parallel kernel ran)"
    out["numba_num_threads"] = numba.config.NUMBA_NUM_THREADS
    if _clock is not None:
        out["numba_compiled_functions"] = _clock.count
        out["numba_compile_total_s"] = _clock.total
    return out


if __name__ == "__main__":
    sys.exit(protocol.main(sys.modules[__name__]))
