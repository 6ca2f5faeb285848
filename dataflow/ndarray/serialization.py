"""`mx.nd.save` / `mx.nd.load`: MXNet's binary NDArray file format (the `.params` files), byte for byte.

A file is little-endian throughout::

    u64 0x112                      list magic
    u64 0                          reserved
    u64 N, then N array records
    u64 K, then K keys, each u64 length + UTF-8 bytes      (K is 0 for a list, N for a dict)

An array record, as MXNet 1.x writes it (V2)::

    u32 0xF993FAC9, i32 stype (0 = dense), i32 ndim, ndim x i64 dims,
    i32 dev_type, i32 dev_id (the context the array lived on), i32 dtype code, raw C-order data

A sparse record (stype 1 = row_sparse, 2 = csr) is, after the stype, the storage shape (i32 ndim, i64 dims: the
shape of the values), the shape, the context and dtype, then per aux array (row_sparse: indices; csr: indptr,
indices) i32 dtype code + its shape, then the raw values and the raw aux arrays in that order.

While NumPy shape semantics is on (`npx.set_np()`), records are written as MXNet writes them then: V3 (magic
0xF993FACA, the same layout; MXNet 1.9.1 refuses V2 files in numpy mode). The reader also accepts V3 records, V1
records (magic 0xF993FAC8, no stype) and the oldest records, which have no magic at all: the first u32 is ndim and
the dims are u32. An ndim of 0 means a 0-d array holding one element (MXNet 1.9.1 writes 0-d arrays that way, but its
own V2 reader cannot read them back; its V1/legacy readers can). Arrays are always loaded on cpu(0), as MXNet does
for arrays saved from any CPU context.

Anything malformed raises `FormatError` naming the file, the record (or key) and the byte offset. The reader checks
every size against the bytes that are actually there before it allocates, so a corrupted length never becomes a
huge allocation; it then reads each array's bytes straight into the array's own buffer (peak memory about the
file's size).
"""
import io
import os
import struct
import sys

import numpy as np

from ops.errors import MXNetError

from ..context import Context
from ..util import atomic_write, is_np_shape
from .ndarray import NDArray

__all__ = ["FormatError", "load", "load_frombuffer", "save"]


class FormatError(MXNetError, ValueError):
    """A file or buffer is not a valid MXNet NDArray file (bad magic, truncated, corrupted record, ...)."""


_LIST_MAGIC = 0x112
_V1_MAGIC = 0xF993FAC8
_V2_MAGIC = 0xF993FAC9
_V3_MAGIC = 0xF993FACA

# MXNet's (mshadow's) dtype codes. This is a file-format fact, so it is spelled out here rather than taken from the
# order of `ops.registry.DTYPES` (a test checks the two agree).
_DTYPE_NAMES = ("float32", "float64", "float16", "uint8", "int32", "int8", "int64", "bool", "int16", "uint16",
                "uint32", "uint64")
_CODE_OF = {np.dtype(name): code for code, name in enumerate(_DTYPE_NAMES)}
_UNSUPPORTED_DTYPES = {12: "bfloat16"}

_STYPE_NAMES = {-1: "undefined (an empty NDArray handle)", 1: "row_sparse", 2: "csr"}
_STYPE_CODES = {"row_sparse": 1, "csr": 2}
_DEV_TYPES = {1: "cpu", 2: "gpu", 3: "cpu_pinned", 5: "cpu_shared"}

_MAX_NDIM = 64          # numpy's limit; MXNet never writes more
_MIN_RECORD_BYTES = 17  # the smallest possible record: legacy, ndim 0, ctx, dtype, one bool


# ---------------------------------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------------------------------

