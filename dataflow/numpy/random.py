"""`mx.np.random`: NumPy's sampling functions on the registry's random ops, seeded by `mx.random.seed` (or
`np.random.seed`). `size=None` draws one sample as a zero-dim array; samples are float32 unless `dtype` says
otherwise, `randint`'s, `choice`'s and `multinomial`'s int64 (MXNet's defaults, tests/fixtures/mxnet-1.9.1/numpy/
dtypes.json and numpy_func/). The distributions without a registry op of their own are transforms of uniform,
normal or gamma draws (Note [distributions as transforms]), with NumPy's broadcasting of array parameters."""
import numbers

import numpy as onp

from .. import random as _random
from ..ndarray import random as _nd_random
from .functions import _array, abs, arange, broadcast_to, exp, expm1, log, log1p, sign, sqrt
from .multiarray import _np, _op, reshape_to

__all__ = ["seed", "normal", "uniform", "randint", "rand", "randn", "shuffle", "choice", "permutation", "gamma",
           "beta", "chisquare", "exponential", "lognormal", "logistic", "gumbel", "weibull", "pareto", "power",
           "rayleigh", "laplace", "multinomial", "multivariate_normal"]


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
    _check(scale, "scale", zero_allowed=True)
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


def rand(*size, dtype=None, ctx=None):
    """Uniform samples on [0, 1) of shape `size`."""
    return uniform(size=size, dtype=dtype, ctx=ctx)


def randn(*size, dtype=None, ctx=None):
    """Standard normal samples of shape `size`."""
    return normal(size=size, dtype=dtype, ctx=ctx)


def shuffle(x):
    """Shuffle `x` in place along its first axis."""
    x[:] = _nd_random.shuffle(x)


def choice(a, size=None, replace=True, p=None, ctx=None, out=None):
    """Samples from `arange(a)` (an int `a`) or the elements of the 1-D array `a`: uniform unless `p` gives the
    probabilities; without `replace` no element is drawn twice. Indices are int64."""
    population = int(a) if isinstance(a, numbers.Integral) else len(a)
    if population <= 0:
        raise ValueError("a must be greater than 0 unless no samples are taken")
    shape = _size(size)
    count = int(onp.prod(shape, dtype=onp.int64))
    if p is not None:
        p = _array(p)
        if p.shape != (population,):
            raise ValueError("a and p must have same size")
    if not replace:
        if count > population:
            raise ValueError("Cannot take a larger sample than population when 'replace=False'")
        if p is None:
            picks = reshape_to(permutation(population)[:count], shape)
        else:       # Gumbel top-k: the `count` largest log p + Gumbel noise are draws without replacement
            keys = log(p) + gumbel(size=(population,))
            picks = reshape_to(_np(_op("topk", keys, k=count, dtype="int64")), shape)
    elif p is None:
        picks = randint(0, population, size=size, ctx=ctx)
    else:
        picks = reshape_to(_np(_nd_random.multinomial(p.as_nd_ndarray(), shape=(max(count, 1),),
                                                      dtype="int64"))[:count], shape)
    return picks if isinstance(a, numbers.Integral) else _array(a)[picks]


def permutation(x):
    """A shuffled copy of `x` along its first axis, or a shuffled `arange(x)` for an int."""
    if isinstance(x, numbers.Integral):
        x = arange(x, dtype=onp.int64)
    return _np(_nd_random.shuffle(_array(x)))


# Note [distributions as transforms]: with U uniform on [0, 1), E standard exponential (-log(1 - U)), N standard
# normal and G gamma: logistic loc + scale*log(U/(1-U)); gumbel loc - scale*log(E); weibull E**(1/a); pareto
# (Lomax, NumPy's) exp(E/a) - 1; power (1 - exp(-E))**(1/a); rayleigh scale*sqrt(2E); laplace loc - scale*sign(V)*
# log(1 - 2|V|) with V = U - 1/2; lognormal exp(mean + sigma*N); beta G(a)/(G(a) + G(b)); chisquare 2*G(df/2).

def _target(size, *params):
    """The samples' shape: `size`, else the parameters' broadcast shape."""
    if size is not None:
        return _size(size)
    return onp.broadcast_shapes(*(onp.shape(p) if not hasattr(p, "shape") else p.shape for p in params))


def _standard_exponential(shape, dtype=None, ctx=None):
    return -log1p(-uniform(size=shape, dtype=dtype, ctx=ctx))


def gamma(shape, scale=1.0, size=None, dtype=None, ctx=None, out=None):
    """Samples from a gamma distribution of shape `shape` (k) and scale `scale` (theta)."""
    _check(shape, "shape", zero_allowed=False)
    _check(scale, "scale", zero_allowed=False)
    target = _target(size, shape, scale)
    dtype = onp.dtype(dtype or onp.float32).name
    if isinstance(shape, numbers.Number):
        draws = reshape_to(_np(_nd_random.gamma(alpha=float(shape), beta=1.0, shape=target or (1,), dtype=dtype,
                                                ctx=ctx)), target)
    else:
        alphas = broadcast_to(_array(shape).astype(dtype), target)
        ones = alphas * 0 + 1
        flat = _nd_random.gamma(alpha=reshape_to(alphas, (-1,)).as_nd_ndarray(),
                                beta=reshape_to(ones, (-1,)).as_nd_ndarray())
        draws = reshape_to(_np(flat), target)
    return draws * scale if not isinstance(scale, numbers.Number) or scale != 1.0 else draws


def beta(a, b, size=None, dtype=None, ctx=None):
    """Samples from a beta distribution of parameters `a` and `b`."""
    target = _target(size, a, b)
    x, y = gamma(a, size=target, dtype=dtype, ctx=ctx), gamma(b, size=target, dtype=dtype, ctx=ctx)
    return x / (x + y)


