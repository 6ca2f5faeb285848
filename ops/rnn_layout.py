"""The layouts of the fused RNN op (ops/rnn.py), shared by its CPU and CUDA kernels and by readers of its
parameters (Gluon's RNN layers, the ONNX translation): the packed parameter vector, the hidden `reserve` output, the
order of the op's inputs, and the per-row activity mask of variable-length sequences.

Sizes: T steps, N batch, I input features, H = state_size, R = what a step outputs and h2h reads (projection_size
for LSTMP, else H), G gates per unit (rnn 1, lstm 4, gru 3), L layers, D directions.

The packed parameter vector is MXNet's: first every weight, layer by layer and, within a layer, direction by
direction (left then right), each direction's i2h (G*H, I_l), h2h (G*H, R) and, with a projection, h2r (R, H); then
every bias in the same order, i2h (G*H) then h2h (G*H). I_0 = I, I_l = D*R.
"""
import numpy as np

from .errors import MXNetError

GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}


class Dims:
    """The sizes of one RNN node (see the module docstring)."""

    def __init__(self, p, steps, batch, inputs):
        self.T, self.N, self.I = steps, batch, inputs
        self.H = p.state_size
        self.P = p.projection_size
        self.R = p.projection_size or p.state_size
        self.G = GATES[p.mode]
        self.L = p.num_layers
        self.D = 2 if p.bidirectional else 1

    def layer_input(self, layer):
        return self.I if layer == 0 else self.D * self.R


class Carver:
    """Cuts consecutive views out of a flat buffer (or only counts, with None)."""

    def __init__(self, flat):
        self.flat, self.pos = flat, 0

    def take(self, *shape):
        size = int(np.prod(shape))
        view = None if self.flat is None else self.flat[self.pos:self.pos + size].reshape(shape)
        self.pos += size
        return view


def weight_views(carver, p, dims):
    """[layer][direction] -> dict of the parameter views (Wx, Wh, Wr, bx, bh), in MXNet's packing order."""
    views = [[{} for _ in range(dims.D)] for _ in range(dims.L)]
    gh = dims.G * dims.H
    for layer in range(dims.L):
        for d in range(dims.D):
            w = views[layer][d]
            w["Wx"] = carver.take(gh, dims.layer_input(layer))
            w["Wh"] = carver.take(gh, dims.R)
            w["Wr"] = carver.take(dims.P, dims.H) if dims.P else None
    for layer in range(dims.L):
        for d in range(dims.D):
            views[layer][d]["bx"] = carver.take(gh)
            views[layer][d]["bh"] = carver.take(gh)
    return views


def param_size(p, input_size):
    """Elements of the packed parameter vector for data with `input_size` features."""
    carver = Carver(None)
    weight_views(carver, p, Dims(p, 1, 1, input_size))
    return carver.pos


class Reserve:
    """The views of the hidden `reserve` output: per layer `Y` (T, N, D*R) and `mask` (dropout, or None), and per
    layer and direction `gates` (T, N, G*H), `c` (LSTM), `hcell` (LSTMP), `hn` (GRU), each (T, N, H)."""

    def __init__(self, flat, p, dims):
        carver = Carver(flat)
        t, n, h = dims.T, dims.N, dims.H
        self.Y, self.mask, self.dirs = [], [], []
        for layer in range(dims.L):
            self.Y.append(carver.take(t, n, dims.D * dims.R))
            self.mask.append(carver.take(t, n, dims.D * dims.R) if p.p > 0 and layer < dims.L - 1 else None)
            per_dir = []
            for _ in range(dims.D):
                per_dir.append(dict(gates=carver.take(t, n, dims.G * h),
                                    c=carver.take(t, n, h) if p.mode == "lstm" else None,
                                    hcell=carver.take(t, n, h) if dims.P else None,
                                    hn=carver.take(t, n, h) if p.mode == "gru" else None))
            self.dirs.append(per_dir)
        self.size = carver.pos


def reserve_size(p, steps, batch, inputs):
    return Reserve(None, p, Dims(p, steps, batch, inputs)).size


def split_inputs(p, inputs):
    """(data, params, state, state_cell or None, sequence_length or None) from the op's inputs."""
    data, params, state = inputs[:3]
    rest = list(inputs[3:])
    state_cell = rest.pop(0) if p.mode == "lstm" else None
    lengths = rest.pop(0) if p.use_sequence_length else None
    return data, params, state, state_cell, lengths


def active_mask(p, lengths, steps, batch):
    """(T, N) uint8: 1 where a row's step is within its sequence length."""
    if lengths is None:
        return np.ones((steps, batch), np.uint8)
    as_int = np.rint(np.asarray(lengths, np.float64))      # float lengths count as the nearest whole number
    if not ((as_int >= 1) & (as_int <= steps)).all():
        raise MXNetError("RNN: sequence_length must lie between 1 and the sequence length %d, got %s"
                         % (steps, np.asarray(lengths).tolist()))
    return (np.arange(steps)[:, None] < as_int[None, :]).astype(np.uint8)


def clip_bounds(p, dtype):
    """(clip, lo, hi, clip_nan) with the bounds in the data's dtype: a clipped cell state holds the bound rounded to
    that dtype, and the backward's test for it (c <= lo or c >= hi) must compare in that dtype to see it (a float64
    -0.08 is below float32's -0.08, so the clipped cells would pass gradient)."""
    clip = p.mode == "lstm" and p.lstm_state_clip_min is not None and p.lstm_state_clip_max is not None
    lo, hi = (p.lstm_state_clip_min, p.lstm_state_clip_max) if clip else (0.0, 0.0)
    return clip, dtype.type(lo), dtype.type(hi), bool(p.lstm_state_clip_nan)


def step_order(steps, d):
    return range(steps) if d == 0 else range(steps - 1, -1, -1)
