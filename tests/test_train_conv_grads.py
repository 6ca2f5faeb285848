"""Convolution's backward layouts of ops/cpu/conv_grads.py against the float64 reference of tests/reference_conv.py,
for every req of both gradients, on one and two threads:

- Note [batched backward]: several samples' im2col columns side by side in one GEMM (small outputs);
- Note [channels-last weight gradient]: the per-tap weight gradient over a channels-last padded image;
- the weight gradient written straight into the output by the first worker, with or without the items;
- ops/cpu/winograd_grads.py: Note [Winograd weight gradient] and Note [Winograd data gradient in bands].
"""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import dataflow  # noqa: F401  (its import sets the BLAS thread policy the convolutions' threads check)
from ops import registry
from ops.cpu import conv as cpu_conv
from ops.cpu import conv_grads, winograd_grads
from ops.registry import ADD, NULL, WRITE
from tests import reference_conv as R
from tests.conv_threads import conv_threads as _threads

_TOL = {np.float16: 2e-2, np.float32: 1e-4, np.float64: 1e-10}
_FILL = 0.5         # outputs start here: ADD must keep it, WRITE must replace it


def _params(kernel, stride, pad, dilate, filters, groups):
    attrs = dict(kernel=str(kernel), stride=str(stride), pad=str(pad), dilate=str(dilate), num_filter=str(filters),
                 num_group=str(groups), no_bias="True")
    return registry.get("Convolution").parse_params(attrs)


def _inputs(p, batch, channels, spatial, dtype, seed):
    rs = np.random.RandomState(seed)
    x = rs.uniform(-1, 1, (batch, channels) + spatial).astype(dtype)
    w = rs.uniform(-1, 1, (p.num_filter, channels // p.num_group) + tuple(p.kernel)).astype(dtype)
    dy = rs.uniform(-1, 1, (batch, p.num_filter) + R.conv_out_dims(p, spatial)).astype(dtype)
    return dy, x, w


def _check(p, dy, x, w, reqs):
    """The kernel's (dx, dw) for reqs against the reference, outputs starting at _FILL."""
    want = R.backward_convolution(p, dy, x, w)[:2]
    got = [np.full(x.shape, _FILL, x.dtype), np.full(w.shape, _FILL, w.dtype)]
    cpu_conv._backward_convolution(None, p, [dy, x, w], got, list(reqs))
    tol = _TOL[x.dtype.type]
    for g, ref, req in zip(got, want, reqs, strict=True):
        if req == NULL:
            assert (g == _FILL).all()
            continue
        expect = ref.astype(np.float64) + (_FILL if req == ADD else 0)
        scale = max(1.0, float(np.abs(ref).max()))
        np.testing.assert_allclose(g.astype(np.float64), expect, rtol=tol, atol=tol * scale)


_REQS = st.sampled_from([(WRITE, WRITE), (ADD, ADD), (WRITE, ADD), (ADD, WRITE), (NULL, WRITE), (WRITE, NULL),
                         (NULL, ADD), (ADD, NULL)])


@st.composite
def narrow_case(draw):
    """Small outputs (batched chunks): strides, pads, dilations, groups, 1x1 kernels, 1-D and 2-D."""
    nd = draw(st.integers(1, 2))
    kernel = tuple(draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd)))
    stride = tuple(draw(st.lists(st.integers(1, 2), min_size=nd, max_size=nd)))
    dilate = tuple(draw(st.lists(st.integers(1, 2), min_size=nd, max_size=nd)))
    pad = tuple(draw(st.lists(st.integers(0, 1), min_size=nd, max_size=nd)))
    spatial = tuple(draw(st.lists(st.integers(3, 8), min_size=nd, max_size=nd)))
    if any(x + 2 * q < d * (k - 1) + 1 for x, q, d, k in zip(spatial, pad, dilate, kernel)):
        spatial = tuple(d * (k - 1) + 1 for d, k in zip(dilate, kernel))
    groups = draw(st.sampled_from([1, 1, 2]))
    channels, filters = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    batch = draw(st.integers(1, 7))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.float16]))
    return _params(kernel, stride, pad, dilate, filters, groups), batch, channels, spatial, dtype


