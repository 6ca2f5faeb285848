"""`python -m dataflow.tools.im2rec`: MXNet's tools/im2rec.py, making image lists and RecordIO files.

    python -m dataflow.tools.im2rec --list [--recursive] PREFIX ROOT     writes PREFIX.lst (or _train/_val/_test)
    python -m dataflow.tools.im2rec [options] PREFIX ROOT                packs every PREFIX*.lst into .rec and .idx

A .lst line is "index\\tlabel(s)\\trelative path" (labels printed with %f); with --recursive each sub-folder of
ROOT is one class, numbered in sorted order. The list is shuffled with Python's random.seed(100), as MXNet's, so
both tools write the same lists. Records are `recordio.pack_img` of the image read in OpenCV's channel order (or
the file's bytes with --pass-through), keyed by the list's index. Differences: images are decoded and encoded
with Pillow instead of OpenCV (PNG output is the same pixels; JPEG bytes differ), --resize uses `image.imresize`
(bilinear, may differ from OpenCV by 1 per pixel), and --num-thread is accepted but the work runs in one thread.
"""
import argparse
import os
import random
import sys

import numpy as np

from .. import recordio


def list_image(root, recursive, exts):
    """(index, path relative to root, label) of the images under root, in sorted order."""
    index = 0
    if recursive:
        classes = {}
        for path, dirs, files in os.walk(root, followlinks=True):
            dirs.sort()
            for name in sorted(files):
                fullpath = os.path.join(path, name)
                if os.path.isfile(fullpath) and os.path.splitext(name)[1].lower() in exts:
                    label = classes.setdefault(path, len(classes))
                    yield index, os.path.relpath(fullpath, root), label
                    index += 1
        for path, label in sorted(classes.items(), key=lambda item: item[1]):
            print(os.path.relpath(path, root), label)
        return
    for name in sorted(os.listdir(root)):
        fullpath = os.path.join(root, name)
        if os.path.isfile(fullpath) and os.path.splitext(name)[1].lower() in exts:
            yield index, os.path.relpath(fullpath, root), 0
            index += 1


def write_list(path, items):
    with open(path, "w") as out:
        for item in items:
            out.write("%d\t%s%s\n" % (item[0], "".join("%f\t" % label for label in item[2:]), item[1]))


def make_list(args):
    """Writes the .lst file(s) of args.root (chunks, and train/val/test splits by ratio)."""
    items = list(list_image(args.root, args.recursive, args.exts))
    if args.shuffle:
        random.seed(100)
        random.shuffle(items)
    chunk_size = (len(items) + args.chunks - 1) // args.chunks
    for chunk_index in range(args.chunks):
        chunk = items[chunk_index * chunk_size:(chunk_index + 1) * chunk_size]
        suffix = "_%d" % chunk_index if args.chunks > 1 else ""
        n_train, n_test = int(chunk_size * args.train_ratio), int(chunk_size * args.test_ratio)
        if args.train_ratio == 1.0:
            write_list(args.prefix + suffix + ".lst", chunk)
            continue
        if args.test_ratio:
            write_list(args.prefix + suffix + "_test.lst", chunk[:n_test])
        if args.train_ratio + args.test_ratio < 1.0:
            write_list(args.prefix + suffix + "_val.lst", chunk[n_test + n_train:])
        write_list(args.prefix + suffix + "_train.lst", chunk[n_test:n_test + n_train])


def read_list(path):
    """[index, relative path, label, ...] of each well-formed line of a .lst file (others are reported)."""
    with open(path) as lines:
        for line in lines:
            fields = [field.strip() for field in line.strip().split("\t")]
            if len(fields) < 3:
                print("lst should have at least has three parts, but only has %s parts for %s" % (len(fields), fields))
                continue
            try:
                yield [int(fields[0]), fields[-1]] + [float(label) for label in fields[1:-1]]
            except ValueError as error:
                print("Parsing lst met error for %s, detail: %s" % (fields, error))


