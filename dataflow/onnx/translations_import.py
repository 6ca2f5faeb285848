"""Import translations: one ONNX node -> MXNet Symbols. Each is `fn(ctx, node, ins)` returning a Symbol, or a
list with one per output; `ctx` is `import_model.ImportContext`. The reverse of `translations_nn.py` and
`translations_tensor.py`, for the ONNX ops those write and the common forms other exporters write."""
import numpy as np

from ._table import imports

INT64_MAX = np.iinfo(np.int64).max


def _S(ctx):
    return ctx.sym


# -- layers ---------------------------------------------------------------------------------------------------

def _pads(ctx, attrs, ndim):
    """MXNet's symmetric pad from ONNX's begin+end pads (or auto_pad VALID/NOTSET)."""
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto not in ("NOTSET", "VALID"):
        raise ctx.unsupported("with auto_pad=%s: give explicit pads" % auto)
    pads = list(attrs.get("pads", [0] * (2 * ndim)))
    begin, end = pads[:ndim], pads[ndim:]
    if begin != end:
        raise ctx.unsupported("with asymmetric pads %s: MXNet pads both sides alike" % pads)
    return tuple(begin)


@imports("Conv")
def conv(ctx, node, ins):
    a = ctx.attrs(node)
    w = ctx.value(ins[1]) if ctx.is_const(ins[1]) else None
    kernel = tuple(a.get("kernel_shape") or (w.shape[2:] if w is not None else ()))
    if not kernel or w is None:
        raise ctx.unsupported("without a constant weight")
    n = len(kernel)
    return _S(ctx).Convolution(*[ctx.get(i) for i in ins], kernel=kernel, num_filter=w.shape[0],
                               num_group=a.get("group", 1), stride=tuple(a.get("strides", [1] * n)),
                               dilate=tuple(a.get("dilations", [1] * n)), pad=_pads(ctx, a, n),
                               no_bias=len(ins) < 3, name=node.name or None)


@imports("ConvTranspose")
def conv_transpose(ctx, node, ins):
    a = ctx.attrs(node)
    if "output_shape" in a:
        raise ctx.unsupported("with output_shape: give pads and output_padding")
    w = ctx.value(ins[1])
    kernel = tuple(a.get("kernel_shape") or w.shape[2:])
    n = len(kernel)
    group = a.get("group", 1)
    return _S(ctx).Deconvolution(*[ctx.get(i) for i in ins], kernel=kernel, num_filter=w.shape[1] * group,
                                 num_group=group, stride=tuple(a.get("strides", [1] * n)),
                                 dilate=tuple(a.get("dilations", [1] * n)), pad=_pads(ctx, a, n),
                                 adj=tuple(a.get("output_padding", [0] * n)), no_bias=len(ins) < 3,
                                 name=node.name or None)


def _pool(ctx, node, ins, pool_type):
    a = ctx.attrs(node)
    kernel = tuple(a["kernel_shape"])
    n = len(kernel)
    extra = {}
    if pool_type == "avg":
        extra["count_include_pad"] = bool(a.get("count_include_pad", 0))
    if pool_type == "lp":
        extra["p_value"] = a.get("p", 2)
    if tuple(a.get("dilations", [1] * n)) != (1,) * n:
        raise ctx.unsupported("with dilations: MXNet's Pooling has none")
    return _S(ctx).Pooling(ctx.get(ins[0]), kernel=kernel, pool_type=pool_type, stride=tuple(a.get("strides", [1] * n)),
                           pad=_pads(ctx, a, n), name=node.name or None,
                           pooling_convention="full" if a.get("ceil_mode", 0) else "valid", **extra)


@imports("MaxPool")
def max_pool(ctx, node, ins):
    if len(node.output) > 1 and node.output[1]:
        raise ctx.unsupported("with an Indices output")
    return _pool(ctx, node, ins, "max")


@imports("AveragePool")
def average_pool(ctx, node, ins):
    return _pool(ctx, node, ins, "avg")


@imports("LpPool")
def lp_pool(ctx, node, ins):
    return _pool(ctx, node, ins, "lp")


