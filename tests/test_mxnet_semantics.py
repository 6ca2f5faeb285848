"""Behaviours MXNet 1.9.1's own tests and saved models depend on, checked against the oracle's answers
(tests/fixtures/mxnet-1.9.1/semantics/, written by reference/semantics_fixtures.py): SymbolBlock's names,
initializers, explicit shapes, partial shape inference, saving with shared parameters, dtypes on load, auto
names and attributes, and the errors MXNet raises. BatchNorm's fixed gamma and moving statistics are in
test_mxnet_batchnorm_semantics.py."""
import json
import os
import threading

import numpy as np
import pytest

import dataflow as mx
from dataflow import autograd, gluon
from tests.paths import FIXTURES

SEMANTICS = os.path.join(FIXTURES, "semantics")


@pytest.fixture(scope="module")
def behaviour():
    with open(os.path.join(SEMANTICS, "behaviour.json")) as f:
        return json.load(f)


@pytest.fixture(autouse=True)
def fresh_names():
    with mx.name.NameManager():
        yield


# -- SymbolBlock ------------------------------------------------------------------------------------------------

def _two_layers():
    data = mx.sym.var("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=3, name="net_fc1")
    return data, mx.sym.FullyConnected(fc1, num_hidden=2, name="net_fc2")


def test_symbolblock_names_strip_the_common_prefix(behaviour):
    data, out = _two_layers()
    block = gluon.SymbolBlock(out, data)
    assert block.name == behaviour["symbolblock_name"]
    assert block.prefix == behaviour["symbolblock_prefix"]
    assert list(block._reg_params) == behaviour["symbolblock_reg_params"]
    assert gluon.nn.Dense(2).name == behaviour["dense_after_symbolblock"]
    single = gluon.SymbolBlock(mx.sym.FullyConnected(data, num_hidden=3, name="fc"), data)
    assert list(single._reg_params) == behaviour["symbolblock_single_reg_params"]


def test_nested_symbolblock_structural_names_round_trip(behaviour, tmp_path):
    data, out = _two_layers()

    class Outer(gluon.HybridBlock):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.features = gluon.SymbolBlock(out, data)
                self.head = gluon.nn.Dense(2, in_units=2)

        def hybrid_forward(self, F, x):
            return self.head(self.features(x))

    net = Outer()
    assert net.features.name == behaviour["nested_symbolblock_name"]
    assert list(net._collect_params_with_prefix()) == behaviour["nested_structural_names"]
    net.initialize()
    x = mx.nd.array(np.random.RandomState(0).rand(2, 5))
    expected = net(x).asnumpy()
    net.save_parameters(str(tmp_path / "outer.params"))
    again = Outer()
    again.load_parameters(str(tmp_path / "outer.params"))
    np.testing.assert_allclose(again(x).asnumpy(), expected, rtol=1e-6)


# -- initializers -----------------------------------------------------------------------------------------------

class _Sevens(mx.init.Initializer):           # never registered
    def _init_weight(self, name, arr):
        arr[:] = 7


def test_unregistered_initializer_instance_is_used_directly():
    dense = gluon.nn.Dense(2, in_units=2, weight_initializer=_Sevens())
    dense.initialize(init=mx.init.Zero())
    np.testing.assert_array_equal(dense.weight.data().asnumpy(), np.full((2, 2), 7.0))
    np.testing.assert_array_equal(dense.bias.data().asnumpy(), np.zeros(2))
    p = gluon.Parameter("free", shape=(3,))
    p.initialize(init=_Sevens())
    np.testing.assert_array_equal(p.data().asnumpy(), np.full(3, 7.0))


# -- shapes and dtypes ------------------------------------------------------------------------------------------

def test_explicit_shape_and_dtype_win_over_attributes(behaviour):
    x = mx.sym.var("x", shape=(2, 3), dtype="float16")
    y = x * 2
    assert [[list(s) for s in part] for part in y.infer_shape(x=(4, 5))] == behaviour["explicit_shape"]
    assert [[list(s) for s in part] for part in y.infer_shape()] == behaviour["var_attr_shape"]
    assert [[np.dtype(t).name for t in part] for part in y.infer_type(x="float32")] == behaviour["explicit_dtype"]
    assert y.simple_bind(mx.cpu(), x=(4, 5)).arg_dict["x"].shape == (4, 5)


with open(os.path.join(SEMANTICS, "partial_shapes.json")) as _f:
    PARTIAL = json.load(_f)


@pytest.mark.parametrize("name", sorted(PARTIAL))
def test_partial_shape_inference_matches_mxnet(name):
    case = PARTIAL[name]
    data, label = mx.sym.var("data"), mx.sym.var("label")
    sym = eval(case["expr"], {"mx": mx, "d": data, "l": label})       # noqa: S307 (the fixture's own table)
    args, outs, aux = sym.infer_shape_partial(**{k: tuple(v) for k, v in case["known"].items()})
    assert [list(s) for s in args] == case["args"]
    assert [list(s) for s in outs] == case["outs"]
    assert [list(s) for s in aux] == case["aux"]


def test_infer_type_partial(behaviour):
    got = (mx.sym.var("a") + mx.sym.var("b")).infer_type_partial(a="float32")
    assert [[np.dtype(t).name if t is not None else None for t in part] for part in got] == \
        behaviour["infer_type_partial"]
    args, outs, _ = (mx.sym.var("a") + mx.sym.var("b")).infer_type_partial()
    assert args == [None, None] and outs == [None]


# -- saving and loading -----------------------------------------------------------------------------------------

def _shared_pair():
    net = gluon.nn.HybridSequential()
    with net.name_scope():
        first = gluon.nn.Dense(2, in_units=2)
        net.add(first)
        net.add(gluon.nn.Dense(2, in_units=2, params=first.params))
    net.initialize()
    return net


def test_save_parameters_deduplicate(behaviour, tmp_path):
    net = _shared_pair()
    net.save_parameters(str(tmp_path / "dedup.params"), deduplicate=True)
    assert sorted(mx.nd.load(str(tmp_path / "dedup.params"))) == behaviour["dedup_keys"]
    net.save_parameters(str(tmp_path / "all.params"))
    assert sorted(mx.nd.load(str(tmp_path / "all.params"))) == behaviour["no_dedup_keys"]
    other = _shared_pair()
    other.load_parameters(str(tmp_path / "dedup.params"))       # the shared alias counts as present
    np.testing.assert_array_equal(other[0].weight.data().asnumpy(), net[0].weight.data().asnumpy())


def test_load_parameters_dtype_source(behaviour, tmp_path):
    half = gluon.nn.Dense(2, in_units=2, dtype="float16")
    half.initialize()
    path = str(tmp_path / "half.params")
    half.save_parameters(path)
    saved = gluon.nn.Dense(2, in_units=2)
    saved.load_parameters(path, cast_dtype=True, dtype_source="saved")
    assert [np.dtype(saved.weight.dtype).name, saved.weight.data().dtype.__name__] == behaviour["dtype_source_saved"]
    current = gluon.nn.Dense(2, in_units=2)
    current.load_parameters(path, cast_dtype=True, dtype_source="current")
    assert current.weight.data().dtype.__name__ == behaviour["dtype_source_current"]
    with pytest.raises(AssertionError, match="dtype incompatible"):
        gluon.nn.Dense(2, in_units=2).load_parameters(path)


def test_deprecated_save_params_load_params(tmp_path):
    net = gluon.nn.Dense(2, in_units=3)
    net.initialize()
    with pytest.warns(UserWarning, match="deprecated"):
        net.save_params(str(tmp_path / "old.params"))
    assert sorted(mx.nd.load(str(tmp_path / "old.params"))) == ["bias", "weight"]
    again = gluon.nn.Dense(2, in_units=3, prefix=net.prefix)
    with pytest.warns(UserWarning, match="deprecated"):
        again.load_params(str(tmp_path / "old.params"))
    np.testing.assert_array_equal(again.weight.data().asnumpy(), net.weight.data().asnumpy())


# -- errors -----------------------------------------------------------------------------------------------------

def test_parameter_access_before_init(behaviour):
    with pytest.raises(RuntimeError, match="has not been initialized") as info:
        gluon.Parameter("p", shape=(2,)).data()
    assert type(info.value).__name__ == behaviour["param_before_init_error"]
    deferred = gluon.nn.Dense(2)
    deferred.initialize()
    with pytest.raises(gluon.DeferredInitializationError):
        deferred.weight.data()
    with pytest.raises(RuntimeError, match="grad_req='null'"):
        p = gluon.Parameter("q", shape=(2,), grad_req="null")
        p.initialize()
        p.grad()


# -- names and attributes ---------------------------------------------------------------------------------------

def test_rpower_scalar_auto_name(behaviour):
    assert [(2 ** mx.sym.var("a")).name, (2 ** mx.sym.var("a")).name] == behaviour["rpower_names"]


def test_attrscope_and_hidden_attributes_as_mxnet_lists_them(behaviour):
    with mx.AttrScope(ctx_group="g1"):
        v = mx.sym.var("v")
        e = mx.sym.exp(v, name="e")
    assert e.list_attr() == behaviour["attrscope_list_attr"]
    assert e.attr_dict() == behaviour["attrscope_attr_dict"]
    hidden = mx.sym.exp(mx.sym.var("q"), name="ee", lr_mult=2, wd_mult=0)
    assert hidden.list_attr() == behaviour["hidden_attrs_on_op"]
    assert '"lr_mult"' not in hidden.tojson() and '"__lr_mult__": "2"' in hidden.tojson()   # saved once
    fc = mx.sym.FullyConnected(mx.sym.var("x"), num_hidden=2, name="fc", lr_mult=2)
    assert fc.attr("lr_mult") == "2" and fc.infer_shape(x=(1, 3))[1] == [(1, 2)]


def test_name_and_attr_scopes_are_per_thread():
    seen = {}

    def other_thread():
        seen["name"] = mx.sym.exp(mx.sym.var("t")).name
        seen["attrs"] = mx.sym.var("u").list_attr()

    with mx.name.Prefix("main_"), mx.AttrScope(ctx_group="main"):
        assert mx.sym.exp(mx.sym.var("s")).name == "main_exp0"
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
    assert not seen["name"].startswith("main_")
    assert seen["attrs"] == {}


# -- NDArray element assignment ---------------------------------------------------------------------------------

def test_setitem_from_sequences():
    x = mx.nd.zeros((3,))
    x[:] = [1, 2, 3]
    np.testing.assert_array_equal(x.asnumpy(), [1, 2, 3])
    y = mx.nd.zeros((3, 2))
    expected = np.zeros((3, 2), np.float32)
    for key, value in [(1, (4, 5)), ((slice(None), 1), [7, 8, 9]), (slice(0, 2), np.ones((2, 2))),
                       (2, mx.nd.array([3, 3])), ((2, 0), 2.5)]:
        y[key] = value
        expected[key] = value.asnumpy() if isinstance(value, mx.nd.NDArray) else value
    np.testing.assert_array_equal(y.asnumpy(), expected)
    with pytest.raises(ValueError, match="broadcast"):
        x[:] = [1, 2]
    with pytest.raises(ValueError, match="broadcast"):
        y[1] = (1, 2, 3)


# -- metrics ----------------------------------------------------------------------------------------------------

def test_pcc_metric(behaviour):
    metric = mx.metric.create("pcc")
    metric.update([mx.nd.array(behaviour["pcc_inputs"]["labels"])], [mx.nd.array(behaviour["pcc_inputs"]["preds"])])
    name, value = metric.get()
    assert name == behaviour["pcc_value"][0]
    assert value == pytest.approx(behaviour["pcc_value"][1], rel=1e-9)
    # a perfect prediction of three classes (one of which appears later) scores 1
    perfect = mx.metric.PCC()
    perfect.update([mx.nd.array([0, 1])], [mx.nd.array([0, 1])])
    perfect.update([mx.nd.array([2, 0])], [mx.nd.array([2, 0])])
    assert perfect.get()[1] == pytest.approx(1.0) and perfect.k == 3


# -- channel-last Pooling ---------------------------------------------------------------------------------------

POOLING = [("NWC", (3,), (2,), (1,), "max", {}), ("NWC", (2,), (1,), (0,), "avg", {}),
           ("NHWC", (2, 2), (2, 2), (0, 0), "max", {}),
           ("NHWC", (3, 3), (1, 2), (1, 1), "avg", {"count_include_pad": False}),
           ("NHWC", (2, 2), (2, 2), (0, 0), "sum", {}),
           ("NHWC", (3, 3), (2, 2), (0, 0), "max", {"pooling_convention": "full"}),
           ("NHWC", (1, 1), (1, 1), (0, 0), "avg", {"global_pool": True}),
           ("NDHWC", (2, 2, 2), (2, 2, 2), (0, 0, 0), "max", {}),
           ("NDHWC", (2, 2, 2), (1, 1, 1), (1, 0, 1), "avg", {})]     # as reference/semantics_fixtures.py


@pytest.fixture(scope="module")
def pooling():
    return np.load(os.path.join(SEMANTICS, "pooling_channel_last.npz"))


@pytest.mark.parametrize("k", range(len(POOLING)))
def test_channel_last_pooling_matches_mxnet(pooling, k):
    layout, kernel, stride, pad, pool_type, extra = POOLING[k]
    x = mx.nd.array(pooling["x%d" % k])
    x.attach_grad()
    with autograd.record():
        y = mx.nd.Pooling(x, kernel=kernel, stride=stride, pad=pad, pool_type=pool_type, layout=layout, **extra)
    y.backward(mx.nd.array(pooling["dy%d" % k]))
    np.testing.assert_allclose(y.asnumpy(), pooling["y%d" % k], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.asnumpy(), pooling["dx%d" % k], rtol=1e-5, atol=1e-6)
    sym = mx.sym.Pooling(mx.sym.var("x"), kernel=kernel, stride=stride, pad=pad, pool_type=pool_type,
                         layout=layout, **extra)
    assert sym.infer_shape(x=x.shape)[1] == [y.shape]


def test_channel_last_layout_must_match_the_kernel():
    with pytest.raises(mx.base.MXNetError, match="layout=NHWC"):
        mx.nd.Pooling(mx.nd.zeros((1, 4, 4, 4, 2)), kernel=(2, 2, 2), layout="NHWC")


# -- monitor callbacks ------------------------------------------------------------------------------------------

def _mlp_executor():
    data = mx.sym.var("data")
    fc = mx.sym.FullyConnected(data, num_hidden=3, name="fc1")
    act = mx.sym.Activation(fc, act_type="relu", name="act")
    out = mx.sym.SoftmaxOutput(act, name="sm")
    return out.simple_bind(mx.cpu(), data=(2, 4))


def test_executor_monitor_callback_sees_each_op_output():
    ex = _mlp_executor()
    rng = np.random.RandomState(1)
    ex.arg_dict["fc1_weight"][:] = rng.randn(3, 4)
    ex.arg_dict["fc1_bias"][:] = rng.randn(3)
    x = rng.randn(2, 4).astype(np.float32)
    outputs = ex.outputs
    seen = {}
    ex.set_monitor_callback(lambda name, array: seen.__setitem__(mx.base.py_str(name), array.asnumpy()))
    assert ex.outputs is outputs or all(a is b for a, b in zip(ex.outputs, outputs))
    ex.forward(is_train=True, data=x)
    assert list(seen) == ["fc1_output", "act_output", "sm_output"]    # MXNet's names, in execution order
    fc = x @ ex.arg_dict["fc1_weight"].asnumpy().T + ex.arg_dict["fc1_bias"].asnumpy()
    np.testing.assert_allclose(seen["fc1_output"], fc, rtol=1e-5)
    np.testing.assert_allclose(seen["act_output"], np.maximum(fc, 0), rtol=1e-5)
    np.testing.assert_allclose(seen["sm_output"], outputs[0].asnumpy(), rtol=1e-6)
    seen.clear()
    ex.set_monitor_callback(lambda name, array: seen.__setitem__(name, array.shape), monitor_all=True)
    ex.forward(data=x)
    # MXNet reports a variable input by its own name too, before `<node>_<input>` (tests/test_monitor_names.py)
    assert list(seen)[:5] == ["data", "fc1_data", "fc1_weight", "fc1_bias", "fc1_output"]
    assert seen["fc1_weight"] == (3, 4)


def test_register_op_hook_on_hybridized_block():
    net = gluon.nn.HybridSequential()
    with net.name_scope():
        net.add(gluon.nn.Dense(3, in_units=4), gluon.nn.Activation("relu"))
    net.initialize()
    net.hybridize()
    seen = []
    net.register_op_hook(lambda name, op, array: seen.append((name, op, array.asnumpy())))
    x = mx.nd.array(np.random.RandomState(2).randn(2, 4))
    y = net(x)
    assert [(n, op) for n, op, _ in seen] == [("hybridsequential0_dense0_fwd_output", "FullyConnected"),
                                              ("hybridsequential0_relu0_fwd_output", "Activation")]
    np.testing.assert_allclose(seen[1][2], y.asnumpy())
    np.testing.assert_allclose(seen[0][2], x.asnumpy() @ net[0].weight.data().asnumpy().T +
                               net[0].bias.data().asnumpy(), rtol=1e-5)


# -- CTC --------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ctc():
    return np.load(os.path.join(SEMANTICS, "ctc.npz"))


@pytest.mark.parametrize("tag,blank", [("first", "first"), ("last", "last"), ("lengths", "first")])
def test_ctc_loss_op_matches_mxnet(ctc, tag, blank):
    x = mx.nd.array(ctc[tag + "_x"])
    x.attach_grad()
    args, kwargs = [x, mx.nd.array(ctc[tag + "_label"])], {"blank_label": blank}
    if tag + "_data_lengths" in ctc:
        args += [mx.nd.array(ctc[tag + "_data_lengths"]), mx.nd.array(ctc[tag + "_label_lengths"])]
        kwargs.update(use_data_lengths=True, use_label_lengths=True)
    with autograd.record():
        loss = mx.nd.CTCLoss(*args, **kwargs)
    loss.backward(mx.nd.array(ctc[tag + "_dy"]))
    np.testing.assert_allclose(loss.asnumpy(), ctc[tag + "_loss"], rtol=1e-5)
    np.testing.assert_allclose(x.grad.asnumpy(), ctc[tag + "_dx"], rtol=1e-4, atol=1e-6)


def test_ctc_loss_gradient_is_numeric():
    rng = np.random.RandomState(3)
    data = mx.sym.var("data")
    loss = mx.sym.ctc_loss(data, mx.sym.var("label"))
    mx.test_utils.check_numeric_gradient(
        loss, {"data": rng.randn(5, 2, 4), "label": np.array([[1, 2], [3, 0]], np.float32)},
        grad_nodes=["data"], numeric_eps=1e-3, rtol=1e-2, atol=1e-3)


def test_gluon_ctc_loss_matches_mxnet(ctc):
    loss = gluon.loss.CTCLoss()
    pred, label = mx.nd.array(ctc["gluon_pred"]), mx.nd.array(ctc["gluon_label"])
    np.testing.assert_allclose(loss(pred, label).asnumpy(), ctc["gluon_loss"], rtol=1e-5)
    with_lengths = loss(pred, label, mx.nd.array([5, 6, 4]), mx.nd.array([2, 3, 1]))
    np.testing.assert_allclose(with_lengths.asnumpy(), ctc["gluon_loss_lengths"], rtol=1e-5)
    tnc = gluon.loss.CTCLoss(layout="TNC")
    np.testing.assert_allclose(tnc(mx.nd.array(ctc["gluon_pred"].transpose(1, 0, 2)), label).asnumpy(),
                               ctc["gluon_loss"], rtol=1e-5)
    sym = loss(mx.sym.var("pred"), mx.sym.var("label"))
    assert sym.infer_shape(pred=(3, 6, 5), label=(3, 3))[1] == [(3,)]


def test_ctc_loss_errors():
    with pytest.raises(mx.base.MXNetError, match="cannot exceed the maximum sequence length"):
        mx.nd.CTCLoss(mx.nd.zeros((5, 2, 4)), mx.nd.zeros((2, 6)))
    with pytest.raises(mx.base.MXNetError, match="3-D"):
        mx.nd.CTCLoss(mx.nd.zeros((5, 4)), mx.nd.zeros((2, 3)))


# -- viz --------------------------------------------------------------------------------------------------------

def test_plot_network_warns_about_repeated_names_as_mxnet():
    data = mx.sym.var("data")
    twice = mx.sym.FullyConnected(mx.sym.FullyConnected(data, num_hidden=3, name="fc"), num_hidden=3, name="fc")
    with pytest.warns(RuntimeWarning) as record:
        mx.viz.plot_network(twice)
    message = str(record[0].message)
    prefix = "There are multiple variables with the same name in your graph, this may result in cyclic graph. " \
             "Repeated names: "
    assert message.startswith(prefix)
    assert sorted(message[len(prefix):].split(",")) == ["fc", "fc_bias", "fc_weight"]


def test_print_summary_with_multiplier_attributes(capsys):
    data = mx.sym.var("data")
    weight = mx.sym.var("fc1_weight", lr_mult=2.0, wd_mult=0.0)
    fc = mx.sym.FullyConnected(data, weight=weight, num_hidden=3, name="fc1", lr_mult=1.5)
    mx.viz.print_summary(mx.sym.Activation(fc, act_type="relu", name="relu1"), shape={"data": (2, 4)})
    out = capsys.readouterr().out
    assert "fc1(FullyConnected)" in out and "Total params: 15" in out


# -- CachedOp ---------------------------------------------------------------------------------------------------

def test_cached_op_is_callable_with_the_symbols_inputs():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    op = mx.nd.CachedOp(a * b + 1)
    x = np.random.RandomState(4).randn(2, 3).astype(np.float32)
    np.testing.assert_allclose(op(mx.nd.array(x), mx.nd.array(2 * x)).asnumpy(), 2 * x * x + 1, rtol=1e-6)
    group = mx.nd.CachedOp(mx.sym.Group([a + b, a * b]), flags=[("static_alloc", True)])
    outs = group(mx.nd.array(x), mx.nd.array(x))
    np.testing.assert_allclose(outs[0].asnumpy(), 2 * x, rtol=1e-6)
    np.testing.assert_allclose(outs[1].asnumpy(), x * x, rtol=1e-6)
    with pytest.raises(ValueError, match="3 inputs given"):
        group(mx.nd.array(x), mx.nd.array(x), mx.nd.array(x))


def test_cached_op_records_its_gradient():
    a = mx.sym.var("a")
    x = mx.nd.array([[1.0, -2.0, 3.0]])
    x.attach_grad()
    with autograd.record():
        y = mx.nd.CachedOp(a * a)(x)
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), 2 * x.asnumpy())


