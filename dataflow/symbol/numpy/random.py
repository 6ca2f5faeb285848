"""`mx.sym.np.random`: NumPy's sampling functions on Symbols: uniform, normal, randint, gamma and exponential as the
registry's samplers (a Symbol scale multiplies a standard draw), the others as transforms of them (beta of two
gammas, gumbel / weibull / pareto / power / rayleigh of standard exponentials, logistic of uniforms), choice as a
multinomial draw, shuffle, and multivariate_normal through the Cholesky factor of `cov`. Without `size` a graph's
sample has shape (1,) (its zero-dim shape)."""
import numbers

from ...context import current_context  # noqa: F401 - MXNet's module has it too
from ..symbol import Symbol
from ._functions import _broadcast_together, _dtype
from ._symbol import _sym


def _sample(name, params, size, dtype):
    """Samples of registry op `_random_<name>` with NumPy's parameters `params` (numbers or Symbols): numbers give
    one node of shape `size`; Symbols scale a standard draw of shape `size`, or of their broadcast shape."""
    first, second = params.values()
    dtype = _dtype(dtype)
    shape = None if size is None else ((size,) if isinstance(size, numbers.Integral) else tuple(size))
    if not any(isinstance(p, Symbol) for p in (first, second)):
        return _sym("_random_" + name, shape=shape or (1,), dtype=dtype, **params)
    standard = dict(zip(params, (0.0, 1.0)))
    if shape is not None:
        base = _sym("_random_" + name, shape=shape or (1,), dtype=dtype, **standard)
    else:
        carrier = _broadcast_together(*[p for p in (first, second) if isinstance(p, Symbol)])[0]
        base = _sym("_random_%s_like" % name, _sym("Cast", carrier, dtype=dtype), **standard)
    spread = second if name == "normal" else second - first      # the scale; high - low
    return base * spread + first if isinstance(spread, Symbol) else spread * base + first


def uniform(low=0.0, high=1.0, size=None, dtype=None, ctx=None, out=None):
    """Samples uniform on [low, high), of shape `size` (None: one sample, shape (1,) in a graph)."""
    return _sample("uniform", dict(low=low, high=high), size, dtype)


def normal(loc=0.0, scale=1.0, size=None, dtype=None, ctx=None, out=None):
    """Samples from a normal distribution of mean `loc`, standard deviation `scale`, of shape `size`."""
    return _sample("normal", dict(loc=loc, scale=scale), size, dtype)


# -- more distributions: the registry's samplers, or transforms of uniform, normal and exponential draws ------------
def _shape(size):
    return (1,) if size is None else ((size,) if isinstance(size, numbers.Integral) else tuple(size) or (1,))


def _numbers(function, **params):
    for name, value in params.items():
        if isinstance(value, Symbol):
            raise NotImplementedError("np.random.%s of Symbols: %s must be a number here, got a Symbol"
                                      % (function, name))


def _standard_exponential(size, dtype=None):
    return _sym("_random_exponential", lam=1.0, shape=_shape(size), dtype=_dtype(dtype))


def rand(*size):
    """Uniform samples on [0, 1) of shape `size`."""
    return uniform(size=size or None)


def randint(low, high=None, size=None, dtype=None, ctx=None, out=None):
    """Integers uniform on [low, high) (on [0, low) without `high`), int64 unless `dtype`."""
    _numbers("randint", low=low, high=high)
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError("low >= high")
    return _sym("_random_randint", low=int(low), high=int(high), shape=_shape(size),
                dtype=_dtype(dtype or "int64"))


def gamma(shape, scale=1.0, size=None, dtype=None, ctx=None, out=None):
    """Gamma samples of shape parameter `shape` (a number) and `scale` (a number or a Symbol, scaling the draws)."""
    _numbers("gamma", shape=shape)
    if isinstance(scale, Symbol):
        if size is None:
            standard = _sym("_random_gamma_like", _sym("Cast", scale, dtype=_dtype(dtype)), alpha=float(shape),
                            beta=1.0)
        else:
            standard = _sym("_random_gamma", alpha=float(shape), beta=1.0, shape=_shape(size), dtype=_dtype(dtype))
        return standard * scale
    return _sym("_random_gamma", alpha=float(shape), beta=float(scale), shape=_shape(size), dtype=_dtype(dtype))


