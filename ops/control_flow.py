"""Control flow ops: `_foreach`, `_while_loop` and `_cond`, each one graph node holding its functions as subgraphs.

MXNet's symbolic `contrib.foreach/while_loop/cond` (dataflow/symbol/contrib_control_flow.py) trace the user's Python
functions into subgraphs and make one node whose inputs are, in the locs params' terms:

    _foreach      data arrays, initial states, then the other subgraph inputs ("remain"). `in_data_locs[k]`,
                  `in_state_locs[k]`, `remain_locs[k]` give each one's position among the subgraph's inputs.
                  Outputs: `num_out_data` per-step outputs stacked on axis 0, then the final states.
    _while_loop   the union of both subgraphs' inputs; `cond_input_locs[k]`/`func_input_locs[k]` give the node input
                  feeding the subgraph's input k, `func_var_locs[j]` the func input holding loop variable j.
                  Outputs: `num_out_data` step outputs padded to `max_iterations` rows, then the final loop vars.
    _cond         the union of the three subgraphs' inputs (pred, then, else), mapped by `*_input_locs`.

Subgraphs are kept in the node's params (`p.subgraphs`, a tuple of `Subgraph`), never in its string attrs; the
JSON writer and reader put them in the node's "subgraphs" list as MXNet does (dataflow/symbol/graph_json.py).

Running (ops/cpu/control_flow.py). The kernel binds each subgraph once per input shapes and dtypes (and thread)
through the scheduler's entry point and runs that Plan once per step, synchronously inside the node's own step (so a
loop inside an Executor, a hybridized block or autograd's backward is one engine op). Shapes and dtypes are inferred
through the subgraph by the scheduler's passes; a state whose shape or dtype changes in the body, or branches giving
different outputs, are errors naming both. Like ops/autodiff.py, this module reaches the scheduler only inside
functions: ops never import it at load.

Backward. Each node has a hidden last output, `reserve` (dataflow's own: files do not count it), where a training
forward keeps per step what the subgraph's gradient steps read; `_backward_foreach` (and the other two) take the
forward inputs, every output gradient and the reserve, and run only each step's gradient steps, in reverse order
(Note [saved forward values] in ops/cpu/control_flow.py; where nothing was saved they recompute the forward).
A while loop's padding rows get no gradient and are zeros here (MXNet leaves them undefined); `_cond`'s predicate
gets none.

Aux states. A BatchNorm inside a body makes its moving stats inputs of the subgraph and, as in MXNet 1.9.1, plain
arguments of the control flow node (MXNet lists no aux states for it). The node and its backward declare the node
inputs feeding them as written (`writes_arguments`): the BatchNorm backward inside updates them in place, once per
step, as an unrolled graph's BatchNorms would. MXNet itself cannot bind such a graph with gradients, and in an
Executor runs the body in inference mode even with is_train=True; here the body follows the node's mode.
"""
import threading

import numpy as np

from . import autodiff
from .errors import DTypeError, MXNetError, ShapeError
from .cpu import control_flow as cpu
from .registry import Field, Int, OpDef, Shape, register

SUBGRAPHS = "subgraphs"     # the param holding a control flow node's subgraphs (graph_json reads and writes it)


