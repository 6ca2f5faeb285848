"""CUDA kernels of ops/rnn.py: the fused `RNN` op and `_backward_RNN`; `_rnn_param_concat` is Concat's kernel.

Same outputs and the same hidden `reserve` layout as the CPU kernels (ops/cpu/rnn.py; ops/rnn_layout.py's `Reserve`
and `weight_views` carve the device arrays here too), so either backward reads either forward's reserve. Per layer and
direction the input projection of all steps is one `gemm`; each step is one recurrent `gemm` and one gate kernel
(a thread per (row, unit)), which adds both biases, stores what the backward needs and updates the carried states
in place: the carried hidden and cell states are the rows of the `hy`/`cy` results themselves. The backward runs
its time loop the same way (the gate kernel, then `dhw @ Wh` added into the carried gradient, where the kernel left
the part that skips the GEMM: GRU's z*dh, else 0), then each parameter gradient as one GEMM over all steps (a bias
gradient is a row of ones times the gate gradients).

Every feature of the op runs here, with the CPU kernels' semantics:
- LSTM projection (LSTMP): the gate kernel writes o*tanh(c) into the reserve's `hcell`, one more GEMM per step
  projects it (h = hcell @ Wr.T) and `_commit` makes it the carried state and the output. The backward gathers
  each step's hidden gradient first (`_gather`, kept for Wr's gradient), takes it back through Wr (one GEMM), then
  runs the gate kernel on the cell's gradient.
- `sequence_length`: the lengths are read to the host (as MXNet's GPU op does), checked and turned into an
  `active` (T, N) mask by the layout's `active_mask`; a row past its length keeps its states, outputs 0 and passes
  its carried gradients through unchanged (the backward's GEMM adds nothing to it: its gate gradients are 0); the
  reserve is zeroed first, as on the CPU.
- the LSTM state clip: c is clipped after each step (NaN becomes the minimum with `lstm_state_clip_nan`), and where
  the stored c lies on a bound the backward passes no gradient through it, as the CPU does.
- dropout between layers (p > 0, training): the mask is drawn on the host with exactly the CPU kernel's generator
  calls (as Dropout's, ops/cuda/nn.py), so a seeded run gives the same mask on either device, copied into the
  reserve; outside training the mask is ones.
"""
import math

import numpy as np
from numba import cuda, types

from ..errors import MXNetError
from ..cpu import elemwise as cpu_elemwise
from .. import rnn_layout as layout
from ..random_state import generator
from ..registry import ADD, NULL, WRITE
from . import storage as gpu_storage
from .common import A32, A64, copy_into, declare, empty, fill, flat, launch, stream
from .elemwise import map_binary
from .matrix import Mat, gemm
from .nn import KERNELS as _NN


@cuda.jit(device=True)
def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


# ---- forward gate kernels: one step, a thread per (row b, unit j); i = b * hidden + j ---------------------------
# xw, hw (N, G*H): the step's input and recurrent projections without biases; gates, c, hn: the reserve's rows of
# this step; h (and c_carry) the carried states, updated in place for active rows; y the layer output Y[t] (row
# stride y_stride, this direction's columns from y_col), 0 for inactive rows; active (N,): 1 where the step is within
# the row's sequence length.

@cuda.jit
def _lstm_forward(xw, hw, bx, bh, gates, c, c_carry, active, clip, lo, hi, clip_nan, out, project, y, y_col,
                  y_stride, n, hidden):
    """out: where o*tanh(c) goes, the carried h (and y), or with `project` the reserve's hcell (then `_commit`
    writes h and y after the projection)."""
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n * hidden:
        b = i // hidden
        j = i - b * hidden
        if active[b]:
            r = b * 4 * hidden
            for k in range(4):
                u = k * hidden + j
                v = xw[r + u] + bx[u] + hw[r + u] + bh[u]
                gates[r + u] = math.tanh(v) if k == 2 else _sigmoid(v)
            c[i] = gates[r + hidden + j] * c_carry[i] + gates[r + j] * gates[r + 2 * hidden + j]
            if clip:
                cv = c[i]
                if cv != cv:
                    if clip_nan:
                        c[i] = lo
                elif cv < lo:
                    c[i] = lo
                elif cv > hi:
                    c[i] = hi
            c_carry[i] = c[i]
            out[i] = gates[r + 3 * hidden + j] * math.tanh(c[i])
            if not project:
                y[y_col + b * y_stride + j] = out[i]
        elif not project:
            y[y_col + b * y_stride + j] = 0
        i += step


