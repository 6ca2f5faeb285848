"""Overlapping the gradient reduction with the backward (one process; the 2-process checks are in
test_kvstore_dist.py): a segmented hybridized backward (scheduler/segments.py) against the single push,
which pushes publish which gradients, and the asynchronous bucket reduction (dataflow/kvstore/overlap.py) over a
stand-in for the MPI communicator: its sums, its order, and its errors."""
import threading
import time
import types

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import dataflow as mx
from dataflow.base import MXNetError
from dataflow.gluon.cached_graph import _CachedBackward
from dataflow.kvstore import buckets, comm, compression, overlap
from dataflow.kvstore.store import KVStore, _sum
from scheduler import segments as backward_segments
from scheduler.engine import get_engine


# ---- where the backward is cut ----------------------------------------------------------------------------------
@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(10, 40), st.integers(1, 100)), min_size=1, max_size=12), st.integers(1, 6))
def test_ranges_cover_the_backward_and_cut_only_after_a_finishing_step(finishes, count):
    got = backward_segments.ranges(10, 41, finishes, ("count", count))
    assert got[0][0] == 10 and got[-1][1] == 41
    assert all(a < b for a, b in got) and all(got[k][1] == got[k + 1][0] for k in range(len(got) - 1))
    assert {b - 1 for a, b in got[:-1]} <= {step for step, _ in finishes}
    assert len(got) <= count


def test_ranges_group_the_gradients_by_bytes():
    finishes = [(12, 100), (15, 100), (17, 300), (20, 50), (25, 50)]
    assert backward_segments.ranges(10, 30, finishes, ("bytes", 200)) == [(10, 16), (16, 18), (18, 30)]
    assert backward_segments.ranges(10, 30, finishes, ("bytes", 0)) == [(10, 30)]
    assert backward_segments.ranges(10, 30, finishes, ("count", 1)) == [(10, 30)]
    assert backward_segments.ranges(10, 30, [], ("count", 3)) == [(10, 30)]
    assert not backward_segments.asked(("count", 1)) and not backward_segments.asked(("bytes", 0))
    assert backward_segments.asked(("count", 2)) and backward_segments.asked(("bytes", 1))


def test_the_setting_comes_from_the_environment_or_a_request(monkeypatch):
    monkeypatch.delenv("DATAFLOW_BACKWARD_SEGMENTS", raising=False)
    monkeypatch.setattr(backward_segments, "_requested", [None])
    assert backward_segments.setting() == ("bytes", 0)
    backward_segments.request(lambda: 1234)
    assert backward_segments.setting() == ("bytes", 1234)
    monkeypatch.setenv("DATAFLOW_BACKWARD_SEGMENTS", "3")
    assert backward_segments.setting() == ("count", 3)
    monkeypatch.setenv("DATAFLOW_BACKWARD_SEGMENTS", "zero")
    with pytest.raises(MXNetError, match="DATAFLOW_BACKWARD_SEGMENTS"):
        backward_segments.setting()


# ---- a segmented backward computes the single push's gradients -------------------------------------------------
class _Shared(mx.gluon.HybridBlock):
    """One Dense applied twice (its parameters' gradients summed over both uses), then another."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.inner = mx.gluon.nn.Dense(5, activation="tanh", in_units=5)
            self.out = mx.gluon.nn.Dense(3, in_units=5)

    def hybrid_forward(self, F, x):
        return self.out(self.inner(self.inner(x)))


def _mlp():
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Dense(16, activation="relu"), mx.gluon.nn.Dense(12, activation="tanh"),
            mx.gluon.nn.Dense(8, activation="relu"), mx.gluon.nn.Dense(3))
    return net


def _conv():
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Conv2D(4, 3, padding=1), mx.gluon.nn.BatchNorm(), mx.gluon.nn.Activation("relu"),
            mx.gluon.nn.Conv2D(6, 3), mx.gluon.nn.GlobalAvgPool2D(), mx.gluon.nn.Dense(3))
    return net


NETS = {"mlp": (_mlp, (4, 5)), "shared": (_Shared, (4, 5)), "conv_bn": (_conv, (2, 3, 6, 6))}


def _train_grads(make, shape, segments, monkeypatch, grad_req="write", data_grad=False, steps=2):
    """Every parameter's gradient (and moving statistic) after `steps` backwards with the backward cut into
    `segments` pushes (a fresh net from seed 3), and the input's gradient when `data_grad`."""
    monkeypatch.setenv("DATAFLOW_BACKWARD_SEGMENTS", str(segments))
    mx.random.seed(3)
    net = make()
    net.initialize(mx.init.Xavier())
    net.hybridize()
    params = list(net.collect_params().values())
    if grad_req == "add":
        for p in params:
            p.grad_req = "add"
    rs = np.random.RandomState(0)
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    label = mx.nd.array(rs.randint(0, 3, shape[0]))
    x = mx.nd.array(rs.randn(*shape))
    if data_grad:
        x.attach_grad()
    for _ in range(steps):
        with mx.autograd.record():
            loss = loss_fn(net(x), label)
        loss.backward()
    got = [p.grad().asnumpy() if p.grad_req != "null" else p.data().asnumpy() for p in params]
    return got + ([x.grad.asnumpy()] if data_grad else [])


