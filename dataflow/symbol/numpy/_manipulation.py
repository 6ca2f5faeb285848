"""`mx.sym.np`'s array manipulation: stacking, splitting, moving and rolling axes, flipping, padding, diagonals,
triangles, take / append / delete / insert, and the creation functions that build their own data (eye, linspace,
the cosine windows, indices) or index arithmetic (unravel_index).

A traced graph knows neither its inputs' ranks nor their lengths, so NumPy's rules that depend on them are built
from ops that decide when the graph runs: a rank raised to at least n is a broadcast against zeros of shape
(1,) * n (`_at_least`, padding on the left, as NumPy's `atleast_2d`), and padding on the right is the same between
two reversals of the axes (`atleast_3d`, `column_stack`); axes counted from one end move by reshaping the others
into one (`_permute_front`), and an axis counted from the back is flipped in the reversed axes (`_flip`).
Splits are MXNet's `_split_v2` / `_npi_hsplit` nodes, pads its `_npi_pad` and hstack its `_npi_hstack`, which
read the ranks and the lengths when the graph runs (unequal sections, empty pieces, one pad width for every
axis, vectors stacked along axis 0), and a roll takes its elements from their positions minus the shift, modulo
the length. What needs the rank or a length while tracing raises NotImplementedError naming the function and
parameter (axes counted from both ends at once). Some rules hold only for the usual case: the indices of
`delete`/`insert` past the end are clamped to it (NumPy raises).
"""
import numbers

import numpy as onp

from ..symbol import Symbol
from ._functions import _dtype, _ones_shaped_zeros, zeros
from ._symbol import _sym, concatenate, ravel, sum  # noqa: A004 - NumPy's name


# -- helpers ----------------------------------------------------------------------------------------------------------
def _at_least(x, ndim):
    """`x` with ones prepended to its shape up to `ndim` axes (NumPy's broadcasting rank rule)."""
    return _sym("broadcast_add", x, _ones_shaped_zeros(x, _sym("_zeros", shape=(1,) * ndim)))


def _reversed_axes(x):
    return _sym("transpose", x, axes=())


def _flip(x, axis):
    """`x` reversed along `axis`; an axis counted from the back is reversed in the reversed axes, where it counts
    from the front (the `reverse` op takes axes >= 0)."""
    if axis >= 0:
        return _sym("reverse", x, axis=(axis,))
    return _reversed_axes(_sym("reverse", _reversed_axes(x), axis=(-1 - axis,)))


def _ints(value, name, function):
    """`value` (an int or a sequence of ints) as a tuple of Python ints."""
    items = (value,) if isinstance(value, numbers.Integral) else tuple(value)
    if not all(isinstance(i, numbers.Integral) for i in items):
        raise TypeError("np.%s of a Symbol: %s must be integers, got %r" % (function, name, value))
    return tuple(int(i) for i in items)


def _constant(values, dtype):
    """A node holding the (small) host array `values`: one `_full` per element, joined and reshaped."""
    values = onp.asarray(values)
    elements = [_sym("_full", shape=(1,), value=float(v), dtype=_dtype(dtype)) for v in values.reshape(-1)]
    flat = elements[0] if len(elements) == 1 else _sym("Concat", *elements, dim=0, num_args=len(elements))
    return _sym("Reshape", flat, shape=values.shape or (1,))


def _slice(x, axis, begin, end):
    """x[begin:end] along `axis`, by Python's rules (the range may be empty or reach past either end); an axis
    counted from the back is sliced in the reversed axes, where it counts from the front."""
    if axis < 0:
        return _reversed_axes(_slice(_reversed_axes(x), -1 - axis, begin, end))
    return _sym("slice", x, begin=(None,) * axis + (begin,), end=(None,) * axis + (end,))


def _filled_edge(x, axis, value):
    """`value` in a block of `x`'s shape with length 1 along `axis` (zeros from a sum over `axis`, which has length
    1 there also where `x` is empty)."""
    zeros = _sym("sum", _sym("zeros_like", x), axis=(axis,), keepdims=True)
    return _sym("_plus_scalar", zeros, scalar=value, is_int=isinstance(value, numbers.Integral))