@cuda.jit
def _gru_forward(xw, hw, bx, bh, gates, hn, active, h, y, y_col, y_stride, n, hidden):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n * hidden:
        b = i // hidden
        j = i - b * hidden
        if active[b]:
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
        else:
            y[y_col + b * y_stride + j] = 0
        i += step


@cuda.jit
def _rnn_forward(xw, hw, bx, bh, relu, active, h, y, y_col, y_stride, n, hidden):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n * hidden:
        b = i // hidden
        j = i - b * hidden
        if active[b]:
            h[i] = xw[i] + bx[j] + hw[i] + bh[j]
            if relu:
                h[i] = max(h[i], 0)
            else:
                h[i] = math.tanh(h[i])
            y[y_col + b * y_stride + j] = h[i]
        else:
            y[y_col + b * y_stride + j] = 0
        i += step


@cuda.jit
def _commit(h_new, active, h, y, y_col, y_stride, n, width):
    """LSTMP: the projected value becomes the carried state and the output of active rows; inactive rows output 0."""
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n * width:
        b = i // width
        j = i - b * width
        if active[b]:
            h[i] = h_new[i]
            y[y_col + b * y_stride + j] = h_new[i]
        else:
            y[y_col + b * y_stride + j] = 0
        i += step


# ---- backward gate kernels: one step, in reverse order of the forward -------------------------------------------
# dh_carry (N, R) is the gradient carried from the later step; dy + dy_col/dy_stride the output's gradient at this
# step; the state the step started from is src (+ src_col/src_stride: the previous step's output, or the initial
# state) where that step ran (act_prev), else the initial state h0; it is copied into prev (the weight gradient of Wh
# reads it). dxw/dhw: the gate gradients of this step, 0 for inactive rows. For active rows the kernels leave in
# dh_carry the part of the previous state's gradient that skips the GEMM (GRU's z*dh, else 0): the caller then adds
# dhw @ Wh to it; inactive rows keep their carried gradients (their dhw rows are 0).

@cuda.jit(device=True)
def _previous(src, src_col, src_stride, h0, act_prev, b, j, width):
    return src[src_col + b * src_stride + j] if act_prev[b] else h0[b * width + j]


@cuda.jit
def _gather(dh_carry, dy, dy_col, dy_stride, src, src_col, src_stride, h0, active, act_prev, dh, prev, n, width):
    """LSTMP: dh = the gradient reaching the step's projected output (0 for inactive rows), prev; the carried
    gradient of active rows is reset for the GEMM to add to."""
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n * width:
        b = i // width
        j = i - b * width
        prev[i] = _previous(src, src_col, src_stride, h0, act_prev, b, j, width)
        if active[b]:
            dh[i] = dh_carry[i] + dy[dy_col + b * dy_stride + j]
            dh_carry[i] = 0
        else:
            dh[i] = 0
        i += step


@cuda.jit
def _lstm_backward(dh, dy, dy_col, dy_stride, project, src, src_col, src_stride, h0, active, act_prev, prev, gates,
                   c, c_src, c0, dc, clip, lo, hi, dxw, n, hidden):
    """dh: the carried gradient (its step's dy added here, then reset), or with `project` the gradient of the cell
    output o*tanh(c) (`_gather` did the rest); c_src: the previous step's cell states (or c0); dc: the carried
    cell gradient, in place."""
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n * hidden:
        b = i // hidden
        j = i - b * hidden
        r = b * 4 * hidden
        if not project:
            prev[i] = _previous(src, src_col, src_stride, h0, act_prev, b, j, hidden)
        if active[b]:
            if project:
                d = dh[i]
            else:
                d = dh[i] + dy[dy_col + b * dy_stride + j]
                dh[i] = 0
            ig = gates[r + j]
            fg = gates[r + hidden + j]
            gg = gates[r + 2 * hidden + j]
            og = gates[r + 3 * hidden + j]
            tc = math.tanh(c[i])
            dxw[r + 3 * hidden + j] = d * tc * og * (1 - og)
            if clip and (c[i] <= lo or c[i] >= hi):      # the clip passes no gradient where it clipped
                dxw[r + j] = 0
                dxw[r + hidden + j] = 0
                dxw[r + 2 * hidden + j] = 0
                dc[i] = 0
            else:
                c_prev = c_src[i] if act_prev[b] else c0[i]
                dcv = dc[i] + d * og * (1 - tc * tc)
                dxw[r + j] = dcv * gg * ig * (1 - ig)
                dxw[r + hidden + j] = dcv * c_prev * fg * (1 - fg)
                dxw[r + 2 * hidden + j] = dcv * ig * (1 - gg * gg)
                dc[i] = dcv * fg
        else:
            for k in range(4):
                dxw[r + k * hidden + j] = 0
        i += step


