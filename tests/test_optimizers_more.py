"""The optimizer update ops (ops/update.py) and every optimizer of MXNet 1.9.1's list, against MXNet itself.

Truth: tests/fixtures/mxnet-1.9.1/optimizer/ (reference/optimizer_fixtures.py; see its README): each update op's
output and states for fixed inputs, and each optimizer's weights and states after 4 steps from fixed weights and
gradients (float32, and float16 with multi_precision). Results must agree to 1e-6 relative (most are bit-exact).
The update ops' kernels are also checked against float64 numpy references (tests/reference_update.py) with their
states, under every req, on hypothesis-drawn inputs.
"""
import json
import os
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dataflow as mx
from dataflow import gluon
from ops import registry
from ops.errors import DTypeError, ShapeError
from ops.registry import ADD, INPLACE, NULL, WRITE, OpContext
from tests import op_specs  # noqa: F401 - loads tests.specs_update (import op_specs first, never the family)
from tests import reference_update as R
from tests import specs_update

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "optimizer")
RTOL = 1e-6


def _load(name):
    with open(os.path.join(FIXTURES, name + ".json")) as f:
        meta = json.load(f)
    return meta, np.load(os.path.join(FIXTURES, name + ".npz"))


OPT_META, OPT_DATA = _load("optimizers")
OPS_META, OPS_DATA = _load("update_ops")


def _close(got, want, rtol=RTOL):
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, want.dtype, got.shape, want.shape)
    # 1e-6 relative, or one unit in the last place of the dtype for values near 0
    atol = rtol * float(np.max(np.abs(want))) if want.size else 0
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=rtol, atol=atol)


def _flat(state):
    if state is None:
        return []
    if isinstance(state, (tuple, list)):
        return [a for s in state for a in _flat(s)]
    return [state]


# ------------------------------------------------------------------------------------------------------------
# Update ops
# ------------------------------------------------------------------------------------------------------------

OP_CASES = sorted(k for k, v in OPS_META.items() if isinstance(v, dict) and "n_inputs" in v)


@pytest.mark.parametrize("name", OP_CASES)
def test_update_op_matches_mxnet(name):
    n = OPS_META[name]["n_inputs"]
    ins = [OPS_DATA["%s/in%d" % (name, k)] for k in range(n)]
    arrays = [mx.nd.array(a, dtype=a.dtype) for a in ins]
    out = getattr(mx.nd, name)(*arrays, **OPS_META[name]["params"])
    _close(out.asnumpy(), OPS_DATA[name + "/out"])
    for k, state in enumerate(arrays[2:]):
        _close(state.asnumpy(), OPS_DATA["%s/state%d" % (name, k)])


def test_nag_written_over_its_weight_matches_mxnet():
    d = {k.split("/")[1]: OPS_DATA[k] for k in OPS_DATA.files if k.startswith("nag_inplace/")}
    w, mom = mx.nd.array(d["w"]), mx.nd.array(d["mom"])
    mx.nd.nag_mom_update(w, mx.nd.array(d["g"]), mom, out=w, lr=0.1, momentum=0.9, wd=0.5)
    _close(w.asnumpy(), d["out"])
    _close(mom.asnumpy(), d["mom_out"])


@pytest.mark.parametrize("case", ["plain", "lower", "upper"])
def test_lamb_phase2_matches_mxnet(case):
    w, g = mx.nd.array(OPS_DATA["lamb2/w"]), mx.nd.array(OPS_DATA["lamb2/g"])
    out = mx.nd.lamb_update_phase2(w, g, w.norm(), g.norm(), **OPS_META["lamb2_" + case]["params"])
    _close(out.asnumpy(), OPS_DATA["lamb2_%s/out" % case])


def test_multi_sgd_update_matches_mxnet():
    ins = []
    for k in range(2):
        ins += [mx.nd.array(OPS_DATA["multi_sgd/w%d" % k]), mx.nd.array(OPS_DATA["multi_sgd/g%d" % k])]
    outs = mx.nd.multi_sgd_update(*ins, **OPS_META["multi_sgd"]["params"])
    for k in range(2):
        _close(outs[k].asnumpy(), OPS_DATA["multi_sgd/out%d" % k])


