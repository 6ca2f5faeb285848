"""Gluon layers against MXNet 1.9.1: outputs against numpy, names, reprs and traced graphs against the oracle,
hybridized against imperative, deferred initialisation of the input channels (the losses: test_gluon_losses.py).

The table of layer configurations (`CASES`, printed by real MXNet 1.9.1) and their numpy references (`REFS`) are in
tests/gluon_layer_cases.py.
"""
import warnings

import numpy as np
import pytest

import dataflow as mx
from dataflow import autograd, nd
from dataflow.gluon import nn
from tests.gluon_helpers import graph_lines as _graph_lines
from tests.gluon_layer_cases import CASES, HYBRID, REFS


@pytest.fixture(autouse=True)
def fresh_names():
    with mx.name.NameManager():
        yield


def _input(key, seed=0):
    case = CASES[key]
    rs = np.random.RandomState(seed)
    if key == "Embedding":
        return rs.randint(0, 10, size=case.shape).astype(np.float32)
    return rs.uniform(-1, 1, size=case.shape).astype(np.float32)


def _setup(key, seed=0):
    """(block, input, {param name without prefix: numpy value}): initialised, with the parameters drawn from
    RandomState(seed) in sorted-name order (running variances in [0.5, 1.5))."""
    block = CASES[key].make()
    x = _input(key, seed)
    block.initialize()
    block(nd.array(x))
    rs = np.random.RandomState(seed + 1)
    values = {}
    params = block.collect_params()
    for name in sorted(params.keys()):
        low, high = (0.5, 1.5) if name.endswith("running_var") else (-1, 1)
        value = rs.uniform(low, high, size=params[name].shape).astype(np.float32)
        params[name].set_data(nd.array(value))
        values[name[len(block.prefix):]] = value
    return block, x, values


def test_every_case_has_a_reference():
    assert sorted(REFS) == sorted(CASES)


@pytest.mark.parametrize("key", list(CASES))
def test_layer_output_matches_numpy(key):
    block, x, params = _setup(key)
    got = block(nd.array(x)).asnumpy()
    want = REFS[key](x.astype(np.float64), {k: v.astype(np.float64) for k, v in params.items()})
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("key", list(CASES))
def test_names_repr_and_params_match_mxnet(key):
    case = CASES[key]
    block = case.make()
    before, after = case.repr if isinstance(case.repr, tuple) else (case.repr, case.repr)
    assert repr(block) == before
    block.initialize()
    out = block(nd.array(np.random.RandomState(0).randint(0, 10, size=case.shape)) if key == "Embedding"
                else nd.ones(case.shape))
    assert repr(block) == after
    assert out.shape == case.out_shape
    got = [(name[len(block.prefix):], p.shape, p.grad_req) for name, p in block.collect_params().items()]
    assert got == case.params
    assert all(name.startswith(block.prefix) for name in block.collect_params())


@pytest.mark.parametrize("key", HYBRID)
def test_traced_graph_matches_mxnet(key):
    block = CASES[key].make()
    with mx.name.NameManager():
        out = block(mx.sym.var("data"))
    assert _graph_lines(out) == CASES[key].graph


@pytest.mark.parametrize("key", [k for k in HYBRID if not k.startswith("Dropout")])
def test_hybridized_equals_imperative(key):
    """Inference and training mode (batch statistics, running-stat updates) through the cached Plan equal the
    op-by-op run; a second call of the Plan gives the same result."""
    imperative, x, _ = _setup(key)
    with mx.name.NameManager():
        hybrid, _, _ = _setup(key)
    hybrid.hybridize()
    x = nd.array(x)
    for mode in (autograd.predict_mode, autograd.train_mode, autograd.predict_mode):
        with mode():
            want = imperative(x).asnumpy()
            got = [hybrid(x).asnumpy() for _ in range(1 if mode is autograd.train_mode else 2)]
        for g in got:
            np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-6)
    for (name, p), q in zip(imperative.collect_params().items(), hybrid.collect_params().values()):
        if key == "BatchNorm_fixed" and name.endswith("gamma"):
            continue    # MXNet writes ones into a fixed gamma imperatively, not in a graph run outside record()
        np.testing.assert_allclose(q.data().asnumpy(), p.data().asnumpy(), rtol=1e-6, atol=1e-7, err_msg=name)


# ---- layer behaviour beyond one inference call --------------------------------------------------------------

def test_deferred_initialisation_infers_the_input_channels():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(8, 3, padding=1), nn.BatchNorm(), nn.Conv2DTranspose(4, 2, strides=2), nn.LayerNorm(),
                nn.Dense(5), nn.PReLU())
    net.initialize()
    conv, bn, deconv, ln, dense, prelu = net
    pending = [conv.weight, bn.gamma, bn.running_var, deconv.weight, ln.gamma, dense.weight]
    assert [p.shape for p in pending] == [(8, 0, 3, 3), (0,), (0,), (0, 4, 2, 2), (0,), (5, 0)]
    assert all(p.pending for p in pending) and not prelu.alpha.pending       # PReLU's shape is (in_channels,)
    with pytest.raises(mx.gluon.DeferredInitializationError):
        conv.weight.data()
    net(nd.ones((2, 3, 4, 4)))
    assert [p.shape for p in pending] == [(8, 3, 3, 3), (8,), (8,), (8, 4, 2, 2), (8,), (5, 4 * 8 * 8)]
    np.testing.assert_array_equal(bn.running_var.data().asnumpy(), np.ones(8))      # running_variance 'ones'
    assert not conv.bias.data().asnumpy().any()
    given = nn.Conv2D(8, 3, in_channels=3)
    assert given.weight.shape == (8, 3, 3, 3)
    given.initialize()
    assert given.weight.data().shape == (8, 3, 3, 3)


