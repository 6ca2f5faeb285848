"""`mx.contrib`: MXNet's experimental namespaces.

`mx.contrib.nd` / `mx.contrib.ndarray` and `mx.contrib.sym` / `mx.contrib.symbol` hold the contrib operators,
as in MXNet; here they are the very modules the front end generates for op names `_contrib_X`
(`mx.nd.contrib`, `mx.sym.contrib`, see `dataflow/frontend.py`), so `mx.contrib.nd.X is mx.nd.contrib.X`.
"""
import sys
import types

from .. import ndarray as _ndarray, symbol as _symbol


def _contrib_of(front_end):
    """`front_end.contrib`, created empty when no registered op is routed there (MXNet always has one)."""
    module = getattr(front_end, "contrib", None)
    if module is None:
        module = types.ModuleType(front_end.__name__ + ".contrib")
        front_end.contrib = module
    return module


ndarray = nd = _contrib_of(_ndarray)
symbol = sym = _contrib_of(_symbol)
# importable under MXNet's paths too: `import mxnet.contrib.ndarray` is the same module
sys.modules[__name__ + ".ndarray"] = ndarray
sys.modules[__name__ + ".symbol"] = symbol

from . import autograd, io, tensorboard, text  # noqa: E402,F401  (MXNet's older contrib APIs)
from . import onnx  # noqa: E402,F401  (mx.contrib.onnx: the ONNX functions' old home)

__all__ = ["ndarray", "nd", "symbol", "sym"]
