"""The contrib ops GluonNLP's Transformer and BERT blocks call (MXNet's src/operator/contrib/transformer.cc and
`_contrib_arange_like`): `div_sqrt_dim`, `arange_like`, and the interleaved attention products
`interleaved_matmul_selfatt_qk` / `_valatt` and `interleaved_matmul_encdec_qk` / `_valatt` with their backward ops.
Kernels: ops/cpu/transformer.py.

The interleaved layout: queries_keys_values has shape (seq_length, batch, heads * 3 * head_dim), each head's
query, key and value projections side by side (reshaped (seq, batch, heads, 3, head_dim)). qk gives the
(batch * heads, seq, seq) scores q k^T / sqrt(head_dim); valatt gives (seq, batch, heads * head_dim) from the
(batch * heads, seq, seq) attention and the values. MXNet's docs give both as reshape/transpose/batch_dot code,
which tests/reference_transformer.py follows. The encoder-decoder pair takes the queries apart, (q_seq, batch,
heads * head_dim), and the keys and values interleaved, (k_seq, batch, heads * 2 * head_dim): qk gives
(batch * heads, q_seq, k_seq), valatt (q_seq, batch, heads * head_dim).

Facts checked on MXNet 1.9.1 (native CPU):
- div_sqrt_dim divides by DType(sqrt(double(last dim))): an int32 input divides by the truncated root; its
  gradient is div_sqrt_dim of the head gradient.
- arange_like's output has the input's dtype, and its shape, or (input.shape[axis],) with `axis`; value i is
  DType(start) + (i // repeat) * DType(step) in that dtype (uint8 wraps). It has no gradient (zero, as MXNet's).
- the encdec shape checks: queries.shape[2] * 2 == keys_values.shape[2], equal batch sizes, and for valatt
  attention.shape[2] == keys_values.shape[0]; a partially known input is not inferred from the other.
Differs on purpose: MXNet 1.9.1's CPU kernels of the interleaved products refuse anything but float32 at run time
(after the dtype pass let it through); here float16 and float64 compute (in float32 / float64). MXNet 1.9.1's
float16 arange_like truncates start and step to integers (start=1.5, step=0.5 gives all ones); here they are float16
values.
"""
from .autodiff import apply
from .cpu import transformer as cpu
from .elemwise import float_only, merge
from .errors import ShapeError
from .registry import Float, Int, OptInt, OpDef, Str, register, same_dtype


def _same_shape(p, in_shapes, out_shapes):
    shape = merge(in_shapes[0], out_shapes[0])
    return [shape], [shape]


register(OpDef("_contrib_div_sqrt_dim", arguments=("data",), infer_shape=_same_shape, infer_type=same_dtype,
               gradient=lambda p, ins, outs, dys: [apply("_contrib_div_sqrt_dim", dys[0])],
               inplace=((0, 0),), cpu=cpu.div_sqrt_dim,
               doc="Rescale the input by the square root of the channel dimension: out = data / sqrt(data.shape[-1])."))


def _arange_like_shape(p, in_shapes, out_shapes):
    data = in_shapes[0]
    if data is None:
        return list(in_shapes), list(out_shapes)
    if p.axis is None:
        return [data], [data]
    axis = p.axis + len(data) if p.axis < 0 else p.axis
    if not 0 <= axis < len(data):
        raise ShapeError("_contrib_arange_like: axis=%d is out of range for data of shape %s" % (p.axis, data))
    return [data], [(data[axis],)]


def _arange_like_rule(p, in_shapes, out_shapes):
    if p.repeat < 1:
        raise ShapeError("_contrib_arange_like: repeat=%d must be positive" % p.repeat)
    return _arange_like_shape(p, in_shapes, out_shapes)


register(OpDef("_contrib_arange_like", arguments=("data",), params=dict(
    start=Float(0.0, "Start of interval. The interval includes this value. The default start value is 0."),
    step=Float(1.0, "Spacing between values."),
    repeat=Int(1, "The repeating time of all elements. E.g repeat=3, the element a will be repeated three times "
                  "--> a, a, a."),
    ctx=Str("", "Context of output, in format [cpu|gpu|cpu_pinned](n).Only used for imperative calls."),
    axis=OptInt(None, "Arange elements according to the size of a certain axis of input array. The negative "
                      "numbers are interpreted counting from the backward. If not provided, will arange elements "
                      "according to the input shape.")),
    infer_shape=_arange_like_rule, infer_type=same_dtype, gradient=lambda p, ins, outs, dys: [None],
    cpu=cpu.arange_like,
    doc="Return an array with evenly spaced values (start + (i // repeat) * step). If axis is not given, the "
        "output has the input's shape; otherwise it is a 1-D array of the size of that axis."))


