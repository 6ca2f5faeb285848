"""`DataLoader`: batches of a Dataset as NDArrays.

Indices come from a BatchSampler (built from `batch_size`, `shuffle`/`sampler` and `last_batch`, or given), the
samples of a batch are read from the dataset and joined by `batchify_fn` (by default stacked along a new first
axis; tuples are batched element by element into a list).

Workers: with `num_workers=0` each batch is made when it is asked for. With `num_workers > 0` the batches are
made `prefetch` ahead by a pool and returned in sampler order (`_MultiWorkerIter`):

- `thread_pool=True`: that many threads in this process.
- otherwise (MXNet's default): that many worker *processes*, started with `spawn` (never fork: the engine's and
  numba's threads do not survive a fork). Each worker gets the dataset once (pickled, at start) and makes whole
  batches (`_worker_fn`); the arrays of a batch come back through shared memory: the worker writes them into one
  file of a per-loader folder in /dev/shm (`_SharedBatchWriter`), the loader maps that file and wraps the mapped
  bytes as NDArrays without copying (`_read_shared_batch`) and unlinks it at once; only the batch's small skeleton
  (structure, dtypes, shapes, offsets) is pickled. A worker's exception is raised in the loader with the worker's
  traceback as its cause. The pool and the folder go when the loader is collected or the interpreter exits.

  The rule of `spawn` (as in PyTorch): a worker re-imports what it unpickles, so the dataset, its transforms and
  `batchify_fn` must be picklable -- classes and functions defined at the top level of an importable module (a test
  module is importable when its folder is on `sys.path` or it is part of a package), no lambdas or closures -- and a
  script that makes a loader must guard its top level with `if __name__ == "__main__":`. A dataset or batchify_fn
  that cannot be pickled makes the loader fall back to threads, with a warning saying why.

The module keeps MXNet's names that data-loading libraries import and subclass (`_MultiWorkerIter`, `_worker_fn`,
`_thread_worker_fn`, `_worker_initializer`, `default_mp_batchify_fn`, `_as_in_context`, `ForkingPickler`).
"""
import io
import mmap
import multiprocessing
import os
import pickle
import shutil
import sys
import tempfile
import threading
import traceback
import warnings
import weakref
from multiprocessing.pool import ThreadPool
from multiprocessing.reduction import ForkingPickler

import numpy as np

from ... import context
from ...base import MXNetError
from ... import ndarray as nd
from ...util import as_np_if_active, is_np_array, is_np_shape, set_np
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
        return as_np_if_active(nd.stack(*data))     # NumPy array semantics: mx.np.ndarrays
    if isinstance(data[0], tuple):
        return [default_batchify_fn(list(column)) for column in zip(*data)]
    data = np.asarray(data)
    return as_np_if_active(nd.array(data, dtype=data.dtype))


def default_mp_batchify_fn(data):
    """`default_batchify_fn`, with the batch in the `cpu_shared` context: the default of worker processes, whose
    batches reach the loader through shared memory (`_SharedBatchWriter`) and keep that context there."""
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


# -- process workers: batches through shared memory ---------------------------------------------------------------

_ALIGN = 64     # every array of a shared batch starts at a multiple of this many bytes


