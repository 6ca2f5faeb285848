"""mx.image.ImageIter against MXNet 1.9.1's batches over the same files (the images and records of
tests/fixtures/mxnet-1.9.1/recordio; MXNet's batches in tests/fixtures/mxnet-1.9.1/image_aug/image_iter.npz, made by
reference/image_aug_fixtures.py with Python's `random` and numpy seeded to 11)."""
import json
import os
import random

import numpy as np
import pytest

import dataflow as mx
from dataflow.base import MXNetError

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1")
RECORDIO = os.path.join(FIXTURES, "recordio")
REF = np.load(os.path.join(FIXTURES, "image_aug", "image_iter.npz"))
with open(os.path.join(FIXTURES, "image_aug", "info.json")) as _fh:
    CASES = json.load(_fh)["iter_cases"]


def arguments(case, **changes):
    kwargs = {key: (os.path.join(RECORDIO, value) if key.startswith("path_") else value)
              for key, value in case.items() if key != "epochs"}
    kwargs["data_shape"] = tuple(kwargs["data_shape"])
    kwargs.update(changes)
    return kwargs


def collect(it, epochs=1, hard=False):
    data, label, pad = [], [], []
    for _ in range(epochs):
        for batch in it:
            data.append(batch.data[0].asnumpy())
            label.append(batch.label[0].asnumpy())
            pad.append(batch.pad)
        it.hard_reset() if hard else it.reset()
    return np.stack(data), np.stack(label), np.array(pad)


def seeded_iter(**kwargs):
    random.seed(11)
    np.random.seed(11)
    return mx.image.ImageIter(**kwargs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_batches_equal_mxnets(name):
    case = CASES[name]
    data, label, pad = collect(seeded_iter(**arguments(case)), case["epochs"])
    reference = REF["iter_%s_data" % name]
    assert data.shape == reference.shape and data.dtype == np.float32
    np.testing.assert_allclose(data, reference, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(label, REF["iter_%s_label" % name])
    np.testing.assert_array_equal(pad, REF["iter_%s_pad" % name])


def test_hard_reset_forgets_the_rolled_over_samples():
    data, label, pad = collect(seeded_iter(**arguments(CASES["lst_roll_over"])), 2, hard=True)
    np.testing.assert_array_equal(data, REF["iter_hard_reset_data"])
    np.testing.assert_array_equal(label, REF["iter_hard_reset_label"])
    np.testing.assert_array_equal(pad, REF["iter_hard_reset_pad"])


def test_descriptions_and_postprocessing():
    it = mx.image.ImageIter(**arguments(CASES["imglist_width2"], data_name="img", label_name="lab"))
    assert it.provide_data == [("img", (2, 3, 16, 16))] and it.provide_label == [("lab", (2, 2))]
    hwc = mx.nd.array(np.arange(24).reshape(2, 4, 3))
    np.testing.assert_array_equal(it.postprocess_data(hwc).asnumpy(), hwc.asnumpy().transpose(2, 0, 1))
    with pytest.raises(ValueError, match="3 channels"):
        it.check_data_shape((1, 16, 16))
    with pytest.raises(ValueError, match="length 3"):
        it.check_data_shape((16, 16))


def test_custom_aug_list_is_used_as_given():
    flip = [mx.image.CenterCropAug((16, 16)), mx.image.HorizontalFlipAug(1.0), mx.image.CastAug()]
    data, _, _ = collect(mx.image.ImageIter(**arguments(CASES["lst"], aug_list=flip)))
    np.testing.assert_array_equal(data, REF["iter_lst_data"][:3, :, :, :, ::-1])


def test_bad_sources_are_clear_errors(tmp_path):
    lst = arguments(CASES["lst"])
    with pytest.raises(MXNetError, match="path_imgrec, path_imglist or imglist"):
        mx.image.ImageIter(2, (3, 16, 16))
    with pytest.raises(MXNetError, match="label dtype 'uint8'"):
        mx.image.ImageIter(**dict(lst, dtype="uint8"))
    with pytest.raises(MXNetError, match="last_batch_handle"):
        mx.image.ImageIter(**dict(lst, last_batch_handle="keep"))
    with pytest.raises(MXNetError, match="need the index of .*imgs.rec"):
        mx.image.ImageIter(**arguments(CASES["rec"], shuffle=True))
    # a missing image file names the file and the list
    (tmp_path / "gone.lst").write_text("0\t1.0\tcat/a.png\n1\t0.0\tcat/missing.png\n")
    it = mx.image.ImageIter(**dict(lst, path_imglist=str(tmp_path / "gone.lst")))
    with pytest.raises(FileNotFoundError, match=r"cat/missing.png \(listed in .*gone.lst\)") as info:
        it.next()
    assert isinstance(info.value, MXNetError)
    (tmp_path / "bad.lst").write_text("zero\t1.0\tcat/a.png\n")
    with pytest.raises(MXNetError, match="line 1 of .*bad.lst"):
        mx.image.ImageIter(**dict(lst, path_imglist=str(tmp_path / "bad.lst")))
    # a broken image names the record
    writer = mx.recordio.MXIndexedRecordIO(str(tmp_path / "bad.idx"), str(tmp_path / "bad.rec"), "w")
    writer.write_idx(5, mx.recordio.pack(mx.recordio.IRHeader(0, 1.0, 42, 0), b"\x89PNG broken"))
    writer.close()
    for index in (None, str(tmp_path / "bad.idx")):
        it = mx.image.ImageIter(1, (3, 16, 16), path_imgrec=str(tmp_path / "bad.rec"), path_imgidx=index)
        with pytest.raises(MXNetError, match=r"Broken image record .*(42|5).* of .*bad\.rec"):
            it.next()
    with pytest.raises(MXNetError, match="has 1 label.*label_width is 2"):
        mx.image.ImageIter(**arguments(CASES["lst"], label_width=2)).next()
