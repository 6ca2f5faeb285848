"""CPU kernels of the neural-network family and their `_backward_*` kernels.

Layout: the ops the gradient pass uses (add_n, zeros_like, ones_like, BlockGrad); FullyConnected; elementwise
activations (Activation, LeakyReLU) with their gradients; the softmax family (softmax, log_softmax,
SoftmaxActivation, SoftmaxOutput); the regression losses; BatchNorm; Dropout; Concat.

Transcendental math goes through ops/cpu/vmath.py: float32 contiguous arrays run the explicit njit loops below,
which inline vmath's vectorisable scalar functions (one pass, no temporaries); other dtypes (float64, float16
computed in float32) take the numpy formula next to each loop. Every kernel honours req through ops/cpu/common.py.
"""
import math

import numpy as np
from numba import njit

from . import vmath
from .common import F16, F32, assign, compute_dtype, copy_view, store, ufunc
from .elemwise import relu
from .matrix import gemm
from ..random_state import generator
from ..registry import ADD, NULL


def _c(x):
    """x in the dtype a kernel computes in (float16 -> float32), without a copy when it already is."""
    return x.astype(F32) if x.dtype == F16 else x


# ---- ops the gradient pass uses --------------------------------------------------------------------------------
def add_n(ctx, p, inputs, outputs, req):
    """out = inputs[0] + inputs[1] + ..., summed left to right in out's dtype (float16 rounds each step, integers
    wrap, as MXNet's ElementwiseSum does)."""
    def compute(dst):
        if len(inputs) == 1:
            np.copyto(dst, inputs[0])
            return
        np.add(inputs[0], inputs[1], out=dst)
        for x in inputs[2:]:
            np.add(dst, x, out=dst)
    store(outputs[0], req[0], compute)


def zeros_like(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], 0)


def ones_like(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], 1)


def block_grad(ctx, p, inputs, outputs, req):
    """Identity (the gradient is what BlockGrad stops)."""
    copy_view(inputs[0], outputs[0], req[0])


# ---- FullyConnected --------------------------------------------------------------------------------------------
def _fc_rows(x, flatten):
    return x.reshape(x.shape[0], -1) if flatten else x.reshape(-1, x.shape[-1])


def fully_connected(ctx, p, inputs, outputs, req):
    """out = data @ weight.T + bias over data as (n, k) (flatten) or (..., k) (flatten=False)."""
    x2, w = _fc_rows(inputs[0], p.flatten), inputs[1]
    bias = None if p.no_bias else inputs[2]
    store(outputs[0], req[0], lambda dst: gemm(x2, w.T, dst.reshape(-1, p.num_hidden), bias))


def backward_fully_connected(ctx, p, inputs, outputs, req):
    """inputs (dy, data, weight) -> d_data = dy @ W, d_weight = dy^T @ X, d_bias = sum of dy's rows (BLAS)."""
    dy, x, w = inputs
    x2 = _fc_rows(x, p.flatten)
    g = dy.reshape(x2.shape[0], p.num_hidden)
    store(outputs[0], req[0], lambda dst: gemm(g, w, dst.reshape(x2.shape)))
    store(outputs[1], req[1], lambda dst: gemm(g.T, x2, dst))
    if not p.no_bias:
        assign(outputs[2], req[2], _c(g).sum(axis=0))


# ---- elementwise activations: float32 loops -----------------------------------------------------------------
# Each loop: flat float32 arrays, `a` a float32 parameter (slope), out[i] = f(...) or out[i] += f(...) (add).
# Written out one per function: loops built by a factory closure miss numba's cache (see vmath.py).
_loop = njit(cache=True, **vmath.JIT_FLAGS)
_0, _1, _HALF = np.float32(0), np.float32(1), np.float32(0.5)
_SQRT1_2 = np.float32(1 / math.sqrt(2))
_INV_SQRT_2PI = np.float32(1 / math.sqrt(2 * math.pi))
SELU_ALPHA, SELU_LAMBDA = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
_ALPHA, _LAMBDA = np.float32(SELU_ALPHA), np.float32(SELU_LAMBDA)
_ALPHA_LAMBDA = np.float32(SELU_ALPHA * SELU_LAMBDA)


@_loop
def _leaky_f32(x, a, out):
    for i in range(out.shape[0]):
        v = x[i]
        out[i] = v if v > _0 else a * v


@_loop
def _elu_f32(x, a, out):
    for i in range(out.shape[0]):
        v = x[i]
        out[i] = v if v > _0 else a * vmath.expm1_32(v)


