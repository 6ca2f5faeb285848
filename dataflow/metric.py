"""`mx.metric`: evaluation metrics, computed in numpy from NDArray labels and predictions as MXNet 1.9.1 does.

A metric accumulates `sum_metric` and `num_inst` through `update(labels, preds)` (lists of NDArrays, one per
output) and reports `get() -> (name, sum_metric / num_inst)`, NaN before any update. It keeps a second, global
pair that `reset_local()` leaves alone (`get_global()`); `reset()` clears both. `update_dict(labels, preds)` takes
dicts name -> array and picks the entries named by `label_names` / `output_names` (all, in order, when None).
`CompositeEvalMetric.get()` returns lists of names and values. `create('acc')`, `create(['acc', 'ce'])`,
`create(callable)` build metrics by registered name (lower-cased class name or alias).

What each metric adds per update (checked against MXNet 1.9.1; "per array" means per (label, pred) pair):

    metric (name)                     sum_metric +=                                  num_inst +=
    Accuracy ('accuracy')             correct argmax(pred, axis) (or pred itself      examples
                                      when it has the label's shape), as int32
    TopKAccuracy ('top_k_accuracy_k') label among the k largest                       examples
    F1 ('f1'), MCC ('mcc')            binary score of the update (macro), or the      1 per update (macro),
                                      running score times the examples (micro)        examples (micro)
    MAE, MSE, RMSE                    the mean over the array (labels of one axis     1 per array
                                      become columns, and broadcast)
    CrossEntropy ('cross-entropy'),   -log(p[label] + eps)                            examples
    NegativeLogLikelihood ('nll-loss')
    Perplexity ('perplexity')         -log(max(1e-10, p[label])), get() = exp(mean)   labels not ignored
    Loss ('loss')                     sum(pred)                                       pred.size
    PearsonCorrelation ('pearsonr')   corrcoef(pred, label) (macro)                   1 per array
    PCC ('pcc')                       multi-class MCC of the confusion matrix         1 per update

F1, MCC and PCC (built on confusion counts) live in dataflow/metric_confusion.py; the regression metrics, the
log losses, PearsonCorrelation and Loss in dataflow/metric_regression.py.

Examples
--------
>>> import dataflow as mx
>>> acc = mx.metric.Accuracy()
>>> acc.update([mx.nd.array([0, 1, 1])], [mx.nd.array([[0.3, 0.7], [0, 1.], [0.4, 0.6]])])
>>> acc.get()
('accuracy', 0.6666666666666666)
>>> mx.metric.create(['acc', 'ce']).get()
(['accuracy', 'cross-entropy'], [nan, nan])
>>> mx.metric.create('accuracyy')
Traceback (most recent call last):
...
ValueError: accuracyy is not registered. Please register with metric.register first
"""
import json
import math
import warnings
from collections import OrderedDict

import numpy

from .base import numeric_types, string_types
from .ndarray.ndarray import NDArray

__all__ = ["Accuracy", "CompositeEvalMetric", "CrossEntropy", "CustomMetric", "EvalMetric", "F1", "Loss", "MAE",
           "MCC", "MSE", "NegativeLogLikelihood", "PearsonCorrelation", "Perplexity", "RMSE", "TopKAccuracy",
           "alias", "check_label_shapes", "create", "np", "register"]


def _numpy(x):
    return x.asnumpy() if isinstance(x, NDArray) else numpy.asarray(x)


def check_label_shapes(labels, preds, wrap=False, shape=False):
    """Raise ValueError unless labels and preds have the same length (or, with `shape`, the same shape).

    With `wrap`, a single array is wrapped into a list."""
    if shape:
        label_shape, pred_shape = labels.shape, preds.shape
    else:
        label_shape, pred_shape = len(labels), len(preds)
    if label_shape != pred_shape:
        raise ValueError("Shape of labels {} does not match shape of predictions {}".format(label_shape, pred_shape))
    if wrap:
        if isinstance(labels, (NDArray, numpy.ndarray)):
            labels = [labels]
        if isinstance(preds, (NDArray, numpy.ndarray)):
            preds = [preds]
    return labels, preds


# ------------------------------------------------------------------------------------------------------------
# Registry
# ------------------------------------------------------------------------------------------------------------

