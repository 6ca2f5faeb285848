"""Export translations of the tensor ops: elementwise, scalar and broadcast arithmetic, comparisons, reductions,
shape and indexing ops. Signatures as in `translations_nn.py`."""
import math

import numpy as np

from ._table import exports

INT64_MAX, INT64_MIN = np.iinfo(np.int64).max, np.iinfo(np.int64).min


def _fit(ctx, node, y, outs):
    """Write `y` to the node's output, reshaped where ONNX's rank differs from MXNet's (a full reduction or a
    vector dot gives MXNet shape (1,), ONNX a 0-d tensor)."""
    ctx.emit("Reshape", [y, ctx.ints(ctx.out_shape(node))], outs)


def _to_dtype_of(ctx, entry, y, outs=None):
    """Cast a boolean result back to the dtype of `entry`, as MXNet's comparisons return 0/1 in the input dtype."""
    to = ctx.onnx.helper.np_dtype_to_tensor_dtype(ctx.dtype(entry))
    return ctx.emit("Cast", [y], outs, to=to)[0]


def _as_bool(ctx, x):
    return ctx.op("Cast", x, to=ctx.onnx.TensorProto.BOOL)


# -- elementwise ----------------------------------------------------------------------------------------------

_BINARY = {"Add": ("elemwise_add", "broadcast_add"), "Sub": ("elemwise_sub", "broadcast_sub"),
           "Mul": ("elemwise_mul", "broadcast_mul"), "Div": ("elemwise_div", "broadcast_div"),
           "Pow": ("_power", "broadcast_power"), "Max": ("_maximum", "broadcast_maximum"),
           "Min": ("_minimum", "broadcast_minimum")}
_COMPARE = {"Equal": ("_equal", "broadcast_equal"), "Greater": ("_greater", "broadcast_greater"),
            "GreaterOrEqual": ("_greater_equal", "broadcast_greater_equal"), "Less": ("_lesser", "broadcast_lesser"),
            "LessOrEqual": ("_lesser_equal", "broadcast_lesser_equal")}
_LOGICAL = {"And": ("broadcast_logical_and", "_logical_and"), "Or": ("broadcast_logical_or", "_logical_or"),
            "Xor": ("broadcast_logical_xor", "_logical_xor")}
_SCALAR = {"Add": "_plus_scalar", "Sub": "_minus_scalar", "Mul": "_mul_scalar", "Div": "_div_scalar",
           "Pow": "_power_scalar", "Max": "_maximum_scalar", "Min": "_minimum_scalar"}
_RSCALAR = {"Sub": "_rminus_scalar", "Div": "_rdiv_scalar", "Pow": "_rpower_scalar"}
_SCALAR_COMPARE = {"Equal": "_equal_scalar", "Greater": "_greater_scalar", "GreaterOrEqual": "_greater_equal_scalar",
                   "Less": "_lesser_scalar", "LessOrEqual": "_lesser_equal_scalar"}
_UNARY = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "exp": "Exp", "log": "Log", "sqrt": "Sqrt",
          "abs": "Abs", "negative": "Neg", "floor": "Floor", "ceil": "Ceil", "sin": "Sin", "cos": "Cos",
          "tan": "Tan", "arcsin": "Asin", "arccos": "Acos", "arctan": "Atan", "sinh": "Sinh", "cosh": "Cosh",
          "arcsinh": "Asinh", "arccosh": "Acosh", "arctanh": "Atanh", "reciprocal": "Reciprocal", "sign": "Sign",
          "erf": "Erf", "softsign": "Softsign"}


def _simple(onnx_type):
    def translate(ctx, node, ins, outs):
        ctx.emit(onnx_type, ins, outs)
    return translate


def _compare(onnx_type):
    def translate(ctx, node, ins, outs):
        _to_dtype_of(ctx, node.inputs[0], ctx.op(onnx_type, *ins), outs)
    return translate


