"""Concat elision in the memory planner (scheduler/elision.py `Nesting`): where a Concat's slices are contiguous,
its inputs are written straight into their slices of its output, and a split's outputs read their slices of its
input; the step then copies nothing. The truth is the same graph planned with `DATAFLOW_CONCAT_ELISION=0` (every
Concat a real copy), compared exactly, forward and backward, interpreted and compiled; and numpy for the blocks."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import dataflow as mx
from scheduler.compile import wait_all
from scheduler.graph import IndexedGraph
from scheduler.infer import infer_dtypes, infer_shapes
from scheduler.memory import format_plan, plan_memory


@pytest.fixture(autouse=True, scope="module")
def _numba_array_support_loaded():
    """Compiled plans compile before their run once numba's array support is loaded (else in the background)."""
    import numba.np.arraymath  # noqa: F401


@pytest.fixture(params=["interpreted", "compiled"])
def jit(request, monkeypatch):
    from scheduler import compile as jit_module
    if request.param == "interpreted":
        monkeypatch.setenv("DATAFLOW_JIT", "0")
    else:
        monkeypatch.setenv("DATAFLOW_JIT", "1")
        monkeypatch.setattr(jit_module, "COMPILE_AFTER_RUNS", 0)
    return request.param


def run(net, values, head_grads, elide, monkeypatch, train=True, aux=None):
    """Outputs and argument gradients of `net` bound to `values` (and aux states `aux`: name -> array, fresh
    copies), and the executor's memory plan."""
    monkeypatch.setenv("DATAFLOW_CONCAT_ELISION", "1" if elide else "0")
    args = {n: mx.nd.array(v) for n, v in values.items()}
    grads = {n: mx.nd.zeros(v.shape) for n, v in values.items()} if train else None
    aux_states = {n: mx.nd.array(v) for n, v in aux.items()} if aux else None
    ex = net.bind(mx.cpu(), args, args_grad=grads, grad_req="write" if train else "null", aux_states=aux_states)
    compiled = hasattr(ex._plan, "wait")
    for _ in range(2 if compiled else 1):   # the first run compiles (in the background), the last runs compiled
        outs = [o.asnumpy() for o in ex.forward(is_train=train)]
        if train:
            ex.backward([mx.nd.array(g) for g in head_grads])
        mx.nd.waitall()
        if compiled:
            ex._plan.wait()
    if compiled:        # the last run ran compiled segments
        assert sum((r.info or {}).get("segments", 0) for r in ex._plan.shared.ranges.values()) > 0
    got = outs + ([grads[n].asnumpy() for n in sorted(grads)] if train else [])
    return got, ex._plan.memory


def same_with_and_without(net, values, monkeypatch, train=True, seed=0):
    """Run `net` with and without elision; assert equal results and no more memory; the elided plan. Aux states
    (BatchNorm's moving statistics) are drawn: means normal, variances in [0.5, 1.5)."""
    rs = np.random.RandomState(seed)
    _, out_shapes, aux_shapes = net.infer_shape(**{n: v.shape for n, v in values.items()})
    head_grads = [rs.randn(*s).astype(np.float32) for s in out_shapes]
    aux = {n: (rs.rand(*s) + 0.5 if n.endswith("var") else rs.randn(*s)).astype(np.float32)
           for n, s in zip(net.list_auxiliary_states(), aux_shapes, strict=True)}
    want, plain = run(net, values, head_grads, False, monkeypatch, train, aux)
    got, elided = run(net, values, head_grads, True, monkeypatch, train, aux)
    assert not plain.elided
    for w, g in zip(want, got, strict=True):
        np.testing.assert_array_equal(g, w)
    assert elided.planned_bytes <= plain.planned_bytes
    return elided


def relu(x):
    return mx.sym.Activation(x, act_type="relu")


# ---------------------------------------------------------------------------------------------------------------
# Blocks: an Inception-like and a DenseNet-like block at batch 1 elide; batch 2 along axis 1 cannot
# ---------------------------------------------------------------------------------------------------------------

