"""Symbol: a handle on outputs of a graph, composed by calling ops, and the symbolic half of MXNet's API.

A Symbol is a list of entries (node, output index). Creating an op node names it through the current NameManager
(`fullyconnected0`), attaches the current AttrScope's attributes, and creates a variable for every input the caller
left out (`fc1_weight`), copying the op's attributes to it as MXNet does. Everything else — listing arguments,
inferring shapes and types, JSON, binding — walks an `IndexedGraph` of the outputs.
"""
import numpy as np

from ops import registry
from ops.errors import GraphError, MXNetError, ParamError, ShapeError

from scheduler.graph import Entry, IndexedGraph, Node
from scheduler.infer import infer_dtypes, infer_shapes

from .. import attribute, name as _name
from . import graph_json


class Symbol:
    """Symbolic outputs of a graph. Build with `var` and the op functions in `mx.sym`.

    Examples
    --------
    >>> import dataflow as mx
    >>> a = mx.sym.var('a')
    >>> b = mx.sym.var('b')
    >>> c = a + b
    >>> c.list_arguments()
    ['a', 'b']
    >>> c.infer_shape(a=(2, 3), b=(2, 3))[1]
    [(2, 3)]
    """
    __slots__ = ("_outputs", "__weakref__")

    def __init__(self, outputs):
        self._outputs = list(outputs)

    # -- identity ----------------------------------------------------------------------------------------------
    @property
    def name(self):
        """The name of the node of the only output; None for a group."""
        if len(self._outputs) != 1:
            return None
        return self._outputs[0].node.name

    def __repr__(self):
        name = self.name
        if name is None:
            return "<%s group [%s]>" % (type(self).__name__, ", ".join(s.name for s in self))
        return "<%s %s>" % (type(self).__name__, name)

    def __len__(self):
        return len(self._outputs)

    def __iter__(self):
        return (Symbol([e]) for e in self._outputs)

    def __getitem__(self, index):
        if isinstance(index, str):
            names = self.list_outputs()
            matches = [i for i, n in enumerate(names) if n == index]
            if not matches:
                raise ValueError("There is no output named %r; the outputs are %s" % (index, names))
            if len(matches) > 1:
                raise ValueError("There are several outputs named %r" % index)
            index = matches[0]
        if isinstance(index, slice):
            return Symbol(self._outputs[index])
        if not -len(self._outputs) <= index < len(self._outputs):
            raise IndexError("Symbol has %d outputs; index %d is out of range" % (len(self._outputs), index))
        return Symbol([self._outputs[index]])

    def as_nd_ndarray(self):
        return self

    def as_np_ndarray(self):
        """This Symbol's outputs as a numpy-mode `_Symbol` (MXNet's `Symbol.as_np_ndarray`)."""
        from .numpy import as_np_symbol
        return as_np_symbol(self)

    def __copy__(self):
        return Symbol(_copy_graph(self._outputs))

    def __deepcopy__(self, memo):
        return self.__copy__()

    def __bool__(self):
        return True

    def __getstate__(self):
        return {"json": self.tojson()}

    def __setstate__(self, state):
        self._outputs = graph_json.from_json(state["json"])

    # -- listing -----------------------------------------------------------------------------------------------
    def _graph(self):
        return IndexedGraph(self._outputs)

    def list_arguments(self):
        """Names of the arguments (variables that are not aux states), in graph order."""
        g = self._graph()
        return [g.nodes[i].name for i in g.argument_nodes]

    def list_auxiliary_states(self):
        """Names of the auxiliary states (variables an op mutates, such as BatchNorm's moving statistics)."""
        g = self._graph()
        return [g.nodes[i].name for i in g.aux_nodes]

    def list_inputs(self):
        """Names of every variable, arguments and aux states, in graph order."""
        g = self._graph()
        return [g.nodes[i].name for i in g.arg_nodes]

    def list_outputs(self):
        """Names of the outputs (`fc1_output`; a variable's own name)."""
        return [e.node.output_name(e.index) for e in self._outputs]

    def get_internals(self):
        """A group of every visible output of every node, in graph order."""
        g = self._graph()
        return Symbol([Entry(node, i) for node in g.nodes for i in range(node.num_visible_outputs())])

    def get_children(self):
        """A group of the inputs of the output node, or None for a variable."""
        node = self._outputs[0].node
        if not node.inputs:
            return None
        return Symbol(list(node.inputs))

    # -- attributes --------------------------------------------------------------------------------------------
    def attr(self, key):
        """The attribute `key` of the output node (a string), or None; None too when the outputs come from
        different nodes (a Group), as MXNet's NNVM answers."""
        if len({id(e.node) for e in self._outputs}) != 1:
            return None
        attrs = self._outputs[0].node.attrs
        return attrs.get(key, attrs.get("__%s__" % key) if key in attribute.HIDDEN_KEYS else None)

    def list_attr(self, recursive=False):
        """The first output's node's attributes (all of them for a multi-output op; the first member's for a
        Group, as MXNet); with `recursive`, every node's, keyed `<node>$<key>`."""
        if recursive:
            return {"%s$%s" % (n.name, k): v for n in self._graph().nodes for k, v in attribute.shown(n.attrs).items()}
        if not self._outputs:
            return {}
        return attribute.shown(self._outputs[0].node.attrs)

    def attr_dict(self):
        """Every node's attributes: {node name: {key: value}} for nodes that have any."""
        return {n.name: attribute.shown(n.attrs) for n in self._graph().nodes if n.attrs}

    def _set_attr(self, **kwargs):
        for key, value in kwargs.items():
            if not isinstance(value, str):
                raise ValueError("Set Attr only accepts string values, got %r for %r" % (value, key))
            for e in self._outputs:
                e.node.attrs.update(attribute.node_attrs({key: value}))

    # -- inference ---------------------------------------------------------------------------------------------
    def infer_shape(self, *args, **kwargs):
        """Infer the shapes of arguments, outputs and aux states from some known argument shapes.

        Returns `(arg_shapes, out_shapes, aux_shapes)`, or `(None, None, None)` when some shape stays unknown.
        A contradiction raises an error naming the op, the node, the input and both shapes.

        Examples
        --------
        >>> import dataflow as mx
        >>> fc = mx.sym.FullyConnected(mx.sym.var('data'), num_hidden=10, name='fc')
        >>> fc.infer_shape(data=(4, 3))
        ([(4, 3), (10, 3), (10,)], [(4, 10)], [])
        >>> fc.infer_shape(data=(4, 3), fc_weight=(9, 3))
        Traceback (most recent call last):
        ...
        ops.errors.ShapeError: Error in operator fc (FullyConnected): Shape inconsistent for input 'weight' \
(fc_weight): provided (9, 3), inferred (10, 3)
        """
        result = self._infer_shape(args, kwargs)
        if any(s is None or 0 in s for part in result for s in part):
            return None, None, None
        return result

    def infer_shape_partial(self, *args, **kwargs):
        """Like `infer_shape`, but unknown shapes are reported as `()` (or with 0 for unknown dims)."""
        return tuple([s if s is not None else () for s in part] for part in self._infer_shape(args, kwargs))

    def infer_type_partial(self, *args, **kwargs):
        """Like `infer_type`, but a type still unknown is reported as None instead of giving up."""
        g = self._graph()
        known = self._known(g, args, kwargs, "dtype")
        dtypes = infer_dtypes(g, {k: v for k, v in known.items() if v is not None}).values
        return self._split(g, [None if t is None else t.type for t in dtypes])

    def _infer_shape(self, args, kwargs):
        g = self._graph()
        known = self._known(g, args, kwargs, "shape")
        shapes = infer_shapes(g, {k: tuple(v) for k, v in known.items() if v is not None}).values
        return self._split(g, shapes)

    def infer_type(self, *args, **kwargs):
        """Infer the types of arguments, outputs and aux states; numpy scalar types (`numpy.float32`).

        Returns `(None, None, None)` when some type stays unknown."""
        g = self._graph()
        known = self._known(g, args, kwargs, "dtype")
        dtypes = infer_dtypes(g, {k: v for k, v in known.items() if v is not None}).values
        if any(t is None for t in dtypes):
            return None, None, None
        return self._split(g, [t.type for t in dtypes])

    def _known(self, g, args, kwargs, what):
        names = [g.nodes[i].name for i in g.argument_nodes]
        if args and kwargs:
            raise ValueError("infer_%s: give the known values either by position or by name, not both" % what)
        if len(args) > len(names):
            raise ValueError("infer_%s: %d values given, but the symbol has %d arguments %s"
                             % (what, len(args), len(names), names))
        known = dict(zip(names, args))
        known.update(kwargs)
        inputs = {g.nodes[i].name for i in g.arg_nodes}
        for key in kwargs:
            if key not in inputs:
                raise ValueError("infer_%s: %r is not an input of the symbol; its inputs are %s"
                                 % (what, key, sorted(inputs)))
        return known

    def _split(self, g, values):
        row = g.node_row_ptr
        args = [values[row[i]] for i in g.argument_nodes]
        outs = [values[e] for e in g.heads]
        aux = [values[row[i]] for i in g.aux_nodes]
        return args, outs, aux

    # -- serialization -----------------------------------------------------------------------------------------
    def tojson(self, remove_amp_cast=True):
        """The symbol as MXNet's JSON text; AMP's amp_cast/amp_multicast nodes are left out unless
        `remove_amp_cast` is False, as in MXNet."""
        outputs = self._outputs
        if remove_amp_cast:
            from ..contrib.amp.reduce_precision import remove_amp_cast as _remove
            outputs = _remove(outputs)
        return graph_json.to_json(outputs)

    def save(self, fname, remove_amp_cast=True):
        """Write `tojson(remove_amp_cast)` to `fname` atomically."""
        from ..util import atomic_write
        atomic_write(fname, self.tojson(remove_amp_cast).encode("utf-8"))

    # -- composition -------------------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        """A copy of the symbol with some variables replaced by other symbols (`net2(data2=net1)`)."""
        s = self.__copy__()
        s._compose(*args, **kwargs)
        return s

    def _compose(self, *args, **kwargs):
        name = kwargs.pop("name", None)
        g = self._graph()
        variables = {g.nodes[i].name: g.nodes[i] for i in g.argument_nodes}
        replace = {}
        for arg_name, value in zip(variables, args):
            replace[id(variables[arg_name])] = _single_entry(value, arg_name)
        if len(args) > len(variables):
            raise ValueError("compose: %d symbols given for %d arguments" % (len(args), len(variables)))
        for key, value in kwargs.items():
            if key in variables:
                replace[id(variables[key])] = _single_entry(value, key)
        for node in g.nodes:
            node.inputs = [replace.get(id(e.node), e) if e.node.is_variable else e for e in node.inputs]
        self._outputs = [replace.get(id(e.node), e) if e.node.is_variable else e for e in self._outputs]
        if name:
            for e in self._outputs:
                if not e.node.is_variable:
                    e.node.name = name

    # -- binding -------------------------------------------------------------------------------------------------
    def bind(self, ctx, args, args_grad=None, grad_req="write", aux_states=None, group2ctx=None,
             shared_exec=None):
        """An Executor running this symbol on the given argument arrays (a list in `list_arguments()` order, or
        a dict by name)."""
        from ..executor import Executor
        return Executor(self, ctx, args, args_grad, grad_req, aux_states)

    def simple_bind(self, ctx, grad_req="write", type_dict=None, stype_dict=None, group2ctx=None,
                    shared_arg_names=None, shared_exec=None, shared_buffer=None, **kwargs):
        """Bind with argument, gradient and aux arrays allocated (zeros) from the given input shapes."""
        from ..executor import simple_bind
        return simple_bind(self, ctx, grad_req, type_dict, kwargs, stype_dict)

    def eval(self, ctx=None, **kwargs):
        """Bind the given arrays, run forward once and return the outputs (a list of NDArrays)."""
        from ..context import current_context
        executor = self.bind(ctx or current_context(), kwargs)
        return executor.forward()

    # -- arithmetic (operators are built from the table below) -------------------------------------------------
    def __neg__(self):
        return self.__mul__(-1.0)

    def __abs__(self):
        return _op("abs", self)

    def astype(self, dtype, **kwargs):
        """Fluent form of `cast(self, dtype=dtype)` (MXNet's Symbol.astype; GluonNLP's hybridized blocks call it)."""
        return _op("Cast", self, dtype=dtype, **kwargs)

    def __hash__(self):
        return id(self)


