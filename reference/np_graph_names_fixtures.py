"""Record MXNet 1.9.1's answers for the mx.sym.np / mx.sym.npx functions added in issue 23 (session 9), inside
hybridized numpy-mode blocks, for tests/test_numpy_graph_names.py.

Run with the oracle venv: `/work/mxvenv/bin/python reference/np_graph_names_fixtures.py`. Writes
tests/fixtures/mxnet-1.9.1/np_graph_names/names.json (see the README.md there):

- npx_reshape: for input shapes and newshape values (-1 ... -6, reverse), the output shape or the error's class.
- matrices, eig, eigvals: for real-eigenvalue matrices, F.np.linalg.eig's eigenvalues and eigenvectors and
  eigvals' values; for a rotation (complex eigenvalues), the error's class.
- diag_indices_from, resize: dtype, shape and values.
- constraint_check: the output's dtype and shape when the check holds, the error's class when it fails.
- unique, nonzero: what MXNet's graph gives (dynamic shapes), recorded to document what dataflow refuses.
- sym_npx, sym_npx_random, sym_npx_image: the public names of mx.sym.npx and its random and image modules.
"""
import json
import os

os.environ.setdefault("MXNET_MKLDNN_ENABLED", "0")

import mxnet as mx  # noqa: E402
import numpy as onp  # noqa: E402
from mxnet import np, npx  # noqa: E402
from mxnet.gluon import HybridBlock  # noqa: E402

npx.set_np()
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "np_graph_names")


class Function(HybridBlock):
    def __init__(self, function):
        super().__init__()
        self.function = function

    def hybrid_forward(self, F, *args):
        return self.function(F, *args)


def _result(out):
    return {"dtype": str(out.dtype), "shape": list(out.shape),
            "value": out.asnumpy().astype(onp.float64).reshape(-1).tolist()}


def _run(function, *arrays):
    block = Function(function)
    block.hybridize()
    try:
        out = block(*[np.array(a, dtype=a.dtype) for a in arrays])
        return [_result(o) for o in out] if isinstance(out, (list, tuple)) else _result(out)
    except Exception as err:  # noqa: BLE001 - the oracle's refusal is the fact recorded
        return {"error": type(err).__name__}


RESHAPES = [((2, 1, 3, 4), (-2, -3, -1), False), ((1,), (-3,), False), ((2, 1, 3, 4), (-2, -3, -5), False),
            ((2, 1, 3, 4), (-4,), False), ((2, 1, 3, 4), (-6, 1, 2, -4), False),
            ((2, 1, 3, 4), (-2, -3, -6, 3, -1, -2), False), ((2, 1, 3, 4), (-3, -1), False),
            ((2, 3, 1, 4), (-1, -3, -2), True), ((8, 1, 1, 1, 3), (-2, -3, -3, -3, -2), False),
            ((8, 3, 2, 4, 8), (-4, -1, 2, -6), True), ((1, 1), (), False), ((4, 1, 6), (2, -1, -3, 3), False),
            ((2, 3, 1), (-5, -3), False)]
MATRICES = {"symmetric": [[2.0, 1.0], [1.0, 3.0]], "triangular": [[1.0, 2.0, 0.5], [0.0, 3.0, -1.0], [0.0, 0.0, -2.0]],
            "general": [[4.0, 1.0], [2.0, 3.0]], "rotation": [[0.0, -1.0], [1.0, 0.0]]}


def main():
    out = {"npx_reshape": [], "matrices": MATRICES, "eig": {}, "eigvals": {}}
    for shape, newshape, reverse in RESHAPES:
        x = onp.arange(int(onp.prod(shape)), dtype="float32").reshape(shape)
        got = _run(lambda F, a, n=newshape, r=reverse: F.npx.reshape(a, n, reverse=r), x)
        out["npx_reshape"].append({"shape": list(shape), "newshape": list(newshape), "reverse": reverse,
                                   "result": {"error": got["error"]} if "error" in got else got["shape"]})
    for name, m in MATRICES.items():
        a = onp.array(m, "float32")
        out["eig"][name] = _run(lambda F, x: F.np.linalg.eig(x), a)
        out["eigvals"][name] = _run(lambda F, x: F.np.linalg.eigvals(x), a)
    square = onp.zeros((3, 3), "float32")
    cube = onp.zeros((2, 2, 2), "float32")
    out["diag_indices_from"] = {"3x3": _run(lambda F, x: F.np.diag_indices_from(x), square),
                                "2x2x2": _run(lambda F, x: F.np.diag_indices_from(x), cube)}
    data = onp.array([3, 1, 2, 3, 1], "float32")
    out["resize"] = {"data": data.tolist(),
                     "(2, 4)": _run(lambda F, x: F.np.resize(x, (2, 4)), data),
                     "7": _run(lambda F, x: F.np.resize(x, 7), data),
                     "(2, 3) of (2, 3) int32": _run(lambda F, x: F.np.resize(x, (3, 2)),
                                                    onp.arange(6, dtype="int32").reshape(2, 3))}
    out["constraint_check"] = {
        "holds": _run(lambda F, x: F.npx.constraint_check(x, "msg"), onp.ones((2, 3), bool)),
        "fails": _run(lambda F, x: F.npx.constraint_check(x, "msg"), onp.array([True, False]))}
    out["dynamic"] = {"unique": _run(lambda F, x: F.np.unique(x), data),
                      "nonzero": _run(lambda F, x: F.npx.nonzero(x), data.reshape(5, 1) - 1)}
    for key, module in (("sym_npx", mx.sym.npx), ("sym_npx_random", mx.sym.npx.random),
                        ("sym_npx_image", mx.sym.npx.image)):
        out[key] = sorted(name for name in dir(module) if not name.startswith("_"))
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "names.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
