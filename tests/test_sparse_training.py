"""Training with row_sparse gradients (issue 22, part 3): lazy optimizer updates, Gluon's sparse Embedding
gradients and Trainer, KVStore.row_sparse_pull, and two small models that must train.

Truth: MXNet 1.9.1's results recorded by reference/sparse_training_fixtures.py
(tests/fixtures/mxnet-1.9.1/sparse_training/, README there), and dense numpy references of the same rules.
"""
import json
import math
import os
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dataflow as mx
from dataflow.ndarray.sparse import RowSparseNDArray, row_sparse_array
from ops.cpu import sparse_update
from ops.errors import MXNetError

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "sparse_training")
with open(os.path.join(FIXTURES, "cases.json")) as _f:
    CASES = json.load(_f)


def _rsp(data, idx, shape):
    return row_sparse_array((mx.nd.array(data, dtype=data.dtype), mx.nd.array(idx, dtype=np.int64)), shape=shape)


def _states(state):
    if state is None:
        return []
    return list(state) if isinstance(state, (tuple, list)) else [state]


# ---- lazy updates against MXNet ------------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(CASES))
def test_optimizer_with_row_sparse_grad_matches_mxnet(case):
    info = CASES[case]
    rec = np.load(os.path.join(FIXTURES, "lazy_%s.npz" % case))
    init = rec["init"]
    weight = mx.nd.array(init)
    if case == "ftrl_rsp":
        weight = weight.tostype("row_sparse")
    opt = mx.optimizer.create(info["optimizer"], **info["kwargs"])
    state = opt.create_state(0, weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(info["steps"]):
            grad = _rsp(rec["g%d_data" % k], rec["g%d_idx" % k], init.shape)
            if "error" in info:
                with pytest.raises(MXNetError, match="_sparse_adagrad_update"):
                    opt.update(0, weight, grad, state)
                return
            opt.update(0, weight, grad, state)
            np.testing.assert_array_equal(weight.asnumpy(), rec["w%d" % k], err_msg="%s step %d" % (case, k))
            for j, s in enumerate(_states(state)):
                np.testing.assert_array_equal(s.asnumpy(), rec["s%d_%d" % (k, j)], err_msg="%s state %d" % (case, j))


def test_rows_absent_from_every_gradient_keep_weight_and_state_exactly():
    rec = np.load(os.path.join(FIXTURES, "lazy_sgd_mom.npz"))
    touched = set()
    for k in range(CASES["sgd_mom"]["steps"]):
        touched |= set(rec["g%d_idx" % k].tolist())
    untouched = sorted(set(range(rec["init"].shape[0])) - touched)
    assert untouched        # the fixture leaves some rows out
    np.testing.assert_array_equal(rec["w3"][untouched], rec["init"][untouched])    # MXNet's own behaviour
    for name, kwargs in (("sgd", dict(momentum=0.9, wd=0.1)), ("adam", dict(wd=0.1)), ("adagrad", {}),
                         ("sgd", dict(wd=0.5))):
        weight = mx.nd.array(rec["init"])
        opt = mx.optimizer.create(name, learning_rate=0.1, **kwargs)
        state = opt.create_state(0, weight)
        for k in range(4):
            opt.update(0, weight, _rsp(rec["g%d_data" % k], rec["g%d_idx" % k], rec["init"].shape), state)
        np.testing.assert_array_equal(weight.asnumpy()[untouched], rec["init"][untouched])
        for s in _states(state):
            assert not s.asnumpy()[untouched].any()


# ---- the row kernels against a dense numpy reference ----------------------------------------------------------
def _dense_reference(rule, w, states, g, p):
    """One dense step of `rule` in float64 numpy (MXNet's formulas), every row."""
    clip = (lambda x: np.clip(x, -p["clip_gradient"], p["clip_gradient"])) if p["clip_gradient"] >= 0 else \
        (lambda x: x)
    lr, wd, rg = p["lr"], p.get("wd", 0.0), p["rescale_grad"]
    if rule == "sgd":
        return (1 - lr * wd) * w - lr * clip(rg * g), []
    if rule == "sgd_mom":
        mom = p["momentum"] * states[0] - lr * wd * w - lr * clip(rg * g)
        return w + mom, [mom]
    if rule == "adam":
        gg = clip(rg * g + wd * w)
        m = p["beta1"] * states[0] + (1 - p["beta1"]) * gg
        v = p["beta2"] * states[1] + (1 - p["beta2"]) * gg * gg
        return w - lr * m / (np.sqrt(v) + p["epsilon"]), [m, v]
    if rule == "adagrad":
        gg = clip(rg * g)
        h = states[0] + gg * gg
        return w - lr * gg / np.sqrt(h + p["epsilon"]), [h]
    gg = clip(rg * g)                                   # ftrl
    z = states[0] + gg - (np.sqrt(states[1] + gg * gg) - np.sqrt(states[1])) * w / lr
    n = states[1] + gg * gg
    new = (np.sign(z) * p["lamda1"] - z) / ((p["beta"] + np.sqrt(n)) / lr + wd) * (np.abs(z) > p["lamda1"])
    return new, [z, n]


_PARAMS = dict(lr=0.1, wd=0.05, rescale_grad=0.7, momentum=0.9, beta1=0.9, beta2=0.999, epsilon=1e-7, lamda1=0.01,
               beta=1.0)
_N_STATES = {"sgd": 0, "sgd_mom": 1, "adam": 2, "adagrad": 1, "ftrl": 2}


@settings(max_examples=30 if not os.environ.get("CI") else 10, deadline=None)
@given(rule=st.sampled_from(sorted(_N_STATES)), density=st.floats(0, 1), seed=st.integers(0, 2 ** 16),
       clip=st.sampled_from([-1.0, 0.2]), rows=st.integers(1, 12), cols=st.integers(1, 5))
def test_row_kernels_equal_dense_rule_on_present_rows(rule, density, seed, clip, rows, cols):
    rng = np.random.RandomState(seed)
    present = np.flatnonzero(rng.uniform(size=rows) < density).astype(np.int64)
    w = rng.uniform(-1, 1, (rows, cols))
    states = [rng.uniform(0, 1, (rows, cols)) for _ in range(_N_STATES[rule])]     # >= 0: n and var stay valid
    gdata = rng.uniform(-1, 1, (len(present), cols))
    p = dict(_PARAMS, clip_gradient=clip)
    full = np.zeros_like(w)
    full[present] = gdata
    p32 = {k: float(np.float32(v)) for k, v in p.items()}      # MXNet's params are C++ floats, as the kernels'
    want_w, want_states = _dense_reference(rule, w, states, full, p32)
    got_w, got_states = w.copy(), [s.copy() for s in states]
    sparse_update.lazy_update(rule, got_w, got_states, present, gdata, p)
    np.testing.assert_allclose(got_w[present], want_w[present], rtol=1e-12, atol=1e-12)
    absent = np.setdiff1d(np.arange(rows), present)
    np.testing.assert_array_equal(got_w[absent], w[absent])
    for got, want, before in zip(got_states, want_states, states):
        np.testing.assert_allclose(got[present], want[present], rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(got[absent], before[absent])


# ---- Gluon: Embedding(sparse_grad=True), Parameter(grad_stype='row_sparse'), Trainer ---------------------------
GLUON = np.load(os.path.join(FIXTURES, "gluon.npz"))


def _embedding(w0):
    emb = mx.gluon.nn.Embedding(w0.shape[0], w0.shape[1], sparse_grad=True)
    emb.initialize()
    emb.weight.set_data(mx.nd.array(w0))
    return emb


@settings(max_examples=40 if os.environ.get("CI") else 200, deadline=None)
@given(st.lists(st.one_of(st.integers(-3, 40), st.integers(-2**63, 2**63 - 1)), max_size=60),
       st.integers(1, 3), st.integers(0, 2**31))
def test_sum_rows_sums_each_ids_rows_in_lookup_order(ids, width, seed):
    """An Embedding's row_sparse gradient from its lookups: unique ids sorted, each the sum of its rows in the order
    looked up, bit for bit as numpy's np.add.at (the keyed sort, and the stable sort when ids are far apart)."""
    ids = np.array(ids, np.int64)
    values = np.random.RandomState(seed % 2**32).uniform(-1, 1, (ids.size, width)).astype(np.float32)
    rows, inverse = np.unique(ids, return_inverse=True)
    expected = np.zeros((rows.size, width), np.float32)
    np.add.at(expected, inverse.reshape(-1), values)
    got_rows, got = sparse_update.sum_rows(ids, values)
    np.testing.assert_array_equal(got_rows, rows)
    np.testing.assert_array_equal(got, expected)


def test_sparse_embedding_gradient_is_row_sparse_as_mxnet():
    emb = _embedding(GLUON["w0"])
    with mx.autograd.record():
        y = emb(mx.nd.array(GLUON["x"]))
        loss = (y * y).sum()
    loss.backward()
    grad = emb.weight.grad()
    assert isinstance(grad, RowSparseNDArray) and grad.stype == "row_sparse"
    np.testing.assert_array_equal(grad.indices.asnumpy(), GLUON["grad_idx"])
    np.testing.assert_allclose(grad.data.asnumpy(), GLUON["grad_data"], rtol=1e-6)
    # the rows are the unique indices, the values their summed gradient 2 * w[row] * count
    x = GLUON["x"].astype(np.int64).ravel()
    rows, counts = np.unique(x, return_counts=True)
    np.testing.assert_allclose(grad.data.asnumpy(), 2 * GLUON["w0"][rows] * counts[:, None], rtol=1e-6)


@pytest.mark.parametrize("opt, kwargs", [("sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01}),
                                         ("adam", {"learning_rate": 0.05})])
def test_trainer_steps_with_sparse_embedding_match_mxnet(opt, kwargs):
    emb = _embedding(GLUON["w0"])
    trainer = mx.gluon.Trainer(emb.collect_params(), opt, kwargs)
    x = GLUON["x"]
    for step in range(3):
        xs = mx.nd.array(x if step != 1 else x[:1, :2])
        with mx.autograd.record():
            y = emb(xs)
            loss = (y * y).sum()
        loss.backward()
        trainer.step(2)
        np.testing.assert_allclose(emb.weight.data().asnumpy(), GLUON["%s_w%d" % (opt, step)], rtol=1e-6, atol=1e-7,
                                   err_msg="%s step %d" % (opt, step))


def test_zero_grad_empties_the_row_sparse_gradient():
    emb = _embedding(GLUON["w0"])
    with mx.autograd.record():
        loss = emb(mx.nd.array([[1, 2]])).sum()
    loss.backward()
    assert emb.weight.grad().indices.asnumpy().tolist() == [1, 2]
    emb.weight.zero_grad()
    grad = emb.weight.grad()
    assert grad.indices.shape == (0,) and not grad.asnumpy().any()


# ---- KVStore.row_sparse_pull ----------------------------------------------------------------------------------
def test_row_sparse_pull_returns_only_the_requested_rows():
    rec = np.load(os.path.join(FIXTURES, "kvstore.npz"))
    kv = mx.kv.create("local")
    kv.init("w", mx.nd.array(rec["w"]).tostype("row_sparse"))
    out = mx.nd.sparse.zeros("row_sparse", rec["w"].shape)
    kv.row_sparse_pull("w", out=out, row_ids=mx.nd.array(rec["row_ids"]))
    assert out.stype == "row_sparse"
    np.testing.assert_array_equal(out.indices.asnumpy(), rec["indices"])
    np.testing.assert_array_equal(out.data.asnumpy(), rec["data"])


# ---- acceptance: two small models train ------------------------------------------------------------------------
def test_matrix_factorisation_with_sparse_embeddings_trains():
    """Ratings r = <u, v> + noise (sd 0.1) of 60 users and 50 items with rank-3 factors, 40% observed. Two
    Embedding(sparse_grad=True) of width 3 trained with lazy Adam (60 epochs) must bring the training MSE from
    about 1.4 at the start to under 0.02, twice the noise floor of 0.01 that a rank-3 model can reach (it reaches
    0.0086 here: a little overfitting of the noise)."""
    rng = np.random.RandomState(0)
    n_users, n_items, rank = 60, 50, 3
    u_true, v_true = rng.normal(0, 0.8, (n_users, rank)), rng.normal(0, 0.8, (n_items, rank))
    pairs = np.argwhere(rng.uniform(size=(n_users, n_items)) < 0.4)
    ratings = (u_true[pairs[:, 0]] * v_true[pairs[:, 1]]).sum(1) + rng.normal(0, 0.1, len(pairs))
    mx.random.seed(0)
    users, items = (mx.gluon.nn.Embedding(n, rank, sparse_grad=True) for n in (n_users, n_items))
    for emb in (users, items):
        emb.initialize(mx.init.Normal(0.5))
    params = users.collect_params()
    params.update(items.collect_params())
    trainer = mx.gluon.Trainer(params, "adam", {"learning_rate": 0.05})

    def mse():
        pred = (users(mx.nd.array(pairs[:, 0])) * items(mx.nd.array(pairs[:, 1]))).sum(axis=1)
        return float(((pred.asnumpy() - ratings) ** 2).mean())

    start = mse()
    batch = 100
    for _ in range(60):
        order = rng.permutation(len(pairs))
        for b in range(0, len(order), batch):
            sel = order[b:b + batch]
            u, i, r = mx.nd.array(pairs[sel, 0]), mx.nd.array(pairs[sel, 1]), mx.nd.array(ratings[sel])
            with mx.autograd.record():
                loss = ((users(u) * items(i)).sum(axis=1) - r) ** 2
            loss.backward()
            assert users.weight.grad().stype == "row_sparse"
            trainer.step(len(sel))
    assert start > 0.5
    assert mse() < 0.02


def _write_libsvm(path, x, y):
    with open(path, "w") as f:
        for row, label in zip(x, y):
            f.write("%d %s\n" % (label, " ".join("%d:%g" % (j, row[j]) for j in np.flatnonzero(row))))


def test_linear_model_on_libsvm_data_trains():
    """Logistic regression on a LibSVM file (300 samples, 200 features, 3% dense) whose labels a sparse linear
    rule gives. The batches are read by LibSVMIter, made csr; the gradient dot(X.T, p - y) is row_sparse and the
    weight takes lazy SGD-momentum updates. The mean log-loss must fall from log(2) = 0.693 to under 0.1 (it reaches
    0.046) and the training accuracy pass 95% (the data are separable)."""
    import tempfile
    rng = np.random.RandomState(1)
    n, d = 300, 200
    x = (rng.uniform(size=(n, d)) < 0.03) * rng.uniform(0.5, 1.5, (n, d))
    w_true = rng.normal(0, 1, d)
    y = (x @ w_true > 0).astype(np.int64)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "train.libsvm")
        _write_libsvm(path, x, y)
        batches = [(b.data[0].tostype("csr"), b.label[0].reshape((-1, 1)))
                   for b in mx.io.LibSVMIter(data_libsvm=path, data_shape=(d,), batch_size=50)]
    weight = mx.nd.zeros((d, 1))
    opt = mx.optimizer.create("sgd", learning_rate=1.0, momentum=0.9, rescale_grad=1 / 50)
    state = opt.create_state(0, weight)

    def log_loss():
        z = x.astype(np.float32) @ weight.asnumpy()[:, 0]
        p = 1 / (1 + np.exp(-z))
        return float(-np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))), float(np.mean((z > 0) == y))

    assert abs(log_loss()[0] - math.log(2)) < 1e-6
    for _ in range(40):
        for data, label in batches:
            assert data.stype == "csr"
            p = mx.nd.sigmoid(mx.nd.sparse.dot(data, weight))
            grad = mx.nd.sparse.dot(data, p - label, transpose_a=True)
            assert grad.stype == "row_sparse"
            opt.update(0, weight, grad, state)
    loss, accuracy = log_loss()
    assert loss < 0.1 and accuracy > 0.95


