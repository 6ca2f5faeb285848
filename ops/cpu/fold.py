"""Kernel of ops/fold.py: a BatchNorm in inference folded into the preceding convolution's epilogue."""
import numpy as np

from .common import assign


def fold_bn_scale(ctx, p, inputs, outputs, req):
    """scale = gamma / sqrt(moving_var + eps) (gamma = 1 with fix_gamma), shift = (bias - moving_mean) * scale + beta
    (bias 0 with no_bias); computed in float64, stored in the outputs' dtype. O(channels), run once per forward."""
    if p.no_bias:
        gamma, beta, mean, var = inputs
        bias = 0.0
    else:
        bias, gamma, beta, mean, var = inputs
        bias = bias.astype(np.float64)
    scale = 1.0 / np.sqrt(var.astype(np.float64) + p.eps)
    if not p.fix_gamma:
        scale = scale * gamma
    assign(outputs[0], req[0], scale)
    assign(outputs[1], req[1], (bias - mean) * scale + beta)
