"""Op spec rows for ops/detection.py; see tests/op_specs.py. References: tests/reference_detection.py.

Golden shapes, dtypes and error cases were checked on MXNet 1.9.1; its exact numbers and gradients are compared
with its fixture in tests/test_detection.py. Gradients are checked here for the data of ROIAlign and PSROIPooling
(both linear in it); MultiBoxPrior and MultiBoxTarget have none (MXNet's are zero). Import tests.op_specs, never
this module first (op_specs appends these rows at its end).
"""
import numpy as np
from hypothesis import strategies as st

from ops.errors import DTypeError, ParamError
from tests import reference_deformable as RD
from tests import reference_detection as R
from tests.op_specs import Err, OpSpec, Shp, array

_F = ("float32", "float64")
_TOL = {"float32": (1e-5, 1e-5), "float64": (1e-10, 1e-10)}


def prior_sample(draw, dtype):
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    attrs = {}
    if draw(st.booleans()):
        attrs["sizes"] = tuple(draw(st.lists(st.sampled_from([0.1, 0.25, 0.5, 0.9]), min_size=1, max_size=3)))
    if draw(st.booleans()):
        attrs["ratios"] = tuple(draw(st.lists(st.sampled_from([1.0, 2.0, 0.5, 3.0]), min_size=1, max_size=3)))
    if draw(st.booleans()):
        attrs["clip"] = draw(st.booleans())
    if draw(st.booleans()):
        attrs["steps"] = draw(st.sampled_from([(-1.0, -1.0), (0.1, 0.2), (0.3, 0.3)]))
    if draw(st.booleans()):
        attrs["offsets"] = draw(st.sampled_from([(0.5, 0.5), (0.0, 1.0), (0.2, 0.7)]))
    return attrs, [np.zeros(shape, dtype)]


def _boxes(draw, n):
    corners = draw(st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.3, 0.5, 0.6, 0.8, 1.0]), min_size=4 * n,
                            max_size=4 * n))
    b = np.array(corners, np.float64).reshape(n, 4)
    lo, hi = np.minimum(b[:, :2], b[:, 2:]), np.maximum(b[:, :2], b[:, 2:])
    return np.concatenate([lo, np.maximum(hi, lo + 0.05)], axis=1)


def target_sample(draw, dtype):
    n_anchors, batch, classes = draw(st.integers(1, 8)), draw(st.integers(1, 2)), draw(st.integers(2, 3))
    anchors = _boxes(draw, n_anchors)[None]
    n_labels = draw(st.integers(1, 3))
    label = np.full((batch, n_labels, 5), -1.0)
    for b in range(batch):
        valid = draw(st.integers(0, n_labels))
        label[b, :valid, 0] = draw(st.lists(st.integers(0, 2), min_size=valid, max_size=valid))
        label[b, :valid, 1:] = _boxes(draw, valid)
    cls_pred = array(draw, dtype, (batch, classes, n_anchors), "unit")
    attrs = draw(st.sampled_from([{}, {"overlap_threshold": 0.3}, {"overlap_threshold": 0.0, "ignore_label": -2},
                                  {"variances": (0.2, 0.2, 0.1, 0.1)}]))
    return attrs, [anchors.astype(dtype), label.astype(dtype), cls_pred]


def align_sample(draw, dtype):
    n, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    ph, pw = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    ps = draw(st.booleans())
    c = ph * pw * draw(st.integers(1, 2)) if ps else draw(st.integers(1, 2))
    aligned = draw(st.booleans())
    coord = st.sampled_from([-3.0, -0.5, 0.0, 0.7, 1.5, 2.2, 4.0, 6.5])
    rois = []
    for _ in range(draw(st.integers(1, 3))):
        x1, y1, x2, y2 = (draw(coord) for _ in range(4))
        if aligned:             # aligned rois must not be empty
            x1, x2, y1, y2 = min(x1, x2), max(x1, x2) + 0.5, min(y1, y2), max(y1, y2) + 0.5
        rois.append([draw(st.sampled_from(list(range(n)) + [-1])), x1, y1, x2, y2])
    attrs = {"pooled_size": (ph, pw), "spatial_scale": draw(st.sampled_from([1.0, 0.5, 0.8])),
             "sample_ratio": draw(st.sampled_from([-1, 0, 1, 2])), "position_sensitive": ps, "aligned": aligned}
    return attrs, [array(draw, dtype, (n, c, h, w), "unit"), np.array(rois, dtype)]


