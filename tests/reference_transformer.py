"""numpy references of ops/transformer.py, from MXNet 1.9.1's documentation: the interleaved products are the
reshape / transpose / batch_dot code its docstrings give, written with einsum in float64."""
import numpy as np


def div_sqrt_dim(p, x):
    root = np.sqrt(float(x.shape[-1]))
    if x.dtype.kind in "iu":
        return np.trunc(x / np.trunc(root)).astype(x.dtype)
    return (x.astype(np.float64) / root).astype(x.dtype)


def arange_like(p, x):
    shape = x.shape if p.axis is None else (x.shape[p.axis],)
    size = int(np.prod(shape))
    values = p.start + (np.arange(size) // p.repeat) * p.step
    return values.reshape(shape).astype(x.dtype)


def _qkv(x, heads):
    seq, batch, width = x.shape
    r = x.astype(np.float64).reshape(seq, batch, heads, 3, width // (3 * heads))
    return r[:, :, :, 0], r[:, :, :, 1], r[:, :, :, 2]          # each (seq, batch, heads, head_dim)


def selfatt_qk(p, x):
    q, k, _ = _qkv(x, p.heads)
    seq, batch, heads, dim = q.shape
    scores = np.einsum("ibhd,jbhd->bhij", q / np.sqrt(dim), k)
    return scores.reshape(batch * heads, seq, seq).astype(x.dtype)


def selfatt_valatt(p, x, att):
    _, _, v = _qkv(x, p.heads)
    seq, batch, heads, dim = v.shape
    a = att.astype(np.float64).reshape(batch, heads, seq, seq)
    return np.einsum("bhij,jbhd->ibhd", a, v).reshape(seq, batch, heads * dim).astype(x.dtype)


def _slots(x, heads, slots):
    seq, batch, width = x.shape
    r = x.astype(np.float64).reshape(seq, batch, heads, slots, width // (slots * heads))
    return [r[:, :, :, s] for s in range(slots)]                 # each (seq, batch, heads, head_dim)


def encdec_qk(p, queries, keys_values):
    (q,), (k, _) = _slots(queries, p.heads, 1), _slots(keys_values, p.heads, 2)
    q_seq, batch, heads, dim = q.shape
    scores = np.einsum("ibhd,jbhd->bhij", q / np.sqrt(dim), k)
    return scores.reshape(batch * heads, q_seq, k.shape[0]).astype(queries.dtype)


def encdec_valatt(p, keys_values, att):
    _, v = _slots(keys_values, p.heads, 2)
    k_seq, batch, heads, dim = v.shape
    a = att.astype(np.float64).reshape(batch, heads, att.shape[1], k_seq)
    return np.einsum("bhij,jbhd->ibhd", a, v).reshape(att.shape[1], batch, heads * dim).astype(keys_values.dtype)
