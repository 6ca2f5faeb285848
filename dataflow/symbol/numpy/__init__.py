"""`mx.sym.np`: NumPy's functions on Symbols, for `F.np.X` in a hybridized numpy-mode block, and `_Symbol`, the
Symbol with NumPy's semantics that such a block is traced with.

Every function builds a node of the registry op its mx.np counterpart runs (the names in
`dataflow/numpy/_op_names.py`); arithmetic broadcasts as NumPy's, comparisons give bool. What a graph cannot know
while it is traced is its inputs' shapes and dtypes, so where NumPy's rule depends on them the graph decides when it
runs: arithmetic and comparisons of two arrays, `dot`/`tensordot`/`vdot`/`inner`/`outer`, `matmul`, the reductions
(and var/std/average/trace/any/all built on them), `squeeze` and the bitwise functions are MXNet's numpy ops
(`_npi_add`, `_npi_equal`, `_np_dot`, `_npi_matmul`, `_np_sum`, `_npi_bitwise_not` ...: ops/numpy_ops.py,
numpy_reductions.py, numpy_matmul.py, numpy_integer.py), whose rules promote mixed dtypes as MXNet's numpy mode
does (float32 + int32 is float32, int8 + uint8 is refused), divide integers into float32, contract as NumPy's dot
and matmul do (1-D operands included), and give shape () for a zero-dim result (a zero-dim mx.np array out of the
block); `where` and `broadcast_to` are built from ops that read shapes at run time (Note [broadcasting without
shapes]). An array with a number takes MXNet's dtypes, quirks included (Note [a number with an array] in
`_symbol`).

As MXNet 1.9.1 (fixtures np_graph/), comparisons, `maximum`/`minimum`, `where`'s branches, `matmul` and the bitwise
functions take operands of one dtype: two dtypes are a DTypeError naming the node. What stays out of reach: indexing
takes integers, slices, None and one Ellipsis; var, std and average of integer data give float32 (MXNet truncates to
the integer dtype: a graph cannot name its input's dtype while it is traced); the numpy ops' gradients have no
second order, and on a GPU they (but `_np_squeeze` and `_np_reshape`) run through the host. Functions whose output
shape depends on the input's values (`unique`; `npx.nonzero`) are refused with a NotImplementedError naming them:
MXNet's graphs run them with dynamic shapes, dataflow's graphs have static ones. einsum, and in `linalg` pinv,
tensorsolve, eig and eigvals, are MXNet's numpy ops (ops/numpy_extras.py), which read the shapes when the graph is
bound, as do reshape, tile, argmax/argmin, diag/diagonal and tril/triu (ops/numpy_shapes.py: NumPy's zero lengths,
zero-dim inputs, diagonals off the matrix and 1-D triangles); `random` holds NumPy's samplers, whose parameters may
be Symbols.

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
