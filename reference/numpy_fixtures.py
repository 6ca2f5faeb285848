"""Record MXNet 1.9.1's `mx.np` dtype defaults and a few outputs for tests/test_numpy_interface.py.

Run with the oracle venv: `/work/mxvenv/bin/python reference/numpy_fixtures.py`. Writes
tests/fixtures/mxnet-1.9.1/numpy/dtypes.json: for each case name, the dtype (and shape) of MXNet's result, and
for small deterministic cases the values. Only facts where MXNet's numpy mode differs from NumPy's matter here.
"""
import json
import os
import sys

os.environ.setdefault("MXNET_MKLDNN_ENABLED", "0")

import numpy as onp  # noqa: E402
from mxnet import np, npx  # noqa: E402

npx.set_np()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tests import numpy_cases  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "numpy")

CASES = numpy_cases.cases(np, onp)
RANDOM = numpy_cases.RANDOM


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
