"""Neural-network ops: FullyConnected, Activation, SoftmaxOutput, LinearRegressionOutput (gradients come later).

The loss-output ops' shape rules follow MXNet 1.9.1's native CPU operators (checked against it): they infer the
label's shape from data, and accept the alternative label shapes MXNet accepts.
"""
from .cpu import nn as cpu
from .elemwise import compatible, float_only, fmt, merge, same_shape_rule, size
from .errors import ShapeError
from .registry import Bool, Enum, Float, Int, OpDef, register

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


# A constant does not depend on its input's values: no gradient.
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


register(OpDef("FullyConnected",
               params=dict(num_hidden=Int(doc="Number of hidden nodes of the output."),
                           no_bias=Bool(False, "Whether to disable bias parameter."),
                           flatten=Bool(True, "Whether to collapse all but the first axis of the input data.")),
               arguments=lambda p: ["data", "weight"] + ([] if p.no_bias else ["bias"]),
               infer_shape=_fc_shape, infer_type=float_only("FullyConnected"), cpu=cpu.fully_connected,
               doc="Applies a linear transformation: Y = XW^T + b."))

# ---------------------------------------------------------------------------------------------------------------
# Activation
# ---------------------------------------------------------------------------------------------------------------

register(OpDef("Activation",
               params=dict(act_type=Enum(("relu", "sigmoid", "softrelu", "softsign", "tanh"),
                                         doc="Activation function to be applied.")),
               infer_shape=same_shape_rule, infer_type=float_only("Activation"), inplace=((0, 0),),
               cpu=cpu.activation, doc="Applies an activation function element-wise to the input."))

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


register(OpDef("SoftmaxOutput", aliases=("Softmax",), arguments=("data", "label"),
               params=dict(grad_scale=Float(1.0, "Scales the gradient by a float factor."),
                           ignore_label=Float(-1.0, "The instances whose labels == ignore_label will be ignored "
                                                    "during backward, if use_ignore is set to true)."),
                           multi_output=Bool(False, "Softmax over axis 1 of an (n, k, x_1, ..., x_n) input."),
                           use_ignore=Bool(False, "If set to true, the ignore_label value will not contribute "
                                                  "to the backward gradient."),
                           preserve_shape=Bool(False, "Softmax over the last axis, keeping the input's shape."),
                           normalization=Enum(("null", "batch", "valid"), "null",
                                              "Normalizes the gradient."),
                           out_grad=Bool(False, "Multiplies gradient with output gradient element-wise."),
                           smooth_alpha=Float(0.0, "Label smoothing: the target gets 1 - alpha, the other classes "
                                                   "alpha / (k - 1).")),
               infer_shape=_softmax_output_shape, infer_type=float_only("SoftmaxOutput"),
               cpu=cpu.softmax_output, doc="Computes the gradient of cross entropy loss with respect to softmax "
                                           "output; the forward is the softmax."))

# ---------------------------------------------------------------------------------------------------------------
# LinearRegressionOutput
# ---------------------------------------------------------------------------------------------------------------


# out = data; label shaped like data, or (n,) when data is (n, 1) (MXNet proposes (n,) then, and accepts both).
def _regression_shape(p, in_shapes, out_shapes):
    data = merge(in_shapes[0], out_shapes[0])
    if data is None:
        return list(in_shapes), list(out_shapes)
    accepted = [(data[0],), tuple(data)] if len(data) == 2 and data[1] == 1 else [tuple(data)]
    return [data, _label(in_shapes[1], accepted)], [data]


register(OpDef("LinearRegressionOutput", arguments=("data", "label"),
               params=dict(grad_scale=Float(1.0, "Scale the gradient by a float factor")),
               infer_shape=_regression_shape, infer_type=float_only("LinearRegressionOutput"), inplace=((0, 0),),
               cpu=cpu.linear_regression_output,
               doc="Computes and optimizes for squared loss during backward propagation; the forward is the "
                   "identity."))
