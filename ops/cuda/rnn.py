"""CUDA kernels of ops/rnn.py: the fused `RNN` op and `_backward_RNN`; `_rnn_param_concat` is Concat's kernel.

Same outputs and the same hidden `reserve` layout as the CPU kernels (ops/cpu/rnn.py, whose `_Reserve` and
`_weights` carve the device arrays here too), so either backward reads either forward's reserve. Per layer and
direction the input projection of all steps is one `gemm`; each step is one recurrent `gemm` and one gate kernel
(a thread per (row, unit)), which adds both biases, stores what the backward needs and updates the carried states
in place: the carried hidden and cell states are the rows of the `hy`/`cy` results themselves. The backward runs
its time loop the same way (the gate kernel, then `dhw @ Wh` into the carried gradient; GRU's direct part z*dh is
stored first and the GEMM adds to it), then each parameter gradient as one GEMM over all steps (a bias gradient is
a row of ones times the gate gradients).

Through the host (`host_fallback`), so results stay right: LSTM projection, `sequence_length`, the LSTM state clip
and dropout between layers (p > 0 with several layers), which the kernels here do not implement.
"""
import math

import numpy as np
from numba import cuda, types

from .. import registry
from ..errors import MXNetError
from ..cpu import rnn as cpu
from ..registry import ADD, NULL, WRITE
from .common import A32, A64, copy_into, declare, empty, fill, flat, launch, stream
from .matrix import Mat, gemm
from .nn import KERNELS as _NN


@cuda.jit(device=True)
def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


# ---- forward gate kernels: one step, a thread per (row b, unit j); i = b * hidden + j ---------------------------
# xw, hw (N, G*H): the step's input and recurrent projections without biases; gates, c, hn: the reserve's rows of
# this step; h (and c_carry) the carried states, updated in place; y the layer output Y[t] (row stride y_stride,
# this direction's columns from y_col).

@cuda.jit
def _lstm_forward(xw, hw, bx, bh, gates, c, c_carry, h, y, y_col, y_stride, n, hidden):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n * hidden:
        b = i // hidden
        j = i - b * hidden
        r = b * 4 * hidden
        for k in range(4):
            u = k * hidden + j
            v = xw[r + u] + bx[u] + hw[r + u] + bh[u]
            gates[r + u] = math.tanh(v) if k == 2 else _sigmoid(v)
        c[i] = gates[r + hidden + j] * c_carry[i] + gates[r + j] * gates[r + 2 * hidden + j]
        c_carry[i] = c[i]
        h[i] = gates[r + 3 * hidden + j] * math.tanh(c[i])
        y[y_col + b * y_stride + j] = h[i]
        i += step


@cuda.jit
def _gru_forward(xw, hw, bx, bh, gates, hn, h, y, y_col, y_stride, n, hidden):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n * hidden:
        b = i // hidden
        j = i - b * hidden
        r = b * 3 * hidden
        for k in range(2):
            u = k * hidden + j
            gates[r + u] = _sigmoid(xw[r + u] + bx[u] + hw[r + u] + bh[u])
        u = 2 * hidden + j
        hn[i] = hw[r + u] + bh[u]
        gates[r + u] = math.tanh(xw[r + u] + bx[u] + gates[r + j] * hn[i])
        zg = gates[r + hidden + j]
        h[i] = (1 - zg) * gates[r + u] + zg * h[i]
        y[y_col + b * y_stride + j] = h[i]
        i += step


@cuda.jit
def _rnn_forward(xw, hw, bx, bh, relu, h, y, y_col, y_stride, n, hidden):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n * hidden:
        b = i // hidden
        j = i - b * hidden
        h[i] = xw[i] + bx[j] + hw[i] + bh[j]
        if relu:
            h[i] = max(h[i], 0)
        else:
            h[i] = math.tanh(h[i])
        y[y_col + b * y_stride + j] = h[i]
        i += step


# ---- backward gate kernels: one step, in reverse order of the forward -------------------------------------------
# dh_carry (N, H) is the gradient carried from the later step; dy + dy_col/dy_stride the output's gradient at this
# step; src + src_col/src_stride the state the step started from (the previous step's output, or the initial
# state), copied into prev (the weight gradient of Wh reads it); dxw/dhw the gate gradients of this step.

