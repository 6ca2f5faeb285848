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
import dataclasses
from typing import Callable

import numpy as np

from .errors import DTypeError, ParamError

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
        # numpy scalars (axes=(np.int64(1),)) as MXNet's numpy 1.x printed them: 1, not np.int64(1)
        if isinstance(value, (tuple, list)):
            value = type(value)(v.item() if isinstance(v, np.generic) else v for v in value)
        return str(value.item() if isinstance(value, np.generic) else value)

    def describe(self):
        if self.required:
            return "%s, required" % self.type_name
        return "%s, optional, default=%s" % (self.type_name, self.format(self.default) if self.default is not None
                                              else "None")


class Int(Field):
    """An int param. MXNet declares almost all of them as C++ `int` and refuses values outside its 32 bits
    ("Invalid Parameter format for num_hidden expect int"); `Long` is the 64-bit kind (`workspace`, randint's bounds).
    The bound also keeps a hostile file's `num_args` of 10**20 from becoming a list of that many names."""
    type_name = "int"
    bits = 32

    def parse(self, value):
        if isinstance(value, (bool, np.bool_)):
            raise ValueError("expected an integer, got %r" % (value,))
        if isinstance(value, str):
            value = value.strip().rstrip("L")
            if len(value) > 64:
                raise ValueError("expected an integer, got a string of %d characters" % len(value))
        if isinstance(value, float) and not value.is_integer():     # also nan and inf
            raise ValueError("expected an integer, got %r" % (value,))
        if isinstance(value, str) and "e" in value.lower():
            number = float(value)
            if not number.is_integer():
                raise ValueError("expected an integer, got %r" % (value,))
            value = number
        value = int(value)
        if not -2 ** (self.bits - 1) <= value < 2 ** (self.bits - 1):
            raise ValueError("%d is out of the range of a %d-bit integer" % (value, self.bits))
        return value


class Long(Int):
    """A 64-bit int param (MXNet's `long`)."""
    type_name = "long"
    bits = 64


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


# A declared shape with more elements than this (2.7e11: a 1 TiB float32 array, twice any machine's memory) is
# refused when it is parsed, so that a hostile or corrupted file fails with a message naming the attribute and the
# value instead of at allocation.
MAX_ELEMENTS = 2 ** 38
_MAX_TUPLE_TEXT = 4096      # characters of a tuple attribute; MXNet's own are a few dozen


def _tuple_items(text, allow_none):
    """The items of a flat tuple written as MXNet writes it: `(3, 3)`, `[3,3]`, `3`, `(3,)`, `()`, `(2L, 3L)`,
    and `None` items where allowed. A linear scan, not `ast.literal_eval`: no nesting, no recursion."""
    if len(text) > _MAX_TUPLE_TEXT:
        raise ValueError("a tuple of %d characters (at most %d)" % (len(text), _MAX_TUPLE_TEXT))
    body = text.strip()
    if body[:1] + body[-1:] in ("()", "[]"):
        body = body[1:-1]
    parts = [part.strip() for part in body.split(",")]
    if parts and not parts[-1] and len(parts) > 1:     # a trailing comma: "(3,)"
        parts.pop()
    if parts == [""]:
        return ()
    items = []
    for part in parts:
        if allow_none and part == "None":
            items.append(None)
            continue
        digits = part[:-1] if part.endswith("L") else part
        if not digits.lstrip("+-").isdigit() or not digits.isascii() or len(digits) > 20:
            raise ValueError("%r is not an integer" % part)
        items.append(int(digits))
    return tuple(items)


def _check_range(items):
    for d in items:
        if d is not None and not -2 ** 63 <= d < 2 ** 63:
            raise ValueError("%d is out of the range of a 64-bit integer" % d)
    return items


def _check_dims(dims):
    _check_range(dims)
    size = 1
    for d in dims:
        if d is not None and d > 0:
            size *= d
    if size > MAX_ELEMENTS:
        raise ValueError("%s declares %d elements, more than the limit of 2**38" % (dims, size))
    return dims


class Shape(Field):
    """A tuple of ints: `(3, 3)`, `[3, 3]`, `3`, `"(3, 3)"`, `"[3,3]"`, `"()"`; at most MAX_ELEMENTS elements."""
    type_name = "Shape(tuple)"

    def parse(self, value):
        if isinstance(value, np.ndarray):   # MXNet passes str(value): "[2]" parses, "[2 3]" (no commas) does not
            value = str(value)
        if isinstance(value, str):
            return _check_dims(_tuple_items(value, allow_none=False))
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return _check_dims((int(value),))
        if isinstance(value, (tuple, list)) and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                                    for v in value):
            return _check_dims(tuple(int(v) for v in value))
        raise ValueError("expected a shape (a tuple of ints), got %r" % (value,))


