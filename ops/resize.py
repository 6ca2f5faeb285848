"""`_contrib_BilinearResize2D` (MXNet's src/operator/contrib/bilinear_resize.cc) and its backward op: bilinear
resizing of NCHW data, the segmentation models' upsampling (GluonCV's FCN, PSPNet, DeepLab). Kernels:
ops/cpu/resize.py.

Facts checked on MXNet 1.9.1 (native CPU):
- output (N, C, out_h, out_w) by `mode`: "size": (height, width), or (int(H * scale_height), int(W * scale_width))
  once scale_height is given (scale_width must be given then too; scale_width alone is ignored); "odd_scale"
  (both scales required): an odd side becomes int((side - 1) * scale) + 1, an even one int(side * scale);
  "like": the second input's last two dims; "to_even_down"/"to_even_up"/"to_odd_down"/"to_odd_up": the nearest
  even/odd side at or below/above each side.
- values: output pixel d samples source coordinate d * (in - 1) / (out - 1) with align_corners (the default), else
  max((d + 0.5) * in / out - 0.5, 0); an output side of 1 samples coordinate 0 either way. The two neighbours are
  floor(src) and min(floor(src) + 1, in - 1).
- float16/float32/float64 only ("only support floating point types"); the `like` input gets a zero gradient.
  MXNet's float64 results carry float32-precision weights (~1e-7 relative); here float64 computes in float64.
Differs on purpose: MXNet makes a zero-size output where a mode or scale gives a side of 0 (to_even_down of 1,
size with a small scale); MXNet 1.x reads 0 as an unknown dimension elsewhere, so here that is a clear error.
"""
from .autodiff import apply
from .cpu import resize as cpu
from .elemwise import float_only, merge
from .errors import ShapeError
from .registry import Bool, Enum, Int, OpDef, OptFloat, register

_NAME = "_contrib_BilinearResize2D"
_MODES = ("like", "odd_scale", "size", "to_even_down", "to_even_up", "to_odd_down", "to_odd_up")
_PARAMS = dict(
    height=Int(1, "output height (required, but ignored if scale_height is defined or mode is not \"size\")"),
    width=Int(1, "output width (required, but ignored if scale_width is defined or mode is not \"size\")"),
    scale_height=OptFloat(None, "sampling scale of the height (optional, used in modes \"scale\" and \"odd_scale\")"),
    scale_width=OptFloat(None, "sampling scale of the width (optional, used in modes \"scale\" and \"odd_scale\")"),
    mode=Enum(_MODES, "size", "resizing mode: \"size\" (height and width, or the input's sides times the scales), "
                              "\"odd_scale\", \"like\" (the second input's height and width), \"to_even_down\", "
                              "\"to_even_up\", \"to_odd_down\", \"to_odd_up\""),
    align_corners=Bool(True, "With align_corners = True, the interpolating doesn't proportionally align the output "
                             "and input pixels, and thus the output values can depend on the input size."))

_ROUND = {"to_even_down": lambda s: s - s % 2, "to_even_up": lambda s: s + s % 2,
          "to_odd_down": lambda s: s - 1 + s % 2, "to_odd_up": lambda s: s + 1 - s % 2}


def _scales(p):
    if p.scale_height is None or p.scale_width is None:
        raise ShapeError("%s: mode=%r with scale_height=%s needs both scale_height and scale_width"
                         % (_NAME, p.mode, p.scale_height))
    return p.scale_height, p.scale_width


def output_size(p, data, like):
    """(out_h, out_w) for data (N, C, H, W) and, in mode 'like', like's shape; None while unknown."""
    height, width = data[2], data[3]
    if p.mode == "like":
        return None if like is None or not like[2] or not like[3] else (like[2], like[3])
    if p.mode == "size" and p.scale_height is None:
        size = (p.height, p.width)
    elif not height or not width:
        return None
    elif p.mode == "size":
        scale_h, scale_w = _scales(p)
        size = (int(height * scale_h), int(width * scale_w))
    elif p.mode == "odd_scale":
        scales = _scales(p)
        size = tuple(int((side - 1) * s) + 1 if side % 2 else int(side * s) for side, s in zip((height, width), scales))
    else:
        size = (_ROUND[p.mode](height), _ROUND[p.mode](width))
    if min(size) < 1:
        raise ShapeError("%s: mode=%r gives an output of %dx%d for data %s (MXNet would make an empty array)"
                         % (_NAME, p.mode, size[0], size[1], tuple(data)))
    return size


def _arguments(p):
    return ["data", "like"] if p.mode == "like" else ["data"]


def _shape(p, in_shapes, out_shapes):
    data, like = in_shapes[0], in_shapes[1] if p.mode == "like" else None
    for name, shape in (("data", data), ("like", like)):
        if shape is not None and len(shape) != 4:
            raise ShapeError("%s: %s must be 4-D (N, C, H, W), got %s" % (_NAME, name, shape))
    if data is None:
        return list(in_shapes), list(out_shapes)
    size = output_size(p, data, like)
    return list(in_shapes), [None if size is None else tuple(data[:2]) + size]


def _gradient(p, ins, outs, dys):
    dx = apply("_backward_contrib_BilinearResize2D", dys[0], ins[0], **_param_dict(p))
    return [dx] + ([None] if p.mode == "like" else [])


def _param_dict(p):
    return {key: getattr(p, key) for key in _PARAMS}


register(OpDef(_NAME, arguments=_arguments, params=_PARAMS, infer_shape=_shape, infer_type=float_only(_NAME),
               gradient=_gradient, cpu=cpu.bilinear_resize,
               doc="Perform 2D resizing (upsampling or downsampling) for 4D input using bilinear interpolation. "
                   "Expected input is a 4 dimensional NDArray (NCHW) and the output with the shape of (N x C x "
                   "height x width)."))


def _backward_shape(p, in_shapes, out_shapes):
    dy, data = in_shapes
    data = merge(data, out_shapes[0])
    return [dy, data], [data]


register(OpDef("_backward_contrib_BilinearResize2D", arguments=("ograd", "data"), params=_PARAMS,
               infer_shape=_backward_shape, infer_type=float_only("_backward_contrib_BilinearResize2D"),
               cpu=cpu.backward_bilinear_resize,
               doc="Gradient of _contrib_BilinearResize2D with respect to data: each output pixel's gradient "
                   "spread back over its four source pixels with the interpolation weights."))
