"""Vision ops outside the conv family: ROIPooling (region pooling) and the spatial transforms GridGenerator,
BilinearSampler and SpatialTransformer, with their `_backward_*` ops. Kernels: ops/cpu/vision.py.

Facts checked on MXNet 1.9.1 (native CPU kernels):
- ROIPooling: data (N, C, H, W), rois (R, 5) rows [batch index, x1, y1, x2, y2] in the image's coordinates;
  out (R, C, PH, PW). Corners are scaled by spatial_scale and rounded half away from zero; an roi spans
  max(end - start + 1, 1) pixels, split into bins of size / pooled (floor of the start, ceil of the end, clipped to
  the map); the max over each bin, 0 for an empty bin or an roi whose batch index is no image. A hidden second
  output holds each maximum's flat h * W + w index; the gradient goes to it; rois get none.
- GridGenerator: affine data (N, 6), a 2 x 3 matrix per instance, with target_shape (H, W) required > 0 ->
  (N, 2, H, W) source coordinates x, y in [-1, 1] units; warp data (N, 2, H, W), an optical flow in pixels ->
  (flow + pixel) * 2 / (size - 1) - 1. MXNet runs float32 only; float64 is accepted here. One hidden output.
- BilinearSampler: data (N, C, H, W), grid (N, 2, OH, OW) -> (N, C, OH, OW), with out-of-image neighbours 0. One
  hidden output.
- SpatialTransformer: transform_type 'affine' and sampler_type 'bilinear' only (both required); loc (N, 6);
  target_shape required > 0; the same sampling as BilinearSampler of GridGenerator's grid. Two hidden outputs.
"""
from .autodiff import apply
from .cpu import vision as cpu
from .elemwise import float_only, fmt, like_inputs, merge, types_like_inputs
from .errors import ShapeError
from .registry import Enum, Float, OpDef, OptBool, Shape, register, same_dtype


def _backward_op(name, kernel, arguments, outputs, infer_shape, params, infer_type=None):
    register(OpDef(name, arguments=arguments, outputs=outputs, params=params, infer_shape=infer_shape,
                   infer_type=infer_type or float_only(name), cpu=kernel,
                   doc="Backward of %s (internal)." % name[len("_backward_"):]))


def _check_ndim(op_name, what, shape, ndim):
    if shape is not None and len(shape) != ndim:
        raise ShapeError("%s: %s must be %d-D, got %s" % (op_name, what, ndim, fmt(shape)))


def _positive_target(op_name, target):
    if len(target) != 2 or min(target) <= 0:
        raise ShapeError("%s: target_shape=%s must be two positive sizes (H, W)" % (op_name, tuple(target)))


# ---------------------------------------------------------------------------------------------------------------
# ROIPooling
# ---------------------------------------------------------------------------------------------------------------

_ROI = dict(pooled_size=Shape(doc="ROI pooling output shape (h,w) "),
            spatial_scale=Float(doc="Ratio of input feature map height (or w) to raw image height (or w). Equals "
                                    "the reciprocal of total stride in convolutional layers"))


# data (N, C, H, W), rois (R, 5) -> out and maxidx (R, C, PH, PW)
def _roi_shape(p, in_shapes, out_shapes):
    data, rois = in_shapes
    if len(p.pooled_size) != 2:
        raise ShapeError("ROIPooling: pooled_size=%s must be (h, w)" % (p.pooled_size,))
    _check_ndim("ROIPooling", "data", data, 4)
    _check_ndim("ROIPooling", "rois (a 2D tensor of shape [num_rois, 5])", rois, 2)
    rois = merge(rois, (0, 5))
    if rois[1] != 5:
        raise ShapeError("ROIPooling: rois %s must have 5 columns [batch_index, x1, y1, x2, y2]" % fmt(rois))
    out = merge(out_shapes[0], out_shapes[1])
    if out is not None:
        rois = merge(rois, (out[0], 5))
        data = merge(data, (0, out[1], 0, 0))
    if data is None:
        return [data, rois], list(out_shapes)
    out = (rois[0], data[1]) + tuple(p.pooled_size)
    return [data, rois], [out, out]


def _roi_grad(p, ins, outs, dys):
    return [apply("_backward_ROIPooling", dys[0], ins[0], ins[1], outs[1], **p.as_dict()), None]


