"""The forward of strided 2-D convolutions as one GEMM per kernel tap over the phase planes of the padded image.

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
from .conv_depthwise import fill_planes, phase_geometry
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


def path(kernel, stride, pad, dilate, groups, img_dims, out_dims, channels, dtype):
    """How a Convolution's forward runs here: "taps" (one GEMM per tap), "blocked" (the col in blocks of rows) or
    None (not here). Here: 2-D (the 3-D view's depth 1), strided, one group, float32 or float64, no fewer taps than
    phase planes (else filling them reads more than the taps do), few junk columns; then "taps" with enough columns
    and channels and CBLAS bound (ops/cpu/cblas.py), "blocked" with fewer channels and a col too large for L2
    (module docstring)."""
    if (img_dims[0] != 1 or kernel[0] != 1 or pad[0] != 0 or stride[0] != 1 or stride[1:] == (1, 1)
            or groups != 1 or np.dtype(dtype) not in (np.float32, np.float64)
            or kernel[1] * kernel[2] < stride[1] * stride[2]):
        return None
    Wq = -(-(img_dims[2] + 2 * pad[2]) // stride[2])
    columns = (out_dims[1] - 1) * Wq + out_dims[2]
    if columns > (1 + MAX_WASTE) * out_dims[1] * out_dims[2]:
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
