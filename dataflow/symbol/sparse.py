"""`mx.sym.sparse`: the Symbol front ends of the ops MXNet 1.9.1 lists as having sparse forms (MXNET_SPARSE_NAMES).

They are the ordinary `mx.sym` functions (one node per op, the same op as `mx.sym.dot`): a Symbol carries no
storage types itself; they come from the variables (`mx.sym.var(stype=...)`) and the bound arrays, through
storage-type inference when the symbol is bound (scheduler/infer_storage.py, dataflow/executor_sparse.py).
`retain` (the op `_sparse_retain`) and `adagrad_update` (`_sparse_adagrad_update`) are put here by the generated
front ends (`_sparse_*` ops route to this module); `_contrib_round_ste` / `_contrib_sign_ste` are mx.sym.contrib's.
"""
import sys as _sys

from ..ndarray.sparse.more_ops import MXNET_SPARSE_NAMES as _NAMES


def _export(symbol_module):
    """Bind the names above to `symbol_module`'s (mx.sym's) functions; called once it is populated."""
    this = _sys.modules[__name__]
    for name in _NAMES:
        if name.startswith("_contrib_"):
            setattr(this, name, getattr(symbol_module.contrib, name[len("_contrib_"):]))
        elif hasattr(symbol_module, name):      # not adagrad_update: generated here
            setattr(this, name, getattr(symbol_module, name))
    this.__all__ = sorted(_NAMES + ("retain",))
