"""Unfoldings of Convolution's CPU kernels (ops/cpu/conv.py): one sample's image as GEMM columns, the GEMM's
output cropped back (through the epilogue of ops/cpu/conv_epilogue.py: scale, bias, activation), and the
per-group GEMM. The plain unfolding also runs a share of a sample's output rows (`forward_rows`) or several
samples in one GEMM (`forward_samples`).

Two unfoldings (see Note [wide columns]): `_Unfold`, plain im2col for any stride, and `_WideUnfold` for unit
strides, where each col row is one contiguous slice of the zero-padded image. A 1x1 kernel with unit stride and
no padding needs no unfolding at all: col is the sample itself. The col buffer holds one sample, so memory stays
bounded by C * prod(kernel) * prod(out) elements whatever the batch.

Note [wide columns]: with unit strides, output (z, y, x) at kernel offset (a, b, e) reads padded-image element
(z + a*dd, y + b*dh, x + e*dw). Number output positions in the padded image's own row pitch, j = (z*Hp + y)*Wp + x
over z < OD, y < Hp, x < Wp; then col[(c, a, b, e), j] = padded_flat[c, j + ((a*dd)*Hp + b*dh)*Wp + e*dw]: one
memcpy of OD*Hp*Wp elements per row instead of OD*OH short strided runs. The positions with y >= OH or x >= OW
are junk: the GEMM computes them too (Wp/OW - 1 extra work, ~7% at 28x28 with pad 1) and they are cropped from
the output, and zero-filled in output gradients so that they add nothing to dW or dx. Measured on 2 cores at
(32, 64, 28, 28) 3x3 pad 1: im2col 8.5 ms -> 4.7 ms per batch, against 8 ms for the GEMMs themselves.

With wide columns and at least TAPS_MIN_COLUMNS columns, the forward and the backward need no col at all: one GEMM
per kernel tap reads the padded image in place (ops/cpu/conv_taps.py).
"""
import numba
import numpy as np

from .common import F32, same_memory
from .conv_epilogue import Activation, channel_args, epilogue, epilogue_in_place
from .conv_depthwise import fill_planes, interior, phase_geometry
from .conv_depthwise import valid_range as _valid_range
from .cblas import available as taps_available
from .conv_taps import tap_weights, taps_forward

__all__ = ["group_gemm", "unfolding"]

# Use the wide unfolding while its junk columns cost at most this fraction of extra GEMM work (the forward's own
# limit: FORWARD_WIDE_MAX_WASTE).
WIDE_MAX_WASTE = 0.3
# With wide columns, Convolution and its backward run one GEMM per kernel tap over the padded image, no col
# (ops/cpu/conv_taps.py), where they can and the GEMMs have at least TAPS_MIN_COLUMNS columns (measured forward:
# 0.75x im2col's time at 28x28 and 56x56, 0.93x at 14x14 (222 columns), 1.17x at 7x7 (61 columns)).
TAPS = True
TAPS_MIN_COLUMNS = 150
# The forward alone (issue 17, batch 1, 3x3, one thread, CPU time, median of 7 interleaved rounds on a loaded
# machine): per tap / wide im2col / plain im2col 2.2 / 3.2 / 3.6 ms at (64, 56x56), 1.9 / 2.3 / 2.6 at (128,
# 28x28), 2.8 / 2.3 / 2.3 at (256, 14x14), 7.0 / 3.2 / 2.8 at (512, 7x7): per tap from 400 columns only, and
# wide columns only while nearly free.
FORWARD_TAPS_MIN_COLUMNS = 400
FORWARD_WIDE_MAX_WASTE = 0.1


# ---------------------------------------------------------------------------------------------------------------
# im2col / col2im
# ---------------------------------------------------------------------------------------------------------------

