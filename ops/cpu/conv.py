"""CPU kernels of Convolution and Deconvolution, and of their backward ops (Pooling: ops/cpu/pooling.py).

Which algorithm runs: depthwise convolution (num_group == channels > 1) runs the direct loops of
ops/cpu/conv_depthwise.py (a GEMM per channel would be all overhead); a 1x1 kernel with unit stride and no padding
needs no unfolding (below), and its data gradient is W.T @ dy written straight into dx; everything else is
im2col + GEMM. Batching several samples into one larger GEMM was measured (32 x (96x576 @ 576x838) against
4 or 1 GEMMs of 8 or 32 samples' columns, BLAS on 1 thread, load average ~6) and showed no consistent gain at
these sizes, so it is not done.

The general path is im2col + GEMM, one sample at a time. An unfolding turns one sample's image (C, *spatial) into
`col`, one row per (channel, kernel offset) and one column per output position, and BLAS computes
out = W (F, C/g * prod(kernel)) @ col for each group g. The backward reuses the pair: dW += dy @ col.T, and
dcol = W.T @ dy is folded back into dx (col2im, a scatter-add). Deconvolution is the transpose of Convolution: its
forward is Convolution's data gradient and its data gradient a Convolution forward, the image being its output.

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

Geometry: every kernel works in three spatial dims; 1-D and 2-D inputs are viewed with leading spatial dims of 1
(kernel 1, stride 1, pad 0, dilate 1 there), so one numba function serves all ranks. numba functions are `nogil`,
and numpy's BLAS releases the GIL. float16 is computed in float32 and rounded once (MXNet 1.9.1 has no float16
GEMM on CPU and raises; we compute it).
"""
import numba
import numpy as np

from ..registry import ADD, NULL
from .common import F16, F32, assign, same_memory, store
from .conv_depthwise import depthwise_backward, depthwise_backward_wide, depthwise_forward, depthwise_forward_wide
from .conv_depthwise import valid_range as _valid_range

__all__ = ["_backward_convolution", "_backward_deconvolution", "conv_geometry", "convolution", "deconv_pad",
           "deconvolution"]

# Use the wide unfolding while its junk columns cost at most this fraction of extra GEMM work.
WIDE_MAX_WASTE = 0.3


# ---------------------------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------------------------

def _pad3(values, fill):
    """A per-dim param as a 3-tuple, leading dims filled (1-D and 2-D run as 3-D with size-1 leading dims)."""
    values = tuple(values)
    return (fill,) * (3 - len(values)) + values


def _spatial3(shape):
    """(batch, channels, d, h, w) view shape of an NC* array."""
    return tuple(shape[:2]) + _pad3(shape[2:], 1)


def conv_geometry(p, nd):
    """(kernel, stride, pad, dilate) of a Convolution/Deconvolution/Pooling node as 3-tuples with MXNet's defaults
    (stride 1, pad 0, dilate 1 where a param is ())."""
    kernel = _pad3(p.kernel, 1)
    stride = _pad3(p.stride or (1,) * nd, 1)
    pad = _pad3(p.pad or (0,) * nd, 0)
    dilate = _pad3(getattr(p, "dilate", ()) or (1,) * nd, 1)
    return kernel, stride, pad, dilate


def deconv_pad(p, data_spatial):
    """Deconvolution's pad per dim (nd-tuple): p.pad, or with target_shape set, MXNet's pad for it.

    With target_shape, the full output s * (x - 1) + dilate * (k - 1) + 1 is cut down to target: pad = ceil(cut / 2)
    at each end, and adj = cut % 2 adds one back at the far end (the shape rule checks adj < stride)."""
    nd = len(p.kernel)
    if not any(p.target_shape):
        return tuple(p.pad) or (0,) * nd
    stride = tuple(p.stride) or (1,) * nd
    dilate = tuple(p.dilate) or (1,) * nd
    return tuple((s * (x - 1) + d * (k - 1) + 1 - t + 1) // 2
                 for s, d, k, x, t in zip(stride, dilate, p.kernel, data_spatial, p.target_shape))


