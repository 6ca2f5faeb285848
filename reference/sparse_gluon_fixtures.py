"""Record MXNet 1.9.1's row_sparse Gluon parameters for tests/test_sparse_gluon.py.

Run with the oracle: `/work/mxvenv/bin/python reference/sparse_gluon_fixtures.py`. Writes, under
tests/fixtures/mxnet-1.9.1/sparse_gluon/:
  sparse_embedding.npz  contrib.nn.SparseEmbedding(8, 3) (stype and grad_stype 'row_sparse') loaded from w0 and trained
                        3 steps per optimizer case (see CASES) on one context: per step k ids{k}, the rows
                        row_sparse_data(ids) returned (<case>_pulled{k}_idx/_data), the output y, the gradient's
                        indices/data (<case>_grad{k}_idx/_data) and the whole weight after the step (<case>_w{k})
  two_ctx.npz           the same block from `init` on [cpu(0), cpu(1)] with SGD-momentum: per step k the ids of each
                        context c (ids{k}_{c}) and the weight after the step (w{k}); the kvstore sums the contexts'
                        gradients
  two_ctx_dense.npz     the same run with a dense-weight nn.Embedding(8, 3, sparse_grad=True): w{k} after each step
                        (the two contexts' row_sparse gradients summed, then a lazy update)
  saved.params          the 'sgd_mom' case's parameters saved after training (ParameterDict.save): MXNet writes the
                        row_sparse weight as a row_sparse record with every row
  hybrid.npz            a hybridized HybridSequential(Embedding(8, 3, sparse_grad=True)) with w0: the gradient of
                        sum(y * c) for ids [[2, 5, 2]] where c cancels row 2 (grad_idx/grad_data keep the zero row),
                        and the weight after one SGD step with momentum and wd (w1: the lazy update touches row 2)
  messages.json         MXNet's errors for data()/list_data()/row_sparse_data() of a row_sparse parameter, a second
                        Trainer, update_on_kvstore=False, and the hybridized use of a row_sparse parameter
"""
import json
import os

os.environ["MXNET_MKLDNN_ENABLED"] = "0"

import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "mxnet-1.9.1",
                   "sparse_gluon")
CASES = {"sgd_mom": ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01}),
         "adam": ("adam", {"learning_rate": 0.05, "wd": 0.01})}
IDS = [[[1, 4, 4, 6]], [[4, 2]], [[0, 1, 7, 7]]]
TWO_CTX_IDS = [([[1, 4]], [[4, 5, 5]]), ([[0]], [[2, 2]]), ([[1, 7]], [[7, 3]])]


def _error(call):
    try:
        call()
    except Exception as e:      # noqa: BLE001 - recording whatever MXNet raises
        return "%s: %s" % (type(e).__name__, e)
    return None


def _sparse_embedding(w0, ctx):
    emb = mx.gluon.contrib.nn.SparseEmbedding(*w0.shape, prefix="emb_")
    emb.initialize(ctx=ctx)
    emb.collect_params().load_dict({"emb_weight": mx.nd.array(w0)}, ctx=ctx)
    return emb


