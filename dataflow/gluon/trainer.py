"""`mx.gluon.Trainer`: apply an Optimizer to a set of Parameters after `autograd.backward()`.

`step(batch_size)` is `optimizer.rescale_grad = scale / batch_size` followed by one optimizer update per
parameter whose grad_req is not 'null', ordered after the backward that wrote the gradient (for SGD and Adam all of
them one engine push running one compiled loop, dataflow/optimizer/fused.py; else one push per update).
Gradients are never zeroed here: with grad_req 'write' the next backward overwrites them, with 'add'
the user zeroes them.

Note [several contexts]
Parameters initialised on several contexts have one copy and one gradient per context. There is no kvstore
here, but the results are those of MXNet's: with a kvstore (the default 'device', or 'local') the gradients are
summed over the contexts and one update is applied to every copy, so the copies stay equal. With
`update_on_kvstore` (MXNet's default then) the per-context gradients are left as they are and
`allreduce_grads()`/`update()` are refused, as in MXNet; with `update_on_kvstore=False`, `allreduce_grads()`
writes the sum into every context's gradient. With `kvstore=None` each context is updated from its own gradient
with its own optimizer state, and the copies drift apart. On one context none of this matters.

Note [distributed training]
With a dist kvstore ('dist_sync', 'dist_device_sync', 'dist_async', 'horovod', or a KVStore object; see
dataflow/kvstore/), the Trainer holds the store as `_kvstore`. Before the first update it broadcasts every parameter
from rank 0 (MXNet's init of the store), and each update sums every gradient over the contexts and the workers
(one list `pushpull` on a store without an optimizer, reduced in a few large buckets: Note [gradient buckets] in
dataflow/kvstore/buckets.py) before the one update, which every worker then applies alike to the
same weights: the numbers MXNet's servers compute. On several workers that list pushpull returns at once, its
bucket reductions queued as engine ops behind the backward, and the Trainer asks for backwards cut into pushes of
about a bucket of gradients each (hybridized blocks' and autograd's), so the last layers' buckets reduce while the
earlier layers' backward runs (Note [overlapped reduction] in dataflow/kvstore/overlap.py, Note [segmented backward] in
scheduler/segments.py; DATAFLOW_KVSTORE_OVERLAP=0 turns both off); the update is an engine op reading
the gradients, so it waits for their reduction. The rescaling is MXNet's `scale / batch_size` with the batch size
of one worker. `update_on_kvstore` keeps MXNet's meaning for what may be called (dist default True, horovod False,
dist_async only True).

Parameters are indexed by position, and a dict or ParameterDict is taken in sorted-name order (MXNet's rule),
so optimizer states saved by one Trainer load into another built over the same names.

Note [row_sparse weights]
A Trainer over a parameter of stype 'row_sparse' (Note [row_sparse parameters] in gluon/parameter_sparse.py) works as
MXNet's: the kvstore (a 'local'/'device' store in this process, or the dist store) holds every parameter and runs the
optimizer (update_on_kvstore is always True; False is refused). At its first use the store takes each parameter's
value (a dense one broadcast from rank 0); `step` pushes each gradient (row_sparse gradients are updated lazily) and
pulls a dense parameter back, while a row_sparse one is read through `row_sparse_data`, which pulls the rows it asks
for (`_row_sparse_pull`). The optimizer's states are the store's, so save_states/load_states keep working.

Note [stale gradients]
MXNet refuses to step a parameter whose gradient no backward has written since the last step (a sign that
part of the model went unused), unless `ignore_stale_grad=True`, which skips such parameters instead. A
gradient filled by hand is stale too. Autograd's backward sets the flag `fresh_grad` on the record
(`Recorded`) of each variable whose gradient it writes; `_fresh` reads it and `step` clears it.
"""
from scheduler import segments as backward_segments

from .. import kvstore as kvs
from .. import ndarray as nd
from .. import optimizer as opt
from ..kvstore import overlap
from ..optimizer.states import OptimizerStatesError
from ..util import atomic_write
from . import sparse_grad
from .parameter import Parameter, ParameterDict

