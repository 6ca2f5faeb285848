"""Which registry op runs each numpy-mode name: the one table the Symbol side (`mx.sym.np`, `mx.sym.npx`), the
array side (`mx.npx`) and the loader of MXNet's numpy-mode JSON read.

MXNet 1.9.1 registers its numpy operators under names of their own (`_npi_add`, `_np_sum`, `_npx_relu`) and writes
those names into the JSON a numpy-mode block exports (tests/fixtures/mxnet-1.9.1/numpy_sym/npfn-symbol.json). Here
each is one of the registry's ops (`legacy_node` rewrites such a node's op name and attributes when a graph is read,
hooked into `dataflow/symbol/graph_json.py`) or, where NumPy's broadcasting needs several (`EXPANDED`), the graph
`mx.sym.np` builds for it, spliced in; so the rest of the project only ever sees registry ops.
"""
from ops.errors import GraphError

from ..ndarray.ndarray import _ARITHMETIC

# npx function -> registry op. MXNet's npx functions are its legacy operators under new names, with the same params
# (in 1.9.1 `npx.fully_connected` writes a `FullyConnected` node), so both front ends are generated from the op.
NPX_OPS = {
    "activation": "Activation", "batch_norm": "BatchNorm", "convolution": "Convolution",
    "deconvolution": "Deconvolution", "pooling": "Pooling", "fully_connected": "FullyConnected",
    "embedding": "Embedding", "dropout": "Dropout", "one_hot": "one_hot", "pick": "pick", "topk": "topk",
    "sequence_mask": "SequenceMask", "softmax": "softmax", "log_softmax": "log_softmax", "relu": "relu",
    "sigmoid": "sigmoid", "leaky_relu": "LeakyReLU", "layer_norm": "LayerNorm", "batch_flatten": "Flatten",
    "batch_dot": "batch_dot", "erf": "erf", "erfinv": "erfinv", "gamma": "gamma", "gammaln": "gammaln",
    "smooth_l1": "smooth_l1", "gather_nd": "gather_nd", "arange_like": "_contrib_arange_like",
    "reshape_like": "reshape_like", "shape_array": "shape_array", "slice": "slice", "rnn": "RNN",
    "roi_pooling": "ROIPooling", "cast": "Cast", "multibox_prior": "_contrib_MultiBoxPrior",
    "multibox_detection": "_contrib_MultiBoxDetection", "multibox_target": "_contrib_MultiBoxTarget",
}

# np functions that are one element-wise registry op of the same name (`np.exp` runs `exp`)
UNARY = ("exp", "log", "sqrt", "square", "abs", "tanh", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh",
         "cosh", "arcsinh", "arccosh", "arctanh", "negative", "sign", "floor", "ceil", "log1p", "expm1", "log2",
         "log10", "reciprocal", "trunc", "rint", "fix", "cbrt", "logical_not", "degrees", "radians")
UNARY_ALIASES = {"absolute": "abs", "rad2deg": "degrees", "deg2rad": "radians"}

# np binary function -> the dunder of NDArray's operator table (`ndarray.ndarray._ARITHMETIC`), whose rows say the
# array-array, array-scalar and scalar-array ops
BINARY = {"add": "add", "subtract": "sub", "multiply": "mul", "divide": "truediv", "true_divide": "truediv",
          "power": "pow", "mod": "mod", "remainder": "mod", "equal": "eq", "not_equal": "ne", "greater": "gt",
          "greater_equal": "ge", "less": "lt", "less_equal": "le"}
# operators between two arrays that run MXNet's numpy ops (ops/numpy_ops.py: NumPy's broadcasting, mixed dtypes
# promoted as MXNet's numpy mode); by dunder. Their names in MXNet's JSON are these ops' own.
NUMPY_ARITHMETIC = {"add": "_npi_add", "sub": "_npi_subtract", "mul": "_npi_multiply", "truediv": "_npi_true_divide",
                    "mod": "_npi_mod", "pow": "_npi_power"}
# comparisons between two arrays (operands of one dtype, bool included, as MXNet's; a bool result); by dunder
NUMPY_COMPARISONS = {"eq": "_npi_equal", "ne": "_npi_not_equal", "gt": "_npi_greater", "ge": "_npi_greater_equal",
                     "lt": "_npi_less", "le": "_npi_less_equal"}
