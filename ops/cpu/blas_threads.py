"""Who runs on the CPU's cores: dataflow's BLAS thread policy (`mx.threads` is dataflow/threads.py, which re-exports
this module: ops and the scheduler use it below `dataflow`).

Note [one BLAS thread]: OpenBLAS's threads busy-wait for each other, so a multi-threaded GEMM collapses as soon as
another process holds one of the cores it counted on (measured on the 2-core host: a conv-sized GEMM 24.5 ms on 2
threads against 2.1 ms on 1; the batch-8 MLP 57x behind JAX on 2 threads, 4.5x on 1). Users' machines are busy too,
so dataflow owns the parallelism: BLAS rests on one thread, goes to more only for a big GEMM while the other cores
are idle and only while that measurably pays (Note [when a 2-thread GEMM pays]), and the other cores are otherwise
dataflow's to use (engine workers, `MXNET_CPU_WORKER_NTHREADS`).

The switch:
  `DATAFLOW_BLAS_THREADS=N`   read at `import dataflow`: N >= 1 threads for every BLAS library, always; 0 leaves the
                              BLAS libraries as they are (their own variables, e.g. OPENBLAS_NUM_THREADS, then
                              apply); `auto` or unset: 1, and more for big GEMMs while the other cores are free
                              (Note [when a 2-thread GEMM pays]).
  `set_blas_threads(n)`       the same at run time (None: stop managing, leaving the libraries as they are now;
                              "auto": the default policy).
  `blas_info()`               what the BLAS libraries use now (threadpoolctl's report).

The limit goes through threadpoolctl, so it works when numpy (and its BLAS) was imported before dataflow, where
setting OPENBLAS_NUM_THREADS is too late. For a BLAS library loaded later (scipy's own OpenBLAS comes with
scipy.linalg, which numba loads on its first compilation) the import also sets OPENBLAS_NUM_THREADS to the policy's
count where it is unset (child processes inherit it); `apply_policy()` limits every library loaded by then.
Cost: where every BLAS library loaded is an OpenBLAS (numpy's wheels), the limit is set through its own
`openblas_set_num_threads` found from /proc/self/maps (~0.3 ms); elsewhere through threadpoolctl (its import and
library scan, ~7-20 ms of `import dataflow`). OPENBLAS_CORETYPE (the kernel OpenBLAS picks) is left alone.

Note [when a 2-thread GEMM pays]: one thread is the resting count; a call site whose biggest GEMM reaches
`PARALLEL_FLOPS` (a `GemmSite`: a compiled Plan's call, a big FullyConnected or convolution GEMM) runs its GEMMs on
all the usable cores when both hold:
  1. the other cores are free now: the machine's runnable tasks other than the calling thread leave a CPU for
     each of our threads (the kernel's count in /proc/loadavg, one pread per call, ~1 us; on the 2-core host: no
     other runnable task), our own BLAS helpers excepted while they still spin after a call on more threads; no
     /proc/loadavg: never free. A snapshot, not an average: an average over a
     window (the rule before: /proc/stat's busy time over 0.25 s) still counts a process that has just stopped,
     so interleaved work (a benchmark's other runners, a pipeline's other stage) kept every call on one thread,
     and it cannot see a process that has just started. A process that runs part of the time shows in part of the
     snapshots; a call on more threads that it then slows is rule 2's business. Note that another process's
     idle OpenBLAS helpers spin for ~0.1 s after its last multi-threaded call and count as busy: rightly, a
     2-thread GEMM next to them collapses as it does next to real work (measured);
  2. the site's own timings say it wins: the site keeps its last few wall times per thread count; it moves to
     more threads once two tries in a row beat one thread's time by `WIN_MARGIN`, and back at the first call on
     more threads slower than one thread (a process woke up on the other core). One thread is re-timed every
     `PROBE_EVERY` calls; more threads are re-tried after a backoff that doubles each time they lose (up to
     `PROBE_MAX`), so a busy machine costs one slow call per backoff, not a collapse per call.
Measured on the 2-core host when idle (1 thread vs 2, numba's np.dot into out): 34 MFLOP 0.63x, 134 MFLOP 0.68x,
the mlp1024 forward (67 and 268 MFLOP) 0.55x; fcnet-train's 5 MFLOP GEMMs gained nothing in the compiled step
(forward 56 vs 53 us, backward 101 vs 99 us), hence PARALLEL_FLOPS; with another process on the second core 2
threads took 2.6x to 250x as long as one. Measured for rule 1 (busy 2-core host): a numpy process's idle OpenBLAS
helper burns a whole core for ~0.1 s after its last 2-thread GEMM (1.0 core over the next 50 ms, 0.5 over the
100 ms after); 2-thread GEMMs (1024x512x256) started right after another process's burst took 8-20 ms against
1.0-1.1 ms once it slept; one thread 1.9 ms either way. Our own helper stays runnable for 0.10-0.11 s after a
2-thread call, also when the count was set back to one at once (hence SPIN_TAIL = 0.05 s, inside that).
Switching costs two ctypes calls (~1 us) and is done only where the count changes; with a BLAS that is not OpenBLAS
(no setter found) the sites leave the threads alone. `DATAFLOW_BLAS_THREADS=N` (or `set_blas_threads(n)`) fixes the
count and turns the sites off; `auto` (the default) is the rule above.
"""
import os
import threading
import time
import warnings

