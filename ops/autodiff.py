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
    from scheduler.graph import Entry, Node
    opdef = registry.get(op) if isinstance(op, str) else op
    op_name = opdef.name
    if opdef.variadic and opdef.variadic not in params:
        params[opdef.variadic] = len(inputs)
    attrs = opdef.format_attrs(params)
    name = _next_name(op_name)
    parsed = opdef.parse_params(attrs, name)
    expected = len(opdef.input_names(parsed))
    if len(inputs) != expected:
        raise ValueError("gradient rule: %s takes %d inputs, got %d" % (op_name, expected, len(inputs)))
    node = Node(opdef, name, attrs, parsed, [v.entry for v in inputs])
    n_out = opdef.num_outputs(parsed)
    values = [Value(Entry(node, i)) for i in range(n_out)]
    return values[0] if n_out == 1 else values


def zeros_like(v):
    return apply("zeros_like", v)


def ones_like(v):
    return apply("ones_like", v)


class naming:
    """Name the nodes created inside the block `<prefix><op><n>`."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.counts = {}

    def __enter__(self):
        self._old = getattr(_state, "naming", None)
        _state.naming = self
        return self

    def __exit__(self, *exc):
        _state.naming = self._old


def _next_name(op_name):
    scope = getattr(_state, "naming", None)
    if scope is None:
        scope = _state.naming = naming("_grad_")
    hint = op_name.lower().lstrip("_")
    n = scope.counts.get(hint, 0)
    scope.counts[hint] = n + 1
    return "%s%s%d" % (scope.prefix, hint, n)
