"""CUDA kernels of the elementwise family: binary, broadcast, scalar and unary ops, Cast, the fill ops, _sum_to_like.

One kernel family, driven by the CPU's scalar functions. Each op's math is the scalar function under the CPU
DUFunc (ops/cpu/elemwise.py); here `device(f)` compiles that same Python function with `cuda.jit(device=True)`,
and a template kernel (`_unary`, `_binary`, `_broadcast`, `_scalar`, `_rscalar`: grid-stride loops over flat
arrays) calls it per element, storing the result in the output's dtype exactly as the DUFunc loop
`dtype(dtype, ...)` does (so integer division truncates, integers wrap, comparisons give 1/0 in the data's dtype).
A few scalar functions call numpy ufuncs on scalars (np.abs, np.floor, np.cbrt ...), which numba-cuda does not
lower; `_CUDA_VERSIONS` holds their math-module equivalents, same results.

Which scalar function an op uses is read from its CPU kernel (`kernel_for`): the builders `elementwise(f, f32)`,
`with_scalar(f, reverse, f32)` and `math_kernel(f, f32, f64)` in ops/cpu/elemwise.py close over it, so an op
added there with a builder gets its GPU kernel with no line here. A float32-only variant (`f32`, e.g. mod_f32) is
used for float32 and float16 data as on the CPU; float16 is computed in float32 (ops/cuda/common.py).

Kernels are built per scalar function on first use and cached; numba compiles each per dtype on first launch.
"""
import math

import numpy as np
from numba import cuda, float64, types

from ..cpu import elemwise as cpu
from ..cpu.lazy_ufunc import LazyDUFunc, scalar_function
from ..registry import NULL, WRITE
from .common import (F16, F32, F64, SIMULATOR, as_compute, broadcast_strides, collapse, compute_dtype, copy_into,
                     copy_view, declare, fill, flat, in_compute_dtype, launch, put, stream)

# ---------------------------------------------------------------------------------------------------------------
# Scalar functions numba-cuda cannot compile as written (numpy ufuncs on scalars), with the same math
# ---------------------------------------------------------------------------------------------------------------

# Compiled, math.floor/ceil/trunc keep the float type (CUDA's floorf/floor); in the simulator, which runs this code
# as Python, they would return ints (and fail on inf and float32), so there the numpy ufuncs stand in.
_floor_, _ceil_, _trunc_ = (np.floor, np.ceil, np.trunc) if SIMULATOR else (math.floor, math.ceil, math.trunc)


def _cbrt_value(x):
    # cube root in float64: pow, then one Newton step (pow(64, 1/3) = 3.9999999999999996; the step gives 4)
    a = abs(float64(x))
    if a == 0.0 or a == math.inf or a != a:
        return float64(x)
    y = math.pow(a, 1.0 / 3.0)
    y = y - (y * y * y - a) / (3.0 * y * y)
    return math.copysign(y, float64(x))


def _abs(x):
    return abs(x)


def _round(x):
    t = _trunc_(x)
    return t + math.copysign(1.0, x) if abs(x - t) >= 0.5 else t


def _rint(x):
    f = _floor_(x)
    return f if x - f <= 0.5 else f + 1


def _ceil(x):
    return _ceil_(x)


def _floor(x):
    return _floor_(x)


def _trunc(x):
    return _trunc_(x)


def _softsign(x):
    return x / (1 + abs(x))


def _erfinv(x):
    v = float64(x)
    a = abs(v)
    if not a < 1:
        return math.copysign(math.inf, v) if a == 1 else math.nan
    z = abs(cpu._erfinv_start(v))
    if a <= 0.5:
        for _ in range(2):
            z = z - (math.erf(z) - a) / (cpu._TWO_OVER_SQRT_PI * math.exp(-z * z))
    else:
        c = math.log(1 - a)
        for _ in range(4):
            e = math.erfc(z)
            z = z + (math.log(e) - c) * e / (cpu._TWO_OVER_SQRT_PI * math.exp(-z * z))
    return math.copysign(z, v)


def _erfinv_f32(x):
    if abs(x) < 1:
        return np.float32(cpu._erfinv_start(np.float32(x)))
    return math.copysign(math.inf, x) if abs(x) == 1 else math.nan


