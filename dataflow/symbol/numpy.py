"""`mx.sym.np`: NumPy's functions on Symbols, for `F.np.X` in a hybridized numpy-mode block, and `_Symbol`, the
Symbol with NumPy's semantics that such a block is traced with.

Every function builds a node of the registry op its mx.np counterpart runs (the names in
`dataflow/numpy/_op_names.py`); arithmetic broadcasts as NumPy's, comparisons give bool. What a graph cannot know
while it is traced is its inputs' shapes and dtypes, so where NumPy's rule depends on them it is built from ops that
decide when the graph runs (Note [broadcasting without shapes]): `where`, `broadcast_to` and `matmul` broadcast as
NumPy's. What stays out of reach: a reduction over every axis has shape (1,) in a graph where an array's has
shape () (Note [zero-dim arrays] in numpy/multiarray.py; it broadcasts the same), `dot` takes a second operand of at
most two axes and `matmul` operands of at least two, indexing takes integers, slices, None and one Ellipsis,
operands of two dtypes do not promote (float32 + int32 is a dtype error naming the node), and true division of
integers gives float64 where MXNet's gives float32 (Note [true division of integers]). `linalg` and `random` hold
`norm`, `uniform` and `normal`.
"""
import numbers
import types

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
        if dunder == "truediv":     # integers divide as floats (Note [true division of integers])
            lhs, rhs = _as_float(lhs), _as_float(rhs)
        out = _sym(array_op, lhs, rhs)
    elif isinstance(b, _NUMBER):
        if reflected and rscalar_op is None:
            return _binary(_SWAPPED[dunder], a, b)
        scalar = int(b) if isinstance(b, (bool, onp.bool_)) else b
        # a float scalar is not truncated to an integer array's dtype: the result is float (float64)
        is_int = isinstance(scalar, numbers.Integral) and dunder != "truediv"
        out = _sym(rscalar_op if reflected else scalar_op, a, scalar=scalar, is_int=is_int)
    else:
        return NotImplemented
    return _sym("Cast", out, dtype="bool") if dunder in _COMPARISONS else out


# Note [true division of integers]
# NumPy's `/` of integers gives floats (MXNet's numpy mode: float32). A traced graph does not know its inputs'
# dtypes, so the division's operands go through `x * 1.0` with `is_int=False`, which the registry's scalar ops
# give float64 for an integer (or bool) x and x's own dtype for a float: the values are NumPy's, the dtype float64
# where MXNet's is float32. A float operand is multiplied by one exactly (-0.0, inf and NaN kept).
def _as_float(x):
    return _sym("_mul_scalar", x, scalar=1.0, is_int=False)


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
        out = _sym("squeeze", out, axis=tuple(dropped))
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
        out = _sym("squeeze", out, axis=tuple(position - len(tail) for position in dropped))
    return out


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
    """`ary` split along `axis` (a list of Symbols) into a number of equal sections, or at the given points."""
    if isinstance(indices_or_sections, numbers.Integral):
        return list(_sym("SliceChannel", ary, num_outputs=int(indices_or_sections), axis=axis, squeeze_axis=False))
    points = [int(i) for i in indices_or_sections]
    bounds = zip([0] + points, points + [None])
    return [_sym("slice_axis", ary, axis=axis, begin=begin, end=end) for begin, end in bounds]


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


# Note [broadcasting without shapes]
# A traced graph knows neither its inputs' shapes nor their dtypes, so a NumPy rule that broadcasts operands of any
# rank and dtype is built from ops that read them when the graph runs: zeros of the common shape come from adding
# the operands' `zeros_like`s (float32, so that operands of any dtype add), and each operand is broadcast to it
# after its rank is padded to the common rank by adding zeros of shape (1, ..., 1) in its own dtype
# (`reshape_like` of a one-element sum of its zeros onto a keepdims sum of the common zeros).
def _ones_shaped_zeros(x, ones_shaped):
    """Zeros in `x`'s dtype of the shape of `ones_shaped`, (1, ..., 1)."""
    zero = _sym("sum", _sym("Reshape", _sym("zeros_like", x), shape=(-1,)))      # shape (1,), also for x of ()
    return _sym("reshape_like", zero, ones_shaped)


