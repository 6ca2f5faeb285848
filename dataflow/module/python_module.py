"""`PythonModule` and `PythonLossModule`: modules written in Python, without a symbol or executors.

A `PythonModule` answers the module API with no parameters and no optimizer (those methods do nothing); a
subclass supplies `_compute_output_shapes` and the computation. `PythonLossModule` is a loss layer: its output
is its input (the scores), and its backward is `grad_func(scores, labels)`, typically the last module of a
`SequentialModule`.
"""
import logging

from .. import ndarray as nd
from ..initializer import Uniform
from .base_module import BaseModule

__all__ = ["PythonModule", "PythonLossModule"]


class PythonModule(BaseModule):
    """A module of `data_names` -> `output_names` (with `label_names`, or None) computed in Python."""

    def __init__(self, data_names, label_names, output_names, logger=logging):
        super().__init__(logger=logger)
        self._data_names = list(data_names) if isinstance(data_names, tuple) else data_names
        self._label_names = list(label_names) if isinstance(label_names, tuple) else label_names
        self._output_names = output_names
        self._data_shapes = None
        self._label_shapes = None
        self._output_shapes = None

    @property
    def data_names(self):
        return self._data_names

    @property
    def output_names(self):
        return self._output_names

    @property
    def data_shapes(self):
        return self._data_shapes

    @property
    def label_shapes(self):
        return self._label_shapes

    @property
    def output_shapes(self):
        return self._output_shapes

    def get_params(self):
        """No parameters: `({}, {})`."""
        return ({}, {})

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None, allow_missing=False,
                    force_init=False, allow_extra=False):
        """No parameters: nothing to initialise."""

    def update(self):
        """No parameters: nothing to update."""

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        """`eval_metric.update(labels, outputs)`; nothing when the module was bound without labels."""
        if self._label_shapes is None:
            return
        if pre_sliced:
            raise RuntimeError("PythonModule does not support presliced labels")
        eval_metric.update(labels, self.get_outputs())

    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False, force_rebind=False,
             shared_module=None, grad_req="write"):
        """Record the input shapes (their names must be the module's) and compute the output shapes."""
        if self.binded and not force_rebind:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if grad_req != "write":
            raise AssertionError("Python module only support write gradient")
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        if [x[0] for x in data_shapes] != list(self._data_names):
            raise AssertionError("PythonModule.bind: data_shapes %s do not match data_names %s"
                                 % (data_shapes, self._data_names))
        self._data_shapes = data_shapes
        self._label_shapes = label_shapes
        if label_shapes is not None:
            if self._label_names is None or [x[0] for x in label_shapes] != list(self._label_names):
                raise AssertionError("PythonModule.bind: label_shapes %s do not match label_names %s"
                                     % (label_shapes, self._label_names))
        self._output_shapes = self._compute_output_shapes()

    def _compute_output_shapes(self):
        """[(name, shape)] of the outputs, from `self._data_shapes` / `self._label_shapes` (subclasses)."""
        raise NotImplementedError()

    def init_optimizer(self, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
                       force_init=False):
        """No parameters: no optimizer."""


class PythonLossModule(PythonModule):
    """A loss module named `name` (output `<name>_output`): forward keeps the scores (its one input) and the
    labels, the output is the scores, and backward sets the input gradient to `grad_func(scores, labels)` (an
    NDArray or anything `nd.array` takes)."""

    def __init__(self, name="pyloss", data_names=("data",), label_names=("softmax_label",), logger=logging,
                 grad_func=None):
        super().__init__(data_names, label_names, [name + "_output"], logger=logger)
        self._name = name
        if len(data_names) != 1 or len(label_names) != 1:
            raise AssertionError("PythonLossModule takes one data and one label name, got %s and %s"
                                 % (data_names, label_names))
        self._scores = None
        self._labels = None
        self._scores_grad = None
        if grad_func is not None and not callable(grad_func):
            raise AssertionError("grad_func must be callable, got %r" % (grad_func,))
        self._grad_func = grad_func

    def _compute_output_shapes(self):
        return [(self._name + "_output", self._data_shapes[0][1])]

    def forward(self, data_batch, is_train=None):
        """Keep the scores, and the labels when training."""
        self._scores = data_batch.data[0]
        if is_train is None:
            is_train = self.for_training
        if is_train:
            self._labels = data_batch.label[0]

    def get_outputs(self, merge_multi_context=True):
        assert merge_multi_context is True
        return [self._scores]

    def backward(self, out_grads=None):
        """The scores' gradient from `grad_func` (a loss takes no output gradients)."""
        assert out_grads is None, "For a loss module, out_grads should be None"
        assert self.for_training
        self._backward_impl()

    def _backward_impl(self):
        """Set `self._scores_grad` from `self._scores` and `self._labels`: `grad_func`, or a subclass's."""
        if self._grad_func is None:
            raise NotImplementedError()
        grad = self._grad_func(self._scores, self._labels)
        self._scores_grad = grad if isinstance(grad, nd.NDArray) else nd.array(grad)

    def get_input_grads(self, merge_multi_context=True):
        assert merge_multi_context is True
        return [self._scores_grad]

    def install_monitor(self, mon):
        raise NotImplementedError()
