"""Sparse storage on the Symbol side: `mx.test_utils`' sparse arrays, storage-type inference
(scheduler/infer_storage.py), executors bound to sparse arrays (dataflow/executor_sparse.py), `mx.sym.sparse`, and a
Module training MXNet's sparse linear classification model. MXNet 1.9.1's results are in
tests/fixtures/mxnet-1.9.1/sparse_symbol (reference/sparse_symbol_fixtures.py)."""
import json
import os
import warnings

import numpy as np
import pytest

import dataflow as mx
from dataflow import test_utils as tu
from dataflow.ndarray.sparse import StorageFallbackWarning, fallback
from scheduler import infer_storage

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "sparse_symbol")


@pytest.fixture(scope="module")
def values():
    return dict(np.load(os.path.join(FIXTURES, "values.npz")))


# -- mx.test_utils ---------------------------------------------------------------------------------------------------

def test_rand_ndarray_sparse_forms():
    np.random.seed(3)
    csr = tu.rand_ndarray((20, 30), stype="csr", density=0.2, dtype=np.float64)
    assert isinstance(csr, mx.nd.sparse.CSRNDArray) and csr.dtype == np.float64
    assert csr.data.shape == (120,)        # scipy's rand: exactly density * size entries
    dense = csr.asnumpy()
    assert np.count_nonzero(dense) == 120 and dense.min() >= 0 and dense.max() < 1
    rsp = tu.rand_ndarray((200, 3), stype="row_sparse", density=0.3)
    assert isinstance(rsp, mx.nd.sparse.RowSparseNDArray) and rsp.dtype == np.float32
    assert 30 < len(rsp.indices.asnumpy()) < 90        # each row kept with probability 0.3
    assert np.all(np.diff(rsp.indices.asnumpy()) > 0)
    with pytest.raises(ValueError, match="storage type"):
        tu.rand_ndarray((2, 2), stype="coo")


def test_rand_sparse_ndarray_parts_and_options():
    np.random.seed(4)
    rsp, (vals, rows) = tu.rand_sparse_ndarray((6, 2), "row_sparse", rsp_indices=np.array([1, 4]), data_init=2.5)
    np.testing.assert_array_equal(rsp.indices.asnumpy(), [1, 4])
    np.testing.assert_array_equal(vals, np.full((2, 2), 2.5, np.float32))
    want = np.zeros((6, 2), np.float32)
    want[[1, 4]] = 2.5
    tu.assert_almost_equal(rsp, want)
    mod, _ = tu.rand_sparse_ndarray((6, 2), "row_sparse", density=1.0, modifier_func=lambda v: v + 10)
    assert mod.data.asnumpy().min() >= 10
    empty, (evals, erows) = tu.rand_sparse_ndarray((5, 2), "row_sparse", density=0.0)
    assert empty.stype == "row_sparse" and len(evals) == 0 and len(erows) == 0
    csr, (indptr, indices, data) = tu.rand_sparse_ndarray((4, 8), "csr", density=0.5)
    np.testing.assert_array_equal(indptr.asnumpy(), csr.indptr.asnumpy())
    np.testing.assert_array_equal(data.asnumpy(), csr.data.asnumpy())
    # MXNet's documented powerlaw example: each row holds twice the entries of the row before
    power, _ = tu.rand_sparse_ndarray((5, 16), "csr", density=0.5, distribution="powerlaw")
    np.testing.assert_array_equal(np.diff(power.indptr.asnumpy()), [2, 4, 8, 16, 10])
    with pytest.raises(ValueError, match="not supported for this density"):
        tu.rand_sparse_ndarray((5, 4), "csr", density=0.1, distribution="powerlaw")


