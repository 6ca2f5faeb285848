"""Record MXNet 1.9.1's sparse ops (mx.nd.sparse.*) for tests/test_sparse_ops.py.

Run with the oracle: MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/sparse_ops_fixtures.py
Writes tests/fixtures/mxnet-1.9.1/sparse_ops/{cases.json, arrays.npz, libsvm.json}.

Each case is a Python expression over the inputs x0, x1, ... (each given as a dense array and a storage type) and
the namespaces `nd` (mx.nd) and `S` (mx.nd.sparse); the test evaluates the same expression with dataflow. Recorded:
the output's storage type, its dense value, its aux arrays (row_sparse indices; csr indices and indptr), or the
error's first line.
"""
import json
import os
import sys
import warnings

import numpy as np

import mxnet as mx

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "sparse_ops")
rs = np.random.RandomState(22)


def sparse_values(shape, density):
    values = rs.uniform(-2, 2, shape).astype(np.float32)
    mask = rs.rand(*shape[:1] if len(shape) and density < 0 else shape) < abs(density)
    return values * mask


def rowwise(shape, density):
    """Whole rows zero or not (a typical row_sparse value)."""
    rows = rs.rand(shape[0]) < density
    return (rs.uniform(-2, 2, shape) * rows.reshape((-1,) + (1,) * (len(shape) - 1))).astype(np.float32)


M, K, N = 6, 7, 3
A, A2 = sparse_values((M, K), 0.35), sparse_values((M, K), 0.35)
R, R2 = rowwise((M, K), 0.5), rowwise((M, K), 0.5)
EMPTY, FULL = np.zeros((M, K), np.float32), rs.uniform(0.5, 2, (M, K)).astype(np.float32)
D = rs.uniform(-1, 1, (M, K)).astype(np.float32)
B_KN, B_MN, B_NK, B_NM = (rs.uniform(-1, 1, s).astype(np.float32) for s in ((K, N), (M, N), (N, K), (N, M)))
R_KN, R_MN = rowwise((K, N), 0.5), rowwise((M, N), 0.5)
COL, ROW = rs.uniform(0.5, 2, (M, 1)).astype(np.float32), rs.uniform(0.5, 2, (1, K)).astype(np.float32)

