"""The weight gradient of a 3x3 convolution by Winograd F(2x2, 3x3) (issue 17), beside the forward of
ops/cpu/winograd.py (its input transform, plane layout and tiles are shared).

Note [Winograd weight gradient]: the forward is y = A^T [(G g G^T) * (B^T d B)] A per tile and channel pair (the
matrices are in ops/cpu/winograd.py's docstring; * is element by element). Its gradient for the kernel g of
output channel f and input channel c is

    dW[f, c] = G^T M[f, c] G,    M[f, c] = sum over tiles t of (A dy_t A^T) * (B^T d_t B)

with dy_t the 2x2 block of dy[f] at the tile (zero beyond the output's edge) and d_t the 4x4 block of the
zero-padded x[c]. Per element e of the 4x4 transformed tile the sum over tiles is one GEMM over all of them,
M[e]^T (C x F) = V[e] (C x T) @ Y[e] (T x F), V the forward's input transform and Y the output gradient's, laid
out tiles-major so that BLAS reads both operands without a transpose. 16 GEMMs of C x F x T against the direct
sum's 9 of C x F x 4T: 2.25x fewer multiplies, plus the two transforms (C and F x 16 elements per tile) and
G^T M G once per call. The coefficients are 0, +-1 and +-1/2, so float32 stays close to the direct sum; M is
summed over the groups of samples in the compute dtype.
"""
import numba
import numpy as np

from .cblas import available, gemm
from .conv_epilogue import Activation, channel_args
from .winograd import applies, data_grad_transform, input_transform, output_transform, planes, tiles

__all__ = ["ENABLED", "data_grad", "pays", "weight_grad"]

ENABLED = True
# The data gradient too (Note [Winograd data gradient in bands]).
DATA_GRAD = True
# Tiles per GEMM: a band of one sample's tile rows, or a group of small samples, of about this many, so that V and Y
# stay in the core's L2 (the transforms are memory-bound: grouping whole 28x28 samples, 196 tiles each, into GEMMs
# of 512 tiles measured 0.88-1.0x the direct weight gradient, bands of 128 tiles 0.72-0.80x).
GROUP_TILES = 128
# Note [when the Winograd weight gradient pays]: measured against the channels-last per-tap weight gradient and the
# batched im2col one (one thread, process CPU time, medians of 7 interleaved, load ~10): (64 -> 64, 28x28, batch
# 32) 0.80x, (64 -> 96) 0.77x, (96 -> 96) 0.72x, (64, 56x56, batch 8) 0.78x, (128, 28x28, 8) 0.75x; but (256,
# 14x14, 8) 0.99-1.04x (49 tiles a sample) and (512, 7x7, 8) 2.3x (16 tiles a sample: the GEMMs sum over few tiles
# into a 16 x 512 x 512 M). So: at least MIN_TILES tiles per sample and MIN_CHANNELS to MAX_CHANNELS channels.
MIN_CHANNELS = 64
MAX_CHANNELS = 256
MIN_TILES = 128


def pays(p, kernel, stride, dilate, x_shape, dy_shape, dtype):
    """Whether the weight gradient of this convolution runs by Winograd: where it can (a 2-D 3x3 convolution
    with unit stride and dilation and one group, float32 or float64, numpy's BLAS callable from numba) and where it
    measured faster (Note [when the Winograd weight gradient pays])."""
    if not ENABLED or not applies(kernel, stride, dilate, p.num_group, len(p.kernel), dtype) or not available():
        return False
    tiles_h, tiles_w = tiles(*dy_shape[2:])
    channels = (x_shape[1], dy_shape[1])
    return MIN_CHANNELS <= min(channels) and max(channels) <= MAX_CHANNELS and tiles_h * tiles_w >= MIN_TILES


@numba.njit(nogil=True, cache=True)
def channels_last(dy, dy_t):
    """dy_t[r, c, f] = dy[f, r, c] for dy (F, OH, OW) (dy_t may be larger: its edge is left as it is). One row r
    at a time, so that the rows read (F x OW) stay in L1 while dy_t is written in order (measured, one thread, batch
    8: 64 x 56x56 3.5 -> 0.6 ms, 128 x 28x28 1.7 -> 0.3, against f outermost)."""
    F, OH, OW = dy.shape
    for r in range(OH):
        dst = dy_t[r]
        for c in range(OW):
            row = dst[c]
            for f in range(F):
                row[f] = dy[f, r, c]


