"""`DataLoader`: batches of a Dataset as NDArrays.

Indices come from a BatchSampler (built from `batch_size`, `shuffle`/`sampler` and `last_batch`, or given), the
samples of a batch are read from the dataset and joined by `batchify_fn` (by default stacked along a new first
axis; tuples are batched element by element into a list).

Workers: with `num_workers=0` each batch is made when it is asked for. With `num_workers > 0` the batches are
made by a pool of that many *threads* in this process, `prefetch` batches ahead, and returned in order. MXNet
would fork worker processes; here a process would have to start with `spawn` (the engine's threads do not
survive a fork) and import numba again, which costs seconds per worker, so threads are used whatever
`thread_pool` says. The result is the same batches in the same order.
"""
from multiprocessing.pool import ThreadPool

import numpy as np

from ... import ndarray as nd
from . import sampler as _sampler

__all__ = ["DataLoader", "default_batchify_fn"]


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


def _make_batch(dataset, batchify_fn, indices):
    return batchify_fn([dataset[i] for i in indices])


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
    pin_memory, pin_device_id : accepted; there is only CPU memory
    prefetch : int, batches made ahead with workers (default 2 * num_workers)
    thread_pool : bool, accepted (workers are always threads here)
    timeout : float, seconds to wait for a worker's batch
    auto_reload : bool, accepted (every `iter()` starts a new pass either way)

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
        self._batchify_fn = batchify_fn if batchify_fn is not None else default_batchify_fn
        self.auto_reload = auto_reload
        self._worker_pool = ThreadPool(self._num_workers) if self._num_workers > 0 else None

    def __iter__(self):
        if self._worker_pool is None:
            for indices in self._batch_sampler:
                yield _make_batch(self._dataset, self._batchify_fn, indices)
            return
        yield from self._threaded_iter()

    def _threaded_iter(self):
        """Batches made by the worker threads, at most `prefetch` (at least one) ahead, in sampler order."""
        pending = []
        indices = iter(self._batch_sampler)
        ahead = max(1, self._prefetch)

        def push_next():
            batch = next(indices, None)
            if batch is not None:
                pending.append(self._worker_pool.apply_async(
                    _make_batch, (self._dataset, self._batchify_fn, batch)))
        for _ in range(ahead):
            push_next()
        while pending:
            result = pending.pop(0)
            push_next()
            yield result.get(self._timeout)

    def __len__(self):
        return len(self._batch_sampler)

    def __del__(self):
        pool = getattr(self, "_worker_pool", None)
        if pool is not None:
            pool.terminate()
