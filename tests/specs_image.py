"""Op spec rows for ops/image.py; see tests/op_specs.py. The references are numpy one-liners here (independent of
ops/cpu/image.py); resize and the colour ops are checked against MXNet 1.9.1's recorded outputs in
tests/test_vision_transforms_mx.py, the random ones statistically there. Import tests.op_specs, never this module
first."""
import numpy as np
from hypothesis import strategies as st

from ops.errors import ParamError
from tests.op_specs import FLOATS, Err, OpSpec, Shp, array

_IMAGE_DTYPES = ("uint8", "int32", "float32", "float64")
_LIGHTING = (np.array([55.46, 4.794, 1.148]) * np.array([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140],
                                                          [-0.5836, -0.6948, 0.4203]])).astype(np.float32)


def _hw(draw):
    return draw(st.integers(1, 5)), draw(st.integers(1, 5))


def _image(draw, dtype, batch=True, channels=(1, 3)):
    h, w = _hw(draw)
    shape = (h, w, draw(st.sampled_from(channels)))
    if batch and draw(st.booleans()):
        shape = (draw(st.integers(1, 3)),) + shape
    return array(draw, dtype, shape, "nonneg")


def _to_tensor(p, x):
    axes = (2, 0, 1) if x.ndim == 3 else (0, 3, 1, 2)
    return x.astype(np.float32).transpose(axes) / np.float32(255)


def _to_tensor_sample(draw, dtype):
    return {}, [_image(draw, dtype, channels=(1, 2, 3, 4))]


def _normalize(p, x):
    dtype = np.float64 if x.dtype == np.float64 else np.float32
    mean, std = (np.asarray(v, dtype).reshape(-1, 1, 1) for v in (p.mean, p.std))
    return ((x.astype(dtype) - mean) / std).astype(x.dtype)


def _normalize_sample(draw, dtype):
    channels = draw(st.sampled_from([1, 3]))
    h, w = _hw(draw)
    shape = (channels, h, w) if draw(st.booleans()) else (draw(st.integers(1, 2)), channels, h, w)
    count = draw(st.sampled_from([1, channels]))
    values = st.lists(st.sampled_from([0.25, 0.5, 1.0, 2.0]), min_size=count, max_size=count)
    return {"mean": tuple(draw(values)), "std": tuple(draw(values))}, [array(draw, dtype, shape, "unit")]


def _crop(p, x):
    return x[..., p.y:p.y + p.height, p.x:p.x + p.width, :]


def _crop_sample(draw, dtype):
    x = _image(draw, dtype)
    h, w = x.shape[-3:-1]
    top, left = draw(st.integers(0, h - 1)), draw(st.integers(0, w - 1))
    return ({"x": left, "y": top, "width": draw(st.integers(1, w - left)), "height": draw(st.integers(1, h - top))},
            [x])


def _one_image(draw, dtype):
    return {}, [_image(draw, dtype, batch=False)]


def _lighting(p, x):
    if x.shape[-1] == 1:
        return x
    return (x.astype(np.float32) + _LIGHTING @ np.asarray(p.alpha, np.float32)).astype(x.dtype)


def _lighting_sample(draw, dtype):
    alpha = tuple(draw(st.lists(st.sampled_from([-0.5, -0.1, 0.0, 0.2, 1.0]), min_size=3, max_size=3)))
    return {"alpha": alpha}, [_image(draw, dtype, batch=False)]


