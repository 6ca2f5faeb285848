"""mx.recordio, the record datasets and `python -m dataflow.tools.im2rec` against files written by MXNet 1.9.1
(tests/fixtures/mxnet-1.9.1/recordio, made by reference/recordio_fixtures.py)."""
import hashlib
import io
import json
import os
import pickle
import shutil
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import dataflow as mx
from dataflow.base import MXNetError
from dataflow.recordio import IRHeader, MXIndexedRecordIO, MXRecordIO, pack, pack_img, unpack, unpack_img
from dataflow.tools import im2rec

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "recordio")
with open(os.path.join(HERE, "info.json")) as _fh:
    INFO = json.load(_fh)
PAYLOADS = [bytes.fromhex(p) for p in INFO["payloads"]]
MAGIC = struct.pack("<I", 0xCED7230A)


def fixture(name):
    return os.path.join(HERE, name)


def sha256(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def lst_rows(path):
    with open(path) as fh:
        return [line.rstrip("\n").split("\t") for line in fh]


def write_records(tmp_path, payloads, name="a"):
    writer = MXIndexedRecordIO(str(tmp_path / (name + ".idx")), str(tmp_path / (name + ".rec")), "w")
    for i, payload in enumerate(payloads):
        writer.write_idx(i, payload)
    writer.close()
    return str(tmp_path / (name + ".idx")), str(tmp_path / (name + ".rec"))


# ---- the byte format -----------------------------------------------------------------------------------------
def test_mxnet_records_read_back_in_order_and_by_key():
    reader = MXRecordIO(fixture("payloads.rec"), "r")
    assert [reader.read() for _ in PAYLOADS] == PAYLOADS
    assert reader.read() is None
    reader.reset()
    assert reader.read() == PAYLOADS[0]
    reader.close()
    indexed = MXIndexedRecordIO(fixture("payloads.idx"), fixture("payloads.rec"), "r")
    assert indexed.keys == list(range(len(PAYLOADS)))
    for key in reversed(indexed.keys):
        assert indexed.read_idx(key) == PAYLOADS[key]


def test_written_files_equal_mxnets_byte_for_byte(tmp_path):
    idx, rec = write_records(tmp_path, PAYLOADS)
    assert sha256(rec) == INFO["payloads_rec_sha256"]
    assert sha256(idx) == INFO["payloads_idx_sha256"]


def test_tell_counts_header_payload_and_padding(tmp_path):
    # MXNet's docstring example: 'record_%d' (8 bytes) takes 8 + 8 bytes
    writer = MXIndexedRecordIO(str(tmp_path / "t.idx"), str(tmp_path / "t.rec"), "w")
    positions = []
    for i in range(5):
        writer.write_idx(i, b"record_%d" % i)
        positions.append(writer.tell())
    writer.close()
    assert positions == [16, 32, 48, 64, 80]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.one_of(st.binary(max_size=9), st.just(MAGIC)), max_size=6).map(b"".join), max_size=6))
def test_any_payloads_round_trip_and_parts_are_aligned(tmp_path_factory, payloads):
    tmp_path = tmp_path_factory.mktemp("rt")
    idx, rec = write_records(tmp_path, payloads)
    with open(rec, "rb") as fh:
        raw = fh.read()
    assert len(raw) % 4 == 0
    reader = MXIndexedRecordIO(idx, rec, "r")
    assert [reader.read_idx(k) for k in reader.keys] == payloads
    # every part header sits on a 4-byte boundary and, apart from aligned magics, the payload is stored verbatim
    offset, parts = 0, 0
    while offset < len(raw):
        magic, lrec = struct.unpack_from("<II", raw, offset)
        assert magic == 0xCED7230A
        offset += 8 + (lrec & (2 ** 29 - 1)) + (-(lrec & (2 ** 29 - 1)) % 4)
        parts += 1
    aligned_magics = sum(p[i:i + 4] == MAGIC for p in payloads for i in range(0, len(p) - len(p) % 4, 4))
    assert parts == len(payloads) + aligned_magics


def test_pack_and_unpack_match_mxnet():
    assert pack(IRHeader(0, 3.5, 7, 9), b"body").hex() == INFO["pack_scalar"]
    assert pack(IRHeader(0, [1.0, -2.5, 4.0], 11, 0), b"xyz").hex() == INFO["pack_vector"]
    header, body = unpack(bytes.fromhex(INFO["pack_vector"]))
    assert (header.flag, header.id, body) == (3, 11, b"xyz")
    np.testing.assert_array_equal(header.label, np.float32([1.0, -2.5, 4.0]))
    assert unpack(bytes.fromhex(INFO["pack_scalar"])) == (IRHeader(0, 3.5, 7, 9), b"body")


# ---- behaviour of the objects -----------------------------------------------------------------------------------
def test_writer_renames_on_close_only(tmp_path):
    writer = MXRecordIO(str(tmp_path / "w.rec"), "w")
    writer.write(b"abc")
    assert not (tmp_path / "w.rec").exists()
    writer.close()
    assert os.listdir(tmp_path) == ["w.rec"]
    assert MXRecordIO(str(tmp_path / "w.rec"), "r").read() == b"abc"


