"""The mx.np.ndarray methods that are mx.np's functions applied to the array (`a.cumsum(1)` is
`np.cumsum(a, 1)`): their results are mx.np arrays, where the legacy NDArray's fluent methods of the same names
(`repeat`, `argsort`, `round`, `swapaxes`) give legacy NDArrays. A mixin of `ndarray` (multiarray.py); the
functions are imported when called, as their modules import multiarray."""


class FunctionMethods:
    __slots__ = ()      # no instance dict: `_np` swaps NDArray's class for ndarray, which needs one layout

    def any(self, axis=None, out=None, keepdims=False):
        from .reductions import any
        return any(self, axis, out, keepdims)

    def all(self, axis=None, out=None, keepdims=False):
        from .reductions import all
        return all(self, axis, out, keepdims)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        from .reductions import var
        return var(self, axis, dtype, out, ddof, keepdims)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        from .reductions import std
        return std(self, axis, dtype, out, ddof, keepdims)

    def cumsum(self, axis=None, dtype=None, out=None):
        from .reductions import cumsum
        return cumsum(self, axis, dtype, out)

    def dot(self, b, out=None):
        from .contraction import dot
        return dot(self, b, out)

    def nonzero(self):
        from .sorting import nonzero
        return nonzero(self)

    def clip(self, min=None, max=None, out=None):  # noqa: A002 - MXNet's names
        from .functions import clip
        return clip(self, min, max, out)

    def repeat(self, repeats, axis=None):
        from .manipulation import repeat
        return repeat(self, repeats, axis)

    def argsort(self, axis=-1, kind=None, order=None):
        from .sorting import argsort
        return argsort(self, axis, kind, order)

    def round(self, decimals=0, out=None, **kwargs):
        from .elementwise import round
        return round(self, decimals, out, **kwargs)

    def swapaxes(self, axis1, axis2):
        from .manipulation import swapaxes
        return swapaxes(self, axis1, axis2)
