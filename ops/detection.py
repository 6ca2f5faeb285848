"""Detection ops of MXNet's contrib namespace: the SSD anchors and training targets (`_contrib_MultiBoxPrior`,
`_contrib_MultiBoxTarget`), the region feature ops of Mask R-CNN and R-FCN (`_contrib_ROIAlign`,
`_contrib_PSROIPooling`) and the convolutions of deformable ConvNets (`_contrib_DeformableConvolution`, DCNv2's
`_contrib_ModulatedDeformableConvolution`), with their `_backward_*` ops. Kernels: ops/cpu/detection.py (DCNv2's:
ops/cpu/deformable.py), ops/cuda/detection.py.

Facts checked on MXNet 1.9.1 (tests/fixtures/mxnet-1.9.1/detection/):
- MultiBoxPrior: data with at least 4 dims (H, W = dims 2, 3) -> (1, H * W * (len(sizes) + len(ratios) - 1), 4)
  corners (xmin, ymin, xmax, ymax) in [0, 1] units, float32 only. Per pixel: one box per size at ratios[0], then
  one per further ratio at sizes[0]. steps -1 mean 1/H, 1/W. Its gradient is zero.
- MultiBoxTarget: anchor (1, A, 4), label (B, L, >= 5) rows [class, x1, y1, x2, y2] padded with rows of -1,
  cls_pred (B, classes, A) -> loc_target (B, A * 4), loc_mask (B, A * 4), cls_target (B, A); float32 only. Every
  ground truth first takes its best free anchor (greedy over the best remaining pair), then other anchors whose
  best IoU exceeds overlap_threshold become positive; negatives are either all the rest or, with mining, the
  num_positive * ratio anchors below negative_mining_thresh with the lowest background probability.
  minimum_negative_samples is accepted and unused, as in MXNet. Its gradient is zero.
- ROIAlign: rois (R, 5) [batch, x1, y1, x2, y2]; the average of bilinear samples per bin (sample_ratio <= 0:
  ceil(roi size / pooled) samples per bin and axis). aligned shifts by half a pixel and refuses empty rois;
  otherwise rois are at least 1 x 1. A negative batch index gives 0 (MXNet's documented behaviour).
- PSROIPooling: the average (not the max its doc names) over each bin of the channel of its group cell,
  rois rounded; MXNet's CPU kernel is an empty stub, so the semantics are its GPU kernel's.
- DeformableConvolution (2-D, NCHW): a convolution whose kernel taps are moved by learned offsets (N, 2 * kh * kw *
  num_deformable_group, OH, OW), rows (dy, dx) per tap, sampled bilinearly; a tap outside [0, H) x [0, W) reads 0
  (MXNet's CPU kernel; its GPU kernel also blends taps within one pixel outside). The gradients are that forward's
  derivatives, as MXNet's CPU backward gives them (an offset along an axis clamped at the far border gets none).
- ModulatedDeformableConvolution (DCNv2): as DeformableConvolution with a mask (N, kh * kw * num_deformable_group,
  OH, OW) scaling each sample; a tap in (-1, H) x (-1, W) blends its corners with those outside reading 0 (MXNet's
  CPU and GPU kernels alike). MXNet 1.9.1's CPU backward raises "only implemented in GPU"; ours is the forward's
  exact derivative (what its GPU kernel computes), checked against numeric gradients. A batch larger than
  im2col_step must divide by it, as MXNet checks.
Batch indices truncate toward zero; one at or past the batch (or negative, for PSROIPooling) is refused when the
kernel runs, where MXNet reads out of bounds.
"""
import numpy as np

from .autodiff import apply
from .cpu import deformable as cpu_deformable
from .cpu import detection as cpu
from .elemwise import float_only, fmt, merge
from .errors import DTypeError, ParamError, ShapeError
from .registry import Bool, Field, Float, Int, Long, OpDef, OptEnum, Shape, register, same_dtype
from .update import Floats


def _check_ndim(op_name, what, shape, ndim):
    if shape is not None and len(shape) != ndim:
        raise ShapeError("%s: %s must be %d-D, got %s" % (op_name, what, ndim, fmt(shape)))


