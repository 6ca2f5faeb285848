"""`mx.sym.np`'s element-wise, broadcasting, linear-algebra and creation functions."""
import numbers

import numpy as onp

from ops import registry

from ...numpy import _op_names
from ..symbol import Symbol
from ._symbol import _binary, _NUMBER, _sym, ravel


# -- functions: element-wise ------------------------------------------------------------------------------------------
def _unary_function(name, op_name):
    def function(x, out=None, **kwargs):
        return _sym(op_name, x)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = "NumPy's `%s` on a Symbol (the `%s` op)." % (name, op_name)
    return function


def _binary_function(name, dunder):
    def function(x1, x2, out=None, **kwargs):
        if isinstance(x1, Symbol):
            return _binary(dunder, x1, x2)
        if isinstance(x2, Symbol):
            return _binary(dunder, x2, x1, reflected=True, function=True)
        raise TypeError("np.%s on Symbols: one operand must be a Symbol, got %s and %s"
                        % (name, type(x1).__name__, type(x2).__name__))
    function.__name__ = function.__qualname__ = name
    function.__doc__ = "NumPy's `%s` with broadcasting on Symbols." % name
    return function


def _extremum_function(name, array_op, scalar_op):
    def function(x1, x2, out=None, **kwargs):
        if isinstance(x1, _NUMBER):
            x1, x2 = x2, x1
        if isinstance(x2, Symbol):
            return _sym(array_op, x1, x2)
        return _sym(scalar_op, x1, scalar=x2)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = "NumPy's `%s` (element-wise, broadcasting) on Symbols." % name
    return function


def _generate():
    names = dict(zip(_op_names.UNARY, _op_names.UNARY))
    names.update(_op_names.UNARY_ALIASES)
    for name, op_name in names.items():
        globals()[name] = _unary_function(name, op_name)
    for name, dunder in _op_names.BINARY.items():
        globals()[name] = _binary_function(name, dunder)
    for name, (array_op, scalar_op) in _op_names.EXTREMA.items():
        globals()[name] = _extremum_function(name, array_op, scalar_op)


_generate()


def logical_not(x, out=None, **kwargs):
    """not x, element-wise, as bool (the legacy `logical_not` op keeps x's dtype)."""
    return _binary("eq", x, 0)


def clip(a, a_min, a_max, out=None):
    """`a` limited to [a_min, a_max]; a None bound is no limit on that side, but one must be given."""
    if a_min is None and a_max is None:
        raise ValueError("array_clip: must set either max or min")
    return _sym("clip", a, a_min=-onp.inf if a_min is None else float(a_min),
                a_max=onp.inf if a_max is None else float(a_max))


# after its rank is padded to the common rank by adding zeros of shape (1, ..., 1) in its own dtype
# (`reshape_like` of a one-element sum of its zeros onto a keepdims sum of the common zeros).
def _ones_shaped_zeros(x, ones_shaped):
    """Zeros in `x`'s dtype of the shape of `ones_shaped`, (1, ..., 1)."""
    zero = _sym("sum", _sym("Reshape", _sym("zeros_like", x), shape=(-1,)))      # shape (1,), also for x of ()
    return _sym("reshape_like", zero, ones_shaped)


def _broadcast_together(*operands):
    """`operands` (Symbols) broadcast to their common shape, each keeping its dtype; zero-dim operands only give
    shape (1,), a graph's zero-dim shape."""
    common = _sym("_zeros", shape=(1,), dtype="float32")
    for x in operands:
        common = _sym("broadcast_add", common, _sym("Cast", _sym("zeros_like", x), dtype="float32"))
    ones_shaped = _sym("sum", common, keepdims=True)
    return [_sym("broadcast_like", _sym("broadcast_add", x, _ones_shaped_zeros(x, ones_shaped)), common)
            for x in operands]


def where(condition, x, y):
    """`x` where `condition` is true, else `y`, all three broadcast together. `x` or `y` may be a number, filled
    in the other's dtype (a float number with an integer array is a dtype error, not a truncation)."""
    if not isinstance(x, Symbol) and not isinstance(y, Symbol):
        raise NotImplementedError("np.where of Symbols: x or y must be a Symbol, got %s and %s"
                                  % (type(x).__name__, type(y).__name__))
    if not isinstance(x, Symbol):
        x = _filled_like(y, x)
    if not isinstance(y, Symbol):
        y = _filled_like(x, y)
    return _sym("where", *_broadcast_together(condition, x, y))


def _filled_like(x, number):
    return _sym("_plus_scalar", _sym("zeros_like", x), scalar=number, is_int=isinstance(number, numbers.Integral))


def broadcast_to(array, shape):
    """`array` repeated along new or size-1 axes to `shape` (which may have more axes than `array`)."""
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    target = shape or (1,)
    padded = _sym("broadcast_add", array, _ones_shaped_zeros(array, _sym("_zeros", shape=(1,) * len(target))))
    out = _sym("broadcast_to", padded, shape=target)
    return out if shape else _sym("_np_squeeze", out, axis=(0,))


# -- linear algebra ---------------------------------------------------------------------------------------------------
def _contraction_operands(name, a, b):
    if not isinstance(a, Symbol) or not isinstance(b, Symbol):
        raise TypeError("np.%s of Symbols: both operands must be Symbols, got %s and %s"
                        % (name, type(a).__name__, type(b).__name__))


