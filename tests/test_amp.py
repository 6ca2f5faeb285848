"""mx.contrib.amp: the op lists, convert_symbol's rewrite, init()'s casting front ends, dynamic loss scaling.

Truth: MXNet 1.9.1's lists, converted graphs (JSON with the casts kept), front-end graphs and dtypes after
`amp.init()`, LossScaler sequence and Trainer steps, recorded by reference/amp_behaviour_fixtures.py
(tests/fixtures/mxnet-1.9.1/amp/, README there); numpy for the values of a converted model.
`amp.init()` rewrites the front ends for the whole process, so those checks run in a spawned child.
"""
import json
import multiprocessing
import os

import numpy as np
import pytest

import dataflow as mx
from dataflow.base import MXNetError
from dataflow.contrib import amp

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "amp")
with open(os.path.join(HERE, "behaviour.json")) as _f:
    MX = json.load(_f)
with open(os.path.join(HERE, "lists.json")) as _f:
    MX_LISTS = json.load(_f)


def nodes(sym, remove_amp_cast=False):
    return [[n["op"], n["name"], n.get("attrs", {}), n["inputs"]]
            for n in json.loads(sym.tojson(remove_amp_cast=remove_amp_cast))["nodes"]]


def _jsonable(value):
    return json.loads(json.dumps(value))


def test_lists_are_mxnets():
    for module in ("symbol_fp16", "symbol_bf16"):
        ours = getattr(amp.lists, module)
        assert sorted(k for k in dir(ours) if k.isupper()) == sorted(MX_LISTS[module]), module
        for name, value in MX_LISTS[module].items():
            assert _jsonable(getattr(ours, name)) == value, (module, name)
    assert amp.list_lp16_ops("float16") == MX_LISTS["symbol_fp16"]["FP16_FUNCS"]
    assert amp.list_widest_type_cast("float16") == MX_LISTS["symbol_fp16"]["WIDEST_TYPE_CASTS"]
    assert amp.list_lp16_use_fp32_params("float16") is None


def _small_net():
    data = mx.sym.var("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=8, name="fc1")
    ex = mx.sym.exp(fc1, name="e")
    fc2 = mx.sym.FullyConnected(ex, num_hidden=4, name="fc2")
    return data, fc1, ex, mx.sym.elemwise_add(fc2, mx.sym.slice_axis(fc1, axis=1, begin=0, end=4), name="add")


CONVERSIONS = {
    "single_fc": lambda d, fc1, ex, add: amp.convert_symbol(fc1),
    "fp32_op_output": lambda d, fc1, ex, add: amp.convert_symbol(mx.sym.exp(d, name="e2")),
    "net_data_names": lambda d, fc1, ex, add: amp.convert_symbol(add, data_names=["data"]),
    "net_optional_params": lambda d, fc1, ex, add: amp.convert_symbol(add, data_names=["data"],
                                                                      cast_optional_params=True),
    "net_excluded": lambda d, fc1, ex, add: amp.convert_symbol(add, data_names=["data"], excluded_sym_names=["fc2"]),
    "net_custom_lists": lambda d, fc1, ex, add: amp.convert_symbol(ex, target_dtype_ops=["exp"],
                                                                   fp32_ops=["FullyConnected"],
                                                                   conditional_fp32_ops=[]),
}


@pytest.mark.parametrize("case", sorted(CONVERSIONS))
def test_convert_symbol_json_is_mxnets(case):
    with mx.name.NameManager():
        converted = CONVERSIONS[case](*_small_net())
    assert nodes(converted) == MX["convert"][case]


def test_tojson_leaves_the_casts_out_by_default():
    with mx.name.NameManager():
        converted = amp.convert_symbol(_small_net()[-1], data_names=["data"])
    assert nodes(converted, remove_amp_cast=True) == MX["convert"]["stripped"]


def test_convert_model_runs_in_float16_close_to_float32():
    rng = np.random.RandomState(3)
    with mx.name.NameManager():
        add = _small_net()[-1]
    shapes = {"fc1_weight": (8, 5), "fc1_bias": (8,), "fc2_weight": (4, 8), "fc2_bias": (4,)}
    params = {k: mx.nd.array(rng.uniform(-0.5, 0.5, s)) for k, s in shapes.items()}
    x = rng.uniform(-1, 1, (3, 5)).astype(np.float32)
    expected = add.eval(mx.cpu(), data=mx.nd.array(x), **params)[0].asnumpy()
    sym, args, aux = amp.convert_model(add, dict(params), {}, cast_optional_params=True)
    assert {k: np.dtype(v.dtype) for k, v in args.items()} == {k: np.dtype(np.float16) for k in shapes}
    internals = sym.get_internals()
    fc1 = internals["fc1_output"].eval(mx.cpu(), data=mx.nd.array(x), **args)[0]
    assert np.dtype(fc1.dtype) == np.float16
    out = sym.eval(mx.cpu(), data=mx.nd.array(x), **args)[0]
    assert np.dtype(out.dtype) == np.float32
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-2, atol=1e-2)
    assert not np.array_equal(out.asnumpy(), expected)     # it did compute in float16


