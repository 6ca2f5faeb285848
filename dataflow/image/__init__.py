"""`mx.image`: decoding, resizing and cropping images held as (H, W, C) NDArrays (image.py), the augmenters and
CreateAugmenter (augment.py), and ImageIter (iter.py)."""
from . import image
from .augment import *  # noqa: F401,F403
from .image import *  # noqa: F401,F403
from .iter import *  # noqa: F401,F403
