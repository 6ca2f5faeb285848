"""The optimizer update ops (`sgd_update`, `adam_update`, ...): one fused kernel per MXNet update rule.

Each op reads (weight, grad, states...) and returns the new weight; the optimizer calls it with `out=weight`, so
the update happens in place (the (weight, output) pair is declared in place). The optimizer states (momentum,
moments, ...) are MXNet's mutable inputs: here they are the OpDef's `aux` inputs, which the kernel updates in
place and the engine treats as written (a Symbol lists them as auxiliary states, as MXNet does). The kernels
(ops/cpu/update.py) reproduce MXNet 1.9.1's arithmetic; the formulas are in their comments.

Facts checked on MXNet 1.9.1 (fixtures in tests/fixtures/mxnet-1.9.1/optimizer/):
- every input has the weight's shape, except lamb_update_phase2's r1 and r2 (the norms, shape (1,));
- the mixed-precision ops (`mp_*`) take float16 (or any float) weight and grad and float32 states and master copy
  `weight32`; they compute in float32 and cast the result to the weight's dtype;
- the float params are C++ floats (float32), except ftml's epsilon (a double);
- `lazy_update` concerns row_sparse gradients only: the optimizers route those to dataflow/optimizer/sparse.py.
- `mp_nag_mom_update`'s momentum term reads the updated master weight (`nag_mom_update`'s reads the output,
  Note [NAG reads the output] in ops/cpu/update.py).
- `_adamw_update` / `_mp_adamw_update` (behind nd.contrib.adamw_update / mp_adamw_update) take rescale_grad as a
  float32 NDArray input, last, and skip the update when its first value is NaN, infinite or 0: MXNet then writes
  nothing at all; here the states stay and the result is the unchanged weight, stored as req says (the same for
  the optimizers' out=weight; a fresh output holds the weight rather than uninitialised memory). The fused
  `_multi_adamw_update` / `_multi_mp_adamw_update` group the moment updates differently (their kernel's comment).
Differs on purpose:
- MXNet 1.9.1's `mp_lamb_update_phase2` never writes `weight32`, so its mixed-precision LAMB keeps stepping from
  the first master copy; here the op updates `weight32` (the result, before the cast).
- MXNet 1.9.1's CPU `_adamw_update` also writes clip(rescale_grad * grad) back into `grad`, an input it does not
  declare mutable; here `grad` is left as it is.
- MXNet 1.9.1's `_multi_adamw_update` fails its type inference for float64 weights (whatever the states' dtype);
  here the non-mp multi op's states share the weight's dtype, as the single op's do, float64 included.
Layout: the registry lists aux inputs after the arguments. `mp_lamb_update_phase1` lists `weight32` and the AdamW
ops list `rescale_grad` as aux inputs after the states (MXNet: arguments they do not write), which keeps MXNet's
positional order. The multi AdamW ops interleave each weight's states with its read-only inputs: there the
states are arguments the kernel writes (`writes_arguments`), so a Symbol lists them as arguments (MXNet: auxiliary
states). Not registered: `multi_sgd_mom_update`, `multi_mp_sgd_update`, `multi_mp_sgd_mom_update` and the
`preloaded_*` forms (interleaved too; a follow-up can register them as the multi AdamW ops are).
"""
import ast

import numpy as np

from .cpu import update as cpu
from .elemwise import float_only, merge
from .errors import ParamError
from .registry import Bool, Field, Float, Int, OpDef, register, same_dtype

_F32 = np.dtype(np.float32)


class Floats(Field):
    """A tuple of floats (MXNet's `tuple of <float>`): `(0.1, 0.2)`, `[0.1]`, `"(0.1, 0.2)"`, `0.5`."""
    type_name = "tuple of <float>"

    def parse(self, value):
        if isinstance(value, str):
            value = ast.literal_eval(value.strip() or "()")
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            value = (value,)
        if isinstance(value, np.ndarray):
            value = value.tolist()
        return tuple(float(v) for v in value)

    def format(self, value):
        return "(%s)" % ",".join(repr(float(v)) for v in self.parse(value))


