"""`mx.np`'s tensor contractions: dot, matmul, tensordot, einsum, outer, inner, vdot. Each is a composition of
registry ops: operands are transposed and reshaped so that one `batch_dot` (or `dot`) does the products, so
autograd records them. einsum contracts its operands left to right, one pair at a time (Note [einsum as batch_dot]).

Integer operands are contracted in float64 and cast back (the registry's products take floats only; exact below
2**53), keeping MXNet's dtype (`einsum` of int32 is int32, tests/fixtures/mxnet-1.9.1/numpy_func/). Operands whose
shapes do not match raise a ShapeError: an MXNetError, as MXNet's, and a ValueError, as NumPy's."""
import string

import numpy as onp

from ops.errors import ShapeError

from ..autograd.state import is_recording
from .functions import _array, _host, broadcast_to, multiply, sum
from .manipulation import diagonal
from .multiarray import _axes, _np, _op, broadcast_shape, promote_types, reshape_to

__all__ = ["dot", "matmul", "tensordot", "einsum", "outer", "inner", "vdot"]


def _size(dims):
    return int(onp.prod(dims, dtype=onp.int64))


def _permuted(x, order):
    order = list(order)
    return x if order == list(range(x.ndim)) else x.transpose(order)


def _batched_product(a, b, batch, rows, inner, cols):
    """a (batch..., rows..., inner...) times b (batch..., inner..., cols...): (batch..., rows..., cols...), each
    group of axes given by its sizes."""
    shape = tuple(batch) + tuple(rows) + tuple(cols)
    dtype = promote_types(a.dtype, b.dtype)
    if 0 in shape or 0 in inner:
        return _empty_product(a, b, shape, dtype)
    work = dtype if dtype.kind == "f" else onp.dtype(onp.float64)
    a3 = reshape_to(a.astype(work, copy=False), (_size(batch), _size(rows), _size(inner)))
    b3 = reshape_to(b.astype(work, copy=False), (_size(batch), _size(inner), _size(cols)))
    product = _np(_op("batch_dot", a3, b3))
    return reshape_to(product, shape).astype(dtype, copy=False)


def _empty_product(a, b, shape, dtype):
    """The zeros a product with an empty operand gives; while recording, tied to both operands by a recorded
    `+ 0 * sum(..)`, so that backward reaches them (with zero gradients, as MXNet's)."""
    zeros = _host(onp.zeros(shape), dtype, a.context)
    if not is_recording():
        return zeros
    return zeros + (sum(a) * 0 + sum(b) * 0).astype(dtype, copy=False)


def dot(a, b, out=None):
    """NumPy's dot: the sum of products over `a`'s last axis and `b`'s first (1-D `b`) or second-to-last axis; a
    product for scalars. Two float operands of one dtype with `b` of at most 2-D run the registry's `dot`."""
    a, b = _array(a), _array(b)
    if not a.ndim or not b.ndim:
        return multiply(a, b)
    inner = 0 if b.ndim == 1 else b.ndim - 2
    if a.shape[-1] != b.shape[inner]:
        raise ShapeError("shapes %s and %s not aligned: %d (dim %d) != %d (dim %d)"
                         % (a.shape, b.shape, a.shape[-1], a.ndim - 1, b.shape[inner], inner))
    if b.ndim <= 2 and a.dtype == b.dtype and a.dtype.kind == "f" and a.size and b.size:
        return reshape_to(_np(_op("dot", a, b)), a.shape[:-1] + b.shape[1:])
    return tensordot(a, b, ([a.ndim - 1], [inner]))


def matmul(a, b, out=None):
    """NumPy's matmul: the matrix product of the last two axes, the leading (batch) axes broadcast; a 1-D operand
    is a row (first) or column (second) vector, its axis dropped from the result."""
    a, b = _array(a), _array(b)
    if not a.ndim or not b.ndim:
        raise ShapeError("matmul: Input operand does not have enough dimensions")
    if a.ndim <= 2 and b.ndim <= 2:
        return dot(a, b)
    rows = reshape_to(a, (1,) + a.shape) if a.ndim == 1 else a
    cols = reshape_to(b, b.shape + (1,)) if b.ndim == 1 else b
    if rows.shape[-1] != cols.shape[-2]:
        raise ShapeError("matmul: Input operand 1 has a mismatch in its core dimension 0: %s and %s"
                         % (a.shape, b.shape))
    batch = broadcast_shape(rows.shape[:-2], cols.shape[:-2])
    rows, cols = broadcast_to(rows, batch + rows.shape[-2:]), broadcast_to(cols, batch + cols.shape[-2:])
    product = _batched_product(rows, cols, batch, rows.shape[-2:-1], rows.shape[-1:], cols.shape[-1:])
    return reshape_to(product, batch + a.shape[-2:-1] * (a.ndim > 1) + b.shape[-1:] * (b.ndim > 1))


