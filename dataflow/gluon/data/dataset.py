"""Datasets: anything with `__getitem__` and `__len__`; `ArrayDataset` zips arrays, `SimpleDataset` wraps a
list, `RecordFileDataset` reads the raw records of a RecordIO file, and every Dataset can be filtered, sharded,
truncated, resampled and transformed lazily."""
import os

from ... import ndarray
from ...base import MXNetError

__all__ = ["Dataset", "SimpleDataset", "ArrayDataset", "RecordFileDataset"]


class Dataset:
    """Abstract dataset: subclasses give `__getitem__(idx)` and `__len__()`."""

    def __getitem__(self, idx):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def filter(self, fn):
        """The samples for which `fn(sample)` is true."""
        from .sampler import FilterSampler
        return _SampledDataset(self, FilterSampler(fn, self))

    def shard(self, num_shards, index):
        """The `index`-th of `num_shards` contiguous parts (the first `len % num_shards` one longer)."""
        assert index < num_shards, "Shard index of out bound: %d out of %d" % (index, num_shards)
        assert num_shards > 0, "Number of shards must be greater than 0"
        assert index >= 0, "Index must be non-negative"
        length = len(self)
        shard_len, rest = divmod(length, num_shards)
        start = shard_len * index + min(index, rest)
        end = start + shard_len + (index < rest)
        from .sampler import SequentialSampler
        return _SampledDataset(self, SequentialSampler(end - start, start))

    def take(self, count):
        """The first `count` samples (all of them for None or a count past the end)."""
        if count is None or count > len(self):
            count = len(self)
        from .sampler import SequentialSampler
        return _SampledDataset(self, SequentialSampler(count))

    def sample(self, sampler):
        """The samples at the indices `sampler` yields."""
        from .sampler import Sampler
        if not isinstance(sampler, Sampler):
            raise TypeError("Invalid sampler type: %s. Expected gluon.data.Sampler instead." % type(sampler))
        return _SampledDataset(self, sampler)

    def transform(self, fn, lazy=True):
        """Each sample mapped by `fn` (tuples are unpacked into its arguments); now, or at access if lazy."""
        trans = _LazyTransformDataset(self, fn)
        return trans if lazy else SimpleDataset([item for item in trans])

    def transform_first(self, fn, lazy=True):
        """Map only the first element of each sample (the data, not the label)."""
        return self.transform(_TransformFirstClosure(fn), lazy)


class SimpleDataset(Dataset):
    """A dataset over a list (or anything indexable with a length)."""

    def __init__(self, data):
        self._data = data

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        return self._data[idx]


class _LazyTransformDataset(Dataset):
    def __init__(self, data, fn):
        self._data = data
        self._fn = fn

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        item = self._data[idx]
        return self._fn(*item) if isinstance(item, tuple) else self._fn(item)


class _TransformFirstClosure:
    """A picklable `lambda x, *rest: (fn(x),) + rest`."""

    def __init__(self, fn):
        self._fn = fn

    def __call__(self, x, *args):
        return (self._fn(x),) + args if args else self._fn(x)


class _SampledDataset(Dataset):
    def __init__(self, dataset, sampler):
        self._dataset = dataset
        self._sampler = sampler
        self._indices = list(iter(sampler))

    def __len__(self):
        return len(self._sampler)

    def __getitem__(self, idx):
        return self._dataset[self._indices[idx]]


class ArrayDataset(Dataset):
    """A dataset zipping arrays of equal length: sample i is `(a[i], b[i], ...)` (just `a[i]` for one array).

    A 1-D NDArray is read as numpy, so its samples are numbers (MXNet's rule).

    Examples
    --------
    >>> import numpy as np
    >>> from dataflow.gluon.data import ArrayDataset
    >>> ds = ArrayDataset(np.arange(6).reshape(3, 2), [7, 8, 9])
    >>> len(ds), ds[1]
    (3, (array([2, 3]), 8))
    >>> ArrayDataset(np.zeros(3), np.zeros(2))
    Traceback (most recent call last):
    ...
    AssertionError: All arrays must have the same length; array[0] has length 3 while array[2] has 2.
    """

    def __init__(self, *args):
        assert len(args) > 0, "Needs at least 1 arrays"
        self._length = len(args[0])
        self._data = []
        for i, data in enumerate(args):
            assert len(data) == self._length, \
                "All arrays must have the same length; array[0] has length %d while array[%d] has %d." \
                % (self._length, i + 1, len(data))
            if isinstance(data, ndarray.NDArray) and len(data.shape) == 1:
                data = data.asnumpy()
            self._data.append(data)

    def __getitem__(self, idx):
        if len(self._data) == 1:
            return self._data[0][idx]
        return tuple(data[idx] for data in self._data)

    def __len__(self):
        return self._length


class RecordFileDataset(Dataset):
    """The records of the RecordIO file `filename` (.rec), as bytes, in the order of its index (the .idx beside it).
    Usable from DataLoader workers: the reader reopens the file in each process."""

    def __init__(self, filename):
        from ... import recordio     # imported on first use (Note [lazy submodules])
        self.filename = filename
        self.idx_file = os.path.splitext(filename)[0] + ".idx"
        for path in (filename, self.idx_file):
            if not os.path.isfile(path):
                raise MXNetError("%s: %s not found (it needs the .rec file and its .idx)" % (type(self).__name__, path))
        self._record = recordio.MXIndexedRecordIO(self.idx_file, self.filename, "r")

    def __getitem__(self, idx):
        return self._record.read_idx(self._record.keys[idx])

    def __len__(self):
        return len(self._record.keys)
