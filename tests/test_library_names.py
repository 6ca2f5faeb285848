"""Names libraries import from MXNet at module level that dataflow provides without the native feature behind
them: `mx.contrib.amp` (its names, signatures and short lists; AMP itself: tests/test_amp.py) and the
C handle types of `mx.base`.

Truth: MXNet 1.9.1's names, signatures and short AMP op lists recorded by reference/amp_fixtures.py
(tests/fixtures/mxnet-1.9.1/amp/, README there).
"""
import ctypes
import importlib
import inspect
import json
import os

import numpy as np
import pytest

import dataflow as mx
from dataflow import base

with open(os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "amp", "amp.json")) as _f:
    MX = json.load(_f)


def _amp():
    return importlib.import_module("dataflow.contrib.amp")


def test_amp_names_and_signatures_are_mxnets():
    amp = _amp()
    assert list(amp.amp.__all__) == MX["all"]
    for name in MX["all"]:
        assert getattr(amp, name) is getattr(amp.amp, name)         # `from .amp import *`, as in MXNet
        assert list(inspect.signature(getattr(amp, name)).parameters) == MX["signatures"][name], name


def test_amp_is_off_as_before_init():
    amp = _amp()
    for name, value in MX["state"].items():
        assert getattr(amp.amp, name) is value


# (AMP itself is tested in tests/test_amp.py; only bfloat16, which numpy lacks, is refused)
def test_amp_refuses_bfloat16():
    amp = _amp()
    with pytest.raises(base.MXNetError, match="bfloat16"):
        amp.init("bfloat16")
    assert amp.amp._amp_initialized is False


def test_amp_short_lists_are_mxnets():
    amp = _amp()
    for module, names in MX["lists"].items():
        ours = getattr(amp.lists, module)
        for name, value in names.items():
            assert json.loads(json.dumps(getattr(ours, name))) == value, (module, name)
    for name, value in MX["list_functions"]["float16"].items():
        assert json.loads(json.dumps(getattr(amp, name)("float16"))) == value, name
        assert json.loads(json.dumps(getattr(amp, name)(np.float16))) == value, name
    assert amp.list_lp16_ops(amp.amp.bfloat16) == MX["lists"]["symbol_bf16"]["BF16_FUNCS"]


def test_amp_lists_bad_dtypes_raise():
    amp = _amp()
    with pytest.raises(base.MXNetError, match="float16 or bfloat16.*float32"):
        amp.list_lp16_ops("float32")


def test_amp_imports_as_mxnet_does():
    mx.install_as_mxnet()
    amp_module = importlib.import_module("mxnet.contrib.amp.amp")
    assert amp_module is _amp().amp and amp_module._amp_initialized is False     # GluonNLP's attention cells


def test_base_handle_types_are_mxnets_void_pointers():
    ours = sorted(n for n, v in vars(base).items() if n.endswith("Handle") and v is ctypes.c_void_p)
    assert ours == MX["handles"]