@imports("GlobalMaxPool", "GlobalAveragePool", "GlobalLpPool")
def global_pool(ctx, node, ins):
    kind = {"GlobalMaxPool": "max", "GlobalAveragePool": "avg", "GlobalLpPool": "lp"}[node.op_type]
    extra = {"p_value": ctx.attrs(node).get("p", 2)} if kind == "lp" else {}
    return _S(ctx).Pooling(ctx.get(ins[0]), kernel=(1, 1), global_pool=True, pool_type=kind, name=node.name or None,
                           **extra)


@imports("BatchNormalization")
def batch_norm(ctx, node, ins):
    a = ctx.attrs(node)
    x, gamma, beta, mean, var = [ctx.get(i) for i in ins]
    return _S(ctx).BatchNorm(x, gamma, beta, mean, var, eps=a.get("epsilon", 1e-5),
                             momentum=a.get("momentum", 0.9), fix_gamma=False, use_global_stats=True,
                             name=node.name or None)


@imports("InstanceNormalization")
def instance_norm(ctx, node, ins):
    return _S(ctx).InstanceNorm(*[ctx.get(i) for i in ins], eps=ctx.attrs(node).get("epsilon", 1e-5),
                                name=node.name or None)


@imports("LayerNormalization")
def layer_norm(ctx, node, ins):
    a = ctx.attrs(node)
    if len(ins) < 3 or not ins[2]:
        raise ctx.unsupported("without a bias input")
    rank = ctx.rank(ins[0])
    axis = a.get("axis", -1) % rank
    if axis != rank - 1:
        raise ctx.unsupported("normalizing over several axes: MXNet's LayerNorm normalizes one")
    return _S(ctx).LayerNorm(*[ctx.get(i) for i in ins[:3]], axis=-1, eps=a.get("epsilon", 1e-5))


@imports("LRN")
def lrn(ctx, node, ins):
    a = ctx.attrs(node)
    return _S(ctx).LRN(ctx.get(ins[0]), nsize=a["size"], alpha=a.get("alpha", 1e-4), beta=a.get("beta", 0.75),
                       knorm=a.get("bias", 1.0))


@imports("Gemm")
def gemm(ctx, node, ins):
    a = ctx.attrs(node)
    alpha, beta = a.get("alpha", 1.0), a.get("beta", 1.0)
    trans_a, trans_b = a.get("transA", 0), a.get("transB", 0)
    S = _S(ctx)
    has_c = len(ins) > 2 and ins[2]
    if (alpha, beta, trans_a, trans_b) == (1.0, 1.0, 0, 1) and ctx.is_const(ins[1]) and (
            not has_c or (ctx.is_const(ins[2]) and ctx.value(ins[2]).ndim == 1)):
        return S.FullyConnected(*[ctx.get(i) for i in ins[:3 if has_c else 2]], no_bias=not has_c,
                                num_hidden=ctx.value(ins[1]).shape[0], name=node.name or None)
    y = S.dot(ctx.get(ins[0]), ctx.get(ins[1]), transpose_a=bool(trans_a), transpose_b=bool(trans_b))
    if alpha != 1.0:
        y = y * alpha
    if has_c:
        c = ctx.get(ins[2])
        y = S.broadcast_add(y, c * beta if beta != 1.0 else c)
    return y


@imports("MatMul")
def matmul(ctx, node, ins):
    ra, rb = ctx.rank(ins[0]), ctx.rank(ins[1])
    a, b = ctx.get(ins[0]), ctx.get(ins[1])
    if rb <= 2:
        return _S(ctx).dot(a, b)
    if ra == rb == 3:
        return _S(ctx).batch_dot(a, b)
    raise ctx.unsupported("of ranks %d and %d: dot and batch_dot take a rank <= 2 right side or two rank-3" % (ra, rb))


# -- activations and softmax ----------------------------------------------------------------------------------

_ACT = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softplus": "softrelu", "Softsign": "softsign"}


@imports(*_ACT)
def activation(ctx, node, ins):
    return _S(ctx).Activation(ctx.get(ins[0]), act_type=_ACT[node.op_type], name=node.name or None)


@imports("LeakyRelu")
def leaky_relu(ctx, node, ins):
    return _S(ctx).LeakyReLU(ctx.get(ins[0]), act_type="leaky", slope=ctx.attrs(node).get("alpha", 0.01))


