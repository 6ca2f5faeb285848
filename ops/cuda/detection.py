"""CUDA kernels of ops/detection.py: MultiBoxPrior, ROIAlign, PSROIPooling, DeformableConvolution and
ModulatedDeformableConvolution with their backward ops, with the CPU kernels' arithmetic (ops/cpu/detection.py's and
ops/cpu/deformable.py's docstrings). MultiBoxTarget runs through the host (`WITHOUT`). The deformable convolutions are
a deformable im2col kernel plus one batched GEMM per group, in float64.

One thread per output element; the backward kernels scatter each output gradient into a float64 scratch with
atomic adds. What depends on the rois' values beyond the samples is worked out on the host by the CPU's functions:
the batch indices and their checks (ROIAlign, PSROIPooling) and PSROIPooling's bin bounds, so the rois are copied
to the host, a small copy that waits for the stream. MultiBoxPrior's per-pixel box sizes come from its params alone.
"""
import math

import numpy as np
from numba import cuda, float32, float64, types

from ..cpu import detection as cpu_detection
from ..registry import ADD, NULL, WRITE
from . import storage as gpu_storage
from .common import as_compute, copy_into, declare, empty, fill, flat, launch, stream
from .matrix import Mat, gemm


def _go(kernel, n, *args):
    if n:
        kernel[launch(n) + (stream(),)](*args)


def _to_device(host, dtype):
    d = empty(host.shape, dtype)
    gpu_storage.from_host(host, d, gpu_storage.current_device())
    return d


def _host(x):
    return gpu_storage.to_host(x, gpu_storage.current_device())


