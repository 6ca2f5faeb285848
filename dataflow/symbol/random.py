"""`mx.sym.random`: MXNet's sampling functions for Symbols.

Numbers as parameters make a `_random_<dist>` node (its shape comes from `shape`, or from inference when left
out); Symbols as parameters make a `_sample_<dist>` node (see dataflow/sampling.py). `exponential` takes the
scale 1/lambda, as MXNet's does.
"""
from ..sampling import _Null, draw, run
from .symbol import Symbol, create

__all__ = ["uniform", "normal", "randn", "poisson", "exponential", "gamma", "multinomial", "negative_binomial",
           "generalized_negative_binomial", "shuffle", "randint"]

_FRONT = (Symbol, create, False)


def uniform(low=0, high=1, shape=_Null, dtype=_Null, **kwargs):
    """Samples uniform on [low, high)."""
    return draw(_FRONT, "_random_uniform", "_sample_uniform", dict(low=low, high=high), shape, dtype, kwargs)


def normal(loc=0, scale=1, shape=_Null, dtype=_Null, **kwargs):
    """Samples from a normal distribution of mean `loc` and standard deviation `scale`."""
    return draw(_FRONT, "_random_normal", "_sample_normal", dict(loc=loc, scale=scale), shape, dtype, kwargs)


def randn(*shape, **kwargs):
    """Normal samples of the shape given by the positional arguments; keywords loc, scale, dtype."""
    loc, scale, dtype = kwargs.pop("loc", 0), kwargs.pop("scale", 1), kwargs.pop("dtype", _Null)
    return draw(_FRONT, "_random_normal", "_sample_normal", dict(loc=loc, scale=scale), shape, dtype, kwargs)


def poisson(lam=1, shape=_Null, dtype=_Null, **kwargs):
    """Samples from a Poisson distribution of mean `lam`."""
    return draw(_FRONT, "_random_poisson", "_sample_poisson", dict(lam=lam), shape, dtype, kwargs)


def exponential(scale=1, shape=_Null, dtype=_Null, **kwargs):
    """Samples from an exponential distribution of mean `scale` (rate 1/scale)."""
    return draw(_FRONT, "_random_exponential", "_sample_exponential", dict(lam=1.0 / scale), shape, dtype, kwargs)


def gamma(alpha=1, beta=1, shape=_Null, dtype=_Null, **kwargs):
    """Samples from a gamma distribution of shape `alpha` and scale `beta`."""
    return draw(_FRONT, "_random_gamma", "_sample_gamma", dict(alpha=alpha, beta=beta), shape, dtype, kwargs)


def negative_binomial(k=1, p=1, shape=_Null, dtype=_Null, **kwargs):
    """Samples from a negative binomial distribution: failures before `k` successes, each of probability `p`."""
    return draw(_FRONT, "_random_negative_binomial", "_sample_negative_binomial", dict(k=k, p=p), shape, dtype,
                kwargs)


def generalized_negative_binomial(mu=1, alpha=1, shape=_Null, dtype=_Null, **kwargs):
    """Samples from a generalized negative binomial distribution of mean `mu` and dispersion `alpha`."""
    return draw(_FRONT, "_random_generalized_negative_binomial", "_sample_generalized_negative_binomial",
                dict(mu=mu, alpha=alpha), shape, dtype, kwargs)


def randint(low, high, shape=_Null, dtype=_Null, **kwargs):
    """Integers uniform on [low, high)."""
    return draw(_FRONT, "_random_randint", None, dict(low=low, high=high), shape, dtype, kwargs)


def multinomial(data, shape=_Null, get_prob=True, dtype="int32", **kwargs):
    """Category indices drawn from the probabilities in the last axis of `data` (and, by default here as in
    MXNet's Symbol API, their log-probabilities)."""
    params = dict(kwargs, get_prob=get_prob, dtype=dtype, **({} if shape is _Null else {"shape": shape}))
    return run(create, "_sample_multinomial", (data,), params)


def shuffle(data, **kwargs):
    """The rows of `data` (its first axis) in random order."""
    return run(create, "_shuffle", (data,), kwargs)
