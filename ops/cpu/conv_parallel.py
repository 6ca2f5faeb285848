"""The convolutions' loops on several cores: items (samples, or blocks of a single sample's output channels)
spread over threads.

BLAS runs on one thread (Note [one BLAS thread] in dataflow/threads.py: OpenBLAS's own threads busy-wait for each
other and collapse when another process holds a core). A convolution is a loop of independent GEMMs and unfoldings
that release the GIL (numpy's BLAS, `nogil` numba), so dataflow runs that loop itself on the cores: the calling
thread and helper threads each take the next item from a shared counter until none are left. Taking items one at
a time (not half the batch each) is what keeps a busy core mostly harmless: a thread that gets less CPU simply
takes fewer items; and a call whose caller had to wait long for a helper's last item sends the next calls to one
thread for a while (Note [a busy core]).

Each thread gets its own workspace (`make_worker()` is called once in every thread that takes part), so the
unfolding buffers are per thread. A reduction (summed weight gradients) goes through `reduce_over`, whose partial
sums do not depend on the threads (Note [a reduction's bits]).

`DATAFLOW_CONV_THREADS=N`: threads per convolution (default: the cores this process may run on; 1: no helpers).
"""
import itertools
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

__all__ = ["for_each", "reduce_over", "shares", "threads"]

# Below this many floating-point operations per call (~0.1 ms of GEMM) waking a helper (tens of us, more on a
# busy machine) costs more than it gives.
MIN_PARALLEL_FLOPS = 1e7

# Note [a busy core]: where another process holds a core, a helper thread waits for a time slice (milliseconds)
# before and while it runs its item, and the calling thread, done with the rest, waits for that item. So a call
# uses helpers only while the machine's other runnable tasks leave a core for each (the BLAS policy's snapshot of
# /proc/loadavg, ~1 us; unless DATAFLOW_CONV_THREADS fixes the count): measured at batch 1 beside a load average of
# ~3 on the 2-core host, helpers made resnet18_v1's forward 136 ms against 48 ms on one thread, mobilenet1.0's
# 57 against 21. And when the calling thread still waited longer than WAIT_LIMIT of its own working time, the next
# BACKOFF_CALLS calls run on the calling thread alone; then helpers are tried again.
WAIT_LIMIT = 0.25
BACKOFF_CALLS = 32

_serial_calls = 0
_other_load = None
_pool = None
_pool_lock = threading.Lock()


def _blas_on_one_thread():
    """Whether BLAS runs on one thread now (ops/cpu/blas_threads.py's policy): one level of parallelism only, a
    convolution's threads each calling a multi-threaded GEMM would oversubscribe the cores."""
    try:
        from . import blas_threads
    except ImportError:         # no policy module: dataflow/threads.py keeps BLAS on one thread
        return True
    return blas_threads.get_blas_threads() == 1 and getattr(blas_threads, "_current", None) in (None, 1)


def threads():
    """Threads a convolution may use now: 1 while BLAS itself runs on several; else DATAFLOW_CONV_THREADS; else the
    cores this process may run on while the machine's other runnable tasks leave them free, 1 otherwise (Note [a
    busy core]). Callers that split one sample's work ask it before splitting, so a busy machine runs one whole
    GEMM rather than halves one after the other."""
    if not _blas_on_one_thread():
        return 1
    raw = os.environ.get("DATAFLOW_CONV_THREADS", "").strip()
    if raw.isdigit() and int(raw) >= 1:
        return int(raw)
    cores = _cores()
    return cores if cores > 1 and _others_leave_room(cores) else 1


def shares(n):
    """The contiguous shares `reduce_over` cuts n items into: the threads a convolution would use on an idle
    machine (DATAFLOW_CONV_THREADS, else the cores this process may run on), at most n. Unlike `threads()` it does
    not follow the machine's load or the BLAS policy (Note [a reduction's bits])."""
    raw = os.environ.get("DATAFLOW_CONV_THREADS", "").strip()
    return max(1, min(n, int(raw) if raw.isdigit() and int(raw) >= 1 else _cores()))


def _cores():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _others_leave_room(count):
    """Whether `count` threads of ours fit beside the machine's other runnable tasks now (rule 1 of Note [when a
    2-thread GEMM pays] in ops/cpu/blas_threads.py, its OtherLoad: one pread of /proc/loadavg, unknown is busy)."""
    global _other_load
    if _other_load is None:
        try:
            from .blas_threads import OtherLoad
        except ImportError:
            return True
        _other_load = OtherLoad()
    return _other_load.free(count)


def _helpers(n):
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < n:
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="dataflow-conv")
        return _pool


def _forget_pool():
    """In a forked child the parent's helper threads do not exist: start over."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def for_each(n, make_worker, flops):
    """Run worker(i) once for each i in range(n), where each thread taking part makes its own worker with
    `make_worker()`; threads take the next i as they become free. Returns the workers made (at least one: the
    calling thread's, first). `flops`: the work of the whole call; small calls, or n == 1, run on the calling thread
    alone. An exception in any worker is raised here after every thread has stopped."""
    global _serial_calls
    count = min(threads(), n)
    if count > 1 and flops >= MIN_PARALLEL_FLOPS and _serial_calls > 0:
        _serial_calls -= 1
        count = 1
    if count <= 1 or flops < MIN_PARALLEL_FLOPS:
        worker = make_worker()
        for i in range(n):
            worker(i)
        return [worker]
    items = itertools.count()        # next() on a count is atomic under the GIL
    workers = [None] * count         # slot 0: the calling thread's
    failed = []

    def run(slot):
        try:
            if failed:
                return
            worker = workers[slot] = make_worker()
            for i in iter(items.__next__, None):
                if i >= n or failed:
                    break
                worker(i)
        except BaseException as exc:
            failed.append(exc)

    pool = _helpers(count - 1)
    start = time.perf_counter()
    futures = [pool.submit(run, slot) for slot in range(1, count)]
    run(0)
    done = time.perf_counter()
    for future in futures:
        # a helper still queued behind another convolution's has nothing left to do: drop it rather than wait
        if not future.cancel():
            future.result()
    if time.perf_counter() - done > WAIT_LIMIT * (done - start):
        _serial_calls = BACKOFF_CALLS        # Note [a busy core]
    if failed:
        raise failed[0]
    return [w for w in workers if w is not None]


# Note [a reduction's bits]: floating-point addition is not associative, so a weight gradient summed per thread
# over whichever samples each thread happened to take changes in its last bits with the machine's load (how many
# threads ran, which took what): two runs of one training step on the same inputs differed by an ulp. A reduction
# instead cuts its items into `shares(n)` fixed contiguous shares; one thread runs a share whole, its items in
# order, into a partial of the share's own, and the caller adds the partials in share order. The bits then depend
# on the shapes and DATAFLOW_CONV_THREADS only, not on the load; the cost is one partial per share (a thread that
# runs two shares keeps two) and no taking of single items from a busier thread within a reduction.
def reduce_over(n, make_worker, flops):
    """Run worker(i) for each i in range(n) as `for_each` does, cut into `shares(n)` contiguous shares each run
    whole by one thread: `worker.start(s)` before share s's items, `worker.finish()` after them returns the share's
    partial (None: nothing to add). Returns the partials in share order, for the caller to add in that order
    (Note [a reduction's bits])."""
    count = shares(n)
    partials = [None] * count

    def make_runner():
        worker = make_worker()

        def run(s):
            worker.start(s)
            for i in range(n * s // count, n * (s + 1) // count):
                worker(i)
            partials[s] = worker.finish()
        return run
    for_each(count, make_runner, flops)
    return partials
