"""Optimizers and learning-rate schedulers (gluon.Trainer: test_gluon_trainer.py).

Each optimizer is checked three ways: against a float64 numpy reference written from MXNet's update rules
(below, never calling our kernels), against final weights computed once with MXNet 1.9.1 (pasted), and for the
engine contract (one push that reads the gradient and writes the weight and the states).
"""
import doctest
import inspect
import math
import time
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dataflow as mx
from dataflow import gluon, lr_scheduler, optimizer
from dataflow.gluon import trainer as trainer_module
from scheduler import engine as engine_module

# ------------------------------------------------------------------------------------------------------------
# numpy references from MXNet's update rules (float64). state: tuple of arrays; t: this weight's update count
# ------------------------------------------------------------------------------------------------------------


def _clip(x, bound):
    return x if not bound else np.clip(x, -bound, bound)     # MXNet's optimizers skip None and 0


def ref_sgd(w, g, state, t, lr=0.01, wd=0.0, rescale_grad=1.0, clip_gradient=None, momentum=0.0):
    step = lr * (_clip(rescale_grad * g, clip_gradient) + wd * w)
    if not momentum:
        return w - step, state
    mom = momentum * state[0] - step
    return w + mom, (mom,)


def ref_nag(w, g, state, t, lr=0.01, wd=0.0, rescale_grad=1.0, clip_gradient=None, momentum=0.0):
    c = _clip(rescale_grad * g, clip_gradient)
    if not momentum:
        return w - lr * (c + wd * w), state
    m = momentum * state[0]
    new_w = w + momentum * (m - lr * (c + wd * w)) - lr * (c + wd * w)
    return new_w, (m - lr * (c + wd * new_w),)     # the state's decay term reads the updated weight (MXNet)


def ref_adam(w, g, state, t, lr=0.001, wd=0.0, rescale_grad=1.0, clip_gradient=None, beta1=0.9, beta2=0.999,
             epsilon=1e-8):
    g = _clip(rescale_grad * g + wd * w, clip_gradient)
    b1, b2 = _f32(beta1), _f32(beta2)           # the op's params; the bias correction uses the Python values
    mean = b1 * state[0] + (1 - b1) * g
    var = b2 * state[1] + (1 - b2) * g * g
    lr_t = _f32(lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t))     # the op's lr param
    return w - lr_t * mean / (np.sqrt(var) + epsilon), (mean, var)


def ref_rmsprop(w, g, state, t, lr=0.001, wd=0.0, rescale_grad=1.0, clip_gradient=None, gamma1=0.9,
                gamma2=0.9, epsilon=1e-8, centered=False, clip_weights=None):
    g = _clip(rescale_grad * g + wd * w, clip_gradient)
    n = (1 - gamma1) * g * g + gamma1 * state[0]
    if not centered:
        return _clip(w - lr * g / np.sqrt(n + epsilon), clip_weights), (n,)
    gbar = (1 - gamma1) * g + gamma1 * state[1]
    delta = gamma2 * state[2] - lr * g / np.sqrt(n - gbar * gbar + epsilon)
    return _clip(w + delta, clip_weights), (n, gbar, delta)


def ref_adagrad(w, g, state, t, lr=0.01, wd=0.0, rescale_grad=1.0, clip_gradient=None, eps=1e-7):
    g = rescale_grad * g
    if clip_gradient is not None:                          # AdaGrad clips for any bound that is not None
        g = np.clip(g, -clip_gradient, clip_gradient)
    history = state[0] + g * g
    return w - lr * (g / np.sqrt(history + eps) + wd * w), (history,)


REFERENCES = {"sgd": ref_sgd, "nag": ref_nag, "adam": ref_adam, "rmsprop": ref_rmsprop,
              "adagrad": ref_adagrad}
N_STATES = {"sgd": 1, "nag": 1, "adam": 2, "rmsprop": 1, "adagrad": 1}


