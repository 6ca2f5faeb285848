"""`DataLoader`: batches of a Dataset as NDArrays.

Indices come from a BatchSampler (built from `batch_size`, `shuffle`/`sampler` and `last_batch`, or given), the
samples of a batch are read from the dataset and joined by `batchify_fn` (by default stacked along a new first
axis; tuples are batched element by element into a list).

Workers: with `num_workers=0` each batch is made when it is asked for. With `num_workers > 0` the batches are
made by a pool of that many *threads* in this process, `prefetch` batches ahead, and returned in order
(`_MultiWorkerIter`). MXNet would fork worker processes; here a process would have to start with `spawn` (the
engine's threads do not survive a fork) and import numba again, which costs seconds per worker, so threads are
used whatever `thread_pool` says. The result is the same batches in the same order. The module keeps MXNet's
names that data-loading libraries import and subclass (`_MultiWorkerIter`, `_worker_fn`, `_thread_worker_fn`,
`_worker_initializer`, `default_mp_batchify_fn`, `_as_in_context`, `ForkingPickler`).
"""
import io
import multiprocessing
import pickle
from multiprocessing.pool import ThreadPool
from multiprocessing.reduction import ForkingPickler

import numpy as np

from ... import context
from ... import ndarray as nd
from ...util import is_np_array, is_np_shape, set_np
from . import sampler as _sampler

__all__ = ["DataLoader", "default_batchify_fn", "default_mp_batchify_fn"]


def default_batchify_fn(data):
    """Stack a list of samples into a batch: NDArrays with `nd.stack`, tuples element by element (a list of
    batches), anything else through `np.asarray` into an NDArray of the same dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from dataflow.gluon.data.dataloader import default_batchify_fn
    >>> x, y = default_batchify_fn([(np.zeros(2), 1), (np.ones(2), 0)])
    >>> x.shape, y.asnumpy()
    ((2, 2), array([1, 0]))
    """
    if isinstance(data[0], nd.NDArray):
        return nd.stack(*data)
    if isinstance(data[0], tuple):
        return [default_batchify_fn(list(column)) for column in zip(*data)]
    data = np.asarray(data)
    return nd.array(data, dtype=data.dtype)


def default_mp_batchify_fn(data):
    """`default_batchify_fn`, with the batch in the `cpu_shared` context, as MXNet's worker processes make it
    (here shared memory is ordinary CPU memory)."""
    shared = context.Context("cpu_shared", 0)
    if isinstance(data[0], nd.NDArray):
        out = nd.empty((len(data),) + data[0].shape, dtype=data[0].dtype, ctx=shared)
        return nd.stack(*data, out=out)
    if isinstance(data[0], tuple):
        return [default_mp_batchify_fn(list(column)) for column in zip(*data)]
    data = np.asarray(data)
    return nd.array(data, dtype=data.dtype, ctx=shared)


def _as_in_context(data, ctx):
    """`data` (an NDArray, or nested lists/tuples of them; anything else unchanged) moved to `ctx`."""
    if isinstance(data, nd.NDArray):
        return data.as_in_context(ctx)
    if isinstance(data, (list, tuple)):
        return [_as_in_context(d, ctx) for d in data]
    return data


# -- worker functions (MXNet's names; the pool here is one of threads) -------------------------------------------------

_worker_dataset = None      # the dataset of `_worker_fn`, set by `_worker_initializer`


def _worker_initializer(dataset, active_shape, active_array):
    """Pool initializer of MXNet's process workers: remember the dataset, copy the NumPy-semantics switches."""
    global _worker_dataset
    _worker_dataset = dataset
    set_np(shape=active_shape, array=active_array)


def _thread_worker_initializer(active_shape, active_array):
    """Pool initializer of thread workers: copy the caller's NumPy-semantics switches into the thread."""
    set_np(shape=active_shape, array=active_array)


