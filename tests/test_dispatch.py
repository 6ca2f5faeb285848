"""The cheap dispatch paths and what they must keep of MXNet's semantics.

- Imperative calls (`mx.nd.X`, NDArray arithmetic) reuse a parsed call form and the inferred outputs per input
  signature (dataflow/ndarray/ndarray.py, Note [the imperative fast path]): results must still follow the params,
  shapes and dtypes of each call (numpy is the truth), autograd must still record, errors still surface at the wait.
- A hybridized block repeats its last call without the full lookup (dataflow/gluon/block.py, Note [the hybridized
  fast path]): a new shape, dtype, training mode, re-initialised or cast parameters, or `autograd.record()` must
  still reach the right graph.
- A write into part of an array (an op's `out=y[0:1]`, `copyto` into a slice) keeps an error stored on the
  array (issue 14): `y.asnumpy()` raises instead of exposing uninitialised memory; a full overwrite still clears it.
"""
import threading
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dataflow as mx
from dataflow import autograd
from dataflow.gluon import nn
from dataflow.gluon.parameter import Parameter
from scheduler.engine import ThreadedEngine


def _failed_array():
    """An array whose computation failed (take with an index out of range), as in issue 14."""
    x = mx.nd.array(np.arange(4.0))
    return mx.nd.take(x, mx.nd.array([7, 7, 7, 7]), mode="raise") + 1


def _acknowledge():
    try:
        mx.nd.waitall()
    except mx.base.MXNetError:
        pass


# ---- partial writes keep a stored error (issue 14) -----------------------------------------------------------

PARTIAL_WRITES = {
    "setitem": lambda y: y.__setitem__(slice(0, 1), 5),
    "op out= slice": lambda y: mx.nd.relu(mx.nd.ones((1,)), out=y[0:1]),
    "creation out= slice": lambda y: mx.nd.ones((1,), out=y[0:1]),
    "arithmetic out= slice": lambda y: mx.nd.ones((2,)).__add__(1, out=y[1:3]),
    "copyto slice": lambda y: mx.nd.ones((1,)).copyto(y[0:1]),
    "copyto slice of a view": lambda y: mx.nd.ones((1,)).copyto(y.reshape((2, 2))[1:2].reshape((2,))[0:1]),
    "out= reshaped slice": lambda y: mx.nd.ones((1, 2), out=y[2:4].reshape((1, 2))),
}


@pytest.mark.parametrize("write", PARTIAL_WRITES.values(), ids=list(PARTIAL_WRITES))
def test_a_partial_write_keeps_the_stored_error(write):
    y = _failed_array()
    write(y)
    with pytest.raises(mx.base.MXNetError, match="take"):
        y.asnumpy()
    with pytest.raises(mx.base.MXNetError, match="take"):       # and again: the error stays on the array
        y[0:1].asnumpy()
    _acknowledge()


FULL_WRITES = {
    "op out=": lambda y: mx.nd.ones((4,), out=y),
    "copyto": lambda y: mx.nd.ones((4,)).copyto(y),
    "out= a reshape of the whole array": lambda y: mx.nd.ones((2, 2), out=y.reshape((2, 2))),
}


@pytest.mark.parametrize("write", FULL_WRITES.values(), ids=list(FULL_WRITES))
def test_a_full_overwrite_clears_the_stored_error(write):
    y = _failed_array()
    write(y)
    np.testing.assert_array_equal(y.asnumpy(), np.ones(4, np.float32))
    _acknowledge()


def test_partial_writes_of_a_healthy_array_still_write():
    y = mx.nd.zeros((4,))
    mx.nd.relu(mx.nd.ones((1,)) * 3, out=y[1:2])
    (mx.nd.ones((2,)) * 5).copyto(y[2:4])
    np.testing.assert_array_equal(y.asnumpy(), [0, 3, 5, 5])


# ---- the imperative fast path --------------------------------------------------------------------------------

@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), scalar=st.sampled_from([-2.5, 0.0, 1, 3.0]),
       dtype=st.sampled_from(["float32", "float64", "int32"]), seed=st.integers(0, 2 ** 16))
