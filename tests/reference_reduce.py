"""numpy references for the reductions, argmax/argmin and the ordering ops (tests/specs_reduce.py and the
reduction rows of tests/op_specs.py use them).

Written from MXNet 1.9.1's observed semantics (the facts are listed in ops/reduce.py's docstring); they never call
our kernels. Floating results are computed in float64 and rounded to the output dtype once; integer sums and
products are exact in Python integers, then wrapped to the dtype. The index and ordering references work lane by
lane in Python (a lane: the elements along the axis), so they share no code path with the vectorised kernels.
"""
import math

import numpy as np


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _wrap(values, dtype):
    """Python integers (or an object array of them) wrapped to an integer dtype, as C++ conversions do."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return np.asarray(np.asarray(values, dtype=object) != 0, dtype)
    bits, signed = 8 * dtype.itemsize, dtype.kind == "i"

    def wrap(v):
        v = int(v) % (1 << bits)
        return v - (1 << bits) if signed and v >= 1 << (bits - 1) else v
    return np.array(np.frompyfunc(wrap, 1, 1)(np.asarray(values, dtype=object)), dtype=dtype)


def _to(y, dtype):
    """A float64 result rounded to dtype (integers: truncated toward zero, then wrapped)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iub":
        return _wrap(np.vectorize(lambda v: int(math.trunc(v)), otypes=[object])(np.asarray(y)), dtype)
    with np.errstate(over="ignore"):           # a product beyond the dtype's range is inf, as in MXNet
        return np.asarray(y).astype(dtype)


# ---- reductions over `axis` -------------------------------------------------------------------------------------
def axes(p, ndim):
    """MXNet: no axis reduces every axis (exclude or not); exclude reduces the axes not listed."""
    if p.axis is None or len(p.axis) == 0:
        return tuple(range(ndim))
    listed = {a % ndim for a in p.axis}
    if getattr(p, "exclude", False):
        return tuple(a for a in range(ndim) if a not in listed)
    return tuple(sorted(listed))


def _shape_like_mxnet(p, y):
    return y.reshape(1) if not p.keepdims and y.ndim == 0 else y


def _reduction(float_fn, int_fn):
    """float_fn(float64 data, axes) for floats; int_fn(object array of Python ints, axes) for integers."""
    def ref(p, x):
        ax = axes(p, x.ndim)
        if x.dtype.kind in "iu":
            y = _wrap(int_fn(x.astype(object), ax), x.dtype)
        else:
            y = _to(float_fn(_f64(x), ax), x.dtype)
        y = np.expand_dims(y, ax) if p.keepdims and ax else y
        return _shape_like_mxnet(p, np.asarray(y, x.dtype))
    return ref


def _sum_objects(v, ax):
    return np.sum(v, axis=ax) if ax else v


def _prod_objects(v, ax):
    return np.prod(v, axis=ax) if ax else v


sum_ = _reduction(lambda v, ax: np.sum(v, axis=ax), _sum_objects)
prod = _reduction(lambda v, ax: np.prod(v, axis=ax), _prod_objects)
max_ = _reduction(lambda v, ax: np.max(v, axis=ax), lambda v, ax: np.max(v, axis=ax) if ax else v)
min_ = _reduction(lambda v, ax: np.min(v, axis=ax), lambda v, ax: np.min(v, axis=ax) if ax else v)
nansum = _reduction(lambda v, ax: np.sum(np.where(np.isnan(v), 0.0, v), axis=ax), _sum_objects)
nanprod = _reduction(lambda v, ax: np.prod(np.where(np.isnan(v), 1.0, v), axis=ax), _prod_objects)


