"""`mx.sym.np.einsum`: Einstein summation on Symbols as MXNet's `_npi_einsum` node (ops/numpy_extras.py), which
reads the operands' shapes when the graph is bound: '...', repeated labels (diagonals) and size-1 broadcasting
are NumPy's."""
from ._symbol import _sym


def einsum(*operands, **kwargs):
    """Einstein summation, `einsum('ij,jk->ik', a, b)`, with an implicit output; `optimize` lets NumPy plan the
    contraction order."""
    optimize = kwargs.pop("optimize", False)
    if kwargs:
        raise TypeError("einsum got unexpected arguments %s" % sorted(kwargs))
    if not operands or not isinstance(operands[0], str):
        raise TypeError("einsum: the first argument must be the subscripts string")
    subscripts, arrays = operands[0], operands[1:]
    if len(subscripts.partition("->")[0].split(",")) != len(arrays):
        raise ValueError("einsum: %d operands for the subscripts %r" % (len(arrays), subscripts))
    return _sym("_npi_einsum", *arrays, subscripts=subscripts, num_args=len(arrays), optimize=int(bool(optimize)))


__all__ = ["einsum"]
