"""`mx.sym.sparse`: the Symbol front ends of the ops MXNet 1.9.1 lists as having sparse forms (MXNET_SPARSE_NAMES).

They are the ordinary `mx.sym` functions (one node per op, the same op as `mx.sym.dot`): a Symbol carries no
storage types itself; they come from the variables (`mx.sym.var(stype=...)`) and the bound arrays, through
storage-type inference when the symbol is bound (scheduler/infer_storage.py, dataflow/executor_sparse.py).
`retain` (the op `_sparse_retain`) is put here by the generated front ends (`_sparse_*` ops route to this module).
MXNet's `adagrad_update` and the `_contrib_*_ste` ops are not here: they have no op registered yet.
"""
import sys as _sys

from ..ndarray.sparse.more_ops import MXNET_SPARSE_NAMES as _NAMES


def _export(symbol_module):
    """Bind the names above to `symbol_module`'s (mx.sym's) functions; called once it is populated."""
    this = _sys.modules[__name__]
    for name in _NAMES:
        setattr(this, name, getattr(symbol_module, name))
    this.__all__ = sorted(_NAMES + ("retain",))