# MXNet's numpy ops the registry has under their own names: its JSON's nodes of them are read unchanged
NUMPY_OPS = frozenset(NUMPY_ARITHMETIC.values()) | frozenset(NUMPY_COMPARISONS.values()) | {
    "_npi_true_divide_scalar", "_npi_rtrue_divide_scalar", "_np_dot", "_npi_tensordot", "_npi_tensordot_int_axes",
    "_np_sum", "_npi_mean", "_np_max", "_np_min", "_np_prod", "_np_squeeze", "_npi_matmul", "_npi_bitwise_not",
    "_npi_bitwise_and", "_npi_bitwise_or", "_npi_bitwise_xor", "_npi_lcm", "_npi_var", "_npi_std"}
# binary functions outside that table: (array-array op, array-scalar op); both commute
EXTREMA = {"maximum": ("broadcast_maximum", "_maximum_scalar"), "minimum": ("broadcast_minimum", "_minimum_scalar")}

# np reductions: function -> registry op (ops/numpy_reductions.py: NumPy's shapes, () for every axis; all take axis,
# keepdims, dtype and initial)
REDUCTIONS = {"sum": "_np_sum", "mean": "_npi_mean", "max": "_np_max", "min": "_np_min", "prod": "_np_prod",
              "amax": "_np_max", "amin": "_np_min"}


# -- MXNet's numpy-mode op names, as its JSON has them ----------------------------------------------------------------
def _mxnet_names():
    """MXNet name -> (registry op, attribute rewrite or None)."""
    names = {"_npx_relu": ("relu", None), "_npx_sigmoid": ("sigmoid", None),
             "_np_copy": ("_copy", None), "_npi_absolute": ("abs", None),
             "_np_reshape": ("Reshape", _np_reshape),
             "_np_transpose": ("transpose", _np_transpose), "_npi_concatenate": ("Concat", _concatenate),
             "_npi_stack": ("stack", None),
             "_npi_argmax": ("argmax", _drop_none), "_npi_argmin": ("argmin", _drop_none)}
    for name in UNARY:
        names["_npi_" + name] = (name, None)
    operators = {dunder: ops for dunder, *ops in _ARITHMETIC}     # NDArray's table: array, scalar, reflected op
    binary_ops = {name: operators[dunder] for name, dunder in BINARY.items()}
    binary_ops.update({name: (array_op, scalar_op, None) for name, (array_op, scalar_op) in EXTREMA.items()})
    for name, (array_op, scalar_op, rscalar_op) in binary_ops.items():
        names["_npi_" + name] = (array_op, None)
        names["_npi_%s_scalar" % name] = (scalar_op, None)
        if rscalar_op is not None and rscalar_op != scalar_op:
            names["_npi_r%s_scalar" % name] = (rscalar_op, None)
    for name, op in REDUCTIONS.items():
        names["_np_" + name] = names["_npi_" + name] = (op, None)
    return {name: mapped for name, mapped in names.items() if name not in EXPANDED and name not in NUMPY_OPS}


def _drop_none(attrs):
    """MXNet writes an unset optional as "None"; the registry's ops leave it out."""
    return {k: v for k, v in attrs.items() if v != "None"}


def _np_reshape(attrs):
    shape = attrs.get("newshape", "()")
    if any(d.strip() == "0" for d in shape.strip("()[] ").split(",")):
        raise ValueError("a zero-size dimension in newshape %s" % shape)
    return {"shape": shape}


def _np_transpose(attrs):
    axes = attrs.get("axes", "None")
    return {} if axes == "None" else {"axes": axes}


def _concatenate(attrs):
    return {"dim": attrs.get("axis", "0"), "num_args": attrs["num_args"]}


# MXNet's numpy comparisons with a number give bool where the registry's (legacy) scalar comparisons give their
# input's dtype: a bool Cast follows each when its graph is read
BOOL_RESULTS = frozenset("_npi_%s_scalar" % name for name, dunder in BINARY.items() if dunder in NUMPY_COMPARISONS)


