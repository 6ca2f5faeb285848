"""Box operators of MXNet's contrib family: box_nms, box_iou, box_encode, box_decode, bipartite_matching,
MultiBoxDetection, Proposal and MultiProposal. Kernels: ops/cpu/boxes.py (one greedy NMS loop serves box_nms,
MultiBoxDetection and both Proposals).

Facts checked on MXNet 1.9.1 (native CPU; fixtures in tests/fixtures/mxnet-1.9.1/boxes/):
- box_nms: data (..., N, K), K >= coord_start + 4. Per leading index, the rows with score > valid_thresh (and,
  with id_index >= 0 and background_id >= 0, id != background_id), sorted by score with ties in input order, the
  first topk, greedy NMS: a kept box suppresses later boxes of its class (any class with force_suppress or without
  id_index) whose IoU exceeds overlap_thresh (an IoU equal to it does not suppress). Output: the kept rows, whole,
  coordinates converted to out_format, then rows of -1. A hidden second output (..., N, 1) records each output
  row's input row counted over all leading indices (b * N + i; -1 for padding), which a graph can read as entry 1;
  `_backward_contrib_box_nms` scatters the output gradient back through it, unconverted.
- IoU: intersection / union with widths clamped at 0, a box of negative width or height has area 0, and an empty
  union gives 0. box_iou of lhs (..., 4) and rhs (..., 4) is lhs.shape[:-1] + rhs.shape[:-1]; its gradient is 0.
- box_encode: samples > 0.5 are positive; targets of the others are 0, as their mask. box_decode takes anchors
  (1, N, 4) (MXNet reads only the first row of a larger batch and fails; refused here); box_encode, box_decode,
  bipartite_matching, MultiBoxDetection and the Proposals have zero gradients.
- bipartite_matching: pairs by score, best first (stable), matched while the score is > threshold (< with
  is_ascend); with topk > 0 MXNet stops after topk + 1 matches.
- MultiBoxDetection ignores background_id: class 0 is the background; a suppressed row keeps its score and box
  with class -1 (IoU >= nms_threshold suppresses); score >= threshold is valid.
- Proposal: one image (cls_prob batch 1), MultiProposal any batch; rois [image index, x1, y1, x2, y2] in image
  pixels; when NMS keeps fewer than rpn_post_nms_top_n boxes they repeat cyclically. Positions of the feature map
  outside im_info's image and boxes under rpn_min_size * scale get score -1 (the small ones also grow by
  rpn_min_size * scale / 2 a side).
"""
from .autodiff import apply, zeros_like
from .cpu import boxes as cpu
from .elemwise import float_only, fmt, merge
from .errors import ShapeError
from .registry import Bool, Enum, Float, Int, OpDef, register
from .update import Floats

_FORMAT_DOC = ('The {} box encoding type. \n "corner" means boxes are encoded as [xmin, ymin, xmax, ymax], "center" '
               'means boxes are encodes as [x, y, width, height].')


def _format(default, which):
    return Enum(("center", "corner"), default, _FORMAT_DOC.format(which).replace("  ", " "))


def _rank(op_name, what, shape, ndim, at_least=False):
    if shape is not None and (len(shape) < ndim if at_least else len(shape) != ndim):
        raise ShapeError("%s: %s must be %s%d-D, got %s" % (op_name, what, "at least " if at_least else "", ndim,
                                                           fmt(shape)))


def _last(op_name, what, shape, size):
    """shape with its last dimension `size`, or an error naming the input when it is known and differs."""
    if shape is None:
        return None
    if shape[-1] and shape[-1] != size:
        raise ShapeError("%s: the last dimension of %s %s must be %d, got %d" % (op_name, what, fmt(shape), size,
                                                                              shape[-1]))
    return tuple(shape[:-1]) + (size,)


def _zero_grads(p, ins, outs, dys):
    return [zeros_like(x) for x in ins]


# ---------------------------------------------------------------------------------------------------------------
# box_nms
# ---------------------------------------------------------------------------------------------------------------

