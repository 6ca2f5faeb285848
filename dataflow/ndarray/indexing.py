"""`x[key]` and `x[key] = value` on NDArrays (installed on the class below, as interop.py installs its methods).

A key of ints and slices whose result is C-contiguous gives a view: the same storage and the same engine var as
the base, as MXNet's contiguous slices do. Any other key (a strided slice, integer arrays, NDArrays) gives a copy,
made by an engine op that reads the base, so kernels can keep treating every array as flat. Assignment pushes an
op writing the base's var; a value that does not broadcast to the target is refused at once, as MXNet does.
Under `autograd.record()` a read is an op that autograd records, as in MXNet, so gradients flow through `x[key]`:
`slice` (+ `Reshape` for ints and new axes) for a basic key, `take` of the flat positions for any other key.
"""
import numbers

import numpy as np

from ops.cuda import storage as gpu_storage

from scheduler.engine import get_engine

from ..autograd.state import is_recording
from .ndarray import NDArray, _alloc


def _getitem(self, key):
    key = _index_key(key)
    if is_recording():
        return _recorded_getitem(self, key)
    if self._ctx.device_type == "gpu":
        return _getitem_gpu(self, key)
    if _is_basic(key):
        view = self._data[key]
        if isinstance(view, np.generic):    # numpy read one element now (pending writes!): take a 0-d view instead
            view = self._data[(*key, Ellipsis) if isinstance(key, tuple) else (key, Ellipsis)]
        if view.ndim == 0:
            view = view.reshape(1)
        if view.flags.c_contiguous:
            return NDArray(view, self._var, self._ctx)      # shares storage, as MXNet's contiguous slices do
    src = self._data
    shape = np.empty(src.shape, dtype=np.bool_)[key].shape if _is_basic(key) else src[key].shape
    result = NDArray(_alloc(shape or (1,), src.dtype, self._ctx), ctx=self._ctx)
    dst = result._data
    get_engine().push(lambda: np.copyto(dst, np.reshape(src[key], dst.shape)), [self._var],
                      [result._var], "_slice")
    return result


def _recorded_getitem(self, key):
    from . import Reshape, array, slice as slice_op, take
    shape = self.shape
    probe = np.empty(shape, dtype=np.bool_)
    out_shape = probe[key].shape or (1,)          # a 0-d result is (1,), as the view path gives
    basic = _basic_bounds(key, shape) if _is_basic(key) else None
    if basic is not None:
        begin, end, step = basic
        result = slice_op(self, begin=begin, end=end, step=step)
    else:
        positions = np.arange(probe.size, dtype=np.int64).reshape(shape)[key].reshape(-1)
        flat = Reshape(self, shape=(-1,))
        result = take(flat, array(positions, ctx=self._ctx, dtype=np.int64), axis=0)
    return result if result.shape == out_shape else Reshape(result, shape=out_shape)


def _basic_bounds(key, shape):
    """(begin, end, step) per axis for a basic key of ints, slices, one Ellipsis and None (new axes, dropped here:
    the final Reshape adds them), or None when a slice's bounds are empty in a way `slice` cannot express."""
    parts = list(key) if isinstance(key, tuple) else [key]
    if Ellipsis in parts:
        i = parts.index(Ellipsis)
        named = sum(1 for k in parts if k is not None and k is not Ellipsis)
        parts[i:i + 1] = [slice(None)] * (len(shape) - named)
    parts = [k for k in parts if k is not None]
    parts += [slice(None)] * (len(shape) - len(parts))
    begin, end, step = [], [], []
    for k, n in zip(parts, shape):
        if isinstance(k, numbers.Integral):
            i = int(k) + n if k < 0 else int(k)
            begin.append(i), end.append(i + 1), step.append(1)
            continue
        b, e, s = k.indices(n)
        if len(range(b, e, s)) == 0:
            return None
        if s < 0 and e < 0:
            e = None                               # down to index 0 inclusive
        begin.append(b), end.append(e), step.append(s)
    return tuple(begin), tuple(end), tuple(step)


def _getitem_gpu(self, key):
    """x[key] on a GPU: a view when contiguous (as on the CPU), else a copy through the host."""
    if _is_basic(key):
        view = gpu_storage.basic_view(self._data, key)
        if view is not None:
            return NDArray(view, self._var, self._ctx)
    src, device = self._data, self._ctx.device_id
    probe = np.empty(src.shape, dtype=np.bool_)
    shape = probe[key].shape
    result = NDArray(_alloc(shape or (1,), src.dtype, self._ctx), ctx=self._ctx)
    dst = result._data

    def run():
        host = gpu_storage.to_host(src, device)
        gpu_storage.from_host(np.reshape(host[key], dst.shape), dst, device)
    get_engine().push(run, [self._var], [result._var], "_slice")
    return result


def _setitem(self, key, value):
    key = _index_key(key)
    dst = self._data
    if not isinstance(value, NDArray) and not np.isscalar(value):
        value = np.asarray(value, dtype=dst.dtype)      # a list, tuple or numpy array: copied now
    elif isinstance(value, NDArray) and value.stype != "default":
        value = value.tostype("default")        # a sparse value's `_data` holds only its stored values
    if not np.isscalar(value):      # refuse a value that does not broadcast to the target, now (as MXNet)
        target = np.lib.stride_tricks.as_strided(np.empty(1, np.int8), dst.shape, (0,) * dst.ndim)[key].shape
        np.broadcast_to(np.empty(value.shape, np.int8), target)
    if isinstance(value, NDArray) and value._ctx != self._ctx and "gpu" in (value._ctx.device_type,
                                                                           self._ctx.device_type):
        value = value.as_in_context(self._ctx)
    if self._ctx.device_type == "gpu":
        src, reads = (value._data, [value._var]) if isinstance(value, NDArray) else \
            (np.array(value, dtype=dst.dtype), [])
        device = self._ctx.device_id
        get_engine().push(lambda: gpu_storage.setitem(dst, key, src, device), reads + [self._var], [self._var],
                          "_set_value")
        return
    if isinstance(value, NDArray):
        src = value._data
        reads = [value._var]
    else:
        src = np.array(value, dtype=dst.dtype)      # copy now: the caller may change `value` later
        reads = []
    # The var is read too: a write through a slice or a view changes part of the var's storage, so it must not
    # clear an error stored on the var (engine.py, Note [errors]); MXNet skips such a write as well.
    get_engine().push(lambda: dst.__setitem__(key, src), reads + [self._var], [self._var], "_set_value")


def _index_key(key):
    if isinstance(key, NDArray):
        return key.asnumpy().astype(np.int64)
    if isinstance(key, tuple):
        return tuple(k.asnumpy().astype(np.int64) if isinstance(k, NDArray) else k for k in key)
    return key


def _is_basic(key):
    parts = key if isinstance(key, tuple) else (key,)
    return all(isinstance(k, (numbers.Integral, slice)) or k is Ellipsis or k is None for k in parts)


for _name, _method in (("__getitem__", _getitem), ("__setitem__", _setitem)):
    _method.__name__, _method.__qualname__ = _name, "NDArray." + _name
    setattr(NDArray, _name, _method)
