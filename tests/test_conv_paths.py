"""The fast kernel paths of issue 17 against their references, forward and backward, every req.

- BatchNorm (ops/cpu/batchnorm.py, njit loops, one channel at a time) against the numpy kernels of
  tests/reference_bn_kernels.py, which state MXNet's formulas: random shapes, channel axes, dtypes, training and
  inference, fix_gamma, use_global_stats.
- Convolution's direct paths (ops/cpu/conv_depthwise.py: depthwise loops; ops/cpu/conv.py: 1x1 as GEMMs), the
  convolutions' loops on several threads (ops/cpu/conv_parallel.py) and the ReLU epilogue of inference folding,
  against the numpy reference of tests/reference_conv.py.
"""
import contextlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dataflow  # noqa: F401  (its import sets the BLAS thread policy the convolutions' threads check)
from ops import registry
from ops.cpu import batchnorm, conv_parallel
from ops.cpu import conv as cpu_conv
from ops.cpu import conv_unfold
from ops.registry import ADD, NULL, WRITE, OpContext
from tests import op_specs  # noqa: F401  (first: it imports tests.specs_conv, which imports it back)
from tests import reference_bn_kernels as nn
from tests import reference_conv as R
from tests import specs_conv, specs_fold
from tests.conv_threads import conv_threads

# ---------------------------------------------------------------------------------------------------------------
# BatchNorm
# ---------------------------------------------------------------------------------------------------------------

_BN_TOL = {np.float16: 2e-2, np.float32: 2e-4, np.float64: 1e-10}


@st.composite
def bn_case(draw):
    ndim = draw(st.integers(2, 5))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)))
    axis = draw(st.integers(-ndim, ndim - 1))
    dtype = draw(st.sampled_from([np.float16, np.float32, np.float64]))
    attrs = dict(axis=axis, eps=draw(st.sampled_from([1e-5, 1e-3, 0.5])), momentum=0.9,
                 fix_gamma=draw(st.booleans()), use_global_stats=draw(st.booleans()))
    train = draw(st.booleans())
    seed = draw(st.integers(0, 2 ** 16))
    return shape, axis, dtype, attrs, train, seed


def _bn_inputs(shape, axis, dtype, seed):
    rs = np.random.RandomState(seed)
    c = shape[axis]
    acc = np.float64 if dtype == np.float64 else np.float32
    x = (rs.uniform(-2, 2, shape) + rs.uniform(-5, 5)).astype(dtype)     # an offset mean: the shift matters
    gamma, beta = rs.uniform(0.5, 1.5, c).astype(acc), rs.uniform(-1, 1, c).astype(acc)
    moving = [rs.uniform(-1, 1, c).astype(acc), rs.uniform(0.5, 2, c).astype(acc)]
    dy = rs.uniform(-1, 1, shape).astype(dtype)
    return x, gamma, beta, moving, dy


def _bn_run(module, p, ctx, x, gamma, beta, moving, dy, req, fill):
    """Forward then backward of one module's kernels; every output starts at `fill` (checks req add/null)."""
    c, acc = gamma.shape[0], gamma.dtype
    moving = [m.copy() for m in moving]
    gamma = gamma.copy()
    fwd = [np.full(x.shape, fill, x.dtype), np.full(c, fill, acc), np.full(c, fill, acc)]
    module.batch_norm(ctx, p, [x, gamma, beta] + moving, fwd, [req, WRITE, WRITE])
    bwd = [np.full(x.shape, fill, x.dtype), np.full(c, fill, acc), np.full(c, fill, acc)]
    module.backward_batch_norm(ctx, p, [dy, x, gamma, fwd[1], fwd[2]] + moving, bwd, [req] * 3)
    return fwd + bwd + moving + [gamma]


@given(case=bn_case(), req=st.sampled_from([WRITE, ADD, NULL]))
def test_batchnorm_matches_the_numpy_kernels(case, req):
    shape, axis, dtype, attrs, train, seed = case
    p = registry.get("BatchNorm").parse_params({k: str(v) for k, v in attrs.items()})
    ctx = OpContext(is_train=train)
    inputs = _bn_inputs(shape, axis, dtype, seed)
    fill = np.nan if req == NULL else 0.5
    want = _bn_run(nn, p, ctx, *inputs, req, fill)
    got = _bn_run(batchnorm, p, ctx, *inputs, req, fill)
    tol = _BN_TOL[dtype]
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=tol, atol=tol, equal_nan=True)


