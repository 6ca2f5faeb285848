"""Concat elision at batch > 1 (scheduler/elision.py, scheduler/plan.py `_SampleBySample`): along axis 1 each branch
writes its slice of the Concat's output batch-strided (each sample one contiguous run, a row stride apart). The
truth is the same graph with `DATAFLOW_CONCAT_ELISION=0` (every Concat a real copy), compared bit for bit, forward
and backward, interpreted and compiled (`tests/test_concat_elision.py`'s helpers), plus numpy for the layout."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import dataflow as mx
from tests.test_concat_elision import jit, relu, same_with_and_without  # noqa: F401 - jit: a fixture

from scheduler.graph import IndexedGraph
from scheduler.infer import infer_dtypes, infer_shapes
from scheduler.memory import format_plan, plan_memory


@pytest.fixture(autouse=True, scope="module")
def _numba_array_support_loaded():
    import numba.np.arraymath  # noqa: F401


def _weight(name):
    return mx.sym.Variable(name)


def branch(kind, data, k, channels):
    """One branch of kind `kind` on `data` (channels in): (symbol, its weight shapes by name, channels out)."""
    w = "w%d" % k
    if kind == "conv1":
        return relu(mx.sym.Convolution(data, weight=_weight(w), num_filter=3, kernel=(1, 1), no_bias=True)), \
            {w: (3, channels, 1, 1)}, 3
    if kind == "conv3_bn":          # folded into `_conv_fused` (relu epilogue) in inference
        conv = mx.sym.Convolution(data, weight=_weight(w), bias=_weight("b%d" % k), num_filter=2, kernel=(3, 3),
                                  pad=(1, 1))
        bn = mx.sym.BatchNorm(conv, gamma=_weight("g%d" % k), beta=_weight("be%d" % k), fix_gamma=False,
                              name="bn%d" % k)
        return relu(bn), {w: (2, channels, 3, 3), "b%d" % k: (2,), "g%d" % k: (2,), "be%d" % k: (2,)}, 2
    if kind == "conv3":             # no activation: the Convolution itself writes the slice
        return mx.sym.Convolution(data, weight=_weight(w), num_filter=2, kernel=(3, 3), pad=(1, 1), stride=(1, 1),
                                  no_bias=True), {w: (2, channels, 3, 3)}, 2
    if kind == "depthwise":
        return mx.sym.Convolution(data, weight=_weight(w), num_filter=channels, num_group=channels, kernel=(3, 3),
                                  pad=(1, 1), no_bias=True), {w: (channels, 1, 3, 3)}, channels
    if kind in ("max", "avg"):
        return mx.sym.Pooling(data, kernel=(3, 3), pad=(1, 1), stride=(1, 1), pool_type=kind), {}, channels
    assert kind == "bn"             # per sample in inference only
    return mx.sym.BatchNorm(data, gamma=_weight("g%d" % k), beta=_weight("be%d" % k), fix_gamma=False,
                            name="bn%d" % k), {"g%d" % k: (channels,), "be%d" % k: (channels,)}, channels


KINDS = ["conv1", "conv3_bn", "conv3", "depthwise", "max", "avg", "bn"]


def block(kinds, channels, extra=None, nested=False):
    """Concat (axis 1) of one branch per kind over a relu of the input; `extra`: (branch index, how) where that
    branch is also read by `relu` (per sample: elision holds), `sigmoid` (not: the Concat copies) or is a graph
    `output` (external: the Concat copies). `nested`: the block's input joins the Concat too (DenseNet)."""
    data = relu(mx.sym.Variable("data"))
    outs, shapes = [], {}
    for k, kind in enumerate(kinds):
        sym, weights, _ = branch(kind, data, k, channels)
        outs.append(sym)
        shapes.update(weights)
    joined = mx.sym.Concat(*([data] if nested else []) + outs, dim=1)
    heads = [relu(joined) * 2.0]
    if extra is not None:
        k, how = extra
        heads.append({"relu": lambda s: relu(s) * 3.0, "sigmoid": mx.sym.sigmoid, "output": lambda s: s}[how](outs[k]))
    return mx.sym.Group(heads), shapes


def values_for(net, shapes, batch, channels, hw, rs):
    values = {"data": rs.randn(batch, channels, hw, hw).astype(np.float32)}
    for name, shape in shapes.items():
        values[name] = (rs.randn(*shape) * 0.5).astype(np.float32)
    for name in net.list_arguments():
        assert name in values, name
    return values


# ---------------------------------------------------------------------------------------------------------------
# The layout: each branch's array is a batch-strided view of its slice
# ---------------------------------------------------------------------------------------------------------------

