"""Convolution's gradient GEMMs laid out for BLAS (issue 17): the weight gradient per tap over a channels-last
padded image, and the im2col backward of several samples in one GEMM. `BackwardWorker` is one thread's share of
ops/cpu/conv.py's `_conv_backward`.

Note [channels-last weight gradient]: per kernel tap t the weight gradient is dW_t (F, C) += dy (F, L) @ P_t (L, C),
where P_t holds the padded image's values at the tap's wide columns (Note [wide columns] in ops/cpu/conv_unfold.py).
Over the (C, length) padded image P_t is a transposed operand, and OpenBLAS runs that small-output, long-K GEMM
at ~100 GFLOP/s here; over the same image stored channels-last, (length, C), P_t is the contiguous row block
flatT[offsets[t] : offsets[t] + L] with leading dimension C, a plain NN GEMM. Measured (one thread, process CPU
time, per tap GEMMs of a whole batch, medians of 7, load ~3): (96 -> 96, 28x28) 106 -> 127 GFLOP/s, (64, 56x56)
89 -> 110, (128, 28x28) 116 -> 137, (256, 14x14) 131 -> 144; the transposing copy costs ~3% of the GEMMs. The
data gradient keeps the (C, length) layout: W_t.T @ dy into it already ran at ~140 GFLOP/s, and the NN form
over channels-last dy measured no better.

Note [batched backward]: plain im2col gives one GEMM per sample whose inner dimension is the sample's output
positions, L: 49 at 7x7. dW = dy @ col.T with K = 49 ran at ~60 GFLOP/s and its (F, C*k) result, 9 MB at 512 x
4608, was then added into the sum sample by sample. With several samples' columns side by side (col and dy as
(rows, n*L)) dW is one GEMM with K = n*L straight into the thread's sum (155 GFLOP/s at K = 392 for 512 x 4608),
and the data gradient's W.T @ dy one GEMM n*L wide. Chunks hold about BATCH_COLUMNS columns (and no more samples
than each thread's share of the batch).
"""
import numba
import numpy as np

from ..registry import ADD
from .cblas import gemm
from .conv_depthwise import interior
from .conv_taps import tap_weights, taps_backward
from .conv_unfold import group_gemm

__all__ = ["BATCH_COLUMNS", "CHANNELS_LAST_DW", "BackwardWorker", "chunk_samples", "taps_backward_cl"]

# The weight gradient of the per-tap path over a channels-last image (Note [channels-last weight gradient]).
CHANNELS_LAST_DW = True
# Note [batched backward]: about this many GEMM columns per chunk of samples (0: one sample per GEMM).
BATCH_COLUMNS = 400


