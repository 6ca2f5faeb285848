"""MXNet's `image` ops (`mx.nd.image.X`, `mx.sym.image.X`; src/operator/image/ in MXNet): the data-pipeline ops
that `gluon.data.vision.transforms` hybridizes. Kernels: ops/cpu/image.py.

Facts checked on MXNet 1.9.1 (native CPU):
- `to_tensor`: (H, W, C) -> (C, H, W), (N, H, W, C) -> (N, C, H, W), always float32, values / 255; any dtype but bool.
- `normalize`: (C, H, W) or (N, C, H, W) with C 1 or 3; mean and std have 1 or C values (the defaults have 4, so
  a 3-channel call must pass both); output in the input's dtype; gradient dy / std.
- `resize`: size (w, h) or one int (both sides, or with keep_ratio the shorter side, the other side
  int(other * size / shorter)); 3-D or 4-D; OpenCV's interpolation codes 0-4; float16 and int32 refused.
- `crop`: x, y, width, height within the image, 3-D or 4-D; gradient zero outside the region.
- flips and the colour ops: one (H, W, C) image, C 1 or 3 (a batch is refused, as in MXNet). Factors are drawn
  with `mx.random.seed`'s generator: brightness scales; contrast blends with the mean luma; saturation blends with
  MXNet 1.9.1's per-pixel "gray" (its kernel keeps only the blue term); hue rotates by factor * 360 degrees in HLS;
  lighting adds AlexNet's PCA noise; color_jitter applies the enabled ones in a random order, factors
  1 + uniform(-x, x) (hue: uniform(-hue, hue)). 1-channel images pass saturation, hue and lighting unchanged.
Differs on purpose: MXNet's gradient of the flips and colour ops passes dy through unchanged (`_copy`), which is
wrong for all of them; here the deterministic flips get their true gradient (the flipped dy) and the random and
colour ops have none (differentiating through them raises). MXNet leaves a 1-channel hue/lighting output
unwritten; here it is the input. A negative crop origin is refused (MXNet reads outside the image).
"""
from .autodiff import apply
from .cpu import image as cpu
from .errors import DTypeError, ParamError, ShapeError
from .registry import Bool, Float, Int, OpDef, Shape, register
from .update import Floats

_FACTORS = dict(min_factor=Float(doc="Minimum factor."), max_factor=Float(doc="Maximum factor."))


def _op(name):
    return "_image_" + name


def _known(shape):
    return shape is not None


# ---- shape rules ------------------------------------------------------------------------------------------------

def _check_params(name, p):
    for key in ("min_factor", "max_factor"):
        if getattr(p, key, 0.0) < 0:
            raise ParamError("%s: %s must be >= 0, got %s" % (_op(name), key, getattr(p, key)))
    if hasattr(p, "alpha") and len(p.alpha) != 3:
        raise ParamError("%s: alpha needs 3 values (R, G, B), got %s" % (_op(name), list(p.alpha)))


def _one_image(name):
    """MXNet's ImageShape: one (H, W, C) image with 1 or 3 channels, output the same shape."""
    def rule(p, in_shapes, out_shapes):
        _check_params(name, p)
        shape = in_shapes[0] if _known(in_shapes[0]) else out_shapes[0]
        if not _known(shape):
            return list(in_shapes), list(out_shapes)
        if len(shape) != 3:
            raise ShapeError("%s: Input image must have shape (height, width, channels), but got %s"
                             % (_op(name), tuple(shape)))
        if shape[2] not in (1, 3):
            raise ShapeError("%s: The last dimension of input image must be the channel dimension with either 1 or "
                             "3 elements, but got input with shape %s" % (_op(name), tuple(shape)))
        return [shape], [shape]
    return rule


def _image_or_batch(name, shape):
    if len(shape) not in (3, 4):
        raise ShapeError("%s: Input image must have shape (height, width, channels), or (N, height, width, "
                         "channels) but got %s" % (_op(name), tuple(shape)))


def _to_tensor_shape(p, in_shapes, out_shapes):
    shape = in_shapes[0]
    if not _known(shape):
        return list(in_shapes), list(out_shapes)
    _image_or_batch("to_tensor", shape)
    return [shape], [tuple(shape[:-3]) + (shape[-1],) + tuple(shape[-3:-1])]


def _to_tensor_type(p, in_types, out_types):
    if in_types[0] is not None and in_types[0].kind == "b":
        raise DTypeError("_image_to_tensor: the input must be a number type, got bool")
    return list(in_types), ["float32"]