# (dunder, op for Symbol ∘ Symbol, op for Symbol ∘ scalar, op for scalar ∘ Symbol); reflected dunders swap.
# Comparisons have no reflected op: Python turns `2 < x` into `x > 2`. `__hash__` stays identity (defined above).
_ARITHMETIC = (
    ("add", "_Plus", "_PlusScalar", "_PlusScalar"),
    ("sub", "_Minus", "_MinusScalar", "_RMinusScalar"),
    ("mul", "_Mul", "_MulScalar", "_MulScalar"),
    ("truediv", "_Div", "_DivScalar", "_RDivScalar"),
    ("pow", "_Power", "_PowerScalar", "_rpower_scalar"),      # MXNet's __rpow__ names `_rpower_scalar0`
    ("mod", "_Mod", "_ModScalar", "_RModScalar"),
    ("eq", "_equal", "_equal_scalar", None),
    ("ne", "_not_equal", "_not_equal_scalar", None),
    ("gt", "_greater", "_greater_scalar", None),
    ("ge", "_greater_equal", "_greater_equal_scalar", None),
    ("lt", "_lesser", "_lesser_scalar", None),
    ("le", "_lesser_equal", "_lesser_equal_scalar", None),
)


def _scalar_attr(value):
    # MXNet stores str(value): `a * 2` has scalar "2", `a * 2.0` has "2.0"
    return int(value) if isinstance(value, (bool, np.bool_)) else value


