"""The legacy symbolic RNN cells of `mx.rnn` (MXNet 1.x's `mxnet.rnn.rnn_cell`), used with Module.

A cell builds Symbols: `cell(inputs, states)` adds one time step to the graph and `cell.unroll(length, inputs)`
adds `length` of them. Node and variable names follow MXNet exactly (`lstm_t0_i2h`, `lstm_i2h_weight`,
`lstm_begin_state_0` ...), so an unrolled graph saves to the JSON MXNet writes and MXNet's checkpoints load.
Weights live in an `RNNParams` container, which cells may share. `unpack_weights`/`pack_weights` convert between
the stored form (one matrix per cell, or one vector for `FusedRNNCell`) and one matrix per gate.

Cells that change another cell (dropout on states, residual connections) are `ModifierCell`s in `modifiers.py`.
"""
import warnings

from .. import initializer as init
from .. import ndarray
from .. import symbol
from ..initializer import fused_rnn_slices

__all__ = ["RNNParams", "BaseRNNCell", "RNNCell", "LSTMCell", "GRUCell", "FusedRNNCell", "SequentialRNNCell",
           "DropoutCell", "BidirectionalCell"]


def _normalize_sequence(length, inputs, layout, merge, in_layout=None):
    """`inputs` as one Symbol with time on the layout's T axis (merge=True), as a list of per-step Symbols
    (merge=False), or as given (merge=None); returns it and the T axis."""
    if inputs is None:
        raise ValueError("unroll(inputs=None) is no longer supported: create the input variables outside unroll")
    if "T" not in layout:
        raise ValueError("unroll: layout %r has no time axis 'T' (use 'NTC' or 'TNC')" % (layout,))
    axis = layout.find("T")
    in_axis = in_layout.find("T") if in_layout is not None else axis
    if isinstance(inputs, symbol.Symbol):
        if merge is False:
            if len(inputs.list_outputs()) != 1:
                raise ValueError("unroll takes one Symbol or a list of Symbols, not a grouped Symbol of %d outputs; "
                                 "pass list(inputs) instead" % len(inputs.list_outputs()))
            inputs = list(symbol.split(inputs, axis=in_axis, num_outputs=length, squeeze_axis=1))
    else:
        if length is not None and len(inputs) != length:
            raise ValueError("unroll: %d inputs given for length %d" % (len(inputs), length))
        if merge is True:
            steps = [symbol.expand_dims(step, axis=axis) for step in inputs]
            inputs = symbol.Concat(*steps, dim=axis)
            in_axis = axis
    if isinstance(inputs, symbol.Symbol) and axis != in_axis:
        inputs = symbol.swapaxes(inputs, dim0=axis, dim1=in_axis)
    return inputs, axis


class RNNParams:
    """The variables of one or more cells, by name: `get(name)` returns the variable `prefix + name`, made on
    first use (keywords go to `symbol.Variable`). Cells given the same RNNParams share their weights."""

    def __init__(self, prefix=""):
        self._prefix = prefix
        self._params = {}

    def get(self, name, **kwargs):
        name = self._prefix + name
        if name not in self._params:
            self._params[name] = symbol.Variable(name, **kwargs)
        return self._params[name]


