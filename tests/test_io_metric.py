"""mx.io iterators, mx.metric metrics and mx.callback, against values printed by MXNet 1.9.1 and numpy references.

The expected batches below were printed by MXNet 1.9.1 for X = arange(20).reshape(10, 2), y = arange(10); a batch
is written as (first column of the data, label, pad).
"""
import doctest
import logging
import math
import os
import re

import numpy as np
import pytest

import dataflow as mx
from dataflow import callback, io, metric, model

X = np.arange(20, dtype=np.float32).reshape(10, 2)
Y = np.arange(10, dtype=np.float32)


def _epochs(it, n):
    """n epochs of `it` as lists of (data[:, 0], label, pad), resetting after each as Module.fit does."""
    out = []
    for _ in range(n):
        out.append([(b.data[0].asnumpy()[:, 0].tolist(), b.label[0].asnumpy().tolist(), b.pad) for b in it])
        it.reset()
    return out


B0, B1 = ([0, 2, 4, 6], [0, 1, 2, 3], 0), ([8, 10, 12, 14], [4, 5, 6, 7], 0)
B2_PAD = ([16, 18, 0, 2], [8, 9, 0, 1], 2)

# (last_batch_handle, batch_size, epochs) -> batches per epoch, as MXNet 1.9.1 yields them
ITER_CASES = [
    ("pad", 4, [[B0, B1, B2_PAD]] * 3),
    ("discard", 4, [[B0, B1]] * 3),
    # roll_over: the leftover [16, 18] opens epoch 2; that batch reports pad = 2 (MXNet's getpad: -cursor)
    ("roll_over", 4, [[B0, B1],
                      [B2_PAD, ([4, 6, 8, 10], [2, 3, 4, 5], 0), ([12, 14, 16, 18], [6, 7, 8, 9], 0)],
                      [B0, B1]]),
    ("roll_over", 3, [[([0, 2, 4], [0, 1, 2], 0), ([6, 8, 10], [3, 4, 5], 0), ([12, 14, 16], [6, 7, 8], 0)],
                      [([18, 0, 2], [9, 0, 1], 1), ([4, 6, 8], [2, 3, 4], 0), ([10, 12, 14], [5, 6, 7], 0)],
                      [([16, 18, 0], [8, 9, 0], 2), ([2, 4, 6], [1, 2, 3], 0), ([8, 10, 12], [4, 5, 6], 0),
                       ([14, 16, 18], [7, 8, 9], 0)],
                      [([0, 2, 4], [0, 1, 2], 0), ([6, 8, 10], [3, 4, 5], 0), ([12, 14, 16], [6, 7, 8], 0)]]),
]


@pytest.mark.parametrize("handle, batch_size, expected", ITER_CASES)
def test_ndarrayiter_last_batch_handle(handle, batch_size, expected):
    it = io.NDArrayIter(X, Y, batch_size=batch_size, last_batch_handle=handle)
    assert _epochs(it, len(expected)) == expected


def test_ndarrayiter_pad_larger_than_data():
    it = io.NDArrayIter(X[:3], Y[:3], batch_size=8)
    assert _epochs(it, 1) == [[([0, 2, 4, 0, 2, 4, 0, 2], [0, 1, 2, 0, 1, 2, 0, 1], 5)]]


def test_ndarrayiter_shuffle_uses_numpy_global_generator():
    np.random.seed(0)
    it = io.NDArrayIter(X, Y, batch_size=4, shuffle=True)
    labels = [[(lab, pad) for _, lab, pad in epoch] for epoch in _epochs(it, 2)]
    assert labels == [[([2, 8, 4, 9], 0), ([1, 6, 7, 3], 0), ([0, 5, 2, 8], 2)],
                      [([5, 7, 0, 1], 0), ([6, 2, 4, 3], 0), ([9, 8, 5, 7], 2)]]
    for epoch in _epochs(it, 2):            # data and labels stay paired
        for data, label, _ in epoch:
            assert data == [2 * v for v in label]