def mod_f32(a, b):
    x = float64(a)
    y = float64(b)
    q = _floor_(x / y)
    if abs(q) < 268435456.0 and abs(y) < math.inf:
        return x - q * y
    return 0.0 if y == 0 else x % y


def hypot_f32(a, b):
    x = float64(a)
    y = float64(b)
    r = math.sqrt(x * x + y * y)
    return math.inf if abs(x) == math.inf or abs(y) == math.inf else r


_CUDA_VERSIONS = {"_abs": _abs, "_round": _round, "_rint": _rint, "_ceil": _ceil, "_floor": _floor,
                  "_trunc": _trunc, "_softsign": _softsign, "_erfinv": _erfinv, "_erfinv_f32": _erfinv_f32,
                  "mod_f32": mod_f32, "hypot_f32": hypot_f32}
_cbrt_device = cuda.jit(device=True)(_cbrt_value)


def _cbrt(x):
    return _cbrt_device(x)


def _rcbrt(x):
    return 1 / _cbrt_device(x)


_CUDA_VERSIONS.update(_cbrt=_cbrt, _rcbrt=_rcbrt)

_DEVICE = {}


def device(f):
    """The cuda device function of a CPU DUFunc's scalar function (its CUDA version where it has one)."""
    py = scalar_function(f)
    dev = _DEVICE.get(py)
    if dev is None:
        own = py.__module__ == cpu.__name__ and py.__name__ in _CUDA_VERSIONS
        dev = _DEVICE[py] = cuda.jit(device=True)(_CUDA_VERSIONS[py.__name__] if own else py)
    return dev


# ---------------------------------------------------------------------------------------------------------------
# Templates: one kernel per (template, scalar function); out (req) f(...) over flat arrays
# ---------------------------------------------------------------------------------------------------------------

def _unary(f):
    @cuda.jit
    def kernel(out, x, add, n):
        i = cuda.grid(1)
        step = cuda.gridsize(1)
        while i < n:
            v = f(x[i])
            put(out, i, v, add)
            i += step
    return kernel


def _binary(f):
    @cuda.jit
    def kernel(out, a, b, add, n):
        i = cuda.grid(1)
        step = cuda.gridsize(1)
        while i < n:
            v = f(a[i], b[i])
            put(out, i, v, add)
            i += step
    return kernel


def _broadcast(f):
    @cuda.jit
    def kernel(out, a, b, shape, sa, sb, add, n):
        # element i of out reads a and b at their broadcast offsets (stride 0 along broadcast dims)
        i = cuda.grid(1)
        step = cuda.gridsize(1)
        while i < n:
            r = i
            ia = 0
            ib = 0
            for d in range(len(shape) - 1, -1, -1):
                c = r % shape[d]
                r //= shape[d]
                ia += c * sa[d]
                ib += c * sb[d]
            v = f(a[ia], b[ib])
            put(out, i, v, add)
            i += step
    return kernel


def _scalar(f):
    @cuda.jit
    def kernel(out, x, s, add, n):
        i = cuda.grid(1)
        step = cuda.gridsize(1)
        while i < n:
            v = f(x[i], s)
            put(out, i, v, add)
            i += step
    return kernel


def _rscalar(f):
    @cuda.jit
    def kernel(out, x, s, add, n):
        i = cuda.grid(1)
        step = cuda.gridsize(1)
        while i < n:
            v = f(s, x[i])
            put(out, i, v, add)
            i += step
    return kernel


_TEMPLATES = {"unary": _unary, "binary": _binary, "broadcast": _broadcast, "scalar": _scalar, "rscalar": _rscalar}
_BUILT = {}


def template(kind, f):
    """The `kind` kernel of scalar function f (a DUFunc or its Python function), built once and declared."""
    py = scalar_function(f)
    key = (kind, py)
    k = _BUILT.get(key)
    if k is None:
        k = _BUILT[key] = _TEMPLATES[kind](device(f))
        declare("elemwise.%s[%s]" % (kind, py.__name__), k, _signatures(kind, _arity(f)))
    return k


