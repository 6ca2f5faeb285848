"""Winograd F(2x2, 3x3): the forward of a 2-D 3x3 convolution with unit stride and dilation, one group (and its
data gradient, the convolution of dy with the flipped weights: ops/cpu/conv.py `_winograd_data_grad`).

Each 2x2 block of outputs (a tile) needs a 4x4 block of the padded input d. With Lavin and Gray's matrices
(arXiv:1509.09308)

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]    (the input transform: V = B^T d B)
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]      (the weight transform: U = G g G^T)
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]                                 (the output transform: y = A^T m A)

the tile is y = A^T [sum over channels c of U[f, c] * V[c]] A, the product element by element. So per element
e of the 4x4 transformed tile, the sum over channels is one GEMM over all tiles at once:
M[e] (F x T) = U[e] (F x C) @ V[e] (C x T). Sixteen GEMMs of F x C x T do 16 multiplies per 4 outputs where
the direct sum does 36: 2.25x fewer, at the price of the three transforms (memory passes, ~C * T * 16 and F * T
* 16 elements). The coefficients are 0, +-1 and +-1/2, so float32 stays close to the direct sum (the tests compare
against float64 within the convolution's float32 tolerance). F(4x4, 3x3) would cut the multiplies 4x, but its
transforms carry coefficients up to 8 and 1/24: measured against float64 at 64-256 channels its float32 error was
7e-6 to 1.6e-5 of the largest output, F(2x2, 3x3)'s 3e-7 to 7e-7 (the direct sum's ~1e-7); not used.

The weights are transformed at every call, except where the caller asks for them to be kept (`kept_transform`,
Note [kept weight transforms]: inference folding's `_conv_fused`); the output transform writes the cropped output
with the epilogue of ops/cpu/conv_epilogue.py (per-channel scale and bias, then the activation), so inference folding
costs no pass here either. Samples are grouped so that one GEMM has about GROUP_TILES columns (small images: several
samples per GEMM) and each thread works on its own groups with its own buffers (ops/cpu/conv_parallel.py).

When it runs (measured on this 2-core machine, one thread, CPU time, medians): Note [when Winograd pays] in
ops/cpu/conv.py (`winograd_pays`). The transformed planes lie a cache line apart (`planes`), and the buffers are
each thread's own, kept between calls (`_scratch`: 16 (C + F) x GROUP_TILES-ish and 16 F C elements, the largest
seen; ~35 MB a thread for 512 channels at 7x7 and batch 32).
"""
import threading
import weakref

import numba
import numpy as np

from .conv_epilogue import activate

__all__ = ["applies", "data_grad_transform", "forward", "kept_transform", "tiles", "weight_transform"]

# Samples per GEMM: enough that one GEMM has about this many tile columns (7x7 outputs are 16 tiles a sample).
GROUP_TILES = 256
# A group split over threads by output channels gives each thread at least this many.
ROWS_PER_PART = 16


def applies(kernel, stride, dilate, groups, nd, dtype):
    """Whether Winograd F(2x2, 3x3) can compute this convolution: 2-D, 3x3, unit stride and dilation, one group,
    float32 or float64."""
    return (nd == 2 and tuple(kernel[-2:]) == (3, 3) and tuple(stride[-2:]) == (1, 1)
            and tuple(dilate[-2:]) == (1, 1) and groups == 1 and np.dtype(dtype) in (np.float32, np.float64))


def tiles(out_h, out_w):
    """(tile rows, tile columns) of an output of out_h x out_w."""
    return (out_h + 1) // 2, (out_w + 1) // 2


