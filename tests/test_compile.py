"""The Plan compiler (scheduler/compile.py, scheduler/codegen.py): a compiled Plan computes what the interpreted Plan
computes, forward and backward, under every req; fused loops equal unfused calls; the generated modules are cached
across processes; steps without a body, rebinds and new shapes stay correct.

The truth is the interpreted Plan (the ops' CPU kernels, checked against numpy elsewhere) and numpy. The bodies are
tests/jit_test_bodies.py (the compiler on its own) and ops.jit's (the real ones) where they exist.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dataflow as mx
from ops import registry
from ops.registry import ADD, WRITE, OpContext
from scheduler import codegen
from scheduler.compile import CompiledPlan, Where, compile_plan
from scheduler.gradient import add_backward
from scheduler.graph import Entry, IndexedGraph, Node
from scheduler.infer import infer_dtypes, infer_shapes
from scheduler.memory import plan_memory
from scheduler.plan import Copy, Plan, bind_outputs
from tests import jit_test_bodies as tb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True, scope="module")
def _numba_array_support_loaded():
    """The first compile of a process goes to the background (it pays numba's setup); these tests look at what
    compiled right after a first run, so they load numba's array support first."""
    import numba.np.arraymath  # noqa: F401


@pytest.fixture(autouse=True)
def _compile_from_the_first_run(monkeypatch):
    """Ranges compile after their first run here (by default after their second: COMPILE_AFTER_RUNS)."""
    from scheduler import compile as jit
    monkeypatch.setattr(jit, "COMPILE_AFTER_RUNS", 0)


# ---------------------------------------------------------------------------------------------------------------
# Building the same Plan twice: one to interpret, one to compile
# ---------------------------------------------------------------------------------------------------------------

class Bound:
    """A Plan of the graph of `heads` (Entries; forward and backward) bound to its own numpy arrays."""

    def __init__(self, heads, values, grad_req, head_grads):
        forward = IndexedGraph(heads)
        variables = {forward.nodes[i].name: forward.nodes[i] for i in forward.arg_nodes}
        wanted = [n for n in variables if grad_req.get(n, "null") != "null"]
        head_nodes = [Node(None, "head_grad%d" % k) for k in range(len(heads))]
        known_shapes = {n: v.shape for n, v in values.items()}
        known_dtypes = {n: v.dtype for n, v in values.items()}
        if head_grads is None:          # seeded: the same for every Bound of one graph
            shapes = infer_shapes(forward, known_shapes).values
            dtypes = infer_dtypes(forward, known_dtypes).values
            rng = np.random.RandomState(7)
            head_grads = [rng.uniform(-1, 1, shapes[forward.eid(e)]).astype(
                dtypes[forward.eid(e)]) for e in heads]
        self.values = {n: v.copy() for n, v in values.items()}
        for node, dy in zip(head_nodes, head_grads):
            known_shapes[node.name], known_dtypes[node.name] = dy.shape, dy.dtype
            self.values[node.name] = dy.copy()
        grads = add_backward(heads, [Entry(variables[n]) for n in wanted], [Entry(n) for n in head_nodes]) \
            if wanted else []
        g = IndexedGraph(list(heads) + [e for e in grads if e is not None])
        shapes = infer_shapes(g, known_shapes).values
        dtypes = infer_dtypes(g, known_dtypes).values
        bound = {g.node_row_ptr[nid]: self.values[g.nodes[nid].name] for nid in g.arg_nodes}
        head_eids = g.heads[:len(heads)]
        self.outputs = [np.full(shapes[e], np.nan if np.dtype(dtypes[e]).kind == "f" else 99, dtypes[e])
                        for e in head_eids]        # NaN: an output nobody wrote shows
        copies, _ = bind_outputs(head_eids, self.outputs, bound)
        self.grads = {n: np.full(values[n].shape, 0.5, values[n].dtype) for n in wanted}
        grad_copies, req = [], {}       # as the Executor binds gradients: straight into the array, else copied
        for n, entry in zip(wanted, grads):
            if entry is None:
                if grad_req[n] != "add":
                    grad_copies.append(Copy(None, self.grads[n], segment="backward"))
            elif g.eid(entry) in bound:
                grad_copies.append(Copy(g.eid(entry), self.grads[n], grad_req[n] == "add", "backward"))
            else:
                bound[g.eid(entry)] = self.grads[n]
                req[g.eid(entry)] = ADD if grad_req[n] == "add" else WRITE
        memory = plan_memory(g, shapes, dtypes, external=set(bound))
        self.plan = Plan(g, shapes, dtypes, memory, bound, copies + grad_copies, req)
        self.shapes, self.dtypes, self.req = shapes, dtypes, req
        self.n_forward = sum(1 for node in forward.nodes if not node.is_variable)

    def run(self, runner, is_train=True, backward=True):
        ctx = OpContext(is_train=is_train)
        runner.run(ctx, 0, self.n_forward, "forward")
        if backward:
            runner.run(ctx, self.n_forward, None, "backward")
        return [o.copy() for o in self.outputs], {n: g.copy() for n, g in self.grads.items()}


def pair(sym, values, grad_req=None, head_grads=None, bodies=tb.bodies, **kwargs):
    """(interpreted Bound, compiled Bound, the CompiledPlan) of one symbol and one set of values."""
    grad_req = grad_req or {}
    heads = sym._outputs if isinstance(sym, mx.sym.Symbol) else sym
    ref = Bound(heads, values, grad_req, head_grads)
    cmp = Bound(heads, values, grad_req, head_grads)
    compiled = compile_plan(cmp.plan, bodies=bodies, **kwargs)
    return ref, cmp, compiled


def check(sym, values, grad_req=None, bodies=tb.bodies, exact=True, runs=2, tol=None, **kwargs):
    """Compiled equals interpreted, forward and backward, run `runs` times (ADD accumulates, the arena is reused):
    exactly, or within `tol` (rtol, atol; default by dtype)."""
    ref, cmp, compiled = pair(sym, values, grad_req, bodies=bodies, **kwargs)
    backward = bool(ref.grads)
    for _ in range(runs):       # a range never compiled before compiles in the background: interpreted, then compiled
        want = ref.run(ref.plan, backward=backward)
        got = cmp.run(compiled, backward=backward)
        if isinstance(compiled, CompiledPlan):
            compiled.wait()
        for w, g in zip(want[0] + list(want[1].values()), got[0] + list(got[1].values())):
            if exact:
                np.testing.assert_array_equal(g, w)
            else:
                rtol, atol = tol or ((1e-5, 1e-6) if w.dtype == np.float32 else (1e-12, 1e-12))
                np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)
    if isinstance(compiled, CompiledPlan):
        for r in compiled.shared.ranges.values():
            assert r.info is None or r.info["error"] is None, r.info["error"]
    return compiled