def test_batchnorm_statistics_survive_a_large_mean():
    """A channel mean 1e4 times its std: the shifted one-pass variance stays float32-exact."""
    p = registry.get("BatchNorm").parse_params({"fix_gamma": "False", "eps": "1e-8"})
    rs = np.random.RandomState(0)
    x = (1e4 + rs.standard_normal((8, 3, 16, 16))).astype(np.float32)
    ins = [x, np.ones(3, np.float32), np.zeros(3, np.float32), np.zeros(3, np.float32), np.ones(3, np.float32)]
    got, want = ([np.empty_like(x), np.empty(3, np.float32), np.empty(3, np.float32)] for _ in range(2))
    batchnorm.batch_norm(OpContext(is_train=True), p, ins, got, [WRITE] * 3)
    nn.batch_norm(OpContext(is_train=True), p, ins, want, [WRITE] * 3)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(got[1], x64.mean(axis=(0, 2, 3)), rtol=1e-7)
    np.testing.assert_allclose(got[2], 1 / np.sqrt(x64.var(axis=(0, 2, 3)) + 1e-8), rtol=1e-5)
    np.testing.assert_allclose(got[0], want[0], atol=2e-3)     # x - mean: mean's float32 ulp at 1e4 is 1e-3


def test_batchnorm_inference_gradient_ignores_non_finite_data():
    """dx = scale * dy in inference: an inf in the data must not leak into dx (0 * inf)."""
    p = registry.get("BatchNorm").parse_params({"use_global_stats": "True"})
    x = np.ones((2, 2, 3), np.float32)
    x[0, 0, 0] = np.inf
    dy = np.ones_like(x)
    c = np.ones(2, np.float32)
    outs = [np.empty_like(x), np.empty(2, np.float32), np.empty(2, np.float32)]
    batchnorm.backward_batch_norm(OpContext(is_train=True), p, [dy, x, c, c * 0, c, c * 0, c], outs, [WRITE] * 3)
    assert np.isfinite(outs[0]).all()


@pytest.mark.parametrize("dtype", [np.float32])
def test_batchnorm_writes_into_a_strided_output(dtype):
    """A non-contiguous output (a slice of a larger buffer) is written through a scratch, its neighbours kept."""
    p = registry.get("BatchNorm").parse_params({})
    x, gamma, beta, moving, _ = _bn_inputs((2, 3, 4), 1, dtype, 1)
    big = np.full((2, 3, 8), 7, dtype)
    out = big[:, :, ::2]
    batchnorm.batch_norm(OpContext(is_train=True), p, [x, gamma, beta] + moving,
                         [out, np.empty(3, np.float32), np.empty(3, np.float32)], [WRITE] * 3)
    want = np.empty_like(x)
    nn.batch_norm(OpContext(is_train=True), p, [x, gamma.copy(), beta] + moving,
                  [want, np.empty(3, np.float32), np.empty(3, np.float32)], [WRITE] * 3)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
    assert (big[:, :, 1::2] == 7).all()


# ---------------------------------------------------------------------------------------------------------------
# Convolution: the depthwise loops (ops/cpu/conv_depthwise.py), rows for any stride and wide rows for unit stride
# ---------------------------------------------------------------------------------------------------------------

@st.composite
def depthwise_case(draw):
    nd = draw(st.integers(1, 3))
    kernel = tuple(draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd)))
    stride = tuple(draw(st.lists(st.integers(1, 2), min_size=nd, max_size=nd))) if draw(st.booleans()) else (1,) * nd
    dilate = tuple(draw(st.lists(st.integers(1, 2), min_size=nd, max_size=nd)))
    pad = tuple(draw(st.lists(st.integers(0, 2), min_size=nd, max_size=nd)))
    spatial = tuple(max(1, d * (k - 1) + 1 - 2 * q) + draw(st.integers(0, 4))
                    for k, d, q in zip(kernel, dilate, pad))
    channels, multiplier = draw(st.integers(2, 4)), draw(st.integers(1, 2))
    attrs = dict(kernel=kernel, stride=stride, dilate=dilate, pad=pad, num_group=channels,
                 num_filter=channels * multiplier, no_bias=draw(st.booleans()))
    shape = (draw(st.integers(1, 2)), channels) + spatial
    return {k: str(v) for k, v in attrs.items()}, shape, draw(st.integers(0, 2 ** 16))


