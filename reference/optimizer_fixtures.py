"""Record MXNet 1.9.1's optimizers, update ops and initializers for tests/test_optimizers_more.py,
tests/test_optimizer.py and tests/test_initializer_more.py (run with the oracle's python).

    MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/optimizer_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/optimizer/{optimizers.npz, optimizers.json, update_ops.npz, update_ops.json,
initializers.npz, initializers.json}; see the README there.
"""
import json
import os

import numpy as np

import mxnet as mx
from mxnet import nd

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "optimizer")
SHAPE = (2, 5)
STEPS = 4

# name -> (optimizer name, constructor kwargs, weight dtype). Each runs STEPS updates of weight index 0 from
# fixed weights and gradients, through create_state_multi_precision / update_multi_precision (what Updater does).
OPTIMIZERS = {
    "sgd": ("sgd", {"learning_rate": 0.1}, "float32"),
    "sgd_mom": ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01, "rescale_grad": 0.5,
                        "clip_gradient": 0.3}, "float32"),
    "sgd_mom_mp": ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01, "multi_precision": True}, "float16"),
    "sgd_mp": ("sgd", {"learning_rate": 0.1, "wd": 0.01, "multi_precision": True}, "float16"),
    "nag": ("nag", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01}, "float32"),
    "nag_mp": ("nag", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01, "multi_precision": True}, "float16"),
    "adam": ("adam", {"learning_rate": 0.01, "wd": 0.01, "clip_gradient": 0.5}, "float32"),
    "adam_mp": ("adam", {"learning_rate": 0.01, "wd": 0.01, "multi_precision": True}, "float16"),
    "rmsprop": ("rmsprop", {"learning_rate": 0.01}, "float32"),
    "rmsprop_centered": ("rmsprop", {"learning_rate": 0.01, "centered": True, "clip_weights": 0.5, "wd": 0.01},
                         "float32"),
    "adagrad": ("adagrad", {"learning_rate": 0.1, "wd": 0.01}, "float32"),
    "adadelta": ("adadelta", {"wd": 0.01}, "float32"),
    "adadelta_clip": ("adadelta", {"rho": 0.8, "epsilon": 1e-4, "clip_gradient": 0.3, "rescale_grad": 2.0},
                      "float32"),
    "adamax": ("adamax", {"wd": 0.01}, "float32"),
    "adamax_clip": ("adamax", {"clip_gradient": 0.2, "beta1": 0.8}, "float32"),
    "nadam": ("nadam", {"wd": 0.01}, "float32"),
    "nadam_clip": ("nadam", {"clip_gradient": 0.2, "schedule_decay": 0.01}, "float32"),
    "ftml": ("ftml", {"learning_rate": 0.01, "wd": 0.01, "clip_gradient": 0.5}, "float32"),
    "ftml_default": ("ftml", {}, "float32"),
    "ftrl": ("ftrl", {"wd": 0.01}, "float32"),
    "ftrl_l1": ("ftrl", {"lamda1": 0.2, "beta": 0.5, "learning_rate": 0.5, "clip_gradient": 0.4}, "float32"),
    "signum": ("signum", {"wd": 0.01, "wd_lh": 0.05}, "float32"),
    "signsgd": ("signum", {"momentum": 0.0, "wd": 0.01, "clip_gradient": 0.3}, "float32"),
    "lamb": ("lamb", {"wd": 0.01}, "float32"),
    "lamb_bounds": ("lamb", {"bias_correction": False, "lower_bound": 0.1, "upper_bound": 1.0,
                             "clip_gradient": 0.3}, "float32"),
    "lamb_mp": ("lamb", {"wd": 0.01, "multi_precision": True}, "float16"),
    "lars": ("lars", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01, "eta": 0.01}, "float32"),
    "lars_nomom": ("lars", {"learning_rate": 0.1, "eta": 0.01, "rescale_grad": 0.5}, "float32"),
    "lars_mp": ("lars", {"learning_rate": 0.1, "momentum": 0.9, "eta": 0.01, "multi_precision": True}, "float16"),
    "dcasgd": ("dcasgd", {"learning_rate": 0.1, "wd": 0.01}, "float32"),
    "dcasgd_nomom": ("dcasgd", {"learning_rate": 0.1, "lamda": 0.1}, "float32"),
    "lbsgd": ("lbsgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01, "batch_scale": 2, "warmup_epochs": 1,
                        "updates_per_epoch": 4}, "float32"),
    "lbsgd_lars": ("lbsgd", {"learning_rate": 0.1, "warmup_strategy": "lars"}, "float32"),
    "ccsgd": ("ccsgd", {"learning_rate": 0.1, "momentum": 0.5}, "float32"),
    "test": ("test", {"rescale_grad": 0.5}, "float32"),
}