def _values(names, shape, dtype, seed=0):
    rng = np.random.RandomState(seed)
    return {n: rng.uniform(-2, 2, shape).astype(dtype) for n in names}


# ---------------------------------------------------------------------------------------------------------------
# Straight-line segments, req, fusion
# ---------------------------------------------------------------------------------------------------------------

def _mlp(no_bias=False):
    x = mx.sym.Variable("x")
    h = mx.sym.Activation(mx.sym.FullyConnected(x, num_hidden=16, name="fc1"), act_type="relu")
    return mx.sym.FullyConnected(h, num_hidden=4, name="fc2", no_bias=no_bias)


def _real_bodies(op, p, in_meta, out_meta, req):
    from ops.jit import body
    return body(op, p, in_meta, out_meta, req)


@pytest.mark.parametrize("bodies", [tb.bodies, _real_bodies], ids=["test-bodies", "ops.jit"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("req", ["write", "add", "null"])
def test_mlp_forward_backward_equals_interpreted(dtype, req, bodies):
    sym = _mlp()
    rng = np.random.RandomState(1)
    values = {n: rng.uniform(-1, 1, s).astype(dtype) for n, s in
              zip(sym.list_arguments(), sym.infer_shape(x=(3, 8))[0])}
    grad_req = {n: req for n in values}
    grad_req["x"] = "write"
    compiled = check(sym, values, grad_req, bodies=bodies, exact=False)
    assert isinstance(compiled, CompiledPlan)
    info = compiled.info(0, 3)
    assert info["segments"] == 1 and info["interpreted"] == 0


def test_inplace_relu_chain_is_fused_and_equal():
    x = mx.sym.Variable("x")
    y = mx.sym.relu(-(x * 2.0 + 1.0))       # _mul_scalar, _plus_scalar, negative, relu: in place, one loop
    compiled = check(y, _values(["x"], (5, 7), np.float32), {"x": "write"})
    info = compiled.info(0, 4)
    assert info["fused"] == [4], info
    assert "for i in range(n)" in info["source"]      # the length is read at run time (codegen's sizes)
    # the intermediates are not stored: only the head's output is written in the loop
    assert info["source"].count("[i] = x") == 1, info["source"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_equals_unfused(dtype, monkeypatch):
    x, w = mx.sym.Variable("x"), mx.sym.Variable("w")
    y = mx.sym.relu(x * w + x) - w * 0.5
    values = _values(["x", "w"], (6, 5), dtype)
    ref, cmp, fused = pair(y, values, {"x": "write", "w": "add"})
    cmp.run(fused)          # ranges are lowered at their first run
    fused.wait()
    got_fused = cmp.run(fused)
    monkeypatch.setenv("DATAFLOW_JIT", "nofuse")
    _, plain_bound, plain = pair(y, values, {"x": "write", "w": "add"})
    plain_bound.run(plain)
    plain.wait()
    got_plain = plain_bound.run(plain)
    assert fused.info(0, ref.n_forward)["fused"] and not plain.info(0, ref.n_forward)["fused"]
    for a, b in zip(got_fused[0] + list(got_fused[1].values()), got_plain[0] + list(got_plain[1].values())):
        np.testing.assert_array_equal(a, b)


def test_a_large_loop_has_a_two_thread_form(monkeypatch):
    """More in tests/test_fusion_threads.py (Note [two threads] in scheduler/codegen.py)."""
    monkeypatch.setenv("DATAFLOW_JIT_PARALLEL", "1")
    x = mx.sym.Variable("x")
    n = codegen.PARALLEL_WORK // 3 + 5
    compiled = check(mx.sym.relu(x * 1.5 + 0.25), _values(["x"], (1, n), np.float32), {"x": "write"})
    info = compiled.info(0, 3)
    assert info["fused"] == [3]
    if compiled_parallel():
        assert "numba.prange(threads)" in info["source"]


def compiled_parallel():
    from scheduler import loop_threads
    return loop_threads.parallel_ok()


def test_a_scalar_input_broadcasts_in_a_fused_loop():
    x, s = mx.sym.Variable("x"), mx.sym.Variable("s")
    y = mx.sym.relu(mx.sym.broadcast_mul(x, s) + x)
    values = {"x": _values(["x"], (4, 6), np.float32)["x"], "s": np.array([[-0.75]], np.float32)}
    compiled = check(y, values, {"x": "write", "s": "write"})
    assert compiled.info(0, 3)["fused"] == [3]


def test_division_by_zero_in_a_fused_loop_gives_inf_as_the_kernels():
    """Scalar functions inlined into a fused loop take the loop's numba error model: numpy's, as the kernels'."""
    x, y = mx.sym.Variable("x"), mx.sym.Variable("y")
    values = {"x": np.array([[1.0, -2.0, 0.0, 3.0]], np.float32), "y": np.array([[0.0, 0.0, 0.0, 2.0]], np.float32)}
    compiled = check((x / y) * 2.0 + 1.0, values, bodies=_real_bodies, exact=False)
    assert compiled.info(0, 3)["fused"] == [3]


def test_dtypes_without_bodies_run_interpreted():
    x = mx.sym.Variable("x")
    values = {"x": np.arange(12, dtype=np.int32).reshape(3, 4)}
    ref, cmp, compiled = pair(mx.sym.relu(x - 5) * 2, values, bodies=_real_bodies)
    want, got = ref.run(ref.plan, backward=False), cmp.run(compiled, backward=False)
    np.testing.assert_array_equal(got[0][0], want[0][0])
    np.testing.assert_array_equal(got[0][0], np.maximum(values["x"] - 5, 0) * 2)


def test_steps_without_a_body_cut_segments():
    x = mx.sym.Variable("x")
    y = mx.sym.relu(mx.sym.exp(x * 0.5) * 2.0)      # exp has no body in the test provider: interpreted
    compiled = check(y, _values(["x"], (3, 4), np.float64), {"x": "write"})
    info = compiled.info(0, 4)
    assert info["segments"] == 2 and info["interpreted"] == 1


def test_no_body_at_all_runs_interpreted():
    # Note [the first run imports no compiler]: whether some step has a body is known once the range lowers
    x = mx.sym.Variable("x")
    values = _values(["x"], (3,), np.float32)
    ref, cmp, compiled = pair(mx.sym.exp(x), values, bodies=tb.provider(set()))
    for _ in range(2):
        want, got = ref.run(ref.plan, backward=False), cmp.run(compiled, backward=False)
        np.testing.assert_array_equal(got[0][0], want[0][0])
    np.testing.assert_allclose(got[0][0], np.exp(values["x"]), rtol=1e-6)
    info = compiled.info(0, cmp.n_forward)
    assert info["segments"] == 0 and info["interpreted"] == cmp.n_forward and not info["source"]


def test_switched_off(monkeypatch):
    monkeypatch.setenv("DATAFLOW_JIT", "0")
    ref = Bound(mx.sym.relu(mx.sym.Variable("x"))._outputs, _values(["x"], (3,), np.float32), {}, None)
    assert compile_plan(ref.plan, bodies=tb.bodies) is ref.plan


def test_head_that_is_an_input_and_repeated_heads_are_copied():
    x = mx.sym.Variable("x")
    y = mx.sym.relu(x)
    check(mx.sym.Group([y, x, y]), _values(["x"], (2, 3), np.float32), {"x": "add"})


def test_storage_reused_at_another_size_stays_correct():
    """Entries of different sizes share arena space (the packer reuses what a slice's input freed): the fused loops
    around it stay equal. The rule that cuts a group whose memory overlaps partially is checked on its own below
    (Note [fusion and the memory plan])."""
    x = mx.sym.Variable("x")
    big = x * 2.0
    small = mx.sym.slice_axis(big, axis=0, begin=0, end=2)     # interpreted; its input dies here
    y = mx.sym.relu(small + 1.0) * 3.0
    values = _values(["x"], (4, 8), np.float32)
    ref, cmp, compiled = pair(y, values)
    for _ in range(2):
        want, got = ref.run(ref.plan, backward=False), cmp.run(compiled, backward=False)
        np.testing.assert_array_equal(got[0][0], want[0][0])


def test_memory_safety_rule():
    """The rule on its own: identical or disjoint memory only."""
    where = [Where(0, (4,), np.dtype(np.float32)), Where(0, (4,), np.dtype(np.float32)),
             Where(8, (4,), np.dtype(np.float32)), Where(16, (4,), np.dtype(np.float32)),
             Where(None, (4,), np.dtype(np.float32)), Where(0, (2,), np.dtype(np.float64))]
    w = codegen._ModuleWriter(None, where, {}, set(), False, True)
    assert w._same_or_apart(0, 1)           # in place
    assert not w._same_or_apart(0, 2)       # shifted by two elements
    assert w._same_or_apart(0, 3)           # apart
    assert w._same_or_apart(0, 4)           # a passed-in array
    assert not w._same_or_apart(0, 5)       # same bytes, other element size


# ---------------------------------------------------------------------------------------------------------------
# Random DAGs
# ---------------------------------------------------------------------------------------------------------------

_UNARY = [lambda a: mx.sym.relu(a), lambda a: -a, lambda a: a * 1.5, lambda a: a + 0.25, lambda a: mx.sym.exp(a * 0.1)]
_BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b]


@st.composite
def dags(draw):
    n_inputs = draw(st.integers(1, 3))
    names = ["x%d" % i for i in range(n_inputs)]
    nodes = [mx.sym.Variable(n) for n in names]
    for _ in range(draw(st.integers(1, 7))):
        if draw(st.booleans()):
            nodes.append(draw(st.sampled_from(_UNARY))(draw(st.sampled_from(nodes))))
        else:
            nodes.append(draw(st.sampled_from(_BINARY))(draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes))))
    heads = draw(st.lists(st.sampled_from(nodes[n_inputs:]), min_size=1, max_size=2))
    sym = mx.sym.Group(heads) if len(heads) > 1 else heads[0]
    reqs = {n: draw(st.sampled_from(["write", "add", "null"])) for n in names}
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shape = draw(st.sampled_from([(3, 5), (7,), (2, 2, 3)]))
    seed = draw(st.integers(0, 2 ** 16))
    provided = draw(st.sampled_from([None, {"relu", "negative", "elemwise_add"}, "ops.jit"]))
    return sym, _values(names, shape, dtype, seed), reqs, provided


