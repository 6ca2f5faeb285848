"""The `Custom` op: a Python CustomOp (mx.operator) run as a node of a graph.

MXNet's `Custom` takes its inputs, outputs, shapes and dtypes from a Python `CustomOpProp` registered under the
node's `op_type`; every other keyword reaches the Prop's `__init__` as a string. One OpDef serves every op_type:
its input and output names and its rules are callables of the params that ask the node's Prop (`prop_of(p)`), so
the scheduler, the front ends and the JSON reader treat a Custom node like any other (`any_param` keeps the
keywords as strings, and they round-trip through JSON as the node's attrs).

Running. A Custom kernel is a Python callback, holding the GIL, that runs wherever its step runs: on the engine's
worker inside a Plan's push (Symbol executors, hybridized blocks, autograd's backward), or inline for a small
imperative call. The buffers are wrapped in NDArrays and the CustomOp's NDArray ops run on an `ImmediateEngine`
scoped to that thread (through the bridge dataflow/operator.py installs), so they never wait on the worker that
is running them; recording is paused and training mode follows `is_train`, as in MXNet. Anything the callback
raises becomes a `CallbackError` naming the op_type, the class and the method; the Plan adds the node, and the
engine stores it on the op's outputs, so it surfaces at the wait (asnumpy, waitall), as MXNet's does.

Backward. `_backward_Custom` reads the output gradients and outputs that `declare_backward_dependency` names,
every forward argument (for their shapes; so, unlike MXNet, undeclared inputs stay alive until the backward) and
the aux states, and writes one gradient per argument. The CustomOp sees None for whatever was not declared.

State. One Prop per (op_type, Prop class, kwargs), and one CustomOp per node and input shapes and dtypes, made by
create_operator at first use and dropped with the node's Params. A node is known by its Params object (the backward
node is given its forward node's), so state a CustomOp keeps on itself from forward to backward stays with its node.
Each imperative call is a node of its own (`state_per_call`: it gets its own Params), so it gets its own CustomOp,
as in MXNet; MXNet also makes one per bind, where here the executors of one symbol share their nodes' CustomOps.
"""
import warnings
import weakref

import numpy as np

from . import autodiff
from .errors import DTypeError, MXNetError, ParamError, ShapeError
from .registry import DTYPES, OpDef, Str, register

_PROPS = {}         # op_type -> CustomOpProp subclass (mx.operator.register)
_INFOS = {}         # (op_type, Prop class, kwargs) -> CustomInfo
_bridge = None      # the NDArray side (dataflow/operator.py): create_operator and run


class CallbackError(RuntimeError):
    """A CustomOp or CustomOpProp method raised (or returned something unusable) while an op ran. Not an
    MXNetError on purpose: the Plan adds the node's name to other exceptions (scheduler/plan.py)."""


def register_prop(op_type, prop_cls):
    """Make `prop_cls` the Prop of `Custom(..., op_type=op_type)`; a second registration replaces the first."""
    if op_type in _PROPS and _PROPS[op_type] is not prop_cls:
        warnings.warn("New registration is overriding existing custom operator %s" % op_type, stacklevel=3)
    _PROPS[op_type] = prop_cls
    return prop_cls


def registered():
    """The op_types registered so far."""
    return sorted(_PROPS)


def install_bridge(bridge):
    """Set the object that creates CustomOps and runs their methods on NDArrays (dataflow/operator.py)."""
    global _bridge
    _bridge = bridge


class _OpType(Str):
    """A registered op_type: an unknown name fails where the node is made, naming it."""

    def parse(self, value):
        name = str(value)
        if name not in _PROPS:
            raise ValueError("no custom operator is registered as %r (registered: %s); register its CustomOpProp "
                             "with @mx.operator.register(%r)" % (name, ", ".join(registered()) or "none", name))
        return name


# ---------------------------------------------------------------------------------------------------------------
# One Prop: its lists, rules and CustomOps
# ---------------------------------------------------------------------------------------------------------------