# ---- MultiBoxPrior ------------------------------------------------------------------------------------------------
@cuda.jit
def _prior_kernel(out, halves, n_anchors, width, step_y, step_x, offset_y, offset_x, clip, total):
    # out (H * W * n_anchors, 4) float32; halves (n_anchors, 2) half widths and heights; float32 arithmetic
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        k = t % n_anchors
        pixel = t // n_anchors
        cy = (float32(pixel // width) + offset_y) * step_y
        cx = (float32(pixel % width) + offset_x) * step_x
        hw = halves[2 * k]
        hh = halves[2 * k + 1]
        box = (cx - hw, cy - hh, cx + hw, cy + hh)
        for e in range(4):
            v = box[e]
            if clip:
                v = min(max(v, float32(0.0)), float32(1.0))
            out[4 * t + e] = v
        t += step


def multibox_prior(ctx, p, inputs, outputs, req):
    if req[0] == NULL:
        return
    h, w = inputs[0].shape[2:4]
    halves = cpu_detection.prior_half_sizes(p, h, w)
    step_y, step_x = cpu_detection.prior_steps(p, h, w)
    out = empty(outputs[0].shape, np.float32)
    total = h * w * len(halves)
    _go(_prior_kernel, total, flat(out), flat(_to_device(halves, np.float32)), len(halves), w, step_y, step_x,
        np.float32(p.offsets[0]), np.float32(p.offsets[1]), bool(p.clip), total)
    copy_into(out, outputs[0], req[0])


# ---- ROIAlign -----------------------------------------------------------------------------------------------------
@cuda.jit(device=True)
def _align_geometry(rois, r, scale, ph_, pw_, sample_ratio, aligned):
    """(x0, y0, bin_w, bin_h, grid_w, grid_h, count) of roi r, as the CPU's _roi_align_pass."""
    offset = 0.5 if aligned else 0.0
    x0 = float64(rois[5 * r + 1]) * scale - offset
    y0 = float64(rois[5 * r + 2]) * scale - offset
    roi_w = float64(rois[5 * r + 3]) * scale - offset - x0
    roi_h = float64(rois[5 * r + 4]) * scale - offset - y0
    if not aligned:
        roi_w = max(roi_w, 1.0)
        roi_h = max(roi_h, 1.0)
    grid_h = sample_ratio if sample_ratio > 0 else int(math.ceil(roi_h / ph_))
    grid_w = sample_ratio if sample_ratio > 0 else int(math.ceil(roi_w / pw_))
    return x0, y0, roi_w / pw_, roi_h / ph_, grid_w, grid_h, max(grid_h * grid_w, 1)


@cuda.jit(device=True)
def _corners(y, x, height, width):
    """(inside, y_lo, x_lo, y_hi, x_hi, ly, lx) of a bilinear sample at (y, x), as the CPU's."""
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return False, 0, 0, 0, 0, 0.0, 0.0
    y = max(y, 0.0)
    x = max(x, 0.0)
    y_lo = int(y)
    x_lo = int(x)
    if y_lo >= height - 1:
        y_lo = height - 1
        y_hi = y_lo
        y = float64(y_lo)
    else:
        y_hi = y_lo + 1
    if x_lo >= width - 1:
        x_lo = width - 1
        x_hi = x_lo
        x = float64(x_lo)
    else:
        x_hi = x_lo + 1
    return True, y_lo, x_lo, y_hi, x_hi, y - y_lo, x - x_lo


@cuda.jit
def _align_kernel(out, x, dx, rois, batch, scale, sample_ratio, position_sensitive, aligned, backward, c_in, c_out,
                  height, width, ph_, pw_, total):
    # forward: out[t] = the bin's average of samples of x; backward: out is the output gradient, spread into dx
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        j = t % pw_
        i = (t // pw_) % ph_
        c = (t // (pw_ * ph_)) % c_out
        r = t // (pw_ * ph_ * c_out)
        b = batch[r]
        value = 0.0
        if b >= 0:
            x0, y0, bin_w, bin_h, grid_w, grid_h, count = _align_geometry(rois, r, scale, ph_, pw_, sample_ratio,
                                                                          aligned)
            src = (c * ph_ + i) * pw_ + j if position_sensitive else c
            base = (b * c_in + src) * height * width
            g = float64(out[t]) / count if backward else 0.0
            for iy in range(grid_h):
                y = y0 + i * bin_h + (iy + 0.5) * bin_h / grid_h
                for ix in range(grid_w):
                    xx = x0 + j * bin_w + (ix + 0.5) * bin_w / grid_w
                    inside, y_lo, x_lo, y_hi, x_hi, ly, lx = _corners(y, xx, height, width)
                    if not inside:
                        continue
                    w1 = (1.0 - ly) * (1.0 - lx)
                    w2 = (1.0 - ly) * lx
                    w3 = ly * (1.0 - lx)
                    w4 = ly * lx
                    if backward:
                        cuda.atomic.add(dx, base + y_lo * width + x_lo, g * w1)
                        cuda.atomic.add(dx, base + y_lo * width + x_hi, g * w2)
                        cuda.atomic.add(dx, base + y_hi * width + x_lo, g * w3)
                        cuda.atomic.add(dx, base + y_hi * width + x_hi, g * w4)
                    else:
                        value += (w1 * x[base + y_lo * width + x_lo] + w2 * x[base + y_lo * width + x_hi] +
                                  w3 * x[base + y_hi * width + x_lo] + w4 * x[base + y_hi * width + x_hi])
            value /= count
        if not backward:
            out[t] = value
        t += step


def _align(p, x_shape, rois, out, x, dx, backward):
    batch = cpu_detection.roi_align_batch(p, _host(rois), x_shape)
    n_rois, c_out, ph_, pw_ = out.shape
    _go(_align_kernel, out.size, flat(out), flat(x), flat(dx), flat(rois), flat(_to_device(batch, np.int64)),
        float(p.spatial_scale), p.sample_ratio, bool(p.position_sensitive), bool(p.aligned), backward, x_shape[1],
        c_out, x_shape[2], x_shape[3], ph_, pw_, out.size)


def roi_align(ctx, p, inputs, outputs, req):
    if req[0] == NULL:
        return
    x = as_compute(inputs[0], np.float64)
    out = empty(outputs[0].shape, np.float64)
    _align(p, x.shape, as_compute(inputs[1], np.float64), out, x, x, False)
    copy_into(out, outputs[0], req[0])


def backward_roi_align(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data, rois) -> data_grad."""
    if req[0] == NULL:
        return
    dy = as_compute(inputs[0], np.float64)
    dx = empty(inputs[1].shape, np.float64)
    fill(dx, 0)
    _align(p, dx.shape, as_compute(inputs[2], np.float64), dy, dx, dx, True)
    copy_into(dx, outputs[0], req[0])


# ---- PSROIPooling -------------------------------------------------------------------------------------------------
@cuda.jit
def _psroi_kernel(out, x, dx, batch, h0, h1, w0, w1, groups, group_size, backward, c_in, dims, height, width, pooled,
                  total):
    # forward: out[t] = the bin's mean of its group cell's channel; backward: out's gradient / area into dx
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        j = t % pooled
        i = (t // pooled) % pooled
        d = (t // (pooled * pooled)) % dims
        r = t // (pooled * pooled * dims)
        a0 = h0[r * pooled + i]
        a1 = h1[r * pooled + i]
        k0 = w0[r * pooled + j]
        k1 = w1[r * pooled + j]
        empty_bin = a1 <= a0 or k1 <= k0
        area = float64((a1 - a0) * (k1 - k0))
        c = (d * group_size + groups[i]) * group_size + groups[j]
        base = (batch[r] * c_in + c) * height * width
        if backward:
            if not empty_bin:
                g = float64(out[t]) / area
                for a in range(a0, a1):
                    for k in range(k0, k1):
                        cuda.atomic.add(dx, base + a * width + k, g)
        else:
            total_value = 0.0
            if not empty_bin:
                for a in range(a0, a1):
                    for k in range(k0, k1):
                        total_value += x[base + a * width + k]
                total_value /= area
            out[t] = total_value
        t += step


def _psroi(p, x_shape, x_dtype, rois, out, x, dx, backward):
    geometry = cpu_detection.psroi_geometry(p, x_shape, x_dtype, _host(rois))
    batch, h0, h1, w0, w1, groups, g = geometry
    device = [flat(_to_device(a, np.int64)) for a in (batch, h0, h1, w0, w1, groups)]
    _go(_psroi_kernel, out.size, flat(out), flat(x), flat(dx), *device, g, backward, x_shape[1], out.shape[1],
        x_shape[2], x_shape[3], out.shape[2], out.size)


def psroi_pooling(ctx, p, inputs, outputs, req):
    if req[0] == NULL:
        return
    x = as_compute(inputs[0], np.float64)
    out = empty(outputs[0].shape, np.float64)
    _psroi(p, x.shape, inputs[0].dtype, inputs[1], out, x, x, False)
    copy_into(out, outputs[0], req[0])


def backward_psroi_pooling(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data, rois) -> data_grad."""
    if req[0] == NULL:
        return
    dy = as_compute(inputs[0], np.float64)
    dx = empty(inputs[1].shape, np.float64)
    fill(dx, 0)
    _psroi(p, dx.shape, inputs[1].dtype, inputs[2], dy, dx, dx, True)
    copy_into(dx, outputs[0], req[0])


# ---- DeformableConvolution ----------------------------------------------------------------------------------------
@cuda.jit(device=True)
def _tap_position(t, geometry, c_, oh, ow, dgroups, offset):
    """Element t of cols (N, C * kh * kw, OH * OW) as (n, c, deformable group, tap, a, b), the index oy of its y
    offset (its x offset is at oy + OH * OW) and the (y, x) it samples: the tap's grid position moved by its
    offsets. Both deformable kernels walk cols this way (as the CPU's passes)."""
    kh, kw, sh, sw = geometry[0], geometry[1], geometry[2], geometry[3]
    dh, dw, ph, pw = geometry[4], geometry[5], geometry[6], geometry[7]
    length = oh * ow
    k = t % length
    row = (t // length) % (c_ * kh * kw)
    n = t // (length * c_ * kh * kw)
    c = row // (kh * kw)
    tap = row % (kh * kw)
    a = k // ow
    b = k % ow
    g = c // (c_ // dgroups)
    oy = ((n * dgroups * 2 * kh * kw + g * 2 * kh * kw + 2 * tap) * oh + a) * ow + b
    y = float64(a * sh - ph + (tap // kw) * dh) + offset[oy]
    xx = float64(b * sw - pw + (tap % kw) * dw) + offset[oy + length]
    return n, c, g, tap, a, b, oy, y, xx


@cuda.jit
def _deform_kernel(x, offset, cols, dcols, dx, doffset, geometry, n_, c_, height, width, oh, ow, dgroups, backward,
                   total):
    # one thread per (n, c, tap, a, b) of cols (N, C * kh * kw, OH * OW), as the CPU's _deform_pass: forward fills
    # cols; backward adds each sample's gradient to its corners in dx and to its offsets in doffset (atomics)
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    length = oh * ow
    while t < total:
        n, c, g, tap, a, b, oy, y, xx = _tap_position(t, geometry, c_, oh, ow, dgroups, offset)
        if y >= 0 and xx >= 0 and y < height and xx < width:
            y_lo = int(math.floor(y))
            x_lo = int(math.floor(xx))
            y_free = y_lo < height - 1
            x_free = x_lo < width - 1
            y_hi = y_lo + 1 if y_free else height - 1
            x_hi = x_lo + 1 if x_free else width - 1
            ly = y - y_lo if y_free else 0.0
            lx = xx - x_lo if x_free else 0.0
            base = (n * c_ + c) * height * width
            i1, i2 = base + y_lo * width + x_lo, base + y_lo * width + x_hi
            i3, i4 = base + y_hi * width + x_lo, base + y_hi * width + x_hi
            w1, w2, w3, w4 = (1.0 - ly) * (1.0 - lx), (1.0 - ly) * lx, ly * (1.0 - lx), ly * lx
            if backward:
                grad = dcols[t]
                cuda.atomic.add(dx, i1, grad * w1)
                cuda.atomic.add(dx, i2, grad * w2)
                cuda.atomic.add(dx, i3, grad * w3)
                cuda.atomic.add(dx, i4, grad * w4)
                v1, v2, v3, v4 = x[i1], x[i2], x[i3], x[i4]
                if y_free:
                    cuda.atomic.add(doffset, oy, grad * ((1.0 - lx) * (v3 - v1) + lx * (v4 - v2)))
                if x_free:
                    cuda.atomic.add(doffset, oy + length, grad * ((1.0 - ly) * (v2 - v1) + ly * (v4 - v3)))
            else:
                cols[t] = w1 * x[i1] + w2 * x[i2] + w3 * x[i3] + w4 * x[i4]
        elif not backward:
            cols[t] = 0.0
        t += step


@cuda.jit
def _bias_kernel(out, bias, f_, length, total):
    # out (N, F, L) += bias[f]; or, with `out` of one row per filter (total = F), bias-gradient sums (see _bias_sum)
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        out[t] += bias[(t // length) % f_]
        t += step


@cuda.jit
def _bias_sum_kernel(dbias, dy, n_, f_, length):
    # dbias[f] = sum over n and l of dy (N, F, L)
    f = cuda.grid(1)
    step = cuda.gridsize(1)
    while f < f_:
        total = 0.0
        for n in range(n_):
            for k in range(length):
                total += dy[(n * f_ + f) * length + k]
        dbias[f] = total
        f += step


class _Deform:
    """One DeformableConvolution's shapes and the deformable im2col on float64 device arrays."""

    def __init__(self, p, x_shape, offset_shape, n_filters):
        self.n, self.c, self.h, self.w = x_shape
        self.oh, self.ow = offset_shape[2:]
        self.length = self.oh * self.ow
        self.f, self.g, self.dgroups = n_filters, p.num_group, p.num_deformable_group
        kernel, stride, dilate, pad = cpu_detection.dcn_geometry(p)
        self.taps = kernel[0] * kernel[1]
        self.geometry = _to_device(np.array(kernel + stride + dilate + pad, np.int64), np.int64)
        self.fg, self.cg = self.f // self.g, self.c // self.g * self.taps      # weight rows, columns per group

    def run(self, x, offset, cols, dcols, dx, doffset, backward):
        total = self.n * self.c * self.taps * self.length
        _go(_deform_kernel, total, flat(x), flat(offset), flat(cols), flat(dcols), flat(dx), flat(doffset),
            self.geometry, self.n, self.c, self.h, self.w, self.oh, self.ow, self.dgroups, backward, total)

    def columns(self, x, offset):
        cols = empty((self.n, self.c * self.taps, self.length), np.float64)
        self.run(x, offset, cols, cols, x, offset, False)
        return cols

    def group_mats(self, weight, cols, g):
        """Mat views of group g: the weight (fg, cg) and the columns (cg, L), batched over n."""
        w = Mat(flat(weight)[g * self.fg * self.cg:], self.fg, self.cg, self.cg, 1, 0)
        col = Mat(flat(cols)[g * self.cg * self.length:], self.cg, self.length, self.length, 1,
                  self.c * self.taps * self.length)
        return w, col

    def out_mat(self, out, g):
        return Mat(flat(out)[g * self.fg * self.length:], self.fg, self.length, self.length, 1, self.f * self.length)


def _convolve_columns(p, geo, cols, weight, bias, output, req):
    """output (req) the grouped weight times the columns, plus the bias: the convolution after the im2col."""
    out = empty(output.shape, np.float64)
    for g in range(geo.g):
        w, col = geo.group_mats(weight, cols, g)
        gemm(w, col, geo.out_mat(out, g), batch=geo.n)
    if bias is not None:
        _go(_bias_kernel, out.size, flat(out), flat(as_compute(bias, np.float64)), geo.f, geo.length, out.size)
    copy_into(out, output, req)


def _columns_backward(p, geo, dy, weight, cols, outputs, req, want_dcols):
    """outputs (weight_grad (, bias_grad)) from dy and the columns; returns the columns' gradient when asked."""
    if req[0] != NULL:
        dw = empty(weight.shape, np.float64)
        for g in range(geo.g):          # dW_g = sum over n of dy_g[n] (fg, L) @ cols_g[n]^T (L, cg)
            _, col = geo.group_mats(weight, cols, g)
            for n in range(geo.n):
                dy_n = Mat(flat(dy)[n * geo.f * geo.length + g * geo.fg * geo.length:], geo.fg, geo.length,
                           geo.length, 1)
                col_n = Mat(col.data[n * col.bs:], geo.length, geo.cg, 1, geo.length)
                gemm(dy_n, col_n, Mat(flat(dw)[g * geo.fg * geo.cg:], geo.fg, geo.cg, geo.cg, 1),
                     req=WRITE if n == 0 else ADD)
        copy_into(dw, outputs[0], req[0])
    if not p.no_bias and req[1] != NULL:
        dbias = empty((geo.f,), np.float64)
        _go(_bias_sum_kernel, geo.f, flat(dbias), flat(dy), geo.n, geo.f, geo.length)
        copy_into(dbias, outputs[1], req[1])
    if not want_dcols:
        return None
    dcols = empty(cols.shape, np.float64)
    for g in range(geo.g):              # dcols_g[n] = W_g^T (cg, fg) @ dy_g[n] (fg, L)
        w, col = geo.group_mats(weight, dcols, g)
        gemm(w.T, geo.out_mat(dy, g), col, batch=geo.n)
    return dcols


def _zeros(shape):
    z = empty(shape, np.float64)
    fill(z, 0)
    return z


def deformable_convolution(ctx, p, inputs, outputs, req):
    if req[0] == NULL:
        return
    x, offset, weight = (as_compute(a, np.float64) for a in inputs[:3])
    geo = _Deform(p, x.shape, offset.shape, outputs[0].shape[1])
    _convolve_columns(p, geo, geo.columns(x, offset), weight, None if p.no_bias else inputs[3], outputs[0], req[0])


def backward_deformable_convolution(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data, offset, weight) -> data_grad, offset_grad, weight_grad (, bias_grad)."""
    dy, x, offset, weight = (as_compute(a, np.float64) for a in inputs)
    geo = _Deform(p, x.shape, offset.shape, dy.shape[1])
    cols = geo.columns(x, offset)
    dcols = _columns_backward(p, geo, dy, weight, cols, outputs[2:], req[2:], req[0] != NULL or req[1] != NULL)
    if dcols is None:
        return
    dx, doffset = _zeros(x.shape), _zeros(offset.shape)
    geo.run(x, offset, cols, dcols, dx, doffset, True)
    copy_into(dx, outputs[0], req[0])
    copy_into(doffset, outputs[1], req[1])


# ---- ModulatedDeformableConvolution (DCNv2) -----------------------------------------------------------------------
@cuda.jit
def _modulated_kernel(x, offset, mask, cols, dx, doffset, dmask, geometry, n_, c_, height, width, oh, ow, dgroups,
                      backward, total):
    # one thread per (n, c, tap, a, b) of cols, as the CPU's _modulated_pass (ops/cpu/deformable.py): corners outside
    # the map read 0, taps beyond one pixel outside are 0; forward fills cols = mask * sample; backward reads the
    # columns' gradient from cols and adds to dx, doffset and dmask (atomics)
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    length = oh * ow
    while t < total:
        n, c, g, tap, a, b, oy, y, xx = _tap_position(t, geometry, c_, oh, ow, dgroups, offset)
        taps = geometry[0] * geometry[1]
        mi = ((n * dgroups * taps + g * taps + tap) * oh + a) * ow + b
        if y > -1.0 and xx > -1.0 and y < height and xx < width:
            y0 = int(math.floor(y))
            x0 = int(math.floor(xx))
            ly = y - y0
            lx = xx - x0
            base = (n * c_ + c) * height * width
            top, bottom, left, right = y0 >= 0, y0 + 1 < height, x0 >= 0, x0 + 1 < width
            v1 = x[base + y0 * width + x0] if top and left else 0.0
            v2 = x[base + y0 * width + x0 + 1] if top and right else 0.0
            v3 = x[base + (y0 + 1) * width + x0] if bottom and left else 0.0
            v4 = x[base + (y0 + 1) * width + x0 + 1] if bottom and right else 0.0
            w1, w2, w3, w4 = (1.0 - ly) * (1.0 - lx), (1.0 - ly) * lx, ly * (1.0 - lx), ly * lx
            sample = w1 * v1 + w2 * v2 + w3 * v3 + w4 * v4
            if backward:
                grad = cols[t]
                cuda.atomic.add(dmask, mi, grad * sample)
                grad *= mask[mi]
                if top and left:
                    cuda.atomic.add(dx, base + y0 * width + x0, grad * w1)
                if top and right:
                    cuda.atomic.add(dx, base + y0 * width + x0 + 1, grad * w2)
                if bottom and left:
                    cuda.atomic.add(dx, base + (y0 + 1) * width + x0, grad * w3)
                if bottom and right:
                    cuda.atomic.add(dx, base + (y0 + 1) * width + x0 + 1, grad * w4)
                cuda.atomic.add(doffset, oy, grad * ((1.0 - lx) * (v3 - v1) + lx * (v4 - v2)))
                cuda.atomic.add(doffset, oy + length, grad * ((1.0 - ly) * (v2 - v1) + ly * (v4 - v3)))
            else:
                cols[t] = mask[mi] * sample
        elif not backward:
            cols[t] = 0.0
        t += step


def _modulated_run(geo, x, offset, mask, cols, dx, doffset, dmask, backward):
    total = geo.n * geo.c * geo.taps * geo.length
    _go(_modulated_kernel, total, flat(x), flat(offset), flat(mask), flat(cols), flat(dx), flat(doffset),
        flat(dmask), geo.geometry, geo.n, geo.c, geo.h, geo.w, geo.oh, geo.ow, geo.dgroups, backward, total)


def _modulated_columns(geo, x, offset, mask):
    cols = empty((geo.n, geo.c * geo.taps, geo.length), np.float64)
    _modulated_run(geo, x, offset, mask, cols, x, offset, mask, False)
    return cols


def modulated_deformable_convolution(ctx, p, inputs, outputs, req):
    if req[0] == NULL:
        return
    x, offset, mask, weight = (as_compute(a, np.float64) for a in inputs[:4])
    geo = _Deform(p, x.shape, offset.shape, outputs[0].shape[1])
    _convolve_columns(p, geo, _modulated_columns(geo, x, offset, mask), weight, None if p.no_bias else inputs[4],
                      outputs[0], req[0])


def backward_modulated_deformable_convolution(ctx, p, inputs, outputs, req):
    """inputs (out_grad, data, offset, mask, weight) -> data_grad, offset_grad, mask_grad, weight_grad
    (, bias_grad)."""
    dy, x, offset, mask, weight = (as_compute(a, np.float64) for a in inputs)
    geo = _Deform(p, x.shape, offset.shape, dy.shape[1])
    cols = _modulated_columns(geo, x, offset, mask)
    dcols = _columns_backward(p, geo, dy, weight, cols, outputs[3:], req[3:], any(r != NULL for r in req[:3]))
    if dcols is None:
        return
    dx, doffset, dmask = _zeros(x.shape), _zeros(offset.shape), _zeros(mask.shape)
    _modulated_run(geo, x, offset, mask, dcols, dx, doffset, dmask, True)
    for k, grad in enumerate((dx, doffset, dmask)):
        copy_into(grad, outputs[k], req[k])


_I = types.int64
_B = types.boolean
_A64 = types.Array(types.float64, 1, "C")
_A32 = types.Array(types.float32, 1, "C")
_AI = types.Array(types.int64, 1, "C")
_F = types.float32
declare("detection.prior", _prior_kernel, [(_A32, _A32, _I, _I, _F, _F, _F, _F, _B, _I)])
declare("detection.align", _align_kernel, [(_A64, _A64, _A64, _A64, _AI, types.float64, _I, _B, _B, _B) + (_I,) * 7])
declare("detection.psroi", _psroi_kernel, [(_A64, _A64, _A64) + (_AI,) * 6 + (_I, _B) + (_I,) * 6])
declare("detection.deform", _deform_kernel, [(_A64,) * 6 + (_AI,) + (_I,) * 7 + (_B, _I)])
declare("detection.modulated", _modulated_kernel, [(_A64,) * 7 + (_AI,) + (_I,) * 7 + (_B, _I)])
declare("detection.bias", _bias_kernel, [(_A64, _A64, _I, _I, _I)])
declare("detection.bias_sum", _bias_sum_kernel, [(_A64, _A64, _I, _I, _I)])

KERNELS = {"_contrib_MultiBoxPrior": multibox_prior, "_contrib_ROIAlign": roi_align,
           "_backward_ROIAlign": backward_roi_align, "_contrib_PSROIPooling": psroi_pooling,
           "_backward__contrib_PSROIPooling": backward_psroi_pooling,
           "_contrib_DeformableConvolution": deformable_convolution,
           "_backward__contrib_DeformableConvolution": backward_deformable_convolution,
           "_contrib_ModulatedDeformableConvolution": modulated_deformable_convolution,
           "_backward__contrib_ModulatedDeformableConvolution": backward_modulated_deformable_convolution}
WITHOUT = {"_contrib_MultiBoxTarget": "a sequential greedy matching per image over small arrays (anchors x labels) "
                                      "with a stable sort for hard negatives: runs through the host "
                                      "(ops/cpu/detection.py)"}
# backward ops without a spec row: tests/cuda_detection_cases.py compares them with the CPU kernels under the
# simulator (run by tests/test_detection.py)
TESTED_THROUGH_GRADIENTS = {"_backward_ROIAlign", "_backward__contrib_PSROIPooling",
                            "_backward__contrib_DeformableConvolution",
                            "_backward__contrib_ModulatedDeformableConvolution"}
