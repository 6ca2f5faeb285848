"""`SVRGModule`: a Module trained with stochastic variance-reduced gradients (Johnson & Zhang, 2013).

Every `update_freq` epochs `update_full_grads` takes a snapshot of the weights into an auxiliary module and
averages its gradients over the whole training data (per batch: the batch's summed gradient; averaged over the
batches, a padded last batch counting as a fraction). Each training batch then runs forward/backward on both
modules, and the gradient the optimizer sees is

    g(current weights, batch) - g(snapshot weights, batch) + full gradient of the snapshot.

As in MXNet 1.9.1, the running full-gradient sums are not cleared between snapshots: each new average is added to
the previous one.
"""
import logging

from ...context import cpu
from ...module import Module
from ... import ndarray as nd
from ... import optimizer as opt
from .svrg_optimizer import _SVRGOptimizer


class SVRGModule(Module):
    """A Module (same arguments) whose `fit`/`update` follow SVRG; `update_freq` (a positive int, required) is
    how many epochs apart the full gradients are recomputed."""

    def __init__(self, symbol, data_names=("data",), label_names=("softmax_label",), logger=logging, context=cpu(),
                 work_load_list=None, fixed_param_names=None, state_names=None, group2ctxs=None,
                 compression_params=None, update_freq=None):
        super().__init__(symbol, data_names=data_names, label_names=label_names, logger=logger, context=context,
                         work_load_list=work_load_list, fixed_param_names=fixed_param_names,
                         state_names=state_names, group2ctxs=group2ctxs, compression_params=compression_params)
        if not isinstance(update_freq, int):
            raise TypeError("update_freq in SVRGModule must be an integer to represent the frequency for "
                            "calculating full gradients")
        if update_freq <= 0:
            raise ValueError("update_freq in SVRGModule must be a positive integer to represent the frequency for "
                             "calculating full gradients")
        self.update_freq = update_freq
        self._mod_aux = Module(symbol, data_names, label_names, logger, context, work_load_list, fixed_param_names,
                               state_names, group2ctxs, compression_params)
        self._param_dict = None
        self._ctx_len = len(self._contexts)

    def _reset_bind(self):
        super()._reset_bind()
        self._mod_aux._reset_bind()

    def reshape(self, data_shapes, label_shapes=None):
        super().reshape(data_shapes, label_shapes=label_shapes)
        self._mod_aux.reshape(data_shapes, label_shapes=label_shapes)

    def init_optimizer(self, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
                       force_init=False):
        """Install `optimizer` wrapped in an `_SVRGOptimizer`, and zeroed full-gradient sums per context."""
        self._param_dict = [{name: nd.zeros(shape=value.shape, ctx=self._contexts[i])
                             for name, value in self.get_params()[0].items()} for i in range(self._ctx_len)]
        svrg_optimizer = self._create_optimizer(_SVRGOptimizer.__name__, default_opt=optimizer, kvstore=kvstore,
                                                optimizer_params=optimizer_params)
        super().init_optimizer(kvstore=kvstore, optimizer=svrg_optimizer, optimizer_params=optimizer_params,
                               force_init=force_init)

    def _create_optimizer(self, optimizer, default_opt, kvstore, optimizer_params):
        """The `_SVRGOptimizer`, with MXNet's rescale_grad (1 / batch size) and index names, `_full` keys
        numbered after the parameters' (one index per parameter and context)."""
        idx2name = {}
        for k in range(self._ctx_len):
            idx2name.update({i * self._ctx_len + k: name for i, name in enumerate(self._exec_group.param_names)})
        for name in self._param_dict[0]:
            idx2name[max(idx2name) + 1] = name + "_full"
        optimizer_params = dict(optimizer_params)
        optimizer_params.setdefault("rescale_grad", 1.0 / self._exec_group.batch_size)
        optimizer_params["default_optimizer"] = default_opt
        optimizer_params["param_idx2name"] = idx2name
        return opt.create(optimizer, **optimizer_params)

    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False, force_rebind=False,
             shared_module=None, grad_req="write"):
        """Bind this module and, for training, the auxiliary (snapshot) module."""
        super().bind(data_shapes, label_shapes, for_training, inputs_need_grad, force_rebind, shared_module,
                     grad_req)
        if for_training:
            self._mod_aux.bind(data_shapes, label_shapes, for_training, inputs_need_grad, force_rebind,
                               shared_module, grad_req)

    def forward(self, data_batch, is_train=None):
        """Forward; when training (`is_train=True`), the snapshot module's forward on the same batch too."""
        super().forward(data_batch, is_train)
        if is_train:
            self._mod_aux.forward(data_batch, is_train)

    def backward(self, out_grads=None):
        super().backward(out_grads)
        if self._mod_aux.binded:
            self._mod_aux.backward(out_grads)

    def update(self):
        """Replace the gradients by SVRG's, then one optimizer step."""
        self._update_svrg_gradients()
        super().update()

    def update_full_grads(self, train_data):
        """Snapshot the current weights into the auxiliary module and add to the full-gradient sums the average
        gradient over `train_data` (one pass; a padded last batch counts as the fraction it really holds)."""
        param_names = self._exec_group.param_names
        arg, aux = self.get_params()
        self._mod_aux.set_params(arg_params=arg, aux_params=aux)
        train_data.reset()
        nbatch, padding = 0, 0
        for batch in train_data:
            self._mod_aux.forward(batch, is_train=True)
            self._mod_aux.backward()
            nbatch += 1
            grad_arrays = self._mod_aux._exec_group.grad_arrays
            for ctx in range(self._ctx_len):
                for index, name in enumerate(param_names):
                    self._param_dict[ctx][name] = self._param_dict[ctx][name] + grad_arrays[index][ctx]
            padding = batch.pad
        true_num_batch = nbatch - padding / train_data.batch_size
        for name in param_names:
            for ctx in range(self._ctx_len):
                self._param_dict[ctx][name] /= true_num_batch

    def _svrg_grads_update_rule(self, g_curr_batch_curr_weight, g_curr_batch_special_weight,
                                g_special_weight_all_batch):
        """In place: current gradient - snapshot gradient + full gradient (each a list per parameter)."""
        for index, grad in enumerate(g_curr_batch_curr_weight):
            grad -= g_curr_batch_special_weight[index]
            grad += g_special_weight_all_batch[index]
        return g_curr_batch_curr_weight

    def _update_svrg_gradients(self):
        """Turn each context's gradient arrays into SVRG's, in place."""
        group, aux_group = self._exec_group, self._mod_aux._exec_group
        for ctx in range(self._ctx_len):
            for index, name in enumerate(group.param_names):
                self._svrg_grads_update_rule([group.grad_arrays[index][ctx]], [aux_group.grad_arrays[index][ctx]],
                                             [self._param_dict[ctx][name]])

    def _begin_epoch(self, epoch, train_data):
        """`fit` (Module's loop) recomputes the full gradients every `update_freq` epochs (from `begin_epoch`)."""
        if epoch % self.update_freq == 0:
            self.update_full_grads(train_data)
            train_data.reset()

    def _train_name_value(self, eval_metric):
        """MXNet's SVRGModule.fit logs the metric's local values (a batch callback may have reset them)."""
        return eval_metric.get_name_value()

    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Prepare both modules for `data_batch`."""
        super().prepare(data_batch, sparse_row_id_fn=sparse_row_id_fn)
        self._mod_aux.prepare(data_batch, sparse_row_id_fn=sparse_row_id_fn)
