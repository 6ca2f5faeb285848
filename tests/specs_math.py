"""Op spec rows for the math family (issue 4): unary math, and the same-shape, broadcast and scalar forms of mod,
maximum, minimum, hypot, comparisons and logical ops, plus broadcast_power; see tests/op_specs.py. References:
tests/reference_math.py. Import tests.op_specs, never this module first (op_specs appends these rows at its end).

Value domains are per op and per dtype kind. Integer domains keep results inside the dtype (int8, uint8
included): MXNet's int kernels convert the float result back with a C++ cast, undefined out of range, so those
cases are not compared. Float domains keep gradient rows off kinks and jumps (abs at 0, hard_sigmoid's corners,
mod's jumps, max/min ties) by construction; forward-only rows (rounding, comparisons) sample the special values
(halves, ties, zeros) instead. Rounding, comparison and logical ops have a zero gradient, as in MXNet; their rows
set grad=False since a finite difference across their steps is not a check (tests/test_math_ops.py checks the
zeros).
"""
import dataclasses

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ops.errors import DTypeError, ParamError
from tests import reference as R0
from tests import reference_math as R
from tests.op_specs import FLOATS, SHAPES, Err, OpSpec, broadcastable


@dataclasses.dataclass(frozen=True)
class Dom:
    """Value ranges per dtype kind (float bounds exact in float16) and extra float values mixed in."""
    f: tuple = ((-10, 10),)
    i: tuple = ((-20, 20),)
    u: tuple = ((0, 40),)
    special: tuple = ()


ANY = Dom()
NONZERO = Dom(f=((-10, -0.5), (0.5, 10)), i=((-20, -1), (1, 20)), u=((1, 40),))
POSITIVE = Dom(f=((0.125, 10),), i=((1, 20),), u=((1, 40),))
UNIT = Dom(f=((-0.875, 0.875),), i=((-1, 1),), u=((0, 1),))
SMALL = Dom(f=((-5, 5),), i=((-4, 4),), u=((0, 5),))           # exp, sinh...: results fit int8 and uint8
HALVES = (-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.0, 3.0)            # rounding ties, and integral values
GAMMA_F = ((-2.875, -2.125), (-0.875, -0.125), (0.125, 5))      # off the poles at 0, -1, -2, -3


def elements(dtype, dom):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        parts = [st.floats(lo, hi, width=8 * dtype.itemsize) for lo, hi in dom.f]
        return st.one_of(parts + ([st.sampled_from(dom.special)] if dom.special else []))
    return st.one_of([st.integers(lo, hi) for lo, hi in (dom.i if dtype.kind == "i" else dom.u)])


def arr(draw, dtype, shape, dom):
    return draw(hnp.arrays(dtype, shape, elements=elements(dtype, dom)))


def unary(dom=ANY):
    def sample(draw, dtype):
        return {}, [arr(draw, dtype, draw(SHAPES), dom)]
    return sample


def _pair_shapes(draw, bcast):
    if bcast:
        return draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=4, min_side=1,
                                                      max_side=4)).input_shapes
    shape = draw(SHAPES)
    return shape, shape


def pair(lhs=ANY, rhs=ANY, bcast=False):
    """lhs, rhs of one shape (or broadcastable shapes) from the domains given."""
    def sample(draw, dtype):
        a, b = _pair_shapes(draw, bcast)
        return {}, [arr(draw, dtype, a, lhs), arr(draw, dtype, b, rhs)]
    return sample


# ---- samplers of the binary ops -------------------------------------------------------------------------------
_INT_MOD = (Dom(), Dom(i=((-5, 5),), u=((0, 10),)))              # integer divisors include 0 (the result is 0)
_QUARTERS = Dom(f=(), special=tuple(k + 0.25 for k in range(-10, 10)))
_THREE_QUARTERS = Dom(f=(), special=tuple(k + 0.75 for k in range(-10, 10)))
_TIES = Dom(f=((-3, 3),), i=((-2, 2),), u=((0, 3),), special=(-2.0, -1.0, 0.0, 1.0, 2.0))
_TRUTH = Dom(f=((-3, 3),), i=((-2, 2),), u=((0, 2),), special=(0.0, 0.0, 1.0))


