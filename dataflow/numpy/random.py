"""`mx.np.random`: NumPy's sampling functions on the registry's random ops, seeded by `mx.random.seed` (or
`np.random.seed`). `size=None` draws one sample as a zero-dim array; samples are float32 unless `dtype` says
otherwise, `randint`'s int64 (MXNet's defaults, tests/fixtures/mxnet-1.9.1/numpy/dtypes.json)."""
import numbers

import numpy as onp

from .. import random as _random
from ..ndarray import random as _nd_random
from .functions import _array
from .multiarray import _np, reshape_to

__all__ = ["seed", "normal", "uniform", "randint", "rand", "randn", "shuffle", "choice"]


def seed(seed_state, ctx="all"):
    """Seed the generator every random kernel draws from (`mx.random.seed`)."""
    _random.seed(seed_state, ctx)


def _size(size):
    if size is None:
        return ()
    return (int(size),) if isinstance(size, numbers.Integral) else tuple(size)


def _draw(sampler, params, size, dtype, ctx):
    """`size` samples from `sampler` with number parameters, or element-wise for array parameters."""
    shape = _size(size)
    arrays = [p for p in params.values() if not isinstance(p, numbers.Number)]
    dtype = onp.dtype(dtype or onp.float32).name
    if arrays:
        return _draw_with_arrays(sampler, params, shape, dtype, ctx)
    out = _np(sampler(**params, shape=shape or (1,), dtype=dtype, ctx=ctx))
    return reshape_to(out, shape)


def _draw_with_arrays(sampler, params, shape, dtype, ctx):
    """Array parameters: standard samples scaled and shifted (NumPy's broadcasting of parameters and `size`)."""
    from .functions import broadcast_to
    arrays = {k: _array(v) for k, v in params.items()}
    target = shape or onp.broadcast_shapes(*(a.shape for a in arrays.values()))
    base = _np(sampler(**{k: (0 if k in ("loc", "low") else 1) for k in params}, shape=target or (1,),
                       dtype=dtype, ctx=ctx))
    base = reshape_to(base, target)
    first, second = list(arrays.values())
    if sampler is _nd_random.normal:
        return base * broadcast_to(second, target) + broadcast_to(first, target)
    return base * (broadcast_to(second, target) - broadcast_to(first, target)) + broadcast_to(first, target)


def normal(loc=0.0, scale=1.0, size=None, dtype=None, ctx=None, out=None):
    """Samples from a normal distribution of mean `loc` and standard deviation `scale`."""
    return _draw(_nd_random.normal, dict(loc=loc, scale=scale), size, dtype, ctx)


def uniform(low=0.0, high=1.0, size=None, dtype=None, ctx=None, out=None):
    """Samples uniform on [low, high)."""
    return _draw(_nd_random.uniform, dict(low=low, high=high), size, dtype, ctx)


def randint(low, high=None, size=None, dtype=None, ctx=None, out=None):
    """Integers uniform on [low, high) (on [0, low) without `high`), int64 unless `dtype`."""
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError("low >= high")
    shape = _size(size)
    out = _np(_nd_random.randint(int(low), int(high), shape=shape or (1,), dtype=onp.dtype(dtype or onp.int64).name,
                                 ctx=ctx))
    return reshape_to(out, shape)


def rand(*size):
    """Uniform samples on [0, 1) of shape `size`."""
    return uniform(size=size)


def randn(*size):
    """Standard normal samples of shape `size`."""
    return normal(size=size)


def shuffle(x):
    """Shuffle `x` in place along its first axis."""
    x[:] = _nd_random.shuffle(x)


def choice(a, size=None, replace=True, p=None, ctx=None):
    """Samples from `arange(a)` (an int `a`) or the elements of array `a`; uniform unless `p`."""
    population = a if isinstance(a, numbers.Integral) else len(a)
    if p is not None or not replace:
        raise NotImplementedError("np.random.choice: only uniform sampling with replacement is supported")
    picks = randint(0, population, size=size, ctx=ctx)
    return picks if isinstance(a, numbers.Integral) else _array(a)[picks]
