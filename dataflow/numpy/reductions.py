"""`mx.np`'s reductions beyond functions.py's sum/mean/max/min/prod: std, var, average, any, all, count_nonzero,
ptp, nansum, nanprod, and the cumulative and difference functions (`cumsum` is the registry's `_np_cumsum`,
`diff` a difference of slices), all recorded by autograd where MXNet's are differentiable.

MXNet's dtypes where they differ from NumPy's (tests/fixtures/mxnet-1.9.1/numpy_func/): `std`/`var` of integers
keep the integer dtype (the value truncated), `cumsum` of int32 stays int32 (bool gives int64)."""
import builtins

import numpy as onp

from .functions import _array, _host, broadcast_to, concatenate, max, mean, min, sum
from .manipulation import _slice, take
from .multiarray import _axes, _into, _np, _op, _reduce, reshape_to
from .sorting import sort

__all__ = ["std", "var", "average", "any", "all", "count_nonzero", "ptp", "nansum", "nanprod", "cumsum", "diff",
           "ediff1d", "quantile", "percentile", "median"]


def _reduced_count(x, axis):
    axes = range(x.ndim) if axis is None else _axes(axis, x.ndim)
    return int(onp.prod([x.shape[a] for a in axes]))


def _moment(name, a, axis, dtype, out, ddof, keepdims):
    """`var` or `std` by the registry's `_npi_var`/`_npi_std` (ops/numpy_moments.py, shared with the graph side)."""
    params = dict(axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    if out is not None:
        params["out"] = out
    return _np(_op(name, _array(a), **params))


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """The variance, sum((a - mean)**2) / (n - ddof) over `axis`; integer data keeps its dtype (MXNet's)."""
    return _moment("_npi_var", a, axis, dtype, out, ddof, keepdims)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """The standard deviation, sqrt(var); integer data keeps its dtype (MXNet's)."""
    return _moment("_npi_std", a, axis, dtype, out, ddof, keepdims)


def average(a, axis=None, weights=None, returned=False):
    """The mean of `a` over `axis`, weighted by `weights` (of `a`'s shape, or 1-D along a single `axis`); without
    weights an integer `a` gives its dtype (MXNet's)."""
    a = _array(a)
    if weights is None:     # MXNet keeps an integer dtype here (the mean truncated), unlike `mean`
        result = mean(a, axis=axis).astype(a.dtype, copy=False)
        total = _host(onp.full(result.shape, _reduced_count(a, axis)), result.dtype, a.context)
        return (result, total) if returned else result
    w = _array(weights, a)
    if w.shape != a.shape:
        if axis is None:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        if w.ndim != 1:
            raise TypeError("1D weights expected when shapes of a and weights differ.")
        axis = _axes(axis, a.ndim)[0]
        if w.shape[0] != a.shape[axis]:
            raise ValueError("Length of weights not compatible with specified axis.")
        w = reshape_to(w, tuple(-1 if i == axis else 1 for i in range(a.ndim)))
    total = sum(broadcast_to(w, a.shape), axis=axis)
    result = sum(a * w, axis=axis) / total
    if bool((total == 0).asnumpy().any()):
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    return (result, total) if returned else result


def _nonzero(a):
    return _array(a) != 0


def any(a, axis=None, out=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Whether any element over `axis` is true (non-zero), as a bool array."""
    return _truth("max", _array(a), axis, keepdims)


def all(a, axis=None, out=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Whether every element over `axis` is true (non-zero), as a bool array."""
    return _truth("min", _array(a), axis, keepdims)


def _truth(reduction, a, axis, keepdims):
    if a.size == 0:     # NumPy's identities (False for any, True for all) on the reduced shape
        shape = onp.zeros(a.shape, bool).any(axis=axis, keepdims=keepdims).shape
        return _host(onp.full(shape, reduction == "min"), onp.bool_, a.context)
    return _reduce(reduction, (a != 0).astype(onp.float32), axis, keepdims).astype(onp.bool_)


def count_nonzero(a, axis=None, keepdims=False):
    """The number of non-zero elements over `axis` (int64)."""
    return sum(_nonzero(a).astype(onp.int64), axis=axis, keepdims=keepdims)


def ptp(a, axis=None, out=None, keepdims=False):
    """max - min over `axis`."""
    a = _array(a)
    return max(a, axis=axis, keepdims=keepdims) - min(a, axis=axis, keepdims=keepdims)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False):
    """The sum treating NaN as zero."""
    return _nan_reduction("nansum", _array(a), axis, keepdims, dtype)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False):
    """The product treating NaN as one."""
    return _nan_reduction("nanprod", _array(a), axis, keepdims, dtype)


def _nan_reduction(name, a, axis, keepdims, dtype):
    if a.size == 0:         # the identity (0 or 1) on the reduced shape; the legacy kernels take no empty data
        identity = getattr(onp, name)(onp.zeros(a.shape, a.dtype), axis=axis, keepdims=keepdims, dtype=dtype)
        return _host(identity, identity.dtype, a.context)
    return _reduce(name, a, axis, keepdims, dtype)


