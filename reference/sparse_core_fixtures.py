"""Record MXNet 1.9.1's sparse NDArrays for tests/test_sparse_core.py: constructors, conversions, check_format,
csr row slices, reprs, the storage-fallback message and nd.save files with sparse arrays.

Run with the oracle: MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/sparse_core_fixtures.py
Writes tests/fixtures/mxnet-1.9.1/sparse_core/ (see the README there).

Each case is a Python expression evaluated with `mx` (MXNet here, dataflow in the test), `np`, `sp`
(scipy.sparse) and the inputs of INPUTS; the test evaluates the same text and compares.
"""
import hashlib
import json
import os
import sys
import tempfile

import mxnet as mx
import numpy as np
import scipy.sparse as sp

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "mxnet-1.9.1",
                   "sparse_core")
rng = np.random.RandomState(22)

# Inputs shared by the cases (saved, so the test reads the same values)
INPUTS = {
    "dense34": (rng.rand(3, 4) * (rng.rand(3, 4) < 0.4)).astype(np.float32),
    "dense534": (rng.rand(5, 3, 4) * (rng.rand(5, 1, 1) < 0.5)).astype(np.float64),
    "zeros23": np.zeros((2, 3), np.float32),
    "ints": np.array([[0, 3, 0], [4, 0, 5]], np.int32),
}

