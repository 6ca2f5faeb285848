"""CPU kernels of the reductions, argmax/argmin and the ordering ops (topk, sort, argsort).

What runs where (ms on a 1024x1024 float32 array, 2-core dev VM; numpy's equivalent in brackets):
- sum, mean, prod, max, min: numpy's SIMD reductions, which release the GIL (sum axis=1: 0.25 [0.23]). L2 norm:
  `einsum` over the (pre, reduced, post) view, one pass without a squared temporary (axis=1: 0.22 [linalg 0.56]).
- nansum, nanprod, the L1 norm, and argmax/argmin across a non-last axis: numba loops over the data viewed as
  (pre, reduced, post) (`three_d`), one pass each, where numpy copies or transposes (nansum 0.21 [0.81], nanprod
  0.29 [1.14], argmax axis=0 2.7 [11.1]). argmax along the last axis stays numpy's (0.22 [0.18]).
- Ordering is a stable sort: ties keep their index order in both directions. numpy's stable argsort is a timsort
  (41 ms); instead each element becomes one unique uint64 key, an order-preserving image of its value in the high
  32 bits and its index in the low 32, and numpy's SIMD sort (for topk: `partition`, then a sort of the first k)
  orders the keys; numba builds the keys and reads the result back (argsort 6.9, sort 8.4, topk k=5 1.8 [stable
  argsort 41-44]). Lanes across a non-last axis are first made contiguous by a tiled transpose (argsort axis=0:
  14 [70]). 64-bit data has no room in the key and takes numpy's stable argsort (42 [41]).

float16 data is reduced in float32 and rounded once (MXNet accumulates half in float; numba has no float16).
Integer sums and products wrap in the data's dtype, as C++ does: numpy accumulates small integers in int64, and
wrapping the result back gives the same value modulo 2**bits.
"""
import numba
import numpy as np

from ..errors import DTypeError, ShapeError
from ..registry import ADD, NULL
from .common import F16, F32, assign

_U64 = np.uint64


# ---------------------------------------------------------------------------------------------------------------
# Axes and layouts
# ---------------------------------------------------------------------------------------------------------------

def _fmt(shape):
    return "[%s]" % ",".join(str(d) for d in shape)


def reduced_axes(p, shape, name):
    """The sorted axes reduced over for an input of `shape` (MXNet 1.x rules, checked on 1.9.1).

    No axis (None or ()) reduces every axis, with or without `exclude`; `exclude` reduces the axes not listed.
    Raises ShapeError, naming the op and the axis, for an axis out of range or listed twice."""
    ndim = len(shape)
    if p.axis is None or len(p.axis) == 0:
        return tuple(range(ndim))
    axes = []
    for a in p.axis:
        if not -ndim <= a < ndim:
            raise ShapeError("%s: axis %d is out of range for an input of shape %s" % (name, a, _fmt(shape)))
        if a % ndim in axes:
            raise ShapeError("%s: axis=%s lists axis %d twice (shape %s)" % (name, tuple(p.axis), a % ndim,
                                                                            _fmt(shape)))
        axes.append(a % ndim)
    if getattr(p, "exclude", False):
        return tuple(i for i in range(ndim) if i not in axes)
    return tuple(sorted(axes))


def one_axis(axis, shape, name):
    """A single axis (argmax, topk, sort) normalised to 0..ndim-1; None stays None (the flattened input)."""
    if axis is None:
        return None
    if not -len(shape) <= axis < len(shape):
        raise ShapeError("%s: axis %d is out of range for an input of shape %s" % (name, axis, _fmt(shape)))
    return axis % len(shape)


def three_d(x, axes):
    """x as (pre, reduced, post): a view when the reduced axes are adjacent (size-1 axes between them do not
    count), else a copy with the kept axes moved in front. The kept elements, in order, are (pre, post)."""
    shape = x.shape
    big = [a for a in axes if shape[a] > 1]
    if not big:
        return x.reshape(-1, 1, 1)
    lo, hi = big[0], big[-1]
    if all(a in axes or shape[a] == 1 for a in range(lo, hi + 1)):
        n_red = int(np.prod(shape[lo:hi + 1]))
        return x.reshape(int(np.prod(shape[:lo])), n_red, int(np.prod(shape[hi + 1:])))
    kept = [a for a in range(len(shape)) if a not in axes]
    moved = np.ascontiguousarray(x.transpose(kept + list(axes)))
    return moved.reshape(int(np.prod([shape[a] for a in kept])), -1, 1)


