"""Normalisation ops and two losses: LayerNorm, InstanceNorm, L2Normalization, LRN, softmax_cross_entropy and
smooth_l1, each with its gradient rule and `_backward_*` op. (SoftmaxActivation is in ops/softmax.py.)

Facts checked on MXNet 1.9.1 (native CPU kernels):
- LayerNorm: out = (x - mean) / sqrt(var + eps) * gamma + beta along `axis` (biased variance); outputs out, mean,
  std = sqrt(var + eps), the last two shaped like data with the axis of size 1 and visible only with
  output_mean_var. Their head gradients are ignored (the gradient flows through `out` only). gamma, beta share
  data's dtype (float16 too); integer data is rejected when the kernel runs. `_npx_layer_norm` is an alias.
- InstanceNorm: data (N, C, ...) with at least 3 dims (a 2-D input passes MXNet's shape inference, then fails in
  the kernel); the mean and biased variance over the spatial dims of each (n, c); out = (x - mean) /
  sqrt(var + eps) * gamma + beta (its docstring's sqrt(var) + eps is not what runs). Three outputs, one visible.
  MXNet runs float32 only; float64 is accepted here too (the gradient checks run in float64).
- GroupNorm: data (N, C, ...) with >= 3 dims, C divisible by num_groups; per (n, group) the mean and biased
  variance over the group's channels and the spatial dims; gamma and beta have shape (num_groups,) in 1.9.1 (one
  scale per group, not per channel). Outputs out, mean, std = sqrt(var + eps), the last two (N, num_groups) and
  visible only with output_mean_var. float16/32/64.
- L2Normalization: out = x / sqrt(sum(x^2) + eps) with the sum over every axis but the first (instance; a 1-D
  input normalises each element), over axis 1 (channel), or over the axes after 1 (spatial). channel and spatial
  need 3 dims. Two outputs (out, norm), one visible. float16/32/64.
- LRN: 4-D data only; out = x * (knorm + alpha / nsize * sum of x^2 over the nsize channels around c) ** -beta;
  nsize must be odd and at most the number of channels. Two outputs (out, tmp_norm), one visible. MXNet runs
  float32 only; float64 is accepted here.
- softmax_cross_entropy: data (n, k), label (n,) in data's dtype, output (1,): the sum over rows of
  -log(softmax(data)[label]); the label is truncated to an integer. The gradient is (softmax - onehot) * dy; MXNet
  refuses a gradient for the label ("Cannot take gradient wrt label"); here it gets none. MXNet reads out of bounds
  for a label outside [0, k); here the kernel raises.
- smooth_l1: MXNet's binary-scalar family (params scalar = sigma, default 1, and is_int), so it keeps integer dtypes
  with sigma converted to the dtype; f(a) = (sigma a)^2 / 2 where |a| < 1/sigma^2, else |a| - 1/(2 sigma^2).
  `_npx_smooth_l1` is an alias. (MXNet crashes for an integer input with is_int=False; here the scalar family's
  rule gives float64.)
"""
import numpy as np

from .autodiff import apply
from .cpu import norm as cpu
from .elemwise import float_only, fmt, like_inputs, merge, same_shape_rule, scalar
from .errors import DTypeError, ShapeError
from .registry import Bool, Enum, Float, Int, OpDef, register, same_dtype




def _floats(name, allowed=("float16", "float32", "float64")):
    """same_dtype, rejecting dtypes outside `allowed` as MXNet's kernel of `name` does."""
    def rule(p, in_types, out_types):
        in_types, out_types = same_dtype(p, in_types, out_types)
        for t in list(in_types) + list(out_types):
            if t is not None and np.dtype(t).name not in allowed:
                raise DTypeError("%s: this operation only supports %s, not %s"
                                 % (name, " and ".join(allowed), np.dtype(t).name))
        return in_types, out_types
    return rule


def _backward_op(name, kernel, arguments, outputs, infer_shape, params, infer_type):
    register(OpDef(name, arguments=arguments, outputs=outputs, params=params, infer_shape=infer_shape,
                   infer_type=infer_type, cpu=kernel, doc="Backward of %s (internal)." % name[len("_backward_"):]))


def _channel(shapes):
    """The (C,) shape merged from gamma, beta (and the like); None if none is known."""
    c = None
    for s in shapes:
        c = merge(c, s)
    return c


# ---------------------------------------------------------------------------------------------------------------
# LayerNorm
# ---------------------------------------------------------------------------------------------------------------