def test_ndarrayiter_inputs_and_descs():
    it = io.NDArrayIter({"b": X, "a": X * 10}, {"lab": Y}, batch_size=5)
    assert [(d.name, d.shape) for d in it.provide_data] == [("a", (5, 2)), ("b", (5, 2))]
    assert [(d.name, d.shape) for d in it.provide_label] == [("lab", (5,))]
    batch = next(it)
    assert batch.data[0].asnumpy()[:, 0].tolist() == [0, 20, 40, 60, 80]
    assert batch.index is None and batch.bucket_key is None and batch.provide_data is None

    it = io.NDArrayIter([X, X * 10], [Y], batch_size=5)
    assert [d.name for d in it.provide_data] == ["_0_data", "_1_data"]
    assert [d.name for d in it.provide_label] == ["softmax_label"]

    it = io.NDArrayIter(X, batch_size=5)
    assert it.provide_label == []
    assert [b.label for b in it] == [[], []]

    # numpy ints become float32, and so does a shuffled int32 NDArray (MXNet rebuilds it with nd.array)
    assert io.NDArrayIter(np.arange(10, dtype=np.int64), Y, 4).provide_data[0].dtype == np.float32
    ints = mx.nd.array(np.arange(10), dtype="int32")
    assert io.NDArrayIter(ints, Y, 4).provide_data[0].dtype == np.int32
    assert io.NDArrayIter(ints, Y, 4, shuffle=True).provide_data[0].dtype == np.float32
    assert str(batch) == "DataBatch: data shapes: [(5, 2), (5, 2)] label shapes: [(5,)]"

    with pytest.raises(ValueError, match="last_batch_handle"):
        io.NDArrayIter(X, Y, 4, last_batch_handle="wrap")
    with pytest.raises(TypeError, match="Input must be"):
        io.NDArrayIter("data")


def test_ndarrayiter_batches_are_copies():
    it = io.NDArrayIter(X, Y, batch_size=4)
    batch = next(it)
    batch.data[0][:] = -1
    it.reset()
    assert next(it).data[0].asnumpy()[0, 0] == 0


def test_resize_iter():
    first = [lab for _, lab, _ in [B0, B1, B2_PAD]]
    it = io.ResizeIter(io.NDArrayIter(X, Y, 4), 5)
    assert [[lab for _, lab, _ in e] for e in _epochs(it, 2)] == [first + first[:2]] * 2
    it = io.ResizeIter(io.NDArrayIter(X, Y, 4), 2, reset_internal=False)
    pads = [[pad for _, _, pad in e] for e in _epochs(it, 3)]
    assert pads == [[0, 0], [2, 0], [0, 2]]
    assert it.provide_data[0].shape == (4, 2)


def test_data_desc():
    d = io.DataDesc("x", (1, 2))
    assert repr(d) == "DataDesc[x,(1, 2),<class 'numpy.float32'>,NCHW]"
    assert d == ("x", (1, 2)) and d.name == "x" and d.shape == (1, 2)
    assert io.DataDesc.get_batch_axis("TNC") == 1 and io.DataDesc.get_batch_axis(None) == 0
    assert io.DataDesc.get_list([("a", (1,))], [("a", np.int32)])[0].dtype == np.int32
    name, shape = io.DataDesc("y", (3,), np.int32, "N")
    assert (name, shape) == ("y", (3,))


# ------------------------------------------------------------------------------------------------------------
# Metrics: one row per metric (factory, batches of (labels, preds), numpy reference of get()'s value)
# ------------------------------------------------------------------------------------------------------------