def _data(x):
    return x.astype(F32) if x.dtype == F16 else x


def _into(out, req, value):
    with np.errstate(over="ignore"):          # a float64 or float32 result beyond out's range is inf, as in MXNet
        assign(out, req, np.asarray(value).reshape(out.shape))


# ---------------------------------------------------------------------------------------------------------------
# Reductions
# ---------------------------------------------------------------------------------------------------------------

def _reduce(np_fn, name):
    def kernel(ctx, p, inputs, outputs, req):
        x, out = inputs[0], outputs[0]
        if req[0] == NULL:
            return
        axes = reduced_axes(p, x.shape, name)
        if req[0] != ADD and x.dtype == out.dtype and x.dtype != F16 and x.dtype.kind != "b":
            # straight into the output: numpy reduces in out's dtype (integers wrap as in C++)
            np_fn(x, axis=axes, out=out.reshape([d for i, d in enumerate(x.shape) if i not in axes]))
        else:
            _into(out, req[0], np_fn(_data(x), axis=axes))
    kernel.__name__ = name
    return kernel


sum_ = _reduce(np.sum, "sum")
prod = _reduce(np.prod, "prod")
max_ = _reduce(np.max, "max")
min_ = _reduce(np.min, "min")


def _int_mean(x, axes):
    # MXNet: the sum wraps in the data's dtype and is divided by the count converted to that dtype, with C++
    # integer division (truncating toward zero): 200 int8 twos -> sum 400 wraps to -112, count 200 to -56 -> 2.
    count = int(np.prod([x.shape[a] for a in axes]))
    divisor = np.array(count).astype(x.dtype).astype(np.int64)
    if divisor == 0:
        raise DTypeError("mean: %d elements of %s: MXNet divides by the count converted to %s, which is 0 (it "
                         "dies of SIGFPE); take the mean in a wider dtype" % (count, x.dtype.name, x.dtype.name))
    total = np.sum(x, axis=axes).astype(x.dtype).astype(np.int64)
    q = np.abs(total) // abs(int(divisor))
    return np.where((total < 0) != (divisor < 0), -q, q)


def mean(ctx, p, inputs, outputs, req):
    x = inputs[0]
    axes = reduced_axes(p, x.shape, "mean")
    value = _int_mean(x, axes) if x.dtype.kind in "iu" else np.mean(_data(x), axis=axes)
    _into(outputs[0], req[0], value)


# The loops below accumulate in float64 (`acc`, `out`); `reassoc` lets LLVM vectorise the lane sums without
# dropping the NaN tests (full fastmath would assume there are no NaNs).
@numba.njit(nogil=True, cache=True, fastmath={"reassoc"})
def _nansum3(x, out):
    pre, red, post = x.shape
    for i in range(pre):
        if post == 1:
            acc = 0.0
            for j in range(red):
                v = x[i, j, 0]
                acc += v if v == v else 0.0
            out[i, 0] = acc
        else:
            out[i, :] = 0.0
            for j in range(red):
                for k in range(post):
                    v = x[i, j, k]
                    out[i, k] += v if v == v else 0.0


@numba.njit(nogil=True, cache=True, fastmath={"reassoc"})
def _nanprod3(x, out):
    pre, red, post = x.shape
    for i in range(pre):
        if post == 1:
            acc = 1.0
            for j in range(red):
                v = x[i, j, 0]
                acc *= v if v == v else 1.0
            out[i, 0] = acc
        else:
            out[i, :] = 1.0
            for j in range(red):
                for k in range(post):
                    v = x[i, j, k]
                    out[i, k] *= v if v == v else 1.0


@numba.njit(nogil=True, cache=True, fastmath={"reassoc"})
def _abssum3(x, out):
    pre, red, post = x.shape
    for i in range(pre):
        if post == 1:
            acc = 0.0
            for j in range(red):
                acc += abs(x[i, j, 0])
            out[i, 0] = acc
        else:
            out[i, :] = 0.0
            for j in range(red):
                for k in range(post):
                    out[i, k] += abs(x[i, j, k])


def _float_loop(loop, x, axes):
    """Run one of the loops above over float data; returns the (pre, post) float64 result."""
    x3 = three_d(_data(x), axes)
    acc = np.empty((x3.shape[0], x3.shape[2]), np.float64)
    loop(x3, acc)
    return acc


