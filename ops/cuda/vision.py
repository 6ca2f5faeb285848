"""CUDA kernels of ops/vision.py: GridGenerator, BilinearSampler, SpatialTransformer, ROIPooling and their backward
ops, with the CPU kernels' arithmetic (ops/cpu/vision.py's docstring).

One thread per output element (the samplers' backward: per grid point, looping over channels). Gradients that
several threads add into (the data of a sampler, ROIPooling's maxima) accumulate with atomic adds into a float64
scratch. ROIPooling's window bounds are computed on the host by the CPU's function, which needs the rois there: a
small copy that waits for the stream.
"""
import math

import numpy as np
from numba import cuda, float64, types

from ..cpu import vision as cpu_vision
from ..registry import NULL
from . import storage as gpu_storage
from .common import as_compute, copy_into, declare, empty, fill, flat, launch, stream


def _go(kernel, n, *args):
    if n:
        kernel[launch(n) + (stream(),)](*args)


# ---- grids ----------------------------------------------------------------------------------------------------------
@cuda.jit(device=True)
def _target(k, h, w):
    """Normalised (x, y) of flat target position k: -1 + j * 2 / (w - 1) (NaN for a size of 1, as MXNet)."""
    i = k // w
    j = k - i * w
    x = -1.0 + j * 2.0 / (w - 1) if w > 1 else math.nan
    y = -1.0 + i * 2.0 / (h - 1) if h > 1 else math.nan
    return x, y


@cuda.jit
def _target_kernel(target, h, w, total):
    # target (3, h * w): rows x, y, 1
    k = cuda.grid(1)
    step = cuda.gridsize(1)
    while k < total:
        x, y = _target(k, h, w)
        target[k] = x
        target[total + k] = y
        target[2 * total + k] = 1.0
        k += step


@cuda.jit
def _affine_kernel(grid, theta, h, w, total):
    # grid[n, r, k] = theta[n, r, 0] x_k + theta[n, r, 1] y_k + theta[n, r, 2]
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    hw = h * w
    while t < total:
        n = t // hw
        k = t - n * hw
        x, y = _target(k, h, w)
        for r in range(2):
            a = n * 6 + r * 3
            grid[(n * 2 + r) * hw + k] = float64(theta[a]) * x + float64(theta[a + 1]) * y + float64(theta[a + 2])
        t += step


@cuda.jit
def _affine_backward_kernel(dtheta, dgrid, h, w, total):
    # dtheta[n, r, c] = sum over k of dgrid[n, r, k] * (x_k, y_k, 1)[c]
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    hw = h * w
    while t < total:
        n = t // 6
        r = (t - n * 6) // 3
        c = t - n * 6 - r * 3
        s = 0.0
        for k in range(hw):
            x, y = _target(k, h, w)
            v = x if c == 0 else (y if c == 1 else 1.0)
            s += float64(dgrid[(n * 2 + r) * hw + k]) * v
        dtheta[t] = s
        t += step


