"""`mx.sym.np`: NumPy's functions on Symbols, for `F.np.X` in a hybridized numpy-mode block, and `_Symbol`, the
Symbol with NumPy's semantics that such a block is traced with.

Every function builds a node of the registry op its mx.np counterpart runs (the names in
`dataflow/numpy/_op_names.py`); arithmetic broadcasts as NumPy's, comparisons give bool. What a graph cannot know
while it is traced is its inputs' shapes and dtypes, so where NumPy's rule depends on them it is built from ops that
decide when the graph runs (Note [broadcasting without shapes]): `where`, `broadcast_to` and `matmul` broadcast as
NumPy's. What stays out of reach: a reduction over every axis has shape (1,) in a graph where an array's has
shape () (Note [zero-dim arrays] in numpy/multiarray.py; it broadcasts the same), `dot` takes a second operand of at
most two axes and `matmul` operands of at least two, indexing takes integers, slices, None and one Ellipsis,
operands of two dtypes do not promote (float32 + int32 is a dtype error naming the node), and true division of
integers gives float64 where MXNet's gives float32 (Note [true division of integers]). `linalg` and `random` hold
`norm`, `uniform` and `normal`.

Modules: `_symbol` (the class, operators, indexing, reductions, shape functions), `_functions` (element-wise,
broadcasting, dot/matmul, creation), `linalg`, `random`.
"""
from . import linalg, random
from ._functions import *  # noqa: F401,F403 - the package's namespace is its modules' functions
from ._symbol import *  # noqa: F401,F403
from ._symbol import _sym, _Symbol, as_np_symbol  # noqa: F401 - for mx.sym.npx and the array side
