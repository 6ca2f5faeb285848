"""`BucketingModule`: one Module per bucket (e.g. per sequence length), all sharing the default bucket's
parameters, gradients and optimizer.

`sym_gen(bucket_key)` returns (symbol, data_names, label_names); it runs under a fresh NameManager so every
bucket's auto-named nodes get the same names. `bind` builds the default bucket's Module; a batch with another
`bucket_key` switches to (and on first sight binds) that bucket's Module with `shared_module` = the default one, so
an update through any bucket changes the one set of parameter arrays.
"""
import logging

import numpy as np

from .. import context as ctx
from .. import ndarray as nd
from .. import symbol as sym
from ..initializer import Uniform
from ..model import load_params
from ..name import NameManager
from .base_module import BaseModule, _input_name_lists
from .module import Module


class BucketingModule(BaseModule):
    """A module whose symbol depends on the batch's `bucket_key` (see the module docstring).

    `default_bucket_key` is the bucket bound first, whose Module owns the parameters; it should be the largest,
    since other buckets share its memory. The other arguments are Module's."""

    def __init__(self, sym_gen, default_bucket_key=None, logger=logging, context=ctx.cpu(), work_load_list=None,
                 fixed_param_names=None, state_names=None, group2ctxs=None, compression_params=None):
        super().__init__(logger=logger)
        if default_bucket_key is None:
            raise ValueError("BucketingModule needs a default_bucket_key")
        self._default_bucket_key = default_bucket_key
        self._sym_gen = sym_gen
        symbol, data_names, label_names = self._call_sym_gen(default_bucket_key)
        _, _, state_names, fixed_param_names = _input_name_lists(symbol, data_names, label_names, state_names,
                                                                 fixed_param_names)
        self._compression_params = compression_params
        self._fixed_param_names = fixed_param_names
        self._state_names = state_names
        self._context = context
        self._work_load_list = work_load_list
        self._group2ctxs = group2ctxs
        self._buckets = {}
        self._curr_module = None
        self._curr_bucket_key = None
        self._params_dirty = False
        self._monitor = None
        self._grad_req = None

    def _reset_bind(self):
        self.binded = False
        self._buckets = {}
        self._curr_module = None
        self._curr_bucket_key = None

    def _call_sym_gen(self, *args, **kwargs):
        with NameManager():
            return self._sym_gen(*args, **kwargs)

    def _new_module(self, symbol, data_names, label_names):
        return Module(symbol, data_names, label_names, logger=self.logger, context=self._context,
                      work_load_list=self._work_load_list, fixed_param_names=self._fixed_param_names,
                      state_names=self._state_names, group2ctxs=self._group2ctxs,
                      compression_params=self._compression_params)

    def _check(self, what, optimizer=False):
        if not (self.binded and self.params_initialized and (self.optimizer_initialized or not optimizer)):
            raise RuntimeError("%s: call bind() and init_params()%s first" % (what, ", init_optimizer()"
                                                                              if optimizer else ""))

    # -- names and shapes: the current bucket's -------------------------------------------------------------------
    @property
    def data_names(self):
        if self.binded:
            return self._curr_module.data_names
        return self._call_sym_gen(self._default_bucket_key)[1]

    @property
    def output_names(self):
        if self.binded:
            return self._curr_module.output_names
        return self._call_sym_gen(self._default_bucket_key)[0].list_outputs()

    @property
    def data_shapes(self):
        self._check_bound("data_shapes")
        return self._curr_module.data_shapes

    @property
    def label_shapes(self):
        self._check_bound("label_shapes")
        return self._curr_module.label_shapes

    @property
    def output_shapes(self):
        self._check_bound("output_shapes")
        return self._curr_module.output_shapes

    @property
    def symbol(self):
        self._check_bound("symbol")
        return self._curr_module.symbol

    # -- parameters --------------------------------------------------------------------------------------------------
    def get_params(self):
        if not self.params_initialized:
            raise RuntimeError("get_params: call init_params() first")
        self._curr_module._params_dirty = self._params_dirty
        params = self._curr_module.get_params()
        self._params_dirty = False
        return params

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True, allow_extra=False):
        self._set_params_with(lambda: self._curr_module.set_params(arg_params, aux_params, allow_missing=True,
                                                                   force_init=force_init, allow_extra=allow_extra),
                              arg_params, aux_params, allow_missing, force_init, allow_extra)

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None, allow_missing=False,
                    force_init=False, allow_extra=False):
        if self.params_initialized and not force_init:
            return
        if not self.binded:
            raise RuntimeError("init_params: call bind() before initializing the parameters")
        self._curr_module.init_params(initializer=initializer, arg_params=arg_params, aux_params=aux_params,
                                      allow_missing=allow_missing, force_init=force_init, allow_extra=allow_extra)
        self._params_dirty = False
        self.params_initialized = True

    def get_states(self, merge_multi_context=True):
        self._check("get_states")
        return self._curr_module.get_states(merge_multi_context=merge_multi_context)

    def set_states(self, states=None, value=None):
        self._check("set_states")
        self._curr_module.set_states(states, value)

    # -- binding and buckets -----------------------------------------------------------------------------------------
    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False, force_rebind=False,
             shared_module=None, grad_req="write"):
        """Bind the default bucket's Module for these (largest) shapes; parameters set before are kept."""
        if self.params_initialized:
            arg_params, aux_params = self.get_params()
        if force_rebind:
            self._reset_bind()
        if self.binded:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if shared_module is not None:
            raise ValueError("shared_module for BucketingModule is not supported")
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self.binded = True
        self._grad_req = grad_req
        module = self._buckets.get(self._default_bucket_key)
        if module is None:
            module = self._new_module(*self._call_sym_gen(self._default_bucket_key))
        module.bind(data_shapes, label_shapes, for_training, inputs_need_grad, force_rebind=False,
                    shared_module=None, grad_req=self._grad_req)
        self._curr_module = module
        self._curr_bucket_key = self._default_bucket_key
        self._buckets[self._default_bucket_key] = module
        if self.params_initialized:
            self.set_params(arg_params, aux_params)

    def switch_bucket(self, bucket_key, data_shapes, label_shapes=None):
        """Make `bucket_key`'s Module current, binding it on first use (sharing the default bucket's
        parameters)."""
        self._check_bound("switch_bucket")
        module = self._buckets.get(bucket_key)
        if module is None:
            module = self._new_module(*self._call_sym_gen(bucket_key))
            self._bind_shared(module, data_shapes, label_shapes)
            if self._monitor is not None:
                module.install_monitor(self._monitor)
            self._buckets[bucket_key] = module
        elif not module.binded:
            self._bind_shared(module, data_shapes, label_shapes)
        self._curr_module = module
        self._curr_bucket_key = bucket_key

    def _bind_shared(self, module, data_shapes, label_shapes):
        default = self._buckets[self._default_bucket_key]
        unshared = sorted(set(module._param_names) - set(default._param_names))
        if unshared:        # they would have no values: the buckets share the default bucket's parameters only
            raise ValueError("BucketingModule: the symbol of a bucket has parameters %s that the default bucket "
                             "(%r) lacks; every bucket must use the default bucket's parameters"
                             % (unshared, self._default_bucket_key))
        module.bind(data_shapes, label_shapes, self._curr_module.for_training, self._curr_module.inputs_need_grad,
                    force_rebind=False, shared_module=self._buckets[self._default_bucket_key],
                    grad_req=self._grad_req)

    def init_optimizer(self, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
                       force_init=False):
        """The current Module's optimizer, lent to every other bucket."""
        self._check("init_optimizer")
        if self.optimizer_initialized and not force_init:
            self.logger.warning("optimizer already initialized, ignoring.")
            return
        self._curr_module.init_optimizer(kvstore, optimizer, optimizer_params, force_init=force_init)
        for module in self._buckets.values():
            if module is not self._curr_module:
                module.borrow_optimizer(self._curr_module)
        self.optimizer_initialized = True

    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Bind the batch's bucket ahead of its forward (the current bucket stays current)."""
        self._check("prepare")
        original = self._curr_bucket_key
        self.switch_bucket(data_batch.bucket_key, data_batch.provide_data, data_batch.provide_label)
        self._curr_module.prepare(data_batch, sparse_row_id_fn=sparse_row_id_fn)
        self.switch_bucket(original, None, None)

    # -- computation: the batch's bucket ---------------------------------------------------------------------------
    def forward(self, data_batch, is_train=None):
        self._check("forward")
        self.switch_bucket(data_batch.bucket_key, data_batch.provide_data, data_batch.provide_label)
        self._curr_module.forward(data_batch, is_train=is_train)

    def backward(self, out_grads=None):
        self._check("backward")
        self._curr_module.backward(out_grads=out_grads)

    def update(self):
        self._check("update", optimizer=True)
        self._params_dirty = True
        self._curr_module.update()

    def get_outputs(self, merge_multi_context=True):
        self._check("get_outputs")
        return self._curr_module.get_outputs(merge_multi_context=merge_multi_context)

    def get_input_grads(self, merge_multi_context=True):
        self._check("get_input_grads")
        if not self.inputs_need_grad:
            raise RuntimeError("get_input_grads: bind with inputs_need_grad=True")
        return self._curr_module.get_input_grads(merge_multi_context=merge_multi_context)

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        self._check("update_metric")
        self._curr_module.update_metric(eval_metric, labels, pre_sliced)

    def install_monitor(self, mon):
        self._check_bound("install_monitor")
        self._monitor = mon
        for module in self._buckets.values():
            module.install_monitor(mon)

    # -- files -------------------------------------------------------------------------------------------------------
    def save_checkpoint(self, prefix, epoch, remove_amp_cast=False):
        """`prefix-<epoch>.params`, one `prefix-<key>-symbol.json` per bound bucket, and `prefix.buckets` (the
        keys, an int32 NDArray)."""
        if not self._buckets:
            raise RuntimeError("Empty BucketingModule cannot be saved")
        self.save_params("%s-%04d.params" % (prefix, epoch))
        for bucket_key in self._buckets:
            symbol, _, _ = self._sym_gen(bucket_key)     # as MXNet: under the current NameManager, not a fresh one
            symbol.save("%s-%s-symbol.json" % (prefix, bucket_key), remove_amp_cast=remove_amp_cast)
        nd.save("%s.buckets" % prefix, nd.array(list(self._buckets.keys()), dtype=np.int32))

    @staticmethod
    def load(prefix, epoch, sym_gen=None, default_bucket_key=None, **kwargs):
        """A BucketingModule from `save_checkpoint`'s files (parameters set, not bound); `sym_gen` gives each
        bucket's data and label names."""
        if sym_gen is None:
            raise ValueError("sym_gen is required for loading BucketingModule")
        if default_bucket_key is None:
            raise ValueError("default_bucket_key is required for loading BucketingModule")
        keys = [int(k) for k in nd.load("%s.buckets" % prefix)[0].asnumpy().astype("int32")]
        symbols = {key: sym.load("%s-%s-symbol.json" % (prefix, key)) for key in keys}
        arg_params, aux_params = load_params(prefix, epoch)
        return BucketingModule._loaded(symbols, sym_gen, default_bucket_key, arg_params, aux_params,
                                       lambda key: sym_gen(key), kwargs)

    @staticmethod
    def load_dict(sym_dict=None, sym_gen=None, default_bucket_key=None, arg_params=None, aux_params=None,
                  **kwargs):
        """A BucketingModule from symbols per bucket key and parameter dicts (parameters set, not bound)."""
        for value, what in ((sym_dict, "sym_dict"), (arg_params, "arg_params"), (aux_params, "aux_params"),
                            (default_bucket_key, "default_bucket_key")):
            if value is None:
                raise ValueError("%s needs to be provided for BucketingModule.load_dict" % what)
        # MXNet takes every bucket's data and label names from the default bucket's sym_gen call
        return BucketingModule._loaded(sym_dict, sym_gen, default_bucket_key, arg_params, aux_params,
                                       lambda key: sym_gen(default_bucket_key), kwargs)

    @staticmethod
    def _loaded(symbols, sym_gen, default_bucket_key, arg_params, aux_params, names_of, kwargs):
        module = BucketingModule(sym_gen, default_bucket_key, **kwargs)
        for key, symbol in symbols.items():
            _, data_names, label_names = names_of(key)
            module._buckets[key] = Module(symbol, data_names, label_names, **kwargs)
            if key == default_bucket_key:
                module._curr_module = module._buckets[key]
        if module._curr_module is None:
            raise ValueError("default_bucket_key %r is not among the saved buckets %s"
                             % (default_bucket_key, sorted(symbols)))
        module._curr_module._arg_params = arg_params
        module._curr_module._aux_params = aux_params
        module._curr_module.params_initialized = True
        module.params_initialized = True
        return module
