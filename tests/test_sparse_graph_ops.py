"""The sparse-only ops as graph nodes (ops/sparse_ops.py: cast_storage, `_sparse_retain`, `_square_sum`,
`contrib.SparseEmbedding`), their front ends and storage-type rules, and `mx.nd.sparse`'s update op names.
MXNet 1.9.1's results are in tests/fixtures/mxnet-1.9.1/sparse_symbol (reference/sparse_symbol_fixtures.py)."""
import os
import warnings

import numpy as np
import pytest

import dataflow as mx
from dataflow.ndarray import sparse_ops
from dataflow.ndarray.sparse import StorageFallbackWarning
from scheduler import infer_storage

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "sparse_symbol")


@pytest.fixture(scope="module")
def values():
    return dict(np.load(os.path.join(FIXTURES, "values.npz")))


# -- the sparse-only ops as graph nodes (ops/sparse_ops.py), SparseEmbedding, and their storage types ----------------

def _rsp_x(values):
    return mx.nd.array(values["ret_x"]).tostype("row_sparse")


def test_zero_preserving_ops_are_one_list():
    assert sparse_ops.ZERO_PRESERVING is infer_storage.ZERO_PRESERVING


def test_bound_retain_matches_mxnet(values):
    x = mx.sym.var("x", stype="row_sparse")
    executor = mx.sym.sparse.retain(x, mx.sym.var("keep")).bind(
        mx.cpu(), {"x": _rsp_x(values), "keep": mx.nd.array(values["ret_keep"])})
    out = executor.forward()[0]
    assert out.stype == "row_sparse"
    np.testing.assert_array_equal(out.asnumpy(), values["ret_out"])
    np.testing.assert_array_equal(out.indices.asnumpy(), values["ret_out_indices"])


def test_bound_retain_gradient_keeps_the_listed_rows():
    """MXNet cannot bind retain with a gradient (see the fixture script); ours is dy on the listed rows (numpy)."""
    rng = np.random.RandomState(5)
    data, head = rng.randn(6, 2).astype(np.float32), rng.randn(6, 2).astype(np.float32)
    x = mx.sym.var("x")
    executor = mx.sym.sparse.retain(x, mx.sym.var("keep")).bind(
        mx.cpu(), {"x": mx.nd.array(data), "keep": mx.nd.array([4, 1])}, args_grad={"x": mx.nd.zeros((6, 2))},
        grad_req={"x": "write", "keep": "null"})
    want = np.zeros_like(data)
    want[[1, 4]] = data[[1, 4]]
    np.testing.assert_array_equal(executor.forward(is_train=True)[0].asnumpy(), want)
    executor.backward(mx.nd.array(head))
    want[[1, 4]] = head[[1, 4]]
    np.testing.assert_array_equal(executor.grad_dict["x"].asnumpy(), want)


@pytest.mark.parametrize("axis,keepdims,tag", [(1, True, "sq1k"), (0, False, "sq0")])
def test_bound_square_sum_matches_mxnet(values, axis, keepdims, tag):
    x = mx.sym.var("x", stype="row_sparse")
    executor = mx.sym._internal._square_sum(x, axis=axis, keepdims=keepdims).simple_bind(mx.cpu(), x=(6, 3))
    assert executor.grad_dict["x"].stype == "row_sparse"
    out = executor.forward(is_train=True, x=_rsp_x(values))[0]
    assert out.stype == str(values[tag + "_out_stype"])
    np.testing.assert_allclose(out.asnumpy(), values[tag + "_out"], rtol=1e-6)
    head = mx.nd.array(values[tag + "_head"])
    executor.backward(head.tostype(out.stype))
    grad = executor.grad_dict["x"]
    np.testing.assert_allclose(grad.asnumpy(), values[tag + "_g"], rtol=1e-6)
    np.testing.assert_array_equal(grad.indices.asnumpy(), values[tag + "_g_indices"])


