"""The CPU kernels' direct paths (issue 15): quiet floating point without np.errstate, FullyConnected and relu
straight into their output for req write/inplace, and the thread-local default context.

Truth: numpy computing the same formula, and numpy's own warning machinery (a warning that leaks out of a kernel
fails under `warnings.simplefilter("error")`; a kernel that leaves the caller's settings changed fails the
np.geterr() checks)."""
import threading
import warnings

import numpy as np
import pytest

import dataflow as mx
from ops.cpu import activation as cpu_activation
from ops.cpu import common
from ops.cpu import nn as cpu_nn
from ops.registry import ADD, INPLACE, NULL, WRITE


class _Params:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def _fc_params(num_hidden, no_bias=False, flatten=True):
    return _Params(num_hidden=num_hidden, no_bias=no_bias, flatten=flatten)


# ---- quiet floating point ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_kernels_overflow_silently_and_leave_the_callers_settings(dtype):
    big = np.finfo(dtype).max
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            before = np.geterr()
            x = mx.nd.array(np.array([big, -big, 0.0], dtype), dtype=dtype)
            y = (x * x).asnumpy()                        # overflow: inf, no warning, no FloatingPointError
            z = (x / mx.nd.zeros((3,), dtype=dtype)).asnumpy()   # x / 0 and 0 / 0
            logs = mx.nd.log(x).asnumpy()                # log(-big) and log(0): nan and -inf
            roots = mx.nd.sqrt(x).asnumpy()
            scaled = (x * 4).asnumpy()                   # a scalar op
            assert np.geterr() == before
            with pytest.raises(FloatingPointError):     # the caller's own numpy still raises
                np.array([big], dtype) * np.array([big], dtype)
    np.testing.assert_array_equal(y, np.array([np.inf, np.inf, 0], dtype))
    assert np.isposinf(z[0]) and np.isneginf(z[1]) and np.isnan(z[2])
    assert np.isnan(logs[1]) and np.isneginf(logs[2]) and np.isnan(roots[1]) and roots[2] == 0
    np.testing.assert_array_equal(scaled, np.array([np.inf, -np.inf, 0], dtype))


def test_quiet_fp_restores_the_settings_it_found():
    with np.errstate(over="raise", invalid="warn"):
        before = np.geterr()
        token = common.quiet_fp()
        try:
            assert set(np.geterr().values()) == {"ignore"}
            np.array([3e38], np.float32) * np.float32(10)
        finally:
            common.loud_fp(token)
        assert np.geterr() == before


def test_quiet_fp_is_per_thread():
    """Another thread keeps numpy's default settings while this one runs quiet."""
    seen = []
    token = common.quiet_fp()
    try:
        t = threading.Thread(target=lambda: seen.append(np.geterr()))
        t.start()
        t.join()
        assert np.geterr()["over"] == "ignore"
    finally:
        common.loud_fp(token)
    assert seen[0]["over"] == "warn" and seen[0]["divide"] == "warn"


@pytest.mark.parametrize("req", [WRITE, ADD, NULL])
def test_in_compute_dtype_honours_req_in_float16(req):
    out = np.full((4,), 2, np.float16)
    common.in_compute_dtype(out, req, lambda dst: np.copyto(dst, np.arange(4, dtype=dst.dtype)))
    want = {WRITE: np.arange(4), ADD: 2 + np.arange(4), NULL: np.full(4, 2)}[req]
    np.testing.assert_array_equal(out, want.astype(np.float16))


# ---- FullyConnected ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("req", [WRITE, INPLACE, ADD, NULL])
@pytest.mark.parametrize("shape,flatten", [((3, 5), True), ((3, 5), False), ((2, 3, 5), True), ((2, 3, 5), False)])
@pytest.mark.parametrize("no_bias", [False, True])
def test_fully_connected_against_numpy(req, shape, flatten, no_bias):
    rs = np.random.RandomState(0)
    x = rs.uniform(-1, 1, shape).astype(np.float32)
    k = int(np.prod(shape[1:])) if flatten else shape[-1]
    w = rs.uniform(-1, 1, (4, k)).astype(np.float32)
    b = rs.uniform(-1, 1, (4,)).astype(np.float32)
    rows = x.reshape(shape[0], -1) if flatten else x.reshape(-1, k)
    want = rows @ w.T + (0 if no_bias else b)
    out_shape = (shape[0], 4) if flatten else shape[:-1] + (4,)
    start = rs.uniform(-1, 1, out_shape).astype(np.float32)
    out = start.copy()
    inputs = [x, w] if no_bias else [x, w, b]
    cpu_nn.fully_connected(None, _fc_params(4, no_bias, flatten), inputs, [out], [req])
    expect = {WRITE: want.reshape(out_shape), INPLACE: want.reshape(out_shape), ADD: start + want.reshape(out_shape),
              NULL: start}[req]
    np.testing.assert_allclose(out, expect, rtol=1e-5, atol=1e-6)


def test_fully_connected_float16_rounds_once():
    rs = np.random.RandomState(1)
    x, w, b = (rs.uniform(-1, 1, s).astype(np.float16) for s in ((2, 8), (3, 8), (3,)))
    out = np.empty((2, 3), np.float16)
    cpu_nn.fully_connected(None, _fc_params(3), [x, w, b], [out], [WRITE])
    want = (x.astype(np.float32) @ w.astype(np.float32).T + b.astype(np.float32)).astype(np.float16)
    np.testing.assert_array_equal(out, want)


# ---- relu (Activation) -------------------------------------------------------------------------------------------
_SPECIAL = [np.nan, -np.inf, np.inf, -0.0, 0.0, -1.5, 2.5]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32])
@pytest.mark.parametrize("req", [WRITE, ADD, NULL])
def test_relu_activation_against_numpy(dtype, req):
    vals = _SPECIAL if np.dtype(dtype).kind == "f" else [-3, 0, 4]
    x = np.array(vals, dtype)
    start = np.ones_like(x)
    out = start.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cpu_activation.activation(None, _Params(act_type="relu"), [x], [out], [req])
    relu = np.where(np.isnan(x), x, np.where(x > 0, x, 0)).astype(dtype)    # NaN stays NaN (MXNet 1.9.1)
    expect = {WRITE: relu, ADD: start + relu, NULL: start}[req]
    np.testing.assert_array_equal(out, expect)
    if req == WRITE and np.dtype(dtype).kind == "f":
        assert not np.signbit(out[x == 0]).any()       # -0.0 gives +0, as max(x, 0) in C++ does


def test_relu_activation_in_place():
    x = np.array(_SPECIAL, np.float32)
    want = np.where(np.isnan(x), x, np.maximum(x, 0))
    cpu_activation.activation(None, _Params(act_type="relu"), [x], [x], [INPLACE])
    np.testing.assert_array_equal(x, want)


# ---- the default context -----------------------------------------------------------------------------------------
def test_default_context_is_per_thread():
    seen = {}

    def other():
        seen["before"] = mx.current_context()
        with mx.cpu(5):
            seen["inside"] = mx.current_context()
        seen["after"] = mx.current_context()

    with mx.cpu(3):
        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert mx.current_context() == mx.cpu(3)
    assert seen == {"before": mx.cpu(0), "inside": mx.cpu(5), "after": mx.cpu(0)}
    assert mx.current_context() == mx.cpu(0)
    assert mx.Context.default_ctx == mx.cpu(0)