# ---- params -------------------------------------------------------------------------------------------------------
_LR = {"lr": Float(doc="Learning rate")}
_WD = {"wd": Float(0.0, "Weight decay augments the objective function with a regularization term that penalizes "
                        "large weights. The penalty scales with the square of the magnitude of each weight.")}
_RESCALE = {"rescale_grad": Float(1.0, "Rescale gradient to grad = rescale_grad*grad.")}
_CLIP = {"clip_gradient": Float(-1.0, "Clip gradient to the range of [-clip_gradient, clip_gradient] If "
                                      "clip_gradient <= 0, gradient clipping is turned off. "
                                      "grad = max(min(grad, clip_gradient), -clip_gradient).")}
_LAZY = {"lazy_update": Bool(True, "If true, lazy updates are applied if gradient's stype is row_sparse "
                                   "(dataflow/optimizer/sparse.py).")}
_MOMENTUM = {"momentum": Float(0.0, "The decay rate of momentum estimates at each epoch.")}
_SGD = {**_LR, **_WD, **_RESCALE, **_CLIP}
_CLIP_WEIGHTS = {"clip_weights": Float(-1.0, "Clip weights to the range of [-clip_weights, clip_weights] If "
                                             "clip_weights <= 0, weight clipping is turned off.")}


# ---- rules --------------------------------------------------------------------------------------------------------
def _like_weight(norms=(), scale=None):
    """Every input (but the (1,)-shaped norms at positions `norms`, and the scale) and the output have the weight's
    shape. `scale` (adamw's rescale_grad, at that position) may have any shape (its first value is read): (1,) when
    unknown."""
    def rule(p, in_shapes, out_shapes):
        ins, outs = list(in_shapes), list(out_shapes)
        shape = None
        for k, s in enumerate(ins + outs):
            if k not in norms and k != scale:
                shape = merge(shape, s)
        for k in norms:
            ins[k] = merge(ins[k], (1,))
        if scale is not None and ins[scale] is None:
            ins[scale] = (1,)
        if shape is None:
            return ins, outs
        return [ins[k] if k == scale else (1,) if k in norms else shape for k in range(len(ins))], [shape] * len(outs)
    return rule


def _mixed_types(name, n_like_weight, out_float32=False):
    """mp_* ops: the first n_like_weight inputs share the weight's float dtype, the rest are float32; the output
    is the weight's dtype (or float32)."""
    check = float_only(name, rule=lambda p, ins, outs: (ins, outs))

    def rule(p, in_types, out_types):
        ins, outs = list(in_types), list(out_types)
        head, _ = same_dtype(p, ins[:n_like_weight], [] if out_float32 else outs)
        ins = list(head) + [_F32] * (len(ins) - n_like_weight)
        if out_float32:
            outs = [_F32]
        else:
            outs = [head[0]] if head[0] is not None else outs
        return check(p, ins, outs)
    return rule


def _op(name, cpu_kernel, params, arguments, aux, doc, infer_type=None, infer_shape=None, inplace=((0, 0),)):
    register(OpDef(name, params=params, arguments=arguments, aux=aux, infer_shape=infer_shape or _like_weight(),
                   infer_type=infer_type or float_only(name), inplace=inplace, cpu=cpu_kernel, doc=doc))


# ---- SGD family -----------------------------------------------------------------------------------------------------
_op("sgd_update", cpu.sgd_update, {**_SGD, **_LAZY}, ("weight", "grad"), (),
    "Update function for Stochastic Gradient Descent (SGD) optimizer: "
    "weight = (1 - lr * wd) * weight - lr * clip(rescale_grad * grad).")
_op("sgd_mom_update", cpu.sgd_mom_update, {**_SGD, **_MOMENTUM, **_LAZY}, ("weight", "grad"), ("mom",),
    "Momentum update function for SGD: mom = momentum * mom - lr * (wd * weight + clip(rescale_grad * grad)); "
    "weight += mom.")