def dot(a, b, out=None):
    """NumPy's dot: the sum of products over `a`'s last axis and `b`'s first (1-D `b`) or second-to-last axis (an
    `_np_dot` node, which reads the ranks when the graph runs); a product when one operand is a number."""
    if isinstance(a, _NUMBER) or isinstance(b, _NUMBER):
        return a * b
    _contraction_operands("dot", a, b)
    return _sym("_np_dot", a, b)


def tensordot(a, b, axes=2):
    """The sum of products over `axes`: `a`'s last `axes` axes with `b`'s first, or the pairs of two lists."""
    _contraction_operands("tensordot", a, b)
    if isinstance(axes, numbers.Integral):
        return _sym("_npi_tensordot_int_axes", a, b, axes=int(axes))
    a_axes, b_axes = axes
    a_axes = (a_axes,) if isinstance(a_axes, numbers.Integral) else tuple(a_axes)
    b_axes = (b_axes,) if isinstance(b_axes, numbers.Integral) else tuple(b_axes)
    return _sym("_npi_tensordot", a, b, a_axes_summed=a_axes, b_axes_summed=b_axes)


def vdot(a, b):
    """The dot product of the flattened `a` and `b`."""
    _contraction_operands("vdot", a, b)
    return tensordot(_flat(a), _flat(b), 1)


def inner(a, b):
    """The sum of products over the last axes of `a` and `b`."""
    _contraction_operands("inner", a, b)
    return tensordot(a, b, ((-1,), (-1,)))


def outer(a, b):
    """The outer product of the flattened `a` and `b`."""
    _contraction_operands("outer", a, b)
    return tensordot(_flat(a), _flat(b), 0)


def _flat(x):
    return _sym("Reshape", x, shape=(-1,))


def matmul(a, b, out=None):
    """NumPy's matmul: matrix products over the last two axes, the leading (batch) axes broadcast; a 1-D operand is
    one row (`a`) or one column (`b`), its axis dropped from the result (an `_npi_matmul` node, which reads the
    ranks when the graph is bound)."""
    if not isinstance(a, Symbol) or not isinstance(b, Symbol):
        raise TypeError("np.matmul of Symbols: both operands must be Symbols, got %s and %s"
                        % (type(a).__name__, type(b).__name__))
    return _sym("_npi_matmul", a, b)


# -- creation ---------------------------------------------------------------------------------------------------------
def _dtype(dtype):
    return registry.dtype_name(dtype or onp.float32)


def _fill(op_name, shape, dtype, **params):
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if not shape:       # the fill ops read shape () as unknown: a scalar is one element with its axis dropped
        return _sym("_np_squeeze", _sym(op_name, shape=(1,), dtype=_dtype(dtype), **params), axis=(0,))
    return _sym(op_name, shape=shape, dtype=_dtype(dtype), **params)


def zeros(shape, dtype=None, order="C", ctx=None):
    return _fill("_zeros", shape, dtype)


def ones(shape, dtype=None, order="C", ctx=None):
    return _fill("_ones", shape, dtype)


def full(shape, fill_value, dtype=None, order="C", ctx=None):
    """`fill_value` (a number, or a Symbol broadcast to `shape`) in `shape`, of `dtype` (else float32, or the
    Symbol's dtype)."""
    if not isinstance(fill_value, Symbol):
        return _fill("_full", shape, dtype, value=float(fill_value))
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if 0 in shape:      # no element taken from fill_value (broadcast_to reads a 0 as "keep this axis")
        nothing = _sym("take", ravel(fill_value), _sym("_zeros", shape=(0,), dtype="int64"), axis=0)
        out = _sym("reshape_like", nothing, zeros(shape))
    else:
        out = broadcast_to(fill_value, shape)
    return out if dtype is None else out.astype(dtype)


def arange(start, stop=None, step=1, dtype=None, ctx=None):
    """Evenly spaced values in [start, stop) (in [0, start) without `stop`); an empty range gives shape (0,) (the
    `_arange` op refuses one)."""
    step = 1 if step is None else step
    if step != 0 and onp.ceil(((start if stop is None else stop) - (0 if stop is None else start)) / step) <= 0:
        return zeros((0,), dtype)
    return _sym("_arange", start=start, stop=stop, step=step, dtype=_dtype(dtype))


def zeros_like(a, dtype=None):
    out = _sym("zeros_like", a)
    return out if dtype is None else out.astype(dtype)


def ones_like(a, dtype=None):
    out = _sym("ones_like", a)
    return out if dtype is None else out.astype(dtype)


def full_like(a, fill_value, dtype=None, order="C", ctx=None, out=None):
    """`fill_value` in `a`'s shape, of `dtype` (else `a`'s), the value converted as NumPy does (2.5 into an
    integer dtype is 2): zeros clipped to [fill_value, fill_value] keep their dtype."""
    return _sym("clip", zeros_like(a, dtype), a_min=float(fill_value), a_max=float(fill_value))


# the package exports this module's own public functions
__all__ = [name for name, value in globals().items()
           if not name.startswith("_") and getattr(value, "__module__", None) == __name__]