def _shared_memory_root():
    """Where the per-loader folders of shared batches go: /dev/shm (memory) where it exists."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()


class _ArraySlot:
    """Where one array of a shared batch lies in its file: byte offset, dtype, shape, and the context of the
    NDArray it was (None for a numpy array)."""
    __slots__ = ("offset", "dtype", "shape", "ctx")

    def __init__(self, offset, dtype, shape, ctx):
        self.offset, self.dtype, self.shape, self.ctx = offset, dtype, shape, ctx

    def __getstate__(self):
        return (self.offset, self.dtype, self.shape, self.ctx)

    def __setstate__(self, state):
        self.offset, self.dtype, self.shape, self.ctx = state


class _SharedBatchWriter:
    """Writes the arrays of a batch (NDArrays and numpy arrays, nested in lists/tuples/dicts) into one file of the
    loader's shared folder; `write` returns `(path, skeleton)`, the skeleton being the batch with every array
    replaced by its `_ArraySlot`."""

    def __init__(self, folder):
        self._folder = folder
        self._count = 0

    def write(self, batch):
        arrays = []
        skeleton = self._slots(batch, arrays)
        if not arrays:
            return None, skeleton
        self._count += 1
        path = os.path.join(self._folder, "%d-%d" % (os.getpid(), self._count))
        with open(path, "wb") as f:
            for slot, array in arrays:
                f.write(b"\0" * (slot.offset - f.tell()))
                f.write(array.data if array.size else b"")
            f.write(b"\0" * max(0, 1 - f.tell()))      # an empty file cannot be mapped
        return path, skeleton

    def _slots(self, item, arrays):
        if isinstance(item, (nd.NDArray, np.ndarray)):
            ctx = item.context if isinstance(item, nd.NDArray) else None
            array = np.ascontiguousarray(item.asnumpy() if ctx is not None else item)
            end = arrays[-1][0].offset + arrays[-1][1].nbytes if arrays else 0
            slot = _ArraySlot(-(-end // _ALIGN) * _ALIGN, array.dtype.str, array.shape, ctx)
            arrays.append((slot, array))
            return slot
        if isinstance(item, (list, tuple)):
            parts = [self._slots(x, arrays) for x in item]
            return parts if isinstance(item, list) else (type(item)(*parts) if hasattr(item, "_fields")
                                                          else tuple(parts))
        if isinstance(item, dict):
            return {k: self._slots(v, arrays) for k, v in item.items()}
        return item


def _read_shared_batch(path, skeleton):
    """The batch a worker wrote to `path`: its arrays are views of the mapped file (no copy); the file is unlinked
    (the mapping lives as long as the arrays)."""
    if path is None:
        return skeleton
    with open(path, "r+b") as f:
        mapped = mmap.mmap(f.fileno(), 0)
    os.unlink(path)
    buffer = np.frombuffer(mapped, dtype=np.uint8)

    def fill(item):
        if isinstance(item, _ArraySlot):
            dtype = np.dtype(item.dtype)
            count = int(np.prod(item.shape, dtype=np.int64))
            array = buffer[item.offset:item.offset + count * dtype.itemsize].view(dtype).reshape(item.shape)
            return array if item.ctx is None else nd.NDArray(array, ctx=item.ctx)
        if isinstance(item, list):
            return [fill(x) for x in item]
        if isinstance(item, tuple):
            parts = [fill(x) for x in item]
            return type(item)(*parts) if hasattr(item, "_fields") else tuple(parts)
        if isinstance(item, dict):
            return {k: fill(v) for k, v in item.items()}
        return item
    return fill(skeleton)


_FOLDER_PREFIX = "dataflow-loader-"     # + the loader process's pid + "-" + a random part


def _make_shared_folder():
    """A new shared folder for this process's loader; first remove those left by loader processes that died
    without cleaning up (killed by a signal)."""
    root = _shared_memory_root()
    for name in os.listdir(root) if os.path.isdir("/proc/self") else ():
        pid = name[len(_FOLDER_PREFIX):].split("-")[0]
        if name.startswith(_FOLDER_PREFIX) and pid.isdigit() and not os.path.exists("/proc/%s" % pid):
            _remove_shared_folder(os.path.join(root, name))
    return tempfile.mkdtemp(prefix="%s%d-" % (_FOLDER_PREFIX, os.getpid()), dir=root)


def _remove_shared_folder(folder):
    """Remove a loader's shared folder with the batches nobody read (best effort: also runs at exit)."""
    shutil.rmtree(folder, ignore_errors=True)


