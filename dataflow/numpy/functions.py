"""`mx.np`'s functions: array creation, the first ufuncs and reductions, and shape functions, each mapped onto the
registry's ops (or made on the host, for creation), returning mx.np.ndarray (dot and matmul are in
contraction.py). Defaults follow MXNet's numpy mode: float32 where no dtype is given, even for Python ints
(tests/fixtures/mxnet-1.9.1/numpy/dtypes.json).
"""

import builtins

import numpy as onp

from ops.errors import ParamError

from ..context import current_context
from ..context import as_context
from ..ndarray.ndarray import NDArray, _from_host
from .multiarray import (_ARITHMETIC, _argreduce, _axes, _np, _op, _reduce, _zero_dim_like, as_np,
                         binary, broadcast_shape, ndarray, reshape_to)

_FLOAT = onp.float32


# -- creation ---------------------------------------------------------------------------------------------------------
def _host(value, dtype, ctx):
    """A new array on `ctx` holding the host value `value` in `dtype`."""
    return _np(_from_host(onp.array(value, dtype=dtype), as_context(ctx), onp.dtype(dtype)))


def array(object, dtype=None, ctx=None):  # noqa: A002 - NumPy's name
    """An array copied from `object`: a list or Python scalar gives float32 unless `dtype` says otherwise, a NumPy
    array or scalar or an mx array keeps its dtype (MXNet's rule)."""
    if isinstance(object, NDArray):
        if dtype is None:
            dtype = object._data.dtype
        object = object.asnumpy()
    elif dtype is None:
        dtype = object.dtype if isinstance(object, (onp.ndarray, onp.generic)) else _FLOAT
    return _host(object, dtype, ctx)


def asarray(obj, dtype=None, ctx=None):
    return obj if isinstance(obj, ndarray) and dtype is None else array(obj, dtype, ctx)


def zeros(shape, dtype=None, order="C", ctx=None):
    return _host(onp.zeros(shape), dtype or _FLOAT, ctx)


def ones(shape, dtype=None, order="C", ctx=None):
    return _host(onp.ones(shape), dtype or _FLOAT, ctx)


def empty(shape, dtype=None, order="C", ctx=None):
    if order != "C":
        raise NotImplementedError("`empty` only supports order equal to `C`, while received %s" % (order,))
    return _host(onp.empty(shape, dtype=dtype or _FLOAT), dtype or _FLOAT, ctx)


def full(shape, fill_value, dtype=None, order="C", ctx=None):
    if isinstance(fill_value, NDArray):
        fill_value = fill_value.asnumpy()
    return _host(onp.full(shape, fill_value), dtype or _FLOAT, ctx)


def _like(a, fill, dtype, ctx):
    return _host(onp.full(a.shape, fill), dtype or a.dtype, ctx or a.context)


def zeros_like(a, dtype=None, ctx=None):
    return _like(a, 0, dtype, ctx)


def ones_like(a, dtype=None, ctx=None):
    return _like(a, 1, dtype, ctx)


def full_like(a, fill_value, dtype=None, ctx=None):
    return _like(a, fill_value, dtype, ctx)


def empty_like(a, dtype=None, ctx=None):
    return _like(a, 0, dtype, ctx)


def arange(start, stop=None, step=1, dtype=None, ctx=None):
    return _host(onp.arange(start, stop, step), dtype or _FLOAT, ctx)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, ctx=None):
    """`num` evenly spaced samples; integer dtypes truncate them toward zero (as MXNet; NumPy >= 1.20 floors)."""
    if not isinstance(num, (int, onp.integer)) or isinstance(num, bool) or num < 0:
        raise ParamError("linspace: num must be a non-negative integer, got %r" % (num,))
    values, step = onp.linspace(start, stop, num, endpoint=endpoint, retstep=True, axis=axis)
    result = _host(values, dtype or _FLOAT, ctx)
    return (result, step) if retstep else result


def eye(N, M=None, k=0, dtype=None, ctx=None):  # noqa: N803 - NumPy's names
    return _host(onp.eye(N, M, k), dtype or _FLOAT, ctx)


def identity(n, dtype=None, ctx=None):
    return eye(n, dtype=dtype, ctx=ctx)


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0, ctx=None):
    return _host(onp.logspace(start, stop, num, endpoint=endpoint, base=base, axis=axis), dtype or _FLOAT, ctx)


def indices(dimensions, dtype=onp.int32, ctx=None):
    """The index grid of `dimensions` (int32 by default, as MXNet's)."""
    return _host(onp.indices(dimensions), dtype, ctx)


