"""`mx.image`'s augmenters: callables from an (H, W, C) NDArray to an (H, W, C) NDArray, and `CreateAugmenter`.

Names, constructor arguments, defaults and `dumps()` are MXNet 1.9.1's. Every random choice is drawn as MXNet's
Python augmenters draw it: from Python's `random` module (crops, flips, jitter factors, the order of a
RandomOrderAug) and numpy's global generator (LightingAug's PCA noise), with the same calls in the same order, so
`random.seed(s); np.random.seed(s)` gives MXNet's draws. The pixel maths runs on NDArrays with the same ops as
MXNet's (so dtypes behave the same: the colour augmenters expect the float32 image CastAug makes; they change
`src` in place, as MXNet's do). Resizing is `image.imresize` (may differ from OpenCV by 1 on uint8 pixels).
"""
import json
import random
import warnings

import numpy as np

from .. import ndarray as nd
from ..ndarray import NDArray
from .image import _get_interp_method, center_crop, imresize, random_crop, random_size_crop, resize_short

__all__ = ["Augmenter", "SequentialAug", "ResizeAug", "ForceResizeAug", "RandomCropAug", "RandomSizedCropAug",
           "CenterCropAug", "RandomOrderAug", "BrightnessJitterAug", "ContrastJitterAug", "SaturationJitterAug",
           "HueJitterAug", "ColorJitterAug", "LightingAug", "ColorNormalizeAug", "RandomGrayAug",
           "HorizontalFlipAug", "CastAug", "CreateAugmenter"]

# ITU-R 601 luma weights (R, G, B), shared by the contrast and saturation jitters
_LUMA = (0.299, 0.587, 0.114)
# RGB <-> YIQ, for the hue rotation (https://beesbuzz.biz/code/hsv_color_transforms.php)
_RGB_TO_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.321], [0.211, -0.523, 0.311]])
_YIQ_TO_RGB = np.array([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.107, 1.705]])
# ImageNet's RGB statistics: CreateAugmenter's pca_noise eigen decomposition and mean=True / std=True
_IMAGENET_EIGVAL = np.array([55.46, 4.794, 1.148])
_IMAGENET_EIGVEC = np.array([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140], [-0.5836, -0.6948, 0.4203]])
_IMAGENET_MEAN = (123.68, 116.28, 103.53)
_IMAGENET_STD = (58.395, 57.12, 57.375)


class Augmenter:
    """Base class: keeps the constructor's arguments (arrays as lists) for `dumps()`."""

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        for key, value in kwargs.items():
            if isinstance(value, NDArray):
                value = value.asnumpy()
            if isinstance(value, np.ndarray):
                kwargs[key] = value.tolist()

    def dumps(self):
        """A JSON string `[lower-case class name, constructor arguments]`."""
        return json.dumps([type(self).__name__.lower(), self._kwargs])

    def __call__(self, src):
        raise NotImplementedError("Must override implementation.")


class _AugmenterList(Augmenter):
    """An augmenter made of the augmenters `ts`."""

    def __init__(self, ts):
        super().__init__()
        self.ts = ts

    def dumps(self):
        """`[name, [each augmenter's dumps()]]` (a list, not a string, as in MXNet)."""
        return [type(self).__name__.lower(), [aug.dumps() for aug in self.ts]]

    def _apply_all(self, src):
        for aug in self.ts:
            src = aug(src)
        return src


class SequentialAug(_AugmenterList):
    """Applies the augmenters `ts` one after another."""

    def __call__(self, src):
        return self._apply_all(src)


class RandomOrderAug(_AugmenterList):
    """Applies the augmenters `ts` in a random order (shuffling `ts` itself with `random.shuffle`, as MXNet)."""

    def __call__(self, src):
        random.shuffle(self.ts)
        return self._apply_all(src)


class ResizeAug(Augmenter):
    """Resizes the shorter side to `size`, keeping the aspect ratio."""

    def __init__(self, size, interp=2):
        super().__init__(size=size, interp=interp)
        self.size, self.interp = size, interp

    def __call__(self, src):
        return resize_short(src, self.size, self.interp)


class ForceResizeAug(Augmenter):
    """Resizes to `size` (w, h), whatever the aspect ratio."""

    def __init__(self, size, interp=2):
        super().__init__(size=size, interp=interp)
        self.size, self.interp = size, interp

    def __call__(self, src):
        sizes = (src.shape[0], src.shape[1], self.size[1], self.size[0])
        return imresize(src, self.size[0], self.size[1], _get_interp_method(self.interp, sizes))


