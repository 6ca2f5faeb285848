"""Shared pieces of the CPU kernels: applying `req`, running numba ufuncs per dtype, scalars in a dtype.

Every kernel writes through one of these, so no kernel repeats the WRITE/INPLACE/ADD/NULL logic:
  `assign(out, req, value)`     value is an array (or scalar) broadcastable to out;
  `store(out, req, compute)`    compute(dst) writes the result into dst (out itself, or a scratch buffer for ADD);
  `ufunc(f, args, out, req)`    out = f(*args) elementwise, numpy broadcasting, computed in out's dtype;
  `copy_view(x, out, req)`      view ops: out = x reshaped, nothing to do when out already is x's memory;
  `in_compute_dtype(out, req, compute)`  as store, with dst in out's compute dtype (float16 -> float32 scratch).
  `quiet_fp()` / `loud_fp(token)`  numpy's floating-point warnings off / back, cheaply (Note [quiet floating point]).
ADD accumulates into the existing output (grad_req='add'); NULL leaves it untouched; INPLACE is WRITE into a buffer
that also holds an input, which elementwise ufuncs and numpy's copy handle (numpy buffers overlapping operands).

Note [numba ufuncs per dtype]: the elementwise math is written once as a scalar function under
`numba.vectorize(cache=True)` (a DUFunc). A lazily compiled DUFunc picks its output type from numba's typing
(int8 + int8 -> int64, int / int -> float64), and numpy resolves a ufunc call to the first registered loop the
inputs cast to safely (an int8 input would run the float32 loop if that was added first). So `loop(f, dtype)` adds
the exact `dtype(dtype, ...)` loop on first use and every call passes `signature=`: the result is computed in the
dtype MXNet computes in (C++ `DType` arithmetic: integers wrap, and integer division truncates toward zero
because the float quotient is converted back to the integer type). The compiled scalar function comes from
numba's on-disk cache, but the ufunc loop wrapper around it is built anew in each process (~30 ms per function
and dtype, on first use). numba has no float16: float16 outputs are computed in float32 and rounded, as MXNet's
`half_t` arithmetic does.

Note [quiet floating point]: kernels compute with numpy's floating-point warnings off (inf * 0, 0 ** -1, sqrt(-1)
give IEEE's nan/inf silently, as MXNet's kernels do). `np.errstate(all="ignore")` builds its settings anew on every
entry (~1.5 us, more than a small op's maths); numpy keeps those settings in a context variable, so `quiet_fp()`
sets that variable to settings built once (~0.3 us) and `loud_fp(token)` restores the caller's. Like errstate this
is per thread and per context, so the caller's own settings are untouched. The settings built once also fix the
ufunc buffer size at numpy's default (np.setbufsize inside a kernel's call has no effect; it only tunes speed).
Where numpy does not expose the variable, the pair falls back to np.errstate.
"""
import functools

import numba
import numpy as np

from ..registry import ADD, NULL

__all__ = ["assign", "copy_view", "store", "in_compute_dtype", "ufunc", "loop", "scalar_in", "compute_dtype",
           "same_memory", "quiet_fp", "loud_fp"]

F16, F32 = np.dtype(np.float16), np.dtype(np.float32)


def compute_dtype(dtype):
    """The dtype a kernel computes in for an output of `dtype` (float16 -> float32)."""
    return F32 if dtype == F16 else dtype


def same_memory(a, b):
    """True when a and b start at the same address (an output that already is its input's view)."""
    return np.may_share_memory(a, b) and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]


def assign(out, req, value):
    """Store `value` (broadcastable to out) into out as req says; integer results wrap like C++ casts."""
    if req == NULL:
        return
    if req == ADD:
        value = np.asarray(value)
        if value.dtype != out.dtype:
            value = value.astype(out.dtype)
        np.add(out, value, out=out)
    else:
        np.copyto(out, value, casting="unsafe")


