"""Winograd F(2x2, 3x3) (ops/cpu/winograd.py) against the float64 direct convolution of tests/reference_conv.py.

- The kernel itself over random shapes, pads, batches, channels, odd and even output sizes (edge tiles cropped),
  groups of samples per GEMM, the split by output channels (batch 1 on several threads), float32 and float64, with
  each epilogue (scale and bias, relu, clip, leaky) against the reference followed by the same epilogue in numpy.
- The rule (`conv.winograd_pays`): where it is chosen, the Convolution op and `_conv_fused` (inference folding: a
  bound Executor without gradients) run it and equal the reference.
- The data gradient as a Winograd convolution of dy with the flipped weights (`conv._winograd_data_grad`), pads 0-2,
  grad_req write and add, against the reference backward.
- Kept weight transforms (`winograd.kept_transform`, `_conv_fused`): reused while the weights are unchanged, and the
  reference answer after an in-place change, for a new array, a freed array's successor, another layer of the same
  shapes, through the kernel, a bound Executor and a hybridized Gluon block (`set_data`, re-initialisation).
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dataflow as mx
from ops import registry
from ops.cpu import conv as cpu_conv
from ops.registry import ADD, WRITE, OpContext
from ops.cpu import conv_parallel, winograd
from ops.cpu.conv_epilogue import Activation
from tests import op_specs  # noqa: F401  (first: it imports tests.specs_conv, which imports it back)
from tests import reference_conv as R

_TOL = {np.float32: 2e-5, np.float64: 1e-12}       # of the largest |output|


def _params(filters, pad):
    return registry.get("Convolution").parse_params(
        dict(kernel="(3, 3)", pad="(%d, %d)" % pad, num_filter=str(filters), no_bias="True"))


def _epilogue(y, scale, bias, act):
    """numpy's epilogue: y * scale + bias per channel, then the activation (name, scalars)."""
    y = y * scale[None, :, None, None] + bias[None, :, None, None]
    kind, a, b = act
    if kind == "relu":
        return np.maximum(y, 0)
    if kind == "clip":
        return np.clip(y, a, b)
    if kind == "leaky":
        return np.where(y > 0, y, y * a)
    return y


def _activation(act, dtype):
    kind, a, b = act
    dtype = np.dtype(dtype)
    if kind == "relu":
        return Activation.clip(0.0, np.inf, dtype)
    if kind == "clip":
        return Activation.clip(a, b, dtype)
    if kind == "leaky":
        return Activation(True, (dtype.type(a),) + Activation.none(dtype).scalars[1:])
    return Activation.none(dtype)


@st.composite
def winograd_case(draw):
    n = draw(st.integers(1, 5))
    c, f = draw(st.integers(1, 9)), draw(st.integers(1, 40))
    h, w = draw(st.integers(1, 13)), draw(st.integers(1, 13))
    pad = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    if h + 2 * pad[0] < 3 or w + 2 * pad[1] < 3:
        pad = (max(pad[0], 1), max(pad[1], 1))
    act = draw(st.sampled_from([("none", 0, 0), ("relu", 0, 0), ("clip", -0.5, 0.75), ("leaky", 0.1, 0)]))
    return dict(n=n, c=c, f=f, h=h, w=w, pad=pad, act=act, dtype=draw(st.sampled_from([np.float32, np.float64])),
                cores=draw(st.sampled_from([1, 2, 4])), group_tiles=draw(st.sampled_from([1, 7, 256])),
                seed=draw(st.integers(0, 2 ** 16)))


