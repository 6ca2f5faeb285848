"""BaseModule: the training and inference loops (`fit`, `score`, `predict`) over the intermediate-level API.

A module goes through states: bound (`bind`: input shapes known, executor built), parameters initialized
(`init_params`), optimizer initialized (`init_optimizer`). The loops here only call the intermediate-level
methods (`forward`, `backward`, `update`, `update_metric`, `get_outputs`, `get_params`, `set_params`), which a
subclass such as `Module` implements, so they read like MXNet's:

    fit:      bind -> init_params -> init_optimizer -> per epoch: per batch forward_backward, update,
              update_metric, batch_end_callback; then log Train-<metric>, Time cost; epoch_end_callback
              (epoch, symbol, arg_params, aux_params); score(eval_data) -> log Validation-<metric>
    score:    forward(is_train=False) + update_metric over an iterator -> [(name, value)]
    predict:  forward(is_train=False) over an iterator; outputs without the batches' padding, merged along
              the batch axis (one NDArray for a single output)

The log lines are MXNet's (`Epoch[%d] Train-%s=%f`, `Epoch[%d] Time cost=%.3f`, `Epoch[%d] Validation-%s=%f`).
Progress within an epoch comes from a batch-end callback: `mx.callback.Speedometer(batch_size, frequent)` logs
samples/sec and the running metric.
"""
import logging
import time
import warnings

import numpy as np

from ops.errors import GraphError

from .. import metric
from ..context import cpu
from ..initializer import Uniform
from ..io import DataBatch, DataDesc, DataIter
from ..model import BatchEndParam, split_params
from .. import ndarray as nd
from ..ndarray import serialization

__all__ = ["BaseModule"]


def _as_list(obj):
    return obj if isinstance(obj, list) else [obj]


def _check_input_names(symbol, names, typename, throw):
    """Each name must be an argument of `symbol`; the message lists the arguments that look like inputs."""
    args = symbol.list_arguments()
    for name in names:
        if name in args:
            continue
        candidates = [a for a in args if not a.endswith(("_weight", "_bias", "_gamma", "_beta"))]
        msg = ("You created Module with Module(..., %s_names=%s) but input with name '%s' is not found in "
               "symbol.list_arguments(). Did you mean one of:\n\t%s" % (typename, names, name,
                                                                         "\n\t".join(candidates)))
        if throw:
            raise GraphError(msg)       # a ValueError too, as MXNet's
        warnings.warn(msg, stacklevel=3)


def _input_name_lists(symbol, data_names, label_names, state_names, fixed_param_names):
    """The constructor's name arguments as lists (None: none), each checked against `symbol`'s arguments (a
    missing label only warns, as in MXNet)."""
    lists = [list(names) if names is not None else [] for names in (data_names, label_names, state_names,
                                                                      fixed_param_names)]
    for names, typename in zip(lists, ("data", "label", "state", "fixed_param")):
        _check_input_names(symbol, names, typename, typename != "label")
    return lists


def _check_names_match(data_names, data_shapes, name, throw):
    """The names given in `<name>_shapes` must be the module's `<name>_names`."""
    actual = [x[0] for x in data_shapes]
    if sorted(data_names) != sorted(actual):
        msg = "Data provided by %s_shapes don't match names specified by %s_names (%s vs. %s)" % (
            name, name, data_shapes, list(data_names))
        if throw:
            raise ValueError(msg)
        warnings.warn(msg, stacklevel=3)


def _parse_data_desc(data_names, label_names, data_shapes, label_shapes):
    """data_shapes / label_shapes as DataDesc lists, checked against the module's input names."""
    data_shapes = [x if isinstance(x, DataDesc) else DataDesc(*x) for x in data_shapes]
    _check_names_match(data_names, data_shapes, "data", True)
    if label_shapes is not None:
        label_shapes = [x if isinstance(x, DataDesc) else DataDesc(*x) for x in label_shapes]
        _check_names_match(label_names, label_shapes, "label", False)
    else:
        _check_names_match(label_names, [], "label", False)
    return data_shapes, label_shapes


