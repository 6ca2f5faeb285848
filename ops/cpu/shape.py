"""CPU kernels of the shape family (ops/shape.py): data movement as numpy views copied once, and a tiled numba
transpose.

Most forward ops here move data without arithmetic, so their kernel is a strided view of the input (a reversed
view, a broadcast of a reshaped input, a diagonal) stored into the preallocated output by `assign`, numpy's copy
loop (it releases the GIL and handles every dtype, float16 and bool included). Permutations are the exception:
numpy's strided copy of a 1024 x 1024 transpose takes ~10 ms, so those that swap two blocks of axes (2-D .T,
NCHW <-> NHWC, SwapAxis) run `_swap_blocks`, a tiled njit(nogil=True) loop (~1 ms), moving float16 as its uint16
bits. expand_dims and squeeze copy only when the output is not the input's memory (`copy_view`). The backward
kernels that sum (tile, repeat, Pad, UpSampling) reduce a reshaped view of the gradient with numpy's SIMD sums,
in float32 for float16. Axis normalisation lives in ops/shape.py with the shape rules, so the two never disagree.
"""
import numpy as np
from numba import njit

from .common import F16, F32, assign, compute_dtype, copy_view, scalar_in, store
from ..registry import NULL


def _work(x):
    """x in the dtype sums are computed in (float16 -> float32)."""
    return x.astype(F32) if x.dtype == F16 else x


def _bits(a):
    """a as something numba can move: float16 as its uint16 bits."""
    return a.view(np.uint16) if a.dtype == F16 else a


# ---- views ----------------------------------------------------------------------------------------------------
@njit(nogil=True, cache=True)
def _swap_blocks(src, dst):
    """dst[b, j, i, k] = src[b, i, j, k], in 32 x 32 tiles of (i, j) so that reads and writes stay in cache."""
    nb, m, n, nk = src.shape
    for b in range(nb):
        for i0 in range(0, m, 32):
            for j0 in range(0, n, 32):
                for j in range(j0, min(j0 + 32, n)):
                    if nk == 1:
                        for i in range(i0, min(i0 + 32, m)):
                            dst[b, j, i, 0] = src[b, i, j, 0]
                    else:
                        for i in range(i0, min(i0 + 32, m)):
                            dst[b, j, i, :] = src[b, i, j, :]


def _merged(shape, perm):
    """(shape, perm) with input axes that stay neighbours in perm merged into one."""
    groups = [[perm[0]]]
    for a in perm[1:]:
        if a == groups[-1][-1] + 1:
            groups[-1].append(a)
        else:
            groups.append([a])
    order = sorted(range(len(groups)), key=lambda g: groups[g][0])
    merged_shape = [int(np.prod([shape[a] for a in groups[g]])) for g in order]
    rank = {g: r for r, g in enumerate(order)}
    return merged_shape, [rank[g] for g in range(len(groups))]


def permute(x, perm, out, req):
    """out (req) x.transpose(perm). A permutation that swaps two blocks of axes (2-D .T, NCHW <-> NHWC,
    SwapAxis) runs the tiled numba kernel, ~10x numpy's strided copy on 1024 x 1024; others go through numpy."""
    if req == NULL:
        return
    if x.ndim < 2 or x.size == 0:
        assign(out, req, x.transpose(perm))
        return
    shape, q = _merged(x.shape, perm)
    b = 0
    while b < len(q) and q[b] == b:
        b += 1
    rest = q[b:]
    if rest not in ([b + 1, b], [b + 1, b, b + 2]):
        assign(out, req, x.transpose(perm))
        return
    view = (int(np.prod(shape[:b])), shape[b], shape[b + 1], shape[b + 2] if len(rest) == 3 else 1)

    def compute(dst):
        _swap_blocks(_bits(x).reshape(view), _bits(dst).reshape(view[0], view[2], view[1], view[3]))
    store(out, req, compute)


def transpose(ctx, p, inputs, outputs, req):
    from ..shape import transpose_perm
    permute(inputs[0], transpose_perm(p, inputs[0].ndim), outputs[0], req[0])


def swapaxes(ctx, p, inputs, outputs, req):
    x = inputs[0]
    perm = list(range(x.ndim))
    d1, d2 = p.dim1 % x.ndim, p.dim2 % x.ndim
    perm[d1], perm[d2] = perm[d2], perm[d1]
    permute(x, perm, outputs[0], req[0])


def reshape_view(ctx, p, inputs, outputs, req):
    """expand_dims, squeeze: the output is the input reshaped."""
    copy_view(inputs[0], outputs[0], req[0])