@settings(max_examples=12)
@given(dags())
def test_random_dags_equal_interpreted(case):
    sym, values, reqs, provided = case
    if not any(isinstance(v, np.ndarray) for v in values.values()):
        return
    used = set(sym.list_arguments())
    values = {n: v for n, v in values.items() if n in used}
    reqs = {n: r for n, r in reqs.items() if n in used}
    if provided == "ops.jit":
        check(sym, values, reqs, bodies=_real_bodies, exact=False)
    else:
        check(sym, values, reqs, bodies=tb.bodies if provided is None else tb.provider(provided))


# ---------------------------------------------------------------------------------------------------------------
# The ops of the spec table that have bodies (ops.jit), alone in a graph
# ---------------------------------------------------------------------------------------------------------------

def _covered_specs():
    from ops.jit import covered
    from tests.op_specs import SPECS
    names = set(covered())
    return [s for s in SPECS if s.name in names and {"float32", "float64"} & set(s.dtypes)]


@pytest.mark.parametrize("spec", _covered_specs(), ids=lambda s: s.name)
@settings(max_examples=1)
@given(data=st.data())
def test_spec_ops_compiled_equal_interpreted(spec, data):
    dtype = np.dtype(data.draw(st.sampled_from([d for d in ("float32", "float64") if d in spec.dtypes])))
    attrs, inputs = spec.sample(data.draw, dtype)
    op = registry.get(spec.name)
    params = op.parse_params(attrs)
    names = op.input_names(params)
    assert len(names) == len(inputs)
    node = Node(op, "op", attrs=op.format_attrs(attrs), params=params,
                inputs=[Entry(Node(None, "in_" + n)) for n in names])
    heads = [Entry(node, i) for i in range(op.visible_outputs(params))]
    values = {"in_" + n: np.asarray(v) for n, v in zip(names, inputs)}
    grad_req = {"in_" + n: "write" for n in names} if spec.grad and op.gradient is not None else {}
    check(heads, values, grad_req, bodies=_real_bodies, exact=False, tol=spec.tolerance(dtype))