_NMS = dict(
    overlap_thresh=Float(0.5, "Overlapping(IoU) threshold to suppress object with smaller score."),
    valid_thresh=Float(0.0, "Filter input boxes to those whose scores greater than valid_thresh."),
    topk=Int(-1, "Apply nms to topk boxes with descending scores, -1 to no restriction."),
    coord_start=Int(2, "Start index of the consecutive 4 coordinates."),
    score_index=Int(1, "Index of the scores/confidence of boxes."),
    id_index=Int(-1, "Optional, index of the class categories, -1 to disable."),
    background_id=Int(-1, "Optional, id of the background class which will be ignored in nms."),
    force_suppress=Bool(False, "Optional, if set false and id_index is provided, nms will only apply to boxes "
                               "belongs to the same category"),
    in_format=_format("corner", "input"),
    out_format=_format("corner", "output"))


def _check_layout(op_name, p, data):
    """MXNet's checks of the row layout against the known box width K of data (..., N, K)."""
    width = data[-1]
    if not 0 <= p.score_index < width:
        raise ShapeError("%s: score_index=%d is out of range of the box width %d of data %s"
                         % (op_name, p.score_index, width, fmt(data)))
    if p.coord_start < 0 or p.coord_start + 3 >= width:
        raise ShapeError("%s: coordinates coord_start=%d .. %d are out of range of the box width %d of data %s"
                         % (op_name, p.coord_start, p.coord_start + 3, width, fmt(data)))
    if p.id_index >= width:
        raise ShapeError("%s: id_index=%d is out of range of the box width %d of data %s"
                         % (op_name, p.id_index, width, fmt(data)))


def _nms_data_shape(op_name, p, data):
    _rank(op_name, "data (the last two dimensions are num_box and box_width)", data, 2, at_least=True)
    if data is not None and data[-1]:
        _check_layout(op_name, p, data)
    return data


# data (..., N, K) -> output (..., N, K), record (..., N, 1)
def _nms_shape(p, in_shapes, out_shapes):
    data = merge(_nms_data_shape("_contrib_box_nms", p, in_shapes[0]), out_shapes[0])
    if data is None:
        return list(in_shapes), list(out_shapes)
    return [data], [data, tuple(data[:-1]) + (1,)]


def _nms_grad(p, ins, outs, dys):
    if dys[0] is None:
        return [None]
    return [apply("_backward_contrib_box_nms", dys[0], outs[1], **p.as_dict())]


register(OpDef("_contrib_box_nms", params=_NMS, outputs=("output0", "output1"), num_visible_outputs=lambda p: 1,
               aliases=("_contrib_box_non_maximum_suppression",), infer_shape=_nms_shape,
               infer_type=float_only("_contrib_box_nms"), gradient=_nms_grad, cpu=cpu.box_nms,
               doc="Apply non-maximum suppression to input: per leading index, the rows scoring above valid_thresh "
                   "by decreasing score, boxes overlapping a better one by more than overlap_thresh removed, the "
                   "rest padded with -1."))


def _nms_backward_shape(p, in_shapes, out_shapes):
    dy = merge(_nms_data_shape("_backward_contrib_box_nms", p, in_shapes[0]), out_shapes[0])
    if dy is None:
        return list(in_shapes), list(out_shapes)
    return [dy, tuple(dy[:-1]) + (1,)], [dy]


register(OpDef("_backward_contrib_box_nms", params=_NMS, arguments=("out_grad", "record"), outputs=("data_grad",),
               infer_shape=_nms_backward_shape, infer_type=float_only("_backward_contrib_box_nms"),
               cpu=cpu.backward_box_nms, doc="Backward of _contrib_box_nms (internal)."))

# ---------------------------------------------------------------------------------------------------------------
# box_iou
# ---------------------------------------------------------------------------------------------------------------


# lhs (..., 4), rhs (..., 4) -> lhs.shape[:-1] + rhs.shape[:-1]
def _iou_shape(p, in_shapes, out_shapes):
    lhs, rhs = (_last("_contrib_box_iou", what, s, 4) for what, s in zip(("lhs", "rhs"), in_shapes))
    if lhs is None or rhs is None:
        return [lhs, rhs], list(out_shapes)
    return [lhs, rhs], [tuple(lhs[:-1]) + tuple(rhs[:-1])]


