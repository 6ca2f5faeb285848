"""Helpers of the data iterators (MXNet's `io.utils`): inputs as sorted (name, NDArray) lists, reordering,
batch-axis slices."""
import numpy as np

from .. import ndarray as nd
from ..ndarray.ndarray import NDArray


def _init_data(data, allow_empty, default_name):
    """Inputs as a sorted list of (name, NDArray)."""
    if data is None:
        data = []
    if isinstance(data, (np.ndarray, NDArray)):
        data = [data]
    if isinstance(data, (list, tuple)):
        if not allow_empty and not data:
            raise ValueError("NDArrayIter: data must not be empty")
        if len(data) == 1:
            data = {default_name: data[0]}
        else:
            data = {"_%d_%s" % (i, default_name): d for i, d in enumerate(data)}
    if not isinstance(data, dict):
        raise TypeError("Input must be NDArray, numpy.ndarray, a list of them or dict with them as values, got %s"
                        % type(data).__name__)
    if not allow_empty and not data:
        raise ValueError("NDArrayIter: data must not be empty")
    result = []
    for key, value in data.items():
        if not isinstance(value, NDArray):
            try:
                value = nd.array(value)
            except Exception as e:  # noqa: BLE001 - report which input could not be converted
                raise TypeError("Invalid type %r for %s, should be NDArray or numpy.ndarray" % (type(value), key)) \
                    from e
        result.append((key, value))
    return sorted(result, key=lambda kv: kv[0])


def _has_instance(data, dtype):
    """Whether any array of `data` (a list of (name, array) from `_init_data`) is a `dtype`."""
    return any(isinstance(array, dtype) for _, array in data)


def _getdata_by_idx(data, idx):
    """Each (name, array) of `data` reordered by `idx` (MXNet rebuilds them with `mx.nd.array`, hence
    float32)."""
    return [(k, nd.array(v.asnumpy()[idx], v.context)) for k, v in data]


def _slice_along_batch_axis(data, s, batch_axis):
    """`data[s]` along `batch_axis` (a slice with start and stop)."""
    return data.slice_axis(axis=batch_axis, begin=s.start, end=s.stop)
