"""Neural-network ops: FullyConnected, BatchNorm, Dropout, Concat, and the small ops the gradient pass uses (add_n,
zeros_like, ones_like, BlockGrad), each with its gradient rule and `_backward_*` ops. Kernels: ops/cpu/nn.py,
ops/cuda/nn.py. The neighbouring families: ops/activation.py (Activation, LeakyReLU), ops/softmax.py (the softmax
family and the loss outputs).

Names, params, defaults and aliases are MXNet 1.9.1's (checked against it, native CPU kernels). Facts worth
knowing, all observed on 1.9.1:
- BatchNorm's `var` output holds 1/sqrt(var + eps), not the variance; the moving stats are updated with the
  biased batch variance, in the backward pass (see Note [BatchNorm moving stats]). With fix_gamma the forward
  writes ones into gamma, in training and inference.
- Dropout's mask comes from ops.random_state (seeded by mx.random.seed).

Note [BatchNorm moving stats]: as MXNet 1.9.1 (native and oneDNN), _backward_BatchNorm updates
moving_mean/moving_var, from the batch mean and 1/sqrt(var + eps) the training forward saved (the variance is
recovered as 1/invstd^2 - eps, as MXNet does): a training forward alone leaves them unchanged, and each backward
(in training mode, without use_global_stats) updates them once with the last forward's batch. The backward op
takes the moving stats as aux inputs, so every engine push running it declares them written
(OpDef.written_inputs). With fix_gamma the forward writes ones into gamma (`writes_arguments`), as MXNet's kernel
does; MXNet skips that write where no backward is bound (an executor with grad_req 'null', a hybridized block
outside record()), here every forward makes it.
"""
import numpy as np

from . import autodiff
from .cpu import batchnorm as cpu_batchnorm
from .cpu import nn as cpu
from .elemwise import compatible, float_only, fmt, merge, same_shape_rule, size
from .errors import DTypeError, ParamError, ShapeError
from .registry import Bool, Enum, Float, Int, OpDef, OptFloat, Shape, register, same_dtype


def _backward_op(name, cpu_kernel, arguments, outputs, infer_shape, params=None, infer_type=same_dtype,
                 inplace=()):
    return register(OpDef(name, arguments=arguments, outputs=outputs, infer_shape=infer_shape,
                          infer_type=infer_type, params=dict(params or {}), cpu=cpu_kernel, inplace=inplace,
                          doc="Backward of %s (internal)." % name[len("_backward_"):]))


# ---------------------------------------------------------------------------------------------------------------
# Ops the gradient pass uses: add_n (sums gradients), zeros_like, ones_like, BlockGrad
# ---------------------------------------------------------------------------------------------------------------


# d(sum_i x_i)/dx_i = 1: every input gets dy.
def _add_n_grad(p, ins, outs, dys):
    return [dys[0]] * len(ins)


register(OpDef("add_n", aliases=("ElementWiseSum",), variadic="num_args",
               params=dict(num_args=Int(doc="Number of inputs to be summed.")),
               infer_shape=same_shape_rule, inplace=((0, 0),), gradient=_add_n_grad, cpu=cpu.add_n,
               per_sample=lambda p, t: (tuple(range(p.num_args)), (0,)),     # inputs of one shape
               doc="Adds all input arguments element-wise."))


# A constant does not depend on its input's values, and BlockGrad stops the gradient: none flows back.
def _no_grad(p, ins, outs, dys):
    return [None] * len(ins)


register(OpDef("zeros_like", infer_shape=same_shape_rule, gradient=_no_grad, cpu=cpu.zeros_like,
               doc="Returns an array of zeros with the same shape and type as the input array."))
register(OpDef("ones_like", infer_shape=same_shape_rule, gradient=_no_grad, cpu=cpu.ones_like,
               doc="Returns an array of ones with the same shape and type as the input array."))
register(OpDef("BlockGrad", aliases=("stop_gradient",), infer_shape=same_shape_rule, inplace=((0, 0),),
               gradient=_no_grad, cpu=cpu.block_grad,
               doc="Stops gradient computation: the identity in the forward pass, no gradient backward."))

