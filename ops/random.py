"""Random sampling ops (`mx.nd.random.uniform`, ...): they draw from the one generator `mx.random.seed` seeds.

Three op kinds share one sampler per distribution (`SAMPLERS`), so they draw alike:
- `_random_<dist>` have no inputs: number params give the distribution, `shape`/`dtype` the output;
- `_random_<dist>_like` draw with number params in the shape and dtype of their input (a float array);
- `_sample_<dist>` take the params as arrays of one shape [s] and draw `shape` [t] samples per element: output
  [s]x[t], float32 unless `dtype` (MXNet's multisample ops).
`_shuffle` permutes its input along the first axis, `_sample_multinomial` draws category indices from rows of
probabilities and `_sample_unique_zipfian` draws distinct log-uniform classes. Draws happen when the kernel runs, in
engine order, so a seeded program repeats exactly. None of these ops passes a gradient to its inputs (MXNet's are
zero).
"""
import numpy as np

from .autodiff import apply
from .cpu.common import assign
from .elemwise import like_inputs, types_like_inputs
from .errors import DTypeError, ParamError, ShapeError
from .init import _init_shape, _init_type, _params
from .random_state import generator
from .registry import Bool, DType, Float, Int, Long, OpDef, OptShape, Shape, register


# -- one sampler per distribution ----------------------------------------------------------------------------------
# sampler(rng, size, *params) -> float64 draws of `size`; params are numbers or arrays broadcast to `size`. Written
# as MXNet's kernels compute (scale * standard draw), so the array ops give MXNet's values for odd params (a
# negative sigma or rate) instead of numpy's refusal; where numpy still refuses, the kernel raises ParamError.

def _uniform(rng, size, low, high):
    return low + (np.asarray(high, np.float64) - low) * rng.random(size)


def _normal(rng, size, loc, scale):
    return loc + np.asarray(scale, np.float64) * rng.standard_normal(size)


def _exponential(rng, size, lam):
    with np.errstate(divide="ignore"):
        return rng.standard_exponential(size) / np.asarray(lam, np.float64)


def _gamma(rng, size, alpha, beta):
    return rng.gamma(alpha, beta, size)


def _poisson(rng, size, lam):
    return _poisson_of(rng, np.broadcast_to(np.maximum(lam, 0), size))


def _poisson_of(rng, rate):
    """Poisson draws of `rate`; a rate past numpy's range (an NB with p = 0) gives inf, where MXNet's int
    overflows to -2**31."""
    huge = ~(rate < 1e18)
    return np.where(huge, np.inf, rng.poisson(np.where(huge, 0.0, rate)))


# failures before k successes of probability p: a Poisson draw of a Gamma(k, (1-p)/p) rate, as MXNet samples it
def _negative_binomial(rng, size, k, p):
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.maximum((1.0 - np.asarray(p, np.float64)) / p, 0)
    with np.errstate(invalid="ignore"):
        return _poisson_of(rng, rng.gamma(np.maximum(k, 0), scale, size))


# mean mu, variance mu + alpha mu^2: Poisson of a Gamma(1/alpha, mu alpha) rate; alpha = 0 is Poisson(mu)
def _generalized_negative_binomial(rng, size, mu, alpha):
    alpha = np.asarray(alpha, np.float64)
    positive = alpha > 0
    safe = np.where(positive, alpha, 1.0)
    rate = np.where(positive, rng.gamma(1.0 / safe, np.maximum(mu, 0) * safe, size), np.maximum(mu, 0))
    return _poisson_of(rng, np.broadcast_to(rate, size))


SAMPLERS = {"uniform": _uniform, "normal": _normal, "exponential": _exponential, "gamma": _gamma,
            "poisson": _poisson, "negative_binomial": _negative_binomial,
            "generalized_negative_binomial": _generalized_negative_binomial,
            "randint": lambda rng, size, low, high: rng.integers(low, high, size)}

# MXNet's checks of the number params (sample_op.h), made when the kernel runs: (test, message) per distribution
_CHECKS = {
    "uniform": [(lambda p: p.high >= p.low, "low must be less or equal to high in uniform distribution")],
    "normal": [(lambda p: p.scale > 0, "scale parameter in gaussian has to be positive")],
    "gamma": [(lambda p: p.alpha > 0, "alpha parameter in gamma distribution has to be positive"),
              (lambda p: p.beta > 0, "beta parameter in gamma distribution has to be positive")],
    "exponential": [(lambda p: p.lam > 0, "lambda parameter in exponential distribution has to be positive")],
    "poisson": [(lambda p: p.lam >= 0, "lambda parameter in poisson distribution has to be non-negative")],
    "negative_binomial": [(lambda p: p.k >= 0,
                           "k parameter in negative binomial distribution has to be non-negative")],
    "generalized_negative_binomial": [
        (lambda p: p.mu >= 0, "mu parameter in generalized negative binomial distribution has to be non-negative"),
        (lambda p: p.alpha >= 0,
         "alpha parameter in generalized negative binomial distribution has to be non-negative")],
    "randint": [],      # numpy refuses low >= high (ParamError from _draw)
}