class Subgraph:
    """A traced function: its output entries (`outputs`) and, bound lazily, its graph and per-shape runners."""

    def __init__(self, outputs):
        self.outputs = list(outputs)
        self._graph = None
        self._runners = {}
        self._written = None
        self._reads = False     # not yet known (None: the subgraph has no gradient)

    @property
    def graph(self):
        if self._graph is None:
            from scheduler.graph import IndexedGraph
            self._graph = IndexedGraph(self.outputs)
        return self._graph

    def input_names(self):
        g = self.graph
        return [g.nodes[nid].name for nid in g.arg_nodes]

    def written_inputs(self):
        """Positions among the subgraph's inputs of the variables its nodes write: BatchNorm's moving stats (its
        backward updates them), a fixed gamma; a nested control flow node's own written inputs count too."""
        if self._written is None:
            from scheduler.plan import written_variables
            g = self.graph
            where = {nid: k for k, nid in enumerate(g.arg_nodes)}
            self._written = frozenset(where[nid] for nid in written_variables(g))
        return self._written

    def backward_reads(self):
        """(eids of entries computed by forward steps, positions of inputs) that the subgraph's gradient steps read
        (what one step saves for the backward: Note [saved forward values] in ops/cpu/control_flow.py); None when
        the subgraph cannot be differentiated (the backward then raises, naming the op)."""
        if self._reads is False:
            try:
                self._reads = cpu.backward_reads(cpu.lower_with_gradients(self)[0])
            except Exception:  # noqa: BLE001 - whatever a gradient rule raises, the backward raises it again, named
                self._reads = None
        return self._reads

    def infer(self, kind, in_values):
        """(input values, output values, every entry's value) of the subgraph's shapes or dtypes (`kind`) from the
        known input values (one per subgraph input, None where unknown); the pass adds the control flow node to an
        error inside."""
        from scheduler.infer import infer_dtypes, infer_shapes
        g = self.graph
        known = {g.nodes[nid].name: v for nid, v in zip(g.arg_nodes, in_values, strict=True) if v is not None}
        try:
            values = (infer_shapes if kind == "shape" else infer_dtypes)(g, known).values
        except MXNetError as err:
            raise type(err)("in its subgraph: %s" % err) from None
        return [values[g.node_row_ptr[nid]] for nid in g.arg_nodes], [values[e] for e in g.heads], values

    def runner(self, shapes, dtypes, backward, summed=()):
        """The subgraph bound for these input shapes and dtypes (one per thread: a Plan's buffers are its own);
        with `backward`, its gradient steps too, adding the gradients of the inputs at positions `summed` up over
        the steps (cpu.Runner)."""
        key = (tuple(shapes), tuple(np.dtype(t).str for t in dtypes), backward, frozenset(summed),
               threading.get_ident())
        runner = self._runners.get(key)
        if runner is None:
            runner = self._runners[key] = cpu.Runner(self, shapes, dtypes, backward, summed)
        return runner

    def release(self):
        """Point this thread's plans back at their own input arrays: no plan keeps a caller's buffers (an
        executor's arena, a user's array) alive after the node ran."""
        me = threading.get_ident()
        for key, runner in self._runners.items():
            if key[-1] == me:
                runner.unbind()

    def __repr__(self):
        return "<Subgraph %s>" % ", ".join(e.node.name for e in self.outputs)


class _Subgraphs(Field):
    """The node's subgraphs: Python objects, never a string attribute (JSON keeps them apart)."""
    type_name = "subgraphs"

    def parse(self, value):
        if not isinstance(value, (tuple, list)) or not all(isinstance(s, Subgraph) for s in value):
            raise ValueError("expected the traced subgraphs, got %r" % (value,))
        return tuple(value)

    def format(self, value):
        return value


class _Locs(Shape):
    """Positions as MXNet writes them: `[0, 2]`."""
    type_name = "tuple of int"

    def format(self, value):
        return str([int(v) for v in value])


def _check_subgraphs(p, op, count, counts):
    """The params must describe the subgraphs they come with (a file may lie); counts: per subgraph, its loc
    list and the number of outputs it must have."""
    if len(p.subgraphs) != count:
        raise MXNetError("%s: expected %d subgraph(s), the node has %d" % (op, count, len(p.subgraphs)))
    for sub, (locs, n_out) in zip(p.subgraphs, counts, strict=True):
        n_in = len(sub.graph.arg_nodes)
        if len(locs) != n_in:
            raise MXNetError("%s: its subgraph has %d inputs (%s), but the params place %d"
                             % (op, n_in, ", ".join(sub.input_names()), len(locs)))
        if n_out is not None and len(sub.outputs) != n_out:
            raise MXNetError("%s: its subgraph has %d outputs, the params say %d" % (op, len(sub.outputs), n_out))


def _check_union(op, **locs):
    """Subgraphs sharing the node's inputs must together read each of them: their locs cover 0..n-1."""
    used = sorted({loc for values in locs.values() for loc in values})
    if used != list(range(len(used))):
        raise MXNetError("%s: %s do not number the node's inputs 0..n-1"
                         % (op, ", ".join("%s %s" % (k, list(v)) for k, v in locs.items())))


def _complete(kind, value):
    return value is not None and (kind != "shape" or all(value))


def _best(kind, *values):
    """The first complete value, else the first known one (None when none is)."""
    known = [v for v in values if v is not None]
    return next((v for v in known if _complete(kind, v)), known[0] if known else None)


def _show(value):
    return str(tuple(value)) if isinstance(value, (tuple, list)) else np.dtype(value).name


def _differs(kind, a, b):
    """Both values known and different."""
    if not (_complete(kind, a) and _complete(kind, b)):
        return False
    return tuple(a) != tuple(b) if kind == "shape" else np.dtype(a) != np.dtype(b)


def _check_state(kind, what, j, before, after):
    """A state must leave each step with the shape and dtype it came in with."""
    if _differs(kind, before, after):
        raise (ShapeError if kind == "shape" else DTypeError)(
            "%s %d goes into the subgraph as %s but comes out as %s; a loop state keeps its %s"
            % (what, j, _show(before), _show(after), "shape" if kind == "shape" else "dtype"))


