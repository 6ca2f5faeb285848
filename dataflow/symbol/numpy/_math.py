"""`mx.sym.np`'s element-wise tests and functions (isnan ... nan_to_num, around, copysign, arctan2, ldexp, polyval)
and the reductions beyond `_symbol`'s (all, any, var, std, average, cumsum, diff, ediff1d, quantile, percentile), built
on the numpy-mode reductions (`_np_sum`, `_npi_mean`: shape () over every axis), and the bitwise functions.

Where NumPy's rule reads the input's dtype or length, which a traced graph lacks, the graph computes it when it
runs: the number of reduced elements (and a quantile's position) from a sum of `ones_like`, the dtype's largest
finite value (nan_to_num) from whether 1 + 2**-20 and 1 + 2**-40 round to 1 in it (`_largest_finite`). Integer
inputs to var, std (ops `_npi_var`, `_npi_std`), average and `around` (op `_npi_around`) keep their dtype, truncated,
as MXNet's.
"""
import numbers

import numpy as onp

from ..symbol import Symbol
from ._functions import _broadcast_together, where
from ._manipulation import _filled_edge, _slice
from ._symbol import _axis_param, _binary, _sym, concatenate, ravel, sum  # noqa: A004 - NumPy's name


def _bool(x):
    return _sym("Cast", x, dtype="bool")


# -- element-wise tests -----------------------------------------------------------------------------------------------
def isnan(x, out=None, **kwargs):
    return _binary("ne", x, x)


def isinf(x, out=None, **kwargs):
    return _binary("eq", _sym("abs", x), onp.inf)


def isposinf(x, out=None):
    return _binary("eq", x, onp.inf)


def isneginf(x, out=None):
    return _binary("eq", x, -onp.inf)


def isfinite(x, out=None, **kwargs):
    """x - x is 0 for every finite x and NaN for infinities and NaN."""
    return _binary("eq", _sym("broadcast_sub", x, x), 0)


def _largest_finite(x):
    """The largest finite value of `x`'s float dtype, in `x`'s shape: 2**E * (2 - 2**-M) with the dtype's largest
    exponent E and mantissa bits M (float16: 15, 10; float32: 127, 23; float64: 1023, 52). The dtype shows in
    whether 1 + 2**-20 (1 + 2**-40) rounds to 1 in it; nothing overflows in any of them."""
    ones = _sym("ones_like", x)
    zeros = _sym("zeros_like", x)

    def wider_than(bits):       # 1 where x's dtype has more than `bits` mantissa bits, else 0
        rounded = _sym("_mul_scalar", ones, scalar=1.0 + 2.0 ** -bits, is_int=False)
        return where(_binary("ne", rounded, 1), ones, zeros)
    at_least_32, is_64 = wider_than(20), wider_than(40)
    exponent = _binary("add", _binary("add", _binary("mul", at_least_32, 112.0), _binary("mul", is_64, 896.0)), 15.0)
    mantissa = _binary("add", _binary("add", _binary("mul", at_least_32, 13.0), _binary("mul", is_64, 29.0)), 10.0)
    power = _sym("_rpower_scalar", exponent, scalar=2.0, is_int=False)
    fraction = _sym("_rminus_scalar", _sym("_rpower_scalar", _sym("negative", mantissa), scalar=2.0, is_int=False),
                    scalar=2.0, is_int=False)
    return _sym("broadcast_mul", power, fraction)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None, **kwargs):
    """`x` (floats) with NaN, +inf and -inf replaced by `nan`, `posinf` and `neginf` (by default the dtype's
    largest and smallest finite values)."""
    largest = _largest_finite(x) if posinf is None or neginf is None else None
    high = largest if posinf is None else posinf
    low = _sym("negative", largest) if neginf is None else neginf
    result = where(isnan(x), nan, x)
    result = where(isposinf(result), high, result)
    return where(isneginf(result), low, result)


# -- rounding ---------------------------------------------------------------------------------------------------------
def around(x, decimals=0, out=None, **kwargs):
    """`x` rounded to `decimals` decimals, halves to even, in its dtype (MXNet's `_npi_around`: integers with
    negative `decimals` are truncated toward zero, as MXNet's)."""
    return _sym("_npi_around", x, decimals=int(decimals))


round = round_ = around  # noqa: A001 - NumPy's name


def fabs(x, out=None, **kwargs):
    return _sym("abs", x)


