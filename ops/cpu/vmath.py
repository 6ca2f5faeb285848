"""Vectorisable float32 transcendental math for the CPU kernels.

Why: pip's llvmlite has no SVML, so `math.exp/tanh/log1p` in an njit loop are scalar libm calls and the
loop does not vectorise. Here each function is branch-free float32 arithmetic plus int32 bit tricks
(Cody-Waite range reduction, a polynomial, 2**n built through a bit-cast), no calls, so a loop over it
compiles to 8-wide (256-bit) SIMD: LLVM prefers 256-bit vectors even on this AVX-512 host. Compiled with
`fastmath={"contract"}` only: FMA contraction is allowed, reassociation is not (it would undo the range
reduction and the log1p correction term).

Contract.
  Scalar `exp32 expm1_32 log32 log1p32 tanh32 sigmoid32 softrelu32 softsign32 erf32`: float32 -> float32, for
  use inside other njit loops, which should be compiled with `JIT_FLAGS` (see the note there).
  Array `<name>_f32(x, out)`: 1-D C-contiguous float32 arrays of equal length, `out[i] = f(x[i])`, `out` may
  be `x`; njit(nogil=True, cache=True). `apply(name, x, out=None)`: any shape; float32 C-contiguous arrays run
  the implementation `ROUTES[name]` picks for this host ("vmath": the array function on flat views, no copy;
  "numpy": numpy's ufunc, faster on AVX-512 hosts for a few functions), anything else the numpy/scipy ufunc with
  out= (float64, float16, strided views). Tables: `FLOAT32` (array functions), `SCALAR`, `NUMPY` (the
  numpy/scipy ufuncs), `ROUTES`, all keyed by the names below.
  Special values as numpy float32: NaN in, NaN out; exp overflows to inf above 88.72 and underflows through
  the denormals to 0 below -103.97; log(0) = -inf, log(x < 0) = NaN, log1p(-1) = -inf, log1p(x < -1) = NaN;
  softsign(+-inf) = NaN, as its formula x / (1 + |x|) gives (MXNet's too). The sign of a zero result may
  differ.

Error: max relative error against numpy/scipy in float64, over every 61st float32 bit pattern in the range
shown (float32 eps = 1.19e-7; rounding the exact result to float32 alone costs up to eps/2). It holds near
zero crossings too (tanh, erf, log1p, expm1 at 0; log at 1). Results in the denormal range are off by at
most one denormal ulp (1.4e-45) absolute. tests/test_vmath.py checks the bounds in its SPECS table (1-2 eps).
Speed: ms per 1M float32, one thread, best of 3 runs (the 2-core host was shared, expect +-20%),
out-of-place; in place is the same (softsign: 0.16). Input uniform(-10, 10); log, log1p: (0, 100); erf:
(-4, 4). "njit+math": the same loop over Python's math functions (scalar libm calls).

    name      range             max rel   ms/1M  numpy ms/1M                njit+math
    exp       [-110, 95]        8.2e-8    0.38   0.38  np.exp               2.1
    expm1     [-110, 95]        1.1e-7    0.48   0.29  np.expm1             9.2
    log       [-10, 3.4e38]     8.0e-8    0.52   0.39  np.log               2.4
    log1p     [-1.5, 3.4e38]    1.3e-7    0.67   0.43  np.log1p             8.7
    tanh      [-20, 20]         1.4e-7    0.47   0.28  np.tanh              13.0
    sigmoid   [-110, 110]       1.8e-7    0.46   2.6   scipy.special.expit  2.1
    softrelu  [-110, 110]       1.7e-7    1.10   11.2  np.logaddexp(x, 0)   16.1
    softsign  [-1e6, 1e6]       1.2e-7    0.28   1.0   x / (1 + |x|)        -
    erf       [-6, 6]           1.7e-7    0.76   13.2  scipy.special.erf    14.3
"""
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["exp32", "expm1_32", "log32", "log1p32", "tanh32", "sigmoid32", "softrelu32", "softsign32",
           "erf32", "exp_f32", "expm1_f32", "log_f32", "log1p_f32", "tanh_f32", "sigmoid_f32", "softrelu_f32",
           "softsign_f32", "erf_f32", "FLOAT32", "SCALAR", "NUMPY", "ROUTES", "JIT_FLAGS", "apply", "choose_routes",
           "numpy_has_svml", "prefer_wide_vectors"]