@numba.njit(nogil=True, cache=True)
def output_grad_transform(dy_t, tiles_h, tiles_w, y, step, t0):
    """y[e * step + (t0 + ty * tiles_w + tx) * F + f] = (A d A^T)[e // 4, e % 4] (y: the flat buffer of `planes`, a
    plane every `step` elements) for dy_t (>= 2 tiles_h, >= 2 tiles_w, F) an output gradient channels-last, d the
    2x2 block of dy_t[..., f] at rows 2 ty, 2 ty + 1 and columns 2 tx, 2 tx + 1; A = [[1, 0], [1, 1], [1, -1],
    [0, -1]].
    dy_t: dy channels-last (`channels_last`), so the loop over f reads and writes contiguous runs."""
    F = dy_t.shape[2]
    for ty in range(tiles_h):
        top, bottom = dy_t[2 * ty], dy_t[2 * ty + 1]
        for tx in range(tiles_w):
            o = (t0 + ty * tiles_w + tx) * F
            a00, a01, a10, a11 = top[2 * tx], top[2 * tx + 1], bottom[2 * tx], bottom[2 * tx + 1]
            y0, y1, y2, y3 = y[o:o + F], y[step + o:step + o + F], y[2 * step + o:2 * step + o + F], \
                y[3 * step + o:3 * step + o + F]
            y4, y5, y6, y7 = y[4 * step + o:4 * step + o + F], y[5 * step + o:5 * step + o + F], \
                y[6 * step + o:6 * step + o + F], y[7 * step + o:7 * step + o + F]
            y8, y9, y10, y11 = y[8 * step + o:8 * step + o + F], y[9 * step + o:9 * step + o + F], \
                y[10 * step + o:10 * step + o + F], y[11 * step + o:11 * step + o + F]
            y12, y13, y14, y15 = y[12 * step + o:12 * step + o + F], y[13 * step + o:13 * step + o + F], \
                y[14 * step + o:14 * step + o + F], y[15 * step + o:15 * step + o + F]
            for f in range(F):
                d00, d01, d10, d11 = a00[f], a01[f], a10[f], a11[f]
                # rows of A d: d0, d0 + d1, d0 - d1, -d1; then each row (p, q) times A^T: p, p + q, p - q, -q
                p1, q1, p2, q2 = d00 + d10, d01 + d11, d00 - d10, d01 - d11
                y0[f], y1[f], y2[f], y3[f] = d00, d00 + d01, d00 - d01, -d01
                y4[f], y5[f], y6[f], y7[f] = p1, p1 + q1, p1 - q1, -q1
                y8[f], y9[f], y10[f], y11[f] = p2, p2 + q2, p2 - q2, -q2
                y12[f], y13[f], y14[f], y15[f] = -d10, -d10 - d11, d11 - d10, d11


@numba.njit(nogil=True, cache=True)
def _accumulate(v, y, step, columns, m):
    """m[e] (C x F) += v[e][:, :columns] @ Y[e][:columns] for the 16 elements, v planes with contiguous rows and
    Y[e] the (columns, F) matrix at y[e * step]."""
    C, F = m.shape[1], m.shape[2]
    ldv = v.strides[1] // v.itemsize
    for e in range(16):
        gemm(False, False, C, F, columns, v[e], ldv, y[e * step:], F, 1.0, m[e], F)


@numba.njit(nogil=True, cache=True)
def weight_untransform(m, dw):
    """dw[f, c] (3 x 3) = G^T M G with M[i, j] = m[4 i + j, c, f] (the sum in float64, rounded once).
    G^T = [[1, 1/2, 1/2, 0], [0, 1/2, -1/2, 0], [0, 1/2, 1/2, 1]]."""
    F, C = dw.shape[0], dw.shape[1]
    t = np.empty((3, 4))
    for f in range(F):
        for c in range(C):
            for j in range(4):
                m0, m1, m2, m3 = (np.float64(m[j, c, f]), np.float64(m[4 + j, c, f]), np.float64(m[8 + j, c, f]),
                                  np.float64(m[12 + j, c, f]))
                t[0, j] = m0 + 0.5 * (m1 + m2)
                t[1, j] = 0.5 * (m1 - m2)
                t[2, j] = 0.5 * (m1 + m2) + m3
            for i in range(3):
                r0, r1, r2, r3 = t[i, 0], t[i, 1], t[i, 2], t[i, 3]
                dw[f, c, i, 0] = r0 + 0.5 * (r1 + r2)
                dw[f, c, i, 1] = 0.5 * (r1 - r2)
                dw[f, c, i, 2] = 0.5 * (r1 + r2) + r3


