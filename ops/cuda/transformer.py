"""CUDA kernels of ops/transformer.py: the interleaved attention products (self-attention and encoder-decoder)
and their backward ops.

The CPU kernels (ops/cpu/transformer.py) view an interleaved input (seq, batch, heads * slots * head_dim) as
(seq, batch, heads, slots, head_dim), with the queries, keys and values in slots. Every product here, forward or
backward, is one of two batched products over such slot views, each one thread per output element (float64 sums):
- `_scores`: out[bh, i, j] = sum_d a[b, h, i, d] c[b, h, j, d] / scale (the qk scores; valatt's attention
  gradient, with dy as `a`);
- `_weighted`: out_slot[b, h, r, d] = sum_m w[bh, r, m] val[b, h, m, d] / scale, w optionally transposed (valatt's
  context; qk's query gradient dy k / s and key gradient dy^T q / s; valatt's value gradient att^T dy).
A gradient's slots that get no gradient are zero. float16 data computes in float32 (`in_compute_dtype`).
div_sqrt_dim and arange_like are one elementwise pass each.
"""
import numpy as np
from numba import cuda, float64, int64, types

from ..registry import NULL
from .common import as_compute, declare, fill, flat, in_compute_dtype, launch, scalar, stream


@cuda.jit(device=True)
def _at(b, h, pos, slot, batch, heads, slots, dim):
    """Flat offset of (pos, b, h, slot, 0) in an interleaved (seq, batch, heads * slots * dim) array."""
    return (((pos * batch + b) * heads + h) * slots + slot) * dim