def _make_arithmetic(sym_op, scalar_op, rscalar_op):
    def forward(self, other):
        if isinstance(other, Symbol):
            return _op(sym_op, self, other)
        if isinstance(other, (int, float, np.number, bool)):
            return _op(scalar_op, self, scalar=_scalar_attr(other))
        return NotImplemented

    def reflected(self, other):
        if isinstance(other, (int, float, np.number, bool)):
            return _op(rscalar_op, self, scalar=_scalar_attr(other))
        return NotImplemented
    return forward, reflected


for _dunder, _sym_op, _scalar_op, _rscalar_op in _ARITHMETIC:
    _fwd, _ref = _make_arithmetic(_sym_op, _scalar_op, _rscalar_op)
    _fwd.__name__, _ref.__name__ = "__%s__" % _dunder, "__r%s__" % _dunder
    setattr(Symbol, "__%s__" % _dunder, _fwd)
    if _rscalar_op is not None:
        setattr(Symbol, "__r%s__" % _dunder, _ref)
Symbol.__div__, Symbol.__rdiv__ = Symbol.__truediv__, Symbol.__rtruediv__


def _single_entry(value, what):
    if not isinstance(value, Symbol):
        raise TypeError("compose: %s must be a Symbol, got %s" % (what, type(value).__name__))
    if len(value._outputs) != 1:
        raise ValueError("compose: %s must have one output, it has %d" % (what, len(value._outputs)))
    return value._outputs[0]