@given(winograd_case())
def test_winograd_equals_the_direct_convolution(case):
    rng = np.random.RandomState(case["seed"])
    dtype = case["dtype"]
    n, c, f, h, w, pad = (case[k] for k in ("n", "c", "f", "h", "w", "pad"))
    x = rng.uniform(-1, 1, (n, c, h, w)).astype(dtype)
    wt = rng.uniform(-1, 1, (f, c, 3, 3)).astype(dtype)
    scale, bias = rng.uniform(0.5, 2, f).astype(dtype), rng.uniform(-1, 1, f).astype(dtype)
    want = _epilogue(R.convolution(_params(f, pad), x.astype(np.float64), wt.astype(np.float64)), scale, bias,
                     case["act"])
    got = np.full(want.shape, np.nan, dtype)
    old = winograd.GROUP_TILES
    winograd.GROUP_TILES = case["group_tiles"]      # several samples per GEMM, and a smaller last group
    try:
        winograd.forward(x, wt, pad, got, scale, bias, _activation(case["act"], dtype).args(),
                         conv_parallel.for_each, case["cores"])
    finally:
        winograd.GROUP_TILES = old
    np.testing.assert_allclose(got, want, rtol=0, atol=_TOL[dtype] * max(1.0, np.abs(want).max()))


def test_applies_only_to_unit_stride_3x3_one_group():
    assert winograd.applies((1, 3, 3), (1, 1, 1), (1, 1, 1), 1, 2, np.float32)
    assert not winograd.applies((1, 3, 3), (1, 2, 2), (1, 1, 1), 1, 2, np.float32)
    assert not winograd.applies((1, 3, 3), (1, 1, 1), (1, 2, 2), 1, 2, np.float32)
    assert not winograd.applies((1, 3, 3), (1, 1, 1), (1, 1, 1), 2, 2, np.float32)
    assert not winograd.applies((1, 5, 5), (1, 1, 1), (1, 1, 1), 1, 2, np.float32)
    assert not winograd.applies((3, 3, 3), (1, 1, 1), (1, 1, 1), 1, 3, np.float32)
    assert not winograd.applies((1, 3, 3), (1, 1, 1), (1, 1, 1), 1, 2, np.float16)


@pytest.mark.parametrize("n, channels, size, chosen", [
    (1, 64, 12, True), (1, 64, 7, True), (1, 32, 12, False), (1, 512, 7, False), (8, 512, 7, True),
    (1, 256, 14, True), (1, 256, 8, False)])
def test_the_rule(n, channels, size, chosen):
    p = _params(channels, (1, 1))
    assert cpu_conv.winograd_pays(p, (n, channels, size, size), (n, channels, size, size), np.float32) == chosen


def _spy_forward(monkeypatch):
    calls = []
    real = winograd.forward

    def spy(*args, **kwargs):
        calls.append(args[0].shape)
        return real(*args, **kwargs)
    monkeypatch.setattr(winograd, "forward", spy)
    return calls


@pytest.mark.parametrize("n, size", [(1, 12), (2, 9)])
def test_convolution_op_runs_winograd_where_chosen(monkeypatch, n, size):
    calls = _spy_forward(monkeypatch)
    rng = np.random.RandomState(3)
    x = rng.uniform(-1, 1, (n, 64, size, size)).astype(np.float32)
    w = rng.uniform(-0.1, 0.1, (64, 64, 3, 3)).astype(np.float32)
    b = rng.uniform(-1, 1, 64).astype(np.float32)
    got = mx.nd.Convolution(mx.nd.array(x), mx.nd.array(w), mx.nd.array(b), kernel=(3, 3), pad=(1, 1),
                            num_filter=64).asnumpy()
    p = registry.get("Convolution").parse_params(dict(kernel="(3, 3)", pad="(1, 1)", num_filter="64"))
    want = R.convolution(p, x.astype(np.float64), w.astype(np.float64), b.astype(np.float64))
    assert calls, "the rule chose Winograd for this case"
    np.testing.assert_allclose(got, want, rtol=0, atol=_TOL[np.float32] * np.abs(want).max())


