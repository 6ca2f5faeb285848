"""Neural-network ops: layers, activations, softmax and losses, BatchNorm, Dropout, Concat, and the small ops the
gradient pass uses (add_n, zeros_like, ones_like, BlockGrad), each with its gradient rule and `_backward_*` ops.

Names, params, defaults and aliases are MXNet 1.9.1's (checked against it, native CPU kernels). Facts worth
knowing, all observed on 1.9.1:
- Loss outputs (SoftmaxOutput, *RegressionOutput) ignore the head gradient and give the label no gradient.
- SoftmaxOutput's `normalization='null'` gradient is the un-normalised sum over the batch, except with
  multi_output, where it is divided by the spatial size; `out_grad=True` multiplies by the softmax output (the
  native backward reads its output where the head gradient was meant); `smooth_alpha` is ignored with
  multi_output; a label shaped like data (probabilities) is never normalised.
- The regression outputs divide by the number of outputs per sample, label.size / label.shape[0].
- BatchNorm's `var` output holds 1/sqrt(var + eps), not the variance; the moving stats are updated with the
  biased batch variance. MXNet updates them in its backward pass; here the training forward does (see Note
  [BatchNorm moving stats]).
- Dropout's mask and LeakyReLU(rrelu)'s slopes come from ops.random_state (seeded by mx.random.seed).

The loss-output ops' shape rules follow MXNet's native CPU operators: they infer the label's shape from data, and
accept the alternative label shapes MXNet accepts.

Note [BatchNorm moving stats]: MXNet 1.9.1 (native and oneDNN) updates moving_mean/moving_var in
_backward_BatchNorm, so a training forward without a backward leaves them unchanged. Here the training forward
updates them, because only the forward pass declares writes to aux states (dataflow/executor.py). The two agree
whenever each training forward is followed by one backward (fit, Gluon's record + backward).
"""
import numpy as np

from . import autodiff
from .cpu import nn as cpu
from .elemwise import compatible, float_only, fmt, like_inputs, merge, same_shape_rule, size, types_like_inputs
from .errors import DTypeError, ParamError, ShapeError
from .registry import Bool, DType, Enum, Float, Int, OpDef, OptFloat, Shape, register, same_dtype






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
    in_shapes = [data, (nh, k)] + ([] if p.no_bias else [(nh,)])
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


_backward_op("_backward_FullyConnected", cpu.backward_fully_connected, ("ograd", "data", "weight"),
             lambda p: ["data_grad", "weight_grad"] + ([] if p.no_bias else ["bias_grad"]), _fc_backward_shape,
             _FC_PARAMS, float_only("_backward_FullyConnected"))

# ---------------------------------------------------------------------------------------------------------------
# Activation
# ---------------------------------------------------------------------------------------------------------------


# relu: dy * (y > 0); sigmoid: dy * y (1 - y); tanh: dy (1 - y^2); softrelu: dy (1 - exp(-y)) (y = log(1 + e^x),
# so 1 - e^-y = sigmoid(x)); softsign: dy / (1 + |x|)^2, the only one that reads the input.
def _activation_grad(p, ins, outs, dys):
    v = ins[0] if p.act_type == "softsign" else outs[0]
    return [autodiff.apply("_backward_Activation", dys[0], v, act_type=p.act_type)]


_ACT = dict(act_type=Enum(("relu", "sigmoid", "softrelu", "softsign", "tanh"),
                          doc="Activation function to be applied."))

register(OpDef("Activation", params=_ACT, infer_shape=same_shape_rule, infer_type=float_only("Activation"),
               inplace=((0, 0),), gradient=_activation_grad, cpu=cpu.activation,
               doc="Applies an activation function element-wise to the input."))
_backward_op("_backward_Activation", cpu.backward_activation, ("ograd", "input"), ("data_grad",),
             same_shape_rule, _ACT, float_only("_backward_Activation"), inplace=((0, 0), (1, 0)))

# ---------------------------------------------------------------------------------------------------------------
# LeakyReLU
# ---------------------------------------------------------------------------------------------------------------


_LEAKY = dict(act_type=Enum(("elu", "gelu", "leaky", "prelu", "rrelu", "selu"), "leaky",
                           "Activation function to be applied."),
              slope=Float(0.25, "Init slope for the activation. (For leaky and elu only)"),
              lower_bound=Float(0.125, "Lower bound of random slope. (For rrelu only)"),
              upper_bound=Float(0.334, "Upper bound of random slope. (For rrelu only)"))