# Note [a worker killed holding the result queue's lock]: `Pool.terminate` kills the workers, then waits for its
# task-handler thread, whose last act is to put a sentinel on the result queue. A worker killed while putting a
# result (say, the error of a worker that could not unpickle its dataset) dies holding that queue's write lock, and
# the wait never ends (seen in CI: the whole test run hung in `DataLoader.close`). So the pool is terminated on a
# helper thread; if it is not done after SHUTDOWN_WAIT seconds, every worker has been killed by then and no live
# process can hold the lock: it is released for the dead one, and the handler finishes.
SHUTDOWN_WAIT = 5.0


def _shutdown_process_pool(pool, folder):
    """Stop the worker processes (waiting for them, so none is left) and remove the shared folder."""
    try:
        stopping = threading.Thread(target=_terminate_and_join, args=(pool,), name="dataflow-loader-shutdown",
                                    daemon=True)
        stopping.start()
        stopping.join(SHUTDOWN_WAIT)
        if stopping.is_alive():
            _release_if_held(pool._outqueue._wlock)
            stopping.join(SHUTDOWN_WAIT)
    finally:
        _remove_shared_folder(folder)


def _terminate_and_join(pool):
    pool.terminate()
    pool.join()


def _release_if_held(lock):
    """Release `lock` if someone holds it (Note [a worker killed holding the result queue's lock])."""
    if lock is not None:        # (Windows' queues have none)
        lock.acquire(block=False)   # taken here if it was free; either way one release leaves it free
        lock.release()


_worker_dataset = None      # the dataset of `_worker_fn`, set by `_worker_initializer`
_worker_writer = None       # the worker's `_SharedBatchWriter` (None: batches are returned pickled)
_worker_start_error = None  # the traceback of a worker that could not unpickle its dataset


def _worker_initializer(dataset, active_shape, active_array):
    """Pool initializer of MXNet's worker processes: remember the dataset, copy the NumPy-semantics switches
    (batches are then returned pickled)."""
    global _worker_dataset, _worker_writer
    _worker_dataset, _worker_writer = dataset, None
    set_np(shape=active_shape, array=active_array)


def _shared_worker_initializer(pickled_dataset, active_shape, active_array, shared_folder):
    """Pool initializer of the loader's worker processes: as `_worker_initializer`, and batches are written to
    `shared_folder`. The dataset comes pickled and is unpickled here, so that a failure (say, its module cannot be
    imported in the worker) is kept and raised by every `_worker_fn` call instead of killing the worker at start,
    which would make the pool restart it forever."""
    global _worker_writer, _worker_start_error
    try:
        dataset = pickle.loads(pickled_dataset)
    except Exception:
        _worker_start_error = traceback.format_exc()
        dataset = None
    _worker_initializer(dataset, active_shape, active_array)
    _worker_writer = _SharedBatchWriter(shared_folder)


def _thread_worker_initializer(active_shape, active_array):
    """Pool initializer of thread workers: copy the caller's NumPy-semantics switches into the thread."""
    set_np(shape=active_shape, array=active_array)


def _worker_fn(samples, batchify_fn, dataset=None):
    """Make the batch of indices `samples` from the initializer's dataset, in a worker process. Returns `(path,
    skeleton)` of the batch written to shared memory or, with no shared folder, the batch pickled."""
    if _worker_start_error is not None:
        raise MXNetError("DataLoader worker process %d could not unpickle the dataset (is its module importable "
                         "in a new process?):\n%s" % (os.getpid(), _worker_start_error))
    batch = batchify_fn([_worker_dataset[i] for i in samples])
    if _worker_writer is not None:
        return _worker_writer.write(batch)
    buf = io.BytesIO()
    ForkingPickler(buf, pickle.HIGHEST_PROTOCOL).dump(batch)
    return buf.getvalue()


def _thread_worker_fn(samples, batchify_fn, dataset):
    """Make the batch of indices `samples` from `dataset`."""
    return batchify_fn([dataset[i] for i in samples])


