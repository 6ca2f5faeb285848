"""The fused per-step gate loops of the RNN op (ops/cpu/rnn.py drives them), one njit loop per mode and direction,
and LSTM's whole time loop (`lstm_sequence`, Note [the LSTM time loop]).

Forward, per step: `xw` (N, G*H) is the step's input projection (one GEMM for all steps, up front), `hw` (N, G*H)
the recurrent projection (one GEMM per step), both without their biases; the loop adds `bx` and `bh`, applies the
gates, stores what the backward needs (`gates` post-activation; LSTM: `c`; GRU: `hn` = W_hn h + b_hn) and writes
the new hidden value into `h` (N, H). LSTM's step (`lstm_cells`) takes the sum of both projections and of both
biases instead. Rows with `active[b] == 0` (past their sequence length) keep their carried states.

Speed: each gate block of a row is one 1-D loop in a small function of its own (`_sigmoid_sum`, ...): one function
holding several activation loops over 2-D indices ran 2-3x slower (LLVM vectorised fewer of them). Measured, one
float32 step of N=32, H=256 in cache: the LSTM forward step 78 -> 25 us, lstm_backward 42 -> 24 us. `gates` must not be
`xw`: a loop whose output is its input fails LLVM's overlap check and runs scalar.

Backward, per step (in reverse order of the forward): from `dh` (N, H) (the gradient reaching the step's hidden
value; zero for inactive rows) the loop writes the pre-activation gradients of the input projection into `dxw`
and of the recurrent projection into `dhw` (they differ only in GRU's candidate block, where the reset gate
multiplies W_hn h + b_hn), and updates the carried cell gradient `dc` of active rows.
"""
import math

from numba import njit, types
from numba.extending import overload

from . import vmath
from .cblas import gemm as _cblas_gemm

# float32 gates use vmath's branch-free float32 tanh/sigmoid (the loops vectorise), float64 ones libm's.
_jit = njit(cache=True, **vmath.JIT_FLAGS)


def _tanh(x):
    return math.tanh(x)


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


@overload(_tanh)
def _tanh_any(x):
    if x == types.float32:
        return lambda x: vmath.tanh32(x)
    return lambda x: math.tanh(x)


@overload(_sigmoid)
def _sigmoid_any(x):
    if x == types.float32:
        return lambda x: vmath.sigmoid32(x)
    return lambda x: 1.0 / (1.0 + math.exp(-x))


# ---- forward ----------------------------------------------------------------------------------------------------

@_jit
def rnn_forward(xw, hw, bx, bh, relu, active, h):
    n, hidden = h.shape
    for b in range(n):
        if not active[b]:
            continue
        for j in range(hidden):
            h[b, j] = xw[b, j] + bx[j] + hw[b, j] + bh[j]
        if relu:
            for j in range(hidden):
                h[b, j] = max(h[b, j], 0)
        else:
            for j in range(hidden):
                h[b, j] = _tanh(h[b, j])


@_jit
def _sigmoid_sum(x, bx, y, by, out):
    """out = sigmoid(x + bx + y + by), 1-D."""
    for j in range(out.size):
        out[j] = _sigmoid(x[j] + bx[j] + y[j] + by[j])


@_jit
def _sigmoid_bias(x, bias, out):
    """out = sigmoid(x + bias), 1-D."""
    for j in range(out.size):
        out[j] = _sigmoid(x[j] + bias[j])


@_jit
def _tanh_bias(x, bias, out):
    """out = tanh(x + bias), 1-D."""
    for j in range(out.size):
        out[j] = _tanh(x[j] + bias[j])


@_jit
def lstm_cells(pre, bias, c_carry, active, clip, lo, hi, clip_nan, gates, c, h):
    """One LSTM step from `pre` (N, 4H) = x W_x^T + h W_h^T and `bias` = b_x + b_h, gates (i, f, g, o):
    c' = f*c + i*g (clipped to [lo, hi] when `clip`), h' = o*tanh(c'). `c_carry` is updated in place for active
    rows."""
    n, hidden = h.shape
    i_f, g_, o_ = slice(0, 2 * hidden), slice(2 * hidden, 3 * hidden), slice(3 * hidden, 4 * hidden)
    for b in range(n):
        if not active[b]:
            continue
        _sigmoid_bias(pre[b, i_f], bias[i_f], gates[b, i_f])
        _tanh_bias(pre[b, g_], bias[g_], gates[b, g_])
        _sigmoid_bias(pre[b, o_], bias[o_], gates[b, o_])
        for j in range(hidden):
            c[b, j] = gates[b, hidden + j] * c_carry[b, j] + gates[b, j] * gates[b, 2 * hidden + j]
        if clip:
            for j in range(hidden):
                cv = c[b, j]
                if cv != cv:
                    if clip_nan:
                        c[b, j] = lo
                elif cv < lo:
                    c[b, j] = lo
                elif cv > hi:
                    c[b, j] = hi
        for j in range(hidden):
            c_carry[b, j] = c[b, j]
            h[b, j] = gates[b, 3 * hidden + j] * _tanh(c[b, j])


