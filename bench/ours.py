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

from bench import graphs, protocol, sparse, spec
from bench.protocol import Case, NotApplicable

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


def _uniform(rs, shape, lo=-1.0, hi=1.0):
    return rs.uniform(lo, hi, size=shape).astype(np.float32)


def _fill(mx, arrays, rs, scale=0.1):
    """Fill bound arrays with small random values (moving variances with ones)."""
    for name, arr in arrays.items():
        if arr is None:
            continue
        if name.endswith("moving_var") or name.endswith("gamma"):
            arr[:] = np.ones(arr.shape, np.float32)
        elif name.endswith("moving_mean") or name.endswith("beta"):
            arr[:] = np.zeros(arr.shape, np.float32)
        elif name.endswith("label"):
            arr[:] = rs.randint(0, 10, size=arr.shape).astype(np.float32)
        else:
            arr[:] = _uniform(rs, arr.shape, -scale, scale)


# -- workloads -------------------------------------------------------------------------------------------------------
def _mlp(p, variants):
    mx = _mx()
    x = mx.nd.array(_uniform(np.random.RandomState(0), (p["batch"], spec.MLP_IN), 0, 1))
    sync = _waitall(mx)

    def make(hybridize, **flags):
        def factory():
            mx.random.seed(42)
            net = graphs.mlp_net(mx)
            if hybridize:
                net.hybridize(**flags)
            return Case(lambda: net(x), p["calls"], sync)
        return factory
    table = {"imperative": make(False), "hybridized": make(True)}
    return {v: table[v] for v in variants}


def _fcnet_train(p):
    mx = _mx()

    def factory():
        sym = graphs.fcnet(mx)
        ex = sym.simple_bind(mx.cpu(), data=(p["batch"], p["features"]))
        _fill(mx, ex.arg_dict, np.random.RandomState(0))

        def step():
            ex.forward(is_train=True)
            ex.backward()
        return Case(step, p["calls"], _waitall(mx))
    return {"fwd+bwd": factory}


def _elemwise(p):
    mx = _mx()
    xv = _uniform(np.random.RandomState(0), tuple(p["shape"]))

    def symbol():
        x = mx.sym.Variable("x")
        ex = graphs.elemwise_chain(mx.sym, x).bind(mx.cpu(), {"x": mx.nd.array(xv)})
        return Case(ex.forward, p["calls"], _waitall(mx))

    def imperative():
        x = mx.nd.array(xv)
        return Case(lambda: graphs.elemwise_chain(mx.nd, x), p["calls"], _waitall(mx))
    return {"symbol": symbol, "imperative": imperative}


def _inception(p):
    mx = _mx()
    shape = (p["batch"], 3, p["hw"], p["hw"])

    def make(train):
        def factory():
            sym = graphs.inception_a(mx)
            ex = sym.simple_bind(mx.cpu(), grad_req="write" if train else "null", data=shape)
            rs = np.random.RandomState(0)
            _fill(mx, ex.arg_dict, rs)
            _fill(mx, ex.aux_dict, rs)
            ex.arg_dict["data"][:] = _uniform(rs, shape)
            if not train:
                return Case(lambda: ex.forward(is_train=False), p["calls"], _waitall(mx))
            ograd = mx.nd.ones(ex.outputs[0].shape)

            def step():
                ex.forward(is_train=True)
                ex.backward(ograd)
            return Case(step, p["calls"], _waitall(mx))
        return factory
    return {"inference": make(False), "training": make(True)}


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


def _bind(p):
    """One call = one `simple_bind` of an already built long graph (grad_req 'null', or 'write': with gradients)."""
    mx = _mx()

    def make(kind, nodes, req):
        def factory():
            sym = graphs.bind_graph(mx, kind, nodes)
            return Case(lambda: sym.simple_bind(mx.cpu(), grad_req=req, data=tuple(p["data"])), p["calls"],
                        _waitall(mx))
        return factory
    return {name: make(kind, nodes, req) for name, kind, nodes, req in spec.bind_variants(p)}


def build(workload, p):
    if workload == "mlp1":
        return _mlp(p, ("imperative", "hybridized"))
    if workload in ("mlp64", "mlp1024"):
        return _mlp(p, ("hybridized",))
    if workload == "fcnet-train":
        return _fcnet_train(p)
    if workload == "elemwise10":
        return _elemwise(p)
    if workload == "inception":
        return _inception(p)
    if workload == "bind":
        return _bind(p)
    if workload == "lstm":
        mx = _mx()
        return graphs.lstm_variants(mx, p, _waitall(mx))
    if workload == "zoo":
        mx = _mx()
        return graphs.zoo_cases(mx, p, _waitall(mx))
    if workload == "memory":
        mx = _mx()
        return {}, {"memory": memory_stats(mx, p)}
    if workload == "sparse":
        mx = _mx()
        return sparse.cases(mx, p, _waitall(mx))
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