# ---------------------------------------------------------------------------------------------------------------
# Rebinding, new shapes, errors
# ---------------------------------------------------------------------------------------------------------------

def test_rebind_new_arrays_of_the_same_shape_stays_compiled():
    x = mx.sym.Variable("x")
    ref, cmp, compiled = pair(mx.sym.relu(x * 2.0 - 1.0), _values(["x"], (3, 4), np.float32))
    cmp.run(compiled, backward=False)
    eid_x = cmp.plan.graph.node_row_ptr[cmp.plan.graph.arg_nodes[0]]
    head = cmp.plan.graph.heads[0]
    new_x = np.random.RandomState(3).randn(3, 4).astype(np.float32)
    new_out = np.empty((3, 4), np.float32)
    compiled.rebind(eid_x, new_x)
    compiled.rebind(head, new_out)
    compiled.run(OpContext(), 0, cmp.n_forward, "forward")
    assert not compiled.interpreted
    np.testing.assert_array_equal(new_out, np.maximum(new_x * np.float32(2) - np.float32(1), 0))


def test_rebind_to_another_shape_never_uses_the_compiled_code():
    x = mx.sym.Variable("x")
    _, cmp, compiled = pair(mx.sym.relu(x), _values(["x"], (3, 4), np.float32))
    eid_x = cmp.plan.graph.node_row_ptr[cmp.plan.graph.arg_nodes[0]]
    compiled.rebind(eid_x, np.ones((4, 3), np.float32))
    assert compiled.interpreted
    _, cmp, compiled = pair(mx.sym.relu(x), _values(["x"], (3, 4), np.float32))
    compiled.rebind(eid_x, np.ones((3, 4), np.float64))
    assert compiled.interpreted


