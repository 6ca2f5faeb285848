"""MXNet's symbol JSON: write it byte for byte as MXNet 1.9.1 does, and read every variant MXNet wrote.

Format: `{"nodes": [{"op", "name", "attrs"?, "inputs": [[nid, index, version]]}], "arg_nodes", "node_row_ptr",
"heads", "attrs": {"mxnet_version": ["int", 10901]}}`, nodes in DFS post-order, `"null"` for variables, every
attribute a string with keys sorted. The layout follows dmlc's JSON writer: objects on several lines unless they hold
at most one key, arrays on several lines when they have more than ten items or hold objects, and `", "` between
items. Readers accept MXNet's older forms: two-element inputs, and the `"attr"`/`"param"` keys of attributes.
"""
import json

from ops import registry
from ops.errors import GraphError, MXNetError

from scheduler.graph import Entry, IndexedGraph, Node

MXNET_VERSION = 10901


# ---------------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------------

class _Writer:
    """dmlc::JSONWriter's layout: a stack of scopes, each single- or multi-line, each counting its items."""

    def __init__(self):
        self.parts = []
        self.scopes = []        # [multi_line, count]

    def _separator(self):
        scope = self.scopes[-1]
        if scope[1]:
            self.parts.append(", ")
        if scope[0]:
            self.parts.append("\n" + "  " * len(self.scopes))
        scope[1] += 1

    def begin(self, bracket, multi_line):
        self.parts.append(bracket)
        self.scopes.append([multi_line, 0])

    def end(self, bracket):
        multi_line, count = self.scopes.pop()
        if multi_line and count:
            self.parts.append("\n" + "  " * len(self.scopes))
        self.parts.append(bracket)

    def key(self, name):
        self._separator()
        self.parts.append(_quote(name) + ": ")

    def item(self):
        self._separator()

    def scalar(self, value):
        self.parts.append(_quote(value) if isinstance(value, str) else str(int(value)))

    def int_array(self, values, multi_line=None):
        self.begin("[", len(values) > 10 if multi_line is None else multi_line)
        for v in values:
            self.item()
            self.scalar(v)
        self.end("]")

    def entries(self, triples):
        self.begin("[", len(triples) > 10)
        for triple in triples:
            self.item()
            self.int_array(triple, multi_line=False)
        self.end("]")

    def str_map(self, mapping):
        self.begin("{", len(mapping) > 1)
        for k in sorted(mapping):
            self.key(k)
            self.scalar(mapping[k])
        self.end("}")


def _quote(text):
    return json.dumps(text, ensure_ascii=False)


def to_json(heads):
    """MXNet's JSON text for the graph of `heads` (a list of Entry)."""
    g = IndexedGraph(heads)
    w = _Writer()
    w.begin("{", True)
    w.key("nodes")
    w.begin("[", True)
    for node in g.nodes:
        w.item()
        w.begin("{", True)
        w.key("op")
        w.scalar(node.op.name if node.op else "null")
        w.key("name")
        w.scalar(node.name)
        if node.attrs:
            w.key("attrs")
            w.str_map(node.attrs)
        w.key("inputs")
        w.entries([(g.nid[id(e.node)], e.index, e.version) for e in node.inputs])
        w.end("}")
    w.end("]")
    w.key("arg_nodes")
    w.int_array(g.arg_nodes)
    w.key("node_row_ptr")
    w.int_array(g.node_row_ptr)
    w.key("heads")
    w.entries([(g.nid[id(h.node)], h.index, h.version) for h in heads])
    w.key("attrs")
    w.begin("{", False)
    w.key("mxnet_version")
    w.begin("[", False)
    w.item()
    w.scalar("int")
    w.item()
    w.scalar(MXNET_VERSION)
    w.end("]")
    w.end("}")
    w.end("}")
    return "".join(w.parts)


# ---------------------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------------------

def from_json(text):
    """The head entries of a graph read from MXNet's JSON text; every problem raises GraphError."""
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, TypeError) as err:
        raise GraphError("Cannot load symbol: the JSON is malformed or truncated (%s)" % err) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("nodes"), list):
        raise GraphError("Cannot load symbol: the JSON has no 'nodes' list")
    nodes = []
    for nid, spec in enumerate(doc["nodes"]):
        nodes.append(_read_node(nid, spec, nodes))
    heads = doc.get("heads")
    if not isinstance(heads, list) or not heads:
        raise GraphError("Cannot load symbol: the JSON has no 'heads'")
    return [_read_entry(h, nodes, len(nodes), "heads") for h in heads]


def _read_node(nid, spec, nodes):
    if not isinstance(spec, dict) or "op" not in spec or "name" not in spec:
        raise GraphError("Cannot load symbol: node %d must be an object with 'op' and 'name'" % nid)
    op_name, name = spec["op"], spec["name"]
    attrs = {}
    for key in ("param", "attr", "attrs"):     # oldest first: later keys win
        value = spec.get(key) or {}
        if not isinstance(value, dict):
            raise GraphError("Cannot load symbol: %r of node %d (%s) must be an object" % (key, nid, name))
        attrs.update({str(k): str(v) for k, v in value.items()})
    if op_name == "null":
        node = Node(None, name, attrs)
    else:
        if not registry.exists(op_name):
            raise GraphError("Cannot load symbol: node %d (%s) uses the unknown operator %r" % (nid, name, op_name))
        op = registry.get(op_name)
        try:
            params = op.parse_params(attrs, name)
        except MXNetError as err:
            raise GraphError("Cannot load symbol: node %d: %s" % (nid, err)) from None
        node = Node(op, name, attrs, params)
    inputs = spec.get("inputs", [])
    if not isinstance(inputs, list):
        raise GraphError("Cannot load symbol: 'inputs' of node %d (%s) must be a list" % (nid, name))
    node.inputs = [_read_entry(e, nodes, nid, "inputs of node %d (%s)" % (nid, name)) for e in inputs]
    if node.op is not None:
        expected = len(node.op.input_names(node.params))
        if len(node.inputs) != expected:
            raise GraphError("Cannot load symbol: node %d (%s, %s) has %d inputs, the operator takes %d (%s)"
                             % (nid, name, op_name, len(node.inputs), expected,
                                ", ".join(node.op.input_names(node.params))))
    return node


def _read_entry(triple, nodes, limit, where):
    if not (isinstance(triple, list) and len(triple) in (2, 3) and all(isinstance(v, int) for v in triple)):
        raise GraphError("Cannot load symbol: bad entry %r in %s (expected [node, index, version])"
                         % (triple, where))
    nid, index = triple[0], triple[1]
    version = triple[2] if len(triple) == 3 else 0
    if not 0 <= nid < limit:
        raise GraphError("Cannot load symbol: %s refers to node %d, which does not exist before it"
                         % (where, nid))
    node = nodes[nid]
    if not 0 <= index < node.num_outputs():
        raise GraphError("Cannot load symbol: %s refers to output %d of node %d (%s), which has %d"
                         % (where, index, nid, node.name, node.num_outputs()))
    if node.is_variable:
        node.version = max(node.version, version)
    return Entry(node, index, version)
