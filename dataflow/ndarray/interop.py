"""NDArray across boundaries: numpy without a copy (`from_numpy`), DLPack capsules (`to_dlpack_for_read`,
`to_dlpack_for_write`, `from_dlpack`), pickling, and storage types (`tostype`; the sparse ones are in sparse/).

DLPack goes through numpy's own support (`ndarray.__dlpack__`, `np.from_dlpack`), so it is CPU only. A capsule
made from an NDArray and read back with `from_dlpack` gives an NDArray on the same storage *and* the same engine
var, so work on either is ordered with the other (MXNet gives it a new var, which leaves the order to chance).
"""
import ctypes
import weakref

import numpy as np

from ..base import MXNetError
from .creation import STORAGE_TYPES, array
from .ndarray import NDArray

# DLPack dtypes MXNet 1.9.1 converts (its DLDataType.TYPE_MAP)
_DLPACK_DTYPES = ("int32", "int64", "bool", "uint8", "uint32", "uint64", "float16", "float32", "float64")
# (address, nbytes, dtype, shape) of the storage behind each capsule we made -> the NDArray it came from
_EXPORTED = weakref.WeakValueDictionary()


def from_numpy(ndarray, zero_copy=True):
    """An NDArray on `ndarray`'s memory (`zero_copy`, C-contiguous arrays of a DLPack dtype only; the numpy
    array becomes read-only, as MXNet makes it) or on a copy of it keeping its dtype."""
    if not zero_copy:
        return array(ndarray, dtype=ndarray.dtype)
    if not ndarray.flags["C_CONTIGUOUS"]:
        raise ValueError("Only c-contiguous arrays are supported for zero-copy")
    if str(ndarray.dtype) not in _DLPACK_DTYPES:
        raise ValueError(str(ndarray.dtype) + " is not supported.")
    storage = ndarray.view()        # stays writable for NDArray ops after the source is made read-only
    ndarray.flags["WRITEABLE"] = False
    return NDArray(storage)


def _cpu_storage(data, what):
    if data.context.device_type != "cpu":
        raise MXNetError("%s: DLPack export works for CPU arrays only, this one is on %s (copy it with "
                         "as_in_context(mx.cpu()))" % (what, data.context))
    return data._data


def _export(data, what):
    storage = _cpu_storage(data, what)
    _EXPORTED[_identity(storage)] = data
    return storage.__dlpack__()


def to_dlpack_for_read(data):
    """A DLPack capsule ("dltensor") viewing `data`'s memory, once pending writes to it are done."""
    data.wait_to_read()
    return _export(data, "to_dlpack_for_read")


def to_dlpack_for_write(data):
    """A DLPack capsule ("dltensor") viewing `data`'s memory, once pending reads and writes of it are done."""
    data.wait_to_write()
    return _export(data, "to_dlpack_for_write")


class _Capsule:
    """What np.from_dlpack takes: an object whose __dlpack__ hands over the capsule."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)       # kDLCPU; numpy checks the device recorded in the capsule itself


def from_dlpack(dlpack):
    """An NDArray on the memory of a DLPack capsule (or of an object with `__dlpack__`); a capsule can be
    consumed once."""
    source = dlpack if hasattr(dlpack, "__dlpack__") else _Capsule(dlpack)
    try:
        view = np.from_dlpack(source)
    except ValueError as exc:
        if "used_dltensor" in repr(dlpack) or "incorrect name" in str(exc):
            raise ValueError("Invalid DLPack Tensor. DLTensor capsules can be consumed only once.") from None
        raise
    except (BufferError, RuntimeError, TypeError) as exc:
        raise MXNetError("from_dlpack: cannot read this DLPack tensor on the CPU (%s); only CPU tensors are "
                         "supported" % exc) from None
    storage = _writable(view)
    owner = _EXPORTED.get(_identity(storage))
    if owner is not None:
        return NDArray(storage, owner._var, owner._ctx)
    return NDArray(storage)


def _identity(storage):
    return (storage.__array_interface__["data"][0], storage.nbytes, storage.dtype.str, storage.shape)


def _writable(view):
    """A writable C-contiguous array on `view`'s memory (numpy marks arrays from unversioned capsules read-only,
    though the producer's memory is writable); a copy when the tensor is strided."""
    if not view.flags.c_contiguous:
        return np.ascontiguousarray(view)
    if view.flags.writeable or view.nbytes == 0:
        return view if view.flags.writeable else view.copy()
    buffer = (ctypes.c_char * view.nbytes).from_address(view.__array_interface__["data"][0])
    buffer.owner = view         # the capsule's memory lives as long as the new array
    return np.frombuffer(buffer, dtype=view.dtype).reshape(view.shape)


# -- NDArray methods ------------------------------------------------------------------------------------------------

def tostype(self, stype):
    """A copy of the array with storage type `stype` ('default', 'csr' for 2-D arrays, 'row_sparse')."""
    if stype == "csr" and len(self.shape) != 2:
        raise ValueError("To convert to a CSR, the NDArray should be 2 Dimensional. Current shape is %s"
                         % str(self.shape))
    if stype not in STORAGE_TYPES:
        raise MXNetError("Invalid Input: %r, valid values are: %s, in operator cast_storage(stype=%r)"
                         % (stype, set(STORAGE_TYPES), stype))
    from .sparse.construct import dense_tostype     # here: the sparse package imports this package's modules
    return dense_tostype(self, stype)


def __getstate__(self):  # noqa: N807
    """Pickled state: {'handle': the array's record in MXNet's NDArray file format}."""
    from .serialization import _record
    return {"handle": bytearray(_record(self, "the pickled array"))}


def __setstate__(self, state):  # noqa: N807
    from .serialization import read_record
    loaded = read_record(bytes(state["handle"]), "pickled NDArray")
    self._data, self._ctx = loaded._data, loaded._ctx


def __reduce__(self):  # noqa: N807
    return NDArray, (None,), self.__getstate__()


for _method in (tostype, __getstate__, __setstate__, __reduce__):
    setattr(NDArray, _method.__name__, _method)
NDArray.to_dlpack_for_read = lambda self: to_dlpack_for_read(self)
NDArray.to_dlpack_for_write = lambda self: to_dlpack_for_write(self)