CASES = [
    # dot
    ("dot_csr_dense", "S.dot(x0, x1)", [("csr", A), ("default", B_KN)]),
    ("dot_csrT_dense", "S.dot(x0, x1, transpose_a=True)", [("csr", A), ("default", B_MN)]),
    ("dot_csr_rsp", "S.dot(x0, x1)", [("csr", A), ("row_sparse", R_KN)]),
    ("dot_csrT_rsp", "S.dot(x0, x1, transpose_a=True)", [("csr", A), ("row_sparse", R_MN)]),
    ("dot_dense_csr", "S.dot(x0, x1)", [("default", B_NM), ("csr", A)]),
    ("dot_dense_csrT", "S.dot(x0, x1, transpose_b=True)", [("default", B_NK), ("csr", A)]),
    ("dot_dense_csr_fwd_default", "S.dot(x0, x1, forward_stype='default')", [("default", B_NM), ("csr", A)]),
    ("dot_rsp_dense", "S.dot(x0, x1)", [("row_sparse", R), ("default", B_KN)]),
    ("dot_rspT_dense", "S.dot(x0, x1, transpose_a=True)", [("row_sparse", R), ("default", B_MN)]),
    ("dot_dense_rsp", "S.dot(x0, x1)", [("default", B_NM), ("row_sparse", R)]),
    ("dot_csr_denseT", "S.dot(x0, x1, transpose_b=True)", [("csr", A), ("default", B_NK)]),
    ("dot_csr_dense_fwd_csr", "S.dot(x0, x1, forward_stype='csr')", [("csr", A), ("default", B_KN)]),
    ("dot_empty_csr", "S.dot(x0, x1)", [("csr", EMPTY), ("default", B_KN)]),
    ("dot_emptyT_csr", "S.dot(x0, x1, transpose_a=True)", [("csr", EMPTY), ("default", B_MN)]),
    ("dot_full_csrT", "S.dot(x0, x1, transpose_a=True)", [("csr", FULL), ("default", B_MN)]),
    ("nd_dot_csr_dense", "nd.dot(x0, x1)", [("csr", A), ("default", B_KN)]),
    ("nd_dot_csrT_dense", "nd.dot(x0, x1, transpose_a=True)", [("csr", A), ("default", B_MN)]),
    ("dot_shape_error", "S.dot(x0, x1)", [("csr", A), ("default", B_MN)]),
    # reductions
    ("sum_csr", "S.sum(x0)", [("csr", A)]),
    ("sum_csr_0", "S.sum(x0, axis=0)", [("csr", A)]),
    ("sum_csr_1_keep", "S.sum(x0, axis=1, keepdims=True)", [("csr", A)]),
    ("mean_csr_0", "S.mean(x0, axis=0)", [("csr", A)]),
    ("mean_csr_1", "S.mean(x0, axis=1)", [("csr", A)]),
    ("sum_rsp_0", "S.sum(x0, axis=0)", [("row_sparse", R)]),
    ("sum_rsp_1", "S.sum(x0, axis=1)", [("row_sparse", R)]),
    ("norm_csr", "S.norm(x0)", [("csr", A)]),
    ("norm_rsp", "S.norm(x0)", [("row_sparse", R)]),
    ("square_sum_rsp_0", "nd._internal._square_sum(x0, axis=0)", [("row_sparse", R)]),
    ("square_sum_rsp_1", "nd._internal._square_sum(x0, axis=1)", [("row_sparse", R)]),
    ("square_sum_rsp_1_keep", "nd._internal._square_sum(x0, axis=1, keepdims=True)", [("row_sparse", R)]),
    ("square_sum_rsp_0_keep", "nd._internal._square_sum(x0, axis=0, keepdims=True)", [("row_sparse", R)]),
    # structure
    ("retain", "S.retain(x0, nd.array([0, 2, 3, 5], dtype='int64'))", [("row_sparse", R)]),
    ("slice_csr_rows", "S.slice(x0, begin=(1,), end=(4,))", [("csr", A)]),
    ("slice_csr_2d", "S.slice(x0, begin=(1, 2), end=(5, 6))", [("csr", A)]),
    ("cast_dense_csr", "S.cast_storage(x0, 'csr')", [("default", A)]),
    ("cast_dense_rsp", "S.cast_storage(x0, 'row_sparse')", [("default", R)]),
    ("cast_csr_dense", "S.cast_storage(x0, 'default')", [("csr", A)]),
    ("cast_csr_rsp_error", "S.cast_storage(x0, 'row_sparse')", [("csr", A)]),
    ("mean_csr", "S.mean(x0)", [("csr", A)]),
    ("sum_csr_exclude", "S.sum(x0, axis=0, exclude=True)", [("csr", A)]),
    ("sum_csr_neg_axis", "S.sum(x0, axis=-1)", [("csr", A)]),
    ("zeros_like_rsp", "S.zeros_like(x0)", [("row_sparse", R)]),
    ("zeros_like_csr", "S.zeros_like(x0)", [("csr", A)]),
    ("clip_rsp", "S.clip(x0, -0.5, 0.5)", [("row_sparse", R)]),
    ("clip_csr", "S.clip(x0, -0.5, 0.5)", [("csr", A)]),
    ("add_n_rsp", "S.add_n(x0, x1, x0)", [("row_sparse", R), ("row_sparse", R2)]),
    ("where_csr", "S.where(x0, x1, x2)", [("csr", A), ("default", D), ("default", FULL)]),
    ("fc_csr", "nd.FullyConnected(x0, x1, x2, num_hidden=3)", [("csr", A), ("default", B_NK),
                                                               ("default", B_KN[:, 0].copy()[:3])]),
    ("fc_csr_sparse_ns", "S.FullyConnected(x0, x1, x2, num_hidden=3)", [("csr", A), ("default", B_NK),
                                                                        ("default", B_KN[:, 0].copy()[:3])]),
    # scalars and operators
    ("rsp_times_2", "x0 * 2", [("row_sparse", R)]),
    ("csr_div_2", "x0 / 2", [("csr", A)]),
    ("rsp_plus_1", "x0 + 1", [("row_sparse", R)]),
    ("csr_plus_csr_op", "x0 + x1", [("csr", A), ("csr", A2)]),
    ("rsp_minus_rsp_op", "x0 - x1", [("row_sparse", R), ("row_sparse", R2)]),
    ("csr_plus_dense_op", "x0 + x1", [("csr", A), ("default", D)]),
    ("rsp_times_dense_op", "x0 * x1", [("row_sparse", R), ("default", D)]),
]
for op in ("elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div", "add", "subtract", "multiply", "divide"):
    for tag, pair in (("rr", [("row_sparse", R), ("row_sparse", R2)]), ("cc", [("csr", A), ("csr", A2)]),
                      ("rd", [("row_sparse", R), ("default", D)]), ("dr", [("default", D), ("row_sparse", R)]),
                      ("cd", [("csr", A), ("default", D)]), ("dc", [("default", D), ("csr", A)]),
                      ("rc", [("row_sparse", R), ("csr", A)])):
        if op.endswith("div") or op == "divide":
            pair = [(s, FULL if s == "default" else v) for s, v in pair]
        CASES.append(("%s_%s" % (op, tag), "S.%s(x0, x1)" % op, pair))