class OptInts(Field):
    """A tuple of ints or Nones: slice's begin/end/step, `(None, 1)`, `"[0,None]"`."""
    type_name = "Shape(tuple)"

    def parse(self, value):
        if isinstance(value, str):
            return _check_range(_tuple_items(value, allow_none=True))
        if value is None or isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            value = (value,)
        if isinstance(value, (tuple, list)) and all(v is None or isinstance(v, (int, np.integer)) and
                                                    not isinstance(v, bool) for v in value):
            return _check_range(tuple(None if v is None else int(v) for v in value))
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
        raise DTypeError("data type %r not understood" % (dtype,)) from None
    if name not in DTYPES:
        raise ParamError("Invalid dtype %r, valid values are: {%s}" % (name, ", ".join(sorted(DTYPES))))
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
    __slots__ = ("_values", "_hash", "__weakref__", "__dict__")     # weakly referenced by per-node kernel state

    def __init__(self, values):
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "__dict__", values)    # `p.name` an instance-dict hit: a kernel reads several a call
        object.__setattr__(self, "_hash", None)     # computed once: the inference memo hashes Params per node

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
        if self._hash is None:
            object.__setattr__(self, "_hash", hash(tuple(sorted((k, repr(v)) for k, v in self._values.items()))))
        return self._hash

    def as_dict(self):
        return dict(self._values)

    def __repr__(self):
        return "Params(%s)" % ", ".join("%s=%r" % kv for kv in sorted(self._values.items()))


@dataclasses.dataclass
class OpContext:
    """Run-time state handed to every kernel call (MXNet's OpContext)."""
    is_train: bool = False
    # False where the op runs in a compiled graph that computes no gradient (an Executor without gradient arrays, a
    # hybridized block called outside autograd.record()): MXNet's BatchNorm leaves a fixed gamma unwritten there
    computes_gradients: bool = True


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
    writes_arguments: Callable = None  # callable(p) -> names of arguments the kernel also writes (fix_gamma)
    outputs: object = ("output",)
    num_visible_outputs: Callable = None   # callable(p) -> int; default: all outputs are visible
    private_outputs: bool = False      # the hidden outputs are dataflow's own, not MXNet's: files don't count them
    variadic: str = None               # name of the param holding the number of inputs (Concat's num_args)
    infer_type: Callable = same_dtype
    inplace: tuple = ()                # (input index, output index) pairs that may share a buffer
    gradient: Callable = None
    cpu: Callable = None
    gpu: Callable = None
    aliases: tuple = ()
    input_var_attrs: Callable = None   # callable(p, input_name) -> attrs for implicitly created variables
    takes_training: bool = False       # behaves differently in training (Dropout, BatchNorm)
    per_sample: Callable = None        # callable(p, is_train) -> (input positions, output positions) whose axis 0
                                       # is the batch, where each sample's outputs depend on its own inputs alone
                                       # (Convolution, Activation), else None: Concat elision at batch > 1
    state_per_call: bool = False       # keeps kernel state per node: each imperative call is a new node (Custom)
    value_shapes: Callable = None      # (p, input values) -> output shapes, for ops whose output shapes depend on
                                       # input values (boolean_mask): imperative only, never cached
    any_param: Field = None            # parses keys not in `params` (Custom hands any keyword to its Prop)
    doc: str = ""

    # -- params --------------------------------------------------------------------------------------------
    def parse_params(self, attrs, node_name=None):
        """Typed params from a dict of attribute values (strings or Python values), defaults filled in.

        Keys of the form `__x__` are node attributes, not params, and are skipped."""
        values = {}
        for key, value in attrs.items():
            if key.startswith("__") and key.endswith("__"):
                continue
            field = self.params.get(key, self.any_param)
            if field is None and not self.params:   # MXNet: an op without params keeps any attribute, unread
                continue
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
                                                                                    else " is"))
                             + (" (given: %s)" % ", ".join(map(repr, sorted(values)))
                                if self.any_param and values else ""))
        for key, field in self.params.items():
            if key not in values:
                values[key] = field.default
        return Params(values)

    def format_attrs(self, kwargs):
        """MXNet's string form of user-given param values (what goes into the JSON `attrs`)."""
        out = {}
        for key, value in kwargs.items():
            field = self.params.get(key, self.any_param)
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

    def written_inputs(self, p):
        """Positions of the inputs the kernel may write, which the engine must order as writes: the aux states and
        the `writes_arguments` (BatchNorm writes ones into a fixed gamma, as MXNet's kernel does)."""
        names = self.argument_names(p)
        written = [names.index(n) for n in self.writes_arguments(p)] if self.writes_arguments else []
        return written + list(range(len(names), len(names) + len(self.aux_names(p))))

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
        from . import elemwise, matrix, nn, init, reduce, conv, random, linalg, norm, shape, stack_split  # noqa: F401
        from . import indexing, activation, softmax, loss, ctc, upsampling, vision, update, custom  # noqa: F401
        from . import contrib_ops, contrib_indexing, control_flow, resize, transformer  # noqa: F401
        from . import rnn, fold, decompositions  # noqa: F401
        from . import boxes, detection, image, sparse_ops  # noqa: F401
        from . import numpy_ops, numpy_matmul, numpy_integer, numpy_moments, numpy_extras, numpy_pad  # noqa: F401
        from . import numpy_reductions, numpy_shapes  # noqa: F401