def _copy_graph(outputs):
    """A deep copy of the nodes reachable from `outputs`; returns the copied outputs."""
    g = IndexedGraph(outputs)
    copies = {}
    for node in g.nodes:
        new = Node(node.op, node.name, node.attrs, node.params,
                   [Entry(copies[id(e.node)], e.index, e.version) for e in node.inputs])
        new.version = node.version
        copies[id(node)] = new
    return [Entry(copies[id(e.node)], e.index, e.version) for e in outputs]


# ---------------------------------------------------------------------------------------------------------------
# Creating symbols
# ---------------------------------------------------------------------------------------------------------------

def var(name, attr=None, shape=None, lr_mult=None, wd_mult=None, dtype=None, init=None, stype=None, **kwargs):
    """A variable: a named input of a graph.

    Examples
    --------
    >>> import dataflow as mx
    >>> mx.sym.var('data', shape=(2, 3)).attr('__shape__')
    '(2, 3)'
    """
    if not isinstance(name, str):
        raise TypeError("Expect a string for variable `name`, got %r" % (name,))
    attrs = attribute.node_attrs(attribute.current().get(attr))
    if shape is not None:
        attrs["__shape__"] = str(tuple(shape))
    if lr_mult is not None:
        attrs["__lr_mult__"] = str(lr_mult)
    if wd_mult is not None:
        attrs["__wd_mult__"] = str(wd_mult)
    if dtype is not None:
        attrs["__dtype__"] = str(list(registry.DTYPES).index(registry.dtype_name(dtype)))
    if init is not None:
        attrs["__init__"] = init if isinstance(init, str) else init.dumps()
    if stype is not None:
        attrs["__storage_type__"] = str({"default": 0, "row_sparse": 1, "csr": 2}[stype])
    for key, value in kwargs.items():
        if not (key.startswith("__") and key.endswith("__")):
            raise ValueError("Attribute name=%s is not supported. Additional attributes must start and end "
                             "with double underscores, e.g. __yourattr__" % key)
        attrs[key] = str(value)
    return Symbol([Entry(Node(None, name, attrs))])


Variable = var