@_loop
def _selu_f32(x, a, out):
    for i in range(out.shape[0]):
        v = x[i]
        out[i] = _LAMBDA * v if v > _0 else _ALPHA_LAMBDA * vmath.expm1_32(v)


@_loop
def _gelu_f32(x, a, out):
    for i in range(out.shape[0]):
        v = x[i]
        out[i] = _HALF * v * (_1 + vmath.erf32(v * _SQRT1_2))


# Gradients: (dy, v, a, out, add) where v is the op's output, except softsign and gelu (the input).
@_loop
def _relu_grad_f32(dy, v, a, out, add):
    for i in range(out.shape[0]):
        g = dy[i] if v[i] > _0 else _0
        out[i] = out[i] + g if add else g


@_loop
def _sigmoid_grad_f32(dy, v, a, out, add):
    for i in range(out.shape[0]):
        g = dy[i] * v[i] * (_1 - v[i])
        out[i] = out[i] + g if add else g


@_loop
def _tanh_grad_f32(dy, v, a, out, add):
    for i in range(out.shape[0]):
        g = dy[i] * (_1 - v[i] * v[i])
        out[i] = out[i] + g if add else g


@_loop
def _softrelu_grad_f32(dy, v, a, out, add):
    for i in range(out.shape[0]):
        g = -dy[i] * vmath.expm1_32(-v[i])
        out[i] = out[i] + g if add else g


@_loop
def _softsign_grad_f32(dy, v, a, out, add):
    for i in range(out.shape[0]):
        d = _1 + abs(v[i])
        g = dy[i] / (d * d)
        out[i] = out[i] + g if add else g


@_loop
def _leaky_grad_f32(dy, v, a, out, add):
    for i in range(out.shape[0]):
        g = dy[i] if v[i] > _0 else a * dy[i]
        out[i] = out[i] + g if add else g


@_loop
def _elu_grad_f32(dy, v, a, out, add):
    for i in range(out.shape[0]):
        g = dy[i] if v[i] > _0 else (v[i] + a) * dy[i]
        out[i] = out[i] + g if add else g


@_loop
def _selu_grad_f32(dy, v, a, out, add):
    for i in range(out.shape[0]):
        g = _LAMBDA * dy[i] if v[i] > _0 else (v[i] + _ALPHA_LAMBDA) * dy[i]
        out[i] = out[i] + g if add else g


@_loop
def _gelu_grad_f32(dy, v, a, out, add):
    for i in range(out.shape[0]):
        x = v[i]
        g = dy[i] * (_HALF * (_1 + vmath.erf32(x * _SQRT1_2)) + x * _INV_SQRT_2PI * vmath.exp32(-_HALF * x * x))
        out[i] = out[i] + g if add else g


def _erf(x):
    import scipy.special                      # slow to import: on first use only
    return scipy.special.erf(x)


# numpy formulas for other dtypes, same arguments as the loops (without out/add); they return the value.
_FORWARD = {
    "leaky": (_leaky_f32, lambda x, a: np.where(x > 0, x, a * x)),
    "elu": (_elu_f32, lambda x, a: np.where(x > 0, x, a * np.expm1(np.minimum(x, 0)))),
    "selu": (_selu_f32, lambda x, a: np.where(x > 0, SELU_LAMBDA * x,
                                              SELU_ALPHA * SELU_LAMBDA * np.expm1(np.minimum(x, 0)))),
    "gelu": (_gelu_f32, lambda x, a: 0.5 * x * (1 + _erf(x / math.sqrt(2)))),
}
_GRAD = {
    "relu": (_relu_grad_f32, lambda dy, v, a: np.where(v > 0, dy, 0)),
    "sigmoid": (_sigmoid_grad_f32, lambda dy, v, a: dy * v * (1 - v)),
    "tanh": (_tanh_grad_f32, lambda dy, v, a: dy * (1 - v * v)),
    "softrelu": (_softrelu_grad_f32, lambda dy, v, a: -dy * np.expm1(-v)),
    "softsign": (_softsign_grad_f32, lambda dy, v, a: dy / np.square(1 + np.abs(v))),
    "leaky": (_leaky_grad_f32, lambda dy, v, a: np.where(v > 0, dy, a * dy)),
    "elu": (_elu_grad_f32, lambda dy, v, a: np.where(v > 0, dy, (v + a) * dy)),
    "selu": (_selu_grad_f32, lambda dy, v, a: np.where(v > 0, SELU_LAMBDA * dy,
                                                       (v + SELU_ALPHA * SELU_LAMBDA) * dy)),
    "gelu": (_gelu_grad_f32, lambda dy, v, a: dy * (0.5 * (1 + _erf(v / math.sqrt(2)))
                                                    + v * np.exp(-0.5 * v * v) / math.sqrt(2 * math.pi))),
}


