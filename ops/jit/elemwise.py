"""njit bodies of the elementwise family: unary math, same-shape and broadcast binary ops, ops with a scalar param,
and the Activation family built from the same loops (ops/jit/nn.py).

Each op's math is a scalar function that already exists: the DUFuncs' Python functions in ops/cpu/elemwise.py
(the float64 math, and float32 where the kernel runs the DUFunc), vmath's float32 functions where the kernel runs
vmath (exp, sigmoid, ...), and the few written here (activation gradients). From each scalar function `f_<key>`
this module makes the loops the ops need, from the templates below:
  map1_<key>(x, out, accumulate)                 out[i] = f(x[i])
  map2_<key>(a, b, out, accumulate)              out[i] = f(a[i], b[i])             (equal sizes)
  bcast_<key>(a, b, out, accumulate, *layout)    out = f(a, b), numpy broadcasting  (a 4-d layout, see _layout)
  scalar_<key>(x, out, s, accumulate)            out[i] = f(x[i], s), rscalar_<key>: f(s, x[i])
`accumulate` (req ADD) adds the result, rounded to out's dtype first, as the kernels' `assign` does.

Why templates and `exec`: numba caches a function on disk only when it is defined at module level of a real file
(a closure made by a factory recompiles in every process; see ops/cpu/elemwise.py). The generated functions are
compiled with this file as their source file and set as this module's attributes, so they are cached like
hand-written ones and importable by name (`from ops.jit.elemwise import map1_exp`), as the Plan compiler needs.
"""
import functools
import inspect
import math
import threading

import numba
import numpy as np

from ..cpu import elemwise as cpu
from ..cpu import vmath
from ..cpu.lazy_ufunc import scalar_function
from ..registry import ADD, NULL
from .common import F32, JIT, as_dtype_of, as_type_of, body_of, builds, skip  # noqa: F401 (used by templates)

_inline = numba.njit(inline="always")


def _python(f):
    """The Python function under a DUFunc (ops/cpu/elemwise.py) or an njit dispatcher."""
    return getattr(scalar_function(f), "py_func", scalar_function(f))


# ---- scalar functions written here -----------------------------------------------------------------------------
# float64 forms of vmath's float32 functions, the same formulas as the kernels' numpy fallbacks
def _sigmoid64(x):
    e = math.exp(-abs(x))                   # 1 / (1 + exp(-x)) without overflow, as scipy's expit
    return 1 / (1 + e) if x >= 0 else e / (1 + e)


def _softrelu64(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))         # numpy's logaddexp(x, 0)


def _softsign64(x):
    return x / (1 + abs(x))


# Activation gradients: dy and v (the output; the input for softsign), as ops/cpu/activation.py's _GRAD
def _relu_grad(dy, v):
    return dy if v > 0 else 0 * dy


def _sigmoid_grad(dy, v):
    return dy * v * (1 - v)


def _tanh_grad(dy, v):
    return dy * (1 - v * v)


def _softrelu_grad(dy, v):
    return -dy * math.expm1(-v)


def _softrelu_grad32(dy, v):
    return -dy * vmath.expm1_32(-v)


def _leaky(x, slope):
    return x if x > 0 else slope * x        # LeakyReLU's 'leaky' (a scalar op: the slope is its param)


def _softsign_grad(dy, v):
    d = 1 + abs(v)
    return dy / (d * d)


# key -> the scalar function. Keys ending in 32 are float32-only (vmath, or the kernels' float32 variants).
_SCALARS = {name: _python(getattr(cpu, name)) for name in (
    "add", "sub", "mul", "div", "power", "neg", "ln", "relu", "mod", "mod_f32", "maximum", "minimum", "hypot",
    "hypot_f32", "equal", "not_equal", "greater", "greater_equal", "lesser", "lesser_equal", "logical_and",
    "logical_or", "logical_xor", "_abs", "_sign", "_round", "_rint", "_ceil", "_floor", "_trunc", "_square", "_sqrt",
    "_rsqrt", "_cbrt", "_rcbrt", "_reciprocal", "_exp", "_expm1", "_log10", "_log2", "_log1p", "_sin", "_cos",
    "_tan", "_arcsin", "_arccos", "_arctan", "_sinh", "_cosh", "_tanh", "_arcsinh", "_arccosh", "_arctanh",
    "_degrees", "_radians", "_sigmoid", "_softsign", "_erf", "_logical_not")}