# MXNet numpy ops that are no one registry op (NumPy's broadcasting): read as the graph the `mx.sym.np` function
# builds (dataflow/symbol/numpy.py) from its inputs and the node's attributes.
def _where_number(position):
    def build(np_sym, attrs, condition, array):
        number = float(attrs["scalar"])
        number = int(number) if number.is_integer() else number      # fills an integer array as well
        return np_sym.where(condition, *((number, array) if position == 0 else (array, number)))
    return build


def _norm(np_sym, attrs, x):
    axis = attrs.get("axis", "None")
    axis = None if axis == "None" else tuple(int(a) for a in axis.strip("()[] ").split(",") if a.strip())
    order = attrs.get("ord", "None")
    order = None if order == "None" else float(order)
    if axis is None and order not in (None, 2.0):
        raise NotImplementedError("ord=%s needs an axis" % order)
    return np_sym.linalg.norm(x, ord=2 if order == 2.0 and axis is None else order, axis=axis,
                              keepdims=attrs.get("keepdims", "False") in ("True", "1", "true"))


def _shape(text):
    return tuple(int(d) for d in text.strip("()[] ").split(",") if d.strip())


def _npx_reshape(np_sym, attrs, x):
    """npx.reshape's codes as mx.sym.npx.reshape builds them: a squeeze of the axes -3 drops, then a `Reshape`."""
    from ..symbol.numpy_extension import reshape
    reverse = attrs.get("reverse", "False") in ("True", "1", "true")
    return reshape(x, _shape(attrs.get("newshape", "()")), reverse=reverse)


EXPANDED = {"_npi_where": lambda np_sym, attrs, c, x, y: np_sym.where(c, x, y),
            "_npi_where_lscalar": _where_number(0), "_npi_where_rscalar": _where_number(1),
            "_npi_broadcast_to": lambda np_sym, attrs, x: np_sym.broadcast_to(x, _shape(attrs.get("shape", "()"))),
            "_npi_norm": _norm, "_npx_reshape": _npx_reshape}

MXNET_OPS = _mxnet_names()      # the nodes read as one registry op each


def legacy_graph(doc):
    """Rewrite, in place, the parsed JSON `doc` of a graph MXNet exported in numpy mode (its attrs hold
    `is_np_shape`) into the registry's terms: each node's op name and attributes (`legacy_node`), a bool `Cast` after
    each comparison, the ops of `EXPANDED` as the graphs mx.sym.np builds for them (`_splice`), and each declared
    variable shape's unknown dimensions, -1 there, as 0. Whatever is malformed is left for the reader to report."""
    nodes = doc.get("nodes")
    graphs = {}         # node id -> the graph that replaces it
    for nid, node in enumerate(nodes if isinstance(nodes, list) else ()):
        if not isinstance(node, dict) or not isinstance(node.get("op"), str) or not isinstance(node.get("attrs"),
                                                                                              (dict, type(None))):
            continue
        attrs = node.get("attrs") or {}
        where = "node %d (%s)" % (nid, node.get("name"))
        if node["op"] == "null":
            shape = attrs.get("__shape__")
            if isinstance(shape, str):
                attrs["__shape__"] = _np_unknown_dims(shape)
        elif node["op"] in EXPANDED and isinstance(node.get("inputs"), list):
            graphs[nid] = _expanded(node["op"], attrs, len(node["inputs"]), where)
        elif node["op"].startswith("_np"):
            comparison = node["op"] in BOOL_RESULTS
            node["op"], node["attrs"] = legacy_node(node["op"], attrs, where)
            if comparison and isinstance(node.get("inputs"), list):
                graphs[nid] = _bool_cast(node)
    if graphs:
        _splice(doc, graphs)


def _expanded(op_name, attrs, arity, where):
    """The parsed JSON of the graph `EXPANDED[op_name]` builds on variables `__input<k>`."""
    import json

    from ..symbol import numpy as np_sym         # the Symbol side is built on this table: imported when needed
    from ..symbol.symbol import var
    inputs = [np_sym.as_np_symbol(var("__input%d" % k)) for k in range(arity)]
    attrs = {k: v for k, v in attrs.items() if not k.startswith("__")}
    try:
        return json.loads(EXPANDED[op_name](np_sym, attrs, *inputs).tojson())
    except (ValueError, TypeError, KeyError, NotImplementedError) as err:
        raise GraphError("Cannot load symbol: %s (MXNet's %s) cannot be run: %s" % (where, op_name, err)) from None


