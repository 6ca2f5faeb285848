"""CPU kernels of the fused RNN op (ops/rnn.py): forward and `_backward_RNN`. The sizes (T, N, I, H, R, G, L, D),
the packed parameters and the reserve's layout are in ops/rnn_layout.py.

Per layer and direction, the input projections of all steps are one GEMM up front; each step then runs one GEMM
for the recurrent projection and one fused njit loop for the gates, which adds both biases (ops/cpu/rnn_gates.py);
a projection adds one GEMM per step. LSTM runs all its steps in one njit call (Note [the LSTM time loop]), the
other modes step by step from Python. The backward runs its time loop step by step, then the parameter gradients
as one GEMM each over all steps; a written parameter or data gradient is computed in the output itself. A forward
that no backward will read keeps nothing in the reserve (Note [no reserve without gradients]). Large temporaries
are reused across calls (Note [RNN scratch]); each call is one BLAS thread-policy site (Note [RNN threads]).

What the backward needs is kept in the op's hidden `reserve` output (`Reserve`): each layer's output before
dropout, its dropout mask, and per direction the gate activations (and LSTM's cell states, LSTMP's unprojected
hidden values, GRU's W_hn h + b_hn). Rows past their `sequence_length` keep their states, output 0, and the reverse
direction of a row starts at its last valid step (cuDNN's variable-length semantics).
"""
import threading

import numpy as np

from ..errors import MXNetError
from ..rnn_layout import Carver, Dims, Reserve, active_mask, clip_bounds, split_inputs, step_order, weight_views
from ..random_state import generator
from . import blas_threads
from . import rnn_gates as gates_jit
from .cblas import available as _cblas_available
from ..registry import NULL, WRITE
from .common import assign, same_memory


def _check_dtype(data):
    """MXNet 1.9.1's CPU RNN op has no float16 (its GEMM refuses it, with and without oneDNN): neither has this one."""
    if data.dtype == np.float16:
        raise MXNetError("RNN: FP16 gemm on cpu not implemented! (MXNet 1.9.1's CPU RNN op takes float32 or float64; "
                         "cast data %s and parameters to float32)" % (data.shape,))


def _gemm_site(name, p, data, req):
    """The op's blas_threads site (Note [RNN threads]): keyed by the sizes, sized by the biggest GEMM."""
    steps, batch, inputs = data.shape
    dims = Dims(p, steps, batch, inputs)
    flops = 2 * steps * batch * dims.G * dims.H * max(inputs, dims.D * dims.R)
    key = (name, data.shape, data.dtype.char, p.mode, p.state_size, p.projection_size, p.num_layers, p.bidirectional,
           tuple(req))
    return blas_threads.gemm_site(key, flops)


def rnn_forward(ctx, p, inputs, outputs, req):
    _check_dtype(inputs[0])
    with _gemm_site("RNN", p, inputs[0], req):
        _forward(ctx, p, inputs, outputs, req)


def rnn_backward(ctx, p, inputs, outputs, req):
    """inputs: d out, d hy, d cy (LSTM), the forward's inputs, the reserve; outputs: the gradients of data,
    parameters, state and state_cell (LSTM)."""
    data = inputs[3 if p.mode == "lstm" else 2]
    _check_dtype(data)
    with _gemm_site("_backward_RNN", p, data, req):
        _backward(ctx, p, inputs, outputs, req)


