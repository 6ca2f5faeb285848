"""Elementwise ops: same-shape binary, broadcast binary, binary-with-scalar and unary ops, and Cast.

Most ops here are one line through a family helper (`binary`, `broadcast`, `scalar`, `unary`), which supplies the
arguments, shape and dtype rules and in-place options; the kernel comes from ops/cpu/elemwise.py, where the op's
math is one scalar function. Adding `log1p`: a scalar function and a kernel line there, `unary("log1p", ...)`
here, and one spec row in tests/op_specs.py.

Shape helpers shared by the other families live here too: a shape is a tuple with 0 for an unknown dimension, and
`None` is an unknown shape (MXNet 1.x's convention).
"""
import numpy as np

from .autodiff import apply
from .cpu import elemwise as cpu
from .errors import DTypeError, ShapeError
from .registry import Bool, DType, Float, OpDef, register, same_dtype

# ---------------------------------------------------------------------------------------------------------------
# Shape and dtype helpers
# ---------------------------------------------------------------------------------------------------------------


def known(shape):
    """True when every dimension of shape is known."""
    return shape is not None and all(d > 0 for d in shape)


def size(shape):
    """Number of elements; 0 when a dimension is unknown."""
    n = 1
    for d in shape:
        n *= d
    return n


def merge(a, b):
    """Fill a's unknown dimensions from b; a wins where both are known (a conflict is left to the caller)."""
    if a is None:
        return b
    if b is None or len(a) != len(b):
        return a
    return tuple(x if x else y for x, y in zip(a, b))


def compatible(a, b):
    """True when shapes a and b (both known to be shapes) can be the same: equal ranks, equal known dims."""
    return len(a) == len(b) and all(x == y or not x or not y for x, y in zip(a, b))


def fmt(shape):
    """MXNet's way to print a shape in messages: [2,3]; None prints as unknown."""
    return "unknown" if shape is None else "[%s]" % ",".join(str(d) for d in shape)


def same_shape_rule(p, in_shapes, out_shapes):
    """Every input and output has one shape, merged from whichever are known."""
    merged = None
    for s in list(in_shapes) + list(out_shapes):
        merged = merge(merged, s)
    if merged is None:
        return list(in_shapes), list(out_shapes)
    return [merged] * len(in_shapes), [merged] * len(out_shapes)


def float_only(op_name, rule=same_dtype):
    """A dtype rule that is `rule` and rejects non-float dtypes, as MXNet's kernels of op_name do."""
    def float_rule(p, in_types, out_types):
        in_types, out_types = rule(p, in_types, out_types)
        for t in list(in_types) + list(out_types):
            if t is not None and np.dtype(t).kind != "f":
                raise DTypeError("%s: this operation only supports floating point types, not %s"
                                 % (op_name, np.dtype(t).name))
        return in_types, out_types
    return float_rule


# ---------------------------------------------------------------------------------------------------------------
# Family helpers
# ---------------------------------------------------------------------------------------------------------------

def binary(name, kernel, aliases=(), grad=None, doc=""):
    """lhs (op) rhs, both of one shape."""
    return register(OpDef(name, arguments=("lhs", "rhs"), infer_shape=same_shape_rule, inplace=((0, 0), (1, 0)),
                          cpu=kernel, aliases=tuple(aliases), gradient=grad, doc=doc))


def _broadcast_shape(p, in_shapes, out_shapes, name):
    # numpy's rule, right-aligned (MXNet 1.9 accepts different ranks): a dim of 1 stretches to the other's.
    lhs, rhs = in_shapes
    if lhs is None or rhs is None:
        return list(in_shapes), list(out_shapes)
    ndim = max(len(lhs), len(rhs))
    a, b = (1,) * (ndim - len(lhs)) + tuple(lhs), (1,) * (ndim - len(rhs)) + tuple(rhs)
    out = []
    for x, y in zip(a, b):
        if x and y and x != y and x != 1 and y != 1:
            raise ShapeError("%s: operands could not be broadcast together with shapes %s %s"
                             % (name, fmt(lhs), fmt(rhs)))
        if x == 1 or y == 1:
            out.append(y if x == 1 else x)
        else:
            out.append(x or y)            # equal, or one unknown: the known one (or the unknown stays 0)
    return list(in_shapes), [tuple(out)]


