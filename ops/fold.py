"""Internal ops of the inference folding pass (scheduler/fold.py).

`_fold_bn_weights(weight, [bias], gamma, beta, moving_mean, moving_var)` -> (weight', bias'): the weight and bias of
a convolution that computes what Convolution followed by an inference BatchNorm (axis 1, the moving statistics)
computes. The pass inserts it in front of the convolution, so the folded weights come from the current parameter
arrays at every run (nothing is cached between runs; training may change the parameters in between).
"""
import numpy as np

from .cpu import fold as cpu
from .elemwise import fmt, merge
from .errors import ShapeError
from .registry import Bool, Float, OpDef, register

_FOLD = dict(eps=Float(1e-3, "BatchNorm's epsilon, added to the moving variance."),
             fix_gamma=Bool(True, "BatchNorm's fix_gamma: gamma is taken as 1."),
             no_bias=Bool(False, "The convolution has no bias input (it is taken as 0)."))


def _arguments(p):
    return ["weight"] + ([] if p.no_bias else ["bias"]) + ["gamma", "beta", "moving_mean", "moving_var"]


# weight (O, ...) -> weight'; every per-channel input and bias' are (O,).
def _fold_shape(p, in_shapes, out_shapes):
    weight = merge(in_shapes[0], out_shapes[0])
    channel = out_shapes[1]
    for s in in_shapes[1:]:
        channel = merge(channel, s)
    if weight is not None and weight[0]:
        if channel is not None and len(channel) == 1 and channel[0] and channel[0] != weight[0]:
            raise ShapeError("_fold_bn_weights: weight %s has %d output channels but the per-channel inputs are %s"
                             % (fmt(weight), weight[0], fmt(channel)))
        channel = merge((weight[0],), channel)
    return [weight] + [channel] * (len(in_shapes) - 1), [weight, channel]


# the outputs take the weight's dtype (the convolution's); the BatchNorm's parameters keep theirs (float32 for a
# float16 convolution).
def _fold_type(p, in_types, out_types):
    weight = in_types[0] if in_types[0] is not None else out_types[0]
    if weight is None:
        return list(in_types), list(out_types)
    weight = np.dtype(weight)
    ins = [weight] + list(in_types[1:])
    if not p.no_bias:
        ins[1] = weight
    return ins, [weight, weight]


register(OpDef("_fold_bn_weights", params=_FOLD, arguments=_arguments, outputs=("weight", "bias"),
               infer_shape=_fold_shape, infer_type=_fold_type, cpu=cpu.fold_bn_weights,
               doc="The weight and bias of a convolution followed by an inference BatchNorm, folded into one "
                   "convolution (internal to the inference folding pass, scheduler/fold.py)."))
