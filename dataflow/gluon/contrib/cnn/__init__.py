"""`mx.gluon.contrib.cnn`: MXNet's deformable convolution layers (see conv_layers for what runs)."""
from . import conv_layers
from .conv_layers import *  # noqa: F401,F403

__all__ = conv_layers.__all__
