"""CUDA kernels of the reductions (sum, mean, prod, max, min, nansum, nanprod, norm) and `_backward_reduce`.

One reduction kernel for any set of axes, without a transpose: output element o starts at the offset of its kept
coordinates, and its reduced elements lie at the offsets of the reduced coordinates; both are computed from
(shape, element strides) tuples after merging adjacent dims (`common.collapse`), so the usual cases, the trailing
axes or the leading ones, cost one division per element at most. A block reduces one output element (grid-stride
over outputs): its threads stride over the reduced elements, then a shared-memory tree combines their partials.

Accumulation: floats in float64, integers in int64 wrapped back to the data's dtype on the store (the C++
results, as on the CPU); float16 is read through a float32 copy. The semantics follow ops/cpu/reduce.py: mean of
integers divides the wrapped sum by the count converted to the dtype (truncating), the integer L2 norm is
trunc(sqrt(sum x*x)), max/min propagate NaN.
"""
import numpy as np
from numba import cuda, float64, int64, types

from ..cpu import elemwise as cpu_elemwise
from ..cpu.reduce import one_axis, reduced_axes
from ..errors import DTypeError
from ..registry import ADD, NULL, WRITE
from .common import (F16, F32, SIMULATOR, as_compute, broadcast_strides, collapse, compute_dtype, copy_into, declare,
                     flat, in_compute_dtype, launch, put, stream, strided_offset)
from .elemwise import map_scalar

SUM, PROD, MAX, MIN, NANSUM, NANPROD, ABSSUM, SQSUM = range(8)
_MODES = {"sum": SUM, "mean": SUM, "prod": PROD, "max": MAX, "min": MIN, "nansum": NANSUM, "nanprod": NANPROD}
_THREADS = 4 if SIMULATOR else 256
_MAX_BLOCKS = 2 if SIMULATOR else 65535


def _reduce_kernel(acc_type, nthreads):
    is_float = acc_type == float64      # a constant: numba prunes the branch it guards

    @cuda.jit
    def kernel(out, x, kshape, kstrides, rshape, rstrides, n_red, mode, init, div, add, n_out):
        partial = cuda.shared.array(nthreads, acc_type)
        tid = cuda.threadIdx.x
        o = cuda.blockIdx.x
        # the partials of nansum/abs/sq sums are sums, of nanprod products
        pmode = SUM if mode == NANSUM or mode == ABSSUM or mode == SQSUM else (PROD if mode == NANPROD else mode)
        while o < n_out:
            base = strided_offset(o, kshape, kstrides, 0)
            acc = init
            j = tid
            while j < n_red:
                v = acc_type(x[strided_offset(j, rshape, rstrides, base)])
                if mode == SUM:
                    acc += v
                elif mode == PROD:
                    acc *= v
                elif mode == MAX:
                    acc = acc if acc > v or acc != acc else v
                elif mode == MIN:
                    acc = acc if acc < v or acc != acc else v
                elif mode == NANSUM:
                    if v == v:
                        acc += v
                elif mode == NANPROD:
                    if v == v:
                        acc *= v
                elif mode == ABSSUM:
                    acc += abs(v)
                else:
                    acc += v * v
                j += nthreads
            partial[tid] = acc
            cuda.syncthreads()
            s = nthreads // 2
            while s > 0:
                if tid < s:
                    a = partial[tid]
                    b = partial[tid + s]
                    if pmode == SUM:
                        partial[tid] = a + b
                    elif pmode == PROD:
                        partial[tid] = a * b
                    elif pmode == MAX:
                        partial[tid] = a if a > b or a != a else b
                    else:
                        partial[tid] = a if a < b or a != a else b
                cuda.syncthreads()
                s //= 2
            if tid == 0:
                res = partial[0]
                if mode == SQSUM:
                    res = acc_type(res ** 0.5)
                if is_float:
                    if div != 1:
                        res = res / div
                put(out, o, res, add)
            cuda.syncthreads()
            o += cuda.gridDim.x
    return kernel


_float_kernel = _reduce_kernel(float64, _THREADS)
_int_kernel = _reduce_kernel(int64, _THREADS)
_A32 = types.Array(types.float32, 1, "C")
_AI32 = types.Array(types.int32, 1, "C")
_T1, _T2 = types.UniTuple(types.int64, 1), types.UniTuple(types.int64, 2)
declare("reduce.float", _float_kernel,
        [(_A32, _A32, _T2, _T2, _T1, _T1, types.int64, types.int64, types.float64, types.float64, types.boolean,
          types.int64)])
declare("reduce.int", _int_kernel,
        [(_AI32, _AI32, _T1, _T1, _T2, _T2, types.int64, types.int64, types.int64, types.int64, types.boolean,
          types.int64)])


def _layout(shape, axes):
    """((kept shape, kept strides), (reduced shape, reduced strides)) in elements of a C-contiguous array."""
    strides, step = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        strides[d] = step
        step *= shape[d]
    kept = [d for d in range(len(shape)) if d not in axes]
    red = [d for d in range(len(shape)) if d in axes]
    return (collapse([shape[d] for d in kept], [strides[d] for d in kept]),
            collapse([shape[d] for d in red], [strides[d] for d in red]))