@imports("Elu")
def elu(ctx, node, ins):
    return _S(ctx).LeakyReLU(ctx.get(ins[0]), act_type="elu", slope=ctx.attrs(node).get("alpha", 1.0))


@imports("Selu")
def selu(ctx, node, ins):
    a = ctx.attrs(node)
    if abs(a.get("alpha", 1.6732632) - 1.6732632) > 1e-6 or abs(a.get("gamma", 1.0507010) - 1.0507010) > 1e-6:
        raise ctx.unsupported("with alpha/gamma other than SELU's constants")
    return _S(ctx).LeakyReLU(ctx.get(ins[0]), act_type="selu")


@imports("PRelu")
def prelu(ctx, node, ins):
    slope = _S(ctx).reshape(ctx.get(ins[1]), shape=(-1,))
    return _S(ctx).LeakyReLU(ctx.get(ins[0]), slope, act_type="prelu")


@imports("HardSigmoid")
def hard_sigmoid(ctx, node, ins):
    a = ctx.attrs(node)
    return _S(ctx).hard_sigmoid(ctx.get(ins[0]), alpha=a.get("alpha", 0.2), beta=a.get("beta", 0.5))


def _softmax(ctx, node, ins, fn):
    axis = ctx.attrs(node).get("axis", -1 if ctx.opset >= 13 else 1)
    x = ctx.get(ins[0])
    if ctx.opset >= 13 or axis % ctx.rank(ins[0]) == ctx.rank(ins[0]) - 1:
        return fn(x, axis=axis)
    # before opset 13: over all dimensions from `axis` on, as a 2-D matrix
    rows = _S(ctx).reshape(x, shape=(0,) * axis + (-1,))
    return _S(ctx).reshape_like(fn(rows, axis=-1), x)


@imports("Softmax")
def softmax(ctx, node, ins):
    return _softmax(ctx, node, ins, _S(ctx).softmax)


@imports("LogSoftmax")
def log_softmax(ctx, node, ins):
    return _softmax(ctx, node, ins, _S(ctx).log_softmax)


# -- elementwise ----------------------------------------------------------------------------------------------

_BINARY = {"Add": ("broadcast_add", "_plus_scalar", None), "Sub": ("broadcast_sub", "_minus_scalar", "_rminus_scalar"),
           "Mul": ("broadcast_mul", "_mul_scalar", None), "Div": ("broadcast_div", "_div_scalar", "_rdiv_scalar"),
           "Pow": ("broadcast_power", "_power_scalar", "_rpower_scalar"),
           "Equal": ("broadcast_equal", "_equal_scalar", None),
           "Greater": ("broadcast_greater", "_greater_scalar", "_lesser_scalar"),
           "GreaterOrEqual": ("broadcast_greater_equal", "_greater_equal_scalar", "_lesser_equal_scalar"),
           "Less": ("broadcast_lesser", "_lesser_scalar", "_greater_scalar"),
           "LessOrEqual": ("broadcast_lesser_equal", "_lesser_equal_scalar", "_greater_equal_scalar"),
           "And": ("broadcast_logical_and", None, None), "Or": ("broadcast_logical_or", None, None),
           "Xor": ("broadcast_logical_xor", None, None)}
_COMMUTES = {"Add", "Mul", "Equal"}


def _op(ctx, name):
    return getattr(ctx.sym, name, None) or getattr(ctx.sym._internal, name)


def _is_scalar(ctx, name):
    return ctx.is_const(name) and ctx.value(name).size == 1 and ctx.value(name).ndim == 0


@imports(*_BINARY)
def binary(ctx, node, ins):
    broadcast, scalar, rscalar = _BINARY[node.op_type]
    a, b = ins
    if scalar and _is_scalar(ctx, b):
        return _op(ctx, scalar)(ctx.get(a), scalar=float(ctx.value(b)))
    if _is_scalar(ctx, a) and (rscalar or node.op_type in _COMMUTES):
        return _op(ctx, rscalar or scalar)(ctx.get(b), scalar=float(ctx.value(a)))
    return _op(ctx, broadcast)(ctx.get(a), ctx.get(b))