def _inputs():
    """The inputs of the MXNet run (numpy's RandomState streams are stable)."""
    rs = np.random.RandomState(0)
    p1, l1 = rs.dirichlet(np.ones(4), 6).astype("f"), rs.randint(0, 4, 6).astype("f")
    p2, l2 = rs.dirichlet(np.ones(4), 5).astype("f"), rs.randint(0, 4, 5).astype("f")
    bp1, bl1 = rs.dirichlet(np.ones(2), 7).astype("f"), rs.randint(0, 2, 7).astype("f")
    bp2, bl2 = rs.dirichlet(np.ones(2), 5).astype("f"), rs.randint(0, 2, 5).astype("f")
    r1, t1 = rs.randn(6, 3).astype("f"), rs.randn(6, 3).astype("f")
    return dict(p1=p1, l1=l1, p2=p2, l2=l2, bp1=bp1, bl1=bl1, bp2=bp2, bl2=bl2, r1=r1, t1=t1)


D = _inputs()
CLS = [(D["l1"], D["p1"]), (D["l2"], D["p2"])]
BIN = [(D["bl1"], D["bp1"]), (D["bl2"], D["bp2"])]


def _f1(label, pred):
    p = pred.argmax(1) == 1
    t = label == 1
    tp, fp, fn = (p & t).sum(), (p & ~t).sum(), (~p & t).sum()
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return 2 * prec * rec / (prec + rec) if prec + rec else 0.0


def _mcc(label, pred):
    p = pred.argmax(1) == 1
    t = label == 1
    tp, fp, fn, tn = [float(x.sum()) for x in (p & t, p & ~t, ~p & t, ~p & ~t)]
    terms = [x for x in (tp + fp, tp + fn, tn + fp, tn + fn) if x]
    return (tp * tn - fp * fn) / math.sqrt(np.prod(terms))


def _col(x):
    return x.reshape(-1, 1) if x.ndim == 1 else x


def _pick(pairs):
    return np.concatenate([p[np.arange(len(lab)), lab.astype(int)] for lab, p in pairs])


METRIC_CASES = [
    # (name, factory, batches, reference value, MXNet 1.9.1's value where printed)
    ("accuracy", lambda: metric.Accuracy(), CLS,
     np.mean(np.concatenate([p.argmax(1) == lab for lab, p in CLS])), 0.45454545454545453),
    ("top_k_accuracy_2", lambda: metric.TopKAccuracy(top_k=2), CLS,
     np.mean(np.concatenate([(np.argsort(-p, 1)[:, :2] == lab[:, None]).any(1) for lab, p in CLS])),
     0.8181818181818182),
    ("f1", lambda: metric.F1(), BIN, np.mean([_f1(lab, p) for lab, p in BIN]), 0.6607142857142857),
    ("f1", lambda: metric.F1(average="micro"), BIN,
     _f1(np.concatenate([b[0] for b in BIN]), np.concatenate([b[1] for b in BIN])), 0.6666666666666666),
    ("mcc", lambda: metric.MCC(), BIN, np.mean([_mcc(lab, p) for lab, p in BIN]), 0.2),
    ("mae", lambda: metric.MAE(), [(D["t1"], D["r1"]), (D["l1"], D["p1"][:, 0])],
     np.mean([np.abs(D["t1"] - D["r1"]).mean(), np.abs(_col(D["l1"]) - _col(D["p1"][:, 0])).mean()]),
     1.253867506980896),
    ("mse", lambda: metric.MSE(), [(D["t1"], D["r1"])], ((D["t1"] - D["r1"]) ** 2).mean(), 2.4694628715515137),
    ("rmse", lambda: metric.RMSE(), [(D["t1"], D["r1"]), (D["l1"], D["p1"][:, 0])],
     np.mean([np.sqrt(((D["t1"] - D["r1"]) ** 2).mean()),
              np.sqrt(((_col(D["l1"]) - _col(D["p1"][:, 0])) ** 2).mean())]), 1.5378925204277039),
    ("cross-entropy", lambda: metric.CrossEntropy(), CLS, np.mean(-np.log(_pick(CLS) + 1e-12)),
     1.1534386548128994),
    ("nll-loss", lambda: metric.NegativeLogLikelihood(), CLS[:1], np.mean(-np.log(_pick(CLS[:1]) + 1e-12)),
     0.9457887808481852),
    ("perplexity", lambda: metric.Perplexity(ignore_label=None), CLS, np.exp(np.mean(-np.log(_pick(CLS)))),
     3.1690716755189494),
    ("perplexity", lambda: metric.Perplexity(ignore_label=1), CLS,
     np.exp(np.mean(-np.log(_pick(CLS)[np.concatenate([lab for lab, _ in CLS]) != 1]))), 3.558753844483684),
    ("loss", lambda: metric.Loss(), [(D["t1"], D["r1"])], D["r1"].mean(), 0.0778180029657152),
    ("pearsonr", lambda: metric.PearsonCorrelation(), [(D["t1"], D["r1"])],
     np.corrcoef(D["r1"].ravel(), D["t1"].ravel())[0, 1], -0.19558608560952137),
]