def _quotients(draw, shape):
    """k + f with k in [-3, 3] and f in [1/8, 7/8]: quotients off the integers, where mod jumps."""
    k = draw(hnp.arrays(np.int64, shape, elements=st.integers(-3, 3)))
    return k + draw(hnp.arrays(np.float64, shape, elements=st.floats(0.125, 0.875)))


def mod_sample(bcast):
    """Floats: x = (k + f) y, off mod's jumps (same shape); broadcast: |x| < |y|, where x / y in (-1, 1) \\ 0 is
    never an integer. Integers: any values, zero divisors included."""
    def sample(draw, dtype):
        if dtype.kind != "f":
            return pair(*_INT_MOD, bcast=bcast)(draw, dtype)
        a, b = _pair_shapes(draw, bcast)
        if bcast:
            return {}, [arr(draw, dtype, a, Dom(f=((-4.5, -0.5), (0.5, 4.5)))),
                        arr(draw, dtype, b, Dom(f=((-10, -5), (5, 10))))]
        y = arr(draw, dtype, b, NONZERO)
        return {}, [(_quotients(draw, a) * y).astype(dtype), y]
    return sample


def _scalar_attrs(draw, values):
    attrs = {"scalar": draw(values)}
    if draw(st.booleans()):
        attrs["is_int"] = draw(st.booleans())
    return attrs


_SCALARS = st.floats(-5, 5).map(lambda v: round(v, 2)).filter(lambda v: abs(v) >= 0.5)


def mod_scalar_sample(reverse):
    """Floats: x = (k + f) s, or s / (k + f) when reverse, off the jumps. Integers: any (a scalar truncated to 0
    gives 0)."""
    def sample(draw, dtype):
        attrs = _scalar_attrs(draw, _SCALARS)
        shape = draw(SHAPES)
        if dtype.kind != "f":
            return attrs, [arr(draw, dtype, shape, ANY)]
        s = float(np.array(attrs["scalar"], dtype))
        q = _quotients(draw, shape)
        return attrs, [(s / q if reverse else q * s).astype(dtype)]
    return sample


def scalar_sample(dom=ANY, values=_SCALARS):
    def sample(draw, dtype):
        return _scalar_attrs(draw, values), [arr(draw, dtype, draw(SHAPES), dom)]
    return sample


_HALF_GRID = st.integers(-5, 4).map(lambda k: k + 0.5)          # with x on the quarter grid: no ties
_SMALL_SCALARS = st.sampled_from([-2, -1, 0, 0.5, 1, 2, 2.5])


def hard_sigmoid_sample(draw, dtype):
    """(alpha, beta) from a few pairs; x off the corners at -beta / alpha and (1 - beta) / alpha."""
    alpha, beta = draw(st.sampled_from([(0.2, 0.5), (0.5, 0.25), (1.0, 0.5)]))
    lo, hi = -beta / alpha, (1 - beta) / alpha
    dom = Dom(f=((-10, lo - 0.125), (lo + 0.125, hi - 0.125), (hi + 0.125, 10)))
    attrs = {} if (alpha, beta) == (0.2, 0.5) and draw(st.booleans()) else {"alpha": alpha, "beta": beta}
    return attrs, [arr(draw, dtype, draw(SHAPES), dom)]


# ---------------------------------------------------------------------------------------------------------------
# The rows
# ---------------------------------------------------------------------------------------------------------------

_BOOL = Err({}, dtypes=("bool",), exc=DTypeError, match="boolean")
_BOOL2 = Err({}, dtypes=("bool", "bool"), exc=DTypeError, match="boolean")
_LOOSE = {"float32": (5e-6, 1e-6)}           # libm/numpy float32 functions a few ulp off (tgammaf, lgammaf)

