"""MXNet 1.9.1's numpy-mode ops whose output shapes read their inputs' shapes in a way a traced graph cannot spell
with the legacy ops, so `mx.sym.np` / `mx.sym.npx` build them as nodes: `_npi_einsum` and `_npi_tensorsolve` (and
their gradients), `_npi_pinv` / `_npi_pinv_scalar_rcond` (with a gradient, where MXNet's is zero), `_npi_eig`,
`_npi_eigvals`, `_npi_eigh`, `_npi_eigvalsh` and `_npx_constraint_check`. The kernels are NumPy's, on the host.

Facts checked on MXNet 1.9.1:
- einsum(subscripts, *operands): NumPy's, '...' and repeated labels included, size-1 axes broadcast; operands of
  one dtype; the gradient of each operand is the einsum of the head gradient with the others, summed over the axes
  it broadcast and written onto its diagonals for repeated labels.
- tensorsolve(a, b, a_axes): a's axes `a_axes` move to the end first; x has the shape of a's last a.ndim - b.ndim
  axes (all when the ranks are equal, none when b has more), and prod(x.shape) == prod(b.shape), its square
  a.size. float32 / float64.
- pinv(A, rcond, hermitian): NumPy's, rcond an array broadcast over the batch (or a number: the _scalar_rcond op);
  float16 refused, float32 stays float32, other dtypes give float64. MXNet's gradient is zero; here it is the
  pseudo-inverse's (Golub and Pereyra), for matrices of constant rank.
- eig / eigvals: real results only: a complex eigenvalue is an error ("Complex eigvals is unsupported"); float16 is
  refused, integer inputs give float64; eigenvectors are LAPACK's (unit columns, NumPy's signs). Their gradient is
  zero (MXNet's `MakeZeroGradNodes`).
- eigh / eigvalsh(A, UPLO): the symmetric matrices A's UPLO triangle describes; dtypes as eig's. Here the
  eigenvectors are signed (largest component positive); the gradient reaches that triangle only.
- constraint_check(input, msg): input of dtype bool, any shape; the output is `True` of shape (); when an element
  is false the run raises a ValueError saying `msg`. No gradient.
"""
import string

import numpy as np

from .autodiff import apply
from .cpu.common import assign
from .cpu.decompositions import _lapack, backward_linalg_syevd, signed_columns
from .elemwise import fmt, like_inputs, types_like_inputs
from .errors import DTypeError, MXNetError, ShapeError
from .linalg import _linalg_type
from .registry import WRITE, Bool, Float, Int, OpDef, Shape, Str, register, same_dtype


# -- einsum -----------------------------------------------------------------------------------------------------------
def _spelled_out(subscripts, shapes):
    """(each operand's labels, the output's) of `subscripts` for operands of `shapes`, '...' spelled out as letters
    the subscripts do not use (right-aligned, as NumPy broadcasts them); a ShapeError naming what does not fit."""
    subscripts = subscripts.replace(" ", "")
    given, arrow, output = subscripts.partition("->")
    inputs = given.split(",")
    if len(inputs) != len(shapes):
        raise ShapeError("_npi_einsum: %d operands for the %d of subscripts %r" % (len(shapes), len(inputs),
                                                                                     subscripts))
    spare = [c for c in string.ascii_letters if c not in subscripts]
    ranks = [len(shape) - len(labels.replace("...", "")) for labels, shape in zip(inputs, shapes) if "..." in labels]
    ellipsis = "".join(spare[:max(ranks, default=0)])
    spelled = []
    for k, (labels, shape) in enumerate(zip(inputs, shapes)):
        if "..." in labels:
            rank = len(shape) - len(labels.replace("...", ""))
            labels = labels.replace("...", ellipsis[len(ellipsis) - rank:] if rank > 0 else "")
        if len(labels) != len(shape) or not all(c in string.ascii_letters for c in labels):
            raise ShapeError("_npi_einsum: operand %d of shape %s does not fit its subscripts %r in %r"
                             % (k, fmt(shape), inputs[k], subscripts))
        spelled.append(labels)
    if arrow:
        output = output.replace("...", ellipsis)
    else:           # NumPy's implicit output: the broadcast axes, then the labels used once, alphabetically
        named = given.replace(",", "").replace("...", "")
        output = ellipsis + "".join(sorted(c for c in set(named) if named.count(c) == 1))
    if len(set(output)) != len(output) or not set(output) <= set("".join(spelled)):
        raise ShapeError("_npi_einsum: invalid output subscripts in %r" % subscripts)
    return spelled, output