def inception_like(num=(3, 4, 2)):
    data = mx.sym.Variable("data")
    branches = []
    for k, n in enumerate(num):
        w = mx.sym.Variable("w%d" % k)
        branches.append(relu(mx.sym.Convolution(data, weight=w, num_filter=n, kernel=(1, 1), no_bias=True)))
    pool = mx.sym.Pooling(data, kernel=(3, 3), pad=(1, 1), pool_type="avg")
    branches.append(relu(pool))
    return relu(mx.sym.Concat(*branches, dim=1)), len(num)


def inception_values(batch, num=(3, 4, 2), channels=2, rs=None):
    rs = rs or np.random.RandomState(1)
    values = {"data": rs.randn(batch, channels, 5, 5).astype(np.float32)}
    for k, n in enumerate(num):
        values["w%d" % k] = rs.randn(n, channels, 1, 1).astype(np.float32)
    return values


def test_inception_like_block_elides_and_equals_numpy(jit, monkeypatch):
    net, _ = inception_like()
    values = inception_values(1)
    memory = same_with_and_without(net, values, monkeypatch)
    assert len(memory.elided) == 2          # the forward Concat and its backward split
    assert memory.elided_copy_bytes > 0
    got, _ = run(net, values, [np.ones((1, 11, 5, 5), np.float32)], True, monkeypatch, train=False)
    x = values["data"]
    convs = [np.maximum(np.einsum("oc,nchw->nohw", values["w%d" % k][:, :, 0, 0], x), 0) for k in range(3)]
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    pool = sum(padded[:, :, i:i + 5, j:j + 5] for i in range(3) for j in range(3)) / 9
    want = np.maximum(np.concatenate(convs + [np.maximum(pool, 0)], axis=1), 0)
    np.testing.assert_allclose(got[0], want, rtol=1e-5, atol=1e-5)


def test_branches_write_into_their_slices(monkeypatch):
    """The elided Concat's inputs are views of its output's slices, in order along the axis."""
    monkeypatch.setenv("DATAFLOW_JIT", "0")
    net, _ = inception_like()
    values = inception_values(1)
    ex = net.bind(mx.cpu(), {n: mx.nd.array(v) for n, v in values.items()}, grad_req="null")
    plan, graph = ex._plan, ex._plan.graph
    (nid,) = [n for n in plan.memory.elided if graph.nodes[n].op.name == "Concat"]
    out = plan.arrays[graph.node_row_ptr[nid]]
    start = 0
    for eid in graph.inputs[nid]:
        part = plan.arrays[eid]
        assert part.ctypes.data == out.ctypes.data + start * part.itemsize
        start += part.size
    assert start == out.size


def test_batch_above_one_elides_batch_strided(jit, monkeypatch):
    """NCHW along axis 1 with N > 1: each input's slice is N runs a sample apart; the branches (Convolution,
    Pooling, Activation and, in training, their gradients) write and read them batch-strided."""
    net, _ = inception_like()
    memory = same_with_and_without(net, inception_values(3), monkeypatch)
    assert len(memory.elided) == 2          # the forward Concat and its backward split
    assert any(s is not None for s in memory.row_strides)
    inference = same_with_and_without(net, inception_values(3), monkeypatch, train=False)
    assert len(inference.elided) == 1


def densenet_like(layers=3, growth=2):
    x = mx.sym.Variable("data")
    x = mx.sym.Pooling(x, kernel=(1, 1), pool_type="max")         # the block's input is an op's output
    for k in range(layers):
        bn = relu(x * 0.5)
        new = mx.sym.Convolution(bn, weight=mx.sym.Variable("w%d" % k), num_filter=growth, kernel=(3, 3),
                                 pad=(1, 1), no_bias=True)
        x = mx.sym.Concat(x, new, dim=1)
    return mx.sym.Pooling(x, kernel=(1, 1), global_pool=True, pool_type="avg")


