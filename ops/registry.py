"""The operator registry: one `OpDef` per op holds everything about it.

An OpDef is the index of an op (see STYLE.md): its typed params with MXNet's defaults, its input, aux and output
names, its shape and dtype rules, in-place options, gradient rule and kernels. The front ends (`mx.sym.X`,
`mx.nd.X`), the JSON reader, the scheduler passes and the tests all read the same OpDef; nothing about an op is
written twice.

Params: MXNet stores every op attribute as a string (`"(3, 3)"`, `"True"`, `"128"`). Parsing those strings into
Python values, and formatting Python values back, happens here and only here.

Rules: `infer_shape(p, in_shapes, out_shapes) -> (in_shapes, out_shapes)` gets lists where an unknown shape is
`None` (and an unknown dimension is 0, MXNet 1.x's convention) and returns the lists with whatever it could fill
in, in both directions. It never raises for a mismatch: the inference pass merges what a rule proposes with what is
known and reports conflicts with the node and input named (scheduler/infer.py). `infer_type` works the same way
with numpy dtypes.

Kernels: `kernel(ctx, p, inputs, outputs, req)` writes into preallocated, C-contiguous numpy arrays. `req[i]` is one
of WRITE, INPLACE (the output shares an input's buffer), ADD (accumulate into the output, for grad_req='add') or
NULL (skip). `ctx` is an `OpContext` carrying run-time state (training mode).
"""
import ast
import dataclasses
from typing import Callable

import numpy as np

from .errors import ParamError

WRITE, INPLACE, ADD, NULL = "write", "inplace", "add", "null"

_REQUIRED = object()


# ---------------------------------------------------------------------------------------------------------------
# Typed params
# ---------------------------------------------------------------------------------------------------------------

class Field:
    """A typed op parameter: parses MXNet's attribute strings (or Python values) and formats them back."""
    type_name = "any"

    def __init__(self, default=_REQUIRED, doc=""):
        self.default = default
        self.doc = doc

    @property
    def required(self):
        return self.default is _REQUIRED

    def parse(self, value):
        return value

    def format(self, value):
        return str(value)

    def describe(self):
        if self.required:
            return "%s, required" % self.type_name
        return "%s, optional, default=%s" % (self.type_name, self.format(self.default) if self.default is not None
                                              else "None")


class Int(Field):
    type_name = "int"

    def parse(self, value):
        if isinstance(value, (bool, np.bool_)):
            raise ValueError("expected an integer, got %r" % (value,))
        if isinstance(value, str):
            value = value.strip().rstrip("L")
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("expected an integer, got %r" % (value,))
        return int(float(value)) if isinstance(value, str) and "e" in value.lower() else int(value)


class OptInt(Int):
    type_name = "int or None"

    def parse(self, value):
        if value is None or (isinstance(value, str) and value.strip() == "None"):
            return None
        return super().parse(value)


class Float(Field):
    type_name = "float"

    def parse(self, value):
        return float(value)


class OptFloat(Float):
    """A float or None (MXNet's `double or None`)."""
    type_name = "float or None"

    def parse(self, value):
        if value is None or (isinstance(value, str) and value.strip() == "None"):
            return None
        return super().parse(value)


class Bool(Field):
    type_name = "boolean"
    _TRUE = {"true", "1"}
    _FALSE = {"false", "0"}

    def parse(self, value):
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, np.integer)) and value in (0, 1):
            return bool(value)
        text = str(value).strip().lower()
        if text in self._TRUE:
            return True
        if text in self._FALSE:
            return False
        raise ValueError("expected a boolean, got %r" % (value,))


class OptBool(Bool):
    """A boolean that may also be None (`count_include_pad`)."""
    type_name = "boolean or None"

    def parse(self, value):
        if value is None or (isinstance(value, str) and value.strip() == "None"):
            return None
        return super().parse(value)


class Str(Field):
    type_name = "string"

    def parse(self, value):
        return str(value)


class Enum(Field):
    """One of a fixed set of strings (`act_type`, `pool_type`)."""

    def __init__(self, choices, default=_REQUIRED, doc=""):
        super().__init__(default, doc)
        self.choices = tuple(choices)
        self.type_name = "{%s}" % ", ".join("'%s'" % c for c in self.choices)

    def parse(self, value):
        if isinstance(value, str) and value in self.choices:
            return value
        raise ValueError("%r is not one of %s" % (value, ", ".join(self.choices)))


