"""Record MXNet 1.9.1's sparse Symbol side for tests/test_sparse_symbol.py: the storage types simple_bind gives
arguments, gradients and outputs; a bound sparse linear model's forward and gradients (csr data, row_sparse
weight: MXNet's sparse linear classification example); an Embedding(sparse_grad=True) gradient; and a few Module
training steps (forward_backward + update with sgd, lazy updates on the row_sparse gradient); and, for
tests/test_sparse_graph_ops.py, bound graphs of retain, _square_sum and SparseEmbedding.

Run with the oracle: MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/sparse_symbol_fixtures.py
Writes tests/fixtures/mxnet-1.9.1/sparse_symbol/ (see the README there).
"""
import json
import os

import mxnet as mx
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "mxnet-1.9.1",
                   "sparse_symbol")
rng = np.random.RandomState(22)


def stypes_of(executor):
    return {"args": {k: v.stype for k, v in executor.arg_dict.items()},
            "grads": {k: (None if v is None else v.stype) for k, v in executor.grad_dict.items()},
            "outputs": [o.stype for o in executor.outputs]}


# -- storage types of simple_bind (each case: the symbol built from a short expression, and its shapes) -------------
# `d` csr data (4, 6), `w` row_sparse weight, `v` a dense variable, `x`/`y` row_sparse (4, 3), `i` indices (4,)
BIND_CASES = {
    "dot_csr_rsp": ("mx.sym.sparse.dot(d, w)", {"d": (4, 6), "w": (6, 3)}),
    "dot_csr_dense": ("mx.sym.dot(d, v)", {"d": (4, 6), "v": (6, 3)}),
    "dot_csr_dense_stype_dict": ("mx.sym.dot(d, v)", {"d": (4, 6), "v": (6, 3), "stype_dict": {"v": "row_sparse"}}),
    "dot_csrT_dense": ("mx.sym.dot(d, v, transpose_a=True)", {"d": (4, 6), "v": (4, 3)}),
    "add_rsp_rsp": ("mx.sym.elemwise_add(x, y)", {"x": (4, 3), "y": (4, 3)}),
    "mul_rsp_dense": ("mx.sym.elemwise_mul(x, mx.sym.var('z'))", {"x": (4, 3), "z": (4, 3)}),
    "exp_rsp": ("mx.sym.exp(x)", {"x": (4, 3)}),
    "square_rsp": ("mx.sym.square(x)", {"x": (4, 3)}),
    "sum_csr": ("mx.sym.sum(d, axis=0)", {"d": (4, 6)}),
    "embedding_sparse_grad": ("mx.sym.Embedding(i, input_dim=10, output_dim=3, sparse_grad=True, name='emb')",
                              {"i": (4,)}),
    "embedding_dense_grad": ("mx.sym.Embedding(i, input_dim=10, output_dim=3, name='emb')", {"i": (4,)}),
    "dot_weight_also_output": ("mx.sym.Group([mx.sym.dot(d, v), v])", {"d": (4, 6), "v": (6, 3)}),
    "linear": ("mx.sym.SoftmaxOutput(mx.sym.broadcast_add(mx.sym.sparse.dot(d, w), mx.sym.var('b')), name='sm')",
               {"d": (4, 6), "w": (6, 3), "b": (3,), "sm_label": (4,)}),
}

ZERO_PRESERVING = ("abs", "sign", "sqrt", "square", "relu", "sin", "tanh", "negative", "log1p", "expm1", "floor",
                   "ceil", "rint", "round", "trunc", "fix", "arcsin", "arctan", "sinh", "arcsinh", "arctanh", "tan",
                   "radians", "degrees", "cbrt")
for _name in ZERO_PRESERVING:
    BIND_CASES["unary_%s_rsp" % _name] = ("mx.sym.%s(x)" % _name, {"x": (4, 3)})
    BIND_CASES["unary_%s_csr" % _name] = ("mx.sym.%s(d)" % _name, {"d": (4, 6)})
