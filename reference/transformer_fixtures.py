"""Record MXNet 1.9.1's transformer contrib ops, and a small GluonNLP BERT model on them, for
tests/test_transformer_ops.py (run with the oracle's python).

    MXNET_MKLDNN_ENABLED=0 PYTHONPATH=<site-packages with gluonnlp 0.10.0 and packaging> \
        /work/mxvenv/bin/python reference/transformer_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/transformer/{ops.npz, ops.json, bert.npz, bert.json}; see the README there.
The BERT part is skipped (and its files left as they are) when gluonnlp is not importable.
"""
import json
import os

import numpy as np

import mxnet as mx
from mxnet import autograd, nd

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "transformer")
rng = np.random.RandomState(20261208)
arrays, meta = {}, {}

# ---- the ops, forward and gradients (head gradient: random) ----
seq, batch, heads, dim = 4, 2, 3, 2
qkv = rng.uniform(-1, 1, (seq, batch, heads * 3 * dim)).astype(np.float32)
att = rng.uniform(0, 1, (batch * heads, seq, seq)).astype(np.float32)
x, a = nd.array(qkv), nd.array(att)
x.attach_grad()
a.attach_grad()
with autograd.record():
    scores = nd.contrib.interleaved_matmul_selfatt_qk(x, heads=heads)
dy = rng.uniform(-1, 1, scores.shape).astype(np.float32)
scores.backward(nd.array(dy))
arrays.update({"qk/qkv": qkv, "qk/out": scores.asnumpy(), "qk/dy": dy, "qk/dqkv": x.grad.asnumpy()})
with autograd.record():
    context = nd.contrib.interleaved_matmul_selfatt_valatt(x, a, heads=heads)
dy = rng.uniform(-1, 1, context.shape).astype(np.float32)
context.backward(nd.array(dy))
arrays.update({"valatt/qkv": qkv, "valatt/att": att, "valatt/out": context.asnumpy(), "valatt/dy": dy,
               "valatt/dqkv": x.grad.asnumpy(), "valatt/datt": a.grad.asnumpy()})
meta["interleaved"] = {"heads": heads}

data = rng.uniform(-3, 3, (2, 3, 5)).astype(np.float32)
arrays["div_sqrt_dim/data"] = data
arrays["div_sqrt_dim/out"] = nd.contrib.div_sqrt_dim(nd.array(data)).asnumpy()
arrays["div_sqrt_dim/int32_out"] = nd.contrib.div_sqrt_dim(nd.array(data * 10, dtype="int32")).asnumpy()

ARANGE = {"plain": {}, "start_step": {"start": 2.0, "step": 0.5}, "repeat": {"start": 1.0, "step": 3.0, "repeat": 2},
          "axis0": {"axis": 0}, "axis_last": {"axis": -1, "start": 5.0}}
for key, kwargs in ARANGE.items():
    for dtype in ("float32", "int32", "uint8", "float64"):
        arrays["arange_like/%s/%s" % (key, dtype)] = nd.contrib.arange_like(
            nd.zeros((3, 4), dtype=dtype), **kwargs).asnumpy()
meta["arange_like"] = {"data_shape": [3, 4], "cases": ARANGE}

with open(os.path.join(OUT, "ops.json"), "w") as f:
    json.dump({"mxnet": mx.__version__, "cases": meta}, f, indent=1, sort_keys=True)
np.savez_compressed(os.path.join(OUT, "ops.npz"), **arrays)

# ---- a small BERT (GluonNLP 0.10.0): pooled output, sequence output, decoder and classifier ----
try:
    import gluonnlp as nlp
except ImportError:
    nlp = None
    print("gluonnlp is not importable: bert.npz is not recorded")
if nlp is not None:
    config = {"num_layers": 2, "units": 16, "hidden_size": 32, "max_length": 12, "num_heads": 2, "dropout": 0.0}
    encoder = nlp.model.BERTEncoder(**config)
    model = nlp.model.BERTModel(encoder, vocab_size=30, token_type_vocab_size=2, units=16, embed_size=16,
                                use_pooler=True, use_decoder=True, use_classifier=True)
    model.initialize()
    ids = rng.randint(0, 30, (2, 7)).astype(np.float32)
    types = rng.randint(0, 2, (2, 7)).astype(np.float32)
    valid = np.array([7, 5], np.float32)
    masked = np.array([[1, 2], [0, 3]], np.float32)
    inputs = [nd.array(ids), nd.array(types), nd.array(valid), nd.array(masked)]
    model(*inputs)
    params = model.collect_params()
    bert = {"inputs/ids": ids, "inputs/types": types, "inputs/valid": valid, "inputs/masked": masked}
    for name in sorted(params.keys()):
        value = rng.uniform(-0.3, 0.3, params[name].shape).astype(np.float32)
        if name.endswith("gamma"):
            value += 1
        params[name].set_data(nd.array(value))
        bert["param/" + name] = value
    outputs = model(*inputs)
    for k, out in enumerate(outputs):
        bert["out/%d" % k] = out.asnumpy()
    model.hybridize()
    with autograd.record():
        loss = sum(out.sum() for out in model(*inputs))
    loss.backward()
    for name in sorted(params.keys()):
        bert["grad/" + name] = params[name].grad().asnumpy()
    np.savez_compressed(os.path.join(OUT, "bert.npz"), **bert)
    with open(os.path.join(OUT, "bert.json"), "w") as f:
        json.dump({"mxnet": mx.__version__, "gluonnlp": nlp.__version__, "config": config,
                   "model": {"vocab_size": 30, "token_type_vocab_size": 2, "units": 16, "embed_size": 16},
                   "param_names": sorted(params.keys()), "n_outputs": len(outputs)}, f, indent=1)
print("wrote", len(arrays), "op arrays")
