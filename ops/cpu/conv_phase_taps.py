"""The forward of strided 2-D convolutions as one GEMM per kernel tap over the phase planes of the padded image,
and its backward (Note [phase-plane backward]).

Note [phase planes] (ops/cpu/conv_depthwise.py): split each zero-padded channel into its stride_h * stride_w phase
planes; kernel tap t then reads one plane at a fixed offset with unit strides, so for output positions numbered
j = y * Wq + x (Wq the planes' width, wide columns as in Note [wide columns]) the input of tap t is the contiguous
run planes[c, offsets[t] + j] of every channel c. Over all channels that is a (C, L) matrix with row stride = one
channel's planes, which BLAS reads in place, so

    out (F, L) = sum over taps t of W[:, :, t] (F, C) @ planes[:, offsets[t]:][:, :L]

is the convolution without an im2col buffer (ops/cpu/conv_taps.py does the same for unit strides over the padded
image itself). The junk columns (x >= OW) are cropped by the epilogue (ops/cpu/conv_epilogue.py).

Measured (one thread, process CPU time, medians of 11-15 side by side with the phase-plane im2col + GEMM and the
relu epilogue, load average 6-9): 3x3 stride 2 pad 1, batch 1 / 8: 64 -> 128 at 56x56 0.84-0.91x / 0.83-0.86x,
32 -> 64 at 112x112 0.77-0.86x / 0.78-0.81x, 64 -> 96 at 56x56 0.84-0.95x / 0.82x, 128 -> 256 at 28x28 (209
columns) 1.01x / 0.91x, 256 -> 512 at 14x14 (55 columns) 2.2x / 1.6x; 3 input channels (the stems: 7x7 stride 2
1.7x, 3x3 stride 2 1.07x) lose: each GEMM is C deep. So: at least MIN_COLUMNS columns and MIN_CHANNELS channels.

Few channels (the stems) keep one GEMM over all taps, whose col (C * taps, L) of a 7x7 stem on 224x224 is 7.6 MB,
more than L2 (`forward` with `blocked`, `blocked_pays`): the planes are filled once per sample and the col is
built and multiplied in blocks of output rows of about COL_BLOCK_BYTES, so that the GEMM reads it from L2. Measured
(one thread, CPU time, medians of 15 side by side, load ~8), 3 -> 64 7x7 stride 2 on 224x224: batch 1 4.89 -> 4.01
ms (0.82x), batch 8 34.2 -> 26.0 ms (0.76x); 3 -> 32 3x3 stride 2 (a 1.4 MB col) 0.98x at 224x224, 0.97x at
299x299 (2.4 MB), and with 8 rows a block 1.15x at 224x224: only cols of at least COL_MIN_BYTES.
"""
import numba
import numpy as np

from .cblas import available, gemm
from .conv_depthwise import fill_planes, phase_geometry, valid_range
from .conv_epilogue import epilogue
from .conv_taps import tap_weights

__all__ = ["forward", "path"]

MIN_COLUMNS = 400
MIN_CHANNELS = 16
# Junk columns (x >= OW) at most this fraction of the GEMMs' work (as the phase-plane im2col's limit).
MAX_WASTE = 0.1
# A single sample split over threads by output channels: at least this many per thread.
ROWS_PER_PART = 16
# Few channels: the col built in blocks of output rows of about this many bytes, where the whole col would have at
# least COL_MIN_BYTES.
COL_BLOCK_BYTES = 512 << 10
COL_MIN_BYTES = 4 << 20


