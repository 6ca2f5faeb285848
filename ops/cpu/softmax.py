"""CPU kernels of ops/softmax.py: the softmax family and the loss-output ops, with their gradients. Softmax runs
without overflow (the row's max subtracted), in float32 for float16 and float64 for float64 outputs. Every kernel
honours req through ops/cpu/common.py.
"""
import numpy as np

from . import vmath
from .common import F16, F32, assign, compute_dtype, copy_view, store


def _c(x):
    """x in the dtype a kernel computes in (float16 -> float32), without a copy when it already is."""
    return x.astype(F32) if x.dtype == F16 else x


# ---- softmax family ---------------------------------------------------------------------------------------------
def _length_mask(shape, axis, length):
    """Boolean array (broadcastable to shape): position along axis < length of its row."""
    idx = np.arange(shape[axis]).reshape((-1,) + (1,) * (len(shape) - 1 - axis))
    return idx < np.expand_dims(length, axis)


def softmax(x, axis, dst, temperature=None, log=False, length=None):
    """dst = (log_)softmax of x / temperature along axis, without overflow; computed in float32 for float16 and
    in float64 when dst is float64. With length, positions at or past a row's length give 0."""
    if x.size == 0:                         # nothing to normalise (and no max of an empty axis)
        return
    cdt = np.result_type(compute_dtype(x.dtype), compute_dtype(dst.dtype))
    e = x.astype(cdt)                       # a fresh copy: the scratch buffer below
    if temperature is not None and temperature != 1.0:
        e /= cdt.type(temperature)
    valid = None
    if length is not None:
        valid = _length_mask(x.shape, axis, length)
        e = np.where(valid, e, -np.inf)
    m = e.max(axis=axis, keepdims=True)
    if valid is not None:
        m[~np.isfinite(m)] = 0              # an empty row: no max
    e -= m
    if log:
        s = np.exp(e).sum(axis=axis, keepdims=True)
        e -= np.log(s)
    else:
        vmath.apply("exp", e, e)
        s = e.sum(axis=axis, keepdims=True)
        if valid is not None:
            s[s == 0] = 1                   # an empty row stays 0
        e /= s
    np.copyto(dst, e, casting="unsafe")


def softmax_op(ctx, p, inputs, outputs, req):
    length = inputs[1] if len(inputs) > 1 else None
    store(outputs[0], req[0], lambda dst: softmax(inputs[0], p.axis % inputs[0].ndim, dst, p.temperature,
                                                  length=length))


def log_softmax_op(ctx, p, inputs, outputs, req):
    store(outputs[0], req[0], lambda dst: softmax(inputs[0], p.axis % inputs[0].ndim, dst, p.temperature,
                                                  log=True))


def softmin_op(ctx, p, inputs, outputs, req):
    """softmax(-x / T): softmax with the temperature negated."""
    t = -(1.0 if p.temperature is None else p.temperature)
    store(outputs[0], req[0], lambda dst: softmax(inputs[0], p.axis % inputs[0].ndim, dst, t))


def _softmax_grad(dy, y, axis, temperature, log):
    dy, y = _c(dy), _c(y)
    if log:          # y = log p: dx = (dy - p * sum(dy)) / T
        g = dy - np.exp(y) * dy.sum(axis=axis, keepdims=True)
    else:            # dx = y * (dy - sum(dy * y)) / T
        g = y * (dy - (dy * y).sum(axis=axis, keepdims=True))
    if temperature is not None and temperature != 1.0:
        g /= g.dtype.type(temperature)
    return g


def backward_softmax(ctx, p, inputs, outputs, req):
    """inputs (dy, output[, length]); masked positions have output 0, hence gradient 0."""
    dy, y = inputs[0], inputs[1]
    assign(outputs[0], req[0], _softmax_grad(dy, y, p.axis % y.ndim, p.temperature, False))


def backward_log_softmax(ctx, p, inputs, outputs, req):
    dy, y = inputs[0], inputs[1]
    assign(outputs[0], req[0], _softmax_grad(dy, y, p.axis % y.ndim, p.temperature, True))


def softmax_activation(ctx, p, inputs, outputs, req):
    """instance: softmax over the last axis (MXNet flattens to (-1, last)); channel: over axis 1."""
    x = inputs[0]
    axis = 1 if p.mode == "channel" else x.ndim - 1
    store(outputs[0], req[0], lambda dst: softmax(x, axis, dst))