_VMATH_KEYS = {f.__name__ for f in vmath.SCALAR.values()}          # exp32, expm1_32, ...
_SCALARS.update({f.__name__: f for f in vmath.SCALAR.values()})
_SCALARS.update(sigmoid64=_sigmoid64, softrelu64=_softrelu64, softsign64=_softsign64, relu_grad=_relu_grad,
                sigmoid_grad=_sigmoid_grad, tanh_grad=_tanh_grad, softrelu_grad=_softrelu_grad,
                softrelu_grad32=_softrelu_grad32, softsign_grad=_softsign_grad, leaky=_leaky)


# ---- the templates ---------------------------------------------------------------------------------------------
_SCALAR_FN = """
def f_{key}({params}):
    return _impl_{key}({params})
"""
_SCALAR_OP_FNS = """
def s_{key}(x, s):
    return f_{key}(x, as_type_of(s, x))


def rs_{key}(x, s):
    return f_{key}(as_type_of(s, x), x)
"""
_MAP1 = """
def map1_{key}(x, out, accumulate):
{wide}    xf = x.reshape(-1)
    of = out.reshape(-1)
    if accumulate:
        for i in range(of.shape[0]):
            of[i] += as_dtype_of(f_{key}(xf[i]), of)
    elif xf.ctypes.data == of.ctypes.data:      # in place: its own loop, or LLVM's overlap check goes scalar
        for i in range(of.shape[0]):
            of[i] = f_{key}(of[i])
    else:
        for i in range(of.shape[0]):
            of[i] = f_{key}(xf[i])
"""
_MAP2 = """
def map2_{key}(a, b, out, accumulate):
    af = a.reshape(-1)
    bf = b.reshape(-1)
    of = out.reshape(-1)
    if accumulate:
        for i in range(of.shape[0]):
            of[i] += as_dtype_of(f_{key}(af[i], bf[i]), of)
    else:
        for i in range(of.shape[0]):
            of[i] = f_{key}(af[i], bf[i])
"""
_BCAST = """
def bcast_{key}(a, b, out, accumulate, n0, n1, n2, n3, a0, a1, a2, a3, b0, b1, b2, b3):
    af = a.reshape(-1)
    bf = b.reshape(-1)
    of = out.reshape(-1)
    o = 0
    for i0 in range(n0):
        for i1 in range(n1):
            for i2 in range(n2):
                ia = i0 * a0 + i1 * a1 + i2 * a2
                ib = i0 * b0 + i1 * b1 + i2 * b2
                if accumulate:
                    for i3 in range(n3):
                        of[o + i3] += as_dtype_of(f_{key}(af[ia + i3 * a3], bf[ib + i3 * b3]), of)
                else:                               # inner loops over slices with fixed strides vectorise
                    oi = of[o:o + n3]
                    if a3 == 1 and b3 == 1:
                        ai = af[ia:ia + n3]
                        bi = bf[ib:ib + n3]
                        for i3 in range(n3):
                            oi[i3] = f_{key}(ai[i3], bi[i3])
                    elif a3 == 1:
                        ai = af[ia:ia + n3]
                        vb = bf[ib]
                        for i3 in range(n3):
                            oi[i3] = f_{key}(ai[i3], vb)
                    else:
                        va = af[ia]
                        for i3 in range(n3):
                            oi[i3] = f_{key}(va, bf[ib + i3 * b3])
                o += n3
"""
_WITH_SCALAR = """
def {prefix}_{key}(x, out, s, accumulate):
    xf = x.reshape(-1)
    of = out.reshape(-1)
    v = as_dtype_of(s, of)                      # the param in out's dtype, as the kernel's scalar_in
    if accumulate:
        for i in range(of.shape[0]):
            of[i] += as_dtype_of(f_{key}({call}), of)
    else:
        for i in range(of.shape[0]):
            of[i] = f_{key}({call})
"""


