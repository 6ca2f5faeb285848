"""Module: a Symbol bound for training or inference on one device, with parameters and an optimizer.

How it maps onto the executor. `bind` calls `simple_bind` once with the data and label shapes: one Executor,
hence one Plan whose steps are the forward pass followed by the backward pass (when training), with gradients
written straight into the gradient arrays. Each training step is then

    forward   copy the batch into the bound data/label arrays; one engine push runs the forward steps
    backward  one engine push runs the backward steps
    update    one fused optimizer kernel push per parameter (Updater, indices = positions in param_names)

so `fit` runs as fast as driving the Executor by hand. A batch of another shape (the last batch of `predict`,
`reshape`) gets an Executor from `Executor.reshape`, which shares the parameter, gradient and aux arrays; each
shape's Executor (and Plan) is built once and kept.

Which arguments get gradients (MXNet's rule): parameters 'write' (`grad_req`), except `fixed_param_names`
('null'); data inputs only with `inputs_need_grad`; labels never. The optimizer is created with
`rescale_grad = 1 / batch_size`, `param_idx2name` (so names not ending in `_weight`/`_gamma` get no weight decay)
and the symbol (its `__lr_mult__`/`__wd_mult__` attributes).

The module keeps its own copies of the parameters (`get_params()`), synced from the executor after `update`s.
Binding the one Executor: one_executor.py; several contexts: data_parallel.py. A dist `kvstore` ('dist_sync', ...,
'horovod' or a KVStore object): the parameters are broadcast from rank 0 at `init_optimizer`, each update first sums
every gradient over the contexts and the workers, and with a *_sync store the batch size in `rescale_grad` is that of
all the workers (MXNet's rule).
"""
import logging
import warnings

from .. import initializer as init
from .. import kvstore as kvs
from .. import optimizer as opt
from ..context import Context, cpu
from ..initializer import InitDesc, Uniform
from ..io import DataDesc
from ..model import checkpoint_files, load_checkpoint
from .. import ndarray as nd
from ..ndarray.ndarray import NDArray
from ..util import atomic_write, write_files
from . import data_parallel, distributed, one_executor
from .base_module import BaseModule, _input_name_lists, _parse_data_desc

__all__ = ["Module"]