register(OpDef("_contrib_box_iou", params=dict(format=_format("corner", "")), arguments=("lhs", "rhs"),
               infer_shape=_iou_shape, infer_type=float_only("_contrib_box_iou"), gradient=_zero_grads,
               cpu=cpu.box_iou,
               doc="Bounding box overlap of two arrays: the IoU of every box of lhs with every box of rhs, shape "
                   "lhs.shape[:-1] + rhs.shape[:-1]."))

# ---------------------------------------------------------------------------------------------------------------
# box_encode, box_decode
# ---------------------------------------------------------------------------------------------------------------

_ENCODE_INPUTS = ("samples", "matches", "anchors", "refs", "means", "stds")


# samples, matches (B, N); anchors (B, N, 4); refs (B, M, 4); means, stds (4,) -> targets, masks (B, N, 4)
def _encode_shape(p, in_shapes, out_shapes):
    op = "_contrib_box_encode"
    samples, matches, anchors, refs, means, stds = in_shapes
    for what, shape, ndim in zip(_ENCODE_INPUTS, in_shapes, (2, 2, 3, 3, 1, 1)):
        _rank(op, what, shape, ndim)
    anchors, refs = _last(op, "anchors", anchors, 4), _last(op, "refs", refs, 4)
    means, stds = _last(op, "means", means, 4), _last(op, "stds", stds, 4)
    batch = merge(merge(samples, matches), None if anchors is None else anchors[:2])
    for out in out_shapes:
        batch = merge(batch, None if out is None else tuple(out[:2]))
    if batch is not None:
        anchors = merge(anchors, tuple(batch) + (4,))
        refs = merge(refs, (batch[0], 0, 4))
        out_shapes = [tuple(batch) + (4,)] * 2
    return [batch, batch, anchors, refs, (4,), (4,)], list(out_shapes)


register(OpDef("_contrib_box_encode", arguments=_ENCODE_INPUTS, outputs=("output0", "output1"),
               infer_shape=_encode_shape, infer_type=float_only("_contrib_box_encode"), gradient=_zero_grads,
               cpu=cpu.box_encode,
               doc="Encode bounding boxes training target with normalized center offsets: the targets of the "
                   "positive samples against their matched reference boxes, and a mask of them."))

_DECODE = dict({"std%d" % i: Float(1.0, "value to be divided from the %s encoded values" % nth)
                for i, nth in enumerate(("1st", "2nd", "3rd", "4th"))},
               clip=Float(-1.0, "If larger than 0, bounding box target will be clipped to this value."),
               format=_format("center", ""))


# data (B, N, 4), anchors (1, N, 4) -> (B, N, 4)
def _decode_shape(p, in_shapes, out_shapes):
    op = "_contrib_box_decode"
    data, anchors = in_shapes
    _rank(op, "data", data, 3)
    _rank(op, "anchors", anchors, 3)
    data = merge(_last(op, "data", data, 4), out_shapes[0])
    anchors = _last(op, "anchors", anchors, 4)
    if anchors is not None and anchors[0] not in (0, 1):
        raise ShapeError("%s: anchors %s must be (1, N, 4): one set of anchors for the whole batch"
                         % (op, fmt(anchors)))
    if data is not None:
        anchors = merge(anchors, (1, data[1], 4))
    elif anchors is not None and anchors[1]:
        data = (0, anchors[1], 4)
    return [data, anchors], [data]


register(OpDef("_contrib_box_decode", params=_DECODE, arguments=("data", "anchors"), infer_shape=_decode_shape,
               infer_type=float_only("_contrib_box_decode"), gradient=_zero_grads, cpu=cpu.box_decode,
               doc="Decode bounding boxes training target with normalized center offsets: corner boxes from the "
                   "offsets `data` and the anchors."))

# ---------------------------------------------------------------------------------------------------------------
# bipartite_matching
# ---------------------------------------------------------------------------------------------------------------

