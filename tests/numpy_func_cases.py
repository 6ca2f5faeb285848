"""Shared pieces of the `mx.np` function tests (tests/test_numpy_manipulation.py, test_numpy_math.py,
test_numpy_linalg.py): comparing with NumPy, hypothesis strategies, and the numeric-gradient check."""
import numpy as onp
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dataflow as mx
from dataflow import autograd, np

floats = st.floats(-3, 3, width=32)
# zero-dim and zero-size shapes included
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
nonempty = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def host(shape, elements=floats, dtype=onp.float32):
    return hnp.arrays(dtype, shape, elements=elements)


def check(ours, expected, rtol=1e-5, atol=1e-6, dtype=True):
    """`ours` is an mx.np.ndarray equal to `expected` in shape, values and (unless told) dtype."""
    assert isinstance(ours, np.ndarray), type(ours)
    expected = onp.asarray(expected)
    assert ours.shape == expected.shape, (ours.shape, expected.shape)
    if dtype:
        assert ours.dtype == expected.dtype, (ours.dtype, expected.dtype)
    onp.testing.assert_allclose(ours.asnumpy(), expected, rtol=rtol, atol=atol)


def check_all(ours, expected, **kwargs):
    assert isinstance(ours, (list, tuple)) and len(ours) == len(expected), (type(ours), len(expected))
    for a, b in zip(ours, expected):
        check(a, b, **kwargs)


def numeric_grad(f, x, eps=1e-3):
    """Central differences of the scalar function `f` at `x` (float64)."""
    grad = onp.zeros_like(x, dtype=onp.float64)
    for i in onp.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (f(up) - f(down)) / (2 * eps)
    return grad


def check_gradient(f, shape, seed=3, low=-1, high=1, rtol=1e-3, atol=1e-3):
    """The gradient autograd records for `f(np, x)` (a scalar) equals the numeric gradient of `f(numpy, x)`."""
    x = onp.random.RandomState(seed).uniform(low, high, shape).astype(onp.float32)
    a = np.array(x)
    a.attach_grad()
    with autograd.record():
        y = f(np, a)
    assert y.shape == (), y.shape
    y.backward()
    expected = numeric_grad(lambda v: float(f(onp, v)), x.astype(onp.float64))
    assert isinstance(a.grad, np.ndarray)
    onp.testing.assert_allclose(a.grad.asnumpy(), expected, rtol=rtol, atol=atol)
    mx.nd.waitall()