_LN = dict(axis=Int(-1, "The axis to perform layer normalization. Usually, this should be be axis of the channel "
                        "dimension. Negative values means indexing from right to left."),
           eps=Float(1e-5, "An `epsilon` parameter to prevent division by 0."),
           output_mean_var=Bool(False, "Output the mean and std calculated along the given axis."))


# data (..., C, ...) with C at `axis`; gamma, beta (C,); out like data; mean, std like data with the axis of size 1.
def _ln_shape(p, in_shapes, out_shapes):
    data = merge(in_shapes[0], out_shapes[0])
    stats = merge(out_shapes[1], out_shapes[2])
    ndim = len(data) if data is not None else len(stats) if stats is not None else None
    channel = _channel(in_shapes[1:])
    if ndim is None:
        return [data, channel, channel], [data, stats, stats]
    if not -ndim <= p.axis < ndim:
        raise ShapeError("LayerNorm: axis=%d is out of range for data %s (channel axis out of range)"
                         % (p.axis, fmt(data if data is not None else stats)))
    axis = p.axis % ndim
    if stats is not None:      # every dim but the axis follows from mean/std
        data = merge(data, tuple(0 if i == axis else d for i, d in enumerate(stats)))
    if channel is not None and len(channel) == 1:
        data = tuple(channel[0] if i == axis and not d else d for i, d in enumerate(data))
    channel = merge((data[axis],), channel)
    stats = merge(tuple(1 if i == axis else d for i, d in enumerate(data)), stats)
    return [data, channel, channel], [data, stats, stats]


# With xhat = (x - mean) / std and g = dy * gamma along the axis (n elements): dx = (g - mean(g) - xhat *
# mean(g * xhat)) / std, dgamma = sum(dy * xhat), dbeta = sum(dy) over the other axes. mean and std get none.
def _ln_grad(p, ins, outs, dys):
    if dys[0] is None:
        return [None] * 3
    return apply("_backward_LayerNorm", dys[0], ins[0], ins[1], outs[1], outs[2], **p.as_dict())


register(OpDef("LayerNorm", aliases=("_npx_layer_norm",), arguments=("data", "gamma", "beta"), params=_LN,
               outputs=("output", "mean", "std"), num_visible_outputs=lambda p: 3 if p.output_mean_var else 1,
               infer_shape=_ln_shape, infer_type=float_only("LayerNorm"), gradient=_ln_grad, cpu=cpu.layer_norm,
               doc="Layer normalization: normalises data along `axis` by its mean and variance, then scales by "
                   "gamma and shifts by beta: out = (data - mean) / sqrt(var + eps) * gamma + beta."))


def _ln_backward_shape(p, in_shapes, out_shapes):
    dy, data, gamma, mean, std = in_shapes
    data = merge(merge(data, dy), out_shapes[0])
    channel = _channel([gamma, out_shapes[1], out_shapes[2]])
    ins, outs = _ln_shape(p, [data, channel, channel], [data, mean, std])
    return [ins[0], ins[0], ins[1], outs[1], outs[2]], [ins[0], ins[1], ins[1]]


_backward_op("_backward_LayerNorm", cpu.backward_layer_norm, ("out_grad", "data", "gamma", "mean", "std"),
             ("data_grad", "gamma_grad", "beta_grad"), _ln_backward_shape, _LN, float_only("_backward_LayerNorm"))

# ---------------------------------------------------------------------------------------------------------------
# InstanceNorm
# ---------------------------------------------------------------------------------------------------------------

_IN = dict(eps=Float(1e-3, "An `epsilon` parameter to prevent division by 0."))


# data (N, C, spatial...) with >= 3 dims; gamma, beta (C,); out like data; the hidden mean and var (N, C).
def _in_shape(p, in_shapes, out_shapes):
    data = merge(in_shapes[0], out_shapes[0])
    stats = merge(out_shapes[1], out_shapes[2])
    channel = _channel(in_shapes[1:])
    if data is not None:
        if len(data) < 3:
            raise ShapeError("InstanceNorm: data must have at least 3 dims (batch, channel, spatial...), got %s"
                             % fmt(data))
        head = merge(merge(tuple(data[:2]), stats), (0, channel[0]) if channel is not None and len(channel) == 1
                     else None)
        data = (head[0], head[1]) + tuple(data[2:])
        channel, stats = (data[1],), (data[0], data[1])
    elif stats is not None:
        channel = merge((stats[1],), channel)
    return [data, channel, channel], [data, stats, stats]


