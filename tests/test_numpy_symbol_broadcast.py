"""`mx.sym.np`'s NumPy broadcasting on Symbols (issue 23, second part): `F.np.matmul`, `where`, `broadcast_to`,
`dot`, `linalg.norm`, `random.uniform/normal`, true division, indexing with None / Ellipsis and `split` at points in
hybridized numpy-mode blocks (traced == imperative == NumPy, gradients with NumPy's), and MXNet's numpy-mode exports
of them (tests/fixtures/mxnet-1.9.1/numpy_sym/npbcast*, made by reference/numpy_sym_fixtures.py) loading and giving
MXNet's outputs."""
import json
import os

import numpy as onp
import pytest
from hypothesis import given
from hypothesis.extra import numpy as hnp

import dataflow as mx
from dataflow import autograd, gluon, np
from dataflow.base import MXNetError
from dataflow.gluon import nn
from dataflow.symbol.numpy import as_np_symbol
from tests.numpy_blocks import Apply, np_mode, run_both  # noqa: F401 - np_mode: autouse fixture
from tests.test_numpy_symbol import FIXTURES, RS, X, Y, _np_graph, check_both


# -- F.np's broadcasting functions, matmul, linalg.norm, random (issue 23, second part) ------------------------------
def input_grads(fn, *host_inputs, hybridize):
    """The gradients of sum(outputs) with respect to `host_inputs`, `fn` run imperatively or hybridized."""
    block = Apply(fn)
    if hybridize:
        block.hybridize()
    inputs = [np.array(x, dtype=x.dtype) for x in host_inputs]
    for x in inputs:
        x.attach_grad()
    with autograd.record():
        out = block(*inputs)
        total = sum(o.sum() for o in (out if isinstance(out, (list, tuple)) else [out]))
    total.backward()
    return [x.grad.asnumpy() for x in inputs]


def check_grads(fn, expected, *host_inputs):
    """Imperative and hybridized input gradients of sum(fn(...)) both equal `expected` (computed with NumPy)."""
    for hybridize in (False, True):
        for got, want in zip(input_grads(fn, *host_inputs, hybridize=hybridize), expected):
            assert got.shape == want.shape, (hybridize, got.shape, want.shape)
            onp.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape_a, shape_b", [((3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((3, 4), (2, 4, 5)),
                                              ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
                                              ((1, 3, 4), (2, 1, 4, 1))])
def test_matmul_broadcasts_batch_axes(shape_a, shape_b):
    a = RS.uniform(-1, 1, shape_a).astype("float32")
    b = RS.uniform(-1, 1, shape_b).astype("float32")
    check_both(lambda F, x, y: F.np.matmul(x, y), onp.matmul(a, b), a, b, rtol=1e-5, atol=1e-5)
    ones = onp.ones(onp.matmul(a, b).shape, "float32")
    grad_a, grad_b = onp.matmul(ones, onp.swapaxes(b, -1, -2)), onp.matmul(onp.swapaxes(a, -1, -2), ones)
    # a broadcast operand's gradient is summed over the axes it was broadcast along
    reduce_to = lambda g, shape: g.sum(axis=tuple(range(g.ndim - len(shape)))).sum(  # noqa: E731
        axis=tuple(i for i, d in enumerate(shape) if d == 1), keepdims=True).reshape(shape)
    check_grads(lambda F, x, y: F.np.matmul(x, y), [reduce_to(grad_a, shape_a), reduce_to(grad_b, shape_b)], a, b)


@pytest.mark.parametrize("shape_a, shape_b", [((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,)), ((2, 4, 3), (3,)),
                                              ((3,), (2, 3, 4))])
