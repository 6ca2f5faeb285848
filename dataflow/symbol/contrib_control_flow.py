"""MXNet's symbolic control flow in `mx.sym.contrib`: `foreach`, `while_loop` and `cond`.

Each traces the user's Python functions once, on fresh variables, into subgraphs, and makes one node (`_foreach`,
`_while_loop`, `_cond`; ops/control_flow.py) holding them, as MXNet 1.9.1 does:

1. Inside `AttrScope(__subgraph_name__=<unique name>)` the function runs on variables named `<name>-<index>` of the
   symbols it stands for (`data-0`), so every node it creates carries the subgraph's name.
2. An output that is not such a node (an input, or something built outside) goes through `identity`.
3. Cutting: an input of a subgraph node that comes from outside (an outer variable such as a weight, or an outer
   op's output) becomes a variable of the subgraph named as that output (`w`, `sigmoid0_output`), and the outer
   entry becomes an input of the control flow node. (MXNet makes one such variable per use, so a body using an outer
   value twice fails there; here one variable serves every use.)
4. The node's inputs are ordered and located by the locs params (see ops/control_flow.py).
"""
import collections

from ops import registry
from ops.control_flow import Subgraph
from ops.errors import MXNetError

from scheduler.graph import Entry, IndexedGraph, Node

from .. import attribute, name as _name
from ..ndarray.contrib_control_flow import as_list, flatten, regroup, to_python
from .symbol import Group, Symbol, var

__all__ = ["foreach", "while_loop", "cond"]

_SUBGRAPH = "__subgraph_name__"
_subgraph_counts = collections.Counter()    # MXNet's AttrScope._subgraph_names: one counter per name, per process


def _flatten(args, what):
    return flatten(args, what, Symbol, lambda s: len(s) if len(s) > 1 else 0)


def _unique_subgraph_name(name):
    outer = attribute.current().get(None).get(_SUBGRAPH, "")
    if outer:
        name = "%s$%s" % (outer, name)
    count = _subgraph_counts[name]
    _subgraph_counts[name] += 1
    return "%s%d" % (name, count)


def _stand_in_name(sym):
    """The name of the subgraph variable standing for `sym` (MXNet's `<name>-<_value_index>`)."""
    entry = sym._outputs[0]
    return "%s-%d" % (entry.node.name, entry.index)


def _in_subgraph(node, name):
    return node.attrs.get(_SUBGRAPH, "") == name


def _check_symbols(items, what):
    if not all(isinstance(s, Symbol) for s in items):
        raise MXNetError("%s should be a Symbol or a nested list of Symbols, got %s"
                         % (what, [type(s).__name__ for s in items]))


def _subgraph_outputs(outputs, name, distinct_from=()):
    """The subgraph's head symbols: `identity` of each output that is an input, comes from outside the subgraph,
    or (for foreach's states) is also one of `distinct_from`."""
    from . import op as sym_op
    inputs = set(Group(outputs).list_inputs()) if outputs else set()
    taken = {s.name for s in distinct_from}
    heads = []
    for s in outputs:
        if s.name in inputs or not _in_subgraph(s._outputs[0].node, name) or s.name in taken:
            s = sym_op.identity(s)
        heads.append(s)
    return heads


def _cut(heads, name):
    """Replace every input of a subgraph node that comes from outside by a variable named as that output; returns
    the subgraph and {variable name: the outer Entry}."""
    outer = {}          # (id(node), index) -> (variable Node, outer Entry)
    g = IndexedGraph([s._outputs[0] for s in heads])
    for node in g.nodes:
        if node.op is None or not _in_subgraph(node, name):
            continue
        for j, entry in enumerate(node.inputs):
            if _in_subgraph(entry.node, name):
                continue
            key = (id(entry.node), entry.index)
            if key not in outer:
                outer[key] = (Node(None, entry.node.output_name(entry.index)), entry)
            node.inputs[j] = Entry(outer[key][0])
    sub = Subgraph([s._outputs[0] for s in heads])
    names = sub.input_names()
    if len(set(names)) != len(names):
        raise MXNetError("The inputs of the subgraph %s don't have unique names: %s" % (name, names))
    return sub, {v.name: entry for v, entry in outer.values()}


def _outer_input(sub, name, cut):
    """The outer entry feeding subgraph input `name`: the cut entry, or a copy of the subgraph's own variable."""
    if name in cut:
        return cut[name]
    g = sub.graph
    node = next(g.nodes[nid] for nid in g.arg_nodes if g.nodes[nid].name == name)
    outer = Node(None, node.name, node.attrs)
    outer.version = node.version        # MXNet shares the node: a moving stat mutated inside keeps its version
    return Entry(outer, 0, node.version)