def _f32_flat(arrays):
    return all(x.dtype == F32 and x.flags.c_contiguous for x in arrays)


def _elementwise(table, name, args, a, out, req, grad):
    """out (req) table[name](*args, a): the float32 loop on flat views, else the numpy formula."""
    if req == NULL:
        return
    loop, formula = table[name]
    if _f32_flat(list(args) + [out]) and all(x.size == out.size for x in args):
        flat = [x.reshape(-1) for x in args]
        if grad:
            loop(*flat, np.float32(a), out.reshape(-1), req == ADD)
        else:
            store(out, req, lambda dst: loop(*flat, np.float32(a), dst.reshape(-1)))
        return
    cdt = compute_dtype(out.dtype)
    with np.errstate(all="ignore"):
        assign(out, req, formula(*[x.astype(cdt, copy=False) for x in args], a))


def activation(ctx, p, inputs, outputs, req):
    if p.act_type == "relu":
        ufunc(relu, inputs, outputs[0], req[0])
    else:
        store(outputs[0], req[0], lambda dst: vmath.apply(p.act_type, inputs[0], dst))


def backward_activation(ctx, p, inputs, outputs, req):
    """inputs (dy, v): v is the output, or the input for softsign. dx = dy * f'(.) in one pass."""
    _elementwise(_GRAD, p.act_type, inputs, 0.0, outputs[0], req[0], grad=True)


def _prelu_gamma(gamma, ndim):
    """gamma (C,) or (1,) shaped to broadcast along axis 1 of an ndim-dimensional input."""
    return gamma.reshape((1, -1) + (1,) * (ndim - 2))


def leaky_relu(ctx, p, inputs, outputs, req):
    x = inputs[0]
    if p.act_type == "prelu":
        g = _prelu_gamma(_c(inputs[1]), x.ndim)
        assign(outputs[0], req[0], np.where(x > 0, x, _c(x) * g))
    elif p.act_type == "rrelu":
        if ctx.is_train:       # one slope per element, uniform in [lower_bound, upper_bound)
            slope = generator().uniform(p.lower_bound, p.upper_bound, x.shape).astype(compute_dtype(x.dtype))
        else:
            slope = np.full(x.shape, (p.lower_bound + p.upper_bound) / 2, compute_dtype(x.dtype))
        assign(outputs[0], req[0], np.where(x > 0, x, _c(x) * slope))
        assign(outputs[1], req[1], slope)
    else:
        _elementwise(_FORWARD, p.act_type, [x], p.slope, outputs[0], req[0], grad=False)


def backward_leaky_relu(ctx, p, inputs, outputs, req):
    """inputs (dy, data, output[, gamma | mask]) -> d_data[, d_gamma]."""
    dy, x, y = inputs[:3]
    if p.act_type == "prelu":
        gamma = inputs[3]
        dyc, xc = _c(dy), _c(x)
        g = _prelu_gamma(_c(gamma), x.ndim)
        assign(outputs[0], req[0], np.where(x > 0, dyc, dyc * g))
        neg = np.where(x > 0, 0, xc * dyc)
        axes = tuple(i for i in range(x.ndim) if i != 1 or gamma.size == 1)
        assign(outputs[1], req[1], neg.sum(axis=axes).reshape(gamma.shape))
    elif p.act_type == "rrelu":
        assign(outputs[0], req[0], np.where(x > 0, _c(dy), _c(dy) * _c(inputs[3])))
    else:
        v = x if p.act_type == "gelu" else y
        _elementwise(_GRAD, p.act_type, [dy, v], p.slope, outputs[0], req[0], grad=True)


# ---- softmax family ---------------------------------------------------------------------------------------------
def _length_mask(shape, axis, length):
    """Boolean array (broadcastable to shape): position along axis < length of its row."""
    idx = np.arange(shape[axis]).reshape((-1,) + (1,) * (len(shape) - 1 - axis))
    return idx < np.expand_dims(length, axis)


def softmax(x, axis, dst, temperature=None, log=False, length=None):
    """dst = (log_)softmax of x / temperature along axis, without overflow; computed in float32 for float16 and
    in float64 when dst is float64. With length, positions at or past a row's length give 0."""
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
    """inputs (output, label) -> d_data; see _softmax_output_grad in ops/nn.py for the math."""
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


# ---- BatchNorm --------------------------------------------------------------------------------------------------
def _bn_layout(x, axis):
    """(reduced axes, shape broadcasting a per-channel vector) for channel axis `axis` of x."""
    ax = axis % x.ndim
    bshape = [1] * x.ndim
    bshape[ax] = x.shape[ax]
    return tuple(i for i in range(x.ndim) if i != ax), tuple(bshape)