@numba.njit(nogil=True, cache=True)
def weight_transform(w, u, flip=False):
    """u[e, f, c] = (G g G^T)[e // 4, e % 4] for w (F, C, 3, 3), u (16, F, C), g = w[f, c], or with `flip` its
    mirror w[f, c, ::-1, ::-1]; computed in w's dtype."""
    F, C = w.shape[0], w.shape[1]
    half = w.dtype.type(0.5)
    a, z = (2, 0) if flip else (0, 2)       # the rows (and columns) read as g's first and last
    for f in range(F):          # w read and u's rows written in order: streams (blocks measured 1.1x slower)
        for c in range(C):
            g00, g01, g02 = w[f, c, a, a], w[f, c, a, 1], w[f, c, a, z]
            g10, g11, g12 = w[f, c, 1, a], w[f, c, 1, 1], w[f, c, 1, z]
            g20, g21, g22 = w[f, c, z, a], w[f, c, z, 1], w[f, c, z, z]
            # t = G g, one row of three per row of G
            t10, t11, t12 = (g00 + g10 + g20) * half, (g01 + g11 + g21) * half, (g02 + g12 + g22) * half
            t20, t21, t22 = (g00 - g10 + g20) * half, (g01 - g11 + g21) * half, (g02 - g12 + g22) * half
            rows = ((g00, g01, g02), (t10, t11, t12), (t20, t21, t22), (g20, g21, g22))
            for i in range(4):          # u = t G^T
                r0, r1, r2 = rows[i]
                u[4 * i, f, c] = r0
                u[4 * i + 1, f, c] = (r0 + r1 + r2) * half
                u[4 * i + 2, f, c] = (r0 - r1 + r2) * half
                u[4 * i + 3, f, c] = r2


def data_grad_transform(w, dtype):
    """The transform (16, C, F) of the flipped, transposed weights w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3) of
    w (F, C, 3, 3): a data gradient's weights (the convolution of dy with them), as the transposed view of the
    flipped weights' transform (16, F, C), which BLAS reads as well (its GEMMs take a transposed operand at the same
    rate). Read from w in place and written along u's rows: a flipping copy of a 512 x 512 layer cost more than the
    transform, and writing the (16, C, F) planes themselves (along their columns) 1.2x the time (one thread, CPU
    time, interleaved, load ~4: 7.3-7.7 against 6.1-6.2 ms at 512 x 512). In this thread's scratch "u" (as
    `forward`'s own transform): valid until the thread's next transform."""
    u = planes(w.shape[0], w.shape[1], dtype, "u")
    weight_transform(np.ascontiguousarray(w, dtype), u, True)
    return u.transpose(0, 2, 1)


@numba.njit(nogil=True, cache=True)
def input_transform(padded, tiles_h, tiles_w, v, t0):
    """v[e, c, t0 + ty * tiles_w + tx] = (B^T d B)[e // 4, e % 4] for each channel c of `padded` (C, >= 2 tiles_h +
    2, >= 2 tiles_w + 2), the zero-padded image, and tile (ty, tx), d its 4x4 block at rows 2 ty ..., columns
    2 tx .... B^T d is computed for a whole row of tiles at once (a vectorised loop over the columns, each shared by
    two tiles), then s B per tile."""
    C = padded.shape[0]
    width = 2 * tiles_w + 2
    s = np.empty((4, width), padded.dtype)
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    for c in range(C):
        plane = padded[c]
        for ty in range(tiles_h):
            r0, r1, r2, r3 = plane[2 * ty], plane[2 * ty + 1], plane[2 * ty + 2], plane[2 * ty + 3]
            for x in range(width):      # s = B^T d
                s0[x] = r0[x] - r2[x]
                s1[x] = r1[x] + r2[x]
                s2[x] = r2[x] - r1[x]
                s3[x] = r1[x] - r3[x]
            base = t0 + ty * tiles_w
            for tx in range(tiles_w):   # v = s B
                x, t = 2 * tx, base + tx
                for i in range(4):
                    row = s[i]
                    a0, a1, a2, a3 = row[x], row[x + 1], row[x + 2], row[x + 3]
                    v[4 * i, c, t] = a0 - a2
                    v[4 * i + 1, c, t] = a1 + a2
                    v[4 * i + 2, c, t] = a2 - a1
                    v[4 * i + 3, c, t] = a1 - a3


