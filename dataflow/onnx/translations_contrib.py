"""The contrib ops with an ONNX equivalent, both ways: `_contrib_BilinearResize2D` <-> Resize (linear),
`_contrib_ROIAlign` <-> RoiAlign, and, export only, `_contrib_div_sqrt_dim` (Div) and `_contrib_arange_like` (a
constant).

Facts: MXNet's BilinearResize2D samples source coordinate d * (in - 1) / (out - 1) with align_corners, else
max((d + 0.5) * in / out - 0.5, 0) -- ONNX Resize's `align_corners` and `half_pixel` (whose negative coordinates
onnxruntime clamps to the edge, as MXNet's max does). MXNet's ROIAlign (aligned=False) is Caffe2's RoIAlign, which
is ONNX RoiAlign at opset 13 (its `output_half_pixel`); MXNet's rois carry the batch index in column 0, ONNX takes it
as a separate int64 input; sample_ratio -1 (adaptive) is ONNX's 0."""
import numpy as np

from ._table import exports, imports


@exports("_contrib_BilinearResize2D")
def bilinear_resize(ctx, node, ins, outs):
    p = node.params
    if len(ins) != 1:
        raise ctx.unsupported(node, "with mode='like': give the output size")
    out = ctx.out_shape(node)
    if min(out[2:]) < 2:
        raise ctx.unsupported(node, "to an output side of 1 (MXNet samples coordinate 0 there, ONNX divides by 0)")
    if ctx.dynamic:
        raise ctx.unsupported(node, "with dynamic=True: Resize is written with the inferred output size")
    sizes = ctx.ints(out, name="sizes")
    ctx.emit("Resize", [ins[0], "", "", sizes], outs, mode="linear",
             coordinate_transformation_mode="align_corners" if p.align_corners else "half_pixel")


@exports("_contrib_ROIAlign")
def roi_align(ctx, node, ins, outs):
    p = node.params
    if p.position_sensitive or p.aligned:
        raise ctx.unsupported(node, "with position_sensitive or aligned: ONNX RoiAlign (opset 13) has neither")
    data, rois = ins
    batch = ctx.op("Cast", ctx.op("Squeeze", ctx.op("Slice", rois, ctx.ints([0]), ctx.ints([1]), ctx.ints([1])),
                                  ctx.ints([1])), to=ctx.onnx.TensorProto.INT64)
    boxes = ctx.op("Slice", rois, ctx.ints([1]), ctx.ints([5]), ctx.ints([1]))
    height, width = p.pooled_size
    ctx.emit("RoiAlign", [data, boxes, batch], outs, mode="avg", output_height=int(height), output_width=int(width),
             sampling_ratio=max(int(p.sample_ratio), 0), spatial_scale=float(p.spatial_scale))


@exports("_contrib_div_sqrt_dim")
def div_sqrt_dim(ctx, node, ins, outs):
    dtype = ctx.dtype(node.inputs[0])
    if dtype.kind != "f":
        raise ctx.unsupported(node, "on %s data: MXNet divides by the truncated root there" % dtype)
    root = np.sqrt(np.float64(ctx.shape(node.inputs[0])[-1]))
    ctx.emit("Div", [ins[0], ctx.const(np.asarray(root, dtype=dtype), name="sqrt_dim")], outs)


@exports("_contrib_arange_like")
def arange_like(ctx, node, ins, outs):
    """A constant: its values depend on the input's shape alone, which is static unless the batch is dynamic."""
    p = node.params
    shape = ctx.shape(node.inputs[0])
    if ctx.dynamic and (p.axis is None or p.axis % len(shape) == 0):
        raise ctx.unsupported(node, "with dynamic=True over the batch axis: its values would depend on the batch")
    from .. import ndarray as nd
    value = nd.contrib.arange_like(nd.zeros(shape, dtype=ctx.dtype(node.inputs[0])), start=p.start, step=p.step,
                                   repeat=p.repeat, axis=p.axis).asnumpy()
    ctx.emit("Identity", [ctx.const(value, dtype=value.dtype, name="arange")], outs)


@imports("Resize", "Upsample")
def resize(ctx, node, ins):
    """Nearest by one integer scale -> UpSampling; linear (align_corners or half_pixel) to a constant size or
    scale -> BilinearResize2D."""
    a = ctx.attrs(node)
    mode = _text(a.get("mode", b"nearest"))
    scales_name = ins[2] if node.op_type == "Resize" and len(ins) > 2 else (ins[1] if len(ins) > 1 else "")
    scales = ctx.value(scales_name).tolist() if scales_name else list(a.get("scales", []))
    sym = ctx.sym
    if mode == "nearest":
        if len(scales) != 4 or scales[:2] != [1, 1] or scales[2] != scales[3] or scales[2] != int(scales[2]):
            raise ctx.unsupported("nearest other than by one integer scale over H and W")
        return sym.UpSampling(ctx.get(ins[0]), scale=int(scales[2]), sample_type="nearest", num_args=1)
    transform = _text(a.get("coordinate_transformation_mode", b"half_pixel"))
    if mode != "linear" or transform not in ("align_corners", "half_pixel"):
        raise ctx.unsupported("with mode %s and %s coordinates: linear with align_corners or half_pixel imports"
                              % (mode, transform))
    if len(ins) > 3 and ins[3]:
        height, width = (int(v) for v in ctx.value(ins[3])[2:])
        return sym.contrib.BilinearResize2D(ctx.get(ins[0]), height=height, width=width,
                                            align_corners=transform == "align_corners")
    if len(scales) != 4 or scales[:2] != [1, 1]:
        raise ctx.unsupported("with scales %s: scale H and W only" % (scales,))
    return sym.contrib.BilinearResize2D(ctx.get(ins[0]), scale_height=float(scales[2]),
                                        scale_width=float(scales[3]), mode="size",
                                        align_corners=transform == "align_corners")


@imports("RoiAlign")
def roi_align_import(ctx, node, ins):
    a = ctx.attrs(node)
    if _text(a.get("mode", b"avg")) != "avg":
        raise ctx.unsupported("with mode max: MXNet's ROIAlign averages")
    sym = ctx.sym
    batch = sym.reshape(sym.cast(ctx.get(ins[2]), dtype="float32"), shape=(-1, 1))
    rois = sym.concat(batch, ctx.get(ins[1]), dim=1)
    return sym.contrib.ROIAlign(ctx.get(ins[0]), rois, pooled_size=(a.get("output_height", 1),
                                                                    a.get("output_width", 1)),
                                spatial_scale=float(a.get("spatial_scale", 1.0)),
                                sample_ratio=int(a.get("sampling_ratio", 0)) or -1)


def _text(value):
    return value.decode() if isinstance(value, bytes) else value