def test_folded_block_with_winograd_equals_the_unfolded_graph(monkeypatch):
    """conv3x3 -> BatchNorm -> relu bound without gradients folds into `_conv_fused`, whose forward runs Winograd;
    its output equals the reference convolution followed by numpy's BatchNorm and relu."""
    calls = _spy_forward(monkeypatch)
    rng = np.random.RandomState(4)
    data = mx.sym.var("data")
    conv = mx.sym.Convolution(data, kernel=(3, 3), pad=(1, 1), num_filter=64, no_bias=True, name="c")
    sym = mx.sym.Activation(mx.sym.BatchNorm(conv, fix_gamma=False, eps=1e-3, name="bn"), act_type="relu")
    ex = sym.simple_bind(mx.cpu(), grad_req="null", data=(2, 64, 10, 10))
    values = {"data": rng.uniform(-1, 1, (2, 64, 10, 10)), "c_weight": rng.uniform(-0.1, 0.1, (64, 64, 3, 3)),
              "bn_gamma": rng.uniform(0.5, 2, 64), "bn_beta": rng.uniform(-1, 1, 64),
              "bn_moving_mean": rng.uniform(-1, 1, 64), "bn_moving_var": rng.uniform(0.5, 2, 64)}
    for name, v in values.items():
        (ex.arg_dict[name] if name in ex.arg_dict else ex.aux_dict[name])[:] = v.astype(np.float32)
    got = ex.forward(is_train=False)[0].asnumpy()
    v32 = {k: v.astype(np.float32).astype(np.float64) for k, v in values.items()}
    y = R.convolution(_params(64, (1, 1)), v32["data"], v32["c_weight"])
    scale = v32["bn_gamma"] / np.sqrt(v32["bn_moving_var"] + 1e-3)
    want = np.maximum(_epilogue(y, scale, v32["bn_beta"] - v32["bn_moving_mean"] * scale, ("none", 0, 0)), 0)
    assert calls, "the folded convolution ran Winograd"
    np.testing.assert_allclose(got, want, rtol=0, atol=_TOL[np.float32] * np.abs(want).max())


@pytest.mark.parametrize("pad", [0, 1, 2])
@pytest.mark.parametrize("req", ["write", "add"])
def test_data_gradient_by_winograd_equals_the_reference(monkeypatch, pad, req):
    """Where `_winograd_data_grad` takes the data gradient (many channels and tiles, small images), dx equals the
    reference (with grad_req add: on top of what was there) and the weight gradient is still the im2col one."""
    calls = _spy_forward(monkeypatch)
    rng = np.random.RandomState(5 + pad)
    n, c, f, size = 12, 128, 128, 7     # 192 tiles: WINOGRAD_DATA_GRAD_MIN_TILES
    p = _params(f, (pad, pad))
    x = rng.uniform(-1, 1, (n, c, size, size)).astype(np.float32)
    w = rng.uniform(-0.1, 0.1, (f, c, 3, 3)).astype(np.float32)
    out = size + 2 * pad - 2
    dy = rng.uniform(-1, 1, (n, f, out, out)).astype(np.float32)
    want_dx, want_dw = R.backward_convolution(p, dy.astype(np.float64), x.astype(np.float64), w.astype(np.float64))[:2]
    before = rng.uniform(-1, 1, x.shape).astype(np.float32) if req == "add" else np.full(x.shape, np.nan, np.float32)
    dx, dw = before.copy(), np.full(w.shape, np.nan, np.float32)
    code = ADD if req == "add" else WRITE
    cpu_conv._backward_convolution(OpContext(), p, [dy, x, w], [dx, dw], [code, WRITE])
    assert calls == [dy.shape], "the data gradient ran Winograd"
    if req == "add":
        want_dx = want_dx + before
    np.testing.assert_allclose(dx, want_dx, rtol=0, atol=_TOL[np.float32] * np.abs(want_dx).max())
    np.testing.assert_allclose(dw, want_dw, rtol=0, atol=1e-4 * np.abs(want_dw).max())


