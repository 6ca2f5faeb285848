"""One time step of each recurrent unit, written with F ops (F = mx.nd or mx.sym), shared by the cells
(`RNNCell`, `LSTMCell`, `GRUCell`, `contrib.rnn.LSTMPCell`); the layers (`RNN`, `LSTM`, `GRU`) run the fused op.

The gate layout is that of MXNet's fused RNN op, so parameters move between cells, layers and MXNet files:
the i2h/h2h weights stack the gates along rows — LSTM (i, f, g, o), GRU (r, z, n) — and both biases are
added before the gates, except that a GRU's candidate adds its h2h bias inside the reset gate's product:
n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
"""


def activation(F, x, act, **kwargs):
    """`act` applied to x: a name (tanh, relu, sigmoid, softsign, or any Activation act_type), a LeakyReLU
    block, or a callable."""
    named = {"tanh": F.tanh, "relu": F.relu, "sigmoid": F.sigmoid, "softsign": F.softsign}.get(act) \
        if isinstance(act, str) else None
    if named is not None:
        return named(x, **kwargs)
    if isinstance(act, str):
        return F.Activation(x, act_type=act, **kwargs)
    from ..nn.activations import LeakyReLU       # a block: the leaky slope is its alpha
    if isinstance(act, LeakyReLU):
        return F.LeakyReLU(x, act_type="leaky", slope=act._alpha, **kwargs)
    return act(x, **kwargs)


def _projections(F, x, h, i2h_weight, h2h_weight, i2h_bias, h2h_bias, num_hidden, prefix):
    i2h = F.FullyConnected(data=x, weight=i2h_weight, bias=i2h_bias, num_hidden=num_hidden, name=prefix + "i2h")
    h2h = F.FullyConnected(data=h, weight=h2h_weight, bias=h2h_bias, num_hidden=num_hidden, name=prefix + "h2h")
    return i2h, h2h


# The gate math, from the input and recurrent projections (FullyConnected here, Convolution in the
# convolutional cells); `axis` is the axis the gates are stacked along.

def rnn_gates(F, i2h, h2h, prefix, act="tanh"):
    """h' = act(i2h + h2h)."""
    return activation(F, F.elemwise_add(i2h, h2h, name=prefix + "plus0"), act, name=prefix + "out")


def lstm_gates(F, i2h, h2h, c, prefix, act="tanh", recurrent_act="sigmoid", axis=1, clip_min=None,
               clip_max=None, out_name="out"):
    """(h', c'): gates (i, f, g, o); c' = f*c + i*g (clipped to [clip_min, clip_max] when given, as the fused
    op's lstm_state_clip), h' = o*act(c')."""
    gates = F.SliceChannel(F.elemwise_add(i2h, h2h, name=prefix + "plus0"), num_outputs=4, axis=axis,
                           name=prefix + "slice")
    in_gate = activation(F, gates[0], recurrent_act, name=prefix + "i")
    forget_gate = activation(F, gates[1], recurrent_act, name=prefix + "f")
    in_transform = activation(F, gates[2], act, name=prefix + "c")
    out_gate = activation(F, gates[3], recurrent_act, name=prefix + "o")
    next_c = F.elemwise_add(F.elemwise_mul(forget_gate, c, name=prefix + "mul0"),
                            F.elemwise_mul(in_gate, in_transform, name=prefix + "mul1"), name=prefix + "state")
    if clip_min is not None or clip_max is not None:
        next_c = F.clip(next_c, a_min=-float("inf") if clip_min is None else clip_min,
                        a_max=float("inf") if clip_max is None else clip_max, name=prefix + "state_clip")
    next_h = F.elemwise_mul(out_gate, activation(F, next_c, act, name=prefix + "activation0"),
                            name=prefix + out_name)
    return next_h, next_c


def gru_gates(F, i2h, h2h, h, prefix, act="tanh", axis=1):
    """h': gates (r, z, n); n = act(i2h_n + r*h2h_n) (h2h_n holds its bias), h' = (1-z)*n + z*h."""
    i2h_r, i2h_z, i2h_n = F.SliceChannel(i2h, num_outputs=3, axis=axis, name=prefix + "i2h_slice")
    h2h_r, h2h_z, h2h_n = F.SliceChannel(h2h, num_outputs=3, axis=axis, name=prefix + "h2h_slice")
    reset_gate = F.Activation(F.elemwise_add(i2h_r, h2h_r, name=prefix + "plus0"), act_type="sigmoid",
                              name=prefix + "r_act")
    update_gate = F.Activation(F.elemwise_add(i2h_z, h2h_z, name=prefix + "plus1"), act_type="sigmoid",
                               name=prefix + "z_act")
    candidate = activation(F, F.elemwise_add(i2h_n, F.elemwise_mul(reset_gate, h2h_n, name=prefix + "mul0"),
                                             name=prefix + "plus2"), act, name=prefix + "h_act")
    ones = F.ones_like(update_gate, name=prefix + "ones_like0")
    return F.elemwise_add(F.elemwise_mul(F.elemwise_sub(ones, update_gate, name=prefix + "minus0"), candidate,
                                         name=prefix + "mul1"),
                          F.elemwise_mul(update_gate, h, name=prefix + "mul20"), name=prefix + "out")


# One step of each unit with FullyConnected projections: (output, new states).

def rnn_step(F, x, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias, hidden_size, prefix, act="tanh"):
    """Elman RNN: h' = act(W_ih x + b_ih + W_hh h + b_hh). Returns (h', [h'])."""
    i2h, h2h = _projections(F, x, states[0], i2h_weight, h2h_weight, i2h_bias, h2h_bias, hidden_size, prefix)
    out = rnn_gates(F, i2h, h2h, prefix, act)
    return out, [out]


def lstm_step(F, x, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias, hidden_size, prefix,
              act="tanh", recurrent_act="sigmoid", h2r_weight=None, projection_size=None,
              clip_min=None, clip_max=None):
    """LSTM over states [h, c]. With `h2r_weight` the LSTMP projection r' = W_hr h' is the output and the
    recurrent state (states [r, c]). Returns (output, [h' or r', c'])."""
    i2h, h2h = _projections(F, x, states[0], i2h_weight, h2h_weight, i2h_bias, h2h_bias, 4 * hidden_size, prefix)
    next_h, next_c = lstm_gates(F, i2h, h2h, states[1], prefix, act, recurrent_act, clip_min=clip_min,
                                clip_max=clip_max, out_name="out" if h2r_weight is None else "hidden")
    if h2r_weight is None:
        return next_h, [next_h, next_c]
    next_r = F.FullyConnected(data=next_h, weight=h2r_weight, num_hidden=projection_size, no_bias=True,
                              name=prefix + "out")
    return next_r, [next_r, next_c]


def gru_step(F, x, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias, hidden_size, prefix):
    """GRU over states [h]. Returns (h', [h'])."""
    i2h, h2h = _projections(F, x, states[0], i2h_weight, h2h_weight, i2h_bias, h2h_bias, 3 * hidden_size, prefix)
    next_h = gru_gates(F, i2h, h2h, states[0], prefix)
    return next_h, [next_h]
