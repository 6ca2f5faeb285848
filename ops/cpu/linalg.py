"""CPU kernels of the batched matrix products: batch_dot, linalg gemm and gemm2, and their gradients.

Every product goes through numpy's matmul with `out=`, which runs BLAS gemm per matrix of the batch (and releases
the GIL). A transposed operand is a swapped-axes view, never a copy: BLAS reads it transposed. gemm's `axis` (the
row axis) is likewise a view that swaps it with the second-to-last axis, in the inputs and in the output written.
float16 (batch_dot only: MXNet's la_op rejects it) is computed in float32 and rounded once.
"""
import numpy as np

from .common import F16, F32, store


def _t(x, transpose):
    """x with its last two axes swapped when transpose (a view)."""
    return np.swapaxes(x, -1, -2) if transpose else x


def _rows_last(x, axis):
    """A view of x whose row axis `axis` is second to last (gemm's `axis`; -2 is already there)."""
    axis = axis % x.ndim
    return x if axis == x.ndim - 2 else np.swapaxes(x, axis, -2)


def matmul(a, b, dst, alpha=1.0):
    """dst = alpha * (a @ b), batched over the leading axes; dst may be a strided view."""
    if dst.dtype == F16:
        np.copyto(dst, np.matmul(a.astype(F32), b.astype(F32)) * np.float32(alpha), casting="unsafe")
        return
    np.matmul(a, b, out=dst)
    if alpha != 1.0:
        dst *= dst.dtype.type(alpha)


def _matmul_grads(dy, a, b, ta, tb, alpha, outputs, req, axis=-2):
    """Gradients of Y = alpha * op(A) op(B) into outputs[0] (dA) and outputs[1] (dB).

    d op(A) = alpha dY op(B)^T and d op(B) = alpha op(A)^T dY; a transposed operand takes the transpose of that,
    computed directly as a product of views: dA = alpha op(B) dY^T when ta, dB = alpha dY^T op(A) when tb."""
    dy, a, b = _rows_last(dy, axis), _rows_last(a, axis), _rows_last(b, axis)
    op_a, op_b = _t(a, ta), _t(b, tb)
    da = (op_b, _t(dy, True)) if ta else (dy, _t(op_b, True))
    db = (_t(dy, True), op_a) if tb else (_t(op_a, True), dy)
    store(outputs[0], req[0], lambda dst: matmul(*da, _rows_last(dst, axis), alpha))
    store(outputs[1], req[1], lambda dst: matmul(*db, _rows_last(dst, axis), alpha))


# ---- batch_dot -------------------------------------------------------------------------------------------------
def batch_dot(ctx, p, inputs, outputs, req):
    a, b = _t(inputs[0], p.transpose_a), _t(inputs[1], p.transpose_b)
    store(outputs[0], req[0], lambda dst: matmul(a, b, dst))


def backward_batch_dot(ctx, p, inputs, outputs, req):
    dy, lhs, rhs = inputs
    _matmul_grads(dy, lhs, rhs, p.transpose_a, p.transpose_b, 1.0, outputs, req)


# ---- linalg gemm, gemm2 ----------------------------------------------------------------------------------------
def linalg_gemm(ctx, p, inputs, outputs, req):
    """out = alpha op(A) op(B) + beta C, rows along `axis`, columns along the last axis."""
    a, b, c = (_rows_last(x, p.axis) for x in inputs)

    def compute(dst):
        d = _rows_last(dst, p.axis)
        matmul(_t(a, p.transpose_a), _t(b, p.transpose_b), d, p.alpha)
        if p.beta != 0.0:
            d += c * d.dtype.type(p.beta) if p.beta != 1.0 else c
    store(outputs[0], req[0], compute)


def backward_linalg_gemm(ctx, p, inputs, outputs, req):
    """inputs (dY, A, B) -> dA, dB, dC = beta dY."""
    dy, a, b = inputs
    _matmul_grads(dy, a, b, p.transpose_a, p.transpose_b, p.alpha, outputs, req, p.axis)
    store(outputs[2], req[2], lambda dst: np.multiply(dy, dy.dtype.type(p.beta), out=dst))


def linalg_gemm2(ctx, p, inputs, outputs, req):
    """out = alpha op(A) op(B), rows along `axis`, columns along the last axis."""
    a, b = (_rows_last(x, p.axis) for x in inputs)
    store(outputs[0], req[0], lambda dst: matmul(_t(a, p.transpose_a), _t(b, p.transpose_b),
                                                 _rows_last(dst, p.axis), p.alpha))


def backward_linalg_gemm2(ctx, p, inputs, outputs, req):
    dy, a, b = inputs
    _matmul_grads(dy, a, b, p.transpose_a, p.transpose_b, p.alpha, outputs, req, p.axis)