_op("mp_sgd_update", cpu.mp_sgd_update, {**_SGD, **_LAZY}, ("weight", "grad"), ("weight32",),
    "Updater function for multi-precision sgd optimizer: sgd_update on the float32 master copy weight32, whose "
    "value (cast) is the result.", infer_type=_mixed_types("mp_sgd_update", 2))
_op("mp_sgd_mom_update", cpu.mp_sgd_mom_update, {**_SGD, **_MOMENTUM, **_LAZY}, ("weight", "grad"),
    ("mom", "weight32"), "Updater function for multi-precision sgd optimizer with momentum (float32 mom and "
                         "weight32).", infer_type=_mixed_types("mp_sgd_mom_update", 2))
_op("nag_mom_update", cpu.nag_mom_update, {**_SGD, **_MOMENTUM}, ("weight", "grad"), ("mom",),
    "Update function for Nesterov Accelerated Gradient (NAG) optimizer: with g = clip(rescale_grad * grad) + wd * "
    "weight, mom = momentum * mom - lr * g; weight += momentum * mom - lr * g.")
_op("mp_nag_mom_update", cpu.mp_nag_mom_update, {**_SGD, **_MOMENTUM}, ("weight", "grad"), ("mom", "weight32"),
    "Update function for multi-precision Nesterov Accelerated Gradient (NAG) optimizer.",
    infer_type=_mixed_types("mp_nag_mom_update", 2))
_op("signsgd_update", cpu.signsgd_update, dict(_SGD), ("weight", "grad"), (),
    "Update function for SignSGD optimizer: weight = (1 - lr * wd) * weight - lr * sign(grad).")
_op("signum_update", cpu.signum_update,
    {**_SGD, **_MOMENTUM, "wd_lh": Float(0.0, "The amount of weight decay that does not go into gradient/momentum "
                                              "calculations otherwise do weight decay algorithmically only.")},
    ("weight", "grad"), ("mom",),
    "SIGN momentUM (Signum) optimizer: mom = momentum * mom - (1 - momentum) * (wd * weight + grad); "
    "weight = (1 - lr * wd_lh) * weight + lr * sign(mom).")


def _multi_names(p):
    return [name % k for k in range(p.num_weights) for name in ("weight_%d", "grad_%d")]


def _multi_shape(p, in_shapes, out_shapes):
    ins, outs = list(in_shapes), list(out_shapes)
    for k in range(len(outs)):
        shape = merge(merge(ins[2 * k], ins[2 * k + 1]), outs[k])
        ins[2 * k] = ins[2 * k + 1] = outs[k] = shape
    return ins, outs


def _multi_type(p, in_types, out_types):
    ins, outs = list(in_types), list(out_types)
    for k in range(len(outs)):
        pair, out = float_only("multi_sgd_update")(p, ins[2 * k:2 * k + 2], [outs[k]])
        ins[2 * k:2 * k + 2], outs[k] = pair, out[0]
    return ins, outs


register(OpDef("multi_sgd_update", params={
    "lrs": Floats(doc="Learning rates."), "wds": Floats(doc="Weight decays."), **_RESCALE, **_CLIP,
    "num_weights": Int(1, "Number of updated weights.")},
    arguments=_multi_names, outputs=lambda p: ["output_%d" % k for k in range(p.num_weights)],
    infer_shape=_multi_shape, infer_type=_multi_type, cpu=cpu.multi_sgd_update,
    doc="SGD update of several weights at once (inputs weight_0, grad_0, weight_1, grad_1, ...), each with its "
        "own lr and wd: weight -= lr * wd * weight + lr * clip(rescale_grad * grad)."))