def _float32_only(op_name):
    """MXNet's legacy ops without a dtype rule of their own take float32 only."""
    def rule(p, in_types, out_types):
        in_types, out_types = same_dtype(p, in_types, out_types)
        for t in list(in_types) + list(out_types):
            if t is not None and np.dtype(t).name != "float32":
                raise DTypeError("%s: only float32 is supported (MXNet's default type), not %s"
                                 % (op_name, np.dtype(t).name))
        return in_types, out_types
    return rule


class _FloatTuple(Floats):
    """A tuple of floats written into a node's attrs as MXNet's Python front end writes it: str() of what was given
    ("(0.5, 0.25)", "[1, 2]"), so a symbol's JSON matches MXNet's."""
    format = Field.format


def _no_gradient(n_inputs):
    return lambda p, ins, outs, dys: [None] * n_inputs


# ---------------------------------------------------------------------------------------------------------------
# MultiBoxPrior
# ---------------------------------------------------------------------------------------------------------------

_PRIOR = dict(sizes=_FloatTuple((1.0,), "List of sizes of generated MultiBoxPriores."),
              ratios=_FloatTuple((1.0,), "List of aspect ratios of generated MultiBoxPriores."),
              clip=Bool(False, "Whether to clip out-of-boundary boxes."),
              steps=_FloatTuple((-1.0, -1.0), "Priorbox step across y and x, -1 for auto calculation."),
              offsets=_FloatTuple((0.5, 0.5), "Priorbox center offsets, y and x respectively"))


def _check_prior_params(p):
    name = "_contrib_MultiBoxPrior"
    if not p.sizes or not p.ratios:
        raise ParamError("%s: sizes=%s and ratios=%s must not be empty" % (name, p.sizes, p.ratios))
    if len(p.steps) != 2 or len(p.offsets) != 2:
        raise ParamError("%s: steps=%s and offsets=%s must be (y, x) pairs" % (name, p.steps, p.offsets))
    if not all(0.0 <= o <= 1.0 for o in p.offsets):
        raise ParamError("%s: offsets=%s must lie in [0, 1]" % (name, p.offsets))
    if p.steps[0] * p.steps[1] < 0:
        raise ParamError("%s: steps=%s: give both step_y and step_x, or neither" % (name, p.steps))


def _prior_shape(p, in_shapes, out_shapes):
    _check_prior_params(p)
    data = in_shapes[0]
    if data is None:
        return list(in_shapes), list(out_shapes)
    if len(data) < 4:
        raise ShapeError("_contrib_MultiBoxPrior: data must be at least 4-D (batch, channel, y, x), got %s"
                         % fmt(data))
    if not data[2] or not data[3]:
        return list(in_shapes), list(out_shapes)
    anchors = data[2] * data[3] * (len(p.sizes) + len(p.ratios) - 1)
    return [data], [(1, anchors, 4)]


register(OpDef("_contrib_MultiBoxPrior", params=_PRIOR, infer_shape=_prior_shape,
               infer_type=_float32_only("_contrib_MultiBoxPrior"), gradient=_no_gradient(1), cpu=cpu.multibox_prior,
               doc="Generate prior(anchor) boxes from data, sizes and ratios."))

# ---------------------------------------------------------------------------------------------------------------
# MultiBoxTarget
# ---------------------------------------------------------------------------------------------------------------

_TARGET = dict(
    overlap_threshold=Float(0.5, "Anchor-GT overlap threshold to be regarded as a positive match."),
    ignore_label=Float(-1.0, "Label for ignored anchors."),
    negative_mining_ratio=Float(-1.0, "Max negative to positive samples ratio, use -1 to disable mining"),
    negative_mining_thresh=Float(0.5, "Threshold used for negative mining."),
    minimum_negative_samples=Int(0, "Minimum number of negative samples."),
    variances=_FloatTuple((0.1, 0.1, 0.2, 0.2), "Variances to be encoded in box regression target."))


def _known(*dims):
    """The first known (non-zero, not None) of dims, else 0 (unknown)."""
    return next((d for d in dims if d), 0)