_REGISTRY = {}


def register(klass, name=None):
    """Register an EvalMetric subclass under `name` (default: its lower-cased class name) for `create`."""
    if not (isinstance(klass, type) and issubclass(klass, EvalMetric)):
        raise TypeError("Can only register subclass of EvalMetric, got %r" % (klass,))
    name = (name or klass.__name__).lower()
    if name in _REGISTRY and _REGISTRY[name] is not klass:
        warnings.warn("New metric %s.%s registered with name %s is overriding existing metric %s.%s"
                      % (klass.__module__, klass.__name__, name, _REGISTRY[name].__module__,
                         _REGISTRY[name].__name__), UserWarning, stacklevel=2)
    _REGISTRY[name] = klass
    return klass


def alias(*aliases):
    """Class decorator registering the class under further names."""
    def reg(klass):
        for name in aliases:
            register(klass, name)
        return klass
    return reg


def create(metric, *args, **kwargs):
    """A metric from a name (`'acc'`), an instance, a callable `feval(label, pred)`, a list of these
    (a CompositeEvalMetric), a config dict, or its JSON."""
    if isinstance(metric, type) and issubclass(metric, EvalMetric):
        return metric(*args, **kwargs)
    if callable(metric) and not isinstance(metric, type):
        return CustomMetric(metric, *args, **kwargs)
    if isinstance(metric, list):
        composite = CompositeEvalMetric()
        for child in metric:
            composite.add(create(child, *args, **kwargs))
        return composite
    if isinstance(metric, EvalMetric):
        if args or kwargs:
            raise ValueError("metric is already an instance. Additional arguments are invalid")
        return metric
    if isinstance(metric, dict):
        config = dict(metric)
        return create(config.pop("metric"), **config)
    if not isinstance(metric, str):
        raise TypeError("metric must be a name, an EvalMetric, a callable or a list, got %r" % (metric,))
    text = metric.strip()
    if text.startswith("["):
        name, params = json.loads(text)
        return create(name, **params)
    if text.startswith("{"):
        return create(json.loads(text))
    klass = _REGISTRY.get(text.lower())
    if klass is None:
        raise ValueError("%s is not registered. Please register with metric.register first" % text.lower())
    return klass(*args, **kwargs)


# ------------------------------------------------------------------------------------------------------------
# Base classes
# ------------------------------------------------------------------------------------------------------------

class EvalMetric:
    """Base class: accumulates `sum_metric` / `num_inst` (local) and their global twins; subclasses define
    `update`. Extra keyword arguments are kept for `get_config`."""

    def __init__(self, name, output_names=None, label_names=None, **kwargs):
        self.name = str(name)
        self.output_names = output_names
        self.label_names = label_names
        self._has_global_stats = kwargs.pop("has_global_stats", False)
        self._kwargs = kwargs
        self.reset()

    def __str__(self):
        return "EvalMetric: {}".format(dict(self.get_name_value()))

    def get_config(self):
        """The arguments that `create(**config)` needs to rebuild this metric."""
        config = self._kwargs.copy()
        config.update({"metric": type(self).__name__, "name": self.name, "output_names": self.output_names,
                       "label_names": self.label_names})
        return config

    def update_dict(self, label, pred):
        """`update` with the arrays of dicts name -> NDArray, chosen by `label_names`/`output_names`."""
        pred = [pred[n] for n in self.output_names] if self.output_names is not None else list(pred.values())
        label = [label[n] for n in self.label_names] if self.label_names is not None else list(label.values())
        self.update(label, pred)

    def update(self, labels, preds):
        """Accumulate the metric over lists of label and prediction arrays."""
        raise NotImplementedError()

    def _add(self, value, count):
        if isinstance(value, numpy.floating):     # accumulate in Python floats, as MXNet's numpy 1.x did
            value = float(value)
        self.sum_metric += value
        self.global_sum_metric += value
        self.num_inst += count
        self.global_num_inst += count

    def reset(self):
        """Clear the local and the global statistics."""
        self.num_inst = 0
        self.sum_metric = 0.0
        self.global_num_inst = 0
        self.global_sum_metric = 0.0

    def reset_local(self):
        """Clear the local statistics only."""
        self.num_inst = 0
        self.sum_metric = 0.0

    def get(self):
        """(name, value) of the local statistics; NaN when empty."""
        if self.num_inst == 0:
            return (self.name, float("nan"))
        return (self.name, self.sum_metric / self.num_inst)

    def get_global(self):
        """(name, value) since the last `reset()`."""
        if not self._has_global_stats:
            return self.get()
        if self.global_num_inst == 0:
            return (self.name, float("nan"))
        return (self.name, self.global_sum_metric / self.global_num_inst)

    def get_name_value(self):
        """[(name, value), ...] of `get()`."""
        return _name_value(self.get())

    def get_global_name_value(self):
        """[(name, value), ...] of `get_global()`."""
        return _name_value(self.get_global() if self._has_global_stats else self.get())


