"""Record MXNet 1.9.1's AdamW update ops for tests/test_adamw.py (run with the oracle's python).

    MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/adamw_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/optimizer/adamw.npz and adamw.json; see the AdamW section of the README there.
With GluonNLP 0.10.0 importable (PYTHONPATH holding it and `packaging`), it also records GluonNLP's BERTAdam,
the optimizer that calls these ops, training two parameters through a Gluon Trainer (`bertadam_*` cases).
Inputs are copied before each call: MXNet's CPU `_adamw_update` writes the rescaled, clipped gradient back into
its `grad` input, which is recorded as `grad_after`.
"""
import json
import os

import numpy as np

import mxnet as mx
from mxnet import nd

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "optimizer")
SHAPE = (2, 5)
rng = np.random.RandomState(20261207)

arrays, meta = {}, {}


def _inputs(dtype, mixed):
    weight = rng.uniform(-1, 1, SHAPE).astype(dtype)
    grad = rng.uniform(-2, 2, SHAPE).astype(dtype)
    state_dtype = np.float32 if mixed else dtype
    mean = rng.uniform(-0.5, 0.5, SHAPE).astype(state_dtype)
    var = rng.uniform(0, 0.5, SHAPE).astype(state_dtype)
    return weight, grad, mean, var


# key -> (op, weight dtype, rescale_grad, params); each call is made with out=weight, as optimizers do
CASES = {
    "plain": ("adamw_update", "float32", 1.0, {"lr": 0.01, "eta": 1.0}),
    "decay": ("adamw_update", "float32", 0.5, {"lr": 0.05, "eta": 0.5, "wd": 0.1, "beta1": 0.8, "beta2": 0.99,
                                               "epsilon": 1e-6}),
    "clip": ("adamw_update", "float32", 2.0, {"lr": 0.01, "eta": 1.0, "wd": 0.01, "clip_gradient": 0.7}),
    "float64": ("adamw_update", "float64", 0.5, {"lr": 0.01, "eta": 0.9, "wd": 0.01}),
    "float16": ("adamw_update", "float16", 1.0, {"lr": 0.01, "eta": 1.0, "wd": 0.01}),
    "mp": ("mp_adamw_update", "float16", 0.5, {"lr": 0.01, "eta": 1.0, "wd": 0.01, "clip_gradient": 1.0}),
    "skip_zero": ("adamw_update", "float32", 0.0, {"lr": 0.01, "eta": 1.0}),
    "skip_inf": ("adamw_update", "float32", float("inf"), {"lr": 0.01, "eta": 1.0}),
    "skip_nan": ("mp_adamw_update", "float16", float("nan"), {"lr": 0.01, "eta": 1.0}),
}

for key, (op, dtype, rescale, params) in CASES.items():
    mixed = op.startswith("mp_")
    weight, grad, mean, var = _inputs(dtype, mixed)
    ins = {"weight": weight, "grad": grad, "mean": mean, "var": var}
    if mixed:
        ins["weight32"] = weight.astype(np.float32)
    nds = {k: nd.array(v, dtype=v.dtype) for k, v in ins.items()}
    fn = getattr(nd.contrib, op)
    fn(*nds.values(), rescale_grad=rescale, out=nds["weight"], **params)
    for k, v in ins.items():
        arrays["%s/%s" % (key, k)] = v
        arrays["%s/%s_after" % (key, k)] = nds[k].asnumpy()
    meta[key] = {"op": op, "dtype": dtype, "rescale_grad": repr(rescale), "params": params,
                 "inputs": list(ins)}

# the same update with a fresh output (out=None): the weight is left as it is, the states are updated
weight, grad, mean, var = _inputs("float32", False)
result = nd.contrib.adamw_update(nd.array(weight), nd.array(grad), nd.array(mean), nd.array(var),
                                 rescale_grad=nd.array([0.5]), lr=0.01, eta=1.0, wd=0.1)
arrays.update({"fresh/weight": weight, "fresh/grad": grad, "fresh/mean": mean, "fresh/var": var,
               "fresh/out": result.asnumpy()})
meta["fresh"] = {"rescale_grad": "0.5 (an NDArray)", "params": {"lr": 0.01, "eta": 1.0, "wd": 0.1}}

