"""numpy/scipy references for the math ops (tests/specs_math.py uses them): unary math, and the binary, broadcast
and scalar forms of mod, maximum, minimum, hypot, comparisons and logical ops.

Written from MXNet 1.9.1's observed semantics (the facts are listed in ops/elemwise.py); they never call our
kernels. Results are computed in float64 and rounded to the output dtype once; integer data goes through the same
float64 math and truncates toward zero (MXNet's int kernels call the double functions), except where C++ integer
arithmetic is exact (abs, square, mod, maximum, comparisons...). float16 results may differ from MXNet's (float32
math, then rounded) in the last bit: the spec rows' float16 tolerance covers that.
"""
import numpy as np
import scipy.special

from tests.reference import _f64, _is_int, _round, _scalar_case

# MXNet's constants are float32 quotients, 180 / float32(pi) and float32(pi) / 180, in every dtype
DEGREES = float(np.float32(180) / np.float32(np.pi))
RADIANS = float(np.float32(np.pi) / np.float32(180))


def _unary(fn):
    """A reference from fn on float64 values: the result rounded (integers: truncated) to x's dtype."""
    def ref(p, x):
        with np.errstate(all="ignore"):
            return _round(fn(_f64(x)), x.dtype)
    return ref


def _round_half_away(x):
    t = np.trunc(x)
    return np.where(np.abs(x - t) >= 0.5, t + np.sign(x), t)


def _rint_half_down(x):
    f = np.floor(x)
    return np.where(x - f <= 0.5, f, f + 1)


def _sign(x):
    return np.where(np.isnan(x), 0.0, np.sign(x))


def _erfinv(x):
    return scipy.special.erfinv(x)


abs_ = _unary(np.abs)
sign = _unary(_sign)
round_ = _unary(_round_half_away)
rint = _unary(_rint_half_down)
ceil = _unary(np.ceil)
floor = _unary(np.floor)
trunc = _unary(np.trunc)
square = _unary(np.square)
sqrt = _unary(np.sqrt)
rsqrt = _unary(lambda x: 1 / np.sqrt(x))
cbrt = _unary(np.cbrt)
rcbrt = _unary(lambda x: 1 / np.cbrt(x))
reciprocal = _unary(lambda x: 1 / x)
exp = _unary(np.exp)
expm1 = _unary(np.expm1)
log = _unary(np.log)
log10 = _unary(np.log10)
log2 = _unary(np.log2)
log1p = _unary(np.log1p)
sin = _unary(np.sin)
cos = _unary(np.cos)
tan = _unary(np.tan)
arcsin = _unary(np.arcsin)
arccos = _unary(np.arccos)
arctan = _unary(np.arctan)
sinh = _unary(np.sinh)
cosh = _unary(np.cosh)
tanh = _unary(np.tanh)
arcsinh = _unary(np.arcsinh)
arccosh = _unary(np.arccosh)
arctanh = _unary(np.arctanh)
degrees = _unary(lambda x: x * DEGREES)
radians = _unary(lambda x: x * RADIANS)
sigmoid = _unary(scipy.special.expit)
relu = _unary(lambda x: np.where(np.isnan(x), x, np.maximum(x, 0)))
softsign = _unary(lambda x: x / (1 + np.abs(x)))
gamma = _unary(scipy.special.gamma)
gammaln = _unary(scipy.special.gammaln)
erf = _unary(scipy.special.erf)
erfinv = _unary(_erfinv)
logical_not = _unary(lambda x: (x == 0).astype(np.float64))


def hard_sigmoid(p, x):
    alpha, beta = float(np.float32(p.alpha)), float(np.float32(p.beta))
    return _round(np.clip(alpha * _f64(x) + beta, 0, 1), x.dtype)


def backward_gammaln(p, dy, x):
    return _round(_f64(dy) * scipy.special.psi(_f64(x)), dy.dtype)


# ---- binary ---------------------------------------------------------------------------------------------------
def _mod(a, b):
    """MXNet's mod on float64 or int64 values: the divisor's sign, 0 where b == 0."""
    with np.errstate(all="ignore"):
        if _is_int(a.dtype):
            safe = np.where(b == 0, 1, b)
            return np.where(b == 0, 0, np.mod(a, safe))
        return np.where(b == 0, 0.0, np.mod(a, b))


def _maximum(a, b):
    return np.maximum(a, b)            # NaN-propagating, as MXNet's


def _minimum(a, b):
    return np.minimum(a, b)


def _hypot(a, b):
    return np.hypot(a, b)


def _indicator(cmp):
    return lambda a, b: cmp(a, b).astype(np.float64)


_equal = _indicator(np.equal)
_not_equal = _indicator(np.not_equal)
_greater = _indicator(np.greater)
_greater_equal = _indicator(np.greater_equal)
_lesser = _indicator(np.less)
_lesser_equal = _indicator(np.less_equal)
_logical_and = _indicator(lambda a, b: (a != 0) & (b != 0))
_logical_or = _indicator(lambda a, b: (a != 0) | (b != 0))
_logical_xor = _indicator(lambda a, b: (a != 0) ^ (b != 0))

# ops whose integer results are exact C++ integer arithmetic in int64 (then wrapped); the rest go through float64
_EXACT_INT = {"mod", "maximum", "minimum"}
BINARY = {"mod": _mod, "maximum": _maximum, "minimum": _minimum, "hypot": _hypot, "equal": _equal,
          "not_equal": _not_equal, "greater": _greater, "greater_equal": _greater_equal, "lesser": _lesser,
          "lesser_equal": _lesser_equal, "logical_and": _logical_and, "logical_or": _logical_or,
          "logical_xor": _logical_xor}


def binary(name):
    """Reference of `_<name>` and `broadcast_<name>`: (p, lhs, rhs) -> output in the operands' dtype."""
    fn = BINARY[name]

    def ref(p, a, b):
        dtype = np.result_type(a, b)
        if _is_int(dtype) and name in _EXACT_INT:
            return fn(a.astype(np.int64), b.astype(np.int64)).astype(dtype)
        with np.errstate(all="ignore"):
            return _round(fn(_f64(a), _f64(b)), dtype)
    return ref


def with_scalar(name, reverse=False):
    """Reference of `_<name>_scalar` (or `_r<name>_scalar`): the scalar in data's dtype (C++ `DType(scalar)`)."""
    fn = BINARY[name]

    def ref(p, x):
        data, s, dtype = _scalar_case(p, x)
        exact = _is_int(dtype) and name in _EXACT_INT
        d = data.astype(np.int64) if exact else _f64(data)
        s = np.full_like(d, s)
        with np.errstate(all="ignore"):
            y = fn(s, d) if reverse else fn(d, s)
        return y.astype(dtype) if exact else _round(y, dtype)
    return ref