# distribution -> its number params, in MXNet's order
_PARAMS = {
    "uniform": dict(low=Float(0.0, "Lower bound of the distribution."),
                    high=Float(1.0, "Upper bound of the distribution.")),
    "normal": dict(loc=Float(0.0, "Mean of the distribution."),
                   scale=Float(1.0, "Standard deviation of the distribution.")),
    "gamma": dict(alpha=Float(1.0, "Alpha parameter (shape) of the gamma distribution."),
                  beta=Float(1.0, "Beta parameter (scale) of the gamma distribution.")),
    "exponential": dict(lam=Float(1.0, "Lambda parameter (rate) of the exponential distribution.")),
    "poisson": dict(lam=Float(1.0, "Lambda parameter (rate) of the Poisson distribution.")),
    "negative_binomial": dict(k=Int(1, "Limit of unsuccessful experiments."),
                              p=Float(1.0, "Failure probability in each experiment.")),
    "generalized_negative_binomial": dict(
        mu=Float(1.0, "Mean of the negative binomial distribution."),
        alpha=Float(1.0, "Alpha (dispersion) parameter of the negative binomial distribution.")),
    "randint": dict(low=Long(doc="Lower bound of the distribution."),
                    high=Long(doc="Upper bound of the distribution.")),
}

_DOCS = {"uniform": "a uniform distribution on [low, high)", "normal": "a normal (Gaussian) distribution",
         "gamma": "a gamma distribution (shape alpha, scale beta)", "exponential": "an exponential distribution",
         "poisson": "a Poisson distribution", "negative_binomial": "a negative binomial distribution",
         "generalized_negative_binomial": "a generalized negative binomial distribution",
         "randint": "integers uniform on [low, high)"}


def _draw(op_name, dist, out, *params):
    """`SAMPLERS[dist]` in out's shape; numpy's refusals become ParamError naming the op."""
    try:
        return SAMPLERS[dist](generator(), out.shape, *params)
    except ValueError as err:
        raise ParamError("%s: invalid distribution parameters: %s" % (op_name, err)) from None


def _check_params(op_name, dist, p):
    for ok, message in _CHECKS[dist]:
        if not ok(p):
            raise ParamError("%s: %s (%s)" % (op_name, message, ", ".join(
                "%s=%s" % (k, getattr(p, k)) for k in _PARAMS[dist])))


def _number_params(dist, p):
    return [getattr(p, k) for k in _PARAMS[dist]]


def _random_kernel(op_name, dist):
    def kernel(ctx, p, inputs, outputs, req):
        _check_params(op_name, dist, p)
        assign(outputs[0], req[0], _draw(op_name, dist, outputs[0], *_number_params(dist, p)))
    return kernel


def _random_op(dist, dtype=np.float32):
    name = "_random_" + dist
    params = dict(_PARAMS[dist], **_params())   # MXNet's order: the distribution's params, then shape, ctx, dtype
    params["dtype"] = DType(np.dtype(dtype), "Target data type.")
    register(OpDef(name, arguments=(), params=params, infer_shape=_init_shape, infer_type=_init_type,
                   cpu=_random_kernel(name, dist), doc="Samples from %s." % _DOCS[dist]))


for _dist in _PARAMS:
    _random_op(_dist, np.int32 if _dist == "randint" else np.float32)


# -- *_like: number params, the input's shape and dtype --------------------------------------------------------------

def _no_grad(p, ins, outs, dys):
    return [None] * len(ins)


def _like_kernel(op_name, dist):
    def kernel(ctx, p, inputs, outputs, req):
        if inputs[0].dtype.kind != "f":
            raise DTypeError("%s: This operation only support floating point types, not %s"
                             % (op_name, inputs[0].dtype.name))
        _check_params(op_name, dist, p)
        assign(outputs[0], req[0], _draw(op_name, dist, outputs[0], *_number_params(dist, p)))
    return kernel


for _dist in _PARAMS:
    if _dist != "randint":
        register(OpDef("_random_%s_like" % _dist, params=dict(_PARAMS[_dist]), infer_shape=like_inputs(0),
                       infer_type=types_like_inputs(0), gradient=_no_grad,
                       cpu=_like_kernel("_random_%s_like" % _dist, _dist),
                       doc="Samples from %s, in the shape and dtype of the input array." % _DOCS[_dist]))


# -- _sample_*: array params [s], `shape` [t] draws each: output [s]x[t] ----------------------------------------------