# Compile kernels that call the scalar functions with these flags too: the scalar functions are inlined at
# numba IR level (LLVM's own inliner gave up on the larger ones, leaving a call per element), so they take the
# caller's flags. Without error_model="numpy" each division carries a zero check that stops vectorisation;
# without "contract" there is no FMA (the error bounds still hold, the last bit may differ). Numba's cache
# does not track callees in other files: a caller's cached kernel keeps the old code after this file changes.
JIT_FLAGS = dict(nogil=True, fastmath={"contract"}, error_model="numpy")
_scalar = njit(cache=True, inline="always", **JIT_FLAGS)
F = np.float32


# Bit-casts between float32 and int32: an LLVM `bitcast`, free and vectorised. Building 2**n in a scratch
# int32 block viewed as float32 also works, but measured 3.5x slower (a second pass over the block).
@intrinsic
def _as_i32(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.int32(types.float32), codegen


@intrinsic
def _as_f32(typingctx, n):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


# Note [512-bit vectors]: LLVM's X86 backend prefers 256-bit vectors on AVX-512 hosts (its "prefer-256-bit" tuning,
# against the clock drop of older Xeons), so vmath's loops ran 8 floats wide. A function that calls
# `prefer_wide_vectors()` gets the attribute "prefer-vector-width"="512": its loops run 16 wide where the host has
# AVX-512, bit for bit the same values per lane (the same instructions, FMAs included). Measured on the 2-core
# AVX-512 host, ms per 1M float32 (best of 30, shared machine): tanh 0.75 -> 0.62, elemwise10's tiled chain
# 2.84 -> 2.46. Elsewhere the attribute is a no-op. llvmlite accepts only the attributes it knows, so the string
# attribute goes in past its check; should that ever fail, the loop stays 8 wide.
@intrinsic
def prefer_wide_vectors(typingctx):
    def codegen(context, builder, sig, args):
        try:
            set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        except Exception:       # noqa: BLE001 - an llvmlite without the attribute set: 256-bit vectors
            pass
        return context.get_dummy_value()
    return types.none(), codegen


# ---- exp: x = n ln2 + r, |r| <= ln2/2; exp(r) = 1 + r + r^2 P(r) (cephes expf, 1.1e-9 on the interval) ---
_LOG2E = F(1.4426950408889634)
_LN2_HI = F(0.693145751953125)        # 16 significant bits: n * _LN2_HI is exact for |n| < 256
_LN2_LO = F(1.428606765330187e-06)
_ROUND = F(12582912.0)                # 1.5 * 2**23: adding it rounds to an integer, in the low mantissa bits
_EXP_HI = F(89.0)                     # exp(88.73) already overflows float32
_EXP_LO = F(-104.0)                   # exp(-103.98) already rounds to 0
_EXPM1_BIG = F(88.0)                  # from here 2**n alone would overflow; exp(x) - 1 loses nothing
_E0, _E1, _E2 = F(1.9875691500e-4), F(1.3981999507e-3), F(8.3334519073e-3)
_E3, _E4, _E5 = F(4.1665795894e-2), F(1.6666665459e-1), F(5.0000001201e-1)
_ONE, _HALF, _TWO, _ZERO = F(1.0), F(0.5), F(2.0), F(0.0)
_INF, _NAN = F(np.inf), F(np.nan)


@_scalar
def _exp_split(x):
    """x -> (expm1(r), n) with exp(x) = (1 + expm1(r)) 2**n, |r| <= ln2/2."""
    t = x * _LOG2E + _ROUND
    n = _as_i32(t) - _as_i32(_ROUND)                  # round(x / ln2) without a float->int conversion
    nf = t - _ROUND
    r = x - nf * _LN2_HI
    r = r - nf * _LN2_LO
    return r + r * r * (((((_E0 * r + _E1) * r + _E2) * r + _E3) * r + _E4) * r + _E5), n


@_scalar
def _exp_reduce(x):
    """x in [_EXP_LO, _EXP_HI] -> (expm1(r), 2**(n//2), 2**(n - n//2)) with exp(x) = (1 + expm1(r)) 2**n."""
    q, n = _exp_split(x)
    # 2**n in two halves: n runs over [-150, 128], beyond the normal exponents [-126, 127] one factor can hold
    n1 = n >> 1
    s1 = _as_f32((n1 + 127) << 23)
    s2 = _as_f32((n - n1 + 127) << 23)
    return q, s1, s2


@_scalar
def _exp_core(x):
    """exp(x) for x in [_EXP_LO, _EXP_HI]; no special values."""
    q, s1, s2 = _exp_reduce(x)
    return ((_ONE + q) * s1) * s2                     # one rounding into the denormals, or overflow to inf


@_scalar
def _exp_normal(x):
    """exp(x) for x in [0, 20], where 2**n is one normal power of two: _exp_core's value (its two exact scalings
    are this one), in fewer operations: tanh 0.55 -> 0.47 ms per 1M, the same bits."""
    q, n = _exp_split(x)
    return (_ONE + q) * _as_f32((n + 127) << 23)


@_scalar
def exp32(v):
    """exp(v) in float32."""
    v = F(v)
    y = _exp_core(min(max(v, _EXP_LO), _EXP_HI))
    return y if v == v else v


@_scalar
def expm1_32(v):
    """exp(v) - 1 in float32, accurate near 0."""
    v = F(v)
    x = min(max(v, _EXP_LO), _EXP_HI)
    q, s1, s2 = _exp_reduce(x)
    s = s1 * s2                                       # 2**n, exact in [-149, 127]; inf for n = 128
    small = s * q + (s - _ONE)                        # s - 1 is exact for |n| <= 24, where it matters
    large = ((_ONE + q) * s1) * s2 - _ONE
    y = small if x < _EXPM1_BIG else large
    return y if v == v else v


# ---- log: x = 2**e m, m in [sqrt(1/2), sqrt(2)); log(m) = f - f^2/2 + f^3 P(f), f = m - 1 (cephes logf) ---
_L0, _L1, _L2 = F(7.0376836292e-2), F(-1.1514610310e-1), F(1.1676998740e-1)
_L3, _L4, _L5 = F(-1.2420140846e-1), F(1.4249322787e-1), F(-1.6668057665e-1)
_L6, _L7, _L8 = F(2.0000714765e-1), F(-2.4999993993e-1), F(3.3333331174e-1)
_LN2_C1 = F(0.693359375)              # ln2 = _LN2_C1 + _LN2_C2, _LN2_C1 with 10 significant bits
_LN2_C2 = F(-2.12194440e-4)
_SQRT2 = F(1.4142135623730951)
_MIN_NORMAL = F(1.1754943508222875e-38)
_TWO23 = F(8388608.0)
_EXP_BIAS = F(8388608.0 + 127)
_EXP_BIAS_TINY = F(8388608.0 + 127 + 23)


@_scalar
def _log_mantissa(m, ef):
    """log(2**ef m) for m in [sqrt(1/2), sqrt(2)]."""
    f = m - _ONE                                      # exact (Sterbenz)
    z = f * f
    p = ((((((((_L0 * f + _L1) * f + _L2) * f + _L3) * f + _L4) * f + _L5) * f + _L6) * f + _L7) * f + _L8)
    y = f * z * p + ef * _LN2_C2 - _HALF * z
    return (f + y) + ef * _LN2_C1


@_scalar
def _log_core(x):
    """log(x) for finite x > 0; no special values."""
    tiny = x < _MIN_NORMAL                            # denormal: scale into the normal range first
    x = x * _TWO23 if tiny else x
    bits = _as_i32(x)
    m = _as_f32((bits & 0x007FFFFF) | 0x3F800000)    # mantissa in [1, 2)
    # the exponent field as a float, through the mantissa of 2**23: numba's int arithmetic is int64, and an
    # int64 -> float conversion costs more than this
    ef = _as_f32(((bits >> 23) & 0xFF) | 0x4B000000) - (_EXP_BIAS_TINY if tiny else _EXP_BIAS)
    big = m > _SQRT2
    return _log_mantissa(m * _HALF if big else m, ef + _ONE if big else ef)


@_scalar
def _log_special(x, y):
    """y, or log's value at x where x is 0, negative, inf or NaN."""
    y = _NAN if x < _ZERO else y
    y = -_INF if x == _ZERO else y
    y = _INF if x == _INF else y
    return y if x == x else x


@_scalar
def log32(v):
    """Natural log of v in float32."""
    v = F(v)
    return _log_special(v, _log_core(v))


@_scalar
def _log1p_core(v):
    """log(1 + v) for finite v > -1: log(u) corrected by the rounding error of u = 1 + v."""
    u = _ONE + v
    y = _log_core(u) - ((u - _ONE) - v) / (u if u != _ZERO else _ONE)   # v = -1 is fixed up by _log_special
    return v if u == _ONE else y                      # tiny v (and keeps the sign of -0.0)


@_scalar
def _log1p_unit(v):
    """log(1 + v) for v in [0, 1]: as _log1p_core, but 1 + v in [1, 2] needs no exponent split."""
    u = _ONE + v
    big = u > _SQRT2
    y = _log_mantissa(u * _HALF if big else u, _ONE if big else _ZERO) - ((u - _ONE) - v) / u
    return v if u == _ONE else y


@_scalar
def log1p32(v):
    """log(1 + v) in float32, accurate near 0."""
    v = F(v)
    return _log_special(_ONE + v, _log1p_core(v))


# ---- tanh: |x| < 0.625: x + x^3 P(x^2) (cephes tanhf); else 1 - 2 / (exp(2|x|) + 1) ----------------------
_T0, _T1, _T2 = F(-5.70498872745e-3), F(2.06390887954e-2), F(-5.37397155531e-2)
_T3, _T4 = F(1.33314422036e-1), F(-3.33332819422e-1)
_TANH_SMALL = F(0.625)
_TANH_SAT = F(10.0)                   # tanh(10) rounds to 1 in float32


@_scalar
def tanh32(v):
    """tanh(v) in float32."""
    v = F(v)
    a = abs(v)
    z = a * a
    small = a + a * z * ((((_T0 * z + _T1) * z + _T2) * z + _T3) * z + _T4)
    large = _ONE - _TWO / (_exp_normal(_TWO * min(a, _TANH_SAT)) + _ONE)
    y = np.copysign(small if a < _TANH_SMALL else large, v)
    return y if v == v else v


@_scalar
def sigmoid32(v):
    """1 / (1 + exp(-v)) in float32, as exp(-|v|) ratios so nothing overflows."""
    v = F(v)
    e = _exp_core(max(-abs(v), _EXP_LO))
    y = (_ONE if v >= _ZERO else e) / (_ONE + e)
    return y if v == v else v


@_scalar
def softrelu32(v):
    """log(1 + exp(v)) in float32, as max(v, 0) + log1p(exp(-|v|))."""
    v = F(v)
    y = max(v, _ZERO) + _log1p_unit(_exp_core(max(-abs(v), _EXP_LO)))
    return y if v == v else v


@_scalar
def softsign32(v):
    """v / (1 + |v|) in float32."""
    v = F(v)
    return v / (_ONE + abs(v))


# ---- erf: |x| < 0.921875: x P(x^2); else 1 - exp(Q(|x|)), Q ~ log(erfc) on [0.921875, 4] ----------------
# Coefficients fitted for this module (iteratively reweighted least squares toward minimax, in float64): P to
# 4e-10 relative, exp(Q) to 4e-11 absolute. erf(|x| >= 3.92) rounds to 1 in float32.
_P0, _P1, _P2 = F(8.370424620807171e-05), F(-0.000814279424957931), F(0.0052010416984558105)
_P3, _P4, _P5 = F(-0.026859402656555176), F(0.11283695697784424), F(-0.37612634897232056)
_P6 = F(1.128379225730896)
_Q0, _Q1, _Q2 = F(-2.1184519937378354e-05), F(0.0004354808770585805), F(-0.004175915382802486)
_Q3, _Q4, _Q5 = F(0.025131983682513237), F(-0.10829915851354599), F(-0.6333299279212952)
_Q6, _Q7 = F(-1.1295231580734253), F(0.00017636589473113418)
_ERF_SMALL = F(0.921875)
_ERF_SAT = F(4.0)


@_scalar
def erf32(v):
    """erf(v) in float32."""
    v = F(v)
    a = min(abs(v), _ERF_SAT)
    z = a * a
    small = a * ((((((_P0 * z + _P1) * z + _P2) * z + _P3) * z + _P4) * z + _P5) * z + _P6)
    q = ((((((_Q0 * a + _Q1) * a + _Q2) * a + _Q3) * a + _Q4) * a + _Q5) * a + _Q6) * a + _Q7
    large = _ONE - _exp_core(q)
    y = np.copysign(small if a < _ERF_SMALL else large, v)
    return y if v == v else v


# ---- array functions -----------------------------------------------------------------------------------
_array = njit(cache=True, **JIT_FLAGS)


# One loop per function, written out: loops made by a factory closure, or one loop taking the scalar function
# as an argument, miss numba's cache on every run. Out may be x, but then LLVM's runtime overlap check takes
# its scalar fallback loop (exp in place: 2.6 ms per 1M instead of 0.4), so in place gets its own loop.
@_array
def exp_f32(x, out):
    prefer_wide_vectors()
    if x.ctypes.data == out.ctypes.data:
        for i in range(x.shape[0]):
            x[i] = exp32(x[i])
    else:
        for i in range(x.shape[0]):
            out[i] = exp32(x[i])


@_array
def expm1_f32(x, out):
    prefer_wide_vectors()
    if x.ctypes.data == out.ctypes.data:
        for i in range(x.shape[0]):
            x[i] = expm1_32(x[i])
    else:
        for i in range(x.shape[0]):
            out[i] = expm1_32(x[i])


@_array
def log_f32(x, out):
    prefer_wide_vectors()
    if x.ctypes.data == out.ctypes.data:
        for i in range(x.shape[0]):
            x[i] = log32(x[i])
    else:
        for i in range(x.shape[0]):
            out[i] = log32(x[i])


@_array
def log1p_f32(x, out):
    prefer_wide_vectors()
    if x.ctypes.data == out.ctypes.data:
        for i in range(x.shape[0]):
            x[i] = log1p32(x[i])
    else:
        for i in range(x.shape[0]):
            out[i] = log1p32(x[i])


@_array
def tanh_f32(x, out):
    prefer_wide_vectors()
    if x.ctypes.data == out.ctypes.data:
        for i in range(x.shape[0]):
            x[i] = tanh32(x[i])
    else:
        for i in range(x.shape[0]):
            out[i] = tanh32(x[i])


@_array
def sigmoid_f32(x, out):
    prefer_wide_vectors()
    if x.ctypes.data == out.ctypes.data:
        for i in range(x.shape[0]):
            x[i] = sigmoid32(x[i])
    else:
        for i in range(x.shape[0]):
            out[i] = sigmoid32(x[i])


@_array
def softrelu_f32(x, out):
    prefer_wide_vectors()
    if x.ctypes.data == out.ctypes.data:
        for i in range(x.shape[0]):
            x[i] = softrelu32(x[i])
    else:
        for i in range(x.shape[0]):
            out[i] = softrelu32(x[i])


@_array
def softsign_f32(x, out):
    prefer_wide_vectors()
    if x.ctypes.data == out.ctypes.data:
        for i in range(x.shape[0]):
            x[i] = softsign32(x[i])
    else:
        for i in range(x.shape[0]):
            out[i] = softsign32(x[i])


@_array
def erf_f32(x, out):
    prefer_wide_vectors()
    if x.ctypes.data == out.ctypes.data:
        for i in range(x.shape[0]):
            x[i] = erf32(x[i])
    else:
        for i in range(x.shape[0]):
            out[i] = erf32(x[i])


# ---- tables and the dispatcher -------------------------------------------------------------------------
FLOAT32 = {"exp": exp_f32, "expm1": expm1_f32, "log": log_f32, "log1p": log1p_f32, "tanh": tanh_f32,
           "sigmoid": sigmoid_f32, "softrelu": softrelu_f32, "softsign": softsign_f32, "erf": erf_f32}
SCALAR = {"exp": exp32, "expm1": expm1_32, "log": log32, "log1p": log1p32, "tanh": tanh32,
          "sigmoid": sigmoid32, "softrelu": softrelu32, "softsign": softsign32, "erf": erf32}


def _softsign_np(x, out):
    return np.divide(x, 1 + np.abs(x), out=out)       # the temporary makes out=x safe


def _scipy(name):
    def ufunc(x, out):
        import scipy.special                          # imported on first use: it is slow to import
        return getattr(scipy.special, name)(x, out=out)
    return ufunc


NUMPY = {"exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p, "tanh": np.tanh,
         "sigmoid": _scipy("expit"), "softrelu": lambda x, out: np.logaddexp(x, 0, out=out),
         "softsign": _softsign_np, "erf": _scipy("erf")}


# ---- which implementation runs float32 arrays on this host ---------------------------------------------
# numpy's float32 expm1/log/log1p/tanh loops use Intel's SVML where numpy dispatches to AVX-512 (here they beat
# vmath: tanh 0.28 ms per 1M against 0.57) and scalar libm elsewhere (the same host with numpy's AVX-512 loops
# disabled, as on an AVX2 host: numpy's tanh 1.7 ms, expm1 9.2, log1p 8.3, log 1.1 against vmath's 0.6, 0.5, 0.66,
# 0.53). exp, sigmoid, softrelu, softsign and erf take vmath on every host. Decided at import from numpy's own
# CPU-dispatch report, which costs nothing (a timing would cost milliseconds and be noisy on a busy machine).
_SVML_LOOPS = ("expm1", "log", "log1p", "tanh")


def numpy_has_svml():
    """True when numpy runs its AVX-512 (SVML) float32 loops on this host: compiled in and supported."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:                                   # numpy 1.x
        from numpy.core import _multiarray_umath as umath
    compiled = set(getattr(umath, "__cpu_dispatch__", ()))
    return bool(umath.__cpu_features__.get("AVX512_SKX")) and bool(compiled & {"AVX512_SKX", "X86_V4"})


def choose_routes(svml):
    """{name: "numpy" or "vmath"}: the faster float32 implementation of each function, given numpy_has_svml()."""
    return {name: "numpy" if svml and name in _SVML_LOOPS else "vmath" for name in FLOAT32}


ROUTES = choose_routes(numpy_has_svml())


def apply(name, x, out=None):
    """out = name(x) elementwise for any shape; out (default: a new array like x) may be x. Returns out.

    C-contiguous float32 x and out of the same shape run the implementation ROUTES picks for this host (vmath's
    vectorised kernel on flat views, or numpy's ufunc); anything else (float64, float16, strided views) goes to
    the numpy/scipy ufunc with out=.
    """
    if out is None:
        out = np.empty_like(x)
    if (ROUTES[name] == "vmath" and x.dtype == np.float32 and out.dtype == np.float32 and x.shape == out.shape
            and x.flags.c_contiguous and out.flags.c_contiguous):
        FLOAT32[name](x.reshape(-1), out.reshape(-1))
    else:
        NUMPY[name](x, out=out)
    return out
