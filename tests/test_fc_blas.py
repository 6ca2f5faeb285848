"""The small FullyConnected forward made from numba (ops/cpu/fc_blas.py, Note [small FullyConnected]): where it runs
it gives numpy's `np.dot(x, w.T) + bias` bit for bit, so a kernel call may take either path; elsewhere it declines
and writes nothing; it is loaded only once numba is running or after a loop of small forwards."""
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dataflow as mx
from ops.cpu import cblas, fc_blas

pytestmark = pytest.mark.skipif(not cblas.available(), reason="numpy's BLAS is not a bundled OpenBLAS")


@pytest.fixture(scope="module")
def loaded():
    if fc_blas._forward is None:
        fc_blas._load()
    assert fc_blas._forward is not None
    return fc_blas.forward


def _numpy_forward(x, w, bias):
    ref = np.empty((x.shape[0], w.shape[0]), x.dtype)
    np.dot(x, w.T, out=ref)
    if bias is not None:
        ref += bias
    return ref


@settings(deadline=None)
@given(m=st.integers(0, 40), k=st.integers(1, 40), n=st.integers(1, 40), f64=st.booleans(), with_bias=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_equals_numpy_bit_for_bit_or_declines(loaded, m, k, n, f64, with_bias, seed):
    dtype = np.float64 if f64 else np.float32
    rs = np.random.RandomState(seed)
    x, w, b = rs.randn(m, k).astype(dtype), rs.randn(n, k).astype(dtype), rs.randn(n).astype(dtype)
    bias = b if with_bias else None
    out = np.full((m, n), 7.0, dtype)
    took = loaded(x, w, bias, out)
    if took:
        np.testing.assert_array_equal(out, _numpy_forward(x, w, bias))
    else:
        assert (out == 7.0).all()
    # numpy calls another BLAS routine for a length-1 axis (dot, axpy): those shapes are numpy's
    assert took == (m > 0 and k > 1 and n > 1)


def test_the_mlp_layers_shapes_take_it(loaded):
    rs = np.random.RandomState(0)
    for m, k, n in ((1, 512, 256), (1, 256, 128), (1, 128, 2), (64, 512, 256), (100, 200, 128)):
        x, w, b = (rs.uniform(-1, 1, s).astype(np.float32) for s in ((m, k), (n, k), (n,)))
        out = np.empty((m, n), np.float32)
        assert loaded(x, w, b, out)
        np.testing.assert_array_equal(out, _numpy_forward(x, w, b))


def test_declines_what_numpy_computes_otherwise(loaded):
    rs = np.random.RandomState(1)
    w = rs.randn(6, 6).astype(np.float32)
    out = np.zeros((6, 6), np.float32)
    assert not loaded(w, w, None, out)                                  # x is w: numpy's syrk
    x16, w16 = rs.randn(2, 4).astype(np.float16), rs.randn(3, 4).astype(np.float16)
    assert not loaded(x16, w16, None, np.zeros((2, 3), np.float16))     # no float16 BLAS
    strided = rs.randn(4, 8).astype(np.float32)[:, ::2]
    assert not loaded(strided, rs.randn(3, 4).astype(np.float32), None, np.zeros((4, 3), np.float32))
    readonly = rs.randn(2, 4).astype(np.float32)
    readonly.flags.writeable = False
    out = np.zeros((2, 3), np.float32)
    assert not loaded(readonly, rs.randn(3, 4).astype(np.float32), None, out) and not out.any()


def test_fully_connected_gives_the_same_bits_on_either_path(loaded, monkeypatch):
    rs = np.random.RandomState(2)
    cases = [((1, 512), 256), ((3, 7), 5), ((1, 9), 1), ((2, 3, 4), 6)]
    for shape, hidden in cases:
        x = mx.nd.array(rs.uniform(-1, 1, shape).astype(np.float32))
        w = mx.nd.array(rs.uniform(-1, 1, (hidden, int(np.prod(shape[1:])))).astype(np.float32))
        b = mx.nd.array(rs.uniform(-1, 1, hidden).astype(np.float32))
        fast = mx.nd.FullyConnected(x, w, b, num_hidden=hidden).asnumpy()
        with monkeypatch.context() as m:
            m.setattr(fc_blas, "_forward", None)
            m.setattr(fc_blas, "_loading", True)        # counting on, loading off
            slow = mx.nd.FullyConnected(x, w, b, num_hidden=hidden).asnumpy()
        np.testing.assert_array_equal(fast, slow)
        ref = x.asnumpy().reshape(shape[0], -1).astype(np.float64) @ w.asnumpy().T.astype(np.float64) + b.asnumpy()
        np.testing.assert_allclose(fast, ref, rtol=1e-5, atol=1e-5)


def test_loaded_after_a_loop_of_small_forwards_not_before(monkeypatch):
    started = []
    monkeypatch.setattr(fc_blas, "_forward", None)
    monkeypatch.setattr(fc_blas, "_loading", False)
    monkeypatch.setattr(fc_blas, "_calls", 0)
    monkeypatch.setattr(fc_blas, "WARM_CALLS", 50)
    monkeypatch.setattr(fc_blas, "_numba_started", lambda: False)
    monkeypatch.setattr(fc_blas, "_load", lambda: started.append(threading.current_thread().name))
    x, w = np.ones((1, 4), np.float32), np.ones((3, 4), np.float32)
    out = np.zeros((1, 3), np.float32)
    for _ in range(fc_blas.WARM_CALLS - 1):
        assert not fc_blas.forward(x, w, None, out)
    assert not fc_blas._loading and not out.any()
    assert not fc_blas.forward(x, w, None, out)         # the call that starts the loader is still numpy's
    for thread in threading.enumerate():
        if thread.name == "dataflow-fc-blas":
            thread.join(10)
    assert started == ["dataflow-fc-blas"] and fc_blas._loading


def test_loaded_at_once_when_numba_already_runs(monkeypatch):
    started = []
    monkeypatch.setattr(fc_blas, "_forward", None)
    monkeypatch.setattr(fc_blas, "_loading", False)
    monkeypatch.setattr(fc_blas, "_calls", 0)
    monkeypatch.setattr(fc_blas, "_numba_started", lambda: True)
    monkeypatch.setattr(fc_blas, "_load", lambda: started.append(True))
    assert not fc_blas.forward(np.ones((1, 4)), np.ones((3, 4)), None, np.zeros((1, 3)))
    for thread in threading.enumerate():
        if thread.name == "dataflow-fc-blas":
            thread.join(10)
    assert started == [True]