_MATCH = dict(is_ascend=Bool(False, "Use ascend order for scores instead of descending. Please set threshold "
                                    "accordingly."),
              threshold=Float(doc="Ignore matching when score < thresh, if is_ascend=false, or ignore score > "
                                  "thresh, if is_ascend=true."),
              topk=Int(-1, "Limit the number of matches to topk, set -1 for no limit"))


# data (..., N, M) -> row matches (..., N), column matches (..., M)
def _match_shape(p, in_shapes, out_shapes):
    data = in_shapes[0]
    _rank("_contrib_bipartite_matching", "data", data, 2, at_least=True)
    rows, cols = out_shapes
    if data is None and rows is not None and cols is not None and len(rows) == len(cols) and rows[:-1] == cols[:-1]:
        data = tuple(rows) + tuple(cols[-1:])
    if data is None:
        return [data], list(out_shapes)
    return [data], [tuple(data[:-1]), tuple(data[:-2]) + tuple(data[-1:])]


register(OpDef("_contrib_bipartite_matching", params=_MATCH, outputs=("output0", "output1"),
               infer_shape=_match_shape, infer_type=float_only("_contrib_bipartite_matching"),
               gradient=_zero_grads, cpu=cpu.bipartite_matching,
               doc="Compute bipartite matching: greedily pair rows and columns by score, best first; unmatched "
                   "rows and columns get -1."))

# ---------------------------------------------------------------------------------------------------------------
# MultiBoxDetection
# ---------------------------------------------------------------------------------------------------------------

_DETECTION = dict(
    clip=Bool(True, "Clip out-of-boundary boxes."),
    threshold=Float(0.01, "Threshold to be a positive prediction."),
    background_id=Int(0, "Background id."),
    nms_threshold=Float(0.5, "Non-maximum suppression threshold."),
    force_suppress=Bool(False, "Suppress all detections regardless of class_id."),
    variances=Floats((0.1, 0.1, 0.2, 0.2), "Variances to be decoded from box regression output."),
    nms_topk=Int(-1, "Keep maximum top k detections before nms, -1 for no limit."))


# cls_prob (B, C, A), loc_pred (B, A * 4), anchor (1, A, 4) -> (B, A, 6)
def _detection_shape(p, in_shapes, out_shapes):
    op = "_contrib_MultiBoxDetection"
    if len(p.variances) != 4:
        raise ShapeError("%s: variances=%s must hold 4 values" % (op, p.variances))
    cls, loc, anchor = in_shapes
    for what, shape, ndim in zip(("cls_prob", "loc_pred", "anchor"), in_shapes, (3, 2, 3)):
        _rank(op, what, shape, ndim)
    anchor = _last(op, "anchor", anchor, 4)
    if cls is None or not cls[2]:
        return [cls, loc, anchor], list(out_shapes)
    batch, n = cls[0], cls[2]
    if loc is not None and loc[1] and loc[1] != 4 * n:
        raise ShapeError("%s: loc_pred %s must have 4 x %d values per image, one box per anchor of cls_prob %s"
                         % (op, fmt(loc), n, fmt(cls)))
    if anchor is not None and anchor[1] and anchor[1] != n:
        raise ShapeError("%s: anchor %s must hold the %d anchors of cls_prob %s" % (op, fmt(anchor), n, fmt(cls)))
    return [cls, merge(loc, (batch, 4 * n)), merge(anchor, (1, n, 4))], [(batch, n, 6)]


register(OpDef("_contrib_MultiBoxDetection", params=_DETECTION, arguments=("cls_prob", "loc_pred", "anchor"),
               aliases=("_npx_multibox_detection",), infer_shape=_detection_shape,
               infer_type=float_only("_contrib_MultiBoxDetection"), gradient=_zero_grads, cpu=cpu.multibox_detection,
               doc="Convert multibox detection predictions: rows [class, score, xmin, ymin, xmax, ymax] by "
                   "decreasing score, suppressed ones with class -1, invalid ones -1."))

