"""Record what MXNet 1.9.1's `mx.test_utils` and a few NDArray conversions do, for tests/test_test_utils.py and
tests/test_ndarray_surface.py.

Run in MXNet's venv:  MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/test_utils_fixtures.py
Writes tests/fixtures/mxnet-1.9.1/test_utils/ (see the README there).
"""
import contextlib
import io
import json
import os
import pickle

import numpy as np

import mxnet as mx
from mxnet import test_utils as tu

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "fixtures", "mxnet-1.9.1",
                   "test_utils")
rs = np.random.RandomState(0)
DTYPES = ["float16", "float32", "float64", "int32", "int64", "uint8", "bool"]


def tol_json(tol):
    if isinstance(tol, dict):
        return {"dict": {np.dtype(k).name: v for k, v in tol.items()}}
    return tol


def tol_value(tol):
    if isinstance(tol, dict) and "dict" in tol:
        return {np.dtype(k): v for k, v in tol["dict"].items()}
    return tol


def close_cases():
    """(a, b, kwargs, as_ndarray) cases around the tolerance boundary, with NaN/inf and broadcasting."""
    cases = []
    for dtype in ["float16", "float32", "float64"]:
        for scale in [0.3, 0.9, 1.1, 3.0]:          # differences as a multiple of the default tolerance
            b = rs.uniform(-2, 2, (3, 4)).astype(dtype)
            tol = tu.default_atols()[np.dtype(dtype)] + tu.default_rtols()[np.dtype(dtype)] * np.abs(b)
            a = (b.astype(np.float64) + scale * tol * np.where(rs.rand(3, 4) < 0.3, 1, 0)).astype(dtype)
            cases.append((a, b, {}, False))
            cases.append((a, b, {}, True))
    for rtol, atol in [(1e-2, 0), (0, 1e-2), (1e-6, 1e-6), ({np.dtype("float32"): 1e-1}, None)]:
        b = rs.uniform(-1, 1, (5,)).astype(np.float32)
        a = b + rs.uniform(-0.02, 0.02, (5,)).astype(np.float32)
        cases.append((a, b, {"rtol": rtol, "atol": atol}, False))
    a = np.array([1.0, np.nan, np.inf, -np.inf], np.float32)
    cases.append((a, a.copy(), {}, False))
    cases.append((a, a.copy(), {"equal_nan": True}, False))
    cases.append((np.array([1.0, np.inf]), np.array([1.0, -np.inf]), {}, False))
    cases.append((np.array([1, 2, 3], np.int32), np.array([1, 2, 4], np.int32), {}, False))
    cases.append((np.array([1, 2, 3], np.int32), np.array([1, 2, 3], np.int32), {}, False))
    cases.append((np.array([True, False]), np.array([True, True]), {}, False))
    cases.append((np.float32(1.0) * np.ones((2, 3), np.float32), np.ones((3,), np.float32) * 1.01, {}, False))
    cases.append((np.array(2.0, np.float64), np.array(2.1, np.float64), {}, False))
    cases.append((np.arange(30, dtype=np.float64), np.arange(30, dtype=np.float64) * 1.5, {}, False))
    cases.append((np.arange(30, dtype=np.float64), np.arange(30, dtype=np.float64) * 1.5, {"mismatches": (3, 5)},
                  False))
    cases.append((rs.rand(4).astype(np.float16), rs.rand(4).astype(np.float64), {}, False))
    return cases


def record_assert_almost_equal(arrays):
    records = []
    for i, (a, b, kwargs, as_nd) in enumerate(close_cases()):
        arrays["a%d" % i], arrays["b%d" % i] = a, b
        x, y = (mx.nd.array(a, dtype=a.dtype), mx.nd.array(b, dtype=b.dtype)) if as_nd else (a, b)
        message, exception = None, None
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                tu.assert_almost_equal(x, y, names=("lhs", "rhs"), **kwargs)
            except Exception as exc:  # noqa: BLE001 - MXNet crashes (IndexError) on some broadcast mismatches
                message, exception = str(exc), type(exc).__name__
        kw = {k: (tol_json(v) if k in ("rtol", "atol") else list(v) if k == "mismatches" else v)
              for k, v in kwargs.items()}
        records.append({"index": i, "kwargs": kw, "ndarray": as_nd, "raised": message is not None,
                        "exception": exception,
                        "almost_equal": bool(tu.almost_equal(a, b, **{k: v for k, v in kwargs.items()
                                                                       if k in ("equal_nan",)})),
                        "message_lines": [line for line in (message or "").splitlines()
                                          if line.startswith(("Error", "Location"))]})
    return records


