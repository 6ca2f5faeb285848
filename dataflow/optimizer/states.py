"""Reading optimizer-state files (`Trainer.save_states`, `Module.save_optimizer_states`) without running their code.

The format stays MXNet's: a pickle of `{index: state}` or `({index: state}, optimizer)`, where a state is None, a
numpy array, or (nested) tuples and lists of them. Plain `pickle.loads` would run whatever a crafted file names, so
`loads` uses an unpickler that resolves only the globals such a file holds: numpy's array reconstruction and dtypes,
and the classes of optimizers and learning-rate schedulers, looked up among the subclasses of `Optimizer` and
`LRScheduler` that are already imported (nothing is imported on the file's behalf). Those classes restore their
attributes by a plain `__dict__` update, which runs no code. Anything else raises `OptimizerStatesError`.
"""
import io
import pickle
import sys

import numpy as np

from ops.errors import MXNetError

__all__ = ["OptimizerStatesError", "loads"]


class OptimizerStatesError(MXNetError, ValueError):
    """An optimizer-state file is corrupted, or names something such a file never holds."""


# numpy's pickle support: what an ndarray, a dtype and a numpy scalar reduce to (numpy 1.x and 2.x module names)
_NUMPY_GLOBALS = {(module, name) for module in ("numpy.core.multiarray", "numpy._core.multiarray")
                  for name in ("_reconstruct", "scalar")} | {("numpy", "ndarray"), ("numpy", "dtype")}


def _allowed_classes():
    from ..lr_scheduler import LRScheduler
    from .optimizer import Optimizer
    found, todo = set(), [Optimizer, LRScheduler]
    while todo:
        cls = todo.pop()
        if cls not in found:
            found.add(cls)
            todo.extend(cls.__subclasses__())
    return found


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _NUMPY_GLOBALS:
            return super().find_class(module, name)
        loaded = sys.modules.get(module)
        cls = getattr(loaded, name, None) if loaded is not None and "." not in name else None
        if isinstance(cls, type) and cls in _allowed_classes():
            return cls
        raise OptimizerStatesError("optimizer states name %s.%s, which is neither an optimizer, a learning-rate "
                                   "scheduler nor a numpy array; refusing to load it (the file may be crafted)"
                                   % (module, name))


def loads(data, source="optimizer states"):
    """`(states, optimizer or None)` from the bytes `Updater.get_states` wrote, checked for shape: states a dict
    of index -> state (an int, or a str: a KVStore updating with string keys keeps its states by name), arrays
    numeric."""
    try:
        loaded = _Unpickler(io.BytesIO(data)).load()
    except OptimizerStatesError as err:
        raise OptimizerStatesError("Cannot load %s: %s" % (source, err)) from None
    except Exception as err:        # noqa: BLE001 - any failure of a corrupted pickle is the file's fault
        raise OptimizerStatesError("Cannot load %s: not a valid optimizer-state file (%s: %s)"
                                   % (source, type(err).__name__, err)) from None
    from .optimizer import Optimizer
    optimizer = None
    if isinstance(loaded, tuple) and len(loaded) == 2:
        loaded, optimizer = loaded
        if not isinstance(optimizer, Optimizer):
            raise OptimizerStatesError("Cannot load %s: the second item is a %s, not an optimizer"
                                       % (source, type(optimizer).__name__))
    if not isinstance(loaded, dict):
        raise OptimizerStatesError("Cannot load %s: expected a dict of states by index, got a %s"
                                   % (source, type(loaded).__name__))
    for index, state in loaded.items():
        if not isinstance(index, (int, str)) or isinstance(index, bool):
            raise OptimizerStatesError("Cannot load %s: the state index %r is neither an integer nor a name"
                                       % (source, index))
        _check_state(state, index, source)
    return loaded, optimizer


def _check_state(state, index, source, depth=0):
    if state is None:
        return
    if isinstance(state, (tuple, list)):
        if depth > 8:       # the deepest state written is (weight32, (mean, var)); deeper is corrupted
            raise OptimizerStatesError("Cannot load %s: the state of index %r is nested too deeply" % (source, index))
        for part in state:
            _check_state(part, index, source, depth + 1)
        return
    if not isinstance(state, np.ndarray) or state.dtype.kind not in "biuf":
        raise OptimizerStatesError("Cannot load %s: the state of index %r holds a %s, not a numeric array"
                                   % (source, index, getattr(state, "dtype", type(state).__name__)))
