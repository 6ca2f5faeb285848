"""The optimizer base class, its registry (`create`, `register`) and the `Updater` Trainer and Module use.

An `Optimizer` turns (weight, gradient, state) into a new weight and state. `update(index, weight, grad, state)`
counts the update, looks up the index's learning rate and weight decay (global value times the multipliers, see
`_get_lrs`/`_get_wd`), and runs MXNet's update operator for its rule (`sgd_mom_update`, `adam_update`, ...: the
ops of ops/update.py, through `update_op`) with `out=weight`: one engine op that reads the gradient and writes
the weight and the state arrays; inside an `Updater` call over several weights (Trainer.step, Module.update) the
SGD and Adam updates are collected and run as one engine op per kind, one compiled loop over all the weights
(dataflow/optimizer/fused.py). The optimizers MXNet writes as NDArray arithmetic (AdaGrad, AdaDelta, Adamax,
Nadam, DCASGD, SGLD) are written the same way here, so on float32 every optimizer agrees with MXNet 1.9.1's to
the bit or within an ulp (tests/test_optimizers_more.py, against fixtures recorded with MXNet).

A row_sparse gradient (Gluon's sparse Embedding, `dot(csr.T, dy)`) takes `update_op`'s one detour: MXNet's lazy
updates of the rows it holds, or its standard update, chosen in dataflow/optimizer/sparse.py.

`multi_precision=True` keeps a float32 master copy of float16 weights in the state and updates that: SGD, NAG and
LARS use MXNet's mixed-precision ops with states `(momentum, weight32)`; the others go through the base class's
wrapper, with states `(weight32, state)`, as MXNet's do.
"""
import copy
import os
import pickle
import warnings

import numpy as np

from ops import registry

from ..ndarray import ndarray as nd
from ..numpy.multiarray import ndarray as np_ndarray
from ..util import is_np_array
from . import fused, sparse as _sparse, states as _states

__all__ = ["Optimizer", "Updater", "create", "get_updater", "register", "update_op"]


# ------------------------------------------------------------------------------------------------------------
# Running an update op
# ------------------------------------------------------------------------------------------------------------

_CALLS = {}         # (op name, params but lr) -> prepared call; bounded (FTML and LAMB also pass the step t)
_MAX_CALLS = 256


def update_op(op_name, inputs, out=None, **params):
    """Run the update op `op_name` (ops/update.py) on NDArrays `inputs` with `params`, through the engine.

    With `out` (the weight) the result is written there; otherwise a new array is returned. The op's mutable
    inputs (the states) are updated in place. Shapes and dtypes are checked by the op's rules, so a state of the
    wrong shape raises an MXNetError naming the op and the input."""
    for x in inputs:
        if not isinstance(x, nd.NDArray):
            raise TypeError("%s: weight, gradient and states must be NDArrays, got %s"
                            % (op_name, type(x).__name__))
    if _sparse.is_row_sparse(inputs[1]):        # lazy or standard row updates, or the dense fallback
        dense = _sparse.update(op_name, inputs, out, params)
        if dense is None:
            return out
        inputs, params = dense
    batch = fused.active.batch
    if batch is not None and out is inputs[0] and op_name in fused.RULES:
        call = _prepared_call(op_name, params, swap_lr=False)   # the batch takes lr as a number
        call.infer(inputs)
        if batch.add(call, inputs, params.get("lr")):
            return out
    call = _prepared_call(op_name, params)
    shapes, dtypes = call.infer(inputs)
    if out is None:
        ctx = inputs[0].context
        outputs = [nd.NDArray(nd._alloc(s, t, ctx), ctx=ctx) for s, t in zip(shapes, dtypes)]
    else:
        outputs = nd._given_outputs(out, shapes, dtypes, call.opdef, op_name, out.context)
    nd._push(call, list(inputs), outputs, out is not None)
    return out if out is not None else outputs[0]


def _prepared_call(op_name, params, swap_lr=True):
    """The op's parsed call for `params`, cached by every param but `lr`, which changes with each step of some
    rules (Adam's bias correction, schedulers): a new lr only swaps the parsed value into a copy (unless
    `swap_lr` is False: then the call's lr is that of the first call cached)."""
    lr = params.get("lr")
    key = (op_name, tuple(sorted((k, v) for k, v in params.items() if k != "lr")))
    call = _CALLS.get(key)
    if call is None:
        if len(_CALLS) >= _MAX_CALLS:
            _CALLS.clear()
        opdef = registry.get(op_name)
        call = _CALLS[key] = nd._OpCall(opdef, op_name, opdef.parse_params(params))
    elif swap_lr and lr is not None and call.params.lr != lr:
        call = copy.copy(call)
        call.params = registry.Params(dict(call.params.as_dict(), lr=float(lr)))
    return call


