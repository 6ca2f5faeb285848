"""Winograd F(2x2, 3x3) (ops/cpu/winograd.py) against the float64 direct convolution of tests/reference_conv.py.

- The kernel itself over random shapes, pads, batches, channels, odd and even output sizes (edge tiles cropped),
  groups of samples per GEMM, the split by output channels (batch 1 on several threads), float32 and float64, with
  each epilogue (scale and bias, relu, clip, leaky) against the reference followed by the same epilogue in numpy.
- The rule (`conv.winograd_pays`): where it is chosen, the Convolution op and `_conv_fused` (inference folding: a
  bound Executor without gradients) run it and equal the reference.
- The data gradient as a Winograd convolution of dy with the flipped weights (`conv._winograd_data_grad`), pads 0-2,
  grad_req write and add, against the reference backward.
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
    n, c, f, size = 8, 128, 128, 7
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