class CustomInfo:
    """A Prop instance with what the graph needs from it, asked once: names, backward dependencies, CustomOps."""

    def __init__(self, op_type, prop_cls, kwargs):
        self.op_type = op_type
        try:
            self.prop = prop_cls(**kwargs)
        except Exception as err:
            raise ParamError(self.failed("__init__", err, prop_cls.__name__)) from err
        self.arguments = self._names("list_arguments")
        self.outputs = self._names("list_outputs")
        self.aux = self._names("list_auxiliary_states")
        self._check_storage()
        self._layout = None             # backward_layout(), asked at the first gradient
        self.declared_inputs = None     # argument positions declare_backward_dependency names (with the layout)
        self._operators = {}            # id of a node's Params -> {(input shapes, dtype codes): CustomOp}

    def where(self, method, owner=None):
        return "op_type %r: %s.%s" % (self.op_type, owner or type(self.prop).__name__, method)

    def failed(self, method, err, owner=None):
        return "%s raised %s: %s" % (self.where(method, owner), type(err).__name__, err)

    def _names(self, method):
        try:
            names = getattr(self.prop, method)()
            names = [names] if isinstance(names, str) else list(names)
        except Exception as err:
            raise ParamError(self.failed(method, err)) from err
        if not all(isinstance(n, str) for n in names):
            raise ParamError("%s must return a list of strings, got %r" % (self.where(method), names))
        return names

    def _check_storage(self):
        """Only dense ('default') arrays exist here: a Prop whose infer_storage_type asks for sparse ones fails."""
        method = getattr(self.prop, "infer_storage_type", None)
        if method is None:
            return
        try:
            parts = [list(part) for part in method(["default"] * len(self.arguments))]
        except Exception as err:
            raise ParamError(self.failed("infer_storage_type", err)) from err
        sparse = sorted({s for part in parts for s in part if s != "default"})
        if sparse:
            raise ParamError("%s asks for storage types %s; only 'default' (dense) arrays are supported"
                             % (self.where("infer_storage_type"), sparse))

    # -- rules -------------------------------------------------------------------------------------------------
    def infer(self, kind, in_values, out_values):
        """Ask the Prop's infer_shape or infer_type (kind 'shape' / 'type') for the node's proposals.

        MXNet passes unknown argument shapes as () and unknown types as None; a Prop that cannot work with them yet
        (it raises) is asked again once the sweeps know more. Unknowns it returns stay unknown."""
        method, error = ("infer_shape", ShapeError) if kind == "shape" else ("infer_type", DTypeError)
        n_args = len(self.arguments)
        args = in_values[:n_args]
        if kind == "shape":
            known = all(s is not None and len(s) and all(s) for s in args)
            given = [[] if s is None else [int(d) for d in s] for s in args]
        else:
            known = all(t is not None for t in args)
            given = [None if t is None else np.dtype(t).type for t in args]
        try:
            parts = [list(part) for part in getattr(self.prop, method)(given)]
        except Exception as err:
            if not known:
                return in_values, out_values
            raise error(self.failed(method, err)) from err
        if len(parts) == 2:
            parts.append([])
        if len(parts) != 3:
            raise error("%s must return 2 or 3 lists (in, out[, aux]), got %d" % (self.where(method), len(parts)))
        what = "shapes" if kind == "shape" else "types"
        for values, names, role in zip(parts, (self.arguments, self.outputs, self.aux), ("input", "output", "aux")):
            if len(values) != len(names):
                raise error("%s returned %d %s %s, expected %d (%s)" % (
                    self.where(method), len(values), role, what, len(names), ", ".join(names) or "none"))
        convert = _to_shape if kind == "shape" else _to_dtype
        try:
            ins, outs, aux = ([convert(v) for v in values] for values in parts)
        except (TypeError, ValueError) as err:
            raise error("%s returned an invalid %s: %s" % (self.where(method), kind, err)) from err
        return ins + aux, outs

    # -- backward ----------------------------------------------------------------------------------------------
    def backward_layout(self):
        """What `_backward_Custom` reads, in input order: ('out_grad', i) and ('out_data', i) where declared,
        ('in_data', j) for every argument, ('aux', k) for every aux state."""
        if self._layout is None:
            n_out, n_args = len(self.outputs), len(self.arguments)
            out_grad = list(range(n_out))
            in_data = list(range(n_out, n_out + n_args))
            out_data = list(range(n_out + n_args, 2 * n_out + n_args))
            try:
                deps = [int(d) for d in self.prop.declare_backward_dependency(out_grad, in_data, out_data)]
            except Exception as err:
                raise MXNetError(self.failed("declare_backward_dependency", err)) from err
            bad = [d for d in deps if not 0 <= d < 2 * n_out + n_args]
            if bad:
                raise MXNetError("%s returned ids %s; the ids are out_grad %s, in_data %s, out_data %s"
                                 % (self.where("declare_backward_dependency"), bad, out_grad, in_data, out_data))
            self._layout = ([("out_grad", i) for i in out_grad if i in deps]
                            + [("in_data", j) for j in range(n_args)]
                            + [("out_data", i) for i, d in enumerate(out_data) if d in deps]
                            + [("aux", k) for k in range(len(self.aux))])
            self.declared_inputs = {j for j in range(n_args) if n_out + j in deps}
        return self._layout

    def backward_input_names(self):
        labels = {"out_grad": lambda i: "out_grad_" + self.outputs[i], "in_data": lambda j: self.arguments[j],
                  "out_data": lambda i: "out_data_" + self.outputs[i], "aux": lambda k: self.aux[k]}
        return [labels[role](i) for role, i in self.backward_layout()]

    # -- running -----------------------------------------------------------------------------------------------
    def operator(self, p, inputs):
        """The CustomOp of the node whose Params are `p`, for these input arrays (arguments then aux)."""
        shapes = [list(x.shape) for x in inputs]
        codes = [list(DTYPES).index(np.dtype(x.dtype).name) for x in inputs]
        node_ops = self._operators.get(id(p))
        if node_ops is None:
            node_ops = self._operators[id(p)] = {}
            weakref.finalize(p, self._operators.pop, id(p), None)      # the node is gone: so is its state
        key = (tuple(map(tuple, shapes)), tuple(codes))
        op = node_ops.get(key)
        if op is None:
            try:
                op = _bridge_or_fail().create_operator(self.prop, shapes, codes)
            except Exception as err:
                raise CallbackError(self.failed("create_operator", err)) from err
            node_ops[key] = op
        return op

    def run(self, op, method, training, **arrays):
        """Call `op.<method>(**arrays)` with the arrays (lists, None for undeclared ones) as NDArrays, in training
        mode or not."""
        try:
            _bridge_or_fail().run(getattr(op, method), training, arrays)
        except Exception as err:
            raise CallbackError(self.failed(method, err, type(op).__name__)) from err


