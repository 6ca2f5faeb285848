"""Record MXNet 1.9.1's numpy-mode maths where it differs from NumPy (or where NumPy 2 changed), for
tests/test_numpy_op_math.py.

Run with the oracle venv: `/work/mxvenv/bin/python reference/np_math_fixtures.py`. Writes
tests/fixtures/mxnet-1.9.1/np_math/cases.json: a dict of named cases, each {"inputs": ..., "outputs": ...} with
arrays as {"dtype": str, "shape": list, "data": flat list} (NaN/inf as strings "nan", "inf", "-inf")."""
import json
import os

os.environ.setdefault("MXNET_MKLDNN_ENABLED", "0")

import numpy as onp  # noqa: E402
from mxnet import np, npx  # noqa: E402

npx.set_np()
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "np_math")
RS = onp.random.RandomState(23)


def encode(value):
    """A JSON-able form of an mx/NumPy array or scalar."""
    if hasattr(value, "asnumpy"):
        value = value.asnumpy()
    value = onp.asarray(value)
    data = [v if onp.isfinite(v) else str(v) for v in value.ravel().astype(onp.float64).tolist()] \
        if value.dtype.kind == "f" else value.ravel().tolist()
    return {"dtype": value.dtype.name, "shape": list(value.shape), "data": data}


def around_of_integers():
    """np.around of int32/int64 data with negative decimals (halves and negative values included)."""
    cases = {}
    data = onp.array([-1500, -1499, -250, -150, -149, -51, -50, -49, -15, -5, 0, 5, 14, 15, 25, 49, 50, 51, 149, 150,
                      250, 1499, 1500, 12345], dtype=onp.int64)
    for dtype in ("int32", "int64"):
        for decimals in (-4, -3, -2, -1, 0, 2):
            x = np.array(data, dtype=dtype)
            cases["around_%s_%d" % (dtype, decimals)] = {"inputs": {"x": encode(x), "decimals": decimals},
                                                         "outputs": encode(np.around(x, decimals))}
    return cases


def main():
    cases = {}
    cases.update(around_of_integers())
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=None, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
