"""CUDA kernels of the numpy-mode ops (ops/numpy_*.py): `_np_squeeze` and `_np_reshape` are the legacy squeeze's and
Reshape's views, `_npi_concatenate` Concat's kernel; the others run through the host for now (their CUDA kernels
are future work: the arithmetic could take the legacy broadcast kernels, which already convert operands to the
result's dtype; `_npi_tile` and `_npi_diag` the legacy tile's and diag's, once checked on empty results)."""
from types import SimpleNamespace

from ops import numpy_extras, numpy_integer, numpy_matmul, numpy_moments, numpy_ops, numpy_pad, numpy_shapes
from ops import numpy_reductions

from .indexing import KERNELS as _INDEXING
from .matrix import KERNELS as _MATRIX
from .nn import KERNELS as _NN

_WHY = ("mixed-dtype promotion and NumPy's rules on host numpy (ops/numpy_ops.py); a CUDA kernel is future work: "
        "runs through the host")


def _np_concatenate(ctx, p, inputs, outputs, req):
    """Concat's kernel (which skips empty inputs) along `axis`."""
    _NN["Concat"](ctx, SimpleNamespace(dim=p.axis), inputs, outputs, req)


KERNELS = {"_np_squeeze": _INDEXING["squeeze"],     # a view, as the legacy squeeze
           "_np_reshape": _MATRIX["Reshape"],        # a view, as the legacy Reshape
           "_npi_concatenate": _np_concatenate}

_NAMES = (numpy_ops.FORWARD + numpy_ops.BACKWARD + numpy_matmul.FORWARD + numpy_matmul.BACKWARD
          + numpy_integer.FORWARD + numpy_moments.FORWARD + numpy_moments.BACKWARD + numpy_extras.FORWARD
          + numpy_extras.BACKWARD + numpy_pad.FORWARD + numpy_pad.BACKWARD + numpy_shapes.FORWARD
          + numpy_shapes.BACKWARD + numpy_reductions.FORWARD + numpy_reductions.BACKWARD)
WITHOUT = {name: _WHY for name in _NAMES if name not in KERNELS}