def _arity(f):
    return scalar_function(f).__code__.co_argcount


_A = types.Array(types.float32, 1, "C")
_AI = types.Array(types.int32, 1, "C")
_AD = types.Array(types.float64, 1, "C")


def _signatures(kind, nin):
    """What the PTX test compiles each template for: float32 everywhere, and int32 and float64 where the scalar
    function's typing differs most (integer inputs to float math, double precision)."""
    b, n = types.boolean, types.int64
    if kind == "unary":
        return [(_A, _A, b, n), (_AI, _AI, b, n), (_AD, _AD, b, n)]
    if kind == "binary":
        return [(_A, _A, _A, b, n), (_AI, _AI, _AI, b, n)]
    if kind == "broadcast":
        t2 = types.UniTuple(types.int64, 2)
        return [(_A, _A, _A, t2, t2, t2, b, n)]
    return [(_A, _A, types.float32, b, n), (_AI, _AI, types.int32, b, n)]


# ---------------------------------------------------------------------------------------------------------------
# Running: float16 through float32, inputs in the compute dtype, same-shape or broadcast
# ---------------------------------------------------------------------------------------------------------------

def _go(kernel, n, *args):
    kernel[launch(n) + (stream(),)](*args)


def map_binary(f, a, b, out, req):
    """out (req) f(a, b) elementwise with numpy broadcasting, in out's compute dtype."""
    if req == NULL or out.size == 0:
        return
    cdt = compute_dtype(out.dtype)
    a, b = as_compute(a, cdt), as_compute(b, cdt)
    if out.dtype != cdt:
        in_compute_dtype(out, req, lambda dst: map_binary(f, a, b, dst, WRITE))
        return
    add, n = req == "add", out.size
    if a.size == n and b.size == n:
        _go(template("binary", f), n, flat(out), flat(a), flat(b), add, n)
        return
    shape, sa, sb = collapse(out.shape, broadcast_strides(a.shape, out.shape), broadcast_strides(b.shape, out.shape))
    _go(template("broadcast", f), n, flat(out), flat(a), flat(b), shape, sa, sb, add, n)


def map_scalar(f, x, s, out, req, reverse=False):
    """out (req) f(x, s) (f(s, x) when reverse); s is a numpy scalar of out's compute dtype."""
    if req == NULL or out.size == 0:
        return
    cdt = compute_dtype(out.dtype)
    x = as_compute(x, cdt)
    if out.dtype != cdt:
        in_compute_dtype(out, req, lambda dst: map_scalar(f, x, s, dst, WRITE, reverse))
        return
    _go(template("rscalar" if reverse else "scalar", f), out.size, flat(out), flat(x), s, req == "add", out.size)


def _unary_run(f, x, out, req):
    cdt = compute_dtype(out.dtype)
    x = as_compute(x, cdt)
    if out.dtype != cdt:
        in_compute_dtype(out, req, lambda dst: _unary_run(f, x, dst, WRITE))
        return
    _go(template("unary", f), out.size, flat(out), flat(x), req == "add", out.size)


def map_unary(f, x, out, req):
    """out (req) f(x) elementwise, in out's compute dtype."""
    if req == NULL or out.size == 0:
        return
    _unary_run(f, x, out, req)


# ---------------------------------------------------------------------------------------------------------------
# Kernels of the ops built by the CPU builders
# ---------------------------------------------------------------------------------------------------------------

def _pick(f, f32, dtype):
    return f32 if f32 is not None and (dtype == F32 or dtype == F16) else f


def _closure(fn):
    return dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__ or ())))