def test_create_sparse_array_and_shuffled_indices():
    np.random.seed(5)
    arr = tu.create_sparse_array((8, 3), "row_sparse", rsp_indices=[6, 2, 4])
    np.testing.assert_array_equal(arr.indices.asnumpy(), [2, 4, 6])
    zd = tu.create_sparse_array_zd((8, 3), "row_sparse", density=0.9)
    assert len(zd.indices.asnumpy()) == 0       # only rsp_indices decide the rows
    np.random.seed(6)
    plain = tu.create_sparse_array((5, 9), "csr", density=0.6)
    np.random.seed(6)
    shuffled = tu.create_sparse_array((5, 9), "csr", density=0.6, shuffle_csr_indices=True)
    tu.assert_almost_equal(plain.data, shuffled.data)
    assert not np.array_equal(plain.indices.asnumpy(), shuffled.indices.asnumpy())
    with pytest.raises(AssertionError, match="Unknown storage type"):
        tu.create_sparse_array((2, 2), "default")


def test_comparisons_take_sparse_arrays():
    dense = np.array([[0, 1.5], [0, 0], [2, 0]], np.float32)
    csr = mx.nd.sparse.csr_matrix(dense)
    tu.assert_almost_equal(csr, dense)
    tu.assert_almost_equal(csr, mx.nd.sparse.row_sparse_array(dense))
    assert tu.same(csr.asnumpy(), dense)
    with pytest.raises(AssertionError):
        tu.assert_almost_equal(csr, dense + np.eye(3, 2, dtype=np.float32))


@pytest.mark.parametrize("trans_lhs", [False, True])
@pytest.mark.parametrize("rhs_stype", ["default", "row_sparse"])
def test_symbolic_checks_take_sparse_arrays(trans_lhs, rhs_stype):
    """MXNet's test_sparse_operator dot check: sparse `location`, gradients checked with check_symbolic_backward
    (dense truth from numpy) and against finite differences with a row_sparse gradient array."""
    np.random.seed(9)
    lhs_nd = tu.rand_ndarray((5, 8), "csr", density=0.4)
    rhs_nd = tu.rand_ndarray((5 if trans_lhs else 8, 3), rhs_stype, density=0.8)
    lhs_np, rhs_np = lhs_nd.asnumpy(), rhs_nd.asnumpy()
    out_np = (lhs_np.T if trans_lhs else lhs_np) @ rhs_np
    out = mx.sym.sparse.dot(mx.sym.var("lhs", stype="csr"), mx.sym.var("rhs", stype=rhs_stype), transpose_a=trans_lhs)
    location = {"lhs": lhs_nd, "rhs": rhs_nd}
    tu.check_symbolic_forward(out, location, [out_np], rtol=1e-5, atol=1e-6)
    ograd = np.random.rand(*out_np.shape).astype(np.float32)
    grad_stype = "default" if trans_lhs else "row_sparse"      # MXNet's: dot(csr.T, dy) is row_sparse
    grads = tu.check_symbolic_backward(out, location, [ograd], {"rhs": (lhs_np if trans_lhs else lhs_np.T) @ ograd},
                                       grad_req={"lhs": "null", "rhs": "write"}, grad_stypes={"rhs": grad_stype},
                                       rtol=1e-5, atol=1e-6)
    assert grads["rhs"].stype == grad_stype
    tu.check_numeric_gradient(out, location, grad_nodes={"rhs": "write"}, grad_stype_dict={"rhs": grad_stype},
                              rtol=1e-2, atol=1e-3)


# -- storage-type inference ------------------------------------------------------------------------------------------

def _variables():
    return {"d": mx.sym.var("d", stype="csr"), "w": mx.sym.var("w", stype="row_sparse"), "v": mx.sym.var("v"),
            "x": mx.sym.var("x", stype="row_sparse"), "y": mx.sym.var("y", stype="row_sparse"),
            "i": mx.sym.var("i")}


def _recorded_cases():
    with open(os.path.join(FIXTURES, "stypes.json")) as f:
        recorded = json.load(f)
    return [(name, *recorded["cases"][name], recorded["stypes"][name]) for name in sorted(recorded["cases"])]


