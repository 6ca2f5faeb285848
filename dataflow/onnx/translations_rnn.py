"""The fused `RNN` op both ways. Export: ONNX LSTM / GRU / RNN nodes (one per layer), with what feeds it:
`_rnn_param_concat` (Gluon's packing of its parameters) and the `_zeros`/`_ones`/`_full` initial states. Import:
one ONNX recurrent node as a one-layer RNN op.

MXNet packs every layer's and direction's weights into one vector (layout in ops/rnn_layout.py); the translation
reads that vector as a constant (`ExportContext.value`) and writes ONNX's per-layer W, R, B with the gates
reordered: LSTM MXNet (i, f, g, o) -> ONNX (i, o, f, c); GRU MXNet (r, z, n) -> ONNX (z, r, h), whose
`linear_before_reset=1` is MXNet's n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
"""
import numpy as np

from ops.rnn_layout import Carver, Dims, weight_views
from scheduler.graph import Entry

from ._table import exports, imports

_ONNX_OP = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN", "rnn_relu": "RNN"}
_GATE_ORDER = {"lstm": [0, 3, 1, 2], "gru": [1, 0, 2], "rnn_tanh": [0], "rnn_relu": [0]}


def _reorder(array, mode, hidden):
    """Rows of (G*H, ...) in ONNX's gate order."""
    gates = array.reshape((len(_GATE_ORDER[mode]), hidden) + array.shape[1:])
    return gates[_GATE_ORDER[mode]].reshape(array.shape)


def _is_filled(entry, ctx):
    """An initial state that is all zeros (Gluon's begin state): ONNX's default, and it keeps the batch free."""
    value = ctx.value(entry)
    return value is not None and not value.any()


@exports("RNN")
def rnn(ctx, node, ins, outs):
    p = node.params
    if p.projection_size or p.use_sequence_length or p.lstm_state_clip_min is not None:
        raise ctx.unsupported(node, "with projection_size, use_sequence_length or an LSTM state clip")
    packed = ctx.value(node.inputs[1])
    if packed is None:
        raise ctx.unsupported(node, "whose parameters are not computed from parameters alone")
    steps, batch, features = ctx.shape(node.inputs[0])
    dims = Dims(p, steps, batch, features)
    views = weight_views(Carver(packed.reshape(-1)), p, dims)
    mode, hidden, directions = p.mode, p.state_size, dims.D
    has_cell = mode == "lstm"
    attrs = dict(hidden_size=hidden, direction="bidirectional" if directions == 2 else "forward")
    if mode == "gru":
        attrs["linear_before_reset"] = 1
    if mode.startswith("rnn_"):
        attrs["activations"] = ["Relu" if mode == "rnn_relu" else "Tanh"] * directions
    states = [ins[2]] + ([ins[3]] if has_cell else [])
    zero_states = [_is_filled(e, ctx) for e in node.inputs[2:2 + len(states)]]
    x, last_h, last_c = ins[0], [], []
    for layer in range(dims.L):
        per_dir = views[layer]
        w = np.stack([_reorder(v["Wx"], mode, hidden) for v in per_dir])
        r = np.stack([_reorder(v["Wh"], mode, hidden) for v in per_dir])
        b = np.stack([np.concatenate([_reorder(v["bx"], mode, hidden), _reorder(v["bh"], mode, hidden)])
                      for v in per_dir])
        layer_states = []
        for state, zero in zip(states, zero_states):
            if zero:
                layer_states.append("")
            else:
                layer_states.append(ctx.op("Slice", state, ctx.ints([layer * directions]),
                                           ctx.ints([(layer + 1) * directions]), ctx.ints([0])))
        args = [x, ctx.const(w, name="W"), ctx.const(r, name="R"), ctx.const(b, name="B"), ""] + layer_states
        results = ctx.emit(_ONNX_OP[mode], args, [ctx.fresh("%s_l%d_%s" % (node.name, layer, k))
                                                  for k in ("Y", "Y_h", "Y_c")[:3 if has_cell else 2]], **attrs)
        # Y (T, D, N, H) -> (T, N, D*H), the next layer's input
        y = ctx.op("Transpose", results[0], perm=[0, 2, 1, 3])
        x = ctx.op("Reshape", y, ctx.ints([0, 0, -1]))
        last_h.append(results[1])
        if has_cell:
            last_c.append(results[2])
    ctx.emit("Identity", [x], outs[:1])
    for out, parts in zip(outs[1:], [last_h, last_c]):
        ctx.emit("Concat", parts, [out], axis=0)