def test_bound_sparse_embedding_matches_mxnet(values):
    symbol = mx.sym.contrib.SparseEmbedding(mx.sym.var("i"), input_dim=8, output_dim=2, name="semb")
    assert symbol._outputs[0].node.op.name == "_contrib_SparseEmbedding"
    executor = symbol.simple_bind(mx.cpu(), grad_req={"i": "null", "semb_weight": "write"}, i=(4,))
    assert executor._lifted and executor._lifted[0].kind == "embedding"      # computed like Embedding(sparse_grad)
    executor.copy_params_from({"i": mx.nd.array(values["semb_idx"]), "semb_weight": mx.nd.array(values["semb_w"])})
    np.testing.assert_array_equal(executor.forward(is_train=True)[0].asnumpy(), values["semb_out"])
    executor.backward(mx.nd.array(values["semb_head"]))
    grad = executor.grad_dict["semb_weight"]
    assert grad.stype == str(values["semb_g_stype"])
    np.testing.assert_array_equal(grad.indices.asnumpy(), values["semb_g_indices"])
    np.testing.assert_allclose(grad.data.asnumpy(), values["semb_g_data"], rtol=1e-6)


def test_sparse_embedding_imperative_equals_embedding():
    rng = np.random.RandomState(6)
    weight, idx = mx.nd.array(rng.randn(5, 3)), mx.nd.array([4, 0, 4])
    out = mx.nd.contrib.SparseEmbedding(idx, weight, input_dim=5, output_dim=3)
    np.testing.assert_array_equal(out.asnumpy(), weight.asnumpy()[[4, 0, 4]])


def test_cast_storage_front_ends_keep_their_storage_types():
    rng = np.random.RandomState(7)
    dense = (rng.rand(4, 5) * (rng.rand(4, 5) < 0.4)).astype(np.float32)
    for cast in (mx.nd.cast_storage, mx.nd.sparse.cast_storage):
        for stype in ("csr", "row_sparse", "default"):
            result = cast(mx.nd.array(dense), stype)
            assert result.stype == stype
            np.testing.assert_array_equal(result.asnumpy(), dense)
    back = mx.nd.cast_storage(mx.nd.sparse.csr_matrix(dense), stype="default")
    assert back.stype == "default"
    np.testing.assert_array_equal(back.asnumpy(), dense)
    x = mx.nd.array(dense)
    x.attach_grad()
    with mx.autograd.record():          # recorded through the op: its gradient is dy
        y = mx.nd.cast_storage(x, "default") * 3
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), np.full_like(dense, 3))


def test_square_sum_and_retain_front_ends_dispatch_by_storage():
    rng = np.random.RandomState(8)
    dense = (rng.rand(5, 3) * (rng.rand(5, 1) < 0.5)).astype(np.float32)
    rsp = mx.nd.sparse.row_sparse_array(dense)
    kept = mx.nd._internal._square_sum(rsp, axis=1, keepdims=True)     # the generated front end, sparse kernel
    assert kept.stype == "row_sparse"
    np.testing.assert_allclose(kept.asnumpy(), (dense * dense).sum(axis=1, keepdims=True), rtol=1e-6)
    plain = mx.nd._internal._square_sum(mx.nd.array(dense), axis=0)    # dense: the op's own kernel
    assert plain.stype == "default"
    np.testing.assert_allclose(plain.asnumpy(), (dense * dense).sum(axis=0), rtol=1e-6)
    rows = mx.nd.sparse.retain(rsp, mx.nd.array([3, 0]))
    assert rows.stype == "row_sparse"
    np.testing.assert_array_equal(rows.indices.asnumpy(), [0, 3])
    want = np.zeros_like(dense)
    want[[0, 3]] = dense[[0, 3]]
    np.testing.assert_array_equal(rows.asnumpy(), want)
    with pytest.raises(mx.base.MXNetError, match=r"_sparse_retain.*range \[0, 5\).*\[7\]"):
        mx.nd._internal._sparse_retain(mx.nd.array(dense), mx.nd.array([1, 7])).wait_to_read()


