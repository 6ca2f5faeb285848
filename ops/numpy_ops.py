"""NumPy-mode ops under MXNet's own names: arithmetic that broadcasts and promotes mixed dtypes (`_npi_add`,
`_npi_subtract`, `_npi_multiply`, `_npi_true_divide`, `_npi_mod`, `_npi_power`), comparisons of one dtype giving
bool (`_npi_equal` ... `_npi_less_equal`), true division by a number (`_npi_true_divide_scalar`,
`_npi_rtrue_divide_scalar`), NumPy's contractions (`_np_dot`, `_npi_tensordot`, `_npi_tensordot_int_axes`),
squeeze with NumPy's shapes (`_np_squeeze`: shape () where NumPy's result is zero-dim), `_npi_concatenate` (Concat
whose inputs may be empty along the axis), `_npi_hstack` and `_npi_around` (halves to even).
`_npi_matmul` is in numpy_matmul.py, the bitwise functions and lcm in numpy_integer.py, the reductions with NumPy's
shapes (`_np_sum`, `_npi_mean`, `_np_max`, `_np_min`, `_np_prod`) in numpy_reductions.py.

A numpy-mode graph is traced without its inputs' dtypes and shapes, so these ops carry NumPy's rules into the
graph: the dtype rule decides the result's dtype when the graph is bound (`promoted`, MXNet 1.9.1's table, recorded
in tests/fixtures/mxnet-1.9.1/np_sem/promotion.json), and the kernels read their operands' ranks when they run.
MXNet's numpy-mode JSON names these ops, so its nodes load as one node each. The gradients are backward ops whose
kernels sum each gradient over its operand's broadcast axes and cast it to the operand's dtype (no second order).
Operands of the result's dtype run the legacy ops' kernels and njit bodies (Note [the legacy kernel]), so the common
case costs what the legacy graph cost.
"""
from types import SimpleNamespace

import numpy as np

from .autodiff import apply
from .cpu.common import assign, store
from .elemwise import _broadcast_shape, fmt, like_inputs, merge, same_shape_rule, types_like_inputs
from .errors import DTypeError, ShapeError
from . import registry
from .registry import Bool, Float, Int, OpDef, OptShape, Shape, register

# -- dtype promotion ------------------------------------------------------------------------------------------------
_NO_BOOL = frozenset({"_npi_subtract", "_npi_mod"})       # bool - bool and bool % bool are refused, as in NumPy


def promoted(op_name, lhs, rhs):
    """The dtype of `lhs ∘ rhs` in MXNet's numpy mode, or a DTypeError naming the op and both dtypes where MXNet
    refuses the pair. NumPy's promotion, except that a float with an integer gives the float's dtype, int8 with
    uint8 is refused, and true division of integers gives float32 (both of one dtype; of two floats or two
    integers of different dtypes MXNet refuses it)."""
    lhs, rhs = np.dtype(lhs), np.dtype(rhs)

    def refuse():
        raise DTypeError("%s: operands of dtypes %s and %s are not supported (MXNet's numpy mode refuses them)"
                         % (op_name, lhs.name, rhs.name))
    if op_name == "_npi_true_divide":
        if lhs == rhs:
            return np.dtype(np.float32) if lhs.kind in "iub" else lhs
        if lhs.kind == "f" and rhs.kind in "iub":
            return lhs
        if rhs.kind == "f" and lhs.kind in "iub":
            return rhs
        refuse()
    if lhs == rhs:
        if lhs.kind == "b" and op_name in _NO_BOOL:
            refuse()
        return lhs
    if lhs.kind == "b" or rhs.kind == "b":
        return rhs if lhs.kind == "b" else lhs
    if lhs.kind == "f" and rhs.kind != "f":
        return lhs
    if rhs.kind == "f" and lhs.kind != "f":
        return rhs
    if {lhs, rhs} == {np.dtype(np.int8), np.dtype(np.uint8)}:
        refuse()
    return np.promote_types(lhs, rhs)


def one_dtype(op_name, in_types, out_types):
    """The one dtype of ops whose operands MXNet 1.9.1 takes only of one dtype (comparisons, matmul, the integer
    functions), inferred from whichever input or output is known; two dtypes are a DTypeError naming both."""
    known = {np.dtype(t) for t in list(in_types) + list(out_types) if t is not None}
    if len(known) > 1:
        raise DTypeError("%s: operands of dtypes %s are not supported (MXNet's numpy mode takes one dtype here)"
                         % (op_name, " and ".join(sorted(t.name for t in known))))
    return known.pop() if known else None


