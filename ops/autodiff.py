"""The vocabulary of gradient rules: graph values with arithmetic, and `apply` for any other op.

A gradient rule is `rule(p, ins, outs, dys) -> list`, one item per input of the op: a `Value` (the gradient with
respect to that input) or None (no gradient). `ins`, `outs` and `dys` (one per output) are Values, handles on
entries of the graph being built; arithmetic on them adds nodes, as a user would write it (`dy * y`), and
`apply(op_name, *values, **params)` adds any registered op. The gradient pass (scheduler/gradient.py) sets the
name under which new nodes are created (`_backward_<node>_<op><n>`).
"""
import threading

import numpy as np

from . import registry

_state = threading.local()


class Value:
    """An entry of the graph under construction; arithmetic on Values adds elementwise nodes."""
    __slots__ = ("entry",)

    def __init__(self, entry):
        self.entry = entry

    def __add__(self, other):
        return _arith(self, other, "elemwise_add", "_plus_scalar")

    __radd__ = __add__

    def __sub__(self, other):
        return _arith(self, other, "elemwise_sub", "_minus_scalar")

    def __rsub__(self, other):
        return apply("_rminus_scalar", self, scalar=float(other))

    def __mul__(self, other):
        return _arith(self, other, "elemwise_mul", "_mul_scalar")

    __rmul__ = __mul__

    def __truediv__(self, other):
        return _arith(self, other, "elemwise_div", "_div_scalar")

    def __rtruediv__(self, other):
        return apply("_rdiv_scalar", self, scalar=float(other))

    def __neg__(self):
        return apply("negative", self)

    def __repr__(self):
        return "Value(%s[%d])" % (self.entry.node.name, self.entry.index)


def _arith(a, b, op_name, scalar_op_name):
    if isinstance(b, Value):
        return apply(op_name, a, b)
    if isinstance(b, (int, float, np.number)):
        return apply(scalar_op_name, a, scalar=float(b))
    return NotImplemented


def apply(op, *inputs, **params):
    """Add a node of `op` (a registered name, or an OpDef such as a cached graph's backward) on `inputs`; its
    Value, or a list of Values for an op with several outputs."""
    Entry, Node = _GRAPH_TYPES or _graph_types()
    opdef = registry.get(op) if isinstance(op, str) else op
    if opdef.variadic and opdef.variadic not in params:
        params[opdef.variadic] = len(inputs)
    name = _next_name(opdef.name)
    attrs, parsed, n_in, n_out = _parsed(opdef, params, name, registered=isinstance(op, str))
    if len(inputs) != n_in:
        raise ValueError("gradient rule: %s takes %d inputs, got %d" % (opdef.name, n_in, len(inputs)))
    node = Node(opdef, name, attrs, parsed, [v.entry for v in inputs])
    if n_out == 1:
        return Value(Entry(node, 0))
    return [Value(Entry(node, i)) for i in range(n_out)]


_GRAPH_TYPES = None     # (Entry, Node) of scheduler/graph.py, imported on first use: ops does not import scheduler


def _graph_types():
    global _GRAPH_TYPES
    from scheduler.graph import Entry, Node
    _GRAPH_TYPES = (Entry, Node)
    return _GRAPH_TYPES


# Note [parsed gradient params]: a gradient pass over N nodes makes N nodes of a handful of (op, params) forms
# (`_backward_Activation` with act_type='tanh' ...). Each form's attrs are formatted and parsed once, and its nodes
# share the one (read-only) Params; an op keeping kernel state per Params object (`state_per_call`) gets its own.
# Only registered ops are cached: an OpDef made for one call (a cached graph's `_backward_CachedOp`, whose kernel
# holds that call's Plan and arena) must die with its node, not live on as a key here.
_PARSED = {}        # (opdef, ((key, value), ...), value types) -> (attrs, Params, number of inputs, of outputs)
_PARSED_LIMIT = 4096
_SCALARS = frozenset((str, int, float, bool, type(None)))


def _parsed(opdef, params, name, registered):
    """(the JSON attrs, the parsed Params, the number of inputs and of outputs) of an `opdef` node with `params`
    (Python values as a gradient rule passes them); `name` names the node in a parse error. `registered`: the op is
    the registry's (the form may be cached)."""
    key = None
    types = tuple(map(type, params.values()))
    if registered and not opdef.state_per_call and _SCALARS.issuperset(types):
        # the values' types are part of the key: 1 and 1.0 are equal but format differently ("1", "1.0"); so
        # are 0.0 and -0.0, which floats' reprs tell apart
        items = tuple(params.items())
        if float in types:
            items = tuple((k, repr(v) if type(v) is float else v) for k, v in items)
        key = (opdef, items, types)
        form = _PARSED.get(key)
        if form is not None:
            return form
    attrs = opdef.format_attrs(params)
    parsed = opdef.parse_params(attrs, name)
    form = (attrs, parsed, len(opdef.input_names(parsed)), opdef.num_outputs(parsed))
    if key is not None:
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.clear()
        _PARSED[key] = form
    return form


def zeros_like(v):
    return apply("zeros_like", v)


def ones_like(v):
    return apply("ones_like", v)


class naming:
    """Name the nodes created inside the block `<prefix><op><n>`."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.counts = {}

    def restart(self, prefix):
        """Name the nodes created from now on `<prefix><op><n>`, counting from 0 again (one scope reused for many
        prefixes: the gradient pass names each node's gradient nodes after it)."""
        self.prefix = prefix
        self.counts = {}

    def __enter__(self):
        self._old = getattr(_state, "naming", None)
        _state.naming = self
        return self

    def __exit__(self, *exc):
        _state.naming = self._old


_HINTS = {}     # op name -> the part of its nodes' names: "_backward_Activation" -> "backward_activation"


def _next_name(op_name):
    scope = getattr(_state, "naming", None)
    if scope is None:
        scope = _state.naming = naming("_grad_")
    hint = _HINTS.get(op_name)
    if hint is None:
        hint = _HINTS[op_name] = op_name.lower().lstrip("_")
    n = scope.counts.get(hint, 0)
    scope.counts[hint] = n + 1
    return "%s%s%d" % (scope.prefix, hint, n)
