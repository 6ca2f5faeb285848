"""Real MXNet 1.9.1 peer: the same graphs (bench/graphs.py, built on `mxnet`), Gluon imperative / hybridized /
hybridized with static_alloc, Symbol executors for the bound workloads, and MXNet's own memory plan sizes."""
import os
import re
import sys
import time

sys.path.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")     # no timestamped "backend MKLDNN is activated" lines

import numpy as np  # noqa: E402

from bench import graphs, protocol, sparse, spec  # noqa: E402
from bench.protocol import Case, NotApplicable  # noqa: E402

IMPL = "mxnet"


def _mx():
    import mxnet as mx
    return mx


def _sync(mx):
    return lambda _last=None: mx.nd.waitall()


def _fill(arrays, rs, scale=0.1):
    for name, arr in arrays.items():
        if arr is None:
            continue
        if name.endswith("moving_var") or name.endswith("gamma"):
            arr[:] = 1
        elif name.endswith("moving_mean") or name.endswith("beta"):
            arr[:] = 0
        elif name.endswith("label"):
            arr[:] = rs.randint(0, 10, size=arr.shape).astype(np.float32)
        else:
            arr[:] = rs.uniform(-scale, scale, size=arr.shape).astype(np.float32)


def _mlp(p, variants):
    mx = _mx()
    x = mx.nd.array(np.random.RandomState(0).uniform(0, 1, (p["batch"], spec.MLP_IN)).astype(np.float32))

    def make(hybridize, **flags):
        def factory():
            mx.random.seed(42)
            net = graphs.mlp_net(mx)
            if hybridize:
                net.hybridize(**flags)
            return Case(lambda: net(x), p["calls"], _sync(mx))
        return factory
    table = {"imperative": make(False), "hybridized": make(True),
             "static_alloc": make(True, static_alloc=True, static_shape=True)}
    return {v: table[v] for v in variants}


def _fcnet_train(p):
    mx = _mx()

    def factory():
        ex = graphs.fcnet(mx).simple_bind(mx.cpu(), data=(p["batch"], p["features"]))
        _fill(ex.arg_dict, np.random.RandomState(0))

        def step():
            ex.forward(is_train=True)
            ex.backward()
        return Case(step, p["calls"], _sync(mx))
    return {"fwd+bwd": factory}


def _elemwise(p):
    mx = _mx()
    xv = np.random.RandomState(0).uniform(-1, 1, tuple(p["shape"])).astype(np.float32)

    def symbol():
        ex = graphs.elemwise_chain(mx.sym, mx.sym.Variable("x")).bind(mx.cpu(), {"x": mx.nd.array(xv)})
        return Case(ex.forward, p["calls"], _sync(mx))

    def imperative():
        x = mx.nd.array(xv)
        return Case(lambda: graphs.elemwise_chain(mx.nd, x), p["calls"], _sync(mx))
    return {"symbol": symbol, "imperative": imperative}


def _inception(p):
    mx = _mx()
    shape = (p["batch"], 3, p["hw"], p["hw"])

    def make(train):
        def factory():
            ex = graphs.inception_a(mx).simple_bind(mx.cpu(), grad_req="write" if train else "null", data=shape)
            rs = np.random.RandomState(0)
            _fill(ex.arg_dict, rs)
            _fill(ex.aux_dict, rs)
            ex.arg_dict["data"][:] = rs.uniform(-1, 1, shape).astype(np.float32)
            if not train:
                return Case(lambda: ex.forward(is_train=False), p["calls"], _sync(mx))
            ograd = mx.nd.ones(ex.outputs[0].shape)

            def step():
                ex.forward(is_train=True)
                ex.backward(ograd)
            return Case(step, p["calls"], _sync(mx))
        return factory
    return {"inference": make(False), "training": make(True)}


def plan_mb(executor):
    """MXNet's own plan size: the 'Total N MB allocated' line of debug_str() (N = bytes >> 20, 4 B/element)."""
    m = re.search(r"Total (\d+) MB allocated", executor.debug_str())
    return int(m.group(1)) if m else None


def _memory(p):
    mx = _mx()
    out = {}
    for name, sym, shapes in graphs.memory_graphs(mx, p):
        out[name] = {}
        for mode, req in (("inference", "null"), ("training", "write")):
            ex = sym.simple_bind(mx.cpu(), grad_req=req, **shapes)
            out[name][mode] = {"plan_mb": plan_mb(ex)}
            del ex
    return {}, {"memory": out}


def _bind(p):
    """One call = one `simple_bind` of an already built long graph (grad_req 'null', or 'write': with gradients)."""
    mx = _mx()

    def make(kind, nodes, req):
        def factory():
            sym = graphs.bind_graph(mx, kind, nodes)
            return Case(lambda: sym.simple_bind(mx.cpu(), grad_req=req, data=tuple(p["data"])), p["calls"],
                        _sync(mx))
        return factory
    return {name: make(kind, nodes, req) for name, kind, nodes, req in spec.bind_variants(p)}


def build(workload, p):
    if workload == "mlp1":
        return _mlp(p, ("imperative", "hybridized", "static_alloc"))
    if workload in ("mlp64", "mlp1024"):
        return _mlp(p, ("hybridized", "static_alloc"))
    if workload == "fcnet-train":
        return _fcnet_train(p)
    if workload == "elemwise10":
        return _elemwise(p)
    if workload == "inception":
        return _inception(p)
    if workload == "bind":
        return _bind(p)
    if workload == "memory":
        return _memory(p)
    if workload == "lstm":
        mx = _mx()
        return graphs.lstm_variants(mx, p, _sync(mx))
    if workload == "zoo":
        mx = _mx()
        return graphs.zoo_cases(mx, p, _sync(mx))
    if workload == "sparse":
        mx = _mx()
        return sparse.cases(mx, p, _sync(mx))
    raise NotApplicable("no MXNet version of %s" % workload)


def coldstart(p):
    """Fresh interpreter: import mxnet, the seed MLP hybridized, first call (waited for)."""
    t0 = time.perf_counter()
    import mxnet as mx
    t1 = time.perf_counter()
    mx.random.seed(42)
    net = graphs.mlp_net(mx)
    net.hybridize()
    x = mx.nd.array(np.random.RandomState(0).uniform(0, 1, (p["batch"], spec.MLP_IN)).astype(np.float32))
    net(x).wait_to_read()
    t2 = time.perf_counter()
    return {"import_s": t1 - t0, "first_call_s": t2 - t1, "total_s": t2 - t0}


def info():
    mx = _mx()
    out = {"impl": IMPL, "versions": {"mxnet": mx.__version__, "numpy": np.__version__},
           "blas": protocol.blas_info()}
    try:
        feats = mx.runtime.Features()
        out["features"] = sorted(k for k in feats.keys() if feats.is_enabled(k) and
                                 any(s in k for s in ("BLAS", "MKL", "LAPACK", "OPENMP", "SSE", "AVX", "F16C")))
    except Exception as e:  # noqa: BLE001
        out["features"] = "unknown: %s" % e
    return out


if __name__ == "__main__":
    sys.exit(protocol.main(sys.modules[__name__]))
