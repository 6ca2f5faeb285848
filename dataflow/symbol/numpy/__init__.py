"""`mx.sym.np`: NumPy's functions on Symbols, for `F.np.X` in a hybridized numpy-mode block, and `_Symbol`, the
Symbol with NumPy's semantics that such a block is traced with.

Every function builds a node of the registry op its mx.np counterpart runs (the names in
`dataflow/numpy/_op_names.py`); arithmetic broadcasts as NumPy's, comparisons give bool. What a graph cannot know
while it is traced is its inputs' shapes and dtypes, so where NumPy's rule depends on them the graph decides when it
runs: arithmetic of two arrays, `dot`/`tensordot`/`vdot`/`inner`/`outer`, the reductions and `squeeze` are MXNet's
numpy ops (`_npi_add`, `_np_dot`, `_np_sum` ..., ops/numpy_ops.py), whose rules promote mixed dtypes as MXNet's
numpy mode does (float32 + int32 is float32, int8 + uint8 is refused), divide integers into float32, contract as
NumPy's dot does and give shape () for a zero-dim result (a zero-dim mx.np array out of the block); `where`,
`broadcast_to` and `matmul` are built from ops that read shapes at run time (Note [broadcasting without shapes]).
An array with a number takes MXNet's dtypes, quirks included (Note [a number with an array] in `_symbol`).

What stays out of reach: `matmul` takes operands of at least two axes; indexing takes integers, slices, None and one
Ellipsis; the other binary functions (comparisons, `maximum`, `where` ...) and functions built on legacy ops take
operands of one dtype (two dtypes are a dtype error naming the node); functions built on the legacy reductions
(`average`, `trace`, `var` ... in `_math`) still give shape (1,) where NumPy gives (); the numpy ops' gradients
have no second order, and on a GPU they (but `_np_squeeze`) run through the host. `linalg` and `random` hold
`norm`, `uniform` and `normal`.

Modules: `_symbol` (the class, operators, indexing, reductions, shape functions), `_functions` (element-wise,
broadcasting, dot/matmul and the other contractions, creation), `_manipulation`, `_math`, `_einsum`, `linalg`,
`random`.
"""
from . import linalg, random
from ._einsum import *  # noqa: F401,F403
from ._manipulation import *  # noqa: F401,F403
from ._math import *  # noqa: F401,F403
from ._functions import *  # noqa: F401,F403 - the package's namespace is its modules' functions
from ._symbol import *  # noqa: F401,F403
from ._symbol import _sym, _Symbol, as_np_symbol  # noqa: F401 - for mx.sym.npx and the array side
