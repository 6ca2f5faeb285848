"""The cached backward plans of autograd (Note [cached backward plans] in dataflow/autograd/backward_plans.py).

Truths: numpy's analytic gradients of a small MLP (float64), and the same steps run with the cache switched off
(`DATAFLOW_AUTOGRAD_PLAN_CACHE=0`: a plan made per call, as before the cache); the cache's own counts show that a
hit is taken and that a changed signature misses.
"""
import gc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import dataflow as mx
from dataflow import autograd, nd
from dataflow.autograd import backward_plans


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    monkeypatch.delenv("DATAFLOW_AUTOGRAD_PLAN_CACHE", raising=False)
    monkeypatch.delenv("DATAFLOW_BACKWARD_SEGMENTS", raising=False)
    backward_plans.clear()
    yield
    backward_plans.clear()


def _misses():
    return backward_plans.cache_info()["misses"]


def _hits():
    return backward_plans.cache_info()["hits"]


# -- a small MLP: loss = 0.5 * sum((tanh(x W1^T + b1) W2^T + b2) ** 2) ---------------------------------------------

def _mlp_params(rs, n_in=5, n_hidden=7, n_out=3, dtype=np.float64):
    return [rs.randn(n_hidden, n_in).astype(dtype), rs.randn(n_hidden).astype(dtype),
            rs.randn(n_out, n_hidden).astype(dtype), rs.randn(n_out).astype(dtype)]


def _numpy_grads(x, w1, b1, w2, b2):
    h = np.tanh(x @ w1.T + b1)
    o = h @ w2.T + b2
    dh = o @ w2
    da1 = dh * (1 - h * h)
    return [da1 @ w1, da1.T @ x, da1.sum(0), o.T @ h, o.sum(0)]


def _mlp_loss(x, w1, b1, w2, b2):
    h = nd.tanh(nd.FullyConnected(x, w1, b1, num_hidden=w1.shape[0]))
    o = nd.FullyConnected(h, w2, b2, num_hidden=w2.shape[0])
    return 0.5 * nd.sum(o * o)


def _attached(arrays, grad_req="write"):
    out = []
    for a in arrays:
        v = nd.array(a, dtype=a.dtype)
        v.attach_grad(grad_req)
        out.append(v)
    return out


def test_mlp_gradients_equal_numpy_over_steps_with_one_plan():
    rs = np.random.RandomState(0)
    params = _attached(_mlp_params(rs))
    for _ in range(4):
        x_np = rs.randn(4, 5)
        x = _attached([x_np])[0]
        for p, value in zip(params, _mlp_params(rs)):      # new values every step, same shapes
            p[:] = value
        with autograd.record():
            loss = _mlp_loss(x, *params)
        loss.backward()
        want = _numpy_grads(x_np, *[p.asnumpy() for p in params])
        for got, w in zip([x] + params, want):
            np.testing.assert_allclose(got.grad.asnumpy(), w, rtol=1e-10, atol=1e-10)
    assert _misses() == 1 and _hits() == 3


def _train_steps(monkeypatch, cache, steps, make_batch, grad_req="write", seed=1):
    """Gradients after each of `steps` imperative MLP steps (float32), with the cache on or off."""
    monkeypatch.setenv("DATAFLOW_AUTOGRAD_PLAN_CACHE", "1" if cache else "0")
    rs = np.random.RandomState(seed)
    params = _attached(_mlp_params(rs, dtype=np.float32), grad_req)
    out = []
    for k in range(steps):
        x = nd.array(make_batch(rs, k))
        for p in params:
            p[:] = p - 0.01 * p.grad      # the parameters change every step
        with autograd.record():
            loss = _mlp_loss(x, *params)
        loss.backward()
        out.append([p.grad.asnumpy().copy() for p in params])
    return out


@pytest.mark.parametrize("grad_req", ["write", "add"])
def test_cached_gradients_equal_uncached_ones(monkeypatch, grad_req):
    batch = lambda rs, k: rs.randn(3 + k % 2, 5)       # noqa: E731 - two shapes, alternating
    off = _train_steps(monkeypatch, False, 6, batch, grad_req)
    assert backward_plans.cache_info()["size"] == 0
    on = _train_steps(monkeypatch, True, 6, batch, grad_req)
    for a_step, b_step in zip(off, on):
        for a, b in zip(a_step, b_step):
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    assert _misses() == 2 and _hits() == 4     # one plan per batch size


def test_grad_req_add_accumulates_the_steps():
    rs = np.random.RandomState(2)
    params = _attached(_mlp_params(rs), "add")
    total = [np.zeros(p.shape) for p in params]
    for _ in range(3):
        x_np = rs.randn(2, 5)
        with autograd.record():
            loss = _mlp_loss(nd.array(x_np, dtype="float64"), *params)
        loss.backward()
        total = [t + g for t, g in zip(total, _numpy_grads(x_np, *[p.asnumpy() for p in params])[1:])]
    for p, t in zip(params, total):
        np.testing.assert_allclose(p.grad.asnumpy(), t, rtol=1e-10, atol=1e-10)
    assert _misses() == 1


