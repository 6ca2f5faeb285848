"""Random sampling ops (`mx.nd.random.uniform`, ...): they draw from the one generator `mx.random.seed` seeds.

`_random_<dist>` ops have no inputs: the params give the distribution, the output shape and dtype (MXNet routes
them to `mx.nd.random.<dist>` / `mx.sym.random.<dist>`). `_shuffle` permutes its input along the first axis and
`_sample_multinomial` draws category indices from rows of probabilities. Draws happen when the kernel runs, in
engine order, so a seeded program repeats exactly.
"""
import numpy as np

from .autodiff import apply
from .cpu.common import assign
from .elemwise import like_inputs, types_like_inputs
from .init import _init_shape, _init_type, _params
from .random_state import generator
from .registry import Bool, DType, Float, Int, Long, OpDef, Shape, register


def _draw(sample):
    """A kernel filling the output with `sample(rng, p, shape)` (computed in float64, stored in out's dtype)."""
    def kernel(ctx, p, inputs, outputs, req):
        out = outputs[0]
        assign(out, req[0], sample(generator(), p, out.shape))
    return kernel


def distribution(name, sample, params, dtype=np.float32, doc=""):
    all_params = dict(params, **_params())      # MXNet's order: the distribution's params, then shape, ctx, dtype
    all_params["dtype"] = DType(np.dtype(dtype), "Target data type.")
    return register(OpDef(name, arguments=(), params=all_params, infer_shape=_init_shape, infer_type=_init_type,
                          cpu=_draw(sample), doc=doc))


distribution("_random_uniform", lambda rng, p, s: rng.uniform(p.low, p.high, s),
             dict(low=Float(0.0, "Lower bound"), high=Float(1.0, "Upper bound")),
             doc="Samples from a uniform distribution on [low, high).")
distribution("_random_normal", lambda rng, p, s: rng.normal(p.loc, p.scale, s),
             dict(loc=Float(0.0, "Mean"), scale=Float(1.0, "Standard deviation")),
             doc="Samples from a normal (Gaussian) distribution.")
distribution("_random_exponential", lambda rng, p, s: rng.exponential(1.0 / p.lam, s),
             dict(lam=Float(1.0, "Lambda (rate) parameter")),
             doc="Samples from an exponential distribution with rate lam.")
distribution("_random_gamma", lambda rng, p, s: rng.gamma(p.alpha, p.beta, s),
             dict(alpha=Float(1.0, "Shape"), beta=Float(1.0, "Scale")),
             doc="Samples from a gamma distribution (shape alpha, scale beta).")
distribution("_random_poisson", lambda rng, p, s: rng.poisson(p.lam, s),
             dict(lam=Float(1.0, "Lambda (mean)")), doc="Samples from a Poisson distribution.")
distribution("_random_randint", lambda rng, p, s: rng.integers(p.low, p.high, s),
             dict(low=Long(doc="Lower bound (inclusive)"), high=Long(doc="Upper bound (exclusive)")), np.int32,
             doc="Samples integers uniformly from [low, high).")
# failures before k successes of probability p: a Poisson draw of a Gamma(k, (1-p)/p) rate, as MXNet samples it
distribution("_random_negative_binomial", lambda rng, p, s: rng.negative_binomial(p.k, p.p, s),
             dict(k=Int(1, "Limit of unsuccessful experiments"), p=Float(1.0, "Failure probability in each "
                                                                           "experiment")),
             doc="Samples from a negative binomial distribution.")
# mean mu, variance mu + alpha mu^2: Poisson of a Gamma(1/alpha, mu alpha) rate; alpha = 0 is Poisson(mu)
distribution("_random_generalized_negative_binomial",
             lambda rng, p, s: rng.poisson(rng.gamma(1.0 / p.alpha, p.mu * p.alpha, s)) if p.alpha else
             rng.poisson(p.mu, s),
             dict(mu=Float(1.0, "Mean of the negative binomial distribution"),
                  alpha=Float(1.0, "Alpha (dispersion) parameter of the negative binomial distribution")),
             doc="Samples from a generalized negative binomial distribution.")


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