def mean(p, x):
    ax = axes(p, x.ndim)
    if x.dtype.kind not in "iu":
        return _reduction(lambda v, a: np.mean(v, axis=a), None)(p, x)
    # MXNet: the sum wraps in the dtype and is divided by the count wrapped to the dtype, truncating toward zero.
    n = int(_wrap(math.prod(x.shape[a] for a in ax), x.dtype))
    total = _wrap(_sum_objects(x.astype(object), ax), x.dtype).astype(object)
    quotient = np.frompyfunc(lambda t: abs(int(t)) // abs(n) * (1 if (t >= 0) == (n > 0) else -1), 1, 1)(total)
    y = _wrap(quotient, x.dtype)
    y = np.expand_dims(y, ax) if p.keepdims and ax else y
    return _shape_like_mxnet(p, np.asarray(y, x.dtype))


def norm(p, x):
    ax = axes(p, x.ndim)
    out_dtype = p.out_dtype if p.out_dtype is not None else x.dtype
    if x.dtype.kind in "iu" and p.ord == 1:
        y = _wrap(_sum_objects(np.abs(x.astype(object)), ax), x.dtype)      # |x| summed, wrapping in the dtype
    elif x.dtype.kind in "iu":
        y = _wrap(np.vectorize(math.isqrt, otypes=[object])(_sum_objects(x.astype(object) ** 2, ax)), x.dtype)
    else:
        v = _f64(x)
        y = np.sum(np.abs(v), axis=ax) if p.ord == 1 else np.sqrt(np.sum(v * v, axis=ax))
    y = _to(np.asarray(y, np.float64) if np.asarray(y).dtype.kind in "iu" else y, out_dtype)
    y = np.expand_dims(y, ax) if p.keepdims and ax else y
    return _shape_like_mxnet(p, np.asarray(y, out_dtype))


# ---- argmax, argmin ---------------------------------------------------------------------------------------------
def _lanes(x, axis):
    """(lanes as a 2-d array, the shape of the remaining axes in order) for `axis` (None: one flat lane)."""
    if axis is None:
        return x.reshape(1, -1), ()
    moved = np.moveaxis(x, axis, -1)
    return moved.reshape(-1, x.shape[axis]), moved.shape[:-1]


def _first_extreme(lane, better):
    """Index of the first extreme value of a lane; a NaN counts as the extreme (its first occurrence)."""
    best = 0
    for i, v in enumerate(lane):
        if isinstance(v, float) and math.isnan(v):
            return i
        if better(v, lane[best]):
            best = i
    return best


def _arg_extreme(better):
    def ref(p, x):
        axis = None if p.axis is None else p.axis % x.ndim
        lanes, rest = _lanes(x, axis)
        idx = np.array([_first_extreme(lane.tolist(), better) for lane in lanes], dtype=np.int64)
        if axis is None:
            y = idx.reshape((1,) * x.ndim if p.keepdims else (1,))
        else:
            y = idx.reshape(rest)
            y = np.expand_dims(y, axis) if p.keepdims else (y if y.ndim else y.reshape(1))
        return _wrap(y.astype(object), x.dtype) if x.dtype.kind in "iu" else y.astype(x.dtype)
    return ref


argmax = _arg_extreme(lambda a, b: a > b)
argmin = _arg_extreme(lambda a, b: a < b)


def argmax_channel(p, x):
    lanes, rest = _lanes(x, 1)
    idx = np.array([_first_extreme(lane.tolist(), lambda a, b: a > b) for lane in lanes], np.int64).reshape(rest)
    return _wrap(idx.astype(object), x.dtype) if x.dtype.kind in "iu" else idx.astype(x.dtype)


# ---- topk, sort, argsort ----------------------------------------------------------------------------------------
def _index_cast(idx, dtype):
    dtype = np.dtype(dtype)
    return _wrap(idx.astype(object), dtype) if dtype.kind in "iu" else idx.astype(dtype)


def _ordered(x, axis, ascending, k=None):
    """(values, indices) of the first k of each lane sorted stably (ties in index order, both directions), laid
    out like x with the lane axis cut to k (axis None: a flat array of k)."""
    ax = None if axis is None else axis % x.ndim
    lanes, rest = _lanes(x, ax)
    n = lanes.shape[1]
    k = n if k is None or k < 1 else k
    sign = 1 if ascending else -1
    order = np.array([sorted(range(n), key=lambda i, lane=lane.tolist(): (sign * lane[i], i))[:k]
                      for lane in lanes], dtype=np.int64)
    values = np.take_along_axis(lanes, order, axis=1)
    if ax is None:
        return values.reshape(k), order.reshape(k)
    shape = rest + (k,)
    return (np.moveaxis(values.reshape(shape), -1, ax), np.moveaxis(order.reshape(shape), -1, ax))


def topk(p, x):
    values, order = _ordered(x, p.axis, p.is_ascend, p.k)
    if p.ret_typ == "mask":
        mask = np.zeros(x.size if p.axis is None else x.shape, np.int64)
        if p.axis is None:
            mask[order] = 1
        else:
            np.put_along_axis(mask, order, 1, p.axis % x.ndim)
        return mask.reshape(x.shape).astype(x.dtype)
    if p.ret_typ == "indices":
        return _index_cast(order, p.dtype)
    if p.ret_typ == "both":
        return values, _index_cast(order, p.dtype)
    return values, order                       # 'value': the hidden indices are int64


def sort(p, x):
    return _ordered(x, p.axis, p.is_ascend)     # values and the hidden int64 indices


def argsort(p, x):
    return _index_cast(_ordered(x, p.axis, p.is_ascend)[1], p.dtype)
