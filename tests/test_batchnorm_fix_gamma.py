"""Where BatchNorm(fix_gamma=True) writes ones into gamma: everywhere but in a compiled graph that computes no
gradient (an Executor bound with grad_req 'null' for every argument, a hybridized block called outside
autograd.record()).

Truth: MXNet 1.9.1's gamma after each kind of call, recorded by reference/amp_behaviour_fixtures.py
(tests/fixtures/mxnet-1.9.1/amp/fix_gamma.json, README there); gamma starts as [2, 3, 4].
"""
import json
import os

import numpy as np
import pytest

import dataflow as mx

with open(os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "amp", "fix_gamma.json")) as _f:
    MX = json.load(_f)
X = np.array(MX["x"], dtype=np.float32)


def _gamma0():
    return mx.nd.array([2.0, 3.0, 4.0])


@pytest.mark.parametrize("req", ["null", "write"])
@pytest.mark.parametrize("train", [False, True])
def test_executor(req, train):
    sym = mx.sym.BatchNorm(mx.sym.var("data"), fix_gamma=True, name="bn")
    ex = sym.simple_bind(mx.cpu(), grad_req=req, data=(4, 3))
    ex.arg_dict["data"][:] = X
    ex.arg_dict["bn_gamma"][:] = _gamma0()
    ex.forward(is_train=train)
    ex.outputs[0].wait_to_read()
    key = "executor_%s_%s" % (req, "train" if train else "infer")
    np.testing.assert_array_equal(ex.arg_dict["bn_gamma"].asnumpy(), MX[key])
    if train and req == "write":
        ex.backward(mx.nd.ones((4, 3)))
        np.testing.assert_array_equal(ex.arg_dict["bn_gamma"].asnumpy(), MX[key + "_backward"])


@pytest.mark.parametrize("wanted", ["data", "bn_gamma", "bn_beta"])
def test_executor_with_one_gradient(wanted):
    sym = mx.sym.BatchNorm(mx.sym.var("data"), fix_gamma=True, name="bn")
    req = {name: "write" if name == wanted else "null" for name in ("data", "bn_gamma", "bn_beta")}
    ex = sym.simple_bind(mx.cpu(), grad_req=req, data=(4, 3))
    ex.arg_dict["data"][:] = X
    ex.arg_dict["bn_gamma"][:] = _gamma0()
    ex.forward(is_train=True)
    np.testing.assert_array_equal(ex.arg_dict["bn_gamma"].asnumpy(), MX["executor_only_" + wanted])


@pytest.mark.parametrize("mode", ["plain", "record_train", "record_predict"])
def test_imperative(mode):
    gamma = _gamma0()
    args = [mx.nd.array(X), gamma, mx.nd.zeros(3), mx.nd.zeros(3), mx.nd.ones(3)]
    if mode == "plain":
        mx.nd.BatchNorm(*args, fix_gamma=True).wait_to_read()
    else:
        with mx.autograd.record(train_mode=(mode == "record_train")):
            mx.nd.BatchNorm(*args, fix_gamma=True).wait_to_read()
    np.testing.assert_array_equal(gamma.asnumpy(), MX["nd_" + mode])


@pytest.mark.parametrize("hybrid", [False, True])
@pytest.mark.parametrize("mode", ["plain", "record_train", "record_backward"])
def test_gluon(hybrid, mode):
    net = mx.gluon.nn.BatchNorm(scale=False, in_channels=3)       # scale=False is fix_gamma=True
    net.initialize()
    net.gamma.set_data(_gamma0())
    if hybrid:
        net.hybridize()
    data = mx.nd.array(X)
    if mode == "plain":
        net(data).wait_to_read()
    else:
        with mx.autograd.record():
            y = net(data)
        if mode == "record_backward":
            y.backward()
        y.wait_to_read()
    key = "gluon_%s_%s" % ("hybrid" if hybrid else "imperative", mode)
    np.testing.assert_array_equal(net.gamma.data().asnumpy(), MX[key])
