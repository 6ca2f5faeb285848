"""MXNet's `symbol.register`: making the Symbol function of an op.

MXNet generates Python source for each C++ op handle; dataflow builds the function from the op's registry
entry (`dataflow/frontend.py::make_function`), so a "handle" here is the OpDef or the registered op name.
"""
from ops import registry

from .. import frontend
from .symbol import create as _create


def _make_symbol_function(handle, name, func_name):
    """The Symbol function `func_name` of op `name` (`handle`: its OpDef, or None to look `name` up)."""
    opdef = handle if isinstance(handle, registry.OpDef) else registry.get(name)
    function = frontend.make_function(opdef, func_name, _create, ("name", "attr", "out"))
    function.__module__ = "dataflow.symbol"
    return function