class _OptFloatDType(DType):
    """MXNet's multisample `dtype`: None (float32) or a float type."""
    type_name = "{'None', 'float16', 'float32', 'float64'}"

    def parse(self, value):
        dtype = super().parse(value)
        if dtype is not None and dtype.kind != "f":
            raise ValueError("%s is not a float type" % dtype.name)
        return dtype


# the array inputs of each _sample_ op, as MXNet names them
_SAMPLE_INPUTS = {"uniform": ("low", "high"), "normal": ("mu", "sigma"), "gamma": ("alpha", "beta"),
                  "exponential": ("lam",), "poisson": ("lam",), "negative_binomial": ("k", "p"),
                  "generalized_negative_binomial": ("mu", "alpha")}

_SAMPLE_PARAMS = dict(shape=Shape((), "Shape to be sampled from each random distribution."),
                      dtype=_OptFloatDType(None, "DType of the output in case this can't be inferred. Defaults to "
                                                 "float32 if not defined (dtype=None)."))


def _sample_shape(p, in_shapes, out_shapes):
    """Every param array has one shape [s] (the first known one is proposed for all); the output is [s]x[t]."""
    t = tuple(p.shape)
    s = next((shape for shape in in_shapes if shape is not None), None)
    if s is None and out_shapes[0] is not None and len(out_shapes[0]) >= len(t) and \
            tuple(out_shapes[0][len(out_shapes[0]) - len(t):]) == t:
        s = tuple(out_shapes[0][:len(out_shapes[0]) - len(t)]) or None
    if s is None:
        return list(in_shapes), list(out_shapes)
    return [s] * len(in_shapes), [tuple(s) + t]


def _sample_type(p, in_types, out_types):
    first = next((t for t in in_types if t is not None), None)
    return [first] * len(in_types), [p.dtype if p.dtype is not None else np.dtype(np.float32)]


def _sample_kernel(op_name, dist):
    def kernel(ctx, p, inputs, outputs, req):
        out = outputs[0]
        # each param element broadcast over its block of len(shape) trailing sample axes
        params = [x.astype(np.float64).reshape(x.shape + (1,) * len(p.shape)) for x in inputs]
        assign(out, req[0], _draw(op_name, dist, out, *params))
    return kernel


for _dist, _inputs in _SAMPLE_INPUTS.items():
    register(OpDef("_sample_" + _dist, arguments=_inputs, params=dict(_SAMPLE_PARAMS),
                   infer_shape=_sample_shape, infer_type=_sample_type, gradient=_no_grad,
                   cpu=_sample_kernel("_sample_" + _dist, _dist),
                   doc="Samples from %s per element of the parameter arrays %s (all of one shape [s]): `shape` [t] "
                       "draws each, output [s]x[t]." % (_DOCS[_dist], ", ".join(_inputs))))


def _shuffle(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], inputs[0][generator().permutation(inputs[0].shape[0])])


def _same_shape(p, in_shapes, out_shapes):
    shape = in_shapes[0] if in_shapes[0] is not None else out_shapes[0]
    return [shape], [shape]


register(OpDef("_shuffle", aliases=("_random_shuffle",), infer_shape=_same_shape, cpu=_shuffle,
               doc="Shuffles the input along its first axis (`mx.nd.random.shuffle`)."))


# data (..., k) of probabilities -> samples of shape data.shape[:-1] + shape (and their probabilities if get_prob)
def _multinomial_shape(p, in_shapes, out_shapes):
    data = in_shapes[0]
    if data is None:
        return list(in_shapes), list(out_shapes)
    out = tuple(data[:-1]) + tuple(p.shape)
    return list(in_shapes), [out or (1,)] * len(out_shapes)


def _multinomial_type(p, in_types, out_types):
    return list(in_types), [p.dtype] + ([in_types[0]] if p.get_prob else [])


def _multinomial(ctx, p, inputs, outputs, req):
    probs = inputs[0].astype(np.float64)
    rows = probs.reshape(-1, probs.shape[-1])
    n = int(np.prod(p.shape)) if p.shape else 1
    rng = generator()
    picks = np.stack([rng.choice(rows.shape[1], size=n, p=row / row.sum()) for row in rows])
    assign(outputs[0], req[0], picks.reshape(outputs[0].shape))
    if p.get_prob:
        chosen = np.take_along_axis(rows, picks, axis=1)
        assign(outputs[1], req[1], np.log(chosen).reshape(outputs[1].shape))


# d log p[sample] / d data: each draw adds its head gradient / p[sample] at the sampled category (checked on
# MXNet 1.9.1); the samples themselves get none.
def _multinomial_grad(p, ins, outs, dys):
    if not p.get_prob or dys[1] is None:
        return [None]
    return [apply("_backward_sample_multinomial", dys[1], ins[0], outs[0], **p.as_dict())]


