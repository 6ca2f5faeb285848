"""`mx.np`'s functions: array creation, the first ufuncs and reductions, and shape functions, each mapped onto the
registry's ops (or made on the host, for creation), returning mx.np.ndarray (dot and matmul are in
contraction.py). Defaults follow MXNet's numpy mode: float32 where no dtype is given, even for Python ints
(tests/fixtures/mxnet-1.9.1/numpy/dtypes.json).
"""

import builtins
import numbers

import numpy as onp

from ops.errors import ParamError

from ..autograd.state import is_recording
from ..context import current_context
from ..context import as_context
from ..ndarray.ndarray import NDArray, _from_host
from .multiarray import (_ARITHMETIC, _argreduce, _axes, _in_graph, _into, _np, _op, _reduce, _zero_dim_like, as_np,
                         binary, broadcast_shape, ndarray, promote_types, reshape_to)

_FLOAT = onp.float32


# -- creation ---------------------------------------------------------------------------------------------------------
def _host(value, dtype, ctx):
    """A new array on `ctx` holding the host value `value` in `dtype`."""
    try:
        host = onp.array(value, dtype=dtype)
    except OverflowError:       # NumPy 2 refuses Python ints out of range; MXNet (NumPy 1) wraps them, a C cast
        host = onp.array(value).astype(dtype)
    return _np(_from_host(host, as_context(ctx), onp.dtype(dtype)))


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


def _like(a, fill, dtype, order, ctx, out):
    """An array of `a`'s shape filled with `fill`, in `dtype` (else `a`'s) on `ctx` (else the current context, as
    MXNet's), or written into `out`."""
    if order != "C":
        raise NotImplementedError("only order='C' is supported, got %r" % (order,))
    a = _array(a)
    return _into(_host(onp.full(a.shape, fill), dtype or a.dtype, ctx or current_context()), out)


def zeros_like(a, dtype=None, order="C", ctx=None, out=None):
    return _like(a, 0, dtype, order, ctx, out)


def ones_like(a, dtype=None, order="C", ctx=None, out=None):
    return _like(a, 1, dtype, order, ctx, out)


def full_like(a, fill_value, dtype=None, order="C", ctx=None, out=None):
    if isinstance(fill_value, NDArray):
        fill_value = fill_value.asnumpy()
    return _like(a, fill_value, dtype, order, ctx, out)


def empty_like(prototype, dtype=None, order="C", subok=False, shape=None):
    """An array like `prototype` (its values unset: zeros here); `subok` and `shape` are MXNet's not-implemented
    options."""
    if subok:
        raise NotImplementedError("Creating array by using sub-class is not supported at this moment")
    if shape is not None:
        raise NotImplementedError("Assigning new shape is not supported at this moment")
    return _like(prototype, 0, dtype, order, None, None)


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
    if N < 0 or (M is not None and M < 0):
        raise ParamError("eye: N and M must be non-negative, got N=%s, M=%s" % (N, M))
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
    """`x` where `condition` is true, else `y` (all three broadcast together). A scalar branch takes the other
    branch's dtype, two array branches are computed in their common dtype."""
    branches = [a for a in (x, y) if isinstance(a, NDArray)]
    if branches:
        dtype = branches[0].dtype if len(branches) == 1 else promote_types(x.dtype, y.dtype)
        like = branches[0].astype(dtype, copy=False)
        x, y = (_array(v, like).astype(dtype, copy=False) for v in (x, y))
    else:               # two scalars: in a non-bool condition's dtype, else float32
        like = condition if isinstance(condition, NDArray) and condition.dtype != onp.bool_ else None
        x = _array(x, like)
        y = _array(y, x)
    condition = _array(condition, x)
    shape = broadcast_shape(broadcast_shape(condition.shape, x.shape), y.shape)
    full_shape = shape or (1,)
    parts = [broadcast_to(a, full_shape) for a in (condition, x, y)]
    return reshape_to(_np(_op("where", *parts)), shape)


def _no_elements(shape, like, *others):
    """A fresh array of `shape` with no elements in `like`'s dtype and context, made by a recorded `take` of
    nothing from `like` (and each of `others`): autograd reaches them through it (with a zero gradient), as
    through MXNet's ops."""
    index = _host(onp.zeros(0), onp.int64, like.context)
    nothings = [_op("take", reshape_to(x, (-1,)), index, axis=0) for x in (like,) + others]
    nothing = nothings[0] if not others else _op("add_n", *nothings, num_args=len(nothings))
    return reshape_to(_np(nothing), shape)


def broadcast_to(array, shape):
    """`array` repeated along new or size-1 axes to `shape`; -2 in `shape` keeps the input's size on that axis
    (counted from the right, MXNet's npx extension)."""
    array = _array(array)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    lead = len(shape) - array.ndim
    if -2 in shape:
        if lead < 0 or any(d == -2 and i < lead for i, d in enumerate(shape)):
            raise ValueError("broadcast_to: -2 in shape %s has no matching axis in the input of shape %s"
                             % (shape, array.shape))
        shape = tuple(array.shape[i - lead] if d == -2 else d for i, d in enumerate(shape))
    target = broadcast_shape(array.shape, shape)
    if target != shape:
        raise ValueError("input operand of shape %s cannot be broadcast to %s" % (array.shape, shape))
    if array.shape == shape:
        return array
    if 0 in shape:          # nothing to compute (the legacy op reads a 0 as an unknown size)
        return _no_elements(shape, array)
    padded = reshape_to(array, (1,) * (len(shape) - array.ndim) + array.shape) if array.ndim < len(shape) else array
    return _np(_op("broadcast_to", padded, shape=shape or (1,)))


def clip(a, a_min, a_max, out=None):
    """`a` limited to [a_min, a_max] (one of them may be None); a Python number is clipped by NumPy on the host and
    stays a number, as in MXNet."""
    if a_min is None and a_max is None:
        raise ValueError("array_clip: must set either max or min")
    if isinstance(a, numbers.Number):
        return onp.clip(a, a_min, a_max)
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
        return _no_elements(shape, *arrays)
    joined = [a for a in arrays if a.size]
    result = joined[0].copy() if len(joined) == 1 else _np(_op("Concat", *joined, dim=axis, num_args=len(joined)))
    if is_recording():      # an empty operand joins the graph too (its sum, 0, added), so it gets its empty gradient
        for a in arrays:
            if not a.size and _in_graph(a):
                result = result + sum(a).astype(result.dtype, copy=False)
    return result


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