@pytest.mark.parametrize("req", ["write", "add"])
def test_data_gradient_by_winograd_beside_the_per_tap_weight_gradient(monkeypatch, req):
    """At 14x14 (wide columns: the weight gradient by one GEMM per tap, ops/cpu/conv_taps.py) the data gradient is
    still `_winograd_data_grad`'s where it has the channels and tiles; both equal the reference."""
    from ops.cpu import conv_grads
    calls = _spy_forward(monkeypatch)
    taps = []
    real = conv_grads.taps_backward_cl
    monkeypatch.setattr(conv_grads, "taps_backward_cl", lambda *a: taps.append((a[9], a[11])) or real(*a))
    rng = np.random.RandomState(3)
    n, c, f, size = 4, 128, 128, 14      # 4 x 49 = 196 tiles
    p = _params(f, (1, 1))
    x = rng.uniform(-1, 1, (n, c, size, size)).astype(np.float32)
    w = rng.uniform(-0.1, 0.1, (f, c, 3, 3)).astype(np.float32)
    dy = rng.uniform(-1, 1, (n, f, size, size)).astype(np.float32)
    want_dx, want_dw = R.backward_convolution(p, dy.astype(np.float64), x.astype(np.float64), w.astype(np.float64))[:2]
    before = rng.uniform(-1, 1, x.shape).astype(np.float32) if req == "add" else np.full(x.shape, np.nan, np.float32)
    dx, dw = before.copy(), np.full(w.shape, np.nan, np.float32)
    cpu_conv._backward_convolution(OpContext(), p, [dy, x, w], [dx, dw], [ADD if req == "add" else WRITE, WRITE])
    assert calls == [dy.shape], "the data gradient ran Winograd"
    assert taps == [(False, True)] * n, "the weight gradient ran per tap, alone"
    if req == "add":
        want_dx = want_dx + before
    np.testing.assert_allclose(dx, want_dx, rtol=0, atol=_TOL[np.float32] * np.abs(want_dx).max())
    np.testing.assert_allclose(dw, want_dw, rtol=0, atol=1e-4 * np.abs(want_dw).max())


# --- kept weight transforms (Note [kept weight transforms] in ops/cpu/winograd.py) --------------------------------

def test_kept_transform_is_reused_only_while_the_weights_are_the_same(monkeypatch):
    """A second call with unchanged weights reuses U (no transform) and it equals a fresh transform; an in-place
    change of one element, a copy, a freed array's successor and another array of the same shape each get the
    transform of their own values."""
    made = []
    real = winograd.weight_transform
    monkeypatch.setattr(winograd, "weight_transform", lambda w, u: (made.append(w.shape), real(w, u)))

    def fresh(w):
        u = winograd.planes(w.shape[0], w.shape[1], w.dtype)
        real(w, u)
        return np.array(u)

    rng = np.random.RandomState(6)
    for dtype in (np.float32, np.float64):
        made.clear()
        w = rng.uniform(-1, 1, (20, 9, 3, 3)).astype(dtype)
        first = winograd.kept_transform(w)
        assert winograd.kept_transform(w) is first and len(made) == 1
        np.testing.assert_array_equal(first, fresh(w))
        w[19, 8, 2, 2] += 1      # the last element: the last, partial block of the check
        np.testing.assert_array_equal(winograd.kept_transform(w), fresh(w))
        w[0, 0, 0, 0] = -w[0, 0, 0, 0]
        np.testing.assert_array_equal(winograd.kept_transform(w), fresh(w))
        other = rng.uniform(-1, 1, w.shape).astype(dtype)
        np.testing.assert_array_equal(winograd.kept_transform(other), fresh(other))
        np.testing.assert_array_equal(winograd.kept_transform(w), fresh(w))
        big = rng.uniform(-1, 1, (64, 64, 3, 3)).astype(dtype)      # several 4096-element blocks
        winograd.kept_transform(big)
        big[40, 3, 1, 1] *= 2
        np.testing.assert_array_equal(winograd.kept_transform(big), fresh(big))
        for _ in range(3):      # a new array, often at the address of the one just freed
            del big
            big = rng.uniform(-1, 1, (64, 64, 3, 3)).astype(dtype)
            np.testing.assert_array_equal(winograd.kept_transform(big), fresh(big))


def test_kept_transforms_are_dropped_with_their_weights():
    w = np.random.RandomState(7).uniform(-1, 1, (12, 5, 3, 3)).astype(np.float32)
    winograd.kept_transform(w[:])       # a view: kept for the array owning the buffer
    key = (w.ctypes.data, w.shape, w.dtype.str)
    assert key in winograd._kept
    del w
    assert key not in winograd._kept


