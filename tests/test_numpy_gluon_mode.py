"""Gluon in NumPy array mode (dataflow/gluon/numpy_mode.py): which array class parameters get and keep, shapes with
unknown dimensions, outputs mixing legacy and numpy arrays, optimizers updating mx.np.ndarrays, and np.zeros/ones/
full of shape () in traced graphs. Truths: MXNet 1.9.1's behaviour and numbers recorded by
reference/np_gluon_fixtures.py (tests/fixtures/mxnet-1.9.1/np_gluon/), and numpy."""
import json
import os

import numpy as onp
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dataflow as mx
from dataflow import autograd, gluon, np
from dataflow.util import np_array, np_shape, use_np

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "np_gluon")
with open(os.path.join(FIXTURES, "behaviour.json")) as _fh:
    FACTS = json.load(_fh)


def kind(array):
    return "np" if isinstance(array, np.ndarray) else "nd"


# -- which class a parameter's arrays have ----------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(FACTS["parameter_classes"]))
def test_parameter_keeps_the_class_of_the_mode_it_was_initialised_in(case):
    init_np, read_np = (bool(int(part.split("=")[1])) for part in case.split(","))
    param = gluon.Parameter("w", shape=(2, 3))
    with np_shape(init_np), np_array(init_np):
        param.initialize()
    with np_shape(read_np), np_array(read_np):
        got = [kind(param.data()), kind(param.grad())]
    assert got == FACTS["parameter_classes"][case]


class Legacy(gluon.HybridBlock):
    def __init__(self):
        super().__init__()
        with self.name_scope():
            self.w = self.params.get("w", shape=(3, 4), allow_deferred_init=True)

    def hybrid_forward(self, F, x, w):
        return F.dot(x, w)


@use_np
class Numpy(gluon.HybridBlock):
    def __init__(self):
        super().__init__()
        with self.name_scope():
            self.w = self.params.get("w", shape=(3, 4), allow_deferred_init=True)

    def hybrid_forward(self, F, x, w):
        return F.np.dot(x, w)


@pytest.mark.parametrize("case", sorted(FACTS["block_classes"]))
def test_block_parameters_and_outputs_have_mxnets_classes(case):
    name, hybridize = case.split(",")
    cls = {"Legacy": Legacy, "Numpy": Numpy}[name]
    net = cls()
    net.initialize()
    if hybridize.endswith("1"):
        net.hybridize()
    x = mx.nd.array(onp.random.RandomState(0).uniform(-1, 1, (2, 3)))
    out = net(x.as_np_ndarray() if cls is Numpy else x)
    got = {"output": kind(out), "data": kind(net.w.data()), "grad": kind(net.w.grad()), "shape": list(net.w.shape)}
    assert got == FACTS["block_classes"][case]
    onp.testing.assert_allclose(out.asnumpy(), x.asnumpy() @ net.w.data().asnumpy(), rtol=1e-5, atol=1e-6)


def test_gradients_of_a_numpy_mode_parameter_are_numpy_arrays_and_correct():
    net = Numpy()
    net.initialize()
    x = np.array(onp.random.RandomState(1).uniform(-1, 1, (2, 3)).astype("float32"))
    with autograd.record():
        y = net(x).sum()
    y.backward()
    grad = net.w.grad()
    assert type(grad) is np.ndarray
    onp.testing.assert_allclose(grad.asnumpy(), x.asnumpy().T @ onp.ones((2, 4)), rtol=1e-5)


# -- shapes with unknown dimensions -----------------------------------------------------------------------------
def test_unknown_dimensions_show_as_mxnet_shows_them():
    shown = FACTS["shown_shapes"]
    param = gluon.Parameter("w", shape=(0, 5), allow_deferred_init=True)
    assert list(param.shape) == shown["legacy"]
    with np_shape(True):
        assert list(param.shape) == shown["np_shape"]
        minus = gluon.Parameter("v", shape=(-1, 5), allow_deferred_init=True)
        assert list(minus.shape) == shown["np_shape_given_minus_one"]


@use_np
class MinusOne(gluon.HybridBlock):
    def __init__(self):
        super().__init__()
        with self.name_scope():
            self.w = self.params.get("w", shape=(-1, 5), allow_deferred_init=True)

    def hybrid_forward(self, F, x, w):
        return F.np.dot(x, w)