def _define(template, jit, **fields):
    """Compile template's function as this module's attribute (see the module docstring); returns it."""
    code = template.format(**fields)
    name = code.split("def ", 1)[1].split("(", 1)[0]
    exec(compile(code, __file__, "exec"), globals())
    fn = globals()[name] = jit(globals()[name])
    return fn


_LOOP = numba.njit(**JIT)
# vmath's functions inline into their caller at numba IR level and take its flags: with FMA contraction, as the
# kernels' vmath loops are compiled, they run ~1.5x faster and give the kernels' float32 values to the bit
_VMATH_LOOP = numba.njit(**JIT, fastmath={"contract"})
_SCALAR_JIT = numba.njit(inline="always", cache=True)


def _generate(key):
    f = _SCALARS[key]
    arity = len(inspect.signature(f).parameters)
    globals()["_impl_" + key] = f if isinstance(f, numba.core.dispatcher.Dispatcher) else _inline(f)
    _define(_SCALAR_FN, _SCALAR_JIT, key=key, params=", ".join("xy"[:arity]))
    if arity == 1:
        vmath_key = key in _VMATH_KEYS     # 16 floats wide, as vmath's loops (Note [512-bit vectors] in vmath.py)
        _define(_MAP1, _VMATH_LOOP if vmath_key else _LOOP, key=key,
                wide="    vmath.prefer_wide_vectors()\n" if vmath_key else "")
    else:
        _define(_SCALAR_OP_FNS.split("\n\n\n")[0], _SCALAR_JIT, key=key)
        _define(_SCALAR_OP_FNS.split("\n\n\n")[1], _SCALAR_JIT, key=key)
        _define(_MAP2, _LOOP, key=key)
        _define(_BCAST, _LOOP, key=key)
        _define(_WITH_SCALAR, _LOOP, key=key, prefix="scalar", call="xf[i], v")
        _define(_WITH_SCALAR, _LOOP, key=key, prefix="rscalar", call="v, xf[i]")


# Generated per key on first use (issue 15, cold start): all ~300 functions at import took ~70 ms of a first call
# that needs two. The body builders below generate their key first (`_generating_key`); `from ops.jit.elemwise
# import map1_exp` (a generated plan module) goes through the module's `__getattr__`.
_PREFIXES = ("_impl_", "f_", "s_", "rs_", "map1_", "map2_", "bcast_", "scalar_", "rscalar_")
_GENERATED = set()
_generate_lock = threading.RLock()


def _ensure(key):
    if key not in _GENERATED:
        with _generate_lock:
            if key not in _GENERATED:
                _generate(key)
                _GENERATED.add(key)


def _generating_key(builder):
    """A body builder `builder(key, ...)` that finds its key's generated functions in globals()."""
    @functools.wraps(builder)
    def build(key, *args):
        _ensure(key)
        return builder(key, *args)
    return build


def __getattr__(name):
    for prefix in _PREFIXES:
        if name.startswith(prefix) and name[len(prefix):] in _SCALARS:
            _ensure(name[len(prefix):])
            if name in globals():
                return globals()[name]
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


# ---- op name -> scalar function key, per dtype ------------------------------------------------------------------
def _keys(f64, f32=None):
    """{float64: key, float32: key}: f32 where the float32 kernel computes with another function than float64's."""
    return {np.dtype(np.float64): f64, F32: f32 or f64}


