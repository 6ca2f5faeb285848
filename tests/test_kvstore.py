"""`mx.kv` in one process (dataflow/kvstore/): MXNet 1.9.1's local/device semantics on recorded cases
(tests/fixtures/mxnet-1.9.1/kvstore/, reference/kvstore_fixtures.py), the 2-bit compression against a numpy model of
MXNet's rule and MXNet's record, the registry, and errors. The dist stores run in tests/test_kvstore_dist.py."""
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dataflow as mx
from dataflow.base import MXNetError
from dataflow.kvstore import compression

REC = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "kvstore", "kvstore.npz"))
CTXS = [mx.cpu(0), mx.cpu(1)]
SHAPE = (3, 4)


def _on_ctxs(values):
    return [mx.nd.array(v, ctx=c) for v, c in zip(values, CTXS)]


@pytest.mark.parametrize("kind", ["local", "device"])
def test_push_sums_the_contexts_and_pull_copies_out(kind):
    kv = mx.kv.create(kind)
    assert (kv.type, kv.rank, kv.num_workers) == (kind, *REC[kind + "/type_rank_workers"])
    kv.init(3, mx.nd.array(REC[kind + "/init"]))
    kv.push(3, _on_ctxs(REC[kind + "/push_vals"]))
    out = [mx.nd.zeros(SHAPE, ctx=c) for c in CTXS]
    kv.pull(3, out=out)
    for o, want in zip(out, REC[kind + "/after_push"]):
        np.testing.assert_array_equal(o.asnumpy(), want)


