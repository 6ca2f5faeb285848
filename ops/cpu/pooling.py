"""CPU kernels of Pooling and its backward, in MXNet 1.9.1's window conventions, for every layout (channel-last
data is viewed channel-first).

Geometry as ops/cpu/conv.py: three spatial dims, 1-D and 2-D data viewed with leading spatial dims of 1. max, avg
and sum over 1-D and 2-D data (the common case) run ops/cpu/pooling_2d.py's separable passes, blocks of planes
spread over the cores above a size (ops/cpu/conv_parallel.py); 3-D data, lp pooling with p = 2 or 3 and narrow
outputs (global pooling) run the direct loops over each window below.
"""
import numba
import numpy as np

from ..registry import ADD, NULL, WRITE
from .common import F16, assign, store
from .conv import _Accumulator, _compute, _pad3, _spatial3, conv_geometry
from .conv_parallel import for_each, threads
from .pooling_2d import (divisors, max_backward_scratch, pool2d_backward_max, pool2d_backward_sum, pool2d_forward,
                         pool2d_forward_max)

__all__ = ["_backward_pooling", "pool_geometry", "pooling"]

MAX, AVG, SUM, LP = 0, 1, 2, 3
_POOL_CODES = {"max": MAX, "avg": AVG, "sum": SUM, "lp": LP}


@numba.njit(nogil=True, cache=True)
def _window(o, k, s, p, size):
    """(start, end, padded_length) of output o's window along one dim: [start, end) clipped to the input, and the
    window's length within the padded input (MXNet's avg divisor with count_include_pad)."""
    start = o * s - p
    padded_end = min(start + k, size + p)
    return max(start, 0), min(start + k, size), padded_end - start


@numba.njit(nogil=True, cache=True)
def _pool_forward(x, kernel, stride, pad, mode, p_value, count_pad, lowest, out):
    """out[i, z, y, x] = pool of x[i] over the window of (z, y, x); x (M, D, H, W), out (M, OD, OH, OW)."""
    M, D, H, W = x.shape
    _, OD, OH, OW = out.shape
    for i in range(M):
        for oz in range(OD):
            z0, z1, zn = _window(oz, kernel[0], stride[0], pad[0], D)
            for oy in range(OH):
                y0, y1, yn = _window(oy, kernel[1], stride[1], pad[1], H)
                for ox in range(OW):
                    x0, x1, xn = _window(ox, kernel[2], stride[2], pad[2], W)
                    if mode == MAX:
                        acc = lowest
                        for z in range(z0, z1):
                            for y in range(y0, y1):
                                for xx in range(x0, x1):
                                    v = x[i, z, y, xx]
                                    if v > acc:         # noqa: PLR1730 (strict >: NaN never wins)
                                        acc = v
                        out[i, oz, oy, ox] = acc
                        continue
                    acc = 0.0
                    for z in range(z0, z1):
                        for y in range(y0, y1):
                            for xx in range(x0, x1):
                                v = x[i, z, y, xx]
                                if mode == LP:
                                    if p_value == 2:
                                        v = v * v
                                    elif p_value == 3:
                                        v = v * v * v
                                acc += v
                    if mode == AVG:
                        area = zn * yn * xn if count_pad else (z1 - z0) * (y1 - y0) * (x1 - x0)
                        acc = acc / area if area > 0 else 0.0
                    elif mode == LP:
                        if p_value == 2:
                            acc = np.sqrt(acc)
                        elif p_value == 3:
                            acc = np.cbrt(acc)
                    out[i, oz, oy, ox] = acc


@numba.njit(nogil=True, cache=True)
def _first_equal(x, i, z0, z1, y0, y1, x0, x1, target):
    """The first (z, y, x) of the window, row-major, where x[i] equals target; (-1, -1, -1) if none."""
    for z in range(z0, z1):
        for yy in range(y0, y1):
            for xx in range(x0, x1):
                if x[i, z, yy, xx] == target:
                    return z, yy, xx
    return -1, -1, -1


