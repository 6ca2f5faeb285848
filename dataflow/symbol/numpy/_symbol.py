"""`_Symbol`, the Symbol with NumPy's semantics a numpy-mode block is traced with: its operators, indexing,
reductions and shape functions (the functions its methods call); the package's docstring says what a graph
cannot do that an array can."""
import numbers

import numpy as onp

from ops import registry

from ...ndarray.ndarray import _ARITHMETIC
from ...numpy import _op_names
from ..symbol import Symbol, create


_NUMBER = (numbers.Number, onp.number, onp.bool_)
_OPERATORS = {dunder: ops for dunder, *ops in _ARITHMETIC}      # dunder -> (array op, scalar op, reflected op)
_SWAPPED = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq", "ne": "ne"}    # `2 < x` is `x > 2`
_COMPARISONS = frozenset(_SWAPPED)


def _sym(op_name, *inputs, **params):
    """A node of registry op `op_name` on Symbols `inputs`, as a `_Symbol`."""
    return _Symbol(create(registry.get(op_name), op_name, inputs, params)._outputs)


def as_np_symbol(x):
    """`x` (a Symbol) as a `_Symbol` over the same outputs."""
    return x if type(x) is _Symbol else _Symbol(x._outputs)


def _binary(dunder, a, b, reflected=False, function=False):
    """`a ∘ b` (`b ∘ a` when `reflected`) with NumPy broadcasting; `a` is a Symbol. `function`: called as
    `F.np.add(2, x)` rather than `2 + x`, whose dtypes differ in MXNet (Note [a number with an array])."""
    array_op, scalar_op, rscalar_op = _OPERATORS[dunder]
    if isinstance(b, Symbol):
        lhs, rhs = (b, a) if reflected else (a, b)
        if dunder in _COMPARISONS:
            return _sym(_op_names.NUMPY_COMPARISONS[dunder], lhs, rhs)
        out = _sym(_op_names.NUMPY_ARITHMETIC.get(dunder, array_op), lhs, rhs)
    elif isinstance(b, _NUMBER):
        if reflected and rscalar_op is None:
            return _binary(_SWAPPED[dunder], a, b)
        scalar = int(b) if isinstance(b, (bool, onp.bool_)) else b
        if dunder == "truediv":
            op_name = "_npi_rtrue_divide_scalar" if reflected else "_npi_true_divide_scalar"
            return _sym(op_name, a, scalar=scalar, is_int=isinstance(scalar, numbers.Integral))
        is_int = isinstance(scalar, numbers.Integral) and (not reflected or (dunder == "add" and not function))
        out = _sym(rscalar_op if reflected else scalar_op, a, scalar=scalar, is_int=is_int)
    else:
        return NotImplemented
    return _sym("Cast", out, dtype="bool") if dunder in _COMPARISONS else out


# Note [a number with an array]
# Arithmetic of two arrays runs MXNet's numpy ops (`_npi_add` ..., ops/numpy_ops.py), whose dtype rule promotes
# mixed dtypes when the graph is bound. With a number, MXNet 1.9.1 runs its scalar ops (the registry's
# `_plus_scalar` ...: an integer array stays integer with an integer number, becomes float64 with a float one,
# bool becomes int64), and flags an integer number as such only for `x op n` and `n + x`: `n * x`, `n - x` ...
# and `F.np.add(n, x)` treat it as a float (float64 for an integer array). True division gives float32 for an
# integer array (`_npi_true_divide_scalar`). All recorded in tests/fixtures/mxnet-1.9.1/np_sem/promotion.json.


def _axis_param(axis):
    return () if axis is None else ((axis,) if isinstance(axis, numbers.Integral) else tuple(axis))


