"""The op table: one OpSpec per registered op drives the generic tests in tests/test_op_kernels.py.

A row holds the op's numpy reference (tests/reference.py), a sampler drawing MXNet attrs and input arrays for a
dtype, the dtypes to test, tolerances, error cases, MXNet string attrs with their parsed values, golden shape-rule
cases and skips with reasons. Golden shapes and aliases were checked on real MXNet 1.9.1 (pip wheel, native CPU
kernels: MXNET_MKLDNN_ENABLED=0), except where a case says it is ours.

Adding an op: one row here (usually one line with the `same`/`broadcastable` samplers), and a reference.
"""
import dataclasses
import functools
from typing import Callable

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests import reference as R
from tests import reference_reduce as RR
from ops.errors import DTypeError, ParamError, ShapeError

FLOATS = ("float32", "float64", "float16")
INTS = ("int32", "int64", "uint8", "int8")
NUMERIC = FLOATS + INTS
ALL = NUMERIC + ("bool",)

# rtol, atol by output dtype; integer and bool outputs compare exactly.
DEFAULT_TOL = {"float16": (2e-3, 2e-3), "float32": (2e-6, 1e-6), "float64": (1e-12, 1e-12)}


@dataclasses.dataclass(frozen=True)
class Err:
    """Params (MXNet attrs) and input shapes, or input dtypes, that must raise `exc`; the message must name the
    op and match `match` (the offending param, value or shapes)."""
    attrs: dict
    shapes: tuple = ()
    dtypes: tuple = None
    exc: type = ShapeError
    match: str = ""


@dataclasses.dataclass(frozen=True)
class Shp:
    """A golden shape-rule case: infer_shape(attrs, ins, outs) must give (want_ins, want_outs); None = as given."""
    attrs: dict
    ins: tuple
    want_outs: tuple
    outs: tuple = None
    want_ins: tuple = None


@dataclasses.dataclass(frozen=True)
class OpSpec:
    name: str
    ref: Callable                    # ref(p, *inputs) -> output array, or a tuple of them
    sample: Callable                 # sample(draw, dtype) -> (MXNet attrs dict, list of input arrays)
    dtypes: tuple = NUMERIC
    aliases: tuple = ()              # exactly the MXNet 1.9.1 aliases we register
    tol: dict = dataclasses.field(default_factory=dict)
    errors: tuple = ()
    attrs: tuple = ()                # (MXNet string attrs, expected parsed values) pairs
    shapes: tuple = ()               # Shp cases
    skips: dict = dataclasses.field(default_factory=dict)    # "forward" / "rules" / "req" -> reason
    alt_shapes: tuple = ()           # inputs that take several shapes of one size (labels): inferred may differ
    grad: bool = False               # check the gradient rule against float64 central differences
    grad_inputs: tuple = None        # names of the inputs to differentiate (default: every input)

    def tolerance(self, dtype):
        return self.tol.get(np.dtype(dtype).name, DEFAULT_TOL.get(np.dtype(dtype).name))


# Ops without a row, and why.
EXEMPT = {
    "_backward_Cast": "internal to Cast's gradient; checked through it in tests/test_gradients.py",
    "_sum_to_like": "internal to the broadcast ops' gradients; checked through them in tests/test_gradients.py",
    "_backward_dot": "internal to dot's gradient; checked through it in tests/test_gradients.py",
    "_backward_reduce": "internal to the reductions' gradients; checked through them in tests/test_gradients.py",
    **{name: "random: no pointwise reference; distribution statistics and seeding in tests/test_random.py"
       for name in ("_random_uniform", "_random_normal", "_random_exponential", "_random_gamma", "_random_poisson",
                    "_random_randint", "_shuffle", "_sample_multinomial", "_backward_sample_multinomial",
                    "_random_negative_binomial", "_random_generalized_negative_binomial")},
}

# ---------------------------------------------------------------------------------------------------------------
# Samplers
# ---------------------------------------------------------------------------------------------------------------

# Value domains per dtype kind: float ranges (bounds exact in float16), signed and unsigned integer ranges.
DOMAINS = {
    "any": dict(f=[(-10, 10)], i=[(-20, 20)], u=[(0, 40)]),
    "nonneg": dict(f=[(0, 10)], i=[(0, 20)], u=[(0, 40)]),
    "nonzero": dict(f=[(-10, -0.5), (0.5, 10)], i=[(-10, -1), (1, 10)], u=[(1, 10)]),
    "base": dict(f=[(0.125, 5)], i=[(-3, 3)], u=[(0, 3)]),            # pow: fractional exponents need > 0
    "exponent": dict(f=[(-3, 3)], i=[(0, 4)], u=[(0, 4)]),
    "unit": dict(f=[(-3, 3)], i=[(-3, 3)], u=[(0, 3)]),               # dot, FullyConnected: small sums
}
NO_PARAMS = st.just({})
SIDE = st.integers(1, 4)
SHAPES = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4)   # MXNet 1.x: 0 is an unknown dim


