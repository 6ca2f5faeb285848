"""mx.mod.Module: training on scikit-learn's digits, checkpoints (ours through SymbolBlock.imports, MXNet's through
mx.model.load_checkpoint), update semantics against a numpy SGD, reshape, predict and binding errors."""
import doctest
import logging
import os
import re
import warnings

import numpy as np
import pytest

import dataflow as mx
from dataflow.module import base_module, module as module_module
from tests.paths import FIXTURES


@pytest.fixture(autouse=True)
def fresh_names():
    with mx.name.NameManager():
        yield


def _mlp(hidden=128, classes=10):
    """The seed's network: fc1 / relu1 / fc2 / SoftmaxOutput."""
    data = mx.sym.var("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=hidden, name="fc1")
    act = mx.sym.Activation(fc1, act_type="relu", name="relu1")
    fc2 = mx.sym.FullyConnected(act, num_hidden=classes, name="fc2")
    return mx.sym.SoftmaxOutput(fc2, name="softmax")


def _digits():
    datasets = pytest.importorskip("sklearn.datasets")
    digits = datasets.load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.float32)
    order = np.random.RandomState(0).permutation(len(x))
    x, y = x[order], y[order]
    return (x[:1400], y[:1400]), (x[1400:], y[1400:])


def test_digits_training_reaches_90_percent(caplog):
    (x_train, y_train), (x_test, y_test) = _digits()
    mx.random.seed(0)
    np.random.seed(0)          # NDArrayIter shuffles with numpy's global generator
    train = mx.io.NDArrayIter(x_train, y_train, batch_size=32, shuffle=True)
    test = mx.io.NDArrayIter(x_test, y_test, batch_size=32)
    mod = mx.mod.Module(_mlp())
    with caplog.at_level(logging.INFO):
        mod.fit(train, eval_data=test, optimizer="sgd", optimizer_params={"learning_rate": 0.1, "momentum": 0.9},
                initializer=mx.init.Xavier(), num_epoch=8, batch_end_callback=mx.callback.Speedometer(32, 20))
    probs = mod.predict(test)            # 397 examples: the last batch's padding is dropped
    assert probs.shape == (len(x_test), 10)
    correct = probs.asnumpy().argmax(1) == y_test
    assert correct.mean() >= 0.9, correct.mean()
    # (fit takes ~1 s here, most of it the first epoch's kernel loading; timings live in bench/, not in tests)

    # score, as MXNet's, also counts the 19 examples that pad the last batch (the first ones, again)
    (name, accuracy), = mod.score(test, "acc")
    assert name == "accuracy"
    assert accuracy == pytest.approx(np.concatenate([correct, correct[:19]]).mean())

    messages = [r.getMessage() for r in caplog.records]
    assert any(re.fullmatch(r"Epoch\[0\] Batch \[20-40\]\tSpeed: [0-9.]+ samples/sec\taccuracy=[0-9.]+", m)
               for m in messages)
    for line in (r"Epoch\[7\] Train-accuracy=[0-9.]+", r"Epoch\[7\] Time cost=[0-9.]+",
                 r"Epoch\[7\] Validation-accuracy=[0-9.]+"):
        assert any(re.fullmatch(line, m) for m in messages), line


def _numpy_sgd_epoch(params, x, y, batch_size, lr, momentum, wd):
    """One epoch of MXNet's Module SGD on the MLP, in numpy: rescale_grad = 1/batch, wd on weights only."""
    p = {k: v.astype(np.float32).copy() for k, v in params.items()}
    mom = {k: np.zeros_like(v) for k, v in p.items()}
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size].astype(int)
        h_pre = xb @ p["fc1_weight"].T + p["fc1_bias"]
        h = np.maximum(h_pre, 0)
        z = h @ p["fc2_weight"].T + p["fc2_bias"]
        prob = np.exp(z - z.max(1, keepdims=True))
        prob /= prob.sum(1, keepdims=True)
        dz = prob.copy()
        dz[np.arange(len(yb)), yb] -= 1                   # SoftmaxOutput: softmax - one_hot, not normalized
        dh = (dz @ p["fc2_weight"]) * (h_pre > 0)
        grads = {"fc2_weight": dz.T @ h, "fc2_bias": dz.sum(0), "fc1_weight": dh.T @ xb, "fc1_bias": dh.sum(0)}
        for name, g in grads.items():
            decay = wd if name.endswith("_weight") else 0.0
            mom[name] = momentum * mom[name] - lr * decay * p[name] - lr * (g / batch_size)
            p[name] = p[name] + mom[name]
    return p


