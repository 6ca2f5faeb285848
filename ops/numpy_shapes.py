"""Numpy-mode versions of legacy shape ops, with NumPy's shapes where the legacy ops' differ and a traced graph
(which knows neither ranks nor sizes) cannot tell them apart: `mx.sym.np` builds `_npi_tile`, `_npi_argmax`,
`_npi_argmin`, `_npi_diag`, `_npi_diagonal`, `_np_reshape`, `_npi_tril` and `_npi_triu` nodes, which decide when the
graph is bound. The legacy ops (ops/shape.py, ops/matrix.py, ops/reduce.py) keep MXNet's legacy rules.

Facts checked on MXNet 1.9.1 (numpy mode):
- tile(A, reps): a rep may be 0 (the result is empty); a negative rep is an error.
- argmax / argmin(data, axis, keepdims): int64 indices with NumPy's shapes (() when no axis is left); a zero-dim
  input takes axis 0 / -1; an empty axis (or an empty flattened input) is an error.
- diag(v, k) of a 1-D v (length 0 too) is (n + |k|) x (n + |k|); diag of a 2-D v and diagonal(a, offset, axis1,
  axis2) give an empty last axis for a diagonal off the matrices (trace there is 0).
- reshape: a 0 in the new shape is a length (reshape (1, 0) to (0,) gives (0,)).
- tril(m, k) (`_npi_tril`, param k) of a 1-D m of length n is the n x n tril of m repeated in every row (NumPy
  broadcasts it). MXNet 1.9.1 has no np.triu; `_npi_triu` is its mirror.
"""
from types import SimpleNamespace

import numpy as np

from . import registry
from .autodiff import apply
from .cpu.common import assign
from .cpu.reduce import one_axis
from .elemwise import fmt, merge
from .errors import DTypeError, ShapeError
from .registry import Bool, Int, OpDef, OptInt, Shape, Str, register


# -- tile with NumPy's zero reps --------------------------------------------------------------------------------------
def _np_tile_shape(p, in_shapes, out_shapes):
    """The legacy tile's shape, but a rep may be 0 (an empty result): in numpy mode a 0 is a length, not unknown."""
    reps = tuple(p.reps)
    if any(r < 0 for r in reps):
        raise ShapeError("_npi_tile: reps=%s: every rep must be a non-negative integer" % (reps,))
    data = in_shapes[0]
    if data is None:
        return list(in_shapes), list(out_shapes)
    ndim = max(len(data), len(reps))
    dims = (1,) * (ndim - len(data)) + tuple(data)
    full = (1,) * (ndim - len(reps)) + reps
    return [data], [merge(tuple(d * r for d, r in zip(dims, full)), out_shapes[0])]


register(OpDef("_npi_tile", params=dict(reps=Shape(doc="The number of times for repeating the tensor a.")),
               infer_shape=_np_tile_shape, cpu=registry.get("tile").cpu,
               gradient=lambda p, ins, outs, dys: [apply("_backward_tile", dys[0], ins[0], reps=p.reps)],
               doc="NumPy's tile: the whole array repeated; a rep of 0 gives an empty result."))


# -- argmax, argmin with NumPy's shapes ------------------------------------------------------------------------------
def _np_arg_shape(name):
    """NumPy's shapes: the data's without `axis` (shape () when none is left), all ones with keepdims; a zero-dim
    input takes axis 0 / -1 (or None) and gives shape ()."""
    def rule(p, in_shapes, out_shapes):
        data = in_shapes[0]
        if data is None:
            return list(in_shapes), list(out_shapes)
        if data == () and p.axis in (None, 0, -1):
            out = ()
        elif p.axis is None:
            out = (1,) * len(data) if p.keepdims else ()
        else:
            axis = one_axis(p.axis, data, name)
            out = data[:axis] + (1,) * p.keepdims + data[axis + 1:]
        return [data], [merge(out, out_shapes[0])]
    return rule


def _np_arg_type(name):
    def rule(p, in_types, out_types):
        if in_types[0] is not None and np.dtype(in_types[0]).kind == "b":
            raise DTypeError("%s: bool data is not supported" % name)
        return list(in_types), [np.dtype(np.int64)]
    return rule


