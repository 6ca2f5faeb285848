"""Depthwise convolution (num_group == input channels) as direct njit loops, forward and backward (issue 17).

im2col + GEMM per group would run one GEMM of a 1 x prod(kernel) by prod(kernel) x prod(out) matrix per sample
and channel: all call overhead and unfolding, no arithmetic to amortise it. Here each (sample, output channel)
pair walks its kernel taps, and for each tap adds w * (the input rows that tap reads) to the output rows: the
input channel (a few KB at mobilenet sizes) stays in L1 and the innermost loop runs along an output row, contiguous
for unit stride so LLVM vectorises it. Output channel f reads input channel f // M (M = num_filter / channels,
MXNet's depth multiplier). The backward walks the same taps: dx gets w * dy scattered along the same rows, and
dW[f, tap] the dot product of dy's rows with the input rows read (float64 sums).

The forward of 1-D and 2-D inputs (`depthwise_forward_planes`, any stride) reads the channel's phase planes (Note
[phase planes]): every tap is then one contiguous run, accumulated in blocks of output rows that stay in L1, with
the epilogue's activation applied as the rows are written. Measured (float32, one thread, CPU time) against the
loops it replaced: 32 channels 112x112 1.23 -> 0.52 ms, stride 2 64 channels 112x112 1.46 -> 0.66 ms, 512 channels
14x14 0.35 -> 0.21 ms. Views indexed from 0 (`planes[o:]` then `[j]`) keep LLVM vectorising: an index such as
o + j may be negative as far as numba knows, and its wraparound check turns each load into a gather. The taps are
added three a pass (one load and store of the block per three taps), and the planes of strides 1 and 2 are filled
with the stride a constant (`fill_planes`): measured together (one thread, CPU time, medians of 21, mobilenet1.0's
nine depthwise shapes at batch 1) 3.48 -> 2.61 ms, 32 channels 112x112 0.51 -> 0.38 ms, 512 channels 14x14
0.24 -> 0.19 ms.

Geometry is the 3-D view of ops/cpu/conv.py (1-D and 2-D inputs have leading spatial dims of 1).
"""
import numba
import numpy as np

from .conv_epilogue import activate

__all__ = ["depthwise_backward", "depthwise_backward_wide", "depthwise_forward", "depthwise_forward_planes",
           "depthwise_forward_wide", "fill_planes", "interior", "phase_geometry", "valid_range"]


@numba.njit(nogil=True, cache=True)
def valid_range(offset, stride, size, n_out):
    """[lo, hi): the outputs o in [0, n_out) whose input index o * stride + offset lies in [0, size)."""
    lo = 0 if offset >= 0 else (-offset + stride - 1) // stride
    hi = (size - offset + stride - 1) // stride if size > offset else 0
    lo = min(lo, n_out)
    hi = max(lo, min(hi, n_out))
    return lo, hi


@numba.njit(nogil=True, cache=True)
def depthwise_forward(x5, w4, bias, stride, pad, dilate, y5):
    """y5[n, f] = bias[f] + sum over taps (a, b, e) of w4[f, a, b, e] * x5[n, f // M] shifted by the tap.

    x5 (N, C, D, H, W), w4 (F, KD, KH, KW), bias (F,), y5 (N, F, OD, OH, OW), all C-contiguous."""
    N, C, D, H, W = x5.shape
    F, OD, OH, OW = y5.shape[1], y5.shape[2], y5.shape[3], y5.shape[4]
    KD, KH, KW = w4.shape[1], w4.shape[2], w4.shape[3]
    M = F // C
    for n in range(N):
        for f in range(F):
            c = f // M
            y5[n, f] = bias[f]
            for a in range(KD):
                za, zb = valid_range(a * dilate[0] - pad[0], stride[0], D, OD)
                for b in range(KH):
                    ya, yb = valid_range(b * dilate[1] - pad[1], stride[1], H, OH)
                    for e in range(KW):
                        off = e * dilate[2] - pad[2]
                        xa, xb = valid_range(off, stride[2], W, OW)
                        wv = w4[f, a, b, e]
                        for oz in range(za, zb):
                            iz = oz * stride[0] - pad[0] + a * dilate[0]
                            for oy in range(ya, yb):
                                iy = oy * stride[1] - pad[1] + b * dilate[1]
                                src = x5[n, c, iz, iy]
                                dst = y5[n, f, oz, oy]
                                if stride[2] == 1:
                                    for ox in range(xa, xb):
                                        dst[ox] += wv * src[ox + off]
                                else:
                                    for ox in range(xa, xb):
                                        dst[ox] += wv * src[ox * stride[2] + off]


