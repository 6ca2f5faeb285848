"""Custom operators (mx.operator, ops/custom.py): Python CustomOps in mx.nd, mx.sym, hybridized blocks and autograd.

Truths: the same maths written with built-in ops and numpy, central differences, and MXNet 1.9.1's own run of the
tutorial's softmax loss and its JSON (tests/fixtures/mxnet-1.9.1/custom, made by reference/custom_fixtures.py).
The ops under test are in tests/custom_ops.py; bad input is tested in test_custom_op_errors.py.
"""
import json
import os
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dataflow as mx
from dataflow import autograd, gluon

from tests.custom_ops import seen
from tests.paths import FIXTURES

FIX = os.path.join(FIXTURES, "custom")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------------------------------------------------------
# Forward and backward in every front end
# ---------------------------------------------------------------------------------------------------------------

def test_ndarray_forward_equals_builtin():
    x = np.random.RandomState(0).uniform(-3, 3, (3, 4)).astype(np.float32)
    y = mx.nd.Custom(mx.nd.array(x), op_type="t_sigmoid")
    np.testing.assert_allclose(y.asnumpy(), mx.nd.sigmoid(mx.nd.array(x)).asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(y.asnumpy(), _sigmoid(x), rtol=1e-5)


def test_autograd_backward_equals_builtin():
    x = mx.nd.array(np.random.RandomState(1).uniform(-3, 3, (2, 5)))
    head = mx.nd.array(np.random.RandomState(2).uniform(-1, 1, (2, 5)))
    grads = []
    for op in (lambda v: mx.nd.Custom(v, op_type="t_sigmoid"), mx.nd.sigmoid):
        x.attach_grad()
        with autograd.record():
            y = op(x) * 3
        y.backward(head)
        grads.append(x.grad.asnumpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-7)


def test_is_train_follows_the_mode():
    x = mx.nd.ones((2,))
    seen.pop("sigmoid_is_train", None)
    mx.nd.Custom(x, op_type="t_sigmoid").wait_to_read()
    with autograd.record():
        mx.nd.Custom(x, op_type="t_sigmoid").wait_to_read()
    with autograd.record(train_mode=False):
        mx.nd.Custom(x, op_type="t_sigmoid").wait_to_read()
    assert seen["sigmoid_is_train"] == [False, True, False]


def test_declared_backward_dependencies_only():
    """t_sigmoid declares out_grad and out_data: backward sees None for in_data, and still gives sigmoid's
    gradient."""
    x = mx.nd.array([[-1.0, 0.0, 2.0]])
    x.attach_grad()
    with autograd.record():
        y = mx.nd.Custom(x, op_type="t_sigmoid")
    y.backward()
    s = _sigmoid(x.asnumpy())
    np.testing.assert_allclose(x.grad.asnumpy(), s * (1 - s), rtol=1e-5)
    assert seen["sigmoid_backward_in_data"] == [None]


def test_symbol_simple_bind_equals_builtin_and_central_differences():
    rng = np.random.RandomState(3)
    x = rng.uniform(-2, 2, (3, 4)).astype(np.float64)
    head = rng.uniform(-1, 1, (3, 4)).astype(np.float64)
    data = mx.sym.var("data")
    results = []
    for sym in (mx.sym.Custom(data, op_type="t_sigmoid", name="c") * 2, mx.sym.sigmoid(data) * 2):
        ex = sym.simple_bind(mx.cpu(), data=x.shape, type_dict={"data": np.float64})
        ex.forward(is_train=True, data=mx.nd.array(x, dtype=np.float64))
        ex.backward(mx.nd.array(head, dtype=np.float64))
        results.append((ex.outputs[0].asnumpy(), ex.grad_dict["data"].asnumpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)
    eps = 1e-6
    numeric = np.empty_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        numeric[i] = np.sum(head * (2 * _sigmoid(up) - 2 * _sigmoid(down))) / (2 * eps)
    np.testing.assert_allclose(results[0][1], numeric, rtol=1e-6, atol=1e-9)


def test_each_node_keeps_its_own_custom_op_state():
    """Two t_scale nodes with equal kwargs and shapes: each backward must see the scale its own forward drew."""
    x = np.random.RandomState(10).uniform(-1, 1, (2, 3))
    head = np.random.RandomState(11).uniform(-1, 1, (2, 3))
    sym = mx.sym.Custom(mx.sym.Custom(mx.sym.var("x"), op_type="t_scale", name="s1"), op_type="t_scale", name="s2")
    ex = sym.simple_bind(mx.cpu(), x=x.shape)
    seen["scales"] = []
    ex.forward(is_train=True, x=mx.nd.array(x))
    ex.backward(mx.nd.array(head))
    mx.nd.waitall()
    first, second = seen["scales"]
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), x * first * second, rtol=1e-5)
    np.testing.assert_allclose(ex.grad_dict["x"].asnumpy(), head * first * second, rtol=1e-5)