def reverse(ctx, p, inputs, outputs, req):
    x = inputs[0]
    index = [slice(None)] * x.ndim
    for a in p.axis:                      # a repeated axis is reversed twice, as MXNet does
        index[a] = slice(None, None, -1) if index[a] == slice(None) else slice(None)
    assign(outputs[0], req[0], x[tuple(index)])


# ---- tile, repeat ---------------------------------------------------------------------------------------------
def _tile_views(x_shape, reps):
    """(shape of the output as (r0, d0, r1, d1, ...), shape of the input as (1, d0, 1, d1, ...))."""
    ndim = max(len(x_shape), len(reps))
    dims = (1,) * (ndim - len(x_shape)) + tuple(x_shape)
    reps = (1,) * (ndim - len(reps)) + tuple(reps)
    return (tuple(v for r, d in zip(reps, dims) for v in (r, d)),
            tuple(v for d in dims for v in (1, d)))


def tile(ctx, p, inputs, outputs, req):
    x, out = inputs[0], outputs[0]
    wide, narrow = _tile_views(x.shape, p.reps)
    if req[0] != NULL:
        assign(out.reshape(wide), req[0], x.reshape(narrow))


def backward_tile(ctx, p, inputs, outputs, req):
    """inputs (dy, data): dy summed over the repetitions; data gives the shape."""
    dy, x = inputs
    wide, _ = _tile_views(x.shape, p.reps)
    assign(outputs[0], req[0], _work(dy).reshape(wide).sum(axis=tuple(range(0, len(wide), 2))).reshape(x.shape))


def _repeat_views(shape, p):
    """(pre, n, post): the input viewed with the repeated axis in the middle (axis None: flattened)."""
    if p.axis is None:
        return 1, int(np.prod(shape)), 1
    a = p.axis % len(shape)
    return int(np.prod(shape[:a])), shape[a], int(np.prod(shape[a + 1:]))


def repeat(ctx, p, inputs, outputs, req):
    x, out = inputs[0], outputs[0]
    pre, n, post = _repeat_views(x.shape, p)
    if req[0] != NULL:
        assign(out.reshape(pre, n, p.repeats, post), req[0], x.reshape(pre, n, 1, post))


def backward_repeat(ctx, p, inputs, outputs, req):
    dy, x = inputs
    pre, n, post = _repeat_views(x.shape, p)
    assign(outputs[0], req[0], _work(dy).reshape(pre, n, p.repeats, post).sum(axis=2).reshape(x.shape))


# ---- Pad ------------------------------------------------------------------------------------------------------
def _pairs(p, ndim):
    return [(p.pad_width[2 * i], p.pad_width[2 * i + 1]) for i in range(ndim)]


def _axis_view(buf, k, pairs, core_shape):
    """The part of buf that padding step k works on: axes before k full (already padded), after k the core."""
    index = []
    for j, ((before, _), n) in enumerate(zip(pairs, core_shape)):
        index.append(slice(None) if j <= k else slice(before, before + n))
    return buf[tuple(index)]


def _along(k, s):
    return (slice(None),) * k + (s,)


def pad(ctx, p, inputs, outputs, req):
    """numpy.pad's three modes, axis by axis as numpy pads (the corners come from already padded axes)."""
    x = inputs[0]
    pairs = _pairs(p, x.ndim)

    def compute(dst):
        dst[tuple(slice(b, b + n) for (b, _), n in zip(pairs, x.shape))] = x
        for k, ((b, a), n) in enumerate(zip(pairs, x.shape)):
            v = _axis_view(dst, k, pairs, x.shape)
            if p.mode == "constant":
                v[_along(k, slice(0, b))] = scalar_in(p.constant_value, dst.dtype)
                v[_along(k, slice(b + n, None))] = scalar_in(p.constant_value, dst.dtype)
            elif p.mode == "edge":
                v[_along(k, slice(0, b))] = v[_along(k, slice(b, b + 1))]
                v[_along(k, slice(b + n, None))] = v[_along(k, slice(b + n - 1, b + n))]
            else:                              # reflect, the edge not repeated: needs b, a < n
                v[_along(k, slice(0, b))] = np.flip(v[_along(k, slice(b + 1, 2 * b + 1))], axis=k)
                v[_along(k, slice(b + n, None))] = np.flip(v[_along(k, slice(b + n - 1 - a, b + n - 1))], axis=k)
    store(outputs[0], req[0], compute)