class BaseRNNCell:
    """Base class of the cells. `prefix` names the cell's nodes (and its weights when it owns `params`)."""

    def __init__(self, prefix="", params=None):
        self._own_params = params is None
        self._prefix = prefix
        self._params = RNNParams(prefix) if params is None else params
        self._modified = False
        self.reset()

    def reset(self):
        """Restart the step and begin-state counters, before building another graph with this cell."""
        self._init_counter = -1
        self._counter = -1
        for cell in getattr(self, "_cells", ()):
            cell.reset()

    def __call__(self, inputs, states):
        """One time step: (output, new states) for `inputs` (batch, features) and `states`."""
        raise NotImplementedError()

    @property
    def params(self):
        """The cell's RNNParams (once read, the cell no longer counts as owning them)."""
        self._own_params = False
        return self._params

    @property
    def state_info(self):
        """Per state, a dict of its `shape` (0 for the batch size) and `__layout__`."""
        raise NotImplementedError()

    @property
    def state_shape(self):
        return [info["shape"] for info in self.state_info]

    @property
    def _gate_names(self):
        return ()

    def _check_not_modified(self):
        if self._modified:
            raise RuntimeError("%s is wrapped by a modifier cell (e.g. ZoneoutCell); call the modifier cell "
                               "instead of this one" % type(self).__name__)

    def begin_state(self, func=symbol.zeros, **kwargs):
        """The first step's states, one `func(name='<prefix>begin_state_<n>', **state_info, **kwargs)` each
        (`symbol.zeros` by default; `symbol.Variable` to feed them as inputs)."""
        self._check_not_modified()
        states = []
        for info in self.state_info:
            self._init_counter += 1
            if info is not None:
                kwargs.update(info)
            states.append(func(name="%sbegin_state_%d" % (self._prefix, self._init_counter), **kwargs))
        return states

    def unpack_weights(self, args):
        """A copy of `args` (name -> NDArray) with this cell's i2h/h2h weights and biases cut into one array per
        gate (`lstm_i2h_f_weight` ...)."""
        args = args.copy()
        gates = self._gate_names
        if not gates:
            return args
        h = self._num_hidden
        for group in ("i2h", "h2h"):
            for kind in ("weight", "bias"):
                packed = args.pop("%s%s_%s" % (self._prefix, group, kind))
                for j, gate in enumerate(gates):
                    args["%s%s%s_%s" % (self._prefix, group, gate, kind)] = packed[j * h:(j + 1) * h].copy()
        return args

    def pack_weights(self, args):
        """The inverse of `unpack_weights`: the per-gate arrays of `args` concatenated back."""
        args = args.copy()
        gates = self._gate_names
        if not gates:
            return args
        for group in ("i2h", "h2h"):
            for kind in ("weight", "bias"):
                pieces = [args.pop("%s%s%s_%s" % (self._prefix, group, gate, kind)) for gate in gates]
                args["%s%s_%s" % (self._prefix, group, kind)] = ndarray.concatenate(pieces)
        return args

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        """`length` steps over `inputs` (one Symbol with the layout's T axis, or a list of per-step Symbols).
        Returns the outputs (one Symbol if `merge_outputs`, a list if False, either if None) and the last
        states. `begin_state` defaults to `begin_state()`."""
        self.reset()
        inputs, _ = _normalize_sequence(length, inputs, layout, False)
        states = self.begin_state() if begin_state is None else begin_state
        outputs = []
        for step in range(length):
            output, states = self(inputs[step], states)
            outputs.append(output)
        outputs, _ = _normalize_sequence(length, outputs, layout, merge_outputs)
        return outputs, states

    def _next_step_name(self):
        """Count a step and return the prefix of its nodes' names: `<prefix>t<step>_`."""
        self._counter += 1
        return "%st%d_" % (self._prefix, self._counter)

    def _fc_forward(self, inputs, h, size, name):
        """The step's two projections, i2h(inputs) and h2h(h): FullyConnected nodes `<name>i2h`, `<name>h2h`."""
        i2h = symbol.FullyConnected(data=inputs, weight=self._iW, bias=self._iB, num_hidden=size,
                                    name="%si2h" % name)
        h2h = symbol.FullyConnected(data=h, weight=self._hW, bias=self._hB, num_hidden=size, name="%sh2h" % name)
        return i2h, h2h

    def _get_activation(self, inputs, activation, **kwargs):
        """`activation` applied to `inputs`: an Activation act_type name, or a function of a Symbol."""
        if isinstance(activation, str):
            return symbol.Activation(inputs, act_type=activation, **kwargs)
        return activation(inputs, **kwargs)


