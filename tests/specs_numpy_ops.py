"""Op spec rows for the numpy-mode ops of ops/numpy_ops.py (`_npi_add` ..., `_npi_true_divide_scalar`, `_np_dot`,
`_npi_tensordot`); see tests/op_specs.py. The references are NumPy's functions, in float64 and cast to the result's
dtype; the generic rows draw operands of one dtype (mixed dtypes: tests/test_numpy_symbol_semantics.py, against
MXNet's table). Import tests.op_specs, never this module first (op_specs appends these rows at its end).
"""
import functools

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ops.errors import DTypeError
from tests.reference_math import BINARY as MATH
from tests.specs_math import mod_sample
from tests.op_specs import (ALL, FLOATS, INTS, NUMERIC, SHAPES, Err, OpSpec, Shp, array, broadcastable, same,
                            scalar_params)

_INTS = ("int32", "int64", "int8", "uint8")


def _f64(x):
    return x.astype(np.float64)


def _binary_ref(function, integer_result=None):
    """ref(p, lhs, rhs): `function` in float64 (exact for the drawn integers), cast to the operands' dtype, or to
    `integer_result` for integer and bool operands."""
    def ref(p, lhs, rhs):
        with np.errstate(all="ignore"):
            value = function(_f64(lhs), _f64(rhs))
        dtype = integer_result if integer_result is not None and lhs.dtype.kind in "iub" else lhs.dtype
        if dtype == np.bool_:
            value = value != 0
        return value.astype(dtype)
    return ref


def _divide_scalar_ref(reflected):
    def ref(p, x):
        dtype = np.dtype(np.float32) if x.dtype.kind in "iub" else x.dtype
        scalar, x = dtype.type(p.scalar), x.astype(dtype)
        with np.errstate(all="ignore"):
            return (scalar / x if reflected else x / scalar).astype(dtype)
    return ref


def _contraction_ref(axes_of):
    def ref(p, a, b):
        a_axes, b_axes = axes_of(p, a.ndim, b.ndim)
        return np.asarray(np.tensordot(_f64(a), _f64(b), axes=(a_axes, b_axes))).astype(a.dtype)
    return ref


def _dot_axes(p, a_ndim, b_ndim):
    return [a_ndim - 1], [0 if b_ndim == 1 else b_ndim - 2]


def _int_axes(p, a_ndim, b_ndim):
    return list(range(a_ndim - p.axes, a_ndim)), list(range(p.axes))


def _shape(draw, ndim):
    return tuple(draw(st.integers(1, 3)) for _ in range(ndim))


def dot_sample(draw, dtype):
    a = _shape(draw, draw(st.integers(1, 3)))
    b_ndim = draw(st.integers(1, 3))
    b = list(_shape(draw, b_ndim))
    b[0 if b_ndim == 1 else b_ndim - 2] = a[-1]
    return {}, [array(draw, dtype, a, "unit"), array(draw, dtype, tuple(b), "unit")]


def tensordot_sample(int_axes):
    def sample(draw, dtype):
        a = _shape(draw, draw(st.integers(1, 3)))
        n = draw(st.integers(0, len(a)))
        if int_axes:
            b = a[len(a) - n:] + _shape(draw, draw(st.integers(0 if n else 1, 2)))     # b has an axis
            attrs = {"axes": n}
        else:
            a_axes = draw(st.permutations(range(len(a))))[:n]
            rest = _shape(draw, draw(st.integers(0 if n else 1, 2)))
            b_axes = draw(st.permutations(range(n + len(rest))))[:n]
            b = [0] * (n + len(rest))
            free = iter(rest)
            for j in range(len(b)):
                b[j] = a[a_axes[b_axes.index(j)]] if j in b_axes else next(free)
            negative = draw(st.booleans())     # negative axes count from the end
            attrs = {"a_axes_summed": tuple(i - len(a) if negative else i for i in a_axes),
                     "b_axes_summed": tuple(b_axes)}
            b = tuple(b)
        return attrs, [array(draw, dtype, a, "unit"), array(draw, dtype, tuple(b), "unit")]
    return sample


def _normalized_pairs(p, a_ndim, b_ndim):
    return [i % a_ndim for i in p.a_axes_summed], [j % b_ndim for j in p.b_axes_summed]


_MISMATCH = Err({}, ((2, 3), (2, 4)), match=r"\[2,3\] \[2,4\]")
_BROADCAST_SHAPES = (Shp({}, ((2, 3), (3,)), ((2, 3),)), Shp({}, ((3,), (2, 1)), ((2, 3),)),
                     Shp({}, ((2, 3), None), (None,)))

