"""`mx.numpy_dispatch_protocol`, as MXNet 1.9.1 names it: the NumPy functions (NEP 18, `__array_function__`) and
ufuncs (NEP 13, `__array_ufunc__`) that, called with mx.np arrays, run mx.np's own implementation. The dispatch
itself is numpy/_dispatch.py; here are MXNet's public names for its lists and its two test decorators.

The lists hold MXNet's names that the installed NumPy still has (NumPy 2 dropped `sometrue`, `product`, `round_`):
a name NumPy lacks cannot be called, so it cannot dispatch."""
import functools

import numpy as onp

from .numpy._dispatch import FUNCTIONS, UFUNCS, dispatched_names

_NUMPY_ARRAY_FUNCTION_LIST = dispatched_names(FUNCTIONS)
_NUMPY_ARRAY_UFUNC_LIST = dispatched_names(UFUNCS)


def _numpy_at_least(version):
    have = tuple(int(part) for part in onp.__version__.split(".")[:2])
    return have >= version


def _with_protocol(func, protocol, version):
    """`func` run only where NumPy has `protocol` (from `version` on); its failure reported as a RuntimeError."""
    @functools.wraps(func)
    def run(*args, **kwargs):
        if not _numpy_at_least(version):
            return None
        try:
            return func(*args, **kwargs)
        except Exception as e:
            raise RuntimeError("Running function %s with NumPy %s failed with exception %s"
                               % (func.__name__, protocol, e)) from e
    return run


def with_array_function_protocol(func):
    """A decorator for functions that expect the array function protocol (run with NumPy >= 1.17 only)."""
    return _with_protocol(func, "array function protocol", (1, 17))


def with_array_ufunc_protocol(func):
    """A decorator for functions that expect the array ufunc protocol (run with NumPy >= 1.15 only)."""
    return _with_protocol(func, "array ufunc protocol", (1, 15))
