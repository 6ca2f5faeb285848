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


def like_inputs(*which):
    """A shape rule for backward ops: output k has the shape of input which[k] (and gives it back)."""
    def rule(p, in_shapes, out_shapes):
        ins, outs = list(in_shapes), list(out_shapes)
        for k, i in enumerate(which):
            ins[i] = merge(ins[i], outs[k])
            outs[k] = ins[i]
        return ins, outs
    return rule


def types_like_inputs(*which):
    """The dtype rule matching `like_inputs`."""
    def rule(p, in_types, out_types):
        ins, outs = list(in_types), list(out_types)
        for k, i in enumerate(which):
            ins[i] = ins[i] if ins[i] is not None else outs[k]
            outs[k] = ins[i]
        return ins, outs
    return rule


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


def no_bool(op_name, rule=same_dtype):
    """A dtype rule that is `rule` and rejects bool, as MXNet 1.9.1's math kernels of op_name do."""
    def no_bool_rule(p, in_types, out_types):
        in_types, out_types = rule(p, in_types, out_types)
        for t in list(in_types) + list(out_types):
            if t is not None and np.dtype(t).kind == "b":
                raise DTypeError("%s: this operation does not support boolean type" % op_name)
        return in_types, out_types
    return no_bool_rule


# ---------------------------------------------------------------------------------------------------------------
# Family helpers
# ---------------------------------------------------------------------------------------------------------------

def binary(name, kernel, aliases=(), grad=None, doc="", infer_type=same_dtype):
    """lhs (op) rhs, both of one shape."""
    return register(OpDef(name, arguments=("lhs", "rhs"), infer_shape=same_shape_rule, infer_type=infer_type,
                          inplace=((0, 0), (1, 0)), cpu=kernel, aliases=tuple(aliases), gradient=grad, doc=doc))


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


def broadcast(name, kernel, aliases=(), grad=None, doc="", infer_type=same_dtype):
    """lhs (op) rhs with numpy broadcasting. `grad` gives the full-shape gradients; each is summed back to its
    input's shape over the broadcast axes."""
    def rule(p, in_shapes, out_shapes):
        return _broadcast_shape(p, in_shapes, out_shapes, name)

    def gradient(p, ins, outs, dys):
        return [None if g is None else apply("_sum_to_like", g, x) for g, x in zip(grad(p, ins, outs, dys), ins)]
    return register(OpDef(name, arguments=("lhs", "rhs"), infer_shape=rule, infer_type=infer_type,
                          inplace=((0, 0), (1, 0)), cpu=kernel, aliases=tuple(aliases), gradient=gradient, doc=doc))


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
unary("log", cpu.log, infer_type=no_bool("log"), grad=_log_grad, doc="Natural logarithm, element-wise.")


# ---------------------------------------------------------------------------------------------------------------
# Unary math (checked on MXNet 1.9.1). Every op takes integer data and returns its dtype (the math runs in float64
# and truncates toward zero: sqrt(int32 17) = 4), except hard_sigmoid (floats only); none takes bool. Rounding:
# `round` takes halves away from zero, `rint` takes them down (rint(-2.5) = -3, rint(2.5) = 2), `fix` = trunc.
# sign(NaN) = 0, relu(NaN) = NaN, logical_not(NaN) = 0. degrees/radians multiply by float32 constants in every
# dtype (degrees(float64 1) = 57.2957763671875); hard_sigmoid's alpha and beta are float32 too.
# ---------------------------------------------------------------------------------------------------------------

def _d(f):
    """A unary gradient rule from `f(x, y, dy) -> dx`, x the input and y the output."""
    def rule(p, ins, outs, dys):
        return [f(ins[0], outs[0], dys[0])]
    return rule


def _zero_grad(p, ins, outs, dys):
    """Piecewise-constant ops (rounding, comparisons, logical ops): zero gradient, as MXNet's."""
    return [None] * len(ins)


def _math(name, kernel, grad, doc):
    """A unary math op; bool rejected."""
    return unary(name, kernel, infer_type=no_bool(name), grad=grad, doc=doc)


_LN10, _LN2, _SQRT_PI = float(np.log(10.0)), float(np.log(2.0)), float(np.sqrt(np.pi))

