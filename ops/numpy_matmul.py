"""NumPy's matmul under MXNet's name (`_npi_matmul`) and its gradient op: matrix products over the last two axes,
the leading (batch) axes broadcast; a 1-D operand is a matrix of one row (first operand) or one column (second),
and that axis is dropped from the result, as in NumPy. A traced numpy-mode graph does not know its operands'
ranks, so the rule lives in the op and runs when the graph is bound.

As MXNet 1.9.1, both operands have one dtype, a floating one (int operands are refused by its kernel: here at
bind time, a DTypeError naming the node); operands of no dimensions are refused as in NumPy.
"""
import numpy as np

from .autodiff import apply
from .cpu.common import assign
from .elemwise import fmt, like_inputs, types_like_inputs
from .errors import DTypeError, ShapeError
from .numpy_ops import _sum_to, _work_float, one_dtype
from .registry import OpDef, register


def _as_matrices(a_shape, b_shape):
    """(a's shape as a stack of matrices, b's, the result's shape) of matmul(a, b), or a ShapeError."""
    if not a_shape or not b_shape:
        raise ShapeError("_npi_matmul: operands need at least one dimension, got %s and %s"
                         % (fmt(a_shape), fmt(b_shape)))
    a2 = (1,) + tuple(a_shape) if len(a_shape) == 1 else tuple(a_shape)
    b2 = tuple(b_shape) + (1,) if len(b_shape) == 1 else tuple(b_shape)
    if a2[-1] != b2[-2]:
        raise ShapeError("_npi_matmul: shape-mismatch for the summed axis: a %s (last axis %d) and b %s (axis %d)"
                         % (fmt(a_shape), a2[-1], fmt(b_shape), b2[-2]))
    try:
        batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    except ValueError:
        raise ShapeError("_npi_matmul: batch axes of a %s and b %s do not broadcast together"
                         % (fmt(a_shape), fmt(b_shape))) from None
    out = tuple(batch) + (() if len(a_shape) == 1 else (a2[-2],)) + (() if len(b_shape) == 1 else (b2[-1],))
    return a2, b2, out


def _matmul_shape(p, in_shapes, out_shapes):
    a, b = in_shapes
    if a is None or b is None:
        return list(in_shapes), list(out_shapes)
    return list(in_shapes), [_as_matrices(a, b)[2]]


def _matmul_type(p, in_types, out_types):
    dtype = one_dtype("_npi_matmul", in_types, out_types)
    if dtype is not None and dtype.kind != "f":
        raise DTypeError("_npi_matmul: operands of dtype %s are not supported (MXNet's matmul takes float16, "
                         "float32 and float64)" % dtype.name)
    return [dtype] * 2, [dtype]


def _matmul_kernel(ctx, p, inputs, outputs, req):
    a, b = inputs
    out = outputs[0]
    work = np.float32 if out.dtype == np.float16 else out.dtype
    product = np.matmul(a.astype(work, copy=False), b.astype(work, copy=False))
    assign(out, req[0], np.asarray(product).reshape(out.shape))


def _backward_matmul_kernel(ctx, p, inputs, outputs, req):
    dy, a, b = inputs
    a2, b2, _ = _as_matrices(a.shape, b.shape)
    work = _work_float(dy.dtype)
    fa, fb = a.astype(work, copy=False).reshape(a2), b.astype(work, copy=False).reshape(b2)
    # dy with the dropped axes back: (..., m, p)
    batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    g = dy.astype(work, copy=False).reshape(tuple(batch) + (a2[-2], b2[-1]))
    da = np.matmul(g, np.swapaxes(fb, -1, -2))
    db = np.matmul(np.swapaxes(fa, -1, -2), g)
    assign(outputs[0], req[0], _sum_to(da, a2).reshape(a.shape))
    assign(outputs[1], req[1], _sum_to(db, b2).reshape(b.shape))


register(OpDef("_npi_matmul", arguments=("a", "b"), infer_shape=_matmul_shape, infer_type=_matmul_type,
               cpu=_matmul_kernel, gradient=lambda p, ins, outs, dys: apply("_backward_npi_matmul", dys[0], *ins),
               doc="NumPy's matmul: matrix products over the last two axes, batch axes broadcast; a 1-D operand "
                   "is one row (a) or one column (b), its axis dropped from the result."))
register(OpDef("_backward_npi_matmul", arguments=("ograd", "a", "b"), outputs=("a_grad", "b_grad"),
               infer_shape=like_inputs(1, 2), infer_type=types_like_inputs(1, 2), cpu=_backward_matmul_kernel,
               doc="The gradients of _npi_matmul, each summed over its operand's broadcast axes."))

FORWARD = ("_npi_matmul",)
BACKWARD = ("_backward_npi_matmul",)