# float32 keys: vmath's function where vmath has one (the kernel runs vmath, or numpy's SIMD loop: the same values
# within 1-2 units of float32 rounding, vmath's error bound; libm's scalar calls in a loop are 5-40x slower), else
# the DUFunc's own function (the kernel runs the DUFunc, or a numpy ufunc computing the same within the last bit).
UNARY = {
    "negative": _keys("neg"), "abs": _keys("_abs"), "sign": _keys("_sign"), "round": _keys("_round"),
    "rint": _keys("_rint"), "ceil": _keys("_ceil"), "floor": _keys("_floor"), "trunc": _keys("_trunc"),
    "fix": _keys("_trunc"), "square": _keys("_square"), "sqrt": _keys("_sqrt"), "rsqrt": _keys("_rsqrt"),
    "cbrt": _keys("_cbrt"), "rcbrt": _keys("_rcbrt"), "reciprocal": _keys("_reciprocal"),
    "exp": _keys("_exp", "exp32"), "expm1": _keys("_expm1", "expm1_32"), "log": _keys("ln", "log32"),
    "log10": _keys("_log10"), "log2": _keys("_log2"), "log1p": _keys("_log1p", "log1p32"),
    "sin": _keys("_sin"), "cos": _keys("_cos"), "tan": _keys("_tan"), "arcsin": _keys("_arcsin"),
    "arccos": _keys("_arccos"), "arctan": _keys("_arctan"),
    "sinh": _keys("_sinh"), "cosh": _keys("_cosh"), "tanh": _keys("_tanh", "tanh32"), "arcsinh": _keys("_arcsinh"),
    "arccosh": _keys("_arccosh"), "arctanh": _keys("_arctanh"), "degrees": _keys("_degrees"),
    "radians": _keys("_radians"), "sigmoid": _keys("_sigmoid", "sigmoid32"), "relu": _keys("relu"),
    "softsign": _keys("_softsign", "softsign32"), "erf": _keys("_erf", "erf32"),
    "logical_not": _keys("_logical_not"),
}

# same-shape op, broadcast op -> key
_BINARY_KEYS = {
    "add": _keys("add"), "sub": _keys("sub"), "mul": _keys("mul"), "div": _keys("div"), "power": _keys("power"),
    "mod": _keys("mod", "mod_f32"), "maximum": _keys("maximum"), "minimum": _keys("minimum"),
    "hypot": _keys("hypot", "hypot_f32"),
}
_COMPARISONS = ("equal", "not_equal", "greater", "greater_equal", "lesser", "lesser_equal", "logical_and",
                "logical_or", "logical_xor")
_BINARY_KEYS.update({name: _keys(name) for name in _COMPARISONS})
_SAME_SHAPE = {"add": "elemwise_add", "sub": "elemwise_sub", "mul": "elemwise_mul", "div": "elemwise_div"}
BINARY = {}
for _name, _k in _BINARY_KEYS.items():
    BINARY[_SAME_SHAPE.get(_name, "_" + _name)] = _k
    BINARY["broadcast_" + _name] = _k

# op -> (key, reversed): data (op) scalar, or scalar (op) data
_SCALAR_OPS = {"_plus_scalar": ("add", False), "_minus_scalar": ("sub", False), "_rminus_scalar": ("sub", True),
               "_mul_scalar": ("mul", False), "_div_scalar": ("div", False), "_rdiv_scalar": ("div", True),
               "_power_scalar": ("power", False), "_rpower_scalar": ("power", True),
               "_mod_scalar": ("mod", False), "_rmod_scalar": ("mod", True), "_maximum_scalar": ("maximum", False),
               "_minimum_scalar": ("minimum", False), "_hypot_scalar": ("hypot", False)}
_SCALAR_OPS.update({"_%s_scalar" % name: (name, False) for name in _COMPARISONS})


# key -> the one float operation its scalar function is (Body.scalar_arithmetic): what decides whether a fused loop
# may run the step in a stage compiled with FMA contraction without changing its bits (Note [tiled fusion] in
# scheduler/codegen.py). Keys left out are unknown (never moved into such a stage).
ARITHMETIC = {"mul": "mul", "_square": "mul", "add": "add", "sub": "add", "_sqrt": "plain", "div": "plain",
              "_reciprocal": "plain", "relu": "plain", "_abs": "plain", "maximum": "plain", "minimum": "plain"}


# ---- bodies -----------------------------------------------------------------------------------------------------
def _accumulate(req):
    return req[0] == ADD