def _label_sizes(spelled, shapes, subscripts):
    """Each label's size: its axes' sizes agree, or are 1 (broadcast)."""
    sizes = {}
    for labels, shape in zip(spelled, shapes):
        for c, d in zip(labels, shape):
            known = sizes.get(c, 1)
            if d != 1 and known != 1 and d != known:
                raise ShapeError("_npi_einsum: label %r of %r has sizes %d and %d (operand shapes %s)"
                                 % (c, subscripts, known, d, ", ".join(fmt(s) for s in shapes)))
            sizes[c] = d if known == 1 else known
    return sizes


def _einsum_shape(p, in_shapes, out_shapes):
    if any(s is None for s in in_shapes):
        return list(in_shapes), list(out_shapes)
    spelled, output = _spelled_out(p.subscripts, in_shapes)
    sizes = _label_sizes(spelled, in_shapes, p.subscripts)
    return list(in_shapes), [tuple(sizes[c] for c in output)]


def _einsum_kernel(ctx, p, inputs, outputs, req):
    out = np.einsum(p.subscripts, *inputs, optimize=bool(p.optimize))
    assign(outputs[0], req[0], np.asarray(out).astype(outputs[0].dtype).reshape(outputs[0].shape))


def _backward_einsum_kernel(ctx, p, inputs, outputs, req):
    """d operand k = the head gradient contracted with the other operands onto k's labels; labels k alone has
    broadcast over its own sizes, axes k broadcast (size 1) summed, repeated labels written onto the diagonal."""
    dy, operands = inputs[0], inputs[1:]
    spelled, output = _spelled_out(p.subscripts, [x.shape for x in operands])
    for k, (labels, x) in enumerate(zip(spelled, operands)):
        others = [s for j, s in enumerate(spelled) if j != k]
        unique = "".join(dict.fromkeys(labels))
        kept = "".join(c for c in unique if c in output or any(c in s for s in others))
        g = np.einsum(",".join([output] + others) + "->" + kept, dy,
                      *[o for j, o in enumerate(operands) if j != k], optimize=bool(p.optimize))
        g = np.expand_dims(g, tuple(i for i, c in enumerate(unique) if c not in kept))
        own = tuple(x.shape[labels.index(c)] for c in unique)
        summed = tuple(i for i, (d, n) in enumerate(zip(own, g.shape)) if d == 1 and n != 1)
        g = np.broadcast_to(g.sum(axis=summed, keepdims=True) if summed else g, own)
        if unique != labels:
            grad = np.zeros(x.shape, outputs[k].dtype)
            np.einsum(labels + "->" + unique, grad)[...] = g      # a view of grad's diagonals
            g = grad
        assign(outputs[k], req[k], np.asarray(g).astype(outputs[k].dtype).reshape(x.shape))


def _einsum_grad(p, ins, outs, dys):
    grads = apply("_backward_npi_einsum", dys[0], *ins, subscripts=p.subscripts, num_args=p.num_args,
                  optimize=p.optimize)
    return list(grads) if isinstance(grads, (list, tuple)) else [grads]


def _backward_einsum_shape(p, in_shapes, out_shapes):
    return list(in_shapes), [in_shapes[1 + k] if in_shapes[1 + k] is not None else out_shapes[k]
                             for k in range(p.num_args)]


def _backward_einsum_type(p, in_types, out_types):
    return list(in_types), [in_types[1 + k] if in_types[1 + k] is not None else out_types[k]
                            for k in range(p.num_args)]


_EINSUM = dict(subscripts=Str("", "NumPy's einsum subscripts."), num_args=Int(doc="Number of operands."),
               optimize=Int(0, "Whether NumPy plans the contraction order (any value but 0)."))
register(OpDef("_npi_einsum", variadic="num_args", params=_EINSUM, infer_shape=_einsum_shape,
               infer_type=same_dtype, cpu=_einsum_kernel, gradient=_einsum_grad,
               doc="NumPy's einsum: Einstein summation of the operands as the subscripts say."))