def test_fresh_plans_of_one_structure_share_the_compiled_code():
    """A hybridized block under autograd.record() makes a fresh Plan per call (same graph and memory plan, new
    arrays): the second CompiledPlan reuses the first one's compiled ranges and still reads its own arrays."""
    x = mx.sym.Variable("x")
    _, cmp, first = pair(mx.sym.relu(x * 3.0) + 1.0, _values(["x"], (2, 5), np.float32))
    cmp.run(first, backward=False)
    p = cmp.plan
    new_x, new_out = np.random.RandomState(9).randn(2, 5).astype(np.float32), np.empty((2, 5), np.float32)
    bound = {p.graph.node_row_ptr[nid]: new_x for nid in p.graph.arg_nodes if p.graph.nodes[nid].name == "x"}
    bound.update({p.graph.node_row_ptr[nid]: cmp.values[p.graph.nodes[nid].name] for nid in p.graph.arg_nodes
                  if p.graph.nodes[nid].name != "x"})
    bound[p.graph.heads[0]] = new_out
    second = compile_plan(Plan(p.graph, cmp.shapes, cmp.dtypes, p.memory, bound, (), cmp.req), bodies=tb.bodies)
    assert second.shared is first.shared
    second.run(OpContext(), 0, cmp.n_forward, "forward")
    np.testing.assert_array_equal(new_out, np.maximum(new_x * np.float32(3), 0) + np.float32(1))


