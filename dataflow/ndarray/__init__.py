"""`mx.nd` / `mx.ndarray`: the NDArray class, array creation, and one function per registered op (generated)."""
from .. import frontend as _frontend
from .ndarray import (NDArray, _invoke, arange, array, concatenate, empty, eye, full, ones, waitall,  # noqa: F401
                      zeros)
from .serialization import load, load_frombuffer, save  # noqa: F401

_self = __import__(__name__, fromlist=["_"])
_frontend.populate(_self, _invoke, ("out", "name"))
_frontend.add_fluent_methods(NDArray, _self)
_frontend.add_binary_helpers(_self, _invoke, lambda x: isinstance(x, NDArray), broadcast=True)