# ---------------------------------------------------------------------------------------------------------------
# FullyConnected
# ---------------------------------------------------------------------------------------------------------------


# out = data @ weight.T + bias, data taken as (n, k) with k = prod(data.shape[1:]) (flatten), or along its last
# axis (flatten=False). weight (num_hidden, k), bias (num_hidden,), out (n, num_hidden) or data[:-1]+(num_hidden,).
def _fc_shape(p, in_shapes, out_shapes):
    if p.num_hidden < 1:
        raise ShapeError("FullyConnected: num_hidden must be >= 1, got %d" % p.num_hidden)
    data, weight = in_shapes[0], in_shapes[1]
    out, nh = out_shapes[0], p.num_hidden
    if data is not None and len(data) == 0:
        raise ShapeError("FullyConnected: data needs at least one dimension, got shape ()")
    k = weight[1] if weight is not None and len(weight) == 2 else 0
    if data is not None:
        data = list(data)
        if p.flatten:
            data[0] = data[0] or (out[0] if out is not None and len(out) == 2 else 0)
            unknown = [i for i in range(1, len(data)) if data[i] == 0]
            if len(unknown) == 1 and k:          # one unknown trailing dim follows from weight's k
                u = unknown[0]
                rest = size(data[1:u] + data[u + 1:])
                data[u] = k // rest if k % rest == 0 else 0
            k = size(data[1:]) or k
            out = merge((data[0], nh), out)
        else:
            if out is not None and len(out) == len(data):
                data[:-1] = merge(tuple(data[:-1]), tuple(out[:-1]))
            data[-1] = data[-1] or k
            k = data[-1]
            out = merge(tuple(data[:-1]) + (nh,), out)
        data = tuple(data)
    elif not p.flatten and out is not None and k:
        data = tuple(out[:-1]) + (k,)
    # MXNet also takes a (num_hidden, 1) bias when given one (forward only: its backward then fails a check)
    bias = in_shapes[2] if not p.no_bias and len(in_shapes) > 2 and in_shapes[2] == (nh, 1) else (nh,)
    in_shapes = [data, (nh, k)] + ([] if p.no_bias else [bias])
    return in_shapes, [out]


# Y = X W^T + b with X the (n, k) view of data: dX = dY W, dW = dY^T X, db = sum over the rows of dY.
def _fc_grad(p, ins, outs, dys):
    grads = autodiff.apply("_backward_FullyConnected", dys[0], ins[0], ins[1], num_hidden=p.num_hidden,
                           no_bias=p.no_bias, flatten=p.flatten)
    return list(grads)


_FC_PARAMS = dict(num_hidden=Int(doc="Number of hidden nodes of the output."),
                  no_bias=Bool(False, "Whether to disable bias parameter."),
                  flatten=Bool(True, "Whether to collapse all but the first axis of the input data."))

register(OpDef("FullyConnected", params=_FC_PARAMS,
               arguments=lambda p: ["data", "weight"] + ([] if p.no_bias else ["bias"]),
               infer_shape=_fc_shape, infer_type=float_only("FullyConnected"), gradient=_fc_grad,
               cpu=cpu.fully_connected, doc="Applies a linear transformation: Y = XW^T + b."))


def _fc_backward_shape(p, in_shapes, out_shapes):
    dy, data, weight = in_shapes
    ins, outs = _fc_shape(p, [data, weight] + ([] if p.no_bias else [None]), [dy])
    return [outs[0], ins[0], ins[1]], ins


