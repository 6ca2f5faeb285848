"""CUDA kernels of shape and indexing ops: transpose, slice_axis, take, where, clip.

Data movement is one strided gather (`_gather_kernel`): element i of the C-contiguous output reads the input at
`offset + sum(coord_d * stride_d)`, the coordinates taken from the output's shape; transpose permutes the input's
strides, slice_axis offsets into the sliced axis. Adjacent dims along which the read stays contiguous are merged
first (`common.collapse`), so a transpose of two blocks costs two divisions per element. The kernels store into
the output's own dtype (bool and the integer types included); float16 runs through a float32 scratch
(ops/cuda/common.py), which moves float16 values exactly.

take computes each position on the device (a float index truncates toward zero, then is clipped or wrapped, as
ops/cpu/indexing.py's `positions`); mode='raise' copies the indices to the host first to check them (and raise as
the CPU kernel does), then gathers on the device.
"""
import numpy as np
from numba import cuda, types

from ..cpu.common import scalar_in
from ..cpu.indexing import _bounds, positions
from ..registry import ADD, NULL
from . import storage as gpu_storage
from .common import (F16, as_compute, collapse, compute_dtype, declare, flat, in_compute_dtype, launch, put, stream,
                     strided_offset)

_I, _B = types.int64, types.boolean
_1D = {t: types.Array(t, 1, "C") for t in (types.float32, types.float64, types.float16, types.int32, types.int64,
                                          types.uint8, types.boolean)}
_A, _AD, _AI = _1D[types.float32], _1D[types.float64], _1D[types.int32]


def _go(kernel, n, *args):
    kernel[launch(n) + (stream(),)](*args)


def _c_strides(shape):
    strides, step = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        strides[d] = step
        step *= shape[d]
    return strides


# ---- strided gather: transpose, slice_axis -----------------------------------------------------------------------
@cuda.jit
def _gather_kernel(out, x, shape, sx, offset, add, n):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        put(out, i, x[strided_offset(i, shape, sx, offset)], add)
        i += step


def _gather_sigs():
    sigs = []
    for nd in (1, 2, 3):
        t = types.UniTuple(_I, nd)
        sigs += [(a, a, t, t, _I, _B, _I) for a in (_A, _AD, _AI)]
    t = types.UniTuple(_I, 2)
    sigs += [(_1D[u], _1D[v], t, t, _I, _B, _I) for u, v in ((types.boolean, types.boolean),
                                                            (types.uint8, types.uint8), (types.float32, types.float16))]
    return sigs


declare("shape.gather", _gather_kernel, _gather_sigs())


def strided_gather(x, out, req, shape, strides, offset=0):
    """out (req) = x read at offset + sum(coord_d * strides[d]) for each coordinate of `shape` (out's shape)."""
    if req == NULL or out.size == 0:
        return
    shape, sx = collapse(shape, strides)
    n = out.size
    if out.dtype == F16:
        in_compute_dtype(out, req, lambda dst: _go(_gather_kernel, n, flat(dst), flat(x), shape, sx, offset, False,
                                                   n))
    else:
        _go(_gather_kernel, n, flat(out), flat(x), shape, sx, offset, req == ADD, n)


def transpose(ctx, p, inputs, outputs, req):
    from ..shape import transpose_perm
    x = inputs[0]
    perm = transpose_perm(p, x.ndim)
    st = _c_strides(x.shape)
    strided_gather(x, outputs[0], req[0], tuple(x.shape[a] for a in perm), tuple(st[a] for a in perm))


def slice_axis(ctx, p, inputs, outputs, req):
    from ..indexing import _slice_axis_bounds
    x = inputs[0]
    a, begin, end = _slice_axis_bounds(p, x.shape)
    st = _c_strides(x.shape)
    shape = tuple(end - begin if d == a else s for d, s in enumerate(x.shape))
    strided_gather(x, outputs[0], req[0], shape, st, begin * st[a] if x.size else 0)


