"""`mx.sym.np`: NumPy's functions on Symbols, for `F.np.X` in a hybridized numpy-mode block, and `_Symbol`, the
Symbol with NumPy's semantics that such a block is traced with.

Every function builds a node of the registry op its mx.np counterpart runs (the names in
`dataflow/numpy/_op_names.py`); arithmetic broadcasts as NumPy's, comparisons give bool. What a graph cannot know
is the input's shape while it is traced, so NumPy's shape rules hold only as far as the legacy ops' shape inference
gives them: a reduction over every axis has shape (1,) in a graph where an array's has shape () (Note [zero-dim
arrays] in numpy/multiarray.py; it broadcasts the same), `broadcast_to` needs the target's number of axes, `where`
does not broadcast, `split` takes a number of sections, `dot` a second operand of at most two axes, indexing
integers and slices, and integer division is not promoted to float (dtypes are unknown when traced).
"""
import numbers

import numpy as onp

from ops import registry

from ..ndarray.ndarray import _ARITHMETIC
from ..numpy import _op_names
from .symbol import Symbol, create

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


def _binary(dunder, a, b, reflected=False):
    """`a ∘ b` (`b ∘ a` when `reflected`) with NumPy broadcasting; `a` is a Symbol."""
    array_op, scalar_op, rscalar_op = _OPERATORS[dunder]
    if isinstance(b, Symbol):
        lhs, rhs = (b, a) if reflected else (a, b)
        out = _sym(array_op, lhs, rhs)
    elif isinstance(b, _NUMBER):
        if reflected and rscalar_op is None:
            return _binary(_SWAPPED[dunder], a, b)
        scalar = int(b) if isinstance(b, (bool, onp.bool_)) else b
        out = _sym(rscalar_op if reflected else scalar_op, a, scalar=scalar)
    else:
        return NotImplemented
    return _sym("Cast", out, dtype="bool") if dunder in _COMPARISONS else out


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
    """NumPy's basic indexing (integers and slices, one per leading axis) as a `slice` node, then a `squeeze` of
    the integer-indexed axes."""
    key = key if isinstance(key, tuple) else (key,)
    begin, end, step, dropped = [], [], [], []
    for axis, part in enumerate(key):
        if isinstance(part, numbers.Integral):
            begin.append(int(part))
            end.append(int(part) + 1 if part != -1 else None)
            step.append(None)
            dropped.append(axis)
        elif isinstance(part, slice):
            begin.append(part.start)
            end.append(part.stop)
            step.append(part.step)
        else:
            raise NotImplementedError("indexing a numpy-mode Symbol supports integers and slices, got %r" % (part,))
    out = _sym("slice", x, begin=tuple(begin), end=tuple(end), step=tuple(step))
    return _sym("squeeze", out, axis=tuple(dropped)) if dropped else out


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
            return _binary(dunder, x2, x1, reflected=True)
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


def clip(a, a_min, a_max, out=None):
    return _sym("clip", a, a_min=-onp.inf if a_min is None else float(a_min),
                a_max=onp.inf if a_max is None else float(a_max))


# -- reductions -------------------------------------------------------------------------------------------------------
def _reduce(name, a, axis, keepdims, dtype=None):
    if dtype is not None:
        a = a.astype(dtype) if isinstance(a, _Symbol) else as_np_symbol(a).astype(dtype)
    return _sym(_op_names.REDUCTIONS[name], a, axis=_axis_param(axis), keepdims=keepdims)


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


def _argreduce(op_name, a, axis):
    if axis is None:
        a, axis = ravel(a), 0
    return _sym("Cast", _sym(op_name, a, axis=axis), dtype="int64")


def argmax(a, axis=None, out=None):
    return _argreduce("argmax", a, axis)


def argmin(a, axis=None, out=None):
    return _argreduce("argmin", a, axis)


