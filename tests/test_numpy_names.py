"""`mx.np` and `mx.npx` against MXNet 1.9.1's lists of names (tests/fixtures/mxnet-1.9.1/numpy/mxnet_names.json,
made by reference/numpy_sym_names_fixtures.py), and the names of dataflow/numpy/extras.py against NumPy."""
import io
import json
import os

import numpy as onp
import pytest
from hypothesis import given, settings, strategies as st

import dataflow as mx
from dataflow import np, npx

NAMES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "numpy", "mxnet_names.json")

# What MXNet 1.9.1 has and dataflow does not, and why: the financial functions only raise NumPy 1.20's "removed by
# NEP 32" error in MXNet (NumPy 2 has not even that); MXNet's internal helpers that leak into npx's namespace
# (check_call, classproperty, with_metaclass) are not its API.
STILL_MISSING = {
    "np": ["mirr", "npv", "ppmt", "pv", "rate"],
    "np constants": [],
    "np.linalg": [],
    "np.random": [],
    "npx": ["check_call", "classproperty", "with_metaclass"],
}


def test_names_missing_from_mxnet_lists_are_the_documented_ones():
    with open(NAMES) as f:
        mxnet_names = json.load(f)
    modules = {"np": np, "np constants": np, "np.linalg": np.linalg, "np.random": np.random, "npx": npx}
    missing = {key: sorted(name for name in names if not hasattr(modules[key], name))
               for key, names in mxnet_names.items()}
    assert missing == STILL_MISSING


def test_constants_are_numpys_values():
    assert onp.isnan(np.NAN) and onp.isnan(np.NaN)
    assert (np.NINF, np.PINF) == (-onp.inf, onp.inf)
    assert np.NZERO == 0.0 and onp.signbit(np.NZERO) and not onp.signbit(np.PZERO)


small_arrays = st.lists(st.integers(-3, 3), min_size=0, max_size=12).map(lambda v: onp.array(v, onp.float32))


@settings(max_examples=25 if os.environ.get("CI") else 100, deadline=None)
@given(small_arrays, st.sampled_from([None, 0]))
def test_numpy_1_aliases_equal_numpys_functions(values, axis):
    x = np.array(values)
    onp.testing.assert_array_equal(np.alltrue(x > 0, axis=axis).asnumpy(), onp.all(values > 0, axis=axis))
    onp.testing.assert_array_equal(np.sometrue(x > 0, axis=axis).asnumpy(), onp.any(values > 0, axis=axis))
    onp.testing.assert_allclose(np.product(x, axis=axis).asnumpy(), onp.prod(values, axis=axis))


@settings(max_examples=25 if os.environ.get("CI") else 100, deadline=None)
@given(small_arrays, small_arrays, st.booleans())
def test_in1d_is_isin_of_the_flattened_array(a, b, invert):
    got = np.in1d(np.array(a.reshape(-1, 1) if a.size else a), np.array(b), invert=invert).asnumpy()
    onp.testing.assert_array_equal(got, onp.isin(a, b, invert=invert))


def test_genfromtxt_reads_text_into_an_array_on_the_context():
    text = "1,2,3\n4,5,6\n"
    got = np.genfromtxt(io.StringIO(text), delimiter=",", ctx=mx.cpu())
    want = onp.genfromtxt(io.StringIO(text), delimiter=",")
    assert isinstance(got, np.ndarray) and got.dtype == want.dtype
    onp.testing.assert_array_equal(got.asnumpy(), want)


def test_set_printoptions_sets_precision_and_threshold_only():
    before = onp.get_printoptions()
    try:
        np.set_printoptions(precision=2, threshold=3)
        assert "1.23" in repr(np.array([1.23456])) and "1.234" not in repr(np.array([1.23456]))
        assert "..." in repr(np.arange(10.0))
        with pytest.raises(NotImplementedError, match="precision and threshold"):
            np.set_printoptions(linewidth=10)
    finally:
        onp.set_printoptions(**before)


@pytest.mark.parametrize("first, second", [(slice(0, 3), slice(3, 6)), (slice(0, 4), slice(2, 6)),
                                           (slice(0, 6), slice(5, 6)), (slice(1, 2), slice(0, 6))])
def test_memory_overlap_of_views_is_numpys(first, second):
    """Contiguous basic slices are views, as in MXNet (a stepped slice is a copy there and here)."""
    host = onp.arange(6.0)
    x = np.array(host)
    assert np.shares_memory(x[first], x[second]) == onp.shares_memory(host[first], host[second])
    assert np.may_share_memory(x[first], x[second]) == onp.may_share_memory(host[first], host[second])


def test_a_copy_shares_no_memory_and_a_legacy_view_does():
    x = np.arange(6)
    assert not np.shares_memory(x, x.copy()) and not np.may_share_memory(x, np.arange(6))
    assert np.shares_memory(x, x.as_nd_ndarray().as_np_ndarray())
    with pytest.raises(TypeError, match="shares_memory"):
        np.shares_memory(x, onp.arange(6))


def test_npx_cast_and_multibox_prior_are_the_registry_ops_on_np_arrays():
    x = onp.array([[1.7, -2.5], [0.4, 3.9]], onp.float32)
    got = npx.cast(np.array(x), dtype="int32")
    assert isinstance(got, np.ndarray) and got.dtype == onp.int32
    onp.testing.assert_array_equal(got.asnumpy(), x.astype(onp.int32))
    data = onp.zeros((1, 3, 4, 4), onp.float32)
    anchors = npx.multibox_prior(np.array(data), sizes=(0.5, 0.25), ratios=(1, 2))
    assert isinstance(anchors, np.ndarray)
    onp.testing.assert_array_equal(anchors.asnumpy(), mx.nd.contrib.MultiBoxPrior(
        mx.nd.array(data), sizes=(0.5, 0.25), ratios=(1, 2)).asnumpy())


def test_cuda_compute_capability_needs_a_gpu_context():
    with pytest.raises(ValueError, match="Expecting a gpu context"):
        npx.get_cuda_compute_capability(mx.cpu())
