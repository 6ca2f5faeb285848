"""grad_req='add' adds exactly the true gradient to the gradient array, and never changes the other arguments'.

The bug this guards against: an 'add' gradient array bound as the storage of a gradient entry that later steps read
(elemwise_add's identity gradient, `_copy`, a repeated input) let the accumulated value (old + new) flow into the
other gradients. Truth is independent of our gradient pass: central differences in float64 of
sum_k <head_k, out_grad_k>. Every path binds through `bind_gradients` (dataflow/executor.py): the Executor (its
Plan interpreted and compiled by the JIT), Module, and autograd's planned backward (gluon Parameters, plain and
hybridized).
"""
import os

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

import dataflow as mx
from dataflow import autograd, gluon
from scheduler.compile import CompiledPlan

SHAPE = (2, 3)
UNARY = ("tanh", "sigmoid", "identity", "negative", "sin", "times2")
BINARY = ("add", "sub", "mul", "elemwise_add")


def _apply(lib, name, *args):
    """One op of the graph vocabulary on Symbols (lib=mx.sym), NDArrays (mx.nd) or numpy arrays (np)."""
    if name == "times2":
        return args[0] * 2
    if name == "add":
        return args[0] + args[1]
    if name == "sub":
        return args[0] - args[1]
    if name == "mul":
        return args[0] * args[1]
    if lib is np:
        return {"tanh": np.tanh, "sigmoid": lambda a: 1 / (1 + np.exp(-a)), "identity": np.copy,
                "negative": np.negative, "sin": np.sin, "elemwise_add": np.add}[name](*args)
    return getattr(lib, name)(*args)


@st.composite
def graphs(draw):
    """(n_vars, ops [(name, input indices)], head indices): values 0..n_vars-1 are variables, then one per op."""
    n_vars = draw(st.integers(1, 3))
    ops = []
    for k in range(draw(st.integers(1, 5))):
        n = n_vars + k
        if draw(st.booleans()):
            ops.append((draw(st.sampled_from(UNARY)), (draw(st.integers(0, n - 1)),)))
        else:
            ops.append((draw(st.sampled_from(BINARY)), (draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1)))))
    n = n_vars + len(ops)
    heads = draw(st.lists(st.integers(n_vars, n - 1), min_size=1, max_size=3, unique=True))
    return n_vars, ops, heads


def _evaluate(graph, values, lib):
    n_vars, ops, heads = graph
    nodes = list(values)
    for name, ins in ops:
        nodes.append(_apply(lib, name, *[nodes[i] for i in ins]))
    return [nodes[h] for h in heads]


def _numeric_gradients(graph, inputs, out_grads, eps=1e-6):
    """d/d input of sum_k <head_k, out_grad_k>, by central differences in float64."""
    def loss(values):
        return sum(float(np.sum(h * g)) for h, g in zip(_evaluate(graph, values, np), out_grads, strict=True))
    grads = []
    for k, x in enumerate(inputs):
        grad = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            plus, minus = [v.copy() for v in inputs], [v.copy() for v in inputs]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            grad[idx] = (loss(plus) - loss(minus)) / (2 * eps)
        grads.append(grad)
    return grads


def _case(graph, seed):
    rng = np.random.RandomState(seed)
    n_vars, _, heads = graph
    inputs = [rng.uniform(-1, 1, SHAPE) for _ in range(n_vars)]
    out_grads = [rng.uniform(-1, 1, SHAPE) for _ in heads]
    initial = [rng.uniform(5, 10, SHAPE) for _ in range(n_vars)]
    return inputs, out_grads, initial


def _expected(req, true, initial):
    return {"write": true, "add": initial + true, "null": initial}[req]


def _bind_and_run(graph, inputs, out_grads, initial, reqs):
    """The gradient arrays after one forward/backward of the bound graph (float64)."""
    n_vars = graph[0]
    names = ["x%d" % k for k in range(n_vars)]
    sym = mx.sym.Group(_evaluate(graph, [mx.sym.var(n) for n in names], mx.sym))
    used = sym.list_arguments()
    args = {n: mx.nd.array(v, dtype=np.float64) for n, v in zip(names, inputs) if n in used}
    grads = {n: mx.nd.array(v, dtype=np.float64) for n, v in zip(names, initial) if n in used}
    ex = sym.bind(mx.cpu(), args, args_grad=grads, grad_req={n: r for n, r in zip(names, reqs) if n in used})
    ex.forward(is_train=True)
    ex.backward([mx.nd.array(g, dtype=np.float64) for g in out_grads])
    return ex, [grads[n].asnumpy() if n in used else None for n in names]


def _check(graph, seed, reqs, got):
    inputs, out_grads, initial = _case(graph, seed)
    true = _numeric_gradients(graph, inputs, out_grads)
    for k, (req, value) in enumerate(zip(reqs, got, strict=True)):
        if value is not None:
            np.testing.assert_allclose(value, _expected(req, true[k], initial[k]), rtol=1e-6, atol=1e-6,
                                       err_msg="x%d with grad_req %r; reqs %s" % (k, req, reqs))


REQS = st.lists(st.sampled_from(["write", "add", "null"]), min_size=3, max_size=3)