def _nan_reduce(loop, np_fn, name):
    def kernel(ctx, p, inputs, outputs, req):
        x = inputs[0]
        axes = reduced_axes(p, x.shape, name)
        if x.dtype.kind != "f":                # no NaNs: the plain reduction
            _into(outputs[0], req[0], np_fn(x, axis=axes))
        else:
            _into(outputs[0], req[0], _float_loop(loop, x, axes))
    kernel.__name__ = name
    return kernel


nansum = _nan_reduce(_nansum3, np.sum, "nansum")
nanprod = _nan_reduce(_nanprod3, np.prod, "nanprod")


def norm(ctx, p, inputs, outputs, req):
    # Floats: computed in the wider of the data's and the output's float dtype (float16 in float32); L1 sums in
    # float64. Integers: ord=1 sums |x| wrapping in the dtype; ord=2 is floor(sqrt(sum x*x)) (see ops/reduce.py
    # on MXNet's integer L2 norm).
    x, out = inputs[0], outputs[0]
    axes = reduced_axes(p, x.shape, "norm")
    if x.dtype.kind in "iub":
        if p.ord == 1:
            value = np.sum(np.abs(x), axis=axes).astype(x.dtype)
        else:
            value = np.trunc(np.sqrt(np.sum(np.square(x.astype(np.float64)), axis=axes))).astype(np.int64)
        value = value.astype(x.dtype)
    elif p.ord == 1:
        value = _float_loop(_abssum3, x, axes)
    else:
        data = _data(x)
        if out.dtype.kind == "f" and out.dtype.itemsize > data.dtype.itemsize:
            data = data.astype(out.dtype)
        x3 = three_d(data, axes)
        value = np.sqrt(np.einsum("ijk,ijk->ik", x3, x3))
    _into(out, req[0], value)


