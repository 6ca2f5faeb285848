"""`mx.gluon.data.vision`: the vision datasets and the image transforms."""
from . import transforms  # noqa: F401
from .datasets import *  # noqa: F401,F403
