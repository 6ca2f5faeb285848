"""Op spec rows for ops/rnn.py; see tests/op_specs.py. `rnn_reference` is a plain numpy RNN written from the
equations (one step at a time, per row, no GEMM batching, no reserve), independent of the kernels; MXNet's own
numbers are compared in tests/test_rnn_op.py. Import tests.op_specs, never this module first.
"""
import numpy as np
from hypothesis import assume, strategies as st

from ops import registry
from ops.errors import DTypeError, ParamError
from tests.op_specs import Err, OpSpec, Shp, array

GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}
# A relu RNN's drawn cases keep every pre-activation at least this far from 0 (the gradient tests' steps are 1e-6).
RELU_KINK_MARGIN = 1e-3


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def unpack(params, mode, num_layers, bidirectional, input_size, hidden, projection=None):
    """[layer][direction] -> dict(Wx, Wh, Wr, bx, bh) from MXNet's packed vector: all weights, then all biases."""
    d_count = 2 if bidirectional else 1
    g, r = GATES[mode], projection or hidden
    pos, out = 0, [[{} for _ in range(d_count)] for _ in range(num_layers)]

    def take(*shape):
        nonlocal pos
        size = int(np.prod(shape))
        pos += size
        return params[pos - size:pos].reshape(shape)
    for layer in range(num_layers):
        for d in range(d_count):
            width = input_size if layer == 0 else d_count * r
            out[layer][d].update(Wx=take(g * hidden, width), Wh=take(g * hidden, r),
                                 Wr=take(projection, hidden) if projection else None)
    for layer in range(num_layers):
        for d in range(d_count):
            out[layer][d].update(bx=take(g * hidden), bh=take(g * hidden))
    assert pos == params.size, (pos, params.size)
    return out


def _cell(mode, w, x, h, c, clip, clip_nan, pre_activations=None):
    """One step for one row: (output, h', c'); a relu cell appends its pre-activation to `pre_activations`."""
    pre_x, pre_h = w["Wx"] @ x + w["bx"], w["Wh"] @ h + w["bh"]
    hidden = w["Wh"].shape[0] // GATES[mode]
    if mode in ("rnn_tanh", "rnn_relu"):
        a = pre_x + pre_h
        if pre_activations is not None and mode == "rnn_relu":
            pre_activations.append(a)
        out = np.tanh(a) if mode == "rnn_tanh" else np.maximum(a, 0)
        return out, out, c
    if mode == "gru":
        xr, xz, xn = np.split(pre_x, 3)
        hr, hz, hn = np.split(pre_h, 3)
        r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        out = (1 - z) * n + z * h
        return out, out, c
    i, f, g, o = np.split(pre_x + pre_h, 4)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    if clip is not None:
        nan = np.isnan(c)
        c = np.clip(c, *clip)
        if clip_nan:
            c[nan] = clip[0]
    out = _sigmoid(o) * np.tanh(c)
    if w["Wr"] is not None:
        out = w["Wr"] @ out
    assert out.shape[0] == w["Wh"].shape[1] and c.shape[0] == hidden
    return out, out, c


def rnn_reference(p, data, params, state, *rest, dropout_masks=None, pre_activations=None):
    """The RNN op's visible outputs in float64 (then the data's dtype); `dropout_masks[layer]` (T, N, D*R) scale
    each layer's output but the last where given; a list `pre_activations` collects relu cells' pre-activations."""
    rest = list(rest)
    cell = rest.pop(0) if p.mode == "lstm" else None
    lengths = rest.pop(0) if p.use_sequence_length else None
    x = data.astype(np.float64)
    steps, batch, _ = x.shape
    d_count = 2 if p.bidirectional else 1
    clip = None if p.lstm_state_clip_min is None else (p.lstm_state_clip_min, p.lstm_state_clip_max)
    weights = unpack(params.astype(np.float64), p.mode, p.num_layers, p.bidirectional, x.shape[2], p.state_size,
                     p.projection_size)
    hy, cy = np.array(state, np.float64), None if cell is None else np.array(cell, np.float64)
    for layer in range(p.num_layers):
        outs = []
        for d in range(d_count):
            slot = layer * d_count + d
            y = np.zeros((steps, batch, state.shape[2]))
            for b in range(batch):
                length = steps if lengths is None else int(lengths[b])
                h = hy[slot, b].copy()
                c = None if cy is None else cy[slot, b].copy()
                for t in (range(length) if d == 0 else range(length - 1, -1, -1)):
                    y[t, b], h, c = _cell(p.mode, weights[layer][d], x[t, b], h, c, clip, p.lstm_state_clip_nan,
                                          pre_activations)
                hy[slot, b] = h
                if cy is not None:
                    cy[slot, b] = c
            outs.append(y)
        x = np.concatenate(outs, axis=2)
        if dropout_masks is not None and layer < p.num_layers - 1:
            x = x * dropout_masks[layer]
    results = [x, hy, cy][:1 + ((2 if p.mode == "lstm" else 1) if p.state_outputs else 0)]
    results = [r.astype(data.dtype) for r in results]
    return results[0] if len(results) == 1 else tuple(results)