# -- shape ------------------------------------------------------------------------------------------------------------
def reshape(a, newshape, order="C"):
    """NumPy's reshape (one -1 inferred) as a `Reshape` node. As on arrays, the legacy op's special values (0 copies
    a dimension, -2 ... -4) are taken too, for legacy code (Gluon's layers and losses) traced in numpy mode."""
    if order != "C":
        raise NotImplementedError("reshape: only order='C' is supported")
    return _sym("Reshape", a, shape=(newshape,) if isinstance(newshape, numbers.Integral) else tuple(newshape))


def ravel(a, order="C"):
    return reshape(a, (-1,), order)


def transpose(a, axes=None):
    return _sym("transpose", a, axes=() if axes is None else tuple(axes))


def expand_dims(a, axis):
    return _sym("expand_dims", a, axis=axis)


def squeeze(a, axis=None):
    return _sym("squeeze", a, **({} if axis is None else {"axis": _axis_param(axis)}))


def concatenate(seq, axis=0, out=None):
    seq = list(seq)
    if axis is None:
        seq, axis = [ravel(s) for s in seq], 0
    return _sym("Concat", *seq, dim=axis, num_args=len(seq))


def stack(arrays, axis=0, out=None):
    arrays = list(arrays)
    return _sym("stack", *arrays, axis=axis, num_args=len(arrays))


def swapaxes(a, axis1, axis2):
    return _sym("SwapAxis", a, dim1=axis1, dim2=axis2)


def split(ary, indices_or_sections, axis=0):
    """`ary` split into equal sections along `axis` (a list of Symbols); split points are not supported."""
    if not isinstance(indices_or_sections, numbers.Integral):
        raise NotImplementedError("np.split of a Symbol: only a number of equal sections is supported, got %r"
                                  % (indices_or_sections,))
    return list(_sym("SliceChannel", ary, num_outputs=int(indices_or_sections), axis=axis, squeeze_axis=False))


def tile(A, reps):  # noqa: N803 - NumPy's name
    return _sym("tile", A, reps=(reps,) if isinstance(reps, numbers.Integral) else tuple(reps))


def repeat(a, repeats, axis=None):
    return _sym("repeat", a, repeats=repeats, **({} if axis is None else {"axis": axis}))


def flip(m, axis=None):
    return _sym("reverse", m, axis=_axis_param(axis) if axis is not None else ())


def sort(a, axis=-1):
    return _sym("sort", a, axis=axis)


def argsort(a, axis=-1):
    return _sym("argsort", a, axis=axis, dtype="int64")


def where(condition, x, y):
    """`x` where `condition` is true, else `y`: three Symbols of one shape (the `where` op does not broadcast)."""
    return _sym("where", condition, x, y)


def broadcast_to(array, shape):
    return _sym("broadcast_to", array, shape=tuple(shape))


# -- linear algebra ---------------------------------------------------------------------------------------------------
def dot(a, b, out=None):
    """NumPy's dot for a second operand of one or two axes (the `dot` op)."""
    return _sym("dot", a, b)


# -- creation ---------------------------------------------------------------------------------------------------------
def _dtype(dtype):
    return registry.dtype_name(dtype or onp.float32)


def zeros(shape, dtype=None, order="C", ctx=None):
    return _sym("_zeros", shape=(shape,) if isinstance(shape, numbers.Integral) else tuple(shape),
                dtype=_dtype(dtype))


def ones(shape, dtype=None, order="C", ctx=None):
    return _sym("_ones", shape=(shape,) if isinstance(shape, numbers.Integral) else tuple(shape), dtype=_dtype(dtype))


def full(shape, fill_value, dtype=None, order="C", ctx=None):
    return _sym("_full", shape=(shape,) if isinstance(shape, numbers.Integral) else tuple(shape),
                value=float(fill_value), dtype=_dtype(dtype))


def arange(start, stop=None, step=1, dtype=None, ctx=None):
    return _sym("_arange", start=start, stop=stop, step=step, dtype=_dtype(dtype))


def zeros_like(a, dtype=None):
    out = _sym("zeros_like", a)
    return out if dtype is None else out.astype(dtype)


def ones_like(a, dtype=None):
    out = _sym("ones_like", a)
    return out if dtype is None else out.astype(dtype)


def full_like(a, fill_value, dtype=None):
    return ones_like(a, dtype) * fill_value
