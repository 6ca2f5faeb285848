"""CPU kernels of ops/transformer.py: div_sqrt_dim, arange_like and the interleaved attention products.

The products are batched matmuls (numpy's, on BLAS) over views of the interleaved inputs: self-attention's input
reshaped to (seq, batch, heads, 3, head_dim) holds the queries in slot 0, the keys in 1, the values in 2;
encoder-decoder's keys_values (seq, batch, heads, 2, head_dim) the keys in 0, the values in 1. float16 computes in
float32 and rounds once.
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


def _parts(x, heads, slots=3):
    """The `slots` projections interleaved in x (seq, batch, heads * slots * head_dim), each a (batch, heads, seq,
    head_dim) view in the compute dtype: (q, k, v) of the self-attention input, (k, v) of keys_values, (q,)."""
    seq, batch, width = x.shape
    x = x.astype(compute_dtype(x.dtype), copy=False).reshape(seq, batch, heads, slots, width // (slots * heads))
    return [x[:, :, :, slot].transpose(1, 2, 0, 3) for slot in range(slots)]


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


def _interleave(x, grads):
    """The gradient of x (seq, batch, heads * len(grads) * head_dim): grads[slot] (batch, heads, seq, head_dim)
    in its slot, zero where grads[slot] is None."""
    seq, batch, width = x.shape
    known = next(g for g in grads if g is not None)
    heads, dim = known.shape[1::2]
    full = np.zeros((seq, batch, heads, len(grads), dim), known.dtype)
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


# ---- encoder-decoder: queries apart, keys and values interleaved ------------------------------------------------
def _encdec_att(att, batch, heads, q_seq, k_seq, dtype):
    return att.astype(dtype, copy=False).reshape(batch, heads, q_seq, k_seq)


def encdec_qk(ctx, p, inputs, outputs, req):
    (q,), (k, _) = _parts(inputs[0], p.heads, 1), _parts(inputs[1], p.heads, 2)
    scores = np.matmul(q / _scale(q), k.transpose(0, 1, 3, 2))           # (batch, heads, q_seq, k_seq)
    assign(outputs[0], req[0], scores.reshape(outputs[0].shape))


def encdec_valatt(ctx, p, inputs, outputs, req):
    _, v = _parts(inputs[0], p.heads, 2)
    batch, heads, k_seq, _ = v.shape
    att = _encdec_att(inputs[1], batch, heads, inputs[1].shape[1], k_seq, v.dtype)
    context = np.matmul(att, v)                                         # (batch, heads, q_seq, head_dim)
    assign(outputs[0], req[0], context.transpose(2, 0, 1, 3).reshape(outputs[0].shape))


def backward_encdec_qk(ctx, p, inputs, outputs, req):
    # scores = (q / s) k^T: dq = dy k / s, dk = dy^T q / s; the values get no gradient
    dy, queries, keys_values = inputs
    (q,), (k, _) = _parts(queries, p.heads, 1), _parts(keys_values, p.heads, 2)
    g = _encdec_att(dy, q.shape[0], p.heads, q.shape[2], k.shape[2], q.dtype)
    s = _scale(q)
    assign(outputs[0], req[0], _interleave(queries, [np.matmul(g, k) / s]))
    assign(outputs[1], req[1], _interleave(keys_values, [np.matmul(g.transpose(0, 1, 3, 2), q) / s, None]))


def backward_encdec_valatt(ctx, p, inputs, outputs, req):
    # context = att v: dv = att^T dy, d att = dy v^T; the keys get no gradient
    dy, keys_values, att = inputs
    _, v = _parts(keys_values, p.heads, 2)
    batch, heads, k_seq, dim = v.shape
    q_seq = att.shape[1]
    g = dy.astype(v.dtype, copy=False).reshape(q_seq, batch, heads, dim).transpose(1, 2, 0, 3)
    a = _encdec_att(att, batch, heads, q_seq, k_seq, v.dtype)
    assign(outputs[0], req[0], _interleave(keys_values, [None, np.matmul(a.transpose(0, 1, 3, 2), g)]))
    assign(outputs[1], req[1], np.matmul(g, v.transpose(0, 1, 3, 2)).reshape(outputs[1].shape))
