"""Front ends generated from the registry: `mx.sym.X` and `mx.nd.X` for every op name and alias.

One factory closure per function sets `__name__`, `__doc__` (from the OpDef) and `__signature__`, so `help()` and
`inspect.signature` work. Where a function lands follows MXNet's routing of op names to modules (`_init_op_module`
in MXNet's `base.py`): `_contrib_X` -> `contrib.X`, `_linalg_X` -> `linalg.X`, `_random_X` and `_sample_X` ->
`random.X` (MXNet reaches the latter through Python wrappers), other
names with a leading underscore -> `_internal`, everything else -> the top level.
"""
import inspect
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
    for prefix, module in _ROUTES:
        if name.startswith(prefix):
            return module, name[len(prefix):] if module != "_internal" else name
    return None, name


def make_function(opdef, name, invoke, extra_params):
    """The front-end function `name` of `opdef`: it calls `invoke(opdef, name, args, kwargs)`.

    `extra_params` are the keyword parameters every function of this front end takes (`name`, `attr` for
    symbols; `out` for NDArrays)."""
    def function(*args, **kwargs):
        while args and args[-1] is None:      # an optional input left out (`bias=None` with no_bias)
            args = args[:-1]
        args = _params_by_position(opdef, name, args, kwargs)
        return invoke(opdef, name, args, {k: v for k, v in kwargs.items() if v is not _Null and
                                          not (v is None and k in _input_names(opdef))})

    function.__name__ = function.__qualname__ = name
    function.__doc__ = _docstring(opdef)
    function.__signature__ = _signature(opdef, extra_params)
    return function


def _params_by_position(opdef, name, args, kwargs):
    """Split positional arguments: leading arrays are inputs, the values after them are params in order
    (`mx.nd.random.randint(0, 5, shape=(4,))`)."""
    n_inputs = 0
    while n_inputs < len(args) and hasattr(args[n_inputs], "__array_priority__") or \
            n_inputs < len(args) and type(args[n_inputs]).__name__ in ("Symbol", "NDArray"):
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


def _docstring(opdef):
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
                submodules[sub] = target
        if not hasattr(target, short):
            # MXNet names a contrib/linalg symbol by its short name (`gemm20`), a random one by its full name
            called = short if sub in _SHORT_NAMED else name
            setattr(target, short, make_function(opdef, called, invoke, extra_params))
        # MXNet also keeps every `_internal` function reachable by its full name on `_internal`.
    return submodules
