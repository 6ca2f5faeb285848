"""MXNet's AMP op lists (`mx.contrib.amp.lists`): which ops AMP casts to low precision or keeps in float32.

Only MXNet 1.9.1's short lists are recorded (names checked against MXNet 1.9.1's `mxnet.contrib.amp.lists`); the
long ones (FP16_FP32_FUNCS, FP32_FUNCS, WIDEST_TYPE_CASTS: hundreds of op names each) are absent, since dataflow
does not implement AMP and nothing reads them (amp.list_* raises for them).
"""
from . import symbol_bf16, symbol_fp16  # noqa: F401