def _worker_fn(samples, batchify_fn, dataset=None):
    """Make the batch of indices `samples` from the initializer's dataset; return it pickled (as a process worker
    sends it back)."""
    batch = batchify_fn([_worker_dataset[i] for i in samples])
    buf = io.BytesIO()
    ForkingPickler(buf, pickle.HIGHEST_PROTOCOL).dump(batch)
    return buf.getvalue()


def _thread_worker_fn(samples, batchify_fn, dataset):
    """Make the batch of indices `samples` from `dataset`."""
    return batchify_fn([dataset[i] for i in samples])


class _MultiWorkerIter:
    """Batches made by `worker_fn` in `worker_pool`, `prefetch` ahead, returned in sampler order.

    `dataset=None` means `worker_fn` returns pickled batches (MXNet's process workers), else the batches
    themselves. With `pin_memory` each batch moves to `cpu_pinned(pin_device_id)`."""

    def __init__(self, worker_pool, batchify_fn, batch_sampler, pin_memory=False, pin_device_id=0,
                 worker_fn=_worker_fn, prefetch=0, dataset=None, data_loader=None, timeout=120):
        self._worker_pool = worker_pool
        self._batchify_fn = batchify_fn
        self._batch_sampler = batch_sampler
        self._data_buffer = {}
        self._rcvd_idx = 0
        self._sent_idx = 0
        self._iter = iter(self._batch_sampler)
        self._worker_fn = worker_fn
        self._pin_memory = pin_memory
        self._pin_device_id = pin_device_id
        self._dataset = dataset
        self._data_loader = data_loader     # kept alive while batches are in flight
        self._timeout = timeout
        for _ in range(prefetch):
            self._push_next()

    def __len__(self):
        return len(self._batch_sampler)

    def _push_next(self):
        """Hand the next batch of indices to the pool."""
        indices = next(self._iter, None)
        if indices is None:
            return
        self._data_buffer[self._sent_idx] = self._worker_pool.apply_async(
            self._worker_fn, (indices, self._batchify_fn, self._dataset))
        self._sent_idx += 1

    def __next__(self):
        self._push_next()
        if self._rcvd_idx == self._sent_idx:
            assert not self._data_buffer, "Data buffer should be empty at this moment"
            raise StopIteration
        pending = self._data_buffer.pop(self._rcvd_idx)
        try:
            batch = pending.get(self._timeout)
        except multiprocessing.TimeoutError:
            raise multiprocessing.TimeoutError(
                "Worker timed out after %s seconds. This might be caused by a slow transform: increase `timeout` "
                "to allow slower data loading in each worker." % self._timeout) from None
        if self._dataset is None:
            batch = pickle.loads(batch)
        if self._pin_memory:
            batch = _as_in_context(batch, context.cpu_pinned(self._pin_device_id))
        self._rcvd_idx += 1
        return batch

    next = __next__

    def __iter__(self):
        return self


