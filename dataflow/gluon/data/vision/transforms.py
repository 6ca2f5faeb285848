"""`gluon.data.vision.transforms`: Blocks that transform one image (H, W, C) or a batch (N, H, W, C).

MXNet makes most of these HybridBlocks over its `image` ops; those ops are not in dataflow's registry, so here they
are Blocks computing with numpy (dataflow.image), which a data pipeline calls eagerly anyway. `Compose` therefore
has nothing to hybridize. Not here yet: Rotate, RandomRotation, RandomHue.
"""
import random

import numpy as np

from .... import image
from ....base import numeric_types
from ....ndarray import NDArray, array
from ...block import Block
from ...nn import Sequential

__all__ = ["Compose", "Cast", "ToTensor", "Normalize", "RandomResizedCrop", "CropResize", "CenterCrop", "Resize",
           "RandomFlipLeftRight", "RandomFlipTopBottom", "RandomBrightness", "RandomContrast", "RandomSaturation",
           "RandomColorJitter", "RandomLighting", "RandomApply"]


def _values(x):
    return x.asnumpy() if isinstance(x, NDArray) else np.asarray(x)


def _out(x, data, dtype=None):
    """`data` as an NDArray on x's context."""
    data = np.ascontiguousarray(data)
    return array(data, ctx=x.context if isinstance(x, NDArray) else None, dtype=dtype or data.dtype)


def _per_image(fn, x):
    """fn over one (H, W, C) image, or over each image of an (N, H, W, C) batch."""
    if len(x.shape) == 4:
        from .... import ndarray as nd
        return nd.stack(*[fn(x[i]) for i in range(x.shape[0])])
    return fn(x)


def _size_pair(size):
    return (size, size) if isinstance(size, numeric_types) else tuple(size)


class Compose(Sequential):
    """Apply `transforms` one after another."""

    def __init__(self, transforms):
        super().__init__()
        for transform in transforms:
            self.add(transform)


class Cast(Block):
    """Cast to `dtype`."""

    def __init__(self, dtype="float32"):
        super().__init__()
        self._dtype = dtype

    def forward(self, x):
        return x.astype(self._dtype)


class ToTensor(Block):
    """(H, W, C) or (N, H, W, C) with values in [0, 255] -> float32 (C, H, W) or (N, C, H, W) divided by 255."""

    def forward(self, x):
        data = _values(x)
        if data.ndim not in (3, 4):
            raise ValueError("ToTensor: the input must be (H, W, C) or (N, H, W, C), got shape %s" % (data.shape,))
        axes = (2, 0, 1) if data.ndim == 3 else (0, 3, 1, 2)
        return _out(x, data.astype(np.float32).transpose(axes) / np.float32(255), np.float32)


class Normalize(Block):
    """(x - mean) / std per channel of a (C, H, W) or (N, C, H, W) tensor; mean and std are numbers or one value
    per channel."""

    def __init__(self, mean=0.0, std=1.0):
        super().__init__()
        self._mean, self._std = mean, std

    def forward(self, x):
        data = _values(x)
        if data.ndim not in (3, 4):
            raise ValueError("Normalize: the input must be (C, H, W) or (N, C, H, W), got shape %s" % (data.shape,))
        channels = data.shape[-3]
        shape = (-1, 1, 1)
        mean, std = (np.asarray(v, np.float32).reshape(shape) for v in (self._mean, self._std))
        for name, value in (("mean", mean), ("std", std)):
            if value.size not in (1, channels):
                raise ValueError("Normalize: %s has %d values for %d channels" % (name, value.size, channels))
        return _out(x, ((data - mean) / std).astype(data.dtype))


class Resize(Block):
    """Resize to `size` (w, h); an int size resizes both sides, or, with keep_ratio, the shorter side."""

    def __init__(self, size, keep_ratio=False, interpolation=1):
        super().__init__()
        self._size, self._keep, self._interp = size, keep_ratio, interpolation

    def _target(self, h, w):
        if not isinstance(self._size, numeric_types):
            return tuple(self._size)
        if not self._keep:
            return self._size, self._size
        if h > w:
            return self._size, int(h * self._size / w)
        return int(w * self._size / h), self._size

    def forward(self, x):
        h, w = x.shape[-3:-1]
        new_w, new_h = self._target(h, w)
        return _per_image(lambda img: image.imresize(img, new_w, new_h, self._interp), x)


