"""Front ends generated from the registry: `mx.sym.X` and `mx.nd.X` for every op name and alias.

One factory closure per function sets `__name__`, `__doc__` (from the OpDef) and `__signature__`, so `help()` and
`inspect.signature` work. Where a function lands follows MXNet's routing of op names to modules (`_init_op_module`
in MXNet's `base.py`): `_contrib_X` -> `contrib.X`, `_linalg_X` -> `linalg.X`, `_random_X_like` -> `random.X_like`
(other `_random_X` and `_sample_X` stay in `_internal`: MXNet's Python wrappers in `random` call them), other
names with a leading underscore -> `_internal`, everything else -> the top level.
"""
import inspect
import sys
import types

from ops import registry

# (prefix, submodule) pairs, first match wins; a submodule gets the name without its prefix.
_ROUTES = (("_contrib_", "contrib"), ("_linalg_", "linalg"), ("_random_", "random"), ("_sample_", "random"),
           ("_sparse_", "sparse"), ("_image_", "image"), ("_", "_internal"))


_SHORT_NAMED = ("contrib", "linalg", "sparse", "image")


class _NullType:
    """Default of params the user did not pass (MXNet's `_Null`): they keep the op's default."""

    def __repr__(self):
        return "_Null"


_Null = _NullType()


def route(name):
    """(submodule or None, function name) for an op name or alias."""
    if name.startswith(("_random_", "_sample_")) and not name.endswith("_like"):
        return "_internal", name    # MXNet generates only the *_like ops into `random` (its Python wraps the rest)
    for prefix, module in _ROUTES:
        if name.startswith(prefix):
            return module, name[len(prefix):] if module != "_internal" else name
    return None, name


