"""`gluon.model_zoo.vision` against MXNet 1.9.1 (tests/fixtures/mxnet-1.9.1/model_zoo/README.md says how the
fixtures were made): every model's parameter names and shapes; for nine models, the outputs from parameters
drawn by a fixed recipe, imperative, hybridized and after export -> SymbolBlock.imports, with the saved and
exported files byte for byte MXNet's (so loading them is loading MXNet's files); `pretrained` and `model_store`.
"""
import hashlib
import os

import numpy as np
import pytest

import dataflow as mx
from dataflow.gluon.model_zoo import model_store, vision
from tests.model_check import assert_model_is_mxnets, assert_output_is_mxnets
from tests.param_recipe import read_json_gz, recipe_input, set_recipe_params
from tests.paths import FIXTURES

ZOO = os.path.join(FIXTURES, "model_zoo")


PARAMS = read_json_gz(os.path.join(ZOO, "params.json.gz"))
SYMBOLS = read_json_gz(os.path.join(ZOO, "symbols.json.gz"))
OUTPUTS = np.load(os.path.join(ZOO, "outputs.npz"))


def _build(name, **kwargs):
    with mx.name.NameManager():       # top-level prefixes count from 0, as in the fixture
        return vision.get_model(name, **kwargs)


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
    set_recipe_params(net)
    return net, mx.nd.array(recipe_input((1, 3, side, side)))


SUBSET = sorted(SYMBOLS["models"])
SLOW = ("densenet121", "inceptionv3")   # 10 to 30 s each on 2 busy cores (5 forward passes at 221 / 299 pixels)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in SUBSET])
def test_outputs_are_mxnets_imperative_hybridized_exported_and_loaded(name, tmp_path):
    net, x = _with_recipe_params(name)
    info = SYMBOLS["models"][name]
    assert_model_is_mxnets(net, x, lambda: _build(name, **info["kwargs"]), OUTPUTS[name], info,
                           SYMBOLS["symbols"][name], tmp_path)


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
    assert_output_is_mxnets(loaded(x), OUTPUTS[name])
    model_store.purge(str(root))
    assert os.listdir(root) == []


def test_model_store_unknown_name_and_default_root(mxnet_home):
    with pytest.raises(ValueError, match="Pretrained model for resnet19_v1 is not available"):
        model_store.get_model_file("resnet19_v1")
    assert model_store.data_dir() == str(mxnet_home)