def _logical(onnx_type):
    def translate(ctx, node, ins, outs):
        _to_dtype_of(ctx, node.inputs[0], ctx.op(onnx_type, *[_as_bool(ctx, x) for x in ins]), outs)
    return translate


def _scalar(onnx_type, reflected=False, compare=False):
    def translate(ctx, node, ins, outs):
        c = ctx.scalar_like(node.params.scalar, node.inputs[0])
        args = [c, ins[0]] if reflected else [ins[0], c]
        if compare:
            _to_dtype_of(ctx, node.inputs[0], ctx.op(onnx_type, *args), outs)
        else:
            ctx.emit(onnx_type, args, outs)
    return translate


for _type, _names in _BINARY.items():
    exports(*_names)(_simple(_type))
for _type, _names in _COMPARE.items():
    exports(*_names)(_compare(_type))
for _type, _names in _LOGICAL.items():
    exports(*_names)(_logical(_type))
for _type, _name in _SCALAR.items():
    exports(_name)(_scalar(_type))
for _type, _name in _RSCALAR.items():
    exports(_name)(_scalar(_type, reflected=True))
for _type, _name in _SCALAR_COMPARE.items():
    exports(_name)(_scalar(_type, compare=True))
for _name, _type in _UNARY.items():
    exports(_name)(_simple(_type))


@exports("_not_equal", "broadcast_not_equal")
def not_equal(ctx, node, ins, outs):
    _to_dtype_of(ctx, node.inputs[0], ctx.op("Not", ctx.op("Equal", *ins)), outs)


@exports("_not_equal_scalar")
def not_equal_scalar(ctx, node, ins, outs):
    c = ctx.scalar_like(node.params.scalar, node.inputs[0])
    _to_dtype_of(ctx, node.inputs[0], ctx.op("Not", ctx.op("Equal", ins[0], c)), outs)


@exports("logical_not")
def logical_not(ctx, node, ins, outs):
    _to_dtype_of(ctx, node.inputs[0], ctx.op("Not", _as_bool(ctx, ins[0])), outs)


@exports("square")
def square(ctx, node, ins, outs):
    ctx.emit("Mul", [ins[0], ins[0]], outs)


@exports("rsqrt")
def rsqrt(ctx, node, ins, outs):
    ctx.emit("Reciprocal", [ctx.op("Sqrt", ins[0])], outs)


@exports("log1p")
def log1p(ctx, node, ins, outs):
    ctx.emit("Log", [ctx.op("Add", ins[0], ctx.scalar_like(1, node.inputs[0]))], outs)


@exports("expm1")
def expm1(ctx, node, ins, outs):
    ctx.emit("Sub", [ctx.op("Exp", ins[0]), ctx.scalar_like(1, node.inputs[0])], outs)


@exports("log2", "log10")
def log_base(ctx, node, ins, outs):
    base = 2.0 if node.op.name == "log2" else 10.0
    ctx.emit("Div", [ctx.op("Log", ins[0]), ctx.scalar_like(math.log(base), node.inputs[0])], outs)


@exports("rint")
def rint(ctx, node, ins, outs):
    """MXNet's rint takes the floor at a tie (rint(1.5) = 1), ONNX's Round the even neighbour: ceil(x - 0.5)."""
    ctx.emit("Ceil", [ctx.op("Sub", ins[0], ctx.scalar_like(0.5, node.inputs[0]))], outs)


@exports("round", "fix", "trunc")
def round_away(ctx, node, ins, outs):
    """round: half away from zero; fix/trunc: towards zero. Both as sign(x) * floor(|x| + h)."""
    half = 0.5 if node.op.name == "round" else 0.0
    magnitude = ctx.op("Floor", ctx.op("Add", ctx.op("Abs", ins[0]), ctx.scalar_like(half, node.inputs[0])))
    ctx.emit("Mul", [ctx.op("Sign", ins[0]), magnitude], outs)