@cuda.jit
def _warp_kernel(grid, pixels, flow, h, w, backward, total):
    # forward: grid = (flow + pixel) * 2 / (size - 1) - 1 and pixels (2, h, w); backward: grid = flow * 2 / (size - 1)
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    hw = h * w
    while t < total:
        k = t % hw
        r = (t // hw) % 2
        size = w if r == 0 else h
        pixel = k % w if r == 0 else k // w
        scale = 2.0 / (size - 1) if size > 1 else math.inf
        if backward:
            grid[t] = float64(flow[t]) * scale
        else:
            grid[t] = (float64(flow[t]) + pixel) * scale - 1.0
            if t < 2 * hw:
                pixels[t] = pixel
        t += step


# ---- the bilinear sampler -------------------------------------------------------------------------------------------
@cuda.jit(device=True)
def _corner(g, size):
    """(pixel coordinate, floor of it as an int, weight of the floor neighbour) of grid value g."""
    real = (float64(g) + 1.0) * (size - 1) / 2.0
    if math.isnan(real) or math.isinf(real):
        return real, -2, real          # no neighbour inside; the NaN weight makes the sample NaN
    lo = math.floor(real)
    return real, int(lo), 1.0 - (real - lo)


@cuda.jit
def _sample_kernel(out, x, grid, c_, h, w, oh, ow, total):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    ohw = oh * ow
    while t < total:
        k = t % ohw
        c = (t // ohw) % c_
        n = t // (ohw * c_)
        _, x0, wx = _corner(grid[n * 2 * ohw + k], w)
        _, y0, wy = _corner(grid[(n * 2 + 1) * ohw + k], h)
        base = (n * c_ + c) * h
        v = 0.0
        for q in range(4):
            yy = y0 + q // 2
            xx = x0 + q % 2
            value = 0.0
            if 0 <= yy < h and 0 <= xx < w:
                value = float64(x[(base + yy) * w + xx])
            v += value * (wy if q < 2 else 1.0 - wy) * (wx if q % 2 == 0 else 1.0 - wx)
        out[t] = v
        t += step


@cuda.jit
def _sample_backward_kernel(dx, dgrid, dy, x, grid, c_, h, w, oh, ow, total):
    # per grid point: dx += dy * weight at the 4 neighbours (atomically), dgrid = d out / d grid summed over c
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    ohw = oh * ow
    while t < total:
        k = t % ohw
        n = t // ohw
        _, x0, wx = _corner(grid[n * 2 * ohw + k], w)
        _, y0, wy = _corner(grid[(n * 2 + 1) * ohw + k], h)
        gx = 0.0
        gy = 0.0
        for c in range(c_):
            g = float64(dy[((n * c_ + c) * oh * ow) + k])
            base = (n * c_ + c) * h
            v0 = 0.0
            v1 = 0.0
            v2 = 0.0
            v3 = 0.0
            for q in range(4):
                yy = y0 + q // 2
                xx = x0 + q % 2
                if 0 <= yy < h and 0 <= xx < w:
                    e = (base + yy) * w + xx
                    value = float64(x[e])
                    if q == 0:
                        v0 = value
                    elif q == 1:
                        v1 = value
                    elif q == 2:
                        v2 = value
                    else:
                        v3 = value
                    cuda.atomic.add(dx, e, g * (wy if q < 2 else 1.0 - wy) * (wx if q % 2 == 0 else 1.0 - wx))
            gx -= g * (wy * (v0 - v1) + (1.0 - wy) * (v2 - v3))
            gy -= g * (wx * (v0 - v2) + (1.0 - wx) * (v1 - v3))
        dgrid[n * 2 * ohw + k] = gx * (w - 1) / 2.0
        dgrid[(n * 2 + 1) * ohw + k] = gy * (h - 1) / 2.0
        t += step


# ---- ROIPooling ---------------------------------------------------------------------------------------------------
@cuda.jit
def _roi_max_kernel(out, argmax, x, batch, h0, h1, w0, w1, c_, h, w, ph, pw, total):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        j = t % pw
        i = (t // pw) % ph
        c = (t // (pw * ph)) % c_
        r = t // (pw * ph * c_)
        b = batch[r]
        best = -math.inf
        where = -1
        if b >= 0:
            base = (b * c_ + c) * h
            for a in range(h0[r * ph + i], h1[r * ph + i]):
                for q in range(w0[r * pw + j], w1[r * pw + j]):
                    v = float64(x[(base + a) * w + q])
                    if v > best:
                        best = v
                        where = a * w + q
        out[t] = best if where >= 0 else 0.0
        argmax[t] = where
        t += step


@cuda.jit
def _roi_backward_kernel(dx, dy, rois, argmax, n_, c_, hw, ph, pw, total):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        c = (t // (pw * ph)) % c_
        r = t // (pw * ph * c_)
        b = int(rois[r * 5])
        where = int(argmax[t])
        if 0 <= b < n_ and where >= 0:
            cuda.atomic.add(dx, (b * c_ + c) * hw + where, float64(dy[t]))
        t += step


_I = types.int64
_B = types.boolean
_A64 = types.Array(types.float64, 1, "C")
_AI = types.Array(types.int64, 1, "C")
_ARRAYS = [types.Array(t, 1, "C") for t in (types.float32, types.float64)]
declare("vision.target", _target_kernel, [(_A64, _I, _I, _I)])
declare("vision.affine", _affine_kernel, [(a, a, _I, _I, _I) for a in _ARRAYS])
declare("vision.affine_backward", _affine_backward_kernel, [(_A64, a, _I, _I, _I) for a in _ARRAYS])
declare("vision.warp", _warp_kernel, [(a, a, a, _I, _I, _B, _I) for a in _ARRAYS])
declare("vision.sample", _sample_kernel, [(a, a, a) + (_I,) * 6 for a in _ARRAYS])
declare("vision.sample_backward", _sample_backward_kernel, [(_A64, a, a, a, a) + (_I,) * 6 for a in _ARRAYS])
declare("vision.roi_max", _roi_max_kernel, [(a, _AI, a, _AI, _AI, _AI, _AI, _AI) + (_I,) * 6 for a in _ARRAYS])
declare("vision.roi_backward", _roi_backward_kernel, [(_A64, a, a, a) + (_I,) * 6 for a in _ARRAYS])


# ---- wrappers -------------------------------------------------------------------------------------------------------
def _target_grid(h, w, out, req):
    if req == NULL:
        return
    target = empty((3, h * w), np.float64)
    _go(_target_kernel, h * w, flat(target), h, w, h * w)
    copy_into(target, out, req)


def _affine_grid(theta, h, w):
    """(N, 2, h, w) source grid of the affine maps theta, in theta's compute dtype."""
    theta = as_compute(theta)
    grid = empty((theta.shape[0], 2, h, w), theta.dtype)
    _go(_affine_kernel, theta.shape[0] * h * w, flat(grid), flat(theta), h, w, theta.shape[0] * h * w)
    return grid


def _affine_backward(dgrid, out, req):
    n, _, h, w = dgrid.shape
    dtheta = empty((n, 6), np.float64)
    _go(_affine_backward_kernel, n * 6, flat(dtheta), flat(as_compute(dgrid)), h, w, n * 6)
    copy_into(dtheta, out, req)


def _sample(x, grid, out, req):
    if req == NULL:
        return
    x = as_compute(x)
    grid = as_compute(grid, x.dtype)
    n, c, h, w = x.shape
    oh, ow = grid.shape[2:]
    dst = empty(out.shape, x.dtype)
    _go(_sample_kernel, dst.size, flat(dst), flat(x), flat(grid), c, h, w, oh, ow, dst.size)
    copy_into(dst, out, req)


def _sample_backward(dy, x, grid, dx_out, dx_req, dgrid_out, dgrid_req):
    x = as_compute(x)
    dy, grid = as_compute(dy, x.dtype), as_compute(grid, x.dtype)
    n, c, h, w = x.shape
    oh, ow = grid.shape[2:]
    dx = empty(x.shape, np.float64)
    fill(dx, 0)
    dgrid = empty(grid.shape, x.dtype)
    _go(_sample_backward_kernel, n * oh * ow, flat(dx), flat(dgrid), flat(dy), flat(x), flat(grid), c, h, w, oh, ow,
        n * oh * ow)
    copy_into(dx, dx_out, dx_req)
    return dgrid if dgrid_out is None else copy_into(dgrid, dgrid_out, dgrid_req)


def grid_generator(ctx, p, inputs, outputs, req):
    if p.transform_type == "affine":
        h, w = p.target_shape
        copy_into(_affine_grid(inputs[0], h, w), outputs[0], req[0])
        _target_grid(h, w, outputs[1], req[1])
        return
    flow = as_compute(inputs[0])
    h, w = flow.shape[2:]
    grid, pixels = empty(flow.shape, flow.dtype), empty((2, h, w), flow.dtype)
    _go(_warp_kernel, flow.size, flat(grid), flat(pixels), flat(flow), h, w, False, flow.size)
    copy_into(grid, outputs[0], req[0])
    copy_into(pixels, outputs[1], req[1])


def backward_grid_generator(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data) -> data_grad."""
    if req[0] == NULL:
        return
    if p.transform_type == "affine":
        _affine_backward(inputs[0], outputs[0], req[0])
        return
    dgrid = as_compute(inputs[0])
    h, w = dgrid.shape[2:]
    dflow = empty(dgrid.shape, dgrid.dtype)      # (the pixels argument is not written backwards)
    _go(_warp_kernel, dgrid.size, flat(dflow), flat(dflow), flat(dgrid), h, w, True, dgrid.size)
    copy_into(dflow, outputs[0], req[0])


def bilinear_sampler(ctx, p, inputs, outputs, req):
    _sample(inputs[0], inputs[1], outputs[0], req[0])
    fill(outputs[1], 0, req[1])


def backward_bilinear_sampler(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data, grid) -> data_grad, grid_grad."""
    _sample_backward(inputs[0], inputs[1], inputs[2], outputs[0], req[0], outputs[1], req[1])


def spatial_transformer(ctx, p, inputs, outputs, req):
    """outputs: the sampled data, the hidden target grid (3, H * W) and source grid (N, 2, H, W)."""
    h, w = p.target_shape
    grid = _affine_grid(inputs[1], h, w)
    _sample(inputs[0], grid, outputs[0], req[0])
    _target_grid(h, w, outputs[1], req[1])
    copy_into(grid, outputs[2], req[2])


def backward_spatial_transformer(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data, grid_src) -> data_grad, loc_grad."""
    dgrid = _sample_backward(inputs[0], inputs[1], inputs[2], outputs[0], req[0], None, NULL)
    if req[1] != NULL:
        _affine_backward(dgrid, outputs[1], req[1])


def roi_pooling(ctx, p, inputs, outputs, req):
    """The CPU's window bounds (computed on the host from the rois), then one thread per output cell."""
    x, rois = as_compute(inputs[0]), inputs[1]
    dev = gpu_storage.current_device()
    host_rois = gpu_storage.to_host(rois, dev)
    cdt = x.dtype
    r = host_rois.astype(cdt)
    scaled = cpu_vision._round_half_away(r[:, 1:5] * cdt.type(p.spatial_scale))
    ph, pw = p.pooled_size
    bounds = (cpu_vision._roi_windows((scaled[:, 1], scaled[:, 3]), ph, x.shape[2], cdt) +
              cpu_vision._roi_windows((scaled[:, 0], scaled[:, 2]), pw, x.shape[3], cdt))
    batch = np.trunc(r[:, 0].astype(np.float64)).astype(np.int64)
    batch[(batch < 0) | (batch >= x.shape[0])] = -1
    device = []
    for host in (batch,) + bounds:
        d = empty(host.shape, np.int64)
        gpu_storage.from_host(host, d, dev)
        device.append(flat(d))
    out, argmax = empty(outputs[0].shape, cdt), empty(outputs[0].shape, cdt)
    _go(_roi_max_kernel, out.size, flat(out), flat(argmax), flat(x), *device, x.shape[1], x.shape[2], x.shape[3],
        ph, pw, out.size)
    copy_into(out, outputs[0], req[0])
    copy_into(argmax, outputs[1], req[1])


def backward_roi_pooling(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data, rois, maxidx) -> data_grad."""
    if req[0] == NULL:
        return
    x = inputs[1]
    cdt = as_compute(inputs[0]).dtype
    dy, rois, argmax = (as_compute(a, cdt) for a in (inputs[0], inputs[2], inputs[3]))
    n, c, h, w = x.shape
    dx = empty(x.shape, np.float64)
    fill(dx, 0)
    _go(_roi_backward_kernel, dy.size, flat(dx), flat(dy), flat(rois), flat(argmax), n, c, h * w, dy.shape[2],
        dy.shape[3], dy.size)
    copy_into(dx, outputs[0], req[0])


KERNELS = {"GridGenerator": grid_generator, "_backward_GridGenerator": backward_grid_generator,
           "BilinearSampler": bilinear_sampler, "_backward_BilinearSampler": backward_bilinear_sampler,
           "SpatialTransformer": spatial_transformer, "_backward_SpatialTransformer": backward_spatial_transformer,
           "ROIPooling": roi_pooling, "_backward_ROIPooling": backward_roi_pooling}
WITHOUT = {}
# backward ops without a spec row: tests/cuda_vision_cases.py compares them with the CPU kernels under the
# simulator (run by tests/test_new_ops.py::test_vision_kernels_under_the_simulator)
TESTED_THROUGH_GRADIENTS = {"_backward_GridGenerator", "_backward_BilinearSampler", "_backward_SpatialTransformer",
                            "_backward_ROIPooling"}