def _compute(arr):
    """arr in its compute dtype (float16 -> float32), C-contiguous."""
    return np.ascontiguousarray(arr, dtype=F32 if arr.dtype == F16 else arr.dtype)


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
    C, D, H, W = img.shape
    Hp, Wp = padded[1], padded[2]
    for c in range(C):
        for z in range(D):
            for y in range(H):
                base = ((z + pad[0]) * Hp + y + pad[1]) * Wp + pad[2]
                for x in range(W):
                    flat[c, base + x] = img[c, z, y, x]
    K, L = len(offsets), col.shape[1]
    for r in range(col.shape[0]):
        c, off = r // K, offsets[r % K]
        for j in range(L):
            col[r, j] = flat[c, off + j]


@numba.njit(nogil=True, cache=True)
def _wide_col2im(col, pad, padded, offsets, flat, img):
    """The transpose of _wide_im2col: img += the interior of the sum of col's rows placed at their offsets."""
    C, D, H, W = img.shape
    Hp, Wp = padded[1], padded[2]
    flat[...] = 0
    K, L = len(offsets), col.shape[1]
    for r in range(col.shape[0]):
        c, off = r // K, offsets[r % K]
        for j in range(L):
            flat[c, off + j] += col[r, j]
    for c in range(C):
        for z in range(D):
            for y in range(H):
                base = ((z + pad[0]) * Hp + y + pad[1]) * Wp + pad[2]
                for x in range(W):
                    img[c, z, y, x] += flat[c, base + x]


class _Unfold:
    """Plain im2col between one sample's image (C, *img_dims) and col (C * prod(kernel), prod(out_dims)).

    `cols(img)` -> col; `fold_into(col, img)`: img += col2im(col); `ext(out)`: an output-side array (F, *out_dims)
    as GEMM columns (F, L); `crop(ext, dst)`: the real outputs of GEMM columns into dst (F, *out_dims), in place
    of dst when `gemm_out(dst)` gave dst's own memory."""

    def __init__(self, channels, img_dims, out_dims, kernel, stride, pad, dilate, dtype):
        self.geometry = (kernel, stride, pad, dilate, out_dims)
        self.img_shape = (channels,) + img_dims
        self.identity = kernel == (1, 1, 1) and stride == (1, 1, 1) and pad == (0, 0, 0) and img_dims == out_dims
        self.L = int(np.prod(out_dims))
        self.col = None if self.identity else np.empty((channels * int(np.prod(kernel)), self.L), dtype)

    def cols(self, img):
        if self.identity:
            return img.reshape(self.img_shape[0], -1)
        _im2col(img.reshape(self.img_shape), *self.geometry, self.col)
        return self.col

    def fold_into(self, col, img):
        if self.identity:
            img.reshape(col.shape)[...] += col
        else:
            _col2im(col, *self.geometry, img.reshape(self.img_shape))

    def ext(self, out):
        return out.reshape(out.shape[0], self.L)

    def gemm_out(self, dst):
        return dst.reshape(dst.shape[0], self.L)

    def crop(self, ext, dst, add=False, bias=None):
        if add:
            dst.reshape(ext.shape)[...] += ext
        elif not same_memory(ext, dst):
            dst.reshape(ext.shape)[...] = ext
        if bias is not None and not add:
            dst.reshape(ext.shape)[...] += bias[:, None]


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
        self.col = np.empty((channels * len(self.offsets), self.L), dtype)
        self._ext = self._fold = self._out = None

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

    def fold_into(self, col, img):
        if self._fold is None:                # col2im's own buffer: it leaves the padding dirty
            self._fold = np.empty_like(self.flat)
        _wide_col2im(col, self.pad, self.padded, self.offsets, self._fold, img.reshape(self.img_shape))

    def ext(self, out):
        if self._ext is None or self._ext.shape[0] != out.shape[0]:
            self._ext = np.zeros((out.shape[0], self.L), self.col.dtype)    # junk positions stay 0
        self._view(self._ext)[...] = out.reshape((out.shape[0],) + self.out_dims)
        return self._ext

    def gemm_out(self, dst):
        if self._out is None or self._out.shape[0] != dst.shape[0]:
            self._out = np.empty((dst.shape[0], self.L), self.col.dtype)
        return self._out

    def crop(self, ext, dst, add=False, bias=None):
        dst3 = dst.reshape((dst.shape[0],) + self.out_dims)
        if add:
            dst3 += self._view(ext)
        elif bias is not None:
            np.add(self._view(ext), bias.reshape(-1, 1, 1, 1), out=dst3)
        else:
            dst3[...] = self._view(ext)