@numba.njit(nogil=True, cache=True, fastmath={"reassoc"})
def depthwise_backward(dy5, x5, w4, stride, pad, dilate, want_dx, dx5, want_dw, dw4):
    """dx5 += the transpose of depthwise_forward applied to dy5 (want_dx); dw4 += sum over samples and
    positions of dy5 * the input each tap reads (want_dw). Shapes as depthwise_forward; dx5 like x5."""
    N, C, D, H, W = x5.shape
    F, OD, OH, OW = dy5.shape[1], dy5.shape[2], dy5.shape[3], dy5.shape[4]
    KD, KH, KW = w4.shape[1], w4.shape[2], w4.shape[3]
    M = F // C
    s2 = stride[2]
    for n in range(N):
        for f in range(F):
            c = f // M
            for a in range(KD):
                za, zb = valid_range(a * dilate[0] - pad[0], stride[0], D, OD)
                for b in range(KH):
                    ya, yb = valid_range(b * dilate[1] - pad[1], stride[1], H, OH)
                    for e in range(KW):
                        off = e * dilate[2] - pad[2]
                        xa, xb = valid_range(off, s2, W, OW)
                        wv = w4[f, a, b, e]
                        acc = 0.0
                        for oz in range(za, zb):
                            iz = oz * stride[0] - pad[0] + a * dilate[0]
                            for oy in range(ya, yb):
                                iy = oy * stride[1] - pad[1] + b * dilate[1]
                                g = dy5[n, f, oz, oy]
                                if want_dx:
                                    d = dx5[n, c, iz, iy]
                                    for ox in range(xa, xb):
                                        d[ox * s2 + off] += wv * g[ox]
                                if want_dw:
                                    src = x5[n, c, iz, iy]
                                    for ox in range(xa, xb):
                                        acc += np.float64(g[ox]) * np.float64(src[ox * s2 + off])
                        if want_dw:
                            dw4[f, a, b, e] += acc


# ---------------------------------------------------------------------------------------------------------------
# Unit stride: wide rows over the zero-padded channel (Note [wide columns] in ops/cpu/conv.py)
# ---------------------------------------------------------------------------------------------------------------

@numba.njit(nogil=True, cache=True)
def interior(img3, pad, padded, flat, add_from):
    """add_from False: write img3 (D, H, W) into the interior of the flat zero-padded image (padding untouched).
    add_from True: img3 += that interior."""
    D, H, W = img3.shape
    Hp, Wp = padded[1], padded[2]
    for z in range(D):
        for y in range(H):
            base = ((z + pad[0]) * Hp + y + pad[1]) * Wp + pad[2]
            row = img3[z, y]
            if add_from:
                for x in range(W):
                    row[x] += flat[base + x]
            else:
                for x in range(W):
                    flat[base + x] = row[x]


@numba.njit(nogil=True, cache=True)
def _wide_length(padded, out_dims):
    """Wide positions j = (z*Hp + y)*Wp + x up to the last real output, and the flat image length needed."""
    Hp, Wp = padded[1], padded[2]
    return ((out_dims[0] - 1) * Hp + out_dims[1] - 1) * Wp + out_dims[2]


@numba.njit(nogil=True, cache=True)
def depthwise_forward_wide(x5, w2, offsets, bias, pad, padded, y5):
    """depthwise_forward for unit strides: per channel, acc[j] = bias + sum over taps t of w2[f, t] *
    flat[offsets[t] + j], one long contiguous loop per tap, then the real positions of acc into y5."""
    N, C = x5.shape[0], x5.shape[1]
    F, OD, OH, OW = y5.shape[1], y5.shape[2], y5.shape[3], y5.shape[4]
    M = F // C
    Hp, Wp = padded[1], padded[2]
    L = _wide_length(padded, (OD, OH, OW))
    flat = np.zeros(max(padded[0] * Hp * Wp, offsets.max() + L), y5.dtype)
    acc = np.empty(L, y5.dtype)
    for n in range(N):
        for c in range(C):
            interior(x5[n, c], pad, padded, flat, False)
            for m in range(M):
                f = c * M + m
                acc[:] = bias[f]
                for t in range(offsets.shape[0]):
                    o, wv = offsets[t], w2[f, t]
                    for j in range(L):
                        acc[j] += wv * flat[o + j]
                for oz in range(OD):
                    for oy in range(OH):
                        base = (oz * Hp + oy) * Wp
                        dst = y5[n, f, oz, oy]
                        for ox in range(OW):
                            dst[ox] = acc[base + ox]


