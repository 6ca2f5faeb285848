"""MXNet's file iterators: `CSVIter`, `LibSVMIter` (CSRNDArray batches) and `MNISTIter`.

MXNet implements them in C++ and streams the files; here a file is parsed once, at construction, into numpy arrays
(these iterators read small to medium data sets), and `_FileBatcher` cuts the examples into batches the way MXNet
does (checked against MXNet 1.9.1's batches, tests/test_io_iters.py):

- `round_batch=True` (CSV, LibSVM): the last batch of an epoch is completed with examples from the start, `pad`
  says how many, and the next epoch starts after them (so epochs drift through the data).
- `round_batch=False` (CSV): the last batch is short; its missing rows keep the previous batch's rows (MXNet reuses
  its buffer) and `pad` says how many there are. LibSVMIter refuses it, as MXNet does.
- MNISTIter drops an incomplete last batch.

Names as in MXNet: the data is `'data'`, the label `'softmax_label'`; without a label file the labels are zeros of
shape (batch_size,). `dtype` (None: float32) applies to data and label. A malformed file raises an MXNetError
naming the file and the line or record.
"""
import os
import struct

import numpy as np

from .. import ndarray as nd
from ..base import MXNetError
from .io import BatchHoldingIter, DataBatch, DataDesc

__all__ = ["CSVIter", "LibSVMIter", "MNISTIter"]

_DTYPES = (None, "bfloat16", "float16", "float32", "float64", "int32", "int64", "int8", "uint8")


def _output_dtype(dtype):
    if dtype not in _DTYPES:
        raise MXNetError("Invalid dtype %r: expected one of %s" % (dtype, ", ".join(map(str, _DTYPES))))
    if dtype == "bfloat16":
        raise MXNetError("dtype 'bfloat16' is not supported by dataflow's file iterators")
    return np.dtype(dtype or "float32")


def _files(path, what):
    """The files at `path`: the file itself, or the files of a directory in name order (as MXNet reads them)."""
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if os.path.isfile(os.path.join(path, n)))
        return [os.path.join(path, n) for n in names]
    if not os.path.isfile(path):
        raise MXNetError("%s: cannot open %r: no such file or directory" % (what, path))
    return [path]


def _shape(shape, what):
    shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    if not shape or any(s <= 0 for s in shape):
        raise MXNetError("%s must be a non-empty shape of positive sizes, got %s" % (what, shape))
    return shape


class _FileBatcher(BatchHoldingIter):
    """Batches of in-memory examples `data` (N, ...) and `label` (N, ...) with MXNet's file-iterator end-of-epoch
    rules (module notes); `last_batch` is 'round', 'stale' (round_batch=False) or 'drop'."""

    def __init__(self, data, label, batch_size, last_batch, dtype, source):
        super().__init__(batch_size)
        if batch_size <= 0:
            raise MXNetError("%s: batch_size must be positive, got %s" % (source, batch_size))
        if len(data) == 0:
            raise MXNetError("%s: no examples to read" % source)
        self._data = data.astype(dtype, copy=False)
        self._label = label.astype(dtype, copy=False)
        self._last_batch = last_batch
        self._epoch_start = 0
        self._next_start = 0     # where the next epoch starts (after the examples a round batch borrowed)
        self._cursor = None
        self._rows = np.zeros(batch_size, np.int64)     # the batch buffer's example indices, reused like MXNet's
        self._batch = None
        self.reset()

    @property
    def provide_data(self):
        return [DataDesc("data", (self.batch_size,) + self._data.shape[1:], self._data.dtype.type)]

    @property
    def provide_label(self):
        return [DataDesc("softmax_label", (self.batch_size,) + self._label.shape[1:], self._label.dtype.type)]

    def reset(self):
        self._epoch_start = self._next_start
        self._cursor = self._epoch_start

    def iter_next(self):
        count = len(self._data)
        if self._cursor >= count:
            return False
        end = self._cursor + self.batch_size
        pad = max(0, end - count)
        if pad and self._last_batch == "drop":
            return False
        if pad and self._last_batch == "round":
            self._rows = np.arange(self._cursor, end) % count
            self._next_start = pad % count
        else:
            self._rows = self._rows.copy()
            self._rows[:self.batch_size - pad] = np.arange(self._cursor, end - pad)
            self._next_start = 0
        self._cursor = end
        self._batch = DataBatch([_batch_array(self._data, self._rows)], [_batch_array(self._label, self._rows)],
                                pad=pad, index=self._rows.astype(np.uint64))
        return True


