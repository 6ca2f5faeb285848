"""`SequentialModule`: modules chained one after another, the outputs of each the data of the next.

Meta flags given to `add`: `take_labels` (the module receives the batch's labels; any module in the chain may)
and `auto_wiring` (the previous outputs are renamed to this module's data names). Every module after the first
is bound with `inputs_need_grad` when training, so backward can pass input gradients down the chain.
"""
import copy
import logging

from ..initializer import Uniform
from .base_module import BaseModule

__all__ = ["SequentialModule"]


class SequentialModule(BaseModule):
    """A chain of modules (MXNet's `mx.mod.SequentialModule`); a handy utility, less efficient than one graph."""

    META_TAKE_LABELS = "take_labels"
    META_AUTO_WIRING = "auto_wiring"

    def __init__(self, logger=logging):
        super().__init__(logger=logger)
        self._modules = []
        self._metas = []
        self._label_shapes = None
        self._data_shapes = None
        self._meta_keys = {getattr(SequentialModule, x) for x in dir(SequentialModule) if x.startswith("META_")}

    def add(self, module, **kwargs):
        """Append `module` with meta flags (`take_labels`, `auto_wiring`); resets the chain to unbound. Returns
        self, so calls chain."""
        for key in kwargs:
            assert key in self._meta_keys, 'Unknown meta "%s", a typo?' % key
        self._modules.append(module)
        self._metas.append(kwargs)
        self.binded = False
        self.params_initialized = False
        self.optimizer_initialized = False
        return self

    def _takes_labels(self, meta):
        return bool(meta.get(SequentialModule.META_TAKE_LABELS, False))

    @property
    def data_names(self):
        return self._modules[0].data_names if self._modules else []

    @property
    def output_names(self):
        return self._modules[-1].output_names if self._modules else []

    @property
    def data_shapes(self):
        assert self.binded
        return self._modules[0].data_shapes

    @property
    def label_shapes(self):
        assert self.binded
        return self._label_shapes

    @property
    def output_shapes(self):
        assert self.binded
        return self._modules[-1].output_shapes

    def get_params(self):
        """The parameters of all the modules, merged into one (arg_params, aux_params)."""
        assert self.binded and self.params_initialized
        arg_params, aux_params = {}, {}
        for module in self._modules:
            arg, aux = module.get_params()
            arg_params.update(arg)
            aux_params.update(aux)
        return (arg_params, aux_params)

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None, allow_missing=False,
                    force_init=False, allow_extra=False):
        """Initialise every module's parameters; two modules may not have a parameter of the same name."""
        if self.params_initialized and not force_init:
            return
        assert self.binded, "call bind before initializing the parameters"
        for module in self._modules:
            module.init_params(initializer=initializer, arg_params=arg_params, aux_params=aux_params,
                               allow_missing=allow_missing, force_init=force_init, allow_extra=allow_extra)
        owners_of_args, owners_of_aux = {}, {}
        for layer, module in enumerate(self._modules):
            arg, aux = module.get_params()
            self._check_names(owners_of_args, arg.keys(), layer)
            self._check_names(owners_of_aux, aux.keys(), layer)
        self.params_initialized = True

    def _check_names(self, owners, names, layer):
        for name in names:
            if name in owners:
                raise AssertionError(
                    'Duplicated parameter names: name "%s" in layer %d (%s) is already used in layer %d (%s).'
                    % (name, layer, type(self._modules[layer]), owners[name], type(self._modules[owners[name]])))
            owners[name] = layer

    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False, force_rebind=False,
             shared_module=None, grad_req="write"):
        """Bind each module on the output shapes of the one before (the first on `data_shapes`)."""
        if self.binded and not force_rebind:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if inputs_need_grad:
            assert for_training is True
        assert shared_module is None, "Shared module is not supported"
        assert len(self._modules) > 0, "Attempting to bind an empty SequentialModule"
        self.binded = True
        # (MXNet leaves these unset, so its get_input_grads always failed; the chain answers here)
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self._label_shapes = label_shapes
        shapes = data_shapes
        anyone_takes_labels = False
        for layer, (module, meta) in enumerate(zip(self._modules, self._metas)):
            takes_labels = self._takes_labels(meta)
            anyone_takes_labels |= takes_labels
            if meta.get(SequentialModule.META_AUTO_WIRING, False):
                assert len(module.data_names) == len(shapes)
                shapes = [(name, shape) for name, (_, shape) in zip(module.data_names, shapes)]
            module.bind(data_shapes=shapes, label_shapes=label_shapes if takes_labels else None,
                        for_training=for_training, inputs_need_grad=bool(inputs_need_grad or
                                                                         (for_training and layer > 0)),
                        force_rebind=force_rebind, shared_module=None, grad_req=grad_req)
            shapes = module.output_shapes
        if not anyone_takes_labels:
            self._label_shapes = None

    def init_optimizer(self, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
                       force_init=False):
        """Install the optimizer in every module."""
        assert self.binded and self.params_initialized
        if self.optimizer_initialized and not force_init:
            self.logger.warning("optimizer already initialized, ignoring.")
            return
        for module in self._modules:
            module.init_optimizer(kvstore=kvstore, optimizer=optimizer, optimizer_params=optimizer_params,
                                  force_init=force_init)
        self.optimizer_initialized = True

    def forward(self, data_batch, is_train=None):
        """Each module's forward on the previous module's outputs (a shallow copy of the batch carries them)."""
        assert self.binded and self.params_initialized
        data_batch = copy.copy(data_batch)      # keeps bucket_key, pad, ...
        for layer, module in enumerate(self._modules):
            module.forward(data_batch, is_train=is_train)
            if layer + 1 == len(self._modules):
                break
            data_batch.data = module.get_outputs()
            if hasattr(data_batch, "provide_data"):
                names = [x[0] for x in module.output_shapes]
                assert len(names) == len(data_batch.data)
                data_batch.provide_data = [(name, x.shape) for name, x in zip(names, data_batch.data)]

    def backward(self, out_grads=None):
        """Backward from the last module to the first, each one's input gradients the previous one's
        output gradients."""
        assert self.binded and self.params_initialized
        for layer in reversed(range(len(self._modules))):
            module = self._modules[layer]
            module.backward(out_grads=out_grads)
            if layer == 0:
                break
            out_grads = module.get_input_grads()

    def update(self):
        assert self.binded and self.params_initialized and self.optimizer_initialized
        for module in self._modules:
            module.update()

    def get_outputs(self, merge_multi_context=True):
        assert self.binded and self.params_initialized
        return self._modules[-1].get_outputs(merge_multi_context=merge_multi_context)

    def get_input_grads(self, merge_multi_context=True):
        assert self.binded and self.params_initialized and self.inputs_need_grad
        return self._modules[0].get_input_grads(merge_multi_context=merge_multi_context)

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        """Update `eval_metric` from every module that takes labels."""
        assert self.binded and self.params_initialized
        for meta, module in zip(self._metas, self._modules):
            if self._takes_labels(meta):
                module.update_metric(eval_metric, labels, pre_sliced)

    def install_monitor(self, mon):
        assert self.binded
        for module in self._modules:
            module.install_monitor(mon)
