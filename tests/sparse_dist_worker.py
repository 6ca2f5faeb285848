"""One worker of the 2-process jobs tests/test_sparse_gluon.py starts with `python -m dataflow.launch -n 2`.

`python tests/sparse_dist_worker.py SCENARIO OUTDIR` writes OUTDIR/rank<r>.npz. Not collected by pytest.
- `store`: row_sparse pushes to a dist_sync store (rank r pushes rows ROWS[r] of value r + 1 from two contexts),
  without and with an SGD optimizer, a list push mixing a row_sparse and a dense key, and row_sparse_pull.
- `trainer`: contrib.nn.SparseEmbedding trained by a Trainer on dist_sync, rank r looking up the ids MXNet's
  recorded two-context run gave context r (tests/fixtures/mxnet-1.9.1/sparse_gluon/two_ctx.npz).
- `embedding`: a dense-weight nn.Embedding(sparse_grad=True) trained the same way (its row_sparse gradients
  reduced over the workers by the Trainer's list pushpull, then updated lazily): MXNet's two_ctx_dense.npz.
"""
import os
import sys

import numpy as np

import dataflow as mx
from dataflow.ndarray.sparse import _rsp

SHAPE = (6, 2)
ROWS = ([1, 4], [4, 5])
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "mxnet-1.9.1", "sparse_gluon",
                       "two_ctx.npz")


def pushed(rank, ctx):
    rows = np.array(ROWS[rank])
    return _rsp(np.full((len(rows),) + SHAPE[1:], rank + 1.0, np.float32), rows, SHAPE, ctx)


def store(kv):
    out = {}
    kv.init(0, mx.nd.zeros(SHAPE))
    kv.push(0, [pushed(kv.rank, mx.cpu(0)), pushed(kv.rank, mx.cpu(1))])
    dense = mx.nd.zeros(SHAPE)
    kv.pull(0, out=dense)
    out["summed"] = dense.asnumpy()
    kv.init(1, mx.nd.ones(SHAPE))
    kv.init(2, mx.nd.ones(SHAPE))
    kv.set_optimizer(mx.optimizer.create("sgd", learning_rate=0.1, momentum=0.9, wd=0.5))
    kv.push([1, 2], [pushed(kv.rank, mx.cpu()), mx.nd.full(SHAPE, kv.rank + 1.0)])
    rows = mx.nd.sparse.zeros("row_sparse", SHAPE)
    kv.row_sparse_pull(1, out=rows, row_ids=mx.nd.array([5, 0, 4]))
    out["pulled_idx"], out["pulled_data"] = rows.indices.asnumpy(), rows.data.asnumpy()
    kv.pull(1, out=dense)
    out["updated"] = dense.asnumpy()
    kv.pull(2, out=dense)
    out["updated_dense"] = dense.asnumpy()
    return out


def trainer(kv):
    rec = np.load(FIXTURE)
    emb = mx.gluon.contrib.nn.SparseEmbedding(*rec["init"].shape, prefix="emb_")
    emb.initialize()
    emb.collect_params().load_dict({"emb_weight": mx.nd.array(rec["init"])})
    train = mx.gluon.Trainer(emb.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01},
                             kvstore=kv)
    out = {}
    for k in range(3):
        with mx.autograd.record():
            loss = (emb(mx.nd.array(rec["ids%d_%d" % (k, kv.rank)])) ** 2).sum()
        loss.backward()
        train.step(2)
        out["w%d" % k] = emb.weight._reduce().asnumpy()
    return out


def embedding(kv):
    rec = np.load(FIXTURE)
    emb = mx.gluon.nn.Embedding(*rec["init"].shape, sparse_grad=True, prefix="emb_")
    emb.initialize()
    emb.weight.set_data(mx.nd.array(rec["init"]))
    train = mx.gluon.Trainer(emb.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01},
                             kvstore=kv)
    out = {}
    for k in range(3):
        with mx.autograd.record():
            loss = (emb(mx.nd.array(rec["ids%d_%d" % (k, kv.rank)])) ** 2).sum()
        loss.backward()
        assert emb.weight.grad().stype == "row_sparse"
        train.step(2)
        out["w%d" % k] = emb.weight.data().asnumpy()
    return out


def main(scenario, outdir):
    kv = mx.kv.create("dist_sync")
    out = {"store": store, "trainer": trainer, "embedding": embedding}[scenario](kv)
    np.savez(os.path.join(outdir, "rank%d.npz" % kv.rank), **out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