def test_rules_of_sparse_only_and_binary_ops_agree_with_the_kernels():
    """The forward rules for cast_storage, retain, _square_sum, _maximum/_minimum/_hypot give the storage type the
    imperative call gives."""
    rng = np.random.RandomState(9)
    dense = (rng.rand(4, 6) * (rng.rand(4, 6) < 0.4)).astype(np.float32)
    arrays = {"csr": mx.nd.sparse.csr_matrix(dense), "row_sparse": mx.nd.sparse.row_sparse_array(dense),
              "default": mx.nd.array(dense)}
    calls = [("_maximum", (a, b), {}) for a in arrays for b in arrays]
    calls += [(op, (a, a), {}) for op in ("_minimum", "_hypot") for a in arrays]
    calls += [("_square_sum", ("row_sparse",), dict(axis=ax, keepdims=k)) for ax in (0, 1) for k in (True, False)]
    calls += [("_sparse_retain", ("row_sparse", "default"), {})]
    calls += [("cast_storage", (a,), dict(stype=s)) for a in arrays for s in arrays if a in ("default", s)]
    for op, stypes, kwargs in calls:
        inputs = [arrays[s] for s in stypes] if op != "_sparse_retain" else [arrays["row_sparse"], mx.nd.array([2, 0])]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StorageFallbackWarning)
            front_end = mx.nd.cast_storage if op == "cast_storage" else (
                mx.nd.sparse.retain if op == "_sparse_retain" else getattr(mx.nd._internal, op))
            result = front_end(*inputs, **kwargs)
        symbol = (mx.sym.cast_storage if op == "cast_storage" else mx.sym.sparse.retain if op == "_sparse_retain"
                  else getattr(mx.sym._internal, op))(*[mx.sym.var("v%d" % k) for k in range(len(stypes))], **kwargs)
        node = symbol._outputs[0].node
        table = infer_storage.FORWARD[node.op.name](node.params, list(stypes))
        assert result.stype == (table[0] if table is not None else "default"), (op, stypes, kwargs)


def test_nd_sparse_update_names_run_the_lazy_kernels():
    """MXNet's `mx.nd.sparse.sgd_update` / `adam_update` (lazy_update=True): only the gradient's rows change,
    by MXNet's documented formulas (numpy here), without a storage fallback."""
    rng = np.random.RandomState(10)
    weight0, rows = rng.rand(5, 2).astype(np.float32), [1, 4]
    grad = mx.nd.sparse.row_sparse_array((rng.rand(2, 2).astype(np.float32), rows), shape=(5, 2))
    g = grad.data.asnumpy()
    assert {"sgd_update", "sgd_mom_update", "adam_update", "ftrl_update", "Embedding"} <= set(mx.nd.sparse.__all__)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StorageFallbackWarning)
        weight = mx.nd.array(weight0)
        mx.nd.sparse.sgd_update(weight, grad, lr=0.5, wd=0.1, out=weight)
        want = weight0.copy()
        want[rows] -= 0.5 * (g + 0.1 * weight0[rows])
        np.testing.assert_allclose(weight.asnumpy(), want, rtol=1e-6)
        weight, mean, var = mx.nd.array(weight0), mx.nd.zeros((5, 2)), mx.nd.zeros((5, 2))
        mx.nd.sparse.adam_update(weight, grad, mean, var, lr=0.1, beta1=0.9, beta2=0.999, epsilon=1e-8, out=weight)
        m, v = 0.1 * g, 0.001 * g * g
        want = weight0.copy()
        want[rows] -= 0.1 * m / (np.sqrt(v) + 1e-8)
        np.testing.assert_allclose(weight.asnumpy(), want, rtol=1e-5, atol=1e-6)     # float32 arithmetic
        np.testing.assert_allclose(mean.asnumpy()[rows], m, rtol=1e-6)
        assert not mean.asnumpy()[[0, 2, 3]].any()