register(OpDef("ROIPooling", params=_ROI, arguments=("data", "rois"), outputs=("output", "maxidx"),
               num_visible_outputs=lambda p: 1, infer_shape=_roi_shape, infer_type=float_only("ROIPooling"),
               gradient=_roi_grad, cpu=cpu.roi_pooling,
               doc="Performs region of interest (ROI) pooling on the input array: max pooling of each region "
                   "[batch_index, x1, y1, x2, y2] (scaled by spatial_scale) into a pooled_size grid."))


def _roi_backward_shape(p, in_shapes, out_shapes):
    dy, data, rois, maxidx = in_shapes
    ins, outs = _roi_shape(p, [merge(data, out_shapes[0]), rois], [dy, maxidx])
    return [outs[0], ins[0], ins[1], outs[1]], [ins[0]]


_backward_op("_backward_ROIPooling", cpu.backward_roi_pooling, ("out_grad", "data", "rois", "maxidx"),
             ("data_grad",), _roi_backward_shape, _ROI)

# ---------------------------------------------------------------------------------------------------------------
# GridGenerator
# ---------------------------------------------------------------------------------------------------------------

_GRID = dict(transform_type=Enum(("affine", "warp"), doc="The type of transformation. For `affine`, input data "
                                 "should be an affine matrix of size (batch, 6). For `warp`, input data should be "
                                 "an optical flow of size (batch, 2, h, w)."),
             target_shape=Shape((0, 0), "Specifies the output shape (H, W). This is required if transformation "
                                        "type is `affine`. If transformation type is `warp`, this parameter is "
                                        "ignored."))


def _affine_grid_shape(op_name, p, loc, batch):
    """(loc, grid, hidden target grid) shapes of an affine grid of target_shape."""
    _positive_target(op_name, p.target_shape)
    _check_ndim(op_name, "the affine parameters", loc, 2)
    loc = merge(loc, (batch or 0, 6))
    if loc[1] != 6:
        raise ShapeError("%s: the affine parameters %s must have 6 columns" % (op_name, fmt(loc)))
    h, w = p.target_shape
    return loc, (loc[0], 2, h, w), (3, h * w)


def _grid_shape(p, in_shapes, out_shapes):
    data, out = in_shapes[0], out_shapes[0]
    if p.transform_type == "affine":
        loc, grid, target = _affine_grid_shape("GridGenerator", p, data, None if out is None else out[0])
        return [loc], [grid, target]
    _check_ndim("GridGenerator", "the flow", data, 4)
    flow = merge(merge(data, out), (0, 2, 0, 0))
    if flow[1] != 2:
        raise ShapeError("GridGenerator: the flow %s must have 2 channels (x, y)" % fmt(flow))
    return [flow], [flow, (2,) + tuple(flow[2:])]


def _grid_grad(p, ins, outs, dys):
    return [apply("_backward_GridGenerator", dys[0], ins[0], **p.as_dict())]


register(OpDef("GridGenerator", params=_GRID, outputs=("output", "grid_dst"), num_visible_outputs=lambda p: 1,
               infer_shape=_grid_shape, infer_type=float_only("GridGenerator"), gradient=_grid_grad,
               cpu=cpu.grid_generator,
               doc="Generates 2D sampling grid for bilinear sampling: from an affine matrix (N, 6) over a "
                   "target_shape, or from an optical flow (N, 2, H, W)."))
_backward_op("_backward_GridGenerator", cpu.backward_grid_generator, ("out_grad", "data"), ("data_grad",),
             lambda p, ins, outs: ([ins[0], merge(ins[1], outs[0])], [merge(ins[1], outs[0])]), _GRID)

# ---------------------------------------------------------------------------------------------------------------
# BilinearSampler
# ---------------------------------------------------------------------------------------------------------------

_CUDNN_OFF = OptBool(None, "whether to turn cudnn off")


