"""Gradient buckets (dataflow/kvstore/buckets.py) in one process: how a list push is cut into buckets, and that
packing, reducing through a group and unpacking return each key's own sum. The group is a fake that plays two
workers (the other worker pushes a known array), so the truth is numpy arithmetic on the values pushed. The same over
a real 2-process MPI job: tests/test_kvstore_dist.py."""
import numpy as np
import pytest

from dataflow.base import MXNetError
from dataflow.kvstore import buckets


def test_entries_fill_one_bucket_per_dtype_in_order():
    entries = [((2, 3), np.float32), ((4,), np.float64), ((5,), np.float32), ((), np.float64)]
    got = buckets.plan(entries, limit=1 << 20)
    assert [(b.dtype, b.size) for b in got] == [(np.float32, 11), (np.float64, 5)]
    assert got[0].slots == (buckets.Slot(0, 0, 6), buckets.Slot(2, 6, 5))
    assert got[1].slots == (buckets.Slot(1, 0, 4), buckets.Slot(3, 4, 1))


def test_a_bucket_closes_before_the_entry_that_would_pass_the_limit():
    # float32 entries of 10, 15, 6, 30 elements with a 100-byte limit: 40 + 60 = 100 fits exactly, 24 more does not;
    # 24 then 120 bytes: the 30-element entry is alone in a bucket over the limit (arrays are never split)
    entries = [((10,), np.float32), ((15,), np.float32), ((6,), np.float32), ((30,), np.float32)]
    got = buckets.plan(entries, limit=100)
    assert [[s.index for s in b.slots] for b in got] == [[0, 1], [2], [3]]
    assert [b.nbytes for b in got] == [100, 24, 120]
    assert [s.offset for s in got[0].slots] == [0, 10]


def test_dtypes_interleaved_across_the_limit():
    entries = [((8,), np.float16), ((8,), np.float32), ((8,), np.float16), ((8,), np.float32),
               ((8,), np.float16), ((8,), np.int32)]
    got = buckets.plan(entries, limit=40)       # 2 float16 entries (32 bytes) fit, a third does not; 1 float32
    assert [(np.dtype(b.dtype).name, [s.index for s in b.slots]) for b in got] == [
        ("float32", [1]), ("float16", [0, 2]), ("float32", [3]), ("float16", [4]), ("int32", [5])]


class TwoWorkers:
    """A group of two workers where the other one pushes `other(flat)`; records every collective."""
    rank, size = 0, 2

    def __init__(self, other):
        self.other = other
        self.started, self.checked, self.progressed = [], [], 0

    def check_same(self, signature, what):
        self.checked.append(signature)

    def start_allreduce(self, array, what, wire=None):
        assert wire is None         # no compression here: float32 on the wire
        self.started.append((array.dtype, array.size, what))
        return array + self.other(array)

    def progress(self, started):
        self.progressed += len(started)

    def finish(self, started):
        return started


# 64 bytes: float32 keys 0 (48 bytes), 2 (32) and 5 (36) cannot share one, so every key is a bucket of its own,
# reduced in key order; 1 MiB: one bucket per dtype, the float32 one (keys 0, 2, 5) complete last
@pytest.mark.parametrize("limit, messages", [
    (64, [("float32", 12), ("float64", 7), ("float32", 8), ("float16", 1), ("int32", 5), ("float32", 9)]),
    (1 << 20, [("float64", 7), ("float16", 1), ("int32", 5), ("float32", 29)])])
@pytest.mark.parametrize("in_flight", [1, 3])
def test_allreduce_returns_each_keys_sum_over_the_workers(limit, messages, in_flight):
    rs = np.random.RandomState(0)
    shapes = [(3, 4), (7,), (2, 2, 2), (), (5,), (1, 9)]
    dtypes = [np.float32, np.float64, np.float32, np.float16, np.int32, np.float32]
    sums = [np.asarray(rs.randn(*s)).astype(d) if d is not np.int32 else rs.randint(-9, 9, s).astype(d)
            for s, d in zip(shapes, dtypes)]
    group = TwoWorkers(other=lambda flat: np.arange(flat.size).astype(flat.dtype))
    filled = []

    def fill(i, out):
        filled.append(i)
        out[...] = sums[i].reshape(-1)

    keys = ["k%d" % i for i in range(len(sums))]
    got = buckets.allreduce(group, keys, [(s.shape, s.dtype) for s in sums], fill, limit=limit, in_flight=in_flight)
    for i, s in enumerate(sums):
        # the other worker's part of key i is the positions of key i's elements in its bucket
        bucket = next(b for b in buckets.plan([(x.shape, x.dtype) for x in sums], limit)
                      if any(slot.index == i for slot in b.slots))
        offset = next(slot.offset for slot in bucket.slots if slot.index == i)
        want = s + np.arange(offset, offset + s.size).astype(s.dtype).reshape(s.shape)
        assert got[i].shape == s.shape and got[i].dtype == s.dtype
        np.testing.assert_array_equal(got[i], want, err_msg=keys[i])
    assert sorted(filled) == list(range(len(sums)))
    assert [(np.dtype(d).name, n) for d, n, _ in group.started] == messages
    assert group.started[1][2] == "the push of key %s" % ("'k1' (a 56-byte bucket)" if limit == 64 else
                                                          "'k3' (a 2-byte bucket)")
    assert group.checked == [buckets.signature(keys, [(s.shape, s.dtype) for s in sums])]
    assert "'k0' (3, 4) float32" in group.checked[0]


