"""What every njit body shares: the Body record, the table of body builders, req codes and dtype casts.

A builder `build(op, params, in_meta, out_meta, req) -> Body | None` is registered for one or more op names with
`@builds(...)`; `ops.jit.body` looks the op up here (see ops/jit/__init__.py and the contract there).
"""
import dataclasses

import numba
import numpy as np
from numba.extending import intrinsic

from ..registry import ADD, NULL

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
FLOATS = (F32, F64)             # the dtypes bodies cover; float16 and integers run interpreted (body() is None)

# Flags of every body: no Python exceptions (1 / 0 is inf, as numpy and the DUFunc kernels give), the GIL
# released. No fastmath: FMA contraction would change the last bit against the kernels.
JIT = dict(nogil=True, error_model="numpy", cache=True)

# Per-output req as an int arg: bodies with several outputs branch on it outside their loops.
R_WRITE, R_ADD, R_NULL = 0, 1, 2


@dataclasses.dataclass(frozen=True)
class Body:
    """An njit-callable step: `fn(*inputs, *outputs, *args)` (see ops/jit/__init__.py)."""
    fn: object
    name: str
    args: tuple = ()
    scalar: object = None
    scalar_name: str = None
    scalar_args: tuple = ()
    # the scalar is one of vmath's float32 polynomials: long, and compiled with FMA contraction as vmath's own loops
    # are; a fused loop gives it a pass of its own over each tile (Note [tiled fusion] in scheduler/codegen.py)
    scalar_vmath: bool = False
    # the scalar's float arithmetic where it is one known operation: "mul" (a product), "add" (a sum or difference),
    # "plain" (nothing FMA contraction could join: a square root, a quotient, a select); None where unknown. A tiled
    # fused loop runs such a step in the stage of the vmath step before it when no contraction can change its bits
    # (Note [tiled fusion] in scheduler/codegen.py)
    scalar_arithmetic: str = None
    # Note [GEMM epilogue] in scheduler/codegen.py: a GEMM step that adds a per-column bias to its output may give
    # `bias_free`, the same call without the bias input and its add, and `bias_input`, which input is the bias; the
    # compiler then adds the bias in the fused loop of the elementwise steps that follow (one pass, not two)
    bias_free: object = None
    bias_input: int = None
    # the body reads its arrays as flat runs (the elementwise loops): callers pass each input and output reshaped
    # to one dimension, so numba compiles one specialisation per dtype, not one per combination of ranks (a Plan's
    # first compile, and every later Plan with other ranks, reuses it)
    flat: bool = False


BUILDERS = {}


def builds(*op_names):
    """Register the decorated builder for op_names (canonical OpDef names)."""
    def register(build):
        for name in op_names:
            BUILDERS[name] = build
        return build
    return register


def req_code(r):
    """ops.registry's req (WRITE, INPLACE, ADD, NULL) as the int a body takes."""
    return R_ADD if r == ADD else R_NULL if r == NULL else R_WRITE


def body_of(fn, args=(), **scalar):
    """The Body calling module-level dispatcher fn."""
    return Body(fn, fn.__name__, tuple(args), **scalar)


@intrinsic
def as_dtype_of(typingctx, value, array):
    """value converted to array's dtype (C's cast), e.g. a float64 result stored into, or added to, float32."""
    def codegen(context, builder, sig, args):
        return context.cast(builder, args[0], sig.args[0], sig.return_type)
    return array.dtype(value, array), codegen


@intrinsic
def as_type_of(typingctx, value, like):
    """value converted to the type of the scalar `like` (a float param in the data's dtype)."""
    def codegen(context, builder, sig, args):
        return context.cast(builder, args[0], sig.args[0], sig.return_type)
    return like(value, like), codegen


@intrinsic
def next_index(typingctx, counter, index):
    """counter[index] += 1 as one atomic step, giving the value before: threads running one parallel loop take
    its chunks one by one from a shared int64 counter (scheduler/codegen.py, Note [two threads])."""
    if not (isinstance(counter, numba.types.Array) and counter.dtype == numba.types.int64
            and isinstance(index, numba.types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        array = context.make_array(sig.args[0])(context, builder, args[0])
        where = builder.gep(array.data, [context.cast(builder, args[1], sig.args[1], numba.types.intp)])
        return builder.atomic_rmw("add", where, context.get_constant(numba.types.int64, 1), "monotonic")
    return numba.types.int64(counter, index), codegen


@numba.njit(**JIT)
def skip(*arrays):
    """The body of a step whose outputs are all req NULL."""
    return None