class RNNCell(BaseRNNCell):
    """Elman RNN cell: out = activation(i2h(x) + h2h(h))."""

    def __init__(self, num_hidden, activation="tanh", prefix="rnn_", params=None):
        super().__init__(prefix=prefix, params=params)
        self._num_hidden = num_hidden
        self._activation = activation
        self._iW = self.params.get("i2h_weight")
        self._iB = self.params.get("i2h_bias")
        self._hW = self.params.get("h2h_weight")
        self._hB = self.params.get("h2h_bias")

    @property
    def state_info(self):
        return [{"shape": (0, self._num_hidden), "__layout__": "NC"}]

    @property
    def _gate_names(self):
        return ("",)

    def __call__(self, inputs, states):
        name = self._next_step_name()
        i2h, h2h = self._fc_forward(inputs, states[0], self._num_hidden, name)
        output = self._get_activation(i2h + h2h, self._activation, name="%sout" % name)
        return output, [output]


class LSTMCell(BaseRNNCell):
    """LSTM cell; gates in the order input, forget, cell candidate, output. The i2h bias starts with
    `forget_bias` on the forget gate (initializer LSTMBias)."""

    def __init__(self, num_hidden, prefix="lstm_", params=None, forget_bias=1.0):
        super().__init__(prefix=prefix, params=params)
        self._num_hidden = num_hidden
        self._iW = self.params.get("i2h_weight")
        self._hW = self.params.get("h2h_weight")
        self._iB = self.params.get("i2h_bias", init=init.LSTMBias(forget_bias=forget_bias))
        self._hB = self.params.get("h2h_bias")

    @property
    def state_info(self):
        return [{"shape": (0, self._num_hidden), "__layout__": "NC"},
                {"shape": (0, self._num_hidden), "__layout__": "NC"}]

    @property
    def _gate_names(self):
        return ["_i", "_f", "_c", "_o"]

    def __call__(self, inputs, states):
        name = self._next_step_name()
        i2h, h2h = self._fc_forward(inputs, states[0], self._num_hidden * 4, name)
        gates = symbol.SliceChannel(i2h + h2h, num_outputs=4, name="%sslice" % name)
        in_gate = symbol.Activation(gates[0], act_type="sigmoid", name="%si" % name)
        forget_gate = symbol.Activation(gates[1], act_type="sigmoid", name="%sf" % name)
        candidate = symbol.Activation(gates[2], act_type="tanh", name="%sc" % name)
        out_gate = symbol.Activation(gates[3], act_type="sigmoid", name="%so" % name)
        next_c = symbol._internal._plus(forget_gate * states[1], in_gate * candidate, name="%sstate" % name)
        next_h = symbol._internal._mul(out_gate, symbol.Activation(next_c, act_type="tanh"), name="%sout" % name)
        return next_h, [next_h, next_c]


class GRUCell(BaseRNNCell):
    """GRU cell as cuDNN computes it (the reset gate scales h2h's candidate part, bias included); gates reset,
    update, candidate."""

    def __init__(self, num_hidden, prefix="gru_", params=None):
        super().__init__(prefix=prefix, params=params)
        self._num_hidden = num_hidden
        self._iW = self.params.get("i2h_weight")
        self._iB = self.params.get("i2h_bias")
        self._hW = self.params.get("h2h_weight")
        self._hB = self.params.get("h2h_bias")

    @property
    def state_info(self):
        return [{"shape": (0, self._num_hidden), "__layout__": "NC"}]

    @property
    def _gate_names(self):
        return ["_r", "_z", "_o"]

    def __call__(self, inputs, states):
        name = self._next_step_name()
        prev_h = states[0]
        i2h, h2h = self._fc_forward(inputs, prev_h, self._num_hidden * 3, name + "_")      # MXNet's names here
        i2h_r, i2h_z, i2h = symbol.SliceChannel(i2h, num_outputs=3, name="%s_i2h_slice" % name)
        h2h_r, h2h_z, h2h = symbol.SliceChannel(h2h, num_outputs=3, name="%s_h2h_slice" % name)
        reset_gate = symbol.Activation(i2h_r + h2h_r, act_type="sigmoid", name="%s_r_act" % name)
        update_gate = symbol.Activation(i2h_z + h2h_z, act_type="sigmoid", name="%s_z_act" % name)
        candidate = symbol.Activation(i2h + reset_gate * h2h, act_type="tanh", name="%s_h_act" % name)
        next_h = symbol._internal._plus((1. - update_gate) * candidate, update_gate * prev_h, name="%sout" % name)
        return next_h, [next_h]