def _promotion_rule(op_name):
    def rule(p, in_types, out_types):
        if in_types[0] is None or in_types[1] is None:
            return list(in_types), list(out_types)
        return list(in_types), [promoted(op_name, *in_types)]
    return rule


# -- binary arithmetic ----------------------------------------------------------------------------------------------
def _power(a, b):
    if a.dtype.kind in "iu" and (b < 0).any():      # NumPy refuses negative integer powers: computed as floats
        return np.power(a.astype(np.float64), b).astype(a.dtype)
    return np.power(a, b)


# op name -> the registry's legacy op computing it for operands of the result's dtype (Note [the legacy kernel])
LEGACY = {"_npi_add": "broadcast_add", "_npi_subtract": "broadcast_sub", "_npi_multiply": "broadcast_mul",
          "_npi_true_divide": "broadcast_div", "_npi_mod": "broadcast_mod", "_npi_power": "broadcast_power"}

# op name -> (NumPy function of two arrays of the result's dtype, full-shape gradients (dy, lhs, rhs, out) as floats)
_BINARY = {
    "_npi_add": (np.add, lambda g, a, b, z: (g, g)),
    "_npi_subtract": (np.subtract, lambda g, a, b, z: (g, -g)),
    "_npi_multiply": (np.multiply, lambda g, a, b, z: (g * b, g * a)),
    "_npi_true_divide": (np.true_divide, lambda g, a, b, z: (g / b, -g * z / b)),
    "_npi_mod": (lambda a, b: np.where(b == 0, 0, np.mod(a, np.where(b == 0, 1, b))),    # 0 where b is, as MXNet's
                 lambda g, a, b, z: (g, -g * np.floor(a / b))),
    "_npi_power": (_power, lambda g, a, b, z: (g * b * np.power(a, b - 1), g * z * np.log(a))),
}


# Note [the legacy kernel]
# Operands of one dtype, which is the result's (float32 + float32, the common case), run the legacy broadcast op's
# CPU kernel: numpy's SIMD loops or the family's DUFuncs, with its njit body in compiled graphs (ops/jit/
# numpy_ops.py), so a numpy-mode graph is as fast as a legacy one. Mixed dtypes, bool results and true division of
# integers are computed with NumPy's function on the operands converted to the result's dtype.
def _binary_kernel(name, function):
    legacy = []     # the legacy op's kernel, looked up at the first call: importing ops.numpy_ops alone must not
    #                 load the whole op library mid-import

    def kernel(ctx, p, inputs, outputs, req):
        out = outputs[0]
        if out.dtype != np.bool_ and inputs[0].dtype == out.dtype and inputs[1].dtype == out.dtype:
            if not legacy:
                legacy.append(registry.get(LEGACY[name]).cpu)
            legacy[0](ctx, p, inputs, outputs, req)
            return
        work = np.int8 if out.dtype == np.bool_ else out.dtype      # bool arithmetic as 0/1, then any nonzero is True
        lhs, rhs = (x.astype(work, copy=False) for x in inputs)
        with np.errstate(all="ignore"):
            assign(out, req[0], function(lhs, rhs).reshape(out.shape))
    return kernel


def _work_float(dtype):
    """The dtype a gradient is computed in: float64 stays, anything else is float32."""
    return np.dtype(np.float64 if dtype == np.float64 else np.float32)


def _sum_to(gradient, shape):
    """`gradient` summed over the axes its operand of `shape` was broadcast along."""
    extra = gradient.ndim - len(shape)
    if extra > 0:
        gradient = gradient.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, d in enumerate(shape) if d == 1 and gradient.shape[i] != 1)
    return gradient.sum(axis=stretched, keepdims=True) if stretched else gradient


# ops whose gradients are zero for integer operands (MXNet 1.9.1: integer mod's, fixture np_graph/mod_grad.npz)
_NO_INTEGER_GRADIENT = frozenset({"_npi_mod"})


def _backward_binary_kernel(name, gradients):
    def kernel(ctx, p, inputs, outputs, req):
        dy, lhs, rhs, out = inputs
        if name in _NO_INTEGER_GRADIENT and out.dtype.kind in "iub":
            for k, operand in enumerate((lhs, rhs)):
                assign(outputs[k], req[k], np.zeros(operand.shape, outputs[k].dtype))
            return
        work = _work_float(dy.dtype)
        g, a, b, z = (x.astype(work, copy=False) for x in (dy, lhs, rhs, out))
        with np.errstate(all="ignore"):
            full = gradients(g, a, b, z)
        for k, (grad, operand) in enumerate(zip(full, (lhs, rhs))):
            grad = np.broadcast_to(grad, np.broadcast_shapes(a.shape, b.shape))
            assign(outputs[k], req[k], _sum_to(grad, operand.shape).reshape(operand.shape))
    return kernel


