"""njit bodies of the network ops: FullyConnected and its backward, Activation and LeakyReLU 'leaky' with their
backwards (the elementwise loops of ops/jit/elemwise.py), SoftmaxOutput and its backward, softmax/log_softmax over
the last axis, the copies (Reshape, Flatten, expand_dims, squeeze, _copy, BlockGrad, MakeLoss), zeros_like/ones_like,
add_n, sum/mean over one block of axes with their gradient (_backward_reduce), and MakeLoss's gradient.

Each body follows its CPU kernel's formula and order (ops/cpu/nn.py, activation.py, softmax.py, reduce.py).
GEMMs are `np.dot(a, b, out)` into the output (numba's BLAS binding), bias added after, as the kernel's `gemm`.
A req of ADD computes into a scratch array and adds it, as the kernels' `store`.
"""
import math

import numba
import numpy as np

from ..cpu.reduce import reduced_axes
from ..cpu.vmath import exp32 as _exp32      # float32 softmax exponentiates with vmath, as the kernel
from ..registry import NULL
from .common import JIT, R_ADD, R_NULL, R_WRITE, as_dtype_of, body_of, builds, req_code, skip
from .elemwise import binary_body, scalar_body, unary_body

_jit = numba.njit(**JIT)
F32 = np.dtype(np.float32)


def _size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


# ---- FullyConnected ----------------------------------------------------------------------------------------------
@_jit
def _add_rows(y, bias):
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            y[i, j] += bias[j]


@_jit
def _fc_into(x2, w, bias, y, r):
    """y (req r) = x2 @ w.T (+ bias when bias.size)."""
    if r == R_NULL:
        return
    dst = np.empty_like(y) if r == R_ADD else y
    np.dot(x2, w.T, dst)
    if bias.size:
        _add_rows(dst, bias)
    if r == R_ADD:
        y += dst


@_jit
def fully_connected(x, w, b, out, rows, k, r):
    _fc_into(x.reshape(rows, k), w, b, out.reshape(rows, w.shape[0]), r)


@_jit
def fully_connected_no_bias(x, w, out, rows, k, r):
    _fc_into(x.reshape(rows, k), w, np.empty(0, w.dtype), out.reshape(rows, w.shape[0]), r)


@_jit
def _gemm_into(a, b, y, r):
    """y (req r) = a @ b."""
    if r == R_NULL:
        return
    if r == R_ADD:
        t = np.empty_like(y)
        np.dot(a, b, t)
        y += t
    else:
        np.dot(a, b, y)


@_jit
def _fc_backward(dy, x, w, dx, dw, db, rows, k, r_dx, r_dw, r_db):
    g = dy.reshape(rows, w.shape[0])
    x2 = x.reshape(rows, k)
    _gemm_into(g, w, dx.reshape(rows, k), r_dx)            # d data = dy @ W
    _gemm_into(g.T, x2, dw, r_dw)                           # d weight = dy^T @ X
    if r_db != R_NULL and db.size:                          # d bias = dy summed over rows, row after row
        acc = np.zeros(db.shape[0], db.dtype)
        for i in range(rows):
            for j in range(db.shape[0]):
                acc[j] += g[i, j]
        for j in range(db.shape[0]):
            db[j] = db[j] + acc[j] if r_db == R_ADD else acc[j]


@_jit
def backward_fully_connected(dy, x, w, dx, dw, db, rows, k, r_dx, r_dw, r_db):
    _fc_backward(dy, x, w, dx, dw, db, rows, k, r_dx, r_dw, r_db)


@_jit
def backward_fully_connected_no_bias(dy, x, w, dx, dw, rows, k, r_dx, r_dw):
    _fc_backward(dy, x, w, dx, dw, np.empty(0, w.dtype), rows, k, r_dx, r_dw, R_NULL)


def _fc_rows(p, x_shape):
    """(rows, k) of the data as the kernel's 2-D view: (n, rest) with flatten, else (..., last)."""
    if p.flatten:
        return x_shape[0], _size(x_shape[1:])
    return _size(x_shape[:-1]), x_shape[-1]