@numba.njit(nogil=True, cache=True)
def output_transform(m, t0, tiles_w, scale, bias, on, slope, lo, hi, lo_value, hi_value, dst):
    """dst[f, 2 ty + a, 2 tx + b] = act((A^T m A)[a, b] * scale[f] + bias[f]) for the tiles of one sample,
    m (16, F, T) holding them from column t0 on, dst (F, OH, OW): edge tiles cropped. A row of tiles goes through
    a two-row buffer first, so both loops run without branches (the second one vectorises)."""
    F, OH, OW = dst.shape
    tiles_h = (OH + 1) // 2
    rows = np.empty((2, 2 * tiles_w), m.dtype)
    top, bottom = rows[0], rows[1]
    for f in range(F):
        sc, b = scale[f], bias[f]
        for ty in range(tiles_h):
            base = t0 + ty * tiles_w
            for tx in range(tiles_w):
                t, x = base + tx, 2 * tx
                # r = A^T m: two rows of four; then y = r A
                r00 = m[0, f, t] + m[4, f, t] + m[8, f, t]
                r01 = m[1, f, t] + m[5, f, t] + m[9, f, t]
                r02 = m[2, f, t] + m[6, f, t] + m[10, f, t]
                r03 = m[3, f, t] + m[7, f, t] + m[11, f, t]
                r10 = m[4, f, t] - m[8, f, t] - m[12, f, t]
                r11 = m[5, f, t] - m[9, f, t] - m[13, f, t]
                r12 = m[6, f, t] - m[10, f, t] - m[14, f, t]
                r13 = m[7, f, t] - m[11, f, t] - m[15, f, t]
                top[x], top[x + 1] = r00 + r01 + r02, r01 - r02 - r03
                bottom[x], bottom[x + 1] = r10 + r11 + r12, r11 - r12 - r13
            for a in range(min(2, OH - 2 * ty)):
                out, src = dst[f, 2 * ty + a], rows[a]
                for x in range(OW):
                    out[x] = activate(src[x] * sc + b, on, slope, lo, hi, lo_value, hi_value)


_workspace = threading.local()      # per thread: {name: flat buffer}, kept between calls


def _scratch(name, size, dtype):
    """A flat buffer of at least `size` elements of `dtype`, this thread's own, reused by the next call: fresh
    megabytes cost a page fault per 4 KiB at first touch, which measured as much as the transforms (~2 ms of a
    5.8 ms forward of 64 channels at 56x56)."""
    buffers = getattr(_workspace, "buffers", None)
    if buffers is None:
        buffers = _workspace.buffers = {}
    buf = buffers.get((name, np.dtype(dtype)))
    if buf is None or buf.size < size:
        buf = buffers[(name, np.dtype(dtype))] = np.empty(size, dtype)
    return buf[:size]


def planes(rows, cols, dtype, name=None):
    """An empty (16, rows, cols) array whose 16 planes lie one cache line (64 bytes) more than their size apart
    (in this thread's scratch buffer `name`, or a new one). The transforms write (or read) all 16 planes at once:
    with plane strides a multiple of 4 KiB (64 x 784 floats are 49 x 4 KiB) the 16 streams fall into the same L1
    sets and evict each other (measured: the input transform of 64 channels at 56x56 ~3 ms against 0.5, the weight
    transform of 512 x 512 ~15 ms against 3)."""
    step = rows * cols + 64 // np.dtype(dtype).itemsize
    flat = np.empty(16 * step, dtype) if name is None else _scratch(name, 16 * step, dtype)
    return np.lib.stride_tricks.as_strided(flat, (16, rows, cols), (step * flat.itemsize, cols * flat.itemsize,
                                                                    flat.itemsize))


