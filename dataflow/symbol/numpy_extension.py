"""`mx.sym.npx`: MXNet's npx operators on Symbols, for `F.npx.X` in a hybridized numpy-mode block. Generated from
the same table as `mx.npx` (`dataflow/numpy/_op_names.py::NPX_OPS`): each function builds a node of the registry
op with that op's params, returning a numpy-mode `_Symbol`."""
from ops import registry as _registry

from .. import frontend as _frontend
from ..numpy._op_names import NPX_OPS as _NPX_OPS
from ..numpy_extension.reshape import legacy_codes as _legacy_codes
from .numpy import _sym, _Symbol
from .symbol import create as _create


def _invoke(opdef, name, args, kwargs):
    out = _create(opdef, name, args, kwargs)
    return _Symbol(out._outputs)


def _generate():
    for npx_name, op_name in _NPX_OPS.items():
        if _registry.exists(op_name):
            globals()[npx_name] = _frontend.make_function(_registry.get(op_name), npx_name, _invoke, ("name", "attr"))


_generate()


def reshape(a, newshape, reverse=False, order="C"):
    """`npx.reshape` as a `Reshape` node: MXNet's numpy-mode special values become the legacy op's codes (all but
    -3, which needs the input's shape; see numpy_extension/reshape.py)."""
    if order != "C":
        raise NotImplementedError("npx.reshape: only order='C' is supported")
    try:
        codes = _legacy_codes(newshape, reverse)
    except ValueError as err:
        raise NotImplementedError("npx.reshape of a Symbol: %s" % err) from None
    return _sym("Reshape", a, shape=tuple(codes), reverse=bool(reverse))