def _name_value(result):
    name, value = result
    names = name if isinstance(name, list) else [name]
    values = value if isinstance(value, list) else [value]
    return list(zip(names, values))


@register
@alias("composite")
class CompositeEvalMetric(EvalMetric):
    """Several metrics updated together; `get()` returns ([names], [values])."""

    def __init__(self, metrics=None, name="composite", output_names=None, label_names=None):
        self.metrics = [create(m) for m in (metrics or [])]
        super().__init__(name, output_names=output_names, label_names=label_names, has_global_stats=True)

    def add(self, metric):
        """Add a metric (anything `create` takes)."""
        self.metrics.append(create(metric))

    def get_metric(self, index):
        """The child metric at `index`."""
        if not -len(self.metrics) <= index < len(self.metrics):
            raise ValueError("Metric index {} is out of range 0 and {}".format(index, len(self.metrics)))
        return self.metrics[index]

    def update_dict(self, labels, preds):
        if self.label_names is not None:
            labels = OrderedDict(i for i in labels.items() if i[0] in self.label_names)
        if self.output_names is not None:
            preds = OrderedDict(i for i in preds.items() if i[0] in self.output_names)
        for metric in self.metrics:
            metric.update_dict(labels, preds)

    def update(self, labels, preds):
        for metric in self.metrics:
            metric.update(labels, preds)

    def reset(self):
        super().reset()
        for metric in getattr(self, "metrics", ()):
            metric.reset()

    def reset_local(self):
        super().reset_local()
        for metric in self.metrics:
            metric.reset_local()

    def _collect(self, method):
        names, values = [], []
        for metric in self.metrics:
            name, value = method(metric)
            names.extend([name] if isinstance(name, string_types) else name)
            values.extend([value] if isinstance(value, numeric_types) else value)
        return (names, values)

    def get(self):
        return self._collect(lambda m: m.get())

    def get_global(self):
        return self._collect(lambda m: m.get_global())

    def get_config(self):
        config = super().get_config()
        config.update({"metrics": [m.get_config() for m in self.metrics]})
        return config


# ------------------------------------------------------------------------------------------------------------
# Classification
# ------------------------------------------------------------------------------------------------------------

