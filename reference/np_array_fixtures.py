"""Record MXNet 1.9.1's mx.np.ndarray behaviour that tests/test_numpy_ndarray_rules.py checks (issue 23).

Run with the oracle venv: `/work/mxvenv/bin/python reference/np_array_fixtures.py`. Writes
tests/fixtures/mxnet-1.9.1/np_array/rules.json (see that folder's README.md):
- "scalar_ops": an array of each dtype with a Python scalar (int, float, bool) under each arithmetic operator, both
  ways round: the result's dtype and values (MXNet casts the scalar to an integer array's dtype: int32 * 1.5 is
  int32 * 1; true division gives float32);
- "assign_recording": `x[key] = v` under `autograd.record()` for x / v in or out of the graph: the error's kind
  and last message line, or the gradient that reaches v through `x.backward()`;
- "errors": the exception type of a few unsupported calls (np.empty / ndarray.copy with order='F',
  '{:30}'.format of a 1-d array, np.dot / np.matmul of operands whose shapes do not match, max/min of an empty
  array, linspace with a negative or float num), and "format": format() of zero-dim and 1-d arrays;
- "ufunc_keywords": np.add / np.exp / np.bitwise_not with one of NumPy's ufunc keywords: None, or the error's type
  and message (MXNet takes each at its NumPy default only);
- "values": np.linspace(-2, 4, 30, dtype='int32') (truncated toward zero, where NumPy >= 1.20 floors), and
  np.ldexp of int32 arrays (int32, the float result truncated);
- "gradients": mean with a `dtype` (the gradient is 1/n whatever the cast), tensordot with an empty inner axis
  (zero gradients), and `x.grad` after `attach_grad(grad_req='null')`: zeros, None once a backward freed the
  graph.
"""
import json
import os

os.environ.setdefault("MXNET_MKLDNN_ENABLED", "0")

import mxnet as mx  # noqa: E402
import numpy as onp  # noqa: E402
from mxnet import np, npx  # noqa: E402

npx.set_np()

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "mxnet-1.9.1",
                   "np_array")

DTYPES = ["int8", "int32", "int64", "uint8", "float16", "float32", "float64", "bool"]
SCALARS = [("i3", 3), ("f1_5", 1.5), ("fneg2_5", -2.5), ("b1", True)]
OPERATORS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
             "truediv": lambda a, b: a / b, "pow": lambda a, b: a ** b, "mod": lambda a, b: a % b}
VALUES = [1, 2, 3, 5]
COMPARISONS = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b,
               "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b}
COMPARED_SCALARS = [("i2", 2), ("f2_5", 2.5), ("f0_5", 0.5), ("b1", True)]


def scalar_ops():
    record = {}
    for dtype in DTYPES:
        base = np.array([v % 2 == 1 for v in VALUES] if dtype == "bool" else VALUES, dtype=dtype)
        for sname, scalar in SCALARS:
            for oname, fn in OPERATORS.items():
                for reflected in (False, True):
                    name = "%s_%s_%s%s" % (dtype, oname, sname, "_r" if reflected else "")
                    try:
                        out = fn(scalar, base) if reflected else fn(base, scalar)
                        values = out.asnumpy().astype(onp.float64)
                        record[name] = {"dtype": str(out.dtype),
                                        "value": [None if not onp.isfinite(v) else float(v) for v in values]}
                    except Exception as err:  # noqa: BLE001 - the kind of failure is the fact recorded
                        record[name] = {"error": type(err).__name__}
    return record


def compare_ops():
    record = {}
    for dtype in ("int32", "uint8", "bool", "float32"):
        base = np.array([v % 2 == 1 for v in VALUES] + [False] if dtype == "bool" else VALUES + [0], dtype=dtype)
        for sname, scalar in COMPARED_SCALARS:
            for oname, fn in COMPARISONS.items():
                for reflected in (False, True):
                    out = fn(scalar, base) if reflected else fn(base, scalar)
                    record["%s_%s_%s%s" % (dtype, oname, sname, "_r" if reflected else "")] = {
                        "dtype": str(out.dtype), "value": out.asnumpy().tolist()}
    return record