def _forward(ctx, p, inputs, outputs, req):
    data, params, state, state_cell, lengths = split_inputs(p, inputs)
    T, N, _ = data.shape
    dims = Dims(p, T, N, data.shape[2])
    reserve = Reserve(outputs[-1], p, dims)
    keep = ctx.computes_gradients       # Note [no reserve without gradients]
    if lengths is not None and keep:
        outputs[-1][...] = 0        # rows that never run leave no stale values for the backward's GEMMs
    active = active_mask(p, lengths, T, N)
    weights = weight_views(Carver(params), p, dims)
    dtype = data.dtype
    hy = np.empty((dims.L * dims.D, N, dims.R), dtype)
    cy = np.empty((dims.L * dims.D, N, dims.H), dtype) if p.mode == "lstm" else None
    # the input projection of every step, without its bias; not the reserve's gate buffer, though the loops could
    # run in place: LLVM's overlap check then sends them down the scalar path
    xw = _scratch("xw", (T, N, dims.G * dims.H), dtype)
    x = data
    for layer in range(dims.L):
        Y = reserve.Y[layer]
        if layer == dims.L - 1 and not keep and req[0] == WRITE and outputs[0].dtype == dtype and \
                outputs[0].flags.c_contiguous:
            Y = outputs[0]          # the last layer writes the op's output itself
        for d in range(dims.D):
            w, slot = weights[layer][d], layer * dims.D + d
            saved = reserve.dirs[layer][d] if keep else _step_rows(p, dims, dtype)
            np.dot(x.reshape(T * N, -1), w["Wx"].T, out=xw.reshape(T * N, -1))
            h_carry = np.array(state[slot], dtype)
            c_carry = np.array(state_cell[slot], dtype) if cy is not None else None
            y = Y[:, :, d * dims.R:(d + 1) * dims.R]
            if p.mode == "lstm" and _lstm_loop():
                _lstm_time_loop(p, dims, w, xw, h_carry, c_carry, active, lengths is None, d, keep, saved, y)
            else:
                h_carry = _time_loop(p, dims, w, xw, h_carry, c_carry, active, lengths is None, d, keep, saved, y)
            hy[slot] = h_carry
            if cy is not None:
                cy[slot] = c_carry
        x = Y
        mask = reserve.mask[layer]
        if mask is not None and (keep or ctx.is_train):
            if ctx.is_train:
                keep_rate = 1.0 - p.p
                with np.errstate(all="ignore"):
                    mask[...] = (generator().random(mask.shape, dtype=np.float32) < keep_rate) * (
                        1.0 / keep_rate if keep_rate else np.inf)
                x = Y * mask
            else:
                mask[...] = 1
    if x is not outputs[0]:
        assign(outputs[0], req[0], x)
    if p.state_outputs:
        assign(outputs[1], req[1], hy)
        if cy is not None:
            assign(outputs[2], req[2], cy)


def _lstm_loop():
    """Whether LSTM runs its time loop in one njit call (Note [the LSTM time loop]): where numpy's OpenBLAS can be
    called from numba; elsewhere it runs step by step from Python."""
    return _cblas_available()


def _step_rows(p, dims, dtype):
    """What a step stores for the backward, as one step's rows (shaped (1, N, ...)) that every step overwrites:
    the forward of a graph that computes no gradient keeps nothing (Note [no reserve without gradients])."""
    n, h = dims.N, dims.H
    return dict(gates=_scratch("step_gates", (1, n, dims.G * h), dtype),
                c=_scratch("step_c", (1, n, h), dtype) if p.mode == "lstm" else None,
                hcell=_scratch("step_hcell", (1, n, h), dtype) if dims.P else None,
                hn=_scratch("step_hn", (1, n, h), dtype) if p.mode == "gru" else None)


def _lstm_time_loop(p, dims, w, xw, h_carry, c_carry, active, dense, d, keep, saved, y):
    """One LSTM layer and direction in one njit call (Note [the LSTM time loop]); h_carry and c_carry end as the
    final states."""
    clip, lo, hi, clip_nan = clip_bounds(p, xw.dtype)
    wh_t = _scratch("wh_t", w["Wh"].shape[::-1], xw.dtype)
    gates_jit.transpose(w["Wh"], wh_t)
    wr_t = np.ascontiguousarray(w["Wr"].T) if dims.P else wh_t[:1, :1]
    h_new = _scratch("step_h", (dims.N, dims.R), xw.dtype)
    gates_jit.lstm_sequence(xw, wh_t, w["bx"] + w["bh"], wr_t, dims.P is not None, h_carry, c_carry, active, dense,
                            d == 1, clip, lo, hi, clip_nan, keep, saved["gates"], saved["c"],
                            saved["hcell"] if dims.P else saved["c"], h_new, y)


