"""A small FullyConnected forward in one numba call: the BLAS call numpy's `np.dot(x, w.T, out)` makes for these
shapes, then the bias added, without numpy's dispatch around either (used by ops/cpu/nn.py's `fully_connected`).

Note [small FullyConnected]
At batch 1 a layer's GEMM is a GEMV of a few microseconds, and numpy's `np.dot` (~0.6 us of checks and its choice
of BLAS call) plus `out += bias` (a ufunc call, ~0.5 us) cost a fifth of the kernel. `forward` makes the same BLAS
call numpy makes (numpy's own OpenBLAS through ops/cpu/cblas.py; GEMV for one row, GEMM for more) and adds the bias
in the same float additions, so its result equals the numpy path's bit for bit (tests/test_fc_blas.py): a call may
take either path. The shapes numpy runs through another BLAS routine (a length-1 axis: dot or axpy; `x` sharing
`w`'s memory: syrk) are left to numpy.
Numba's first use in a process costs one to three seconds of CPU (its target set-up; the first inference call of a
model never pays it, tests/test_coldstart.py), and the function itself ~30 ms from numba's cache (~2.5 s to
compile, once per machine). So `forward` is off until numba is running anyway: a daemon thread loads the function,
while numpy keeps serving, as soon as something else started numba's runtime (a compiled Plan, an optimizer's
fused update, any numba kernel: most processes), or after `WARM_CALLS` small forwards, where the ~1.5 us saved
per call repays the set-up.
"""
import sys
import threading

from . import cblas
from .cblas import gemm, gemv

WARM_CALLS = 1_000_000  # small forwards after which this process starts numba for them itself

_forward = None         # the ready njit function; None until `_load` made it
_calls = 0
_loading = False
load_error = None       # why `_load` failed, if it did
_SIGNATURES = ["b1(%s[:, ::1], %s[:, ::1], %s[::1], %s[:, ::1], b1)" % ((t,) * 4) for t in ("f4", "f8")]


def forward(x, w, bias, out):
    """out = x @ w.T (+ bias) for C-contiguous 2-D float32/float64 arrays of one dtype (bias 1-D or None); False
    (nothing written) where this call is not taken: numba not ready yet, other dtypes or layouts, or shapes numpy
    runs through another BLAS routine (Note [small FullyConnected])."""
    fn = _forward
    if fn is None:
        _count()
        return False
    try:
        return fn(x, w, out.reshape(-1) if bias is None else bias, out, bias is not None)
    except TypeError:       # no compiled signature for these arrays (compiling is disabled): numpy's path
        return False


def _count():
    global _calls, _loading
    _calls += 1
    if _loading:
        return
    if _calls >= WARM_CALLS or _numba_started():
        _loading = True
        try:
            threading.Thread(target=_load, name="dataflow-fc-blas", daemon=True).start()
        except RuntimeError:        # no new threads (the interpreter is shutting down): numpy's path stays
            pass


def _numba_started():
    runtime = sys.modules.get("numba.core.runtime.nrt")
    return runtime is not None and getattr(getattr(runtime, "rtsys", None), "_init", False)


def _load():
    """Make the njit forward (from numba's cache where it is there) and switch `forward` to it; where that fails,
    numpy's path stays (the error is kept in `load_error`)."""
    global _forward, load_error
    try:
        if not cblas.available():
            return
        import numba
        fn = numba.njit(_SIGNATURES, nogil=True, cache=True)(_small_forward)
        fn.disable_compile()
    except Exception as error:      # noqa: BLE001 - a speed-up that failed to load is no error of the caller's
        load_error = error
        return
    _forward = fn


def _small_forward(x, w, bias, out, has_bias):
    m, k = x.shape
    n = w.shape[0]
    if m == 0 or k < 2 or n < 2 or x.ctypes.data == w.ctypes.data or out.shape[0] != m or out.shape[1] != n \
            or w.shape[1] != k:
        return False
    if m == 1:
        gemv(n, k, w, k, x[0], out[0])
    else:
        gemm(False, True, m, n, k, x, k, w, k, 0.0, out, n)
    if has_bias:
        for i in range(m):
            for j in range(n):
                out[i, j] += bias[j]
    return True
