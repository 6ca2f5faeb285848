"""`mx.npx`: MXNet's NumPy extensions (`from dataflow import npx`): the numpy-mode switches, the neural-network
operators NumPy lacks (relu, sigmoid, softmax, log_softmax, one_hot, pick) on mx.np.ndarrays, and contexts."""
import numpy as onp

from ..context import cpu, cpu_pinned, current_context, gpu, num_gpus  # noqa: F401
from ..ndarray.ndarray import waitall  # noqa: F401
from ..numpy.functions import _array
from ..numpy.multiarray import _np, _op, reshape_to
from ..util import (is_np_array, is_np_shape, np_array, np_shape, reset_np, set_np, set_np_shape,  # noqa: F401
                    use_np, use_np_array, use_np_shape)


def _nn(op_name, x, **params):
    """Op `op_name` on `x`, with a zero-dim `x` run as shape (1,) (Note [zero-dim arrays])."""
    x = _array(x)
    if not x.shape:
        return reshape_to(_np(_op(op_name, reshape_to(x, (1,)), **params)), ())
    return _np(_op(op_name, x, **params))


def relu(data):
    """max(data, 0), element-wise."""
    return _nn("relu", data)


def sigmoid(data):
    """1 / (1 + exp(-data)), element-wise."""
    return _nn("sigmoid", data)


def softmax(data, axis=-1, length=None, temperature=None, use_length=False, dtype=None):
    """exp(data) normalised along `axis`."""
    if use_length or length is not None:
        raise NotImplementedError("npx.softmax: length masking is not supported")
    return _nn("softmax", data, axis=axis, **({} if temperature is None else {"temperature": temperature}))


def log_softmax(data, axis=-1, length=None, temperature=None, use_length=False, dtype=None):
    """log(softmax(data)) along `axis`."""
    if use_length or length is not None:
        raise NotImplementedError("npx.log_softmax: length masking is not supported")
    return _nn("log_softmax", data, axis=axis, **({} if temperature is None else {"temperature": temperature}))


def one_hot(data, depth, on_value=1.0, off_value=0.0, dtype="float32"):
    """Rows of `depth` values: `on_value` at each index of `data`, `off_value` elsewhere."""
    data = _array(data)
    out = _np(_op("one_hot", reshape_to(data, data.shape or (1,)), depth=depth, on_value=on_value,
                  off_value=off_value, dtype=onp.dtype(dtype).name))
    return reshape_to(out, data.shape + (depth,))


def pick(data, index, axis=-1, mode="clip", keepdims=False):
    """`data`'s entries at `index` along `axis` (index has `data`'s shape without that axis)."""
    data, index = _array(data), _array(index)
    out = _np(_op("pick", data, index, axis=axis, mode=mode, keepdims=keepdims))
    axis = axis % data.ndim
    shape = data.shape[:axis] + ((1,) if keepdims else ()) + data.shape[axis + 1:]
    return reshape_to(out, shape)


def seed(seed_state, ctx="all"):
    """Seed the random generators (`mx.random.seed`)."""
    from .. import random
    random.seed(seed_state, ctx)
