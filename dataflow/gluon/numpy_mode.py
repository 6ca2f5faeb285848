"""Gluon in NumPy array mode (`npx.set_np()`, `@use_np`): which array class parameters and outputs have.

MXNet 1.9.1's rules, which this module keeps in one place:
- A parameter's arrays are `mx.np.ndarray`s when they are made (initialisation, loading, a deferred
  initialisation completed by the first forward) while NumPy array mode is on, else legacy NDArrays; they keep
  that class when the mode changes later, so `data()`/`grad()` of a block made under `@use_np` are
  `mx.np.ndarray`s outside it too, and the reverse. The gradients have the class of the data.
- A block's outputs must not mix the two classes while NumPy array mode is on (imperatively), nor may a traced
  graph's outputs mix legacy and numpy Symbols (MXNet's `_check_all_np_ndarrays`, `_check_same_symbol_type`):
  a TypeError. dataflow's own layers run the legacy ops, so outputs that are all legacy are taken as they are and
  given back as `mx.np.ndarray`s, where MXNet, whose layers call `F.npx`, has nothing to convert.
- A parameter's unknown dimensions are 0 as kept, whichever way they were given; `Parameter.shape` shows them as
  -1 under NumPy shape semantics (where 0 is a size), as MXNet does.
"""
import numbers

from ..ndarray import zeros as nd_zeros
from ..ndarray.ndarray import NDArray
from ..numpy import zeros as np_zeros
from ..numpy.multiarray import ndarray as np_ndarray
from ..symbol.numpy import _Symbol
from ..symbol.symbol import Symbol
from ..util import as_np_if_active, is_np_array, is_np_shape


def in_current_mode(array):
    """`array` (sharing its storage) in the class a parameter made now gets: `mx.np.ndarray` in NumPy array
    mode, else NDArray. Sparse arrays are left as they are (MXNet's numpy mode has no sparse parameters)."""
    if getattr(array, "stype", "default") != "default":
        return array
    return array.as_np_ndarray() if is_np_array() else array.as_nd_ndarray()


def zeros_like(data):
    """A gradient buffer for a parameter's array `data`: zeros of its shape, dtype, context and class."""
    if isinstance(data, np_ndarray):
        return np_zeros(data.shape, dtype=data.dtype, ctx=data.context)
    return nd_zeros(data.shape, data.context, data.dtype)


def stored_shape(shape):
    """A parameter's shape as it is kept: a tuple where 0 is an unknown dimension, whichever way it was written
    (-1 is NumPy shape semantics' unknown; a parameter is never zero-size, so 0 means unknown in both)."""
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    return tuple(0 if d == -1 else int(d) for d in shape)


def shown_shape(shape):
    """A kept shape as `Parameter.shape` shows it: unknown dimensions as -1 under NumPy shape semantics."""
    if shape is None or not is_np_shape():
        return shape
    return tuple(-1 if d == 0 else d for d in shape)


def shape_known(shape):
    """Whether a kept shape is complete: at least one dimension, none unknown. (MXNet takes `()` as a scalar
    parameter's shape under NumPy shape semantics; dataflow's initializers cannot fill zero-dim arrays yet.)"""
    return shape is not None and len(shape) > 0 and all(d > 0 for d in shape)


def _leaves(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def block_outputs(out):
    """A block's outputs as its caller gets them: in NumPy array mode mx.np.ndarrays, after refusing a mix of
    legacy and numpy arrays as MXNet does; otherwise `out` itself."""
    if not is_np_array():
        return out
    kinds = {isinstance(a, np_ndarray) for a in _leaves(out) if isinstance(a, NDArray)}
    if len(kinds) > 1:
        legacy = next(a for a in _leaves(out) if isinstance(a, NDArray) and not isinstance(a, np_ndarray))
        raise TypeError("Block's output ndarrays/symbols must be of type `mxnet.numpy.ndarray` or "
                        "`mxnet.symbol.numpy._Symbol`, while got output type %s" % type(legacy))
    return as_np_if_active(out)


def check_same_symbol_type(symbols):
    """Refuse traced outputs mixing legacy Symbols and numpy `_Symbol`s (MXNet's TypeError)."""
    kinds = {isinstance(s, _Symbol) for s in symbols if isinstance(s, Symbol)}
    if len(kinds) > 1:
        raise TypeError("Found both classic symbols (mx.sym.Symbol) and numpy symbols (mx.sym.np._Symbol) in the "
                        "outputs; a graph's outputs must be of one kind: call `as_np_ndarray()` on the classic ones "
                        "for numpy outputs, or `as_nd_ndarray()` on the numpy ones for classic outputs.")