def _slot_values(sub, values, in_values, varying):
    """The shapes or dtypes of what one step of `sub` saves for the backward: the entries its gradient steps read,
    and those of the step-varying inputs (positions `varying`: loop states) they read; None without gradients."""
    reads = sub.backward_reads()
    if reads is None:
        return None
    produced, inputs = reads
    return [values[e] for e in produced] + [in_values[loc] for loc in inputs if loc in varying]


def _reserve(kind, slots, per_slot):
    """The hidden `reserve` output's shape or dtype: a header, then `slots` slots each holding the largest of the
    `per_slot` value lists (Note [saved forward values]); None while something is unknown."""
    known = [v for v in per_slot if v is not None]
    if kind == "shape":
        if slots is None or any(not _complete(kind, x) for v in known for x in v):
            return None
        return (cpu.HEADER + slots * max([cpu.slot_size(v) for v in known], default=0),)
    if any(x is None for v in known for x in v):
        return None
    dtypes = [np.dtype(x) for v in known for x in v]
    return max(dtypes, key=lambda t: t.itemsize) if dtypes else np.dtype(np.float32)


# ---------------------------------------------------------------------------------------------------------------
# _foreach
# ---------------------------------------------------------------------------------------------------------------

def _foreach_check(p):
    _check_subgraphs(p, "_foreach", 1, [(cpu.foreach_inputs(p), p.num_outputs)])
    locs = cpu.foreach_inputs(p)
    if sorted(locs) != list(range(len(locs))) or p.num_outputs - p.num_out_data != len(p.in_state_locs):
        raise MXNetError("_foreach: in_data_locs %s, in_state_locs %s, remain_locs %s and num_outputs %d, "
                         "num_out_data %d do not describe one subgraph" % (
                             list(p.in_data_locs), list(p.in_state_locs), list(p.remain_locs), p.num_outputs,
                             p.num_out_data))


def _foreach_sub_values(p, node_values, kind):
    """The subgraph's input values from the node's: a data array gives its slice (axis 0 dropped)."""
    values = [None] * len(cpu.foreach_inputs(p))
    n_data = len(p.in_data_locs)
    for k, (loc, v) in enumerate(zip(cpu.foreach_inputs(p), node_values, strict=True)):
        if v is not None and k < n_data and kind == "shape":
            v = tuple(v[1:]) if len(v) else None
        values[loc] = v
    return values


def _foreach_rule(kind):
    def rule(p, ins, outs):
        _foreach_check(p)
        sub = p.subgraphs[0]
        n_data, n_out = len(p.in_data_locs), p.num_out_data
        length = next((s[0] for s in ins[:n_data] if s), None) if kind == "shape" else None
        if kind == "shape" and length is None:
            length = next((s[0] for s in outs[:n_out] if s), None)
        known = list(ins)
        for j in range(len(p.in_state_locs)):       # a state keeps its shape and dtype from step to step
            if known[n_data + j] is None:
                known[n_data + j] = outs[n_out + j]
        sub_ins, sub_outs, values = sub.infer(kind, _foreach_sub_values(p, known, kind))
        new_ins = []
        for k, loc in enumerate(cpu.foreach_inputs(p)):
            v = sub_ins[loc]
            if kind == "shape" and k < n_data:
                v = None if v is None or not length else (length,) + tuple(v)
            new_ins.append(v if v is not None else ins[k])
        new_outs = []
        for i, v in enumerate(sub_outs):
            if kind == "shape" and i < n_out:
                v = None if v is None or not length else (length,) + tuple(v)
            new_outs.append(v)
        for j in range(len(p.in_state_locs)):
            _check_state(kind, "state", j, new_ins[n_data + j], new_outs[n_out + j])
            if new_outs[n_out + j] is None:
                new_outs[n_out + j] = new_ins[n_data + j]
            elif new_ins[n_data + j] is None:
                new_ins[n_data + j] = new_outs[n_out + j]
        new_outs.append(_reserve(kind, length, [_slot_values(sub, values, sub_ins, set(p.in_state_locs))]))
        return new_ins, new_outs
    return rule


# ---------------------------------------------------------------------------------------------------------------
# _while_loop
# ---------------------------------------------------------------------------------------------------------------

