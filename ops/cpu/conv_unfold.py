"""Unfoldings of Convolution's CPU kernels (ops/cpu/conv.py): one sample's image as GEMM columns, the GEMM's
output cropped back (with bias and ReLU: the epilogue), and the per-group GEMM.

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
from .conv_depthwise import interior
from .conv_depthwise import valid_range as _valid_range
from .conv_taps import available as taps_available
from .conv_taps import tap_weights, taps_forward

__all__ = ["group_gemm", "unfolding"]

# Use the wide unfolding while its junk columns cost at most this fraction of extra GEMM work.
WIDE_MAX_WASTE = 0.3
# With wide columns, Convolution and its backward run one GEMM per kernel tap over the padded image, no col
# (ops/cpu/conv_taps.py), where they can and the GEMMs have at least TAPS_MIN_COLUMNS columns (measured forward:
# 0.75x im2col's time at 28x28 and 56x56, 0.93x at 14x14 (222 columns), 1.17x at 7x7 (61 columns)).
TAPS = True
TAPS_MIN_COLUMNS = 150


# ---------------------------------------------------------------------------------------------------------------
# im2col / col2im
# ---------------------------------------------------------------------------------------------------------------

@numba.njit(nogil=True, cache=True)
def _im2col(img, kernel, stride, pad, dilate, out_dims, col):
    """col[(c, a, b, e), (z, y, x)] = img[c, z*s0 - p0 + a*d0, y*s1 - p1 + b*d1, x*s2 - p2 + e*d2], 0 outside."""
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
                            if iz < 0 or iz >= D or iy < 0 or iy >= H:
                                for x in range(OW):
                                    col[row, j + x] = 0
                            else:
                                for x in range(lo):
                                    col[row, j + x] = 0
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
        c, off = r // K, offsets[r % K]
        for j in range(L):
            col[r, j] = flat[c, off + j]


@numba.njit(nogil=True, cache=True)
def _wide_col2im(col, pad, padded, offsets, flat, img):
    """The transpose of _wide_im2col: img += the interior of the sum of col's rows placed at their offsets."""
    C = img.shape[0]
    flat[...] = 0
    K, L = len(offsets), col.shape[1]
    for r in range(col.shape[0]):
        c, off = r // K, offsets[r % K]
        for j in range(L):
            flat[c, off + j] += col[r, j]
    for c in range(C):
        interior(img[c], pad, padded, flat[c], True)


@numba.njit(nogil=True, cache=True)
def _epilogue(src, pitch, scale, bias, relu, dst):
    """The GEMM's columns src (F, L) cropped into dst (F, OD, OH, OW), with the per-channel scale (empty: none) and
    bias (F,) and the ReLU applied in the same pass: dst[f, z, y, x] = relu(src[f, (z * pitch[0] + y) * pitch[1] + x]
    * scale[f] + bias[f]). src may be dst's own memory (pitch = dst's dims): each element is read before it is
    written."""
    F, OD, OH, OW = dst.shape
    PH, PW = pitch
    scaled = scale.size > 0
    for f in range(F):
        b = bias[f]
        s = scale[f] if scaled else 1
        for z in range(OD):
            for y in range(OH):
                base = (z * PH + y) * PW
                for x in range(OW):
                    v = src[f, base + x] * s + b if scaled else src[f, base + x] + b
                    if relu and v <= 0:         # NaN stays NaN, as Activation's relu
                        v = 0
                    dst[f, z, y, x] = v


def _epilogue_args(scale, bias, channels, dtype):
    """(scale, bias) for _epilogue: an empty scale for none, zeros for no bias."""
    return (_NO_SCALE[dtype.char] if scale is None else scale,
            np.zeros(channels, dtype) if bias is None else bias)


_NO_SCALE = {np.dtype(t).char: np.empty(0, t) for t in (np.float32, np.float64)}