@cuda.jit
def _lstm_backward(dh_carry, dy, dy_col, dy_stride, src, src_col, src_stride, prev, gates, c, c_prev, dc, dxw, n,
                   hidden):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n * hidden:
        b = i // hidden
        j = i - b * hidden
        r = b * 4 * hidden
        prev[i] = src[src_col + b * src_stride + j]
        d = dh_carry[i] + dy[dy_col + b * dy_stride + j]
        ig = gates[r + j]
        fg = gates[r + hidden + j]
        gg = gates[r + 2 * hidden + j]
        og = gates[r + 3 * hidden + j]
        tc = math.tanh(c[i])
        dcv = dc[i] + d * og * (1 - tc * tc)
        dxw[r + j] = dcv * gg * ig * (1 - ig)
        dxw[r + hidden + j] = dcv * c_prev[i] * fg * (1 - fg)
        dxw[r + 2 * hidden + j] = dcv * ig * (1 - gg * gg)
        dxw[r + 3 * hidden + j] = d * tc * og * (1 - og)
        dc[i] = dcv * fg
        i += step


@cuda.jit
def _gru_backward(dh_carry, dy, dy_col, dy_stride, src, src_col, src_stride, prev, gates, hn, dxw, dhw, n, hidden):
    """Also stores z*dh, the part of the previous state's gradient that skips the GEMM, into dh_carry."""
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n * hidden:
        b = i // hidden
        j = i - b * hidden
        r = b * 3 * hidden
        prev[i] = src[src_col + b * src_stride + j]
        d = dh_carry[i] + dy[dy_col + b * dy_stride + j]
        rg = gates[r + j]
        zg = gates[r + hidden + j]
        ng = gates[r + 2 * hidden + j]
        dn = d * (1 - zg) * (1 - ng * ng)
        dz = d * (prev[i] - ng) * zg * (1 - zg)
        dr = dn * hn[i] * rg * (1 - rg)
        dxw[r + j] = dr
        dxw[r + hidden + j] = dz
        dxw[r + 2 * hidden + j] = dn
        dhw[r + j] = dr
        dhw[r + hidden + j] = dz
        dhw[r + 2 * hidden + j] = dn * rg
        dh_carry[i] = d * zg
        i += step


@cuda.jit
def _rnn_backward(dh_carry, dy, dy_col, dy_stride, src, src_col, src_stride, prev, y, relu, dxw, n, hidden):
    """y: this step's layer output Y[t] (same columns and row stride as dy)."""
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n * hidden:
        b = i // hidden
        j = i - b * hidden
        prev[i] = src[src_col + b * src_stride + j]
        d = dh_carry[i] + dy[dy_col + b * dy_stride + j]
        hv = y[dy_col + b * dy_stride + j]
        if relu:
            dxw[i] = d if hv > 0 else 0
        else:
            dxw[i] = d * (1 - hv * hv)
        i += step


_I, _B = types.int64, types.boolean


def _signature(layout, array):
    """Argument types from a layout string: a = 1-D array, i = int64, b = boolean."""
    return tuple({"a": array, "i": _I, "b": _B}[ch] for ch in layout)


_LAYOUTS = {"lstm_forward": (_lstm_forward, "aaaaaaaaaiiii"), "gru_forward": (_gru_forward, "aaaaaaaaiiii"),
            "rnn_forward": (_rnn_forward, "aaaabaaiiii"),
            "lstm_backward": (_lstm_backward, "aaiiaiiaaaaaaii"),
            "gru_backward": (_gru_backward, "aaiiaiiaaaaaii"),
            "rnn_backward": (_rnn_backward, "aaiiaiiaabaii")}
for _name, (_kernel, _layout) in _LAYOUTS.items():
    declare("rnn." + _name, _kernel, [_signature(_layout, A32), _signature(_layout, A64)])


def _unsupported(p):
    """True for the features these kernels leave to the host (dropout acts only between layers)."""
    return bool(p.projection_size or p.use_sequence_length or p.lstm_state_clip_min is not None
                or (p.p > 0 and p.num_layers > 1))


_fallbacks = {}


def _host(name):
    if name not in _fallbacks:
        from . import host_fallback
        _fallbacks[name] = host_fallback(registry.get(name))
    return _fallbacks[name]


