"""`mx.onnx`: export models to ONNX (opset 13) and import ONNX models; needs the `onnx` package (`dataflow[onnx]`).

`export_model(sym, params, in_shapes, ...)` writes a file and returns its path, as MXNet 1.9's `mx.onnx`;
`import_model(path)` returns `(sym, arg_params, aux_params)` and `get_model_metadata(path)` the input and output
names and shapes, as MXNet's `mx.contrib.onnx`. One table per direction holds the translations (`_table.py`).
"""
from .export import export_model, get_operator_support
from .import_model import get_model_metadata, import_model, import_to_gluon

__all__ = ["export_model", "get_operator_support", "import_model", "get_model_metadata", "import_to_gluon"]
