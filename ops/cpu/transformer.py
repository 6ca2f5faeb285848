"""CPU kernels of ops/transformer.py: div_sqrt_dim, arange_like and the interleaved self-attention products.

The products are batched matmuls (numpy's, on BLAS) over views of the interleaved input: reshaped to
(seq, batch, heads, 3, head_dim), slot 0 holds the queries, 1 the keys, 2 the values. float16 computes in float32
and rounds once.
"""
import numpy as np

from ..registry import NULL
from .common import assign, compute_dtype, scalar_in


def div_sqrt_dim(ctx, p, inputs, outputs, req):
    # out = data / DType(sqrt(double(d))): an integer input divides by the truncated root, as MXNet's kernel
    x = inputs[0]
    cdt = compute_dtype(x.dtype)
    root = scalar_in(np.sqrt(float(x.shape[-1])), cdt)
    if x.dtype.kind in "iu":
        value = np.trunc(x / root)          # C++ integer division truncates
    else:
        value = x.astype(cdt, copy=False) / root
    assign(outputs[0], req[0], value)


def arange_like(ctx, p, inputs, outputs, req):
    # value i = DType(start) + (i // repeat) * DType(step), in the output's dtype (integers wrap)
    out = outputs[0]
    if req[0] == NULL:
        return
    cdt = compute_dtype(out.dtype)
    index = np.arange(out.size, dtype=np.int64) // p.repeat
    if np.dtype(cdt).kind in "iu":
        values = (scalar_in(p.start, np.int64) + index * scalar_in(p.step, np.int64)).astype(cdt)
    else:
        values = scalar_in(p.start, cdt) + index.astype(cdt) * scalar_in(p.step, cdt)
    assign(out, req[0], values.reshape(out.shape))


def _parts(qkv, heads):
    """(q, k, v), each (batch, heads, seq, head_dim), views of the interleaved input in the compute dtype."""
    seq, batch, width = qkv.shape
    x = qkv.astype(compute_dtype(qkv.dtype), copy=False).reshape(seq, batch, heads, 3, width // (3 * heads))
    return [x[:, :, :, slot].transpose(1, 2, 0, 3) for slot in range(3)]


def _scale(q):
    return scalar_in(np.sqrt(float(q.shape[-1])), q.dtype)


def selfatt_qk(ctx, p, inputs, outputs, req):
    q, k, _ = _parts(inputs[0], p.heads)
    scores = np.matmul(q / _scale(q), k.transpose(0, 1, 3, 2))           # (batch, heads, seq, seq)
    assign(outputs[0], req[0], scores.reshape(outputs[0].shape))


def selfatt_valatt(ctx, p, inputs, outputs, req):
    _, _, v = _parts(inputs[0], p.heads)
    batch, heads, seq, dim = v.shape
    att = inputs[1].astype(v.dtype, copy=False).reshape(batch, heads, seq, seq)
    context = np.matmul(att, v)                                         # (batch, heads, seq, head_dim)
    assign(outputs[0], req[0], context.transpose(2, 0, 1, 3).reshape(outputs[0].shape))


def _interleave(qkv, grads):
    """The (seq, batch, heads * 3 * head_dim) gradient holding grads[slot] (batch, heads, seq, head_dim) or 0."""
    seq, batch, width = qkv.shape
    heads, dim = next(g for g in grads if g is not None).shape[1::2]
    full = np.zeros((seq, batch, heads, 3, dim), next(g for g in grads if g is not None).dtype)
    for slot, g in enumerate(grads):
        if g is not None:
            full[:, :, :, slot] = g.transpose(2, 0, 1, 3)
    return full.reshape(seq, batch, width)


def backward_selfatt_qk(ctx, p, inputs, outputs, req):
    # scores = (q / s) k^T: dq = dy k / s, dk = dy^T q / s; the values get no gradient
    dy, qkv = inputs
    q, k, _ = _parts(qkv, p.heads)
    batch, heads, seq, _ = q.shape
    g = dy.astype(q.dtype, copy=False).reshape(batch, heads, seq, seq)
    s = _scale(q)
    grad = _interleave(qkv, [np.matmul(g, k) / s, np.matmul(g.transpose(0, 1, 3, 2), q) / s, None])
    assign(outputs[0], req[0], grad)


def backward_selfatt_valatt(ctx, p, inputs, outputs, req):
    # context = att v: dv = att^T dy, d att = dy v^T; the queries and keys get no gradient
    dy, qkv, att = inputs
    _, _, v = _parts(qkv, p.heads)
    batch, heads, seq, dim = v.shape
    g = dy.astype(v.dtype, copy=False).reshape(seq, batch, heads, dim).transpose(1, 2, 0, 3)
    a = att.astype(v.dtype, copy=False).reshape(batch, heads, seq, seq)
    d_qkv = _interleave(qkv, [None, None, np.matmul(a.transpose(0, 1, 3, 2), g)])
    d_att = np.matmul(g, v.transpose(0, 1, 3, 2)).reshape(outputs[1].shape)
    assign(outputs[0], req[0], d_qkv)
    assign(outputs[1], req[1], d_att)
