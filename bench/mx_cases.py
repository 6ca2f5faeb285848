"""The timed cases of the workloads written against MXNet's API, built on whichever `mx` is passed in.

bench/ours.py passes `dataflow`, bench/peers/mxnet_runner.py passes real `mxnet` (it runs in MXNet's venv, so
nothing here imports dataflow); `sync` is that runner's wait for all pending work. Each workload maps variant
names to factories that build a `Case` (bench/protocol.py).
"""
import numpy as np

from bench import graphs, sparse, spec
from bench.protocol import Case

SHARED = ("mlp1", "mlp64", "mlp1024", "fcnet-train", "elemwise10", "inception", "bind", "lstm", "zoo", "sparse")


def build(mx, workload, p, sync, mlp_variants):
    """{variant: factory} of a workload in SHARED; `mlp_variants` are the MLP variants of mlp1 (the larger MLPs
    run the hybridized ones only)."""
    if workload == "mlp1":
        return _mlp(mx, p, sync, mlp_variants)
    if workload in ("mlp64", "mlp1024"):
        return _mlp(mx, p, sync, [v for v in mlp_variants if v != "imperative"])
    if workload == "fcnet-train":
        return _fcnet_train(mx, p, sync)
    if workload == "elemwise10":
        return _elemwise(mx, p, sync)
    if workload == "inception":
        return _inception(mx, p, sync)
    if workload == "bind":
        return _bind(mx, p, sync)
    if workload == "lstm":
        return graphs.lstm_variants(mx, p, sync)
    if workload == "zoo":
        return graphs.zoo_cases(mx, p, sync)
    if workload == "sparse":
        return sparse.cases(mx, p, sync)
    raise ValueError("%r is not a shared workload" % workload)


def _uniform(rs, shape, lo=-1.0, hi=1.0):
    return rs.uniform(lo, hi, size=shape).astype(np.float32)


def fill(arrays, rs, scale=0.1):
    """Fill bound arrays with small random values (moving variances and gammas with ones)."""
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
            arr[:] = _uniform(rs, arr.shape, -scale, scale)


def _mlp(mx, p, sync, variants):
    x = mx.nd.array(_uniform(np.random.RandomState(0), (p["batch"], spec.MLP_IN), 0, 1))

    def make(hybridize, **flags):
        def factory():
            mx.random.seed(42)
            net = graphs.mlp_net(mx)
            if hybridize:
                net.hybridize(**flags)
            return Case(lambda: net(x), p["calls"], sync)
        return factory
    table = {"imperative": make(False), "hybridized": make(True),
             "static_alloc": make(True, static_alloc=True, static_shape=True)}
    return {v: table[v] for v in variants}


def _fcnet_train(mx, p, sync):
    def factory():
        ex = graphs.fcnet(mx).simple_bind(mx.cpu(), data=(p["batch"], p["features"]))
        fill(ex.arg_dict, np.random.RandomState(0))

        def step():
            ex.forward(is_train=True)
            ex.backward()
        return Case(step, p["calls"], sync)
    return {"fwd+bwd": factory}


def _elemwise(mx, p, sync):
    xv = _uniform(np.random.RandomState(0), tuple(p["shape"]))

    def symbol():
        ex = graphs.elemwise_chain(mx.sym, mx.sym.Variable("x")).bind(mx.cpu(), {"x": mx.nd.array(xv)})
        return Case(ex.forward, p["calls"], sync)

    def imperative():
        x = mx.nd.array(xv)
        return Case(lambda: graphs.elemwise_chain(mx.nd, x), p["calls"], sync)
    return {"symbol": symbol, "imperative": imperative}


def _inception(mx, p, sync):
    shape = (p["batch"], 3, p["hw"], p["hw"])

    def make(train):
        def factory():
            ex = graphs.inception_a(mx).simple_bind(mx.cpu(), grad_req="write" if train else "null", data=shape)
            rs = np.random.RandomState(0)
            fill(ex.arg_dict, rs)
            fill(ex.aux_dict, rs)
            ex.arg_dict["data"][:] = _uniform(rs, shape)
            if not train:
                return Case(lambda: ex.forward(is_train=False), p["calls"], sync)
            ograd = mx.nd.ones(ex.outputs[0].shape)

            def step():
                ex.forward(is_train=True)
                ex.backward(ograd)
            return Case(step, p["calls"], sync)
        return factory
    return {"inference": make(False), "training": make(True)}


def _bind(mx, p, sync):
    """One call = one `simple_bind` of an already built long graph (grad_req 'null', or 'write': with gradients)."""
    def make(kind, nodes, req):
        def factory():
            sym = graphs.bind_graph(mx, kind, nodes)
            return Case(lambda: sym.simple_bind(mx.cpu(), grad_req=req, data=tuple(p["data"])), p["calls"], sync)
        return factory
    return {name: make(kind, nodes, req) for name, kind, nodes, req in spec.bind_variants(p)}
