"""BatchNorm as MXNet 1.9.1 behaves, checked against the oracle's answers (tests/fixtures/mxnet-1.9.1/semantics/,
written by reference/semantics_fixtures.py): a fixed gamma is written as ones, and the moving statistics are
updated in the backward, with the last forward's batch statistics.
"""
import os

import numpy as np
import pytest

import dataflow as mx
from dataflow import autograd, gluon
from tests.paths import FIXTURES

SEMANTICS = os.path.join(FIXTURES, "semantics")


@pytest.fixture(autouse=True)
def fresh_names():
    with mx.name.NameManager():
        yield


def test_fixed_gamma_is_written_as_ones():
    """MXNet 1.9.1's BatchNorm kernel writes 1 into a fixed gamma, in inference and training (checked on the
    oracle: nd.BatchNorm, gluon BatchNorm(scale=False), an executor bound with gradients)."""
    x = mx.nd.array(np.random.RandomState(0).rand(4, 2))
    bn = gluon.nn.BatchNorm(scale=False, in_channels=2)
    bn.initialize()
    bn.gamma.set_data(mx.nd.array([2.0, 3.0]))
    y = bn(x)
    np.testing.assert_array_equal(bn.gamma.data().asnumpy(), [1.0, 1.0])
    # inference: (x - 0) / sqrt(1 + eps) * 1 + 0
    np.testing.assert_allclose(y.asnumpy(), x.asnumpy() / np.sqrt(1 + 1e-5), rtol=1e-6)
    for train in (False, True):
        gamma = mx.nd.array([2.0, 3.0])
        with autograd.train_mode() if train else autograd.predict_mode():
            mx.nd.BatchNorm(x, gamma, mx.nd.zeros(2), mx.nd.zeros(2), mx.nd.ones(2), fix_gamma=True)
        np.testing.assert_array_equal(gamma.asnumpy(), [1.0, 1.0])   # the engine orders the write before the read
    ex = mx.sym.BatchNorm(mx.sym.var("data"), name="bn").simple_bind(mx.cpu(), data=(4, 2))
    ex.arg_dict["bn_gamma"][:] = 2
    ex.forward(is_train=True, data=x)
    np.testing.assert_array_equal(ex.arg_dict["bn_gamma"].asnumpy(), [1.0, 1.0])


def test_fixed_gamma_write_is_ordered_before_later_writers():
    """The write is declared: an assignment pushed after the op lands after it, whatever the engine's timing."""
    x = mx.nd.array(np.random.RandomState(1).rand(64, 3, 256))     # > 64 KB: runs on the worker
    gamma = mx.nd.array([2.0, 3.0, 4.0])
    mx.nd.BatchNorm(x, gamma, mx.nd.zeros(3), mx.nd.zeros(3), mx.nd.ones(3), fix_gamma=True)
    gamma[:] = 5
    np.testing.assert_array_equal(gamma.asnumpy(), [5.0, 5.0, 5.0])


@pytest.fixture(scope="module")
def bn_stats():
    return np.load(os.path.join(SEMANTICS, "batchnorm_stats.npz"))


@pytest.mark.parametrize("hybrid", [False, True])
def test_batchnorm_moving_stats_after_forward_and_backward(bn_stats, hybrid):
    bn = gluon.nn.BatchNorm(in_channels=2)
    bn.initialize()
    if hybrid:
        bn.hybridize()
    with autograd.record():
        y = bn(mx.nd.array(bn_stats["x"]))
    y.backward()
    tag = "hybrid" if hybrid else "imperative"
    np.testing.assert_allclose(bn.running_mean.data().asnumpy(), bn_stats[tag + "_bwd_mean"], rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.data().asnumpy(), bn_stats[tag + "_bwd_var"], rtol=1e-5)


@pytest.mark.parametrize("hybrid", [False, True])
def test_batchnorm_training_forward_alone_keeps_moving_stats(bn_stats, hybrid):
    """MXNet updates the moving statistics in _backward_BatchNorm: a recorded forward alone leaves them."""
    bn = gluon.nn.BatchNorm(in_channels=2)
    bn.initialize()
    if hybrid:
        bn.hybridize()
    tag = "hybrid" if hybrid else "imperative"
    with autograd.record():
        bn(mx.nd.array(bn_stats["x"])).wait_to_read()
    np.testing.assert_array_equal(bn.running_mean.data().asnumpy(), bn_stats[tag + "_fwd_mean"])
    np.testing.assert_array_equal(bn.running_var.data().asnumpy(), bn_stats[tag + "_fwd_var"])


def test_batchnorm_executor_updates_moving_stats_in_backward(bn_stats):
    sym = mx.sym.BatchNorm(mx.sym.var("data"), fix_gamma=False, name="bn")
    ex = sym.simple_bind(mx.cpu(), data=bn_stats["x"].shape)
    ex.arg_dict["data"][:] = bn_stats["x"]
    ex.arg_dict["bn_gamma"][:] = 1
    ex.forward(is_train=True)
    np.testing.assert_array_equal(ex.aux_dict["bn_moving_mean"].asnumpy(), bn_stats["executor_fwd_mean"])
    ex.backward(mx.nd.ones(bn_stats["x"].shape))
    np.testing.assert_allclose(ex.aux_dict["bn_moving_mean"].asnumpy(), bn_stats["executor_bwd_mean"], rtol=1e-5)


def test_batchnorm_each_backward_updates_with_the_last_forward():
    """As MXNet 1.9.1 (checked on the oracle): two forwards then two backwards update twice, each time with the
    second forward's batch mean."""
    x = np.random.RandomState(2).rand(4, 2, 3).astype(np.float32)
    ex = mx.sym.BatchNorm(mx.sym.var("data"), fix_gamma=False, name="bn").simple_bind(mx.cpu(), data=x.shape)
    ex.arg_dict["bn_gamma"][:] = 1
    ex.forward(is_train=True, data=x)
    ex.forward(is_train=True, data=x * 2)
    ex.backward(mx.nd.ones(x.shape))
    ex.backward(mx.nd.ones(x.shape))
    batch_mean = (x * 2).astype(np.float64).mean(axis=(0, 2))
    np.testing.assert_allclose(ex.aux_dict["bn_moving_mean"].asnumpy(), (1 - 0.9 ** 2) * batch_mean, rtol=1e-5)
