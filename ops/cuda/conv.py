"""CUDA kernels of Convolution and Pooling and their backward ops (1-D, 2-D and 3-D, NC* layouts).

Geometry as ops/cpu/conv.py: every kernel works in three spatial dims, 1-D and 2-D data viewed with leading
spatial dims of 1 (`conv_geometry`, `pool_geometry`).

Convolution is im2col + the tiled GEMM of ops/cuda/matrix.py, the whole batch at once: `col` holds one row per
(input channel, kernel offset) and one column per (sample, output position), (C*K, N*L). Per group g,
out[n]_g = W_g @ col_g[:, n*L:(n+1)*L] is one batched GEMM (blockIdx.z = n; the batch strides step through col's
columns and out's samples), then the bias is added per channel. Backward: dy is permuted to (F, N*L) once; then
dW_g = dy_g @ col_g^T and dcol_g = W_g^T @ dy_g are single GEMMs contracting over (sample, position), and col2im
adds dcol back into dx with atomic adds (several columns read one input element). db sums dy over (N, L).

Pooling: one thread per output element walks its window exactly as the CPU loop does (max, avg with or without
the padding in the count, sum, lp with p 1-3). Its backward scatters from each output element into dx with atomic
adds: max to the first element of the window equal to the output, avg/sum spread, lp scaled by (x/y)^(p-1).
Atomic adds make the order of the float additions, not the set of terms, vary from run to run.
"""
import math

import numpy as np
from numba import cuda, float64, types

from ..cpu import elemwise as cpu_elemwise
from ..cpu.conv import conv_geometry
from ..cpu.pooling import pool_geometry
from ..registry import ADD, NULL, WRITE
from .common import as_compute, compute_dtype, copy_into, declare, empty, fill, flat, launch, stream
from .elemwise import map_binary
from .matrix import Mat, gemm
from .reduce import SUM, run_reduce

_A = types.Array(types.float32, 1, "C")
_I, _B = types.int64, types.boolean
_T3 = types.UniTuple(types.int64, 3)


def _go(kernel, n, *args):
    kernel[launch(n) + (stream(),)](*args)


def _spatial3(shape):
    shape = tuple(shape)
    return shape[:2] + (1,) * (5 - len(shape)) + shape[2:]


