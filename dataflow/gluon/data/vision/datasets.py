"""`gluon.data.vision` datasets, read from MXNet's files on disk.

MXNet downloads MNIST, Fashion-MNIST and CIFAR on first use; dataflow reaches no network, so a missing file raises
MXNetError naming it and the folder to put it in (the default root is MXNet's: $MXNET_HOME/datasets/<name>, else
~/.mxnet/datasets/<name>). The formats are the originals MXNet reads: gzipped IDX files for (Fashion-)MNIST,
the binary batches for CIFAR-10/100, RecordIO (.rec with its .idx) for ImageRecordDataset, one folder per
class for ImageFolderDataset, and an im2rec .lst file (or the same rows as a list) for ImageListDataset.
"""
import gzip
import os
import struct
import warnings

import numpy as np

from .... import base, image, recordio
from ....base import MXNetError
from ....ndarray import array
from ..dataset import Dataset, RecordFileDataset

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "ImageRecordDataset", "ImageFolderDataset",
           "ImageListDataset"]


def _require(root, names, dataset):
    """The paths of `names` under root, or MXNetError naming the missing ones."""
    paths = [os.path.join(root, name) for name in names]
    missing = [name for name, path in zip(names, paths) if not os.path.isfile(path)]
    if missing:
        raise MXNetError("%s: %s not found in %s (dataflow downloads nothing: put %s's original files %s there, "
                         "or pass root=)" % (dataset, ", ".join(missing), root, dataset, ", ".join(names)))
    return paths


class _DownloadedDataset(Dataset):
    """A dataset held in memory as (data NDArray, label numpy array), read by `_get_data` from `root`."""

    def __init__(self, root, transform):
        self._root = os.path.expanduser(root)
        self._transform = transform
        self._data = self._label = None
        self._get_data()

    def __getitem__(self, idx):
        if self._transform is not None:
            return self._transform(self._data[idx], self._label[idx])
        return self._data[idx], self._label[idx]

    def __len__(self):
        return len(self._label)

    def _get_data(self):
        raise NotImplementedError


class MNIST(_DownloadedDataset):
    """MNIST handwritten digits: uint8 images (28, 28, 1) and int32 labels, from the four gzipped IDX files."""
    _FILES = {True: ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
              False: ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}

    def __init__(self, root=os.path.join(base.data_dir(), "datasets", "mnist"), train=True, transform=None):
        self._train = train
        super().__init__(root, transform)

    def _get_data(self):
        images, labels = _require(self._root, self._FILES[self._train], type(self).__name__)
        with gzip.open(labels, "rb") as fh:
            struct.unpack(">II", fh.read(8))
            label = np.frombuffer(fh.read(), dtype=np.uint8).astype(np.int32)
        with gzip.open(images, "rb") as fh:
            _, count, rows, cols = struct.unpack(">IIII", fh.read(16))
            data = np.frombuffer(fh.read(), dtype=np.uint8).reshape(count, rows, cols, 1)
        self._data, self._label = array(data, dtype=data.dtype), label


class FashionMNIST(MNIST):
    """Fashion-MNIST: MNIST's format and file names, Zalando's clothing images."""

    def __init__(self, root=os.path.join(base.data_dir(), "datasets", "fashion-mnist"), train=True,
                 transform=None):
        super().__init__(root, train, transform)