@pytest.mark.parametrize("name,expression,shapes,want", _recorded_cases(), ids=lambda v: v if isinstance(v, str)
                         and " " not in v and "(" not in v else "")
def test_simple_bind_storage_types_match_mxnet(name, expression, shapes, want):
    shapes = dict(shapes)
    stype_dict = shapes.pop("stype_dict", None)
    symbol = eval(expression, {"mx": mx}, _variables())     # the expression MXNet ran (its fixture script)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StorageFallbackWarning)
        executor = symbol.simple_bind(mx.cpu(), stype_dict=stype_dict, **{k: tuple(s) for k, s in shapes.items()})
    assert {k: v.stype for k, v in executor.arg_dict.items()} == want["args"]
    assert {k: None if v is None else v.stype for k, v in executor.grad_dict.items()} == want["grads"]
    assert [o.stype for o in executor.outputs] == want["outputs"]


def test_rules_agree_with_the_sparse_kernels():
    """Every forward rule's output storage type is what the imperative sparse op gives for the same inputs, and
    where a rule says fallback (None) the imperative op warns of MXNet's storage fallback."""
    rng = np.random.RandomState(0)
    dense = (rng.rand(4, 6) * (rng.rand(4, 6) < 0.4)).astype(np.float32)
    arrays = {"csr": mx.nd.sparse.csr_matrix(dense), "row_sparse": mx.nd.sparse.row_sparse_array(dense),
              "default": mx.nd.array(dense)}
    rhs = {"default": mx.nd.array(rng.rand(6, 3)), "row_sparse": mx.nd.sparse.row_sparse_array(rng.rand(6, 3))}
    rhs_t = {"default": mx.nd.array(rng.rand(4, 3)), "row_sparse": mx.nd.sparse.row_sparse_array(rng.rand(4, 3))}
    calls = [("dot", (arrays["csr"], rhs[s]), dict(transpose_a=False)) for s in rhs]
    calls += [("dot", (arrays["csr"], rhs_t[s]), dict(transpose_a=True)) for s in rhs_t]
    calls += [("dot", (mx.nd.array(rng.rand(3, 4)), arrays["csr"]), dict(transpose_a=False)),
              ("dot", (mx.nd.array(rng.rand(4, 3)), arrays["csr"]), dict(transpose_a=True))]
    calls += [(op, (arrays[a], arrays[b]), {}) for op in ("elemwise_add", "elemwise_sub", "elemwise_mul")
              for a in ("csr", "row_sparse", "default") for b in ("csr", "row_sparse", "default")]
    calls += [(op, (arrays[a],), {}) for op in infer_storage.ZERO_PRESERVING + ("exp", "sigmoid")
              for a in ("csr", "row_sparse")]
    calls += [("sum", (arrays[a],), dict(axis=0)) for a in ("csr", "row_sparse")]
    checked = 0
    for op, inputs, kwargs in calls:
        stypes = [x.stype for x in inputs]
        fallback._WARNED.clear()        # MXNet warns once per message: an earlier test may have seen this one
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = getattr(mx.nd, op)(*inputs, **kwargs)
        warned = any(issubclass(w.category, StorageFallbackWarning) for w in caught)
        node = getattr(mx.sym, op)(*[mx.sym.var("v%d" % k) for k in range(len(inputs))], **kwargs)._outputs[0].node
        rule = infer_storage.FORWARD.get(op)
        table = rule(node.params, stypes) if rule else None
        assert result.stype == (table[0] if table is not None else "default"), (op, stypes, kwargs)
        if table is None:       # the rule's fallback is the kernels' (the kernels also warn for csr + dense)
            assert warned, (op, stypes, kwargs)
        checked += 1
    assert checked == len(calls)