def test_executor_backward_out_grads_count():
    a = mx.sym.var("a")
    ex = mx.sym.Group([a * 2, a * 3]).simple_bind(mx.cpu(), a=(2,))
    ex.forward(is_train=True)
    ex.backward([mx.nd.ones(2)] * 3)            # MXNet ignores the extra head gradient
    np.testing.assert_array_equal(ex.grad_dict["a"].asnumpy(), [5.0, 5.0])
    with pytest.raises(ValueError, match="1 out_grads given for 2 outputs"):
        ex.backward([mx.nd.ones(2)])
    with pytest.raises(TypeError, match="NDArray"):
        ex.backward([np.ones(2), np.ones(2)])


def test_numpy_scalars_as_params():
    a = mx.sym.var("a")
    reshaped = mx.sym.reshape(a, shape=(np.int64(3), np.int64(2)))
    assert reshaped.list_attr()["shape"] == "(3, 2)"           # as MXNet (numpy 1.x) writes it
    assert reshaped.infer_shape(a=(2, 3))[1] == [(3, 2)]
    summed = mx.sym.sum(a, axis=(np.int32(0),), keepdims=np.bool_(True))
    assert summed.infer_shape(a=(2, 3))[1] == [(1, 3)]
    x = mx.nd.ones((2, 3))
    assert mx.nd.transpose(x, axes=(np.int64(1), np.int64(0))).shape == (3, 2)
    with pytest.raises(mx.base.MXNetError, match="axes"):      # a numpy array is not a shape (MXNet refuses it too)
        mx.nd.transpose(x, axes=np.array([1, 0]))


