"""Record how MXNet 1.9.1 loads parameters of the wrong dtype and which malformed graphs it refuses, for
tests/test_loaders_hardening.py (run with the oracle's python).

    MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/loaders_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/loaders/: fc-symbol.json (a FullyConnected net, num_hidden=2, saved by MXNet),
fc_<dtype>-0000.params (its weight and bias, small integers stored as int32, float16 and float64), input.npy and
behaviour.json: per dtype, what `Module.load` + forward gives, what `SymbolBlock.imports` + call raises, and what
Gluon's `load_parameters` does with the default, `cast_dtype=True` and `dtype_source='saved'`; and under "refuses",
for each malformed variant of the graph, whether MXNet refuses it (at load or at inference) and with what.
"""
import json
import os

import numpy as np

import mxnet as mx

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "loaders")
os.makedirs(OUT, exist_ok=True)
rng = np.random.RandomState(20261206)

data = mx.sym.var("data")
net = mx.sym.FullyConnected(data, num_hidden=2, name="fc")
weight = rng.randint(-3, 4, (2, 3))
bias = rng.randint(-3, 4, (2,))
x = rng.rand(1, 3).astype(np.float32)
np.save(os.path.join(OUT, "input.npy"), x)


def _error(exc):
    return {"error": type(exc).__name__, "message": str(exc).splitlines()[0][:300]}


behaviour = {"reference_output": (x.astype(np.float64) @ weight.T + bias).tolist()}
for dtype in ("int32", "float16", "float64"):
    prefix = os.path.join(OUT, "fc_" + dtype)
    args = {"fc_weight": mx.nd.array(weight, dtype=dtype), "fc_bias": mx.nd.array(bias, dtype=dtype)}
    mx.model.save_checkpoint(prefix, 0, net, args, {})
    os.replace(prefix + "-symbol.json", os.path.join(OUT, "fc-symbol.json"))
    case = behaviour[dtype] = {}
    mod = mx.mod.Module(net, data_names=["data"], label_names=None)
    mod.bind(data_shapes=[("data", x.shape)], for_training=False)
    mod.set_params(args, {})
    mod.forward(mx.io.DataBatch([mx.nd.array(x)]))
    out = mod.get_outputs()[0]
    case["module"] = {"output": out.asnumpy().astype(np.float64).tolist(), "output_dtype": np.dtype(out.dtype).name,
                      "param_dtype": np.dtype(mod.get_params()[0]["fc_weight"].dtype).name}
    try:
        block = mx.gluon.SymbolBlock.imports(os.path.join(OUT, "fc-symbol.json"), ["data"], prefix + "-0000.params")
        case["imports_param_dtype"] = np.dtype(block.collect_params()["fc_weight"].dtype).name
        block(mx.nd.array(x)).asnumpy()
        case["imports_call"] = {"error": None}
    except mx.base.MXNetError as exc:
        case["imports_call"] = _error(exc)
    gluon_file = os.path.join(OUT, "gluon.params")
    mx.nd.save(gluon_file, {"weight": args["fc_weight"], "bias": args["fc_bias"]})
    for label, kwargs in (("default", {}), ("cast", {"cast_dtype": True}),
                          ("saved", {"cast_dtype": True, "dtype_source": "saved"})):
        dense = mx.gluon.nn.Dense(2, in_units=3)
        try:
            dense.load_parameters(gluon_file, **kwargs)
            case["gluon_" + label] = {"error": None, "dtype": np.dtype(dense.weight.data().dtype).name}
        except AssertionError as exc:
            case["gluon_" + label] = _error(exc)
    os.remove(gluon_file)

# Malformed variants of the graph: (label, node index, attribute, value). MXNet refuses each somewhere: at load
# (a param's format), or only when shapes or dtypes are inferred (the weight's __shape__/__dtype__, read because
# only the data's shape and dtype are given).
doc = json.loads(net.tojson())
refuses = {}
concat = json.loads(mx.sym.Concat(data, data, name="c").tojson())
variants = [("num_hidden_1e12", doc, 3, "num_hidden", "1000000000000"),
            ("num_hidden_2e31", doc, 3, "num_hidden", "2147483648"),
            ("num_args_1e20", concat, 1, "num_args", "99999999999999999999"),
            ("num_args_too_many", concat, 1, "num_args", "3"),
            ("shape_abc", doc, 1, "__shape__", "abc"),
            ("shape_1e309", doc, 1, "__shape__", "(1e309,)"),
            ("shape_negative", doc, 1, "__shape__", "(-2, 3)"),
            ("dtype_99", doc, 1, "__dtype__", "99"),
            ("dtype_minus_2", doc, 1, "__dtype__", "-2"),
            ("dtype_name", doc, 1, "__dtype__", "float32")]
for label, base, nid, key, value in variants:
    variant = json.loads(json.dumps(base))
    variant["nodes"][nid].setdefault("attrs", {})[key] = value
    try:
        sym = mx.sym.load_json(json.dumps(variant))
        sym.infer_shape(data=(1, 3))
        sym.infer_type(data="float32")
        refuses[label] = {"error": None}
    except Exception as exc:        # noqa: BLE001 - recording whatever MXNet raises (KeyError for __dtype__ -2)
        refuses[label] = _error(exc)
    refuses[label].update(node=nid, attr=key, value=value)
behaviour["refuses"] = refuses

with open(os.path.join(OUT, "behaviour.json"), "w") as fh:
    json.dump(behaviour, fh, indent=1, sort_keys=True)
print(json.dumps(behaviour, indent=1)[:3000])