def test_infer_storage_declared_and_given_stypes():
    from scheduler.graph import IndexedGraph
    data, weight = mx.sym.var("data", stype="csr"), mx.sym.var("weight")
    graph = IndexedGraph(mx.sym.dot(data, weight, transpose_a=True)._outputs)
    inferred = infer_storage.infer_storage(graph)
    assert inferred.entries[graph.heads[0]] == "row_sparse" and inferred.fallback == []
    assert inferred.gradients == {"data": "default", "weight": "default"}
    dense = infer_storage.infer_storage(graph, {"data": "default"})
    assert dense.entries[graph.heads[0]] == "default"
    graph = IndexedGraph(mx.sym.exp(mx.sym.var("x", stype="row_sparse"))._outputs)
    assert infer_storage.infer_storage(graph).fallback == [1]
    with pytest.raises(ValueError, match="storage type"):
        infer_storage.infer_storage(graph, {"x": "coo"})


# -- bound executors -------------------------------------------------------------------------------------------------

def _linear_symbol(num_features, num_classes, weight_stype="row_sparse"):
    data = mx.sym.var("data", stype="csr")
    weight = mx.sym.var("weight", stype=weight_stype, shape=(num_features, num_classes))
    bias = mx.sym.var("bias", shape=(num_classes,))
    return mx.sym.SoftmaxOutput(mx.sym.broadcast_add(mx.sym.sparse.dot(data, weight), bias), name="softmax")


