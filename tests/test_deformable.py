"""Deformable convolutions against MXNet 1.9.1 (tests/fixtures/mxnet-1.9.1/deformable/, recorded by
reference/deformable_fixtures.py): the DCNv2 op `_contrib_ModulatedDeformableConvolution` and the Gluon layers
`gluon.contrib.cnn.DeformableConvolution` / `ModulatedDeformableConvolution` loaded with parameters MXNet saved:
outputs imperative and hybridized, gradients (DCNv1; MXNet has no CPU gradient for DCNv2, whose gradients are
checked against central differences here and in the op's spec row), export and `SymbolBlock.imports`."""
import json
import os

import numpy as np
import pytest

import dataflow as mx
from dataflow import nd
from dataflow.base import MXNetError
from dataflow.gluon.contrib.cnn import DeformableConvolution, ModulatedDeformableConvolution
from tests.paths import FIXTURES

HERE = os.path.join(FIXTURES, "deformable")
ARRAYS = np.load(os.path.join(HERE, "arrays.npz"))
with open(os.path.join(HERE, "cases.json")) as _fh:
    META = json.load(_fh)
OP_CASES = sorted(k[len("op/"):] for k in META if k.startswith("op/"))
LAYER_CASES = sorted(k[len("layer/"):] for k in META if k.startswith("layer/"))
LAYERS = {"DeformableConvolution": DeformableConvolution,
          "ModulatedDeformableConvolution": ModulatedDeformableConvolution}