def test_densenet_like_block_nests_concats(jit, monkeypatch):
    rs = np.random.RandomState(2)
    channels, growth, layers = 3, 2, 3
    values = {"data": rs.randn(1, channels, 4, 4).astype(np.float32)}
    for k in range(layers):
        values["w%d" % k] = rs.randn(growth, channels + k * growth, 3, 3).astype(np.float32) * 0.3
    memory = same_with_and_without(densenet_like(layers, growth), values, monkeypatch)
    assert len(memory.elided) >= layers     # each Concat's output nests in the next one's
    inference = same_with_and_without(densenet_like(layers, growth), values, monkeypatch, train=False)
    assert len(inference.elided) == layers


def test_split_reads_its_slices_in_place(jit, monkeypatch):
    x = mx.sym.Variable("x")
    parts = mx.sym.split(relu(x * 2.0), num_outputs=3, axis=1)
    net = mx.sym.Group([mx.sym.sigmoid(parts[0]) + parts[2], parts[1] * 3.0])
    values = {"x": np.random.RandomState(3).randn(1, 6, 2).astype(np.float32)}
    memory = same_with_and_without(net, values, monkeypatch)
    assert memory.elided


# ---------------------------------------------------------------------------------------------------------------
# The conditions that keep the real copy
# ---------------------------------------------------------------------------------------------------------------

def test_conditions_that_keep_the_copy(monkeypatch):
    rs = np.random.RandomState(4)
    x, y = mx.sym.Variable("x"), mx.sym.Variable("y")
    a, b = relu(x), mx.sym.tanh(y)
    values = {"x": rs.randn(1, 2, 3).astype(np.float32), "y": rs.randn(1, 3, 3).astype(np.float32)}
    cases = {
        "an argument is an input": (mx.sym.Concat(x, b, dim=1) * 2.0, 0),
        "an input is a graph output": (mx.sym.Group([mx.sym.Concat(a, b, dim=1) * 2.0, a]), 0),
        "an input twice": (mx.sym.Concat(a, a, b, dim=1) * 2.0, 0),
        "an input is the input of a Concat that is a graph output": (mx.sym.Concat(x, b, dim=1), 0),
        "an input feeds two Concats": (mx.sym.Concat(a, b, dim=1) * 2.0 + mx.sym.Concat(b, a, dim=1), 1),
        "an input read and written in place after": (mx.sym.Group([mx.sym.Concat(a, b, dim=1) * 2.0,
                                                                  mx.sym.sigmoid(a * 3.0)]), 1),
    }
    for what, (net, max_elided) in cases.items():
        memory = same_with_and_without(net, values, monkeypatch, train=False)
        assert len(memory.elided) <= max_elided, what


def test_a_value_read_after_the_concat_survives_in_place_ops_on_the_output(jit, monkeypatch):
    """`a` lives in the Concat's output; a later relu on the output would like that buffer in place."""
    rs = np.random.RandomState(5)
    x, y = mx.sym.Variable("x"), mx.sym.Variable("y")
    a, b = mx.sym.tanh(x), mx.sym.tanh(y)
    c = relu(mx.sym.Concat(a, b, dim=0) - 0.3)
    net = mx.sym.Group([mx.sym.sum(c, axis=(0, 1)) + mx.sym.sum(a * 5.0, axis=(0, 1)), mx.sym.sum(b)])
    values = {"x": rs.randn(2, 3, 4).astype(np.float32), "y": rs.randn(1, 3, 4).astype(np.float32)}
    memory = same_with_and_without(net, values, monkeypatch)
    assert memory.elided


def test_plan_memory_never_grows_and_reports(monkeypatch, capsys):
    net, _ = inception_like()
    graph = IndexedGraph(net._outputs)
    shapes = infer_shapes(graph, {n: v.shape for n, v in inception_values(1).items()}).values
    dtypes = infer_dtypes(graph, {n: np.float32 for n in inception_values(1)}).values
    monkeypatch.setenv("DATAFLOW_DEBUG", "1")
    elided = plan_memory(graph, shapes, dtypes)
    assert "concat/split steps elided" in capsys.readouterr().err
    monkeypatch.setenv("DATAFLOW_CONCAT_ELISION", "0")
    plain = plan_memory(graph, shapes, dtypes)
    assert elided.elided and not plain.elided
    assert elided.planned_bytes + elided.elided_saved_bytes == plain.planned_bytes
    assert "(in sid=" in format_plan(graph, shapes, dtypes, elided)
    assert "(in sid=" not in format_plan(graph, shapes, dtypes, plain)