class CIFAR10(_DownloadedDataset):
    """CIFAR-10: uint8 images (32, 32, 3) and int32 labels, from the binary version's batches."""
    _FOLDER = "cifar-10-batches-bin"
    _LABEL_BYTES = 1

    def __init__(self, root=os.path.join(base.data_dir(), "datasets", "cifar10"), train=True, transform=None):
        self._train = train
        super().__init__(root, transform)

    def _files(self):
        names = ["data_batch_%d.bin" % i for i in range(1, 6)] if self._train else ["test_batch.bin"]
        return [os.path.join(self._FOLDER, name) for name in names]

    def _label_column(self):
        return 0

    def _get_data(self):
        paths = _require(self._root, self._files(), type(self).__name__)
        record = self._LABEL_BYTES + 3072
        raw = np.concatenate([np.fromfile(path, dtype=np.uint8) for path in paths]).reshape(-1, record)
        data = raw[:, self._LABEL_BYTES:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        self._data = array(np.ascontiguousarray(data), dtype=np.uint8)
        self._label = raw[:, self._label_column()].astype(np.int32)


class CIFAR100(CIFAR10):
    """CIFAR-100: as CIFAR-10, with the fine (100 classes) or coarse (20) label of each record."""
    _FOLDER = "cifar-100-binary"
    _LABEL_BYTES = 2

    def __init__(self, root=os.path.join(base.data_dir(), "datasets", "cifar100"), fine_label=False, train=True,
                 transform=None):
        self._fine = fine_label
        super().__init__(root, train, transform)

    def _files(self):
        return [os.path.join(self._FOLDER, "train.bin" if self._train else "test.bin")]

    def _label_column(self):
        return 1 if self._fine else 0


# ---- RecordIO ---------------------------------------------------------------------------------------------------
class ImageRecordDataset(RecordFileDataset):
    """Images and labels from a RecordIO file `filename` (.rec) and its index (.idx beside it), as written by
    MXNet's im2rec: (image decoded with `image.imdecode(.., flag)`, label: a float, or a float32 array for a
    record packed with a label vector)."""

    def __init__(self, filename, flag=1, transform=None):
        super().__init__(filename)
        self._flag, self._transform = flag, transform

    def __getitem__(self, idx):
        header, img = recordio.unpack(super().__getitem__(idx))
        try:
            img = image.imdecode(img, self._flag)
        except MXNetError as error:
            raise MXNetError("ImageRecordDataset: record %d (id %d) of %s: %s" % (idx, header.id, self.filename,
                                                                                  error)) from None
        if self._transform is not None:
            return self._transform(img, header.label)
        return img, header.label


class ImageFolderDataset(Dataset):
    """Images in one sub-folder of `root` per class (.jpg, .jpeg, .png): (image, label index). `synsets[i]` is
    the folder name of label i; `items` lists (path, label)."""

    def __init__(self, root, flag=1, transform=None):
        self._root = os.path.expanduser(root)
        self._flag, self._transform = flag, transform
        self._exts = [".jpg", ".jpeg", ".png"]
        self.synsets, self.items = [], []
        for folder in sorted(os.listdir(self._root)):
            path = os.path.join(self._root, folder)
            if not os.path.isdir(path):
                warnings.warn("Ignoring %s, which is not a directory." % path, stacklevel=2)
                continue
            label = len(self.synsets)
            self.synsets.append(folder)
            for name in sorted(os.listdir(path)):
                filename = os.path.join(path, name)
                ext = os.path.splitext(filename)[1]
                if ext.lower() not in self._exts:
                    warnings.warn("Ignoring %s of type %s. Only support %s" % (filename, ext, ", ".join(self._exts)),
                                  stacklevel=2)
                    continue
                self.items.append((filename, label))

    def __getitem__(self, idx):
        img = image.imread(self.items[idx][0], self._flag)
        label = self.items[idx][1]
        if self._transform is not None:
            return self._transform(img, label)
        return img, label

    def __len__(self):
        return len(self.items)


# ---- image lists ------------------------------------------------------------------------------------------------
def _label(values, where):
    try:
        labels = np.asarray(values, dtype=np.float32).reshape(-1)
    except (TypeError, ValueError):
        raise MXNetError("ImageListDataset: %s: the label %r is not a number or a list of numbers"
                         % (where, values)) from None
    return float(labels[0]) if labels.size == 1 else labels


def _read_lst(path):
    """(label, relative path) per line of an im2rec .lst file: `index<TAB>label[<TAB>label ...]<TAB>path`."""
    items = []
    for number, fields, line in recordio.lst_rows(path):
        if len(fields) < 3:
            raise MXNetError("ImageListDataset: %s line %d: expected index<TAB>label(s)<TAB>path, got %r"
                             % (path, number, line.rstrip("\n")))
        items.append((_label(fields[1:-1], "%s line %d" % (path, number)), fields[-1]))
    return items


class ImageListDataset(Dataset):
    """Images listed in `imglist` under the folder `root`: (image decoded with `image.imread(.., flag)`, label).

    `imglist` is the path of an im2rec .lst file (`index<TAB>label(s)<TAB>relative path` per line) or a list of
    entries `[label(s)..., relative path]` (`[label, path]`, `[[l1, l2], path]` or `[l1, l2, ..., path]`). A
    single label comes back as a float, several as a float32 array. MXNet 2.0's class (MXNet 1.9.1 has none)."""

    def __init__(self, root=".", imglist=None, flag=1):
        self._root = os.path.expanduser(root)
        self._flag = flag
        if isinstance(imglist, str):
            self.items = _read_lst(imglist)
        elif isinstance(imglist, (list, tuple)):
            self.items = []
            for i, entry in enumerate(imglist):
                if isinstance(entry, str) or len(entry) < 2:
                    raise MXNetError("ImageListDataset: imglist[%d] = %r: expected [label(s)..., path]" % (i, entry))
                labels = entry[:-1] if len(entry) > 2 else entry[0]
                self.items.append((_label(labels, "imglist[%d]" % i), entry[-1]))
        else:
            raise MXNetError("ImageListDataset: imglist must be the path of a .lst file or a list of "
                             "[label(s)..., path] entries, got %s" % type(imglist).__name__)

    def __getitem__(self, idx):
        label, path = self.items[idx]
        filename = os.path.join(self._root, path)
        try:
            img = image.imread(filename, self._flag)
        except (MXNetError, OSError) as error:
            raise MXNetError("ImageListDataset: item %d (%s): %s" % (idx, filename, error)) from None
        return img, label

    def __len__(self):
        return len(self.items)