def encode_image(args, item):
    """The record of the list item, or None (with a message) when the image cannot be read."""
    fullpath = os.path.join(args.root, item[1])
    label = item[2:] if len(item) > 3 and args.pack_label else item[2]
    header = recordio.IRHeader(0, label, item[0], 0)
    try:
        with open(fullpath, "rb") as fh:
            data = fh.read()
        if args.pass_through:
            return recordio.pack(header, data)
        img = recordio._decode_opencv_style(data, args.color, fullpath)
    except Exception as error:      # a bad file is reported and skipped, as MXNet's tool does
        print("imread error trying to load file: %s (%s)" % (fullpath, error))
        return None
    if args.center_crop:
        rows, cols = img.shape[:2]
        margin = abs(rows - cols) // 2
        img = img[margin:margin + cols] if rows > cols else img[:, margin:margin + rows]
    if args.resize:
        from ..image import imresize
        rows, cols = img.shape[:2]
        new_w, new_h = (args.resize, rows * args.resize // cols) if rows > cols else \
            (cols * args.resize // rows, args.resize)
        img = imresize(img if img.ndim == 3 else img[:, :, None], new_w, new_h, 1)
        img = img if img.shape[2] > 1 else img[:, :, 0]
    return recordio.pack_img(header, np.ascontiguousarray(img), quality=args.quality, img_fmt=args.encoding)


def write_records(args, list_path, working_dir):
    """Packs the images of one .lst into .rec and .idx files of the same name in working_dir."""
    print("Creating .rec file from", list_path, "in", working_dir)
    stem = os.path.splitext(os.path.basename(list_path))[0]
    writer = recordio.MXIndexedRecordIO(os.path.join(working_dir, stem + ".idx"),
                                        os.path.join(working_dir, stem + ".rec"), "w")
    try:
        for count, item in enumerate(read_list(list_path)):
            record = encode_image(args, item)
            if record is not None:
                writer.write_idx(item[0], record)
            if count % 1000 == 0:
                print("count:", count)
    finally:
        writer.close()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                                     description="Create an image list and/or a RecordIO database from images.")
    parser.add_argument("prefix", help="prefix of input/output lst and rec files.")
    parser.add_argument("root", help="path to folder containing images.")
    lists = parser.add_argument_group("Options for creating image lists")
    lists.add_argument("--list", action="store_true", help="make the .lst file(s) instead of the .rec")
    lists.add_argument("--exts", nargs="+", default=[".jpeg", ".jpg", ".png"], help="list images with these "
                       "extensions (lower case)")
    lists.add_argument("--chunks", type=int, default=1, help="number of chunks.")
    lists.add_argument("--train-ratio", type=float, default=1.0, help="ratio of images for training.")
    lists.add_argument("--test-ratio", type=float, default=0, help="ratio of images for testing.")
    lists.add_argument("--recursive", action="store_true", help="one label per sub-folder of root")
    lists.add_argument("--no-shuffle", dest="shuffle", action="store_false", help="keep the sorted order")
    records = parser.add_argument_group("Options for creating database")
    records.add_argument("--pass-through", action="store_true", help="pack the image files' bytes unchanged")
    records.add_argument("--resize", type=int, default=0, help="resize the shorter edge to this size")
    records.add_argument("--center-crop", action="store_true", help="crop the centre square first")
    records.add_argument("--quality", type=int, default=95, help="JPEG quality (1-100) or PNG compression (0-9)")
    records.add_argument("--num-thread", type=int, default=1, help="accepted; the work runs in one thread here")
    records.add_argument("--color", type=int, default=1, choices=[-1, 0, 1],
                         help="1: colour (BGR), 0: grayscale, -1: the file's channels")
    records.add_argument("--encoding", type=str, default=".jpg", choices=[".jpg", ".png"], help="image encoding")
    records.add_argument("--pack-label", action="store_true", help="pack all the labels of a .lst line")
    args = parser.parse_args(argv)
    args.prefix, args.root = os.path.abspath(args.prefix), os.path.abspath(args.root)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        make_list(args)
        return 0
    working_dir = args.prefix if os.path.isdir(args.prefix) else os.path.dirname(args.prefix)
    lists = sorted(os.path.join(working_dir, name) for name in os.listdir(working_dir)
                   if name.endswith(".lst") and os.path.isfile(os.path.join(working_dir, name))
                   and os.path.join(working_dir, name).startswith(args.prefix))
    for list_path in lists:
        write_records(args, list_path, working_dir)
    if not lists:
        print("Did not find and list file with prefix %s" % args.prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
