"""The rest of `mx.np`'s names: NumPy's constants under the spellings MXNet 1.9.1 keeps, the NumPy 1 aliases it
keeps (`alltrue`, `sometrue`, `product`, `in1d`), `genfromtxt`, printing options, and memory overlap.
(MXNet's financial functions `pv`, `npv`, `rate`... only raise NumPy's "removed by NEP 32" error in MXNet 1.9.1;
NumPy 2 no longer has even that, so they are left out.)"""
import numpy as onp

from ..context import current_context
from ..ndarray.ndarray import NDArray
from .fallback import isin
from .functions import _host, prod
from .reductions import all as _all, any as _any

__all__ = ["NAN", "NaN", "NINF", "PINF", "NZERO", "PZERO", "alltrue", "sometrue", "product", "in1d", "genfromtxt",
           "set_printoptions", "may_share_memory", "shares_memory"]

NAN = NaN = onp.nan
NINF, PINF = -onp.inf, onp.inf
NZERO, PZERO = -0.0, 0.0

alltrue, sometrue, product = _all, _any, prod


def in1d(ar1, ar2, assume_unique=False, invert=False):
    """Whether each element of `ar1`, flattened, is in `ar2` (NumPy 1's `in1d`: `isin` of the flattened array)."""
    return isin(ar1, ar2, assume_unique=assume_unique, invert=invert).reshape(-1)


def genfromtxt(*args, ctx=None, **kwargs):
    """NumPy's `genfromtxt`, its result an mx.np array on `ctx` (the current context by default), as MXNet's."""
    data = onp.genfromtxt(*args, **kwargs)
    return _host(data, data.dtype, ctx if ctx is not None else current_context())


def set_printoptions(precision=None, threshold=None, **kwarg):
    """How arrays print: `precision` digits, summarised above `threshold` elements (NumPy's options; MXNet takes
    these two only)."""
    if kwarg:
        raise NotImplementedError("mxnet.numpy.set_printoptions only supports parameters precision and threshold "
                                  "for now.")
    onp.set_printoptions(precision=precision, threshold=threshold)


def _storage(a, name):
    if not isinstance(a, NDArray):
        raise TypeError("%s: expected mx.np.ndarray arguments, got %s" % (name, type(a).__name__))
    return a._data


def shares_memory(a, b, max_work=None):
    """Whether arrays `a` and `b` have an element's bytes in common (views of one array, `as_nd_ndarray` of it)."""
    return bool(onp.shares_memory(_storage(a, "shares_memory"), _storage(b, "shares_memory"), max_work))


def may_share_memory(a, b, max_work=None):
    """Whether the bytes of `a` and `b` may overlap (their bounds only, unless `max_work` asks for more)."""
    return bool(onp.may_share_memory(_storage(a, "may_share_memory"), _storage(b, "may_share_memory"), max_work))
