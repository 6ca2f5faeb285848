"""One worker of the 2-process jobs tests/test_kvstore_dist.py starts with `python -m dataflow.launch -n 2`.

`python tests/dist_worker.py SCENARIO OUTDIR`: each scenario writes what the test checks to OUTDIR/rank<r>.npz or
prints it. Not collected by pytest (no test_ prefix)."""
import os
import sys
import time

import numpy as np

import dataflow as mx
from dataflow.base import MXNetError
from scheduler.engine import get_engine

BATCH, FEATURES, STEPS = 4, 5, 3


def data(rank=None):
    """The fixed data set: 2 * BATCH samples; worker r trains on rows [r*BATCH, (r+1)*BATCH)."""
    rng = np.random.RandomState(42)
    x = rng.randn(2 * BATCH, FEATURES).astype(np.float32)
    y = rng.randint(0, 3, 2 * BATCH).astype(np.float32)
    return (x, y) if rank is None else (x[rank * BATCH:(rank + 1) * BATCH], y[rank * BATCH:(rank + 1) * BATCH])


def net(seed):
    mx.random.seed(seed)
    model = mx.gluon.nn.HybridSequential()
    model.add(mx.gluon.nn.Dense(6, activation="relu"), mx.gluon.nn.Dense(3))
    model.initialize(mx.init.Xavier())
    return model


def train(model, trainer, x, y, steps=STEPS):
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    for _ in range(steps):
        with mx.autograd.record():
            loss = loss_fn(model(mx.nd.array(x)), mx.nd.array(y))
        loss.backward()
        trainer.step(BATCH)
    return {name: p.data().asnumpy() for name, p in model.collect_params().items()}


def module_fit(kvstore, x, y, epochs=2):
    """Module.fit of a small softmax net, initial weights from seed 7, one batch per epoch."""
    data_sym = mx.sym.var("data")
    out = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(mx.sym.Activation(
        mx.sym.FullyConnected(data_sym, num_hidden=6, name="fc1"), act_type="tanh"), num_hidden=3, name="fc2"),
        name="softmax")
    mod = mx.mod.Module(out)
    it = mx.io.NDArrayIter(x, y, batch_size=len(x))
    mx.random.seed(7)
    mod.fit(it, num_epoch=epochs, kvstore=kvstore, optimizer="sgd",
            optimizer_params={"learning_rate": 0.5, "momentum": 0.9}, initializer=mx.init.Xavier())
    return mod


def bucket_inputs(rank, keys=40):
    """Worker `rank`'s gradients of the buckets scenario: per key, one array on each of 2 contexts; shapes and
    dtypes (float32, float64, float16 in turn) the same on every worker."""
    shapes = np.random.RandomState(5).randint(1, 7, size=(keys, 2))
    rs = np.random.RandomState(100 + rank)
    dtypes = ("float32", "float64", "float16")
    return [[rs.randn(*shape).astype(dtypes[k % 3]) for _ in range(2)] for k, shape in enumerate(shapes)]


def list_pushpull(outdir):
    """One list pushpull of many keys (DATAFLOW_KVSTORE_BUCKET_BYTES makes many buckets) and one pushpull per key
    on a second store, the same on a horovod store, and a list push whose keys differ between the workers."""
    kv, per_key_kv, hv = mx.kv.create("dist_sync"), mx.kv.create("dist_sync"), mx.kv.create("horovod")
    inputs = bucket_inputs(kv.rank)
    keys = list(range(len(inputs)))

    def arrays():
        return [[mx.nd.array(v, dtype=v.dtype, ctx=mx.cpu(c)) for c, v in enumerate(vs)] for vs in inputs]

    for store in (kv, per_key_kv):
        store.init(keys, [mx.nd.zeros(vs[0].shape, dtype=vs[0].dtype) for vs in inputs])
    listed, per_key, horovod = arrays(), arrays(), arrays()
    kv.pushpull(keys, listed)
    for k in keys:
        per_key_kv.pushpull(k, per_key[k])
    hv.pushpull(keys, horovod)
    try:
        kv.pushpull(keys[kv.rank:], listed[kv.rank:])        # rank 1 leaves key 0 out
        print("rank %d: no error" % kv.rank, flush=True)
    except MXNetError as e:
        print("rank %d: %s" % (kv.rank, e), flush=True)
    out = {}
    for name, got in (("listed", listed), ("per_key", per_key), ("horovod", horovod)):
        for k in keys:
            for c in range(2):
                out["%s/%d/%d" % (name, k, c)] = got[k][c].asnumpy()
    np.savez(os.path.join(outdir, "rank%d.npz" % kv.rank), **out)