@pytest.mark.parametrize("name, factory, batches, want, mxnet", METRIC_CASES,
                         ids=[c[0] + str(i) for i, c in enumerate(METRIC_CASES)])
def test_metric_matches_numpy_and_mxnet(name, factory, batches, want, mxnet):
    m = factory()
    assert m.get()[0] == name and math.isnan(m.get()[1])
    for label, pred in batches:
        m.update([mx.nd.array(label)], [mx.nd.array(pred)])
    got_name, got = m.get()
    assert got_name == name
    assert got == pytest.approx(want, rel=1e-5)
    assert got == pytest.approx(mxnet, rel=1e-5)
    assert m.get_global() == (name, pytest.approx(got, rel=1e-12))
    assert m.get_name_value() == [(name, got)]
    m.reset_local()
    assert math.isnan(m.get()[1]) and m.get_global()[1] == pytest.approx(want, rel=1e-5)
    m.reset()
    assert math.isnan(m.get_global()[1])


def test_metric_create_and_composite():
    names = {"acc": "accuracy", "accuracy": "accuracy", "ce": "cross-entropy", "f1": "f1", "mae": "mae",
             "mse": "mse", "rmse": "rmse", "loss": "loss", "nll_loss": "nll-loss", "pearsonr": "pearsonr",
             "mcc": "mcc", "composite": "composite"}
    for key, name in names.items():
        assert metric.create(key).name == name
    assert metric.create("top_k_accuracy", top_k=5).name == "top_k_accuracy_5"
    assert metric.create("perplexity", ignore_label=None).name == "perplexity"
    with pytest.raises(ValueError, match="cross-entropy is not registered"):
        metric.create("cross-entropy")

    comp = metric.create(["acc", "ce", metric.TopKAccuracy(2)])
    assert isinstance(comp, metric.CompositeEvalMetric)
    comp.update([mx.nd.array(D["l1"])], [mx.nd.array(D["p1"])])
    names, values = comp.get()
    assert names == ["accuracy", "cross-entropy", "top_k_accuracy_2"]
    assert values == pytest.approx([0.5, 0.9457887808481852, 1.0])     # MXNet 1.9.1's values
    assert comp.get_name_value() == list(zip(names, values))
    comp.reset()
    assert all(math.isnan(v) for v in comp.get()[1])


def test_metric_details():
    acc = metric.Accuracy()
    acc.update([mx.nd.array(D["l1"])], [mx.nd.array(D["p1"].argmax(1).astype("f"))])     # class ids as preds
    assert acc.get() == ("accuracy", 0.5)
    assert str(acc) == "EvalMetric: {'accuracy': 0.5}"
    assert acc.get_config() == {"axis": 1, "metric": "Accuracy", "name": "accuracy", "output_names": None,
                                "label_names": None}
    assert metric.create(acc.get_config()).get_config() == acc.get_config()
    with pytest.raises(ValueError, match="Shape of labels 2 does not match shape of predictions 1"):
        acc.update([mx.nd.array(D["l1"])] * 2, [mx.nd.array(D["p1"])])

    named = metric.Accuracy(output_names=["o"], label_names=["l"])
    named.update_dict({"l": mx.nd.array(D["l1"]), "x": mx.nd.array(D["l2"])},
                      {"o": mx.nd.array(D["p1"]), "y": mx.nd.array(D["p2"])})
    assert named.get() == ("accuracy", 0.5)

    def feval(label, pred):
        return float(np.abs(label - pred.argmax(1)).sum())
    custom = metric.create(feval)
    custom.update([mx.nd.array(D["l1"])], [mx.nd.array(D["p1"])])
    assert custom.get() == ("feval", 4.0)
    assert metric.np(feval).name == "feval"
    assert metric.create(lambda label, pred: 1.0).name == "custom(<lambda>)"
    with pytest.raises(ValueError, match="binary"):
        metric.F1().update([mx.nd.array(D["l1"])], [mx.nd.array(D["p1"])])