class OptEnum(Enum):
    """An Enum that may also be None (`layout`, `cudnn_tune`); MXNet writes None as "None" in JSON attrs."""

    def __init__(self, choices, default=None, doc=""):
        super().__init__(choices, default, doc)
        self.type_name = "{None, %s}" % ", ".join("'%s'" % c for c in self.choices)

    def parse(self, value):
        if value is None or value == "None":
            return None
        return super().parse(value)


class Shape(Field):
    """A tuple of ints: `(3, 3)`, `[3, 3]`, `3`, `"(3, 3)"`, `"[3,3]"`, `"()"`."""
    type_name = "Shape(tuple)"

    def parse(self, value):
        if isinstance(value, str):
            text = value.strip()
            value = ast.literal_eval(text) if text else ()
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return (int(value),)
        if isinstance(value, (tuple, list)) and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                                    for v in value):
            return tuple(int(v) for v in value)
        raise ValueError("expected a shape (a tuple of ints), got %r" % (value,))


class OptInts(Field):
    """A tuple of ints or Nones: slice's begin/end/step, `(None, 1)`, `"[0,None]"`."""
    type_name = "Shape(tuple)"

    def parse(self, value):
        if isinstance(value, str):
            text = value.strip()
            value = ast.literal_eval(text) if text else ()
        if value is None or isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            value = (value,)
        if isinstance(value, (tuple, list)) and all(v is None or isinstance(v, (int, np.integer)) and
                                                    not isinstance(v, bool) for v in value):
            return tuple(None if v is None else int(v) for v in value)
        raise ValueError("expected a tuple of ints or None, got %r" % (value,))


class OptShape(Shape):
    type_name = "Shape or None"

    def parse(self, value):
        if value is None or (isinstance(value, str) and value.strip() == "None"):
            return None
        return super().parse(value)


# MXNet's dtype names and their numpy types, in the order of MXNet's integer dtype codes (0 float32, 1 float64,
# ...), which the .params format and a variable's `__dtype__` attribute use.
DTYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16, "uint8": np.uint8,
          "int32": np.int32, "int8": np.int8, "int64": np.int64, "bool": np.bool_, "int16": np.int16,
          "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64}


def dtype_name(dtype):
    """The MXNet name of a dtype given as a string, a numpy type or a numpy dtype."""
    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise ValueError("%r is not a dtype" % (dtype,)) from None
    if name not in DTYPES:
        raise ValueError("dtype %r is not supported" % (dtype,))
    return name


class DType(Field):
    type_name = "{%s}" % ", ".join("'%s'" % n for n in DTYPES)

    def parse(self, value):
        if value is None or (isinstance(value, str) and value == "None"):
            if self.default is None:
                return None
        return np.dtype(DTYPES[dtype_name(value)])

    def format(self, value):
        return "None" if value is None else dtype_name(value)


# ---------------------------------------------------------------------------------------------------------------
# Parsed params of one node
# ---------------------------------------------------------------------------------------------------------------

class Params:
    """The parsed params of one node: attribute access to typed values, defaults filled in."""
    __slots__ = ("_values",)

    def __init__(self, values):
        object.__setattr__(self, "_values", values)

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        raise AttributeError("Params are read-only")

    def __eq__(self, other):
        return isinstance(other, Params) and self._values == other._values

    def __hash__(self):
        return hash(tuple(sorted((k, repr(v)) for k, v in self._values.items())))

    def as_dict(self):
        return dict(self._values)

    def __repr__(self):
        return "Params(%s)" % ", ".join("%s=%r" % kv for kv in sorted(self._values.items()))


@dataclasses.dataclass
class OpContext:
    """Run-time state handed to every kernel call (MXNet's OpContext)."""
    is_train: bool = False


# ---------------------------------------------------------------------------------------------------------------
# OpDef
# ---------------------------------------------------------------------------------------------------------------

def _names(spec, p):
    return list(spec(p)) if callable(spec) else list(spec)


def same_dtype(p, in_types, out_types):
    """Default dtype rule: every input and output has one dtype, inferred from whichever is known."""
    known = next((t for t in list(in_types) + list(out_types) if t is not None), None)
    if known is None:
        return in_types, out_types
    return [known] * len(in_types), [known] * len(out_types)