def deep_net(seed):
    """Four Dense layers, hybridized: with small buckets its backward is cut into several pushes."""
    mx.random.seed(seed)
    model = mx.gluon.nn.HybridSequential()
    model.add(mx.gluon.nn.Dense(16, activation="relu"), mx.gluon.nn.Dense(12, activation="tanh"),
              mx.gluon.nn.Dense(8, activation="relu"), mx.gluon.nn.Dense(3))
    model.initialize(mx.init.Xavier())
    model.hybridize()
    return model


def overlapped(outdir):
    """Train `deep_net` with the reduction overlapping a segmented backward, and again with overlap off; count the
    segmented backwards. DATAFLOW_KVSTORE_BUCKET_BYTES (set by the test) makes buckets of a layer or two."""
    from scheduler import segments
    pushes = []
    push_ranges = segments.push_ranges

    def counting(run, bounds, *rest):
        pushes.append(len(bounds) - 1)
        return push_ranges(run, bounds, *rest)
    segments.push_ranges = counting
    out = {}
    for overlap in ("1", "0"):
        os.environ["DATAFLOW_KVSTORE_OVERLAP"] = overlap
        kv = mx.kv.create("dist_sync")
        model = deep_net(seed=0)
        trainer = mx.gluon.Trainer(model.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9}, kvstore=kv)
        params = train(model, trainer, *data(kv.rank))
        out.update({"overlap%s/%d" % (overlap, k): v for k, v in enumerate(params.values())})
        out["pushes%s" % overlap] = np.array(pushes)
        pushes.clear()
    np.savez(os.path.join(outdir, "rank%d.npz" % kv.rank), **out)


def die_while_overlapping(hang=False):
    """Rank 1 dies after its second backward, before reducing (or, with `hang`, its backward stalls in an engine op
    while its Trainer queues the reduction); rank 0's reduction of that step must fail, not hang."""
    kv = mx.kv.create("dist_sync")
    model = deep_net(seed=0)
    trainer = mx.gluon.Trainer(model.collect_params(), "sgd", {"learning_rate": 0.1}, kvstore=kv)
    x, y = data(kv.rank)
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    for step in range(2):
        with mx.autograd.record():
            loss = loss_fn(model(mx.nd.array(x)), mx.nd.array(y))
        loss.backward()
        if step == 1 and kv.rank == 1:
            if not hang:
                os._exit(3)
            grad = next(iter(model.collect_params().values())).grad()
            get_engine().push(lambda: time.sleep(120), [], [grad._var], "a stalled backward")
        trainer.step(BATCH)
    mx.nd.waitall()
    print("rank 0 finished", flush=True)


def two_bit(outdir):
    """MXNet's recorded 2-bit pushes (tests/fixtures/mxnet-1.9.1/kvstore/, two contexts per push): worker r pushes
    context r's value, one array per key, so the quantised values travel packed; once per key and once as a list
    pushpull of two keys (overlapped), counting the packed sends."""
    from dataflow.kvstore import compression
    rec = np.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "mxnet-1.9.1", "kvstore",
                               "kvstore.npz"))
    packed = []
    encode = compression.TwoBitWire.encode
    compression.TwoBitWire.encode = lambda self, values: packed.append(values.size) or encode(self, values)
    per_key, listed = mx.kv.create("dist_sync"), mx.kv.create("dist_sync")
    shape = rec["2bit/pulls"].shape[1:]
    for kv in (per_key, listed):
        kv.set_gradient_compression({"type": "2bit", "threshold": 0.5})
        kv.init([0, 1], [mx.nd.zeros(shape), mx.nd.zeros(shape)])
    out = {}
    for step, pushes in enumerate(rec["2bit/pushes"]):
        per_key.push(0, mx.nd.array(pushes[per_key.rank]))
        pulled = mx.nd.zeros(shape)
        per_key.pull(0, out=pulled)
        arrays = [mx.nd.array(pushes[listed.rank]), mx.nd.array(pushes[listed.rank])]
        listed.pushpull([0, 1], arrays)
        out["per_key/%d" % step] = pulled.asnumpy()
        for k in range(2):
            out["listed/%d/%d" % (step, k)] = arrays[k].asnumpy()
    out["packed"] = np.array(packed)
    np.savez(os.path.join(outdir, "rank%d.npz" % per_key.rank), **out)