# ---- more of the Gluon side ---------------------------------------------------------------------------------------
def test_stepping_twice_without_backward_is_a_stale_gradient():
    emb = _embedding(GLUON["w0"])
    trainer = mx.gluon.Trainer(emb.collect_params(), "sgd", {"learning_rate": 0.1})
    with mx.autograd.record():
        loss = emb(mx.nd.array([[1, 2]])).sum()
    loss.backward()
    trainer.step(1)
    with pytest.raises(UserWarning, match="has not been updated by backward"):
        trainer.step(1)
    before = emb.weight.data().asnumpy()
    trainer.step(1, ignore_stale_grad=True)
    np.testing.assert_array_equal(emb.weight.data().asnumpy(), before)


def test_hybridized_sparse_embedding_gives_the_looked_up_rows():
    """As MXNet's CachedOp: the rows are the indices looked up, a row whose summed gradient is zero included (its
    weight row is zero here), each the sum of its lookups' output gradients (Note [hybridized sparse embeddings])."""
    w0 = GLUON["w0"].copy()
    w0[2] = 0
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Embedding(w0.shape[0], w0.shape[1], sparse_grad=True))
    net.initialize()
    net[0].weight.set_data(mx.nd.array(w0))
    net.hybridize()
    x = np.array([[5, 2, 5]])
    with mx.autograd.record():
        loss = (net(mx.nd.array(x)) ** 2).sum()
    loss.backward()
    grad = net[0].weight.grad()
    assert grad.stype == "row_sparse"
    assert grad.indices.asnumpy().tolist() == [2, 5]
    np.testing.assert_allclose(grad.data.asnumpy(), 2 * w0[[2, 5]] * np.array([[1], [2]]), rtol=1e-6)
    assert not grad.data.asnumpy()[0].any()


