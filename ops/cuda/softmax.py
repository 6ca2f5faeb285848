"""CUDA kernels of ops/softmax.py: the softmax family (one thread per row of the softmax axis, three passes over
the row: max, sum of exp, write; float64 accumulation), SoftmaxOutput's gradient (one pass over the elements, the
'valid' count reduced on the device) and the regression losses.
"""
import math

import numpy as np
from numba import cuda, float64, types

from ..cpu import elemwise as cpu_elemwise
from ..registry import ADD, NULL, WRITE
from .common import (F16, as_compute, compute_dtype, copy_view, declare, empty, fill,
                     flat, in_compute_dtype, launch, put, store, stream)
from .elemwise import _trunc_, map_binary, map_scalar, map_unary, template
from .reduce import SUM, run_reduce

_A = types.Array(types.float32, 1, "C")
_I, _B, _F = types.int64, types.boolean, types.float64


def _go(kernel, n, *args):
    kernel[launch(n) + (stream(),)](*args)


# ---- softmax family ------------------------------------------------------------------------------------------------
@cuda.jit
def _softmax_kernel(out, x, n, post, rows, inv_t, log, lengths, use_length, add):
    # row r = (pre index, post index); its elements are x[base + j * post], j < n (< length[r] with use_length)
    r = cuda.grid(1)
    step = cuda.gridsize(1)
    while r < rows:
        base = (r // post) * n * post + r % post
        m = n
        if use_length:
            m = min(max(lengths[r], 0), n)
        mx = -math.inf
        for j in range(m):
            v = float64(x[base + j * post]) * inv_t
            if v > mx or v != v:
                mx = v
        if m == 0:
            mx = 0.0
        s = 0.0
        for j in range(m):
            s += math.exp(float64(x[base + j * post]) * inv_t - mx)
        ls = math.log(s) if m > 0 else 0.0
        if s == 0:
            s = 1.0
        for j in range(n):
            idx = base + j * post
            if j < m:
                e = float64(x[idx]) * inv_t - mx
                v = e - ls if log else math.exp(e) / s
            else:
                v = 0.0
            put(out, idx, v, add)
        r += step


@cuda.jit
def _softmax_grad_kernel(out, dy, y, n, post, rows, inv_t, log, add):
    # softmax: dx = y (dy - sum(dy y)) / T; log_softmax: dx = (dy - exp(y) sum(dy)) / T
    r = cuda.grid(1)
    step = cuda.gridsize(1)
    while r < rows:
        base = (r // post) * n * post + r % post
        s = 0.0
        for j in range(n):
            idx = base + j * post
            s += float64(dy[idx]) if log else float64(dy[idx]) * float64(y[idx])
        for j in range(n):
            idx = base + j * post
            g = float64(dy[idx])
            yv = float64(y[idx])
            v = ((g - math.exp(yv) * s) if log else yv * (g - s)) * inv_t
            put(out, idx, v, add)
        r += step


declare("softmax.softmax", _softmax_kernel, [(_A, _A, _I, _I, _I, _F, _B, types.Array(types.int64, 1, "C"), _B, _B)])
declare("softmax.softmax_grad", _softmax_grad_kernel, [(_A, _A, _A, _I, _I, _I, _F, _B, _B)])
_NO_LENGTH = None


def _no_length():
    global _NO_LENGTH
    if _NO_LENGTH is None:
        _NO_LENGTH = empty((1,), np.int64)
    return _NO_LENGTH


def softmax(x, axis, out, req, temperature=None, log=False, length=None):
    """out (req) (log_)softmax of x / temperature along axis; with length, positions past a row's length are 0."""
    if req == NULL or out.size == 0:
        return
    x = as_compute(x)
    n = x.shape[axis]
    post = int(np.prod(x.shape[axis + 1:]))
    rows = x.size // n
    inv_t = 1.0 / temperature if temperature is not None and temperature != 1.0 else 1.0
    lengths = _no_length() if length is None else flat(as_compute(length, np.int64))

    def compute(dst, add=False):
        _go(_softmax_kernel, rows, flat(dst), flat(x), n, post, rows, inv_t, log, lengths, length is not None, add)
    if out.dtype == F16:
        in_compute_dtype(out, req, compute)
    else:
        compute(out, req == ADD)


def _softmax_backward(dy, y, axis, out, req, temperature, log):
    if req == NULL or out.size == 0:
        return
    dy, y = as_compute(dy), as_compute(y)
    n = y.shape[axis]
    post = int(np.prod(y.shape[axis + 1:]))
    rows = y.size // n
    inv_t = 1.0 / temperature if temperature is not None and temperature != 1.0 else 1.0

    def compute(dst, add=False):
        _go(_softmax_grad_kernel, rows, flat(dst), flat(dy), flat(y), n, post, rows, inv_t, log, add)
    if out.dtype == F16:
        in_compute_dtype(out, req, compute)
    else:
        compute(out, req == ADD)


def softmax_op(ctx, p, inputs, outputs, req):
    x = inputs[0]
    softmax(x, p.axis % x.ndim, outputs[0], req[0], p.temperature, length=inputs[1] if len(inputs) > 1 else None)


def softmin_op(ctx, p, inputs, outputs, req):
    """softmax(-x / T): softmax with the temperature negated."""
    x = inputs[0]
    softmax(x, p.axis % x.ndim, outputs[0], req[0], -(1.0 if p.temperature is None else p.temperature))


def log_softmax_op(ctx, p, inputs, outputs, req):
    x = inputs[0]
    softmax(x, p.axis % x.ndim, outputs[0], req[0], p.temperature, log=True)


def backward_softmax(ctx, p, inputs, outputs, req):
    y = inputs[1]
    _softmax_backward(inputs[0], y, p.axis % y.ndim, outputs[0], req[0], p.temperature, False)


def backward_log_softmax(ctx, p, inputs, outputs, req):
    y = inputs[1]
    _softmax_backward(inputs[0], y, p.axis % y.ndim, outputs[0], req[0], p.temperature, True)


def softmax_activation(ctx, p, inputs, outputs, req):
    """instance: softmax over the last axis; channel: over axis 1."""
    x = inputs[0]
    softmax(x, 1 if p.mode == "channel" else x.ndim - 1, outputs[0], req[0])


def _softmax_output_shape(p, shape):
    """(3-D shape (rows, k, rest), axis 1) of SoftmaxOutput's data."""
    size = int(np.prod(shape))
    if p.multi_output:
        return (shape[0], shape[1], size // (shape[0] * shape[1]))
    if p.preserve_shape:
        return (size // shape[len(shape) - 1], shape[len(shape) - 1], 1)
    return (shape[0], size // shape[0], 1)


def softmax_output(ctx, p, inputs, outputs, req):
    x = inputs[0]
    shape = _softmax_output_shape(p, x.shape)
    softmax(x.reshape(shape), 1, outputs[0].reshape(shape), req[0])


@cuda.jit
def _softmax_output_grad_kernel(out, o, label, k, rest, off, on, use_ignore, ignore, scale, count, out_grad, add,
                                n):
    # element (r, c, j) of (rows, k, rest): g = o - off - on * [c == label(r, j)], 0 for an ignored label, times
    # scale / count (count: the number of labels not ignored, or 1), times o with out_grad; see ops/cpu/softmax.py
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    cnt = max(count[0], 1.0)
    while i < n:
        j = i % rest
        c = (i // rest) % k
        r = i // (rest * k)
        lab = int(_trunc_(float64(label[r * rest + j])))
        ov = float64(o[i])
        g = ov - off
        if lab == c:
            g -= on
        if use_ignore and lab == ignore:
            g = 0.0
        g = g * scale / cnt
        if out_grad:
            g *= ov
        put(out, i, g, add)
        i += step


def _not_ignored(lab, ignore):
    return 1.0 if _trunc_(float64(lab)) != ignore else 0.0


template("scalar", _not_ignored)
for _f in (cpu_elemwise.add, cpu_elemwise.sub, cpu_elemwise.mul):
    template("binary", _f)
    template("broadcast", _f)
template("scalar", cpu_elemwise.mul)
declare("softmax.softmax_output_grad", _softmax_output_grad_kernel,
        [(_A, _A, _A, _I, _I, _F, _F, _B, _I, _F, types.Array(types.float64, 1, "C"), _B, _B, _I)])


def backward_softmax_output(ctx, p, inputs, outputs, req):
    """inputs (output, label) -> d_data; the math of ops/cpu/softmax.py's backward_softmax_output, per element."""
    out, label = inputs
    dst = outputs[0]
    if req[0] == NULL or dst.size == 0:
        return
    o = as_compute(out)
    if tuple(label.shape) == tuple(out.shape):          # probabilities as labels: (o - label) * scale (* o)
        def compute(d):
            map_binary(cpu_elemwise.sub, o, label, d, WRITE)
            map_scalar(cpu_elemwise.mul, d, d.dtype.type(p.grad_scale), d, WRITE)
            if p.out_grad:
                map_binary(cpu_elemwise.mul, d, o, d, WRITE)
        in_compute_dtype(dst, req[0], compute) if dst.dtype == F16 else store(dst, req[0], compute)
        return
    rows, k, rest = _softmax_output_shape(p, out.shape)
    label = as_compute(label)
    ignore = int(p.ignore_label)
    count = empty((1,), np.float64)     # the 'valid' count stays on the device: no host round trip
    if p.normalization == "valid":
        flags = empty((label.size,), np.float64)
        map_scalar(_not_ignored, flat(label), float64(ignore), flags, WRITE)
        run_reduce(SUM, flags, (0,), count, WRITE)
        scale = p.grad_scale
    else:
        fill(count, 1.0)
        scale = p.grad_scale / (rest if p.multi_output else 1) / {"null": 1, "batch": rows if p.multi_output
                                                                   else label.size}[p.normalization]
    off, on = 0.0, 1.0
    if not p.multi_output and p.smooth_alpha:
        off = p.smooth_alpha / (k - 1) if k > 1 else 0.0
        on = 1.0 - p.smooth_alpha - off
        off = float(np.dtype(o.dtype).type(off))

    def compute(d, add=False):
        n = d.size
        _go(_softmax_output_grad_kernel, n, flat(d), flat(o), flat(label), k, rest, off, on, bool(p.use_ignore),
            ignore, float(scale), count, bool(p.out_grad), add, n)
    if dst.dtype == F16:
        in_compute_dtype(dst, req[0], compute)
    else:
        compute(dst, req[0] == ADD)


# ---- regression losses ---------------------------------------------------------------------------------------------
def linear_regression_output(ctx, p, inputs, outputs, req):
    copy_view(inputs[0], outputs[0], req[0])


mae_regression_output = linear_regression_output


def logistic_regression_output(ctx, p, inputs, outputs, req):
    map_unary(cpu_elemwise._sigmoid, inputs[0], outputs[0], req[0])


@cuda.jit
def _regression_grad_kernel(out, o, label, scale, sign, add, n):
    # d = o - label (sign: 1 where o > label, else -1), times grad_scale / num_output
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        d = o[i] - label[i]
        if sign:
            d = 1 if d > 0 else -1
        v = d * scale
        put(out, i, v, add)
        i += step


declare("softmax.regression_grad", _regression_grad_kernel, [(_A, _A, _A, types.float32, _B, _B, _I)])


def _regression_grad(sign):
    def kernel(ctx, p, inputs, outputs, req):
        out, label = inputs
        dst = outputs[0]
        if req[0] == NULL or dst.size == 0:
            return
        cdt = compute_dtype(dst.dtype)
        o, lab = as_compute(out, cdt), as_compute(label, cdt)
        num_output = label.size // label.shape[0] if label.ndim and label.shape[0] else 1
        scale = cdt.type(p.grad_scale / num_output)

        def compute(d, add=False):
            _go(_regression_grad_kernel, d.size, flat(d), flat(o), flat(lab), scale, sign, add, d.size)
        if dst.dtype != cdt:
            in_compute_dtype(dst, req[0], compute)
        else:
            compute(dst, req[0] == ADD)
    return kernel


backward_linear_reg_out = _regression_grad(False)
backward_logistic_reg_out = _regression_grad(False)
backward_mae_reg_out = _regression_grad(True)


KERNELS = {
    "softmax": softmax_op, "log_softmax": log_softmax_op, "softmin": softmin_op, "_backward_softmax": backward_softmax,
    "_backward_log_softmax": backward_log_softmax, "SoftmaxActivation": softmax_activation,
    "SoftmaxOutput": softmax_output, "_backward_SoftmaxOutput": backward_softmax_output,
    "LinearRegressionOutput": linear_regression_output, "_backward_linear_reg_out": backward_linear_reg_out,
    "LogisticRegressionOutput": logistic_regression_output, "_backward_logistic_reg_out": backward_logistic_reg_out,
    "MAERegressionOutput": mae_regression_output, "_backward_mae_reg_out": backward_mae_reg_out,
}
