"""Real MXNet 1.9.1 peer: the same graphs (bench/graphs.py, built on `mxnet`), Gluon imperative / hybridized /
hybridized with static_alloc, Symbol executors for the bound workloads, and MXNet's own memory plan sizes."""
import os
import re
import sys
import time

sys.path.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")     # no timestamped "backend MKLDNN is activated" lines

import numpy as np  # noqa: E402

from bench import graphs, mx_cases, protocol, spec  # noqa: E402
from bench.protocol import NotApplicable  # noqa: E402

IMPL = "mxnet"


def _mx():
    import mxnet as mx
    return mx


def _sync(mx):
    return lambda _last=None: mx.nd.waitall()


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


def build(workload, p):
    if workload in mx_cases.SHARED:
        mx = _mx()
        return mx_cases.build(mx, workload, p, _sync(mx), ("imperative", "hybridized", "static_alloc"))
    if workload == "memory":
        return _memory(p)
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
