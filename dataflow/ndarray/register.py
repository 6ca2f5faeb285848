"""MXNet's `ndarray.register`: making the NDArray function of an op.

MXNet generates Python source for each C++ op handle; dataflow builds the function from the op's registry
entry (`dataflow/frontend.py::make_function`), so a "handle" here is the OpDef or the registered op name.
"""
from ops import registry

from .. import frontend
from .ndarray import _invoke


def _make_ndarray_function(handle, name, func_name):
    """The NDArray function `func_name` of op `name` (`handle`: its OpDef, or None to look `name` up)."""
    opdef = handle if isinstance(handle, registry.OpDef) else registry.get(name)
    function = frontend.make_function(opdef, func_name, _invoke, ("out", "name"))
    function.__module__ = "dataflow.ndarray"
    return function
