"""`mx.gluon.Trainer`: apply an Optimizer to a set of Parameters after `autograd.backward()`.

One device, no kvstore: `allreduce_grads()` has nothing to reduce, and `step(batch_size)` is
`optimizer.rescale_grad = scale / batch_size` followed by one optimizer update per parameter whose grad_req is
not 'null' (each update is one engine push, ordered after the backward that wrote the gradient). Gradients are
never zeroed here: with grad_req 'write' the next backward overwrites them, with 'add' the user zeroes them.

Parameters are indexed by position, and a dict or ParameterDict is taken in sorted-name order (MXNet's rule),
so optimizer states saved by one Trainer load into another built over the same names.

Note [stale gradients]
MXNet refuses to step a parameter whose gradient no backward has written since the last step (a sign that
part of the model went unused), unless `ignore_stale_grad=True`, which skips such parameters instead. A
gradient filled by hand is stale too. That needs autograd to flag the gradients it writes: `_fresh` reads the
flag `fresh_grad` of the variable's autograd record (`Recorded`) when autograd provides one, and `step` clears
it. Until autograd sets it, every gradient counts as fresh, stale ones are not detected, and
`ignore_stale_grad` changes nothing.
"""
from .. import optimizer as opt
from ..util import atomic_write
from .parameter import Parameter, ParameterDict

__all__ = ["Trainer"]


class Trainer:
    """Applies an `Optimizer` to a set of Parameters; use it with `autograd`.

    Parameters
    ----------
    params : ParameterDict, dict of Parameters, or list of Parameters
    optimizer : str or Optimizer
    optimizer_params : dict, keyword arguments for the optimizer (given by name): `{'learning_rate': 0.1}`
    kvstore : str or None, accepted for compatibility; with one device there is nothing to synchronise
    compression_params : dict, accepted and ignored (gradient compression needs a kvstore)
    update_on_kvstore : bool or None, accepted and ignored

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
            if param._data is None and not param.pending:
                param.list_ctx()        # raises: the parameter was never initialized
        self._params = list(params)
        self._kvstore_params = {"kvstore": kvstore, "update_on_kvstore": update_on_kvstore}
        self._compression_params = compression_params
        self._init_optimizer(optimizer, optimizer_params or {})
        self._scale = self._optimizer.rescale_grad

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
        self._updater = opt.get_updater(self._optimizer)

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
        UserWarning unless `ignore_stale_grad`, which skips it (see Note [stale gradients]).
        """
        self._optimizer.rescale_grad = self._scale / batch_size
        self.allreduce_grads()
        self._update(ignore_stale_grad)

    def allreduce_grads(self):
        """Sum the gradients over devices: nothing to do on one device."""

    def update(self, batch_size, ignore_stale_grad=False):
        """The update half of `step` (after `allreduce_grads()`, e.g. when clipping gradients in between)."""
        self._optimizer.rescale_grad = self._scale / batch_size
        self._update(ignore_stale_grad)

    def _update(self, ignore_stale_grad):
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
        if fresh:
            self._updater([i for i, _ in fresh], [p.grad() for _, p in fresh], [p.data() for _, p in fresh])

    def save_states(self, fname):
        """Save the optimizer and its states (momenta, moments, update counts) to `fname`, atomically.

        The Parameters' `lr_mult`/`wd_mult` are not saved (the loading Trainer's own Parameters are used).
        """
        atomic_write(fname, self._updater.get_states(dump_optimizer=True))

    def load_states(self, fname):
        """Load what `save_states` wrote; the optimizer in the file replaces this Trainer's (pickle: trusted
        files only). Nothing changes if the states do not fit this Trainer's parameters."""
        updater = opt.get_updater(self._optimizer)
        with open(fname, "rb") as f:
            updater.set_states(f.read())
        for index, state in updater.states.items():
            if not 0 <= index < len(self._params):
                raise ValueError("the states in %r are for parameter %r; this Trainer has %d parameters"
                                 % (fname, index, len(self._params)))
            _check_state_shapes(self._params[index], state)
        self._updater = updater
        self._optimizer = updater.optimizer
        self._optimizer.param_dict = dict(enumerate(self._params))


def _recorded(param):
    entry = param._data._entry if param._data is not None else None
    return entry.node.recorded if entry is not None else None


def _fresh(param):
    """Whether backward wrote the gradient since the last step (True when autograd does not say)."""
    return getattr(_recorded(param), "fresh_grad", True)


def _mark_stale(param):
    try:
        _recorded(param).fresh_grad = False
    except AttributeError:      # no record, or autograd keeps no flag
        pass


def _check_state_shapes(param, state):
    arrays = state if isinstance(state, (tuple, list)) else (state,)
    for a in arrays:
        if isinstance(a, (tuple, list)):
            _check_state_shapes(param, a)
        elif a is not None and param._shape_known() and a.shape != param.shape:
            raise ValueError("optimizer state of shape %s does not match Parameter %s of shape %s"
                             % (a.shape, param.name, param.shape))