# As LayerNorm's, per (n, c) over the spatial dims: xhat = (x - mean) / sqrt(var + eps), g = dy * gamma[c],
# dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps); dgamma = sum(dy * xhat), dbeta = sum(dy) over n
# and the spatial dims.
def _in_grad(p, ins, outs, dys):
    if dys[0] is None:
        return [None] * 3
    return apply("_backward_InstanceNorm", dys[0], ins[0], ins[1], outs[1], outs[2], eps=p.eps)


_IN_TYPES = ("float32", "float64")
register(OpDef("InstanceNorm", arguments=("data", "gamma", "beta"), params=_IN, outputs=("output", "mean", "var"),
               num_visible_outputs=lambda p: 1, infer_shape=_in_shape, infer_type=_floats("InstanceNorm", _IN_TYPES),
               gradient=_in_grad, cpu=cpu.instance_norm,
               doc="Instance normalization: normalises each (instance, channel) over its spatial dims, then scales "
                   "by gamma and shifts by beta: out = (x - mean) / sqrt(var + eps) * gamma + beta."))


def _in_backward_shape(p, in_shapes, out_shapes):
    dy, data, gamma, mean, var = in_shapes
    data = merge(merge(data, dy), out_shapes[0])
    channel = _channel([gamma, out_shapes[1], out_shapes[2]])
    ins, outs = _in_shape(p, [data, channel, channel], [data, mean, var])
    return [ins[0], ins[0], ins[1], outs[1], outs[2]], [ins[0], ins[1], ins[1]]


_backward_op("_backward_InstanceNorm", cpu.backward_instance_norm, ("out_grad", "data", "gamma", "mean", "var"),
             ("data_grad", "gamma_grad", "beta_grad"), _in_backward_shape, _IN,
             _floats("_backward_InstanceNorm", _IN_TYPES))

# ---------------------------------------------------------------------------------------------------------------
# GroupNorm
# ---------------------------------------------------------------------------------------------------------------

_GN = dict(num_groups=Int(1, "Total number of groups."),
           eps=Float(1e-5, "An `epsilon` parameter to prevent division by 0."),
           output_mean_var=Bool(False, "Output the mean and std calculated along the given axis."))


# data (N, C, spatial...) with >= 3 dims and C divisible by num_groups; gamma, beta (num_groups,) (one scale and
# shift per group, as MXNet 1.9.1 has them); out like data; mean, std (N, num_groups).
def _gn_shape(p, in_shapes, out_shapes):
    data = merge(in_shapes[0], out_shapes[0])
    stats = merge((0, p.num_groups), merge(out_shapes[1], out_shapes[2]))
    group = (p.num_groups,)
    if p.num_groups < 1:
        raise ShapeError("GroupNorm: num_groups=%d must be positive" % p.num_groups)
    if data is not None:
        if len(data) < 3:
            raise ShapeError("GroupNorm: data must have at least 3 dims (batch, channel, spatial...), got %s"
                             % fmt(data))
        if data[1] and data[1] % p.num_groups:
            raise ShapeError("GroupNorm: the %d channels of data %s are not divisible by num_groups=%d"
                             % (data[1], fmt(data), p.num_groups))
        data = (merge((data[0],), (stats[0],))[0],) + tuple(data[1:])
        stats = (data[0], p.num_groups)
    return [data, group, group], [data, stats, stats]


# InstanceNorm's gradient with rows (n, group): see _in_grad; mean and std get none.
def _gn_grad(p, ins, outs, dys):
    if dys[0] is None:
        return [None] * 3
    return apply("_backward_GroupNorm", dys[0], ins[0], ins[1], outs[1], outs[2], **p.as_dict())


register(OpDef("GroupNorm", arguments=("data", "gamma", "beta"), params=_GN, outputs=("output", "mean", "std"),
               num_visible_outputs=lambda p: 3 if p.output_mean_var else 1, infer_shape=_gn_shape,
               infer_type=float_only("GroupNorm"), gradient=_gn_grad, cpu=cpu.group_norm,
               doc="Group normalization: the channels are split into num_groups groups; each (instance, group) is "
                   "normalised by its mean and variance, then scaled by gamma[group] and shifted by beta[group]: "
                   "out = (x - mean) / sqrt(var + eps) * gamma + beta."))