def _make_node(op_name, inputs, subgraphs, params):
    """The control flow node on `inputs`, named by the NameManager (`_foreach0`); its attrs are MXNet's strings
    (`num_args` counts the subgraphs too, as MXNet's), its params also hold the subgraphs."""
    opdef = registry.get(op_name)
    name = _name.current().get(None, op_name)
    op_attrs = {k: str(list(v)) if isinstance(v, (list, tuple)) else str(v)
                for k, v in dict(params, num_args=len(inputs) + len(subgraphs)).items()}
    attrs = dict(attribute.node_attrs(attribute.current().get(None)), **op_attrs)
    parsed = opdef.parse_params(dict(op_attrs, subgraphs=subgraphs), name)
    # as NNVM's UpdateNodeVersion: an input variable's entry carries the variable's current version (1 for a
    # moving stat a BatchNorm inside mutates), which MXNet's JSON writes
    inputs = [Entry(e.node, e.index, e.node.version) if e.node.is_variable else e for e in inputs]
    node = Node(opdef, name, attrs, parsed, inputs)
    return Symbol([Entry(node, i) for i in range(opdef.visible_outputs(parsed))])


# ---------------------------------------------------------------------------------------------------------------
# foreach
# ---------------------------------------------------------------------------------------------------------------

def foreach(body, data, init_states, name="foreach"):
    """The symbolic foreach: `body(data_slice, states) -> (outputs, new_states)` traced once into a `_foreach` node.

    Returns `(outputs, states)` as Symbols nested as the body returns them (see mx.nd.contrib.foreach).

    Examples
    --------
    >>> import dataflow as mx
    >>> step = lambda x, states: (x + states[0], [states[0] * 2])
    >>> outs, states = mx.sym.contrib.foreach(step, mx.sym.var('data'), [mx.sym.var('s')])
    >>> outs.infer_shape(data=(3, 2), s=(2,))[1]
    [(3, 2)]
    """
    flat_data, data_fmt = _flatten(data, "foreach input")
    _check_symbols(flat_data, "data")
    flat_states, state_fmt = _flatten(init_states, "foreach states")
    _check_symbols(flat_states, "init_states")
    sub_name = _unique_subgraph_name(name)
    with attribute.AttrScope(__subgraph_name__=sub_name):
        slices, _ = regroup([var(_stand_in_name(s)) for s in flat_data], data_fmt)
        states, _ = regroup([var(_stand_in_name(s)) for s in flat_states], state_fmt)
        outs, new_states = body(slices, states)
        flat_outs, out_fmt = _flatten(outs, "foreach output")
        flat_new, new_fmt = _flatten(new_states, "foreach loop_vars")
        if new_fmt != state_fmt:
            raise MXNetError("foreach: the body returned states nested as %s, but init_states is nested as %s "
                             "(%d states); the input and output loop_vars must have the same format"
                             % (new_fmt, state_fmt, len(flat_states)))
        _check_symbols(flat_outs, "the output")
        _check_symbols(flat_new, "the output states")
        heads = _subgraph_outputs(flat_outs, sub_name) + _subgraph_outputs(flat_new, sub_name, flat_outs)
    sub, cut = _cut(heads, sub_name)
    names = sub.input_names()
    data_names = [_stand_in_name(s) for s in flat_data]
    state_names = [_stand_in_name(s) for s in flat_states]
    for what, wanted in (("data", data_names), ("state", state_names)):
        missing = [n for n in wanted if n not in names]
        if missing:
            raise MXNetError("foreach: the %s arrays have to be used in the loop body (unused: %s)"
                             % (what, ", ".join(missing)))
    inputs = [s._outputs[0] for s in flat_data + flat_states]
    remain_locs = []
    for k, n in enumerate(names):
        if n not in data_names and n not in state_names:
            inputs.append(_outer_input(sub, n, cut))
            remain_locs.append(k)
    params = dict(num_outputs=len(heads), num_out_data=len(flat_outs),
                  in_state_locs=[names.index(n) for n in state_names],
                  in_data_locs=[names.index(n) for n in data_names], remain_locs=remain_locs)
    result = _make_node("_foreach", inputs, (sub,), params)
    outputs, _ = regroup(list(result)[:len(flat_outs)], out_fmt)
    final, _ = regroup(list(result)[len(flat_outs):], state_fmt)
    return outputs, final


# ---------------------------------------------------------------------------------------------------------------
# while_loop and cond: inputs shared by several subgraphs
# ---------------------------------------------------------------------------------------------------------------

def _trace(fn, stand_ins, sub_name):
    """Run `fn` in the subgraph's scope; returns (flat output symbols, their format) — the caller adds heads."""
    with attribute.AttrScope(__subgraph_name__=sub_name):
        return fn([var(_stand_in_name(s)) for s in stand_ins])


def _union_inputs(subgraphs, known, share_variables):
    """The node's inputs for `subgraphs` (each (Subgraph, cut)), and per subgraph the node input feeding each of its
    inputs. `known`: {subgraph input name: outer Entry} of the stand-ins (loop variables), which the subgraphs share.

    Which other inputs the subgraphs share follows MXNet, so that a traced node equals MXNet's: while_loop shares
    none (each subgraph's outer values are inputs of their own), cond (`share_variables`) shares variables by name
    but not op outputs."""
    inputs, where, locs = [], {}, []
    for k, (sub, cut) in enumerate(subgraphs):
        sub_locs = []
        for n in sub.input_names():
            entry = known[n] if n in known else cut[n] if n in cut else _outer_input(sub, n, cut)
            if n in known or (share_variables and entry.node.is_variable):
                key = n
            else:
                key = (k, n)
            if key not in where:
                where[key] = len(inputs)
                inputs.append(entry)
            sub_locs.append(where[key])
        locs.append(sub_locs)
    return inputs, locs