for _name in ("elemwise_add", "elemwise_sub", "elemwise_mul"):
    BIND_CASES["%s_rsp" % _name] = ("mx.sym.%s(x, y)" % _name, {"x": (4, 3), "y": (4, 3)})
    BIND_CASES["%s_csr" % _name] = ("mx.sym.%s(d, mx.sym.var('e', stype='csr'))" % _name, {"d": (4, 6), "e": (4, 6)})
BIND_CASES["mul_scalar_rsp"] = ("x * 2", {"x": (4, 3)})
BIND_CASES["add_n_rsp"] = ("mx.sym.add_n(x, y)", {"x": (4, 3), "y": (4, 3)})
# the sparse-only ops in graphs (not retain: MXNet cannot simple_bind it with a gradient, see sparse_only_ops), and
# the binary ops with f(0, 0) == 0
BIND_CASES.update({
    "square_sum_rsp_axis1_keepdims": ("mx.sym._internal._square_sum(x, axis=1, keepdims=True)", {"x": (4, 3)}),
    "square_sum_rsp_axis1": ("mx.sym._internal._square_sum(x, axis=1)", {"x": (4, 3)}),
    "square_sum_rsp_axis0": ("mx.sym._internal._square_sum(x, axis=0)", {"x": (4, 3)}),
    "cast_storage_rsp_default": ("mx.sym.cast_storage(x, stype='default')", {"x": (4, 3)}),
    "cast_storage_dense_csr": ("mx.sym.cast_storage(v, stype='csr')", {"v": (4, 6)}),
    "cast_storage_dense_rsp": ("mx.sym.sparse.cast_storage(v, stype='row_sparse')", {"v": (4, 6)}),
    "cast_storage_csr_default": ("mx.sym.cast_storage(d, stype='default')", {"d": (4, 6)}),
    "maximum_rsp": ("mx.sym._internal._maximum(x, y)", {"x": (4, 3), "y": (4, 3)}),
    "minimum_csr": ("mx.sym._internal._minimum(d, mx.sym.var('e', stype='csr'))", {"d": (4, 6), "e": (4, 6)}),
    "hypot_rsp": ("mx.sym._internal._hypot(x, y)", {"x": (4, 3), "y": (4, 3)}),
    "maximum_rsp_dense": ("mx.sym._internal._maximum(x, mx.sym.var('z'))", {"x": (4, 3), "z": (4, 3)}),
    "sparse_embedding": ("mx.sym.contrib.SparseEmbedding(i, input_dim=10, output_dim=3, name='emb')", {"i": (4,)}),
})


def variables():
    return {"d": mx.sym.var("d", stype="csr"), "w": mx.sym.var("w", stype="row_sparse"), "v": mx.sym.var("v"),
            "x": mx.sym.var("x", stype="row_sparse"), "y": mx.sym.var("y", stype="row_sparse"),
            "i": mx.sym.var("i")}


def bind_stypes():
    result = {}
    for name, (expression, shapes) in BIND_CASES.items():
        shapes = dict(shapes)
        stype_dict = shapes.pop("stype_dict", None)
        symbol = eval(expression, {"mx": mx}, variables())
        result[name] = stypes_of(symbol.simple_bind(mx.cpu(), stype_dict=stype_dict, **shapes))
    return result


# -- a bound sparse linear model -------------------------------------------------------------------------------------
def csr_batch(rows, cols, per_row):
    dense = np.zeros((rows, cols), np.float32)
    for r in range(rows):
        if r % 5 == 3:
            continue        # an empty row
        dense[r, rng.choice(cols, per_row, replace=False)] = rng.rand(per_row) + 0.5
    return dense


def linear_symbol(num_features, num_classes):
    data = mx.sym.var("data", stype="csr")
    weight = mx.sym.var("weight", stype="row_sparse", shape=(num_features, num_classes))
    bias = mx.sym.var("bias", shape=(num_classes,))
    return mx.sym.SoftmaxOutput(mx.sym.broadcast_add(mx.sym.sparse.dot(data, weight), bias), name="softmax")


