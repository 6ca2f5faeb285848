"""`mx.nd` / `mx.ndarray`: the NDArray class, array creation, and one function per registered op (generated)."""
from .. import frontend as _frontend
from .ndarray import (NDArray, _invoke, arange, array, concatenate, empty, eye, full, ones, waitall,  # noqa: F401
                      zeros)
from .serialization import load, load_frombuffer, save  # noqa: F401

_frontend.populate(__import__(__name__, fromlist=["_"]), _invoke, ("out", "name"))
