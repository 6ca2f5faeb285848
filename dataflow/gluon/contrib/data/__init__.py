"""`mx.gluon.contrib.data`: MXNet's contributed samplers (`IntervalSampler`) and text datasets (`text`)."""
from . import text  # noqa: F401
from .sampler import *  # noqa: F401,F403
