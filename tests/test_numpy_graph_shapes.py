"""mx.np functions in a hybridized numpy-mode block (traced as mx.sym.np Symbols) against the same block run on
arrays and against NumPy (issue 23), or MXNet 1.9.1 where they differ: zero-dim results keep shape (), pieces and
differences may be empty (split, array_split, hsplit: MXNet's `_split_v2` and `_npi_hsplit` ops; diff, ediff1d:
Python's slicing rules; concatenate, append, hstack, pad: `_npi_concatenate`, `_npi_hstack`, `_npi_pad`), a
roll's shift wraps modulo the axis's length, clip takes one None bound, logical_not gives bool, and a Symbol has
`clip` and `cumsum` methods."""
import json
import os

import numpy as onp
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import dataflow as mx
from dataflow import np
from tests.numpy_blocks import Apply, np_mode, run_both  # noqa: F401 - np_mode: the autouse fixture


def check(fn, want, *arrays, rtol=1e-6, dtype=True):
    """`fn` on arrays and hybridized equals `want` (NumPy's result, or a list of them) in shape, dtype, values."""
    want = want if isinstance(want, (list, tuple)) else [want]
    for got in run_both(fn, *arrays):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.shape == w.shape
            if dtype:
                assert g.dtype == w.dtype, (g.dtype, w.dtype)
            onp.testing.assert_allclose(g, w, rtol=rtol, atol=1e-6)


def floats(min_dims=0, max_dims=3, min_side=0, dtype=onp.float32):
    return hnp.arrays(dtype, hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=4),
                      elements=st.integers(-20, 20).map(lambda k: k / 4))      # halves and quarters: ties to round


# -- zero-dim results --------------------------------------------------------------------------------------------------
@settings(deadline=None, max_examples=25)
@given(x=floats(min_side=0), decimals=st.sampled_from([0, 1, -1]))
def test_around_keeps_the_shape_and_rounds_halves_to_even(x, decimals):
    want = onp.around(x, decimals)
    check(lambda F, a: F.np.around(a, decimals), want, x)
    check(lambda F, a: F.np.round(a, decimals), want, x)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_around_of_a_zero_dim_array_is_zero_dim_in_its_dtype(dtype):
    for value in (2.5, 3.5, -2.5, -0.5, 0.4999, 7.0):
        x = onp.array(value, dtype=dtype)
        check(lambda F, a: F.np.around(a), onp.around(x), x)


ROUNDING = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "np_math", "cases.json")


def test_around_of_integers_truncates_as_mxnet():
    with open(ROUNDING) as f:
        cases = {name: case for name, case in json.load(f).items() if name.startswith("around_int")}
    assert cases
    for case in cases.values():
        x = case["inputs"]["x"]
        data = onp.array(x["data"], dtype=x["dtype"]).reshape(x["shape"])
        want = onp.array(case["outputs"]["data"], dtype=case["outputs"]["dtype"])
        decimals = case["inputs"]["decimals"]
        check(lambda F, a, decimals=decimals: F.np.around(a, decimals), want, data)


# -- empty pieces ------------------------------------------------------------------------------------------------------
points = st.lists(st.integers(0, 5), min_size=1, max_size=4).map(sorted)


@settings(deadline=None, max_examples=25)
@given(points=points, axis=st.sampled_from([0, 1, -1]))
def test_split_at_points_gives_empty_pieces_as_numpy(points, axis):
    x = onp.arange(30, dtype="float32").reshape(5, 6)
    points = [p for p in points if p <= x.shape[axis]]
    want = onp.split(x, points, axis=axis)
    check(lambda F, a: F.np.split(a, points, axis=axis), want, x)
    check(lambda F, a: F.np.array_split(a, points, axis=axis), want, x)


@settings(deadline=None, max_examples=25)
@given(length=st.integers(0, 7), sections=st.integers(1, 5))
def test_array_split_into_sections_of_unequal_length(length, sections):
    x = onp.arange(2 * length, dtype="float32").reshape(2, length)
    check(lambda F, a: F.np.array_split(a, sections, axis=1), onp.array_split(x, sections, axis=1), x)


