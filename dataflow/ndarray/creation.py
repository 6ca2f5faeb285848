"""Making NDArrays: `array`, `empty`, `zeros`, `ones`, `full`, `arange`, `eye`, `linspace`, `concatenate`.

What MXNet 1.9.1 accepts and refuses here (checked on it; tests/test_mxnet_errors.py):
- `zeros` and `ones` run the `_zeros`/`_ones` ops with `shape` as a param, so a 0 in the shape is MXNet 1.x's
  unknown size and the call fails shape inference (unless `mx.util.set_np_shape(True)`); `empty`, `full` and
  `array` allocate directly and take zero-size shapes.
- A shape given as a numpy array works for `empty` and `full`; the ops read its text ("[2 3]"), which is no shape.
- A negative dimension is refused everywhere; an unknown dtype is numpy's TypeError, a dtype numpy knows but MXNet
  does not is an MXNetError; `stype` other than 'default' / 'row_sparse' / 'csr' is a ValueError. `zeros` and
  `empty` with a sparse `stype`, and `array` of a sparse source, make sparse arrays (sparse/construct.py).
- `ctx` may be a Context or its string form ('cpu(0)'), as the ops take it.
"""
import numbers

import numpy as np

from ops import registry
from ops.errors import MXNetError, ParamError, ShapeError

from ..context import as_context
from .ndarray import _DEFAULT_DTYPE, NDArray, _alloc, _from_host, _invoke

STORAGE_TYPES = ("default", "row_sparse", "csr")
_SCIPY_CSR = ("csr_matrix", "csr_array")      # scipy.sparse's csr types, recognised without importing scipy
SPARSE_UNSUPPORTED = "storage type %r is not supported here: only zeros and empty make sparse arrays"


def array(source_array, ctx=None, dtype=None):
    """An NDArray holding a copy of `source_array`; float32 unless `dtype` is given or the source is an NDArray
    (MXNet turns numpy arrays of any dtype into float32 by default). A sparse source (a sparse NDArray or a
    scipy.sparse.csr_matrix) gives a sparse copy, as MXNet's `mx.nd.array`."""
    if getattr(source_array, "stype", "default") != "default" or type(source_array).__name__ in _SCIPY_CSR:
        from .sparse import array as sparse_array
        return sparse_array(source_array, ctx=ctx, dtype=dtype)
    if isinstance(source_array, NDArray):
        dtype = source_array.dtype if dtype is None else dtype
        source_array = source_array.asnumpy()
    dtype, ctx = _dtype(dtype), as_context(ctx)
    try:
        data = np.array(source_array, dtype=dtype, order="C", copy=True)
    except (TypeError, ValueError) as err:
        raise TypeError("source_array must be array like object: %s" % err) from None
    return _from_host(data, ctx, dtype)


def empty(shape, ctx=None, dtype=None, stype=None):
    """An uninitialized array (zero-size shapes allowed); a sparse `stype` gives an empty sparse array."""
    if _sparse(stype, "empty"):
        from .sparse import empty as sparse_empty
        return sparse_empty(stype, shape, ctx, dtype)
    ctx = as_context(ctx)
    return NDArray(_alloc(_shape(shape, "empty"), _dtype(dtype), ctx), ctx=ctx)


def zeros(shape, ctx=None, dtype=None, stype=None, **kwargs):
    """An array of zeros (the `_zeros` op)."""
    return _fill("_zeros", shape, ctx, dtype, stype, kwargs)


def ones(shape, ctx=None, dtype=None, **kwargs):
    """An array of ones (the `_ones` op)."""
    return _fill("_ones", shape, ctx, dtype, kwargs.pop("stype", None), kwargs)


def ones_of(shape, ctx, dtype):
    """Ones of `shape`, a zero-dim shape included: the default head gradient of a graph or recorded output (the
    legacy `ones` op reads shape () as unknown, so a zero-dim mx.np head is made on the host)."""
    return ones(shape, ctx, dtype) if shape else _from_host(np.ones((), dtype), as_context(ctx), dtype)


def full(shape, val, ctx=None, dtype=None, out=None):
    """An array filled with `val`: an empty array, then assigned (zero-size shapes allowed, as in MXNet)."""
    out = empty(_shape(shape, "full"), ctx, dtype) if out is None else out
    out[:] = val
    return out


def arange(start, stop=None, step=1.0, repeat=1, ctx=None, dtype=None, infer_range=False):
    """Evenly spaced values in [start, stop), each repeated `repeat` times (the `_arange` op: an empty range, a
    zero step or a repeat below 1 is an error)."""
    return _invoke(registry.get("_arange"), "_arange", (), dict(
        start=start, stop=stop, step=step, repeat=repeat, infer_range=infer_range, ctx=ctx,
        dtype=_dtype(dtype).name))


def eye(N, M=0, k=0, ctx=None, dtype=None, **kwargs):  # noqa: N803 (MXNet's names)
    """A 2-D array with ones on the k-th diagonal."""
    return _invoke(registry.get("_eye"), "_eye", (), dict(N=N, M=M, k=k, ctx=ctx, dtype=_dtype(dtype).name,
                                                        **kwargs))


def linspace(start, stop, num, endpoint=True, ctx=None, dtype=None):
    """`num` evenly spaced values from start to stop (stop excluded without the endpoint): the `_linspace` op."""
    return _invoke(registry.get("_linspace"), "_linspace", (), dict(
        start=start, stop=stop, num=num, endpoint=endpoint, ctx=ctx, dtype=_dtype(dtype).name))


def concatenate(arrays, axis=0, always_copy=True):
    """Join arrays along `axis` (computed on the host)."""
    return array(np.concatenate([a.asnumpy() for a in arrays], axis=axis), arrays[0].context, arrays[0].dtype)


def _fill(op_name, shape, ctx, dtype, stype, kwargs):
    if _sparse(stype, op_name.strip("_")):
        if op_name != "_zeros":
            raise MXNetError(SPARSE_UNSUPPORTED % stype)
        from .sparse import zeros as sparse_zeros
        return sparse_zeros(stype, shape, ctx, dtype)
    shape = (shape,) if isinstance(shape, numbers.Integral) else shape      # the op parses the rest, as MXNet's
    return _invoke(registry.get(op_name), op_name, (), dict(shape=shape, ctx=as_context(ctx), dtype=_dtype(dtype).name,
                                                            **kwargs))


def _shape(shape, what):
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if any(not isinstance(d, numbers.Integral) for d in shape):
        raise ShapeError("%s: shape %r must hold integers" % (what, shape))
    if any(d < 0 for d in shape):
        raise ShapeError("%s: shape %s has a negative dimension" % (what, tuple(int(d) for d in shape)))
    return tuple(int(d) for d in shape)


def _dtype(dtype):
    """A numpy dtype MXNet knows (float32 for None); TypeError for what numpy does not know, MXNetError for the
    rest (registry.dtype_name)."""
    return _DEFAULT_DTYPE if dtype is None else np.dtype(registry.dtype_name(dtype))


def _sparse(stype, what):
    """Whether `stype` is a sparse storage type (an unknown one is an error)."""
    if stype is None or stype == "default":
        return False
    if stype not in STORAGE_TYPES:
        raise ParamError("%s: unknown storage type %r; MXNet's are %s" % (what, stype, ", ".join(STORAGE_TYPES)))
    return True
