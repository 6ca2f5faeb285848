"""One engine op per optimizer step (issue 15): the updates of all weights of an `Updater` call in one compiled call.

`Updater.__call__` (what `Trainer.step` and `Module.update` run) opens a `StepBatch` while it updates a list of
weights. Inside it, `update_op` hands each update of a fused kind (`RULES`: SGD with and without momentum, Adam) to
the batch after checking its shapes, instead of pushing it; at the end the batch pushes one engine op per kind and
dtype, reading every gradient and writing every weight and state, whose function is one njit loop over the weights
(`ops/jit/update.py`, Note [updates by address]). The loops are the kernels' own, so the numbers are those of the
per-weight ops to the bit (tests/test_train_step.py).

Only the optimizers whose update of a float32/float64 weight is nothing but that op are batched (`FUSED_OPTIMIZERS`:
a subclass may do more with the weight after the op, which must then not run before it); anything else is pushed
at once as before, and different weights never depend on each other within a step. A loop not yet compiled in
this process is compiled (or loaded from numba's cache) in the background, the steps meanwhile push per weight.
`DATAFLOW_JIT=0` turns batching off. A failing batch stores its error on every weight and state it writes.
"""
import copy
import threading

import numpy as np

from ops import registry

from ..ndarray import ndarray as nd

# op name -> (name of its loop in ops/jit/update.py, the params it takes per weight, in order)
RULES = {
    "sgd_update": ("sgd_update_all", lambda p: (p.lr, p.wd, p.rescale_grad, p.clip_gradient)),
    "multi_sgd_update": ("multi_sgd_update_all", lambda p: (p.lrs[0], p.wds[0], p.rescale_grad, p.clip_gradient)),
    "sgd_mom_update": ("sgd_mom_update_all", lambda p: (p.lr, p.wd, p.rescale_grad, p.clip_gradient, p.momentum)),
    "adam_update": ("adam_update_all", lambda p: (p.lr, p.wd, p.rescale_grad, p.clip_gradient, p.beta1, p.beta2,
                                                  p.epsilon)),
}

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
pushed = 0              # fused engine ops pushed so far (tests check that the fused path ran)
# Address tables an Updater keeps, with their arrays (so that no id is reused while its table is kept): a Trainer's
# steps hit one table; a step over gradients made anew each time (summed over contexts) misses and keeps at most
# this many sets of them alive.
_TABLES_KEPT = 2


_OPTIMIZERS = []


def fused_optimizers():
    """The optimizer classes whose steps may be batched (their update of a weight is one update op)."""
    if not _OPTIMIZERS:
        from .adaptive import Adam
        from .sgd import NAG, SGD, ccSGD
        _OPTIMIZERS.extend((SGD, ccSGD, NAG, Adam))
    return _OPTIMIZERS


class _Active(threading.local):
    batch = None        # the StepBatch of this thread's running Updater call, if any


active = _Active()