def _conv_reference(p, x, w, b):
    return R.convolution(p, x, w, *([] if b is None else [b]))


@st.composite
def pointwise_case(draw):
    """1x1 kernels, unit stride, no padding (the identity unfolding: GEMMs over the image), any groups."""
    nd = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 3))
    attrs = dict(kernel=(1,) * nd, num_group=groups, num_filter=groups * draw(st.integers(1, 3)),
                 no_bias=draw(st.booleans()))
    shape = (draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))) + tuple(
        draw(st.lists(st.integers(1, 5), min_size=nd, max_size=nd)))
    return {k: str(v) for k, v in attrs.items()}, shape, draw(st.integers(0, 2 ** 16))


@st.composite
def grouped_case(draw):
    """1 < num_group < channels (im2col + a GEMM per group, on 1 or 2 threads), any dilation and padding."""
    nd = draw(st.integers(1, 3))
    kernel = tuple(draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd)))
    dilate = tuple(draw(st.lists(st.integers(1, 2), min_size=nd, max_size=nd)))
    pad = tuple(draw(st.lists(st.integers(0, 2), min_size=nd, max_size=nd)))
    spatial = tuple(max(1, d * (k - 1) + 1 - 2 * q) + draw(st.integers(0, 3 if nd == 3 else 6))
                    for k, d, q in zip(kernel, dilate, pad))
    groups, per_group = draw(st.integers(2, 3)), draw(st.integers(2, 5))
    attrs = dict(kernel=kernel, dilate=dilate, pad=pad, num_group=groups,
                 stride=tuple(draw(st.lists(st.integers(1, 2), min_size=nd, max_size=nd))),
                 num_filter=groups * draw(st.integers(1, 9)), no_bias=draw(st.booleans()))
    shape = (draw(st.integers(1, 3)), groups * per_group) + spatial
    return {k: str(v) for k, v in attrs.items()}, shape, draw(st.integers(0, 2 ** 16))


_REQS = st.sampled_from([WRITE, ADD, NULL])
_DTYPES = st.sampled_from([np.float32, np.float64])


@given(case=depthwise_case(), req=_REQS, dtype=_DTYPES)
def test_depthwise_convolution_matches_reference(case, req, dtype):
    _check_convolution(*case, req, dtype)


@given(case=pointwise_case(), req=_REQS, dtype=_DTYPES)
def test_pointwise_convolution_matches_reference(case, req, dtype):
    _check_convolution(*case, req, dtype)


@given(case=grouped_case(), req=_REQS, dtype=_DTYPES, threads=st.sampled_from([1, 2]))
def test_grouped_convolution_matches_reference(case, req, dtype, threads):
    attrs, shape, _ = case
    p = registry.get("Convolution").parse_params(attrs)
    assert cpu_conv._direct(p, shape)[0] is None
    with _threads(threads):
        _check_convolution(*case, req, dtype)