class _Symbol(Symbol):
    """A Symbol with NumPy's semantics (MXNet's `mxnet.symbol.numpy._Symbol`): operators broadcast, `reshape`,
    `sum`, `T`, indexing ... are NumPy's. `as_nd_ndarray()` gives the legacy Symbol."""
    __slots__ = ()
    __array_priority__ = 1000.0     # NumPy defers `onp_array + x` to us; front ends take it as an input

    def as_nd_ndarray(self):
        return Symbol(self._outputs)

    def as_np_ndarray(self):
        return self

    def __iter__(self):
        return (_Symbol([e]) for e in self._outputs)

    def __getitem__(self, key):
        """An output of a group (by position or name); else NumPy's basic indexing of the one output."""
        if len(self._outputs) != 1 or isinstance(key, str):
            return as_np_symbol(Symbol.__getitem__(self, key))
        return _index(self, key)

    # -- shape ---------------------------------------------------------------------------------------------------
    def reshape(self, *shape, **kwargs):
        return reshape(self, shape[0] if len(shape) == 1 else shape, order=kwargs.pop("order", "C"))

    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (list, tuple))):
            axes = axes[0]
        return transpose(self, axes or None)

    @property
    def T(self):
        return transpose(self)

    def flatten(self, order="C"):
        return ravel(self)

    def expand_dims(self, axis):
        return expand_dims(self, axis)

    def squeeze(self, axis=None):
        return squeeze(self, axis)

    def astype(self, dtype, copy=True):
        return _sym("Cast", self, dtype=registry.dtype_name(dtype))

    # -- reductions -----------------------------------------------------------------------------------------------
    def sum(self, axis=None, dtype=None, out=None, keepdims=False):
        return sum(self, axis, dtype, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False):
        return mean(self, axis, dtype, keepdims=keepdims)

    def max(self, axis=None, out=None, keepdims=False):
        return max(self, axis, keepdims=keepdims)

    def min(self, axis=None, out=None, keepdims=False):
        return min(self, axis, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False):
        return prod(self, axis, dtype, keepdims=keepdims)

    def argmax(self, axis=None, out=None):
        return argmax(self, axis)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        from ._math import var
        return var(self, axis, dtype, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        from ._math import std
        return std(self, axis, dtype, ddof=ddof, keepdims=keepdims)

    def clip(self, min=None, max=None, out=None):  # noqa: A002 - NumPy's names
        from ._functions import clip
        return clip(self, min, max)

    def cumsum(self, axis=None, dtype=None, out=None):
        from ._math import cumsum
        return cumsum(self, axis, dtype)

    def dot(self, b, out=None):
        from ._functions import dot
        return dot(self, b)

    def argmin(self, axis=None, out=None):
        return argmin(self, axis)

    # -- arithmetic ----------------------------------------------------------------------------------------------
    def __neg__(self):
        return _sym("negative", self)

    def __abs__(self):
        return _sym("abs", self)

    __hash__ = Symbol.__hash__


def _install_operators():
    for dunder, (_, _, rscalar_op) in _OPERATORS.items():
        def forward(self, other, _dunder=dunder):
            return _binary(_dunder, self, other)

        def reflected(self, other, _dunder=dunder):
            return _binary(_dunder, self, other, reflected=True)
        forward.__name__, reflected.__name__ = "__%s__" % dunder, "__r%s__" % dunder
        setattr(_Symbol, forward.__name__, forward)
        if rscalar_op is not None:
            setattr(_Symbol, reflected.__name__, reflected)
    _Symbol.__div__, _Symbol.__rdiv__ = _Symbol.__truediv__, _Symbol.__rtruediv__


_install_operators()


def _index(x, key):
    """NumPy's basic indexing as a `slice` node, a `squeeze` of the integer-indexed axes and an `expand_dims` per
    None. An Ellipsis stands for the axes no other part names: the parts after it are counted from the end."""
    key = list(key) if isinstance(key, tuple) else [key]
    if key.count(Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if Ellipsis in key:
        cut = key.index(Ellipsis)
        head, tail = key[:cut], key[cut + 1:]
        if any(part is None for part in tail) or not tail:
            if tail:
                raise NotImplementedError("indexing a numpy-mode Symbol: None after an Ellipsis is not supported")
            return _index(x, tuple(head)) if head else x
        # the tail's axes, counted from the end, sliced before the head (whose axes count from the front)
        x = _index_tail(x, tail)
        key = head
    return _index_head(x, key)


def _parts(key):
    """(begin, end, step, integer-indexed positions) of the integers and slices of `key`, one per axis."""
    begin, end, step, dropped = [], [], [], []
    for position, part in enumerate(key):
        if isinstance(part, numbers.Integral):
            begin.append(int(part))
            end.append(int(part) + 1 if part != -1 else None)
            step.append(None)
            dropped.append(position)
        elif isinstance(part, slice):
            begin.append(part.start)
            end.append(part.stop)
            step.append(part.step)
        else:
            raise NotImplementedError("indexing a numpy-mode Symbol supports integers, slices, None and one "
                                      "Ellipsis, got %r" % (part,))
    return begin, end, step, dropped


def _index_head(x, key):
    new_axes = [position for position, part in enumerate(key) if part is None]
    begin, end, step, dropped = _parts([part for part in key if part is not None])
    out = _sym("slice", x, begin=tuple(begin), end=tuple(end), step=tuple(step)) if begin else x
    if dropped:
        out = _sym("_np_squeeze", out, axis=tuple(dropped))
    for position in new_axes:       # its axis: the slices and Nones before it (in order, so earlier Nones are in)
        axis = len([part for part in key[:position] if not isinstance(part, numbers.Integral)])
        out = _sym("expand_dims", out, axis=axis)
    return out


def _index_tail(x, tail):
    begin, end, step, dropped = _parts(tail)
    out = x
    for offset, (b, e, s) in enumerate(zip(begin, end, step)):
        axis = offset - len(tail)
        if s not in (None, 1):
            raise NotImplementedError("indexing a numpy-mode Symbol: a step after an Ellipsis is not supported")
        if (b, e) != (None, None):
            out = _sym("slice_axis", out, axis=axis, begin=0 if b is None else b, end=e)
    if dropped:
        out = _sym("_np_squeeze", out, axis=tuple(position - len(tail) for position in dropped))
    return out



# -- reductions -------------------------------------------------------------------------------------------------------
def _reduce(name, a, axis, keepdims, dtype=None):
    """The numpy-mode reduction op `name` runs; `dtype` is its parameter, so the op computes in a dtype wide enough
    for both (a float16 sum in float32) and the gradient reaches `a`."""
    params = {} if dtype is None else {"dtype": registry.dtype_name(dtype)}
    return _sym(_op_names.REDUCTIONS[name], a, axis=None if axis is None else _axis_param(axis), keepdims=keepdims,
                **params)


def sum(a, axis=None, dtype=None, out=None, keepdims=False):  # noqa: A001 - NumPy's name
    return _reduce("sum", a, axis, keepdims, dtype)


def mean(a, axis=None, dtype=None, out=None, keepdims=False):
    return _reduce("mean", a, axis, keepdims, dtype)


def max(a, axis=None, out=None, keepdims=False):  # noqa: A001 - NumPy's name
    return _reduce("max", a, axis, keepdims)


def min(a, axis=None, out=None, keepdims=False):  # noqa: A001 - NumPy's name
    return _reduce("min", a, axis, keepdims)


def prod(a, axis=None, dtype=None, out=None, keepdims=False):
    return _reduce("prod", a, axis, keepdims, dtype)


amax, amin = max, min


def argmax(a, axis=None, out=None):
    return _sym("_npi_argmax", a, axis=axis)


def argmin(a, axis=None, out=None):
    return _sym("_npi_argmin", a, axis=axis)


# -- shape ------------------------------------------------------------------------------------------------------------
def reshape(a, newshape, order="C"):
    """NumPy's reshape (one -1 inferred) as an `_np_reshape` node. As on arrays, the legacy op's special values (0
    copies a dimension, -2 ... -4) are taken too, for legacy code (Gluon's layers and losses) traced in numpy mode;
    but a zero-size input reads a 0 as a length, as NumPy (the node decides when the input's shape is known)."""
    if order != "C":
        raise NotImplementedError("reshape: only order='C' is supported")
    return _sym("_np_reshape", a, newshape=(newshape,) if isinstance(newshape, numbers.Integral) else tuple(newshape))


def ravel(a, order="C"):
    return reshape(a, (-1,), order)


def transpose(a, axes=None):
    """`a` with its axes permuted; `axes` names every axis, so their count is the rank and a negative one (counted
    from the back) is made positive here: the legacy `transpose` op refuses those."""
    if axes is None:
        return _sym("transpose", a, axes=())
    axes = tuple(axes)
    return _sym("transpose", a, axes=tuple(axis + len(axes) if axis < 0 else axis for axis in axes))


def expand_dims(a, axis):
    return _sym("expand_dims", a, axis=axis)


def squeeze(a, axis=None):
    return _sym("_np_squeeze", a, **({} if axis is None else {"axis": _axis_param(axis)}))


def concatenate(seq, axis=0, out=None):
    seq = list(seq)
    if axis is None:
        seq, axis = [ravel(s) for s in seq], 0
    return _sym("_npi_concatenate", *seq, axis=axis, num_args=len(seq))


def stack(arrays, axis=0, out=None):
    arrays = list(arrays)
    return _sym("stack", *arrays, axis=axis, num_args=len(arrays))


def swapaxes(a, axis1, axis2):
    return _sym("SwapAxis", a, dim1=axis1, dim2=axis2)


def split(ary, indices_or_sections, axis=0):
    """`ary` split along `axis` (a list of Symbols) into a number of equal sections, or at the given points (rising,
    in [0, length]; pieces may be empty)."""
    if isinstance(indices_or_sections, numbers.Integral):
        return list(_sym("SliceChannel", ary, num_outputs=int(indices_or_sections), axis=axis, squeeze_axis=False))
    points = (0,) + tuple(int(i) for i in indices_or_sections)
    return list(_sym("_split_v2", ary, indices=points, axis=axis, squeeze_axis=False, sections=0))


def tile(A, reps):  # noqa: N803 - NumPy's name
    return _sym("_npi_tile", A, reps=(reps,) if isinstance(reps, numbers.Integral) else tuple(reps))


def repeat(a, repeats, axis=None):
    return _sym("repeat", a, repeats=repeats, **({} if axis is None else {"axis": axis}))


def flip(m, axis=None):
    """`m` reversed along `axis`; along every axis (the rank unknown while tracing) is the flattened `m` reversed."""
    if axis is None:
        return _sym("reshape_like", _sym("reverse", ravel(m), axis=(0,)), m)
    return _sym("reverse", m, axis=_axis_param(axis))


def _sort_options(function, order):
    """As MXNet's, `kind` (any string) is accepted and has no effect: one algorithm serves every kind; `order`
    names fields of structured arrays, which MXNet has not."""
    if order is not None:
        raise NotImplementedError("%s: order is not supported (MXNet has no structured arrays)" % function)


def sort(a, axis=-1, kind=None, order=None):
    """`a` sorted along `axis`; axis None sorts the flattened `a` (a zero-dim one too)."""
    _sort_options("np.sort", order)
    return _sym("sort", a, axis=axis) if axis is not None else _sym("sort", ravel(a), axis=0)


def argsort(a, axis=-1, kind=None, order=None):
    _sort_options("np.argsort", order)
    return _sym("argsort", a if axis is not None else ravel(a), axis=0 if axis is None else axis, dtype="int64")


def resize(a, new_shape):
    """NumPy's resize: `a` flattened, repeated as often as needed, cut to `new_shape`'s size and shaped so; zeros
    for an empty `a`. Built as a `take` from `a` flattened with one zero appended, at positions 0 .. size-1 modulo
    max(len, 1): an empty `a` takes the zero (`a`'s length is known only when the graph runs)."""
    new_shape = (new_shape,) if isinstance(new_shape, numbers.Integral) else tuple(new_shape)
    if any(d < 0 for d in new_shape):
        raise ValueError("all elements of `new_shape` must be non-negative")
    flat = ravel(a)
    zero = _sym("sum", _sym("zeros_like", flat), axis=0, keepdims=True)             # (1,), in a's dtype
    padded = _sym("_npi_concatenate", flat, zero, axis=0, num_args=2)
    length = _sym("sum", _sym("ones_like", _sym("Cast", flat, dtype="int64")), axis=0, keepdims=True)
    positions = _sym("_arange", start=0, stop=int(onp.prod(new_shape)), dtype="int64")
    wrapped = _sym("broadcast_mod", positions, _sym("_maximum_scalar", length, scalar=1, is_int=True))
    out = _sym("take", padded, wrapped, axis=0, mode="clip")
    return _sym("_np_squeeze", out, axis=(0,)) if not new_shape else reshape(out, new_shape)


def diag_indices_from(arr):
    """The indices (int64, shape (ndim, n)) of the main diagonal of `arr`, whose axes have one length n: row k of
    the result is arange(n) for each of the ndim axes, built as arange(n) broadcast against `arr`'s shape vector.
    Unlike MXNet's, axes of different lengths are not refused (their lengths are unknown while tracing)."""
    positions = _sym("Cast", _sym("_contrib_arange_like", arr, axis=0), dtype="int64")
    per_axis = _sym("expand_dims", _sym("zeros_like", _sym("shape_array", arr)), axis=-1)
    return _sym("broadcast_add", per_axis, positions)


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None):
    """Refused: its output's length is the number of distinct values, which a graph must know when it is bound
    (MXNet 1.9.1's graph runs it with dynamic shapes; dataflow's graphs have static ones)."""
    raise NotImplementedError("np.unique of a Symbol: its output's shape depends on the input's values, which a "
                              "dataflow graph cannot hold; call mx.np.unique on arrays (outside hybridize)")


# Note [broadcasting without shapes]
# A traced graph knows neither its inputs' shapes nor their dtypes, so a NumPy rule that broadcasts operands of any
# rank and dtype is built from ops that read them when the graph runs: zeros of the common shape come from adding
# the operands' `zeros_like`s (float32, so that operands of any dtype add), and each operand is broadcast to it


# the package exports this module's own public functions
__all__ = [name for name, value in globals().items()
           if not name.startswith("_") and getattr(value, "__module__", None) == __name__]
