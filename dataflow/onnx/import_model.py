"""`mx.onnx.import_model` / `mx.contrib.onnx.import_model`: an ONNX model as `(sym, arg_params, aux_params)`.

The ONNX graph's nodes come topologically sorted; each goes through its translation in `_table.IMPORTS`
(`translations_import.py`) with an `ImportContext`, which hands out Symbols for tensor names and numpy values
for constants (initializers and Constant nodes: shapes, axes, pads and scalars are attributes in MXNet, inputs
in ONNX). An initializer becomes a parameter only where a node reads it as a tensor. ONNX shape inference gives
the ranks some translations need (Slice's negative axes, MatMul's form).
"""
import numpy as np

from ops.errors import MXNetError

from . import translations_contrib, translations_import, translations_rnn  # noqa: F401  (fill the table)
from ._table import IMPORTS
from .export import _onnx


class ImportContext:
    """Tensor names -> Symbols and constant values, for the translations."""

    def __init__(self, onnx, model):
        from .. import symbol
        self.onnx, self.sym = onnx, symbol
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
        self.constants = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
        self.symbols = {}
        self.params = {}
        self.shape_sources = {}     # output of a Shape node -> the tensor whose shape it is
        self.ranks, self.static_shapes = {}, {}
        try:
            inferred = onnx.shape_inference.infer_shapes(model, data_prop=True).graph
            for info in list(inferred.value_info) + list(inferred.input) + list(inferred.output):
                if info.type.tensor_type.HasField("shape"):
                    dims = info.type.tensor_type.shape.dim
                    self.ranks[info.name] = len(dims)
                    if all(d.HasField("dim_value") for d in dims):
                        self.static_shapes[info.name] = tuple(d.dim_value for d in dims)
        except Exception:   # noqa: BLE001  (ranks stay unknown; translations that need one say so)
            pass
        for name, value in self.constants.items():
            self.ranks.setdefault(name, value.ndim)
        self.node = None

    def get(self, name):
        """The Symbol of a tensor; a constant becomes a parameter variable the first time it is read so."""
        if name not in self.symbols:
            if name not in self.constants:
                raise MXNetError("ONNX import: node '%s' (%s) reads tensor '%s', which nothing produces"
                                 % (self.node.name, self.node.op_type, name))
            value = self.constants[name]
            self.params[name] = value
            self.symbols[name] = self.sym.var(name, shape=value.shape, dtype=value.dtype)
        return self.symbols[name]

    def is_const(self, name):
        return name in self.constants

    def value(self, name):
        """The numpy value of a constant input (a shape, axes, pads, a scalar)."""
        if name not in self.constants:
            raise MXNetError("ONNX import: node '%s' (%s) needs input '%s' to be a constant (an initializer or "
                             "Constant node)" % (self.node.name, self.node.op_type, name))
        return self.constants[name]

    def rank(self, name):
        if name not in self.ranks:
            raise MXNetError("ONNX import: node '%s' (%s) needs the rank of '%s', which shape inference could "
                             "not tell" % (self.node.name, self.node.op_type, name))
        return self.ranks[name]

    def attrs(self, node):
        return {a.name: self.onnx.helper.get_attribute_value(a) for a in node.attribute}

    def unsupported(self, why):
        return MXNetError("ONNX import: operator %s (node '%s') %s" % (self.node.op_type, self.node.name, why))


# Note [constant folding on import]: exporters (MXNet's own among them) compute shapes in the graph:
# Shape -> Slice -> Concat -> Reshape. Where the input shapes are static, such a chain is evaluated here with
# onnx's reference evaluator, so Reshape and friends get the constant MXNet's attributes need. A node folds when
# every input is a constant and it is cheap shape arithmetic; a Shape folds when shape inference knows all dims.
_FOLDABLE = {"Shape", "Slice", "Concat", "Gather", "Unsqueeze", "Squeeze", "Cast", "Add", "Sub", "Mul", "Div",
             "Reshape", "ReduceProd", "Range", "Equal", "Where", "ConstantOfShape", "Identity", "Size", "Floor",
             "Ceil", "Max", "Min", "Neg", "Abs", "Transpose", "Expand", "Tile"}