@exports("add_n")
def add_n(ctx, node, ins, outs):
    ctx.emit("Sum", ins, outs)


@exports("Cast")
def cast(ctx, node, ins, outs):
    ctx.emit("Cast", ins, outs, to=ctx.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(node.params.dtype)))


@exports("clip")
def clip(ctx, node, ins, outs):
    p = node.params
    ctx.emit("Clip", [ins[0], ctx.scalar_like(p.a_min, node.inputs[0]), ctx.scalar_like(p.a_max, node.inputs[0])],
             outs)


@exports("zeros_like", "ones_like")
def filled_like(ctx, node, ins, outs):
    value = np.array([0 if node.op.name == "zeros_like" else 1], dtype=ctx.dtype(node.inputs[0]))
    ctx.emit("ConstantOfShape", [ctx.op("Shape", ins[0])], outs,
             value=ctx.onnx.numpy_helper.from_array(value, "value"))


@exports("where")
def where(ctx, node, ins, outs):
    cond, x, y = ins
    c_rank, x_rank = len(ctx.shape(node.inputs[0])), len(ctx.shape(node.inputs[1]))
    if c_rank < x_rank:     # MXNet's 1-D condition picks whole rows
        cond = ctx.op("Reshape", cond, ctx.ints([-1] + [1] * (x_rank - c_rank)))
    ctx.emit("Where", [_as_bool(ctx, cond), x, y], outs)


# -- reductions -----------------------------------------------------------------------------------------------

_REDUCE = {"sum": "ReduceSum", "mean": "ReduceMean", "max": "ReduceMax", "min": "ReduceMin", "prod": "ReduceProd"}


def _reduced_axes(ctx, node):
    p = node.params
    ndim = len(ctx.shape(node.inputs[0]))
    axis = p.axis
    if axis is None or (isinstance(axis, tuple) and not axis):
        axes = list(range(ndim))
    else:
        axes = sorted({a % ndim for a in (axis if isinstance(axis, tuple) else (axis,))})
    if getattr(p, "exclude", False):
        axes = [a for a in range(ndim) if a not in axes]
    return axes


def _reduce(ctx, node, ins, outs, onnx_type):
    axes = _reduced_axes(ctx, node)
    keep = int(node.params.keepdims)
    if onnx_type == "ReduceSum":    # opset 13 takes ReduceSum's axes as an input, the others as an attribute
        y = ctx.op(onnx_type, ins[0], ctx.ints(axes), keepdims=keep)
    else:
        y = ctx.op(onnx_type, ins[0], axes=axes, keepdims=keep)
    _fit(ctx, node, y, outs)


for _name, _type in _REDUCE.items():
    exports(_name)(lambda ctx, node, ins, outs, _type=_type: _reduce(ctx, node, ins, outs, _type))


@exports("norm")
def norm(ctx, node, ins, outs):
    order = node.params.ord
    if order not in (1, 2):
        raise ctx.unsupported(node, "with ord=%r: only 1 and 2 export" % order)
    _reduce(ctx, node, ins, outs, "ReduceL1" if order == 1 else "ReduceL2")


@exports("argmax", "argmin")
def arg_extreme(ctx, node, ins, outs):
    p = node.params
    if p.axis is None:
        raise ctx.unsupported(node, "with axis=None: give the axis")
    onnx_type = "ArgMax" if node.op.name == "argmax" else "ArgMin"
    index = ctx.op(onnx_type, ins[0], axis=int(p.axis), keepdims=int(p.keepdims))
    ctx.emit("Cast", [index], outs, to=ctx.onnx.TensorProto.FLOAT)     # MXNet returns float32 indices


# -- shapes ---------------------------------------------------------------------------------------------------

@exports("Reshape", "reshape_like")
def reshape(ctx, node, ins, outs):
    in_shape, out_shape = ctx.shape(node.inputs[0]), list(ctx.out_shape(node))
    if ctx.dynamic and out_shape:   # keep the batch dimension symbolic: copied (0) or what is left (-1)
        out_shape[0] = 0 if in_shape and out_shape[0] == in_shape[0] else -1
    ctx.emit("Reshape", [ins[0], ctx.ints(out_shape)], outs)