def test_hybridized_block_with_a_new_input_shape_replans():
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Dense(8, activation="relu", in_units=6), mx.gluon.nn.Dense(3, in_units=8))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    params = [p.data().asnumpy() for p in net.collect_params().values()]
    w1, b1, w2, b2 = params
    for batch in (2, 5, 2):
        x = np.random.RandomState(batch).randn(batch, 6).astype(np.float32)
        want = np.maximum(x @ w1.T + b1, 0) @ w2.T + b2
        np.testing.assert_allclose(net(mx.nd.array(x)).asnumpy(), want, rtol=1e-5, atol=1e-6)


def test_hybridized_block_under_record_runs_compiled_forward_and_backward(monkeypatch):
    from scheduler import compile as jit
    made = []

    def spy(plan, *args, **kwargs):
        made.append(jit_compile(plan, *args, **kwargs))
        return made[-1]
    jit_compile = jit.compile_plan
    monkeypatch.setattr(jit, "compile_plan", spy)
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Dense(8, activation="relu", in_units=6), mx.gluon.nn.Dense(3, in_units=8))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    w1, b1, w2, b2 = [p.data().asnumpy().astype(np.float64) for p in net.collect_params().values()]
    kept = []       # graphs kept alive (retain_graph): each call needs a Plan of its own, not a pooled one
    for seed in (1, 2, 3):      # later calls: fresh Plans sharing the first one's compiled ranges
        x = np.random.RandomState(seed).randn(4, 6).astype(np.float32)
        dy = np.random.RandomState(seed + 10).randn(4, 3).astype(np.float32)
        with mx.autograd.record():
            y = net(mx.nd.array(x))
        y.backward(mx.nd.array(dy), retain_graph=True)
        kept.append(y)
        h = x @ w1.T + b1
        np.testing.assert_allclose(y.asnumpy(), np.maximum(h, 0) @ w2.T + b2, rtol=1e-5, atol=1e-5)
        dh = (dy @ w2) * (h > 0)
        grads = [p.grad().asnumpy() for p in net.collect_params().values()]
        want = [dh.T @ x, dh.sum(0), dy.T @ np.maximum(h, 0), dy.sum(0)]
        for g, w in zip(grads, want):
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
        for c in made:
            if isinstance(c, CompiledPlan):
                c.wait()
    compiled = [c for c in made if isinstance(c, CompiledPlan)]
    assert len(compiled) >= 3 and all(c.shared is compiled[0].shared for c in compiled[-3:])
    assert any(r.info and r.info["segments"] for r in compiled[0].shared.ranges.values())