def elements(dtype, domain="any"):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return st.booleans()
    ranges = DOMAINS[domain][dtype.kind]
    if dtype.kind == "f":
        return st.one_of([st.floats(lo, hi, width=8 * dtype.itemsize) for lo, hi in ranges])
    return st.one_of([st.integers(lo, hi) for lo, hi in ranges])


def array(draw, dtype, shape, domain="any", unique=False):
    return draw(hnp.arrays(dtype, shape, elements=elements(dtype, domain), unique=unique))


def same(n=1, domains=("any",), params=NO_PARAMS):
    """n inputs of one shape; input i draws values from domains[i]."""
    def sample(draw, dtype):
        shape = draw(SHAPES)
        return draw(params), [array(draw, dtype, shape, domains[i % len(domains)]) for i in range(n)]
    return sample


def broadcastable(domains=("any",)):
    """lhs, rhs of numpy-broadcastable shapes, ranks may differ."""
    def sample(draw, dtype):
        shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=4, min_side=1,
                                                        max_side=4)).input_shapes
        return {}, [array(draw, dtype, s, domains[i % len(domains)]) for i, s in enumerate(shapes)]
    return sample


def scalar_params(lo=-5.0, hi=5.0, min_abs=0.0):
    """`scalar` rounded to 2 decimals, optionally `is_int`."""
    value = st.floats(lo, hi).map(lambda v: round(v, 2)).filter(lambda v: abs(v) >= min_abs)
    return st.fixed_dictionaries({"scalar": value}, optional={"is_int": st.booleans()})


def cast_sample(draw, dtype):
    target = draw(st.sampled_from(ALL))
    # In-range values only: C++ leaves out-of-range float -> int conversions undefined.
    domain = "nonneg" if target == "uint8" else "any"
    return {"dtype": target}, [array(draw, dtype, draw(SHAPES), domain)]


def dot_sample(draw, dtype):
    ta, tb = draw(st.booleans()), draw(st.booleans())
    la, lb = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if la == 1 and lb == 1:
        ta = tb = False                       # MXNet: "Cannot transpose vectors"
    k = draw(SIDE)
    a_rest = tuple(draw(st.lists(SIDE, min_size=la - 1, max_size=la - 1)))
    b_rest = tuple(draw(st.lists(SIDE, min_size=lb - 1, max_size=lb - 1)))
    a = (k,) if la == 1 else ((k,) + a_rest if ta else a_rest + (k,))
    b = (k,) if lb == 1 else (b_rest + (k,) if tb else (k,) + b_rest)
    attrs = {key: v for key, v in (("transpose_a", ta), ("transpose_b", tb)) if v or draw(st.booleans())}
    return attrs, [array(draw, dtype, a, "unit"), array(draw, dtype, b, "unit")]


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def reshape_sample(draw, dtype):
    """A Reshape spec built by walking the input's dims with MXNet's special values, or a legacy target_shape."""
    shape = draw(SHAPES)
    n = int(np.prod(shape))
    if draw(st.integers(0, 4)) == 0:
        attrs = draw(st.sampled_from([{"target_shape": (n,)}, {"target_shape": (0,)},
                                      {"target_shape": (shape[0], 0)},
                                      {"target_shape": (7, 0), "keep_highest": True}]))
        return attrs, [array(draw, dtype, shape)]
    reverse = draw(st.booleans())
    dims = shape[::-1] if reverse else shape
    spec, j, inferred = [], 0, False
    while j < len(dims):
        choices = ["keep", "copy", "rest"] + (["merge"] if j + 1 < len(dims) else []) + \
                  ([] if reverse else ["split"]) + ([] if inferred else ["infer"])
        move = draw(st.sampled_from(choices))
        if move == "keep":
            spec.append(dims[j])
        elif move == "copy":
            spec.append(0)
        elif move == "infer":
            spec.append(-1)
            inferred = True
        elif move == "rest":
            spec.append(-2)
            j = len(dims)
        elif move == "merge":
            spec.append(-3)
            j += 1
        elif move == "split":
            a = draw(st.sampled_from(_divisors(dims[j])))
            b = dims[j] // a
            which = draw(st.integers(0, 2))    # one of the pair may be -1
            spec += [-4, -1 if which == 1 else a, -1 if which == 2 else b]
        j += 1
    spec += [1] * draw(st.integers(0, 1))
    attrs = {"shape": tuple(spec[::-1] if reverse else spec)}
    if reverse or draw(st.booleans()):
        attrs["reverse"] = reverse
    return attrs, [array(draw, dtype, shape)]


