"""njit bodies of ops, for the Plan compiler (scheduler/compile.py): the JIT contract, issue 15.

`body(op, params, in_meta, out_meta, req)` gives a `Body` (ops/jit/common.py) for a step, or None when the op, its
params or dtypes have no body here (the step then runs interpreted, through the op's CPU kernel):
  op: the OpDef; params: its parsed Params; in_meta/out_meta: tuples of (shape tuple, numpy dtype);
  req: ops.registry's WRITE, INPLACE, ADD or NULL per output.
Body.fn is a module-level `numba.njit(cache=True, nogil=True)` dispatcher called `fn(*inputs, *outputs, *args)`
with C-contiguous arrays of exactly the meta's shapes and dtypes; it honours each output's req as the op's CPU
kernel does (WRITE and INPLACE overwrite, the output may be an input's buffer; ADD accumulates; NULL leaves it)
and writes the inputs the kernel writes (optimizer states). Elementwise bodies also give `scalar`, an inline
scalar function `f(*input_values, *scalar_args)` the compiler fuses into one loop.
The results equal the CPU kernel's within the dtype's rounding (tests/test_jit_bodies.py). Covered: float32 and
float64 (float16 and integers run interpreted).

Families: elemwise.py (unary, binary, broadcast and scalar ops, generated from the kernels' scalar functions),
nn.py (FullyConnected, Activation, LeakyReLU 'leaky', softmax/log_softmax over the last axis, SoftmaxOutput, the
copies, zeros_like/ones_like, add_n, sum/mean and their gradients, and those ops' backward ops), update.py (sgd,
sgd_mom, adam). Not here: ops whose result depends on training mode (Dropout, BatchNorm): `body` gets no context.
"""
import numpy as np

from . import elemwise, nn, numpy_ops, update  # noqa: F401 (they register their builders)
from .common import BUILDERS, FLOATS, Body

__all__ = ["Body", "body", "covered"]


def body(op, params, in_meta, out_meta, req):
    """The Body of one step, or None (see the module docstring)."""
    build = BUILDERS.get(op.name)
    if build is None:
        return None
    metas = list(in_meta) + list(out_meta)
    if any(np.dtype(dtype) not in FLOATS or 0 in tuple(shape) for shape, dtype in metas):
        return None
    return build(op, params, tuple(in_meta), tuple(out_meta), tuple(req))


def covered():
    """The op names that may have a body."""
    return sorted(BUILDERS)
