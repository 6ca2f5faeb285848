"""`mx.np`'s sorting and searching: sort and argsort on the registry's ops (a stable sort; `sort` is differentiable
through its hidden indices), and the functions whose output shapes depend on the values (`nonzero`, `argwhere`,
`flatnonzero`, `unique`, `searchsorted`), computed on the host from the array's values as MXNet's fallbacks are.
Index outputs are int64 (MXNet's)."""
import numpy as onp

from .functions import _array, _host
from .multiarray import _axes, _np, _op, reshape_to

__all__ = ["sort", "argsort", "msort", "searchsorted", "nonzero", "flatnonzero", "argwhere", "unique", "bincount",
           "unravel_index"]


def _lanes(a, axis):
    """(`a`, axis) with axis None meaning the flattened `a` (axis 0)."""
    a = _array(a)
    if axis is None:
        return reshape_to(a, (-1,)), 0
    return a, _axes(axis, a.ndim)[0]


def sort(a, axis=-1, kind=None, order=None):
    """A sorted copy of `a` along `axis` (of the flattened array for None)."""
    a, axis = _lanes(a, axis)
    if a.size == 0:
        return a.copy()
    if a.dtype == onp.bool_:        # the ordering kernels take numbers
        return sort(a.astype(onp.uint8), axis).astype(onp.bool_)
    return _np(_op("sort", a, axis=axis))


def argsort(a, axis=-1, kind=None, order=None):
    """The indices that sort `a` along `axis` (int64; ties keep their order)."""
    a, axis = _lanes(a, axis)
    if a.size == 0:
        return _host(onp.zeros(a.shape), onp.int64, a.context)
    if a.dtype == onp.bool_:
        a = a.astype(onp.uint8)
    return _np(_op("argsort", a, axis=axis, dtype="int64"))


def msort(a):
    return sort(a, axis=0)


def _host_values(a):
    return _array(a).asnumpy()


def searchsorted(a, v, side="left", sorter=None):
    """Where `v`'s elements would go in the sorted 1-D `a` to keep it sorted (int64)."""
    a = _array(a)
    if a.ndim != 1:
        raise ValueError("object too deep for desired array: searchsorted needs a 1-D array, got %s" % (a.shape,))
    values = onp.asarray(v.asnumpy() if hasattr(v, "asnumpy") else v)
    sorter = None if sorter is None else _host_values(sorter).astype(onp.int64)
    found = onp.searchsorted(a.asnumpy(), values, side=side, sorter=sorter)
    return _host(found, onp.int64, a.context)


def nonzero(a):
    """The indices of the non-zero elements, one int64 array per axis."""
    a = _array(a)
    if a.ndim == 0:
        raise ValueError("Calling nonzero on 0d arrays is not allowed. Use np.atleast_1d(scalar).nonzero() instead.")
    return tuple(_host(index, onp.int64, a.context) for index in onp.nonzero(a.asnumpy()))


def flatnonzero(a):
    """The indices of the non-zero elements of the flattened array."""
    a = _array(a)
    return _host(onp.flatnonzero(a.asnumpy()), onp.int64, a.context)


def argwhere(a):
    """The indices of the non-zero elements, one row per element (int64)."""
    a = _array(a)
    return _host(onp.argwhere(a.asnumpy()), onp.int64, a.context)


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None):
    """The sorted unique elements (or sub-arrays along `axis`), with first indices, the inverse and counts
    (int64) when asked."""
    ar = _array(ar)
    if axis is not None:
        axis = _axes(axis, ar.ndim)[0]
    found = onp.unique(ar.asnumpy(), return_index, return_inverse, return_counts, axis=axis)
    if not isinstance(found, tuple):
        return _host(found, ar.dtype, ar.context)
    values, extras = found[0], list(found[1:])
    if return_inverse:      # NumPy 2 shapes the inverse like the input for axis None; MXNet's is 1-D
        at = 1 if return_index else 0
        extras[at] = extras[at].reshape(-1)
    return (_host(values, ar.dtype, ar.context),) + tuple(_host(e, onp.int64, ar.context) for e in extras)


def bincount(x, weights=None, minlength=0):
    """How often each value of the non-negative integer array `x` occurs (int64; the weights' sums with
    `weights`)."""
    x = _array(x)
    counts = onp.bincount(x.asnumpy().astype(onp.int64) if x.dtype.kind == "f" else x.asnumpy(),
                          None if weights is None else _host_values(weights), minlength)
    return _host(counts, counts.dtype if weights is None else _array(weights).dtype, x.context)


def unravel_index(indices, shape, order="C"):
    """The coordinates in an array of `shape` of the flat `indices` (one int64 array per axis)."""
    flat = onp.asarray(indices.asnumpy() if hasattr(indices, "asnumpy") else indices).astype(onp.int64)
    ctx = indices.context if hasattr(indices, "context") else None
    return tuple(_host(c, onp.int64, ctx) for c in onp.unravel_index(flat, shape, order=order))