# Note [kept weight transforms]: at batch 1 the weight transform of a large layer costs about as much as its GEMMs
# (512 x 512 channels at 7x7: 1.6 ms, 16 tiles), so inference folding's `_conv_fused`, whose weights rarely change
# between calls, keeps U per weight array. A kept U is used only while the weights are bit for bit those it was made
# from: the entry holds a copy of them, compared at every call (`same_bits`: one read of both, memory traffic alone:
# 0.69 ms at 512 x 512, 0.004 ms at 64 x 64 against a 0.02 ms transform; it stops at the first block that differs).
# So an in-place write (an optimizer step, `w[:] =`, `set_data`), a new array at a freed address or another layer's
# weights never get a stale U, whatever wrote them. (Nothing cheaper is as sure: the kernel sees numpy arrays, and
# not every write to one goes through an engine push.) Entries are keyed by the weights' address, shape and dtype,
# and dropped with the array owning the buffer (weakref.finalize); new ones are not kept beyond KEPT_BYTES (no
# eviction: a model larger than that keeps its first layers' rather than thrashing); an entry whose weights changed
# is made again in place of the old one. resnet18_v1 keeps ~105 MB (U is 16/9 of the weights, plus the copy).
KEPT_BYTES = 512 << 20
_kept = {}                          # (address, shape, dtype) -> _Kept
_kept_lock = threading.Lock()


class _Kept:
    __slots__ = ("bits", "nbytes", "u")

    def __init__(self, bits, u):
        self.bits, self.u = bits, u     # a copy of the weights' bits, and their transform
        self.nbytes = bits.nbytes + u.nbytes


@numba.njit(nogil=True, cache=True)
def same_bits(a, b):
    """Whether the flat unsigned integer arrays a and b (one size) are equal: blocks of 4096 elements OR-ed
    together (a loop that vectorises; bounds that depend on the block only, else it did not, 2.5x slower),
    stopping at the first block that differs."""
    n = a.size
    blocks = n // 4096
    for k in range(blocks):
        diff = np.uint64(0)
        start = k * 4096
        for i in range(start, start + 4096):
            diff |= a[i] ^ b[i]
        if diff != 0:
            return False
    diff = np.uint64(0)
    for i in range(blocks * 4096, n):
        diff |= a[i] ^ b[i]
    return diff == 0


def _bits(w):
    """w's (contiguous) elements as unsigned integers of the same size, flat."""
    return w.reshape(-1).view(np.uint64 if w.itemsize == 8 else np.uint32)


def _owner(w):
    """The ndarray owning w's buffer (w's last ndarray base)."""
    while isinstance(w.base, np.ndarray):
        w = w.base
    return w


def _forget(key):
    _kept.pop(key, None)    # no lock: a finalizer may run inside this thread's locked block; a pop is atomic


def kept_transform(w):
    """The transform U (16, F, C: `planes`) of the C-contiguous float weights w (F, C, 3, 3), kept between calls
    while w's bits stay the same (Note [kept weight transforms])."""
    key = (w.ctypes.data, w.shape, w.dtype.str)
    with _kept_lock:
        kept = _kept.get(key)
    bits = _bits(w)
    if kept is not None and same_bits(bits, kept.bits):
        return kept.u
    u = planes(w.shape[0], w.shape[1], w.dtype)
    weight_transform(w, u)
    kept = _Kept(bits.copy(), u)
    with _kept_lock:
        old = _kept.get(key)
        used = sum(k.nbytes for k in list(_kept.values())) - (old.nbytes if old is not None else 0)
        if used + kept.nbytes > KEPT_BYTES:
            return u
        if old is None:
            weakref.finalize(_owner(w), _forget, key)
        _kept[key] = kept
    return u