def test_bad_arguments_raise():
    x = mx.sym.var("x")
    with pytest.raises(MXNetError, match="two or more lists"):
        amp.convert_symbol(mx.sym.exp(x), target_dtype_ops=["exp"], fp32_ops=["exp"])
    with pytest.raises(MXNetError, match="not in any of them"):
        amp.convert_symbol(mx.sym.exp(x), target_dtype_ops=["no_such_op"])
    with pytest.raises(MXNetError, match="bfloat16"):
        amp.convert_symbol(mx.sym.exp(x), target_dtype="bfloat16")
    with pytest.raises(MXNetError, match="amp.init"):
        amp.init_trainer(mx.gluon.Trainer(mx.gluon.ParameterDict(), "sgd"))
    with pytest.raises(MXNetError, match="init_trainer"):
        with amp.scale_loss(mx.nd.ones(1), mx.gluon.Trainer(mx.gluon.ParameterDict(), "sgd")):
            pass


class _Param:
    def __init__(self, grad):
        self._grad = [grad]


def test_loss_scaler_sequence_is_mxnets():
    scaler = amp.loss_scaler.LossScaler()
    finite, inf = _Param(mx.nd.ones((2,))), _Param(mx.nd.array([1.0, np.inf]))
    seq = MX["scaler"]
    for overflow, (was, scale, next_scale) in zip(seq["pattern"], seq["sequence"]):
        assert scaler.has_overflow([inf if overflow else finite]) == was
        assert (scaler.loss_scale, scaler._next_loss_scale) == (scale, next_scale)


# ---- in a spawned child: amp.init() changes the front ends for the rest of the process -------------------------
def _after_init(queue):
    try:
        import dataflow as mx
        from dataflow.contrib import amp
        amp.init()
        out = {}                # built in the order the recording built them (auto names count up)
        arrays = np.load(os.path.join(HERE, "behaviour.npz"))
        x = arrays["x"]
        h = mx.nd.array(x).astype("float16")
        out["exp_f16_dtype"] = np.dtype(mx.nd.exp(h).dtype).name
        mixed = mx.nd.elemwise_add(h, mx.nd.array(x))
        out["add_mixed_dtype"] = np.dtype(mixed.dtype).name
        out["add_mixed"] = mixed.asnumpy().tolist()
        plus = h + mx.nd.array(x)
        out["operator_add_dtype"] = np.dtype(plus.dtype).name
        out["operator_add"] = plus.asnumpy().tolist()
        out["sym_operator_add"] = nodes(mx.sym.var("x") + mx.sym.var("y"))
        out["softrelu_f32_dtype"] = np.dtype(mx.nd.Activation(mx.nd.array(x), act_type="softrelu").dtype).name
        d = mx.nd.array(x)
        d.attach_grad()
        with mx.autograd.record():
            y = mx.nd.SoftmaxOutput(d, mx.nd.array([0, 2, 1]))
        y.backward()
        out["softmax_grad"] = d.grad.asnumpy().tolist()
        out["sym_fc"] = nodes(mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=4, name="fc"))
        out["sym_widest"] = nodes(mx.sym.elemwise_add(mx.sym.exp(mx.sym.var("a"), name="ea"), mx.sym.var("b"),
                                                      name="s"))
        out["sym_bn"] = nodes(mx.sym.BatchNorm(mx.sym.var("data"), name="bn"))
        net = mx.gluon.nn.HybridSequential(prefix="net_")
        with net.name_scope():
            net.add(mx.gluon.nn.Dense(4, in_units=5, prefix="d1_"))
            net.add(mx.gluon.nn.Activation("relu", prefix="r_"))
            net.add(mx.gluon.nn.Dense(2, in_units=4, prefix="d2_"))
        net.initialize()
        out["gluon_graph"] = nodes(net(mx.sym.var("data")))
        net.hybridize()
        out["gluon_dtype"] = np.dtype(net(mx.nd.array(x)).dtype).name
        queue.put(out)
    except BaseException as err:       # report, never hang the parent
        queue.put(repr(err))