@pytest.mark.parametrize("jit", ["0", "1"], ids=["interpreted", "compiled"])
@settings(max_examples=40)
# y = tanh(x0) + x1; heads [y*2, y]: x1's gradient is y's, which tanh's backward reads
@example(graph=(2, [("tanh", (0,)), ("elemwise_add", (2, 1)), ("times2", (3,))], [4, 3]), reqs=["write", "add", "null"],
         seed=1)
# y = x0 + x1; both gradients are one entry, read by a copy for the other
@example(graph=(2, [("add", (0, 1)), ("sin", (2,))], [3]), reqs=["add", "add", "null"], seed=2)
@given(graph=graphs(), reqs=REQS, seed=st.integers(0, 2**31 - 1))
def test_executor_gradients_are_true_for_every_req(jit, graph, reqs, seed):
    old = os.environ.get("DATAFLOW_JIT")
    os.environ["DATAFLOW_JIT"] = jit
    try:
        reqs = reqs[:graph[0]]
        inputs, out_grads, initial = _case(graph, seed)
        ex, got = _bind_and_run(graph, inputs, out_grads, initial, reqs)
        assert isinstance(ex._plan, CompiledPlan) == (jit == "1")
    finally:
        if old is None:
            os.environ.pop("DATAFLOW_JIT")
        else:
            os.environ["DATAFLOW_JIT"] = old
    _check(graph, seed, reqs, got)


def test_issue_repro_x_gradient_does_not_depend_on_h_req():
    # y = tanh(x*w) + h; heads [y*2, y]: h's gradient (3) is the gradient tanh's backward reads
    x, h, w = mx.sym.var("x"), mx.sym.var("h"), mx.sym.var("w")
    y = mx.sym.tanh(x * w) + h
    sym = mx.sym.Group([y * 2, y])
    vals = {"x": np.array([0.5, -0.3]), "h": np.array([1.0, 2.0]), "w": np.array([0.7, 1.1])}
    for req in ["write", "add"]:
        args = {k: mx.nd.array(v) for k, v in vals.items()}
        grads = {"x": mx.nd.zeros(2), "w": mx.nd.zeros(2), "h": mx.nd.array([10.0, 10.0])}
        ex = sym.bind(mx.cpu(), args, args_grad=grads, grad_req={"x": "write", "w": "write", "h": req})
        ex.forward(is_train=True)
        ex.backward([mx.nd.ones(2), mx.nd.ones(2)])
        dtanh = 1 - np.tanh(vals["x"] * vals["w"]) ** 2
        np.testing.assert_allclose(grads["x"].asnumpy(), 3 * dtanh * vals["w"], rtol=1e-5)
        np.testing.assert_allclose(grads["w"].asnumpy(), 3 * dtanh * vals["x"], rtol=1e-5)
        np.testing.assert_allclose(grads["h"].asnumpy(), [3, 3] if req == "write" else [13, 13], rtol=1e-6)


def test_two_add_arguments_sharing_one_gradient_entry():
    # y = a + b: both gradients are the head gradient itself; a twice-added value must not leak into the other
    a, b = mx.sym.var("a"), mx.sym.var("b")
    sym = mx.sym.tanh(a + b)
    va, vb = np.array([0.1, 0.2]), np.array([-0.3, 0.4])
    args = {"a": mx.nd.array(va), "b": mx.nd.array(vb)}
    grads = {"a": mx.nd.array([1.0, 1.0]), "b": mx.nd.array([2.0, 2.0])}
    ex = sym.bind(mx.cpu(), args, args_grad=grads, grad_req="add")
    for step in range(2):
        ex.forward(is_train=True)
        ex.backward(mx.nd.ones(2))
        true = 1 - np.tanh(va + vb) ** 2
        np.testing.assert_allclose(grads["a"].asnumpy(), 1 + (step + 1) * true, rtol=1e-5)
        np.testing.assert_allclose(grads["b"].asnumpy(), 2 + (step + 1) * true, rtol=1e-5)


def test_module_grad_req_add():
    x, h = mx.sym.var("data"), mx.sym.var("h")
    y = mx.sym.tanh(x) + h
    sym = mx.sym.Group([mx.sym.make_loss(mx.sym.sum(y * 2)), mx.sym.make_loss(mx.sym.sum(y))])
    mod = mx.mod.Module(sym, data_names=["data"], label_names=None)
    mod.bind(data_shapes=[("data", (2, 3))], grad_req="add", inputs_need_grad=True)
    hv = np.random.RandomState(0).uniform(-1, 1, (2, 3))
    mod.init_params(arg_params={"h": mx.nd.array(hv)}, allow_missing=False)
    data = np.random.RandomState(1).uniform(-1, 1, (2, 3))
    batch = mx.io.DataBatch([mx.nd.array(data)])
    for _step in range(2):
        mod.forward(batch, is_train=True)
        mod.backward()
    # h's gradient is y's, which tanh's backward reads: it must read 3, not the accumulated 6
    np.testing.assert_allclose(mod._exec_group.grad_arrays[0][0].asnumpy(), np.full((2, 3), 2 * 3.0), rtol=1e-6)
    np.testing.assert_allclose(mod.get_input_grads()[0].asnumpy(), 2 * 3 * (1 - np.tanh(data) ** 2), rtol=1e-5)