def _window(make):
    def window(M, dtype=None, ctx=None):  # noqa: N803 - NumPy's name
        return _host(make(M), dtype or _FLOAT, ctx)
    window.__doc__ = "NumPy's %s window of M points (float32 unless `dtype`)." % make.__name__
    return window


hanning, hamming, blackman = _window(onp.hanning), _window(onp.hamming), _window(onp.blackman)


def copy(a):
    return _array(a).copy()


# -- element-wise ---------------------------------------------------------------------------------------------------
def _array(x, like=None):
    """`x` as an mx.np.ndarray (a scalar or host value in float32, or `like`'s dtype)."""
    if isinstance(x, NDArray):
        return as_np(x)
    ctx = like.context if like is not None else current_context()
    dtype = like.dtype if like is not None else (x.dtype if isinstance(x, onp.ndarray) else _FLOAT)
    return _host(x, dtype, ctx)


def _unary(op_name, doc):
    def ufunc(x, out=None):
        x = _array(x)
        extra = {} if out is None else {"out": out}
        if not x.shape:         # the kernels run on shape (1,) (Note [zero-dim arrays])
            return reshape_to(_np(_op(op_name, reshape_to(x, (1,)), **extra)), ())
        return _np(_op(op_name, x, **extra))
    ufunc.__doc__ = doc
    return ufunc


exp = _unary("exp", "e**x, element-wise.")
log = _unary("log", "The natural logarithm, element-wise.")
sqrt = _unary("sqrt", "The square root, element-wise.")
square = _unary("square", "x**2, element-wise.")
abs = _unary("abs", "The absolute value, element-wise.")  # noqa: A001 - NumPy's name
absolute = abs
tanh = _unary("tanh", "The hyperbolic tangent, element-wise.")
sin = _unary("sin", "The sine, element-wise.")
cos = _unary("cos", "The cosine, element-wise.")
negative = _unary("negative", "-x, element-wise.")
sign = _unary("sign", "The sign, element-wise.")
floor = _unary("floor", "The floor, element-wise.")
ceil = _unary("ceil", "The ceiling, element-wise.")
log1p = _unary("log1p", "log(1 + x), element-wise.")
expm1 = _unary("expm1", "e**x - 1, element-wise.")


def _binary_function(array_op, scalar_op, rscalar_op, doc):
    def ufunc(x1, x2, out=None):
        if not isinstance(x1, NDArray):
            if not isinstance(x2, NDArray):
                x1 = _array(x1)
            else:
                return _zero_dim_like(binary(array_op, scalar_op, rscalar_op, as_np(x2), x1, out=out,
                                             reflected=True), x2, x1)
        x1 = as_np(x1)
        return _zero_dim_like(binary(array_op, scalar_op, rscalar_op, x1, x2, out=out), x1, x2)
    ufunc.__doc__ = doc
    return ufunc


_OPS = {name: ops for name, *ops in _ARITHMETIC}
add = _binary_function(*_OPS["add"], "x1 + x2 with broadcasting.")
subtract = _binary_function(*_OPS["sub"], "x1 - x2 with broadcasting.")
multiply = _binary_function(*_OPS["mul"], "x1 * x2 with broadcasting.")
divide = true_divide = _binary_function(*_OPS["truediv"], "x1 / x2 with broadcasting.")
power = _binary_function(*_OPS["pow"], "x1 ** x2 with broadcasting.")
mod = _binary_function(*_OPS["mod"], "x1 % x2 with broadcasting.")
maximum = _binary_function("broadcast_maximum", "_maximum_scalar", "_maximum_scalar",
                           "The element-wise maximum, with broadcasting.")
minimum = _binary_function("broadcast_minimum", "_minimum_scalar", "_minimum_scalar",
                           "The element-wise minimum, with broadcasting.")


def where(condition, x, y):
    """`x` where `condition` is true, else `y` (all three broadcast together)."""
    arrays = [a for a in (condition, x, y) if isinstance(a, NDArray)]
    like = arrays[0] if arrays else None
    x = _array(x, like if isinstance(x, NDArray) or like is None or like.dtype != onp.bool_ else None)
    y = _array(y, x)
    condition = _array(condition, x)
    shape = broadcast_shape(broadcast_shape(condition.shape, x.shape), y.shape)
    full_shape = shape or (1,)
    parts = [broadcast_to(a, full_shape) for a in (condition, x, y)]
    return reshape_to(_np(_op("where", *parts)), shape)


