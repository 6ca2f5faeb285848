"""`mx.gluon`: imperative and hybridizable neural-network blocks, parameters, losses, training and data."""
import importlib as _importlib

from . import nn, utils  # noqa: F401
from .block import Block, HybridBlock, SymbolBlock  # noqa: F401
from .parameter import Constant, DeferredInitializationError, Parameter, ParameterDict, tensor_types  # noqa: F401

# Imported on first use (Note [lazy submodules] in dataflow/__init__.py): submodules, and names -> their submodule
_LAZY = ("data", "contrib", "model_zoo", "rnn", "loss", "trainer")
_LAZY_NAMES = {"Trainer": "trainer"}


def __getattr__(attr):
    if attr in _LAZY:
        return _importlib.import_module(__name__ + "." + attr)
    if attr in _LAZY_NAMES:
        value = getattr(_importlib.import_module(__name__ + "." + _LAZY_NAMES[attr]), attr)
        globals()[attr] = value
        return value
    raise AttributeError("module %r has no attribute %r" % (__name__, attr))


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_LAZY_NAMES))