class _CustomNet(gluon.HybridBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.dense = gluon.nn.Dense(3, in_units=4)

    def hybrid_forward(self, F, x):
        return F.Custom(self.dense(x), op_type="t_sigmoid")


class _BuiltinNet(_CustomNet):
    def hybrid_forward(self, F, x):
        return F.sigmoid(self.dense(x))


@pytest.mark.parametrize("hybridize", [False, True])
def test_gluon_block_equals_builtin(hybridize):
    x = mx.nd.array(np.random.RandomState(4).uniform(-1, 1, (5, 4)))
    nets = [_CustomNet(prefix="custom_"), _BuiltinNet(prefix="builtin_")]
    for net in nets:
        net.initialize(mx.init.Xavier())
    nets[1].dense.weight.set_data(nets[0].dense.weight.data())
    nets[1].dense.bias.set_data(mx.nd.array([0.1, -0.2, 0.3]))
    nets[0].dense.bias.set_data(mx.nd.array([0.1, -0.2, 0.3]))
    results = []
    for net in nets:
        if hybridize:
            net.hybridize()
        with autograd.record():
            y = net(x)
            loss = (y * y).sum()
        loss.backward()
        results.append((y.asnumpy(), net.dense.weight.grad().asnumpy(), net.dense.bias.grad().asnumpy()))
    for got, want in zip(results[0], results[1]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


class _MulAddNet(gluon.HybridBlock):
    """F.Custom with a keyword argument and an aux state held by a Parameter."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.count = self.params.get("count", shape=(1,), init=mx.init.Zero(), grad_req="null")

    def hybrid_forward(self, F, x, count):
        prod, total = F.Custom(x, x * 2, count, op_type="t_muladd", scale=3)
        return prod + total


@pytest.mark.parametrize("hybridize", [False, True])
def test_gluon_keywords_and_aux_state(hybridize):
    net = _MulAddNet(prefix="muladd_")
    net.initialize()
    if hybridize:
        net.hybridize()
    x = mx.nd.array([1.0, -2.0, 0.5])
    x.attach_grad()
    with autograd.record():
        y = net(x)
    y.backward()
    xs = x.asnumpy()
    np.testing.assert_allclose(y.asnumpy(), xs * 2 * xs * 3 + 3 * xs, rtol=1e-6)
    np.testing.assert_allclose(x.grad.asnumpy(), 12 * xs + 3, rtol=1e-6)      # d/dx (6x^2 + 3x)
    net(x).wait_to_read()       # not training: the count stays
    assert net.count.data().asnumpy().tolist() == [1.0]


def test_hybridized_export_and_symbolblock_imports(tmp_path):
    net = _CustomNet(prefix="exp_")
    net.initialize(mx.init.Xavier())
    net.hybridize()
    x = mx.nd.array(np.random.RandomState(5).uniform(-1, 1, (2, 4)))
    want = net(x).asnumpy()
    net.export(str(tmp_path / "net"))
    with open(tmp_path / "net-symbol.json") as fh:
        nodes = json.load(fh)["nodes"]
    custom = [n for n in nodes if n["op"] == "Custom"]
    assert len(custom) == 1 and custom[0]["attrs"] == {"op_type": "t_sigmoid"}
    loaded = gluon.SymbolBlock.imports(str(tmp_path / "net-symbol.json"), ["data"],
                                       str(tmp_path / "net-0000.params"))
    np.testing.assert_allclose(loaded(x).asnumpy(), want, rtol=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# The tutorial's softmax loss (need_top_grad=False) against MXNet 1.9.1
# ---------------------------------------------------------------------------------------------------------------

def test_softmax_loss_matches_mxnet():
    fix = np.load(os.path.join(FIX, "softmax.npz"))
    sym = mx.sym.Custom(mx.sym.var("data"), mx.sym.var("label"), op_type="fx_softmax", name="loss")
    ex = sym.simple_bind(mx.cpu(), data=fix["data"].shape, label=fix["label"].shape,
                         grad_req={"data": "write", "label": "null"})
    ex.forward(is_train=True, data=mx.nd.array(fix["data"]), label=mx.nd.array(fix["label"]))
    ex.backward()
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), fix["output"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ex.grad_dict["data"].asnumpy(), fix["grad"], rtol=1e-5, atol=1e-7)
    assert seen["softmax_backward"]["out_grad"] == [None]       # need_top_grad=False: not a dependency
    # the same loss written with built-in ops
    builtin = mx.sym.SoftmaxOutput(mx.sym.var("data"), mx.sym.var("label"))
    ex2 = builtin.simple_bind(mx.cpu(), data=fix["data"].shape, label=fix["label"].shape)
    ex2.forward(is_train=True, data=mx.nd.array(fix["data"]), label=mx.nd.array(fix["label"]))
    ex2.backward()
    np.testing.assert_allclose(ex.grad_dict["data"].asnumpy(), ex2.grad_dict["data"].asnumpy(), rtol=1e-5,
                               atol=1e-7)


def test_module_trains_with_the_custom_loss_as_with_softmaxoutput():
    rng = np.random.RandomState(12)
    X = rng.randn(60, 5).astype(np.float32)
    Y = (X[:, 0] + X[:, 1] > 0).astype(np.float32)
    start = {"fc_weight": mx.nd.array(rng.uniform(-0.1, 0.1, (2, 5))), "fc_bias": mx.nd.zeros((2,))}
    fc = mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=2, name="fc")
    trained = []
    for net in (mx.sym.Custom(fc, mx.sym.var("softmax_label"), op_type="fx_softmax", name="softmax"),
                mx.sym.SoftmaxOutput(fc, name="softmax")):
        mod = mx.mod.Module(net, context=mx.cpu())
        mod.fit(mx.io.NDArrayIter(X, Y, batch_size=20), num_epoch=2, optimizer="sgd",
                optimizer_params={"learning_rate": 0.5}, arg_params={k: v.copy() for k, v in start.items()})
        trained.append({k: v.asnumpy() for k, v in mod.get_params()[0].items()})
    for key in start:
        np.testing.assert_allclose(trained[0][key], trained[1][key], rtol=1e-5, atol=1e-6)
    assert not np.allclose(trained[0]["fc_weight"], start["fc_weight"].asnumpy())


def test_softmax_loss_in_autograd_ignores_the_head_gradient():
    fix = np.load(os.path.join(FIX, "softmax.npz"))
    x = mx.nd.array(fix["data"])
    x.attach_grad()
    with autograd.record():
        y = mx.nd.Custom(x, mx.nd.array(fix["label"]), op_type="fx_softmax")
    y.backward(mx.nd.ones(y.shape) * 7)
    np.testing.assert_allclose(x.grad.asnumpy(), fix["grad"], rtol=1e-5, atol=1e-7)


def test_what_the_callbacks_receive_matches_mxnet():
    with open(os.path.join(FIX, "behaviour.json")) as fh:
        want = json.load(fh)
    fix = np.load(os.path.join(FIX, "softmax.npz"))
    sym = mx.sym.Custom(mx.sym.var("data"), mx.sym.var("label"), op_type="fx_softmax", name="loss",
                        scale=2.5, flag=True, mode="fast")
    # Props are made once per op_type and kwargs, so look for this one among all made so far
    assert want["init_kwargs"] in [{k: [type(v).__name__, v] for k, v in kwargs.items()}
                                   for kwargs in seen["softmax_kwargs"]]
    assert sym.list_arguments() == want["list_arguments"]
    assert sym.list_outputs() == want["list_outputs"]
    assert [[list(s) for s in part] for part in sym.infer_shape(data=(4, 5))] == want["infer_shape"]
    ex = sym.simple_bind(mx.cpu(), data=fix["data"].shape, label=fix["label"].shape,
                         grad_req={"data": "add", "label": "null"})
    ex.forward(is_train=True, data=mx.nd.array(fix["data"]), label=mx.nd.array(fix["label"]))
    ex.backward()
    ex.backward()
    np.testing.assert_allclose(ex.grad_dict["data"].asnumpy(), 2 * fix["grad"], rtol=1e-5, atol=1e-7)  # 'add'
    assert want["create_operator"] in seen["softmax_create"]
    assert seen["softmax_backward"]["req"][0] == want["backward_req_add"][0]


# ---------------------------------------------------------------------------------------------------------------
# Two inputs, two outputs, an aux state
# ---------------------------------------------------------------------------------------------------------------

def test_two_inputs_two_outputs_and_aux_in_a_symbol():
    rng = np.random.RandomState(6)
    a, b = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (2, 3))
    g0, g1 = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (2, 3))
    sym = mx.sym.Custom(mx.sym.var("a"), mx.sym.var("b"), op_type="t_muladd", scale=2, name="ma")
    assert sym.list_arguments() == ["a", "b"]
    assert sym.list_auxiliary_states() == ["ma_count"]
    assert sym.list_outputs() == ["ma_prod", "ma_sum"]
    assert sym.infer_shape(a=(2, 3)) == ([(2, 3), (2, 3)], [(2, 3), (2, 3)], [(1,)])
    ex = sym.simple_bind(mx.cpu(), a=(2, 3), b=(2, 3))
    for _ in range(2):
        ex.forward(is_train=True, a=mx.nd.array(a), b=mx.nd.array(b))
        ex.backward([mx.nd.array(g0), mx.nd.array(g1)])
    prod, total = (o.asnumpy() for o in ex.outputs)
    np.testing.assert_allclose(prod, (a * b * 2).astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(total, (a + b).astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(ex.grad_dict["a"].asnumpy(), g0 * b * 2 + g1, rtol=1e-5)
    np.testing.assert_allclose(ex.grad_dict["b"].asnumpy(), g0 * a * 2 + g1, rtol=1e-5)
    assert ex.aux_dict["ma_count"].asnumpy().tolist() == [2.0]
    ex.forward(is_train=False, a=mx.nd.array(a), b=mx.nd.array(b))
    assert ex.aux_dict["ma_count"].asnumpy().tolist() == [2.0]


def test_two_outputs_with_autograd_equal_builtin():
    rng = np.random.RandomState(7)
    a, b = mx.nd.array(rng.uniform(-1, 1, (4,))), mx.nd.array(rng.uniform(-1, 1, (4,)))
    count = mx.nd.zeros((1,))
    grads = []
    for custom in (True, False):
        a.attach_grad()
        b.attach_grad()
        with autograd.record():
            if custom:
                prod, total = mx.nd.Custom(a, b, count, op_type="t_muladd", scale="0.5")
            else:
                prod, total = a * b * 0.5, a + b
            loss = (prod * prod).sum() + (total * 3).sum()
        loss.backward()
        grads.append((a.grad.asnumpy(), b.grad.asnumpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-5)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-5)
    assert count.asnumpy().tolist() == [1.0]


def test_only_one_output_used_gets_a_zero_gradient_for_the_other():
    a, b = mx.nd.array([1.0, 2.0]), mx.nd.array([3.0, 4.0])
    a.attach_grad()
    with autograd.record():
        prod, _ = mx.nd.Custom(a, b, mx.nd.zeros((1,)), op_type="t_muladd")
    prod.backward()
    np.testing.assert_allclose(a.grad.asnumpy(), [3.0, 4.0])


# ---------------------------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------------------------

def test_json_equals_mxnet_and_round_trips():
    with open(os.path.join(FIX, "custom-symbol.json")) as fh:
        want = fh.read()
    sym = mx.sym.Custom(mx.sym.var("data"), mx.sym.var("label"), op_type="fx_softmax", name="loss",
                        scale=2.5, flag=True, mode="fast")
    assert sym.tojson() == want
    loaded = mx.sym.load_json(want)
    assert loaded.tojson() == want
    fix = np.load(os.path.join(FIX, "softmax.npz"))
    out = loaded.eval(data=mx.nd.array(fix["data"]), label=mx.nd.array(fix["label"]))[0]
    np.testing.assert_allclose(out.asnumpy(), fix["output"], rtol=1e-6, atol=1e-7)
    assert {"scale": "2.5", "flag": "True", "mode": "fast"} in seen["softmax_kwargs"]


# ---------------------------------------------------------------------------------------------------------------
# Scheduling: callbacks on the engine's worker
# ---------------------------------------------------------------------------------------------------------------

def test_large_arrays_run_on_the_worker_without_deadlock():
    """Over 64 KB the op runs on the engine's worker; its NDArray ops and asnumpy inside must not wait on it."""
    x = np.random.RandomState(8).uniform(-2, 2, (300, 100)).astype(np.float32)
    done = threading.Event()
    result = {}

    def work():
        try:
            label = mx.nd.zeros((x.shape[0],))
            result["y"] = mx.nd.Custom(mx.nd.array(x), label, op_type="fx_softmax").asnumpy()
        except Exception as err:  # noqa: BLE001 - reported below
            result["error"] = err
        done.set()
    threading.Thread(target=work, daemon=True).start()
    assert done.wait(60), "custom op deadlocked"
    assert "error" not in result, result.get("error")
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(result["y"], e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-7)


@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                  elements=st.floats(-8, 8, width=32)))
def test_sigmoid_property(x):
    y = mx.nd.Custom(mx.nd.array(x), op_type="t_sigmoid").asnumpy()
    np.testing.assert_allclose(y, _sigmoid(x.astype(np.float64)), rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------------------------------------------
# On a GPU: through the host (ops/cuda/custom.py), checked under numba's CUDA simulator
# ---------------------------------------------------------------------------------------------------------------

_ON_GPU = """
import numpy as np
import dataflow as mx
import tests.test_custom_op  # noqa: F401 - registers the ops
ctx = mx.gpu(0)
x = mx.nd.array([[-1.0, 0.5, 2.0]], ctx=ctx)
x.attach_grad()
with mx.autograd.record():
    y = mx.nd.Custom(x, op_type="t_sigmoid")
y.backward()
s = 1 / (1 + np.exp(-np.array([[-1.0, 0.5, 2.0]])))
assert y.context == ctx
np.testing.assert_allclose(y.asnumpy(), s, rtol=1e-6)
np.testing.assert_allclose(x.grad.asnumpy(), s * (1 - s), rtol=1e-6)
sym = mx.sym.Custom(mx.sym.var("a"), mx.sym.var("b"), op_type="t_muladd", name="ma")
ex = sym.simple_bind(ctx, a=(3,), b=(3,))
ex.forward(is_train=True, a=mx.nd.array([1, 2, 3], ctx=ctx), b=mx.nd.array([4, 5, 6], ctx=ctx))
ex.backward([mx.nd.ones((3,), ctx=ctx), mx.nd.ones((3,), ctx=ctx)])
assert ex.outputs[0].asnumpy().tolist() == [4, 10, 18] and ex.outputs[1].asnumpy().tolist() == [5, 7, 9]
assert ex.grad_dict["a"].asnumpy().tolist() == [5, 6, 7]
assert ex.aux_dict["ma_count"].asnumpy().tolist() == [1]     # the aux state written on the host comes back
print("ok")
"""


@pytest.mark.cuda
def test_on_a_gpu_through_the_host_under_the_simulator():
    pytest.importorskip("numba.cuda", reason="needs the cuda extra: pip install -e '.[cuda]'")
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-c", _ON_GPU], cwd=root, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), (proc.stdout + proc.stderr)[-4000:]


# ---- a CustomOp per imperative call (truth: MXNet 1.9.1, tests/fixtures/mxnet-1.9.1/amp/custom_state.json) -----
with open(os.path.join(FIXTURES, "amp", "custom_state.json")) as _f:
    MX_STATE = json.load(_f)
_created = []


class _ScaleBySum(mx.operator.CustomOp):
    def forward(self, is_train, req, in_data, out_data, aux):
        self.factor = float(in_data[0].asnumpy().sum())      # this call's state, read by its backward
        self.assign(out_data[0], req[0], in_data[0] * self.factor)

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        self.assign(in_grad[0], req[0], out_grad[0] * self.factor)


@mx.operator.register("t_scale_by_sum")
class _ScaleBySumProp(mx.operator.CustomOpProp):
    def list_arguments(self):
        return ["data"]

    def list_outputs(self):
        return ["output"]

    def infer_shape(self, in_shape):
        return in_shape, in_shape, []

    def create_operator(self, ctx, shapes, dtypes):
        _created.append(1)
        return _ScaleBySum()


def test_each_imperative_call_has_its_own_custom_op():
    del _created[:]
    a, b = mx.nd.array([1.0, 2.0]), mx.nd.array([3.0, 4.0])
    a.attach_grad()
    b.attach_grad()
    with autograd.record():
        z = mx.nd.Custom(a, op_type="t_scale_by_sum") + mx.nd.Custom(b, op_type="t_scale_by_sum")
    z.backward()
    want = MX_STATE["two_inputs"]
    assert (a.grad.asnumpy().tolist(), b.grad.asnumpy().tolist(), len(_created)) == \
        (want["a_grad"], want["b_grad"], want["created"])
    x = mx.nd.array([1.0, 1.0])
    x.attach_grad()
    with autograd.record():
        z = mx.nd.Custom(x, op_type="t_scale_by_sum") + mx.nd.Custom(x * 2, op_type="t_scale_by_sum")
    z.backward()
    want = MX_STATE["same_input"]
    assert (x.grad.asnumpy().tolist(), len(_created)) == (want["x_grad"], want["created"])
    mx.nd.Custom(a, op_type="t_scale_by_sum").wait_to_read()
    assert len(_created) == MX_STATE["plain_call_created"]


def test_an_imperative_calls_custom_op_goes_with_it():
    import gc
    from ops import custom
    mx.nd.Custom(mx.nd.ones(2), op_type="t_scale_by_sum").wait_to_read()
    info = next(i for key, i in custom._INFOS.items() if key[0] == "t_scale_by_sum")
    gc.collect()
    before = set(info._operators)
    for _ in range(3):
        mx.nd.Custom(mx.nd.ones(2), op_type="t_scale_by_sum").wait_to_read()
    mx.nd.waitall()
    gc.collect()
    assert set(info._operators) <= before       # nothing kept once a call is done with
