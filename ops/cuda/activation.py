"""CUDA kernels of ops/activation.py: Activation and its gradient (elementwise templates of ops/cuda/elemwise.py
with the scalar functions below) and the LeakyReLU family (one grid-stride kernel per direction; rrelu's forward
draws its slopes on the host and runs through the host kernel, as the CPU's generator does).
"""
import math

import numpy as np
from numba import cuda, types

from ..cpu import elemwise as cpu_elemwise
from ..registry import NULL
from .common import F32, as_compute, compute_dtype, declare, empty, flat, in_compute_dtype, launch, stream
from .elemwise import map_binary, map_unary, template
from .reduce import SUM, run_reduce

_A = types.Array(types.float32, 1, "C")
_I = types.int64


def _go(kernel, n, *args):
    kernel[launch(n) + (stream(),)](*args)


# ---- Activation --------------------------------------------------------------------------------------------------
def _softrelu(x):
    # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), without overflow
    return max(x, 0) + math.log1p(math.exp(-abs(x)))


def _relu_grad(dy, v):
    return dy if v > 0 else 0


def _sigmoid_grad(dy, v):
    return dy * v * (1 - v)


def _tanh_grad(dy, v):
    return dy * (1 - v * v)


def _softrelu_grad(dy, v):
    return -dy * math.expm1(-v)


def _softsign_grad(dy, v):
    d = 1 + abs(v)
    return dy / (d * d)


_ACTIVATION = {"relu": cpu_elemwise.relu, "sigmoid": cpu_elemwise._sigmoid, "tanh": cpu_elemwise._tanh,
               "softrelu": _softrelu, "softsign": cpu_elemwise._softsign}
_ACTIVATION_GRAD = {"relu": _relu_grad, "sigmoid": _sigmoid_grad, "tanh": _tanh_grad, "softrelu": _softrelu_grad,
                    "softsign": _softsign_grad}


for _f in _ACTIVATION.values():            # built (not compiled) now, so the PTX test sees them
    template("unary", _f)
for _f in _ACTIVATION_GRAD.values():
    template("binary", _f)


def activation(ctx, p, inputs, outputs, req):
    map_unary(_ACTIVATION[p.act_type], inputs[0], outputs[0], req[0])


def backward_activation(ctx, p, inputs, outputs, req):
    """inputs (dy, v): v is the output, or the input for softsign."""
    map_binary(_ACTIVATION_GRAD[p.act_type], inputs[0], inputs[1], outputs[0], req[0])



# ---- LeakyReLU ---------------------------------------------------------------------------------------------------
# act_type codes; rrelu's forward draws its slopes on the host (ops.random_state) and runs through the host kernel.
_LEAKY, _ELU, _SELU, _GELU, _PRELU, _RRELU = range(6)
_LEAKY_MODES = {"leaky": _LEAKY, "elu": _ELU, "selu": _SELU, "gelu": _GELU, "prelu": _PRELU, "rrelu": _RRELU}
_SELU_A, _SELU_L = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
_SQRT1_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


