"""`install_as_mxnet()`: make `import mxnet` (and every `mxnet.X.Y`) resolve to dataflow's modules.

The convention of PyMySQL's `install_as_MySQLdb()`. A finder on `sys.meta_path` maps the name `mxnet.X.Y` to
`dataflow.X.Y` and hands the import system *the very same module object*, so `sys.modules['mxnet.gluon'] is
dataflow.gluon`: classes, isinstance checks and module-level state (name scopes, the default context, registries)
are shared whichever name the code used. Because the module objects are shared they keep their own names
(`mxnet.gluon.__name__ == 'dataflow.gluon'`).

A module dataflow does not have raises ModuleNotFoundError naming both names, e.g.
`No module named 'mxnet.kvstore' (mxnet is dataflow here: dataflow has no module 'dataflow.kvstore')`.
"""
import importlib
import importlib.abc
import importlib.machinery
import sys
import types

ALIAS = "mxnet"
TARGET = "dataflow"


def install_as_mxnet():
    """Let `import mxnet ...` import dataflow's modules (idempotent). Returns the `dataflow` package.

    Examples
    --------
    >>> import dataflow
    >>> _ = dataflow.install_as_mxnet()
    >>> import mxnet as mx
    >>> import mxnet.gluon.nn as nn
    >>> mx is dataflow, nn is dataflow.gluon.nn, mx.__version__
    (True, True, '1.9.1')
    """
    loaded = sys.modules.get(ALIAS)
    if loaded is not None and loaded is not sys.modules.get(TARGET):
        raise ImportError("install_as_mxnet: a module named 'mxnet' (%s) is already imported; call "
                          "install_as_mxnet() before anything imports mxnet" % getattr(loaded, "__file__", loaded))
    if not any(isinstance(finder, _MXNetAliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _MXNetAliasFinder())
    return importlib.import_module(TARGET)


def target_name(fullname):
    """'mxnet.gluon.nn' -> 'dataflow.gluon.nn'."""
    return TARGET + fullname[len(ALIAS):]


def _resolve(fullname):
    """The dataflow module for the alias name `fullname`, or ModuleNotFoundError naming both names."""
    name = target_name(fullname)
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        # Only a missing dataflow.X.Y itself (or a parent) means "no counterpart"; a module that exists but fails
        # to import something else must show its own error.
        if error.name is None or not (name == error.name or name.startswith(error.name + ".")):
            raise
    # Op namespaces generated at import (`dataflow.ndarray.random`, `dataflow.symbol.contrib`) are module objects
    # kept as attributes of their package rather than files.
    parent, _, child = name.rpartition(".")
    candidate = getattr(sys.modules.get(parent), child, None)
    if isinstance(candidate, types.ModuleType):
        return candidate
    # `name=` is the dataflow name, not `fullname`: `from mxnet import X` would otherwise swallow the error and
    # say only "cannot import name 'X' from 'dataflow'".
    raise ModuleNotFoundError("No module named %r (mxnet is dataflow here: dataflow has no module %r)"
                              % (fullname, name), name=name)


class _MXNetAliasFinder(importlib.abc.MetaPathFinder):
    """Finds `mxnet` and `mxnet.*` as the dataflow modules of the same path."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        module = _resolve(fullname)
        return importlib.machinery.ModuleSpec(fullname, _ExistingModuleLoader(module),
                                              is_package=hasattr(module, "__path__"))


class _ExistingModuleLoader(importlib.abc.Loader):
    """Loads an alias as an already imported module: no code runs, nothing is copied."""

    def __init__(self, module):
        self.module = module
        self.original_spec = getattr(module, "__spec__", None)

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        # The import system has just set `module.__spec__` to the alias spec; the module keeps its own identity.
        module.__spec__ = self.original_spec