# ---- adaptive ------------------------------------------------------------------------------------------------------
_op("adam_update", cpu.adam_update,
    {**_LR, "beta1": Float(0.9, "The decay rate for the 1st moment estimates."),
     "beta2": Float(0.999, "The decay rate for the 2nd moment estimates."),
     "epsilon": Float(1e-8, "A small constant for numerical stability."), **_WD, **_RESCALE, **_CLIP, **_LAZY},
    ("weight", "grad"), ("mean", "var"),
    "Update function for Adam optimizer: g = clip(rescale_grad * grad + wd * weight); mean = beta1 * mean + "
    "(1 - beta1) * g; var = beta2 * var + (1 - beta2) * g^2; weight -= lr * mean / (sqrt(var) + epsilon).")
_op("rmsprop_update", cpu.rmsprop_update,
    {**_LR, "gamma1": Float(0.95, "The decay rate of momentum estimates."),
     "epsilon": Float(1e-8, "A small constant for numerical stability."), **_WD, **_RESCALE, **_CLIP,
     **_CLIP_WEIGHTS}, ("weight", "grad"), ("n",),
    "Update function for RMSProp optimizer (Tieleman & Hinton): n = (1 - gamma1) * g^2 + gamma1 * n; "
    "weight -= lr * g / sqrt(n + epsilon).")
_op("rmspropalex_update", cpu.rmspropalex_update,
    {**_LR, "gamma1": Float(0.95, "Decay rate."), "gamma2": Float(0.9, "Decay rate."),
     "epsilon": Float(1e-8, "A small constant for numerical stability."), **_WD, **_RESCALE, **_CLIP,
     **_CLIP_WEIGHTS}, ("weight", "grad"), ("n", "g", "delta"),
    "Update function for RMSPropAlex optimizer (Graves' centered RMSProp).")
_op("ftml_update", cpu.ftml_update,
    {**_LR, "beta1": Float(0.6, "Generally close to 0.5."), "beta2": Float(0.999, "Generally close to 1."),
     "epsilon": Float(1e-8, "Epsilon to prevent div 0."), "t": Int(doc="Number of update."), **_WD, **_RESCALE,
     "clip_grad": Float(-1.0, _CLIP["clip_gradient"].doc)},
    ("weight", "grad"), ("d", "v", "z"),
    "The FTML optimizer (Follow the Moving Leader): v = beta2 * v + (1 - beta2) * g^2; d_t = (1 - beta1^t) / lr "
    "* (sqrt(v / (1 - beta2^t)) + epsilon); z = beta1 * z + (1 - beta1) * g - (d_t - beta1 * d) * weight; "
    "weight = -z / d_t.")
_op("ftrl_update", cpu.ftrl_update,
    {**_LR, "lamda1": Float(0.01, "The L1 regularization coefficient."),
     "beta": Float(1.0, "Per-Coordinate Learning Rate beta."), **_WD, **_RESCALE, **_CLIP},
    ("weight", "grad"), ("z", "n"),
    "Update function for Ftrl optimizer: z += g - (sqrt(n + g^2) - sqrt(n)) * weight / lr; n += g^2; "
    "weight = (sign(z) * lamda1 - z) / ((beta + sqrt(n)) / lr + wd) * (|z| > lamda1).")


def _adagrad_shape(p, in_shapes, out_shapes):
    if p.wd != 0:
        raise ParamError("Operator not implemented: operator = _sparse_adagrad_update with wd = %g (MXNet's sparse "
                         "AdaGrad has no weight decay)" % p.wd)
    return _like_weight()(p, in_shapes, out_shapes)