def _bool_cast(node):
    """The graph of `node` (a registry comparison) followed by a Cast to bool, on variables `__input<k>`."""
    arity = len(node["inputs"])
    nodes = [{"op": "null", "name": "__input%d" % k, "inputs": []} for k in range(arity)]
    nodes.append({"op": node["op"], "name": "value", "attrs": node.get("attrs") or {},
                  "inputs": [[k, 0, 0] for k in range(arity)]})
    nodes.append({"op": "Cast", "name": "bool", "attrs": {"dtype": "bool"}, "inputs": [[arity, 0, 0]]})
    return {"nodes": nodes, "heads": [[arity + 1, 0, 0]]}


def _renumbered(entries, where):
    if not isinstance(entries, list):
        return entries
    return [[where[e[0]]] + e[1:] if isinstance(e, list) and e and isinstance(e[0], int) and e[0] in where else e
            for e in entries]


def _splice(doc, graphs):
    """Replace each node `nid` of `graphs` by the nodes of graphs[nid] (a parsed graph JSON of one head, whose
    variables `__input<k>` stand for the node's k-th input); the head takes the node's name, the other nodes it
    as a prefix, and the nodes after move on (their inputs, `arg_nodes`, `heads` renumbered; `node_row_ptr`,
    which no reader needs, dropped)."""
    nodes, moved = [], {}           # old id -> new id of the node (of its graph's head)
    for nid, node in enumerate(doc["nodes"]):
        if isinstance(node, dict):
            node["inputs"] = _renumbered(node.get("inputs"), moved)
        if nid in graphs:
            node = _splice_one(nodes, node, graphs[nid])
        moved[nid] = len(nodes)
        nodes.append(node)
    doc["nodes"] = nodes
    doc["heads"] = _renumbered(doc.get("heads"), moved)
    if isinstance(doc.get("arg_nodes"), list):
        doc["arg_nodes"] = [moved.get(a, a) if isinstance(a, int) else a for a in doc["arg_nodes"]]
    doc.pop("node_row_ptr", None)


def _splice_one(nodes, node, graph):
    """Append the nodes of `graph` but its head to `nodes`, and return its head, reading the same."""
    (head, index, _), = graph["heads"]
    if index != 0:
        raise GraphError("Cannot load symbol: the graph for %s has a head of output %d" % (node.get("name"), index))
    read, ids = {}, {}      # graph node id -> the entry its variable stands for / its id in `nodes`
    for k, part in enumerate(graph["nodes"]):
        if part["op"] == "null" and part["name"].startswith("__input"):
            read[k] = node["inputs"][int(part["name"][len("__input"):])]
            continue
        part["inputs"] = [read[e[0]] if e[0] in read else [ids[e[0]]] + e[1:] for e in part["inputs"]]
        if k == head:
            part["name"] = node.get("name")
            return part
        part["name"] = "%s_%s" % (node.get("name"), part["name"])
        ids[k] = len(nodes)
        nodes.append(part)
    raise GraphError("Cannot load symbol: the graph for %s does not end in its head" % node.get("name"))


def _np_unknown_dims(shape):
    """A declared shape with NumPy shape semantics' unknown dimension (-1) written as the legacy unknown (0)."""
    try:
        dims = [int(d) for d in shape.strip("()[] ").split(",") if d.strip()]
    except ValueError:
        return shape
    return str(tuple(0 if d == -1 else d for d in dims)) if -1 in dims else shape


def legacy_node(op_name, attrs, where=""):
    """(registry op name, attributes) for a node MXNet wrote as `op_name`; other names pass through unchanged.
    A numpy-mode op this project cannot express is a GraphError naming it."""
    mapped = MXNET_OPS.get(op_name)
    if mapped is None:
        return op_name, attrs
    op, rewrite = mapped
    if rewrite is None:
        return op, attrs
    hidden = {k: v for k, v in attrs.items() if k.startswith("__")}     # __shape__ ... stay node attributes
    try:
        return op, dict(rewrite({k: v for k, v in attrs.items() if k not in hidden}), **hidden)
    except (ValueError, NotImplementedError) as err:
        raise GraphError("Cannot load symbol: %s (MXNet's %s) cannot be run as %s: %s" % (where, op_name, op, err)) \
            from None