def while_loop(cond, func, loop_vars, max_iterations=None, name="while_loop"):
    """The symbolic while loop: `cond(*loop_vars)` and `func(*loop_vars) -> (step_output, new_loop_vars)` traced
    into a `_while_loop` node. Step outputs have `max_iterations` rows (see mx.nd.contrib.while_loop)."""
    flat_vars, var_fmt = _flatten(loop_vars, "while loop_vars")
    _check_symbols(flat_vars, "loop_vars")
    if max_iterations is None:
        raise ValueError("max_iterations should be specified")
    max_iterations = to_python(max_iterations, int, "max_iteration")
    if not flat_vars:
        raise ValueError("loop_vars should contain at least one element")

    def traced_cond(stand_ins):
        nested, _ = regroup(stand_ins, var_fmt)
        result = cond(*as_list(nested))
        if not isinstance(result, Symbol):
            raise ValueError("Return of cond must be a Symbol")
        return _subgraph_outputs([result], cond_name), None

    def traced_func(stand_ins):
        nested, _ = regroup(stand_ins, var_fmt)
        step_output, new_vars = func(*as_list(nested))
        step_output = [] if step_output is None else step_output
        new_vars = [] if new_vars is None else new_vars
        flat_outs, out_fmt = _flatten(list(step_output) if isinstance(step_output, tuple) else step_output,
                                      "while output")
        flat_new, _ = _flatten(list(new_vars) if isinstance(new_vars, tuple) else new_vars, "while loop_vars")
        if len(flat_new) != len(flat_vars):
            raise ValueError("The number of loop_vars should be consistent during the loop")
        _check_symbols(flat_outs + flat_new, "the outputs of func")
        return _subgraph_outputs(flat_outs + flat_new, func_name), (len(flat_outs), out_fmt)

    cond_name = _unique_subgraph_name(name + "_cond")
    cond_heads, _ = _trace(traced_cond, flat_vars, cond_name)
    func_name = _unique_subgraph_name(name + "_func")
    func_heads, (num_out_data, out_fmt) = _trace(traced_func, flat_vars, func_name)
    cond_sub, cond_cut = _cut(cond_heads, cond_name)
    func_sub, func_cut = _cut(func_heads, func_name)
    known = {_stand_in_name(s): s._outputs[0] for s in flat_vars}
    inputs, (cond_locs, func_locs) = _union_inputs([(cond_sub, cond_cut), (func_sub, func_cut)], known, False)
    func_names = func_sub.input_names()
    var_locs = []
    for i, s in enumerate(flat_vars, 1):
        if _stand_in_name(s) not in func_names:
            raise ValueError("The %d-th loop_var doesn't involve into the computation" % i)
        var_locs.append(func_names.index(_stand_in_name(s)))
    params = dict(max_iterations=max_iterations, cond_input_locs=cond_locs, func_input_locs=func_locs,
                  func_var_locs=var_locs, num_out_data=num_out_data, num_outputs=len(func_heads))
    result = list(_make_node("_while_loop", inputs, (cond_sub, func_sub), params))
    outputs, _ = regroup(result[:num_out_data], out_fmt)
    final, _ = regroup(result[num_out_data:], var_fmt)
    return outputs, final


def cond(pred, then_func, else_func, name="cond"):
    """The symbolic if: `then_func()` or `else_func()` by the scalar symbol `pred`, traced into a `_cond` node."""
    traced = []
    for suffix, fn in (("_pred", lambda: pred), ("_then", then_func), ("_else", else_func)):
        sub_name = _unique_subgraph_name(name + suffix)
        with attribute.AttrScope(__subgraph_name__=sub_name):
            flat, fmt = _flatten(fn(), "cond outputs")
            _check_symbols(flat, "the outputs of %s" % suffix[1:])
            heads = _subgraph_outputs(flat, sub_name)
        traced.append((_cut(heads, sub_name), len(flat), fmt))
    if traced[0][1] != 1:
        raise ValueError("pred should always be a single output")
    if traced[1][1] != traced[2][1]:
        raise ValueError("Number of outputs differs between then-branch and else-branch (%d and %d)"
                         % (traced[1][1], traced[2][1]))
    inputs, (cond_locs, then_locs, else_locs) = _union_inputs([t[0] for t in traced], {}, True)
    params = dict(cond_input_locs=cond_locs, then_input_locs=then_locs, else_input_locs=else_locs,
                  num_outputs=traced[1][1])
    result = list(_make_node("_cond", inputs, tuple(t[0][0] for t in traced), params))
    outputs, _ = regroup(result, traced[1][2])
    return outputs


def attach(contrib):
    """Put the three functions on the generated `mx.sym.contrib` module."""
    for fn in (foreach, while_loop, cond):
        setattr(contrib, fn.__name__, fn)