def save(fname, data):
    """Save an NDArray, a list of NDArrays or a dict str -> NDArray to `fname` in MXNet's format.

    The file is identical to what MXNet 1.x writes for the same arrays, and it is written atomically: if anything
    fails (a bad entry, a failed pending computation, a full disk: `dataflow.util.SaveError`, an OSError and an
    MXNetError), no file is created and an existing one is left untouched. A symlink is followed, and a target that
    is not a regular file (/dev/null) is written through (Note [saving files] in dataflow/util.py).

    Examples
    --------
    >>> import dataflow as mx, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x.params")
    >>> mx.nd.save(path, {"w": mx.nd.ones((2, 2))})
    >>> mx.nd.load(path)["w"].shape
    (2, 2)
    """
    if not isinstance(fname, (str, bytes, os.PathLike)):
        raise TypeError("save: fname must be a path (str or os.PathLike), got %s" % type(fname).__name__)
    atomic_write(os.fsdecode(fname), _dumps(data, is_np_shape()))


def to_bytes(data, np_shape=None):
    """The bytes `save(fname, data)` writes (for saving several files together: `dataflow.util.write_files`); V3
    records when `np_shape` (None: when NumPy shape semantics is on)."""
    return _dumps(data, is_np_shape() if np_shape is None else np_shape)