def _binary_op(name, function, gradients):
    def shape_rule(p, in_shapes, out_shapes):
        return _broadcast_shape(p, in_shapes, out_shapes, name)

    def gradient(p, ins, outs, dys):
        return apply("_backward" + name, dys[0], ins[0], ins[1], outs[0])
    register(OpDef(name, arguments=("lhs", "rhs"), infer_shape=shape_rule, infer_type=_promotion_rule(name),
                   inplace=((0, 0), (1, 0)), cpu=_binary_kernel(name, function), gradient=gradient,
                   doc="NumPy's %s of lhs and rhs, broadcast together; mixed dtypes promote as MXNet's numpy mode."
                   % name[len("_npi_"):]))
    register(OpDef("_backward" + name, arguments=("ograd", "lhs", "rhs", "output"), outputs=("lhs_grad", "rhs_grad"),
                   infer_shape=_backward_shapes, infer_type=_backward_types,
                   cpu=_backward_binary_kernel(name, gradients),
                   doc="The gradients of %s, each summed over its operand's broadcast axes." % name))


def _backward_shapes(p, in_shapes, out_shapes):
    return list(in_shapes), [merge(in_shapes[1], out_shapes[0]), merge(in_shapes[2], out_shapes[1])]


def _backward_types(p, in_types, out_types):
    return list(in_types), [in_types[1] or out_types[0], in_types[2] or out_types[1]]


for _name, (_function, _gradients) in _BINARY.items():
    _binary_op(_name, _function, _gradients)


# -- comparisons ----------------------------------------------------------------------------------------------------
# NumPy's comparisons of two arrays of one dtype (MXNet 1.9.1 refuses two dtypes, and takes bool), giving bool;
# no gradient, as the legacy comparisons
COMPARISONS = {"_npi_equal": np.equal, "_npi_not_equal": np.not_equal, "_npi_greater": np.greater,
               "_npi_greater_equal": np.greater_equal, "_npi_less": np.less, "_npi_less_equal": np.less_equal}


def _comparison_op(name, function):
    def type_rule(p, in_types, out_types):
        return [one_dtype(name, in_types, ())] * 2, [np.dtype(np.bool_)]

    def shape_rule(p, in_shapes, out_shapes):
        return _broadcast_shape(p, in_shapes, out_shapes, name)

    def kernel(ctx, p, inputs, outputs, req):
        assign(outputs[0], req[0], function(*inputs).reshape(outputs[0].shape))
    register(OpDef(name, arguments=("lhs", "rhs"), infer_shape=shape_rule, infer_type=type_rule, cpu=kernel,
                   gradient=lambda p, ins, outs, dys: [None, None],
                   doc="NumPy's %s of lhs and rhs (one dtype), broadcast together: bool." % name[len("_npi_"):]))


for _name, _function in COMPARISONS.items():
    _comparison_op(_name, _function)


# -- true division by a number --------------------------------------------------------------------------------------
def _true_divide_type(p, in_types, out_types):
    """An integer (or bool) array divided by (or dividing) a number gives float32; a float array its dtype."""
    t = in_types[0]
    if t is None:
        return list(in_types), list(out_types)
    return [t], [np.dtype(np.float32) if np.dtype(t).kind in "iub" else np.dtype(t)]


def _divide_scalar_kernel(reflected):
    def kernel(ctx, p, inputs, outputs, req):
        x = inputs[0].astype(outputs[0].dtype, copy=False)
        scalar = outputs[0].dtype.type(p.scalar)
        with np.errstate(all="ignore"):
            assign(outputs[0], req[0], scalar / x if reflected else x / scalar)
    return kernel


def _scalar_params():
    return dict(scalar=Float(1.0, "Scalar input value"), is_int=Bool(True, "Indicate whether scalar input is int type"))


register(OpDef("_npi_true_divide_scalar", params=_scalar_params(), infer_shape=same_shape_rule,
               infer_type=_true_divide_type, cpu=_divide_scalar_kernel(False),
               gradient=lambda p, ins, outs, dys: [apply("_div_scalar", dys[0], scalar=p.scalar)],
               doc="data / scalar; an integer array gives float32."))
