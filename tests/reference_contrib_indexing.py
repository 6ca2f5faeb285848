"""numpy references of ops/contrib_indexing.py, from MXNet 1.9.1's documentation of index_copy, index_array and
boolean_mask (semantics checked on MXNet: tests/fixtures/mxnet-1.9.1/contrib_nlp/)."""
import numpy as np


def index_copy(p, old, index, new):
    out = old.copy()
    for i, row in enumerate(np.trunc(index.astype(np.float64)).astype(np.int64)):
        out[row] = new[i]                  # in order: a repeated index keeps the last row
    return out


def index_array(p, data):
    ndim = data.ndim
    axes = range(ndim) if p.axes is None else [a % ndim for a in p.axes]
    out = np.empty(data.shape + (len(axes),), np.int64)
    for position in np.ndindex(*data.shape):
        out[position] = [position[a] for a in axes]
    return out


def boolean_mask(p, data, index):
    return data[[i for i in range(len(index)) if index[i] != 0]].reshape((-1,) + data.shape[1:])
