"""`mx.onnx.export_model`: a Symbol and its parameters as an ONNX model (opset 13).

The graph is walked in MXNet's order (`IndexedGraph`: DFS post-order). Shapes and dtypes are inferred once for
every entry from the given input shapes and the parameters, so a translation can resolve what ONNX needs as
constants (Reshape's special values, Deconvolution's output padding). Parameters become initializers, the other
variables graph inputs; each op node goes through its translation in `_table.EXPORTS`
(`translations_nn.py`, `translations_tensor.py`), which appends ONNX nodes through an `ExportContext`.
"""
import logging
import os

import numpy as np

from ops.errors import MXNetError
from scheduler.graph import Entry
from scheduler.infer import infer_dtypes, infer_shapes

from . import translations_contrib, translations_nn, translations_rnn, translations_tensor  # noqa: F401
from ._table import EXPORTS, OPSET


def _onnx():
    try:
        import onnx
    except ImportError as err:
        raise ImportError("ONNX export needs the onnx package: pip install onnx (or dataflow[onnx])") from err
    return onnx


def get_operator_support(opset_version=None):
    """The sorted names of the MXNet ops the exporter translates (it writes opset 13 only)."""
    if opset_version is not None and opset_version < OPSET:
        return []
    return sorted(EXPORTS)


class ExportContext:
    """What a translation sees: the inferred shapes and dtypes, and methods to add ONNX nodes and constants."""

    def __init__(self, graph, shapes, dtypes, dynamic, weights):
        self.onnx = _onnx()
        self.graph = graph
        self.weights = weights
        self.shapes, self.dtypes = shapes, dtypes
        self.dynamic = dynamic
        self.nodes, self.initializers = [], []
        self._used = set()
        self._current = None    # the MXNet node being translated, for node names and errors

    # -- what is known about an entry ----------------------------------------------------------------------------
    def shape(self, entry):
        return tuple(self.shapes[self.graph.eid(entry)])

    def out_shape(self, node, index=0):
        return self.shape(Entry(node, index))

    def dtype(self, entry):
        return np.dtype(self.dtypes[self.graph.eid(entry)])

    def value(self, entry):
        """The numpy value of an entry computed from parameters alone (a parameter, its reshapes and concats,
        `_zeros`/`_ones`/`_full`), or None: the RNN translation reads its packed parameter vector so."""
        node = entry.node
        if node.is_variable:
            return self.weights.get(node.name)
        name, p = node.op.name, node.params
        if name in ("_zeros", "_ones", "_full"):
            fill = {"_zeros": 0, "_ones": 1}.get(name, getattr(p, "value", None))
            return np.full(self.shape(entry), fill, dtype=self.dtype(entry))
        if name not in ("Reshape", "Flatten", "_rnn_param_concat", "Concat"):
            return None
        values = [self.value(e) for e in node.inputs]
        if any(v is None for v in values):
            return None
        if name in ("Reshape", "Flatten"):
            return values[0].reshape(self.shape(entry))
        return np.concatenate(values, axis=p.dim)

    # -- names -------------------------------------------------------------------------------------------------
    def fresh(self, base):
        """A tensor or node name not used before in this model."""
        name, k = base, 0
        while name in self._used:
            k += 1
            name = "%s_%d" % (base, k)
        self._used.add(name)
        return name

    # -- building ----------------------------------------------------------------------------------------------
    def emit(self, op_type, inputs, outputs=None, **attrs):
        """Append one ONNX node; returns its output names (fresh ones unless `outputs` names them)."""
        base = self._current.name if self._current is not None else op_type.lower()
        if outputs is None:
            outputs = [self.fresh("%s_%s" % (base, op_type.lower()))]
        elif isinstance(outputs, str):
            outputs = [outputs]
        node = self.onnx.helper.make_node(op_type, list(inputs), list(outputs), name=self.fresh(base), **attrs)
        self.nodes.append(node)
        return outputs

    def op(self, op_type, *inputs, out=None, **attrs):
        """Append one single-output ONNX node; returns the name of its output."""
        return self.emit(op_type, inputs, out, **attrs)[0]

    def const(self, value, dtype=None, name="const"):
        """An initializer holding `value` (int64 by default for integer data, else the given dtype)."""
        array = np.asarray(value, dtype=dtype)
        if dtype is None and array.dtype.kind in "iu":
            array = array.astype(np.int64)
        tensor_name = self.fresh(name)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, tensor_name))
        return tensor_name

    def ints(self, values, name="shape"):
        return self.const(np.asarray(list(values), dtype=np.int64), name=name)

    def scalar_like(self, value, entry):
        """A 0-d constant in the dtype of `entry`, for scalar ops and clip bounds."""
        return self.const(np.asarray(value, dtype=self.dtype(entry)), name="scalar")

    def unsupported(self, node, why):
        return MXNetError("ONNX export: operator %s (node '%s') %s" % (node.op.name, node.name, why))


