"""Special-function helpers of the elementwise scalar functions (ops/cpu/elemwise.py), inlined into them.

`_erfinv_start` is Giles' erfinv approximation, the start of `_erfinv`'s Newton steps and the whole float32
`_erfinv_f32`; `_digamma` is psi(x) for `_backward_gammaln`. The CUDA family compiles the same functions
(ops/cuda/elemwise.py reads them through ops.cpu.elemwise).
"""
import math

import numba

_inline = numba.njit(cache=True, inline="always")
_TWO_OVER_SQRT_PI = 1.1283791670955126
_DBL_MAX = 1.7976931348623157e308


@_inline
def _erfinv_start(x):
    """erfinv(x) for |x| < 1 to ~4e-7 relative (M. Giles, "Approximating the erfinv function", 2010)."""
    w = -math.log((1 - x) * (1 + x))
    if w < 5:
        w = w - 2.5
        p = 2.81022636e-08
        p = 3.43273939e-07 + p * w
        p = -3.5233877e-06 + p * w
        p = -4.39150654e-06 + p * w
        p = 0.00021858087 + p * w
        p = -0.00125372503 + p * w
        p = -0.00417768164 + p * w
        p = 0.246640727 + p * w
        p = 1.50140941 + p * w
    else:
        w = math.sqrt(w) - 3
        p = -0.000200214257
        p = 0.000100950558 + p * w
        p = 0.00134934322 + p * w
        p = -0.00367342844 + p * w
        p = 0.00573950773 + p * w
        p = -0.0076224613 + p * w
        p = 0.00943887047 + p * w
        p = 1.00167406 + p * w
        p = 2.83297682 + p * w
    return p * x



@_inline
def _digamma(x):
    """psi(x) = d log|gamma(x)| / dx in float64: reflection below 0, recurrence up to 10, asymptotic series.
    At the poles (0 and the negative integers) MXNet 1.9.1 gives the largest double, which a float32 result rounds
    to inf (tests/fixtures/mxnet-1.9.1/sparse_ops/issue22.npz `gamma/*`)."""
    if x <= 0 and x == math.floor(x):
        return _DBL_MAX
    acc = 0.0
    if x < 0:
        acc = -math.pi / math.tan(math.pi * x)         # psi(x) = psi(1 - x) - pi / tan(pi x)
        x = 1 - x
    while x < 10:
        acc -= 1 / x
        x += 1
    f = 1 / (x * x)
    return acc + math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))))
