"""`mx.np`'s element-wise functions beyond functions.py's first slice: the other unary ufuncs of the registry,
NumPy's tests (`isnan`, `isinf` ...), comparisons and logical functions giving bool arrays, and binary functions
composed of registry ops (`hypot`, `arctan2`, `copysign`, `ldexp`). Integer data keeps its dtype in the unary
functions (MXNet's `np.sqrt` of int32 is int32, tests/fixtures/mxnet-1.9.1/numpy_func/)."""
import numpy as onp

from ..ndarray.ndarray import NDArray
from .functions import _array, _binary_function, _host, _unary, abs, divide, floor, multiply, power, where
from .multiarray import _into, _np, as_np, binary, promote_types, reshape_to

__all__ = ["arcsin", "arccos", "arctan", "sinh", "cosh", "tan", "arcsinh", "arccosh", "arctanh", "log2", "log10",
           "cbrt", "reciprocal", "rint", "trunc", "fix", "degrees", "radians", "rad2deg", "deg2rad", "fabs",
           "positive", "around", "round", "round_", "logical_not", "isnan", "isinf", "isfinite", "isposinf",
           "isneginf", "nan_to_num", "remainder", "hypot", "arctan2", "copysign", "ldexp", "equal", "not_equal",
           "greater", "greater_equal", "less", "less_equal", "logical_and", "logical_or", "logical_xor",
           "signbit", "polyval"]

arcsin = _unary("arcsin", "The inverse sine, element-wise.")
arccos = _unary("arccos", "The inverse cosine, element-wise.")
arctan = _unary("arctan", "The inverse tangent, element-wise.")
sinh = _unary("sinh", "The hyperbolic sine, element-wise.")
cosh = _unary("cosh", "The hyperbolic cosine, element-wise.")
tan = _unary("tan", "The tangent, element-wise.")
arcsinh = _unary("arcsinh", "The inverse hyperbolic sine, element-wise.")
arccosh = _unary("arccosh", "The inverse hyperbolic cosine, element-wise.")
arctanh = _unary("arctanh", "The inverse hyperbolic tangent, element-wise.")
log2 = _unary("log2", "The base-2 logarithm, element-wise.")
log10 = _unary("log10", "The base-10 logarithm, element-wise.")
cbrt = _unary("cbrt", "The cube root, element-wise.")
reciprocal = _unary("reciprocal", "1/x, element-wise.")
rint = _unary("rint", "The nearest integer, element-wise; halves round down (MXNet's: rint(-0.5) is -1).")
trunc = _unary("trunc", "The integer part (rounded towards zero), element-wise.")
fix = _unary("fix", "Rounded towards zero, element-wise.")
degrees = rad2deg = _unary("degrees", "Radians to degrees, element-wise.")
radians = deg2rad = _unary("radians", "Degrees to radians, element-wise.")
fabs = abs
remainder = _binary_function("broadcast_mod", "_mod_scalar", "_rmod_scalar",
                             "x1 % x2 with broadcasting (the sign of the divisor, as Python's).")


def positive(x, out=None):
    return _into(_array(x).copy(), out)


def around(x, decimals=0, out=None):
    """`x` rounded to `decimals` decimals, halves to even (NumPy's and MXNet's `around`; MXNet's `rint` rounds
    halves down instead). Integers keep their dtype; with negative `decimals` they are truncated (MXNet's)."""
    return _into(_around(_array(x), decimals), out)


def _around(x, decimals):
    if x.dtype.kind != "f":
        if decimals >= 0:
            return x.copy()
        # MXNet rounds integers toward zero to a multiple of 10**-decimals (fixture np_math around_int*)
        step = 10.0 ** -decimals
        return (trunc(x.astype(onp.float64) / step) * step).astype(x.dtype)
    scaled = x * 10.0 ** decimals if decimals else x
    nearest = floor(scaled + 0.5)
    halfway_to_odd = logical_and(nearest - scaled == 0.5, remainder(nearest, 2.0) != 0)
    rounded = where(halfway_to_odd, nearest - 1, nearest)
    return rounded / 10.0 ** decimals if decimals else rounded


round = round_ = around  # noqa: A001 - NumPy's name


def _bool(result):
    return result.astype(onp.bool_, copy=False)


def logical_not(x, out=None):
    """not x, element-wise, as a bool array."""
    x = _array(x)
    return _into(x == 0, out)


def _of_integers(x, answer, out):
    """A NaN/infinity test's result for integer (or bool) `x`, which holds no such value: `answer` everywhere (a
    comparison would cast the infinity to the integer dtype)."""
    return _into(_host(onp.full(x.shape, answer), onp.bool_, x.context), out)


def isnan(x, out=None):
    x = _array(x)
    if x.dtype.kind != "f":
        return _of_integers(x, False, out)
    return _into(x != x, out)


def isinf(x, out=None):
    x = _array(x)
    if x.dtype.kind != "f":
        return _of_integers(x, False, out)
    return _into(abs(x) == onp.inf, out)


def isposinf(x, out=None):
    x = _array(x)
    if x.dtype.kind != "f":
        return _of_integers(x, False, out)
    return _into(x == onp.inf, out)


def isneginf(x, out=None):
    x = _array(x)
    if x.dtype.kind != "f":
        return _of_integers(x, False, out)
    return _into(x == -onp.inf, out)


def isfinite(x, out=None):
    x = _array(x)
    if x.dtype.kind != "f":
        return _of_integers(x, True, out)
    return _into(abs(x) < onp.inf, out)


