"""CPU kernels of _contrib_AdaptiveAvgPooling2D and its backward (ops/conv.py).

Output cell (i, j) of an (OH, OW) output over an (H, W) plane averages rows floor(i * H / OH) up to
ceil((i + 1) * H / OH) (exclusive) and the columns likewise: neighbouring windows overlap when OH does not divide H,
and an output larger than the input repeats input cells. Sums run in float64; float16 data is computed in float32.
"""
import numpy as np
from numba import njit

from .common import assign, compute_dtype


@njit(nogil=True, cache=True)
def _window(i, size, out_size):
    """[start, end) of output cell i along an axis of `size` pooled to `out_size` cells."""
    return (i * size) // out_size, -((-(i + 1) * size) // out_size)


@njit(nogil=True, cache=True)
def _pool(x, out):
    planes, h, w = x.shape
    oh, ow = out.shape[1], out.shape[2]
    for c in range(planes):
        for i in range(oh):
            h0, h1 = _window(i, h, oh)
            for j in range(ow):
                w0, w1 = _window(j, w, ow)
                s = 0.0
                for a in range(h0, h1):
                    for b in range(w0, w1):
                        s += x[c, a, b]
                out[c, i, j] = s / ((h1 - h0) * (w1 - w0))


@njit(nogil=True, cache=True)
def _pool_backward(dy, dx):
    """dx (zeroed by the caller) += dy of every window a cell lies in, divided by that window's size."""
    planes, h, w = dx.shape
    oh, ow = dy.shape[1], dy.shape[2]
    for c in range(planes):
        for i in range(oh):
            h0, h1 = _window(i, h, oh)
            for j in range(ow):
                w0, w1 = _window(j, w, ow)
                g = dy[c, i, j] / ((h1 - h0) * (w1 - w0))
                for a in range(h0, h1):
                    for b in range(w0, w1):
                        dx[c, a, b] += g


def _planes(x):
    """x (N, C, H, W) as a C-contiguous (N * C, H, W) block in the compute dtype."""
    return np.ascontiguousarray(x, dtype=compute_dtype(x.dtype)).reshape((-1,) + x.shape[2:])


def adaptive_avg_pooling(ctx, p, inputs, outputs, req):
    x, out = inputs[0], outputs[0]
    buf = np.empty((x.shape[0] * x.shape[1],) + out.shape[2:], compute_dtype(x.dtype))
    _pool(_planes(x), buf)
    assign(out, req[0], buf.reshape(out.shape))


def backward_adaptive_avg_pooling(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data) -> data_grad."""
    dy, x = inputs
    dx = np.zeros((x.shape[0] * x.shape[1],) + x.shape[2:], compute_dtype(x.dtype))
    _pool_backward(_planes(dy), dx)
    assign(outputs[0], req[0], dx.reshape(x.shape))
