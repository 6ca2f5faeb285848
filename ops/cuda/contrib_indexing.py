"""CUDA kernels of ops/contrib_indexing.py.

None yet: these ops run on the GPU through `host_fallback` (the CPU kernel on host copies).
"""
KERNELS = {}

_ROWS = "row copies (GluonNLP/GluonCV helpers, not in a model's hot path): run through the host; a CUDA port is a " \
        "follow-up"
WITHOUT = {name: _ROWS for name in ("_contrib_index_copy", "_contrib_backward_index_copy", "_contrib_index_array",
                                    "_contrib_boolean_mask", "_contrib_backward_boolean_mask")}
