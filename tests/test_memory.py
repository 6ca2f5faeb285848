"""The memory planner: Before/Expected on tiny graphs, then hypothesis over random DAGs.

The random DAGs check the plan's invariants (no two live entries share a sid, in place only where
allowed, lower bound <= planned <= naive; packed sids whose lifetimes overlap do not overlap in bytes) and run
the graph twice with numpy, one array per entry and then views into the plan's one arena: the heads must agree
bit for bit. The Before/Expected cases pin MXNet's free-list mode (`DATAFLOW_MEMORY_PACKING=0`); the random DAGs
run both modes.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from ops.registry import OpDef
from scheduler.graph import Entry, IndexedGraph, Node
from scheduler.memory import EXTERNAL, entry_bytes, format_plan, plan_memory

F32 = np.dtype(np.float32)


@pytest.fixture(autouse=True)
def free_list_mode(request, monkeypatch):
    """The Before/Expected cases describe the free-list mode; tests taking `packing` choose for themselves."""
    if "packing" not in request.fixturenames:
        monkeypatch.setenv("DATAFLOW_MEMORY_PACKING", "0")


def _aligned(n):
    return -(-n // 64) * 64


def _any_shape(p, ins, outs):
    return ins, outs


def make_op(name, n_in=1, n_out=1, inplace=()):
    return OpDef(name, infer_shape=_any_shape, arguments=tuple("abc"[:n_in]),
                 outputs=("output", "hidden", "extra")[:n_out], inplace=tuple(inplace))


def apply(op, name, *inputs):
    return Node(op, name, params=op.parse_params({}), inputs=[e if isinstance(e, Entry) else Entry(e)
                                                              for e in inputs])


def var(name):
    return Node(None, name)


def uniform(graph, shape=(2, 3), dtype=F32):
    return [shape] * graph.num_entries, [dtype] * graph.num_entries


RELU = make_op("t_relu", inplace=[(0, 0)])
RELU_NO_INPLACE = make_op("t_relu")
MUL = make_op("t_mul", 2, inplace=[(0, 0), (1, 0)])
ADD = make_op("t_add", 2, inplace=[(0, 0), (1, 0)])


def chain(op, n, **kw):
    node = var("x")
    for i in range(n):
        node = apply(op, "r%d" % i, node)
    graph = IndexedGraph([Entry(node)])
    return graph, plan_memory(graph, *uniform(graph), **kw)


# -- Before / Expected ---------------------------------------------------------------------------------

def test_chain_inplace_shares_one_sid():
    # x -> relu -> relu -> relu -> relu(head): the three planned entries reuse one buffer in place.
    graph, plan = chain(RELU, 4)
    assert plan.storage_id == (EXTERNAL, 0, 0, 0, EXTERNAL)
    assert plan.inplace == (False, False, True, True, False)
    assert plan.storage_bytes == (24,)
    assert (plan.naive_bytes, plan.planned_bytes, plan.lower_bound_bytes) == (72, 24, 24)


def test_chain_without_inplace_alternates_two_sids():
    # r1 is written while r0 is read, so they need two buffers; r2 takes r0's buffer back from the free list.
    graph, plan = chain(RELU_NO_INPLACE, 4)
    assert plan.storage_id == (EXTERNAL, 0, 1, 0, EXTERNAL)
    assert not any(plan.inplace)
    assert (plan.naive_bytes, plan.planned_bytes, plan.lower_bound_bytes) == (72, 48, 48)


def test_square_in_place():
    # a = relu(x); y = a * a; z = relu(y): y reads a twice, both reads are its last, so y takes a in place.
    x = var("x")
    a = apply(RELU_NO_INPLACE, "a", x)
    y = apply(MUL, "y", a, a)
    z = apply(RELU_NO_INPLACE, "z", y)
    graph = IndexedGraph([Entry(z)])
    plan = plan_memory(graph, *uniform(graph))
    assert plan.storage_id == (EXTERNAL, 0, 0, EXTERNAL)
    assert plan.inplace == (False, False, True, False)


def test_diamond_keeps_an_input_still_needed():
    # a = relu(x); b = relu(a); c = b + a.  b may not take a in place: a is read again by c.
    x = var("x")
    a = apply(RELU_NO_INPLACE, "a", x)
    b = apply(RELU, "b", a)
    c = apply(ADD, "c", b, a)
    d = apply(RELU_NO_INPLACE, "d", c)
    graph = IndexedGraph([Entry(d)])
    plan = plan_memory(graph, *uniform(graph))
    sid = plan.storage_id
    assert not plan.inplace[2] and sid[2] != sid[1]          # b got its own buffer
    assert plan.inplace[3] and sid[3] in (sid[1], sid[2])    # c, the last reader of both, takes one in place


def test_external_and_heads_are_not_planned():
    graph, plan = chain(RELU, 3, external={2})
    assert plan.storage_id == (EXTERNAL, 0, EXTERNAL, EXTERNAL)
    assert plan.naive_bytes == 24


def test_size_mismatch_is_not_in_place_and_free_block_grows():
    # a (24 B) dies into b (48 B): not in place (sizes differ); d (48 B) takes a's 24 B block, grown to 48.
    x = var("x")
    a = apply(RELU_NO_INPLACE, "a", x)
    b = apply(RELU, "b", a)
    c = apply(RELU, "c", b)   # in place: b dies here, equal sizes
    d = apply(RELU_NO_INPLACE, "d", c)
    e = apply(RELU_NO_INPLACE, "e", d)
    graph = IndexedGraph([Entry(e)])
    shapes = [(2, 3), (2, 3), (12,), (12,), (12,), (12,)]
    plan = plan_memory(graph, shapes, [F32] * 6)
    assert plan.storage_id == (EXTERNAL, 0, 1, 1, 0, EXTERNAL)
    assert plan.inplace == (False, False, False, True, False, False)
    assert plan.storage_bytes == (48, 48)
    assert plan.lower_bound_bytes == 96
    # with match_range=1 only exact sizes match, so d needs a third buffer
    assert plan_memory(graph, shapes, [F32] * 6, match_range=1).storage_bytes == (24, 48, 48)


def test_real_dtype_sizes():
    graph, plan = chain(RELU_NO_INPLACE, 3)
    shapes, _ = uniform(graph)
    plan16 = plan_memory(graph, shapes, [np.dtype(np.float16)] * graph.num_entries)
    plan64 = plan_memory(graph, shapes, [np.dtype(np.float64)] * graph.num_entries)
    assert plan16.naive_bytes == 24 and plan64.naive_bytes == 96


def test_hidden_output_is_freed_after_its_node():
    split = make_op("t_split", 1, 2)
    x = var("x")
    s = apply(split, "s", x)
    a = apply(RELU_NO_INPLACE, "a", Entry(s, 0))
    b = apply(RELU_NO_INPLACE, "b", a)
    graph = IndexedGraph([Entry(b)])
    plan = plan_memory(graph, *uniform(graph))
    # s_hidden (eid 2) is never read: its buffer is free by the time a is written
    assert plan.storage_id == (EXTERNAL, 0, 1, 1, EXTERNAL)


def test_two_outputs_do_not_take_one_input():
    # s has two outputs that may both overwrite its input a; only the first gets it, even though s_output
    # (read by nobody) leaves a's storage with no further readers.
    split = make_op("t_split", 1, 2, inplace=[(0, 0), (0, 1)])
    x = var("x")
    a = apply(RELU_NO_INPLACE, "a", x)
    s = apply(split, "s", a)
    b = apply(RELU_NO_INPLACE, "b", Entry(s, 1))
    graph = IndexedGraph([Entry(b)])
    plan = plan_memory(graph, *uniform(graph))
    assert plan.storage_id == (EXTERNAL, 0, 0, 1, EXTERNAL)
    assert plan.inplace == (False, False, True, False, False)


def test_format_plan():
    x, w = var("data"), var("w")
    y = apply(ADD, "y", x, w)
    z = apply(RELU, "z", y)
    out = apply(RELU_NO_INPLACE, "out", z)
    graph = IndexedGraph([Entry(out)])
    shapes, dtypes = uniform(graph)
    plan = plan_memory(graph, shapes, dtypes)
    assert format_plan(graph, shapes, dtypes, plan) == "\n".join([
        "%0 = var data  external (2, 3) float32",
        "%1 = var w  external (2, 3) float32",
        "%2 = t_add(%0, %1)  sid=0 (2, 3) float32",
        "%3 = t_relu(%2)  sid=0 inplace (2, 3) float32",
        "%4 = t_relu(%3)  external (2, 3) float32",
    ])


def test_debug_line(monkeypatch, capsys):
    monkeypatch.setenv("DATAFLOW_DEBUG", "1")
    chain(RELU_NO_INPLACE, 4)
    assert capsys.readouterr().err == "memory: naive 0.0 MB -> planned 0.0 MB (lower bound 0.0 MB)\n"


def test_match_range_from_env(monkeypatch):
    monkeypatch.setenv("NNVM_EXEC_MATCH_RANGE", "0")       # 0: never reuse a free block
    graph, plan = chain(RELU_NO_INPLACE, 5)
    assert plan.storage_id == (EXTERNAL, 0, 1, 2, 3, EXTERNAL)


# -- random DAGs ---------------------------------------------------------------------------------------

SPECS = [((2, 3), F32), ((6,), F32), ((3, 4), np.dtype(np.float64)), ((4,), np.dtype(np.float16)),
         ((12,), F32), ((6,), np.dtype(np.int32)), ((2, 2, 3), np.dtype(np.float64))]


@st.composite
def random_graphs(draw):
    """(graph, shapes, dtypes, external, coef per node): a random DAG of ops with 1-3 inputs and 1-2 outputs."""
    n_vars = draw(st.integers(1, 3))
    entries = [Entry(var("v%d" % i)) for i in range(n_vars)]
    spec, coef = {}, {}
    for e in entries:
        spec[id(e.node), 0] = SPECS[draw(st.integers(0, len(SPECS) - 1))]
    for k in range(draw(st.integers(1, 14))):
        n_in = draw(st.integers(1, 3))
        n_out = draw(st.integers(1, 2))
        # prefer recent entries, so chains and in-place chances are common
        recent = st.integers(max(0, len(entries) - 5), len(entries) - 1)
        picks = [draw(recent | st.integers(0, len(entries) - 1)) for _ in range(n_in)]
        pairs = draw(st.lists(st.tuples(st.integers(0, n_in - 1), st.integers(0, n_out - 1)), max_size=3,
                              unique=True))
        node = apply(make_op("t%d" % k, n_in, n_out, pairs), "n%d" % k, *[entries[i] for i in picks])
        for out in range(n_out):
            like = spec[id(node.inputs[0].node), node.inputs[0].index]
            spec[id(node), out] = draw(st.sampled_from([like]) | st.sampled_from(SPECS))
            entries.append(Entry(node, out))
        coef[id(node)] = draw(st.lists(st.sampled_from([-2.0, 0.5, 1.0, 3.0]), min_size=n_in, max_size=n_in))
    read = {(id(i.node), i.index) for e in entries for i in e.node.inputs}
    # an unread output that is not a head is dead on arrival (a hidden output), or drops out of the graph
    heads = [e for e in entries[n_vars:] if (id(e.node), e.index) not in read and draw(st.booleans())]
    heads = heads or [entries[-1]]
    graph = IndexedGraph(heads)
    specs = [spec[id(graph.nodes[graph.entry_node(eid)[0]]), graph.entry_node(eid)[1]]
             for eid in range(graph.num_entries)]
    shapes, dtypes = [s for s, _ in specs], [d for _, d in specs]
    external = set(draw(st.lists(st.integers(0, graph.num_entries - 1), max_size=2)))
    return graph, shapes, dtypes, external, coef


def run(graph, shapes, dtypes, coef, arrays, seed=0):
    """Execute the graph with numpy into `arrays` (one per eid); returns the head values."""
    rng = np.random.default_rng(seed)
    for nid, node in enumerate(graph.nodes):
        first = graph.node_row_ptr[nid]
        if node.is_variable:
            arrays[first][...] = (rng.standard_normal(shapes[first]) * 10).astype(dtypes[first])
            continue
        values = []     # every output is computed before any is written, so writing over an input is safe
        for out in range(node.num_outputs()):
            size = arrays[first + out].size
            acc = np.zeros(size)
            for c, eid in zip(coef[id(node)], graph.inputs[nid], strict=True):
                acc += c * np.resize(arrays[eid].astype(np.float64).ravel(), size)
            values.append(np.tanh(acc * 0.1 + out) * 100)
        for out, value in enumerate(values):
            dst = arrays[first + out]
            dst[...] = value.reshape(dst.shape).astype(dst.dtype)
    return [arrays[h].copy() for h in graph.heads]


def live_intervals(graph, plan):
    """Per planned eid, [start, end] in half-steps: step t reads its inputs and writes its outputs at 2t;
    an output taken in place starts at 2t+1, just after the input it replaces ends."""
    last = {}
    for nid, eids in enumerate(graph.inputs):
        for eid in eids:
            last[eid] = max(last.get(eid, 0), nid)
    out = {}
    for eid, sid in enumerate(plan.storage_id):
        if sid != EXTERNAL:
            step = graph.entry_node(eid)[0]
            start = 2 * step + plan.inplace[eid]
            out[eid] = (start, max(start, 2 * last.get(eid, step)))
    return out


@pytest.mark.parametrize("packing", ["1", "0"])
@settings(deadline=None, max_examples=100)
@given(case=random_graphs(), match_range=st.sampled_from([None, 0, 1, 2, 16]))
def test_random_dag(packing, case, match_range):
    graph, shapes, dtypes, external, coef = case
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATAFLOW_MEMORY_PACKING", packing)
        plan = plan_memory(graph, shapes, dtypes, external, match_range=match_range)
    nbytes = [entry_bytes(s, d) for s, d in zip(shapes, dtypes, strict=True)]
    external = external | set(graph.heads) | {graph.node_row_ptr[n] for n in graph.arg_nodes}
    assert [sid == EXTERNAL for sid in plan.storage_id] == [e in external for e in range(graph.num_entries)]

    # (1) no two simultaneously live entries share a sid, and every block is large enough
    spans = live_intervals(graph, plan)
    for a, (s0, e0) in spans.items():
        assert plan.storage_bytes[plan.storage_id[a]] >= nbytes[a]
        for b, (s1, e1) in spans.items():
            if a < b and plan.storage_id[a] == plan.storage_id[b]:
                assert e0 < s1 or e1 < s0, (a, b, format_plan(graph, shapes, dtypes, plan))

    # (2) in place only on an allowed pair, over a planned input of the same bytes and dtype that dies here
    for eid, taken in enumerate(plan.inplace):
        if taken:
            nid, out = graph.entry_node(eid)
            ins = graph.inputs[nid]
            assert any(o == out and plan.storage_id[ins[i]] == plan.storage_id[eid]
                       and spans[ins[i]][1] == 2 * nid and nbytes[ins[i]] == nbytes[eid]
                       and dtypes[ins[i]] == dtypes[eid]
                       for i, o in graph.nodes[nid].op.inplace)

    # (3) the totals, and the arena: sids live at the same time never share a byte
    assert plan.naive_bytes == sum(nbytes[e] for e in spans)
    assert plan.lower_bound_bytes <= plan.planned_bytes <= sum(_aligned(b) for b in plan.storage_bytes)
    assert plan.lower_bound_bytes <= plan.planned_bytes <= sum(_aligned(nbytes[e]) for e in spans)
    for a, (s0, e0) in spans.items():
        for b, (s1, e1) in spans.items():
            sa, sb = plan.storage_id[a], plan.storage_id[b]
            if sa != sb and not (e0 < s1 or e1 < s0):
                lo_a, lo_b = plan.offsets[sa], plan.offsets[sb]
                assert lo_a + plan.storage_bytes[sa] <= lo_b or lo_b + plan.storage_bytes[sb] <= lo_a, (a, b)

    # (4) a planned run, every planned entry a view into one arena at its sid's offset, equals an unplanned run
    alone = [np.empty(s, d) for s, d in zip(shapes, dtypes, strict=True)]
    arena = np.empty(max([o + b for o, b in zip(plan.offsets, plan.storage_bytes)], default=0), np.uint8)
    shared = [np.empty(s, d) if sid == EXTERNAL else
              arena[plan.offsets[sid]:plan.offsets[sid] + nbytes[eid]].view(d).reshape(s)
              for eid, (s, d, sid) in enumerate(zip(shapes, dtypes, plan.storage_id, strict=True))]
    for want, got in zip(run(graph, shapes, dtypes, coef, alone), run(graph, shapes, dtypes, coef, shared),
                         strict=True):
        np.testing.assert_array_equal(got, want)


@settings(deadline=None, max_examples=30)
@given(random_graphs())
def test_no_memory_planner(case):
    graph, shapes, dtypes, external, _ = case
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATAFLOW_NO_MEMORY_PLANNER", "1")
        plan = plan_memory(graph, shapes, dtypes, external)
    planned = [sid for sid in plan.storage_id if sid != EXTERNAL]
    assert sorted(planned) == list(range(len(planned)))
    assert not any(plan.inplace)
    assert plan.planned_bytes == plan.naive_bytes
