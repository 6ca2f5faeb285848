"""Gluon losses against MXNet 1.9.1: the per-sample loss against numpy, imperative and hybridized, the gradient of
softmax cross-entropy, and reprs and traced graphs as MXNet 1.9.1 printed them (`LOSS_GRAPHS`, lines as
`_graph_lines` writes them, tests/gluon_helpers.py). The layers are in test_gluon_layers.py.
"""
import numpy as np
import pytest

import dataflow as mx
from dataflow import autograd, nd
from dataflow.gluon import loss as gloss
from tests.gluon_helpers import graph_lines as _graph_lines, sigmoid as _sigmoid


@pytest.fixture(autouse=True)
def fresh_names():
    with mx.name.NameManager():
        yield


def _log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _per_sample(v, reduce=np.mean, batch_axis=0):
    return reduce(np.moveaxis(v, batch_axis, 0).reshape(v.shape[batch_axis], -1), axis=1)


_RS = np.random.RandomState(7)
_PRED = _RS.uniform(-2, 2, size=(4, 5))
_REAL = _RS.uniform(-2, 2, size=(4, 5))
_BINARY = (_RS.uniform(size=(4, 5)) > 0.5).astype(np.float64)
_SIGNED = 2 * _BINARY - 1
_CLASS = _RS.randint(0, 5, size=(4,)).astype(np.float64)
_DIST = np.exp(_log_softmax(_RS.uniform(-1, 1, size=(4, 5))))
_PROB = _RS.uniform(0.05, 0.95, size=(4, 5))
_SW = _RS.uniform(0, 1, size=(4, 1))

# (loss, inputs, numpy reference of the per-sample loss)
LOSSES = {
    "L2": (lambda: gloss.L2Loss(), (_PRED, _REAL), lambda p, y: _per_sample(0.5 * (y - p) ** 2)),
    "L2_weighted": (lambda: gloss.L2Loss(weight=3.0), (_PRED, _REAL, _SW),
                    lambda p, y, s: _per_sample(1.5 * (y - p) ** 2 * s)),
    "L1_batch_axis_1": (lambda: gloss.L1Loss(batch_axis=1), (_PRED, _REAL),
                        lambda p, y: _per_sample(np.abs(y - p), batch_axis=1)),
    "SigmoidBCE": (lambda: gloss.SigmoidBCELoss(), (_PRED, _BINARY),
                   lambda p, y: _per_sample(-(y * np.log(_sigmoid(p)) + (1 - y) * np.log(1 - _sigmoid(p))))),
    "SigmoidBCE_from_sigmoid": (lambda: gloss.SigmoidBinaryCrossEntropyLoss(from_sigmoid=True), (_PROB, _BINARY),
                                lambda p, y: _per_sample(-(y * np.log(p) + (1 - y) * np.log(1 - p)))),
    "SoftmaxCE": (lambda: gloss.SoftmaxCrossEntropyLoss(), (_PRED, _CLASS),
                  lambda p, y: -_log_softmax(p)[np.arange(4), y.astype(int)]),
    "SoftmaxCE_weighted": (lambda: gloss.SoftmaxCELoss(weight=0.5), (_PRED, _CLASS, _SW),
                           lambda p, y, s: -0.5 * s[:, 0] * _log_softmax(p)[np.arange(4), y.astype(int)]),
    "SoftmaxCE_dense": (lambda: gloss.SoftmaxCrossEntropyLoss(sparse_label=False), (_PRED, _DIST),
                        lambda p, y: -(y * _log_softmax(p)).sum(axis=1)),
    "SoftmaxCE_axis0_logits": (lambda: gloss.SoftmaxCrossEntropyLoss(axis=0, from_logits=True, batch_axis=1),
                               (_log_softmax(_PRED, 0), np.array([0.0, 1.0, 2.0, 3.0, 1.0])),
                               lambda p, y: -p[y.astype(int), np.arange(5)]),
    "KLDiv": (lambda: gloss.KLDivLoss(), (_log_softmax(_PRED), _DIST),
              lambda p, y: _per_sample(y * (np.log(y + 1e-12) - p), np.sum)),
    "KLDiv_logits": (lambda: gloss.KLDivLoss(from_logits=False), (_PRED, _DIST),
                     lambda p, y: _per_sample(y * (np.log(y + 1e-12) - _log_softmax(p)), np.sum)),
    "Huber": (lambda: gloss.HuberLoss(rho=0.5), (_PRED, _REAL),
              lambda p, y: _per_sample(np.where(np.abs(y - p) > 0.5, np.abs(y - p) - 0.25, (y - p) ** 2))),
    "Hinge": (lambda: gloss.HingeLoss(), (_PRED, _SIGNED), lambda p, y: _per_sample(np.maximum(0, 1 - p * y))),
    "SquaredHinge": (lambda: gloss.SquaredHingeLoss(margin=2), (_PRED, _SIGNED),
                     lambda p, y: _per_sample(np.maximum(0, 2 - p * y) ** 2)),
    "Logistic": (lambda: gloss.LogisticLoss(), (_PRED, _SIGNED),
                 lambda p, y: _per_sample(np.log1p(np.exp(-p * y)))),
    "Logistic_binary": (lambda: gloss.LogisticLoss(label_format="binary"), (_PRED, _BINARY),
                        lambda p, y: _per_sample(np.log1p(np.exp(-p * (2 * y - 1))))),
    "Triplet": (lambda: gloss.TripletLoss(), (_PRED, _REAL, _PROB),
                lambda p, q, n: np.maximum(0, ((q - p) ** 2 - (n - p) ** 2).sum(axis=1) + 1)),
    "PoissonNLL": (lambda: gloss.PoissonNLLLoss(), (_PRED, _PROB), lambda p, t: np.mean(np.exp(p) - t * p)),
    "CosineEmbedding": (lambda: gloss.CosineEmbeddingLoss(), (_PRED, _REAL, np.array([1.0, -1.0, 1.0, -1.0])),
                        lambda a, b, y: np.where(y == 1, 1 - (a * b).sum(1) / np.linalg.norm(a, axis=1)
                                                 / np.linalg.norm(b, axis=1),
                                                 np.maximum(0, (a * b).sum(1) / np.linalg.norm(a, axis=1)
                                                            / np.linalg.norm(b, axis=1)))[:, None]),
}