for op in ("multiply", "divide", "add"):
    CASES.append(("%s_csr_col" % op, "S.%s(x0, x1)" % op, [("csr", A), ("default", COL)]))
    CASES.append(("%s_csr_row" % op, "S.%s(x0, x1)" % op, [("csr", A), ("default", ROW)]))
    CASES.append(("%s_rsp_row" % op, "S.%s(x0, x1)" % op, [("row_sparse", R), ("default", ROW)]))
CASES.append(("broadcast_mul_csr_row", "S.broadcast_mul(x0, x1)", [("csr", A), ("default", ROW)]))
for op in ("broadcast_mul", "broadcast_div", "broadcast_add"):
    for tag, pair in (("rr", [("row_sparse", R), ("row_sparse", R2)]), ("cc", [("csr", A), ("csr", A2)]),
                      ("rd", [("row_sparse", R), ("default", FULL)]), ("dr", [("default", D), ("row_sparse", R)]),
                      ("cd", [("csr", A), ("default", FULL)]), ("dc", [("default", D), ("csr", A)])):
        if op != "broadcast_div" or tag[1] == "d":
            CASES.append(("%s_%s" % (op, tag), "S.%s(x0, x1)" % op, pair))
CASES.append(("broadcast_div_csr_col", "S.broadcast_div(x0, x1)", [("csr", A), ("default", COL)]))
CASES.append(("elemwise_add_shape_error", "S.elemwise_add(x0, x1)", [("csr", A), ("csr", A[:, :5].copy())]))
for name in ("abs", "sign", "sqrt", "square", "relu", "sin", "tanh", "negative", "log1p", "expm1", "floor", "ceil",
             "rint", "round", "trunc", "fix", "arcsin", "arctan", "sinh", "arcsinh", "arctanh", "tan", "radians",
             "degrees", "cbrt", "exp", "cos", "sigmoid", "log"):
    value = np.abs(R) / 3 if name in ("sqrt", "log1p", "arcsin", "arctanh", "log") else R
    CASES.append(("%s_rsp" % name, "S.%s(x0)" % name, [("row_sparse", value)]))
    value = np.abs(A) / 3 if name in ("sqrt", "log1p", "arcsin", "arctanh", "log") else A
    CASES.append(("%s_csr" % name, "S.%s(x0)" % name, [("csr", value)]))

