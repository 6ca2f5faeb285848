"""CPU kernels of the elementwise family: binary, broadcast, scalar and unary ops (Cast, the fill ops, copies,
hard_sigmoid and _sum_to_like are in elemwise_misc.py, re-exported here).

Each op's math is one scalar function under `numba.vectorize(cache=True)` (a DUFunc: compiled per dtype on first
use, releases the GIL, broadcasts like numpy). The kernel builders at the bottom of this file turn one scalar
function into an op's kernel `kernel(ctx, p, inputs, outputs, req)`; kernels carry the op's name
(`elemwise_add`, `_plus_scalar`). See ops/cpu/common.py, Note [numba ufuncs per dtype], for dtypes and req.
The scalar functions are plain Python under the decorator, so a CUDA family can compile the same ones.

Where a DUFunc is slower than numpy on large float arrays (it calls scalar libm for transcendental math: pip's
llvmlite has no SVML), a kernel routes float data elsewhere, computing the same thing: vmath's vectorised float32
functions, a numpy/scipy ufunc with out=, or a float32-only DUFunc variant (`mod_f32`, `hypot_f32`), keeping the
DUFunc for integer data (the float paths are in float_paths.py). The choices are in the kernel lines below, with
the timings that made them.

Adding an op: a scalar function here (skip it if one exists), a kernel line, and one line in ops/elemwise.py.
"""
import math

import numpy as np

from .common import F16, F32, in_compute_dtype, loud_fp, quiet_fp, scalar_in, ufunc
from .elemwise_misc import (_copy, _full, _hard_sigmoid, _ones, _zeros, cast, hard_sigmoid,  # noqa: F401 (re-exported:
                            sum_to_like)                                                     # ops/elemwise.py)
from .float_paths import numpy_ufunc as _np, out_of_place, rcbrt_np, relu_np, scipy_ufunc as _sp, vmath_route as _vm
from .lazy_ufunc import LazyDUFunc, vectorize
from .special import _TWO_OVER_SQRT_PI, _digamma, _erfinv_start
from ..registry import INPLACE, WRITE

_scalar = vectorize(cache=True)     # DUFuncs made on first use (ops/cpu/lazy_ufunc.py: import time)
F64 = np.dtype(np.float64)


# ---- scalar functions ------------------------------------------------------------------------------------------
@_scalar
def add(a, b):
    return a + b


@_scalar
def sub(a, b):
    return a - b


@_scalar
def mul(a, b):
    return a * b


@_scalar
def div(a, b):
    # Integers: the float64 quotient converted back truncates toward zero, C++'s integer division (exact up to
    # 2**53, so int64 operands beyond that may differ in the last units).
    return a / b


@_scalar
def power(a, b):
    # Integers: computed in float64 and truncated, as MXNet's int pow does (2 ** -1 == 0).
    return math.pow(a, b)


@_scalar
def neg(a):
    return -a


@_scalar
def ln(x):
    return math.log(x)


@_scalar
def relu(x):
    return x if x > 0 or x != x else 0      # max(x, 0); NaN stays NaN, as in MXNet 1.9.1 (relu and Activation)


# ---- unary math ------------------------------------------------------------------------------------------------
# Named after the op with a leading underscore (the op's name is its kernel's). Integer inputs go through the
# float64 math and truncate toward zero on the way back, as MXNet's int kernels do (exp(int32 17) = 24154952);
# results out of the integer range, or NaN, are undefined in C++ and not matched.
_DEGREES = 57.2957763671875             # MXNet's constants are the float32 quotients 180 / float32(pi) and
_RADIANS = 0.01745329238474369          # float32(pi) / 180, in every dtype (degrees(float64 1) = 57.2957763671875)


@_scalar
def _abs(x):
    return np.abs(x)


@_scalar
def _sign(x):
    # NaN gives 0, as in MXNet. No select, so no branch in place (19 ms -> 2.1 on 2.4M float32)
    return int(x > 0) - int(x < 0)


@_scalar
def _round(x):
    # halves away from zero (C's round): x - trunc(x) is exact
    t = np.trunc(x)
    return t + np.copysign(1.0, x) if np.abs(x - t) >= 0.5 else t


@_scalar
def _rint(x):
    # MXNet's rint rounds halves down, toward -inf: rint(-2.5) = -3, rint(2.5) = 2 (not numpy's half-to-even)
    f = np.floor(x)
    return f if x - f <= 0.5 else f + 1