def _np_arg_kernel(find):
    def kernel(ctx, p, inputs, outputs, req):
        x = inputs[0]           # NumPy's ValueError for an empty axis (or an empty flattened x) is MXNet's too
        axis = None if x.ndim == 0 else p.axis
        assign(outputs[0], req[0], np.asarray(find(x, axis=axis, keepdims=p.keepdims)).reshape(outputs[0].shape))
    return kernel


for _name, _find in (("_npi_argmax", np.argmax), ("_npi_argmin", np.argmin)):
    register(OpDef(_name, params=dict(axis=OptInt(None, "The axis to search along; None: the flattened data."),
                                      keepdims=Bool(False, "Keep the searched axis with size 1.")),
                   infer_shape=_np_arg_shape(_name), infer_type=_np_arg_type(_name), cpu=_np_arg_kernel(_find),
                   gradient=lambda p, ins, outs, dys: [None],
                   doc="NumPy's %s: int64 indices of the first extreme values along an axis." % _find.__name__))


# -- diag, diagonal with NumPy's off-matrix diagonals -----------------------------------------------------------------
def _np_diag_shape(name, offset_param):
    """NumPy's shapes: a diagonal off the matrices is empty (the legacy diag refuses one further than just past the
    corner), and a 1-D input of length n gives an (n + |k|) x (n + |k|) matrix, n = 0 too."""
    def rule(p, in_shapes, out_shapes):
        data, k = in_shapes[0], getattr(p, offset_param)
        if data is None:
            return list(in_shapes), list(out_shapes)
        if len(data) < (2 if name == "_npi_diagonal" else 1) or (name == "_npi_diag" and len(data) > 2):
            raise ShapeError("%s: an input of shape %s has no diagonal (%s)" % (
                name, fmt(data), "2 or more axes" if name == "_npi_diagonal" else "1 or 2 axes"))
        if len(data) == 1:
            n = data[0] + abs(k)
            return [data], [merge((n, n), out_shapes[0])]
        a1, a2 = (p.axis1, p.axis2) if name == "_npi_diagonal" else (0, 1)
        if not (-len(data) <= a1 < len(data) and -len(data) <= a2 < len(data)) or a1 % len(data) == a2 % len(data):
            raise ShapeError("%s: axis1=%d and axis2=%d are not two axes of shape %s" % (name, a1, a2, fmt(data)))
        a1, a2 = a1 % len(data), a2 % len(data)
        d1, d2 = data[a1], data[a2]
        length = max(0, min(d1, d2 - k) if k >= 0 else min(d1 + k, d2))
        rest = tuple(d for i, d in enumerate(data) if i not in (a1, a2))
        return [data], [merge(rest + (length,), out_shapes[0])]
    return rule


def _legacy_diag_params(p):
    """The legacy diag's parameters (its kernels take these shapes too) for `_npi_diag` / `_npi_diagonal`'s."""
    if hasattr(p, "offset"):
        return dict(k=p.offset, axis1=p.axis1, axis2=p.axis2)
    return dict(k=p.k, axis1=0, axis2=1)


def _np_diag_kernel(ctx, p, inputs, outputs, req):
    registry.get("diag").cpu(ctx, SimpleNamespace(**_legacy_diag_params(p)), inputs, outputs, req)


def _np_diag_grad(p, ins, outs, dys):
    return [apply("_backward_diag", dys[0], ins[0], **_legacy_diag_params(p))]


_K = Int(0, "Diagonal in question: k > 0 above the main diagonal, k < 0 below.")
register(OpDef("_npi_diag", params=dict(k=_K), infer_shape=_np_diag_shape("_npi_diag", "k"),
               cpu=_np_diag_kernel, gradient=_np_diag_grad,
               doc="NumPy's diag: the k-th diagonal of a 2-D input (empty off the matrix), or a matrix with the 1-D "
                   "input on its k-th diagonal."))
register(OpDef("_npi_diagonal", params=dict(offset=_K, axis1=Int(0, "The first axis of the matrices."),
                                            axis2=Int(1, "The second axis of the matrices.")),
               infer_shape=_np_diag_shape("_npi_diagonal", "offset"), cpu=_np_diag_kernel, gradient=_np_diag_grad,
               doc="NumPy's diagonal: the offset-th diagonals of the matrices in axes (axis1, axis2) as the last axis "
                   "(empty off the matrices)."))


