"""`contrib.text` (token counts, `Vocabulary`, embeddings), the WikiText datasets of `gluon.contrib.data.text`
that use them, and `contrib.svrg_optimization` (`SVRGModule`).

Truth: MXNet 1.9.1's answers (reference/layout_more_fixtures.py, tests/fixtures/mxnet-1.9.1/layout_more/), and
numpy re-computations (the vocabulary order, one SVRG epoch).
"""
import json
import os

import numpy as np
import pytest

import dataflow as mx
from dataflow.base import MXNetError
from tests.paths import FIXTURES

HERE = os.path.join(FIXTURES, "layout_more")
with open(os.path.join(HERE, "behaviour.json")) as _f:
    MX = json.load(_f)
ARRAYS = np.load(os.path.join(HERE, "arrays.npz"))


def test_wikitext_reads_local_files_with_mxnets_default_vocabulary(tmp_path, monkeypatch):
    from dataflow.gluon.contrib.data import text
    lines = [" = Title = ", "", " the cat saw the dog . ", " the dog ran "]
    (tmp_path / "wiki.train.tokens").write_text("\n".join(lines) + "\n", encoding="utf8")
    monkeypatch.setattr(text, "check_sha1", lambda path, sha1: True)       # our file stands in for MXNet's
    data = text.WikiText2(root=str(tmp_path), seq_len=3)
    # MXNet's default vocabulary: '<unk>', '<eos>', then by count (falling), ties alphabetically
    tokens = [t for line in lines if line.split() for t in line.split() + ["<eos>"]]
    counts = {t: tokens.count(t) for t in set(tokens) if t != "<eos>"}
    vocab = ["<unk>", "<eos>"] + sorted(counts, key=lambda t: (-counts[t], t))
    ids = [vocab.index(t) for t in tokens]
    usable = (len(ids) - 1) // 3 * 3
    np.testing.assert_array_equal(data._data.asnumpy().ravel(), ids[:usable])
    np.testing.assert_array_equal(data._label.asnumpy().ravel(), ids[1:usable + 1])
    assert len(data) == usable // 3 and data[0][0].shape == (3,) and data.vocabulary.to_indices("cat") == \
        vocab.index("cat")
    assert data.frequencies["the"] == 3


def test_wikitext_without_its_files_fails_naming_the_download(tmp_path, monkeypatch):
    from dataflow.gluon.contrib.data import text
    monkeypatch.setattr(text, "_get_repo_file_url", lambda namespace, name: "file://" + str(tmp_path / name))
    with pytest.raises(Exception, match="wikitext-103-v1.zip"):     # noqa: PT011 - download's own error
        text.WikiText103(root=str(tmp_path / "root"), segment="test")


def test_contrib_text_counts_and_vocabulary_match_mxnet():
    import collections

    from dataflow.contrib import text
    info = MX["small"]
    source = " Life is great ! \n life is good . \n *a*b*\n"
    counts = text.utils.count_tokens_from_str(source)
    assert sorted(map(list, counts.items())) == info["count_tokens"]
    assert sorted(map(list, text.utils.count_tokens_from_str(source, "\\*| ", "\n", True).items())) == \
        info["count_tokens_lower_star"]
    assert sorted(map(list, text.utils.count_tokens_from_str("x y", counter_to_update=counts).items())) == \
        info["count_tokens_update"]
    counter = collections.Counter(["c", "b", "a", "b", "c", "<pad>", "d", "c", "e", "e"])
    for key, kwargs in {"default": {}, "reserved": {"reserved_tokens": ["<pad>", "<eos>"]},
                        "most2": {"most_freq_count": 2}, "min2": {"min_freq": 2},
                        "most2_reserved": {"most_freq_count": 2, "reserved_tokens": ["<pad>"]},
                        "unk": {"unknown_token": "?", "min_freq": 3}}.items():
        v = text.vocab.Vocabulary(counter, **kwargs)
        assert [v.idx_to_token, v.to_indices(["c", "zz", "<pad>"]), v.to_tokens([1, 0]), len(v)] == \
            info["vocab"][key], key
    for key, call in {"bad_index": lambda: text.vocab.Vocabulary(counter).to_tokens(99),
                      "unk_reserved": lambda: text.vocab.Vocabulary(reserved_tokens=["<unk>"]),
                      "dup_reserved": lambda: text.vocab.Vocabulary(reserved_tokens=["a", "a"]),
                      "not_counter": lambda: text.vocab.Vocabulary({"a": 1}),
                      "min0": lambda: text.vocab.Vocabulary(min_freq=0)}.items():
        with pytest.raises(Exception) as caught:        # noqa: PT011 - the type is compared below
            call()
        assert [type(caught.value).__name__, str(caught.value)] == info["vocab_errors"][key], key