@numba.njit(nogil=True, cache=True, fastmath={"reassoc"})
def depthwise_backward_wide(dy5, x5, w2, offsets, pad, padded, want_dx, dx5, want_dw, dw2):
    """depthwise_backward for unit strides on wide rows: dy's real positions are spread into a zeroed wide row
    (junk positions stay 0), then per tap dflat[o + j] += w * g[j] and dW[f, t] += sum of g[j] * flat[o + j]."""
    N, C = x5.shape[0], x5.shape[1]
    F, OD, OH, OW = dy5.shape[1], dy5.shape[2], dy5.shape[3], dy5.shape[4]
    M = F // C
    Hp, Wp = padded[1], padded[2]
    L = _wide_length(padded, (OD, OH, OW))
    size = max(padded[0] * Hp * Wp, offsets.max() + L)
    flat = np.zeros(size, x5.dtype)
    dflat = np.zeros(size, x5.dtype)
    g = np.zeros(L, x5.dtype)
    for n in range(N):
        for c in range(C):
            if want_dw:
                interior(x5[n, c], pad, padded, flat, False)
            if want_dx:
                dflat[:] = 0
            for m in range(M):
                f = c * M + m
                for oz in range(OD):
                    for oy in range(OH):
                        base = (oz * Hp + oy) * Wp
                        src = dy5[n, f, oz, oy]
                        for ox in range(OW):
                            g[base + ox] = src[ox]
                for t in range(offsets.shape[0]):
                    o = offsets[t]
                    if want_dx:
                        wv = w2[f, t]
                        for j in range(L):
                            dflat[o + j] += wv * g[j]
                    if want_dw:
                        s = 0.0
                        for j in range(L):
                            s += np.float64(g[j]) * np.float64(flat[o + j])
                        dw2[f, t] += s
            if want_dx:
                interior(dx5[n, c], pad, padded, dflat, True)


# ---------------------------------------------------------------------------------------------------------------
# Forward of 1-D and 2-D depthwise convolutions, any stride: wide rows over the phase planes of the padded channel
# ---------------------------------------------------------------------------------------------------------------

# Output rows are accumulated in blocks of about this many wide positions, so that the block stays in L1 while
# every tap adds into it.
BLOCK_POSITIONS = 1024


