"""CUDA kernels of the numpy-mode ops (ops/numpy_ops.py): `_np_squeeze` is the legacy squeeze's view; the others
run through the host for now (their CUDA kernels are future work: the arithmetic could take the legacy broadcast
kernels, which already convert operands to the result's dtype)."""
from ops import numpy_integer, numpy_matmul, numpy_moments, numpy_ops

from .indexing import KERNELS as _INDEXING

_WHY = ("mixed-dtype promotion and NumPy's rules on host numpy (ops/numpy_ops.py); a CUDA kernel is future work: "
        "runs through the host")

KERNELS = {"_np_squeeze": _INDEXING["squeeze"]}     # a view, as the legacy squeeze

_NAMES = (numpy_ops.FORWARD + numpy_ops.BACKWARD + numpy_matmul.FORWARD + numpy_matmul.BACKWARD
          + numpy_integer.FORWARD + numpy_moments.FORWARD + numpy_moments.BACKWARD)
WITHOUT = {name: _WHY for name in _NAMES if name not in KERNELS}
