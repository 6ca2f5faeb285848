"""Convolutional recurrent cells (MXNet 1.9.1's `gluon.contrib.rnn.conv_rnn_cell`, Shi et al., 2015): the
i2h and h2h projections are convolutions (stride 1; h2h padded to keep the state's size) and the gates, stacked
along the channel axis, follow the same math as the dense cells (`rnn._steps`)."""
from ...rnn import _steps
from ...rnn.rnn_cell import HybridRecurrentCell

__all__ = ["Conv1DRNNCell", "Conv2DRNNCell", "Conv3DRNNCell", "Conv1DLSTMCell", "Conv2DLSTMCell", "Conv3DLSTMCell",
           "Conv1DGRUCell", "Conv2DGRUCell", "Conv3DGRUCell"]


def _conv_out_size(dimensions, kernels, paddings, dilations):
    """Output size of a stride-1 convolution per spatial dimension (0 stays unknown)."""
    return tuple(x + 2 * p - d * (k - 1) if x else 0 for x, k, p, d in zip(dimensions, kernels, paddings, dilations))


def _per_dim(spec, dims):
    return (spec,) * dims if isinstance(spec, int) else tuple(spec)


class _BaseConvRNNCell(HybridRecurrentCell):
    """Parameters and the two convolutions; subclasses set `_num_gates`, the states and the gate math."""
    _num_gates = 1

    def __init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel, i2h_pad, i2h_dilate, h2h_dilate,
                 i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                 dims, conv_layout, activation, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._hidden_channels = hidden_channels
        self._input_shape = input_shape
        self._conv_layout = conv_layout
        self._activation = activation
        assert all(isinstance(spec, int) or len(spec) == dims
                   for spec in [i2h_kernel, i2h_pad, i2h_dilate, h2h_kernel, h2h_dilate]), \
            "For {dims}D convolution, the convolution settings can only be either int " \
            "or list/tuple of length {dims}".format(dims=dims)
        self._i2h_kernel = _per_dim(i2h_kernel, dims)
        self._stride = (1,) * dims
        self._i2h_pad = _per_dim(i2h_pad, dims)
        self._i2h_dilate = _per_dim(i2h_dilate, dims)
        self._h2h_kernel = _per_dim(h2h_kernel, dims)
        assert all(k % 2 == 1 for k in self._h2h_kernel), \
            "Only support odd number, get h2h_kernel= %s" % str(h2h_kernel)
        self._h2h_dilate = _per_dim(h2h_dilate, dims)
        self._h2h_pad = tuple(d * (k - 1) // 2 for d, k in zip(self._h2h_dilate, self._h2h_kernel))

        # input_shape is one sample's shape: (C, spatial...) for channel-first layouts, (spatial..., C) otherwise
        self._channel_axis = conv_layout.find("C")
        channel_first = self._channel_axis == 1
        self._in_channels = input_shape[self._channel_axis - 1]
        spatial = tuple(input_shape[1:]) if channel_first else tuple(input_shape[:-1])
        out_size = _conv_out_size(spatial, self._i2h_kernel, self._i2h_pad, self._i2h_dilate)
        total = hidden_channels * self._num_gates
        if channel_first:
            i2h_shape = (total, self._in_channels) + self._i2h_kernel
            h2h_shape = (total, hidden_channels) + self._h2h_kernel
            self._state_shape = (hidden_channels,) + out_size
        else:
            i2h_shape = (total,) + self._i2h_kernel + (self._in_channels,)
            h2h_shape = (total,) + self._h2h_kernel + (hidden_channels,)
            self._state_shape = out_size + (hidden_channels,)
        self.i2h_weight = self.params.get("i2h_weight", shape=i2h_shape, init=i2h_weight_initializer,
                                          allow_deferred_init=True)
        self.h2h_weight = self.params.get("h2h_weight", shape=h2h_shape, init=h2h_weight_initializer,
                                          allow_deferred_init=True)
        self.i2h_bias = self.params.get("i2h_bias", shape=(total,), init=i2h_bias_initializer,
                                        allow_deferred_init=True)
        self.h2h_bias = self.params.get("h2h_bias", shape=(total,), init=h2h_bias_initializer,
                                        allow_deferred_init=True)

    def __repr__(self):
        shape = self.i2h_weight.shape
        in_channels = shape[1 if self._channel_axis == 1 else -1]
        return "%s(%s -> %s, %s, %s)" % (type(self).__name__, in_channels if in_channels else None, shape[0],
                                         self._activation, self._conv_layout)

    def state_info(self, batch_size=0):
        return [{"shape": (batch_size,) + self._state_shape, "__layout__": self._conv_layout}]

    def _conv_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias, prefix):
        num_filter = self._hidden_channels * self._num_gates
        i2h = F.Convolution(data=inputs, num_filter=num_filter, kernel=self._i2h_kernel, stride=self._stride,
                            pad=self._i2h_pad, dilate=self._i2h_dilate, weight=i2h_weight, bias=i2h_bias,
                            layout=self._conv_layout, name=prefix + "i2h")
        h2h = F.Convolution(data=states[0], num_filter=num_filter, kernel=self._h2h_kernel, dilate=self._h2h_dilate,
                            pad=self._h2h_pad, stride=self._stride, weight=h2h_weight, bias=h2h_bias,
                            layout=self._conv_layout, name=prefix + "h2h")
        return i2h, h2h


