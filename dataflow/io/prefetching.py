"""`PrefetchingIter`: reads the next batch of one or more iterators in background threads while the current one
is used, and joins the batches of several iterators into one (their data and label lists concatenated)."""
import weakref
from concurrent.futures import ThreadPoolExecutor

from .io import DataBatch, DataDesc, DataIter

__all__ = ["PrefetchingIter"]


def _next_or_none(data_iter):
    """The next batch of `data_iter`, None at the end of its epoch."""
    try:
        return data_iter.next()
    except StopIteration:
        return None


class PrefetchingIter(DataIter):
    """Prefetches the batches of `iters` (a DataIter or a list of them), one batch ahead each, in threads.

    `rename_data` / `rename_label`: None, or one `{old_name: new_name}` dict per iterator, renaming its
    `provide_data` / `provide_label` entries. The iterators must agree on the number of batches and on each batch's
    `pad`; an error raised by an iterator is raised by `next()`.

    Examples
    --------
    >>> import dataflow as mx
    >>> iter1 = mx.io.NDArrayIter({'data': mx.nd.ones((100, 10))}, batch_size=25)
    >>> iter2 = mx.io.NDArrayIter({'data': mx.nd.ones((100, 10))}, batch_size=25)
    >>> piter = mx.io.PrefetchingIter([iter1, iter2], rename_data=[{'data': 'data_1'}, {'data': 'data_2'}])
    >>> [d.name for d in piter.provide_data], piter.batch_size, len(list(piter))
    (['data_1', 'data_2'], 25, 4)
    """

    def __init__(self, iters, rename_data=None, rename_label=None):
        super().__init__()
        self.iters = iters if isinstance(iters, list) else [iters]
        self.n_iter = len(self.iters)
        assert self.n_iter > 0, "PrefetchingIter needs at least one iterator"
        self.rename_data = rename_data
        self.rename_label = rename_label
        self.batch_size = self.provide_data[0][1][0]
        self.current_batch = None
        self._threads = ThreadPoolExecutor(self.n_iter, thread_name_prefix="PrefetchingIter")
        weakref.finalize(self, self._threads.shutdown, wait=False, cancel_futures=True)
        self._pending = self._fetch_all()

    def _fetch_all(self):
        return [self._threads.submit(_next_or_none, it) for it in self.iters]

    def _wait(self):
        """The prefetched batches (raising an iterator's error)."""
        return [pending.result() for pending in self._pending]

    @staticmethod
    def _renamed(descs, renames):
        if renames is None:
            return list(descs)
        return [DataDesc(renames[d.name], d.shape, d.dtype) if isinstance(d, DataDesc) else DataDesc(*d)
                for d in descs]

    @property
    def provide_data(self):
        renames = self.rename_data or [None] * self.n_iter
        return sum((self._renamed(it.provide_data, r) for it, r in zip(self.iters, renames)), [])

    @property
    def provide_label(self):
        renames = self.rename_label or [None] * self.n_iter
        return sum((self._renamed(it.provide_label, r) for it, r in zip(self.iters, renames)), [])

    def reset(self):
        for pending in self._pending:      # let the reads in flight finish (their batches are dropped)
            pending.exception()
        for it in self.iters:
            it.reset()
        self._pending = self._fetch_all()

    def iter_next(self):
        batches = self._wait()
        if batches[0] is None:
            assert all(b is None for b in batches), "Number of entry mismatches between iterators"
            return False
        assert all(b is not None and b.pad == batches[0].pad for b in batches), \
            "Number of entry mismatches between iterators"
        self.current_batch = DataBatch(sum((b.data for b in batches), []), sum((b.label for b in batches), []),
                                       batches[0].pad, batches[0].index, provide_data=self.provide_data,
                                       provide_label=self.provide_label)
        self._pending = self._fetch_all()
        return True

    def next(self):
        if self.iter_next():
            return self.current_batch
        raise StopIteration

    def getdata(self):
        return self.current_batch.data

    def getlabel(self):
        return self.current_batch.label

    def getpad(self):
        return self.current_batch.pad

    def getindex(self):
        return self.current_batch.index
