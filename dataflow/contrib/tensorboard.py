"""`mx.contrib.tensorboard`: `LogMetricsCallback`, a batch/epoch-end callback writing the metric values as
TensorBoard scalars through `mxboard.SummaryWriter`."""
import logging

from ..base import MXNetError


class LogMetricsCallback:
    """Write `param.eval_metric`'s values (named `<prefix>-<name>` with a prefix) at step `param.epoch` into
    event files under `logging_dir`. Without mxboard installed the callback logs an error when made (as MXNet)
    and raises an MXNetError naming mxboard when called."""

    def __init__(self, logging_dir, prefix=None):
        self.prefix = prefix
        self.summary_writer = None
        try:
            from mxboard import SummaryWriter
        except ImportError:
            logging.error("You can install mxboard via `pip install mxboard`.")
        else:
            self.summary_writer = SummaryWriter(logging_dir)

    def __call__(self, param):
        if param.eval_metric is None:
            return
        if self.summary_writer is None:
            raise MXNetError("LogMetricsCallback needs mxboard (`pip install mxboard`) to write TensorBoard files")
        for name, value in param.eval_metric.get_name_value():
            if self.prefix is not None:
                name = "%s-%s" % (self.prefix, name)
            self.summary_writer.add_scalar(name, value, global_step=param.epoch)