register(OpDef("_npi_rtrue_divide_scalar", params=_scalar_params(), infer_shape=same_shape_rule,
               infer_type=_true_divide_type, cpu=_divide_scalar_kernel(True),
               gradient=lambda p, ins, outs, dys: [-(dys[0] * outs[0] / ins[0])],
               doc="scalar / data; an integer array gives float32."))


# -- contractions ---------------------------------------------------------------------------------------------------
def _dot_axes(a_ndim, b_ndim):
    """NumPy's dot as a tensordot: a's last axis with b's first (1-D b) or second-to-last."""
    return [a_ndim - 1], [0 if b_ndim == 1 else b_ndim - 2]


def _normalized(axes, ndim, op_name, which):
    out = []
    for axis in axes:
        if not -ndim <= axis < ndim:
            raise ShapeError("%s: axis %d is out of range for %s of %d dimensions" % (op_name, axis, which, ndim))
        out.append(axis % ndim)
    if len(set(out)) != len(out):
        raise ShapeError("%s: repeated axis in %s's summed axes %s" % (op_name, which, tuple(axes)))
    return out


def _summed_axes(op_name, p, a_ndim, b_ndim):
    """(a's summed axes, b's) of a contraction node, its operands' ranks known."""
    if op_name == "_np_dot":
        if not a_ndim or not b_ndim:
            raise ShapeError("_np_dot: operands of zero dimensions are not supported in a graph")
        return _dot_axes(a_ndim, b_ndim)
    if op_name == "_npi_tensordot_int_axes":
        if not 0 <= p.axes <= min(a_ndim, b_ndim):
            raise ShapeError("_npi_tensordot_int_axes: axes=%d is out of range for operands of %d and %d dimensions"
                             % (p.axes, a_ndim, b_ndim))
        return list(range(a_ndim - p.axes, a_ndim)), list(range(p.axes))
    if len(p.a_axes_summed) != len(p.b_axes_summed):
        raise ShapeError("_npi_tensordot: a_axes_summed %s and b_axes_summed %s differ in length"
                         % (p.a_axes_summed, p.b_axes_summed))
    return (_normalized(p.a_axes_summed, a_ndim, op_name, "a"), _normalized(p.b_axes_summed, b_ndim, op_name, "b"))


def _free(ndim, summed):
    return [i for i in range(ndim) if i not in summed]


def _contraction_shape(op_name):
    def rule(p, in_shapes, out_shapes):
        a, b = in_shapes
        if a is None or b is None:
            return list(in_shapes), list(out_shapes)
        a_axes, b_axes = _summed_axes(op_name, p, len(a), len(b))
        a, b = list(a), list(b)
        for i, j in zip(a_axes, b_axes):
            if a[i] and b[j] and a[i] != b[j]:
                raise ShapeError("%s: shape-mismatch for sum: a %s (axes %s) and b %s (axes %s)"
                                 % (op_name, fmt(in_shapes[0]), a_axes, fmt(in_shapes[1]), b_axes))
            a[i] = b[j] = a[i] or b[j]
        out = tuple(a[i] for i in _free(len(a), a_axes)) + tuple(b[j] for j in _free(len(b), b_axes))
        return [tuple(a), tuple(b)], [merge(out, out_shapes[0])]
    return rule


def _contraction_type(op_name):
    def rule(p, in_types, out_types):
        if in_types[0] is None or in_types[1] is None:
            return list(in_types), list(out_types)
        return list(in_types), [promoted("_npi_multiply", *in_types)]
    return rule


def _contraction_kernel(op_name):
    def kernel(ctx, p, inputs, outputs, req):
        a, b = inputs
        a_axes, b_axes = _summed_axes(op_name, p, a.ndim, b.ndim)
        out = outputs[0]
        work = np.float32 if out.dtype == np.float16 else (np.int64 if out.dtype == np.bool_ else out.dtype)
        product = np.tensordot(a.astype(work, copy=False), b.astype(work, copy=False), axes=(a_axes, b_axes))
        assign(out, req[0], product.reshape(out.shape))
    return kernel


