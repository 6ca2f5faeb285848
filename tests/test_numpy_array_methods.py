"""mx.np.ndarray's methods that are mx.np functions of the array: mx.np results (MXNet 1.9.1's `a.repeat(2)`,
`a.argsort()`, `a.round()`, `a.swapaxes(0, 1)` are mxnet.numpy.ndarray, checked with the oracle), NumPy's values."""
import numpy as onp
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from dataflow import np

CALLS = {
    "repeat": (lambda a: a.repeat(2), lambda a: a.repeat(2)),
    "repeat_axis": (lambda a: a.repeat(3, axis=-1), lambda a: a.repeat(3, axis=-1)),
    "argsort": (lambda a: a.argsort(), lambda a: a.argsort(kind="stable")),
    "argsort_axis0": (lambda a: a.argsort(axis=0), lambda a: a.argsort(axis=0, kind="stable")),
    "round": (lambda a: a.round(), lambda a: a.round()),
    "round_1": (lambda a: a.round(1), lambda a: a.round(1)),
    "swapaxes": (lambda a: a.swapaxes(0, -1), lambda a: a.swapaxes(0, -1)),
    "cumsum": (lambda a: a.cumsum(0), lambda a: a.cumsum(0)),
    "var": (lambda a: a.var(axis=0), lambda a: a.var(axis=0)),
    "clip": (lambda a: a.clip(-1, 1), lambda a: a.clip(-1, 1)),
}


@pytest.mark.parametrize("name", sorted(CALLS))
@settings(max_examples=15, deadline=None)
@given(host=hnp.arrays(onp.float32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                       elements=st.integers(-40, 40).map(lambda v: (8 * v + 1) / 64.0)))   # no .5 ties
def test_function_method_gives_an_np_array_with_numpys_values(name, host):
    ours, numpys = CALLS[name]
    if name == "argsort":
        host = host + onp.arange(host.size, dtype=onp.float32).reshape(host.shape) * 1e-3   # distinct keys
    result = ours(np.array(host))
    assert isinstance(result, np.ndarray)
    onp.testing.assert_allclose(result.asnumpy(), numpys(host), rtol=1e-5, atol=1e-5)
