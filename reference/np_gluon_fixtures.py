"""Record MXNet 1.9.1's Gluon-in-numpy-mode behaviour for tests/test_numpy_gluon_mode.py (run with the oracle):

    MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/np_gluon_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/np_gluon/behaviour.json (which array classes parameters get, shapes shown with
unknown dimensions, which calls raise what) and training.npz (a numpy-mode regression trained by a Trainer with
SGD and momentum, from fixed weights). See the README.md there.
"""
import json
import os

import numpy as onp

import mxnet as mx
from mxnet import autograd, gluon, np
from mxnet.util import np_array, np_shape, use_np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "np_gluon")
rng = onp.random.RandomState(20261207)
facts = {}


def kind(array):
    return "np" if isinstance(array, np.ndarray) else "nd"


def numpy_mode():
    return np_shape(True), np_array(True)


# -- which class a parameter's arrays have ----------------------------------------------------------------------
def parameter_classes(init_in_np, read_in_np):
    param = gluon.Parameter("w", shape=(2, 3))
    if init_in_np:
        with np_shape(True), np_array(True):
            param.initialize()
    else:
        param.initialize()
    if read_in_np:
        with np_shape(True), np_array(True):
            return [kind(param.data()), kind(param.grad())]
    return [kind(param.data()), kind(param.grad())]


facts["parameter_classes"] = {"init_np=%d,read_np=%d" % (i, r): parameter_classes(i, r)
                              for i in (0, 1) for r in (0, 1)}


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


def block_classes(cls, hybridize):
    net = cls()
    net.initialize()
    if hybridize:
        net.hybridize()
    x = mx.nd.ones((2, 3))
    out = net(x.as_np_ndarray() if cls is Numpy else x)
    return {"output": kind(out), "data": kind(net.w.data()), "grad": kind(net.w.grad()),
            "shape": list(net.w.shape)}


facts["block_classes"] = {"%s,hybridize=%d" % (cls.__name__, h): block_classes(cls, h)
                          for cls in (Legacy, Numpy) for h in (0, 1)}


# -- shapes with unknown dimensions ------------------------------------------------------------------------------
def shown_shapes():
    param = gluon.Parameter("w", shape=(0, 5), allow_deferred_init=True)
    shown = {"legacy": list(param.shape)}
    with np_shape(True):
        shown["np_shape"] = list(param.shape)
        minus = gluon.Parameter("v", shape=(-1, 5), allow_deferred_init=True)
        shown["np_shape_given_minus_one"] = list(minus.shape)
    shown["given_minus_one_outside"] = list(minus.shape)
    return shown


facts["shown_shapes"] = shown_shapes()


@use_np
class MinusOne(gluon.HybridBlock):
    def __init__(self):
        super().__init__()
        with self.name_scope():
            self.w = self.params.get("w", shape=(-1, 5), allow_deferred_init=True)

    def hybrid_forward(self, F, x, w):
        return F.np.dot(x, w)


def minus_one(hybridize):
    net = MinusOne()
    net.initialize()
    before = list(net.w.shape)
    if hybridize:
        net.hybridize()
    out = net(np.ones((4, 7)))
    return {"before": before, "after": list(net.w.shape), "output_shape": list(out.shape)}


facts["deferred_minus_one"] = {"hybridize=%d" % h: minus_one(h) for h in (0, 1)}


# -- outputs mixing legacy and numpy arrays ------------------------------------------------------------------------
@use_np
class Mixed(gluon.HybridBlock):
    def hybrid_forward(self, F, x):
        return x.as_nd_ndarray() + x.as_nd_ndarray(), F.np.multiply(x, x)


@use_np
class AllLegacy(gluon.HybridBlock):
    def hybrid_forward(self, F, x):
        return x.as_nd_ndarray() + 1, x.as_nd_ndarray() * 2


def raised(cls, hybridize):
    net = cls()
    if hybridize:
        net.hybridize()
    try:
        net(np.ones((2, 3)))
    except Exception as err:  # noqa: BLE001 - the class is the fact recorded
        return type(err).__name__
    return None