@register
@alias("acc")
class Accuracy(EvalMetric):
    """Fraction of examples whose predicted class (argmax over `axis`) equals the label."""

    def __init__(self, axis=1, name="accuracy", output_names=None, label_names=None):
        super().__init__(name, axis=axis, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.axis = axis

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            pred = _numpy(pred)
            label = _numpy(label)
            if pred.shape != label.shape:
                pred = numpy.argmax(pred, axis=self.axis)
            pred = pred.astype("int32").ravel()
            label = label.astype("int32").ravel()
            check_label_shapes(label, pred)
            self._add(int((pred == label).sum()), len(pred))


@register
@alias("top_k_accuracy", "top_k_acc")
class TopKAccuracy(EvalMetric):
    """Fraction of examples whose label is among the `top_k` highest predictions; named `top_k_accuracy_<k>`."""

    def __init__(self, top_k=1, name="top_k_accuracy", output_names=None, label_names=None):
        super().__init__(name, top_k=top_k, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.top_k = top_k
        if self.top_k <= 1:
            raise ValueError("Please use Accuracy if top_k is no more than 1")
        self.name += "_%d" % self.top_k

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            pred = _numpy(pred).astype("float32")
            if pred.ndim > 2:
                raise ValueError("Predictions should be no more than 2 dims, got shape %s" % (pred.shape,))
            label = _numpy(label).astype("int32")
            check_label_shapes(label, pred)
            if pred.ndim == 1:      # MXNet compares the argpartition of a vector with the labels
                self.sum_metric += (numpy.argpartition(pred, -self.top_k).ravel() == label.ravel()).sum()
            else:
                num_classes = pred.shape[1]
                top_k = min(num_classes, self.top_k)
                ranked = numpy.argpartition(pred, -top_k, axis=1)
                correct = sum(int((ranked[:, num_classes - 1 - j] == label.ravel()).sum()) for j in range(top_k))
                self.sum_metric += correct
                self.global_sum_metric += correct
            self.num_inst += pred.shape[0]
            self.global_num_inst += pred.shape[0]


@register
class Perplexity(EvalMetric):
    """exp of the mean negative log probability of the labels; labels equal to `ignore_label` do not count."""

    def __init__(self, ignore_label, axis=-1, name="perplexity", output_names=None, label_names=None):
        super().__init__(name, ignore_label=ignore_label, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.ignore_label = ignore_label
        self.axis = axis

    def update(self, labels, preds):
        if len(labels) != len(preds):
            raise ValueError("Shape of labels %d does not match shape of predictions %d" % (len(labels), len(preds)))
        loss, num = 0.0, 0
        for label, pred in zip(labels, preds):
            label, pred = _numpy(label), _numpy(pred)
            if label.size != pred.size // pred.shape[-1]:
                raise ValueError("shape mismatch: %s vs. %s" % (label.shape, pred.shape))
            label = label.reshape(label.size)
            # MXNet's pick: one entry per label along `axis`, indices clipped to the axis
            axis = self.axis % pred.ndim
            index = numpy.clip(label.astype("int32"), 0, pred.shape[axis] - 1)
            moved = numpy.moveaxis(pred, axis, -1).reshape(-1, pred.shape[axis])
            picked = moved[numpy.arange(moved.shape[0]), index]
            if self.ignore_label is not None:
                ignore = (label == self.ignore_label).astype(picked.dtype)
                num -= float(ignore.sum())
                picked = picked * (1 - ignore) + ignore
            loss -= float(numpy.log(numpy.maximum(picked.dtype.type(1e-10), picked)).sum())
            num += picked.size
        self._add(loss, num)

    def get(self):
        if self.num_inst == 0:
            return (self.name, float("nan"))
        return (self.name, math.exp(self.sum_metric / self.num_inst))

    def get_global(self):
        if self.global_num_inst == 0:
            return (self.name, float("nan"))
        return (self.name, math.exp(self.global_sum_metric / self.global_num_inst))


@register
class CustomMetric(EvalMetric):
    """A metric from `feval(label, pred)` on numpy arrays, returning a value or (sum, count)."""

    def __init__(self, feval, name=None, allow_extra_outputs=False, output_names=None, label_names=None):
        if name is None:
            name = feval.__name__
            if "<" in name:
                name = "custom(%s)" % name
        super().__init__(name, feval=feval, allow_extra_outputs=allow_extra_outputs, output_names=output_names,
                         label_names=label_names, has_global_stats=True)
        self._feval = feval
        self._allow_extra_outputs = allow_extra_outputs

    def update(self, labels, preds):
        if not self._allow_extra_outputs:
            labels, preds = check_label_shapes(labels, preds, True)
        for pred, label in zip(preds, labels):
            result = self._feval(_numpy(label), _numpy(pred))
            if isinstance(result, tuple):
                self._add(*result)
            else:
                self._add(result, 1)

    def get_config(self):
        raise NotImplementedError("CustomMetric cannot be serialized")


def np(numpy_feval, name=None, allow_extra_outputs=False):
    """A CustomMetric from a function of numpy (label, pred)."""
    def feval(label, pred):
        return numpy_feval(label, pred)
    feval.__name__ = numpy_feval.__name__
    return CustomMetric(feval, name, allow_extra_outputs)


from .metric_confusion import F1, MCC, PCC  # noqa: E402,F401  (registered there; they need EvalMetric)
from .metric_regression import (  # noqa: E402,F401  (likewise)
    MAE, MSE, RMSE, Caffe, CrossEntropy, Loss, NegativeLogLikelihood, PearsonCorrelation, Torch)