def _normalize_shape(p, in_shapes, out_shapes):
    shape = in_shapes[0] if _known(in_shapes[0]) else out_shapes[0]
    if not _known(shape):
        return list(in_shapes), list(out_shapes)
    if len(shape) not in (3, 4):
        raise ShapeError("_image_normalize: Input tensor must have shape (channels, height, width), or (N, channels, "
                         "height, width), but got %s" % (tuple(shape),))
    channels = shape[-3]
    if channels not in (1, 3):
        raise ShapeError("_image_normalize: The %s dimension of input tensor must be the channel dimension with "
                         "either 1 or 3 elements, but got input with shape %s"
                         % ("first" if len(shape) == 3 else "second", tuple(shape)))
    for key in ("mean", "std"):
        values = getattr(p, key)
        if len(values) not in (1, channels):
            raise ShapeError("_image_normalize: Invalid %s for input with shape %s. %s must have either 1 or %d "
                             "elements, but got %s" % (key, tuple(shape), key, channels, list(values)))
    return [shape], [shape]


def _resize_size(p, height, width):
    """(new_h, new_w) for an image of height x width."""
    if len(p.size) not in (1, 2):
        raise ShapeError("_image_resize: Input size dimension must be 1 or 2, but got %d" % len(p.size))
    if any(side <= 0 for side in p.size):
        raise ShapeError("_image_resize: the size must be positive, got %s" % (tuple(p.size),))
    if len(p.size) == 2:
        return p.size[1], p.size[0]
    size = p.size[0]
    if not p.keep_ratio:
        return size, size
    if height > width:
        return int(height * size / width), size
    return size, int(width * size / height)


def _resize_shape(p, in_shapes, out_shapes):
    shape = in_shapes[0]
    if not _known(shape):
        return list(in_shapes), list(out_shapes)
    if len(shape) not in (3, 4):
        raise ShapeError("_image_resize: Input image dimension should be 3 or 4 but got %d" % len(shape))
    if p.interp not in (0, 1, 2, 3, 4):
        raise ShapeError("_image_resize: Unknown interpolation method %d (OpenCV's codes are 0-4)" % p.interp)
    new_h, new_w = _resize_size(p, shape[-3], shape[-2])
    return [shape], [tuple(shape[:-3]) + (new_h, new_w, shape[-1])]


def _resize_type(p, in_types, out_types):
    dtype = in_types[0]
    if dtype is not None and dtype.name not in ("uint8", "float32", "float64"):
        raise DTypeError("_image_resize: OpenCV's resize takes uint8, float32 or float64 images, not %s" % dtype.name)
    return [dtype], [dtype]


def _crop_shape(p, in_shapes, out_shapes):
    shape = in_shapes[0]
    if not _known(shape):
        return list(in_shapes), list(out_shapes)
    _image_or_batch("crop", shape)
    height, width = shape[-3:-1]
    if p.height <= 0 or p.width <= 0:
        raise ShapeError("_image_crop: Input height and width must be greater than 0, got %dx%d"
                         % (p.height, p.width))
    if p.x < 0 or p.y < 0:
        raise ShapeError("_image_crop: x and y must not be negative, got x=%d, y=%d" % (p.x, p.y))
    if p.x + p.width > width:
        raise ShapeError("_image_crop: x + width should not be greater than input width (%d + %d > %d for %s)"
                         % (p.x, p.width, width, tuple(shape)))
    if p.y + p.height > height:
        raise ShapeError("_image_crop: y + height should not be greater than input height (%d + %d > %d for %s)"
                         % (p.y, p.height, height, tuple(shape)))
    return [shape], [tuple(shape[:-3]) + (p.height, p.width, shape[-1])]


def _number_type(name):
    def rule(p, in_types, out_types):
        dtype = in_types[0] if in_types[0] is not None else out_types[0]
        if dtype is not None and dtype.kind == "b":
            raise DTypeError("%s: the input must be a number type, got bool" % _op(name))
        return [dtype], [dtype]
    return rule


# ---- registration -----------------------------------------------------------------------------------------------

register(OpDef(_op("to_tensor"), infer_shape=_to_tensor_shape, infer_type=_to_tensor_type, cpu=cpu.to_tensor,
               doc="Converts an image NDArray of shape (H x W x C) or (N x H x W x C) with values in the range "
                   "[0, 255] to a tensor of shape (C x H x W) or (N x C x H x W) with values in [0, 1)."))

_NORMALIZE = dict(mean=Floats((0.0, 0.0, 0.0, 0.0), "Sequence of means for each channel. Default value is 0."),
                  std=Floats((1.0, 1.0, 1.0, 1.0), "Sequence of standard deviations for each channel. Default value "
                                                   "is 1."))

register(OpDef(_op("normalize"), params=_NORMALIZE, infer_shape=_normalize_shape,
               infer_type=_number_type("normalize"), inplace=((0, 0),), cpu=cpu.normalize,
               gradient=lambda p, ins, outs, dys: [apply("_backward_image_normalize", dys[0], mean=p.mean,
                                                         std=p.std)],
               doc="Normalize a tensor of shape (C x H x W) or (N x C x H x W) with mean and standard deviation: "
                   "output[i] = (input[i] - mean[i]) / std[i] per channel."))

