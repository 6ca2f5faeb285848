"""Optimizer updates with a row_sparse gradient: MXNet's lazy and standard updates (the one place they are chosen).

`update_op` (optimizer.py) sends every call whose gradient is a RowSparseNDArray here, before anything dense
happens. What MXNet 1.9.1 does with a dense (or all-rows row_sparse) weight and a row_sparse gradient, checked with
fixtures (tests/fixtures/mxnet-1.9.1/sparse_training/):

    op (optimizer)                  lazy_update=True (default)        lazy_update=False
    sgd_update (SGD)                only the gradient's rows          every row (weight decay everywhere)
    sgd_mom_update (SGD, momentum)  only the gradient's rows          every row (momentum decays everywhere)
    adam_update (Adam)              only the gradient's rows          every row
    _sparse_adagrad_update          only the gradient's rows; wd != 0 is refused (MXNet's "not implemented")
    ftrl_update (Ftrl)              only the gradient's rows when the weight is row_sparse; a dense weight is
                                    updated everywhere (MXNet's storage fallback to the dense op)

A row_sparse weight must hold all its rows; its states may be row_sparse too (MXNet's optimizers make them so):
one holding no rows yet becomes all-zero rows first, as MXNet's kernels initialise it.

"Every row" is the dense rule with zero gradient rows, so both run the same row kernels (ops/cpu/sparse_update.py):
on the gradient's rows, or on all rows with the gradient scattered into zeros. A SGD without momentum uses
`sgd_update` here (MXNet's SGD aggregates only dense gradients). Every other update op given a row_sparse gradient
runs densely on the gradient made dense, as MXNet's storage fallback does.

The update is one engine op that reads the gradient and writes the weight and the states, like the dense ones; a
lazy one of at most `_INLINE_BYTES` of rows runs at once in the calling thread when its arrays are free (the
engine's inline ops), as it usually is right after `grad()` waited for the gradient: no worker round trip per step.
The same ops called directly (`mx.nd.sgd_update(weight, rsp_grad, out=weight, ...)`) come here too, through the
sparse-op hook of ndarray/sparse/fallback.py, which imports this module for them (`import dataflow` does not).
"""
import logging
import warnings

import numpy as np

from ops.cpu import sparse_update as kernels
from ops.errors import MXNetError

from scheduler.engine import get_engine

from ..ndarray.sparse.fallback import implements

__all__ = ["is_row_sparse", "update"]

# update op -> the row kernel's rule
_RULES = {"sgd_update": "sgd", "multi_sgd_update": "sgd", "sgd_mom_update": "sgd_mom", "adam_update": "adam",
          "_sparse_adagrad_update": "adagrad", "ftrl_update": "ftrl"}
# the ops' defaults (MXNet's) for the params an optimizer may leave out
_DEFAULTS = {"wd": 0.0, "rescale_grad": 1.0, "clip_gradient": -1.0, "momentum": 0.0, "beta1": 0.9, "beta2": 0.999,
             "lamda1": 0.01, "beta": 1.0}
_EPSILON = {"adam": 1e-8, "adagrad": 1e-7}
_INLINE_BYTES = 1 << 20     # lazy updates of up to this many bytes of gradient and state rows run inline
_warned_lazy = False


def is_row_sparse(x):
    """True for a RowSparseNDArray."""
    return getattr(x, "stype", "default") == "row_sparse"


def update(op_name, inputs, out, params):
    """Run update op `op_name` on (weight, row_sparse grad, *states) with `params`: in place into the weight by
    the row kernels (returns None), or, for an op without them, returns (inputs, params) with the gradient made
    dense for the caller's dense path (MXNet's storage fallback)."""
    weight, grad, *states = inputs
    rule = _RULES.get(op_name)
    if rule is None:
        _log_fallback(op_name)
        return (weight, grad.tostype("default"), *states), params
    if out is not weight:
        raise MXNetError("%s: a row_sparse gradient updates the weight in place (out=weight), as MXNet requires"
                         % op_name)
    if op_name == "multi_sgd_update":
        params = dict(params, lr=params["lrs"][0], wd=params["wds"][0])
    values = {**_DEFAULTS, "epsilon": _EPSILON.get(rule, 0.0), **params}
    if values.get("clip_gradient") is None:
        values["clip_gradient"] = -1.0
    if rule == "adagrad" and values["wd"] != 0:
        raise MXNetError("Operator not implemented: operator = _sparse_adagrad_update with a row_sparse gradient "
                         "and wd = %g (MXNet's sparse AdaGrad has no weight decay)" % values["wd"])
    lazy = bool(values.get("lazy_update", True))
    if rule == "ftrl":
        lazy = is_row_sparse(weight)
        if not lazy:
            _log_fallback(op_name)
    _fill_empty_states(states)
    _check(op_name, weight, grad, states)
    if lazy and rule != "adagrad":     # MXNet's lazy_update ops log it; its sparse AdaGrad has no such param
        _warn_lazy()
    _push(rule, weight, grad, states, values, lazy, op_name)
    return None