@cuda.jit
def _gru_backward(dh_carry, dy, dy_col, dy_stride, src, src_col, src_stride, h0, active, act_prev, prev, gates, hn,
                  dxw, dhw, n, hidden):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n * hidden:
        b = i // hidden
        j = i - b * hidden
        r = b * 3 * hidden
        prev[i] = _previous(src, src_col, src_stride, h0, act_prev, b, j, hidden)
        if active[b]:
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
        else:
            for k in range(3):
                dxw[r + k * hidden + j] = 0
                dhw[r + k * hidden + j] = 0
        i += step


@cuda.jit
def _rnn_backward(dh_carry, dy, dy_col, dy_stride, src, src_col, src_stride, h0, active, act_prev, prev, y, relu,
                  dxw, n, hidden):
    """y: this step's layer output Y[t] (same columns and row stride as dy)."""
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n * hidden:
        b = i // hidden
        j = i - b * hidden
        prev[i] = _previous(src, src_col, src_stride, h0, act_prev, b, j, hidden)
        if active[b]:
            d = dh_carry[i] + dy[dy_col + b * dy_stride + j]
            hv = y[dy_col + b * dy_stride + j]
            if relu:
                dxw[i] = d if hv > 0 else 0
            else:
                dxw[i] = d * (1 - hv * hv)
            dh_carry[i] = 0
        else:
            dxw[i] = 0
        i += step


_I, _B, _U = types.int64, types.boolean, types.Array(types.uint8, 1, "C")


def _signature(layout, array):
    """Argument types from a layout string: a = 1-D float array, f = a scalar of its dtype, u = 1-D uint8 array,
    i = int64, b = boolean."""
    return tuple({"a": array, "f": array.dtype, "u": _U, "i": _I, "b": _B}[ch] for ch in layout)


_LAYOUTS = {"lstm_forward": (_lstm_forward, "aaaaaaaubffbabaiiii"), "gru_forward": (_gru_forward, "aaaaaauaaiiii"),
            "rnn_forward": (_rnn_forward, "aaaabuaaiiii"), "commit": (_commit, "auaaiiii"),
            "gather": (_gather, "aaiiaiiauuaaii"),
            "lstm_backward": (_lstm_backward, "aaiibaiiauuaaaaaabffaii"),
            "gru_backward": (_gru_backward, "aaiiaiiauuaaaaaii"),
            "rnn_backward": (_rnn_backward, "aaiiaiiauuaabaii")}
for _name, (_kernel, _layout) in _LAYOUTS.items():
    declare("rnn." + _name, _kernel, [_signature(_layout, A32), _signature(_layout, A64)])