# ---------------------------------------------------------------------------------------------------------------
# Proposal, MultiProposal
# ---------------------------------------------------------------------------------------------------------------

_PROPOSAL = dict(
    rpn_pre_nms_top_n=Int(6000, "Number of top scoring boxes to keep before applying NMS to RPN proposals"),
    rpn_post_nms_top_n=Int(300, "Number of top scoring boxes to keep after applying NMS to RPN proposals"),
    threshold=Float(0.7, "NMS value, below which to suppress."),
    rpn_min_size=Int(16, "Minimum height or width in proposal"),
    scales=Floats((4.0, 8.0, 16.0, 32.0), "Used to generate anchor windows by enumerating scales"),
    ratios=Floats((0.5, 1.0, 2.0), "Used to generate anchor windows by enumerating ratios"),
    feature_stride=Int(16, "The size of the receptive field each unit in the convolution layer of the rpn,for "
                           "example the product of all stride's prior to this layer."),
    output_score=Bool(False, "Add score to outputs"),
    iou_loss=Bool(False, "Usage of IoU Loss"))


def _proposal_shape(op):
    """cls_prob (B, 2A, H, W), bbox_pred (B, 4A, H, W), im_info (B, 3) -> rois (B * post, 5), scores (B * post, 1);
    B is 1 for Proposal. A = len(ratios) * len(scales)."""
    def rule(p, in_shapes, out_shapes):
        if p.rpn_post_nms_top_n <= 0:
            raise ShapeError("%s: rpn_post_nms_top_n=%d must be positive" % (op, p.rpn_post_nms_top_n))
        cls, bbox, info = in_shapes
        for what, shape, ndim in zip(("cls_prob", "bbox_pred", "im_info"), in_shapes, (4, 4, 2)):
            _rank(op, what, shape, ndim)
        anchors = len(p.ratios) * len(p.scales)
        cls = merge(cls, None if bbox is None else (bbox[0], 2 * anchors) + tuple(bbox[2:]))
        if cls is None:
            return [cls, bbox, info], list(out_shapes)
        if cls[1] and cls[1] != 2 * anchors:
            raise ShapeError("%s: cls_prob %s must have 2 x %d channels, one pair per anchor (len(ratios) x "
                             "len(scales))" % (op, fmt(cls), anchors))
        if op == "_contrib_Proposal" and cls[0] > 1:
            raise ShapeError("%s: cls_prob %s holds %d images; Proposal takes one (MultiProposal takes a batch)"
                             % (op, fmt(cls), cls[0]))
        bbox = merge(bbox, (cls[0], 4 * anchors) + tuple(cls[2:]))
        if bbox[1] != 4 * anchors or bbox[2:] != cls[2:]:
            raise ShapeError("%s: bbox_pred %s must be %s for cls_prob %s" % (op, fmt(bbox), fmt(
                (cls[0], 4 * anchors) + tuple(cls[2:])), fmt(cls)))
        info = _last(op, "im_info", merge(info, (cls[0], 3)), 3)
        if op == "_contrib_Proposal":
            cls = (1,) + tuple(cls[1:])
        rows = cls[0] * p.rpn_post_nms_top_n       # 0 (unknown) for a MultiProposal of unknown batch
        return [cls, bbox, info], [(rows, 5), (rows, 1)]
    return rule


for _name in ("_contrib_Proposal", "_contrib_MultiProposal"):
    register(OpDef(_name, params=_PROPOSAL, arguments=("cls_prob", "bbox_pred", "im_info"),
                   outputs=("output", "score"), num_visible_outputs=lambda p: 2 if p.output_score else 1,
                   infer_shape=_proposal_shape(_name), infer_type=float_only(_name), gradient=_zero_grads,
                   cpu=cpu.proposal,
                   doc="Generate region proposals via RPN: anchors moved by the predicted deltas, the best "
                       "rpn_pre_nms_top_n, NMS, the best rpn_post_nms_top_n as [image index, x1, y1, x2, y2]"
                       + (" for each image of a batch." if _name.startswith("_contrib_Multi") else ".")))
