"""`mx.gluon.contrib.estimator`: MXNet's high-level training loop for Gluon.

`Estimator.fit` runs the loop; everything that happens around a batch is an event handler (`event_handler.py`),
called at train/epoch/batch begin and end in ascending `priority` order, as MXNet's: the gradient update
(-2000) before the metrics and validation (-1000), user handlers (0), logging last (inf). `BatchProcessor`
(`batch_processor.py`) holds the per-batch work, forward, loss and backward, for subclasses to replace.
"""
from . import batch_processor, estimator, event_handler  # noqa: F401
from .batch_processor import *  # noqa: F401,F403
from .estimator import *  # noqa: F401,F403
from .event_handler import *  # noqa: F401,F403
