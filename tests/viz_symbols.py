"""The symbols the mx.viz tests draw and summarise (test_viz.py, test_viz_summary.py): the seed's S2, S3 and S5
nets, as MXNet built them for the seed's `.gv` files, and a group of two heads.
"""
import os

import pytest

import dataflow as mx
from tests.paths import FIXTURES

SHAPE_S5 = {"Previous Output": (128, 3, 28, 28)}

_S5_OPS = ("Convolution", "BatchNorm", "Pooling", "Concat")
_missing_s5 = [op for op in _S5_OPS if not hasattr(mx.sym, op)]
_S5_SKIP = "the seed's S5 nets need mx.sym.%s, not registered yet" % ", mx.sym.".join(_missing_s5)
needs_s5_ops = pytest.mark.skipif(bool(_missing_s5), reason=_S5_SKIP)


def seed_g():
    """S2's `g`, named as in a fresh MXNet process (`c = a + b` took `_plus0`)."""
    with mx.name.NameManager():
        a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
        a + b
        d = a * b
        e = mx.sym.dot(a, b)
        f = mx.sym.reshape(d + e, shape=(1, 4))
        return mx.sym.broadcast_to(f, shape=(2, 4))


def seed_mlp():
    net = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data=net, name="fc1", num_hidden=128)
    net = mx.sym.Activation(data=net, name="relu1", act_type="relu")
    net = mx.sym.FullyConnected(data=net, name="fc2", num_hidden=10)
    return mx.sym.SoftmaxOutput(data=net, name="out")


def conv_factory(data, num_filter, kernel, stride=(1, 1), pad=(0, 0), name=None, suffix=""):
    conv = mx.sym.Convolution(data=data, num_filter=num_filter, kernel=kernel, stride=stride, pad=pad,
                              name="conv_%s%s" % (name, suffix))
    bn = mx.sym.BatchNorm(data=conv, name="bn_%s%s" % (name, suffix))
    return mx.sym.Activation(data=bn, act_type="relu", name="relu_%s%s" % (name, suffix))


def inception_factory_a(data, num_1x1, num_3x3red, num_3x3, num_d3x3red, num_d3x3, pool, proj, name):
    c1x1 = conv_factory(data, num_1x1, (1, 1), name="%s_1x1" % name)
    c3x3r = conv_factory(data, num_3x3red, (1, 1), name="%s_3x3" % name, suffix="_reduce")
    c3x3 = conv_factory(c3x3r, num_3x3, (3, 3), pad=(1, 1), name="%s_3x3" % name)
    cd3x3r = conv_factory(data, num_d3x3red, (1, 1), name="%s_double_3x3" % name, suffix="_reduce")
    cd3x3 = conv_factory(cd3x3r, num_d3x3, (3, 3), pad=(1, 1), name="%s_double_3x3_0" % name)
    cd3x3 = conv_factory(cd3x3, num_d3x3, (3, 3), pad=(1, 1), name="%s_double_3x3_1" % name)
    pooling = mx.sym.Pooling(data=data, kernel=(3, 3), stride=(1, 1), pad=(1, 1), pool_type=pool,
                             name="%s_pool_%s_pool" % (pool, name))
    cproj = conv_factory(pooling, proj, (1, 1), name="%s_proj" % name)
    return mx.sym.Concat(*[c1x1, c3x3, cd3x3, cproj], name="ch_concat_%s_chconcat" % name)


def seed_convfactory():
    return conv_factory(mx.sym.Variable(name="Previous Output"), 64, (7, 7), stride=(2, 2))


def seed_in3a():
    return inception_factory_a(mx.sym.Variable(name="Previous Output"), 64, 64, 64, 64, 96, "avg", 32, "in3a")


def fixture_symbol(name):
    return mx.sym.load(os.path.join(FIXTURES, "symbols", "%s-symbol.json" % name))


def group_net():
    with mx.name.NameManager():
        d1, d2 = mx.sym.var("data1"), mx.sym.var("data2")
        fc = mx.sym.FullyConnected(d1 + d2, num_hidden=4, name="fc")
        flat = mx.sym.Flatten(mx.sym.Reshape(fc, shape=(-1, 2, 2), name="rs"), name="fl")
        return mx.sym.Group([flat, mx.sym.Activation(fc, act_type="tanh", name="act")])