@_jit
def transpose(a, out):
    """out = a.T for a 2-D `a`, in bands of 16 rows of `a` (each row of `out` written 16 elements at a time): ~0.6x
    the time of numpy's copy of a transposed view for LSTM's (4H, R) weights."""
    m, n = a.shape
    for i0 in range(0, m, 16):
        i1 = min(i0 + 16, m)
        for j in range(n):
            for i in range(i0, i1):
                out[j, i] = a[i, j]


@_jit
def lstm_sequence(pre, wh_t, bias, wr_t, project, h_carry, c_carry, active, direct, reverse, clip, lo, hi, clip_nan,
                  save, gates, c, hcell, h_new, y):
    """One layer and direction of an LSTM over all steps (Note [the LSTM time loop]). pre (T, N, 4H): the input
    projections on entry, each step's pre-activations after it; wh_t (R, 4H) = W_h^T; wr_t (H, P) = W_r^T when
    `project`; h_carry (N, R), c_carry (N, H): the initial states on entry, the final ones on return; y (T, N, R):
    this direction's columns of the layer's output. With `save` the step's gates (T, N, 4H), c (T, N, H) and, with
    a projection, hcell (T, N, H) are kept for the backward, else each step overwrites their first row. `direct`:
    every row runs every step, so the output y[t] is the state the next step reads (no copies); else h_new (N, R)
    takes the step's value and `commit` copies it for the active rows. Callers bind the BLAS symbols first
    (ops/cpu/cblas.py `available()`): unbound, the GEMM call jumps nowhere."""
    steps, n, gh = pre.shape
    r = wh_t.shape[0]
    ld_y = y.strides[1] // y.itemsize
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        k = t if save else 0
        if direct and s > 0:        # the previous step's output, read in place (its rows ld_y apart)
            _cblas_gemm(False, False, n, gh, r, y[t + 1 if reverse else t - 1], ld_y, wh_t, gh, 1.0, pre[t], gh)
        else:
            _cblas_gemm(False, False, n, gh, r, h_carry, r, wh_t, gh, 1.0, pre[t], gh)
        out = y[t] if direct else h_new
        cell_h = hcell[k] if project else out
        lstm_cells(pre[t], bias, c_carry, active[t], clip, lo, hi, clip_nan, gates[k], c[k], cell_h)
        if project:
            _cblas_gemm(False, False, n, r, cell_h.shape[1], cell_h, cell_h.shape[1], wr_t, r, 0.0, out,
                        out.strides[0] // out.itemsize)
        if not direct:
            commit(out, active[t], h_carry, y[t])
    if direct:
        h_carry[...] = y[0 if reverse else steps - 1]


@_jit
def _gru_candidate(xn, bxn, hwn, bhn, r, hn, out):
    """hn = W_hn h + b_hn and out = tanh(xn + b_in + r*hn), 1-D."""
    for j in range(out.size):
        hn[j] = hwn[j] + bhn[j]
        out[j] = _tanh(xn[j] + bxn[j] + r[j] * hn[j])


@_jit
def gru_forward(xw, hw, bx, bh, h_carry, active, gates, hn, h):
    """Gates (r, z, n): n = tanh(xw_n + b_in + r*(W_hn h + b_hn)), h' = (1-z)*n + z*h."""
    n, hidden = h.shape
    r_z = slice(0, 2 * hidden)
    for b in range(n):
        if not active[b]:
            continue
        _sigmoid_sum(xw[b, r_z], bx[r_z], hw[b, r_z], bh[r_z], gates[b, r_z])
        _gru_candidate(xw[b, 2 * hidden:], bx[2 * hidden:], hw[b, 2 * hidden:], bh[2 * hidden:], gates[b, :hidden],
                       hn[b], gates[b, 2 * hidden:])
        for j in range(hidden):
            zg = gates[b, hidden + j]
            h[b, j] = (1 - zg) * gates[b, 2 * hidden + j] + zg * h_carry[b, j]


@_jit
def commit(h_new, active, h_carry, out):
    """The step's hidden value becomes the carried state and the output of active rows; inactive rows output 0."""
    n, width = h_new.shape
    for b in range(n):
        if active[b]:
            for j in range(width):
                h_carry[b, j] = h_new[b, j]
                out[b, j] = h_new[b, j]
        else:
            for j in range(width):
                out[b, j] = 0.0


# ---- backward ---------------------------------------------------------------------------------------------------

@_jit
def gather_grad(dh_carry, dy, active, dh):
    """dh = the carried gradient plus the output's gradient, for active rows; zero for the others."""
    n, width = dh.shape
    for b in range(n):
        for j in range(width):
            dh[b, j] = dh_carry[b, j] + dy[b, j] if active[b] else 0.0


@_jit
def gather_prev(seq, has_prev, h0, active_prev, prev):
    """prev = the state a step started from: the previous step's stored value where that step ran, else h0."""
    n, width = prev.shape
    for b in range(n):
        for j in range(width):
            prev[b, j] = seq[b, j] if (has_prev and active_prev[b]) else h0[b, j]


@_jit
def rnn_backward(dh, h, relu, active, dxw):
    n, hidden = h.shape
    for b in range(n):
        for j in range(hidden):
            if not active[b]:
                dxw[b, j] = 0.0
            elif relu:
                dxw[b, j] = dh[b, j] if h[b, j] > 0 else 0.0
            else:
                dxw[b, j] = dh[b, j] * (1.0 - h[b, j] * h[b, j])


@_jit
def _lstm_backward_row(dh, dc, ig, fg, gg, og, c, c_prev, clip, lo, hi, di, df, dg, do):
    for j in range(dh.size):
        tc = _tanh(c[j])
        dcv = dc[j] + dh[j] * og[j] * (1 - tc * tc)
        if clip and (c[j] <= lo or c[j] >= hi):      # the clip passes no gradient where it clipped
            dcv = 0
        di[j] = dcv * gg[j] * ig[j] * (1 - ig[j])
        df[j] = dcv * c_prev[j] * fg[j] * (1 - fg[j])
        dg[j] = dcv * ig[j] * (1 - gg[j] * gg[j])
        do[j] = dh[j] * tc * og[j] * (1 - og[j])
        dc[j] = dcv * fg[j]


@_jit
def lstm_backward(dh, dc, gates, c, c_prev, active, clip, lo, hi, dxw):
    """dxw = d(pre-activation gates); dc (carried, in place) becomes the gradient of the previous cell state.
    (Each row in a 1-D function, as lstm_forward.)"""
    n, hidden = dh.shape
    for b in range(n):
        if not active[b]:
            for j in range(4 * hidden):
                dxw[b, j] = 0
            continue
        g, d = gates[b], dxw[b]
        _lstm_backward_row(dh[b], dc[b], g[:hidden], g[hidden:2 * hidden], g[2 * hidden:3 * hidden], g[3 * hidden:],
                           c[b], c_prev[b], clip, lo, hi,
                           d[:hidden], d[hidden:2 * hidden], d[2 * hidden:3 * hidden], d[3 * hidden:])


@_jit
def gru_backward(dh, gates, hn, h_prev, active, dxw, dhw, dh_direct):
    """dxw / dhw: the gradients of the input and recurrent projections; dh_direct = dh*z, the part of the
    previous state's gradient that skips the GEMM."""
    n, hidden = dh.shape
    for b in range(n):
        if not active[b]:
            for j in range(3 * hidden):
                dxw[b, j] = 0.0
                dhw[b, j] = 0.0
            for j in range(hidden):
                dh_direct[b, j] = 0.0
            continue
        for j in range(hidden):
            rg = gates[b, j]
            zg = gates[b, hidden + j]
            ng = gates[b, 2 * hidden + j]
            d = dh[b, j]
            dn = d * (1.0 - zg) * (1.0 - ng * ng)
            dz = d * (h_prev[b, j] - ng) * zg * (1.0 - zg)
            dr = dn * hn[b, j] * rg * (1.0 - rg)
            dxw[b, j] = dr
            dxw[b, hidden + j] = dz
            dxw[b, 2 * hidden + j] = dn
            dhw[b, j] = dr
            dhw[b, hidden + j] = dz
            dhw[b, 2 * hidden + j] = dn * rg
            dh_direct[b, j] = d * zg


@_jit
def carry_grad(dh_new, dh_direct, active, dh_carry):
    """The gradient carried to the previous step: the GEMM's part plus the direct part, for active rows."""
    n, width = dh_new.shape
    for b in range(n):
        if active[b]:
            for j in range(width):
                dh_carry[b, j] = dh_new[b, j] + dh_direct[b, j]