def _rows(x):
    """A (rows, cols) row-major Mat of a 2-D or 3-D device array (3-D: the first two dims are the rows)."""
    cols = x.shape[x.ndim - 1]          # (the simulator's shapes take no negative index)
    return Mat.rowmajor(x, x.size // cols, cols)


def _check_dtype(data):
    """MXNet's GPU op (cuDNN) runs float16; these kernels do not (yet): a clear error, not a failed compile."""
    if data.dtype == np.float16:
        raise MXNetError("RNN: float16 is not implemented by dataflow's CUDA RNN kernels; cast data %s and "
                         "parameters to float32" % (data.shape,))


def rnn_forward(ctx, p, inputs, outputs, req):
    _check_dtype(inputs[0])
    if _unsupported(p):
        return _host("RNN")(ctx, p, inputs, outputs, req)
    data, params, state, state_cell, _ = cpu._split_inputs(p, inputs)
    T, N, _ = data.shape
    dims = cpu.Dims(p, T, N, data.shape[2])
    H, G, D = dims.H, dims.G, dims.D
    reserve = cpu._Reserve(flat(outputs[-1]), p, dims)
    weights = cpu._weights(cpu._Carver(flat(params)), p, dims)
    dtype = data.dtype
    hy = empty((dims.L * D, N, H), dtype)
    cy = empty(hy.shape, dtype) if p.mode == "lstm" else None
    copy_into(state, hy)
    if cy is not None:
        copy_into(state_cell, cy)
    xw = empty((T, N, G * H), dtype)
    hw = empty((N, G * H), dtype)
    grid = launch(N * H) + (stream(),)
    x = data
    for layer in range(dims.L):
        Y = reserve.Y[layer]
        for d in range(D):
            w, saved, slot = weights[layer][d], reserve.dirs[layer][d], layer * D + d
            gemm(_rows(x), Mat.rowmajor(w["Wx"], G * H, x.shape[2]).T, _rows(xw))
            wh_t = Mat.rowmajor(w["Wh"], G * H, H).T
            h, c = flat(hy[slot]), (flat(cy[slot]) if cy is not None else None)
            for t in cpu._order(T, d):
                gemm(Mat.rowmajor(h, N, H), wh_t, _rows(hw))
                y = flat(Y[t])
                if p.mode == "lstm":
                    _lstm_forward[grid](flat(xw[t]), flat(hw), w["bx"], w["bh"], flat(saved["gates"][t]),
                                        flat(saved["c"][t]), c, h, y, d * H, D * H, N, H)
                elif p.mode == "gru":
                    _gru_forward[grid](flat(xw[t]), flat(hw), w["bx"], w["bh"], flat(saved["gates"][t]),
                                       flat(saved["hn"][t]), h, y, d * H, D * H, N, H)
                else:
                    _rnn_forward[grid](flat(xw[t]), flat(hw), w["bx"], w["bh"], p.mode == "rnn_relu", h, y,
                                       d * H, D * H, N, H)
        x = Y                                   # no dropout mask: p > 0 with several layers runs on the host
    copy_into(x, outputs[0], req[0])
    if p.state_outputs:
        copy_into(hy, outputs[1], req[1])
        if cy is not None:
            copy_into(cy, outputs[2], req[2])


def rnn_backward(ctx, p, inputs, outputs, req):
    """inputs: d out, d hy, d cy (LSTM), the forward's inputs, the reserve; outputs: the gradients of data,
    parameters, state and state_cell (LSTM)."""
    _check_dtype(inputs[3 if p.mode == "lstm" else 2])
    if _unsupported(p):
        return _host("_backward_RNN")(ctx, p, inputs, outputs, req)
    n_heads = 3 if p.mode == "lstm" else 2
    d_out, d_hy = inputs[0], inputs[1]
    d_cy = inputs[2] if p.mode == "lstm" else None
    data, params, state, state_cell, _ = cpu._split_inputs(p, inputs[n_heads:-1])
    T, N, _ = data.shape
    dims = cpu.Dims(p, T, N, data.shape[2])
    H, G, D = dims.H, dims.G, dims.D
    reserve = cpu._Reserve(flat(inputs[-1]), p, dims)
    weights = cpu._weights(cpu._Carver(flat(params)), p, dims)
    dtype = data.dtype
    d_params = empty(params.shape, dtype)
    grads = cpu._weights(cpu._Carver(d_params), p, dims)
    d_state = empty(state.shape, dtype)
    d_state_cell = empty(state_cell.shape, dtype) if state_cell is not None else None
    copy_into(d_hy, d_state)
    if d_state_cell is not None:
        copy_into(d_cy, d_state_cell)
    dxw = empty((T, N, G * H), dtype)
    dhw = empty(dxw.shape, dtype) if p.mode == "gru" else dxw
    prev = empty((T, N, H), dtype)
    ones = empty((1, T * N), dtype)
    fill(ones, 1.0)
    grid = launch(N * H) + (stream(),)
    dY = flat(d_out)
    dx = None
    for layer in range(dims.L - 1, -1, -1):
        x = data if layer == 0 else reserve.Y[layer - 1]
        want_dx = layer > 0 or req[0] != NULL
        dx = empty((T, N, dims.layer_input(layer)), dtype) if want_dx else None
        Y = reserve.Y[layer]
        for d in range(D):
            w, g, saved, slot = weights[layer][d], grads[layer][d], reserve.dirs[layer][d], layer * D + d
            dh, dc = flat(d_state[slot]), (flat(d_state_cell[slot]) if d_state_cell is not None else None)
            wh = Mat.rowmajor(w["Wh"], G * H, H)
            for t in reversed(cpu._order(T, d)):
                before = t - 1 if d == 0 else t + 1
                has_prev = 0 <= before < T
                dy = dY[t * N * D * H:(t + 1) * N * D * H]
                src, src_col, src_stride = (flat(Y[before]), d * H, D * H) if has_prev else (flat(state[slot]), 0, H)
                step_prev = flat(prev[t])
                if p.mode == "lstm":
                    c_prev = flat(saved["c"][before]) if has_prev else flat(state_cell[slot])
                    _lstm_backward[grid](dh, dy, d * H, D * H, src, src_col, src_stride, step_prev,
                                         flat(saved["gates"][t]), flat(saved["c"][t]), c_prev, dc, flat(dxw[t]),
                                         N, H)
                elif p.mode == "gru":
                    _gru_backward[grid](dh, dy, d * H, D * H, src, src_col, src_stride, step_prev,
                                        flat(saved["gates"][t]), flat(saved["hn"][t]), flat(dxw[t]), flat(dhw[t]),
                                        N, H)
                else:
                    _rnn_backward[grid](dh, dy, d * H, D * H, src, src_col, src_stride, step_prev, flat(Y[t]),
                                        p.mode == "rnn_relu", flat(dxw[t]), N, H)
                gemm(_rows(dhw[t]), wh, Mat.rowmajor(dh, N, H), req=ADD if p.mode == "gru" else WRITE)
            _weight_gradients(g, dxw, dhw, prev, x, ones, G * H)
            if dx is not None:
                gemm(_rows(dxw), Mat.rowmajor(w["Wx"], G * H, dx.shape[2]), _rows(dx), req=WRITE if d == 0 else ADD)
        if layer > 0:
            dY = flat(dx)
    if dx is not None:
        copy_into(dx, outputs[0], req[0])
    copy_into(d_params, outputs[1], req[1])
    copy_into(d_state, outputs[2], req[2])
    if d_state_cell is not None:
        copy_into(d_state_cell, outputs[3], req[3])


def _weight_gradients(g, dxw, dhw, prev, x, ones, gh):
    """One layer and direction's parameter gradients from all its steps at once (each GEMM sums over T*N rows)."""
    gemm(_rows(dhw).T, _rows(prev), Mat.rowmajor(g["Wh"], gh, prev.shape[2]))
    gemm(_rows(ones), _rows(dhw), Mat.rowmajor(g["bh"], 1, gh))
    gemm(_rows(dxw).T, _rows(x), Mat.rowmajor(g["Wx"], gh, x.shape[2]))
    gemm(_rows(ones), _rows(dxw), Mat.rowmajor(g["bx"], 1, gh))


KERNELS = {"_rnn_param_concat": _NN["Concat"], "RNN": rnn_forward, "_backward_RNN": rnn_backward}
TESTED_THROUGH_GRADIENTS = {"_backward_RNN"}