def test_an_error_in_a_compiled_segment_is_an_mxnet_error():
    """A body that raises (the test provider's `checked` relu refuses values above 1e30) surfaces as an MXNetError
    naming the steps, not a crash."""
    x = mx.sym.Variable("x")
    values = _values(["x"], (3, 4), np.float32)
    ref, cmp, compiled = pair(mx.sym.relu(x) * 2.0, values, bodies=tb.checked_relu)
    cmp.run(compiled, backward=False)
    compiled.wait()         # a module not in the cache yet compiles in the background
    cmp.values["x"][1, 1] = 1e38
    with pytest.raises(mx.base.MXNetError, match="relu"):
        cmp.run(compiled, backward=False)


# ---------------------------------------------------------------------------------------------------------------
# The cache across processes, background compiles
# ---------------------------------------------------------------------------------------------------------------

_CHILD = r"""
import json, sys
import numpy as np
sys.path.insert(0, %(root)r)
import dataflow as mx
from tests.test_compile import child_info
print(json.dumps(child_info()))
"""


def child_info():
    """In a fresh process: compile a small forward+backward plan and say what compiling it gave."""
    from scheduler import compile as jit
    jit.COMPILE_AFTER_RUNS = 0
    x, w = mx.sym.Variable("x"), mx.sym.Variable("w")
    ref, cmp, compiled = pair(mx.sym.relu(x * w) * 2.0, _values(["x", "w"], (3, 4), np.float32),
                              {"x": "write", "w": "write"})
    for _ in range(2):      # the first compile of a process goes to the background: then interpreted, compiled
        want, got = ref.run(ref.plan), cmp.run(compiled)
        for a, b in zip(want[0] + list(want[1].values()), got[0] + list(got[1].values())):
            np.testing.assert_array_equal(a, b)
        compiled.wait()
    info = compiled.info(0, cmp.n_forward)
    return {k: info[k] for k in ("cache_hit", "key", "fused")}