class CropResize(Block):
    """The (width, height) region at (x, y), resized to `size` (w, h) when given."""

    def __init__(self, x, y, width, height, size=None, interpolation=None):
        super().__init__()
        self._box = (x, y, width, height)
        self._size = None if size is None else _size_pair(size)
        self._interp = 1 if interpolation is None else interpolation

    def forward(self, x):
        return _per_image(lambda img: image.fixed_crop(img, *self._box, size=self._size, interp=self._interp), x)


class CenterCrop(Block):
    """The central region of `size` (w, h) (scaled down to fit, then resized to `size`)."""

    def __init__(self, size, interpolation=1):
        super().__init__()
        self._args = (_size_pair(size), interpolation)

    def forward(self, x):
        return image.center_crop(x, *self._args)[0]


class RandomResizedCrop(Block):
    """A random region (area fraction in `scale`, aspect ratio in `ratio`) resized to `size` (w, h)."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=1):
        super().__init__()
        self._args = (_size_pair(size), scale, ratio, interpolation)

    def forward(self, x):
        return image.random_size_crop(x, *self._args)[0]


class _RandomFlip(Block):
    axis = None     # of an (H, W, C) image

    def forward(self, x):
        if random.random() < 0.5:
            return _out(x, np.flip(_values(x), self.axis + len(x.shape) - 3))
        return x


class RandomFlipLeftRight(_RandomFlip):
    """Flip the image left to right with probability 0.5."""
    axis = 1


class RandomFlipTopBottom(_RandomFlip):
    """Flip the image top to bottom with probability 0.5."""
    axis = 0


_GRAY = np.array([0.299, 0.587, 0.114], np.float32)    # RGB -> luma


def _blend(x, other, alpha):
    data = _values(x).astype(np.float32)
    return _out(x, data * alpha + _values(other) * (1 - alpha) if not np.isscalar(other)
                else data * alpha + other * (1 - alpha), np.float32)


class RandomBrightness(Block):
    """Scale by 1 + uniform(-brightness, brightness)."""

    def __init__(self, brightness):
        super().__init__()
        self._b = brightness

    def forward(self, x):
        return _blend(x, 0.0, 1.0 + random.uniform(-self._b, self._b))


class RandomContrast(Block):
    """Blend with the mean gray level by alpha = 1 + uniform(-contrast, contrast)."""

    def __init__(self, contrast):
        super().__init__()
        self._c = contrast

    def forward(self, x):
        gray = float((_values(x).astype(np.float32) @ _GRAY).mean())
        return _blend(x, gray, 1.0 + random.uniform(-self._c, self._c))


class RandomSaturation(Block):
    """Blend with the per-pixel gray image by alpha = 1 + uniform(-saturation, saturation)."""

    def __init__(self, saturation):
        super().__init__()
        self._s = saturation

    def forward(self, x):
        gray = (_values(x).astype(np.float32) @ _GRAY)[..., None]
        return _blend(x, gray, 1.0 + random.uniform(-self._s, self._s))


class RandomColorJitter(Block):
    """Brightness, contrast and saturation jitter, in a random order (hue jitter is not here yet)."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        super().__init__()
        if hue:
            raise NotImplementedError("RandomColorJitter: hue jitter is not implemented here yet")
        self._steps = [make(amount) for make, amount in ((RandomBrightness, brightness), (RandomContrast, contrast),
                                                          (RandomSaturation, saturation)) if amount]

    def forward(self, x):
        for step in random.sample(self._steps, len(self._steps)):
            x = step(x)
        return x


class RandomLighting(Block):
    """AlexNet-style PCA lighting noise: add eigvec @ (alpha * N(0, 1) * eigval) per channel."""
    _EIGVAL = np.array([55.46, 4.794, 1.148])
    _EIGVEC = np.array([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140], [-0.5836, -0.6948, 0.4203]])

    def __init__(self, alpha):
        super().__init__()
        self._alpha = alpha

    def forward(self, x):
        alpha = np.random.normal(0, self._alpha, size=(3,))
        rgb = (self._EIGVEC @ (alpha * self._EIGVAL)).astype(np.float32)
        return _out(x, _values(x).astype(np.float32) + rgb, np.float32)


class RandomApply(Sequential):
    """Apply `transforms` with probability p."""

    def __init__(self, transforms, p=0.5):
        super().__init__()
        self.transforms, self.p = transforms, p

    def forward(self, x):
        return x if random.random() > self.p else self.transforms(x)
