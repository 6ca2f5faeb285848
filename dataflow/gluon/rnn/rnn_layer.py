"""Multi-layer recurrent layers `RNN`, `LSTM`, `GRU` (MXNet 1.9.1's `gluon.rnn.rnn_layer`).

MXNet runs these layers with its fused `RNN` op. dataflow does not have that op yet, so `_RNNLayer` unrolls the
per-step math of `_steps.py` over time, layer by layer and direction by direction, with the same parameters
(`l0_i2h_weight`, ..., `r0_h2h_bias` for the reverse direction, `l0_h2r_weight` with a projection) and the
same gate layout, so outputs, states and gradients equal the fused op's and MXNet's files load. This is
correct but slower than a fused kernel: the graph has a few ops per step and layer. A traced (hybridized) layer
needs the sequence length, which a layer traced alone knows from its input; inside a larger traced graph the
input's shape must be inferable.
"""
import re

from ops.errors import MXNetError, ParamError, ShapeError

from ... import ndarray as nd_module
from ... import symbol as sym_module
from . import _steps, rnn_cell
from .._nesting import trace_input_shapes
from ..block import HybridBlock
from ._sequence import split_steps, tensor_types

__all__ = ["RNN", "LSTM", "GRU"]


class _RNNLayer(HybridBlock):
    """The layers' common part: parameters, states, and the unrolled forward."""

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
        self._gates = _steps.MODES[mode][1]

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
        # the graph is unrolled over the sequence length, and returns the states unless `skip_states`
        return super()._graph_key(flat, in_format), tuple(a.shape for a in flat if a is not None), self.skip_states

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

    def _sequence_length_of(self, F, inputs):
        axis = self._layout.find("T")
        if F is nd_module:
            return inputs.shape[axis]
        known = trace_input_shapes()
        arguments = set(inputs.list_arguments())
        try:
            _, out_shapes, _ = inputs.infer_shape_partial(**{k: v for k, v in known.items() if k in arguments})
        except MXNetError:
            out_shapes = None
        shape = out_shapes[0] if out_shapes else None
        if not shape or not shape[axis]:
            raise MXNetError("%s: the sequence length of the input %s is not known while tracing; this layer is "
                             "unrolled over time until the fused RNN op exists, so hybridize it on its own or "
                             "give its input a known shape" % (self.name, inputs.name))
        return shape[axis]

    def _forward_kernel(self, F, inputs, states, sequence_length, **params):
        """The fused op's computation, unrolled: layer by layer, each direction over the whole sequence."""
        if self._use_sequence_length:
            raise MXNetError("%s: use_sequence_length needs the fused RNN op, which dataflow does not have yet"
                             % self.name)
        length = self._sequence_length_of(F, inputs)
        if self._layout == "NTC":
            inputs = F.swapaxes(inputs, dim1=0, dim2=1)
        steps = split_steps(F, inputs, length, 0)
        n_slots = self._num_layers * self._dir
        per_slot = [split_steps(F, s, n_slots, 0) for s in states]   # state tensor -> one (N, H) per layer/dir
        step_fn, _, _ = _steps.MODES[self._mode]
        extra = {}
        if self._mode.startswith("rnn"):
            extra["act"] = self._mode[4:]
        elif self._mode == "lstm":
            extra.update(clip_min=self._lstm_state_clip_min, clip_max=self._lstm_state_clip_max)
        final = [[None] * n_slots for _ in states]
        for layer in range(self._num_layers):
            directions = []
            for d, tag in enumerate("lr"[:self._dir]):
                slot = layer * self._dir + d
                name = "%s%d_" % (tag, layer)
                weights = {k: params[name + k] for k in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias")}
                if self._projection_size:
                    extra.update(h2r_weight=params[name + "h2r_weight"], projection_size=self._projection_size)
                state = [s[slot] for s in per_slot]
                sequence = steps if tag == "l" else steps[::-1]
                outs = []
                for t, x in enumerate(sequence):
                    out, state = step_fn(F, x, state, hidden_size=self._hidden_size, prefix="%st%d_" % (name, t),
                                         **weights, **extra)
                    outs.append(out)
                directions.append(outs if tag == "l" else outs[::-1])
                for k, s in enumerate(state):
                    final[k][slot] = s
            steps = directions[0] if self._dir == 1 else \
                [F.concat(fw, bw, dim=1) for fw, bw in zip(*directions)]
            if self._dropout and layer < self._num_layers - 1:
                steps = [F.Dropout(x, p=self._dropout) for x in steps]
        outputs = F.stack(*steps, axis=0)
        if self._layout == "NTC":
            outputs = F.swapaxes(outputs, dim1=0, dim2=1)
        return outputs, [F.stack(*slots, axis=0) for slots in final]


class RNN(_RNNLayer):
    """Multi-layer Elman RNN with tanh or ReLU: h_t = act(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh).

    Input `(T, N, C)` for layout 'TNC' ('NTC': `(N, T, C)`); states `(num_layers*directions, N, hidden)`;
    called without states it returns the output only, with states `(output, new_states)`. Unrolled over
    time (see the module's docstring): same results as MXNet's fused op, more slowly."""

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
    `projection_size` wide with a projection). `state_clip_min/max` clip the cell state. Unrolled over time
    (see the module's docstring): same results as MXNet's fused op, more slowly."""

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
    """Multi-layer GRU, gates (r, z, n) with n = tanh(W_in x + b_in + r*(W_hn h + b_hn)). Unrolled over time
    (see the module's docstring): same results as MXNet's fused op, more slowly."""

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0, bidirectional=False, input_size=0,
                 i2h_weight_initializer=None, h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", dtype="float32", **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                         "gru", None, None, None, None, False, dtype, **kwargs)

    def state_info(self, batch_size=0):
        return [{"shape": (self._num_layers * self._dir, batch_size, self._hidden_size), "__layout__": "LNC",
                 "dtype": self._dtype}]