class RandomCropAug(Augmenter):
    """A random `size` (w, h) crop (see image.random_crop)."""

    def __init__(self, size, interp=2):
        super().__init__(size=size, interp=interp)
        self.size, self.interp = size, interp

    def __call__(self, src):
        return random_crop(src, self.size, self.interp)[0]


class RandomSizedCropAug(Augmenter):
    """A crop of random area and aspect ratio, resized to `size` (see image.random_size_crop); `min_area=` is
    the deprecated name of `area`."""

    def __init__(self, size, area, ratio, interp=2, **kwargs):
        super().__init__(size=size, area=area, ratio=ratio, interp=interp)
        if "min_area" in kwargs:
            warnings.warn("`min_area` is deprecated. Please use `area` instead.", DeprecationWarning, stacklevel=2)
            area = kwargs.pop("min_area")
        if kwargs:
            raise TypeError("RandomSizedCropAug: unexpected keyword arguments %s" % sorted(kwargs))
        self.size, self.area, self.ratio, self.interp = size, area, ratio, interp

    def __call__(self, src):
        return random_size_crop(src, self.size, self.area, self.ratio, self.interp)[0]


class CenterCropAug(Augmenter):
    """The central `size` (w, h) crop (see image.center_crop)."""

    def __init__(self, size, interp=2):
        super().__init__(size=size, interp=interp)
        self.size, self.interp = size, interp

    def __call__(self, src):
        return center_crop(src, self.size, self.interp)[0]


class BrightnessJitterAug(Augmenter):
    """Multiplies the image by 1 + u, u uniform in [-brightness, brightness]."""

    def __init__(self, brightness):
        super().__init__(brightness=brightness)
        self.brightness = brightness

    def __call__(self, src):
        src *= 1.0 + random.uniform(-self.brightness, self.brightness)
        return src


class ContrastJitterAug(Augmenter):
    """Blends the image with its mean luma: alpha * src + (1 - alpha) * mean grey, alpha = 1 + u,
    u uniform in [-contrast, contrast]."""

    def __init__(self, contrast):
        super().__init__(contrast=contrast)
        self.contrast = contrast
        self.coef = nd.array([[_LUMA]])

    def __call__(self, src):
        alpha = 1.0 + random.uniform(-self.contrast, self.contrast)
        luma = src * self.coef
        # sum of the weighted pixels * 3 / their count = the mean luma per pixel
        grey = (3.0 * (1.0 - alpha) / luma.size) * nd.sum(luma)
        src *= alpha
        src += grey
        return src


class SaturationJitterAug(Augmenter):
    """Blends each pixel with its own luma: alpha * src + (1 - alpha) * luma, alpha = 1 + u,
    u uniform in [-saturation, saturation]."""

    def __init__(self, saturation):
        super().__init__(saturation=saturation)
        self.saturation = saturation
        self.coef = nd.array([[_LUMA]])

    def __call__(self, src):
        alpha = 1.0 + random.uniform(-self.saturation, self.saturation)
        luma = nd.sum(src * self.coef, axis=2, keepdims=True)
        luma *= 1.0 - alpha
        src *= alpha
        src += luma
        return src


class HueJitterAug(Augmenter):
    """Rotates the hue by u * 180 degrees, u uniform in [-hue, hue]: a rotation of the I and Q axes in YIQ
    space, applied as one 3x3 matrix on RGB."""

    def __init__(self, hue):
        super().__init__(hue=hue)
        self.hue = hue
        self.tyiq, self.ityiq = _RGB_TO_YIQ, _YIQ_TO_RGB

    def __call__(self, src):
        angle = random.uniform(-self.hue, self.hue) * np.pi
        cos, sin = np.cos(angle), np.sin(angle)
        rotation = np.array([[1.0, 0.0, 0.0], [0.0, cos, -sin], [0.0, sin, cos]])
        transform = (self.ityiq @ rotation @ self.tyiq).T       # rows of pixels times the transposed matrix
        return nd.dot(src, nd.array(transform))


class ColorJitterAug(RandomOrderAug):
    """Brightness, contrast and saturation jitter (those > 0) in a random order."""

    def __init__(self, brightness, contrast, saturation):
        jitters = [(brightness, BrightnessJitterAug), (contrast, ContrastJitterAug),
                   (saturation, SaturationJitterAug)]
        super().__init__([make(amount) for amount, make in jitters if amount > 0])