def exponential(scale=1.0, size=None, ctx=None, out=None):
    """Exponential samples of mean `scale` (a number or a Symbol, scaling the draws)."""
    if isinstance(scale, Symbol):
        standard = (_sym("_random_exponential_like", _sym("Cast", scale, dtype="float32"), lam=1.0)
                    if size is None else _standard_exponential(size))
        return standard * scale
    return _sym("_random_exponential", lam=1.0 / scale, shape=_shape(size), dtype="float32")


def beta(a, b, size=None, dtype=None, ctx=None):
    """Beta samples: X / (X + Y) of gamma samples X (shape `a`) and Y (shape `b`)."""
    x, y = gamma(a, size=size, dtype=dtype), gamma(b, size=size, dtype=dtype)
    return x / (x + y)


def chisquare(df, size=None, dtype=None, ctx=None):
    """Chi-square samples of `df` degrees of freedom: gamma(df / 2, 2)."""
    _numbers("chisquare", df=df)
    return gamma(df / 2.0, 2.0, size=size, dtype=dtype)


def lognormal(mean=0.0, sigma=1.0, size=None, dtype=None, ctx=None, out=None):
    return _sym("exp", normal(mean, sigma, size=size, dtype=dtype))


def logistic(loc=0.0, scale=1.0, size=None, ctx=None, out=None):
    """loc + scale * log(U / (1 - U)) of uniform samples U."""
    u = uniform(size=size)
    return _sym("log", u / (1 - u)) * scale + loc


def gumbel(loc=0.0, scale=1.0, size=None, ctx=None, out=None):
    """loc - scale * log(E) of standard exponential samples E."""
    return loc - _sym("log", _standard_exponential(size)) * scale


def weibull(a, size=None, ctx=None, out=None):
    """E ** (1 / a) of standard exponential samples E."""
    _numbers("weibull", a=a)
    return _standard_exponential(size) ** (1.0 / a)


def pareto(a, size=None, ctx=None, out=None):
    """NumPy's Pareto II (Lomax) samples: exp(E / a) - 1 of standard exponential samples E."""
    _numbers("pareto", a=a)
    return _sym("expm1", _standard_exponential(size) / float(a))


def power(a, size=None, ctx=None, out=None):
    """Samples on [0, 1] with density a x**(a-1): (1 - exp(-E)) ** (1 / a)."""
    _numbers("power", a=a)
    return (1 - _sym("exp", -_standard_exponential(size))) ** (1.0 / a)


def rayleigh(scale=1.0, size=None, ctx=None, out=None):
    """scale * sqrt(2 E) of standard exponential samples E."""
    return _sym("sqrt", _standard_exponential(size) * 2.0) * scale


def shuffle(x):
    """`x` with its first axis shuffled (MXNet's shuffles in place; a graph returns the shuffled Symbol)."""
    return _sym("_shuffle", x)


def choice(a, size=None, replace=True, p=None, ctx=None, out=None):
    """Samples from arange(a) (an int `a`), with replacement, uniform or with probabilities `p` (a Symbol or a
    list of numbers), int64. Drawing without replacement or from the elements of an array is not supported in a
    graph."""
    if not isinstance(a, numbers.Integral):
        raise NotImplementedError("np.random.choice of Symbols: a must be an int, got %s" % type(a).__name__)
    if not replace:
        raise NotImplementedError("np.random.choice of Symbols: replace=False is not supported")
    if a <= 0:
        raise ValueError("a must be greater than 0 unless no samples are taken")
    if p is None:
        return randint(0, a, size=size)
    if not isinstance(p, Symbol):
        from ._manipulation import _constant
        p = _constant(p, "float32")
    return _sym("_sample_multinomial", p, shape=_shape(size), dtype="int64")


def multivariate_normal(mean, cov, size=None, check_valid=None, tol=None):
    """mean + z @ L^T of standard normal z (of shape `size` + mean's) and the Cholesky factor L of `cov` (Symbols,
    `cov` positive definite)."""
    if not isinstance(mean, Symbol) or not isinstance(cov, Symbol):
        raise NotImplementedError("np.random.multivariate_normal of Symbols: mean and cov must be Symbols")
    carrier = _sym("broadcast_add", _sym("_zeros", shape=_shape(size) + (1,)), _sym("Cast", mean, dtype="float32"))
    z = _sym("_random_normal_like", carrier, loc=0.0, scale=1.0)
    factor = _sym("_linalg_potrf", cov)
    return _sym("dot", z, factor, transpose_b=True) + mean
