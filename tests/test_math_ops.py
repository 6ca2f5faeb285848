"""What the op table cannot express for the math ops: MXNet 1.9.1's values at special points (rounding ties, NaN,
division by zero, infinities, integer truncation), zero gradients of the step functions, gradients at ties and
kinks, the comparison dunders of NDArray and Symbol, and the fast float paths' fallbacks.

Numbers marked "MXNet 1.9.1" were computed once with real MXNet 1.9.1 (pip wheel, MXNET_MKLDNN_ENABLED=0 for its
native CPU kernels) and pasted here.
"""
import json

import numpy as np
import pytest
import scipy.special

import dataflow as mx
from ops import registry
from ops.cpu import elemwise as cpu
from ops.errors import DTypeError
from ops.registry import WRITE, OpContext
from tests import op_specs  # noqa: F401 - loads the table (and tests.specs_math) in the right order

nd, internal = mx.nd, mx.nd._internal
NAN, INF = np.nan, np.inf


def _eq(got, want, dtype=None):
    got = got.asnumpy() if hasattr(got, "asnumpy") else got
    if dtype is not None:
        assert got.dtype == np.dtype(dtype), got.dtype
    np.testing.assert_array_equal(got, np.asarray(want, dtype=got.dtype))


# ---- values at special points (MXNet 1.9.1) ----------------------------------------------------------------------
HALVES = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]


def test_rounding_ties_and_nan_rules():
    _eq(nd.round(nd.array(HALVES)), [-3, -2, -1, 1, 2, 3])           # halves away from zero
    _eq(nd.rint(nd.array(HALVES)), [-3, -2, -1, 0, 1, 2])            # halves down, toward -inf
    _eq(nd.rint(nd.array([-2.5, 2.5, 0.5], dtype="float16")), [-3, 2, 0], "float16")
    _eq(nd.fix(nd.array([-2.5, -1.7, 1.7])), [-2, -1, 1])
    _eq(nd.sign(nd.array([NAN, -0.0, -3, 2])), [0, 0, -1, 1])
    _eq(nd.relu(nd.array([NAN, -1, 1])), [NAN, 0, 1])
    _eq(nd.logical_not(nd.array([NAN, 0.5, 0])), [0, 0, 1])
    _eq(nd.logical_not(nd.array([-1, 0, 5], dtype="int32")), [0, 1, 0], "int32")


def test_integer_data_goes_through_float64_and_truncates():
    # MXNet 1.9.1: the int kernels call the double functions and cast back
    _eq(nd.exp(nd.array([17, 20, 0, -2], dtype="int64")), [24154952, 485165195, 1, 0], "int64")
    _eq(nd.sqrt(nd.array([16777217, 20, 46341], dtype="int32")), [4096, 4, 215], "int32")
    _eq(nd.log(nd.array([16777217, 20, 46341], dtype="int32")), [16, 2, 10], "int32")
    _eq(nd.cbrt(nd.array([8, 27, -64, 1000], dtype="int32")), [2, 3, -4, 10], "int32")
    _eq(nd.reciprocal(nd.array([1, -1, 2, -2], dtype="int32")), [1, -1, 0, 0], "int32")
    _eq(nd.rsqrt(nd.array([1, 4], dtype="int32")), [1, 0], "int32")
    _eq(nd.gamma(nd.array([1, 3, 5], dtype="uint8")), [1, 2, 24], "uint8")
    _eq(nd.sigmoid(nd.array([0, 1, 3, 200], dtype="uint8")), [0, 0, 0, 1], "uint8")
    _eq(nd.degrees(nd.array([-2, 0, 1, 3], dtype="int32")), [-114, 0, 57, 171], "int32")
    _eq(nd.square(nd.array([100, -100, 12], dtype="int8")), [16, 16, -112], "int8")     # C++ int arithmetic wraps


def test_float_constants_and_special_functions():
    _eq(nd.degrees(nd.array([1.0], dtype="float64")), [57.2957763671875])      # float32 constant, also in float64
    _eq(nd.radians(nd.array([1.0], dtype="float64")), [0.01745329238474369])
    np.testing.assert_allclose(nd.gamma(nd.array([-2.5, -0.5, 0.5, -1])).asnumpy(),
                               [-0.9453086256980896, -3.544908046722412, 1.772453784942627, NAN], rtol=1e-6)
    np.testing.assert_allclose(nd.gammaln(nd.array([-2.5, -0.5, 0.5, -1])).asnumpy(),
                               [-0.056243713945150375, 1.2655121088027954, 0.5723649263381958, INF], rtol=1e-6)
    np.testing.assert_allclose(nd.erfinv(nd.array([-0.999, -0.5, 0, 0.3, 0.9999])).asnumpy(),
                               [-2.326756238937378, -0.4769362807273865, 0, 0.27246272563934326, 2.751035451889038],
                               rtol=1e-6)
    _eq(nd.erfinv(nd.array([-1, 1, 2, NAN])), [-INF, INF, NAN, NAN])
    np.testing.assert_allclose(nd.hard_sigmoid(nd.array([-3, -1, 0, 1, 3.]), alpha=0.5, beta=0.1).asnumpy(),
                               [0, 0, 0.1, 0.6, 1], rtol=1e-7)
    _eq(nd.hard_sigmoid(nd.array([1.0], dtype="float64")), [0.7000000029802322])   # alpha is float32(0.2)


