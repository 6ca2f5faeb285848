"""`mx.viz`: draw a Symbol as MXNet draws it (`plot_network`), print its layer table (`print_summary`),
and draw the memory plan of a bound graph (`plot_memory`, not in MXNet).

plot_network: one graphviz node per op and per data input, in graph order; variables that look like
parameters (`fc1_weight`, `bn_moving_var`: `_looks_like_weight`) are hidden. Labels, colours and the default
node attributes are MXNet 1.9.1's, so `dot.source` equals the `.gv` text MXNet writes for the same symbol.
Edges point from a consumer back to its producer (`dir=back`) and, given input shapes, are labelled with the
producer's shape without the batch axis (`3x28x28`; "" for a 1-d entry such as a label).

print_summary: MXNet's fixed-width table (layer and op, output shape, parameters, previous layers) and the
total. Parameter counts are the sizes of each layer's parameter variables from shape inference, so the total
equals what `infer_shape` gives; MXNet's own arithmetic agrees for the layers it knows (Convolution,
FullyConnected, BatchNorm, Embedding). Note [variables in print_summary] says which variables show as layers.

plot_memory: binds the symbol (`simple_bind`, with gradients when `training`) and colours each node by the
storage buffer (sid) the memory planner gave its output, so nodes of one colour reuse one buffer; the title
states the planned and naive bytes of `Executor.memory_stats()`.

Rendering (`dot.render`, `dot.pipe`, `dot.view`) needs Graphviz's `dot` program; without it the returned graph
raises `GraphvizNotFound`, which says how to install it. The `.source` text never needs it.
"""
import colorsys
import contextlib
import re
import warnings

import graphviz
import numpy as np

from ops.errors import DTypeError, MXNetError, ShapeError

from scheduler.graph import IndexedGraph
from scheduler.infer import apply_rule, infer_dtypes, infer_shapes
from scheduler.memory import EXTERNAL

from .context import cpu
from .symbol import Symbol

__all__ = ["Digraph", "GraphvizNotFound", "plot_memory", "plot_network", "print_summary"]


class GraphvizNotFound(MXNetError, graphviz.ExecutableNotFound):
    """Rendering needs Graphviz's `dot` program and it is not on PATH."""

    def __init__(self, message):        # graphviz.ExecutableNotFound formats its own message from a command
        RuntimeError.__init__(self, message)


_INSTALL_HINT = ("rendering a graph needs Graphviz's `dot` program, which is not on PATH. Install it with "
                 "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) or "
                 "`conda install graphviz`; the graph's text is in `.source` without it")


@contextlib.contextmanager
def _dot_required():
    try:
        yield
    except graphviz.ExecutableNotFound as err:
        if isinstance(err, GraphvizNotFound):
            raise
        raise GraphvizNotFound("%s (graphviz: %s)" % (_INSTALL_HINT, err)) from err