# data (N, C, H, W), grid (N, 2, OH, OW) -> out (N, C, OH, OW); the hidden output is shaped like the grid.
def _sampler_shape(p, in_shapes, out_shapes):
    data, grid = in_shapes
    out = out_shapes[0]
    for what, shape in (("data", data), ("grid", grid), ("output", out)):
        _check_ndim("BilinearSampler", what, shape, 4)
    grid = merge(merge(grid, out_shapes[1]), (0, 2, 0, 0))
    if grid[1] != 2:
        raise ShapeError("BilinearSampler: grid %s must have 2 channels (x, y)" % fmt(grid))
    batch = merge(merge((grid[0],), None if data is None else (data[0],)), None if out is None else (out[0],))
    grid = (batch[0],) + tuple(grid[1:])
    if out is not None:
        grid = merge(grid, (0, 2) + tuple(out[2:]))
    if data is not None:
        data = (batch[0],) + tuple(data[1:])
    elif out is not None:
        data = (batch[0], out[1], 0, 0)
    if data is None:
        return [data, grid], [None, grid]
    return [data, grid], [(batch[0], data[1]) + tuple(grid[2:]), grid]


def _sampler_grad(p, ins, outs, dys):
    return apply("_backward_BilinearSampler", dys[0], ins[0], ins[1], **p.as_dict())


register(OpDef("BilinearSampler", params=dict(cudnn_off=_CUDNN_OFF), arguments=("data", "grid"),
               outputs=("output", "tmp"), num_visible_outputs=lambda p: 1, infer_shape=_sampler_shape,
               infer_type=float_only("BilinearSampler"), gradient=_sampler_grad, cpu=cpu.bilinear_sampler,
               doc="Applies bilinear sampling to input feature map: output[n, c, i, j] is data[n, c] at the point "
                   "grid[n, :, i, j] (x, y in [-1, 1]) interpolated from its four neighbours (0 outside)."))
_backward_op("_backward_BilinearSampler", cpu.backward_bilinear_sampler, ("out_grad", "data", "grid"),
             ("data_grad", "grid_grad"), like_inputs(1, 2), dict(cudnn_off=_CUDNN_OFF), types_like_inputs(1, 2))

# ---------------------------------------------------------------------------------------------------------------
# SpatialTransformer
# ---------------------------------------------------------------------------------------------------------------

_ST = dict(target_shape=Shape((0, 0), "output shape(h, w) of spatial transformer: (y, x)"),
           transform_type=Enum(("affine",), doc="transformation type"),
           sampler_type=Enum(("bilinear",), doc="sampling type"),
           cudnn_off=_CUDNN_OFF)


# data (N, C, H, W), loc (N, 6) -> out (N, C, th, tw); hidden: the target grid (3, th * tw) and the source grid
# (N, 2, th, tw).
def _st_shape(p, in_shapes, out_shapes):
    data, loc = in_shapes
    _check_ndim("SpatialTransformer", "data", data, 4)
    out = out_shapes[0]
    batch = merge(None if data is None else (data[0],), None if out is None else (out[0],))
    loc, grid, target = _affine_grid_shape("SpatialTransformer", p, loc, None if batch is None else batch[0])
    if data is None:
        data = None if out is None else (loc[0], out[1], 0, 0)
    else:
        data = (loc[0],) + tuple(data[1:])
    if data is None:
        return [data, loc], [None, target, grid]
    return [data, loc], [(loc[0], data[1]) + tuple(p.target_shape), target, grid]


def _st_grad(p, ins, outs, dys):
    return apply("_backward_SpatialTransformer", dys[0], ins[0], outs[2], **p.as_dict())


register(OpDef("SpatialTransformer", params=_ST, arguments=("data", "loc"), outputs=("output", "grid_dst",
                                                                                        "grid_src"),
               num_visible_outputs=lambda p: 1, infer_shape=_st_shape, infer_type=float_only("SpatialTransformer"),
               gradient=_st_grad, cpu=cpu.spatial_transformer,
               doc="Applies a spatial transformer to input feature map: an affine grid of target_shape from loc "
                   "(N, 6), then bilinear sampling of data on it."))


def _st_backward_shape(p, in_shapes, out_shapes):
    dy, data, grid = in_shapes
    ins, outs = _st_shape(p, [merge(data, out_shapes[0]), out_shapes[1]], [dy, None, grid])
    return [outs[0], ins[0], outs[2]], list(ins)


_backward_op("_backward_SpatialTransformer", cpu.backward_spatial_transformer, ("out_grad", "data", "grid_src"),
             ("data_grad", "loc_grad"), _st_backward_shape, _ST, same_dtype)