@numba.njit(nogil=True, cache=True)
def _im2col(img, kernel, stride, pad, dilate, out_dims, rows, col):
    """col[(c, a, b, e), (z, y, x)] = img[c, z*s0 - p0 + a*d0, y*s1 - p1 + b*d1, x*s2 - p2 + e*d2], 0 outside, for
    the output rows z * OH + y in [rows[0], rows[1]) only (col's columns start at the first of them)."""
    C, D, H, W = img.shape
    OD, OH, OW = out_dims
    row = 0
    for c in range(C):
        for a in range(kernel[0]):
            for b in range(kernel[1]):
                for e in range(kernel[2]):
                    off_w = e * dilate[2] - pad[2]
                    lo, hi = _valid_range(off_w, stride[2], W, OW)
                    j = 0
                    z, y = rows[0] // OH, rows[0] % OH - 1
                    for _ in range(rows[0], rows[1]):
                        y += 1
                        if y == OH:
                            z, y = z + 1, 0
                        iz = z * stride[0] - pad[0] + a * dilate[0]
                        iy = y * stride[1] - pad[1] + b * dilate[1]
                        if iz < 0 or iz >= D or iy < 0 or iy >= H:
                            for x in range(OW):
                                col[row, j + x] = 0
                        else:
                            for x in range(lo):
                                col[row, j + x] = 0
                            if stride[2] == 1:      # a plain copy, which LLVM vectorises
                                src, dst = img[c, iz, iy, lo + off_w:], col[row, j + lo:]
                                for x in range(hi - lo):
                                    dst[x] = src[x]
                            else:
                                for x in range(lo, hi):
                                    col[row, j + x] = img[c, iz, iy, x * stride[2] + off_w]
                            for x in range(hi, OW):
                                col[row, j + x] = 0
                        j += OW
                    row += 1


@numba.njit(nogil=True, cache=True)
def _col2im(col, kernel, stride, pad, dilate, out_dims, img):
    """The transpose of _im2col: img[c, z*s0 - p0 + a*d0, ...] += col[(c, a, b, e), (z, y, x)] (img not cleared)."""
    C, D, H, W = img.shape
    OD, OH, OW = out_dims
    row = 0
    for c in range(C):
        for a in range(kernel[0]):
            for b in range(kernel[1]):
                for e in range(kernel[2]):
                    off_w = e * dilate[2] - pad[2]
                    lo, hi = _valid_range(off_w, stride[2], W, OW)
                    j = 0
                    for z in range(OD):
                        iz = z * stride[0] - pad[0] + a * dilate[0]
                        for y in range(OH):
                            iy = y * stride[1] - pad[1] + b * dilate[1]
                            if iz >= 0 and iz < D and iy >= 0 and iy < H:
                                if stride[2] == 1:
                                    dst, src = img[c, iz, iy, lo + off_w:], col[row, j + lo:]
                                    for x in range(hi - lo):
                                        dst[x] += src[x]
                                else:
                                    for x in range(lo, hi):
                                        img[c, iz, iy, x * stride[2] + off_w] += col[row, j + x]
                            j += OW
                    row += 1


