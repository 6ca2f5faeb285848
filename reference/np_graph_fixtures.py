"""Record MXNet 1.9.1's answers for NumPy functions inside hybridized numpy-mode blocks, for
tests/test_numpy_graph_semantics.py (issue 23: comparisons, maximum/minimum, where, matmul with 1-D operands,
var/std/average/trace/any/all, bitwise_not, integer mod's gradient, reductions of bool arrays).

Run with the oracle venv: `/work/mxvenv/bin/python reference/np_graph_fixtures.py`. Writes under
tests/fixtures/mxnet-1.9.1/np_graph/ (see the README.md there):

- binary.json: for equal ... less_equal, maximum, minimum and each pair of dtypes, the result's dtype and values of
  `F.np.op(lhs, rhs)` (lhs (2, 3), rhs (3,)), or the error's class name where MXNet refuses the pair; and `where`
  for each condition dtype with x and y of each dtype (one dtype for both, then pairs of two).
- functions.json: dtype, shape and values of var/std (integer and float input, axis, ddof, dtype), average, trace,
  any, all, sum/prod/max of bool, bitwise_not/invert of integer and bool arrays (float: the error).
- matmul.npz: matmul with 1-D operands on either side (and a batch of matrices with a 1-D operand), each result and
  the gradients of both operands for a given head gradient.
- mod_grad.npz: the gradients of mod for int32 and float32 operands (MXNet: zero for integers).
"""
import json
import os

os.environ.setdefault("MXNET_MKLDNN_ENABLED", "0")

import numpy as onp  # noqa: E402
from mxnet import autograd, np, npx  # noqa: E402
from mxnet.gluon import HybridBlock  # noqa: E402

npx.set_np()
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "np_graph")

DTYPES = ("bool", "int8", "uint8", "int32", "int64", "float16", "float32", "float64")
BINARY = ("equal", "not_equal", "greater", "greater_equal", "less", "less_equal", "maximum", "minimum")
LHS = [[1, 2, 3], [4, 0, 3]]
RHS = [1, 0, 3]


class Function(HybridBlock):
    def __init__(self, function):
        super().__init__()
        self.function = function

    def hybrid_forward(self, F, *args):
        return self.function(F, *args)


def _run(function, *arrays):
    block = Function(function)
    block.hybridize()
    try:
        out = block(*arrays)
        out.wait_to_read()
        return {"dtype": str(out.dtype), "shape": list(out.shape),
                "value": out.asnumpy().astype(onp.float64).reshape(-1).tolist()}
    except Exception as err:  # noqa: BLE001 - the oracle's refusal is the fact recorded
        return {"error": type(err).__name__}


def _array(values, dtype):
    return np.array(onp.array(values).astype(dtype))


def binary():
    pairs = {}
    for op in BINARY:
        for lt in DTYPES:
            for rt in DTYPES:
                pairs["%s/%s/%s" % (op, lt, rt)] = _run(lambda F, x, y, op=op: getattr(F.np, op)(x, y),
                                                        _array(LHS, lt), _array(RHS, rt))
    where = {}
    condition = [[1, 0, 2], [0, 0, 1]]
    for ct in DTYPES:
        for xt in DTYPES:
            where["%s/%s/%s" % (ct, xt, xt)] = _run(lambda F, c, x, y: F.np.where(c, x, y), _array(condition, ct),
                                                   _array(LHS, xt), _array(RHS, xt))
    for xt, yt in (("int8", "uint8"), ("int32", "float32"), ("float32", "float64"), ("bool", "int32")):
        where["bool/%s/%s" % (xt, yt)] = _run(lambda F, c, x, y: F.np.where(c, x, y), _array(condition, "bool"),
                                             _array(LHS, xt), _array(RHS, yt))
    return {"lhs": LHS, "rhs": RHS, "condition": condition, "pairs": pairs, "where": where}