def broadcast_to(array, shape):
    """`array` repeated along new or size-1 axes to `shape`."""
    array = _array(array)
    shape = tuple(shape)
    target = broadcast_shape(array.shape, shape)
    if target != shape:
        raise ValueError("input operand of shape %s cannot be broadcast to %s" % (array.shape, shape))
    if array.shape == shape:
        return array
    if 0 in shape:          # nothing to compute (the legacy op reads a 0 as an unknown size)
        return _host(onp.zeros(shape), array.dtype, array.context)
    padded = reshape_to(array, (1,) * (len(shape) - array.ndim) + array.shape) if array.ndim < len(shape) else array
    return _np(_op("broadcast_to", padded, shape=shape or (1,)))


def clip(a, a_min, a_max, out=None):
    a = _array(a)
    lo = -onp.inf if a_min is None else float(a_min)
    hi = onp.inf if a_max is None else float(a_max)
    if not a.shape:
        return reshape_to(_np(_op("clip", reshape_to(a, (1,)), a_min=lo, a_max=hi)), ())
    return _np(_op("clip", a, a_min=lo, a_max=hi, **({} if out is None else {"out": out})))


# -- reductions -------------------------------------------------------------------------------------------------------
def sum(a, axis=None, dtype=None, out=None, keepdims=False):  # noqa: A001 - NumPy's name
    return _reduce("sum", _array(a), axis, keepdims, dtype)


def mean(a, axis=None, dtype=None, out=None, keepdims=False):
    return _array(a).mean(axis, dtype, keepdims)


def max(a, axis=None, out=None, keepdims=False):  # noqa: A001 - NumPy's name
    return _array(a).max(axis, keepdims)


def min(a, axis=None, out=None, keepdims=False):  # noqa: A001 - NumPy's name
    return _array(a).min(axis, keepdims)


amax, amin = max, min


def prod(a, axis=None, dtype=None, out=None, keepdims=False):
    return _reduce("prod", _array(a), axis, keepdims, dtype)


def argmax(a, axis=None, out=None):
    return _argreduce("argmax", _array(a), axis)


def argmin(a, axis=None, out=None):
    return _argreduce("argmin", _array(a), axis)


# -- shape ------------------------------------------------------------------------------------------------------------
def reshape(a, newshape, order="C"):
    return _array(a).reshape(newshape, order=order)


def transpose(a, axes=None):
    return _array(a).transpose(axes)


def expand_dims(a, axis):
    a = _array(a)
    axis = _axes(axis, a.ndim + 1)[0]
    return reshape_to(a, a.shape[:axis] + (1,) + a.shape[axis:])


def squeeze(a, axis=None):
    return _array(a).squeeze(axis)


def ravel(a, order="C"):
    return reshape(a, (-1,))


def concatenate(seq, axis=0, out=None):
    arrays = [_array(a) for a in seq]
    if axis is None:
        arrays, axis = [reshape_to(a, (-1,)) for a in arrays], 0
    if any(not a.shape for a in arrays):
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    ndim = arrays[0].ndim
    if any(a.ndim != ndim for a in arrays):
        raise ValueError("all the input arrays must have same number of dimensions, but the shapes are %s"
                         % [a.shape for a in arrays])
    axis = _axes(axis, ndim)[0]
    for a in arrays:
        if a.shape[:axis] + a.shape[axis + 1:] != arrays[0].shape[:axis] + arrays[0].shape[axis + 1:]:
            raise ValueError("all the input array dimensions except for the concatenation axis must match "
                             "exactly, but the shapes are %s" % [a.shape for a in arrays])
    shape = arrays[0].shape[:axis] + (builtins.sum(a.shape[axis] for a in arrays),) + arrays[0].shape[axis + 1:]
    if 0 in shape:          # the legacy Concat takes no empty operand: nothing to compute
        return _host(onp.zeros(shape), arrays[0].dtype, arrays[0].context)
    arrays = [a for a in arrays if a.size]
    if len(arrays) == 1:
        return arrays[0].copy()     # recorded
    return _np(_op("Concat", *arrays, dim=axis, num_args=len(arrays)))


def stack(arrays, axis=0, out=None):
    arrays = [_array(a) for a in arrays]
    if any(a.shape != arrays[0].shape for a in arrays):
        raise ValueError("all input arrays must have the same shape, but the shapes are %s"
                         % [a.shape for a in arrays])
    axis = _axes(axis, arrays[0].ndim + 1)[0]
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)


# -- array properties --------------------------------------------------------------------------------------------------
def shape(a):
    return _array(a).shape


def size(a):
    return _array(a).size


def ndim(a):
    return _array(a).ndim