# ---- im2col / col2im -------------------------------------------------------------------------------------------
@cuda.jit
def _im2col_kernel(col, x, n_batch, chans, dims, odims, ksz, stride, pad, dil, scatter, total):
    # col[(c, a, b, e), (n, oz, oy, ox)] = x[n, c, oz*s0 - p0 + a*d0, oy*s1 - p1 + b*d1, ox*s2 - p2 + e*d2] (0
    # outside); scatter: the reverse, x[...] += col[...] (col2im, atomically: columns overlap)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    ll = odims[0] * odims[1] * odims[2]
    kk_all = ksz[0] * ksz[1] * ksz[2]
    nl = n_batch * ll
    while i < total:
        row = i // nl
        j = i - row * nl
        n = j // ll
        pos = j - n * ll
        c = row // kk_all
        kk = row - c * kk_all
        a = kk // (ksz[1] * ksz[2])
        b = (kk // ksz[2]) % ksz[1]
        e = kk % ksz[2]
        oz = pos // (odims[1] * odims[2])
        oy = (pos // odims[2]) % odims[1]
        ox = pos % odims[2]
        z = oz * stride[0] - pad[0] + a * dil[0]
        y = oy * stride[1] - pad[1] + b * dil[1]
        xx = ox * stride[2] - pad[2] + e * dil[2]
        inside = 0 <= z < dims[0] and 0 <= y < dims[1] and 0 <= xx < dims[2]
        src = (((n * chans + c) * dims[0] + z) * dims[1] + y) * dims[2] + xx
        if scatter:
            if inside:
                cuda.atomic.add(x, src, col[i])
        else:
            col[i] = x[src] if inside else 0
        i += step


@cuda.jit
def _swap01_kernel(dst, src, d0, d1, inner, total):
    # src (d0, d1, inner) -> dst (d1, d0, inner)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < total:
        q = i % inner
        b = (i // inner) % d1
        a = i // (inner * d1)
        dst[(b * d0 + a) * inner + q] = src[i]
        i += step


declare("conv.im2col", _im2col_kernel, [(_A, _A, _I, _I, _T3, _T3, _T3, _T3, _T3, _T3, _B, _I)])
declare("conv.swap01", _swap01_kernel, [(_A, _A, _I, _I, _I, _I)])


class _Geometry:
    """Shapes of one convolution: batch n, channels c, filters f, groups g, spatial dims (3-tuples), K, L."""

    def __init__(self, p, x_shape, y_shape):
        self.n, self.c, *dims = _spatial3(x_shape)
        self.dims = tuple(dims)
        self.f = y_shape[1]
        self.odims = tuple(_spatial3(y_shape)[2:])
        self.ksz, self.stride, self.pad, self.dil = conv_geometry(p, len(p.kernel))
        self.g = p.num_group
        self.k = int(np.prod(self.ksz))
        self.l = int(np.prod(self.odims))
        self.rows = self.c * self.k             # col rows
        self.cols = self.n * self.l             # col columns

    def im2col(self, x, col, scatter=False):
        total = self.rows * self.cols
        _go(_im2col_kernel, total, flat(col), flat(x), self.n, self.c, self.dims, self.odims, self.ksz,
            self.stride, self.pad, self.dil, scatter, total)


def convolution(ctx, p, inputs, outputs, req):
    """out = conv(data, weight) + bias."""
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    cdt = compute_dtype(out.dtype)
    x, w = as_compute(inputs[0], cdt), as_compute(inputs[1], cdt)
    geo = _Geometry(p, x.shape, out.shape)
    col = empty((geo.rows, geo.cols), cdt)
    geo.im2col(x, col)
    dst = out if out.dtype == cdt and req[0] != ADD else empty(out.shape, cdt)
    fg, cg = geo.f // geo.g, geo.rows // geo.g
    wf, colf, dstf = flat(w), flat(col), flat(dst)
    for g in range(geo.g):
        a = Mat(wf[g * fg * cg:], fg, cg, cg, 1, 0)
        b = Mat(colf[g * cg * geo.cols:], cg, geo.l, geo.cols, 1, geo.l)
        c = Mat(dstf[g * fg * geo.l:], fg, geo.l, geo.l, 1, geo.f * geo.l)
        gemm(a, b, c, batch=geo.n)
    if not p.no_bias:
        bias = as_compute(inputs[2], cdt).reshape(1, geo.f, 1)
        d3 = dst.reshape(geo.n, geo.f, geo.l)
        map_binary(cpu_elemwise.add, d3, bias, d3, WRITE)
    if dst is not out:
        copy_into(dst, out, req[0])


def _backward_convolution(ctx, p, inputs, outputs, req):
    """(out_grad, data, weight) -> (data_grad, weight_grad[, bias_grad])."""
    cdt = compute_dtype(inputs[1].dtype)
    dy, x, w = (as_compute(a, cdt) for a in inputs[:3])
    geo = _Geometry(p, x.shape, dy.shape)
    if not p.no_bias and req[2] != NULL:
        run_reduce(SUM, dy.reshape(geo.n, geo.f, geo.l), (0, 2), outputs[2], req[2])
    want_dx, want_dw = req[0] != NULL and outputs[0].size, req[1] != NULL and outputs[1].size
    if not (want_dx or want_dw):
        return
    dyt = empty((geo.f, geo.cols), cdt)                 # (F, N*L)
    _go(_swap01_kernel, dy.size, flat(dyt), flat(dy), geo.n, geo.f, geo.l, dy.size)
    fg, cg = geo.f // geo.g, geo.rows // geo.g
    wf, dytf = flat(w), flat(dyt)
    if want_dw:
        col = empty((geo.rows, geo.cols), cdt)
        geo.im2col(x, col)
        colf = flat(col)
        dw_out = outputs[1]
        dw = dw_out if dw_out.dtype == cdt else empty(dw_out.shape, cdt)
        r = req[1] if dw is dw_out else WRITE
        dwf = flat(dw)
        for g in range(geo.g):      # dW_g = dy_g (fg, N*L) @ col_g^T (N*L, cg)
            gemm(Mat(dytf[g * fg * geo.cols:], fg, geo.cols, geo.cols, 1),
                 Mat(colf[g * cg * geo.cols:], geo.cols, cg, 1, geo.cols),
                 Mat(dwf[g * fg * cg:], fg, cg, cg, 1), req=r)
        if dw is not dw_out:
            copy_into(dw, dw_out, req[1])
    if want_dx:
        dcol = empty((geo.rows, geo.cols), cdt)
        dcolf = flat(dcol)
        for g in range(geo.g):      # dcol_g = W_g^T (cg, fg) @ dy_g (fg, N*L)
            gemm(Mat(wf[g * fg * cg:], cg, fg, 1, cg), Mat(dytf[g * fg * geo.cols:], fg, geo.cols, geo.cols, 1),
                 Mat(dcolf[g * cg * geo.cols:], cg, geo.cols, geo.cols, 1))
        dx_out = outputs[0]
        dx = dx_out if dx_out.dtype == cdt else empty(dx_out.shape, cdt)     # accumulated into: cleared
        if dx is not dx_out or req[0] != ADD:
            fill(dx, 0)
        geo.im2col(dx, dcol, scatter=True)
        if dx is not dx_out:
            copy_into(dx, dx_out, req[0])


# ---- Pooling --------------------------------------------------------------------------------------------------------
MAX, AVG, SUM_, LP = 0, 1, 2, 3
_POOL_CODES = {"max": MAX, "avg": AVG, "sum": SUM_, "lp": LP}


@cuda.jit(device=True)
def _window(o, k, s, p, size):
    """Output position o's window along one axis: [first, end) inside the input, and its length counting the
    padding (what avg pooling divides by with count_include_pad)."""
    start = o * s - p
    return max(start, 0), min(start + k, size), min(start + k, size + p) - start


@cuda.jit(device=True)
def _out_position(i, odims):
    """Output element i as (m, oz, oy, ox), m the sample and channel."""
    ox = i % odims[2]
    oy = (i // odims[2]) % odims[1]
    oz = (i // (odims[2] * odims[1])) % odims[0]
    return i // (odims[2] * odims[1] * odims[0]), oz, oy, ox


@cuda.jit
def _pool_kernel(out, x, dims, odims, ksz, stride, pad, mode, p_value, count_pad, lowest, add, total):
    # out[m, oz, oy, ox] = pool of x[m] over the window (m: sample and channel), as ops/cpu/pooling.py
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < total:
        m, oz, oy, ox = _out_position(i, odims)
        z0, z1, zp = _window(oz, ksz[0], stride[0], pad[0], dims[0])
        y0, y1, yp = _window(oy, ksz[1], stride[1], pad[1], dims[1])
        x0, x1, xp = _window(ox, ksz[2], stride[2], pad[2], dims[2])
        base = m * dims[0] * dims[1] * dims[2]
        if mode == MAX:
            acc = lowest
            for z in range(z0, z1):
                for y in range(y0, y1):
                    for xx in range(x0, x1):
                        v = float64(x[base + (z * dims[1] + y) * dims[2] + xx])
                        if v > acc:
                            acc = v
        else:
            acc = 0.0
            for z in range(z0, z1):
                for y in range(y0, y1):
                    for xx in range(x0, x1):
                        v = float64(x[base + (z * dims[1] + y) * dims[2] + xx])
                        if mode == LP:
                            if p_value == 2:
                                v = v * v
                            elif p_value == 3:
                                v = v * v * v
                        acc += v
            if mode == AVG:
                area = zp * yp * xp if count_pad else (z1 - z0) * (y1 - y0) * (x1 - x0)
                acc = acc / area if area > 0 else 0.0
            elif mode == LP:
                if p_value == 2:
                    acc = math.sqrt(acc)
                elif p_value == 3:
                    acc = math.copysign(math.pow(abs(acc), 1.0 / 3.0), acc)
        if add:
            out[i] += acc
        else:
            out[i] = acc
        i += step


@cuda.jit
def _pool_backward_kernel(dx, dy, x, y, dims, odims, ksz, stride, pad, mode, p_value, count_pad, total):
    # dx += the gradient from output element i (dx is cleared first, or accumulated into for req add)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < total:
        m, oz, oy, ox = _out_position(i, odims)
        z0, z1, zp = _window(oz, ksz[0], stride[0], pad[0], dims[0])
        y0, y1, yp = _window(oy, ksz[1], stride[1], pad[1], dims[1])
        x0, x1, xp = _window(ox, ksz[2], stride[2], pad[2], dims[2])
        base = m * dims[0] * dims[1] * dims[2]
        g = dy[i]
        yv = y[i]
        if mode == MAX:
            done = False
            for z in range(z0, z1):
                for yy in range(y0, y1):
                    for xx in range(x0, x1):
                        k = base + (z * dims[1] + yy) * dims[2] + xx
                        if not done and x[k] == yv:
                            cuda.atomic.add(dx, k, g)
                            done = True
        else:
            go = True
            if mode == AVG:
                area = zp * yp * xp if count_pad else (z1 - z0) * (y1 - y0) * (x1 - x0)
                if area <= 0:
                    go = False
                else:
                    g = g / area
            if go:
                for z in range(z0, z1):
                    for yy in range(y0, y1):
                        for xx in range(x0, x1):
                            k = base + (z * dims[1] + yy) * dims[2] + xx
                            if mode == LP and p_value > 1:
                                r = x[k] / yv
                                cuda.atomic.add(dx, k, g * (r if p_value == 2 else r * r))
                            else:
                                cuda.atomic.add(dx, k, g)
        i += step


declare("conv.pool", _pool_kernel, [(_A, _A, _T3, _T3, _T3, _T3, _T3, _I, _I, _B, types.float64, _B, _I)])
declare("conv.pool_backward", _pool_backward_kernel, [(_A, _A, _A, _A, _T3, _T3, _T3, _T3, _T3, _I, _I, _B, _I)])


def _pool_args(p, shape):
    kernel, stride, pad = pool_geometry(p, shape)
    count_pad = p.count_include_pad is None or p.count_include_pad
    return (tuple(kernel), tuple(stride), tuple(pad), _POOL_CODES[p.pool_type], int(p.p_value or 1),
            bool(count_pad))


def pooling(ctx, p, inputs, outputs, req):
    """out = max/avg/sum/lp pooling of data over each window (MXNet's windows, see ops/cpu/pooling.py)."""
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    x = as_compute(inputs[0])
    ksz, stride, pad, mode, p_value, count_pad = _pool_args(p, tuple(x.shape))
    dims, odims = tuple(_spatial3(x.shape)[2:]), tuple(_spatial3(out.shape)[2:])
    lowest = float(np.finfo(out.dtype).min)
    mask = outputs[1] if len(outputs) > 1 else None     # MXNet's hidden workspace of max pooling: y again
    dst = out if out.dtype == x.dtype and mask is None else empty(out.shape, x.dtype)
    add = req[0] == ADD and dst is out
    _go(_pool_kernel, dst.size, flat(dst), flat(x), dims, odims, ksz, stride, pad, mode, p_value, count_pad,
        lowest, add, dst.size)
    if dst is not out:
        copy_into(dst, out, req[0])
        if mask is not None:
            copy_into(dst, mask, req[1])


def _backward_pooling(ctx, p, inputs, outputs, req):
    """(out_grad, data, output) -> data_grad."""
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    cdt = compute_dtype(inputs[1].dtype)
    dy, x, y = (as_compute(a, cdt) for a in inputs[:3])
    ksz, stride, pad, mode, p_value, count_pad = _pool_args(p, tuple(x.shape))
    dims, odims = tuple(_spatial3(x.shape)[2:]), tuple(_spatial3(dy.shape)[2:])
    dx = out if out.dtype == cdt else empty(out.shape, cdt)       # accumulated into: cleared unless req add
    if dx is not out or req[0] != ADD:
        fill(dx, 0)
    _go(_pool_backward_kernel, dy.size, flat(dx), flat(dy), flat(x), flat(y), dims, odims, ksz, stride, pad, mode,
        p_value, count_pad, dy.size)
    if dx is not out:
        copy_into(dx, out, req[0])


def _channels_first_only(kernel, name):
    """Channel-last Pooling (NWC, NHWC, NDHWC) runs through the host: these loops index channel-first arrays."""
    def run(ctx, p, inputs, outputs, req):
        if p.layout is not None and p.layout[1] != "C":
            from . import host_fallback
            from ..registry import get
            return host_fallback(get(name))(ctx, p, inputs, outputs, req)
        return kernel(ctx, p, inputs, outputs, req)
    run.__name__ = kernel.__name__
    return run


def _convolution_fused(ctx, p, inputs, outputs, req):
    """`_conv_fused` (inference folding's epilogue, ops/fold.py): the convolution, then * scale + shift per channel
    (scale_shift; the convolution runs without a bias then) and its activation (act_type) over its output."""
    from .elemwise import map_unary
    out = outputs[0]
    if req[0] == ADD:
        tmp = empty(out.shape, out.dtype)
        _convolution_fused(ctx, p, inputs, [tmp], [WRITE])
        copy_into(tmp, out, ADD)
        return
    if req[0] == NULL:
        return
    if p.scale_shift:       # the convolution's own bias is folded into shift
        from ..registry import Params
        convolution(ctx, Params(dict(p.as_dict(), no_bias=True)), inputs[:2], outputs, req)
    else:
        convolution(ctx, p, inputs, outputs, req)
    if p.scale_shift:
        d3 = out.reshape(out.shape[0], out.shape[1], -1)
        for f, per_channel in ((cpu_elemwise.mul, inputs[2]), (cpu_elemwise.add, inputs[3])):
            map_binary(f, d3, as_compute(per_channel, out.dtype).reshape(1, out.shape[1], 1), d3, WRITE)
    if p.act_type == "relu":
        map_unary(cpu_elemwise.relu, out, out, WRITE)
    elif p.act_type == "clip":        # p carries clip's a_min and a_max
        from .shape import clip
        clip(ctx, p, [out], [out], [WRITE])
    elif p.act_type == "leaky":       # and LeakyReLU's act_type and slope
        from .activation import leaky_relu
        leaky_relu(ctx, p, [out], [out], [WRITE])


KERNELS = {"Convolution": convolution, "_conv_fused": _convolution_fused,
           "_backward_Convolution": _backward_convolution,
           "Pooling": _channels_first_only(pooling, "Pooling"),
           "_backward_Pooling": _channels_first_only(_backward_pooling, "_backward_Pooling")}