def tensordot(a, b, axes=2):
    """The sum of products over `axes` (the last `axes` axes of `a` and first of `b`, or two lists of axes)."""
    a, b = _array(a), _array(b)
    if isinstance(axes, (int, onp.integer)):
        if axes < 0 or axes > min(a.ndim, b.ndim):
            raise ValueError("tensordot: axes=%d is out of range for operands of %d and %d dimensions"
                             % (axes, a.ndim, b.ndim))
        a_axes, b_axes = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        a_axes, b_axes = axes
        a_axes = _axes(a_axes, a.ndim) if a.ndim or a_axes else []
        b_axes = _axes(b_axes, b.ndim) if b.ndim or b_axes else []
    if len(a_axes) != len(b_axes) or any(a.shape[i] != b.shape[j] for i, j in zip(a_axes, b_axes)):
        raise ShapeError("shape-mismatch for sum: %s of %s against %s of %s" % (a_axes, a.shape, b_axes, b.shape))
    free_a = [i for i in range(a.ndim) if i not in a_axes]
    free_b = [j for j in range(b.ndim) if j not in b_axes]
    return _batched_product(_permuted(a, free_a + a_axes), _permuted(b, b_axes + free_b), (),
                            [a.shape[i] for i in free_a], [a.shape[i] for i in a_axes], [b.shape[j] for j in free_b])


def outer(a, b):
    """The outer product of the flattened `a` and `b`."""
    a, b = reshape_to(_array(a), (-1,)), reshape_to(_array(b), (-1,))
    return tensordot(a, b, 0)


def inner(a, b):
    """The sum of products over the last axes of `a` and `b` (a product for scalars)."""
    a, b = _array(a), _array(b)
    if not a.ndim or not b.ndim:
        return a * b
    return tensordot(a, b, ([-1], [-1]))


def vdot(a, b):
    """The dot product of the flattened `a` and `b`."""
    a, b = reshape_to(_array(a), (-1,)), reshape_to(_array(b), (-1,))
    if a.shape != b.shape:
        raise ShapeError("vdot: vectors have different lengths: %d and %d" % (a.shape[0], b.shape[0]))
    return tensordot(a, b, 1)


# Note [einsum as batch_dot]: each operand first loses its repeated labels (a diagonal) and the labels no other
# operand and not the output has (a sum). Then the operands are contracted left to right: a label both sides have
# is a batch axis if the output or a later operand needs it, else a summed (inner) axis; the others are rows (left)
# or columns (right). One batch_dot does the pair. The output's order is a last transpose.

def einsum(*operands, **kwargs):
    """Einstein summation: `einsum('ij,jk->ik', a, b)`, with implicit output, repeated labels (diagonals) and
    '...' for broadcast-free leading axes. `optimize` is accepted and ignored (left-to-right order)."""
    kwargs.pop("optimize", None)
    if kwargs:
        raise TypeError("einsum got unexpected arguments %s" % sorted(kwargs))
    if not operands or not isinstance(operands[0], str):
        raise TypeError("einsum: the first argument must be the subscripts string")
    subscripts, arrays = operands[0].replace(" ", ""), [_array(a) for a in operands[1:]]
    inputs, output = _parse(subscripts, arrays)
    sizes = {}
    for labels, x in zip(inputs, arrays):
        for label, dim in zip(labels, x.shape):
            known = sizes.setdefault(label, dim)
            if known != dim and 1 not in (known, dim):
                raise ValueError("einsum: operands could not be broadcast together: label %r has sizes %d and %d"
                                 % (label, known, dim))
            sizes[label] = dim if known == 1 else known
    # a label of size 1 in one operand broadcasts against the others (NumPy's and MXNet's rule)
    arrays = [x if all(d == sizes[c] for c, d in zip(labels, x.shape))
              else broadcast_to(x, tuple(sizes[c] for c in labels)) for labels, x in zip(inputs, arrays)]
    terms = [_prepare(x, list(labels), [other for k, other in enumerate(inputs) if k != i], output)
             for i, (labels, x) in enumerate(zip(inputs, arrays))]
    x, labels = terms[0]
    for i, (y, y_labels) in enumerate(terms[1:], start=1):
        needed = set(output).union(*[set(t[1]) for t in terms[i + 1:]])
        x, labels = _contract(x, labels, y, y_labels, needed, sizes)
    unwanted = [k for k, label in enumerate(labels) if label not in output]
    if unwanted:
        x = sum(x, axis=tuple(unwanted))
        labels = [label for label in labels if label in output]
    return _permuted(x, [labels.index(label) for label in output]) if output else x