SPECS = [
    OpSpec("_npi_add", _binary_ref(np.add), broadcastable(), dtypes=ALL, errors=(_MISMATCH,),
           shapes=_BROADCAST_SHAPES, grad=True),
    OpSpec("_npi_subtract", _binary_ref(np.subtract), broadcastable(), errors=(
        Err({}, dtypes=("bool", "bool"), exc=DTypeError, match="bool and bool"),), grad=True),
    OpSpec("_npi_multiply", _binary_ref(np.multiply), broadcastable(), dtypes=ALL, grad=True),
    OpSpec("_npi_true_divide", _binary_ref(np.true_divide, np.dtype(np.float32)), broadcastable(("any", "nonzero")),
           dtypes=NUMERIC, errors=(Err({}, dtypes=("int32", "int64"), exc=DTypeError, match="int32 and int64"),),
           grad=True),
    # mod's jumps and zero divisors (0, as MXNet's): the legacy broadcast_mod row's sampler and reference
    OpSpec("_npi_mod", _binary_ref(MATH["mod"]), mod_sample(bcast=True), grad=True),
    OpSpec("_npi_power", _binary_ref(np.power), broadcastable(("base", "exponent")), grad=True,
           tol={"float32": (2e-6, 1e-6)}, errors=(
               Err({}, dtypes=("int8", "uint8"), exc=DTypeError, match="int8 and uint8"),)),
    OpSpec("_npi_true_divide_scalar", _divide_scalar_ref(False), same(params=scalar_params(min_abs=1.0)),
           dtypes=ALL, attrs=(({"scalar": "2", "is_int": "True"}, {"scalar": 2.0, "is_int": True}),), grad=True),
    OpSpec("_npi_rtrue_divide_scalar", _divide_scalar_ref(True), same(domains=("nonzero",), params=scalar_params()),
           dtypes=NUMERIC, grad=True),
    OpSpec("_np_dot", _contraction_ref(_dot_axes), dot_sample, dtypes=FLOATS + _INTS, grad=True,
           tol={"float16": (1e-2, 1e-2), "float32": (1e-5, 1e-5)},
           errors=(Err({}, ((2, 3), (4, 5, 6)), match="shape-mismatch"),),
           shapes=(Shp({}, ((2, 4), (3, 4, 5)), ((2, 3, 5),)), Shp({}, ((4,), (4,)), ((),)),
                   Shp({}, ((2, 4), (4,)), ((2,),)), Shp({}, ((2, 0), (3, 4, 5)), ((2, 3, 5),),
                                                        want_ins=((2, 4), (3, 4, 5))))),
    OpSpec("_npi_tensordot", _contraction_ref(_normalized_pairs), tensordot_sample(False), dtypes=FLOATS + _INTS,
           grad=True, tol={"float16": (1e-2, 1e-2), "float32": (1e-5, 1e-5)},
           attrs=(({"a_axes_summed": "(1, -1)", "b_axes_summed": "(0, 1)"},
                   {"a_axes_summed": (1, -1), "b_axes_summed": (0, 1)}),),
           errors=(Err({"a_axes_summed": (0,), "b_axes_summed": (0,)}, ((2, 3), (3, 2)), match="shape-mismatch"),
                   Err({"a_axes_summed": (2,), "b_axes_summed": (0,)}, ((2, 3), (3, 2)), match="out of range"),
                   Err({"a_axes_summed": (0, 1), "b_axes_summed": (0,)}, ((2, 3), (2, 3)), match="differ")),
           shapes=(Shp({"a_axes_summed": (0, 2), "b_axes_summed": (1, 0)}, ((2, 3, 4), (4, 2, 5)), ((3, 5),)),)),
    OpSpec("_npi_tensordot_int_axes", _contraction_ref(_int_axes), tensordot_sample(True), dtypes=FLOATS + _INTS,
           grad=True, tol={"float16": (1e-2, 1e-2), "float32": (1e-5, 1e-5)},
           errors=(Err({"axes": 3}, ((2, 3), (2, 3)), match="out of range"),),
           shapes=(Shp({"axes": 0}, ((2,), (3,)), ((2, 3),)), Shp({"axes": 2}, ((2, 3), (2, 3)), ((),)))),
]