def _target_shape(p, in_shapes, out_shapes):
    name = "_contrib_MultiBoxTarget"
    if len(p.variances) != 4:
        raise ParamError("%s: variances=%s must have 4 values" % (name, p.variances))
    anchor, label, cls_pred = in_shapes
    _check_ndim(name, "anchor (1, num_anchors, 4)", anchor, 3)
    _check_ndim(name, "label (batch, num_labels, label_width)", label, 3)
    _check_ndim(name, "cls_pred (batch, num_classes, num_anchors)", cls_pred, 3)
    anchor = merge(anchor, (1, 0, 4))
    if anchor[0] != 1 or anchor[2] != 4:
        raise ShapeError("%s: anchor %s must be (1, num_anchors, 4): anchors are shared by the batch, "
                         "[xmin, ymin, xmax, ymax]" % (name, fmt(anchor)))
    if label is not None and label[2] and label[2] < 5:
        raise ShapeError("%s: label %s must have at least 5 columns [class, xmin, ymin, xmax, ymax]"
                         % (name, fmt(label)))
    loc, cls = merge(out_shapes[0], out_shapes[1]), out_shapes[2]
    # every shape proposes the batch and the number of anchors it knows; the pass reports disagreements
    b = _known(label and label[0], cls_pred and cls_pred[0], loc and loc[0], cls and cls[0])
    a = _known(anchor[1], cls_pred and cls_pred[2], cls and cls[1], loc and loc[1] // 4)
    label = (b,) + tuple(label[1:]) if label else (b, 0, 0)
    cls_pred = (b, cls_pred[1] if cls_pred else 0, a)
    anchor = (1, a, 4)
    outs = [(b, a * 4), (b, a * 4), (b, a)]
    return [anchor, label, cls_pred], outs


register(OpDef("_contrib_MultiBoxTarget", params=_TARGET, arguments=("anchor", "label", "cls_pred"),
               outputs=("loc_target", "loc_mask", "cls_target"), infer_shape=_target_shape,
               infer_type=_float32_only("_contrib_MultiBoxTarget"), gradient=_no_gradient(3),
               cpu=cpu.multibox_target, doc="Compute Multibox training targets"))

# ---------------------------------------------------------------------------------------------------------------
# ROIAlign
# ---------------------------------------------------------------------------------------------------------------

_ALIGN = dict(pooled_size=Shape(doc="ROI Align output roi feature map height and width: (h, w)"),
              spatial_scale=Float(doc="Ratio of input feature map height (or w) to raw image height (or w). Equals "
                                      "the reciprocal of total stride in convolutional layers"),
              sample_ratio=Int(-1, "Optional sampling ratio of ROI align, using adaptive size by default."),
              position_sensitive=Bool(False, "Whether to perform position-sensitive RoI pooling. PSRoIPooling is "
                                             "also called PSRoIAlign when set to true."),
              aligned=Bool(False, "Center-aligned ROIAlign introduced in Detectron2. To enable, set aligned to "
                                  "True."))


def _rois_shape(op_name, rois):
    _check_ndim(op_name, "rois (a 2D tensor of shape [num_rois, 5])", rois, 2)
    rois = merge(rois, (0, 5))
    if rois[1] != 5:
        raise ShapeError("%s: rois %s must have 5 columns [batch_index, x1, y1, x2, y2]" % (op_name, fmt(rois)))
    return rois


# data (N, C, H, W), rois (R, 5) -> out (R, C, PH, PW), or (R, C / (PH * PW), PH, PW) position-sensitive
def _align_shape(p, in_shapes, out_shapes):
    name = "_contrib_ROIAlign"
    data, rois, out = in_shapes[0], in_shapes[1], out_shapes[0]
    if len(p.pooled_size) != 2 or min(p.pooled_size) <= 0:
        raise ShapeError("%s: pooled_size=%s must be two positive sizes (h, w)" % (name, p.pooled_size))
    _check_ndim(name, "data", data, 4)
    rois = _rois_shape(name, rois)
    cells = p.pooled_size[0] * p.pooled_size[1] if p.position_sensitive else 1
    if out is not None:
        rois = merge(rois, (out[0], 5))
        data = merge(data, (0, out[1] * cells, 0, 0))
    if data is None or not data[1]:
        return [data, rois], list(out_shapes)
    if data[1] % cells:
        raise ShapeError("%s: data %s: with position_sensitive the channels must be a multiple of pooled_size "
                         "h * w = %d" % (name, fmt(data), cells))
    return [data, rois], [(rois[0], data[1] // cells) + tuple(p.pooled_size)]


def _align_grad(p, ins, outs, dys):
    return [apply("_backward_ROIAlign", dys[0], ins[0], ins[1], **p.as_dict()), None]


register(OpDef("_contrib_ROIAlign", params=_ALIGN, arguments=("data", "rois"), infer_shape=_align_shape,
               infer_type=float_only("_contrib_ROIAlign"), gradient=_align_grad, cpu=cpu.roi_align,
               doc="Aligns the feature map over regions of interest [batch_index, x1, y1, x2, y2] (scaled by "
                   "spatial_scale): each of pooled_size bins is the average of bilinear samples. A roi whose "
                   "batch index is negative pools to 0."))


def _data_grad_shape(forward_rule):
    """(out_grad, data, rois) -> data_grad: the forward's rule run on data and rois."""
    def rule(p, in_shapes, out_shapes):
        dy, data, rois = in_shapes
        ins, outs = forward_rule(p, [merge(data, out_shapes[0]), rois], [dy])
        return [outs[0], ins[0], ins[1]], [ins[0]]
    return rule


def _backward_op(name, kernel, forward_rule, params):
    register(OpDef(name, arguments=("out_grad", "data", "rois"), outputs=("data_grad",), params=params,
                   infer_shape=_data_grad_shape(forward_rule), infer_type=float_only(name), cpu=kernel,
                   doc="Backward of %s (internal)." % name[len("_backward_"):]))


_backward_op("_backward_ROIAlign", cpu.backward_roi_align, _align_shape, _ALIGN)

# ---------------------------------------------------------------------------------------------------------------
# PSROIPooling
# ---------------------------------------------------------------------------------------------------------------

_PSROI = dict(spatial_scale=Float(doc="Ratio of input feature map height (or w) to raw image height (or w). Equals "
                                      "the reciprocal of total stride in convolutional layers"),
              output_dim=Int(doc="fix output dim"),
              pooled_size=Int(doc="fix pooled size"),
              group_size=Int(0, "fix group size"))


def _psroi_shape(p, in_shapes, out_shapes):
    name = "_contrib_PSROIPooling"
    if not 0.0 <= p.spatial_scale <= 1.0:
        raise ParamError("%s: spatial_scale=%s must lie in [0, 1]" % (name, p.spatial_scale))
    if p.output_dim <= 0 or p.pooled_size <= 0 or cpu.group_size(p) <= 0:
        raise ParamError("%s: output_dim=%d, pooled_size=%d and group_size=%d must be positive"
                         % (name, p.output_dim, p.pooled_size, p.group_size))
    data, rois = in_shapes
    _check_ndim(name, "data", data, 4)
    rois = _rois_shape(name, rois)
    if out_shapes[0] is not None:
        rois = merge(rois, (out_shapes[0][0], 5))
    need = p.output_dim * cpu.group_size(p) ** 2
    if data is not None and data[1] and data[1] < need:
        raise ShapeError("%s: data %s has fewer channels than output_dim * group_size^2 = %d * %d^2 = %d"
                         % (name, fmt(data), p.output_dim, cpu.group_size(p), need))
    return [data, rois], [(rois[0], p.output_dim, p.pooled_size, p.pooled_size)]


def _psroi_grad(p, ins, outs, dys):
    return [apply("_backward__contrib_PSROIPooling", dys[0], ins[0], ins[1], **p.as_dict()), None]


register(OpDef("_contrib_PSROIPooling", params=_PSROI, arguments=("data", "rois"), infer_shape=_psroi_shape,
               infer_type=float_only("_contrib_PSROIPooling"), gradient=_psroi_grad, cpu=cpu.psroi_pooling,
               doc="Performs position-sensitive region-of-interest pooling: each of the pooled_size x pooled_size "
                   "bins of a roi [batch_index, x1, y1, x2, y2] (rounded, scaled by spatial_scale) is the average "
                   "of its area in the channel of its group cell; batch_size becomes the number of rois."))
_backward_op("_backward__contrib_PSROIPooling", cpu.backward_psroi_pooling, _psroi_shape, _PSROI)

# ---------------------------------------------------------------------------------------------------------------
# DeformableConvolution
# ---------------------------------------------------------------------------------------------------------------

_DCN = dict(kernel=Shape(doc="Convolution kernel size: (h, w) or (d, h, w)"),
            stride=Shape((), "Convolution stride: (h, w) or (d, h, w). Defaults to 1 for each dimension."),
            dilate=Shape((), "Convolution dilate: (h, w) or (d, h, w). Defaults to 1 for each dimension."),
            pad=Shape((), "Zero pad for convolution: (h, w) or (d, h, w). Defaults to no padding."),
            num_filter=Int(doc="Convolution filter(channel) number"),
            num_group=Int(1, "Number of group partitions."),
            num_deformable_group=Int(1, "Number of deformable group partitions."),
            workspace=Long(1024, "Maximum temperal workspace allowed for convolution (MB)."),
            no_bias=Bool(False, "Whether to disable bias parameter."),
            layout=OptEnum(("NCDHW", "NCHW", "NCW"), None, "Set layout for input, output and weight. Empty for "
                                                          "default layout: NCW for 1d, NCHW for 2d and NCDHW for 3d."))


def _dcn_shape(p, in_shapes, out_shapes, name="_contrib_DeformableConvolution"):
    kernel, stride, dilate, pad = cpu.dcn_geometry(p)
    if len(kernel) != 2 or p.layout not in (None, "NCHW"):
        raise ParamError("%s: only 2-D kernels in NCHW are supported, got kernel=%s layout=%s"
                         % (name, p.kernel, p.layout))
    if not (len(stride) == len(dilate) == len(pad) == 2) or min(stride + dilate + kernel) <= 0 or min(pad) < 0:
        raise ParamError("%s: kernel=%s, stride=%s, dilate=%s, pad=%s must be (h, w) pairs, positive (pad: >= 0)"
                         % (name, p.kernel, p.stride, p.dilate, p.pad))
    if p.num_filter <= 0 or p.num_group <= 0 or p.num_deformable_group <= 0:
        raise ParamError("%s: num_filter, num_group and num_deformable_group must be positive" % name)
    data = in_shapes[0]
    _check_ndim(name, "data", data, 4)
    if data is None or not all(data[1:]):
        return list(in_shapes), list(out_shapes)
    n, c, h, w = data
    if c % p.num_group or p.num_filter % p.num_group or c % p.num_deformable_group:
        raise ShapeError("%s: data %s: channels %d and num_filter %d must divide by num_group %d, channels by "
                         "num_deformable_group %d" % (name, fmt(data), c, p.num_filter, p.num_group,
                                                      p.num_deformable_group))
    out_hw = [(size + 2 * q - (d * (k - 1) + 1)) // s + 1 for size, q, d, k, s in zip((h, w), pad, dilate, kernel,
                                                                                       stride)]
    if min(out_hw) <= 0:
        raise ShapeError("%s: data %s is smaller than the dilated kernel %s (pad %s)" % (name, fmt(data), kernel,
                                                                                         pad))
    taps = kernel[0] * kernel[1]
    ins = [data, (n, 2 * taps * p.num_deformable_group) + tuple(out_hw),
           (p.num_filter, c // p.num_group) + kernel] + ([] if p.no_bias else [(p.num_filter,)])
    return ins, [(n, p.num_filter) + tuple(out_hw)]


def _dcn_grad(p, ins, outs, dys):
    grads = apply("_backward__contrib_DeformableConvolution", dys[0], ins[0], ins[1], ins[2], **p.as_dict())
    return list(grads)


def _dcn_names(names, bias):
    return lambda p: list(names) + ([] if p.no_bias else [bias])


register(OpDef("_contrib_DeformableConvolution", params=_DCN,
               arguments=_dcn_names(["data", "offset", "weight"], "bias"), infer_shape=_dcn_shape,
               infer_type=float_only("_contrib_DeformableConvolution"), gradient=_dcn_grad,
               cpu=cpu.deformable_convolution,
               doc="Compute 2-D deformable convolution on 4-D input: each kernel tap of each output position is "
                   "moved by its offset (dy, dx) and sampled bilinearly, then weighted as in Convolution."))


def _dcn_backward_shape(p, in_shapes, out_shapes):
    dy, data, offset, weight = in_shapes
    ins, outs = _dcn_shape(p, [data, offset, weight] + ([] if p.no_bias else [None]), [dy])
    return [outs[0]] + ins[:3], ins


register(OpDef("_backward__contrib_DeformableConvolution", params=_DCN,
               arguments=("out_grad", "data", "offset", "weight"),
               outputs=_dcn_names(["data_grad", "offset_grad", "weight_grad"], "bias_grad"),
               infer_shape=_dcn_backward_shape, infer_type=float_only("_backward__contrib_DeformableConvolution"),
               cpu=cpu.backward_deformable_convolution,
               doc="Gradients of DeformableConvolution with respect to data, offset, weight and bias."))

# ---------------------------------------------------------------------------------------------------------------
# ModulatedDeformableConvolution (DCNv2): DeformableConvolution plus a mask scaling each tap; kernels in
# ops/cpu/deformable.py (its sampling at the border differs from DCNv1's, see there)
# ---------------------------------------------------------------------------------------------------------------

_MDCN = dict(_DCN, im2col_step=Int(64, "Maximum number of images per im2col computation; The total batch size "
                                       "should be divisable by this value or smaller than this value; if you face "
                                       "out of memory problem, you can try to use a smaller value here."))
_MDCN["layout"] = _MDCN.pop("layout")                    # MXNet lists im2col_step before layout


def _mdcn_shape(p, in_shapes, out_shapes):
    name = "_contrib_ModulatedDeformableConvolution"
    data, offset, mask, weight = in_shapes[:4]
    ins, outs = _dcn_shape(p, [data, offset, weight] + list(in_shapes[4:]), out_shapes, name)
    if data is None or not all(data):
        return list(in_shapes), outs
    n = ins[0][0]
    step = min(n, p.im2col_step) if p.im2col_step > 0 else 0
    if not step or n % step:
        raise ShapeError("%s: data %s: the batch must divide by im2col_step %d (or be smaller)"
                         % (name, fmt(ins[0]), p.im2col_step))
    taps = p.kernel[0] * p.kernel[1] * p.num_deformable_group
    return [ins[0], ins[1], (n, taps) + tuple(ins[1][2:])] + ins[2:], outs


def _mdcn_grad(p, ins, outs, dys):
    return list(apply("_backward__contrib_ModulatedDeformableConvolution", dys[0], *ins[:4], **p.as_dict()))


register(OpDef("_contrib_ModulatedDeformableConvolution", params=_MDCN,
               arguments=_dcn_names(["data", "offset", "mask", "weight"], "bias"), infer_shape=_mdcn_shape,
               infer_type=float_only("_contrib_ModulatedDeformableConvolution"), gradient=_mdcn_grad,
               cpu=cpu_deformable.modulated_deformable_convolution,
               doc="Compute 2-D modulated deformable convolution on 4-D input (DCNv2, "
                   "https://arxiv.org/abs/1811.11168): each kernel tap of each output position is moved by its "
                   "offset (dy, dx), sampled bilinearly (corners outside the map read 0) and scaled by its mask "
                   "(batch, num_deformable_group * kh * kw, out_height, out_width), then weighted as in "
                   "Convolution."))


def _mdcn_backward_shape(p, in_shapes, out_shapes):
    ins, outs = _mdcn_shape(p, list(in_shapes[1:]) + ([] if p.no_bias else [None]), [in_shapes[0]])
    return [outs[0]] + ins[:4], ins


register(OpDef("_backward__contrib_ModulatedDeformableConvolution", params=_MDCN,
               arguments=("out_grad", "data", "offset", "mask", "weight"),
               outputs=_dcn_names(["data_grad", "offset_grad", "mask_grad", "weight_grad"], "bias_grad"),
               infer_shape=_mdcn_backward_shape,
               infer_type=float_only("_backward__contrib_ModulatedDeformableConvolution"),
               cpu=cpu_deformable.backward_modulated_deformable_convolution,
               doc="Gradients of ModulatedDeformableConvolution with respect to data, offset, mask, weight and "
                   "bias."))
