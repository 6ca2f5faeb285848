"""CUDA kernels of the data-movement and indexing ops of ops/shape.py and ops/indexing.py that
ops/cuda/shape.py does not cover yet."""

_FOLLOW_UP = "not yet: issue 8 follow-up (runs through the host)"

# op name -> CUDA kernel (attached by ops/cuda/__init__.py::register)
KERNELS = {}

# ops of this family still without a CUDA kernel, and why (they run through the host)
WITHOUT = {
    "SwapAxis": _FOLLOW_UP,
    "expand_dims": _FOLLOW_UP,
    "squeeze": _FOLLOW_UP,
    "reverse": _FOLLOW_UP,
    "tile": _FOLLOW_UP,
    "_backward_tile": _FOLLOW_UP,
    "repeat": _FOLLOW_UP,
    "_backward_repeat": _FOLLOW_UP,
    "Pad": _FOLLOW_UP,
    "_backward_Pad": _FOLLOW_UP,
    "stack": _FOLLOW_UP,
    "SliceChannel": _FOLLOW_UP,
    "broadcast_like": _FOLLOW_UP,
    "depth_to_space": _FOLLOW_UP,
    "space_to_depth": _FOLLOW_UP,
    "diag": _FOLLOW_UP,
    "_backward_diag": _FOLLOW_UP,
    "_arange": _FOLLOW_UP,
    "_eye": _FOLLOW_UP,
    "UpSampling": _FOLLOW_UP,
    "_backward_UpSampling": _FOLLOW_UP,
    "slice": _FOLLOW_UP,
    "_backward_slice": _FOLLOW_UP,
    "_backward_slice_axis": _FOLLOW_UP,
    "slice_like": _FOLLOW_UP,
    "_backward_slice_like": _FOLLOW_UP,
    "_backward_take": _FOLLOW_UP,
    "pick": _FOLLOW_UP,
    "_backward_pick": _FOLLOW_UP,
    "gather_nd": _FOLLOW_UP,
    "_backward_gather_nd": _FOLLOW_UP,
    "scatter_nd": _FOLLOW_UP,
    "one_hot": _FOLLOW_UP,
    "Embedding": _FOLLOW_UP,
    "_backward_Embedding": _FOLLOW_UP,
    "_backward_clip": _FOLLOW_UP,
    "SequenceMask": _FOLLOW_UP,
    "SequenceLast": _FOLLOW_UP,
    "SequenceReverse": _FOLLOW_UP,
    "_backward_SequenceLast": _FOLLOW_UP,
}

# backward ops without a spec row whose kernels the simulator reaches through a forward op's gradient
TESTED_THROUGH_GRADIENTS = set()
