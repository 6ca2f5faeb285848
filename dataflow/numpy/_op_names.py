"""Which registry op runs each numpy-mode name: the one table the Symbol side (`mx.sym.np`, `mx.sym.npx`), the
array side (`mx.npx`) and the loader of MXNet's numpy-mode JSON read.

MXNet 1.9.1 registers its numpy operators under names of their own (`_npi_add`, `_np_sum`, `_npx_relu`) and writes
those names into the JSON a numpy-mode block exports (tests/fixtures/mxnet-1.9.1/numpy_sym/npfn-symbol.json). Here
each is one of the registry's ops; `legacy_node` rewrites such a node's op name and attributes when a graph is
read (hooked into `dataflow/symbol/graph_json.py`), so the rest of the project only ever sees registry ops.
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
    "roi_pooling": "ROIPooling",
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
# binary functions outside that table: (array-array op, array-scalar op); both commute
EXTREMA = {"maximum": ("broadcast_maximum", "_maximum_scalar"), "minimum": ("broadcast_minimum", "_minimum_scalar")}

# np reductions: function -> registry op (all take axis and keepdims)
REDUCTIONS = {"sum": "sum", "mean": "mean", "max": "max", "min": "min", "prod": "prod", "amax": "max",
              "amin": "min"}


# -- MXNet's numpy-mode op names, as its JSON has them ----------------------------------------------------------------
def _mxnet_names():
    """MXNet name -> (registry op, attribute rewrite or None)."""
    names = {"_npx_relu": ("relu", None), "_npx_sigmoid": ("sigmoid", None), "_np_dot": ("dot", None),
             "_np_copy": ("_copy", None), "_npi_absolute": ("abs", None),
             "_np_reshape": ("Reshape", _np_reshape), "_npx_reshape": ("Reshape", _npx_reshape),
             "_np_transpose": ("transpose", _np_transpose), "_npi_concatenate": ("Concat", _concatenate),
             "_npi_stack": ("stack", None), "_np_squeeze": ("squeeze", _drop_none),
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
        names["_np_" + name] = names["_npi_" + name] = (op, _reduction)
    return names


def _drop_none(attrs):
    """MXNet writes an unset optional as "None"; the registry's ops leave it out."""
    return {k: v for k, v in attrs.items() if v != "None"}


def _reduction(attrs):
    attrs = _drop_none(attrs)
    attrs.pop("initial", None)
    attrs.pop("dtype", None)
    return attrs


def _np_reshape(attrs):
    shape = attrs.get("newshape", "()")
    if any(d.strip() == "0" for d in shape.strip("()[] ").split(",")):
        raise ValueError("a zero-size dimension in newshape %s" % shape)
    return {"shape": shape}


def _npx_reshape(attrs):
    from ..numpy_extension.reshape import legacy_codes
    codes = [int(d) for d in attrs.get("newshape", "()").strip("()[] ").split(",") if d.strip()]
    reverse = attrs.get("reverse", "False") in ("True", "1", "true")
    return {"shape": str(tuple(legacy_codes(codes, reverse))), "reverse": str(reverse)}


def _np_transpose(attrs):
    axes = attrs.get("axes", "None")
    return {} if axes == "None" else {"axes": axes}


def _concatenate(attrs):
    return {"dim": attrs.get("axis", "0"), "num_args": attrs["num_args"]}


MXNET_OPS = _mxnet_names()


def legacy_graph(doc):
    """Rewrite, in place, the parsed JSON `doc` of a graph MXNet exported in numpy mode (its attrs hold
    `is_np_shape`) into the registry's terms: each node's op name and attributes (`legacy_node`), and each declared
    variable shape's unknown dimensions, -1 there, as 0. Whatever is malformed is left for the reader to report."""
    nodes = doc.get("nodes")
    for nid, node in enumerate(nodes if isinstance(nodes, list) else ()):
        if not isinstance(node, dict) or not isinstance(node.get("op"), str) or not isinstance(node.get("attrs"),
                                                                                              (dict, type(None))):
            continue
        attrs = node.get("attrs") or {}
        if node["op"] == "null":
            shape = attrs.get("__shape__")
            if isinstance(shape, str):
                attrs["__shape__"] = _np_unknown_dims(shape)
        elif node["op"].startswith("_np"):
            node["op"], node["attrs"] = legacy_node(node["op"], attrs, "node %d (%s)" % (nid, node.get("name")))


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