def _while_check(p):
    _check_subgraphs(p, "_while_loop", 2, [(p.cond_input_locs, 1), (p.func_input_locs, p.num_outputs)])
    _check_union("_while_loop", cond_input_locs=p.cond_input_locs, func_input_locs=p.func_input_locs)
    if len(p.func_var_locs) != p.num_outputs - p.num_out_data:
        raise MXNetError("_while_loop: %d loop variables (func_var_locs %s), but num_outputs - num_out_data is %d"
                         % (len(p.func_var_locs), list(p.func_var_locs), p.num_outputs - p.num_out_data))
    if not all(0 <= loc < len(p.func_input_locs) for loc in p.func_var_locs) or p.max_iterations < 0:
        raise MXNetError("_while_loop: func_var_locs %s must index the func subgraph's %d inputs, and "
                         "max_iterations (%d) must not be negative"
                         % (list(p.func_var_locs), len(p.func_input_locs), p.max_iterations))


def _while_rule(kind):
    def rule(p, ins, outs):
        _while_check(p)
        cond_g, func_g = p.subgraphs
        n_out = p.num_out_data
        var_inputs = cpu.while_var_inputs(p)
        known = list(ins)
        for j, k in enumerate(var_inputs):
            if known[k] is None:
                known[k] = outs[n_out + j]
        c_ins, _, _ = cond_g.infer(kind, [known[k] for k in p.cond_input_locs])
        f_ins, f_outs, values = func_g.infer(kind, [known[k] for k in p.func_input_locs])
        new_ins = list(ins)
        for locs, sub_ins in ((p.cond_input_locs, c_ins), (p.func_input_locs, f_ins)):
            for k, v in zip(locs, sub_ins):
                if v is not None:       # the pass merges it with what is known (a partial shape, a conflict)
                    new_ins[k] = v
        new_outs = []
        for i, v in enumerate(f_outs):
            if kind == "shape" and i < n_out:
                v = None if v is None else (p.max_iterations,) + tuple(v)
            new_outs.append(v)
        for j, k in enumerate(var_inputs):
            _check_state(kind, "loop_var", j, new_ins[k], new_outs[n_out + j])
            if new_outs[n_out + j] is None:
                new_outs[n_out + j] = new_ins[k]
            elif new_ins[k] is None:
                new_ins[k] = new_outs[n_out + j]
        new_outs.append(_reserve(kind, p.max_iterations, [_slot_values(func_g, values, f_ins, set(p.func_var_locs))]))
        return new_ins, new_outs
    return rule


# ---------------------------------------------------------------------------------------------------------------
# _cond
# ---------------------------------------------------------------------------------------------------------------

def _cond_check(p):
    _check_subgraphs(p, "_cond", 3, [(p.cond_input_locs, 1), (p.then_input_locs, p.num_outputs),
                                     (p.else_input_locs, p.num_outputs)])
    _check_union("_cond", cond_input_locs=p.cond_input_locs, then_input_locs=p.then_input_locs,
                 else_input_locs=p.else_input_locs)


def _cond_rule(kind):
    def rule(p, ins, outs):
        _cond_check(p)
        new_ins, branch_outs, saved = list(ins), [], []
        for sub, locs in zip(p.subgraphs, (p.cond_input_locs, p.then_input_locs, p.else_input_locs)):
            sub_ins, sub_outs, values = sub.infer(kind, [ins[k] for k in locs])
            for k, v in zip(locs, sub_ins):
                if v is not None:       # the pass merges it with what is known (a partial shape, a conflict)
                    new_ins[k] = v
            branch_outs.append(sub_outs)
            saved.append(_slot_values(sub, values, sub_ins, ()))
        then_outs, else_outs = branch_outs[1:]
        for i, (a, b) in enumerate(zip(then_outs, else_outs)):
            if _differs(kind, a, b):
                raise (ShapeError if kind == "shape" else DTypeError)(
                    "output %d is %s in the then-branch but %s in the else-branch; both branches must give "
                    "the same %ss" % (i, _show(a), _show(b), kind))
        new_outs = [_best(kind, a, b, out) for a, b, out in zip(then_outs, else_outs, outs)]
        new_outs.append(_reserve(kind, 1, saved[1:]))
        return new_ins, new_outs
    return rule


def _feeds(op_name, p):
    """Per subgraph of a node with these params, per subgraph input, the node input feeding it."""
    if op_name == "_foreach":
        feeds = [None] * len(cpu.foreach_inputs(p))
        for k, loc in enumerate(cpu.foreach_inputs(p)):
            feeds[loc] = k
        return [feeds]
    if op_name == "_while_loop":
        return [p.cond_input_locs, p.func_input_locs]
    return [p.cond_input_locs, p.then_input_locs, p.else_input_locs]