def _same_dtype(*metas):
    return len({np.dtype(m[1]) for m in metas}) == 1


@builds("FullyConnected")
def _fully_connected(op, p, in_meta, out_meta, req):
    if not _same_dtype(*in_meta, *out_meta):
        return None
    rows, k = _fc_rows(p, in_meta[0][0])
    r = req_code(req[0])
    if p.no_bias:
        return body_of(fully_connected_no_bias, (rows, k, r))
    if r != R_WRITE:
        return body_of(fully_connected, (rows, k, r))
    return body_of(fully_connected, (rows, k, r), bias_free=body_of(fully_connected_no_bias, (rows, k, r)),
                   bias_input=2)     # Note [GEMM epilogue] in scheduler/codegen.py


@builds("_backward_FullyConnected")
def _backward_fc(op, p, in_meta, out_meta, req):
    if not _same_dtype(*in_meta, *out_meta):
        return None
    rows, k = _fc_rows(p, in_meta[1][0])
    codes = tuple(req_code(r) for r in req)
    fn = backward_fully_connected_no_bias if p.no_bias else backward_fully_connected
    return body_of(fn, (rows, k) + codes)


# ---- Activation ---------------------------------------------------------------------------------------------------
# act_type -> {dtype: scalar function key}: float32 as the kernel (vmath), float64 the numpy fallback's formula
_F64 = np.dtype(np.float64)
_ACTIVATION = {"relu": {F32: "relu", _F64: "relu"}, "sigmoid": {F32: "sigmoid32", _F64: "sigmoid64"},
               "tanh": {F32: "tanh32", _F64: "_tanh"}, "softrelu": {F32: "softrelu32", _F64: "softrelu64"},
               "softsign": {F32: "softsign32", _F64: "softsign64"}}
_ACTIVATION_GRAD = {"relu": {F32: "relu_grad", _F64: "relu_grad"},
                    "sigmoid": {F32: "sigmoid_grad", _F64: "sigmoid_grad"},
                    "tanh": {F32: "tanh_grad", _F64: "tanh_grad"},
                    "softrelu": {F32: "softrelu_grad32", _F64: "softrelu_grad"},
                    "softsign": {F32: "softsign_grad", _F64: "softsign_grad"}}


@builds("Activation")
def _activation(op, p, in_meta, out_meta, req):
    keys = _ACTIVATION.get(p.act_type)
    if keys is None or not _same_dtype(*in_meta, *out_meta):
        return None
    return unary_body(keys[np.dtype(out_meta[0][1])], req)


@builds("_backward_Activation")
def _backward_activation(op, p, in_meta, out_meta, req):
    keys = _ACTIVATION_GRAD.get(p.act_type)
    if keys is None or not _same_dtype(*in_meta, *out_meta) or in_meta[0][0] != in_meta[1][0]:
        return None
    return binary_body(keys[np.dtype(out_meta[0][1])], in_meta, out_meta, req)


@builds("LeakyReLU")
def _leaky_relu(op, p, in_meta, out_meta, req):
    if p.act_type != "leaky" or not _same_dtype(*in_meta, *out_meta):
        return None
    return scalar_body("leaky", p.slope, False, req)      # the slope in the data's dtype, as the kernel


@_jit
def backward_leaky(dy, x, y, out, slope, r):
    """d data of 'leaky': dy where the output is positive, else slope * dy (ops/cpu/activation.py)."""
    if r == R_NULL:
        return
    of, dyf, yf = out.reshape(-1), dy.reshape(-1), y.reshape(-1)
    a = as_dtype_of(slope, of)
    for i in range(of.shape[0]):
        g = dyf[i] if yf[i] > 0 else a * dyf[i]
        of[i] = of[i] + g if r == R_ADD else g


@builds("_backward_LeakyReLU")
def _backward_leaky_relu(op, p, in_meta, out_meta, req):
    if p.act_type != "leaky" or len(in_meta) != 3 or not _same_dtype(*in_meta, *out_meta):
        return None
    return body_of(backward_leaky, (float(p.slope), req_code(req[0])))


