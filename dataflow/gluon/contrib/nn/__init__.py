"""`mx.gluon.contrib.nn`: Concurrent, HybridConcurrent, Identity, SparseEmbedding, SyncBatchNorm, PixelShuffle."""
from . import basic_layers
from .basic_layers import *  # noqa: F401,F403

__all__ = basic_layers.__all__
