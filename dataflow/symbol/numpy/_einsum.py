"""`mx.sym.np.einsum`: Einstein summation on Symbols, for subscripts that name every axis (no '...').

Each operand's rank is its number of labels, so the graph needs no shapes: every operand is transposed into one
label order (the output's labels, then the summed ones) with size-one axes for the labels it lacks, the operands
are multiplied with NumPy's broadcasting and promotion, and the summed labels are reduced. The product spans every
label at once (where the array form contracts pair by pair with `batch_dot`): exact, but its memory grows with the
product of all label sizes."""
import string

from ._symbol import _binary, _sym


def _parse(subscripts, count):
    """(the operands' labels, the output's labels) of `subscripts` for `count` operands."""
    subscripts = subscripts.replace(" ", "")
    if "." in subscripts:
        raise NotImplementedError("np.einsum of Symbols: '...' in %r is not supported (the operands' ranks are "
                                  "unknown while tracing)" % subscripts)
    given, arrow, output = subscripts.partition("->")
    inputs = given.split(",")
    if len(inputs) != count:
        raise ValueError("einsum: %d operands for %d subscripts in %r" % (count, len(inputs), subscripts))
    letters = set(given.replace(",", "")) | set(output)
    if not all(c in string.ascii_letters for c in letters):
        raise ValueError("einsum: invalid subscript character in %r" % subscripts)
    for labels in inputs:
        if len(set(labels)) != len(labels):
            raise NotImplementedError("np.einsum of Symbols: the repeated label in %r (a diagonal) is not supported"
                                      % labels)
    if not arrow:       # implicit output: the labels used once, in alphabetical order
        joined = given.replace(",", "")
        output = "".join(sorted(c for c in set(joined) if joined.count(c) == 1))
    if len(set(output)) != len(output) or not set(output) <= set(given):
        raise ValueError("einsum: invalid output subscripts %r" % output)
    return inputs, output


def _aligned(x, labels, order):
    """`x` (axes named by `labels`) with its axes in `order`'s order and a size-one axis for each label it lacks."""
    present = [label for label in order if label in labels]
    permutation = [labels.index(label) for label in present]
    if permutation != sorted(permutation):
        x = _sym("transpose", x, axes=tuple(permutation))
    for position, label in enumerate(order):
        if label not in labels:
            x = _sym("expand_dims", x, axis=position)
    return x


def einsum(*operands, **kwargs):
    """Einstein summation, `einsum('ij,jk->ik', a, b)`, with an implicit output; `optimize` is accepted and
    ignored."""
    kwargs.pop("optimize", None)
    if kwargs:
        raise TypeError("einsum got unexpected arguments %s" % sorted(kwargs))
    if not operands or not isinstance(operands[0], str):
        raise TypeError("einsum: the first argument must be the subscripts string")
    inputs, output = _parse(operands[0], len(operands) - 1)
    summed = []
    for labels in inputs:
        summed += [c for c in labels if c not in output and c not in summed]
    order = list(output) + summed
    product = None
    for labels, x in zip(inputs, operands[1:]):
        x = _aligned(x, labels, order)
        product = x if product is None else _binary("mul", product, x)
    if summed:
        return _sym("sum", product, axis=tuple(range(len(output), len(order))))
    return product if len(inputs) > 1 else _sym("_copy", product)


__all__ = ["einsum"]
