"""CUDA kernels of ops/resize.py: _contrib_BilinearResize2D and its backward.

The CPU kernels (ops/cpu/resize.py) multiply by two interpolation matrices whose row d holds the weights (1 - l, l)
of output index d's two source indices; here `_source` gives those indices and l for one output index, the same
coordinates as `interpolation_matrix`. Forward: one thread per output pixel blends its four source pixels.
Backward: one thread per input pixel gathers dy over the output rows and columns that read it (the sampling is
monotone, so few do), so no atomics and deterministic sums. Accumulation is in float64; float16 data computes in
float32 (`in_compute_dtype`) as on the CPU.
"""
import math

from numba import cuda, float64, types

from ..registry import NULL
from .common import as_compute, declare, fill, flat, in_compute_dtype, launch, stream


@cuda.jit(device=True)
def _source(d, n_in, n_out, align_corners):
    """(low, high, frac): output index d reads (1 - frac) of source index low and frac of high."""
    if n_out == 1:
        src = 0.0
    elif align_corners:
        src = d * (float64(n_in - 1) / float64(n_out - 1))
    else:
        src = max((d + 0.5) * (float64(n_in) / float64(n_out)) - 0.5, 0.0)
    low = min(int(math.floor(src)), n_in - 1)
    return low, min(low + 1, n_in - 1), src - low


@cuda.jit(device=True)
def _weight(a, d, n_in, n_out, align_corners):
    """The weight of source index a in output index d (both source indices may be a, at the border)."""
    low, high, frac = _source(d, n_in, n_out, align_corners)
    w = 0.0
    if low == a:
        w += 1.0 - frac
    if high == a:
        w += frac
    return w


@cuda.jit
def _resize_kernel(out, x, h, w, oh, ow, align_corners, total):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        e = t % ow
        d = (t // ow) % oh
        base = (t // (ow * oh)) * h * w
        r0, r1, fr = _source(d, h, oh, align_corners)
        c0, c1, fc = _source(e, w, ow, align_corners)
        top = (1.0 - fc) * float64(x[base + r0 * w + c0]) + fc * float64(x[base + r0 * w + c1])
        bottom = (1.0 - fc) * float64(x[base + r1 * w + c0]) + fc * float64(x[base + r1 * w + c1])
        out[t] = (1.0 - fr) * top + fr * bottom
        t += step


@cuda.jit
def _resize_backward_kernel(dx, dy, h, w, oh, ow, align_corners, total):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        b = t % w
        a = (t // w) % h
        base = (t // (w * h)) * oh * ow
        s = 0.0
        for d in range(oh):
            wr = _weight(a, d, h, oh, align_corners)
            if wr != 0.0:
                for e in range(ow):
                    wc = _weight(b, e, w, ow, align_corners)
                    if wc != 0.0:
                        s += wr * wc * float64(dy[base + d * ow + e])
        dx[t] = s
        t += step


_I = types.int64
_SIGS = [(types.Array(t, 1, "C"),) * 2 + (_I,) * 4 + (types.boolean, _I) for t in (types.float32, types.float64)]
declare("resize.bilinear", _resize_kernel, _SIGS)
declare("resize.bilinear_backward", _resize_backward_kernel, _SIGS)


def _run(kernel, out, req, source, in_hw, out_hw, align_corners):
    if req == NULL or out.size == 0:
        return
    if source.size == 0:                # nothing to sample (or nothing to spread back): zeros
        fill(out, 0, req)
        return
    src = as_compute(source)

    def compute(dst):
        kernel[launch(dst.size) + (stream(),)](flat(dst), flat(src), *in_hw, *out_hw, align_corners, dst.size)
    in_compute_dtype(out, req, compute)


def bilinear_resize(ctx, p, inputs, outputs, req):
    x, out = inputs[0], outputs[0]
    _run(_resize_kernel, out, req[0], x, x.shape[2:], out.shape[2:], bool(p.align_corners))


def backward_bilinear_resize(ctx, p, inputs, outputs, req):
    """inputs (ograd, data) -> data's gradient."""
    dy, x = inputs
    _run(_resize_backward_kernel, outputs[0], req[0], dy, x.shape[2:], dy.shape[2:], bool(p.align_corners))


KERNELS = {"_contrib_BilinearResize2D": bilinear_resize, "_backward_contrib_BilinearResize2D": backward_bilinear_resize}
TESTED_THROUGH_GRADIENTS = ("_backward_contrib_BilinearResize2D",)
WITHOUT = {}