def _load(sym, params):
    """(Symbol, {name: numpy array}) from objects or from `-symbol.json` / `.params` file paths."""
    from .. import ndarray, symbol
    if isinstance(sym, str):
        if not os.path.isfile(sym):
            raise ValueError("export_model: symbol file %r does not exist" % sym)
        sym = symbol.load(sym)
    if isinstance(params, str):
        if not os.path.isfile(params):
            raise ValueError("export_model: params file %r does not exist" % params)
        params = ndarray.load(params)
    if isinstance(params, (list, tuple)):
        if len(params) != 2:
            raise ValueError("export_model: params as a list must be [arg_params, aux_params]")
        merged = {}
        merged.update(params[0])
        merged.update(params[1])
        params = merged
    if not isinstance(sym, symbol.Symbol) or not isinstance(params, dict):
        raise ValueError("Input sym and params should either be files or objects")
    weights = {}
    for key, value in params.items():
        name = key.split(":", 1)[1] if key.startswith(("arg:", "aux:")) else key
        weights[name] = value.asnumpy() if hasattr(value, "asnumpy") else np.asarray(value)
    return sym, weights


def _label_name(sym):
    """MXNet's rule: the label variable of a loss output is named after the last output node, `<name>_label`."""
    return sym.get_internals()[len(sym.get_internals()) - 1].name + "_label"


def export_model(sym, params, in_shapes=None, in_types=np.float32, onnx_file_path='model.onnx', verbose=False,
                 dynamic=False, dynamic_input_shapes=None, run_shape_inference=False, input_type=None,
                 input_shape=None):
    """Export a Symbol and its parameters to an ONNX file (opset 13); returns `onnx_file_path`.

    `sym` is a Symbol or the path of a `-symbol.json`; `params` a dict of arg and aux params (keys may carry
    `arg:`/`aux:`), a list `[arg_params, aux_params]`, or the path of a `.params` file. `in_shapes` gives one
    shape per data input (the variables that are not parameters, leaving out the loss label), `in_types` one
    dtype or one per input. `dynamic=True` leaves every input dimension unnamed (`dynamic_input_shapes` picks
    which: None entries are symbolic). `input_type`/`input_shape` are the old names of `in_types`/`in_shapes`.
    An op without a translation raises MXNetError naming the op and the node.
    """
    onnx = _onnx()
    if input_type is not None:
        in_types = input_type
    if input_shape is not None:
        in_shapes = input_shape
    sym, weights = _load(sym, params)
    model = _build_model(onnx, sym, weights, in_shapes, in_types, dynamic, dynamic_input_shapes, verbose)
    if run_shape_inference:
        try:
            model = onnx.shape_inference.infer_shapes(model)
        except Exception:   # noqa: BLE001  (as MXNet: a failing inference keeps the model as exported)
            logging.info("Shape inference failed, original export is kept.")
    with open(onnx_file_path, "wb") as f:
        f.write(model.SerializeToString())
    logging.info("Exported ONNX file %s saved to disk", onnx_file_path)
    return onnx_file_path