class Digraph(graphviz.Digraph):
    """A `graphviz.Digraph` whose rendering explains how to install Graphviz when `dot` is missing."""

    def render(self, *args, **kwargs):
        with _dot_required():
            return super().render(*args, **kwargs)

    def pipe(self, *args, **kwargs):
        with _dot_required():
            return super().pipe(*args, **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# How MXNet draws a node
# ---------------------------------------------------------------------------------------------------------------

# MXNet's defaults; `node_attrs` is merged over them, then the fill colour (and an input's shape) is set.
_NODE_DEFAULTS = {"shape": "box", "fixedsize": "true", "width": "1.3", "height": "0.8034", "style": "filled"}
_INPUT_COLOUR = "#8dd3c7"
_OTHER_COLOUR = "#fccde5"

# MXNet hides a variable whose name ends with one of these when hide_weights is on.
_WEIGHT_SUFFIXES = ("_weight", "_bias", "_beta", "_gamma", "_moving_var", "_moving_mean", "_running_var",
                    "_running_mean")


def _numbers(text):
    """The integers of a shape attribute, as strings: "(7, 7)" -> ['7', '7']."""
    return re.findall(r"[-+]?\d+", text)


def _dims(attrs, key, missing):
    return "x".join(_numbers(attrs[key])) if key in attrs else missing


def _conv_label(node):
    a = node.attrs
    return "Convolution\n%s/%s, %s" % (_dims(a, "kernel", ""), _dims(a, "stride", "1"), a["num_filter"])


def _pool_label(node):
    a = node.attrs
    return "Pooling\n%s, %s/%s" % (a.get("pool_type", node.params.pool_type), _dims(a, "kernel", "[]"),
                                   _dims(a, "stride", "1"))


# op -> (fill colour, label from the node; None: the node's name). MXNet's table also colours "Softmax"
# ("#b3de69"), but that is an alias: a node's op is SoftmaxOutput, drawn in the default colour.
_OP_LOOK = {
    "Convolution": ("#fb8072", _conv_label),
    "FullyConnected": ("#fb8072", lambda node: "FullyConnected\n%s" % node.attrs["num_hidden"]),
    "Activation": ("#ffffb3", lambda node: "Activation\n%s" % node.attrs["act_type"]),
    "LeakyReLU": ("#ffffb3", lambda node: "LeakyReLU\n%s" % node.attrs.get("act_type", "Leaky")),
    "BatchNorm": ("#bebada", None),
    "Pooling": ("#80b1d3", _pool_label),
    "Concat": ("#fdb462", None),
    "Flatten": ("#fdb462", None),
    "Reshape": ("#fdb462", None),
    "Custom": (_OTHER_COLOUR, lambda node: node.attrs["op_type"]),
}

# Ops of which MXNet draws only the first inputs (the rest are settings, not data).
_DRAWN_INPUTS = {"_contrib_BilinearResize2D": 1}

def _looks_like_weight(name):
    return name.endswith(_WEIGHT_SUFFIXES)


def _shape_label(shape):
    """A shape without its batch axis: (100, 3, 28, 28) -> '3x28x28'; (100,) -> ''."""
    return "x".join(str(d) for d in shape[1:])


# ---------------------------------------------------------------------------------------------------------------
# Shared steps
# ---------------------------------------------------------------------------------------------------------------

def _check_symbol(symbol):
    if not isinstance(symbol, Symbol):
        raise TypeError("symbol must be a Symbol, got %s" % type(symbol).__name__)


def _infer(symbol, graph, shape, dtype):
    """Per-entry shapes and dtypes of `graph` (None where not asked for); incomplete inference raises."""
    shapes = dtypes = None
    if shape is not None:
        internals = symbol.get_internals()
        if internals.infer_shape(**shape)[1] is None:
            partial = internals.infer_shape_partial(**shape)[1]
            unknown = [n for n, s in zip(internals.list_outputs(), partial) if not s or 0 in s]
            raise ShapeError("Input shape is incomplete: %s does not decide the shapes of %s"
                             % (shape, unknown))
        shapes = infer_shapes(graph, {k: tuple(v) for k, v in shape.items()}).values
    if dtype is not None:
        internals = symbol.get_internals()
        if internals.infer_type(**dtype)[1] is None:
            raise DTypeError("Input type is incomplete: %s does not decide every type" % (dtype,))
        dtypes = infer_dtypes(graph, dict(dtype)).values
    return shapes, dtypes


def _warn_repeated_names(graph):
    seen, repeated = set(), []
    for node in graph.nodes:
        if node.name in seen and node.name not in repeated:
            repeated.append(node.name)
        seen.add(node.name)
    if repeated:
        # MXNet's text (its order of the names is a set's; ours is the graph's)
        warnings.warn("There are multiple variables with the same name in your graph, this may result in cyclic "
                      "graph. Repeated names: " + ",".join(repeated), RuntimeWarning, stacklevel=3)


def _draw(graph, dot, node_attrs, hide_weights, edge_label, restyle=None):
    """Add MXNet's nodes and edges for `graph` to `dot`. `edge_label(eid)` labels the edges that carry an
    entry; `restyle(nid, label, attrs)` may change a node's attributes and returns its label."""
    base = dict(_NODE_DEFAULTS)
    base.update(node_attrs)
    hidden = set()
    for nid, node in enumerate(graph.nodes):
        attrs = dict(base)
        if node.is_variable:
            if _looks_like_weight(node.name):
                if hide_weights:
                    hidden.add(node.name)
                continue    # not declared: with hide_weights=False its edges still name it (a plain ellipse)
            label, attrs["shape"], attrs["fillcolor"] = node.name, "oval", _INPUT_COLOUR
        else:
            attrs["fillcolor"], labeler = _OP_LOOK.get(node.op.name, (_OTHER_COLOUR, None))
            label = labeler(node) if labeler else node.name
        if restyle is not None:
            label = restyle(nid, label, attrs)
        dot.node(node.name, label, **attrs)
    for nid, node in enumerate(graph.nodes):
        if node.is_variable:
            continue
        eids = graph.inputs[nid][:_DRAWN_INPUTS.get(node.op.name)]
        for eid in eids:
            source = graph.nodes[graph.entry_node(eid)[0]]
            if source.name not in hidden:
                dot.edge(node.name, source.name, label=edge_label(eid), arrowtail="open", dir="back")
    return dot


# ---------------------------------------------------------------------------------------------------------------
# plot_network
# ---------------------------------------------------------------------------------------------------------------

def plot_network(symbol, title="plot", save_format="pdf", shape=None, dtype=None, node_attrs={},
                 hide_weights=True):
    """Draw a symbol as a graphviz graph, as MXNet draws it.

    Parameters
    ----------
    symbol : Symbol
        The symbol to draw.
    title : str, optional
        The graph's name (the first line of its source, and the default file name when rendering).
    save_format : str, optional
        The format `render` writes: 'pdf', 'png', 'svg', 'jpg' ...
    shape : dict of str to tuple, optional
        Input shapes; when given, every edge is labelled with the shape its producer outputs, without the
        batch axis. Shape inference must then decide every shape.
    dtype : dict of str to numpy dtype, optional
        Input dtypes; when given, each edge label ends with the producer's dtype, e.g. `(float32)`.
    node_attrs : dict of str to str, optional
        Graphviz attributes for every node (`{"shape": "oval", "fixedsize": "false"}`), merged over MXNet's
        defaults. The fill colour is always the op's, and inputs are always ovals.
    hide_weights : bool, optional
        Hide the variables whose names end with `_weight`, `_bias`, `_gamma`, `_beta`, `_moving_mean`,
        `_moving_var`, `_running_mean` or `_running_var`, and their edges. With False they are not declared
        either (as in MXNet), so graphviz draws them as plain ellipses named by their edges.

    Returns
    -------
    Digraph
        A `graphviz.Digraph`: `.source` is the dot text; `.render()` draws it with Graphviz's `dot` program
        and raises `GraphvizNotFound`, saying how to install it, when that program is missing.

    Examples
    --------
    >>> import dataflow as mx
    >>> data = mx.sym.var('data')
    >>> fc = mx.sym.FullyConnected(data, num_hidden=128, name='fc1')
    >>> act = mx.sym.Activation(fc, act_type='relu', name='relu1')
    >>> dot = mx.viz.plot_network(act, shape={'data': (100, 200)})
    >>> print(dot.source)   # doctest: +NORMALIZE_WHITESPACE
    digraph plot {
        data [label=data fillcolor="#8dd3c7" fixedsize=true height=0.8034 shape=oval style=filled width=1.3]
        fc1 [label="FullyConnected
    128" fillcolor="#fb8072" fixedsize=true height=0.8034 shape=box style=filled width=1.3]
        relu1 [label="Activation
    relu" fillcolor="#ffffb3" fixedsize=true height=0.8034 shape=box style=filled width=1.3]
        fc1 -> data [label=200 arrowtail=open dir=back]
        relu1 -> fc1 [label=128 arrowtail=open dir=back]
    }

    Shapes that inference cannot decide are an error:

    >>> mx.viz.plot_network(act, shape={})
    Traceback (most recent call last):
    ...
    ops.errors.ShapeError: Input shape is incomplete: {} does not decide the shapes of ['data', \
'fc1_weight', 'fc1_bias', 'fc1_output', 'relu1_output']
    """
    _check_symbol(symbol)
    graph = IndexedGraph(symbol._outputs)
    shapes, dtypes = _infer(symbol, graph, shape, dtype)
    _warn_repeated_names(graph)

    def edge_label(eid):
        label = _shape_label(shapes[eid]) if shapes is not None else ""
        if dtypes is not None:
            label += "(%s)" % np.dtype(dtypes[eid]).name
        return label
    return _draw(graph, Digraph(name=title, format=save_format), node_attrs, hide_weights, edge_label)


# ---------------------------------------------------------------------------------------------------------------
# print_summary
# ---------------------------------------------------------------------------------------------------------------

# Note [variables in print_summary]
# MXNet's table has a row for every op and for node 0 (the first variable, normally the data), never for
# another variable. An op's "previous layers" are its op inputs plus the variables whose node id appears in
# the first head's [node id, output index, version] triple: in practice node 0 only. We reproduce both rules.
# Parameters are each layer's parameter variables (inputs named weight/bias/gamma/beta, or variables named
# like them; never aux states), counted at the first layer that uses them, so a shared weight counts once and
# the total equals the sum of their sizes from shape inference. Without `shape`, a layer counts the parameters
# its own attributes size (FullyConnected's bias of num_hidden, not BatchNorm's gamma, which its input sizes),
# as MXNet does.
_PARAM_INPUTS = ("weight", "bias", "gamma", "beta")


def print_summary(symbol, shape=None, line_length=120, positions=[.44, .64, .74, 1.]):
    """Print a table of the layers of a symbol: name and op, output shape, parameters, previous layers.

    Parameters
    ----------
    symbol : Symbol
        The symbol to summarize.
    shape : dict of str to tuple, optional
        Input shapes; when given, the table shows each layer's output shape (without the batch axis) and the
        parameter counts of every layer.
    line_length : int, optional
        Width of the table.
    positions : list of float or int, optional
        Right edges of the four columns: fractions of `line_length` when the last is at most 1, else columns.

    Examples
    --------
    >>> import dataflow as mx
    >>> fc = mx.sym.FullyConnected(mx.sym.var('data'), num_hidden=128, name='fc1')
    >>> mx.viz.print_summary(fc, shape={'data': (100, 200)}, line_length=80)
    ... # doctest: +NORMALIZE_WHITESPACE
    ________________________________________________________________________________
    Layer (type)                       Output Shape    Param # Previous Layer
    ================================================================================
    data(null)                         200             0
    ________________________________________________________________________________
    fc1(FullyConnected)                128             25728   data
    ================================================================================
    Total params: 25728
    ________________________________________________________________________________
    """
    _check_symbol(symbol)
    graph = IndexedGraph(symbol._outputs)
    shapes, _ = _infer(symbol, graph, shape, None)
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    names = {node.output_name(i): graph.node_row_ptr[nid] + i           # MXNet looks shapes up by output name
             for nid, node in enumerate(graph.nodes) for i in range(node.num_visible_outputs())}
    head_nid, head_index = graph.entry_node(graph.heads[0])
    shown_variables = {0, head_nid, head_index, symbol._outputs[0].version}   # see Note [variables in ...]
    aux = set(graph.aux_nodes)

    def row(fields):
        line = ""
        for field, end in zip(fields, positions):
            line = (line + str(field))[:end]
            line += " " * (end - len(line))
        print(line)

    def input_shapes(nid, node):
        if shapes is not None:
            return [shapes[eid] for eid in graph.inputs[nid]]
        if node.is_variable:
            return []
        return apply_rule(node, [None] * len(node.inputs), [None] * node.num_outputs(), "shape")[0]

    def out_shape(nid, node):
        key = node.name if node.is_variable else node.name + "_output"
        return _shape_label(shapes[names[key]]) if shapes is not None and key in names else ""

    print("_" * line_length)
    row(["Layer (type)", "Output Shape", "Param #", "Previous Layer"])
    print("=" * line_length)
    total, counted = 0, set()
    last = len(graph.nodes) - 1
    for nid, node in enumerate(graph.nodes):
        if node.is_variable and nid > 0:
            continue
        previous, params = [], 0
        for slot, eid, input_shape in zip(node.input_names(), graph.inputs[nid], input_shapes(nid, node)):
            src = graph.entry_node(eid)[0]
            source = graph.nodes[src]
            if not source.is_variable or src in shown_variables:
                previous.append(source.name)
            elif src not in aux and src not in counted and (slot in _PARAM_INPUTS or
                                                            _looks_like_weight(source.name)):
                counted.add(src)
                params += _size(input_shape)
        total += params
        layer = "%s(%s)" % (node.name, "null" if node.is_variable else node.op.name)
        row([layer, out_shape(nid, node), params, previous[0] if previous else ""])
        for name in previous[1:]:
            row(["", "", "", name])
        print(("=" if nid == last else "_") * line_length)
    print("Total params: %d" % total)
    print("_" * line_length)


def _size(shape):
    """Elements of a shape, 0 when it is not fully known."""
    if shape is None or 0 in shape:
        return 0
    return int(np.prod(shape, dtype=np.int64))


# ---------------------------------------------------------------------------------------------------------------
# plot_memory
# ---------------------------------------------------------------------------------------------------------------

_EXTERNAL_COLOUR = "#ffffff"
_GOLDEN = 0.618033988749895


def _sid_colour(sid):
    """A distinct fill colour per storage id: hues spread by the golden ratio, light enough for black text."""
    r, g, b = colorsys.hsv_to_rgb((sid * _GOLDEN) % 1.0, 0.45, 0.97)
    return "#%02x%02x%02x" % (round(r * 255), round(g * 255), round(b * 255))


def plot_memory(symbol, shape, dtype=None, training=False, title="memory", save_format="pdf", node_attrs={},
                hide_weights=True):
    """Draw the memory plan of a symbol: each node is coloured by the buffer (storage id) of its output.

    The symbol is bound as `simple_bind` binds it, on the CPU, with gradients (`grad_req='write'`) when
    `training`, so the plan covers the forward and backward nodes together exactly as the executor runs them,
    or without (`grad_req='null'`). Nodes of one colour share one buffer; an op's label ends with the sid of
    each output (`sid 2`; `sid 2 in place` when it overwrote an input; `external` for what the user's arrays
    hold: arguments, outputs and gradients). The title states the bytes of `Executor.memory_stats()`.

    Parameters
    ----------
    symbol : Symbol
        The symbol to plan.
    shape : dict of str to tuple
        Input shapes, as for `simple_bind`.
    dtype : dict of str to numpy dtype, optional
        Input dtypes (`type_dict` of `simple_bind`); float32 by default.
    training : bool, optional
        Plan the forward and backward graph together (needs every op's gradient).
    title, save_format, node_attrs, hide_weights
        As for `plot_network`, except that nodes grow to fit their labels (`fixedsize=false`) and edges are
        labelled with the full shape of the entry they carry.

    Returns
    -------
    Digraph
        The graph; `dot.memory_stats` holds the plan's {'naive', 'planned', 'lower_bound'} bytes.

    Examples
    --------
    >>> import dataflow as mx
    >>> x = mx.sym.var('x')
    >>> y = mx.sym.log(mx.sym.log(mx.sym.log(x, name='l1'), name='l2'), name='l3')
    >>> dot = mx.viz.plot_memory(y, shape={'x': (256, 256)})
    >>> dot.memory_stats
    {'naive': 524288, 'planned': 262144, 'lower_bound': 262144}
    >>> print(dot.graph_attr['label'])
    memory (inference): planned 262144 bytes in 1 buffer, naive 524288 bytes, lower bound 262144 bytes
    """
    _check_symbol(symbol)
    executor = symbol.simple_bind(cpu(), grad_req="write" if training else "null", type_dict=dtype, **shape)
    plan, stats = executor._plan, executor.memory_stats()
    graph, memory = plan.graph, plan.memory
    buffers = len(memory.storage_bytes)
    caption = "%s (%s): planned %d bytes in %d buffer%s, naive %d bytes, lower bound %d bytes" % (
        title, "training" if training else "inference", stats["planned"], buffers,
        "" if buffers == 1 else "s", stats["naive"], stats["lower_bound"])
    _warn_repeated_names(graph)

    def where(eid):
        sid = memory.storage_id[eid]
        if sid == EXTERNAL:
            return "external"
        return "sid %d%s" % (sid, " in place" if memory.inplace[eid] else "")

    def restyle(nid, label, attrs):
        first, stop = graph.node_row_ptr[nid], graph.node_row_ptr[nid + 1]
        sid = memory.storage_id[first]
        attrs["fillcolor"] = _EXTERNAL_COLOUR if sid == EXTERNAL else _sid_colour(sid)
        if graph.nodes[nid].is_variable:
            return label
        return "%s\n%s" % (label, ", ".join(where(e) for e in range(first, stop)))

    def edge_label(eid):
        array = plan.arrays[eid]
        return "x".join(str(d) for d in array.shape) if array is not None else ""
    dot = Digraph(name=title, format=save_format, graph_attr={"label": caption, "labelloc": "t"})
    _draw(graph, dot, {"fixedsize": "false", **node_attrs}, hide_weights, edge_label, restyle)
    dot.memory_stats = stats
    return dot
