"""The `sparse` workload (issue 22): a csr x dense `dot` at 1% density, and one training step of a sparse Embedding.

The same code runs on dataflow and on MXNet (`cases(mx, p, sync)`); the numpy runner measures scipy's csr product and
a numpy version of the embedding step (`scipy_cases(p)`). Data come from `data(p)` (numpy only, seeded), so every
implementation sees the same values:

- "csr dot": `mx.nd.sparse.dot(X, W)` with X a (rows, cols) CSRNDArray of `density` nonzeros and W dense
  (cols, width); scipy: `X @ W` with X a scipy.sparse.csr_matrix.
- "embedding step": `Embedding(vocab, dim, sparse_grad=True)`, a batch of (batch, tokens) indices touching about
  `density` of the vocabulary's rows; one step = forward under `autograd.record()`, loss = sum of the output
  squared, `backward()`, `Trainer('sgd', lr 0.01, momentum 0.9).step(batch)` (a lazy update of the rows looked up).
  numpy: the same step written by hand (rows summed with np.add.at, lazy momentum update on those rows).

Standard library and numpy only at import: the runners import it in their own interpreters.
"""
import numpy as np


def data(p):
    """{"csr": (values, indices, indptr, shape), "dense": W, "ids": int64 (batch, tokens), "w0": (vocab, dim)}."""
    rs = np.random.RandomState(0)
    rows, cols = p["rows"], p["cols"]
    mask = rs.uniform(size=(rows, cols)) < p["density"]
    indptr = np.concatenate([[0], np.cumsum(mask.sum(axis=1))]).astype(np.int64)
    indices = np.nonzero(mask)[1].astype(np.int64)
    values = rs.uniform(-1, 1, indices.size).astype(np.float32)
    dense = rs.uniform(-1, 1, (cols, p["width"])).astype(np.float32)
    lookups = p["batch"] * p["tokens"]
    n_rows = max(1, int(round(p["vocab"] * p["density"])))      # the rows a step touches: `density` of the vocabulary
    pool = rs.choice(p["vocab"], n_rows, replace=False)
    ids = pool[rs.randint(0, n_rows, lookups)].reshape(p["batch"], p["tokens"]).astype(np.int64)
    w0 = rs.uniform(-0.1, 0.1, (p["vocab"], p["dim"])).astype(np.float32)
    return {"csr": (values, indices, indptr, (rows, cols)), "dense": dense, "ids": ids, "w0": w0}


def cases(mx, p, sync):
    """{"csr dot": factory, "embedding step": factory} of Cases, on dataflow or MXNet (`mx`)."""
    from bench.protocol import Case
    d = data(p)

    def dot():
        values, indices, indptr, shape = d["csr"]
        x = mx.nd.sparse.csr_matrix((values, indices, indptr), shape=shape)
        w = mx.nd.array(d["dense"])
        return Case(lambda: mx.nd.sparse.dot(x, w), p["calls"], sync)

    def embedding_step():
        emb = mx.gluon.nn.Embedding(p["vocab"], p["dim"], sparse_grad=True)
        emb.initialize()
        emb.weight.set_data(mx.nd.array(d["w0"]))
        trainer = mx.gluon.Trainer(emb.collect_params(), "sgd", {"learning_rate": 0.01, "momentum": 0.9})
        x = mx.nd.array(d["ids"])

        def step():
            with mx.autograd.record():
                y = emb(x)
                loss = (y * y).sum()
            loss.backward()
            trainer.step(p["batch"])
            return loss
        return Case(step, p["calls"], sync)
    return {"csr dot": dot, "embedding step": embedding_step}


def scipy_cases(p):
    """{"scipy csr dot": factory, "numpy embedding step": factory}."""
    import scipy.sparse

    from bench.protocol import Case
    d = data(p)

    def dot():
        values, indices, indptr, shape = d["csr"]
        x = scipy.sparse.csr_matrix((values, indices, indptr), shape=shape)
        w = d["dense"]
        return Case(lambda: x @ w, p["calls"])

    def embedding_step():
        w, ids = d["w0"].copy(), d["ids"].reshape(-1)
        mom = np.zeros_like(w)
        lr, momentum, rescale = np.float32(0.01), np.float32(0.9), np.float32(1.0 / p["batch"])

        def step():
            y = w[ids]                                  # forward
            loss = float((y * y).sum())
            rows, inverse = np.unique(ids, return_inverse=True)
            grad = np.zeros((rows.size, w.shape[1]), np.float32)
            np.add.at(grad, inverse, 2 * y)              # backward: d(sum y^2)/dy summed per row
            mom[rows] = momentum * mom[rows] - lr * rescale * grad
            w[rows] += mom[rows]                         # the lazy SGD-momentum update
            return loss
        return Case(step, p["calls"], note="hand-written: np.unique + np.add.at + the rows' update")
    return {"scipy csr dot": dot, "numpy embedding step": embedding_step}
