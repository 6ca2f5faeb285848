"""Inference folding (scheduler/fold.py): a BatchNorm after a Convolution folded into the convolution's weight and
bias when a graph runs without gradients and not in training.

Truth: a float64 numpy convolution (tests/reference_conv.py) followed by BatchNorm's inference formula
(gamma * (y - moving_mean) / sqrt(moving_var + eps) + beta, gamma = 1 with fix_gamma), and the same graph with the
pass switched off (DATAFLOW_FOLD=0). Which nodes the pass rewrites is read off the lowered graph.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dataflow as mx
from scheduler import build
from tests.reference_conv import _conv_f64


def _nodes(heads, shapes=None, fold=True):
    """The op nodes of the lowered graph of `heads` (a Symbol), folded as an inference bind would."""
    lowered = build.lower(heads._outputs, shapes or {}, {}, fold=fold, infer=False)
    return [node for node in lowered.graph.nodes if node.op is not None]


def _ops(heads, shapes=None, fold=True):
    return [node.op.name for node in _nodes(heads, shapes, fold)]


def _conv_bn(data, num_filter=4, kernel=(3, 3), no_bias=False, num_group=1, fix_gamma=False, eps=1e-3, name="c"):
    conv = mx.sym.Convolution(data, num_filter=num_filter, kernel=kernel, pad=tuple(k // 2 for k in kernel),
                              no_bias=no_bias, num_group=num_group, name=name)
    return conv, mx.sym.BatchNorm(conv, fix_gamma=fix_gamma, eps=eps, name=name + "_bn")


@pytest.fixture(autouse=True, scope="module")
def folding_on():
    """The pass is on here whatever the environment says (DATAFLOW_FOLD=0 switches it off)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATAFLOW_FOLD", "1")
        yield


@pytest.fixture
def folds(monkeypatch):
    """The number of graphs the pass has rewritten so far, as a one-element list (spying on scheduler/build.py)."""
    count = [0]
    real = build.fold_inference

    def spy(heads, graph=None):
        folded = real(heads, graph)
        count[0] += folded is not heads
        return folded
    monkeypatch.setattr(build, "fold_inference", spy)
    return count


def _block(out, data):
    """A SymbolBlock of `out`, its parameters ones until `_set_params` sets them."""
    block = mx.gluon.SymbolBlock(out, data)
    block.initialize(mx.init.One())
    return block


def _set_params(block, shapes, rng):
    values = {}
    for name, shape in shapes.items():
        value = rng.uniform(0.5, 1.5, shape) if name.endswith(("_var", "_gamma")) else rng.uniform(-1, 1, shape)
        values[name] = value.astype(np.float32)
        block.collect_params()[name].set_data(mx.nd.array(values[name]))
    return values


def _bn_reference(y, v, prefix, fix_gamma, eps):
    per_channel = (1, -1) + (1,) * (y.ndim - 2)
    gamma = 1.0 if fix_gamma else v[prefix + "_gamma"].reshape(per_channel)
    return (gamma * (y - v[prefix + "_moving_mean"].reshape(per_channel))
            / np.sqrt(v[prefix + "_moving_var"].reshape(per_channel) + eps) + v[prefix + "_beta"].reshape(per_channel))


@settings(deadline=None)
@given(nd=st.sampled_from([1, 2]), groups=st.sampled_from([1, 2]), channels=st.integers(1, 2),
       filters=st.integers(1, 3), kernel=st.sampled_from([1, 3]), no_bias=st.booleans(), fix_gamma=st.booleans(),
       eps=st.sampled_from([1e-5, 1e-3, 0.1]), batch=st.integers(1, 2), relu=st.booleans(),
       seed=st.integers(0, 2 ** 31 - 1))