def test_the_rule_with_kept_weights():
    """Kept weights take Winograd with fewer tiles per channel pair (128 x 128 at 4x4: 4 tiles), not 512 at 7x7."""
    p = _params(128, (1, 1))
    shape = (1, 128, 4, 4)
    assert not cpu_conv.winograd_pays(p, shape, shape, np.float32)
    assert cpu_conv.winograd_pays(p, shape, shape, np.float32, kept=True)
    shape = (1, 512, 7, 7)
    assert not cpu_conv.winograd_pays(_params(512, (1, 1)), shape, shape, np.float32, kept=True)


def _fused_params(filters):
    return registry.get("_conv_fused").parse_params(dict(
        kernel="(3, 3)", pad="(1, 1)", num_filter=str(filters), no_bias="True", scale_shift="True",
        act_type="relu"))


def test_conv_fused_keeps_the_transform_and_sees_every_change(monkeypatch):
    """`_conv_fused` where kept Winograd is chosen: the kept path equals the reference on the first call, on a
    repeated call (no new transform), after an in-place change of the weights, with a new weight array and for a
    second layer of the same shapes; a float16 weight's float32 copy is never kept."""
    calls = _spy_forward(monkeypatch)
    made = []
    real = winograd.weight_transform
    monkeypatch.setattr(winograd, "weight_transform", lambda w, u: (made.append(w.shape), real(w, u)))
    rng = np.random.RandomState(8)
    c, size = 128, 4
    p = _fused_params(c)
    x = rng.uniform(-1, 1, (1, c, size, size)).astype(np.float32)
    scale, shift = rng.uniform(0.5, 2, c).astype(np.float32), rng.uniform(-1, 1, c).astype(np.float32)

    def run(w, x=x):
        out = np.full(x.shape, np.nan, np.float32)
        cpu_conv.convolution_fused(OpContext(), p, [x, w, scale, shift], [out], [WRITE])
        want = _epilogue(R.convolution(_params(c, (1, 1)), x.astype(np.float64), w.astype(np.float64)), scale,
                         shift, ("relu", 0, 0))
        np.testing.assert_allclose(out, want, rtol=0, atol=_TOL[np.float32] * np.abs(want).max())

    w = rng.uniform(-0.1, 0.1, (c, c, 3, 3)).astype(np.float32)
    run(w)
    run(w)
    assert len(calls) == 2 and len(made) == 1, "the second call reused the kept transform"
    w[5:9] = rng.uniform(-0.1, 0.1, w[5:9].shape)
    run(w)
    run(w.copy())
    second_layer = rng.uniform(-0.1, 0.1, w.shape).astype(np.float32)
    run(second_layer)
    run(w)
    assert len(made) == 4
    kept = len(winograd._kept)
    half, x8 = w.astype(np.float16), rng.uniform(-1, 1, (1, c, 8, 8)).astype(np.float32)   # 8x8: Winograd anyway
    run(half, x8)
    run(half, x8)
    assert len(made) == 6 and len(calls) == 8 and len(winograd._kept) == kept