class _Unfold:
    """Plain im2col between one sample's image (C, *img_dims) and col (C * prod(kernel), prod(out_dims)).

    `cols(img)` -> col; `fold_into(col, img)`: img += col2im(col); `ext(out)`: an output-side array (F, *out_dims)
    as GEMM columns (F, L); `crop(ext, dst)`: the real outputs of GEMM columns into dst (F, *out_dims), in place
    of dst when `gemm_out(dst)` gave dst's own memory."""

    def __init__(self, channels, img_dims, out_dims, kernel, stride, pad, dilate, dtype):
        self.geometry = (kernel, stride, pad, dilate, out_dims)
        self.img_shape = (channels,) + img_dims
        self.identity = kernel == (1, 1, 1) and stride == (1, 1, 1) and pad == (0, 0, 0) and img_dims == out_dims
        self.taps = False
        self.L = int(np.prod(out_dims))
        self.col = None if self.identity else np.empty((channels * int(np.prod(kernel)), self.L), dtype)

    def cols(self, img):
        if self.identity:
            return img.reshape(self.img_shape[0], -1)
        _im2col(img.reshape(self.img_shape), *self.geometry, self.col)
        return self.col

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

    def crop(self, ext, dst, add=False, bias=None, relu=False, scale=None):
        if add:
            dst.reshape(ext.shape)[...] += ext
        elif bias is not None or relu or scale is not None or not same_memory(ext, dst):
            out_dims = self.geometry[-1]
            _epilogue(ext, out_dims[1:], *_epilogue_args(scale, bias, dst.shape[0], dst.dtype), relu,
                      dst.reshape((dst.shape[0],) + out_dims))


class _WideUnfold:
    """Unit-stride unfolding into wide columns (Note [wide columns]); the same interface as _Unfold."""

    identity = False        # a 1x1 kernel without padding takes _Unfold's identity path instead

    def __init__(self, channels, img_dims, out_dims, kernel, pad, dilate, dtype):
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
        self.taps = TAPS and self.L >= TAPS_MIN_COLUMNS and dtype in (F32, np.float64) and taps_available()
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

    def crop(self, ext, dst, add=False, bias=None, relu=False, scale=None):
        dst4 = dst.reshape((dst.shape[0],) + self.out_dims)
        if add:
            dst4 += self._view(ext)
        else:
            _epilogue(ext, self.padded[1:], *_epilogue_args(scale, bias, dst.shape[0], dst.dtype), relu, dst4)


def unfolding(channels, img_dims, out_dims, kernel, stride, pad, dilate, dtype):
    """The unfolding of one sample's image (channels, *img_dims) into columns for outputs (F, *out_dims); every
    per-dim value a 3-tuple."""
    identity = kernel == (1, 1, 1) and pad == (0, 0, 0) and img_dims == out_dims
    wide = _WideUnfold.columns(img_dims, out_dims, pad) if stride == (1, 1, 1) and not identity else None
    if wide is not None and wide <= (1 + WIDE_MAX_WASTE) * np.prod(out_dims):
        return _WideUnfold(channels, img_dims, out_dims, kernel, pad, dilate, dtype)
    return _Unfold(channels, img_dims, out_dims, kernel, stride, pad, dilate, dtype)


def group_gemm(a, b, out, groups, trans_a=False, trans_b=False):
    """out[g] = op(a[g]) @ op(b[g]) for each group, where a, b and out split into `groups` equal row blocks
    (C-contiguous 2-D arrays; op transposes a block when asked). BLAS through np.dot, which releases the GIL."""
    ra, rb, ro = a.shape[0] // groups, b.shape[0] // groups, out.shape[0] // groups
    for g in range(groups):
        ag, bg = a[g * ra:(g + 1) * ra], b[g * rb:(g + 1) * rb]
        np.dot(ag.T if trans_a else ag, bg.T if trans_b else bg, out=out[g * ro:(g + 1) * ro])