# d sum = dy spread over the reduced axes; d mean = that / count; d prod = dy * out / x; d max, d min = dy where x
# equals the result (every tied element); d nansum = dy where x is not NaN; d nanprod = dy * out / x there;
# d norm1 = dy * sign(x); d norm2 = dy * x / out (0 where out is 0: MXNet gives NaN there, 0/0).
def backward_reduce(ctx, p, inputs, outputs, req):
    dy, x, y = inputs
    axes = reduced_axes(p, x.shape, "_backward_reduce")
    kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    g, y = dy.reshape(kept), y.reshape(kept)
    with np.errstate(divide="ignore", invalid="ignore"):
        if p.mode == "sum":
            grad = np.broadcast_to(g, x.shape)
        elif p.mode == "mean":
            grad = np.broadcast_to(g / max(1, x.size // max(1, y.size)), x.shape)
        elif p.mode == "prod":
            grad = g * y / x
        elif p.mode in ("max", "min"):
            grad = g * (x == y)
        elif p.mode == "nansum":
            grad = np.where(np.isnan(x), 0, g)
        elif p.mode == "nanprod":
            grad = np.where(np.isnan(x), 0, g * y / x)
        elif p.mode == "norm1":
            grad = g * np.sign(x)
        else:
            grad = g * x / np.where(y == 0, 1, y)
    assign(outputs[0], req[0], grad)


# ---------------------------------------------------------------------------------------------------------------
# argmax, argmin
# ---------------------------------------------------------------------------------------------------------------

@numba.njit(nogil=True, cache=True)
def _arg3(x, smallest, out):
    """out[i, k] = the index along j of the first extreme of x[i, :, k]; a NaN is the extreme (numpy's rule)."""
    pre, red, post = x.shape
    best = np.empty(post, x.dtype)
    done = np.empty(post, np.bool_)
    for i in range(pre):
        for k in range(post):
            best[k] = x[i, 0, k]
            done[k] = best[k] != best[k]
            out[i, k] = 0
        for j in range(1, red):
            for k in range(post):
                v = x[i, j, k]
                if done[k]:
                    continue
                if v != v:
                    done[k] = True
                    out[i, k] = j
                elif (v < best[k]) if smallest else (v > best[k]):
                    best[k] = v
                    out[i, k] = j


def arg_search(x, axis, smallest):
    """Indices of the first extreme along axis (None: of the flattened data), laid out (pre, post)."""
    x3 = three_d(x, tuple(range(x.ndim)) if axis is None else (axis,))
    if x3.shape[2] == 1 or x.dtype == F16:            # along the last axis numpy's SIMD search is fastest
        return (np.argmin if smallest else np.argmax)(x3, axis=1)
    value = np.empty((x3.shape[0], x3.shape[2]), np.int64)
    _arg3(x3, smallest, value)
    return value


def argmax(ctx, p, inputs, outputs, req):
    _into(outputs[0], req[0], arg_search(inputs[0], one_axis(p.axis, inputs[0].shape, "argmax"), False))


def argmin(ctx, p, inputs, outputs, req):
    _into(outputs[0], req[0], arg_search(inputs[0], one_axis(p.axis, inputs[0].shape, "argmin"), True))


def argmax_channel(ctx, p, inputs, outputs, req):
    _into(outputs[0], req[0], arg_search(inputs[0], 1, False))


# ---------------------------------------------------------------------------------------------------------------
# Ordering: topk, sort, argsort
# ---------------------------------------------------------------------------------------------------------------

def topk_k(k, n):
    """MXNet: k < 1 selects every element of the axis."""
    return n if k < 1 else k


_FLOAT, _SIGNED, _UNSIGNED = 0, 1, 2


@numba.njit(nogil=True, cache=True)
def _sort_keys(bits, kind, descending, keys):
    """keys[i * post + k, j] = (order-preserving image of bits[i, j, k]) << 32 | j, bits being the uint32 pattern
    of a float32 (NaN the largest, -0 equal to +0), an int32, or a uint32."""
    pre, n, post = bits.shape
    sign = _U64(0x80000000)
    low = _U64(0xFFFFFFFF)
    for i in range(pre):
        for k in range(post):
            row = i * post + k
            for j in range(n):
                b = _U64(bits[i, j, k])
                if kind == 0:
                    if (b & _U64(0x7FFFFFFF)) > _U64(0x7F800000):
                        b = low                                 # NaN
                    elif b == sign:
                        b = sign                                # -0 -> +0's image
                    elif b & sign:
                        b = ~b & low
                    else:
                        b = b | sign
                elif kind == 1:
                    b = b ^ sign
                if descending:
                    b = ~b & low
                keys[row, j] = (b << _U64(32)) | _U64(j)


@numba.njit(nogil=True, cache=True)
def _read_keys(keys, k, x, values, indices):
    """The first k sorted keys of each lane back as indices (and values gathered from x, if values is not empty),
    laid out (pre, k, post)."""
    pre, n, post = x.shape
    low = _U64(0xFFFFFFFF)
    gather = values.size > 0
    for i in range(pre):
        for kk in range(post):
            row = i * post + kk
            for j in range(k):
                index = np.int64(keys[row, j] & low)
                indices[i, j, kk] = index
                if gather:
                    values[i, j, kk] = x[i, index, kk]


def _bits(x):
    """(uint32 array, kind) for data that fits a 32-bit key, or None."""
    if x.dtype.kind == "f" and x.dtype.itemsize == 4:
        return x.view(np.uint32), _FLOAT
    if x.dtype.kind == "i" and x.dtype.itemsize <= 4:
        return x.astype(np.int32, copy=False).view(np.uint32), _SIGNED
    if x.dtype.kind == "u" and x.dtype.itemsize <= 4:
        return x.astype(np.uint32, copy=False), _UNSIGNED
    return None


@numba.njit(nogil=True, cache=True)
def _swap_last(src, dst):
    """dst[i, b, a] = src[i, a, b], in 32x32 tiles (a plain strided copy thrashes the cache at 4 KB strides)."""
    pre, na, nb = src.shape
    for i in range(pre):
        for a0 in range(0, na, 32):
            for b0 in range(0, nb, 32):
                for a in range(a0, min(a0 + 32, na)):
                    for b in range(b0, min(b0 + 32, nb)):
                        dst[i, b, a] = src[i, a, b]


def _swapped(a):
    out = np.empty((a.shape[0], a.shape[2], a.shape[1]), a.dtype)
    _swap_last(a, out)
    return out


def sorted_lanes(x, axis, ascending, k, want_values=True):
    """(values, indices) of the first k elements of each lane of x sorted stably along axis (None: the flattened
    data), laid out (pre, k, post); values is None unless asked for. Ties keep their index order."""
    x3 = x.reshape(1, -1, 1) if axis is None else x.reshape(int(np.prod(x.shape[:axis])), x.shape[axis], -1)
    pre, n, post = x3.shape
    data = _data(x3)
    split = _bits(data)
    if split is None:                         # 64-bit data: numpy's stable sort
        return _sorted_lanes_64(x3, ascending, k, want_values)
    if post > 1:                              # lanes made contiguous, sorted, and laid back
        values, indices = sorted_lanes(_swapped(data).reshape(-1, n), 1, ascending, k, want_values)
        values = None if values is None else _swapped(values.reshape(pre, post, k))
        return values, _swapped(indices.reshape(pre, post, k))
    keys = np.empty((pre, n), np.uint64)
    _sort_keys(split[0], split[1], not ascending, keys)
    if k < n:
        keys.partition(k - 1, axis=1)
        keys[:, :k].sort(axis=1)
    else:
        keys.sort(axis=1)
    indices = np.empty((pre, k, 1), np.int64)
    values = np.empty((pre, k, 1), data.dtype) if want_values else data[:0, :0, :0]
    _read_keys(keys, k, data, values, indices)
    return (values if want_values else None), indices


def _sorted_lanes_64(x3, ascending, k, want_values):
    n = x3.shape[1]
    if ascending:
        order = np.argsort(x3, axis=1, kind="stable")
    else:                                     # a stable sort of the reversed lanes, reversed back
        order = (n - 1) - np.flip(np.argsort(np.flip(x3, 1), axis=1, kind="stable"), 1)
    order = order[:, :k]
    return (np.take_along_axis(x3, order, 1) if want_values else None), order


def _lane_axis(p, x, name):
    axis = one_axis(p.axis, x.shape, name)
    n = x.size if axis is None else x.shape[axis]
    return axis, n


def topk(ctx, p, inputs, outputs, req):
    x = inputs[0]
    axis, n = _lane_axis(p, x, "topk")
    k = topk_k(p.k, n)
    values, indices = sorted_lanes(x, axis, p.is_ascend, k, p.ret_typ in ("value", "both"))
    if p.ret_typ == "mask":
        mask = np.zeros((indices.shape[0], n, indices.shape[2]), outputs[0].dtype)
        np.put_along_axis(mask, indices, 1, 1)
        _into(outputs[0], req[0], mask)
    elif p.ret_typ == "indices":
        _into(outputs[0], req[0], indices)
    else:
        _into(outputs[0], req[0], values)
        _into(outputs[1], req[1], indices)       # "both": visible indices; "value": hidden, for the gradient


def sort(ctx, p, inputs, outputs, req):
    x = inputs[0]
    if x.size == 0:                               # nothing to sort or write (NumPy's empty lanes)
        return
    axis, n = _lane_axis(p, x, "sort")
    values, indices = sorted_lanes(x, axis, p.is_ascend, n)
    _into(outputs[0], req[0], values)
    _into(outputs[1], req[1], indices)            # hidden, for the gradient


def argsort(ctx, p, inputs, outputs, req):
    x = inputs[0]
    if x.size == 0:
        return
    axis, n = _lane_axis(p, x, "argsort")
    _into(outputs[0], req[0], sorted_lanes(x, axis, p.is_ascend, n, want_values=False)[1])


# d data = out_grad scattered back to the positions the indices name (zero elsewhere).
def backward_topk(ctx, p, inputs, outputs, req):
    dy, indices, x = inputs
    axis = one_axis(p.axis, x.shape, "_backward_topk")
    grad = np.zeros(x.shape, outputs[0].dtype)
    if axis is None:
        grad.reshape(-1)[indices.reshape(-1).astype(np.intp)] = dy.reshape(-1)
    else:
        np.put_along_axis(grad, indices.astype(np.intp), dy, axis)
    assign(outputs[0], req[0], grad)


# ---- _np_cumsum -------------------------------------------------------------------------------------------------
def np_cumsum(ctx, p, inputs, outputs, req):
    x = inputs[0]
    out = outputs[0]
    assign(out, req[0], np.cumsum(x, axis=p.axis, dtype=out.dtype).reshape(out.shape))


# d data = the head gradient summed from each position to the end of its lane (a reversed cumulative sum).
def backward_np_cumsum(ctx, p, inputs, outputs, req):
    dy, x = inputs
    lanes = dy.reshape(-1) if p.axis is None else dy
    axis = 0 if p.axis is None else one_axis(p.axis, x.shape, "_backward_np_cumsum")
    flipped = np.flip(lanes, axis)
    grad = np.flip(np.cumsum(flipped, axis=axis, dtype=outputs[0].dtype), axis)
    assign(outputs[0], req[0], grad.reshape(x.shape))
