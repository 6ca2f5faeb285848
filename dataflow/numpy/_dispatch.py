"""NumPy's dispatch protocols on mx.np.ndarray, as MXNet 1.9.1 has them: a NumPy function (NEP 18,
`__array_function__`) or ufunc (NEP 13, `__array_ufunc__`) called with mx.np arrays runs mx.np's function of the
same name when MXNet dispatches that name (the lists below), else NumPy itself on host copies of the arrays (refused
while autograd records, as MXNet refuses it), whose array results come back as mx.np arrays on the first argument
array's context. So `onp.sum(x)` of an mx.np array `x` is `mx.np.sum(x)`, an mx.np array. An mx.np `out=` of a
host call receives the result, as NumPy's contract says (MXNet 1.9.1 recurses there)."""
import numpy as onp

from ..autograd.state import is_recording
from ..ndarray.ndarray import NDArray
from .fallback import _first_context, _to_device, _to_host

# MXNet 1.9.1's dispatched names (mxnet/numpy_dispatch_protocol.py); those NumPy 2 lacks are left out when looked up
FUNCTIONS = ("all", "any", "sometrue", "argmin", "argmax", "around", "round", "round_", "argsort", "sort", "append",
             "broadcast_arrays", "broadcast_to", "clip", "concatenate", "copy", "cumsum", "diag", "diagonal",
             "diagflat", "dot", "expand_dims", "fix", "flip", "flipud", "fliplr", "inner", "insert", "max", "amax",
             "mean", "min", "amin", "nonzero", "ones_like", "atleast_1d", "atleast_2d", "atleast_3d", "prod",
             "product", "ravel", "repeat", "reshape", "roll", "split", "array_split", "hsplit", "vsplit", "dsplit",
             "squeeze", "stack", "std", "sum", "swapaxes", "take", "tensordot", "tile", "transpose", "unique",
             "unravel_index", "diag_indices_from", "delete", "var", "vdot", "vstack", "column_stack", "hstack",
             "dstack", "zeros_like", "linalg.norm", "linalg.cholesky", "linalg.inv", "linalg.solve",
             "linalg.tensorinv", "linalg.tensorsolve", "linalg.pinv", "linalg.eigvals", "linalg.eig",
             "linalg.eigvalsh", "linalg.eigh", "shape", "trace", "tril", "meshgrid", "outer", "einsum", "polyval",
             "shares_memory", "may_share_memory", "quantile", "percentile", "diff", "ediff1d", "resize", "where",
             "full_like", "bincount", "empty_like", "nan_to_num", "isnan", "isfinite", "isposinf", "isneginf", "isinf",
             "pad")
# MXNet 1.9.1 leaves `ldexp` out (commented out of its list): np.ldexp of mx.np arrays runs NumPy on the host
UFUNCS = ("abs", "fabs", "add", "arctan2", "copysign", "degrees", "hypot", "lcm", "subtract", "multiply",
          "true_divide", "negative", "power", "mod", "matmul", "absolute", "rint", "sign", "exp", "log", "log2",
          "log10", "expm1", "sqrt", "square", "cbrt", "reciprocal", "invert", "bitwise_not", "remainder", "sin", "cos",
          "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "maximum",
          "minimum", "ceil", "trunc", "floor", "bitwise_and", "bitwise_xor", "bitwise_or", "logical_not", "equal",
          "not_equal", "less", "less_equal", "greater", "greater_equal")

_dispatched = {}        # NumPy's function or ufunc -> mx.np's, filled on the first dispatch


def lookup(module, dotted_name):
    """`module.linalg.norm` for "linalg.norm"; None where the module lacks it (NumPy 2 dropped some names)."""
    for part in dotted_name.split("."):
        module = getattr(module, part, None)
    return module


def dispatched_names(names):
    """Those of `names` that dispatch here: NumPy has the function and mx.np implements it."""
    from .. import numpy as mx_np       # the package (complete once arrays exist)
    return [name for name in names if lookup(onp, name) is not None and lookup(mx_np, name) is not None]


def _mx_function(numpy_function):
    if not _dispatched:
        from .. import numpy as mx_np
        for name in dispatched_names(FUNCTIONS + UFUNCS):
            _dispatched[lookup(onp, name)] = lookup(mx_np, name)
    return _dispatched.get(numpy_function)


def array_function(func, types, args, kwargs):
    from .multiarray import ndarray
    mx_function = _mx_function(func)
    if mx_function is None:
        return _on_host(func, args, kwargs)
    if not all(issubclass(t, ndarray) for t in types):
        return NotImplemented
    return mx_function(*args, **kwargs)


def array_ufunc(ufunc, method, inputs, kwargs):
    if "out" in kwargs:
        if len(kwargs["out"]) != 1:
            raise ValueError("The `out` parameter must have exactly one ndarray")
        kwargs["out"] = kwargs["out"][0]
    if method != "__call__":
        return NotImplemented
    mx_ufunc = _mx_function(ufunc)
    return _on_host(ufunc, inputs, kwargs) if mx_ufunc is None else mx_ufunc(*inputs, **kwargs)


def _on_host(function, args, kwargs):
    if is_recording():
        raise ValueError("Falling back to NumPy operator %s with autograd active is not supported. Please consider "
                         "moving the operator to the outside of the autograd scope." % function.__name__)
    ctx = _first_context(list(args) + list(kwargs.values()))
    out = kwargs.get("out")
    if not isinstance(out, NDArray):
        return _to_device(function(*_to_host(args), **_to_host(kwargs)), ctx)
    # NumPy writes into a host copy of `out` (its casting and shape rules hold), which then lands in `out`
    host_out = out.asnumpy()
    function(*_to_host(args), **dict(_to_host(kwargs), out=host_out))
    out[...] = host_out
    return out
