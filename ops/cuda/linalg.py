"""CUDA kernels of batched products (batch_dot, linalg.gemm/gemm2), Deconvolution, and ordering (topk, sort,
argsort, argmax_channel).

The products run the batched tiled GEMM of ops/cuda/matrix.py on strided views (no copies): a transposed
operand is its Mat's `.T`, and gemm's row `axis` makes the batch two-level (the axes before the row axis, and
those between it and the last axis); when both levels have more than one matrix the outer level is a host loop of
launches over flat sub-views, the inner one the grid's z. Gradients mirror ops/cpu/linalg.py: d op(A) =
alpha dY op(B)^T and d op(B) = alpha op(A)^T dY, written straight through the transposed view of the gradient.
argmax_channel is argmax over axis 1 (ops/cuda/reduce.py's kernel).

Deconvolution is the transpose of a Convolution whose data is the Deconvolution's output and whose output is its
data (weight (C, F/g, *k): C filters over F channels, pad from `deconv_pad`), so ops/cuda/conv.py's kernels do it:
the forward is that convolution's data gradient (GEMM + col2im), the data gradient is that convolution's forward
(im2col + GEMM) of dY, the weight gradient is its weight gradient with the roles of data and output swapped, and
the bias gradient sums dY over batch and space.

Ordering (topk, sort, argsort): one thread per element counts the elements of its lane that sort before it (a
stable order: ties, and -0/+0, keep their index order; NaN is the largest), which is its rank; ranks below k name
the element's index at that place of the (pre, k, post) result. Values are then gathered, a mask is rank < k.
_backward_topk scatters the head gradient to the positions the indices name.
"""
from types import SimpleNamespace

from numba import cuda, types

from ..cpu import elemwise as cpu_elemwise
from ..cpu.conv import deconv_pad
from ..cpu.reduce import one_axis, topk_k
from ..registry import ADD, NULL, WRITE
from . import conv as cuda_conv
from .common import (F16, as_compute, compute_dtype, copy_into, declare, empty, fill, flat, in_compute_dtype, launch,
                     put, store, stream)
from .elemwise import map_binary
from .matrix import Mat, gemm
from .reduce import SUM, arg_search, run_reduce


@cuda.jit
def _scale_kernel(out, x, beta, add, n):
    # out = x * beta, or out += x * beta (add)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        v = x[i] * beta
        if add:
            out[i] += v
        else:
            out[i] = v
        i += step


_A32, _A64 = types.Array(types.float32, 1, "C"), types.Array(types.float64, 1, "C")
declare("linalg.scale", _scale_kernel, [(_A32, _A32, types.float32, types.boolean, types.int64),
                                        (_A64, _A64, types.float64, types.boolean, types.int64)])


def _scale(x, out, beta, add):
    n = out.size
    if n:
        _scale_kernel[launch(n) + (stream(),)](flat(out), flat(x), out.dtype.type(beta), add, n)


class _View:
    """A batch of matrices of an n-d array with rows along `axis` and columns along the last axis: `outer`
    matrices `ostride` apart, each holding `inner` matrices `istride` apart."""

    def __init__(self, x, axis):
        shape = x.shape
        nd = len(shape)
        axis %= nd
        self.data = flat(x)
        self.rows, self.cols = shape[axis], shape[nd - 1]
        self.inner = 1
        for d in shape[axis + 1:nd - 1]:
            self.inner *= d
        self.outer = 1
        for d in shape[:axis]:
            self.outer *= d
        self.rs = self.inner * self.cols
        self.istride = self.cols
        self.ostride = self.rows * self.rs

    def mat(self, o, single, transpose):
        """Mat of outer matrix o (single: the whole batch as one level), transposed when asked."""
        if single:
            bs = self.ostride if self.inner == 1 else self.istride
            data = self.data
        else:
            bs = self.istride
            data = self.data[o * self.ostride:]
        m = Mat(data, self.rows, self.cols, self.rs, 1, bs)
        return m.T if transpose else m


def _product(a, ta, b, tb, c, tc, axis, alpha, req):
    """c' (req) alpha * op(a) @ op(b) for arrays of one float dtype (float32/float64), where c' is c (tc: c^T)."""
    if req == NULL or c.size == 0:
        return
    va, vb, vc = _View(a, axis), _View(b, axis), _View(c, axis)
    single = vc.outer == 1 or vc.inner == 1
    batch = vc.outer * vc.inner if single else vc.inner
    for o in range(1 if single else vc.outer):
        gemm(va.mat(o, single, ta), vb.mat(o, single, tb), vc.mat(o, single, tc), batch, alpha, None, req)