# name, reference, domain, gradient row, tolerances
_UNARY = [
    ("abs", R.abs_, NONZERO, True, {}),
    ("sign", R.sign, Dom(special=HALVES), False, {}),
    ("round", R.round_, Dom(special=HALVES), False, {}),
    ("rint", R.rint, Dom(special=HALVES), False, {}),
    # the straight-through estimators: round / sign forward; their gradient (dy as is): test_sparse_conformance.py
    ("_contrib_round_ste", R.round_, Dom(special=HALVES), False, {}),
    ("_contrib_sign_ste", R.sign, Dom(special=HALVES), False, {}),
    ("ceil", R.ceil, Dom(special=HALVES), False, {}),
    ("floor", R.floor, Dom(special=HALVES), False, {}),
    ("trunc", R.trunc, Dom(special=HALVES), False, {}),
    ("fix", R.trunc, Dom(special=HALVES), False, {}),
    ("square", R.square, Dom(i=((-11, 11),), u=((0, 15),)), True, {}),
    ("sqrt", R.sqrt, Dom(f=((0.125, 10),), i=((0, 20),)), True, {}),
    ("rsqrt", R.rsqrt, POSITIVE, True, {}),
    ("cbrt", R.cbrt, NONZERO, True, {}),
    ("rcbrt", R.rcbrt, NONZERO, True, {}),
    ("reciprocal", R.reciprocal, NONZERO, True, {}),
    ("exp", R.exp, SMALL, True, {}),
    ("expm1", R.expm1, SMALL, True, {}),
    ("log10", R.log10, POSITIVE, True, {}),
    ("log2", R.log2, POSITIVE, True, {}),
    ("log1p", R.log1p, Dom(f=((-0.875, 10),), i=((0, 20),)), True, {}),
    ("sin", R.sin, Dom(u=((0, 3),)), True, {}),                 # unsigned: non-negative results only
    ("cos", R.cos, Dom(u=((0, 1),)), True, {}),
    ("tan", R.tan, Dom(f=((-1.375, 1.375),), i=((-10, 10),), u=((0, 1),)), True, {}),
    ("arcsin", R.arcsin, UNIT, True, {}),
    ("arccos", R.arccos, UNIT, True, {}),
    ("arctan", R.arctan, ANY, True, {}),
    ("sinh", R.sinh, SMALL, True, {}),
    ("cosh", R.cosh, SMALL, True, {}),
    ("tanh", R.tanh, Dom(i=((-10, 10),), u=((0, 10),)), True, {}),
    ("arcsinh", R.arcsinh, ANY, True, {}),
    ("arccosh", R.arccosh, Dom(f=((1.125, 10),), i=((1, 20),), u=((1, 40),)), True, {}),
    ("arctanh", R.arctanh, Dom(f=((-0.875, 0.875),), i=((0, 0),), u=((0, 0),)), True, {}),
    ("degrees", R.degrees, Dom(i=((-2, 2),), u=((0, 4),)), True, {}),
    ("radians", R.radians, ANY, True, {}),
    ("sigmoid", R.sigmoid, Dom(u=((0, 20),)), True, {}),
    ("relu", R.relu, Dom(f=NONZERO.f), True, {}),
    ("softsign", R.softsign, ANY, True, {}),
    ("gamma", R.gamma, Dom(f=GAMMA_F, i=((1, 5),), u=((1, 6),)), True, _LOOSE),
    ("gammaln", R.gammaln, Dom(f=GAMMA_F, i=((1, 20),), u=((1, 40),)), True, _LOOSE),
    ("erf", R.erf, Dom(i=((-5, 5),), u=((0, 5),)), True, {}),
    ("erfinv", R.erfinv, Dom(f=((-0.875, 0.875),), i=((0, 0),), u=((0, 0),)), True, _LOOSE),
    ("logical_not", R.logical_not, Dom(special=(0.0, 0.0, -0.0)), False, {}),
]