# out = data (prelu: gamma (C,) or (1,), C = data.shape[1]; MXNet proposes (C,) and takes any given gamma);
# rrelu's second output, the slopes, is shaped like data.
def _leaky_shape(p, in_shapes, out_shapes):
    data = merge(in_shapes[0], out_shapes[0])
    ins, outs = [data] + list(in_shapes[1:]), [data] * len(out_shapes)
    if p.act_type == "prelu" and data is not None:
        if len(data) < 2:
            raise ShapeError("LeakyReLU: act_type='prelu' needs data of at least 2 dims (channel axis 1), got %s"
                             % fmt(data))
        ins[1] = ins[1] if ins[1] is not None else (data[1],)
    return ins, outs


# leaky: dy * (y > 0 ? 1 : slope); elu: y > 0 ? dy : dy (y + slope) (y = slope (e^x - 1)); selu: y > 0 ? lambda dy
# : dy (y + alpha lambda); gelu: dy (Phi(x) + x phi(x)); rrelu: dy * (x > 0 ? 1 : the slope drawn);
# prelu: dx = dy * (x > 0 ? 1 : gamma), dgamma = sum of dy * x where x <= 0 over all axes but 1 (all for (1,)).
def _leaky_grad(p, ins, outs, dys):
    extra = [ins[1]] if p.act_type == "prelu" else [outs[1]] if p.act_type == "rrelu" else []
    grads = autodiff.apply("_backward_LeakyReLU", dys[0], ins[0], outs[0], *extra, **p.as_dict())
    return list(grads) if p.act_type == "prelu" else [grads]


def _leaky_var_attrs(p, name):
    # MXNet writes this initializer for prelu's gamma, whatever the slope.
    return {"__init__": '["Constant", {"value": 0.25}]'} if name == "gamma" else {}


register(OpDef("LeakyReLU", params=_LEAKY,
               arguments=lambda p: ["data"] + (["gamma"] if p.act_type == "prelu" else []),
               outputs=lambda p: ["output"] + (["mask"] if p.act_type == "rrelu" else []),
               infer_shape=_leaky_shape, infer_type=float_only("LeakyReLU"), gradient=_leaky_grad,
               input_var_attrs=_leaky_var_attrs, takes_training=True, cpu=cpu.leaky_relu,
               doc="Leaky ReLU family: leaky, prelu (learned slope gamma per channel), elu, selu, gelu (erf "
                   "form), rrelu (random slope in training, the mean slope in inference)."))


def _leaky_backward_shape(p, in_shapes, out_shapes):
    data = merge(merge(in_shapes[1], in_shapes[0]), out_shapes[0])
    ins = [data, data, data] + list(in_shapes[3:])
    if p.act_type == "rrelu":
        ins[3] = data
    return ins, [data] + ([in_shapes[3]] if p.act_type == "prelu" else [])


_backward_op("_backward_LeakyReLU", cpu.backward_leaky_relu,
             lambda p: ["ograd", "data", "output"] + (["gamma"] if p.act_type == "prelu" else
                                                      ["mask"] if p.act_type == "rrelu" else []),
             lambda p: ["data_grad"] + (["gamma_grad"] if p.act_type == "prelu" else []), _leaky_backward_shape,
             _LEAKY, float_only("_backward_LeakyReLU"))

# ---------------------------------------------------------------------------------------------------------------
# softmax, log_softmax, SoftmaxActivation
# ---------------------------------------------------------------------------------------------------------------


def _softmax_params():
    return dict(axis=Int(-1, "The axis along which to compute softmax."),
                  temperature=OptFloat(None, "Temperature parameter in softmax"),
                  dtype=DType(None, "DType of the output in case this can't be inferred. Defaults to the same as "
                                    "input's dtype if not defined (dtype=None)."),
                  use_length=Bool(False, "Whether to use the length input as a mask over the data input."))


def _check_axis(op_name, axis, shape):
    if not -len(shape) <= axis < len(shape):
        raise ShapeError("%s: axis %d exceeds the input dimension of %d (data %s)"
                         % (op_name, axis, len(shape), fmt(shape)))
    return axis % len(shape)


