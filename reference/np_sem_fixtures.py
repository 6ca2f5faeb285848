"""Record MXNet 1.9.1's NumPy semantics inside hybridized numpy-mode blocks, for tests/test_numpy_symbol_semantics.py.

Run with the oracle venv: `/work/mxvenv/bin/python reference/np_sem_fixtures.py`. Writes under
tests/fixtures/mxnet-1.9.1/np_sem/:

- promotion.json: for each op (add, subtract, multiply, true_divide, mod, power) and each pair of dtypes, the dtype
  and values of MXNet's result of `op(lhs, rhs)` in a hybridized HybridBlock, lhs of shape (2, 3) and rhs of shape
  (3,) made from LHS and RHS below cast to the pair's dtypes; "error" instead where MXNet refuses the pair.
  `scalar` holds the same for each dtype with an int (2) and a float (2.5) number, on either side ("l": x op n,
  "r": n op x), as the function (F.np.add(x, 2)) and, keys ending in "o", as the operator (x + 2).
- contraction.npz: inputs and hybridized outputs of dot with a 3-D (and 1-D) second operand, tensordot (int and
  list axes), vdot, inner, outer, and the gradients of dot(a3, b3).sum() with respect to both operands.
- zero_dim.json: shapes of hybridized reductions over every axis (sum, mean, max) and of `x.sum() + 1`.
"""
import json
import operator
import os

os.environ.setdefault("MXNET_MKLDNN_ENABLED", "0")

import numpy as onp  # noqa: E402
from mxnet import autograd, np, npx  # noqa: E402
from mxnet.gluon import HybridBlock  # noqa: E402

npx.set_np()
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "np_sem")

DTYPES = ("bool", "int8", "uint8", "int32", "int64", "float16", "float32", "float64")
OPS = ("add", "subtract", "multiply", "true_divide", "mod", "power")
LHS = [[1, 2, 3], [4, 0, 3]]
RHS = [1, 2, 3]
OPERATORS = {"add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
             "true_divide": operator.truediv, "mod": operator.mod, "power": operator.pow}


class Binary(HybridBlock):
    def __init__(self, op, scalar=None, reflected=False, operator=False):
        super().__init__()
        self.op, self.scalar, self.reflected, self.operator = op, scalar, reflected, operator

    def hybrid_forward(self, F, x, *rest):
        fn = OPERATORS[self.op] if self.operator else getattr(F.np, self.op)
        if self.scalar is None:
            return fn(x, rest[0])
        return fn(self.scalar, x) if self.reflected else fn(x, self.scalar)


def _run(block, *arrays):
    block.hybridize()
    try:
        out = block(*arrays)
        out.wait_to_read()
        return {"dtype": str(out.dtype), "value": out.asnumpy().astype(onp.float64).tolist()}
    except Exception as err:  # noqa: BLE001 - the oracle's refusal is the fact recorded
        return {"error": type(err).__name__}


def promotion():
    table, scalar = {}, {}
    for op in OPS:
        for lt in DTYPES:
            for rt in DTYPES:
                lhs, rhs = np.array(onp.array(LHS).astype(lt)), np.array(onp.array(RHS).astype(rt))
                table["%s/%s/%s" % (op, lt, rt)] = _run(Binary(op), lhs, rhs)
            for number in (2, 2.5):
                for reflected in (False, True):
                    for use_operator in (False, True):
                        x = np.array(onp.array(LHS).astype(lt))
                        key = "%s/%s/%r/%s%s" % (op, lt, number, "r" if reflected else "l", "o" * use_operator)
                        scalar[key] = _run(Binary(op, number, reflected, use_operator), x)
    return {"lhs": LHS, "rhs": RHS, "pairs": table, "scalar": scalar}


class Contractions(HybridBlock):
    def hybrid_forward(self, F, a, b3, b1, c):
        return (F.np.dot(a, b3), F.np.dot(a, b1), F.np.tensordot(a, c, axes=1),
                F.np.tensordot(b3, c, axes=([1, 2], [0, 1])), F.np.vdot(a, a), F.np.inner(a, b3.sum(axis=0).T),
                F.np.outer(b1, c))


def contraction():
    rs = onp.random.RandomState(7)
    a = rs.uniform(-1, 1, (2, 4)).astype(onp.float32)
    b3 = rs.uniform(-1, 1, (3, 4, 5)).astype(onp.float32)
    b1 = rs.uniform(-1, 1, (4,)).astype(onp.float32)
    c = rs.uniform(-1, 1, (4, 5)).astype(onp.float32)
    block = Contractions()
    block.hybridize()
    outs = block(*(np.array(v) for v in (a, b3, b1, c)))
    record = {"a": a, "b3": b3, "b1": b1, "c": c}
    record.update({"y%d" % k: out.asnumpy() for k, out in enumerate(outs)})

    a_arr, b_arr = np.array(a), np.array(b3)
    a_arr.attach_grad()
    b_arr.attach_grad()

    class Dot(HybridBlock):
        def hybrid_forward(self, F, x, y):
            return F.np.dot(x, y)
    dot = Dot()
    dot.hybridize()
    head = rs.uniform(-1, 1, (2, 3, 5)).astype(onp.float32)
    with autograd.record():
        out = dot(a_arr, b_arr)
    out.backward(np.array(head))
    record.update(head=head, grad_a=a_arr.grad.asnumpy(), grad_b3=b_arr.grad.asnumpy())
    return record


class Reductions(HybridBlock):
    def hybrid_forward(self, F, x):
        return x.sum(), F.np.mean(x), x.max(), x.sum() + 1, F.np.sum(x, axis=(0, 1))


def zero_dim():
    block = Reductions()
    block.hybridize()
    outs = block(np.array(onp.arange(6.0).reshape(2, 3)))
    return {"shapes": [list(o.shape) for o in outs], "values": [o.asnumpy().tolist() for o in outs],
            "types": [type(o).__name__ for o in outs]}


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "promotion.json"), "w") as f:
        json.dump(promotion(), f, separators=(",", ":"), sort_keys=True)
    onp.savez(os.path.join(OUT, "contraction.npz"), **contraction())
    with open(os.path.join(OUT, "zero_dim.json"), "w") as f:
        json.dump(zero_dim(), f, indent=1)


if __name__ == "__main__":
    main()
