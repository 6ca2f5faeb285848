"""Record MXNet 1.9.1's model zoo for tests/test_model_zoo.py (run with the oracle's python).

    MXNET_MKLDNN_ENABLED=0 MXNET_SUBGRAPH_BACKEND=NONE /work/mxvenv/bin/python reference/model_zoo_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/model_zoo/{params.json.gz, outputs.npz, symbols.json.gz}; see the README there.
"""
import json
import os
import sys
import tempfile

import numpy as np

import mxnet as mx
from mxnet.gluon.model_zoo import vision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from param_recipe import recipe_input, set_recipe_params, sha256, write_json_gz, write_npz  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "model_zoo")

ALL = sorted(["alexnet", "densenet121", "densenet161", "densenet169", "densenet201", "inceptionv3",
              "mobilenet1.0", "mobilenet0.75", "mobilenet0.5", "mobilenet0.25", "mobilenetv2_1.0",
              "mobilenetv2_0.75", "mobilenetv2_0.5", "mobilenetv2_0.25", "resnet18_v1", "resnet34_v1",
              "resnet50_v1", "resnet101_v1", "resnet152_v1", "resnet18_v2", "resnet34_v2", "resnet50_v2",
              "resnet101_v2", "resnet152_v2", "squeezenet1.0", "squeezenet1.1", "vgg11", "vgg13", "vgg16", "vgg19",
              "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"])

# name -> (constructor kwargs, input side) for the models whose outputs are recorded
SUBSET = {"resnet18_v1": ({"classes": 10}, 32), "resnet18_v2": ({"classes": 10}, 32),
          "mobilenet0.25": ({"classes": 10}, 32), "mobilenetv2_0.25": ({"classes": 10}, 32),
          "squeezenet1.1": ({"classes": 10}, 209), "densenet121": ({"classes": 10}, 221),
          "vgg11_bn": ({"classes": 10}, 32), "alexnet": ({"classes": 10}, 63),
          "inceptionv3": ({"classes": 10}, 299)}


def standard_side(name):
    return 299 if name == "inceptionv3" else 224


def record_params():
    """Per model (default constructor): structural name, full name, declared shape, shape after inference."""
    table = {}
    for name in ALL:
        with mx.name.NameManager():
            net = vision.get_model(name)
        structural = net._collect_params_with_prefix()
        declared = {key: list(p.shape) for key, p in structural.items()}
        side = standard_side(name)
        net.infer_shape(mx.nd.zeros((1, 3, side, side)))
        table[name] = {"input": [1, 3, side, side],
                       "params": [[key, p.name, declared[key], list(p.shape)] for key, p in structural.items()]}
    return table


def record_outputs(tmp):
    arrays, symbols, hashes = {}, {}, {}
    for name, (kwargs, side) in SUBSET.items():
        with mx.name.NameManager():
            net = vision.get_model(name, **kwargs)
        net.initialize()
        net(mx.nd.zeros((1, 3, side, side)))            # finish deferred initialisation
        set_recipe_params(net)
        x = recipe_input((1, 3, side, side))
        arrays[name] = net(mx.nd.array(x)).asnumpy()
        net.save_parameters(os.path.join(tmp, "saved.params"))
        net.hybridize()
        hybrid = net(mx.nd.array(x)).asnumpy()
        assert np.allclose(hybrid, arrays[name], rtol=1e-5, atol=1e-6), name
        net.export(os.path.join(tmp, "exported"))
        with open(os.path.join(tmp, "exported-symbol.json")) as fh:
            symbols[name] = json.load(fh)
        hashes[name] = {"kwargs": kwargs, "side": side,
                        "save_parameters_sha256": sha256(os.path.join(tmp, "saved.params")),
                        "export_params_sha256": sha256(os.path.join(tmp, "exported-0000.params"))}
    return arrays, symbols, hashes


def main():
    os.makedirs(OUT, exist_ok=True)
    write_json_gz(os.path.join(OUT, "params.json.gz"), record_params())
    with tempfile.TemporaryDirectory() as tmp:
        arrays, symbols, hashes = record_outputs(tmp)
    write_npz(os.path.join(OUT, "outputs.npz"), arrays)
    write_json_gz(os.path.join(OUT, "symbols.json.gz"), {"symbols": symbols, "models": hashes})


if __name__ == "__main__":
    main()