class Module(BaseModule):
    """A Symbol with parameters, trained and run through one bound Executor per input shape.

    Parameters
    ----------
    symbol : Symbol
    data_names, label_names : names of the data and label arguments (None for none)
    logger : where `fit` logs (default: the `logging` module)
    context : Context, or a list of Contexts (several: each runs a slice of the batch; data_parallel.py)
    work_load_list : the share of the batch of each context (default: equal)
    fixed_param_names : parameters that are not updated (grad_req 'null')
    state_names : arguments that are states, set with `set_states` (neither data nor parameters)

    Examples
    --------
    >>> import numpy as np, dataflow as mx
    >>> data = mx.sym.var('data')
    >>> net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(data, num_hidden=2, name='fc'), name='softmax')
    >>> mod = mx.mod.Module(net)
    >>> mod.bind(data_shapes=[('data', (4, 3))], label_shapes=[('softmax_label', (4,))])
    >>> mod.init_params(mx.init.Xavier())
    >>> mod.output_shapes
    [('softmax_output', (4, 2))]
    >>> mod.predict(mx.nd.ones((4, 3))).shape
    (4, 2)
    >>> mod2 = mx.mod.Module(net)
    >>> mod2.bind(data_shapes=[('x', (4, 3))])
    Traceback (most recent call last):
    ...
    ValueError: Data provided by data_shapes don't match names specified by data_names \
([DataDesc[x,(4, 3),<class 'numpy.float32'>,NCHW]] vs. ['data'])
    """

    def __init__(self, symbol, data_names=("data",), label_names=("softmax_label",), logger=logging,
                 context=cpu(), work_load_list=None, fixed_param_names=None, state_names=None, group2ctxs=None,
                 compression_params=None):
        super().__init__(logger=logger)
        contexts = [context] if isinstance(context, Context) else list(context)
        if not contexts:
            raise ValueError("Module needs at least one context")
        self._context = contexts[0]
        self._contexts = contexts           # several: a DataParallelExecutorGroup (data_parallel.py)
        self._work_load_list = work_load_list
        self._group = None
        self._symbol = symbol
        data_names, label_names, state_names, fixed_param_names = _input_name_lists(
            symbol, data_names, label_names, state_names, fixed_param_names)
        input_names = data_names + label_names + state_names
        self._param_names = [x for x in symbol.list_arguments() if x not in input_names]
        self._fixed_param_names = fixed_param_names
        self._aux_names = symbol.list_auxiliary_states()
        self._data_names = data_names
        self._label_names = label_names
        self._state_names = state_names
        self._output_names = symbol.list_outputs()

        self._arg_params = None
        self._aux_params = None
        self._params_dirty = False
        self._optimizer = None
        self._updater = None
        self._kvstore = None        # a dist KVStore (init_optimizer), else None
        self._update_on_kvstore = False     # a one-process KVStore object runs the updates (distributed.py)
        self._preload_opt_states = None
        self._grad_req = None
        self._exec = None           # the Executor of the current input shapes
        self._execs = {}            # input shapes -> Executor (the first one, bound by `bind`, shares its arrays)
        self._data_shapes = None
        self._label_shapes = None

    # -- checkpoints ------------------------------------------------------------------------------------------------
    @staticmethod
    def load(prefix, epoch, load_optimizer_states=False, **kwargs):
        """A Module from `prefix-symbol.json` and `prefix-%04d.params` (and `prefix-%04d.states` when
        `load_optimizer_states`); bind it before use. `kwargs` go to the constructor."""
        sym, args, auxs = load_checkpoint(prefix, epoch)
        mod = Module(symbol=sym, **kwargs)
        mod._arg_params = args
        mod._aux_params = auxs
        mod.params_initialized = True
        if load_optimizer_states:
            mod._preload_opt_states = "%s-%04d.states" % (prefix, epoch)
        return mod

    def save_checkpoint(self, prefix, epoch, save_optimizer_states=False, remove_amp_cast=True):
        """Write `prefix-symbol.json`, `prefix-%04d.params` (`arg:`/`aux:` keys) and, if asked, the optimizer
        states to `prefix-%04d.states`: the files of `mx.model.save_checkpoint`."""
        arg_params, aux_params = self.get_params()
        files = checkpoint_files(prefix, epoch, self._symbol, arg_params, aux_params)
        if save_optimizer_states:
            if not self.optimizer_initialized:
                raise RuntimeError("save_optimizer_states: call init_optimizer() first")
            files.append(("%s-%04d.states" % (prefix, epoch), self._updater.get_states()))
        write_files(files)          # committed together: a crash leaves all old or all new files
        logging.info('Saved checkpoint to "%s"', files[1][0])
        if save_optimizer_states:
            logging.info('Saved optimizer state to "%s"', files[2][0])

    # -- names and shapes --------------------------------------------------------------------------------------------
    @property
    def data_names(self):
        return self._data_names

    @property
    def label_names(self):
        return self._label_names

    @property
    def output_names(self):
        return self._output_names

    @property
    def data_shapes(self):
        self._check_bound("data_shapes")
        return self._data_shapes

    @property
    def label_shapes(self):
        self._check_bound("label_shapes")
        return self._label_shapes

    @property
    def output_shapes(self):
        self._check_bound("output_shapes")
        if self._group is not None:
            return self._group.get_output_shapes()
        return [(name, out.shape) for name, out in zip(self._output_names, self._exec.outputs)]

    @property
    def _exec_group(self):
        """The current Executor seen as MXNet's one-context DataParallelExecutorGroup (a new view per access), for
        code that reaches into `mod._exec_group.execs[0]`, `.param_arrays`, `.grad_arrays` ... (on several
        contexts, the group itself)."""
        from .executor_group import DataParallelExecutorGroup
        self._check_bound("_exec_group")
        if self._group is not None:
            return self._group
        return DataParallelExecutorGroup.of_executor(
            self._exec, self._symbol, self._context, self._data_shapes, self._label_shapes, self._param_names,
            self.for_training, self.inputs_need_grad, self._fixed_param_names, self._grad_req, self._state_names)

    def install_monitor(self, mon):
        """Report the op outputs of this module's executors to the Monitor `mon` (`mx.monitor`)."""
        self._check_bound("install_monitor")
        for executor in self._group.execs if self._group is not None else [self._exec]:
            mon.install(executor)

    # -- parameters --------------------------------------------------------------------------------------------------
    def get_params(self):
        """(arg_params, aux_params): the module's copies of the parameters, synced from the executor."""
        if not self.params_initialized:
            raise RuntimeError("get_params: call init_params() first")
        if self._params_dirty:
            self._sync_params_from_devices()
        return self._arg_params, self._aux_params

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None, allow_missing=False,
                    force_init=False, allow_extra=False):
        """Give every parameter and aux state a value: from `arg_params`/`aux_params` where they have it, else
        from `initializer` (called with an InitDesc carrying the variable's attributes, so an `__init__`
        attribute wins). A name missing from given params is an error unless `allow_missing`."""
        if self.params_initialized and not force_init:
            warnings.warn("Parameters already initialized and force_init=False. init_params call ignored.",
                          stacklevel=2)
            return
        self._check_bound("init_params")
        if isinstance(initializer, str):
            initializer = init.create(initializer)

        def _impl(desc, arr, cache):
            if cache is not None and desc in cache:
                source = cache[desc]
                if source is not arr:
                    source = source if isinstance(source, NDArray) else nd.array(source, dtype=arr.dtype)
                    if source.shape != arr.shape:
                        raise ValueError("init_params: %r has shape %s, the module needs %s"
                                         % (str(desc), source.shape, arr.shape))
                    source.copyto(arr)
                return
            if cache is not None and not allow_missing:
                raise RuntimeError("%s is not presented" % desc)
            if initializer is not None:
                initializer(desc, arr)

        attrs = self._symbol.attr_dict()
        for name, arr in sorted(self._arg_params.items()):
            _impl(InitDesc(name, attrs.get(name)), arr, arg_params)
        for name, arr in sorted(self._aux_params.items()):
            _impl(InitDesc(name, attrs.get(name)), arr, aux_params)
        self.params_initialized = True
        self._params_dirty = False
        self._copy_params_to_devices(self._arg_params, self._aux_params, allow_extra)

    def _copy_params_to_devices(self, arg_params, aux_params, allow_extra=False):
        if self._group is not None:
            self._group.set_params(arg_params, aux_params, allow_extra=allow_extra)
        else:
            self._exec.copy_params_from(arg_params, aux_params, allow_extra_params=allow_extra)

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True, allow_extra=False):
        """Copy parameters into the module; with `allow_missing`, only the given ones reach the executor."""
        self._set_params_with(lambda: self._copy_params_to_devices(arg_params, aux_params, allow_extra),
                              arg_params, aux_params, allow_missing, force_init, allow_extra)

    def _sync_params_from_devices(self):
        if self._group is not None:     # the mean of the contexts' copies
            self._group.get_params(self._arg_params, self._aux_params)
            self._params_dirty = False
            return
        arg_dict, aux_dict = self._exec.arg_dict, self._exec.aux_dict
        for name, target in self._arg_params.items():
            _copy_cast(arg_dict[name], target)
        for name, target in self._aux_params.items():
            _copy_cast(aux_dict[name], target)
        self._params_dirty = False

    # -- binding -----------------------------------------------------------------------------------------------------
    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False, force_rebind=False,
             shared_module=None, grad_req="write"):
        """Build the executor for the given input shapes (lists of DataDesc or (name, shape)).

        With `for_training`, the Plan includes the backward pass. `shared_module` (bound, initialized) lends its
        parameter arrays and optimizer."""
        if force_rebind:
            self._reset_bind()
        if self.binded:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if inputs_need_grad and not for_training:
            raise ValueError("bind: inputs_need_grad=True needs for_training=True")
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self._grad_req = grad_req
        self._data_shapes, self._label_shapes = _parse_data_desc(self.data_names, self.label_names, data_shapes,
                                                                 label_shapes)
        if shared_module is not None:
            if not (isinstance(shared_module, Module) and shared_module.binded and shared_module.params_initialized):
                raise ValueError("bind: shared_module must be a bound Module with initialized parameters")
        if len(self._contexts) > 1:
            self._exec = data_parallel.bind(self, shared_module)
        else:
            self._exec = one_executor.bind(self, shared_module)
        self._execs = {self._shape_key(self._data_shapes, self._label_shapes): self._exec}

        if shared_module is not None:
            self.params_initialized = True
            self._arg_params = shared_module._arg_params
            self._aux_params = shared_module._aux_params
        elif self.params_initialized:       # e.g. after Module.load: the loaded values go to the executor
            self._copy_params_to_devices(self._arg_params, self._aux_params)
        else:
            arg_dict, aux_dict = self._exec.arg_dict, self._exec.aux_dict
            self._arg_params = {n: nd.zeros(arg_dict[n].shape, cpu(), arg_dict[n].dtype) for n in self._param_names}
            self._aux_params = {n: nd.zeros(aux_dict[n].shape, cpu(), aux_dict[n].dtype) for n in self._aux_names}
        if shared_module is not None and shared_module.optimizer_initialized:
            self.borrow_optimizer(shared_module)
        self.binded = True

    @staticmethod
    def _shape_key(data_shapes, label_shapes):
        return tuple((d.name, tuple(d.shape)) for d in list(data_shapes) + list(label_shapes or []))

    def reshape(self, data_shapes, label_shapes=None):
        """Switch to new input shapes (e.g. another batch size); the parameters are shared, and each shape's
        executor is built once."""
        self._check_bound("reshape")
        self._data_shapes, self._label_shapes = _parse_data_desc(self.data_names, self.label_names, data_shapes,
                                                                 label_shapes)
        if self._group is not None:
            self._group.reshape(self._data_shapes, self._label_shapes)
            self._exec = self._group.execs[0]
            return
        key = self._shape_key(self._data_shapes, self._label_shapes)
        executor = self._execs.get(key)
        if executor is None:
            default = next(iter(self._execs.values()))
            shapes = dict(key)
            executor = default.reshape(partial_shaping=True, allow_up_sizing=True, **shapes)
            self._execs[key] = executor
        self._exec = executor

    def _reset_bind(self):
        self.binded = False
        self._group = None
        self._exec = None
        self._execs = {}
        self._data_shapes = None
        self._label_shapes = None

    # -- optimizer ---------------------------------------------------------------------------------------------------
    def init_optimizer(self, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
                       force_init=False):
        """Create the optimizer (a name plus `optimizer_params`, or an Optimizer) and its Updater.

        A named optimizer gets `rescale_grad = 1 / batch_size` unless `optimizer_params` sets it."""
        if not (self.binded and self.params_initialized):
            raise RuntimeError("init_optimizer: call bind() and init_params() first")
        if self.optimizer_initialized and not force_init:
            self.logger.warning("optimizer already initialized, ignoring...")
            return
        if self._params_dirty:
            self._sync_params_from_devices()
        first = self._data_shapes[0]
        batch_size = first.shape[DataDesc.get_batch_axis(getattr(first, "layout", "NCHW"))]
        self._kvstore = kvs.distributed(kvstore)
        if self._kvstore is not None and "_sync" in self._kvstore.type:
            batch_size *= self._kvstore.num_workers      # MXNet's Module: the batch of all the workers together
        rescale_grad = 1.0 / batch_size
        idx2name = dict(enumerate(self._param_names))
        if isinstance(optimizer, str):
            optimizer_params = dict(optimizer_params)
            optimizer_params.setdefault("rescale_grad", rescale_grad)
            optimizer = opt.create(optimizer, sym=self.symbol, param_idx2name=idx2name, **optimizer_params)
        elif isinstance(optimizer, opt.Optimizer):
            if optimizer.rescale_grad != rescale_grad:
                warnings.warn("Optimizer created manually outside Module but rescale_grad is not normalized to "
                              "1.0/batch_size/num_workers (%s vs. %s). Is this intended?"
                              % (optimizer.rescale_grad, rescale_grad), stacklevel=2)
            if not optimizer.idx2name:
                optimizer.idx2name = idx2name.copy()
        else:
            raise TypeError("optimizer must be a name or an Optimizer, got %s" % type(optimizer).__name__)
        self._optimizer = optimizer
        self._updater = opt.get_updater(optimizer)
        if self._group is not None:
            data_parallel.init_updaters(self, kvstore)
        self._update_on_kvstore = distributed.updates_in_store(self)
        if self._update_on_kvstore:
            distributed.init_store(self)
        elif self._kvstore is not None:
            distributed.broadcast_params(self)
        self.optimizer_initialized = True
        if self._preload_opt_states is not None:
            self.load_optimizer_states(self._preload_opt_states)
            self._preload_opt_states = None

    def borrow_optimizer(self, shared_module):
        """Use `shared_module`'s optimizer and updater."""
        if not shared_module.optimizer_initialized:
            raise RuntimeError("borrow_optimizer: the shared module has no optimizer")
        self._optimizer = shared_module._optimizer
        self._updater = shared_module._updater
        self._kvstore = shared_module._kvstore
        self._update_on_kvstore = shared_module._update_on_kvstore
        self.optimizer_initialized = True

    def save_optimizer_states(self, fname):
        """Save the updater's states (momenta ...) to `fname`."""
        if not self.optimizer_initialized:
            raise RuntimeError("save_optimizer_states: call init_optimizer() first")
        if self._update_on_kvstore:         # the store's optimizer holds the states
            self._kvstore.save_optimizer_states(fname)
            return
        atomic_write(fname, self._updater.get_states())

    def load_optimizer_states(self, fname):
        """Load states saved by `save_optimizer_states`. The pickle is read with a restricted unpickler that accepts
        only numpy arrays, optimizers and learning-rate schedulers: a crafted file cannot run code and raises
        `OptimizerStatesError` (an MXNetError)."""
        if not self.optimizer_initialized:
            raise RuntimeError("load_optimizer_states: call init_optimizer() first")
        if self._update_on_kvstore:
            self._kvstore.load_optimizer_states(fname)
            return
        with open(fname, "rb") as fin:
            self._updater.set_states(fin.read())

    # -- computation -------------------------------------------------------------------------------------------------
    def forward(self, data_batch, is_train=None):
        """Copy the batch's data (and labels, if it has them) into the executor and run the forward pass.

        A batch whose data shapes differ from the bound ones switches executors (see `reshape`).
        `is_train` defaults to `for_training`."""
        self._check_ready("forward")
        data = list(data_batch.data)
        if len(data) != len(self._data_shapes):
            raise ValueError("forward: the batch has %d data arrays, the module takes %d (%s)"
                             % (len(data), len(self._data_shapes), [d.name for d in self._data_shapes]))
        new_shapes = tuple(tuple(d.shape) for d in data)
        if new_shapes != tuple(tuple(d.shape) for d in self._data_shapes):
            provide_data = getattr(data_batch, "provide_data", None)
            new_dshape = provide_data or [DataDesc(d.name, s, d.dtype, d.layout)
                                          for d, s in zip(self._data_shapes, new_shapes)]
            provide_label = getattr(data_batch, "provide_label", None)
            if provide_label:
                new_lshape = provide_label
            elif getattr(data_batch, "label", None) and self._label_shapes:
                new_lshape = [DataDesc(d.name, lab.shape, d.dtype, d.layout)
                              for d, lab in zip(self._label_shapes, data_batch.label)]
            else:
                new_lshape = self._inferred_label_shapes(new_dshape)
            self.reshape(new_dshape, new_lshape)
        if self._group is not None:
            self._group.forward(data_batch, self.for_training if is_train is None else is_train)
            return
        executor = self._exec
        arg_dict = executor.arg_dict
        for desc, array in zip(self._data_shapes, data):
            _load(array, arg_dict[desc.name])
        if self._label_shapes and getattr(data_batch, "label", None):
            for desc, array in zip(self._label_shapes, data_batch.label):
                _load(array, arg_dict[desc.name])
        executor.forward(is_train=self.for_training if is_train is None else is_train)

    def _inferred_label_shapes(self, data_shapes):
        """The label shapes that go with new data shapes, as the symbol infers them (None if it cannot).

        Keeping the labels in the shapes lets a batch without labels reuse the executor of its shape."""
        if not self._label_shapes:
            return None
        known = {d[0]: tuple(d[1]) for d in data_shapes}
        arg_shapes, _, _ = self._symbol.infer_shape_partial(**known)
        inferred = dict(zip(self._symbol.list_arguments(), arg_shapes))
        shapes = [inferred.get(d.name) for d in self._label_shapes]
        if any(not s or 0 in s for s in shapes):
            return None
        return [DataDesc(d.name, tuple(s), d.dtype, d.layout) for d, s in zip(self._label_shapes, shapes)]

    def backward(self, out_grads=None):
        """Run the backward pass of the last forward (gradients into the executor's gradient arrays)."""
        self._check_ready("backward")
        if not self.for_training:
            raise RuntimeError("backward: re-bind with for_training=True to run backward")
        if self._group is not None:
            self._group.backward(out_grads=out_grads)
            return
        self._exec.backward(out_grads=out_grads)

    def update(self):
        """One optimizer step for every parameter that has a gradient."""
        if not (self.binded and self.params_initialized and self.optimizer_initialized):
            raise RuntimeError("update: call bind(), init_params() and init_optimizer() first")
        self._params_dirty = True
        if self._update_on_kvstore:
            distributed.update_in_store(self)
            return
        if self._kvstore is not None:
            distributed.reduce_gradients(self)
        if self._group is not None:
            data_parallel.update(self)
            return
        arg_dict, grad_dict = self._exec.arg_dict, self._exec.grad_dict
        indices, grads, weights = [], [], []
        for index, name in enumerate(self._param_names):
            grad = grad_dict[name]
            if grad is not None:
                indices.append(index)
                grads.append(grad)
                weights.append(arg_dict[name])
        if indices:
            self._updater(indices, grads, weights)

    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Pull the rows `sparse_row_id_fn(data_batch)` ({parameter name: row ids}) of the parameters from the
        kvstore that updates them (MXNet's Module.prepare, for row_sparse weights)."""
        if sparse_row_id_fn is None:
            return
        if not self._update_on_kvstore:
            warnings.warn(UserWarning("Parameters are not updated in the KVStore. No need to call sparse_row_id_fn."),
                          stacklevel=2)
            return
        distributed.pull_rows(self, sparse_row_id_fn(data_batch))

    def get_outputs(self, merge_multi_context=True):
        """The outputs of the last forward (the executor's arrays, overwritten by the next forward)."""
        self._check_ready("get_outputs")
        if self._group is not None:
            return self._group.get_outputs(merge_multi_context)
        outputs = list(self._exec.outputs)
        return outputs if merge_multi_context else [[o] for o in outputs]

    def get_input_grads(self, merge_multi_context=True):
        """The gradients of the data inputs (bind with `inputs_need_grad=True`)."""
        self._check_ready("get_input_grads")
        if not self.inputs_need_grad:
            raise RuntimeError("get_input_grads: bind with inputs_need_grad=True")
        if self._group is not None:
            return self._group.get_input_grads(merge_multi_context)
        grads = [self._exec.grad_dict[d.name] for d in self._data_shapes]
        return grads if merge_multi_context else [[g] for g in grads]

    def get_states(self, merge_multi_context=True):
        """The values of the state inputs (`state_names`)."""
        self._check_ready("get_states")
        states = [self._exec.arg_dict[n] for n in self._state_names]
        return states if merge_multi_context else [[s] for s in states]

    def set_states(self, states=None, value=None):
        """Set the state inputs from arrays (`states`) or to one scalar `value`."""
        self._check_ready("set_states")
        targets = [self._exec.arg_dict[n] for n in self._state_names]
        if states is not None:
            if value is not None:
                raise ValueError("set_states: give states or value, not both")
            states = [s[0] if isinstance(s, (list, tuple)) else s for s in states]
            for source, target in zip(states, targets, strict=True):
                _load(source, target)
        elif value is not None:
            for target in targets:
                target[:] = value
        else:
            raise ValueError("set_states: give states or value")

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        """Update `eval_metric` with the last outputs and `labels` (matched by name through `update_dict`)."""
        if self._group is not None:
            self._group.update_metric(eval_metric, labels, pre_sliced)
            return
        if pre_sliced:
            labels = labels[0]
        label_names = [d.name for d in self._label_shapes] if self._label_shapes else []
        label_dict = dict(zip(label_names, labels or []))
        pred_dict = dict(zip(self._output_names, self._exec.outputs))
        eval_metric.update_dict(label_dict, pred_dict)


def _load(source, target):
    """Copy a batch array (NDArray or numpy) into a bound argument array."""
    if not isinstance(source, NDArray):
        source = nd.array(source, dtype=target.dtype)
    if source.shape != target.shape:
        raise ValueError("forward: an input of shape %s does not fit the bound shape %s"
                         % (source.shape, target.shape))
    source.copyto(target)


def _copy_cast(source, target):
    if source is target:
        return
    (source if source.dtype == target.dtype else source.astype(target.dtype)).copyto(target)