@pytest.mark.parametrize("hybridize", [False, True])
def test_gluon_parameter_grad_req_add(hybridize):
    class Net(gluon.HybridBlock):
        def __init__(self):
            super().__init__()
            self.h = self.params.get("h", shape=(2, 3))
            self.w = self.params.get("w", shape=(2, 3))

        def hybrid_forward(self, F, x, h, w):
            y = F.elemwise_add(F.tanh(x * w), h)      # h's gradient is y's, which tanh's backward reads
            return y * 2 + y

    net = Net()
    net.initialize()
    rng = np.random.RandomState(2)
    hv, wv, xv = rng.uniform(-1, 1, (3, 2, 3))
    net.h.set_data(mx.nd.array(hv))
    net.w.set_data(mx.nd.array(wv))
    net.h.grad_req = "add"
    net.h.grad()[:] = 10
    if hybridize:
        net.hybridize()
    x = mx.nd.array(xv)
    for step in range(2):
        with autograd.record():
            out = net(x)
        out.backward()
        dtanh = 1 - np.tanh(xv * wv) ** 2
        np.testing.assert_allclose(net.w.grad().asnumpy(), 3 * dtanh * xv, rtol=1e-5)
        np.testing.assert_allclose(net.h.grad().asnumpy(), np.full((2, 3), 10 + 3.0 * (step + 1)), rtol=1e-6)


@settings(max_examples=25)
@example(graph=(2, [("tanh", (0,)), ("elemwise_add", (2, 1)), ("times2", (3,))], [4, 3]), reqs=["add", "add", "null"],
         seed=3)
@given(graph=graphs(), reqs=REQS, seed=st.integers(0, 2**31 - 1))
def test_autograd_backward_gradients_are_true_for_every_req(graph, reqs, seed):
    reqs = reqs[:graph[0]]
    inputs_used = _used_variables(graph)
    if all(reqs[k] == "null" for k in inputs_used):
        return      # nothing to differentiate: backward raises (tested elsewhere)
    inputs, out_grads, initial = _case(graph, seed)
    xs = [mx.nd.array(v, dtype=np.float64) for v in inputs]
    grads = [mx.nd.array(v, dtype=np.float64) for v in initial]
    for x, g, req in zip(xs, grads, reqs, strict=True):
        autograd.mark_variables(x, g, req)
    with autograd.record():
        heads = _evaluate(graph, xs, mx.nd)
    autograd.backward(heads, [mx.nd.array(g, dtype=np.float64) for g in out_grads])
    _check(graph, seed, reqs, [g.asnumpy() if k in inputs_used else None for k, g in enumerate(grads)])


def _used_variables(graph):
    """The variables the heads depend on (an unused one gets no gradient in either library)."""
    n_vars, ops, heads = graph
    needed, stack = set(), list(heads)
    while stack:
        i = stack.pop()
        if i in needed:
            continue
        needed.add(i)
        if i >= n_vars:
            stack.extend(ops[i - n_vars][1])
    return {i for i in needed if i < n_vars}


@pytest.mark.parametrize("packing", ["0", "1"])
def test_a_kept_entry_lives_to_the_end_of_the_plan(packing, monkeypatch):
    # x -> a -> b -> c -> d (each may run in place), heads [d, a]: `a` is a head read by a copy after the steps
    # (`keep`), so it gets planned storage that nothing after its last reader takes, in place or reused
    from ops.registry import OpDef
    from scheduler.graph import Entry, IndexedGraph, Node
    from scheduler.memory import EXTERNAL, plan_memory
    monkeypatch.setenv("DATAFLOW_MEMORY_PACKING", packing)
    op = OpDef("unary_in_place", infer_shape=lambda p, ins, outs: (ins, outs), arguments=("a",),
               outputs=("output",), inplace=((0, 0),))
    node = Node(None, "x")
    chain = []
    for name in "abcd":
        node = Node(op, name, params=op.parse_params({}), inputs=[Entry(node)])
        chain.append(node)
    graph = IndexedGraph([Entry(chain[-1]), Entry(chain[0])])
    shapes, dtypes = [(4,)] * graph.num_entries, [np.dtype(np.float32)] * graph.num_entries
    a, b, c = (graph.eid(Entry(n)) for n in chain[:3])
    plain = plan_memory(graph, shapes, dtypes)
    assert plain.storage_id[a] == EXTERNAL      # a head: the caller's storage
    kept = plan_memory(graph, shapes, dtypes, keep={a})
    sid = kept.storage_id[a]
    assert sid != EXTERNAL and not kept.inplace[b]
    assert kept.storage_id[b] != sid and kept.storage_id[c] != sid
    # and its bytes overlap no other storage (everything else lives while it does)
    start, end = kept.offsets[sid], kept.offsets[sid] + kept.storage_bytes[sid]
    for other, offset in enumerate(kept.offsets):
        if other != sid:
            assert offset + kept.storage_bytes[other] <= start or offset >= end