@imports("Mod")
def mod(ctx, node, ins):
    if ctx.attrs(node).get("fmod", 0):
        raise ctx.unsupported("with fmod=1: MXNet's mod takes the divisor's sign")
    return _S(ctx).broadcast_mod(ctx.get(ins[0]), ctx.get(ins[1]))


def _variadic(broadcast):
    def translate(ctx, node, ins):
        out = ctx.get(ins[0])
        for name in ins[1:]:
            out = _op(ctx, broadcast)(out, ctx.get(name))
        return out
    return translate


imports("Sum")(_variadic("broadcast_add"))
imports("Max")(_variadic("broadcast_maximum"))
imports("Min")(_variadic("broadcast_minimum"))


@imports("Mean")
def mean(ctx, node, ins):
    return _variadic("broadcast_add")(ctx, node, ins) / float(len(ins))


_UNARY = {"Exp": "exp", "Log": "log", "Sqrt": "sqrt", "Abs": "abs", "Neg": "negative", "Floor": "floor",
          "Ceil": "ceil", "Sin": "sin", "Cos": "cos", "Tan": "tan", "Asin": "arcsin", "Acos": "arccos",
          "Atan": "arctan", "Sinh": "sinh", "Cosh": "cosh", "Asinh": "arcsinh", "Acosh": "arccosh",
          "Atanh": "arctanh", "Reciprocal": "reciprocal", "Sign": "sign", "Erf": "erf", "Not": "logical_not",
          "Identity": "_copy", "Dropout": "_copy"}


@imports(*_UNARY)
def unary(ctx, node, ins):
    return _op(ctx, _UNARY[node.op_type])(ctx.get(ins[0]))


@imports("Cast")
def cast(ctx, node, ins):
    to = ctx.attrs(node)["to"]
    if to == ctx.onnx.TensorProto.BOOL:   # MXNet keeps truth values as 0/1 in the input's dtype
        return _op(ctx, "_not_equal_scalar")(ctx.get(ins[0]), scalar=0.0)
    dtype = ctx.onnx.helper.tensor_dtype_to_np_dtype(to)
    return _S(ctx).Cast(ctx.get(ins[0]), dtype=np.dtype(dtype).name)


@imports("Clip")
def clip(ctx, node, ins):
    a = ctx.attrs(node)
    low, high = a.get("min", -np.inf), a.get("max", np.inf)
    if len(ins) > 1 and ins[1]:
        low = float(ctx.value(ins[1]))
    if len(ins) > 2 and ins[2]:
        high = float(ctx.value(ins[2]))
    big = float(np.finfo(np.float32).max)
    return _S(ctx).clip(ctx.get(ins[0]), max(low, -big), min(high, big))


@imports("Where")
def where(ctx, node, ins):
    """ONNX broadcasts the three inputs, MXNet's where takes one shape: each broadcast to their common shape
    (left-padded to one rank, then against a sum of zeros_like, which stays finite)."""
    S = _S(ctx)
    rank = max(ctx.rank(i) for i in ins)
    parts = []
    for name in ins:
        part = ctx.get(name)
        for _ in range(rank - ctx.rank(name)):
            part = S.expand_dims(part, axis=0)
        parts.append(part)
    common = S.broadcast_add(S.broadcast_add(S.zeros_like(parts[0]), S.zeros_like(parts[1])), S.zeros_like(parts[2]))
    return S.where(*[S.broadcast_like(part, common) for part in parts])


# -- reductions -----------------------------------------------------------------------------------------------

_REDUCE = {"ReduceSum": "sum", "ReduceMean": "mean", "ReduceMax": "max", "ReduceMin": "min", "ReduceProd": "prod",
           "ReduceL1": "norm", "ReduceL2": "norm"}


@imports(*_REDUCE)
def reduce(ctx, node, ins):
    a = ctx.attrs(node)
    axes = a.get("axes")
    if len(ins) > 1 and ins[1]:
        axes = ctx.value(ins[1]).tolist()
    if not axes and a.get("noop_with_empty_axes", 0):
        return ctx.get(ins[0])
    extra = {"ord": 1 if node.op_type == "ReduceL1" else 2} if _REDUCE[node.op_type] == "norm" else {}
    axis = tuple(int(v) for v in axes) if axes else None
    return getattr(ctx.sym, _REDUCE[node.op_type])(ctx.get(ins[0]), axis=axis, keepdims=bool(a.get("keepdims", 1)),
                                                   **extra)