@exports("Flatten")
def flatten(ctx, node, ins, outs):
    ctx.emit("Flatten", ins, outs, axis=1)


@exports("expand_dims")
def expand_dims(ctx, node, ins, outs):
    ctx.emit("Unsqueeze", [ins[0], ctx.ints([node.params.axis])], outs)


@exports("squeeze")
def squeeze(ctx, node, ins, outs):
    axis = node.params.axis
    args = [ins[0]] if axis is None else [ins[0], ctx.ints(axis if isinstance(axis, tuple) else (axis,))]
    if len(ctx.out_shape(node)) == 1 and all(d == 1 for d in ctx.shape(node.inputs[0])):
        _fit(ctx, node, ctx.op("Squeeze", *args), outs)     # MXNet keeps (1,) where all dims go
    else:
        ctx.emit("Squeeze", args, outs)


@exports("transpose")
def transpose(ctx, node, ins, outs):
    axes = tuple(node.params.axes) or tuple(reversed(range(len(ctx.shape(node.inputs[0])))))
    ctx.emit("Transpose", ins, outs, perm=list(axes))


@exports("SwapAxis")
def swap_axis(ctx, node, ins, outs):
    perm = list(range(len(ctx.shape(node.inputs[0]))))
    a, b = node.params.dim1, node.params.dim2
    perm[a], perm[b] = perm[b], perm[a]
    ctx.emit("Transpose", ins, outs, perm=perm)


@exports("Concat")
def concat(ctx, node, ins, outs):
    ctx.emit("Concat", ins, outs, axis=node.params.dim)


@exports("stack")
def stack(ctx, node, ins, outs):
    axis = ctx.ints([node.params.axis])
    ctx.emit("Concat", [ctx.op("Unsqueeze", x, axis) for x in ins], outs, axis=node.params.axis)


@exports("slice")
def slice_(ctx, node, ins, outs):
    p = node.params
    step = list(p.step) if p.step else []
    starts, ends, steps = [], [], []
    for i, (b, e) in enumerate(zip(p.begin, p.end)):
        s = step[i] if i < len(step) and step[i] is not None else 1
        starts.append((0 if s > 0 else INT64_MAX) if b is None else b)
        ends.append((INT64_MAX if s > 0 else INT64_MIN) if e is None else e)
        steps.append(s)
    axes = list(range(len(starts)))
    ctx.emit("Slice", [ins[0], ctx.ints(starts), ctx.ints(ends), ctx.ints(axes), ctx.ints(steps)], outs)


@exports("slice_axis")
def slice_axis(ctx, node, ins, outs):
    p = node.params
    end = INT64_MAX if p.end is None else p.end
    ctx.emit("Slice", [ins[0], ctx.ints([p.begin]), ctx.ints([end]), ctx.ints([p.axis])], outs)