register(OpDef("_backward_npi_einsum", params=_EINSUM,
               arguments=lambda p: ["out_grad"] + ["data%d" % k for k in range(p.num_args)],
               outputs=lambda p: ["data%d_grad" % k for k in range(p.num_args)],
               infer_shape=_backward_einsum_shape, infer_type=_backward_einsum_type, cpu=_backward_einsum_kernel,
               doc="The gradients of _npi_einsum, one per operand."))


# -- tensorsolve ------------------------------------------------------------------------------------------------------
def _moved_axes(ndim, a_axes):
    """The permutation that moves `a_axes` to the end, in their order (NumPy's tensorsolve `axes`)."""
    moved = [axis % ndim for axis in a_axes]
    return [axis for axis in range(ndim) if axis not in moved] + moved


def _tensorsolve_shape(p, in_shapes, out_shapes):
    """x takes a's last a.ndim - b.ndim axes (after moving `a_axes`), all of them when the ranks are equal, none
    when b has more (NumPy's slice a.shape[-(a.ndim - b.ndim):]); a holds prod(x.shape) ** 2 elements and b
    prod(x.shape)."""
    a, b = in_shapes
    if a is None or b is None:
        return list(in_shapes), list(out_shapes)
    if any(not -len(a) <= axis < len(a) for axis in p.a_axes):
        raise ShapeError("_npi_tensorsolve: a_axes %s out of range for a %s" % (tuple(p.a_axes), fmt(a)))
    moved = tuple(a[axis] for axis in _moved_axes(len(a), p.a_axes))
    x = moved[-(len(a) - len(b)):]
    if int(np.prod(x)) ** 2 != int(np.prod(a)) or int(np.prod(x)) != int(np.prod(b)):
        raise ShapeError("_npi_tensorsolve: a %s (a_axes %s) and b %s do not satisfy prod(a.shape[b.ndim:]) == "
                         "prod(a.shape[:b.ndim]) == prod(b.shape)" % (fmt(a), tuple(p.a_axes), fmt(b)))
    return list(in_shapes), [x]


def _square_system(a, b, a_axes):
    """a (axes moved) as the (N, N) matrix of the system, b as its (N,) right-hand side."""
    moved = np.transpose(a, _moved_axes(a.ndim, a_axes))
    return moved.reshape(b.size, b.size), b.reshape(-1)


def _tensorsolve_kernel(ctx, p, inputs, outputs, req):
    matrix, rhs = _square_system(inputs[0], inputs[1], p.a_axes)
    x = _lapack("_npi_tensorsolve", np.linalg.solve, matrix, rhs)
    assign(outputs[0], req[0], x.reshape(outputs[0].shape).astype(outputs[0].dtype))


def _backward_tensorsolve_kernel(ctx, p, inputs, outputs, req):
    """With A x = b: db = A^-T dx, dA = -db x^T, dA's axes moved back to a's order."""
    dx, a, b, x = inputs
    matrix, _ = _square_system(a, b, p.a_axes)
    db = _lapack("_npi_tensorsolve", np.linalg.solve, matrix.T, dx.reshape(-1))
    da_moved = -np.outer(db, x.reshape(-1))
    order = _moved_axes(a.ndim, p.a_axes)
    da = np.transpose(da_moved.reshape([a.shape[axis] for axis in order]), np.argsort(order))
    assign(outputs[0], req[0], da.astype(a.dtype))
    assign(outputs[1], req[1], db.reshape(b.shape).astype(b.dtype))


_A_AXES = {"a_axes": Shape((), "The axes of a moved to the end before solving (NumPy's tensorsolve `axes`).")}
register(OpDef("_npi_tensorsolve", arguments=("a", "b"), params=_A_AXES, infer_shape=_tensorsolve_shape,
               infer_type=_linalg_type("_npi_tensorsolve"), cpu=_tensorsolve_kernel,
               gradient=lambda p, ins, outs, dys: list(apply("_backward_npi_tensorsolve", dys[0], *ins, outs[0],
                                                             a_axes=p.a_axes)),
               doc="x with tensordot(a, x, x.ndim) == b: NumPy's linalg.tensorsolve."))
register(OpDef("_backward_npi_tensorsolve", arguments=("out_grad", "a", "b", "x"), outputs=("a_grad", "b_grad"),
               params=_A_AXES, infer_shape=like_inputs(1, 2), infer_type=types_like_inputs(1, 2),
               cpu=_backward_tensorsolve_kernel, doc="The gradients of _npi_tensorsolve."))


