"""MXNet's default ImageRecordIter augmenter (`aug_default`) on one decoded (H, W, C) uint8 RGB image.

The steps, in MXNet 1.9.1's order (each only when its parameters ask for it):
  1. resize the shorter side to `resize`;
  2. one affine warp (OpenCV's warpAffine: the inverse map sampled at pixel coordinates, `fill_value` outside)
     combining a rotation (`rotate`, else an integer angle uniform in [-max_rotate_angle, max_rotate_angle]), a
     shear m uniform in [-max_shear_ratio, max_shear_ratio], a scale s uniform in [min_random_scale,
     max_random_scale] and an aspect ratio r uniform in [1 - max_aspect_ratio, 1 + max_aspect_ratio], onto a
     canvas of s * (width, height) clamped to [min_img_size, max_img_size];
  3. `pad` pixels of `fill_value` on every side;
  4. the crop: with random_resized_crop, up to ten tries of a region of area a * H * W (a uniform in
     [min_random_area, max_random_area]) and aspect ratio w / h uniform in [min_aspect_ratio, max_aspect_ratio]
     ([1 - max_aspect_ratio, 1 + max_aspect_ratio] without min_aspect_ratio) placed at random and resized to
     data_shape (when no try fits, step 4's default); with min/max_crop_size, a square of random side placed at
     random (rand_crop) or in the centre and resized to data_shape; else an image smaller than data_shape is
     enlarged, keeping its aspect ratio, until it covers it, and data_shape is cropped at random (rand_crop) or
     in the centre;
  5. hue, lightness and saturation shifts in OpenCV's 8-bit HLS space (H in [0, 180], L and S in [0, 255],
     clipped), uniform in [-random_h, random_h], ...;
  6. brightness, contrast and saturation jitter (factors 1 + u, u uniform in [-x, x]) in a random order, then
     PCA noise (ImageNet's eigen decomposition, alpha ~ N(0, pca_noise)), each rounded to uint8 as OpenCV's
     convertTo does; the grey of contrast and saturation weighs the channels 0.114 R + 0.587 G + 0.299 B, as
     MXNet's C++ does (it applies the RGB luma weights to OpenCV's BGR pixels).
The interpolations are image.imresize's for resizing; the warp samples with nearest (0), bilinear (1, and 3 as
OpenCV's warpAffine does), bicubic (2) or Lanczos (4) weights in float64, so pixels may differ from OpenCV's
fixed-point ones by 1 or 2 grey levels. Every random number comes from the `rng` passed in (a numpy Generator per
sample), so the draws are not MXNet's.
"""
import numpy as np
from scipy import ndimage

from ..image import image as _image
from ..base import MXNetError

# ImageNet's RGB eigen decomposition (as mx.image.CreateAugmenter's pca_noise)
_EIGVAL = np.array([55.46, 4.794, 1.148])
_EIGVEC = np.array([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140], [-0.5836, -0.6948, 0.4203]])
# the grey of MXNet's contrast and saturation jitter, per RGB channel (see the module doc)
_GREY = np.array([0.114, 0.587, 0.299])

# parameter -> the value that switches its step off
DEFAULTS = {"random_resized_crop": False, "max_rotate_angle": 0, "max_aspect_ratio": 0.0, "min_aspect_ratio": None,
            "max_shear_ratio": 0.0, "max_crop_size": -1, "min_crop_size": -1, "max_random_scale": 1.0,
            "min_random_scale": 1.0, "max_random_area": 1.0, "min_random_area": 1.0, "max_img_size": 1e10,
            "min_img_size": 0.0, "brightness": 0.0, "contrast": 0.0, "saturation": 0.0, "pca_noise": 0.0,
            "random_h": 0, "random_s": 0, "random_l": 0, "rotate": -1, "pad": 0}