def test_split_gradient_reaches_every_piece_also_next_to_an_empty_one():
    x = onp.arange(6, dtype="float32")
    grads = []
    for hybridize in (False, True):
        block = Apply(lambda F, a: F.np.split(a, [2, 2, 4]))
        if hybridize:
            block.hybridize()
        data = np.array(x)
        data.attach_grad()
        with mx.autograd.record():
            pieces = block(data)
            loss = (pieces[0] * 1 + 0).sum() + (pieces[2] * 2).sum() + (pieces[3] * 3).sum() + pieces[1].sum()
        loss.backward()
        grads.append(data.grad.asnumpy())
    for grad in grads:
        onp.testing.assert_array_equal(grad, [1, 1, 2, 2, 3, 3])


def test_split_points_that_fall_outside_the_axis_or_fall_are_an_error_naming_the_op():
    x = np.arange(6.0)
    for points in ([4, 2], [0, 8]):
        block = Apply(lambda F, a, points=points: F.np.split(a, points))
        block.hybridize()
        with pytest.raises(mx.base.MXNetError, match="_split_v2"):
            block(x)[0].asnumpy()


@pytest.mark.parametrize("shape", [(6,), (3, 6, 2), (3, 0, 2)])
@pytest.mark.parametrize("points", [(2, 4), (3, 3), (1,), 2])
def test_hsplit_splits_axis_0_of_a_vector_and_axis_1_otherwise(shape, points):
    x = onp.arange(int(onp.prod(shape)), dtype="float32").reshape(shape)
    check(lambda F, a: F.np.hsplit(a, points), onp.hsplit(x, points), x)


def pieces_and_gradients(fn, arrays):
    """`fn`'s output and its inputs' gradients (of the output's sum), on arrays and hybridized."""
    results = []
    for hybridize in (False, True):
        block = Apply(fn)
        if hybridize:
            block.hybridize()
        inputs = [np.array(a) for a in arrays]
        for x in inputs:
            x.attach_grad()
        with mx.autograd.record():
            out = block(*inputs)
        out.backward()
        results.append((out.asnumpy(), [x.grad.asnumpy() for x in inputs]))
    return results


@settings(deadline=None, max_examples=25)
@given(lengths=st.lists(st.integers(0, 3), min_size=1, max_size=4), axis=st.sampled_from([0, 1, None]))
def test_concatenate_and_append_take_empty_inputs(lengths, axis):
    shapes = [(n, 2) if axis == 0 else (2, n) for n in lengths]
    arrays = [onp.random.uniform(-1, 1, s).astype("float32") for s in shapes]
    for out, grads in pieces_and_gradients(lambda F, *a: F.np.concatenate(a, axis=axis), arrays):
        onp.testing.assert_array_equal(out, onp.concatenate(arrays, axis=axis))
        for g, a in zip(grads, arrays):
            onp.testing.assert_array_equal(g, onp.ones_like(a))
    if len(arrays) >= 2:
        for out, _ in pieces_and_gradients(lambda F, a, b, *rest: F.np.append(a, b, axis=axis), arrays):
            onp.testing.assert_array_equal(out, onp.append(arrays[0], arrays[1], axis=axis))


@settings(deadline=None, max_examples=30)
@given(x=floats(min_dims=1, min_side=1), mode=st.sampled_from(["constant", "edge", "reflect", "symmetric", "maximum",
                                                               "minimum"]),
       width=st.one_of(st.integers(0, 6), st.tuples(st.integers(0, 6), st.integers(0, 6))))
def test_pad_of_any_rank_by_one_width_for_every_axis_also_wider_than_the_axis(x, mode, width):
    check(lambda F, a: F.np.pad(a, width, mode=mode), onp.pad(x, width, mode=mode), x)


