"""Op spec rows for ops/boxes.py; see tests/op_specs.py. References: tests/reference_boxes.py.

Golden shapes and error cases were checked on MXNet 1.9.1; its exact outputs (and box_nms's gradient) are compared
with its fixtures in tests/test_boxes.py. Coordinates lie on a grid of 1/8 and thresholds are dyadic, so float32,
float64 and the references agree on every IoU comparison; scores repeat, so ties are drawn. Gradients: box_nms's
is MXNet's scatter (not the derivative of a format conversion), checked against MXNet in tests/test_boxes.py; the
others are zero, as MXNet's. Import tests.op_specs, never this module first (op_specs appends these rows).
"""
import numpy as np
from hypothesis import strategies as st

from ops.errors import ParamError
from tests import reference_boxes as R
from tests.op_specs import BAD_INT, Err, OpSpec, Shp

_F = ("float32", "float64")
_TOL = {"float32": (1e-5, 1e-5), "float16": (1e-3, 1e-3)}
_GRID = st.integers(0, 16).map(lambda k: k / 8)           # coordinates in [0, 2] on a grid of 1/8
_THRESH = st.sampled_from([0.0, 0.25, 0.5, 0.75])


def _boxes(draw, shape, center=False):
    """Boxes (shape + (4,)) on the grid: corner boxes mostly ordered, sometimes reversed (no area); center
    boxes of sizes >= 0."""
    values = np.array(draw(st.lists(_GRID, min_size=int(np.prod(shape)) * 4, max_size=int(np.prod(shape)) * 4)))
    boxes = values.reshape(shape + (4,))
    if not center and draw(st.integers(0, 3)):
        lo, hi = np.minimum(boxes[..., :2], boxes[..., 2:]), np.maximum(boxes[..., :2], boxes[..., 2:])
        boxes = np.concatenate([lo, hi], axis=-1)
    return boxes


# ---- box_nms ---------------------------------------------------------------------------------------------------
def nms_sample(draw, dtype):
    lead = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    n = draw(st.integers(1, 6))
    layout = draw(st.sampled_from([(6, 2, 1, 0), (7, 3, 0, 1)]))     # width, coord_start, score_index, id column
    width, coord_start, score_index, id_column = layout
    center = draw(st.booleans())
    attrs = {"overlap_thresh": draw(_THRESH), "in_format": "center" if center else "corner",
             "out_format": draw(st.sampled_from(["center", "corner"]))}
    if (coord_start, score_index) != (2, 1):
        attrs.update(coord_start=coord_start, score_index=score_index)
    if draw(st.booleans()):
        attrs["id_index"] = id_column
        attrs["force_suppress"] = draw(st.booleans())
        attrs["background_id"] = draw(st.sampled_from([-1, 0]))
    attrs.update(draw(st.fixed_dictionaries({}, optional={"valid_thresh": st.sampled_from([0.25, 0.5]),
                                                           "topk": st.sampled_from([-1, 1, 3])})))
    data = np.zeros(lead + (n, width))
    data[..., coord_start:coord_start + 4] = _boxes(draw, lead + (n,), center)
    data[..., score_index] = np.array(draw(st.lists(st.sampled_from([-0.5, 0.25, 0.5, 0.75, 1.0]),
                                                    min_size=data[..., 0].size, max_size=data[..., 0].size))
                                      ).reshape(lead + (n,))
    data[..., id_column] = np.array(draw(st.lists(st.integers(0, 2), min_size=data[..., 0].size,
                                                  max_size=data[..., 0].size))).reshape(lead + (n,))
    return attrs, [data.astype(dtype)]


# ---- box_iou, box_encode, box_decode -----------------------------------------------------------------------------
def iou_sample(draw, dtype):
    center = draw(st.booleans())
    lshape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    rshape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    attrs = {"format": "center"} if center else {}
    return attrs, [_boxes(draw, lshape, center).astype(dtype), _boxes(draw, rshape, center).astype(dtype)]


def _proper_boxes(draw, shape):
    """Corner boxes of positive size (encode and decode divide by sizes and take logs)."""
    corner = np.array(draw(st.lists(_GRID, min_size=int(np.prod(shape)) * 2, max_size=int(np.prod(shape)) * 2)))
    size = np.array(draw(st.lists(st.integers(1, 8).map(lambda k: k / 8), min_size=corner.size,
                                  max_size=corner.size)))
    corner, size = corner.reshape(shape + (2,)), size.reshape(shape + (2,))
    return np.concatenate([corner, corner + size], axis=-1)