@pytest.mark.parametrize("name", sorted(NETS))
@pytest.mark.parametrize("grad_req", ["write", "add"])
def test_a_segmented_backward_gives_the_gradients_of_one_push(name, grad_req, monkeypatch):
    monkeypatch.setenv("DATAFLOW_JIT", "0")        # the same kernels both ways: bit for bit
    make, shape = NETS[name]
    one = _train_grads(make, shape, 1, monkeypatch, grad_req, data_grad=True)
    cut = _train_grads(make, shape, 3, monkeypatch, grad_req, data_grad=True)
    assert len(one) == len(cut)
    for k, (a, b) in enumerate(zip(one, cut)):
        np.testing.assert_array_equal(a, b, err_msg="array %d of %s" % (k, name))


def test_two_calls_before_one_backward_each_run_their_own_segments(monkeypatch):
    """Two recorded calls of one block (two Plans leased) differentiated together, three times: the same gradients
    cut or not, and no call's Plan is held by a segment once all have run."""
    monkeypatch.setenv("DATAFLOW_JIT", "0")
    got = {}
    for segments in (1, 3):
        monkeypatch.setenv("DATAFLOW_BACKWARD_SEGMENTS", str(segments))
        mx.random.seed(3)
        net = _mlp()
        net.initialize(mx.init.Xavier())
        net.hybridize()
        rs = np.random.RandomState(0)
        a, b = mx.nd.array(rs.randn(4, 5)), mx.nd.array(rs.randn(4, 5))
        for _ in range(3):
            with mx.autograd.record():
                loss = (net(a) * net(b)).sum()
            loss.backward()
        got[segments] = [p.grad().asnumpy() for p in net.collect_params().values()]
        del loss
        mx.nd.waitall()
        (cached,) = [c for c in net._cached_plans._entries.values() if isinstance(c, _CachedBackward)]
        assert all(lease.pending == 0 for lease in cached._out)      # every segment's hold let go when it ran
    for x, y in zip(got[1], got[3]):
        np.testing.assert_array_equal(x, y)


def test_a_non_hybridized_backward_is_cut_at_its_own_gradient_steps(monkeypatch):
    """Recorded imperative ops: autograd's backward cuts its steps itself, the same gradients either way, the last
    layer's published by the first push."""
    pushes = []
    engine = get_engine()

    class Recording:
        def __getattr__(self, name):
            return getattr(engine, name)

        def push(self, fn, reads=(), writes=(), name="op", inline=False):
            pushes.append((name, list(writes)))
            return engine.push(fn, reads, writes, name, inline)
    monkeypatch.setattr(backward_segments, "get_engine", lambda: Recording())
    got = {}
    for segments in (1, 4):
        monkeypatch.setenv("DATAFLOW_BACKWARD_SEGMENTS", str(segments))
        mx.random.seed(3)
        net = _mlp()
        net.initialize(mx.init.Xavier())
        x = mx.nd.array(np.random.RandomState(0).randn(4, 5))
        with mx.autograd.record():
            loss = net(x).sum()
        loss.backward()
        params = list(net.collect_params().values())
        got[segments] = [p.grad().asnumpy() for p in params]
    backward = [writes for name, writes in pushes if name.startswith("backward")]
    assert len(backward) >= 2
    assert any(w is params[-1].grad()._var for w in backward[0])
    assert not any(w is params[0].grad()._var for w in backward[0])
    for a, b in zip(got[1], got[4]):
        np.testing.assert_array_equal(a, b)


