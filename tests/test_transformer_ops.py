"""The transformer contrib ops (ops/transformer.py: div_sqrt_dim, arange_like, the interleaved self-attention and
encoder-decoder products), gelu and masked softmax against MXNet 1.9.1, and GluonNLP 0.10.0's BERT built on them.

Truth: tests/fixtures/mxnet-1.9.1/transformer/ (reference/transformer_fixtures.py, README there): the ops'
outputs and gradients, and a 2-layer BERTModel's outputs and parameter gradients for fixed parameters and inputs;
tests/fixtures/mxnet-1.9.1/contrib_nlp/ (reference/contrib_nlp_fixtures.py): the encoder-decoder products, gelu,
softmax with length, div_sqrt_dim's gradient.
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


# ---- encoder-decoder products, gelu, masked softmax (tests/fixtures/mxnet-1.9.1/contrib_nlp/) -------------------
NLP = np.load(os.path.join(os.path.dirname(HERE), "contrib_nlp", "ops.npz"))
with open(os.path.join(os.path.dirname(HERE), "contrib_nlp", "ops.json")) as _f:
    NLP_META = json.load(_f)["cases"]


def _recorded(key, fn, grad_of=None, rtol=1e-5):
    """fn on the fixture's inputs under autograd with its head gradient: output and gradients as MXNet's."""
    n = len([k for k in NLP.files if k.startswith(key + "/in")])
    xs = [mx.nd.array(NLP["%s/in%d" % (key, k)], dtype=NLP["%s/in%d" % (key, k)].dtype) for k in range(n)]
    grad_of = range(n) if grad_of is None else grad_of
    for k in grad_of:
        xs[k].attach_grad()
    with mx.autograd.record():
        out = fn(*xs)
    out.backward(mx.nd.array(NLP[key + "/dy"], dtype=NLP[key + "/dy"].dtype))
    _close(out.asnumpy(), NLP[key + "/out"], rtol)
    for k in grad_of:
        _close(xs[k].grad.asnumpy(), NLP["%s/grad%d" % (key, k)], rtol)


def test_interleaved_encdec_products_and_gradients_match_mxnet():
    heads = NLP_META["encdec"]["heads"]
    _recorded("encdec_qk", lambda q, kv: mx.nd.contrib.interleaved_matmul_encdec_qk(q, kv, heads=heads))
    _recorded("encdec_valatt", lambda kv, a: mx.nd.contrib.interleaved_matmul_encdec_valatt(kv, a, heads=heads))


def test_interleaved_encdec_in_a_hybridized_attention_cell():
    """The pair as a GluonNLP-style attention in a hybridized block: the bound graph's outputs and gradients."""
    heads = NLP_META["encdec"]["heads"]

    class Attention(mx.gluon.HybridBlock):
        def hybrid_forward(self, F, q, kv):
            scores = F.contrib.interleaved_matmul_encdec_qk(q, kv, heads=heads)
            return F.contrib.interleaved_matmul_encdec_valatt(kv, F.softmax(scores, axis=-1), heads=heads)

    q, kv = (NLP["encdec_qk/in%d" % k] for k in range(2))
    outs, grads = [], []
    for hybridize in (False, True):
        block = Attention()
        if hybridize:
            block.hybridize()
        xs = [mx.nd.array(q), mx.nd.array(kv)]
        for x in xs:
            x.attach_grad()
        with mx.autograd.record():
            out = block(*xs)
        out.backward()
        outs.append(out.asnumpy())
        grads.append([x.grad.asnumpy() for x in xs])
    # the imperative ops are checked against MXNet above; the graph must agree with them
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-6, atol=1e-7)
    for a, b in zip(grads[1], grads[0]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_interleaved_encdec_shape_errors_name_the_input():
    q = mx.nd.ones((3, 2, 4))
    with pytest.raises(ShapeError, match=r"encdec_qk.*'keys_values'.*\(5, 3, 8\).*\(5, 2, 8\)"):
        mx.nd.contrib.interleaved_matmul_encdec_qk(q, mx.nd.ones((5, 3, 8)), heads=2)
    with pytest.raises(ShapeError, match=r"encdec_qk.*'keys_values'.*\(5, 2, 12\).*\(5, 2, 8\)"):
        mx.nd.contrib.interleaved_matmul_encdec_qk(q, mx.nd.ones((5, 2, 12)), heads=2)
    with pytest.raises(ShapeError, match=r"encdec_valatt.*'attention'.*\(4, 3, 6\).*\(4, 3, 5\)"):
        mx.nd.contrib.interleaved_matmul_encdec_valatt(mx.nd.ones((5, 2, 8)), mx.nd.ones((4, 3, 6)), heads=2)
    sym = mx.sym.contrib.interleaved_matmul_encdec_qk(mx.sym.var("q"), mx.sym.var("kv"), heads=2)
    assert sym.infer_shape(q=(3, 2, 4), kv=(5, 2, 8))[1] == [(4, 3, 5)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gelu_matches_mxnet(dtype):
    # MXNet computes gelu and its gradient in float32 whatever the dtype; dataflow computes float64 in float64, so
    # float64 agrees to float32's precision only (2e-7 absolute on these values)
    _recorded("gelu/" + dtype, lambda x: mx.nd.LeakyReLU(x, act_type="gelu"), rtol=1e-6)


@pytest.mark.parametrize("case", ["last", "temperature", "axis1"])
def test_softmax_with_length_matches_mxnet(case):
    kwargs = {"last": {"axis": -1}, "temperature": {"axis": -1, "temperature": 2.0}, "axis1": {"axis": 1}}[case]
    _recorded("softmax_length/" + case, lambda x, n: mx.nd.softmax(x, n, use_length=True, **kwargs), grad_of=(0,))


def test_div_sqrt_dim_gradient_and_arange_like_with_axis_and_repeat_match_mxnet():
    _recorded("div_sqrt_dim", mx.nd.contrib.div_sqrt_dim)
    case = dict(NLP_META["arange_like"]["axis_repeat"])
    data = mx.nd.zeros(tuple(case.pop("data_shape")))
    _close(mx.nd.contrib.arange_like(data, **case).asnumpy(), NLP["arange_like/axis_repeat"])


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