@cuda.jit
def _scores_kernel(out, a, a_slots, a_slot, c, c_slots, c_slot, batch, heads, n_i, n_j, dim, scale, total):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        j = t % n_j
        i = (t // n_j) % n_i
        bh = t // (n_j * n_i)
        b = bh // heads
        h = bh % heads
        ao = _at(b, h, i, a_slot, batch, heads, a_slots, dim)
        co = _at(b, h, j, c_slot, batch, heads, c_slots, dim)
        s = 0.0
        for d in range(dim):
            s += float64(a[ao + d]) * float64(c[co + d])
        out[t] = s / scale
        t += step


@cuda.jit
def _weighted_kernel(out, out_slots, out_slot, w, transposed, val, val_slots, val_slot, batch, heads, n_r, n_m, dim,
                     scale, total):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        d = t % dim
        h = (t // dim) % heads
        b = (t // (dim * heads)) % batch
        r = t // (dim * heads * batch)
        base = (b * heads + h) * n_r * n_m
        if transposed:                  # w holds (batch * heads, n_m, n_r)
            w_at, w_step = base + r, n_r
        else:                           # w holds (batch * heads, n_r, n_m)
            w_at, w_step = base + r * n_m, 1
        s = 0.0
        for m in range(n_m):
            s += float64(w[w_at + m * w_step]) * float64(val[_at(b, h, m, val_slot, batch, heads, val_slots, dim) + d])
        out[_at(b, h, r, out_slot, batch, heads, out_slots, dim) + d] = s / scale
        t += step


_I, _F = types.int64, types.float64
for _name, _kernel, _shape in (("transformer.scores", _scores_kernel, lambda A: (A, A, _I, _I, A) + (_I,) * 7),
                               ("transformer.weighted", _weighted_kernel,
                                lambda A: (A, _I, _I, A, types.boolean, A) + (_I,) * 7)):
    declare(_name, _kernel, [_shape(types.Array(t, 1, "C")) + (_F, _I) for t in (types.float32, types.float64)])


class _Layout:
    """batch, heads, head_dim and the 1/sqrt(head_dim) scale's root of an interleaved input with `slots` slots."""

    def __init__(self, x, heads, slots):
        self.batch, self.heads = x.shape[1], heads
        self.dim = x.shape[2] // (heads * slots)
        self.root = float(scalar(np.sqrt(float(self.dim)), x.dtype))      # C++ DType(sqrt(head_dim))


def _scores(dst, lay, a, a_slots, a_slot, c, c_slots, c_slot, scale):
    """dst (batch * heads, a's seq, c's seq) = a_slot . c_slot / scale."""
    n = dst.size
    if n:
        _scores_kernel[launch(n) + (stream(),)](flat(dst), flat(a), a_slots, a_slot, flat(c), c_slots, c_slot,
                                                lay.batch, lay.heads, a.shape[0], c.shape[0], lay.dim, scale, n)


def _weighted(dst, out_slots, out_slot, lay, w, transposed, val, val_slots, val_slot, scale):
    """dst's out_slot (rows r) = w[:, r, :] (or w^T) . val_slot / scale, over val's seq."""
    n_r = dst.shape[0]
    n = n_r * lay.batch * lay.heads * lay.dim
    if n:
        _weighted_kernel[launch(n) + (stream(),)](flat(dst), out_slots, out_slot, flat(w), transposed, flat(val),
                                                  val_slots, val_slot, lay.batch, lay.heads, n_r, val.shape[0],
                                                  lay.dim, scale, n)


def _output(out, req, compute, zero=False):
    """out (req) the result compute(dst) writes (into zeros first when some slots get no gradient)."""
    if req == NULL or out.size == 0:
        return

    def run(dst):
        if zero:
            fill(dst, 0)
        compute(dst)
    in_compute_dtype(out, req, run)


# ---- self-attention: (q, k, v) interleaved in one input ------------------------------------------------------------
def selfatt_qk(ctx, p, inputs, outputs, req):
    x = as_compute(inputs[0])
    lay = _Layout(x, p.heads, 3)
    _output(outputs[0], req[0], lambda dst: _scores(dst, lay, x, 3, 0, x, 3, 1, lay.root))


def selfatt_valatt(ctx, p, inputs, outputs, req):
    x, att = (as_compute(v) for v in inputs)
    lay = _Layout(x, p.heads, 3)
    _output(outputs[0], req[0], lambda dst: _weighted(dst, 1, 0, lay, att, False, x, 3, 2, 1.0))


def backward_selfatt_qk(ctx, p, inputs, outputs, req):
    # dq = dy k / s, dk = dy^T q / s; the values get none
    dy, x = (as_compute(v) for v in inputs)
    lay = _Layout(x, p.heads, 3)

    def compute(dst):
        _weighted(dst, 3, 0, lay, dy, False, x, 3, 1, lay.root)
        _weighted(dst, 3, 1, lay, dy, True, x, 3, 0, lay.root)
    _output(outputs[0], req[0], compute, zero=True)


def backward_selfatt_valatt(ctx, p, inputs, outputs, req):
    # dv = att^T dy, d att = dy v^T; the queries and keys get none
    dy, x, att = (as_compute(v) for v in inputs)
    lay = _Layout(x, p.heads, 3)
    _output(outputs[0], req[0], lambda dst: _weighted(dst, 3, 2, lay, att, True, dy, 1, 0, 1.0), zero=True)
    _output(outputs[1], req[1], lambda dst: _scores(dst, lay, dy, 1, 0, x, 3, 2, 1.0))


# ---- encoder-decoder: queries apart, (k, v) interleaved in keys_values ---------------------------------------------
def encdec_qk(ctx, p, inputs, outputs, req):
    q, kv = (as_compute(v) for v in inputs)
    lay = _Layout(q, p.heads, 1)
    _output(outputs[0], req[0], lambda dst: _scores(dst, lay, q, 1, 0, kv, 2, 0, lay.root))


def encdec_valatt(ctx, p, inputs, outputs, req):
    kv, att = (as_compute(v) for v in inputs)
    lay = _Layout(kv, p.heads, 2)
    _output(outputs[0], req[0], lambda dst: _weighted(dst, 1, 0, lay, att, False, kv, 2, 1, 1.0))


def backward_encdec_qk(ctx, p, inputs, outputs, req):
    # dq = dy k / s, dk = dy^T q / s; the values get none
    dy, q, kv = (as_compute(v) for v in inputs)
    lay = _Layout(q, p.heads, 1)
    _output(outputs[0], req[0], lambda dst: _weighted(dst, 1, 0, lay, dy, False, kv, 2, 0, lay.root))
    _output(outputs[1], req[1], lambda dst: _weighted(dst, 2, 0, lay, dy, True, q, 1, 0, lay.root), zero=True)


def backward_encdec_valatt(ctx, p, inputs, outputs, req):
    # dv = att^T dy, d att = dy v^T; the keys get none
    dy, kv, att = (as_compute(v) for v in inputs)
    lay = _Layout(kv, p.heads, 2)
    _output(outputs[0], req[0], lambda dst: _weighted(dst, 2, 1, lay, att, True, dy, 1, 0, 1.0), zero=True)
    _output(outputs[1], req[1], lambda dst: _scores(dst, lay, dy, 1, 0, kv, 2, 1, 1.0))


# ---- elementwise: div_sqrt_dim, arange_like ------------------------------------------------------------------------
@cuda.jit
def _div_kernel(out, x, root, truncate, n):
    # out = x / DType(sqrt(last dim)); integer data truncates the quotient toward zero, as C++ integer division
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        v = float64(x[i]) / root
        if truncate:
            out[i] = int64(v)
        else:
            out[i] = v
        i += step


@cuda.jit
def _arange_kernel(out, start, step_, repeat, n):
    # value i = start + (i // repeat) * step: int64 arithmetic (wrapping into out's dtype) for integer outputs
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        out[i] = start + (i // repeat) * step_
        i += step


_ARRAYS = [types.Array(t, 1, "C") for t in (types.float32, types.float64, types.int32)]
declare("transformer.div_sqrt_dim", _div_kernel, [(a, a, _F, types.boolean, _I) for a in _ARRAYS])
declare("transformer.arange_like", _arange_kernel, [(a, t, t, _I, _I) for a in _ARRAYS for t in (_F, _I)])


def div_sqrt_dim(ctx, p, inputs, outputs, req):
    x = as_compute(inputs[0])
    root = float(scalar(np.sqrt(float(x.shape[x.ndim - 1])), x.dtype))      # an integer dtype truncates the root
    _output(outputs[0], req[0], lambda dst: _div_kernel[launch(dst.size) + (stream(),)](
        flat(dst), flat(x), root, x.dtype.kind in "iu", dst.size))


def arange_like(ctx, p, inputs, outputs, req):
    # C++ DType(start), DType(step); the float sum is taken in float64 here (the CPU's in the compute dtype)
    out = outputs[0]
    integer = out.dtype.kind in "iu"
    start, step = (int(scalar(v, np.int64)) if integer else float(scalar(v, out.dtype)) for v in (p.start, p.step))
    _output(out, req[0], lambda dst: _arange_kernel[launch(dst.size) + (stream(),)](
        flat(dst), start, step, p.repeat, dst.size))


KERNELS = {"_contrib_interleaved_matmul_selfatt_qk": selfatt_qk,
           "_contrib_interleaved_matmul_selfatt_valatt": selfatt_valatt,
           "_backward_interleaved_matmul_selfatt_qk": backward_selfatt_qk,
           "_backward_interleaved_matmul_selfatt_valatt": backward_selfatt_valatt,
           "_contrib_interleaved_matmul_encdec_qk": encdec_qk,
           "_contrib_interleaved_matmul_encdec_valatt": encdec_valatt,
           "_backward_interleaved_matmul_encdec_qk": backward_encdec_qk,
           "_backward_interleaved_matmul_encdec_valatt": backward_encdec_valatt,
           "_contrib_div_sqrt_dim": div_sqrt_dim, "_contrib_arange_like": arange_like}
TESTED_THROUGH_GRADIENTS = tuple(name for name in KERNELS if name.startswith("_backward_"))
WITHOUT = {}
