"""`mx.sym.np.linalg`: NumPy's linalg functions on Symbols."""
import numbers

import numpy as onp

from ._symbol import _sym, max, min, squeeze, sum  # noqa: A004 - NumPy's names


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's name
    """NumPy's `linalg.norm` composed of reductions, as mx.np's: vector norms (ord None/2, 1, inf, -inf, any other
    number) along one axis and matrix norms ('fro', 1, -1, inf, -inf) over two given axes; with neither `ord` nor
    `axis`, the 2-norm of the flattened `x`. The spectral norms ('nuc', 2, -2 of matrices) and ord 0 are not
    supported in a graph, nor `ord` without `axis` (whether `x` is a matrix is known only when the graph runs)."""
    if axis is None:
        if ord not in (None, "fro"):
            raise NotImplementedError("np.linalg.norm of a Symbol: ord=%r needs an axis (the input's number of "
                                      "axes is unknown while tracing)" % (ord,))
        axes = ()
    else:
        axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    if len(axes) == 2 and ord not in (None, "fro"):
        return _matrix_norm(x, ord, axes, keepdims)
    if len(axes) > 2 or (len(axes) != 1 and ord not in (None, "fro")):
        raise ValueError("Improper number of dimensions to norm.")
    if ord in (None, 2, "fro"):
        return _sym("sqrt", sum(x * x, axis=axes or None, keepdims=keepdims))
    magnitude = _sym("abs", x)
    if ord == onp.inf:
        return max(magnitude, axis=axes, keepdims=keepdims)
    if ord == -onp.inf:
        return min(magnitude, axis=axes, keepdims=keepdims)
    if ord == 1:
        return sum(magnitude, axis=axes, keepdims=keepdims)
    if isinstance(ord, str) or ord == 0:
        raise NotImplementedError("np.linalg.norm of a Symbol: ord=%r is not supported for vectors" % (ord,))
    return sum(magnitude ** ord, axis=axes, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):  # noqa: A002
    """The 1 / inf norms (and their minima): the largest (smallest) column / row sum of magnitudes."""
    if ord not in (1, -1, onp.inf, -onp.inf):
        raise NotImplementedError("np.linalg.norm of a Symbol: matrix ord=%r is not supported" % (ord,))
    rows, cols = axes
    summed, over = (rows, cols) if ord in (1, -1) else (cols, rows)
    lines = sum(_sym("abs", x), axis=summed, keepdims=True)
    result = (max if ord > 0 else min)(lines, axis=over, keepdims=True)
    return result if keepdims else squeeze(result, axis=(rows, cols))