def _dumps(data, np_shape=False):
    """The bytes of an NDArray file holding `data` (validated completely before anything is written)."""
    if isinstance(data, NDArray):
        arrays, keys = [data], None
    elif isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(key, str):
                raise TypeError("save: dict keys must be str, got key %r of type %s" % (key, type(key).__name__))
            if not isinstance(value, NDArray):
                raise TypeError("save: the value of key %r is a %s, not an NDArray" % (key, type(value).__name__))
        keys, arrays = list(data.keys()), list(data.values())
    elif isinstance(data, (list, tuple)):
        for i, value in enumerate(data):
            if not isinstance(value, NDArray):
                raise TypeError("save: item %d is a %s, not an NDArray" % (i, type(value).__name__))
        arrays, keys = list(data), None
    else:
        raise TypeError("save: data must be an NDArray, a list of NDArrays or a dict str -> NDArray, got %s"
                        % type(data).__name__)

    encoded_keys = []
    for key in keys or ():
        try:
            encoded_keys.append(key.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise ValueError("save: key %r cannot be encoded as UTF-8 (%s)" % (key, exc.reason)) from None

    magic = _V3_MAGIC if np_shape else _V2_MAGIC
    chunks = [struct.pack("<QQQ", _LIST_MAGIC, 0, len(arrays))]
    for i, arr in enumerate(arrays):
        where = "key %r" % keys[i] if keys is not None else "item %d" % i
        chunks.append(_record(arr, where, magic))
    chunks.append(struct.pack("<Q", len(encoded_keys)))
    for raw in encoded_keys:
        chunks.append(struct.pack("<Q", len(raw)))
        chunks.append(raw)
    return b"".join(chunks)


def _record(arr, where, magic=_V2_MAGIC):
    arr.wait_to_read()              # raises the error of a failed pending write; nothing is written then
    sparse = arr.stype != "default"     # a sparse array's storage is on the host (Note [sparse storage])
    data = arr._data if sparse or arr.context.device_type != "gpu" else arr.asnumpy()
    code = _CODE_OF.get(data.dtype)
    if code is None:
        raise TypeError("save: %s has dtype %s, which MXNet's format cannot hold" % (where, data.dtype))
    ctx = arr.context
    if sparse:
        return _sparse_record(arr, code, ctx, magic)
    header = struct.pack("<Iii%dq" % data.ndim, magic, 0, data.ndim, *data.shape)
    header += struct.pack("<iii", ctx.device_typeid, ctx.device_id, code)
    return header + _raw(data)


def _sparse_record(arr, code, ctx, magic):
    data, aux = arr._storage()
    header = struct.pack("<Ii", magic, _STYPE_CODES[arr.stype]) + _shape_bytes(data.shape)
    header += _shape_bytes(arr.shape) + struct.pack("<iii", ctx.device_typeid, ctx.device_id, code)
    for a in aux:
        header += struct.pack("<i", _CODE_OF[a.dtype]) + _shape_bytes(a.shape)
    return header + b"".join(_raw(a) for a in [data] + aux)


def _shape_bytes(shape):
    return struct.pack("<i%dq" % len(shape), len(shape), *shape)


def _raw(data):
    return np.ascontiguousarray(data).astype(data.dtype.newbyteorder("<"), copy=False).tobytes()


# ---------------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------------

def load(fname):
    """Load an MXNet NDArray file: a list of NDArrays if it has no keys, else a dict (in the file's key order).

    Each array's bytes are read straight into its final buffer, so loading takes about the file's size in memory.
    Raises `FormatError` (an `MXNetError`) if the file is not a valid NDArray file.
    """
    if not isinstance(fname, (str, bytes, os.PathLike)):
        raise TypeError("load: fname must be a path (str or os.PathLike), got %s" % type(fname).__name__)
    fname = os.fsdecode(fname)
    with open(fname, "rb") as fh:
        return _parse(_Reader(fh, os.fstat(fh.fileno()).st_size, "file %r" % fname))


def load_frombuffer(buf):
    """Load NDArrays from the bytes of an NDArray file (as `load` does for a file)."""
    if isinstance(buf, str) or not isinstance(buf, (bytes, bytearray, memoryview)):
        raise TypeError("load_frombuffer: buf must be bytes-like, got %s" % type(buf).__name__)
    raw = memoryview(buf).cast("B")
    return _parse(_Reader(io.BytesIO(raw), len(raw), "buffer"))


def read_record(buf, source):
    """One array record from bytes (what a pickled NDArray's state holds), as an NDArray on cpu(0)."""
    raw = memoryview(buf).cast("B")
    reader = _Reader(io.BytesIO(raw), len(raw), source)
    reader.where = "record"
    return _read_record(reader, Context("cpu", 0))


class _Reader:
    """A bounds-checked little-endian cursor over a stream of `size` bytes; `where` describes the current item
    for error messages. Every length is checked against the bytes left before anything is read or allocated."""

    def __init__(self, stream, size, source):
        self.stream = stream
        self.size = size
        self.pos = 0
        self.source = source
        self.where = "header"
        self.item_start = 0

    def fail(self, message):
        where = self.where if isinstance(self.where, str) else "%s %d" % self.where
        raise FormatError("Invalid NDArray file (%s): %s at byte %d: %s"
                          % (self.source, where, self.item_start, message))

    def left(self):
        return self.size - self.pos

    def _check(self, n, what):
        if n > self.size - self.pos:
            self.fail("truncated: %s needs %d bytes at byte %d, only %d left" % (what, n, self.pos, self.left()))

    def read(self, n, what):
        if n > self.size - self.pos:
            self._check(n, what)
        data = self.stream.read(n)
        if len(data) != n:      # the file shrank while we read it
            self.fail("truncated: %s needs %d bytes at byte %d, only %d could be read" % (what, n, self.pos,
                                                                                         len(data)))
        self.pos += n
        return data

    def readinto(self, array, what):
        """Fill `array` (C-contiguous) with the next `array.nbytes` bytes."""
        n = array.nbytes
        self._check(n, what)
        view = memoryview(array).cast("B") if array.ndim else memoryview(array.reshape(1)).cast("B")
        got = 0
        while got < n:          # a raw stream may return fewer bytes than asked
            chunk = self.stream.readinto(view[got:])
            if not chunk:
                self.fail("truncated: %s needs %d bytes at byte %d, only %d could be read" % (what, n, self.pos,
                                                                                             got))
            got += chunk
        self.pos += n

    def unpack(self, st, what):
        """Values of the precompiled `struct.Struct` st."""
        return st.unpack(self.read(st.size, what))

    def one(self, st, what):
        return st.unpack(self.read(st.size, what))[0]


_U64, _U32, _I32, _I32X2, _I32X3 = (struct.Struct(f) for f in ("<Q", "<I", "<i", "<ii", "<iii"))


def _parse(r):
    magic = r.one(_U64, "the list magic")
    if magic != _LIST_MAGIC:
        r.fail("bad magic 0x%x (an NDArray file starts with 0x%x); not an MXNet NDArray file" % (magic, _LIST_MAGIC))
    r.one(_U64, "the reserved field")         # MXNet ignores its value
    count = r.one(_U64, "the array count")
    if count * _MIN_RECORD_BYTES > r.left():
        r.fail("the array count %d is impossible for the %d bytes that follow" % (count, r.left()))
    arrays = []
    cpu0 = Context("cpu", 0)
    for i in range(count):
        r.where, r.item_start = ("record", i), r.pos
        arrays.append(_read_record(r, cpu0))

    r.where, r.item_start = "key table", r.pos
    nkeys = r.one(_U64, "the key count")
    if nkeys not in (0, count):
        r.fail("%d keys for %d arrays (there must be none or one per array)" % (nkeys, count))
    keys = []
    for j in range(nkeys):
        r.where, r.item_start = ("key", j), r.pos
        length = r.one(_U64, "the key length")
        raw = r.read(length, "the key")
        try:
            keys.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            r.fail("the key is not valid UTF-8 (%s)" % exc.reason)
    if r.left():
        r.where, r.item_start = "end of file", r.pos
        r.fail("%d unexpected bytes after the last key" % r.left())
    if not keys:
        return arrays
    return dict(zip(keys, arrays))


_DTYPES = tuple(np.dtype(name) for name in _DTYPE_NAMES)
_LITTLE = sys.byteorder == "little"


def _read_record(r, ctx):
    """The NDArray (on `ctx`) of one record."""
    first = r.one(_U32, "the record magic")
    if first in (_V2_MAGIC, _V3_MAGIC):
        stype, ndim = r.unpack(_I32X2, "the storage type and ndim")
        if stype != 0:
            if stype not in _STYPE_CODES.values():
                name = _STYPE_NAMES.get(stype)
                r.fail("storage type %s is not supported" % name if name else "unknown storage type %d" % stype)
            return _read_sparse(r, stype, ndim, ctx)
        shape, (dev_type, _dev_id, code) = _read_dims_and_type(r, ndim, "q")
    elif first == _V1_MAGIC:
        shape, (dev_type, _dev_id, code) = _read_dims_and_type(r, r.one(_I32, "ndim"), "q")
    else:
        # The oldest format has no magic: the first u32 is ndim, and the dims are u32.
        if first > _MAX_NDIM:
            r.fail("unknown record magic 0x%08x (nor is it a plausible ndim of the legacy format)" % first)
        shape, (dev_type, _dev_id, code) = _read_dims_and_type(r, first, "I")

    if dev_type not in _DEV_TYPES:
        r.fail("unknown device type %d in the array's context" % dev_type)
    return NDArray(_read_values(r, shape, _dtype_of(r, code), "the array's data"), ctx=ctx)


def _dtype_of(r, code):
    if not 0 <= code < len(_DTYPES):
        if code in _UNSUPPORTED_DTYPES:
            r.fail("dtype %s (code %d) is not supported" % (_UNSUPPORTED_DTYPES[code], code))
        r.fail("unknown dtype code %d" % code)
    return _DTYPES[code]


def _read_sparse(r, stype, storage_ndim, ctx):
    """A sparse record after its stype: storage shape, shape, context, dtype, aux types and shapes, then the values
    and the aux arrays."""
    from .sparse.arrays import _csr, _rsp
    from .sparse.formats import check
    storage_shape = _read_dims(r, storage_ndim, "the storage shape")
    shape = _read_dims(r, r.one(_I32, "ndim"), "the shape")
    dev_type, _dev_id, code = r.unpack(_I32X3, "the context and dtype")
    if dev_type not in _DEV_TYPES:
        r.fail("unknown device type %d in the array's context" % dev_type)
    dtype = _dtype_of(r, code)
    aux_specs = []
    for i in range(1 if stype == _STYPE_CODES["row_sparse"] else 2):
        aux_code = r.one(_I32, "aux type %d" % i)
        aux_specs.append((_dtype_of(r, aux_code), _read_dims(r, r.one(_I32, "ndim"), "aux shape %d" % i)))
    for i, (aux_dtype, _) in enumerate(aux_specs):
        if aux_dtype.kind not in "iu":
            r.fail("aux array %d of a sparse array has dtype %s; indices must be integers" % (i, aux_dtype))
    data = _read_values(r, storage_shape, dtype, "the sparse array's values")
    aux = [_read_values(r, s, t, "aux array %d" % i).astype(np.int64, copy=False)
           for i, (t, s) in enumerate(aux_specs)]
    array = _rsp(data, aux[0], shape, ctx) if stype == _STYPE_CODES["row_sparse"] else _csr(data, aux[1], aux[0],
                                                                                             shape, ctx)
    try:
        check(array, full_check=False)
    except MXNetError as exc:
        r.fail("inconsistent sparse record (values %s, aux shapes %s, shape %s): %s"
               % (storage_shape, [s for _, s in aux_specs], shape, exc))
    return array


def _read_dims(r, ndim, what):
    if ndim < 0 or ndim > _MAX_NDIM:
        r.fail("%s has an impossible ndim %d" % (what, ndim))
    dims = r.unpack(struct.Struct("<%dq" % ndim), what)
    if any(d < 0 for d in dims):
        r.fail("%s %s has a negative dimension" % (what, dims))
    return dims


def _read_values(r, shape, dtype, what):
    """The next array of `shape` and `dtype` (little-endian raw bytes), size-checked before it is allocated."""
    code = _CODE_OF[dtype]
    size = 1
    for d in shape:
        size *= d
    nbytes = size * dtype.itemsize
    if nbytes > r.left():       # before allocating: a corrupted shape must not become a huge allocation
        r._check(nbytes, "the data of a %s array of shape %s (%d bytes)" % (dtype.name, shape, nbytes))
    try:
        data = np.empty(shape, dtype=np.uint8 if code == _BOOL_CODE else dtype)
    except ValueError as exc:        # a 0-size shape whose other dims overflow numpy's limits
        r.fail("the shape %s is invalid (%s)" % (shape, exc))
    if size:
        r.readinto(data, what)
    if code == _BOOL_CODE:
        # a byte other than 0/1 would otherwise make a bool that is neither: normalise in place
        np.not_equal(data, 0, out=data.view(np.bool_))
        return data.view(np.bool_)
    if not _LITTLE and dtype.itemsize > 1:
        data.byteswap(inplace=True)
    return data


_BOOL_CODE = _DTYPE_NAMES.index("bool")


def _read_dims_and_type(r, ndim, fmt):
    """(shape, (dev_type, dev_id, dtype code)): the dims and the three i32 after them, read at once."""
    if ndim < 0:
        r.fail("negative ndim %d" % ndim)
    if ndim > _MAX_NDIM:
        r.fail("ndim %d is absurd (at most %d)" % (ndim, _MAX_NDIM))
    st = _DIMS_AND_TYPE.get((ndim, fmt))
    if st is None:
        st = _DIMS_AND_TYPE[ndim, fmt] = struct.Struct("<%d%siii" % (ndim, fmt))
    values = r.unpack(st, "the dims, the context and dtype")
    shape = values[:ndim]
    for axis, d in enumerate(shape):
        if d < 0:
            r.fail("dim %d of the shape %s is negative" % (axis, shape))
    return shape, values[ndim:]


_DIMS_AND_TYPE = {}
