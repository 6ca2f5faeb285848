"""MXNet's symbol JSON: write it byte for byte as MXNet 1.9.1 does, and read every variant MXNet wrote.

Format: `{"nodes": [{"op", "name", "attrs"?, "inputs": [[nid, index, version]]}], "arg_nodes", "node_row_ptr",
"heads", "attrs": {"mxnet_version": ["int", 10901]}}`, nodes in DFS post-order, `"null"` for variables, every
attribute a string with keys sorted. The layout follows dmlc's JSON writer: objects on several lines unless they hold
at most one key, arrays on several lines when they have more than ten items or hold objects, and `", "` between
items. Readers accept MXNet's older forms: two-element inputs, and the `"attr"`/`"param"` keys of attributes.
A control flow node (`_foreach`, `_while_loop`, `_cond`; ops/control_flow.py) also has a `"subgraphs"` list of graphs
in the same form (without the version attrs), read into its params' `Subgraph`s and checked against its locs at load.

The reader treats a file as hostile: every problem is a GraphError naming the node and the attribute, raised at
load rather than at bind (a variable's `__shape__`/`__dtype__`/`__lr_mult__` are parsed here), and nothing is built
from a count before the count is checked against the node's inputs, so reading is linear in the text's size.
"""
import json

import numpy as np

from ops import registry
from ops.control_flow import SUBGRAPHS, Subgraph, check_params
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
    w = _Writer()
    _write_graph(w, heads, top=True)
    return "".join(w.parts)


def _mxnet_row_ptr(g):
    """The graph's node_row_ptr as MXNet counts it: without the outputs only dataflow's ops have (RNN's reserve)."""
    if not any(node.op is not None and node.op.private_outputs for node in g.nodes):
        return g.node_row_ptr
    row = [0]
    for nid, node in enumerate(g.nodes):
        if node.op is not None and node.op.private_outputs:
            count = node.op.visible_outputs(node.params)
        else:
            count = g.node_row_ptr[nid + 1] - g.node_row_ptr[nid]
        row.append(row[-1] + count)
    return row


def _write_graph(w, heads, top):
    """One graph object; a control flow node's subgraphs (ops/control_flow.py) are written inside it, under the
    node's "subgraphs" key, as graphs without the version attrs (MXNet's layout)."""
    g = IndexedGraph(heads)
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
        subgraphs = getattr(node.params, SUBGRAPHS, ()) if node.op is not None else ()
        if subgraphs:
            w.key("subgraphs")
            w.begin("[", True)
            for sub in subgraphs:
                w.item()
                _write_graph(w, sub.outputs, top=False)
            w.end("]")
        w.end("}")
    w.end("]")
    w.key("arg_nodes")
    w.int_array(g.arg_nodes)
    w.key("node_row_ptr")
    w.int_array(_mxnet_row_ptr(g))
    w.key("heads")
    w.entries([(g.nid[id(h.node)], h.index, h.version) for h in heads])
    if top:
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


# ---------------------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------------------

_COUNT_PARAMS = ("num_outputs", "num_weights")      # params that set how many names an op builds
_MAX_COUNT = 1 << 16        # more outputs than this in one node is a corrupted file, not a model