def broadcast_to_sample(draw, dtype):
    target = draw(SHAPES)
    data = tuple(draw(st.sampled_from([1, t])) for t in target)
    shape = tuple(0 if draw(st.integers(0, 3)) == 0 else t for t in target)    # 0 keeps data's dim
    return {"shape": shape}, [array(draw, dtype, data)]


def fc_sample(draw, dtype):
    flatten, no_bias = draw(st.booleans()), draw(st.booleans())
    nh = draw(SIDE)
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    k = int(np.prod(shape[1:])) if flatten else shape[-1]
    ins = [array(draw, dtype, shape, "unit"), array(draw, dtype, (nh, k), "unit")]
    if not no_bias:
        ins.append(array(draw, dtype, (nh,), "unit"))
    return {"num_hidden": nh, "no_bias": no_bias, "flatten": flatten}, ins


def softmax_output_sample(draw, dtype):
    multi, preserve = draw(st.booleans()), draw(st.booleans())
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4))
    if multi:
        label = draw(st.sampled_from([(shape[0], int(np.prod(shape[2:]))), (shape[0],) + shape[2:]]))
    else:
        label = shape[:-1]
    labels = draw(hnp.arrays(np.int64, label, elements=st.integers(0, shape[-1] - 1))).astype(dtype)
    attrs = dict(multi_output=multi, preserve_shape=preserve,
                 normalization=draw(st.sampled_from(["null", "batch", "valid"])),
                 grad_scale=draw(st.sampled_from([1.0, 0.5])), use_ignore=draw(st.booleans()))
    return attrs, [array(draw, dtype, shape), labels]


def regression_sample(draw, dtype):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    label = (shape[0],) if len(shape) == 2 and shape[1] == 1 and draw(st.booleans()) else shape
    return {}, [array(draw, dtype, shape), array(draw, dtype, label)]


def reduce_axis(draw, ndim):
    """MXNet's forms of a reduction's `axis`: left out, (), an int, or a tuple of distinct axes."""
    return draw(st.one_of(st.none(), st.just(()), st.integers(-ndim, ndim - 1),
                          st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                                   unique_by=lambda a: a % ndim).map(tuple)))