def _softmax_shape_rule(op_name):
    # out = data; length (use_length) = data's shape without the axis.
    def rule(p, in_shapes, out_shapes):
        if op_name == "log_softmax" and p.use_length:
            raise ParamError("log_softmax: use_length=True is not supported (MXNet 1.9.1 lists no length input "
                             "for log_softmax and fails in its shape check)")
        data = merge(in_shapes[0], out_shapes[0])
        ins = [data] + list(in_shapes[1:])
        if data is not None:
            axis = _check_axis(op_name, p.axis, data)
            if p.use_length:
                ins[1] = merge(tuple(data[:axis]) + tuple(data[axis + 1:]), in_shapes[1])
        return ins, [data]
    return rule


def _softmax_type_rule(op_name):
    # out: the `dtype` param, else data's dtype; length: an integer dtype.
    def rule(p, in_types, out_types):
        data = in_types[0]
        if data is not None and np.dtype(data).kind != "f":
            raise DTypeError("%s: this operation only supports floating point types, not %s"
                             % (op_name, np.dtype(data).name))
        if p.use_length and in_types[1] is not None and np.dtype(in_types[1]).kind not in "iu":
            raise DTypeError("%s: length only supports integer types, not %s"
                             % (op_name, np.dtype(in_types[1]).name))
        out = p.dtype if p.dtype is not None else data if data is not None else out_types[0]
        if data is None and p.dtype is None:
            data = out
        return [data] + list(in_types[1:]), [out]
    return rule


# y = softmax(x / T): dx = y (dy - sum(dy y)) / T along the axis (masked positions have y = 0, so dx = 0).
def _softmax_grad(p, ins, outs, dys):
    extra = [ins[1]] if p.use_length else []
    dx = autodiff.apply("_backward_softmax", dys[0], outs[0], *extra, axis=p.axis, temperature=p.temperature,
                        use_length=p.use_length)
    return [dx] + ([None] if p.use_length else [])


# y = log_softmax(x / T): dx = (dy - exp(y) sum(dy)) / T along the axis.
def _log_softmax_grad(p, ins, outs, dys):
    return [autodiff.apply("_backward_log_softmax", dys[0], outs[0], axis=p.axis, temperature=p.temperature)]


register(OpDef("softmax", params=_softmax_params(),
               arguments=lambda p: ["data", "length"] if p.use_length else ["data"],
               infer_shape=_softmax_shape_rule("softmax"), infer_type=_softmax_type_rule("softmax"),
               gradient=_softmax_grad, cpu=cpu.softmax_op,
               doc="Applies the softmax function along `axis`: exp(x/T) / sum(exp(x/T)); with use_length, only "
                   "the first length[i] elements of each row take part, the rest are 0."))
register(OpDef("log_softmax", params=_softmax_params(), infer_shape=_softmax_shape_rule("log_softmax"),
               infer_type=_softmax_type_rule("log_softmax"), gradient=_log_softmax_grad, cpu=cpu.log_softmax_op,
               doc="Computes the log softmax of the input along `axis`: x/T - log(sum(exp(x/T)))."))

_SOFTMAX_BACKWARD = dict(axis=Int(-1), temperature=OptFloat(None), use_length=Bool(False))
_backward_op("_backward_softmax", cpu.backward_softmax,
             lambda p: ["ograd", "output"] + (["length"] if p.use_length else []), ("data_grad",),
             lambda p, ins, outs: like_inputs(1)(p, [merge(ins[0], ins[1])] + list(ins[1:]), outs),
             _SOFTMAX_BACKWARD, types_like_inputs(1))
_backward_op("_backward_log_softmax", cpu.backward_log_softmax, ("ograd", "output"), ("data_grad",),
             lambda p, ins, outs: like_inputs(1)(p, [merge(ins[0], ins[1]), ins[1]], outs),
             dict(axis=Int(-1), temperature=OptFloat(None)), types_like_inputs(1))


def _softmax_activation_shape(p, in_shapes, out_shapes):
    ins, outs = same_shape_rule(p, in_shapes, out_shapes)
    if p.mode == "channel" and ins[0] is not None and len(ins[0]) < 3:
        raise ShapeError("SoftmaxActivation: mode='channel' needs data of at least 3 dims, got %s" % fmt(ins[0]))
    return ins, outs


# instance: softmax over the last axis; channel: over axis 1. The gradient is softmax's.
def _softmax_activation_grad(p, ins, outs, dys):
    return [autodiff.apply("_backward_softmax", dys[0], outs[0], axis=1 if p.mode == "channel" else -1)]