def _last_line(err):
    return str(err).strip().splitlines()[-1]


def assign_recording():
    cases = {
        "partial_key_graph_value": (lambda: np.zeros((3, 4)), lambda: np.ones((4,)), 0),
        "partial_slice_graph_value": (lambda: np.zeros((3, 4)), lambda: np.ones((2, 4)), slice(0, 2)),
        "partial_list_graph_value": (lambda: np.zeros((3, 4)), lambda: np.ones((2, 4)), [0, 2]),
        "whole_ellipsis_broadcast": (lambda: np.zeros((3, 4)), lambda: np.ones((4,)), Ellipsis),
        "whole_empty_tuple": (lambda: np.zeros((3, 4)), lambda: np.ones((3, 4)), ()),
        "whole_none": (lambda: np.zeros((3, 4)), lambda: np.ones((1, 3, 4)), None),
        "whole_colon": (lambda: np.zeros((3, 4)), lambda: np.ones((3, 1)), slice(None)),
        "whole_to_int32": (lambda: np.zeros((3, 4), dtype="int32"), lambda: np.ones((3, 4)), ()),
    }
    record = {}
    for name, (make_x, make_v, key) in cases.items():
        x, v = make_x(), make_v()
        v.attach_grad()
        try:
            with mx.autograd.record():
                x[key] = v * 2
                x.backward()
            record[name] = {"grad": v.grad.asnumpy().tolist(), "x": x.asnumpy().tolist(), "dtype": str(x.dtype)}
        except mx.base.MXNetError as err:
            record[name] = {"error": "MXNetError", "message": _last_line(err)}
    # assignments that MXNet allows: no array of the graph involved
    x = np.zeros((3, 4))
    with mx.autograd.record():
        x[0] = 1
        x[1] = np.ones((4,))
    record["plain_values"] = {"x": x.asnumpy().tolist()}
    # the target is in the graph: a variable, or a recorded result
    for name, key in (("target_variable_partial", 0), ("target_variable_whole", slice(None))):
        x = np.zeros((3, 4))
        x.attach_grad()
        try:
            with mx.autograd.record():
                x[key] = 1
            record[name] = {"error": None}
        except mx.base.MXNetError as err:
            record[name] = {"error": "MXNetError", "message": _last_line(err)}
    a = np.ones((3, 4))
    a.attach_grad()
    try:
        with mx.autograd.record():
            y = a * 2
            y[0] = 5
        record["target_recorded"] = {"error": None}
    except mx.base.MXNetError as err:
        record["target_recorded"] = {"error": "MXNetError", "message": _last_line(err)}
    return record


def errors_and_format():
    def kind(fn):
        try:
            fn()
        except Exception as err:  # noqa: BLE001 - the kind of failure is the fact recorded
            return type(err).__name__
        return None
    errors = {
        "empty_order_F": kind(lambda: np.empty((2, 3), order="F")),
        "copy_order_F": kind(lambda: np.array([1, 2]).copy(order="F")),
        "format_1d_with_spec": kind(lambda: "{:30}".format(np.array([onp.pi]))),
        "dot_not_aligned": kind(lambda: np.dot(np.ones((4, 5)), np.ones((2, 3)))),
        "dot_3d_1d_not_aligned": kind(lambda: np.dot(np.ones((3, 4, 5)), np.ones((6,)))),
        "matmul_vector_scalar": kind(lambda: np.matmul(np.ones((1,)), np.ones(()))),
        "max_of_empty": kind(lambda: np.ones((2, 0)).max()),
        "min_of_empty": kind(lambda: np.min(np.ones((0,)))),
        "linspace_negative_num": kind(lambda: np.linspace(0, 10, -1)),
        "linspace_float_num": kind(lambda: np.linspace(0, 1, 2.5)),
    }
    fmt = {
        "0d_3g": "{:0.3g}".format(np.array(onp.pi)),
        "0d_item_3g": "{:0.3g}".format(np.array(onp.pi)[()]),
        "1d_plain": "{}".format(np.array([onp.pi])),
        "0d_int_5d": "{:5d}".format(np.array(7, dtype="int32")),
    }
    return errors, fmt