def test_branch_arrays_are_batch_strided_views_of_their_slices(monkeypatch):
    monkeypatch.setenv("DATAFLOW_JIT", "0")
    net, shapes = block(["conv1", "conv3", "max"], 2)
    values = values_for(net, shapes, 3, 2, 5, np.random.RandomState(0))
    ex = net.bind(mx.cpu(), {n: mx.nd.array(v) for n, v in values.items()}, grad_req="null")
    plan, graph = ex._plan, ex._plan.graph
    (nid,) = [n for n in plan.memory.elided if graph.nodes[n].op.name == "Concat"]
    out = plan.arrays[graph.node_row_ptr[nid]]
    channel = 0
    for eid in graph.inputs[nid]:
        part = plan.arrays[eid]
        assert part.strides[0] == out.strides[0] and part.strides[1:] == out.strides[1:]
        assert part.ctypes.data == out.ctypes.data + channel * out.strides[1]
        assert not part.flags.c_contiguous and part[1:2].flags.c_contiguous
        channel += part.shape[1]
    assert channel == out.shape[1]
    ex.forward(is_train=False)
    got = ex.outputs[0].asnumpy()
    monkeypatch.setenv("DATAFLOW_CONCAT_ELISION", "0")
    ex2 = net.bind(mx.cpu(), {n: mx.nd.array(v) for n, v in values.items()}, grad_req="null")
    ex2.forward(is_train=False)
    np.testing.assert_array_equal(got, ex2.outputs[0].asnumpy())


def test_format_plan_names_the_batch_stride():
    net, shapes = block(["conv1", "avg"], 2)
    graph = IndexedGraph(net._outputs)
    args = {n: s for n, s in zip(net.list_arguments(), net.infer_shape(data=(4, 2, 3, 3), **shapes)[0])}
    shapes_ = infer_shapes(graph, args).values
    dtypes = infer_dtypes(graph, {n: np.float32 for n in args}).values
    plan = plan_memory(graph, shapes_, dtypes)
    assert plan.elided and any(s == (3 + 2) * 9 * 4 for s in plan.row_strides)
    assert "batch stride %d" % ((3 + 2) * 9 * 4) in format_plan(graph, shapes_, dtypes, plan)


# ---------------------------------------------------------------------------------------------------------------
# Which steps may touch strided entries
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("how, elided", [(None, True), ("relu", True), ("sigmoid", False), ("output", False)])
def test_a_branch_read_elsewhere(how, elided, monkeypatch):
    net, shapes = block(["conv1", "max"], 2, extra=None if how is None else (0, how))
    values = values_for(net, shapes, 2, 2, 4, np.random.RandomState(1))
    memory = same_with_and_without(net, values, monkeypatch, train=False)
    assert bool(memory.elided) == elided


def test_batchnorm_writes_strided_in_training_and_inference(monkeypatch):
    """BatchNorm's kernel writes a batch-strided output itself, with batch statistics too."""
    net, shapes = block(["bn", "conv1"], 3)
    values = values_for(net, shapes, 2, 3, 4, np.random.RandomState(2))
    assert same_with_and_without(net, values, monkeypatch, train=False).elided
    assert same_with_and_without(net, values, monkeypatch, train=True).elided


def test_an_op_that_is_not_per_sample_keeps_the_copy(monkeypatch):
    """A branch ending in an op that mixes samples (sum over the batch, broadcast back) cannot write strided."""
    data = relu(mx.sym.Variable("data"))
    mixed = mx.sym.broadcast_add(data, mx.sym.sum(data, axis=0, keepdims=True))
    net = relu(mx.sym.Concat(relu(data * 2.0), mixed, dim=1)) * 1.0
    values = {"data": np.random.RandomState(5).randn(3, 2, 2, 2).astype(np.float32)}
    assert not same_with_and_without(net, values, monkeypatch, train=False).elided


def test_winograd_and_batched_forwards_write_strided(jit, monkeypatch):  # noqa: F811 - jit: the fixture
    """64 channels 3x3 (Winograd F(2x2,3x3)) and small 1x1 images at batch 8 (several samples per GEMM)."""
    rs = np.random.RandomState(3)
    data = mx.sym.Variable("data")
    wino = mx.sym.Convolution(data, weight=_weight("w0"), num_filter=64, kernel=(3, 3), pad=(1, 1), no_bias=True)
    one = mx.sym.Convolution(data, weight=_weight("w1"), num_filter=8, kernel=(1, 1), no_bias=True)
    net = relu(mx.sym.Concat(relu(wino), one, dim=1)) * 1.0
    values = {"data": rs.randn(8, 64, 6, 6).astype(np.float32),
              "w0": (rs.randn(64, 64, 3, 3) * 0.05).astype(np.float32),
              "w1": (rs.randn(8, 64, 1, 1) * 0.1).astype(np.float32)}
    memory = same_with_and_without(net, values, monkeypatch, train=False)
    assert memory.elided and any(s is not None for s in memory.row_strides)