register(OpDef("_backward_image_normalize", params=_NORMALIZE, arguments=("ograd",), infer_shape=_normalize_shape,
               cpu=cpu.backward_normalize, doc="Gradient of _image_normalize: dy / std per channel."))

register(OpDef(_op("resize"), infer_shape=_resize_shape, infer_type=_resize_type, cpu=cpu.resize,
               params=dict(size=Shape((), "Size of new image. Could be (width, height) or (size)"),
                           keep_ratio=Bool(False, "Whether to resize the short edge or both edges to `size`, if "
                                                  "size is give as an integer."),
                           interp=Int(1, "Interpolation method for resizing: 0 nearest, 1 bilinear, 2 bicubic, "
                                         "3 area, 4 Lanczos (OpenCV's codes)", )),
               doc="Resize an image NDArray of shape (H x W x C) or (N x H x W x C) to the given size."))


_CROP = dict(x=Int(doc="Left boundary of the cropping area."), y=Int(doc="Top boundary of the cropping area."),
             width=Int(doc="Width of the cropping area."), height=Int(doc="Height of the cropping area."))

register(OpDef(_op("crop"), params=_CROP, infer_shape=_crop_shape, infer_type=_number_type("crop"), cpu=cpu.crop,
               gradient=lambda p, ins, outs, dys: [apply("_backward_image_crop", dys[0], ins[0], **p.as_dict())],
               doc="Crop an image NDArray of shape (H x W x C) or (N x H x W x C) to the region of the given "
                   "width and height at (x, y)."))


def _backward_crop_shape(p, in_shapes, out_shapes):
    return list(in_shapes), [in_shapes[1]]


register(OpDef("_backward_image_crop", params=_CROP, arguments=("ograd", "data"), infer_shape=_backward_crop_shape,
               infer_type=lambda p, ins, outs: (list(ins), [ins[0]]), cpu=cpu.backward_crop,
               doc="Gradient of _image_crop: dy inside the cropped region, zero elsewhere."))


def _image_op(name, kernel, doc, params=None, gradient=None):
    register(OpDef(_op(name), params=params or {}, infer_shape=_one_image(name), infer_type=_number_type(name),
                   inplace=((0, 0),) if not name.startswith("flip") else (), cpu=kernel, gradient=gradient,
                   doc=doc))


_image_op("flip_left_right", cpu.flip_left_right, "Reverse the columns of one (H x W x C) image.",
          gradient=lambda p, ins, outs, dys: [apply("_image_flip_left_right", dys[0])])
_image_op("flip_top_bottom", cpu.flip_top_bottom, "Reverse the rows of one (H x W x C) image.",
          gradient=lambda p, ins, outs, dys: [apply("_image_flip_top_bottom", dys[0])])
_image_op("random_flip_left_right", cpu.random_flip_left_right,
          "Reverse the columns of one (H x W x C) image with probability 0.5.")
_image_op("random_flip_top_bottom", cpu.random_flip_top_bottom,
          "Reverse the rows of one (H x W x C) image with probability 0.5.")
_image_op("random_brightness", cpu.random_brightness,
          "Scale one image by a factor drawn uniformly from [min_factor, max_factor].", dict(_FACTORS))
_image_op("random_contrast", cpu.random_contrast,
          "Blend one image with its mean luma by a factor drawn uniformly from [min_factor, max_factor].",
          dict(_FACTORS))
_image_op("random_saturation", cpu.random_saturation,
          "Blend one image with its gray image by a factor drawn uniformly from [min_factor, max_factor].",
          dict(_FACTORS))
_image_op("random_hue", cpu.random_hue,
          "Rotate the hue of one image by a factor (of a full turn) drawn uniformly from [min_factor, max_factor].",
          dict(_FACTORS))
_image_op("random_color_jitter", cpu.random_color_jitter,
          "Jitter the brightness, contrast, saturation and hue of one image, in a random order.",
          dict(brightness=Float(doc="How much to jitter brightness."),
               contrast=Float(doc="How much to jitter contrast."),
               saturation=Float(doc="How much to jitter saturation."), hue=Float(doc="How much to jitter hue.")))
_image_op("adjust_lighting", cpu.adjust_lighting, "Add AlexNet-style PCA lighting with the given alphas.",
          dict(alpha=Floats(doc="The lighting alphas for the R, G, B channels.")))
_image_op("random_lighting", cpu.random_lighting, "Add AlexNet-style PCA lighting noise of N(0, alpha_std) alphas.",
          dict(alpha_std=Float(0.05, "Level of the lighting noise.")))