def test_repeated_calls_follow_each_calls_params_shapes_and_dtypes(shape, scalar, dtype, seed):
    rs = np.random.RandomState(seed)
    a = rs.uniform(-3, 3, shape).astype(dtype)
    b = rs.uniform(-3, 3, shape[-1:]).astype(dtype)
    x, y = mx.nd.array(a, dtype=dtype), mx.nd.array(b, dtype=dtype)
    for _ in range(2):      # the second call takes the cached form and signature
        got = (x * scalar + y).asnumpy()
        want = (a * np.array(scalar).astype(dtype) + b).astype(dtype)
        np.testing.assert_allclose(got, want, rtol=1e-6)
        assert got.dtype == np.dtype(dtype)
        low, high = -abs(scalar) - 0.5, abs(scalar)
        np.testing.assert_allclose(mx.nd.clip(x, a_min=low, a_max=high).asnumpy(),
                                   np.clip(a, np.array(low).astype(dtype), np.array(high).astype(dtype)), rtol=1e-6)


def test_the_same_op_with_other_params_is_another_call():
    x = mx.nd.array([[-1.0, 0.5, 2.0]])
    data = x.asnumpy()
    for _ in range(2):
        np.testing.assert_allclose(mx.nd.Activation(x, act_type="relu").asnumpy(), np.maximum(data, 0))
        np.testing.assert_allclose(mx.nd.Activation(x, act_type="tanh").asnumpy(), np.tanh(data), rtol=1e-6)
        np.testing.assert_allclose(mx.nd.sum(x, axis=1).asnumpy(), data.sum(axis=1), rtol=1e-6)
        np.testing.assert_allclose(mx.nd.sum(x).asnumpy(), [data.sum()], rtol=1e-6)


def test_optional_inputs_positional_params_and_unhashable_params():
    rs = np.random.RandomState(0)
    x, w, b = rs.rand(2, 5).astype(np.float32), rs.rand(3, 5).astype(np.float32), rs.rand(3).astype(np.float32)
    for _ in range(2):
        with_bias = mx.nd.FullyConnected(mx.nd.array(x), mx.nd.array(w), mx.nd.array(b), num_hidden=3)
        np.testing.assert_allclose(with_bias.asnumpy(), x @ w.T + b, rtol=1e-5)
        no_bias = mx.nd.FullyConnected(mx.nd.array(x), mx.nd.array(w), None, num_hidden=3, no_bias=True)
        np.testing.assert_allclose(no_bias.asnumpy(), x @ w.T, rtol=1e-5)
        by_name = mx.nd.FullyConnected(data=mx.nd.array(x), weight=mx.nd.array(w), num_hidden=3, no_bias=True)
        np.testing.assert_allclose(by_name.asnumpy(), x @ w.T, rtol=1e-5)
        listed = mx.nd.reshape(mx.nd.array(x), shape=[5, 2])          # a list param: not hashable
        np.testing.assert_array_equal(listed.asnumpy(), x.reshape(5, 2))
        drawn = mx.nd.random.randint(0, 5, (3,))                       # positional params after the inputs
        assert drawn.shape == (3,) and ((drawn.asnumpy() >= 0) & (drawn.asnumpy() < 5)).all()


def test_the_context_param_and_the_current_context_are_read_per_call():
    for _ in range(2):
        assert mx.nd.zeros((2,), ctx=mx.cpu(1)).context == mx.cpu(1)
        with mx.cpu(2):
            assert mx.nd.zeros((2,)).context == mx.cpu(2)
        assert mx.nd.zeros((2,)).context == mx.cpu(0)


def test_recording_still_records_calls_made_before_outside_record():
    a = np.array([1.0, -2.0, 3.0], np.float32)
    x = mx.nd.array(a)
    for _ in range(3):
        (x * x + x * 3).asnumpy()       # warms the forms outside record()
    x.attach_grad()
    with autograd.record():
        y = (x * x + x * 3).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), 2 * a + 3)


