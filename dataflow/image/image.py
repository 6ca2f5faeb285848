"""`mx.image.image`: MXNet's image helpers on (H, W, C) NDArrays, computed with numpy.

MXNet runs these with OpenCV. Here decoding uses Pillow when it is installed (it is not a dependency: without it
`imdecode`/`imread` raise MXNetError saying so), and resizing is separable interpolation with OpenCV's sampling
positions (pixel centres, replicated borders; nearest picks floor(i * scale)): interp 0 (nearest), 1 (bilinear),
2 (bicubic, a = -0.75), 3 (area) and 4 (Lanczos over 8 taps). The maths is in float64 and rounded (halves up) to
the image's dtype, so uint8 results may differ from OpenCV's fixed-point ones by 1 (Lanczos by 2).
`copyMakeBorder` pads with numpy (OpenCV's border type numbers), `imrotate` samples with the BilinearSampler op as
MXNet's does. The augmenters are in augment.py, ImageIter in iter.py.
"""
import io
import random
import threading
import warnings

import numpy as np
from scipy import sparse

from ..base import MXNetError
from ..ndarray import NDArray, array

__all__ = ["imread", "imdecode", "imresize", "scale_down", "resize_short", "fixed_crop", "random_crop",
           "random_size_crop", "center_crop", "color_normalize", "copyMakeBorder", "imrotate", "random_rotate"]


def _numpy(src):
    return src.asnumpy() if isinstance(src, NDArray) else np.asarray(src)


def _like(src, data):
    """`data` as an NDArray on src's context (a numpy result for a numpy source)."""
    if isinstance(src, NDArray):
        return array(data, ctx=src.context, dtype=data.dtype)
    return data


# ---- decoding ------------------------------------------------------------------------------------------------
def imdecode(buf, flag=1, to_rgb=True, out=None):
    """Decode an image file's bytes to a uint8 NDArray (H, W, 3), or (H, W, 1) for flag=0 (grayscale); channels
    in RGB order, or BGR with to_rgb=False (OpenCV's order)."""
    try:
        from PIL import Image
    except ImportError:
        raise MXNetError("mx.image.imdecode needs Pillow to decode images here (pip install Pillow)") from None
    if isinstance(buf, NDArray):
        buf = buf.asnumpy().tobytes()
    elif isinstance(buf, np.ndarray):
        buf = buf.tobytes()
    try:
        data = _decode_strictly(Image, bytes(buf), "L" if flag == 0 else "RGB")
    except Exception as error:      # Pillow raises several types for bad data
        raise MXNetError("imdecode: cannot decode the image (%d bytes): %s" % (len(buf), error)) from None
    data = data[:, :, None] if flag == 0 else (data if to_rgb else data[:, :, ::-1])
    result = array(np.ascontiguousarray(data), dtype=np.uint8)
    if out is not None:
        out[:] = result
        return out
    return result


_LENIENT_LOCK = threading.Lock()


def _decode_strictly(Image, data, mode):
    """The decoded pixels, refusing a truncated file even where another library (GluonCV does, at import) has set
    Pillow's global `ImageFile.LOAD_TRUNCATED_IMAGES`, which would fill the missing rows silently. The flag is
    switched off only around our own decodes, under a lock, and only while someone has switched it on."""
    from PIL import ImageFile
    if not ImageFile.LOAD_TRUNCATED_IMAGES:
        return np.asarray(Image.open(io.BytesIO(data)).convert(mode))
    with _LENIENT_LOCK:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            return np.asarray(Image.open(io.BytesIO(data)).convert(mode))
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = True


def imread(filename, flag=1, to_rgb=True, out=None):
    """Read and decode the image file `filename` (see imdecode)."""
    with open(filename, "rb") as fh:
        return imdecode(fh.read(), flag, to_rgb, out)


# ---- resizing ------------------------------------------------------------------------------------------------
def _get_interp_method(interp, sizes=()):
    """The OpenCV interpolation code (0-4) for `interp`: 9 picks by `sizes` (old_h, old_w, new_h, new_w): bicubic
    (2) when enlarging both sides, area (3) when shrinking both, bilinear (1) otherwise, bicubic without sizes;
    10 picks one of 0-4 at random."""
    if interp == 9:
        if not sizes:
            return 2
        assert len(sizes) == 4
        old_h, old_w, new_h, new_w = sizes
        if new_h > old_h and new_w > old_w:
            return 2
        if new_h < old_h and new_w < old_w:
            return 3
        return 1
    if interp == 10:
        return random.randint(0, 4)
    if interp not in (0, 1, 2, 3, 4):
        raise ValueError("Unknown interp method %d" % interp)
    return interp