def _product_any(a, ta, b, tb, out, tc, axis, alpha, req):
    """_product for any float dtype (float16 through float32)."""
    if req == NULL or out.size == 0:
        return
    cdt = compute_dtype(out.dtype)
    a, b = as_compute(a, cdt), as_compute(b, cdt)

    def compute(dst, r=WRITE):
        _product(a, ta, b, tb, dst, tc, axis, alpha, r)     # K == 0 gives zeros (the kernel's empty sum)
    if cdt != out.dtype:
        in_compute_dtype(out, req, compute)
    else:
        compute(out, req)


def _grads(dy, a, b, ta, tb, alpha, outputs, req, axis=-2):
    """dA, dB of Y = alpha op(A) op(B): d op(A) = alpha dY op(B)^T into op(dA), d op(B) = alpha op(A)^T dY into
    op(dB) (a transposed gradient view is written directly)."""
    cdt = compute_dtype(outputs[0].dtype)
    dy, a, b = as_compute(dy, cdt), as_compute(a, cdt), as_compute(b, cdt)
    # op(B)^T is B viewed with the opposite transpose; op(A)^T likewise
    _product_any(dy, False, b, not tb, outputs[0], ta, axis, alpha, req[0])
    _product_any(a, not ta, dy, False, outputs[1], tb, axis, alpha, req[1])


# ---- batch_dot -------------------------------------------------------------------------------------------------
def batch_dot(ctx, p, inputs, outputs, req):
    _product_any(inputs[0], p.transpose_a, inputs[1], p.transpose_b, outputs[0], False, -2, 1.0, req[0])


def backward_batch_dot(ctx, p, inputs, outputs, req):
    dy, lhs, rhs = inputs
    _grads(dy, lhs, rhs, p.transpose_a, p.transpose_b, 1.0, outputs, req)


# ---- linalg gemm, gemm2 ----------------------------------------------------------------------------------------
def linalg_gemm(ctx, p, inputs, outputs, req):
    """out = alpha op(A) op(B) + beta C (the product, then C * beta added, as the CPU kernel rounds)."""
    a, b, c = inputs

    def compute(dst):
        _product_any(a, p.transpose_a, b, p.transpose_b, dst, False, p.axis, p.alpha, WRITE)
        if p.beta != 0.0:
            _scale(c, dst, p.beta, True)
    store(outputs[0], req[0], compute)


def backward_linalg_gemm(ctx, p, inputs, outputs, req):
    """inputs (dY, A, B) -> dA, dB, dC = beta dY."""
    dy, a, b = inputs
    _grads(dy, a, b, p.transpose_a, p.transpose_b, p.alpha, outputs, req, p.axis)
    if req[2] != NULL:
        _scale(dy, outputs[2], p.beta, req[2] == ADD)


def linalg_gemm2(ctx, p, inputs, outputs, req):
    _product_any(inputs[0], p.transpose_a, inputs[1], p.transpose_b, outputs[0], False, p.axis, p.alpha, req[0])


def backward_linalg_gemm2(ctx, p, inputs, outputs, req):
    dy, a, b = inputs
    _grads(dy, a, b, p.transpose_a, p.transpose_b, p.alpha, outputs, req, p.axis)


# ---- argmax_channel --------------------------------------------------------------------------------------------
def argmax_channel(ctx, p, inputs, outputs, req):
    arg_search(inputs[0], 1, False, outputs[0], req[0])


# ---- Deconvolution -----------------------------------------------------------------------------------------------
def _as_conv(p, data_shape):
    """The Convolution params whose transpose is this Deconvolution (no bias: handled here)."""
    return SimpleNamespace(kernel=p.kernel, stride=p.stride, pad=deconv_pad(p, data_shape[2:]), dilate=p.dilate,
                           num_group=p.num_group, no_bias=True)