def bound_linear(arrays):
    n, f, k = 8, 12, 3
    x = csr_batch(n, f, 3)
    w = rng.randn(f, k).astype(np.float32)
    w[[2, 7]] = 0       # rows the weight does not store
    b = rng.randn(k).astype(np.float32)
    label = rng.randint(0, k, n).astype(np.float32)
    arrays.update(lin_x=x, lin_w=w, lin_b=b, lin_label=label)
    executor = linear_symbol(f, k).bind(
        mx.cpu(), {"data": mx.nd.array(x).tostype("csr"), "weight": mx.nd.array(w).tostype("row_sparse"),
                   "bias": mx.nd.array(b), "softmax_label": mx.nd.array(label)},
        args_grad={"weight": mx.nd.sparse.zeros("row_sparse", (f, k)), "bias": mx.nd.zeros((k,))},
        grad_req={"weight": "write", "bias": "write", "data": "null", "softmax_label": "null"})
    out = executor.forward(is_train=True)[0].asnumpy()
    executor.backward()
    gw = executor.grad_dict["weight"]
    arrays.update(lin_out=out, lin_gw_indices=gw.indices.asnumpy(), lin_gw_data=gw.data.asnumpy(),
                  lin_gb=executor.grad_dict["bias"].asnumpy())


def embedding(arrays):
    idx = np.array([3, 1, 3, 8, 1, 9], np.float32)
    w = rng.randn(10, 4).astype(np.float32)
    head = rng.randn(6, 4).astype(np.float32)
    symbol = mx.sym.Embedding(mx.sym.var("i"), input_dim=10, output_dim=4, sparse_grad=True, name="emb")
    executor = symbol.simple_bind(mx.cpu(), grad_req={"i": "null", "emb_weight": "write"}, i=(6,))
    executor.copy_params_from({"i": mx.nd.array(idx), "emb_weight": mx.nd.array(w)})
    out = executor.forward(is_train=True)[0].asnumpy()
    executor.backward(mx.nd.array(head))
    g = executor.grad_dict["emb_weight"]
    arrays.update(emb_idx=idx, emb_w=w, emb_head=head, emb_out=out, emb_g_indices=g.indices.asnumpy(),
                  emb_g_data=g.data.asnumpy())


def sparse_only_ops(arrays):
    """Bound graphs of `retain`, `_square_sum` and SparseEmbedding: outputs (dense values, stored rows) and the
    gradients of their inputs (not retain's: MXNet 1.9.1 cannot bind it with a gradient, `_backward_sparse_retain`
    has no kernel for the row_sparse head gradient its row_sparse output gets)."""
    x = np.zeros((6, 3), np.float32)
    x[[0, 2, 5]] = rng.randn(3, 3)
    keep = np.array([2, 3, 5], np.float32)
    arrays.update(ret_x=x, ret_keep=keep)
    xs = mx.sym.var("x", stype="row_sparse")
    executor = mx.sym.sparse.retain(xs, mx.sym.var("keep")).bind(
        mx.cpu(), {"x": mx.nd.array(x).tostype("row_sparse"), "keep": mx.nd.array(keep)})
    out = executor.forward()[0]
    arrays.update(ret_out=out.asnumpy(), ret_out_indices=out.indices.asnumpy())
    for axis, keepdims in ((1, True), (0, False)):
        tag = "sq%d%s" % (axis, "k" if keepdims else "")
        executor = mx.sym._internal._square_sum(xs, axis=axis, keepdims=keepdims).bind(
            mx.cpu(), {"x": mx.nd.array(x).tostype("row_sparse")},
            args_grad={"x": mx.nd.sparse.zeros("row_sparse", (6, 3))})
        out = executor.forward(is_train=True)[0]
        shead = rng.randn(*out.shape).astype(np.float32)
        if axis == 1:       # MXNet's row_sparse head gradient must store exactly the input's rows
            shead[[1, 3, 4]] = 0
        executor.backward(mx.nd.array(shead).tostype(out.stype))
        g = executor.grad_dict["x"]
        arrays.update({tag + "_out": out.asnumpy(), tag + "_out_stype": np.array(out.stype), tag + "_head": shead,
                       tag + "_g": g.asnumpy(), tag + "_g_indices": g.indices.asnumpy()})
    idx = np.array([4, 0, 4, 7], np.float32)
    w = rng.randn(8, 2).astype(np.float32)
    ehead = rng.randn(4, 2).astype(np.float32)
    symbol = mx.sym.contrib.SparseEmbedding(mx.sym.var("i"), input_dim=8, output_dim=2, name="semb")
    executor = symbol.simple_bind(mx.cpu(), grad_req={"i": "null", "semb_weight": "write"}, i=(4,))
    executor.copy_params_from({"i": mx.nd.array(idx), "semb_weight": mx.nd.array(w)})
    out = executor.forward(is_train=True)[0].asnumpy()
    executor.backward(mx.nd.array(ehead))
    g = executor.grad_dict["semb_weight"]
    arrays.update(semb_idx=idx, semb_w=w, semb_head=ehead, semb_out=out, semb_g_stype=np.array(g.stype),
                  semb_g_indices=g.indices.asnumpy(), semb_g_data=g.data.asnumpy())


