"""CPU kernels of ops/contrib_ops.py: SyncBatchNorm runs BatchNorm's kernel (ops/cpu/batchnorm.py)."""
import numpy as np

from ..registry import WRITE, Params
from .common import assign
from .batchnorm import batch_norm


def batch_norm_params(p):
    """BatchNorm's params (channel axis 1) for SyncBatchNorm's `p`: what BatchNorm's rules and kernels read."""
    return Params({"eps": p.eps, "momentum": p.momentum, "fix_gamma": p.fix_gamma,
                   "use_global_stats": p.use_global_stats, "output_mean_var": p.output_mean_var, "axis": 1})


def sync_batch_norm(ctx, p, inputs, outputs, req):
    """BatchNorm over axis 1 into (output, mean, invstd); `var` is then the variance: the batch's, recovered from
    invstd in float64, or the moving one in inference."""
    out, mean, var, invstd_out = outputs
    invstd = np.empty_like(invstd_out)      # per channel; read below whatever req[3] says
    batch_norm(ctx, batch_norm_params(p), inputs, [out, mean, invstd], [req[0], req[1], WRITE])
    assign(invstd_out, req[3], invstd)
    if ctx.is_train and not p.use_global_stats:
        variance = 1.0 / np.square(invstd.astype(np.float64)) - p.eps
    else:
        variance = inputs[4]
    assign(var, req[2], variance)