def test_dense_block_nests_strided_concats(jit, monkeypatch):  # noqa: F811 - jit: the fixture
    """DenseNet's pattern at batch 3: x = Concat(x, f(x)) three times, each x read by the next BatchNorm and nested
    in the next Concat."""
    rs = np.random.RandomState(4)
    x = mx.sym.Pooling(mx.sym.Variable("data"), kernel=(1, 1), pool_type="max")
    values, channels = {"data": rs.randn(3, 3, 4, 4).astype(np.float32)}, 3
    for k in range(3):
        bn = mx.sym.BatchNorm(x, gamma=_weight("g%d" % k), beta=_weight("be%d" % k), fix_gamma=False,
                              name="bn%d" % k)
        new = mx.sym.Convolution(relu(bn), weight=_weight("w%d" % k), num_filter=2, kernel=(3, 3), pad=(1, 1),
                                 no_bias=True)
        values.update({"g%d" % k: rs.rand(channels).astype(np.float32) + 0.5,
                       "be%d" % k: rs.randn(channels).astype(np.float32),
                       "w%d" % k: (rs.randn(2, channels, 3, 3) * 0.3).astype(np.float32)})
        x = mx.sym.Concat(x, new, dim=1)
        channels += 2
    net = mx.sym.Pooling(x, kernel=(1, 1), global_pool=True, pool_type="avg")
    inference = same_with_and_without(net, values, monkeypatch, train=False)
    assert len(inference.elided) == 3
    assert same_with_and_without(net, values, monkeypatch, train=True).elided


# ---------------------------------------------------------------------------------------------------------------
# Random blocks: batch, channels, branch kinds, a branch read elsewhere, nesting, JIT, training
# ---------------------------------------------------------------------------------------------------------------

@st.composite
def blocks(draw):
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=4))
    extra = draw(st.one_of(st.none(), st.tuples(st.integers(0, len(kinds) - 1),
                                                st.sampled_from(["relu", "sigmoid", "output"]))))
    batch, channels, hw = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(2, 5))
    net, shapes = block(kinds, channels, extra, nested=draw(st.booleans()))
    return net, values_for(net, shapes, batch, channels, hw, np.random.RandomState(draw(st.integers(0, 999))))


@settings(deadline=None)
@given(blocks(), st.booleans())
def test_random_blocks_equal_with_and_without_elision(case, train):
    net, values = case
    with pytest.MonkeyPatch.context() as m:
        m.setenv("DATAFLOW_JIT", "0")
        same_with_and_without(net, values, m, train=train)


@settings(deadline=None, max_examples=5)
@given(blocks())
def test_random_blocks_compiled(case):
    from scheduler import compile as jit_module
    net, values = case
    with pytest.MonkeyPatch.context() as m:
        m.setenv("DATAFLOW_JIT", "1")
        m.setattr(jit_module, "COMPILE_AFTER_RUNS", 0)
        same_with_and_without(net, values, m, train=False)
        same_with_and_without(net, values, m, train=True)


# ---------------------------------------------------------------------------------------------------------------
# A GPU Plan gives strided sids buffers of their own and runs those Concats as copies (numba-cuda's simulator)
# ---------------------------------------------------------------------------------------------------------------

_GPU_CASE = """
import numpy as np
import dataflow as mx
from tests.test_concat_elision import inception_like, inception_values
net, _ = inception_like()
values = inception_values(2)
outs = []
for ctx in (mx.cpu(), mx.gpu(0)):
    ex = net.bind(ctx, {n: mx.nd.array(v, ctx=ctx) for n, v in values.items()}, grad_req="null")
    ex.forward(is_train=False)
    outs.append(ex.outputs[0].asnumpy())
    assert ex._plan.memory.elided and any(s is not None for s in ex._plan.memory.row_strides)
np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-5)
"""


@pytest.mark.cuda
def test_gpu_plan_copies_where_the_cpu_plan_is_strided():
    import os
    import subprocess
    import sys
    pytest.importorskip("numba_cuda", reason="needs the cuda extra: pip install -e '.[cuda]'")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONWARNINGS="ignore", PYTHONPATH=root)
    proc = subprocess.run([sys.executable, "-c", _GPU_CASE], cwd=root, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