def test_grad_req_add_accumulates_rows_until_zero_grad():
    w0 = GLUON["w0"]
    emb = _embedding(w0)
    emb.weight.grad_req = "add"
    for ids in ([[1, 3]], [[3, 4]]):
        with mx.autograd.record():
            loss = emb(mx.nd.array(ids)).sum()
        loss.backward()
    grad = emb.weight.grad()
    assert grad.indices.asnumpy().tolist() == [1, 3, 4]
    np.testing.assert_array_equal(grad.data.asnumpy(), np.array([[1] * 3, [2] * 3, [1] * 3], np.float32))
    emb.weight.zero_grad()
    assert emb.weight.grad().indices.shape == (0,)


def test_grad_stype_row_sparse_parameter_in_dense_ops():
    w = mx.gluon.Parameter("w", shape=(5, 2), grad_stype="row_sparse")
    w.initialize(mx.init.One())
    with mx.autograd.record():
        loss = (w.data()[1:3] * 3).sum()
    loss.backward()
    grad = w.grad()
    assert grad.stype == "row_sparse" and grad.indices.asnumpy().tolist() == [1, 2]
    np.testing.assert_array_equal(grad.asnumpy(), np.array([[0, 0], [3, 3], [3, 3], [0, 0], [0, 0]], np.float32))