def encode_sample(draw, dtype):
    b, n, m = draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    samples = np.array(draw(st.lists(st.sampled_from([-1.0, 0.0, 1.0]), min_size=b * n, max_size=b * n)))
    matches = np.array(draw(st.lists(st.integers(0, m - 1), min_size=b * n, max_size=b * n)))
    means = np.array(draw(st.lists(st.sampled_from([0.0, 0.1, -0.2]), min_size=4, max_size=4)))
    stds = np.array(draw(st.lists(st.sampled_from([0.1, 0.2, 1.0]), min_size=4, max_size=4)))
    return {}, [x.astype(dtype) for x in (samples.reshape(b, n), matches.reshape(b, n), _proper_boxes(draw, (b, n)),
                                          _proper_boxes(draw, (b, m)), means, stds)]


def decode_sample(draw, dtype):
    b, n = draw(st.integers(1, 2)), draw(st.integers(1, 4))
    deltas = np.array(draw(st.lists(st.floats(-2, 2), min_size=b * n * 4, max_size=b * n * 4))).reshape(b, n, 4)
    attrs = draw(st.fixed_dictionaries({}, optional={
        "format": st.sampled_from(["center", "corner"]), "clip": st.sampled_from([-1.0, 0.5, 1.5]),
        **{"std%d" % i: st.sampled_from([0.1, 0.2, 1.0]) for i in range(4)}}))
    return attrs, [deltas.astype(dtype), _proper_boxes(draw, (1, n)).astype(dtype)]


# ---- bipartite_matching ------------------------------------------------------------------------------------------
def matching_sample(draw, dtype):
    shape = tuple(draw(st.lists(st.integers(1, 2), max_size=1))) + (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    scores = np.array(draw(st.lists(st.integers(0, 8).map(lambda k: k / 8), min_size=int(np.prod(shape)),
                                    max_size=int(np.prod(shape))))).reshape(shape)
    attrs = {"threshold": draw(st.sampled_from([0.125, 0.5, 0.75])), "is_ascend": draw(st.booleans())}
    if draw(st.booleans()):
        attrs["topk"] = draw(st.sampled_from([-1, 1, 2]))
    return attrs, [scores.astype(dtype)]


# ---- MultiBoxDetection ---------------------------------------------------------------------------------------------
def detection_sample(draw, dtype):
    b, c, n = draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 6))
    prob = np.array(draw(st.lists(st.integers(0, 8).map(lambda k: k / 8), min_size=b * c * n, max_size=b * c * n)))
    loc = np.array(draw(st.lists(st.sampled_from([0.0, 0.0, 0.5, -1.0]), min_size=b * n * 4, max_size=b * n * 4)))
    loc.reshape(b, n, 4)[..., 2:] = 0      # sizes exp(0): exact boxes, so no IoU lands on a threshold by rounding
    attrs = draw(st.fixed_dictionaries({}, optional={
        "clip": st.booleans(), "threshold": st.sampled_from([0.125, 0.5]), "nms_threshold": _THRESH,
        "force_suppress": st.booleans(), "nms_topk": st.sampled_from([-1, 1, 3]),
        "variances": st.just((0.5, 0.5, 0.25, 0.25)), "background_id": st.just(1)}))
    anchors = _proper_boxes(draw, (1, n)) / 2 - 0.125
    return attrs, [prob.reshape(b, c, n).astype(dtype), loc.reshape(b, n * 4).astype(dtype), anchors.astype(dtype)]


# ---- Proposal, MultiProposal -----------------------------------------------------------------------------------------
def proposal_sample(batch):
    def sample(draw, dtype):
        b = draw(st.integers(1, 2)) if batch else 1
        scales, ratios = draw(st.sampled_from([(2.0,), (1.0, 2.0)])), draw(st.sampled_from([(1.0,), (0.5, 2.0)]))
        a, h, w = len(scales) * len(ratios), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        cls = np.array(draw(st.lists(st.integers(0, 64).map(lambda k: k / 64), min_size=b * 2 * a * h * w,
                                     max_size=b * 2 * a * h * w)))
        bbox = np.array(draw(st.lists(st.sampled_from([0.0, 0.25, -0.25, 0.5]), min_size=b * 4 * a * h * w,
                                      max_size=b * 4 * a * h * w)))
        iou_loss = draw(st.booleans())
        if not iou_loss:    # sizes exp(0): exact boxes, so no IoU lands on a threshold by rounding
            bbox.reshape(b, a, 4, h, w)[:, :, 2:] = 0
        info = [[draw(st.sampled_from([8.0, 12.0, 16.0])), draw(st.sampled_from([8.0, 12.0, 16.0])),
                 draw(st.sampled_from([0.5, 1.0]))] for _ in range(b)]
        attrs = {"scales": scales, "ratios": ratios, "feature_stride": 4, "rpn_min_size": draw(st.sampled_from([1, 4])),
                 "rpn_pre_nms_top_n": draw(st.sampled_from([-1, 5])), "rpn_post_nms_top_n": draw(st.integers(1, 6)),
                 "threshold": draw(st.sampled_from([0.25, 0.5, 0.75])), "output_score": draw(st.booleans()),
                 "iou_loss": iou_loss}
        return attrs, [cls.reshape(b, 2 * a, h, w).astype(dtype), bbox.reshape(b, 4 * a, h, w).astype(dtype),
                       np.array(info, dtype)]
    return sample