def test_matmul_of_a_vector(shape_a, shape_b):
    # NumPy's rule: a 1-D operand is one row (first) or one column (second), that axis dropped from the result
    a = RS.uniform(-1, 1, shape_a).astype("float32")
    b = RS.uniform(-1, 1, shape_b).astype("float32")
    expected = onp.matmul(a, b)
    imperative, hybrid = run_both(lambda F, x, y: F.np.matmul(x, y), a, b)
    for got in (imperative[0], hybrid[0]):
        assert got.shape == expected.shape
        onp.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b
    ones = onp.ones(onp.matmul(a2, b2).shape, "float32")
    grad_a, grad_b = onp.matmul(ones, onp.swapaxes(b2, -1, -2)), onp.matmul(onp.swapaxes(a2, -1, -2), ones)
    check_grads(lambda F, x, y: F.np.matmul(x, y), [grad_a.sum(axis=tuple(range(grad_a.ndim - a2.ndim))).reshape(
        shape_a), grad_b.sum(axis=tuple(range(grad_b.ndim - b2.ndim))).reshape(shape_b)], a, b)


def test_matmul_refusals_are_clear_errors():
    with pytest.raises(MXNetError, match="_npi_matmul.*at least one dimension"):
        _run_hybridized(lambda F, x, y: F.np.matmul(x, y), onp.float32(2.0), Y)
    with pytest.raises(MXNetError, match="_npi_matmul.*int32"):      # MXNet's matmul takes float operands only
        _run_hybridized(lambda F, x, y: F.np.matmul(x, y), X.astype("int32"), Y.astype("int32"))
    with pytest.raises(MXNetError, match="_npi_matmul.*shape-mismatch"):
        _run_hybridized(lambda F, x, y: F.np.matmul(x, y), X, X)
    with pytest.raises(TypeError, match="matmul"):
        mx.sym.np.matmul(as_np_symbol(mx.sym.var("x")), 2.0)


def _run_hybridized(fn, *host_inputs):
    block = Apply(fn)
    block.hybridize()
    return block(*[np.array(x, dtype=x.dtype) for x in host_inputs]).asnumpy()


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3))
def test_where_broadcasts(shapes):
    shape_c, shape_x, shape_y = shapes.input_shapes
    cond = RS.uniform(0, 1, shape_c) > 0.5
    x = RS.uniform(-1, 1, shape_x).astype("float32")
    y = RS.uniform(-1, 1, shape_y).astype("float32")
    expected = onp.where(cond, x, y)
    imperative, hybrid = run_both(lambda F, c, a, b: F.np.where(c, a, b), cond, x, y)
    onp.testing.assert_array_equal(imperative[0], expected)
    # a zero-dim result is (1,) in a graph (see check_both)
    assert hybrid[0].shape == (expected.shape or (1,)) and hybrid[0].dtype == expected.dtype
    onp.testing.assert_array_equal(hybrid[0].reshape(expected.shape), expected)


def test_where_with_numbers_and_its_gradient():
    cond = X > 1
    check_both(lambda F, x, y: [F.np.where(x > 1, x, 0.5), F.np.where(x > 1, -1.0, y)],
               [onp.where(cond, X, onp.float32(0.5)), onp.where(cond, onp.float32(-1), Y)], X, Y)
    check_grads(lambda F, c, x, y: F.np.where(c, x, y),
                [onp.zeros(X.shape, "float32"), cond.astype("float32"), (~cond).sum(0).astype("float32")],
                cond.astype("float32"), X, Y)
    with pytest.raises(NotImplementedError, match="where"):
        mx.sym.np.where(as_np_symbol(mx.sym.var("c")), 1.0, 2.0)


@pytest.mark.parametrize("source, shape", [((4,), (3, 4)), ((4,), (2, 3, 4)), ((3, 1), (2, 3, 4)), ((), (2, 3)),
                                           ((3, 4), (3, 4)), ((1, 4), (5, 3, 4))])
def test_broadcast_to_adds_leading_axes(source, shape):
    x = RS.uniform(-1, 1, source).astype("float32")
    check_both(lambda F, a: F.np.broadcast_to(a, shape), onp.broadcast_to(x, shape), x)
    counts = onp.broadcast_to(onp.ones(1, "float32"), shape).size / x.size
    check_grads(lambda F, a: F.np.broadcast_to(a, shape), [onp.full(source, counts, "float32")], x)


def test_broadcast_to_keeps_integer_dtypes():
    x = onp.arange(4, dtype="int32")
    check_both(lambda F, a: F.np.broadcast_to(a, (2, 4)), onp.broadcast_to(x, (2, 4)), x)


