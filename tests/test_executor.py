"""Executor and Plan: bind/simple_bind/eval/forward, and planned runs equal unplanned runs on random graphs."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import dataflow as mx
from dataflow.base import GraphError, ShapeError


def _mlp():
    net = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data=net, name="fc1", num_hidden=16)
    net = mx.sym.Activation(data=net, name="relu1", act_type="relu")
    net = mx.sym.FullyConnected(data=net, name="fc2", num_hidden=4)
    return mx.sym.SoftmaxOutput(data=net, name="out")


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_bind_with_list_and_dict_and_forward_matches_numpy():
    rs = np.random.RandomState(0)
    sym = _mlp()
    names = sym.list_arguments()
    shapes = dict(zip(names, sym.infer_shape(data=(5, 8))[0]))
    values = {n: rs.uniform(-1, 1, shapes[n]).astype(np.float32) for n in names}
    h = np.maximum(values["data"] @ values["fc1_weight"].T + values["fc1_bias"], 0)
    expected = _softmax(h @ values["fc2_weight"].T + values["fc2_bias"])
    by_list = sym.bind(mx.cpu(), [mx.nd.array(values[n]) for n in names])
    by_dict = sym.bind(mx.cpu(), {n: mx.nd.array(v) for n, v in values.items()})
    for ex in (by_list, by_dict):
        np.testing.assert_allclose(ex.forward()[0].asnumpy(), expected, rtol=1e-5, atol=1e-7)
        assert list(ex.output_dict) == ["out_output"] and sorted(ex.arg_dict) == sorted(names)


def test_outputs_are_reused_and_forward_copies_kwargs():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    ex = (a * b).bind(mx.cpu(), {"a": mx.nd.ones((2,)), "b": mx.nd.full((2,), 3)})
    first = ex.forward()[0]
    np.testing.assert_array_equal(first.asnumpy(), [3, 3])
    new_a = np.array([2, 5], np.float32)
    second = ex.forward(a=new_a)[0]
    assert second is first                            # MXNet reuses the output arrays
    np.testing.assert_array_equal(first.asnumpy(), [6, 15])
    np.testing.assert_array_equal(ex.arg_dict["a"].asnumpy(), new_a)
    with pytest.raises(ShapeError, match="'a'"):
        ex.forward(a=np.ones(3))
    with pytest.raises(GraphError, match="'c' is not an argument"):
        ex.forward(c=np.ones(2))


def test_simple_bind_allocates_zeros_and_gradients():
    sym = _mlp()
    ex = sym.simple_bind(mx.cpu(), data=(3, 8))
    assert [(k, v.shape) for k, v in ex.arg_dict.items()] == [
        ("data", (3, 8)), ("fc1_weight", (16, 8)), ("fc1_bias", (16,)), ("fc2_weight", (4, 16)),
        ("fc2_bias", (4,)), ("out_label", (3,))]
    assert all(float(np.abs(v.asnumpy()).sum()) == 0 for v in ex.arg_dict.values())
    assert list(ex.grad_dict) == sym.list_arguments() and all(g is not None for g in ex.grad_dict.values())
    null = sym.simple_bind(mx.cpu(), grad_req="null", data=(3, 8))
    assert all(g is None for g in null.grad_dict.values())
    typed = (mx.sym.var("x") * 2).simple_bind(mx.cpu(), type_dict={"x": "float64"}, x=(2,))
    assert typed.arg_dict["x"].dtype is np.float64 and typed.forward()[0].dtype is np.float64


def test_eval_returns_a_list():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    out = (a + b).eval(a=mx.nd.ones((2, 3)), b=mx.nd.ones((2, 3)))
    assert isinstance(out, list) and len(out) == 1
    np.testing.assert_array_equal(out[0].asnumpy(), np.full((2, 3), 2))


def test_group_with_a_variable_and_a_repeated_output():
    a = mx.sym.var("a")
    b = a * 3
    ex = mx.sym.Group([b, a, b]).bind(mx.cpu(), {"a": mx.nd.array([1, 2])})
    outs = [o.asnumpy().tolist() for o in ex.forward()]
    assert outs == [[3, 6], [1, 2], [3, 6]]


def test_missing_or_wrong_arguments_name_the_input():
    sym = _mlp()
    with pytest.raises(GraphError, match="'fc1_weight' is missing"):
        sym.bind(mx.cpu(), {"data": mx.nd.ones((2, 8))})
    with pytest.raises(GraphError, match="has 1 arrays, the symbol needs 6"):
        sym.bind(mx.cpu(), [mx.nd.ones((2, 8))])
    args = {n: mx.nd.zeros(s) for n, s in zip(sym.list_arguments(), sym.infer_shape(data=(2, 8))[0])}
    args["out_label"] = mx.nd.zeros((3,))
    with pytest.raises(ShapeError, match="out.*label.*out_label"):
        sym.bind(mx.cpu(), args)


def test_copy_params_from():
    a = mx.sym.var("a")
    ex = (a + 1).simple_bind(mx.cpu(), a=(2,))
    ex.copy_params_from({"a": mx.nd.array([4, 5])})
    np.testing.assert_array_equal(ex.forward()[0].asnumpy(), [5, 6])
    with pytest.raises(ValueError, match="'zz'"):
        ex.copy_params_from({"zz": mx.nd.ones(2)})
    ex.copy_params_from({"zz": mx.nd.ones(2)}, allow_extra_params=True)


def test_debug_str_shows_the_plan():
    a = mx.sym.var("a")
    text = mx.sym.Activation(a * 2 + 1, act_type="relu").simple_bind(mx.cpu(), grad_req="null", a=(2, 3)).debug_str()
    lines = text.splitlines()
    assert lines == ["%1 = _mul_scalar(%0)  sid=0 (2, 3) float32",
                     "%2 = _plus_scalar(%1)  sid=0 (2, 3) float32  inplace",
                     "%3 = Activation(%2)  external (2, 3) float32"]


# -- planned equals unplanned on random graphs -------------------------------------------------------------------------

_UNARY = [("relu", lambda s: mx.sym.Activation(s, act_type="relu"), lambda x: np.maximum(x, 0)),
          ("tanh", lambda s: mx.sym.Activation(s, act_type="tanh"), np.tanh),
          ("x*3", lambda s: s * 3, lambda x: x * np.float32(3)),
          ("x+1", lambda s: s + 1, lambda x: x + np.float32(1)),
          ("neg", lambda s: -s, lambda x: -x),
          ("flat", lambda s: mx.sym.Reshape(mx.sym.Flatten(s), shape=(3, 4)), lambda x: x),
          ("copy", lambda s: mx.sym._internal._copy(s), lambda x: x)]
_BINARY = [("+", lambda a, b: a + b, np.add), ("-", lambda a, b: a - b, np.subtract),
           ("*", lambda a, b: a * b, np.multiply)]


@st.composite
def random_programs(draw):
    """A random DAG over 2 variables of shape (3, 4): a list of (op index, input indices)."""
    steps = []
    for i in range(draw(st.integers(1, 12))):
        n_avail = 2 + i
        if draw(st.booleans()):
            steps.append(("u", draw(st.integers(0, len(_UNARY) - 1)), (draw(st.integers(0, n_avail - 1)),)))
        else:
            steps.append(("b", draw(st.integers(0, len(_BINARY) - 1)),
                          (draw(st.integers(0, n_avail - 1)), draw(st.integers(0, n_avail - 1)))))
    heads = draw(st.lists(st.integers(2, 1 + len(steps)), min_size=1, max_size=3))
    return steps, heads


@settings(max_examples=40)
@given(program=random_programs(), seed=st.integers(0, 2 ** 16))
def test_planned_run_equals_unplanned_and_numpy(program, seed):
    import os
    steps, heads = program
    syms = [mx.sym.var("x0"), mx.sym.var("x1")]
    rs = np.random.RandomState(seed)
    vals = [rs.uniform(-2, 2, (3, 4)).astype(np.float32) for _ in range(2)]
    for kind, k, ins in steps:
        if kind == "u":
            syms.append(_UNARY[k][1](syms[ins[0]]))
            vals.append(_UNARY[k][2](vals[ins[0]]).astype(np.float32))
        else:
            syms.append(_BINARY[k][1](syms[ins[0]], syms[ins[1]]))
            vals.append(_BINARY[k][2](vals[ins[0]], vals[ins[1]]).astype(np.float32))
    group = mx.sym.Group([syms[h] for h in heads])
    args = {"x0": vals[0], "x1": vals[1]}
    results = []
    for planner_off in ("", "1"):
        old = os.environ.get("DATAFLOW_NO_MEMORY_PLANNER")
        os.environ["DATAFLOW_NO_MEMORY_PLANNER"] = planner_off
        try:
            known = {n: mx.nd.array(args[n]) for n in group.list_arguments()}
            ex = group.bind(mx.cpu(), known)
            results.append([o.asnumpy() for o in ex.forward()])
        finally:
            if old is None:
                del os.environ["DATAFLOW_NO_MEMORY_PLANNER"]
            else:
                os.environ["DATAFLOW_NO_MEMORY_PLANNER"] = old
    planned, unplanned = results
    for h, p, u in zip(heads, planned, unplanned, strict=True):
        np.testing.assert_array_equal(p, u)
        np.testing.assert_allclose(p, vals[h], rtol=1e-5, atol=1e-6)


def test_entries_are_views_of_one_arena_at_their_offsets():
    # which storages may share bytes (disjoint lifetimes) is checked in tests/test_memory.py; here, the Plan
    # lays them out where the memory plan says, inside one arena of the planned size
    a = mx.sym.var("a")
    s = a
    for _ in range(6):
        s = mx.sym.Activation(s * 2 + a, act_type="tanh")
    plan = s.simple_bind(mx.cpu(), a=(4, 5))._plan
    base = plan.arena.__array_interface__["data"][0]
    assert plan.arena.nbytes <= plan.memory.planned_bytes      # the arena ends at the last block, unpadded
    for eid, sid in enumerate(plan.memory.storage_id):
        if sid >= 0:
            start = plan.arrays[eid].__array_interface__["data"][0] - base
            assert start == plan.memory.offsets[sid]
            assert start + plan.arrays[eid].nbytes <= plan.arena.nbytes
    assert plan.memory.planned_bytes < plan.memory.naive_bytes
