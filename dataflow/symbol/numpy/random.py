"""`mx.sym.np.random`: NumPy's sampling functions on Symbols: uniform, normal, randint, gamma and exponential as the
registry's samplers (Symbol parameters shift and scale a standard draw; a Symbol gamma shape draws per element),
the others as transforms of them (beta of two gammas, gumbel / weibull / pareto / power / rayleigh of standard
exponentials, logistic of uniforms), choice (of an int's range or a Symbol's elements, with or without
replacement), shuffle, and multivariate_normal through the Cholesky factor of `cov`. Parameters may be numbers or
Symbols (but randint's). Without `size` the sample has the Symbol parameters' broadcast shape, or shape () for
numbers, as NumPy's."""
import numbers

import numpy as onp

from ...context import current_context  # noqa: F401 - MXNet's module has it too
from ..symbol import Symbol
from ._functions import _dtype
from ._symbol import _binary, _sym


def _carrier(symbols, dtype="float32"):
    """Zeros (of `dtype`) of the broadcast shape of `symbols`, as NumPy broadcasts: zero-dim ones give shape ()."""
    carrier = None
    for x in symbols:
        zeros = _sym("Cast", _sym("zeros_like", x), dtype=dtype)
        carrier = zeros if carrier is None else _binary("add", carrier, zeros)
    return carrier


def _with_batch(carrier, batch):
    """`carrier` repeated along leading axes of sizes `batch`."""
    if not batch:
        return carrier
    for _ in batch:
        carrier = _sym("expand_dims", carrier, axis=0)
    return _sym("broadcast_axis", carrier, axis=tuple(range(len(batch))), size=tuple(batch))


def _standard(name, size, params, dtype=None, batch=(), **standard):
    """A draw of registry sampler `_random_<name>` with `standard` params: of shape `size`; without `size`, one
    draw per element of the Symbols among `params` broadcast together (`batch` of them, as leading axes: npx's
    `*_n` samplers); else of shape `batch`, or () for one sample."""
    dtype = _dtype(dtype)
    symbols = [p for p in params if isinstance(p, Symbol)]
    if size is None and symbols:
        return _sym("_random_%s_like" % name, _with_batch(_carrier(symbols, dtype), batch), **standard)
    return _draw("_random_" + name, tuple(batch) if size is None and batch else size, dtype=dtype, **standard)


def _sample(name, params, size, dtype, batch=()):
    """Samples of registry op `_random_<name>` with NumPy's parameters `params` (numbers or Symbols): numbers give
    one node; Symbols shift and scale a standard draw (`_standard`)."""
    first, second = params.values()
    if not any(isinstance(p, Symbol) for p in (first, second)):
        return _standard(name, size, (), dtype, batch, **params)
    base = _standard(name, size, (first, second), dtype, batch, **dict(zip(params, (0.0, 1.0))))
    spread = second if name == "normal" else second - first      # the scale; high - low
    return base * spread + first if isinstance(spread, Symbol) else spread * base + first


def uniform(low=0.0, high=1.0, size=None, dtype=None, ctx=None, out=None):
    """Samples uniform on [low, high), of shape `size` (None: the parameters' shape, () for numbers)."""
    return _sample("uniform", dict(low=low, high=high), size, dtype)


def normal(loc=0.0, scale=1.0, size=None, dtype=None, ctx=None, out=None):
    """Samples from a normal distribution of mean `loc`, standard deviation `scale`, of shape `size`."""
    return _sample("normal", dict(loc=loc, scale=scale), size, dtype)


# -- more distributions: the registry's samplers, or transforms of uniform, normal and exponential draws ------------
# A Symbol parameter takes part in the transform, so its gradient flows as the array form's does.
def _shape(size):
    return (1,) if size is None else ((size,) if isinstance(size, numbers.Integral) else tuple(size) or (1,))


def _draw(op_name, size, **params):
    """A node of sampler `op_name` of shape `size`; without `size` (or size ()) one sample of shape (): the
    samplers' shape () means unknown, so one of shape (1,) with its axis squeezed."""
    out = _sym(op_name, shape=_shape(size), **params)
    scalar = size is None or (not isinstance(size, numbers.Integral) and not tuple(size))
    return _sym("_np_squeeze", out, axis=(0,)) if scalar else out