def _kwargs(meta):
    """cases.json keeps tuples as lists; the op wants tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in meta["kwargs"].items()}


# ---- the op -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", OP_CASES)
def test_modulated_op_matches_mxnet(case):
    meta = META["op/" + case]
    inputs = [nd.array(ARRAYS["op/%s/%s" % (case, name)]) for name in meta["arguments"]]
    out = nd.contrib.ModulatedDeformableConvolution(*inputs, **_kwargs(meta))
    np.testing.assert_allclose(out.asnumpy(), ARRAYS["op/%s/out" % case], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", OP_CASES)
def test_modulated_op_gradients_are_the_numeric_ones(case):
    # MXNet's inputs in float64; taps land past the borders and within one pixel outside ("far")
    meta = META["op/" + case]
    kwargs = _kwargs(meta)
    values = [ARRAYS["op/%s/%s" % (case, name)].astype(np.float64) for name in meta["arguments"]]
    rng = np.random.RandomState(0)
    dy = rng.uniform(-1, 1, ARRAYS["op/%s/out" % case].shape)

    def loss(vals):
        out = nd.contrib.ModulatedDeformableConvolution(*[nd.array(v, dtype="float64") for v in vals], **kwargs)
        return float((out.asnumpy() * dy).sum())

    arrays = [nd.array(v, dtype="float64") for v in values]
    for a in arrays:
        a.attach_grad()
    with mx.autograd.record():
        out = nd.contrib.ModulatedDeformableConvolution(*arrays, **kwargs)
    out.backward(nd.array(dy, dtype="float64"))
    eps = 1e-6
    for k, name in enumerate(meta["arguments"]):
        picks = rng.choice(values[k].size, min(values[k].size, 12), replace=False)
        for flat in picks:
            plus = [v.copy() for v in values]
            minus = [v.copy() for v in values]
            plus[k].flat[flat] += eps
            minus[k].flat[flat] -= eps
            numeric = (loss(plus) - loss(minus)) / (2 * eps)
            np.testing.assert_allclose(arrays[k].grad.asnumpy().flat[flat], numeric, rtol=1e-5, atol=1e-6,
                                       err_msg="%s: d/d %s[%d]" % (case, name, flat))


def test_modulated_op_with_a_unit_mask_is_deformable_convolution_away_from_the_border():
    # inside the map DCNv1 and DCNv2 sample alike; a mask of ones leaves the samples as they are
    rng = np.random.RandomState(3)
    x = rng.uniform(-1, 1, (1, 2, 6, 6)).astype(np.float32)
    offset = rng.uniform(0.05, 0.9, (1, 18, 2, 2)).astype(np.float32)      # every tap inside the 6 x 6 map
    w = rng.uniform(-1, 1, (3, 2, 3, 3)).astype(np.float32)
    kwargs = dict(kernel=(3, 3), pad=(0, 0), stride=(2, 2), num_filter=3, no_bias=True)
    v2 = nd.contrib.ModulatedDeformableConvolution(nd.array(x), nd.array(offset), nd.ones((1, 9, 2, 2)), nd.array(w),
                                                   **kwargs)
    v1 = nd.contrib.DeformableConvolution(nd.array(x), nd.array(offset), nd.array(w), **kwargs)
    np.testing.assert_allclose(v2.asnumpy(), v1.asnumpy(), rtol=1e-5, atol=1e-5)


def test_modulated_op_symbol_lists_mxnet_arguments():
    sym = mx.sym.contrib.ModulatedDeformableConvolution(mx.sym.var("data"), mx.sym.var("offset"), mx.sym.var("mask"),
                                                        kernel=(3, 3), num_filter=4, name="m")
    assert sym.list_arguments() == ["data", "offset", "mask", "m_weight", "m_bias"]     # MXNet 1.9.1's order


def test_modulated_op_bad_input_names_the_op():
    with pytest.raises(MXNetError, match="ModulatedDeformableConvolution.*4-D"):
        nd.contrib.ModulatedDeformableConvolution(nd.ones((2, 4, 5)), nd.ones((2, 18, 5, 6)), nd.ones((2, 9, 5, 6)),
                                                  nd.ones((4, 4, 3, 3)), kernel=(3, 3), num_filter=4, no_bias=True)
    with pytest.raises(MXNetError, match="mask"):
        nd.contrib.ModulatedDeformableConvolution(nd.ones((2, 4, 5, 6)), nd.ones((2, 18, 3, 4)), nd.ones((2, 8, 3, 4)),
                                                  nd.ones((4, 4, 3, 3)), kernel=(3, 3), num_filter=4, no_bias=True)


# ---- the layers ---------------------------------------------------------------------------------------------------
def _layer(case):
    meta = META["layer/" + case]
    layer = LAYERS[meta["class"]](prefix=case + "_", **_kwargs(meta))
    layer.load_parameters(os.path.join(HERE, case + ".params"))
    return layer, meta


@pytest.mark.parametrize("case", LAYER_CASES)
def test_layer_has_mxnet_parameters_and_repr(case):
    meta = META["layer/" + case]
    layer = LAYERS[meta["class"]](prefix=case + "_", **_kwargs(meta))
    params = layer._collect_params_with_prefix()
    assert sorted(params) == meta["params"]
    layer.load_parameters(os.path.join(HERE, case + ".params"))
    assert {n: list(p.shape) for n, p in layer._collect_params_with_prefix().items()} == meta["param_shapes"]
    assert repr(layer) == meta["repr"]


@pytest.mark.parametrize("hybridize", [False, True])
@pytest.mark.parametrize("case", LAYER_CASES)
def test_layer_outputs_and_gradients_match_mxnet(case, hybridize):
    layer, meta = _layer(case)
    if hybridize:
        layer.hybridize()
    x = nd.array(ARRAYS["layer/%s/x" % case])
    want = ARRAYS["layer/%s/out" % case]
    np.testing.assert_allclose(layer(x).asnumpy(), want, rtol=1e-4, atol=1e-5)
    if "layer/%s/dy" % case not in ARRAYS:
        return                                  # DCNv2: MXNet 1.9.1 has no CPU gradient to compare with
    x.attach_grad()
    with mx.autograd.record():
        out = layer(x)
    out.backward(nd.array(ARRAYS["layer/%s/dy" % case]))
    np.testing.assert_allclose(x.grad.asnumpy(), ARRAYS["layer/%s/grad_x" % case], rtol=1e-4, atol=1e-4)
    for name, param in layer._collect_params_with_prefix().items():
        np.testing.assert_allclose(param.grad().asnumpy(), ARRAYS["layer/%s/grad_%s" % (case, name)], rtol=1e-4,
                                   atol=1e-4, err_msg=name)


def _node(node):
    """A JSON node's op, name and attributes; `__shape__` as numbers: MXNet writes the deformable weight's shape
    as the list its layer gave ("[6, 0, 3, 3]"), dataflow's Parameter keeps tuples ("(6, 0, 3, 3)")."""
    attrs = dict(node.get("attrs", {}))
    if "__shape__" in attrs:
        attrs["__shape__"] = tuple(int(v) for v in attrs["__shape__"].strip("()[]").split(",") if v.strip())
    return node["op"], node["name"], attrs