def phase_geometry(img_hw, kernel_hw, stride_hw, pad_hw, dilate_hw):
    """Note [phase planes]: with strides (sh, sw), output (y, x) at tap (b, e) reads padded element
    (y*sh + b*dh, x*sw + e*dw). Split the padded image into sh*sw phase planes, plane (py, px) holding the padded
    elements (i*sh + py, j*sw + px), each Hq x Wq (Hq = ceil(Hp / sh)): the tap reads plane ((b*dh) % sh,
    (e*dw) % sw) at (y + (b*dh) // sh, x + (e*dw) // sw), unit strides again, so every tap is one contiguous run
    of wide positions j = y*Wq + x as in Note [wide columns] (ops/cpu/conv_unfold.py). Returns (Hq, Wq, offsets):
    each tap's flat offset into the planes (plane after plane)."""
    (H, W), (KH, KW), (sh, sw), (ph, pw), (dh, dw) = img_hw, kernel_hw, stride_hw, pad_hw, dilate_hw
    Hq, Wq = -(-(H + 2 * ph) // sh), -(-(W + 2 * pw) // sw)
    offsets = np.array([(((b * dh) % sh) * sw + (e * dw) % sw) * Hq * Wq + ((b * dh) // sh) * Wq + (e * dw) // sw
                        for b in range(KH) for e in range(KW)], np.int64)
    return Hq, Wq, offsets


@numba.njit(nogil=True, cache=True)
def fill_planes(img, stride, pad, Hq, Wq, planes):
    """The phase planes (Note [phase planes]) of one channel img (H, W) zero-padded, into planes (sh*sw*Hq*Wq,).

    The common strides are passed on as constants: LLVM then vectorises the row copies (a runtime stride measured
    2.7x slower at 32 channels of 112x112)."""
    if stride[0] == 1 and stride[1] == 1:
        _fill_planes(img, (1, 1), pad, Hq, Wq, planes)
    elif stride[0] == 2 and stride[1] == 2:
        _fill_planes(img, (2, 2), pad, Hq, Wq, planes)
    else:
        _fill_planes(img, stride, pad, Hq, Wq, planes)


@numba.njit(nogil=True, cache=True)
def _fill_planes(img, stride, pad, Hq, Wq, planes):
    H, W = img.shape
    sh, sw = stride
    k = 0
    for py in range(sh):
        for px in range(sw):
            lo, hi = valid_range(px - pad[1], sw, W, Wq)      # plane columns j that read an image column
            for i in range(Hq):
                dst = planes[k:k + Wq]
                iy = i * sh + py - pad[0]
                if iy < 0 or iy >= H:
                    dst[:] = 0
                else:
                    dst[:lo] = 0
                    src, inner = img[iy, lo * sw + px - pad[1]:], dst[lo:hi]
                    for j in range(hi - lo):
                        inner[j] = src[j * sw]
                    dst[hi:] = 0
                k += Wq


@numba.njit(nogil=True, cache=True)
def depthwise_forward_planes(x4, w2, offsets, stride, pad, Hq, Wq, bias, n, c0, c1, planes, acc, on, slope, lo, hi,
                             lo_value, hi_value, y4):
    """y4[n, f] = act(bias[f] + sum over taps t of w2[f, t] * the input tap t reads) for the output channels f of
    input channels c0 .. c1 - 1 of sample n (f // M = c, M = F // C), through the phase planes: per block of output
    rows, acc[j] (the block's wide positions, in L1) += w * planes[offsets[t] + j] for each tap, then the block's
    real positions through the activation (ops/cpu/conv_epilogue.py) into y4. x4 (N, C, H, W), y4 (N, F, OH, OW)."""
    C = x4.shape[1]
    F, OH, OW = y4.shape[1], y4.shape[2], y4.shape[3]
    M = F // C
    rows = max(1, min(OH, BLOCK_POSITIONS // Wq))
    for c in range(c0, c1):
        fill_planes(x4[n, c], stride, pad, Hq, Wq, planes)
        for m in range(M):
            f = c * M + m
            b = bias[f]
            for y0 in range(0, OH, rows):
                y1 = min(OH, y0 + rows)
                length = (y1 - 1 - y0) * Wq + OW
                base = y0 * Wq
                # taps three at a time: one load and store of acc per three taps (a 3x3 kernel: three passes)
                taps = offsets.shape[0]
                for t in range(0, taps - taps % 3, 3):
                    w0, w1, w2_ = w2[f, t], w2[f, t + 1], w2[f, t + 2]
                    s0 = planes[offsets[t] + base:]         # views: indexes j >= 0 keep the loops vectorised
                    s1 = planes[offsets[t + 1] + base:]
                    s2 = planes[offsets[t + 2] + base:]
                    if t == 0:
                        for j in range(length):
                            acc[j] = w0 * s0[j] + w1 * s1[j] + w2_ * s2[j]
                    else:
                        for j in range(length):
                            acc[j] += w0 * s0[j] + w1 * s1[j] + w2_ * s2[j]
                if taps < 3:
                    for j in range(length):
                        acc[j] = 0
                for t in range(taps - taps % 3, taps):
                    wv = w2[f, t]
                    src = planes[offsets[t] + base:]
                    for j in range(length):
                        acc[j] += wv * src[j]
                for y in range(y0, y1):
                    dst = y4[n, f, y]
                    row = acc[(y - y0) * Wq:]
                    for x in range(OW):
                        dst[x] = activate(row[x] + b, on, slope, lo, hi, lo_value, hi_value)