def module_steps(arrays):
    """Module with MXNet's linear classification shape: 4 batches of forward_backward + update (sgd, momentum 0,
    wd), from given parameters; the final parameters. Twice: with kvstore 'local' (a name: no store on one
    device), and as MXNet's example/sparse/linear_classification/train.py does it, with a KVStore object (the
    updates run in the store) and the batch's weight rows pulled (`row_sparse_pull`) before each step, every row
    at the end."""
    n, f, k, batch = 40, 30, 2, 10
    x = csr_batch(n, f, 4)
    label = rng.randint(0, k, n).astype(np.float32)
    w = (rng.randn(f, k) * 0.1).astype(np.float32)
    b = np.zeros(k, np.float32)
    arrays.update(mod_x=x, mod_label=label, mod_w0=w, mod_b0=b)
    for prefix, store in (("mod", "local"), ("modkv", mx.kv.create("local"))):
        module = mx.mod.Module(linear_symbol(f, k), data_names=["data"], label_names=["softmax_label"])
        module.bind(data_shapes=[("data", (batch, f))], label_shapes=[("softmax_label", (batch,))])
        module.init_params(arg_params={"weight": mx.nd.array(w).tostype("row_sparse"), "bias": mx.nd.array(b)})
        module.init_optimizer(kvstore=store, optimizer="sgd", optimizer_params={"learning_rate": 0.5, "wd": 0.01})
        weight = module._exec_group.param_arrays[module._exec_group.param_names.index("weight")]
        for start in range(0, n, batch):
            data = mx.nd.array(x[start:start + batch]).tostype("csr")
            if prefix == "modkv":
                store.row_sparse_pull("weight", weight, row_ids=[data.indices])
            module.forward_backward(mx.io.DataBatch([data], [mx.nd.array(label[start:start + batch])]))
            module.update()
        if prefix == "modkv":
            store.row_sparse_pull("weight", weight, row_ids=[mx.nd.arange(0, f, dtype="int64")])
        args, _ = module.get_params()
        arrays[prefix + "_w"], arrays[prefix + "_b"] = args["weight"].asnumpy(), args["bias"].asnumpy()


def main():
    os.makedirs(OUT, exist_ok=True)
    arrays = {}
    bound_linear(arrays)
    embedding(arrays)
    module_steps(arrays)
    sparse_only_ops(arrays)
    np.savez(os.path.join(OUT, "values.npz"), **arrays)
    stypes = bind_stypes()
    with open(os.path.join(OUT, "stypes.json"), "w") as f:
        json.dump({"cases": {k: list(v) for k, v in BIND_CASES.items()}, "stypes": stypes}, f, indent=1,
                  sort_keys=True)


if __name__ == "__main__":
    main()