def _broadcast_together(*operands):
    """`operands` (Symbols) broadcast to their common shape, each keeping its dtype; zero-dim operands only give
    shape (1,), a graph's zero-dim shape."""
    common = _sym("_zeros", shape=(1,), dtype="float32")
    for x in operands:
        common = _sym("broadcast_add", common, _sym("Cast", _sym("zeros_like", x), dtype="float32"))
    ones_shaped = _sym("sum", common, keepdims=True)
    return [_sym("broadcast_like", _sym("broadcast_add", x, _ones_shaped_zeros(x, ones_shaped)), common)
            for x in operands]


def where(condition, x, y):
    """`x` where `condition` is true, else `y`, all three broadcast together. `x` or `y` may be a number, filled
    in the other's dtype (a float number with an integer array is a dtype error, not a truncation)."""
    if not isinstance(x, Symbol) and not isinstance(y, Symbol):
        raise NotImplementedError("np.where of Symbols: x or y must be a Symbol, got %s and %s"
                                  % (type(x).__name__, type(y).__name__))
    if not isinstance(x, Symbol):
        x = _filled_like(y, x)
    if not isinstance(y, Symbol):
        y = _filled_like(x, y)
    return _sym("where", *_broadcast_together(condition, x, y))


def _filled_like(x, number):
    return _sym("_plus_scalar", _sym("zeros_like", x), scalar=number, is_int=isinstance(number, numbers.Integral))


def broadcast_to(array, shape):
    """`array` repeated along new or size-1 axes to `shape` (which may have more axes than `array`)."""
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    target = shape or (1,)
    padded = _sym("broadcast_add", array, _ones_shaped_zeros(array, _sym("_zeros", shape=(1,) * len(target))))
    return _sym("broadcast_to", padded, shape=target)


# -- linear algebra ---------------------------------------------------------------------------------------------------
def dot(a, b, out=None):
    """NumPy's dot for a second operand of one or two axes (the `dot` op; the first may have any number)."""
    return _sym("dot", a, b)


def _matrix_corner(x):
    """`x`'s first row and column: shape (..., 1, 1), its batch axes."""
    return _sym("slice_axis", _sym("slice_axis", x, axis=-1, begin=0, end=1), axis=-2, begin=0, end=1)


def matmul(a, b, out=None):
    """NumPy's matmul of operands of at least two axes: matrix products over the last two, the leading (batch)
    axes broadcast (a `linalg_gemm2` node). A 1-D operand, whose axis NumPy drops, is not supported in a graph."""
    if not isinstance(a, Symbol) or not isinstance(b, Symbol):
        raise TypeError("np.matmul of Symbols: both operands must be Symbols, got %s and %s"
                        % (type(a).__name__, type(b).__name__))
    a_batched = _sym("broadcast_add", a, _sym("zeros_like", _matrix_corner(b)))
    b_batched = _sym("broadcast_add", b, _sym("zeros_like", _matrix_corner(a)))
    return _sym("linalg_gemm2", a_batched, b_batched)


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