# MXNet's sparse AdaGrad (mx.nd.sparse.adagrad_update): a row_sparse gradient updates only its rows
# (dataflow/optimizer/sparse.py). The dense kernel is the same rule over every row; without weight decay a zero
# gradient row changes nothing, so it equals the lazy update. MXNet 1.9.1 refuses all-dense inputs ("Operator
# not implemented", its storage inference): here they compute that rule.
_op("_sparse_adagrad_update", cpu.sparse_adagrad_update,
    {**_LR, "epsilon": Float(1e-7, "epsilon"), "wd": Float(0.0, "weight decay"), **_RESCALE, **_CLIP},
    ("weight", "grad"), ("history",),
    "Update function for AdaGrad optimizer: rescaled_grad = clip(grad * rescale_grad, clip_gradient); history = "
    "history + square(rescaled_grad); w = w - learning_rate * rescaled_grad / sqrt(history + epsilon). Non-zero "
    "values for the weight decay option are not supported.", infer_shape=_adagrad_shape)

_LAMB1 = {"beta1": Float(0.9, "The decay rate for the 1st moment estimates."),
          "beta2": Float(0.999, "The decay rate for the 2nd moment estimates."),
          "epsilon": Float(1e-6, "A small constant for numerical stability."),
          "t": Int(doc="Index update count."), "bias_correction": Bool(True, "Whether to use bias correction."),
          "wd": Float(doc=_WD["wd"].doc), **_RESCALE, **_CLIP}
_LAMB2 = {**_LR, "lower_bound": Float(-1.0, "Lower limit of norm of weight. If lower_bound <= 0, Lower limit is not "
                                            "set"),
          "upper_bound": Float(-1.0, "Upper limit of norm of weight. If upper_bound <= 0, Upper limit is not set")}
_op("lamb_update_phase1", cpu.lamb_update_phase1, _LAMB1, ("weight", "grad"), ("mean", "var"),
    "Phase I of lamb update: updates mean and var as Adam does (the gradient without weight decay) and returns "
    "g = mean^ / (sqrt(var^) + epsilon) + wd * weight (mean^, var^ bias corrected when asked).", inplace=())
_op("mp_lamb_update_phase1", cpu.mp_lamb_update_phase1, _LAMB1, ("weight", "grad"), ("mean", "var", "weight32"),
    "Mixed precision phase I of lamb update: lamb_update_phase1 on the float32 master copy weight32 (a float32 g).",
    infer_type=_mixed_types("mp_lamb_update_phase1", 2, out_float32=True), inplace=())
_op("lamb_update_phase2", cpu.lamb_update_phase2, _LAMB2, ("weight", "g", "r1", "r2"), (),
    "Phase II of lamb update: with r1 = ||weight|| (bounded by lower_bound and upper_bound when they are > 0) "
    "and r2 = ||g||, weight -= lr * r1 / r2 * g (lr alone when r1 or r2 is 0).",
    infer_shape=_like_weight(norms=(2, 3)))


_op("mp_lamb_update_phase2", cpu.mp_lamb_update_phase2, _LAMB2, ("weight", "g", "r1", "r2"), ("weight32",),
    "Mixed precision phase II of lamb update: updates the float32 master copy weight32 and returns it cast to "
    "the weight's dtype.", infer_type=_mixed_types("mp_lamb_update_phase2", 1), infer_shape=_like_weight(norms=(2, 3)))


# ---- AdamW (MXNet's contrib/adamw.cc: `_adamw_update`, `_mp_adamw_update`) -------------------------------------------
_ADAMW = {**_LR, "beta1": Float(0.9, "The decay rate for the 1st moment estimates."),
          "beta2": Float(0.999, "The decay rate for the 2nd moment estimates."),
          "epsilon": Float(1e-8, "A small constant for numerical stability."), **_WD,
          "eta": Float(doc="Learning rate schedule multiplier"), **_CLIP}
_ADAMW_DOC = ("m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g^2; w -= eta * (lr * m / (sqrt(v) + "
              "epsilon) + wd * w), with g = clip(rescale_grad * grad) (weight decay decoupled from the gradient, "
              "unlike adam_update). rescale_grad is an NDArray (its first value is read); if it is NaN, Inf, or 0, "
              "the update is skipped.")
_op("_adamw_update", cpu.adamw_update, _ADAMW, ("weight", "grad"), ("mean", "var", "rescale_grad"),
    "Update function for AdamW optimizer: " + _ADAMW_DOC,
    infer_type=_mixed_types("_adamw_update", 4), infer_shape=_like_weight(scale=4))