def _f32(x):
    """A Python float as MXNet's update ops see it: their float params are C++ floats."""
    return float(np.float32(x))


# The rules MXNet runs as update ops (float params rounded to float32); AdaGrad is NDArray arithmetic (doubles).
# Adam rounds its bias-corrected lr itself.
_OP_PARAMS = {"sgd": (), "nag": (), "rmsprop": (), "adam": ("lr", "beta1", "beta2")}


def reference_run(name, kwargs, w, grads):
    kwargs = {k: v for k, v in kwargs.items() if k != "learning_rate"} | (
        {"lr": kwargs["learning_rate"]} if "learning_rate" in kwargs else {})
    if name in _OP_PARAMS:
        defaults = {k: p.default for k, p in inspect.signature(REFERENCES[name]).parameters.items()
                    if p.default is not inspect.Parameter.empty}
        kwargs = {k: _f32(v) if isinstance(v, float) and k not in _OP_PARAMS[name] else v
                  for k, v in (defaults | kwargs).items()}
    n_states = 3 if kwargs.get("centered") else N_STATES[name]
    state = tuple(np.zeros_like(w) for _ in range(n_states))
    for t, g in enumerate(grads, 1):
        w, state = REFERENCES[name](w, g, state, t, **kwargs)
    return w


def our_run(name, kwargs, w, grads):
    opt = mx.optimizer.create(name, **kwargs)
    weight = mx.nd.array(w, dtype=w.dtype)
    state = opt.create_state(0, weight)
    for g in grads:
        opt.update(0, weight, mx.nd.array(g, dtype=g.dtype), state)
    return weight.asnumpy()


def _data(dtype, seed=0, n=5, steps=4):
    rng = np.random.RandomState(seed)
    w = rng.uniform(-1, 1, n).astype(dtype)
    return w, [rng.uniform(-2, 2, n).astype(dtype) for _ in range(steps)]


CASES = [
    ("sgd", {}),
    ("sgd", dict(learning_rate=0.1, momentum=0.9)),
    ("sgd", dict(learning_rate=0.1, wd=0.1, rescale_grad=0.3)),
    ("sgd", dict(learning_rate=0.1, momentum=0.9, wd=0.1, rescale_grad=0.5, clip_gradient=0.4)),
    ("nag", dict(learning_rate=0.1, wd=0.1, clip_gradient=0.3)),
    ("nag", dict(learning_rate=0.1, momentum=0.9)),
    ("nag", dict(learning_rate=0.1, momentum=0.9, wd=0.1, rescale_grad=0.5, clip_gradient=0.4)),
    ("adam", {}),
    ("adam", dict(learning_rate=0.01, wd=0.1, rescale_grad=0.5, clip_gradient=0.4, beta1=0.8, beta2=0.99)),
    ("rmsprop", {}),
    ("rmsprop", dict(learning_rate=0.01, wd=0.1, rescale_grad=0.5, clip_gradient=0.4, clip_weights=0.3)),
    ("rmsprop", dict(centered=True)),
    ("rmsprop", dict(learning_rate=0.01, wd=0.1, centered=True, gamma1=0.95, gamma2=0.8, clip_weights=0.3)),
    ("adagrad", dict(learning_rate=0.1)),
    ("adagrad", dict(learning_rate=0.1, wd=0.1, rescale_grad=0.5, clip_gradient=0.4, eps=1e-3)),
    ("adagrad", dict(learning_rate=0.1, wd=0.1, clip_gradient=0.0)),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=["%s-%d" % (c[0], i) for i, c in enumerate(CASES)])
@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_update_matches_reference(name, kwargs, dtype, rtol):
    w, grads = _data(dtype)
    expected = reference_run(name, kwargs, w.astype(np.float64), [g.astype(np.float64) for g in grads])
    got = our_run(name, kwargs, w, grads)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)