class BaseModule:
    """The loops shared by modules: `fit`, `score`, `predict`, `iter_predict`, and parameter files."""

    def __init__(self, logger=logging):
        self.logger = logger
        self.binded = False
        self.for_training = False
        self.inputs_need_grad = False
        self.params_initialized = False
        self.optimizer_initialized = False
        self._symbol = None
        self._total_exec_bytes = 0

    # -- high-level loops ----------------------------------------------------------------------------------------
    def forward_backward(self, data_batch):
        """`forward(data_batch, is_train=True)` then `backward()`."""
        self.forward(data_batch, is_train=True)
        self.backward()

    def score(self, eval_data, eval_metric, num_batch=None, batch_end_callback=None, score_end_callback=None,
              reset=True, epoch=0, sparse_row_id_fn=None):
        """Evaluate `eval_metric` over `eval_data` (inference mode); returns `[(name, value), ...]`."""
        self._check_ready("score")
        if reset:
            eval_data.reset()
        if not isinstance(eval_metric, metric.EvalMetric):
            eval_metric = metric.create(eval_metric)
        eval_metric.reset()
        actual_num_batch = 0
        for nbatch, eval_batch in self._inference_batches(eval_data, num_batch, sparse_row_id_fn):
            self.update_metric(eval_metric, eval_batch.label)
            if batch_end_callback is not None:
                params = BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=eval_metric, locals=locals())
                for callback in _as_list(batch_end_callback):
                    callback(params)
            actual_num_batch += 1
        if score_end_callback:
            params = BatchEndParam(epoch=epoch, nbatch=actual_num_batch, eval_metric=eval_metric, locals=locals())
            for callback in _as_list(score_end_callback):
                callback(params)
        return eval_metric.get_name_value()

    def iter_predict(self, eval_data, num_batch=None, reset=True, sparse_row_id_fn=None):
        """Yield `(outputs, nbatch, batch)` per batch; outputs exclude the batch's padding."""
        self._check_ready("iter_predict")
        if reset:
            eval_data.reset()
        for nbatch, eval_batch in self._inference_batches(eval_data, num_batch, sparse_row_id_fn):
            pad = eval_batch.pad or 0
            yield [out[0:out.shape[0] - pad] for out in self.get_outputs()], nbatch, eval_batch

    def _inference_batches(self, eval_data, num_batch, sparse_row_id_fn):
        """Yield `(nbatch, batch)` for the first `num_batch` batches (all if None), each prepared and run
        forward in inference mode."""
        for nbatch, eval_batch in enumerate(eval_data):
            if num_batch is not None and nbatch == num_batch:
                break
            self.prepare(eval_batch, sparse_row_id_fn=sparse_row_id_fn)
            self.forward(eval_batch, is_train=False)
            yield nbatch, eval_batch

    def predict(self, eval_data, num_batch=None, merge_batches=True, reset=True, always_output_list=False,
                sparse_row_id_fn=None):
        """Run inference over a DataIter (or one NDArray / numpy batch) and collect the outputs.

        Padding is dropped from each batch. With `merge_batches`, each output's batches are concatenated: a single
        output comes back as one NDArray (a list with `always_output_list`); otherwise a list per batch."""
        self._check_ready("predict")
        if isinstance(eval_data, (nd.NDArray, np.ndarray)):
            if isinstance(eval_data, np.ndarray):
                eval_data = nd.array(eval_data)
            self.forward(DataBatch([eval_data]), is_train=False)
            return self.get_outputs()[0]
        if not isinstance(eval_data, DataIter):
            raise ValueError("eval_data must be of type NDArray or DataIter, got %s" % type(eval_data).__name__)
        output_list = [[out.copy() for out in outputs]
                       for outputs, _, _ in self.iter_predict(eval_data, num_batch, reset, sparse_row_id_fn)]
        if not output_list or not merge_batches:
            return output_list
        num_outputs = len(output_list[0])
        if any(len(out) != num_outputs for out in output_list):
            raise ValueError("Cannot merge batches, as num of outputs is not the same in mini-batches. "
                             "Maybe bucketing is used?")
        merged = [nd.concat(*[out[i] for out in output_list], dim=0) for i in range(num_outputs)]
        if num_outputs == 1 and not always_output_list:
            return merged[0]
        return merged

    def fit(self, train_data, eval_data=None, eval_metric="acc", epoch_end_callback=None,
            batch_end_callback=None, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
            eval_end_callback=None, eval_batch_end_callback=None, initializer=Uniform(0.01), arg_params=None,
            aux_params=None, allow_missing=False, force_rebind=False, force_init=False, begin_epoch=0,
            num_epoch=None, validation_metric=None, monitor=None, sparse_row_id_fn=None):
        """Train on `train_data` for epochs `begin_epoch` .. `num_epoch - 1` (see the module docstring).

        On several contexts, `kvstore` 'local'/'device' sums the gradients over them and None updates each on its
        own (dataflow/module/data_parallel.py); `monitor` (mx.monitor.Monitor) collects statistics per batch."""
        if num_epoch is None:
            raise ValueError("please specify number of epochs")
        self.bind(data_shapes=train_data.provide_data, label_shapes=train_data.provide_label, for_training=True,
                  force_rebind=force_rebind)
        if monitor is not None:
            self.install_monitor(monitor)
        self.init_params(initializer=initializer, arg_params=arg_params, aux_params=aux_params,
                         allow_missing=allow_missing, force_init=force_init)
        self.init_optimizer(kvstore=kvstore, optimizer=optimizer, optimizer_params=optimizer_params)
        if validation_metric is None:
            validation_metric = eval_metric
        if not isinstance(eval_metric, metric.EvalMetric):
            eval_metric = metric.create(eval_metric)

        for epoch in range(begin_epoch, num_epoch):
            tic = time.time()
            eval_metric.reset()
            self._begin_epoch(epoch, train_data)
            nbatch = 0
            data_iter = iter(train_data)
            end_of_batch = False
            next_data_batch = next(data_iter)
            while not end_of_batch:
                data_batch = next_data_batch
                if monitor is not None:
                    monitor.tic()
                self.forward_backward(data_batch)
                self.update()
                self.update_metric(eval_metric, data_batch.label)
                if monitor is not None:
                    monitor.toc_print()
                try:
                    next_data_batch = next(data_iter)
                    self.prepare(next_data_batch, sparse_row_id_fn=sparse_row_id_fn)
                except StopIteration:
                    end_of_batch = True
                if end_of_batch:
                    eval_name_vals = self._train_name_value(eval_metric)
                if batch_end_callback is not None:
                    params = BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=eval_metric, locals=locals())
                    for callback in _as_list(batch_end_callback):
                        callback(params)
                nbatch += 1
            for name, val in eval_name_vals:
                self.logger.info("Epoch[%d] Train-%s=%f", epoch, name, val)
            self.logger.info("Epoch[%d] Time cost=%.3f", epoch, time.time() - tic)

            arg_params, aux_params = self.get_params()     # sync the parameters to the module's copies
            self.set_params(arg_params, aux_params)
            if epoch_end_callback is not None:
                for callback in _as_list(epoch_end_callback):
                    callback(epoch, self.symbol, arg_params, aux_params)
            if eval_data is not None:
                res = self.score(eval_data, validation_metric, score_end_callback=eval_end_callback,
                                 batch_end_callback=eval_batch_end_callback, epoch=epoch)
                for name, val in res:
                    self.logger.info("Epoch[%d] Validation-%s=%f", epoch, name, val)
            train_data.reset()

    def _begin_epoch(self, epoch, train_data):
        """What `fit` does before each epoch's first batch: nothing here (SVRGModule takes its snapshot)."""

    def _train_name_value(self, eval_metric):
        """The `Train-<metric>` values `fit` logs after an epoch's last batch."""
        return eval_metric.get_global_name_value()

    def _check_bound(self, what):
        if not self.binded:
            raise RuntimeError("%s: call bind() first" % what)

    def _check_ready(self, what):
        if not (self.binded and self.params_initialized):
            raise RuntimeError("%s: call bind() and init_params() first (binded=%s, params_initialized=%s)"
                               % (what, self.binded, self.params_initialized))

    # -- parameters ------------------------------------------------------------------------------------------------
    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True, allow_extra=False):
        """Copy the given parameters into the module (`init_params` without an initializer)."""
        self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                         allow_missing=allow_missing, force_init=force_init, allow_extra=allow_extra)

    def _set_params_with(self, copy_given, arg_params, aux_params, allow_missing, force_init, allow_extra):
        """`set_params` of a module whose `copy_given()` copies just the given parameters, used with
        `allow_missing`: the missing ones keep their values rather than being initialized."""
        if not allow_missing:
            self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                             allow_missing=allow_missing, force_init=force_init, allow_extra=allow_extra)
            return
        if self.params_initialized and not force_init:
            warnings.warn("Parameters already initialized and force_init=False. set_params call ignored.",
                          stacklevel=3)
            return
        copy_given()
        self._params_dirty = True
        self.params_initialized = True

    def save_params(self, fname):
        """Save the parameters to `fname` with MXNet's `arg:`/`aux:` keys."""
        arg_params, aux_params = self.get_params()
        save_dict = {"arg:%s" % k: v.as_in_context(cpu()) for k, v in arg_params.items()}
        save_dict.update({"aux:%s" % k: v.as_in_context(cpu()) for k, v in aux_params.items()})
        serialization.save(fname, save_dict)

    def load_params(self, fname):
        """Load parameters saved by `save_params` (or a `.params` checkpoint file)."""
        save_dict = serialization.load(fname)
        if not isinstance(save_dict, dict):
            raise ValueError("Invalid param file %s: it holds a list of arrays, not arg:/aux: keys" % fname)
        arg_params, aux_params = split_params(save_dict, fname)
        self.set_params(arg_params, aux_params)

    def get_states(self, merge_multi_context=True):
        """States of stateful modules (none here)."""
        self._check_ready("get_states")
        return []

    def set_states(self, states=None, value=None):
        """Set the states of stateful modules (none here)."""
        self._check_ready("set_states")
        if states or value:
            raise ValueError("%s has no states" % type(self).__name__)

    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Prepare for a batch (bucketing, row_sparse pulls): nothing to do here."""
        if sparse_row_id_fn is not None:
            warnings.warn(UserWarning("sparse_row_id_fn is not invoked for BaseModule."), stacklevel=2)

    # -- the intermediate-level API a module implements -------------------------------------------------------------
    @property
    def symbol(self):
        """The module's Symbol."""
        return self._symbol

    @property
    def data_names(self):
        raise NotImplementedError()

    @property
    def output_names(self):
        raise NotImplementedError()

    @property
    def data_shapes(self):
        raise NotImplementedError()

    @property
    def label_shapes(self):
        raise NotImplementedError()

    @property
    def output_shapes(self):
        raise NotImplementedError()

    def get_params(self):
        raise NotImplementedError()

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None, allow_missing=False,
                    force_init=False, allow_extra=False):
        raise NotImplementedError()

    def install_monitor(self, mon):
        raise NotImplementedError("%s: monitors are not supported" % type(self).__name__)

    def forward(self, data_batch, is_train=None):
        raise NotImplementedError()

    def backward(self, out_grads=None):
        raise NotImplementedError()

    def get_outputs(self, merge_multi_context=True):
        raise NotImplementedError()

    def get_input_grads(self, merge_multi_context=True):
        raise NotImplementedError()

    def update(self):
        raise NotImplementedError()

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        raise NotImplementedError()

    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False, force_rebind=False,
             shared_module=None, grad_req="write"):
        raise NotImplementedError()

    def init_optimizer(self, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
                       force_init=False):
        raise NotImplementedError()