_op("_mp_adamw_update", cpu.mp_adamw_update, _ADAMW, ("weight", "grad"), ("mean", "var", "weight32", "rescale_grad"),
    "Update function for multi-precision AdamW optimizer: the AdamW update of the float32 master copy weight32 "
    "(float32 mean and var), whose value cast to the weight's dtype is the result. " + _ADAMW_DOC,
    infer_type=_mixed_types("_mp_adamw_update", 2), infer_shape=_like_weight(scale=5))



def _multi_adamw(name, cpu_kernel, mixed):
    """MXNet's fused multi-weight AdamW: inputs (weight, grad, mean, var[, weight32]) per weight, then rescale_grad;
    one output per weight. The states are interleaved with the read-only inputs, so they are arguments the kernel
    writes (`writes_arguments`) rather than aux inputs."""
    group = ("weight_%d", "grad_%d", "mean_%d", "var_%d") + (("weight32_%d",) if mixed else ())
    stride = len(group)

    def names(p):
        return [n % k for k in range(p.num_weights) for n in group] + ["rescale_grad"]

    def written(p):
        return [n % k for k in range(p.num_weights) for n in group[2:]]

    def check_lists(p):
        for key in ("lrs", "wds", "etas"):
            if len(getattr(p, key)) != p.num_weights:
                raise ParamError("%s: %s has %d values, expected num_weights = %d"
                                 % (name, key, len(getattr(p, key)), p.num_weights))

    def shape_rule(p, in_shapes, out_shapes):
        check_lists(p)
        ins, outs = list(in_shapes), list(out_shapes)
        for k in range(p.num_weights):
            shape = outs[k]
            for s in ins[stride * k:stride * (k + 1)]:
                shape = merge(shape, s)
            if shape is not None:
                ins[stride * k:stride * (k + 1)] = [shape] * stride
                outs[k] = shape
        if ins[-1] is None:
            ins[-1] = (1,)
        return ins, outs

    weight_like = 2 if mixed else 4        # (weight, grad) or (weight, grad, mean, var) share the weight's dtype
    check = float_only(name, rule=lambda p, ins, outs: (ins, outs))

    def type_rule(p, in_types, out_types):
        ins, outs = list(in_types), list(out_types)
        for k in range(p.num_weights):
            head, out = same_dtype(p, ins[stride * k:stride * k + weight_like], [outs[k]])
            ins[stride * k:stride * (k + 1)] = list(head) + [_F32] * (stride - weight_like)
            outs[k] = out[0]
        ins[-1] = _F32
        return check(p, ins, outs)

    register(OpDef(name, params={
        "lrs": Floats(doc="Learning rates"), **{k: _ADAMW[k] for k in ("beta1", "beta2", "epsilon")},
        "wds": Floats(doc=_WD["wd"].doc), "etas": Floats(doc="Learning rates schedule multiplier"), **_CLIP,
        "num_weights": Int(1, "Number of updated weights.")},
        arguments=names, outputs=lambda p: ["output_%d" % k for k in range(p.num_weights)],
        writes_arguments=written, infer_shape=shape_rule, infer_type=type_rule, cpu=cpu_kernel,
        doc="%sAdamW update of several weights at once (inputs weight_0, grad_0, mean_0, var_0, %s... then "
            "rescale_grad), each with its own lr, wd and eta. MXNet's fused kernel groups the moments as "
            "mean = beta1 * (mean - g) + g and var = beta2 * (var - g^2) + g^2. " % (
                "Multi-precision " if mixed else "", "weight32_0, " if mixed else "") + _ADAMW_DOC))


_multi_adamw("_multi_adamw_update", cpu.multi_adamw_update, mixed=False)
_multi_adamw("_multi_mp_adamw_update", cpu.multi_mp_adamw_update, mixed=True)
