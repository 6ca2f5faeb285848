"""Contrib ops that are another op's maths under MXNet's contrib name: `_contrib_SyncBatchNorm` (BatchNorm over
the whole batch of every device, used by GluonCV's `SyncBatchNorm` layers). Kernels: ops/cpu/contrib_ops.py.

Facts checked on MXNet 1.9.1 (native CPU):
- SyncBatchNorm normalises over axis 1 always (no `axis` param); `key` (required) names the layer whose devices
  synchronise and `ndev` counts them. In one process the statistics are BatchNorm's: the batch mean and the biased
  variance in training, the moving statistics in inference or with use_global_stats.
- Its `var` output holds the variance (BatchNorm's holds 1/sqrt(var + eps)). MXNet leaves the mean/var outputs
  unwritten in inference; here they hold the moving statistics used.
- The moving statistics follow BatchNorm's rule, updated by _backward_BatchNorm (Note [BatchNorm moving stats]
  in ops/nn.py), and with fix_gamma the forward writes ones into gamma, as BatchNorm's.
"""
from . import autodiff, nn
from .cpu import contrib_ops as cpu
from .cpu.contrib_ops import batch_norm_params
from .errors import DTypeError, ShapeError
from .registry import Int, OpDef, Str, register

_SYNC_BN = dict({name: nn._BN[name] for name in ("eps", "momentum", "fix_gamma", "use_global_stats",
                                                  "output_mean_var")},
                ndev=Int(1, "The count of GPU devices"),
                key=Str(doc="Hash key for synchronization, please set the same hash key for same layer, "
                            "Block.prefix is typically used as in :class:`gluon.nn.contrib.SyncBatchNorm`."))


def _as_sync_bn(rule, p, inputs, outputs):
    """BatchNorm's `rule` with its errors naming this op."""
    try:
        return rule(batch_norm_params(p), inputs, outputs)
    except (ShapeError, DTypeError) as error:
        raise type(error)(str(error).replace("BatchNorm:", "_contrib_SyncBatchNorm:", 1)) from None


# BatchNorm's rules for output, mean and var; the hidden invstd output is per channel like mean.
def _sync_bn_shape(p, in_shapes, out_shapes):
    ins, outs = _as_sync_bn(nn._bn_shape, p, in_shapes, out_shapes[:3])
    return ins, outs + [outs[1]]


def _sync_bn_type(p, in_types, out_types):
    ins, outs = _as_sync_bn(nn._bn_type, p, in_types, out_types[:3])
    return ins, outs + [outs[2]]


# BatchNorm's gradient, fed the hidden 1/sqrt(var + eps) output that _backward_BatchNorm reads.
def _sync_bn_grad(p, ins, outs, dys):
    if dys[0] is None:
        return [None] * 5
    bn = batch_norm_params(p).as_dict()
    del bn["output_mean_var"]
    grads = autodiff.apply("_backward_BatchNorm", dys[0], ins[0], ins[1], outs[1], outs[3], ins[3], ins[4], **bn)
    return list(grads) + [None, None]


register(OpDef("_contrib_SyncBatchNorm", params=_SYNC_BN, arguments=("data", "gamma", "beta"),
               aux=("moving_mean", "moving_var"), outputs=("output", "mean", "var", "invstd"),
               writes_arguments=lambda p: ("gamma",) if p.fix_gamma else (),
               num_visible_outputs=lambda p: 3 if p.output_mean_var else 1, infer_shape=_sync_bn_shape,
               infer_type=_sync_bn_type, gradient=_sync_bn_grad, input_var_attrs=nn._bn_var_attrs,
               takes_training=True, cpu=cpu.sync_batch_norm,
               doc="Batch normalization over the whole mini-batch of all devices (Synchronized BatchNorm); in one "
                   "process, BatchNorm over axis 1 whose `var` output is the variance."))
