"""`mx.sym` / `mx.symbol`: the Symbol class, variables, and one function per registered op (generated)."""
from ops import registry as _registry

from .. import frontend as _frontend
from .symbol import Group, Symbol, Variable, create as _create, fromjson, load, load_json, var


def zeros(shape, dtype=None, **kwargs):
    """A symbol of zeros of `shape`."""
    return _create(_registry.get("_zeros"), "_zeros", (), dict(shape=shape, dtype=dtype or "float32", **kwargs))


def ones(shape, dtype=None, **kwargs):
    """A symbol of ones of `shape`."""
    return _create(_registry.get("_ones"), "_ones", (), dict(shape=shape, dtype=dtype or "float32", **kwargs))


def full(shape, val, dtype=None, **kwargs):
    """A symbol filled with `val`."""
    return _create(_registry.get("_full"), "_full", (),
                   dict(shape=shape, value=float(val), dtype=dtype or "float32", **kwargs))


_frontend.populate(__import__(__name__, fromlist=["_"]), _create, ("name", "attr", "out"))
