"""`mx.image.image`: MXNet's image helpers on (H, W, C) NDArrays, computed with numpy.

MXNet runs these with OpenCV. Here decoding uses Pillow when it is installed (it is not a dependency: without it
`imdecode`/`imread` raise MXNetError saying so), and resizing is separable interpolation with OpenCV's sampling
positions (pixel centres, replicated borders; nearest picks floor(i * scale)): interp 0 (nearest), 1 (bilinear),
2 (bicubic, a = -0.75) and 3 (area, when shrinking; enlarging with area is not implemented). The maths is in
float64 and rounded to the image's dtype, so uint8 results may differ from OpenCV's fixed-point ones by 1.
Lanczos (4), the Augmenter classes and ImageIter are not here yet.
"""
import io
import random
import threading

import numpy as np

from ..base import MXNetError
from ..ndarray import NDArray, array

__all__ = ["imread", "imdecode", "imresize", "scale_down", "resize_short", "fixed_crop", "random_crop",
           "random_size_crop", "center_crop", "color_normalize"]


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


def _weights(old, new, interp):
    """(new, old) matrix mapping one axis of `old` samples to `new` with OpenCV's sampling positions."""
    scale = old / new
    matrix = np.zeros((new, old))
    rows = np.arange(new)
    if interp == 0:
        matrix[rows, np.minimum(np.floor(rows * scale).astype(int), old - 1)] = 1
        return matrix
    if interp == 3:
        if new > old:
            raise MXNetError("imresize: area interpolation (interp=3) enlarging %d -> %d is not implemented here; "
                             "use interp=1 or 2" % (old, new))
        for i in rows:          # each output pixel averages the input pixels it covers, by overlap
            lo, hi = i * scale, (i + 1) * scale
            for j in range(int(np.floor(lo)), min(int(np.ceil(hi)), old)):
                matrix[i, j] = min(hi, j + 1) - max(lo, j)
        return matrix / scale
    centre = (rows + 0.5) * scale - 0.5
    base = np.floor(centre).astype(int)
    frac = centre - base
    taps = (0, 1) if interp == 1 else (-1, 0, 1, 2)
    for k in taps:
        weight = (1 - frac if k == 0 else frac) if interp == 1 else _cubic(frac - k)
        np.add.at(matrix, (rows, np.clip(base + k, 0, old - 1)), weight)
    return matrix


def imresize(src, w, h, interp=1):
    """Resize an (H, W, C) image to (h, w, C) with OpenCV's interpolation code `interp` (see the module doc)."""
    data = _numpy(src)
    interp = _get_interp_method(interp, (data.shape[0], data.shape[1], h, w))
    if interp == 4:
        raise MXNetError("imresize: Lanczos interpolation (interp=4) is not implemented here; use interp 0-3")
    rows, cols = _weights(data.shape[0], h, interp), _weights(data.shape[1], w, interp)
    resized = np.einsum("ij,jk...,lk->il...", rows, data.astype(np.float64), cols)
    if np.issubdtype(data.dtype, np.integer):
        info = np.iinfo(data.dtype)
        resized = np.clip(np.rint(resized), info.min, info.max)
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
    new_h, new_w = (size, int(size * w / h)) if h < w else (int(size * h / w), size)
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


def random_size_crop(src, size, area, ratio, interp=2):
    """A random region covering a fraction `area` ((min, max), or (area, 1)) of the image with aspect ratio
    (w / h) drawn log-uniformly from `ratio`, resized to `size` (w, h); ten tries, then center_crop:
    (image, (x0, y0, w, h))."""
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