def _time_loop(p, dims, w, xw, h_carry, c_carry, active, dense, d, keep, saved, y):
    """One layer and direction, step by step from Python: one GEMM and one gate loop per step. Returns the final
    hidden state (c_carry is updated in place)."""
    N, dtype = dims.N, xw.dtype
    clip, lo, hi, clip_nan = clip_bounds(p, dtype)
    relu = p.mode == "rnn_relu"
    wh_t = np.ascontiguousarray(w["Wh"].T)
    wr_t = np.ascontiguousarray(w["Wr"].T) if dims.P else None
    bias = w["bx"] + w["bh"] if p.mode == "lstm" else None
    hw = np.empty((N, dims.G * dims.H), dtype)
    h_new = np.empty((N, dims.H), dtype)
    h_proj = np.empty((N, dims.R), dtype) if dims.P else None
    # one direction, every row running every step: a step writes its output y[t] itself, and that is the state the
    # next step carries (no copies); else `commit` copies what active rows computed
    direct = dense and dims.D == 1
    for t in step_order(dims.T, d):
        k = t if keep else 0
        np.dot(h_carry, wh_t, out=hw)
        step_out = y[t] if direct else h_new
        if p.mode == "lstm":
            hcell = saved["hcell"][k] if dims.P else step_out
            np.add(xw[t], hw, out=hw)
            gates_jit.lstm_cells(hw, bias, c_carry, active[t], clip, lo, hi, clip_nan, saved["gates"][k],
                                 saved["c"][k], hcell)
            if dims.P:
                step_out = y[t] if direct else h_proj
                np.dot(hcell, wr_t, out=step_out)
        elif p.mode == "gru":
            gates_jit.gru_forward(xw[t], hw, w["bx"], w["bh"], h_carry, active[t], saved["gates"][k],
                                  saved["hn"][k], step_out)
        else:
            gates_jit.rnn_forward(xw[t], hw, w["bx"], w["bh"], relu, active[t], step_out)
        if direct:
            h_carry = step_out
        else:
            gates_jit.commit(step_out, active[t], h_carry, y[t])
    return h_carry


def _layer_input(layer, data, reserve):
    if layer == 0:
        return data
    below, mask = reserve.Y[layer - 1], reserve.mask[layer - 1]
    return below if mask is None else below * mask


def _gradient_buffer(out, req, dtype):
    """Where a gradient is computed: the output itself when it is written (not added to) in the compute dtype,
    else a new array."""
    if req == WRITE and out.dtype == dtype and out.flags.c_contiguous:
        return out
    return np.empty(out.shape, dtype)


def _finish(out, req, buf):
    """Store the gradient computed in `buf` into out as req says (nothing left to do when buf is out)."""
    if not same_memory(buf, out):
        assign(out, req, buf)


