"""`mx.np`: MXNet's NumPy interface (`from dataflow import np`): `np.ndarray` with NumPy semantics and NumPy's
functions, on dataflow's ops, engine and autograd (multiarray.py: the array; functions.py: the functions;
random.py: `np.random`). Dtypes and constants are NumPy's own objects, as MXNet's are."""
from numpy import (bool_, e, float16, float32, float64, inf, int8, int32, int64, nan, newaxis, pi,  # noqa: F401
                   uint8)

from . import linalg, random  # noqa: F401
from .functions import *  # noqa: F401, F403
from .functions import abs, max, min, sum  # noqa: F401 - NumPy's names shadow the builtins here, on purpose
from .multiarray import ndarray  # noqa: F401

bool = bool_  # noqa: A001 - MXNet's np.bool
ndarray.__module__ = __name__       # `dataflow.numpy.ndarray`, as MXNet's reports `mxnet.numpy.ndarray`
