"""The two translation tables: MXNet op -> ONNX nodes (export) and ONNX op -> MXNet symbols (import).

Each translation module fills them with the decorators below; `export.py` and `import_model.py` only look up.
Export tables are keyed by the registry's canonical op name, so every alias of an op (`_plus`, `elemwise_add`)
finds the same translation."""
from ops import registry

EXPORTS = {}    # canonical MXNet op name -> fn(ctx, node, ins, outs)
IMPORTS = {}    # ONNX op type -> fn(ctx, onnx_node, ins) -> Symbol (or list of Symbols, one per output)

OPSET = 13      # the one ONNX opset the exporter writes and the importer is written against


def exports(*mx_names):
    def register(fn):
        for name in mx_names:
            EXPORTS[registry.get(name).name] = fn
        return fn
    return register


def imports(*onnx_types):
    def register(fn):
        for name in onnx_types:
            IMPORTS[name] = fn
        return fn
    return register