def chisquare(df, size=None, dtype=None, ctx=None):
    """Samples from a chi-square distribution of `df` degrees of freedom."""
    return gamma(df / 2 if isinstance(df, numbers.Number) else _array(df) / 2, 2.0, size=size, dtype=dtype, ctx=ctx)


def exponential(scale=1.0, size=None, ctx=None, out=None):
    """Samples from an exponential distribution of mean `scale`."""
    _check(scale, "scale", zero_allowed=True)
    return _standard_exponential(_target(size, scale), ctx=ctx) * scale


def lognormal(mean=0.0, sigma=1.0, size=None, dtype=None, ctx=None, out=None):
    return exp(normal(mean, sigma, size=size, dtype=dtype, ctx=ctx))


def logistic(loc=0.0, scale=1.0, size=None, ctx=None, out=None):
    u = uniform(size=_target(size, loc, scale), ctx=ctx)
    return log(u / (1 - u)) * scale + loc


def gumbel(loc=0.0, scale=1.0, size=None, ctx=None, out=None):
    return loc - log(_standard_exponential(_target(size, loc, scale), ctx=ctx)) * scale


def weibull(a, size=None, ctx=None, out=None):
    return _standard_exponential(_target(size, a), ctx=ctx) ** (1.0 / _positive(a))


def pareto(a, size=None, ctx=None, out=None):
    return expm1(_standard_exponential(_target(size, a), ctx=ctx) / _positive(a))


def power(a, size=None, ctx=None, out=None):
    return (-expm1(-_standard_exponential(_target(size, a), ctx=ctx))) ** (1.0 / _positive(a))


def rayleigh(scale=1.0, size=None, ctx=None, out=None):
    _check(scale, "scale", zero_allowed=True)
    return sqrt(_standard_exponential(_target(size, scale), ctx=ctx) * 2) * scale


def laplace(loc=0.0, scale=1.0, size=None, dtype=None, ctx=None, out=None):
    v = uniform(-0.5, 0.5, size=_target(size, loc, scale), dtype=dtype, ctx=ctx)
    return loc - sign(v) * log1p(-2 * abs(v)) * scale


def _check(value, name, zero_allowed):
    """Refuse a negative (or zero) parameter, number or array, with ValueError as MXNet's samplers do."""
    values = value.asnumpy() if hasattr(value, "asnumpy") else onp.asarray(value)
    if values.size and (values.min() < 0 or (not zero_allowed and values.min() == 0)):
        raise ValueError("%s must be %s, got %s" % (name, "non-negative" if zero_allowed else "positive", value))


def _positive(a):
    _check(a, "a", zero_allowed=False)
    return float(a) if isinstance(a, numbers.Number) else _array(a)


def multinomial(n, pvals, size=None):
    """Counts of `n` draws over the categories of probabilities `pvals`, one row per sample (int64)."""
    given = onp.asarray(pvals.asnumpy() if hasattr(pvals, "asnumpy") else pvals)
    pvals = given.astype(onp.float64)
    if pvals.ndim != 1:
        raise ValueError("object too deep for desired array: pvals must be 1-D")
    # float32 probabilities that sum to 1 in decimal can sum to 1 + 2**-26 (MXNet's own arrays are float32)
    slack = 1e-12 if given.dtype == onp.float64 or given.dtype.kind != "f" else 1e-6
    if pvals[:-1].sum() > 1.0 + slack:
        raise ValueError("sum(pvals[:-1]) > 1.0")
    shape = _size(size)
    rows = int(onp.prod(shape, dtype=onp.int64))
    if n == 0 or rows == 0 or pvals.size == 0:
        return _array(onp.zeros(shape + pvals.shape, onp.int64))
    probabilities = _array(onp.tile(pvals.astype(onp.float32), (rows, 1)))
    draws = _np(_nd_random.multinomial(probabilities.as_nd_ndarray(), shape=(int(n),), dtype="int64")).asnumpy()
    counts = onp.zeros((rows, pvals.size), onp.int64)
    onp.add.at(counts, (onp.repeat(onp.arange(rows), int(n)), draws.reshape(-1)), 1)
    return _array(counts.reshape(shape + pvals.shape))


def multivariate_normal(mean, cov, size=None, check_valid=None, tol=None):
    """Samples mean + L @ z for z standard normal, L the Cholesky factor of `cov` (computed on the host). `mean`
    (..., k) and `cov` (..., k, k) may carry batch axes, broadcast against each other (MXNet's extension); the
    samples have shape `size` + the batch shape + (k,)."""
    mean = onp.asarray(mean.asnumpy() if hasattr(mean, "asnumpy") else mean, dtype=onp.float64)
    cov = onp.asarray(cov.asnumpy() if hasattr(cov, "asnumpy") else cov, dtype=onp.float64)
    if mean.ndim < 1 or cov.ndim < 2 or cov.shape[-2:] != (mean.shape[-1],) * 2:
        raise ValueError("mean must be at least 1 dimensional and cov at least 2 dimensional, with cov of shape "
                         "(..., k, k) for mean of shape (..., k); got %s and %s" % (mean.shape, cov.shape))
    batch = onp.broadcast_shapes(mean.shape[:-1], cov.shape[:-2])
    factor = onp.linalg.cholesky(cov)
    z = normal(size=_size(size) + batch + mean.shape[-1:]).asnumpy().astype(onp.float64)
    samples = mean + onp.einsum("...ij,...j->...i", factor, z)
    return _array(samples.astype(onp.float32))