@imports("ArgMax", "ArgMin")
def arg_extreme(ctx, node, ins):
    a = ctx.attrs(node)
    if a.get("select_last_index", 0):
        raise ctx.unsupported("with select_last_index=1")
    fn = ctx.sym.argmax if node.op_type == "ArgMax" else ctx.sym.argmin
    return fn(ctx.get(ins[0]), axis=a.get("axis", 0), keepdims=bool(a.get("keepdims", 1)))


# -- shapes and indexing --------------------------------------------------------------------------------------

@imports("Reshape")
def reshape(ctx, node, ins):
    if ins[1] in ctx.shape_sources:     # to the shape of another tensor
        return _S(ctx).reshape_like(ctx.get(ins[0]), ctx.get(ctx.shape_sources[ins[1]]))
    shape = tuple(int(v) for v in ctx.value(ins[1]))
    if ctx.attrs(node).get("allowzero", 0) and 0 in shape:
        raise ctx.unsupported("with allowzero=1 and a 0 in the shape")
    return _S(ctx).reshape(ctx.get(ins[0]), shape=shape)    # 0 copies and -1 infers, in both


@imports("Flatten")
def flatten(ctx, node, ins):
    axis = ctx.attrs(node).get("axis", 1)
    x = ctx.get(ins[0])
    if axis == 1:
        return _S(ctx).Flatten(x)
    if axis == 0:
        return _S(ctx).reshape(x, shape=(1, -1))
    axis %= ctx.rank(ins[0])     # (d0 .. d[axis-1], rest), then the leading dimensions merged (read from the right)
    return _S(ctx).reshape(_S(ctx).reshape(x, shape=(0,) * axis + (-1,)), shape=(-1, 0), reverse=True)


@imports("Transpose")
def transpose(ctx, node, ins):
    perm = ctx.attrs(node).get("perm")
    return _S(ctx).transpose(ctx.get(ins[0]), axes=tuple(perm) if perm else ())


@imports("Concat")
def concat(ctx, node, ins):
    return _S(ctx).concat(*[ctx.get(i) for i in ins], dim=ctx.attrs(node)["axis"], num_args=len(ins))


def _axes(ctx, node, ins, position):
    a = ctx.attrs(node)
    if len(ins) > position and ins[position]:
        return [int(v) for v in ctx.value(ins[position])]
    return list(a.get("axes", []))


@imports("Unsqueeze")
def unsqueeze(ctx, node, ins):
    axes = _axes(ctx, node, ins, 1)
    out_rank = ctx.rank(ins[0]) + len(axes)
    y = ctx.get(ins[0])
    for axis in sorted(a % out_rank for a in axes):
        y = _S(ctx).expand_dims(y, axis=axis)
    return y


@imports("Squeeze")
def squeeze(ctx, node, ins):
    axes = _axes(ctx, node, ins, 1)
    return _S(ctx).squeeze(ctx.get(ins[0]), axis=tuple(axes) if axes else None)


@imports("Slice")
def slice_(ctx, node, ins):
    starts, ends = ctx.value(ins[1]).tolist(), ctx.value(ins[2]).tolist()
    rank = ctx.rank(ins[0])
    axes = ctx.value(ins[3]).tolist() if len(ins) > 3 and ins[3] else list(range(len(starts)))
    steps = ctx.value(ins[4]).tolist() if len(ins) > 4 and ins[4] else [1] * len(starts)
    axes = [a % rank for a in axes]
    n = max(axes) + 1
    begin, end, step = [None] * n, [None] * n, [None] * n
    for axis, b, e, s in zip(axes, starts, ends, steps):
        huge = abs(e) >= 2 ** 62
        begin[axis] = None if abs(b) >= 2 ** 62 else b
        end[axis] = None if huge else e
        step[axis] = s
    return _S(ctx).slice(ctx.get(ins[0]), begin=tuple(begin), end=tuple(end), step=tuple(step))