# Final weights after 4 updates of _data(np.float32), computed once with MXNet 1.9.1 on CPU
# (mx.optimizer.create(...), create_state, update). Our kernels group the arithmetic as MXNet's do, so the
# results agree to the bit; the test allows a few ulps in case a compiler reorders.
MXNET_RESULTS = [
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.1, "rescale_grad": 0.5, "clip_gradient": 0.4},
     [-0.08008462190628052, 0.45399153232574463, -0.05101949721574783, -0.27468782663345337,
      0.010277550667524338]),
    ("sgd", {"learning_rate": 0.1, "wd": 0.1, "rescale_grad": 0.3},
     [0.034097276628017426, 0.43838784098625183, 0.10891611874103546, -0.0845215693116188,
      -0.08080126345157623]),
    ("nag", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.1, "rescale_grad": 0.5, "clip_gradient": 0.4},
     [-0.12745751440525055, 0.43918782472610474, -0.10860238969326019, -0.388593852519989,
      0.05632603168487549]),
    ("adam", {"learning_rate": 0.01, "wd": 0.1, "rescale_grad": 0.5, "clip_gradient": 0.4},
     [0.0711219385266304, 0.4438287615776062, 0.1700838953256607, 0.04976612329483032, -0.12686043977737427]),
    ("rmsprop", {"learning_rate": 0.01, "wd": 0.1, "rescale_grad": 0.5, "clip_gradient": 0.4,
                 "clip_weights": 0.3},
     [0.04297540336847305, 0.2774668335914612, 0.14310449361801147, -0.0010597575455904007,
      -0.09679719060659409]),
    ("rmsprop", {"learning_rate": 0.01, "wd": 0.1, "rescale_grad": 0.5, "centered": True, "gamma1": 0.95,
                 "gamma2": 0.8},
     [-0.10727368295192719, 0.5340411067008972, -0.004113759845495224, -0.17920832335948944,
      0.06579490005970001]),
    ("adagrad", {"learning_rate": 0.1, "wd": 0.1, "rescale_grad": 0.5, "clip_gradient": 0.4},
     [-0.07342507690191269, 0.49418386816978455, 0.01389513909816742, -0.18726184964179993,
      0.025032147765159607]),
]


@pytest.mark.parametrize("name,kwargs,expected", MXNET_RESULTS, ids=[c[0] for c in MXNET_RESULTS])
def test_update_matches_mxnet(name, kwargs, expected):
    w, grads = _data(np.float32)
    np.testing.assert_array_max_ulp(our_run(name, kwargs, w, grads), np.array(expected, np.float32), maxulp=4)


_HYPER = {"learning_rate": st.floats(1e-3, 0.5), "wd": st.sampled_from([0.0, 1e-3, 0.1]),
          "rescale_grad": st.sampled_from([1.0, 0.25, 1 / 3]),
          "clip_gradient": st.sampled_from([None, 0.5, 2.0])}
_EXTRA = {"sgd": {"momentum": st.sampled_from([0.0, 0.5, 0.9])},
          "nag": {"momentum": st.sampled_from([0.0, 0.9])},
          "adam": {"beta1": st.floats(0.5, 0.95), "beta2": st.floats(0.9, 0.999)},
          "rmsprop": {"centered": st.booleans(), "gamma1": st.floats(0.5, 0.95),
                      "clip_weights": st.sampled_from([None, 0.8])},
          "adagrad": {"eps": st.sampled_from([1e-7, 1e-2])}}


@st.composite
def _optimizer_configs(draw):
    name = draw(st.sampled_from(sorted(REFERENCES)))
    return name, draw(st.fixed_dictionaries(dict(_HYPER, **_EXTRA[name])))


@given(_optimizer_configs(), st.integers(0, 2 ** 16))
def test_random_hyperparameters_match_reference(config, seed):
    name, kwargs = config
    w, grads = _data(np.float64, seed=seed, n=6, steps=3)
    np.testing.assert_allclose(our_run(name, kwargs, w, grads), reference_run(name, kwargs, w, grads),
                               rtol=1e-11, atol=1e-12)


