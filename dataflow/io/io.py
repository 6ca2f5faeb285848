"""`mx.io`: data iterators for the Module API (`DataDesc`, `DataBatch`, `DataIter`, `NDArrayIter`, `ResizeIter`).

An iterator yields `DataBatch`es of `batch_size` examples and describes them with `provide_data` /
`provide_label` (lists of `DataDesc`: name, shape with the batch size, dtype, layout), which `Module.bind` takes.
`reset()` starts the next epoch.

`NDArrayIter` follows MXNet 1.9.1 exactly, quirks included (checked against it):

- Inputs: one array (named `data_name` / `label_name`, default `'data'` / `'softmax_label'`), a list (named
  `_0_data`, `_1_data`, ... unless it has one entry), or a dict; the names are then sorted. Arrays that are not
  NDArrays become float32 NDArrays (`mx.nd.array`).
- `shuffle=True` permutes the examples with numpy's global generator (`np.random.shuffle`) at construction and at
  every `reset()`, and the shuffled copies are float32.
- `last_batch_handle='pad'` (default): the last batch is completed with examples from the start (repeated when the
  batch is larger than the data), and `batch.pad` says how many. `'discard'` drops the incomplete batch.
  `'roll_over'` keeps it for the next epoch, whose first batch is the leftover followed by the first examples; that
  batch reports `pad` = the number of new examples in it (MXNet's `getpad` returns `-cursor` there).
"""
import numpy as np

from ..base import mx_real_t
from .. import ndarray as nd
from .utils import _getdata_by_idx, _init_data

__all__ = ["DataBatch", "DataDesc", "DataIter", "NDArrayIter", "ResizeIter"]


class DataDesc(tuple):
    """The name and shape of one input, with its dtype and layout (a `(name, shape)` tuple, as in MXNet).

    Examples
    --------
    >>> import dataflow as mx
    >>> d = mx.io.DataDesc('data', (32, 64))
    >>> d
    DataDesc[data,(32, 64),<class 'numpy.float32'>,NCHW]
    >>> d == ('data', (32, 64)), d.name, d.shape
    (True, 'data', (32, 64))
    """

    def __new__(cls, name, shape, dtype=mx_real_t, layout="NCHW"):
        desc = super().__new__(cls, (name, shape))
        desc.dtype = dtype
        desc.layout = layout
        return desc

    def __getnewargs__(self):
        return tuple(self)

    @property
    def name(self):
        return self[0]

    @property
    def shape(self):
        return self[1]

    def __repr__(self):
        return "DataDesc[%s,%s,%s,%s]" % (self.name, self.shape, self.dtype, self.layout)

    @staticmethod
    def get_batch_axis(layout):
        """The axis of the batch in `layout` ('N'); 0 when the layout is None, -1 when it has no 'N'."""
        return 0 if layout is None else layout.find("N")

    @staticmethod
    def get_list(shapes, types):
        """DataDescs from `[(name, shape)]` and, optionally, `[(name, dtype)]`."""
        if types is None:
            return [DataDesc(name, shape) for name, shape in shapes]
        type_dict = dict(types)
        return [DataDesc(name, shape, type_dict[name]) for name, shape in shapes]


class DataBatch:
    """One batch: lists of data and label NDArrays, and `pad`, the number of filler examples at its end."""

    def __init__(self, data, label=None, pad=None, index=None, bucket_key=None, provide_data=None,
                 provide_label=None):
        if data is not None and not isinstance(data, (list, tuple)):
            raise TypeError("Data must be list of NDArrays, got %s" % type(data).__name__)
        if label is not None and not isinstance(label, (list, tuple)):
            raise TypeError("Label must be list of NDArrays, got %s" % type(label).__name__)
        self.data = data
        self.label = label
        self.pad = pad
        self.index = index
        self.bucket_key = bucket_key
        self.provide_data = provide_data
        self.provide_label = provide_label

    def __str__(self):
        label_shapes = [x.shape for x in self.label] if self.label else None
        return "%s: data shapes: %s label shapes: %s" % (type(self).__name__, [d.shape for d in self.data],
                                                         label_shapes)


