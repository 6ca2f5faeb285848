"""`mx.npx`: MXNet's NumPy extensions (`from dataflow import npx`): the numpy-mode switches, the neural-network
operators NumPy lacks on mx.np.ndarrays, `reshape` with MXNet's special values, `save`/`load`, and contexts.

The operators are the registry's (MXNet's npx functions are its legacy operators under new names with the same
params: `dataflow/numpy/_op_names.py::NPX_OPS`), generated as the `mx.nd` front ends are; `mx.sym.npx`
(dataflow/symbol/numpy_extension.py) is generated from the same table for hybridized blocks."""
import numpy as onp

from ops import registry as _registry

from .. import frontend as _frontend
from ..context import cpu, cpu_pinned, current_context, gpu, gpu_memory_info, num_gpus  # noqa: F401
from ..ndarray.ndarray import NDArray, _from_host, _invoke, waitall  # noqa: F401
from ..numpy._op_names import NPX_OPS as _NPX_OPS
from ..numpy.functions import _array
from ..numpy.multiarray import _np, _op, as_np, reshape_to
from ..numpy.sorting import argwhere as _argwhere
from ..util import (get_cuda_compute_capability, is_np_array, is_np_shape, np_array, np_shape,  # noqa: F401
                    reset_np, set_np, set_np_shape, use_np, use_np_array, use_np_shape)
from . import random  # noqa: F401 - npx.random
from .reshape import output_shape as _reshape_shape
from .utils import load, save  # noqa: F401


def _invoke_np(opdef, name, args, kwargs):
    """Run op `opdef` on arrays; outputs are mx.np.ndarrays. Zero-dim inputs run as shape (1,) and an output of
    shape (1,) from them is viewed as () again (Note [zero-dim arrays] in numpy/multiarray.py)."""
    if args and all(isinstance(a, NDArray) and not a.shape for a in args):
        out = _np(_invoke(opdef, name, tuple(reshape_to(as_np(a), (1,)) for a in args), kwargs))
        return reshape_to(out, ()) if isinstance(out, NDArray) and out.shape == (1,) else out
    return _np(_invoke(opdef, name, args, kwargs))


def _generate():
    for npx_name, op_name in _NPX_OPS.items():
        if _registry.exists(op_name):
            globals()[npx_name] = _frontend.make_function(_registry.get(op_name), npx_name, _invoke_np, ("out",))


_generate()


def reshape(a, newshape, reverse=False, order="C"):
    """`a` with shape `newshape`, which may hold MXNet's special values -1 ... -6 (see numpy_extension/reshape.py).

    Examples
    --------
    >>> from dataflow import np, npx
    >>> npx.reshape(np.ones((2, 3, 8)), (-2, -2, 2, -1)).shape
    (2, 3, 2, 4)
    """
    if order != "C":
        raise NotImplementedError("npx.reshape: only order='C' is supported")
    a = _array(a)
    return reshape_to(a, _reshape_shape(a.shape, newshape, reverse))


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


def nonzero(a):
    """The indices of `a`'s non-zero elements, one int64 row per element (MXNet's `npx.nonzero`: a zero-dim `a`
    counts as 1-D)."""
    a = _array(a)
    return _argwhere(reshape_to(a, (1,)) if not a.ndim else a)


def constraint_check(x, msg="Constraint violated."):
    """`np.array(True)` when every element of the bool array `x` is true, else a ValueError saying `msg` (MXNet's
    `npx.constraint_check`; multiply a value by the result to keep the check next to its use)."""
    x = _array(x)
    if not x.asnumpy().all():
        raise ValueError(msg)
    return _np(_from_host(onp.array(True), x.context, onp.dtype(onp.bool_)))


def seed(seed_state, ctx="all"):
    """Seed the random generators (`mx.random.seed`)."""
    random.seed(seed_state, ctx)