def softmax_output(ctx, p, inputs, outputs, req):
    """Softmax over (n, k, rest) axis 1 (multi_output), the last axis (preserve_shape), else over (n, rest)."""
    x = inputs[0]
    if p.multi_output:
        shape, axis = (x.shape[0], x.shape[1], -1), 1
    elif p.preserve_shape:
        shape, axis = (-1, x.shape[-1]), 1
    else:
        shape, axis = (x.shape[0], -1), 1
    xs = x.reshape(shape)
    store(outputs[0], req[0], lambda dst: softmax(xs, axis, dst.reshape(xs.shape)))


def _as_index(label):
    """Labels as C++ `static_cast<int>` sees them: truncated toward zero."""
    with np.errstate(invalid="ignore"):
        return np.trunc(label.astype(np.float64)).astype(np.int64)


def backward_softmax_output(ctx, p, inputs, outputs, req):
    """inputs (output, label) -> d_data; see _softmax_output_grad in ops/softmax.py for the math."""
    out, label = inputs
    o = _c(out)
    ignore = int(p.ignore_label)
    if label.shape == out.shape:                           # probabilities as labels: no normalization
        g = (o - _c(label)) * p.grad_scale
        if p.out_grad:
            g *= o
        assign(outputs[0], req[0], g)
        return
    if p.multi_output:
        n, k = out.shape[0], out.shape[1]
        o3 = o.reshape(n, k, -1)
        lab = _as_index(label).reshape(n, -1)
        g = o3.copy()
        hit = (lab >= 0) & (lab < k)
        ii, jj = np.nonzero(hit)
        g[ii, lab[ii, jj], jj] -= 1
        if p.use_ignore:
            g *= (lab != ignore)[:, None, :]
        count = {"null": 1, "batch": n, "valid": max(int(np.sum(lab != ignore)), 1)}[p.normalization]
        g *= p.grad_scale / (1 if p.normalization == "valid" else o3.shape[2]) / count
        if p.out_grad:
            g *= o3
    else:
        o2 = o.reshape(-1, out.shape[-1]) if p.preserve_shape else o.reshape(out.shape[0], -1)
        rows, k = o2.shape
        lab_all = _as_index(label).reshape(-1)
        lab = lab_all[:rows]
        if p.smooth_alpha:                                 # target: 1 - alpha on the label, alpha/(k-1) elsewhere
            off = p.smooth_alpha / (k - 1) if k > 1 else 0.0
            g = o2 - o2.dtype.type(off)
            on = 1.0 - p.smooth_alpha - off
        else:
            g, on = o2.copy(), 1.0
        r = np.nonzero((lab >= 0) & (lab < k))[0]
        g[r, lab[r]] -= g.dtype.type(on)
        if p.use_ignore:
            g *= (lab != ignore)[:, None]
        count = {"null": 1, "batch": lab_all.size,
                 "valid": max(int(np.sum(lab_all != ignore)), 1)}[p.normalization]
        g *= p.grad_scale / count
        if p.out_grad:
            g *= o2
    assign(outputs[0], req[0], g.reshape(out.shape))


# ---- regression losses ------------------------------------------------------------------------------------------
def linear_regression_output(ctx, p, inputs, outputs, req):
    """Forward is the identity on data (the label only enters the gradient)."""
    copy_view(inputs[0], outputs[0], req[0])


mae_regression_output = linear_regression_output


def logistic_regression_output(ctx, p, inputs, outputs, req):
    store(outputs[0], req[0], lambda dst: vmath.apply("sigmoid", inputs[0], dst))


def _regression_grad(sign):
    def kernel(ctx, p, inputs, outputs, req):
        """inputs (output, label) -> d_data = f(output - label) * grad_scale / (label.size / label.shape[0])."""
        out, label = inputs
        d = _c(out) - _c(label).reshape(out.shape)
        if sign:                  # MXNet's minus_sign: 1 where out > label, else -1 (also at equality)
            d = np.where(d > 0, 1, -1).astype(d.dtype)
        num_output = label.size // label.shape[0] if label.ndim and label.shape[0] else 1
        assign(outputs[0], req[0], d * (p.grad_scale / num_output))
    return kernel


backward_linear_reg_out = _regression_grad(False)
backward_logistic_reg_out = _regression_grad(False)
backward_mae_reg_out = _regression_grad(True)