# Gradients (x the input, y the output): the math is in the comment at the end of each line.
_math("abs", cpu.abs, _d(lambda x, y, dy: dy * apply("sign", x)), "Absolute value, element-wise.")      # sign(x)
_math("sign", cpu.sign, _zero_grad, "Sign of the argument (-1, 0 or 1; 0 for NaN), element-wise.")
_math("round", cpu.round, _zero_grad, "Round to the nearest integer, halves away from zero, element-wise.")
# straight-through estimators (MXNet's contrib round_ste / sign_ste): round / sign forward, the gradient passes as is
_math("_contrib_round_ste", cpu.round, _d(lambda x, y, dy: dy),
      "Straight-through-estimator of `round()`: round to the nearest integer (halves away from zero) in the forward "
      "pass, the output gradient passed through unchanged in the backward pass.")
_math("_contrib_sign_ste", cpu.sign, _d(lambda x, y, dy: dy),
      "Straight-through-estimator of `sign()`: -1, 0 or 1 in the forward pass, the output gradient passed through "
      "unchanged in the backward pass.")
_math("rint", cpu.rint, _zero_grad, "Round to the nearest integer, halves toward -inf, element-wise.")
_math("ceil", cpu.ceil, _zero_grad, "Ceiling of the argument, element-wise.")
_math("floor", cpu.floor, _zero_grad, "Floor of the argument, element-wise.")
_math("trunc", cpu.trunc, _zero_grad, "Truncate toward zero, element-wise.")
_math("fix", cpu.fix, _zero_grad, "Round toward zero, element-wise.")
_math("square", cpu.square, _d(lambda x, y, dy: dy * x * 2.0), "Square, element-wise.")             # 2 x
_math("sqrt", cpu.sqrt, _d(lambda x, y, dy: dy / y * 0.5), "Square root, element-wise.")           # 1 / (2 y)
_math("rsqrt", cpu.rsqrt, _d(lambda x, y, dy: dy * y * y * y * -0.5),                               # -y^3 / 2
      "Inverse square root, element-wise.")
_math("cbrt", cpu.cbrt, _d(lambda x, y, dy: dy / (y * y) / 3.0), "Cube root, element-wise.")        # 1 / (3 y^2)
_math("rcbrt", cpu.rcbrt, _d(lambda x, y, dy: dy * y / x * (-1 / 3)),                              # -y / (3 x)
      "Inverse cube root, element-wise.")
_math("reciprocal", cpu.reciprocal, _d(lambda x, y, dy: -(dy * y * y)),                             # -y^2
      "Reciprocal (1 / x), element-wise.")
_math("exp", cpu.exp, _d(lambda x, y, dy: dy * y), "Exponential, element-wise.")                    # y
_math("expm1", cpu.expm1, _d(lambda x, y, dy: dy * (y + 1.0)), "exp(x) - 1, element-wise.")         # y + 1
_math("log10", cpu.log10, _d(lambda x, y, dy: dy / x / _LN10), "Base-10 logarithm, element-wise.")  # 1 / (x ln 10)
_math("log2", cpu.log2, _d(lambda x, y, dy: dy / x / _LN2), "Base-2 logarithm, element-wise.")      # 1 / (x ln 2)
_math("log1p", cpu.log1p, _d(lambda x, y, dy: dy / (x + 1.0)), "log(1 + x), element-wise.")         # 1 / (1 + x)
_math("sin", cpu.sin, _d(lambda x, y, dy: dy * apply("cos", x)), "Sine, element-wise.")             # cos(x)
_math("cos", cpu.cos, _d(lambda x, y, dy: -(dy * apply("sin", x))), "Cosine, element-wise.")        # -sin(x)
_math("tan", cpu.tan, _d(lambda x, y, dy: dy * (y * y + 1.0)), "Tangent, element-wise.")            # 1 + y^2
_math("arcsin", cpu.arcsin, _d(lambda x, y, dy: dy * apply("rsqrt", 1.0 - x * x)),                  # 1 / sqrt(1 - x^2)
      "Inverse sine, element-wise.")
_math("arccos", cpu.arccos, _d(lambda x, y, dy: -(dy * apply("rsqrt", 1.0 - x * x))),               # -1 / sqrt(1 - x^2)
      "Inverse cosine, element-wise.")