def test_pickled_reader_reopens_and_other_process_use_is_refused(tmp_path):
    idx, rec = write_records(tmp_path, [b"one", b"two"])
    reader = MXRecordIO(rec, "r")
    assert reader.read() == b"one"
    copy = pickle.loads(pickle.dumps(reader))
    assert copy.read() == b"one"            # reopened at the start
    assert not reader.is_open               # pickling closes, as in MXNet
    indexed = MXIndexedRecordIO(idx, rec, "r")
    indexed.pid = -1                        # as if the object came from another process
    with pytest.raises(RuntimeError, match="multiple processes"):
        indexed.read()
    assert indexed.read_idx(1) == b"two"    # seek reopens in the new process
    with pytest.raises(ValueError, match="Invalid flag"):
        MXRecordIO(rec, "a")
    with pytest.raises(TypeError):
        MXRecordIO(str(tmp_path / "x.rec"), "w").write("text")


def test_truncated_file_names_file_and_record(tmp_path):
    idx, rec = write_records(tmp_path, [b"a" * 40, b"b" * 40])
    with open(rec, "rb") as fh:
        raw = fh.read()
    for cut in (len(raw) - 10, 48 + 4):     # inside the second payload, inside its header
        with open(rec, "wb") as fh:
            fh.write(raw[:cut])
        reader = MXRecordIO(rec, "r")
        assert reader.read() == b"a" * 40
        with pytest.raises(MXNetError, match=r"a\.rec is truncated: record #1 at byte 48"):
            reader.read()


def test_bad_magic_and_index_past_the_end(tmp_path):
    idx, rec = write_records(tmp_path, [b"a" * 8, b"b" * 8])
    with open(tmp_path / "bad.rec", "wb") as fh:
        fh.write(b"\0" * 32)
    with pytest.raises(MXNetError, match=r"bad\.rec is not a RecordIO file.*bad magic 0x00000000 at byte 0"):
        MXRecordIO(str(tmp_path / "bad.rec"), "r").read()
    with open(idx, "a") as fh:
        fh.write("2\t4096\n")
    with pytest.raises(MXNetError, match=r"a\.idx gives record 2 the offset 4096, past the end of .*a\.rec"):
        MXIndexedRecordIO(idx, rec, "r")
    with open(idx, "w") as fh:
        fh.write("0\t0\n1\t4\n")         # inside the first record
    with pytest.raises(MXNetError, match=r"bad magic .* at byte 4 \(record 1\)"):
        MXIndexedRecordIO(idx, rec, "r").read_idx(1)


# ---- images ------------------------------------------------------------------------------------------------------
def image_files():
    """The images im2rec packed, by their .lst line: index -> (RGB pixels, label)."""
    out = {}
    for index, label, path in lst_rows(fixture("imgs.lst")):
        out[int(index)] = (np.asarray(Image.open(os.path.join(HERE, "images", path)).convert("RGB")), float(label))
    return out


def test_mxnet_image_records_unpack_to_the_images():
    images = image_files()
    reader = MXIndexedRecordIO(fixture("imgs.idx"), fixture("imgs.rec"), "r")
    assert sorted(reader.keys) == sorted(images)
    for key in reader.keys:
        header, bgr = unpack_img(reader.read_idx(key))
        assert (header.id, header.label) == (key, images[key][1])
        np.testing.assert_array_equal(bgr[:, :, ::-1], images[key][0])
        _, gray = unpack_img(reader.read_idx(key), iscolor=0)
        assert gray.shape == bgr.shape[:2]


def test_pack_img_png_is_lossless_and_jpeg_close():
    rng = np.random.RandomState(1)
    bgr = rng.randint(0, 256, (9, 7, 3)).astype(np.uint8)
    header, back = unpack_img(pack_img(IRHeader(0, [1, 2], 5, 0), bgr, quality=3, img_fmt=".png"), iscolor=1)
    np.testing.assert_array_equal(back, bgr)
    np.testing.assert_array_equal(header.label, [1, 2])
    # the PNG holds RGB: OpenCV's BGR array is swapped on the way in
    png = unpack(pack_img(IRHeader(0, 0, 0, 0), bgr, img_fmt=".png"))[1]
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), bgr[:, :, ::-1])
    smooth = np.repeat(np.linspace(0, 255, 16, dtype=np.uint8)[None, :, None], 16, 0).repeat(3, 2)
    _, jpeg = unpack_img(pack_img(IRHeader(0, 0, 0, 0), smooth, quality=95))
    assert np.abs(jpeg.astype(int) - smooth).max() <= 8
    with pytest.raises(MXNetError, match="cannot decode the image of record id 3"):
        unpack_img(pack(IRHeader(0, 0, 3, 0), b"not an image"))


