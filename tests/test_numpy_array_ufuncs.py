"""mx.np ufuncs at their special values, against NumPy (MXNet 1.9.1's kernels are C's: atan2 ...; H7's fixtures in
tests/fixtures/mxnet-1.9.1/np_dispatch record MXNet's arctan2 on signed zeros and infinities)."""
import itertools
import warnings

import numpy as onp
import pytest
from hypothesis import given, settings, strategies as st

import dataflow as mx
from dataflow import np

SPECIALS = [0.0, -0.0, 1.0, -1.0, 2.5, -0.3, onp.inf, -onp.inf, onp.nan]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_arctan2_at_signed_zeros_infinities_and_nan(dtype):
    ys, xs = (onp.array(v, dtype=dtype) for v in zip(*itertools.product(SPECIALS, SPECIALS)))
    got = np.arctan2(np.array(ys, dtype=dtype), np.array(xs, dtype=dtype)).asnumpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = onp.arctan2(ys, xs)
    assert got.dtype == onp.dtype(dtype)
    onp.testing.assert_allclose(got, want, rtol=1e-3, equal_nan=True)
    assert (onp.signbit(got) == onp.signbit(want)).all()      # atan2(-0, +x) is -0, atan2(+-0, -x) is +-pi


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5, width=32), st.floats(-5, 5, width=32)), min_size=1, max_size=6))
def test_arctan2_values_and_gradient(pairs):
    y = onp.array([p[0] for p in pairs], dtype=onp.float32)
    x = onp.array([p[1] for p in pairs], dtype=onp.float32)
    my, mx_ = np.array(y), np.array(x)
    my.attach_grad()
    mx_.attach_grad()
    with mx.autograd.record():
        out = np.arctan2(my, mx_)
    out.backward()
    onp.testing.assert_allclose(out.asnumpy(), onp.arctan2(y, x), rtol=1e-5, atol=1e-6)
    radius = y.astype(onp.float64) ** 2 + x ** 2
    away = radius > 1e-3                            # d atan2 = (x dy - y dx) / (x^2 + y^2), off the origin
    onp.testing.assert_allclose(my.grad.asnumpy()[away], x[away] / radius[away], rtol=1e-3, atol=1e-4)
    onp.testing.assert_allclose(mx_.grad.asnumpy()[away], -y[away] / radius[away], rtol=1e-3, atol=1e-4)