def test_nag_state_decay_reads_updated_weight():
    # MXNet 1.9.1: w=1, g=1, lr=0.1, momentum=0.9, wd=0.5 -> w=0.715, mom=-0.1*(1 + 0.5*0.715) = -0.13575
    opt = mx.optimizer.NAG(learning_rate=0.1, momentum=0.9, wd=0.5)
    w = mx.nd.array([1.0])
    mom = opt.create_state(0, w)
    opt.update(0, w, mx.nd.array([1.0]), mom)
    np.testing.assert_allclose(w.asnumpy(), [0.715], rtol=1e-6)
    np.testing.assert_allclose(mom.asnumpy(), [-0.13575], rtol=1e-6)


# ------------------------------------------------------------------------------------------------------------
# Optimizer API
# ------------------------------------------------------------------------------------------------------------

def test_create_and_defaults():
    sgd = mx.optimizer.create("SGD", learning_rate=0.1)
    assert isinstance(sgd, mx.optimizer.SGD) and sgd.learning_rate == 0.1
    base = mx.optimizer.create("sgd")
    assert (base.learning_rate, base.wd, base.rescale_grad, base.clip_gradient, base.num_update) == \
        (0.01, 0.0, 1.0, None, 0)
    # MXNet 1.9.1's defaults
    assert mx.optimizer.create("adam").learning_rate == 0.001
    assert mx.optimizer.create("rmsprop").learning_rate == 0.001
    assert mx.optimizer.create("adagrad").learning_rate == 0.01
    assert mx.optimizer.create("nag").momentum == 0.0
    assert mx.optimizer.create("sgd").create_state(0, mx.nd.ones((2,))) is None
    with pytest.raises(ValueError, match="Cannot find optimizer nadamw; the registered optimizers are .*adadelta"):
        mx.optimizer.create("nadamw")


def test_update_checks_inputs():
    opt = mx.optimizer.create("sgd")
    with pytest.raises(mx.MXNetError, match=r"multi_sgd_update.*'grad_0'.*\(2,\).*\(3,\)"):
        opt.update(0, mx.nd.ones((3,)), mx.nd.ones((2,)), None)
    momentum = mx.optimizer.create("sgd", momentum=0.9)
    with pytest.raises(mx.MXNetError, match=r"sgd_mom_update.*'mom'.*\(4,\).*\(3,\)"):
        momentum.update(0, mx.nd.ones((3,)), mx.nd.ones((3,)), mx.nd.zeros((4,)))
    with pytest.raises(TypeError, match="must be NDArrays"):
        opt.update(0, mx.nd.ones((3,)), np.ones(3), None)


def test_register_custom_optimizer():
    class HalfStep(mx.optimizer.Optimizer):
        def update(self, index, weight, grad, state):
            self._update_count(index)
            weight[:] = (weight - self._get_lr(index) * grad * 0.5).asnumpy()

    try:
        mx.optimizer.register(HalfStep)
        opt = mx.optimizer.create("halfstep", learning_rate=1.0)
        w = mx.nd.array([1.0])
        opt.update(0, w, mx.nd.array([1.0]), opt.create_state(0, w))
        assert w.asnumpy()[0] == 0.5
        with pytest.warns(UserWarning, match="overriding"):
            mx.optimizer.register(HalfStep)
    finally:
        mx.optimizer.Optimizer.opt_registry.pop("halfstep", None)