def np_reduce_sample(draw, dtype, initial=True):
    # data of at least one axis: the generic gradient check cannot assign a zero-dim variable (zero-dim data: Shp)
    shape = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(1, 3))))
    axis = draw(st.one_of(st.none(), st.permutations(range(len(shape))).flatmap(
        lambda order: st.integers(0, len(order)).map(lambda n: tuple(order[:n])))))
    attrs = {"axis": axis, "keepdims": draw(st.booleans())}
    if initial and draw(st.booleans()):
        attrs["initial"] = 1.0
    return attrs, [array(draw, dtype, shape, "unit")]


def _np_reduce_ref(function):
    def ref(p, x):
        kwargs = {} if p.initial is None else {"initial": p.initial}
        if function is np.mean:
            value = np.mean(_f64(x), axis=p.axis, keepdims=p.keepdims)
            return np.asarray(value).astype(np.float32 if x.dtype.kind in "iub" else x.dtype)
        return np.asarray(function(_f64(x), axis=p.axis, keepdims=p.keepdims, **kwargs)).astype(x.dtype)
    return ref


def np_squeeze_sample(draw, dtype):
    shape = tuple(draw(st.sampled_from((1, 1, 2, 3))) for _ in range(draw(st.integers(1, 4))))
    ones = [i for i, d in enumerate(shape) if d == 1]
    count = draw(st.integers(0, len(ones)))
    attrs = {} if draw(st.booleans()) else {"axis": tuple(draw(st.permutations(ones))[:count])}
    return attrs, [array(draw, dtype, shape)]


def _np_squeeze_ref(p, x):
    return np.squeeze(x, axis=p.axis)


_REDUCE_TOL = {"float16": (1e-2, 1e-2), "float32": (1e-5, 1e-5)}
SPECS += [
    OpSpec("_np_sum", _np_reduce_ref(np.sum), np_reduce_sample, dtypes=FLOATS + ("int32", "int64"),
           tol=_REDUCE_TOL, grad=True,
           attrs=(({"axis": "None", "dtype": "None", "keepdims": "False", "initial": "None"},
                   {"axis": None, "dtype": None, "keepdims": False, "initial": None}),),
           errors=(Err({"axis": (2,)}, ((2, 3),), match="out of range"),),
           shapes=(Shp({}, ((2, 3),), ((),)), Shp({"axis": ()}, ((2, 3),), ((2, 3),)), Shp({}, ((),), ((),)),
                   Shp({"keepdims": True}, ((2, 3),), ((1, 1),)))),
    OpSpec("_npi_mean", _np_reduce_ref(np.mean), functools.partial(np_reduce_sample, initial=False),
           dtypes=FLOATS + ("int32",), tol=_REDUCE_TOL,
           grad=True, errors=(Err({"initial": 1.0}, ((2, 3),), match="initial"),)),
    OpSpec("_np_max", _np_reduce_ref(np.max), np_reduce_sample, dtypes=FLOATS + ("int32",)),
    OpSpec("_np_min", _np_reduce_ref(np.min), np_reduce_sample, dtypes=FLOATS + ("int32",)),
    OpSpec("_np_prod", _np_reduce_ref(np.prod), np_reduce_sample, dtypes=FLOATS, tol=_REDUCE_TOL),
    OpSpec("_np_squeeze", _np_squeeze_ref, np_squeeze_sample, dtypes=ALL, grad=True,
           errors=(Err({"axis": (1,)}, ((2, 3),), match="cannot squeeze"),),
           shapes=(Shp({}, ((1, 1),), ((),)), Shp({"axis": (0,)}, ((1, 3),), ((3,),)))),
]

EXEMPT = {"_backward" + name: "internal to %s's gradient; checked through it (grad=True)" % name
          for name in ("_npi_add", "_npi_subtract", "_npi_multiply", "_npi_true_divide", "_npi_mod", "_npi_power",
                       "_np_dot", "_npi_tensordot", "_npi_tensordot_int_axes")}


# -- matmul (ops/numpy_matmul.py) -------------------------------------------------------------------------------------
def matmul_sample(draw, dtype):
    """Operands of one or more axes: 1-D on either side, batch axes that broadcast."""
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3)).input_shapes
    a = (k,) if draw(st.booleans()) else batch[0] + (n, k)
    b = (k,) if draw(st.booleans()) else batch[1] + (k, m)
    return {}, [array(draw, dtype, a, "unit"), array(draw, dtype, b, "unit")]


def _matmul_ref(p, a, b):
    return np.asarray(np.matmul(_f64(a), _f64(b))).astype(a.dtype)