def test_folded_inference_equals_the_reference(nd, groups, channels, filters, kernel, no_bias, fix_gamma, eps,
                                               batch, relu, seed):
    rng = np.random.RandomState(seed)
    c_in, c_out, spatial = channels * groups, filters * groups, (5,) * nd
    data = mx.sym.var("data")
    _, out = _conv_bn(data, c_out, (kernel,) * nd, no_bias, groups, fix_gamma, eps)
    if relu:
        out = mx.sym.Activation(out, act_type="relu", name="act")
    assert "_fold_bn_scale" in _ops(out) and "BatchNorm" not in _ops(out) and "Activation" not in _ops(out)
    assert [n.params.act_type for n in _nodes(out) if n.op.name == "_conv_fused"] == ["relu" if relu else "none"]
    block = _block(out, data)
    shapes = {"c_weight": (c_out, channels) + (kernel,) * nd, "c_bn_gamma": (c_out,), "c_bn_beta": (c_out,),
              "c_bn_moving_mean": (c_out,), "c_bn_moving_var": (c_out,)}
    if not no_bias:
        shapes["c_bias"] = (c_out,)
    x = rng.uniform(-1, 1, (batch, c_in) + spatial).astype(np.float32)
    block(mx.nd.array(x))       # finishes the deferred initialisation
    v = _set_params(block, shapes, rng)
    y = _conv_f64(x.astype(np.float64), v["c_weight"].astype(np.float64), (1,) * nd, (kernel // 2,) * nd,
                  (1,) * nd, groups)
    if not no_bias:
        y += v["c_bias"].reshape((1, -1) + (1,) * nd)
    want = _bn_reference(y, v, "c_bn", fix_gamma, eps)
    if relu:
        want = np.maximum(want, 0)
    np.testing.assert_allclose(block(mx.nd.array(x)).asnumpy(), want, rtol=1e-4, atol=1e-5)


def test_folded_equals_unfolded_and_follows_changed_parameters(monkeypatch, folds):
    """A Gluon net, hybridized: folded inference equals the unfolded graph's, also after its parameters change."""
    rng = np.random.RandomState(0)
    x = mx.nd.array(rng.uniform(-1, 1, (2, 3, 6, 6)))

    def net_output(fold):
        monkeypatch.setenv("DATAFLOW_FOLD", "1" if fold else "0")
        net = mx.gluon.nn.HybridSequential(prefix="net_")
        with net.name_scope():
            net.add(mx.gluon.nn.Conv2D(8, 3, padding=1, in_channels=3), mx.gluon.nn.BatchNorm(in_channels=8),
                    mx.gluon.nn.Activation("relu"), mx.gluon.nn.Conv2D(4, 1, use_bias=False, in_channels=8),
                    mx.gluon.nn.BatchNorm(in_channels=4))
        net.initialize(mx.init.Xavier(rnd_type="gaussian"))
        params = net.collect_params()
        state = np.random.RandomState(1)
        for name in sorted(params.keys()):
            params[name].set_data(mx.nd.array(state.uniform(0.5, 1.5, params[name].shape)))
        net.hybridize()
        first = net(x).asnumpy()
        for name in sorted(params.keys()):      # new values between calls: the folded weights follow them
            if "gamma" in name or "running" in name:
                params[name].set_data(mx.nd.array(state.uniform(0.5, 1.5, params[name].shape)))
        return first, net(x).asnumpy()

    unfolded = net_output(False)
    assert folds == [0]
    folded = net_output(True)
    assert folds == [1]
    for a, b in zip(folded, unfolded):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert not np.allclose(folded[0], folded[1])


def test_batchnorm_output_read_twice_is_folded_for_both_readers(folds):
    data = mx.sym.var("data")
    _, bn = _conv_bn(data, num_filter=2)
    out = mx.sym.Group([mx.sym.relu(bn), bn * 2])
    assert _ops(out).count("_conv_fused") == 1 and "BatchNorm" not in _ops(out)
    rng = np.random.RandomState(3)
    block = _block(out, data)
    x = rng.uniform(-1, 1, (1, 1, 4, 4)).astype(np.float32)
    block(mx.nd.array(x))
    v = _set_params(block, {"c_weight": (2, 1, 3, 3), "c_bias": (2,), "c_bn_gamma": (2,), "c_bn_beta": (2,),
                            "c_bn_moving_mean": (2,), "c_bn_moving_var": (2,)}, rng)
    y = _conv_f64(x.astype(np.float64), v["c_weight"].astype(np.float64), (1, 1), (1, 1), (1, 1), 1)
    want = _bn_reference(y + v["c_bias"].reshape(1, -1, 1, 1), v, "c_bn", False, 1e-3)
    relu, twice = block(mx.nd.array(x))
    assert folds[0] >= 1        # the SymbolBlock's inference graph was folded
    np.testing.assert_allclose(relu.asnumpy(), np.maximum(want, 0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(twice.asnumpy(), 2 * want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", ["conv read elsewhere", "conv is a head", "mean and var shown", "axis 3",
                                  "after Deconvolution"])
def test_not_folded(case):
    data = mx.sym.var("data")
    conv, bn = _conv_bn(data)
    if case == "conv read elsewhere":
        out = bn + conv
    elif case == "conv is a head":
        out = mx.sym.Group([bn, conv])
    elif case == "mean and var shown":
        out = mx.sym.BatchNorm(conv, output_mean_var=True, name="bn2")
    elif case == "axis 3":
        out = mx.sym.BatchNorm(conv, axis=3, name="bn2")
    else:
        out = mx.sym.BatchNorm(mx.sym.Deconvolution(data, num_filter=2, kernel=(3, 3)), name="bn2")
    assert "BatchNorm" in _ops(out) and "_fold_bn_scale" not in _ops(out)


@pytest.mark.parametrize("case", ["conv read elsewhere", "conv is a head", "sigmoid", "elu",
                                  "after an unfolded BatchNorm", "second activation"])
def test_relu_epilogue_not_fused(case):
    data = mx.sym.var("data")
    conv = mx.sym.Convolution(data, num_filter=2, kernel=(3, 3), name="c")
    relu = mx.sym.Activation(conv, act_type="sigmoid" if case == "sigmoid" else "relu", name="act")
    if case == "elu":
        out = mx.sym.LeakyReLU(conv, act_type="elu")
    elif case == "second activation":       # the first folds, the clip after it stays a clip
        out = mx.sym.clip(relu, 0, 6)
        assert _ops(out) == ["_conv_fused", "clip"]
        return
    elif case == "conv read elsewhere":
        out = relu + conv
    elif case == "conv is a head":
        out = mx.sym.Group([relu, conv])
    elif case == "after an unfolded BatchNorm":     # the BatchNorm stays: relu reads no convolution
        out = mx.sym.relu(mx.sym.BatchNorm(conv, output_mean_var=True, name="bn")[0])
    else:
        out = relu
    assert "_conv_fused" not in _ops(out) and "Convolution" in _ops(out)
    assert "_conv_fused" in _ops(mx.sym.Activation(conv, act_type="relu"))


def test_relu_epilogue_equals_unfolded_and_export_is_untouched(monkeypatch, tmp_path):
    """A hybridized conv -> relu -> conv -> relu net: folded inference equals the unfolded graph's (NaN and -0 in
    the data included), and the exported JSON holds the user's ops, never the plan's internal ones."""
    rng = np.random.RandomState(11)
    x = rng.uniform(-1, 1, (2, 3, 7, 7)).astype(np.float32)
    x[0, 0, 3, 3] = np.nan
    outputs = {}
    for fold in (False, True):
        monkeypatch.setenv("DATAFLOW_FOLD", "1" if fold else "0")
        net = mx.gluon.nn.HybridSequential(prefix="net_")
        with net.name_scope():
            net.add(mx.gluon.nn.Conv2D(6, 3, padding=1, in_channels=3, activation="relu"),
                    mx.gluon.nn.Conv2D(4, 3, strides=2, in_channels=6, activation="relu"),
                    mx.gluon.nn.Conv2D(5, 1, in_channels=4, use_bias=False), mx.gluon.nn.Activation("relu"))
        net.initialize(mx.init.Uniform(1.0))
        for name, param in sorted(net.collect_params().items()):
            param.set_data(mx.nd.array(np.random.RandomState(len(name)).uniform(-1, 1, param.shape)))
        net.hybridize()
        outputs[fold] = net(mx.nd.array(x)).asnumpy()
        net.export(str(tmp_path / ("net%d" % fold)))
    np.testing.assert_allclose(outputs[True], outputs[False], rtol=1e-5, atol=1e-5)
    finite = outputs[True][~np.isnan(outputs[True])]
    assert np.isnan(outputs[True]).any() and (finite >= 0).all() and (finite > 0).any()
    exported = [(tmp_path / ("net%d-symbol.json" % fold)).read_text() for fold in (False, True)]
    assert exported[0] == exported[1] and "_conv_fused" not in exported[1] and '"Activation"' in exported[1]


@pytest.mark.parametrize("batch", [1, 3])
def test_activation_epilogues_equal_unfolded(monkeypatch, batch):
    """relu6 (`clip`, as mobilenetv2's RELU6), LeakyReLU(leaky) and `relu` after Convolution -> BatchNorm, on the
    im2col, per-tap and depthwise paths, fold into the convolutions' epilogues; the folded inference equals the
    unfolded graph's (NaN in the data included), and the float64 numpy reference."""
    rng = np.random.RandomState(batch)
    x = rng.uniform(-1, 1, (batch, 4, 20, 20)).astype(np.float32)
    x[0, 1, 5, 5] = np.nan

    def build():
        data = mx.sym.var("data")
        _, h = _conv_bn(data, num_filter=8, kernel=(3, 3), name="a")
        h = mx.sym.clip(h, 0, 6, name="relu6")
        _, h = _conv_bn(h, num_filter=8, kernel=(3, 3), num_group=8, name="dw")
        h = mx.sym.LeakyReLU(h, act_type="leaky", slope=0.1, name="leaky")
        h = mx.sym.Convolution(h, num_filter=6, kernel=(3, 3), stride=(2, 2), pad=(1, 1), name="s2")
        h = mx.sym.relu(h, name="r")
        return mx.sym.clip(mx.sym.Convolution(h, num_filter=5, kernel=(1, 1), name="pw"), -0.5, 0.25), data
    out, data = build()
    fused = {n.name: n.params for n in _nodes(out) if n.op.name == "_conv_fused"}
    assert {k: (p.act_type, p.a_min, p.a_max, p.slope) for k, p in fused.items()} == {
        "a": ("clip", 0.0, 6.0, 0.25), "dw": ("leaky", 0.0, 6.0, 0.1), "s2": ("relu", 0.0, 6.0, 0.25),
        "pw": ("clip", -0.5, 0.25, 0.25)}
    assert not {"clip", "LeakyReLU", "relu", "BatchNorm"} & set(_ops(out))
    outputs = {}
    for fold in (False, True):
        monkeypatch.setenv("DATAFLOW_FOLD", "1" if fold else "0")
        block = _block(out, data)
        block(mx.nd.array(x))
        v = _set_params(block, {name: block.collect_params()[name].shape for name in block.collect_params()},
                        np.random.RandomState(2))
        outputs[fold] = block(mx.nd.array(x)).asnumpy()
    np.testing.assert_allclose(outputs[True], outputs[False], rtol=1e-5, atol=1e-5)
    y = x.astype(np.float64)
    for name, groups, stride, pad in (("a", 1, 1, 1), ("dw", 8, 1, 1), ("s2", 1, 2, 1), ("pw", 1, 1, 0)):
        w = v[name + "_weight"].astype(np.float64)
        y = _conv_f64(y, w, (stride,) * 2, (pad,) * 2, (1, 1), groups) + v[name + "_bias"].reshape(1, -1, 1, 1)
        if name in ("a", "dw"):
            y = _bn_reference(y, v, name + "_bn", False, 1e-3)
        y = {"a": lambda t: np.where(t > 6, 6, np.where(t < 0, 0, t)), "dw": lambda t: np.where(t > 0, t, 0.1 * t),
             "s2": lambda t: np.maximum(t, 0), "pw": lambda t: np.where(t > 0.25, 0.25, np.where(t < -0.5, -0.5, t))
             }[name](y)
    assert np.isnan(y).any() and (np.isnan(y) == np.isnan(outputs[True])).all()
    np.testing.assert_allclose(outputs[True], y.astype(np.float32), rtol=1e-4, atol=1e-4)


def test_not_folded_with_gradients_or_switched_off(monkeypatch):
    data = mx.sym.var("data")
    _, bn = _conv_bn(data)
    assert "BatchNorm" in _ops(bn, fold=False)
    wrt = [e for e in bn.get_internals()._outputs if e.node.name == "c_weight"]
    lowered = build.lower(bn._outputs, {}, {}, wrt, [mx.sym.var("head_grad")._outputs[0]], fold=True, infer=False)
    assert "_fold_bn_scale" not in [n.op.name for n in lowered.graph.nodes if n.op is not None]
    monkeypatch.setenv("DATAFLOW_FOLD", "0")
    assert "BatchNorm" in _ops(bn)


def test_training_mode_is_not_folded(folds):
    """A hybridized block called in training mode outside record() normalises by the batch statistics."""
    rng = np.random.RandomState(5)
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Conv2D(3, 3, in_channels=2), mx.gluon.nn.BatchNorm(in_channels=3))
    net.initialize()
    x = mx.nd.array(rng.uniform(-1, 1, (4, 2, 5, 5)))
    with mx.autograd.train_mode():
        imperative = net(x).asnumpy()
        net.hybridize()
        hybridized = net(x).asnumpy()
    np.testing.assert_allclose(hybridized, imperative, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(hybridized.mean(axis=(0, 2, 3)), 0, atol=1e-5)      # batch statistics were used
    assert folds == [0]


def test_executor_without_gradients_folds_inference_only():
    """simple_bind with grad_req='null' runs the folded graph for forward(is_train=False), and BatchNorm on the
    batch for forward(is_train=True); the fixed gamma and the moving statistics stay as bound."""
    rng = np.random.RandomState(7)
    data = mx.sym.var("data")
    _, bn = _conv_bn(data, num_filter=3, fix_gamma=True)
    ex = mx.sym.relu(bn).simple_bind(mx.cpu(), grad_req="null", data=(2, 2, 5, 5))
    v = {}
    for name, array in list(ex.arg_dict.items()) + list(ex.aux_dict.items()):
        v[name] = rng.uniform(0.5, 1.5, array.shape).astype(np.float32)
        array[:] = v[name]
    x = v["data"].astype(np.float64)
    y = _conv_f64(x, v["c_weight"].astype(np.float64), (1, 1), (1, 1), (1, 1), 1) + v["c_bias"].reshape(1, -1, 1, 1)
    want = np.maximum(_bn_reference(y, v, "c_bn", True, 1e-3), 0)
    assert ex._folded and "_fold_bn_scale" in str(ex.debug_str())
    np.testing.assert_allclose(ex.forward(is_train=False)[0].asnumpy(), want, rtol=1e-4, atol=1e-4)
    mean, var = y.mean(axis=(0, 2, 3), keepdims=True), y.var(axis=(0, 2, 3), keepdims=True)
    batch = np.maximum((y - mean) / np.sqrt(var + 1e-3) + v["c_bn_beta"].reshape(1, -1, 1, 1), 0)
    np.testing.assert_allclose(ex.forward(is_train=True)[0].asnumpy(), batch, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ex.forward(is_train=False)[0].asnumpy(), want, rtol=1e-4, atol=1e-4)
    for name in ("c_bn_moving_mean", "c_bn_moving_var"):
        np.testing.assert_array_equal(ex.aux_dict[name].asnumpy(), v[name])


def test_executor_with_gradients_or_a_monitor_is_not_folded():
    data = mx.sym.var("data")
    _, bn = _conv_bn(data)
    assert not bn.simple_bind(mx.cpu(), grad_req="write", data=(1, 1, 4, 4))._folded
    ex = bn.simple_bind(mx.cpu(), grad_req="null", data=(1, 1, 4, 4))
    names = []
    ex.set_monitor_callback(lambda name, array: names.append(name))
    ex.forward(is_train=False)
    assert not ex._folded and "c_bn_output" in names