CASES = {
    # csr_matrix: every accepted form
    "csr_parts": "mx.nd.sparse.csr_matrix(([1, 2, 3], [1, 0, 2], [0, 1, 2, 2, 3]), shape=(4, 3))",
    "csr_parts_noshape": "mx.nd.sparse.csr_matrix(([1, 2, 3], [1, 0, 2], [0, 1, 2, 2, 3]))",
    "csr_parts_int32": "mx.nd.sparse.csr_matrix((np.array([1, 2, 3], 'int32'), [1, 0, 2], [0, 1, 2, 2, 3]))",
    "csr_parts_dtype": "mx.nd.sparse.csr_matrix(([1, 2, 3], [1, 0, 2], [0, 1, 2, 2, 3]), dtype='float64')",
    "csr_parts_nd": "mx.nd.sparse.csr_matrix((mx.nd.array([1, 2]), mx.nd.array([2, 0]), mx.nd.array([0, 1, 2])),"
                    " shape=(2, 3))",
    "csr_coo": "mx.nd.sparse.csr_matrix(([1, 2, 5], ([0, 1, 1], [2, 0, 2])))",
    "csr_coo_shape": "mx.nd.sparse.csr_matrix(([1., 2.], ([0, 2], [1, 0])), shape=(4, 5))",
    "csr_coo_dup": "mx.nd.sparse.csr_matrix(([1., 2., 4.], ([0, 0, 1], [1, 1, 0])), shape=(2, 2))",
    "csr_shape": "mx.nd.sparse.csr_matrix((2, 3))",
    "csr_shape_dtype": "mx.nd.sparse.csr_matrix((2, 3), dtype='float16')",
    "csr_list": "mx.nd.sparse.csr_matrix([[1, 0], [0, 2]])",
    "csr_numpy": "mx.nd.sparse.csr_matrix(dense34)",
    "csr_numpy_int": "mx.nd.sparse.csr_matrix(ints)",
    "csr_nd": "mx.nd.sparse.csr_matrix(mx.nd.array(dense34))",
    "csr_nd_dtype": "mx.nd.sparse.csr_matrix(mx.nd.array(dense34), dtype='float64')",
    "csr_scipy": "mx.nd.sparse.csr_matrix(sp.csr_matrix(dense34.astype('float64')))",
    "csr_scipy_unsorted": "mx.nd.sparse.csr_matrix(sp.csr_matrix((np.array([1., 2., 3.]), np.array([2, 0, 1]), "
                          "np.array([0, 2, 3])), shape=(2, 3)))",
    "csr_csr": "mx.nd.sparse.csr_matrix(mx.nd.sparse.csr_matrix(dense34), dtype='float16')",
    "csr_zeros": "mx.nd.sparse.zeros('csr', (2, 3))",
    "csr_empty": "mx.nd.sparse.empty('csr', (3, 2), dtype='int64')",
    "csr_nd_zeros": "mx.nd.zeros((2, 3), stype='csr')",
    "csr_array": "mx.nd.sparse.array(sp.csr_matrix(ints))",
    "nd_array_scipy": "mx.nd.array(sp.csr_matrix(dense34.astype('float64')))",
    "nd_array_csr": "mx.nd.array(mx.nd.sparse.csr_matrix(dense34), dtype='float16')",
    "nd_array_rsp": "mx.nd.array(mx.nd.sparse.row_sparse_array(dense534))",
    # row_sparse_array
    "rsp_parts": "mx.nd.sparse.row_sparse_array(([[1, 2], [3, 4]], [1, 4]), shape=(6, 2))",
    "rsp_parts_noshape": "mx.nd.sparse.row_sparse_array(([[1, 2], [3, 4]], [1, 4]))",
    "rsp_parts_np": "mx.nd.sparse.row_sparse_array((np.ones((2, 2, 3), 'float64'), [0, 3]), shape=(5, 2, 3))",
    "rsp_parts_dtype": "mx.nd.sparse.row_sparse_array(([[1, 2]], [2]), shape=(3, 2), dtype='int32')",
    "rsp_shape": "mx.nd.sparse.row_sparse_array((6, 2))",
    "rsp_shape3": "mx.nd.sparse.row_sparse_array((6, 2, 3))",
    "rsp_numpy": "mx.nd.sparse.row_sparse_array(dense534)",
    "rsp_list": "mx.nd.sparse.row_sparse_array([[0, 0], [1, 2]])",
    "rsp_nd": "mx.nd.sparse.row_sparse_array(mx.nd.array(dense34))",
    "rsp_rsp": "mx.nd.sparse.row_sparse_array(mx.nd.sparse.row_sparse_array(dense534), dtype='float32')",
    "rsp_zeros": "mx.nd.sparse.zeros('row_sparse', (2, 3), dtype='float16')",
    "rsp_nd_empty": "mx.nd.empty((4, 2), stype='row_sparse')",
    "sparse_zeros_default": "mx.nd.sparse.zeros('default', (2, 3))",
    # conversions
    "tostype_csr": "mx.nd.array(dense34).tostype('csr')",
    "tostype_rsp": "mx.nd.array(dense534, dtype='float64').tostype('row_sparse')",
    "tostype_rsp_1d": "mx.nd.array([0, 1, 0, 2]).tostype('row_sparse')",
    "tostype_zero_csr": "mx.nd.array(zeros23).tostype('csr')",
    "tostype_zero_rsp": "mx.nd.array(zeros23).tostype('row_sparse')",
    "csr_to_default": "mx.nd.sparse.csr_matrix(dense34).tostype('default')",
    "rsp_to_default": "mx.nd.sparse.row_sparse_array(dense534).tostype('default')",
    "csr_to_csr": "mx.nd.sparse.csr_matrix(dense34).tostype('csr')",
    "rsp_to_rsp": "mx.nd.sparse.row_sparse_array(dense534).tostype('row_sparse')",
    "csr_astype": "mx.nd.sparse.csr_matrix(dense34).astype('float64')",
    "rsp_astype": "mx.nd.sparse.row_sparse_array(dense534).astype('int32')",
    "csr_copy": "mx.nd.sparse.csr_matrix(dense34).copy()",
    "rsp_copyto_ctx": "mx.nd.sparse.row_sparse_array(dense534).copyto(mx.cpu(0))",
    "csr_copyto_dense": "mx.nd.sparse.csr_matrix(dense34).copyto(mx.nd.zeros((3, 4)))",
    "csr_copyto_csr": "mx.nd.sparse.csr_matrix(dense34).copyto(mx.nd.sparse.zeros('csr', (3, 4), dtype='float64'))",
    "rsp_copyto_rsp": "mx.nd.sparse.row_sparse_array(dense534).copyto(mx.nd.sparse.zeros('row_sparse', (5, 3, 4)))",
    # csr rows
    "csr_row": "mx.nd.sparse.csr_matrix(dense34)[1]",
    "csr_row_last": "mx.nd.sparse.csr_matrix(dense34)[-1]",
    "csr_rows": "mx.nd.sparse.csr_matrix(dense34)[1:3]",
    "csr_rows_open": "mx.nd.sparse.csr_matrix(dense34)[1:]",
    "csr_rows_head": "mx.nd.sparse.csr_matrix(dense34)[:2]",
    "csr_rows_neg": "mx.nd.sparse.csr_matrix(dense34)[-2:]",
    "csr_rows_all": "mx.nd.sparse.csr_matrix(dense34)[:]",
    "rsp_all": "mx.nd.sparse.row_sparse_array(dense534)[:]",
    # errors
    "err_csr_rows_step": "mx.nd.sparse.csr_matrix(dense34)[0:2:2]",
    "err_csr_tuple": "mx.nd.sparse.csr_matrix(dense34)[0, 1]",
    "err_rsp_int": "mx.nd.sparse.row_sparse_array(dense534)[1]",
    "err_rsp_slice": "mx.nd.sparse.row_sparse_array(dense534)[1:2]",
    "err_csr_to_rsp": "mx.nd.sparse.csr_matrix(dense34).tostype('row_sparse')",
    "err_rsp_to_csr": "mx.nd.sparse.row_sparse_array(dense534).tostype('csr')",
    "err_tostype_csr_3d": "mx.nd.array(dense534).tostype('csr')",
    "err_csr_from_rsp": "mx.nd.sparse.csr_matrix(mx.nd.sparse.row_sparse_array(dense534))",
    "err_rsp_from_csr": "mx.nd.sparse.row_sparse_array(mx.nd.sparse.csr_matrix(dense34))",
    "err_csr_shape_mismatch": "mx.nd.sparse.csr_matrix(dense34, shape=(3, 5))",
    "err_rsp_shape_mismatch": "mx.nd.sparse.row_sparse_array((6, 2), shape=(6, 3))",
    "err_csr_tuple4": "mx.nd.sparse.csr_matrix((1, 2, 3, 4))",
    "err_rsp_tuple1": "mx.nd.sparse.row_sparse_array((1,))",
    "err_csr_noshape_empty": "mx.nd.sparse.csr_matrix(([], [], [0]))",
    "err_csr_2d_data": "mx.nd.sparse.csr_matrix(([[1, 2]], [0, 1], [0, 2]), shape=(1, 2))",
    "err_rsp_data_ndim": "mx.nd.sparse.row_sparse_array(([1, 2], [0, 1]), shape=(3, 2))",
    "err_csr_data_short": "mx.nd.sparse.csr_matrix(([1, 2], [1, 0, 2], [0, 1, 2, 2, 3]), shape=(4, 3))",
    "err_csr_data_long": "mx.nd.sparse.csr_matrix(([1, 2, 3], [1, 0], [0, 1, 2, 2, 3]), shape=(4, 3))",
    "err_rsp_data_rows": "mx.nd.sparse.row_sparse_array(([[1, 2], [3, 4]], [1, 2, 3]), shape=(6, 2))",
    "err_rsp_data_cols": "mx.nd.sparse.row_sparse_array(([[1, 2], [3, 4]], [1, 2]), shape=(6, 3))",
    "err_zeros_stype": "mx.nd.sparse.zeros('foo', (2, 2))",
    "err_sparse_array_numpy": "mx.nd.sparse.array(dense34)",
    "err_sparse_array_dense": "mx.nd.sparse.array(mx.nd.array(dense34))",
    "err_copyto_other_stype": "mx.nd.sparse.csr_matrix(dense34).copyto(mx.nd.sparse.zeros('row_sparse', (3, 4)))",
    "err_copyto_type": "mx.nd.sparse.csr_matrix(dense34).copyto(3)",
    "err_reshape": "mx.nd.sparse.csr_matrix(dense34).reshape((4, 3))",
    "err_size": "mx.nd.sparse.csr_matrix(dense34).size",
    "err_setitem_scalar_csr": "mx.nd.sparse.csr_matrix(dense34).__setitem__(slice(None), 1.0)",
    "rsp_setitem_scalar": "(lambda a: (a.__setitem__(slice(None), 2.0), a)[1])(mx.nd.sparse.zeros('row_sparse', "
                          "(3, 2)))",
    "csr_setitem_dense": "(lambda a: (a.__setitem__(slice(None), mx.nd.array(dense34)), a)[1])("
                         "mx.nd.sparse.zeros('csr', (3, 4)))",
}

