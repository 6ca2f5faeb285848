"""`mx.io.CSVIter`, `LibSVMIter`, `MNISTIter` against MXNet 1.9.1's batches on the same files
(tests/fixtures/mxnet-1.9.1/io_iters, made by reference/io_iters_fixtures.py), their errors on bad files, and
`PrefetchingIter` against the iterators it wraps."""
import json
import os
import struct

import numpy as np
import pytest

import dataflow as mx
from dataflow.base import MXNetError

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "io_iters")
CASES = json.load(open(os.path.join(FIXTURES, "cases.json")))
BATCHES = np.load(os.path.join(FIXTURES, "batches.npz"))
FILE_ARGS = ("data_csv", "label_csv", "data_libsvm", "image", "label")


def _make(kind, kwargs):
    args = {k: (os.path.join(FIXTURES, v) if k in FILE_ARGS else v) for k, v in kwargs.items()}
    return getattr(mx.io, kind)(**args)


@pytest.mark.parametrize("case", sorted(CASES))
def test_batches_match_mxnet(case):
    record = CASES[case]
    it = _make(record["kind"], record["kwargs"])
    descs = lambda ds: [[d.name, list(d.shape), np.dtype(d.dtype).name] for d in ds]     # noqa: E731
    assert descs(it.provide_data) == record["provide_data"]
    assert descs(it.provide_label) == record["provide_label"]
    for epoch, pads in enumerate(record["epochs"]):
        batches = list(it)
        assert [b.pad for b in batches] == pads, (case, epoch)
        for i, batch in enumerate(batches):
            for part in ("data", "label"):
                want = BATCHES["%s/%d/%d/%s" % (case, epoch, i, part)]
                got = getattr(batch, part)[0].asnumpy()
                assert got.dtype == want.dtype and got.shape == want.shape, (case, epoch, i, part)
                np.testing.assert_array_equal(got, want, err_msg="%s epoch %d batch %d %s" % (case, epoch, i, part))
        it.reset()


def test_mnist_shuffle_is_a_seeded_permutation(capsys):
    kwargs = dict(image=os.path.join(FIXTURES, "images-idx3-ubyte"), label=os.path.join(FIXTURES,
                  "labels-idx1-ubyte"), batch_size=5, flat=True)
    plain = [b.label[0].asnumpy() for b in mx.io.MNISTIter(shuffle=False, silent=True, **kwargs)]
    first = [b.label[0].asnumpy() for b in mx.io.MNISTIter(seed=3, **kwargs)]
    again = [b.label[0].asnumpy() for b in mx.io.MNISTIter(seed=3, silent=True, **kwargs)]
    assert "MNISTIter" in capsys.readouterr().out       # not silent: says what it loaded
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate(again))
    assert sorted(np.concatenate(first)) == sorted(np.concatenate(plain))


def _idx_files(tmp_path, count=3, cut=0, magic=2051):
    rs = np.random.RandomState(0)
    images = struct.pack(">IIII", magic, count, 28, 28) + rs.randint(0, 256, count * 784).astype(np.uint8).tobytes()
    image, label = tmp_path / "img", tmp_path / "lab"
    image.write_bytes(images[:len(images) - cut])
    label.write_bytes(struct.pack(">II", 2049, count) + bytes(range(count)))
    return str(image), str(label)


def test_bad_files_name_the_file_and_the_line_or_record(tmp_path):
    image, label = _idx_files(tmp_path, cut=100)
    with pytest.raises(MXNetError, match=r"img.*truncated.*record 2 of 3"):
        mx.io.MNISTIter(image=image, label=label, batch_size=1, silent=True)
    image, label = _idx_files(tmp_path, magic=2049)
    with pytest.raises(MXNetError, match="magic number 2049, expected 2051"):
        mx.io.MNISTIter(image=image, label=label, batch_size=1, silent=True)
    with pytest.raises(MXNetError, match="missing-file"):
        mx.io.MNISTIter(image=str(tmp_path / "missing-file"), label=label, silent=True)
    csv = tmp_path / "short.csv"
    csv.write_text("1,2,3\n4,5,6\n7,8\n")
    with pytest.raises(MXNetError, match=r"short\.csv line 3 has 2 values, but the shape \(3,\) needs 3"):
        mx.io.CSVIter(data_csv=str(csv), data_shape=(3,), batch_size=2)
    csv.write_text("1,2,x\n")
    with pytest.raises(MXNetError, match=r"short\.csv line 1"):
        mx.io.CSVIter(data_csv=str(csv), data_shape=(3,), batch_size=2)
    svm = tmp_path / "bad.libsvm"
    svm.write_text("1 0:1\n0 9:2\n")
    with pytest.raises(MXNetError, match=r"bad\.libsvm line 2: feature index 9 is outside"):
        mx.io.LibSVMIter(data_libsvm=str(svm), data_shape=(4,), batch_size=1)
    with pytest.raises(MXNetError, match="round_batch == false"):
        mx.io.LibSVMIter(data_libsvm=str(svm), data_shape=(4,), batch_size=1, round_batch=False)


