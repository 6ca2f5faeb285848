"""Record MXNet 1.9.1's RecordIO files, its im2rec output and ImageRecordIter batches.

Run with /work/mxvenv/bin/python.

Writes tests/fixtures/mxnet-1.9.1/recordio/ (see the README there). The mxvenv has no OpenCV, so im2rec runs with
--pass-through (the PNG bytes are packed as they are) under a placeholder `cv2` module it never calls.
"""
import hashlib
import io
import json
import os
import runpy
import shutil
import sys
import tempfile
import types

import numpy as np
from PIL import Image

os.environ["MXNET_MKLDNN_ENABLED"] = "0"
import mxnet as mx  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "recordio")
MAGIC = (0xCED7230A).to_bytes(4, "little")
# payloads that exercise the multi-part encoding: the magic at aligned offsets (split there), unaligned (kept)
PAYLOADS = [b"record_0", b"", b"abc", MAGIC, b"xy" + MAGIC + b"zw", MAGIC + b"1234" + MAGIC,
            b"abcd" + MAGIC + MAGIC + b"q", b"a" * 4 + MAGIC, bytes(range(256)) * 3]


def sha256(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def png_bytes(rng, height, width):
    buf = io.BytesIO()
    Image.fromarray(rng.randint(0, 256, (height, width, 3)).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def record_files(info):
    rec, idx = os.path.join(OUT, "payloads.rec"), os.path.join(OUT, "payloads.idx")
    writer = mx.recordio.MXIndexedRecordIO(idx, rec, "w")
    for i, payload in enumerate(PAYLOADS):
        writer.write_idx(i, payload)
    writer.close()
    info["payloads"] = [p.hex() for p in PAYLOADS]
    info["payloads_rec_sha256"], info["payloads_idx_sha256"] = sha256(rec), sha256(idx)
    # headers: a scalar label, and a label vector (flag = its length)
    info["pack_scalar"] = mx.recordio.pack(mx.recordio.IRHeader(0, 3.5, 7, 9), b"body").hex()
    info["pack_vector"] = mx.recordio.pack(mx.recordio.IRHeader(0, [1.0, -2.5, 4.0], 11, 0), b"xyz").hex()


def image_folder(rng, root):
    sizes = {"cat/a.png": (28, 30), "cat/b.png": (26, 33), "dog/c.png": (31, 27), "dog/d.png": (26, 26),
             "dog/e.PNG": (27, 29), "dog/notes.txt": None}
    for name, size in sizes.items():
        os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)
        with open(os.path.join(root, name), "wb") as fh:
            fh.write(png_bytes(rng, *size) if size else b"not an image")


def im2rec(argv):
    sys.modules.setdefault("cv2", types.ModuleType("cv2"))
    script = os.path.join(os.path.dirname(mx.__file__), "tools", "im2rec.py")
    saved = sys.argv
    sys.argv = [script] + argv
    try:
        namespace = runpy.run_path(script, run_name="__main__")
        if "record" in namespace:       # the script leaves its writer to be closed at exit
            namespace["record"].close()
    finally:
        sys.argv = saved


def batches(it):
    out = {"data": [], "label": [], "pad": []}
    for batch in it:
        out["data"].append(batch.data[0].asnumpy())
        out["label"].append(batch.label[0].asnumpy())
        out["pad"].append(batch.pad)
    return {k: np.stack(v) for k, v in out.items()}


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    rng = np.random.RandomState(0)
    info = {}
    record_files(info)
    work = tempfile.mkdtemp()
    try:
        root = os.path.join(work, "images")
        image_folder(rng, root)
        shutil.copytree(root, os.path.join(OUT, "images"))
        prefix = os.path.join(work, "imgs")
        im2rec(["--list", "--recursive", prefix, root])
        im2rec(["--list", "--recursive", "--train-ratio", "0.6", os.path.join(work, "split"), root])
        im2rec(["--pass-through", prefix, root])
        for name in ("imgs.lst", "imgs.rec", "imgs.idx", "split_train.lst", "split_val.lst"):
            shutil.copy(os.path.join(work, name), OUT)
        # multi-label records (label_width 2) packed by MXNet's pack
        rec, idx = os.path.join(OUT, "multi.rec"), os.path.join(OUT, "multi.idx")
        writer = mx.recordio.MXIndexedRecordIO(idx, rec, "w")
        for i in range(3):
            writer.write_idx(i, mx.recordio.pack(mx.recordio.IRHeader(0, [i, 10.0 + i], i, 0), png_bytes(rng, 26, 25)))
        writer.close()
        rec = os.path.join(OUT, "imgs.rec")
        common = dict(path_imgrec=rec, data_shape=(3, 24, 24), batch_size=2, preprocess_threads=1)
        cases = {
            "plain": dict(common),
            "norm": dict(common, mean_r=120.0, mean_g=110.0, mean_b=100.0, std_r=50.0, std_g=60.0, std_b=70.0,
                         scale=0.5),
            "noround": dict(common, round_batch=False),
            "idx": dict(common, path_imgidx=os.path.join(OUT, "imgs.idx"), batch_size=3),
            "part1": dict(common, path_imgidx=os.path.join(OUT, "imgs.idx"), batch_size=1, num_parts=2,
                          part_index=1),
            "resize": dict(common, resize=25),
            "small": dict(common, data_shape=(3, 29, 29)),
            "multi": dict(common, path_imgrec=os.path.join(OUT, "multi.rec"), label_width=2),
        }
        arrays = {}
        for name, kwargs in cases.items():
            for key, value in batches(mx.io.ImageRecordIter(**kwargs)).items():
                arrays[name + "_" + key] = value
        it = mx.io.ImageRecordIter(**common)       # three epochs: after a wrapped last batch MXNet goes on from there
        epochs = []
        for _ in range(3):
            epochs.append(batches(it))
            it.reset()
        for key in ("data", "label", "pad"):
            arrays["epochs_" + key] = np.concatenate([epoch[key] for epoch in epochs])
        for key, value in batches(mx.io.ImageRecordUInt8Iter(**common)).items():
            arrays["uint8_" + key] = value
        np.savez_compressed(os.path.join(OUT, "iter_batches.npz"), **arrays)
        info["iter_cases"] = {name: {k: (os.path.basename(v) if isinstance(v, str) else v)
                                     for k, v in kwargs.items()} for name, kwargs in cases.items()}
    finally:
        shutil.rmtree(work)
    with open(os.path.join(OUT, "info.json"), "w") as fh:
        json.dump(info, fh, indent=1)


if __name__ == "__main__":
    main()