# Second order (create_graph): with X, dY the 2-D views, dX = dY W, dW = dY^T X, db = rows summed of dY, and
# gX, gW, gb the gradients of those three: d dY = gX W^T + X gW^T + gb, d X = dY gW, d W = dY^T gX.
def _fc_backward_grad(p, ins, outs, dys):
    dy, x, w = ins
    g_x, g_w = dys[0], dys[1]
    g_b = None if p.no_bias else dys[2]
    fc = dict(num_hidden=p.num_hidden, no_bias=True, flatten=p.flatten)
    terms = [autodiff.apply("FullyConnected", g_x, w, **fc) if g_x is not None else None,
             autodiff.apply("FullyConnected", x, g_w, **fc) if g_w is not None else None,
             autodiff.apply("broadcast_add", autodiff.zeros_like(dy), g_b) if g_b is not None else None]
    terms = [t for t in terms if t is not None]
    d_dy = terms[0] if len(terms) == 1 else autodiff.apply("add_n", *terms) if terms else None
    rows = (lambda v: autodiff.apply("Flatten", v)) if p.flatten else \
        (lambda v: autodiff.apply("Reshape", v, shape=(-1, 0), reverse=True))
    d_x = None if g_w is None else autodiff.apply("reshape_like", autodiff.apply("dot", rows(dy), g_w), x)
    d_w = None if g_x is None else autodiff.apply("dot", rows(dy), rows(g_x), transpose_a=True)
    return [d_dy, d_x, d_w]


register(OpDef("_backward_FullyConnected", arguments=("ograd", "data", "weight"), params=dict(_FC_PARAMS),
               outputs=lambda p: ["data_grad", "weight_grad"] + ([] if p.no_bias else ["bias_grad"]),
               infer_shape=_fc_backward_shape, infer_type=float_only("_backward_FullyConnected"),
               cpu=cpu.backward_fully_connected, gradient=_fc_backward_grad,
               doc="Backward of FullyConnected (internal)."))

# ---------------------------------------------------------------------------------------------------------------
# BatchNorm
# ---------------------------------------------------------------------------------------------------------------


_BN = dict(eps=Float(1e-3, "Epsilon to prevent div 0. Must be no less than CUDNN_BN_MIN_EPSILON defined in "
                            "cudnn.h when using cudnn (usually 1e-5)"),
           momentum=Float(0.9, "Momentum for moving average"),
           fix_gamma=Bool(True, "Fix gamma while training"),
           use_global_stats=Bool(False, "Whether use global moving statistics instead of local batch-norm. This "
                                        "will force change batch-norm into a scale shift operator."),
           output_mean_var=Bool(False, "Output the mean and inverse std "),
           axis=Int(1, "Specify which shape axis the channel is specified"),
           cudnn_off=Bool(False, "Do not select CUDNN operator, if available"),
           min_calib_range=OptFloat(None, "The minimum scalar value in the form of float32 obtained through "
                                          "calibration."),
           max_calib_range=OptFloat(None, "The maximum scalar value in the form of float32 obtained through "
                                          "calibration."))


# out = data; gamma, beta, moving_mean, moving_var and the mean/var outputs: (C,), C = data.shape[axis].
def _bn_shape(p, in_shapes, out_shapes):
    data = merge(in_shapes[0], out_shapes[0])
    channel = None
    for s in list(in_shapes[1:]) + list(out_shapes[1:]):
        channel = merge(channel, s)
    if data is not None:
        axis = p.axis + len(data) if p.axis < 0 else p.axis
        if not 0 <= axis < len(data):
            raise ShapeError("BatchNorm: channel axis out of range: axis=%d for data %s" % (p.axis, fmt(data)))
        if channel is not None and len(channel) == 1 and not data[axis]:
            data = tuple(data[:axis]) + (channel[0],) + tuple(data[axis + 1:])
        channel = merge((data[axis],), channel)
    return [data] + [channel] * 4, [data, channel, channel]


# data float16 -> gamma, beta, moving stats, mean and var outputs float32; otherwise all one dtype.
def _bn_type(p, in_types, out_types):
    data = in_types[0] if in_types[0] is not None else out_types[0]
    if data is None:
        return list(in_types), list(out_types)
    data = np.dtype(data)
    if data.kind != "f":
        raise DTypeError("BatchNorm: this operation only supports floating point types, not %s" % data.name)
    param = np.dtype(np.float32) if data == np.float16 else data
    return [data] + [param] * 4, [data, param, param]