__all__ = ["Trainer"]


class Trainer:
    """Applies an `Optimizer` to a set of Parameters; use it with `autograd`.

    Parameters
    ----------
    params : ParameterDict, dict of Parameters, or list of Parameters
    optimizer : str or Optimizer
    optimizer_params : dict, keyword arguments for the optimizer (given by name): `{'learning_rate': 0.1}`
    kvstore : str, KVStore or None: 'device'/'local' sum over the contexts (Note [several contexts]); a dist type,
        'horovod' or a KVStore object also sums over the workers (Note [distributed training])
    compression_params : dict, gradient compression of a dist kvstore (`{'type': '2bit', 'threshold': 0.5}`);
        ignored without one
    update_on_kvstore : bool or None, MXNet's choice of which calls are allowed (see the notes)

    Examples
    --------
    >>> import dataflow as mx
    >>> w = mx.gluon.Parameter('w', shape=(2,))
    >>> w.initialize(mx.initializer.One())
    >>> trainer = mx.gluon.Trainer([w], 'sgd', {'learning_rate': 0.5})
    >>> with mx.autograd.record():
    ...     loss = (w.data() * 3).sum()
    >>> loss.backward()                         # w.grad() is 3
    >>> trainer.step(batch_size=2)              # w -= 0.5 * (3 / 2)
    >>> w.data().asnumpy()
    array([0.25, 0.25], dtype=float32)
    >>> mx.gluon.Trainer({'w': 1.0}, 'sgd')
    Traceback (most recent call last):
    ...
    ValueError: First argument must be a list or dict of Parameters, got list of float.
    """

    def __init__(self, params, optimizer, optimizer_params=None, kvstore="device", compression_params=None,
                 update_on_kvstore=None):
        if isinstance(params, (dict, ParameterDict)):
            params = [params[key] for key in sorted(params.keys())]
        if not isinstance(params, (list, tuple)):
            raise ValueError("First argument must be a list or dict of Parameters, got %s." % type(params))
        for param in params:
            if not isinstance(param, Parameter):
                raise ValueError("First argument must be a list or dict of Parameters, got list of %s."
                                 % type(param).__name__)
            param.list_ctx()        # raises for a parameter never initialized
        self._params = list(params)
        self._param2idx = {p.name: i for i, p in enumerate(self._params)}
        self._contexts = self._check_contexts()
        self._kvstore_params = {"kvstore": kvstore, "update_on_kvstore": update_on_kvstore}
        self._compression_params = compression_params
        self._sparse_weights = any(p._stype != "default" for p in self._params)     # Note [row_sparse weights]
        store = _sparse_weight_store(kvstore, update_on_kvstore) if self._sparse_weights else kvs.distributed(kvstore)
        for param in self._params:
            param._set_trainer(self)
        aggregate = store is not None or (kvstore is not None and len(self._contexts) > 1)
        self._kvstore = store if store is not None else kvstore if aggregate else None
        self._distributed = store is not None and (not self._sparse_weights or "dist" in store.type)
        self._update_on_kvstore = _update_on_kvstore(store, update_on_kvstore) if store is not None else \
            (True if update_on_kvstore is None else bool(update_on_kvstore)) if aggregate else None
        if store is not None and compression_params:
            store.set_gradient_compression(compression_params)
        if store is not None and getattr(store, "reduces_lists", False) and store.num_workers > 1 \
                and not self._sparse_weights:
            backward_segments.request(overlap.segment_bytes)        # Note [distributed training]
        # MXNet's lazy-kvstore flags, read by libraries; a store broadcasts the parameters before the first update
        self._kv_initialized = store is None
        self._params_to_init = list(self._params) if self._sparse_weights else []
        self._init_optimizer(optimizer, optimizer_params or {})
        self._scale = self._optimizer.rescale_grad
        if self._sparse_weights:
            store._set_updater(self._updaters[0])       # the store updates with the Trainer's optimizer states

    def _check_contexts(self):
        contexts = None
        for param in self._params:
            ctx = list(param.list_ctx())
            if contexts is not None and contexts != ctx:
                raise ValueError("All Parameters must be initialized on the same set of contexts, but Parameter %s "
                                 "is initialized on %s while previous Parameters are initialized on %s."
                                 % (param.name, ctx, contexts))
            contexts = ctx
        return contexts or []

    def _init_optimizer(self, optimizer, optimizer_params):
        param_dict = dict(enumerate(self._params))     # not copies: later lr_mult changes count
        if isinstance(optimizer, opt.Optimizer):
            if optimizer_params:
                raise ValueError("optimizer_params must be None if optimizer is an instance of Optimizer "
                                 "instead of str")
            self._optimizer = optimizer
            optimizer.param_dict = param_dict
        else:
            self._optimizer = opt.create(optimizer, param_dict=param_dict, **optimizer_params)
        # one updater (optimizer state) per context when each context is updated on its own
        count = len(self._contexts) if self._kvstore is None else 1
        self._updaters = [opt.get_updater(self._optimizer) for _ in range(max(count, 1))]

    @property
    def _updater(self):
        return self._updaters[0]

    @property
    def optimizer(self):
        return self._optimizer

    @property
    def learning_rate(self):
        """The optimizer's current learning rate."""
        return self._optimizer.learning_rate

    def set_learning_rate(self, lr):
        """Set the optimizer's learning rate (not allowed when it has an lr_scheduler)."""
        self._optimizer.set_learning_rate(lr)

    def step(self, batch_size, ignore_stale_grad=False):
        """One update of every parameter from its gradient, scaled by `1 / batch_size`.

        Call it after `backward()` and outside `record()`. A parameter whose gradient is stale raises
        UserWarning unless `ignore_stale_grad`, which skips it (see Note [stale gradients]); gradients on
        several contexts are summed as Note [several contexts] says.
        """
        self._optimizer.rescale_grad = self._scale / batch_size
        if self._kvstore is not None and not self._update_on_kvstore:
            self._allreduce()
        self._update(ignore_stale_grad)

    def allreduce_grads(self):
        """Sum each parameter's gradients over its contexts, into every context's gradient (nothing to do on
        one context). Refused when updates happen 'on the kvstore' (Note [several contexts])."""
        self._check_not_on_kvstore("allreduce_grads()")
        if self._kvstore is not None:
            self._allreduce()

    def _check_not_on_kvstore(self, what):
        if self._kvstore is not None and self._update_on_kvstore:
            raise AssertionError("%s when parameters are updated on kvstore is not supported. Try setting "
                                 "`update_on_kvstore` to False when creating trainer." % what)

    def _allreduce(self):
        if self._distributed:
            self._init_kvstore()
            self._reduce_over_workers([(i, p) for i, p in enumerate(self._params) if p.grad_req != "null"])
            return
        for param in self._params:
            if param.grad_req != "null":
                grads = param.list_grad()
                total = _sum_on(grads, grads[0].context)
                for g in grads:
                    total.copyto(g)

    def update(self, batch_size, ignore_stale_grad=False):
        """The update half of `step` (after `allreduce_grads()`, e.g. when clipping gradients in between)."""
        self._check_not_on_kvstore("update()")
        self._optimizer.rescale_grad = self._scale / batch_size
        self._update(ignore_stale_grad)

    def _update(self, ignore_stale_grad):
        loss_scaler = getattr(self, "_amp_loss_scaler", None)     # set by mx.contrib.amp.init_trainer
        if loss_scaler is not None and loss_scaler.has_overflow(self._params):
            return      # AMP skips the step on overflow (its scaler halved the loss scale)
        fresh = []
        for i, param in enumerate(self._params):
            if param.grad_req == "null":
                continue
            if _fresh(param):
                fresh.append((i, param))
            elif not ignore_stale_grad:     # raise before changing anything (MXNet marks earlier ones stale)
                raise UserWarning(
                    "Gradient of Parameter `%s` on context %s has not been updated by backward since "
                    "last `step`. This could mean a bug in your model that made it only use a subset of "
                    "the Parameters (Blocks) for this iteration. If you are intentionally only using a "
                    "subset, call step with ignore_stale_grad=True to suppress this warning and skip "
                    "updating of Parameters with stale gradient" % (param.name, param.list_ctx()[0]))
        for _, param in fresh:
            _mark_stale(param)
        if self._sparse_weights:
            self._update_on_store(fresh)
            return
        if not fresh:
            return
        indices = [i for i, _ in fresh]
        if self._kvstore is None:           # each context from its own gradient
            for k, updater in enumerate(self._updaters):
                updater(indices, [p.list_grad()[k] for _, p in fresh], [p.list_data()[k] for _, p in fresh])
            return
        # one update from the gradients summed over the contexts (and the workers), copied to every context
        if self._distributed:
            if self._update_on_kvstore:      # else allreduce_grads() summed them already
                self._init_kvstore()
                self._reduce_over_workers(fresh)
            grads = [p.list_grad()[0] for _, p in fresh]
        elif self._update_on_kvstore:
            grads = [_sum_on(p.list_grad(), p.list_data()[0].context) for _, p in fresh]
        else:
            grads = [p.list_grad()[0] for _, p in fresh]
        self._updaters[0](indices, grads, [p.list_data()[0] for _, p in fresh])
        for _, param in fresh:
            first, *others = param.list_data()
            for array in others:
                first.copyto(array)

    def _update_on_store(self, fresh):
        """Push each gradient of [(index, param)] to the store, which updates the parameter; pull a dense one back
        (Note [row_sparse weights])."""
        self._init_store_params()
        for i, param in fresh:
            self._kvstore.push(i, param.list_grad(), priority=-i)
            if param._stype == "default":
                self._kvstore.pull(i, out=param.list_data(), priority=-i)

    def _init_store_params(self):
        """Give the store the value of each parameter it does not hold yet (once its deferred init is done)."""
        waiting = []
        for param in self._params_to_init:
            if param._data is None:
                waiting.append(param)
                continue
            i, arrays = self._param2idx[param.name], param._check_and_get(param._data, list)
            if param._stype == "default":
                self._kvstore.broadcast(i, arrays[0], out=arrays)
            else:
                self._kvstore.init(i, arrays[0])
        self._params_to_init, self._kv_initialized = waiting, True

    def _row_sparse_pull(self, param, out, row_id):
        """Pull the rows `row_id` of a row_sparse parameter from the store into `out` (Note [row_sparse weights])."""
        self._init_store_params()
        i = self._param2idx[param.name]
        self._kvstore.row_sparse_pull(i, out=out, row_ids=row_id, priority=-i)

    def _param_value_changed(self, param):
        """`set_data` (or a load) gave `param` a new value: the store, once it holds the parameter, takes it."""
        if self._sparse_weights and self._kv_initialized and all(p is not param for p in self._params_to_init):
            self._kvstore._replace(self._param2idx[param.name], param._check_and_get(param._data, list)[0])

    def _reduce_over_workers(self, indexed_params):
        """Sum the gradients of [(index, param)] over the contexts and the workers, in place: one list pushpull,
        last parameters first (the order the backward writes them), in buckets (dataflow/kvstore/buckets.py)."""
        chosen = indexed_params[::-1]
        kvs.pushpull_all(self._kvstore, [i for i, _ in chosen], [p.list_grad() for _, p in chosen])

    def _init_kvstore(self):
        """Broadcast every parameter from rank 0, once (Note [distributed training])."""
        if not self._kv_initialized:
            for i, param in enumerate(self._params):
                self._kvstore.broadcast(i, param.list_data()[0], out=param.list_data())
            self._kv_initialized = True

    def save_states(self, fname):
        """Save the optimizer and its states (momenta, moments, update counts) to `fname`, atomically.

        The Parameters' `lr_mult`/`wd_mult` are not saved (the loading Trainer's own Parameters are used).
        """
        atomic_write(fname, self._updater.get_states(dump_optimizer=True))

    def load_states(self, fname):
        """Load what `save_states` wrote; the optimizer in the file replaces this Trainer's. Nothing changes if the
        states do not fit this Trainer's parameters.

        The file is a pickle, as MXNet's, but it is read with a restricted unpickler that accepts only what
        `save_states` writes (numpy arrays, optimizers, learning-rate schedulers): a crafted file cannot run code
        and raises `OptimizerStatesError` (an MXNetError), as does a corrupted one."""
        updater = opt.get_updater(self._optimizer)
        with open(fname, "rb") as f:
            updater.set_states(f.read())
        for index, state in updater.states.items():
            if not 0 <= index < len(self._params):
                raise OptimizerStatesError("the states in %r are for parameter %r; this Trainer has %d parameters"
                                           % (fname, index, len(self._params)))
            _check_state_shapes(self._params[index], state)
        self._updaters = [updater] + [opt.get_updater(updater.optimizer) for _ in self._updaters[1:]]
        for extra in self._updaters[1:]:
            extra.set_states(updater.get_states(dump_optimizer=False))
        self._optimizer = updater.optimizer
        self._optimizer.param_dict = dict(enumerate(self._params))
        if self._sparse_weights:
            self._kvstore._set_updater(updater)