def batch_norm(ctx, p, inputs, outputs, req):
    """Normalise per channel with the batch's mean and biased variance (training) or the moving stats
    (inference, use_global_stats); training also updates the moving stats in place. Outputs: the result, the
    mean used, and the inverse standard deviation 1/sqrt(var + eps) used (MXNet's `var` output holds that)."""
    x, gamma, beta, moving_mean, moving_var = inputs
    red, bshape = _bn_layout(x, p.axis)
    xc = _c(x)
    acc = moving_mean.dtype
    if ctx.is_train and not p.use_global_stats:
        mean = xc.mean(axis=red, dtype=acc)
        var = np.square(xc - mean.reshape(bshape)).mean(axis=red, dtype=acc)
        invstd = 1 / np.sqrt(var + acc.type(p.eps))
        moving_mean *= acc.type(p.momentum)
        moving_mean += acc.type(1 - p.momentum) * mean
        moving_var *= acc.type(p.momentum)
        moving_var += acc.type(1 - p.momentum) * var
    else:
        mean = moving_mean.copy()
        invstd = 1 / np.sqrt(moving_var + acc.type(p.eps))
    scale = invstd if p.fix_gamma else invstd * gamma
    y = (xc - mean.reshape(bshape)) * scale.reshape(bshape) + beta.reshape(bshape)
    assign(outputs[0], req[0], y)
    assign(outputs[1], req[1], mean)
    assign(outputs[2], req[2], invstd)


def backward_batch_norm(ctx, p, inputs, outputs, req):
    """inputs (dy, data, gamma, mean, invstd) -> d_data, d_gamma, d_beta; see _bn_grad in ops/nn.py."""
    dy, x, gamma, mean, invstd = inputs
    red, bshape = _bn_layout(x, p.axis)
    acc = invstd.dtype
    dyc, xc = _c(dy), _c(x)
    xhat = (xc - mean.reshape(bshape)) * invstd.reshape(bshape)
    sum_dy = dyc.sum(axis=red, dtype=acc)
    sum_dy_xhat = (dyc * xhat).sum(axis=red, dtype=acc)
    scale = invstd if p.fix_gamma else invstd * gamma
    if p.use_global_stats or not ctx.is_train:
        dx = dyc * scale.reshape(bshape)
    else:
        n = x.size // x.shape[p.axis % x.ndim]
        dx = scale.reshape(bshape) * (dyc - (sum_dy / n).reshape(bshape)
                                      - xhat * (sum_dy_xhat / n).reshape(bshape))
    assign(outputs[0], req[0], dx)
    assign(outputs[1], req[1], 0 if p.fix_gamma else sum_dy_xhat)
    assign(outputs[2], req[2], sum_dy)


# ---- Dropout ----------------------------------------------------------------------------------------------------
def dropout(ctx, p, inputs, outputs, req):
    """Training (or mode='always'): keep each element (each slice along `axes`) with probability 1 - p and scale
    it by 1/(1 - p); the mask output holds 0 or 1/(1 - p). Otherwise the identity, with a mask of ones."""
    x = inputs[0]
    out, mask = outputs
    if (ctx.is_train or p.mode == "always") and p.p > 0:
        keep = 1.0 - p.p
        axes = {a % x.ndim for a in p.axes}
        mshape = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
        cdt = compute_dtype(x.dtype)
        with np.errstate(all="ignore"):      # p = 1: 0 * inf = NaN, as in MXNet
            scale = cdt.type(1.0 / keep if keep else np.inf)
            m = (generator().random(mshape, dtype=np.float32) < keep).astype(cdt) * scale
            assign(out, req[0], _c(x) * m)
        assign(mask, req[1], m)
    else:
        copy_view(x, out, req[0])
        assign(mask, req[1], 1)


# ---- Concat -----------------------------------------------------------------------------------------------------
def concat(ctx, p, inputs, outputs, req):
    axis = p.dim % inputs[0].ndim
    store(outputs[0], req[0], lambda dst: np.concatenate(inputs, axis=axis, out=dst, casting="unsafe"))


def backward_concat(ctx, p, inputs, outputs, req):
    """inputs (dy, arg0, ...): the args give only their shapes; output i is dy's slice for arg i."""
    dy = inputs[0]
    axis = p.dim % dy.ndim
    start = 0
    for out, r in zip(outputs, req):
        stop = start + out.shape[axis]
        index = [slice(None)] * dy.ndim
        index[axis] = slice(start, stop)
        assign(out, r, dy[tuple(index)])
        start = stop