@pytest.mark.parametrize("key", list(LOSSES))
def test_loss_matches_numpy_imperative_and_hybridized(key):
    make, inputs, ref = LOSSES[key]
    want = ref(*inputs)
    args = [nd.array(a) for a in inputs]
    block = make()
    got = block(*args).asnumpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    block.hybridize()
    np.testing.assert_allclose(block(*args).asnumpy(), got, rtol=1e-6, atol=1e-7)


def test_loss_gradient_of_softmax_cross_entropy():
    pred = nd.array(_PRED)
    pred.attach_grad()
    with autograd.record():
        loss = gloss.SoftmaxCrossEntropyLoss()(pred, nd.array(_CLASS))
    loss.backward()
    want = np.exp(_log_softmax(_PRED))
    want[np.arange(4), _CLASS.astype(int)] -= 1
    np.testing.assert_allclose(pred.grad.asnumpy(), want, rtol=1e-5, atol=1e-6)


# Printed by MXNet 1.9.1: repr and _graph_lines of loss(sym.var('pred'), sym.var('label'), ...).
LOSS_GRAPHS = [
    (lambda: gloss.SoftmaxCrossEntropyLoss(), 2, "SoftmaxCrossEntropyLoss(batch_axis=0, w=None)",
     ["softmaxcrossentropyloss0_log_softmax0 = log_softmax(pred) axis=-1",
      "softmaxcrossentropyloss0_pick0 = pick(softmaxcrossentropyloss0_log_softmax0, label) axis=-1 keepdims=True",
      "softmaxcrossentropyloss0__mulscalar0 = _mul_scalar(softmaxcrossentropyloss0_pick0) scalar=-1.0",
      "softmaxcrossentropyloss0_mean0 = mean(softmaxcrossentropyloss0__mulscalar0) axis=0 exclude=True"]),
    (lambda: gloss.SoftmaxCrossEntropyLoss(sparse_label=False, from_logits=True, weight=0.5), 2,
     "SoftmaxCrossEntropyLoss(batch_axis=0, w=0.5)",
     ["softmaxcrossentropyloss0_reshape_like0 = reshape_like(label, pred)",
      "softmaxcrossentropyloss0__mul0 = elemwise_mul(pred, softmaxcrossentropyloss0_reshape_like0)",
      "softmaxcrossentropyloss0_sum0 = sum(softmaxcrossentropyloss0__mul0) axis=-1 keepdims=True",
      "softmaxcrossentropyloss0__mulscalar0 = _mul_scalar(softmaxcrossentropyloss0_sum0) scalar=-1.0",
      "softmaxcrossentropyloss0__mulscalar1 = _mul_scalar(softmaxcrossentropyloss0__mulscalar0) scalar=0.5",
      "softmaxcrossentropyloss0_mean0 = mean(softmaxcrossentropyloss0__mulscalar1) axis=0 exclude=True"]),
    (lambda: gloss.L2Loss(), 3, "L2Loss(batch_axis=0, w=1.0)",
     ["l2loss0_reshape_like0 = reshape_like(label, pred)",
      "l2loss0__minus0 = elemwise_sub(l2loss0_reshape_like0, pred)",
      "l2loss0_square0 = square(l2loss0__minus0)",
      "l2loss0_broadcast_mul0 = broadcast_mul(l2loss0_square0, sample_weight)",
      "l2loss0__mulscalar0 = _mul_scalar(l2loss0_broadcast_mul0) scalar=0.5",
      "l2loss0_mean0 = mean(l2loss0__mulscalar0) axis=0 exclude=True"]),
    (lambda: gloss.HuberLoss(rho=0.5), 2, "HuberLoss(batch_axis=0, w=None)",
     ["huberloss0_reshape_like0 = reshape_like(label, pred)",
      "huberloss0__minus0 = elemwise_sub(huberloss0_reshape_like0, pred)",
      "huberloss0_abs0 = abs(huberloss0__minus0)",
      "huberloss0__greater_scalar0 = _greater_scalar(huberloss0_abs0) scalar=0.5",
      "huberloss0__minusscalar0 = _minus_scalar(huberloss0_abs0) scalar=0.25",
      "huberloss0_square0 = square(huberloss0_abs0)",
      "huberloss0__mulscalar0 = _mul_scalar(huberloss0_square0) scalar=1.0",
      "huberloss0_where0 = where(huberloss0__greater_scalar0, huberloss0__minusscalar0, huberloss0__mulscalar0)",
      "huberloss0_mean0 = mean(huberloss0_where0) axis=0 exclude=True"]),
    (lambda: gloss.KLDivLoss(from_logits=False, axis=1), 2, "KLDivLoss(batch_axis=0, w=None)",
     ["kldivloss0__plusscalar0 = _plus_scalar(label) scalar=1e-12",
      "kldivloss0_log0 = log(kldivloss0__plusscalar0)",
      "kldivloss0_log_softmax0 = log_softmax(pred) axis=1",
      "kldivloss0__minus0 = elemwise_sub(kldivloss0_log0, kldivloss0_log_softmax0)",
      "kldivloss0__mul0 = elemwise_mul(label, kldivloss0__minus0)",
      "kldivloss0_sum0 = sum(kldivloss0__mul0) axis=0 exclude=True"]),
]


@pytest.mark.parametrize("make, n_inputs, want_repr, want_graph", LOSS_GRAPHS)
def test_loss_repr_and_graph_match_mxnet(make, n_inputs, want_repr, want_graph):
    block = make()
    assert repr(block) == want_repr
    with mx.name.NameManager():
        out = block(*[mx.sym.var(n) for n in ("pred", "label", "sample_weight")[:n_inputs]])
    assert _graph_lines(out) == want_graph