def cumsum(a, axis=None, dtype=None, out=None):
    """The cumulative sum along `axis` (of the flattened array without one): the registry's `_np_cumsum`."""
    a = _array(a)
    if axis is None or a.ndim == 0:
        if axis is not None:
            _axes(axis, 1)          # NumPy takes axis 0 (or -1) of a zero-dim array as of its flattened form
        a, params = reshape_to(a, (-1,)), {}
    else:
        params = {"axis": _axes(axis, a.ndim)[0]}
    if dtype is not None:
        params["dtype"] = onp.dtype(dtype).name
    if a.size == 0:         # nothing to sum: a recorded cast (or copy), so autograd sees the empty result
        kept = onp.dtype(dtype) if dtype is not None else onp.dtype(onp.int64 if a.dtype == onp.bool_ else a.dtype)
        return _into(a.astype(kept) if kept != a.dtype else a.copy(), out)
    return _into(_np(_op("_np_cumsum", a, **params)), out)


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """The `n`-th differences along `axis`: a[i + 1] - a[i], `n` times (after joining `prepend` and `append`)."""
    a = _array(a)
    if n < 0:
        raise ValueError("order must be non-negative but got %d" % n)
    if a.ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = _axes(axis, a.ndim)[0]

    def edge(values):
        values = _array(values, a)
        return broadcast_to(values, a.shape[:axis] + (1,) + a.shape[axis + 1:]) if values.ndim == 0 else values
    parts = [edge(v) if v is not None else None for v in (prepend, append)]
    if prepend is not None or append is not None:
        a = concatenate([p for p in (parts[0], a, parts[1]) if p is not None], axis=axis)
    for _ in range(n):
        length = a.shape[axis]
        a = _slice(a, axis, 1, length) - _slice(a, axis, 0, builtins.max(length - 1, 0))
    return a


def ediff1d(ary, to_end=None, to_begin=None):
    """The differences of the flattened array, with `to_begin` and `to_end` around them."""
    flat = reshape_to(_array(ary), (-1,))
    pieces = [reshape_to(_array(to_begin, flat), (-1,))] if to_begin is not None else []
    pieces.append(diff(flat))
    if to_end is not None:
        pieces.append(reshape_to(_array(to_end, flat), (-1,)))
    return concatenate(pieces) if len(pieces) > 1 else pieces[0]


_QUANTILE_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(a, q, axis=None, out=None, overwrite_input=None, interpolation="linear", keepdims=False, method=None):
    """The `q`-th quantiles (0 <= q <= 1) over `axis`: the sorted data at position q * (n - 1), between its
    neighbours by `interpolation` (MXNet's name; NumPy's `method`). The result's leading axes are `q`'s."""
    method = method or interpolation
    if method not in _QUANTILE_METHODS:
        raise ValueError("interpolation must be one of %s, got %r" % (", ".join(_QUANTILE_METHODS), method))
    a = _array(a)
    qs = onp.asarray(q.asnumpy() if hasattr(q, "asnumpy") else q, dtype=onp.float64)
    if (qs < 0).any() or (qs > 1).any():
        raise ValueError("Quantiles must be in the range [0, 1]")
    # computed in float32 unless float32 or float64: MXNet's quantile of float16 data is float32 too
    data = a if a.dtype in (onp.float32, onp.float64) else a.astype(onp.float32)
    axes = list(range(a.ndim)) if axis is None else _axes(axis, a.ndim)
    kept = [i for i in range(a.ndim) if i not in axes]
    lanes = reshape_to(data.transpose(kept + axes) if kept + axes != list(range(a.ndim)) else data,
                       tuple(a.shape[i] for i in kept) + (-1,))
    n = lanes.shape[-1]
    if n == 0:
        raise ValueError("quantile of an empty axis")
    position = qs.reshape(-1) * (n - 1)
    below, above = onp.floor(position).astype(onp.int64), onp.ceil(position).astype(onp.int64)
    if method == "nearest":
        below = above = onp.around(position).astype(onp.int64)
    ordered = sort(lanes, axis=-1)
    low = take(ordered, above if method == "higher" else below, axis=-1)
    if method in ("lower", "higher", "nearest"):
        result = low
    else:
        weight = onp.full(position.shape, 0.5) if method == "midpoint" else position - below
        high = take(ordered, above, axis=-1)
        result = low + (high - low) * _host(weight, low.dtype, a.context)
    result = reshape_to(result, tuple(a.shape[i] for i in kept) + qs.shape)
    if qs.ndim:
        result = result.transpose(list(range(len(kept), result.ndim)) + list(range(len(kept))))
    if keepdims:
        shape = tuple(1 if i in axes else d for i, d in enumerate(a.shape))
        result = reshape_to(result, qs.shape + shape)
    return result


def percentile(a, q, axis=None, out=None, overwrite_input=None, interpolation="linear", keepdims=False,
               method=None):
    """The `q`-th percentiles (0 <= q <= 100) over `axis` (`quantile` of q / 100)."""
    qs = onp.asarray(q.asnumpy() if hasattr(q, "asnumpy") else q, dtype=onp.float64)
    if (qs < 0).any() or (qs > 100).any():
        raise ValueError("Percentiles must be in the range [0, 100]")
    return quantile(a, qs / 100, axis, out, overwrite_input, interpolation, keepdims, method)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    return quantile(a, 0.5, axis, keepdims=keepdims)
