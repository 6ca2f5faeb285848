"""`mx.npx.random`: MXNet's sampling extensions on mx.np arrays: `seed`, `bernoulli` and the batched `uniform_n` /
`normal_n` (a `batch_shape` of samples of the parameters' broadcast shape), drawn by `mx.np.random`'s samplers."""
import numbers

import numpy as onp

from ..numpy import random as _np_random
from ..numpy.functions import _array, log
from ..numpy.multiarray import ndarray

__all__ = ["seed", "bernoulli", "uniform_n", "normal_n"]


def seed(seed, ctx="all"):  # noqa: A002 - MXNet's parameter name
    """Seed the generator every random kernel draws from (`mx.random.seed`)."""
    _np_random.seed(seed, ctx)


def _values(x):
    return x.asnumpy() if isinstance(x, ndarray) else onp.asarray(x)


def bernoulli(prob=None, logit=None, size=None, dtype=None, ctx=None, out=None):
    """Samples 1 with probability `prob` (or sigmoid(`logit`)) and 0 otherwise, of shape `size` (else the
    parameter's shape), float32 unless `dtype`. Exactly one of `prob` and `logit` is given; `prob` lies in [0, 1]."""
    if (prob is None) == (logit is None):
        raise ValueError("Either `prob` or `logit` must be specified, but not both. Received prob=%s, logit=%s"
                         % (prob, logit))
    if prob is not None:
        p = _values(prob)
        if p.size and (p.min() < 0 or p.max() > 1):
            raise ValueError("bernoulli: prob must lie in [0, 1]")
    else:
        p = None
    param = prob if prob is not None else logit
    shape = _np_random._target(size, param)
    u = _np_random.uniform(size=shape, dtype="float32", ctx=ctx)
    if prob is None:
        # u < sigmoid(logit)  <=>  log(u / (1 - u)) < logit: no overflow of exp for large |logit|
        param = _array(logit) if not isinstance(logit, numbers.Number) else logit
        drawn = log(u / (1 - u)) < param
    else:
        drawn = u < (_array(prob) if not isinstance(prob, numbers.Number) else prob)
    return drawn.astype(onp.dtype(dtype or onp.float32).name)


def _batched(sampler, first, second, batch_shape, dtype, ctx):
    event = onp.broadcast_shapes(*(x.shape if isinstance(x, ndarray) else onp.shape(x) for x in (first, second)))
    batch = _np_random._size(batch_shape)
    return sampler(first, second, size=batch + tuple(event), dtype=dtype, ctx=ctx)


def uniform_n(low=0.0, high=1.0, batch_shape=None, dtype=None, ctx=None):
    """Uniform samples on [low, high) of shape `batch_shape` + the parameters' broadcast shape."""
    return _batched(_np_random.uniform, low, high, batch_shape, dtype, ctx)


def normal_n(loc=0.0, scale=1.0, batch_shape=None, dtype=None, ctx=None):
    """Normal samples of shape `batch_shape` + the parameters' broadcast shape."""
    return _batched(_np_random.normal, loc, scale, batch_shape, dtype, ctx)