# -- binary functions -------------------------------------------------------------------------------------------------
def _symbols(x1, x2, function):
    """(x1, x2) with a number among them filled in the other's dtype and shape; both Symbols are left as they are."""
    if isinstance(x1, Symbol) and isinstance(x2, Symbol):
        return x1, x2
    if isinstance(x1, Symbol) and isinstance(x2, (numbers.Number, onp.number)):
        return x1, _sym("_plus_scalar", _sym("zeros_like", x1), scalar=x2, is_int=isinstance(x2, numbers.Integral))
    if isinstance(x2, Symbol) and isinstance(x1, (numbers.Number, onp.number)):
        return tuple(reversed(_symbols(x2, x1, function)))
    raise TypeError("np.%s of Symbols: operands must be Symbols or numbers, got %s and %s"
                    % (function, type(x1).__name__, type(x2).__name__))


def hypot(x1, x2, out=None, **kwargs):
    """sqrt(x1**2 + x2**2) with broadcasting."""
    x1, x2 = _symbols(x1, x2, "hypot")
    return _sym("broadcast_hypot", x1, x2)


def copysign(x1, x2, out=None, **kwargs):
    """The magnitude of `x1` with the sign of `x2` (broadcast together; -0.0 counts as positive here)."""
    magnitude, sign_of = _broadcast_together(*_symbols(x1, x2, "copysign"))
    magnitude = _sym("abs", magnitude)
    return where(_binary("lt", sign_of, 0), _sym("negative", magnitude), magnitude)


def arctan2(x1, x2, out=None, **kwargs):
    """The angle of the point (x2, x1) from the x axis, in (-pi, pi]: arctan(x1/x2) moved to x2's quadrant."""
    y, x = _broadcast_together(*_symbols(x1, x2, "arctan2"))
    base = _sym("arctan", _binary("truediv", y, x))
    below = where(_binary("lt", y, 0), _binary("sub", base, onp.pi), _binary("add", base, onp.pi))
    on_axis = where(_binary("lt", y, 0), -onp.pi / 2, where(_binary("gt", y, 0), onp.pi / 2, _binary("mul", base, 0)))
    return where(_binary("gt", x, 0), base, where(_binary("lt", x, 0), below, on_axis))


def ldexp(x1, x2, out=None, **kwargs):
    """x1 * 2**x2 (the power in float32, the product in the promoted dtype: float32 for float32 or integer x1)."""
    x1, x2 = _symbols(x1, x2, "ldexp")
    return _binary("mul", x1, _sym("_rpower_scalar", _sym("Cast", x2, dtype="float32"), scalar=2.0, is_int=False))


# -- integer functions (ops/numpy_integer.py: integer or bool operands of one dtype, no gradient) -------------------
def bitwise_not(x, out=None, **kwargs):
    """NumPy's bitwise not of an integer or bool `x` (bool: logical not)."""
    return _sym("_npi_bitwise_not", x)


invert = bitwise_not


def _integer_function(name):
    def function(x1, x2, out=None, **kwargs):
        return _sym("_npi_" + name, *_symbols(x1, x2, name))
    function.__name__ = function.__qualname__ = name
    function.__doc__ = "NumPy's `%s` of integer Symbols (or one and a number), broadcast together." % name
    return function


bitwise_and, bitwise_or, bitwise_xor, lcm = (_integer_function(name)
                                             for name in ("bitwise_and", "bitwise_or", "bitwise_xor", "lcm"))


def polyval(p, x):
    """The polynomial with coefficients `p` (highest power first: numbers, or a 1-D Symbol) at `x`: Horner's
    rule for numbers; for a Symbol sum(p[i] * x ** (n-1-i)), the powers from a reversed `arange_like`."""
    if not isinstance(p, Symbol):
        coefficients = onp.asarray(p, dtype=onp.float64).reshape(-1).tolist()
        result = _binary("mul", x, 0.0)
        for c in coefficients:
            result = _binary("add", _binary("mul", result, x), c)
        return result
    powers = _sym("reverse", _sym("_contrib_arange_like", p), axis=(0,))
    terms = _binary("pow", _sym("expand_dims", x, axis=-1), _sym("Cast", powers, dtype="float32"))
    return sum(_binary("mul", terms, p), axis=-1)


# -- reductions -------------------------------------------------------------------------------------------------------
def _counted(a, test, axis, keepdims):
    """How many elements over `axis` are `test` 0 (int64: a sum of bools); empty axes count 0."""
    return _sym("_np_sum", _binary(test, a, 0), axis=_axes(axis), keepdims=keepdims)