def test_compiled_segments_agree_with_one_compiled_push(monkeypatch):
    # each range compiles on its own (fusion stops at a cut): float32 rounding may differ in the last bit
    one = _train_grads(_conv, (2, 3, 6, 6), 1, monkeypatch, steps=3)
    cut = _train_grads(_conv, (2, 3, 6, 6), 4, monkeypatch, steps=3)
    for a, b in zip(one, cut):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_each_push_publishes_the_gradients_it_finishes(monkeypatch):
    """The engine ops of a backward cut in 3 (4 asked for: 431 floats of gradients in groups of >= 108, finishing in
    the order 27, 104, 204, 96 per layer): the first writes the last layer's gradients (so a reader of those may
    start while the rest runs), the last the first layer's and the input's; every gradient is written once."""
    pushes = []
    engine = backward_segments.get_engine()

    class Recording:
        def __getattr__(self, name):
            return getattr(engine, name)

        def push(self, fn, reads=(), writes=(), name="op", inline=False):
            pushes.append((name, list(writes)))
            return engine.push(fn, reads, writes, name, inline)
    monkeypatch.setattr(backward_segments, "get_engine", lambda: Recording())
    monkeypatch.setenv("DATAFLOW_BACKWARD_SEGMENTS", "4")
    mx.random.seed(3)
    net = _mlp()
    net.initialize(mx.init.Xavier())
    net.hybridize()
    x = mx.nd.array(np.random.RandomState(0).randn(4, 5))
    x.attach_grad()
    with mx.autograd.record():
        loss = net(x).sum()
    loss.backward()
    mx.nd.waitall()
    backward = [(name, writes) for name, writes in pushes if name.startswith("backward")]
    assert len(backward) == 3, [name for name, _ in pushes]
    grads = [p.grad()._var for p in net.collect_params().values()]     # first layer first
    where = {id(v): [k for k, (_, writes) in enumerate(backward) if any(w is v for w in writes)]
             for v in grads + [x.grad._var]}
    assert all(len(k) == 1 for k in where.values()), where
    assert where[id(grads[-1])] == [0] and where[id(grads[-2])] == [0]      # the last Dense's weight and bias
    assert where[id(grads[0])] == [2] and where[id(x.grad._var)] == [2]
    order = sorted(where[id(v)][0] for v in grads)
    assert order == sorted(order) and order[0] < order[-1]


# ---- the asynchronous reduction, over a stand-in communicator ----------------------------------------------------
class _Request:
    def __init__(self, done):
        self.done = done

    def Test(self):
        return self.done


class _TwoWorkers:
    """An MPIGroup (its own methods over a stand-in communicator) of 2 workers that push the same values: an
    allreduce doubles, an allgather repeats; `completes=False`: no collective ever completes."""
    size, rank = 2, 0
    _wait, start_allreduce, finish, allreduce, progress = (
        comm.MPIGroup._wait, comm.MPIGroup.start_allreduce, comm.MPIGroup.finish, comm.MPIGroup.allreduce,
        comm.MPIGroup.progress)
    _mpi = types.SimpleNamespace(SUM="sum")

    def __init__(self, completes=True):
        self._comm, self.completes, self.reduced, self.gathered = self, completes, [], []

    def Idup(self):
        return self, _Request(True)

    def Iallreduce(self, send, recv, op):
        self.reduced.append(send.size)
        recv[...] = 2 * send
        return _Request(self.completes)

    def Iallgather(self, send, recv):
        self.gathered.append(send.copy())
        recv[...] = send
        return _Request(self.completes)

    def check_same(self, signature, what):
        pass

    def broadcast(self, array, what):
        return array


def _gradients(rs, sizes):
    return [[mx.nd.array(rs.randn(n).astype(np.float32)), mx.nd.array(rs.randn(n).astype(np.float32))]
            for n in sizes]


def test_buckets_reduce_in_push_order_whatever_order_the_engine_packs_them(monkeypatch):
    monkeypatch.setenv("DATAFLOW_KVSTORE_BUCKET_BYTES", "40")       # one key (10 floats) per bucket
    group, rs = _TwoWorkers(), np.random.RandomState(1)
    sizes = [10, 9, 8, 7]
    values = _gradients(rs, sizes)
    want = [2 * (a.asnumpy() + b.asnumpy()) for a, b in values]
    gate = threading.Event()
    first = values[0][0]
    get_engine().push(lambda: gate.wait(10) and time.sleep(0.05), [], [first._var], "slow writer of key 0")
    overlap.reduce_async(group, [0, 1, 2, 3], values, values, [(a.shape, np.float32) for a, _ in values],
                         lambda i, arrays, into: _sum(arrays, into))
    time.sleep(0.2)                  # the packs of keys 1-3 ran; their allreduces wait for key 0's
    assert group.reduced == []
    gate.set()
    for k, (a, b) in enumerate(values):
        np.testing.assert_allclose(a.asnumpy(), want[k], rtol=1e-6)
        np.testing.assert_allclose(b.asnumpy(), want[k], rtol=1e-6)
    assert group.reduced == sizes