def _bridge_or_fail():
    if _bridge is None:
        raise MXNetError("Custom ops run through dataflow.operator; import dataflow first")
    return _bridge


def _to_shape(value):
    if value is None:
        return None
    shape = tuple(int(d) for d in value)
    return shape or None        # () is MXNet 1.x's unknown shape


def _to_dtype(value):
    if value is None or (isinstance(value, int) and value == -1):
        return None
    return np.dtype(value)


def prop_of(p):
    """The CustomInfo of a Custom (or _backward_Custom) node's params."""
    kwargs = {k: v for k, v in p.as_dict().items() if k != "op_type"}
    prop_cls = _PROPS.get(p.op_type)
    if prop_cls is None:        # unregistered since the node was made
        raise ParamError("op_type %r is no longer registered" % p.op_type)
    key = (p.op_type, prop_cls, tuple(sorted(kwargs.items())))
    info = _INFOS.get(key)
    if info is None:
        info = _INFOS[key] = CustomInfo(p.op_type, prop_cls, kwargs)
    return info


# ---------------------------------------------------------------------------------------------------------------
# Custom
# ---------------------------------------------------------------------------------------------------------------

def _custom_shape(p, in_shapes, out_shapes):
    return prop_of(p).infer("shape", in_shapes, out_shapes)


