"""`mx.mod.BucketingModule` against MXNet 1.9.1: a bucketed LSTM language model (reference/legacy_rnn_fixtures.py
`sym_gen`) trained from the same weights on the same batches gives MXNet's parameters, by hand and through `fit`;
buckets share one set of parameter arrays; checkpoints load both ways; and a small model learns."""
import json
import os

import numpy as np
import pytest

import dataflow as mx
from tests.paths import FIXTURES, load_reference

REF = load_reference("legacy_rnn_fixtures")
HERE = os.path.join(FIXTURES, "legacy_rnn")
TRAINED = np.load(os.path.join(HERE, "bucketing.npz"))
MX_SYMBOLS = {}
for _key in REF.BUCKETS:
    with open(os.path.join(HERE, "bucketing-%d-symbol.json" % _key)) as _fh:
        MX_SYMBOLS[str(_key)] = json.load(_fh)


def _assert_params(params, prefix):
    expected = {k[len(prefix):]: TRAINED[k] for k in TRAINED.files if k.startswith(prefix)}
    assert sorted(params) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(params[name].asnumpy(), value, rtol=1e-4, atol=1e-5, err_msg=name)


def test_training_steps_over_two_buckets_equal_mxnet():
    mod = REF.bucketing_module(mx)
    last = REF.train_steps(mx, mod)
    np.testing.assert_allclose(last, TRAINED["last_output"], rtol=1e-4, atol=1e-5)
    _assert_params(mod.get_params()[0], "param:")
    assert sorted(mod._buckets) == [3, 5]


def test_fit_with_a_bucketing_iterator_equals_mxnet():
    mod = REF.bucketing_module(mx)
    mod.fit(REF.make_fixed_iter(mx), num_epoch=2, optimizer="sgd",
            optimizer_params=(("learning_rate", 0.5), ("momentum", 0.9)),
            arg_params={k: mx.nd.array(v) for k, v in REF.initial_params().items()})
    _assert_params(mod.get_params()[0], "fit:")


def test_buckets_share_parameters_gradients_and_optimizer():
    mod = REF.bucketing_module(mx)
    REF.train_steps(mx, mod)
    default, short = mod._buckets[5], mod._buckets[3]
    assert short._exec.arg_dict["lstm_i2h_weight"] is default._exec.arg_dict["lstm_i2h_weight"]
    assert short._exec.grad_dict["pred_weight"] is default._exec.grad_dict["pred_weight"]
    assert short._updater is default._updater
    assert mod.symbol is short.symbol and mod.data_shapes[0].shape == (REF.BATCH, 3)
    assert mod.output_shapes == [("softmax_output", (REF.BATCH * 3, REF.VOCAB))]


def test_symbols_per_bucket_are_mxnets():
    """MXNet's checkpoint symbols: the default bucket's generated first (auto names from 0), then bucket 3's."""
    mod = REF.bucketing_module(mx)
    with mx.name.NameManager():
        for key in (5, 3):
            ours = REF.sym_gen(mx, key)[0]
            assert json.dumps(json.loads(ours.tojson())) == json.dumps(MX_SYMBOLS[str(key)])
    # sym_gen runs under a fresh NameManager, so auto names do not depend on what was built before
    mx.sym.Reshape(mx.sym.Variable("x"), shape=(-1,))
    assert mod.output_names == ["softmax_output"] and mod.data_names == ("data",)


def test_loads_mxnets_checkpoint_and_saves_one_mxnet_reads(tmp_path):
    mod = mx.mod.BucketingModule.load(os.path.join(HERE, "bucketing"), 1, sym_gen=lambda k: REF.sym_gen(mx, k),
                                      default_bucket_key=5)
    assert sorted(mod._buckets) == [3, 5]
    mod.bind(data_shapes=[("data", (REF.BATCH, 5))], label_shapes=[("softmax_label", (REF.BATCH, 5))],
             for_training=False)
    _assert_params(mod.get_params()[0], "param:")
    key, data, label = REF.batches()[-1]
    mod.forward(REF.data_batch(mx, key, data, label), is_train=False)
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), _reference_forward(key, data), rtol=1e-4,
                               atol=1e-6)

    prefix = str(tmp_path / "lm")
    with mx.name.NameManager():     # sym_gen runs under the current NameManager, as in MXNet's run
        mod.save_checkpoint(prefix, 3)
    assert sorted(int(k) for k in mx.nd.load(prefix + ".buckets")[0].asnumpy()) == [3, 5]
    for key in (3, 5):
        with open("%s-%d-symbol.json" % (prefix, key)) as fh:
            assert json.load(fh) == MX_SYMBOLS[str(key)]
    saved = mx.nd.load(prefix + "-0003.params")
    assert sorted(saved) == sorted("arg:" + k[len("param:"):] for k in TRAINED.files if k.startswith("param:"))