# ---- softmax ------------------------------------------------------------------------------------------------------
@_jit
def _softmax_rows(x2, y2, log, fast_exp):
    """y2 = (log_)softmax of each row of x2, the row's max subtracted (ops/cpu/softmax.py's `softmax`)."""
    for i in range(x2.shape[0]):
        m = x2[i, 0]
        for j in range(1, x2.shape[1]):
            v = x2[i, j]
            m = v if v > m or v != v else m
        s = as_dtype_of(0.0, y2)
        if log:
            for j in range(x2.shape[1]):
                s += math.exp(x2[i, j] - m)
            ls = math.log(s)
            for j in range(x2.shape[1]):
                y2[i, j] = (x2[i, j] - m) - ls
        else:
            if fast_exp:    # the polynomial in a loop of its own vectorizes (2.5x on long rows); the sum cannot
                for j in range(x2.shape[1]):
                    y2[i, j] = _exp32(x2[i, j] - m)
                for j in range(x2.shape[1]):
                    s += y2[i, j]
            else:
                for j in range(x2.shape[1]):
                    e = math.exp(x2[i, j] - m)
                    y2[i, j] = e
                    s += e
            for j in range(x2.shape[1]):
                y2[i, j] = y2[i, j] / s



@_jit
def softmax_rows(x, out, rows, k, log, fast_exp, r):
    if r == R_NULL:
        return
    y = np.empty_like(out) if r == R_ADD else out
    _softmax_rows(x.reshape(rows, k), y.reshape(rows, k), log, fast_exp)
    if r == R_ADD:
        out += y


@builds("softmax", "log_softmax")
def _softmax(op, p, in_meta, out_meta, req):
    shape = in_meta[0][0]
    if (len(in_meta) != 1 or not _same_dtype(*in_meta, *out_meta) or not shape
            or p.axis % len(shape) != len(shape) - 1 or p.temperature not in (None, 1.0)):
        return None
    return body_of(softmax_rows, (_size(shape[:-1]), shape[-1], op.name == "log_softmax",
                                  np.dtype(out_meta[0][1]) == F32, req_code(req[0])))


@builds("SoftmaxOutput")
def _softmax_output(op, p, in_meta, out_meta, req):
    shape = in_meta[0][0]
    if p.multi_output or not _same_dtype(in_meta[0], out_meta[0]) or not shape:
        return None
    rows, k = (_size(shape[:-1]), shape[-1]) if p.preserve_shape else (shape[0], _size(shape[1:]))
    return body_of(softmax_output, (rows, k, np.dtype(out_meta[0][1]) == F32, req_code(req[0])))


@_jit
def softmax_output(x, label, out, rows, k, fast_exp, r):
    softmax_rows(x, out, rows, k, False, fast_exp, r)


_NORMALIZATION = {"null": 0, "batch": 1, "valid": 2}


@_jit
def backward_softmax_output(out, label, dx, rows, k, use_ignore, ignore, normalization, grad_scale, r):
    """d data = (softmax - one_hot(label)) * grad_scale / count, the ignored rows zeroed (labels of one per row)."""
    if r == R_NULL:
        return
    o2 = out.reshape(rows, k)
    lab = label.reshape(-1)
    g = np.empty((rows, k), out.dtype)
    g[:] = o2
    for i in range(rows):
        c = int(lab[i])                 # C++ static_cast<int>: toward zero
        if 0 <= c < k:
            g[i, c] -= 1
    count = 1
    if normalization == 1:
        count = lab.size
    elif normalization == 2:
        count = 0
        for i in range(lab.size):
            count += int(lab[i]) != ignore
        count = max(count, 1)
    if use_ignore:
        for i in range(rows):
            keep = as_dtype_of(int(lab[i]) != ignore, g)
            for j in range(k):
                g[i, j] *= keep
    scale = as_dtype_of(grad_scale / count, g)
    d2 = dx.reshape(rows, k)
    for i in range(rows):
        for j in range(k):
            v = g[i, j] * scale
            d2[i, j] = d2[i, j] + v if r == R_ADD else v