@settings(deadline=None, max_examples=25)
@given(rest=st.sampled_from([(), (2,), (2, 3)]), lengths=st.lists(st.integers(0, 3), min_size=1, max_size=3))
def test_hstack_joins_vectors_and_numbers_along_axis_0_and_others_along_axis_1(rest, lengths):
    shapes = [((n,) if n else ()) if not rest else rest[:1] + (n,) + rest[1:] for n in lengths]
    arrays = [onp.random.uniform(-1, 1, s).astype("float32") for s in shapes]
    for out, grads in pieces_and_gradients(lambda F, *a: F.np.hstack(a), arrays):
        onp.testing.assert_array_equal(out, onp.hstack(arrays))
        for g, a in zip(grads, arrays):
            onp.testing.assert_array_equal(g, onp.ones_like(a))


def test_constant_pad_of_an_empty_array_and_ediff1d_with_edges_of_a_short_one():
    empty = onp.zeros((0, 2), dtype="float32")
    check(lambda F, a: F.np.pad(a, ((1, 2), (0, 1)), constant_values=3), onp.pad(empty, ((1, 2), (0, 1)),
                                                                                  constant_values=3), empty)
    for x in (onp.array([2.0], "float32"), onp.array([2.0, 5.0], "float32")):
        check(lambda F, a: F.np.ediff1d(a, to_begin=[1, 2], to_end=7), onp.ediff1d(x, to_begin=[1, 2], to_end=7), x)


@settings(deadline=None, max_examples=25)
@given(x=floats(min_dims=1), n=st.integers(0, 5), axis=st.sampled_from([0, -1]))
def test_diff_of_any_order_also_past_the_axis_length(x, n, axis):
    check(lambda F, a: F.np.diff(a, n=n, axis=axis), onp.diff(x, n=n, axis=axis), x)


@settings(deadline=None, max_examples=20)
@given(x=floats(min_dims=1, max_dims=2, min_side=1))
def test_ediff1d_of_short_arrays(x):
    check(lambda F, a: F.np.ediff1d(a), onp.ediff1d(x), x)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "maximum", "minimum"])
def test_pad_with_a_zero_width_on_one_side(mode):
    x = onp.arange(12, dtype="float32").reshape(3, 4)
    widths = ((0, 2), (1, 0))
    check(lambda F, a: F.np.pad(a, widths, mode=mode), onp.pad(x, widths, mode=mode), x)


# -- roll --------------------------------------------------------------------------------------------------------------
@settings(deadline=None, max_examples=30)
@given(x=floats(min_dims=1, max_dims=3), shift=st.integers(-13, 13), axis=st.sampled_from([None, 0, -1]))
def test_roll_by_any_shift_wraps_modulo_the_length(x, shift, axis):
    check(lambda F, a: F.np.roll(a, shift, axis=axis), onp.roll(x, shift, axis=axis), x)


def test_roll_over_several_axes_and_its_gradient():
    x = onp.arange(24, dtype="float32").reshape(2, 3, 4)
    check(lambda F, a: F.np.roll(a, (7, -5), axis=(1, -1)), onp.roll(x, (7, -5), axis=(1, -1)), x)
    weights = onp.arange(24, dtype="float32").reshape(2, 3, 4)
    for hybridize in (False, True):
        block = Apply(lambda F, a, w: F.np.roll(a, 5, axis=2) * w)
        if hybridize:
            block.hybridize()
        data = np.array(x)
        data.attach_grad()
        with mx.autograd.record():
            loss = block(data, np.array(weights)).sum()
        loss.backward()
        onp.testing.assert_array_equal(data.grad.asnumpy(), onp.roll(weights, -5, axis=2))


# -- small semantics ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bounds", [(None, 1.5), (-1.5, None), (-1, 2)])
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_clip_with_a_none_bound(bounds, dtype):
    x = onp.arange(-4, 5).astype(dtype)
    want = onp.clip(x, *bounds).astype(dtype)
    check(lambda F, a: F.np.clip(a, *bounds), want, x)
    check(lambda F, a: a.clip(*bounds), want, x)
    zero_dim = onp.array(0.5, dtype=dtype)
    check(lambda F, a: a.clip(*bounds), onp.clip(zero_dim, *bounds).astype(dtype), zero_dim)