# ---- interleaved self-attention -------------------------------------------------------------------------------------
_HEADS = {"heads": Int(doc="Set number of heads")}


def _split_qkv(name, p, shape):
    """(seq, batch, heads, head_dim) of a known (seq, batch, heads * 3 * head_dim) input."""
    if len(shape) != 3:
        raise ShapeError("%s: queries_keys_values must be 3-D (seq_length, batch_size, heads * 3 * head_dim), got %s"
                         % (name, shape))
    if p.heads < 1 or (shape[2] and shape[2] % (3 * p.heads)):
        raise ShapeError("%s: the last dim of queries_keys_values (%d) must be heads * 3 * head_dim with heads=%d"
                         % (name, shape[2], p.heads))
    return shape[0], shape[1], p.heads, shape[2] // (3 * p.heads)


def _qk_shape(p, in_shapes, out_shapes):
    qkv = in_shapes[0]
    if qkv is None:
        return list(in_shapes), list(out_shapes)
    seq, batch, heads, _ = _split_qkv("_contrib_interleaved_matmul_selfatt_qk", p, qkv)
    return [qkv], [(batch * heads, seq, seq)]


def _valatt_shape(p, in_shapes, out_shapes):
    qkv, att = in_shapes
    if qkv is None:
        return list(in_shapes), list(out_shapes)
    seq, batch, heads, dim = _split_qkv("_contrib_interleaved_matmul_selfatt_valatt", p, qkv)
    return [qkv, (batch * heads, seq, seq)], [(seq, batch, heads * dim)]


def _qk_grad(p, ins, outs, dys):
    return [apply("_backward_interleaved_matmul_selfatt_qk", dys[0], ins[0], heads=p.heads)]


def _valatt_grad(p, ins, outs, dys):
    return apply("_backward_interleaved_matmul_selfatt_valatt", dys[0], ins[0], ins[1], heads=p.heads)


register(OpDef("_contrib_interleaved_matmul_selfatt_qk", arguments=("queries_keys_values",), params=_HEADS,
               infer_shape=_qk_shape, infer_type=float_only("_contrib_interleaved_matmul_selfatt_qk"),
               gradient=_qk_grad, cpu=cpu.selfatt_qk,
               doc="Compute the matrix multiplication between the projections of queries and keys in multihead "
                   "attention use as self attention: (batch * heads, seq, seq) scores q k^T / sqrt(head_dim) from "
                   "interleaved projections of shape (seq_length, batch_size, num_heads * head_dim * 3)."))
register(OpDef("_contrib_interleaved_matmul_selfatt_valatt", arguments=("queries_keys_values", "attention"),
               params=_HEADS, infer_shape=_valatt_shape,
               infer_type=float_only("_contrib_interleaved_matmul_selfatt_valatt"), gradient=_valatt_grad,
               cpu=cpu.selfatt_valatt,
               doc="Compute the matrix multiplication between the projections of values and the attention weights "
                   "in multihead attention use as self attention: (seq, batch, heads * head_dim) from interleaved "
                   "projections (seq_length, batch_size, num_heads * head_dim * 3) and attention weights "
                   "(batch_size * num_heads, seq_length, seq_length)."))


def _backward_qk_shape(p, in_shapes, out_shapes):
    dy, qkv = in_shapes
    qkv = merge(qkv, out_shapes[0])
    return [dy, qkv], [qkv]


def _like_inputs(p, in_shapes, out_shapes):
    """Backward ops (ograd, x, y) whose outputs are shaped like x and y."""
    dy, x, y = in_shapes
    x, y = merge(x, out_shapes[0]), merge(y, out_shapes[1])
    return [dy, x, y], [x, y]


register(OpDef("_backward_interleaved_matmul_selfatt_qk", arguments=("ograd", "queries_keys_values"),
               params=_HEADS, infer_shape=_backward_qk_shape,
               infer_type=float_only("_backward_interleaved_matmul_selfatt_qk"), cpu=cpu.backward_selfatt_qk,
               doc="Gradient of _contrib_interleaved_matmul_selfatt_qk with respect to queries_keys_values (zero on "
                   "the values)."))
register(OpDef("_backward_interleaved_matmul_selfatt_valatt",
               arguments=("ograd", "queries_keys_values", "attention"), params=_HEADS,
               outputs=("queries_keys_values_grad", "attention_grad"), infer_shape=_like_inputs,
               infer_type=float_only("_backward_interleaved_matmul_selfatt_valatt"),
               cpu=cpu.backward_selfatt_valatt,
               doc="Gradients of _contrib_interleaved_matmul_selfatt_valatt with respect to queries_keys_values "
                   "(zero on the queries and keys) and attention."))