# -- mx.sym.np.linalg -------------------------------------------------------------------------------------------------
def _norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's name
    """NumPy's `linalg.norm` composed of reductions, as mx.np's: vector norms (ord None/2, 1, inf, -inf, any other
    number) along one axis and matrix norms ('fro', 1, -1, inf, -inf) over two given axes; with neither `ord` nor
    `axis`, the 2-norm of the flattened `x`. The spectral norms ('nuc', 2, -2 of matrices) and ord 0 are not
    supported in a graph, nor `ord` without `axis` (whether `x` is a matrix is known only when the graph runs)."""
    if axis is None:
        if ord not in (None, "fro"):
            raise NotImplementedError("np.linalg.norm of a Symbol: ord=%r needs an axis (the input's number of "
                                      "axes is unknown while tracing)" % (ord,))
        axes = ()
    else:
        axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    if len(axes) == 2 and ord not in (None, "fro"):
        return _matrix_norm(x, ord, axes, keepdims)
    if len(axes) > 2 or (len(axes) != 1 and ord not in (None, "fro")):
        raise ValueError("Improper number of dimensions to norm.")
    if ord in (None, 2, "fro"):
        return _sym("sqrt", sum(x * x, axis=axes or None, keepdims=keepdims))
    magnitude = _sym("abs", x)
    if ord == onp.inf:
        return max(magnitude, axis=axes, keepdims=keepdims)
    if ord == -onp.inf:
        return min(magnitude, axis=axes, keepdims=keepdims)
    if ord == 1:
        return sum(magnitude, axis=axes, keepdims=keepdims)
    if isinstance(ord, str) or ord == 0:
        raise NotImplementedError("np.linalg.norm of a Symbol: ord=%r is not supported for vectors" % (ord,))
    return sum(magnitude ** ord, axis=axes, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):  # noqa: A002
    """The 1 / inf norms (and their minima): the largest (smallest) column / row sum of magnitudes."""
    if ord not in (1, -1, onp.inf, -onp.inf):
        raise NotImplementedError("np.linalg.norm of a Symbol: matrix ord=%r is not supported" % (ord,))
    rows, cols = axes
    summed, over = (rows, cols) if ord in (1, -1) else (cols, rows)
    lines = sum(_sym("abs", x), axis=summed, keepdims=True)
    result = (max if ord > 0 else min)(lines, axis=over, keepdims=True)
    return result if keepdims else squeeze(result, axis=(rows, cols))


linalg = types.ModuleType(__name__ + ".linalg", "`mx.sym.np.linalg`: NumPy's linalg functions on Symbols.")
linalg.norm = _norm
_norm.__name__ = _norm.__qualname__ = "norm"


# -- mx.sym.np.random -------------------------------------------------------------------------------------------------
def _sample(name, params, size, dtype):
    """Samples of registry op `_random_<name>` with NumPy's parameters `params` (numbers or Symbols): numbers give
    one node of shape `size`; Symbols scale a standard draw of shape `size`, or of their broadcast shape."""
    first, second = params.values()
    dtype = _dtype(dtype)
    shape = None if size is None else ((size,) if isinstance(size, numbers.Integral) else tuple(size))
    if not any(isinstance(p, Symbol) for p in (first, second)):
        return _sym("_random_" + name, shape=shape or (1,), dtype=dtype, **params)
    standard = dict(zip(params, (0.0, 1.0)))
    if shape is not None:
        base = _sym("_random_" + name, shape=shape or (1,), dtype=dtype, **standard)
    else:
        carrier = _broadcast_together(*[p for p in (first, second) if isinstance(p, Symbol)])[0]
        base = _sym("_random_%s_like" % name, _sym("Cast", carrier, dtype=dtype), **standard)
    spread = second if name == "normal" else second - first      # the scale; high - low
    return base * spread + first if isinstance(spread, Symbol) else spread * base + first


def _uniform(low=0.0, high=1.0, size=None, dtype=None, ctx=None, out=None):
    """Samples uniform on [low, high), of shape `size` (None: one sample, shape (1,) in a graph)."""
    return _sample("uniform", dict(low=low, high=high), size, dtype)


def _normal(loc=0.0, scale=1.0, size=None, dtype=None, ctx=None, out=None):
    """Samples from a normal distribution of mean `loc`, standard deviation `scale`, of shape `size`."""
    return _sample("normal", dict(loc=loc, scale=scale), size, dtype)


random = types.ModuleType(__name__ + ".random", "`mx.sym.np.random`: NumPy's sampling functions on Symbols.")
random.uniform, random.normal = _uniform, _normal
for _function, _name in ((_uniform, "uniform"), (_normal, "normal")):
    _function.__name__ = _function.__qualname__ = _name