def _backward(ctx, p, inputs, outputs, req):
    n_heads = 3 if p.mode == "lstm" else 2
    d_out, d_hy = inputs[0], inputs[1]
    d_cy = inputs[2] if p.mode == "lstm" else None
    data, params, state, state_cell, lengths = split_inputs(p, inputs[n_heads:-1])
    T, N, _ = data.shape
    dims = Dims(p, T, N, data.shape[2])
    reserve = Reserve(inputs[-1], p, dims)
    active = active_mask(p, lengths, T, N)
    weights = weight_views(Carver(params), p, dims)
    dtype = data.dtype
    d_params = _gradient_buffer(outputs[1], req[1], dtype)     # every element is written below: no zeroing
    grads = weight_views(Carver(d_params), p, dims)
    clip, lo, hi, _ = clip_bounds(p, dtype)
    relu = p.mode == "rnn_relu"
    d_state = np.empty(state.shape, dtype)
    d_state_cell = np.empty(state_cell.shape, dtype) if state_cell is not None else None
    dY = np.ascontiguousarray(d_out, dtype)
    # every row runs every step (no sequence_length): the states a step started from are read in place, and the
    # previous hidden states the h2h weight gradient needs are copied in bulk after the time loop, not gathered
    # step by step (GRU's gate loop reads them, so it still gathers them per step)
    dense = lengths is None
    # per step: the gate gradients and the state each step started from, buffers shared by every layer and
    # direction; the parameter gradients are one GEMM each over all steps, after the time loop
    dxw = _scratch("dxw", (T, N, dims.G * dims.H), dtype)
    dhw = _scratch("dhw", dxw.shape, dtype) if p.mode == "gru" else dxw
    prev = _scratch("prev", (T, N, dims.R), dtype)
    dh = _scratch("dh", prev.shape, dtype)
    for layer in range(dims.L - 1, -1, -1):
        x = _layer_input(layer, data, reserve).reshape(T * N, -1)
        if layer > 0:
            dx = _scratch("dx%d" % (layer % 2), (T * N, dims.layer_input(layer)), dtype)
        elif req[0] != NULL:
            dx = _gradient_buffer(outputs[0], req[0], dtype).reshape(T * N, -1)
        else:
            dx = None       # no data gradient wanted: skip layer 0's GEMM
        Y = reserve.Y[layer]
        for d in range(dims.D):
            w, g, saved, slot = weights[layer][d], grads[layer][d], reserve.dirs[layer][d], layer * dims.D + d
            cols = slice(d * dims.R, (d + 1) * dims.R)
            dh_carry = np.array(d_hy[slot], dtype)
            dc_carry = np.array(d_cy[slot], dtype) if d_cy is not None else None
            dh_direct = np.zeros((N, dims.R), dtype)
            # dh_new = dhw[t] @ Wh, computed transposed as Wh.T @ dhw[t].T (R, N): its GEMM ran ~20% faster per step
            # (OpenBLAS, N=32, H=256), the backward 2-5% (CPU time, one thread)
            dh_new_t = np.empty((dims.R, N), dtype)
            wh_t = w["Wh"].T
            dh_cell = np.empty((N, dims.H), dtype) if dims.P else None
            c_gathered = np.empty((N, dims.H), dtype) if p.mode == "lstm" and not dense else None
            h0 = np.ascontiguousarray(state[slot], dtype)
            c0 = np.ascontiguousarray(state_cell[slot], dtype) if p.mode == "lstm" else None
            wr = np.ascontiguousarray(w["Wr"]) if dims.P else None
            for t in reversed(step_order(T, d)):
                before = t - 1 if d == 0 else t + 1
                has_prev = 0 <= before < T
                act_prev = active[before] if has_prev else active[t]
                gates_jit.gather_grad(dh_carry, dY[t, :, cols], active[t], dh[t])
                if not dense or p.mode == "gru":
                    gates_jit.gather_prev(Y[before, :, cols] if has_prev else h0, has_prev, h0, act_prev, prev[t])
                if p.mode == "lstm":
                    if dims.P:
                        np.dot(dh[t], wr, out=dh_cell)
                    c_prev = saved["c"][before] if has_prev else c0
                    if not dense:
                        gates_jit.gather_prev(c_prev, has_prev, c0, act_prev, c_gathered)
                        c_prev = c_gathered
                    gates_jit.lstm_backward(dh_cell if dims.P else dh[t], dc_carry, saved["gates"][t],
                                            saved["c"][t], c_prev, active[t], clip, lo, hi, dxw[t])
                elif p.mode == "gru":
                    gates_jit.gru_backward(dh[t], saved["gates"][t], saved["hn"][t], prev[t], active[t], dxw[t],
                                           dhw[t], dh_direct)
                else:
                    gates_jit.rnn_backward(dh[t], Y[t, :, cols], relu, active[t], dxw[t])
                np.dot(wh_t, dhw[t].T, out=dh_new_t)
                gates_jit.carry_grad(dh_new_t.T, dh_direct, active[t], dh_carry)
            if dense and p.mode != "gru":
                _previous_states(prev, Y[:, :, cols], h0, d)
            d_state[slot] = dh_carry
            if d_state_cell is not None:
                d_state_cell[slot] = dc_carry
            _weight_gradients(g, dxw, dhw, prev, dh, x, saved["hcell"])
            if dx is not None:
                flat = dxw.reshape(T * N, -1)
                if d == 0:
                    np.dot(flat, w["Wx"], out=dx)
                else:
                    dx += np.dot(flat, w["Wx"])
        if layer > 0:
            mask = reserve.mask[layer - 1]
            dY = dx.reshape(T, N, -1) if mask is None else dx.reshape(T, N, -1) * mask
    if dx is not None:
        _finish(outputs[0], req[0], dx.reshape(T, N, -1))
    _finish(outputs[1], req[1], d_params)
    assign(outputs[2], req[2], d_state)
    if d_state_cell is not None:
        assign(outputs[3], req[3], d_state_cell)


def _previous_states(prev, seq, h0, d):
    """prev[t] = the hidden state step t started from when every row runs every step: the output `seq` of the step
    before it in direction d's order, h0 for the first."""
    if d == 0:
        prev[1:] = seq[:-1]
        prev[0] = h0
    else:
        prev[:-1] = seq[1:]
        prev[-1] = h0


def _weight_gradients(g, dxw, dhw, prev, dh, x, hcell):
    """One layer and direction's parameter gradients, from all its steps at once: each parameter belongs to one
    layer and direction, so its gradient is written once, straight into place."""
    rows = dxw.shape[0] * dxw.shape[1]
    flat, flat_h = dxw.reshape(rows, -1), dhw.reshape(rows, -1)
    np.dot(flat_h.T, prev.reshape(rows, -1), out=g["Wh"])
    np.sum(flat_h, axis=0, out=g["bh"])
    if hcell is not None:
        np.dot(dh.reshape(rows, -1).T, hcell.reshape(rows, -1), out=g["Wr"])
    np.dot(flat.T, x, out=g["Wx"])
    if dhw is dxw:          # both biases add to the same pre-activations (all but GRU): one sum
        g["bx"][...] = g["bh"]
    else:
        np.sum(flat, axis=0, out=g["bx"])