# multi_* over two weights of different shapes, out=weights
for key, mixed in (("multi", False), ("multi_mp", True)):
    dtype = "float16" if mixed else "float32"
    groups = []
    for shape in ((3,), (2, 4)):
        w = rng.uniform(-1, 1, shape).astype(dtype)
        group = [w, rng.uniform(-2, 2, shape).astype(dtype),
                 rng.uniform(-0.5, 0.5, shape).astype(np.float32 if mixed else dtype),
                 rng.uniform(0, 0.5, shape).astype(np.float32 if mixed else dtype)]
        if mixed:
            group.append(w.astype(np.float32))
        groups.append(group)
    names = ["weight", "grad", "mean", "var", "weight32"][:len(groups[0])]
    nds = [[nd.array(a, dtype=a.dtype) for a in g] for g in groups]
    params = {"lrs": [0.01, 0.02], "wds": [0.0, 0.1], "etas": [1.0, 0.5], "beta1": 0.85, "clip_gradient": 1.5}
    lists = [[g[i] for g in nds] for i in range(len(names))]
    fn = nd.contrib.multi_mp_adamw_update if mixed else nd.contrib.multi_adamw_update
    fn(*lists, rescale_grad=0.5, out=lists[0], **params)
    for k, (group, after) in enumerate(zip(groups, nds)):
        for name, before, now in zip(names, group, after):
            arrays["%s/%d/%s" % (key, k, name)] = before
            arrays["%s/%d/%s_after" % (key, k, name)] = now.asnumpy()
    meta[key] = {"params": params, "rescale_grad": "0.5", "inputs": names, "n": len(groups)}



def _bertadam(key, dtype, aggregate):
    """Two steps of BERTAdam through gluon.Trainer on two parameters: loss = sum(p * c) with random c."""
    os.environ["MXNET_OPTIMIZER_AGGREGATION_SIZE"] = str(aggregate)     # read by BERTAdam.__init__
    import gluonnlp
    from mxnet import autograd, gluon
    params = gluon.ParameterDict()
    shapes = [(3,), (2, 4)]
    inits = [rng.uniform(-1, 1, s).astype(dtype) for s in shapes]
    ps = [params.get("p%d" % k, shape=s, dtype=dtype) for k, s in enumerate(shapes)]
    params.initialize()
    for p, init in zip(ps, inits):
        p.set_data(nd.array(init, dtype=dtype))
    kwargs = {"learning_rate": 0.01, "wd": 0.01, "multi_precision": dtype == "float16", "clip_gradient": 0.8}
    trainer = gluon.Trainer(params, gluonnlp.optimizer.BERTAdam(**kwargs))
    for k, init in enumerate(inits):
        arrays["%s/p%d/init" % (key, k)] = init
    for step in range(2):
        cs = [rng.uniform(-1, 1, s).astype(dtype) for s in shapes]
        with autograd.record():
            loss = sum((p.data() * nd.array(c, dtype=dtype)).sum() for p, c in zip(ps, cs))
        loss.backward()
        trainer.step(2)
        for k, (p, c) in enumerate(zip(ps, cs)):
            arrays["%s/p%d/c%d" % (key, k, step)] = c
            arrays["%s/p%d/w%d" % (key, k, step + 1)] = p.data().asnumpy()
    meta[key] = {"dtype": dtype, "aggregation_size": aggregate, "optimizer": kwargs, "batch_size": 2,
                 "shapes": shapes, "steps": 2}


try:
    import gluonnlp  # noqa: F401
    HAVE_GLUONNLP = True
except ImportError:
    HAVE_GLUONNLP = False
    print("gluonnlp is not importable: the bertadam_* cases are not recorded")
if HAVE_GLUONNLP:
    _bertadam("bertadam", "float32", 4)
    _bertadam("bertadam_single", "float32", 1)
    _bertadam("bertadam_mp", "float16", 4)

os.makedirs(OUT, exist_ok=True)
np.savez_compressed(os.path.join(OUT, "adamw.npz"), **arrays)
with open(os.path.join(OUT, "adamw.json"), "w") as f:
    json.dump({"mxnet": mx.__version__, "cases": meta}, f, indent=1, sort_keys=True)
print("wrote %d arrays" % len(arrays))