@_scalar
def _ceil(x):
    return np.ceil(x)


@_scalar
def _floor(x):
    return np.floor(x)


@_scalar
def _trunc(x):
    return np.trunc(x)        # also `fix`


@_scalar
def _square(x):
    return x * x


@_scalar
def _sqrt(x):
    return math.sqrt(x)


@_scalar
def _rsqrt(x):
    return 1 / math.sqrt(x)


@_scalar
def _cbrt(x):
    return np.cbrt(x)


@_scalar
def _rcbrt(x):
    return 1 / np.cbrt(x)


@_scalar
def _reciprocal(x):
    return 1 / x


@_scalar
def _exp(x):
    return math.exp(x)


@_scalar
def _expm1(x):
    return math.expm1(x)


@_scalar
def _log10(x):
    return math.log10(x)


@_scalar
def _log2(x):
    return math.log2(x)


@_scalar
def _log1p(x):
    return math.log1p(x)


@_scalar
def _sin(x):
    return math.sin(x)


@_scalar
def _cos(x):
    return math.cos(x)


@_scalar
def _tan(x):
    return math.tan(x)


@_scalar
def _arcsin(x):
    return math.asin(x)


@_scalar
def _arccos(x):
    return math.acos(x)


@_scalar
def _arctan(x):
    return math.atan(x)


@_scalar
def _sinh(x):
    return math.sinh(x)


@_scalar
def _cosh(x):
    return math.cosh(x)


@_scalar
def _tanh(x):
    return math.tanh(x)


@_scalar
def _arcsinh(x):
    return math.asinh(x)


@_scalar
def _arccosh(x):
    return math.acosh(x)


@_scalar
def _arctanh(x):
    return math.atanh(x)


@_scalar
def _degrees(x):
    return x * _DEGREES


@_scalar
def _radians(x):
    return x * _RADIANS


@_scalar
def _sigmoid(x):
    return 1 / (1 + math.exp(-np.float64(x)))    # -x of unsigned data would wrap


@_scalar
def _softsign(x):
    return x / (1 + np.abs(x))


@_scalar
def _gamma(x):
    return math.gamma(x)                  # float32: tgammaf, as MXNet


@_scalar
def _gammaln(x):
    return math.lgamma(x)                 # log|gamma(x)|: gammaln(-2.5) = -0.0562


@_scalar
def _erf(x):
    return math.erf(x)


@_scalar
def _erfinv(x):
    # Giles' start, then Newton steps in float64: on erf(y) = x for |x| <= 0.5; beyond, on log(erfc(|y|)) =
    # log(1 - |x|), where 1 - |x| is exact and nearly linear in |y| (Giles' start is rough near +-1)
    v = np.float64(x)
    a = np.abs(v)
    if not a < 1:
        return np.copysign(np.inf, v) if a == 1 else np.nan
    z = np.abs(_erfinv_start(v))
    if a <= 0.5:
        for _ in range(2):
            z = z - (math.erf(z) - a) / (_TWO_OVER_SQRT_PI * math.exp(-z * z))
    else:
        c = math.log(1 - a)
        for _ in range(4):
            e = math.erfc(z)
            z = z + (math.log(e) - c) * e / (_TWO_OVER_SQRT_PI * math.exp(-z * z))
    return np.copysign(z, v)


@_scalar
def _erfinv_f32(x):
    # float32 (and float16) data: Giles' approximation alone is within float32 accuracy
    return np.float32(_erfinv_start(np.float32(x))) if np.abs(x) < 1 else (
        np.copysign(np.inf, x) if np.abs(x) == 1 else np.nan)


@_scalar
def _logical_not(x):
    return 1 if x == 0 else 0             # NaN is true, so gives 0


@_scalar
def _gammaln_grad(dy, x):
    return dy * _digamma(np.float64(x))


# ---- binary math -----------------------------------------------------------------------------------------------
@_scalar
def mod(a, b):
    # MXNet's mod takes the divisor's sign (Python's %, floored: -7 % 3 == 2, 7 % -3 == -2) and gives 0 where
    # b == 0, for integers and floats alike. numba's % is Python's, which matches MXNet's formula on infinities
    # too (-5.5 % inf == inf).
    if b == 0:
        return 0
    return a % b