@cuda.jit
def _leaky_kernel(out, x, mode, a, gamma, post, c, n):
    # out = f(x) per element; prelu's slope is gamma[(i // post) % c] (c = 1: one slope for all)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        v = x[i]
        if mode == _PRELU:
            r = v if v > 0 else v * gamma[(i // post) % c]
        elif mode == _ELU:
            r = v if v > 0 else a * math.expm1(v)
        elif mode == _SELU:
            r = _SELU_L * v if v > 0 else (_SELU_A * _SELU_L) * math.expm1(v)
        elif mode == _GELU:
            r = 0.5 * v * (1.0 + math.erf(v * _SQRT1_2))
        else:
            r = v if v > 0 else a * v
        out[i] = r
        i += step


@cuda.jit
def _leaky_grad_kernel(out, dy, x, y, mode, a, gamma, post, c, n):
    # dx per element from dy, the input x and the output y (gamma: prelu's slopes, or rrelu's per-element mask)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        g = dy[i]
        if mode == _PRELU:
            r = g if x[i] > 0 else g * gamma[(i // post) % c]
        elif mode == _RRELU:
            r = g if x[i] > 0 else g * gamma[i]
        elif mode == _ELU:
            r = g if y[i] > 0 else (y[i] + a) * g
        elif mode == _SELU:
            r = _SELU_L * g if y[i] > 0 else (y[i] + _SELU_A * _SELU_L) * g
        elif mode == _GELU:
            v = x[i]
            r = g * (0.5 * (1.0 + math.erf(v * _SQRT1_2)) + v * _INV_SQRT_2PI * math.exp(-0.5 * v * v))
        else:
            r = g if y[i] > 0 else a * g
        out[i] = r
        i += step


@cuda.jit
def _prelu_neg_kernel(out, dy, x, n):
    # prelu's gamma gradient before the sum: x * dy where x <= 0, else 0
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        v = x[i]
        out[i] = 0 if v > 0 else v * dy[i]
        i += step


_AD = types.Array(types.float64, 1, "C")
declare("activation.leaky_relu", _leaky_kernel, [(_A, _A, _I, types.float32, _A, _I, _I, _I),
                                         (_AD, _AD, _I, types.float64, _AD, _I, _I, _I)])
declare("activation.leaky_relu_grad", _leaky_grad_kernel, [(_A, _A, _A, _A, _I, types.float32, _A, _I, _I, _I),
                                                   (_AD, _AD, _AD, _AD, _I, types.float64, _AD, _I, _I, _I)])
declare("activation.prelu_neg", _prelu_neg_kernel, [(_A, _A, _A, _I), (_AD, _AD, _AD, _I)])


def _slope(p, cdt):
    # the CPU's float32 loops take np.float32(slope); the numpy formulas (float64) the Python float
    return np.float32(p.slope) if cdt == F32 else np.float64(p.slope)


def _prelu_layout(x, gamma):
    """(post, c): element i of x (C-contiguous) takes gamma[(i // post) % c] (gamma along axis 1, or one value)."""
    if gamma.size == 1 or x.ndim < 2:
        return 1, 1
    return int(np.prod(x.shape[2:])), gamma.size


def leaky_relu(ctx, p, inputs, outputs, req):
    if p.act_type == "rrelu":            # random slopes drawn on the host, as on the CPU
        from . import host_fallback
        from .. import registry
        host_fallback(registry.get("LeakyReLU"))(ctx, p, inputs, outputs, req)
        return
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    cdt = compute_dtype(out.dtype)
    x = as_compute(inputs[0], cdt)
    mode = _LEAKY_MODES[p.act_type]
    gamma, post, c = x, 1, 1
    if mode == _PRELU:
        gamma = as_compute(inputs[1], cdt)
        post, c = _prelu_layout(x, gamma)
    a = _slope(p, cdt)

    def compute(dst):
        _go(_leaky_kernel, dst.size, flat(dst), flat(x), mode, a, flat(gamma), post, c, dst.size)
    in_compute_dtype(out, req[0], compute)


def backward_leaky_relu(ctx, p, inputs, outputs, req):
    """inputs (dy, data, output[, gamma | mask]) -> d_data[, d_gamma] (prelu)."""
    out = outputs[0]
    cdt = compute_dtype(out.dtype)
    dy, x, y = (as_compute(v, cdt) for v in inputs[:3])
    mode = _LEAKY_MODES[p.act_type]
    gamma, post, c = x, 1, 1
    if mode in (_PRELU, _RRELU):
        gamma = as_compute(inputs[3], cdt)
    if mode == _PRELU:
        post, c = _prelu_layout(x, gamma)
    a = _slope(p, cdt)
    n = x.size

    def compute(dst):
        _go(_leaky_grad_kernel, n, flat(dst), flat(dy), flat(x), flat(y), mode, a, flat(gamma), post, c, n)
    if n:
        in_compute_dtype(out, req[0], compute)
    if mode == _PRELU and req[1] != NULL:
        neg = empty(x.shape, cdt)
        if n:
            _go(_prelu_neg_kernel, n, flat(neg), flat(dy), flat(x), n)
        g = outputs[1]
        axes = tuple(i for i in range(x.ndim) if i != 1 or g.size == 1)
        run_reduce(SUM, neg, axes, g, req[1])


KERNELS = {
    "Activation": activation, "_backward_Activation": backward_activation,
    "LeakyReLU": leaky_relu, "_backward_LeakyReLU": backward_leaky_relu,
}