def gradients():
    """Gradients MXNet gives where a cast or an empty operand is involved, and `grad` under grad_req='null'."""
    record = {}
    x = np.array(onp.linspace(-1, 1, 6, dtype=onp.float32).reshape(3, 2, 1).astype(onp.float16))
    for dtype in ("int8", "float32", "float16"):
        x.attach_grad()
        with mx.autograd.record():
            y = x.mean(axis=0, dtype=dtype, keepdims=True)
        y.backward()
        record["mean_f16_dtype_" + dtype] = {"dtype": str(y.dtype), "value": y.asnumpy().astype(float).tolist(),
                                             "grad": x.grad.asnumpy().astype(float).tolist()}
    a, b = np.ones((3, 0)), np.ones((0, 5))
    a.attach_grad()
    b.attach_grad()
    with mx.autograd.record():
        y = np.tensordot(a, b, 1)
    y.backward()
    record["tensordot_empty_inner"] = {"shape": list(y.shape), "value": y.asnumpy().tolist(),
                                       "grad_shapes": [list(a.grad.shape), list(b.grad.shape)]}
    n, w = np.ones((3,)), np.ones((3,))
    n.attach_grad(grad_req="null")
    w.attach_grad()
    record["grad_req_null_grad"] = repr(n.grad)
    with mx.autograd.record():
        y = (n * w).sum()
    y.backward(retain_graph=True)
    record["grad_req_null_grad_after_backward_retained"] = repr(n.grad)
    y.backward()
    record["grad_req_null_grad_after_backward"] = repr(n.grad)
    return record


UFUNC_KEYWORDS = [("where", False), ("where", True), ("subok", False), ("subok", True), ("dtype", "int8"),
                  ("dtype", "float32"), ("dtype", "abcdefg"), ("dtype", None), ("casting", "safe"),
                  ("casting", "same_kind"), ("casting", "mxnet"), ("order", "C"), ("order", "K"),
                  ("order", "mxnet"), ("foo", 1)]


def ufunc_keywords():
    """np.add / np.exp / np.bitwise_not given one NumPy ufunc keyword: None, or [error type, message]."""
    record = {}
    x, n = np.ones((2, 2)), np.ones((2,), dtype="int32")
    calls = {"add": lambda **kw: np.add(x, x, **kw), "exp": lambda **kw: np.exp(x, **kw),
             "bitwise_not": lambda **kw: np.bitwise_not(n, **kw)}
    for fname, call in calls.items():
        for key, value in UFUNC_KEYWORDS:
            try:
                call(**{key: value})
                outcome = None
            except Exception as err:  # noqa: BLE001 - the kind of failure is the fact recorded
                outcome = [type(err).__name__, str(err)]
            record["%s:%s=%r" % (fname, key, value)] = outcome
    return record


def values():
    x1, x2 = np.array([[3, -2], [5, 1]], dtype="int32"), np.array([[1, 2], [-1, 0]], dtype="int32")
    ldexp = np.ldexp(x1, x2)
    return {"linspace_int32": np.linspace(-2, 4, 30, dtype="int32").asnumpy().tolist(),
            "ldexp_int32": {"dtype": str(ldexp.dtype), "value": ldexp.asnumpy().tolist()}}


def main():
    os.makedirs(OUT, exist_ok=True)
    errors, fmt = errors_and_format()
    record = {"scalar_ops": scalar_ops(), "compare_ops": compare_ops(), "gradients": gradients(), "values": values(),
              "ufunc_keywords": ufunc_keywords(),
              "assign_recording": assign_recording(), "errors": errors, "format": fmt}
    with open(os.path.join(OUT, "rules.json"), "w") as fh:
        json.dump(record, fh, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