def test_mod_takes_the_divisors_sign_and_is_zero_for_a_zero_divisor():
    a, b = [7, -7, 7, -7, 0, 5, 3], [3, 3, -3, -3, 3, 0, 0]
    for dtype in ("float32", "float64", "float16", "int32", "int64", "int8"):
        want = [1, 2, -2, -1, 0, 0, 0]                               # MXNet 1.9.1, every dtype
        _eq(internal._mod(nd.array(a, dtype=dtype), nd.array(b, dtype=dtype)), want, dtype)
        _eq(nd.broadcast_mod(nd.array(a, dtype=dtype), nd.array(b, dtype=dtype)), want, dtype)
    x = nd.array([7, -7, 0, 5], dtype="int32")
    _eq(internal._mod_scalar(x, scalar=-3), [-2, -1, 0, -1], "int32")
    _eq(internal._mod_scalar(x, scalar=2.5), [1, 1, 0, 1], "int32")                      # is_int: 2.5 -> 2
    _eq(internal._mod_scalar(x, scalar=2.5, is_int=False), [2, 0.5, 0, 0], "float64")
    _eq(internal._rmod_scalar(nd.array([3, -3, 3, -3, 0]), scalar=7), [1, -2, 1, -2, 0])
    _eq(internal._mod_scalar(nd.array([7, 250, 9], dtype="uint8"), scalar=-3), [7, 250, 9], "uint8")  # -3 -> 253
    _eq(internal._mod(nd.array([5.5, -5.5, 5.5, -5.5, NAN, 1.0]), nd.array([2, 2, -2, -2, 1, NAN])),
        [1.5, 0.5, -0.5, -1.5, NAN, NAN])
    _eq(internal._mod(nd.array([5.5, -5.5, INF]), nd.array([INF, INF, 2])), [5.5, INF, NAN])
    _eq(internal._mod(nd.array([-1e-8, 1e-8]), nd.array([3, -3])), [3, -3])


def test_mod_float32_fallback_beyond_the_fast_range():
    # |a / b| >= 2**28 and infinite divisors take the exact path: fmod in float64 is exact for float32 operands
    a = np.array([1e30, -1e30, 3e9, 7.5, -7.5, 0.0], np.float32)
    b = np.array([3, 3, -7, -INF, -INF, -INF], np.float32)
    out = np.empty_like(a)
    cpu._mod(OpContext(), None, [a, b], [out], [WRITE])
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    r = np.fmod(a64, b64)
    want = np.where((r != 0) & ((r < 0) != (b64 < 0)), r + b64, r).astype(np.float32)
    np.testing.assert_array_equal(out, want)


def test_maximum_minimum_propagate_nan_comparisons_and_logic_on_nan():
    a, b = nd.array([5.5, -5.5, NAN, 1.0]), nd.array([2, 2, 1, NAN])
    _eq(internal._maximum(a, b), [5.5, 2, NAN, NAN])
    _eq(internal._minimum(a, b), [2, -5.5, NAN, NAN])
    _eq(internal._equal(a, b), [0, 0, 0, 0])
    _eq(internal._not_equal(a, b), [1, 1, 1, 1])
    _eq(internal._not_equal_scalar(nd.array([NAN, 1]), scalar=1), [1, 0])
    _eq(internal._logical_and(a, b), [1, 1, 1, 1])                          # NaN is true
    _eq(internal._logical_xor(a, b), [0, 0, 0, 0])
    _eq(internal._maximum_scalar(nd.array([7, 0], dtype="uint8"), scalar=-3), [253, 253], "uint8")
    _eq(internal._hypot(nd.array([7, 0, 5], dtype="int32"), nd.array([3, 3, 0], dtype="int32")), [7, 3, 5], "int32")
    _eq(internal._hypot(nd.array([INF, 3], dtype="float32"), nd.array([NAN, 4], dtype="float32")), [INF, 5])