def _unfolding(channels, img_shape, out_shape, kernel, stride, pad, dilate, dtype):
    """The unfolding of one sample of image shape img_shape (N, C, ...) into columns for out_shape (N, F, ...)."""
    img_dims, out_dims = _spatial3(img_shape)[2:], _spatial3(out_shape)[2:]
    identity = kernel == (1, 1, 1) and pad == (0, 0, 0) and img_dims == out_dims
    wide = _WideUnfold.columns(img_dims, out_dims, pad) if stride == (1, 1, 1) and not identity else None
    if wide is not None and wide <= (1 + WIDE_MAX_WASTE) * np.prod(out_dims):
        return _WideUnfold(channels, img_dims, out_dims, kernel, pad, dilate, dtype)
    return _Unfold(channels, img_dims, out_dims, kernel, stride, pad, dilate, dtype)


def _conv_unfolding(p, x_shape, y_shape, dtype, transposed):
    """Convolution unfolds its data x into columns for its output y; Deconvolution its output y for its data x."""
    kernel, stride, pad, dilate = conv_geometry(p, len(p.kernel))
    if transposed:
        pad = _pad3(deconv_pad(p, x_shape[2:]), 0)
        return _unfolding(y_shape[1], y_shape, x_shape, kernel, stride, pad, dilate, dtype)
    return _unfolding(x_shape[1], x_shape, y_shape, kernel, stride, pad, dilate, dtype)


# ---------------------------------------------------------------------------------------------------------------
# GEMM and accumulation helpers
# ---------------------------------------------------------------------------------------------------------------

def _group_gemm(a, b, out, groups, trans_a=False, trans_b=False):
    """out[g] = op(a[g]) @ op(b[g]) for each group, where a, b and out split into `groups` equal row blocks
    (C-contiguous 2-D arrays; op transposes a block when asked). BLAS through np.dot, which releases the GIL."""
    ra, rb, ro = a.shape[0] // groups, b.shape[0] // groups, out.shape[0] // groups
    for g in range(groups):
        ag, bg = a[g * ra:(g + 1) * ra], b[g * rb:(g + 1) * rb]
        np.dot(ag.T if trans_a else ag, bg.T if trans_b else bg, out=out[g * ro:(g + 1) * ro])


class _Accumulator:
    """A compute-dtype buffer for an output that kernels accumulate into (col2im, summed weight gradients).

    The output itself where it can be (cleared for WRITE/INPLACE, as is for ADD, so ADD needs no scratch copy);
    a zeroed scratch for float16 outputs, stored into the output by `finish` as req says."""

    def __init__(self, out, req):
        self.out, self.req = out, req
        if out.dtype != F16 and out.flags.c_contiguous:
            self.buf = out
            if req != ADD:
                out[...] = 0
        else:
            self.buf = np.zeros(out.shape, F32 if out.dtype == F16 else out.dtype)

    def finish(self):
        if self.buf is not self.out:
            assign(self.out, self.req, self.buf)


def _bias_grad(dy, out, req):
    """out (req) sum of dy over the batch and spatial dims."""
    if req != NULL:
        dyc = dy.reshape(dy.shape[0], dy.shape[1], -1)
        assign(out, req, dyc.sum(axis=(0, 2)))


def _add_bias(dst, b):
    if b is not None:
        dst.reshape(dst.shape[0], -1)[...] += b[:, None]