@exports("SliceChannel")
def slice_channel(ctx, node, ins, outs):
    p = node.params
    size = ctx.shape(node.inputs[0])[p.axis]
    sizes = [size // p.num_outputs] * p.num_outputs
    if not p.squeeze_axis:
        ctx.emit("Split", [ins[0], ctx.ints(sizes)], outs, axis=p.axis)
        return
    parts = ctx.emit("Split", [ins[0], ctx.ints(sizes)], [ctx.fresh(o + "_part") for o in outs], axis=p.axis)
    for part, out in zip(parts, outs):
        ctx.emit("Squeeze", [part, ctx.ints([p.axis])], [out])


@exports("tile")
def tile(ctx, node, ins, outs):
    shape = ctx.shape(node.inputs[0])
    reps = list(node.params.reps)
    x = ins[0]
    if len(reps) > len(shape):
        x = ctx.op("Reshape", x, ctx.ints([1] * (len(reps) - len(shape)) + list(shape)))
    reps = [1] * (len(shape) - len(reps)) + reps
    ctx.emit("Tile", [x, ctx.ints(reps)], outs)


@exports("broadcast_to", "broadcast_axis", "broadcast_like")
def broadcast_to(ctx, node, ins, outs):
    ctx.emit("Expand", [ins[0], ctx.ints(ctx.out_shape(node))], outs)


@exports("take")
def take(ctx, node, ins, outs):
    p = node.params
    axis = p.axis % len(ctx.shape(node.inputs[0]))
    size = ctx.shape(node.inputs[0])[axis]
    indices = ctx.op("Cast", ins[1], to=ctx.onnx.TensorProto.INT64)
    if p.mode == "wrap":
        indices = ctx.op("Mod", indices, ctx.ints([size]))
    else:   # clip (and raise, which cannot raise in a graph)
        indices = ctx.op("Clip", indices, ctx.const(np.int64(0)), ctx.const(np.int64(size - 1)))
    ctx.emit("Gather", [ins[0], indices], outs, axis=axis)


@exports("dot")
def dot(ctx, node, ins, outs):
    p = node.params
    a, b = ins
    if p.transpose_a:
        a = ctx.op("Transpose", a)
    if p.transpose_b:
        b = ctx.op("Transpose", b)
    if len(ctx.shape(node.inputs[1])) > 2:
        raise ctx.unsupported(node, "with a right operand of rank > 2")
    _fit(ctx, node, ctx.op("MatMul", a, b), outs)


@exports("batch_dot")
def batch_dot(ctx, node, ins, outs):
    p = node.params
    a, b = ins
    rank = len(ctx.shape(node.inputs[0]))
    swap = list(range(rank - 2)) + [rank - 1, rank - 2]
    if p.transpose_a:
        a = ctx.op("Transpose", a, perm=swap)
    if p.transpose_b:
        b = ctx.op("Transpose", b, perm=swap)
    ctx.emit("MatMul", [a, b], outs)


@exports("Pad")
def pad(ctx, node, ins, outs):
    p = node.params
    width = list(p.pad_width)
    pads = width[0::2] + width[1::2]
    args = [ins[0], ctx.ints(pads)]
    if p.mode == "constant":
        args.append(ctx.scalar_like(p.constant_value, node.inputs[0]))
    ctx.emit("Pad", args, outs, mode=p.mode)


@exports("UpSampling")
def upsampling(ctx, node, ins, outs):
    p = node.params
    if p.sample_type != "nearest" or len(ins) != 1:
        raise ctx.unsupported(node, "with sample_type=%r and %d inputs: only one nearest input exports"
                              % (p.sample_type, len(ins)))
    scales = ctx.const(np.array([1, 1, p.scale, p.scale], dtype=np.float32), name="scales")
    ctx.emit("Resize", [ins[0], "", scales], outs, mode="nearest", coordinate_transformation_mode="asymmetric",
             nearest_mode="floor")


@exports("depth_to_space", "space_to_depth")
def depth_space(ctx, node, ins, outs):
    if node.op.name == "depth_to_space":
        ctx.emit("DepthToSpace", ins, outs, blocksize=node.params.block_size, mode="DCR")
    else:
        ctx.emit("SpaceToDepth", ins, outs, blocksize=node.params.block_size)


@exports("shape_array")
def shape_array(ctx, node, ins, outs):
    ctx.emit("Shape", ins, outs)


@exports("one_hot")
def one_hot(ctx, node, ins, outs):
    p = node.params
    values = ctx.const(np.array([p.off_value, p.on_value], dtype=np.dtype(p.dtype)), name="values")
    indices = ctx.op("Cast", ins[0], to=ctx.onnx.TensorProto.INT64)
    ctx.emit("OneHot", [indices, ctx.ints([p.depth]), values], outs, axis=-1)