MOMENT_DATA = [[1, -2, 3], [4, 0, -3]]
FUNCTIONS = {
    "var/int32": lambda F, x: F.np.var(x),
    "var/int32/axis0": lambda F, x: F.np.var(x, axis=0),
    "std/int32/axis1/ddof1": lambda F, x: F.np.std(x, axis=1, ddof=1),
    "var/float32": lambda F, x: F.np.var(x),
    "var/float32/keepdims": lambda F, x: x.var(keepdims=True),
    "std/float32/ddof1": lambda F, x: x.std(ddof=1),
    "std/float32/axis0/float64": lambda F, x: x.std(axis=0, dtype="float64"),
    "average/int32": lambda F, x: F.np.average(x),
    "average/int32/axis1": lambda F, x: F.np.average(x, axis=1),
    "average/float32": lambda F, x: F.np.average(x),
    "average/float32/weights": lambda F, x: F.np.average(x, weights=F.np.abs(x)),
    "trace/int8": lambda F, x: F.np.trace(x),
    "trace/float32": lambda F, x: F.np.trace(x),
    "trace/float32/offset1": lambda F, x: F.np.trace(x, offset=1),
    "any/int32": lambda F, x: F.np.any(x),
    "any/float32/axis0": lambda F, x: F.np.any(x, axis=0),
    "all/int32": lambda F, x: F.np.all(x),
    "all/float32/keepdims": lambda F, x: F.np.all(x, keepdims=True),
    "sum/bool": lambda F, x: F.np.sum(x),
    "sum/bool/axis0": lambda F, x: x.sum(axis=0),
    "prod/bool": lambda F, x: F.np.prod(x),
    "max/bool": lambda F, x: F.np.max(x),
    "mean/bool": lambda F, x: F.np.mean(x),
    "bitwise_not/int8": lambda F, x: F.np.bitwise_not(x),
    "bitwise_not/int32": lambda F, x: F.np.bitwise_not(x),
    "bitwise_not/uint8": lambda F, x: F.np.bitwise_not(x),
    "bitwise_not/int64": lambda F, x: F.np.bitwise_not(x),
    "bitwise_not/bool": lambda F, x: F.np.bitwise_not(x),
    "invert/int32": lambda F, x: F.np.invert(x),
    "invert/bool": lambda F, x: F.np.invert(x),
    "bitwise_not/float32": lambda F, x: F.np.bitwise_not(x),
}


def functions():
    out = {}
    for key, function in FUNCTIONS.items():
        dtype = key.split("/")[1]
        data = onp.array(MOMENT_DATA)
        out[key] = _run(function, _array(data > 0 if dtype == "bool" else data, dtype))
    return {"data": MOMENT_DATA, "results": out}


MATMUL_SHAPES = {"v_m": ((3,), (3, 4)), "m_v": ((2, 3), (3,)), "v_v": ((3,), (3,)), "b_v": ((2, 4, 3), (3,)),
                 "v_b": ((3,), (2, 3, 4)), "b_m": ((2, 1, 4, 3), (3, 5))}


def matmul():
    rs = onp.random.RandomState(23)
    record = {}
    for key, (a_shape, b_shape) in MATMUL_SHAPES.items():
        a = rs.uniform(-1, 1, a_shape).astype(onp.float32)
        b = rs.uniform(-1, 1, b_shape).astype(onp.float32)
        a_arr, b_arr = np.array(a), np.array(b)
        a_arr.attach_grad()
        b_arr.attach_grad()
        block = Function(lambda F, x, y: F.np.matmul(x, y))
        block.hybridize()
        with autograd.record():
            out = block(a_arr, b_arr)
        head = rs.uniform(-1, 1, out.shape).astype(onp.float32)
        out.backward(np.array(head))
        record.update({key + "/a": a, key + "/b": b, key + "/out": out.asnumpy(), key + "/head": head,
                       key + "/grad_a": a_arr.grad.asnumpy(), key + "/grad_b": b_arr.grad.asnumpy()})
    return record


def mod_grad():
    record = {}
    for dtype in ("int32", "float32"):
        a = onp.array([[7, 5, 9], [4, 8, 3]]).astype(dtype)
        b = onp.array([2, 3, 4]).astype(dtype)
        a_arr, b_arr = np.array(a), np.array(b)
        a_arr.attach_grad()
        b_arr.attach_grad()
        block = Function(lambda F, x, y: F.np.mod(x, y))
        block.hybridize()
        with autograd.record():
            out = block(a_arr, b_arr)
        out.backward()
        record.update({dtype + "/a": a, dtype + "/b": b, dtype + "/out": out.asnumpy(),
                       dtype + "/grad_a": a_arr.grad.asnumpy(), dtype + "/grad_b": b_arr.grad.asnumpy()})
    return record


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "binary.json"), "w") as f:
        json.dump(binary(), f, separators=(",", ":"), sort_keys=True)
    with open(os.path.join(OUT, "functions.json"), "w") as f:
        json.dump(functions(), f, indent=0, sort_keys=True)
    onp.savez(os.path.join(OUT, "matmul.npz"), **matmul())
    onp.savez(os.path.join(OUT, "mod_grad.npz"), **mod_grad())


if __name__ == "__main__":
    main()
