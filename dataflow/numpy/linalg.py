"""`mx.np.linalg`: the norms D2L's first chapters use, composed of the element-wise and reduction functions (so
autograd differentiates them)."""
from .functions import _array, abs, max, sqrt, sum  # noqa: A004 - NumPy's names


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's name
    """The Frobenius/2-norm (ord None or 2 or 'fro'), 1-norm or inf-norm of vectors along `axis` (every axis
    by default, as NumPy's for `ord=None`)."""
    x = _array(x)
    if ord in (None, 2, "fro") and (ord != 2 or axis is not None or x.ndim == 1):
        return sqrt(sum(x * x, axis=axis, keepdims=keepdims))
    if ord == 1 and (axis is not None or x.ndim == 1):
        return sum(abs(x), axis=axis, keepdims=keepdims)
    if ord == float("inf") and (axis is not None or x.ndim == 1):
        return max(abs(x), axis=axis, keepdims=keepdims)
    raise NotImplementedError("np.linalg.norm: ord=%r over %s is not supported (vector norms along an axis, "
                              "and the Frobenius norm, are)" % (ord, "every axis" if axis is None else axis))