class StepBatch:
    """The fused updates of one Updater call; `tables`: the owner's address tables (kept between steps)."""

    def __init__(self, tables):
        self.tables = tables
        self.items = {}         # (op name, dtype) -> [(call, inputs)]

    def add(self, call, inputs, lr=None):
        """Take the update `call` on `inputs` (weight first, written in place), with learning rate `lr` when given
        (else the call's): True, or False when it cannot be fused (then the caller pushes it)."""
        rule = RULES.get(call.op_name)
        if rule is None or (call.op_name == "multi_sgd_update" and call.params.num_weights != 1):
            return False
        weight = inputs[0]._data
        if weight.dtype not in _FLOATS or inputs[0]._ctx.device_type != "cpu" or weight.size == 0:
            return False
        for x in inputs:
            d = x._data
            if x._ctx.device_type != "cpu" or d.dtype != weight.dtype or d.size != weight.size or \
                    not d.flags.c_contiguous:
                return False
        values = rule[1](call.params)
        if lr is not None and call.op_name != "multi_sgd_update":     # its lr is in `lrs`, part of the call
            values = (float(lr),) + values[1:]
        self.items.setdefault((call.op_name, weight.dtype), []).append((call, inputs, values))
        return True

    def flush(self):
        for (op_name, dtype), items in self.items.items():
            loop = _loop(op_name, dtype)
            if loop is None:        # still compiling: per weight, as update_op would have pushed them
                for call, inputs, values in items:
                    nd._push(_with_lr(call, values[0]), list(inputs), [inputs[0]], True)
                continue
            self._push(op_name, loop, dtype, items)
        self.items = {}

    def _push(self, op_name, loop, dtype, items):
        global pushed
        pushed += 1
        arrays = [[x._data for x in inputs] for _, inputs, _ in items]
        addresses, sizes = self._table(arrays)
        params = np.array([values for _, _, values in items], np.float64)
        params = params.astype(np.float32).astype(np.float64)      # C++ floats, as the kernels' `_scalars`
        like = np.empty(0, dtype)
        weights = [inputs[0] for _, inputs, _ in items]
        reads = [inputs[1]._var for _, inputs, _ in items] + nd._partial_writes(weights)
        writes = [x._var for _, inputs, _ in items for x in inputs if x is not inputs[1]]
        small = sum(a[0].nbytes for a in arrays) <= nd._INLINE_BYTES

        def run():
            loop(addresses, sizes, params, like)
            del arrays[:]       # the table's owner keeps them alive; this op no longer needs to
        nd.get_engine().push(run, reads, writes, "%s of %d weights" % (op_name, len(items)), inline=small)

    def _table(self, arrays):
        """(int64 addresses per weight, element counts) of these arrays, made once per set of arrays."""
        key = tuple(id(a) for row in arrays for a in row)
        table = self.tables.get(key)
        if table is None:
            if len(self.tables) >= _TABLES_KEPT:
                self.tables.clear()
            addresses = np.array([[a.ctypes.data for a in row] for row in arrays], np.int64)
            sizes = np.array([row[0].size for row in arrays], np.int64)
            table = self.tables[key] = (addresses, sizes, [list(row) for row in arrays])   # kept: ids stay theirs
        return table[0], table[1]


def _with_lr(call, lr):
    """`call` with learning rate `lr` (a copy when it differs), as `update_op` would have prepared it."""
    if call.op_name == "multi_sgd_update" or call.params.lr == lr:
        return call
    call = copy.copy(call)
    call.params = registry.Params(dict(call.params.as_dict(), lr=float(lr)))
    return call


_loops = {}             # (op name, dtype) -> compiled loop, or a Future while it compiles
_lock = threading.Lock()


def _loop(op_name, dtype):
    """The compiled loop for op_name on dtype, or None while it compiles in the background."""
    key = (op_name, dtype)
    loop = _loops.get(key)
    if loop is None:
        with _lock:
            loop = _loops.get(key)
            if loop is None:
                from scheduler.compile import _executor
                loop = _loops[key] = _executor().submit(_compile, op_name, dtype)
    if loop is False:           # compiling failed: per weight for good
        return None
    if not callable(loop):
        if not loop.done():
            return None
        loop = _loops[key] = _result(loop)
    return loop or None


def _result(future):
    try:
        return future.result()
    except Exception:   # noqa: BLE001 - a loop numba cannot compile here: the per-weight ops run instead
        return False


def _compile(op_name, dtype):
    """The loop's entry point for dtype (a numba cache load after the first process compiled it)."""
    from numba.core import types
    from numba.np.numpy_support import from_dtype

    from ops.jit import update
    dispatcher = getattr(update, RULES[op_name][0])
    signature = (types.Array(types.int64, 2, "C"), types.Array(types.int64, 1, "C"),
                 types.Array(types.float64, 2, "C"), types.Array(from_dtype(dtype), 1, "C"))
    return dispatcher.compile(signature)


def wait():
    """Block until every loop asked for so far is compiled (tests, benchmarks)."""
    for key in list(_loops):
        loop = _loops[key]
        if loop is not False and not callable(loop):
            _loops[key] = _result(loop)