def _cubic(t, a=-0.75):
    t = np.abs(t)
    return np.where(t <= 1, ((a + 2) * t - (a + 3)) * t * t + 1,
                    np.where(t < 2, ((t - 5) * t + 8) * t * a - 4 * a, 0.0))


def _lanczos4(t):
    """Lanczos' windowed sinc over 4 lobes (OpenCV's INTER_LANCZOS4 before it normalises each row)."""
    return np.sinc(t) * np.sinc(t / 4)


def _weights(old, new, interp, area_enlarges=False):
    """(new, old) matrix mapping one axis of `old` samples to `new` with OpenCV's sampling positions.
    Area interpolation averages what each output pixel covers when neither axis grows (OpenCV's resizeArea);
    otherwise (`area_enlarges`) OpenCV blends linearly only across the input pixels' edges."""
    scale = old / new
    matrix = np.zeros((new, old))
    rows = np.arange(new)
    if interp == 0:
        matrix[rows, np.minimum(np.floor(rows * scale).astype(int), old - 1)] = 1
        return matrix
    if interp == 3 and not area_enlarges:
        for i in rows:          # each output pixel averages the input pixels it covers, by overlap
            lo, hi = i * scale, (i + 1) * scale
            for j in range(int(np.floor(lo)), min(int(np.ceil(hi)), old)):
                matrix[i, j] = min(hi, j + 1) - max(lo, j)
        return matrix / scale
    if interp == 3:
        base = np.floor(rows * scale).astype(int)
        frac = (rows + 1) - (base + 1) / scale      # how far the output pixel reaches past the input pixel's edge
        frac = np.where(frac <= 0, 0.0, frac - np.floor(frac))
    else:
        centre = (rows + 0.5) * scale - 0.5
        base = np.floor(centre).astype(int)
        frac = centre - base
    if interp in (1, 3):
        taps = {0: 1 - frac, 1: frac}
    elif interp == 2:
        taps = {k: _cubic(frac - k) for k in (-1, 0, 1, 2)}
    else:
        taps = {k: _lanczos4(frac - k) for k in range(-3, 5)}
        total = sum(taps.values())
        taps = {k: weight / total for k, weight in taps.items()}
    for k, weight in taps.items():
        np.add.at(matrix, (rows, np.clip(base + k, 0, old - 1)), weight)
    return matrix


def imresize(src, w, h, interp=1):
    """Resize an (H, W, C) image to (h, w, C) with OpenCV's interpolation code `interp` (see the module doc)."""
    data = _numpy(src)
    interp = _get_interp_method(interp, (data.shape[0], data.shape[1], h, w))
    old_h, old_w = data.shape[:2]
    # the rows, then the columns: two products with sparse (banded) weight matrices
    area_enlarges = h > old_h or w > old_w
    rows, cols = _weights(old_h, h, interp, area_enlarges), _weights(old_w, w, interp, area_enlarges)
    channels = data.shape[2:]
    by_rows = sparse.csr_matrix(rows) @ data.astype(np.float64).reshape(old_h, -1)          # (h, old_w * C)
    by_rows = np.moveaxis(by_rows.reshape((h, old_w) + channels), 1, 0).reshape(old_w, -1)   # (old_w, h * C)
    resized = np.moveaxis((sparse.csr_matrix(cols) @ by_rows).reshape((w, h) + channels), 0, 1)
    if np.issubdtype(data.dtype, np.integer):
        # halves round up, as OpenCV's fixed point does, after dropping float noise (so equal rows stay equal)
        info = np.iinfo(data.dtype)
        resized = np.clip(np.floor(np.round(resized, 6) + 0.5), info.min, info.max)
    return _like(src, resized.astype(data.dtype))


def scale_down(src_size, size):
    """Shrink the crop `size` (w, h) to fit in `src_size` (w, h), keeping its aspect ratio."""
    w, h = size
    sw, sh = src_size
    if sh < h:
        w, h = float(w * sh) / h, sh
    if sw < w:
        w, h = sw, float(h * sw) / w
    return int(w), int(h)


