"""numpy references for the ops, written from MXNet 1.9.1's documented (and observed) semantics.

They never call our kernels or shape rules. Each takes the parsed params `p` and the input arrays and returns the
output array (or a tuple of them), in the dtype MXNet gives. Floating results are computed in float64 and
rounded to the output dtype once; integer results follow C++ arithmetic in the array's dtype (wrapping, division
truncating toward zero), as MXNet's kernels do.
"""
import math

import numpy as np


def _is_int(dtype):
    return np.dtype(dtype).kind in "iub"


def _round(y, dtype):
    """A float64 result rounded to dtype; integers truncated toward zero, then wrapped."""
    dtype = np.dtype(dtype)
    if _is_int(dtype):
        with np.errstate(invalid="ignore"):
            return np.trunc(y).astype(np.int64).astype(dtype)
    return np.asarray(y).astype(dtype)


def _f64(x):
    return np.asarray(x, dtype=np.float64)


# ---- elementwise ----------------------------------------------------------------------------------------------
def _exact_or_f64(fn):
    """Integer arrays: numpy's own integer arithmetic (wraps like C++); floats: in float64, rounded once."""
    def ref(p, a, b):
        dtype = np.result_type(a, b)
        return fn(a, b).astype(dtype) if _is_int(dtype) else _round(fn(_f64(a), _f64(b)), dtype)
    return ref


add = _exact_or_f64(np.add)
sub = _exact_or_f64(np.subtract)
mul = _exact_or_f64(np.multiply)


def div(p, a, b):
    # C++ integer division truncates toward zero (-7 / 2 == -3), unlike numpy's floor_divide.
    return _round(_f64(a) / _f64(b), np.result_type(a, b))


def power(p, a, b):
    # Integer powers go through double pow and truncate: 2 ** -1 == 0 (numpy raises for negative int powers).
    return _round(np.power(_f64(a), _f64(b)), np.result_type(a, b))


def negative(p, x):
    return (-x).astype(x.dtype) if _is_int(x.dtype) else -x


def identity(p, x, *rest):
    return x.copy()


# ---- with a scalar: the scalar is converted to data's dtype first (C++ `DType(scalar)`) ----------------------
def _scalar_case(p, x):
    """(data, scalar, output dtype) as MXNet computes them: is_int=False on integer data works in float64."""
    if _is_int(x.dtype) and not p.is_int:
        return _f64(x), p.scalar, np.dtype(np.float64)
    s = p.scalar
    if _is_int(x.dtype):
        s = int(math.trunc(s))
        s = int(np.array(s, np.int64).astype(x.dtype))          # wraps, as the C++ conversion does here
    else:
        s = float(np.array(s, x.dtype))                         # rounded to the dtype, e.g. float16(0.1)
    return x, s, x.dtype