def test_errors_still_surface_at_the_wait_on_every_call():
    x = mx.nd.array(np.arange(4.0))
    for _ in range(2):
        y = mx.nd.take(x, mx.nd.array([0, 9]), mode="raise")     # pushed: no error yet
        with pytest.raises(mx.base.MXNetError, match="take"):
            y.asnumpy()
        _acknowledge()


def test_bad_inputs_are_refused_by_name():
    x = mx.nd.ones((2, 3))
    mx.nd.relu(x)
    with pytest.raises(TypeError, match="data"):
        mx.nd.relu(np.ones((2, 3)))
    with pytest.raises(mx.base.MXNetError, match="elemwise_add|broadcast|shape"):
        mx.nd.elemwise_add(x, mx.nd.ones((3, 2))).asnumpy()


# ---- the hybridized fast path --------------------------------------------------------------------------------

def _mlp(dtype="float32"):
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dense(4, activation="relu", in_units=3, dtype=dtype), nn.Dense(2, in_units=4, dtype=dtype))
    net.initialize(mx.init.Uniform(1.0))
    net.hybridize()
    return net


def _numpy_mlp(net, x):
    w1, b1, w2, b2 = [p.data().asnumpy().astype(np.float64) for p in net.collect_params().values()]
    return np.maximum(x @ w1.T + b1, 0) @ w2.T + b2


def test_a_hybridized_block_follows_shapes_and_replaced_parameters():
    net = _mlp()
    rs = np.random.RandomState(1)
    for batch in (1, 1, 3, 1, 3):
        x = rs.rand(batch, 3).astype(np.float32)
        np.testing.assert_allclose(net(mx.nd.array(x)).asnumpy(), _numpy_mlp(net, x), rtol=1e-5, atol=1e-6)
    generation = Parameter.generation
    net.initialize(mx.init.Uniform(1.0), force_reinit=True)      # new arrays: the compiled graph is stale
    assert Parameter.generation > generation
    x = rs.rand(1, 3).astype(np.float32)
    np.testing.assert_allclose(net(mx.nd.array(x)).asnumpy(), _numpy_mlp(net, x), rtol=1e-5, atol=1e-6)
    net.cast("float64")
    x64 = rs.rand(1, 3)
    got = net(mx.nd.array(x64, dtype="float64"))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got.asnumpy(), _numpy_mlp(net, x64), rtol=1e-10)


def test_a_hybridized_block_sees_an_input_changed_in_place_and_a_new_input():
    net = _mlp()
    x = mx.nd.array(np.ones((1, 3), np.float32))
    net(x).asnumpy()
    values = np.array([[0.5, -1.0, 2.0]], np.float32)
    x[:] = values                                       # the same array, new values
    np.testing.assert_allclose(net(x).asnumpy(), _numpy_mlp(net, values), rtol=1e-5, atol=1e-6)
    other = np.array([[2.0, 0.0, 1.0]], np.float32)     # another array of the same signature
    np.testing.assert_allclose(net(mx.nd.array(other)).asnumpy(), _numpy_mlp(net, other), rtol=1e-5, atol=1e-6)


def test_a_hybridized_block_follows_the_training_mode():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dropout(0.5))
    net.hybridize()
    x = mx.nd.ones((1, 1000))
    for _ in range(2):
        np.testing.assert_array_equal(net(x).asnumpy(), x.asnumpy())        # predicting: the identity
        with autograd.train_mode():
            dropped = net(x).asnumpy()
        assert set(np.unique(dropped)) <= {0.0, 2.0} and (dropped == 0).any()


def test_record_after_fast_calls_still_gives_gradients():
    net = _mlp()
    x = np.array([[0.3, -0.2, 0.9]], np.float32)
    for _ in range(3):
        net(mx.nd.array(x))
    data = mx.nd.array(x)
    data.attach_grad()
    with autograd.record():
        out = net(data)
    out.backward()
    w1, b1, w2, _ = [p.data().asnumpy().astype(np.float64) for p in net.collect_params().values()]
    hidden = x @ w1.T + b1
    want = ((hidden > 0) * w2.sum(axis=0)) @ w1           # d(sum of outputs)/dx
    np.testing.assert_allclose(data.grad.asnumpy(), want, rtol=1e-5, atol=1e-6)