# check_format: the construction succeeds in MXNet; check_format(full_check) raises or not
CHECKS = {
    "ok_csr": ("mx.nd.sparse.csr_matrix(([1, 2, 3], [1, 0, 2], [0, 1, 2, 2, 3]), shape=(4, 3))", True),
    "ok_rsp": ("mx.nd.sparse.row_sparse_array(([[1, 2], [3, 4]], [1, 4]), shape=(6, 2))", True),
    "ok_empty_csr": ("mx.nd.sparse.zeros('csr', (3, 4))", True),
    "ok_empty_rsp": ("mx.nd.sparse.zeros('row_sparse', (3, 4))", True),
    "csr_index_range": ("mx.nd.sparse.csr_matrix(([1, 2, 3], [1, 0, 5], [0, 1, 2, 2, 3]), shape=(4, 3))", True),
    "csr_index_negative": ("mx.nd.sparse.csr_matrix(([1, 2, 3], [1, -1, 2], [0, 2, 2, 2, 3]), shape=(4, 3))", True),
    "csr_unsorted_row": ("mx.nd.sparse.csr_matrix(([1, 2, 3], [2, 1, 2], [0, 2, 2, 2, 3]), shape=(4, 3))", True),
    "csr_duplicate": ("mx.nd.sparse.csr_matrix(([1, 2, 3], [1, 1, 2], [0, 2, 2, 2, 3]), shape=(4, 3))", True),
    "csr_indptr_decreasing": ("mx.nd.sparse.csr_matrix(([1, 2, 3], [0, 1, 2], [0, 2, 1, 2, 3]), shape=(4, 3))",
                              True),
    "csr_indptr_start": ("mx.nd.sparse.csr_matrix(([1, 2, 3], [1, 0, 2], [1, 1, 2, 2, 3]), shape=(4, 3))", True),
    "csr_indptr_end": ("mx.nd.sparse.csr_matrix(([1, 2, 3], [1, 0, 2], [0, 1, 2, 2, 2]), shape=(4, 3))", True),
    "csr_indptr_length": ("mx.nd.sparse.csr_matrix(([1, 2, 3], [1, 0, 2], [0, 1, 2, 3]), shape=(4, 3))", True),
    "csr_indptr_length_quick": ("mx.nd.sparse.csr_matrix(([1, 2, 3], [1, 0, 2], [0, 1, 2, 3]), shape=(4, 3))",
                                False),
    "csr_unsorted_quick": ("mx.nd.sparse.csr_matrix(([1, 2, 3], [2, 1, 2], [0, 2, 2, 2, 3]), shape=(4, 3))",
                           False),
    "rsp_unsorted": ("mx.nd.sparse.row_sparse_array(([[1, 2], [3, 4]], [4, 1]), shape=(6, 2))", True),
    "rsp_duplicate": ("mx.nd.sparse.row_sparse_array(([[1, 2], [3, 4]], [1, 1]), shape=(6, 2))", True),
    "rsp_range": ("mx.nd.sparse.row_sparse_array(([[1, 2], [3, 4]], [1, 7]), shape=(6, 2))", True),
    "rsp_negative": ("mx.nd.sparse.row_sparse_array(([[1, 2], [3, 4]], [-1, 2]), shape=(6, 2))", True),
    "rsp_range_quick": ("mx.nd.sparse.row_sparse_array(([[1, 2], [3, 4]], [1, 7]), shape=(6, 2))", False),
}