def _build_model(onnx, sym, weights, in_shapes, in_types, dynamic, dynamic_input_shapes, verbose):
    helper = onnx.helper
    g = sym._graph()
    label = _label_name(sym)
    data_names = [g.nodes[i].name for i in g.arg_nodes if g.nodes[i].name not in weights
                  and g.nodes[i].name != label]
    if in_shapes is None:
        raise ValueError("export_model: in_shapes is required, one shape per data input %s" % data_names)
    in_shapes = [tuple(int(d) for d in s) for s in in_shapes]
    if not isinstance(in_types, (list, tuple)):
        in_types = [in_types] * len(in_shapes)
    if len(in_shapes) != len(data_names) or len(in_types) != len(in_shapes):
        raise ValueError("export_model: the model's data inputs are %s, but %d shapes and %d types were given"
                         % (data_names, len(in_shapes), len(in_types)))
    if dynamic_input_shapes is not None:
        if not dynamic:
            raise ValueError("dynamic_input_shapes is given: set dynamic=True to use it")
        if len(dynamic_input_shapes) != len(in_shapes) or any(
                len(a) != len(b) for a, b in zip(dynamic_input_shapes, in_shapes)):
            raise ValueError("dynamic_input_shapes must have one shape per input, of the same dimensionality")
    known_shapes = {n: s for n, s in zip(data_names, in_shapes)}
    known_types = {n: np.dtype(t) for n, t in zip(data_names, in_types)}
    for node_id in g.arg_nodes:
        name = g.nodes[node_id].name
        if name in weights:
            known_shapes[name] = weights[name].shape
            known_types[name] = weights[name].dtype
    shapes = infer_shapes(g, known_shapes).values
    dtypes = [None if t is None else np.dtype(t) for t in infer_dtypes(g, known_types).values]
    for eid, (shape, dtype) in enumerate(zip(shapes, dtypes)):
        nid, _ = g.entry_node(eid)
        if (shape is None or dtype is None or 0 in shape) and g.nodes[nid].name != label:
            raise MXNetError("ONNX export: the shape or dtype of '%s' stays unknown with the given in_shapes %s"
                             % (g.entry_name(eid), in_shapes))
    ctx = ExportContext(g, shapes, dtypes, dynamic, weights)

    names = {}      # entry id -> ONNX tensor name
    inputs = []
    for node_id, node in enumerate(g.nodes):
        row = g.node_row_ptr[node_id]
        if node.is_variable:
            if node.name == label and node.name not in weights:
                continue
            names[row] = ctx.fresh(node.name)
            if node.name in weights:
                ctx.initializers.append(onnx.numpy_helper.from_array(weights[node.name], names[row]))
            else:
                k = data_names.index(node.name)
                dims = in_shapes[k]
                if dynamic:
                    dims = dynamic_input_shapes[k] if dynamic_input_shapes is not None else [None] * len(dims)
                inputs.append(helper.make_tensor_value_info(
                    names[row], helper.np_dtype_to_tensor_dtype(np.dtype(in_types[k])), list(dims)))
            continue
        translate = EXPORTS.get(node.op.name)
        if translate is None:
            raise MXNetError("ONNX export: no translation for operator %s (node '%s'); supported: "
                             "mx.onnx.get_operator_support()" % (node.op.name, node.name))
        if verbose:
            logging.info("Converting op %s, name %s", node.op.name, node.name)
        ins = [names.get(g.eid(e)) for e in node.inputs]
        visible = node.num_visible_outputs()
        outs = [ctx.fresh(node.name if visible == 1 else node.output_name(i)) for i in range(visible)]
        for i in range(visible):
            names[row + i] = outs[i]
        ctx._current = node
        translate(ctx, node, ins, outs)
        ctx._current = None

    outputs = []
    for eid in g.heads:
        nid, index = g.entry_node(eid)
        node, name = g.nodes[nid], names[eid]
        wanted = node.name if node.is_variable or node.num_visible_outputs() == 1 else node.output_name(index)
        if name != wanted or any(o.name == name for o in outputs) or node.is_variable:
            wanted = ctx.fresh(wanted)
            ctx.nodes.append(helper.make_node("Identity", [name], [wanted], name=ctx.fresh(wanted)))
            name = wanted
        dims = [None] * len(shapes[eid]) if dynamic else list(shapes[eid])
        outputs.append(helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(np.dtype(dtypes[eid])), dims))
    nodes = _live(ctx.nodes, {o.name for o in outputs})
    read = {name for n in nodes for name in n.input} | {o.name for o in outputs}
    used = [t for t in ctx.initializers if t.name in read]     # fix_gamma leaves its gamma unread
    graph = helper.make_graph(nodes, "dataflow_model", inputs, outputs, used)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="dataflow")
    model.ir_version = min(model.ir_version, 8)     # IR 8 is what onnxruntime releases of opset 13's age read
    return model


def _live(nodes, needed):
    """The nodes some graph output depends on, in order: the RNN translation reads its parameters as constants,
    which leaves the nodes that packed them unread."""
    needed, kept = set(needed), []
    for node in reversed(nodes):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(node.input)
    return kept[::-1]