from ops.errors import MXNetError

__all__ = ["set_blas_threads", "get_blas_threads", "blas_info", "apply_policy", "GemmSite", "gemm_site",
           "PARALLEL_FLOPS", "ENV"]

ENV = "DATAFLOW_BLAS_THREADS"
DEFAULT = 1
AUTO = "auto"

# Note [when a 2-thread GEMM pays]: its constants
PARALLEL_FLOPS = 8e6        # a GEMM this big (2*m*k*n) may run on several threads; smaller ones always on one
SPIN_TAIL = 0.05            # seconds our BLAS helpers surely still spin after a call on more threads (~0.1 s)
WIN_MARGIN = 0.9            # more threads are used when their time is below this fraction of one thread's
PROBE_EVERY = 64            # calls between two re-timings of one thread while more threads win
PROBE_FIRST, PROBE_MAX = 1, 4096    # calls before the first try of more threads, and the backoff's cap

_wanted = None       # threads dataflow sets for every BLAS library (the resting count); None: leave them alone
_auto = False        # GemmSites may raise the count for their calls (Note [when a 2-thread GEMM pays])


def _from_environment():
    """(resting thread count or None, auto) from DATAFLOW_BLAS_THREADS."""
    raw = os.environ.get(ENV, "").strip()
    if not raw or raw.lower() == AUTO:
        return DEFAULT, True
    try:
        n = int(raw)
        if n < 0:
            raise ValueError
    except ValueError:
        warnings.warn("%s=%r is not a thread count (auto, 0, 1, 2, ...): using %d BLAS thread(s)"
                      % (ENV, raw, DEFAULT), RuntimeWarning, stacklevel=3)
        return DEFAULT, True
    return (n or None), False


def _controller():
    try:
        import threadpoolctl
    except ImportError:
        warnings.warn("threadpoolctl is not installed: dataflow cannot limit BLAS threads (pip install "
                      "threadpoolctl)", RuntimeWarning, stacklevel=4)
        return None
    return threadpoolctl.ThreadpoolController()


def apply_policy():
    """Limit every BLAS library loaded by now to the policy's thread count (nothing when unmanaged)."""
    if _wanted is None or _limit_openblas(_wanted):
        return
    controller = _controller()
    if controller is not None:
        controller.limit(limits=_wanted, user_api="blas")


# Shared-library name prefixes of the BLAS libraries threadpoolctl knows, and the OpenBLAS builds' thread setters
_BLAS_PREFIXES = ("libopenblas", "libscipy_openblas", "libmkl_rt", "mkl_rt", "libblis", "libflexiblas", "libarmpl",
                  "libblas")
_OPENBLAS_SETTERS = ("openblas_set_num_threads", "openblas_set_num_threads64_", "scipy_openblas_set_num_threads64_",
                     "scipy_openblas_set_num_threads")

_setters = None         # the OpenBLAS thread setters of every BLAS library loaded at the last scan; None: not all
_current = None         # the count they were last set to