_MULTINOMIAL = dict(shape=Shape((), "Shape to be sampled from each random distribution."),
                    get_prob=Bool(False, "Whether to also return the log probability of sampled result. This is "
                                         "usually used for differentiating through stochastic variables, e.g. in "
                                         "reinforcement learning."),
                    dtype=DType(np.dtype(np.int32), "DType of the output in case this can't be inferred."))
register(OpDef("_sample_multinomial", aliases=("sample_multinomial",), params=_MULTINOMIAL,
               outputs=lambda p: ["output0", "output1"] if p.get_prob else ["output"],
               infer_shape=_multinomial_shape, infer_type=_multinomial_type, gradient=_multinomial_grad,
               cpu=_multinomial,
               doc="Concurrent sampling from multiple multinomial distributions: draws category indices from rows "
                   "of probabilities (the last axis), and with get_prob their log probabilities."))


def _backward_multinomial(ctx, p, inputs, outputs, req):
    """inputs (head gradient of the log-probs, data, samples) -> data_grad."""
    dy, probs, samples = inputs
    k = probs.shape[-1]
    rows = probs.reshape(-1, k).astype(np.float64)
    picks = samples.reshape(len(rows), -1).astype(np.int64)
    grad = np.zeros_like(rows)
    row_index = np.repeat(np.arange(len(rows)), picks.shape[1])
    np.add.at(grad, (row_index, picks.reshape(-1)),
              dy.reshape(len(rows), -1).astype(np.float64).reshape(-1) / rows[row_index, picks.reshape(-1)])
    assign(outputs[0], req[0], grad.reshape(probs.shape))


register(OpDef("_backward_sample_multinomial", params=_MULTINOMIAL, arguments=("ograd", "data", "samples"),
               outputs=("data_grad",), infer_shape=like_inputs(1), infer_type=types_like_inputs(1),
               cpu=_backward_multinomial, doc="Backward of sample_multinomial (internal)."))



# -- _sample_unique_zipfian: distinct classes of an approximately log-uniform distribution ---------------------------
# P(class) = (log(class + 2) - log(class + 1)) / log(range_max + 1): floor(exp(u log(range_max + 1))) - 1 for a
# uniform u. Each row of `shape` (batch, num_sampled) draws until it holds num_sampled distinct classes; the second
# output counts the draws (trials) each row took.

def _zipfian_shape(p, in_shapes, out_shapes):
    if p.shape is None or len(p.shape) != 2:
        raise ShapeError("_sample_unique_zipfian: shape=%s must be 2-D (batch_size, num_sampled)" % (p.shape,))
    return [], [tuple(p.shape), (p.shape[0],)]


def _zipfian_type(p, in_types, out_types):
    return [], [np.dtype(np.int64)] * 2


def _log_uniform(rng, range_max, n):
    classes = np.floor(np.exp(rng.random(n) * np.log(range_max + 1.0))).astype(np.int64) - 1
    return np.minimum(classes, range_max - 1)


def _unique_draws(rng, range_max, num_sampled):
    """(num_sampled distinct classes in the order first drawn, number of draws it took)."""
    draws = np.empty(0, np.int64)
    while True:
        draws = np.concatenate([draws, _log_uniform(rng, range_max, max(2 * num_sampled, 16))])
        _, first = np.unique(draws, return_index=True)
        if len(first) >= num_sampled:
            first = np.sort(first)[:num_sampled]
            return draws[first], int(first[-1]) + 1 if num_sampled else 0


def _unique_zipfian(ctx, p, inputs, outputs, req):
    batch, num_sampled = p.shape
    if num_sampled > p.range_max:
        # MXNet's loop never ends here; refuse instead
        raise ParamError("_sample_unique_zipfian: cannot draw %d distinct classes from range_max=%d"
                         % (num_sampled, p.range_max))
    rng = generator()
    rows = [_unique_draws(rng, p.range_max, num_sampled) for _ in range(batch)]
    assign(outputs[0], req[0], np.array([r[0] for r in rows], np.int64).reshape(outputs[0].shape))
    assign(outputs[1], req[1], np.array([r[1] for r in rows], np.int64))


register(OpDef("_sample_unique_zipfian", arguments=(), outputs=("output0", "output1"),
               params=dict(range_max=Int(doc="The number of possible classes."),
                           shape=OptShape(None, "2-D shape of the output, where shape[0] is the batch size, and "
                                                "shape[1] is the number of candidates to sample for each batch.")),
               infer_shape=_zipfian_shape, infer_type=_zipfian_type, cpu=_unique_zipfian,
               doc="Draw random samples from an approximately log-uniform or Zipfian distribution without "
                   "replacement: `shape` (batch_size, num_sampled) distinct classes in [0, range_max) per row, and "
                   "the number of draws each row took."))
