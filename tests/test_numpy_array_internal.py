"""The array side of mx.np against MXNet 1.9.1's numpy tests (issue 23): scalar arrays from the legacy creation
calls under np_shape, and `F.np._internal`'s boolean-mask assignments. Truth: tests/fixtures/mxnet-1.9.1/np_internal
(recorded by reference/np_internal_fixtures.py) and NumPy's own masked assignment."""
import json
import os

import numpy as onp
import pytest
from hypothesis import given, settings, strategies as st

import dataflow as mx
from dataflow import np, npx
from ops.errors import MXNetError

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "np_internal", "cases.json")
with open(FIXTURE) as _fh:
    CASES = json.load(_fh)


@pytest.fixture
def np_mode():
    npx.set_np()
    yield
    npx.reset_np()


CREATORS = {"zeros": lambda: mx.nd.zeros(shape=()), "ones": lambda: mx.nd.ones(shape=()),
            "uniform": lambda: mx.nd.random.uniform(shape=()), "normal": lambda: mx.nd.random.normal(shape=())}


@pytest.mark.parametrize("name", sorted(CREATORS))
def test_legacy_creation_of_a_scalar_under_np_shape(np_mode, name):
    expected = CASES["scalar_shape"][name]
    x = CREATORS[name]()
    assert (list(x.shape), x.ndim, onp.dtype(x.dtype).name) == (expected["shape"], expected["ndim"],
                                                                 expected["dtype"])
    assert onp.isfinite(x.asnumpy())


def test_empty_shape_is_unknown_without_np_shape():
    assert CASES["scalar_shape"]["uniform_legacy_error"] == "MXNetError"
    npx.set_np()            # a scalar call under np_shape first: its signature must not serve the legacy call
    mx.nd.random.uniform(shape=())
    npx.reset_np()
    with pytest.raises(MXNetError, match="_random_uniform"):
        mx.nd.random.uniform(shape=()).asnumpy()


@pytest.mark.parametrize("case", CASES["mask_assign"]["cases"], ids=lambda c: "%s-%s-axis%d" % (
    c["kind"], c["mask_dtype"], c["start_axis"]))
def test_boolean_mask_assign_matches_mxnet(np_mode, case):
    shape = tuple(case["shape"])
    data = np.arange(int(onp.prod(shape)), dtype="float32").reshape(shape)
    mask = np.array(case["mask"], dtype=case["mask_dtype"])
    value = case["value"] if case["kind"] == "scalar" else np.array(case["value"], dtype="float32")
    assign = getattr(mx.nd.np._internal, "boolean_mask_assign_" + case["kind"])
    assert assign(data, mask, value, start_axis=case["start_axis"], out=data) is data
    onp.testing.assert_array_equal(data.asnumpy(), onp.array(case["result"], dtype="float32"))


def test_boolean_mask_assign_errors(np_mode):
    errors = CASES["mask_assign"]["errors"]
    assert errors == {"mask_shape_mismatch": "MXNetError", "no_out": "MXNetError"}
    data = np.zeros((2, 3))
    with pytest.raises(MXNetError, match="does not match"):
        mx.nd.np._internal.boolean_mask_assign_scalar(data, np.array([True, False, True], dtype="bool"), 1.0,
                                                      start_axis=0, out=data)
    with pytest.raises(MXNetError, match="in-place"):
        mx.nd.np._internal.boolean_mask_assign_scalar(data, np.array([True, False], dtype="bool"), 1.0)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_boolean_mask_assign_is_numpys_masked_assignment(data):
    npx.set_np()
    try:
        shape = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple), label="shape")
        start_axis = data.draw(st.integers(0, len(shape) - 1), label="start_axis")
        mask_ndim = data.draw(st.integers(1, len(shape) - start_axis), label="mask_ndim")
        mask_shape = shape[start_axis:start_axis + mask_ndim]
        mask = onp.array(data.draw(st.lists(st.booleans(), min_size=int(onp.prod(mask_shape)),
                                            max_size=int(onp.prod(mask_shape))), label="mask")).reshape(mask_shape)
        base = onp.arange(int(onp.prod(shape)), dtype=onp.float32).reshape(shape)
        expected = base.copy()
        key = (slice(None),) * start_axis + (mask,)
        trailing = expected[key].shape[1:]
        value = onp.float32(-1.0) if data.draw(st.booleans(), label="scalar") else \
            onp.full(trailing, -2.0, dtype=onp.float32)
        expected[key] = value
        x = np.array(base)
        kind = "scalar" if onp.ndim(value) == 0 else "tensor"
        getattr(mx.nd.np._internal, "boolean_mask_assign_" + kind)(
            x, np.array(mask, dtype="bool"), float(value) if kind == "scalar" else np.array(value),
            start_axis=start_axis, out=x)
        onp.testing.assert_array_equal(x.asnumpy(), expected)
    finally:
        npx.reset_np()


def test_other_internal_names_are_the_npi_ops(np_mode):
    out = mx.nd.np._internal.add(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert isinstance(out, np.ndarray)
    onp.testing.assert_array_equal(out.asnumpy(), [4.0, 6.0])
    with pytest.raises(AttributeError, match="no_such_op"):
        mx.nd.np._internal.no_such_op  # noqa: B018 - the lookup is the test
