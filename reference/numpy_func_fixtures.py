"""Record MXNet 1.9.1's results of the mx.np function cases (tests/numpy_func_dtype_cases.py) for
tests/test_numpy_math.py.

Run with the oracle venv: `/work/mxvenv/bin/python reference/numpy_func_fixtures.py`. Writes
tests/fixtures/mxnet-1.9.1/numpy_func/dtypes.json: per case name, the dtype and shape of MXNet's result and, for
the deterministic cases, its values; a case MXNet refuses records the error instead.
"""
import json
import os
import sys

os.environ.setdefault("MXNET_MKLDNN_ENABLED", "0")

import numpy as onp  # noqa: E402
from mxnet import np, npx  # noqa: E402

npx.set_np()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tests import numpy_func_dtype_cases  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "numpy_func")


def main():
    os.makedirs(OUT, exist_ok=True)
    onp.random.seed(0)
    npx.random.seed(0)
    record = {}
    for name, make in numpy_func_dtype_cases.cases(np, onp).items():
        try:
            value = make()
        except Exception as err:  # noqa: BLE001 - recording what MXNet refuses
            record[name] = {"error": type(err).__name__, "message": str(err).splitlines()[-1][:200]}
            continue
        entry = {"dtype": str(value.dtype), "shape": list(value.shape)}
        if name not in numpy_func_dtype_cases.RANDOM:
            entry["value"] = value.asnumpy().tolist()
        record[name] = entry
    with open(os.path.join(OUT, "dtypes.json"), "w") as fh:
        json.dump(record, fh, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
