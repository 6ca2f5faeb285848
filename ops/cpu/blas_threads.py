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
  1. the other cores are free: the other processes used at most `OTHERS_BUSY_MAX` of a core over the last
     `LOAD_WINDOW` seconds (/proc/stat's busy time of our cores minus this process's own CPU time; a cheap read,
     at most once per window; no /proc/stat: never free);
  2. the site's own timings say it wins: the site keeps its last few wall times per thread count; it moves to
     more threads once two tries in a row beat one thread's time by `WIN_MARGIN`, and back at the first call on
     more threads slower than one thread (a process woke up on the other core). One thread is re-timed every
     `PROBE_EVERY` calls; more threads are re-tried after a backoff that doubles each time they lose (up to
     `PROBE_MAX`), so a busy machine costs one slow call per backoff, not a collapse per call.
Measured on the 2-core host when idle (1 thread vs 2, numba's np.dot into out): 34 MFLOP 0.63x, 134 MFLOP 0.68x,
the mlp1024 forward (67 and 268 MFLOP) 0.55x; fcnet-train's 5 MFLOP GEMMs gained nothing in the compiled step
(forward 56 vs 53 us, backward 101 vs 99 us), hence PARALLEL_FLOPS; with another process on the second core 2
threads took 2.6x to 250x as long as one.
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
OTHERS_BUSY_MAX = 0.3       # cores' worth of CPU the other processes may use while we run GEMMs on all cores
LOAD_WINDOW = 0.25          # seconds between two reads of /proc/stat
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


def _read_cpu_busy(cores):
    """Seconds the given cores were busy since boot (all processes), from /proc/stat; None where unreadable."""
    try:
        with open("/proc/stat") as stat:
            lines = stat.read().splitlines()
    except OSError:
        return None
    wanted = {"cpu%d" % c for c in cores}
    busy = 0
    for line in lines:
        fields = line.split()
        if fields and fields[0] in wanted:
            ticks = [int(f) for f in fields[1:]]
            busy += sum(ticks[:8]) - ticks[3] - (ticks[4] if len(ticks) > 4 else 0)   # all but idle and iowait
    return busy / _TICKS


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class OtherLoad:
    """How many cores' worth of CPU the other processes used over the last window: (our cores' busy time minus
    this process's CPU time) / wall time, read at most once per `window` seconds. The readers are arguments so that
    tests can drive it; `busy()` is None where /proc/stat cannot be read."""

    def __init__(self, cores=None, window=LOAD_WINDOW, busy_reader=None, own_reader=time.process_time,
                 clock=time.monotonic):
        self.cores = _usable_cores() if cores is None else cores
        self.window = window
        self._busy_reader = busy_reader or (lambda: _read_cpu_busy(self.cores))
        self._own, self._clock = own_reader, clock
        self._last = None           # (wall, busy, own) at the last read
        self._others = None

    def busy(self):
        now = self._clock()
        last = self._last
        if last is not None and now - last[0] < (self.window if self._others is not None else self.window / 5):
            return self._others         # (a first estimate comes after a fifth of a window)
        sample = self._busy_reader()
        if sample is None:
            self._last, self._others = (now, None, None), None
            return None
        current = (now, sample, self._own())
        if last is not None and last[1] is not None:
            wall = now - last[0]
            self._others = max(0.0, ((sample - last[1]) - (current[2] - last[2])) / wall)
        self._last = current
        return self._others

    def free(self):
        """True when the other processes leave our other cores free (unknown counts as busy)."""
        others = self.busy()
        return others is not None and others <= OTHERS_BUSY_MAX


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
        if self.active:
            _load().busy()          # the first window starts now (if it did not at import)

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
        n = self.chooser.choose(_load().free())
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
    if _auto:
        _load().busy()              # starts the first window of the others' load, for the first big GEMM