def rnn_sample(draw, dtype):
    mode = draw(st.sampled_from(sorted(GATES)))
    layers, bidirectional = draw(st.integers(1, 2)), draw(st.booleans())
    steps, batch, inputs, hidden = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 3)), \
        draw(st.integers(1, 3))
    attrs = dict(mode=mode, state_size=hidden, num_layers=layers, bidirectional=bidirectional,
                 state_outputs=draw(st.booleans()))
    projection = None
    if mode == "lstm" and hidden > 1 and draw(st.booleans()):
        projection = attrs["projection_size"] = draw(st.integers(1, hidden - 1))
    if mode == "lstm" and draw(st.booleans()):
        attrs.update(lstm_state_clip_min=-0.25, lstm_state_clip_max=0.25)
    d_count, r = 2 if bidirectional else 1, projection or hidden
    size, width = 0, inputs
    for _ in range(layers):
        size += d_count * (GATES[mode] * hidden * (width + r + 2) + (r * hidden if projection else 0))
        width = d_count * r
    data = [array(draw, dtype, (steps, batch, inputs), "unit"), array(draw, dtype, (size,), "unit") * 0.3,
            array(draw, dtype, (layers * d_count, batch, r), "unit") * 0.3]
    if mode == "lstm":
        data.append(array(draw, dtype, (layers * d_count, batch, hidden), "unit") * 0.3)
    if draw(st.booleans()):
        attrs["use_sequence_length"] = True
        data.append(np.array([draw(st.integers(1, steps)) for _ in range(batch)], dtype))
    if mode == "rnn_relu":      # off relu's kink, where finite differences and the gradient rightly disagree
        seen = []
        rnn_reference(registry.get("RNN").parse_params(attrs), *data, pre_activations=seen)
        assume(min(np.abs(a).min() for a in seen) > RELU_KINK_MARGIN)
    return attrs, data


# The generic forward/rules/req tests build the outputs from the reference, which has no hidden `reserve`.
_HIDDEN = ("the op's hidden reserve output has the kernels' own layout; tests/test_rnn_op.py runs the same checks "
           "(kernel vs this reference, rules, req add/null) with every output")
def _param_concat_sample(draw, dtype):
    n = draw(st.integers(1, 3))
    return {"num_args": n, "dim": 0}, [array(draw, dtype, (draw(st.integers(1, 4)),)) for _ in range(n)]


_LSTM = {"mode": "lstm", "state_size": 4, "num_layers": 1}
SPECS = [
    OpSpec("RNN", rnn_reference, rnn_sample, dtypes=("float32", "float64"),
           tol={"float32": (1e-5, 1e-5), "float64": (1e-10, 1e-10)}, grad=True,
           grad_inputs=("data", "parameters", "state"),      # every mode's; state_cell's against MXNet's grads
           skips={k: _HIDDEN for k in ("forward", "rules", "req")},
           attrs=(({"mode": "gru", "state_size": "8", "num_layers": "2", "bidirectional": "True",
                    "projection_size": "None", "lstm_state_clip_min": "None"},
                   {"mode": "gru", "state_size": 8, "num_layers": 2, "bidirectional": True, "projection_size": None,
                    "lstm_state_clip_min": None}),),
           errors=(Err(_LSTM, ((5, 3), None, None, None), match="3-D"),
                   Err(dict(_LSTM, mode="lstm2"), exc=ParamError, match="mode"),
                   Err(dict(_LSTM, mode="gru", projection_size=2), ((5, 2, 3), None, None), exc=ParamError,
                       match="projection_size"),
                   Err(dict(_LSTM, lstm_state_clip_min=-1.0), ((5, 2, 3), None, None, None), exc=ParamError,
                       match="together"),
                   Err(_LSTM, dtypes=("int32", "int32", "int32", "int32"), exc=DTypeError, match="float32")),
           shapes=(Shp(dict(_LSTM, state_outputs=True), ((5, 2, 3), None, None, None),
                       ((5, 2, 4), (1, 2, 4), (1, 2, 4)), want_ins=((5, 2, 3), (144,), (1, 2, 4), (1, 2, 4))),
                   Shp({"mode": "gru", "state_size": 4, "num_layers": 2, "bidirectional": True},
                       ((5, 2, 3), None, None), ((5, 2, 8),), want_ins=((5, 2, 3), (552,), (4, 2, 4))),
                   Shp({"mode": "lstm", "state_size": 4, "num_layers": 1, "bidirectional": True,
                        "projection_size": 2, "use_sequence_length": True, "state_outputs": True},
                       ((5, 2, 3), None, None, None, None), ((5, 2, 4), (2, 2, 2), (2, 2, 4)),
                       want_ins=((5, 2, 3), (240,), (2, 2, 2), (2, 2, 4), (2,))))),
    OpSpec("_rnn_param_concat", lambda p, *xs: np.concatenate(xs, axis=p.dim),
           lambda draw, dtype: _param_concat_sample(draw, dtype),
           dtypes=("float32", "float64"), grad=True,
           skips={"rules": "several inputs of unknown length share what the output leaves equally (MXNet's rule, "
                           "for a bidirectional layer's first i2h weights): a guess the partial-knowledge check "
                           "cannot accept; the golden cases check it"},
           shapes=(Shp({"num_args": 2, "dim": 0}, ((3,), None), ((7,),), outs=((7,),), want_ins=((3,), (4,))),
                   # checked on MXNet 1.9.1: two unknown (6, 0) weights before an RNN op share the rest equally
                   Shp({"num_args": 3, "dim": 0}, (None, (3,), None), ((11,),), outs=((11,),),
                       want_ins=((4,), (3,), (4,))))),
]

EXEMPT = {"_backward_RNN": "internal to RNN's gradient (it reads the forward's hidden reserve output); checked "
                           "through it in tests/test_gradients.py and tests/test_rnn_op.py"}
