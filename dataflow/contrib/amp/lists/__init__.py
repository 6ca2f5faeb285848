"""MXNet 1.9.1's AMP op lists (`mx.contrib.amp.lists`): which ops AMP casts to low precision or keeps in float32.

All of MXNet 1.9.1's lists, with its op names (tests/test_amp.py compares them with the recorded ones); amp.init
skips the names dataflow has no op for.
"""
from . import symbol_bf16, symbol_fp16  # noqa: F401