def test_update_matches_numpy_sgd():
    rs = np.random.RandomState(3)
    x = rs.rand(40, 6).astype(np.float32)
    y = rs.randint(0, 3, 40).astype(np.float32)
    shapes = {"fc1_weight": (8, 6), "fc1_bias": (8,), "fc2_weight": (3, 8), "fc2_bias": (3,)}
    init = {k: rs.uniform(-0.5, 0.5, s).astype(np.float32) for k, s in shapes.items()}
    mod = mx.mod.Module(_mlp(8, 3))
    mod.fit(mx.io.NDArrayIter(x, y, batch_size=8), num_epoch=1, optimizer="sgd",
            optimizer_params={"learning_rate": 0.5, "momentum": 0.9, "wd": 0.01},
            arg_params={k: mx.nd.array(v) for k, v in init.items()})
    want = _numpy_sgd_epoch(init, x, y, 8, lr=0.5, momentum=0.9, wd=0.01)
    args, aux = mod.get_params()
    assert aux == {} and sorted(args) == sorted(shapes)
    for name in shapes:
        np.testing.assert_allclose(args[name].asnumpy(), want[name], rtol=1e-5, atol=1e-6)


def _trained_module(batch=5):
    mod = mx.mod.Module(_mlp(16, 3))
    mod.bind([("data", (batch, 4))], [("softmax_label", (batch,))])
    mx.random.seed(1)
    mod.init_params(mx.init.Xavier())
    mod.init_optimizer(optimizer_params={"learning_rate": 0.1})
    rs = np.random.RandomState(1)
    x = rs.rand(batch, 4).astype(np.float32)
    mod.forward_backward(mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array([0, 1, 2, 0, 1][:batch])]))
    mod.update()
    return mod, x


def test_checkpoint_round_trip(tmp_path):
    mod, x = _trained_module()
    want = mod.predict(mx.nd.array(x)).asnumpy()
    prefix = str(tmp_path / "mlp")
    mod.save_checkpoint(prefix, 7, save_optimizer_states=True)
    assert sorted(os.listdir(tmp_path)) == ["mlp-0007.params", "mlp-0007.states", "mlp-symbol.json"]
    assert sorted(mx.nd.load(prefix + "-0007.params")) == ["arg:fc1_bias", "arg:fc1_weight", "arg:fc2_bias",
                                                           "arg:fc2_weight"]

    # gluon: the label is an input of the exported symbol (SoftmaxOutput ignores it at inference)
    net = mx.gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data", "softmax_label"], prefix + "-0007.params")
    np.testing.assert_allclose(net(mx.nd.array(x), mx.nd.zeros(5)).asnumpy(), want, rtol=1e-6, atol=1e-7)

    sym, args, aux = mx.model.load_checkpoint(prefix, 7)
    assert sym.tojson() == mod.symbol.tojson() and aux == {}
    for name, value in mod.get_params()[0].items():
        np.testing.assert_array_equal(args[name].asnumpy(), value.asnumpy())

    loaded = mx.mod.Module.load(prefix, 7, load_optimizer_states=True)
    loaded.bind([("data", (5, 4))], [("softmax_label", (5,))])
    loaded.init_optimizer(optimizer_params={"learning_rate": 0.1})
    np.testing.assert_array_equal(loaded.predict(mx.nd.array(x)).asnumpy(), want)
    assert loaded._updater.states.keys() == mod._updater.states.keys()


def test_mxnet_checkpoint_loads_and_predicts():
    sym, args, aux = mx.model.load_checkpoint(os.path.join(FIXTURES, "mlp", "mlp"), 0)
    assert aux == {} and len(args) == 6
    x1 = np.load(os.path.join(FIXTURES, "mlp", "input.npy"))
    x8 = np.load(os.path.join(FIXTURES, "mlp", "input_b8.npy"))
    mod = mx.mod.Module(sym, data_names=("data",), label_names=None)
    mod.bind(data_shapes=[("data", x8.shape)], for_training=False)
    mod.set_params(args, aux)
    np.testing.assert_allclose(mod.predict(mx.nd.array(x8)).asnumpy(),
                               np.load(os.path.join(FIXTURES, "mlp", "output_b8.npy")), rtol=1e-5, atol=1e-6)
    # an iterator of batch 3 over 8 examples: the padded last batch is trimmed, batches merged
    merged = mod.predict(mx.io.NDArrayIter(x8, batch_size=3))
    np.testing.assert_allclose(merged.asnumpy(), np.load(os.path.join(FIXTURES, "mlp", "output_b8.npy")),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mod.predict(mx.nd.array(x1)).asnumpy(),
                               np.load(os.path.join(FIXTURES, "mlp", "output.npy")), rtol=1e-5, atol=1e-6)


def test_wrong_names_are_errors():
    mod = mx.mod.Module(_mlp(4, 2))
    with pytest.raises(ValueError, match=re.escape("don't match names specified by data_names "
                                                   "([DataDesc[x,(2, 3),<class 'numpy.float32'>,NCHW]] vs. "
                                                   "['data'])")):
        mod.bind(data_shapes=[("x", (2, 3))])
    assert not mod.binded
    with pytest.raises(ValueError, match=r"input with name 'img' is not found.*Did you mean one of:\n\tdata\n"
                                         r"\tsoftmax_label"):
        mx.mod.Module(_mlp(4, 2), data_names=("img",))
    with pytest.warns(UserWarning, match="input with name 'label' is not found"):
        mx.mod.Module(_mlp(4, 2), label_names=("label",))
    with pytest.raises(RuntimeError, match="call bind"):
        mod.init_params()


