"""Kernel of ops/fold.py: a BatchNorm in inference folded into the preceding convolution's weight and bias."""
import numpy as np

from .common import assign


def fold_bn_weights(ctx, p, inputs, outputs, req):
    """weight' = weight * s per output channel (axis 0), bias' = (bias - moving_mean) * s + beta, with
    s = gamma / sqrt(moving_var + eps) (gamma = 1 with fix_gamma); computed in float64, stored in the outputs'
    dtype. Small: O(weights), run once per forward."""
    if p.no_bias:
        weight, gamma, beta, mean, var = inputs
        bias = 0.0
    else:
        weight, bias, gamma, beta, mean, var = inputs
        bias = bias.astype(np.float64)
    scale = 1.0 / np.sqrt(var.astype(np.float64) + p.eps)
    if not p.fix_gamma:
        scale = scale * gamma
    new_weight, new_bias = outputs
    assign(new_weight, req[0], weight * scale.reshape((-1,) + (1,) * (weight.ndim - 1)))
    assign(new_bias, req[1], (bias - mean) * scale + beta)
