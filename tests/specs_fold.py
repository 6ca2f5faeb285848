"""Op spec rows for ops/fold.py (the inference folding pass's internal ops); see tests/op_specs.py. The reference
is BatchNorm's inference formula rewritten per output channel, in float64; that the folded convolution equals
Convolution -> BatchNorm is checked end to end in tests/test_folding.py. Import tests.op_specs, never this module
first.
"""
import numpy as np
from hypothesis import strategies as st

from tests.op_specs import Err, OpSpec, Shp, array


def fold_reference(p, weight, *rest):
    rest = [np.asarray(a, np.float64) for a in rest]
    bias = 0.0 if p.no_bias else rest.pop(0)
    gamma, beta, mean, var = rest
    scale = (1.0 if p.fix_gamma else gamma) / np.sqrt(var + p.eps)
    per_channel = scale.reshape((-1,) + (1,) * (weight.ndim - 1))
    return ((weight.astype(np.float64) * per_channel).astype(weight.dtype),
            ((bias - mean) * scale + beta).astype(weight.dtype))


def fold_sample(draw, dtype):
    out_channels = draw(st.integers(1, 4))
    weight_shape = (out_channels, draw(st.integers(1, 3))) + tuple(draw(st.lists(st.integers(1, 3), min_size=0,
                                                                                  max_size=2)))
    attrs = {"no_bias": draw(st.booleans()), "fix_gamma": draw(st.booleans()),
             "eps": draw(st.sampled_from([1e-5, 1e-3, 0.5]))}
    channel = (out_channels,)
    inputs = [array(draw, dtype, weight_shape, "unit")] + ([] if attrs["no_bias"] else [array(draw, dtype, channel)])
    inputs += [array(draw, dtype, channel, "unit"), array(draw, dtype, channel), array(draw, dtype, channel),
               array(draw, dtype, channel, "nonneg")]
    return attrs, inputs


SPECS = [
    OpSpec("_fold_bn_weights", fold_reference, fold_sample, dtypes=("float32", "float64"),
           tol={"float32": (1e-5, 1e-5), "float64": (1e-12, 1e-12)},
           attrs=(({"eps": "1e-05", "fix_gamma": "False", "no_bias": "True"},
                   {"eps": 1e-5, "fix_gamma": False, "no_bias": True}),),
           errors=(Err({}, ((4, 2, 3, 3), (3,), None, None, None, None), match=r"4 output channels"),),
           shapes=(Shp({}, ((4, 2, 3, 3), None, None, None, None, None), ((4, 2, 3, 3), (4,)),
                       want_ins=((4, 2, 3, 3), (4,), (4,), (4,), (4,), (4,))),
                   Shp({"no_bias": True}, ((8, 1, 3), (8,), None, None, None), ((8, 1, 3), (8,)),
                       want_ins=((8, 1, 3), (8,), (8,), (8,), (8,))))),
]
