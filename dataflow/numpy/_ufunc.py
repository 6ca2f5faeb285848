"""NumPy's ufunc keywords (`where`, `casting`, `order`, `dtype`, `subok`) on mx.np's element-wise functions, with
MXNet's rule: each is accepted at its NumPy default only; another value NumPy would take is a NotImplementedError
("... is not implemented yet"), one NumPy would not take a TypeError ("... not understood"), and any other keyword a
TypeError. The functions are MXNet's (its `wrap_np_unary_func` / `wrap_np_binary_func` ones)."""
import functools

import numpy as onp

UNARY = ("sin", "cos", "sinh", "cosh", "tanh", "log10", "sqrt", "cbrt", "abs", "fabs", "absolute", "exp", "expm1",
         "arcsin", "arccos", "arctan", "sign", "log", "rint", "log2", "log1p", "degrees", "rad2deg", "radians",
         "deg2rad", "reciprocal", "square", "negative", "fix", "tan", "ceil", "floor", "invert", "bitwise_not",
         "trunc", "logical_not", "arcsinh", "arccosh", "arctanh", "isnan", "isinf", "isposinf", "isneginf",
         "isfinite")
BINARY = ("add", "subtract", "multiply", "divide", "mod", "matmul", "remainder", "power", "lcm", "maximum",
          "minimum", "copysign", "arctan2", "hypot", "bitwise_and", "bitwise_xor", "bitwise_or", "ldexp")

_DEFAULTS = {"where": True, "casting": "same_kind", "order": "K", "dtype": None, "subok": True}
_CASTINGS = ("no", "equiv", "safe", "same_kind", "unsafe")
_DTYPES = ("int8", "uint8", "int32", "int64", "float16", "float32", "float64")


def _is_default(key, value):
    default = _DEFAULTS[key]
    return value is None if default is None else (type(value) is type(default) and value == default)


def _legal(key, value):
    """Whether NumPy would take `value` for `key` (so that MXNet's refusal is 'not implemented')."""
    if key == "where":
        return True
    if key == "casting":
        return value in _CASTINGS
    if key == "order":
        return isinstance(value, str)
    if key == "dtype":
        return (isinstance(value, str) and value in _DTYPES) or \
            (isinstance(value, type) and issubclass(value, onp.generic) and onp.dtype(value).name in _DTYPES)
    return isinstance(value, bool)      # subok


def check_keywords(name, kwargs):
    """Refuse the keywords MXNet refuses, with its messages (a unary function's name the operator)."""
    unary = name in UNARY
    for key, value in kwargs.items():
        if key not in _DEFAULTS:
            raise TypeError("%s is an invalid keyword to function '%s'" % (key, name))
        if not _is_default(key, value):
            if _legal(key, value):
                raise NotImplementedError("%s=%s is not implemented yet" % (key, value)
                                          + (" for operator %s" % name if unary else ""))
            raise TypeError(("%s=%s not understood for operator %s" % (key, value, name)) if unary
                            else "%s %s not understood" % (key, value))


def with_ufunc_keywords(function, name):
    """`function` (taking its arrays and `out`) also taking NumPy's ufunc keywords, by MXNet's rule."""
    @functools.wraps(function)
    def ufunc(*args, out=None, **kwargs):
        check_keywords(name, kwargs)
        return function(*args) if out is None else function(*args, out=out)
    return ufunc