def _trainer_steps(queue):
    try:
        import dataflow as mx
        from dataflow.contrib import amp
        # as the recording did: AMP's loss-scaling state on, the front ends left float32
        amp.amp._amp_initialized = True
        amp.amp._loss_scaler = amp.loss_scaler.LossScaler()
        net = mx.gluon.nn.Dense(2, in_units=3)
        net.initialize(mx.init.Constant(0.5))
        trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
        amp.init_trainer(trainer)
        steps = []
        for step in MX["scaler"]["trainer"]:
            with mx.autograd.record():
                loss = net(mx.nd.array(step["x"])).sum()
                with amp.scale_loss(loss, trainer) as scaled:
                    mx.autograd.backward(scaled)
            grad = net.weight.grad().asnumpy().tolist()
            trainer.step(4)
            steps.append({"grad": grad, "weight": net.weight.data().asnumpy().tolist(),
                          "loss_scale": trainer._amp_loss_scaler.loss_scale, "scale": trainer._scale})
        un = MX["scaler"]["unscale"]
        with mx.autograd.record():
            loss = net(mx.nd.array(un["x"])).sum()
            with amp.scale_loss(loss, trainer) as scaled:
                mx.autograd.backward(scaled)
        before = net.weight.grad().asnumpy().tolist()
        amp.unscale(trainer)
        queue.put({"steps": steps, "before": before, "after": net.weight.grad().asnumpy().tolist(),
                   "scale": trainer._scale})
    except BaseException as err:
        queue.put(repr(err))


def _in_child(target):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=target, args=(queue,))
    child.start()
    result = queue.get(timeout=300)
    child.join(60)
    assert not isinstance(result, str), result
    return result


def test_init_casts_front_ends_as_mxnet():
    got = _in_child(_after_init)
    want = MX["imperative"]
    for key in ("sym_fc", "sym_widest", "sym_bn", "gluon_graph", "exp_f16_dtype", "add_mixed_dtype",
                "softrelu_f32_dtype", "operator_add_dtype", "sym_operator_add"):
        assert got[key] == want[key], key
    arrays = np.load(os.path.join(HERE, "behaviour.npz"))
    np.testing.assert_allclose(got["add_mixed"], arrays["add_mixed"], rtol=1e-3)
    np.testing.assert_allclose(got["operator_add"], arrays["operator_add"], rtol=1e-3)
    np.testing.assert_allclose(got["softmax_grad"], arrays["softmax_grad"], rtol=1e-5)   # scaled by 2**16
    assert got["gluon_dtype"] == "float16"      # Dense runs in float16 (MXNet's CPU has no such kernel)


def test_trainer_loss_scaling_is_mxnets():
    got = _in_child(_trainer_steps)
    for ours, theirs in zip(got["steps"], MX["scaler"]["trainer"]):
        np.testing.assert_allclose(ours["grad"], theirs["grad"], rtol=1e-5)
        np.testing.assert_allclose(ours["weight"], theirs["weight"], rtol=1e-6)
        assert (ours["loss_scale"], ours["scale"]) == (theirs["loss_scale"], theirs["scale"])
    un = MX["scaler"]["unscale"]
    np.testing.assert_allclose(got["before"], un["before"], rtol=1e-5)
    np.testing.assert_allclose(got["after"], un["after"], rtol=1e-5)
    assert got["scale"] == un["scale"]


@pytest.mark.parametrize("optional", [False, True])
def test_convert_hybrid_block_is_mxnets(optional):
    with mx.name.NameManager():
        net = mx.gluon.nn.HybridSequential(prefix="net_")
        with net.name_scope():
            net.add(mx.gluon.nn.Dense(4, in_units=5, prefix="d1_"))
            net.add(mx.gluon.nn.Activation("relu", prefix="r_"))
            net.add(mx.gluon.nn.Dense(2, in_units=4, prefix="d2_"))
    net.initialize(mx.init.Uniform(0.5))
    net.hybridize()
    x = mx.nd.array(np.random.RandomState(5).uniform(-1, 1, (3, 5)))
    want = net(x).asnumpy()
    block = amp.convert_hybrid_block(net, ctx=mx.cpu(), cast_optional_params=optional)
    theirs = MX["convert"]["hybrid_block_%s" % optional]
    assert {k: np.dtype(p.dtype).name for k, p in block.collect_params().items()} == theirs["params"]
    assert {k: np.dtype(p.data().dtype).name for k, p in block.collect_params().items()} == theirs["data"]
    assert nodes(block(mx.sym.var("data"))) == theirs["graph"]
    got = block(x)
    assert np.dtype(got.dtype) == np.float32
    np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-2, atol=1e-2)


def test_convert_hybrid_block_needs_a_traced_block():
    with pytest.raises(RuntimeError, match="hybridize"):
        amp.convert_hybrid_block(mx.gluon.nn.Dense(2, in_units=3))