def test_comparisons_return_the_input_dtype_and_bool_scalars_give_int64():
    for dtype in ("float16", "float64", "int8", "uint8", "int64"):
        x, y = nd.array([1, 2, 3], dtype=dtype), nd.array([3, 2, 1], dtype=dtype)
        _eq(nd.broadcast_greater(x, y), [0, 0, 1], dtype)
        _eq(internal._lesser_equal(x, y), [1, 1, 0], dtype)
    _eq(internal._equal_scalar(nd.array([True, False], dtype="bool"), scalar=1), [1, 0], "int64")
    _eq(internal._greater_scalar(nd.array([1, 3], dtype="int32"), scalar=2.5, is_int=False), [0, 1], "float64")


def test_bool_data_and_int_hard_sigmoid_are_rejected_naming_the_op():
    t = nd.array([True, False], dtype="bool")
    for call, op in ((lambda: nd.abs(t), "abs"), (lambda: nd.logical_not(t), "logical_not"),
                     (lambda: internal._equal(t, t), "_equal"), (lambda: nd.broadcast_logical_and(t, t),
                                                          "broadcast_logical_and")):
        with pytest.raises(DTypeError, match="%s.*boolean" % op):
            call()
    with pytest.raises(DTypeError, match="hard_sigmoid.*int32"):
        nd.hard_sigmoid(nd.array([1, 2], dtype="int32"))
    x = mx.sym.var("x", dtype="bool")
    with pytest.raises(DTypeError, match="sqrt.*boolean"):
        mx.sym.sqrt(x, name="root").infer_type()


# ---- gradients ---------------------------------------------------------------------------------------------------
def _grads(fn, *arrays, **kwargs):
    xs = [nd.array(a, dtype="float64") for a in arrays]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record():
        y = fn(*xs, **kwargs)
    y.backward(nd.ones_like(y))
    return [x.grad.asnumpy() for x in xs]


STEP_OPS = ("sign", "round", "rint", "ceil", "floor", "trunc", "fix", "logical_not")


@pytest.mark.parametrize("op", STEP_OPS)
def test_step_functions_have_zero_gradient(op):
    np.testing.assert_array_equal(_grads(getattr(nd, op), [-2.5, -0.5, 0.0, 0.5, 2.0])[0], 0)


@pytest.mark.parametrize("op", ["_equal", "_not_equal", "_greater", "_greater_equal", "_lesser", "_lesser_equal",
                                "_logical_and", "_logical_or", "_logical_xor", "broadcast_equal",
                                "broadcast_logical_xor"])
def test_comparisons_have_zero_gradient(op):
    fn = getattr(internal, op, None) or getattr(nd, op)
    for g in _grads(fn, [7, -7, 2, 5.5], [3, 3, 2, 2]):
        np.testing.assert_array_equal(g, 0)
    scalar_op = getattr(internal, op.replace("broadcast", "") + "_scalar") if op.startswith("_") else None
    if scalar_op is not None:
        np.testing.assert_array_equal(_grads(scalar_op, [7, 2], scalar=2)[0], 0)


