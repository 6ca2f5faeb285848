"""`mx.np.fallback_linalg`: MXNet 1.9.1's names for the `np.linalg` functions it runs through NumPy on the host
(its `mxnet/numpy/fallback_linalg.py`). They are implemented in linalg.py; this module only names them."""
from .linalg import cond, lstsq, matrix_power, matrix_rank, multi_dot, qr  # noqa: F401

__all__ = ["cond", "lstsq", "matrix_power", "matrix_rank", "multi_dot", "qr"]
