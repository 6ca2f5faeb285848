"""Initializers added from MXNet 1.9.1's list (Bilinear, LSTMBias, FusedRNN, Orthogonal, Load, Mixed) and
Constant's JSON form, against values and strings recorded with MXNet (tests/fixtures/mxnet-1.9.1/optimizer/
initializers.*, reference/optimizer_fixtures.py) or, for the random ones, their defining property."""
import json
import os

import numpy as np
import pytest

import dataflow as mx

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "optimizer")
with open(os.path.join(FIXTURES, "initializers.json")) as _f:
    META = json.load(_f)
DATA = np.load(os.path.join(FIXTURES, "initializers.npz"))


def _init(init, name, shape, attrs=None, global_init=None):
    arr = mx.nd.zeros(shape)
    init(mx.init.InitDesc(name, attrs=attrs, global_init=global_init), arr)
    return arr.asnumpy()


@pytest.mark.parametrize("key", ["bilinear_4x4", "bilinear_3x5"])
def test_bilinear_matches_mxnet(key):
    got = _init(mx.init.Bilinear(), "upsampling_weight", tuple(META[key]["shape"]))
    np.testing.assert_array_equal(got, DATA[key])


def test_bilinear_needs_4d():
    with pytest.raises(ValueError, match="Bilinear.*4-D.*up_weight"):
        _init(mx.init.Bilinear(), "up_weight", (3, 3))


def test_lstm_bias_through_the_init_attribute():
    init = mx.init.LSTMBias(forget_bias=2.0)
    np.testing.assert_array_equal(_init(init, "lstm_i2h_bias", (8,), {"__init__": init.dumps()}),
                                  DATA["lstmbias_attr"])
    # as a global initializer a bias gets zeros, as in MXNet
    np.testing.assert_array_equal(_init(init, "layer_bias", (8,)), DATA["lstmbias"])


@pytest.mark.parametrize("key", ["fusedrnn_lstm", "fusedrnn_gru", "fusedrnn_relu"])
def test_fused_rnn_matches_mxnet(key):
    dumps = META[key]["dumps"]
    got = _init(mx.init.Uniform(), "rnn_parameters", (META[key]["size"],), {"__init__": dumps})
    np.testing.assert_array_equal(got, DATA[key])
    assert mx.init.create(dumps).dumps() == dumps


def test_fused_rnn_falls_back_to_the_global_initializer():
    init = mx.init.FusedRNN(None, 2, 1, "lstm")
    got = _init(mx.init.One(), "rnn_parameters", ((5 + 2 + 2) * 2 * 4,), {"__init__": init.dumps()},
                global_init=mx.init.One())
    # weights from the global One, biases 0 (a *_bias), forget-gate biases 1.0 (forget_bias)
    weights, biases = got[:7 * 2 * 4], got[7 * 2 * 4:].reshape(2, 4, 2)
    np.testing.assert_array_equal(weights, 1.0)
    np.testing.assert_array_equal(biases[:, 1], 1.0)
    np.testing.assert_array_equal(biases[:, [0, 2, 3]], 0.0)
    with pytest.raises(ValueError, match="do not fit"):
        _init(mx.init.One(), "p", (7,), {"__init__": init.dumps()}, global_init=mx.init.One())


def test_dumps_match_mxnet():
    made = {
        "constant_half": mx.init.Constant(0.5), "constant_int": mx.init.Constant(3),
        "constant_ndarray": mx.init.Constant(mx.nd.array([1, 2])),
        "constant_numpy": mx.init.Constant(np.array([[1.0, 2.0]], np.float32)),
        "msraprelu": mx.init.MSRAPrelu(), "msraprelu_args": mx.init.MSRAPrelu(factor_type="in", slope=0.1),
        "bilinear": mx.init.Bilinear(), "lstmbias": mx.init.LSTMBias(forget_bias=2.0),
        "orthogonal": mx.init.Orthogonal(), "fusedrnn": mx.init.FusedRNN(None, 4, 1, "lstm"),
        "fusedrnn_init": mx.init.FusedRNN(mx.init.Uniform(0.1), 4, 2, "gru", True, 2.0),
        "zero": mx.init.Zero(), "uniform": mx.init.Uniform(0.1),
        "xavier": mx.init.Xavier(rnd_type="gaussian", factor_type="in", magnitude=2),
    }
    for key, init in made.items():
        assert init.dumps() == META["dumps"][key], key
    # MXNet fails to dump a plain list; here it dumps like the array forms
    assert META["dumps"]["constant_list"].startswith("ERROR")
    assert mx.init.Constant([1.0, 2.0]).dumps() == META["dumps"]["constant_ndarray"]