SPECS = [OpSpec(name, ref, unary(dom), grad=grad, tol=tol, errors=(_BOOL,)) for name, ref, dom, grad, tol in _UNARY]
SPECS += [
    OpSpec("hard_sigmoid", R.hard_sigmoid, hard_sigmoid_sample, dtypes=FLOATS, grad=True,
           attrs=(({"alpha": "0.200000003", "beta": "0.5"}, {"alpha": 0.200000003, "beta": 0.5}),),
           errors=(Err({}, dtypes=("int32",), exc=DTypeError, match="int32"),
                   Err({"alpha": "steep"}, exc=ParamError, match="steep.*alpha"))),
    OpSpec("broadcast_power", R0.power, broadcastable(("base", "exponent")), grad=True,
           errors=(Err({}, ((2, 3), (2, 4)), match=r"broadcast_power.*\[2,3\] \[2,4\]"),)),
]

# name: samplers of the same-shape, broadcast and scalar forms, and whether their rows check gradients
_SAMPLERS = {
    "mod": (mod_sample(False), mod_sample(True), mod_scalar_sample(False), True),
    "maximum": (pair(_QUARTERS, _THREE_QUARTERS), pair(_QUARTERS, _THREE_QUARTERS, True),
                scalar_sample(_QUARTERS, _HALF_GRID), True),
    "minimum": (pair(_QUARTERS, _THREE_QUARTERS), pair(_QUARTERS, _THREE_QUARTERS, True),
                scalar_sample(_QUARTERS, _HALF_GRID), True),
    "hypot": (pair(NONZERO), pair(NONZERO, bcast=True), scalar_sample(ANY), True),
    **{name: (pair(_TIES, _TIES), pair(_TIES, _TIES, True), scalar_sample(_TIES, _SMALL_SCALARS), False)
       for name in ("equal", "not_equal", "greater", "greater_equal", "lesser", "lesser_equal")},
    **{name: (pair(_TRUTH, _TRUTH), pair(_TRUTH, _TRUTH, True), scalar_sample(_TRUTH, _SMALL_SCALARS), False)
       for name in ("logical_and", "logical_or", "logical_xor")},
}
# MXNet 1.9.1's aliases: `_Mod`, `_Not_Equal` (same shape); `_ModScalar`, `_NotEqualScalar` (scalar)
_ALIASES = {"not_equal": "Not_Equal", "greater_equal": "Greater_Equal", "lesser_equal": "Lesser_Equal",
            "logical_and": "Logical_And", "logical_or": "Logical_Or", "logical_xor": "Logical_Xor"}


def _camel(name):
    return "".join(part.capitalize() for part in name.split("_"))


for _name, (_same, _bcast, _scalar, _grad) in _SAMPLERS.items():
    SPECS += [
        OpSpec("_" + _name, R.binary(_name), _same, aliases=("_" + _ALIASES.get(_name, _name.capitalize()),),
               grad=_grad, errors=(_BOOL2,)),
        OpSpec("broadcast_" + _name, R.binary(_name), _bcast, grad=_grad,
               errors=(_BOOL2, Err({}, ((2, 3), (2, 4)), match=r"broadcast_%s.*\[2,3\] \[2,4\]" % _name))),
        OpSpec("_%s_scalar" % _name, R.with_scalar(_name), _scalar, aliases=("_%sScalar" % _camel(_name),),
               grad=_grad),
    ]
SPECS.append(OpSpec("_rmod_scalar", R.with_scalar("mod", reverse=True), mod_scalar_sample(True),
                    aliases=("_RModScalar",), grad=True))

EXEMPT = {"_backward_gammaln": "internal to gamma's and gammaln's gradients; checked through them in "
                               "tests/test_gradients.py and against scipy's digamma in tests/test_math_ops.py"}
