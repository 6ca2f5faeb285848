"""The scheduler's entry point (scheduler/build.py) on its own, and the work a bind does, counted.

- Random DAGs (FullyConnected, elementwise add/mul, tanh, sigmoid; shared inputs and repeated reads) lowered with
  their gradients and planned through `build.lower` / `Lowered.plan` give the values and gradients of a numpy
  evaluation of the same program (forward, and reverse mode written out here for each op).
- The pieces that let one bind do each pass once equal what doing them again from scratch gives:
  `IndexedGraph.extended` equals a fresh walk of all the heads, and inference seeded with the forward's values
  equals inference of the whole graph.
- Binding counts its work, with no timing: IndexedGraph walks per bind are a constant, and rule applications at
  most one per node and kind when every argument shape is given, so both stay linear in the graph size.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import dataflow as mx
from dataflow.executor import bind_gradients
from ops.registry import OpContext
from scheduler import build, infer
from scheduler.graph import Entry, IndexedGraph, Node
from scheduler.plan import bind_outputs

BATCH, FEATURES = 3, 4


@st.composite
def programs(draw):
    """[(op, input indices)] over values 0 (the data) and 1.. (earlier ops), and the heads (value indices)."""
    n_ops = draw(st.integers(1, 12))
    ops = []
    for i in range(n_ops):
        n_values = 1 + i
        kind = draw(st.sampled_from(["fc", "add", "mul", "tanh", "sigmoid"]))
        arity = 2 if kind in ("add", "mul") else 1
        ops.append((kind, [draw(st.integers(0, n_values - 1)) for _ in range(arity)]))
    heads = draw(st.lists(st.integers(1, n_ops), min_size=1, max_size=3, unique=True))
    return ops, heads


def _symbols(ops):
    values = [mx.sym.var("data")]
    for i, (kind, args) in enumerate(ops):
        ins = [values[a] for a in args]
        if kind == "fc":
            out = mx.sym.FullyConnected(ins[0], num_hidden=FEATURES, name="fc%d" % i)
        elif kind == "add":
            out = mx.sym.elemwise_add(*ins, name="add%d" % i)
        elif kind == "mul":
            out = mx.sym.elemwise_mul(*ins, name="mul%d" % i)
        else:
            out = mx.sym.Activation(ins[0], act_type=kind, name="act%d" % i)
        values.append(out)
    return values


def _numpy(ops, heads, params, head_grads):
    """Values of the heads, and the gradients of sum(head * head_grad) with respect to every argument."""
    values = [params["data"]]
    for i, (kind, args) in enumerate(ops):
        x = [values[a] for a in args]
        if kind == "fc":
            values.append(x[0] @ params["fc%d_weight" % i].T + params["fc%d_bias" % i])
        elif kind == "add":
            values.append(x[0] + x[1])
        elif kind == "mul":
            values.append(x[0] * x[1])
        elif kind == "tanh":
            values.append(np.tanh(x[0]))
        else:
            values.append(1 / (1 + np.exp(-x[0])))
    dv = [np.zeros_like(v) for v in values]
    for h, g in zip(heads, head_grads):
        dv[h] = dv[h] + g
    grads = {name: np.zeros_like(p) for name, p in params.items()}
    for i in reversed(range(len(ops))):
        kind, args = ops[i]
        dy, y = dv[i + 1], values[i + 1]
        if kind == "fc":
            grads["fc%d_weight" % i] += dy.T @ values[args[0]]
            grads["fc%d_bias" % i] += dy.sum(axis=0)
            dv[args[0]] = dv[args[0]] + dy @ params["fc%d_weight" % i]
        elif kind == "add":
            for a in args:
                dv[a] = dv[a] + dy
        elif kind == "mul":
            a, b = args
            da, db = dy * values[b], dy * values[a]
            dv[a] = dv[a] + da
            dv[b] = dv[b] + db
        elif kind == "tanh":
            dv[args[0]] = dv[args[0]] + dy * (1 - y * y)
        else:
            dv[args[0]] = dv[args[0]] + dy * y * (1 - y)
    grads["data"] = dv[0]
    return [values[h] for h in heads], grads


@settings(max_examples=40, deadline=None)
@given(programs(), st.integers(0, 2 ** 31 - 1))
def test_random_dags_through_the_entry_point_equal_numpy(program, seed):
    ops, head_ids = program
    values = _symbols(ops)
    heads = [values[h]._outputs[0] for h in head_ids]
    forward = IndexedGraph(heads)
    variables = {forward.nodes[i].name: forward.nodes[i] for i in forward.argument_nodes}
    rng = np.random.RandomState(seed)
    shapes = {"data": (BATCH, FEATURES)}
    for i, (kind, _) in enumerate(ops):
        if kind == "fc":
            shapes["fc%d_weight" % i], shapes["fc%d_bias" % i] = (FEATURES, FEATURES), (FEATURES,)
    every = {n: rng.uniform(-1, 1, shape).astype(np.float32) for n, shape in shapes.items()}
    params = {n: every[n] for n in variables}       # the ops the heads do not need have none
    head_nodes = [Node(None, "head_grad%d" % k) for k in range(len(heads))]
    lowered = build.lower(heads, shapes, {n: np.float32 for n in variables}, [Entry(variables[n]) for n in params],
                          [Entry(n) for n in head_nodes], forward)
    lowered.check_complete("test")
    head_grads = [rng.uniform(-1, 1, (BATCH, FEATURES)).astype(np.float32) for _ in heads]
    bound = {eid: params[name] for name, eid in lowered.variables().items() if name in params}
    bound.update({eid: g for eid, g in zip(lowered.head_grads, head_grads) if eid is not None})
    outputs = [np.empty((BATCH, FEATURES), np.float32) for _ in heads]
    copies, _ = bind_outputs(lowered.graph.heads[:len(heads)], outputs, bound)
    grads = {n: np.full(params[n].shape, np.nan, np.float32) for n in params}
    grad_copies, req = bind_gradients(lowered.gradients, list(grads.values()), ["write"] * len(grads), bound,
                                       lowered.read_entries())
    plan = lowered.plan(bound, copies + grad_copies, req)
    plan.run(OpContext(is_train=True), 0, lowered.n_forward, "forward")
    plan.run(OpContext(is_train=True), lowered.n_forward, None, "backward")

    want_outputs, want_grads = _numpy(ops, head_ids, {n: p.astype(np.float64) for n, p in every.items()},
                                      [g.astype(np.float64) for g in head_grads])
    for got, want in zip(outputs, want_outputs):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    for name in params:
        np.testing.assert_allclose(grads[name], want_grads[name], rtol=1e-4, atol=1e-4, err_msg=name)


@settings(max_examples=40, deadline=None)
@given(programs())
def test_extended_graph_and_seeded_inference_equal_doing_it_again(program):
    ops, head_ids = program
    values = _symbols(ops)
    heads = [values[h]._outputs[0] for h in head_ids]
    forward = IndexedGraph(heads)
    variables = {forward.nodes[i].name: forward.nodes[i] for i in forward.argument_nodes}
    head_nodes = [Node(None, "head_grad%d" % k) for k in range(len(heads))]
    shapes = {"data": (BATCH, FEATURES)}
    lowered = build.lower(heads, shapes, {"data": np.float32}, [Entry(v) for v in variables.values()],
                          [Entry(n) for n in head_nodes], forward)
    g = lowered.graph
    again = IndexedGraph(heads + [Entry(*divmod_entry(g, e)) for e in lowered.gradients if e is not None])
    assert [id(n) for n in g.nodes] == [id(n) for n in again.nodes]
    assert (g.inputs, g.node_row_ptr, g.heads, g.arg_nodes, g.aux_nodes) == \
        (again.inputs, again.node_row_ptr, again.heads, again.arg_nodes, again.aux_nodes)
    known = dict(shapes, **{n.name: lowered.shapes[forward.eid(h)] for n, h in zip(head_nodes, heads)})
    assert lowered.shapes == infer.infer_shapes(again, known).values
    known_dtypes = {"data": np.float32, **{n.name: np.float32 for n in head_nodes}}
    assert lowered.dtypes == infer.infer_dtypes(again, known_dtypes).values


def divmod_entry(g, eid):
    """(node, index) of an entry id of `g`."""
    nid, index = g.entry_node(eid)
    return g.nodes[nid], index


def test_extending_keeps_aux_states():
    data = mx.sym.var("data")
    net = mx.sym.BatchNorm(mx.sym.FullyConnected(data, num_hidden=3, name="fc"), name="bn")
    forward = IndexedGraph(net._outputs)
    extended = forward.extended([Entry(Node(None, "other"))])
    fresh = IndexedGraph(net._outputs + [Entry(extended.nodes[-1])])
    assert [forward.nodes[i].name for i in forward.aux_nodes] == ["bn_moving_mean", "bn_moving_var"]
    assert extended.aux_nodes == fresh.aux_nodes == forward.aux_nodes
    assert extended.argument_nodes == fresh.argument_nodes


# -- the work of one bind, counted -------------------------------------------------------------------------------

class _Counted:
    """Counts IndexedGraph walks and rule applications while active."""

    def __init__(self, monkeypatch):
        self.rules = {"shape": 0, "dtype": 0}
        apply_rule = infer._Pass._apply_rule

        def counted(problem, nid, values):
            self.rules[problem.kind] += 1
            return apply_rule(problem, nid, values)
        monkeypatch.setattr(infer._Pass, "_apply_rule", counted)
        self._builds = IndexedGraph.builds

    @property
    def walks(self):
        return IndexedGraph.builds - self._builds


@pytest.mark.parametrize("kind", ["chain", "branching"])
@pytest.mark.parametrize("grad_req", ["null", "write"])
@pytest.mark.parametrize("nodes", [300, 1200])
def test_bind_work_is_linear_in_the_graph(monkeypatch, kind, grad_req, nodes):
    from bench import graphs as bench_graphs
    sym = bench_graphs.bind_graph(mx, kind, nodes)
    counted = _Counted(monkeypatch)
    ex = sym.simple_bind(mx.cpu(), grad_req=grad_req, data=(2, 3))
    g = ex._plan.graph
    n_ops = sum(1 for node in g.nodes if node.op is not None)
    assert counted.walks == (1 if grad_req == "null" else 2)    # the forward walk, extended once by the gradients
    # one rule application per op node and kind: the forward's shapes in simple_bind, reused by the Executor
    assert counted.rules == {"shape": n_ops, "dtype": n_ops}


def test_symbol_infer_shape_with_backward_inference_stays_linear(monkeypatch):
    """Weights inferred from their readers: a rule that completes an input revisits only that input's nodes."""
    h = mx.sym.var("data")
    for i in range(200):
        h = mx.sym.FullyConnected(h, num_hidden=3, name="fc%d" % i)
    counted = _Counted(monkeypatch)
    arg_shapes, _, _ = h.infer_shape(data=(2, 3))
    assert arg_shapes[1] == (3, 3)
    assert counted.rules["shape"] <= 2 * 200