@settings(deadline=None)
@given(case=narrow_case(), reqs=_REQS, threads=st.sampled_from([1, 2]), seed=st.integers(0, 2 ** 16))
def test_batched_backward_matches_the_reference(case, reqs, threads, seed):
    p, batch, channels, spatial, dtype = case
    dy, x, w = _inputs(p, batch, channels, spatial, dtype, seed)
    with _threads(threads):
        _check(p, dy, x, w, reqs)


@pytest.mark.parametrize("columns", [0, 400, 10 ** 6])
@pytest.mark.parametrize("reqs", [(WRITE, WRITE), (ADD, ADD), (NULL, WRITE)])
def test_chunk_sizes_agree(columns, reqs, monkeypatch):
    """One sample per GEMM (0), chunks of about 400 columns, and the whole batch in one GEMM all give the reference:
    (8, 16, 7, 7) 3x3 pad 1 (49 columns a sample) and a stride-2 1x1."""
    monkeypatch.setattr(conv_grads, "BATCH_COLUMNS", columns)
    for p, spatial in ((_params((3, 3), (1, 1), (1, 1), (1, 1), 12, 1), (7, 7)),
                       (_params((1, 1), (2, 2), (0, 0), (1, 1), 12, 1), (9, 9))):
        dy, x, w = _inputs(p, 8, 16, spatial, np.float32, 3)
        for threads in (1, 2):
            with _threads(threads):
                _check(p, dy, x, w, reqs)


def test_chunk_samples_rule(monkeypatch):
    monkeypatch.setattr(conv_grads, "BATCH_COLUMNS", 400)
    assert conv_grads.chunk_samples(8, 49, 1) == 8           # ceil(400 / 49) = 9, capped by the batch
    assert conv_grads.chunk_samples(8, 49, 2) == 4           # each thread's share
    assert conv_grads.chunk_samples(8, 196, 1) == 3
    assert conv_grads.chunk_samples(8, 400, 1) == 1          # wide enough alone
    assert conv_grads.chunk_samples(1, 49, 2) == 1
    monkeypatch.setattr(conv_grads, "BATCH_COLUMNS", 0)
    assert conv_grads.chunk_samples(8, 49, 1) == 1


@st.composite
def taps_case(draw):
    """Unit strides with wide enough outputs for the per-tap path (at least 150 columns; the test assumes away the
    few whose wide columns waste too much: a dilated kernel wider than its padding)."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(2, 3)))
    dilate = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pad = (draw(st.integers(0, 2)), draw(st.integers(1, 2)))
    spatial = (draw(st.integers(13, 16)), draw(st.integers(13, 16)))
    groups = draw(st.sampled_from([1, 2]))
    channels, filters = groups * draw(st.integers(1, 4)), groups * draw(st.integers(1, 4))
    batch = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return _params(kernel, (1, 1), pad, dilate, filters, groups), batch, channels, spatial, dtype


@settings(deadline=None)
@given(case=taps_case(), reqs=_REQS, threads=st.sampled_from([1, 2]), channels_last=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_per_tap_backward_matches_the_reference(case, reqs, threads, channels_last, seed):
    p, batch, channels, spatial, dtype = case
    unfold = cpu_conv._conv_unfolding(p, (batch, channels) + spatial, (batch, p.num_filter)
                                      + R.conv_out_dims(p, spatial), dtype, False)
    assume(unfold.taps)
    dy, x, w = _inputs(p, batch, channels, spatial, dtype, seed)
    kept = conv_grads.CHANNELS_LAST_DW
    conv_grads.CHANNELS_LAST_DW = channels_last
    try:
        with _threads(threads):
            _check(p, dy, x, w, reqs)
    finally:
        conv_grads.CHANNELS_LAST_DW = kept


@pytest.mark.parametrize("req", [WRITE, ADD])
@pytest.mark.parametrize("columns", [0, 400])
def test_weight_gradient_owner_without_items(req, columns, monkeypatch):
    """The worker given the output for its weight-gradient sum may get no item (the other threads took them all):
    the output must still come out as the others' sum, not as what it held."""
    def for_each_second_takes_all(n, make_worker, flops):
        first, second = make_worker(), make_worker()
        for i in range(n):
            second(i)
        return [first, second]
    monkeypatch.setattr(cpu_conv, "for_each", for_each_second_takes_all)
    monkeypatch.setattr(conv_grads, "BATCH_COLUMNS", columns)
    p = _params((3, 3), (2, 2), (1, 1), (1, 1), 6, 1)
    dy, x, w = _inputs(p, 5, 4, (9, 9), np.float32, 11)
    _check(p, dy, x, w, (req, req))