class _ConvRNNCell(_BaseConvRNNCell):
    """RNN cell: h' = act(conv(x) + conv(h))."""

    def _alias(self):
        return "conv_rnn"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        prefix = "t%d_" % self._counter
        i2h, h2h = self._conv_forward(F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias, prefix)
        output = _steps.rnn_gates(F, i2h, h2h, prefix, self._activation)
        return output, [output]


class _ConvLSTMCell(_BaseConvRNNCell):
    """LSTM cell: gates (i, f, c, o) along the channel axis; states [h, c]."""
    _num_gates = 4

    def state_info(self, batch_size=0):
        return super().state_info(batch_size) * 2

    def _alias(self):
        return "conv_lstm"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        prefix = "t%d_" % self._counter
        i2h, h2h = self._conv_forward(F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias, prefix)
        next_h, next_c = _steps.lstm_gates(F, i2h, h2h, states[1], prefix, act=self._activation,
                                           axis=self._channel_axis)
        return next_h, [next_h, next_c]


class _ConvGRUCell(_BaseConvRNNCell):
    """GRU cell: gates (r, z, n) along the channel axis."""
    _num_gates = 3

    def _alias(self):
        return "conv_gru"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        prefix = "t%d_" % self._counter
        i2h, h2h = self._conv_forward(F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias, prefix)
        next_h = _steps.gru_gates(F, i2h, h2h, states[0], prefix, act=self._activation, axis=self._channel_axis)
        return next_h, [next_h]


def _cell_class(name, gates, dims):
    """One public cell class: `gates` (RNN/LSTM/GRU math) for `dims` spatial dimensions, with MXNet's constructor
    signature, whose defaults depend on `dims` (per-dimension pad/dilate tuples and the channel-first layout)."""
    no_pad, no_dilate, layout = (0,) * dims, (1,) * dims, ("NCW", "NCHW", "NCDHW")[dims - 1]

    def __init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel, i2h_pad=no_pad, i2h_dilate=no_dilate,
                 h2h_dilate=no_dilate, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", conv_layout=layout, activation="tanh",
                 prefix=None, params=None):
        gates.__init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel, i2h_pad, i2h_dilate, h2h_dilate,
                       i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                       dims, conv_layout, activation, prefix, params)

    __init__.__qualname__ = name + ".__init__"
    doc = "%dD convolutional %s" % (dims, gates.__doc__)
    return type(name, (gates,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


Conv1DRNNCell = _cell_class("Conv1DRNNCell", _ConvRNNCell, 1)
Conv2DRNNCell = _cell_class("Conv2DRNNCell", _ConvRNNCell, 2)
Conv3DRNNCell = _cell_class("Conv3DRNNCell", _ConvRNNCell, 3)
Conv1DLSTMCell = _cell_class("Conv1DLSTMCell", _ConvLSTMCell, 1)
Conv2DLSTMCell = _cell_class("Conv2DLSTMCell", _ConvLSTMCell, 2)
Conv3DLSTMCell = _cell_class("Conv3DLSTMCell", _ConvLSTMCell, 3)
Conv1DGRUCell = _cell_class("Conv1DGRUCell", _ConvGRUCell, 1)
Conv2DGRUCell = _cell_class("Conv2DGRUCell", _ConvGRUCell, 2)
Conv3DGRUCell = _cell_class("Conv3DGRUCell", _ConvGRUCell, 3)