def two_contexts(w0):
    ctxs = [mx.cpu(0), mx.cpu(1)]
    emb = _sparse_embedding(w0, ctxs)
    trainer = mx.gluon.Trainer(emb.collect_params(), *CASES["sgd_mom"])
    two = {"init": w0}
    for k, per_ctx in enumerate(TWO_CTX_IDS):
        with mx.autograd.record():
            losses = [(emb(mx.nd.array(ids, ctx=c)) ** 2).sum() for ids, c in zip(per_ctx, ctxs)]
        mx.autograd.backward(losses)
        trainer.step(2)
        two["w%d" % k] = emb.weight._reduce().asnumpy()
        for c, ids in enumerate(per_ctx):
            two["ids%d_%d" % (k, c)] = np.array(ids, np.float32)
    np.savez(os.path.join(OUT, "two_ctx.npz"), **two)

    emb = mx.gluon.nn.Embedding(*w0.shape, sparse_grad=True, prefix="emb_")
    emb.initialize(ctx=ctxs)
    emb.weight.set_data(mx.nd.array(w0))
    trainer = mx.gluon.Trainer(emb.collect_params(), *CASES["sgd_mom"])
    dense = {}
    for k, per_ctx in enumerate(TWO_CTX_IDS):
        with mx.autograd.record():
            losses = [(emb(mx.nd.array(ids, ctx=c)) ** 2).sum() for ids, c in zip(per_ctx, ctxs)]
        mx.autograd.backward(losses)
        trainer.step(2)
        dense["w%d" % k] = emb.weight.data(ctxs[0]).asnumpy()
    np.savez(os.path.join(OUT, "two_ctx_dense.npz"), **dense)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.RandomState(0)
    w0 = rng.uniform(-1, 1, (8, 3)).astype(np.float32)
    two_contexts(w0)
    rec, messages = {"w0": w0}, {}
    for k, ids in enumerate(IDS):
        rec["ids%d" % k] = np.array(ids, np.float32)
    for case, (name, kwargs) in CASES.items():
        emb = _sparse_embedding(w0, mx.cpu())
        trainer = mx.gluon.Trainer(emb.collect_params(), name, kwargs)
        for k, ids in enumerate(IDS):
            x = mx.nd.array(ids)
            pulled = emb.weight.row_sparse_data(x)
            rec["%s_pulled%d_idx" % (case, k)] = pulled.indices.asnumpy()
            rec["%s_pulled%d_data" % (case, k)] = pulled.data.asnumpy()
            with mx.autograd.record():
                y = emb(x)
                loss = (y * y).sum()
            loss.backward()
            grad = emb.weight.grad()
            rec["%s_y%d" % (case, k)] = y.asnumpy()
            rec["%s_grad%d_idx" % (case, k)] = grad.indices.asnumpy()
            rec["%s_grad%d_data" % (case, k)] = grad.data.asnumpy()
            trainer.step(2)
            rec["%s_w%d" % (case, k)] = emb.weight._reduce().asnumpy()
        if case == "sgd_mom":
            emb.collect_params().save(os.path.join(OUT, "saved.params"))
            p = emb.weight
            messages["data"] = _error(p.data)
            messages["list_data"] = _error(p.list_data)
            messages["second_trainer"] = _error(lambda params=emb.collect_params(): mx.gluon.Trainer(params, "sgd"))
            messages["row_id_type"] = _error(lambda p=p: p.row_sparse_data([1]))
    np.savez(os.path.join(OUT, "sparse_embedding.npz"), **rec)

    fresh = mx.gluon.Parameter("fresh", shape=(4, 2), stype="row_sparse")
    fresh.initialize()
    messages["no_trainer"] = _error(lambda: fresh.row_sparse_data(mx.nd.array([1])))
    messages["bad_stype"] = _error(lambda: mx.gluon.Parameter("bad", shape=(2, 2), stype="rsp"))
    lone = mx.gluon.Parameter("lone", shape=(4, 2), stype="row_sparse")
    lone.initialize()
    messages["update_on_kvstore_false"] = _error(lambda: mx.gluon.Trainer([lone], "sgd", update_on_kvstore=False)
                                                 ._init_kvstore())

    class Hybrid(mx.gluon.HybridBlock):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.w = self.params.get("w", shape=(4, 2), stype="row_sparse")

        def hybrid_forward(self, F, x, w):
            return F.Embedding(x, w, input_dim=4, output_dim=2)
    hybrid = Hybrid(prefix="h_")
    hybrid.initialize()
    messages["hybrid_block"] = _error(lambda: hybrid(mx.nd.array([1])))

    net = mx.gluon.nn.HybridSequential(prefix="net_")
    with net.name_scope():
        net.add(mx.gluon.nn.Embedding(8, 3, sparse_grad=True))
    net.initialize()
    net.collect_params().load_dict({"net_embedding0_weight": mx.nd.array(w0)})
    net.hybridize()
    trainer = mx.gluon.Trainer(net.collect_params(), *CASES["sgd_mom"])
    x = np.array([[2, 5, 2]], np.float32)
    c = np.array([[[1, 2, 3], [1, 1, 1], [-1, -2, -3]]], np.float32)
    with mx.autograd.record():
        loss = (net(mx.nd.array(x)) * mx.nd.array(c)).sum()
    loss.backward()
    grad = net[0].weight.grad()
    trainer.step(1)
    np.savez(os.path.join(OUT, "hybrid.npz"), w0=w0, x=x, c=c, grad_idx=grad.indices.asnumpy(),
             grad_data=grad.data.asnumpy(), w1=net[0].weight.data().asnumpy())
    with open(os.path.join(OUT, "messages.json"), "w") as f:
        json.dump(messages, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
