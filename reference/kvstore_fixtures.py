"""Record MXNet 1.9.1's single-process KVStore semantics for tests/test_kvstore.py.

Run with the oracle: /work/mxvenv/bin/python reference/kvstore_fixtures.py
Writes tests/fixtures/mxnet-1.9.1/kvstore/kvstore.npz: for each case, the values pulled after each action.
"""
import os

import mxnet as mx
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "kvstore")
rng = np.random.RandomState(0)
record = {}
shape = (3, 4)
ctxs = [mx.cpu(0), mx.cpu(1)]

for kind in ("local", "device"):
    # push of a list sums over the contexts; without an updater the store takes the sum
    kv = mx.kv.create(kind)
    a = rng.randn(*shape).astype(np.float32)
    kv.init(3, mx.nd.array(a))
    vals = [rng.randn(*shape).astype(np.float32) for _ in ctxs]
    record["%s/init" % kind] = a
    record["%s/push_vals" % kind] = np.stack(vals)
    kv.push(3, [mx.nd.array(v, ctx=c) for v, c in zip(vals, ctxs)])
    out = [mx.nd.zeros(shape, ctx=c) for c in ctxs]
    kv.pull(3, out=out)
    record["%s/after_push" % kind] = np.stack([o.asnumpy() for o in out])
    # an optimizer on the store: sgd with momentum applied to the summed push
    kv2 = mx.kv.create(kind)
    kv2.set_optimizer(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, wd=0.01, rescale_grad=0.5))
    kv2.init("w", mx.nd.array(a))
    pulled = []
    for step in range(3):
        g = [mx.nd.array(v * (step + 1), ctx=c) for v, c in zip(vals, ctxs)]
        kv2.push("w", g)
        o = mx.nd.zeros(shape)
        kv2.pull("w", out=o)
        pulled.append(o.asnumpy())
    record["%s/sgd_pulls" % kind] = np.stack(pulled)
    # pushpull with out, and broadcast
    kv3 = mx.kv.create(kind)
    kv3.init(7, mx.nd.zeros(shape))
    out = [mx.nd.zeros(shape, ctx=c) for c in ctxs]
    kv3.pushpull(7, [mx.nd.array(v, ctx=c) for v, c in zip(vals, ctxs)], out=out)
    record["%s/pushpull" % kind] = np.stack([o.asnumpy() for o in out])
    b = [mx.nd.zeros(shape, ctx=c) for c in ctxs]
    kv3.broadcast(9, mx.nd.array(a), out=b)
    record["%s/broadcast" % kind] = np.stack([o.asnumpy() for o in b])
    record["%s/type_rank_workers" % kind] = np.array([kv3.rank, kv3.num_workers])

# 2-bit gradient compression on 'device': quantised on each context with a residual, summed
kv = mx.kv.create("device")
kv.set_gradient_compression({"type": "2bit", "threshold": 0.5})
kv.init(0, mx.nd.zeros(shape))
steps = [[rng.uniform(-1, 1, shape).astype(np.float32) for _ in ctxs] for _ in range(4)]
pulled = []
for vals in steps:
    kv.push(0, [mx.nd.array(v, ctx=c) for v, c in zip(vals, ctxs)])
    o = mx.nd.zeros(shape)
    kv.pull(0, out=o)
    pulled.append(o.asnumpy())
record["2bit/pushes"] = np.array(steps)
record["2bit/pulls"] = np.stack(pulled)

os.makedirs(OUT, exist_ok=True)
np.savez_compressed(os.path.join(OUT, "kvstore.npz"), **record)
for k, v in record.items():
    print(k, v.shape)