_math("arctan", cpu.arctan, _d(lambda x, y, dy: dy / (x * x + 1.0)),                                # 1 / (1 + x^2)
      "Inverse tangent, element-wise.")
_math("sinh", cpu.sinh, _d(lambda x, y, dy: dy * apply("cosh", x)), "Hyperbolic sine, element-wise.")      # cosh(x)
_math("cosh", cpu.cosh, _d(lambda x, y, dy: dy * apply("sinh", x)), "Hyperbolic cosine, element-wise.")    # sinh(x)
_math("tanh", cpu.tanh, _d(lambda x, y, dy: dy * (1.0 - y * y)), "Hyperbolic tangent, element-wise.")      # 1 - y^2
_math("arcsinh", cpu.arcsinh, _d(lambda x, y, dy: dy * apply("rsqrt", x * x + 1.0)),                # 1 / sqrt(x^2 + 1)
      "Inverse hyperbolic sine, element-wise.")
_math("arccosh", cpu.arccosh, _d(lambda x, y, dy: dy * apply("rsqrt", x * x - 1.0)),                # 1 / sqrt(x^2 - 1)
      "Inverse hyperbolic cosine, element-wise.")
_math("arctanh", cpu.arctanh, _d(lambda x, y, dy: dy / (1.0 - x * x)),                              # 1 / (1 - x^2)
      "Inverse hyperbolic tangent, element-wise.")
_math("degrees", cpu.degrees, _d(lambda x, y, dy: dy * cpu._DEGREES),                               # 180 / pi
      "Radians to degrees, element-wise.")
_math("radians", cpu.radians, _d(lambda x, y, dy: dy * cpu._RADIANS),                               # pi / 180
      "Degrees to radians, element-wise.")
_math("sigmoid", cpu.sigmoid, _d(lambda x, y, dy: dy * y * (1.0 - y)),                              # y (1 - y)
      "1 / (1 + exp(-x)), element-wise.")
_math("relu", cpu.relu_, _d(lambda x, y, dy: dy * apply("_greater_scalar", y, scalar=0.0)),         # 1 where y > 0
      "max(x, 0), element-wise (NaN stays NaN).")
_math("softsign", cpu.softsign, _d(lambda x, y, dy: dy / apply("square", apply("abs", x) + 1.0)),   # 1 / (1 + |x|)^2
      "x / (1 + |x|), element-wise.")
_math("gamma", cpu.gamma, _d(lambda x, y, dy: apply("_backward_gammaln", dy * y, x)),               # y psi(x)
      "Gamma function, element-wise.")
_math("gammaln", cpu.gammaln, _d(lambda x, y, dy: apply("_backward_gammaln", dy, x)),               # psi(x)
      "Logarithm of the absolute value of the gamma function, element-wise.")
_math("erf", cpu.erf, _d(lambda x, y, dy: dy * apply("exp", -(x * x)) * (2.0 / _SQRT_PI)),     # 2 exp(-x^2) / sqrt(pi)
      "Gauss error function, element-wise.")
_math("erfinv", cpu.erfinv, _d(lambda x, y, dy: dy * apply("exp", y * y) * (_SQRT_PI / 2.0)),  # sqrt(pi) exp(y^2) / 2
      "Inverse Gauss error function, element-wise.")
_math("logical_not", cpu.logical_not, _zero_grad, "1 where x == 0, else 0, in x's dtype, element-wise.")


# d hard_sigmoid(x) = alpha where 0 < alpha x + beta < 1, else 0 (alpha as the float32 the kernel used)
def _hard_sigmoid_grad(p, ins, outs, dys):
    y = outs[0]
    inside = apply("_greater_scalar", y, scalar=0.0) * apply("_lesser_scalar", y, scalar=1.0)
    return [dys[0] * inside * float(np.float32(p.alpha))]


unary("hard_sigmoid", cpu.hard_sigmoid, params=dict(alpha=Float(0.2, "Slope of hard sigmoid"),
                                                    beta=Float(0.5, "Bias of hard sigmoid.")),
      infer_type=float_only("hard_sigmoid"), grad=_hard_sigmoid_grad,
      doc="Hard sigmoid, max(0, min(1, alpha * x + beta)), element-wise.")