# Note [the LSTM time loop]: an LSTM layer's direction runs all its steps in one njit call (rnn_gates.lstm_sequence),
# calling numpy's own OpenBLAS by symbol (ops/cpu/cblas.py `gemm`, bound by `available()`): each step's recurrent
# GEMM adds h W_h^T onto the step's input projection (beta = 1), so the gate loop reads one array and one summed bias;
# without sequence_length the GEMM reads the previous step's output where it lies (its rows D*R apart), so nothing is
# copied between steps, and nothing returns to Python. W_h^T goes into a kept buffer through `rnn_gates.transpose` (0.15
# against numpy's 0.25 ms per 1 MB weight). Measured side by side in one process against the step-by-step loop (2-layer
# LSTM, H 256, T 35, N 32, one BLAS thread, process CPU time, medians of 40-60 calls, three runs at load 5-8 on the
# 2-core host): the kernel 0.84-0.89x without a reserve, 0.84-0.91x keeping it; the hybridized gluon call 0.87-0.91x
# (30.1 -> 26.6 ms); a recorded training step 0.98x. Its first compile (numba's cache then keeps it) takes ~4 s more
# than the step loop's gate function did. Where numpy's BLAS is another library LSTM runs the Python step loop
# (`_time_loop`), with the same gate loop. Not taken: W_h @ h^T (the (4H, N) product: 8% faster GEMM in isolation, no
# W_h transpose, but every gate, cell and output store transposed) and a numba GEMM (4x slower than OpenBLAS at this
# size). A thread switch per step GEMM was suspected and is not there: the call is the site, so the count changes at
# most twice a call.
#
# Note [no reserve without gradients]: a forward in a graph that computes no gradient (`ctx.computes_gradients`
# False: a hybridized block called outside autograd.record(), an Executor without gradient arrays) writes no gates
# or cell states into the reserve (each step overwrites one row of scratch), and its last layer writes a written,
# contiguous output itself instead of the reserve's copy; layers below still pass their outputs through the
# reserve. Only `is_train` would not do: MXNet's backward may follow a forward recorded with train_mode=False.
#
# Note [RNN threads]: each forward or backward call runs inside one `blas_threads.gemm_site` (keyed by the sizes),
# so all its GEMMs, the per-step recurrent ones included, run on the cores the policy gives the call: one thread while
# other processes keep the other cores busy, more when the site's own timings say they win (Note [when a 2-thread
# GEMM pays] in ops/cpu/blas_threads.py). Measured on the 2-core host with the other core free, kernels alone
# (2-layer LSTM, H 256, T 35, N 32): forward 27.8 -> 18.3 ms, backward 48.9 -> 29.4 ms on two threads; the gate
# loops stay on one. A site per big GEMM (projection, weight gradients) would leave the step GEMMs, ~40% of the GEMM
# time, on one thread. Running the big GEMMs on a helper thread instead (the weight gradients during the layer
# below's time loop, the next layer's projection in chunks during this one) measured a wash (-14% to +4%).
#
# Note [RNN scratch]: the kernels' large temporaries (the input projections, the backward's step buffers) are kept
# per thread and reused by the next call of the same sizes: fresh multi-MB numpy arrays cost page faults (and, with
# numpy's huge-page advice, compaction) on first touch, measured ~8% of the lstm workload's recorded step. Arrays
# over _SCRATCH_MAX_BYTES are not kept. A kernel is never re-entered on its thread, so a kept buffer is never in
# use twice.
_SCRATCH_MAX_BYTES = 16 << 20
_scratch_local = threading.local()


def _scratch(name, shape, dtype):
    """An uninitialised array of `shape` and `dtype`, the same one for `name` on this thread while they match."""
    dtype = np.dtype(dtype)
    if int(np.prod(shape)) * dtype.itemsize > _SCRATCH_MAX_BYTES:
        return np.empty(shape, dtype)
    kept = _scratch_local.__dict__.setdefault("buffers", {})
    buf = kept.get(name)
    if buf is None or buf.shape != tuple(shape) or buf.dtype != dtype:
        buf = kept[name] = np.empty(shape, dtype)
    return buf
