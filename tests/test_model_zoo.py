"""`gluon.model_zoo.vision` against MXNet 1.9.1 (tests/fixtures/mxnet-1.9.1/model_zoo/README.md says how the
fixtures were made): every model's parameter names and shapes; for nine models, the outputs from parameters
drawn by a fixed recipe, imperative, hybridized and after export -> SymbolBlock.imports, with the saved and
exported files byte for byte MXNet's (so loading them is loading MXNet's files); `pretrained` and `model_store`.
"""
import gzip
import hashlib
import json
import os

import numpy as np
import pytest

import dataflow as mx
from dataflow.gluon.model_zoo import model_store, vision
from tests.paths import FIXTURES

ZOO = os.path.join(FIXTURES, "model_zoo")


def _json_gz(name):
    with gzip.open(os.path.join(ZOO, name)) as fh:
        return json.load(fh)


PARAMS = _json_gz("params.json.gz")
SYMBOLS = _json_gz("symbols.json.gz")
OUTPUTS = np.load(os.path.join(ZOO, "outputs.npz"))


def _build(name, **kwargs):
    with mx.name.NameManager():       # top-level prefixes count from 0, as in the fixture
        return vision.get_model(name, **kwargs)


def _deterministic_value(name, shape, rng, grad_req):
    """The README's recipe (drawn per parameter in sorted-name order from RandomState(0))."""
    if name.endswith("gamma") and grad_req == "null":
        return np.ones(shape, np.float32)
    if name.endswith("running_var") or name.endswith("gamma"):
        return rng.uniform(0.5, 1.5, shape).astype(np.float32)
    if name.endswith("weight") and len(shape) > 1:
        return (rng.uniform(-1, 1, shape) * np.sqrt(3.0 / int(np.prod(shape[1:])))).astype(np.float32)
    return rng.uniform(-0.1, 0.1, shape).astype(np.float32)


def _sha256(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def test_every_mxnet_model_is_listed():
    assert sorted(vision._models) == sorted(PARAMS)


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_parameter_names_and_shapes_are_mxnets(name):
    net = _build(name)
    expected = PARAMS[name]
    structural = net._collect_params_with_prefix()
    assert [[key, p.name, list(p.shape)] for key, p in structural.items()] == \
        [[key, full, declared] for key, full, declared, _ in expected["params"]]
    net.infer_shape(mx.nd.zeros(tuple(expected["input"])))
    assert [list(p.shape) for p in structural.values()] == [inferred for *_, inferred in expected["params"]]


def _with_recipe_params(name):
    """The fixture's net, input and parameters, reached the way the fixture script did (README)."""
    info = SYMBOLS["models"][name]
    side = info["side"]
    net = _build(name, **info["kwargs"])
    net.initialize()
    net(mx.nd.zeros((1, 3, side, side)))        # deferred initialisation, as MXNet's run (it shapes the export)
    params = net.collect_params()
    rng = np.random.RandomState(0)
    for pname in sorted(params.keys()):
        params[pname].set_data(_deterministic_value(pname, params[pname].shape, rng, params[pname].grad_req))
    x = mx.nd.array(np.random.RandomState(1).uniform(-1, 1, (1, 3, side, side)).astype(np.float32))
    return net, x


SUBSET = sorted(SYMBOLS["models"])
SLOW = ("densenet121", "inceptionv3")   # 10 to 30 s each on 2 busy cores (5 forward passes at 221 / 299 pixels)


def _assert_mxnets(out, name):
    expected = OUTPUTS[name]
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in SUBSET])
def test_outputs_are_mxnets_imperative_hybridized_exported_and_loaded(name, tmp_path):
    net, x = _with_recipe_params(name)
    info = SYMBOLS["models"][name]
    _assert_mxnets(net(x), name)
    saved = str(tmp_path / "saved.params")
    net.save_parameters(saved)
    # the file is MXNet's, byte for byte, so loading it below is loading the file MXNet saved
    assert _sha256(saved) == info["save_parameters_sha256"]
    net.hybridize()
    _assert_mxnets(net(x), name)
    prefix = str(tmp_path / "exported")
    net.export(prefix)
    assert _sha256(prefix + "-0000.params") == info["export_params_sha256"]
    with open(prefix + "-symbol.json") as fh:
        assert json.load(fh) == SYMBOLS["symbols"][name]
    imported = mx.gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data"], prefix + "-0000.params")
    _assert_mxnets(imported(x), name)
    fresh = _build(name, **info["kwargs"])
    fresh.load_parameters(saved)
    _assert_mxnets(fresh(x), name)


def test_unknown_model_name_lists_the_available_ones():
    with pytest.raises(ValueError, match=r"Model resnet19_v1 is not supported\. Available options are"
                                         r"[\s\S]*resnet18_v1"):
        vision.get_model("ResNet19_v1")


def test_get_model_is_case_insensitive_and_passes_kwargs():
    net = vision.get_model("SqueezeNet1.1", classes=7)
    assert isinstance(net, vision.SqueezeNet)
    assert net.output[0].weight.shape[0] == 7


@pytest.fixture
def mxnet_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MXNET_HOME", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_pretrained_without_the_file_says_where_to_put_it(name, mxnet_home):
    file_name = "%s-%s" % (name, model_store._model_sha1[name][:8])
    with pytest.raises(FileNotFoundError) as err:
        vision.get_model(name, pretrained=True)
    message = str(err.value)
    assert os.path.join(str(mxnet_home), "models", file_name + ".params") in message
    assert "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/gluon/models/%s.zip" % file_name in message


def test_pretrained_file_with_another_sha1_is_refused(mxnet_home):
    os.makedirs(mxnet_home / "models")
    path = mxnet_home / "models" / ("squeezenet1.1-%s.params" % model_store.short_hash("squeezenet1.1"))
    path.write_bytes(b"not the published parameters")
    with pytest.raises(ValueError, match="SHA-1"):
        vision.squeezenet1_1(pretrained=True)


def test_pretrained_loads_a_file_with_the_published_sha1(tmp_path, monkeypatch):
    # MXNet's file itself is 4.8 MB; stand in one with the same layout whose SHA-1 the table is told to expect
    name = "mobilenetv2_0.25"
    net, x = _with_recipe_params(name)
    saved = str(tmp_path / "saved.params")
    net.save_parameters(saved)
    root = tmp_path / "zoo"
    os.makedirs(root)
    with open(saved, "rb") as fh:
        data = fh.read()
    sha1 = hashlib.sha1(data).hexdigest()
    monkeypatch.setitem(model_store._model_sha1, name, sha1)
    (root / ("%s-%s.params" % (name, sha1[:8]))).write_bytes(data)
    assert model_store.get_model_file(name, root=str(root)) == str(root / ("%s-%s.params" % (name, sha1[:8])))
    loaded = _build(name, pretrained=True, root=str(root), **SYMBOLS["models"][name]["kwargs"])
    _assert_mxnets(loaded(x), name)
    model_store.purge(str(root))
    assert os.listdir(root) == []


def test_model_store_unknown_name_and_default_root(mxnet_home):
    with pytest.raises(ValueError, match="Pretrained model for resnet19_v1 is not available"):
        model_store.get_model_file("resnet19_v1")
    assert model_store.data_dir() == str(mxnet_home)