@imports("Split")
def split(ctx, node, ins):
    a = ctx.attrs(node)
    axis = a.get("axis", 0)
    sizes = ctx.value(ins[1]).tolist() if len(ins) > 1 and ins[1] else list(a.get("split", []))
    x = ctx.get(ins[0])
    count = len(node.output)
    if not sizes or len(set(sizes)) == 1:
        parts = _S(ctx).split(x, num_outputs=count, axis=axis)
        return [parts[i] for i in range(count)] if count > 1 else [parts]
    bounds = np.cumsum([0] + sizes)
    return [_S(ctx).slice_axis(x, axis=axis, begin=int(b), end=int(e)) for b, e in zip(bounds[:-1], bounds[1:])]


@imports("Gather")
def gather(ctx, node, ins):
    axis = ctx.attrs(node).get("axis", 0)
    return _S(ctx).take(ctx.get(ins[0]), ctx.get(ins[1]), axis=axis, mode="wrap")     # wrap: negative indices


@imports("Tile")
def tile(ctx, node, ins):
    return _S(ctx).tile(ctx.get(ins[0]), reps=tuple(int(v) for v in ctx.value(ins[1])))


@imports("Expand")
def expand(ctx, node, ins):
    shape = [int(v) for v in ctx.value(ins[1])]
    rank = ctx.rank(ins[0])
    x = ctx.get(ins[0])
    if len(shape) > rank:
        for _ in range(len(shape) - rank):
            x = _S(ctx).expand_dims(x, axis=0)
    return _S(ctx).broadcast_to(x, shape=tuple(0 if d == 1 else d for d in shape))   # 0 (and ONNX's 1) keep


@imports("Pad")
def pad(ctx, node, ins):
    a = ctx.attrs(node)
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    pads = [int(v) for v in (ctx.value(ins[1]) if len(ins) > 1 and ins[1] else a["pads"])]
    value = float(ctx.value(ins[2])) if len(ins) > 2 and ins[2] else float(a.get("value", 0.0))
    n = len(pads) // 2
    width = tuple(v for pair in zip(pads[:n], pads[n:]) for v in pair)
    return _S(ctx).pad(ctx.get(ins[0]), mode=mode, pad_width=width, constant_value=value)


@imports("DepthToSpace")
def depth_to_space(ctx, node, ins):
    a = ctx.attrs(node)
    mode = a.get("mode", b"DCR")
    if (mode.decode() if isinstance(mode, bytes) else mode) != "DCR":
        raise ctx.unsupported("with mode CRD: MXNet's depth_to_space is DCR")
    return _S(ctx).depth_to_space(ctx.get(ins[0]), block_size=a["blocksize"])


@imports("SpaceToDepth")
def space_to_depth(ctx, node, ins):
    return _S(ctx).space_to_depth(ctx.get(ins[0]), block_size=ctx.attrs(node)["blocksize"])


@imports("Shape")
def shape(ctx, node, ins):
    ctx.shape_sources[node.output[0]] = ins[0]
    return _S(ctx).shape_array(ctx.get(ins[0]))


@imports("ConstantOfShape")
def constant_of_shape(ctx, node, ins):
    value = ctx.attrs(node).get("value")
    fill = ctx.onnx.numpy_helper.to_array(value).reshape(-1)[0] if value is not None else np.float32(0)
    if ins[0] in ctx.shape_sources:     # the shape of another tensor: a filled copy of it
        like = ctx.get(ctx.shape_sources[ins[0]])
        return _S(ctx).zeros_like(like) + float(fill) if fill else _S(ctx).zeros_like(like)
    shape_value = tuple(int(v) for v in ctx.value(ins[0]))
    return _S(ctx).full(shape=shape_value, val=float(fill), dtype=np.dtype(fill.dtype).name)


@imports("OneHot")
def one_hot(ctx, node, ins):
    if ctx.attrs(node).get("axis", -1) != -1:
        raise ctx.unsupported("with an axis other than -1")
    off, on = ctx.value(ins[2]).tolist()
    return _S(ctx).one_hot(ctx.get(ins[0]), depth=int(ctx.value(ins[1]).reshape(-1)[0]), on_value=on, off_value=off,
                           dtype=np.dtype(ctx.value(ins[2]).dtype).name)