# ---------------------------------------------------------------------------------------------------------------
# Convolution and Deconvolution
# ---------------------------------------------------------------------------------------------------------------

def _depthwise(p, x_shape):
    """Whether Convolution runs the direct depthwise loops (ops/cpu/conv_depthwise.py): one channel per group."""
    return p.num_group > 1 and p.num_group == x_shape[1]


def _depthwise_views(p, x, w):
    """(wide, geometry, x as (N, C, D, H, W), w) for the depthwise kernels: for unit strides wide rows, geometry
    (tap offsets, pad, padded dims) and w as (F, taps); else geometry (stride, pad, dilate), w as (F, KD, KH, KW)."""
    kernel, stride, pad, dilate = conv_geometry(p, len(p.kernel))
    x5 = x.reshape(_spatial3(x.shape))
    if stride != (1, 1, 1):
        return False, (stride, pad, dilate), x5, w.reshape((w.shape[0],) + kernel)
    padded = tuple(n + 2 * q for n, q in zip(x5.shape[2:], pad))
    Hp, Wp = padded[1], padded[2]
    offsets = np.array([((a * dilate[0]) * Hp + b * dilate[1]) * Wp + e * dilate[2]
                        for a in range(kernel[0]) for b in range(kernel[1]) for e in range(kernel[2])], np.int64)
    return True, (offsets, pad, padded), x5, w.reshape(w.shape[0], -1)


def _conv_forward(x, w, b, p, dst):
    """dst = conv(x, w) + b; x (N, C, ...), w (F, C/g, *k), dst (N, F, ...), all C-contiguous in one dtype."""
    if _depthwise(p, x.shape):
        wide, geometry, x5, wk = _depthwise_views(p, x, w)
        bias = np.zeros(w.shape[0], dst.dtype) if b is None else b
        y5 = dst.reshape(_spatial3(dst.shape))
        if wide:
            depthwise_forward_wide(x5, wk, geometry[0], bias, *geometry[1:], y5)
        else:
            depthwise_forward(x5, wk, bias, *geometry, y5)
        return
    unfold = _conv_unfolding(p, x.shape, dst.shape, dst.dtype, transposed=False)
    w2 = w.reshape(w.shape[0], -1)
    for i in range(x.shape[0]):
        ext = unfold.gemm_out(dst[i])
        _group_gemm(w2, unfold.cols(x[i]), ext, p.num_group)
        unfold.crop(ext, dst[i], bias=b)


def _deconv_forward(x, w, b, p, dst):
    """dst = conv_transpose(x, w) + b: col = W_g.T @ x[n]_g, folded into dst[n]. x (N, C, ...), w (C, F/g, *k)."""
    unfold = _conv_unfolding(p, x.shape, dst.shape, dst.dtype, transposed=True)
    w2 = w.reshape(w.shape[0], -1)
    col = np.empty((w2.shape[1] * p.num_group, unfold.L), dst.dtype)
    dst[...] = 0
    for i in range(x.shape[0]):
        _group_gemm(w2, unfold.ext(x[i]), col, p.num_group, trans_a=True)
        unfold.fold_into(col, dst[i])
        _add_bias(dst[i], b)


def _forward_kernel(compute):
    def kernel(ctx, p, inputs, outputs, req):
        x, w = _compute(inputs[0]), _compute(inputs[1])
        b = None if p.no_bias else _compute(inputs[2])
        out = outputs[0]
        if out.dtype == F16 and req[0] != NULL:
            tmp = np.empty(out.shape, x.dtype)
            compute(x, w, b, p, tmp)
            assign(out, req[0], tmp)
        else:
            store(out, req[0], lambda dst: compute(x, w, b, p, dst))
    return kernel


convolution = _forward_kernel(_conv_forward)
convolution.__doc__ = "out = conv(data, weight) + bias: im2col + GEMM per sample and group."
deconvolution = _forward_kernel(_deconv_forward)
deconvolution.__doc__ = "out = conv_transpose(data, weight) + bias: GEMM + col2im per sample and group."