@exports("_rnn_param_concat")
def rnn_param_concat(ctx, node, ins, outs):
    ctx.emit("Concat", ins, outs, axis=node.params.dim)


@exports("_zeros", "_ones", "_full")
def filled(ctx, node, ins, outs):
    ctx.emit("Identity", [ctx.const(ctx.value(Entry(node, 0)), name=node.name)], outs)


# -- import ---------------------------------------------------------------------------------------------------

_RNN_MODES = {"LSTM": ("lstm", [0, 2, 3, 1]), "GRU": ("gru", [1, 0, 2]), "RNN": (None, [0])}   # ONNX -> MXNet rows


@imports("LSTM", "GRU", "RNN")
def recurrent(ctx, node, ins):
    """One ONNX recurrent layer as MXNet's fused RNN op: W, R, B (constants) packed in MXNet's layout with the
    gates reordered (the inverse of translations_rnn.py); Y (T, D, N, H) from MXNet's (T, N, D*H)."""
    a = ctx.attrs(node)
    mode, order = _RNN_MODES[node.op_type]
    direction = a.get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    if direction == "reverse" or a.get("clip") is not None or a.get("input_forget", 0) or a.get("layout", 0):
        raise ctx.unsupported("with direction=reverse, clip, input_forget or layout=1")
    if node.op_type == "RNN":
        acts = [v.decode() if isinstance(v, bytes) else v for v in a.get("activations", [b"Tanh"])]
        if len(set(acts)) != 1 or acts[0] not in ("Tanh", "Relu"):
            raise ctx.unsupported("with activations %s" % acts)
        mode = "rnn_tanh" if acts[0] == "Tanh" else "rnn_relu"
    if node.op_type == "GRU" and not a.get("linear_before_reset", 0):
        raise ctx.unsupported("with linear_before_reset=0: MXNet's GRU applies the reset after the product")
    if node.op_type == "LSTM" and a.get("activations") is not None:
        raise ctx.unsupported("with custom activations")
    if len(ins) > 4 and ins[4]:
        raise ctx.unsupported("with sequence_lens")
    w, r = ctx.value(ins[1]), ctx.value(ins[2])
    directions, gh, _ = w.shape
    hidden = a["hidden_size"]
    b = ctx.value(ins[3]) if len(ins) > 3 and ins[3] else np.zeros((directions, 2 * gh), w.dtype)

    def mx_rows(array):
        gates = array.reshape((len(order), hidden) + array.shape[1:])
        return gates[order].reshape(array.shape)

    packed = []
    for d in range(directions):
        packed += [mx_rows(w[d]).ravel(), mx_rows(r[d]).ravel()]
    for d in range(directions):
        packed += [mx_rows(b[d, :gh]), mx_rows(b[d, gh:])]
    name = (node.name or node.output[0]) + "_parameters"
    ctx.constants[name] = np.concatenate(packed).astype(w.dtype)
    S = ctx.sym
    x = ctx.get(ins[0])
    states = []
    for position in (5, 6)[:2 if mode == "lstm" else 1]:
        if len(ins) > position and ins[position]:
            states.append(ctx.get(ins[position]))
        else:   # zeros (D, N, H), the batch taken from the data
            column = S.sum(S.zeros_like(S.slice_axis(x, axis=0, begin=0, end=1)), axis=2, keepdims=True)
            states.append(S.broadcast_to(column, shape=(directions, 0, hidden)))
    out = S.RNN(x, ctx.get(name), *states, state_size=hidden, num_layers=1, mode=mode,
                bidirectional=directions == 2, state_outputs=True, name=node.name or None)
    y = S.transpose(S.reshape(out[0], shape=(0, 0, directions, hidden)), axes=(0, 2, 1, 3))
    return [y, out[1]] + ([out[2]] if mode == "lstm" else [])