def psroi_sample(draw, dtype):
    n, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 6)), draw(st.integers(1, 6))
    size, dims = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    group = draw(st.sampled_from([0, size, 1, 2]))
    g = group or size
    coord = st.sampled_from([-2.0, 0.0, 0.4, 1.5, 2.5, 3.0, 7.0, 10.0])
    rois = [[draw(st.integers(0, n - 1))] + [draw(coord) for _ in range(4)] for _ in range(draw(st.integers(1, 3)))]
    attrs = {"spatial_scale": draw(st.sampled_from([1.0, 0.5, 0.6])), "output_dim": dims, "pooled_size": size}
    if group or draw(st.booleans()):
        attrs["group_size"] = group
    return attrs, [array(draw, dtype, (n, dims * g * g, h, w), "unit"), np.array(rois, dtype)]


def dcn_sample(draw, dtype):
    groups, dgroups = draw(st.sampled_from([(1, 1), (1, 2), (2, 1), (2, 2)]))
    c, f = 2 * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    stride, dilate = (draw(st.integers(1, 2)), 1), (1, draw(st.integers(1, 2)))
    pad = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    h, w = draw(st.integers(3, 5)), draw(st.integers(3, 5))
    oh = (h + 2 * pad[0] - dilate[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    ow = (w + 2 * pad[1] - dilate[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    no_bias = draw(st.booleans())
    attrs = {"kernel": kernel, "stride": stride, "dilate": dilate, "pad": pad, "num_filter": f, "num_group": groups,
             "num_deformable_group": dgroups, "no_bias": no_bias}
    # offsets away from whole pixels: the sample is smooth there (finite differences need that)
    offset = np.array(draw(st.lists(st.sampled_from([-1.3, -0.6, -0.2, 0.3, 0.7, 1.4, 2.6]),
                                    min_size=2 * kernel[0] * kernel[1] * dgroups * oh * ow,
                                    max_size=2 * kernel[0] * kernel[1] * dgroups * oh * ow)))
    inputs = [array(draw, dtype, (1, c, h, w), "unit"),
              offset.reshape(1, 2 * kernel[0] * kernel[1] * dgroups, oh, ow).astype(dtype),
              array(draw, dtype, (f, c // groups) + kernel, "unit")]
    return attrs, inputs + ([] if no_bias else [array(draw, dtype, (f,), "unit")])


_ALIGN = {"pooled_size": (2, 2), "spatial_scale": 1.0}
_PS = {"spatial_scale": 0.5, "output_dim": 2, "pooled_size": 3}

SPECS = [
    OpSpec("_contrib_MultiBoxPrior", R.multibox_prior, prior_sample, dtypes=("float32",),
           attrs=(({"sizes": "(0.5, 0.25)", "ratios": "[1, 2]", "clip": "True", "steps": "(-1, -1)"},
                   {"sizes": (0.5, 0.25), "ratios": (1.0, 2.0), "clip": True, "steps": (-1.0, -1.0),
                    "offsets": (0.5, 0.5)}),),
           errors=(Err({}, ((1, 2, 2),), match=r"4-D.*\[1,2,2\]"),
                   Err({}, dtypes=("float64",), exc=DTypeError, match="float64"),
                   Err({"offsets": (0.5, 1.5)}, ((1, 1, 2, 2),), exc=ParamError, match="offsets"),
                   Err({"steps": (0.1,)}, ((1, 1, 2, 2),), exc=ParamError, match="steps")),
           shapes=(Shp({"sizes": (0.5, 0.25, 0.1), "ratios": (1, 2)}, ((2, 3, 4, 5),), ((1, 80, 4),)),
                   Shp({}, ((2, 3, 4, 5, 6),), ((1, 20, 4),)))),
    OpSpec("_contrib_MultiBoxTarget", R.multibox_target, target_sample, dtypes=("float32",), tol=_TOL,
           attrs=(({"overlap_threshold": "0.4", "variances": "(0.1, 0.1, 0.2, 0.2)",
                    "minimum_negative_samples": "3"},
                   {"overlap_threshold": 0.4, "ignore_label": -1.0, "negative_mining_ratio": -1.0,
                    "negative_mining_thresh": 0.5, "minimum_negative_samples": 3,
                    "variances": (0.1, 0.1, 0.2, 0.2)}),),
           errors=(Err({}, ((2, 8, 4), (2, 3, 5), (2, 3, 8)), match=r"anchor.*\[2,8,4\]"),
                   Err({}, ((1, 8, 4), (2, 3, 4), (2, 3, 8)), match=r"label.*\[2,3,4\].*5 columns"),
                   Err({}, ((1, 8, 4), (2, 3), (2, 3, 8)), match=r"label.*3-D"),
                   Err({"variances": (0.1, 0.2)}, ((1, 8, 4), (2, 3, 5), (2, 3, 8)), exc=ParamError,
                       match="variances"),
                   Err({}, dtypes=("float64", None, None), exc=DTypeError, match="float64")),
           shapes=(Shp({}, ((1, 8, 4), (2, 3, 5), (2, 4, 8)), ((2, 32), (2, 32), (2, 8))),
                   Shp({}, ((1, 8, 4), (2, 3, 6), None), ((2, 32), (2, 32), (2, 8)),
                       want_ins=((1, 8, 4), (2, 3, 6), (2, 0, 8))))),
    OpSpec("_contrib_ROIAlign", R.roi_align, align_sample, dtypes=_F, tol=_TOL, grad=True, grad_inputs=("data",),
           attrs=(({"pooled_size": "(2, 3)", "spatial_scale": "0.5", "aligned": "True"},
                   {"pooled_size": (2, 3), "spatial_scale": 0.5, "sample_ratio": -1, "position_sensitive": False,
                    "aligned": True}),),
           errors=(Err(_ALIGN, ((2, 3, 8, 8), (5, 4)), match=r"rois.*\[5,4\].*5 columns"),
                   Err(_ALIGN, ((2, 3, 8), (5, 5)), match=r"data.*4-D.*\[2,3,8\]"),
                   Err(_ALIGN, ((2, 3, 8, 8), (5,)), match=r"rois.*2-D.*\[5\]"),
                   Err(dict(_ALIGN, position_sensitive=True), ((2, 6, 8, 8), (5, 5)), match=r"multiple of.*4"),
                   Err({"pooled_size": (2,), "spatial_scale": 1.0}, ((2, 3, 8, 8), (5, 5)), match="pooled_size"),
                   Err({"pooled_size": (2, 2)}, exc=ParamError, match="spatial_scale"),
                   Err(_ALIGN, dtypes=("int32", None), exc=DTypeError, match="int32")),
           shapes=(Shp(_ALIGN, ((2, 3, 8, 8), (5, 5)), ((5, 3, 2, 2),)),
                   Shp(dict(_ALIGN, position_sensitive=True), ((2, 8, 8, 8), (5, 5)), ((5, 2, 2, 2),)),
                   Shp(_ALIGN, ((2, 3, 8, 8), None), ((0, 3, 2, 2),), want_ins=((2, 3, 8, 8), (0, 5))))),
    OpSpec("_contrib_PSROIPooling", R.psroi_pooling, psroi_sample, dtypes=_F, tol=_TOL, grad=True,
           grad_inputs=("data",),
           attrs=(({"spatial_scale": "0.0625", "output_dim": "21", "pooled_size": "7"},
                   {"spatial_scale": 0.0625, "output_dim": 21, "pooled_size": 7, "group_size": 0}),),
           errors=(Err(_PS, ((1, 18, 5, 5), (2, 4)), match=r"rois.*\[2,4\].*5 columns"),
                   Err(_PS, ((1, 18, 5), (2, 5)), match=r"data.*4-D"),
                   Err(_PS, ((1, 17, 5, 5), (2, 5)), match=r"\[1,17,5,5\].*fewer channels.*18"),
                   Err(dict(_PS, spatial_scale=2.0), ((1, 18, 5, 5), (2, 5)), exc=ParamError,
                       match="spatial_scale"),
                   Err({"spatial_scale": 0.5, "pooled_size": 3}, exc=ParamError, match="output_dim"),
                   Err(_PS, dtypes=("int32", None), exc=DTypeError, match="int32")),
           shapes=(Shp(_PS, ((1, 18, 5, 5), (2, 5)), ((2, 2, 3, 3),)),        # [2, 2, 3, 3]: MXNet 1.9.1
                   Shp(_PS, (None, (4, 5)), ((4, 2, 3, 3),)))),
]

_DCN = {"kernel": (3, 3), "pad": (1, 1), "num_filter": 4}
SPECS.append(
    OpSpec("_contrib_DeformableConvolution", R.deformable_convolution, dcn_sample, dtypes=_F, tol=_TOL, grad=True,
           attrs=(({"kernel": "(3, 3)", "num_filter": "8", "num_deformable_group": "2", "no_bias": "True"},
                   {"kernel": (3, 3), "stride": (), "dilate": (), "pad": (), "num_filter": 8, "num_group": 1,
                    "num_deformable_group": 2, "workspace": 1024, "no_bias": True, "layout": None}),),
           errors=(Err(_DCN, ((2, 4, 5), None, None, None), match=r"data.*4-D.*\[2,4,5\]"),
                   Err(dict(_DCN, num_group=3), ((2, 4, 5, 6), None, None, None), match=r"num_group 3"),
                   Err({"kernel": (3,), "num_filter": 4}, ((2, 4, 5, 6), None, None, None), exc=ParamError,
                       match="2-D"),
                   Err({"kernel": (3, 3)}, exc=ParamError, match="num_filter"),
                   Err(_DCN, dtypes=("int32", None, None, None), exc=DTypeError, match="int32")),
           shapes=(Shp(_DCN, ((2, 4, 5, 6), None, None, None), ((2, 4, 5, 6),),
                       want_ins=((2, 4, 5, 6), (2, 18, 5, 6), (4, 4, 3, 3), (4,))),
                   Shp(dict(kernel=(3, 2), stride=(2, 1), dilate=(1, 2), pad=(1, 0), num_filter=4, num_group=2,
                            num_deformable_group=2, no_bias=True), ((1, 4, 7, 6), None, None), ((1, 4, 4, 4),),
                       want_ins=((1, 4, 7, 6), (1, 24, 4, 4), (4, 2, 3, 2))))))



def mdcn_sample(draw, dtype):
    """DCNv2: dcn_sample's case plus a mask per tap; its offsets keep every tap off whole pixels and off -1."""
    attrs, inputs = dcn_sample(draw, dtype)
    n, _, oh, ow = inputs[1].shape
    mask = array(draw, dtype, (n, inputs[1].shape[1] // 2, oh, ow), "unit")
    return attrs, inputs[:2] + [mask] + inputs[2:]


# reference: tests/reference_deformable.py; MXNet's outputs: tests/test_deformable.py (MXNet 1.9.1 has no CPU
# gradient for this op, so the numeric gradients checked here are the only truth for ours)
SPECS.append(
    OpSpec("_contrib_ModulatedDeformableConvolution", RD.modulated_deformable_convolution, mdcn_sample, dtypes=_F,
           tol=_TOL, grad=True,
           errors=(Err(_DCN, ((2, 4, 5), None, None, None, None), match=r"data.*4-D.*\[2,4,5\]"),
                   Err(dict(_DCN, im2col_step=2), ((3, 4, 5, 6), None, None, None, None), match="im2col_step"),
                   Err(_DCN, dtypes=("int32", None, None, None, None), exc=DTypeError, match="int32")),
           shapes=(Shp(_DCN, ((2, 4, 5, 6), None, None, None, None), ((2, 4, 5, 6),),
                       want_ins=((2, 4, 5, 6), (2, 18, 5, 6), (2, 9, 5, 6), (4, 4, 3, 3), (4,))),)))

EXEMPT = {name: "internal to %s's gradient; checked through it (tests/test_gradients.py, MXNet's fixture in "
                "tests/test_detection.py)" % name[len("_backward_"):]
          for name in ("_backward_ROIAlign", "_backward__contrib_PSROIPooling",
                       "_backward__contrib_DeformableConvolution", "_backward__contrib_ModulatedDeformableConvolution")}