class FusedRNNCell(BaseRNNCell):
    """All layers and time steps in one `RNN` op, with its packed parameter vector `<prefix>parameters`.
    It cannot be stepped; `unfuse()` gives the equivalent stack of step cells (same weight names once
    unpacked)."""

    def __init__(self, num_hidden, num_layers=1, mode="lstm", bidirectional=False, dropout=0.,
                 get_next_state=False, forget_bias=1.0, prefix=None, params=None):
        if mode not in ("rnn_relu", "rnn_tanh", "lstm", "gru"):
            raise ValueError("FusedRNNCell: unknown mode %r (one of rnn_relu, rnn_tanh, lstm, gru)" % (mode,))
        if prefix is None:
            prefix = "%s_" % mode
        super().__init__(prefix=prefix, params=params)
        self._num_hidden = num_hidden
        self._num_layers = num_layers
        self._mode = mode
        self._bidirectional = bidirectional
        self._dropout = dropout
        self._get_next_state = get_next_state
        self._directions = ["l", "r"] if bidirectional else ["l"]
        initializer = init.FusedRNN(None, num_hidden, num_layers, mode, bidirectional, forget_bias)
        self._parameter = self.params.get("parameters", init=initializer)

    @property
    def state_info(self):
        shape = ((self._bidirectional + 1) * self._num_layers, 0, self._num_hidden)
        return [{"shape": shape, "__layout__": "LNC"} for _ in range(2 if self._mode == "lstm" else 1)]

    @property
    def _gate_names(self):
        return {"rnn_relu": [""], "rnn_tanh": [""], "lstm": ["_i", "_f", "_c", "_o"],
                "gru": ["_r", "_z", "_o"]}[self._mode]

    @property
    def _num_gates(self):
        return len(self._gate_names)

    def _slices(self, size):
        """(name, offset, shape) of every gate's weight and bias in a parameter vector of `size`."""
        return [(self._prefix + name, offset, shape) for name, offset, shape in
                fused_rnn_slices(size, self._num_hidden, self._num_layers, self._mode, self._bidirectional)]

    def unpack_weights(self, args):
        args = args.copy()
        flat = args.pop(self._parameter.name)
        for name, offset, shape in self._slices(flat.size):
            count = shape[0] * (shape[1] if len(shape) > 1 else 1)
            args[name] = flat[offset:offset + count].reshape(shape).copy()
        return args

    def pack_weights(self, args):
        args = args.copy()
        b, m, h = self._bidirectional + 1, self._num_gates, self._num_hidden
        first = args["%sl0_i2h%s_weight" % (self._prefix, self._gate_names[0])]
        num_input = first.shape[1]
        total = (num_input + h + 2) * h * m * b + (self._num_layers - 1) * m * h * (h + b * h + 2) * b
        flat = ndarray.zeros((total,), ctx=first.context, dtype=first.dtype)
        for name, offset, shape in self._slices(total):
            piece = args.pop(name)
            if tuple(piece.shape) != tuple(shape):
                raise ValueError("FusedRNNCell.pack_weights: %s has shape %s, expected %s"
                                 % (name, tuple(piece.shape), tuple(shape)))
            flat[offset:offset + piece.size] = piece.reshape((-1,))
        args[self._parameter.name] = flat
        return args

    def __call__(self, inputs, states):
        raise NotImplementedError("FusedRNNCell cannot be stepped. Please use unroll")

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        inputs, axis = _normalize_sequence(length, inputs, layout, True)
        if axis == 1:
            warnings.warn("NTC layout detected. Consider using TNC for FusedRNNCell for faster speed", stacklevel=2)
            inputs = symbol.swapaxes(inputs, dim1=0, dim2=1)
        elif axis != 0:
            raise ValueError("FusedRNNCell: unsupported layout %r (use 'TNC' or 'NTC')" % (layout,))
        states = self.begin_state() if begin_state is None else begin_state
        named_states = {"state": states[0]}
        if self._mode == "lstm":
            named_states["state_cell"] = states[1]
        rnn = symbol.RNN(data=inputs, parameters=self._parameter, state_size=self._num_hidden,
                         num_layers=self._num_layers, bidirectional=self._bidirectional, p=self._dropout,
                         state_outputs=self._get_next_state, mode=self._mode, name=self._prefix + "rnn",
                         **named_states)
        if not self._get_next_state:
            outputs, states = rnn, []
        else:
            states = [rnn[1], rnn[2]] if self._mode == "lstm" else [rnn[1]]
            for state in states:
                state._set_attr(__layout__="LNC")
            outputs = rnn[0]
        if axis == 1:
            outputs = symbol.swapaxes(outputs, dim1=0, dim2=1)
        outputs, _ = _normalize_sequence(length, outputs, layout, merge_outputs)
        return outputs, states

    def unfuse(self):
        """The same network as a SequentialRNNCell of step cells (`<prefix>l0_`, `<prefix>r0_` ...), with
        DropoutCells between layers when `dropout` > 0."""
        def make(cell_prefix):
            if self._mode in ("rnn_relu", "rnn_tanh"):
                return RNNCell(self._num_hidden, activation=self._mode[4:], prefix=cell_prefix)
            return {"lstm": LSTMCell, "gru": GRUCell}[self._mode](self._num_hidden, prefix=cell_prefix)

        stack = SequentialRNNCell()
        for layer in range(self._num_layers):
            if self._bidirectional:
                stack.add(BidirectionalCell(make("%sl%d_" % (self._prefix, layer)),
                                            make("%sr%d_" % (self._prefix, layer)),
                                            output_prefix="%sbi_l%d_" % (self._prefix, layer)))
            else:
                stack.add(make("%sl%d_" % (self._prefix, layer)))
            if self._dropout > 0 and layer != self._num_layers - 1:
                stack.add(DropoutCell(self._dropout, prefix="%s_dropout%d_" % (self._prefix, layer)))
        return stack