@_generating_key
def unary_body(key, req):
    """The Body of out = f_key(x), fusable."""
    if req[0] == NULL:
        return body_of(skip)
    f = globals()["f_" + key]
    return body_of(globals()["map1_" + key], (_accumulate(req),), scalar=f, scalar_name=f.__name__,
                   scalar_vmath=key in _VMATH_KEYS, scalar_arithmetic=ARITHMETIC.get(key), flat=True)


@_generating_key
def binary_body(key, in_meta, out_meta, req):
    """The Body of out = f_key(a, b) with numpy broadcasting; fusable when each input is out-shaped or size 1."""
    if req[0] == NULL:
        return body_of(skip)
    out_shape = out_meta[0][0]
    shapes = [m[0] for m in in_meta]
    f = globals()["f_" + key]
    fusable = dict(scalar=f, scalar_name=f.__name__, scalar_arithmetic=ARITHMETIC.get(key)) if all(
        s == out_shape or _size(s) == 1 for s in shapes) else {}
    if all(s == out_shape for s in shapes):
        return body_of(globals()["map2_" + key], (_accumulate(req),), flat=True, **fusable)
    layout = _layout(shapes, out_shape)
    if layout is None:
        return None
    return body_of(globals()["bcast_" + key], (_accumulate(req),) + layout, flat=True, **fusable)


def _size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _layout(in_shapes, out_shape):
    """(n0..n3, a0..a3, b0..b3): out's shape and each input's element strides (0 along broadcast dims) after
    merging neighbouring dims that broadcast alike, as 4 dims; None when more than 4 remain."""
    nd = len(out_shape)
    padded = [(1,) * (nd - len(s)) + tuple(s) for s in in_shapes]
    dims = []                                   # [size, (stretched per input)] merged
    for k in range(nd):
        if out_shape[k] == 1:
            continue
        kind = tuple(s[k] == 1 for s in padded)
        if dims and dims[-1][1] == kind:
            dims[-1][0] *= out_shape[k]
        else:
            dims.append([out_shape[k], kind])
    if len(dims) > 4:
        return None
    dims = [[1, (True,) * len(in_shapes)]] * (4 - len(dims)) + dims
    strides = []
    for j in range(len(in_shapes)):
        s, step = [], 1
        for size, kind in reversed(dims):
            s.append(0 if kind[j] else step)
            step *= 1 if kind[j] else size
        strides.append(tuple(reversed(s)))
    return tuple(d[0] for d in dims) + strides[0] + strides[1]


def _float_key(table, op, dtype):
    keys = table.get(op.name)
    return None if keys is None else keys.get(np.dtype(dtype))


@builds(*UNARY)
def _unary(op, params, in_meta, out_meta, req):
    key = _float_key(UNARY, op, out_meta[0][1])
    return None if key is None or in_meta[0][0] != out_meta[0][0] else unary_body(key, req)


@builds(*BINARY)
def _binary(op, params, in_meta, out_meta, req):
    key = _float_key(BINARY, op, out_meta[0][1])
    return None if key is None else binary_body(key, in_meta, out_meta, req)


@_generating_key
def scalar_body(key, value, reverse, req):
    """The Body of out = f_key(x, value), or f_key(value, x) when reverse, value taken in out's dtype; fusable."""
    if req[0] == NULL:
        return body_of(skip)
    f = globals()[("rs_" if reverse else "s_") + key]
    loop = globals()[("rscalar_" if reverse else "scalar_") + key]
    return body_of(loop, (float(value), _accumulate(req)), scalar=f, scalar_name=f.__name__,
                   scalar_args=(float(value),), scalar_arithmetic=ARITHMETIC.get(key), flat=True)


@builds(*_SCALAR_OPS)
def _with_scalar(op, params, in_meta, out_meta, req):
    if out_meta[0][1] != in_meta[0][1]:
        return None
    name, reverse = _SCALAR_OPS[op.name]
    return scalar_body(_BINARY_KEYS[name][np.dtype(out_meta[0][1])], params.scalar, reverse, req)