class DataIter:
    """Base class of the iterators: `next()` returns a DataBatch or raises StopIteration; `reset()` rewinds.

    Subclasses implement `iter_next` and `getdata`/`getlabel`/`getpad` (or override `next`)."""

    def __init__(self, batch_size=0):
        self.batch_size = batch_size

    def __iter__(self):
        return self

    def reset(self):
        """Go back to the beginning of the data."""

    def next(self):
        """The next DataBatch; StopIteration at the end of the epoch."""
        if not self.iter_next():
            raise StopIteration
        return DataBatch(data=self.getdata(), label=self.getlabel(), pad=self.getpad(), index=self.getindex())

    def __next__(self):
        return self.next()

    def iter_next(self):
        """Move to the next batch; False at the end."""
        raise NotImplementedError()

    def getdata(self):
        """The data NDArrays of the current batch."""
        raise NotImplementedError()

    def getlabel(self):
        """The label NDArrays of the current batch."""
        raise NotImplementedError()

    def getindex(self):
        """The example indices of the current batch (None when unknown)."""
        return None

    def getpad(self):
        """How many examples at the end of the current batch are filler."""
        raise NotImplementedError()


class BatchHoldingIter(DataIter):
    """A DataIter whose `iter_next()` builds the whole next DataBatch into `self._batch`; the accessors read it
    (the file iterators and the image record iterators)."""

    _batch = None

    def next(self):
        if not self.iter_next():
            raise StopIteration
        return self._batch

    def getdata(self):
        return self._batch.data

    def getlabel(self):
        return self._batch.label

    def getpad(self):
        return self._batch.pad

    def getindex(self):
        return self._batch.index


class ResizeIter(DataIter):
    """`data_iter` resized to `size` batches per epoch: it is reset and read again when it runs out early.

    With `reset_internal=False`, `reset()` does not rewind `data_iter`, so epochs continue where the last one
    stopped."""

    def __init__(self, data_iter, size, reset_internal=True):
        super().__init__(data_iter.batch_size)
        self.data_iter = data_iter
        self.size = size
        self.reset_internal = reset_internal
        self.cur = 0
        self.current_batch = None
        self.provide_data = data_iter.provide_data
        self.provide_label = data_iter.provide_label
        if hasattr(data_iter, "default_bucket_key"):
            self.default_bucket_key = data_iter.default_bucket_key

    def reset(self):
        self.cur = 0
        if self.reset_internal:
            self.data_iter.reset()

    def iter_next(self):
        if self.cur == self.size:
            return False
        try:
            self.current_batch = self.data_iter.next()
        except StopIteration:
            self.data_iter.reset()
            self.current_batch = self.data_iter.next()
        self.cur += 1
        return True

    def getdata(self):
        return self.current_batch.data

    def getlabel(self):
        return self.current_batch.label

    def getindex(self):
        return self.current_batch.index

    def getpad(self):
        return self.current_batch.pad