# ---- the engine's inline path -------------------------------------------------------------------------------

def test_a_read_listed_twice_waits_for_the_write_and_releases_once():
    engine = ThreadedEngine(1)
    a, b = engine.new_var("a"), engine.new_var("b")
    box, started, release = {}, threading.Event(), threading.Event()

    def slow_write():
        started.set()
        release.wait(5)
        box["a"] = 1
    engine.push(slow_write, writes=[a], name="slow")
    started.wait(5)
    engine.push(lambda: box.update(b=box["a"] + 1), reads=[a, a], writes=[b], name="read twice", inline=True)
    assert "b" not in box       # queued behind the write, not run inline
    release.set()
    engine.wait_for_var(b)
    assert box["b"] == 2
    engine.push(lambda: box.update(a=5), writes=[a], name="write after", inline=True)     # a is free again
    engine.wait_for_var(a)
    assert box["a"] == 5
    engine.waitall()


def test_waitall_in_another_thread_is_woken_by_an_inline_op():
    engine = ThreadedEngine(1)
    a = engine.new_var("a")
    release, done = threading.Event(), threading.Event()
    engine.push(lambda: release.wait(5), writes=[a], name="held")
    waiter = threading.Thread(target=lambda: (engine.waitall(), done.set()))
    waiter.start()
    assert not done.wait(0.05)
    release.set()
    waiter.join(5)
    assert done.is_set()


def test_an_inline_op_in_flight_holds_back_waitall_and_writers_in_other_threads():
    """An inline op runs in the pushing thread holding the engine's lock (scheduler/engine.py, Note [inline ops]):
    a push and a waitall in other threads wait for it, and the write pushed meanwhile runs after its read."""
    engine = ThreadedEngine(1)
    a, b = engine.new_var("a"), engine.new_var("b")
    box, started, release, events = {"a": 1}, threading.Event(), threading.Event(), []

    def slow_read():
        started.set()
        release.wait(5)
        box["b"] = box["a"] + 1
    pusher = threading.Thread(target=lambda: engine.push(slow_read, [a], [b], "slow read", inline=True))
    pusher.start()
    assert started.wait(5)
    others = [threading.Thread(target=lambda: (engine.push(lambda: box.update(a=10), writes=[a], name="write a"),
                                               events.append("pushed"))),
              threading.Thread(target=lambda: (engine.waitall(), events.append("waited")))]
    for thread in others:
        thread.start()
    time.sleep(0.05)
    assert events == [] and box == {"a": 1}
    release.set()
    for thread in [pusher, *others]:
        thread.join(5)
    engine.waitall()
    assert sorted(events) == ["pushed", "waited"] and box == {"a": 10, "b": 2}


def test_an_inline_op_whose_fn_pushes_is_ordered_before_what_it_pushed():
    """A push from inside a running inline fn marks that op's vars first: an op it pushes over them (reading what
    the running op writes, or writing what it reads) waits for it; an independent one runs at once."""
    engine = ThreadedEngine(1)
    a, b, c, d = (engine.new_var(n) for n in "abcd")
    order = []

    def outer():
        engine.push(lambda: order.append("reads b"), reads=[b], writes=[c], name="reads b", inline=True)
        engine.push(lambda: order.append("writes a"), writes=[a], name="writes a", inline=True)
        engine.push(lambda: order.append("independent"), writes=[d], name="independent", inline=True)
        order.append("outer")
    engine.push(outer, reads=[a], writes=[b], name="outer", inline=True)
    engine.waitall()
    assert order.index("independent") < order.index("outer") < order.index("reads b")
    assert order.index("outer") < order.index("writes a")
    assert all((v._readers, v._writing, len(v._queue)) == (0, False, 0) for v in (a, b, c, d))


