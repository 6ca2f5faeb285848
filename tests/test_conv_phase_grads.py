"""The backward of strided 2-D convolutions over phase planes (ops/cpu/conv_phase_taps.py, Note [phase-plane
backward]) against the float64 reference of tests/reference_conv.py: both gradients by one GEMM per tap, or the
weight gradient alone with the col in blocks of output rows (the few-channel stems), every req, 1 or 2 threads;
and the weight gradient's bits do not depend on the threads (Note [a reduction's bits] in
ops/cpu/conv_parallel.py)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dataflow  # noqa: F401  (its import sets the BLAS thread policy the convolutions' threads check)
from ops import registry
from ops.cpu import conv_phase_taps
from ops.registry import ADD, NULL, WRITE, OpContext
from tests import reference_conv as R
from tests.conv_threads import conv_threads


@st.composite
def strided_case(draw):
    """A strided 2-D convolution of one group with at least as many taps as phase planes."""
    stride = tuple(draw(st.integers(1, 3)) for _ in range(2))
    if stride == (1, 1):
        stride = (2, 2)
    kernel = tuple(draw(st.integers(s, 5)) for s in stride)
    dilate = tuple(draw(st.integers(1, 2)) for _ in range(2))
    pad = tuple(draw(st.integers(0, 2)) for _ in range(2))
    spatial = tuple(max(1, d * (k - 1) + 1 - 2 * q) + draw(st.integers(0, 12))
                    for k, d, q in zip(kernel, dilate, pad))
    attrs = dict(kernel=kernel, stride=stride, dilate=dilate, pad=pad, num_filter=draw(st.integers(1, 12)),
                 no_bias=draw(st.booleans()))
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 6))) + spatial
    return {k: str(v) for k, v in attrs.items()}, shape, draw(st.integers(0, 2 ** 16))


def _forced(mp, blocked, p, shape, itemsize, rs):
    """ops/cpu/conv_phase_taps.py's thresholds moved so that small shapes take the backward asked for; blocks of
    1-3 output rows; each call of `backward` recorded."""
    calls = []
    real = conv_phase_taps.backward
    mp.setattr(conv_phase_taps, "BACKWARD_MIN_COLUMNS", 0)
    mp.setattr(conv_phase_taps, "MAX_WASTE", 1e9)
    mp.setattr(conv_phase_taps, "MIN_CHANNELS", 1 << 20 if blocked else 1)
    mp.setattr(conv_phase_taps, "COL_MIN_BYTES", 0)
    row_bytes = shape[1] * p.kernel[0] * p.kernel[1] * -(-(shape[3] + 2 * p.pad[1]) // p.stride[1]) * itemsize
    mp.setattr(conv_phase_taps, "COL_BLOCK_BYTES", rs.randint(1, 4) * row_bytes)
    mp.setattr(conv_phase_taps, "backward", lambda *a, **k: calls.append(a[-1]) or real(*a, **k))
    return calls


def _inputs(p, shape, dtype, rs):
    x = rs.uniform(-1, 1, shape).astype(dtype)
    w = rs.uniform(-1, 1, (p.num_filter, shape[1]) + tuple(p.kernel)).astype(dtype)
    dy = rs.uniform(-1, 1, (shape[0], p.num_filter) + R.conv_out_dims(p, shape[2:])).astype(dtype)
    return dy, x, w


@pytest.mark.parametrize("blocked", [False, True], ids=["gemm per tap", "col in blocks of rows"])
@given(case=strided_case(), dtype=st.sampled_from([np.float32, np.float64]), threads=st.sampled_from([1, 2]),
       reqs=st.sampled_from([(WRITE, WRITE), (ADD, ADD), (NULL, WRITE), (WRITE, NULL), (ADD, WRITE)]))
def test_strided_backward_over_phase_planes_matches_reference(blocked, case, dtype, threads, reqs):
    attrs, shape, seed = case
    p = registry.get("Convolution").parse_params(attrs)
    if blocked:     # the weight gradient alone
        reqs = (NULL, reqs[1] if reqs[1] != NULL else WRITE)
    rs = np.random.RandomState(seed)
    dy, x, w = _inputs(p, shape, dtype, rs)
    want = R.backward_convolution(p, *(a.astype(np.float64) for a in (dy, x, w)))
    req = list(reqs) + ([] if p.no_bias else [WRITE])
    outs = [np.full(a.shape, np.nan if r == NULL else 0.5, dtype) for a, r in zip(want, req)]
    with pytest.MonkeyPatch.context() as mp, conv_threads(threads):
        calls = _forced(mp, blocked, p, shape, x.itemsize, rs)
        registry.get("_backward_Convolution").cpu(OpContext(), p, [dy, x, w], outs, req)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for got, exp, r in zip(outs, want, req):
        expect = {WRITE: exp, ADD: exp + 0.5, NULL: np.full(exp.shape, np.nan)}[r]
        np.testing.assert_allclose(got, expect, rtol=tol, atol=tol * max(1.0, float(np.abs(exp).max())))
    assert calls == [blocked]


@pytest.mark.parametrize("blocked", [False, True], ids=["gemm per tap", "col in blocks of rows"])
@pytest.mark.parametrize("batch", [1, 3, 5])
def test_the_phase_plane_weight_gradient_does_not_depend_on_the_threads(blocked, batch):
    p = registry.get("Convolution").parse_params(dict(kernel="(3, 3)", stride="(2, 2)", pad="(1, 1)",
                                                      num_filter="6", no_bias="True"))
    rs = np.random.RandomState(batch)
    dy, x, w = _inputs(p, (batch, 5, 13, 13), np.float32, rs)
    req = [NULL if blocked else WRITE, WRITE]
    runs = []
    with pytest.MonkeyPatch.context() as mp:
        calls = _forced(mp, blocked, p, x.shape, x.itemsize, rs)
        for serial in (False, False, True):
            with conv_threads(3, serial=serial):
                outs = [np.zeros_like(x), np.zeros_like(w)]
                registry.get("_backward_Convolution").cpu(OpContext(), p, [dy, x, w], outs, req)
                runs.append(outs)
    assert calls == [blocked] * 3
    for run in runs[1:]:
        for a, b in zip(runs[0], run):
            np.testing.assert_array_equal(a, b)
    want = R.backward_convolution(p, *(a.astype(np.float64) for a in (dy, x, w)))
    np.testing.assert_allclose(runs[0][1], want[1], rtol=1e-4, atol=1e-4 * float(np.abs(want[1]).max()))