def test_dot_of_an_nd_first_operand():
    a = RS.uniform(-1, 1, (2, 3, 4)).astype("float32")
    w = RS.uniform(-1, 1, (4, 5)).astype("float32")
    check_both(lambda F, x, y, v: [F.np.dot(x, y), F.np.dot(x, v)], [onp.dot(a, w), onp.dot(a, w[:, 0])],
               a, w, w[:, 0].copy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("ord_, axis, keepdims", [(None, None, False), ("fro", None, False), (None, 1, False),
                                                  (2, -1, True), (1, 0, False), (onp.inf, 1, False),
                                                  (-onp.inf, 0, True), (3, 1, False), (0.5, 0, False),
                                                  (1, (0, 1), False), (-1, (1, 0), True), (onp.inf, (0, 1), False),
                                                  (-onp.inf, (0, 1), True), ("fro", (0, 1), False)])
def test_linalg_norm(ord_, axis, keepdims):
    expected = onp.linalg.norm(X, ord=ord_, axis=axis, keepdims=keepdims).astype("float32")
    check_both(lambda F, x: F.np.linalg.norm(x, ord=ord_, axis=axis, keepdims=keepdims), expected, X,
               rtol=1e-5)


def test_linalg_norm_gradient_and_what_a_graph_cannot_do():
    check_grads(lambda F, x: F.np.linalg.norm(x, axis=1), [X / onp.linalg.norm(X, axis=1, keepdims=True)], X)
    x = as_np_symbol(mx.sym.var("x"))
    for ord_, axis in [(1, None), ("nuc", (0, 1)), (2, (0, 1)), (0, 1)]:
        with pytest.raises(NotImplementedError, match="norm"):
            mx.sym.np.linalg.norm(x, ord=ord_, axis=axis)


class Sampler(nn.HybridBlock):
    """Dropout-like code: a uniform mask, and normal / uniform draws with array parameters."""

    def hybrid_forward(self, F, x):
        keep = F.np.random.uniform(0, 1, size=(2000, 3)) < 0.75
        return [F.np.where(keep, x / 0.75, 0.0), F.np.random.normal(2.0, x, size=None),
                F.np.random.uniform(x, x + 1), F.np.random.normal(size=(4, 5), dtype="float64"),
                F.np.random.uniform(-1.0, x, size=(2000, 3))]


@pytest.mark.parametrize("hybridize", [False, True])
def test_random_uniform_normal_in_a_hybridized_block(hybridize):
    net = Sampler()
    if hybridize:
        net.hybridize()
    x = np.full((2000, 3), 2.0)
    mx.random.seed(7)
    first = [o.asnumpy() for o in net(x)]
    second = [o.asnumpy() for o in net(x)]
    mx.random.seed(7)
    again = [o.asnumpy() for o in net(x)]
    assert [o.shape for o in first] == [(2000, 3), (2000, 3), (2000, 3), (4, 5), (2000, 3)]
    assert [o.dtype for o in first] == ["float32"] * 3 + ["float64", "float32"]
    masked, normal, uniform, standard, spread = first
    assert set(onp.unique(masked)) <= {0.0, onp.float32(2 / 0.75)} and abs((masked == 0).mean() - 0.25) < 0.03
    assert abs(normal.mean() - 2.0) < 0.15 and abs(normal.std() - 2.0) < 0.15       # scale 2 from x
    assert uniform.min() >= 2.0 and uniform.max() < 3.0 and abs(uniform.mean() - 2.5) < 0.03
    assert spread.min() >= -1.0 and spread.max() < 2.0 and abs(spread.mean() - 0.5) < 0.05
    assert not any((a == b).all() for a, b in zip(first, second))                     # fresh draws per call
    assert all((a == b).all() for a, b in zip(first, again))                          # mx.random.seed repeats them


def test_indexing_with_none_and_ellipsis():
    fn = lambda F, x: [x[None], x[:, None], x[None, 1, :, None], x[..., 0], x[1:, ..., 1:3], x[...], x[0, ...]]  # noqa: E731
    check_both(fn, [X[None], X[:, None], X[None, 1, :, None], X[..., 0], X[1:, ..., 1:3], X[...], X[0, ...]], X)


def test_split_at_points():
    check_both(lambda F, x: F.np.split(x, [1, 3], axis=1), onp.split(X, [1, 3], axis=1), X)
    check_both(lambda F, x: F.np.split(x, (2,)), onp.split(X, (2,)), X)


def test_true_division_of_integers_gives_floats():
    """NumPy's values in MXNet's dtype, float32, imperatively (fixture numpy/dtypes.json int_truediv) and in a graph
    (fixture np_sem/promotion.json; more in tests/test_numpy_symbol_semantics.py)."""
    a = onp.array([[0, 1, 3], [5, -7, 9]], dtype="int32")
    b = onp.array([2, -4, 3], dtype="int32")
    fn = lambda F, x, y: [x / 2, x / y, 3 / y, F.np.true_divide(x, y), F.np.divide(x, 4), x / 2.5]  # noqa: E731
    expected = [a / 2, a / b, 3 / b, a / b, a / 4, a / 2.5]
    imperative, hybrid = run_both(fn, a, b)
    for ours_i, ours_h, want in zip(imperative, hybrid, expected):
        assert ours_i.dtype == onp.float32 and ours_h.dtype == onp.float32, (ours_i.dtype, ours_h.dtype)
        onp.testing.assert_allclose(ours_i, want, rtol=1e-6)
        onp.testing.assert_allclose(ours_h, want, rtol=1e-6)


def test_float_scalars_are_not_truncated_for_integer_symbols():
    a = onp.array([0, 1, 3, 5], dtype="int32")
    _, hybrid = run_both(lambda F, x: [x * 1.5, x + 0.25, x >= 0.5, x < 2.5], a)
    for ours, want in zip(hybrid, [a * 1.5, a + 0.25, a >= 0.5, a < 2.5]):
        assert ours.dtype.kind == want.dtype.kind
        onp.testing.assert_allclose(ours, want)


def test_float_division_keeps_dtype_and_signed_zeros():
    x = onp.array([1.0, -2.0, 3.0], "float64")
    zeros = onp.array([0.0, -0.0, onp.inf], "float64")
    with onp.errstate(divide="ignore"):
        check_both(lambda F, a, b: [a / b, b / a], [x / zeros, zeros / x], x, zeros)


def test_mxnet_numpy_comparisons_load_as_bool():
    """MXNet's `_npi_greater_scalar` / `_npi_less` give bool: a graph reading them (a comparison feeding a `where`,
    another one a head) gives NumPy's bool, with the nodes after each comparison renumbered."""
    doc = {"nodes": [{"op": "null", "name": "x", "inputs": []},
                     {"op": "_npi_greater_scalar", "name": "gt", "attrs": {"scalar": "0.5", "is_int": "False"},
                      "inputs": [[0, 0, 0]]},
                     {"op": "null", "name": "y", "inputs": []},
                     {"op": "_npi_less", "name": "lt", "inputs": [[0, 0, 0], [2, 0, 0]]},
                     {"op": "_npi_multiply_scalar", "name": "half", "attrs": {"scalar": "0.5"}, "inputs": [[2, 0, 0]]},
                     {"op": "where", "name": "pick", "inputs": [[1, 0, 0], [0, 0, 0], [4, 0, 0]]}],
           "arg_nodes": [0, 2], "node_row_ptr": [0, 1, 2, 3, 4, 5, 6], "heads": [[5, 0, 0], [3, 0, 0]],
           "attrs": {"is_np_shape": ["int", 1]}}
    sym = mx.sym.load_json(json.dumps(doc))
    assert sym.list_arguments() == ["x", "y"] and sym.list_outputs() == ["pick_output", "lt_output"]
    x, y = X, RS.uniform(0.25, 2, X.shape).astype("float32")
    picked, less = sym.eval(ctx=mx.cpu(), x=mx.nd.array(x), y=mx.nd.array(y))
    assert less.dtype == onp.bool_
    onp.testing.assert_array_equal(less.asnumpy(), x < y)
    onp.testing.assert_allclose(picked.asnumpy(), onp.where(x > 0.5, x, y * 0.5))


class NpBroadcasting(nn.HybridBlock):
    """reference/numpy_sym_fixtures.py's second block: MXNet recorded its outputs (hybridized) and its export."""

    def hybrid_forward(self, F, x, y):
        product = F.np.matmul(x, y)
        batched = F.np.matmul(F.np.expand_dims(y.T, 0), F.np.swapaxes(x, 1, 2))
        mask = product > 0.1
        picked = F.np.where(mask, product, F.np.broadcast_to(y[0], (2, 3, 5)))
        clipped = F.np.where(x[:, :, :1] > 0, x, 0.0)
        return picked, batched, mask, clipped, F.np.linalg.norm(x, axis=-1) / 2


@pytest.mark.parametrize("hybridize", [False, True])
def test_np_broadcasting_block_equals_mxnet(hybridize):
    arrays = onp.load(os.path.join(FIXTURES, "npbcast.npz"))
    net = NpBroadcasting(prefix="npbcast_")
    net.initialize()
    if hybridize:
        net.hybridize()
    outs = net(np.array(arrays["x"]), np.array(arrays["x1"]))
    assert len(outs) == 5
    for i, ours in enumerate(outs):
        want = arrays["y%d" % i]
        assert isinstance(ours, np.ndarray) and ours.shape == want.shape and ours.dtype == want.dtype
        onp.testing.assert_allclose(ours.asnumpy(), want, rtol=1e-5, atol=1e-6)


def test_mxnet_numpy_broadcasting_export_loads():
    """MXNet's `_npi_matmul`, `_npi_where`, `_npi_where_rscalar`, `_npi_broadcast_to` and `_npi_norm` nodes load as
    the graphs mx.sym.np builds (NumPy's broadcasting), its comparisons as bool, and give MXNet's outputs."""
    arrays = onp.load(os.path.join(FIXTURES, "npbcast.npz"))
    with open(os.path.join(FIXTURES, "npbcast-symbol.json")) as fh:
        ops = {n["op"] for n in json.load(fh)["nodes"]}
    assert {"_npi_matmul", "_npi_where", "_npi_where_rscalar", "_npi_broadcast_to", "_npi_norm",
            "_npi_greater_scalar"} <= ops
    block = gluon.SymbolBlock.imports(os.path.join(FIXTURES, "npbcast-symbol.json"), ["data0", "data1"],
                                      os.path.join(FIXTURES, "npbcast-0000.params"))
    outs = block(np.array(arrays["x"]), np.array(arrays["x1"]))
    assert len(outs) == 5
    for i, ours in enumerate(outs):
        want = arrays["y%d" % i]
        assert isinstance(ours, np.ndarray) and ours.shape == want.shape and ours.dtype == want.dtype, (i, ours.dtype)
        onp.testing.assert_allclose(ours.asnumpy(), want, rtol=1e-5, atol=1e-6)


def test_unsupported_expansion_names_the_node():
    with pytest.raises(MXNetError, match=r"node 1 \(y\).*_npi_norm"):
        mx.sym.load_json(_np_graph("_npi_norm", {"ord": "1", "axis": "None", "keepdims": "False", "flag": "1"}))


def test_mxnet_true_division_of_integers_loads_as_floats():
    ints = onp.array([1, 3, -5], dtype="int32")
    for op, attrs, expected in [("_npi_true_divide_scalar", {"scalar": "2.0", "is_int": "True"}, ints / 2),
                                ("_npi_rtrue_divide_scalar", {"scalar": "3", "is_int": "True"}, 3 / ints)]:
        out = mx.sym.load_json(_np_graph(op, attrs)).eval(ctx=mx.cpu(), x=mx.nd.array(ints, dtype="int32"))[0]
        assert out.dtype == onp.float32, op
        onp.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-6)


def test_where_of_an_integer_array_and_a_float_is_an_error_not_a_truncation():
    ints = onp.array([1, -2, 3], dtype="int32")
    check_both(lambda F, x: F.np.where(x > 0, x, 7), onp.where(ints > 0, ints, 7).astype("int32"), ints)
    block = Apply(lambda F, x: F.np.where(x > 0, x, 0.5))
    block.hybridize()
    with pytest.raises(MXNetError, match="where"):
        block(np.array(ints, dtype="int32"))
