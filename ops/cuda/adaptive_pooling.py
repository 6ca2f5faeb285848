"""CUDA kernels of _contrib_AdaptiveAvgPooling2D and its backward (ops/conv.py; the CPU loops are in
ops/cpu/adaptive_pooling.py, whose docstring gives the windows).

Forward: one thread per output cell averages its window. Backward: one thread per input element gathers dy / size
from the windows that contain it (windows overlap, and a gather needs no atomics, so the sums are deterministic).
"""
from numba import cuda, float64, types

from ..registry import NULL
from .common import as_compute, declare, flat, in_compute_dtype, launch, stream


@cuda.jit(device=True)
def _bounds(i, size, out_size):
    """[start, end) of output cell i along an axis of `size` pooled to `out_size` cells."""
    return (i * size) // out_size, -((-(i + 1) * size) // out_size)


@cuda.jit
def _pool_kernel(out, x, h, w, oh, ow, total):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        j = t % ow
        i = (t // ow) % oh
        m = t // (ow * oh)
        h0, h1 = _bounds(i, h, oh)
        w0, w1 = _bounds(j, w, ow)
        s = 0.0
        for a in range(h0, h1):
            for b in range(w0, w1):
                s += float64(x[(m * h + a) * w + b])
        out[t] = s / ((h1 - h0) * (w1 - w0))
        t += step


@cuda.jit
def _pool_backward_kernel(dx, dy, h, w, oh, ow, total):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        b = t % w
        a = (t // w) % h
        m = t // (w * h)
        s = 0.0
        for i in range(oh):
            h0, h1 = _bounds(i, h, oh)
            if h0 <= a < h1:
                for j in range(ow):
                    w0, w1 = _bounds(j, w, ow)
                    if w0 <= b < w1:
                        s += float64(dy[(m * oh + i) * ow + j]) / ((h1 - h0) * (w1 - w0))
        dx[t] = s
        t += step


_I = types.int64
_SIGS = [(types.Array(t, 1, "C"),) * 2 + (_I,) * 5 for t in (types.float32, types.float64)]
declare("adaptive_pooling.pool", _pool_kernel, _SIGS)
declare("adaptive_pooling.pool_backward", _pool_backward_kernel, _SIGS)


def _go(kernel, n, *args):
    kernel[launch(n) + (stream(),)](*args)


def adaptive_avg_pooling(ctx, p, inputs, outputs, req):
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    x = as_compute(inputs[0])
    h, w = x.shape[2:]
    oh, ow = out.shape[2:]
    in_compute_dtype(out, req[0], lambda dst: _go(_pool_kernel, dst.size, flat(dst), flat(x), h, w, oh, ow,
                                                  dst.size))


def backward_adaptive_avg_pooling(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data) -> data_grad."""
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    dy = as_compute(inputs[0], None)
    h, w = out.shape[2:]
    oh, ow = dy.shape[2:]
    in_compute_dtype(out, req[0], lambda dst: _go(_pool_backward_kernel, dst.size, flat(dst), flat(dy), h, w, oh, ow,
                                                  dst.size))


KERNELS = {"_contrib_AdaptiveAvgPooling2D": adaptive_avg_pooling,
           "_backward_contrib_AdaptiveAvgPooling2D": backward_adaptive_avg_pooling}
WITHOUT = {}
