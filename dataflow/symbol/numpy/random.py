"""`mx.sym.np.random`: NumPy's sampling functions on Symbols."""
import numbers

from ..symbol import Symbol
from ._functions import _broadcast_together, _dtype
from ._symbol import _sym


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


def uniform(low=0.0, high=1.0, size=None, dtype=None, ctx=None, out=None):
    """Samples uniform on [low, high), of shape `size` (None: one sample, shape (1,) in a graph)."""
    return _sample("uniform", dict(low=low, high=high), size, dtype)


def normal(loc=0.0, scale=1.0, size=None, dtype=None, ctx=None, out=None):
    """Samples from a normal distribution of mean `loc`, standard deviation `scale`, of shape `size`."""
    return _sample("normal", dict(loc=loc, scale=scale), size, dtype)