@pytest.mark.parametrize("hybridize", [0, 1])
def test_deferred_initialisation_fills_unknown_dimensions(hybridize):
    want = FACTS["deferred_minus_one"]["hybridize=%d" % hybridize]
    net = MinusOne()
    net.initialize()
    with np_shape(True):
        assert list(net.w.shape) == want["before"]
    if hybridize:
        net.hybridize()
    x = np.array(onp.random.RandomState(2).uniform(-1, 1, (4, 7)).astype("float32"))
    out = net(x)
    assert list(net.w.shape) == want["after"] and list(out.shape) == want["output_shape"]
    onp.testing.assert_allclose(out.asnumpy(), x.asnumpy() @ net.w.data().asnumpy(), rtol=1e-5, atol=1e-6)


@use_np
class Regression(gluon.HybridBlock):
    """The regression of MXNet's test_optimizer_with_np_ndarrays: a deferred input size (0, 6)."""

    def __init__(self):
        super().__init__()
        with self.name_scope():
            self.w1 = self.params.get("w1", shape=(0, 6), allow_deferred_init=True)
            self.w2 = self.params.get("w2", shape=(6, 3), allow_deferred_init=True)

    def hybrid_forward(self, F, x, w1, w2):
        return F.npx.relu(x.dot(w1)).dot(w2)


@pytest.mark.parametrize("hybridize", [False, True])
def test_deferred_zero_dimension_in_a_numpy_mode_block(hybridize):
    net = Regression()
    net.initialize()
    if hybridize:
        net.hybridize()
    x = onp.random.RandomState(3).uniform(-1, 1, (5, 8)).astype("float32")
    out = net(np.array(x))
    assert net.w1.shape == (8, 6) and type(net.w1.data()) is np.ndarray
    w1, w2 = net.w1.data().asnumpy(), net.w2.data().asnumpy()
    onp.testing.assert_allclose(out.asnumpy(), onp.maximum(x @ w1, 0) @ w2, rtol=1e-5, atol=1e-6)


def test_a_shape_contradicting_the_known_dimensions_is_an_error():
    param = gluon.Parameter("w", shape=(-1, 5), allow_deferred_init=True)
    with pytest.raises(mx.base.MXNetError, match="incompatible"):
        param.shape = (3, 4)


# -- outputs mixing legacy and numpy arrays ------------------------------------------------------------------------
@use_np
class Mixed(gluon.HybridBlock):
    def hybrid_forward(self, F, x):
        return x.as_nd_ndarray() + x.as_nd_ndarray(), F.np.multiply(x, x)


@pytest.mark.parametrize("hybridize", [0, 1])
def test_outputs_mixing_legacy_and_numpy_arrays_raise_type_error(hybridize):
    assert FACTS["mixed_outputs"]["Mixed,hybridize=%d" % hybridize] == "TypeError"
    net = Mixed()
    if hybridize:
        net.hybridize()
    with pytest.raises(TypeError, match="numpy"):
        net(np.ones((2, 3)))


# -- optimizers and numpy arrays ------------------------------------------------------------------------------------
def test_optimizer_allows_numpy_arrays_when_made_in_numpy_mode():
    facts = FACTS["optimizer"]
    outside = mx.optimizer.SGD(learning_rate=0.5)
    with np_shape(True), np_array(True):
        inside = mx.optimizer.SGD(learning_rate=0.5)
    assert outside.allow_np_array == facts["allow_np_array_outside"]
    assert inside.allow_np_array == facts["allow_np_array_inside"]
    weight, grad = np.array(onp.ones((2, 2), "float32")), np.array(onp.full((2, 2), 3, "float32"))
    mx.optimizer.Updater(inside)(0, grad, weight)
    assert type(weight) is np.ndarray
    onp.testing.assert_allclose(weight.asnumpy(), onp.full((2, 2), 1 - 0.5 * 3))
    assert facts["update_np_outside"] == "ValueError"
    with pytest.raises(ValueError, match="not allowed"):
        mx.optimizer.Updater(outside)(0, grad, weight)


