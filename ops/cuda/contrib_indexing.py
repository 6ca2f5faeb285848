"""CUDA kernels of ops/contrib_indexing.py: index_copy, index_array, boolean_mask and their backward ops.

The row ops follow ops/cuda/rows.py: the host reads the (small) index vector, checks and truncates it with the CPU
kernel's own helper (so the errors are the CPU's), and turns it into (destination row, source row) pairs that
`rows._rows` copies on the device. index_copy keeps the last of repeated rows, as the CPU's numpy assignment does,
by giving each destination row its last source. boolean_mask gathers the rows whose index is non-zero (its output
was sized from the same host values). Reading the index synchronises the stream, as the CPU-side checks need.
index_array is one thread per output element.
"""
import numpy as np
from numba import cuda, types

from ..registry import ADD, NULL, WRITE
from .common import copy_into, declare, in_compute_dtype
from .rows import _go, _host, _rows


def _row_size(x):
    return int(np.prod(x.shape[1:]))


def _last_source(rows, n):
    """(destinations, sources): each row of `n` named in `rows` once, with the position of its last mention."""
    source = np.full(n, -1, np.int64)
    source[rows] = np.arange(len(rows))             # numpy keeps the last of repeated positions
    destinations = np.flatnonzero(source >= 0)
    return destinations, source[destinations]


def _index_rows(index, n):
    # the CPU kernel's own check and truncation, so a bad index is the same MXNetError on either device
    from ..cpu.contrib_indexing import _rows as checked_rows
    return checked_rows(_host(index), n)


def index_copy(ctx, p, inputs, outputs, req):
    old, index, new = inputs
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    destinations, sources = _last_source(_index_rows(index, old.shape[0]), old.shape[0])

    def compute(dst):
        copy_into(old, dst)
        _rows(new, dst, WRITE, destinations, sources, _row_size(old))
    in_compute_dtype(out, req[0], compute)


def backward_index_copy(ctx, p, inputs, outputs, req):
    """inputs (ograd, index, new_tensor) -> (old's gradient: dy with the copied rows zeroed, new's: dy's rows)."""
    dy, index = inputs[:2]
    n = dy.shape[0]
    rows = _index_rows(index, n)
    kept = np.setdiff1d(np.arange(n), rows)
    _rows(dy, outputs[0], req[0], kept, kept, _row_size(dy), 0)
    _rows(dy, outputs[1], req[1], np.arange(len(rows)), rows, _row_size(dy))


def _mask_rows(index):
    return np.flatnonzero(_host(index) != 0)        # NaN counts as non-zero, as on the CPU


def boolean_mask(ctx, p, inputs, outputs, req):
    data, index = inputs
    rows = _mask_rows(index)
    _rows(data, outputs[0], req[0], np.arange(len(rows)), rows, _row_size(data))


def backward_boolean_mask(ctx, p, inputs, outputs, req):
    """inputs (ograd, data, index) -> data's gradient: dy's rows at the kept rows, zero elsewhere."""
    dy, data, index = inputs
    rows = _mask_rows(index)
    _rows(dy, outputs[0], req[0], rows, np.arange(len(rows)), _row_size(data), 0)


# ---- index_array ---------------------------------------------------------------------------------------------------
@cuda.jit
def _index_array_kernel(out, strides, sizes, add, total):
    # out[i, k] = (i // strides[k]) % sizes[k]: element i's coordinate along the k-th listed axis
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    m = strides.size
    while t < total:
        k = t % m
        v = (t // m // strides[k]) % sizes[k]
        if add:
            out[t] += v
        else:
            out[t] = v
        t += step


_AL = types.Array(types.int64, 1, "C")
declare("contrib_indexing.index_array", _index_array_kernel, [(_AL, _AL, _AL, types.boolean, types.int64)])


def index_array(ctx, p, inputs, outputs, req):
    from ..cpu.contrib_indexing import index_array_axes
    from .rows import _device
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    shape = inputs[0].shape
    axes = index_array_axes(p, len(shape))
    strides = [int(np.prod(shape[a + 1:])) for a in axes]
    _go(_index_array_kernel, out.size, out.reshape(out.size), _device(strides), _device([shape[a] for a in axes]),
        req[0] == ADD, out.size)


KERNELS = {"_contrib_index_copy": index_copy, "_contrib_backward_index_copy": backward_index_copy,
           "_contrib_index_array": index_array, "_contrib_boolean_mask": boolean_mask,
           "_contrib_backward_boolean_mask": backward_boolean_mask}
TESTED_THROUGH_GRADIENTS = ("_contrib_backward_index_copy", "_contrib_backward_boolean_mask")
WITHOUT = {}