@builds("_backward_SoftmaxOutput")
def _backward_softmax_output(op, p, in_meta, out_meta, req):
    (shape, dtype), (label_shape, _) = in_meta
    if p.multi_output or p.smooth_alpha or p.out_grad or label_shape == shape or not shape:
        return None
    if not _same_dtype(in_meta[0], out_meta[0]):
        return None
    rows, k = (_size(shape[:-1]), shape[-1]) if p.preserve_shape else (shape[0], _size(shape[1:]))
    if _size(label_shape) != rows:
        return None
    return body_of(backward_softmax_output, (rows, k, bool(p.use_ignore), int(p.ignore_label),
                                             _NORMALIZATION[p.normalization], float(p.grad_scale),
                                             req_code(req[0])))


# ---- copies, fills, sums ------------------------------------------------------------------------------------------
@_jit
def copy(x, out, r):
    """out (req r) = x reshaped; nothing to do when out already is x's memory (copy_view)."""
    xf = x.reshape(-1)
    of = out.reshape(-1)
    if r == R_ADD:
        for i in range(of.shape[0]):
            of[i] += xf[i]
    elif r != R_NULL and xf.ctypes.data != of.ctypes.data:
        of[:] = xf


@builds("_copy", "Reshape", "Flatten", "expand_dims", "BlockGrad", "MakeLoss", "squeeze")
def _copy(op, p, in_meta, out_meta, req):
    if len(in_meta) != 1 or not _same_dtype(*in_meta, *out_meta):
        return None
    return body_of(copy, (req_code(req[0]),))


@_jit
def fill(out, value, r):
    of = out.reshape(-1)
    v = as_dtype_of(value, of)
    if r == R_ADD:
        for i in range(of.shape[0]):
            of[i] += v
    elif r != R_NULL:
        of[:] = v


@_jit
def fill_like(x, out, value, r):
    fill(out, value, r)


@builds("zeros_like", "ones_like")
def _fill_like(op, p, in_meta, out_meta, req):
    return body_of(fill_like, (1.0 if op.name == "ones_like" else 0.0, req_code(req[0])))


# add_n: summed left to right in out's dtype (ops/cpu/nn.py's add_n); ADD adds the sum


@_jit
def add_n2(a, b, out, r):
    if r == R_NULL:
        return
    of = out.reshape(-1)
    af, bf = a.reshape(-1), b.reshape(-1)
    for i in range(of.shape[0]):
        v = af[i] + bf[i]
        of[i] = of[i] + v if r == R_ADD else v


@_jit
def add_n3(a, b, c, out, r):
    if r == R_NULL:
        return
    of = out.reshape(-1)
    af, bf, cf = a.reshape(-1), b.reshape(-1), c.reshape(-1)
    for i in range(of.shape[0]):
        v = af[i] + bf[i] + cf[i]
        of[i] = of[i] + v if r == R_ADD else v


@_jit
def add_n4(a, b, c, d, out, r):
    if r == R_NULL:
        return
    of = out.reshape(-1)
    af, bf, cf, df = a.reshape(-1), b.reshape(-1), c.reshape(-1), d.reshape(-1)
    for i in range(of.shape[0]):
        v = af[i] + bf[i] + cf[i] + df[i]
        of[i] = of[i] + v if r == R_ADD else v


_ADD_N = {1: copy, 2: add_n2, 3: add_n3, 4: add_n4}


@builds("add_n")
def _add_n(op, p, in_meta, out_meta, req):
    fn = _ADD_N.get(len(in_meta))
    if fn is None or not _same_dtype(*in_meta, *out_meta) or any(m[0] != out_meta[0][0] for m in in_meta):
        return None
    if req[0] == NULL:
        return body_of(skip)
    return body_of(fn, (req_code(req[0]),))