@st.composite
def winograd_case(draw):
    """2-D 3x3 unit-stride convolutions of any size (odd edges: cropped tiles), pads 0-2, small channel counts."""
    pad = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    spatial = (draw(st.integers(2, 13)), draw(st.integers(2, 13)))
    spatial = tuple(max(x, 3 - 2 * q) for x, q in zip(spatial, pad))
    channels, filters = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    batch = draw(st.integers(1, 4))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.float16]))      # float16: computed in float32
    return _params((3, 3), (1, 1), pad, (1, 1), filters, 1), batch, channels, spatial, dtype


@settings(deadline=None)
@given(case=winograd_case(), reqs=_REQS, threads=st.sampled_from([1, 2]), group_tiles=st.sampled_from([1, 4, 128]),
       seed=st.integers(0, 2 ** 16))
def test_winograd_weight_gradient_matches_the_reference(case, reqs, threads, group_tiles, seed):
    """Note [Winograd weight gradient] and Note [Winograd data gradient in bands], forced on for any size (their
    thresholds lifted): bands of tile rows (group_tiles below a sample's tiles) and groups of samples."""
    p, batch, channels, spatial, dtype = case
    dy, x, w = _inputs(p, batch, channels, spatial, dtype, seed)
    kept = (winograd_grads.MIN_TILES, winograd_grads.MIN_CHANNELS, winograd_grads.MAX_CHANNELS,
            winograd_grads.GROUP_TILES)
    winograd_grads.MIN_TILES, winograd_grads.MIN_CHANNELS, winograd_grads.MAX_CHANNELS = 0, 0, 10 ** 6
    winograd_grads.GROUP_TILES = group_tiles
    try:
        compute = np.float32 if dtype == np.float16 else dtype
        assert winograd_grads.pays(p, (1, 3, 3), (1, 1, 1), (1, 1, 1), x.shape, dy.shape, compute)
        with _threads(threads):
            _check(p, dy, x, w, reqs)
    finally:
        (winograd_grads.MIN_TILES, winograd_grads.MIN_CHANNELS, winograd_grads.MAX_CHANNELS,
         winograd_grads.GROUP_TILES) = kept


def test_winograd_weight_gradient_rule():
    """It runs from 64 to 256 channels with at least 128 tiles a sample (28x28 and up), as measured."""
    p = _params((3, 3), (1, 1), (1, 1), (1, 1), 96, 1)
    geometry = ((1, 3, 3), (1, 1, 1), (1, 1, 1))
    assert winograd_grads.pays(p, *geometry, (32, 64, 28, 28), (32, 96, 28, 28), np.float32)
    assert not winograd_grads.pays(p, *geometry, (32, 64, 14, 14), (32, 96, 14, 14), np.float32)   # 49 tiles
    assert not winograd_grads.pays(p, *geometry, (32, 32, 28, 28), (32, 96, 28, 28), np.float32)
    assert not winograd_grads.pays(p, *geometry, (32, 64, 28, 28), (32, 96, 28, 28), np.float16)
    strided = _params((3, 3), (2, 2), (1, 1), (1, 1), 96, 1)
    assert not winograd_grads.pays(strided, (1, 3, 3), (1, 2, 2), (1, 1, 1), (8, 64, 56, 56), (8, 96, 28, 28),
                                   np.float32)


def test_a_real_size_weight_gradient_by_winograd():
    """inception's (64 -> 96, 28x28) layer at batch 2, both gradients on the Winograd paths by the real rule."""
    p = _params((3, 3), (1, 1), (1, 1), (1, 1), 96, 1)
    dy, x, w = _inputs(p, 2, 64, (28, 28), np.float32, 5)
    assert winograd_grads.pays(p, (1, 3, 3), (1, 1, 1), (1, 1, 1), x.shape, dy.shape, x.dtype)
    _check(p, dy, x, w, (WRITE, WRITE))
