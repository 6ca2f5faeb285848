"""`mx.image`: decoding, resizing and cropping images held as (H, W, C) NDArrays (see image.py)."""
from .image import *  # noqa: F401,F403