def _check_convolution(attrs, shape, seed, req, dtype):
    """Convolution and its backward through the registry's kernels equal the float64 reference, as req says."""
    p = registry.get("Convolution").parse_params(attrs)
    rs = np.random.RandomState(seed)
    x = rs.uniform(-1, 1, shape).astype(dtype)
    w = rs.uniform(-1, 1, (p.num_filter, shape[1] // p.num_group) + tuple(p.kernel)).astype(dtype)
    b = None if p.no_bias else rs.uniform(-1, 1, p.num_filter).astype(dtype)
    ins = [x, w] + ([] if b is None else [b])
    want = _conv_reference(p, *(a.astype(np.float64) for a in (x, w)), None if b is None else b.astype(np.float64))
    tol = 1e-4 if dtype == np.float32 else 1e-10
    fill = np.nan if req == NULL else 0.5
    y = np.full(want.shape, fill, dtype)
    registry.get("Convolution").cpu(OpContext(), p, ins, [y], [req])
    expect = {WRITE: want, ADD: want + 0.5, NULL: np.full(want.shape, np.nan)}[req]
    np.testing.assert_allclose(y, expect, rtol=tol, atol=tol)

    dy = rs.uniform(-1, 1, want.shape).astype(dtype)
    bwant = R.backward_convolution(p, *(a.astype(np.float64) for a in (dy, x, w)))
    outs = [np.full(a.shape, fill, dtype) for a in bwant]
    registry.get("_backward_Convolution").cpu(OpContext(), p, [dy, x, w], outs, [req] * len(outs))
    for got, exp in zip(outs, bwant, strict=True):
        expect = {WRITE: exp, ADD: exp + 0.5, NULL: np.full(exp.shape, np.nan)}[req]
        np.testing.assert_allclose(got, expect, rtol=tol, atol=tol)


# ---------------------------------------------------------------------------------------------------------------
# Convolution on several threads (ops/cpu/conv_parallel.py), grouped convolutions, and the ReLU epilogue
# ---------------------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def forced_paths(**values):
    """ops/cpu/conv_unfold.py's path thresholds set to `values` inside the block."""
    old = {name: getattr(conv_unfold, name) for name in values}
    try:
        for name, value in values.items():
            setattr(conv_unfold, name, value)
        yield
    finally:
        for name, value in old.items():
            setattr(conv_unfold, name, value)


@contextlib.contextmanager
def _threads(n, min_flops=0):
    """Convolutions on n threads however small (tests/conv_threads.py), a single sample's output channels split
    among them."""
    old_rows = cpu_conv.ROWS_PER_PART
    cpu_conv.ROWS_PER_PART = 1
    try:
        with conv_threads(n, min_flops):
            yield
    finally:
        cpu_conv.ROWS_PER_PART = old_rows


def _sampled(draw, sample):
    """A spec sampler's case with a batch of 1-5 samples (the threads split the batch)."""
    attrs, inputs = sample(draw, np.dtype(np.float64))
    n = draw(st.integers(1, 5))
    x = np.random.RandomState(n).uniform(-1, 1, (n,) + inputs[0].shape[1:])
    return attrs, [x] + inputs[1:]


@pytest.mark.parametrize("op,sample,ref,bwd_ref", [
    ("Convolution", specs_conv.conv_sample, R.convolution, R.backward_convolution),
    ("Deconvolution", specs_conv.deconv_sample, R.deconvolution, R.backward_deconvolution),
], ids=["conv", "deconv"])
@given(data=st.data(), req=_REQS, threads=st.sampled_from([2, 3]))
def test_threaded_convolutions_match_reference(op, sample, ref, bwd_ref, data, req, threads):
    attrs, inputs = _sampled(data.draw, sample)
    p = registry.get(op).parse_params(attrs)
    want = ref(p, *inputs)
    dy = np.random.RandomState(1).uniform(-1, 1, want.shape)
    bwant = bwd_ref(p, dy, inputs[0], inputs[1])
    fill = np.nan if req == NULL else 0.5
    y = np.full(want.shape, fill)
    outs = [np.full(a.shape, fill) for a in bwant]
    with _threads(threads):
        registry.get(op).cpu(OpContext(), p, inputs, [y], [req])
        registry.get("_backward_" + op).cpu(OpContext(), p, [dy] + inputs[:2], outs, [req] * len(outs))
    for got, exp in zip([y] + outs, (want,) + tuple(bwant), strict=True):
        expect = {WRITE: exp, ADD: exp + 0.5, NULL: np.full(exp.shape, np.nan)}[req]
        np.testing.assert_allclose(got, expect, rtol=1e-10, atol=1e-10)


def test_for_each_backs_off_to_one_thread_after_a_long_wait():
    """Note [a busy core]: a call whose caller waited long for a helper makes the next calls run on one thread."""
    import threading
    import time
    callers, helper_started, me = [], threading.Event(), threading.current_thread()

    def make_worker():
        def work(i):
            callers.append(threading.current_thread())
            if threading.current_thread() is me:
                helper_started.wait(5)
            else:
                helper_started.set()
                time.sleep(0.3)         # a helper without a core
        return work
    with _threads(2):
        conv_parallel.WAIT_LIMIT = 0.01        # of the caller's time, which includes waiting for the helper to start
        conv_parallel.for_each(4, make_worker, 1e12)
        assert conv_parallel._serial_calls == conv_parallel.BACKOFF_CALLS
        callers.clear()
        conv_parallel.for_each(4, make_worker, 1e12)
        assert callers == [me] * 4
        assert conv_parallel._serial_calls == conv_parallel.BACKOFF_CALLS - 1
    conv_parallel._serial_calls = 0


@pytest.mark.parametrize("others", [0, 1])
def test_for_each_uses_helpers_only_beside_free_cores(monkeypatch, others):
    """Note [a busy core]: unless DATAFLOW_CONV_THREADS fixes the count, helpers run only while the machine's other
    runnable tasks (the BLAS policy's OtherLoad, here fed a count) leave them a core."""
    import threading
    from ops.cpu.blas_threads import OtherLoad
    monkeypatch.delenv("DATAFLOW_CONV_THREADS", raising=False)
    monkeypatch.setattr(conv_parallel, "_cores", lambda: 2)
    monkeypatch.setattr(conv_parallel, "_blas_on_one_thread", lambda: True)
    monkeypatch.setattr(conv_parallel, "_other_load", OtherLoad(running_reader=lambda: 1 + others, cpus=2))
    assert conv_parallel.threads() == 2 - others
    monkeypatch.setattr(conv_parallel, "_serial_calls", 0)
    gate, seen = threading.Barrier(2, timeout=5), []

    def make_worker():
        def work(i):
            seen.append(threading.current_thread())
            if others == 0:
                gate.wait()         # both threads hold an item at once: a helper ran
        return work
    conv_parallel.for_each(2, make_worker, 1e12)
    assert len(set(seen)) == (2 if others == 0 else 1)


def test_for_each_runs_every_item_once_and_raises_a_workers_error():
    seen = []
    with _threads(3):
        workers = conv_parallel.for_each(50, lambda: seen.append, 1e12)
    assert sorted(seen) == list(range(50)) and 1 <= len(workers) <= 3

    def make_worker():
        def work(i):
            if i == 7:
                raise ValueError("item 7")
        return work
    with _threads(2), pytest.raises(ValueError, match="item 7"):
        conv_parallel.for_each(20, make_worker, 1e12)


@pytest.mark.parametrize("waste", [-1.0, 1e9], ids=["plain", "wide"])
@given(data=st.data())
def test_fused_epilogue_matches_reference(waste, data):
    """`_conv_fused`'s kernel (the crop applies scale and shift or bias, and ReLU) equals the reference, float32,
    every req, on 1 or 2 threads; NaN stays NaN."""
    with forced_paths(WIDE_MAX_WASTE=waste, FORWARD_WIDE_MAX_WASTE=waste):
        attrs, inputs = specs_fold.fused_sample(data.draw, np.dtype(np.float32))
        if data.draw(st.booleans()):
            inputs[0].flat[0] = np.nan
            inputs[1][inputs[1] == 0] = 0.5     # OpenBLAS's small kernels give 0 * NaN = 0: not the epilogue's doing
        p = registry.get("_conv_fused").parse_params(attrs)
        want = specs_fold.fused_reference(p, *(a.astype(np.float64) for a in inputs))
        req = data.draw(_REQS)
        fill = np.nan if req == NULL else 0.5
        y = np.full(want.shape, fill, np.float32)
        with _threads(data.draw(st.sampled_from([1, 2]))):
            registry.get("_conv_fused").cpu(OpContext(), p, inputs, [y], [req])
        expect = {WRITE: want, ADD: want + 0.5, NULL: np.full(want.shape, np.nan)}[req]
        np.testing.assert_allclose(y, expect, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("split", ["rows", "channels"])
@pytest.mark.parametrize("waste", [-1.0, 1e9], ids=["plain", "wide"])
@given(data=st.data())
def test_single_sample_split_matches_reference(split, waste, data):
    """Fewer samples than threads: each sample's forward split over 2 threads by output rows (each thread unfolds
    its own) or by output channels (over columns unfolded once), with the fused epilogue, equals the reference."""
    old = cpu_conv.SPLIT_MIN_COLUMNS
    cpu_conv.SPLIT_MIN_COLUMNS = 0 if split == "rows" else 1 << 30
    try:
        with forced_paths(FORWARD_WIDE_MAX_WASTE=waste, FORWARD_TAPS_MIN_COLUMNS=1 << 30), _threads(2):
            attrs, inputs = specs_fold.fused_sample(data.draw, np.dtype(np.float32))
            inputs[0] = inputs[0][:1]
            p = registry.get("_conv_fused").parse_params(attrs)
            want = specs_fold.fused_reference(p, *(a.astype(np.float64) for a in inputs))
            req = data.draw(st.sampled_from([WRITE, ADD]))
            y = np.full(want.shape, 0.5, np.float32)
            registry.get("_conv_fused").cpu(OpContext(), p, inputs, [y], [req])
            np.testing.assert_allclose(y, want + (0.5 if req == ADD else 0), rtol=1e-4, atol=1e-4)
    finally:
        cpu_conv.SPLIT_MIN_COLUMNS = old


@given(data=st.data(), threads=st.sampled_from([1, 2]))
def test_samples_batched_in_one_gemm_match_reference(data, threads):
    """Plain im2col with several samples per thread: their columns side by side in one GEMM (`forward_samples`),
    each cropped with the fused epilogue into its own output, equals the reference."""
    batched = []
    real = conv_unfold._Unfold.forward_samples

    def spy(self, weights, xs, *rest):
        batched.append(xs.shape[0])
        return real(self, weights, xs, *rest)
    conv_unfold._Unfold.forward_samples = spy
    try:
        with forced_paths(FORWARD_WIDE_MAX_WASTE=-1.0), _threads(threads):
            attrs, inputs = specs_fold.fused_sample(data.draw, np.dtype(np.float32))
            attrs["num_group"] = 1
            p = registry.get("_conv_fused").parse_params(attrs)
            n = data.draw(st.integers(2 * threads, 7))
            inputs[0] = np.random.RandomState(n).uniform(-1, 1, (n, inputs[0].shape[1]) + inputs[0].shape[2:])
            inputs[0] = inputs[0].astype(np.float32)
            inputs[1] = np.random.RandomState(1).uniform(-1, 1, (p.num_filter, inputs[0].shape[1]) + tuple(p.kernel))
            inputs[1] = inputs[1].astype(np.float32)
            want = specs_fold.fused_reference(p, *(a.astype(np.float64) for a in inputs))
            y = np.full(want.shape, 0.5, np.float32)
            registry.get("_conv_fused").cpu(OpContext(), p, inputs, [y], [ADD])
            np.testing.assert_allclose(y, want + 0.5, rtol=1e-4, atol=1e-4)
    finally:
        conv_unfold._Unfold.forward_samples = real
    assert batched and sum(batched) == n and max(batched) > 1


@pytest.mark.parametrize("taps", [True, False], ids=["gemm per tap", "im2col"])
@given(data=st.data(), dtype=_DTYPES, req=_REQS)
def test_wide_paths_match_reference(taps, data, dtype, req):
    """Unit strides: one GEMM per tap over the padded image (ops/cpu/conv_taps.py), or wide im2col, forward and
    backward."""
    with forced_paths(WIDE_MAX_WASTE=1e9, FORWARD_WIDE_MAX_WASTE=1e9, TAPS=taps, TAPS_MIN_COLUMNS=0,
                      FORWARD_TAPS_MIN_COLUMNS=0):
        attrs, inputs = specs_conv.conv_sample(data.draw, np.dtype(dtype))
        attrs.pop("stride", None)
        shape, seed = inputs[0].shape, data.draw(st.integers(0, 2 ** 16))
        with _threads(data.draw(st.sampled_from([1, 2]))):
            _check_convolution({k: str(v) for k, v in attrs.items()}, shape, seed, req, dtype)
