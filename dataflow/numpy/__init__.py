"""`mx.np`: MXNet's NumPy interface (`from dataflow import np`): `np.ndarray` with NumPy semantics and NumPy's
functions, on dataflow's ops, engine and autograd. multiarray.py: the array; functions.py: creation, the first
ufuncs and reductions, shape functions; manipulation.py: split/stack/tile/flip/roll/pad/insert/diagonals;
elementwise.py: the other ufuncs, tests, comparisons; reductions.py: std/var/average/any/all/cumsum/diff/quantile;
contraction.py: dot/matmul/tensordot/einsum; sorting.py: sort/argsort/nonzero/unique/searchsorted; random.py:
`np.random`; linalg.py: `np.linalg`; fallback.py: the functions MXNet also runs through NumPy on the host;
extras.py: constants under MXNet's spellings, NumPy 1's aliases, printing options, memory overlap; _ufunc.py:
NumPy's ufunc keywords on the element-wise functions, with MXNet's rule; _methods.py: the array methods that
are mx.np functions (`a.cumsum()`); _internal.py: `F.np._internal`.
Dtypes and constants are NumPy's own objects, as MXNet's are."""
from numpy import (bool_, e, float16, float32, float64, inf, int8, int32, int64, nan, newaxis, pi,  # noqa: F401
                   uint8)

from . import _internal, fallback, linalg, random  # noqa: F401
from .functions import *  # noqa: F401, F403
from .functions import abs, max, min, sum  # noqa: F401 - NumPy's names shadow the builtins here, on purpose
from .manipulation import *  # noqa: F401, F403
from .elementwise import *  # noqa: F401, F403
from .elementwise import round  # noqa: F401 - NumPy's name shadows the builtin here, on purpose
from .reductions import *  # noqa: F401, F403
from .reductions import all, any  # noqa: F401 - NumPy's names shadow the builtins here, on purpose
from .contraction import *  # noqa: F401, F403
from .sorting import *  # noqa: F401, F403
from .fallback import *  # noqa: F401, F403
from .extras import *  # noqa: F401, F403
from .multiarray import ndarray  # noqa: F401

globals().update({name: getattr(fallback, name) for name in fallback.ALSO_ON_HOST})  # its other host functions


def _take_ufunc_keywords():
    from ._ufunc import BINARY, UNARY, with_ufunc_keywords
    for name in UNARY + BINARY:
        if name in globals():
            globals()[name] = with_ufunc_keywords(globals()[name], name)


_take_ufunc_keywords()
bool = bool_  # noqa: A001 - MXNet's np.bool
ndarray.__module__ = __name__       # `dataflow.numpy.ndarray`, as MXNet's reports `mxnet.numpy.ndarray`