def resize_short(src, size, interp=2):
    """Resize so that the shorter side is `size`, keeping the aspect ratio."""
    h, w = src.shape[:2]
    new_h, new_w = (size * h // w, size) if h > w else (size, size * w // h)
    return imresize(src, new_w, new_h, _get_interp_method(interp, (h, w, new_h, new_w)))


# ---- cropping and normalising --------------------------------------------------------------------------------
def fixed_crop(src, x0, y0, w, h, size=None, interp=2):
    """The (w, h) region at (x0, y0), resized to `size` (w, h) when given and different."""
    out = _like(src, np.ascontiguousarray(_numpy(src)[y0:y0 + h, x0:x0 + w]))
    if size is not None and (w, h) != tuple(size):
        out = imresize(out, size[0], size[1], _get_interp_method(interp, (h, w, size[1], size[0])))
    return out


def random_crop(src, size, interp=2):
    """A random region of `size` (w, h) (scaled down to fit), resized to `size`: (image, (x0, y0, w, h))."""
    h, w = src.shape[:2]
    new_w, new_h = scale_down((w, h), size)
    x0, y0 = random.randint(0, w - new_w), random.randint(0, h - new_h)
    return fixed_crop(src, x0, y0, new_w, new_h, size, interp), (x0, y0, new_w, new_h)


def random_size_crop(src, size, area, ratio, interp=2, **kwargs):
    """A random region covering a fraction `area` ((min, max), or (area, 1)) of the image with aspect ratio
    (w / h) drawn log-uniformly from `ratio`, resized to `size` (w, h); ten tries, then center_crop:
    (image, (x0, y0, w, h)). `min_area=` is the deprecated name of `area`."""
    if "min_area" in kwargs:
        warnings.warn("`min_area` is deprecated. Please use `area` instead.", DeprecationWarning, stacklevel=2)
        area = kwargs.pop("min_area")
    if kwargs:
        raise TypeError("random_size_crop: unexpected keyword arguments %s" % sorted(kwargs))
    h, w = src.shape[:2]
    if isinstance(area, (int, float)):
        area = (area, 1.0)
    for _ in range(10):
        target_area = random.uniform(area[0], area[1]) * h * w
        new_ratio = np.exp(random.uniform(np.log(ratio[0]), np.log(ratio[1])))
        new_w = int(round(np.sqrt(target_area * new_ratio)))
        new_h = int(round(np.sqrt(target_area / new_ratio)))
        if new_w <= w and new_h <= h:
            x0, y0 = random.randint(0, w - new_w), random.randint(0, h - new_h)
            return fixed_crop(src, x0, y0, new_w, new_h, size, interp), (x0, y0, new_w, new_h)
    return center_crop(src, size, interp)


def center_crop(src, size, interp=2):
    """The central region of `size` (w, h) (scaled down to fit), resized to `size`: (image, (x0, y0, w, h))."""
    h, w = src.shape[:2]
    new_w, new_h = scale_down((w, h), size)
    x0, y0 = int((w - new_w) / 2), int((h - new_h) / 2)
    return fixed_crop(src, x0, y0, new_w, new_h, size, interp), (x0, y0, new_w, new_h)


def color_normalize(src, mean, std=None):
    """(src - mean) / std, broadcasting per channel."""
    if mean is not None:
        src = src - mean
    if std is not None:
        src = src / std
    return src


# ---- borders and rotation ------------------------------------------------------------------------------------
# OpenCV's border types (the values of cv2.BORDER_*, which MXNet passes on; its docstring numbers them otherwise)
# as numpy.pad modes
_BORDER_MODES = {0: "constant", 1: "edge", 2: "symmetric", 3: "wrap", 4: "reflect"}


def copyMakeBorder(src, top, bot, left, right, type=0, value=0.0, values=(), out=None):  # noqa: A002 (MXNet's name)
    """`src` (H, W, C) with borders of top/bot rows and left/right columns, OpenCV's border type: 0 constant
    (`values` per channel, or `value`), 1 replicate (aaa|abc), 2 reflect (cba|abc), 3 wrap (abc|abc),
    4 reflect 101 (dcb|abcd)."""
    if type not in _BORDER_MODES:
        raise MXNetError("copyMakeBorder: unknown border type %r (use 0-4)" % (type,))
    data = _numpy(src)
    widths = [(top, bot), (left, right)] + [(0, 0)] * (data.ndim - 2)
    if type == 0:
        channels = data.shape[2] if data.ndim == 3 else 1
        fill = np.full(channels, value, np.float64)
        if len(values):             # OpenCV's Scalar: the channels `values` leaves out are 0
            fill[:] = 0
            fill[:min(len(values), channels)] = values[:channels]
        padded = np.empty((data.shape[0] + top + bot, data.shape[1] + left + right) + data.shape[2:], data.dtype)
        padded[...] = fill.astype(data.dtype) if data.ndim == 3 else fill[0]
        padded[top:top + data.shape[0], left:left + data.shape[1]] = data
    else:
        padded = np.pad(data, widths, mode=_BORDER_MODES[type])
    result = _like(src, padded)
    if out is not None:
        out[:] = result
        return out
    return result


def imrotate(src, rotation_degrees, zoom_in=False, zoom_out=False):
    """Rotate a float32 image (C, H, W) or batch (N, C, H, W) by `rotation_degrees` (a scalar, or one angle per
    image) about its centre with bilinear sampling and zero fill; zoom_in scales so that no fill shows, zoom_out
    so that the whole rotated image fits."""
    from .. import ndarray as nd
    if zoom_in and zoom_out:
        raise ValueError("`zoom_in` and `zoom_out` cannot be both True")
    if src.dtype is not np.float32:
        raise TypeError("Only `float32` images are supported by this function")
    single = src.ndim == 3
    if single:
        if not isinstance(rotation_degrees, (int, float, np.number)):
            raise TypeError("When a single image is passed the rotation angle is required to be a scalar.")
        src = src.expand_dims(axis=0)
    elif src.ndim != 4:
        raise ValueError("Only 3D and 4D are supported by this function")
    angles = _numpy(rotation_degrees).astype(np.float32).reshape(-1)
    if angles.size == 1:
        angles = np.repeat(angles, len(src))
    if len(src) != len(angles):
        raise ValueError("The number of images must be equal to the number of rotation angles")
    grid = _rotation_grid(angles * np.float32(np.pi / 180), src.shape[2], src.shape[3], zoom_in, zoom_out)
    rotated = nd.BilinearSampler(src, nd.array(grid, ctx=src.context))
    return rotated[0] if single else rotated


def _rotation_grid(radians, h, w, zoom_in, zoom_out):
    """BilinearSampler's (N, 2, H, W) grid (x, y in [-1, 1]) that rotates each image by `radians` about its
    centre, scaled for zoom_in / zoom_out; float32 as MXNet computes it."""
    half_h, half_w = np.float32((h - 1) / 2), np.float32((w - 1) / 2)
    ys = (np.arange(h, dtype=np.float32)[:, None] - half_h) * np.ones((1, w), np.float32)
    xs = (np.arange(w, dtype=np.float32)[None, :] - half_w) * np.ones((h, 1), np.float32)
    cos, sin = np.cos(radians)[:, None, None], np.sin(radians)[:, None, None]
    x_rot = (xs * cos - ys * sin) / half_w
    y_rot = (xs * sin + ys * cos) / half_h
    scale = np.float32(1)
    if zoom_in or zoom_out:
        # the rotated image's corners, from the centre: how far they reach along x and y
        fh, fw = np.float32(h), np.float32(w)
        radius, corner = np.sqrt(fh * fh + fw * fw), np.arctan(fh / fw)
        turn = np.abs(radians)
        reach_x = np.maximum(np.abs(radius * np.cos(corner + turn)), np.abs(radius * np.cos(corner - turn)))
        reach_y = np.maximum(np.abs(radius * np.sin(corner + turn)), np.abs(radius * np.sin(corner - turn)))
        if zoom_out:
            scale = np.maximum(reach_x / fw, reach_y / fh)
        else:
            scale = np.minimum(fw / reach_x, fh / reach_y)
        scale = scale.astype(np.float32)[:, None, None, None]
    return (np.stack([x_rot, y_rot], axis=1) * scale).astype(np.float32)


def random_rotate(src, angle_limits, zoom_in=False, zoom_out=False):
    """imrotate by an angle drawn uniformly from `angle_limits` (degrees) with numpy's global generator (one per
    image of a batch), as MXNet."""
    if src.ndim == 3:
        angles = np.random.uniform(*angle_limits)
    else:
        angles = np.random.uniform(*angle_limits, size=src.shape[0])
    return imrotate(src, angles, zoom_in=zoom_in, zoom_out=zoom_out)