def record_tolerances():
    pairs = {}
    for x in DTYPES:
        for y in DTYPES:
            pairs["%s,%s" % (x, y)] = list(tu.get_tols(np.zeros(1, x), np.zeros(1, y), None, None))
    return {"get_tols": pairs,
            "get_tols_numbers": list(tu.get_tols(1.0, 2, None, None)),
            "get_tols_dict": list(tu.get_tols(np.zeros(1, np.float32), np.zeros(1, np.float64),
                                              {np.dtype(np.float32): 0.5}, 0.25)),
            "default_numeric_eps": {np.dtype(k).name: v for k, v in tu.default_numeric_eps().items()},
            "get_rtol_default": tu.get_rtol(), "get_atol_default": tu.get_atol(),
            "get_rtol_f16": tu.get_rtol(None, np.dtype(np.float16)), "get_atol_given": tu.get_atol(0.5),
            "get_etol": [tu.get_etol(), tu.get_etol(0.1)],
            "default_dtype": np.dtype(tu.default_dtype()).name,
            "effective_dtype_nd": np.dtype(tu.effective_dtype(mx.nd.zeros((1,), dtype="float16"))).name}


def record_reductions(arrays):
    x = rs.rand(2, 3, 4)
    arrays["reduce_in"] = x
    cases = [(None, False), (1, True), ((0, 2), False), ([2, 0], True), (-1, False)]
    for i, (axis, keep) in enumerate(cases):
        arrays["reduce_sum_%d" % i] = tu.np_reduce(x, axis, keep, np.sum)
        arrays["reduce_max_%d" % i] = tu.np_reduce(x, axis, keep, np.max)
    y = rs.rand(2, 3, 4, 5)
    arrays["collapse_in"] = y
    for i, shape in enumerate([(3, 1, 5), (1, 5), (4, 1), (2, 3, 4, 5), (1, 1, 1, 1)]):
        arrays["collapse_%d" % i] = tu.collapse_sum_like(y, shape)
    return {"reduce_cases": [[list(a) if isinstance(a, (list, tuple)) else a, k] for a, k in cases],
            "collapse_shapes": [[3, 1, 5], [1, 5], [4, 1], [2, 3, 4, 5], [1, 1, 1, 1]]}