def _numbers(function, **params):
    for name, value in params.items():
        if isinstance(value, Symbol):
            raise NotImplementedError("np.random.%s of Symbols: %s must be a number here, got a Symbol"
                                      % (function, name))


def _standard_exponential(size, *params):
    return _standard("exponential", size, params, lam=1.0)


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
    return _draw("_random_randint", size, low=int(low), high=int(high), dtype=_dtype(dtype or "int64"))


def gamma(shape, scale=1.0, size=None, dtype=None, ctx=None, out=None):
    """Gamma samples of shape parameter `shape` and `scale` (numbers or Symbols; a Symbol scale multiplies the
    draws, a Symbol shape draws per element with `_sample_gamma`)."""
    dtype = _dtype(dtype)
    if isinstance(shape, Symbol):      # `shape` broadcast to `size`, else with a Symbol `scale`
        spread = [scale] if isinstance(scale, Symbol) else []
        zeros = _draw("_zeros", size, dtype=dtype) if size is not None else _carrier(spread, dtype)
        alpha = _sym("Cast", shape, dtype=dtype)
        alpha = alpha if zeros is None else _binary("add", alpha, zeros)
        standard = _sym("_sample_gamma", alpha, _sym("ones_like", alpha), dtype=dtype)
    elif isinstance(scale, Symbol):
        standard = _standard("gamma", size, (scale,), dtype, alpha=float(shape), beta=1.0)
    else:
        return _draw("_random_gamma", size, alpha=float(shape), beta=float(scale), dtype=dtype)
    return standard * scale if isinstance(scale, Symbol) or scale != 1 else standard


def exponential(scale=1.0, size=None, ctx=None, out=None):
    """Exponential samples of mean `scale` (a number or a Symbol, scaling the draws)."""
    if isinstance(scale, Symbol):
        return _standard_exponential(size, scale) * scale
    return _draw("_random_exponential", size, lam=1.0 / scale, dtype="float32")


def beta(a, b, size=None, dtype=None, ctx=None):
    """Beta samples: X / (X + Y) of gamma samples X (shape `a`) and Y (shape `b`)."""
    x, y = gamma(a, size=size, dtype=dtype), gamma(b, size=size, dtype=dtype)
    return x / (x + y)


def chisquare(df, size=None, dtype=None, ctx=None):
    """Chi-square samples of `df` degrees of freedom: gamma(df / 2, 2)."""
    return gamma(df / 2.0, 2.0, size=size, dtype=dtype)


def lognormal(mean=0.0, sigma=1.0, size=None, dtype=None, ctx=None, out=None):
    return _sym("exp", normal(mean, sigma, size=size, dtype=dtype))


def logistic(loc=0.0, scale=1.0, size=None, ctx=None, out=None):
    """loc + scale * log(U / (1 - U)) of uniform samples U."""
    u = _standard("uniform", size, (loc, scale), low=0.0, high=1.0)
    return _sym("log", u / (1 - u)) * scale + loc


def gumbel(loc=0.0, scale=1.0, size=None, ctx=None, out=None):
    """loc - scale * log(E) of standard exponential samples E."""
    return loc - _sym("log", _standard_exponential(size, loc, scale)) * scale


def weibull(a, size=None, ctx=None, out=None):
    """E ** (1 / a) of standard exponential samples E."""
    return _standard_exponential(size, a) ** (1.0 / a)


def pareto(a, size=None, ctx=None, out=None):
    """NumPy's Pareto II (Lomax) samples: exp(E / a) - 1 of standard exponential samples E."""
    return _sym("expm1", _standard_exponential(size, a) / (a if isinstance(a, Symbol) else float(a)))


def power(a, size=None, ctx=None, out=None):
    """Samples on [0, 1] with density a x**(a-1): (1 - exp(-E)) ** (1 / a)."""
    return (1 - _sym("exp", -_standard_exponential(size, a))) ** (1.0 / a)


