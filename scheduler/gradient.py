"""The gradient pass: extend a graph with the nodes that compute gradients of its heads.

Needs: the head entries, the variable entries to differentiate (`wrt`), one head-gradient entry per head.
Gives: one gradient entry per `wrt` (None where no gradient flows), whose nodes reference the forward graph, so
`IndexedGraph(heads + gradients)` holds forward and backward together and one memory plan covers both.
Stages: 1. mark the nodes that lead to a `wrt` variable (only those need gradients). 2. walk the forward nodes in
reverse topological order; sum the gradients collected for each output (none -> None, one -> itself, many -> one
`add_n` node: NNVM's DefaultAggregateGradient), and ask the op's rule for its inputs' gradients (ops/autodiff.py).
3. aggregate the gradients collected for each `wrt` entry.
Leaves out: zero gradients — the caller decides what an absent gradient means (a zeros array for grad_req
'write'); loss ops ignore the head gradient in their rules, as MXNet's do.
Higher order: the gradient nodes are ordinary nodes, so the pass runs on a graph holding them too (autograd's
create_graph); a gradient reaching an op's hidden output (which only a first-order rule reads) is an error.
"""
from collections import defaultdict

from ops import autodiff
from ops.autodiff import Value
from ops.errors import MXNetError, in_operator

from .graph import Entry, IndexedGraph


def add_backward(heads, wrt, head_grads, graph=None):
    """Gradient entries of `heads` with respect to each entry in `wrt`, given the heads' gradients. `graph`: the
    IndexedGraph of `heads`, when the caller has it."""
    g = IndexedGraph(heads) if graph is None else graph
    nid_of = g.nid
    wrt_nids = {nid_of[id(e.node)] for e in wrt if id(e.node) in nid_of}
    needed = _leads_to(g, wrt_nids)
    collected = defaultdict(list)           # eid -> [Value]
    for head, head_grad in zip(heads, head_grads, strict=True):
        if head_grad is not None:
            collected[g.eid(head)].append(Value(head_grad))
    row, inputs = g.node_row_ptr, g.inputs
    with autodiff.naming("") as names:
        for nid in reversed(range(len(g.nodes))):
            node = g.nodes[nid]
            if node.op is None or nid not in needed:
                continue
            first, last = row[nid], row[nid + 1]
            if first not in collected if last - first == 1 else not any(e in collected for e in range(first, last)):
                continue        # no gradient reaches this node
            names.restart("_backward_%s_" % node.name)
            dys = [_aggregate(collected.pop(eid, None)) for eid in range(first, last)]
            if node.op.gradient is None:
                raise MXNetError(in_operator(node.op.name, node.name, "has no gradient; cannot differentiate "
                                             "through it (wrap it in BlockGrad to stop the gradient)"))
            if len(dys) > 1:
                _check_hidden(node, dys)
            ins = [Value(e) for e in node.inputs]
            outs = [Value(Entry(node, i)) for i in range(len(dys))]
            in_grads = node.op.gradient(node.params, ins, outs, dys)
            if len(in_grads) != len(node.inputs):
                raise MXNetError(in_operator(node.op.name, node.name, "gradient rule returned %d gradients for %d "
                                             "inputs" % (len(in_grads), len(node.inputs))))
            for entry, eid, grad in zip(node.inputs, inputs[nid], in_grads, strict=True):
                if grad is not None and nid_of[id(entry.node)] in needed:
                    collected[eid].append(grad)
    with autodiff.naming("_backward_sum_"):
        results = []
        for e in wrt:
            grad = _aggregate(collected.get(g.eid(e))) if id(e.node) in g.nid else None
            results.append(None if grad is None else grad.entry)
    return results


def _check_hidden(node, dys):
    """A gradient reaching a hidden output (Dropout's mask, L2Normalization's norm) comes only from a
    higher-order gradient whose first-order rule read that output; the op's rule takes no gradient for it, so
    going on would silently drop that path."""
    n_visible = node.num_visible_outputs()
    hidden = [k for k in range(n_visible, len(dys)) if dys[k] is not None]
    if hidden:
        names = node.op.output_names(node.params)
        raise MXNetError(in_operator(node.op.name, node.name, "cannot differentiate through its hidden output%s "
                                     "%s (a higher-order gradient reads it); not supported" % (
                                         "s" if len(hidden) > 1 else "", ", ".join(names[k] for k in hidden))))


def _leads_to(g, targets):
    """Node ids from which some node in `targets` is reachable (the targets included)."""
    needed, nid_of = set(targets), g.nid
    for nid, node in enumerate(g.nodes):       # inputs come before users: one forward sweep suffices
        for e in node.inputs:
            if nid_of[id(e.node)] in needed:
                needed.add(nid)
                break
    return needed


def _aggregate(values):
    """The sum of the gradients `values` (a list, or None for none): None, the one Value, or an add_n node."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return autodiff.apply("add_n", *values)
