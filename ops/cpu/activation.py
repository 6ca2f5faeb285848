"""CPU kernels of ops/activation.py: Activation and the LeakyReLU family, with their gradients.

Transcendental math goes through ops/cpu/vmath.py: float32 contiguous arrays run the explicit njit loops below,
which inline vmath's vectorisable scalar functions (one pass, no temporaries); other dtypes (float64, float16
computed in float32) take the numpy formula next to each loop. Every kernel honours req through ops/cpu/common.py.
"""
import math

import numpy as np
from numba import njit

from . import vmath
from .common import F16, F32, assign, compute_dtype, loud_fp, quiet_fp, same_memory, store
from .elemwise import F64, relu_
from .float_paths import relu_np
from ..random_state import generator
from ..registry import ADD, INPLACE, NULL, WRITE


def _c(x):
    """x in the dtype a kernel computes in (float16 -> float32), without a copy when it already is."""
    return x.astype(F32) if x.dtype == F16 else x


# ---- elementwise activations: float32 loops -----------------------------------------------------------------
# Each loop: flat float32 arrays, `a` a float32 parameter (slope), out[i] = f(...) or out[i] += f(...) (add).
# Written out one per function: loops built by a factory closure miss numba's cache (see vmath.py).
# Note [branch-free loop bodies]: every value is loaded, and every side computed, before one select. An output that
# is an input's buffer (in place) defeats LLVM's runtime overlap check, which then runs its scalar fallback loop;
# a load inside a branch (`dy[i] if v[i] > 0 else 0`) stays a branch there, mispredicted on mixed signs: relu's
# gradient in place took 24.7 ms on 2.4M floats, 0.74 ms with the load hoisted (1.1 out of place).
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
        neg = a * v
        out[i] = v if v > _0 else neg


@_loop
def _elu_f32(x, a, out):
    for i in range(out.shape[0]):
        v = x[i]
        neg = a * vmath.expm1_32(v)
        out[i] = v if v > _0 else neg


@_loop
def _selu_f32(x, a, out):
    for i in range(out.shape[0]):
        v = x[i]
        pos = _LAMBDA * v
        neg = _ALPHA_LAMBDA * vmath.expm1_32(v)
        out[i] = pos if v > _0 else neg


@_loop
def _gelu_f32(x, a, out):
    for i in range(out.shape[0]):
        v = x[i]
        out[i] = _HALF * v * (_1 + vmath.erf32(v * _SQRT1_2))


# Gradients: (dy, v, a, out, add) where v is the op's output, except softsign and gelu (the input).
@_loop
def _relu_grad_f32(dy, v, a, out, add):
    for i in range(out.shape[0]):
        d = dy[i]
        g = d if v[i] > _0 else _0
        out[i] = out[i] + g if add else g


@_loop
def _sigmoid_grad_f32(dy, v, a, out, add):
    for i in range(out.shape[0]):
        y = v[i]
        g = dy[i] * y * (_1 - y)
        out[i] = out[i] + g if add else g


@_loop
def _tanh_grad_f32(dy, v, a, out, add):
    for i in range(out.shape[0]):
        y = v[i]
        g = dy[i] * (_1 - y * y)
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
        d = dy[i]
        neg = a * d
        g = d if v[i] > _0 else neg
        out[i] = out[i] + g if add else g


@_loop
def _elu_grad_f32(dy, v, a, out, add):
    for i in range(out.shape[0]):
        d = dy[i]
        y = v[i]
        neg = (y + a) * d
        g = d if y > _0 else neg
        out[i] = out[i] + g if add else g


@_loop
def _selu_grad_f32(dy, v, a, out, add):
    for i in range(out.shape[0]):
        d = dy[i]
        y = v[i]
        pos = _LAMBDA * d
        neg = (y + _ALPHA_LAMBDA) * d
        g = pos if y > _0 else neg
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


# Loops whose body is slow unvectorised (vmath calls, a division): in place they compute into a fresh buffer, one
# extra pass, rather than run LLVM's scalar fallback (Note [branch-free loop bodies]; softrelu's gradient in place
# took 17 ms on 2.4M floats, 1.8 out of place).
_SLOW_SCALAR = {"elu", "selu", "gelu", "softrelu", "softsign"}


def _f32_flat(arrays):
    return all(x.dtype == F32 and x.flags.c_contiguous for x in arrays)


def _elementwise(table, name, args, a, out, req, grad):
    """out (req) table[name](*args, a): the float32 loop on flat views, else the numpy formula."""
    if req == NULL:
        return
    loop, formula = table[name]
    if _f32_flat(list(args) + [out]) and all(x.size == out.size for x in args):
        flat = [x.reshape(-1) for x in args]
        if name in _SLOW_SCALAR and any(same_memory(x, out) for x in args):
            assign(out, req, _elementwise_new(loop, flat, a, grad).reshape(out.shape))
        elif grad:
            loop(*flat, np.float32(a), out.reshape(-1), req == ADD)
        else:
            store(out, req, lambda dst: loop(*flat, np.float32(a), dst.reshape(-1)))
        return
    cdt = compute_dtype(out.dtype)
    token = quiet_fp()
    try:
        assign(out, req, formula(*[x.astype(cdt, copy=False) for x in args], a))
    finally:
        loud_fp(token)


def _elementwise_new(loop, flat, a, grad):
    """loop's result over the flat inputs in a fresh array (no input is its output, so it vectorises)."""
    out = np.empty_like(flat[0])
    if grad:
        loop(*flat, np.float32(a), out, False)
    else:
        loop(*flat, np.float32(a), out)
    return out


def activation(ctx, p, inputs, outputs, req):
    if p.act_type == "relu":
        x, out = inputs[0], outputs[0]
        if (req[0] == WRITE or req[0] == INPLACE) and (out.dtype == F32 or out.dtype == F64):
            relu_np(x, out)         # the common call, straight to numpy (max(x, 0) raises no floating-point flag)
        else:
            relu_(ctx, p, inputs, outputs, req)
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