def _integer_ref(function):
    """ref(p, *inputs): `function` of the inputs as they are (exact for integers, bools and comparisons)."""
    def ref(p, *inputs):
        out = np.asarray(function(*inputs))
        return out if out.dtype == np.bool_ else out.astype(inputs[0].dtype)
    return ref


_FLOAT_ONLY = Err({}, ((2, 3), (3, 2)), dtypes=("int32", "int32"), exc=DTypeError, match="int32")
SPECS += [
    OpSpec("_npi_matmul", _matmul_ref, matmul_sample, dtypes=FLOATS, grad=True,
           tol={"float16": (1e-2, 1e-2), "float32": (1e-5, 1e-5)},
           errors=(Err({}, ((2, 3), (2, 3)), match="shape-mismatch"), Err({}, ((), (3,)), match="one dimension"),
                   Err({}, ((2, 2, 3), (3, 3, 4)), match="batch axes"), _FLOAT_ONLY),
           shapes=(Shp({}, ((3,), (3,)), ((),)), Shp({}, ((2, 1, 4, 3), (5, 3, 2)), ((2, 5, 4, 2),)),
                   Shp({}, ((3,), (2, 3, 4)), ((2, 4),)), Shp({}, ((2, 4, 3), (3,)), ((2, 4),)))),
    OpSpec("_npi_bitwise_not", _integer_ref(np.invert), same(), dtypes=INTS + ("bool",),
           errors=(Err({}, ((2,),), dtypes=("float32",), exc=DTypeError, match="integer types, not float32"),)),
    OpSpec("_npi_lcm", _integer_ref(np.lcm), broadcastable(), dtypes=INTS,
           errors=(Err({}, ((2,), (2,)), dtypes=("bool", "bool"), exc=DTypeError, match="not bool"),)),
]
SPECS += [OpSpec("_npi_bitwise_" + name, _integer_ref(getattr(np, "bitwise_" + name)), broadcastable(),
                 dtypes=INTS + ("bool",), errors=(Err({}, ((2,), (2,)), dtypes=("float64", "float64"), exc=DTypeError,
                                                      match="not float64"),))
          for name in ("and", "or", "xor")]
EXEMPT.update({"_backward_npi_matmul": "internal to _npi_matmul's gradient; checked through it (grad=True)",
               "_backward_np_reduce": "the gradient of _np_sum/_npi_mean/_np_prod given a dtype; checked by "
                                      "tests/test_numpy_graph_semantics.py against MXNet's gradients"})
# comparisons: operands of one dtype (bool too), a bool result; two dtypes are refused as by MXNet 1.9.1
SPECS += [OpSpec(name, _integer_ref(function), broadcastable(), dtypes=ALL,
                 errors=(Err({}, ((2,), (2,)), dtypes=("int8", "float32"), exc=DTypeError, match="float32"),))
          for name, function in (("_npi_equal", np.equal), ("_npi_not_equal", np.not_equal),
                                 ("_npi_greater", np.greater), ("_npi_greater_equal", np.greater_equal),
                                 ("_npi_less", np.less), ("_npi_less_equal", np.less_equal))]


# -- var and std (ops/numpy_moments.py) -------------------------------------------------------------------------------
def moment_sample(draw, dtype):
    attrs, inputs = np_reduce_sample(draw, dtype, initial=False)
    shape, axis = inputs[0].shape, attrs["axis"]
    count = int(np.prod([shape[a] for a in (range(len(shape)) if axis is None else axis)]))
    attrs["ddof"] = draw(st.integers(0, 1)) if count > 1 else 0     # n - ddof > 0: a finite result
    return attrs, inputs