# With xhat = (x - mean) * invstd per channel and N the elements per channel: dbeta = sum(dy),
# dgamma = sum(dy * xhat) (0 with fix_gamma), and dx = gamma * invstd * (dy - dbeta / N - xhat * dgamma / N)
# with batch statistics, or dx = gamma * invstd * dy with the moving ones (use_global_stats, inference).
# The mean and var outputs get no gradient (MXNet's), nor do the moving stats, which the backward op updates
# (Note [BatchNorm moving stats]).
def _bn_grad(p, ins, outs, dys):
    if dys[0] is None:
        return [None] * 5
    grads = autodiff.apply("_backward_BatchNorm", dys[0], ins[0], ins[1], outs[1], outs[2], ins[3], ins[4],
                           **p.as_dict())
    return list(grads) + [None, None]


def _bn_var_attrs(p, name):
    return {"moving_mean": {"__init__": '["zero", {}]'}, "moving_var": {"__init__": '["one", {}]'}}.get(name, {})


register(OpDef("BatchNorm", params=_BN, arguments=("data", "gamma", "beta"), aux=("moving_mean", "moving_var"),
               outputs=("output", "mean", "var"), num_visible_outputs=lambda p: 3 if p.output_mean_var else 1,
               writes_arguments=lambda p: ("gamma",) if p.fix_gamma else (),
               infer_shape=_bn_shape, infer_type=_bn_type, gradient=_bn_grad, input_var_attrs=_bn_var_attrs,
               takes_training=True, cpu=cpu_batchnorm.batch_norm,
               doc="Batch normalization: normalises each channel by the batch's mean and variance in training and "
                   "by the moving statistics in inference, then scales by gamma and shifts by beta."))


# inputs (ograd, data, gamma, mean, var, moving_mean, moving_var): every one but ograd and data per channel.
def _bn_backward_shape(p, in_shapes, out_shapes):
    dy, data, gamma, mean, var, moving_mean, moving_var = in_shapes
    ins, outs = _bn_shape(p, [merge(data, dy), gamma, None, moving_mean, moving_var],
                          [merge(dy, data), mean, var])
    return [outs[0], ins[0]] + [ins[1]] * 5, [ins[0], ins[1], ins[1]]


def _bn_backward_type(p, in_types, out_types):
    ins, outs = _bn_type(p, [in_types[1], in_types[2], None, None, None], [in_types[0], None, None])
    return [outs[0], ins[0]] + [ins[1]] * 5, [ins[0], ins[1], ins[1]]


register(OpDef("_backward_BatchNorm", params=dict(_BN), arguments=("ograd", "data", "gamma", "mean", "var"),
               aux=("moving_mean", "moving_var"), outputs=("data_grad", "gamma_grad", "beta_grad"),
               infer_shape=_bn_backward_shape, infer_type=_bn_backward_type, cpu=cpu_batchnorm.backward_batch_norm,
               doc="Backward of BatchNorm (internal); in training it also updates the moving statistics."))

# ---------------------------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------------------------


# out and mask are shaped like data (the mask is drawn with the `axes` dims set to 1, then broadcast).
def _dropout_shape(p, in_shapes, out_shapes):
    if not 0.0 <= p.p <= 1.0:
        raise ParamError("Dropout: p must be in [0, 1], got p=%s" % p.p)
    ins, outs = same_shape_rule(p, in_shapes, out_shapes)
    data = ins[0]
    if data is not None and any(not -len(data) <= a < len(data) for a in p.axes):
        raise ShapeError("Dropout: axes=%s out of range for data %s" % (p.axes, fmt(data)))
    return ins, outs


# out = data * mask, where mask holds 0 or 1/(1-p) (ones in inference): dx = dy * mask.
def _dropout_grad(p, ins, outs, dys):
    return [dys[0] * outs[1]]