class DefaultAugmenter:
    """Steps 1-6 of the module doc for images of `data_shape` (C, H, W); `options` holds any of DEFAULTS."""

    def __init__(self, data_shape, resize=-1, rand_crop=False, inter_method=1, fill_value=255, **options):
        unknown = set(options) - set(DEFAULTS)
        if unknown:
            raise MXNetError("ImageRecordIter: unknown augmentation parameters %s" % sorted(unknown))
        self.channels, self.height, self.width = data_shape
        self.resize, self.rand_crop, self.inter_method = resize, rand_crop, inter_method
        self.fill_value = fill_value
        for name, default in DEFAULTS.items():
            setattr(self, name, options.get(name, default))
        self._check()
        self.warps = bool(self.max_rotate_angle > 0 or self.max_shear_ratio > 0 or self.rotate > 0
                          or self.max_random_scale != 1 or self.min_random_scale != 1
                          or (self.max_aspect_ratio != 0 and not self.random_resized_crop)
                          or self.max_img_size != 1e10 or self.min_img_size != 0)
        self.crops_by_size = self.max_crop_size != -1 or self.min_crop_size != -1

    def _check(self):
        colour = [name for name in ("contrast", "saturation", "pca_noise", "random_h", "random_s", "random_l")
                  if getattr(self, name)]
        if colour and self.channels != 3:
            raise MXNetError("ImageRecordIter: %s need colour images (data_shape[0] = 3), data_shape[0] is %d"
                             % (", ".join(colour), self.channels))
        if self.random_resized_crop:
            low, high = self.aspect_range()
            if not 0 < low <= high:
                raise MXNetError("ImageRecordIter: the aspect ratio range [%g, %g] of random_resized_crop is empty "
                                 "or not positive" % (low, high))
            if not 0 < self.min_random_area <= self.max_random_area:
                raise MXNetError("ImageRecordIter: need 0 < min_random_area (%g) <= max_random_area (%g)"
                                 % (self.min_random_area, self.max_random_area))
        if (self.max_crop_size != -1 or self.min_crop_size != -1) and not 0 < self.min_crop_size <= self.max_crop_size:
            raise MXNetError("ImageRecordIter: need 0 < min_crop_size (%d) <= max_crop_size (%d)"
                             % (self.min_crop_size, self.max_crop_size))
        if self.min_random_scale > self.max_random_scale or self.min_random_scale <= 0:
            raise MXNetError("ImageRecordIter: need 0 < min_random_scale (%g) <= max_random_scale (%g)"
                             % (self.min_random_scale, self.max_random_scale))

    def aspect_range(self):
        if self.min_aspect_ratio is None:
            return 1 - self.max_aspect_ratio, 1 + self.max_aspect_ratio
        return self.min_aspect_ratio, self.max_aspect_ratio

    def __call__(self, img, rng):
        if self.resize > 0:
            rows, cols = img.shape[:2]
            if rows > cols:
                img = self._resize(img, self.resize, self.resize * rows // cols, rng)
            else:
                img = self._resize(img, self.resize * cols // rows, self.resize, rng)
        if self.warps:
            img = self._warp(img, rng)
        if self.pad > 0:
            img = _image.copyMakeBorder(img, self.pad, self.pad, self.pad, self.pad, values=(self.fill_value,) * 3)
        if self.random_resized_crop:
            img = self._random_resized_crop(img, rng)
        elif self.crops_by_size:
            img = self._crop_by_size(img, rng)
        else:
            img = self._crop(img, rng)
        if self.random_h or self.random_s or self.random_l:
            img = self._shift_hls(img, rng)
        if self.brightness or self.contrast or self.saturation or self.pca_noise:
            img = self._jitter_colours(img, rng)
        return img

    # ---- geometry --------------------------------------------------------------------------------------------
    def _interp(self, rows, cols, new_rows, new_cols, rng):
        if self.inter_method == 10:
            return int(rng.integers(0, 5))
        return _image._get_interp_method(self.inter_method, (rows, cols, new_rows, new_cols))

    def _resize(self, img, width, height, rng):
        return _image.imresize(img, width, height, self._interp(img.shape[0], img.shape[1], height, width, rng))

    def _warp(self, img, rng):
        rows, cols = img.shape[:2]
        shear = rng.uniform() * self.max_shear_ratio * 2 - self.max_shear_ratio
        angle = rng.integers(-self.max_rotate_angle, self.max_rotate_angle + 1)
        if self.rotate > 0:
            angle = self.rotate
        cos, sin = np.cos(angle / 180.0 * np.pi), np.sin(angle / 180.0 * np.pi)
        scale = rng.uniform() * (self.max_random_scale - self.min_random_scale) + self.min_random_scale
        ratio = 1.0
        if not self.random_resized_crop:       # there the aspect ratio belongs to the crop
            ratio = rng.uniform() * self.max_aspect_ratio * 2 - self.max_aspect_ratio + 1
        scale_y = 2 * scale / (1 + ratio)
        scale_x = ratio * scale_y
        # the canvas size as a float (it centres the image) and, truncated, in pixels
        new_cols = max(self.min_img_size, min(self.max_img_size, scale * cols))
        new_rows = max(self.min_img_size, min(self.max_img_size, scale * rows))
        matrix = np.array([[scale_y * cos - shear * sin * scale_x, scale_y * sin + shear * cos * scale_x, 0.0],
                           [-sin * scale_x, cos * scale_x, 0.0]], np.float32).astype(np.float64)
        matrix[0, 2] = (new_cols - (matrix[0, 0] * cols + matrix[0, 1] * rows)) / 2
        matrix[1, 2] = (new_rows - (matrix[1, 0] * cols + matrix[1, 1] * rows)) / 2
        interp = self._interp(rows, cols, int(new_rows), int(new_cols), rng)
        return warp_affine(img, matrix, int(new_cols), int(new_rows), interp, self.fill_value)

    def _random_resized_crop(self, img, rng):
        rows, cols = img.shape[:2]
        low, high = self.aspect_range()
        for _ in range(10):
            area = rng.uniform(self.min_random_area, self.max_random_area) * rows * cols
            ratio = rng.uniform(low, high)
            width, height = int(round(np.sqrt(area * ratio))), int(round(np.sqrt(area / ratio)))
            if width <= cols and height <= rows:
                y, x = rng.integers(0, rows - height + 1), rng.integers(0, cols - width + 1)
                return self._resize(img[y:y + height, x:x + width], self.width, self.height, rng)
        return self._crop(img, rng)

    def _crop_by_size(self, img, rng):
        rows, cols = img.shape[:2]
        if cols < self.max_crop_size or rows < self.max_crop_size:
            raise MXNetError("ImageRecordIter: the image (%d x %d after resizing and padding) is smaller than "
                             "max_crop_size %d" % (rows, cols, self.max_crop_size))
        side = rng.integers(self.min_crop_size, self.max_crop_size + 1)
        if self.rand_crop:
            y, x = rng.integers(0, rows - side + 1), rng.integers(0, cols - side + 1)
        else:
            y, x = (rows - side) // 2, (cols - side) // 2
        return self._resize(img[y:y + side, x:x + side], self.width, self.height, rng)

    def _crop(self, img, rng):
        rows, cols = img.shape[:2]
        if rows < self.height or cols < self.width:     # enlarged, keeping its aspect, until the crop fits
            ratio = max(self.height / rows, self.width / cols)
            rows, cols = max(self.height, int(rows * ratio)), max(self.width, int(cols * ratio))
            img = self._resize(img, cols, rows, rng)
        if self.rand_crop:
            y, x = rng.integers(0, rows - self.height + 1), rng.integers(0, cols - self.width + 1)
        else:
            y, x = (rows - self.height) // 2, (cols - self.width) // 2
        return img[y:y + self.height, x:x + self.width]

    # ---- colour ----------------------------------------------------------------------------------------------
    def _shift_hls(self, img, rng):
        shifts = [int(rng.uniform() * limit * 2 - limit) for limit in (self.random_h, self.random_s, self.random_l)]
        hue, light, sat = rgb_to_hls(img)
        hue = np.clip(hue + shifts[0], 0, 180)
        sat = np.clip(sat + shifts[1], 0, 255)
        light = np.clip(light + shifts[2], 0, 255)
        return hls_to_rgb(hue, light, sat)

    def _jitter_colours(self, img, rng):
        pixels = img.astype(np.float64)
        jitters = [(self.brightness, _brightness), (self.contrast, _contrast), (self.saturation, _saturation)]
        for index in rng.permutation(3):
            amount, jitter = jitters[index]
            if amount > 0:
                pixels = _to_uint8(jitter(pixels, 1.0 + rng.uniform(-amount, amount)))
        if self.pca_noise > 0:
            alpha = rng.normal(0, self.pca_noise, size=3)
            pixels = _to_uint8(pixels + _EIGVEC @ (alpha * _EIGVAL))
        return pixels.astype(np.uint8)


def _to_uint8(values):
    """OpenCV's saturate_cast<uchar>: rounded half to even, clipped (as float64 for the next step)."""
    return np.clip(np.rint(values), 0, 255)


def _brightness(pixels, alpha):
    return pixels * alpha


def _contrast(pixels, alpha):
    return pixels * alpha + (1 - alpha) * (pixels @ _GREY).mean()


def _saturation(pixels, alpha):
    return pixels * alpha + (1 - alpha) * (pixels @ _GREY)[..., None]


# ---- warps and colour spaces -------------------------------------------------------------------------------------
def warp_affine(img, matrix, width, height, interp, fill):
    """OpenCV's warpAffine(img, matrix, (width, height)) with a constant border `fill`: each output pixel (x, y)
    samples `img` at the inverse of `matrix` applied to (x, y), the pixels outside the image being `fill`;
    interp 0 nearest, 2 bicubic (OpenCV's a = -0.75), 4 Lanczos, else (1, and 3 as OpenCV) bilinear."""
    inverse = np.linalg.inv(np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    src_x = inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]
    src_y = inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]
    planes = img.reshape(img.shape[0], img.shape[1], -1)
    if interp in (2, 4):
        out = np.stack([_kernel_samples(planes[..., c], src_y, src_x, fill, interp)
                        for c in range(planes.shape[2])], -1)
    else:   # scipy's 'grid-constant' blends with `fill` beyond the edge, as OpenCV's constant border does
        out = np.stack([ndimage.map_coordinates(planes[..., c].astype(np.float32), [src_y, src_x],
                                                order=0 if interp == 0 else 1, mode="grid-constant", cval=fill,
                                                prefilter=False) for c in range(planes.shape[2])], -1)
    return np.clip(np.rint(out), 0, 255).astype(img.dtype).reshape((height, width) + img.shape[2:])


def _kernel_samples(plane, src_y, src_x, fill, interp):
    """`plane` sampled at (src_y, src_x) with OpenCV's bicubic (2: a = -0.75, 4 x 4 taps) or Lanczos (4: 8 x 8
    taps, each axis's weights normalised) kernel, `fill` outside."""
    rows, cols = plane.shape
    padded = np.append(plane.astype(np.float64).ravel(), float(fill))       # the last entry stands for outside
    y0, x0 = np.floor(src_y).astype(int), np.floor(src_x).astype(int)
    offsets = (-1, 0, 1, 2) if interp == 2 else range(-3, 5)
    kernel = _image._cubic if interp == 2 else _image._lanczos4

    def axis_weights(position, base):
        weights = [kernel(position - (base + k)) for k in offsets]
        total = sum(weights)
        return [weight / total for weight in weights]

    out = np.zeros(src_y.shape)
    for dy, wy in zip(offsets, axis_weights(src_y, y0)):
        iy = y0 + dy
        for dx, wx in zip(offsets, axis_weights(src_x, x0)):
            ix = x0 + dx
            inside = (iy >= 0) & (iy < rows) & (ix >= 0) & (ix < cols)
            out += padded[np.where(inside, iy * cols + ix, rows * cols)] * wy * wx
    return out


def rgb_to_hls(img):
    """OpenCV's 8-bit RGB -> HLS: (hue in [0, 180), lightness, saturation in [0, 255]) as rounded float32s."""
    rgb = img.astype(np.float32) * np.float32(1 / 255)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    high, low = rgb.max(axis=2), rgb.min(axis=2)
    total, diff = high + low, high - low
    coloured = diff > np.finfo(np.float32).eps
    sat = np.divide(diff, np.where(total < 1, total, 2 - total), out=np.zeros_like(diff), where=coloured)
    # hue in sixths of the circle: from the largest channel, offset by the difference of the other two
    sixths = np.where(high == r, (g - b), np.where(high == g, 2 * diff + (b - r), 4 * diff + (r - g)))
    hue = np.divide(sixths, diff, out=np.zeros_like(diff), where=coloured) * 60
    hue[hue < 0] += 360
    return np.rint(hue / 2), np.rint(total * np.float32(255 / 2)), np.rint(sat * 255)


def hls_to_rgb(hue, light, sat):
    """OpenCV's 8-bit HLS -> RGB (hue in [0, 180]) as a uint8 image."""
    lightness, saturation = light * np.float32(1 / 255), sat * np.float32(1 / 255)
    spread = (saturation * np.minimum(lightness, 1 - lightness))[..., None]
    # each channel's position on the hue circle, in twelfths, relative to its peak (R at 0, G at 8, B at 4)
    k = (np.array([0, 8, 4], np.float32) + (hue * np.float32(1 / 15))[..., None]) % 12
    rgb = lightness[..., None] - spread * np.clip(np.minimum(k - 3, 9 - k), -1, 1)
    return np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)
