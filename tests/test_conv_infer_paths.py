"""Inference paths of issue 17 (zoo forward speed) against the numpy references of tests/reference_conv.py:

- max pooling down the columns first (ops/cpu/pooling_2d.py `pool2d_forward_max`): any kernel, stride, padding,
  convention, with NaN (never wins a window) and +inf in the data;
- the depthwise forward over phase planes (ops/cpu/conv_depthwise.py: taps three at a time, the common strides
  filled with constant strides) through `_conv_fused` (scale, shift, relu), kernels up to 5x5 and strides up to 3.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dataflow  # noqa: F401  (its import sets the BLAS thread policy the kernels' threads check)
from ops import registry
from ops.cpu import conv as cpu_conv
from ops.cpu import pooling
from ops.registry import WRITE, OpContext
from tests import reference_conv as R


@st.composite
def max_pool_case(draw):
    convention = draw(st.sampled_from(["valid", "full"]))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(2))
    pad = tuple(draw(st.integers(0, k - 1)) for k in kernel)
    # `full` with a stride that cannot skip the input (as MXNet requires: no empty windows)
    stride = tuple(draw(st.integers(1, k - q if convention == "full" else 3)) for k, q in zip(kernel, pad))
    height = draw(st.integers(max(1, kernel[0] - 2 * pad[0]), 20))
    # outputs at least pooling.MIN_PLANAR_WIDTH wide: the separable path
    width = draw(st.integers(stride[1] * (pooling.MIN_PLANAR_WIDTH - 1) + kernel[1], 40))
    attrs = dict(kernel=kernel, stride=stride, pad=pad, pool_type="max", pooling_convention=convention)
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), height, width)
    return attrs, shape, draw(st.sampled_from([np.float32, np.float64])), draw(st.integers(0, 2 ** 16))


@given(case=max_pool_case(), threads=st.sampled_from(["1", "2"]))
def test_max_pooling_down_the_columns_matches_reference(case, threads):
    attrs, shape, dtype, seed = case
    rs = np.random.RandomState(seed)
    x = rs.uniform(-3, 3, shape).astype(dtype)
    x[rs.uniform(size=shape) < 0.1] = np.nan
    x[rs.uniform(size=shape) < 0.05] = np.inf
    p = registry.get("Pooling").parse_params({k: str(v) for k, v in attrs.items()})
    lowest = np.finfo(dtype).min
    want = R.pooling(p, np.where(np.isnan(x), lowest, x))[0]        # NaN never wins: as the lowest value
    calls = []
    real = pooling.pool2d_forward_max
    y = np.full(want.shape, 0.5, dtype)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATAFLOW_CONV_THREADS", threads)
        mp.setattr(pooling, "pool2d_forward_max", lambda *a: calls.append(1) or real(*a))
        pooling.pooling(OpContext(), p, [x], [y], [WRITE])
    assert calls
    np.testing.assert_array_equal(y, want)


@st.composite
def depthwise_fused_case(draw):
    kernel = tuple(draw(st.integers(1, 5)) for _ in range(2))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(2))
    pad = tuple(draw(st.integers(0, 2)) for _ in range(2))
    spatial = tuple(max(1, k - 2 * q) + draw(st.integers(0, 12)) for k, q in zip(kernel, pad))
    channels, multiplier = draw(st.integers(2, 5)), draw(st.integers(1, 2))
    attrs = dict(kernel=kernel, stride=stride, pad=pad, num_group=channels, num_filter=channels * multiplier,
                 no_bias=True, scale_shift=True, act_type="relu")
    shape = (draw(st.integers(1, 2)), channels) + spatial
    return {k: str(v) for k, v in attrs.items()}, shape, draw(st.integers(0, 2 ** 16))


@given(case=depthwise_fused_case(), dtype=st.sampled_from([np.float32, np.float64]))
def test_fused_depthwise_forward_matches_reference(case, dtype):
    attrs, shape, seed = case
    op = registry.get("_conv_fused")
    p = op.parse_params(attrs)
    rs = np.random.RandomState(seed)
    x = rs.uniform(-1, 1, shape).astype(dtype)
    w = rs.uniform(-1, 1, (p.num_filter, 1) + tuple(p.kernel)).astype(dtype)
    scale, shift = rs.uniform(0.5, 1.5, p.num_filter).astype(dtype), rs.uniform(-1, 1, p.num_filter).astype(dtype)
    conv = R.convolution(registry.get("Convolution").parse_params(
        {k: v for k, v in attrs.items() if k not in ("scale_shift", "act_type")}), x.astype(np.float64),
        w.astype(np.float64))
    want = np.maximum(conv * scale[:, None, None] + shift[:, None, None], 0)
    y = np.empty(want.shape, dtype)
    op.cpu(OpContext(), p, [x, w, scale, shift], [y], [WRITE])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, want, rtol=tol, atol=tol)


@st.composite
def strided_fused_case(draw):
    """Strided 2-D convolutions of one group with enough taps for the phase planes (ops/cpu/conv_phase_taps.py)."""
    stride = tuple(draw(st.integers(1, 3)) for _ in range(2))
    if stride == (1, 1):
        stride = (2, 2)
    kernel = tuple(draw(st.integers(s, 4)) for s in stride)
    dilate = tuple(draw(st.integers(1, 2)) for _ in range(2))
    pad = tuple(draw(st.integers(0, 2)) for _ in range(2))
    spatial = tuple(max(1, d * (k - 1) + 1 - 2 * q) + draw(st.integers(0, 12))
                    for k, d, q in zip(kernel, dilate, pad))
    attrs = dict(kernel=kernel, stride=stride, dilate=dilate, pad=pad, num_filter=draw(st.integers(1, 40)),
                 no_bias=True, scale_shift=True, act_type=draw(st.sampled_from(["none", "relu"])))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 5))) + spatial
    return {k: str(v) for k, v in attrs.items()}, shape, draw(st.integers(0, 2 ** 16))


@pytest.mark.parametrize("blocked", [False, True], ids=["gemm per tap", "col in blocks of rows"])
@given(case=strided_fused_case(), dtype=st.sampled_from([np.float32, np.float64]), threads=st.sampled_from([1, 2]))
def test_strided_forward_over_phase_planes_matches_reference(blocked, case, dtype, threads):
    """ops/cpu/conv_phase_taps.py (thresholds moved so that small shapes take the path asked for): one GEMM per tap
    over the phase planes, or the col built in blocks of output rows (a few rows each), on 1 or 2 threads (batch 1
    on 2: split by output channels, or by blocks), the epilogue applied, equals the reference; a batch-strided
    output (Concat elision) is written sample by sample."""
    from ops.cpu import conv_parallel, conv_phase_taps
    attrs, shape, seed = case
    op = registry.get("_conv_fused")
    p = op.parse_params(attrs)
    rs = np.random.RandomState(seed)
    x = rs.uniform(-1, 1, shape).astype(dtype)
    w = rs.uniform(-1, 1, (p.num_filter, shape[1]) + tuple(p.kernel)).astype(dtype)
    scale, shift = rs.uniform(0.5, 1.5, p.num_filter).astype(dtype), rs.uniform(-1, 1, p.num_filter).astype(dtype)
    conv = R.convolution(registry.get("Convolution").parse_params(
        {k: v for k, v in attrs.items() if k not in ("scale_shift", "act_type")}), x.astype(np.float64),
        w.astype(np.float64))
    want = conv * scale[:, None, None] + shift[:, None, None]
    if p.act_type == "relu":
        want = np.maximum(want, 0)
    big = np.full((want.shape[0], 2 * want.shape[1]) + want.shape[2:], 7.0, dtype)
    y = big[:, :want.shape[1]]                                  # each sample contiguous, the batch strided
    calls = []
    real = conv_phase_taps.forward
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(conv_phase_taps, "MIN_COLUMNS", 0)
        mp.setattr(conv_phase_taps, "MIN_CHANNELS", 1 << 20 if blocked else 1)
        mp.setattr(conv_phase_taps, "COL_MIN_BYTES", 0)
        row_bytes = shape[1] * p.kernel[0] * p.kernel[1] * -(-(shape[3] + 2 * p.pad[1]) // p.stride[1]) * x.itemsize
        mp.setattr(conv_phase_taps, "COL_BLOCK_BYTES", rs.randint(1, 4) * row_bytes)        # 1-3 rows a block
        mp.setattr(conv_phase_taps, "ROWS_PER_PART", 1)
        mp.setattr(conv_phase_taps, "forward", lambda *a: calls.append(a[-1]) or real(*a))
        mp.setenv("DATAFLOW_CONV_THREADS", str(threads))
        mp.setattr(conv_parallel, "MIN_PARALLEL_FLOPS", 0)
        mp.setattr(conv_parallel, "WAIT_LIMIT", float("inf"))
        mp.setattr(conv_parallel, "_serial_calls", 0)
        op.cpu(OpContext(), p, [x, w, scale, shift], [y], [WRITE])
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, want, rtol=tol, atol=tol)
    assert (big[:, want.shape[1]:] == 7).all()
    geometry = cpu_conv.conv_geometry(p, 2)
    out_dims = cpu_conv._spatial3(want.shape)[2:]
    wide = (out_dims[1] - 1) * -(-(shape[3] + 2 * p.pad[1]) // p.stride[1]) + out_dims[2]
    expected = (p.kernel[0] * p.kernel[1] >= p.stride[0] * p.stride[1]
                and wide <= (1 + conv_phase_taps.MAX_WASTE) * out_dims[1] * out_dims[2])
    assert calls == ([blocked] if expected else []), (geometry, wide, calls)