def test_symbolblock_imports_takes_the_files_dtypes(tmp_path):
    net = gluon.nn.HybridSequential()
    with net.name_scope():
        net.add(gluon.nn.Dense(2, in_units=3))
    net.initialize()
    net.cast("float16")
    net.hybridize()
    x = mx.nd.ones((1, 3), dtype="float16")
    expected = net(x).asnumpy()
    net.export(str(tmp_path / "half"))
    back = gluon.SymbolBlock.imports(str(tmp_path / "half-symbol.json"), ["data"], str(tmp_path / "half-0000.params"))
    weight = back.collect_params()["hybridsequential0_dense0_weight"]
    assert weight.data().dtype == np.float16
    np.testing.assert_array_equal(back(x).asnumpy(), expected)


def test_monitor_with_module_fit(caplog):
    rng = np.random.RandomState(6)
    x = rng.randn(8, 4).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    data = mx.sym.var("data")
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(data, num_hidden=2, name="fc1"), name="softmax")
    mod = mx.mod.Module(net)
    mon = mx.monitor.Monitor(1, pattern="fc1_.*", sort=True)
    with caplog.at_level("INFO"):
        mod.fit(mx.io.NDArrayIter(x, y, batch_size=8, label_name="softmax_label"), num_epoch=1, monitor=mon)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Batch:")]
    names = [line.split()[2] for line in lines]
    # MXNet 1.9.1 logs the backward node `fc1_backward` too (checked with the oracle)
    assert names == sorted(["fc1_output", "fc1_weight", "fc1_bias", "fc1_backward_output0", "fc1_backward_output1",
                            "fc1_backward_output2"])
    # the default statistic: norm(x) / sqrt(size), here of the weight after the update
    weight = mod.get_params()[0]["fc1_weight"].asnumpy()
    logged = float(next(line for line in lines if " fc1_weight " in line).split()[3])
    assert logged == pytest.approx(np.linalg.norm(weight) / np.sqrt(weight.size), rel=1e-5)