def _written_arguments(op_name):
    """`writes_arguments` of a control flow op and of its backward: the node inputs feeding a subgraph input its
    subgraph writes (the moving stats of a BatchNorm inside, which MXNet lists as the node's plain arguments), so
    the engine orders every push running the node as a write of those arrays."""
    def written(p):
        return ["arg%d" % k for k in sorted({feeds[loc] for sub, feeds in zip(p.subgraphs, _feeds(op_name, p))
                                             for loc in sub.written_inputs()})]
    return written


def check_params(op_name, p):
    """Raise an MXNetError unless the params of a `op_name` node describe its subgraphs (the JSON reader asks)."""
    {"_foreach": _foreach_check, "_while_loop": _while_check, "_cond": _cond_check}.get(op_name, lambda p: None)(p)


# ---------------------------------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------------------------------

_COMMON = dict(num_args=Int(), num_outputs=Int(), subgraphs=_Subgraphs(default=()))
_FOREACH = dict(_COMMON, num_out_data=Int(), in_state_locs=_Locs(), in_data_locs=_Locs(), remain_locs=_Locs())
_WHILE = dict(_COMMON, num_out_data=Int(), max_iterations=Int(), cond_input_locs=_Locs(), func_input_locs=_Locs(),
              func_var_locs=_Locs())
_COND = dict(_COMMON, cond_input_locs=_Locs(), then_input_locs=_Locs(), else_input_locs=_Locs())


def _foreach_count(p):
    return len(cpu.foreach_inputs(p))


# The node's inputs are the union of its subgraphs' inputs: as many as distinct locs (check_params makes sure they
# are 0..n-1), never more than the locs written, whatever number a file puts in them.
def _while_count(p):
    return len({*p.cond_input_locs, *p.func_input_locs})


def _cond_count(p):
    return len({*p.cond_input_locs, *p.then_input_locs, *p.else_input_locs})


def _outputs(p):
    """MXNet's outputs (`_cond0_output` for one, `_foreach0_output0, ...` for several), then the hidden `reserve`
    holding what the backward reads (Note [saved forward values] in ops/cpu/control_flow.py)."""
    if p.num_outputs == 1:
        return ["output", "reserve"]
    return ["output%d" % i for i in range(p.num_outputs)] + ["reserve"]


def _releasing(kernel):
    """`kernel`, then its subgraphs released (Subgraph.release), whatever happened."""
    def run(ctx, p, inputs, outputs, req):
        try:
            kernel(ctx, p, inputs, outputs, req)
        finally:
            for sub in p.subgraphs:
                sub.release()
    run.__name__ = kernel.__name__
    return run


def _register(name, params, count, rule, kernel, backward_kernel):
    """The op and its `_backward_` op: (forward inputs, output gradients) -> one gradient per forward input."""
    def gradient(p, ins, outs, dys):
        n = p.num_outputs
        dys = [autodiff.zeros_like(y) if dy is None else dy for y, dy in zip(outs[:n], dys[:n], strict=True)]
        grads = autodiff.apply("_backward" + name, *ins, *dys, outs[n], **p.as_dict())
        return grads if isinstance(grads, list) else [grads]

    def backward_rule(p, ins, outs):
        return ins, ins[:count(p)]

    register(OpDef(
        name, params=params, arguments=lambda p: ["arg%d" % i for i in range(count(p))], outputs=_outputs,
        num_visible_outputs=lambda p: p.num_outputs, private_outputs=True, writes_arguments=_written_arguments(name),
        infer_shape=rule("shape"), infer_type=rule("dtype"), gradient=gradient, cpu=_releasing(kernel),
        takes_training=True,
        doc="MXNet's %s: one node running its subgraphs (see ops/control_flow.py)." % name))
    register(OpDef(
        "_backward" + name, params=params,
        arguments=lambda p: (["arg%d" % i for i in range(count(p))]
                             + ["grad_output%d" % i for i in range(p.num_outputs)] + ["reserve"]),
        outputs=lambda p: ["grad_arg%d" % i for i in range(count(p))], writes_arguments=_written_arguments(name),
        infer_shape=backward_rule, infer_type=backward_rule, cpu=_releasing(backward_kernel), takes_training=True,
        doc="The gradient of %s: backward through the subgraph step by step, from the values its forward saved "
            "in the reserve (or its steps again, where it saved none)." % name))


_register("_foreach", _FOREACH, _foreach_count, _foreach_rule, cpu.foreach, cpu.foreach_backward)
_register("_while_loop", _WHILE, _while_count, _while_rule, cpu.while_loop, cpu.while_loop_backward)
_register("_cond", _COND, _cond_count, _cond_rule, cpu.cond, cpu.cond_backward)

__all__ = ["Subgraph", "SUBGRAPHS", "check_params"]