def test_a_reduction_that_never_completes_fails_every_bucket_in_bounded_time(monkeypatch):
    monkeypatch.setenv("DATAFLOW_KVSTORE_TIMEOUT", "1")
    monkeypatch.setenv("DATAFLOW_KVSTORE_BUCKET_BYTES", "40")
    group = _TwoWorkers(completes=False)
    values = _gradients(np.random.RandomState(2), [10, 10, 10])
    t = time.monotonic()
    overlap.reduce_async(group, ["a", "b", "c"], values, values, [(a.shape, np.float32) for a, _ in values],
                         lambda i, arrays, into: _sum(arrays, into))
    with pytest.raises(MXNetError, match="the push of key 'a' .* did not complete on all 2 workers within 1 s"):
        values[0][0].asnumpy()
    with pytest.raises(MXNetError, match="the push of key 'a' .* did not complete"):     # the cause, passed on
        values[2][1].asnumpy()
    assert time.monotonic() - t < 30
    with pytest.raises(MXNetError):
        mx.nd.waitall()         # acknowledges the errors (each failed op's error is reported once)
    assert len(group.reduced) == 1      # the thread stopped at the first failure


def test_a_failed_pack_fails_its_bucket_and_the_later_ones(monkeypatch):
    monkeypatch.setenv("DATAFLOW_KVSTORE_BUCKET_BYTES", "40")
    group = _TwoWorkers()
    values = _gradients(np.random.RandomState(3), [10, 10])

    def fill(i, arrays, into):
        if i == 0:
            raise ValueError("no sum for key 0")
        _sum(arrays, into)
    overlap.reduce_async(group, [0, 1], values, values, [(a.shape, np.float32) for a, _ in values], fill)
    with pytest.raises(MXNetError, match="no sum for key 0"):
        values[0][0].asnumpy()
    with pytest.raises(MXNetError, match="no sum for key 0"):         # passed on by the engine
        values[1][0].asnumpy()
    with pytest.raises(MXNetError):
        mx.nd.waitall()
    assert group.reduced == []


def test_the_overlap_switch(monkeypatch):
    monkeypatch.setenv("DATAFLOW_KVSTORE_OVERLAP", "0")
    assert not overlap.enabled() and overlap.segment_bytes() == 0
    monkeypatch.setenv("DATAFLOW_KVSTORE_OVERLAP", "1")
    assert overlap.segment_bytes() == buckets.bucket_bytes()
    assert not overlap.applies(comm.Solo(), [mx.nd.ones(2)])        # one worker: nothing to overlap
    monkeypatch.setenv("DATAFLOW_KVSTORE_OVERLAP", "yes")
    with pytest.raises(MXNetError, match="DATAFLOW_KVSTORE_OVERLAP"):
        overlap.enabled()


def test_after_a_failure_the_thread_fails_later_buckets_at_once():
    thread = overlap.CommThread(_TwoWorkers())
    first, second = thread.ticket(), thread.ticket()
    thread.fail(first, ValueError("lost"))
    thread.submit(second, np.ones(3, np.float32), "the push of key 9")
    with pytest.raises(ValueError, match="lost"):
        thread.result(first)
    with pytest.raises(comm.KVStoreTimeout, match="the push of key 9 was not reduced: an earlier bucket failed"):
        thread.result(second)


# ---- a bound Executor (Module) cuts its backward the same way -----------------------------------------------------
def _executor_grads(segments, grad_req, monkeypatch):
    monkeypatch.setenv("DATAFLOW_BACKWARD_SEGMENTS", str(segments))
    data = mx.sym.var("data")
    net = data
    for k, hidden in enumerate((16, 12, 8, 3)):
        net = mx.sym.FullyConnected(net, num_hidden=hidden, name="fc%d" % k)
        net = mx.sym.Activation(net, act_type="tanh") if k < 3 else net
    net = mx.sym.SoftmaxOutput(net, name="softmax")
    ex = net.simple_bind(mx.cpu(), grad_req=grad_req, data=(4, 5))
    rs = np.random.RandomState(0)
    for name, array in ex.arg_dict.items():
        array[:] = rs.randint(0, 3, array.shape) if name == "softmax_label" else rs.randn(*array.shape) * 0.5
    for _ in range(2):
        ex.forward(is_train=True)
        ex.backward()
    return ex, {n: g.asnumpy() for n, g in ex.grad_dict.items() if g is not None}


@pytest.mark.parametrize("grad_req", ["write", "add"])
def test_a_segmented_executor_backward_gives_the_gradients_of_one_push(grad_req, monkeypatch):
    monkeypatch.setenv("DATAFLOW_JIT", "0")
    _, one = _executor_grads(1, grad_req, monkeypatch)
    _, cut = _executor_grads(3, grad_req, monkeypatch)
    assert sorted(one) == sorted(cut)
    for name in one:
        np.testing.assert_array_equal(one[name], cut[name], err_msg=name)


