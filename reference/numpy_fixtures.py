"""Record MXNet 1.9.1's `mx.np` dtype defaults and a few outputs for tests/test_numpy_interface.py.

Run with the oracle venv: `/work/mxvenv/bin/python reference/numpy_fixtures.py`. Writes
tests/fixtures/mxnet-1.9.1/numpy/dtypes.json: for each case name, the dtype (and shape) of MXNet's result, and
for small deterministic cases the values. Only facts where MXNet's numpy mode differs from NumPy's matter here.
"""
import json
import os

os.environ.setdefault("MXNET_MKLDNN_ENABLED", "0")

import numpy as onp  # noqa: E402
from mxnet import np, npx  # noqa: E402

npx.set_np()
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "numpy")

ints = onp.arange(6, dtype=onp.int32).reshape(2, 3)
CASES = {
    "array_int_list": lambda: np.array([1, 2, 3]),
    "array_float_list": lambda: np.array([1.5, 2.0]),
    "array_numpy_int64": lambda: np.array(onp.arange(3)),
    "array_numpy_float64": lambda: np.array(onp.ones(3)),
    "zeros": lambda: np.zeros((2, 2)),
    "ones": lambda: np.ones(3),
    "full_int": lambda: np.full((2,), 7),
    "full_float": lambda: np.full((2,), 0.5),
    "empty": lambda: np.empty((1, 2)),
    "arange_int": lambda: np.arange(5),
    "arange_float_step": lambda: np.arange(0, 1, 0.25),
    "linspace": lambda: np.linspace(0, 1, 5),
    "eye": lambda: np.eye(3),
    "argmax": lambda: np.argmax(np.array([[1., 5., 2.], [7., 0., 1.]]), axis=1),
    "compare": lambda: np.array([1., 2.]) < np.array([2., 2.]),
    "int_truediv": lambda: np.array(ints, dtype="int32") / np.array(ints + 1, dtype="int32"),
    "int_sum": lambda: np.sum(np.array(ints, dtype="int32")),
    "int_mean": lambda: np.mean(np.array(ints, dtype="int32")),
    "sum_all_float": lambda: np.sum(np.array([[1., 2.], [3., 4.]])),
    "randint": lambda: np.random.randint(0, 10, size=(3,)),
    "normal": lambda: np.random.normal(0, 1, size=(2,)),
    "uniform_scalar": lambda: np.random.uniform(),
    "zero_dim_array": lambda: np.array(3.5),
    "item_index": lambda: np.array([[1., 2.], [3., 4.]])[1, 0],
    "row_index": lambda: np.array([[1., 2.], [3., 4.]])[1],
    "exp_int": lambda: np.exp(np.array(ints, dtype="int32")),
    "zeros_like_int": lambda: np.zeros_like(np.array(ints, dtype="int32")),
    "float_index_take": lambda: np.array([10., 20., 30.])[np.array([2, 0])],
    "int_div_scalar": lambda: np.array(ints, dtype="int32") / 2,
    "float32_plus_int32": lambda: np.ones(3) + np.array([1, 2, 3], dtype="int32"),
    "float64_times_float32": lambda: np.ones(3, dtype="float64") * np.ones(3),
    "int32_plus_int64": lambda: np.array([1, 2], dtype="int32") + np.array([1, 2], dtype="int64"),
    "mean_keepdims": lambda: np.mean(np.array([[1., 2.], [3., 5.]]), axis=0, keepdims=True),
}
RANDOM = {"randint", "normal", "uniform_scalar"}


def main():
    os.makedirs(OUT, exist_ok=True)
    record = {}
    for name, make in CASES.items():
        value = make()
        entry = {"dtype": str(value.dtype), "shape": list(value.shape), "type": type(value).__module__ + "." +
                 type(value).__name__}
        if name not in RANDOM and "empty" not in name:
            entry["value"] = value.asnumpy().tolist()
        record[name] = entry
    a = np.array([[1., 2.], [3., 4.]])
    record["repr_2d"] = {"repr": repr(a), "str": str(a)}
    record["repr_0d"] = {"repr": repr(np.array(2.5)), "str": str(np.array(2.5))}
    record["repr_float64"] = {"repr": repr(np.ones(3, dtype="float64")), "str": str(np.ones(3, dtype="float64"))}
    record["repr_int32"] = {"repr": repr(np.array([1, 2], dtype="int32")), "str": ""}
    record["repr_bool"] = {"repr": repr(np.array([1., 0.]) > 0), "str": ""}
    try:
        np.ones((2, 3)) + np.ones((4,))
    except Exception as err:  # noqa: BLE001 - recording the kind
        record["broadcast_error"] = {"type": type(err).__name__, "bases": [c.__name__ for c in type(err).__mro__]}
    with open(os.path.join(OUT, "dtypes.json"), "w") as fh:
        json.dump(record, fh, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
