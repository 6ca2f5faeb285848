"""`gluon.data.vision.transforms`: Blocks that transform one image (H, W, C) or, where MXNet allows it, a batch
(N, H, W, C).

As in MXNet 1.9.1, most transforms are HybridBlocks over the `image` ops (ops/image.py: `F.image.to_tensor`,
`F.image.resize`, ...), so a hybridized pipeline runs as one compiled graph, and the random ones draw from the
generator `mx.random.seed` seeds. `RandomResizedCrop`, `CenterCrop`, `Rotate`, `RandomRotation` and
`RandomApply` are plain Blocks over `mx.image`'s functions (Python's and numpy's global generators, as MXNet).
`Compose` hybridizes each run of consecutive HybridBlocks as one HybridSequential, as MXNet does;
`HybridCompose` (MXNet 2.0's name) takes HybridBlocks only and is one hybridizable HybridSequential.
"""
import random

import numpy as np

from .... import image
from ....base import numeric_types
from ...block import Block, HybridBlock
from ...nn import HybridSequential, Sequential

__all__ = ["Compose", "HybridCompose", "Cast", "ToTensor", "Normalize", "Rotate", "RandomRotation",
           "RandomResizedCrop", "CropResize", "CenterCrop", "Resize", "RandomFlipLeftRight", "RandomFlipTopBottom",
           "RandomBrightness", "RandomContrast", "RandomSaturation", "RandomHue", "RandomColorJitter",
           "RandomLighting", "RandomApply"]


def _size_pair(size):
    return (size, size) if isinstance(size, numeric_types) else tuple(size)


class Compose(Sequential):
    """Apply `transforms` one after another; each run of two or more consecutive HybridBlocks becomes one
    hybridized HybridSequential (MXNet's grouping).

    Examples
    --------
    >>> from dataflow.gluon.data.vision import transforms
    >>> pipeline = transforms.Compose([transforms.CenterCrop(4), transforms.ToTensor(),
    ...                                transforms.Normalize(0.5, 0.25)])
    >>> [type(block).__name__ for block in pipeline]
    ['CenterCrop', 'HybridSequential']
    """

    def __init__(self, transforms):
        super().__init__()
        run = []
        for transform in list(transforms) + [None]:
            if isinstance(transform, HybridBlock):
                run.append(transform)
                continue
            if len(run) == 1:
                self.add(run[0])
            elif run:
                group = HybridSequential()
                group.add(*run)
                group.hybridize()
                self.add(group)
            run = []
            if transform is not None:
                self.add(transform)


class HybridCompose(HybridSequential):
    """Apply the HybridBlocks `transforms` one after another, as one HybridBlock (hybridize it to run the whole
    pipeline as one compiled graph). MXNet 2.0's name; MXNet 1.9.1 has only `Compose`."""

    def __init__(self, transforms):
        super().__init__()
        for transform in transforms:
            if not isinstance(transform, HybridBlock):
                raise ValueError("{} is not a HybridBlock, try use `Compose` instead".format(transform))
            self.add(transform)


class Cast(HybridBlock):
    """Cast to `dtype` (default float32)."""

    def __init__(self, dtype="float32"):
        super().__init__()
        self._dtype = dtype

    def hybrid_forward(self, F, x):
        return F.cast(x, self._dtype)


class ToTensor(HybridBlock):
    """(H, W, C) or (N, H, W, C) with values in [0, 255] -> float32 (C, H, W) or (N, C, H, W) divided by 255."""

    def hybrid_forward(self, F, x):
        return F.image.to_tensor(x)


class Normalize(HybridBlock):
    """(x - mean) / std per channel of a (C, H, W) or (N, C, H, W) tensor with 1 or 3 channels; mean and std are
    one number or one value per channel."""

    def __init__(self, mean=0.0, std=1.0):
        super().__init__()
        self._mean, self._std = mean, std

    def hybrid_forward(self, F, x):
        return F.image.normalize(x, self._mean, self._std)


class Rotate(Block):
    """Rotate a float32 (C, H, W) image or (N, C, H, W) batch by `rotation_degrees` (`mx.image.imrotate`)."""

    def __init__(self, rotation_degrees, zoom_in=False, zoom_out=False):
        super().__init__()
        self._args = (rotation_degrees, zoom_in, zoom_out)

    def forward(self, x):
        if x.dtype is not np.float32:
            raise TypeError("This transformation only supports float32. Consider calling it after ToTensor")
        return image.imrotate(x, *self._args)


