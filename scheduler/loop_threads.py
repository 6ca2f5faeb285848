"""Two threads for big fused loops (Note [two threads] in scheduler/codegen.py): whether generated code may have a
parallel form (`parallel_ok`), and the thread count each call of a compiled range gives its loops (`LoopThreads`).

Env: `DATAFLOW_JIT_PARALLEL`: `auto` (the default) two threads for big loops while they pay, `0` never (no parallel
code is generated), `1` always (tests).
"""
import os
import threading
import time

from ops.cpu import blas_threads


class LoopThreads:
    """The thread count of a compiled range's two-thread loops (Note [two threads] in codegen.py), set per call into
    their segments' sizes: `with site:` around a call. Two threads only while the other cores are idle and the
    site's own timings show them winning (blas_threads' policy for big GEMMs: `OtherLoad`, `ThreadChooser`),
    always under DATAFLOW_JIT_PARALLEL=1, and never in a forked child of the process that started numba's threads
    (numba kills a child of a GNU OpenMP process that enters a parallel region). A call entered while another
    thread's call holds the site runs with the count as it is, untimed. Sites of one `key` (the range's source and
    sizes: a graph bound again, as a benchmark's repeats or a re-hybridized block do) share their timings."""

    __slots__ = ("active", "_flags", "_many", "_chooser", "_lock", "_call")

    def __init__(self, flags, key=None):
        self._flags = flags         # [(sizes array, position)] of every two-thread loop of the range
        self._many = thread_count()
        self.active = bool(flags) and self._many > 1
        self._chooser = _chooser(key, self._many) if self.active else None
        self._lock = threading.Lock()
        self._call = None           # (thread id, threads, start) of the call holding the lock

    def __enter__(self):
        if not self._lock.acquire(blocking=False):
            return self
        mode = _parallel_mode()
        if os.getpid() != _threads_pid or mode == "0":
            n = 1
        elif mode == "1":
            n = self._many
        else:
            n = self._chooser.choose(_other_load().free(self._many))
        for sizes, k in self._flags:
            sizes[k] = n
        self._call = (threading.get_ident(), n, time.perf_counter())
        return self

    def __exit__(self, kind, value, traceback):
        call = self._call
        if call is None or call[0] != threading.get_ident():
            return                  # a call that did not take the site
        self._call = None
        self._lock.release()
        if kind is None:
            self._chooser.record(call[1], time.perf_counter() - call[2])


_choosers = {}


def _chooser(key, many):
    chooser = _choosers.get(key) if key is not None else None
    if chooser is None or chooser.many != many:
        if len(_choosers) > 256:
            _choosers.clear()
        chooser = blas_threads.ThreadChooser(many)
        if key is not None:
            _choosers[key] = chooser
    return chooser


_parallel = None
_threads_pid = None     # the process that started numba's threads


def _parallel_mode():
    return os.environ.get("DATAFLOW_JIT_PARALLEL", "auto")


def parallel_ok():
    """Whether big fused loops get a two-thread form (Note [two threads] in codegen.py): unless
    `DATAFLOW_JIT_PARALLEL=0`, on more than one usable core, under a thread-safe threading layer (omp, tbb): numba's
    workqueue aborts the process when two threads run parallel code at once, which the engine's workers and inline
    calls could do. Starts numba's threads on the first call."""
    global _parallel, _threads_pid
    if _parallel_mode() == "0" or thread_count() < 2:
        return False
    if _parallel is None:
        import numba
        from numba.np.ufunc import parallel
        # GNU OpenMP's threads spin between parallel regions unless told otherwise: on a shared 2-core machine that
        # spinning took the core the other thread waited for (elemwise10 on two threads, load average 9: median
        # 44-56 ms spinning, 3-9 ms passive, 2.6-11 ms serial). Read when libgomp loads, i.e. here.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            parallel._launch_threads()
            _parallel = numba.threading_layer() in ("omp", "tbb")
        except Exception:   # noqa: BLE001 - no threading layer at all
            _parallel = False
        _threads_pid = os.getpid()
    return _parallel


def thread_count():
    """The threads a two-thread loop may use: the usable cores, at most numba's NUMBA_NUM_THREADS."""
    from numba.core import config
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, config.NUMBA_NUM_THREADS))


_load = None


def _other_load():
    global _load
    if _load is None:
        _load = blas_threads.OtherLoad()
    return _load
