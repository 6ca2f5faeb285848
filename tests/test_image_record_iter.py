"""mx.io.ImageRecordIter / ImageRecordUInt8Iter against MXNet 1.9.1's batches on the same .rec files
(tests/fixtures/mxnet-1.9.1/recordio, made by reference/recordio_fixtures.py)."""
import json
import os

import numpy as np
import pytest
from PIL import Image

import dataflow as mx
from dataflow.base import MXNetError

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "recordio")
BATCHES = np.load(os.path.join(HERE, "iter_batches.npz"))
with open(os.path.join(HERE, "info.json")) as _fh:
    CASES = json.load(_fh)["iter_cases"]


def arguments(case, **changes):
    kwargs = {key: os.path.join(HERE, value) if isinstance(value, str) else value for key, value in case.items()}
    kwargs.update(changes)
    return kwargs


def collect(it):
    data, label, pad = [], [], []
    for batch in it:
        data.append(batch.data[0].asnumpy())
        label.append(batch.label[0].asnumpy())
        pad.append(batch.pad)
    return np.stack(data), np.stack(label), np.array(pad)


def images_in_file_order():
    """The RGB pixels of imgs.rec's records, in the order of the file (= of imgs.lst)."""
    with open(os.path.join(HERE, "imgs.lst")) as fh:
        paths = [line.rstrip("\n").split("\t")[-1] for line in fh]
    return [np.asarray(Image.open(os.path.join(HERE, "images", p)).convert("RGB")) for p in paths]


@pytest.mark.parametrize("name", ["plain", "norm", "idx", "part1", "multi"])
def test_batches_equal_mxnets(name):
    data, label, pad = collect(mx.io.ImageRecordIter(**arguments(CASES[name])))
    np.testing.assert_allclose(data, BATCHES[name + "_data"], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(label, BATCHES[name + "_label"])
    np.testing.assert_array_equal(pad, BATCHES[name + "_pad"])


@pytest.mark.parametrize("name", ["resize", "small"])   # resize=, and images smaller than data_shape enlarged
def test_resizing_is_within_one_grey_level_of_opencv(name):
    data, label, pad = collect(mx.io.ImageRecordIter(**arguments(CASES[name])))
    assert np.abs(data - BATCHES[name + "_data"]).max() <= 1
    np.testing.assert_array_equal(label, BATCHES[name + "_label"])


def test_without_round_batch_the_last_batch_is_partial():
    data, label, pad = collect(mx.io.ImageRecordIter(**arguments(CASES["noround"])))
    reference = BATCHES["noround_data"]
    np.testing.assert_array_equal(data[:-1], reference[:-1])
    np.testing.assert_array_equal(data[-1, :1], reference[-1, :1])     # MXNet leaves the rest uninitialised
    assert not data[-1, 1:].any()
    np.testing.assert_array_equal(label[:, 0], BATCHES["noround_label"][:, 0])
    np.testing.assert_array_equal(pad, BATCHES["noround_pad"])


def test_uint8_iter_and_descriptions():
    it = mx.io.ImageRecordUInt8Iter(**arguments(CASES["plain"]))
    data, label, pad = collect(it)
    assert data.dtype == np.uint8
    np.testing.assert_array_equal(data, BATCHES["uint8_data"])
    np.testing.assert_array_equal(label, BATCHES["uint8_label"])
    assert it.provide_data[0].shape == (2, 3, 24, 24) and it.provide_label[0].name == "softmax_label"
    it.reset()                                  # the second epoch starts after the wrapped sample
    np.testing.assert_array_equal(it.next().data[0].asnumpy(), BATCHES["epochs_data"][3])
    multi = mx.io.ImageRecordIter(**arguments(CASES["multi"]))
    assert multi.provide_label[0].shape == (2, 2)


def test_random_augmentation_gives_crops_and_mirrors_of_the_images():
    images = images_in_file_order()
    kwargs = arguments(CASES["plain"], batch_size=1, rand_crop=True, rand_mirror=True, shuffle=True, seed=3,
                       preprocess_threads=4)
    it = mx.io.ImageRecordUInt8Iter(**kwargs)
    seen_labels, mirrored = [], 0
    for _ in range(4):                                   # epochs
        data, label, _ = collect(it)
        it.reset()
        seen_labels.append(sorted(label.ravel()))
        for sample in data[:, 0]:
            hwc = sample.transpose(1, 2, 0)
            found = None
            for img in images:
                for flip in (False, True):
                    source = img[:, ::-1] if flip else img
                    for y in range(source.shape[0] - 23):
                        for x in range(source.shape[1] - 23):
                            if np.array_equal(source[y:y + 24, x:x + 24], hwc):
                                found = flip
            assert found is not None, "a sample is no crop of any image"
            mirrored += found
    assert all(labels == seen_labels[0] for labels in seen_labels)     # each epoch is a permutation
    assert 0 < mirrored < 20
    again = collect(mx.io.ImageRecordUInt8Iter(**dict(kwargs, batch_size=3)))[0]        # seeded, and the same
    one_thread = collect(mx.io.ImageRecordUInt8Iter(**dict(kwargs, batch_size=3, preprocess_threads=1)))[0]
    np.testing.assert_array_equal(again, one_thread)                                      # with any threads


def test_bad_parameters_and_images_are_clear_errors(tmp_path):
    with pytest.raises(MXNetError, match="invalid inter_method 5"):
        mx.io.ImageRecordIter(**arguments(CASES["plain"], inter_method=5))
    with pytest.raises(MXNetError, match="unknown parameter 'colour'"):
        mx.io.ImageRecordIter(**arguments(CASES["plain"], colour=1))
    with pytest.raises(MXNetError, match="record id 2 has one label, label_width is 3"):
        mx.io.ImageRecordIter(**arguments(CASES["plain"], label_width=3)).next()
    with pytest.raises(MXNetError, match="record id 0 has 2 labels, label_width is 3"):
        mx.io.ImageRecordIter(**arguments(CASES["multi"], label_width=3)).next()
    writer = mx.recordio.MXRecordIO(str(tmp_path / "bad.rec"), "w")
    writer.write(mx.recordio.pack(mx.recordio.IRHeader(0, 1.0, 42, 0), b"\x89PNG broken"))
    writer.close()
    with pytest.raises(MXNetError, match=r"record id 42 \(byte 0 of .*bad\.rec\)"):
        mx.io.ImageRecordIter(path_imgrec=str(tmp_path / "bad.rec"), data_shape=(3, 4, 4), batch_size=1).next()


def test_after_a_wrapped_epoch_the_next_starts_after_the_wrapped_samples():
    it = mx.io.ImageRecordIter(**arguments(CASES["plain"]))
    epochs = []
    for _ in range(3):
        epochs.append(collect(it))
        it.reset()
    data, label, pad = (np.concatenate([epoch[i] for epoch in epochs]) for i in range(3))
    np.testing.assert_array_equal(data, BATCHES["epochs_data"])
    np.testing.assert_array_equal(label, BATCHES["epochs_label"])
    np.testing.assert_array_equal(pad, BATCHES["epochs_pad"])
