"""CUDA kernels of batched products (batch_dot, linalg.gemm/gemm2), Deconvolution, and ordering (topk, sort,
argsort, argmax_channel)."""

_FOLLOW_UP = "not yet: issue 8 follow-up (runs through the host)"

# op name -> CUDA kernel (attached by ops/cuda/__init__.py::register)
KERNELS = {}

# ops of this family still without a CUDA kernel, and why (they run through the host)
WITHOUT = {
    "argmax_channel": _FOLLOW_UP,
    "topk": _FOLLOW_UP,
    "sort": _FOLLOW_UP,
    "argsort": _FOLLOW_UP,
    "_backward_topk": _FOLLOW_UP,
    "Deconvolution": _FOLLOW_UP,
    "_backward_Deconvolution": _FOLLOW_UP,
    "batch_dot": _FOLLOW_UP,
    "_backward_batch_dot": _FOLLOW_UP,
    "_linalg_gemm": _FOLLOW_UP,
    "_backward_linalg_gemm": _FOLLOW_UP,
    "_linalg_gemm2": _FOLLOW_UP,
    "_backward_linalg_gemm2": _FOLLOW_UP,
}

# backward ops without a spec row whose kernels the simulator reaches through a forward op's gradient
TESTED_THROUGH_GRADIENTS = set()