def from_json(text):
    """The head entries of a graph read from MXNet's JSON text (str or UTF-8 bytes); every problem raises GraphError
    naming the node and the attribute. Reading is linear in the size of the text: counts are checked against the
    inputs that are there before any list is built, and declared shapes and dtypes are checked here, not at bind."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as err:
            raise GraphError("Cannot load symbol: the JSON is not UTF-8 text (%s at byte %d)"
                             % (err.reason, err.start)) from None
    try:
        doc = json.loads(text)
    except RecursionError:
        raise GraphError("Cannot load symbol: the JSON is nested too deeply") from None
    except (ValueError, TypeError) as err:      # JSONDecodeError, and integers of more than 4300 digits
        raise GraphError("Cannot load symbol: the JSON is malformed or truncated (%s)" % err) from None
    if isinstance(doc, dict) and isinstance(doc.get("attrs"), dict) and "is_np_shape" in doc["attrs"]:  # numpy mode
        from ..numpy._op_names import legacy_graph
        legacy_graph(doc)
    return _read_graph(doc, "")


_MAX_SUBGRAPH_DEPTH = 32    # loops in loops: MXNet's own models nest two or three


def _read_graph(doc, where, depth=0):
    """The head entries of one graph object; `where` names the enclosing node of a subgraph in errors."""
    if not isinstance(doc, dict) or not isinstance(doc.get("nodes"), list):
        raise GraphError("Cannot load symbol: the JSON%s has no 'nodes' list" % where)
    nodes = []
    for nid, spec in enumerate(doc["nodes"]):
        nodes.append(_read_node(nid, spec, nodes, depth))
    heads = doc.get("heads")
    if not isinstance(heads, list) or not heads:
        raise GraphError("Cannot load symbol: the JSON%s has no 'heads'" % where)
    return [_read_entry(h, nodes, len(nodes), "heads" + where) for h in heads]


def _read_subgraphs(nid, name, op, spec, depth):
    """The Subgraphs of a control flow node, from its "subgraphs" list (only ops taking them may have one)."""
    specs = spec.get("subgraphs")
    if specs is None:
        return ()
    if SUBGRAPHS not in op.params:
        raise GraphError("Cannot load symbol: node %d (%s, %s) has subgraphs, but the operator takes none"
                         % (nid, name, op.name))
    if not isinstance(specs, list):
        raise GraphError("Cannot load symbol: 'subgraphs' of node %d (%s) must be a list" % (nid, name))
    if depth >= _MAX_SUBGRAPH_DEPTH:
        raise GraphError("Cannot load symbol: subgraphs nested more than %d deep at node %d (%s)"
                         % (_MAX_SUBGRAPH_DEPTH, nid, name))
    return tuple(Subgraph(_read_graph(sub, " (subgraph %d of node %d, %s)" % (k, nid, name), depth + 1))
                 for k, sub in enumerate(specs))


def _read_attrs(nid, name, spec):
    attrs = {}
    for key in ("param", "attr", "attrs"):     # oldest first: later keys win
        value = spec.get(key) or {}
        if not isinstance(value, dict):
            raise GraphError("Cannot load symbol: %r of node %d (%s) must be an object" % (key, nid, name))
        for k, v in value.items():
            if isinstance(v, (dict, list)) or v is None:
                raise GraphError("Cannot load symbol: attribute %r of node %d (%s) must be a string, not %s"
                                 % (k, nid, name, type(v).__name__))
            attrs[k] = v if isinstance(v, str) else str(v)
    return attrs


def _read_node(nid, spec, nodes, depth=0):
    if not isinstance(spec, dict) or not isinstance(spec.get("op"), str) or not isinstance(spec.get("name"), str):
        raise GraphError("Cannot load symbol: node %d must be an object with the strings 'op' and 'name'" % nid)
    op_name, name = spec["op"], spec["name"]
    attrs = _read_attrs(nid, name, spec)
    inputs = spec.get("inputs", [])
    if not isinstance(inputs, list):
        raise GraphError("Cannot load symbol: 'inputs' of node %d (%s) must be a list" % (nid, name))
    if op_name == "null":
        if inputs:
            raise GraphError("Cannot load symbol: variable node %d (%s) has inputs" % (nid, name))
        _check_variable_attrs(nid, name, attrs)
        node = Node(None, name, attrs)
    else:
        if not registry.exists(op_name):
            raise GraphError("Cannot load symbol: node %d (%s) uses the unknown operator %r" % (nid, name, op_name))
        op = registry.get(op_name)
        subgraphs = _read_subgraphs(nid, name, op, spec, depth)
        try:
            params = op.parse_params(dict(attrs, **{SUBGRAPHS: subgraphs}) if subgraphs else attrs, name)
        except MXNetError as err:
            raise GraphError("Cannot load symbol: node %d: %s" % (nid, err)) from None
        _check_counts(nid, name, op, params, len(inputs))
        if SUBGRAPHS in op.params:
            try:
                check_params(op.name, params)
            except MXNetError as err:
                raise GraphError("Cannot load symbol: node %d (%s): %s" % (nid, name, err)) from None
        node = Node(op, name, attrs, params)
    node.inputs = [_read_entry(e, nodes, nid, "inputs of node %d (%s)" % (nid, name)) for e in inputs]
    if node.op is not None:
        names = _names_of(nid, node, node.input_names)
        if len(node.inputs) != len(names):
            raise GraphError("Cannot load symbol: node %d (%s, %s) has %d inputs, the operator takes %d (%s)"
                             % (nid, name, op_name, len(node.inputs), len(names), ", ".join(names)))
        _names_of(nid, node, node.num_outputs)
    return node


def _check_counts(nid, name, op, params, num_inputs):
    """A count param must fit the node before the op builds that many names (`num_args` "99999999999999999999")."""
    if op.variadic:
        count = getattr(params, op.variadic)
        num_aux = len(op.aux_names(params))
        if count != num_inputs - num_aux:
            raise GraphError("Cannot load symbol: node %d (%s, %s): %s=%d, but the node has %d inputs"
                             % (nid, name, op.name, op.variadic, count, num_inputs - num_aux))
    for key in _COUNT_PARAMS:
        count = getattr(params, key, None)
        if isinstance(count, int) and not 0 <= count <= max(_MAX_COUNT, num_inputs):
            raise GraphError("Cannot load symbol: node %d (%s, %s): %s=%d is not a plausible count (0 to %d)"
                             % (nid, name, op.name, key, count, _MAX_COUNT))


def _names_of(nid, node, method):
    """An op's input names or output count for a node's params; whatever the op's callable raises is the file's
    fault here, so it becomes a GraphError naming the node."""
    try:
        return method()
    except MXNetError as err:
        raise GraphError("Cannot load symbol: node %d: %s" % (nid, err)) from None
    except Exception as err:        # noqa: BLE001 - an op's name callable meeting params no user could pass
        raise GraphError("Cannot load symbol: node %d (%s, %s): its params do not describe a valid node (%s: %s)"
                         % (nid, node.name, node.op.name, type(err).__name__, err)) from None


def _check_variable_attrs(nid, name, attrs):
    """A variable's `__shape__`, `__dtype__`, `__lr_mult__` and `__wd_mult__` must parse, so that nothing fails
    later at bind or inference without the node's name."""
    where = "Cannot load symbol: attribute %%r of variable node %d (%s)" % (nid, name)
    text = attrs.get("__shape__")
    if text is not None:
        try:
            shape = registry.Shape().parse(text)
        except ValueError as err:
            raise GraphError((where + " is %r, not a shape: %s") % ("__shape__", text[:100], err)) from None
        if any(d < 0 for d in shape):
            raise GraphError((where + " is %r: a declared shape has no negative dimensions")
                             % ("__shape__", text[:100]))
    text = attrs.get("__dtype__")
    if text is not None and text != "-1" and variable_dtype(text) is None:
        raise GraphError((where + " is %r; expected -1 (unknown) or MXNet's dtype code, 0 to %d (%s)")
                         % ("__dtype__", text[:100], len(registry.DTYPES) - 1,
                            ", ".join("%d %s" % kv for kv in enumerate(registry.DTYPES))))
    for key in ("__lr_mult__", "__wd_mult__"):
        text = attrs.get(key)
        if text is not None:
            try:
                float(text)
            except ValueError:
                raise GraphError((where + " is %r, not a number") % (key, text[:100])) from None


def variable_dtype(text):
    """The numpy dtype a variable's `__dtype__` attribute declares as MXNet's integer code (0 float32, 1 float64,
    ...), or None: for "-1" (unknown) and for anything else, which `from_json` refuses at load (MXNet refuses dtype
    names there too)."""
    names = list(registry.DTYPES)
    if text.isdigit() and text.isascii() and len(text) < 4 and int(text) < len(names):
        return np.dtype(registry.DTYPES[names[int(text)]])
    return None


def _read_entry(triple, nodes, limit, where):
    if not (isinstance(triple, list) and len(triple) in (2, 3)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in triple)):
        raise GraphError("Cannot load symbol: bad entry %s in %s (expected [node, index, version])"
                         % (_brief(triple), where))
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


def _brief(value):
    """At most 100 characters of a value's JSON (a deeply nested value must not recurse in repr)."""
    try:
        text = json.dumps(value)
    except (RecursionError, ValueError):
        text = "<a nested %s>" % type(value).__name__
    return text if len(text) <= 100 else text[:97] + "..."