def test_register_op_hook_while_recording():
    net = gluon.nn.Dense(2, in_units=3)
    net.initialize()
    net.hybridize()
    seen = []
    net.register_op_hook(lambda name, op, array: seen.append((name, array.asnumpy())))
    x = mx.nd.array(np.random.RandomState(7).randn(2, 3))
    with autograd.record():
        y = net(x)
    y.backward()
    assert [n for n, _ in seen] == ["dense0_fwd_output"]
    np.testing.assert_allclose(seen[0][1], y.asnumpy())
    np.testing.assert_allclose(net.weight.grad().asnumpy(), np.ones((2, 2)) @ x.asnumpy(), rtol=1e-5)


@pytest.mark.parametrize("case", ["yy", "yzy"])
def test_a_head_listed_twice_takes_the_last_out_grad_as_mxnet(case):
    with open(os.path.join(SEMANTICS, "repeated_heads.json")) as f:
        want = json.load(f)[case]
    x = mx.sym.Variable("x")
    y = x * 2
    heads = [y, y] if case == "yy" else [y, y + 1, y]
    ex = mx.sym.Group(heads).simple_bind(mx.cpu(), x=(3,))
    ex.arg_dict["x"][:] = 1
    ex.forward(is_train=True)
    ex.backward([mx.nd.array(g) for g in want["out_grads"]])
    np.testing.assert_allclose(ex.grad_dict["x"].asnumpy(), want["grad"])
