"""`mx.nd` / `mx.ndarray`: the NDArray class, array creation, and one function per registered op (generated)."""
from .. import frontend as _frontend
from . import random  # noqa: F401 - MXNet's sampling wrappers; the generated functions only fill its gaps
from .interop import from_dlpack, from_numpy, to_dlpack_for_read, to_dlpack_for_write  # noqa: F401
from .ndarray import NDArray, _invoke, waitall  # noqa: F401
from .wrappers import moveaxis, onehot_encode  # noqa: F401
from .creation import arange, array, concatenate, empty, eye, full, linspace, ones, zeros  # noqa: F401
from . import indexing  # noqa: F401 - installs x[key] and x[key] = value on NDArray
from .serialization import load, load_frombuffer, save  # noqa: F401
from . import sparse  # noqa: F401 - mx.nd.sparse: CSRNDArray, RowSparseNDArray, csr_matrix ... and the sparse ops



def CachedOp(sym, flags=()):  # noqa: N802 (MXNet's name; the class lives in dataflow/cached_op.py)
    """A Symbol compiled once per input signature, called with one NDArray per `sym.list_inputs()`."""
    from ..cached_op import CachedOp as _CachedOp
    return _CachedOp(sym, flags)


_self = __import__(__name__, fromlist=["_"])
_frontend.populate(_self, _invoke, ("out", "name"))
from . import contrib_wrappers as _contrib_wrappers  # noqa: E402 - MXNet's Python wrappers in nd.contrib (adamw)
_contrib_wrappers.attach(_self.contrib)
from .sparse.more_ops import install_front_ends as _install_sparse_front_ends  # noqa: E402 - cast_storage ...
_install_sparse_front_ends(_self)
_frontend.add_fluent_methods(NDArray, _self)
_frontend.add_binary_helpers(_self, _invoke, lambda x: isinstance(x, NDArray), broadcast=True)
from .._np_namespaces import ndarray_getattr as __getattr__  # noqa: E402,F401 - mx.nd.np/npx, on first use