def test_clip_without_bounds_is_a_value_error_as_mxnet():
    for fn in (lambda F, a: F.np.clip(a, None, None), lambda F, a: a.clip()):
        block = Apply(fn)
        block.hybridize()
        with pytest.raises(ValueError, match="either max or min"):
            block(np.arange(3.0))


@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
def test_logical_not_gives_bool(dtype):
    x = onp.array([[0, 1, 2], [-1, 0, 3]]).astype(dtype)
    check(lambda F, a: F.np.logical_not(a), onp.logical_not(x), x)
    nan = onp.array([onp.nan, 0.0, onp.inf], dtype="float32")
    check(lambda F, a: F.np.logical_not(a), onp.logical_not(nan), nan)


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_the_cumsum_method(axis):
    x = onp.arange(12, dtype="float32").reshape(3, 4)
    check(lambda F, a: a.cumsum(axis=axis), onp.cumsum(x, axis=axis), x)
    check(lambda F, a: a.cumsum(axis, "float64"), onp.cumsum(x, axis=axis, dtype="float64"), x)


# -- MXNet 1.9.1's hybridized blocks (tests/fixtures/mxnet-1.9.1/np_graph_shapes, reference/np_graph_shapes_fixtures.py)
MXNET_CASES = {
    "around_zero_dim": lambda F, a: F.np.around(a),
    "round_zero_dim_1": lambda F, a: F.np.round(a, 1),
    "split_empty_pieces": lambda F, a: F.np.split(a, [0, 3, 3, 6]),
    "split_points_fall": lambda F, a: F.np.split(a, [4, 2]),
    "split_point_past_end": lambda F, a: F.np.split(a, [8]),
    "array_split_sections": lambda F, a: F.np.array_split(a, 3, axis=1),
    "array_split_more_sections": lambda F, a: F.np.array_split(a, 4),
    "hsplit_vector": lambda F, a: F.np.hsplit(a, [2, 2]),
    "diff_past_length": lambda F, a: F.np.diff(a, n=4, axis=0),
    "ediff1d_one": lambda F, a: F.np.ediff1d(a, to_begin=1, to_end=2),
    "roll_past_length": lambda F, a: F.np.roll(a, 13, axis=1),
    "roll_flat_negative": lambda F, a: F.np.roll(a, -7),
    "pad_reflect_wide": lambda F, a: F.np.pad(a, ((3, 5), (4, 4)), mode="reflect"),
    "pad_symmetric_wide": lambda F, a: F.np.pad(a, ((0, 0), (5, 2)), mode="symmetric"),
    "hstack_vectors": lambda F, a, b: F.np.hstack([a, b]),
    "concatenate_empty": lambda F, a, b: F.np.concatenate([a, b], axis=0),
    "clip_min_none": lambda F, a: a.clip(None, 5),
    "clip_zero_dim": lambda F, a: F.np.clip(a, 3, None),
    "clip_no_bounds": lambda F, a: a.clip(None, None),
    "logical_not": lambda F, a: F.np.logical_not(a),
    "cumsum_method": lambda F, a: a.cumsum(axis=1),
}
with open(os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "np_graph_shapes", "cases.json")) as f:
    RECORDED = json.load(f)


def _decode(array):
    return onp.array(array["data"], dtype=array["dtype"]).reshape(array["shape"])


def test_the_recorded_cases_are_the_table():
    assert sorted(RECORDED) == sorted(MXNET_CASES)


@pytest.mark.parametrize("name", sorted(MXNET_CASES))
def test_hybridized_blocks_match_mxnet(name):
    case = RECORDED[name]
    inputs = [_decode(a) for a in case["inputs"]]
    if "error" in case:
        block = Apply(MXNET_CASES[name])
        block.hybridize()
        expected = ValueError if case["error"] == "ValueError" else mx.base.MXNetError
        with pytest.raises(expected):
            out = block(*[np.array(x, dtype=x.dtype) for x in inputs])
            [o.asnumpy() for o in (out if isinstance(out, (list, tuple)) else [out])]
        return
    check(MXNET_CASES[name], [_decode(o) for o in case["outputs"]], *inputs)