def make_function(opdef, name, invoke, extra_params):
    """The front-end function `name` of `opdef`: it calls `invoke(opdef, name, args, kwargs)`.

    `extra_params` are the keyword parameters every function of this front end takes (`name`, `attr` for
    symbols; `out` for NDArrays)."""
    optional_inputs = _input_names(opdef)

    def function(*args, **kwargs):
        if args and args[-1] is None:
            while args and args[-1] is None:      # an optional input left out (`bias=None` with no_bias)
                args = args[:-1]
        for arg in args:
            if type(arg) not in _ARRAY_TYPES and not _is_array(arg):    # values after the inputs: params in order
                args = _params_by_position(opdef, name, args, kwargs)
                break
        for value in kwargs.values():
            if value is _Null or value is None:     # rare: drop the params left out, and optional inputs as None
                kwargs = {k: v for k, v in kwargs.items() if v is not _Null and
                          not (v is None and k in optional_inputs)}
                break
        return invoke(opdef, name, args, kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = _docstring(opdef)
    function.__signature__ = _LazySignature(opdef, extra_params)
    return function


_GENERATED_CODE = next(c for c in make_function.__code__.co_consts if getattr(c, "co_name", "") == "function")


def is_generated(function):
    """True for a front-end function `make_function` made, False for whatever replaced it (AMP's wrappers)."""
    return getattr(function, "__code__", None) is _GENERATED_CODE


_ARRAY_TYPES = set()    # the types `_is_array` accepted: a front-end call tests its inputs with one set lookup


def _is_array(value):
    """True for the values a front end takes as inputs: NDArrays, Symbols (and anything with an array priority)."""
    kind = type(value)
    if hasattr(kind, "__array_priority__") or kind.__name__ in ("Symbol", "NDArray"):
        _ARRAY_TYPES.add(kind)
        return True
    return hasattr(value, "__array_priority__")


def _params_by_position(opdef, name, args, kwargs):
    """Split positional arguments: leading arrays are inputs, the values after them are params in order
    (`mx.nd.random.randint(0, 5, shape=(4,))`)."""
    n_inputs = 0
    while n_inputs < len(args) and _is_array(args[n_inputs]):
        n_inputs += 1
    extra = args[n_inputs:]
    if not extra or opdef.variadic:
        return args
    names = [k for k in opdef.params if k not in kwargs]
    if len(extra) > len(names):
        raise TypeError("%s: %d positional values given after the inputs, but it takes only the params %s"
                        % (name, len(extra), list(opdef.params)))
    kwargs.update(zip(names, extra))
    return args[:n_inputs]


def _input_names(opdef):
    return () if callable(opdef.arguments) or opdef.variadic else tuple(opdef.arguments) + tuple(
        () if callable(opdef.aux) else opdef.aux)


class _LazySignature(inspect.Signature):
    """The signature of a front-end function, made when first read (`inspect.signature`, `help`): making all ~850
    at import took ~12 ms of every `import dataflow` (cold start, issue 15)."""
    __slots__ = ("_opdef", "_extra_params", "_made")

    def __init__(self, opdef, extra_params):
        self._opdef, self._extra_params, self._made = opdef, extra_params, None
        self._return_annotation = inspect.Signature.empty

    @property
    def _parameters(self):
        if self._made is None:
            self._made = _signature(self._opdef, self._extra_params).parameters
        return self._made

    def replace(self, **changes):
        return _signature(self._opdef, self._extra_params).replace(**changes)


def _signature(opdef, extra_params):
    kind = inspect.Parameter
    params = []
    if opdef.variadic:
        params.append(kind("args", kind.VAR_POSITIONAL))
    else:
        try:
            names = opdef.input_names(opdef.parse_params({k: _example(f) for k, f in opdef.params.items()
                                                          if f.required}))
        except Exception:  # noqa: BLE001 - a signature is documentation; fall back to the static names
            names = [] if callable(opdef.arguments) else list(opdef.arguments) + list(
                [] if callable(opdef.aux) else opdef.aux)
        params += [kind(n, kind.POSITIONAL_OR_KEYWORD, default=None) for n in names]
    for key in opdef.params:
        params.append(kind(key, kind.KEYWORD_ONLY if opdef.variadic else kind.POSITIONAL_OR_KEYWORD,
                           default=_Null))
    taken = {q.name for q in params}
    params += [kind(n, kind.KEYWORD_ONLY if opdef.variadic else kind.POSITIONAL_OR_KEYWORD, default=None)
               for n in extra_params if n not in taken]
    params.append(kind("kwargs", kind.VAR_KEYWORD))
    return inspect.Signature(params)


def _example(field):
    # A placeholder value for a required param, only to learn input names for the signature.
    return {"int": 1, "float": 1.0, "boolean": False}.get(field.type_name, getattr(field, "choices", ["0"])[0])


_DOCSTRINGS = {}      # id(opdef) -> (opdef, its docstring): made once for both front ends and every alias


def _docstring(opdef):
    made = _DOCSTRINGS.get(id(opdef))
    if made is None or made[0] is not opdef:
        made = _DOCSTRINGS[id(opdef)] = (opdef, _make_docstring(opdef))
    return made[1]


def _make_docstring(opdef):
    lines = [opdef.doc.strip() or opdef.name, "", "Parameters", "----------"]
    for key, field in opdef.params.items():
        lines.append("%s : %s" % (key, field.describe()))
        if field.doc:
            lines.append("    " + field.doc)
    lines += ["name : str, optional", "    Name of the resulting symbol (Symbol front end).", "",
              "Returns", "-------", "Symbol or NDArray"]
    return "\n".join(lines)


def populate(module, invoke, extra_params):
    """Add a function for every registered op name and alias to `module` and its routed submodules."""
    submodules = {}
    for name, opdef in registry.all_names():
        sub, short = route(name)
        target = module
        if sub is not None:
            target = submodules.get(sub)
            if target is None:
                target = getattr(module, sub, None)
                if target is None:
                    target = types.ModuleType("%s.%s" % (module.__name__, sub))
                    setattr(module, sub, target)
                    sys.modules[target.__name__] = target     # importable: `import mxnet.ndarray.random`
                submodules[sub] = target
        if not hasattr(target, short):
            # MXNet names a contrib/linalg symbol by its short name (`gemm20`), a random one by its full name
            called = short if sub in _SHORT_NAMED or name.endswith("_like") else name
            setattr(target, short, make_function(opdef, called, invoke, extra_params))
        # MXNet also keeps every `_internal` function reachable by its full name on `_internal`.
    for alias, op_name in LEGACY_ALIASES.items():
        if registry.exists(op_name) and not hasattr(module, alias):
            setattr(module, alias, make_function(registry.get(op_name), alias, invoke, extra_params))
    return submodules


# MXNet's older top-level names of the sampling ops (`mx.nd.uniform`, `mx.sym.random_normal` ...): aliases of the
# ops themselves, so they take the op's params as they are (no Python wrapper, as mx.nd.random.* has) and a
# symbol made through one is named after the alias (`uniform0`). Names whose op is not registered are left out.
LEGACY_ALIASES = {
    "uniform": "_random_uniform", "random_uniform": "_random_uniform", "normal": "_random_normal",
    "random_normal": "_random_normal", "random_exponential": "_random_exponential", "random_gamma": "_random_gamma",
    "random_poisson": "_random_poisson", "random_randint": "_random_randint",
    "random_negative_binomial": "_random_negative_binomial",
    "random_generalized_negative_binomial": "_random_generalized_negative_binomial",
    "sample_uniform": "_sample_uniform", "sample_normal": "_sample_normal", "sample_gamma": "_sample_gamma",
    "sample_exponential": "_sample_exponential", "sample_poisson": "_sample_poisson",
    "sample_negative_binomial": "_sample_negative_binomial",
    "sample_generalized_negative_binomial": "_sample_generalized_negative_binomial",
    "sample_multinomial": "_sample_multinomial",
}


# -- fluent methods and binary helpers (the same table for NDArray and Symbol) ---------------------------------------

# `x.sum(axis=1)` is `mx.nd.sum(x, axis=1)`: MXNet's fluent methods, calling the generated function of each name.
FLUENT = ("reshape_like", "zeros_like", "ones_like", "repeat", "pad", "swapaxes", "split", "slice", "slice_axis",
          "slice_like", "take", "one_hot", "pick", "sort", "topk", "argmax", "argmax_channel", "argmin", "argsort",
          "clip", "abs", "sign", "flatten", "expand_dims", "tile", "transpose", "flip", "depth_to_space",
          "space_to_depth", "diag", "sum", "nansum", "prod", "nanprod", "mean", "max", "min", "norm", "round", "rint",
          "fix", "floor", "ceil", "trunc", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "degrees", "radians",
          "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "exp", "expm1", "log", "log10", "log2", "log1p",
          "sqrt", "rsqrt", "cbrt", "rcbrt", "square", "reciprocal", "relu", "sigmoid", "softmax", "log_softmax",
          "squeeze", "broadcast_to", "broadcast_like", "reshape", "broadcast_axes", "shape_array", "size_array",
          "softmin")


def add_fluent_methods(cls, namespace):
    """Give `cls` a method per FLUENT name that `cls` does not define itself, calling `namespace.<name>`."""
    for name in FLUENT:
        if name in cls.__dict__ or not hasattr(namespace, name):
            continue

        def method(self, *args, _name=name, **kwargs):
            return getattr(namespace, _name)(self, *args, **kwargs)
        method.__name__ = name
        method.__doc__ = "Fluent form of `%s(self, ...)`." % name
        setattr(cls, name, method)


# MXNet's Python helpers that pick an op by operand kinds: (name, array-array op, array-scalar op, scalar-array op).
# A scalar-array op of None means the operation is symmetric (the operands swap).
BINARY_HELPERS = (
    ("add", "_plus_scalar", None), ("subtract", "_minus_scalar", "_rminus_scalar"),
    ("multiply", "_mul_scalar", None), ("divide", "_div_scalar", "_rdiv_scalar"),
    ("true_divide", "_div_scalar", "_rdiv_scalar"), ("modulo", "_mod_scalar", "_rmod_scalar"),
    ("power", "_power_scalar", "_rpower_scalar"), ("maximum", "_maximum_scalar", None),
    ("minimum", "_minimum_scalar", None), ("hypot", "_hypot_scalar", None),
    ("equal", "_equal_scalar", None), ("not_equal", "_not_equal_scalar", None),
    ("greater", "_greater_scalar", "_lesser_scalar"), ("greater_equal", "_greater_equal_scalar",
                                                       "_lesser_equal_scalar"),
    ("lesser", "_lesser_scalar", "_greater_scalar"), ("lesser_equal", "_lesser_equal_scalar",
                                                      "_greater_equal_scalar"),
    ("logical_and", "_logical_and_scalar", None), ("logical_or", "_logical_or_scalar", None),
    ("logical_xor", "_logical_xor_scalar", None),
)
_ARRAY_OP = {"add": "plus", "subtract": "minus", "multiply": "mul", "divide": "div", "true_divide": "div",
             "modulo": "mod"}


def add_binary_helpers(module, invoke, is_operand, broadcast):
    """`module.maximum(lhs, rhs)` and friends: each operand an array/Symbol or a number, as MXNet's helpers take.

    NDArray helpers use the broadcast ops (`broadcast_maximum`); Symbol helpers the same-shape ones (`_maximum`)."""
    for name, scalar_op, rscalar_op in BINARY_HELPERS:
        if hasattr(module, name) and name not in ("maximum", "minimum", "power", "hypot"):
            continue
        base = _ARRAY_OP.get(name, name)
        array_op = ("broadcast_%s" % base) if broadcast else ("_%s" % base)
        if not registry.exists(array_op):
            array_op = "broadcast_%s" % base if registry.exists("broadcast_%s" % base) else "_%s" % name

        def helper(lhs, rhs, _a=array_op, _s=scalar_op, _r=rscalar_op, _name=name):
            if is_operand(lhs) and is_operand(rhs):
                return invoke(registry.get(_a), _a, (lhs, rhs), {})
            if is_operand(lhs):
                return invoke(registry.get(_s), _s, (lhs,), {"scalar": float(rhs)})
            if is_operand(rhs):
                op = _r or _s
                return invoke(registry.get(op), op, (rhs,), {"scalar": float(lhs)})
            raise TypeError("%s: at least one operand must be an array or a Symbol, got %s and %s"
                            % (_name, type(lhs).__name__, type(rhs).__name__))
        helper.__name__ = name
        helper.__doc__ = "Elementwise %s of two operands (arrays, Symbols or numbers)." % name
        setattr(module, name, helper)
