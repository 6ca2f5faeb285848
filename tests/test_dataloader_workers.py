"""`DataLoader(num_workers>0)` with worker processes (spawn, batches through shared memory): the same batches as
`num_workers=0`, a worker's error surfaces with its traceback, and no process is left behind.

The datasets and batchify functions are defined at the top level of this module: a spawned worker unpickles them
by importing `tests.test_dataloader_workers` (the project root is on `sys.path`)."""
import gc
import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import dataflow as mx
from dataflow.base import MXNetError
from dataflow.gluon.data import ArrayDataset, BatchSampler, DataLoader, Dataset, SequentialSampler
from dataflow.gluon.data import dataloader as dl


class SquaresDataset(Dataset):
    """Sample i: (a float32 row of i**2 values, a (2, 2) int32 block, the label i); index `bad` raises."""

    def __init__(self, n, bad=None, delay=0.0):
        self._n, self._bad, self._delay = n, bad, delay

    def __len__(self):
        return self._n

    def __getitem__(self, i):
        if i == self._bad:
            raise ValueError("sample %d is bad" % i)
        if self._delay:
            time.sleep(self._delay)
        return np.full(3, i * i, np.float32), np.full((2, 2), i, np.int32), i


def numpy_batchify(samples):
    """A batchify_fn that returns numpy arrays and a plain list (not NDArrays)."""
    return {"x": np.stack([s[0] for s in samples]), "ids": [int(s[2]) for s in samples]}


def _as_numpy(batch):
    if isinstance(batch, mx.nd.NDArray):
        return ("nd", batch.dtype, batch.asnumpy().tolist())
    if isinstance(batch, np.ndarray):
        return ("np", batch.dtype, batch.tolist())
    if isinstance(batch, (list, tuple)):
        return [_as_numpy(b) for b in batch]
    if isinstance(batch, dict):
        return {k: _as_numpy(v) for k, v in batch.items()}
    return batch


def _passes(loader, count=1):
    return [[_as_numpy(b) for b in loader] for _ in range(count)]


def _expected(dataset, batch_sampler, batchify_fn=None):
    """The batches made in this process, straight from the sampler (the independent truth)."""
    batchify_fn = batchify_fn or dl.default_batchify_fn
    return [_as_numpy(batchify_fn([dataset[i] for i in indices])) for indices in batch_sampler]


def test_processes_give_the_batches_of_one_process():
    ds = SquaresDataset(11)
    loader = DataLoader(ds, batch_size=4, num_workers=2, last_batch="rollover", prefetch=3)
    assert loader._uses_processes and len(loader) == 2
    # rollover: the 3 left over start the next pass
    sampler = BatchSampler(SequentialSampler(11), 4, "rollover")
    first, second = _passes(loader, 2)
    assert first == _expected(ds, sampler) and second == _expected(ds, sampler)
    assert second[0][2][2][:3] == [8, 9, 10]
    assert first == _passes(DataLoader(ds, batch_size=4, last_batch="rollover"))[0]
    batch = next(iter(loader))
    assert batch[0].context == mx.Context("cpu_shared", 0) and batch[0].dtype == np.float32
    assert batch[1].dtype == np.int32 and batch[1].shape == (4, 2, 2)
    loader.close()


def test_batch_sampler_batchify_fn_pin_memory_and_discard():
    ds = SquaresDataset(9)
    sampler = BatchSampler(SequentialSampler(7, start=2), 3, "discard")
    loader = DataLoader(ds, batch_sampler=sampler, batchify_fn=numpy_batchify, num_workers=2)
    assert _passes(loader) == [_expected(ds, sampler, numpy_batchify)]
    assert [b["ids"] for b in loader] == [[2, 3, 4], [5, 6, 7]]
    loader.close()
    pinned = DataLoader(ArrayDataset(np.arange(12, dtype=np.float64).reshape(6, 2)), batch_size=4,
                        num_workers=2, pin_memory=True, last_batch="keep")
    batches = list(pinned)
    assert [b.context for b in batches] == [mx.cpu_pinned(0)] * 2
    np.testing.assert_array_equal(np.concatenate([b.asnumpy() for b in batches]), np.arange(12).reshape(6, 2))
    assert batches[0].dtype == np.float64
    pinned.close()


def test_thread_pool_and_unpicklable_dataset_use_threads():
    ds = SquaresDataset(5)
    threads = DataLoader(ds, batch_size=2, num_workers=2, thread_pool=True)
    assert not threads._uses_processes
    assert _passes(threads) == [_expected(ds, BatchSampler(SequentialSampler(5), 2, "keep"))]
    with pytest.warns(UserWarning, match="cannot use worker processes.*lambda"):
        lam = DataLoader(ds, batch_size=2, num_workers=2, batchify_fn=lambda s: len(s))
    assert not lam._uses_processes and list(lam) == [2, 2, 1]