def test_bound_sparse_linear_model_matches_mxnet(values):
    x, w, b, label = values["lin_x"], values["lin_w"], values["lin_b"], values["lin_label"]
    f, k = w.shape
    grad_w, grad_b = mx.nd.sparse.zeros("row_sparse", (f, k)), mx.nd.zeros((k,))
    executor = _linear_symbol(f, k).bind(
        mx.cpu(), {"data": mx.nd.array(x).tostype("csr"), "weight": mx.nd.array(w).tostype("row_sparse"),
                   "bias": mx.nd.array(b), "softmax_label": mx.nd.array(label)},
        args_grad={"weight": grad_w, "bias": grad_b},
        grad_req={"weight": "write", "bias": "write", "data": "null", "softmax_label": "null"})
    out = executor.forward(is_train=True)[0]
    executor.backward()
    tu.assert_almost_equal(out, values["lin_out"], rtol=1e-5, atol=1e-6)
    assert executor.grad_dict["weight"] is grad_w and grad_w.stype == "row_sparse"
    # MXNet's rows: every column the csr batch stores, including rows of the weight it does not store
    np.testing.assert_array_equal(grad_w.indices.asnumpy(), values["lin_gw_indices"])
    tu.assert_almost_equal(grad_w.data, values["lin_gw_data"], rtol=1e-5, atol=1e-6)
    tu.assert_almost_equal(grad_b, values["lin_gb"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("data_grad", ["null", "write"])
def test_sparse_gradients_equal_the_dense_graphs(data_grad):
    """With no data gradient the csr dot runs outside the compiled graph (lifted); with one, on dense twins."""
    rng = np.random.RandomState(7)
    x = (rng.rand(6, 9) * (rng.rand(6, 9) < 0.3)).astype(np.float32)
    w, b = rng.randn(9, 4).astype(np.float32), rng.randn(4).astype(np.float32)
    label = rng.randint(0, 4, 6).astype(np.float32)

    def run(symbol, data, weight):
        executor = symbol.simple_bind(mx.cpu(), data=(6, 9), weight=(9, 4), bias=(4,), grad_req={
            "data": data_grad, "weight": "write", "bias": "write", "softmax_label": "null"})
        executor.copy_params_from({"data": data, "weight": weight, "bias": mx.nd.array(b),
                                   "softmax_label": mx.nd.array(label)})
        executor.forward(is_train=True)
        executor.backward()
        return executor
    sparse = run(_linear_symbol(9, 4), mx.nd.array(x).tostype("csr"), mx.nd.array(w))
    plain = mx.sym.SoftmaxOutput(mx.sym.broadcast_add(mx.sym.dot(mx.sym.var("data"), mx.sym.var("weight")),
                                                      mx.sym.var("bias")), name="softmax")
    dense = run(plain, mx.nd.array(x), mx.nd.array(w))
    assert type(dense).__name__ == "Executor" and sparse.grad_dict["weight"].stype == "row_sparse"
    assert bool(sparse._lifted) == (data_grad == "null")
    if data_grad == "write":        # MXNet: the csr data's gradient is dense
        assert sparse.grad_dict["data"].stype == "default"
        tu.assert_almost_equal(sparse.grad_dict["data"], dense.grad_dict["data"], rtol=1e-6, atol=1e-7)
    tu.assert_almost_equal(sparse.outputs[0], dense.outputs[0], rtol=1e-6, atol=1e-7)
    tu.assert_almost_equal(sparse.grad_dict["weight"], dense.grad_dict["weight"], rtol=1e-6, atol=1e-7)
    tu.assert_almost_equal(sparse.grad_dict["bias"], dense.grad_dict["bias"], rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(sparse.grad_dict["weight"].indices.asnumpy(), np.flatnonzero(x.any(axis=0)))


def test_lifted_dot_keeps_a_wide_batch_sparse():
    """A csr batch of 2**22 features against a row_sparse weight: neither is densified (the compiled graph binds
    only the dot's output), and the weight's gradient holds just the rows of the columns the batch stores."""
    features, k = 2 ** 22, 2
    columns = np.array([5, 70000, 4000000])
    data = mx.nd.sparse.csr_matrix((np.array([1.0, 2.0, 3.0], np.float32), columns, np.array([0, 1, 1, 3])),
                                   shape=(3, features))
    weight = mx.nd.sparse.row_sparse_array((np.arange(4, dtype=np.float32).reshape(2, 2), columns[[0, 2]]),
                                           shape=(features, k))
    grad = mx.nd.sparse.zeros("row_sparse", (features, k))
    symbol = mx.sym.sparse.dot(mx.sym.var("data", stype="csr"), mx.sym.var("weight", stype="row_sparse"))
    executor = symbol.bind(mx.cpu(), {"data": data, "weight": weight}, args_grad={"weight": grad},
                           grad_req={"data": "null", "weight": "write"})
    assert set(executor._dense.arg_dict) == {executor._lifted[0].name}      # no dense twin of data or weight
    out = executor.forward(is_train=True)[0]
    tu.assert_almost_equal(out, np.array([[0, 1], [0, 0], [6, 9]], np.float32))
    executor.backward(mx.nd.array([[1, 2], [3, 4], [5, 6]]))
    np.testing.assert_array_equal(grad.indices.asnumpy(), columns)
    tu.assert_almost_equal(grad.data, np.array([[1, 2], [10, 12], [15, 18]], np.float32))


def test_weight_that_is_also_an_output_gets_every_rows_gradient():
    """Its head gradient (ones) reaches every row, so the dot cannot be lifted and the rows are not the csr's."""
    data, weight = mx.nd.sparse.csr_matrix(np.eye(2, 3, dtype=np.float32)), mx.nd.ones((3, 2))
    weight_var = mx.sym.var("weight")
    symbol = mx.sym.Group([mx.sym.sparse.dot(mx.sym.var("data", stype="csr"), weight_var), weight_var])
    grad = mx.nd.sparse.zeros("row_sparse", (3, 2))
    executor = symbol.bind(mx.cpu(), {"data": data, "weight": weight}, args_grad={"weight": grad},
                           grad_req={"data": "null", "weight": "write"})
    assert not executor._lifted
    executor.forward(is_train=True)
    executor.backward()
    tu.assert_almost_equal(grad, np.eye(2, 3).T @ np.ones((2, 2)) + 1)


def test_embedding_sparse_grad_matches_mxnet(values):
    symbol = mx.sym.Embedding(mx.sym.var("i"), input_dim=10, output_dim=4, sparse_grad=True, name="emb")
    executor = symbol.simple_bind(mx.cpu(), grad_req={"i": "null", "emb_weight": "write"}, i=(6,))
    executor.copy_params_from({"i": mx.nd.array(values["emb_idx"]), "emb_weight": mx.nd.array(values["emb_w"])})
    out = executor.forward(is_train=True)[0]
    executor.backward(mx.nd.array(values["emb_head"]))
    tu.assert_almost_equal(out, values["emb_out"])
    grad = executor.grad_dict["emb_weight"]
    np.testing.assert_array_equal(grad.indices.asnumpy(), values["emb_g_indices"])
    tu.assert_almost_equal(grad.data, values["emb_g_data"], rtol=1e-6, atol=1e-6)
    assert [lift.kind for lift in executor._lifted] == ["embedding"]       # its gradient costs the batch only
    executor.forward(is_train=True, i=mx.nd.array([0, 1, 2, 3, 4, 12]))
    with pytest.raises(mx.MXNetError, match="outside"):     # MXNet: "Embedding input contains data out of bound"
        executor.backward(mx.nd.array(values["emb_head"]))


def test_shared_embedding_weight_gets_the_union_of_rows():
    """Two lookups of one weight (not lifted: the compiled graph's dense gradient, stored at both lookups' rows)."""
    weight = mx.sym.var("w")
    out = mx.sym.elemwise_add(mx.sym.Embedding(mx.sym.var("a"), weight, input_dim=8, output_dim=2, sparse_grad=True),
                              mx.sym.Embedding(mx.sym.var("b"), weight, input_dim=8, output_dim=2, sparse_grad=True))
    executor = out.simple_bind(mx.cpu(), a=(3,), b=(3,), w=(8, 2), grad_req={"a": "null", "b": "null", "w": "write"})
    assert not executor._lifted and executor.grad_dict["w"].stype == "row_sparse"
    executor.forward(is_train=True, a=mx.nd.array([1, 5, 1]), b=mx.nd.array([6, 5, 0]), w=mx.nd.ones((8, 2)))
    head = np.arange(6, dtype=np.float32).reshape(3, 2)
    executor.backward(mx.nd.array(head))
    want = np.zeros((8, 2), np.float32)
    for ids in ([1, 5, 1], [6, 5, 0]):
        np.add.at(want, ids, head)
    np.testing.assert_array_equal(executor.grad_dict["w"].indices.asnumpy(), [0, 1, 5, 6])
    tu.assert_almost_equal(executor.grad_dict["w"], want)


def test_sparse_output_and_fallback_warning():
    rng = np.random.RandomState(8)
    x = (rng.rand(5, 3) * (rng.rand(5, 3) < 0.4)).astype(np.float32)
    y = rng.rand(5, 2).astype(np.float32)
    executor = mx.sym.dot(mx.sym.var("d", stype="csr"), mx.sym.var("y"), transpose_a=True).bind(
        mx.cpu(), {"d": mx.nd.array(x).tostype("csr"), "y": mx.nd.array(y)})
    out = executor.forward()[0]
    assert out.stype == "row_sparse"
    tu.assert_almost_equal(out, x.T @ y, rtol=1e-5, atol=1e-6)
    executor = mx.sym.log1p(mx.sym.exp(mx.sym.var("r", stype="row_sparse"))).simple_bind(mx.cpu(), r=(4, 2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        executor.forward()
        executor.forward()
    messages = [str(w.message) for w in caught if issubclass(w.category, StorageFallbackWarning)]
    assert len(messages) <= 1 and all("operator = exp\n" in m for m in messages)     # once per distinct message
    tu.assert_almost_equal(executor.outputs[0], np.full((4, 2), np.log(2.0), np.float32))


def test_sparse_bind_errors():
    symbol = _linear_symbol(5, 2)
    with pytest.raises(mx.MXNetError, match="grad_req 'add'"):
        symbol.simple_bind(mx.cpu(), grad_req="add", data=(3, 5))
    executor = symbol.simple_bind(mx.cpu(), data=(3, 5))
    with pytest.raises(mx.MXNetError, match="not an argument"):
        executor.forward(nothing=mx.nd.zeros((1,)))
    with pytest.raises(mx.MXNetError, match="shape"):
        executor.forward(data=mx.nd.sparse.zeros("csr", (4, 5)))


def test_reshape_keeps_sparse_storage():
    symbol = _linear_symbol(5, 2)
    executor = symbol.simple_bind(mx.cpu(), data=(4, 5))
    smaller = executor.reshape(data=(2, 5), softmax_label=(2,))
    assert smaller.arg_dict["data"].stype == "csr" and smaller.arg_dict["weight"] is executor.arg_dict["weight"]
    assert smaller.grad_dict["weight"] is executor.grad_dict["weight"]
    smaller.copy_params_from({"weight": mx.nd.ones((5, 2))})
    data = np.array([[0, 2, 0, 0, 0], [0, 0, 0, 1, 0]], np.float32)
    out = smaller.forward(is_train=True, data=mx.nd.sparse.csr_matrix(data))[0]
    tu.assert_almost_equal(out, np.full((2, 2), 0.5, np.float32))    # equal scores: softmax of equal values
    smaller.backward()
    np.testing.assert_array_equal(smaller.grad_dict["weight"].indices.asnumpy(), [1, 3])


def test_sym_sparse_namespace():
    assert mx.sym.sparse.dot is mx.sym.dot and mx.symbol.sparse.Embedding is mx.sym.Embedding
    assert {"dot", "elemwise_add", "square", "sum", "retain", "cast_storage"} <= set(mx.sym.sparse.__all__)
    assert mx.sym.sparse.cast_storage is mx.sym.cast_storage
    node = mx.sym.sparse.retain(mx.sym.var("x"), mx.sym.var("i"))._outputs[0].node
    assert node.op.name == "_sparse_retain"


# -- Module: MXNet's sparse linear classification --------------------------------------------------------------------

@pytest.mark.parametrize("with_store", [False, True])
def test_module_steps_match_mxnet(values, with_store, tmp_path):
    """4 steps of the linear model: kvstore 'local' (no store on one device), and MXNet's example's way: a KVStore
    object runs the updates, the batch's weight rows are pulled before each step and every row at the end."""
    x, label = values["mod_x"], values["mod_label"]
    f, k = values["mod_w0"].shape
    batch = 10
    store = mx.kv.create("local") if with_store else "local"
    module = mx.mod.Module(_linear_symbol(f, k), data_names=["data"], label_names=["softmax_label"])
    module.bind(data_shapes=[("data", (batch, f))], label_shapes=[("softmax_label", (batch,))])
    assert module._exec.arg_dict["weight"].stype == "row_sparse"
    module.init_params(arg_params={"weight": mx.nd.array(values["mod_w0"]).tostype("row_sparse"),
                                   "bias": mx.nd.array(values["mod_b0"])})
    module.init_optimizer(kvstore=store, optimizer="sgd", optimizer_params={"learning_rate": 0.5, "wd": 0.01})
    weight = module._exec_group.param_arrays[module._exec_group.param_names.index("weight")]
    for start in range(0, len(x), batch):
        data = mx.nd.array(x[start:start + batch]).tostype("csr")
        if with_store:
            store.row_sparse_pull("weight", weight, row_ids=[data.indices])
        module.forward_backward(mx.io.DataBatch([data], [mx.nd.array(label[start:start + batch])]))
        module.update()
    if with_store:
        store.row_sparse_pull("weight", weight, row_ids=[mx.nd.arange(0, f, dtype="int64")])
    args, _ = module.get_params()
    states = os.path.join(str(tmp_path), "states")
    module.save_optimizer_states(states)        # the store's optimizer's, with a KVStore object
    module.load_optimizer_states(states)        # a store keeps its states by name: they load back
    again = os.path.join(str(tmp_path), "again")
    module.save_optimizer_states(again)
    with open(states, "rb") as first, open(again, "rb") as second:
        assert first.read() == second.read()
    prefix = "modkv" if with_store else "mod"
    tu.assert_almost_equal(args["weight"], values[prefix + "_w"], rtol=1e-5, atol=1e-6)
    tu.assert_almost_equal(args["bias"], values[prefix + "_b"], rtol=1e-5, atol=1e-6)


def test_module_prepare_pulls_rows_from_the_store():
    store = mx.kv.create("local")
    module = mx.mod.Module(_linear_symbol(6, 2), data_names=["data"], label_names=["softmax_label"])
    module.bind(data_shapes=[("data", (2, 6))], label_shapes=[("softmax_label", (2,))])
    module.init_params(arg_params={"weight": mx.nd.array(np.arange(12).reshape(6, 2)), "bias": mx.nd.zeros(2)})
    module.init_optimizer(kvstore=store, optimizer="sgd")
    batch = mx.io.DataBatch([mx.nd.sparse.csr_matrix(np.eye(2, 6, 3, dtype=np.float32))], [mx.nd.zeros(2)])
    weight = module._exec.arg_dict["weight"]
    weight[:] = mx.nd.zeros((6, 2)).tostype("row_sparse")
    module.prepare(batch, sparse_row_id_fn=lambda b: {"weight": b.data[0].indices})
    np.testing.assert_array_equal(weight.indices.asnumpy(), [3, 4])
    tu.assert_almost_equal(weight.data, np.array([[6, 7], [8, 9]], np.float32))
    plain = mx.mod.Module(_linear_symbol(6, 2), data_names=["data"], label_names=["softmax_label"])
    plain.bind(data_shapes=[("data", (2, 6))], label_shapes=[("softmax_label", (2,))])
    plain.init_params()
    plain.init_optimizer(kvstore="local")
    with pytest.warns(UserWarning, match="not updated in the KVStore"):
        plain.prepare(batch, sparse_row_id_fn=lambda b: {"weight": b.data[0].indices})


def test_module_fit_on_libsvm_reaches_accuracy(tmp_path):
    rng = np.random.RandomState(0)
    n, f, k = 300, 40, 2
    true_w = rng.randn(f, k)
    lines = []
    for _ in range(n):
        cols = np.sort(rng.choice(f, 5, replace=False))
        vals = rng.rand(5)
        row = np.zeros(f)
        row[cols] = vals
        lines.append("%d %s" % (int(np.argmax(row @ true_w)), " ".join("%d:%g" % cv for cv in zip(cols, vals))))
    path = tmp_path / "train.libsvm"
    path.write_text("\n".join(lines) + "\n")
    train = mx.io.LibSVMIter(data_libsvm=str(path), data_shape=(f,), batch_size=20)
    module = mx.mod.Module(_linear_symbol(f, k), data_names=["data"], label_names=["softmax_label"])
    mx.random.seed(1)
    module.fit(train, num_epoch=25, optimizer="sgd", optimizer_params={"learning_rate": 1.0}, kvstore="local",
               initializer=mx.init.Normal(0.01))
    train.reset()
    accuracy = dict(module.score(train, "acc"))["accuracy"]
    assert accuracy >= 0.93, accuracy       # a separable linear problem; chance is about 0.5



@pytest.mark.parametrize("value", ["None", "(1,)", "3"])
def test_an_unknown_storage_type_attr_is_a_clear_error(value):
    """A variable's `__storage_type__` that is no MXNet storage type (a corrupted file) is an MXNetError naming it."""
    text = mx.sym.var("x", stype="csr").tojson().replace('"__storage_type__": "2"', '"__storage_type__": "%s"' % value)
    with pytest.raises(mx.base.MXNetError, match="variable 'x': unknown __storage_type__"):
        mx.sym.load_json(text).simple_bind(mx.cpu(), x=(2, 3))