# -- reshape: NumPy's zero lengths in an empty array -----------------------------------------------------------------
def _np_reshape_shape(p, in_shapes, out_shapes):
    """As the array side's reshape (dataflow/numpy/multiarray.py): a zero-size input reads a 0 in `newshape` as a
    length (NumPy), any other input as the legacy Reshape's "copy this axis", which legacy code traced in numpy
    mode uses; -2 .. -4 are the legacy op's codes."""
    data, newshape = in_shapes[0], tuple(p.newshape)
    if data is None or 0 not in data or any(d < -1 for d in newshape):
        legacy = SimpleNamespace(shape=newshape, reverse=False, target_shape=(), keep_highest=False)
        return registry.get("Reshape").infer_shape(legacy, in_shapes, out_shapes)
    if newshape.count(-1) > 1:
        raise ShapeError("_np_reshape: newshape=%s: only one -1 can be inferred" % (newshape,))
    if -1 in newshape:
        others = int(np.prod([d for d in newshape if d != -1]))
        if others == 0:
            raise ShapeError("_np_reshape: cannot reshape an array of shape %s into %s: the -1 is ambiguous"
                             % (fmt(data), newshape))
        newshape = tuple(0 if d == -1 else d for d in newshape)
    if 0 not in newshape:
        raise ShapeError("_np_reshape: cannot reshape an array of shape %s (size 0) into %s" % (fmt(data), newshape))
    return [data], [merge(newshape, out_shapes[0])]


register(OpDef("_np_reshape", params=dict(newshape=Shape(doc="The new shape; -1 is inferred."),
                                          order=Str("C", "Only 'C' (row-major) is supported.")),
               infer_shape=_np_reshape_shape, inplace=((0, 0),), cpu=registry.get("Reshape").cpu,
               gradient=lambda p, ins, outs, dys: [apply("reshape_like", dys[0], ins[0])],
               doc="NumPy's reshape; a 0 in newshape is a length for a zero-size input, the legacy code (copy the "
                   "axis) otherwise."))


# -- tril, triu of 1-D inputs (NumPy broadcasts them to a square) -----------------------------------------------------
def _np_triangle_shape(name):
    def rule(p, in_shapes, out_shapes):
        data = in_shapes[0]
        if data is None:
            return list(in_shapes), list(out_shapes)
        if not data:
            raise ShapeError("%s: the input needs at least one dimension, got shape ()" % name)
        return [data], [merge(data * 2 if len(data) == 1 else data, out_shapes[0])]
    return rule


def _backward_triangle_shape(p, in_shapes, out_shapes):
    return list(in_shapes), [in_shapes[1]]


def _backward_triangle_type(p, in_types, out_types):
    return list(in_types), [in_types[1] if in_types[1] is not None else in_types[0]]


for _name, _cut in (("_npi_tril", np.tril), ("_npi_triu", np.triu)):
    def _kernel(ctx, p, inputs, outputs, req, cut=_cut):
        assign(outputs[0], req[0], cut(inputs[0], p.k))

    def _backward_kernel(ctx, p, inputs, outputs, req, cut=_cut):
        """inputs (dy, data): dy's triangle; a 1-D data was repeated in every row, so the rows' sum."""
        dy, x = inputs
        kept = cut(dy, p.k)
        assign(outputs[0], req[0], kept.sum(axis=0) if x.ndim == 1 else kept)

    _K = dict(k=Int(0, "The diagonal: 0 the main one, > 0 above it, < 0 below."))
    register(OpDef(_name, params=_K, infer_shape=_np_triangle_shape(_name), cpu=_kernel,
                   gradient=lambda p, ins, outs, dys, name=_name: [apply("_backward" + name, dys[0], ins[0], k=p.k)],
                   doc="NumPy's %s: the elements %s the k-th diagonal of the last two axes zeroed; a 1-D input is "
                       "repeated in every row of a square first." % (_cut.__name__,
                                                                      "above" if _cut is np.tril else "below")))
    register(OpDef("_backward" + _name, arguments=("ograd", "data"), params=_K, infer_shape=_backward_triangle_shape,
                   infer_type=_backward_triangle_type, cpu=_backward_kernel,
                   doc="Backward of %s (internal)." % _name))


FORWARD = ("_npi_tile", "_npi_argmax", "_npi_argmin", "_npi_diag", "_npi_diagonal", "_np_reshape", "_npi_tril",
           "_npi_triu")
BACKWARD = ("_backward_npi_tril", "_backward_npi_triu")
