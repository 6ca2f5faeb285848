"""`mx.gluon.utils`: splitting a batch over contexts, clipping gradients by their global norm, file checks.

`download` is not provided: nothing here reaches the network.
"""
import hashlib
import warnings

import numpy as np

from .. import ndarray

__all__ = ["split_data", "split_and_load", "clip_global_norm", "check_sha1", "shape_is_known"]


def split_data(data, num_slice, batch_axis=0, even_split=True):
    """Split `data` into `num_slice` slices along `batch_axis` (the first ones one longer when uneven).

    Examples
    --------
    >>> import dataflow as mx
    >>> [s.shape for s in mx.gluon.utils.split_data(mx.nd.zeros((5, 2)), 2, even_split=False)]
    [(3, 2), (2, 2)]
    >>> mx.gluon.utils.split_data(mx.nd.zeros((5, 2)), 2)      # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: data with shape (5, 2) cannot be evenly split into 2 slices along axis 0. Use a batch size ...
    """
    size = data.shape[batch_axis]
    if even_split and size % num_slice != 0:
        raise ValueError("data with shape %s cannot be evenly split into %d slices along axis %d. Use a batch size "
                         "that's multiple of %d or set even_split=False to allow uneven partitioning of data."
                         % (str(data.shape), num_slice, batch_axis, num_slice))
    each, extras = divmod(size, num_slice)
    bounds = np.cumsum([0] + [each + 1] * extras + [each] * (num_slice - extras))
    if batch_axis == 0:
        return [data[int(bounds[i]):int(bounds[i + 1])] for i in range(num_slice)]
    return [ndarray.slice_axis(data, axis=batch_axis, begin=int(bounds[i]), end=int(bounds[i + 1]))
            for i in range(num_slice)]


def split_and_load(data, ctx_list, batch_axis=0, even_split=True):
    """Split `data` along `batch_axis` and put one slice on each context of `ctx_list`."""
    if not isinstance(data, ndarray.NDArray):
        data = ndarray.array(data, ctx=ctx_list[0])
    if len(ctx_list) == 1:
        return [data.as_in_context(ctx_list[0])]
    slices = split_data(data, len(ctx_list), batch_axis, even_split)
    return [s.as_in_context(ctx) for s, ctx in zip(slices, ctx_list)]


def clip_global_norm(arrays, max_norm, check_isfinite=True):
    """Rescale `arrays` in place so that their joint 2-norm is at most `max_norm`; returns the norm before.

    Examples
    --------
    >>> import dataflow as mx
    >>> a = mx.nd.array([3.0, 4.0])
    >>> float(mx.gluon.utils.clip_global_norm([a], 1.0))
    5.0
    >>> a.asnumpy().round(4)
    array([0.6, 0.8], dtype=float32)
    """
    assert len(arrays) > 0
    total = ndarray.add_n(*[ndarray.dot(a.reshape((-1,)), a.reshape((-1,))) for a in arrays])
    total_norm = ndarray.sqrt(total)
    if check_isfinite and not np.isfinite(total_norm.asscalar()):
        warnings.warn(UserWarning("nan or inf is detected. Clipping results will be undefined."), stacklevel=2)
    scale = max_norm / (total_norm + 1e-8)
    scale = ndarray.min(ndarray.concat(scale, ndarray.ones(1), dim=0))
    for a in arrays:
        a *= scale
    return total_norm.asscalar() if check_isfinite else total_norm


def _indent(text, spaces):
    """Indent every line of `text` but the first by `spaces` (for nested reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return "\n".join([lines[0]] + [" " * spaces + line for line in lines[1:]])


def check_sha1(filename, sha1_hash):
    """True when the file's SHA-1 is `sha1_hash` (a hex string)."""
    sha1 = hashlib.sha1()
    with open(filename, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sha1.update(chunk)
    return sha1.hexdigest() == sha1_hash


def shape_is_known(shape):
    """True when no dimension of `shape` is unknown (0 in MXNet 1.x's legacy shape semantics)."""
    if shape is None:
        return False
    if len(shape) == 0:
        return False
    for dim in shape:
        if dim == 0:
            return False
        assert dim > 0, "shape dimension size cannot be less than 0, while received %d" % dim
    return True