facts["mixed_outputs"] = {"%s,hybridize=%d" % (cls.__name__, h): raised(cls, h)
                          for cls in (Mixed, AllLegacy) for h in (0, 1)}


# -- optimizers and numpy arrays ------------------------------------------------------------------------------------
def optimizer_facts():
    made_outside = mx.optimizer.SGD()
    with np_shape(True), np_array(True):
        made_inside = mx.optimizer.SGD()
    facts = {"allow_np_array_outside": made_outside.allow_np_array, "allow_np_array_inside": made_inside.allow_np_array}
    weight, grad = np.ones((2, 2)), np.ones((2, 2))
    for name, opt in (("outside", made_outside), ("inside", made_inside)):
        try:
            mx.optimizer.Updater(opt)(0, grad, weight)
            facts["update_np_" + name] = None
        except Exception as err:  # noqa: BLE001
            facts["update_np_" + name] = type(err).__name__
    legacy = mx.optimizer.SGD()
    delattr(legacy, "allow_np_array")
    with np_shape(True), np_array(True):
        mx.optimizer.Updater(legacy)(0, np.ones((0, 0)), np.zeros((0, 0)))
    facts["deleted_flag_empty_update"] = None
    return facts


facts["optimizer"] = optimizer_facts()


@use_np
class Regression(gluon.HybridBlock):
    def __init__(self):
        super().__init__()
        with self.name_scope():
            self.w1 = self.params.get("w1", shape=(0, 6), allow_deferred_init=True)
            self.w2 = self.params.get("w2", shape=(6, 3), allow_deferred_init=True)

    def hybrid_forward(self, F, x, w1, w2):
        return F.npx.relu(x.dot(w1)).dot(w2)


@use_np
class SquaredSum(gluon.HybridBlock):
    def hybrid_forward(self, F, pred, label):
        return ((pred - label) ** 2).sum()


@use_np
def training(hybridize):
    x = rng.uniform(-1, 1, (5, 8)).astype(onp.float32)
    y = rng.uniform(-1, 1, (5, 3)).astype(onp.float32)
    w1 = rng.uniform(-0.5, 0.5, (8, 6)).astype(onp.float32)
    w2 = rng.uniform(-0.5, 0.5, (6, 3)).astype(onp.float32)
    net, loss_fn = Regression(), SquaredSum()
    net.initialize()
    if hybridize:
        net.hybridize()
        loss_fn.hybridize()
    net(np.array(x))
    net.w1.set_data(np.array(w1))
    net.w2.set_data(np.array(w2))
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01, "momentum": 0.9})
    losses = []
    for _ in range(3):
        with autograd.record():
            loss = loss_fn(net(np.array(x)), np.array(y))
        loss.backward()
        trainer.step(1)
        losses.append(float(loss))
    return {"x": x, "y": y, "w1": w1, "w2": w2, "w1_after": net.w1.data().asnumpy(),
            "w2_after": net.w2.data().asnumpy(), "losses": onp.array(losses, onp.float32)}


arrays = {}
for h in (0, 1):
    for key, value in training(h).items():
        arrays["hybridize%d/%s" % (h, key)] = value


# -- np.zeros/ones of shape () inside a hybridized block --------------------------------------------------------------
@use_np
class ScalarFills(gluon.HybridBlock):
    def hybrid_forward(self, F, x):
        return x, F.np.zeros(shape=()), F.np.ones(()), F.np.full((), 2.5)


@use_np
def scalar_fills(hybridize):
    net = ScalarFills()
    if hybridize:
        net.hybridize()
    outs = net(np.ones((2, 0)))
    return [{"class": kind(o), "shape": list(o.shape), "dtype": str(o.dtype), "value": o.asnumpy().tolist()}
            for o in outs]


facts["scalar_fills"] = {"hybridize=%d" % h: scalar_fills(h) for h in (0, 1)}

os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "behaviour.json"), "w") as fh:
    json.dump(facts, fh, indent=1, sort_keys=True)
onp.savez(os.path.join(OUT, "training.npz"), **arrays)
print(json.dumps(facts, indent=1, sort_keys=True))