def _scalar_op(fn, reverse=False):
    def ref(p, x):
        data, s, dtype = _scalar_case(p, x)
        d = _f64(data)
        with np.errstate(all="ignore"):
            y = fn(s, d) if reverse else fn(d, s)
        if _is_int(dtype) and fn in (np.add, np.subtract, np.multiply):
            # exact integer arithmetic, wrapping like C++
            xi = data.astype(np.int64)
            y = fn(np.int64(s), xi) if reverse else fn(xi, np.int64(s))
            return y.astype(dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _round(y, dtype)
    return ref


plus_scalar = _scalar_op(np.add)
minus_scalar = _scalar_op(np.subtract)
rminus_scalar = _scalar_op(np.subtract, reverse=True)
mul_scalar = _scalar_op(np.multiply)
div_scalar = _scalar_op(np.divide)
rdiv_scalar = _scalar_op(np.divide, reverse=True)
power_scalar = _scalar_op(np.power)
rpower_scalar = _scalar_op(np.power, reverse=True)


def cast(p, x):
    # float -> int truncates toward zero (values in range); anything -> bool is `!= 0`.
    return x.astype(p.dtype)


# ---- broadcasting ---------------------------------------------------------------------------------------------
def broadcast_to(p, x):
    target = tuple(t if t else d for t, d in zip(p.shape, x.shape))
    return np.broadcast_to(x, target).copy()


# ---- matrix ---------------------------------------------------------------------------------------------------
def dot(p, a, b):
    """lhs's last axis (first if transpose_a) . rhs's first axis (last if transpose_b); 1-D . 1-D is (1,)."""
    if a.ndim == 1 and b.ndim == 1:
        y = np.array([np.dot(_f64(a), _f64(b))])
    else:
        A = np.moveaxis(_f64(a), 0, -1) if p.transpose_a else _f64(a)
        B = np.moveaxis(_f64(b), -1, 0) if p.transpose_b else _f64(b)
        y = np.tensordot(A, B, axes=1)
    return y.astype(a.dtype)


def reshape_target(shape, p):
    """The output shape of Reshape, from the documentation of its special values."""
    if p.shape:
        dims, spec = list(shape), list(p.shape)
        if p.reverse:
            dims, spec = dims[::-1], spec[::-1]
        out, i, j = [], 0, 0          # i walks spec, j walks the input dims
        infer = None
        while i < len(spec):
            v = spec[i]
            if v > 0:
                out.append(v)
                j += 1
            elif v == 0:
                out.append(dims[j])
                j += 1
            elif v == -1:
                infer = len(out)
                out.append(1)
                j += 1
            elif v == -2:
                out += dims[j:]
                j = len(dims)
            elif v == -3:
                out.append(dims[j] * dims[j + 1])
                j += 2
            elif v == -4:
                a, b = spec[i + 1], spec[i + 2]
                a = dims[j] // b if a == -1 else a
                b = dims[j] // a if b == -1 else b
                out += [a, b]
                j += 1
                i += 2
            i += 1
        if infer is not None:
            out[infer] = int(np.prod(shape)) // int(np.prod(out))
        return tuple(out[::-1] if p.reverse else out)
    out = list(p.target_shape)
    if p.keep_highest:
        out[0] = shape[0]
    if 0 in out:
        k = out.index(0)
        out[k] = int(np.prod(shape)) // int(np.prod([d for d in out if d]))
    return tuple(out)


def reshape(p, x):
    return x.reshape(reshape_target(x.shape, p)).copy()


def flatten(p, x):
    return x.reshape(x.shape[0], -1).copy()


# ---- nn -------------------------------------------------------------------------------------------------------
def fully_connected(p, x, w, b=None):
    x2 = _f64(x).reshape(x.shape[0], -1) if p.flatten else _f64(x).reshape(-1, x.shape[-1])
    y = x2 @ _f64(w).T
    if b is not None:
        y = y + _f64(b)
    shape = (x.shape[0], p.num_hidden) if p.flatten else x.shape[:-1] + (p.num_hidden,)
    return y.reshape(shape).astype(x.dtype)


_ACT = {
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "softrelu": lambda x: np.logaddexp(0, x),          # log(1 + exp(x))
    "softsign": lambda x: x / (1 + np.abs(x)),
}


def activation(p, x):
    return _ACT[p.act_type](_f64(x)).astype(x.dtype)


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_output(p, x, label):
    """Forward of SoftmaxOutput (MXNet's native CPU kernel): softmax over axis 1 of (n, k, rest) with
    multi_output, over the last axis with preserve_shape, else over all of (n, rest) flattened."""
    d = _f64(x)
    if p.multi_output:
        y = _softmax(d.reshape(x.shape[0], x.shape[1], -1), 1)
    elif p.preserve_shape:
        y = _softmax(d, -1)
    else:
        y = _softmax(d.reshape(x.shape[0], -1), 1)
    return y.reshape(x.shape).astype(x.dtype)


def linear_regression_output(p, x, label):
    return x.copy()


# ---- init -----------------------------------------------------------------------------------------------------
def zeros(p):
    return np.zeros(p.shape, p.dtype)


def ones(p):
    return np.ones(p.shape, p.dtype)


def full(p):
    if _is_int(p.dtype) and p.dtype != np.bool_:
        return np.full(p.shape, int(math.trunc(p.value)), np.int64).astype(p.dtype)
    return np.full(p.shape, p.value).astype(p.dtype)


def log(p, x):
    return _round(np.log(_f64(x)), x.dtype)


def reshape_like(p, lhs, rhs):
    return lhs.reshape(rhs.shape)