def test_row_sparse_data_returns_the_asked_rows():
    values = np.arange(12, dtype=np.float32).reshape(6, 2)
    w = mx.gluon.Parameter("w", shape=(6, 2), stype="row_sparse", grad_stype="row_sparse")
    w.initialize(mx.init.Constant(0))
    w.set_data(mx.nd.array(values))
    with pytest.raises(RuntimeError, match="no Trainer"):
        w.row_sparse_data(mx.nd.array([1]))
    mx.gluon.Trainer([w], "sgd")
    rows = w.row_sparse_data(mx.nd.array([4, 1, 4]))
    assert rows.stype == "row_sparse" and rows.indices.asnumpy().tolist() == [1, 4]
    np.testing.assert_array_equal(rows.data.asnumpy(), values[[1, 4]])
    (listed,) = w.list_row_sparse_data(mx.nd.array([0]))
    np.testing.assert_array_equal(listed.asnumpy(), np.where(np.arange(6)[:, None] == 0, values, 0))
    dense = mx.gluon.Parameter("d", shape=(2, 2))
    dense.initialize()
    with pytest.raises(RuntimeError, match="via row_sparse_data"):
        dense.row_sparse_data(mx.nd.array([0]))


# ---- errors -------------------------------------------------------------------------------------------------------
def test_bad_sparse_updates_raise_clear_errors():
    weight = mx.nd.zeros((4, 2))
    grad = _rsp(np.ones((1, 2), np.float32), np.array([1]), (4, 2))
    with pytest.raises(MXNetError, match="out=weight"):
        mx.optimizer.optimizer.update_op("sgd_update", (weight, grad), out=mx.nd.zeros((4, 2)), lr=0.1)
    with pytest.raises(MXNetError, match="shape"):
        wrong = mx.nd.zeros((5, 2))
        mx.optimizer.optimizer.update_op("sgd_update", (wrong, grad), out=wrong, lr=0.1)
    with pytest.raises(MXNetError, match="out of range"):
        sparse_update.lazy_update("sgd", np.zeros((3, 2), np.float32), [], np.array([0, 5]),
                                  np.ones((2, 2), np.float32), dict(lr=0.1, wd=0, rescale_grad=1, clip_gradient=-1))
    kv = mx.kv.create("local")
    kv.init("w", mx.nd.ones((4, 2)))
    with pytest.raises(MXNetError, match="out of range"):
        kv.row_sparse_pull("w", out=mx.nd.sparse.zeros("row_sparse", (4, 2)), row_ids=mx.nd.array([7]))


