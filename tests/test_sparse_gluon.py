"""Row_sparse Gluon parameters (`Parameter(stype='row_sparse')`, contrib.nn.SparseEmbedding) trained through the
Trainer's kvstore, and row_sparse pushes to dist stores. Truth: MXNet 1.9.1's runs recorded by
reference/sparse_gluon_fixtures.py (tests/fixtures/mxnet-1.9.1/sparse_gluon/), the same model with dense storage,
and arithmetic on the rows pushed."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import dataflow as mx
from dataflow.gluon import parameter_sparse
from dataflow.ndarray.sparse import RowSparseNDArray, _rsp

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "sparse_gluon")
REC = np.load(os.path.join(FIXTURES, "sparse_embedding.npz"))
MESSAGES = {k: v.split(": ", 1)[1] for k, v in json.load(open(os.path.join(FIXTURES, "messages.json"))).items()}
CASES = {"sgd_mom": ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01}),
         "adam": ("adam", {"learning_rate": 0.05, "wd": 0.01})}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _sparse_embedding(w0, ctx=None):
    emb = mx.gluon.contrib.nn.SparseEmbedding(*w0.shape, prefix="emb_")
    emb.initialize(ctx=ctx)
    emb.collect_params().load_dict({"emb_weight": mx.nd.array(w0)}, ctx=ctx)
    return emb


def _train(case, emb=None, steps=3):
    emb = emb or _sparse_embedding(REC["w0"])
    trainer = mx.gluon.Trainer(emb.collect_params(), *CASES[case])
    for k in range(steps):
        x = mx.nd.array(REC["ids%d" % k])
        with mx.autograd.record():
            y = emb(x)
            loss = (y * y).sum()
        loss.backward()
        yield k, emb, trainer, y
        trainer.step(2)


# ---- the parameter ----------------------------------------------------------------------------------------------
def test_a_row_sparse_parameter_holds_row_sparse_arrays_and_refuses_dense_access_as_mxnet():
    p = mx.gluon.Parameter("fresh", shape=(4, 2), stype="row_sparse", grad_stype="row_sparse")
    p.initialize(mx.init.Constant(3))
    (data,), (grad,) = p._data, p._grad
    assert isinstance(data, RowSparseNDArray) and data.indices.asnumpy().tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(data.asnumpy(), np.full((4, 2), 3, np.float32))
    assert isinstance(grad, RowSparseNDArray) and grad.indices.shape == (0,)
    with pytest.raises(RuntimeError) as e:
        p.row_sparse_data(mx.nd.array([1]))
    assert str(e.value) == MESSAGES["no_trainer"]
    emb = _sparse_embedding(REC["w0"])
    with pytest.raises(RuntimeError) as e:
        emb.weight.data()
    assert str(e.value) == MESSAGES["data"]
    with pytest.raises(RuntimeError) as e:
        emb.weight.list_data()
    assert str(e.value) == MESSAGES["list_data"]
    with pytest.raises(AssertionError) as e:
        mx.gluon.Parameter("bad", shape=(2, 2), stype="rsp")
    assert str(e.value) == MESSAGES["bad_stype"]
    with pytest.raises(TypeError, match="row_id must have NDArray type"):
        mx.gluon.Trainer(emb.collect_params(), "sgd") and emb.weight.row_sparse_data([1])


def test_one_trainer_for_life_and_no_update_off_the_store_as_mxnet():
    emb = _sparse_embedding(REC["w0"])
    mx.gluon.Trainer(emb.collect_params(), "sgd")
    with pytest.raises(RuntimeError) as e:
        mx.gluon.Trainer(emb.collect_params(), "sgd")
    assert str(e.value) == MESSAGES["second_trainer"]
    lone = mx.gluon.Parameter("lone", shape=(4, 2), stype="row_sparse")
    lone.initialize()
    with pytest.raises(ValueError) as e:
        mx.gluon.Trainer([lone], "sgd", update_on_kvstore=False)
    assert str(e.value) == MESSAGES["update_on_kvstore_false"]
    with pytest.raises(TypeError, match="Cannot create 'None' KVStore with row_sparse parameters"):
        mx.gluon.Trainer([lone], "sgd", kvstore=None)


def test_a_hybrid_block_over_a_row_sparse_parameter_raises_mxnets_error():
    class Hybrid(mx.gluon.HybridBlock):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.w = self.params.get("w", shape=(4, 2), stype="row_sparse")

        def hybrid_forward(self, F, x, w):
            return F.Embedding(x, w, input_dim=4, output_dim=2)
    for hybridize in (False, True):
        block = Hybrid(prefix="h_")
        block.initialize()
        if hybridize:
            block.hybridize()
        with pytest.raises(RuntimeError) as e:
            block(mx.nd.array([1]))
        assert str(e.value) == MESSAGES["hybrid_block"]


# ---- training through the store ----------------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(CASES))
def test_sparse_embedding_pulls_rows_and_trains_as_mxnet(case):
    for k, emb, _, y in _train(case):
        pulled = emb.weight._data[0]           # what the forward's row_sparse_data(x) pulled
        np.testing.assert_array_equal(pulled.indices.asnumpy(), REC["%s_pulled%d_idx" % (case, k)])
        np.testing.assert_allclose(pulled.data.asnumpy(), REC["%s_pulled%d_data" % (case, k)], rtol=1e-6)
        np.testing.assert_allclose(y.asnumpy(), REC["%s_y%d" % (case, k)], rtol=1e-6)
        grad = emb.weight.grad()
        assert grad.stype == "row_sparse"
        np.testing.assert_array_equal(grad.indices.asnumpy(), REC["%s_grad%d_idx" % (case, k)])
        np.testing.assert_allclose(grad.data.asnumpy(), REC["%s_grad%d_data" % (case, k)], rtol=1e-6)
    np.testing.assert_allclose(emb.weight._reduce().asnumpy(), REC["%s_w2" % case], rtol=1e-5, atol=1e-6)


def test_each_step_changes_only_the_rows_looked_up_as_mxnet():
    weights = []
    emb = _sparse_embedding(REC["w0"])
    for k, _, _, _ in _train("sgd_mom", emb):
        if k:       # after step k - 1
            weights.append(emb.weight._reduce().asnumpy())
    weights.append(emb.weight._reduce().asnumpy())
    for k, got in enumerate(weights):
        np.testing.assert_allclose(got, REC["sgd_mom_w%d" % k], rtol=1e-5, atol=1e-6, err_msg="step %d" % k)


def test_two_contexts_sum_their_rows_in_the_store_as_mxnet():
    rec = np.load(os.path.join(FIXTURES, "two_ctx.npz"))
    ctxs = [mx.cpu(0), mx.cpu(1)]
    emb = _sparse_embedding(rec["init"], ctxs)
    trainer = mx.gluon.Trainer(emb.collect_params(), *CASES["sgd_mom"])
    for k in range(3):
        with mx.autograd.record():
            losses = [(emb(mx.nd.array(rec["ids%d_%d" % (k, c)], ctx=ctx)) ** 2).sum() for c, ctx in enumerate(ctxs)]
        mx.autograd.backward(losses)
        trainer.step(2)
        np.testing.assert_allclose(emb.weight._reduce().asnumpy(), rec["w%d" % k], rtol=1e-5, atol=1e-6)
    rows = emb.weight.list_row_sparse_data(mx.nd.array([3]))
    assert [r.context for r in rows] == ctxs and all(r.indices.asnumpy().tolist() == [3] for r in rows)


def test_a_dense_embedding_with_sparse_grad_on_two_contexts_as_mxnet():
    rec, want = (np.load(os.path.join(FIXTURES, name)) for name in ("two_ctx.npz", "two_ctx_dense.npz"))
    ctxs = [mx.cpu(0), mx.cpu(1)]
    emb = mx.gluon.nn.Embedding(8, 3, sparse_grad=True, prefix="emb_")
    emb.initialize(ctx=ctxs)
    emb.weight.set_data(mx.nd.array(rec["init"]))
    trainer = mx.gluon.Trainer(emb.collect_params(), *CASES["sgd_mom"])
    for k in range(3):
        with mx.autograd.record():
            losses = [(emb(mx.nd.array(rec["ids%d_%d" % (k, c)], ctx=ctx)) ** 2).sum() for c, ctx in enumerate(ctxs)]
        mx.autograd.backward(losses)
        trainer.step(2)
        for array in emb.weight.list_data():
            np.testing.assert_allclose(array.asnumpy(), want["w%d" % k], rtol=1e-5, atol=1e-6)


def test_saved_parameters_are_mxnets_file_and_load_back(tmp_path):
    emb = _sparse_embedding(REC["w0"])
    for _ in _train("sgd_mom", emb):
        pass
    path = str(tmp_path / "emb.params")
    emb.collect_params().save(path)
    with open(path, "rb") as got, open(os.path.join(FIXTURES, "saved.params"), "rb") as want:
        assert got.read() == want.read()
    loaded = mx.gluon.contrib.nn.SparseEmbedding(8, 3, prefix="emb_")
    loaded.collect_params().load(os.path.join(FIXTURES, "saved.params"))
    mx.gluon.Trainer(loaded.collect_params(), "sgd")
    np.testing.assert_allclose(loaded.weight._reduce().asnumpy(), REC["sgd_mom_w2"], rtol=1e-5, atol=1e-6)
    emb.save_parameters(str(tmp_path / "block.params"))          # Block's names, the same record
    again = mx.gluon.contrib.nn.SparseEmbedding(8, 3, prefix="other_")
    again.load_parameters(str(tmp_path / "block.params"))
    assert again.weight._data[0].stype == "row_sparse"
    mx.gluon.Trainer(again.collect_params(), "sgd")
    np.testing.assert_allclose(again.weight._reduce().asnumpy(), REC["sgd_mom_w2"], rtol=1e-5, atol=1e-6)
    dense = mx.gluon.nn.Embedding(8, 3, prefix="emb_")       # the row_sparse record loads into a dense weight too
    dense.collect_params().load(os.path.join(FIXTURES, "saved.params"))
    assert dense.weight.data().stype == "default"
    np.testing.assert_allclose(dense.weight.data().asnumpy(), REC["sgd_mom_w2"], rtol=1e-5, atol=1e-6)


def test_set_data_after_training_replaces_the_stored_value_and_keeps_the_states(tmp_path):
    emb = _sparse_embedding(REC["w0"])
    trainer = mx.gluon.Trainer(emb.collect_params(), "sgd", {"learning_rate": 1.0, "momentum": 0.5})
    for step in range(2):
        with mx.autograd.record():
            loss = emb(mx.nd.array([[2]])).sum()
        loss.backward()
        trainer.step(1)
        if step == 0:
            emb.weight.set_data(mx.nd.zeros((8, 3)))
            np.testing.assert_array_equal(emb.weight.row_sparse_data(mx.nd.array([2])).data.asnumpy(),
                                          np.zeros((1, 3)))
    # momentum kept: the second step moves row 2 by -(0.5 * 1 + 1) from 0
    np.testing.assert_allclose(emb.weight._reduce().asnumpy()[2], np.full(3, -1.5), rtol=1e-6)
    trainer.save_states(str(tmp_path / "states"))
    trainer.load_states(str(tmp_path / "states"))
    with mx.autograd.record():
        loss = emb(mx.nd.array([[2]])).sum()
    loss.backward()
    trainer.step(1)         # momentum -1.5 * 0.5 - 1 = -1.75
    np.testing.assert_allclose(emb.weight._reduce().asnumpy()[2], np.full(3, -3.25), rtol=1e-6)


def test_sparse_embedding_with_dense_layers_equals_the_dense_model_under_plain_sgd():
    """Plain SGD changes only the rows with a gradient, so the row_sparse weight updated in the store and the dense
    Dense layer pulled back from it must give the weights of the same model with a dense Embedding."""
    rng = np.random.RandomState(5)
    w0, d0 = rng.uniform(-1, 1, (20, 4)).astype(np.float32), rng.uniform(-1, 1, (3, 12)).astype(np.float32)

    def run(sparse):
        net = mx.gluon.nn.Sequential(prefix="m_")
        with net.name_scope():
            net.add(mx.gluon.contrib.nn.SparseEmbedding(20, 4) if sparse else mx.gluon.nn.Embedding(20, 4),
                    mx.gluon.nn.Dense(3, in_units=12))
        net.initialize()
        net[0].weight.set_data(mx.nd.array(w0))
        net[1].weight.set_data(mx.nd.array(d0))
        trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.2})
        for ids in ([[1, 5, 5], [7, 1, 2]], [[3, 3, 9], [1, 0, 19]]):
            with mx.autograd.record():
                loss = (net(mx.nd.array(ids)) ** 2).sum()
            loss.backward()
            trainer.step(2)
        return [net[0].weight._reduce().asnumpy(), net[1].weight.data().asnumpy(), net[1].bias.data().asnumpy()]
    for got, want in zip(run(True), run(False)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_inference_outside_record_reads_the_pulled_rows():
    emb = _sparse_embedding(REC["w0"])
    mx.gluon.Trainer(emb.collect_params(), "sgd")
    ids = np.array([[7, 0, 7]])
    np.testing.assert_array_equal(emb(mx.nd.array(ids)).asnumpy(), REC["w0"][ids])
    assert emb.weight._data[0].indices.asnumpy().tolist() == [0, 7]


@settings(deadline=None)
@given(st.lists(st.integers(0, 9), unique=True).map(sorted), st.lists(st.integers(-2, 11), min_size=1, max_size=8))
def test_lookup_of_a_row_sparse_weight_is_embedding_of_its_dense_form(rows, ids):
    """Absent rows read zeros; ids are clipped to the vocabulary as Embedding clips them. Truth: numpy on the dense
    form."""
    values = np.arange(len(rows) * 2, dtype=np.float32).reshape(-1, 2) + 1
    weight = _rsp(values, np.array(rows, np.int64), (10, 2))
    got = parameter_sparse.lookup(mx.nd.array([ids]), weight)
    np.testing.assert_array_equal(got.asnumpy(), weight.asnumpy()[np.clip(np.array([ids]), 0, 9)])


def test_zero_grad_empties_a_row_sparse_parameters_gradient():
    emb = _sparse_embedding(REC["w0"])
    mx.gluon.Trainer(emb.collect_params(), "sgd")
    with mx.autograd.record():
        loss = emb(mx.nd.array([[3, 1]])).sum()
    loss.backward()
    assert emb.weight.grad().indices.asnumpy().tolist() == [1, 3]
    emb.collect_params().zero_grad()
    grad = emb.weight.grad()
    assert grad.stype == "row_sparse" and grad.indices.shape == (0,) and not grad.asnumpy().any()


# ---- kvstore -----------------------------------------------------------------------------------------------------
def test_a_list_push_keeps_row_sparse_keys_lazy_and_sums_dense_keys():
    kv = mx.kv.create("local")
    kv.init([0, 1], [mx.nd.ones((4, 2)), mx.nd.ones((4, 2))])
    kv.set_optimizer(mx.optimizer.create("sgd", learning_rate=0.1, wd=0.5))
    kv.push([0, 1], [_rsp(np.ones((1, 2), np.float32), np.array([2]), (4, 2)), mx.nd.ones((4, 2))])
    sparse, dense = mx.nd.zeros((4, 2)), mx.nd.zeros((4, 2))
    kv.pull([0, 1], out=[sparse, dense])
    lazy = np.ones((4, 2), np.float32)
    lazy[2] = 1 - 0.1 * (1 + 0.5)           # only row 2 takes the gradient and the weight decay
    np.testing.assert_allclose(sparse.asnumpy(), lazy, rtol=1e-6)
    np.testing.assert_allclose(dense.asnumpy(), np.full((4, 2), 1 - 0.1 * 1.5, np.float32), rtol=1e-6)


def _launch(scenario, outdir):
    return subprocess.run([sys.executable, "-m", "dataflow.launch", "-n", "2", sys.executable,
                           os.path.join(ROOT, "tests", "sparse_dist_worker.py"), scenario, str(outdir)],
                          capture_output=True, text=True, timeout=180, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))


def test_dist_store_sums_the_workers_rows_and_keeps_them_row_sparse(tmp_path):
    pytest.importorskip("mpi4py")
    result = _launch("store", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # rank 0 pushes 1 on rows 1, 4 from two contexts, rank 1 pushes 2 on rows 4, 5 from two contexts
    summed = np.zeros((6, 2), np.float32)
    summed[[1, 4]] += 2 * 1
    summed[[4, 5]] += 2 * 2
    grad = np.zeros(6, np.float32)
    grad[[1, 4]] += 1
    grad[[4, 5]] += 2
    lazy = np.where(grad > 0, 1 - 0.1 * (grad + 0.5), 1)[:, None] * np.ones((1, 2), np.float32)
    for r in range(2):
        got = np.load(tmp_path / ("rank%d.npz" % r))
        np.testing.assert_array_equal(got["summed"], summed)
        np.testing.assert_allclose(got["updated"], lazy, rtol=1e-6)
        np.testing.assert_allclose(got["updated_dense"], np.full((6, 2), 1 - 0.1 * (3 + 0.5)), rtol=1e-6)
        np.testing.assert_array_equal(got["pulled_idx"], [0, 4, 5])
        np.testing.assert_allclose(got["pulled_data"], lazy[[0, 4, 5]], rtol=1e-6)


def test_dist_trainer_over_a_sparse_embedding_equals_mxnets_two_contexts(tmp_path):
    """The workers' row_sparse gradients summed by the dist store are the two contexts' gradients MXNet summed."""
    pytest.importorskip("mpi4py")
    result = _launch("trainer", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    rec = np.load(os.path.join(FIXTURES, "two_ctx.npz"))
    for r in range(2):
        got = np.load(tmp_path / ("rank%d.npz" % r))
        for k in range(3):
            np.testing.assert_allclose(got["w%d" % k], rec["w%d" % k], rtol=1e-5, atol=1e-6, err_msg="step %d" % k)


def test_dist_trainer_reduces_row_sparse_gradients_of_a_dense_embedding_as_mxnet(tmp_path):
    """The workers' row_sparse gradients summed over the workers, keeping their rows, then a lazy SGD-momentum
    update: MXNet's two contexts (the same sum)."""
    pytest.importorskip("mpi4py")
    result = _launch("embedding", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    want = np.load(os.path.join(FIXTURES, "two_ctx_dense.npz"))
    for r in range(2):
        got = np.load(tmp_path / ("rank%d.npz" % r))
        for k in range(3):
            np.testing.assert_allclose(got["w%d" % k], want["w%d" % k], rtol=1e-5, atol=1e-6, err_msg="step %d" % k)


# ---- hybridized Embedding(sparse_grad=True) -------------------------------------------------------------------------
def _hybrid_net(w0):
    net = mx.gluon.nn.HybridSequential(prefix="net_")
    with net.name_scope():
        net.add(mx.gluon.nn.Embedding(*w0.shape, sparse_grad=True))
    net.initialize()
    net[0].weight.set_data(mx.nd.array(w0))
    net.hybridize()
    return net


def test_hybridized_sparse_embedding_gradient_and_lazy_step_are_mxnets():
    """MXNet's rows are the looked-up ids, row 2 kept though its gradient sums to zero, so the lazy SGD-momentum step
    applies its weight decay."""
    rec = np.load(os.path.join(FIXTURES, "hybrid.npz"))
    net = _hybrid_net(rec["w0"])
    trainer = mx.gluon.Trainer(net.collect_params(), *CASES["sgd_mom"])
    with mx.autograd.record():
        loss = (net(mx.nd.array(rec["x"])) * mx.nd.array(rec["c"])).sum()
    loss.backward()
    grad = net[0].weight.grad()
    assert grad.stype == "row_sparse"
    np.testing.assert_array_equal(grad.indices.asnumpy(), rec["grad_idx"])
    np.testing.assert_allclose(grad.data.asnumpy(), rec["grad_data"], rtol=1e-6, atol=1e-7)
    assert not net[0].weight._grad[0].asnumpy().any()      # no dense gradient was made
    trainer.step(1)
    np.testing.assert_allclose(net[0].weight.data().asnumpy(), rec["w1"], rtol=1e-6, atol=1e-7)


def test_hybridized_sparse_embedding_trains_as_the_non_hybridized_one():
    """Several steps, batch shapes changing, a Dense layer after the lookup: the hybridized model's weights equal the
    same model run imperatively (whose lookups are noted rows too: gluon/sparse_grad.py)."""
    rng = np.random.RandomState(2)
    w0, d0 = rng.uniform(-1, 1, (12, 3)).astype(np.float32), rng.uniform(-1, 1, (2, 3)).astype(np.float32)

    def run(hybridize):
        net = mx.gluon.nn.HybridSequential(prefix="m_")
        with net.name_scope():
            net.add(mx.gluon.nn.Embedding(12, 3, sparse_grad=True), mx.gluon.nn.Dense(2, in_units=3, flatten=False))
        net.initialize()
        net[0].weight.set_data(mx.nd.array(w0))
        net[1].weight.set_data(mx.nd.array(d0))
        if hybridize:
            net.hybridize()
        trainer = mx.gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.1, "wd": 0.01})
        grads = []
        for ids in ([[1, 5, 5], [7, 1, 2]], [[3, 3]], [[0, 11, 4, 4]], [[3, 3]]):
            with mx.autograd.record():
                loss = (net(mx.nd.array(ids)) ** 2).sum()
            loss.backward()
            grads.append(net[0].weight.grad().indices.asnumpy())
            trainer.step(2)
        return grads, [p.data().asnumpy() for p in net.collect_params().values()]
    (hybrid_rows, hybrid), (plain_rows, plain) = run(True), run(False)
    for got, want in zip(hybrid_rows, plain_rows):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(hybrid, plain):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
