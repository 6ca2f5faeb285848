"""CUDA kernels of the normalisation family and its losses (ops/norm.py): LayerNorm, InstanceNorm,
L2Normalization, LRN, softmax_cross_entropy, smooth_l1."""

_FOLLOW_UP = "not yet: issue 8 follow-up (runs through the host)"

# op name -> CUDA kernel (attached by ops/cuda/__init__.py::register)
KERNELS = {}

# ops of this family still without a CUDA kernel, and why (they run through the host)
WITHOUT = {
    "LayerNorm": _FOLLOW_UP,
    "_backward_LayerNorm": _FOLLOW_UP,
    "InstanceNorm": _FOLLOW_UP,
    "_backward_InstanceNorm": _FOLLOW_UP,
    "L2Normalization": _FOLLOW_UP,
    "_backward_L2Normalization": _FOLLOW_UP,
    "LRN": _FOLLOW_UP,
    "_backward_LRN": _FOLLOW_UP,
    "softmax_cross_entropy": _FOLLOW_UP,
    "_backward_softmax_cross_entropy": _FOLLOW_UP,
    "smooth_l1": _FOLLOW_UP,
    "_backward_smooth_l1": _FOLLOW_UP,
}

# backward ops without a spec row whose kernels the simulator reaches through a forward op's gradient
TESTED_THROUGH_GRADIENTS = set()