register(OpDef("Dropout", params=dict(p=Float(0.5, "Fraction of the input that gets dropped out during training "
                                                 "time."),
                                      mode=Enum(("always", "training"), "training",
                                                "Whether to only turn on dropout during training or to also turn "
                                                "on for inference."),
                                      axes=Shape((), "Axes for variational dropout kernel."),
                                      cudnn_off=Bool(False, "Whether to turn off cudnn in dropout operator. This "
                                                            "option is ignored if axes is specified.")),
               outputs=("output", "mask"), num_visible_outputs=lambda p: 1, infer_shape=_dropout_shape,
               infer_type=float_only("Dropout"), gradient=_dropout_grad, takes_training=True, cpu=cpu.dropout,
               inplace=((0, 0),),
               doc="Applies dropout: during training each element is zeroed with probability p and the kept ones "
                   "are scaled by 1/(1-p); the identity in inference (mode='training')."))

# ---------------------------------------------------------------------------------------------------------------
# Concat
# ---------------------------------------------------------------------------------------------------------------


def _concat_shape(p, in_shapes, out_shapes):
    """Inputs agree on every dim but `dim`; out[dim] = the sum of theirs. One unknown input dim along `dim`
    follows from a known output."""
    shapes = list(in_shapes) + [out_shapes[0]]
    ndim = next((len(s) for s in shapes if s is not None), None)
    if ndim is None:
        return list(in_shapes), list(out_shapes)
    if not -ndim <= p.dim < ndim:
        raise ShapeError("Concat: dim=%d exceeds the input dimension of %d" % (p.dim, ndim))
    axis = p.dim % ndim
    common = (0,) * ndim
    for i, s in enumerate(shapes):
        if s is None:
            continue
        masked = tuple(0 if j == axis else d for j, d in enumerate(s))
        if not compatible(masked, common):
            name = "arg%d" % i if i < len(in_shapes) else "output"
            want = ",".join("-1" if j == axis or not d else str(d) for j, d in enumerate(common))
            raise ShapeError("Concat: incompatible shape for %s: expected [%s], got %s" % (name, want, fmt(s)))
        common = merge(common, masked)
    ins = []
    for s in in_shapes:
        s = common if s is None else s
        ins.append(tuple(s[j] if j == axis else common[j] for j in range(ndim)))
    out = out_shapes[0]
    along = [s[axis] for s in ins]
    total = sum(along) if all(along) else 0
    if out is not None and out[axis] and along.count(0) == 1 and total == 0:
        k = along.index(0)
        rest = sum(along)
        if out[axis] > rest:
            ins[k] = tuple(out[axis] - rest if j == axis else d for j, d in enumerate(ins[k]))
            total = out[axis]
    out = tuple(total if j == axis else common[j] for j in range(ndim))
    out = merge(out, out_shapes[0])
    return [s if any(s) or in_shapes[i] is not None else None for i, s in enumerate(ins)], [out]


# out = the inputs side by side along dim: input i gets its slice of dy.
def _concat_grad(p, ins, outs, dys):
    grads = autodiff.apply("_backward_Concat", dys[0], *ins, num_args=p.num_args, dim=p.dim)
    return list(grads) if p.num_args > 1 else [grads]


register(OpDef("Concat", aliases=("concat",), variadic="num_args",
               params=dict(num_args=Int(doc="Number of inputs to be concated."),
                           dim=Int(1, "the dimension to be concated.")),
               infer_shape=_concat_shape, gradient=_concat_grad, cpu=cpu.concat,
               doc="Joins input arrays along a given axis."))


# The forward inputs are passed only for their shapes (each gradient is shaped like its input).
def _concat_backward_shape(p, in_shapes, out_shapes):
    args = [merge(s, o) for s, o in zip(in_shapes[1:], out_shapes, strict=True)]
    ins, outs = _concat_shape(p, args, [in_shapes[0]])
    return [outs[0]] + ins, ins


_backward_op("_backward_Concat", cpu.backward_concat,
             lambda p: ["ograd"] + ["arg%d" % i for i in range(p.num_args)],
             lambda p: ["arg%d_grad" % i for i in range(p.num_args)], _concat_backward_shape,
             dict(num_args=Int(), dim=Int(1)))
