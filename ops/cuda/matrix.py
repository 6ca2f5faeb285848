"""CUDA kernels of the matrix family: a shared-memory tiled GEMM, dot and its gradient, the view ops, broadcast_to.

GEMM (`gemm`): C = alpha * A @ B (+ bias per column) over a batch (blockIdx.z), every operand given as a flat
array with a row stride, a column stride and a batch stride in elements, so transposed operands, `dot`'s 2-D
views of n-d arrays and gradients written straight into a transposed layout cost no copy. Each block computes a
BM x BN tile of C: per step it stages a BK-deep slice of A and B in shared memory, and each of its
(BM/TM) x (BN/TN) threads accumulates a TM x TN register tile (rows ty + i*BM/TM, columns tx + j*BN/TN), so a
value read from shared memory feeds TM or TN multiply-adds. Accumulation is in the data's dtype (float32 as
cuBLAS's SGEMM; float16 data goes through float32 copies). The simulator runs a smaller tile (2 x 2 threads'
worth of 2 x 2 registers) of the same code, since it pays per thread.
"""
from numba import cuda, float32, float64, types

from ..registry import ADD, NULL, WRITE
from .common import (F16, F32, SIMULATOR, as_compute, broadcast_into, compute_dtype, copy_into, copy_view, declare,
                     empty, flat, in_compute_dtype, stream)
from .elemwise import cast as elemwise_cast

# (BM, BN, BK, TM, TN)
TILES = (8, 8, 4, 2, 2) if SIMULATOR else (64, 64, 16, 4, 4)


def _gemm_kernel(dtype, bm, bn, bk, tm, tn):
    tx_n, ty_n = bn // tn, bm // tm
    nthreads = tx_n * ty_n

    @cuda.jit
    def kernel(c, a, b, bias, m_, n_, k_, ars, acs, abz, brs, bcs, bbz, crs, ccs, cbz, alpha, has_bias, add):
        a_tile = cuda.shared.array((bk, bm), dtype)      # a_tile[k, m]
        b_tile = cuda.shared.array((bk, bn), dtype)      # b_tile[k, n]
        acc = cuda.local.array((tm, tn), dtype)
        ra = cuda.local.array(tm, dtype)
        rb = cuda.local.array(tn, dtype)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        tid = ty * tx_n + tx
        z = cuda.blockIdx.z
        m0 = cuda.blockIdx.y * bm
        n0 = cuda.blockIdx.x * bn
        a0 = z * abz
        b0 = z * bbz
        zero = dtype(0)
        for i in range(tm):
            for j in range(tn):
                acc[i, j] = zero
        for k0 in range(0, k_, bk):
            e = tid
            while e < bm * bk:            # consecutive threads read consecutive k (coalesced when acs == 1)
                mm = e // bk
                kk = e - mm * bk
                m = m0 + mm
                k = k0 + kk
                a_tile[kk, mm] = a[a0 + m * ars + k * acs] if m < m_ and k < k_ else zero
                e += nthreads
            e = tid
            while e < bk * bn:            # consecutive threads read consecutive n (coalesced when bcs == 1)
                kk = e // bn
                nn = e - kk * bn
                n = n0 + nn
                k = k0 + kk
                b_tile[kk, nn] = b[b0 + k * brs + n * bcs] if n < n_ and k < k_ else zero
                e += nthreads
            cuda.syncthreads()
            for kk in range(bk):
                for i in range(tm):
                    ra[i] = a_tile[kk, ty + i * ty_n]
                for j in range(tn):
                    rb[j] = b_tile[kk, tx + j * tx_n]
                for i in range(tm):
                    for j in range(tn):
                        acc[i, j] += ra[i] * rb[j]
            cuda.syncthreads()
        for i in range(tm):
            m = m0 + ty + i * ty_n
            if m < m_:
                for j in range(tn):
                    n = n0 + tx + j * tx_n
                    if n < n_:
                        v = acc[i, j] * alpha
                        if has_bias:
                            v += bias[n]
                        idx = z * cbz + m * crs + n * ccs
                        if add:
                            c[idx] += v
                        else:
                            c[idx] = v
    return kernel


_KERNELS = {F32: _gemm_kernel(float32, *TILES)}
_A32 = types.Array(types.float32, 1, "C")
_I = types.int64
declare("matrix.gemm_f32", _KERNELS[F32], [(_A32, _A32, _A32, _A32) + (_I,) * 12 + (types.float32, types.boolean,
                                                                                  types.boolean)])
_A64 = types.Array(types.float64, 1, "C")
_KERNELS[compute_dtype("float64")] = _gemm_kernel(float64, *TILES)
declare("matrix.gemm_f64", _KERNELS[compute_dtype("float64")],
        [(_A64, _A64, _A64, _A64) + (_I,) * 12 + (types.float64, types.boolean, types.boolean)])


class Mat:
    """A (batch of) matrix view: flat device array `data`, `rows` x `cols`, element strides (rs, cs) and a batch
    stride bs (0: the same matrix for every batch element)."""
    __slots__ = ("data", "rows", "cols", "rs", "cs", "bs")

    def __init__(self, data, rows, cols, rs, cs, bs=0):
        self.data, self.rows, self.cols, self.rs, self.cs, self.bs = flat(data), rows, cols, rs, cs, bs

    @classmethod
    def rowmajor(cls, data, rows, cols, batch_stride=None):
        return cls(data, rows, cols, cols, 1, rows * cols if batch_stride is None else batch_stride)

    @property
    def T(self):
        return Mat(self.data, self.cols, self.rows, self.cs, self.rs, self.bs)


