"""`mx.np`'s array manipulation: splitting, stacking, tiling, flipping, rolling, padding, diagonals and triangles.

Each function is NumPy's, computed by registry ops (`slice`, `take`, `tile`, `repeat`, `reverse`, `SwapAxis`,
`transpose`, `Concat`, `diag`, `where`), so autograd records it and a Symbol-side front end can map the same way.
Index arithmetic (which rows a split, roll or delete keeps) is done on the host with NumPy on `arange`s and handed
to `take`; a result with no elements is a recorded `take` of nothing from the input (`functions._no_elements`: the
legacy kernels do not all take zero-size operands, and autograd must still reach the input).
"""
import numbers

import numpy as onp

from ops.errors import ParamError

from .functions import _array, _host, _no_elements, broadcast_to, concatenate, sum, where
from .multiarray import NUMPY_AXIS_ERROR, _axes, _np, _op, ndarray, reshape_to

__all__ = ["swapaxes", "moveaxis", "rollaxis", "split", "array_split", "hsplit", "vsplit", "dsplit", "tile",
           "repeat", "flip", "fliplr", "flipud", "rot90", "roll", "pad", "atleast_1d", "atleast_2d", "atleast_3d",
           "hstack", "vstack", "row_stack", "dstack", "column_stack", "broadcast_arrays", "append", "delete",
           "diag", "diagflat", "diagonal", "trace", "tril", "triu", "take", "insert", "meshgrid"]


# -- helpers ----------------------------------------------------------------------------------------------------------
def _empty(shape, like):
    """A fresh array of `shape` (with no elements) in `like`'s dtype and context, recorded from `like`."""
    return _no_elements(shape, like)


def _axis(axis, ndim):
    return _axes(axis, ndim)[0]


def _slice(a, axis, start, stop, step=1):
    """`a[..., start:stop:step, ...]` on `axis` (the registry's `slice`, recorded by autograd)."""
    begin, end, steps = [None] * a.ndim, [None] * a.ndim, [None] * a.ndim
    begin[axis], end[axis], steps[axis] = start, stop, step
    shape = list(a.shape)
    shape[axis] = len(range(a.shape[axis])[start:stop:step])
    if 0 in shape:
        return _empty(tuple(shape), a)
    return _np(_op("slice", a, begin=tuple(begin), end=tuple(end), step=tuple(steps)))


def take(a, indices, axis=None, mode="raise", out=None):
    """Elements of `a` at `indices` along `axis` (of the flattened `a` without one): NumPy's `take` (modes
    'raise', 'wrap' and 'clip')."""
    a = _array(a)
    if axis is None:
        a, axis = reshape_to(a, (-1,)), 0
    axis = _axis(axis, a.ndim)
    index = onp.asarray(indices.asnumpy() if isinstance(indices, ndarray) else indices)
    if index.dtype.kind not in "iu":
        # MXNet takes a floating mx.np index array (mx.np.array(1) is float32), truncated; NumPy's rule otherwise
        if index.dtype.kind != "f" or not (index.size == 0 or isinstance(indices, ndarray)):
            raise IndexError("arrays used as indices must be of integer type, got %s" % index.dtype)
        index = index.astype(onp.int64)
    n = a.shape[axis]
    if mode == "raise":
        if index.size and (index.min() < -n or index.max() >= n):
            raise IndexError("index %d is out of bounds for axis %d with size %d"
                             % (index.max() if index.max() >= n else index.min(), axis, n))
        index = index % n if n else index
    elif mode == "wrap":
        index = index % n
    elif mode == "clip":
        index = onp.clip(index, 0, n - 1)
    else:
        raise ValueError("clipmode must be one of 'clip', 'raise', or 'wrap', got %r" % (mode,))
    shape = a.shape[:axis] + index.shape + a.shape[axis + 1:]
    if 0 in shape:
        return _empty(shape, a)
    flat = _host(index.reshape(-1), onp.int64, a.context)
    picked = _np(_op("take", a, flat, axis=axis))
    return reshape_to(picked, shape)


# -- axes -------------------------------------------------------------------------------------------------------------
def swapaxes(a, axis1, axis2):
    """`a` with axes `axis1` and `axis2` interchanged."""
    a = _array(a)
    axis1, axis2 = _axis(axis1, a.ndim), _axis(axis2, a.ndim)
    return _np(_op("SwapAxis", a, dim1=axis1, dim2=axis2))