def test_an_inline_op_stores_its_error_and_skips_on_a_failed_read():
    engine = ThreadedEngine(1)
    a, b, c = engine.new_var("a"), engine.new_var("b"), engine.new_var("c")
    ran = []
    engine.push(lambda: 1 / 0, writes=[a], name="fails", inline=True)
    engine.push(lambda: ran.append("b"), reads=[a], writes=[b], name="reads a", inline=True)
    engine.push(lambda: ran.append("c"), reads=[b], writes=[c], name="reads b", inline=True)
    for var in (a, b, c):
        with pytest.raises(mx.base.MXNetError, match="fails: division by zero"):
            engine.wait_for_var(var)
    assert ran == []
    with pytest.raises(mx.base.MXNetError, match="fails"):
        engine.waitall()
    engine.waitall()        # reported once
    engine.push(lambda: ran.append("a"), writes=[a], name="overwrite", inline=True)
    engine.wait_for_var(a)  # a full overwrite clears the error
    assert ran == ["a"] and (a._readers, a._writing, len(a._queue)) == (0, False, 0)


def test_a_fork_waits_for_an_inline_op_running_in_another_thread():
    """The engine's fork hook takes its lock, so a fork waits for an inline op to end (Note [inline ops]): the
    child has it done, its vars free, nothing in flight."""
    engine = ThreadedEngine(1)
    a, b = engine.new_var("a"), engine.new_var("b")
    started, release, box = threading.Event(), threading.Event(), {}

    def held():
        started.set()
        release.wait(5)
        box["b"] = 1
    pusher = threading.Thread(target=lambda: engine.push(held, [a], [b], "held", inline=True))
    pusher.start()
    assert started.wait(5)
    forker = threading.Thread(target=engine._before_fork)      # the forking thread's hook
    forker.start()
    forker.join(0.05)
    assert forker.is_alive()
    release.set()
    for thread in (pusher, forker):
        thread.join(5)
    engine._after_fork(in_child=True)       # what the child of os.fork() runs, without forking this process
    assert box == {"b": 1} and not engine._running and (a._readers, b._writing) == (0, False)
    engine.wait_for_var(b)
    engine.push(lambda: None, reads=[a], writes=[b], name="after", inline=True)
    engine.wait_for_var(b)


# ---- the imperative path against numpy, over random programs -------------------------------------------------

_UNARY = {"relu": (lambda F, x: F.relu(x), lambda x: np.maximum(x, 0)),
          "neg": (lambda F, x: -x, lambda x: -x),
          "sigmoid act": (lambda F, x: F.Activation(x, act_type="sigmoid"), lambda x: 1 / (1 + np.exp(-x))),
          "scalar": (lambda F, x: x * 0.5 + 1, lambda x: x * np.float32(0.5) + np.float32(1)),
          "sum rows": (lambda F, x: F.sum(x, axis=1, keepdims=True) * x, lambda x: x.sum(axis=1, keepdims=True) * x)}
_BINARY = {"add": (lambda x, y: x + y, np.add), "mul": (lambda x, y: x * y, np.multiply),
           "sub broadcast row": (lambda x, y: x - y[0:1], lambda x, y: x - y[0:1])}


@given(program=st.lists(st.tuples(st.sampled_from(sorted(_UNARY) + sorted(_BINARY) + ["fc", "+=", "out="]),
                                  st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=25),
       seed=st.integers(0, 2 ** 16))
def test_random_programs_of_imperative_ops_equal_numpy(program, seed):
    """Ops mixed at random over earlier results (new arrays, in place, `out=`), each op's form and signature
    cached after its first call: every value equals numpy's."""
    rs = np.random.RandomState(seed)
    start = rs.uniform(-2, 2, (3, 4)).astype(np.float32)
    weight = rs.uniform(-1, 1, (4, 4)).astype(np.float32)
    bias = rs.uniform(-1, 1, (4,)).astype(np.float32)
    arrays, values = [mx.nd.array(start)], [start]
    w, b = mx.nd.array(weight), mx.nd.array(bias)
    for kind, i, j in program:
        i, j = i % len(arrays), j % len(arrays)
        x, y, vx, vy = arrays[i], arrays[j], values[i], values[j]
        if kind in _UNARY:
            ours, theirs = _UNARY[kind]
            arrays.append(ours(mx.nd, x))
            values.append(theirs(vx).astype(np.float32))
        elif kind in _BINARY:
            ours, theirs = _BINARY[kind]
            arrays.append(ours(x, y))
            values.append(theirs(vx, vy).astype(np.float32))
        elif kind == "fc":
            arrays.append(mx.nd.FullyConnected(x, w, b, num_hidden=4))
            values.append(vx @ weight.T + bias)
        elif kind == "+=":           # in place: every array sharing x's storage sees it
            x += y
            values[i] = vx + vy
        else:
            mx.nd.relu(y, out=x)
            values[i] = np.maximum(vy, 0)
    for got, want in zip(arrays, values):
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-4, atol=1e-5)