def describe(value):
    """(meta, arrays) of a case's result."""
    if isinstance(value, mx.nd.NDArray):
        meta = {"type": type(value).__name__, "stype": value.stype, "dtype": np.dtype(value.dtype).name,
                "shape": list(value.shape), "repr": repr(value).strip() if value.stype != "default" else None,
                "context": str(value.context)}
        arrays = {"dense": value.asnumpy()}
        if value.stype != "default":
            arrays["data"] = value.data.asnumpy()
            arrays["indices"] = value.indices.asnumpy()
            meta["aux_dtypes"] = [np.dtype(t).name for t in value._aux_types]
        if value.stype == "csr":
            arrays["indptr"] = value.indptr.asnumpy()
        return meta, arrays
    return {"type": type(value).__name__, "value": repr(value)}, {}


def evaluate(expr):
    scope = dict(mx=mx, np=np, sp=sp, **INPUTS)
    try:
        return "ok", eval(expr, scope)       # noqa: S307 - our own fixed case texts
    except Exception as exc:      # noqa: BLE001 - recording what MXNet raises is the point
        return "error", exc


def message(exc):
    """The error's own message: the last line of an MXNetError's C++ traceback (its `Check failed: ...`)."""
    text = str(exc)
    if isinstance(exc, mx.base.MXNetError):
        lines = [line for line in text.splitlines() if line.strip()]
        text = lines[-1] if lines else text
    return text