def broadcast(name, kernel, aliases=(), grad=None, doc=""):
    """lhs (op) rhs with numpy broadcasting. `grad` gives the full-shape gradients; each is summed back to its
    input's shape over the broadcast axes."""
    def rule(p, in_shapes, out_shapes):
        return _broadcast_shape(p, in_shapes, out_shapes, name)

    def gradient(p, ins, outs, dys):
        return [None if g is None else apply("_sum_to_like", g, x) for g, x in zip(grad(p, ins, outs, dys), ins)]
    return register(OpDef(name, arguments=("lhs", "rhs"), infer_shape=rule, inplace=((0, 0), (1, 0)),
                          cpu=kernel, aliases=tuple(aliases), gradient=gradient, doc=doc))


def _scalar_type(p, in_types, out_types):
    # The output keeps data's dtype, except that an integer (or bool) input with a non-integer scalar
    # (is_int=False) gives float64, and bool with an integer scalar gives int64 (checked on MXNet 1.9.1).
    t = in_types[0]
    if t is None:
        out = out_types[0]
        return [out if out is not None and (p.is_int or np.dtype(out).kind == "f") else None], list(out_types)
    t = np.dtype(t)
    if t.kind in "iub" and not p.is_int:
        return [t], [np.dtype(np.float64)]
    return [t], [np.dtype(np.int64) if t.kind == "b" else t]


def scalar(name, kernel, aliases=(), grad=None, doc=""):
    """data (op) scalar; the scalar is converted to data's dtype first (C++ `DType(scalar)`)."""
    return register(OpDef(name, params=dict(scalar=Float(1.0, "Scalar input value"),
                                            is_int=Bool(True, "Indicate whether scalar input is int type")),
                          infer_shape=same_shape_rule, infer_type=_scalar_type, inplace=((0, 0),), cpu=kernel,
                          aliases=tuple(aliases), gradient=grad, doc=doc))


def unary(name, kernel, aliases=(), params=None, infer_type=same_dtype, grad=None, doc=""):
    """op(data), same shape."""
    return register(OpDef(name, params=dict(params or {}), infer_shape=same_shape_rule, infer_type=infer_type,
                          inplace=((0, 0),), cpu=kernel, aliases=tuple(aliases), gradient=grad, doc=doc))


# ---------------------------------------------------------------------------------------------------------------
# Ops
# ---------------------------------------------------------------------------------------------------------------

# Gradient rules: (p, ins, outs, dys) -> one gradient per input (ops/autodiff.py). x = lhs, y = rhs, z = out.

# d(x+y) = dy, dy;  d(x-y) = dy, -dy;  d(x*y) = dy*y, dy*x;  d(x/y) = dy/y, -dy*z/y
# d(x**y) = dy * y * x**(y-1), dy * z * log(x)
def _add_grad(p, ins, outs, dys):
    return [dys[0], dys[0]]


def _sub_grad(p, ins, outs, dys):
    return [dys[0], -dys[0]]


def _mul_grad(p, ins, outs, dys):
    return [dys[0] * ins[1], dys[0] * ins[0]]


def _div_grad(p, ins, outs, dys):
    return [dys[0] / ins[1], -(dys[0] * outs[0] / ins[1])]


def _power_grad(p, ins, outs, dys):
    x, y = ins
    return [dys[0] * y * apply("_power", x, y - 1.0), dys[0] * outs[0] * apply("log", x)]


binary("elemwise_add", cpu.elemwise_add, ("_plus", "_Plus", "_add"), _add_grad, "Adds arguments element-wise.")
binary("elemwise_sub", cpu.elemwise_sub, ("_minus", "_Minus", "_sub"), _sub_grad,
       "Subtracts arguments element-wise.")
binary("elemwise_mul", cpu.elemwise_mul, ("_mul", "_Mul"), _mul_grad, "Multiplies arguments element-wise.")
binary("elemwise_div", cpu.elemwise_div, ("_div", "_Div"), _div_grad, "Divides arguments element-wise.")
binary("_power", cpu._power, ("_Power",), _power_grad, "First array elements raised to powers from second array.")


# The broadcast forms compute the same full-shape gradients with broadcasting ops (shapes may differ).
def _bmul_grad(p, ins, outs, dys):
    return [apply("broadcast_mul", dys[0], ins[1]), apply("broadcast_mul", dys[0], ins[0])]


def _bdiv_grad(p, ins, outs, dys):
    return [apply("broadcast_div", dys[0], ins[1]), -apply("broadcast_div", dys[0] * outs[0], ins[1])]