def _scan_openblas():
    """The thread setters of every BLAS library loaded, when all of them are OpenBLAS builds found in
    /proc/self/maps; None otherwise (threadpoolctl's job)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split(None, 5)[-1].strip() for line in maps if ".so" in line}
    except OSError:
        return None
    setters = []
    for path in sorted(paths):
        if not os.path.basename(path).startswith(_BLAS_PREFIXES):
            continue
        if "openblas" not in os.path.basename(path):
            return None
        import ctypes
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            return None
        setter = next((getattr(lib, name) for name in _OPENBLAS_SETTERS if hasattr(lib, name)), None)
        if setter is None:
            return None
        setters.append(setter)
    return setters


def _limit_openblas(n):
    """Set n threads in every BLAS library loaded, when all of them are OpenBLAS builds; False (nothing done)
    otherwise, for threadpoolctl to do it. Rescans the libraries (a library may have loaded since)."""
    global _setters, _current
    _setters = _scan_openblas()
    if _setters is None:
        return False
    for setter in _setters:
        setter(n)
    _current = n
    return True


def _use_threads(n):
    """Run the next GEMMs on n threads through the setters found by the last scan (only where the count changes)."""
    global _current
    if n != _current and _setters is not None:
        for setter in _setters:
            setter(n)
        _current = n


def set_blas_threads(n):
    """Run BLAS on n threads (n >= 1), or stop managing its threads (None), or "auto" (one thread, more for big GEMMs
    while the other cores are free: Note [when a 2-thread GEMM pays]). Returns the previous setting."""
    global _wanted, _auto
    if n == AUTO:
        previous = AUTO if _auto else _wanted
        _wanted, _auto = DEFAULT, True
        apply_policy()
        return previous
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise MXNetError("set_blas_threads: n must be an int >= 1, None or 'auto', got %r" % (n,))
    previous = AUTO if _auto else _wanted
    _wanted, _auto = n, False
    apply_policy()
    return previous


def get_blas_threads():
    """The BLAS thread count dataflow sets between big GEMMs (None when it leaves the libraries alone)."""
    return _wanted


def blas_info():
    """threadpoolctl's report of the BLAS libraries loaded now: dicts with `internal_api`, `num_threads`, ..."""
    controller = _controller()
    return [] if controller is None else [c.info() for c in controller.select(user_api="blas").lib_controllers]


# ---- Note [when a 2-thread GEMM pays] ------------------------------------------------------------------------
def _usable_cores():
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


class _RunQueue:
    """The kernel's count of runnable tasks now (/proc/loadavg's fourth field, "running/total"; the reader is one
    of them), read with one pread of a file kept open (~1 us). `read()` is None where there is no such file."""

    def __init__(self, path="/proc/loadavg"):
        try:
            self._fd = os.open(path, os.O_RDONLY)
        except OSError:
            self._fd = None

    def read(self):
        if self._fd is None:
            return None
        try:
            return int(os.pread(self._fd, 128, 0).split()[3].split(b"/")[0])
        except (OSError, IndexError, ValueError):
            return None


class OtherLoad:
    """Whether the cores other than the caller's are free now (rule 1 of Note [when a 2-thread GEMM pays]): the
    runnable tasks counted by the kernel at this moment, less the calling thread and less our own BLAS helper
    threads while they still spin after a call on more threads (OpenBLAS's idle helpers spin for ~0.1 s before they
    sleep: they are ours and will do the next call's work, not another process's). The count is the machine's,
    not our cores': other work anywhere counts against the `cpus` of the machine (the safe side where affinity
    limits us to some of them). `running_reader`, `clock` and `cpus` are arguments so that tests can drive it."""

    def __init__(self, running_reader=None, clock=time.monotonic, cpus=None):
        self._running = running_reader or _RunQueue().read
        self._clock = clock
        self._cpus = cpus or os.cpu_count() or 1
        self._helpers = 0               # our BLAS helpers spinning until `_spin_until`
        self._spin_until = 0.0

    def ran_on(self, threads):
        """A call on `threads` threads just ended: its threads - 1 helpers spin for the next SPIN_TAIL seconds."""
        if threads > 1:
            self._helpers, self._spin_until = threads - 1, self._clock() + SPIN_TAIL

    def others(self):
        """Runnable tasks now that are neither the caller nor our spinning helpers; None where unknown."""
        running = self._running()
        if running is None:
            return None
        ours = 1 + (self._helpers if self._clock() < self._spin_until else 0)
        return max(0, running - ours)

    def free(self, threads):
        """True when `threads` threads of ours fit beside the other runnable tasks now (unknown counts as busy)."""
        others = self.others()
        return others is not None and others + threads <= self._cpus


