"""The graph: nodes, entries, and the IndexedGraph every pass works on.

A `Node` is an op applied to input entries, or a variable (`op is None`). An `Entry` names one output of a node,
`(node, index)`, plus the `version` MXNet writes for mutated (aux) inputs. A Symbol is a list of entries.

`IndexedGraph(heads)` numbers what the heads need, in NNVM's order: a depth-first post-order walk from each head in
turn, inputs visited left to right. Node ids (nid) follow that order; entry ids (eid) number every output of every
node, `node_row_ptr[nid] + index`, as in MXNet's JSON. Passes take an IndexedGraph and return frozen results; they
never mutate it.
"""
from typing import NamedTuple


class Node:
    """An op applied to inputs, or a variable when `op` is None.

    `attrs` holds every attribute as MXNet's strings (op params as given by the user, and `__x__` node attributes
    such as `__shape__`); `params` holds the op's parsed params, defaults included."""
    __slots__ = ("op", "name", "attrs", "params", "inputs", "version", "recorded", "__weakref__")

    def __init__(self, op, name, attrs=None, params=None, inputs=()):
        self.op = op
        self.name = name
        self.attrs = dict(attrs or {})
        self.params = params
        self.inputs = list(inputs)
        self.version = 0    # a variable's version: bumped each time an op mutates it (MXNet writes it in JSON)
        self.recorded = None    # autograd: the values this node computed while recording (dataflow/autograd.py)

    @property
    def is_variable(self):
        return self.op is None

    def num_outputs(self):
        return 1 if self.op is None else self.op.num_outputs(self.params)

    def num_visible_outputs(self):
        return 1 if self.op is None else self.op.visible_outputs(self.params)

    def output_name(self, index):
        """MXNet's name of one output: the variable's name, or `<node>_<output>` (`fc1_output`)."""
        if self.op is None:
            return self.name
        return "%s_%s" % (self.name, self.op.output_names(self.params)[index])

    def input_names(self):
        return [] if self.op is None else self.op.input_names(self.params)

    def aux_positions(self):
        """Input positions that are mutated (aux states), e.g. BatchNorm's moving mean and variance."""
        if self.op is None:
            return range(0)
        n_args = len(self.op.argument_names(self.params))
        return range(n_args, n_args + len(self.op.aux_names(self.params)))

    def __repr__(self):
        return "<Node %s %s>" % (self.op.name if self.op else "variable", self.name)


class Entry(NamedTuple):
    """One output of a node."""
    node: Node
    index: int = 0
    version: int = 0


class IndexedGraph:
    """The nodes reachable from `heads`, numbered in DFS post-order, with entry ids.

    Attributes: `nodes` (list of Node), `inputs[nid]` (list of eids), `node_row_ptr`, `heads` (eids),
    `arg_nodes` (nids of variables), `aux_nodes` (nids of variables used as mutated inputs), `num_entries`."""

    def __init__(self, heads):
        heads = list(heads)
        self.nodes = _post_order([h.node for h in heads])
        self.nid = {id(node): i for i, node in enumerate(self.nodes)}
        self.node_row_ptr = [0]
        for node in self.nodes:
            self.node_row_ptr.append(self.node_row_ptr[-1] + node.num_outputs())
        self.num_entries = self.node_row_ptr[-1]
        self.inputs = [[self.eid(e) for e in node.inputs] for node in self.nodes]
        self.heads = [self.eid(h) for h in heads]
        self.arg_nodes = [i for i, node in enumerate(self.nodes) if node.is_variable]
        mutated = {id(node.inputs[pos].node) for node in self.nodes for pos in node.aux_positions()}
        self.aux_nodes = [i for i in self.arg_nodes if id(self.nodes[i]) in mutated]

    def eid(self, entry):
        return self.node_row_ptr[self.nid[id(entry.node)]] + entry.index

    def entry_node(self, eid):
        """The (nid, output index) of an entry id."""
        lo, hi = 0, len(self.nodes)
        while hi - lo > 1:      # binary search in node_row_ptr
            mid = (lo + hi) // 2
            if self.node_row_ptr[mid] <= eid:
                lo = mid
            else:
                hi = mid
        return lo, eid - self.node_row_ptr[lo]

    def entry_name(self, eid):
        nid, index = self.entry_node(eid)
        return self.nodes[nid].output_name(index)

    @property
    def argument_nodes(self):
        """Variables that are not aux states, in order: `list_arguments`."""
        aux = set(self.aux_nodes)
        return [i for i in self.arg_nodes if i not in aux]

    def __len__(self):
        return len(self.nodes)


def _post_order(roots):
    """Nodes reachable from `roots`, each once, inputs before users (NNVM's DFSVisit order)."""
    order, seen = [], set()
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, 0)]
        while stack:        # iterative, so deep graphs do not hit the recursion limit
            node, i = stack.pop()
            if i < len(node.inputs):
                stack.append((node, i + 1))
                child = node.inputs[i].node
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, 0))
            else:
                order.append(node)
    return order