def signbit(x, out=None):
    """True where `x` is negative (-0.0 counts as positive here)."""
    return _into(_array(x) < 0, out)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """`x` with NaN and infinities replaced by `nan` and the dtype's largest/smallest finite values; with
    `copy=False` `x` itself is changed and returned (NumPy's and MXNet's)."""
    x = _array(x)
    if x.dtype.kind not in "f":
        return x.copy() if copy else x
    info = onp.finfo(x.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    result = where(isnan(x), nan, x)
    result = where(isposinf(result), posinf, result)
    result = where(isneginf(result), neginf, result)
    if copy:
        return result
    x[...] = result
    return x


hypot = _binary_function("broadcast_hypot", "_hypot_scalar", "_hypot_scalar", "sqrt(x1**2 + x2**2) with broadcasting.")


def arctan2(x1, x2, out=None):
    """The angle of the point (x2, x1) from the x axis, in [-pi, pi], by C's atan2 rules (MXNet's kernel): the
    signs of zeros count, and two infinities meet at odd multiples of pi/4. Where |x2| >= |x1| it is
    arctan(x1/x2), moved to x2's half plane; elsewhere +-pi/2 - arctan(x2/x1). Each form divides by its larger
    coordinate, so values and gradients stay finite off the origin (x1 = 0 or x2 = 0 included)."""
    y, x = _array(x1), _array(x2, x1 if isinstance(x1, NDArray) else None)
    dtype = promote_types(y.dtype, x.dtype)
    if dtype.kind != "f":
        dtype = onp.dtype(onp.float32)      # integers give float32, as true division does
    y, x = y.astype(dtype, copy=False), x.astype(dtype, copy=False)
    x_negative = _negative(x)
    half_turn = where(_negative(y), -onp.pi, onp.pi).astype(dtype)     # pi with y's sign
    by_x = logical_and(abs(x) >= abs(y), x != 0)
    by_y = logical_not(logical_or(by_x, y == 0))
    one = onp.ones((), dtype)
    from_x = arctan(divide(y, where(by_x, x, one)))
    from_x = where(x_negative, from_x + half_turn, from_x)     # (adding 0 would lose the sign of -0)
    from_y = half_turn / 2 - arctan(divide(x, where(by_y, y, one)))
    result = where(by_x, from_x, from_y)
    at_origin = where(x_negative, half_turn, y)             # atan2(+-0, +0) = +-0, atan2(+-0, -0) = +-pi
    result = where(logical_and(x == 0, y == 0), at_origin, result)
    corners = where(x_negative, half_turn * 0.75, half_turn * 0.25)
    result = where(logical_and(isinf(x), isinf(y)), corners, result)
    return _into(where(logical_or(isnan(x), isnan(y)), x + y, result), out)


def _negative(x):
    """True where `x` has its sign bit set: below zero, or -0.0 (whose reciprocal is -inf)."""
    if x.dtype.kind != "f":
        return x < 0
    return logical_or(x < 0, logical_and(x == 0, divide(1, x) < 0))


def copysign(x1, x2, out=None):
    """The magnitude of `x1` with the sign of `x2`."""
    magnitude = abs(_array(x1))
    return _into(where(_array(x2) < 0, -magnitude, magnitude), out)


def ldexp(x1, x2, out=None):
    """x1 * 2**x2, computed in float (integer operands give an integer array, truncated, as MXNet's)."""
    a = _array(x1, x2 if isinstance(x2, NDArray) else None)
    b = _array(x2, a)
    dtype = promote_types(a.dtype, b.dtype)
    work = dtype if dtype.kind == "f" else onp.dtype(onp.float64)
    result = multiply(a.astype(work, copy=False), power(2.0, b.astype(work, copy=False)))
    return _into(result.astype(dtype, copy=False), out)


# -- comparisons and logical functions: bool arrays --------------------------------------------------------------
def _compare(name, reflected_name):
    def compare(x1, x2, out=None):
        if not isinstance(x1, NDArray) and isinstance(x2, NDArray):
            return _into(getattr(as_np(x2), reflected_name)(x1), out)
        return _into(getattr(_array(x1), name)(x2), out)
    compare.__doc__ = "x1 %s x2 with broadcasting, as a bool array." % name
    return compare


equal = _compare("__eq__", "__eq__")
not_equal = _compare("__ne__", "__ne__")
greater = _compare("__gt__", "__lt__")
greater_equal = _compare("__ge__", "__le__")
less = _compare("__lt__", "__gt__")
less_equal = _compare("__le__", "__ge__")


def _logical(array_op, scalar_op, doc):
    def logical(x1, x2, out=None):
        a = _array(x1, x2 if isinstance(x2, NDArray) else None)
        b = x2 if isinstance(x2, NDArray) else _array(x2, a)
        a, b = (v.astype(onp.float32) if v.dtype == onp.bool_ else v for v in (a, b))
        shape = onp.broadcast_shapes(a.shape, b.shape)
        result = binary(array_op, scalar_op, scalar_op, reshape_to(a, a.shape or (1,)),
                        reshape_to(b, b.shape or (1,)))
        return _into(_bool(reshape_to(_np(result), shape)), out)
    logical.__doc__ = doc
    return logical


logical_and = _logical("broadcast_logical_and", "_logical_and_scalar", "x1 and x2, element-wise (bool).")
logical_or = _logical("broadcast_logical_or", "_logical_or_scalar", "x1 or x2, element-wise (bool).")
logical_xor = _logical("broadcast_logical_xor", "_logical_xor_scalar", "x1 xor x2, element-wise (bool).")


def polyval(p, x):
    """The polynomial with coefficients `p` (highest power first) at `x`, by Horner's rule."""
    p, x = _array(p), _array(x)
    if p.ndim != 1:
        raise ValueError("polyval: the coefficients must be a 1-D array, got shape %s" % (p.shape,))
    result = multiply(x, 0.0) + p[0] if p.shape[0] else multiply(x, 0.0)
    for i in range(1, p.shape[0]):
        result = result * x + p[i]
    return result