# psi is the digamma function, d log|gamma(x)| / dx
binary("_backward_gammaln", cpu._backward_gammaln, grad=None, infer_type=no_bool("_backward_gammaln"),
       doc="lhs * psi(rhs): the gradient of gammaln (lhs = dy), and of gamma (lhs = dy * gamma(rhs)).")


# ---------------------------------------------------------------------------------------------------------------
# Binary math: same-shape (`_mod`), broadcast (`broadcast_mod`) and scalar (`_mod_scalar`, `_rmod_scalar`) forms
# (checked on MXNet 1.9.1). mod takes the divisor's sign (floored, Python's %) and gives 0 where the divisor is 0,
# for integers and floats. maximum/minimum propagate NaN. Comparisons and logical ops return 1/0 in the input
# dtype, never bool; NaN compares unequal and counts as true. Array forms reject bool inputs.
# ---------------------------------------------------------------------------------------------------------------

# d(x mod y) = dy, -dy * floor(x / y);  d(x mod s) = dy;  d(s mod x) = -dy * floor(s / x)
def _mod_grad(p, ins, outs, dys):
    x, y = ins
    return [dys[0], -(dys[0] * apply("floor", x / y))]


def _bmod_grad(p, ins, outs, dys):
    x, y = ins
    return [dys[0], -(dys[0] * apply("floor", apply("broadcast_div", x, y)))]


def _rmod_scalar_grad(p, ins, outs, dys):
    return [-(dys[0] * apply("floor", apply("_rdiv_scalar", ins[0], scalar=p.scalar)))]


# d max(x, y) = dy * (x >= y), dy * (x < y);  d min(x, y) = dy * (x <= y), dy * (x > y): ties go to lhs
def _extremum_grad(lhs_wins, rhs_wins):
    def rule(p, ins, outs, dys):
        return [dys[0] * apply(lhs_wins, *ins), dys[0] * apply(rhs_wins, *ins)]
    return rule


def _extremum_scalar_grad(wins):
    def rule(p, ins, outs, dys):
        return [dys[0] * apply(wins, ins[0], scalar=p.scalar)]
    return rule


# d hypot(x, y) = dy * x / z, dy * y / z
def _hypot_grad(p, ins, outs, dys):
    return [dys[0] * ins[0] / outs[0], dys[0] * ins[1] / outs[0]]


def _bhypot_grad(p, ins, outs, dys):
    return [apply("broadcast_mul", dys[0], ins[0]) / outs[0], apply("broadcast_mul", dys[0], ins[1]) / outs[0]]


# d(x**y) = dy * y * x**(y-1), dy * z * log(x), with broadcasting
def _bpower_grad(p, ins, outs, dys):
    x, y = ins
    return [apply("broadcast_mul", dys[0], apply("broadcast_mul", y, apply("broadcast_power", x, y - 1.0))),
            apply("broadcast_mul", dys[0] * outs[0], apply("log", x))]


def _math2(name, kernel, aliases, grad, doc):
    """A same-shape (or, named broadcast_*, broadcasting) binary math op; bool rejected."""
    family = broadcast if name.startswith("broadcast_") else binary
    return family(name, kernel, aliases, grad, doc, infer_type=no_bool(name))


_MOD_DOC = "lhs mod rhs, with the divisor's sign (-7 mod 3 = 2); 0 where rhs is 0"
_math2("_mod", cpu._mod, ("_Mod",), _mod_grad, _MOD_DOC + ".")
_math2("broadcast_mod", cpu.broadcast_mod, (), _bmod_grad, _MOD_DOC + ", with broadcasting.")
scalar("_mod_scalar", cpu._mod_scalar, ("_ModScalar",), _pass_grad, "data mod scalar (see _mod).")
scalar("_rmod_scalar", cpu._rmod_scalar, ("_RModScalar",), _rmod_scalar_grad, "scalar mod data (see _mod).")
_math2("broadcast_power", cpu.broadcast_power, (), _bpower_grad, "lhs ** rhs with broadcasting.")
_math2("_maximum", cpu._maximum, ("_Maximum",), _extremum_grad("_greater_equal", "_lesser"),
       "Maximum of lhs and rhs (NaN if either is), element-wise.")
