"""Pooling's separable passes (ops/cpu/pooling_2d.py), on 1 and 2 threads, against tests/reference_conv.py's numpy
loops (float64 windows, MXNet's conventions), forward and backward, every req: max (with ties: the gradient goes to
the first input of the window equal to the output), avg with and without padding counted, sum, lp with p = 1;
valid/full conventions (same for 1-D), pads, strides, global pooling. (BatchNorm's kernels: tests/test_conv_paths.py.)
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dataflow  # noqa: F401  (its import sets the BLAS thread policy the threads check)
from ops import registry
from ops.cpu import pooling
from ops.registry import ADD, NULL, WRITE, OpContext
from tests import reference_conv as R
from tests.conv_threads import conv_threads as _threads

_TOL = {np.float16: 1e-2, np.float32: 2e-5, np.float64: 1e-12}
_REQS = st.sampled_from([WRITE, ADD, NULL])


# ---------------------------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------------------------

@st.composite
def pool_case(draw):
    nd = draw(st.integers(1, 2))
    pool_type = draw(st.sampled_from(["max", "avg", "sum", "lp"]))
    attrs = {"pool_type": pool_type}
    if pool_type == "lp":
        attrs["p_value"] = 1            # p = 2, 3 run the general loops
    if pool_type == "avg":
        attrs["count_include_pad"] = draw(st.booleans())
    if draw(st.integers(0, 5)) == 0:
        attrs["global_pool"] = True
        kernel = (1,) * nd
        attrs["kernel"] = kernel
        spatial = tuple(draw(st.integers(1, 12)) for _ in range(nd))
    else:
        # windows never empty (as MXNet requires): pad < kernel, and for `full` a stride that cannot skip the input
        convention = draw(st.sampled_from(["valid", "full"] + (["same"] if nd == 1 else [])))
        kernel = tuple(draw(st.integers(1, 4)) for _ in range(nd))
        pad = tuple(0 if convention == "same" else draw(st.integers(0, k - 1)) for k in kernel)
        stride = tuple(draw(st.integers(1, k - q if convention == "full" else 3)) for k, q in zip(kernel, pad))
        attrs.update(kernel=kernel, stride=stride, pad=pad, pooling_convention=convention)
        # widths around pooling.MIN_PLANAR_WIDTH: both the separable passes and the direct loops
        spatial = tuple(draw(st.integers(max(1, k - 2 * q), 24)) for k, q in zip(kernel, pad))
    batch, channels = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    dtype = draw(st.sampled_from([np.float16, np.float32, np.float64]))
    seed = draw(st.integers(0, 2 ** 16))
    return attrs, (batch, channels) + spatial, dtype, seed


def _pool_inputs(attrs, shape, dtype, seed):
    """Data (small integers for max: ties, which the gradient must resolve as MXNet does) and the reference's
    output and out_grad."""
    rs = np.random.RandomState(seed)
    if attrs["pool_type"] == "max":
        x = rs.randint(-4, 5, shape).astype(dtype)
    else:
        x = rs.uniform(-1, 1, shape).astype(dtype)
    p = registry.get("Pooling").parse_params({k: str(v) for k, v in attrs.items()})
    y = R.pooling(p, x)
    y = y[0] if isinstance(y, tuple) else y
    dy = rs.uniform(-1, 1, y.shape).astype(dtype)
    return p, x, y, dy


def _check_pooling(attrs, shape, dtype, seed, req):
    p, x, y, dy = _pool_inputs(attrs, shape, dtype, seed)
    ctx = OpContext(is_train=True)
    fill = np.nan if req == NULL else 0.5
    base = 0.0 if req == WRITE else fill
    tol = _TOL[dtype]

    out = np.full(y.shape, fill, dtype)
    pooling.pooling(ctx, p, [x], [out], [req])
    np.testing.assert_allclose(out.astype(np.float64), base + y.astype(np.float64), rtol=tol, atol=tol,
                               equal_nan=True)

    dx = np.full(x.shape, fill, dtype)
    pooling._backward_pooling(ctx, p, [dy, x, y], [dx], [req])
    want = R.backward_pooling(p, dy, x, y).astype(np.float64)
    np.testing.assert_allclose(dx.astype(np.float64), base + want, rtol=tol, atol=tol, equal_nan=True)


@given(case=pool_case(), req=_REQS)
def test_pooling_matches_reference(case, req):
    _check_pooling(*case, req)


@given(case=pool_case(), req=_REQS)
def test_threaded_pooling_matches_reference(case, req):
    with _threads(2):
        _check_pooling(*case, req)


def test_separable_passes_run_for_the_common_shapes(monkeypatch):
    """inception's 3x3 stride-1 pad-1 max and avg pooling take ops/cpu/pooling_2d.py's passes, in blocks of planes
    on 2 threads; global pooling (one output per plane) takes the direct loops."""
    calls = []
    real = pooling.for_each

    def spy(n, make_worker, flops):
        calls.append(n)
        return real(n, make_worker, flops)
    monkeypatch.setattr(pooling, "for_each", spy)
    for attrs, want in ((dict(kernel=(3, 3), stride=(1, 1), pad=(1, 1), pool_type="max"), 2),
                        (dict(kernel=(3, 3), stride=(1, 1), pad=(1, 1), pool_type="avg"), 2),
                        (dict(kernel=(3, 3), global_pool=True, pool_type="avg"), 0)):
        calls.clear()
        with _threads(2):
            _check_pooling(attrs, (2, 5, 12, 12), np.float32, 0, WRITE)
        assert len(calls) == want and all(n > 1 for n in calls), (attrs, calls)


def test_max_pooling_ignores_nan_and_keeps_the_first_tie():
    """NaN never wins a window (as the general loops); the gradient of a tie goes to its first input, row-major."""
    p = registry.get("Pooling").parse_params({"kernel": "(2, 2)", "stride": "(2, 2)"})
    x = np.zeros((1, 1, 2, 16), np.float32)
    x[0, 0, 0, 0] = np.nan
    x[0, 0, 1, 0] = 3.0
    x[0, 0, 0, 3] = x[0, 0, 1, 2] = 7.0            # a tie in window 1: (0, 3) comes first row-major
    y = np.empty((1, 1, 1, 8), np.float32)
    pooling.pooling(OpContext(is_train=True), p, [x], [y], [WRITE])
    assert y[0, 0, 0, 0] == 3.0 and y[0, 0, 0, 1] == 7.0 and (y[0, 0, 0, 2:] == 0).all()
    dx = np.empty_like(x)
    pooling._backward_pooling(OpContext(is_train=True), p, [np.ones_like(y), x, y], [dx], [WRITE])
    assert dx[0, 0, 1, 0] == 1 and dx[0, 0, 0, 3] == 1 and dx[0, 0, 1, 2] == 0
    assert dx.sum() == 8                            # one input per window


@st.composite
def max_pool_case(draw):
    """Max pooling over outputs wide enough for the separable passes (pooling.MIN_PLANAR_WIDTH): the common
    geometries and random ones (strides 1..3, pads < kernel), 1-D and 2-D, data of few distinct integers (ties in
    most windows), and y either the forward's output or any value of each window (the gradient goes to the first
    input equal to y, whatever y is)."""
    nd = draw(st.integers(1, 2))
    if draw(st.booleans()):
        kernel, stride, pad = draw(st.sampled_from([((2, 2), (2, 2), (0, 0)), ((3, 3), (2, 2), (1, 1)),
                                                    ((3, 3), (1, 1), (1, 1))]))
        kernel, stride, pad = kernel[-nd:], stride[-nd:], pad[-nd:]
    else:
        kernel = tuple(draw(st.integers(1, 4)) for _ in range(nd))
        stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
        pad = tuple(draw(st.integers(0, k - 1)) for k in kernel)
    # spatial sizes with at least MIN_PLANAR_WIDTH outputs along W, any number along H
    width = (pooling.MIN_PLANAR_WIDTH - 1 + draw(st.integers(0, 4))) * stride[-1] + kernel[-1] - 2 * pad[-1]
    spatial = (width,) if nd == 1 else (draw(st.integers(max(1, kernel[0] - 2 * pad[0]), 12)), width)
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + spatial
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return dict(kernel=kernel, stride=stride, pad=pad, pool_type="max"), shape, dtype, draw(st.integers(0, 2 ** 16))


@given(case=max_pool_case(), arbitrary_y=st.booleans(), req=st.sampled_from([WRITE, ADD]),
       threads=st.integers(1, 2))
def test_max_pooling_gradient_goes_to_the_first_equal_input(case, arbitrary_y, req, threads):
    attrs, shape, dtype, seed = case
    p = registry.get("Pooling").parse_params({k: str(v) for k, v in attrs.items()})
    rs = np.random.RandomState(seed)
    x = rs.randint(-2, 3, shape).astype(dtype)
    y = R.pooling(p, x)[0]
    assert pooling._planar(pooling._pool_args(p, shape), shape)
    if arbitrary_y:                 # each output some value in [-2, 2]: in its window or not
        y = rs.randint(-2, 3, y.shape).astype(dtype)
    dy = rs.uniform(-1, 1, y.shape).astype(dtype)
    base = 0.5 if req == ADD else 0.0
    dx = np.full(shape, 0.5, dtype)
    with _threads(threads):
        pooling._backward_pooling(OpContext(is_train=True), p, [dy, x, y], [dx], [req])
    want = base + R.backward_pooling(p, dy, x, y).astype(np.float64)
    np.testing.assert_allclose(dx.astype(np.float64), want, rtol=_TOL[dtype], atol=_TOL[dtype])


# ---------------------------------------------------------------------------------------------------------------
# BatchNorm's channel-at-a-time kernels (ops/cpu/batchnorm.py; random cases: tests/test_conv_paths.py)
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:Mean of empty slice")
def test_batchnorm_of_an_empty_batch_matches_the_numpy_kernels():
    """No data in a channel: NaN statistics, and the gradients of gamma and beta 0 (not 0 * NaN)."""
    from ops.cpu import batchnorm
    from tests import reference_bn_kernels as nn
    p = registry.get("BatchNorm").parse_params({"fix_gamma": "False"})
    x, c = np.ones((0, 3, 4), np.float32), np.ones(3, np.float32)
    results = []
    for module in (batchnorm, nn):
        with np.errstate(all="ignore"):
            fwd = [np.empty_like(x), np.empty(3, np.float32), np.empty(3, np.float32)]
            module.batch_norm(OpContext(is_train=True), p, [x, c, c * 0, c * 0, c.copy()], fwd, [WRITE] * 3)
            bwd = [np.empty_like(x), np.empty(3, np.float32), np.empty(3, np.float32)]
            module.backward_batch_norm(OpContext(is_train=True), p, [x, x, c, fwd[1], fwd[2], c * 0, c.copy()], bwd,
                                       [WRITE] * 3)
        results.append(fwd[1:] + bwd[1:])
    for got, want in zip(*results, strict=True):
        np.testing.assert_array_equal(got, want)
    assert np.isnan(results[0][0]).all() and (results[0][2] == 0).all()