@numba.njit(fastmath={"reassoc"}, **JIT)          # reassociation lets the sums vectorise (numpy's are pairwise)
def reduce_middle(x, out, outer, n, inner, mean, r):
    """out (req r) = x viewed as (outer, n, inner) summed (or averaged) over its middle axis, in x's dtype."""
    if r == R_NULL:
        return
    x3 = x.reshape(outer, n, inner)
    acc = np.zeros((outer, inner), x.dtype)
    for i in range(outer):
        if inner == 1:                          # a sum along contiguous memory: in a register
            s = acc[i, 0]
            for j in range(n):
                s += x3[i, j, 0]
            acc[i, 0] = s
        else:
            for j in range(n):
                for k in range(inner):
                    acc[i, k] += x3[i, j, k]
    of = out.reshape(-1)
    af = acc.reshape(-1)
    count = as_dtype_of(n, acc)
    for i in range(of.shape[0]):
        v = af[i] / count if mean else af[i]
        of[i] = of[i] + v if r == R_ADD else v


@builds("sum", "mean")
def _reduce(op, p, in_meta, out_meta, req):
    shape = in_meta[0][0]
    if not _same_dtype(*in_meta, *out_meta) or not shape:
        return None
    axes = sorted(reduced_axes(p, shape, op.name))
    if not axes or axes != list(range(axes[0], axes[-1] + 1)):
        return None                 # several separate blocks of axes: interpreted
    outer, n, inner = _size(shape[:axes[0]]), _size(shape[axes[0]:axes[-1] + 1]), _size(shape[axes[-1] + 1:])
    return body_of(reduce_middle, (outer, n, inner, op.name == "mean", req_code(req[0])))


@_jit
def backward_reduce_middle(dy, x, y, out, outer, n, inner, count, mean, r):
    """d data of sum (mean): dy viewed as (outer, inner) spread over the middle axis of out as (outer, n, inner),
    divided by the count for mean (ops/cpu/reduce.py's backward_reduce)."""
    if r == R_NULL:
        return
    g = dy.reshape(outer, inner)
    o3 = out.reshape(outer, n, inner)
    c = as_dtype_of(count, out)
    for i in range(outer):
        for j in range(n):
            for k in range(inner):
                v = g[i, k] / c if mean else g[i, k]
                o3[i, j, k] = o3[i, j, k] + v if r == R_ADD else v


@builds("_backward_reduce")
def _backward_reduce(op, p, in_meta, out_meta, req):
    (dy_shape, _), (shape, _), (y_shape, _) = in_meta
    if p.mode not in ("sum", "mean") or not _same_dtype(*in_meta, *out_meta) or not shape:
        return None
    axes = sorted(reduced_axes(p, shape, op.name))
    if not axes or axes != list(range(axes[0], axes[-1] + 1)):
        return None
    outer, n, inner = _size(shape[:axes[0]]), _size(shape[axes[0]:axes[-1] + 1]), _size(shape[axes[-1] + 1:])
    count = max(1, _size(shape) // max(1, _size(y_shape)))
    return body_of(backward_reduce_middle, (outer, n, inner, count, p.mode == "mean", req_code(req[0])))


@_jit
def make_loss_grad(y, out, grad_scale, count, valid, valid_thresh, r):
    """d data of MakeLoss: grad_scale / count, where count is the outputs above valid_thresh for 'valid'
    (ops/cpu/loss.py's backward_make_loss)."""
    if valid:
        count = 0
        yf = y.reshape(-1)
        for i in range(yf.shape[0]):
            count += yf[i] > valid_thresh
    fill(out, grad_scale / max(count, 1), r)


@builds("_backward_MakeLoss")
def _backward_make_loss(op, p, in_meta, out_meta, req):
    shape = in_meta[0][0]
    count = (_size(shape) // shape[-1] if shape and shape[-1] else 1) if p.normalization == "batch" else 1
    return body_of(make_loss_grad, (float(p.grad_scale), count, p.normalization == "valid", float(p.valid_thresh),
                                    req_code(req[0])))