def capture_stderr(fn):
    """What the C++ side writes to fd 2 while fn runs (MXNet's LOG(INFO) lines)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            fn()
            mx.nd.waitall()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        return tmp.read().decode()


def main():
    os.makedirs(OUT, exist_ok=True)
    meta, arrays = {"cases": {}, "checks": {}}, {"input/" + k: v for k, v in INPUTS.items()}
    for name, expr in CASES.items():
        kind, value = evaluate(expr)
        if kind == "error":
            meta["cases"][name] = {"expr": expr, "error": type(value).__name__, "message": message(value)}
            continue
        info, parts = describe(value)
        info["expr"] = expr
        meta["cases"][name] = info
        arrays.update({"%s/%s" % (name, k): v for k, v in parts.items()})
    for name, (expr, full) in CHECKS.items():
        kind, value = evaluate(expr)
        assert kind == "ok", (name, value)
        try:
            value.check_format(full_check=full)
            meta["checks"][name] = {"expr": expr, "full_check": full, "error": None}
        except mx.base.MXNetError as exc:
            meta["checks"][name] = {"expr": expr, "full_check": full, "error": message(exc)}

    # the storage fallback message (logged once per distinct message)
    csr = mx.nd.sparse.csr_matrix(INPUTS["dense34"])
    meta["fallback"] = {
        "exp_csr": capture_stderr(lambda: mx.nd.exp(csr)),
        "exp_csr_again": capture_stderr(lambda: mx.nd.exp(csr)),
        "relu_csr": capture_stderr(lambda: mx.nd.relu(csr)),
        "softmax_rsp_axis": capture_stderr(lambda: mx.nd.softmax(mx.nd.sparse.row_sparse_array(INPUTS["dense534"]),
                                                                 axis=0)),
    }
    arrays["fallback/exp_csr"] = mx.nd.exp(csr).asnumpy()

    # nd.save files holding sparse arrays
    saved = {
        "list.params": ["csr_parts", "rsp_parts", "tostype_rsp", "csr_zeros", "rsp_zeros", "tostype_zero_csr"],
        "dict.params": ["csr_numpy", "rsp_numpy", "csr_parts_int32", "csr_shape", "rsp_shape3", "tostype_zero_rsp"],
    }
    meta["files"] = {}
    for fname, names in saved.items():
        values = [evaluate(CASES[n])[1] for n in names]
        path = os.path.join(OUT, fname)
        mx.nd.save(path, values if fname.startswith("list") else dict(zip(names, values)))
        with open(path, "rb") as fh:
            raw = fh.read()
        meta["files"][fname] = {"cases": names, "sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}
        loaded = mx.nd.load(path)
        loaded = loaded if isinstance(loaded, list) else list(loaded.values())
        assert [x.stype for x in loaded] == [x.stype for x in values]
    # a mixed file: dense and sparse together
    mixed = {"w": mx.nd.array(INPUTS["dense34"]), "g": mx.nd.sparse.row_sparse_array(INPUTS["dense534"])}
    mx.nd.save(os.path.join(OUT, "mixed.params"), mixed)
    with open(os.path.join(OUT, "mixed.params"), "rb") as fh:
        meta["files"]["mixed.params"] = {"sha256": hashlib.sha256(fh.read()).hexdigest()}

    np.savez_compressed(os.path.join(OUT, "expected.npz"), **arrays)
    with open(os.path.join(OUT, "cases.json"), "w") as fh:
        json.dump(meta, fh, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
