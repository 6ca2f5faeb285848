"""`mx.gluon.rnn`: recurrent cells (one step per call, `unroll` over a sequence) and multi-layer recurrent
layers (`RNN`, `LSTM`, `GRU`, on the fused RNN op)."""
from . import rnn_cell, rnn_layer  # noqa: F401
from .rnn_cell import *  # noqa: F401,F403
from .rnn_layer import *  # noqa: F401,F403

__all__ = rnn_cell.__all__ + rnn_layer.__all__