def _batch_array(examples, rows):
    """The examples `rows` as one NDArray (a CSRNDArray for LibSVM's sparse examples)."""
    if isinstance(examples, _CSRRows):
        return examples.take(rows)
    return nd.array(examples[rows], dtype=examples.dtype)


# -- CSV ---------------------------------------------------------------------------------------------------------------

def _read_csv(path, shape, what):
    """The rows of the CSV file(s) at `path`, each of prod(shape) numbers, as an (N,) + shape float64 array."""
    width = int(np.prod(shape))
    rows = []
    for name in _files(path, what):
        with open(name) as f:
            for number, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    values = [float(v) for v in line.split(",")]
                except ValueError as err:
                    raise MXNetError("%s: %s line %d: %s" % (what, name, number, err)) from None
                if len(values) != width:
                    raise MXNetError("%s: %s line %d has %d values, but the shape %s needs %d"
                                     % (what, name, number, len(values), shape, width))
                rows.append(values)
    return np.array(rows, dtype=np.float64).reshape((len(rows),) + shape)


class CSVIter(_FileBatcher):
    """Batches of the rows of a CSV file (or of the files of a directory): each row is one example of
    `data_shape`; labels are the rows of `label_csv` (of `label_shape`) or zeros.

    Examples
    --------
    >>> import os, tempfile, dataflow as mx
    >>> path = os.path.join(tempfile.mkdtemp(), 'data.csv')
    >>> _ = open(path, 'w').write('1,2\\n3,4\\n5,6\\n')
    >>> it = mx.io.CSVIter(data_csv=path, data_shape=(2,), batch_size=2)
    >>> [(b.data[0].asnumpy().tolist(), b.pad) for b in it]
    [([[1.0, 2.0], [3.0, 4.0]], 0), ([[5.0, 6.0], [1.0, 2.0]], 1)]
    """

    def __init__(self, data_csv, data_shape, batch_size, label_csv="NULL", label_shape=(1,), round_batch=True,
                 prefetch_buffer=4, ctx="gpu", dtype=None):
        data = _read_csv(data_csv, _shape(data_shape, "CSVIter data_shape"), "CSVIter data_csv")
        if label_csv in (None, "NULL"):
            label = np.zeros(len(data))
        else:
            label_shape = _shape(label_shape, "CSVIter label_shape")
            label = _read_csv(label_csv, label_shape, "CSVIter label_csv")
            if label_shape == (1,):
                label = label.reshape(len(label))
            if len(label) != len(data):
                raise MXNetError("CSVIter: %r has %d rows but %r has %d" % (data_csv, len(data), label_csv,
                                                                              len(label)))
        super().__init__(data, label, batch_size, "round" if round_batch else "stale", _output_dtype(dtype),
                         "CSVIter(%r)" % data_csv)


# -- LibSVM ------------------------------------------------------------------------------------------------------------