def test_folded_executor_sees_in_place_weight_changes(monkeypatch):
    """A bound inference graph (conv -> BatchNorm -> relu folded into `_conv_fused`, kept Winograd at batch 1)
    run again reuses the transform; after `arg_dict['c_weight'][:] = new` it gives the new answer; a second
    executor of the same shapes gives its own."""
    calls = _spy_forward(monkeypatch)
    made = []
    real = winograd.weight_transform
    monkeypatch.setattr(winograd, "weight_transform", lambda w, u: (made.append(w.shape), real(w, u)))
    rng = np.random.RandomState(9)
    c, size = 128, 4
    data = mx.sym.var("data")
    conv = mx.sym.Convolution(data, kernel=(3, 3), pad=(1, 1), num_filter=c, no_bias=True, name="c")
    sym = mx.sym.Activation(mx.sym.BatchNorm(conv, fix_gamma=False, eps=1e-3, name="bn"), act_type="relu")

    def bind(values):
        ex = sym.simple_bind(mx.cpu(), grad_req="null", data=(1, c, size, size))
        for name, v in values.items():
            (ex.arg_dict[name] if name in ex.arg_dict else ex.aux_dict[name])[:] = v
        return ex

    def want(values):
        v = {k: a.astype(np.float64) for k, a in values.items()}
        s = v["bn_gamma"] / np.sqrt(v["bn_moving_var"] + 1e-3)
        y = R.convolution(_params(c, (1, 1)), v["data"], v["c_weight"])
        return np.maximum(_epilogue(y, s, v["bn_beta"] - v["bn_moving_mean"] * s, ("none", 0, 0)), 0)

    def check(ex, values):
        got = ex.forward(is_train=False)[0].asnumpy()
        expected = want(values)
        np.testing.assert_allclose(got, expected, rtol=0, atol=_TOL[np.float32] * np.abs(expected).max())

    def values():
        return {k: rng.uniform(lo, hi, shape).astype(np.float32) for k, (lo, hi, shape) in dict(
            data=(-1, 1, (1, c, size, size)), c_weight=(-0.1, 0.1, (c, c, 3, 3)), bn_gamma=(0.5, 2, c),
            bn_beta=(-1, 1, c), bn_moving_mean=(-1, 1, c), bn_moving_var=(0.5, 2, c)).items()}

    first = values()
    ex = bind(first)
    check(ex, first)
    check(ex, first)
    assert len(calls) == 2 and len(made) == 1, "the second forward reused the kept transform"
    first["c_weight"] = rng.uniform(-0.1, 0.1, first["c_weight"].shape).astype(np.float32)
    ex.arg_dict["c_weight"][:] = first["c_weight"]
    check(ex, first)
    second = values()
    other = bind(second)
    check(other, second)
    check(ex, first)
    assert len(calls) == 5 and len(made) == 3


def test_hybridized_block_sees_set_data(monkeypatch):
    """A hybridized conv -> BatchNorm -> relu block at batch 1 (inference: folded, kept Winograd) gives the
    reference answer after `weight.set_data(new)` (an in-place write through the engine) and after the
    parameters are initialised again (new arrays)."""
    calls = _spy_forward(monkeypatch)
    rng = np.random.RandomState(10)
    c, size = 128, 4
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Conv2D(c, 3, padding=1, use_bias=False, in_channels=c),
            mx.gluon.nn.BatchNorm(in_channels=c), mx.gluon.nn.Activation("relu"))
    net.initialize()
    net.hybridize()
    x = rng.uniform(-1, 1, (1, c, size, size)).astype(np.float32)
    weight = net[0].weight

    def check():
        got = net(mx.nd.array(x)).asnumpy()
        w = weight.data().asnumpy().astype(np.float64)
        y = R.convolution(_params(c, (1, 1)), x.astype(np.float64), w) / np.sqrt(1 + 1e-5)
        np.testing.assert_allclose(got, np.maximum(y, 0), rtol=0, atol=_TOL[np.float32] * np.abs(y).max())

    for _ in range(2):
        weight.set_data(mx.nd.array(rng.uniform(-0.1, 0.1, (c, c, 3, 3))))
        check()
        check()
    net.initialize(mx.init.Uniform(0.1), force_reinit=True)
    check()
    assert len(calls) == 5, "each forward ran kept Winograd"


@given(filters=st.integers(1, 70), channels=st.integers(1, 70), dtype=st.sampled_from([np.float32, np.float64]))
def test_the_data_gradient_transform_reads_the_weights_flipped_in_place(filters, channels, dtype):
    """`data_grad_transform` (blocks of 32 x 32, a transposed view) equals the transform of the flipped, transposed copy
    bit for bit, for sizes that do and do not fill the blocks."""
    w = np.random.RandomState(filters * 71 + channels).uniform(-1, 1, (filters, channels, 3, 3)).astype(dtype)
    want = winograd.planes(channels, filters, dtype)
    winograd.weight_transform(np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)), want)
    np.testing.assert_array_equal(winograd.data_grad_transform(w, dtype), want)