def test_worker_error_has_the_worker_traceback_and_loader_closes():
    loader = DataLoader(SquaresDataset(8, bad=5), batch_size=2, num_workers=2)
    batches = iter(loader)
    assert _as_numpy(next(batches))[2][2] == [0, 1]
    with pytest.raises(ValueError, match="sample 5 is bad") as info:
        for _ in batches:
            pass
    cause = info.value.__cause__
    assert cause is not None and "__getitem__" in str(cause) and "sample 5 is bad" in str(cause)
    pool = loader._worker_pool
    loader.close()
    assert all(not p.is_alive() for p in pool._pool)
    loader.close()      # closing twice is fine


def _rebuild_only_in_the_parent(n):
    if multiprocessing.parent_process() is not None:
        raise ImportError("this dataset cannot be rebuilt in a worker")
    return SquaresDataset(n)


class UnloadableDataset(SquaresDataset):
    """Pickles in the parent, fails to unpickle in a worker (like a dataset whose module a worker cannot import)."""

    def __reduce__(self):
        return _rebuild_only_in_the_parent, (self._n,)


def test_worker_that_cannot_unpickle_the_dataset_says_so():
    loader = DataLoader(UnloadableDataset(4), batch_size=2, num_workers=1, timeout=60)
    with pytest.raises(MXNetError, match="(?s)could not unpickle the dataset.*cannot be rebuilt in a worker"):
        next(iter(loader))
    loader.close()


def test_timeout_names_the_remedy():
    loader = DataLoader(SquaresDataset(4, delay=3.0), batch_size=2, num_workers=1, timeout=0.5)
    with pytest.raises(multiprocessing.TimeoutError, match="increase `timeout`"):
        next(iter(loader))
    loader.close()


def test_dropped_loader_leaves_no_process_or_shared_file():
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = os.path.join(dl._shared_memory_root(), "dataflow-loader-%s-test" % finished.stdout.strip())
    os.makedirs(stale)      # as left by a loader process killed by a signal
    loader = DataLoader(SquaresDataset(10), batch_size=2, num_workers=2, prefetch=4)
    next(iter(loader))          # batches still in flight
    folder = loader._shared_folder
    workers = list(loader._worker_pool._pool)
    del loader
    gc.collect()
    assert all(not p.is_alive() for p in workers) and not os.path.exists(folder) and not os.path.exists(stale)


SCRIPT = """
import numpy as np
from dataflow.gluon.data import ArrayDataset, DataLoader
if __name__ == "__main__":
    loader = DataLoader(ArrayDataset(np.arange(40.0).reshape(20, 2)), batch_size=2, num_workers=2)
    next(iter(loader))
    print(" ".join(str(p.pid) for p in loader._worker_pool._pool), loader._shared_folder)
"""


def test_no_process_remains_after_the_interpreter_exits(tmp_path):
    script = tmp_path / "loader_exit.py"
    script.write_text(textwrap.dedent(SCRIPT))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=root))
    assert done.returncode == 0, done.stderr
    *pids, folder = done.stdout.split()
    assert len(pids) == 2 and not os.path.exists(folder)
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(int(p)) for p in pids):
        time.sleep(0.1)
    assert not any(_alive(int(p)) for p in pids)


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_prefetch_zero_auto_reload_and_a_thread_worker_error():
    ds = SquaresDataset(7)
    want = _expected(ds, BatchSampler(SequentialSampler(7), 3, "keep"))
    lazy = DataLoader(ds, batch_size=3, num_workers=2, prefetch=0)      # each batch asked for when needed
    assert _passes(lazy, 2) == [want, want]
    lazy.close()
    eager = DataLoader(ds, batch_size=3, num_workers=2, auto_reload=True)
    assert eager._iter is not None              # the first pass started loading at construction
    assert _passes(eager) == [want] and eager._iter is not None     # and the next one when a pass ends
    eager.clean()
    assert eager._iter is None and _passes(eager) == [want]
    eager.close()
    threads = DataLoader(SquaresDataset(6, bad=4), batch_size=2, num_workers=2, thread_pool=True)
    with pytest.raises(ValueError, match="sample 4 is bad"):
        list(threads)


def test_close_finishes_when_a_dead_worker_holds_the_result_queue_lock(monkeypatch):
    """Note [a worker killed holding the result queue's lock] in dataflow/gluon/data/dataloader.py: the lock is held
    here as a worker killed mid-put leaves it; close() still returns (it used to wait forever) and the workers are
    gone."""
    from dataflow.gluon.data import dataloader
    monkeypatch.setattr(dataloader, "SHUTDOWN_WAIT", 1.0)
    loader = DataLoader(SquaresDataset(8), batch_size=2, num_workers=1, timeout=60)
    assert len(list(loader)) == 4
    pool = loader._worker_pool
    assert pool._outqueue._wlock.acquire(timeout=10)
    closing = threading.Thread(target=loader.close, daemon=True)
    closing.start()
    closing.join(60)
    assert not closing.is_alive()
    assert all(not p.is_alive() for p in pool._pool)
    # and the pool's own shutdown finished too (the lock was released for the "dead" holder)
    deadline = time.monotonic() + 30
    while any(t.name == "dataflow-loader-shutdown" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(t.name == "dataflow-loader-shutdown" for t in threading.enumerate())
