"""The names monitor callbacks report (Executor.set_monitor_callback, HybridBlock.register_op_hook), forward and
backward, with monitor_all off and on.

Truth: MXNet 1.9.1's names, in order, recorded by reference/amp_behaviour_fixtures.py
(tests/fixtures/mxnet-1.9.1/amp/monitor.json, README there).
"""
import json
import os

import pytest

import dataflow as mx
from dataflow.base import py_str

with open(os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "amp", "monitor.json")) as _f:
    MX = json.load(_f)
DONE = "|forward done|"


def _expected(names):
    # Known difference: MXNet's _backward_SoftmaxOutput also outputs a (zero) gradient for the label; dataflow's
    # has the data gradient only.
    out = []
    for name in names:
        if name == "sm_backward_output1":
            continue
        out.append("sm_backward_output" if name == "sm_backward_output0" else name)
    return out


@pytest.mark.parametrize("monitor_all", [False, True])
def test_executor_names_are_mxnets(monitor_all):
    data = mx.sym.var("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=4, name="fc1")
    act = mx.sym.Activation(fc1, act_type="relu", name="relu1")
    fc2 = mx.sym.FullyConnected(act, num_hidden=3, name="fc2")
    net = mx.sym.SoftmaxOutput(fc2, name="sm")
    names = []
    ex = net.simple_bind(mx.cpu(), data=(2, 5))
    ex.set_monitor_callback(lambda name, arr: names.append(py_str(name)), monitor_all)
    ex.forward(is_train=True)
    names.append(DONE)
    ex.backward()
    mx.nd.waitall()
    assert names == _expected(MX["executor_all" if monitor_all else "executor"])


@pytest.mark.parametrize("monitor_all", [False, True])
def test_op_hook_names_are_mxnets(monitor_all):
    block = mx.gluon.nn.HybridSequential(prefix="net_")
    with block.name_scope():
        block.add(mx.gluon.nn.Dense(4, in_units=5, prefix="d1_"))
        block.add(mx.gluon.nn.Dense(3, in_units=4, prefix="d2_"))
    block.initialize()
    block.hybridize()
    names = []
    block.register_op_hook(lambda name, op, arr: names.append([py_str(name), py_str(op)]), monitor_all)
    with mx.autograd.record():
        y = block(mx.nd.ones((2, 5)))
    names.append(DONE)
    y.backward()
    mx.nd.waitall()
    assert names == MX["hook_all" if monitor_all else "hook"]
