"""CPU kernels of ops/resize.py: bilinear resizing as two small interpolation matrices.

Bilinear interpolation is separable: out = A_h x A_w^T per image and channel, where row d of A_h holds the two
weights (1 - l, l) of output row d's source rows (ops/resize.py gives the coordinates). So the forward and the
backward (dx = A_h^T dy A_w) are batched matmuls on BLAS; float16 computes in float32 and rounds once.
"""
import numpy as np

from .common import assign, compute_dtype


def interpolation_matrix(n_in, n_out, align_corners, dtype):
    """(n_out, n_in) weights: output d samples source coordinate src(d) between floor(src) and the next index."""
    d = np.arange(n_out, dtype=np.float64)
    if n_out == 1:
        src = np.zeros(1)
    elif align_corners:
        src = d * ((n_in - 1) / (n_out - 1))
    else:
        src = np.maximum((d + 0.5) * (n_in / n_out) - 0.5, 0.0)
    low = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    high = np.minimum(low + 1, n_in - 1)
    frac = src - low
    matrix = np.zeros((n_out, n_in), np.float64)
    rows = np.arange(n_out)
    np.add.at(matrix, (rows, low), 1.0 - frac)
    np.add.at(matrix, (rows, high), frac)
    return matrix.astype(dtype)


def _matrices(p, in_hw, out_hw, dtype):
    return [interpolation_matrix(i, o, p.align_corners, dtype) for i, o in zip(in_hw, out_hw)]


def bilinear_resize(ctx, p, inputs, outputs, req):
    x, out = inputs[0], outputs[0]
    cdt = compute_dtype(x.dtype)
    rows, cols = _matrices(p, x.shape[2:], out.shape[2:], cdt)
    assign(out, req[0], rows @ x.astype(cdt, copy=False) @ cols.T)


def backward_bilinear_resize(ctx, p, inputs, outputs, req):
    dy, x = inputs
    cdt = compute_dtype(dy.dtype)
    rows, cols = _matrices(p, x.shape[2:], dy.shape[2:], cdt)
    assign(outputs[0], req[0], rows.T @ dy.astype(cdt, copy=False) @ cols)