def Group(symbols):
    """One symbol whose outputs are the outputs of `symbols`, in order."""
    symbols = list(symbols)
    if not symbols or any(not isinstance(s, Symbol) for s in symbols):
        raise TypeError("Expected a non-empty list of symbols as input")
    return Symbol([e for s in symbols for e in s._outputs])


def load_json(json_str):
    """A symbol from MXNet's JSON text."""
    return Symbol(graph_json.from_json(json_str))


def load(fname):
    """A symbol from a JSON file written by `save` (or by MXNet)."""
    with open(fname, "rb") as fh:        # bytes: the reader reports a file that is not UTF-8 as a GraphError
        return load_json(fh.read())


def fromjson(json_str):
    return load_json(json_str)


def create(opdef, op_name, args, kwargs):
    """Create the node of op `opdef`, called as `op_name`, and return its Symbol (`mx.sym.<op_name>(...)`)."""
    name = kwargs.pop("name", None)
    attr = kwargs.pop("attr", None)
    symbol_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if isinstance(kwargs[k], Symbol)}
    positional = list(args)
    if any(not isinstance(a, Symbol) for a in positional):
        bad = next(a for a in positional if not isinstance(a, Symbol))
        raise TypeError("%s: positional inputs must be Symbols, got %s; pass parameters by name"
                        % (op_name, type(bad).__name__))
    if opdef.variadic and opdef.variadic not in kwargs:
        kwargs[opdef.variadic] = len(positional)
    if "dtype" in kwargs and kwargs["dtype"] is not None and "dtype" in opdef.params:
        kwargs["dtype"] = registry.dtype_name(kwargs["dtype"])
    name = _name.current().get(name, op_name.lower())
    # the AttrScope's and `attr=` attributes, and hidden keys (lr_mult=...), are node attributes, never params
    # (values as strings: MXNet str()s them, e.g. GluonCV's attr={'__init__': mx.init.Xavier()})
    attrs = attribute.node_attrs({k: v if isinstance(v, str) else str(v)
                                  for k, v in attribute.current().get(attr).items()})
    attrs.update({k: str(kwargs.pop(k)) for k in list(kwargs) if k.startswith("__") and k.endswith("__")})
    attrs.update(attribute.node_attrs({k: str(kwargs.pop(k)) for k in list(kwargs) if k in attribute.HIDDEN_KEYS}))
    op_attrs = opdef.format_attrs(kwargs)
    params = opdef.parse_params(op_attrs, name)
    attrs.update(op_attrs)
    node = Node(opdef, name, attrs, params)
    _connect_inputs(node, positional, symbol_kwargs, op_name)
    return Symbol([Entry(node, i) for i in range(opdef.visible_outputs(params))])


def _connect_inputs(node, positional, by_name, op_name):
    """Attach the given inputs; create a variable `<node>_<input>` for each one left out (MXNet's Compose)."""
    opdef, params = node.op, node.params
    names = opdef.input_names(params)
    given = {}
    if len(positional) > len(names):
        raise ValueError("%s (%s): %d inputs given, but it takes %d (%s)"
                         % (op_name, node.name, len(positional), len(names), ", ".join(names)))
    for input_name, s in zip(names, positional):
        given[input_name] = _single_entry(s, "input %r of %s" % (input_name, node.name))
    for key, s in by_name.items():
        if key not in names:
            raise ValueError("%s (%s): %r is not an input; the inputs are %s" % (op_name, node.name, key, names))
        if key in given:
            raise ValueError("%s (%s): input %r given twice" % (op_name, node.name, key))
        given[key] = _single_entry(s, "input %r of %s" % (key, node.name))
    aux = set(opdef.aux_names(params))
    inputs = []
    for input_name in names:
        entry = given.get(input_name)
        if entry is None:
            if opdef.variadic:
                raise ValueError("%s (%s): missing input %r" % (op_name, node.name, input_name))
            variable = Node(None, "%s_%s" % (node.name, input_name), node.attrs)
            if opdef.input_var_attrs:
                variable.attrs.update(opdef.input_var_attrs(params, input_name))
            entry = Entry(variable)
        if input_name in aux and entry.node.is_variable:
            entry.node.version += 1     # MXNet records each mutation of a variable as a new version
            entry = Entry(entry.node, entry.index, entry.node.version)
        inputs.append(entry)
    node.inputs = inputs


def _op(op_name, *args, **kwargs):
    return create(registry.get(op_name), op_name, args, kwargs)


__all__ = ["Symbol", "var", "Variable", "Group", "load", "load_json", "create", "ParamError", "ShapeError",
           "GraphError", "MXNetError"]