# (the multi AdamW ops' states are interleaved arguments, not aux inputs: tests/test_adamw.py checks them)
STATEFUL = [s for s in specs_update.SPECS if "forward" in s.skips and s.skips is not specs_update.MULTI_STATEFUL]


@pytest.mark.parametrize("spec", STATEFUL, ids=[s.name for s in STATEFUL])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_kernel_updates_states_as_the_reference(spec, data):
    """Output under WRITE, INPLACE (over the weight), ADD and NULL, and the states (updated whatever the req)."""
    dtype = np.dtype(data.draw(st.sampled_from(spec.dtypes), label="dtype"))
    attrs, inputs = spec.sample(data.draw, dtype)
    opdef = registry.get(spec.name)
    p = opdef.parse_params(attrs)
    want_out, want_states = getattr(R, spec.name)(R.mxnet_params(spec.name, p), *inputs)
    n_args = len(opdef.argument_names(p))
    rtol, atol = spec.tolerance(dtype)
    for req in (WRITE, INPLACE, ADD, NULL):
        ins = [x.copy() for x in inputs]
        out_dtype = spec.ref(p, *inputs).dtype
        if req == INPLACE and ((0, 0) not in opdef.inplace or ins[0].dtype != out_dtype):
            continue
        old = np.full(want_out.shape, 0.25, out_dtype)
        out = ins[0] if req == INPLACE else old.copy()
        with np.errstate(all="ignore"):
            opdef.cpu(OpContext(), p, ins, [out], [req])
        expected = {WRITE: want_out, INPLACE: want_out, ADD: old + want_out, NULL: old}[req]
        with np.errstate(over="ignore"):
            expected = np.asarray(expected).astype(out_dtype)
        np.testing.assert_allclose(out.astype(np.float64), expected.astype(np.float64), rtol=rtol, atol=atol,
                                   err_msg="output, req=%s" % req)
        states = want_states
        if spec.name == "nag_mom_update" and req == INPLACE:     # written over its weight: the decay reads it
            states = R._nag(R.mxnet_params(spec.name, p), *inputs, decay_reads_new=True)[1]
        for k, want in enumerate(states):
            got = ins[n_args + k]
            np.testing.assert_allclose(got.astype(np.float64), want.astype(got.dtype).astype(np.float64),
                                       rtol=max(rtol, 1e-5), atol=max(atol, 1e-5), err_msg="state %d" % k)


def test_update_ops_front_ends():
    # mx.nd: out=weight updates in place, the states too; without out, a new array and the weight unchanged
    w, g, mom = mx.nd.array([1.0, 2.0]), mx.nd.array([0.5, -1.0]), mx.nd.zeros(2)
    assert mx.nd.sgd_mom_update(w, g, mom, out=w, lr=0.1, momentum=0.9) is w
    np.testing.assert_allclose(w.asnumpy(), [0.95, 2.1], rtol=1e-6)
    np.testing.assert_allclose(mom.asnumpy(), [-0.05, 0.1], rtol=1e-6)
    new = mx.nd.sgd_update(w, g, lr=1.0)
    np.testing.assert_allclose(new.asnumpy(), [0.45, 3.1], rtol=1e-6)
    np.testing.assert_allclose(w.asnumpy(), [0.95, 2.1], rtol=1e-6)
    # mx.sym: the states are auxiliary states (MXNet's mutable inputs); a bound executor updates them
    sym = mx.sym.adam_update(mx.sym.var("w"), mx.sym.var("g"), mx.sym.var("m"), mx.sym.var("v"), lr=0.1)
    assert sym.list_arguments() == ["w", "g"] and sym.list_auxiliary_states() == ["m", "v"]
    m, v = mx.nd.zeros(2), mx.nd.zeros(2)
    ex = sym.bind(mx.cpu(), {"w": mx.nd.array([1.0, 2.0]), "g": mx.nd.array([1.0, -1.0])}, grad_req="null",
                  aux_states={"m": m, "v": v})
    out = ex.forward()[0].asnumpy()
    np.testing.assert_allclose(m.asnumpy(), [0.1, -0.1], rtol=1e-6)
    np.testing.assert_allclose(out, [1.0 - 0.1 * 0.1 / (np.sqrt(0.001) + 1e-8),
                                     2.0 + 0.1 * 0.1 / (np.sqrt(0.001) + 1e-8)], rtol=1e-5)
    assert "Learning rate" in mx.nd.sgd_update.__doc__