_SOFTMAX_MODE = Enum(("channel", "instance"), "instance",
                     "Softmax Mode. If set to instance, this operator will compute a softmax for each instance "
                     "in the batch. If set to channel, this operator will compute a k-class softmax at each "
                     "position of each instance.")

register(OpDef("SoftmaxActivation", params=dict(mode=_SOFTMAX_MODE),
               infer_shape=_softmax_activation_shape, infer_type=float_only("SoftmaxActivation"),
               gradient=_softmax_activation_grad, cpu=cpu.softmax_activation,
               doc="Applies softmax activation to input (deprecated in MXNet: use softmax)."))

# ---------------------------------------------------------------------------------------------------------------
# SoftmaxOutput
# ---------------------------------------------------------------------------------------------------------------


# out = softmax(data) (see the kernel for the axis); label (n,) + data[1:-1] i.e. data.shape[:-1] by default and
# with preserve_shape; (n, prod(data[2:])) with multi_output, which also takes (n,) + data[2:]. A label shaped
# like data (probabilities) is accepted in every mode.
def _softmax_output_shape(p, in_shapes, out_shapes):
    data = merge(in_shapes[0], out_shapes[0])
    if data is None:
        return list(in_shapes), list(out_shapes)
    if p.multi_output:
        if len(data) < 2:
            raise ShapeError("SoftmaxOutput: multi_output=True needs data of at least 2 dims, got %s" % fmt(data))
        accepted = [(data[0], size(data[2:])), (data[0],) + tuple(data[2:]), tuple(data)]
    else:
        accepted = [tuple(data[:-1]), tuple(data)] if len(data) > 1 else [None, tuple(data)]
    return [data, _label(in_shapes[1], accepted)], [data]


def _label(label, accepted):
    """The label shape: the first accepted shape label is compatible with, filled in; else the first (proposed,
    None for no proposal), which the inference pass checks against a known label."""
    for shape in accepted:
        if shape is not None and label is not None and compatible(label, shape):
            return merge(label, shape)
    return merge(accepted[0], label) if accepted[0] is not None else label


# A loss: the head gradient is ignored and the label gets none. With p = softmax(data) and t = onehot(label)
# (smooth_alpha: 1 - alpha on the label, alpha / (k - 1) elsewhere), d_data = (p - t) * grad_scale / count, rows
# whose label is ignore_label zeroed (use_ignore). count: 1 ('null'), the number of labels ('batch'), the labels
# other than ignore_label ('valid', at least 1); multi_output also divides by the spatial size unless 'valid'.
# A label shaped like data: d_data = (p - label) * grad_scale. out_grad: times p (MXNet 1.9.1 reads its output).
def _softmax_output_grad(p, ins, outs, dys):
    return [autodiff.apply("_backward_SoftmaxOutput", outs[0], ins[1], **p.as_dict()), None]


_SOFTMAX_OUTPUT = dict(grad_scale=Float(1.0, "Scales the gradient by a float factor."),
                       ignore_label=Float(-1.0, "The instances whose labels == ignore_label will be ignored "
                                                "during backward, if use_ignore is set to true)."),
                       multi_output=Bool(False, "Softmax over axis 1 of an (n, k, x_1, ..., x_n) input."),
                       use_ignore=Bool(False, "If set to true, the ignore_label value will not contribute "
                                              "to the backward gradient."),
                       preserve_shape=Bool(False, "Softmax over the last axis, keeping the input's shape."),
                       normalization=Enum(("batch", "null", "valid"), "null", "Normalizes the gradient."),
                       out_grad=Bool(False, "Multiplies gradient with output gradient element-wise."),
                       smooth_alpha=Float(0.0, "Label smoothing: the target gets 1 - alpha, the other classes "
                                               "alpha / (k - 1)."))

register(OpDef("SoftmaxOutput", aliases=("Softmax",), arguments=("data", "label"), params=_SOFTMAX_OUTPUT,
               infer_shape=_softmax_output_shape, infer_type=float_only("SoftmaxOutput"),
               gradient=_softmax_output_grad, cpu=cpu.softmax_output,
               doc="Computes the gradient of cross entropy loss with respect to softmax output; the forward is "
                   "the softmax."))
_backward_op("_backward_SoftmaxOutput", cpu.backward_softmax_output, ("output", "label"), ("data_grad",),
             like_inputs(0), _SOFTMAX_OUTPUT, float_only("_backward_SoftmaxOutput"))