def test_create_by_name_matches_mxnet():
    for name, klass in META["create"].items():
        assert type(mx.init.create(name)).__name__ == klass


def test_constant_array_value():
    np.testing.assert_array_equal(_init(mx.init.Constant(mx.nd.array([1, 2, 3])), "x_weight", (3,)),
                                  DATA["constant_ndarray"])
    np.testing.assert_array_equal(_init(mx.init.Constant([[1, 2], [3, 4]]), "x_weight", (2, 2)), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(_init(mx.init.Constant(0.5), "x_weight", (2, 3)), DATA["constant_half"])


@pytest.mark.parametrize("shape,rand_type", [((4, 6), "uniform"), ((6, 2, 2), "normal"), ((3, 3), "uniform")])
def test_orthogonal(shape, rand_type):
    mx.random.seed(3)
    w = _init(mx.init.Orthogonal(scale=2.0, rand_type=rand_type), "fc_weight", shape).reshape(shape[0], -1)
    small = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    np.testing.assert_allclose(small, 4.0 * np.eye(small.shape[0]), atol=1e-5)
    with pytest.raises(ValueError, match="rand_type"):
        _init(mx.init.Orthogonal(rand_type="cauchy"), "fc_weight", (2, 2))


def test_msraprelu_scale():
    mx.random.seed(0)
    w = _init(mx.init.MSRAPrelu(slope=0.25), "fc_weight", (256, 128))
    expected = np.sqrt(2.0 / (1 + 0.25 ** 2) / ((256 + 128) / 2.0))
    assert abs(w.std() - expected) < 0.02 * expected


def test_load_and_mixed(tmp_path):
    path = str(tmp_path / "p.params")
    mx.nd.save(path, {"arg:fc_weight": mx.nd.array([[1.0, 2.0]]), "aux:bn_moving_mean": mx.nd.array([3.0])})
    load = mx.init.Load(path, default_init=mx.init.Constant(7.0))
    a, b, c = mx.nd.zeros((1, 2)), mx.nd.zeros((1,)), mx.nd.zeros((2,))
    load("fc_weight", a)
    load("bn_moving_mean", b)
    load(mx.init.InitDesc("other_weight"), c)
    np.testing.assert_array_equal(a.asnumpy(), [[1.0, 2.0]])
    np.testing.assert_array_equal(b.asnumpy(), [3.0])
    np.testing.assert_array_equal(c.asnumpy(), [7.0, 7.0])
    with pytest.raises(ValueError, match="Shape mismatch"):
        load("fc_weight", mx.nd.zeros((2, 2)))
    with pytest.raises(ValueError, match="no default Initializer"):
        mx.init.Load({"x": mx.nd.ones((1,))})("y", mx.nd.zeros((1,)))

    mixed = mx.init.Mixed(["^fc1", ".*"], [mx.init.Constant(1.0), mx.init.Constant(2.0)])
    d, e = mx.nd.zeros((2,)), mx.nd.zeros((2,))
    mixed(mx.init.InitDesc("fc1_weight"), d)
    mixed(mx.init.InitDesc("fc2_weight"), e)
    np.testing.assert_array_equal(d.asnumpy(), [1.0, 1.0])
    np.testing.assert_array_equal(e.asnumpy(), [2.0, 2.0])
    with pytest.raises(ValueError, match="did not match any pattern"):
        mx.init.Mixed(["^a"], [mx.init.One()])(mx.init.InitDesc("b_weight"), d)
    with pytest.raises(ValueError, match="2 patterns but 1"):
        mx.init.Mixed(["a", "b"], [mx.init.One()])
