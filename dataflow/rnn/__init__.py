"""`mx.rnn`: MXNet 1.x's legacy symbolic RNN cells (used with Module and BucketingModule), their checkpoint
helpers, and the bucketing sentence iterator of `mx.rnn.io`."""
from . import io, rnn, rnn_cell
from .conv_rnn_cell import BaseConvRNNCell, ConvGRUCell, ConvLSTMCell, ConvRNNCell
from .io import BucketSentenceIter, encode_sentences
from .modifiers import ModifierCell, ResidualCell, ZoneoutCell
from .rnn import do_rnn_checkpoint, load_rnn_checkpoint, rnn_unroll, save_rnn_checkpoint
from .rnn_cell import (BaseRNNCell, BidirectionalCell, DropoutCell, FusedRNNCell, GRUCell, LSTMCell, RNNCell,
                       RNNParams, SequentialRNNCell)

# MXNet defines the modifier and convolutional cells in rnn_cell; they are found there too
rnn_cell.ModifierCell, rnn_cell.ZoneoutCell, rnn_cell.ResidualCell = ModifierCell, ZoneoutCell, ResidualCell
rnn_cell.BaseConvRNNCell, rnn_cell.ConvRNNCell = BaseConvRNNCell, ConvRNNCell
rnn_cell.ConvLSTMCell, rnn_cell.ConvGRUCell = ConvLSTMCell, ConvGRUCell

__all__ = ["BaseRNNCell", "RNNCell", "LSTMCell", "GRUCell", "FusedRNNCell", "SequentialRNNCell", "DropoutCell",
           "BidirectionalCell", "ModifierCell", "ZoneoutCell", "ResidualCell", "BaseConvRNNCell", "ConvRNNCell",
           "ConvLSTMCell", "ConvGRUCell", "RNNParams", "rnn_unroll",
           "save_rnn_checkpoint", "load_rnn_checkpoint", "do_rnn_checkpoint", "encode_sentences",
           "BucketSentenceIter"]