# ------------------------------------------------------------------------------------------------------------
# Callbacks and checkpoints
# ------------------------------------------------------------------------------------------------------------

def _param(nbatch, eval_metric, epoch=0):
    return model.BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=eval_metric, locals=None)


def test_speedometer_log_lines(caplog):
    acc = metric.Accuracy()
    acc.update([mx.nd.array([0, 1])], [mx.nd.array([[1, 0], [1, 0]])])
    speed = callback.Speedometer(batch_size=10, frequent=2)
    with caplog.at_level(logging.INFO):
        for nbatch in range(3):
            speed(_param(nbatch, acc))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1
    assert re.fullmatch(r"Epoch\[0\] Batch \[0-2\]\tSpeed: [0-9.]+ samples/sec\taccuracy=0\.500000", lines[0])
    assert math.isnan(acc.get()[1]) and acc.get_global()[1] == 0.5     # auto_reset clears the local statistics

    caplog.clear()
    speed = callback.Speedometer(batch_size=10, frequent=2, auto_reset=False)
    with caplog.at_level(logging.INFO):
        for nbatch in (0, 1, 2, 3, 4, 0, 1, 2):     # the drop to 0 starts a new epoch: the clock restarts
            speed(_param(nbatch, None, epoch=1))
    lines = [r.getMessage() for r in caplog.records]
    assert [line.split("\t")[0] for line in lines] == ["Iter[1] Batch [2]", "Iter[1] Batch [4]", "Iter[1] Batch [2]"]

    caplog.clear()
    acc.update([mx.nd.array([0, 1])], [mx.nd.array([[1, 0], [0, 1]])])
    speed = callback.Speedometer(batch_size=4, frequent=1, auto_reset=False)
    with caplog.at_level(logging.INFO):
        speed(_param(0, acc))
        speed(_param(1, acc))
    assert re.fullmatch(r"Epoch\[0\] Batch \[0-1\]\tSpeed: [0-9.]+ samples/sec\taccuracy=1\.000000",
                        caplog.records[0].getMessage())


def test_checkpoint_callbacks(tmp_path):
    net = mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=2, name="fc")
    prefix = str(tmp_path / "net")
    save = callback.do_checkpoint(prefix, period=2)
    for epoch in range(3):
        save(epoch, net, {"fc_weight": mx.nd.ones((2, 3)) * epoch, "fc_bias": mx.nd.zeros(2)},
             {"fc_aux": mx.nd.ones(1)})
    assert sorted(os.listdir(tmp_path)) == ["net-0002.params", "net-symbol.json"]
    raw = mx.nd.load(prefix + "-0002.params")
    assert sorted(raw) == ["arg:fc_bias", "arg:fc_weight", "aux:fc_aux"]
    sym, args, aux = model.load_checkpoint(prefix, 2)
    assert sym.tojson() == net.tojson()
    np.testing.assert_array_equal(args["fc_weight"].asnumpy(), np.ones((2, 3)))
    assert list(aux) == ["fc_aux"]

    mx.nd.save(prefix + "-0009.params", {"fc_weight": mx.nd.ones(1)})
    with pytest.raises(ValueError, match="neither 'arg:NAME' nor 'aux:NAME'"):
        model.load_checkpoint(prefix, 9)


@pytest.mark.parametrize("module", [io, metric, callback, model])
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
