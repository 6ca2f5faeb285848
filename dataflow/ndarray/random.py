"""`mx.nd.random` (also `mx.random`): MXNet's sampling functions for NDArrays.

Numbers as parameters draw `shape` samples (shape (1,) when neither `shape` nor `out` is given) on `ctx`; NDArrays
as parameters draw per element (see dataflow/sampling.py). `exponential` takes the scale 1/lambda, as MXNet's does.
"""
from ..context import current_context
from ..sampling import _Null, draw, run
from .ndarray import NDArray, _invoke

__all__ = ["uniform", "normal", "randn", "poisson", "exponential", "gamma", "multinomial", "negative_binomial",
           "generalized_negative_binomial", "shuffle", "randint"]

_FRONT = (NDArray, _invoke, True)


def _sample(random_op, sample_op, params, shape, dtype, ctx, out, kwargs):
    if not isinstance(next(iter(params.values())), NDArray):
        kwargs = dict(kwargs, ctx=ctx or current_context())     # NDArray parameters bring their own context
    if out is not None:
        kwargs = dict(kwargs, out=out)
    return draw(_FRONT, random_op, sample_op, params, shape, dtype, kwargs)


def uniform(low=0, high=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples uniform on [low, high) (float32 unless `dtype`)."""
    return _sample("_random_uniform", "_sample_uniform", dict(low=low, high=high), shape, dtype, ctx, out, kwargs)


def normal(loc=0, scale=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from a normal distribution of mean `loc` and standard deviation `scale`."""
    return _sample("_random_normal", "_sample_normal", dict(loc=loc, scale=scale), shape, dtype, ctx, out, kwargs)


def randn(*shape, **kwargs):
    """Normal samples of the shape given by the positional arguments (`randn(2, 3)`); keywords loc, scale, dtype,
    ctx, out."""
    loc, scale = kwargs.pop("loc", 0), kwargs.pop("scale", 1)
    dtype, ctx, out = kwargs.pop("dtype", _Null), kwargs.pop("ctx", None), kwargs.pop("out", None)
    return _sample("_random_normal", "_sample_normal", dict(loc=loc, scale=scale), shape, dtype, ctx, out, kwargs)


def poisson(lam=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from a Poisson distribution of mean `lam` (as floats, float32 unless `dtype`)."""
    return _sample("_random_poisson", "_sample_poisson", dict(lam=lam), shape, dtype, ctx, out, kwargs)


def exponential(scale=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from an exponential distribution of mean `scale` (rate 1/scale)."""
    return _sample("_random_exponential", "_sample_exponential", dict(lam=1.0 / scale), shape, dtype, ctx, out,
                   kwargs)


def gamma(alpha=1, beta=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from a gamma distribution of shape `alpha` and scale `beta`."""
    return _sample("_random_gamma", "_sample_gamma", dict(alpha=alpha, beta=beta), shape, dtype, ctx, out, kwargs)


def negative_binomial(k=1, p=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from a negative binomial distribution: failures before `k` successes, each of probability `p`."""
    return _sample("_random_negative_binomial", "_sample_negative_binomial", dict(k=k, p=p), shape, dtype, ctx, out,
                   kwargs)


def generalized_negative_binomial(mu=1, alpha=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from a generalized negative binomial distribution of mean `mu` and dispersion `alpha`."""
    return _sample("_random_generalized_negative_binomial", "_sample_generalized_negative_binomial",
                   dict(mu=mu, alpha=alpha), shape, dtype, ctx, out, kwargs)


def randint(low, high, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Integers uniform on [low, high) (int32 unless `dtype` is 'int64')."""
    return _sample("_random_randint", None, dict(low=low, high=high), shape, dtype, ctx, out, kwargs)


def multinomial(data, shape=_Null, get_prob=False, out=None, dtype="int32", **kwargs):
    """Category indices drawn from the probabilities in the last axis of `data`, `shape` draws per row; with
    `get_prob` also the log-probabilities of the draws."""
    params = dict(kwargs, get_prob=get_prob, dtype=dtype, **({} if shape is _Null else {"shape": shape}))
    return run(_invoke, "_sample_multinomial", (data,), dict(params, **({} if out is None else {"out": out})))


def shuffle(data, **kwargs):
    """The rows of `data` (its first axis) in random order."""
    return run(_invoke, "_shuffle", (data,), kwargs)
