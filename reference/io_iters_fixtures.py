"""Record MXNet 1.9.1's batches of CSVIter, LibSVMIter and MNISTIter on small input files, for
tests/test_io_iters.py. Run with the oracle: `MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python
reference/io_iters_fixtures.py`. Writes the inputs and `batches.npz` (+ `cases.json`) to
tests/fixtures/mxnet-1.9.1/io_iters/."""
import json
import os
import struct

import mxnet as mx
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "io_iters")


def write_inputs(rs):
    np.savetxt(os.path.join(OUT, "data.csv"), rs.randint(-50, 50, (7, 6)) / 4.0, delimiter=",", fmt="%g")
    np.savetxt(os.path.join(OUT, "label.csv"), rs.randint(0, 9, (7, 2)), delimiter=",", fmt="%g")
    lines = []
    for _ in range(9):
        label = rs.randint(0, 3)
        cols = sorted(rs.choice(8, rs.randint(0, 4), replace=False))
        lines.append(" ".join([str(label)] + ["%d:%g" % (c, rs.randint(-9, 9) / 2.0) for c in cols]))
    with open(os.path.join(OUT, "data.libsvm"), "w") as f:
        f.write("\n".join(lines) + "\n")
    images = rs.randint(0, 256, (10, 28, 28)).astype(np.uint8)
    labels = rs.randint(0, 10, 10).astype(np.uint8)
    with open(os.path.join(OUT, "images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 2051, 10, 28, 28) + images.tobytes())
    with open(os.path.join(OUT, "labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 2049, 10) + labels.tobytes())


def path(name):
    return os.path.join(OUT, name)


CASES = {
    "csv_round": ("CSVIter", dict(data_csv="data.csv", data_shape=(6,), label_csv="label.csv", label_shape=(2,),
                                  batch_size=3)),
    "csv_2d_no_label": ("CSVIter", dict(data_csv="data.csv", data_shape=(2, 3), batch_size=4)),
    "csv_no_round_int": ("CSVIter", dict(data_csv="data.csv", data_shape=(6,), batch_size=3, round_batch=False,
                                         dtype="int32")),
    "csv_big_batch": ("CSVIter", dict(data_csv="data.csv", data_shape=(6,), batch_size=5)),
    "libsvm_round": ("LibSVMIter", dict(data_libsvm="data.libsvm", data_shape=(8,), batch_size=4)),
    "libsvm_part1": ("LibSVMIter", dict(data_libsvm="data.libsvm", data_shape=(8,), batch_size=2, num_parts=2,
                                        part_index=1)),
    "libsvm_part0": ("LibSVMIter", dict(data_libsvm="data.libsvm", data_shape=(8,), batch_size=2, num_parts=3,
                                        part_index=0)),
    "mnist": ("MNISTIter", dict(image="images-idx3-ubyte", label="labels-idx1-ubyte", batch_size=4, shuffle=False,
                                silent=True)),
    "mnist_flat_part": ("MNISTIter", dict(image="images-idx3-ubyte", label="labels-idx1-ubyte", batch_size=2,
                                          shuffle=False, flat=True, num_parts=3, part_index=2, silent=True)),
}
FILE_ARGS = ("data_csv", "label_csv", "data_libsvm", "image", "label")


def main():
    os.makedirs(OUT, exist_ok=True)
    write_inputs(np.random.RandomState(19))
    arrays, cases = {}, {}
    for case, (kind, kwargs) in CASES.items():
        args = {k: (path(v) if k in FILE_ARGS else v) for k, v in kwargs.items()}
        it = getattr(mx.io, kind)(**args)
        record = {"kind": kind, "kwargs": kwargs, "provide_data": [[d.name, list(d.shape), np.dtype(d.dtype).name]
                                                                   for d in it.provide_data],
                  "provide_label": [[d.name, list(d.shape), np.dtype(d.dtype).name] for d in it.provide_label],
                  "epochs": []}
        for epoch in range(3):
            pads = []
            for i, batch in enumerate(it):
                arrays["%s/%d/%d/data" % (case, epoch, i)] = batch.data[0].asnumpy()
                arrays["%s/%d/%d/label" % (case, epoch, i)] = batch.label[0].asnumpy()
                pads.append(int(batch.pad))
            record["epochs"].append(pads)
            it.reset()
        cases[case] = record
    np.savez_compressed(os.path.join(OUT, "batches.npz"), **arrays)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)


if __name__ == "__main__":
    main()