@_scalar
def mod_f32(a, b):
    # float32 (and float16) operands: in float64, x - floor(x / y) y is exact while |floor(x / y)| < 2**28, and
    # the float64 quotient floors right, so the result is MXNet's rounded once. Other cases take the exact path.
    x = np.float64(a)
    y = np.float64(b)
    q = np.floor(x / y)
    if np.abs(q) < 268435456.0 and np.abs(y) < np.inf:
        return x - q * y
    return 0.0 if y == 0 else x % y


@_scalar
def maximum(a, b):
    return a if a > b or a != a else b        # NaN in either gives NaN, as in MXNet


@_scalar
def minimum(a, b):
    return a if a < b or a != a else b


@_scalar
def hypot(a, b):
    return math.hypot(a, b)


@_scalar
def hypot_f32(a, b):
    # float32 (and float16) operands: the squares and their sum are exact or nearly so in float64, no overflow
    x = np.float64(a)
    y = np.float64(b)
    r = math.sqrt(x * x + y * y)
    return np.inf if np.abs(x) == np.inf or np.abs(y) == np.inf else r


# Comparisons and logical ops give 1 or 0 in the inputs' dtype (MXNet returns no bool arrays); NaN compares
# unequal to everything and counts as true.
@_scalar
def equal(a, b):
    return 1 if a == b else 0


@_scalar
def not_equal(a, b):
    return 1 if a != b else 0


@_scalar
def greater(a, b):
    return 1 if a > b else 0


@_scalar
def greater_equal(a, b):
    return 1 if a >= b else 0


@_scalar
def lesser(a, b):
    return 1 if a < b else 0


@_scalar
def lesser_equal(a, b):
    return 1 if a <= b else 0


@_scalar
def logical_and(a, b):
    return 1 if (a != 0) & (b != 0) else 0


@_scalar
def logical_or(a, b):
    return 1 if (a != 0) | (b != 0) else 0


@_scalar
def logical_xor(a, b):
    return 1 if (a != 0) != (b != 0) else 0


# ---- kernel builders -------------------------------------------------------------------------------------------
def _pick(f, f32, dtype):
    """The DUFunc for an output of dtype: f32 (a float32-only variant) for float32 and float16, else f."""
    return f32 if f32 is not None and (dtype == F32 or dtype == F16) else f


def _run(f, f32, floats, args, out, req):
    """out (req) f(*args): `floats` (a numpy ufunc) for float data where given, else the DUFunc picked by _pick."""
    if floats is not None and out.dtype.kind == "f":
        dt = out.dtype
        if (req == WRITE or req == INPLACE) and dt != F16 and args[0].dtype == dt and args[-1].dtype == dt:
            token = quiet_fp()          # the common call (fresh output, same dtypes): straight into out
            try:
                floats(*args, out=out)
            finally:
                loud_fp(token)
            return
        in_compute_dtype(out, req, lambda dst: floats(*[a if a.dtype == dst.dtype else a.astype(dst.dtype)
                                                         for a in args], out=dst))
    else:
        ufunc(_pick(f, f32, out.dtype), args, out, req)


def elementwise(f, f32=None, floats=None):
    """Kernel computing outputs[0] = f(*inputs) elementwise, numpy broadcasting (same-shape and broadcast ops).

    f32: a float32-only DUFunc for float32 and float16 data; floats: a numpy ufunc for float data, where numpy's
    SIMD loop beats the DUFunc and computes the same thing."""
    def kernel(ctx, p, inputs, outputs, req):
        _run(f, f32, floats, inputs, outputs[0], req[0])
    return kernel


def with_scalar(f, reverse=False, f32=None, floats=None):
    """Kernel computing f(data, scalar), or f(scalar, data) when reverse; the scalar is taken in out's dtype.

    `is_int=False` on an integer input makes the output float64 (the dtype rule), so data is converted to it."""
    def kernel(ctx, p, inputs, outputs, req):
        s = scalar_in(p.scalar, outputs[0].dtype)
        _run(f, f32, floats, (s, inputs[0]) if reverse else (inputs[0], s), outputs[0], req[0])
    return kernel