def record_ndarray_surface(arrays):
    surface = {}
    x = mx.nd.array(rs.uniform(-2, 2, (2, 3)).astype(np.float32))
    arrays["abs_in"], arrays["abs_out"] = x.asnumpy(), abs(x).asnumpy()
    for dtype in ["float32", "float64", "int32", "uint8", "float16", "int64", "int8", "bool"]:
        try:
            v = mx.nd.array(np.arange(6).reshape(2, 3), dtype=dtype)
        except Exception:  # noqa: BLE001
            continue
        state = v.__getstate__()
        arrays["pickle_%s" % dtype] = np.frombuffer(bytes(state["handle"]), dtype=np.uint8)
        surface["pickle_roundtrip_%s" % dtype] = pickle.loads(pickle.dumps(v)).asnumpy().tolist()
    errors = {}
    for name, call in [("tostype_foo", lambda: x.tostype("foo")),
                       ("tostype_csr_1d", lambda: mx.nd.zeros((3,)).tostype("csr")),
                       ("from_numpy_strided", lambda: mx.nd.from_numpy(np.zeros((2, 3)).T)),
                       ("from_numpy_int8", lambda: mx.nd.from_numpy(np.zeros(3, np.int8))),
                       ("round", lambda: round(x)), ("float", lambda: float(x[0:1])), ("pos", lambda: +x),
                       ("invert", lambda: ~x), ("floordiv", lambda: x // 2), ("matmul", lambda: x @ x),
                       ("bool_many", lambda: bool(x)), ("seed_float", lambda: mx.random.seed(1.5))]:
        try:
            call()
            errors[name] = None
        except Exception as exc:  # noqa: BLE001
            errors[name] = [type(exc).__name__, str(exc).splitlines()[0] if str(exc) else ""]
    surface["errors"] = errors
    surface["tostype_default_is_copy"] = x.tostype("default") is not x
    surface["stype"] = x.stype
    surface["bool_one"] = [bool(mx.nd.array([0.0])), bool(mx.nd.array([2.0]))]
    surface["bool_empty"] = bool(mx.nd.array(np.zeros((0, 3))))
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    z = mx.nd.from_numpy(a)
    z[0, 0] = 100
    mx.nd.waitall()
    surface["from_numpy"] = {"shares": float(a[0, 0]) == 100.0, "numpy_writeable": bool(a.flags.writeable),
                             "dtype": np.dtype(z.dtype).name,
                             "copy_dtype": np.dtype(mx.nd.from_numpy(np.arange(3), zero_copy=False).dtype).name}
    w = mx.nd.array([[1, 2], [3, 4]])
    u = mx.nd.from_dlpack(w.to_dlpack_for_write())
    u += 1
    mx.nd.waitall()
    surface["dlpack_write_shares"] = w.asnumpy().tolist()
    surface["random_default_shapes"] = {"uniform": list(mx.nd.random.uniform().shape),
                                        "randint": list(mx.nd.random.randint(0, 5).shape),
                                        "randint_dtype": np.dtype(mx.nd.random.randint(0, 5).dtype).name,
                                        "randn": list(mx.nd.random.randn(2, 3).shape)}
    mx.random.seed(0)
    surface["exponential_mean_scale4"] = float(mx.nd.random.exponential(4.0, shape=(20000,)).mean().asscalar())
    surface["legacy_symbol_names"] = {f: mx.sym.__dict__[f](shape=(2,)).list_outputs()[0]
                                      for f in ["uniform", "random_uniform", "normal", "random_normal"]}
    symbols = {"exponential": mx.sym.random.exponential(4.0, shape=(3,)),
               "randint": mx.sym.random.randint(0, 5, shape=(2, 3)),
               "multinomial": mx.sym.random.multinomial(mx.sym.var("p")),
               "negative_binomial": mx.sym.random.negative_binomial(3, 0.4, shape=(2,))}
    surface["symbol_random"] = {name: {"attrs": json.loads(sym.tojson())["nodes"][-1]["attrs"],
                                       "op": json.loads(sym.tojson())["nodes"][-1]["op"],
                                       "outputs": sym.list_outputs()} for name, sym in symbols.items()}
    surface["symbol_randint_infer"] = [list(map(list, symbols["randint"].infer_shape()[1])),
                                       np.dtype(symbols["randint"].infer_type()[1][0]).name]
    mx.random.seed(0)
    nb = mx.nd.random.negative_binomial(3, 0.4, shape=(50000,)).asnumpy()
    gnb = mx.nd.random.generalized_negative_binomial(2.0, 0.5, shape=(50000,)).asnumpy()
    surface["negative_binomial_moments"] = [float(nb.mean()), float(nb.var()), np.dtype(nb.dtype).name]
    surface["generalized_negative_binomial_moments"] = [float(gnb.mean()), float(gnb.var())]
    surface["mx_random_names"] = sorted(n for n in dir(mx.random) if not n.startswith("_") and callable(
        getattr(mx.random, n)) and n not in ("Context", "check_call"))
    return surface


def main():
    os.makedirs(OUT, exist_ok=True)
    arrays = {}
    result = {"assert_almost_equal": record_assert_almost_equal(arrays), "tolerances": record_tolerances(),
              "reductions": record_reductions(arrays), "ndarray_surface": record_ndarray_surface(arrays)}
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    np.savez_compressed(os.path.join(OUT, "arrays.npz"), **arrays)


if __name__ == "__main__":
    main()