def moveaxis(a, source, destination):
    """`a` with the axes `source` moved to the positions `destination` (the others keep their order)."""
    a = _array(a)
    source, destination = _axes(source, a.ndim), _axes(destination, a.ndim)
    if len(source) != len(destination):
        raise ValueError("`source` and `destination` arguments must have the same number of elements")
    if len(set(source)) != len(source) or len(set(destination)) != len(destination):
        raise ValueError("repeated axis in `source` or `destination` argument")
    order = [n for n in range(a.ndim) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return a.transpose(order)


def rollaxis(a, axis, start=0):
    """`a` with `axis` moved to before position `start`."""
    a = _array(a)
    axis = _axis(axis, a.ndim)
    if not -a.ndim <= start <= a.ndim:
        raise NUMPY_AXIS_ERROR("start %d is out of bounds for array of dimension %d" % (start, a.ndim))
    start = start + a.ndim if start < 0 else start
    if axis < start:
        start -= 1
    order = [n for n in range(a.ndim) if n != axis]
    order.insert(start, axis)
    return a.transpose(order)


# -- splitting --------------------------------------------------------------------------------------------------------
def _split(ary, indices_or_sections, axis, equal):
    a = _array(ary)
    if not a.shape:
        raise ValueError("split of a zero-dimensional array: the array must have at least one dimension")
    axis = _axis(axis, a.ndim)
    n = a.shape[axis]
    if isinstance(indices_or_sections, numbers.Integral):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        if equal and n % sections:
            raise ValueError("array split does not result in an equal division")
        each, extra = divmod(n, sections)
        bounds = onp.cumsum([0] + [each + 1] * extra + [each] * (sections - extra)).tolist()
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    return [_slice(a, axis, start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]


def split(ary, indices_or_sections, axis=0):
    """`ary` split along `axis` into equal sections (an int) or at the given indices (a sequence)."""
    return _split(ary, indices_or_sections, axis, equal=True)


def array_split(ary, indices_or_sections, axis=0):
    """As `split`, but `n` sections of an axis not divisible by `n` are allowed (the first ones one longer)."""
    return _split(ary, indices_or_sections, axis, equal=False)


def hsplit(ary, indices_or_sections):
    a = _array(ary)
    return split(a, indices_or_sections, axis=1 if a.ndim > 1 else 0)


def vsplit(ary, indices_or_sections):
    a = _array(ary)
    if a.ndim < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(a, indices_or_sections, axis=0)


def dsplit(ary, indices_or_sections):
    a = _array(ary)
    if a.ndim < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(a, indices_or_sections, axis=2)


# -- repeating --------------------------------------------------------------------------------------------------------
def tile(A, reps):  # noqa: N803 - NumPy's name
    """`A` repeated `reps` times along each axis (NumPy's promotion of `A` or `reps` with leading ones)."""
    a = _array(A)
    reps = (int(reps),) if isinstance(reps, numbers.Integral) else tuple(int(r) for r in reps)
    if any(r < 0 for r in reps):
        raise ValueError("negative dimensions are not allowed: reps=%s" % (reps,))
    ndim = max(a.ndim, len(reps))
    dims = (1,) * (ndim - a.ndim) + a.shape
    full = (1,) * (ndim - len(reps)) + reps
    shape = tuple(d * r for d, r in zip(dims, full))
    if not shape:
        return a.copy()
    if 0 in shape:
        return _empty(shape, a)
    return _np(_op("tile", reshape_to(a, dims), reps=full))


def repeat(a, repeats, axis=None):
    """Each element of `a` repeated `repeats` times (an int, or one count per element along `axis`)."""
    a = _array(a)
    if axis is None:
        a, axis = reshape_to(a, (-1,)), 0
    axis = _axis(axis, a.ndim)
    counts = onp.asarray(repeats.asnumpy() if isinstance(repeats, ndarray) else repeats)
    if counts.dtype.kind not in "iu" and not (counts.dtype.kind == "f" and onp.all(counts == onp.round(counts))):
        raise TypeError("repeats must be integers, got %s" % (repeats,))
    if (counts < 0).any():
        raise ValueError("repeat: negative dimensions are not allowed: repeats=%s" % (repeats,))
    if counts.size == 1:
        count = int(counts.reshape(()))
        shape = a.shape[:axis] + (a.shape[axis] * count,) + a.shape[axis + 1:]
        if 0 in shape:
            return _empty(shape, a)
        return _np(_op("repeat", a, repeats=count, axis=axis))
    if counts.shape != (a.shape[axis],):
        raise ValueError("operands could not be broadcast together with shape (%d,) (%d,)"
                         % (a.shape[axis], counts.size))
    return take(a, onp.repeat(onp.arange(a.shape[axis]), counts.astype(onp.int64)), axis=axis)


# -- flipping and rolling ---------------------------------------------------------------------------------------------
def flip(m, axis=None):
    """`m` with the order of elements reversed along `axis` (every axis by default)."""
    m = _array(m)
    axes = tuple(range(m.ndim)) if axis is None else tuple(_axes(axis, m.ndim))
    if not axes or m.size == 0:
        return m.copy()
    return _np(_op("reverse", m, axis=axes))


def fliplr(m):
    m = _array(m)
    if m.ndim < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(m, 1)


def flipud(m):
    m = _array(m)
    if m.ndim < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(m, 0)


def rot90(m, k=1, axes=(0, 1)):
    """`m` rotated by 90 degrees `k` times in the plane of `axes`, from the first towards the second."""
    m = _array(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    first, second = _axes(axes, m.ndim)
    if first == second:
        raise ValueError("Axes must be different.")
    k %= 4
    if k == 0:
        return m.copy()
    if k == 2:
        return flip(m, (first, second))
    order = list(range(m.ndim))
    order[first], order[second] = order[second], order[first]
    return flip(m, second).transpose(order) if k == 1 else flip(m.transpose(order), second)


def roll(a, shift, axis=None):
    """`a` with its elements shifted by `shift` along `axis` (of the flattened array without one), those
    leaving at one end coming back at the other."""
    a = _array(a)
    if axis is None:
        return reshape_to(roll(reshape_to(a, (-1,)), shift, 0), a.shape)
    shifts, axes = onp.broadcast_arrays(onp.asarray(shift), onp.asarray(axis))
    total = {}
    for s, ax in zip(shifts.reshape(-1), axes.reshape(-1)):
        ax = _axis(int(ax), a.ndim)
        total[ax] = total.get(ax, 0) + int(s)
    result = a
    for ax, s in total.items():
        n = result.shape[ax]
        if n and s % n:
            cut = n - s % n
            result = concatenate([_slice(result, ax, cut, n), _slice(result, ax, 0, cut)], axis=ax)
    return result if result is not a else a.copy()


# -- padding ----------------------------------------------------------------------------------------------------------
_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "maximum", "minimum")


def pad(x, pad_width=None, mode="constant", **kwargs):
    """`x` padded by `pad_width` ((before, after) per axis, or one pair or number for all) in MXNet's modes:
    'constant' (`constant_values`), 'edge', 'reflect', 'symmetric', 'maximum', 'minimum'."""
    x = _array(x)
    if mode not in _PAD_MODES:
        raise ValueError("mode %r is not supported by mx.np.pad; use one of %s" % (mode, ", ".join(_PAD_MODES)))
    constant = kwargs.pop("constant_values", 0)
    reflect_type = kwargs.pop("reflect_type", "even")
    if kwargs:
        raise TypeError("pad got unexpected arguments %s" % sorted(kwargs))
    if reflect_type != "even":
        raise ValueError("pad: only reflect_type='even' is supported")
    widths = onp.broadcast_to(onp.asarray(pad_width, dtype=onp.int64), (x.ndim, 2))
    if (widths < 0).any():
        raise ValueError("index can't contain negative values")
    for axis, (before, after) in enumerate(widths.tolist()):
        if before or after:
            x = _pad_axis(x, axis, before, after, mode, constant)
    return x


def _pad_axis(x, axis, before, after, mode, constant):
    n = x.shape[axis]
    if n == 0 and mode != "constant":
        raise ValueError("can't extend empty axis %d using modes other than 'constant' or 'empty'" % axis)
    if mode == "reflect" and n == 1:
        mode = "edge"       # NumPy's: reflecting a single element repeats it
    parts = []
    for width, at_start in ((before, True), (after, False)):
        if not width:
            parts.append(None)
            continue
        shape = x.shape[:axis] + (width,) + x.shape[axis + 1:]
        if mode == "constant":
            parts.append(_host(onp.full(shape, constant), x.dtype, x.context))
        elif mode == "edge":
            edge = _slice(x, axis, 0, 1) if at_start else _slice(x, axis, n - 1, n)
            parts.append(_repeat_to(edge, axis, width))
        elif mode in ("maximum", "minimum"):
            whole = x.max(axis=axis, keepdims=True) if mode == "maximum" else x.min(axis=axis, keepdims=True)
            parts.append(_repeat_to(whole, axis, width))
        else:
            parts.append(_reflection(x, axis, width, at_start, mode == "symmetric"))
    first, last = parts
    return concatenate([p for p in (first, x, last) if p is not None], axis=axis)


def _repeat_to(x, axis, width):
    return _np(_op("repeat", x, repeats=width, axis=axis))


def _reflection(x, axis, width, at_start, symmetric):
    """The `width` elements NumPy's 'reflect' (edge not repeated) or 'symmetric' (edge repeated) mode puts before
    (`at_start`) or after `x` along `axis`: indices of `x` from NumPy's own pad of an `arange`."""
    n = x.shape[axis]
    widths = (width, 0) if at_start else (0, width)
    positions = onp.pad(onp.arange(n), widths, mode="symmetric" if symmetric else "reflect")
    return take(x, positions[:width] if at_start else positions[n:], axis=axis)


# -- at least n dimensions, stacking ----------------------------------------------------------------------------------
def _atleast(arys, ndim):
    out = []
    for a in arys:
        a = _array(a)
        if a.ndim < ndim:
            if ndim == 3 and a.ndim == 2:
                a = reshape_to(a, a.shape + (1,))
            elif ndim == 3 and a.ndim == 1:
                a = reshape_to(a, (1,) + a.shape + (1,))
            else:
                a = reshape_to(a, (1,) * (ndim - a.ndim) + a.shape)
        out.append(a)
    return out[0] if len(out) == 1 else out


def atleast_1d(*arys):
    return _atleast(arys, 1)


def atleast_2d(*arys):
    return _atleast(arys, 2)


def atleast_3d(*arys):
    return _atleast(arys, 3)


def _listed(arrays):
    return list(arrays)     # an array is the sequence of its sub-arrays, as in NumPy and MXNet


def hstack(arrays):
    arrays = [atleast_1d(a) for a in _listed(arrays)]
    return concatenate(arrays, axis=0 if arrays and arrays[0].ndim == 1 else 1)


def vstack(arrays):
    return concatenate([atleast_2d(a) for a in _listed(arrays)], axis=0)


row_stack = vstack


def dstack(arrays):
    return concatenate([atleast_3d(a) for a in _listed(arrays)], axis=2)


def column_stack(tup):
    """1-D arrays as the columns of a 2-D array; 2-D arrays are stacked as they are (`hstack`)."""
    arrays = [_array(a) for a in _listed(tup)]
    return concatenate([reshape_to(a, (-1, 1)) if a.ndim < 2 else a for a in arrays], axis=1)


def broadcast_arrays(*args):
    """The arrays broadcast against each other to one shape."""
    arrays = [_array(a) for a in args]
    shape = onp.broadcast_shapes(*(a.shape for a in arrays))
    return [broadcast_to(a, shape) for a in arrays]


def meshgrid(*xi, indexing="xy", sparse=False, copy=True):
    """Coordinate arrays of the grid of the 1-D `xi` ('xy': the first two axes swapped, as for plots; 'ij':
    matrix indexing), each broadcast to the whole grid unless `sparse`."""
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    vectors = [reshape_to(_array(x), (-1,)) for x in xi]
    axes = list(range(len(vectors)))
    if indexing == "xy" and len(vectors) > 1:
        axes[0], axes[1] = 1, 0
    grids = [reshape_to(v, tuple(-1 if i == axis else 1 for i in range(len(vectors))))
             for v, axis in zip(vectors, axes)]
    if sparse:
        return grids
    shape = onp.broadcast_shapes(*(g.shape for g in grids))
    return [broadcast_to(g, shape) for g in grids]


def append(arr, values, axis=None):
    """`values` appended to `arr` along `axis` (both flattened without one)."""
    arr, values = _array(arr), _array(values)
    if axis is None:
        arr, values, axis = reshape_to(arr, (-1,)), reshape_to(values, (-1,)), 0
    return concatenate([arr, values.astype(arr.dtype, copy=False)], axis=axis)


def delete(arr, obj, axis=None):
    """`arr` without the entries `obj` (an index, slice or index list) along `axis` (of the flattened array
    without one)."""
    arr = _array(arr)
    if axis is None:
        arr, axis = reshape_to(arr, (-1,)), 0
    axis = _axis(axis, arr.ndim)
    n = arr.shape[axis]
    if isinstance(obj, (ndarray, onp.ndarray)) and obj.dtype.kind in "iu":
        # MXNet ignores the negative and out-of-bounds entries of an index array (a lone index must be in bounds)
        obj = obj.asnumpy() if isinstance(obj, ndarray) else obj
        obj = obj[(obj >= 0) & (obj < n)]
    elif isinstance(obj, ndarray):
        obj = obj.asnumpy()
    kept = onp.delete(onp.arange(n), obj)
    return take(arr, kept, axis=axis)


def insert(arr, obj, values, axis=None):
    """`values` inserted into `arr` before the indices `obj` along `axis` (of the flattened array without one).

    NumPy's own `insert` runs on element numbers (those of `arr`, then those of `values`), so its rules for
    broadcasting `values` and placing them hold; the result is one `take` of the numbered elements."""
    arr = _array(arr)
    values = _array(values, arr).astype(arr.dtype, copy=False)
    positions = onp.arange(arr.size).reshape(arr.shape)
    value_numbers = (arr.size + onp.arange(values.size)).reshape(values.shape)
    if isinstance(obj, ndarray):
        obj = obj.asnumpy()
    placed = onp.insert(positions, obj, value_numbers, axis=axis)
    pool = concatenate([reshape_to(arr, (-1,)), reshape_to(values, (-1,))])
    return reshape_to(take(pool, placed.reshape(-1)), placed.shape)


# -- diagonals and triangles ------------------------------------------------------------------------------------------
def diag(v, k=0):
    """The `k`-th diagonal of a 2-D `v`, or a 2-D array with the 1-D `v` on its `k`-th diagonal."""
    v = _array(v)
    if v.ndim not in (1, 2):
        raise ValueError("Input must be 1- or 2-d.")
    if v.ndim == 2:
        return diagonal(v, k)
    n = v.shape[0] + abs(k)
    if v.shape[0] == 0:     # an empty `v` off the main diagonal gives |k| x |k| zeros (recorded from `v`)
        return broadcast_to(reshape_to(sum(v, dtype=v.dtype), (1, 1)), (n, n)) if n else _empty((0, 0), v)
    return _np(_op("diag", v, k=k))


def diagflat(v, k=0):
    return diag(reshape_to(_array(v), (-1,)), k)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The `offset`-th diagonals in the planes of `axis1` and `axis2`, as the last axis of the result."""
    a = _array(a)
    # MXNetError (ParamError is a ValueError too), as MXNet's diagonal and trace ops raise
    if a.ndim < 2:
        raise ParamError("diag requires an array of at least two dimensions, got shape %s" % (a.shape,))
    for ax in (axis1, axis2):
        if not -a.ndim <= ax < a.ndim:
            raise ParamError("axis %d is out of bounds for array of dimension %d" % (ax, a.ndim))
    axis1, axis2 = _axis(axis1, a.ndim), _axis(axis2, a.ndim)
    if axis1 == axis2:
        raise ParamError("axis1 and axis2 cannot be the same (%d)" % axis1)
    rows, cols = a.shape[axis1], a.shape[axis2]
    length = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    shape = tuple(d for i, d in enumerate(a.shape) if i not in (axis1, axis2)) + (length,)
    if 0 in shape:
        return _empty(shape, a)
    return _np(_op("diag", a, k=offset, axis1=axis1, axis2=axis2))


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """The sums along the `offset`-th diagonals of `a`."""
    return sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def _triangle(m, k, lower):
    m = _array(m)
    if m.ndim == 0:
        raise ValueError("tril/triu: the input must have at least one dimension")
    if m.ndim == 1:     # NumPy's: a 1-D input is the row of a square matrix, repeated
        m = broadcast_to(m, (m.shape[0], m.shape[0]))
    rows, cols = m.shape[-2:]
    mask = onp.tri(rows, cols, k, dtype=bool) if lower else ~onp.tri(rows, cols, k - 1, dtype=bool)
    if m.size == 0:
        return m.copy()
    zero = _host(onp.zeros(()), m.dtype, m.context)
    return where(broadcast_to(_host(mask, onp.bool_, m.context), m.shape), m, zero)


def tril(m, k=0):
    """`m` with the elements above the `k`-th diagonal zeroed (for each matrix in its last two axes)."""
    return _triangle(m, k, lower=True)


def triu(m, k=0):
    """`m` with the elements below the `k`-th diagonal zeroed (for each matrix in its last two axes)."""
    return _triangle(m, k, lower=False)

