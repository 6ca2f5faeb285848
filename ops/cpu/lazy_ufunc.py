"""`numba.vectorize` DUFuncs made on first use (issue 15, cold start).

Making a DUFunc costs ~0.5 ms (numba builds and registers a type and typing templates for it) and the first one
of a process imports numba's ufunc machinery (`numba.np.npyimpl`, ~30 ms): ~60 ms at every `import dataflow` for
the elementwise family's scalar functions, while a first model calls none of them (float arithmetic and relu run
numpy's loops). `vectorize(cache=True)` here returns a `LazyDUFunc` holding the Python function; the DUFunc is made
when a kernel first calls it or reads one of its attributes (`ufunc`, `nin`, `add`, ...). numba's on-disk cache is
keyed by the function's file, name and line, so a DUFunc made late loads the same cache entries as one made at
import. Code that wants the scalar function itself (the njit bodies, the CUDA kernels) asks `scalar_function(f)`,
which never makes the DUFunc.
"""
import threading

_lock = threading.Lock()


class LazyDUFunc:
    """A DUFunc of `py_func` made with `numba.vectorize(**options)` on first use; see the module docstring."""

    def __init__(self, py_func, options):
        self._dufunc = None
        self._options = options
        self.py_func = py_func
        self.__name__ = py_func.__name__
        self.__qualname__ = py_func.__qualname__
        self.__module__ = py_func.__module__
        self.__doc__ = py_func.__doc__

    @property
    def dufunc(self):
        """The DUFunc itself (made now if it was not yet)."""
        made = self._dufunc
        if made is None:
            with _lock:         # kernels run on the engine's worker too: one DUFunc per function
                if self._dufunc is None:
                    import numba
                    self._dufunc = numba.vectorize(**self._options)(self.py_func)
                made = self._dufunc
        return made

    def __call__(self, *args, **kwargs):
        return self.dufunc(*args, **kwargs)

    def __getattr__(self, name):
        if name.startswith("__") or name in ("_dufunc", "_options", "py_func"):
            raise AttributeError(name)      # not set yet (copy, pickle) or a protocol the DUFunc does not lend
        return getattr(self.dufunc, name)   # ufunc, nin, add, types, _dispatcher ...

    def __repr__(self):
        return "<LazyDUFunc %s%s>" % (self.__qualname__, "" if self._dufunc is None else " (made)")


def vectorize(**options):
    """A decorator as `numba.vectorize(**options)` (lazy signatures only), giving a LazyDUFunc."""
    return lambda py_func: LazyDUFunc(py_func, options)


def scalar_function(f):
    """The Python scalar function under `f`: a LazyDUFunc's or a DUFunc's; any other callable is returned as is."""
    if isinstance(f, LazyDUFunc):
        return f.py_func
    from numba.np.ufunc.dufunc import DUFunc       # imported with numba itself: no cost
    return f._dispatcher.py_func if isinstance(f, DUFunc) else f
