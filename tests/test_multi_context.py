"""Parameters on several contexts (`ctx=[mx.cpu(0), mx.cpu(1)]`): `list_data`/`list_grad`, `split_and_load`,
and the Trainer's aggregation, against MXNet 1.9.1 (tests/fixtures/mxnet-1.9.1/semantics/multi_context.npz,
written by reference/semantics_fixtures.py)."""
import os

import numpy as np
import pytest

import dataflow as mx
from dataflow import autograd, gluon
from tests.paths import FIXTURES

CTXS = [mx.cpu(0), mx.cpu(1)]


@pytest.fixture(scope="module")
def recorded():
    return np.load(os.path.join(FIXTURES, "semantics", "multi_context.npz"))


@pytest.fixture(autouse=True)
def fresh_names():
    with mx.name.NameManager():
        yield


def _dense(recorded):
    net = gluon.nn.Dense(3, in_units=4)
    net.initialize(ctx=CTXS)
    net.weight.set_data(mx.nd.array(recorded["w"]))
    net.bias.set_data(mx.nd.array(recorded["b"]))
    return net


def test_parameter_lives_on_each_context():
    w = gluon.Parameter("w", shape=(2, 3), init=mx.init.One())
    w.initialize(ctx=CTXS)
    assert [a.context for a in w.list_data()] == CTXS
    assert [g.context for g in w.list_grad()] == CTXS
    assert w.list_ctx() == CTXS
    assert w.data(mx.cpu(1)) is w.list_data()[1]
    with mx.cpu(1):
        assert w.data() is w.list_data()[1]        # no ctx: the current context's copy
    with pytest.raises(RuntimeError, match="was not initialized on context cpu\\(2\\)"):
        w.data(mx.cpu(2))
    w.list_data()[0][:] = 5         # the copies are independent arrays
    np.testing.assert_array_equal(w.data(mx.cpu(1)).asnumpy(), np.ones((2, 3)))
    np.testing.assert_array_equal(w._reduce().asnumpy(), np.full((2, 3), 3.0))     # the mean over contexts


def test_split_and_load_puts_one_slice_per_context(recorded):
    x = mx.nd.array(recorded["x"])
    parts = gluon.utils.split_and_load(x, CTXS)
    assert [p.context for p in parts] == CTXS
    np.testing.assert_array_equal(np.concatenate([p.asnumpy() for p in parts]), recorded["x"])
    uneven = gluon.utils.split_and_load(mx.nd.array(recorded["x"][:5]), CTXS, even_split=False)
    assert [p.shape[0] for p in uneven] == list(recorded["uneven_sizes"])


def test_forward_uses_the_inputs_context(recorded):
    net = _dense(recorded)
    x = mx.nd.array(recorded["x"], ctx=mx.cpu(1))
    expected = recorded["x"] @ recorded["w"].T + recorded["b"]
    np.testing.assert_allclose(net(x).asnumpy(), expected, rtol=1e-5)
    assert net(x).context == mx.cpu(1)
    net.hybridize()
    for ctx in CTXS:
        y = net(x.as_in_context(ctx))
        assert y.context == ctx
        np.testing.assert_allclose(y.asnumpy(), expected, rtol=1e-5)


@pytest.mark.parametrize("tag,kvstore,update_on_kvstore", [("device", "device", None),
                                                           ("device_nokv_update", "device", False),
                                                           ("none", None, None)])
@pytest.mark.parametrize("hybridize", [False, True])
def test_trainer_aggregates_as_mxnet(recorded, tag, kvstore, update_on_kvstore, hybridize):
    net = _dense(recorded)
    if hybridize:
        net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9},
                            kvstore=kvstore, update_on_kvstore=update_on_kvstore)
    for step in range(2):
        parts = gluon.utils.split_and_load(mx.nd.array(recorded["x"]), CTXS)
        with autograd.record():
            losses = [(net(p) ** 2).sum() for p in parts]
        for loss in losses:
            loss.backward()
        trainer.step(6)
        for k, ctx in enumerate(CTXS):
            for name, array in [("w", net.weight.data(ctx)), ("b", net.bias.data(ctx)),
                                ("wgrad", net.weight.grad(ctx))]:
                np.testing.assert_allclose(array.asnumpy(), recorded["%s_step%d_%s%d" % (tag, step, name, k)],
                                           rtol=1e-5, atol=1e-5, err_msg="%s step %d on %s" % (name, step, ctx))


def test_allreduce_grads_refused_when_updating_on_kvstore(recorded):
    net = _dense(recorded)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    with pytest.raises(AssertionError, match="update_on_kvstore"):
        trainer.allreduce_grads()
    manual = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1}, update_on_kvstore=False)
    for g, value in zip(net.weight.list_grad(), (1.0, 2.0)):
        g[:] = value
    manual.allreduce_grads()
    for g in net.weight.list_grad():
        np.testing.assert_array_equal(g.asnumpy(), np.full((3, 4), 3.0))


def test_trainer_requires_one_set_of_contexts():
    a = gluon.Parameter("a", shape=(2,))
    b = gluon.Parameter("b", shape=(2,))
    a.initialize(ctx=CTXS)
    b.initialize(ctx=mx.cpu(0))
    with pytest.raises(ValueError, match="same set of contexts"):
        gluon.Trainer([a, b], "sgd")


def test_reset_ctx_and_save_average(tmp_path):
    w = gluon.Parameter("w", shape=(2,), init=mx.init.One())
    w.initialize(ctx=mx.cpu(0))
    w.reset_ctx(CTXS)
    assert w.list_ctx() == CTXS
    w.list_data()[1][:] = 3
    params = gluon.ParameterDict()
    params._params["w"] = w
    params.save(str(tmp_path / "w.params"))
    np.testing.assert_array_equal(mx.nd.load(str(tmp_path / "w.params"))["w"].asnumpy(), [2.0, 2.0])