# -- at least n axes, stacking ----------------------------------------------------------------------------------------
def _each(arys, transform):
    out = [transform(a) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_1d(*arys):
    return _each(arys, lambda a: _at_least(a, 1))


def atleast_2d(*arys):
    return _each(arys, lambda a: _at_least(a, 2))


def _atleast_3d(a):
    """NumPy's rule: (N,) -> (1, N, 1), (M, N) -> (M, N, 1): ones on the left up to two axes, then on the right."""
    return _reversed_axes(_at_least(_reversed_axes(_at_least(a, 2)), 3))


def atleast_3d(*arys):
    return _each(arys, _atleast_3d)


def _listed(arrays):
    return [arrays] if isinstance(arrays, Symbol) else list(arrays)


def vstack(arrays, out=None):
    return concatenate([_at_least(a, 2) for a in _listed(arrays)], axis=0)


row_stack = vstack


def dstack(arrays):
    return concatenate([_atleast_3d(a) for a in _listed(arrays)], axis=2)


def hstack(arrays):
    """Operands joined along axis 1, or along axis 0 when they are vectors or numbers (NumPy's rule: the
    `_npi_hstack` node reads the ranks when the graph runs)."""
    arrays = _listed(arrays)
    return _sym("_npi_hstack", *arrays, num_args=len(arrays))


def column_stack(tup):
    """1-D operands as columns (N,) -> (N, 1), others as they are, joined along axis 1."""
    return concatenate([_reversed_axes(_at_least(_reversed_axes(a), 2)) for a in _listed(tup)], axis=1)


# -- splitting --------------------------------------------------------------------------------------------------------
def _split(ary, indices_or_sections, axis):
    from ._symbol import split
    return split(ary, indices_or_sections, axis)


def array_split(ary, indices_or_sections, axis=0):
    """`ary` cut at the given points along `axis`, or into a number of sections whose lengths differ by at most
    one (the longer first); pieces may be empty."""
    if isinstance(indices_or_sections, numbers.Integral):
        if indices_or_sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        return list(_sym("_split_v2", ary, indices=(), axis=axis, squeeze_axis=False,
                         sections=int(indices_or_sections)))
    return _split(ary, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
    """Split along NumPy's hsplit axis, 1 (0 for a 1-D `ary`: the `_npi_hsplit` op reads the rank when it runs)."""
    if isinstance(indices_or_sections, numbers.Integral):
        points, sections = (), int(indices_or_sections)
    else:
        points, sections = (0,) + tuple(int(i) for i in indices_or_sections), 0
    return list(_sym("_npi_hsplit", ary, indices=points, axis=1, squeeze_axis=False, sections=sections))


def vsplit(ary, indices_or_sections):
    return _split(ary, indices_or_sections, 0)


def dsplit(ary, indices_or_sections):
    return _split(ary, indices_or_sections, 2)


# -- moving axes ------------------------------------------------------------------------------------------------------
def _permute_front(x, order):
    """`x` with its first len(order) axes permuted by `order`, the others kept: those are merged into one for a
    `transpose` of known rank, and restored from `x`'s shape."""
    count = len(order)
    merged = _sym("Reshape", x, shape=(0,) * count + (-1,))
    moved = _sym("transpose", merged, axes=tuple(order) + (count,))
    return _sym("reshape_like", moved, x, lhs_begin=count, lhs_end=None, rhs_begin=count, rhs_end=None)


def moveaxis(a, source, destination):
    """`a` with the axes `source` at the positions `destination`, the others in their order. The axes must all
    count from the front (>= 0) or all from the back (< 0): the rank is unknown while tracing."""
    source = _ints(source, "source", "moveaxis")
    destination = _ints(destination, "destination", "moveaxis")
    if len(source) != len(destination):
        raise ValueError("`source` and `destination` arguments must have the same number of elements")
    if len(set(source)) != len(source) or len(set(destination)) != len(destination):
        raise ValueError("repeated axis in `source` or `destination` argument")
    axes = source + destination
    if not axes:            # nothing moves
        return a
    if all(axis >= 0 for axis in axes):
        count = onp.max(axes) + 1
        order = [n for n in range(count) if n not in source]
        for dest, src in sorted(zip(destination, source)):
            order.insert(dest, src)
        return _permute_front(a, order)
    if all(axis < 0 for axis in axes):      # the same move, counted from the front, of the reversed axes
        flipped = moveaxis(_reversed_axes(a), [-1 - s for s in source], [-1 - d for d in destination])
        return _reversed_axes(flipped)
    raise NotImplementedError("np.moveaxis of a Symbol: source %s and destination %s count axes from both ends; "
                              "the rank is unknown while tracing" % (source, destination))


# -- flipping and rolling ---------------------------------------------------------------------------------------------
def fliplr(m):
    return _sym("reverse", m, axis=(1,))


def flipud(m):
    return _sym("reverse", m, axis=(0,))


def rot90(m, k=1, axes=(0, 1)):
    """`m` rotated by 90 degrees `k` times in the plane of `axes`, from the first towards the second."""
    first, second = _ints(axes, "axes", "rot90") if len(tuple(axes)) == 2 else (None, None)
    if first is None:
        raise ValueError("len(axes) must be 2.")
    if first == second:
        raise ValueError("Axes must be different.")
    k %= 4
    if k == 0:
        return _sym("_copy", m)
    if k == 2:
        return _flip(_flip(m, first), second)
    if k == 1:
        return _sym("SwapAxis", _flip(m, second), dim1=first, dim2=second)
    return _flip(_sym("SwapAxis", m, dim1=first, dim2=second), second)


def roll(a, shift, axis=None):
    """`a` shifted by `shift` along `axis` (of the flattened `a` without one), the elements leaving one end coming
    back at the other: element i is taken from i - shift, modulo the axis's length (`take` in mode 'wrap', as the
    length is unknown while tracing)."""
    if axis is None:
        return _sym("reshape_like", roll(ravel(a), shift, 0), a)
    shifts, axes = onp.broadcast_arrays(onp.asarray(shift), onp.asarray(axis))
    total = {}
    for s, ax in zip(shifts.reshape(-1).tolist(), axes.reshape(-1).tolist()):
        total[int(ax)] = total.get(int(ax), 0) + int(s)
    result = a
    for ax, s in total.items():
        if s:
            indices = _sym("_contrib_arange_like", _sym("Cast", result, dtype="float64"), axis=ax)   # exact
            positions = _sym("_plus_scalar", indices, scalar=float(-s), is_int=False)
            result = _sym("take", result, positions, axis=ax, mode="wrap")
    return result if result is not a else _sym("_copy", a)


# -- padding ----------------------------------------------------------------------------------------------------------
_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "maximum", "minimum")


def pad(x, pad_width=None, mode="constant", **kwargs):
    """`x` padded by `pad_width` (a number or a (before, after) pair for every axis, or one pair per axis) in NumPy's
    modes 'constant' (`constant_values`), 'edge', 'reflect', 'symmetric', 'maximum', 'minimum': an `_npi_pad` node,
    which reads the rank when the graph runs."""
    if mode not in _PAD_MODES:
        raise ValueError("mode %r is not supported by mx.np.pad; use one of %s" % (mode, ", ".join(_PAD_MODES)))
    constant = kwargs.pop("constant_values", 0)
    if kwargs.pop("reflect_type", "even") != "even":
        raise ValueError("pad: only reflect_type='even' is supported")
    if kwargs:
        raise TypeError("pad got unexpected arguments %s" % sorted(kwargs))
    widths = onp.asarray(pad_width, dtype=onp.int64)
    if widths.ndim > 2 or widths.shape[-1:] not in ((), (1,), (2,)) or (widths.ndim == 2 and widths.shape[1] != 2):
        raise ValueError("pad_width=%r must be a number, a (before, after) pair or one pair per axis" % (pad_width,))
    if (widths < 0).any():
        raise ValueError("index can't contain negative values")
    pairs = onp.broadcast_to(widths, (1, 2)) if widths.ndim < 2 else widths
    return _sym("_npi_pad", x, pad_width=tuple(map(tuple, pairs.tolist())), mode=mode, constant_value=float(constant),
                reflect_type="even")


# -- diagonals and triangles ------------------------------------------------------------------------------------------
def diag(v, k=0):
    """The `k`-th diagonal of a 2-D `v` (empty off the matrix), or a 2-D array with the 1-D `v` on its `k`-th
    diagonal."""
    return _sym("_npi_diag", v, k=k)


def diagflat(v, k=0):
    return _sym("_npi_diag", ravel(v), k=k)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The `offset`-th diagonals in the planes of `axis1` and `axis2`, as the last axis of the result (empty off
    the matrices)."""
    return _sym("_npi_diagonal", a, offset=offset, axis1=axis1, axis2=axis2)


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    return sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def tril(m, k=0):
    """`m` with the elements above the `k`-th diagonal of each matrix in its last two axes zeroed (a 1-D `m`
    repeated in every row of a square first, as NumPy broadcasts it)."""
    return _sym("_npi_tril", m, k=k)


def triu(m, k=0):
    return _sym("_npi_triu", m, k=k)


# -- take, append, delete, insert -------------------------------------------------------------------------------------
def take(a, indices, axis=None, mode="raise", out=None):
    """Elements of `a` at `indices` (a Symbol, an int or a list of ints) along `axis` (of the flattened `a` without
    one), in NumPy's modes 'raise', 'wrap' and 'clip'. Constant negative indices count from the end (below -n they
    wrap, as the length is unknown while tracing); a Symbol of indices in mode 'raise' must hold them >= 0."""
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError("clipmode must be one of 'clip', 'raise', or 'wrap', got %r" % (mode,))
    if axis is None:
        a, axis = ravel(a), 0
    if isinstance(indices, Symbol):
        return _sym("take", a, indices, axis=axis, mode=mode)
    positions = onp.asarray(indices)
    if mode == "raise" and positions.size and positions.min() < 0:
        mode = "wrap"       # NumPy's negative indices; the axis's length, to check them against, is unknown
    picked = _sym("take", a, _constant(positions.reshape(-1), "int64"), axis=axis, mode=mode)
    if positions.ndim == 0:
        return _sym("squeeze", picked, axis=(axis,))
    if positions.ndim == 1:
        return picked
    # the taken axis, of len(positions) entries, in the shape of the index array
    return _sym("reshape_like", picked, _constant(positions, "int64"), lhs_begin=axis, lhs_end=(axis + 1) or None,
                rhs_begin=0, rhs_end=None)


def append(arr, values, axis=None):
    """`values` appended to `arr` along `axis` (both flattened without one)."""
    if axis is None:
        arr, values, axis = ravel(arr), ravel(values), 0
    return concatenate([arr, values], axis=axis)


def delete(arr, obj, axis=None):
    """`arr` without the entries `obj` (an int, or ints all >= 0 or all < 0) along `axis` (of the flattened `arr`
    without one): the slices between them joined."""
    if axis is None:
        arr, axis = ravel(arr), 0
    if isinstance(obj, (slice, Symbol)):
        raise NotImplementedError("np.delete of a Symbol: obj must be ints, got %s" % type(obj).__name__)
    removed = sorted(set(_ints(obj, "obj", "delete")))
    if removed and removed[0] < 0 <= removed[-1]:
        raise NotImplementedError("np.delete of a Symbol: obj %s mixes indices from both ends; the axis's length "
                                  "is unknown while tracing" % (removed,))
    kept = []
    for i, (begin, end) in enumerate(zip([0] + [r + 1 for r in removed], removed + [None])):
        if i and begin == 0:
            continue        # after index -1: nothing
        if end is not None and (begin < 0) == (end < 0) and begin >= end:
            continue        # nothing before index 0, or between neighbouring indices
        kept.append(_slice(arr, axis, begin, end))
    if not kept:
        return _sym("_copy", arr)
    return concatenate(kept, axis=axis) if len(kept) > 1 else kept[0]


def insert(arr, obj, values, axis=None):
    """`values` inserted into `arr` before index `obj` (an int) along `axis`: a number (filling a slice) along any
    axis, or a Symbol of values into the flattened `arr` (axis None)."""
    if not isinstance(obj, numbers.Integral) or isinstance(obj, bool):
        raise NotImplementedError("np.insert of a Symbol: obj must be one int, got %r" % (obj,))
    if axis is None:
        arr, axis = ravel(arr), 0
        if isinstance(values, Symbol):
            values = ravel(values)
    elif isinstance(values, Symbol):
        raise NotImplementedError("np.insert of a Symbol: Symbol values need axis=None")
    if not isinstance(values, Symbol):
        if not isinstance(values, (numbers.Number, onp.number)):
            raise NotImplementedError("np.insert of a Symbol: values must be a number or a Symbol, got %r"
                                      % (values,))
        values = _filled_edge(arr, axis, values)
    if obj == 0:
        return concatenate([values, arr], axis=axis)
    return concatenate([_slice(arr, axis, 0, obj), values, _slice(arr, axis, obj, None)], axis=axis)


# -- creation ---------------------------------------------------------------------------------------------------------
def eye(N, M=None, k=0, dtype=float, ctx=None, **kwargs):  # noqa: N803 - NumPy's names
    """Ones on the `k`-th diagonal of an N x M (N x N) matrix. An empty one is zeros: `_eye` reads M=0 as M=N."""
    dtype = onp.float32 if dtype is float else dtype
    if M == 0 or (N == 0 and M is not None and M >= 0):
        return zeros((N, M), dtype)
    return _sym("_eye", N=N, M=0 if M is None else M, k=k, dtype=_dtype(dtype))


def identity(n, dtype=None, ctx=None):
    return eye(n, dtype=dtype)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, ctx=None):
    """`num` evenly spaced samples over [start, stop] (without stop unless `endpoint`); with `retstep`, also the
    spacing (a number)."""
    if axis != 0:
        raise NotImplementedError("np.linspace of Symbols: axis=%r (only 0 is supported)" % (axis,))
    samples = _sym("_linspace", start=float(start), stop=float(stop), num=int(num), endpoint=endpoint,
                   dtype=_dtype(dtype))
    if not retstep:
        return samples
    step = (stop - start) / ((num - 1) if endpoint else num) if num > int(endpoint) else float("nan")
    return samples, step


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0, ctx=None):
    """`base` to the powers of `linspace(start, stop, num, endpoint)`."""
    exponents = linspace(start, stop, num, endpoint, axis=axis, dtype="float64")
    return _sym("Cast", _sym("_rpower_scalar", exponents, scalar=float(base), is_int=False), dtype=_dtype(dtype))


def _window(M, terms, dtype):
    """sum(c * cos(k * 2 pi n / (M - 1)) for (c, k) in terms) over n = 0 .. M-1 (NumPy's cosine windows)."""
    if M < 1:
        return zeros((0,), dtype)
    if M == 1:
        return _sym("_ones", shape=(1,), dtype=_dtype(dtype))
    n = _sym("_arange", start=0, stop=M, step=1, dtype="float64")
    window = None
    for coefficient, k in terms:
        term = _sym("_mul_scalar", _sym("cos", _sym("_mul_scalar", n, scalar=2.0 * onp.pi * k / (M - 1),
                                                    is_int=False)), scalar=coefficient, is_int=False)
        window = term if window is None else _sym("broadcast_add", window, term)
    return _sym("Cast", window, dtype=_dtype(dtype))


def hanning(M, dtype=None, ctx=None):  # noqa: N803 - NumPy's name
    return _window(M, ((0.5, 0), (-0.5, 1)), dtype)


def hamming(M, dtype=None, ctx=None):  # noqa: N803 - NumPy's name
    return _window(M, ((0.54, 0), (-0.46, 1)), dtype)


def blackman(M, dtype=None, ctx=None):  # noqa: N803 - NumPy's name
    return _window(M, ((0.42, 0), (-0.5, 1), (0.08, 2)), dtype)


def indices(dimensions, dtype="int32", ctx=None):
    """The index grid of shape `dimensions`: one array per axis, stacked along a new first axis."""
    from ._functions import broadcast_to
    dimensions = _ints(dimensions, "dimensions", "indices")
    if 0 in dimensions:         # an empty grid (`_arange` refuses an empty range)
        return zeros((len(dimensions),) + tuple(dimensions), dtype)
    grids = []
    for axis, size in enumerate(dimensions):
        line = _sym("_arange", start=0, stop=size, step=1, dtype=_dtype(dtype))
        shape = tuple(size if i == axis else 1 for i in range(len(dimensions)))
        grids.append(broadcast_to(_sym("Reshape", line, shape=shape), dimensions))
    return _sym("stack", *grids, axis=0, num_args=len(grids))


def unravel_index(indices, shape, order="C"):
    """The coordinates in an array of `shape` of the flat `indices` (a Symbol of non-negative integers), one per
    axis (a tuple, as mx.np's)."""
    if order not in ("C", "F"):
        raise ValueError("only 'C' or 'F' order is permitted")
    shape = _ints(shape, "shape", "unravel_index")
    axes = list(range(len(shape)))
    coordinates, rest = {}, indices
    for axis in reversed(axes) if order == "C" else axes:
        coordinates[axis] = _sym("_mod_scalar", rest, scalar=shape[axis], is_int=True)
        rest = _sym("_div_scalar", _sym("broadcast_sub", rest, coordinates[axis]), scalar=shape[axis], is_int=True)
    return tuple(coordinates[axis] for axis in axes)


def empty_like(prototype, dtype=None, order="C", subok=False, shape=None):
    """An array of `prototype`'s shape (and dtype unless given); its values are zeros here."""
    out = _sym("zeros_like", prototype)
    return out if dtype is None else _sym("Cast", out, dtype=_dtype(dtype))


def copy(a):
    return _sym("_copy", a)


# the package exports this module's own public functions
__all__ = [name for name, value in globals().items()
           if not name.startswith("_") and getattr(value, "__module__", None) == __name__]
