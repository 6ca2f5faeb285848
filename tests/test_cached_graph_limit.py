"""A hybridized block keeps at most DATAFLOW_CACHED_GRAPH_LIMIT compiled graphs (issue 14, item 9).

Each compiled graph holds an arena sized for its input shapes; fed many batch sizes, a block used to keep one per
size forever. Truths: numpy's result of the same Dense layer, weak references (an evicted graph and its arena are
freed), and tracemalloc's count of live bytes (numpy reports its buffers to it).
"""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import dataflow as mx
from dataflow.gluon.cached_graph import PlanCache


def _dense(units=64):
    net = mx.gluon.nn.Dense(units, in_units=32)
    net.initialize(mx.init.Uniform(0.5))
    net.hybridize()
    return net


def _want(net, x):
    return x @ net.weight.data().asnumpy().T + net.bias.data().asnumpy()


def test_many_batch_sizes_keep_a_bounded_cache_and_free_the_rest():
    net = _dense()
    rs = np.random.RandomState(0)
    first = None
    for batch in range(1, 41):
        x = rs.uniform(-1, 1, (batch, 32)).astype(np.float32)
        np.testing.assert_allclose(net(mx.nd.array(x)).asnumpy(), _want(net, x), rtol=1e-5, atol=1e-5)
        if first is None:
            first = weakref.ref(net._cached_plans.get(next(iter(net._cached_plans._entries))))
    mx.nd.waitall()
    gc.collect()
    assert len(net._cached_plans) == 16
    assert first() is None                      # the least recently used graph (batch 1) and its arena are gone


def test_the_least_recently_used_signature_goes_first():
    net = _dense(4)
    for batch in range(1, 17):
        net(mx.nd.ones((batch, 32)))
    net(mx.nd.ones((1, 32)))                     # batch 1 is now the most recent
    net(mx.nd.ones((17, 32)))                    # so batch 2 goes
    batches = sorted(key[0][0][0][0] for key in net._cached_plans._entries)
    assert batches == [1] + list(range(3, 18))
    x = np.random.RandomState(1).uniform(-1, 1, (2, 32)).astype(np.float32)
    np.testing.assert_allclose(net(mx.nd.array(x)).asnumpy(), _want(net, x), rtol=1e-5, atol=1e-5)


def test_the_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATAFLOW_CACHED_GRAPH_LIMIT", "3")
    net = _dense(4)
    for batch in range(1, 10):
        net(mx.nd.ones((batch, 32)))
    assert len(net._cached_plans) == 3
    monkeypatch.setenv("DATAFLOW_CACHED_GRAPH_LIMIT", "0")          # no limit
    net.hybridize()
    for batch in range(1, 20):
        net(mx.nd.ones((batch, 32)))
    assert len(net._cached_plans) == 19
    monkeypatch.setenv("DATAFLOW_CACHED_GRAPH_LIMIT", "many")
    with pytest.raises(mx.base.MXNetError, match="DATAFLOW_CACHED_GRAPH_LIMIT"):
        PlanCache()


def test_memory_stays_flat_over_many_batch_sizes():
    net = _dense(256)
    from scheduler.compile import wait_all
    wait_all()      # earlier tests' background compiles (numba's one-time setup) must not count as growth here
    tracemalloc.start()
    try:
        def run(batches):
            for batch in batches:
                net(mx.nd.ones((batch, 32)))
            mx.nd.waitall()
            gc.collect()
            return tracemalloc.get_traced_memory()[0]
        after_warmup = run(range(200, 216))
        run(range(100, 200))
        after_many = run(range(200, 216))       # the cache holds the same 16 signatures as after the warm-up
    finally:
        tracemalloc.stop()
    # kept, the 100 other signatures would add their arenas and outputs, (batch, 256) float32 each: ~15 MB
    assert after_many - after_warmup < 1e6


def test_recorded_calls_free_their_plans_after_backward():
    """Each call under record() runs on its own Plan instance (its arena keeps what backward needs); once the
    outputs and their graph are dropped, that Plan and its arena are freed, call after call."""
    from scheduler.plan import Plan
    net = _dense(128)
    x = mx.nd.ones((8, 32))

    def live_plans():
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is Plan)     # type(): some objects are dead proxies

    def step():
        with mx.autograd.record():
            y = net(x)
        y.backward()
        mx.nd.waitall()
    step()
    before = live_plans()
    for _ in range(10):
        step()
    assert live_plans() <= before