def _conv_backward(p, dy, x, w, outputs, req, transposed):
    """Gradients of Convolution (transposed=False) or Deconvolution (True) into outputs (dx, dw[, db]).

    Convolution, per sample n and group g, with col = im2col(x[n]):  dx[n] = col2im(W_g.T @ dy[n]_g),
    dW_g += dy[n]_g @ col_g.T.  Deconvolution, with col = im2col(dy[n]):  dx[n]_g = W_g @ col_g,
    dW_g += x[n]_g @ col_g.T.  db = sum of dy over batch and space for both."""
    g = p.num_group
    want_dx, want_dw = req[0] != NULL, req[1] != NULL
    if not p.no_bias:
        _bias_grad(dy, outputs[2], req[2])
    if not (want_dx or want_dw):
        return
    cdt = x.dtype
    dx = _Accumulator(outputs[0], req[0]) if want_dx else None
    dw = _Accumulator(outputs[1], req[1]) if want_dw else None
    if not transposed and _depthwise(p, x.shape):
        wide, geometry, x5, wk = _depthwise_views(p, x, w)
        dy5 = dy.reshape(_spatial3(dy.shape))
        dx5 = dx.buf.reshape(x5.shape) if want_dx else np.empty((0,) * 5, cdt)
        dwk = dw.buf.reshape(wk.shape) if want_dw else np.empty((0,) * wk.ndim, cdt)
        run = depthwise_backward_wide if wide else depthwise_backward
        run(dy5, x5, wk, *geometry, want_dx, dx5, want_dw, dwk)
        for acc in (dx, dw):
            if acc is not None:
                acc.finish()
        return
    unfold = _conv_unfolding(p, x.shape, dy.shape, cdt, transposed)
    w2 = w.reshape(w.shape[0], -1)
    dw_part = np.empty(w2.shape, cdt) if want_dw else None
    if not transposed:
        # 1x1, unit stride, no padding: dx[n] = W.T @ dy[n] straight into a cleared dx, no col2im
        direct_dx = want_dx and unfold.identity and req[0] != ADD and dx.buf.flags.c_contiguous
        dcol = np.empty((w2.shape[1] * g, unfold.L), cdt) if want_dx and not direct_dx else None
        for i in range(x.shape[0]):
            dyi = unfold.ext(dy[i])
            if direct_dx:
                _group_gemm(w2, dyi, dx.buf[i].reshape(-1, unfold.L), g, trans_a=True)
            elif want_dx:
                _group_gemm(w2, dyi, dcol, g, trans_a=True)
                unfold.fold_into(dcol, dx.buf[i])
            if want_dw:
                _group_gemm(dyi, unfold.cols(x[i]), dw_part, g, trans_b=True)
                dw.buf.reshape(w2.shape)[...] += dw_part
    else:
        dx_part = np.empty((x.shape[1], unfold.L), cdt) if want_dx else None
        for i in range(x.shape[0]):
            col = unfold.cols(dy[i])
            if want_dx:
                _group_gemm(w2, col, dx_part, g)
                unfold.crop(dx_part, dx.buf[i], add=True)
            if want_dw:
                _group_gemm(unfold.ext(x[i]), col, dw_part, g, trans_b=True)
                dw.buf.reshape(w2.shape)[...] += dw_part
    for acc in (dx, dw):
        if acc is not None:
            acc.finish()


def _backward_kernel(transposed):
    def kernel(ctx, p, inputs, outputs, req):
        dy, x, w = (_compute(a) for a in inputs[:3])
        _conv_backward(p, dy, x, w, outputs, req, transposed)
    return kernel


_backward_convolution = _backward_kernel(False)
_backward_convolution.__doc__ = "(out_grad, data, weight) -> (data_grad, weight_grad[, bias_grad]) of Convolution."
_backward_deconvolution = _backward_kernel(True)
_backward_deconvolution.__doc__ = ("(out_grad, data, weight) -> (data_grad, weight_grad[, bias_grad]) of "
                                   "Deconvolution.")