def _init(mode, is_float):
    if mode in (PROD, NANPROD):
        return 1.0 if is_float else 1
    if mode == MAX:
        return -np.inf if is_float else -(1 << 63)
    if mode == MIN:
        return np.inf if is_float else (1 << 63) - 1
    return 0.0 if is_float else 0


def run_reduce(mode, x, axes, out, req, div=1):
    """out (req) = the reduction `mode` of x over `axes` (out has the kept elements, in order), divided by div."""
    if req == NULL or out.size == 0:
        return
    x = as_compute(x)
    is_float = x.dtype.kind == "f" or mode == SQSUM or (div != 1 and out.dtype.kind == "f")
    if out.dtype == F16:
        in_compute_dtype(out, req, lambda dst: run_reduce(mode, x, axes, dst, WRITE, div))
        return
    (kshape, kstrides), (rshape, rstrides) = _layout(x.shape, set(axes))
    n_red = int(np.prod(rshape)) if x.size else 0
    n_out = out.size
    kernel = _float_kernel if is_float else _int_kernel
    acc = np.float64 if is_float else np.int64
    blocks = min(n_out, _MAX_BLOCKS)
    kernel[blocks, _THREADS, stream()](flat(out), flat(x), kshape, kstrides, rshape, rstrides, n_red, mode,
                                      acc(_init(mode, is_float)), acc(div), req == ADD, n_out)


def reduce_axes(name, x, axes, out, req):
    """out (req) = reduction `name` ('sum', 'mean', ...) of x over axes, with the CPU's dtype semantics."""
    if name == "mean":
        count = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        if x.dtype.kind in "iu":
            divisor = np.array(count).astype(x.dtype)
            if int(divisor) == 0:
                raise DTypeError("mean: %d elements of %s: MXNet divides by the count converted to %s, which is 0 "
                                 "(it dies of SIGFPE); take the mean in a wider dtype"
                                 % (count, x.dtype.name, x.dtype.name))
            total = _scratch(out.shape, x.dtype)
            run_reduce(SUM, x, axes, total, WRITE)
            map_scalar(cpu_elemwise.div, total, divisor[()], out, req)
            return
        run_reduce(SUM, x, axes, out, req, div=max(count, 1))
        return
    run_reduce(_MODES[name], x, axes, out, req)


def _scratch(shape, dtype):
    from .common import empty
    return empty(shape, dtype)


def _reduction(name):
    def kernel(ctx, p, inputs, outputs, req):
        x = inputs[0]
        reduce_axes(name, x, reduced_axes(p, x.shape, name), outputs[0], req[0])
    kernel.__name__ = name
    return kernel


sum_ = _reduction("sum")
mean = _reduction("mean")
prod = _reduction("prod")
max_ = _reduction("max")
min_ = _reduction("min")


def _nan_reduction(name, plain):
    def kernel(ctx, p, inputs, outputs, req):
        x = inputs[0]
        axes = reduced_axes(p, x.shape, name)
        run_reduce(_MODES[name] if x.dtype.kind == "f" else plain, x, axes, outputs[0], req[0])
    kernel.__name__ = name
    return kernel


nansum = _nan_reduction("nansum", SUM)
nanprod = _nan_reduction("nanprod", PROD)


def norm(ctx, p, inputs, outputs, req):
    """L1: sum |x| (integers wrap); L2: sqrt(sum x*x) in float64 (integers: truncated)."""
    x, out = inputs[0], outputs[0]
    axes = reduced_axes(p, x.shape, "norm")
    if p.ord == 2 and x.dtype.kind in "iub" and out.dtype.kind == "f":
        whole = _scratch(out.shape, np.int64)       # integers: the root truncates before any float out_dtype
        run_reduce(SQSUM, x, axes, whole, WRITE)
        copy_into(whole, out, req[0])
        return
    run_reduce(ABSSUM if p.ord == 1 else SQSUM, x, axes, out, req[0])


# ---- _backward_reduce -------------------------------------------------------------------------------------------
B_SUM, B_MEAN, B_PROD, B_MAXMIN, B_NANSUM, B_NANPROD, B_NORM1, B_NORM2 = range(8)
_BMODES = {"sum": B_SUM, "mean": B_MEAN, "prod": B_PROD, "max": B_MAXMIN, "min": B_MAXMIN, "nansum": B_NANSUM,
           "nanprod": B_NANPROD, "norm1": B_NORM1, "norm2": B_NORM2}