def math_kernel(f, f32=None, f64=None):
    """Kernel computing outputs[0] = f(inputs[0]) with DUFunc f, except that float32 (and float16, computed in
    float32) and float64 data go to the array functions `f32(x, out)` / `f64(x, out)` where given: vmath's
    vectorised float32 math, or a numpy/scipy ufunc with out=, where those beat a DUFunc calling scalar libm.
    A DUFunc given as f32 or f64 (a variant for that dtype) runs like f."""
    def kernel(ctx, p, inputs, outputs, req):
        x, out = inputs[0], outputs[0]
        fast = f64 if out.dtype == F64 else f32 if out.dtype == F32 or out.dtype == F16 else None
        if fast is None or isinstance(fast, LazyDUFunc):
            ufunc(f if fast is None else fast, inputs, out, req[0])
        elif (req[0] == WRITE or req[0] == INPLACE) and x.dtype == out.dtype and out.dtype != F16:
            token = quiet_fp()          # the common call: straight into out
            try:
                fast(x, out)
            finally:
                loud_fp(token)
        else:
            src = x if x.dtype != F16 else x.astype(F32)
            in_compute_dtype(out, req[0], lambda dst: fast(src, dst))
    return kernel


# ---- kernels ---------------------------------------------------------------------------------------------------
# Float arithmetic (+ - * / and negation, IEEE-exact, so the same bits as the DUFunc) goes to numpy's SIMD loops,
# which also run in place at full speed (Note [in-place DUFunc calls]) and keep numba off a script's first call.
elemwise_add = broadcast_add = elementwise(add, floats=np.add)
elemwise_sub = broadcast_sub = elementwise(sub, floats=np.subtract)
elemwise_mul = broadcast_mul = elementwise(mul, floats=np.multiply)
elemwise_div = broadcast_div = elementwise(div, floats=np.divide)
_power = broadcast_power = elementwise(power, floats=np.power)     # float32: 0.68 ms, the DUFunc (libm pow) 7.1
_mod = broadcast_mod = elementwise(mod, f32=mod_f32)     # float32: 18 ms, numpy's np.mod 28; 1.8 against a scalar
_maximum = broadcast_maximum = elementwise(maximum)
_minimum = broadcast_minimum = elementwise(minimum)
_hypot = broadcast_hypot = elementwise(hypot, f32=hypot_f32)    # float32: 0.9 ms, np.hypot 3.5
_equal = broadcast_equal = elementwise(equal)
_not_equal = broadcast_not_equal = elementwise(not_equal)
_greater = broadcast_greater = elementwise(greater)
_greater_equal = broadcast_greater_equal = elementwise(greater_equal)
_lesser = broadcast_lesser = elementwise(lesser)
_lesser_equal = broadcast_lesser_equal = elementwise(lesser_equal)
_logical_and = broadcast_logical_and = elementwise(logical_and)
_logical_or = broadcast_logical_or = elementwise(logical_or)
_logical_xor = broadcast_logical_xor = elementwise(logical_xor)
_backward_gammaln = elementwise(_gammaln_grad)
negative = elementwise(neg, floats=np.negative)

_plus_scalar = with_scalar(add, floats=np.add)
_minus_scalar = with_scalar(sub, floats=np.subtract)
_rminus_scalar = with_scalar(sub, reverse=True, floats=np.subtract)
_mul_scalar = with_scalar(mul, floats=np.multiply)
_div_scalar = with_scalar(div, floats=np.divide)
_rdiv_scalar = with_scalar(div, reverse=True, floats=np.divide)
_power_scalar = with_scalar(power, floats=np.power)
_rpower_scalar = with_scalar(power, reverse=True, floats=np.power)
_mod_scalar = with_scalar(mod, f32=mod_f32)
_rmod_scalar = with_scalar(mod, reverse=True, f32=mod_f32)
_maximum_scalar = with_scalar(maximum)
_minimum_scalar = with_scalar(minimum)
_hypot_scalar = with_scalar(hypot, f32=hypot_f32)
_equal_scalar = with_scalar(equal)
_not_equal_scalar = with_scalar(not_equal)
_greater_scalar = with_scalar(greater)
_greater_equal_scalar = with_scalar(greater_equal)
_lesser_scalar = with_scalar(lesser)
_lesser_equal_scalar = with_scalar(lesser_equal)
_logical_and_scalar = with_scalar(logical_and)
_logical_or_scalar = with_scalar(logical_or)
_logical_xor_scalar = with_scalar(logical_xor)

