"""numpy peer: the workloads written with numpy (preallocated outputs, `out=` everywhere), and the floors:
the MLP's GEMMs alone with the same BLAS, one copy of the elementwise array (the memory-bandwidth floor)."""
import os
import sys

sys.path.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

from bench import protocol, sparse, spec  # noqa: E402
from bench.protocol import Case, NotApplicable  # noqa: E402

IMPL = "numpy"


def _weights(rs, sizes):
    ws, bs = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        ws.append(rs.uniform(-0.07, 0.07, (n_out, n_in)).astype(np.float32))
        bs.append(np.zeros(n_out, np.float32))
    return ws, bs


def _mlp(p, floor_too):
    rs = np.random.RandomState(0)
    ws, bs = _weights(rs, (spec.MLP_IN,) + spec.MLP_HIDDEN)
    x = rs.uniform(0, 1, (p["batch"], spec.MLP_IN)).astype(np.float32)
    hs = [np.empty((p["batch"], n), np.float32) for n in spec.MLP_HIDDEN]
    wts = [w.T for w in ws]          # views: BLAS reads them transposed, as FullyConnected's data @ weight.T

    def forward():
        a = x
        for i, (wt, b, h) in enumerate(zip(wts, bs, hs)):
            np.dot(a, wt, out=h)
            h += b
            if i < len(hs) - 1:
                np.maximum(h, 0, out=h)
            a = h
        return a

    def gemms():
        a = x
        for wt, h in zip(wts, hs):
            np.dot(a, wt, out=h)
            a = h
        return a
    out = {"numpy": lambda: Case(forward, p["calls"])}
    if floor_too:
        out["GEMM floor"] = lambda: Case(gemms, p["calls"], note="the MLP's 3 GEMMs back to back, nothing else")
    return out


def _fcnet_train(p):
    rs = np.random.RandomState(0)
    n, d = p["batch"], p["features"]
    h1, h2 = spec.FCNET_HIDDEN
    x = rs.uniform(-1, 1, (n, d)).astype(np.float32)
    w1 = rs.normal(0, 0.1, (h1, d)).astype(np.float32)
    b1 = rs.normal(0, 0.1, h1).astype(np.float32)
    w2 = rs.normal(0, 0.1, (h2, h1)).astype(np.float32)
    b2 = rs.normal(0, 0.1, h2).astype(np.float32)
    label = rs.randint(0, h2, n)
    rows = np.arange(n)
    z1, a1, z2 = (np.empty((n, h1), np.float32), np.empty((n, h1), np.float32), np.empty((n, h2), np.float32))
    gw1, gw2, gx = np.empty_like(w1), np.empty_like(w2), np.empty_like(x)
    da = np.empty((n, h1), np.float32)

    def step():
        np.dot(x, w1.T, out=z1)
        np.add(z1, b1, out=z1)
        np.maximum(z1, 0, out=a1)
        np.dot(a1, w2.T, out=z2)
        np.add(z2, b2, out=z2)
        np.subtract(z2, z2.max(axis=1, keepdims=True), out=z2)     # softmax in place: z2 is the output
        np.exp(z2, out=z2)
        np.divide(z2, z2.sum(axis=1, keepdims=True), out=z2)
        dz = z2.copy()                                  # SoftmaxOutput's gradient: p - onehot(label)
        dz[rows, label] -= 1
        np.dot(dz.T, a1, out=gw2)
        gb2 = dz.sum(axis=0)
        np.dot(dz, w2, out=da)
        np.multiply(da, z1 > 0, out=da)
        np.dot(da.T, x, out=gw1)
        gb1 = da.sum(axis=0)
        np.dot(da, w1, out=gx)
        return gb1, gb2
    return {"numpy": lambda: Case(step, p["calls"])}


def _elemwise(p):
    x = np.random.RandomState(0).uniform(-1, 1, tuple(p["shape"])).astype(np.float32)
    y = np.empty_like(x)
    f32 = np.float32

    def chain():
        np.multiply(x, f32(0.5), out=y)
        for op, arg in spec.ELEMWISE_CHAIN[1:]:
            if op == "add_scalar":
                np.add(y, f32(arg), out=y)
            elif op == "sub_scalar":
                np.subtract(y, f32(arg), out=y)
            elif op == "mul_input":
                np.multiply(y, x, out=y)
            elif op == "sigmoid":
                np.negative(y, out=y)
                np.exp(y, out=y)
                np.add(y, f32(1), out=y)
                np.reciprocal(y, out=y)
            else:
                getattr(np, op)(y, out=y)
        return y
    assert spec.ELEMWISE_CHAIN[0][0] == "mul_scalar"
    return {"numpy": lambda: Case(chain, p["calls"], note="in place, out= on one buffer"),
            "copy floor": lambda: Case(lambda: np.copyto(y, x), p["calls"],
                                       note="one copy of the array: read 4 B + write 4 B per element")}


def build(workload, p):
    if workload == "mlp1":
        return _mlp(p, False)
    if workload in ("mlp64", "mlp1024"):
        return _mlp(p, True)
    if workload == "fcnet-train":
        return _fcnet_train(p)
    if workload == "elemwise10":
        return _elemwise(p)
    if workload == "sparse":
        return sparse.scipy_cases(p)
    raise NotApplicable("no numpy version of %s" % workload)


def info():
    return {"impl": IMPL, "versions": {"numpy": np.__version__}, "blas": protocol.blas_info()}


if __name__ == "__main__":
    sys.exit(protocol.main(sys.modules[__name__]))
