"""Record MXNet 1.9.1's training with row_sparse gradients for tests/test_sparse_training.py.

Run with the oracle: `/work/mxvenv/bin/python reference/sparse_training_fixtures.py`. Writes, under
tests/fixtures/mxnet-1.9.1/sparse_training/:
  lazy_<case>.npz   an optimizer's steps on a dense (10, 4) weight (or, for ftrl_rsp, a row_sparse weight with all
                    rows present) with row_sparse gradients: init, per step k g{k}_data/g{k}_idx, and after each step
                    w{k} and the states s{k}_{j}; the optimizer's kwargs are in cases.json
  cases.json        {case: {"optimizer": name, "kwargs": {...}, "steps": n, "error": text or absent}}
  gluon.npz         Embedding(sparse_grad=True): x, weight w0, the grad's indices/data after backward of
                    sum(emb(x)**2), and the weights after Trainer('sgd', momentum 0.9) and Trainer('adam') steps
  kvstore.npz       kv 'local': init with a row_sparse array, row_sparse_pull with row_ids: indices and data pulled
"""
import json
import os

os.environ["MXNET_MKLDNN_ENABLED"] = "0"

import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "mxnet-1.9.1",
                   "sparse_training")
SHAPE = (10, 4)
STEPS = [[1, 4, 7], [4, 5], [], [0, 4, 9]]      # the rows of each step's gradient (one step has none)

CASES = {
    "sgd": ("sgd", dict(learning_rate=0.1, wd=0.01, rescale_grad=0.5)),
    "sgd_nolazy": ("sgd", dict(learning_rate=0.1, wd=0.01, rescale_grad=0.5, lazy_update=False)),
    "sgd_clip": ("sgd", dict(learning_rate=0.1, wd=0.01, clip_gradient=0.3)),
    "sgd_mom": ("sgd", dict(learning_rate=0.1, momentum=0.9, wd=0.01, rescale_grad=0.5)),
    "sgd_mom_nolazy": ("sgd", dict(learning_rate=0.1, momentum=0.9, wd=0.01, lazy_update=False)),
    "sgd_mom_clip": ("sgd", dict(learning_rate=0.1, momentum=0.9, wd=0.01, clip_gradient=0.3)),
    "adam": ("adam", dict(learning_rate=0.05, wd=0.01, rescale_grad=0.5)),
    "adam_nolazy": ("adam", dict(learning_rate=0.05, wd=0.01, lazy_update=False)),
    "adam_clip": ("adam", dict(learning_rate=0.05, wd=0.01, clip_gradient=0.3)),
    "adagrad": ("adagrad", dict(learning_rate=0.1, rescale_grad=0.5)),
    "adagrad_clip": ("adagrad", dict(learning_rate=0.1, clip_gradient=0.3)),
    "adagrad_wd": ("adagrad", dict(learning_rate=0.1, wd=0.01)),
    "ftrl": ("ftrl", dict(learning_rate=0.1, wd=0.01, rescale_grad=0.5)),
    "ftrl_rsp": ("ftrl", dict(learning_rate=0.1, wd=0.01, lamda1=0.001, clip_gradient=0.3)),
}


def _states(state):
    if state is None:
        return []
    return list(state) if isinstance(state, (tuple, list)) else [state]


def lazy_cases(rng):
    meta = {}
    for case, (name, kwargs) in CASES.items():
        w0 = rng.uniform(-1, 1, SHAPE).astype(np.float32)
        rec = {"init": w0}
        weight = mx.nd.array(w0)
        if case == "ftrl_rsp":
            weight = weight.tostype("row_sparse")
        opt = mx.optimizer.create(name, **kwargs)
        state = opt.create_state(0, weight)
        info = {"optimizer": name, "kwargs": kwargs, "steps": len(STEPS)}
        try:
            for k, rows in enumerate(STEPS):
                data = rng.uniform(-1, 1, (len(rows), SHAPE[1])).astype(np.float32)
                idx = np.array(rows, dtype=np.int64)
                rec["g%d_data" % k], rec["g%d_idx" % k] = data, idx
                grad = mx.nd.sparse.row_sparse_array((data, idx), shape=SHAPE)
                opt.update(0, weight, grad, state)
                rec["w%d" % k] = weight.asnumpy()
                for j, s in enumerate(_states(state)):
                    rec["s%d_%d" % (k, j)] = s.asnumpy()
        except mx.base.MXNetError as e:
            info["error"] = str(e).split("\n")[2] if len(str(e).split("\n")) > 2 else str(e)
        meta[case] = info
        np.savez(os.path.join(OUT, "lazy_%s.npz" % case), **rec)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)


def gluon_case(rng):
    rec = {}
    x = np.array([[1, 3, 1], [6, 0, 3]], dtype=np.float32)
    w0 = rng.uniform(-1, 1, (8, 3)).astype(np.float32)
    rec["x"], rec["w0"] = x, w0
    for opt, kwargs in (("sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01}),
                        ("adam", {"learning_rate": 0.05})):
        emb = mx.gluon.nn.Embedding(8, 3, sparse_grad=True)
        emb.initialize()
        emb.weight.set_data(mx.nd.array(w0))
        trainer = mx.gluon.Trainer(emb.collect_params(), opt, kwargs)
        for step in range(3):
            xs = mx.nd.array(x if step != 1 else x[:1, :2])     # the second step sees fewer rows
            with mx.autograd.record():
                y = emb(xs)
                loss = (y * y).sum()
            loss.backward()
            grad = emb.weight.grad()
            assert grad.stype == "row_sparse"
            if step == 0 and opt == "sgd":
                rec["grad_idx"], rec["grad_data"] = grad.indices.asnumpy(), grad.data.asnumpy()
            trainer.step(2)
            rec["%s_w%d" % (opt, step)] = emb.weight.data().asnumpy()
    np.savez(os.path.join(OUT, "gluon.npz"), **rec)


def kvstore_case(rng):
    w = rng.uniform(-1, 1, (6, 2)).astype(np.float32)
    kv = mx.kv.create("local")
    kv.init("w", mx.nd.array(w).tostype("row_sparse"))
    out = mx.nd.sparse.zeros("row_sparse", (6, 2))
    row_ids = np.array([4, 1, 1, 5], dtype=np.float32)
    kv.row_sparse_pull("w", out=out, row_ids=mx.nd.array(row_ids))
    np.savez(os.path.join(OUT, "kvstore.npz"), w=w, row_ids=row_ids, indices=out.indices.asnumpy(),
             data=out.data.asnumpy())


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.RandomState(22)
    lazy_cases(rng)
    gluon_case(rng)
    kvstore_case(rng)
