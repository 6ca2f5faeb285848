"""Record GluonNLP 0.10's LSTM language models on MXNet 1.9.1 for tests/test_gluoncv.py (GluonNLP part):

    /work/mxvenv/bin/pip install --no-deps gluonnlp==0.10.0 packaging
    /work/mxvenv/bin/python reference/gluonnlp_lm_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/gluonnlp_lm/ (see the README there). The models' parameters (7M for
awd_lstm_lm_600) are too large to store, so both sides fill them from one seeded RandomState in `collect_params()`
order, and the fixture keeps what MXNet's `save_parameters` wrote for them as names and shapes (the file format
and names the test checks our saving against) plus a sample of each array. `build`, `fill` and `train_step`
are what the test runs, with `mx` = dataflow under install_as_mxnet(). Nothing here imports mxnet outside
`main()`.
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "mxnet-1.9.1",
                   "gluonnlp_lm")
MODELS = ("standard_lstm_lm_200", "awd_lstm_lm_600")
SEQ, BATCH = 5, 2
SAMPLE = 16         # values kept per parameter array


def build(mx, nlp, name):
    """The model with a small character vocabulary, under a fresh NameManager."""
    vocab = nlp.Vocab(nlp.data.count_tokens(list("abcdefghij") * 2))
    with mx.name.NameManager():
        model = nlp.model.get_model(name, vocab=vocab, pretrained=False)[0]
    return model, len(vocab)


def fill(mx, model):
    """Initialize, then set every parameter from RandomState(0) in collect_params() order, U(-0.1, 0.1)."""
    model.initialize()
    rng = np.random.RandomState(0)
    for param in model.collect_params().values():
        param.set_data(mx.nd.array(rng.uniform(-0.1, 0.1, param.shape).astype(np.float32)))


def inputs(vocab_size):
    rng = np.random.RandomState(1)
    return rng.randint(0, vocab_size, size=(SEQ, BATCH)), rng.randint(0, vocab_size, size=(SEQ, BATCH))


def forward(mx, model, x):
    """Inference outputs: the logits and the flattened final states."""
    out, states = model(mx.nd.array(x), model.begin_state(batch_size=BATCH, func=mx.nd.zeros))
    flat = []
    stack = [states]
    while stack:
        s = stack.pop(0)
        if isinstance(s, (list, tuple)):
            stack[:0] = list(s)
        else:
            flat.append(s.asnumpy())
    return out.asnumpy(), flat


def train_step(mx, model, x, y):
    """One SGD step (lr 0.5) of softmax cross-entropy, recorded in predict mode so no dropout mask is drawn."""
    trainer = mx.gluon.Trainer(model.collect_params(), "sgd", {"learning_rate": 0.5})
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    with mx.autograd.record(train_mode=False):
        out, _ = model(mx.nd.array(x), model.begin_state(batch_size=BATCH, func=mx.nd.zeros))
        loss = loss_fn(out, mx.nd.array(y))
    loss.backward()
    trainer.step(BATCH * SEQ)


def sample(array):
    """A fixed sample of an array's values, and its sum of absolute values."""
    flat = array.reshape(-1)
    idx = np.random.RandomState(flat.size % 1000).randint(0, flat.size, size=min(SAMPLE, flat.size))
    return flat[idx], np.abs(flat.astype(np.float64)).sum()


def main():
    import gluonnlp as nlp
    import mxnet as mx
    os.makedirs(OUT, exist_ok=True)
    summary, arrays = {}, {}
    for name in MODELS:
        model, vocab_size = build(mx, nlp, name)
        fill(mx, model)
        path = os.path.join(OUT, "tmp.params")
        model.save_parameters(path)
        saved = mx.nd.load(path)
        os.remove(path)
        summary[name] = {"prefix": model.prefix, "vocab_size": vocab_size,
                         "saved": [[k, list(v.shape)] for k, v in saved.items()]}
        x, y = inputs(vocab_size)
        out, states = forward(mx, model, x)
        arrays[name + "/out"] = out
        for i, s in enumerate(states):
            arrays["%s/state%d" % (name, i)] = s
        train_step(mx, model, x, y)
        for key, param in model._collect_params_with_prefix().items():
            values, total = sample(param.data().asnumpy())
            arrays["%s/trained/%s" % (name, key)] = values
            arrays["%s/trained_abs_sum/%s" % (name, key)] = np.array(total)
    np.savez_compressed(os.path.join(OUT, "outputs.npz"), **arrays)
    with open(os.path.join(OUT, "models.json"), "w") as fh:
        json.dump(summary, fh, indent=1)


if __name__ == "__main__":
    main()
