"""`mx.monitor.Monitor`: statistics of every op output (and, with `monitor_all`, input) of installed executors,
collected every `interval` batches between `tic()` and `toc()` (MXNet 1.9.1's class; the executors report
through `Executor.set_monitor_callback`, dataflow/monitoring.py).

Examples
--------
>>> import dataflow as mx
>>> ex = (mx.sym.var('x') * 2).simple_bind(mx.cpu(), x=(4,))
>>> mon = mx.monitor.Monitor(1, pattern='.*_output')
>>> mon.install(ex)
>>> mon.tic()
>>> _ = ex.forward(x=mx.nd.ones(4))
>>> [(step, name) for step, name, _ in mon.toc()]
[(1, '_mulscalar0_output')]
"""
import logging
import math
import re

from .base import py_str
from .ndarray.ndarray import NDArray

__all__ = ["Monitor"]


class Monitor:
    """Collects `stat_func(array)` (default: norm(x) / sqrt(x.size)) of the arrays whose names match `pattern`.

    Parameters
    ----------
    interval : int, collect every `interval` calls of `tic()`
    stat_func : callable NDArray -> NDArray (or list of them), the statistic
    pattern : str, a regular expression the names must match
    sort : bool, sort the results by name
    monitor_all : bool, also the inputs of every op
    """

    def __init__(self, interval, stat_func=None, pattern=".*", sort=False, monitor_all=False):
        if stat_func is None:
            def asum_stat(x):
                """The norm over the square root of the size."""
                return _norm(x) / math.sqrt(x.size)
            stat_func = asum_stat
        self.stat_func = stat_func
        self.interval = interval
        self.activated = False
        self.queue = []
        self.step = 0
        self.exes = []
        self.re_prog = re.compile(pattern)
        self.sort = sort
        self.monitor_all = monitor_all

    def stat_helper(self, name, array):
        """The callback the executors call for each op output (or input)."""
        name = py_str(name)
        if not self.activated or not self.re_prog.match(name):
            return
        self.queue.append((self.step, name, self.stat_func(array)))

    def install(self, exe):
        """Report the op outputs of executor `exe` to this monitor."""
        exe.set_monitor_callback(self.stat_helper, self.monitor_all)
        self.exes.append(exe)

    def tic(self):
        """Start collecting for this batch when the step is a multiple of `interval`."""
        if self.step % self.interval == 0:
            self._wait()
            self.queue = []
            self.activated = True
        self.step += 1

    def toc(self):
        """Stop collecting; [(step, name, statistic as text)] including the executors' arguments and aux states
        that match the pattern."""
        if not self.activated:
            return []
        self._wait()
        for exe in self.exes:
            for name, array in zip(exe._symbol.list_arguments(), exe.arg_arrays):
                if self.re_prog.match(name):
                    self.queue.append((self.step, name, self.stat_func(array)))
            for name, array in zip(exe._symbol.list_auxiliary_states(), exe.aux_arrays):
                if self.re_prog.match(name):
                    self.queue.append((self.step, name, self.stat_func(array)))
        self.activated = False
        if self.sort:
            self.queue.sort(key=lambda item: item[1])
        result = []
        for step, name, values in self.queue:
            values = [values] if isinstance(values, NDArray) else values
            text = ""
            for value in values:
                text += (str(value.asscalar()) if value.shape in ((1,), ()) else str(value.asnumpy())) + "\t"
            result.append((step, name, text))
        self.queue = []
        return result

    def toc_print(self):
        """`toc()`, logged one line per statistic."""
        for step, name, text in self.toc():
            logging.info("Batch: {:7d} {:30s} {:s}".format(step, name, text))

    def _wait(self):
        for exe in self.exes:
            for array in list(exe.arg_arrays) + list(exe.aux_arrays):
                array.wait_to_read()


def _norm(x):
    from . import ndarray
    return ndarray.norm(x)