def _gn_backward_shape(p, in_shapes, out_shapes):
    dy, data, gamma, mean, std = in_shapes
    data = merge(merge(data, dy), out_shapes[0])
    ins, outs = _gn_shape(p, [data, gamma, gamma], [data, mean, std])
    return [ins[0], ins[0], ins[1], outs[1], outs[2]], [ins[0], ins[1], ins[1]]


_backward_op("_backward_GroupNorm", cpu.backward_group_norm, ("out_grad", "data", "gamma", "mean", "std"),
             ("data_grad", "gamma_grad", "beta_grad"), _gn_backward_shape, _GN, float_only("_backward_GroupNorm"))

# ---------------------------------------------------------------------------------------------------------------
# L2Normalization
# ---------------------------------------------------------------------------------------------------------------

_L2 = dict(eps=Float(1e-10, "A small constant for numerical stability."),
           mode=Enum(("channel", "instance", "spatial"), "instance",
                     "Specify the dimension along which to compute L2 norm."))


def _l2_norm_shape(p, data):
    """The hidden norm output: instance (N,), channel (N, prod(spatial)), spatial (N, C)."""
    if p.mode == "instance":
        return (data[0],)
    if p.mode == "channel":
        rest = 1
        for d in data[2:]:
            rest *= d
        return data[0], rest
    return data[0], data[1]


# out like data; norm per instance, per (n, spatial position) or per (n, c): see _l2_norm_shape.
def _l2_shape(p, in_shapes, out_shapes):
    data = merge(in_shapes[0], out_shapes[0])
    if data is None:
        return [data], list(out_shapes)
    if not data:
        raise ShapeError("L2Normalization: data needs at least 1 dim, got %s" % fmt(data))
    if p.mode != "instance" and len(data) < 3:
        raise ShapeError("L2Normalization: mode=%s needs data with at least 3 dims, got %s" % (p.mode, fmt(data)))
    return [data], [data, merge(_l2_norm_shape(p, data), out_shapes[1])]


# y = x / n, n = sqrt(sum(x^2) + eps) over the mode's axes: dx = (dy - y * sum(dy * y)) / n.
def _l2_grad(p, ins, outs, dys):
    if dys[0] is None:
        return [None]
    return [apply("_backward_L2Normalization", dys[0], outs[0], outs[1], **p.as_dict())]


register(OpDef("L2Normalization", params=_L2, outputs=("output", "norm"), num_visible_outputs=lambda p: 1,
               infer_shape=_l2_shape, infer_type=float_only("L2Normalization"), gradient=_l2_grad,
               cpu=cpu.l2_normalization,
               doc="Normalizes the input array by its L2 norm: per instance (over all axes but the first), per "
                   "channel (over axis 1) or per spatial position set (over the axes after 1)."))


def _l2_backward_shape(p, in_shapes, out_shapes):
    dy, y, norm = in_shapes
    data = merge(merge(y, dy), out_shapes[0])
    if data is not None:
        _l2_shape(p, [data], [None, None])
        norm = merge(_l2_norm_shape(p, data), norm)
    return [data, data, norm], [data]


_backward_op("_backward_L2Normalization", cpu.backward_l2_normalization, ("out_grad", "output", "norm"),
             ("data_grad",), _l2_backward_shape, _L2, float_only("_backward_L2Normalization"))

# ---------------------------------------------------------------------------------------------------------------
# LRN
# ---------------------------------------------------------------------------------------------------------------

_LRN = dict(alpha=Float(1e-4, "The variance scaling parameter alpha in the LRN expression."),
            beta=Float(0.75, "The power parameter beta in the LRN expression."),
            knorm=Float(2.0, "The parameter k in the LRN expression."),
            nsize=Int(doc="normalization window width in elements."))


# data (N, C, H, W); out and the hidden tmp_norm like data.
def _lrn_shape(p, in_shapes, out_shapes):
    if p.nsize < 1 or p.nsize % 2 == 0:
        raise ShapeError("LRN: nsize=%d must be a positive odd number (LRN only supports odd window sizes)"
                         % p.nsize)
    ins, outs = same_shape_rule(p, in_shapes, out_shapes)
    data = ins[0]
    if data is not None and len(data) != 4:
        raise ShapeError("LRN: data must be 4-D (batch, channel, height, width), got %s" % fmt(data))
    if data is not None and data[1] and p.nsize > data[1]:
        raise ShapeError("LRN: nsize=%d exceeds the %d channels of data %s" % (p.nsize, data[1], fmt(data)))
    return ins, outs