class RandomRotation(Block):
    """Rotate by an angle drawn uniformly from `angle_limits` (degrees), with probability `rotate_with_proba`."""

    def __init__(self, angle_limits, zoom_in=False, zoom_out=False, rotate_with_proba=1.0):
        super().__init__()
        lower, upper = angle_limits
        if lower >= upper:
            raise ValueError("`angle_limits` must be an ordered tuple")
        if rotate_with_proba < 0 or rotate_with_proba > 1:
            raise ValueError("Probability of rotating the image should be between 0 and 1")
        self._args = (angle_limits, zoom_in, zoom_out)
        self._rotate_with_proba = rotate_with_proba

    def forward(self, x):
        if np.random.random() > self._rotate_with_proba:
            return x
        if x.dtype is not np.float32:
            raise TypeError("This transformation only supports float32. Consider calling it after ToTensor")
        return image.random_rotate(x, *self._args)


class RandomResizedCrop(Block):
    """A random region (area fraction in `scale`, aspect ratio in `ratio`) resized to `size` (w, h)."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=1):
        super().__init__()
        self._args = (_size_pair(size), scale, ratio, interpolation)

    def forward(self, x):
        return image.random_size_crop(x, *self._args)[0]


class CropResize(HybridBlock):
    """The (width, height) region at (x, y) of an image or batch, resized to `size` ((w, h) or one int) when
    given."""

    def __init__(self, x, y, width, height, size=None, interpolation=None):
        super().__init__()
        self._box = dict(x=x, y=y, width=width, height=height)
        self._size = size
        self._interpolation = interpolation

    def hybrid_forward(self, F, x):
        out = F.image.crop(x, **self._box)
        if self._size:
            out = F.image.resize(out, self._size, False, self._interpolation)
        return out


class CenterCrop(Block):
    """The central region of `size` (w, h) (scaled down to fit, then resized to `size`)."""

    def __init__(self, size, interpolation=1):
        super().__init__()
        self._args = (_size_pair(size), interpolation)

    def forward(self, x):
        return image.center_crop(x, *self._args)[0]


class Resize(HybridBlock):
    """Resize an image or batch to `size` (w, h); an int size resizes both sides or, with keep_ratio, the shorter
    side (the other keeps the aspect ratio). `interpolation` is OpenCV's code (0-4)."""

    def __init__(self, size, keep_ratio=False, interpolation=1):
        super().__init__()
        self._keep = keep_ratio
        self._size = size
        self._interpolation = interpolation

    def hybrid_forward(self, F, x):
        return F.image.resize(x, self._size, self._keep, self._interpolation)


class RandomFlipLeftRight(HybridBlock):
    """Flip one (H, W, C) image left to right with probability 0.5."""

    def hybrid_forward(self, F, x):
        return F.image.random_flip_left_right(x)


class RandomFlipTopBottom(HybridBlock):
    """Flip one (H, W, C) image top to bottom with probability 0.5."""

    def hybrid_forward(self, F, x):
        return F.image.random_flip_top_bottom(x)


class _RandomFactor(HybridBlock):
    """A colour op of one image with a factor drawn from [max(0, 1 - amount), 1 + amount]."""
    op_name = None

    def __init__(self, amount):
        super().__init__()
        self._args = (max(0, 1 - amount), 1 + amount)

    def hybrid_forward(self, F, x):
        return getattr(F.image, self.op_name)(x, *self._args)


class RandomBrightness(_RandomFactor):
    """Scale the image by a factor drawn from [max(0, 1 - brightness), 1 + brightness]."""
    op_name = "random_brightness"


class RandomContrast(_RandomFactor):
    """Blend the image with its mean luma by a factor drawn from [max(0, 1 - contrast), 1 + contrast]."""
    op_name = "random_contrast"


class RandomSaturation(_RandomFactor):
    """Blend the image with its gray image by a factor drawn from [max(0, 1 - saturation), 1 + saturation]."""
    op_name = "random_saturation"


class RandomHue(_RandomFactor):
    """Rotate the hue by a factor drawn from [max(0, 1 - hue), 1 + hue] of a full turn (MXNet's range: a factor
    of 1 is a whole turn, so small `hue` values jitter around the original hue)."""
    op_name = "random_hue"


class RandomColorJitter(HybridBlock):
    """Brightness, contrast, saturation and hue jitter (each off at 0), applied in a random order."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        super().__init__()
        self._args = (brightness, contrast, saturation, hue)

    def hybrid_forward(self, F, x):
        return F.image.random_color_jitter(x, *self._args)


class RandomLighting(HybridBlock):
    """AlexNet-style PCA lighting noise with alphas drawn from N(0, alpha)."""

    def __init__(self, alpha):
        super().__init__()
        self._alpha = alpha

    def hybrid_forward(self, F, x):
        return F.image.random_lighting(x, self._alpha)


class RandomApply(Sequential):
    """Apply `transforms` with probability p (Python's `random`, as MXNet)."""

    def __init__(self, transforms, p=0.5):
        super().__init__()
        self.transforms, self.p = transforms, p

    def forward(self, x):
        if self.p < random.random():
            return x
        return self.transforms(x)