@use_np
def test_updater_of_an_optimizer_without_the_flag_follows_the_mode():
    optimizer = mx.optimizer.SGD()
    delattr(optimizer, "allow_np_array")       # as pickled by an older MXNet
    updater = mx.optimizer.Updater(optimizer)
    updater(0, np.ones((0, 0)), np.zeros((0, 0)))
    weight = np.array(onp.ones(3, "float32"))
    updater(1, np.array(onp.full(3, 2, "float32")), weight)
    onp.testing.assert_allclose(weight.asnumpy(), onp.full(3, 1 - optimizer.lr * 2, "float32"))


@use_np
class SquaredSum(gluon.HybridBlock):
    def hybrid_forward(self, F, pred, label):
        return ((pred - label) ** 2).sum()


@pytest.mark.parametrize("hybridize", [0, 1])
def test_trainer_steps_numpy_mode_parameters_as_mxnet(hybridize):
    data = onp.load(os.path.join(FIXTURES, "training.npz"))
    case = {k.split("/")[1]: data[k] for k in data.files if k.startswith("hybridize%d/" % hybridize)}
    with np_shape(True), np_array(True):
        net, loss_fn = Regression(), SquaredSum()
        net.initialize()
        if hybridize:
            net.hybridize()
            loss_fn.hybridize()
        net(np.array(case["x"]))
        net.w1.set_data(np.array(case["w1"]))
        net.w2.set_data(np.array(case["w2"]))
        trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01, "momentum": 0.9})
        losses = []
        for _ in range(3):
            with autograd.record():
                loss = loss_fn(net(np.array(case["x"])), np.array(case["y"]))
            loss.backward()
            trainer.step(1)
            losses.append(float(loss))
    onp.testing.assert_allclose(losses, case["losses"], rtol=1e-5)
    onp.testing.assert_allclose(net.w1.data().asnumpy(), case["w1_after"], rtol=1e-5, atol=1e-6)
    onp.testing.assert_allclose(net.w2.data().asnumpy(), case["w2_after"], rtol=1e-5, atol=1e-6)


# -- np.zeros/ones/full of shape () in traced graphs ---------------------------------------------------------------
@use_np
class ScalarFills(gluon.HybridBlock):
    def hybrid_forward(self, F, x):
        return x, F.np.zeros(shape=()), F.np.ones(()), F.np.full((), 2.5)


@pytest.mark.parametrize("hybridize", [0, 1])
@use_np
def test_scalar_fills_are_zero_dim_arrays(hybridize):
    net = ScalarFills()
    if hybridize:
        net.hybridize()
    outs = net(np.ones((2, 0)))
    got = [{"class": kind(o), "shape": list(o.shape), "dtype": str(o.dtype), "value": o.asnumpy().tolist()}
           for o in outs]
    assert got == FACTS["scalar_fills"]["hybridize=%d" % hybridize]


_SHAPES = st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple)
_DTYPES = st.sampled_from(["float32", "float64", "int32", "int8", None])


@given(shape=_SHAPES, dtype=_DTYPES, fill=st.sampled_from(["zeros", "ones", "full"]))
@use_np
def test_fills_in_a_hybridized_block_match_numpy(shape, dtype, fill):
    class Fill(gluon.HybridBlock):
        def hybrid_forward(self, F, x):
            made = F.np.full(shape, 7, dtype) if fill == "full" else getattr(F.np, fill)(shape, dtype)
            return x, made

    net = Fill()
    net.hybridize()
    _, out = net(np.ones((1,)))
    want = onp.full(shape, 7, dtype or "float32") if fill == "full" else getattr(onp, fill)(shape, dtype or "float32")
    assert type(out) is np.ndarray and out.shape == want.shape and out.dtype == want.dtype
    onp.testing.assert_array_equal(out.asnumpy(), want)


def test_parameters_loaded_in_numpy_mode_are_numpy_arrays(tmp_path):
    net = gluon.nn.Dense(3, in_units=4)
    net.initialize()
    path = str(tmp_path / "dense.params")
    net.save_parameters(path)
    with np_shape(True), np_array(True):
        loaded = gluon.nn.Dense(3, in_units=4)
        loaded.load_parameters(path)
    assert type(loaded.weight.data()) is np.ndarray and type(loaded.weight.grad()) is np.ndarray
    onp.testing.assert_array_equal(loaded.weight.data().asnumpy(), net.weight.data().asnumpy())
    again = gluon.nn.Dense(3, in_units=4)
    again.load_parameters(path)
    assert type(again.weight.data()) is mx.nd.NDArray
