"""Activation functions: `Activation` (relu, sigmoid, tanh, softrelu, softsign) and the `LeakyReLU` family (leaky,
prelu, elu, selu, gelu, rrelu), each with its gradient rule and `_backward_*` op. Kernels: ops/cpu/activation.py
and ops/cuda/activation.py.

Names, params and defaults are MXNet 1.9.1's. `_backward_Activation` has a gradient rule of its own (second-order
gradients through Gluon nets, `autograd.grad(..., create_graph=True)`), which MXNet 1.9.1 lacks: there numpy's
analytic derivatives are the truth. LeakyReLU(rrelu)'s slopes come from ops.random_state (seeded by
mx.random.seed).
"""
from . import autodiff
from .cpu import activation as cpu
from .elemwise import float_only, fmt, merge, same_shape_rule
from .errors import ShapeError
from .registry import Enum, Float, OpDef, register

# ---------------------------------------------------------------------------------------------------------------
# Activation
# ---------------------------------------------------------------------------------------------------------------


# relu: dy * (y > 0); sigmoid: dy * y (1 - y); tanh: dy (1 - y^2); softrelu: dy (1 - exp(-y)) (y = log(1 + e^x),
# so 1 - e^-y = sigmoid(x)); softsign: dy / (1 + |x|)^2, the only one that reads the input.
def _activation_grad(p, ins, outs, dys):
    v = ins[0] if p.act_type == "softsign" else outs[0]
    return [autodiff.apply("_backward_Activation", dys[0], v, act_type=p.act_type)]


# Second order: _backward_Activation(dy, v) = dy * f'(v) with v the output (the input for softsign). With g the
# gradient of that result: d dy = g * f'(v) (the op again), d v = g * dy * df'/dv: relu 0 (a step), sigmoid 1 - 2y,
# tanh -2y, softrelu e^-y, softsign -2 sign(x) / (1 + |x|)^3. The chain through v = f(x) is the forward's own rule.
def _activation_backward_grad(p, ins, outs, dys):
    dy, v = ins
    g = dys[0]
    d_dy = autodiff.apply("_backward_Activation", g, v, act_type=p.act_type)
    if p.act_type == "relu":
        return [d_dy, None]
    if p.act_type == "sigmoid":
        slope = 1.0 - 2.0 * v
    elif p.act_type == "tanh":
        slope = -2.0 * v
    elif p.act_type == "softrelu":
        slope = autodiff.apply("exp", -v)
    else:
        slope = -2.0 * autodiff.apply("sign", v) / autodiff.apply("_power_scalar", autodiff.apply("abs", v) + 1.0,
                                                                   scalar=3.0)
    return [d_dy, g * dy * slope]


_ACT = dict(act_type=Enum(("relu", "sigmoid", "softrelu", "softsign", "tanh"),
                          doc="Activation function to be applied."))

register(OpDef("Activation", params=_ACT, infer_shape=same_shape_rule, infer_type=float_only("Activation"),
               inplace=((0, 0),), gradient=_activation_grad, cpu=cpu.activation, per_sample=lambda p, t: ((0,), (0,)),
               doc="Applies an activation function element-wise to the input."))
register(OpDef("_backward_Activation", params=dict(_ACT), arguments=("ograd", "input"), outputs=("data_grad",),
               infer_shape=same_shape_rule, infer_type=float_only("_backward_Activation"), inplace=((0, 0), (1, 0)),
               gradient=_activation_backward_grad, cpu=cpu.backward_activation,
               per_sample=lambda p, t: ((0, 1), (0,)),
               doc="Backward of Activation (internal)."))

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


register(OpDef("_backward_LeakyReLU", params=dict(_LEAKY),
               arguments=lambda p: ["ograd", "data", "output"] + (["gamma"] if p.act_type == "prelu" else
                                                                  ["mask"] if p.act_type == "rrelu" else []),
               outputs=lambda p: ["data_grad"] + (["gamma_grad"] if p.act_type == "prelu" else []),
               infer_shape=_leaky_backward_shape, infer_type=float_only("_backward_LeakyReLU"),
               cpu=cpu.backward_leaky_relu, doc="Backward of LeakyReLU (internal)."))