@pytest.mark.parametrize("kind", ["local", "device"])
def test_optimizer_on_the_store_matches_mxnet(kind):
    kv = mx.kvstore.create(kind)
    kv.set_optimizer(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, wd=0.01, rescale_grad=0.5))
    kv.init("w", mx.nd.array(REC[kind + "/init"]))
    for step, want in enumerate(REC[kind + "/sgd_pulls"]):
        kv.push("w", _on_ctxs(REC[kind + "/push_vals"] * (step + 1)))
        out = mx.nd.zeros(SHAPE)
        kv.pull("w", out=out)
        np.testing.assert_allclose(out.asnumpy(), want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("kind", ["local", "device"])
def test_pushpull_and_broadcast_match_mxnet(kind):
    kv = mx.kv.create(kind)
    kv.init(7, mx.nd.zeros(SHAPE))
    out = [mx.nd.zeros(SHAPE, ctx=c) for c in CTXS]
    kv.pushpull(7, _on_ctxs(REC[kind + "/push_vals"]), out=out)
    for o, want in zip(out, REC[kind + "/pushpull"]):
        np.testing.assert_array_equal(o.asnumpy(), want)
    values = _on_ctxs(REC[kind + "/push_vals"])
    kv.pushpull(7, values)                                  # out=None: the result lands in the pushed arrays
    for v in values:
        np.testing.assert_allclose(v.asnumpy(), REC[kind + "/push_vals"].sum(0), rtol=1e-6)
    b = [mx.nd.zeros(SHAPE, ctx=c) for c in CTXS]
    kv.broadcast(9, mx.nd.array(REC[kind + "/init"]), out=b)
    for o, want in zip(b, REC[kind + "/broadcast"]):
        np.testing.assert_array_equal(o.asnumpy(), want)


def test_lists_of_keys_and_a_custom_updater():
    kv = mx.kv.create("local")
    keys = ["a", "b", "c"]
    kv.init(keys, [mx.nd.ones(SHAPE) * i for i in range(3)])
    seen = []

    def updater(key, pushed, stored):
        seen.append(key)
        stored += pushed * 2
    kv._set_updater(updater)
    kv.push(keys, [[mx.nd.ones(SHAPE), mx.nd.ones(SHAPE, ctx=mx.cpu(1))]] * 3)
    outs = [mx.nd.zeros(SHAPE) for _ in keys]
    kv.pull(keys, out=outs)
    assert seen == keys
    for i, o in enumerate(outs):
        np.testing.assert_array_equal(o.asnumpy(), np.full(SHAPE, i + 4.0))


def test_two_bit_compression_matches_mxnet():
    kv = mx.kv.create("device")
    kv.set_gradient_compression({"type": "2bit", "threshold": 0.5})
    kv.init(0, mx.nd.zeros(SHAPE))
    for pushes, want in zip(REC["2bit/pushes"], REC["2bit/pulls"]):
        kv.push(0, _on_ctxs(pushes))
        out = mx.nd.zeros(SHAPE)
        kv.pull(0, out=out)
        np.testing.assert_array_equal(out.asnumpy(), want)


@settings(max_examples=20, deadline=None)
@given(steps=st.lists(st.lists(st.floats(-2, 2, width=32), min_size=5, max_size=5), min_size=1, max_size=6),
       threshold=st.sampled_from([0.25, 0.5, 1.0]))
def test_two_bit_quantizer_keeps_the_residual(steps, threshold):
    """Against numpy: what was sent plus the residual always equals everything pushed so far."""
    quantize = compression.TwoBit(threshold)
    sent = np.zeros(5, np.float64)
    for grad in steps:
        grad = np.array(grad, np.float32)
        q = quantize("k", 0, grad)
        assert set(np.unique(q)) <= {-threshold, 0.0, threshold}
        sent += q
    residual = quantize._residuals[("k", 0)]
    np.testing.assert_allclose(sent + residual, np.sum(np.array(steps, np.float32), 0), atol=1e-5)


def test_optimizer_states_round_trip(tmp_path):
    def pushed(kv, steps):
        for s in steps:
            kv.push(0, mx.nd.ones(SHAPE) * s)
        out = mx.nd.zeros(SHAPE)
        kv.pull(0, out=out)
        return out
    kv = mx.kv.create("local")
    kv.set_optimizer(mx.optimizer.Adam(learning_rate=0.1))
    kv.init(0, mx.nd.ones(SHAPE))
    saved_weight = pushed(kv, [1, 2])
    kv.save_optimizer_states(str(tmp_path / "states"), dump_optimizer=True)     # with Adam's step counts
    want = pushed(kv, [3]).asnumpy()
    fresh = mx.kv.create("local")                   # same weight, new Adam: its first step differs without the states
    fresh.set_optimizer(mx.optimizer.Adam(learning_rate=0.1))
    fresh.init(0, saved_weight)
    assert not np.allclose(pushed(fresh, [3]).asnumpy(), want)
    restored = mx.kv.create("local")
    restored.set_optimizer(mx.optimizer.Adam(learning_rate=0.1))
    restored.init(0, saved_weight)
    restored.load_optimizer_states(str(tmp_path / "states"))
    np.testing.assert_allclose(pushed(restored, [3]).asnumpy(), want, rtol=1e-6)


def test_registry_creates_registered_classes():
    @mx.kvstore.KVStoreBase.register
    class MyStore(mx.kvstore.KVStoreBase):
        pass
    assert type(mx.kv.create("MyStore")) is MyStore
    store = mx.kv.create("teststore")
    vals = [mx.nd.ones(SHAPE), mx.nd.ones(SHAPE) * 2]
    store.pushpull(0, vals)
    np.testing.assert_array_equal(vals[1].asnumpy(), np.full(SHAPE, 3.0))
    assert not store.is_capable(mx.kvstore.KVStoreBase.OPTIMIZER)
    with pytest.raises(ValueError, match="Unknown capability"):
        store.is_capable("sparse")


def test_bad_input_is_a_clear_error():
    kv = mx.kv.create("local")
    with pytest.raises(MXNetError, match=r"key 5 has not been initialized"):
        kv.push(5, mx.nd.ones(SHAPE))
    kv.init(5, mx.nd.ones(SHAPE))
    with pytest.raises(MXNetError, match=r"duplicate init of key 5"):
        kv.init(5, mx.nd.ones(SHAPE))
    with pytest.raises(MXNetError, match=r"key 5 holds shape \(3, 4\), got an array of shape \(4, 3\)"):
        kv.pull(5, out=mx.nd.zeros((4, 3)))
    with pytest.raises(MXNetError, match="inconsistent types of keys"):
        kv.init([1, "a"], [mx.nd.ones(SHAPE)] * 2)
    with pytest.raises(MXNetError, match="not supported for this type of kvstore"):
        kv.set_gradient_compression({"type": "2bit"})
    with pytest.raises(MXNetError, match="unknown type 'int8'"):
        mx.kv.create("device").set_gradient_compression({"type": "int8"})
    with pytest.raises(MXNetError, match="no optimizer"):
        kv.save_optimizer_states("/nonexistent/x")
    with pytest.raises(MXNetError, match="Unknown KVStore type 'dist_magic'"):
        mx.kv.create("dist_magic")
    with pytest.raises(TypeError):
        mx.kv.create(3)


def test_row_sparse_pull_keeps_only_the_asked_rows():
    kv = mx.kv.create("local")
    value = np.arange(12, dtype=np.float32).reshape(4, 3)
    kv.init("emb", mx.nd.array(value))
    out = mx.nd.ones((4, 3))
    kv.row_sparse_pull("emb", out=out, row_ids=mx.nd.array([2, 0, 2]))
    want = np.zeros_like(value)
    want[[0, 2]] = value[[0, 2]]
    np.testing.assert_array_equal(out.asnumpy(), want)
