"""`mx.sym.sparse`: the Symbol front ends of the ops MXNet 1.9.1 lists as having sparse forms.

They are the ordinary `mx.sym` functions (one node per op, the same op as `mx.sym.dot`): a Symbol carries no
storage types itself; they come from the variables (`mx.sym.var(stype=...)`) and the bound arrays, through
storage-type inference when the symbol is bound (scheduler/infer_storage.py, dataflow/executor_sparse.py).
MXNet's `cast_storage`, `retain`, `adagrad_update` and the `_contrib_*_ste` ops are not here: they have no op
registered yet (`mx.nd.sparse` has `cast_storage` and `retain` for NDArrays).
"""
import sys as _sys

_NAMES = ("ElementWiseSum", "Embedding", "FullyConnected", "LinearRegressionOutput", "LogisticRegressionOutput",
          "MAERegressionOutput", "abs", "adam_update", "add_n", "arccos", "arccosh", "arcsin", "arcsinh", "arctan",
          "arctanh", "broadcast_add", "broadcast_div", "broadcast_minus", "broadcast_mul", "broadcast_plus",
          "broadcast_sub", "cbrt", "ceil", "clip", "concat", "cos", "cosh", "degrees", "dot", "elemwise_add",
          "elemwise_div", "elemwise_mul", "elemwise_sub", "exp", "expm1", "fix", "floor", "ftrl_update", "gamma",
          "gammaln", "log", "log10", "log1p", "log2", "make_loss", "mean", "negative", "norm", "radians", "relu",
          "rint", "round", "rsqrt", "sgd_mom_update", "sgd_update", "sigmoid", "sign", "sin", "sinh", "slice", "sqrt",
          "square", "stop_gradient", "sum", "tan", "tanh", "trunc", "where", "zeros_like")


def _export(symbol_module):
    """Bind the names above to `symbol_module`'s (mx.sym's) functions; called once it is populated."""
    this = _sys.modules[__name__]
    for name in _NAMES:
        setattr(this, name, getattr(symbol_module, name))
    this.__all__ = list(_NAMES)