def test_lr_and_wd_multipliers():
    names = {0: "fc_weight", 1: "fc_bias", 2: "bn_gamma", 3: "bn_beta", 4: "foo"}
    opt = mx.optimizer.create("sgd", learning_rate=1.0, wd=0.1, param_idx2name=names)
    # MXNet 1.9.1: with param_idx2name, names ending in neither _weight nor _gamma get wd_mult 0
    assert [opt._get_wd(i) for i in range(6)] == [0.1, 0.0, 0.1, 0.0, 0.0, 0.1]
    opt.set_wd_mult({"fc_bias": 0.5})
    assert opt._get_wd(1) == pytest.approx(0.05)
    opt.set_lr_mult({1: 3.0, "bn_gamma": 2.0})
    assert [opt._get_lr(i) for i in range(4)] == [1.0, 3.0, 2.0, 1.0]

    x, w = mx.sym.var("x"), mx.sym.var("fc_weight", lr_mult=0.5, wd_mult=2.0)
    net = mx.sym.FullyConnected(x, weight=w, num_hidden=2, name="fc")
    opt = mx.optimizer.create("sgd", learning_rate=1.0, wd=0.1, sym=net, param_idx2name={0: "fc_weight",
                                                                                         1: "fc_bias"})
    assert (opt._get_lr(0), opt._get_wd(0), opt._get_wd(1)) == (0.5, pytest.approx(0.2), 0.0)

    param = gluon.Parameter("p", shape=(1,), lr_mult=4.0, wd_mult=0.0)
    opt = mx.optimizer.create("sgd", learning_rate=1.0, wd=0.1, param_dict={0: param})
    opt.set_lr_mult({0: 100.0})                   # the Parameter's multipliers take precedence
    assert (opt._get_lr(0), opt._get_wd(0)) == (4.0, 0.0)
    param.lr_mult = 0.5                            # and are read at every update
    assert opt._get_lr(0) == 0.5


def test_num_update_counts_per_index():
    opt = mx.optimizer.create("sgd", begin_num_update=10)
    w = mx.nd.ones((2,))
    for index in (0, 0, 1, 0):
        opt.update(index, w, mx.nd.ones((2,)), None)
    assert opt.num_update == 13 and opt._index_update_count == {0: 13, 1: 11}


def test_set_learning_rate():
    opt = mx.optimizer.create("sgd", learning_rate=0.1)
    opt.set_learning_rate(0.5)
    assert opt.learning_rate == 0.5
    scheduled = mx.optimizer.create("sgd", lr_scheduler=mx.lr_scheduler.FactorScheduler(step=1, base_lr=0.3))
    assert scheduled.learning_rate == 0.3
    with pytest.raises(UserWarning, match="LRScheduler"):
        scheduled.set_learning_rate(0.5)


class _RecordingEngine(engine_module.NaiveEngine):
    def __init__(self):
        super().__init__()
        self.pushed = []

    def push(self, fn, reads=(), writes=(), name="op", **kwargs):
        self.pushed.append((name, list(reads), list(writes)))
        super().push(fn, reads, writes, name, **kwargs)


@pytest.mark.parametrize("name,kwargs,kernel", [("sgd", dict(momentum=0.9), "sgd_mom_update"),
                                                ("adam", {}, "adam_update"),
                                                ("rmsprop", dict(centered=True), "rmspropalex_update")])
def test_update_is_one_engine_push(name, kwargs, kernel):
    opt = mx.optimizer.create(name, **kwargs)
    w, g = mx.nd.ones((3,)), mx.nd.ones((3,))
    state = opt.create_state(0, w)
    states = state if isinstance(state, tuple) else (state,)
    mx.nd.waitall()
    old = engine_module.set_engine(_RecordingEngine())
    try:
        opt.update(0, w, g, state)
        pushed = engine_module.get_engine().pushed
    finally:
        engine_module.set_engine(old)
    # one op, MXNet's: it reads the gradient (and the weight and states it updates) and writes weight and states
    assert len(pushed) == 1
    name, reads, writes = pushed[0]
    assert name == kernel and g._var in reads and writes == [w._var] + [s._var for s in states]


