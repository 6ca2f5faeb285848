"""`mx.library`: loading operator libraries (`.so`/`.dll` built against MXNet's C API).

dataflow has no C API for such libraries to register into, so `load` checks the path as MXNet does and then
raises an MXNetError saying that native libraries cannot be loaded; custom operators are written in Python
with `mx.operator.CustomOp` instead.
"""
import os

from .base import MXNetError


def load(path, verbose=True):
    """MXNet's checks of `path` (exists, absolute, .so/.dll), then an MXNetError: not supported."""
    if not os.path.exists(path):
        raise MXNetError("load path %s does NOT exist" % path)
    if not os.path.isabs(path):
        raise MXNetError("load path %s is not an absolute path" % path)
    if os.path.splitext(path)[1] not in (".so", ".dll"):
        raise MXNetError("load path %s is NOT a library file" % path)
    raise MXNetError("cannot load %s: dataflow runs no native operator libraries (MXNet's MXLoadLib C API); "
                     "write the operator with mx.operator.CustomOp instead" % path)
