"""The transformer contrib ops (ops/transformer.py: div_sqrt_dim, arange_like, the interleaved self-attention
products) against MXNet 1.9.1, and GluonNLP 0.10.0's BERT built on them.

Truth: tests/fixtures/mxnet-1.9.1/transformer/ (reference/transformer_fixtures.py, README there): the ops'
outputs and gradients, and a 2-layer BERTModel's outputs and parameter gradients for fixed parameters and inputs.
Kernels against numpy references and gradients against central differences: tests/specs_transformer.py rows.
"""
import importlib
import importlib.util
import json
import os

import numpy as np
import pytest

import dataflow as mx
from ops.errors import ShapeError

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "transformer")
OPS = np.load(os.path.join(HERE, "ops.npz"))
with open(os.path.join(HERE, "ops.json")) as _f:
    OPS_META = json.load(_f)["cases"]


def _close(got, want, rtol=1e-5):
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, want.dtype, got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * max(1.0, float(np.abs(want).max())))


def test_interleaved_qk_and_its_gradient_match_mxnet():
    heads = OPS_META["interleaved"]["heads"]
    x = mx.nd.array(OPS["qk/qkv"])
    x.attach_grad()
    with mx.autograd.record():
        scores = mx.nd.contrib.interleaved_matmul_selfatt_qk(x, heads=heads)
    scores.backward(mx.nd.array(OPS["qk/dy"]))
    _close(scores.asnumpy(), OPS["qk/out"])
    _close(x.grad.asnumpy(), OPS["qk/dqkv"])


def test_interleaved_valatt_and_its_gradients_match_mxnet():
    heads = OPS_META["interleaved"]["heads"]
    x, a = mx.nd.array(OPS["valatt/qkv"]), mx.nd.array(OPS["valatt/att"])
    x.attach_grad()
    a.attach_grad()
    with mx.autograd.record():
        context = mx.nd.contrib.interleaved_matmul_selfatt_valatt(x, a, heads=heads)
    context.backward(mx.nd.array(OPS["valatt/dy"]))
    _close(context.asnumpy(), OPS["valatt/out"])
    _close(x.grad.asnumpy(), OPS["valatt/dqkv"])
    _close(a.grad.asnumpy(), OPS["valatt/datt"])


def test_div_sqrt_dim_matches_mxnet():
    data = OPS["div_sqrt_dim/data"]
    _close(mx.nd.contrib.div_sqrt_dim(mx.nd.array(data)).asnumpy(), OPS["div_sqrt_dim/out"])
    ints = mx.nd.contrib.div_sqrt_dim(mx.nd.array(data * 10, dtype="int32")).asnumpy()
    np.testing.assert_array_equal(ints, OPS["div_sqrt_dim/int32_out"])


@pytest.mark.parametrize("dtype", ["float32", "int32", "uint8", "float64"])
@pytest.mark.parametrize("case", sorted(OPS_META["arange_like"]["cases"]))
def test_arange_like_matches_mxnet(case, dtype):
    kwargs = OPS_META["arange_like"]["cases"][case]
    data = mx.nd.zeros(tuple(OPS_META["arange_like"]["data_shape"]), dtype=dtype)
    got = mx.nd.contrib.arange_like(data, **kwargs).asnumpy()
    want = OPS["arange_like/%s/%s" % (case, dtype)]
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_bad_shapes_name_the_op():
    with pytest.raises(ShapeError, match=r"interleaved_matmul_selfatt_qk.*heads=5"):
        mx.nd.contrib.interleaved_matmul_selfatt_qk(mx.nd.ones((3, 2, 12)), heads=5)
    with pytest.raises(ShapeError, match=r"interleaved_matmul_selfatt_valatt.*'attention'.*\(4, 3, 2\).*\(4, 3, 3\)"):
        mx.nd.contrib.interleaved_matmul_selfatt_valatt(mx.nd.ones((3, 2, 12)), mx.nd.ones((4, 3, 2)), heads=2)
    with pytest.raises(ShapeError, match=r"arange_like: axis=2 is out of range"):
        mx.nd.contrib.arange_like(mx.nd.ones((3, 4)), axis=2)


# ---- GluonNLP's BERT -------------------------------------------------------------------------------------------
@pytest.mark.skipif(importlib.util.find_spec("gluonnlp") is None or not os.path.exists(os.path.join(HERE, "bert.npz")),
                    reason="gluonnlp is not installed (tests/install_mxnet_libs.sh)")
def test_gluonnlp_bert_matches_mxnet():
    bert = np.load(os.path.join(HERE, "bert.npz"))
    with open(os.path.join(HERE, "bert.json")) as fh:
        meta = json.load(fh)
    mx.install_as_mxnet()
    nlp = importlib.import_module("gluonnlp")
    with mx.name.NameManager():
        encoder = nlp.model.BERTEncoder(**meta["config"])
        model = nlp.model.BERTModel(encoder, use_pooler=True, use_decoder=True, use_classifier=True, **meta["model"])
    model.initialize()
    inputs = [mx.nd.array(bert["inputs/" + k]) for k in ("ids", "types", "valid", "masked")]
    model(*inputs)
    params = model.collect_params()
    assert sorted(params.keys()) == meta["param_names"]
    for name in meta["param_names"]:
        params[name].set_data(mx.nd.array(bert["param/" + name]))
    outputs = model(*inputs)
    assert len(outputs) == meta["n_outputs"]
    for k, out in enumerate(outputs):
        _close(out.asnumpy(), bert["out/%d" % k], rtol=1e-4)
    model.hybridize()
    with mx.autograd.record():
        loss = sum(out.sum() for out in model(*inputs))
    loss.backward()
    for name in meta["param_names"]:
        _close(params[name].grad().asnumpy(), bert["grad/" + name], rtol=1e-4)