def _part_bytes(data, num_parts, part_index):
    """The bytes of part `part_index` of `num_parts`: equal byte ranges, each boundary moved to the start of the
    next line (how MXNet's input splitter divides a text file)."""
    if not 0 <= part_index < num_parts:
        raise MXNetError("part_index %d must be in [0, num_parts=%d)" % (part_index, num_parts))
    step = -(-len(data) // num_parts)

    def line_start(offset):
        if offset <= 0 or offset >= len(data):
            return min(max(offset, 0), len(data))
        if data[offset - 1:offset] == b"\n":
            return offset
        newline = data.find(b"\n", offset)
        return len(data) if newline < 0 else newline + 1
    return line_start(step * part_index), line_start(step * (part_index + 1))


class _CSRRows:
    """The examples of a LibSVM file as the parts of one csr matrix (N, width): what `_FileBatcher` batches."""

    def __init__(self, data, indices, indptr, width, shape=None):
        self.data, self.indices, self.indptr, self.width = data, indices, indptr, width
        self.shape = (len(indptr) - 1,) + (shape or (width,))
        self.dtype = data.dtype

    def __len__(self):
        return self.shape[0]

    def astype(self, dtype, copy=False):
        return _CSRRows(self.data.astype(dtype, copy=copy), self.indices, self.indptr, self.width, self.shape[1:])

    def take(self, rows):
        """The rows `rows` (repeats allowed) as a CSRNDArray."""
        counts = self.indptr[rows + 1] - self.indptr[rows]
        indptr = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(counts, out=indptr[1:])
        at = np.repeat(self.indptr[rows] - indptr[:-1], counts) + np.arange(indptr[-1])
        return nd.sparse._csr(self.data[at], self.indices[at], indptr, (len(rows), self.width))


def _read_libsvm(path, width, num_parts, part_index, what):
    """(labels, csr rows) of the LibSVM file(s) at `path` (`label index:value ...`, zero-based indices) within the
    part `part_index` of `num_parts`; each line is a row of `width` columns (its indices sorted, as csr needs)."""
    blob = b"".join(open(name, "rb").read() for name in _files(path, what))
    begin, end = _part_bytes(blob, num_parts, part_index)
    first_line = blob.count(b"\n", 0, begin) + 1
    labels, values, columns, indptr = [], [], [], [0]
    for number, line in enumerate(blob[begin:end].decode().splitlines(), first_line):
        tokens = line.split()
        if not tokens:
            continue
        try:
            labels.append(float(tokens[0]))
            row = {}
            for token in tokens[1:]:
                index, value = token.split(":")
                index = int(index)
                if not 0 <= index < width:
                    raise ValueError("feature index %d is outside the data shape's %d columns" % (index, width))
                row[index] = float(value)
        except ValueError as err:
            raise MXNetError("%s: %s line %d: %s" % (what, path, number, err)) from None
        for index in sorted(row):
            columns.append(index)
            values.append(row[index])
        indptr.append(len(columns))
    return np.array(labels), _CSRRows(np.array(values, np.float64), np.array(columns, np.int64),
                                      np.array(indptr, np.int64), width)


class LibSVMIter(_FileBatcher):
    """Batches of a LibSVM file (`label index:value ...` per line, zero-based indices): the data as CSRNDArrays of
    (batch_size, width of `data_shape`), as MXNet; labels from the file's first column (dense) or, with
    `label_libsvm`, that file's features as CSRNDArrays of `label_shape`. `num_parts`/`part_index` read one of
    equal byte ranges of the file."""

    def __init__(self, data_libsvm, data_shape, batch_size, label_libsvm="NULL", label_shape=(1,), num_parts=1,
                 part_index=0, round_batch=True, prefetch_buffer=4, ctx="gpu", dtype=None):
        if not round_batch:
            raise MXNetError("sparse batch loader doesn't support round_batch == false yet")
        data_shape = _shape(data_shape, "LibSVMIter data_shape")
        labels, rows = _read_libsvm(data_libsvm, int(np.prod(data_shape)), num_parts, part_index,
                                    "LibSVMIter data_libsvm")
        rows.shape = rows.shape[:1] + data_shape
        if label_libsvm not in (None, "NULL"):
            label_shape = _shape(label_shape, "LibSVMIter label_shape")
            _, labels = _read_libsvm(label_libsvm, int(np.prod(label_shape)), num_parts, part_index,
                                     "LibSVMIter label_libsvm")
            if len(labels) != len(rows):
                raise MXNetError("LibSVMIter: %r has %d rows but %r has %d" % (data_libsvm, len(rows), label_libsvm,
                                                                                 len(labels)))
        super().__init__(rows, labels, batch_size, "round", _output_dtype(dtype), "LibSVMIter(%r)" % data_libsvm)


# -- MNIST -------------------------------------------------------------------------------------------------------------

_IDX_IMAGES, _IDX_LABELS = 2051, 2049      # the magic numbers of MNIST's idx3 (images) and idx1 (labels) files


def _read_idx(path, magic, what):
    """The uint8 records of an MNIST idx file: (count, rows, cols) for images, (count,) for labels."""
    if not os.path.isfile(path):
        raise MXNetError("MNISTIter: %s file %r does not exist" % (what, path))
    with open(path, "rb") as f:
        blob = f.read()
    dims = 3 if magic == _IDX_IMAGES else 1
    header = 4 * (1 + dims)
    if len(blob) < header:
        raise MXNetError("MNISTIter: %s file %r is truncated inside its %d-byte header" % (what, path, header))
    found, *shape = struct.unpack(">%dI" % (1 + dims), blob[:header])
    if found != magic:
        raise MXNetError("MNISTIter: %s file %r has magic number %d, expected %d (an MNIST idx%d file)"
                         % (what, path, found, magic, dims))
    record = int(np.prod(shape[1:], dtype=np.int64))
    have = (len(blob) - header) // record if record else 0
    if have < shape[0]:
        raise MXNetError("MNISTIter: %s file %r is truncated: it ends inside record %d of %d (%d bytes of "
                         "records, %d needed)" % (what, path, have, shape[0], len(blob) - header,
                                                  shape[0] * record))
    return np.frombuffer(blob, np.uint8, shape[0] * record, header).reshape(shape)


class MNISTIter(_FileBatcher):
    """Batches of the MNIST idx files `image` and `label`: images as float32 in [0, 1) (pixel / 256, as MXNet),
    shape (batch, 1, 28, 28) or (batch, 784) with `flat`; labels as float32. `shuffle` permutes the examples once
    (with `seed`); `num_parts`/`part_index` read one contiguous part; an incomplete last batch is dropped."""

    def __init__(self, image="./train-images-idx3-ubyte", label="./train-labels-idx1-ubyte", batch_size=128,
                 shuffle=True, flat=False, seed=0, silent=False, num_parts=1, part_index=0, prefetch_buffer=4,
                 ctx="gpu", dtype=None):
        images = _read_idx(image, _IDX_IMAGES, "image")
        labels = _read_idx(label, _IDX_LABELS, "label")
        if len(images) != len(labels):
            raise MXNetError("MNISTIter: %r has %d images but %r has %d labels" % (image, len(images), label,
                                                                                  len(labels)))
        if not 0 <= part_index < num_parts:
            raise MXNetError("MNISTIter: part_index %d must be in [0, num_parts=%d)" % (part_index, num_parts))
        step = len(images) // num_parts
        end = len(images) if part_index == num_parts - 1 else step * (part_index + 1)
        order = np.arange(step * part_index, end)
        if shuffle:
            np.random.RandomState(seed).shuffle(order)
        pixels = images[order].astype(np.float32) / 256.0
        pixels = pixels.reshape(len(order), -1) if flat else pixels[:, None]
        if not silent:
            print("MNISTIter: load %d images, shuffle=%d, shape=%s" % (len(order), int(bool(shuffle)),
                                                                       (batch_size,) + pixels.shape[1:]))
        super().__init__(pixels, labels[order].astype(np.float32), batch_size, "drop", _output_dtype(dtype),
                         "MNISTIter(%r)" % image)