def _check(op_name, weight, grad, states):
    if tuple(grad.shape) != tuple(weight.shape):
        raise MXNetError("%s: the gradient's shape %s differs from the weight's %s"
                         % (op_name, tuple(grad.shape), tuple(weight.shape)))
    for x in [weight, grad] + states:
        if x.context.device_type != "cpu":
            raise MXNetError("%s: updates with a row_sparse gradient run on the CPU only (got %s)"
                             % (op_name, x.context))
    for s in states:
        if tuple(s.shape) != tuple(weight.shape):
            raise MXNetError("%s: each state must have the weight's shape %s, got %s"
                             % (op_name, tuple(weight.shape), tuple(s.shape)))
        if is_row_sparse(s) and not is_row_sparse(weight):
            raise MXNetError("%s: a row_sparse state needs a row_sparse weight (MXNet's storage types)" % op_name)
    for x in [a for a in [weight] + states if is_row_sparse(a)]:
        if len(x._indices) != x.shape[0]:
            raise MXNetError("%s: a row_sparse weight or state must hold all its rows (%d of %d present)"
                             % (op_name, len(x._indices), x.shape[0]))
    if grad.dtype != weight.dtype:
        raise MXNetError("%s: the gradient's dtype %s differs from the weight's %s"
                         % (op_name, np.dtype(grad.dtype).name, np.dtype(weight.dtype).name))


def _fill_empty_states(states):
    """A row_sparse state that holds no rows yet (MXNet's optimizers create row_sparse zeros for a row_sparse
    weight) becomes all its rows of zeros, as MXNet's sparse kernels initialise it."""
    for s in states:
        if is_row_sparse(s) and len(s._indices) == 0 and s.shape[0]:
            s.wait_to_write()
            s._set_storage(np.zeros(s.shape, s.dtype), (np.arange(s.shape[0], dtype=np.int64),))


def _push(rule, weight, grad, states, values, lazy, op_name):
    """One engine op: reads the gradient, writes the weight and the states."""
    idx, gdata = grad._indices, grad._data          # replaced, never changed in place, by later writes
    w = weight._data                                # all rows (checked) of a row_sparse weight, or the dense array
    state_data = [s._data for s in states]
    rows = weight.shape[0]

    def run():
        if lazy:
            kernels.lazy_update(rule, w, state_data, idx, gdata, values)
        else:
            full = np.zeros(w.shape, w.dtype)
            full[idx] = gdata
            kernels.lazy_update(rule, w, state_data, np.arange(rows, dtype=np.int64), full, values, standard=True)

    reads = [grad._var]
    writes = [weight._var] + [s._var for s in states]
    # a lazy update touches only the gradient's rows: small enough to run at once in this thread when its arrays
    # are free (scheduler/engine.py, Note [inline ops]), which spares the worker thread's round trip
    small = lazy and gdata.nbytes * (1 + len(states)) <= _INLINE_BYTES
    get_engine().push(run, reads, writes, op_name, inline=small)


def _warn_lazy():
    global _warned_lazy
    if not _warned_lazy:
        _warned_lazy = True
        logging.warning("Optimizer with lazy_update = True detected. Be aware that lazy update with row_sparse "
                        "gradient is different from standard update, and may lead to different empirical results. "
                        "See https://mxnet.apache.org/api/python/optimization/optimization.html for more details.")


_fallback_warned = set()


def _log_fallback(op_name):
    """MXNet's storage-fallback message, once per op (as ndarray/sparse/fallback.py warns for other ops)."""
    from ..ndarray.sparse.fallback import StorageFallbackWarning
    if op_name not in _fallback_warned:
        _fallback_warned.add(op_name)
        warnings.warn(StorageFallbackWarning(
            "Storage type fallback detected:\noperator = %s\ninput storage types = [default, row_sparse, ...]\n"
            "The operator with default storage type will be dispatched for execution." % op_name), stacklevel=4)


def _direct(op_name):
    """The sparse implementation of update op `op_name` for ndarray/sparse/fallback.py: a row_sparse gradient
    updates `out` (which must be the weight, as MXNet requires) here, with dense states, or row_sparse ones beside a
    row_sparse weight (`_sparse_adagrad_update`, as MXNet's kernels take them); other sparse states go to the
    storage fallback."""
    sparse_states = op_name == "_sparse_adagrad_update"

    def run(inputs, params, out):
        if len(inputs) < 2 or not is_row_sparse(inputs[1]):
            return NotImplemented
        if any(is_row_sparse(x) for x in inputs[2:]) and not (sparse_states and is_row_sparse(inputs[0])):
            return NotImplemented
        target = out[0] if isinstance(out, (list, tuple)) else out
        update(op_name, list(inputs), target, params.as_dict())     # these ops always run their row kernels
        return target
    return run


for _name in ("sgd_update", "sgd_mom_update", "adam_update", "ftrl_update", "_sparse_adagrad_update"):
    implements(_name)(_direct(_name))
