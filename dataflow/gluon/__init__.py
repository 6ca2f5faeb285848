"""`mx.gluon`: imperative and hybridizable neural-network blocks, parameters, losses, training and data."""
import importlib as _importlib

from . import loss, nn, rnn, utils  # noqa: F401
from .block import Block, HybridBlock, SymbolBlock  # noqa: F401
from .parameter import Constant, DeferredInitializationError, Parameter, ParameterDict, tensor_types  # noqa: F401
from .trainer import Trainer  # noqa: F401

_LAZY = ("data", "contrib", "model_zoo")    # imported on first use (dataflow/__init__.py, Note [lazy submodules])


def __getattr__(attr):
    if attr in _LAZY:
        return _importlib.import_module(__name__ + "." + attr)
    raise AttributeError("module %r has no attribute %r" % (__name__, attr))
