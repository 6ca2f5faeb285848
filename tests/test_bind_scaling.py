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
    """Every rule in every sweep, forward then backward, until a sweep changes nothing (each rule runs every
    time: no memo)."""
    problem = infer._Pass(graph, kind, memo=False)
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
            changed |= bool(problem._apply_rule(nid, values)[0])
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


# -- the bind's shortcuts equal the plain computations they replace ----------------------------------------------

@settings(max_examples=40, deadline=None)
@given(graphs())
def test_inference_of_training_graphs_equals_full_sweeps(case):
    """The forward and gradient nodes lowered together (rule memo, seeded from the forward) against every rule in
    every sweep, without the memo, on the whole graph."""
    from scheduler import build
    from scheduler.graph import Entry, Node
    sym, known = case
    forward = sym._graph()
    fwd_shapes = _outcome(lambda: infer.infer_shapes(forward, known).values)
    if fwd_shapes[0] != "ok" or not infer.Inferred(fwd_shapes[1]).complete():
        return      # a contradiction or an unknown shape: the worklist test above compares those
    heads = sym._outputs
    head_nodes = [Node(None, "head_grad%d" % k) for k in range(len(heads))]
    wrt = [Entry(forward.nodes[i]) for i in forward.argument_nodes]
    dtypes = {name: np.dtype(np.float32) for name in known}
    lowered = build.lower(heads, known, dtypes, wrt, [Entry(n) for n in head_nodes], forward)
    g = lowered.graph
    head_known = {n.name: fwd_shapes[1][h] for n, h in zip(head_nodes, forward.heads)}
    assert lowered.shapes == _reference_infer(g, dict(known, **head_known), "shape")
    assert lowered.dtypes == _reference_infer(g, dict(dtypes, **{n.name: np.dtype(np.float32)
                                                                  for n in head_nodes}), "dtype")


def test_the_rule_memo_runs_each_combination_once(monkeypatch):
    """A chain of 300 Activations of three kinds: the rules run once per (op, params, values) combination."""
    from bench import graphs as bench_graphs
    runs = []
    run_rule = infer._Pass._run_rule
    monkeypatch.setattr(infer._Pass, "_run_rule", lambda self, node, *a: runs.append(node.op.name) or
                        run_rule(self, node, *a))
    g = bench_graphs.bind_graph(mx, "chain", 300)._graph()
    shapes = infer.infer_shapes(g, {"data": (2, 3)}).values
    assert set(shapes) == {(2, 3)} and len(runs) == 3
    runs.clear()
    assert set(infer.infer_dtypes(g, {"data": np.float16}).values) == {np.dtype(np.float16)} and len(runs) == 3


def test_gradient_nodes_hold_what_parsing_their_attrs_gives():
    """autodiff.apply formats and parses each (op, params) form once and shares its Params; the attrs and params
    of every node are those of formatting and parsing that node's own params, and 1 / 1.0 / 0.0 / -0.0 stay apart."""
    from ops import autodiff, registry
    from scheduler.graph import Entry, Node
    x = autodiff.Value(Entry(Node(None, "x")))
    for scalar, text in [(1, "1"), (1.0, "1.0"), (0.0, "0.0"), (-0.0, "-0.0"), (1, "1"), (-0.0, "-0.0")]:
        node = autodiff.apply("_mul_scalar", x, scalar=scalar).entry.node
        opdef = registry.get("_mul_scalar")
        assert node.attrs == {"scalar": text} == opdef.format_attrs({"scalar": scalar})
        assert node.params == opdef.parse_params({"scalar": text})
        assert repr(node.params.scalar) == repr(float(text))
    a = autodiff.apply("_backward_Activation", x, x, act_type="tanh").entry.node
    b = autodiff.apply("_backward_Activation", x, x, act_type="tanh").entry.node
    assert a.params is b.params and a.attrs == b.attrs and a.attrs is not b.attrs and a.name != b.name
    stateful = registry.OpDef("_test_stateful", infer_shape=lambda p, i, o: (i, o), state_per_call=True)
    c, d = (autodiff.apply(stateful, x).entry.node for _ in range(2))
    assert c.params == d.params and c.params is not d.params      # kernel state per Params object: never shared


def _recursive_post_order(roots):
    order, seen = [], set()

    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for entry in node.inputs:
            visit(entry.node)
        order.append(node)
    for root in roots:
        visit(root)
    return order


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 10 ** 6), max_size=3), min_size=1, max_size=30),
       st.lists(st.integers(0, 10 ** 6), min_size=1, max_size=4))
def test_graph_walk_equals_a_recursive_depth_first_walk(inputs, roots):
    """IndexedGraph's iterative walk gives NNVM's DFS post-order: inputs left to right, each node once."""
    from scheduler.graph import Entry, Node, _post_order
    nodes = []
    for i, refs in enumerate(inputs):
        nodes.append(Node(None, "n%d" % i, inputs=[Entry(nodes[r % i]) for r in refs] if i else ()))
    heads = [nodes[r % len(nodes)] for r in roots]
    assert [n.name for n in _post_order(heads)] == [n.name for n in _recursive_post_order(heads)]


def test_jit_placement_from_view_offsets_equals_reading_pointers():
    """The JIT places a Plan's entries by the offsets the Plan recorded for its views; asking numpy for every
    pointer gives the same, and a rebound entry falls back to its pointer."""
    from scheduler import compile as jit
    from bench import graphs as bench_graphs
    ex = bench_graphs.bind_graph(mx, "branching", 30).simple_bind(mx.cpu(), grad_req="write", data=(2, 3))
    plan = getattr(ex._plan, "plan", ex._plan)
    recorded = jit._where(plan)
    offsets, plan.view_offsets = plan.view_offsets, None
    try:
        assert recorded == jit._where(plan)
    finally:
        plan.view_offsets = offsets
    assert sum(w is not None and w.offset is not None for w in recorded) > 30
    eid = next(e for e, o in enumerate(offsets) if o is not None)
    plan.rebind(eid, np.zeros(plan.arrays[eid].shape, plan.arrays[eid].dtype))
    assert plan.view_offsets[eid] is None and jit._where(plan)[eid].offset is None


def test_an_unknown_shape_left_after_lowering_is_named():
    from scheduler import build
    x, w = mx.sym.var("x"), mx.sym.var("w")
    heads = mx.sym.Group([x * 2, mx.sym.relu(w, name="r")])._outputs
    lowered = build.lower(heads, {"x": (2, 3)}, {"x": np.float32, "w": np.float32})
    with pytest.raises(mx.base.MXNetError, match="'w'"):
        lowered.check_complete("bind")


def test_a_rule_that_fills_in_the_lists_it_is_given():
    """A rule may write its proposals into the lists it gets and return them: what it changed is still seen, with
    the memo as without it."""
    from ops.registry import OpDef, Params
    from scheduler.graph import Entry, IndexedGraph, Node

    def fill(p, ins, outs):
        if ins[0] is not None:
            outs[0] = ins[0]
        elif outs[0] is not None:
            ins[0] = outs[0]
        return ins, outs
    op = OpDef("_test_fill", infer_shape=fill)
    x = Node(None, "x")
    a = Node(op, "a", params=Params({}), inputs=[Entry(x)])
    b = Node(op, "b", params=Params({}), inputs=[Entry(a)])
    g = IndexedGraph([Entry(b)])
    assert infer.infer_shapes(g, {"x": (2, 3)}).values == ((2, 3),) * 3 == _reference_infer(g, {"x": (2, 3)}, "shape")
    assert infer.infer_shapes(g, {}).values == (None, None, None)