# -- pinv -------------------------------------------------------------------------------------------------------------
def _pinv_shape(name):
    def rule(p, in_shapes, out_shapes):
        a = in_shapes[0]
        if a is None:
            return list(in_shapes), list(out_shapes)
        if len(a) < 2:
            raise ShapeError("%s: the input must be matrices (..., M, N), got %s" % (name, fmt(a)))
        return list(in_shapes), [tuple(a[:-2]) + (a[-1], a[-2])]
    return rule


def _pinv_type(name):
    def rule(p, in_types, out_types):
        a = in_types[0]
        for t in in_types[1:]:
            if t is not None and t not in (np.float32, np.float64):
                raise DTypeError("%s: rcond must be float32 or float64, got %s" % (name, np.dtype(t)))
        if a is None:
            return list(in_types), list(out_types)
        if a == np.float16:
            raise DTypeError("%s: array type float16 is unsupported in linalg" % name)
        return list(in_types), [np.dtype(np.float32) if a == np.float32 else np.dtype(np.float64)]
    return rule


def _pinv_kernel(ctx, p, inputs, outputs, req):
    a = inputs[0].astype(outputs[0].dtype, copy=False)
    rcond = inputs[1] if len(inputs) > 1 else p.rcond
    out = _lapack("_npi_pinv", lambda m: np.linalg.pinv(m, rcond, hermitian=p.hermitian), a)
    assign(outputs[0], req[0], out.astype(outputs[0].dtype))


def _backward_pinv_kernel(ctx, p, inputs, outputs, req):
    """With X = pinv(A), P = I - A X and Q = I - X A (Golub and Pereyra, A of constant rank):
    dA = -X^T G X^T + P G^T X X^T + X^T X G^T Q for the head gradient G."""
    g, a, x = (np.asarray(v, np.float64) for v in inputs[:3])
    xt, gt = np.swapaxes(x, -1, -2), np.swapaxes(g, -1, -2)
    p_ = np.eye(a.shape[-2]) - a @ x
    q = np.eye(a.shape[-1]) - x @ a
    da = -xt @ g @ xt + p_ @ gt @ x @ xt + xt @ x @ gt @ q
    assign(outputs[0], req[0], da.astype(outputs[0].dtype))
    for k in range(1, len(outputs)):            # rcond has no gradient
        assign(outputs[k], req[k], np.zeros(outputs[k].shape, outputs[k].dtype))


def _pinv_grad(p, ins, outs, dys):
    if len(ins) == 1:
        return [apply("_backward_npi_pinv_scalar_rcond", dys[0], ins[0], outs[0], hermitian=p.hermitian)]
    return list(apply("_backward_npi_pinv", dys[0], ins[0], outs[0], ins[1], hermitian=p.hermitian))


_HERMITIAN = {"hermitian": Bool(False, "Whether the matrices are Hermitian (symmetric): NumPy's eigh path.")}
register(OpDef("_npi_pinv", arguments=("A", "rcond"), params=_HERMITIAN, infer_shape=_pinv_shape("_npi_pinv"),
               infer_type=_pinv_type("_npi_pinv"), cpu=_pinv_kernel, gradient=_pinv_grad,
               doc="The Moore-Penrose pseudo-inverse of each matrix of A, singular values up to rcond (broadcast "
                   "over the batch) times the largest counting as zero."))
register(OpDef("_npi_pinv_scalar_rcond", arguments=("A",),
               params=dict(_HERMITIAN, rcond=Float(1e-15, "Cutoff for small singular values.")),
               infer_shape=_pinv_shape("_npi_pinv_scalar_rcond"), infer_type=_pinv_type("_npi_pinv_scalar_rcond"),
               cpu=_pinv_kernel, gradient=_pinv_grad,
               doc="_npi_pinv with a number rcond."))
register(OpDef("_backward_npi_pinv", params=_HERMITIAN,
               arguments=("out_grad", "A", "output", "rcond"), outputs=("A_grad", "rcond_grad"),
               infer_shape=lambda p, ins, outs: (list(ins), [ins[1], ins[3]]),
               infer_type=lambda p, ins, outs: (list(ins), [ins[1], ins[3]]), cpu=_backward_pinv_kernel,
               doc="The gradient of _npi_pinv (rcond's is zero)."))