class DataLoader:
    """Loads batches from a Dataset.

    Parameters
    ----------
    dataset : Dataset (anything with `__getitem__` and `__len__`)
    batch_size : int, the size of a batch (unless `batch_sampler` is given)
    shuffle : bool, draw a new permutation of the samples every pass
    sampler : Sampler, the order of the samples (not with `shuffle`)
    last_batch : {'keep', 'discard', 'rollover'}, default 'keep'; see `BatchSampler`
    batch_sampler : Sampler of lists of indices (then batch_size, shuffle, sampler and last_batch must be unset)
    batchify_fn : callable, list of samples -> batch (default `default_batchify_fn`)
    num_workers : int, threads that make batches ahead (see the module notes)
    pin_memory, pin_device_id : put each batch in the context `cpu_pinned(pin_device_id)` (ordinary CPU memory)
    prefetch : int, batches made ahead with workers (default 2 * num_workers)
    thread_pool : bool, accepted (workers are always threads here)
    timeout : float, seconds to wait for a worker's batch
    auto_reload : bool, start loading the next pass as soon as one ends (and at construction)

    Examples
    --------
    >>> import numpy as np
    >>> from dataflow.gluon.data import ArrayDataset, DataLoader
    >>> ds = ArrayDataset(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5))
    >>> [(x.shape, y.asnumpy().tolist()) for x, y in DataLoader(ds, batch_size=2)]
    [((2, 2), [0, 1]), ((2, 2), [2, 3]), ((1, 2), [4])]
    >>> len(DataLoader(ds, batch_size=2, last_batch='discard'))
    2
    >>> DataLoader(ds, batch_size=2, shuffle=True, sampler=range(5))
    Traceback (most recent call last):
    ...
    ValueError: shuffle must not be specified if sampler is specified
    """

    def __init__(self, dataset, batch_size=None, shuffle=False, sampler=None, last_batch=None, batch_sampler=None,
                 batchify_fn=None, num_workers=0, pin_memory=False, pin_device_id=0, prefetch=None,
                 thread_pool=False, timeout=120, auto_reload=False):
        self._dataset = dataset
        self._pin_memory = pin_memory
        self._pin_device_id = pin_device_id
        self._thread_pool = thread_pool
        assert timeout > 0, "timeout must be positive, given {}".format(timeout)
        self._timeout = timeout
        if batch_sampler is None:
            if batch_size is None:
                raise ValueError("batch_size must be specified unless batch_sampler is specified")
            if sampler is None:
                sampler = (_sampler.RandomSampler(len(dataset)) if shuffle
                           else _sampler.SequentialSampler(len(dataset)))
            elif shuffle:
                raise ValueError("shuffle must not be specified if sampler is specified")
            batch_sampler = _sampler.BatchSampler(sampler, batch_size, last_batch if last_batch else "keep")
        elif batch_size is not None or shuffle or sampler is not None or last_batch is not None:
            raise ValueError("batch_size, shuffle, sampler and last_batch must not be specified if batch_sampler "
                             "is specified.")
        self._batch_sampler = batch_sampler
        self._num_workers = num_workers if num_workers >= 0 else 0
        self._prefetch = max(0, int(prefetch) if prefetch is not None else 2 * self._num_workers)
        # MXNet's process workers would batch into shared memory (`default_mp_batchify_fn`); threads need not
        self._batchify_fn = batchify_fn if batchify_fn is not None else default_batchify_fn
        self._worker_pool = None
        if self._num_workers > 0:
            self._worker_pool = ThreadPool(self._num_workers, initializer=_thread_worker_initializer,
                                           initargs=(is_np_shape(), is_np_array()))
        self.auto_reload = auto_reload
        self._iter = None
        if auto_reload:
            self.refresh()

    def __iter__(self):
        if self._iter is None:
            self.refresh()
        batches, self._iter = self._iter, None      # an iterator is used for one pass only
        yield from batches
        if self._iter is None and self.auto_reload:
            self.refresh()

    def _prefetch_iter(self):
        """An iterator over one pass: made in this thread, or by the worker threads (`_MultiWorkerIter`)."""
        if self._worker_pool is None:
            return self._same_thread_iter()
        return _MultiWorkerIter(self._worker_pool, self._batchify_fn, self._batch_sampler,
                                pin_memory=self._pin_memory, pin_device_id=self._pin_device_id,
                                worker_fn=_thread_worker_fn, prefetch=self._prefetch, dataset=self._dataset,
                                data_loader=self, timeout=self._timeout)

    def _same_thread_iter(self):
        for indices in self._batch_sampler:
            batch = self._batchify_fn([self._dataset[i] for i in indices])
            if self._pin_memory:
                batch = _as_in_context(batch, context.cpu_pinned(self._pin_device_id))
            yield batch

    def refresh(self):
        """Start a new pass now (with workers, its first batches begin loading)."""
        self._iter = self._prefetch_iter()

    def clean(self):
        """Drop the started pass; the next `iter()` starts one."""
        self._iter = None

    def __len__(self):
        return len(self._batch_sampler)

    def __del__(self):
        pool = getattr(self, "_worker_pool", None)
        if pool is not None:
            pool.terminate()