def main(scenario, outdir):
    if scenario == "trainer":
        kv = mx.kv.create("dist_sync")
        model = net(seed=0)                 # the same seed on every worker, as MXNet's examples do
        trainer = mx.gluon.Trainer(model.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9}, kvstore=kv)
        params = train(model, trainer, *data(kv.rank))
        trainer.save_states(os.path.join(outdir, "states%d" % kv.rank))
        # different initial weights: the Trainer's broadcast from rank 0 (before its first update) makes them equal;
        # the first gradient is each worker's own, as in MXNet
        other = net(seed=1 + kv.rank)
        other_trainer = mx.gluon.Trainer(other.collect_params(), "adam", kvstore="dist_device_sync")
        broadcast = train(other, other_trainer, *data(kv.rank), steps=2)
        np.savez(os.path.join(outdir, "rank%d.npz" % kv.rank), rank=kv.rank, workers=kv.num_workers,
                 worker_id=int(os.environ["DMLC_WORKER_ID"]), num_worker=int(os.environ["DMLC_NUM_WORKER"]),
                 **params, **{"broadcast/" + k: v for k, v in broadcast.items()})
    elif scenario == "module":
        kv = mx.kv.create("dist_sync")
        mod = module_fit(kv, *data(kv.rank))
        arg_params, _ = mod.get_params()
        np.savez(os.path.join(outdir, "rank%d.npz" % kv.rank), **{k: v.asnumpy() for k, v in arg_params.items()})
    elif scenario == "store":
        kv = mx.kv.create("dist_sync")
        kv.init("w", mx.nd.ones((2, 3)) * (kv.rank + 1))        # rank 0's value wins
        got_init = mx.nd.zeros((2, 3))
        kv.pull("w", out=got_init)
        kv.push("w", [mx.nd.ones((2, 3)) * (kv.rank + 1), mx.nd.ones((2, 3), ctx=mx.cpu(1))])
        summed = mx.nd.zeros((2, 3))
        kv.pull("w", out=summed)
        kv.set_optimizer(mx.optimizer.SGD(learning_rate=0.5))
        kv.push("w", mx.nd.ones((2, 3)))
        updated = mx.nd.zeros((2, 3))
        kv.pull("w", out=updated)
        hv = mx.kv.create("horovod")
        value = mx.nd.ones((3,)) * (kv.rank + 10)
        hv.pushpull("g", value)
        kv.barrier()
        np.savez(os.path.join(outdir, "rank%d.npz" % kv.rank), init=got_init.asnumpy(), summed=summed.asnumpy(),
                 updated=updated.asnumpy(), horovod=value.asnumpy())
    elif scenario == "buckets":
        list_pushpull(outdir)
    elif scenario == "mismatch":
        kv = mx.kv.create("dist_sync")
        try:
            kv.init("w", mx.nd.ones((3,) if kv.rank == 0 else (4,)))
        except MXNetError as e:
            print("rank %d: %s" % (kv.rank, e), flush=True)
            return
        print("rank %d: no error" % kv.rank, flush=True)
    elif scenario == "die":
        kv = mx.kv.create("dist_sync")
        kv.init(0, mx.nd.zeros((4,)))
        kv.push(0, mx.nd.ones((4,)))
        if kv.rank == 1:
            os._exit(3)                      # dies without a word; rank 0 waits in its next push
        kv.push(0, mx.nd.ones((4,)))
        print("rank 0 finished", flush=True)
    elif scenario == "twobit":
        two_bit(outdir)
    elif scenario == "overlap":
        overlapped(outdir)
    elif scenario in ("die_overlap", "hang_overlap"):
        die_while_overlapping(hang=scenario == "hang_overlap")
    else:
        raise SystemExit("unknown scenario %r" % scenario)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
