"""MXNet's `symbol.gen_linalg`: the generated `linalg` functions of the Symbol front end
(see dataflow/_generated.py)."""
from .. import symbol as _front_end
from .._generated import export_ops

__all__ = export_ops(globals(), _front_end, "linalg")
