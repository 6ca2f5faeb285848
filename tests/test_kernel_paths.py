"""The float paths of the elementwise and activation kernels (ops/cpu/float_paths.py, vmath.ROUTES, Note
[branch-free loop bodies] in ops/cpu/activation.py): each gives numpy's values, and in place what it gives out of
place, on both vmath routes."""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.special
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ops.cpu import activation, vmath
from ops.cpu import elemwise as cpu
from ops.cpu.common import loop
from ops.registry import ADD, WRITE

F32, F64 = np.float32, np.float64


def _round_half_away(x):
    t = np.trunc(x)
    return np.where(np.abs(x - t) >= 0.5, t + np.sign(x), t)


def _rint_half_down(x):
    # in x's own dtype, as MXNet's kernel: float32 -0.49999997 - floor(..) rounds to 0.5, giving -1
    f = np.floor(x)
    return np.where(x - f <= 0.5, f, f + 1).astype(F64)


# kernel name -> float64 reference (the values MXNet's kernels give), relative tolerance in the data's eps
UNARY = {
    "sign": (lambda x: np.nan_to_num(np.sign(x), nan=0.0), 0),
    "round": (_round_half_away, 0),
    "rint": (_rint_half_down, 0),
    "sqrt": (np.sqrt, 0.5),
    "rsqrt": (lambda x: 1 / np.sqrt(x), 1),
    "reciprocal": (lambda x: 1 / x, 0.5),
    "relu_": (lambda x: np.where(np.isnan(x), x, np.maximum(x, 0)), 0),
    "exp": (np.exp, 1),
    "expm1": (np.expm1, 4),
    "log": (np.log, 4),
    "log1p": (np.log1p, 4),
    "tanh": (np.tanh, 4),
}
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999997, -0.49999997, 1e-30, 3.0]


@pytest.fixture(params=[False, True], ids=["avx2-host", "avx512-host"])
def route(request, monkeypatch):
    """vmath.ROUTES as a host with (True) or without numpy's AVX-512 loops gets them."""
    monkeypatch.setattr(vmath, "ROUTES", vmath.choose_routes(request.param))
    return request.param


def run(kernel, inputs, out, req=WRITE, p=None):
    kernel(None, p, inputs, [out], [req])
    return out


def check_close(name, x, y, ulps):
    ref, _ = UNARY[name]
    with np.errstate(all="ignore"):
        want = ref(x if name == "rint" else x.astype(F64))
    eps = np.finfo(x.dtype).eps
    finite = np.isfinite(want)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(want), err_msg=name)
    np.testing.assert_array_equal(y[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)], err_msg=name)
    tol = ulps * eps * np.abs(want[finite]) + np.finfo(x.dtype).smallest_subnormal
    assert np.all(np.abs(y[finite] - want[finite]) <= tol), name


def data(dtype, n=5000, seed=0):
    x = np.random.RandomState(seed).uniform(-20, 20, n)
    x[: len(SPECIAL)] = SPECIAL
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_values_and_in_place(name, dtype, route):
    kernel = getattr(cpu, name)
    x = data(dtype)
    if name in ("log", "log1p", "sqrt", "rsqrt"):
        x = np.abs(x)
    with np.errstate(all="ignore"):
        y = run(kernel, [x], np.empty_like(x))
    check_close(name, x, y, UNARY[name][1])
    inplace = x.copy()
    run(kernel, [inplace], inplace)
    np.testing.assert_array_equal(inplace, y)
    assert np.array_equal(np.signbit(inplace), np.signbit(y))
    added = np.ones_like(x)
    run(kernel, [x], added, req=ADD)
    np.testing.assert_array_equal(added, (1 + y).astype(dtype))


@pytest.mark.parametrize("name", ["sqrt", "reciprocal", "relu_"])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_numpy_paths_give_the_scalar_functions_bits(name, dtype):
    # float data goes to numpy's SIMD loop; the DUFunc (the op's scalar function) must agree bit for bit
    x = data(dtype, seed=1)
    scalar = {"sqrt": cpu._sqrt, "reciprocal": cpu._reciprocal, "relu_": cpu.relu}[name]
    uf, sig = loop(scalar, np.dtype(dtype))        # the DUFunc's loop in the data's dtype, as its kernel runs it
    with np.errstate(all="ignore"):
        want = uf(x, signature=sig)
        got = run(getattr(cpu, name), [x], np.empty_like(x))
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))


ACTIVATION_GRADS = ["relu", "sigmoid", "tanh", "softrelu", "softsign"]
LEAKY = ["leaky", "elu", "selu", "gelu"]
GRAD_REF = {
    "relu": lambda dy, x, y: np.where(x > 0, dy, 0),
    "sigmoid": lambda dy, x, y: dy * y * (1 - y),
    "tanh": lambda dy, x, y: dy * (1 - y * y),
    "softrelu": lambda dy, x, y: dy * scipy.special.expit(x),
    "softsign": lambda dy, x, y: dy / (1 + np.abs(x)) ** 2,
    "leaky": lambda dy, x, y: np.where(x > 0, dy, 0.25 * dy),
    "elu": lambda dy, x, y: np.where(x > 0, dy, 0.25 * np.exp(x) * dy),
    "selu": lambda dy, x, y: np.where(x > 0, activation.SELU_LAMBDA * dy,
                                      activation.SELU_LAMBDA * activation.SELU_ALPHA * np.exp(x) * dy),
    "gelu": lambda dy, x, y: dy * (0.5 * (1 + scipy.special.erf(x / math.sqrt(2)))
                                   + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)),
}
FORWARD_REF = {
    "relu": lambda x: np.maximum(x, 0), "sigmoid": scipy.special.expit, "tanh": np.tanh,
    "softrelu": lambda x: np.logaddexp(x, 0), "softsign": lambda x: x / (1 + np.abs(x)),
    "leaky": lambda x: np.where(x > 0, x, 0.25 * x), "elu": lambda x: np.where(x > 0, x, 0.25 * np.expm1(x)),
    "selu": lambda x: activation.SELU_LAMBDA * np.where(x > 0, x, activation.SELU_ALPHA * np.expm1(x)),
    "gelu": lambda x: 0.5 * x * (1 + scipy.special.erf(x / math.sqrt(2))),
}


