"""Metrics built on confusion counts: F1 and MCC (binary), PCC (multi-class), as MXNet 1.9.1 computes them.

Part of `mx.metric` (dataflow/metric.py re-exports them).
"""
import math

import numpy

from .metric import EvalMetric, _numpy, check_label_shapes, register


class _BinaryStats:
    """Confusion counts of a binary classifier (class 1 is positive), local and global."""

    def __init__(self):
        self.reset_stats()

    def update_binary_stats(self, label, pred):
        pred = _numpy(pred)
        label = _numpy(label).astype("int32")
        pred_label = numpy.argmax(pred, axis=1)
        check_label_shapes(label, pred)
        if len(numpy.unique(label)) > 2:
            raise ValueError("%s currently only supports binary classification." % type(self).__name__)
        pred_true, label_true = pred_label == 1, label == 1
        pred_false, label_false = 1 - pred_true, 1 - label_true
        counts = ((pred_true * label_true).sum(), (pred_true * label_false).sum(),
                  (pred_false * label_true).sum(), (pred_false * label_false).sum())
        for key, count in zip(("true_positives", "false_positives", "false_negatives", "true_negatives"), counts):
            setattr(self, key, getattr(self, key) + count)
            setattr(self, "global_" + key, getattr(self, "global_" + key) + count)

    def _counts(self, use_global):
        p = "global_" if use_global else ""
        return tuple(float(getattr(self, p + k)) for k in ("true_positives", "false_positives",
                                                           "false_negatives", "true_negatives"))

    def fscore(self, use_global=False):
        tp, fp, fn, _ = self._counts(use_global)
        precision = tp / (tp + fp) if tp + fp > 0 else 0.0
        recall = tp / (tp + fn) if tp + fn > 0 else 0.0
        return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0

    def matthewscc(self, use_global=False):
        tp, fp, fn, tn = self._counts(use_global)
        if not tp + fp + fn + tn:
            return 0.0
        denom = 1.0
        for t in (tp + fp, tp + fn, tn + fp, tn + fn):
            if t != 0.0:
                denom *= t
        return (tp * tn - fp * fn) / math.sqrt(denom)

    def total_examples(self, use_global=False):
        p = "global_" if use_global else ""
        return int(sum(getattr(self, p + k) for k in ("true_positives", "false_positives", "false_negatives",
                                                      "true_negatives")))

    def local_reset_stats(self):
        self.true_positives = self.false_positives = self.false_negatives = self.true_negatives = 0

    def reset_stats(self):
        self.local_reset_stats()
        self.global_true_positives = self.global_false_positives = 0
        self.global_false_negatives = self.global_true_negatives = 0


class _BinaryMetric(EvalMetric):
    """F1 and MCC: a binary score per update ('macro') or over all examples so far ('micro')."""

    def __init__(self, name, output_names, label_names, average):
        self.average = average
        self.metrics = _BinaryStats()
        super().__init__(name, output_names=output_names, label_names=label_names, has_global_stats=True)

    def _score(self, use_global):
        raise NotImplementedError()

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            self.metrics.update_binary_stats(label, pred)
        if self.average == "macro":
            self._add(self._score(False), 1)
            self.metrics.reset_stats()
        else:
            self.sum_metric = self._score(False) * self.metrics.total_examples()
            self.global_sum_metric = self._score(True) * self.metrics.total_examples(True)
            self.num_inst = self.metrics.total_examples()
            self.global_num_inst = self.metrics.total_examples(True)

    def reset(self):
        super().reset()
        self.metrics.reset_stats()

    def reset_local(self):
        super().reset_local()
        self.metrics.local_reset_stats()


@register
class F1(_BinaryMetric):
    """F1 score of a binary classifier (predictions (n, 2), class 1 positive); `average` 'macro' or 'micro'."""

    def __init__(self, name="f1", output_names=None, label_names=None, average="macro"):
        super().__init__(name, output_names, label_names, average)

    def _score(self, use_global):
        return self.metrics.fscore(use_global)


@register
class MCC(_BinaryMetric):
    """Matthews correlation coefficient of a binary classifier; `average` 'macro' or 'micro'."""

    def __init__(self, name="mcc", output_names=None, label_names=None, average="macro"):
        super().__init__(name, output_names, label_names, average)

    def _score(self, use_global):
        return self.metrics.matthewscc(use_global)


@register
class PCC(EvalMetric):
    """The multi-class Matthews correlation coefficient (Gorodkin's R_K) of a K x K confusion matrix, which grows
    as larger class ids appear. Predictions are class scores (argmax taken) or class ids of the label's shape.

    `get()` is the coefficient of the confusion matrix accumulated since `reset_local()` (NaN when all
    predictions or all labels fall in one class). With C the matrix (rows: predicted, columns: true), n its
    total, x its row sums and y its column sums: (n * trace(C) - x.y) / sqrt((n^2 - x.x) (n^2 - y.y)).

    Examples
    --------
    >>> import dataflow as mx
    >>> pcc = mx.metric.PCC()
    >>> pcc.update([mx.nd.array([0, 1, 2, 2])], [mx.nd.array([0, 1, 2, 1])])
    >>> float(pcc.get()[1])      # C = [[1,0,0],[0,1,1],[0,0,1]]: (4*3 - x.y) / sqrt((16-6)(16-6)) = 7/10
    0.7
    """

    def __init__(self, name="pcc", output_names=None, label_names=None, has_global_stats=True):
        self.k = 2
        super().__init__(name, output_names=output_names, label_names=label_names,
                         has_global_stats=has_global_stats)

    def _grow(self, extra):
        self.lcm = numpy.pad(self.lcm, ((0, extra), (0, extra)))
        self.gcm = numpy.pad(self.gcm, ((0, extra), (0, extra)))
        self.k += extra

    @staticmethod
    def _coefficient(cmat):
        n = cmat.sum()
        x, y = cmat.sum(axis=1), cmat.sum(axis=0)
        cov_xx, cov_yy = numpy.sum(x * (n - x)), numpy.sum(y * (n - y))
        if cov_xx == 0 or cov_yy == 0:
            return float("nan")
        cov_xy = numpy.sum(cmat.diagonal() * n - x * y)
        return cov_xy / (cov_xx * cov_yy) ** 0.5

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label = _numpy(label).astype("int32")
            pred = _numpy(pred)
            pred = pred.argmax(axis=1) if pred.shape != label.shape else pred.astype("int32")
            largest = int(max(pred.max(), label.max()))
            if largest >= self.k:
                self._grow(largest + 1 - self.k)
            counts = numpy.zeros((self.k, self.k))
            numpy.add.at(counts, (pred.ravel(), label.ravel()), 1)
            self.lcm += counts
            self.gcm += counts
        self.num_inst += 1
        self.global_num_inst += 1

    @property
    def sum_metric(self):
        return self._coefficient(self.lcm) * self.num_inst

    @sum_metric.setter
    def sum_metric(self, value):        # EvalMetric.reset assigns it; the value derives from the matrix
        pass

    @property
    def global_sum_metric(self):
        return self._coefficient(self.gcm) * self.global_num_inst

    @global_sum_metric.setter
    def global_sum_metric(self, value):
        pass

    def reset(self):
        self.global_num_inst = 0
        self.gcm = numpy.zeros((self.k, self.k))
        self.reset_local()

    def reset_local(self):
        self.num_inst = 0
        self.lcm = numpy.zeros((self.k, self.k))