# update ops: name -> (number of state inputs, params, mp: whether the states are float32 next to float16 weights)
OPS = {
    "sgd_update": (0, {"lr": 0.1, "wd": 0.01, "rescale_grad": 0.5, "clip_gradient": 0.3}),
    "sgd_mom_update": (1, {"lr": 0.1, "momentum": 0.9, "wd": 0.01, "clip_gradient": 0.3}),
    "nag_mom_update": (1, {"lr": 0.1, "momentum": 0.9, "wd": 0.05, "rescale_grad": 0.7}),
    "signsgd_update": (0, {"lr": 0.1, "wd": 0.01}),
    "signum_update": (1, {"lr": 0.1, "momentum": 0.9, "wd": 0.01, "wd_lh": 0.02}),
    "adam_update": (2, {"lr": 0.01, "wd": 0.01, "beta1": 0.8, "clip_gradient": 0.5}),
    "rmsprop_update": (1, {"lr": 0.01, "wd": 0.01, "clip_weights": 0.6}),
    "rmspropalex_update": (3, {"lr": 0.01, "wd": 0.01, "gamma2": 0.8}),
    "ftml_update": (3, {"lr": 0.01, "wd": 0.01, "t": 3, "clip_grad": 0.5}),
    "ftrl_update": (2, {"lr": 0.1, "wd": 0.01, "lamda1": 0.05}),
    "lamb_update_phase1": (2, {"wd": 0.01, "t": 2}),
    "mp_sgd_update": (1, {"lr": 0.1, "wd": 0.01}),
    "mp_sgd_mom_update": (2, {"lr": 0.1, "momentum": 0.9, "wd": 0.01}),
    "mp_nag_mom_update": (2, {"lr": 0.1, "momentum": 0.9, "wd": 0.05}),
    "mp_lamb_update_phase1": (3, {"wd": 0.01, "t": 2, "bias_correction": False}),
}


def positive_states(name):
    """Indices of the state inputs that must be >= 0 (second moments, squared-gradient sums)."""
    return {"adam_update": [1], "rmsprop_update": [0], "rmspropalex_update": [0], "ftml_update": [0, 1],
            "ftrl_update": [1], "lamb_update_phase1": [1], "mp_lamb_update_phase1": [1]}.get(name, [])


def flat_states(state):
    """The arrays of a state (None, an NDArray, nested tuples), depth first, None skipped."""
    if state is None:
        return []
    if isinstance(state, (tuple, list)):
        return [a for s in state for a in flat_states(s)]
    return [state]


def record_optimizers(rng, arrays, meta):
    # every registered name, and each optimizer's default attributes (the simple ones)
    meta["registry"] = sorted(mx.optimizer.Optimizer.opt_registry)
    meta["defaults"] = {}
    for name in meta["registry"]:
        opt = mx.optimizer.create(name)
        meta["defaults"][name] = {k: v for k, v in vars(opt).items() if not k.startswith("_") and
                                  (v is None or isinstance(v, (bool, int, float, str)))}
    # DCASGD with momentum fails in MXNet 1.9.1 (`if mom:` on a many-element NDArray): record the error
    opt = mx.optimizer.create("dcasgd", momentum=0.9)
    weight = nd.ones(SHAPE)
    try:
        opt.update(0, weight, nd.ones(SHAPE), opt.create_state(0, weight))
        meta["dcasgd_momentum_error"] = None
    except Exception as err:  # noqa: BLE001 - we record what MXNet says
        meta["dcasgd_momentum_error"] = "%s: %s" % (type(err).__name__, err)

    for key, (name, kwargs, dtype) in OPTIMIZERS.items():
        opt = mx.optimizer.create(name, **kwargs)
        w0 = rng.uniform(-1, 1, SHAPE).astype(dtype)
        grads = [rng.uniform(-1, 1, SHAPE).astype(dtype) for _ in range(STEPS)]
        weight = nd.array(w0, dtype=dtype)
        state = opt.create_state_multi_precision(0, weight)
        arrays[key + "/w0"] = w0
        for t, g in enumerate(grads):
            opt.update_multi_precision(0, weight, nd.array(g, dtype=dtype), state)
            arrays["%s/g%d" % (key, t)] = g
            arrays["%s/w%d" % (key, t + 1)] = weight.asnumpy()
            for k, s in enumerate(flat_states(state)):
                arrays["%s/s%d_%d" % (key, t + 1, k)] = s.asnumpy()
        meta[key] = {"name": name, "kwargs": kwargs, "dtype": dtype, "steps": STEPS,
                     "n_states": len(flat_states(state)), "state_dtypes": [str(s.dtype.__name__ if hasattr(
                         s.dtype, "__name__") else s.dtype) for s in flat_states(state)]}


