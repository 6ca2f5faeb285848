"""`mx.contrib.onnx`: MXNet's older home of the ONNX functions, the same as `mx.onnx`'s.

MXNet 1.9 prints a deprecation notice on each call here (import moves out in 1.10, export moved to `mx.onnx`);
these print one too."""
from .. import onnx as _onnx


def _noted(fn, notice):
    def call(*args, **kwargs):
        print(notice)
        return fn(*args, **kwargs)
    call.__name__, call.__doc__ = fn.__name__, fn.__doc__
    return call


_IMPORT_NOTICE = ("Calling mxnet.contrib.onnx.%s: importing ONNX models into MXNet is deprecated and goes away "
                  "in MXNet 1.10.")
import_model = _noted(_onnx.import_model, _IMPORT_NOTICE % "import_model")
get_model_metadata = _noted(_onnx.get_model_metadata, _IMPORT_NOTICE % "get_model_metadata")
import_to_gluon = _noted(_onnx.import_to_gluon, _IMPORT_NOTICE % "import_to_gluon")
export_model = _noted(_onnx.export_model, "Calling mxnet.contrib.onnx.export_model: the ONNX exporter moved to "
                      "mxnet.onnx.export_model; this path is deprecated.")

__all__ = ["import_model", "get_model_metadata", "import_to_gluon", "export_model"]
