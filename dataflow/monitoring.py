"""Monitor callbacks: `Executor.set_monitor_callback` and `HybridBlock.register_op_hook` (MXNet's monitors).

A monitored graph is planned with every entry in its own buffer (no sharing, no in-place), so that once a pass
has run, each op's outputs (and, with `monitor_all`, its inputs) still hold the values that op saw. The callbacks
then run in the calling thread, after the pass, in execution order; they get NDArrays viewing those buffers
(MXNet hands raw handles; `mx.monitor.Monitor` wraps them as NDArrays). Names are MXNet's: `<node>_<output>`
(`fc1_output`) and, for inputs, `<node>_<input>` (`fc1_weight`), gradient ops as MXNet's `<node>_backward`
(monitored_entries); names are `str` here, not bytes.
"""
from .ndarray.ndarray import NDArray


# MXNet ops without FListInputNames: their inputs are reported as `<node>_input<i>` (checked: Activation)
_UNNAMED_INPUTS = {"Activation"}


def monitored_entries(graph, node_ids, monitor_all, report_variables=False):
    """[(name, op name, eid)] of the op nodes `node_ids` of `graph`, in order, named as MXNet names them.

    An op's outputs are `<node>_<output>`; with `monitor_all` its inputs come first, as `<node>_<input>`, each
    input that is a variable preceded by the variable's own name where `report_variables` (an Executor does so, a
    hybridized block's hook does not). The gradient op of a node F is MXNet's node `F_backward`, whose inputs and
    outputs have no names of their own: `F_backward_input<i>`, `F_backward_output` (or `_output<i>` for several)."""
    forward_names = {n.name for n in graph.nodes if not n.is_variable and not n.name.startswith("_backward_")}
    points = []
    for nid in node_ids:
        node = graph.nodes[nid]
        if node.is_variable:
            continue
        name, input_names, output_names = _mxnet_names(node, forward_names)
        if monitor_all:
            for input_name, entry, eid in zip(input_names, node.inputs, graph.inputs[nid]):
                if report_variables and entry.node.is_variable:
                    points.append((entry.node.name, node.op.name, eid))
                points.append(("%s_%s" % (name, input_name), node.op.name, eid))
        for output_name, eid in zip(output_names, range(graph.node_row_ptr[nid], graph.node_row_ptr[nid + 1])):
            points.append(("%s_%s" % (name, output_name), node.op.name, eid))
    return points


def _mxnet_names(node, forward_names):
    """(node name, input names, output names) as MXNet's monitor reports them."""
    n_in, n_out = len(node.inputs), node.num_outputs()
    forward = _forward_of(node, forward_names) if node.op.name.startswith("_backward_") else None
    if forward is not None:
        outputs = ["output"] if n_out == 1 else ["output%d" % i for i in range(n_out)]
        return forward + "_backward", ["input%d" % i for i in range(n_in)], outputs
    inputs = ["input%d" % i for i in range(n_in)] if node.op.name in _UNNAMED_INPUTS else node.input_names()
    return node.name, inputs, node.op.output_names(node.params)


def _forward_of(node, forward_names):
    """The forward node whose gradient rule made `node` (the gradient pass names it `_backward_<F>_...`)."""
    rest = node.name[len("_backward_"):]
    cut = len(rest)
    while cut > 0:
        if rest[:cut] in forward_names and rest[cut:cut + 1] in ("_", ""):
            return rest[:cut]
        cut = rest.rfind("_", 0, cut)
    return None


def own_buffers(graph, shapes, dtypes, bound, alloc):
    """Give every entry that `bound` (eid -> array) lacks its own array from `alloc(shape, dtype)`."""
    for eid in range(graph.num_entries):
        if eid not in bound:
            bound[eid] = alloc(shapes[eid], dtypes[eid])


def report(points, arrays, ctx, callback, with_op_name):
    """Call `callback(name, array)` (or `callback(name, op_name, array)`) for each point."""
    for name, op_name, eid in points:
        array = NDArray(arrays[eid], ctx=ctx)
        if with_op_name:
            callback(name, op_name, array)
        else:
            callback(name, array)