def test_update_ops_bad_input():
    w = mx.nd.ones((3,))
    with pytest.raises(ShapeError, match=r"sgd_mom_update.*'mom'.*\(4,\).*\(3,\)"):
        mx.nd.sgd_mom_update(w, mx.nd.ones((3,)), mx.nd.zeros((4,)), lr=0.1)
    with pytest.raises(DTypeError, match=r"mp_sgd_update.*'weight32'.*float16"):
        mx.nd.mp_sgd_update(w.astype("float16"), w.astype("float16"), w.astype("float16"), lr=0.1)
    with pytest.raises(DTypeError, match="adam_update.*floating point"):
        mx.nd.adam_update(*[mx.nd.ones((2,), dtype="int32")] * 4, lr=0.1)
    with pytest.raises(mx.MXNetError, match=r"sgd_update.*'lr'.*missing"):
        mx.nd.sgd_update(w, w)


# ------------------------------------------------------------------------------------------------------------
# Optimizers
# ------------------------------------------------------------------------------------------------------------

OPT_CASES = sorted(k for k, v in OPT_META.items() if isinstance(v, dict) and "steps" in v)
# MXNet 1.9.1's mp_lamb_update_phase2 never writes its float32 master copy, so its mixed-precision LAMB keeps
# stepping from the initial weights; ours updates the master copy (see test_lamb_multi_precision_master_copy).
FIRST_STEP_ONLY = {"lamb_mp"}