def _axes(axis):
    """The `axis` parameter of a numpy-mode reduction op: None reduces every axis (shape () then)."""
    return None if axis is None else _axis_param(axis)


def any(a, axis=None, out=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Whether any element over `axis` is non-zero (bool; False over no elements)."""
    return _bool(_counted(a, "ne", axis, keepdims))


def all(a, axis=None, out=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Whether every element over `axis` is non-zero (bool; True over no elements)."""
    return _binary("eq", _counted(a, "eq", axis, keepdims), 0)


sometrue = any


def product(a, axis=None, dtype=None, out=None, keepdims=False):
    from ._symbol import prod
    return prod(a, axis, dtype, keepdims=keepdims)


def _count(x, axis, keepdims):
    """The number of elements reduced over `axis`, in `x`'s dtype (bool: int64) and the reduced shape."""
    return _sym("_np_sum", _sym("ones_like", x), axis=_axes(axis), keepdims=keepdims)


def _as_floats(x):
    """`x` as floats: an integer or bool `x` as float32 (true division by 1, MXNet's numpy rule), a float `x`
    unchanged (exact, -0.0, inf and NaN kept)."""
    return _sym("_npi_true_divide_scalar", x, scalar=1, is_int=True)


def _moment(op_name, a, axis, dtype, ddof, keepdims):
    params = {} if dtype is None else {"dtype": onp.dtype(dtype).name}
    return _sym(op_name, a, axis=_axes(axis), ddof=ddof, keepdims=keepdims, **params)


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """The variance, sum((a - mean)**2) / (n - ddof) over `axis` (integer `a`: truncated, as MXNet's)."""
    return _moment("_npi_var", a, axis, dtype, ddof, keepdims)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """The standard deviation, sqrt(var) (integer `a`: truncated, as MXNet's)."""
    return _moment("_npi_std", a, axis, dtype, ddof, keepdims)


def average(a, axis=None, weights=None, returned=False):
    """The mean of `a` over `axis`, weighted by `weights`: of `a`'s shape (axis None or a tuple) or 1-D along a
    single int `axis` (a 2-D or larger `weights` of `a`'s shape with an int axis is not supported in a graph)."""
    if weights is None:     # sum / n divides integers as MXNet's average does: truncated, in their dtype
        result = _sym("broadcast_div", _sym("_np_sum", a, axis=_axes(axis)), _count(a, axis, False))
        total = _count(_as_floats(a), axis, False)
        return (result, total) if returned else result
    if isinstance(axis, numbers.Integral):
        if axis < 0:
            w = _sym("Reshape", weights, shape=(-1,) + (1,) * (-axis - 1))
            weighted = _binary("mul", a, w)
        else:       # the axes after `axis` merged into one, so that the weights broadcast as (n, 1)
            merged = _sym("Reshape", a, shape=(0,) * (axis + 1) + (-1,))
            weighted = _sym("reshape_like", _binary("mul", merged, _sym("Reshape", weights, shape=(-1, 1))), a)
        result = _binary("truediv", _sym("_np_sum", weighted, axis=(axis,)), _sym("_np_sum", weights))
        total = _broadcast_together(result, _sym("_np_sum", weights))[1] if returned else None
    else:
        result = _binary("truediv", sum(_binary("mul", a, weights), axis=axis), sum(weights, axis=axis))
        total = sum(weights, axis=axis) if returned else None
    return (result, total) if returned else result


def cumsum(a, axis=None, dtype=None, out=None):
    """The cumulative sum along `axis` (of the flattened `a` without one)."""
    params = {} if dtype is None else {"dtype": onp.dtype(dtype).name}
    if axis is None:
        return _sym("_np_cumsum", ravel(a), axis=0, **params)
    return _sym("_np_cumsum", a, axis=axis, **params)


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """The `n`-th differences along `axis`, after joining `prepend` and `append` (Symbols of `a`'s rank or
    numbers, filled over one slice); empty once `n` reaches the axis's length."""
    if n < 0:
        raise ValueError("order must be non-negative but got %d" % n)
    if axis < 0:        # counted from the front in the reversed axes: two transposes, not two per slice
        def reversed_axes(x):
            return _sym("transpose", x, axes=()) if isinstance(x, Symbol) else x
        return reversed_axes(diff(reversed_axes(a), n, -1 - axis, reversed_axes(prepend), reversed_axes(append)))
    edges = [(v if isinstance(v, Symbol) else _filled_edge(a, axis, v)) if v is not None else None
             for v in (prepend, append)]
    if edges != [None, None]:
        a = concatenate([p for p in (edges[0], a, edges[1]) if p is not None], axis=axis)
    for _ in range(n):
        a = _sym("broadcast_sub", _slice(a, axis, 1, None), _slice(a, axis, 0, -1))
    return a


def ediff1d(ary, to_end=None, to_begin=None):
    """The differences of the flattened `ary`, with `to_begin` and `to_end` (Symbols, numbers or lists of
    numbers) around them."""
    flat = ravel(ary)

    def edge(values):
        if isinstance(values, Symbol):
            return [ravel(values)]
        return [_filled_edge(flat, 0, v) for v in onp.asarray(values).reshape(-1).tolist()]
    pieces = (edge(to_begin) if to_begin is not None else []) + [diff(flat)]
    pieces += edge(to_end) if to_end is not None else []
    return concatenate(pieces) if len(pieces) > 1 else pieces[0]


_QUANTILE_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(a, q, axis=None, out=None, overwrite_input=None, interpolation="linear", keepdims=False, method=None):
    """The `q`-th quantiles (numbers in [0, 1]) of `a` along one `axis` (of the flattened `a` without one): the
    sorted values at q * (n - 1), interpolated by `interpolation`; several q give the first axis of the result. The
    position is computed when the graph runs, in `a`'s dtype (float64 for integers), from n, a sum of ones."""
    method = method or interpolation
    if method not in _QUANTILE_METHODS:
        raise ValueError("interpolation must be one of %s, got %r" % (", ".join(_QUANTILE_METHODS), method))
    if isinstance(q, Symbol):
        raise NotImplementedError("np.quantile of a Symbol: q must be numbers, got a Symbol")
    flattened = axis is None
    if flattened:
        if keepdims:
            raise NotImplementedError("np.quantile of a Symbol: keepdims with axis=None needs the rank, unknown "
                                      "while tracing")
        a, axis = ravel(a), 0
    elif not isinstance(axis, numbers.Integral):
        raise NotImplementedError("np.quantile of a Symbol: axis=%r (one int or None is supported)" % (axis,))
    values = onp.asarray(q, dtype=onp.float64)
    if ((values < 0) | (values > 1)).any():
        raise ValueError("Quantiles must be in the range [0, 1]")
    ordered = _sym("sort", a, axis=axis)
    last = _sym("_minus_scalar", _count(ordered, axis, True), scalar=1, is_int=True)      # n - 1, reduced shape
    results = [_quantile_at(ordered, axis, _binary("mul", last, float(v)), method, keepdims)
               for v in values.reshape(-1).tolist()]
    if values.ndim == 0:
        return results[0]
    stacked = _sym("stack", *results, axis=0, num_args=len(results))
    if flattened:       # each result is one value, of shape (1,) in a graph
        return _sym("Reshape", stacked, shape=values.shape)
    return stacked if values.ndim == 1 else _sym("reshape_like", stacked, _sym("_zeros", shape=values.shape),
                                                 lhs_begin=0, lhs_end=1, rhs_begin=0, rhs_end=None)


def _quantile_at(ordered, axis, position, method, keepdims):
    """The values of `ordered` along `axis` at `position` (a float Symbol of the reduced shape, one value)."""
    def at(index):
        first = _slice(_sym("Reshape", index, shape=(-1,)), 0, 0, 1)
        return _sym("take", ordered, _sym("Cast", first, dtype="int64"), axis=axis)
    below, above = _sym("floor", position), _sym("ceil", position)
    if method == "lower":
        result = at(below)
    elif method == "higher":
        result = at(above)
    elif method == "nearest":
        result = at(around(position))
    else:
        low, high = at(below), at(above)
        weight = _sym("broadcast_sub", position, below) if method == "linear" else 0.5
        result = _binary("add", low, _binary("mul", _binary("sub", high, low), weight))
    return result if keepdims else _sym("squeeze", result, axis=(axis,))


def percentile(a, q, axis=None, out=None, overwrite_input=None, interpolation="linear", keepdims=False,
               method=None):
    """The `q`-th percentiles (numbers in [0, 100]): `quantile` of q / 100."""
    if isinstance(q, Symbol):
        raise NotImplementedError("np.percentile of a Symbol: q must be numbers, got a Symbol")
    return quantile(a, onp.asarray(q, dtype=onp.float64) / 100, axis, out, overwrite_input, interpolation, keepdims,
                    method)


# the package exports this module's own public functions
__all__ = [name for name, value in globals().items()
           if not name.startswith("_") and getattr(value, "__module__", None) == __name__]
