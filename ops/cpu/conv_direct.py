"""Convolution's direct path: which cases take it, the views its njit loops want, and the loops run sample by
sample on the cores (ops/cpu/conv_parallel.py).

Depthwise convolution (num_group == channels > 1) runs the loops of ops/cpu/conv_depthwise.py: wide rows for unit
strides, row loops otherwise. Other grouped convolutions (1 < num_group < channels, ResNeXt's) stay im2col + one
GEMM per group: direct loops over a group's 4-16 channels (wide rows, blocks of 4 output channels, vectorised)
were measured against it at ResNeXt-50's shapes and paid nowhere clearly (forward within +-20% at 4 channels per
group, 1.1-2x slower from 8; backward 1.5-3x slower), so they were not kept.

Geometry (kernel, stride, pad, dilate as 3-tuples) and the (N, C, D, H, W) views come from ops/cpu/conv.py.
"""
import numpy as np

from .conv_depthwise import depthwise_backward, depthwise_backward_wide, depthwise_forward, depthwise_forward_wide
from .conv_depthwise import BLOCK_POSITIONS, depthwise_forward_planes, phase_geometry
from .conv_epilogue import Activation, channel_args, epilogue_in_place
from .conv_parallel import for_each, reduce_over, threads

__all__ = ["direct_backward", "direct_forward", "direct_path"]

# A single sample's channels split into this many blocks per thread (taken one at a time: a busy core takes fewer).
CHANNEL_BLOCKS_PER_THREAD = 4
# The depthwise loops' work counted for conv_parallel's threshold as GEMM work of this many times their flops (they
# run at about 1/8 of a GEMM's rate: a sample's 7 MFLOP at 112x112 is ~0.5 ms, well worth a second thread).
GEMM_RATE_RATIO = 8

def direct_path(p, channels):
    """'depthwise', or None (im2col + GEMM) for a Convolution of `channels` input channels."""
    return "depthwise" if 1 < p.num_group == channels else None


def _wide_offsets(kernel, dilate, padded):
    """Flat offsets of the kernel taps in the zero-padded image (Note [wide columns] in ops/cpu/conv.py)."""
    Hp, Wp = padded[1], padded[2]
    return np.array([((a * dilate[0]) * Hp + b * dilate[1]) * Wp + e * dilate[2]
                     for a in range(kernel[0]) for b in range(kernel[1]) for e in range(kernel[2])], np.int64)


class _Views:
    """The weight and geometry arguments of the depthwise loops: `wide` (unit strides) passes (offsets, pad,
    padded) and the weight as (F, taps); otherwise (stride, pad, dilate) and the weight as (F, KD, KH, KW)."""

    def __init__(self, geometry, x5, w):
        kernel, stride, pad, dilate = geometry
        self.wide = stride == (1, 1, 1)
        if not self.wide:
            self.geometry, self.w = (stride, pad, dilate), w.reshape((w.shape[0],) + kernel)
            return
        padded = tuple(n + 2 * q for n, q in zip(x5.shape[2:], pad))
        self.geometry = (_wide_offsets(kernel, dilate, padded), pad, padded)
        self.w = w.reshape(w.shape[0], -1)


def direct_forward(geometry, x5, w, b, y5, act=None):
    """y5 = conv(x5, w) + b, then the Activation act (None: none; ops/cpu/conv_epilogue.py) on the direct path;
    x5, y5 (N, C|F, D, H, W)."""
    kernel, stride, pad, dilate = geometry
    if x5.shape[2] == 1 and kernel[0] == 1 and pad[0] == 0:        # 1-D and 2-D
        _planes_forward(geometry, x5, w, b, y5, act or Activation.none(y5.dtype))
        return
    v = _Views(geometry, x5, w)
    bias = np.zeros(w.shape[0], y5.dtype) if b is None else b

    def sample(i):
        xi, yi = x5[i:i + 1], y5[i:i + 1]
        if v.wide:
            depthwise_forward_wide(xi, v.w, v.geometry[0], bias, *v.geometry[1:], yi)
        else:
            depthwise_forward(xi, v.w, bias, *v.geometry, yi)
        if act is not None and act.on:
            epilogue_in_place(yi.reshape(yi.shape[1], -1), *channel_args(None, None, yi.shape[1], yi.dtype),
                              *act.args())
    for_each(x5.shape[0], lambda: sample, 2.0 * y5.size * (w.size // w.shape[0]))


def _planes_forward(geometry, x5, w, b, y5, act):
    """direct_forward of 1-D and 2-D depthwise convolutions over phase planes (any stride; Note [phase planes] in
    ops/cpu/conv_depthwise.py), the activation applied as the rows are written; fewer samples than threads split
    each sample's channels into blocks that the threads take one at a time."""
    kernel, stride, pad, dilate = geometry
    N, C, _, H, W = x5.shape
    F, OH, OW = y5.shape[1], y5.shape[3], y5.shape[4]
    Hq, Wq, offsets = phase_geometry((H, W), kernel[1:], stride[1:], pad[1:], dilate[1:])
    x4, y4, w2 = x5.reshape(N, C, H, W), y5.reshape(N, F, OH, OW), w.reshape(F, -1)
    bias = np.zeros(F, y5.dtype) if b is None else b
    blocks = 1 if N >= threads() else min(C, CHANNEL_BLOCKS_PER_THREAD * threads())
    args = act.args()

    def make_worker():
        planes = np.empty(stride[1] * stride[2] * Hq * Wq, y5.dtype)
        acc = np.empty(max(BLOCK_POSITIONS, Wq) + Wq, y5.dtype)

        def item(k):
            n, block = divmod(k, blocks)
            depthwise_forward_planes(x4, w2, offsets, stride[1:], pad[1:], Hq, Wq, bias, n, C * block // blocks,
                                     C * (block + 1) // blocks, planes, acc, *args, y4)
        return item
    for_each(N * blocks, make_worker, GEMM_RATE_RATIO * 2.0 * y5.size * w2.shape[1])


def direct_backward(geometry, dy5, x5, w, dx5, dw):
    """dx5 += the data gradient (dx5 None: not wanted) and dw (shaped like w; None: not wanted) += the weight
    gradient on the direct path, samples spread over the threads, each summing its own weight gradient."""
    v = _Views(geometry, x5, w)
    run = depthwise_backward_wide if v.wide else depthwise_backward
    no_dx = np.empty((0,) * 5, x5.dtype)

    class Worker:
        def __init__(self):
            self.dw = np.empty((0,) * v.w.ndim, x5.dtype)

        def start(self, share):
            if dw is not None:
                self.dw = np.zeros(v.w.shape, x5.dtype)

        def finish(self):
            return self.dw if dw is not None else None

        def __call__(self, i):
            dxi = dx5[i:i + 1] if dx5 is not None else no_dx
            run(dy5[i:i + 1], x5[i:i + 1], v.w, *v.geometry, dx5 is not None, dxi, dw is not None, self.dw)
    flops = 2.0 * dy5.size * (w.size // w.shape[0]) * ((dx5 is not None) + (dw is not None))
    partials = reduce_over(x5.shape[0], Worker, flops)
    if dw is not None:
        total = dw.reshape(v.w.shape)
        for part in partials:       # in share order: Note [a reduction's bits] in ops/cpu/conv_parallel.py
            total += part