def test_bucket_size_from_the_environment(monkeypatch):
    monkeypatch.delenv("DATAFLOW_KVSTORE_BUCKET_BYTES", raising=False)
    assert buckets.bucket_bytes() == buckets.DEFAULT_BUCKET_BYTES == 4 << 20
    monkeypatch.setenv("DATAFLOW_KVSTORE_BUCKET_BYTES", "1000")
    assert buckets.bucket_bytes() == 1000
    for bad in ("0", "-5", "4MB"):
        monkeypatch.setenv("DATAFLOW_KVSTORE_BUCKET_BYTES", bad)
        with pytest.raises(MXNetError, match="DATAFLOW_KVSTORE_BUCKET_BYTES must be a positive"):
            buckets.bucket_bytes()


@pytest.mark.parametrize("compress", [False, True])
def test_a_stores_list_push_equals_its_per_key_pushes(compress):
    """A dist store (its group a fake of 2 workers, the other pushing twice this one's sum): a list push of keys
    pushed from 2 contexts gives what one push per key gives, with the optimizer and with 2-bit compression."""
    import dataflow as mx

    class Doubling(TwoWorkers):
        def allreduce(self, array, what, wire=None):
            return self.finish(self.start_allreduce(array, what, wire))

        def broadcast(self, array, what):
            return array

    rs = np.random.RandomState(1)
    shapes = [(4, 3), (6,), (2, 5), (3,)]
    dtypes = ["float32", "float32", "float64", "float32"]
    grads = [[mx.nd.array(rs.randn(*s), dtype=d, ctx=mx.cpu(c)) for c in range(2)] for s, d in zip(shapes, dtypes)]
    results = []
    for listed in (True, False):
        kv = mx.kv.create("local")
        kv._group = Doubling(other=lambda flat: 2 * flat)
        if compress:
            kv._type = "dist_sync"
            kv.set_gradient_compression({"type": "2bit", "threshold": 0.5})
        kv.init(list(range(4)), [mx.nd.ones(s, dtype=d) for s, d in zip(shapes, dtypes)])
        kv.set_optimizer(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9))
        for _ in range(2):
            if listed:
                kv.push(list(range(4)), grads)
            else:
                for k in range(4):
                    kv.push(k, grads[k])
        outs = [mx.nd.zeros(s, dtype=d) for s, d in zip(shapes, dtypes)]
        kv.pull(list(range(4)), out=outs)
        results.append(([o.asnumpy() for o in outs], len(kv._group.started)))
    (listed, messages), (per_key, per_key_messages) = results
    # float32 and float64 buckets, twice; compressed gradients are all float32: one bucket
    assert messages == 2 * (1 if compress else 2) and per_key_messages == 2 * 4
    for k, (a, b) in enumerate(zip(listed, per_key)):
        np.testing.assert_array_equal(a, b, err_msg="key %d" % k)
    # the truth for key 1 without compression: SGD with momentum on 3 x (g0 + g1), twice
    if not compress:
        g = 3 * (grads[1][0].asnumpy() + grads[1][1].asnumpy())
        w, m = np.ones(6, np.float32), np.zeros(6, np.float32)
        for _ in range(2):
            m = 0.9 * m - 0.1 * g
            w = w + m
        np.testing.assert_allclose(listed[1], w, rtol=1e-6)


def test_trainer_reduction_is_one_list_call_on_our_stores_and_per_key_on_registered_ones():
    import dataflow as mx
    from dataflow.kvstore import pushpull_all

    calls = []

    class Recording(mx.kv.KVStoreBase):
        reduces_lists = False

        def pushpull(self, key, value, out=None, priority=0):
            calls.append((key, len(value), priority))

    class Listing(Recording):
        reduces_lists = True

    grads = [[mx.nd.ones((2,))], [mx.nd.ones((3,)), mx.nd.ones((3,))]]
    pushpull_all(Recording(), [4, 7], grads)
    assert calls == [(4, 1, -4), (7, 2, -7)]         # MXNet's Trainer: one call per key, priority -index
    del calls[:]
    pushpull_all(Listing(), [4, 7], grads)
    assert calls == [([4, 7], 2, 0)]
    del calls[:]
    pushpull_all(Listing(), [], [])
    assert calls == []