def forward(name, x, out):
    p = SimpleNamespace(act_type=name, slope=0.25)
    (activation.leaky_relu if name in LEAKY else activation.activation)(None, p, [x], [out], [WRITE])
    return out


def backward(name, dy, x, y, out, req=WRITE):
    p = SimpleNamespace(act_type=name, slope=0.25)
    if name in LEAKY:
        activation.backward_leaky_relu(None, p, [dy, x, y], [out], [req])
    else:
        activation.backward_activation(None, p, [dy, x if name == "softsign" else y], [out], [req])
    return out


@pytest.mark.parametrize("name", ACTIVATION_GRADS + LEAKY)
@settings(deadline=None, max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=arrays(F32, st.integers(1, 300), elements=st.floats(-30, 30, width=32)),
       seed=st.integers(0, 2 ** 31 - 1))
def test_activation_in_place_is_out_of_place(name, x, seed, route):
    dy = np.random.RandomState(seed).uniform(-2, 2, x.shape).astype(F32)
    y = forward(name, x, np.empty_like(x))
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(y, FORWARD_REF[name](x.astype(F64)), rtol=1e-5, atol=1e-6)
    y_inplace = x.copy()
    np.testing.assert_array_equal(forward(name, y_inplace, y_inplace), y)
    g = backward(name, dy, x, y, np.empty_like(x))
    with np.errstate(all="ignore"):
        want = GRAD_REF[name](dy.astype(F64), x.astype(F64), y.astype(F64))
    np.testing.assert_allclose(g, want, rtol=2e-5, atol=2e-6)
    # In place, LLVM runs its scalar loop, which may contract a * b + c into an FMA where the vector loop did not
    # (vmath.JIT_FLAGS allow contraction): equal to a rounding or two.
    for aliased in ("dy", "y"):        # the gradient written over its head gradient, or over the output it reads
        dy2, y2 = dy.copy(), y.copy()
        target = dy2 if aliased == "dy" else y2
        if name == "softsign" and aliased == "y":
            continue                   # softsign's gradient reads the input, not the output
        got = backward(name, dy2, x, y2, target)
        np.testing.assert_allclose(got, g, rtol=3e-7, atol=1e-37, err_msg=aliased)
    acc = np.ones_like(x)
    np.testing.assert_allclose(backward(name, dy, x, y, acc, req=ADD), 1 + g, rtol=3e-7, atol=1e-7)


BINARY = {"elemwise_add": cpu.add, "elemwise_sub": cpu.sub, "elemwise_mul": cpu.mul, "elemwise_div": cpu.div,
          "broadcast_add": cpu.add, "broadcast_div": cpu.div}
SCALAR = {"_plus_scalar": (cpu.add, False), "_rminus_scalar": (cpu.sub, True), "_mul_scalar": (cpu.mul, False),
          "_rdiv_scalar": (cpu.div, True)}


@pytest.mark.parametrize("dtype", [np.float16, F32, F64])
@pytest.mark.parametrize("name", list(BINARY))
def test_float_arithmetic_gives_the_dufuncs_bits_in_place_too(name, dtype):
    # numpy's IEEE arithmetic in place of the DUFunc: the same bits (float16 through float32, as the DUFunc)
    a, b = data(dtype, seed=2), data(dtype, seed=3)[::-1].copy()
    if name.startswith("broadcast"):
        a, b = a[:4900].reshape(70, 70), b[:70].reshape(1, 70)
    cdt = np.dtype(F32 if dtype == np.float16 else dtype)
    uf, sig = loop(BINARY[name], cdt)
    with np.errstate(all="ignore"):
        want = uf(a.astype(cdt), b.astype(cdt), signature=sig).astype(dtype)
        got = run(getattr(cpu, name), [a, b], np.empty_like(a))
        in_place = a.copy()
        run(getattr(cpu, name), [in_place, b], in_place)
    for result in (got, in_place):
        np.testing.assert_array_equal(result, want)
        assert np.array_equal(np.signbit(result), np.signbit(want))


@pytest.mark.parametrize("name", list(SCALAR))
def test_float_arithmetic_with_a_scalar(name):
    f, reverse = SCALAR[name]
    x = data(F32, seed=4)
    p = SimpleNamespace(scalar=0.3)
    uf, sig = loop(f, np.dtype(F32))
    s = np.float32(0.3)
    with np.errstate(all="ignore"):
        want = uf(s, x, signature=sig) if reverse else uf(x, s, signature=sig)
        np.testing.assert_array_equal(run(getattr(cpu, name), [x], np.empty_like(x), p=p), want)
        y = x.copy()
        np.testing.assert_array_equal(run(getattr(cpu, name), [y], y, p=p), want)