def test_csv_directory_and_label_file(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.csv").write_text("1,2\n3,4\n")
    (folder / "b.csv").write_text("5,6\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("10\n20\n30\n")
    it = mx.io.CSVIter(data_csv=str(folder), data_shape=(2,), label_csv=str(labels), batch_size=3, dtype="float64")
    batch = it.next()
    np.testing.assert_array_equal(batch.data[0].asnumpy(), [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(batch.label[0].asnumpy(), [10, 20, 30])
    assert batch.data[0].dtype == np.float64 and batch.pad == 0


def test_prefetching_iter_joins_and_renames():
    x, y = np.arange(40, dtype=np.float32).reshape(10, 4), np.arange(10, dtype=np.float32)
    make = lambda: mx.io.NDArrayIter(x, y, batch_size=4)       # noqa: E731
    piter = mx.io.PrefetchingIter([make(), mx.io.NDArrayIter(x * 2, y, batch_size=4)],
                                  rename_data=[{"data": "a"}, {"data": "b"}])
    assert [d.name for d in piter.provide_data] == ["a", "b"] and piter.batch_size == 4
    assert [d.name for d in piter.provide_label] == ["softmax_label"] * 2
    for _ in range(2):
        plain = list(make())
        batches = list(piter)
        assert [b.pad for b in batches] == [b.pad for b in plain] == [0, 0, 2]
        for got, want in zip(batches, plain):
            np.testing.assert_array_equal(got.data[0].asnumpy(), want.data[0].asnumpy())
            np.testing.assert_array_equal(got.data[1].asnumpy(), 2 * want.data[0].asnumpy())
            assert len(got.label) == 2
        piter.reset()
    single = mx.io.PrefetchingIter(make())
    assert len(list(single)) == 3 and single.provide_data[0].name == "data"
    with pytest.raises(AssertionError, match="mismatches"):
        list(mx.io.PrefetchingIter([make(), mx.io.NDArrayIter(x[:4], y[:4], batch_size=4)]))


class _Failing(mx.io.DataIter):
    provide_data = [mx.io.DataDesc("data", (1, 1))]
    provide_label = []

    def next(self):
        raise RuntimeError("source iterator broke")


def test_prefetching_iter_raises_the_source_error():
    with pytest.raises(RuntimeError, match="source iterator broke"):
        mx.io.PrefetchingIter(_Failing()).next()


# -- LibSVMIter's csr batches (tests/fixtures/mxnet-1.9.1/sparse_ops, made by reference/sparse_ops_fixtures.py) ------

SPARSE_FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "sparse_ops")


@pytest.mark.parametrize("run", ["plain", "label_file", "parts"])
def test_libsvm_csr_batches_match_mxnet(run):
    record = json.load(open(os.path.join(SPARSE_FIXTURES, "libsvm.json")))[run]
    arrays = np.load(os.path.join(SPARSE_FIXTURES, "arrays.npz"))
    kwargs = dict(record["kwargs"])
    if record["label_file"]:
        kwargs["label_libsvm"] = os.path.join(SPARSE_FIXTURES, "label.libsvm")
    it = mx.io.LibSVMIter(data_libsvm=os.path.join(SPARSE_FIXTURES, "data.libsvm"), **kwargs)
    assert [[d.name, list(d.shape)] for d in it.provide_data] == record["provide_data"]
    assert [[d.name, list(d.shape)] for d in it.provide_label] == record["provide_label"]
    got = []
    for epoch in range(2):
        if epoch:
            it.reset()
        got += [(epoch, b, batch) for b, batch in enumerate(it)]
    assert [(e, b) for e, b, _ in got] == [(r["epoch"], r["batch"]) for r in record["batches"]]
    for (_, _, batch), want in zip(got, record["batches"]):
        data, label = batch.data[0], batch.label[0]
        assert (data.stype, label.stype, batch.pad) == (want["data_stype"], want["label_stype"], want["pad"])
        np.testing.assert_array_equal(data.asnumpy(), arrays[want["key"] + "/data"])
        np.testing.assert_array_equal(label.asnumpy(), arrays[want["key"] + "/label"])
        data.check_format()


def test_libsvm_unsorted_line_gives_canonical_csr(tmp_path):
    svm = tmp_path / "unsorted.libsvm"
    svm.write_text("1 3:1.0 0:2.0\n0 2:5.0\n")
    batch = mx.io.LibSVMIter(data_libsvm=str(svm), data_shape=(4,), batch_size=2).next()
    data = batch.data[0]
    np.testing.assert_array_equal(data.indices.asnumpy(), [0, 3, 2])
    np.testing.assert_array_equal(data.asnumpy(), [[2, 0, 0, 1], [0, 0, 5, 0]])
    data.check_format()