def test_the_executor_publishes_the_last_layer_first(monkeypatch):
    pushes = []
    engine = get_engine()

    class Recording:
        def __getattr__(self, name):
            return getattr(engine, name)

        def push(self, fn, reads=(), writes=(), name="op", inline=False):
            pushes.append((name, list(writes)))
            return engine.push(fn, reads, writes, name, inline)
    monkeypatch.setattr(backward_segments, "get_engine", lambda: Recording())
    ex, _ = _executor_grads(4, "write", monkeypatch)
    mx.nd.waitall()
    first_backward = [writes for name, writes in pushes if name.startswith("backward")][:3]
    assert len(first_backward) == 3

    def push_of(name):
        var = ex.grad_dict[name]._var
        return [k for k, writes in enumerate(first_backward) if any(w is var for w in writes)]
    assert push_of("fc3_weight") == [0] and push_of("fc3_bias") == [0]
    assert push_of("fc0_weight") == [2] and push_of("data") == [2]



# ---- the packed 2-bit wire form ----------------------------------------------------------------------------------
def _packed_model(values, threshold):
    """MXNet's layout in numpy: value i in byte i // 4, bits 7-6 down to 1-0; 0b11 +threshold, 0b10 -threshold."""
    codes = np.where(values >= threshold, 3, np.where(values <= -threshold, 2, 0)).astype(np.uint8)
    codes = np.concatenate([codes, np.zeros(-len(codes) % 16, np.uint8)])
    return (codes[0::4] << 6) | (codes[1::4] << 4) | (codes[2::4] << 2) | codes[3::4]


def test_the_wire_form_packs_16_values_to_a_word_in_mxnets_layout():
    wire = compression.TwoBitWire(0.5)
    assert list(wire.encode(np.array([0.5, -0.5, 0, 0.5], np.float32))) == [0b11100011, 0, 0, 0]
    assert wire.nbytes(16) == 4 and wire.nbytes(17) == 8 and wire.nbytes(0) == 0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from([-1, 0, 1]), min_size=1, max_size=70), st.integers(1, 4),
       st.sampled_from([0.5, 0.1, 2.0]))
def test_the_wire_form_round_trips_and_sums_in_rank_order(signs, workers, threshold):
    wire = compression.TwoBitWire(threshold)
    t = np.float32(threshold)
    rows = [np.roll(np.array(signs, np.float32), r) * t for r in range(workers)]
    packed = [wire.encode(v) for v in rows]
    for v, p in zip(rows, packed):
        np.testing.assert_array_equal(p, _packed_model(v, t))
    want = np.zeros(len(signs), np.float32)
    for v in rows:
        want += v
    np.testing.assert_array_equal(wire.decode_sum(np.stack(packed), len(signs)), want)


@pytest.mark.parametrize("overlapped", ["1", "0"])
def test_compressed_pushes_of_one_context_travel_packed(overlapped, monkeypatch):
    """A dist store (over the stand-in group) with 2-bit compression: one array per key is gathered packed and gives
    the sum of the workers' quantised values (numpy's TwoBit model: 2 equal workers); two per key go as float32."""
    monkeypatch.setenv("DATAFLOW_KVSTORE_OVERLAP", overlapped)
    kv = KVStore("device")
    group = kv._group = _TwoWorkers()
    kv.set_gradient_compression({"type": "2bit", "threshold": 0.5})
    rs = np.random.RandomState(4)
    shapes = [(3, 7), (20,)]
    kv.init([0, 1], [mx.nd.zeros(s) for s in shapes])
    model = compression.TwoBit(0.5)
    for step in range(3):
        grads = [rs.randn(*s).astype(np.float32) for s in shapes]
        arrays = [mx.nd.array(g) for g in grads]
        kv.pushpull([0, 1], arrays)
        for k, (g, a) in enumerate(zip(grads, arrays)):
            np.testing.assert_array_equal(a.asnumpy(), 2 * model(k, 0, g), err_msg="step %d key %d" % (step, k))
    assert group.reduced == [] and len(group.gathered) == 3
    assert all(p.dtype == np.uint8 and p.size == compression.TwoBitWire.nbytes(21 + 20) for p in group.gathered)
    kv.pushpull([0, 1], [[mx.nd.ones(s), mx.nd.ones(s)] for s in shapes])       # 2 contexts: float32
    mx.nd.waitall()
    assert group.reduced == [41] and len(group.gathered) == 3