# ---- flags and parameters the fast paths read --------------------------------------------------------------

def test_the_autograd_flags_are_per_thread():
    seen = {}
    with autograd.record():
        worker = threading.Thread(target=lambda: seen.update(recording=autograd.is_recording(),
                                                            training=autograd.is_training()))
        worker.start()
        worker.join(5)
        assert autograd.is_recording() and autograd.is_training()
    assert seen == {"recording": False, "training": False}
    assert not autograd.is_recording() and not autograd.is_training()


def _dense_numpy(layer, x):
    return np.maximum(x @ layer.weight.data().asnumpy().T + layer.bias.data().asnumpy(), 0)


def test_an_imperative_block_follows_replaced_and_updated_parameters():
    """A non-hybridized block keeps its parameters' arrays between calls (Note in `_forward_arrays`): a
    re-initialisation, a cast, `set_data`, a new context and a deferred initialisation must still be seen."""
    layer = nn.Dense(3, activation="relu")
    layer.initialize(mx.init.Uniform(1.0))
    rs = np.random.RandomState(3)
    x = rs.rand(2, 5).astype(np.float32)
    for _ in range(2):      # deferred initialisation on the first call, then the kept arrays
        np.testing.assert_allclose(layer(mx.nd.array(x)).asnumpy(), _dense_numpy(layer, x), rtol=1e-5)
    layer.initialize(mx.init.Uniform(1.0), force_reinit=True)
    np.testing.assert_allclose(layer(mx.nd.array(x)).asnumpy(), _dense_numpy(layer, x), rtol=1e-5)
    layer.weight.set_data(mx.nd.array(rs.rand(3, 5)))
    np.testing.assert_allclose(layer(mx.nd.array(x)).asnumpy(), _dense_numpy(layer, x), rtol=1e-5)
    layer.cast("float64")
    got = layer(mx.nd.array(x, dtype="float64"))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got.asnumpy(), _dense_numpy(layer, x), rtol=1e-10)

    two = nn.Dense(2, in_units=2)
    two.initialize(mx.init.One(), ctx=[mx.cpu(0), mx.cpu(1)])
    two.weight.data(mx.cpu(1))[:] = 2
    ones = np.ones((1, 2), np.float32)
    for ctx, want in ((mx.cpu(0), 2.0), (mx.cpu(1), 4.0), (mx.cpu(0), 2.0)):
        out = two(mx.nd.array(ones, ctx=ctx))
        assert out.context == ctx
        np.testing.assert_array_equal(out.asnumpy(), [[want, want]])


def test_params_read_as_attributes_stay_read_only():
    """Kernels read params as attributes (an instance-dict hit since issue 15): the parsed values, defaults
    filled in, unknown names an AttributeError, and no assignment."""
    from ops import registry
    p = registry.get("FullyConnected").parse_params({"num_hidden": "7"})
    assert (p.num_hidden, p.no_bias, p.flatten) == (7, False, True)
    assert p.as_dict()["num_hidden"] == 7 and p == registry.get("FullyConnected").parse_params({"num_hidden": 7})
    with pytest.raises(AttributeError):
        getattr(p, "not_a_param")  # noqa: B009 - the attribute read is what is tested
    with pytest.raises(AttributeError, match="read-only"):
        p.num_hidden = 3
    assert p.num_hidden == 7
