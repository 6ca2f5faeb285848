"""Monitor callbacks: `Executor.set_monitor_callback` and `HybridBlock.register_op_hook` (MXNet's monitors).

A monitored graph is planned with every entry in its own buffer (no sharing, no in-place), so that once a pass
has run, each op's outputs (and, with `monitor_all`, its inputs) still hold the values that op saw. The callbacks
then run in the calling thread, after the pass, in execution order; they get NDArrays viewing those buffers
(MXNet hands raw handles; `mx.monitor.Monitor` wraps them as NDArrays). Names are MXNet's: `<node>_<output>`
(`fc1_output`) and, for inputs, `<node>_<input>` (`fc1_weight`); names are `str` here, not bytes.
"""
from .ndarray.ndarray import NDArray


def monitored_entries(graph, node_ids, monitor_all):
    """[(name, op name, eid)] of the op nodes `node_ids` of `graph`, in order."""
    points = []
    for nid in node_ids:
        node = graph.nodes[nid]
        if node.is_variable:
            continue
        if monitor_all:
            for input_name, eid in zip(node.input_names(), graph.inputs[nid]):
                points.append(("%s_%s" % (node.name, input_name), node.op.name, eid))
        for eid in range(graph.node_row_ptr[nid], graph.node_row_ptr[nid + 1]):
            points.append((graph.entry_name(eid), node.op.name, eid))
    return points


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