# y = x s^-beta, s = knorm + alpha/nsize * sum of x^2 over the window:
# dx = dy s^-beta - 2 alpha beta / nsize * x * windowsum(dy x s^(-beta-1)).
def _lrn_grad(p, ins, outs, dys):
    if dys[0] is None:
        return [None]
    return [apply("_backward_LRN", dys[0], ins[0], outs[1], **p.as_dict())]


_LRN_TYPES = ("float32", "float64")
register(OpDef("LRN", params=_LRN, outputs=("output", "tmp_norm"), num_visible_outputs=lambda p: 1,
               infer_shape=_lrn_shape, infer_type=_floats("LRN", _LRN_TYPES), gradient=_lrn_grad, cpu=cpu.lrn,
               doc="Applies local response normalization to the input: each value is divided by (knorm + alpha / "
                   "nsize * sum of squares over nsize neighbouring channels) ** beta."))
_backward_op("_backward_LRN", cpu.backward_lrn, ("out_grad", "data", "tmp_norm"), ("data_grad",),
             same_shape_rule, _LRN,
             _floats("_backward_LRN", _LRN_TYPES))

# ---------------------------------------------------------------------------------------------------------------
# softmax_cross_entropy
# ---------------------------------------------------------------------------------------------------------------


# data (n, k), label (n,), out (1,).
def _sce_shape(p, in_shapes, out_shapes):
    data, label = in_shapes
    if data is not None and len(data) != 2:
        raise ShapeError("softmax_cross_entropy: data must be 2-D (batch, classes), got %s" % fmt(data))
    if label is not None and len(label) != 1:
        raise ShapeError("softmax_cross_entropy: label must be 1-D (batch,), got %s" % fmt(label))
    n = {d for d in ([data[0]] if data else []) + ([label[0]] if label else []) if d}
    if len(n) > 1:
        raise ShapeError("softmax_cross_entropy: data %s and label %s disagree on the batch size"
                         % (fmt(data), fmt(label)))
    n = n.pop() if n else 0
    return [(n, data[1]) if data is not None else (n, 0), (n,)], [(1,)]


# loss = sum_i -log softmax(x_i)[label_i]: dx = (softmax(x) - onehot(label)) * dy; the label gets none.
def _sce_grad(p, ins, outs, dys):
    return [apply("_backward_softmax_cross_entropy", dys[0], ins[0], ins[1]), None]


register(OpDef("softmax_cross_entropy", arguments=("data", "label"), infer_shape=_sce_shape,
               infer_type=float_only("softmax_cross_entropy"), gradient=_sce_grad, cpu=cpu.softmax_cross_entropy,
               doc="Calculate cross entropy of softmax output and one-hot label: the sum over the batch of "
                   "-log(softmax(data)[label]); output shape (1,)."))
_backward_op("_backward_softmax_cross_entropy", cpu.backward_softmax_cross_entropy, ("out_grad", "data", "label"),
             ("data_grad",), lambda p, ins, outs: like_inputs(1)(p, [(1,), ins[1], ins[2]], outs), {},
             float_only("_backward_softmax_cross_entropy"))

# ---------------------------------------------------------------------------------------------------------------
# smooth_l1
# ---------------------------------------------------------------------------------------------------------------


# f(a) = (sigma a)^2 / 2 inside |a| < 1/sigma^2, |a| - 1/(2 sigma^2) outside:
# df/da = sigma^2 a inside, sign(a) outside (continuous at the bounds).
def _smooth_l1_grad(p, ins, outs, dys):
    return [apply("_backward_smooth_l1", dys[0], ins[0], scalar=p.scalar, is_int=p.is_int)]


scalar("smooth_l1", cpu.smooth_l1, ("_npx_smooth_l1",), _smooth_l1_grad,
       "Calculate Smooth L1 Loss(lhs, scalar) elementwise: (sigma x)^2 / 2 where |x| < 1/sigma^2, else "
       "|x| - 0.5/sigma^2, with sigma = scalar.")
_backward_op("_backward_smooth_l1", cpu.backward_smooth_l1, ("out_grad", "data"), ("data_grad",), same_shape_rule,
             dict(scalar=Float(1.0, "sigma"), is_int=Bool(True, "Indicate whether scalar input is int type")),
             same_dtype)