def test_record_datasets_read_mxnets_files():
    images = image_files()
    raw = mx.gluon.data.RecordFileDataset(fixture("imgs.rec"))
    keys = [int(row[0]) for row in lst_rows(fixture("imgs.lst"))]
    assert len(raw) == len(keys)
    assert unpack(raw[1])[0].id == keys[1]
    dataset = mx.gluon.data.vision.ImageRecordDataset(fixture("imgs.rec"))
    for i, key in enumerate(keys):
        img, label = dataset[i]
        np.testing.assert_array_equal(img.asnumpy(), images[key][0])
        assert label == images[key][1]
    multi = mx.gluon.data.vision.ImageRecordDataset(fixture("multi.rec"), flag=0)
    img, label = multi[2]
    assert img.shape == (26, 25, 1)
    np.testing.assert_array_equal(label, [2.0, 12.0])


# ---- im2rec ------------------------------------------------------------------------------------------------------
@pytest.fixture
def folder(tmp_path):
    shutil.copytree(os.path.join(HERE, "images"), tmp_path / "images")
    return tmp_path


def test_im2rec_lists_equal_mxnets(folder):
    im2rec.main(["--list", "--recursive", str(folder / "imgs"), str(folder / "images")])
    assert lst_rows(folder / "imgs.lst") == lst_rows(fixture("imgs.lst"))
    im2rec.main(["--list", "--recursive", "--train-ratio", "0.6", str(folder / "split"), str(folder / "images")])
    assert lst_rows(folder / "split_train.lst") == lst_rows(fixture("split_train.lst"))
    assert lst_rows(folder / "split_val.lst") == lst_rows(fixture("split_val.lst"))


def test_im2rec_pass_through_equals_mxnets_files(folder):
    shutil.copy(fixture("imgs.lst"), folder / "imgs.lst")
    im2rec.main(["--pass-through", str(folder / "imgs"), str(folder / "images")])
    assert sha256(folder / "imgs.rec") == sha256(fixture("imgs.rec"))
    assert sha256(folder / "imgs.idx") == sha256(fixture("imgs.idx"))


def test_im2rec_encodes_resizes_and_packs_labels(folder):
    images = image_files()
    with open(folder / "imgs.lst", "w") as fh:       # two labels a line, packed with --pack-label
        for index, label, path in lst_rows(fixture("imgs.lst")):
            fh.write("%s\t%s\t7.000000\t%s\n" % (index, label, path))
    im2rec.main(["--encoding", ".png", "--pack-label", str(folder / "imgs"), str(folder / "images")])
    reader = MXIndexedRecordIO(str(folder / "imgs.idx"), str(folder / "imgs.rec"), "r")
    for key in reader.keys:
        header, bgr = unpack_img(reader.read_idx(key))
        np.testing.assert_array_equal(bgr[:, :, ::-1], images[key][0])
        np.testing.assert_array_equal(header.label, [images[key][1], 7.0])
    im2rec.main(["--resize", "13", "--center-crop", str(folder / "imgs"), str(folder / "images")])
    reader = MXIndexedRecordIO(str(folder / "imgs.idx"), str(folder / "imgs.rec"), "r")
    for key in reader.keys:
        header, img = unpack_img(reader.read_idx(key))
        assert img.shape == (13, 13, 3) and header.label == images[key][1]


def _read_all(dataset):
    return [dataset[i] for i in range(len(dataset))]


def test_record_dataset_reads_in_a_spawned_process():
    import multiprocessing
    dataset = mx.gluon.data.RecordFileDataset(fixture("payloads.rec"))
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(_read_all, (dataset,)) == PAYLOADS
    assert _read_all(dataset) == PAYLOADS         # the pickled original reopens on its next read


def test_corrupt_image_in_a_record_dataset_names_file_and_record(tmp_path):
    good = unpack(MXIndexedRecordIO(fixture("imgs.idx"), fixture("imgs.rec"), "r").read_idx(0))[1]
    idx, rec = write_records(tmp_path, [pack(IRHeader(0, 1.0, 5, 0), good),
                                        pack(IRHeader(0, 1.0, 6, 0), good[:len(good) // 2])])
    dataset = mx.gluon.data.vision.ImageRecordDataset(rec)
    assert dataset[0][0].shape[2] == 3
    with pytest.raises(MXNetError, match=r"record 1 \(id 6\) of .*a\.rec"):
        dataset[1]


def test_truncated_images_are_refused_even_when_pillow_is_told_to_load_them(monkeypatch):
    """GluonCV sets Pillow's global ImageFile.LOAD_TRUNCATED_IMAGES at import, which would decode half a file with
    its missing rows filled in: imdecode still refuses it, and leaves the global as it found it."""
    from PIL import ImageFile
    good = unpack(MXIndexedRecordIO(fixture("imgs.idx"), fixture("imgs.rec"), "r").read_idx(0))[1]
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    assert mx.image.imdecode(good).shape[2] == 3
    with pytest.raises(MXNetError, match="cannot decode"):
        mx.image.imdecode(good[:len(good) // 2])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