_math2("broadcast_maximum", cpu.broadcast_maximum, (),
       _extremum_grad("broadcast_greater_equal", "broadcast_lesser"), "Maximum of lhs and rhs, with broadcasting.")
scalar("_maximum_scalar", cpu._maximum_scalar, ("_MaximumScalar",), _extremum_scalar_grad("_greater_equal_scalar"),
       "Maximum of data and scalar.")
_math2("_minimum", cpu._minimum, ("_Minimum",), _extremum_grad("_lesser_equal", "_greater"),
       "Minimum of lhs and rhs (NaN if either is), element-wise.")
_math2("broadcast_minimum", cpu.broadcast_minimum, (),
       _extremum_grad("broadcast_lesser_equal", "broadcast_greater"), "Minimum of lhs and rhs, with broadcasting.")
scalar("_minimum_scalar", cpu._minimum_scalar, ("_MinimumScalar",), _extremum_scalar_grad("_lesser_equal_scalar"),
       "Minimum of data and scalar.")
_math2("_hypot", cpu._hypot, ("_Hypot",), _hypot_grad, "sqrt(lhs^2 + rhs^2), element-wise.")
_math2("broadcast_hypot", cpu.broadcast_hypot, (), _bhypot_grad, "sqrt(lhs^2 + rhs^2), with broadcasting.")
scalar("_hypot_scalar", cpu._hypot_scalar, ("_HypotScalar",), _d(lambda x, z, dy: dy * x / z),
       "sqrt(data^2 + scalar^2).")

# Comparisons and logical ops: 1 or 0 in the inputs' dtype; zero gradient.
def comparison(name, holds):
    """The same-shape (`_equal`), broadcast (`broadcast_equal`) and scalar (`_equal_scalar`) forms of one test;
    `holds` says when the result is 1, in terms of {a} and {b}. MXNet's aliases: `_Equal`, `_EqualScalar`."""
    words = [w.capitalize() for w in name.split("_")]
    _math2("_" + name, getattr(cpu, "_" + name), ("_" + "_".join(words),), _zero_grad,
           "1 where %s, else 0." % holds.format(a="lhs", b="rhs"))
    _math2("broadcast_" + name, getattr(cpu, "broadcast_" + name), (), _zero_grad,
           "1 where %s, else 0, with broadcasting." % holds.format(a="lhs", b="rhs"))
    scalar("_%s_scalar" % name, getattr(cpu, "_%s_scalar" % name), ("_%sScalar" % "".join(words),), _zero_grad,
           "1 where %s, else 0." % holds.format(a="data", b="scalar"))


comparison("equal", "{a} == {b}")
comparison("not_equal", "{a} != {b}")
comparison("greater", "{a} > {b}")
comparison("greater_equal", "{a} >= {b}")
comparison("lesser", "{a} < {b}")
comparison("lesser_equal", "{a} <= {b}")
comparison("logical_and", "{a} and {b} are nonzero")
comparison("logical_or", "{a} or {b} is nonzero")
comparison("logical_xor", "exactly one of {a} and {b} is nonzero")


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


# d backward_Cast(g, x) / dg = dg cast back to g's dtype; `like` gives only a dtype, so no gradient.
def _backward_cast_grad(p, ins, outs, dys):
    return [apply("_backward_Cast", dys[0], ins[0]), None]


register(OpDef("_backward_Cast", arguments=("data", "like"), infer_shape=same_shape_rule, infer_type=_like_type,
               cpu=cpu.cast, gradient=_backward_cast_grad,
               doc="data cast to the dtype of `like` (the gradient of Cast)."))


# d sum_to_like(g, x) / dg = dg broadcast back to g's shape (numpy's right-aligned rule, which broadcast_add
# applies to zeros shaped like g); `like` gives only a shape. Used by second-order gradients of broadcast ops.
def _sum_to_like_grad(p, ins, outs, dys):
    return [apply("broadcast_add", apply("zeros_like", ins[0]), dys[0]), None]


register(OpDef("_sum_to_like", arguments=("data", "like"), infer_shape=_like_shape, cpu=cpu.sum_to_like,
               gradient=_sum_to_like_grad,
               doc="data summed over the axes along which `like` was broadcast, giving like's shape."))