def _parse(subscripts, arrays):
    """The operands' label lists and the output's, with '...' spelt out as fresh capital letters."""
    if "->" in subscripts:
        given, output = subscripts.split("->")
    else:
        given, output = subscripts, None
    inputs = given.split(",")
    if len(inputs) != len(arrays):
        raise ValueError("einsum: %d operands for %d subscripts in %r" % (len(arrays), len(inputs), subscripts))
    letters = set(given.replace(".", "").replace(",", "")) | set((output or "").replace(".", ""))
    if not all(c in string.ascii_letters for c in letters):
        raise ValueError("einsum: invalid subscript in %r (letters, ',', '->' and '...' only)" % subscripts)
    fresh = [c for c in string.ascii_uppercase[::-1] if c not in letters]
    widest = 0
    spelt = []
    for term, x in zip(inputs, arrays):
        if "..." in term:
            covered = x.ndim - len(term.replace("...", ""))
            if covered < 0:
                raise ValueError("einsum: operand of %d dimensions for subscripts %r" % (x.ndim, term))
            widest = max(widest, covered)
            term = term.replace("...", "".join(fresh[:covered][::-1]) if covered else "")
        if len(term) != x.ndim:
            raise ValueError("einsum: operand has %d dimensions but subscripts %r name %d"
                             % (x.ndim, term, len(term)))
        spelt.append(term)
    ellipsis = "".join(fresh[:widest][::-1])
    if output is None:
        counts = {c: "".join(spelt).count(c) for c in set("".join(spelt)) - set(ellipsis)}
        output = ellipsis + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        output = output.replace("...", ellipsis)
        unknown = set(output) - set("".join(spelt))
        if unknown or len(set(output)) != len(output):
            raise ValueError("einsum: output subscripts %r name labels %s not in the operands, or twice"
                             % (output, sorted(unknown)))
    return spelt, output


def _prepare(x, labels, others, output):
    """`x` with repeated labels reduced to their diagonal and labels nothing else needs summed out."""
    while len(set(labels)) != len(labels):
        label = next(c for c in labels if labels.count(c) > 1)
        first = labels.index(label)
        second = labels.index(label, first + 1)
        x = diagonal(x, 0, first, second)
        labels = [c for k, c in enumerate(labels) if k not in (first, second)] + [label]
    elsewhere = set(output).union(*[set(o) for o in others])
    lonely = [k for k, c in enumerate(labels) if c not in elsewhere]
    if lonely:
        x = sum(x, axis=tuple(lonely))
        labels = [c for c in labels if c in elsewhere]
    return x, labels


def _contract(x, x_labels, y, y_labels, needed, sizes):
    batch = [c for c in x_labels if c in y_labels and c in needed]
    inner_labels = [c for c in x_labels if c in y_labels and c not in needed]
    rows = [c for c in x_labels if c not in y_labels]
    cols = [c for c in y_labels if c not in x_labels]
    x = _permuted(x, [x_labels.index(c) for c in batch + rows + inner_labels])
    y = _permuted(y, [y_labels.index(c) for c in batch + inner_labels + cols])
    result = _batched_product(x, y, [sizes[c] for c in batch], [sizes[c] for c in rows],
                              [sizes[c] for c in inner_labels], [sizes[c] for c in cols])
    return result, batch + rows + cols