def record_ops(rng, arrays, meta):
    for name, (n_states, params) in OPS.items():
        mp = name.startswith("mp_")
        dtype = "float16" if mp else "float32"
        w = rng.uniform(-1, 1, SHAPE).astype(dtype)
        g = rng.uniform(-1, 1, SHAPE).astype(dtype)
        states = []
        for k in range(n_states):
            s = rng.uniform(-0.5, 0.5, SHAPE)
            if k in positive_states(name):
                s = np.abs(s)
            states.append(s.astype("float32" if mp else dtype))
        if name == "rmspropalex_update":    # n >= gbar^2, or the square root is NaN
            states[0] = states[0] + states[1] ** 2
        if mp:      # the last state is the float32 master copy of the weight
            states[-1] = w.astype(np.float32)
        ins = [nd.array(a, dtype=a.dtype) for a in [w, g] + states]
        out = getattr(nd, name)(*ins, **params)
        arrays[name + "/inputs"] = np.array(len(ins))
        for k, a in enumerate([w, g] + states):
            arrays["%s/in%d" % (name, k)] = a
        arrays[name + "/out"] = out.asnumpy()
        for k, s in enumerate(ins[2:]):
            arrays["%s/state%d" % (name, k)] = s.asnumpy()
        meta[name] = {"params": params, "n_inputs": len(ins)}
    # nag_mom_update written over its weight (as the optimizer calls it): the momentum reads the new weight
    w = rng.uniform(-1, 1, SHAPE).astype("float32")
    g = rng.uniform(-1, 1, SHAPE).astype("float32")
    mom = rng.uniform(-0.5, 0.5, SHAPE).astype("float32")
    wn, momn = nd.array(w), nd.array(mom)
    nd.nag_mom_update(wn, nd.array(g), momn, out=wn, lr=0.1, momentum=0.9, wd=0.5)
    arrays.update({"nag_inplace/w": w, "nag_inplace/g": g, "nag_inplace/mom": mom,
                   "nag_inplace/out": wn.asnumpy(), "nag_inplace/mom_out": momn.asnumpy()})
    # lamb phase 2 with its bounds
    w = rng.uniform(-1, 1, SHAPE).astype("float32")
    g = rng.uniform(-1, 1, SHAPE).astype("float32")
    for case, params in {"plain": {"lr": 0.1}, "lower": {"lr": 0.1, "lower_bound": 5.0},
                         "upper": {"lr": 0.1, "upper_bound": 0.5}}.items():
        r1, r2 = nd.array(w).norm(), nd.array(g).norm()
        out = nd.lamb_update_phase2(nd.array(w), nd.array(g), r1, r2, **params)
        arrays["lamb2_%s/out" % case] = out.asnumpy()
        meta["lamb2_%s" % case] = {"params": params}
    arrays["lamb2/w"], arrays["lamb2/g"] = w, g
    # multi_sgd_update over two weights
    ws = [rng.uniform(-1, 1, s).astype("float32") for s in [(3,), (2, 2)]]
    gs = [rng.uniform(-1, 1, s).astype("float32") for s in [(3,), (2, 2)]]
    outs = [nd.zeros(w.shape) for w in ws]     # MXNet needs `out` here (its shape inference fails without)
    nd.multi_sgd_update(nd.array(ws[0]), nd.array(gs[0]), nd.array(ws[1]), nd.array(gs[1]), out=outs,
                        lrs=(0.1, 0.2), wds=(0.01, 0.0), rescale_grad=0.5, num_weights=2)
    for k in range(2):
        arrays["multi_sgd/w%d" % k], arrays["multi_sgd/g%d" % k] = ws[k], gs[k]
        arrays["multi_sgd/out%d" % k] = outs[k].asnumpy()
    meta["multi_sgd"] = {"params": {"lrs": [0.1, 0.2], "wds": [0.01, 0.0], "rescale_grad": 0.5, "num_weights": 2}}
    # symbol front end: list the states among the auxiliary states
    try:
        sym = mx.sym.sgd_mom_update(weight=mx.sym.var("w"), grad=mx.sym.var("g"), mom=mx.sym.var("m"), lr=0.1)
        meta["sgd_mom_symbol"] = {"arguments": sym.list_arguments(), "aux": sym.list_auxiliary_states()}
    except Exception as err:  # noqa: BLE001 - we record what MXNet says
        meta["sgd_mom_symbol"] = "ERROR %s" % str(err).strip().splitlines()[0]


INITS = {
    "bilinear_4x4": ("Bilinear", {}, (1, 1, 4, 4)),
    "bilinear_3x5": ("Bilinear", {}, (2, 1, 3, 5)),
    "constant_half": ("Constant", {"value": 0.5}, (2, 3)),
    "lstmbias": ("LSTMBias", {"forget_bias": 2.0}, (8,)),
}