def test_a_shape_change_never_reuses_the_old_plan():
    rs = np.random.RandomState(3)
    params = _attached(_mlp_params(rs))
    for rows in (4, 4, 2, 4, 2, 6):
        x_np = rs.randn(rows, 5)
        with autograd.record():
            loss = _mlp_loss(nd.array(x_np, dtype="float64"), *params)
        loss.backward()
        want = _numpy_grads(x_np, *[p.asnumpy() for p in params])[1:]
        for p, w in zip(params, want):
            np.testing.assert_allclose(p.grad.asnumpy(), w, rtol=1e-10, atol=1e-10)
    assert _misses() == 3 and _hits() == 3


def test_a_dtype_change_misses():
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    for dtype in ("float32", "float64"):
        y = nd.array([3.0, 4.0], dtype=dtype)
        y.attach_grad()
        with autograd.record():
            z = nd.sum(y * y)
        z.backward()
        np.testing.assert_allclose(y.grad.asnumpy(), [6.0, 8.0])
        assert y.grad.dtype == np.dtype(dtype)
    assert _misses() == 2


def test_retain_graph_runs_the_kept_plan_again():
    x = nd.array([1.0, -2.0, 3.0])
    x.attach_grad("add")
    with autograd.record():
        y = nd.sum(nd.exp(x) * x)
    want = np.exp([1.0, -2.0, 3.0]) * (1 + np.array([1.0, -2.0, 3.0]))
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), 3 * want, rtol=1e-5)
    assert _misses() == 1 and _hits() == 2
    with pytest.raises(mx.base.MXNetError):
        y.backward()        # the graph was freed by the last backward


def test_head_gradients_given_and_default():
    x = nd.array([[1.0, 2.0], [3.0, 4.0]])
    x.attach_grad()
    for head in (None, nd.array([[1.0, 0.5], [2.0, -1.0]]), None, nd.array([[0.0, 1.0], [1.0, 0.0]])):
        with autograd.record():
            y = x * x
        y.backward(head)
        seed = np.ones((2, 2)) if head is None else head.asnumpy()
        np.testing.assert_allclose(x.grad.asnumpy(), 2 * x.asnumpy() * seed)
    assert _misses() == 1


def test_a_gradient_that_is_the_head_gradient_is_copied_from_this_calls_one():
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    for head in ([5.0, 7.0], None, [1.0, 3.0]):
        with autograd.record():
            y = nd.identity(x)      # dx is the head gradient itself: a copy after the (empty) backward
        y.backward(None if head is None else nd.array(head))
        np.testing.assert_array_equal(x.grad.asnumpy(), [1.0, 1.0] if head is None else head)
    assert _misses() == 1 and _hits() == 2


def test_grad_returns_new_arrays_each_call():
    x = nd.array([1.0, 2.0, 3.0])
    x.attach_grad()
    results = []
    for scale in (1.0, 2.0, 3.0):
        x[:] = nd.array([1.0, 2.0, 3.0]) * scale
        with autograd.record():
            y = nd.sum(x * x * x)
        results.append(autograd.grad(y, [x])[0])
    for scale, g in zip((1.0, 2.0, 3.0), results):
        np.testing.assert_allclose(g.asnumpy(), 3 * (np.array([1.0, 2.0, 3.0]) * scale) ** 2, rtol=1e-6)
    assert _misses() == 1 and _hits() == 2


def test_the_cache_keeps_no_recorded_values_alive():
    x = nd.array(np.ones((16, 16)))
    x.attach_grad()
    refs = []
    for _ in range(2):
        with autograd.record():
            h = nd.tanh(x * 2)
            y = nd.sum(h * h)
        y.backward()
        refs.append(weakref.ref(h._data))
        del h, y
        nd.waitall()
    (nd.ones((512, 512)) * 2).wait_to_read()   # the engine worker lets go of the last op it ran (not inline)
    nd.waitall()
    gc.collect()
    assert backward_plans.cache_info()["size"] == 1
    assert all(r() is None for r in refs)


def test_the_backward_reads_the_new_arrays_before_they_change():
    # every push of the kept plan declares the call's own arrays: a small in-place write to x right after
    # backward() (which would run at once, in this thread, if nothing were reading x) waits for the backward
    rs = np.random.RandomState(4)
    w = nd.array(rs.randn(1024, 1024).astype(np.float32))
    w.attach_grad()
    for _ in range(6):
        x_np = rs.randn(16, 1024).astype(np.float32)        # 64 KB: an op writing it may run inline
        x = nd.array(x_np)
        with autograd.record():
            y = nd.sum(nd.dot(x, w))
        y.backward()
        x *= 0
        np.testing.assert_allclose(w.grad.asnumpy(), np.repeat(x_np.sum(0)[:, None], 1024, 1), rtol=1e-4,
                                   atol=1e-3)