def chunk_samples(batch, columns, threads):
    """Samples per GEMM of the batched im2col backward (Note [batched backward]): enough for BATCH_COLUMNS
    columns, at most each thread's share of the batch; 1 where one sample is wide enough."""
    if BATCH_COLUMNS <= 0 or columns >= BATCH_COLUMNS:
        return 1
    return max(1, min(-(-BATCH_COLUMNS // columns), -(-batch // max(1, threads))))


@numba.njit(nogil=True, cache=True)
def _interior_channels_last(img, pad, padded, flat_t):
    """flat_t[((z + p0) * Hp + y + p1) * Wp + x + p2, c] = img[c, z, y, x]: img (C, D, H, W) into the interior of
    the channels-last zero-padded image (its padding untouched)."""
    C, D, H, W = img.shape
    Hp, Wp = padded[1], padded[2]
    for z in range(D):
        for y in range(H):
            base = ((z + pad[0]) * Hp + y + pad[1]) * Wp + pad[2]
            for x in range(W):
                row = flat_t[base + x]
                for c in range(C):
                    row[c] = img[c, z, y, x]


@numba.njit(nogil=True, cache=True)
def taps_backward_cl(dy, img, pad, padded, flat_t, dflat, wt, offsets, groups, want_dx, dx, want_dw, dwt):
    """The gradients of one sample of the per-tap convolution (ops/cpu/conv_taps.py), dy (F, L) its output gradient
    in wide columns (junk positions 0). want_dw: img (C, D, H, W) is written into the interior of flat_t (length, C;
    its padding stays 0) and per tap t and group g, dwt[t, g] (F/g, C/g) += dy_g @ flat_t[offsets[t]:][:L, g]
    (Note [channels-last weight gradient]). want_dx: dflat (C, length) is cleared, dflat_g[:, offsets[t]:][:, :L]
    += wt[t, g].T @ dy_g per tap, and dx (C, D, H, W) += its interior. float32 or float64, C-contiguous."""
    C = img.shape[0]
    F, L = dy.shape
    cg, fg = C // groups, F // groups
    if want_dw:
        _interior_channels_last(img, pad, padded, flat_t)
        for t in range(offsets.shape[0]):
            for g in range(groups):
                gemm(False, False, fg, cg, L, dy[g * fg], L, flat_t[offsets[t], g * cg:], C, 1.0, dwt[t, g * fg],
                     cg)
    if want_dx:
        dflat[:] = 0
        lda = dflat.shape[1]
        for t in range(offsets.shape[0]):
            for g in range(groups):
                gemm(True, False, cg, L, fg, wt[t, g * fg], cg, dy[g * fg], L, 1.0, dflat[g * cg, offsets[t]:], lda)
        for c in range(C):
            interior(dx[c], pad, padded, dflat[c], True)


class BackwardWorker:
    """One thread's part of a convolution's backward, run by ops/cpu/conv_parallel.py's `reduce_over`: its own
    unfolding and buffers, dx written per sample, the weight gradient summed per share of the batch (`start(s)`,
    `finish()`; the caller adds the shares' sums). Items are chunks of samples: one sample each, or with plain or
    wide im2col several side by side in one GEMM (Note [batched backward])."""

    def __init__(self, p, dy, x, w2, dx, dw, transposed, unfold, chunks, dw_out):
        """dx, dw: the caller's accumulators (ops/cpu/conv.py `_Accumulator`) or None; unfold: this thread's
        unfolding (ops/cpu/conv_unfold.py); chunks: items over the batch; dw_out: None, or the array (w2's shape)
        the first share's weight gradient sum is to be written in."""
        g, cdt = p.num_group, x.dtype
        self.p, self.dy, self.x, self.w2, self.dx, self.transposed = p, dy, x, w2, dx, transposed
        self.unfold = unfold
        self.chunks = chunks
        per = -(-x.shape[0] // chunks)
        # unit stride, wide columns: one GEMM per tap over the padded image for both gradients, no col, no col2im
        self.taps = not transposed and unfold.taps
        self.want_dw = want_dw = dw is not None
        # the share's summed weight gradient: written by its first GEMM (into dw_out for share 0 where given), None
        # until then
        self.dw_sum, self.dw_out, self.dw_target = None, dw_out, None
        self.dw_part = None
        self.sums_dw = want_dw and not self.taps
        if self.taps:
            taps = len(unfold.offsets)
            # the weights per tap, read by the data gradient only (else empty: a copy of 512 x 512 x 3 x 3 weights
            # costs ~2 ms), and the share's per-tap sum (`start`), empty where dw is not wanted
            self.tap_shape = (taps, w2.shape[0], w2.shape[1] // taps)
            self.w_taps = tap_weights(w2, taps) if dx is not None else np.empty((0, 0, 0), cdt)
            self.dw_taps = np.empty((0, 0, 0), cdt)
            # Note [channels-last weight gradient]: the padded image as (length, C), its padding 0
            self.flat_t = np.zeros((unfold.flat.shape[1], x.shape[1]), cdt) if want_dw else unfold.flat
        # 1x1, unit stride, no padding: dx[n] = W.T @ dy[n] straight into a cleared dx, no col2im
        self.direct_dx = (not transposed and per == 1 and dx is not None and unfold.identity and dx.req != ADD
                          and dx.buf.flags.c_contiguous)
        self.dcol = None
        if dx is not None and not self.direct_dx and not self.taps:
            self.dcol = np.empty((x.shape[1], unfold.L) if transposed else (w2.shape[1] * g, per * unfold.L), cdt)
        if per > 1:     # a chunk's columns: dy's (junk positions stay 0) and the samples' unfoldings
            self.dy_cols = np.zeros(w2.shape[0] * per * unfold.L, cdt)
            self.x_cols = np.empty(w2.shape[1] * g * per * unfold.L, cdt) if want_dw else None

    def start(self, share):
        """Begin a share of the batch: a new weight gradient sum."""
        self.dw_sum, self.dw_target = None, self.dw_out if share == 0 else None
        if self.taps and self.want_dw:
            self.dw_taps = np.zeros(self.tap_shape, self.x.dtype)

    def finish(self):
        """The share's summed weight gradient, shaped like w2 (None where it ran no GEMM)."""
        if self.taps:
            return self.dw_taps.transpose(1, 2, 0).reshape(self.w2.shape) if self.want_dw else None
        return self.dw_sum

    def __call__(self, k):
        n = self.x.shape[0]
        i0, i1 = k * n // self.chunks, (k + 1) * n // self.chunks
        if self.chunks == n:
            if self.transposed:
                self._deconvolution(i0)
            else:
                self._convolution(i0)
        else:
            self._samples(i0, i1)

    def _add_weight_grad(self, dyi, col):
        """The thread's sum += the weight gradient of GEMM columns dyi (F, .) and col (C/g * k, .)."""
        g = self.p.num_group
        if self.dw_sum is None:
            self.dw_sum = self.dw_target if self.dw_target is not None else np.empty(self.w2.shape, self.x.dtype)
            group_gemm(dyi, col, self.dw_sum, g, trans_b=True)
            return
        if self.dw_part is None:
            self.dw_part = np.empty(self.w2.shape, self.x.dtype)
        group_gemm(dyi, col, self.dw_part, g, trans_b=True)
        self.dw_sum += self.dw_part

    def _convolution(self, i):
        g, unfold, w2 = self.p.num_group, self.unfold, self.w2
        dyi = unfold.ext(self.dy[i])
        if self.taps:
            want_dx = self.dx is not None
            dxi = self.dx.buf[i].reshape(unfold.img_shape) if want_dx else self.x[i].reshape(unfold.img_shape)
            xi = self.x[i].reshape(unfold.img_shape)
            want_dw = self.want_dw
            if CHANNELS_LAST_DW:
                backward, image = taps_backward_cl, self.flat_t
            else:
                backward, image = taps_backward, unfold.flat
            backward(dyi, xi, unfold.pad, unfold.padded, image, unfold.fold_buffer(), self.w_taps, unfold.offsets, g,
                     want_dx, dxi, want_dw, self.dw_taps)
        elif self.direct_dx:
            group_gemm(w2, dyi, self.dx.buf[i].reshape(-1, unfold.L), g, trans_a=True)
        elif self.dx is not None:
            group_gemm(w2, dyi, self.dcol, g, trans_a=True)
            unfold.fold_into(self.dcol, self.dx.buf[i])
        if self.sums_dw:
            self._add_weight_grad(dyi, unfold.cols(self.x[i]))

    def _samples(self, i0, i1):
        """Samples i0 .. i1 - 1 of a convolution with their columns side by side: one GEMM per gradient."""
        g, unfold, w2 = self.p.num_group, self.unfold, self.w2
        L, width = unfold.L, (i1 - i0) * unfold.L
        dyc = self.dy_cols[:w2.shape[0] * width].reshape(w2.shape[0], width)
        for j, i in enumerate(range(i0, i1)):
            unfold.ext_into(self.dy[i], dyc[:, j * L:(j + 1) * L])
        if self.dx is not None:
            dcol = self.dcol.reshape(-1)[:self.dcol.shape[0] * width].reshape(-1, width)
            group_gemm(w2, dyc, dcol, g, trans_a=True)
            for j, i in enumerate(range(i0, i1)):
                unfold.fold_into(dcol[:, j * L:(j + 1) * L], self.dx.buf[i])
        if self.sums_dw:
            col = self.x_cols[:w2.shape[1] * g * width].reshape(-1, width)
            for j, i in enumerate(range(i0, i1)):
                unfold.cols_into(self.x[i], col[:, j * L:(j + 1) * L])
            self._add_weight_grad(dyc, col)

    def _deconvolution(self, i):
        g, unfold, w2 = self.p.num_group, self.unfold, self.w2
        col = unfold.cols(self.dy[i])
        if self.dx is not None:
            group_gemm(w2, col, self.dcol, g)
            unfold.crop(self.dcol, self.dx.buf[i], add=True)
        if self.sums_dw:
            self._add_weight_grad(unfold.ext(self.x[i]), col)
