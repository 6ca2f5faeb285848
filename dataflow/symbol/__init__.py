"""`mx.sym` / `mx.symbol`: the Symbol class, variables, and one function per registered op (generated)."""
from ops import registry as _registry

from .. import frontend as _frontend
from . import random  # noqa: F401 - MXNet's sampling wrappers; the generated functions only fill its gaps
from . import sparse  # mx.sym.sparse (before `populate`, which adds the `_sparse_*` ops to it)
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


def arange(start, stop=None, step=1.0, repeat=1, infer_range=False, name=None, dtype=None):
    """A symbol of evenly spaced values in [start, stop) ([0, start) when stop is None), each repeated."""
    return _create(_registry.get("_arange"), "_arange", (),
                   dict(start=start, stop=stop, step=step, repeat=repeat, infer_range=infer_range, name=name,
                        dtype=dtype or "float32"))


def linspace(start, stop, num, endpoint=True, name=None, dtype=None):
    """A symbol of `num` evenly spaced values from start to stop (stop excluded without the endpoint)."""
    return _create(_registry.get("_linspace"), "_linspace", (),
                   dict(start=start, stop=stop, num=num, endpoint=endpoint, name=name, dtype=dtype or "float32"))


def eye(N, M=0, k=0, dtype=None, **kwargs):
    """A 2-D symbol with ones on the k-th diagonal and zeros elsewhere."""
    return _create(_registry.get("_eye"), "_eye", (), dict(N=N, M=M, k=k, dtype=dtype or "float32", **kwargs))


_self = __import__(__name__, fromlist=["_"])
_frontend.populate(_self, _create, ("name", "attr", "out"))
from . import contrib_control_flow as _control_flow  # noqa: E402 - foreach, while_loop, cond
_control_flow.attach(_self.contrib)
_frontend.add_fluent_methods(Symbol, _self)
sparse._export(_self)
_frontend.add_binary_helpers(_self, _create, lambda x: isinstance(x, Symbol), broadcast=False)
from .._np_namespaces import symbol_getattr as __getattr__  # noqa: E402,F401 - mx.sym.np/npx, on first use
