"""Who runs on the CPU's cores: dataflow's thread policy.

Note [one BLAS thread]: OpenBLAS's threads busy-wait for each other, so a multi-threaded GEMM collapses as soon as
another process holds one of the cores it counted on (measured on the 2-core host: a conv-sized GEMM 24.5 ms on 2
threads against 2.1 ms on 1; the batch-8 MLP 57x behind JAX on 2 threads, 4.5x on 1). Users' machines are busy too,
so dataflow owns the parallelism: BLAS runs on one thread by default, and the other cores are dataflow's to use
(engine workers, `MXNET_CPU_WORKER_NTHREADS`).

The switch:
  `DATAFLOW_BLAS_THREADS=N`   read at `import dataflow`: N >= 1 threads for every BLAS library; 0 leaves the BLAS
                              libraries as they are (their own variables, e.g. OPENBLAS_NUM_THREADS, then apply);
                              unset: 1.
  `set_blas_threads(n)`       the same at run time (None: stop managing, leaving the libraries as they are now).
  `blas_info()`               what the BLAS libraries use now (threadpoolctl's report).

The limit goes through threadpoolctl, so it works when numpy (and its BLAS) was imported before dataflow, where
setting OPENBLAS_NUM_THREADS is too late. For a BLAS library loaded later (scipy's own OpenBLAS comes with
scipy.linalg, which numba loads on its first compilation) the import also sets OPENBLAS_NUM_THREADS to the policy's
count where it is unset (child processes inherit it); `apply_policy()` limits every library loaded by then.
Cost: where every BLAS library loaded is an OpenBLAS (numpy's wheels), the limit is set through its own
`openblas_set_num_threads` found from /proc/self/maps (~0.3 ms); elsewhere through threadpoolctl (its import and
library scan, ~7-20 ms of `import dataflow`). OPENBLAS_CORETYPE (the kernel OpenBLAS picks) is left alone.
"""
import os
import warnings

from .base import MXNetError

__all__ = ["set_blas_threads", "get_blas_threads", "blas_info", "apply_policy", "ENV"]

ENV = "DATAFLOW_BLAS_THREADS"
DEFAULT = 1

_wanted = None       # threads dataflow sets for every BLAS library; None: leave them alone


def _from_environment():
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return DEFAULT
    try:
        n = int(raw)
        if n < 0:
            raise ValueError
    except ValueError:
        warnings.warn("%s=%r is not a thread count (0, 1, 2, ...): using %d BLAS thread(s)" % (ENV, raw, DEFAULT),
                      RuntimeWarning, stacklevel=3)
        return DEFAULT
    return n or None


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


def _limit_openblas(n):
    """Set n threads in every BLAS library loaded, when all of them are OpenBLAS builds found in /proc/self/maps;
    False (nothing done) otherwise, for threadpoolctl to do it."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split(None, 5)[-1].strip() for line in maps if ".so" in line}
    except OSError:
        return False
    setters = []
    for path in sorted(paths):
        if not os.path.basename(path).startswith(_BLAS_PREFIXES):
            continue
        if "openblas" not in os.path.basename(path):
            return False
        import ctypes
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            return False
        setter = next((getattr(lib, name) for name in _OPENBLAS_SETTERS if hasattr(lib, name)), None)
        if setter is None:
            return False
        setters.append(setter)
    for setter in setters:
        setter(n)
    return True


def set_blas_threads(n):
    """Run BLAS on n threads (n >= 1), or stop managing its threads (None). Returns the previous setting."""
    global _wanted
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise MXNetError("set_blas_threads: n must be an int >= 1 or None, got %r" % (n,))
    previous, _wanted = _wanted, n
    apply_policy()
    return previous


def get_blas_threads():
    """The BLAS thread count dataflow sets (None when it leaves the libraries alone)."""
    return _wanted


def blas_info():
    """threadpoolctl's report of the BLAS libraries loaded now: dicts with `internal_api`, `num_threads`, ..."""
    controller = _controller()
    return [] if controller is None else [c.info() for c in controller.select(user_api="blas").lib_controllers]


def _init():
    """At import: the policy from the environment."""
    global _wanted
    _wanted = _from_environment()
    if _wanted is not None:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", str(_wanted))
    apply_policy()