# ---- interleaved encoder-decoder attention --------------------------------------------------------------------------
def _split(name, what, shape, heads, slots):
    """(seq, batch, head_dim) of a known (seq, batch, heads * slots * head_dim) input."""
    if len(shape) != 3:
        raise ShapeError("%s: %s must be 3-D (seq_length, batch_size, heads * %s head_dim), got %s"
                         % (name, what, "%d *" % slots if slots > 1 else "", shape))
    if heads < 1 or (shape[2] and shape[2] % (slots * heads)):
        raise ShapeError("%s: the last dim of %s (%d) must be heads * %s head_dim with heads=%d"
                         % (name, what, shape[2], "%d *" % slots if slots > 1 else "", heads))
    return shape[0], shape[1], shape[2] // (slots * heads)


def _encdec_qk_shape(p, in_shapes, out_shapes):
    q, kv = in_shapes
    if q is None or kv is None:
        return list(in_shapes), list(out_shapes)
    name = "_contrib_interleaved_matmul_encdec_qk"
    q_seq, batch, dim = _split(name, "queries", q, p.heads, 1)
    k_seq, _, _ = _split(name, "keys_values", kv, p.heads, 2)
    return [q, (k_seq, batch, 2 * q[2])], [(batch * p.heads, q_seq, k_seq)]


def _encdec_valatt_shape(p, in_shapes, out_shapes):
    kv, att = in_shapes
    if kv is None or att is None:
        return list(in_shapes), list(out_shapes)
    name = "_contrib_interleaved_matmul_encdec_valatt"
    k_seq, batch, dim = _split(name, "keys_values", kv, p.heads, 2)
    if len(att) != 3:
        raise ShapeError("%s: attention must be 3-D (batch_size * heads, q_seq_length, k_seq_length), got %s"
                         % (name, att))
    return [kv, (batch * p.heads, att[1], k_seq)], [(att[1], batch, p.heads * dim)]


def _encdec_qk_grad(p, ins, outs, dys):
    return apply("_backward_interleaved_matmul_encdec_qk", dys[0], ins[0], ins[1], heads=p.heads)


def _encdec_valatt_grad(p, ins, outs, dys):
    return apply("_backward_interleaved_matmul_encdec_valatt", dys[0], ins[0], ins[1], heads=p.heads)


register(OpDef("_contrib_interleaved_matmul_encdec_qk", arguments=("queries", "keys_values"), params=_HEADS,
               infer_shape=_encdec_qk_shape, infer_type=float_only("_contrib_interleaved_matmul_encdec_qk"),
               gradient=_encdec_qk_grad, cpu=cpu.encdec_qk,
               doc="Compute the matrix multiplication between the projections of queries and keys in multihead "
                   "attention use as encoder-decoder: (batch * heads, q_seq, k_seq) scores q k^T / sqrt(head_dim) "
                   "from queries (q_seq_length, batch_size, num_heads * head_dim) and interleaved keys and values "
                   "(k_seq_length, batch_size, num_heads * head_dim * 2)."))
register(OpDef("_contrib_interleaved_matmul_encdec_valatt", arguments=("keys_values", "attention"), params=_HEADS,
               infer_shape=_encdec_valatt_shape, infer_type=float_only("_contrib_interleaved_matmul_encdec_valatt"),
               gradient=_encdec_valatt_grad, cpu=cpu.encdec_valatt,
               doc="Compute the matrix multiplication between the projections of values and the attention weights "
                   "in multihead attention use as encoder-decoder: (q_seq, batch, heads * head_dim) from interleaved "
                   "keys and values (k_seq_length, batch_size, num_heads * head_dim * 2) and attention weights "
                   "(batch_size * num_heads, q_seq_length, k_seq_length)."))


register(OpDef("_backward_interleaved_matmul_encdec_qk", arguments=("ograd", "queries", "keys_values"),
               params=_HEADS, outputs=("queries_grad", "keys_values_grad"), infer_shape=_like_inputs,
               infer_type=float_only("_backward_interleaved_matmul_encdec_qk"), cpu=cpu.backward_encdec_qk,
               doc="Gradients of _contrib_interleaved_matmul_encdec_qk with respect to queries and keys_values (zero "
                   "on the values)."))
register(OpDef("_backward_interleaved_matmul_encdec_valatt", arguments=("ograd", "keys_values", "attention"),
               params=_HEADS, outputs=("keys_values_grad", "attention_grad"), infer_shape=_like_inputs,
               infer_type=float_only("_backward_interleaved_matmul_encdec_valatt"), cpu=cpu.backward_encdec_valatt,
               doc="Gradients of _contrib_interleaved_matmul_encdec_valatt with respect to keys_values (zero on the "
                   "keys) and attention."))