@numba.njit(nogil=True, cache=True)
def _pool_backward(dy, x, y, kernel, stride, pad, mode, p_value, count_pad, dx):
    """dx += gradient of the pooling: max to the first input equal to the output, avg and sum spread, lp
    scaled by (x / y) ** (p - 1). dx (M, D, H, W) is accumulated into, not cleared."""
    M, D, H, W = x.shape
    _, OD, OH, OW = dy.shape
    for i in range(M):
        for oz in range(OD):
            z0, z1, zn = _window(oz, kernel[0], stride[0], pad[0], D)
            for oy in range(OH):
                y0, y1, yn = _window(oy, kernel[1], stride[1], pad[1], H)
                for ox in range(OW):
                    x0, x1, xn = _window(ox, kernel[2], stride[2], pad[2], W)
                    g = dy[i, oz, oy, ox]
                    if mode == MAX:
                        z, yy, xx = _first_equal(x, i, z0, z1, y0, y1, x0, x1, y[i, oz, oy, ox])
                        if z >= 0:
                            dx[i, z, yy, xx] += g
                        continue
                    if mode == AVG:
                        area = zn * yn * xn if count_pad else (z1 - z0) * (y1 - y0) * (x1 - x0)
                        if area <= 0:
                            continue
                        g = g / area
                    yv = y[i, oz, oy, ox]
                    for z in range(z0, z1):
                        for yy in range(y0, y1):
                            for xx in range(x0, x1):
                                if mode == LP and p_value > 1:
                                    r = x[i, z, yy, xx] / yv
                                    dx[i, z, yy, xx] += g * (r if p_value == 2 else r * r)
                                else:
                                    dx[i, z, yy, xx] += g


def pool_geometry(p, data_shape):
    """(kernel, stride, pad) 3-tuples of a Pooling node for data_shape: global pooling spans the whole input."""
    nd = len(data_shape) - 2
    if p.global_pool:
        return _pad3(data_shape[2:], 1), (1, 1, 1), (0, 0, 0)
    kernel, stride, pad, _ = conv_geometry(p, nd)
    return kernel, stride, pad


def _pool_args(p, shape):
    kernel, stride, pad = pool_geometry(p, shape)
    count_pad = p.count_include_pad is None or p.count_include_pad
    return kernel, stride, pad, _POOL_CODES[p.pool_type], int(p.p_value or 1), bool(count_pad)


def _as_pool3(arr):
    shape = _spatial3(arr.shape)
    return arr.reshape((shape[0] * shape[1],) + shape[2:])


def _channel_last(kernel):
    """`kernel` for channel-last layouts too (NWC, NHWC, NDHWC): its arrays are moved to channel-first, the
    kernel writes channel-first outputs, and those are moved back into the real outputs with their req."""
    def run(ctx, p, inputs, outputs, req):
        if p.layout is None or p.layout[1] == "C":
            return kernel(ctx, p, inputs, outputs, req)
        first = [np.ascontiguousarray(np.moveaxis(a, -1, 1)) for a in inputs]
        results = [np.empty((o.shape[0], o.shape[-1]) + o.shape[1:-1], o.dtype) for o in outputs]
        kernel(ctx, p, first, results, [NULL if r == NULL else WRITE for r in req])
        for out, r, value in zip(outputs, req, results):
            assign(out, r, np.moveaxis(value, 1, -1))
    run.__name__, run.__doc__ = kernel.__name__, kernel.__doc__
    return run


@_channel_last
def pooling(ctx, p, inputs, outputs, req):
    """out = max/avg/sum/lp pooling of data over each window (see the module docstring for MXNet's windows)."""
    x = _compute(inputs[0])
    args = _pool_args(p, x.shape)
    lowest = x.dtype.type(np.finfo(outputs[0].dtype).min)       # in the compute dtype (numba has no float16)

    def compute(dst):
        if _planar(args, x.shape):
            _planes_forward(x, args, lowest, dst)
        else:
            _pool_forward(_as_pool3(x), *args[:3], args[3], args[4], args[5], lowest, _as_pool3(dst))
    # outputs[1], when present, is MXNet's hidden workspace of max pooling: nothing reads it; it holds y again
    if outputs[0].dtype == F16 or ADD in req or len(outputs) > 1:
        if any(r != NULL for r in req):
            tmp = np.empty(outputs[0].shape, x.dtype)
            compute(tmp)
            for out, r in zip(outputs, req):
                assign(out, r, tmp)
    else:
        store(outputs[0], req[0], compute)


@_channel_last
def _backward_pooling(ctx, p, inputs, outputs, req):
    """(out_grad, data, output) -> data_grad."""
    if req[0] == NULL:
        return
    dy, x, y = (_compute(a) for a in inputs[:3])
    args = _pool_args(p, x.shape)
    planar = _planar(args, x.shape)
    dx = _Accumulator(outputs[0], req[0], clear=not planar)
    if planar:
        # the passes clear each plane of dx themselves (while it is in cache) unless they add into the output
        _planes_backward(dy, x, y, args, dx.buf, clear=not (dx.buf is outputs[0] and req[0] == ADD))
    else:
        _pool_backward(_as_pool3(dy), _as_pool3(x), _as_pool3(y), *args, _as_pool3(dx.buf))
    dx.finish()


