"""Kernel of ops/fold.py: a BatchNorm in inference folded into the preceding convolution's epilogue."""
import numba
import numpy as np

from ..registry import INPLACE, WRITE
from .common import assign

_FAST = (np.float32, np.float64)


@numba.njit(nogil=True, cache=True, error_model="numpy")     # x / 0 is inf, as numpy's
def _fold(bias, gamma, beta, mean, var, eps, fix_gamma, scale, shift):
    """scale, shift per channel, in float64 and stored in their dtype; bias empty: 0."""
    for c in range(scale.shape[0]):
        s = 1.0 / np.sqrt(np.float64(var[c]) + eps)
        if not fix_gamma:
            s = s * np.float64(gamma[c])
        b = np.float64(bias[c]) if bias.shape[0] > 0 else 0.0
        scale[c] = s
        shift[c] = (b - np.float64(mean[c])) * s + np.float64(beta[c])


def fold_bn_scale(ctx, p, inputs, outputs, req):
    """scale = gamma / sqrt(moving_var + eps) (gamma = 1 with fix_gamma), shift = (bias - moving_mean) * scale + beta
    (bias 0 with no_bias); computed in float64, stored in the outputs' dtype. O(channels), run once per forward: one
    njit loop (numpy's small-array calls cost ~50 us a fold, more than the loop)."""
    if p.no_bias:
        gamma, beta, mean, var = inputs
        bias = np.empty(0, np.float64)
    else:
        bias, gamma, beta, mean, var = inputs
    direct = (all(r in (WRITE, INPLACE) for r in req) and all(o.dtype in _FAST for o in outputs)
              and all(a.dtype in _FAST for a in inputs))
    if direct:
        _fold(bias, gamma, beta, mean, var, p.eps, p.fix_gamma, outputs[0], outputs[1])
        return
    channels = outputs[0].shape[0]
    scale, shift = np.empty(channels), np.empty(channels)
    _fold(bias.astype(np.float64), *(a.astype(np.float64) for a in (gamma, beta, mean, var)), p.eps, p.fix_gamma,
          scale, shift)
    assign(outputs[0], req[0], scale)
    assign(outputs[1], req[1], shift)