def test_the_second_process_hits_the_cache(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), PYTHONPATH=ROOT, DATAFLOW_JIT="1")
    script = _CHILD % {"root": ROOT}
    infos, listings = [], []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600,
                             cwd=ROOT)
        assert out.returncode == 0, out.stderr[-3000:]
        infos.append(json.loads(out.stdout.strip().splitlines()[-1]))
        listings.append(sorted(f for f in os.listdir(os.path.join(str(tmp_path), "dataflow-plans"))
                               if f.endswith(".py")))
    assert infos[0]["cache_hit"] is False and infos[1]["cache_hit"] is True, infos
    assert infos[0]["key"] == infos[1]["key"]
    # one module per range (forward, backward), written by the first process only
    assert len(listings[0]) == 2 and listings[1] == listings[0]
    assert "dataflow_plan_%s.py" % infos[0]["key"][:32] in listings[0]


def test_a_range_run_once_is_not_compiled(monkeypatch):
    from scheduler import compile as jit
    monkeypatch.setattr(jit, "COMPILE_AFTER_RUNS", 1)
    x = mx.sym.Variable("x")
    ref, cmp, compiled = pair(mx.sym.relu(x * 0.75), _values(["x"], (3, 3), np.float32, seed=11))
    want = ref.run(ref.plan, backward=False)[0][0]
    np.testing.assert_array_equal(cmp.run(compiled, backward=False)[0][0], want)
    r = compiled.shared.ranges[(0, cmp.n_forward)]
    assert not r.lowered and r.pieces is None and r.future is None      # not even lowered
    for _ in range(2):
        np.testing.assert_array_equal(cmp.run(compiled, backward=False)[0][0], want)
        compiled.wait()
    assert compiled.info(0, cmp.n_forward)["fused"] == [2]


def test_a_large_range_compiles_in_the_background_and_runs_meanwhile():
    x = mx.sym.Variable("x")
    y = x
    for k in range(6):
        y = mx.sym.relu(y * (1.0 + k / 8.0) - 0.5)
    values = _values(["x"], (4, 3), np.float64, seed=5)
    ref, cmp, compiled = pair(y, values, background_steps=4)
    want = ref.run(ref.plan, backward=False)[0][0]
    np.testing.assert_array_equal(cmp.run(compiled, backward=False)[0][0], want)    # interpreted or compiled
    compiled.wait()
    np.testing.assert_array_equal(cmp.run(compiled, backward=False)[0][0], want)
    assert compiled.info(0, cmp.n_forward)["fused"] == [cmp.n_forward]


def test_big_gemms_on_more_blas_threads_equal_interpreted(monkeypatch):
    # Note [when a 2-thread GEMM pays]: a range whose GEMMs reach PARALLEL_FLOPS runs under its GemmSite, which
    # (the other cores faked free) tries 2 threads at once; the results stay the interpreted Plan's
    from ops.cpu import blas_threads as bt
    monkeypatch.setattr(bt, "_other_load", bt.OtherLoad(running_reader=lambda: 1))    # only the caller runs
    monkeypatch.setattr(bt, "_usable_cores", lambda: [0, 1])
    previous = bt.set_blas_threads("auto")
    try:
        x = mx.sym.Variable("x")
        sym = mx.sym.FullyConnected(mx.sym.Activation(mx.sym.FullyConnected(x, num_hidden=192, name="fc1"),
                                                      act_type="relu"), num_hidden=8, name="fc2")
        rng = np.random.RandomState(3)
        values = {n: rng.uniform(-1, 1, s).astype(np.float32)
                  for n, s in zip(sym.list_arguments(), sym.infer_shape(x=(160, 160))[0])}
        compiled = check(sym, values, {n: "write" for n in values}, bodies=_real_bodies, exact=False, runs=4)
        sites = [r.site for r in compiled.shared.ranges.values()]
        assert sites and all(s.active for s in sites)       # 2 * 160 * 160 * 192 = 9.8 MFLOP >= PARALLEL_FLOPS
        assert any(s.chooser.times[2] for s in sites)       # and some compiled run used 2 threads
    finally:
        bt.set_blas_threads(previous)