def test_two_heads_with_their_own_gradients():
    x = nd.array([1.0, 2.0, 3.0])
    x.attach_grad()
    for a, b in ((1.0, 2.0), (-1.0, 0.5), (3.0, 0.0)):
        with autograd.record():
            y1 = x * x
            y2 = nd.exp(x)
        autograd.backward([y1, y2], [nd.full((3,), a), nd.full((3,), b)])
        xv = x.asnumpy()
        np.testing.assert_allclose(x.grad.asnumpy(), a * 2 * xv + b * np.exp(xv), rtol=1e-5)
    assert _misses() == 1 and _hits() == 2


def test_threads_sharing_one_plan_get_their_own_gradients():
    # one signature, one kept plan: each thread's push binds its own arrays while no other run of the plan is on
    import threading
    errors = []

    def train(seed):
        try:
            rs = np.random.RandomState(seed)
            params = _attached(_mlp_params(rs))
            for _ in range(5):
                x_np = rs.randn(3, 5)
                with autograd.record():
                    loss = _mlp_loss(nd.array(x_np, dtype="float64"), *params)
                loss.backward()
                want = _numpy_grads(x_np, *[p.asnumpy() for p in params])[1:]
                for p, w in zip(params, want):
                    np.testing.assert_allclose(p.grad.asnumpy(), w, rtol=1e-10, atol=1e-10)
        except Exception as err:    # noqa: BLE001 - reported by the main thread
            errors.append(err)

    train(9)        # the plan is made here, so that the threads find it
    threads = [threading.Thread(target=train, args=(seed,)) for seed in (10, 11, 12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert backward_plans.cache_info()["size"] == 1 and _misses() == 1 and _hits() == 19


def test_lru_bound(monkeypatch):
    monkeypatch.setattr(backward_plans, "LIMIT", 3)
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    for rows in (1, 2, 3, 4, 5, 1):
        v = nd.array(np.arange(rows * 2, dtype=np.float32).reshape(rows, 2))
        with autograd.record():
            y = nd.sum(nd.broadcast_mul(v, x.reshape((1, 2))))
        y.backward()
        np.testing.assert_allclose(x.grad.asnumpy(), v.asnumpy().sum(0))
        assert backward_plans.cache_info()["size"] <= 3
    assert _misses() == 6      # rows=1 was evicted


def test_switched_off_keeps_nothing(monkeypatch):
    monkeypatch.setenv("DATAFLOW_AUTOGRAD_PLAN_CACHE", "0")
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    for _ in range(2):
        with autograd.record():
            y = nd.sum(x * x)
        y.backward()
        np.testing.assert_allclose(x.grad.asnumpy(), [2.0, 4.0])
    assert backward_plans.cache_info() == {"hits": 0, "misses": 0, "size": 0}


def test_debug_line_on_miss_only(monkeypatch, capsys):
    monkeypatch.setenv("DATAFLOW_DEBUG", "1")
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    for _ in range(3):
        with autograd.record():
            y = nd.sum(x * x)
        y.backward()
    nd.waitall()
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("autograd:")]
    assert len(lines) == 1 and "kept" in lines[0]


def test_function_and_create_graph_are_not_cached():
    class Square(autograd.Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x * x

        def backward(self, dy):
            x, = self.saved_tensors
            return 2 * x * dy

    x = nd.array([1.0, 3.0])
    x.attach_grad()
    for _ in range(2):
        with autograd.record():
            y = nd.sum(Square()(x))
        y.backward()
        np.testing.assert_allclose(x.grad.asnumpy(), [2.0, 6.0])
        with autograd.record():
            z = x * x * x
            dx = autograd.grad(z, [x], create_graph=True)[0]
        dx.backward()
        np.testing.assert_allclose(x.grad.asnumpy(), [6.0, 18.0])      # d/dx 3x^2
    assert backward_plans.cache_info()["size"] == 1     # the plan of dx's backward (an ordinary graph)


def test_sparse_embedding_gradient_over_steps():
    vocab, dim = 50, 4
    rs = np.random.RandomState(5)
    emb = mx.gluon.nn.Embedding(vocab, dim, sparse_grad=True)
    emb.initialize()
    w0 = rs.randn(vocab, dim).astype(np.float32)
    emb.weight.set_data(nd.array(w0))
    for _ in range(3):
        ids = rs.randint(0, vocab, (3, 4))
        with autograd.record():
            y = emb(nd.array(ids))
            loss = nd.sum(y * y)
        loss.backward()
        grad = emb.weight.grad()
        assert grad.stype == "row_sparse"
        want = np.zeros((vocab, dim), np.float32)
        np.add.at(want, ids.reshape(-1), 2 * w0[ids.reshape(-1)])
        np.testing.assert_allclose(grad.asnumpy(), want, rtol=1e-6)
        np.testing.assert_array_equal(grad.indices.asnumpy(), np.unique(ids))
    assert _misses() == 1 and _hits() == 2


def test_row_sparse_attached_gradient_over_steps():
    w_np = np.arange(12, dtype=np.float32).reshape(6, 2)
    w = nd.array(w_np)
    w.attach_grad(stype="row_sparse")       # computed dense, read back row_sparse
    for idx in ([0, 2], [5, 2], [1, 1]):
        with autograd.record():
            y = nd.sum(nd.take(w, nd.array(idx)) * 3)
        y.backward()
        want = np.zeros_like(w_np)
        np.add.at(want, idx, 3.0)
        assert w.grad.stype == "row_sparse"
        np.testing.assert_array_equal(w.grad.asnumpy(), want)
        np.testing.assert_array_equal(w.grad.indices.asnumpy(), np.unique(idx))
    assert _misses() == 1 and _hits() == 2


def _batchnorm_run(monkeypatch, cache, steps=3):
    monkeypatch.setenv("DATAFLOW_AUTOGRAD_PLAN_CACHE", "1" if cache else "0")
    mx.random.seed(7)
    net = mx.gluon.nn.Sequential()
    net.add(mx.gluon.nn.Dense(6), mx.gluon.nn.BatchNorm(), mx.gluon.nn.Dense(2))
    net.initialize(mx.init.Xavier())
    rs = np.random.RandomState(8)
    out = []
    for _ in range(steps):
        x = nd.array(rs.randn(5, 4))
        with autograd.record():
            loss = nd.sum(net(x) ** 2)
        loss.backward()
        bn = net[1]
        out.append([p.grad().asnumpy().copy() for p in net.collect_params().values() if p.grad_req != "null"]
                   + [bn.running_mean.data().asnumpy().copy(), bn.running_var.data().asnumpy().copy()])
    return out


def test_batchnorm_training_moving_stats_and_gradients(monkeypatch):
    off = _batchnorm_run(monkeypatch, False)
    on = _batchnorm_run(monkeypatch, True)
    for a_step, b_step in zip(off, on):
        for a, b in zip(a_step, b_step):
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    assert not np.allclose(on[0][-2], on[-1][-2])     # the backward moved the statistics every step
    assert _misses() == 1 and _hits() == 2


def test_segmented_backward_through_the_kept_plan(monkeypatch):
    batch = lambda rs, k: rs.randn(4, 5)       # noqa: E731
    one = _train_steps(monkeypatch, True, 3, batch)
    backward_plans.clear()
    monkeypatch.setenv("DATAFLOW_BACKWARD_SEGMENTS", "3")
    cut = _train_steps(monkeypatch, True, 3, batch)
    for a_step, b_step in zip(one, cut):
        for a, b in zip(a_step, b_step):
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    assert _misses() == 1 and _hits() == 2


def test_hybridized_blocks_are_not_kept():
    net = mx.gluon.nn.Dense(3)
    net.initialize()
    net.hybridize()
    for _ in range(2):
        with autograd.record():
            y = nd.sum(net(nd.ones((2, 4))))
        y.backward()
        np.testing.assert_allclose(net.bias.grad().asnumpy(), [2.0, 2.0, 2.0])
    assert backward_plans.cache_info()["size"] == 0


@settings(max_examples=15, deadline=None)
@given(rows=st.lists(st.sampled_from([1, 2, 3]), min_size=2, max_size=6),
       req=st.sampled_from(["write", "add"]), seed=st.integers(0, 2 ** 16))
def test_any_sequence_of_batches_gives_numpy_gradients(rows, req, seed):
    backward_plans.clear()
    rs = np.random.RandomState(seed)
    params = _attached(_mlp_params(rs, n_in=3, n_hidden=4, n_out=2), req)
    total = [np.zeros(p.shape) for p in params]
    for n in rows:
        x_np = rs.randn(n, 3)
        with autograd.record():
            loss = _mlp_loss(nd.array(x_np, dtype="float64"), *params)
        loss.backward()
        want = _numpy_grads(x_np, *[p.asnumpy() for p in params])[1:]
        total = [t + w for t, w in zip(total, want)] if req == "add" else want
        for p, t in zip(params, total):
            np.testing.assert_allclose(p.grad.asnumpy(), t, rtol=1e-9, atol=1e-9)
    assert backward_plans.cache_info()["misses"] == len(set(rows))