# ---- take --------------------------------------------------------------------------------------------------------
@cuda.jit
def _take_kernel(out, a, idx, n, m, post, wrap, add, total):
    # out viewed (pre, m, post) = a viewed (pre, n, post) at rows pos(idx[j]), j < m
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < total:
        k = i % post
        j = (i // post) % m
        r = i // (post * m)
        q = int(idx[j])
        if wrap:
            q = q % n
            if q < 0:
                q += n
        else:
            q = min(max(q, 0), n - 1)
        v = a[(r * n + q) * post + k]
        put(out, i, v, add)
        i += step


declare("shape.take", _take_kernel, [(_A, _A, _A, _I, _I, _I, _B, _B, _I), (_AD, _AD, _AI, _I, _I, _I, _B, _B, _I),
                                     (_AI, _AI, _1D[types.int64], _I, _I, _I, _B, _B, _I)])


def take(ctx, p, inputs, outputs, req):
    a, idx = inputs
    out = outputs[0]
    axis = p.axis % a.ndim
    n = a.shape[axis]
    post = int(np.prod(a.shape[axis + 1:]))
    if p.mode == "raise" or (n == 0 and idx.size):        # the CPU's checks and errors, on host indices
        positions("take", gpu_storage.to_host(idx, gpu_storage.current_device()), n, p.mode)
    if req[0] == NULL or out.size == 0:
        return
    idx = as_compute(idx)
    m = idx.size
    total = out.size
    wrap = p.mode == "wrap"
    if out.dtype == F16:
        in_compute_dtype(out, req[0], lambda dst: _go(_take_kernel, total, flat(dst), flat(a), flat(idx), n, m,
                                                      post, wrap, False, total))
    else:
        _go(_take_kernel, total, flat(out), flat(a), flat(idx), n, m, post, wrap, req[0] == ADD, total)


# ---- where -------------------------------------------------------------------------------------------------------
@cuda.jit
def _where_kernel(out, c, x, y, row, add, n):
    # out = x where c != 0 (NaN counts as true), else y; c is read at i // row (row > 1: a 1-D condition per row)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        v = x[i] if c[i // row] != 0 else y[i]
        put(out, i, v, add)
        i += step


declare("shape.where", _where_kernel, [(_A, _A, _A, _A, _I, _B, _I), (_AI, _A, _AI, _AI, _I, _B, _I),
                                       (_AD, _1D[types.boolean], _AD, _AD, _I, _B, _I)])


def where(ctx, p, inputs, outputs, req):
    c, x, y = inputs
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    c = as_compute(c)
    row = out.size // c.size if c.ndim == 1 and x.ndim > 1 else 1
    n = out.size
    if out.dtype == F16:
        xc, yc = as_compute(x), as_compute(y)
        in_compute_dtype(out, req[0], lambda dst: _go(_where_kernel, n, flat(dst), flat(c), flat(xc), flat(yc), row,
                                                      False, n))
    else:
        _go(_where_kernel, n, flat(out), flat(c), flat(x), flat(y), row, req[0] == ADD, n)


# ---- clip --------------------------------------------------------------------------------------------------------
@cuda.jit
def _clip_kernel(out, x, lo, hi, lo_v, hi_v, n):
    # MXNet tests x > a_max last: with a_min > a_max, x > a_max gives a_max (ops/cpu/indexing.py's _clip)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        v = x[i]
        r = v
        if v < lo:
            r = lo_v
        if v > hi:
            r = hi_v
        out[i] = r
        i += step


declare("shape.clip", _clip_kernel, [(_A, _A, types.float32, types.float32, types.float32, types.float32, _I),
                                     (_AD, _AD, types.float64, types.float64, types.float64, types.float64, _I),
                                     (_AI, _AI, types.float64, types.float64, types.int32, types.int32, _I)])


def clip(ctx, p, inputs, outputs, req):
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    cdt = compute_dtype(out.dtype)
    x = as_compute(inputs[0], cdt)
    lo, hi = _bounds(p, cdt)
    lo_v, hi_v = scalar_in(p.a_min, cdt)[()], scalar_in(p.a_max, cdt)[()]
    n = out.size
    in_compute_dtype(out, req[0], lambda dst: _go(_clip_kernel, n, flat(dst), flat(x), lo, hi, lo_v, hi_v, n))


KERNELS = {"transpose": transpose, "slice_axis": slice_axis, "take": take, "where": where, "clip": clip}

# NumPy's split into pieces that may be empty (ops/shape.py): a CUDA kernel is future work
WITHOUT = {name: "NumPy's split with empty pieces (ops/shape.py); a CUDA kernel is future work: runs through the host"
           for name in ("_split_v2", "_split_v2_backward", "_npi_hsplit", "_npi_hsplit_backward")}