def _fold(ctx, node):
    """Evaluate `node` now when all it reads is known (Note [constant folding on import]); True if it was."""
    if node.op_type not in _FOLDABLE or node.domain not in ("", "ai.onnx"):
        return False
    if node.op_type == "Shape":
        known = ctx.constants.get(node.input[0])
        shape = known.shape if known is not None else ctx.static_shapes.get(node.input[0])
        if shape is None or ctx.attrs(node):    # start/end (opset 15) are left to the translation
            return False
        ctx.constants[node.output[0]] = np.array(shape, dtype=np.int64)
        return True
    if not all(name in ctx.constants for name in node.input if name):
        return False
    if any(ctx.constants[name].size > 4096 for name in node.input if name):
        return False    # large parameters stay parameters (a Transpose of weights is an op in the graph)
    from onnx.reference import ReferenceEvaluator
    evaluator = ReferenceEvaluator(node)
    feeds = {name: ctx.constants[name] for name in node.input if name}
    for name, value in zip(node.output, evaluator.run(None, feeds)):
        ctx.constants[name] = np.asarray(value)
    return True


def _load(path):
    onnx = _onnx()
    try:
        model = onnx.load(path)
    except FileNotFoundError:
        raise
    except Exception as err:    # noqa: BLE001  (protobuf raises several kinds for a corrupt file)
        raise MXNetError("ONNX import: cannot read %r as an ONNX model: %s" % (path, err)) from err
    if not model.graph.node and not model.graph.output:
        raise MXNetError("ONNX import: %r holds no ONNX graph" % path)
    return onnx, model


def import_model(model_file):
    """Import an ONNX file: returns `(sym, arg_params, aux_params)`, the parameters as NDArrays."""
    from .. import ndarray
    onnx, model = _load(model_file)
    ctx = ImportContext(onnx, model)
    graph = model.graph
    for info in graph.input:
        if info.name not in ctx.constants:
            ctx.symbols[info.name] = ctx.sym.var(info.name)
    for node in graph.node:
        ctx.node = node
        if node.op_type == "Constant":
            attrs = ctx.attrs(node)
            if "value" not in attrs:
                raise ctx.unsupported("without a tensor 'value'")
            ctx.constants[node.output[0]] = onnx.numpy_helper.to_array(attrs["value"])
            continue
        if _fold(ctx, node):
            continue
        if node.domain not in ("", "ai.onnx"):
            raise ctx.unsupported("of domain %r: only the default ONNX domain imports" % node.domain)
        translate = IMPORTS.get(node.op_type)
        if translate is None:
            raise MXNetError("ONNX import: no translation for operator %s (node '%s')"
                             % (node.op_type, node.name or node.output[0]))
        result = translate(ctx, node, list(node.input))
        outputs = result if isinstance(result, (list, tuple)) else [result]
        for name, out in zip(node.output, outputs):
            if name:
                ctx.symbols[name] = out
    heads = [ctx.get(o.name) for o in graph.output]
    sym = heads[0] if len(heads) == 1 else ctx.sym.Group(heads)
    aux_names = set(sym.list_auxiliary_states())
    inputs = set(sym.list_inputs())
    arg_params = {k: ndarray.array(v, dtype=v.dtype) for k, v in ctx.params.items()
                  if k not in aux_names and k in inputs}
    aux_params = {k: ndarray.array(v, dtype=v.dtype) for k, v in ctx.params.items() if k in aux_names}
    return sym, arg_params, aux_params


def get_model_metadata(model_file):
    """{'input_tensor_data': [(name, shape, onnx elem type)], 'output_tensor_data': [(name, shape)]}; the data
    inputs only (not the initializers), unknown dimensions as 0, as MXNet."""
    _, model = _load(model_file)
    graph = model.graph
    params = {t.name for t in graph.initializer}

    def dims(info):
        return tuple(d.dim_value for d in info.type.tensor_type.shape.dim)

    return {"input_tensor_data": [(i.name, dims(i), i.type.tensor_type.elem_type) for i in graph.input
                                  if i.name not in params],
            "output_tensor_data": [(o.name, dims(o)) for o in graph.output]}


def import_to_gluon(model_file, ctx):
    """An ONNX file as a Gluon `SymbolBlock` with its parameters loaded on `ctx`."""
    from ..gluon import SymbolBlock
    from .. import symbol
    sym, arg_params, aux_params = import_model(model_file)
    metadata = get_model_metadata(model_file)
    inputs = [symbol.var(name) for name, *_ in metadata["input_tensor_data"]]
    block = SymbolBlock(sym, inputs)
    params = block.collect_params()
    for name, value in list(arg_params.items()) + list(aux_params.items()):
        if name in params:
            params[name].shape = value.shape
            params[name]._load_init(value, ctx=ctx)
    return block