def _states_of_cells(cells):
    return sum([cell.state_info for cell in cells], [])


def _begin_states_of_cells(cells, **kwargs):
    return sum([cell.begin_state(**kwargs) for cell in cells], [])


def _unpack_cells(cells, args):
    for cell in cells:
        args = cell.unpack_weights(args)
    return args


def _pack_cells(cells, args):
    for cell in cells:
        args = cell.pack_weights(args)
    return args


class SequentialRNNCell(BaseRNNCell):
    """A stack of cells: each one's output is the next one's input. Given `params`, they replace the cells'
    own (a cell added then must still own its params)."""

    def __init__(self, params=None):
        super().__init__(prefix="", params=params)
        self._override_cell_params = params is not None
        self._cells = []

    def add(self, cell):
        """Append `cell` to the stack."""
        self._cells.append(cell)
        if self._override_cell_params:
            if not cell._own_params:
                raise ValueError("Either specify params for SequentialRNNCell or child cells, not both.")
            cell.params._params.update(self.params._params)
        self.params._params.update(cell.params._params)

    @property
    def state_info(self):
        return _states_of_cells(self._cells)

    def begin_state(self, **kwargs):
        self._check_not_modified()
        return _begin_states_of_cells(self._cells, **kwargs)

    def unpack_weights(self, args):
        return _unpack_cells(self._cells, args)

    def pack_weights(self, args):
        return _pack_cells(self._cells, args)

    def __call__(self, inputs, states):
        self._counter += 1
        next_states = []
        start = 0
        for cell in self._cells:
            if isinstance(cell, BidirectionalCell):
                raise NotImplementedError("a SequentialRNNCell holding a BidirectionalCell cannot be stepped; "
                                          "use unroll")
            count = len(cell.state_info)
            inputs, cell_states = cell(inputs, states[start:start + count])
            start += count
            next_states.extend(cell_states)
        return inputs, next_states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        begin_state = self.begin_state() if begin_state is None else begin_state
        start = 0
        next_states = []
        last = len(self._cells) - 1
        for i, cell in enumerate(self._cells):
            count = len(cell.state_info)
            inputs, states = cell.unroll(length, inputs=inputs, begin_state=begin_state[start:start + count],
                                         layout=layout, merge_outputs=merge_outputs if i == last else None)
            start += count
            next_states.extend(states)
        return inputs, next_states


