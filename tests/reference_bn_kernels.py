"""The numpy BatchNorm kernels that ops/cpu/batchnorm.py replaced, kept as the statement of MXNet's formulas
the fast kernels are tested against (tests/test_conv_paths.py): the same signature as an op's CPU kernel."""
import numpy as np

from ops.cpu.batchnorm import update_moving_stats
from ops.cpu.common import assign


def _c(x):
    """x in the dtype a kernel computes in (float16 -> float32)."""
    return x.astype(np.float32) if x.dtype == np.float16 else x


def _bn_layout(x, axis):
    """(reduced axes, shape broadcasting a per-channel vector) for channel axis `axis` of x."""
    ax = axis % x.ndim
    bshape = [1] * x.ndim
    bshape[ax] = x.shape[ax]
    return tuple(i for i in range(x.ndim) if i != ax), tuple(bshape)


def batch_norm(ctx, p, inputs, outputs, req):
    """Normalise per channel with the batch's mean and biased variance (training) or the moving stats
    (inference, use_global_stats). Outputs: the result, the mean used, and the inverse standard deviation
    1/sqrt(var + eps) used (MXNet's `var` output holds that). The moving stats are updated by the backward
    (Note [BatchNorm moving stats] in ops/nn.py); with fix_gamma, gamma is overwritten with ones as MXNet does."""
    x, gamma, beta, moving_mean, moving_var = inputs
    red, bshape = _bn_layout(x, p.axis)
    xc = _c(x)
    acc = moving_mean.dtype
    if ctx.is_train and not p.use_global_stats:
        mean = xc.mean(axis=red, dtype=acc)
        var = np.square(xc - mean.reshape(bshape)).mean(axis=red, dtype=acc)
        invstd = 1 / np.sqrt(var + acc.type(p.eps))
    else:
        mean = moving_mean.copy()
        invstd = 1 / np.sqrt(moving_var + acc.type(p.eps))
    if p.fix_gamma and ctx.computes_gradients:     # MXNet writes ones into gamma, except in a graph without grads
        gamma[...] = 1
    scale = invstd if p.fix_gamma else invstd * gamma
    y = (xc - mean.reshape(bshape)) * scale.reshape(bshape) + beta.reshape(bshape)
    assign(outputs[0], req[0], y)
    assign(outputs[1], req[1], mean)
    assign(outputs[2], req[2], invstd)


def backward_batch_norm(ctx, p, inputs, outputs, req):
    """inputs (dy, data, gamma, mean, invstd, moving_mean, moving_var) -> d_data, d_gamma, d_beta (see _bn_grad in
    ops/nn.py); in training without use_global_stats it also updates the moving stats in place."""
    dy, x, gamma, mean, invstd, moving_mean, moving_var = inputs
    red, bshape = _bn_layout(x, p.axis)
    acc = invstd.dtype
    dyc, xc = _c(dy), _c(x)
    xhat = (xc - mean.reshape(bshape)) * invstd.reshape(bshape)
    sum_dy = dyc.sum(axis=red, dtype=acc)
    sum_dy_xhat = (dyc * xhat).sum(axis=red, dtype=acc)
    scale = invstd if p.fix_gamma else invstd * gamma
    if p.use_global_stats or not ctx.is_train:
        dx = dyc * scale.reshape(bshape)
    else:
        n = x.size // x.shape[p.axis % x.ndim]
        dx = scale.reshape(bshape) * (dyc - (sum_dy / n).reshape(bshape)
                                      - xhat * (sum_dy_xhat / n).reshape(bshape))
        update_moving_stats(p, mean, invstd, moving_mean, moving_var)
    assign(outputs[0], req[0], dx)
    assign(outputs[1], req[1], 0 if p.fix_gamma else sum_dy_xhat)
    assign(outputs[2], req[2], sum_dy)