class NDArrayIter(DataIter):
    """Batches of in-memory arrays (NDArrays or numpy arrays); see the module docstring for the exact rules.

    Parameters
    ----------
    data : array, list of arrays, or dict name -> array
    label : array, list of arrays, dict name -> array, or None
    batch_size : int
    shuffle : bool, permute the examples (numpy's global generator) at construction and at each reset
    last_batch_handle : 'pad', 'discard' or 'roll_over'
    data_name, label_name : str, the names of a single data / label array
    layout : str, where 'N' (the batch axis) is

    Examples
    --------
    >>> import numpy as np, dataflow as mx
    >>> it = mx.io.NDArrayIter(np.arange(10).reshape(5, 2), np.arange(5), batch_size=2)
    >>> it.provide_data
    [DataDesc[data,(2, 2),<class 'numpy.float32'>,NCHW]]
    >>> it.provide_label
    [DataDesc[softmax_label,(2,),<class 'numpy.float32'>,NCHW]]
    >>> [(b.label[0].asnumpy().tolist(), b.pad) for b in it]
    [([0.0, 1.0], 0), ([2.0, 3.0], 0), ([4.0, 0.0], 1)]
    >>> mx.io.NDArrayIter(np.zeros((4, 2)), last_batch_handle='fill')
    Traceback (most recent call last):
    ...
    ValueError: last_batch_handle must be 'pad', 'discard' or 'roll_over', got 'fill'
    """

    def __init__(self, data, label=None, batch_size=1, shuffle=False, last_batch_handle="pad", data_name="data",
                 label_name="softmax_label", layout="NCHW"):
        super().__init__(batch_size)
        if last_batch_handle not in ("pad", "discard", "roll_over"):
            raise ValueError("last_batch_handle must be 'pad', 'discard' or 'roll_over', got %r"
                             % (last_batch_handle,))
        self.data = _init_data(data, allow_empty=False, default_name=data_name)
        self.label = _init_data(label, allow_empty=True, default_name=label_name)
        self.layout = layout
        self.idx = np.arange(self.data[0][1].shape[0])
        self.shuffle = shuffle
        self.last_batch_handle = last_batch_handle
        self.cursor = -batch_size
        self.num_data = self.idx.shape[0]
        self._cache_data = None         # 'roll_over': the incomplete last batch, kept for the next epoch
        self._cache_label = None
        self.reset()
        self.data_list = [x[1] for x in self.data] + [x[1] for x in self.label]
        self.num_source = len(self.data_list)

    def _descs(self, sources):
        axis = DataDesc.get_batch_axis(self.layout)
        return [DataDesc(k, tuple(v.shape[:axis]) + (self.batch_size,) + tuple(v.shape[axis + 1:]), v.dtype,
                         layout=self.layout) for k, v in sources]

    @property
    def provide_data(self):
        """DataDescs of the data, with the batch size in the batch axis."""
        return self._descs(self.data)

    @property
    def provide_label(self):
        """DataDescs of the labels (empty without labels)."""
        return self._descs(self.label)

    def hard_reset(self):
        """Go back to the start, dropping any rolled-over examples."""
        if self.shuffle:
            self._shuffle_data()
        self.cursor = -self.batch_size
        self._cache_data = None
        self._cache_label = None

    def reset(self):
        if self.shuffle:
            self._shuffle_data()
        if self.last_batch_handle == "roll_over" and \
                self.num_data - self.batch_size < self.cursor < self.num_data:
            # the cached tail (num_data - cursor examples) opens the next epoch
            self.cursor = self.cursor - self.num_data - self.batch_size
        else:
            self.cursor = -self.batch_size

    def iter_next(self):
        self.cursor += self.batch_size
        return self.cursor < self.num_data

    def next(self):
        if not self.iter_next():
            raise StopIteration
        data, label = self.getdata(), self.getlabel()
        if data[0].shape[self._axis()] != self.batch_size:    # an incomplete last batch ('discard', 'roll_over')
            self._cache_data, self._cache_label = data, label
            raise StopIteration
        return DataBatch(data=data, label=label, pad=self.getpad(), index=None)

    def getdata(self):
        return self._batchify(self.data)

    def getlabel(self):
        return self._batchify(self.label)

    def getpad(self):
        if self.last_batch_handle == "pad" and self.cursor + self.batch_size > self.num_data:
            return self.cursor + self.batch_size - self.num_data
        if self.last_batch_handle == "roll_over" and -self.batch_size < self.cursor < 0:
            return -self.cursor
        return 0

    # -- batches -----------------------------------------------------------------------------------------------
    def _axis(self):
        return DataDesc.get_batch_axis(self.layout)

    def _batchify(self, sources):
        if self.cursor >= self.num_data:
            raise RuntimeError("DataIter needs reset.")
        if self.last_batch_handle == "roll_over" and -self.batch_size < self.cursor < 0:
            # first batch of an epoch after a roll-over: the cached tail, then the first examples
            cached = self._cache_data if self._cache_data is not None else self._cache_label
            if cached is None:
                raise RuntimeError("NDArrayIter: the next epoch should have cached data")
            head = self._slice(sources, 0, self.cursor + self.batch_size)
            if self._cache_data is not None:
                self._cache_data = None
            else:
                self._cache_label = None
            return self._concat(cached, head)
        if self.last_batch_handle == "pad" and self.cursor + self.batch_size > self.num_data:
            pad = self.batch_size - self.num_data + self.cursor
            tail = self._slice(sources, self.cursor, self.num_data)
            if pad > self.num_data:      # the batch is larger than the data: repeat it whole, then a part
                filler = self._tile(self._slice(sources, 0, self.num_data), pad // self.num_data)
                if pad % self.num_data:
                    filler = self._concat(filler, self._slice(sources, 0, pad % self.num_data))
            else:
                filler = self._slice(sources, 0, pad)
            return self._concat(tail, filler)
        return self._slice(sources, self.cursor, min(self.cursor + self.batch_size, self.num_data))

    def _slice(self, sources, start, end):
        axis = self._axis()
        if axis == 0:
            return [v[start:end].copy() for _, v in sources]
        key = (slice(None),) * axis + (slice(start, end),)
        return [nd.array(v.asnumpy()[key], v.context, v.dtype) for _, v in sources]

    def _concat(self, first, second):
        if not first or not second:
            return first if first else second
        return [nd.concat(a, b, dim=self._axis()) for a, b in zip(first, second, strict=True)]

    @staticmethod
    def _tile(arrays, repeats):
        # MXNet tiles along axis 0 whatever the layout
        return [nd.array(np.tile(a.asnumpy(), (repeats,) + (1,) * (a.ndim - 1)), a.context, a.dtype)
                for a in arrays]

    def _shuffle_data(self):
        np.random.shuffle(self.idx)
        self.data = _getdata_by_idx(self.data, self.idx)
        self.label = _getdata_by_idx(self.label, self.idx)