def test_batchnorm_training_uses_batch_statistics_and_updates_the_running_ones():
    block, x, P = _setup("BatchNorm")
    with autograd.record():
        y = block(nd.array(x))
    x64 = x.astype(np.float64)
    mean, var = x64.mean(axis=(0, 2, 3)), x64.var(axis=(0, 2, 3))
    c = lambda v: v.reshape(1, -1, 1, 1)         # noqa: E731
    want = (x64 - c(mean)) / np.sqrt(c(var) + 1e-5) * c(P["gamma"]) + c(P["beta"])
    np.testing.assert_allclose(y.asnumpy(), want, rtol=1e-5, atol=1e-5)
    # the running stats are updated by the backward, as in MXNet: the forward alone leaves them
    np.testing.assert_array_equal(block.running_mean.data().asnumpy(), P["running_mean"])
    np.testing.assert_array_equal(block.running_var.data().asnumpy(), P["running_var"])
    y.backward()
    # momentum 0.9
    np.testing.assert_allclose(block.running_mean.data().asnumpy(), 0.9 * P["running_mean"] + 0.1 * mean,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(block.running_var.data().asnumpy(), 0.9 * P["running_var"] + 0.1 * var,
                               rtol=1e-5, atol=1e-6)


def test_batchnorm_without_scale_and_center_trains_neither_gamma_nor_beta():
    block, x, _ = _setup("BatchNorm_fixed")
    assert block.gamma.grad_req == "null" and block.beta.grad_req == "null"
    block.gamma.grad_req = "write"          # not differentiable: stays 'null', as in MXNet
    assert block.gamma.grad_req == "null"


def test_dropout_drops_in_training_only():
    block = nn.Dropout(0.5)
    x = nd.ones((200, 50))
    np.testing.assert_array_equal(block(x).asnumpy(), x.asnumpy())
    with autograd.record():
        y = block(x).asnumpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert 0.4 < (y == 0).mean() < 0.6
    shared = nn.Dropout(0.5, axes=(1,))
    with autograd.train_mode():
        z = shared(x).asnumpy()
    assert (z == z[:, :1]).all()            # one draw per row, shared along axis 1


def test_prelu_learns_its_slope():
    block, x, P = _setup("PReLU_channels")
    with autograd.record():
        y = block(nd.array(x))
    y.backward()
    want = (x * (x <= 0)).sum(axis=(0, 2))          # d/d alpha_c of sum(y) = sum of x where x <= 0
    np.testing.assert_allclose(block.alpha.grad().asnumpy(), want, rtol=1e-5)


def test_constructor_errors_match_mxnet():
    with pytest.raises(AssertionError, match="Slope coefficient for LeakyReLU must be no less than 0."):
        nn.LeakyReLU(-0.1)
    with pytest.raises(AssertionError, match="Function name no_such_op is not found in ndarray."):
        nn.Lambda("no_such_op")
    with pytest.raises(AssertionError, match="Function name no_such_op is not found in symbol/ndarray."):
        nn.HybridLambda("no_such_op")
    with pytest.raises(AssertionError, match="Only supports 'NCHW' and 'NHWC' layout for now"):
        nn.Conv2D(4, 3, layout="NCW")
    with pytest.raises(AssertionError, match="kernel_size must be a number or a list of 2 ints"):
        nn.Conv2D(4, (3, 3, 3))
    with pytest.raises(AssertionError, match="Only NCHW and NHWC layouts are valid for 2D Pooling"):
        nn.MaxPool2D(layout="NCW")


@pytest.mark.parametrize("make, shape", [(lambda: nn.Conv2D(4, 3), (2, 3, 5)),
                                         (lambda: nn.MaxPool1D(), (2, 3, 4, 4)),
                                         (lambda: nn.Conv3DTranspose(2, 2), (1, 2, 3, 3))])
def test_a_wrong_input_rank_names_the_layer(make, shape):
    block = make()
    block.initialize()
    with pytest.raises(mx.base.MXNetError, match=block.name):
        block(nd.ones(shape))


def test_sequential_warns_when_it_could_be_hybrid():
    net = nn.Sequential()
    net.add(nn.Dense(2))
    with pytest.warns(UserWarning, match="Consider using HybridSequential"):
        net.hybridize()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.add(nn.Lambda("relu"))
        net.hybridize()


def test_nested_names_follow_mxnet():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(4, 3, activation="relu"), nn.Conv2D(4, 3), nn.MaxPool2D(), nn.AvgPool2D(), nn.Flatten(),
                nn.Activation("relu"), nn.Activation("tanh"), nn.Dense(2))
    assert [b.name for b in net] == [
        "hybridsequential0_conv0", "hybridsequential0_conv1", "hybridsequential0_pool0", "hybridsequential0_pool1",
        "hybridsequential0_flatten0", "hybridsequential0_relu0", "hybridsequential0_tanh0",
        "hybridsequential0_dense0"]
    assert net[0].act.name == "hybridsequential0_conv0_relu"