def deconvolution(ctx, p, inputs, outputs, req):
    """out = conv_transpose(data, weight) + bias."""
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    x, w = inputs[0], inputs[1]
    cdt = compute_dtype(out.dtype)
    dst = out if out.dtype == cdt and req[0] != ADD else empty(out.shape, cdt)
    cuda_conv._backward_convolution(ctx, _as_conv(p, x.shape), [x, dst, w], [dst, dst], [WRITE, NULL])
    if not p.no_bias:
        f = out.shape[1]
        bias = as_compute(inputs[2], cdt).reshape(1, f, 1)
        d3 = dst.reshape(out.shape[0], f, out.size // (out.shape[0] * f))
        map_binary(cpu_elemwise.add, d3, bias, d3, WRITE)
    if dst is not out:
        copy_into(dst, out, req[0])


def backward_deconvolution(ctx, p, inputs, outputs, req):
    """(out_grad, data, weight) -> (data_grad, weight_grad[, bias_grad])."""
    dy, x, w = inputs[:3]
    q = _as_conv(p, x.shape)
    if req[0] != NULL and outputs[0].size:
        cuda_conv.convolution(ctx, q, [dy, w], [outputs[0]], [req[0]])
    if req[1] != NULL and outputs[1].size:
        cuda_conv._backward_convolution(ctx, q, [x, dy, w], [outputs[1], outputs[1]], [NULL, req[1]])
    if not p.no_bias and req[2] != NULL:
        dyc = as_compute(dy)
        n, f = dy.shape[0], dy.shape[1]
        run_reduce(SUM, dyc.reshape(n, f, dy.size // (n * f) if n * f else 0), (0, 2), outputs[2], req[2])


# ---- topk, sort, argsort, _backward_topk ------------------------------------------------------------------------
@cuda.jit
def _rank_kernel(x, idx, mask, n, post, k, descending, total):
    # x viewed (pre, n, post): the rank r of element (p, j, q) in its lane's stable order; r < k: idx[p, r, q] = j;
    # mask[p, j, q] = (r < k)
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        q = t % post
        j = (t // post) % n
        base = t - (j * post + q) + q           # (p, 0, q)
        v = x[t]
        v_nan = v != v
        r = 0
        for i in range(n):
            if i == j:
                continue
            u = x[base + i * post]
            u_nan = u != u
            if descending:
                before = (not v_nan) and (u_nan or v < u)       # u sorts before v: u > v
            else:
                before = (not u_nan) and (v_nan or u < v)       # u < v
            if not before and i < j:
                before = (u == v) or (u_nan and v_nan)
            if before:
                r += 1
        inside = r < k
        mask[t] = 1 if inside else 0
        if inside:
            idx[(t - (j * post + q)) // n * k + r * post + q] = j
        t += step


@cuda.jit
def _lane_gather_kernel(out, x, idx, n, post, k, add, total):
    # out (pre, k, post) (add) x[p, idx[p, r, q], q]
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        q = t % post
        pp = t // (k * post)
        put(out, t, x[(pp * n + idx[t]) * post + q], add)
        t += step


@cuda.jit
def _lane_scatter_kernel(out, dy, idx, n, post, k, total):
    # out (pre, n, post)[p, idx[p, r, q], q] = dy[p, r, q]
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        q = t % post
        pp = t // (k * post)
        out[(pp * n + idx[t]) * post + q] = dy[t]
        t += step


_AI64, _AI32 = types.Array(types.int64, 1, "C"), types.Array(types.int32, 1, "C")
_I, _B = types.int64, types.boolean
declare("linalg.rank", _rank_kernel, [(a, _AI64, _AI32, _I, _I, _I, _B, _I) for a in (_A32, _A64, _AI32, _AI64)])
declare("linalg.lane_gather", _lane_gather_kernel, [(a, a, _AI64, _I, _I, _I, _B, _I) for a in (_A32, _A64, _AI32)])
declare("linalg.lane_scatter", _lane_scatter_kernel, [(a, a, _AI64, _I, _I, _I, _I) for a in (_A32, _A64)])


def _lanes(x, axis):
    """(pre, n, post) of x's lanes along axis (None: the flattened data)."""
    if axis is None:
        return 1, x.size, 1
    n = x.shape[axis]
    pre = 1
    for d in x.shape[:axis]:
        pre *= d
    return pre, n, (x.size // (pre * n) if pre * n else 0)


def _ranked(x, axis, ascending, k):
    """(int64 indices (pre, k, post) on the device, int32 mask of x's shape, (pre, n, post))."""
    pre, n, post = _lanes(x, axis)
    xc = as_compute(x)
    idx = empty((pre * k * post,), "int64")
    mask = empty((max(x.size, 1),), "int32")
    total = x.size
    if total:
        _rank_kernel[launch(total) + (stream(),)](flat(xc), idx, mask, n, post, k, not ascending, total)
    return idx, mask, (pre, n, post)


def _gather(x, idx, lanes, k, out, req):
    """out (req) the values of x at idx (out has x's dtype)."""
    if req == NULL or out.size == 0:
        return
    pre, n, post = lanes
    total = out.size
    _lane_gather_kernel[launch(total) + (stream(),)](flat(out), flat(x), idx, n, post, k, req == ADD, total)


def _store(src, out, req):
    if out.size:
        copy_into(src if src.size == out.size else src[:out.size], out, req)


def topk(ctx, p, inputs, outputs, req):
    x = inputs[0]
    axis = one_axis(p.axis, x.shape, "topk")
    lanes = _lanes(x, axis)
    k = topk_k(p.k, lanes[1])
    idx, mask, lanes = _ranked(x, axis, p.is_ascend, k)
    if p.ret_typ == "mask":
        _store(mask, outputs[0], req[0])
    elif p.ret_typ == "indices":
        _store(idx, outputs[0], req[0])
    else:
        _gather(x, idx, lanes, k, outputs[0], req[0])
        _store(idx, outputs[1], req[1])


def sort(ctx, p, inputs, outputs, req):
    x = inputs[0]
    axis = one_axis(p.axis, x.shape, "sort")
    k = _lanes(x, axis)[1]
    idx, _, lanes = _ranked(x, axis, p.is_ascend, k)
    _gather(x, idx, lanes, k, outputs[0], req[0])
    _store(idx, outputs[1], req[1])


def argsort(ctx, p, inputs, outputs, req):
    x = inputs[0]
    axis = one_axis(p.axis, x.shape, "argsort")
    k = _lanes(x, axis)[1]
    idx, _, _ = _ranked(x, axis, p.is_ascend, k)
    _store(idx, outputs[0], req[0])


def backward_topk(ctx, p, inputs, outputs, req):
    """d data = out_grad scattered back to the positions the indices name (zero elsewhere)."""
    dy, indices, x = inputs
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    axis = one_axis(p.axis, x.shape, "_backward_topk")
    pre, n, post = _lanes(x, axis)
    k = indices.size // (pre * post) if pre * post else 0
    idx = empty((max(indices.size, 1),), "int64")
    if indices.size:
        copy_into(as_compute(indices) if indices.dtype == F16 else indices, idx[:indices.size])
    cdt = compute_dtype(out.dtype)
    grad = empty(out.shape, cdt)
    fill(grad, 0)
    dyc = as_compute(dy, cdt)
    total = dy.size
    if total:
        _lane_scatter_kernel[launch(total) + (stream(),)](flat(grad), flat(dyc), idx, n, post, k, total)
    copy_into(grad, out, req[0])


# op name -> CUDA kernel (attached by ops/cuda/__init__.py::register)
KERNELS = {
    "batch_dot": batch_dot, "_backward_batch_dot": backward_batch_dot,
    "_linalg_gemm": linalg_gemm, "_backward_linalg_gemm": backward_linalg_gemm,
    "_linalg_gemm2": linalg_gemm2, "_backward_linalg_gemm2": backward_linalg_gemm2,
    "argmax_channel": argmax_channel,
    "Deconvolution": deconvolution, "_backward_Deconvolution": backward_deconvolution,
    "topk": topk, "sort": sort, "argsort": argsort, "_backward_topk": backward_topk,
}

# ops of this family still without a CUDA kernel, and why (they run through the host): the matrix decompositions
# (ops/decompositions.py) call LAPACK through numpy.linalg
WITHOUT = {name: "a LAPACK decomposition (numpy.linalg, batched): runs through the host (ops/cpu/decompositions.py)"
           for name in ("_linalg_inverse", "_linalg_det", "_linalg_slogdet", "_linalg_potrf", "_linalg_syevd",
                        "_npi_svd", "_backward_linalg_inverse", "_backward_linalg_det", "_backward_linalg_slogdet",
                        "_backward_linalg_potrf", "_backward_linalg_syevd", "_backward_npi_svd")}

# backward ops without a spec row whose kernels the simulator tests reach: compared with their CPU kernels by
# tests/cuda_cases.py::test_linalg_backward_kernels_match_cpu and ::test_backward_topk_matches_cpu
TESTED_THROUGH_GRADIENTS = {"_backward_batch_dot", "_backward_linalg_gemm", "_backward_linalg_gemm2", "_backward_topk"}