class DropoutCell(BaseRNNCell):
    """Dropout (fraction `dropout`) on the input; no state."""

    def __init__(self, dropout, prefix="dropout_", params=None):
        super().__init__(prefix, params)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise TypeError("dropout probability must be a number, got %r" % (dropout,))
        self.dropout = dropout

    @property
    def state_info(self):
        return []

    def __call__(self, inputs, states):
        if self.dropout > 0:
            inputs = symbol.Dropout(data=inputs, p=self.dropout)
        return inputs, states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        inputs, _ = _normalize_sequence(length, inputs, layout, merge_outputs)
        if isinstance(inputs, symbol.Symbol):
            return self(inputs, [])
        return super().unroll(length, inputs, begin_state=begin_state, layout=layout, merge_outputs=merge_outputs)


class BidirectionalCell(BaseRNNCell):
    """`l_cell` over the sequence and `r_cell` over it reversed, outputs concatenated on the feature axis
    (`<output_prefix>t<i>` per step, or `<output_prefix>out` merged). Unroll only."""

    def __init__(self, l_cell, r_cell, params=None, output_prefix="bi_"):
        super().__init__("", params=params)
        self._output_prefix = output_prefix
        self._override_cell_params = params is not None
        if self._override_cell_params:
            if not (l_cell._own_params and r_cell._own_params):
                raise ValueError("Either specify params for BidirectionalCell or child cells, not both.")
            l_cell.params._params.update(self.params._params)
            r_cell.params._params.update(self.params._params)
        self.params._params.update(l_cell.params._params)
        self.params._params.update(r_cell.params._params)
        self._cells = [l_cell, r_cell]

    def unpack_weights(self, args):
        return _unpack_cells(self._cells, args)

    def pack_weights(self, args):
        return _pack_cells(self._cells, args)

    def __call__(self, inputs, states):
        raise NotImplementedError("Bidirectional cannot be stepped. Please use unroll")

    @property
    def state_info(self):
        return _states_of_cells(self._cells)

    def begin_state(self, **kwargs):
        self._check_not_modified()
        return _begin_states_of_cells(self._cells, **kwargs)

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        inputs, axis = _normalize_sequence(length, inputs, layout, False)
        states = self.begin_state() if begin_state is None else begin_state
        l_cell, r_cell = self._cells
        split = len(l_cell.state_info)
        l_outputs, l_states = l_cell.unroll(length, inputs=inputs, begin_state=states[:split], layout=layout,
                                            merge_outputs=merge_outputs)
        r_outputs, r_states = r_cell.unroll(length, inputs=list(reversed(inputs)), begin_state=states[split:],
                                            layout=layout, merge_outputs=merge_outputs)
        if merge_outputs is None:
            merge_outputs = isinstance(l_outputs, symbol.Symbol) and isinstance(r_outputs, symbol.Symbol)
            if not merge_outputs:
                if isinstance(l_outputs, symbol.Symbol):
                    l_outputs = list(symbol.SliceChannel(l_outputs, axis=axis, num_outputs=length, squeeze_axis=1))
                if isinstance(r_outputs, symbol.Symbol):
                    r_outputs = list(symbol.SliceChannel(r_outputs, axis=axis, num_outputs=length, squeeze_axis=1))
        if merge_outputs:
            outputs = symbol.Concat(l_outputs, symbol.reverse(r_outputs, axis=axis), dim=2,
                                    name="%sout" % self._output_prefix)
        else:
            outputs = [symbol.Concat(l_out, r_out, dim=1, name="%st%d" % (self._output_prefix, i))
                       for i, (l_out, r_out) in enumerate(zip(l_outputs, reversed(r_outputs)))]
        return outputs, [l_states, r_states]
