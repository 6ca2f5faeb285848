"""Note [a reduction's bits] (ops/cpu/conv_parallel.py): a convolution's weight gradient, summed over the batch,
has the same bits however many threads ran it and whichever took which samples — only the shapes and
DATAFLOW_CONV_THREADS decide its order of additions. Two training steps on the same inputs then agree bit for bit
on a busy machine (where a call runs on one thread) and an idle one (several).

Each path that sums a weight gradient over the batch runs three ways with DATAFLOW_CONV_THREADS=n: on n threads,
again on n threads, and on the calling thread alone; the three must be equal bit for bit, and near the float64
reference of tests/reference_conv.py."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dataflow  # noqa: F401  (its import sets the BLAS thread policy the convolutions' threads check)
from ops import registry
from ops.cpu import conv as cpu_conv
from ops.cpu import conv_grads, conv_parallel, winograd_grads
from ops.registry import ADD, WRITE
from tests import reference_conv as R
from tests.conv_threads import conv_threads


def _params(kernel, stride=(1, 1), pad=(0, 0), filters=4, groups=1):
    attrs = dict(kernel=str(kernel), stride=str(stride), pad=str(pad), num_filter=str(filters),
                 num_group=str(groups), no_bias="True")
    return registry.get("Convolution").parse_params(attrs)


def _grads(p, dy, x, w, req, transposed):
    got = [np.full(x.shape, 0.25, x.dtype), np.full(w.shape, 0.25, w.dtype)]
    backward = cpu_conv._backward_kernel(transposed)
    backward(None, p, [dy, x, w], got, [req, req])
    return got


def _three_ways(p, dy, x, w, req, threads, transposed=False):
    """(dx, dw) on `threads` threads twice and on the calling thread alone, asserted equal bit for bit."""
    runs = []
    for serial in (False, False, True):
        with conv_threads(threads, serial=serial):
            runs.append(_grads(p, dy, x, w, req, transposed))
    for run in runs[1:]:
        for a, b, name in zip(runs[0], run, ("dx", "dw")):
            np.testing.assert_array_equal(a, b, err_msg=name)
    return runs[0]


def _inputs(p, batch, channels, spatial, seed, transposed=False):
    rs = np.random.RandomState(seed)
    x = rs.uniform(-1, 1, (batch, channels) + spatial).astype(np.float32)
    if transposed:
        w = rs.uniform(-1, 1, (channels, p.num_filter // p.num_group) + tuple(p.kernel)).astype(np.float32)
        out = tuple((s - 1) * st_ - 2 * q + k for s, st_, q, k in zip(spatial, p.stride, p.pad, p.kernel))
    else:
        w = rs.uniform(-1, 1, (p.num_filter, channels // p.num_group) + tuple(p.kernel)).astype(np.float32)
        out = R.conv_out_dims(p, spatial)
    dy = rs.uniform(-1, 1, (batch, p.num_filter) + out).astype(np.float32)
    return dy, x, w


def _near_reference(p, dy, x, w, got, req, transposed=False):
    ref = (R.backward_deconvolution if transposed else R.backward_convolution)(p, dy, x, w)[:2]
    for g, r in zip(got, ref):
        want = r.astype(np.float64) + (0.25 if req == ADD else 0)
        np.testing.assert_allclose(g, want, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(r).max())))


# (kernel, stride, pad, groups, spatial): the batched im2col chunks (small outputs), a strided 1x1, the per-tap
# path (unit stride, wide outputs), a grouped convolution and the depthwise direct loops
_CASES = [((3, 3), (1, 1), (1, 1), 1, (5, 5)), ((1, 1), (2, 2), (0, 0), 1, (7, 7)),
          ((3, 3), (1, 1), (1, 1), 1, (14, 14)), ((3, 3), (2, 2), (1, 1), 2, (9, 9)),
          ((3, 3), (1, 1), (1, 1), 4, (8, 8))]


@given(case=st.sampled_from(_CASES), batch=st.integers(1, 9), threads=st.integers(2, 4),
       req=st.sampled_from([WRITE, ADD]), seed=st.integers(0, 2 ** 16))
def test_the_weight_gradient_does_not_depend_on_the_threads(case, batch, threads, req, seed):
    kernel, stride, pad, groups, spatial = case
    p = _params(kernel, stride, pad, filters=4, groups=groups)
    dy, x, w = _inputs(p, batch, 4, spatial, seed)
    got = _three_ways(p, dy, x, w, req, threads)
    _near_reference(p, dy, x, w, got, req)


@given(batch=st.integers(1, 6), threads=st.integers(2, 3), seed=st.integers(0, 2 ** 16))
def test_the_deconvolution_weight_gradient_does_not_depend_on_the_threads(batch, threads, seed):
    p = registry.get("Deconvolution").parse_params(dict(kernel="(3, 3)", stride="(2, 2)", pad="(1, 1)",
                                                        num_filter="3", no_bias="True"))
    dy, x, w = _inputs(p, batch, 4, (5, 5), seed, transposed=True)
    got = _three_ways(p, dy, x, w, WRITE, threads, transposed=True)
    _near_reference(p, dy, x, w, got, WRITE, transposed=True)


@pytest.mark.parametrize("batch", [1, 3, 5])
def test_the_winograd_weight_gradient_does_not_depend_on_the_threads(batch, monkeypatch):
    monkeypatch.setattr(winograd_grads, "MIN_CHANNELS", 1)
    monkeypatch.setattr(winograd_grads, "MIN_TILES", 1)
    monkeypatch.setattr(winograd_grads, "GROUP_TILES", 16)     # groups of samples or bands: several items
    p = _params((3, 3), pad=(1, 1), filters=6)
    dy, x, w = _inputs(p, batch, 5, (12, 12), 7)
    assert winograd_grads.pays(p, (1, 3, 3), (1, 1, 1), (1, 1, 1), x.shape, dy.shape, x.dtype)
    got = _three_ways(p, dy, x, w, WRITE, 3)
    _near_reference(p, dy, x, w, got, WRITE)


@given(n=st.integers(0, 40), threads=st.integers(1, 5), serial=st.booleans())
def test_reduce_over_runs_each_item_once_in_fixed_shares(n, threads, serial):
    """Each item once, share s holding items n*s//S .. n*(s+1)//S - 1 in order, S = shares(n), whatever ran them."""
    class Worker:
        def start(self, share):
            self.items = [share]

        def __call__(self, i):
            self.items.append(i)

        def finish(self):
            return self.items
    with conv_threads(threads, serial=serial):
        count = conv_parallel.shares(n)
        partials = conv_parallel.reduce_over(n, Worker, 1e12)
    assert count == max(1, min(n, threads))
    assert partials == [[s] + list(range(n * s // count, n * (s + 1) // count)) for s in range(count)]


def test_chunks_follow_the_shares_not_the_load(monkeypatch):
    """The batched backward's samples per GEMM come from shares(n), which ignores the load (threads() follows it)."""
    monkeypatch.setattr(conv_parallel, "_others_leave_room", lambda count: False)
    monkeypatch.delenv("DATAFLOW_CONV_THREADS", raising=False)
    monkeypatch.setattr(conv_parallel, "_cores", lambda: 4)
    assert conv_parallel.threads() in (1, 4) and conv_parallel.shares(8) == 4
    assert conv_grads.chunk_samples(8, 49, conv_parallel.shares(8)) == 2
