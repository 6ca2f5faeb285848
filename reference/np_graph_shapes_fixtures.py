"""Record MXNet 1.9.1's hybridized numpy-mode blocks on the shape edge cases of tests/test_numpy_graph_shapes.py:
zero-dim results, empty pieces and differences, widths and shifts past an axis, split points MXNet refuses.

Run with the oracle venv: `/work/mxvenv/bin/python reference/np_graph_shapes_fixtures.py`. Writes
tests/fixtures/mxnet-1.9.1/np_graph_shapes/cases.json: a dict of named cases, each {"inputs": [arrays], "outputs":
[arrays]} or {"inputs": [arrays], "error": the exception's class name}, arrays as {"dtype": str, "shape": list,
"data": flat list}. Each case's function is named by its key in CASES below (the test holds the same table)."""
import json
import os

os.environ.setdefault("MXNET_MKLDNN_ENABLED", "0")

import numpy as onp  # noqa: E402
import mxnet as mx  # noqa: E402
from mxnet import np, npx  # noqa: E402
from mxnet.gluon import HybridBlock  # noqa: E402

npx.set_np()
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "np_graph_shapes")
VECTOR = onp.arange(6, dtype=onp.float32)
MATRIX = onp.arange(12, dtype=onp.float32).reshape(3, 4)
ZERO_DIM = onp.array(2.5, dtype=onp.float32)

# name -> (function of (F, *inputs), inputs)
CASES = {
    "around_zero_dim": (lambda F, a: F.np.around(a), [ZERO_DIM]),
    "round_zero_dim_1": (lambda F, a: F.np.round(a, 1), [onp.array(2.25, dtype=onp.float32)]),
    "split_empty_pieces": (lambda F, a: F.np.split(a, [0, 3, 3, 6]), [VECTOR]),
    "split_points_fall": (lambda F, a: F.np.split(a, [4, 2]), [VECTOR]),
    "split_point_past_end": (lambda F, a: F.np.split(a, [8]), [VECTOR]),
    "array_split_sections": (lambda F, a: F.np.array_split(a, 3, axis=1), [MATRIX]),
    "array_split_more_sections": (lambda F, a: F.np.array_split(a, 4), [onp.arange(3, dtype=onp.float32)]),
    "hsplit_vector": (lambda F, a: F.np.hsplit(a, [2, 2]), [VECTOR]),
    "diff_past_length": (lambda F, a: F.np.diff(a, n=4, axis=0), [MATRIX]),
    "ediff1d_one": (lambda F, a: F.np.ediff1d(a, to_begin=1, to_end=2), [onp.array([3.0], dtype=onp.float32)]),
    "roll_past_length": (lambda F, a: F.np.roll(a, 13, axis=1), [MATRIX]),
    "roll_flat_negative": (lambda F, a: F.np.roll(a, -7), [MATRIX]),
    "pad_reflect_wide": (lambda F, a: F.np.pad(a, ((3, 5), (4, 4)), mode="reflect"), [MATRIX[:2, :2]]),
    "pad_symmetric_wide": (lambda F, a: F.np.pad(a, ((0, 0), (5, 2)), mode="symmetric"), [MATRIX]),
    "hstack_vectors": (lambda F, a, b: F.np.hstack([a, b]), [VECTOR, onp.array([7.0], dtype=onp.float32)]),
    "concatenate_empty": (lambda F, a, b: F.np.concatenate([a, b], axis=0),
                          [onp.zeros((0, 4), dtype=onp.float32), MATRIX]),
    "clip_min_none": (lambda F, a: a.clip(None, 5), [MATRIX]),
    "clip_zero_dim": (lambda F, a: F.np.clip(a, 3, None), [ZERO_DIM]),
    "clip_no_bounds": (lambda F, a: a.clip(None, None), [MATRIX]),
    "logical_not": (lambda F, a: F.np.logical_not(a), [onp.array([0.0, 1.5, -2.0], dtype=onp.float32)]),
    "cumsum_method": (lambda F, a: a.cumsum(axis=1), [MATRIX]),
}


class Call(HybridBlock):
    def __init__(self, fn):
        super().__init__()
        self._fn = fn

    def hybrid_forward(self, F, *inputs):
        return self._fn(F, *inputs)


def encode(value):
    value = onp.asarray(value.asnumpy() if hasattr(value, "asnumpy") else value)
    data = value.ravel().astype(onp.float64).tolist() if value.dtype.kind == "f" else value.ravel().tolist()
    return {"dtype": value.dtype.name, "shape": list(value.shape), "data": data}


def record(fn, inputs):
    block = Call(fn)
    block.hybridize()
    case = {"inputs": [encode(x) for x in inputs]}
    try:
        out = block(*[np.array(x, dtype=x.dtype) for x in inputs])
        outs = out if isinstance(out, (list, tuple)) else [out]
        case["outputs"] = [encode(o) for o in outs]
    except Exception as err:  # noqa: BLE001 - the kind is the record
        case["error"] = "ValueError" if isinstance(err, ValueError) else type(err).__name__
    return case


def main():
    cases = {name: record(fn, inputs) for name, (fn, inputs) in CASES.items()}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1, sort_keys=True)
        f.write("\n")
    print("%d cases; errors: %s" % (len(cases), sorted(n for n, c in cases.items() if "error" in c)))
    assert mx.__version__ == "1.9.1"


if __name__ == "__main__":
    main()