def test_other_update_ops_fall_back_to_dense_with_mxnets_warning():
    weight = mx.nd.ones((3, 2))
    grad = _rsp(np.full((1, 2), 2, np.float32), np.array([2]), (3, 2))
    opt = mx.optimizer.create("rmsprop", learning_rate=0.1)
    state = opt.create_state(0, weight)
    with pytest.warns(mx.nd.sparse.StorageFallbackWarning, match="rmsprop_update"):
        opt.update(0, weight, grad, state)
    dense_weight = mx.nd.ones((3, 2))
    dense_state = opt.create_state(1, dense_weight)
    opt.update(1, dense_weight, grad.tostype("default"), dense_state)
    np.testing.assert_array_equal(weight.asnumpy(), dense_weight.asnumpy())


@pytest.mark.parametrize("kvstore", ["device", None])
def test_trainer_with_sparse_gradients_on_two_contexts(kvstore):
    """'device' sums the two contexts' row_sparse gradients and applies one update everywhere; None updates each
    context from its own gradient (MXNet's semantics of the two)."""
    ctxs = [mx.cpu(0), mx.cpu(1)]
    emb = mx.gluon.nn.Embedding(6, 2, sparse_grad=True)
    emb.initialize(mx.init.One(), ctx=ctxs)
    trainer = mx.gluon.Trainer(emb.collect_params(), "sgd", {"learning_rate": 0.1}, kvstore=kvstore)
    ids = [[1, 2], [2, 3]]
    with mx.autograd.record():
        losses = [emb(mx.nd.array([i], ctx=c)).sum() for i, c in zip(ids, ctxs)]
    mx.autograd.backward(losses)
    trainer.step(1)
    counts = [np.bincount(i, minlength=6) for i in ids]
    want = [1 - 0.1 * (counts[0] + counts[1])] * 2 if kvstore else [1 - 0.1 * c for c in counts]
    for got, expected in zip(emb.weight.list_data(), want):
        np.testing.assert_allclose(got.asnumpy(), np.repeat(expected[:, None], 2, axis=1), rtol=1e-6)