def _custom_type(p, in_types, out_types):
    return prop_of(p).infer("type", in_types, out_types)


def _custom_gradient(p, ins, outs, dys):
    info = prop_of(p)
    n_args = len(info.arguments)
    if not n_args:
        return [None] * len(ins)
    forward = {"in_data": ins[:n_args], "out_data": outs, "aux": ins[n_args:], "out_grad": dys}
    inputs = [forward[role][i] for role, i in info.backward_layout()]
    inputs = [autodiff.zeros_like(outs[i]) if role == "out_grad" and v is None else v      # an unused output
              for (role, i), v in zip(info.backward_layout(), inputs, strict=True)]
    grads = autodiff.apply("_backward_Custom", *inputs, **p.as_dict())
    grads = grads if n_args > 1 else [grads]
    grads[0].entry.node.params = p      # equal values; the same object lets backward find the node's CustomOp
    return grads + [None] * len(info.aux)


def _custom_forward(ctx, p, inputs, outputs, req):
    info = prop_of(p)
    n_args = len(info.arguments)
    op = info.operator(p, inputs)
    info.run(op, "forward", ctx.is_train, is_train=ctx.is_train, req=list(req), in_data=list(inputs[:n_args]),
             out_data=list(outputs), aux=list(inputs[n_args:]))


register(OpDef(
    "Custom", _custom_shape, params={"op_type": _OpType(doc="Name of the custom operator (mx.operator.register).")},
    arguments=lambda p: prop_of(p).arguments, aux=lambda p: prop_of(p).aux, outputs=lambda p: prop_of(p).outputs,
    infer_type=_custom_type, gradient=_custom_gradient, cpu=_custom_forward, takes_training=True,
    state_per_call=True, any_param=Str(doc="passed to the CustomOpProp's __init__ as a string"),
    doc="Apply a custom operator implemented in Python (a CustomOpProp registered with mx.operator.register as "
        "`op_type`); every other keyword argument is passed to the Prop's __init__ as a string."))


# ---------------------------------------------------------------------------------------------------------------
# _backward_Custom
# ---------------------------------------------------------------------------------------------------------------

def _in_data_positions(info):
    return [pos for pos, (role, _) in enumerate(info.backward_layout()) if role == "in_data"]


def _backward_rule(p, ins, outs):
    """The gradients have the forward arguments' shapes (or dtypes), which the node reads."""
    positions = _in_data_positions(prop_of(p))
    ins = list(ins)
    for pos, out in zip(positions, outs, strict=True):
        if ins[pos] is None:
            ins[pos] = out
    return ins, [ins[pos] for pos in positions]


def _custom_backward(ctx, p, inputs, outputs, req):
    info = prop_of(p)
    n_out = len(info.outputs)
    given = {"out_grad": [None] * n_out, "out_data": [None] * n_out, "in_data": [None] * len(info.arguments),
             "aux": [None] * len(info.aux)}
    for (role, i), x in zip(info.backward_layout(), inputs, strict=True):
        given[role][i] = x
    op = info.operator(p, given["in_data"] + given["aux"])
    in_data = [x if j in info.declared_inputs else None for j, x in enumerate(given["in_data"])]
    info.run(op, "backward", True, req=list(req), out_grad=given["out_grad"], in_data=in_data,
             out_data=given["out_data"], in_grad=list(outputs), aux=given["aux"])


register(OpDef(
    "_backward_Custom", _backward_rule, params={"op_type": _OpType()},
    arguments=lambda p: prop_of(p).backward_input_names(),
    outputs=lambda p: ["%s_grad" % n for n in prop_of(p).arguments],
    infer_type=_backward_rule, cpu=_custom_backward, any_param=Str(),
    doc="The gradient of Custom: calls the CustomOp's backward."))
