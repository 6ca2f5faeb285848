r"""`mx.callback`: what `Module.fit` calls after each batch (`BatchEndParam`) and after each epoch.

Batch-end callbacks take one `mx.model.BatchEndParam(epoch, nbatch, eval_metric, locals)`; epoch-end callbacks
take `(epoch, symbol, arg_params, aux_params)`. Messages go through `logging` at INFO, in MXNet's words, e.g.
Speedometer's `Epoch[0] Batch [50-100]\tSpeed: 12345.67 samples/sec\taccuracy=0.912500`.
"""
import logging
import math
import time

from .model import save_checkpoint

__all__ = ["LogValidationMetricsCallback", "ProgressBar", "Speedometer", "do_checkpoint", "log_train_metric",
           "module_checkpoint"]


def module_checkpoint(mod, prefix, period=1, save_optimizer_states=False):
    """Epoch-end callback: `mod.save_checkpoint(prefix, epoch + 1)` every `period` epochs."""
    period = int(max(1, period))

    def _callback(iter_no, sym=None, arg=None, aux=None):
        if (iter_no + 1) % period == 0:
            mod.save_checkpoint(prefix, iter_no + 1, save_optimizer_states)
    return _callback


def do_checkpoint(prefix, period=1):
    """Epoch-end callback: `mx.model.save_checkpoint(prefix, epoch + 1, ...)` every `period` epochs.

    Examples
    --------
    >>> import os, tempfile, dataflow as mx
    >>> prefix = os.path.join(tempfile.mkdtemp(), 'mlp')
    >>> net = mx.sym.FullyConnected(mx.sym.var('data'), num_hidden=2, name='fc')
    >>> save = mx.callback.do_checkpoint(prefix, period=2)
    >>> for epoch in range(4):
    ...     save(epoch, net, {'fc_weight': mx.nd.ones((2, 3))}, {})
    >>> sorted(os.listdir(os.path.dirname(prefix)))
    ['mlp-0002.params', 'mlp-0004.params', 'mlp-symbol.json']
    """
    period = int(max(1, period))

    def _callback(iter_no, sym, arg, aux):
        if (iter_no + 1) % period == 0:
            save_checkpoint(prefix, iter_no + 1, sym, arg, aux)
    return _callback


def log_train_metric(period, auto_reset=False):
    """Batch-end callback: log the training metric every `period` batches (and reset it if `auto_reset`)."""
    def _callback(param):
        if param.nbatch % period == 0 and param.eval_metric is not None:
            for name, value in param.eval_metric.get_name_value():
                logging.info("Iter[%d] Batch[%d] Train-%s=%f", param.epoch, param.nbatch, name, value)
            if auto_reset:
                param.eval_metric.reset_local()
    return _callback


class Speedometer:
    r"""Batch-end callback: every `frequent` batches, log the speed in samples/sec and the training metric.

    The first call of an epoch starts the clock. With `auto_reset` the metric is reset (locally) after each
    line, so each line reports the batches since the previous one (`Batch [50-100]`); without it the metric
    runs from the epoch's start (`Batch [0-100]`).

    Examples
    --------
    >>> import dataflow as mx
    >>> speed = mx.callback.Speedometer(batch_size=32, frequent=50)
    >>> param = mx.model.BatchEndParam(epoch=0, nbatch=0, eval_metric=None, locals=None)
    >>> speed(param)    # starts the clock; batch 50 then logs "Iter[0] Batch [50]\tSpeed: ... samples/sec"
    """

    def __init__(self, batch_size, frequent=50, auto_reset=True):
        self.batch_size = batch_size
        self.frequent = frequent
        self.init = False
        self.tic = 0
        self.last_count = 0
        self.auto_reset = auto_reset

    def __call__(self, param):
        count = param.nbatch
        if self.last_count > count:     # a new epoch started
            self.init = False
        self.last_count = count
        if not self.init:
            self.init = True
            self.tic = time.time()
            return
        if count % self.frequent != 0:
            return
        try:
            speed = self.frequent * self.batch_size / (time.time() - self.tic)
        except ZeroDivisionError:
            speed = float("inf")
        if param.eval_metric is not None:
            name_value = param.eval_metric.get_name_value()
            values = sum(name_value, ())
            if self.auto_reset:
                param.eval_metric.reset_local()
                msg = "Epoch[%d] Batch [%d-%d]\tSpeed: %.2f samples/sec" + "\t%s=%f" * len(name_value)
                logging.info(msg, param.epoch, count - self.frequent, count, speed, *values)
            else:
                msg = "Epoch[%d] Batch [0-%d]\tSpeed: %.2f samples/sec" + "\t%s=%f" * len(name_value)
                logging.info(msg, param.epoch, count, speed, *values)
        else:
            logging.info("Iter[%d] Batch [%d]\tSpeed: %.2f samples/sec", param.epoch, count, speed)
        self.tic = time.time()


class ProgressBar:
    """Batch-end callback: log a text progress bar of `length` characters for `total` batches."""

    def __init__(self, total, length=80):
        self.bar_len = length
        self.total = total

    def __call__(self, param):
        count = param.nbatch
        filled_len = int(round(self.bar_len * count / float(self.total)))
        percents = math.ceil(100.0 * count / float(self.total))
        prog_bar = "=" * filled_len + "-" * (self.bar_len - filled_len)
        logging.info("[%s] %s%s\r", prog_bar, percents, "%")


class LogValidationMetricsCallback:
    """Score-end callback: log each validation metric as `Epoch[%d] Validation-%s=%f`."""

    def __call__(self, param):
        if not param.eval_metric:
            return
        for name, value in param.eval_metric.get_name_value():
            logging.info("Epoch[%d] Validation-%s=%f", param.epoch, name, value)