@numba.njit(nogil=True, cache=True)
def _wide_im2col(img, pad, padded, offsets, flat, col):
    """Note [wide columns]: copy img into the interior of the zero-padded flat image, then col[r] is the slice of
    length col.shape[1] at offsets[r % len(offsets)] of channel r // len(offsets)."""
    for c in range(img.shape[0]):
        interior(img[c], pad, padded, flat[c], False)
    K, L = len(offsets), col.shape[1]
    for r in range(col.shape[0]):
        dst, src = col[r], flat[r // K, offsets[r % K]:]
        for j in range(L):
            dst[j] = src[j]


@numba.njit(nogil=True, cache=True)
def _wide_col2im(col, pad, padded, offsets, flat, img):
    """The transpose of _wide_im2col: img += the interior of the sum of col's rows placed at their offsets."""
    C = img.shape[0]
    flat[...] = 0
    K, L = len(offsets), col.shape[1]
    for r in range(col.shape[0]):
        dst, src = flat[r // K, offsets[r % K]:], col[r]
        for j in range(L):
            dst[j] += src[j]
    for c in range(C):
        interior(img[c], pad, padded, flat[c], True)


class _Unfold:
    """Plain im2col between one sample's image (C, *img_dims) and col (C * prod(kernel), prod(out_dims)).

    `cols(img)` -> col; `fold_into(col, img)`: img += col2im(col); `ext(out)`: an output-side array (F, *out_dims)
    as GEMM columns (F, L); `crop(ext, dst)`: the real outputs of GEMM columns into dst (F, *out_dims), in place
    of dst when `gemm_out(dst)` gave dst's own memory."""

    wide = False            # GEMM columns are the output positions themselves, no junk

    def __init__(self, channels, img_dims, out_dims, kernel, stride, pad, dilate, dtype):
        self.geometry = (kernel, stride, pad, dilate, out_dims)
        self.img_shape = (channels,) + img_dims
        self.identity = kernel == (1, 1, 1) and stride == (1, 1, 1) and pad == (0, 0, 0) and img_dims == out_dims
        self.taps = False
        self.rows_split = not self.identity     # `forward_rows` can run a share of the output rows
        self.batches = True                     # `forward_samples` can run several samples in one GEMM
        self.L = int(np.prod(out_dims))
        self.col = None if self.identity else np.empty((channels * int(np.prod(kernel)), self.L), dtype)

    def cols(self, img):
        if self.identity:
            return img.reshape(self.img_shape[0], -1)
        out_dims = self.geometry[-1]
        _im2col(img.reshape(self.img_shape), *self.geometry, (0, out_dims[0] * out_dims[1]), self.col)
        return self.col

    def cols_into(self, img, block):
        """`cols(img)` written into block (rows, L), a column block of a chunk of samples' col (Note [batched
        backward] in ops/cpu/conv_grads.py)."""
        if self.identity:
            block[...] = img.reshape(block.shape)
        else:
            out_dims = self.geometry[-1]
            _im2col(img.reshape(self.img_shape), *self.geometry, (0, out_dims[0] * out_dims[1]), block)

    def ext_into(self, out, block):
        """`ext(out)` written into block (F, L), a column block of a chunk of samples' GEMM columns."""
        block[...] = out.reshape(block.shape)

    def forward_rows(self, weights, img, rows, col, out, dst, bias, act, scale):
        """A thread's share of one sample's forward, split by output rows (z * OH + y in [rows[0], rows[1])): its
        columns unfolded into col, out = weights @ col (col and out: this thread's (K, >= n), (F, >= n) buffers,
        n = the share's columns), cropped with the epilogue into those rows of dst (F, *out_dims)."""
        OD, OH, OW = self.geometry[-1]
        n = (rows[1] - rows[0]) * OW
        col, out = col.reshape(-1)[:col.shape[0] * n].reshape(-1, n), out.reshape(-1)[:out.shape[0] * n].reshape(-1, n)
        _im2col(img.reshape(self.img_shape), *self.geometry, rows, col)
        np.dot(weights, col, out=out)
        act = act or Activation.none(dst.dtype)
        block = dst.reshape(dst.shape[0], 1, OD * OH, OW)[:, :, rows[0]:rows[1]]
        epilogue(out, (rows[1] - rows[0], OW), *channel_args(scale, bias, dst.shape[0], dst.dtype), *act.args(),
                 block)

    def forward_samples(self, weights, xs, col, out, dst, bias, act, scale):
        """The forward of samples xs in one GEMM: their columns side by side in col (this thread's (K, >= n L)
        buffer), out (F, >= n L) = weights @ col, each sample's share cropped with the epilogue into dst[i]."""
        L, n = self.L, xs.shape[0]
        col, out = col.reshape(-1)[:col.shape[0] * n * L].reshape(-1, n * L), out.reshape(-1)[:out.shape[0] * n * L]
        out = out.reshape(-1, n * L)
        out_dims = self.geometry[-1]
        for i in range(n):
            if self.identity:
                col[:, i * L:(i + 1) * L] = xs[i].reshape(-1, L)
            else:
                _im2col(xs[i].reshape(self.img_shape), *self.geometry, (0, out_dims[0] * out_dims[1]),
                        col[:, i * L:(i + 1) * L])
        np.dot(weights, col, out=out)
        act = act or Activation.none(dst.dtype)
        args = channel_args(scale, bias, dst.shape[1], dst.dtype) + act.args()
        for i in range(n):
            epilogue(out[:, i * L:(i + 1) * L], out_dims[1:], *args, dst[i].reshape((dst.shape[1],) + out_dims))

    def weights(self, w2):
        """The weight (F, C/g * prod(kernel)) as `forward` wants it."""
        return w2

    def forward(self, weights, img, ext, groups, rows):
        """ext (F, L) = the GEMM columns of the convolution of one sample img; rows (f0, f1): only those output
        rows (one group only), or None."""
        if rows is None:
            group_gemm(weights, self.cols(img), ext, groups)
        else:
            np.dot(weights[rows[0]:rows[1]], self.cols(img), out=ext[rows[0]:rows[1]])

    def fold_into(self, col, img):
        if self.identity:
            img.reshape(col.shape)[...] += col
        else:
            _col2im(col, *self.geometry, img.reshape(self.img_shape))

    def ext(self, out):
        return out.reshape(out.shape[0], self.L)

    def gemm_out(self, dst):
        return dst.reshape(dst.shape[0], self.L)

    def crop(self, ext, dst, add=False, bias=None, act=None, scale=None):
        """dst = ext's real outputs (+= with add), times scale plus bias per channel, then the Activation act
        (ops/cpu/conv_epilogue.py)."""
        if add:
            dst.reshape(ext.shape)[...] += ext
            return
        on = act is not None and act.on
        in_place = same_memory(ext, dst)
        if bias is None and scale is None and not on and in_place:
            return
        act = act or Activation.none(dst.dtype)
        args = channel_args(scale, bias, dst.shape[0], dst.dtype) + act.args()
        if in_place:        # ext is dst's own memory, (F, L) C-contiguous
            epilogue_in_place(ext, *args)
        else:
            out_dims = self.geometry[-1]
            epilogue(ext, out_dims[1:], *args, dst.reshape((dst.shape[0],) + out_dims))


class _WideUnfold:
    """Unit-stride unfolding into wide columns (Note [wide columns]); the same interface as _Unfold."""

    identity = False        # a 1x1 kernel without padding takes _Unfold's identity path instead
    rows_split = batches = False
    wide = True

    def __init__(self, channels, img_dims, out_dims, kernel, pad, dilate, dtype, taps_min_columns):
        self.pad = pad
        self.padded = tuple(x + 2 * q for x, q in zip(img_dims, pad))
        self.out_dims = out_dims
        self.img_shape = (channels,) + img_dims
        Dp, Hp, Wp = self.padded
        self.offsets = np.array([((a * dilate[0]) * Hp + b * dilate[1]) * Wp + e * dilate[2]
                                 for a in range(kernel[0]) for b in range(kernel[1]) for e in range(kernel[2])],
                                np.int64)
        self.L = self.columns(img_dims, out_dims, pad)
        length = max(Dp * Hp * Wp, int(self.offsets.max()) + self.L)
        self.flat = np.zeros((channels, length), dtype)        # padding stays 0: only the interior is written
        self.taps = TAPS and self.L >= taps_min_columns and dtype in (F32, np.float64) and taps_available()
        self._col = None
        self._ext = self._fold = self._out = None

    @property
    def col(self):
        """The col buffer, made on first use (the forward by taps needs none)."""
        if self._col is None:
            self._col = np.empty((self.flat.shape[0] * len(self.offsets), self.L), self.flat.dtype)
        return self._col

    @staticmethod
    def columns(img_dims, out_dims, pad):
        """GEMM columns: positions j = (z*Hp + y)*Wp + x up to the last real output (OD-1, OH-1, OW-1)."""
        Hp, Wp = img_dims[1] + 2 * pad[1], img_dims[2] + 2 * pad[2]
        return ((out_dims[0] - 1) * Hp + out_dims[1] - 1) * Wp + out_dims[2]

    def _view(self, ext):
        """The real output positions of GEMM columns ext (F, L), as a strided (F, OD, OH, OW) view."""
        Hp, Wp = self.padded[1], self.padded[2]
        s = ext.itemsize
        return np.lib.stride_tricks.as_strided(ext, (ext.shape[0],) + self.out_dims,
                                               (ext.strides[0], Hp * Wp * s, Wp * s, s), writeable=True)

    def cols(self, img):
        _wide_im2col(img.reshape(self.img_shape), self.pad, self.padded, self.offsets, self.flat, self.col)
        return self.col

    def cols_into(self, img, block):
        _wide_im2col(img.reshape(self.img_shape), self.pad, self.padded, self.offsets, self.flat, block)

    def ext_into(self, out, block):
        """`ext(out)` into block (F, L), whose junk positions the caller keeps 0."""
        self._view(block)[...] = out.reshape((out.shape[0],) + self.out_dims)

    def weights(self, w2):
        return tap_weights(w2, len(self.offsets)) if self.taps else w2

    def forward(self, weights, img, ext, groups, rows):
        """ext (F, L) = the GEMM columns of one sample's convolution (only output rows (f0, f1) of one group when
        rows is not None): one GEMM per tap over the padded image (ops/cpu/conv_taps.py) where numpy's BLAS allows,
        else im2col + GEMM."""
        if self.taps:
            f0, f1 = rows or (0, ext.shape[0])
            taps_forward(img.reshape(self.img_shape), self.pad, self.padded, self.flat, weights, self.offsets,
                         groups, f0, f1, ext)
        elif rows is None:
            group_gemm(weights, self.cols(img), ext, groups)
        else:
            np.dot(weights[rows[0]:rows[1]], self.cols(img), out=ext[rows[0]:rows[1]])

    def fold_buffer(self):
        """col2im's own padded buffer (it leaves the padding dirty, so it is not `flat`)."""
        if self._fold is None:
            self._fold = np.empty_like(self.flat)
        return self._fold

    def fold_into(self, col, img):
        _wide_col2im(col, self.pad, self.padded, self.offsets, self.fold_buffer(), img.reshape(self.img_shape))

    def ext(self, out):
        if self._ext is None or self._ext.shape[0] != out.shape[0]:
            self._ext = np.zeros((out.shape[0], self.L), self.flat.dtype)    # junk positions stay 0
        self._view(self._ext)[...] = out.reshape((out.shape[0],) + self.out_dims)
        return self._ext

    def gemm_out(self, dst):
        if self._out is None or self._out.shape[0] != dst.shape[0]:
            self._out = np.empty((dst.shape[0], self.L), self.flat.dtype)
        return self._out

    def crop(self, ext, dst, add=False, bias=None, act=None, scale=None):
        dst4 = dst.reshape((dst.shape[0],) + self.out_dims)
        if add:
            dst4 += self._view(ext)
        else:
            act = act or Activation.none(dst.dtype)
            epilogue(ext, self.padded[1:], *channel_args(scale, bias, dst.shape[0], dst.dtype), *act.args(), dst4)


@numba.njit(nogil=True, cache=True)
def _phase_im2col(img, stride, pad, Hq, Wq, offsets, planes, col):
    """Note [phase planes] (ops/cpu/conv_depthwise.py): each channel of img (C, H, W) into its phase planes, then
    col[r] is the slice of length col.shape[1] at offsets[r % len(offsets)] of channel r // len(offsets)'s."""
    for c in range(img.shape[0]):
        fill_planes(img[c], stride, pad, Hq, Wq, planes[c])
    K, L = len(offsets), col.shape[1]
    for r in range(col.shape[0]):
        dst, src = col[r], planes[r // K, offsets[r % K]:]
        for j in range(L):
            dst[j] = src[j]


class _PhaseUnfold:
    """The forward's unfolding of strided 1-D and 2-D convolutions: wide columns (Note [wide columns]) over the
    phase planes of the padded image (Note [phase planes] in ops/cpu/conv_depthwise.py), so that each col row is
    one contiguous copy instead of strided reads; the same interface as _WideUnfold's forward."""

    identity = taps = rows_split = batches = False
    wide = True

    def __init__(self, channels, img_dims, out_dims, kernel, stride, pad, dilate):
        self.stride, self.pad, self.out_dims = stride[1:], pad[1:], out_dims
        self.img_shape = (channels,) + img_dims[1:]
        self.Hq, self.Wq, self.offsets = phase_geometry(img_dims[1:], kernel[1:], stride[1:], pad[1:], dilate[1:])
        self.L = (out_dims[1] - 1) * self.Wq + out_dims[2]

    @staticmethod
    def columns(img_dims, out_dims, kernel, stride, pad, dilate):
        """GEMM columns, or None where the phase planes do not apply (3-D) or do not pay (fewer taps than planes:
        filling them reads more of the image than im2col does, e.g. a 1x1 kernel with stride 2)."""
        if img_dims[0] != 1 or kernel[0] != 1 or pad[0] != 0 or kernel[1] * kernel[2] < stride[1] * stride[2]:
            return None
        Wq = -(-(img_dims[2] + 2 * pad[2]) // stride[2])
        return (out_dims[1] - 1) * Wq + out_dims[2]

    def cols(self, img):
        dtype = img.dtype
        planes = np.empty((self.img_shape[0], self.stride[0] * self.stride[1] * self.Hq * self.Wq), dtype)
        col = np.empty((self.img_shape[0] * len(self.offsets), self.L), dtype)
        _phase_im2col(img.reshape(self.img_shape), self.stride, self.pad, self.Hq, self.Wq, self.offsets, planes, col)
        return col

    def weights(self, w2):
        return w2

    def forward(self, weights, img, ext, groups, rows):
        if rows is None:
            group_gemm(weights, self.cols(img), ext, groups)
        else:
            np.dot(weights[rows[0]:rows[1]], self.cols(img), out=ext[rows[0]:rows[1]])

    def gemm_out(self, dst):
        return np.empty((dst.shape[0], self.L), dst.dtype)

    def crop(self, ext, dst, bias=None, act=None, scale=None):
        act = act or Activation.none(dst.dtype)
        epilogue(ext, (self.Hq, self.Wq), *channel_args(scale, bias, dst.shape[0], dst.dtype), *act.args(),
                 dst.reshape((dst.shape[0],) + self.out_dims))


def unfolding(channels, img_dims, out_dims, kernel, stride, pad, dilate, dtype, forward=False, allow_wide=True):
    """The unfolding of one sample's image (channels, *img_dims) into columns for outputs (F, *out_dims); every
    per-dim value a 3-tuple. `forward`: for Convolution's forward (its own thresholds), else for a backward;
    `allow_wide` False: plain im2col (`_Unfold`) only."""
    identity = kernel == (1, 1, 1) and pad == (0, 0, 0) and img_dims == out_dims
    wide = _WideUnfold.columns(img_dims, out_dims, pad) if allow_wide and stride == (1, 1, 1) and not identity else None
    waste = FORWARD_WIDE_MAX_WASTE if forward else WIDE_MAX_WASTE
    if wide is not None and wide <= (1 + waste) * np.prod(out_dims):
        return _WideUnfold(channels, img_dims, out_dims, kernel, pad, dilate, dtype,
                           FORWARD_TAPS_MIN_COLUMNS if forward else TAPS_MIN_COLUMNS)
    phase = _PhaseUnfold.columns(img_dims, out_dims, kernel, stride, pad, dilate) if stride != (1, 1, 1) else None
    if forward and phase is not None and phase <= (1 + FORWARD_WIDE_MAX_WASTE) * np.prod(out_dims):
        return _PhaseUnfold(channels, img_dims, out_dims, kernel, stride, pad, dilate)
    return _Unfold(channels, img_dims, out_dims, kernel, stride, pad, dilate, dtype)


def group_gemm(a, b, out, groups, trans_a=False, trans_b=False):
    """out[g] = op(a[g]) @ op(b[g]) for each group, where a, b and out split into `groups` equal row blocks
    (C-contiguous 2-D arrays; op transposes a block when asked). BLAS through np.dot, which releases the GIL."""
    ra, rb, ro = a.shape[0] // groups, b.shape[0] // groups, out.shape[0] // groups
    for g in range(groups):
        ag, bg = a[g * ra:(g + 1) * ra], b[g * rb:(g + 1) * rb]
        np.dot(ag.T if trans_a else ag, bg.T if trans_b else bg, out=out[g * ro:(g + 1) * ro])