def _rows(x):
    """A (rows, cols) row-major Mat of a 2-D or 3-D device array (3-D: the first two dims are the rows)."""
    cols = x.shape[x.ndim - 1]          # (the simulator's shapes take no negative index)
    return Mat.rowmajor(x, x.size // cols, cols)


def _check_dtype(data):
    """MXNet's GPU op (cuDNN) runs float16; these kernels do not (yet): a clear error, not a failed compile."""
    if data.dtype == np.float16:
        raise MXNetError("RNN: float16 is not implemented by dataflow's CUDA RNN kernels; cast data %s and "
                         "parameters to float32" % (data.shape,))


def _active(p, lengths, steps, batch):
    """(T, N) uint8 on the device: 1 where a row's step is within its sequence length (checked on the host by the
    CPU's rule, which raises for a length outside [1, T])."""
    active = empty((steps, batch), np.uint8)
    if lengths is None:
        fill(active, 1)
    else:
        dev = gpu_storage.current_device()
        gpu_storage.from_host(layout.active_mask(p, gpu_storage.to_host(lengths, dev), steps, batch), active, dev)
    return active


def _draw_mask(p, mask):
    """The dropout mask of one layer's output, from the CPU kernel's generator calls (same draws, same values)."""
    keep = 1.0 - p.p                    # > 0: the op's rule refuses p >= 1
    values = (generator().random(mask.shape, dtype=np.float32) < keep) * (1.0 / keep)
    gpu_storage.from_host(values, mask, gpu_storage.current_device())


def _masked(x, mask):
    """x * mask into a new array (the input the next layer read, after dropout)."""
    out = empty(x.shape, x.dtype)
    map_binary(cpu_elemwise.mul, x, mask, out, WRITE)
    return out


def rnn_forward(ctx, p, inputs, outputs, req):
    _check_dtype(inputs[0])
    data, params, state, state_cell, lengths = layout.split_inputs(p, inputs)
    T, N, _ = data.shape
    dims = layout.Dims(p, T, N, data.shape[2])
    H, R, G, D = dims.H, dims.R, dims.G, dims.D
    if lengths is not None:
        fill(outputs[-1], 0)        # rows that never run leave no stale values for the backward's GEMMs
    reserve = layout.Reserve(flat(outputs[-1]), p, dims)
    weights = layout.weight_views(layout.Carver(flat(params)), p, dims)
    active = _active(p, lengths, T, N)
    dtype = data.dtype
    clip, lo, hi, clip_nan = layout.clip_bounds(p, dtype)
    hy = empty((dims.L * D, N, R), dtype)
    cy = empty((dims.L * D, N, H), dtype) if p.mode == "lstm" else None
    copy_into(state, hy)
    if cy is not None:
        copy_into(state_cell, cy)
    xw = empty((T, N, G * H), dtype)
    hw = empty((N, G * H), dtype)
    h_proj = empty((N, R), dtype) if dims.P else None
    grid = launch(N * H) + (stream(),)
    x = data
    for layer in range(dims.L):
        Y = reserve.Y[layer]
        for d in range(D):
            w, saved, slot = weights[layer][d], reserve.dirs[layer][d], layer * D + d
            gemm(_rows(x), Mat.rowmajor(w["Wx"], G * H, x.shape[2]).T, _rows(xw))
            wh_t = Mat.rowmajor(w["Wh"], G * H, R).T
            h, c = flat(hy[slot]), (flat(cy[slot]) if cy is not None else None)
            for t in layout.step_order(T, d):
                gemm(Mat.rowmajor(h, N, R), wh_t, _rows(hw))
                y, act = flat(Y[t]), flat(active[t])
                if p.mode == "lstm":
                    out = flat(saved["hcell"][t]) if dims.P else h
                    _lstm_forward[grid](flat(xw[t]), flat(hw), w["bx"], w["bh"], flat(saved["gates"][t]),
                                        flat(saved["c"][t]), c, act, clip, lo, hi, clip_nan, out, bool(dims.P), y,
                                        d * R, D * R, N, H)
                    if dims.P:
                        gemm(Mat.rowmajor(out, N, H), Mat.rowmajor(w["Wr"], R, H).T, Mat.rowmajor(h_proj, N, R))
                        _commit[launch(N * R) + (stream(),)](flat(h_proj), act, h, y, d * R, D * R, N, R)
                elif p.mode == "gru":
                    _gru_forward[grid](flat(xw[t]), flat(hw), w["bx"], w["bh"], flat(saved["gates"][t]),
                                       flat(saved["hn"][t]), act, h, y, d * R, D * R, N, H)
                else:
                    _rnn_forward[grid](flat(xw[t]), flat(hw), w["bx"], w["bh"], p.mode == "rnn_relu", act, h, y,
                                       d * R, D * R, N, H)
        x = Y
        mask = reserve.mask[layer]
        if mask is not None:
            if ctx.is_train:
                _draw_mask(p, mask)
                x = _masked(Y, mask)
            else:
                fill(mask, 1)
    copy_into(x, outputs[0], req[0])
    if p.state_outputs:
        copy_into(hy, outputs[1], req[1])
        if cy is not None:
            copy_into(cy, outputs[2], req[2])


def rnn_backward(ctx, p, inputs, outputs, req):
    """inputs: d out, d hy, d cy (LSTM), the forward's inputs, the reserve; outputs: the gradients of data,
    parameters, state and state_cell (LSTM)."""
    _check_dtype(inputs[3 if p.mode == "lstm" else 2])
    n_heads = 3 if p.mode == "lstm" else 2
    d_out, d_hy = inputs[0], inputs[1]
    d_cy = inputs[2] if p.mode == "lstm" else None
    data, params, state, state_cell, lengths = layout.split_inputs(p, inputs[n_heads:-1])
    T, N, _ = data.shape
    dims = layout.Dims(p, T, N, data.shape[2])
    H, R, G, D = dims.H, dims.R, dims.G, dims.D
    reserve = layout.Reserve(flat(inputs[-1]), p, dims)
    weights = layout.weight_views(layout.Carver(flat(params)), p, dims)
    active = _active(p, lengths, T, N)
    dtype = data.dtype
    clip, lo, hi, _ = layout.clip_bounds(p, dtype)
    d_params = empty(params.shape, dtype)
    grads = layout.weight_views(layout.Carver(d_params), p, dims)
    d_state = empty(state.shape, dtype)
    d_state_cell = empty(state_cell.shape, dtype) if state_cell is not None else None
    copy_into(d_hy, d_state)
    if d_state_cell is not None:
        copy_into(d_cy, d_state_cell)
    dxw = empty((T, N, G * H), dtype)
    dhw = empty(dxw.shape, dtype) if p.mode == "gru" else dxw
    prev = empty((T, N, R), dtype)
    dh_step = empty((T, N, R), dtype) if dims.P else None      # LSTMP: each step's output gradient, for Wr's
    dh_cell = empty((N, H), dtype) if dims.P else None
    ones = empty((1, T * N), dtype)
    fill(ones, 1.0)
    grid = launch(N * H) + (stream(),)
    dY = flat(d_out)
    dx = None
    for layer in range(dims.L - 1, -1, -1):
        x = data if layer == 0 else reserve.Y[layer - 1]
        if layer > 0 and reserve.mask[layer - 1] is not None:
            x = _masked(x, reserve.mask[layer - 1])
        want_dx = layer > 0 or req[0] != NULL
        dx = empty((T, N, dims.layer_input(layer)), dtype) if want_dx else None
        Y = reserve.Y[layer]
        for d in range(D):
            w, g, saved, slot = weights[layer][d], grads[layer][d], reserve.dirs[layer][d], layer * D + d
            dh, dc = flat(d_state[slot]), (flat(d_state_cell[slot]) if d_state_cell is not None else None)
            h0 = flat(state[slot])
            wh = Mat.rowmajor(w["Wh"], G * H, R)
            for t in reversed(layout.step_order(T, d)):
                before = t - 1 if d == 0 else t + 1
                has_prev = 0 <= before < T
                act = flat(active[t])
                act_prev = flat(active[before]) if has_prev else act
                dy = dY[t * N * D * R:(t + 1) * N * D * R]
                src, src_col, src_stride = (flat(Y[before]), d * R, D * R) if has_prev else (h0, 0, R)
                step_prev = flat(prev[t])
                if p.mode == "lstm":
                    c_src = flat(saved["c"][before]) if has_prev else flat(state_cell[slot])
                    dh_in = dh
                    if dims.P:
                        dh_in = flat(dh_step[t])
                        _gather[launch(N * R) + (stream(),)](dh, dy, d * R, D * R, src, src_col, src_stride, h0,
                                                             act, act_prev, dh_in, step_prev, N, R)
                        gemm(Mat.rowmajor(dh_in, N, R), Mat.rowmajor(w["Wr"], R, H), Mat.rowmajor(dh_cell, N, H))
                        dh_in = flat(dh_cell)
                    _lstm_backward[grid](dh_in, dy, d * R, D * R, bool(dims.P), src, src_col, src_stride, h0, act,
                                         act_prev, step_prev, flat(saved["gates"][t]), flat(saved["c"][t]), c_src,
                                         flat(state_cell[slot]), dc, clip, lo, hi, flat(dxw[t]), N, H)
                elif p.mode == "gru":
                    _gru_backward[grid](dh, dy, d * R, D * R, src, src_col, src_stride, h0, act, act_prev, step_prev,
                                        flat(saved["gates"][t]), flat(saved["hn"][t]), flat(dxw[t]), flat(dhw[t]),
                                        N, H)
                else:
                    _rnn_backward[grid](dh, dy, d * R, D * R, src, src_col, src_stride, h0, act, act_prev, step_prev,
                                        flat(Y[t]), p.mode == "rnn_relu", flat(dxw[t]), N, H)
                gemm(_rows(dhw[t]), wh, Mat.rowmajor(dh, N, R), req=ADD)
            _weight_gradients(g, dxw, dhw, prev, x, ones, G * H)
            if dims.P:
                gemm(_rows(dh_step).T, _rows(saved["hcell"]), Mat.rowmajor(g["Wr"], R, H))
            if dx is not None:
                gemm(_rows(dxw), Mat.rowmajor(w["Wx"], G * H, dx.shape[2]), _rows(dx), req=WRITE if d == 0 else ADD)
        if layer > 0:
            mask = reserve.mask[layer - 1]
            if mask is not None:
                map_binary(cpu_elemwise.mul, dx, mask, dx, WRITE)
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