class ThreadChooser:
    """A call site's choice between one BLAS thread and `many`, from its own recent wall times (Note [when a
    2-thread GEMM pays], rule 2). `choose(free)` gives the count for the next call, `record(n, seconds)` its time.
    Slow to move to more threads, quick to leave them: more threads are taken once two tries in a row beat one
    thread's time by WIN_MARGIN, and left at the first call slower than one thread."""

    KEEP = 3        # recent times kept per count; their median (the lower of two) is the count's time

    def __init__(self, many):
        self.many = many
        self.times = {1: [], many: []}
        self.using = 1              # the count that won so far
        self.countdown = PROBE_FIRST    # calls until the other count is timed again
        self.backoff = PROBE_FIRST      # the next countdown after more threads lost

    def choose(self, free):
        if not free:
            return 1
        self.countdown -= 1
        if self.countdown <= 0:
            return self.many if self.using == 1 else 1
        return self.using

    def _time(self, n):
        recent = sorted(self.times[n])
        return recent[(len(recent) - 1) // 2] if recent else None

    def record(self, n, seconds):
        recent = self.times[n]
        recent.append(seconds)
        if len(recent) > self.KEEP:
            del recent[0]
        if n == 1 == self.using and self.countdown > 0:
            return                  # the usual call on one thread: nothing to decide
        one = self._time(1)
        if self.using == self.many:
            many = self._time(self.many)
            if one is None or many is None:
                return
            if (seconds > one) if n == self.many else (many >= WIN_MARGIN * one):
                self._lost()        # a slow call on more threads (another process woke up), or one thread caught up
            elif n == 1:
                self.countdown = PROBE_EVERY
        elif n == self.many:        # a try of more threads
            if one is None:
                self.countdown = 2      # time one thread first, then try again
            elif seconds >= WIN_MARGIN * one:
                self._lost()
            elif len(recent) >= 2 and recent[-2] < WIN_MARGIN * one:
                self.using, self.backoff, self.countdown = self.many, PROBE_FIRST, PROBE_EVERY
            else:
                self.countdown = 1      # won once: try again at once to confirm

    def _lost(self):
        """More threads lost: one thread, and the next try after a backoff twice the last."""
        self.using = 1
        self.backoff = min(2 * self.backoff, PROBE_MAX)
        self.countdown = self.backoff


_other_load = None


def _load():
    global _other_load
    if _other_load is None:
        _other_load = OtherLoad()
    return _other_load


class GemmSite:
    """One place that runs GEMMs whose biggest is `flops` (2*m*k*n): `with site:` around them runs them on the
    thread count the policy picks for this call and times it (Note [when a 2-thread GEMM pays]). Below
    PARALLEL_FLOPS, on one core, or with a fixed thread count, it does nothing. One site at a time sets the count:
    a site entered inside another (an interpreted step inside a compiled range's call) or while another thread
    holds one runs as things are; a site may be entered by several threads at once."""

    __slots__ = ("active", "chooser", "_scanned")

    def __init__(self, flops):
        cores = len(_usable_cores())
        self.active = flops >= PARALLEL_FLOPS and cores > 1
        self.chooser = ThreadChooser(cores) if self.active else None
        self._scanned = False

    def __enter__(self):
        state = _thread
        state.depth += 1
        if state.depth > 1 or not (self.active and _auto and _wanted is not None):
            return self
        if not _owner.acquire(blocking=False):
            return self
        if not self._scanned:       # find the setters of every BLAS library loaded by now (numba's comes late)
            self._scanned = True
            _limit_openblas(_wanted)
        if _setters is None:
            _owner.release()
            return self
        n = self.chooser.choose(_load().free(self.chooser.many))
        _use_threads(n)
        state.call = (self, n, time.perf_counter())
        return self

    def __exit__(self, kind, value, traceback):
        state = _thread
        state.depth -= 1
        call = state.call
        if state.depth or call is None or call[0] is not self:
            return
        _, n, start = call
        elapsed = time.perf_counter() - start
        state.call = None
        if n != _wanted:
            _use_threads(_wanted)
            _load().ran_on(n)
        _owner.release()
        if kind is None:
            self.chooser.record(n, elapsed)


class _Thread(threading.local):
    """Per thread: how deep in GemmSites it is, and the call the outermost one timed (site, threads, start)."""
    depth = 0
    call = None


_thread = _Thread()
_owner = threading.Lock()       # held by the site whose call set the thread count


_sites = {}


def gemm_site(key, flops):
    """The GemmSite of `key` (say an op name and its shapes), made on first use: a kernel keeps its timings per
    shape without holding a site itself."""
    site = _sites.get(key)
    if site is None:
        if len(_sites) > 256:
            _sites.clear()
        site = _sites[key] = GemmSite(flops)
    return site


def _init():
    """At import: the policy from the environment."""
    global _wanted, _auto
    _wanted, _auto = _from_environment()
    if _wanted is not None:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", str(_wanted))
    apply_policy()