class Winograd:
    """One thread's workspace for the forward of samples (C, H, W) -> (F, OH, OW): the transformed weights `u`
    (shared, made once per call), V and M for `per_gemm` samples."""

    def __init__(self, u, channels, out_dims, pad, per_gemm, dtype):
        self.u, self.pad = u, pad
        self.tiles_h, self.tiles_w = tiles(*out_dims)
        self.per_sample = self.tiles_h * self.tiles_w
        columns = per_gemm * self.per_sample
        self.padded = np.zeros((channels, 2 * self.tiles_h + 2, 2 * self.tiles_w + 2), dtype)    # borders stay 0
        self.v = planes(channels, columns, dtype, "v")
        self.m = planes(u.shape[1], columns, dtype, "m")

    def transform(self, xs):
        """The transformed tiles (16, C, len(xs) * tiles) of a group of samples, and M's matching (16, F, .)."""
        n, T = xs.shape[0], self.per_sample
        (ph, pw), (h, w) = self.pad, xs.shape[2:]
        for i in range(n):
            self.padded[:, ph:ph + h, pw:pw + w] = xs[i]
            input_transform(self.padded, self.tiles_h, self.tiles_w, self.v, i * T)
        columns = n * T
        v, m = self.v[:, :, :columns], self.m[:, :, :columns]
        if columns != self.v.shape[2]:     # the last, smaller group: contiguous operands for BLAS
            v, m = planes(*v.shape[1:], v.dtype, "last v"), planes(*m.shape[1:], m.dtype, "last m")
            v[...] = self.v[:, :, :columns]
        return v, m

    def finish(self, u, v, m, dsts, scale, bias, act_args):
        """dsts[i] = the epilogue of the tiles of sample i: M = U @ V, one GEMM per transformed element, then the
        output transform (u, m, dsts, scale, bias: the same rows of output channels)."""
        np.matmul(u, v, out=m)
        for i in range(dsts.shape[0]):
            output_transform(m, i * self.per_sample, self.tiles_w, scale, bias, *act_args, dsts[i])

    def run(self, xs, dsts, scale, bias, act_args):
        """dsts[i] = the epilogue of conv(xs[i], w) for a group of samples."""
        v, m = self.transform(xs)
        self.finish(self.u, v, m, dsts, scale, bias, act_args)

    def split(self, xs, dsts, scale, bias, act_args, parts, for_each, flops):
        """`run` with the GEMMs and the output transform split by output channels over `parts` threads."""
        v, m = self.transform(xs)
        filters = self.u.shape[1]

        def part(k):
            f0, f1 = filters * k // parts, filters * (k + 1) // parts
            self.finish(self.u[:, f0:f1], v, m[:, f0:f1], dsts[:, f0:f1], scale[f0:f1], bias[f0:f1], act_args)
        for_each(parts, lambda: part, flops)


def forward(x, w, pad, dst, scale, bias, act_args, for_each, cores=1, u=None):
    """dst (N, F, OH, OW) = conv(x (N, C, H, W), w (F, C, 3, 3)) with `pad` (h, w), then * scale + bias per
    channel and the activation (`act_args`: conv_epilogue.Activation.args()). `u`: w's transform, if the caller
    has it (`kept_transform`, `data_grad_transform`: w may then be None), else made here. Samples go in groups of
    about GROUP_TILES tile columns over `for_each` (conv_parallel.for_each); where there are fewer groups than
    `cores` (batch 1), each group is transformed once and its GEMMs and output transform split by output
    channels."""
    n, channels = x.shape[:2]
    filters = w.shape[0] if u is None else u.shape[1]
    if u is None:
        u = planes(filters, channels, x.dtype, "u")
        weight_transform(np.ascontiguousarray(w, x.dtype), u)
    per_sample = tiles(*dst.shape[2:])[0] * tiles(*dst.shape[2:])[1]
    per_gemm = max(1, min(n, -(-GROUP_TILES // per_sample)))
    groups = -(-n // per_gemm)
    flops = 2.0 * 16 * filters * channels * per_sample * n
    parts = min(cores // groups, filters // ROWS_PER_PART)
    if parts > 1:
        for k in range(groups):
            work = Winograd(u, channels, dst.shape[2:], pad, per_gemm, x.dtype)
            work.split(x[k * per_gemm:(k + 1) * per_gemm], dst[k * per_gemm:(k + 1) * per_gemm], scale, bias,
                       act_args, parts, for_each, flops / groups)
        return

    def make_worker():
        work = Winograd(u, channels, dst.shape[2:], pad, per_gemm, x.dtype)
        return lambda k: work.run(x[k * per_gemm:(k + 1) * per_gemm], dst[k * per_gemm:(k + 1) * per_gemm],
                                  scale, bias, act_args)
    for_each(groups, make_worker, flops)