def _reference_forward(key, data):
    """The model's softmax output in numpy, from the trained parameters MXNet recorded."""
    p = {k[len("param:"):]: TRAINED[k].astype(np.float64) for k in TRAINED.files if k.startswith("param:")}
    h = np.zeros((data.shape[0], REF.H))
    c = np.zeros_like(h)
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    steps = []
    for t in range(key):
        x = p["embed_weight"][data[:, t].astype(int)]
        gates = x @ p["lstm_i2h_weight"].T + p["lstm_i2h_bias"] + h @ p["lstm_h2h_weight"].T + p["lstm_h2h_bias"]
        i, f, g, o = np.split(gates, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        steps.append(h)
    logits = np.stack(steps, axis=1).reshape(-1, REF.H) @ p["pred_weight"].T + p["pred_bias"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_a_bucketed_lstm_learns_a_pattern():
    """Sentences counting up modulo 5 in three lengths: after a few epochs the next token is predicted well."""
    rng = np.random.RandomState(0)
    sentences = [[(start + i) % 5 + 1 for i in range(length)]
                 for length in (4, 6, 8) for start in rng.randint(0, 5, size=16)]
    it = mx.rnn.BucketSentenceIter(sentences, 8, invalid_label=0)
    assert it.buckets == [4, 6, 8] and it.default_bucket_key == 8

    def sym_gen(seq_len):
        data, label = mx.sym.Variable("data"), mx.sym.Variable("softmax_label")
        embed = mx.sym.Embedding(data, input_dim=6, output_dim=8, name="embed")
        outputs, _ = mx.rnn.LSTMCell(16, prefix="lstm_").unroll(seq_len, embed, merge_outputs=True)
        pred = mx.sym.FullyConnected(mx.sym.Reshape(outputs, shape=(-1, 16)), num_hidden=6, name="pred")
        out = mx.sym.SoftmaxOutput(pred, mx.sym.Reshape(label, shape=(-1,)), use_ignore=True, ignore_label=0,
                                   name="softmax")
        return out, ("data",), ("softmax_label",)

    mod = mx.mod.BucketingModule(sym_gen, default_bucket_key=it.default_bucket_key)
    metric = mx.metric.Perplexity(ignore_label=0)
    mx.random.seed(0)
    mod.fit(it, num_epoch=1, eval_metric=metric, optimizer="adam", optimizer_params=(("learning_rate", 0.05),),
            initializer=mx.init.Xavier())
    first = mod.score(it, metric)[0][1]
    it.reset()                      # score leaves the iterator at its end; fit starts where it is (as MXNet)
    mod.fit(it, num_epoch=12, begin_epoch=1, eval_metric=metric, optimizer="adam",
            optimizer_params=(("learning_rate", 0.05),))
    last = mod.score(it, metric)[0][1]
    assert last < 1.3 < first, (first, last)


def test_misuse_raises():
    with pytest.raises(ValueError, match="default_bucket_key"):
        mx.mod.BucketingModule(lambda k: REF.sym_gen(mx, k))
    mod = REF.bucketing_module(mx)
    with pytest.raises(RuntimeError, match="bind"):
        mod.forward(REF.data_batch(mx, *REF.batches()[0]))
    with pytest.raises(RuntimeError, match="bind"):
        mod.switch_bucket(3, [("data", (REF.BATCH, 3))])
    with pytest.raises(ValueError, match="shared_module"):
        mod.bind([("data", (REF.BATCH, 5))], shared_module=mod)
    with pytest.raises(RuntimeError, match="Empty BucketingModule"):
        mod.save_checkpoint("unused", 0)


def test_a_bucket_with_parameters_of_its_own_is_refused():
    def sym_gen(key):
        fc = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=2, name="fc%d" % key)
        return mx.sym.SoftmaxOutput(fc, name="sm"), ("data",), ("sm_label",)
    mod = mx.mod.BucketingModule(sym_gen, default_bucket_key=5)
    mod.bind([("data", (2, 5))], [("sm_label", (2,))])
    mod.init_params()
    batch = mx.io.DataBatch([mx.nd.ones((2, 3))], [mx.nd.zeros((2,))], bucket_key=3,
                            provide_data=[mx.io.DataDesc("data", (2, 3))],
                            provide_label=[mx.io.DataDesc("sm_label", (2,))])
    with pytest.raises(ValueError, match=r"\['fc3_bias', 'fc3_weight'\] that the default bucket \(5\) lacks"):
        mod.forward(batch)