@pytest.mark.parametrize("key", OPT_CASES)
def test_optimizer_matches_mxnet(key):
    meta = OPT_META[key]
    dtype = meta["dtype"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = mx.optimizer.create(meta["name"], **meta["kwargs"])
        weight = mx.nd.array(OPT_DATA[key + "/w0"], dtype=dtype)
        state = opt.create_state_multi_precision(0, weight)
    assert len(_flat(state)) == meta["n_states"]
    for t in range(1 if key in FIRST_STEP_ONLY else meta["steps"]):
        opt.update_multi_precision(0, weight, mx.nd.array(OPT_DATA["%s/g%d" % (key, t)], dtype=dtype), state)
        _close(weight.asnumpy(), OPT_DATA["%s/w%d" % (key, t + 1)])
        if key in FIRST_STEP_ONLY:
            continue
        for k, s in enumerate(_flat(state)):
            _close(s.asnumpy(), OPT_DATA["%s/s%d_%d" % (key, t + 1, k)])


def test_lamb_multi_precision_master_copy():
    w16 = mx.nd.array(OPT_DATA["lamb_mp/w0"], dtype="float16")
    opt = mx.optimizer.create("lamb", wd=0.01, multi_precision=True)
    master, (mean, var) = opt.create_state_multi_precision(0, w16)
    start = master.asnumpy().copy()
    g = mx.nd.array(OPT_DATA["lamb_mp/g0"], dtype="float16")
    opt.update_multi_precision(0, w16, g, (master, (mean, var)))
    # the float16 weight is the float32 master copy rounded, and the master copy moved
    np.testing.assert_array_equal(w16.asnumpy(), master.asnumpy().astype(np.float16))
    assert not np.array_equal(master.asnumpy(), start)


def test_registry_and_defaults_match_mxnet():
    # only mx.optimizer's own: contrib.svrg_optimization, other tests and libraries (GluonNLP's BERTAdam) register
    # more when imported, as in MXNet
    own = [name for name, cls in mx.optimizer.Optimizer.opt_registry.items()
           if cls.__module__.startswith("dataflow.optimizer")]
    assert sorted(own) == OPT_META["registry"]
    for name, defaults in OPT_META["defaults"].items():
        opt = mx.optimizer.create(name)
        for key, value in defaults.items():
            if key in ("aggregate_num", "allow_np_array"):      # MXNet's batching of updates, its numpy mode
                continue
            assert getattr(opt, key) == value, (name, key, getattr(opt, key), value)


def test_unknown_optimizer_is_a_clear_error():
    with pytest.raises(ValueError, match="Cannot find optimizer adamw.*registered optimizers are.*adadelta"):
        mx.optimizer.create("adamw")
    with pytest.raises(ValueError, match="Cannot find optimizer"):
        mx.optimizer.create(None)


@pytest.mark.parametrize("name,kwargs", [("adam", {}), ("ftml", {}), ("ftrl", {}), ("signum", {}),
                                         ("rmsprop", {"centered": True}), ("lamb", {})])
def test_mismatched_state_shapes_are_clear_errors(name, kwargs):
    opt = mx.optimizer.create(name, **kwargs)
    w = mx.nd.ones((3,))
    state = opt.create_state(0, mx.nd.ones((4,)))
    with pytest.raises(ShapeError, match=r"(update|phase1).*\(4,\).*\(3,\)|\(3,\).*\(4,\)"):
        opt.update(0, w, mx.nd.ones((3,)), state)
        mx.nd.waitall()


def test_dcasgd_momentum_follows_its_rule():
    # MXNet 1.9.1 fails here (it tests a many-element NDArray's truth value); the rule of its docstring:
    opt = mx.optimizer.create("dcasgd", learning_rate=0.1, momentum=0.9, wd=0.01, lamda=0.5)
    rng = np.random.RandomState(0)
    w0 = rng.uniform(-1, 1, 6)
    weight = mx.nd.array(w0, dtype="float64")
    state = opt.create_state(0, weight)
    w, prev, mom = w0.copy(), w0.copy(), np.zeros(6)
    for _ in range(3):
        g = rng.uniform(-1, 1, 6)
        opt.update(0, weight, mx.nd.array(g, dtype="float64"), state)
        mom = 0.9 * mom - 0.1 * (g + 0.01 * w + 0.5 * g * g * (w - prev))
        prev, w = w, w + mom
    np.testing.assert_allclose(weight.asnumpy(), w, rtol=1e-12)
    np.testing.assert_allclose(state[1].asnumpy(), prev, rtol=1e-12)
    assert "multiple elements" in OPT_META["dcasgd_momentum_error"]


def test_sgld_steps_and_noise():
    lr, wd = 0.01, 0.1
    opt = mx.optimizer.create("sgld", learning_rate=lr, wd=wd)
    w0 = np.linspace(-1, 1, 20000)
    g = np.full(w0.shape, 0.5)
    weight = mx.nd.array(w0, dtype="float64")
    mx.random.seed(7)
    opt.update(0, weight, mx.nd.array(g, dtype="float64"), None)
    noise = weight.asnumpy() - (w0 - lr / 2 * (g + wd * w0))
    assert abs(noise.mean()) < 5 * np.sqrt(lr) / np.sqrt(noise.size)
    assert abs(noise.std() - np.sqrt(lr)) < 0.02 * np.sqrt(lr)
    again = mx.nd.array(w0, dtype="float64")
    mx.random.seed(7)
    opt.update(0, again, mx.nd.array(g, dtype="float64"), None)
    np.testing.assert_array_equal(again.asnumpy(), weight.asnumpy())


def test_group_adagrad():
    opt = mx.optimizer.create("groupadagrad", learning_rate=0.1, rescale_grad=0.5, clip_gradient=0.4)
    rng = np.random.RandomState(1)
    w = rng.uniform(-1, 1, (3, 4))
    weight = mx.nd.array(w)       # float32: the history is float32, as MXNet's
    history = opt.create_state(0, weight)
    assert history.shape == (3, 1)
    h = np.zeros((3, 1))
    for _ in range(3):
        g = rng.uniform(-2, 2, (3, 4))
        opt.update(0, weight, mx.nd.array(g), history)
        c = np.clip(0.5 * g, -0.4, 0.4)
        h += (c * c).mean(axis=1, keepdims=True)
        w = w - 0.1 * c / np.sqrt(h + 1e-5)
    np.testing.assert_allclose(weight.asnumpy(), w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(history.asnumpy()[:, 0], h[:, 0], rtol=1e-5)
    with pytest.raises(ValueError, match="2-D"):
        opt.create_state(0, mx.nd.ones((3,)))
    with pytest.raises(ValueError, match="Weight decay"):
        mx.optimizer.create("groupadagrad", wd=0.1).update(0, weight, weight, history)


@pytest.mark.parametrize("name,kwargs", [("ftml", {"learning_rate": 0.01}), ("lamb", {"wd": 0.01}),
                                         ("nadam", {}), ("adadelta", {}), ("signum", {}), ("lbsgd", {
                                             "batch_scale": 2, "momentum": 0.9}),
                                         ("lars", {"momentum": 0.9, "eta": 0.01})])
def test_trainer_saves_and_loads_new_optimizer_states(tmp_path, name, kwargs):
    def make():
        w = gluon.Parameter("w", shape=(3,))
        w.initialize(init=mx.init.Constant(0.5))
        return w, gluon.Trainer([w], name, dict(kwargs))

    grads = [[1.0, 2.0, -1.0], [-0.5, 0.3, 0.2], [0.2, 0.2, 0.1], [2.0, -1.0, 0.5]]

    def step(w, trainer, g):
        with mx.autograd.record():
            loss = (w.data() * mx.nd.array(g)).sum()
        loss.backward()
        trainer.step(1)

    w, trainer = make()
    for g in grads[:2]:
        step(w, trainer, g)
    path = str(tmp_path / "states")
    trainer.save_states(path)
    w2, trainer2 = make()
    w2.set_data(w.data())
    trainer2.load_states(path)
    for g in grads[2:]:
        step(w, trainer, g)
        step(w2, trainer2, g)
    np.testing.assert_array_equal(w2.data().asnumpy(), w.data().asnumpy())


def test_optimizer_pickles_with_its_counters():
    opt = mx.optimizer.create("lbsgd", batch_scale=2)
    w = mx.nd.ones((2,))
    opt.update(0, w, mx.nd.ones((2,)), opt.create_state(0, w))
    restored = pickle.loads(pickle.dumps(opt))
    assert restored.num_update == 1 and restored.cumgrads[0]["num_cums"] == 1
    np.testing.assert_array_equal(restored.cumgrads[0]["cum_grad"].asnumpy(), [1.0, 1.0])


def test_import_paths():
    from dataflow.optimizer import SGD, Optimizer, Updater, create, get_updater, register  # noqa: F401
    from dataflow.optimizer.optimizer import update_op  # noqa: F401
    assert mx.optimizer.contrib.GroupAdaGrad is mx.optimizer.Optimizer.opt_registry["groupadagrad"]
    assert isinstance(create("ccsgd"), SGD)


@pytest.mark.parametrize("name", ["adadelta", "ftrl", "dcasgd", "signum"])
def test_module_trains_and_reloads_optimizer_states(tmp_path, name):
    """Module.update with new optimizers; their states saved and loaded give the same next steps. (Module saves
    the states without the optimizer, as MXNet's does, so rules that count steps, FTML, LAMB, Adam..., restart
    their count after loading: not compared here.)"""
    rng = np.random.RandomState(0)
    x, y = rng.uniform(-1, 1, (8, 3)).astype(np.float32), rng.uniform(-1, 1, (8, 2)).astype(np.float32)
    net = mx.sym.LinearRegressionOutput(mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=2, name="fc"),
                                        mx.sym.var("label"))

    def make():
        mod = mx.mod.Module(net, data_names=["data"], label_names=["label"])
        mod.bind(data_shapes=[("data", (8, 3))], label_shapes=[("label", (8, 2))])
        mod.init_params(mx.init.Constant(0.1))
        mod.init_optimizer(optimizer=name, optimizer_params={"learning_rate": 0.05})
        return mod

    batch = mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)])

    def step(mod):
        mod.forward(batch, is_train=True)
        mod.backward()
        mod.update()

    first = make()
    before = first.get_params()[0]["fc_weight"].asnumpy().copy()
    for _ in range(2):
        step(first)
    assert not np.array_equal(first.get_params()[0]["fc_weight"].asnumpy(), before)
    path = str(tmp_path / "opt.states")
    first.save_optimizer_states(path)
    second = make()
    second.set_params(*first.get_params())
    second.load_optimizer_states(path)
    for _ in range(2):
        step(first)
        step(second)
    np.testing.assert_array_equal(second.get_params()[0]["fc_weight"].asnumpy(),
                                  first.get_params()[0]["fc_weight"].asnumpy())