# ---- _backward_contrib_box_nms ---------------------------------------------------------------------------------
def _backward_nms_sample(draw, dtype):
    """An output gradient and a record as box_nms leaves it: distinct rows of each leading index (counted over all
    of them), then -1."""
    lead, n, width = tuple(draw(st.lists(st.integers(1, 2), max_size=1))), draw(st.integers(1, 5)), 6
    dy = np.array(draw(st.lists(st.floats(-2, 2), min_size=int(np.prod(lead)) * n * width,
                                max_size=int(np.prod(lead)) * n * width))).reshape(lead + (n, width))
    records = []
    for b in range(int(np.prod(lead))):
        kept = draw(st.permutations(range(n)))[:draw(st.integers(0, n))]
        records.append([b * n + i for i in kept] + [-1] * (n - len(kept)))
    return {}, [dy.astype(dtype), np.array(records, dtype).reshape(lead + (n, 1))]



SPECS = [
    OpSpec("_contrib_box_nms", R.box_nms, nms_sample, dtypes=_F + ("float16",), tol=_TOL,
           aliases=("_contrib_box_non_maximum_suppression",),
           attrs=(({"overlap_thresh": "0.7", "topk": "100", "id_index": "0", "force_suppress": "True",
                    "in_format": "center"},
                   {"overlap_thresh": 0.7, "topk": 100, "id_index": 0, "force_suppress": True, "in_format": "center",
                    "out_format": "corner"}),),
           errors=(Err({}, ((1, 3, 5),), match=r"coord_start=2 \.\. 5.*width 5"),
                   Err({"score_index": 6}, ((1, 3, 6),), match=r"score_index=6.*width 6"),
                   Err({"coord_start": 3}, ((1, 3, 6),), match=r"coord_start=3"),
                   Err({"id_index": 7}, ((3, 6),), match=r"id_index=7"),
                   Err({}, ((6,),), match=r"at least 2-D.*\[6\]"),
                   Err({"in_format": "xywh"}, exc=ParamError, match="xywh"),
                   BAD_INT),
           shapes=(Shp({}, ((2, 3, 7, 6),), ((2, 3, 7, 6),)), Shp({}, ((7, 6),), ((7, 6),)),
                   Shp({}, (None,), ((2, 7, 6),), outs=((2, 7, 6),), want_ins=((2, 7, 6),)))),   # ours: backward
    OpSpec("_backward_contrib_box_nms", lambda p, dy, record: R.backward_box_nms(dy, record),
           _backward_nms_sample, dtypes=_F,
           shapes=(Shp({}, ((2, 7, 6), None), ((2, 7, 6),), want_ins=((2, 7, 6), (2, 7, 1))),)),
    OpSpec("_contrib_box_iou", R.box_iou, iou_sample, dtypes=_F + ("float16",), tol=_TOL,
           attrs=(({"format": "center"}, {"format": "center"}),),
           errors=(Err({}, ((2, 3), (2, 4)), match=r"lhs \[2,3\].*4"), Err({}, ((2, 4), (5,)), match=r"rhs \[5\]"),
                   BAD_INT),
           shapes=(Shp({}, ((2, 2, 4), (3, 1, 4)), ((2, 2, 3, 1),)), Shp({}, ((4,), (3, 4)), ((3,),)))),
    OpSpec("_contrib_box_encode", R.box_encode, encode_sample, dtypes=_F, tol=_TOL,
           errors=(Err({}, ((2, 3), (2, 3), (2, 3, 5), (2, 4, 4), (4,), (4,)), match=r"anchors \[2,3,5\]"),
                   Err({}, ((2, 3, 1), (2, 3), None, None, None, None), match=r"samples.*2-D"),
                   Err({}, ((2, 3), (2, 3), (2, 3, 4), (2, 4, 4), (3,), (4,)), match=r"means \[3\]")),
           shapes=(Shp({}, ((2, 3), (2, 3), (2, 3, 4), (2, 5, 4), (4,), (4,)), ((2, 3, 4), (2, 3, 4))),)),
    OpSpec("_contrib_box_decode", R.box_decode, decode_sample, dtypes=_F, tol={"float32": (2e-5, 2e-5)},
           attrs=(({"std0": "0.1", "clip": "4.135", "format": "corner"},
                   {"std0": 0.1, "std1": 1.0, "clip": 4.135, "format": "corner"}),),
           errors=(Err({}, ((2, 5, 4), (2, 5, 4)), match=r"anchors \[2,5,4\].*\(1, N, 4\)"),
                   Err({}, ((2, 5, 3), (1, 5, 4)), match=r"data \[2,5,3\]"),
                   Err({}, ((2, 5, 4), (5, 4)), match=r"anchors.*3-D")),
           shapes=(Shp({}, ((2, 5, 4), (1, 5, 4)), ((2, 5, 4),)),
                   Shp({}, ((2, 5, 4), None), ((2, 5, 4),), want_ins=((2, 5, 4), (1, 5, 4))))),
    OpSpec("_contrib_bipartite_matching", R.bipartite_matching, matching_sample, dtypes=_F,
           attrs=(({"threshold": "0.5", "is_ascend": "1", "topk": "3"},
                   {"threshold": 0.5, "is_ascend": True, "topk": 3}),),
           errors=(Err({}, exc=ParamError, match="threshold"), Err({"threshold": 0.1}, ((5,),), match=r"2-D.*\[5\]")),
           shapes=(Shp({"threshold": 0.1}, ((2, 1, 4, 3),), ((2, 1, 4), (2, 1, 3))),)),
    OpSpec("_contrib_MultiBoxDetection", R.multibox_detection, detection_sample, dtypes=_F, tol=_TOL,
           aliases=("_npx_multibox_detection",),
           attrs=(({"variances": "(0.1, 0.1, 0.2, 0.2)", "clip": "False", "nms_topk": "400"},
                   {"variances": (0.1, 0.1, 0.2, 0.2), "clip": False, "nms_topk": 400}),),
           errors=(Err({}, ((2, 3, 6), (2, 20), (1, 6, 4)), match=r"loc_pred \[2,20\]"),
                   Err({}, ((2, 3, 6), (2, 24), (1, 5, 4)), match=r"anchor \[1,5,4\]"),
                   Err({"variances": (0.1, 0.2)}, ((2, 3, 6), (2, 24), (1, 6, 4)), match=r"variances"),
                   BAD_INT),
           shapes=(Shp({}, ((2, 3, 6), (2, 24), (1, 6, 4)), ((2, 6, 6),)),
                   Shp({}, ((2, 3, 6), None, None), ((2, 6, 6),), want_ins=((2, 3, 6), (2, 24), (1, 6, 4))))),
    OpSpec("_contrib_Proposal", R.proposal, proposal_sample(False), dtypes=("float32",), tol=_TOL,
           attrs=(({"scales": "(8, 16, 32)", "ratios": "(0.5, 1, 2)", "feature_stride": "16", "output_score": "True"},
                   {"scales": (8.0, 16.0, 32.0), "ratios": (0.5, 1.0, 2.0), "feature_stride": 16,
                    "output_score": True}),),
           errors=(Err({}, ((1, 20, 4, 5), None, None), match=r"cls_prob \[1,20,4,5\].*2 x 12"),
                   Err({}, ((2, 24, 4, 5), None, None), match=r"one"),
                   Err({}, ((1, 24, 4, 5), (1, 48, 4, 6), None), match=r"bbox_pred \[1,48,4,6\]"),
                   Err({}, ((1, 24, 4, 5), None, (1, 4)), match=r"im_info \[1,4\]"),
                   BAD_INT),
           shapes=(Shp({"rpn_post_nms_top_n": 7}, ((1, 24, 4, 5), None, None), ((7, 5),),
                       want_ins=((1, 24, 4, 5), (1, 48, 4, 5), (1, 3))),
                   Shp({"rpn_post_nms_top_n": 7, "output_score": True}, ((1, 24, 4, 5), None, None),
                       ((7, 5), (7, 1)), want_ins=((1, 24, 4, 5), (1, 48, 4, 5), (1, 3))))),
    OpSpec("_contrib_MultiProposal", R.proposal, proposal_sample(True), dtypes=("float32",), tol=_TOL,
           errors=(Err({}, ((2, 20, 4, 5), None, None), match=r"2 x 12"),),
           shapes=(Shp({"rpn_post_nms_top_n": 7}, ((2, 24, 4, 5), None, None), ((14, 5),),
                       want_ins=((2, 24, 4, 5), (2, 48, 4, 5), (2, 3))),)),
]
