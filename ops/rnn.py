"""The fused recurrent op `RNN` (MXNet 1.9.1's mx.sym.RNN / mx.nd.RNN), its backward, and `_rnn_param_concat`.

Inputs: data (T, N, I); parameters, MXNet's packed 1-D vector (layout in ops/cpu/rnn.py); state
(L*D, N, R); state_cell (L*D, N, H), LSTM only; sequence_length (N,) with `use_sequence_length`. Outputs: out
(T, N, D*R) and, with `state_outputs`, hy (L*D, N, R) and cy (L*D, N, H) (LSTM), as MXNet names them (`output`,
`state_output`, `statecell_output`); then a hidden `reserve` (1-D, the data's dtype) holding what the backward
reads (MXNet keeps it in the op's state). Gate orders: LSTM (i, f, g, o), GRU (r, z, n) with
n = tanh(W_in x + b_in + r*(W_hn h + b_hn)). `p` drops the outputs of every layer but the last, in training.

Dtypes: float32 and float64 run. float16 passes type inference, as in MXNet, whose CPU kernel then refuses it
("FP16 gemm on cpu not implemented!", with and without oneDNN); so do the CPU kernels here, and the CUDA ones too
(MXNet's cuDNN op runs float16: not implemented here yet).

Where MXNet 1.9.1's CPU build cannot be the reference: its CPU op ignores `sequence_length` and the state clip
(oneDNN) or refuses them ("only supported for GPU"); here they follow its GPU (cuDNN) semantics: rows past their
length output 0 and keep their states, the reverse direction starts at each row's last valid step, and the cell
state is clipped to [lstm_state_clip_min, lstm_state_clip_max] after each step (with `lstm_state_clip_nan`, NaN
becomes the minimum).
"""
from . import autodiff
from .cpu import nn as cpu_nn
from .cpu import rnn as cpu
from .elemwise import fmt
from .errors import DTypeError, ParamError, ShapeError
from .nn import _concat_grad, _concat_shape
from .rnn_layout import Dims, param_size, reserve_size
from .registry import Bool, Enum, Float, Int, OpDef, OptFloat, OptInt, register

_RNN = dict(
    state_size=Int(doc="size of the state for each layer"),
    num_layers=Int(doc="number of stacked layers"),
    bidirectional=Bool(False, "whether to use bidirectional recurrent layers"),
    mode=Enum(("gru", "lstm", "rnn_relu", "rnn_tanh"), doc="the type of RNN to compute"),
    p=Float(0.0, "drop rate of the dropout on the outputs of each RNN layer, except the last layer."),
    state_outputs=Bool(False, "Whether to have the states as symbol outputs."),
    projection_size=OptInt(None, "size of project size"),
    lstm_state_clip_min=OptFloat(None, "Minimum clip value of LSTM states. This option must be used together with "
                                       "lstm_state_clip_max."),
    lstm_state_clip_max=OptFloat(None, "Maximum clip value of LSTM states. This option must be used together with "
                                       "lstm_state_clip_min."),
    lstm_state_clip_nan=Bool(False, "Whether to stop NaN from propagating in state by clipping it to min/max. If "
                                    "clipping range is not specified, this option is ignored."),
    use_sequence_length=Bool(False, "If set to true, this layer takes in an extra input parameter "
                                    "`sequence_length` to specify variable length sequence"),
)


def _arguments(p):
    return ["data", "parameters", "state"] + (["state_cell"] if p.mode == "lstm" else []) + \
        (["sequence_length"] if p.use_sequence_length else [])


def _outputs(p):
    return ["output"] + ["state_output", "statecell_output"][:_n_states(p)] + ["reserve"]


def _n_states(p):
    """How many state outputs are visible."""
    return (2 if p.mode == "lstm" else 1) if p.state_outputs else 0


def _check_params(p):
    if p.state_size <= 0 or p.num_layers <= 0:
        raise ParamError("RNN: state_size and num_layers must be positive, got state_size=%d, num_layers=%d"
                         % (p.state_size, p.num_layers))
    if p.projection_size is not None:
        if p.mode != "lstm":
            raise ParamError("RNN: projection_size is only supported for mode='lstm', got mode=%r" % p.mode)
        if not 0 < p.projection_size < p.state_size:
            raise ParamError("RNN: projection_size must be positive and smaller than state_size, got "
                             "projection_size=%d, state_size=%d" % (p.projection_size, p.state_size))
    if (p.lstm_state_clip_min is None) != (p.lstm_state_clip_max is None):
        raise ParamError("RNN: lstm_state_clip_min and lstm_state_clip_max must be given together")
    if p.lstm_state_clip_min is not None and p.lstm_state_clip_min > p.lstm_state_clip_max:
        raise ParamError("RNN: lstm_state_clip_min (%g) is greater than lstm_state_clip_max (%g)"
                         % (p.lstm_state_clip_min, p.lstm_state_clip_max))
    if not 0 <= p.p < 1:
        raise ParamError("RNN: the dropout rate p must be in [0, 1), got %g" % p.p)


