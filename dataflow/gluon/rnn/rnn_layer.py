"""Multi-layer recurrent layers `RNN`, `LSTM`, `GRU` (MXNet 1.9.1's `gluon.rnn.rnn_layer`).

As MXNet's, a layer flattens its parameters (`l0_i2h_weight`, ..., `r0_h2h_bias` for the reverse direction,
`l0_h2r_weight` with a projection) into the packed vector with `_rnn_param_concat` and runs the fused `RNN` op
(ops/rnn.py) over the whole sequence, so a traced or exported graph is MXNet's: `SymbolBlock.imports` and MXNet
read it, and MXNet's parameter files load (under the keys of its old unfused layers).
"""
import re

from ops.rnn_layout import GATES
from ops.errors import ParamError, ShapeError

from ... import ndarray as nd_module
from ... import symbol as sym_module
from . import rnn_cell
from ..block import HybridBlock
from ._sequence import tensor_types

__all__ = ["RNN", "LSTM", "GRU"]


class _RNNLayer(HybridBlock):
    """The layers' common part: parameters, states, and the fused forward."""

    def __init__(self, hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                 i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                 mode, projection_size, h2r_weight_initializer, lstm_state_clip_min, lstm_state_clip_max,
                 lstm_state_clip_nan, dtype, use_sequence_length=False, **kwargs):
        super().__init__(**kwargs)
        if layout not in ("TNC", "NTC"):
            raise ParamError("%s: invalid layout %r; must be one of ['TNC' or 'NTC']" % (self.name, layout))
        self._hidden_size = hidden_size
        self._projection_size = projection_size if projection_size else None
        self._num_layers = num_layers
        self._mode = mode
        self._layout = layout
        self._dropout = dropout
        self._dir = 2 if bidirectional else 1
        self._input_size = input_size
        self._i2h_weight_initializer = i2h_weight_initializer
        self._h2h_weight_initializer = h2h_weight_initializer
        self._i2h_bias_initializer = i2h_bias_initializer
        self._h2h_bias_initializer = h2h_bias_initializer
        self._h2r_weight_initializer = h2r_weight_initializer
        self._lstm_state_clip_min = lstm_state_clip_min
        self._lstm_state_clip_max = lstm_state_clip_max
        self._lstm_state_clip_nan = lstm_state_clip_nan
        self._dtype = dtype
        self._use_sequence_length = use_sequence_length
        self.skip_states = None
        self._gates = GATES[mode]

        ng, ni, nh = self._gates, input_size, hidden_size
        recurrent = self._projection_size or nh       # what h2h reads: the (projected) hidden state
        for i in range(num_layers):
            for j in ["l", "r"][:self._dir]:
                self._register_param("%s%d_i2h_weight" % (j, i), (ng * nh, ni), i2h_weight_initializer, dtype)
                self._register_param("%s%d_h2h_weight" % (j, i), (ng * nh, recurrent), h2h_weight_initializer,
                                     dtype)
                self._register_param("%s%d_i2h_bias" % (j, i), (ng * nh,), i2h_bias_initializer, dtype)
                self._register_param("%s%d_h2h_bias" % (j, i), (ng * nh,), h2h_bias_initializer, dtype)
                if self._projection_size:
                    self._register_param("%s%d_h2r_weight" % (j, i), (self._projection_size, nh),
                                         h2r_weight_initializer, dtype)
            ni = recurrent * self._dir

    def _register_param(self, name, shape, init, dtype):
        p = self.params.get(name, shape=shape, init=init, allow_deferred_init=True, dtype=dtype)
        setattr(self, name, p)
        return p

    def __repr__(self):
        s = "{name}({mapping}, {_layout}"
        if self._num_layers != 1:
            s += ", num_layers={_num_layers}"
        if self._dropout != 0:
            s += ", dropout={_dropout}"
        if self._dir == 2:
            s += ", bidirectional"
        s += ")"
        shape = self.l0_i2h_weight.shape
        mapping = "{0} -> {1}".format(shape[1] if shape[1] else None, shape[0] // self._gates)
        return s.format(name=type(self).__name__, mapping=mapping, **self.__dict__)

    def _collect_params_with_prefix(self, prefix=""):
        # save_parameters/load_parameters keys are those of MXNet's old unfused layers
        if prefix:
            prefix += "."
        pattern = re.compile(r"(l|r)(\d)_(i2h|h2h|h2r)_(weight|bias)\Z")
        bidirectional = any(pattern.match(k).group(1) == "r" for k in self._reg_params)

        def convert_key(key):
            d, layer, g, t = pattern.match(key).groups()
            if bidirectional:
                return "_unfused.%s.%s_cell.%s_%s" % (layer, d, g, t)
            return "_unfused.%s.%s_%s" % (layer, g, t)
        ret = {prefix + convert_key(key): val for key, val in self._reg_params.items()}
        for name, child in self._children.items():
            ret.update(child._collect_params_with_prefix(prefix + name))
        return ret

    def state_info(self, batch_size=0):
        raise NotImplementedError

    def _unfuse(self):
        """The layer as a HybridSequentialRNNCell of cells sharing its parameters."""
        assert not self._projection_size, "_unfuse does not support projection layer yet!"
        assert not self._lstm_state_clip_min and not self._lstm_state_clip_max, \
            "_unfuse does not support state clipping yet!"
        make = {"rnn_relu": lambda **kw: rnn_cell.RNNCell(self._hidden_size, activation="relu", **kw),
                "rnn_tanh": lambda **kw: rnn_cell.RNNCell(self._hidden_size, activation="tanh", **kw),
                "lstm": lambda **kw: rnn_cell.LSTMCell(self._hidden_size, **kw),
                "gru": lambda **kw: rnn_cell.GRUCell(self._hidden_size, **kw)}[self._mode]
        stack = rnn_cell.HybridSequentialRNNCell(prefix=self.prefix, params=self.params)
        with stack.name_scope():
            ni = self._input_size
            for i in range(self._num_layers):
                kwargs = {"input_size": ni, "i2h_weight_initializer": self._i2h_weight_initializer,
                          "h2h_weight_initializer": self._h2h_weight_initializer,
                          "i2h_bias_initializer": self._i2h_bias_initializer,
                          "h2h_bias_initializer": self._h2h_bias_initializer}
                if self._dir == 2:
                    stack.add(rnn_cell.BidirectionalCell(make(prefix="l%d_" % i, **kwargs),
                                                         make(prefix="r%d_" % i, **kwargs)))
                else:
                    stack.add(make(prefix="l%d_" % i, **kwargs))
                if self._dropout > 0 and i != self._num_layers - 1:
                    stack.add(rnn_cell.DropoutCell(self._dropout))
                ni = self._hidden_size * self._dir
        return stack

    def cast(self, dtype):
        super().cast(dtype)
        self._dtype = dtype

    def begin_state(self, batch_size=0, func=nd_module.zeros, **kwargs):
        """Initial states, `func(name='<prefix>h0_<i>', shape=..., __layout__='LNC', dtype=..., **kwargs)` each."""
        states = []
        for i, info in enumerate(self.state_info(batch_size)):
            info = dict(info, **kwargs) if info is not None else kwargs
            states.append(func(name="%sh0_%d" % (self.prefix, i), **info))
        return states

    def __call__(self, inputs, states=None, sequence_length=None, **kwargs):
        self.skip_states = states is None
        if states is None:
            if isinstance(inputs, nd_module.NDArray):
                batch_size = inputs.shape[self._layout.find("N")]
                states = self.begin_state(batch_size, ctx=inputs.context, dtype=inputs.dtype)
            else:
                states = self.begin_state(0, func=sym_module.zeros)
        if isinstance(states, tensor_types):
            states = [states]
        if self._use_sequence_length:
            return super().__call__(inputs, states, sequence_length, **kwargs)
        return super().__call__(inputs, states, **kwargs)

    def _graph_key(self, flat, in_format):
        # the traced graph returns the states unless `skip_states`
        return super()._graph_key(flat, in_format), self.skip_states

    def hybrid_forward(self, F, inputs, states, sequence_length=None, **kwargs):
        if F is nd_module:
            self._check_states(inputs, states)
        outputs, states = self._forward_kernel(F, inputs, states, sequence_length, **kwargs)
        return outputs if self.skip_states else (outputs, states)

    def _check_states(self, inputs, states):
        if inputs.ndim != 3:
            raise ShapeError("%s: the input must have 3 dimensions (layout %s), got shape %s"
                             % (self.name, self._layout, inputs.shape))
        infos = self.state_info(inputs.shape[self._layout.find("N")])
        if len(states) != len(infos):
            raise ShapeError("%s: expected %d recurrent state(s), got %d" % (self.name, len(infos), len(states)))
        for i, (state, info) in enumerate(zip(states, infos)):
            if state.shape != info["shape"]:
                raise ShapeError("%s: Invalid recurrent state shape. Expecting %s, got %s (state %d; layout "
                                 "(num_layers*directions, batch, hidden))."
                                 % (self.name, info["shape"], state.shape, i))

    def _packed_parameters(self, F, params):
        """MXNet's packed vector: every weight (layer by layer, direction by direction: i2h, h2h, h2r), then every
        bias (i2h, h2h), each flattened, joined by `_rnn_param_concat` as MXNet's layer does."""
        kinds = ["i2h", "h2h", "h2r"] if self._projection_size else ["i2h", "h2h"]
        flat = [params["%s%d_%s_%s" % (d, layer, g, t)].reshape(-1)
                for t in ["weight", "bias"] for layer in range(self._num_layers) for d in ["l", "r"][:self._dir]
                for g in kinds if g != "h2r" or t != "bias"]
        return F._internal._rnn_param_concat(*flat, dim=0)

    def _forward_kernel(self, F, inputs, states, sequence_length, **params):
        """The fused RNN op over the whole sequence (layout TNC inside)."""
        if self._layout == "NTC":
            inputs = F.swapaxes(inputs, dim1=0, dim2=1)
        extra = [sequence_length] if self._use_sequence_length else []
        rnn = F.RNN(inputs, self._packed_parameters(F, params), *states, *extra,
                    use_sequence_length=self._use_sequence_length, state_size=self._hidden_size,
                    projection_size=self._projection_size, num_layers=self._num_layers,
                    bidirectional=self._dir == 2, p=self._dropout, state_outputs=True, mode=self._mode,
                    lstm_state_clip_min=self._lstm_state_clip_min, lstm_state_clip_max=self._lstm_state_clip_max,
                    lstm_state_clip_nan=self._lstm_state_clip_nan)
        outputs, states = rnn[0], list(rnn[1:])
        if self._layout == "NTC":
            outputs = F.swapaxes(outputs, dim1=0, dim2=1)
        return outputs, states


class RNN(_RNNLayer):
    """Multi-layer Elman RNN with tanh or ReLU: h_t = act(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh).

    Input `(T, N, C)` for layout 'TNC' ('NTC': `(N, T, C)`); states `(num_layers*directions, N, hidden)`;
    called without states it returns the output only, with states `(output, new_states)`."""

    def __init__(self, hidden_size, num_layers=1, activation="relu", layout="TNC", dropout=0, bidirectional=False,
                 i2h_weight_initializer=None, h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", input_size=0, dtype="float32", **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                         "rnn_" + activation, None, None, None, None, False, dtype, **kwargs)

    def state_info(self, batch_size=0):
        return [{"shape": (self._num_layers * self._dir, batch_size, self._hidden_size), "__layout__": "LNC",
                 "dtype": self._dtype}]


class LSTM(_RNNLayer):
    """Multi-layer LSTM, gates (i, f, g, o); states [h, c], each `(num_layers*directions, N, hidden)` (h:
    `projection_size` wide with a projection). `state_clip_min/max` clip the cell state."""

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0, bidirectional=False, input_size=0,
                 i2h_weight_initializer=None, h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", projection_size=None, h2r_weight_initializer=None,
                 state_clip_min=None, state_clip_max=None, state_clip_nan=False, dtype="float32", **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                         "lstm", projection_size, h2r_weight_initializer, state_clip_min, state_clip_max,
                         state_clip_nan, dtype, **kwargs)

    def state_info(self, batch_size=0):
        h_size = self._projection_size or self._hidden_size
        return [{"shape": (self._num_layers * self._dir, batch_size, h_size), "__layout__": "LNC",
                 "dtype": self._dtype},
                {"shape": (self._num_layers * self._dir, batch_size, self._hidden_size), "__layout__": "LNC",
                 "dtype": self._dtype}]


class GRU(_RNNLayer):
    """Multi-layer GRU, gates (r, z, n) with n = tanh(W_in x + b_in + r*(W_hn h + b_hn))."""

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0, bidirectional=False, input_size=0,
                 i2h_weight_initializer=None, h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", dtype="float32", **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                         "gru", None, None, None, None, False, dtype, **kwargs)

    def state_info(self, batch_size=0):
        return [{"shape": (self._num_layers * self._dir, batch_size, self._hidden_size), "__layout__": "LNC",
                 "dtype": self._dtype}]