def test_reshape_shares_parameters_and_caches_executors():
    mod, x = _trained_module()
    want = mod.predict(mx.nd.array(x)).asnumpy()
    first = mod._exec
    mod.reshape([("data", (2, 4))], [("softmax_label", (2,))])
    assert mod.data_shapes[0].shape == (2, 4) and mod.output_shapes == [("softmax_output", (2, 3))]
    mod.forward(mx.io.DataBatch([mx.nd.array(x[:2])]), is_train=False)
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), want[:2], rtol=1e-6)
    assert mod._exec.arg_dict["fc1_weight"] is first.arg_dict["fc1_weight"]

    # training at the new batch size updates the shared weights; going back reuses the first executor
    before = first.arg_dict["fc1_weight"].asnumpy()
    mod.forward_backward(mx.io.DataBatch([mx.nd.array(x[:2])], [mx.nd.array([0, 1])]))
    mod.update()
    assert not np.array_equal(first.arg_dict["fc1_weight"].asnumpy(), before)
    mod.forward(mx.io.DataBatch([mx.nd.array(x)]), is_train=False)
    assert mod._exec is first and len(mod._execs) == 2


def test_fixed_params_input_grads_and_init_attrs():
    data = mx.sym.var("data")
    w = mx.sym.var("fc_weight", init=mx.init.One())
    net = mx.sym.LinearRegressionOutput(mx.sym.FullyConnected(data, weight=w, num_hidden=1, name="fc"),
                                        name="lro")
    mod = mx.mod.Module(net, label_names=("lro_label",), fixed_param_names=["fc_bias"])
    mod.bind([("data", (4, 3))], [("lro_label", (4, 1))], inputs_need_grad=True)
    mod.init_params(mx.init.Constant(0.5))          # the variable's __init__ (One) wins over the global one
    args, _ = mod.get_params()
    np.testing.assert_array_equal(args["fc_weight"].asnumpy(), np.ones((1, 3)))
    np.testing.assert_array_equal(args["fc_bias"].asnumpy(), [0.0])
    mod.init_optimizer(optimizer_params={"learning_rate": 0.1})
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    mod.forward_backward(mx.io.DataBatch([mx.nd.array(x)], [mx.nd.zeros((4, 1))]))
    mod.update()
    (grad,) = mod.get_input_grads()
    # d(0.5 * (x.w + b - 0)^2)/dx = (x.w) * w  with w = 1, b = 0
    np.testing.assert_allclose(grad.asnumpy(), np.repeat(x.sum(1, keepdims=True), 3, axis=1), rtol=1e-6)
    args, _ = mod.get_params()
    assert args["fc_bias"].asnumpy().tolist() == [0.0]         # fixed
    assert not np.array_equal(args["fc_weight"].asnumpy(), np.ones((1, 3)))


def test_score_predict_and_callbacks(tmp_path):
    rs = np.random.RandomState(2)
    x, y = rs.rand(10, 4).astype(np.float32), rs.randint(0, 3, 10).astype(np.float32)
    it = mx.io.NDArrayIter(x, y, batch_size=4)
    mod = mx.mod.Module(_mlp(8, 3))
    prefix = str(tmp_path / "cb")
    mod.fit(it, num_epoch=2, initializer=mx.init.Xavier(), epoch_end_callback=mx.callback.do_checkpoint(prefix),
            eval_metric=["acc", "ce"])
    assert sorted(os.listdir(tmp_path)) == ["cb-0001.params", "cb-0002.params", "cb-symbol.json"]
    res = mod.score(it, ["acc", "ce"])
    probs = mod.predict(it).asnumpy()
    assert probs.shape == (10, 3)
    assert [n for n, _ in res] == ["accuracy", "cross-entropy"]
    # score counts the 2 examples that pad the last batch, as MXNet does
    p_pad, y_pad = np.concatenate([probs, probs[:2]]), np.concatenate([y, y[:2]])
    assert res[0][1] == pytest.approx(np.mean(p_pad.argmax(1) == y_pad))
    assert res[1][1] == pytest.approx(np.mean(-np.log(p_pad[np.arange(12), y_pad.astype(int)])), rel=1e-5)
    per_batch = mod.predict(it, merge_batches=False)
    assert [len(b) for b in per_batch] == [1, 1, 1] and per_batch[2][0].shape == (2, 3)
    outputs = list(mod.iter_predict(it))
    assert [o[0][0].shape[0] for o in outputs] == [4, 4, 2]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mod.init_params()                       # already initialized: ignored with a warning (MXNet's)
    assert "already initialized" in str(caught[0].message)


@pytest.mark.parametrize("module", [base_module, module_module])
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