def backward_pad(ctx, p, inputs, outputs, req):
    """The adjoint of `pad`: undo its steps last axis first, folding each padded border back onto the cells it
    was copied from (edge: the edge cell; reflect: the mirrored cells); constant borders get no gradient."""
    dy, out = inputs[0], outputs[0]
    pairs = _pairs(p, dy.ndim)
    g = dy if p.mode == "constant" else _work(dy).copy()
    for k in reversed(range(dy.ndim if p.mode != "constant" else 0)):
        (b, a), n = pairs[k], out.shape[k]
        v = _axis_view(g, k, pairs, out.shape)
        if p.mode == "edge":
            v[_along(k, slice(b, b + 1))] += v[_along(k, slice(0, b))].sum(axis=k, keepdims=True)
            v[_along(k, slice(b + n - 1, b + n))] += v[_along(k, slice(b + n, None))].sum(axis=k, keepdims=True)
        else:
            v[_along(k, slice(b + 1, 2 * b + 1))] += np.flip(v[_along(k, slice(0, b))], axis=k)
            v[_along(k, slice(b + n - 1 - a, b + n - 1))] += np.flip(v[_along(k, slice(b + n, None))], axis=k)
    assign(out, req[0], g[tuple(slice(b, b + n) for (b, _), n in zip(pairs, out.shape))])


# ---- stack, split ---------------------------------------------------------------------------------------------
def stack(ctx, p, inputs, outputs, req):
    axis = p.axis % (inputs[0].ndim + 1)
    store(outputs[0], req[0], lambda dst: np.stack(inputs, axis=axis, out=dst))


def slice_channel(ctx, p, inputs, outputs, req):
    x = inputs[0]
    axis = p.axis % x.ndim
    step = x.shape[axis] // p.num_outputs
    for i, (out, r) in enumerate(zip(outputs, req)):
        assign(out, r, x[_along(axis, slice(i * step, (i + 1) * step))].reshape(out.shape))


def broadcast_like(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], inputs[0])


# ---- depth_to_space, space_to_depth ---------------------------------------------------------------------------
def depth_to_space(ctx, p, inputs, outputs, req):
    x, out, b = inputs[0], outputs[0], p.block_size
    n, c, h, w = x.shape
    if req[0] != NULL:
        assign(out.reshape(n, c // (b * b), h, b, w, b), req[0],
               x.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2))


