"""The softmax family (softmax, log_softmax, softmin, SoftmaxActivation) and the loss-output ops (SoftmaxOutput,
LinearRegressionOutput, LogisticRegressionOutput, MAERegressionOutput), each with its gradient rule and
`_backward_*` op. Kernels: ops/cpu/softmax.py, ops/cuda/softmax.py.

Names, params, defaults and aliases are MXNet 1.9.1's (checked against it, native CPU kernels). Facts worth
knowing, all observed on 1.9.1:
- Loss outputs (SoftmaxOutput, *RegressionOutput) ignore the head gradient and give the label no gradient.
- SoftmaxOutput's `normalization='null'` gradient is the un-normalised sum over the batch, except with
  multi_output, where it is divided by the spatial size; `out_grad=True` multiplies by the softmax output (the
  native backward reads its output where the head gradient was meant); `smooth_alpha` is ignored with
  multi_output; a label shaped like data (probabilities) is never normalised.
- The regression outputs divide by the number of outputs per sample, label.size / label.shape[0].

The loss-output ops' shape rules follow MXNet's native CPU operators: they infer the label's shape from data, and
accept the alternative label shapes MXNet accepts.
"""
import numpy as np

from . import autodiff
from .cpu import softmax as cpu
from .elemwise import compatible, float_only, fmt, like_inputs, merge, same_shape_rule, size, types_like_inputs
from .errors import DTypeError, ParamError, ShapeError
from .registry import Bool, DType, Enum, Float, Int, OpDef, OptFloat, register, same_dtype


def _backward_op(name, cpu_kernel, arguments, outputs, infer_shape, params=None, infer_type=same_dtype,
                 inplace=()):
    return register(OpDef(name, arguments=arguments, outputs=outputs, infer_shape=infer_shape,
                          infer_type=infer_type, params=dict(params or {}), cpu=cpu_kernel, inplace=inplace,
                          doc="Backward of %s (internal)." % name[len("_backward_"):]))


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
        if op_name != "softmax" and p.use_length:
            raise ParamError("%s: use_length=True is not supported (MXNet 1.9.1 lists no length input "
                             "for %s and fails in its shape check)" % (op_name, op_name))
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


# softmin(x) = softmax(-x / T): softmax's kernels and gradient with the temperature negated.
def _softmin_grad(p, ins, outs, dys):
    return [autodiff.apply("_backward_softmax", dys[0], outs[0], axis=p.axis,
                           temperature=-(1.0 if p.temperature is None else p.temperature))]


register(OpDef("softmin", params=_softmax_params(), infer_shape=_softmax_shape_rule("softmin"),
               infer_type=_softmax_type_rule("softmin"), gradient=_softmin_grad, cpu=cpu.softmin_op,
               doc="Applies the softmin function along `axis`: exp(-x/T) / sum(exp(-x/T))."))


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