class _Worker:
    """One thread's part: its padded image, V and Y for a group of samples or a band of one sample's tile rows,
    and a sum M (16, C, F) per share of the items (ops/cpu/conv_parallel.py `reduce_over`). Item k is samples
    k * per_group ... (per_group > 0), else band k % bands of sample k // bands."""

    def __init__(self, x, dy, pad, per_group, bands):
        channels, filters = x.shape[1], dy.shape[1]
        self.x, self.dy, self.pad, self.per_group, self.bands = x, dy, pad, per_group, bands
        self.tiles_h, self.tiles_w = tiles(*dy.shape[2:])
        self.per_sample = self.tiles_h * self.tiles_w
        columns = per_group * self.per_sample if per_group else -(-self.tiles_h // bands) * self.tiles_w
        self.padded = np.zeros((channels, 2 * self.tiles_h + 2, 2 * self.tiles_w + 2), x.dtype)  # borders stay 0
        self.dy_t = np.zeros((2 * self.tiles_h, 2 * self.tiles_w, filters), x.dtype)     # edge stays 0
        self.v = planes(channels, columns, x.dtype, "wgrad v")
        y = planes(columns, filters, x.dtype, "wgrad y")
        self.y_step = y.strides[0] // y.itemsize
        self.y_flat = np.lib.stride_tricks.as_strided(y, (16 * self.y_step,), (y.itemsize,))
        self.m, self.ran, self.sample = None, False, -1

    def start(self, share):
        self.m, self.ran = np.zeros((16, self.x.shape[1], self.dy.shape[1]), self.x.dtype), False

    def finish(self):
        return self.m if self.ran else None

    def _load(self, i):
        """Sample i's padded image and channels-last output gradient."""
        if i != self.sample:
            (ph, pw), (h, w) = self.pad, self.x.shape[2:]
            self.padded[:, ph:ph + h, pw:pw + w] = self.x[i]
            channels_last(self.dy[i], self.dy_t)
            self.sample = i

    def __call__(self, k):
        self.ran = True
        if not self.per_group:
            i, band = divmod(k, self.bands)
            ty0, ty1 = self.tiles_h * band // self.bands, self.tiles_h * (band + 1) // self.bands
            self._load(i)
            input_transform(self.padded[:, 2 * ty0:2 * ty1 + 2], ty1 - ty0, self.tiles_w, self.v, 0)
            output_grad_transform(self.dy_t[2 * ty0:2 * ty1], ty1 - ty0, self.tiles_w, self.y_flat, self.y_step, 0)
            _accumulate(self.v, self.y_flat, self.y_step, (ty1 - ty0) * self.tiles_w, self.m)
            return
        n, T = self.x.shape[0], self.per_sample
        i0, i1 = k * self.per_group, min(n, (k + 1) * self.per_group)
        for j, i in enumerate(range(i0, i1)):
            self._load(i)
            input_transform(self.padded, self.tiles_h, self.tiles_w, self.v, j * T)
            output_grad_transform(self.dy_t, self.tiles_h, self.tiles_w, self.y_flat, self.y_step, j * T)
        _accumulate(self.v, self.y_flat, self.y_step, (i1 - i0) * T, self.m)


def weight_grad(x, dy, pad, reduce_over):
    """The weight gradient (F, C, 3, 3) of a 2-D 3x3 convolution with unit stride and dilation, one group and
    `pad` (h, w), of x (N, C, H, W) for dy (N, F, OH, OW) (C-contiguous, float32 or float64): groups of samples over
    `reduce_over` (ops/cpu/conv_parallel.py), an M summed per share."""
    n, channels = x.shape[:2]
    filters = dy.shape[1]
    tiles_h, tiles_w = tiles(*dy.shape[2:])
    per_sample = tiles_h * tiles_w
    # small images: samples grouped up to GROUP_TILES tiles; larger ones: bands of tile rows of about that many
    per_group = min(n, GROUP_TILES // per_sample)
    bands = 1 if per_group else min(tiles_h, -(-per_sample // GROUP_TILES))
    items = -(-n // per_group) if per_group else n * bands
    partials = reduce_over(items, lambda: _Worker(x, dy, pad, per_group, bands),
                           2.0 * 16 * channels * filters * per_sample * n)
    sums = [m for m in partials if m is not None]
    m = sums[0] if sums else np.zeros((16, channels, filters), x.dtype)
    for other in sums[1:]:
        m += other
    dw = np.empty((filters, channels, 3, 3), x.dtype)
    weight_untransform(m, dw)
    return dw


# Note [Winograd data gradient in bands]: the data gradient of a unit-stride 3x3 convolution with pad q is the
# convolution of dy, padded by 2 - q, with the flipped, transposed weights (ops/cpu/conv.py `_winograd_data_grad`,
# which runs the forward of ops/cpu/winograd.py over groups of whole samples). Here it runs over bands of one
# sample's tile rows of about GROUP_TILES tiles, as the weight gradient above, so that the transformed tiles stay
# in L2; with the same thresholds (`pays`).

class _DataWorker:
    """One thread's share of `data_grad`: item k is band k % bands of sample k // bands."""

    def __init__(self, dy, u, pad, out, bands):
        filters, channels = dy.shape[1], out.shape[1]
        self.dy, self.u, self.pad, self.out, self.bands = dy, u, pad, out, bands
        self.tiles_h, self.tiles_w = tiles(*out.shape[2:])
        columns = -(-self.tiles_h // bands) * self.tiles_w
        self.padded = np.zeros((filters, 2 * self.tiles_h + 2, 2 * self.tiles_w + 2), dy.dtype)   # borders 0
        self.v = planes(filters, columns, dy.dtype, "dgrad v")
        self.m = planes(channels, columns, dy.dtype, "dgrad m")
        self.epilogue = channel_args(None, None, channels, dy.dtype) + Activation.none(dy.dtype).args()
        self.sample = -1

    def __call__(self, k):
        i, band = divmod(k, self.bands)
        if i != self.sample:
            (ph, pw), (h, w) = self.pad, self.dy.shape[2:]
            self.padded[:, ph:ph + h, pw:pw + w] = self.dy[i]
            self.sample = i
        ty0, ty1 = self.tiles_h * band // self.bands, self.tiles_h * (band + 1) // self.bands
        columns = (ty1 - ty0) * self.tiles_w
        input_transform(self.padded[:, 2 * ty0:2 * ty1 + 2], ty1 - ty0, self.tiles_w, self.v, 0)
        _multiply(self.u, self.v, columns, self.m)
        rows = self.out[i][:, 2 * ty0:min(2 * ty1, self.out.shape[2])]
        output_transform(self.m, 0, self.tiles_w, *self.epilogue, rows)


@numba.njit(nogil=True, cache=True)
def _multiply(u, v, columns, m):
    """m[e][:, :columns] = u[e] (C x F) @ v[e][:, :columns] for the 16 elements (planes with contiguous rows; u's
    may be the transposed view of such planes, `data_grad_transform`)."""
    C, F = u.shape[1], u.shape[2]
    trans = u.strides[2] != u.itemsize or u.strides[1] < F * u.itemsize      # rows not contiguous: transposed
    ldu = (u.strides[2] if trans else u.strides[1]) // u.itemsize
    ldv, ldm = v.strides[1] // v.itemsize, m.strides[1] // m.itemsize
    for e in range(16):
        gemm(trans, False, C, columns, F, u[e], ldu, v[e], ldv, 0.0, m[e], ldm)


def data_grad(dy, w, pad, out, for_each):
    """out (N, C, H, W) = the data gradient of a 2-D 3x3 convolution with unit stride and dilation, one group and
    `pad` (h, w) <= 2, for dy (N, F, OH, OW) and w (F, C, 3, 3) (C-contiguous, float32 or float64; out may be a
    strided view with C-contiguous rows): Note [Winograd data gradient in bands]."""
    n, filters = dy.shape[:2]
    channels = w.shape[1]
    u = data_grad_transform(w, dy.dtype)
    tiles_h, tiles_w = tiles(*out.shape[2:])
    bands = min(tiles_h, max(1, -(-tiles_h * tiles_w // GROUP_TILES)))
    for_each(n * bands, lambda: _DataWorker(dy, u, (2 - pad[0], 2 - pad[1]), out, bands),
             2.0 * 16 * channels * filters * tiles_h * tiles_w * n)