def rayleigh(scale=1.0, size=None, ctx=None, out=None):
    """scale * sqrt(2 E) of standard exponential samples E."""
    return _sym("sqrt", _standard_exponential(size, scale) * 2.0) * scale


def shuffle(x):
    """`x` with its first axis shuffled (MXNet's shuffles in place; a graph returns the shuffled Symbol)."""
    return _sym("_shuffle", x)


def choice(a, size=None, replace=True, p=None, ctx=None, out=None):
    """Samples of arange(a) (an int `a`: int64) or of the elements of the 1-D Symbol `a`, uniform or with
    probabilities `p` (a Symbol or a list of numbers). With replacement, indices are uniform draws scaled by the
    population's length, or multinomial draws; without, the indices of the largest keys u ** (1 / p) of one uniform
    draw u per element (Efraimidis-Spirakis; u itself without `p`)."""
    if isinstance(a, numbers.Integral) and a <= 0:
        raise ValueError("a must be greater than 0 unless no samples are taken")
    if p is not None and not isinstance(p, Symbol):
        from ._manipulation import _constant
        p = _constant(p, "float32")
    if p is not None:
        p = _sym("Cast", p, dtype="float32")
    shape = _shape(size)
    if replace:
        indices = _replaced_indices(a, p, shape)
    else:
        keys = _population_keys(a, p)
        count = int(onp.prod(shape))
        indices = _sym("topk", keys, axis=0, k=count, ret_typ="indices", dtype="int64")
        indices = _sym("Reshape", indices, shape=shape)
    if isinstance(a, Symbol):
        indices = _sym("take", a, indices, axis=0, mode="clip")
    return _sym("_np_squeeze", indices, axis=(0,)) if size is None else indices


def _replaced_indices(a, p, shape):
    if p is not None:
        return _sym("_sample_multinomial", p, shape=shape, dtype="int64")
    if isinstance(a, numbers.Integral):
        return _sym("_random_randint", low=0, high=int(a), shape=shape, dtype="int64")
    length = _sym("sum", _sym("ones_like", _sym("Cast", a, dtype="float32")), axis=0, keepdims=True)
    scaled = _sym("broadcast_mul", _sym("_random_uniform", low=0.0, high=1.0, shape=shape), length)
    return _sym("Cast", _sym("floor", scaled), dtype="int64")


def _population_keys(a, p):
    """One key per element of the population (of `p`'s, else `a`'s length); the largest are drawn."""
    if p is not None:
        u = _sym("_random_uniform_like", p, low=0.0, high=1.0)
        return _sym("exp", _sym("broadcast_div", _sym("log", u), p))
    if isinstance(a, numbers.Integral):
        return _sym("_random_uniform", low=0.0, high=1.0, shape=(int(a),))
    return _sym("_random_uniform_like", _sym("Cast", a, dtype="float32"), low=0.0, high=1.0)


def multivariate_normal(mean, cov, size=None, check_valid=None, tol=None):
    """mean + L z of standard normal z and the Cholesky factor L of `cov` (Symbols: mean (..., k), cov (..., k, k)
    positive definite, their batch axes broadcast), of shape `size` + the broadcast shape, in mean's dtype."""
    if not isinstance(mean, Symbol) or not isinstance(cov, Symbol):
        raise NotImplementedError("np.random.multivariate_normal of Symbols: mean and cov must be Symbols")
    first_column = _sym("_np_squeeze", _sym("slice_axis", cov, axis=-1, begin=0, end=1), axis=(-1,))
    carrier = _binary("add", _sym("zeros_like", mean), _sym("zeros_like", first_column))
    batch = () if size is None else ((size,) if isinstance(size, numbers.Integral) else tuple(size))
    z = _sym("expand_dims", _sym("_random_normal_like", _with_batch(carrier, batch), loc=0.0, scale=1.0), axis=-1)
    spread = _sym("_npi_matmul", _sym("_linalg_potrf", cov), z)
    return _binary("add", _sym("_np_squeeze", spread, axis=(-1,)), mean)
