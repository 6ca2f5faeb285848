"""Bind-time algorithms of issue 14 (item 6): the inference worklist and the interval packer give exactly what the
plain algorithms they replace give. Correctness only: no timing assertions (bench's `bind` workload times them).

- `infer_shapes`/`infer_dtypes` visit only nodes whose entries changed; the reference below applies every rule in
  every sweep, forward then backward, until nothing changes (the algorithm the worklist replaced). On random graphs
  of real ops, with some shapes given and some left for the rules to find both ways, both give the same values, and
  the same error (type and message) where the shapes contradict.
- `_pack` places blocks through a segment tree over the steps; the reference scans every placed block. On random
  sizes and lifetimes the offsets and the arena are the same.
- A long chain and long branching graphs bind and run, and the planned arena of a 3,000-op chain stays at the
  liveness lower bound.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import dataflow as mx
from scheduler import infer
from scheduler.memory import _aligned, _pack


def _reference_infer(graph, known, kind):
    """Every rule in every sweep, forward then backward, until a sweep changes nothing."""
    problem = infer._Pass(graph, kind)
    values = [None] * graph.num_entries
    for nid in graph.arg_nodes:
        node = graph.nodes[nid]
        given_value = known.get(node.name)
        value = given_value if given_value is not None else infer._variable_attr(node, kind)
        if value is not None:
            values[graph.node_row_ptr[nid]] = problem._merge_input(values[graph.node_row_ptr[nid]], value, node)
    op_nodes = [nid for nid in range(len(graph.nodes)) if not graph.nodes[nid].is_variable]
    while True:
        changed = False
        for nid in op_nodes + op_nodes[::-1]:
            changed |= bool(problem._apply_rule(nid, values))
        if not changed:
            return tuple(values)


def _outcome(fn):
    try:
        return "ok", fn()
    except Exception as err:  # noqa: BLE001 - the comparison is the point: same type, same message
        return type(err).__name__, str(err)


@st.composite
def graphs(draw):
    """A random DAG of real ops on one (batch, features) input; FullyConnected weights, Concat and broadcast
    inputs leave shapes for the rules to infer backward, and `bad` gives one variable a contradicting shape."""
    batch, feat = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    values = [mx.sym.var("data")]
    known = {"data": (batch, feat)}
    n_ops = draw(st.integers(1, 25))
    for i in range(n_ops):
        kind = draw(st.sampled_from(["act", "add", "fc", "concat", "mul_var", "sum"]))
        a = draw(st.sampled_from(values))
        b = draw(st.sampled_from(values))
        if kind == "act":
            out = mx.sym.Activation(a, act_type=draw(st.sampled_from(["tanh", "relu"])), name="act%d" % i)
        elif kind == "add":
            out = mx.sym.elemwise_add(a, b, name="add%d" % i)
        elif kind == "fc":
            out = mx.sym.FullyConnected(a, num_hidden=feat, name="fc%d" % i)
        elif kind == "concat":
            out = mx.sym.Concat(a, b, dim=0, name="cat%d" % i)
        elif kind == "mul_var":                     # a variable whose shape only its reader can tell
            w = mx.sym.var("w%d" % i)
            if draw(st.booleans()):
                known["w%d" % i] = draw(st.sampled_from([(batch, feat), (feat + 1, feat), (0, feat)]))
            out = mx.sym.elemwise_mul(a, w, name="mul%d" % i)
        else:
            out = mx.sym.sum(a, axis=1, keepdims=True, name="sum%d" % i)
            out = mx.sym.broadcast_like(out, b, name="bl%d" % i)
        values.append(out)
    heads = draw(st.lists(st.sampled_from(values[1:]), min_size=1, max_size=3, unique_by=id))
    return mx.sym.Group(heads), known


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_worklist_inference_equals_full_sweeps(case):
    sym, known = case
    g = sym._graph()
    assert _outcome(lambda: infer.infer_shapes(g, known).values) == \
        _outcome(lambda: _reference_infer(g, known, "shape"))
    dtypes = {"data": np.dtype(np.float32)}
    assert _outcome(lambda: infer.infer_dtypes(g, dtypes).values) == \
        _outcome(lambda: _reference_infer(g, dtypes, "dtype"))


def test_worklist_reports_the_same_conflict():
    x = mx.sym.var("data")
    y = mx.sym.elemwise_add(mx.sym.FullyConnected(x, num_hidden=3, name="fc"), mx.sym.var("b"), name="plus")
    g = y._graph()
    known = {"data": (2, 4), "b": (2, 5)}
    got, want = _outcome(lambda: infer.infer_shapes(g, known).values), \
        _outcome(lambda: _reference_infer(g, known, "shape"))
    assert got == want and got[0] != "ok" and "plus" in got[1]


def _reference_pack(sizes, born, died):
    """Largest first, each at the lowest offset free over its lifetime, scanning every placed block."""
    order = sorted(range(len(sizes)), key=lambda s: (-sizes[s], born[s]))
    offsets, placed, arena = [0] * len(sizes), [], 0
    for sid in order:
        size = _aligned(sizes[sid])
        busy = sorted((offsets[o], offsets[o] + _aligned(sizes[o])) for o in placed
                      if born[o] <= died[sid] and born[sid] <= died[o])
        offset = 0
        for lo, hi in busy:
            if offset + size <= lo:
                break
            offset = max(offset, hi)
        offsets[sid] = offset
        placed.append(sid)
        arena = max(arena, offset + size)
    return offsets, arena


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0, 1, 64, 100, 128, 500, 4096, 4100]), st.integers(0, 40),
                          st.sampled_from([0, 1, 2, 3, 7, 20, 60])), max_size=50))
def test_interval_packer_equals_scanning_every_block(blocks):
    sizes = [s for s, _, _ in blocks]
    born = [b for _, b, _ in blocks]
    died = [min(45, b + d) for _, b, d in blocks]
    assert _pack(sizes, born, died) == _reference_pack(sizes, born, died)


@pytest.mark.parametrize("kind", ["chain", "branching"])
def test_long_graphs_bind_and_run(kind):
    from bench import graphs as bench_graphs
    sym = bench_graphs.bind_graph(mx, kind, 3000)
    x = np.random.RandomState(0).uniform(-1, 1, (2, 3)).astype(np.float32)
    ex = sym.simple_bind(mx.cpu(), grad_req="null", data=x.shape)
    ex.arg_dict["data"][:] = x
    got = ex.forward()[0].asnumpy()
    want = x.astype(np.float64)
    if kind == "chain":
        for i in range(3000):
            want = [np.tanh, lambda v: 1 / (1 + np.exp(-v)), lambda v: np.maximum(v, 0)][i % 3](want)
    else:
        for _ in range(1000):
            want = np.tanh(want) + 1 / (1 + np.exp(-want))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    stats = ex.memory_stats()
    assert stats["planned"] <= stats["lower_bound"] + 64 * 4


def test_long_training_chain_packs_at_the_lower_bound():
    from bench import graphs as bench_graphs
    ex = bench_graphs.bind_graph(mx, "chain", 3000).simple_bind(mx.cpu(), grad_req="write", data=(2, 16))
    stats = ex.memory_stats()
    assert stats["lower_bound"] <= stats["planned"] <= stats["lower_bound"]
