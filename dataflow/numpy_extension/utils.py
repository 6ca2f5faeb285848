"""`npx.save` / `npx.load`: MXNet's NDArray file format in numpy mode. The file is `nd.save`'s with each record's magic
the V3 one MXNet writes while NumPy shape semantics is on (dataflow/ndarray/serialization.py); a zero-dim array is
a record of ndim 0 holding one element. Loaded arrays are mx.np.ndarrays. As in MXNet, both need numpy semantics
(`npx.set_np()`)."""
import os

from ..ndarray import serialization
from ..numpy.multiarray import as_np, ndarray
from ..util import atomic_write, is_np_array, is_np_shape

__all__ = ["save", "load"]


def _require_np(what):
    if not (is_np_shape() and is_np_array()):
        raise ValueError("Cannot %s `mxnet.numpy.ndarray` in legacy mode. Please activate numpy semantics by "
                         "calling `npx.set_np()` in the global scope before calling this function." % what)


def save(file, arr):  # noqa: A002 - MXNet's name
    """Save an mx.np.ndarray, a list of them or a dict str -> ndarray to `file` (written atomically)."""
    _require_np("save")
    if isinstance(arr, ndarray):
        arr = [arr]
    if isinstance(arr, dict):
        if any(not isinstance(k, str) for k in arr) or any(not isinstance(v, ndarray) for v in arr.values()):
            raise TypeError("Only accepts dict str->ndarray or list of ndarrays")
        keys, arrays = list(arr), list(arr.values())
    elif isinstance(arr, list):
        if any(not isinstance(v, ndarray) for v in arr):
            raise TypeError("Only accepts dict str->ndarray or list of ndarrays")
        keys, arrays = [], arr
    else:
        raise ValueError("data needs to either be a ndarray, dict of (str, ndarray) pairs or a list of ndarrays.")
    atomic_write(os.fsdecode(file), serialization.to_bytes(dict(zip(keys, arrays)) if keys else arrays, True))


def load(file):  # noqa: A002 - MXNet's name
    """The arrays in `file` as mx.np.ndarrays: a list, or a dict when the file has keys."""
    _require_np("load")
    if not isinstance(file, (str, bytes, os.PathLike)):
        raise TypeError("file required to be a string")
    loaded = serialization.load(file)
    if isinstance(loaded, dict):
        return {k: as_np(v) for k, v in loaded.items()}
    return [as_np(v) for v in loaded]