@pytest.mark.parametrize("case", LAYER_CASES)
def test_layer_export_is_mxnet_graph_and_imports(case, tmp_path):
    # MXNet's history: initialised, a first (imperative) forward, then hybridized. Variables made before the
    # shapes were inferred keep 0 for the input channels in `__shape__`, in MXNet as here
    meta = META["layer/" + case]
    layer = LAYERS[meta["class"]](prefix=case + "_", **_kwargs(meta))
    layer.initialize()
    x = nd.array(ARRAYS["layer/%s/x" % case])
    layer(x)
    layer.load_parameters(os.path.join(HERE, case + ".params"))
    layer.hybridize()
    layer(x)
    layer.export(str(tmp_path / case))
    with open(tmp_path / (case + "-symbol.json")) as fh:
        ours = json.load(fh)
    with open(os.path.join(HERE, case + "-symbol.json")) as fh:
        theirs = json.load(fh)
    assert [_node(n) for n in ours["nodes"]] == [_node(n) for n in theirs["nodes"]]
    want = ARRAYS["layer/%s/out" % case]
    for prefix in (str(tmp_path / case), os.path.join(HERE, case)):       # ours, and MXNet's own export
        block = mx.gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data"], prefix + "-0000.params")
        np.testing.assert_allclose(block(x).asnumpy(), want, rtol=1e-4, atol=1e-5)


def test_untrained_layer_is_a_convolution():
    # offsets and mask logits initialise to zeros: DCNv1 is then a convolution, DCNv2 a convolution times 2 * 0.5
    rng = np.random.RandomState(5)
    x = nd.array(rng.uniform(-1, 1, (1, 3, 6, 6)))
    for cls in (DeformableConvolution, ModulatedDeformableConvolution):
        layer = cls(4, kernel_size=3, padding=1)
        layer.initialize(mx.init.Uniform(0.5))
        layer(x)
        layer.offset_weight.set_data(nd.zeros(layer.offset_weight.shape))
        layer.offset_bias.set_data(nd.zeros(layer.offset_bias.shape))
        conv = nd.Convolution(x, layer.deformable_conv_weight.data(), layer.deformable_conv_bias.data(),
                              kernel=(3, 3), pad=(1, 1), num_filter=4)
        np.testing.assert_allclose(layer(x).asnumpy(), conv.asnumpy(), rtol=1e-5, atol=1e-5)


def test_layer_bad_input_is_a_clear_error():
    layer = DeformableConvolution(4, kernel_size=3)
    layer.initialize()
    with pytest.raises(MXNetError, match="Convolution"):
        layer(nd.ones((1, 3, 6)))
    with pytest.raises(AssertionError, match="NCHW"):
        ModulatedDeformableConvolution(4, layout="NCW")


@pytest.mark.parametrize("case", ["mdcn", "mdcn_nobias"])
def test_modulated_layer_gradients_are_the_numeric_ones(case):
    # MXNet 1.9.1 has no CPU gradient for DCNv2: central differences in float64 are the truth, for the input and
    # the offset convolution's weight (whose gradient passes through the offsets and the mask's sigmoid)
    layer, _ = _layer(case)
    layer.cast("float64")
    layer.hybridize()
    x = nd.array(ARRAYS["layer/%s/x" % case], dtype="float64")
    dy = np.random.RandomState(1).uniform(-1, 1, ARRAYS["layer/%s/out" % case].shape)
    x.attach_grad()
    with mx.autograd.record():
        out = layer(x)
    out.backward(nd.array(dy, dtype="float64"))
    offset_weight = layer.offset_weight
    analytic = {"x": x.grad.asnumpy(), "offset_weight": offset_weight.grad().asnumpy()}
    base = {"x": x.asnumpy(), "offset_weight": offset_weight.data().asnumpy()}

    def loss(which, value):
        if which == "offset_weight":
            offset_weight.set_data(nd.array(value, dtype="float64"))
            result = layer(nd.array(base["x"], dtype="float64"))
            offset_weight.set_data(nd.array(base["offset_weight"], dtype="float64"))
        else:
            result = layer(nd.array(value, dtype="float64"))
        return float((result.asnumpy() * dy).sum())

    rng = np.random.RandomState(2)
    eps = 1e-6
    for which in ("x", "offset_weight"):
        for flat in rng.choice(base[which].size, 6, replace=False):
            plus, minus = base[which].copy(), base[which].copy()
            plus.flat[flat] += eps
            minus.flat[flat] -= eps
            numeric = (loss(which, plus) - loss(which, minus)) / (2 * eps)
            np.testing.assert_allclose(analytic[which].flat[flat], numeric, rtol=1e-4, atol=1e-6,
                                       err_msg="%s: d/d %s[%d]" % (case, which, flat))