def _backward_contraction_kernel(op_name):
    def kernel(ctx, p, inputs, outputs, req):
        dy, a, b = inputs
        a_axes, b_axes = _summed_axes(op_name, p, a.ndim, b.ndim)
        free_a, free_b = _free(a.ndim, a_axes), _free(b.ndim, b_axes)
        work = _work_float(dy.dtype)
        g = dy.astype(work, copy=False).reshape([a.shape[i] for i in free_a] + [b.shape[j] for j in free_b])
        fa, fb = a.astype(work, copy=False), b.astype(work, copy=False)
        # da: dy's b-part contracted with b's free axes; its axes are a's free ones, then a's summed ones in the
        # order their partners stand in b
        da = np.tensordot(g, fb, axes=(list(range(len(free_a), g.ndim)), free_b))
        order = free_a + [a_axes[b_axes.index(j)] for j in sorted(b_axes)]
        db = np.tensordot(fa, g, axes=(free_a, list(range(len(free_a)))))
        b_order = [b_axes[a_axes.index(i)] for i in sorted(a_axes)] + free_b
        assign(outputs[0], req[0], np.transpose(da, np.argsort(order)))
        assign(outputs[1], req[1], np.transpose(db, np.argsort(b_order)))
    return kernel


def _contraction_op(name, params, doc):
    def gradient(p, ins, outs, dys):
        return apply("_backward" + name, dys[0], ins[0], ins[1], **p.as_dict())
    register(OpDef(name, params=params, arguments=("a", "b"), infer_shape=_contraction_shape(name),
                   infer_type=_contraction_type(name), cpu=_contraction_kernel(name), gradient=gradient, doc=doc))
    register(OpDef("_backward" + name, params=dict(params), arguments=("ograd", "a", "b"), outputs=("a_grad", "b_grad"),
                   infer_shape=like_inputs(1, 2), infer_type=types_like_inputs(1, 2),
                   cpu=_backward_contraction_kernel(name), doc="The gradients of %s." % name))


_contraction_op("_np_dot", {}, "NumPy's dot: the sum of products over a's last axis and b's first (1-D b) or "
                               "second-to-last axis.")
_contraction_op("_npi_tensordot", dict(a_axes_summed=Shape(doc="a's summed axes"),
                                       b_axes_summed=Shape(doc="b's summed axes, pairwise with a's")),
                "NumPy's tensordot over the given pairs of axes.")
_contraction_op("_npi_tensordot_int_axes", dict(axes=Int(doc="the number of a's last and b's first axes summed")),
                "NumPy's tensordot over a's last `axes` axes and b's first `axes` axes.")

FORWARD = tuple(_BINARY) + tuple(COMPARISONS) + ("_npi_true_divide_scalar", "_npi_rtrue_divide_scalar", "_np_dot",
                                                 "_npi_tensordot", "_npi_tensordot_int_axes")
BACKWARD = tuple("_backward" + name for name in FORWARD if name in _BINARY or "dot" in name)


# -- squeeze with NumPy's shapes ------------------------------------------------------------------------------------
def _np_squeeze_shape(p, in_shapes, out_shapes):
    from .shape import _squeezed_axes
    data = in_shapes[0]
    if data == () and p.axis is not None and all(axis in (-1, 0) for axis in p.axis):
        return [()], [merge((), out_shapes[0])]         # NumPy: a zero-dim array's axis -1 / 0 is no axis to remove
    try:
        axes = None if data is None else _squeezed_axes(p, data)
    except ShapeError as err:       # the legacy squeeze's message, under this op's name
        raise ShapeError("_np_squeeze: %s" % str(err).split(": ", 1)[-1]) from None
    if axes is None:
        return list(in_shapes), list(out_shapes)
    return [data], [merge(tuple(d for i, d in enumerate(data) if i not in axes), out_shapes[0])]


register(OpDef("_np_squeeze", params=dict(axis=OptShape(None, "The axes of length one to remove; all by default.")),
               infer_shape=_np_squeeze_shape, inplace=((0, 0),), cpu=registry.get("squeeze").cpu,
               gradient=lambda p, ins, outs, dys: [apply("reshape_like", dys[0], ins[0])],
               doc="NumPy's squeeze: removes axes of length one; an all-ones shape becomes ()."))
FORWARD += ("_np_squeeze",)



# -- concatenate with NumPy's empty inputs --------------------------------------------------------------------------
def _np_concatenate_shape(p, in_shapes, out_shapes):
    """Concat's rule, except that once every input's shape is given, a length 0 along the axis is an empty input
    (a numpy-mode graph's inputs have their shapes), not an unknown one: the output's length is the sum."""
    from .nn import _concat_shape
    ins, outs = _concat_shape(SimpleNamespace(dim=p.axis), in_shapes, out_shapes)
    if any(s is None for s in in_shapes) or outs[0] is None:
        return ins, outs
    axis = p.axis % len(outs[0])
    total = sum(s[axis] for s in ins)
    return ins, [merge(outs[0], tuple(total if i == axis else d for i, d in enumerate(outs[0])))]