# ---- 1-D and 2-D max/avg/sum: ops/cpu/pooling_2d.py's passes over blocks of planes, on the cores ------------------

# Below this many element reads per call (~0.2 ms on one core: the passes measured ~1 ns a read on inception's
# shapes) a helper thread's wake-up costs more than it saves; for_each's threshold is in GEMM flops, so the reads
# are scaled to it.
MIN_PARALLEL_READS = 2e5
_READS_TO_FLOPS = 1e7 / MIN_PARALLEL_READS


# Narrower outputs (global pooling: 1) run the direct loops: the passes' short loops cost more than they save.
MIN_PLANAR_WIDTH = 8


def _planar(args, shape):
    """Whether a Pooling runs on ops/cpu/pooling_2d.py: max, avg, sum (lp with p = 1) over data of <= 2 spatial
    dims with outputs at least MIN_PLANAR_WIDTH wide."""
    kernel, stride, pad, mode, p_value, _ = args
    width = (shape[-1] + 2 * pad[2] - kernel[2]) // stride[2] + 1       # the narrowest convention, `valid`
    return (len(shape) <= 4 and kernel[0] == 1 and width >= MIN_PLANAR_WIDTH
            and (mode in (MAX, AVG, SUM) or (mode == LP and p_value == 1)))


def _planes(arr):
    """(M, H, W) view of an NC(H)W array (a 1-D one has H == 1)."""
    shape = _spatial3(arr.shape)
    return arr.reshape(shape[0] * shape[1], shape[3], shape[4])


def _over_planes(count, make_worker, reads):
    """make_worker()(m0, m1) over blocks of the count planes, on the cores when reads make it worth it."""
    blocks = max(1, min(count, 8 * threads()))
    bounds = np.linspace(0, count, blocks + 1).astype(np.int64)

    def make():
        work = make_worker()
        return lambda i: work(bounds[i], bounds[i + 1])
    for_each(blocks, make, reads * _READS_TO_FLOPS)


def _geometry2(args, in_hw, out_hw):
    """(kernel, stride, pad) of the two last dims, and the avg divisors along H and W (ones for max and sum)."""
    kernel, stride, pad, mode, _, count_pad = args
    k2, s2, p2 = kernel[1:], stride[1:], pad[1:]
    if mode == AVG:
        div = [divisors(o, k, s, q, n, count_pad) for o, k, s, q, n in zip(out_hw, k2, s2, p2, in_hw)]
    else:
        div = [np.ones(o) for o in out_hw]
    return k2, s2, p2, div


def _planes_forward(x, args, lowest, dst):
    x3, y3 = _planes(x), _planes(dst)
    (_, H, W), (M, OH, OW) = x3.shape, y3.shape
    k2, s2, p2, (ydiv, xdiv) = _geometry2(args, (H, W), (OH, OW))
    is_max = args[3] == MAX
    if is_max and x3.dtype in (np.float32, np.float64):       # down the columns first: fewer strided reads
        def make_worker():
            span = np.empty((OW - 1) * s2[1] + k2[1], x3.dtype)
            return lambda m0, m1: pool2d_forward_max(x3, m0, m1, k2, s2, p2, lowest, span, y3)
        _over_planes(M, make_worker, y3.size * (k2[0] + k2[1]))
        return

    def make_worker():
        rows = np.empty((H + 1, OW), np.float64)
        return lambda m0, m1: pool2d_forward(x3, m0, m1, k2, s2, p2, is_max, float(lowest), ydiv, xdiv, rows, y3)
    _over_planes(M, make_worker, y3.size * (k2[0] + k2[1]))


def _planes_backward(dy, x, y, args, dx, clear):
    dy3, dx3 = _planes(dy), _planes(dx)
    (M, H, W), (_, OH, OW) = dx3.shape, dy3.shape
    k2, s2, p2, (ydiv, xdiv) = _geometry2(args, (H, W), (OH, OW))
    if args[3] == MAX:
        x3, y3, flat = _planes(x), _planes(y), dx3.reshape(M, H * W)

        def make_worker():
            scratch = max_backward_scratch((H, W), (OH, OW), k2, s2, p2, x3.dtype)
            return lambda m0, m1: pool2d_backward_max(dy3, x3, y3, m0, m1, k2, s2, p2, clear, *scratch, flat)
    else:
        def make_worker():
            cols, row = np.empty((H, OW)), np.empty(max(W, OW))
            return lambda m0, m1: pool2d_backward_sum(dy3, m0, m1, k2, s2, p2, ydiv, xdiv, clear, cols, row,
                                                      dx3)
    _over_planes(M, make_worker, dy3.size * k2[0] * k2[1])