def _update_on_kvstore(store, asked):
    """MXNet's rule: default True on a dist store that runs optimizers, False where it cannot; async needs True."""
    capable = store.is_capable(kvs.KVStoreBase.OPTIMIZER)
    if "async" in store.type and asked is False:
        raise ValueError("Please set update_on_kvstore=True when training in async mode.")
    if asked and not capable:
        raise ValueError("Please set update_on_kvstore=False when training with %s" % store.type)
    return capable if asked is None else bool(asked)


def _sparse_weight_store(kvstore, update_on_kvstore):
    """MXNet's store for row_sparse weights: the KVStore given or created by name, updating on the store."""
    if update_on_kvstore is False:
        raise ValueError("Cannot set update_on_kvstore=False when sparse weights are present.")
    if isinstance(kvstore, kvs.KVStoreBase):
        store = kvstore
    elif isinstance(kvstore, str):
        store = kvs.create(kvstore)
    else:
        raise TypeError("Cannot create '%s' KVStore with row_sparse parameters. The type must be KVStore or str."
                        % kvstore)
    if not store.is_capable(kvs.KVStoreBase.OPTIMIZER) or not hasattr(store, "_set_updater"):
        raise AssertionError("KVStore with sparse weight requires optimizer support. However, type(kv) does not "
                             "support optimizer. Please consider other kvstore backends (e.g. dist_device) instead.")
    return store


def _sum_on(arrays, ctx):
    """The sum of `arrays` (one per context) as a new array on `ctx`."""
    if len(arrays) == 1:
        return arrays[0].copyto(ctx)
    return nd.add_n(*[a.as_in_context(ctx) for a in arrays])


def _records(param):
    """The autograd records of the parameter's arrays (one per context), or of its sparse Embedding lookups."""
    noted = sparse_grad.records(param)
    if noted is not None:
        return noted
    return [a._entry.node.recorded for a in param._data or () if a._entry is not None]


def _fresh(param):
    """Whether backward wrote the gradient on every context since the last step (True when autograd does not
    say)."""
    return all(getattr(r, "fresh_grad", True) for r in _records(param))


def _mark_stale(param):
    for record in _records(param):
        if hasattr(record, "fresh_grad"):
            record.fresh_grad = False


def _check_state_shapes(param, state):
    arrays = state if isinstance(state, (tuple, list)) else (state,)
    for a in arrays:
        if isinstance(a, (tuple, list)):
            _check_state_shapes(param, a)
        elif a is not None and param._shape_known() and a.shape != param.shape:
            raise OptimizerStatesError("optimizer state of shape %s does not match Parameter %s of shape %s"
                             % (a.shape, param.name, param.shape))

