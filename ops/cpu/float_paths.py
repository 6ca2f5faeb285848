"""Float paths of the elementwise kernels: array functions `f(x, out)` that a kernel of ops/cpu/elemwise.py runs
for float data instead of its DUFunc, computing the same values faster.

  `numpy_ufunc(uf)`   numpy's SIMD loop (in place too), where it beats a DUFunc calling scalar libm;
  `vmath_route(name)` vmath.apply: vmath's vectorised float32 kernel or numpy's, whichever this host runs faster;
  `scipy_ufunc(name)` scipy.special, imported on first use (it is slow to import);
  `out_of_place(f)`   DUFunc f, never handed an output that is its input (Note [in-place DUFunc calls]).

Note [in-place DUFunc calls]: numba's ufunc loop vectorises behind a runtime overlap check, and an output that is
its input fails it, so in place the scalar fallback loop runs: for a body with a select that stays a branch
(round), or a slow scalar instruction (sqrt, division), that is 2-20x slower on 2.4M float32 (round 22 ms in place
against 1.3, rsqrt 3.6 against 0.8). Computing into a fresh buffer and copying costs one extra pass instead.
"""
import numpy as np

from . import vmath
from .common import loop, same_memory

__all__ = ["numpy_ufunc", "vmath_route", "scipy_ufunc", "out_of_place", "relu_np", "rcbrt_np"]


def numpy_ufunc(uf):
    return lambda x, out: uf(x, out=out)


def vmath_route(name):
    return lambda x, out: vmath.apply(name, x, out)


def scipy_ufunc(name):
    def fast(x, out):
        import scipy.special                        # imported on first use: it is slow to import
        getattr(scipy.special, name)(x, out=out)
    return fast


def out_of_place(f):
    """DUFunc f (one input) as an array function that computes into a fresh buffer when out is x."""
    def run(x, out):
        uf, sig = loop(f, out.dtype)
        if same_memory(x, out):
            np.copyto(out, uf(x, signature=sig))
        else:
            uf(x, out=out, signature=sig)
    return run


def relu_np(x, out):
    # numpy's SIMD maximum gives the scalar function's values (NaN stays NaN, -0.0 gives 0), runs as fast in place,
    # and keeps numba off a model's first inference call (numba's one-time setup costs ~1 s)
    np.maximum(x, x.dtype.type(0), out=out)


def rcbrt_np(x, out):
    np.reciprocal(np.cbrt(x, out=out), out=out)