# ---------------------------------------------------------------------------------------------------------------
# LinearRegressionOutput, LogisticRegressionOutput, MAERegressionOutput
# ---------------------------------------------------------------------------------------------------------------


# out = data; label shaped like data, or (n,) when data is (n, 1) (MXNet proposes (n,) then, and accepts both).
def _regression_shape(p, in_shapes, out_shapes):
    data = merge(in_shapes[0], out_shapes[0])
    if data is None:
        return list(in_shapes), list(out_shapes)
    accepted = [(data[0],), tuple(data)] if len(data) == 2 and data[1] == 1 else [tuple(data)]
    return [data, _label(in_shapes[1], accepted)], [data]


def _regression(name, backward_name, kernel, backward_kernel, doc):
    # Losses: the head gradient is ignored and the label gets none; d_data: see the comment below.
    def grad(p, ins, outs, dys):
        return [autodiff.apply(backward_name, outs[0], ins[1], grad_scale=p.grad_scale), None]
    params = dict(grad_scale=Float(1.0, "Scale the gradient by a float factor"))
    register(OpDef(name, arguments=("data", "label"), params=params, infer_shape=_regression_shape,
                   infer_type=float_only(name), inplace=((0, 0),), gradient=grad, cpu=kernel, doc=doc))
    _backward_op(backward_name, backward_kernel, ("output", "label"), ("data_grad",), like_inputs(0), params,
                 float_only(backward_name))


# d_data = f(out - label) * grad_scale / m, m = label.size / label.shape[0] (outputs per sample, as MXNet): f is
# the identity for the linear and logistic losses (out = data, sigmoid(data)), and sign for MAE (-1 at 0).
_regression("LinearRegressionOutput", "_backward_linear_reg_out", cpu.linear_regression_output,
            cpu.backward_linear_reg_out,
            "Computes and optimizes for squared loss during backward propagation; the forward is the identity.")
_regression("LogisticRegressionOutput", "_backward_logistic_reg_out", cpu.logistic_regression_output,
            cpu.backward_logistic_reg_out,
            "Applies a logistic function to the input; the gradient is that of the cross-entropy loss.")
_regression("MAERegressionOutput", "_backward_mae_reg_out", cpu.mae_regression_output, cpu.backward_mae_reg_out,
            "Computes mean absolute error of the input; the forward is the identity.")

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
# The mean and var outputs get no gradient (MXNet's), nor do the moving stats.
def _bn_grad(p, ins, outs, dys):
    if dys[0] is None:
        return [None] * 5
    grads = autodiff.apply("_backward_BatchNorm", dys[0], ins[0], ins[1], outs[1], outs[2], **p.as_dict())
    return list(grads) + [None, None]


def _bn_var_attrs(p, name):
    return {"moving_mean": {"__init__": '["zero", {}]'}, "moving_var": {"__init__": '["one", {}]'}}.get(name, {})


register(OpDef("BatchNorm", params=_BN, arguments=("data", "gamma", "beta"), aux=("moving_mean", "moving_var"),
               outputs=("output", "mean", "var"), num_visible_outputs=lambda p: 3 if p.output_mean_var else 1,
               infer_shape=_bn_shape, infer_type=_bn_type, gradient=_bn_grad, input_var_attrs=_bn_var_attrs,
               takes_training=True, cpu=cpu.batch_norm,
               doc="Batch normalization: normalises each channel by the batch's mean and variance in training and "
                   "by the moving statistics in inference, then scales by gamma and shifts by beta."))


def _bn_backward_shape(p, in_shapes, out_shapes):
    dy, data, gamma, mean, var = in_shapes
    ins, outs = _bn_shape(p, [merge(data, dy), gamma, None, mean, var], [merge(dy, data), None, None])
    return [outs[0], ins[0], ins[1], ins[1], ins[1]], [ins[0], ins[1], ins[1]]


def _bn_backward_type(p, in_types, out_types):
    ins, outs = _bn_type(p, [in_types[1], in_types[2], None, None, None], [in_types[0], None, None])
    return [outs[0], ins[0], ins[1], ins[1], ins[1]], [ins[0], ins[1], ins[1]]


_backward_op("_backward_BatchNorm", cpu.backward_batch_norm, ("ograd", "data", "gamma", "mean", "var"),
             ("data_grad", "gamma_grad", "beta_grad"), _bn_backward_shape, _BN, _bn_backward_type)

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