def _moment_ref(function):
    def ref(p, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.asarray(function(_f64(x), axis=p.axis, ddof=p.ddof, keepdims=p.keepdims))
        return (np.trunc(value) if x.dtype.kind in "iu" else value).astype(x.dtype)
    return ref


# std's gradient is |a - b|'s kink where the drawn values nearly agree, where central differences mean nothing:
# it is checked against NumPy's formula in tests/test_numpy_graph_semantics.py instead
SPECS += [OpSpec(name, _moment_ref(function), moment_sample, dtypes=FLOATS + ("int32",), grad=name == "_npi_var",
                 tol={"float16": (1e-2, 1e-2), "float32": (1e-5, 1e-5)},
                 errors=(Err({"axis": (2,)}, ((2, 3),), match="out of range"),),
                 shapes=(Shp({}, ((2, 3),), ((),)), Shp({"axis": (1,), "keepdims": True}, ((2, 3),), ((2, 1),))))
          for name, function in (("_npi_var", np.var), ("_npi_std", np.std))]
EXEMPT.update({"_backward_npi_var": "internal to _npi_var's gradient; checked through it (grad=True)",
               "_backward_npi_std": "internal to _npi_std's gradient; checked by tests/test_numpy_graph_semantics.py"})


# -- tensorsolve, eig, eigvals, constraint_check (ops/numpy_extras.py) -------------------------------------------------
def tensorsolve_sample(draw, dtype):
    """b of one or two axes, x of one or two, a = a well-conditioned (N, N) system shaped b.shape + x.shape."""
    b_shape = draw(st.sampled_from([(4,), (2, 3), (6,)]))
    n = int(np.prod(b_shape))
    x_shape = draw(st.sampled_from([s for s in [(n,), (2, n // 2), (n // 2, 2)] if int(np.prod(s)) == n]))
    noise = array(draw, dtype, (n, n), "unit") / n       # |noise| <= 3 / n: strictly diagonally dominant
    a = (np.eye(n, dtype=dtype) * 8 + noise).astype(dtype).reshape(b_shape + x_shape)
    return {}, [a, array(draw, dtype, b_shape, "unit")]


def triangular_sample(draw, dtype):
    """A batch of upper triangular matrices of distinct diagonals: real eigenvalues, which LAPACK finds exactly."""
    n = draw(st.integers(1, 3))
    a = np.triu(array(draw, dtype, draw(st.sampled_from([(), (2,)])) + (n, n), "unit"), 1)
    return {}, [a + np.diag(np.arange(1, n + 1) * 4).astype(dtype)]


def _eig_ref(p, a):
    values, vectors = np.linalg.eig(a)      # LAPACK's geev as the kernel's: one order and one sign of vectors
    return values.real.astype(a.dtype), vectors.real.astype(a.dtype)


def _all_true_sample(draw, dtype):
    return {"msg": "never"}, [np.ones(draw(SHAPES), np.bool_)]


SPECS += [
    OpSpec("_npi_tensorsolve", lambda p, a, b: np.linalg.tensorsolve(_f64(a), _f64(b)).astype(a.dtype),
           tensorsolve_sample, dtypes=("float32", "float64"), grad=True, tol={"float32": (1e-4, 1e-4)},
           errors=(Err({}, ((2, 3), (2,)), match="prod"), Err({"a_axes": (5,)}, ((2, 2), (2,)), match="a_axes"),
                   Err({}, ((2, 2), (2,)), dtypes=("float16", "float16"), exc=DTypeError, match="float16")),
           shapes=(Shp({}, ((2, 3, 6), (2, 3)), ((6,),)), Shp({"a_axes": (0,)}, ((6, 2, 3), (2, 3)), ((6,),)))),
    OpSpec("_npi_eig", _eig_ref, triangular_sample, dtypes=("float32", "float64"), tol={"float32": (1e-4, 1e-4)},
           errors=(Err({}, ((2, 3),), match="square"), Err({}, ((2, 2),), dtypes=("float16",), exc=DTypeError,
                                                           match="float16")),
           shapes=(Shp({}, ((4, 3, 3),), ((4, 3), (4, 3, 3))),)),
    OpSpec("_npi_eigvals", lambda p, a: _eig_ref(p, a)[0], triangular_sample, dtypes=("float32", "float64"),
           tol={"float32": (1e-4, 1e-4)}, errors=(Err({}, ((3,),), match="square"),),
           shapes=(Shp({}, ((2, 2),), ((2,),)),)),
    OpSpec("_npx_constraint_check", lambda p, x: np.array(True), _all_true_sample, dtypes=("bool",),
           errors=(Err({}, ((2,),), dtypes=("float32",), exc=DTypeError, match="bool"),),
           shapes=(Shp({}, ((2, 3),), ((),)),)),
]
EXEMPT.update({"_backward_npi_tensorsolve": "internal to _npi_tensorsolve's gradient; checked through it "
                                            "(grad=True)"})


def einsum_sample(draw, dtype):
    """A matrix product with a diagonal, broadcast batch axes behind '...' (one of size 1)."""
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(st.sampled_from([(), (2,), (1,)]))
    return ({"subscripts": "...ii,...ij->...ij", "num_args": 2},
            [array(draw, dtype, batch + (k, k), "unit"), array(draw, dtype, (2,) + (k, m) if batch else (k, m),
                                                              "unit")])


SPECS += [OpSpec("_npi_einsum", lambda p, *xs: np.asarray(np.einsum(p.subscripts, *[_f64(x) for x in xs]))
                 .astype(xs[0].dtype), einsum_sample, dtypes=("float32", "float64"), grad=True,
                 tol={"float32": (1e-5, 1e-5)},
                 errors=(Err({"subscripts": "ij,jk", "num_args": 2}, ((2, 3), (4, 5)), match="sizes 3 and 4"),
                         Err({"subscripts": "ijk", "num_args": 1}, ((2, 3),), match="does not fit")),
                 shapes=(Shp({"subscripts": "...ij,jk", "num_args": 2}, ((5, 2, 3), (3, 4)), ((5, 2, 4),)),
                         Shp({"subscripts": "ii", "num_args": 1}, ((3, 3),), ((),))))]
EXEMPT.update({"_backward_npi_einsum": "internal to _npi_einsum's gradient; checked through it (grad=True)"})


def pinv_sample(with_rcond):
    """Well-conditioned matrices, wide or tall, batched; an rcond array over the batch."""
    def sample(draw, dtype):
        m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        batch = (2,) if with_rcond else draw(st.sampled_from([(), (2,)]))  # numeric checks cannot index a 0-d rcond
        a = array(draw, dtype, batch + (m, n), "unit") / 4 + np.eye(m, n, dtype=dtype)
        if not with_rcond:
            return {"rcond": 1e-6}, [a.astype(dtype)]
        return {}, [a.astype(dtype), np.full(batch, 1e-6, dtype)]
    return sample


def _pinv_ref(p, a, rcond=None):
    return np.linalg.pinv(_f64(a), p.rcond if rcond is None else _f64(rcond)).astype(a.dtype)


SPECS += [OpSpec(name, _pinv_ref, pinv_sample(name == "_npi_pinv"), dtypes=("float32", "float64"), grad=True,
                 grad_inputs=("A",), tol={"float32": (1e-4, 1e-5)},
                 errors=(Err({}, ((3,),) * (2 if name == "_npi_pinv" else 1), match="matrices"),),
                 shapes=(Shp({}, ((2, 3, 4),) + (((2,),) if name == "_npi_pinv" else ()),
                             ((2, 4, 3),)),))
          for name in ("_npi_pinv", "_npi_pinv_scalar_rcond")]
EXEMPT.update({"_backward_npi_pinv": "internal to _npi_pinv's gradient; checked through it (grad=True)",
               "_backward_npi_pinv_scalar_rcond": "internal to _npi_pinv_scalar_rcond's gradient; checked through "
                                                  "it (grad=True)"})


def symmetric_sample(draw, dtype):
    """Symmetric matrices of well-separated eigenvalues (a stable gradient), batched; the triangle read is UPLO's."""
    n = draw(st.integers(1, 3))
    a = array(draw, dtype, draw(st.sampled_from([(), (2,)])) + (n, n), "unit") / 8
    a = a + np.swapaxes(a, -1, -2) + np.diag(np.arange(n) * 3.0).astype(dtype)
    return {"UPLO": draw(st.sampled_from(["L", "U"]))}, [a.astype(dtype)]


def _eigh_ref(p, a):
    values, vectors = np.linalg.eigh(_f64(a), UPLO=p.UPLO)
    rows = np.argmax(np.abs(vectors), axis=-2)[..., None, :]        # signed: largest component positive
    vectors = vectors * np.where(np.take_along_axis(vectors, rows, axis=-2) < 0, -1, 1)
    return values.astype(a.dtype), vectors.astype(a.dtype)


SPECS += [OpSpec("_npi_eigh", _eigh_ref, symmetric_sample, dtypes=("float32", "float64"), grad=True,
                 tol={"float32": (1e-4, 1e-4)}, errors=(Err({}, ((2, 3),), match="square"),
                                                        Err({"UPLO": "X"}, ((2, 2),), match="UPLO")),
                 shapes=(Shp({}, ((2, 3, 3),), ((2, 3), (2, 3, 3))),)),
          OpSpec("_npi_eigvalsh", lambda p, a: _eigh_ref(p, a)[0], symmetric_sample, dtypes=("float32", "float64"),
                 grad=True, tol={"float32": (1e-4, 1e-4)}, errors=(Err({}, ((3,),), match="square"),),
                 shapes=(Shp({}, ((3, 3),), ((3,),)),))]
EXEMPT.update({"_backward_npi_eigh": "internal to _npi_eigh's and _npi_eigvalsh's gradients; checked through them "
                                     "(grad=True)"})