def test_update_waits_for_the_pending_gradient():
    opt = mx.optimizer.create("sgd", learning_rate=1.0)
    w, g = mx.nd.zeros((4,)), mx.nd.zeros((4,))
    gdata = g._data

    def slow_write():
        time.sleep(0.05)
        gdata[:] = 2.0
    engine_module.get_engine().push(slow_write, [], [g._var], "slow_write")
    opt.update(0, w, g, None)
    np.testing.assert_array_equal(w.asnumpy(), [-2.0] * 4)


def test_multi_precision_float16():
    w32, grads = _data(np.float32)
    opt = mx.optimizer.create("sgd", learning_rate=0.1, momentum=0.9, multi_precision=True)
    w = mx.nd.array(w32, dtype=np.float16)
    state = opt.create_state_multi_precision(0, w)
    _, master = state                               # MXNet's SGD keeps (momentum, weight32)
    assert master.dtype == np.float32
    for g in grads:
        opt.update_multi_precision(0, w, mx.nd.array(g, dtype=np.float16), state)
    expected = reference_run("sgd", {"learning_rate": 0.1, "momentum": 0.9},
                             w32.astype(np.float16).astype(np.float64),
                             [g.astype(np.float16).astype(np.float64) for g in grads])
    np.testing.assert_allclose(master.asnumpy(), expected, rtol=1e-5, atol=1e-6)
    assert w.dtype == np.float16
    np.testing.assert_allclose(w.asnumpy(), expected, rtol=2e-3, atol=1e-3)


def test_float16_without_master_copy():
    w, grads = _data(np.float16)
    with pytest.warns(UserWarning, match="float16"):
        mx.optimizer.create("adam").create_state_multi_precision(0, mx.nd.array(w, dtype=np.float16))
    got = our_run("adam", dict(learning_rate=0.01), w, grads)
    expected = reference_run("adam", dict(learning_rate=0.01), w.astype(np.float64),
                             [g.astype(np.float64) for g in grads])
    assert got.dtype == np.float16
    np.testing.assert_allclose(got, expected, rtol=5e-3, atol=2e-3)


def test_updater_states_round_trip():
    opt = mx.optimizer.create("adam", learning_rate=0.01)
    updater = mx.optimizer.get_updater(opt)
    w, grads = _data(np.float64)
    weight = mx.nd.array(w, dtype=np.float64)
    for g in grads[:2]:
        updater(0, mx.nd.array(g, dtype=np.float64), weight)
    blob = updater.get_states(dump_optimizer=True)
    restored = mx.optimizer.get_updater(mx.optimizer.create("sgd"))
    restored.set_states(blob)
    assert isinstance(restored.optimizer, mx.optimizer.Adam) and restored.optimizer.num_update == 2
    assert restored.states[0][0].dtype == np.float64
    other = mx.nd.array(weight.asnumpy(), dtype=np.float64)
    for g in grads[2:]:
        updater(0, mx.nd.array(g, dtype=np.float64), weight)
        restored(0, mx.nd.array(g, dtype=np.float64), other)
    np.testing.assert_array_equal(other.asnumpy(), weight.asnumpy())


# ------------------------------------------------------------------------------------------------------------
# Learning-rate schedulers: sequences for num_update = 0..12, computed once with MXNet 1.9.1
# ------------------------------------------------------------------------------------------------------------