def gemm(a, b, c, batch=1, alpha=1.0, bias=None, req=WRITE):
    """c (req) alpha * a @ b (+ bias[col]) for Mat views a (M, K), b (K, N), c (M, N), batched. Data of one float
    dtype, float32 or float64 (float16: convert first, see `gemm_any`)."""
    if req == NULL:
        return
    m, k, n = a.rows, a.cols, b.cols
    assert b.rows == k and c.rows == m and c.cols == n, (a.rows, a.cols, b.rows, b.cols, c.rows, c.cols)
    dtype = c.data.dtype
    kernel = _KERNELS[dtype]
    if m == 0 or n == 0:
        return
    bm, bn, bk, tm, tn = TILES
    grid = (-(-n // bn), -(-m // bm), batch)
    has_bias = bias is not None
    kernel[grid, (bn // tn, bm // tm), stream()](
        c.data, a.data, b.data, flat(bias) if has_bias else c.data, m, n, k, a.rs, a.cs, a.bs, b.rs, b.cs, b.bs,
        c.rs, c.cs, c.bs, dtype.type(alpha), has_bias, req == ADD)


def gemm_any(a_arr, b_arr, out, make, req, alpha=1.0, bias=None, batch=1):
    """gemm for any float dtype: converts float16 operands to float32 and writes float16 outputs through a scratch.
    `make(a, b, c)` -> (Mat a, Mat b, Mat c) from the (converted) arrays."""
    if req == NULL or out.size == 0:
        return
    cdt = compute_dtype(out.dtype)
    a_arr, b_arr = as_compute(a_arr, cdt), as_compute(b_arr, cdt)
    bias = None if bias is None else as_compute(bias, cdt)

    def compute(dst, r=WRITE):
        ma, mb, mc = make(a_arr, b_arr, dst)
        gemm(ma, mb, mc, batch, alpha, bias, r)
    if cdt != out.dtype:
        in_compute_dtype(out, req, compute)
    else:
        compute(out, req)


def _dot_mats(lhs, rhs, ta, tb):
    """Mat views (M, K) and (K, N) of dot's operands (see _as_matrices in ops/cpu/matrix.py)."""
    if lhs.ndim == 1:
        a = Mat(lhs, 1, lhs.size, lhs.size, 1)
    elif ta:
        rows = lhs.size // lhs.shape[0]
        a = Mat(lhs, rows, lhs.shape[0], 1, rows)
    else:
        a = Mat.rowmajor(lhs, lhs.size // lhs.shape[lhs.ndim - 1], lhs.shape[lhs.ndim - 1])
    if rhs.ndim == 1:
        b = Mat(rhs, rhs.size, 1, 1, 1)
    elif tb:
        rows = rhs.size // rhs.shape[rhs.ndim - 1]
        b = Mat(rhs, rhs.shape[rhs.ndim - 1], rows, 1, rhs.shape[rhs.ndim - 1])
    else:
        b = Mat.rowmajor(rhs, rhs.shape[0], rhs.size // rhs.shape[0])
    return a, b


def dot(ctx, p, inputs, outputs, req):
    def make(lhs, rhs, dst):
        a, b = _dot_mats(lhs, rhs, p.transpose_a, p.transpose_b)
        return a, b, Mat.rowmajor(dst, a.rows, b.cols)
    gemm_any(inputs[0], inputs[1], outputs[0], make, req[0])


def backward_dot(ctx, p, inputs, outputs, req):
    """dA = dY B^T and dB = A^T dY, each written through the same strides as the operand's view (so a transposed
    operand's gradient lands in its layout with no transpose)."""
    dy, lhs, rhs = inputs
    cdt = compute_dtype(outputs[0].dtype)
    dy, lhs, rhs = as_compute(dy, cdt), as_compute(lhs, cdt), as_compute(rhs, cdt)

    def grad_a(dst, r=WRITE):
        a, b = _dot_mats(lhs, rhs, p.transpose_a, p.transpose_b)
        da, _ = _dot_mats(dst, rhs, p.transpose_a, p.transpose_b)
        gemm(Mat.rowmajor(dy, a.rows, b.cols), b.T, da, req=r)

    def grad_b(dst, r=WRITE):
        a, b = _dot_mats(lhs, rhs, p.transpose_a, p.transpose_b)
        _, db = _dot_mats(lhs, dst, p.transpose_a, p.transpose_b)
        gemm(a.T, Mat.rowmajor(dy, a.rows, b.cols), db, req=r)
    for fn, out, r in ((grad_a, outputs[0], req[0]), (grad_b, outputs[1], req[1])):
        if r == NULL or out.size == 0:
            continue
        if out.dtype != cdt:
            in_compute_dtype(out, r, fn)
        else:
            fn(out, r)


def reshape(ctx, p, inputs, outputs, req):
    """A view: copies only when the output is not already the input's memory."""
    copy_view(inputs[0], outputs[0], req[0])


def broadcast_to(ctx, p, inputs, outputs, req):
    broadcast_into(inputs[0], outputs[0], req[0])


def amp_multicast(ctx, p, inputs, outputs, req):
    """Each output is its input converted to the output's dtype."""
    for x, out, r in zip(inputs, outputs, req):
        copy_into(x, out, r)


KERNELS = {"dot": dot, "_backward_dot": backward_dot, "Reshape": reshape, "Flatten": reshape,
           "reshape_like": reshape, "broadcast_to": broadcast_to, "broadcast_axis": broadcast_to,
           "amp_cast": elemwise_cast, "amp_multicast": amp_multicast}
WITHOUT = {name: "a few int64 values read from the input's shape, not its data: written on the host"
           for name in ("shape_array", "size_array")}
__all__ = ["KERNELS", "gemm", "gemm_any", "Mat", "F16", "F32", "empty"]