def test_gradients_at_ties_kinks_and_jumps_match_mxnet():
    a, b = [7, -7, 7, -7, 2, 5.5], [3, 3, -3, -3, 2, 2]
    # MXNet 1.9.1
    for fn in (internal._mod, nd.broadcast_mod):
        ga, gb = _grads(fn, a, b)
        _eq(ga, [1, 1, 1, 1, 1, 1])
        _eq(gb, [-2, 3, 3, -2, -1, -2])                                   # -floor(a / b)
    for fn in (internal._maximum, nd.broadcast_maximum):
        _eq(np.array(_grads(fn, a, b)), [[1, 0, 1, 0, 1, 1], [0, 1, 0, 1, 0, 0]])   # a tie goes to lhs
    _eq(np.array(_grads(internal._minimum, a, b)), [[0, 1, 0, 1, 1, 0], [1, 0, 1, 0, 0, 1]])
    _eq(_grads(internal._maximum_scalar, a, scalar=2)[0], [1, 0, 1, 0, 1, 1])
    _eq(_grads(internal._minimum_scalar, a, scalar=2)[0], [0, 1, 0, 1, 1, 0])
    _eq(_grads(internal._rmod_scalar, a, scalar=2)[0], [0, 1, 0, 1, -1, 0])     # -floor(2 / x)
    _eq(_grads(internal._mod_scalar, a, scalar=2)[0], [1, 1, 1, 1, 1, 1])
    x = [-2.5, -0.5, 0.0, 0.5, 2.0, 0.25]
    _eq(_grads(nd.abs, x)[0], [-1, -1, 0, 1, 1, 1])
    _eq(_grads(nd.relu, x)[0], [0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(_grads(nd.hard_sigmoid, x)[0], [0] + [0.20000000298023224] * 5)
    _eq(_grads(nd.hard_sigmoid, [-2.5, 2.5, -3, 3])[0], [0, 0, 0, 0])     # the corners are outside
    # MXNet computes digamma in float32 even for float64 data (psi(0.5) = -1.963509941769495 there); ours is float64
    np.testing.assert_allclose(_grads(nd.gamma, [0.5, 2.5, 3.0])[0],
                               [-3.4802307575806073, 0.9347346336255761, 1.8455686701969343], rtol=2e-7)
    np.testing.assert_allclose(_grads(nd.gammaln, [0.5, 2.5, 3.0])[0],
                               [-1.963509941769495, 0.7031567248971711, 0.9227843350984671], rtol=2e-7)


def test_backward_gammaln_is_dy_times_digamma():
    x = np.concatenate([np.linspace(-9.9, 30, 4001), [-2.5, -0.5, 0.5, 1, 2, 1e-3]])
    x = x[np.abs(x - np.round(x)) > 1e-6]
    dy = np.linspace(0.5, 2, x.size)
    for dtype, rtol in (("float64", 1e-10), ("float32", 1e-5)):
        out = np.empty(x.shape, dtype)
        registry.get("_backward_gammaln").cpu(OpContext(), None, [dy.astype(dtype), x.astype(dtype)], [out],
                                              [WRITE])
        want = dy.astype(dtype) * scipy.special.psi(x.astype(dtype).astype(np.float64))
        np.testing.assert_allclose(out, want, rtol=rtol, atol=1e-6)


# ---- operators on NDArray and Symbol -----------------------------------------------------------------------------
def test_ndarray_comparison_operators_return_ndarrays():
    x, y = nd.array([1, 2, 3], dtype="int32"), nd.array([3, 2, 1], dtype="int32")
    # MXNet 1.9.1
    for got, want in ((x == y, [0, 1, 0]), (x != 2, [1, 0, 1]), (2 < x, [0, 0, 1]), (x >= y, [0, 1, 1]),
                      (x <= 2, [1, 1, 0]), (x > y, [0, 0, 1]), (x % 2, [1, 0, 1]), (7 % x, [0, 1, 1]),
                      (x ** y, [1, 4, 3]), (x == np.array([1, 0, 3]), [1, 0, 1])):
        assert isinstance(got, nd.NDArray)
        _eq(got, want, "int32")
    assert (x == None) is False and (x != None) is True              # noqa: E711 - identity fallback
    with pytest.raises(TypeError):
        x < None                                                        # noqa: B015
    assert hash(x) == hash(x) and hash(x) != hash(y)
    assert {x: 1, y: 2}[x] == 1 and x in [x] and x in {x}


def test_symbol_comparison_operators_build_mxnet_nodes():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    # MXNet 1.9.1: names, ops and attrs
    cases = [(lambda: a == b, "_equal0", "_equal", None), (lambda: a != b, "_not_equal0", "_not_equal", None),
             (lambda: a > b, "_greater0", "_greater", None),
             (lambda: a >= b, "_greater_equal0", "_greater_equal", None),
             (lambda: a < b, "_lesser0", "_lesser", None), (lambda: a <= b, "_lesser_equal0", "_lesser_equal", None),
             (lambda: a == 2, "_equal_scalar0", "_equal_scalar", {"scalar": "2"}),
             (lambda: 2 < a, "_greater_scalar0", "_greater_scalar", {"scalar": "2"}),
             (lambda: a % b, "_mod0", "_mod", None), (lambda: a % 2, "_modscalar0", "_mod_scalar", {"scalar": "2"}),
             (lambda: 2 % a, "_rmodscalar0", "_rmod_scalar", {"scalar": "2"}),
             (lambda: a * 2.5, "_mulscalar0", "_mul_scalar", {"scalar": "2.5"})]
    with mx.name.NameManager():
        syms = [build() for build, _, _, _ in cases]
    for sym, (_, name, op, attrs) in zip(syms, cases):
        node = json.loads(sym.tojson())["nodes"][-1]
        assert (sym.name, node["op"], node.get("attrs")) == (name, op, attrs)
    assert hash(a) == hash(a) and {a: 1}[a] == 1
    ex = ((a > b) * a + (a <= b) * b).bind(mx.cpu(), {"a": nd.array([1, 5]), "b": nd.array([3, 2])})
    _eq(ex.forward()[0], [3, 5])