def reduce_sample(draw, dtype, domain="any", unique=False, exclude=True):
    """A reduction's attrs and data. `unique` (max/min: a tie is a kink) draws floats as distinct multiples of
    0.25, so that no two lie within the gradient check's step of each other; integers keep their ties."""
    shape = draw(SHAPES)
    axis = reduce_axis(draw, len(shape))
    attrs = {"keepdims": draw(st.booleans())}
    if exclude:
        attrs["exclude"] = draw(st.booleans())
    if axis is not None:
        attrs["axis"] = axis
    n = int(np.prod(shape))
    if unique and np.dtype(dtype).kind == "f":
        return attrs, [((np.array(draw(st.permutations(range(n)))) - n // 2) * 0.25).astype(dtype).reshape(shape)]
    return attrs, [array(draw, dtype, shape, domain)]


def mean_sample(draw, dtype):
    """MXNet divides an integer sum by the count converted to the dtype: a count of 256 is 0 in 8 bits (an
    error, see ops/cpu/reduce.py), so those draws are rejected."""
    attrs, (x,) = reduce_sample(draw, dtype)
    if np.dtype(dtype).kind in "iu" and np.dtype(dtype).itemsize == 1:
        from ops import registry
        reduced = RR.axes(registry.get("mean").parse_params(attrs), x.ndim)
        assume(int(np.prod([x.shape[a] for a in reduced])) % 256)
    return attrs, [x]


# out_dtype int8 is left out: norms of up to 256 values in [-10, 10] overflow it, and a float too large for an
# integer type converts to an undefined value in C++. float64 data (the gradient check's) keeps its dtype: a
# narrower output would hide the finite differences.
NORM_OUT_DTYPES = (None, "float16", "float32", "float64", "int32", "int64")


def norm_sample(draw, dtype):
    attrs, inputs = reduce_sample(draw, dtype, domain="nonzero", exclude=False)   # |x|, sqrt: kinks at 0
    attrs["ord"] = draw(st.sampled_from([1, 2]))
    out_dtype = draw(st.sampled_from(NORM_OUT_DTYPES)) if np.dtype(dtype) != np.float64 else None
    if out_dtype is not None:
        attrs["out_dtype"] = out_dtype
    return attrs, inputs


def reshape_like_sample(draw, dtype):
    shape = draw(SHAPES)
    target = draw(st.permutations(shape)).copy() if len(shape) > 1 else list(shape)
    return {}, [array(draw, dtype, shape), array(draw, dtype, tuple(target))]


def fill_sample(with_value=False):
    def sample(draw, dtype):
        attrs = {"shape": draw(SHAPES), "dtype": dtype.name}
        if with_value:
            lo = 0 if dtype.kind == "u" else -5
            attrs["value"] = draw(st.floats(lo, 5).map(lambda v: round(v, 2)))
        return attrs, []
    return sample


def act_params():
    kinds = ["relu", "sigmoid", "tanh", "softrelu", "softsign"]
    return st.fixed_dictionaries({"act_type": st.sampled_from(kinds)})


# ---------------------------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------------------------

# an int32 input where the op takes only floats: a DTypeError naming the dtype (tests/specs_boxes.py's ops too)
BAD_INT = Err({}, dtypes=("int32",), exc=DTypeError, match="int32")
_DOT_TOL = {"float32": (1e-5, 2e-4), "float16": (2e-3, 2e-3)}

SPECS = [
    # ---- elementwise, same shape ----
    OpSpec("elemwise_add", R.add, same(2), aliases=("_plus", "_Plus", "_add"),
           shapes=(Shp({}, ((0, 3), (2, 0)), ((2, 3),), want_ins=((2, 3), (2, 3))),), grad=True),
    OpSpec("elemwise_sub", R.sub, same(2), aliases=("_minus", "_Minus", "_sub"), grad=True),
    OpSpec("elemwise_mul", R.mul, same(2), aliases=("_mul", "_Mul"), grad=True),
    OpSpec("elemwise_div", R.div, same(2, ("any", "nonzero")), aliases=("_div", "_Div"), grad=True),
    OpSpec("_power", R.power, same(2, ("base", "exponent")), aliases=("_Power",),
           tol={"float32": (2e-6, 1e-6)}, grad=True),
    # ---- broadcast ----
    OpSpec("broadcast_add", R.add, broadcastable(), aliases=("broadcast_plus",),
           errors=(Err({}, ((2, 3), (2, 4)), match=r"\[2,3\] \[2,4\]"),),
           shapes=(Shp({}, ((2, 3), (3,)), ((2, 3),)), Shp({}, ((3,), (2, 3)), ((2, 3),)),
                   Shp({}, ((2, 3), None), (None,))), grad=True),
    OpSpec("broadcast_sub", R.sub, broadcastable(), aliases=("broadcast_minus",), grad=True),
    OpSpec("broadcast_mul", R.mul, broadcastable(), grad=True),
    OpSpec("broadcast_div", R.div, broadcastable(("any", "nonzero")), grad=True),
    # ---- with a scalar ----
    OpSpec("_plus_scalar", R.plus_scalar, same(params=scalar_params()), aliases=("_PlusScalar",),
           attrs=(({"scalar": "2.5", "is_int": "False"}, {"scalar": 2.5, "is_int": False}),
                  ({"scalar": "2"}, {"scalar": 2.0, "is_int": True})),
           errors=(Err({"scalar": "two"}, ((2,),), exc=ParamError, match="two.*scalar"),), grad=True),
    OpSpec("_minus_scalar", R.minus_scalar, same(params=scalar_params()), aliases=("_MinusScalar",), grad=True),
    OpSpec("_rminus_scalar", R.rminus_scalar, same(params=scalar_params()), aliases=("_RMinusScalar",), grad=True),
    OpSpec("_mul_scalar", R.mul_scalar, same(params=scalar_params()), aliases=("_MulScalar",), grad=True),
    OpSpec("_div_scalar", R.div_scalar, same(params=scalar_params(min_abs=1.0)), aliases=("_DivScalar",), grad=True),
    OpSpec("_rdiv_scalar", R.rdiv_scalar, same(domains=("nonzero",), params=scalar_params()),
           aliases=("_RDivScalar",), grad=True),
    OpSpec("_power_scalar", R.power_scalar, same(domains=("base",), params=scalar_params(0.0, 3.9)),
           aliases=("_PowerScalar",), grad=True),
    OpSpec("_rpower_scalar", R.rpower_scalar, same(domains=("exponent",), params=scalar_params(1.0, 3.9)),
           aliases=("_RPowerScalar",), grad=True),
    # ---- unary ----
    OpSpec("negative", R.negative, same(), grad=True),
    OpSpec("_copy", R.identity, same(), dtypes=ALL, aliases=("identity",), grad=True),
    OpSpec("Cast", R.cast, cast_sample, dtypes=ALL, aliases=("cast",),
           attrs=(({"dtype": "float16"}, {"dtype": np.dtype(np.float16)}),),
           errors=(Err({"dtype": "float8"}, ((2,),), exc=ParamError, match="float8.*dtype"),)),
    # ---- matrix ----
    OpSpec("dot", R.dot, dot_sample, dtypes=FLOATS, tol=_DOT_TOL,
           attrs=(({"transpose_a": "True", "forward_stype": "None"}, {"transpose_a": True}),),
           errors=(Err({"transpose_a": True}, ((3,), (3,)), match="transpose"), BAD_INT),
           shapes=(Shp({}, ((2, 3, 4), (4, 5)), ((2, 3, 5),)),
                   Shp({"transpose_a": True}, ((4, 3, 2), (4, 5)), ((3, 2, 5),)),
                   Shp({"transpose_b": True}, ((2, 3, 4), (5, 3, 4)), ((2, 3, 5, 3),)),
                   Shp({"transpose_a": True, "transpose_b": True}, ((3, 2, 4), (5, 6, 3)), ((2, 4, 5, 6),)),
                   Shp({}, ((3,), (3,)), ((1,),)), Shp({}, ((3,), (3, 2)), ((2,),)),
                   Shp({}, ((2, 3), (3,)), ((2,),)), Shp({"transpose_b": True}, ((2, 3), (3,)), ((2,),)),
                   Shp({"transpose_a": True}, ((3,), (3, 2)), ((2,),)),
                   Shp({}, ((4,), (4, 5, 6)), ((5, 6),)), Shp({}, ((2, 3, 4), (4, 5, 6)), ((2, 3, 5, 6),)),
                   Shp({}, ((2, 3), (0, 5)), ((2, 5),), want_ins=((2, 3), (3, 5)))), grad=True),     # ours: fills k
    OpSpec("Reshape", R.reshape, reshape_sample, dtypes=ALL, aliases=("reshape",),
           attrs=(({"shape": "(1, 4)"}, {"shape": (1, 4)}), ({"shape": "[-1,0]", "reverse": "1"},
                                                              {"shape": (-1, 0), "reverse": True}),
                  ({"target_shape": "(4,0)", "keep_highest": "False"}, {"target_shape": (4, 0)})),
           # MXNet 1.9.1 does not check the size (it returns (5, 5) and (1, 3, 4) views over 24 elements)
           errors=(Err({"shape": (5, 5)}, ((2, 3, 4),), match=r"\(5, 5\).*\[2,3,4\]"),
                   Err({"shape": (1, -2)}, ((2, 3, 4),), match=r"\[1,3,4\].*shape=\(1, -2\)"),
                   Err({"shape": (5, -1)}, ((2, 3, 4),), match=r"shape=\(5, -1\)"),
                   Err({"shape": (-1, -1)}, ((2, 3, 4),), match=r"shape=\(-1, -1\).*one dim"),
                   Err({"shape": (0, 0, 0, 0)}, ((2, 3, 4),), match=r"shape=\(0, 0, 0, 0\)"),
                   Err({"shape": (-3, -3)}, ((2, 3, 4),), match=r"shape=\(-3, -3\)"),
                   Err({"shape": (-4, 5, -1, -2)}, ((2, 3, 4),), match=r"shape=.*split dims 5, -1"),
                   Err({"shape": (-4, -1, -1, -2)}, ((2, 3, 4),), match=r"both be -1"),
                   Err({"shape": (-5,)}, ((2, 3, 4),), match=r"-5"),
                   Err({"target_shape": (0, -1)}, ((2, 3, 4),), match=r"target_shape=\(0, -1\)"),
                   Err({}, ((2, 3, 4),), match=r"shape"),
                   Err({"shape": "(2, x)"}, ((2,),), exc=ParamError, match=r"shape")),
           shapes=tuple(Shp({"shape": s, **kw}, ((2, 3, 4),), (want,)) for s, kw, want in [
               ((4, 0, 2), {}, (4, 3, 2)), ((6, -1), {}, (6, 4)), ((-2,), {}, (2, 3, 4)), ((2, -2), {}, (2, 3, 4)),
               ((-3, 4), {}, (6, 4)), ((2, -3), {}, (2, 12)), ((-4, 1, 2, -2), {}, (1, 2, 3, 4)),
               ((2, -4, -1, 3, 4), {}, (2, 1, 3, 4)), ((-1, 0), {"reverse": True}, (6, 4)),
               ((-3, -2), {}, (6, 4)), ((2, -4, 3, 1, 4), {}, (2, 3, 1, 4)), ((24,), {}, (24,)),
               ((-2, 1), {}, (2, 3, 4, 1)), ((-1,), {}, (24,)), ((0, -3), {}, (2, 12)),
               ((0, 0, 0, 1), {}, (2, 3, 4, 1))]) + (
               Shp({"shape": (-1, 0)}, ((10, 5, 4),), ((40, 5),)),
               Shp({"shape": (-1, 0), "reverse": True}, ((10, 5, 4),), ((50, 4),)),
               Shp({"shape": (-4, -1, 2)}, ((6,),), ((3, 2),)),
               Shp({"target_shape": (4, 0)}, ((2, 3, 4),), ((4, 6),)),
               Shp({"shape": (-1, 12)}, ((0, 3, 4),), ((0, 12),)),
               Shp({"shape": (0, -1)}, ((0, 4),), ((0, 0),)),
               Shp({"shape": (2, -1)}, ((0, 3, 4),), ((2, 0),)),
               Shp({"shape": (-1, 4)}, ((2, 0, 4),), ((0, 4),)),
               Shp({"shape": (6, 4)}, ((0, 4),), ((6, 4),), outs=((6, 4),), want_ins=((6, 4),)),
               Shp({"shape": (-1, 4)}, ((2, 0),), ((6, 4),), outs=((6, 4),), want_ins=((2, 12),)),
               Shp({"shape": (6, 4)}, (None,), ((6, 4),))),    # ours: plain sizes without data
           grad=True),
    OpSpec("Flatten", R.flatten, same(), dtypes=ALL, aliases=("flatten",),
           errors=(Err({}, ((),), match=r"\(\)"),),
           shapes=(Shp({}, ((2, 3, 4, 5),), ((2, 60),)), Shp({}, ((3,),), ((3, 1),)),
                   Shp({}, ((2, 0, 4),), ((2, 12),), outs=((2, 12),), want_ins=((2, 3, 4),))),   # ours: backward
           grad=True),
    OpSpec("broadcast_to", R.broadcast_to, broadcast_to_sample, dtypes=ALL,
           attrs=(({"shape": "(2, 4)"}, {"shape": (2, 4)}),),
           errors=(Err({"shape": (4, 2, 3)}, ((2, 1),), match=r"\[2,1\].*shape=\(4, 2, 3\)"),
                   Err({"shape": (2, 3)}, ((2, 2),), match=r"\[2,2\].*shape=\(2, 3\)"),
                   Err({"shape": (2, -3)}, ((2, 1),), match=r"shape=\(2, -3\)")),
           shapes=(Shp({"shape": (0, 3)}, ((2, 1),), ((2, 3),)), Shp({"shape": (0, 3)}, ((0, 1),), ((0, 3),))),
           grad=True),
    # ---- nn ----
    OpSpec("FullyConnected", R.fully_connected, fc_sample, dtypes=FLOATS, tol=_DOT_TOL, grad=True,
           attrs=(({"num_hidden": "128", "no_bias": "False", "flatten": "True"},
                   {"num_hidden": 128, "no_bias": False, "flatten": True}),),
           errors=(Err({"num_hidden": 0}, ((2, 3), None, None), match="num_hidden"),
                   Err({"num_hidden": "many"}, exc=ParamError, match="many.*num_hidden"),
                   Err({"num_hidden": 4}, dtypes=("int32", None, None), exc=DTypeError, match="int32")),
           shapes=(Shp({"num_hidden": 7}, ((2, 3, 4), None, None), ((2, 7),), want_ins=((2, 3, 4), (7, 12), (7,))),
                   Shp({"num_hidden": 7, "flatten": False}, ((2, 3, 4), None, None), ((2, 3, 7),),
                       want_ins=((2, 3, 4), (7, 4), (7,))),
                   Shp({"num_hidden": 7, "no_bias": True}, ((2, 3, 4), None), ((2, 7),),
                       want_ins=((2, 3, 4), (7, 12))),
                   Shp({"num_hidden": 7}, ((12,), None, None), ((12, 7),), want_ins=((12,), (7, 1), (7,))),
                   Shp({"num_hidden": 7, "flatten": False}, ((12,), None, None), ((7,),),
                       want_ins=((12,), (7, 12), (7,))),
                   Shp({"num_hidden": 7}, ((0, 12), None, None), ((2, 7),), outs=((2, 7),),
                       want_ins=((2, 12), (7, 12), (7,))),
                   Shp({"num_hidden": 7, "flatten": False}, ((2, 3, 0), (7, 12), None), ((2, 3, 7),),
                       want_ins=((2, 3, 12), (7, 12), (7,))),                          # ours: fills data
                   Shp({"num_hidden": 7}, ((2, 0), (7, 12), None), ((2, 7),),
                       want_ins=((2, 12), (7, 12), (7,))),                             # ours: MXNet crashes
                   Shp({"num_hidden": 128}, ((100, 200), None, None), ((100, 128),),
                       want_ins=((100, 200), (128, 200), (128,))))),
    # values away from 0: relu's kink
    OpSpec("Activation", R.activation, same(domains=("nonzero",), params=act_params()), dtypes=FLOATS, grad=True,
           tol={"float32": (1e-5, 1e-6)},
           attrs=(({"act_type": "relu"}, {"act_type": "relu"}),),
           errors=(Err({"act_type": "gelu"}, exc=ParamError, match="gelu.*act_type"),
                   Err({"act_type": "relu"}, dtypes=("int32",), exc=DTypeError, match="int32"))),
    OpSpec("SoftmaxOutput", R.softmax_output, softmax_output_sample, dtypes=FLOATS, aliases=("Softmax",),
           alt_shapes=(1,),
           tol={"float32": (1e-5, 1e-7)},
           attrs=(({"normalization": "valid", "multi_output": "1", "grad_scale": "0.5"},
                   {"normalization": "valid", "multi_output": True, "grad_scale": 0.5}),),
           errors=(Err({"normalization": "all"}, exc=ParamError, match="all.*normalization"),
                   Err({"multi_output": True}, ((5,), None), match="multi_output"),
                   Err({}, dtypes=("int32", None), exc=DTypeError, match="int32")),
           shapes=(Shp({}, ((2, 5), None), ((2, 5),), want_ins=((2, 5), (2,))),
                   Shp({}, ((2, 5, 3), None), ((2, 5, 3),), want_ins=((2, 5, 3), (2, 5))),
                   Shp({}, ((2, 5, 3, 4), None), ((2, 5, 3, 4),), want_ins=((2, 5, 3, 4), (2, 5, 3))),
                   Shp({"multi_output": True}, ((2, 5, 3, 4), None), ((2, 5, 3, 4),),
                       want_ins=((2, 5, 3, 4), (2, 12))),
                   Shp({"multi_output": True}, ((2, 5, 3, 4), (2, 3, 4)), ((2, 5, 3, 4),)),
                   Shp({"multi_output": True}, ((2, 5), None), ((2, 5),), want_ins=((2, 5), (2, 1))),
                   Shp({"preserve_shape": True}, ((2, 5, 3), None), ((2, 5, 3),), want_ins=((2, 5, 3), (2, 5))),
                   Shp({}, ((2, 5), (2, 5)), ((2, 5),)),
                   Shp({"multi_output": True}, ((2, 5, 3), (2, 5, 3)), ((2, 5, 3),)),
                   Shp({}, ((0, 5), None), ((0, 5),), want_ins=((0, 5), (0,))),
                   Shp({}, ((5,), None), ((5,),), want_ins=((5,), None)),
                   Shp({}, (None, (5,)), (None,)))),
    OpSpec("LinearRegressionOutput", R.linear_regression_output, regression_sample, dtypes=FLOATS,
           alt_shapes=(1,),
           errors=(Err({}, dtypes=("int32", None), exc=DTypeError, match="int32"),),
           shapes=(Shp({}, ((2, 1), None), ((2, 1),), want_ins=((2, 1), (2,))),
                   Shp({}, ((2, 1), (2, 1)), ((2, 1),)),
                   Shp({}, ((2, 3, 4), None), ((2, 3, 4),), want_ins=((2, 3, 4), (2, 3, 4))),
                   Shp({}, ((100, 128), None), ((100, 128),), want_ins=((100, 128), (100, 128))),
                   Shp({}, (None, (2, 3)), (None,)))),
    # ---- reductions (references in tests/reference_reduce.py; more rows in tests/specs_reduce.py) ----
    OpSpec("sum", RR.sum_, reduce_sample, aliases=("sum_axis",), grad=True,
           attrs=(({"axis": "(1, 2)", "keepdims": "True", "exclude": "0"}, {"axis": (1, 2), "keepdims": True}),
                  ({"axis": "1"}, {"axis": (1,)}), ({"axis": "()"}, {"axis": ()}), ({"axis": "None"}, {"axis": None})),
           errors=(Err({"axis": (2,)}, ((2, 2),), match="axis 2"),
                   Err({"axis": (1, -1)}, ((2, 3),), match=r"axis=\(1, -1\).*twice")),
           shapes=(Shp({}, ((2, 3),), ((1,),)), Shp({"axis": (1,), "keepdims": True}, ((2, 3),), ((2, 1),)),
                   Shp({"axis": (0,), "exclude": True}, ((2, 3, 4),), ((2,),)),
                   Shp({"exclude": True}, ((2, 3),), ((1,),)), Shp({"axis": (), "exclude": True}, ((2, 3),), ((1,),)),
                   Shp({"axis": (0, 1), "exclude": True}, ((2, 3),), ((2, 3),)),
                   Shp({"axis": (), "keepdims": True}, ((2, 3),), ((1, 1),)),
                   Shp({"axis": 1}, ((2, 0),), ((2,),)), Shp({"axis": 1}, ((0, 3),), ((0,),)))),
    OpSpec("mean", RR.mean, mean_sample, grad=True),
    OpSpec("prod", RR.prod, functools.partial(reduce_sample, domain="nonzero"), grad=True),
    # distinct values: the gradient of max/min at a tie is a kink
    OpSpec("max", RR.max_, functools.partial(reduce_sample, unique=True), aliases=("max_axis",), grad=True),
    OpSpec("min", RR.min_, functools.partial(reduce_sample, unique=True), aliases=("min_axis",), grad=True),
    OpSpec("norm", RR.norm, norm_sample, grad=True,
           attrs=(({"ord": "1", "out_dtype": "float64", "axis": "(0,)"},
                   {"ord": 1, "out_dtype": np.dtype(np.float64), "axis": (0,)}),
                  ({"out_dtype": "None"}, {"out_dtype": None})),
           errors=(Err({"ord": 3}, ((2, 3),), match="ord=3"),
                   Err({"out_dtype": "uint8"}, dtypes=("float32",), exc=DTypeError, match="out_dtype=uint8"),
                   Err({"exclude": True}, exc=ParamError, match="exclude"),
                   Err({"axis": (0, 0)}, ((2, 3),), match="twice")),
           shapes=(Shp({}, ((2, 3, 4),), ((1,),)), Shp({"axis": (0, 2)}, ((2, 3, 4),), ((3,),)),
                   Shp({"axis": -1, "keepdims": True}, ((2, 3, 4),), ((2, 3, 1),)))),
    OpSpec("log", R.log, same(domains=("base",)), dtypes=("float32", "float64"), grad=True),
    OpSpec("reshape_like", R.reshape_like, reshape_like_sample, dtypes=ALL, grad=True, grad_inputs=("lhs",)),
    # ---- init ----
    OpSpec("_zeros", R.zeros, fill_sample(), dtypes=ALL,
           attrs=(({"shape": "(2, 3)", "dtype": "int32", "ctx": "cpu(0)"},
                   {"shape": (2, 3), "dtype": np.dtype(np.int32), "ctx": "cpu(0)"}),),
           errors=(Err({"dtype": "float8"}, exc=ParamError, match="float8.*dtype"),),
           shapes=(Shp({"shape": (2, 3)}, (), ((2, 3),)), Shp({}, (), (None,)))),
    OpSpec("_ones", R.ones, fill_sample(), dtypes=ALL),
    OpSpec("_full", R.full, fill_sample(with_value=True), dtypes=ALL,
           attrs=(({"shape": "(2,)", "value": "2.5"}, {"shape": (2,), "value": 2.5}),),
           shapes=(Shp({"shape": (2, 3), "value": 1.0}, (), ((2, 3),)), Shp({"value": 1.0}, (), (None,)))),
]


# Op families add their rows in their own modules, appended here.
from tests import specs_conv, specs_linalg, specs_math, specs_nn, specs_reduce, specs_shape  # noqa: E402
from tests import specs_ctc, specs_custom, specs_matrix, specs_transformer, specs_update, specs_vision  # noqa: E402
from tests import specs_control_flow, specs_fold, specs_random, specs_rnn  # noqa: E402
from tests import specs_boxes, specs_contrib_indexing, specs_detection, specs_image, specs_resize  # noqa: E402
from tests import specs_decompositions, specs_indexing, specs_sparse  # noqa: E402
from tests import specs_numpy_graph, specs_numpy_ops  # noqa: E402

_FAMILIES = (specs_nn, specs_conv, specs_math, specs_reduce, specs_shape, specs_linalg, specs_vision, specs_update,
             specs_custom, specs_matrix, specs_ctc, specs_transformer, specs_random, specs_rnn, specs_control_flow,
             specs_fold, specs_boxes, specs_contrib_indexing, specs_detection, specs_resize, specs_image,
             specs_decompositions, specs_sparse, specs_numpy_ops, specs_numpy_graph, specs_indexing)
for _module in _FAMILIES:
    SPECS += _module.SPECS
    EXEMPT.update(getattr(_module, "EXEMPT", {}))