@pytest.mark.filterwarnings("ignore:At line")      # the file's header and duplicate line, checked once below
def test_contrib_text_embeddings_match_mxnet(tmp_path):
    import collections
    import warnings

    from dataflow.contrib import text
    info = MX["small"]["embedding"]
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("3 3\nhello 0.1 0.2 0.3\nworld 0.4 0.5 0.6\nhello 9 9 9\nhi -1 -2 -3\n")
    second.write_text("world|1|2\n<unk>|5|6\nfoo|3|4\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        e1 = text.embedding.CustomEmbedding(str(first))
    assert [str(w.message) for w in caught] == [w for w in info["warnings"] if w.startswith("At line")]
    got = [e1.idx_to_token, e1.idx_to_vec.asnumpy().tolist(), e1.vec_len,
           e1.get_vecs_by_tokens(["Hello", "world", "x"], lower_case_backup=True).asnumpy().tolist(),
           e1.get_vecs_by_tokens(["Hello", "world"]).asnumpy().tolist(), e1.get_vecs_by_tokens("hi").asnumpy().tolist()]
    assert got == info["e1"]
    e1.update_token_vectors("world", mx.nd.array([7, 8, 9]))
    e1.update_token_vectors(["<unk>", "hi"], mx.nd.array([[1, 1, 1], [2, 2, 2]]))
    assert e1.idx_to_vec.asnumpy().tolist() == info["e1_updated"]
    with pytest.raises(ValueError) as caught:
        e1.update_token_vectors("nope", mx.nd.array([1, 2, 3]))
    assert str(caught.value) == info["e1_update_unknown"][1]
    e2 = text.embedding.CustomEmbedding(str(second), elem_delim="|", init_unknown_vec=mx.nd.ones)
    assert [e2.idx_to_token, e2.idx_to_vec.asnumpy().tolist()] == info["e2"]
    vocabulary = text.vocab.Vocabulary(collections.Counter(["world", "world", "foo", "hello", "zz"]),
                                       reserved_tokens=["<pad>"])
    e3 = text.embedding.CustomEmbedding(str(first), vocabulary=vocabulary, init_unknown_vec=mx.nd.ones)
    assert [e3.idx_to_token, e3.token_to_idx, e3.reserved_tokens, e3.idx_to_vec.asnumpy().tolist()] == info["e3"]
    composite = text.embedding.CompositeEmbedding(vocabulary, [e2, text.embedding.CustomEmbedding(str(first))])
    assert [composite.idx_to_token, composite.vec_len, composite.idx_to_vec.asnumpy().tolist()] == info["composite"]
    with pytest.raises(ValueError) as caught:
        text.embedding.CustomEmbedding(str(tmp_path / "none.txt"))
    assert str(caught.value) == info["bad_path"][1]
    with open(first, "a") as f:
        f.write("bad 1 2\n")
    with pytest.raises(AssertionError, match="the dimension of token bad is 2"):
        text.embedding.CustomEmbedding(str(first))
    assert sorted(text.embedding.get_pretrained_file_names()) == info["registered"]
    with pytest.raises(KeyError) as caught:
        text.embedding.get_pretrained_file_names("nope")
    assert str(caught.value) == info["unknown_name"][1]
    with pytest.raises(MXNetError, match="CustomEmbedding"):
        text.embedding.create("glove")


def _svrg_fit(epochs):
    from dataflow.contrib.svrg_optimization.svrg_module import SVRGModule
    net = mx.sym.LinearRegressionOutput(mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=1, name="fc1"),
                                        mx.sym.var("lin_reg_label"), name="lro")
    it = mx.io.NDArrayIter(ARRAYS["svrg/x"], ARRAYS["svrg/y"], batch_size=4, label_name="lin_reg_label")
    mod = SVRGModule(net, data_names=["data"], label_names=["lin_reg_label"], update_freq=2)
    mod.fit(it, eval_metric="mse", optimizer="sgd", optimizer_params=(("learning_rate", 0.025),), num_epoch=epochs,
            arg_params={"fc1_weight": mx.nd.array(ARRAYS["svrg/w"]), "fc1_bias": mx.nd.zeros(1)})
    return mod


def test_svrg_module_matches_mxnet_and_numpy():
    from dataflow.contrib.svrg_optimization.svrg_module import SVRGModule
    for epochs in (1, 3):
        mod = _svrg_fit(epochs)
        arg, _ = mod.get_params()
        for key, got in (("weight", arg["fc1_weight"]), ("bias", arg["fc1_bias"]),
                         ("full_weight", mod._param_dict[0]["fc1_weight"])):
            np.testing.assert_allclose(got.asnumpy(), ARRAYS["svrg/epochs%d_%s" % (epochs, key)], rtol=1e-5,
                                       atol=1e-6)
    assert {str(k): v for k, v in mod._optimizer.idx2name.items()} == MX["svrg"]["idx2name"]

    # numpy, one epoch: the full gradient at the start weights averaged over 2.5 batches (the last padded by the
    # first two examples), then per batch w -= lr / 4 * (g(w) - g(w0) + full)
    x, y = ARRAYS["svrg/x"].astype(np.float64), ARRAYS["svrg/y"].astype(np.float64)
    order = np.r_[np.arange(10), 0, 1]
    batches = [order[i:i + 4] for i in (0, 4, 8)]

    def grads(w, b, rows):
        residual = x[rows] @ w[0] + b - y[rows]          # LinearRegressionOutput's gradient: pred - label
        return residual @ x[rows], residual.sum()
    w0, b0 = ARRAYS["svrg/w"].astype(np.float64), 0.0
    full_w = sum(grads(w0, b0, rows)[0] for rows in batches) / 2.5
    full_b = sum(grads(w0, b0, rows)[1] for rows in batches) / 2.5
    w, b = w0.copy(), b0
    for rows in batches:
        gw, gb = grads(w, b, rows)
        sw, sb = grads(w0, b0, rows)
        w = w - 0.025 / 4 * (gw - sw + full_w)
        b = b - 0.025 / 4 * (gb - sb + full_b)
    np.testing.assert_allclose(ARRAYS["svrg/epochs1_weight"], w, rtol=1e-5)
    np.testing.assert_allclose(ARRAYS["svrg/epochs1_bias"], [b], rtol=1e-5)
    for key, update_freq in (("none", None), ("zero", 0)):
        with pytest.raises((TypeError, ValueError)) as caught:
            SVRGModule(mx.sym.var("data"), label_names=None, update_freq=update_freq)
        assert [type(caught.value).__name__, str(caught.value)] == MX["svrg"]["errors"][key]
