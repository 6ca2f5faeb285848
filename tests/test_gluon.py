"""Gluon: MXNet's names, deferred initialisation, hybridize, export and SymbolBlock.imports of MXNet's files."""
import json
import os

import numpy as np
import pytest

import dataflow as mx
from dataflow import autograd, nd
from dataflow.gluon import nn
from tests.paths import FIXTURES


def _mlp():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dense(256, activation="relu"), nn.Dense(128, activation="relu"), nn.Dense(2))
    return net


@pytest.fixture(autouse=True)
def fresh_names():
    with mx.name.NameManager():
        yield


def _set_fixture_params(net, seed=0):
    """Parameters as the mlp fixture set them: uniform(-0.1, 0.1) from RandomState(0), in sorted-name order."""
    rs = np.random.RandomState(seed)
    params = net.collect_params()
    for name in sorted(params.keys()):
        params[name].set_data(nd.array(rs.uniform(-0.1, 0.1, size=params[name].shape).astype(np.float32)))
    return rs


def test_names_and_repr_match_mxnet():
    net = _mlp()
    assert net.prefix == "hybridsequential0_"
    assert repr(net) == ("HybridSequential(\n  (0): Dense(None -> 256, Activation(relu))\n  (1): Dense(None -> 128, "
                         "Activation(relu))\n  (2): Dense(None -> 2, linear)\n)")
    assert sorted(net.collect_params().keys()) == [
        "hybridsequential0_dense0_bias", "hybridsequential0_dense0_weight", "hybridsequential0_dense1_bias",
        "hybridsequential0_dense1_weight", "hybridsequential0_dense2_bias", "hybridsequential0_dense2_weight"]
    assert list(net.collect_params(".*dense1.*").keys()) == ["hybridsequential0_dense1_weight",
                                                             "hybridsequential0_dense1_bias"]
    second = _mlp()
    assert second.prefix == "hybridsequential1_"


def test_deferred_initialisation_completes_at_the_first_forward():
    net = _mlp()
    net.initialize()
    weight = net[0].weight
    assert weight.pending and weight.shape == (256, 0)
    with pytest.raises(mx.gluon.DeferredInitializationError, match="pass one batch"):
        weight.data()
    net(nd.zeros((1, 512)))
    assert not weight.pending and weight.shape == (256, 512) and weight.data().shape == (256, 512)
    assert not net[0].bias.data().asnumpy().any()        # bias_initializer='zeros'
    assert repr(net[0]) == "Dense(512 -> 256, Activation(relu))"


def test_mxnet_mlp_fixture_imperative_and_hybridized():
    net = _mlp()
    net.initialize()
    net(nd.zeros((1, 512)))
    _set_fixture_params(net)
    x1 = np.load(os.path.join(FIXTURES, "mlp", "input.npy"))
    x8 = np.load(os.path.join(FIXTURES, "mlp", "input_b8.npy"))
    want1 = np.load(os.path.join(FIXTURES, "mlp", "output.npy"))
    want8 = np.load(os.path.join(FIXTURES, "mlp", "output_b8.npy"))
    imperative = [net(nd.array(x)).asnumpy() for x in (x1, x8)]
    net.hybridize()
    hybrid = [net(nd.array(x)).asnumpy() for x in (x1, x8)]      # a new shape plans again
    hybrid_again = net(nd.array(x1)).asnumpy()
    for got, want in zip(imperative + hybrid, [want1, want8] * 2):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(hybrid_again, hybrid[0])


def test_calling_on_a_symbol_returns_the_graph():
    net = _mlp()
    out = net(mx.sym.var("data"))
    assert repr(out) == "<Symbol hybridsequential0_dense2_fwd>"
    assert out.list_arguments() == ["data", "hybridsequential0_dense0_weight", "hybridsequential0_dense0_bias",
                                    "hybridsequential0_dense1_weight", "hybridsequential0_dense1_bias",
                                    "hybridsequential0_dense2_weight", "hybridsequential0_dense2_bias"]


def test_export_matches_the_mxnet_file(tmp_path):
    net = _mlp()
    net.initialize()
    net.hybridize()
    net(nd.zeros((1, 512)))
    path = str(tmp_path / "mlp")
    net.export(path)
    assert sorted(os.listdir(tmp_path)) == ["mlp-0000.params", "mlp-symbol.json"]
    with open(os.path.join(FIXTURES, "mlp", "mlp-symbol.json")) as fh:
        want = json.load(fh)
    with open(path + "-symbol.json") as fh:
        got = json.load(fh)
    assert got == want
    params = nd.load(path + "-0000.params")
    assert sorted(params) == ["arg:" + k for k in sorted(net.collect_params().keys())]


def test_symbolblock_imports_mxnet_export():
    net = mx.gluon.SymbolBlock.imports(os.path.join(FIXTURES, "mlp", "mlp-symbol.json"), ["data"],
                                       os.path.join(FIXTURES, "mlp", "mlp-0000.params"))
    for x_file, y_file in (("input.npy", "output.npy"), ("input_b8.npy", "output_b8.npy")):
        x = np.load(os.path.join(FIXTURES, "mlp", x_file))
        np.testing.assert_allclose(net(nd.array(x)).asnumpy(), np.load(os.path.join(FIXTURES, "mlp", y_file)),
                                   rtol=1e-5, atol=1e-6)


def test_autograd_through_a_hybridized_block_equals_imperative():
    grads = []
    for hybrid in (False, True):
        with mx.name.NameManager():
            net = _mlp()
        net.initialize()
        net(nd.zeros((2, 8)))
        _set_fixture_params(net)
        if hybrid:
            net.hybridize()
        x = nd.array(np.random.RandomState(3).uniform(size=(2, 8)))
        with autograd.record():
            loss = (net(x) * net(x)).sum()
        loss.backward()
        grads.append({k.split("_", 1)[1]: p.grad().asnumpy() for k, p in net.collect_params().items()})
    for key in grads[0]:
        np.testing.assert_allclose(grads[0][key], grads[1][key], rtol=1e-6)


def test_wrong_input_rank_names_the_layer():
    net = _mlp()
    net.initialize()
    net(nd.zeros((1, 512)))
    net.hybridize()
    with pytest.raises(mx.base.MXNetError, match="hybridsequential0_dense0_fwd"):
        net(nd.zeros((1, 100))).asnumpy()


def test_save_and_load_parameters_use_structural_names(tmp_path):
    net = _mlp()
    net.initialize()
    net(nd.zeros((1, 8)))
    path = str(tmp_path / "net.params")
    net.save_parameters(path)
    assert sorted(nd.load(path)) == ["0.bias", "0.weight", "1.bias", "1.weight", "2.bias", "2.weight"]
    with mx.name.NameManager():
        other = _mlp()
    other.load_parameters(path)
    x = nd.ones((2, 8))
    np.testing.assert_array_equal(other(x).asnumpy(), net(x).asnumpy())


def test_reshape_inside_record_is_differentiated():
    x = nd.array(np.arange(6, dtype=np.float32))
    x.attach_grad()
    with autograd.record():
        y = (x.reshape((2, 3)) * x.reshape((3, 2)).T).sum()     # sum_ij x[3i+j] * x[2j+i]
    y.backward()
    v = np.arange(6, dtype=np.float32)
    a, b = v.reshape(2, 3), v.reshape(3, 2).T
    want = np.zeros(6, np.float32)
    for i in range(2):
        for j in range(3):
            want[3 * i + j] += b[i, j]
            want[2 * j + i] += a[i, j]
    np.testing.assert_allclose(x.grad.asnumpy(), want)
