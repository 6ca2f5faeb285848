"""Record MXNet 1.9.1's behaviour that tests/test_numpy_array_internal.py checks (issue 23, the array side).

Run with the oracle venv: `/work/mxvenv/bin/python reference/np_internal_fixtures.py`. Writes
tests/fixtures/mxnet-1.9.1/np_internal/cases.json (see that folder's README.md):
- "scalar_shape": `mx.nd.zeros/ones/random.uniform/random.normal(shape=())` under np_shape (a scalar array: its
  shape and dtype), and `mx.nd.random.uniform(shape=())` without np_shape (MXNet 1.x reads () as unknown: the
  error's type);
- "mask_assign": `mx.nd.np._internal.boolean_mask_assign_scalar/_tensor(data, mask, value, start_axis, out=data)`
  on small arrays: the data afterwards, or the error's type (a mask whose shape does not match, no `out`).
"""
import json
import os

os.environ.setdefault("MXNET_MKLDNN_ENABLED", "0")

import mxnet as mx  # noqa: E402
import numpy as onp  # noqa: E402
from mxnet import np, npx  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "mxnet-1.9.1",
                   "np_internal")


def _error(fn):
    try:
        fn()
        mx.nd.waitall()
    except Exception as e:  # noqa: BLE001 - the kind is the record
        return type(e).__name__
    return None


def scalar_shapes():
    out = {}
    npx.set_np()
    for name, make in [("zeros", lambda: mx.nd.zeros(shape=())), ("ones", lambda: mx.nd.ones(shape=())),
                       ("uniform", lambda: mx.nd.random.uniform(shape=())),
                       ("normal", lambda: mx.nd.random.normal(shape=()))]:
        x = make()
        out[name] = {"shape": list(x.shape), "dtype": onp.dtype(x.dtype).name, "ndim": x.ndim}
    npx.reset_np()
    out["uniform_legacy_error"] = _error(lambda: mx.nd.random.uniform(shape=()).asnumpy())
    return out


# (data shape, mask, mask dtype, start_axis, value: a number or a nested list, function)
MASK_CASES = [
    ((2, 3), [True, False], "bool", 0, 5.0, "scalar"),
    ((2, 3), [0, 3], "int32", 0, 5.0, "scalar"),
    ((2, 3), [0.0, 1.0], "float32", 0, -1.5, "scalar"),
    ((2, 3), [True, False], "bool", 0, [1.0, 2.0, 3.0], "tensor"),
    ((2, 3), [True, False, True], "bool", 1, [[7.0], [8.0]], "tensor"),
    ((2, 3, 4), [[True, False, True], [False, False, True]], "bool", 0, 4.0, "scalar"),
    ((2, 3, 4), [[True, False, True, True], [False, True, False, True], [True, True, False, False]], "bool", 1,
     [[9.0]], "tensor"),
    ((), True, "bool", 0, 2.5, "scalar"),
]


def mask_assign():
    npx.set_np()
    cases = []
    for shape, mask, mdtype, start_axis, value, kind in MASK_CASES:
        data = np.arange(int(onp.prod(shape)), dtype="float32").reshape(shape)
        m = np.array(mask, dtype=mdtype)
        v = value if kind == "scalar" else np.array(value, dtype="float32")
        fn = getattr(mx.nd.np._internal, "boolean_mask_assign_" + kind)
        fn(data, m, v, start_axis=start_axis, out=data)
        cases.append({"shape": list(shape), "mask": mask, "mask_dtype": mdtype, "start_axis": start_axis,
                      "value": value, "kind": kind, "result": data.asnumpy().tolist()})
    data = np.zeros((2, 3))
    errors = {
        "mask_shape_mismatch": _error(lambda: mx.nd.np._internal.boolean_mask_assign_scalar(
            data, np.array([True, False, True], dtype="bool"), 1.0, start_axis=0, out=data)),
        "no_out": _error(lambda: mx.nd.np._internal.boolean_mask_assign_scalar(
            data, np.array([True, False], dtype="bool"), 1.0, start_axis=0).asnumpy()),
    }
    npx.reset_np()
    return {"cases": cases, "errors": errors}


def main():
    os.makedirs(OUT, exist_ok=True)
    record = {"scalar_shape": scalar_shapes(), "mask_assign": mask_assign()}
    with open(os.path.join(OUT, "cases.json"), "w") as fh:
        json.dump(record, fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