def space_to_depth(ctx, p, inputs, outputs, req):
    x, out, b = inputs[0], outputs[0], p.block_size
    n, c, h, w = x.shape
    if req[0] != NULL:
        assign(out.reshape(n, b, b, c, h // b, w // b), req[0],
               x.reshape(n, c, h // b, b, w // b, b).transpose(0, 3, 5, 1, 2, 4))


# ---- diag -----------------------------------------------------------------------------------------------------
def _diag_index(n_rows, n_cols, k):
    """(rows, cols) of the k-th diagonal of an n_rows x n_cols matrix."""
    length = max(0, min(n_rows, n_cols - k) if k >= 0 else min(n_rows + k, n_cols))
    i = np.arange(length)
    return i + max(-k, 0), i + max(k, 0)


def _diag_axes(p, ndim):
    return p.axis1 % ndim, p.axis2 % ndim


def diag(ctx, p, inputs, outputs, req):
    x, out = inputs[0], outputs[0]
    if x.ndim == 1:
        def compute(dst):
            dst[...] = 0
            dst[_diag_index(dst.shape[0], dst.shape[1], p.k)] = x
        store(out, req[0], compute)
    else:
        a1, a2 = _diag_axes(p, x.ndim)
        assign(out, req[0], np.diagonal(x, p.k, a1, a2))


def backward_diag(ctx, p, inputs, outputs, req):
    """inputs (dy, data): 1-D data gets dy's k-th diagonal; otherwise dy goes onto the diagonal of zeros."""
    dy, x = inputs
    out = outputs[0]
    if x.ndim == 1:
        assign(out, req[0], dy[_diag_index(dy.shape[0], dy.shape[1], p.k)])
        return
    a1, a2 = _diag_axes(p, x.ndim)

    def compute(dst):
        dst[...] = 0
        np.moveaxis(dst, (a1, a2), (-2, -1))[(Ellipsis,) + _diag_index(x.shape[a1], x.shape[a2], p.k)] = dy
    store(out, req[0], compute)


# ---- no inputs: _arange, _eye ---------------------------------------------------------------------------------
def arange(ctx, p, inputs, outputs, req):
    """out[i * repeat + j] = DType(start) + i * DType(step), computed in the output's dtype (float16 in
    float32, rounded once)."""
    out = outputs[0]
    cdt = compute_dtype(out.dtype)
    start = 0.0 if p.stop is None and not p.infer_range else p.start
    n = out.size // p.repeat
    values = scalar_in(start, cdt) + np.arange(n, dtype=cdt) * scalar_in(p.step, cdt)
    if req[0] != NULL:
        assign(out.reshape(n, p.repeat), req[0], values.reshape(n, 1))


def eye(ctx, p, inputs, outputs, req):
    def compute(dst):
        dst[...] = 0
        dst[_diag_index(dst.shape[0], dst.shape[1], p.k)] = 1
    store(outputs[0], req[0], compute)


# ---- UpSampling ----------------------------------------------------------------------------------------------
def _up_parts(p, inputs, out_shape):
    """(input, its scale, the channel slice of the output it lands in) per input."""
    parts, c = [], 0
    for x in inputs:
        s = out_shape[2] // x.shape[2]
        channels = slice(c, c + x.shape[1]) if p.multi_input_mode == "concat" else slice(0, x.shape[1])
        if p.multi_input_mode == "concat":
            c += x.shape[1]
        parts.append((x, s, channels))
    return parts


def _blocks(a, s):
    """a (n, c, h*s, w*s), maybe a channel slice, as a (n, c, h, s, w, s) view (never a copy)."""
    n, c, hs, ws = a.shape
    v = a.view()
    v.shape = (n, c, hs // s, s, ws // s, s)      # raises rather than copy
    return v


def _bilinear_taps(p, x):
    """(k, pad, index) where index(a, b) selects the output cells that input pixels feed through tap (a, b) of
    the k x k kernel, in the output padded by `pad` on each side."""
    from ..upsampling import bilinear_kernel_size
    k, pad = bilinear_kernel_size(p.scale)
    s, (h, w) = p.scale, x.shape[2:]

    def index(a, b):
        return (slice(None), slice(None), slice(a, a + (h - 1) * s + 1, s), slice(b, b + (w - 1) * s + 1, s))
    return k, pad, index


def _bilinear(p, x, weight, dst):
    """dst = the depthwise deconvolution of x with weight (stride scale), computed tap by tap."""
    k, pad, index = _bilinear_taps(p, x)
    xs, ws = _work(x), _work(weight)
    n, c, h, w = x.shape
    full = np.zeros((n, c, h * p.scale + 2 * pad, w * p.scale + 2 * pad), xs.dtype)
    for a in range(k):
        for b in range(k):
            full[index(a, b)] += xs * ws[:, 0, a, b][None, :, None, None]
    dst[...] = full[:, :, pad:pad + h * p.scale, pad:pad + w * p.scale]


def upsampling(ctx, p, inputs, outputs, req):
    """Nearest: each input repeated s x s (s = the output's size over the input's); concatenated along the
    channels, or summed (multi_input_mode='sum'). Bilinear: see `_bilinear`."""
    out = outputs[0]

    def compute(dst):
        if p.sample_type == "bilinear":
            _bilinear(p, inputs[0], inputs[1], dst)
            return
        for i, (x, s, ch) in enumerate(_up_parts(p, inputs, out.shape)):
            view = _blocks(dst[:, ch], s)
            src = x[:, :, :, None, :, None]
            if i and p.multi_input_mode == "sum":
                view += src
            else:
                view[...] = src
    store(out, req[0], compute)


def _backward_bilinear(p, inputs, outputs, req):
    """dx[n, c, i, j] = sum over taps of dy (padded) at the cell x[i, j] fed, times the tap's weight;
    dweight[c, 0, a, b] = sum over n, i, j of those cells times x."""
    dy, x, weight = inputs
    k, pad, index = _bilinear_taps(p, x)
    g = np.pad(_work(dy), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    xs, ws = _work(x), _work(weight)
    dx = np.zeros(x.shape, g.dtype)
    dw = np.zeros(weight.shape, g.dtype)
    for a in range(k):
        for b in range(k):
            cells = g[index(a, b)]
            dx += cells * ws[:, 0, a, b][None, :, None, None]
            dw[:, 0, a, b] = (cells * xs).sum(axis=(0, 2, 3))
    assign(outputs[0], req[0], dx)
    assign(outputs[1], req[1], dw)


def backward_upsampling(ctx, p, inputs, outputs, req):
    """inputs (dy, arg0, ...): nearest: each input's gradient is dy summed over its s x s blocks (in its
    channels); bilinear: `_backward_bilinear`."""
    if p.sample_type == "bilinear":
        _backward_bilinear(p, inputs, outputs, req)
        return
    dy = inputs[0]
    for (_, s, ch), out, r in zip(_up_parts(p, inputs[1:], dy.shape), outputs, req):
        assign(out, r, _blocks(_work(dy[:, ch]), s).sum(axis=(3, 5)))
