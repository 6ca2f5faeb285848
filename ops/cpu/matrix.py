"""CPU kernels of the matrix family: dot (BLAS through np.dot), the view ops Reshape and Flatten, broadcast_to."""
import numpy as np

from .common import F16, F32, assign, copy_view, store


def _as_matrices(lhs, rhs, transpose_a, transpose_b):
    """2-D views (M, K) and (K, N) of dot's operands: lhs's contracted axis is its last (first if transpose_a),
    rhs's its first (last if transpose_b); a 1-D operand is a row (lhs) or a column (rhs)."""
    if lhs.ndim == 1:
        a = lhs.reshape(1, -1)
    elif transpose_a:
        a = lhs.reshape(lhs.shape[0], -1).T
    else:
        a = lhs.reshape(-1, lhs.shape[-1])
    if rhs.ndim == 1:
        b = rhs.reshape(-1, 1)
    elif transpose_b:
        b = rhs.reshape(-1, rhs.shape[-1]).T
    else:
        b = rhs.reshape(rhs.shape[0], -1)
    return a, b


def gemm(a, b, dst, bias=None):
    """dst (C-contiguous, 2-D) = a @ b (+ bias) through BLAS; float16 is computed in float32 and rounded once."""
    if dst.dtype == F16:
        y = np.dot(a.astype(F32), b.astype(F32))
        if bias is not None:
            y += bias
        np.copyto(dst, y, casting="unsafe")
    else:
        np.dot(a, b, out=dst)
        if bias is not None:
            dst += bias


def dot(ctx, p, inputs, outputs, req):
    a, b = _as_matrices(inputs[0], inputs[1], p.transpose_a, p.transpose_b)
    store(outputs[0], req[0], lambda dst: gemm(a, b, dst.reshape(a.shape[0], b.shape[1])))


def backward_dot(ctx, p, inputs, outputs, req):
    """Gradients of dot: with A, B the 2-D views of lhs and rhs, dA = dY B^T and dB = A^T dY."""
    dy, lhs, rhs = inputs
    a, b = _as_matrices(lhs, rhs, p.transpose_a, p.transpose_b)
    if dy.dtype == F16:
        a, b, dy = a.astype(F32), b.astype(F32), dy.astype(F32)
    g = dy.reshape(a.shape[0], b.shape[1])
    da, db = np.dot(g, b.T), np.dot(a.T, g)
    assign(outputs[0], req[0], (da.T if p.transpose_a and lhs.ndim > 1 else da).reshape(lhs.shape))
    assign(outputs[1], req[1], (db.T if p.transpose_b and rhs.ndim > 1 else db).reshape(rhs.shape))


def reshape_like(ctx, p, inputs, outputs, req):
    copy_view(inputs[0], outputs[0], req[0])


def reshape(ctx, p, inputs, outputs, req):
    """A view: copies only when the output is not already the input's memory."""
    copy_view(inputs[0], outputs[0], req[0])


flatten = reshape


def broadcast_to(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], inputs[0])


def shape_array(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], np.array(inputs[0].shape, np.int64))


def size_array(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], inputs[0].size)


def amp_multicast(ctx, p, inputs, outputs, req):
    """Each output is its input converted to the output's dtype."""
    for x, out, r in zip(inputs, outputs, req):
        assign(out, r, x)