SCHEDULES = [
    (lambda: lr_scheduler.FactorScheduler(step=3, factor=0.5, base_lr=1.0),
     [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125]),
    (lambda: lr_scheduler.FactorScheduler(step=2, factor=0.1, stop_factor_lr=1e-3, base_lr=1.0,
                                          warmup_steps=3, warmup_begin_lr=0.1),
     [0.1, 0.4, 0.7, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001]),
    (lambda: lr_scheduler.MultiFactorScheduler(step=[2, 5, 6], factor=0.5, base_lr=1.0),
     [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125]),
    (lambda: lr_scheduler.MultiFactorScheduler(step=[4, 7], factor=0.1, base_lr=2.0, warmup_steps=3,
                                               warmup_begin_lr=0.5, warmup_mode="constant"),
     [0.5, 0.5, 0.5, 2.0, 2.0, 0.2, 0.2, 0.2, 0.02, 0.02, 0.02, 0.02, 0.02]),
    (lambda: lr_scheduler.PolyScheduler(max_update=8, base_lr=1.0, pwr=2, final_lr=0.1),
     [1.0, 0.7890625, 0.60625, 0.4515625, 0.325, 0.2265625, 0.15625, 0.1140625, 0.1, 0.1, 0.1, 0.1, 0.1]),
    (lambda: lr_scheduler.PolyScheduler(max_update=10, base_lr=1.0, pwr=1, warmup_steps=4,
                                        warmup_begin_lr=0.2),
     [0.2, 0.4, 0.6, 0.8, 1.0, 0.8333333333, 0.6666666667, 0.5, 0.3333333333, 0.1666666667, 0.0, 0.0, 0.0]),
    (lambda: lr_scheduler.CosineScheduler(max_update=8, base_lr=1.0, final_lr=0.1),
     [1.0, 0.9657457896, 0.8681980515, 0.7222075446, 0.55, 0.3777924554, 0.2318019485, 0.1342542104, 0.1, 0.1,
      0.1, 0.1, 0.1]),
    (lambda: lr_scheduler.CosineScheduler(max_update=10, base_lr=2.0, warmup_steps=3, warmup_begin_lr=0.5),
     [0.5, 1.0, 1.5, 2.0, 1.9009688679, 1.6234898019, 1.222520934, 0.777479066, 0.3765101981, 0.0990311321,
      0.0, 0.0, 0.0]),
]


@pytest.mark.parametrize("make,expected", SCHEDULES, ids=[str(i) for i in range(len(SCHEDULES))])
def test_lr_scheduler_matches_mxnet(make, expected):
    sched = make()
    np.testing.assert_allclose([sched(n) for n in range(13)], expected, rtol=1e-9, atol=1e-10)


def test_lr_scheduler_errors():
    with pytest.raises(ValueError, match="higher than warmup_begin_lr"):
        lr_scheduler.FactorScheduler(step=1, base_lr=0.1, warmup_begin_lr=0.5)
    with pytest.raises(ValueError, match="increasing"):
        lr_scheduler.MultiFactorScheduler(step=[3, 2])
    with pytest.raises(ValueError, match="no more than 1"):
        lr_scheduler.FactorScheduler(step=2, factor=2.0)
    with pytest.raises(ValueError, match="linear and constant"):
        lr_scheduler.CosineScheduler(max_update=5, warmup_mode="cubic")


def test_scheduler_drives_the_optimizer():
    # MXNet 1.9.1: the optimizer's learning_rate overrides the scheduler's base_lr (with a warning) and the
    # schedule follows num_update, the largest per-index count
    with pytest.warns(UserWarning, match="overwritten"):
        opt = mx.optimizer.create("sgd", learning_rate=0.5,
                                  lr_scheduler=lr_scheduler.FactorScheduler(step=2, factor=0.5, base_lr=1.0))
    weights = [mx.nd.array([1.0, 2.0]), mx.nd.array([3.0])]
    seen = []
    for step in range(5):
        for i in ([0, 1] if step % 2 == 0 else [0]):
            opt.update(i, weights[i], mx.nd.ones(weights[i].shape), None)
            seen.append((i, opt.num_update, opt.learning_rate))
    assert seen == [(0, 1, 0.5), (1, 1, 0.5), (0, 2, 0.5), (0, 3, 0.25), (1, 3, 0.25), (0, 4, 0.25),
                    (0, 5, 0.125), (1, 5, 0.125)]
    assert [w.asnumpy().tolist() for w in weights] == [[-0.625, 0.375], [2.125]]


@pytest.mark.parametrize("module", [optimizer, optimizer.sgd, lr_scheduler, trainer_module])
def test_doctests(module):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