broadcast("broadcast_add", cpu.broadcast_add, ("broadcast_plus",), _add_grad, "lhs + rhs with broadcasting.")
broadcast("broadcast_sub", cpu.broadcast_sub, ("broadcast_minus",), _sub_grad, "lhs - rhs with broadcasting.")
broadcast("broadcast_mul", cpu.broadcast_mul, (), _bmul_grad, "lhs * rhs with broadcasting.")
broadcast("broadcast_div", cpu.broadcast_div, (), _bdiv_grad, "lhs / rhs with broadcasting.")


# d(x+s) = d(x-s) = dy;  d(s-x) = -dy;  d(x*s) = dy*s;  d(x/s) = dy/s;  d(s/x) = -dy*z/x
# d(x**s) = dy * s * x**(s-1);  d(s**x) = dy * z * log(s)
def _pass_grad(p, ins, outs, dys):
    return [dys[0]]


def _negate_grad(p, ins, outs, dys):
    return [-dys[0]]


def _mul_scalar_grad(p, ins, outs, dys):
    return [dys[0] * p.scalar]


def _div_scalar_grad(p, ins, outs, dys):
    return [dys[0] / p.scalar]


def _rdiv_scalar_grad(p, ins, outs, dys):
    return [-(dys[0] * outs[0] / ins[0])]


def _power_scalar_grad(p, ins, outs, dys):
    return [dys[0] * apply("_power_scalar", ins[0], scalar=p.scalar - 1.0) * p.scalar]


def _rpower_scalar_grad(p, ins, outs, dys):
    return [dys[0] * outs[0] * float(np.log(p.scalar))]


scalar("_plus_scalar", cpu._plus_scalar, ("_PlusScalar",), _pass_grad, "data + scalar.")
scalar("_minus_scalar", cpu._minus_scalar, ("_MinusScalar",), _pass_grad, "data - scalar.")
scalar("_rminus_scalar", cpu._rminus_scalar, ("_RMinusScalar",), _negate_grad, "scalar - data.")
scalar("_mul_scalar", cpu._mul_scalar, ("_MulScalar",), _mul_scalar_grad, "data * scalar.")
scalar("_div_scalar", cpu._div_scalar, ("_DivScalar",), _div_scalar_grad, "data / scalar.")
scalar("_rdiv_scalar", cpu._rdiv_scalar, ("_RDivScalar",), _rdiv_scalar_grad, "scalar / data.")
scalar("_power_scalar", cpu._power_scalar, ("_PowerScalar",), _power_scalar_grad, "data ** scalar.")
scalar("_rpower_scalar", cpu._rpower_scalar, ("_RPowerScalar",), _rpower_scalar_grad, "scalar ** data.")


# d log(x) = dy / x
def _log_grad(p, ins, outs, dys):
    return [dys[0] / ins[0]]


unary("negative", cpu.negative, grad=_negate_grad, doc="Numerical negative of the argument, element-wise.")
unary("_copy", cpu._copy, ("identity",), grad=_pass_grad, doc="Returns a copy of the input.")
unary("log", cpu.log, infer_type=float_only("log"), grad=_log_grad, doc="Natural logarithm, element-wise.")


def _cast_type(p, in_types, out_types):
    return list(in_types), [p.dtype]


# d cast(x) = dy cast back to x's dtype (the backward op reads x only for its dtype)
def _cast_grad(p, ins, outs, dys):
    return [apply("_backward_Cast", dys[0], ins[0])]


unary("Cast", cpu.cast, ("cast",), params=dict(dtype=DType(doc="Output data type.")), infer_type=_cast_type,
      grad=_cast_grad, doc="Casts all elements of the input to a new type.")


def _like_type(p, in_types, out_types):
    return list(in_types), [in_types[1]]


def _like_shape(p, in_shapes, out_shapes):
    return list(in_shapes), [in_shapes[1]]


register(OpDef("_backward_Cast", arguments=("data", "like"), infer_shape=same_shape_rule, infer_type=_like_type,
               cpu=cpu.cast, doc="data cast to the dtype of `like` (the gradient of Cast)."))


# d sum_to_like(g, x) / dg = broadcast back to g's shape: the pair is only used inside gradients, so no rule.
register(OpDef("_sum_to_like", arguments=("data", "like"), infer_shape=_like_shape, cpu=cpu.sum_to_like,
               doc="data summed over the axes along which `like` was broadcast, giving like's shape."))