def copy_view(x, out, req):
    """out = x reshaped to out's shape (Reshape, Flatten, _copy); skipped when out already is x's memory."""
    if req == ADD or not same_memory(x, out):
        assign(out, req, x.reshape(out.shape))


def store(out, req, compute):
    """Run compute(dst), which writes a full result into dst, so that out ends up as req says."""
    if req == NULL:
        return
    if req == ADD:
        tmp = np.empty_like(out)
        compute(tmp)
        np.add(out, tmp, out=out)
    else:
        compute(out)


class _ErrstateVar:
    """np.errstate behind the context variable's set/reset, for a numpy without `_extobj_contextvar`."""
    def set(self, _settings):
        state = np.errstate(all="ignore")
        state.__enter__()
        return state

    def reset(self, state):
        state.__exit__(None, None, None)


def _fp_state():
    """(numpy's floating-point settings variable, its all-ignore value); see Note [quiet floating point]."""
    try:
        from numpy._core._ufunc_config import _extobj_contextvar as var
    except ImportError:
        return _ErrstateVar(), None
    with np.errstate(all="ignore"):
        return var, var.get()


_FP_VAR, _FP_QUIET = _fp_state()


def quiet_fp():
    """Turn numpy's floating-point warnings off in this thread; returns the token `loud_fp` restores from."""
    return _FP_VAR.set(_FP_QUIET)


def loud_fp(token):
    _FP_VAR.reset(token)


def in_compute_dtype(out, req, compute):
    """Run compute(dst) with dst in out's compute dtype (float16 -> a float32 scratch), leaving out as req says.
    Floating-point warnings are off, as in `ufunc`."""
    if req == NULL:
        return
    cdt = compute_dtype(out.dtype)
    token = _FP_VAR.set(_FP_QUIET)       # quiet_fp(), inline: one frame less per kernel
    try:
        if cdt != out.dtype:
            tmp = np.empty(out.shape, cdt)
            compute(tmp)
            assign(out, req, tmp)
        elif req == ADD:
            store(out, req, compute)
        else:
            compute(out)
    finally:
        _FP_VAR.reset(token)


_LOOPS = {}


def loop(f, dtype):
    """(numpy ufunc, signature) of DUFunc f with its `dtype(dtype, ...)` loop compiled; see Note above."""
    key = (f, dtype)
    hit = _LOOPS.get(key)
    if hit is None:
        want = dtype.char * f.nin + "->" + dtype.char
        if want not in f.ufunc.types:
            nb = numba.from_dtype(dtype)
            f.add(nb(*([nb] * f.nin)))
        hit = _LOOPS[key] = (f.ufunc, (dtype,) * (f.nin + 1))
    return hit


def ufunc(f, args, out, req):
    """out (req) f(*args): elementwise with numpy broadcasting, computed in out's dtype (float16 via float32)."""
    if req == NULL:
        return
    dt = out.dtype
    cdt = compute_dtype(dt)
    uf, sig = loop(f, cdt)
    args = [a if a.dtype == cdt else a.astype(cdt) for a in args]
    token = _FP_VAR.set(_FP_QUIET)       # quiet_fp(), inline: one frame less per kernel
    try:
        if req == ADD or cdt != dt:
            assign(out, req, uf(*args, signature=sig))
        else:
            uf(*args, out=out, signature=sig)
    finally:
        _FP_VAR.reset(token)


@functools.lru_cache(maxsize=1024)
def scalar_in(value, dtype):
    """A float param converted to `dtype` as C++ `DType(value)` does: integers truncate toward zero and wrap.

    Returns a 0-d array of dtype. Out-of-range and non-finite values to integers are undefined in C++; here they
    wrap through int64 (NaN gives int64's minimum)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iub":
        if dtype.kind == "b":
            return np.array(value != 0)
        with np.errstate(invalid="ignore"):
            return np.array(value, np.float64).astype(np.int64).astype(dtype)
    return np.array(value, dtype)