def record_initializers(rng, arrays, meta):
    for key, (klass, kwargs, shape) in INITS.items():
        init = getattr(mx.init, klass)(**kwargs)
        arr = nd.zeros(shape)
        init(mx.init.InitDesc("layer_bias" if klass == "LSTMBias" else "upsampling_weight"), arr)
        arrays[key] = arr.asnumpy()
        meta[key] = {"class": klass, "kwargs": kwargs, "shape": shape, "dumps": init.dumps()}
    # LSTMBias and FusedRNN act through a variable's __init__ attribute (as a global init, a *_bias gets zeros)
    init = mx.init.LSTMBias(forget_bias=2.0)
    arr = nd.ones((8,))
    init(mx.init.InitDesc("lstm_i2h_bias", attrs={"__init__": init.dumps()}), arr)
    arrays["lstmbias_attr"] = arr.asnumpy()
    fused = {"fusedrnn_lstm": (mx.init.FusedRNN(mx.init.Constant(0.5), 2, 2, "lstm", True, 2.0), 240),
             "fusedrnn_gru": (mx.init.FusedRNN(mx.init.One(), 3, 1, "gru", False), 3 * 3 * (2 + 3 + 2)),
             "fusedrnn_relu": (mx.init.FusedRNN(mx.init.Constant(-1.0), 2, 2, "rnn_relu", False), 2 * 16 + 10)}
    for key, (init, size) in fused.items():
        # (through __init__ it fails in MXNet 1.9.1: FusedRNN cannot rebuild its `init` from the JSON string)
        arr = nd.zeros((size,))
        init._init_weight(mx.init.InitDesc("rnn_parameters", global_init=mx.init.Uniform()), arr)
        arrays[key] = arr.asnumpy()
        meta[key] = {"dumps": init.dumps(), "size": size}
    arr = nd.zeros((3,))
    mx.init.Constant(nd.array([1, 2, 3]))(mx.init.InitDesc("x_weight"), arr)
    arrays["constant_ndarray"] = arr.asnumpy()
    dumps = {
        "constant_half": lambda: mx.init.Constant(0.5).dumps(),
        "constant_int": lambda: mx.init.Constant(3).dumps(),
        "constant_list": lambda: mx.init.Constant([1.0, 2.0]).dumps(),
        "constant_numpy": lambda: mx.init.Constant(np.array([[1.0, 2.0]], np.float32)).dumps(),
        "constant_ndarray": lambda: mx.init.Constant(nd.array([1, 2])).dumps(),
        "msraprelu": lambda: mx.init.MSRAPrelu().dumps(),
        "msraprelu_args": lambda: mx.init.MSRAPrelu(factor_type="in", slope=0.1).dumps(),
        "bilinear": lambda: mx.init.Bilinear().dumps(),
        "lstmbias": lambda: mx.init.LSTMBias(forget_bias=2.0).dumps(),
        "orthogonal": lambda: mx.init.Orthogonal().dumps(),
        "fusedrnn": lambda: mx.init.FusedRNN(None, 4, 1, "lstm").dumps(),
        "fusedrnn_init": lambda: mx.init.FusedRNN(mx.init.Uniform(0.1), 4, 2, "gru", True, 2.0).dumps(),
        "zero": lambda: mx.init.Zero().dumps(),
        "uniform": lambda: mx.init.Uniform(0.1).dumps(),
        "xavier": lambda: mx.init.Xavier(rnd_type="gaussian", factor_type="in", magnitude=2).dumps(),
    }
    meta["dumps"] = {}
    for key, fn in dumps.items():
        try:
            meta["dumps"][key] = fn()
        except Exception as err:  # noqa: BLE001 - we record what MXNet says
            meta["dumps"][key] = "ERROR %s" % type(err).__name__
    # create() from a name or a dump
    meta["create"] = {name: type(mx.init.create(name)).__name__ for name in ("zeros", "ones", "bilinear",
                                                                              "lstmbias", "msraprelu")}
    # MSRAPrelu is Xavier(gaussian, factor_type, magnitude = 2 / (1 + slope^2)): record its variance
    arr = nd.zeros((64, 32))
    mx.random.seed(0)
    mx.init.MSRAPrelu(slope=0.25)(mx.init.InitDesc("fc_weight"), arr)
    meta["msraprelu_std"] = float(arr.asnumpy().std())
    meta["msraprelu_expected_std"] = float(np.sqrt(2.0 / (1 + 0.25 ** 2) / ((64 + 32) / 2.0)))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.RandomState(20261206)
    for what, record in (("optimizers", record_optimizers), ("update_ops", record_ops),
                         ("initializers", record_initializers)):
        arrays, meta = {}, {}
        record(rng, arrays, meta)
        np.savez_compressed(os.path.join(OUT, what + ".npz"), **arrays)
        with open(os.path.join(OUT, what + ".json"), "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