# Unary math. Fast float paths were picked by timing 1024x1024 float32 arrays (ms, one thread; the 2-core host is
# shared, +-20%): vmath_route where vmath beats numpy on some host (exp 0.42 vs numpy 0.47; sigmoid 0.5 vs scipy's
# expit 2.7; softsign 0.3 vs 1.0 for numpy's x / (1 + |x|); erf 0.85 vs scipy 26; expm1, log, log1p, tanh: numpy
# with AVX-512, vmath without: vmath.ROUTES), numpy's SIMD loops where they beat the libm-calling DUFunc (the
# trigonometric and hyperbolic functions, cbrt, log10, log2) or run in place without its scalar fallback (sqrt,
# reciprocal: the same correctly rounded values), scipy for gamma (22 ms vs tgammaf's 61) and float64
# gammaln/erf/erfinv. The plain DUFunc elsewhere: it vectorises plain arithmetic (abs, rounding, square, degrees:
# within 5% of numpy), lgammaf beats scipy (28 vs 40 ms), erfinv's float32 approximation too (17 vs 33); in place
# through out_of_place where its scalar fallback is slow (Note [in-place DUFunc calls] in float_paths.py).
# Kernels named `abs` and `round` shadow the builtins in this module: scalar functions use np.abs instead.
abs = math_kernel(_abs)                                                              # noqa: A001
sign = math_kernel(_sign)
round = math_kernel(_round, f32=out_of_place(_round), f64=out_of_place(_round))     # noqa: A001
rint = math_kernel(_rint, f32=out_of_place(_rint), f64=out_of_place(_rint))
ceil = math_kernel(_ceil)
floor = math_kernel(_floor)
trunc = fix = math_kernel(_trunc)
square = math_kernel(_square)
sqrt = math_kernel(_sqrt, f32=_np(np.sqrt), f64=_np(np.sqrt))
rsqrt = math_kernel(_rsqrt, f32=out_of_place(_rsqrt), f64=out_of_place(_rsqrt))
cbrt = math_kernel(_cbrt, f32=_np(np.cbrt), f64=_np(np.cbrt))
rcbrt = math_kernel(_rcbrt, f32=rcbrt_np, f64=rcbrt_np)
reciprocal = math_kernel(_reciprocal, f32=_np(np.reciprocal), f64=_np(np.reciprocal))
exp = math_kernel(_exp, f32=_vm("exp"), f64=_np(np.exp))
expm1 = math_kernel(_expm1, f32=_vm("expm1"), f64=_np(np.expm1))
log = math_kernel(ln, f32=_vm("log"), f64=_np(np.log))
log10 = math_kernel(_log10, f32=_np(np.log10), f64=_np(np.log10))
log2 = math_kernel(_log2, f32=_np(np.log2), f64=_np(np.log2))
log1p = math_kernel(_log1p, f32=_vm("log1p"), f64=_np(np.log1p))
sin = math_kernel(_sin, f32=_np(np.sin), f64=_np(np.sin))
cos = math_kernel(_cos, f32=_np(np.cos), f64=_np(np.cos))
tan = math_kernel(_tan, f32=_np(np.tan), f64=_np(np.tan))
arcsin = math_kernel(_arcsin, f32=_np(np.arcsin), f64=_np(np.arcsin))
arccos = math_kernel(_arccos, f32=_np(np.arccos), f64=_np(np.arccos))
arctan = math_kernel(_arctan, f32=_np(np.arctan), f64=_np(np.arctan))
sinh = math_kernel(_sinh, f32=_np(np.sinh), f64=_np(np.sinh))
cosh = math_kernel(_cosh, f32=_np(np.cosh), f64=_np(np.cosh))
tanh = math_kernel(_tanh, f32=_vm("tanh"), f64=_np(np.tanh))
arcsinh = math_kernel(_arcsinh, f32=_np(np.arcsinh), f64=_np(np.arcsinh))
arccosh = math_kernel(_arccosh, f32=_np(np.arccosh), f64=_np(np.arccosh))
arctanh = math_kernel(_arctanh, f32=_np(np.arctanh), f64=_np(np.arctanh))
degrees = math_kernel(_degrees)
radians = math_kernel(_radians)
sigmoid = math_kernel(_sigmoid, f32=_vm("sigmoid"))
relu_ = math_kernel(relu, f32=relu_np, f64=relu_np)     # `relu` is the scalar function (ops/cpu/activation.py)
softsign = math_kernel(_softsign, f32=_vm("softsign"))
gamma = math_kernel(_gamma, f32=_sp("gamma"), f64=_sp("gamma"))
gammaln = math_kernel(_gammaln, f64=_sp("gammaln"))
erf = math_kernel(_erf, f32=_vm("erf"), f64=_sp("erf"))
erfinv = math_kernel(_erfinv, f32=_erfinv_f32, f64=_sp("erfinv"))
logical_not = math_kernel(_logical_not)
