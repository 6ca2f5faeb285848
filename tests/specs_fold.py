"""Op spec rows for ops/fold.py (the inference folding pass's internal ops); see tests/op_specs.py. The reference
of `_fold_bn_scale` is BatchNorm's inference formula rewritten per output channel, in float64; that of
`_conv_fused` is the convolution of tests/reference_conv.py, times scale plus shift (or plus bias), then its
activation as numpy formulas of the ops it stands for: relu, clip (MXNet's order: above a_max first), LeakyReLU's
leaky (float64 only here: its float32 kernel is Convolution's, checked in tests/test_conv_paths.py).
That the folded graph equals Convolution -> BatchNorm -> Activation is checked end to end in tests/test_folding.py.
Import tests.op_specs, never this module first.
"""
import numpy as np
from hypothesis import strategies as st

from tests import reference_conv as R
from tests.op_specs import OpSpec, Shp, array
from tests.specs_conv import conv_sample


def fold_reference(p, *inputs):
    dtype = np.asarray(inputs[-4]).dtype          # gamma's
    inputs = [np.asarray(a, np.float64) for a in inputs]
    bias = 0.0 if p.no_bias else inputs.pop(0)
    gamma, beta, mean, var = inputs
    scale = (1.0 if p.fix_gamma else gamma) / np.sqrt(var + p.eps)
    scale = np.broadcast_to(scale, gamma.shape)
    return scale.astype(dtype), ((bias - mean) * scale + beta).astype(dtype)


def fold_sample(draw, dtype):
    channel = (draw(st.integers(1, 4)),)
    attrs = {"no_bias": draw(st.booleans()), "fix_gamma": draw(st.booleans()),
             "eps": draw(st.sampled_from([1e-5, 1e-3, 0.5]))}
    inputs = [] if attrs["no_bias"] else [array(draw, dtype, channel)]
    inputs += [array(draw, dtype, channel, "unit"), array(draw, dtype, channel), array(draw, dtype, channel),
               array(draw, dtype, channel, "nonneg")]
    return attrs, inputs


def fused_reference(p, x, w, *rest):
    y = R.convolution(p, x, w).astype(np.float64)
    per_channel = (1, -1) + (1,) * (y.ndim - 2)
    if p.scale_shift:
        y = y * np.asarray(rest[0], np.float64).reshape(per_channel) + np.asarray(rest[1], np.float64).reshape(
            per_channel)
    elif not p.no_bias:
        y = y + np.asarray(rest[0], np.float64).reshape(per_channel)
    return activation_reference(p, y).astype(x.dtype)


def activation_reference(p, y):
    if p.act_type == "relu":
        return np.maximum(y, 0)
    if p.act_type == "clip":
        return np.where(y > p.a_max, p.a_max, np.where(y < p.a_min, p.a_min, y))
    if p.act_type == "leaky":
        return np.where(y > 0, y, p.slope * y)
    return y


def fused_sample(draw, dtype):
    attrs, inputs = conv_sample(draw, dtype)
    attrs["act_type"] = draw(st.sampled_from(["none", "relu", "clip", "leaky"]))
    if attrs["act_type"] == "clip":       # a_min > a_max now and then: MXNet's order decides
        attrs["a_min"], attrs["a_max"] = draw(st.sampled_from([(0.0, 6.0), (-0.5, 0.25), (0.3, -0.2)]))
    elif attrs["act_type"] == "leaky":
        attrs["slope"] = draw(st.sampled_from([0.1, 0.25, -0.5, 2.0]))
    if draw(st.booleans()):
        attrs.update(scale_shift=True, no_bias=True)
        channel = (attrs["num_filter"],)
        inputs = inputs[:2] + [array(draw, dtype, channel, "unit"), array(draw, dtype, channel, "unit")]
    return attrs, inputs


SPECS = [
    OpSpec("_conv_fused", fused_reference, fused_sample, dtypes=("float64",),
           shapes=(Shp({"kernel": (3, 3), "num_filter": 4}, ((2, 3, 5, 5), None, None), ((2, 4, 3, 3),),
                       want_ins=((2, 3, 5, 5), (4, 3, 3, 3), (4,))),
                   Shp({"kernel": (3, 3), "num_filter": 4, "scale_shift": True, "no_bias": True},
                       ((2, 3, 5, 5), None, None, None), ((2, 4, 3, 3),),
                       want_ins=((2, 3, 5, 5), (4, 3, 3, 3), (4,), (4,))))),
    OpSpec("_fold_bn_scale", fold_reference, fold_sample, dtypes=("float32", "float64"),
           tol={"float32": (1e-5, 1e-5), "float64": (1e-12, 1e-12)},
           attrs=(({"eps": "1e-05", "fix_gamma": "False", "no_bias": "True"},
                   {"eps": 1e-5, "fix_gamma": False, "no_bias": True}),),
           shapes=(Shp({}, (None, (4,), None, None, None), ((4,), (4,)), want_ins=((4,),) * 5),
                   Shp({"no_bias": True}, ((8,), None, None, None), ((8,), (8,)), want_ins=((8,),) * 4))),
]