# issue 22 conformance (MXNet's own test_sparse_ndarray.py): scalar comparisons keep the sparse storage type when
# op(0, scalar) is 0; take(csr) along axis 0; contrib.getnnz; FullyConnected's (num_hidden, 1) bias
for tag, stype, value in (("csr", "csr", A), ("rsp", "row_sparse", R)):
    for op_tag, op in (("eq", "=="), ("ne", "!="), ("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
        for scalar in (0, 1, -0.5):
            CASES.append(("cmp_%s_%s_%s" % (tag, op_tag, scalar), "x0 %s %r" % (op, scalar), [(stype, value)]))
    CASES.append(("cmp_%s_scalar_gt_x" % tag, "0 > x0", [(stype, value)]))
    CASES.append(("cmp_%s_scalar_eq_x" % tag, "1 == x0", [(stype, value)]))
TAKE_IDX = "nd.array([0, 5, 2, 2, -1, 9, -8])"
for mode in ("clip", "wrap"):
    CASES.append(("take_csr_%s" % mode, "nd.take(x0, %s, mode=%r)" % (TAKE_IDX, mode), [("csr", A)]))
CASES.append(("take_csr_int32", "nd.take(x0, nd.array([3, 0, 3]), mode='clip')",
              [("csr", np.round(A * 3).astype(np.int32))]))
CASES.append(("take_csr_empty", "nd.take(x0, nd.array([1, 4]), mode='clip')", [("csr", EMPTY)]))
CASES.append(("take_csr_raise", "nd.take(x0, nd.array([1, 4]), mode='raise')", [("csr", A)]))
CASES.append(("take_csr_axis1", "nd.take(x0, nd.array([1, 4]), axis=1, mode='clip')", [("csr", A)]))
for axis in (None, 1, 0):
    CASES.append(("getnnz_csr_%s" % axis, "nd.contrib.getnnz(x0, axis=%r)" % axis, [("csr", A)]))
CASES.append(("getnnz_csr_empty", "nd.contrib.getnnz(x0, axis=1)", [("csr", EMPTY)]))
for op in ("_maximum", "_minimum", "_hypot"):
    for tag, pair in (("rr", [("row_sparse", R), ("row_sparse", R2)]), ("cc", [("csr", A), ("csr", A2)]),
                      ("rd", [("row_sparse", R), ("default", D)]), ("cr", [("csr", A), ("row_sparse", R)])):
        CASES.append(("%s_%s" % (op[1:], tag), "nd._internal.%s(x0, x1)" % op, pair))
for tag, pair in (("rr", [("row_sparse", R), ("row_sparse", R2)]), ("rd", [("row_sparse", R), ("default", FULL)]),
                  ("rc", [("row_sparse", R), ("csr", A)]), ("cc", [("csr", A), ("csr", A2)]),
                  ("dd", [("default", D), ("default", FULL)])):
    CASES.append(("scatter_div_%s" % tag, "nd._internal._scatter_elemwise_div(x0, x1)", pair))
for op in ("plus", "minus"):
    for tag, pair in (("rsp", [("row_sparse", R)]), ("csr", [("csr", A)]), ("dense", [("default", D)])):
        CASES.append(("scatter_%s_%s" % (op, tag), "nd._internal._scatter_%s_scalar(x0, scalar=2.5)" % op, pair))
CASES.append(("fc_bias_column", "nd.FullyConnected(x0, x1, x2, num_hidden=3)", [("default", D), ("default", B_NK),
                                                                                ("default", COL[:3].copy())]))


def make(stype, value):
    dense = mx.nd.array(value, dtype=value.dtype)
    return dense if stype == "default" else dense.tostype(stype)


def record():
    arrays, cases = {}, []
    for name, expr, inputs in CASES:
        env = {"nd": mx.nd, "S": mx.nd.sparse}
        for i, (stype, value) in enumerate(inputs):
            env["x%d" % i] = make(stype, value)
            arrays["%s/in%d" % (name, i)] = value
        case = {"name": name, "expr": expr, "stypes": [s for s, _ in inputs]}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = eval(expr, env)
                if not isinstance(out, mx.nd.NDArray):
                    raise TypeError("%s gives %r" % (name, out))
                out.wait_to_read()
            case["stype"] = out.stype
            arrays["%s/out" % name] = out.asnumpy()
            if out.stype != "default":
                arrays["%s/indices" % name] = out.indices.asnumpy()
            if out.stype == "csr":
                arrays["%s/indptr" % name] = out.indptr.asnumpy()
        except mx.base.MXNetError as err:
            lines = [line for line in str(err).strip().splitlines() if line.strip()]
            case["error"] = next((line for line in lines if "Check failed" in line), lines[-1]).strip()[:300]
        cases.append(case)
    return cases, arrays


LIBSVM = """1 0:1.5 3:2.0
0 1:-1.0
2 2:0.5 4:1.0 5:3.0
1
0 0:2.0 5:1.0
3 3:0.25
1 1:4.0 2:1.0
"""
LABELS = """0 0:1 2:1
0 1:1
0 0:1
0 2:1
0 1:1 2:1
0 0:1
0 1:1
"""


def record_libsvm(arrays):
    """LibSVMIter batches (csr data, dense or csr label) for a small file, two epochs, round_batch."""
    data_path, label_path = os.path.join(OUT, "data.libsvm"), os.path.join(OUT, "label.libsvm")
    with open(data_path, "w") as f:
        f.write(LIBSVM)
    with open(label_path, "w") as f:
        f.write(LABELS)
    runs = {"plain": dict(data_shape=(6,), batch_size=3),
            "label_file": dict(data_shape=(6,), batch_size=3, label_libsvm=label_path, label_shape=(3,)),
            "parts": dict(data_shape=(6,), batch_size=2, num_parts=2, part_index=1)}
    summary = {}
    for run, kwargs in runs.items():
        it = mx.io.LibSVMIter(data_libsvm=data_path, **kwargs)
        batches = []
        for epoch in range(2):      # MXNet's epoch loop (reset after each epoch; a reset before the first shifts it)
            if epoch:
                it.reset()
            for b, batch in enumerate(it):
                data, label = batch.data[0], batch.label[0]
                key = "libsvm/%s/%d/%d" % (run, epoch, b)
                arrays[key + "/data"] = data.asnumpy()
                arrays[key + "/label"] = label.asnumpy()
                batches.append({"epoch": epoch, "batch": b, "pad": batch.pad, "data_stype": data.stype,
                                "label_stype": label.stype, "key": key})
        summary[run] = {"kwargs": {k: v for k, v in kwargs.items() if k != "label_libsvm"},
                        "label_file": "label_libsvm" in kwargs, "batches": batches,
                        "provide_data": [[d.name, list(d.shape)] for d in it.provide_data],
                        "provide_label": [[d.name, list(d.shape)] for d in it.provide_label]}
    return summary


def main():
    os.makedirs(OUT, exist_ok=True)
    cases, arrays = record()
    libsvm = record_libsvm(arrays)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=0)
    with open(os.path.join(OUT, "libsvm.json"), "w") as f:
        json.dump(libsvm, f, indent=0)
    np.savez_compressed(os.path.join(OUT, "arrays.npz"), **arrays)
    print(len(cases), "cases;", sum("error" in c for c in cases), "errors")


if __name__ == "__main__" and sys.argv[1:] != ["issue22"]:
    main()


# -- issue 22: adagrad_update, the straight-through estimators, gamma/gammaln gradients, a (num_hidden, 1) bias,
# and mixed-storage elemwise_mul in bound graphs. Written to issue22.json / issue22.npz by `... issue22` alone
# (re-running main() would re-record the uninitialised spare slots noted in the README).
def _adagrad_cases(arrays):
    r22 = np.random.RandomState(2201)
    weight = r22.uniform(-1, 1, (6, 4)).astype(np.float32)
    history = r22.uniform(0, 0.5, (6, 4)).astype(np.float32)
    grad = np.zeros((6, 4), np.float32)
    grad[[0, 3, 4]] = r22.uniform(-2, 2, (3, 4))
    arrays.update({"adagrad/weight": weight, "adagrad/history": history, "adagrad/grad": grad})
    runs = {"plain": dict(lr=0.1), "clip": dict(lr=0.05, clip_gradient=0.5, rescale_grad=2.0),
            "eps": dict(lr=0.2, epsilon=1e-3), "wd": dict(lr=0.1, wd=0.1)}
    cases = []
    for stypes in (("default", "row_sparse", "default"), ("row_sparse", "row_sparse", "row_sparse"),
                   ("default", "default", "default")):
        for run, kwargs in runs.items():
            key = "adagrad/%s/%s" % ("_".join(stypes), run)
            w, g, h = (make(s, v) for s, v in zip(stypes, (weight, grad, history)))
            case = {"key": key, "stypes": list(stypes), "kwargs": kwargs}
            try:
                out = mx.nd.sparse.adagrad_update(w, g, h, out=w, **kwargs)
                out.wait_to_read()
                case["stype"] = out.stype
                arrays[key + "/weight"] = w.asnumpy()
                arrays[key + "/history"] = h.asnumpy()
            except mx.base.MXNetError as err:
                lines = [line for line in str(err).strip().splitlines() if line.strip()]
                case["error"] = next((line for line in lines if "Check failed" in line), lines[-1]).strip()[:300]
            cases.append(case)
    # mx.optimizer.AdaGrad with a row_sparse gradient, two steps (the second gradient holds other rows)
    kwargs = dict(learning_rate=0.1, eps=1e-6, rescale_grad=0.5, clip_gradient=1.0)
    updater = mx.optimizer.get_updater(mx.optimizer.AdaGrad(**kwargs))
    w = mx.nd.array(weight)
    grad2 = np.zeros((6, 4), np.float32)
    grad2[[1, 3]] = r22.uniform(-2, 2, (2, 4))
    arrays["adagrad/optimizer/grad2"] = grad2
    for step, g in enumerate((grad, grad2)):
        updater(0, mx.nd.array(g).tostype("row_sparse"), w)
        arrays["adagrad/optimizer/weight%d" % step] = w.asnumpy()
    arrays["adagrad/optimizer/history"] = updater.states[0].asnumpy()
    cases.append({"key": "adagrad/optimizer", "kwargs": kwargs, "history_stype": updater.states[0].stype})
    return cases


def _ste_cases(arrays):
    r22 = np.random.RandomState(2202)
    x = np.concatenate([[-2.5, -1.5, -0.5, 0.0, 0.5, 1.5, 2.5, -0.0, 3.7, -3.2],
                        r22.uniform(-3, 3, 14)]).astype(np.float32).reshape(4, 6)
    head = r22.uniform(-1, 1, (4, 6)).astype(np.float32)
    arrays.update({"ste/x": x, "ste/head": head})
    cases = []
    for name in ("round_ste", "sign_ste"):
        data = mx.nd.array(x)
        data.attach_grad()
        with mx.autograd.record():
            y = getattr(mx.nd.contrib, name)(data)
        y.backward(mx.nd.array(head))
        arrays["ste/%s/out" % name] = y.asnumpy()
        arrays["ste/%s/grad" % name] = data.grad.asnumpy()
        stypes = {}
        for stype in ("row_sparse", "csr"):
            out = getattr(mx.nd.sparse, "_contrib_" + name)(mx.nd.array(x * (np.abs(x) > 1)).tostype(stype))
            stypes[stype] = out.stype
            arrays["ste/%s/%s" % (name, stype)] = out.asnumpy()
        cases.append({"name": name, "sparse_stypes": stypes})
    return cases


def _gamma_cases(arrays):
    x = np.array([0.0, -0.0, -1.0, -2.0, -3.0, 0.5, -0.5, -1.5, 1.0, 2.0, 3.5, 1e-3, -1e-3, 20.0], np.float32)
    arrays["gamma/x"] = x
    for name in ("gamma", "gammaln"):
        for dtype in (np.float32, np.float64):
            data = mx.nd.array(x, dtype=dtype)
            data.attach_grad()
            with mx.autograd.record():
                y = getattr(mx.nd, name)(data)
            y.backward(mx.nd.ones(x.shape, dtype=dtype))
            tag = "gamma/%s/%s" % (name, np.dtype(dtype).name)
            arrays[tag + "/out"] = y.asnumpy()
            arrays[tag + "/grad"] = data.grad.asnumpy()
        # the symbolic backward of a row_sparse input (MXNet's sparse test runs this)
        sym = getattr(mx.sym.sparse, name)(mx.sym.var("data", stype="row_sparse"))
        dense = np.tile(x, (2, 1))
        dense[1] = 0
        executor = sym.bind(mx.cpu(), {"data": mx.nd.array(dense).tostype("row_sparse")},
                            args_grad={"data": mx.nd.zeros(dense.shape)})
        executor.forward(is_train=True)
        executor.backward(mx.nd.ones(dense.shape))
        arrays["gamma/%s/rsp_in" % name] = dense
        arrays["gamma/%s/rsp_out" % name] = executor.outputs[0].asnumpy()
        arrays["gamma/%s/rsp_grad" % name] = executor.grad_dict["data"].asnumpy()


def _fc_bias_column(arrays):
    r22 = np.random.RandomState(2203)
    x, w = r22.uniform(-1, 1, (5, 4)).astype(np.float32), r22.uniform(-1, 1, (3, 4)).astype(np.float32)
    b, head = r22.uniform(-1, 1, (3, 1)).astype(np.float32), r22.uniform(-1, 1, (5, 3)).astype(np.float32)
    arrays.update({"fc_col/x": x, "fc_col/w": w, "fc_col/b": b, "fc_col/head": head})
    args = [mx.nd.array(v) for v in (x, w, b)]
    result = {"infer_bias": [list(s) for s in mx.sym.FullyConnected(
        mx.sym.var("x"), mx.sym.var("w"), mx.sym.var("b"), num_hidden=3).infer_shape(x=(5, 4), w=(3, 4))[0]]}
    arrays["fc_col/out"] = mx.nd.FullyConnected(*args, num_hidden=3).asnumpy()
    # the backward: MXNet's kernel reads the bias gradient as 1-D and fails its check for a (num_hidden, 1) bias
    for a in args:
        a.attach_grad()
    try:
        with mx.autograd.record():
            y = mx.nd.FullyConnected(*args, num_hidden=3)
        y.backward(mx.nd.array(head))
        arrays["fc_col/grad_b"] = args[2].grad.asnumpy()
    except mx.base.MXNetError as err:
        result["backward_error"] = [line for line in str(err).strip().splitlines() if "Check failed" in line][0]
    return result


def _mixed_mul(arrays):
    """elemwise_mul of a sparse and a dense variable in a bound graph (bound as MXNet's check_symbolic_forward
    binds: dense gradient arrays), forward and backward with a dense head gradient."""
    r22 = np.random.RandomState(2204)
    cases = []
    for lhs, rhs in (("row_sparse", "default"), ("default", "row_sparse"), ("csr", "default"), ("default", "csr")):
        values = []
        for stype in (lhs, rhs):
            v = r22.uniform(-1, 1, (5, 4)).astype(np.float32)
            if stype == "row_sparse":
                v[[0, 2]] = 0
            elif stype == "csr":
                v *= r22.rand(5, 4) < 0.5
            values.append(v)
        head = r22.uniform(-1, 1, (5, 4)).astype(np.float32)
        key = "mixed_mul/%s_%s" % (lhs, rhs)
        sym = mx.sym.sparse.elemwise_mul(mx.sym.var("lhs", stype=lhs), mx.sym.var("rhs", stype=rhs))
        location = {"lhs": make(lhs, values[0]), "rhs": make(rhs, values[1])}
        executor = sym.bind(mx.cpu(), location, args_grad={k: mx.nd.zeros((5, 4)) for k in location})
        executor.forward(is_train=True)
        out = executor.outputs[0]
        executor.backward(mx.nd.array(head))
        arrays.update({key + "/lhs": values[0], key + "/rhs": values[1], key + "/head": head,
                       key + "/out": out.asnumpy(), key + "/grad_lhs": executor.grad_dict["lhs"].asnumpy(),
                       key + "/grad_rhs": executor.grad_dict["rhs"].asnumpy()})
        cases.append({"key": key, "stypes": [lhs, rhs], "out_stype": out.stype,
                      "grad_stypes": [executor.grad_dict[k].stype for k in ("lhs", "rhs")]})
    return cases


def main_issue22():
    arrays = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        record = {"adagrad": _adagrad_cases(arrays), "ste": _ste_cases(arrays), "fc_col": _fc_bias_column(arrays),
                  "mixed_mul": _mixed_mul(arrays)}
        _gamma_cases(arrays)
    with open(os.path.join(OUT, "issue22.json"), "w") as f:
        json.dump(record, f, indent=0)
    np.savez_compressed(os.path.join(OUT, "issue22.npz"), **arrays)
    print(len(arrays), "arrays")


if __name__ == "__main__" and sys.argv[1:] == ["issue22"]:
    main_issue22()