register(OpDef("_backward_npi_pinv_scalar_rcond", params=_HERMITIAN, arguments=("out_grad", "A", "output"),
               outputs=("A_grad",), infer_shape=like_inputs(1), infer_type=types_like_inputs(1),
               cpu=_backward_pinv_kernel, doc="The gradient of _npi_pinv_scalar_rcond."))


# -- eig, eigvals -----------------------------------------------------------------------------------------------------
def _eig_shape(name, with_vectors):
    def rule(p, in_shapes, out_shapes):
        a = in_shapes[0]
        if a is None:
            return list(in_shapes), list(out_shapes)
        if len(a) < 2 or a[-1] != a[-2]:
            raise ShapeError("%s: the input must be square matrices (..., N, N), got %s" % (name, fmt(a)))
        values = tuple(a[:-1])
        return list(in_shapes), [values, tuple(a)] if with_vectors else [values]
    return rule


def _eig_type(name, n_outputs):
    def rule(p, in_types, out_types):
        a = in_types[0]
        if a is None:
            return list(in_types), list(out_types)
        if a == np.float16:
            raise DTypeError("%s: array type float16 is unsupported in linalg" % name)
        out = np.dtype(np.float32) if a == np.float32 else np.dtype(np.float64)
        return list(in_types), [out] * n_outputs
    return rule


def _real(name, values):
    if np.iscomplexobj(values):
        if np.any(np.abs(values.imag) > 1e-15):     # MXNet's bound
            raise MXNetError("%s: complex eigenvalues are unsupported (MXNet's linalg is real only)" % name)
        values = values.real
    return values


def _eig_kernel(ctx, p, inputs, outputs, req):
    values, vectors = _lapack("_npi_eig", np.linalg.eig, inputs[0])
    assign(outputs[0], req[0], _real("_npi_eig", values).astype(outputs[0].dtype))
    assign(outputs[1], req[1], _real("_npi_eig", vectors).astype(outputs[1].dtype))


def _eigvals_kernel(ctx, p, inputs, outputs, req):
    values = _lapack("_npi_eigvals", np.linalg.eigvals, inputs[0])
    assign(outputs[0], req[0], _real("_npi_eigvals", values).astype(outputs[0].dtype))


def _zero_gradient(p, ins, outs, dys):
    return [apply("zeros_like", ins[0])]


register(OpDef("_npi_eig", arguments=("A",), outputs=("output0", "output1"), infer_shape=_eig_shape("_npi_eig", True),
               infer_type=_eig_type("_npi_eig", 2), cpu=_eig_kernel, gradient=_zero_gradient,
               doc="The eigenvalues and right eigenvectors (columns) of each square matrix of A, real only."))
register(OpDef("_npi_eigvals", arguments=("A",), infer_shape=_eig_shape("_npi_eigvals", False),
               infer_type=_eig_type("_npi_eigvals", 1), cpu=_eigvals_kernel, gradient=_zero_gradient,
               doc="The eigenvalues of each square matrix of A, real only."))


# -- eigh, eigvalsh ---------------------------------------------------------------------------------------------------
def _triangle(p, name):
    if p.UPLO not in ("L", "U"):
        raise ShapeError("%s: UPLO must be 'L' or 'U', got %r" % (name, p.UPLO))


def _eigh_shape(name, with_vectors):
    rule = _eig_shape(name, with_vectors)

    def checked(p, in_shapes, out_shapes):
        _triangle(p, name)
        return rule(p, in_shapes, out_shapes)
    return checked


def _eigh(p, a, dtype):
    """(eigenvalues ascending, eigenvectors as columns, each signed so its largest component is positive) of the
    symmetric matrices that a's `UPLO` triangle describes."""
    values, vectors = _lapack("_npi_eigh", lambda m: np.linalg.eigh(m, UPLO=p.UPLO), a.astype(dtype, copy=False))
    return values, vectors * signed_columns(vectors)


def _eigh_kernel(ctx, p, inputs, outputs, req):
    for out, r, value in zip(outputs, req, _eigh(p, inputs[0], outputs[0].dtype)):
        assign(out, r, value.astype(out.dtype))


def _eigvalsh_kernel(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], _eigh(p, inputs[0], outputs[0].dtype)[0].astype(outputs[0].dtype))