def kernel_for(cpu_kernel):
    """The GPU kernel of an op whose CPU kernel comes from one of ops/cpu/elemwise.py's builders, else None."""
    qual = getattr(cpu_kernel, "__qualname__", "")
    if not qual.endswith(".<locals>.kernel") or getattr(cpu_kernel, "__module__", "") != cpu.__name__:
        return None
    builder = qual.split(".")[0]
    env = _closure(cpu_kernel)
    kinds = {"elementwise": ("binary", "broadcast"), "with_scalar": ("rscalar" if env.get("reverse") else "scalar",),
             "math_kernel": ("unary",)}.get(builder, ())
    for f in (env.get("f"), env.get("f32"), env.get("f64")):     # build (not compile) every kernel it may launch
        if isinstance(f, LazyDUFunc):
            for kind in (kinds if _arity(f) == 2 else ("unary",)):
                template(kind, f)
    if builder == "elementwise":
        f, f32 = env["f"], env.get("f32")

        def kernel(ctx, p, inputs, outputs, req):
            out = outputs[0]
            map_binary(_pick(f, f32, out.dtype), inputs[0], inputs[1], out, req[0]) if len(inputs) == 2 else \
                map_unary(_pick(f, f32, out.dtype), inputs[0], out, req[0])
    elif builder == "with_scalar":
        f, f32, reverse = env["f"], env.get("f32"), env.get("reverse", False)

        def kernel(ctx, p, inputs, outputs, req):
            out = outputs[0]
            s = compute_dtype(out.dtype).type(cpu.scalar_in(p.scalar, out.dtype)[()])
            map_scalar(_pick(f, f32, out.dtype), inputs[0], s, out, req[0], reverse)
    elif builder == "math_kernel":
        f, f32, f64 = env["f"], env.get("f32"), env.get("f64")

        def kernel(ctx, p, inputs, outputs, req):
            out = outputs[0]
            fast = f64 if out.dtype == F64 else f32 if out.dtype in (F32, F16) else None
            map_unary(fast if isinstance(fast, LazyDUFunc) else f, inputs[0], out, req[0])
    else:
        return None
    kernel.__name__ = cpu_kernel.__name__
    kernel.__qualname__ = "cuda." + builder
    return kernel


# ---------------------------------------------------------------------------------------------------------------
# The other kernels of the family
# ---------------------------------------------------------------------------------------------------------------

@cuda.jit
def _hard_sigmoid_kernel(out, x, alpha, beta, add, n):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        v = cpu._hard_sigmoid(x[i], alpha, beta)
        if add:
            out[i] = out[i] + v
        else:
            out[i] = v
        i += step


declare("elemwise.hard_sigmoid", _hard_sigmoid_kernel,
        [(_A, _A, types.float32, types.float32, types.boolean, types.int64)])


def hard_sigmoid(ctx, p, inputs, outputs, req):
    out = outputs[0]
    cdt = compute_dtype(out.dtype)
    x = as_compute(inputs[0], cdt)
    alpha, beta = cdt.type(np.float32(p.alpha)), cdt.type(np.float32(p.beta))

    def compute(dst):
        _go(_hard_sigmoid_kernel, dst.size, flat(dst), flat(x), alpha, beta, False, dst.size)
    in_compute_dtype(out, req[0], compute)


def _copy(ctx, p, inputs, outputs, req):
    copy_view(inputs[0], outputs[0], req[0])


def cast(ctx, p, inputs, outputs, req):
    """outputs[0] = inputs[0] converted (floats to integers truncate toward zero, as C++ casts do)."""
    copy_into(inputs[0], outputs[0], req[0])


def _zeros(ctx, p, inputs, outputs, req):
    fill(outputs[0], 0, req[0])


def _ones(ctx, p, inputs, outputs, req):
    fill(outputs[0], 1, req[0])


def _full(ctx, p, inputs, outputs, req):
    fill(outputs[0], cpu.scalar_in(p.value, outputs[0].dtype)[()], req[0])


def sum_to_like(ctx, p, inputs, outputs, req):
    """outputs[0] = inputs[0] summed over the axes along which an array of the output's shape was broadcast."""
    from .reduce import reduce_axes
    g, out = inputs[0], outputs[0]
    extra = g.ndim - out.ndim
    axes = tuple(range(extra)) + tuple(extra + i for i, d in enumerate(out.shape) if d == 1 and g.shape[extra + i] != 1)
    if not axes:
        copy_view(g, out, req[0])
        return
    reduce_axes("sum", g, axes, out, req[0])


KERNELS = {"hard_sigmoid": hard_sigmoid, "_copy": _copy, "Cast": cast, "_backward_Cast": cast, "_zeros": _zeros,
           "_ones": _ones, "_full": _full, "_sum_to_like": sum_to_like}