def _columns(kernel, stride, pad, groups, img_dims, out_dims, dtype):
    """The GEMMs' wide columns over the phase planes, or None where the planes do not serve: not 2-D (the 3-D
    view's depth 1), unit strides, several groups, another dtype than float32 and float64, fewer taps than phase
    planes (filling them reads more than the taps do) or too many junk columns."""
    if (img_dims[0] != 1 or kernel[0] != 1 or pad[0] != 0 or stride[0] != 1 or stride[1:] == (1, 1)
            or groups != 1 or np.dtype(dtype) not in (np.float32, np.float64)
            or kernel[1] * kernel[2] < stride[1] * stride[2]):
        return None
    Wq = -(-(img_dims[2] + 2 * pad[2]) // stride[2])
    columns = (out_dims[1] - 1) * Wq + out_dims[2]
    return None if columns > (1 + MAX_WASTE) * out_dims[1] * out_dims[2] else columns


def path(kernel, stride, pad, dilate, groups, img_dims, out_dims, channels, dtype):
    """How a Convolution's forward runs here: "taps" (one GEMM per tap), "blocked" (the col in blocks of rows) or
    None (not here). Here: where the phase planes serve (`_columns`); then "taps" with enough columns and channels
    and CBLAS bound (ops/cpu/cblas.py), "blocked" with fewer channels and a col too large for L2 (module
    docstring)."""
    columns = _columns(kernel, stride, pad, groups, img_dims, out_dims, dtype)
    if columns is None:
        return None
    if channels >= MIN_CHANNELS:
        return "taps" if columns >= MIN_COLUMNS and available() else None
    col_bytes = channels * kernel[1] * kernel[2] * columns * np.dtype(dtype).itemsize
    return "blocked" if col_bytes >= COL_MIN_BYTES else None


@numba.njit(nogil=True, cache=True)
def fill_all_planes(img, stride, pad, Hq, Wq, planes):
    """The phase planes of every channel of img (C, H, W) into the rows of planes (C, >= planes' size)."""
    for c in range(img.shape[0]):
        fill_planes(img[c], stride, pad, Hq, Wq, planes[c])


@numba.njit(nogil=True, cache=True)
def phase_taps_gemms(planes, wt, offsets, f0, f1, out):
    """out[f0:f1] (F, L) = sum over taps t of wt[t, f0:f1] (. x C) @ planes[:, offsets[t]:][:, :L]."""
    C, lda = planes.shape
    L = out.shape[1]
    for t in range(offsets.shape[0]):
        gemm(False, False, f1 - f0, L, C, wt[t, f0], C, planes[0, offsets[t]:], lda, 0.0 if t == 0 else 1.0,
             out[f0], L)


@numba.njit(nogil=True, cache=True)
def phase_cols(planes, offsets, base, col):
    """col[(c, t), j] = planes[c, offsets[t] + base + j]: the columns of the output positions from wide position
    `base` on (a block of output rows), col (C * taps, n)."""
    K, n = offsets.shape[0], col.shape[1]
    for r in range(col.shape[0]):
        dst, src = col[r], planes[r // K, offsets[r % K] + base:]
        for j in range(n):
            dst[j] = src[j]


class _Geometry:
    def __init__(self, x_shape, dst_shape, kernel, stride, pad, dilate):
        (_, C, H, W), (F, OH, OW) = x_shape, dst_shape[1:]
        self.stride, self.pad = stride, pad
        self.Hq, self.Wq, self.offsets = phase_geometry((H, W), kernel, stride, pad, dilate)
        self.L = (OH - 1) * self.Wq + OW
        self.planes_shape = (C, max(stride[0] * stride[1] * self.Hq * self.Wq, int(self.offsets.max()) + self.L))
        self.out_shape = (F, self.L)

    def planes(self, dtype):
        return np.zeros(self.planes_shape, dtype)      # past the last phase plane: 0, read by junk columns only

    def buffers(self, dtype):
        """(planes, the GEMMs' output) of one thread."""
        return self.planes(dtype), np.empty(self.out_shape, dtype)


def forward(x, w, geometry2, dst, scale, bias, act_args, for_each, cores, blocked=False):
    """dst (N, F, OH, OW; each sample C-contiguous) = act(conv(x, w) * scale + bias) per output channel, x (N, C,
    H, W) and w (F, C, KH, KW) C-contiguous; geometry2: (kernel, stride, pad, dilate) of the two spatial dims;
    `blocked`: the col in blocks of output rows (`path` "blocked"), else one GEMM per tap. Samples over the threads
    (`for_each`, each thread with its own planes and buffers); a batch smaller than `cores` fills each sample's
    planes once and splits it among the threads: its blocks of rows, or its output channels."""
    kernel, stride, pad, dilate = geometry2
    n, filters = x.shape[0], w.shape[0]
    g = _Geometry(x.shape, dst.shape, kernel, stride, pad, dilate)
    flops = 2.0 * dst.size * w[0].size
    if blocked:
        _forward_blocked(x, w.reshape(filters, -1), g, dst, scale, bias, act_args, for_each, cores, flops)
        return
    wt = tap_weights(w.reshape(filters, -1), kernel[0] * kernel[1])
    pitch = (1, g.Wq)

    def finish(out, i, f0, f1):
        epilogue(out[f0:f1], pitch, scale[f0:f1], bias[f0:f1], *act_args,
                 dst[i, f0:f1].reshape(f1 - f0, 1, dst.shape[2], dst.shape[3]))

    parts = 1 if n >= cores else max(1, min(cores // n, filters // ROWS_PER_PART))
    if parts > 1:
        planes, out = g.buffers(x.dtype)
        for i in range(n):
            fill_all_planes(x[i], g.stride, g.pad, g.Hq, g.Wq, planes)

            def part(k, i=i):
                f0, f1 = filters * k // parts, filters * (k + 1) // parts
                phase_taps_gemms(planes, wt, g.offsets, f0, f1, out)
                finish(out, i, f0, f1)
            for_each(parts, lambda: part, flops / n)
        return

    def make_worker():
        planes, out = g.buffers(x.dtype)

        def sample(i):
            fill_all_planes(x[i], g.stride, g.pad, g.Hq, g.Wq, planes)
            phase_taps_gemms(planes, wt, g.offsets, 0, filters, out)
            finish(out, i, 0, filters)
        return sample
    for_each(n, make_worker, flops)


def _forward_blocked(x, w2, g, dst, scale, bias, act_args, for_each, cores, flops):
    """`forward` with the col built and multiplied in blocks of output rows (few channels, a large col)."""
    n, (filters, depth) = x.shape[0], w2.shape
    OH, OW = dst.shape[2:]
    rows = max(1, min(OH, COL_BLOCK_BYTES // (depth * g.Wq * x.dtype.itemsize)))
    blocks = -(-OH // rows)

    def block_buffers():
        width = (rows - 1) * g.Wq + OW
        return np.empty(depth * width, x.dtype), np.empty(filters * width, x.dtype)

    def block(planes, i, b, col, out):
        y0, y1 = b * rows, min(OH, (b + 1) * rows)
        width = (y1 - y0 - 1) * g.Wq + OW
        col, out = col[:depth * width].reshape(depth, width), out[:filters * width].reshape(filters, width)
        phase_cols(planes, g.offsets, y0 * g.Wq, col)
        np.dot(w2, col, out=out)
        epilogue(out, (1, g.Wq), scale, bias, *act_args, dst[i, :, y0:y1].reshape(filters, 1, y1 - y0, OW))

    if n < cores:       # batch 1: the sample's planes filled once, its blocks over the threads
        planes = g.planes(x.dtype)
        for i in range(n):
            fill_all_planes(x[i], g.stride, g.pad, g.Hq, g.Wq, planes)

            def make_block_worker(i=i):
                col, out = block_buffers()
                return lambda b: block(planes, i, b, col, out)
            for_each(blocks, make_block_worker, flops / n)
        return

    def make_worker():
        planes = g.planes(x.dtype)
        col, out = block_buffers()

        def sample(i):
            fill_all_planes(x[i], g.stride, g.pad, g.Hq, g.Wq, planes)
            for b in range(blocks):
                block(planes, i, b, col, out)
        return sample
    for_each(n, make_worker, flops)


# ---------------------------------------------------------------------------------------------------------------
# The backward (Note [phase-plane backward])
# ---------------------------------------------------------------------------------------------------------------

# Note [phase-plane backward]: the gradients of the per-tap forward above, without im2col or col2im. With dy (F, L)
# an output gradient in wide columns (junk positions 0), per tap t
#     dW_t (F, C) += dy @ P_t.T     and     dP[:, offsets[t]:][:, :L] += W_t.T (C, F) @ dy,
# P_t the (C, L) run of the planes the tap reads. The weight gradient reads the planes stored channels-last,
# (length, C), where P_t.T is a contiguous row block: a plain NN GEMM (Note [channels-last weight gradient] in
# ops/cpu/conv_grads.py). Each image element has one place in the planes, so dx is a gather from dP, no sums.
# Measured (one thread, thread CPU time, medians of 9 interleaved with im2col + GEMM + col2im, batch 8, 3x3 stride
# 2 pad 1, load ~4): 64 -> 128 at 56x56 (811 columns) 24.8 -> 18.6 ms both gradients (0.75x; MXNet 1.9.1's oneDNN
# 14.5), the weight gradient alone 12.9 -> 10.3; 128 -> 256 at 28x28 (209 columns) 18.2 -> 16.2 and 21.0 -> 17.6
# (0.83-0.89x; MXNet 13.7). 256 -> 512 at 14x14 has 12% junk columns (55 for 49): not here. The few-channel stems
# (the data's own gradient not wanted) take `blocked_weight_grad`: 3 -> 64 7x7 stride 2 on 224x224, 37.4 -> 24.4 ms
# (0.65x; MXNet 19.6).
BACKWARD_MIN_COLUMNS = 200


def backward_path(kernel, stride, pad, dilate, groups, img_dims, out_dims, channels, dtype, want_dx):
    """How a Convolution's backward runs here (`backward`): "taps" where the phase planes serve (`_columns`) with
    at least BACKWARD_MIN_COLUMNS columns and MIN_CHANNELS channels, "blocked" (the weight gradient alone, few
    channels, a large col: `blocked_weight_grad`), or None (not here)."""
    columns = _columns(kernel, stride, pad, groups, img_dims, out_dims, dtype)
    if columns is None or not available():
        return None
    if channels >= MIN_CHANNELS:
        return "taps" if columns >= BACKWARD_MIN_COLUMNS else None
    col_bytes = channels * kernel[1] * kernel[2] * columns * np.dtype(dtype).itemsize
    return "blocked" if not want_dx and col_bytes >= COL_MIN_BYTES else None


@numba.njit(nogil=True, cache=True)
def _planes_channels_last(img, stride, pad, Hq, Wq, planes_t):
    """planes_t[k, c] = element k of channel c's phase planes, for the image's elements (the padding positions are
    not written: they stay 0). One image row at a time, so that the rows read (C x W) stay in L1 while planes_t's
    rows are written whole (0.6x the time of writing them a channel at a time)."""
    C, H, W = img.shape
    sh, sw = stride
    for iy in range(H):
        py, i = (iy + pad[0]) % sh, (iy + pad[0]) // sh
        for px in range(sw):
            lo, hi = valid_range(px - pad[1], sw, W, Wq)
            base = ((py * sw + px) * Hq + i) * Wq
            for j in range(lo, hi):
                row, ix = planes_t[base + j], j * sw + px - pad[1]
                for c in range(C):
                    row[c] = img[c, iy, ix]


@numba.njit(nogil=True, cache=True)
def _gather_planes(dplanes, stride, pad, Hq, Wq, add, dx):
    """dx[c, iy, ix] = (or += with add) channel c's phase-plane element of image element (iy, ix)."""
    C, H, W = dx.shape
    sh, sw = stride
    for c in range(C):
        for iy in range(H):
            py, i = (iy + pad[0]) % sh, (iy + pad[0]) // sh
            for px in range(sw):
                lo, hi = valid_range(px - pad[1], sw, W, Wq)
                src = dplanes[c, ((py * sw + px) * Hq + i) * Wq + lo:]
                dst = dx[c, iy, lo * sw + px - pad[1]:]
                if add:
                    for j in range(hi - lo):
                        dst[j * sw] += src[j]
                else:
                    for j in range(hi - lo):
                        dst[j * sw] = src[j]


@numba.njit(nogil=True, cache=True)
def _wide_rows(dy, Wq, wide):
    """wide[f, y * Wq + x] = dy[f, y, x] (the junk positions untouched: 0)."""
    F, OH, OW = dy.shape
    for f in range(F):
        for y in range(OH):
            dst, src = wide[f, y * Wq:], dy[f, y]
            for x in range(OW):
                dst[x] = src[x]


@numba.njit(nogil=True, cache=True)
def phase_taps_backward(dy, img, stride, pad, Hq, Wq, offsets, wide, planes_t, dplanes, wt, want_dx, add, dx,
                        want_dw, dwt):
    """The gradients of one sample (Note [phase-plane backward]): dy (F, OH, OW) into wide (F, L; junk 0); want_dw:
    img (C, H, W) into planes_t (length, C; padding 0), dwt[t] (F, C) += wide @ planes_t[offsets[t]:][:L];
    want_dx: dplanes (C, length) cleared, += wt[t].T @ wide at each tap's offset, and gathered into dx (C, H, W;
    written, or added to with add). float32 or float64, C-contiguous."""
    F, L = wide.shape
    C = img.shape[0]
    _wide_rows(dy, Wq, wide)
    if want_dw:
        _planes_channels_last(img, stride, pad, Hq, Wq, planes_t)
        for t in range(offsets.shape[0]):
            gemm(False, False, F, C, L, wide, L, planes_t[offsets[t]], C, 1.0, dwt[t], C)
    if want_dx:
        dplanes[:] = 0
        lda = dplanes.shape[1]
        for t in range(offsets.shape[0]):
            gemm(True, False, C, L, F, wt[t], C, wide, L, 1.0, dplanes[0, offsets[t]:], lda)
        _gather_planes(dplanes, stride, pad, Hq, Wq, add, dx)


@numba.njit(nogil=True, cache=True)
def blocked_weight_grad(dy, planes, offsets, Wq, rows, col, wide_t, dw_t):
    """dw_t (C * taps, F) += the transposed weight gradient of one sample in blocks of `rows` output rows (few
    channels, a large col): per block, its columns into col (`phase_cols`) and dy's rows in wide columns into wide_t
    transposed (width, F; junk 0; both flat buffers large enough), then dw_t += col @ wide_t, col read from L2 (a
    plain NN GEMM: the NT form dy @ col.T measured 1.4x its time). planes: the sample's (`fill_all_planes`)."""
    F, OH, OW = dy.shape
    K = dw_t.shape[0]
    for y0 in range(0, OH, rows):
        y1 = min(OH, y0 + rows)
        width = (y1 - y0 - 1) * Wq + OW
        block = wide_t[:width * F].reshape((width, F))
        block[:] = 0
        for y in range(y0, y1):
            for f in range(F):
                src = dy[f, y]
                for x in range(OW):
                    block[(y - y0) * Wq + x, f] = src[x]
        cols = col[:K * width].reshape((K, width))
        phase_cols(planes, offsets, y0 * Wq, cols)
        gemm(False, False, K, F, width, cols, width, block, F, 1.0, dw_t, F)


class _BackwardWorker:
    """One thread's part of `backward` for ops/cpu/conv_parallel.py's `reduce_over`: its own buffers, dx written per
    sample, the weight gradient summed per share."""

    def __init__(self, g, dy, x, wt, dx, add, want_dw):
        self.g, self.dy, self.x, self.wt, self.dx, self.add, self.want_dw = g, dy, x, wt, dx, add, want_dw
        dtype = x.dtype
        self.wide = np.zeros(g.out_shape, dtype)
        self.planes_t = np.zeros(g.planes_shape[::-1], dtype) if want_dw else None
        self.dplanes = np.empty(g.planes_shape, dtype) if dx is not None else None
        self.dwt = None

    def start(self, share):
        if self.want_dw:
            self.dwt = np.zeros(self.wt.shape, self.x.dtype)

    def finish(self):
        return self.dwt

    def __call__(self, i):
        g, want_dx = self.g, self.dx is not None
        phase_taps_backward(self.dy[i], self.x[i], g.stride, g.pad, g.Hq, g.Wq, g.offsets, self.wide,
                            self.planes_t if self.want_dw else self.wide, self.dplanes if want_dx else self.wide,
                            self.wt, want_dx, self.add, self.dx[i] if want_dx else self.x[i], self.want_dw,
                            self.dwt if self.want_dw else self.wt)


def backward(dy, x, w, geometry2, dx, add, want_dw, reduce_over, blocked=False):
    """The gradients of the per-tap forward (Note [phase-plane backward]): dx (N, C, H, W, C-contiguous; None: not
    wanted) written (add: added to), and the weight gradient (F, C * taps) returned where want_dw (else None),
    summed over the samples in `reduce_over`'s shares, added in share order (Note [a reduction's bits] in
    ops/cpu/conv_parallel.py). `blocked` (`backward_path` "blocked"): the weight gradient alone, in blocks of output
    rows. dy (N, F, OH, OW), x, w (F, C, KH, KW) C-contiguous, float32 or float64."""
    kernel, stride, pad, dilate = geometry2
    filters, taps = w.shape[0], kernel[0] * kernel[1]
    g = _Geometry(x.shape, dy.shape, kernel, stride, pad, dilate)
    flops = 2.0 * dy.size * w[0].size * (int(dx is not None) + int(want_dw))
    if blocked:
        make_worker = lambda: _BlockedWorker(g, dy, x, w[0].size)     # noqa: E731
    else:
        wt = tap_weights(w.reshape(filters, -1), taps)
        make_worker = lambda: _BackwardWorker(g, dy, x, wt, dx, add, want_dw)     # noqa: E731
    parts = reduce_over(x.shape[0], make_worker, flops)
    if not want_dw:
        return None
    total = None
    for part in parts:
        if part is not None:
            if total is None:
                total = part
            else:
                total += part
    return total.T if blocked else total.transpose(1, 2, 0).reshape(filters, -1)


class _BlockedWorker:
    """One thread's part of `backward`'s blocked weight gradient: its planes and block buffers, a sum per share."""

    def __init__(self, g, dy, x, depth):
        self.g, self.dy, self.x, self.depth = g, dy, x, depth
        dtype, (F, OH, OW) = x.dtype, dy.shape[1:]
        self.planes = g.planes(dtype)
        self.rows = max(1, min(OH, COL_BLOCK_BYTES // (depth * g.Wq * dtype.itemsize)))
        width = (self.rows - 1) * g.Wq + OW
        self.col, self.wide = np.empty(depth * width, dtype), np.empty(F * width, dtype)
        self.dw = None

    def start(self, share):
        self.dw = np.zeros((self.depth, self.dy.shape[1]), self.x.dtype)

    def finish(self):
        return self.dw

    def __call__(self, i):
        g = self.g
        fill_all_planes(self.x[i], g.stride, g.pad, g.Hq, g.Wq, self.planes)
        blocked_weight_grad(self.dy[i], self.planes, g.offsets, g.Wq, self.rows, self.col, self.wide, self.dw)
