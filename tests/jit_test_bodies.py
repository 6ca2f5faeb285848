"""Small njit op bodies that follow the JIT contract (/work/notes/jit_contract.md), for tests/test_compile.py: they
let the Plan compiler be tested on its own, whatever ops.jit covers. `bodies(op, params, in_meta, out_meta, req)`
is the provider; `provider(names)` one limited to some ops (the others run interpreted).

Every body writes with req the way the op's CPU kernel does (req code: 0 write or inplace, 1 add, 2 null); the
tests compare against the interpreted Plan, which runs the kernels, so a body here that disagreed would fail them.
"""
import numba
import numpy as np

from ops.jit import Body
from ops.jit.common import as_dtype_of
from ops.registry import ADD, NULL

_WRITE, _ADD, _NULL = 0, 1, 2


def _code(req):
    return _ADD if req == ADD else _NULL if req == NULL else _WRITE


# ---- scalar functions (elementwise, fused by the compiler) -------------------------------------------------------
@numba.njit(inline="always", cache=True)
def add_s(a, b):
    return a + b


@numba.njit(inline="always", cache=True)
def sub_s(a, b):
    return a - b


@numba.njit(inline="always", cache=True)
def mul_s(a, b):
    return a * b


@numba.njit(inline="always", cache=True)
def neg_s(a):
    return -a


@numba.njit(inline="always", cache=True)
def relu_s(x):
    return x if x > 0 or x != x else x * 0


@numba.njit(inline="always", cache=True)
def relu_grad_s(dy, y):
    return dy if y > 0 else dy * 0


@numba.njit(inline="always", cache=True)
def plus_c_s(x, c):
    return x + c


@numba.njit(inline="always", cache=True)
def mul_c_s(x, c):
    return x * c


@numba.njit(inline="always", cache=True)
def minus_c_s(x, c):
    return x - c


# ---- loops over flat arrays: the bodies themselves -------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def unary(x, out, kind, c, req):
    xf, of = x.reshape(x.size), out.reshape(out.size)
    for i in range(of.size):
        v = xf[i]
        if kind == 0:
            r = relu_s(v)
        elif kind == 1:
            r = neg_s(v)
        elif kind == 2:
            r = plus_c_s(v, c)
        elif kind == 3:
            r = mul_c_s(v, c)
        else:
            r = minus_c_s(v, c)
        if req == _ADD:             # rounded to out's dtype first (c is a float64), as the kernels' assign does
            of[i] += as_dtype_of(r, of)
        elif req == _WRITE:
            of[i] = r


@numba.njit(cache=True, nogil=True)
def binary(a, b, out, kind, req):
    af, bf, of = a.reshape(a.size), b.reshape(b.size), out.reshape(out.size)
    sa, sb = af.size == 1, bf.size == 1
    for i in range(of.size):
        x = af[0] if sa else af[i]
        y = bf[0] if sb else bf[i]
        if kind == 0:
            r = add_s(x, y)
        elif kind == 1:
            r = sub_s(x, y)
        elif kind == 2:
            r = mul_s(x, y)
        else:
            r = relu_grad_s(x, y)
        if req == _ADD:
            of[i] += r
        elif req == _WRITE:
            of[i] = r


@numba.njit(cache=True, nogil=True)
def fully_connected(x, w, b, out, req):
    rows = x.reshape(out.shape[0], w.shape[1])
    y = np.dot(rows, w.T)
    y += b
    if req == _ADD:
        out += y
    elif req == _WRITE:
        out[...] = y


@numba.njit(cache=True, nogil=True)
def fully_connected_backward(dy, x, w, dx, dw, db, req_x, req_w, req_b):
    rows = x.reshape(dy.shape[0], w.shape[1])
    gx = np.dot(dy, w).reshape(dx.shape)
    gw = np.dot(dy.T.copy(), rows)
    gb = dy.sum(axis=0) if dy.shape[0] > 0 else np.zeros(dy.shape[1], dy.dtype)
    for g, out, req in ((gx.ravel(), dx.ravel(), req_x), (gw.ravel(), dw.ravel(), req_w)):
        if req == _ADD:
            out += g
        elif req == _WRITE:
            out[:] = g
    if req_b == _ADD:
        db += gb
    elif req_b == _WRITE:
        db[:] = gb


_UNARY = {"relu": 0, "negative": 1, "_plus_scalar": 2, "_mul_scalar": 3, "_minus_scalar": 4}
_UNARY_SCALAR = {"relu": relu_s, "negative": neg_s, "_plus_scalar": plus_c_s, "_mul_scalar": mul_c_s,
                 "_minus_scalar": minus_c_s}
_BINARY = {"elemwise_add": (0, add_s), "elemwise_sub": (1, sub_s), "elemwise_mul": (2, mul_s)}
FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def bodies(op, p, in_meta, out_meta, req):
    dtypes = {dt for _, dt in in_meta + out_meta}
    if len(dtypes) != 1 or next(iter(dtypes)) not in FLOATS:
        return None
    dtype = next(iter(dtypes))
    codes = tuple(_code(r) for r in req)
    name = op.name
    if name == "Activation" and p.act_type == "relu":
        name = "relu"
    if name in _UNARY:
        c = float(dtype.type(getattr(p, "scalar", 0.0)))    # the scalar in the data's dtype, as the kernels
        scalar_args = (c,) if name.endswith("_scalar") else ()
        fn = _UNARY_SCALAR[name]
        return Body(unary, "unary", (_UNARY[name], c, codes[0]), fn, _scalar_name(fn), scalar_args)
    if name in ("broadcast_add", "broadcast_sub", "broadcast_mul") and all(
            shape == out_meta[0][0] or np.prod(shape) == 1 for shape, _ in in_meta):
        name = "elemwise_" + name[len("broadcast_"):]     # one operand of one element: an elementwise loop
    if name in _BINARY and all(shape == out_meta[0][0] or np.prod(shape) == 1 for shape, _ in in_meta):
        kind, fn = _BINARY[name]
        return Body(binary, "binary", (kind, codes[0]), fn, _scalar_name(fn))
    if name == "_backward_Activation" and p.act_type == "relu":
        return Body(binary, "binary", (3, codes[0]), relu_grad_s, "relu_grad_s")
    if name == "FullyConnected" and not p.no_bias and p.flatten:
        return Body(fully_connected, "fully_connected", (codes[0],))
    if name == "_backward_FullyConnected" and not p.no_bias and p.flatten:
        return Body(fully_connected_backward, "fully_connected_backward", codes)
    return None


def _scalar_name(fn):
    return {add_s: "add_s", sub_s: "sub_s", mul_s: "mul_s", relu_s: "relu_s", neg_s: "neg_s",
            plus_c_s: "plus_c_s", mul_c_s: "mul_c_s", minus_c_s: "minus_c_s", relu_grad_s: "relu_grad_s"}[fn]


@numba.njit(cache=True, nogil=True)
def checked_unary(x, out, kind, c, req):
    for v in x.ravel():
        if v > 1e30:
            raise ValueError("value out of range")
    unary(x, out, kind, c, req)


def checked_relu(op, p, in_meta, out_meta, req):
    """`bodies`, but relu refuses values above 1e30 (a body that raises)."""
    b = bodies(op, p, in_meta, out_meta, req)
    if b is not None and op.name == "relu":
        return Body(checked_unary, "checked_unary", b.args)
    return b


def provider(names):
    """The bodies of the ops in `names` only."""
    def limited(op, p, in_meta, out_meta, req):
        return bodies(op, p, in_meta, out_meta, req) if op.name in names else None
    return limited
