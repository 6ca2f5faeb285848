"""Record MXNet 1.9.1's `mx.contrib.amp` names and short op lists, and `mx.base`'s handle types, for
tests/test_library_names.py (run with the oracle's python).

    /work/mxvenv/bin/python reference/amp_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/amp/amp.json; see the README there.
"""
import ctypes
import inspect
import json
import os

import mxnet as mx
from mxnet.contrib import amp
from mxnet.contrib.amp import lists

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "amp")


def _jsonable(value):
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


SHORT = {"symbol_fp16": ["FP16_FUNCS", "CONDITIONAL_FP32_FUNCS", "LOSS_OUTPUT_FUNCTIONS"],
         "symbol_bf16": ["BF16_FUNCS", "BF16_FP32_FUNCS", "BF16_USE_FP32_PARAMS", "CONDITIONAL_FP32_FUNCS",
                         "LOSS_OUTPUT_FUNCTIONS"]}
record = {
    "mxnet": mx.__version__,
    "all": list(amp.amp.__all__),
    "signatures": {name: list(inspect.signature(getattr(amp, name)).parameters) for name in amp.amp.__all__},
    "state": {"_amp_initialized": amp.amp._amp_initialized,
              "_amp_loss_scale_initialized": amp.amp._amp_loss_scale_initialized},
    "lists": {module: {name: _jsonable(getattr(getattr(lists, module), name)) for name in names}
              for module, names in SHORT.items()},
    "list_functions": {"float16": {f: _jsonable(getattr(amp, f)("float16"))
                                   for f in ("list_lp16_ops", "list_conditional_fp32_ops",
                                             "list_loss_output_functions", "list_lp16_use_fp32_params")}},
    "handles": sorted(name for name, value in vars(mx.base).items()
                      if name.endswith("Handle") and value is ctypes.c_void_p),
}
os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "amp.json"), "w") as f:
    json.dump(record, f, indent=1, sort_keys=True)
print("handles:", record["handles"])