def _rnn_shape(p, in_shapes, out_shapes):
    """Everything follows from data (T, N, I); the batch size may also come from a state."""
    _check_params(p)
    data = in_shapes[0]
    if data is not None and len(data) != 3:
        raise ShapeError("RNN: data must be 3-D (sequence length, batch, input size), got %s" % fmt(data))
    for name, shape in zip(_arguments(p)[2:], in_shapes[2:]):
        want = 1 if name == "sequence_length" else 3
        if shape is not None and len(shape) != want:
            raise ShapeError("RNN: %s must be %d-D, got %s" % (name, want, fmt(shape)))
    if data is None or not all(data):
        return list(in_shapes), list(out_shapes)
    steps, batch, inputs = data
    dims = Dims(p, steps, batch, inputs)
    slots = dims.L * dims.D
    ins = [data, (param_size(p, inputs),), (slots, batch, dims.R)]
    if p.mode == "lstm":
        ins.append((slots, batch, dims.H))
    if p.use_sequence_length:
        ins.append((batch,))
    outs = [(steps, batch, dims.D * dims.R), (slots, batch, dims.R), (slots, batch, dims.H)][:1 + _n_states(p)]
    outs.append((reserve_size(p, steps, batch, inputs),))
    return ins, outs


def _rnn_type(p, in_types, out_types):
    data = in_types[0] if in_types[0] is not None else out_types[0]
    if data is None:
        return list(in_types), list(out_types)
    if data.name not in ("float16", "float32", "float64"):      # float16 passes, as in MXNet: its CPU kernel refuses it
        raise DTypeError("RNN: data must be float16, float32 or float64, got %s" % data.name)
    ins = [data] * len(in_types)
    if p.use_sequence_length and in_types[-1] is not None:     # lengths may have any dtype (int32 usually)
        ins[-1] = in_types[-1]
    return ins, [data] * len(out_types)


def _rnn_grad(p, ins, outs, dys):
    heads = [dys[0] if dys[0] is not None else autodiff.zeros_like(outs[0])]
    for k in range(2 if p.mode == "lstm" else 1):       # hy, cy: given, or zeros shaped like the initial state
        given = dys[1 + k] if k < _n_states(p) else None
        heads.append(given if given is not None else autodiff.zeros_like(ins[2 + k]))
    grads = autodiff.apply("_backward_RNN", *heads, *ins, outs[-1], **p.as_dict())
    return list(grads) + [None] * p.use_sequence_length


register(OpDef("RNN", params=_RNN, arguments=_arguments, outputs=_outputs,
               num_visible_outputs=lambda p: 1 + _n_states(p), private_outputs=True, infer_shape=_rnn_shape,
               infer_type=_rnn_type, gradient=_rnn_grad, takes_training=True, cpu=cpu.rnn_forward,
               doc="Applies recurrent layers (vanilla RNN with tanh or ReLU, LSTM, GRU) to the input, with all "
                   "parameters in one packed vector; multi-layer and bidirectional, optionally with an LSTM "
                   "projection (LSTMP), dropout between layers, LSTM state clipping and variable sequence lengths."))


def _backward_arguments(p):
    heads = ["ograd_output", "ograd_state"] + (["ograd_statecell"] if p.mode == "lstm" else [])
    return heads + _arguments(p) + ["reserve"]


def _backward_outputs(p):
    return [name + "_grad" for name in _arguments(p) if name != "sequence_length"]


def _backward_shape(p, in_shapes, out_shapes):
    n_heads = 3 if p.mode == "lstm" else 2
    forward = list(in_shapes[n_heads:-1])
    for i, shape in enumerate(out_shapes):
        if forward[i] is None:
            forward[i] = shape
    ins, outs = _rnn_shape(p, forward, [None] * (2 + _n_states(p)))
    all_states = [outs[0], ins[2]] + ([ins[3]] if p.mode == "lstm" else [])
    return all_states + ins + [outs[-1]], ins[:len(out_shapes)]


def _backward_type(p, in_types, out_types):
    data = next((t for t in list(in_types[:-1 - p.use_sequence_length]) + list(out_types) if t is not None), None)
    if data is None:
        return list(in_types), list(out_types)
    ins = [data] * len(in_types)
    if p.use_sequence_length and in_types[-2] is not None:
        ins[-2] = in_types[-2]
    return ins, [data] * len(out_types)


register(OpDef("_backward_RNN", params=_RNN, arguments=_backward_arguments, outputs=_backward_outputs,
               infer_shape=_backward_shape, infer_type=_backward_type, cpu=cpu.rnn_backward,
               doc="Backward of RNN (internal): the gradients of data, parameters and the initial states, from the "
                   "head gradients and the forward's reserve."))


# `_rnn_param_concat`: Gluon's RNN layers join their parameters into the packed vector with it. It is Concat, except
# that several inputs of unknown length along `dim` share what a known output leaves equally, as in MXNet: a
# bidirectional layer's first i2h weights (one per direction) wait for the input size together.
def _param_concat_shape(p, in_shapes, out_shapes):
    ins, outs = _concat_shape(p, in_shapes, out_shapes)
    out = outs[0]
    if out is None or not all(out):
        return ins, outs
    axis = p.dim % len(out)
    unknown = [i for i, s in enumerate(ins) if s is None or not s[axis]]
    rest = out[axis] - sum(s[axis] for s in ins if s is not None)
    if len(unknown) > 1 and rest > 0 and rest % len(unknown) == 0:
        for i in unknown:
            ins[i] = tuple(rest // len(unknown) if j == axis else d for j, d in enumerate(out))
    return ins, outs


register(OpDef("_rnn_param_concat", variadic="num_args",
               params=dict(num_args=Int(doc="Number of inputs to be concated."),
                           dim=Int(1, "the dimension to be concated.")),
               infer_shape=_param_concat_shape, gradient=_concat_grad, cpu=cpu_nn.concat,
               doc="Concatenates the RNN layers' parameters along `dim` (Concat, with the inputs' shapes inferred "
                   "from the output's)."))