@cuda.jit
def _backward_reduce_kernel(out, dy, x, y, shape, so, mode, count, add, n):
    # d sum = dy spread over the reduced axes; d mean = that / count; d prod = dy * y / x; d max, d min = dy where
    # x equals the result; d nansum = dy where x is not NaN; d nanprod = dy * y / x there; d norm1 = dy * sign(x);
    # d norm2 = dy * x / y (0 where y is 0). dy and y have the kept shape: element i reads them at offset o.
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        o = strided_offset(i, shape, so, 0)
        g = dy[o]
        xv = x[i]
        yv = y[o]
        if mode == B_SUM:
            v = g
        elif mode == B_MEAN:
            v = g / count
        elif mode == B_PROD:
            v = g * yv / xv
        elif mode == B_MAXMIN:
            v = g * (1 if xv == yv else 0)
        elif mode == B_NANSUM:
            v = 0 if xv != xv else g
        elif mode == B_NANPROD:
            v = 0 if xv != xv else g * yv / xv
        elif mode == B_NORM1:
            v = g * (1 if xv > 0 else (-1 if xv < 0 else 0))
        else:
            v = g * xv / (yv if yv != 0 else 1)
        put(out, i, v, add)
        i += step


declare("reduce.backward", _backward_reduce_kernel,
        [(_A32, _A32, _A32, _A32, _T2, _T2, types.int64, types.int64, types.boolean, types.int64)])


def backward_reduce(ctx, p, inputs, outputs, req):
    from .common import launch
    dy, x, y = inputs
    out = outputs[0]
    if req[0] == NULL or out.size == 0:
        return
    axes = reduced_axes(p, x.shape, "_backward_reduce")
    cdt = compute_dtype(out.dtype)
    dy, x, y = as_compute(dy, cdt), as_compute(x, cdt), as_compute(y, cdt)
    kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    shape, so = collapse(x.shape, broadcast_strides(kept, x.shape))
    count = max(1, x.size // max(1, y.size))

    def compute(dst, add=False):
        n = dst.size
        _backward_reduce_kernel[launch(n) + (stream(),)](flat(dst), flat(dy), flat(x), flat(y), shape, so,
                                                         _BMODES[p.mode], count, add, n)
    if out.dtype != cdt:
        in_compute_dtype(out, req[0], compute)
    else:
        compute(out, req[0] == ADD)



# ---- argmax, argmin ----------------------------------------------------------------------------------------------
@cuda.jit
def _arg_kernel(out, x, red, post, smallest, add, n_out):
    # out[o] = index along the reduced axis of the first extreme of x viewed (pre, red, post) at (o // post, :,
    # o % post); a NaN is the extreme (numpy's rule, as ops/cpu/reduce.py's _arg3)
    o = cuda.grid(1)
    step = cuda.gridsize(1)
    while o < n_out:
        base = (o // post) * red * post + o % post
        best = x[base]
        k = 0
        if best == best:
            for j in range(1, red):
                v = x[base + j * post]
                if v != v:
                    k = j
                    break
                if (v < best) if smallest else (v > best):
                    best = v
                    k = j
        put(out, o, k, add)
        o += step


_A1 = {t: types.Array(t, 1, "C") for t in (types.float32, types.float64, types.int32)}
declare("reduce.arg", _arg_kernel, [(_A1[types.float32], _A1[types.float32], int64, int64, types.boolean,
                                     types.boolean, int64),
                                    (_A1[types.float64], _A1[types.float64], int64, int64, types.boolean,
                                     types.boolean, int64),
                                    (_A1[types.int32], _A1[types.int32], int64, int64, types.boolean, types.boolean,
                                     int64)])


def arg_search(x, axis, smallest, out, req):
    """out (req) = indices of the first extreme of x along axis (None: of the flattened data)."""
    if req == NULL or out.size == 0:
        return
    x = as_compute(x)
    if axis is None:
        red, post = x.size, 1
    else:
        red, post = x.shape[axis], int(np.prod(x.shape[axis + 1:]))
    n_out = out.size

    def compute(dst, add=False):
        _arg_kernel[launch(n_out) + (stream(),)](flat(dst), flat(x), red, post, smallest, add, n_out)
    if out.dtype == F16:
        in_compute_dtype(out, req, compute)
    else:
        compute(out, req == ADD)


def argmax(ctx, p, inputs, outputs, req):
    arg_search(inputs[0], one_axis(p.axis, inputs[0].shape, "argmax"), False, outputs[0], req[0])


def argmin(ctx, p, inputs, outputs, req):
    arg_search(inputs[0], one_axis(p.axis, inputs[0].shape, "argmin"), True, outputs[0], req[0])

KERNELS = {"sum": sum_, "mean": mean, "prod": prod, "max": max_, "min": min_, "nansum": nansum, "nanprod": nanprod,
           "norm": norm, "_backward_reduce": backward_reduce,
           "argmax": argmax, "argmin": argmin}
__all__ = ["KERNELS", "reduce_axes", "run_reduce", "F32", "copy_into"]

# A scan along one axis: a sequential loop per lane, run through the host until a device scan is written.
WITHOUT = {name: "a cumulative sum (a scan along one axis): runs through the host (ops/cpu/reduce.py)"
           for name in ("_np_cumsum", "_backward_np_cumsum")}