# -- Module -----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def module_recorded():
    return np.load(os.path.join(FIXTURES, "semantics", "module_multi_context.npz"))


def _mlp():
    data = mx.sym.var("data")
    net = mx.sym.FullyConnected(data, num_hidden=5, name="fc1")
    net = mx.sym.Activation(net, act_type="tanh", name="act")
    net = mx.sym.FullyConnected(net, num_hidden=3, name="fc2")
    return mx.sym.SoftmaxOutput(net, name="softmax")


@pytest.mark.parametrize("tag,kvstore", [("local", "local"), ("none", None)])
def test_module_on_two_contexts_matches_mxnet(module_recorded, tag, kvstore):
    rec = module_recorded
    mod = mx.mod.Module(_mlp(), context=CTXS)
    mod.bind(data_shapes=[("data", (6, 4))], label_shapes=[("softmax_label", (6,))])
    mod.init_params(arg_params={k[len("init_"):]: mx.nd.array(rec[k]) for k in rec.files if k.startswith("init_")})
    mod.init_optimizer(kvstore=kvstore, optimizer="sgd", optimizer_params={"learning_rate": 0.5, "momentum": 0.9})
    batch = mx.io.DataBatch([mx.nd.array(rec["x"])], [mx.nd.array(rec["y"])])
    assert [e.arg_dict["data"].shape for e in mod._exec_group.execs] == [(3, 4), (3, 4)]
    assert [e.arg_dict["data"].context for e in mod._exec_group.execs] == CTXS
    for step in range(2):
        mod.forward(batch, is_train=True)
        np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), rec["%s_step%d_output" % (tag, step)],
                                   rtol=1e-5, atol=1e-6)
        assert [o.shape for o in mod.get_outputs(merge_multi_context=False)[0]] == [(3, 3), (3, 3)]
        mod.backward()
        mod.update()
        args, _ = mod.get_params()
        for name, value in args.items():
            np.testing.assert_allclose(value.asnumpy(), rec["%s_step%d_%s" % (tag, step, name)], rtol=1e-5,
                                       atol=1e-6, err_msg=name)
        for i, executor in enumerate(mod._exec_group.execs):
            np.testing.assert_allclose(executor.arg_dict["fc2_weight"].asnumpy(),
                                       rec["%s_step%d_fc2_weight_dev%d" % (tag, step, i)], rtol=1e-5, atol=1e-6)
    metric = mx.metric.Accuracy()
    mod.forward(batch, is_train=False)
    mod.update_metric(metric, batch.label)
    assert metric.get()[1] == pytest.approx(float(rec["%s_accuracy" % tag]))
    assert mod.output_shapes == [("softmax_output", (6, 3))]


def test_module_fit_and_predict_on_two_contexts():
    rng = np.random.RandomState(5)
    x = rng.randn(40, 4).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.float32)
    train = mx.io.NDArrayIter(x, y, batch_size=8, label_name="softmax_label")
    mod = mx.mod.Module(_mlp(), context=CTXS)
    mod.fit(train, num_epoch=15, optimizer_params={"learning_rate": 0.5}, initializer=mx.init.Xavier())
    predicted = mod.predict(mx.io.NDArrayIter(x, batch_size=8)).asnumpy().argmax(axis=1)
    assert (predicted == y).mean() > 0.85


# -- Parameter internals libraries reach for (MXNet's names and meanings) ---------------------------------------

def test_parameter_internals():
    p = gluon.Parameter("w", shape=(0, 3), allow_deferred_init=True, init=mx.init.One())
    assert p._data is None and p._grad is None and p._deferred_init == ()
    p.initialize(ctx=CTXS)
    init, ctx_list, default_init, data = p._deferred_init       # (init, ctx list, default_init, data)
    assert ctx_list == CTXS and data is None and isinstance(init, mx.init.One)
    with pytest.raises(gluon.DeferredInitializationError):
        p._check_and_get(p._data, None)
    p.set_data(mx.nd.full((2, 3), 4.0))          # kept for the deferred initialisation
    assert p._deferred_init[3] is not None
    p._shape = (2, 3)
    p._finish_deferred_init()
    assert p._deferred_init == () and p._ctx_list == CTXS
    assert len(p._data) == 2 and len(p._grad) == 2
    np.testing.assert_array_equal(p._check_and_get(p._data, mx.cpu(1)).asnumpy(), np.full((2, 3), 4.0))
    assert p._check_and_get(p._grad, list) is p._grad
    p._init_impl(mx.nd.ones((2, 3)), [mx.cpu(0)])       # re-home on one context
    assert p.list_ctx() == [mx.cpu(0)] and p._ctx_map[1] == [0]     # cpu: device_typeid & 1 == 1
    p._load_init(mx.nd.zeros((2, 3), dtype="float64"), None, cast_dtype=True, dtype_source="current")
    assert p.data().dtype == np.float32 and p.data().asnumpy().sum() == 0
    assert p.var() is p._var and p._var.name == "w"
    trainer = gluon.Trainer([p], "sgd")
    assert p._trainer is trainer
    p._set_trainer(None)
    assert p._trainer is None
    np.testing.assert_array_equal(p._reduce().asnumpy(), np.zeros((2, 3)))
    assert p._reduce().context == mx.cpu()


def test_already_initialized_warns():
    p = gluon.Parameter("w", shape=(2,))
    p.initialize()
    with pytest.warns(UserWarning, match="already initialized"):
        p.initialize()
    with pytest.raises(ValueError, match="invalid shape"):
        gluon.Parameter("v", shape=(0,)).initialize()