def zeros_like(weight, dtype=None):
    """A zero state shaped like `weight` (its dtype unless given), on its context."""
    return nd.zeros(weight.shape, weight.context, dtype or weight.dtype)


def clip_kwargs(optimizer, key="clip_gradient"):
    """{key: clip_gradient} when the optimizer clips (MXNet passes it only when it is truthy), else {}."""
    return {key: optimizer.clip_gradient} if optimizer.clip_gradient else {}


# ------------------------------------------------------------------------------------------------------------
# Optimizer base class and registry
# ------------------------------------------------------------------------------------------------------------

class Optimizer:
    """Base class of the optimizers.

    Parameters
    ----------
    rescale_grad : float, multiplies the gradient first (often 1/batch_size)
    param_idx2name : dict int -> str; with it, every name not ending in `_weight` or `_gamma` gets wd_mult 0
    wd : float, weight decay
    clip_gradient : float or None, clip the rescaled gradient to [-clip_gradient, clip_gradient]
    learning_rate : float or None; None means the scheduler's base_lr, or 0.01 without a scheduler
    lr_scheduler : LRScheduler or None
    sym : Symbol or None, whose variables' `lr_mult`/`wd_mult` attributes are used by name
    begin_num_update : int, the update count to start from
    multi_precision : bool, update float16 weights through a float32 master copy
    param_dict : dict int -> gluon.Parameter, whose `lr_mult`/`wd_mult` take precedence (set by Trainer)
    """
    opt_registry = {}
    aggregate_num = 0       # MXNet's multi-weight ops when > 0; ours batch the Updater's calls instead (fused.py)

    def __init__(self, rescale_grad=1.0, param_idx2name=None, wd=0.0, clip_gradient=None, learning_rate=None,
                 lr_scheduler=None, sym=None, begin_num_update=0, multi_precision=False, param_dict=None):
        self.rescale_grad = rescale_grad
        self.lr_scheduler = lr_scheduler
        if lr_scheduler is None and learning_rate is None:
            learning_rate = 0.01
        self.lr = learning_rate
        if lr_scheduler is not None and learning_rate is not None and lr_scheduler.base_lr != learning_rate:
            warnings.warn("learning rate from ``lr_scheduler`` has been overwritten by ``learning_rate`` in "
                          "optimizer.", UserWarning, stacklevel=2)
            lr_scheduler.base_lr = learning_rate
        self.wd = wd
        self.clip_gradient = clip_gradient
        self.multi_precision = multi_precision
        self.begin_num_update = begin_num_update
        self.num_update = begin_num_update
        self._index_update_count = {}
        if param_idx2name is None:
            param_idx2name = {}
        if not isinstance(param_idx2name, dict):
            raise TypeError("param_idx2name should be a dict of param indexes to names.")
        self.idx2name = dict(param_idx2name)
        self.sym_info = (sym.attr_dict(), sym.list_arguments()) if sym is not None else ()
        self.param_dict = param_dict if param_dict else {}
        self.allow_np_array = is_np_array()     # whether an Updater may take mx.np.ndarrays (MXNet's flag)
        self.set_lr_mult({})
        self.set_wd_mult({})

    @staticmethod
    def register(klass):
        """Register an Optimizer subclass under its lower-cased class name (used by `create`)."""
        if not isinstance(klass, type):
            raise TypeError("register expects a class, got %r" % (klass,))
        name = klass.__name__.lower()
        if name in Optimizer.opt_registry:
            old = Optimizer.opt_registry[name]
            warnings.warn("WARNING: New optimizer %s.%s is overriding existing optimizer %s.%s"
                          % (klass.__module__, klass.__name__, old.__module__, old.__name__), stacklevel=2)
        Optimizer.opt_registry[name] = klass
        return klass

    @staticmethod
    def create_optimizer(name, **kwargs):
        """An instance of the optimizer registered as `name` (case-insensitive), built with `kwargs`."""
        klass = Optimizer.opt_registry.get(name.lower()) if isinstance(name, str) else None
        if klass is None:
            raise ValueError("Cannot find optimizer %s; the registered optimizers are %s"
                             % (name, ", ".join(sorted(Optimizer.opt_registry))))
        return klass(**kwargs)

    # -- learning rate -----------------------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The current learning rate (from the scheduler at `num_update`, if there is one)."""
        return self.lr_scheduler(self.num_update) if self.lr_scheduler is not None else self.lr

    def set_learning_rate(self, lr):
        """Set the learning rate; not allowed when a scheduler decides it (MXNet raises UserWarning)."""
        if self.lr_scheduler is not None:
            raise UserWarning("LRScheduler of the optimizer has already been defined. Note that "
                              "set_learning_rate can mutate the value of the learning rate of the optimizer "
                              "only when the LRScheduler of the optimizer is undefined.")
        self.lr = lr

    # -- per-parameter multipliers -----------------------------------------------------------------------
    def _sym_mults(self, key):
        if not self.sym_info:
            return {}
        attrs, arg_names = self.sym_info
        return {n: float(attrs[n][key]) for n in arg_names if key in attrs.get(n, {})}

    def set_lr_mult(self, args_lr_mult):
        """Learning-rate multipliers by parameter name or index (over the symbol's `__lr_mult__`s)."""
        self.lr_mult = self._sym_mults("__lr_mult__")
        self.lr_mult.update(args_lr_mult)

    def set_wd_mult(self, args_wd_mult):
        """Weight-decay multipliers by name or index. Names from `param_idx2name` that end in neither
        `_weight` nor `_gamma` (biases, betas) default to 0; the symbol's `__wd_mult__` attributes and
        `args_wd_mult` win."""
        self.wd_mult = {n: 0.0 for n in self.idx2name.values() if not n.endswith(("_weight", "_gamma"))}
        self.wd_mult.update(self._sym_mults("__wd_mult__"))
        self.wd_mult.update(args_wd_mult)

    def _mult(self, index, attr, table):
        # precedence (MXNet's): the gluon Parameter, then the index, then the index's name
        if index in self.param_dict:
            return getattr(self.param_dict[index], attr)
        if index in table:
            return table[index]
        if index in self.idx2name:
            return table.get(self.idx2name[index], 1.0)
        return 1.0

    def _get_lrs(self, indices):
        """The learning rates for weights `indices` at the current `num_update`."""
        lr = self.learning_rate
        return [lr * self._mult(index, "lr_mult", self.lr_mult) for index in indices]

    def _get_lr(self, index):
        """The learning rate for weight `index` at the current `num_update`."""
        return self._get_lrs([index])[0]

    def _get_wds(self, indices):
        """The weight decays for weights `indices`."""
        return [self._get_wd(index) for index in indices]

    def _get_wd(self, index):
        """The weight decay for weight `index`."""
        return self.wd * self._mult(index, "wd_mult", self.wd_mult)

    def _update_count(self, index):
        """Count one more update of `index` (or of each index of a list, as aggregated optimizers such as GluonNLP's
        BERTAdam pass); `num_update` is the largest count of any index."""
        for one in index if isinstance(index, (list, tuple)) else [index]:
            count = self._index_update_count.get(one, self.begin_num_update) + 1
            self._index_update_count[one] = count
            self.num_update = max(count, self.num_update)

    # -- states and updates ------------------------------------------------------------------------------
    def create_state(self, index, weight):
        """The auxiliary state (None, an NDArray or a tuple of them) for a weight; called once per weight."""
        return None

    def update(self, index, weight, grad, state):
        """Update `weight` in place from `grad` and `state` (asynchronously, through the engine)."""
        raise NotImplementedError()

    def create_state_multi_precision(self, index, weight):
        """`create_state`, plus a float32 master copy first for float16 weights under multi_precision."""
        if self.multi_precision and weight.dtype == np.float16:
            master = weight.astype(np.float32)
            return (master, self.create_state(index, master))
        if weight.dtype == np.float16:
            warnings.warn("Accumulating with float16 in optimizer can lead to poor accuracy or slow "
                          "convergence. Consider using multi_precision=True option of the optimizer",
                          stacklevel=2)
        return self.create_state(index, weight)

    def update_multi_precision(self, index, weight, grad, state):
        """`update`, through the float32 master copy when `create_state_multi_precision` made one."""
        if self.multi_precision and weight.dtype == np.float16:
            master, inner = state
            self.update(index, master, grad.astype(np.float32), inner)
            master.copyto(weight)
        else:
            self.update(index, weight, grad, state)

    def _set_current_context(self, device_id):
        """MXNet keeps update counts per device; dataflow has one count per index (accepted for compatibility)."""

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["param_dict"]     # not saved: the Trainer sets param_dict again after loading
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.param_dict = {}


