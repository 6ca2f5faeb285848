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

    Attributes: `nodes` (list of Node), `nid` (id(node) -> nid), `inputs[nid]` (list of eids), `node_row_ptr`,
    `heads` (eids), `head_entries` (the Entries given), `arg_nodes` (nids of variables), `aux_nodes` (nids of
    variables used as mutated inputs), `num_entries`.

    `graph.extended(more_heads)` equals `IndexedGraph(graph.head_entries + more_heads)` (the walk from the first
    heads is unchanged, so the new nodes come after the old ones) without walking the old nodes again: the gradient
    pass extends the forward graph this way."""

    builds = 0      # IndexedGraphs built or extended in this process: tests count them per bind

    def __init__(self, heads, _prefix=None):
        IndexedGraph.builds += 1
        self.head_entries = heads = list(heads)
        if _prefix is None:
            self.nodes, self.nid, self.node_row_ptr = [], {}, [0]
            self.inputs, self.arg_nodes, self._mutated = [], [], set()
        else:
            p = _prefix
            self.nodes, self.nid, self.node_row_ptr = list(p.nodes), dict(p.nid), list(p.node_row_ptr)
            self.inputs, self.arg_nodes, self._mutated = list(p.inputs), list(p.arg_nodes), set(p._mutated)
        self._append(_post_order([h.node for h in heads], self.nid))
        self.heads = [self.eid(h) for h in heads]
        mutated = self._mutated
        self.aux_nodes = [i for i in self.arg_nodes if id(self.nodes[i]) in mutated] if mutated else []

    def extended(self, more_heads):
        """`IndexedGraph(self.head_entries + more_heads)`, built on this graph's walk."""
        return IndexedGraph(self.head_entries + list(more_heads), _prefix=self)

    def _append(self, new_nodes):
        """Number `new_nodes` (a post-order continuing the current one) after the nodes already held."""
        nodes, nid_of, row, inputs = self.nodes, self.nid, self.node_row_ptr, self.inputs
        arg_nodes, mutated = self.arg_nodes, self._mutated
        end = row[-1]
        for nid, node in enumerate(new_nodes, len(nodes)):
            nid_of[id(node)] = nid
            op = node.op
            if op is None:
                arg_nodes.append(nid)
                end += 1
            else:
                outputs = op.outputs
                end += node.num_outputs() if callable(outputs) else len(outputs)
                if op.aux:          # an op with aux states (BatchNorm): the variables at those inputs are aux
                    for pos in node.aux_positions():
                        mutated.add(id(node.inputs[pos].node))
            inputs.append([row[nid_of[id(e.node)]] + e.index for e in node.inputs])
            row.append(end)
        nodes.extend(new_nodes)
        self.num_entries = end

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


def _post_order(roots, known=()):
    """Nodes reachable from `roots`, each once, inputs before users (NNVM's DFSVisit order); the walk stops at the
    nodes whose ids are in `known` (nodes numbered already)."""
    order, seen = [], set(known)
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root.inputs))]     # per node on the path: its inputs not visited yet
        while stack:        # iterative, so deep graphs do not hit the recursion limit
            node, inputs = stack[-1]
            for entry in inputs:
                child = entry.node
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, iter(child.inputs)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order