def _backward_eigh_kernel(ctx, p, inputs, outputs, req):
    """The gradient G of the symmetric matrix (ops/cpu/decompositions.py's, with eigenvectors as rows), folded onto
    the UPLO triangle the op reads: 2 G off the diagonal there, G on it, zero in the other triangle."""
    dw, dv, w, v = inputs
    g = np.empty(outputs[0].shape, outputs[0].dtype)
    backward_linalg_syevd(ctx, p, [np.swapaxes(dv, -1, -2), dw, np.swapaxes(v, -1, -2), w], [g], [WRITE])
    triangle = np.tril if p.UPLO == "L" else np.triu
    diagonal = np.eye(g.shape[-1], dtype=bool)
    assign(outputs[0], req[0], np.where(diagonal, g, 2 * triangle(g, -1 if p.UPLO == "L" else 1)))


def _eigh_grad(p, ins, outs, dys):
    dw, dv = (dy if dy is not None else apply("zeros_like", out) for dy, out in zip(dys, outs))
    return [apply("_backward_npi_eigh", dw, dv, *outs, UPLO=p.UPLO)]


def _eigvalsh_grad(p, ins, outs, dys):
    values, vectors = apply("_npi_eigh", ins[0], UPLO=p.UPLO)
    return [apply("_backward_npi_eigh", dys[0], apply("zeros_like", vectors), values, vectors, UPLO=p.UPLO)]


_UPLO = {"UPLO": Str("L", "Which triangle of the matrices is read: 'L' (lower) or 'U' (upper).")}
register(OpDef("_npi_eigh", arguments=("A",), outputs=("output0", "output1"), params=_UPLO,
               infer_shape=_eigh_shape("_npi_eigh", True), infer_type=_eig_type("_npi_eigh", 2), cpu=_eigh_kernel,
               gradient=_eigh_grad,
               doc="The eigenvalues (ascending) and eigenvectors (columns) of each symmetric matrix of A, read from "
                   "its UPLO triangle."))
register(OpDef("_npi_eigvalsh", arguments=("A",), params=_UPLO, infer_shape=_eigh_shape("_npi_eigvalsh", False),
               infer_type=_eig_type("_npi_eigvalsh", 1), cpu=_eigvalsh_kernel, gradient=_eigvalsh_grad,
               doc="The eigenvalues (ascending) of each symmetric matrix of A, read from its UPLO triangle."))
register(OpDef("_backward_npi_eigh", arguments=("w_grad", "v_grad", "w", "v"), outputs=("A_grad",), params=_UPLO,
               infer_shape=lambda p, ins, outs: (list(ins), [ins[3]]),
               infer_type=lambda p, ins, outs: (list(ins), [ins[3]]), cpu=_backward_eigh_kernel,
               doc="The gradient of _npi_eigh (symmetric)."))


# -- constraint_check -------------------------------------------------------------------------------------------------
def _constraint_type(p, in_types, out_types):
    if in_types[0] is not None and in_types[0] != np.bool_:
        raise DTypeError("_npx_constraint_check: the input must be of dtype bool, got %s" % np.dtype(in_types[0]))
    return [np.dtype(np.bool_)], [np.dtype(np.bool_)]


def _constraint_kernel(ctx, p, inputs, outputs, req):
    if not inputs[0].all():
        raise ValueError(p.msg)
    assign(outputs[0], req[0], np.ones(outputs[0].shape, np.bool_))


register(OpDef("_npx_constraint_check", arguments=("input",), params={"msg": Str("Constraint violated.",
                                                                                  "The error message.")},
               infer_shape=lambda p, in_shapes, out_shapes: (list(in_shapes), [()]), infer_type=_constraint_type,
               cpu=_constraint_kernel,
               doc="True (shape ()) when every element of the bool input is true, else a ValueError saying msg."))

FORWARD = ("_npi_einsum", "_npi_tensorsolve", "_npi_pinv", "_npi_pinv_scalar_rcond", "_npi_eig", "_npi_eigvals",
           "_npi_eigh", "_npi_eigvalsh", "_npx_constraint_check")
BACKWARD = ("_backward_npi_einsum", "_backward_npi_tensorsolve", "_backward_npi_pinv",
            "_backward_npi_pinv_scalar_rcond", "_backward_npi_eigh")