def test_kvstore_push_of_row_sparse_gradients_updates_lazily():
    kv = mx.kv.create("local")
    kv.init(0, mx.nd.ones((5, 2)))
    kv.set_optimizer(mx.optimizer.create("sgd", learning_rate=0.1, momentum=0.9, wd=0.5))
    g1 = _rsp(np.ones((1, 2), np.float32), np.array([1]), (5, 2))
    g2 = _rsp(np.ones((2, 2), np.float32), np.array([1, 3]), (5, 2))
    kv.push(0, [g1, g2])                 # summed: row 1 gets 2, row 3 gets 1; rows 0, 2, 4 are not touched
    out = mx.nd.zeros((5, 2))
    kv.pull(0, out=out)
    grad = np.array([0, 2, 0, 1, 0], np.float32)
    mom = -0.1 * 0.5 * 1.0 - 0.1 * grad
    want = np.where(grad > 0, 1.0 + mom, 1.0)
    np.testing.assert_allclose(out.asnumpy(), np.repeat(want[:, None], 2, axis=1), rtol=1e-6)


def test_update_ops_called_directly_with_a_row_sparse_gradient_are_lazy():
    """mx.nd.sgd_mom_update with a row_sparse gradient: MXNet's lazy update, once mx.optimizer is imported (it
    registers the ops' row_sparse implementations)."""
    assert mx.optimizer.SGD
    rec = np.load(os.path.join(FIXTURES, "lazy_sgd_mom.npz"))
    weight, mom = mx.nd.array(rec["init"]), mx.nd.zeros(rec["init"].shape)
    kwargs = CASES["sgd_mom"]["kwargs"]
    grad = _rsp(rec["g0_data"], rec["g0_idx"], rec["init"].shape)
    mx.nd.sgd_mom_update(weight, grad, mom, out=weight, lr=kwargs["learning_rate"], momentum=kwargs["momentum"],
                         wd=kwargs["wd"], rescale_grad=kwargs["rescale_grad"])
    np.testing.assert_array_equal(weight.asnumpy(), rec["w0"])
    np.testing.assert_array_equal(mom.asnumpy(), rec["s0_0"])


