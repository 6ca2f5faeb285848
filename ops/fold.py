"""Internal ops of the inference folding pass (scheduler/fold.py).

`_fold_bn_scale([bias], gamma, beta, moving_mean, moving_var)` -> (scale, shift): per output channel, what an
inference BatchNorm (axis 1, the moving statistics) does to a convolution's output y = conv + bias:
BatchNorm(y) = conv * scale + shift with scale = gamma / sqrt(moving_var + eps) (gamma = 1 with fix_gamma) and
shift = (bias - moving_mean) * scale + beta. O(channels), computed from the current parameter arrays at every run
(nothing is cached between runs; training may change the parameters in between).

`_conv_fused(data, weight, [bias | scale, shift])`: Convolution (its params, shapes and types) whose output gets
`* scale + shift` per channel (scale_shift; the convolution's own bias is then folded into shift) or `+ bias`, then
an activation (act_type: relu; clip to [a_min, a_max], mobilenetv2's relu6; LeakyReLU's leaky with slope), all in
the pass that crops the GEMM's output (ops/cpu/conv_epilogue.py): a folded BatchNorm and a following activation
cost no pass over memory of their own, and the weights are never rewritten. Inference only: it has no gradient.
"""
from .conv import _CONV_DOC, _conv_params, _conv_shape
from .cpu import conv as cpu_conv
from .cpu import fold as cpu
from .elemwise import float_only, merge
from .registry import Bool, Enum, Float, OpDef, register

_FOLD = dict(eps=Float(1e-3, "BatchNorm's epsilon, added to the moving variance."),
             fix_gamma=Bool(True, "BatchNorm's fix_gamma: gamma is taken as 1."),
             no_bias=Bool(False, "The convolution has no bias input (it is taken as 0)."))


def _fold_arguments(p):
    return ([] if p.no_bias else ["bias"]) + ["gamma", "beta", "moving_mean", "moving_var"]


# every input and both outputs are (channels,)
def _fold_shape(p, in_shapes, out_shapes):
    channel = None
    for s in list(in_shapes) + list(out_shapes):
        channel = merge(channel, s)
    return [channel] * len(in_shapes), [channel] * len(out_shapes)


# scale and shift take gamma's dtype (the BatchNorm's parameters: float32 for a float16 convolution)
def _fold_type(p, in_types, out_types):
    gamma = in_types[0 if p.no_bias else 1]
    return list(in_types), [gamma, gamma] if gamma is not None else list(out_types)


register(OpDef("_fold_bn_scale", params=_FOLD, arguments=_fold_arguments, outputs=("scale", "shift"),
               infer_shape=_fold_shape, infer_type=_fold_type, cpu=cpu.fold_bn_scale,
               doc="The per-channel scale and shift of an inference BatchNorm after a convolution (internal to the "
                   "inference folding pass, scheduler/fold.py)."))

# The activations an epilogue applies, each as the op it stands for computes it (ops/cpu/conv_epilogue.py).
EPILOGUE_ACTIVATIONS = ("none", "relu", "clip", "leaky")
_FUSED = dict(_conv_params(),
              act_type=Enum(EPILOGUE_ACTIVATIONS, "none", "The activation applied to the output: relu (max(., 0)), "
                                                           "clip (to [a_min, a_max]), leaky (x > 0 ? x : slope * x)."),
              a_min=Float(0.0, "clip's lower bound."), a_max=Float(6.0, "clip's upper bound."),
              slope=Float(0.25, "leaky's slope for x <= 0."),
              scale_shift=Bool(False, "Inputs scale and shift (per output channel) instead of bias: "
                                      "out = conv * scale + shift."))


def _fused_arguments(p):
    return ["data", "weight"] + (["scale", "shift"] if p.scale_shift else [] if p.no_bias else ["bias"])


def _fused_shape(p, in_shapes, out_shapes):
    if not p.scale_shift:
        return _conv_shape(p, in_shapes, out_shapes)
    ins, outs = _conv_shape(p, list(in_shapes[:2]), out_shapes)
    return ins[:2] + [(p.num_filter,)] * 2, outs


register(OpDef("_conv_fused", params=_FUSED, arguments=_fused_arguments, infer_shape=_fused_shape,
               infer_type=float_only("Convolution"), cpu=cpu_conv.convolution_fused,
               per_sample=lambda p, t: ((0,), (0,)),
               doc="Convolution with a folded BatchNorm's scale and shift (or its bias) and an optional activation "
                   "applied in one pass (internal to the inference folding pass, scheduler/fold.py). " + _CONV_DOC))