def _np_concatenate_kernel(ctx, p, inputs, outputs, req):
    axis = p.axis % inputs[0].ndim
    store(outputs[0], req[0], lambda dst: np.concatenate(inputs, axis=axis, out=dst, casting="unsafe"))


def _np_concatenate_gradient(p, ins, outs, dys):
    return _as_list(apply("_backward_Concat", dys[0], *ins, num_args=p.num_args, dim=p.axis))


register(OpDef("_npi_concatenate", variadic="num_args",
               params=dict(num_args=Int(doc="Number of inputs to be concatenated."),
                           axis=Int(0, "The axis along which the inputs are joined.")),
               infer_shape=_np_concatenate_shape, cpu=_np_concatenate_kernel, gradient=_np_concatenate_gradient,
               doc="NumPy's concatenate: joins arrays along an axis; inputs may be empty along it."))
FORWARD += ("_npi_concatenate",)


# -- hstack: NumPy's axis, 0 for vectors (and numbers, as vectors of one), else 1 ------------------------------------
def _hstack_axis(shapes):
    return 0 if max(len(s) for s in shapes) <= 1 else 1


def _np_hstack_shape(p, in_shapes, out_shapes):
    if any(s is None for s in in_shapes):
        return list(in_shapes), list(out_shapes)
    axis = _hstack_axis(in_shapes)
    vectors = [s or (1,) for s in in_shapes]
    _, outs = _np_concatenate_shape(SimpleNamespace(axis=axis), vectors, out_shapes)
    return list(in_shapes), outs


def _np_hstack_kernel(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], np.hstack(inputs))


def _backward_np_hstack_kernel(ctx, p, inputs, outputs, req):
    """inputs (dy, arg0, ...): the args give only their shapes; output i is dy's slice for arg i."""
    dy, args = inputs[0], inputs[1:]
    axis, start = _hstack_axis([a.shape for a in args]), 0
    for a, out, r in zip(args, outputs, req):
        length = a.shape[axis] if a.ndim else 1
        assign(out, r, np.take(dy, range(start, start + length), axis=axis).reshape(out.shape))
        start += length


def _backward_np_hstack_shape(p, in_shapes, out_shapes):
    args = [merge(s, o) for s, o in zip(in_shapes[1:], out_shapes)]
    return [in_shapes[0]] + args, args


_HSTACK = dict(num_args=Int(doc="Number of inputs to be stacked."))
register(OpDef("_npi_hstack", variadic="num_args", params=_HSTACK, infer_shape=_np_hstack_shape,
               cpu=_np_hstack_kernel,
               gradient=lambda p, ins, outs, dys: _as_list(apply("_backward_np_hstack", dys[0], *ins, **p.as_dict())),
               doc="NumPy's hstack: joins arrays along axis 1, vectors (and numbers) along axis 0."))
register(OpDef("_backward_np_hstack", params=dict(_HSTACK),
               arguments=lambda p: ["ograd"] + ["arg%d" % i for i in range(p.num_args)],
               outputs=lambda p: ["arg%d_grad" % i for i in range(p.num_args)],
               infer_shape=_backward_np_hstack_shape, cpu=_backward_np_hstack_kernel,
               doc="Backward of _npi_hstack (internal): dy's slice for each input."))
FORWARD += ("_npi_hstack",)
BACKWARD += ("_backward_np_hstack",)


def _as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


# -- around: halves to even, in the input's dtype -------------------------------------------------------------------
def _around_kernel(ctx, p, inputs, outputs, req):
    """NumPy's around for floats; integers (and bool) as MXNet 1.9.1's: unchanged for decimals >= 0, else truncated
    toward zero to a multiple of 10**-decimals (MXNet divides in the integer type)."""
    x = inputs[0]
    if x.dtype.kind == "f":
        assign(outputs[0], req[0], np.around(x, p.decimals))
    elif p.decimals >= 0:
        assign(outputs[0], req[0], x)
    else:
        step = 10 ** -p.decimals
        assign(outputs[0], req[0], np.trunc(x.astype(np.float64) / step) * step)


register(OpDef("_npi_around", params=dict(decimals=Int(0, "Number of decimal places to round to.")),
               infer_shape=same_shape_rule, cpu=_around_kernel, gradient=lambda p, ins, outs, dys: [None],
               doc="NumPy's around: rounded to `decimals` decimals, halves to even, in the input's dtype."))
FORWARD += ("_npi_around",)