# ---------------------------------------------------------------------------------------------------------------
# Random DAGs of Concat, split and elementwise ops
# ---------------------------------------------------------------------------------------------------------------

@st.composite
def concat_graphs(draw):
    """(symbol, values): nodes shaped like `base` except along `axis`, joined by Concat and split along it."""
    axis = draw(st.integers(0, 2))
    base = [draw(st.sampled_from([1, 1, 2])) if d < axis else 2 for d in range(3)]
    rs = np.random.RandomState(draw(st.integers(0, 2 ** 16)))

    def shape(n):
        return tuple(n if d == axis else base[d] for d in range(3))

    values, pool = {}, []           # pool: (symbol, size along axis)
    for k in range(draw(st.integers(1, 2))):
        n = draw(st.integers(1, 3))
        values["v%d" % k] = rs.randn(*shape(n)).astype(np.float32)
        pool.append((mx.sym.Variable("v%d" % k), n))
        pool.append((mx.sym.tanh(pool[-1][0]), n))      # most inputs are ops' outputs: those can elide

    def recent():                   # mostly one of the last few nodes: deeper graphs, fewer variables
        return len(pool) - 1 - draw(st.integers(0, min(3, len(pool) - 1)))

    for _ in range(draw(st.integers(2, 8))):
        kind = draw(st.sampled_from(["relu", "scale", "tanh", "add", "concat", "concat", "split"]))
        node, n = pool[recent()]
        if kind == "relu":
            pool.append((relu(node), n))
        elif kind == "scale":
            pool.append((node * 1.5 - 0.2, n))
        elif kind == "tanh":
            pool.append((mx.sym.tanh(node), n))
        elif kind == "add":
            same = [s for s, m in pool if m == n]
            pool.append((node + draw(st.sampled_from(same)), n))
        elif kind == "concat":
            picks = [recent() for _ in range(draw(st.integers(1, 3)))]
            parts = [node] + [pool[i][0] for i in picks]
            pool.append((mx.sym.Concat(*parts, dim=axis), n + sum(pool[i][1] for i in picks)))
        elif n % 2 == 0:
            halves = mx.sym.split(node, num_outputs=2, axis=axis)
            pool += [(halves[0], n // 2), (halves[1], n // 2)]
    extra = draw(st.lists(st.integers(0, len(pool) - 1), max_size=2, unique=True))
    # heads: the last node and a few others, each as it is (a graph output that may feed a Concat) or through an op
    heads = [mx.sym.sigmoid(node) if draw(st.booleans()) else node
             for node in [pool[-1][0]] + [pool[i][0] for i in extra]]
    net = mx.sym.Group(heads)
    return net, {n: values[n] for n in net.list_arguments()}     # a variable no head reaches is not bound


@settings(deadline=None)
@given(concat_graphs())
def test_random_graphs_equal_with_and_without_elision(graph):
    net, values = graph
    with pytest.MonkeyPatch.context() as m:
        m.setenv("DATAFLOW_JIT", "0")
        same_with_and_without(net, values, m)
        same_with_and_without(net, values, m, train=False)


@settings(deadline=None, max_examples=5)
@given(concat_graphs())
def test_random_graphs_compiled(graph):
    from scheduler import compile as jit_module
    net, values = graph
    with pytest.MonkeyPatch.context() as m:
        m.setenv("DATAFLOW_JIT", "1")
        m.setattr(jit_module, "COMPILE_AFTER_RUNS", 0)
        same_with_and_without(net, values, m)


# ---------------------------------------------------------------------------------------------------------------
# A hybridized block (the cached graph plans forward and backward once, runs fresh Plans per call)
# ---------------------------------------------------------------------------------------------------------------

def _dense_block_gradients(elide, monkeypatch, batch=1, act="relu"):
    """A hybridized dense block's output and gradients; `act`: the elementwise `relu` op or `Activation`."""
    from dataflow import autograd, gluon
    monkeypatch.setenv("DATAFLOW_JIT", "0")
    monkeypatch.setenv("DATAFLOW_CONCAT_ELISION", "1" if elide else "0")

    class Dense(gluon.HybridBlock):
        def __init__(self):
            super().__init__()
            with self.name_scope():
                self.convs = [gluon.nn.Conv2D(2, 3, padding=1, in_channels=3 + 2 * k) for k in range(3)]
                for k, conv in enumerate(self.convs):
                    self.register_child(conv, "conv%d" % k)

        def hybrid_forward(self, F, x):
            def relu(v):
                return F.relu(v) if act == "relu" else F.Activation(v, act_type="relu")
            x = relu(x)
            for conv in self.convs:
                x = F.concat(x, conv(relu(x)), dim=1)
            return F.mean(x * x)

    mx.random.seed(0)
    net = Dense()
    net.initialize(mx.init.Xavier())
    net.hybridize()
    x = mx.nd.array(np.random.RandomState(6).randn(batch, 3, 4, 4))
    x.attach_grad()
    with autograd.record():
        y = net(x)
    y.backward()
    return [y.asnumpy(), x.grad.asnumpy()] + [p.grad().asnumpy() for p in net.collect_params().values()]


def test_hybridized_dense_block(monkeypatch, capsys):
    want = _dense_block_gradients(False, monkeypatch)
    monkeypatch.setenv("DATAFLOW_DEBUG", "1")
    got = _dense_block_gradients(True, monkeypatch)
    assert "6 concat/split steps elided" in capsys.readouterr().err     # 3 Concats and their 3 backward splits
    for w, g in zip(want, got, strict=True):
        np.testing.assert_array_equal(g, w)


def test_hybridized_dense_block_at_batch_3(monkeypatch, capsys):
    """Batch-strided (scheduler/elision.py): the forward Concats nest, read by Activation and written by
    Convolution; the backward splits' slices are read by add_n and _backward_Convolution."""
    want = _dense_block_gradients(False, monkeypatch, batch=3, act="Activation")
    monkeypatch.setenv("DATAFLOW_DEBUG", "1")
    got = _dense_block_gradients(True, monkeypatch, batch=3, act="Activation")
    assert "6 concat/split steps elided" in capsys.readouterr().err
    for w, g in zip(want, got, strict=True):
        np.testing.assert_array_equal(g, w)


class _NumpyJoin(mx.gluon.HybridBlock):
    """numpy mode's concatenate (`_npi_concatenate`) between two Dense layers and a tanh."""

    def __init__(self):
        super().__init__()
        with self.name_scope():
            # widths of whole 32-byte blocks: b's slice of the output stays aligned as its own array is (an
            # unaligned start takes BLAS's scalar head, an ulp away)
            self.a, self.b = mx.gluon.nn.Dense(8), mx.gluon.nn.Dense(16)

    def hybrid_forward(self, F, x):
        return F.np.tanh(F.np.concatenate([self.a(x), self.b(x)], axis=1)) * 2


def _numpy_join_run(elide, monkeypatch):
    monkeypatch.setenv("DATAFLOW_CONCAT_ELISION", "1" if elide else "0")
    mx.random.seed(0)
    mx.npx.set_np()
    try:
        block = _NumpyJoin()
        block.initialize()
        block.hybridize()
        x = mx.np.array(np.random.RandomState(0).rand(1, 4).astype(np.float32))
        for _ in range(2):      # the second call runs as the background compile left it: compiled in both runs
            with mx.autograd.record():
                y = block(x)
            y.backward()
            mx.nd.waitall()
            wait_all()
        elided = [len(cached._memory.elided) for cached in block._cached_plans._entries.values()]
        return [y.asnumpy()] + [p.grad().asnumpy() for p in block.collect_params().values()], elided
    finally:
        mx.npx.reset_np()


def test_numpy_concatenate_elides_as_concat(jit, monkeypatch):
    want, none = _numpy_join_run(False, monkeypatch)
    got, elided = _numpy_join_run(True, monkeypatch)
    assert none == [0] and elided[0] > 0
    for w, g in zip(want, got, strict=True):
        np.testing.assert_array_equal(g, w)
