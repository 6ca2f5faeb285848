"""Acceptance (issue 16): a small char-level LSTM language model (Embedding -> gluon.rnn.LSTM -> Dense) trains with
gluon.Trainer on text that ships with the tests (tests/fixtures/char_lm/gettysburg.txt, public domain) and its
loss falls from about ln(vocabulary) to below a stated value."""
import os

import numpy as np

import dataflow as mx
from dataflow import autograd, gluon

TEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "char_lm", "gettysburg.txt")
STEPS, T, B = 200, 32, 16
TARGET_LOSS = 1.2           # mean cross-entropy (nats per character) over the last 10 steps


class CharLM(gluon.HybridBlock):
    def __init__(self, vocab, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.embed = gluon.nn.Embedding(vocab, 16)
            self.lstm = gluon.rnn.LSTM(64, layout="NTC")
            self.out = gluon.nn.Dense(vocab, flatten=False)

    def hybrid_forward(self, F, x):
        return self.out(self.lstm(self.embed(x)))


def _numpy_cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -np.take_along_axis(log_probs, labels[..., None].astype(int), axis=-1)[..., 0].mean(axis=1)


def test_char_lstm_language_model_learns_the_text():
    with open(TEXT) as fh:
        text = fh.read()
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text])
    mx.random.seed(0)
    net = CharLM(len(chars))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.01})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    rng = np.random.RandomState(0)
    losses = []
    for step in range(STEPS):
        starts = rng.randint(0, len(ids) - T - 1, size=B)
        x = np.stack([ids[s:s + T] for s in starts])
        y = np.stack([ids[s + 1:s + T + 1] for s in starts])
        with autograd.record():
            out = net(mx.nd.array(x))
            loss = loss_fn(out, mx.nd.array(y))
        loss.backward()
        trainer.step(B)
        if step == 0:       # the loss is the numpy cross-entropy of the model's logits
            np.testing.assert_allclose(loss.asnumpy(), _numpy_cross_entropy(out.asnumpy(), y), rtol=1e-5)
        losses.append(float(loss.mean().asscalar()))
    assert losses[0] > 0.8 * np.log(len(chars)), losses[0]
    assert np.mean(losses[-10:]) < TARGET_LOSS, losses[-10:]

    # greedy prediction of each next character over the whole text is mostly right
    logits = net(mx.nd.array(ids[None, :-1])).asnumpy()[0]
    assert (logits.argmax(axis=1) == ids[1:]).mean() > 0.6