class LightingAug(Augmenter):
    """AlexNet's PCA colour noise: adds eigvec @ (eigval * alpha) to every pixel, alpha ~ N(0, alphastd) per
    component (drawn with numpy's global generator, as MXNet)."""

    def __init__(self, alphastd, eigval, eigvec):
        super().__init__(alphastd=alphastd, eigval=eigval, eigvec=eigvec)
        self.alphastd, self.eigval, self.eigvec = alphastd, eigval, eigvec

    def __call__(self, src):
        alpha = np.random.normal(0, self.alphastd, size=(3,))
        src += nd.array(np.dot(self.eigvec * alpha, self.eigval))
        return src


class ColorNormalizeAug(Augmenter):
    """(src - mean) / std per channel (either may be None); changes `src` in place."""

    def __init__(self, mean, std):
        super().__init__(mean=mean, std=std)
        self.mean = mean if mean is None or isinstance(mean, NDArray) else nd.array(mean)
        self.std = std if std is None or isinstance(std, NDArray) else nd.array(std)

    def __call__(self, src):
        if self.mean is not None:
            src -= self.mean
        if self.std is not None:
            src /= self.std
        return src


class RandomGrayAug(Augmenter):
    """With probability p, replaces every channel by the grey 0.21 R + 0.72 G + 0.07 B (still 3 channels)."""

    def __init__(self, p):
        super().__init__(p=p)
        self.p = p
        self.mat = nd.array([[0.21] * 3, [0.72] * 3, [0.07] * 3])

    def __call__(self, src):
        if random.random() < self.p:
            src = nd.dot(src, self.mat)
        return src


class HorizontalFlipAug(Augmenter):
    """With probability p, mirrors the image left to right."""

    def __init__(self, p):
        super().__init__(p=p)
        self.p = p

    def __call__(self, src):
        if random.random() < self.p:
            src = nd.flip(src, axis=1)
        return src


class CastAug(Augmenter):
    """Casts to `typ` (float32)."""

    def __init__(self, typ="float32"):
        super().__init__(type=typ)
        self.typ = typ

    def __call__(self, src):
        return src.astype(self.typ)


def _statistic(value, default, what):
    """mean/std for CreateAugmenter: True gives ImageNet's, an array must hold 1 or 3 values."""
    if value is True:
        return nd.array(default)
    if value is not None and not (isinstance(value, (np.ndarray, NDArray)) and value.shape[0] in (1, 3)):
        raise ValueError("CreateAugmenter: %s must be True, None or an array of 1 or 3 values, got %r"
                         % (what, value))
    return value


def CreateAugmenter(data_shape, resize=0, rand_crop=False, rand_resize=False, rand_mirror=False, mean=None,
                    std=None, brightness=0, contrast=0, saturation=0, hue=0, pca_noise=0, rand_gray=0,
                    inter_method=2):
    """MXNet's standard augmenter list for images of `data_shape` (C, H, W), in MXNet's order: resize the shorter
    side (resize > 0); a random-sized crop (rand_resize, needs rand_crop), a random crop or the centre crop; a
    random mirror; cast to float32; colour jitter; hue jitter; PCA noise; random grey; normalisation (mean/std:
    True for ImageNet's, or arrays of 1 or 3 values)."""
    augs = []
    if resize > 0:
        augs.append(ResizeAug(resize, inter_method))
    crop_size = (data_shape[2], data_shape[1])
    if rand_resize:
        if not rand_crop:
            raise ValueError("CreateAugmenter: rand_resize=True needs rand_crop=True")
        augs.append(RandomSizedCropAug(crop_size, 0.08, (3.0 / 4.0, 4.0 / 3.0), inter_method))
    elif rand_crop:
        augs.append(RandomCropAug(crop_size, inter_method))
    else:
        augs.append(CenterCropAug(crop_size, inter_method))
    if rand_mirror:
        augs.append(HorizontalFlipAug(0.5))
    augs.append(CastAug())
    if brightness or contrast or saturation:
        augs.append(ColorJitterAug(brightness, contrast, saturation))
    if hue:
        augs.append(HueJitterAug(hue))
    if pca_noise > 0:
        augs.append(LightingAug(pca_noise, _IMAGENET_EIGVAL, _IMAGENET_EIGVEC))
    if rand_gray > 0:
        augs.append(RandomGrayAug(rand_gray))
    mean = _statistic(mean, _IMAGENET_MEAN, "mean")
    std = _statistic(std, _IMAGENET_STD, "std")
    if mean is not None or std is not None:
        augs.append(ColorNormalizeAug(mean, std))
    return augs