@dataclasses.dataclass(eq=False)
class OpDef:
    """Everything about one op. See the module docstring for the rule and kernel signatures."""
    name: str
    infer_shape: Callable
    params: dict = dataclasses.field(default_factory=dict)
    arguments: object = ("data",)      # list of input names, or callable(p) -> list (depends on params)
    aux: object = ()                   # mutated inputs (BatchNorm's moving stats), listed after the arguments
    outputs: object = ("output",)
    num_visible_outputs: Callable = None   # callable(p) -> int; default: all outputs are visible
    variadic: str = None               # name of the param holding the number of inputs (Concat's num_args)
    infer_type: Callable = same_dtype
    inplace: tuple = ()                # (input index, output index) pairs that may share a buffer
    gradient: Callable = None
    cpu: Callable = None
    gpu: Callable = None
    aliases: tuple = ()
    input_var_attrs: Callable = None   # callable(p, input_name) -> attrs for implicitly created variables
    takes_training: bool = False       # behaves differently in training (Dropout, BatchNorm)
    doc: str = ""

    # -- params --------------------------------------------------------------------------------------------
    def parse_params(self, attrs, node_name=None):
        """Typed params from a dict of attribute values (strings or Python values), defaults filled in.

        Keys of the form `__x__` are node attributes, not params, and are skipped."""
        values = {}
        for key, value in attrs.items():
            if key.startswith("__") and key.endswith("__"):
                continue
            field = self.params.get(key)
            if field is None:
                raise ParamError(self._where(node_name) + "unknown parameter %r; %s takes %s"
                                 % (key, self.name, ", ".join(sorted(self.params)) or "no parameters"))
            try:
                values[key] = field.parse(value)
            except (ValueError, SyntaxError, TypeError, KeyError) as err:
                raise ParamError(self._where(node_name) + "invalid value %r for parameter %r (%s): %s"
                                 % (value, key, field.type_name, err)) from None
        missing = [key for key, field in self.params.items() if key not in values and field.required]
        if missing:
            raise ParamError(self._where(node_name) + "required parameter%s %s missing" % (
                "s" if len(missing) > 1 else "", " and ".join("%r (%s)" % (k, self.params[k].type_name)
                                                               for k in missing) + (" are" if len(missing) > 1
                                                                                    else " is")))
        for key, field in self.params.items():
            if key not in values:
                values[key] = field.default
        return Params(values)

    def format_attrs(self, kwargs):
        """MXNet's string form of user-given param values (what goes into the JSON `attrs`)."""
        out = {}
        for key, value in kwargs.items():
            field = self.params.get(key)
            out[key] = value if isinstance(value, str) else (field.format(value) if field else str(value))
        return out

    def _where(self, node_name):
        if node_name:
            return "Error in operator %s (%s): " % (node_name, self.name)
        return "Error in operator %s: " % self.name

    # -- signature ----------------------------------------------------------------------------------------
    def argument_names(self, p):
        if self.variadic:
            return ["arg%d" % i for i in range(getattr(p, self.variadic))]
        return _names(self.arguments, p)

    def aux_names(self, p):
        return _names(self.aux, p)

    def input_names(self, p):
        return self.argument_names(p) + self.aux_names(p)

    def output_names(self, p):
        return _names(self.outputs, p)

    def num_outputs(self, p):
        return len(self.output_names(p))

    def visible_outputs(self, p):
        return self.num_visible_outputs(p) if self.num_visible_outputs else self.num_outputs(p)


# ---------------------------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------------------------

_OPS = {}       # canonical name -> OpDef
_NAMES = {}     # every name and alias -> OpDef


def register(opdef):
    """Add an op under its name and aliases; a name may be registered once."""
    for name in (opdef.name,) + tuple(opdef.aliases):
        if name in _NAMES:
            raise ValueError("op name %r is registered twice" % name)
        _NAMES[name] = opdef
    _OPS[opdef.name] = opdef
    return opdef


def get(name):
    """The OpDef registered under `name` (canonical or alias)."""
    _load_ops()
    try:
        return _NAMES[name]
    except KeyError:
        raise KeyError("unknown operator %r" % (name,)) from None


def exists(name):
    _load_ops()
    return name in _NAMES


def all_ops():
    """Every OpDef, in registration order."""
    _load_ops()
    return list(_OPS.values())


def all_names():
    """Every (name, OpDef) pair, aliases included."""
    _load_ops()
    return list(_NAMES.items())


_loaded = False


def _load_ops():
    # The op families register themselves on import; importing them here keeps `get` usable from anywhere.
    global _loaded
    if not _loaded:
        _loaded = True
        from . import elemwise, matrix, nn, init, reduce, conv, random, linalg, norm, shape, indexing  # noqa: F401
