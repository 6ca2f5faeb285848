"""One check shared by tests/test_model_zoo.py and tests/test_gluoncv.py: a net carrying the recipe's parameters
(tests/param_recipe.py) gives MXNet's output imperative, hybridized, after export -> SymbolBlock.imports and after
load_parameters into a fresh net, and the files save_parameters and export write are MXNet's byte for byte (so
loading them is loading MXNet's files)."""
import json

import numpy as np

import dataflow as mx
from tests.param_recipe import sha256


def assert_output_is_mxnets(out, expected):
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def assert_model_is_mxnets(net, x, build, expected, info, symbol, tmp_path):
    """`info` holds the fixture's sha256 of the saved and exported files, `symbol` its exported graph; `build()`
    makes a fresh net of the same architecture."""
    assert_output_is_mxnets(net(x), expected)
    saved = str(tmp_path / "saved.params")
    net.save_parameters(saved)
    assert sha256(saved) == info["save_parameters_sha256"]
    net.hybridize()
    assert_output_is_mxnets(net(x), expected)
    prefix = str(tmp_path / "exported")
    net.export(prefix)
    assert sha256(prefix + "-0000.params") == info["export_params_sha256"]
    with open(prefix + "-symbol.json") as fh:
        assert json.load(fh) == symbol
    imported = mx.gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data"], prefix + "-0000.params")
    assert_output_is_mxnets(imported(x), expected)
    fresh = build()
    fresh.load_parameters(saved)
    assert_output_is_mxnets(fresh(x), expected)