register = Optimizer.register
create = Optimizer.create_optimizer


# ------------------------------------------------------------------------------------------------------------
# Updater: the optimizer plus the states of the weights it has seen (what Trainer and KVStore use)
# ------------------------------------------------------------------------------------------------------------

class Updater:
    """Calls `optimizer.update_multi_precision` with a state per index, created at the first update. mx.np.ndarray
    weights and gradients (NumPy-mode parameters) reach the optimizer as legacy NDArrays over the same storage
    when the optimizer was made in NumPy array mode (`allow_np_array`), as in MXNet."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.states = {}
        self._tables = {}       # the fused steps' address tables (dataflow/optimizer/fused.py)

    def __call__(self, index, grad, weight):
        indices, grads, weights = (index, grad, weight) if isinstance(index, (list, tuple)) else \
            ([index], [grad], [weight])
        # an optimizer pickled before `allow_np_array` existed follows the current mode, as MXNet's does
        allow_np = getattr(self.optimizer, "allow_np_array", None)
        allow_np = is_np_array() if allow_np is None else allow_np
        grads, weights = _as_classic(grads, allow_np), _as_classic(weights, allow_np)
        batch = None
        if len(indices) > 1 and type(self.optimizer) in fused.fused_optimizers() and fused.active.batch is None \
                and os.environ.get("DATAFLOW_JIT", "1") != "0":
            batch = fused.active.batch = fused.StepBatch(self._tables)      # one engine op per kind of update
        try:
            for i, g, w in zip(indices, grads, weights, strict=True):
                if i not in self.states:
                    self.states[i] = self.optimizer.create_state_multi_precision(i, w)
                if batch is not None and w.dtype not in (np.float32, np.float64):
                    fused.active.batch = None   # a master copy's update is followed by a copy: not batched
                    self.optimizer.update_multi_precision(i, w, g, self.states[i])
                    fused.active.batch = batch
                else:
                    self.optimizer.update_multi_precision(i, w, g, self.states[i])
        finally:
            if batch is not None:
                fused.active.batch = None
                batch.flush()

    def get_states(self, dump_optimizer=False):
        """The states (and the optimizer: counters, schedule) as pickled bytes, arrays as numpy."""
        states = {i: _map_arrays(s, lambda a: a.asnumpy()) for i, s in self.states.items()}
        return pickle.dumps((states, self.optimizer) if dump_optimizer else states)

    def set_states(self, states):
        """Restore what `get_states` returned. The pickle is read by a restricted unpickler (`states.loads`)
        that accepts only numpy arrays, optimizers and learning-rate schedulers, so a crafted file cannot run
        code; anything else raises `OptimizerStatesError`."""
        states, optimizer = _states.loads(states)
        if optimizer is not None:
            self.optimizer = optimizer
        self.states = {i: _map_arrays(s, lambda a: nd.array(a, dtype=a.dtype)) for i, s in states.items()}


def _as_classic(arrays, allow_np):
    """`arrays` as legacy NDArrays sharing their storage, so that optimizers written with `mx.nd` ops (and their
    states, made by `mx.nd.zeros`) work on the mx.np.ndarrays of NumPy-mode parameters; unless the optimizer does
    not allow them (made outside NumPy array mode): then MXNet's ValueError."""
    if not any(isinstance(a, np_ndarray) for a in arrays):
        return arrays
    if not allow_np:
        raise ValueError("Converting np.ndarray to mx.nd.NDArray is not allowed")
    return [a.as_nd_ndarray() for a in arrays]


def _map_arrays(state, fn):
    """Apply fn to every array in a state (None, an array, or nested tuples/lists of them)."""
    if isinstance(state, (tuple, list)):
        return type(state)(_map_arrays(s, fn) for s in state)
    return None if state is None else fn(state)


def get_updater(optimizer):
    """An `Updater` for `optimizer`."""
    return Updater(optimizer)