def _pickle_for_workers(dataset, batchify_fn):
    """`(pickled dataset, None)`, or `(None, why)` when the dataset or `batchify_fn` cannot be sent to a spawned
    worker."""
    try:
        pickled = bytes(ForkingPickler.dumps(dataset))
        payload = pickled + bytes(ForkingPickler.dumps(batchify_fn))
    except Exception as err:      # pickling raises PicklingError, TypeError, AttributeError, ...
        return None, "%s: %s" % (type(err).__name__, err)
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    main_importable = getattr(main, "__spec__", None) is not None or (main_file and os.path.isfile(main_file))
    if main_file and not main_importable:
        return None, "a spawned worker cannot re-run the main script %r" % main_file
    if b"__main__" in payload and not main_importable:
        # a worker could not import an interactive session's __main__
        return None, "it refers to classes or functions of an interactive __main__"
    return pickled, None


class _MultiWorkerIter:
    """Batches made by `worker_fn` in `worker_pool`, `prefetch` ahead, returned in sampler order.

    `dataset=None` means `worker_fn` runs in worker processes and returns a batch as `(path, skeleton)` in shared
    memory (`_read_shared_batch`) or pickled; else it returns the batches themselves. With `pin_memory` each
    batch moves to `cpu_pinned(pin_device_id)`."""

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
            batch = _read_shared_batch(*batch) if isinstance(batch, tuple) else pickle.loads(batch)
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
    num_workers : int, worker processes (or threads, with `thread_pool`) that make batches ahead (module notes)
    pin_memory, pin_device_id : put each batch in the context `cpu_pinned(pin_device_id)` (ordinary CPU memory)
    prefetch : int, batches made ahead with workers (default 2 * num_workers)
    thread_pool : bool, use threads instead of processes as workers
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
        self._worker_pool = None
        self._uses_processes = False
        if self._num_workers > 0 and not thread_pool:
            pickled_dataset, reason = _pickle_for_workers(dataset, batchify_fn)
            if reason is None:
                self._start_processes(pickled_dataset, batchify_fn)
            else:
                warnings.warn("DataLoader: cannot use worker processes: the dataset or batchify_fn cannot be "
                              "sent to them (%s); using %d threads instead. Define them at the top level of an "
                              "importable module to use processes." % (reason, self._num_workers), stacklevel=2)
        if not self._uses_processes:
            self._batchify_fn = batchify_fn if batchify_fn is not None else default_batchify_fn
            if self._num_workers > 0:
                self._worker_pool = ThreadPool(self._num_workers, initializer=_thread_worker_initializer,
                                               initargs=(is_np_shape(), is_np_array()))
                self._finalizer = weakref.finalize(self, self._worker_pool.terminate)
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

    def _start_processes(self, pickled_dataset, batchify_fn):
        """Start the `spawn` pool of worker processes and the shared folder their batches go through."""
        self._batchify_fn = batchify_fn if batchify_fn is not None else default_mp_batchify_fn
        folder = _make_shared_folder()
        try:
            self._worker_pool = multiprocessing.get_context("spawn").Pool(
                self._num_workers, initializer=_shared_worker_initializer,
                initargs=(pickled_dataset, is_np_shape(), is_np_array(), folder))
        except BaseException:
            _remove_shared_folder(folder)
            raise
        self._uses_processes = True
        self._shared_folder = folder
        self._finalizer = weakref.finalize(self, _shutdown_process_pool, self._worker_pool, folder)

    def _prefetch_iter(self):
        """An iterator over one pass: made in this thread, or by the workers (`_MultiWorkerIter`)."""
        if self._worker_pool is None:
            return self._same_thread_iter()
        processes = self._uses_processes
        return _MultiWorkerIter(self._worker_pool, self._batchify_fn, self._batch_sampler,
                                pin_memory=self._pin_memory, pin_device_id=self._pin_device_id,
                                worker_fn=_worker_fn if processes else _thread_worker_fn, prefetch=self._prefetch,
                                dataset=None if processes else self._dataset, data_loader=self,
                                timeout=self._timeout)

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

    def close(self):
        """Stop the workers now (also done when the loader is collected or the interpreter exits)."""
        finalizer = getattr(self, "_finalizer", None)
        if finalizer is not None:
            finalizer()
        self._iter = None