def test_sparse_and_dense_gradients_in_one_model_equal_the_dense_model_under_plain_sgd():
    """Plain SGD (no momentum, no weight decay) changes only the rows with a gradient, so lazy updates of the
    row_sparse Embedding gradient must give the weights of the same model trained with dense gradients."""
    def run(sparse):
        mx.random.seed(3)
        net = mx.gluon.nn.Sequential()
        net.add(mx.gluon.nn.Embedding(20, 4, sparse_grad=sparse), mx.gluon.nn.Dense(3, flatten=True))
        net.initialize(mx.init.Uniform(0.5))
        trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.2})
        for ids in ([[1, 5, 5], [7, 1, 2]], [[3, 3, 9], [1, 0, 19]]):
            with mx.autograd.record():
                loss = (net(mx.nd.array(ids)) ** 2).sum()
            loss.backward()
            assert net[0].weight.grad().stype == ("row_sparse" if sparse else "default")
            trainer.step(2)
        return [p.data().asnumpy() for p in net.collect_params().values()]
    for got, want in zip(run(True), run(False)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_kvstore_push_of_mixed_sparse_and_dense_values_sums_them_dense():
    kv = mx.kv.create("local")
    kv.init(0, mx.nd.zeros((3, 2)))
    kv.push(0, [_rsp(np.full((1, 2), 5, np.float32), np.array([1]), (3, 2)), mx.nd.ones((3, 2))])
    out = mx.nd.zeros((3, 2))
    kv.pull(0, out=out)
    np.testing.assert_array_equal(out.asnumpy(), np.array([[1, 1], [6, 6], [1, 1]], np.float32))


def test_a_row_sparse_gradient_changed_in_place_is_what_the_trainer_applies():
    emb = _embedding(np.ones((4, 2), np.float32))
    trainer = mx.gluon.Trainer(emb.collect_params(), "sgd", {"learning_rate": 1.0})
    with mx.autograd.record():
        loss = emb(mx.nd.array([[1, 1, 2]])).sum()
    loss.backward()
    grad = emb.weight.grad()
    assert emb.weight.grad() is grad                 # the same array until the next lookup
    grad *= 0.5                                       # as gluon.utils.clip_global_norm scales
    trainer.step(1)
    np.testing.assert_allclose(emb.weight.data().asnumpy()[:, 0], [1, 0, 0.5, 1])


def test_sparse_embedding_weight_also_used_by_another_op_gets_both_gradients():
    """The weight read by the sparse lookup and by a slice of `weight.data()` (tied weights): the row_sparse
    gradient must equal the dense gradient of the same model without sparse_grad."""
    w0 = GLUON["w0"]

    def grad_of(sparse):
        emb = mx.gluon.nn.Embedding(w0.shape[0], w0.shape[1], sparse_grad=sparse)
        emb.initialize()
        emb.weight.set_data(mx.nd.array(w0))
        grads = []
        for ids in ([[1, 3]], [[0, 1]]):        # two steps: the second must not see the first's dense part
            with mx.autograd.record():
                loss = (emb(mx.nd.array(ids)) ** 2).sum()
                if ids[0][0] == 1:
                    loss = loss + (emb.weight.data()[5:7] * 3).sum()
            loss.backward()
            grads.append(emb.weight.grad().asnumpy())
        return grads
    for sparse, dense in zip(grad_of(True), grad_of(False)):
        np.testing.assert_allclose(sparse, dense, rtol=1e-6)