SPECS = [
    OpSpec("_image_to_tensor", _to_tensor, _to_tensor_sample, dtypes=_IMAGE_DTYPES + ("float16", "int8"),
           errors=(Err({}, shapes=((4, 5),), match=r"\(height, width, channels\).*got \(4, 5\)"),
                   Err({}, shapes=((1, 1, 4, 5, 3),), match="but got"),
                   Err({}, dtypes=("bool",), exc=TypeError, match="bool")),
           shapes=(Shp({}, ((4, 5, 3),), ((3, 4, 5),)), Shp({}, ((2, 4, 5, 1),), ((2, 1, 4, 5),)))),
    OpSpec("_image_normalize", _normalize, _normalize_sample, dtypes=FLOATS, grad=True,
           tol={"float16": (4e-3, 4e-3)},
           attrs=(({"mean": "(0.5, 0.25, 1)", "std": "[2]"}, {"mean": (0.5, 0.25, 1.0), "std": (2.0,)}),
                  ({"mean": "0.5"}, {"mean": (0.5,), "std": (1.0, 1.0, 1.0, 1.0)})),
           errors=(Err({"mean": (1.0,), "std": (1.0,)}, shapes=((4, 2, 2),), match="either 1 or 3 elements"),
                   Err({"mean": (1.0, 2.0), "std": (1.0,)}, shapes=((3, 2, 2),), match="Invalid mean"),
                   Err({}, shapes=((3, 2, 2),), match="Invalid mean.*4 elements|Invalid mean"),
                   Err({"mean": (1.0,), "std": (1.0,)}, shapes=((2, 2),), match="channels, height, width")),
           shapes=(Shp({"mean": (0.0,), "std": (1.0,)}, ((2, 3, 4, 5),), ((2, 3, 4, 5),)),)),
    OpSpec("_image_crop", _crop, _crop_sample, dtypes=_IMAGE_DTYPES, grad=True,
           attrs=(({"x": "1", "y": "2", "width": "3", "height": "4"}, {"x": 1, "y": 2, "width": 3, "height": 4}),),
           errors=(Err({"x": 4, "y": 0, "width": 2, "height": 1}, shapes=((3, 5, 3),), match="x \\+ width"),
                   Err({"x": 0, "y": 2, "width": 2, "height": 2}, shapes=((3, 5, 3),), match="y \\+ height"),
                   Err({"x": 0, "y": 0, "width": 0, "height": 2}, shapes=((3, 5, 3),), match="greater than 0"),
                   Err({"x": -1, "y": 0, "width": 1, "height": 1}, shapes=((3, 5, 3),), match="negative"),
                   Err({"x": 0, "y": 0, "width": 1, "height": 1}, shapes=((3, 5),), match="but got")),
           shapes=(Shp({"x": 1, "y": 2, "width": 3, "height": 1}, ((2, 4, 5, 3),), ((2, 1, 3, 3),)),)),
    OpSpec("_image_flip_left_right", lambda p, x: x[:, ::-1], _one_image, dtypes=_IMAGE_DTYPES, grad=True,
           errors=(Err({}, shapes=((2, 4, 5, 3),), match=r"\(height, width, channels\)"),
                   Err({}, shapes=((4, 5, 2),), match="either 1 or 3")),
           shapes=(Shp({}, ((4, 5, 3),), ((4, 5, 3),)),)),
    OpSpec("_image_flip_top_bottom", lambda p, x: x[::-1], _one_image, dtypes=_IMAGE_DTYPES, grad=True,
           shapes=(Shp({}, ((4, 5, 1),), ((4, 5, 1),)),)),
    OpSpec("_image_adjust_lighting", _lighting, _lighting_sample, dtypes=("float32", "float64"),
           tol={"float64": (1e-6, 1e-6)},
           errors=(Err({"alpha": (1.0, 2.0)}, shapes=((3, 4, 3),), exc=ParamError, match="alpha needs 3 values"),),
           shapes=(Shp({"alpha": (0.1, 0.2, 0.3)}, ((3, 4, 3),), ((3, 4, 3),)),)),
]

_RANDOM = "random: no pointwise reference; MXNet's formulas at a fixed factor (min_factor == max_factor) against " \
          "MXNet 1.9.1's outputs, and the draws statistically, in tests/test_vision_transforms_mx.py"
EXEMPT = {
    "_image_resize": "OpenCV's interpolation is the reference: checked against MXNet 1.9.1's outputs (every interp, "
                     "shrinking and enlarging, uint8 within 1) in tests/test_vision_transforms_mx.py",
    "_backward_image_normalize": "internal to _image_normalize's gradient; checked through its grad=True row and "
                                 "against MXNet in tests/test_vision_transforms_mx.py",
    "_backward_image_crop": "internal to _image_crop's gradient; checked through its grad=True row and against "
                            "MXNet in tests/test_vision_transforms_mx.py",
    **{"_image_" + name: _RANDOM for name in ("random_flip_left_right", "random_flip_top_bottom", "random_brightness",
                                              "random_contrast", "random_saturation", "random_hue",
                                              "random_color_jitter", "random_lighting")},
}
