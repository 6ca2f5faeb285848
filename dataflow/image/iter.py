"""`mx.image.ImageIter`: batches of augmented images from a RecordIO file, a .lst list of image files under a root
folder, or an in-memory list, as MXNet 1.9.1's Python ImageIter makes them.

The order of the samples, the epochs and the last batch follow MXNet's state machine: `seq` holds the keys read
(None reads a .rec from start to end), `cur` the position in it; `last_batch_handle` 'pad' fills the last batch from
the start of the data, 'discard' drops it, 'roll_over' keeps its samples and completes them with the first samples
of the next epoch (that batch still reports the `pad` it had). Shuffling uses Python's `random.shuffle` on `seq`,
and the augmenters (see augment.py) draw as MXNet's do, so seeding `random` and numpy gives MXNet's batches.
Decoding is `image.imdecode` (Pillow): PNG pixels equal OpenCV's, JPEG ones may differ slightly.
"""
import logging
import os
import random

import numpy as np

from .. import recordio
from ..base import MXNetError
from ..io.io import DataBatch, DataDesc, DataIter
from ..ndarray import NDArray, array
from ..ndarray import transpose as _nd_transpose
from .augment import CreateAugmenter
from .image import imdecode

__all__ = ["ImageIter"]

_LABEL_DTYPES = ("int32", "float32", "int64", "float64")


class MissingImageError(MXNetError, FileNotFoundError):
    """An image file named by the image list does not exist (both an MXNetError and a FileNotFoundError)."""


class ImageIter(DataIter):
    """Batches (data NCHW float32, label float32, pad) of images, augmented by `aug_list` or by
    `CreateAugmenter(data_shape, **kwargs)`. Sources: `path_imgrec` (+ `path_imgidx` for shuffle and parts),
    `path_imglist` (tab separated: key, labels..., path under `path_root`) or `imglist` ([label(s), path] items;
    `label_width` labels each). `dtype` is the labels' type as read (the label batch is float32, as MXNet's)."""

    def __init__(self, batch_size, data_shape, label_width=1, path_imgrec=None, path_imglist=None, path_root=None,
                 path_imgidx=None, shuffle=False, part_index=0, num_parts=1, aug_list=None, imglist=None,
                 data_name="data", label_name="softmax_label", dtype="float32", last_batch_handle="pad", **kwargs):
        super().__init__(batch_size)
        if not (path_imgrec or path_imglist or isinstance(imglist, list)):
            raise MXNetError("ImageIter: give path_imgrec, path_imglist or imglist (a list)")
        if dtype not in _LABEL_DTYPES:
            raise MXNetError("ImageIter: label dtype %r is not supported (use one of %s)" % (dtype, _LABEL_DTYPES))
        if last_batch_handle not in ("pad", "discard", "roll_over"):
            raise MXNetError("ImageIter: last_batch_handle must be 'pad', 'discard' or 'roll_over', got %r"
                             % (last_batch_handle,))
        self.path_imgrec, self.path_imglist = path_imgrec, path_imglist
        if path_imgrec:
            if path_imgidx:
                self.imgrec = recordio.MXIndexedRecordIO(path_imgidx, path_imgrec, "r")
                self.imgidx = list(self.imgrec.keys)
            else:
                self.imgrec = recordio.MXRecordIO(path_imgrec, "r")
                self.imgidx = None
        else:
            self.imgrec = None
        keys = None
        if path_imglist:
            self.imglist, keys = self._read_image_list(path_imglist, dtype)
        elif isinstance(imglist, list):
            self.imglist, keys = self._from_list(imglist, dtype)
        else:
            self.imglist = None
        self.path_root = path_root

        data_shape = tuple(data_shape)
        self.check_data_shape(data_shape)
        label_shape = (batch_size, label_width) if label_width > 1 else (batch_size,)
        self.provide_data = [DataDesc(data_name, (batch_size,) + data_shape)]
        self.provide_label = [DataDesc(label_name, label_shape)]
        self.batch_size, self.data_shape, self.label_width = batch_size, data_shape, label_width
        self.shuffle = shuffle
        if self.imgrec is None:
            self.seq = keys
        elif shuffle or num_parts > 1 or path_imgidx:
            if self.imgidx is None:
                raise MXNetError("ImageIter: shuffle and num_parts > 1 need the index of %s (path_imgidx)"
                                 % path_imgrec)
            self.seq = self.imgidx
        else:
            self.seq = None
        if num_parts > 1:
            if not 0 <= part_index < num_parts:
                raise MXNetError("ImageIter: part_index %d must be in [0, num_parts=%d)" % (part_index, num_parts))
            per_part = len(self.seq) // num_parts       # MXNet drops the remainder
            self.seq = self.seq[part_index * per_part:(part_index + 1) * per_part]
        self.auglist = CreateAugmenter(data_shape, **kwargs) if aug_list is None else aug_list
        self.cur = 0
        self._allow_read = True
        self.last_batch_handle = last_batch_handle
        self.num_image = len(self.seq) if self.seq is not None else None
        self._cache_data = self._cache_label = self._cache_idx = None
        self._sample_name = None
        self.reset()

    # ---- sources ---------------------------------------------------------------------------------------------
    @staticmethod
    def _read_image_list(path, dtype):
        """{key: (labels NDArray, image path)} and the keys in file order, from a .lst file."""
        logging.info("ImageIter: loading image list %s...", path)
        images, keys = {}, []
        for number, fields, line in recordio.lst_rows(path):
            try:
                key, labels = int(fields[0]), np.array(fields[1:-1], dtype=np.float64)
            except ValueError:
                raise MXNetError("ImageIter: line %d of %s is not 'key<TAB>label(s)<TAB>path': %r"
                                 % (number, path, line)) from None
            if len(fields) < 3:
                raise MXNetError("ImageIter: line %d of %s has no label or no path: %r" % (number, path, line))
            images[key] = (array(labels, dtype=dtype), fields[-1])
            keys.append(key)
        return images, keys

    @staticmethod
    def _from_list(imglist, dtype):
        """{key: (labels NDArray, image path)} from [label(s), path] items; keys are "1", "2", ... as MXNet's."""
        images, keys = {}, []
        for index, item in enumerate(imglist, 1):
            if len(item) > 2:
                labels = item[:-1]
            elif isinstance(item[0], (int, float, np.number)):
                labels = [item[0]]
            else:
                labels = item[0]
            images[str(index)] = (array(np.asarray(labels, np.float64), dtype=dtype), item[-1])
            keys.append(str(index))
        return images, keys

    # ---- epochs ----------------------------------------------------------------------------------------------
    def reset(self):
        """Back to the start (shuffled again with shuffle=True); with 'roll_over' and samples kept from the last
        epoch, the next epoch continues after those it already read."""
        if self.seq is not None and self.shuffle:
            random.shuffle(self.seq)
        if self.last_batch_handle != "roll_over" or self._cache_data is None:
            if self.imgrec is not None:
                self.imgrec.reset()
            self.cur = 0
            self._allow_read = True

    def hard_reset(self):
        """reset(), forgetting any samples rolled over."""
        if self.seq is not None and self.shuffle:
            random.shuffle(self.seq)
        if self.imgrec is not None:
            self.imgrec.reset()
        self.cur = 0
        self._allow_read = True
        self._cache_data = self._cache_label = self._cache_idx = None

    def next_sample(self):
        """(label, image file bytes) of the next sample; StopIteration at the end of the data (which, except
        with 'discard', rewinds to the start)."""
        if not self._allow_read:
            raise StopIteration
        if self.seq is None:
            record = self.imgrec.read()
            if record is None:
                if self.last_batch_handle != "discard":
                    self.imgrec.reset()
                raise StopIteration
            header, payload = recordio.unpack(record)
            self._sample_name = "record id %d of %s" % (header.id, self.path_imgrec)
            return header.label, payload
        if self.cur >= self.num_image:
            if self.last_batch_handle != "discard":
                self.cur = 0
            raise StopIteration
        key = self.seq[self.cur]
        self.cur += 1
        if self.imgrec is not None:
            header, payload = recordio.unpack(self.imgrec.read_idx(key))
            self._sample_name = "record %r of %s" % (key, self.path_imgrec)
            return (header.label if self.imglist is None else self.imglist[key][0]), payload
        label, fname = self.imglist[key]
        self._sample_name = "filename: %s" % fname
        return label, self.read_image(fname)

    def _batchify(self, batch_data, batch_label, start=0):
        """Fill batch_data/batch_label (numpy) from row `start`; the number of rows filled (StopIteration when
        there was nothing to read at all)."""
        i = start
        try:
            while i < self.batch_size:
                label, payload = self.next_sample()
                data = self.imdecode(payload)
                try:
                    self.check_valid_image(data)
                except RuntimeError as error:
                    logging.debug("Invalid image, skipping:  %s", error)
                    continue
                data = self.augmentation_transform(data)
                batch_data[i] = _as_numpy(self.postprocess_data(data))
                batch_label[i] = self._label_row(label)
                i += 1
        except StopIteration:
            if not i:
                raise
        return i

    def _label_row(self, label):
        values = _as_numpy(label).astype(np.float32).reshape(-1)
        if values.size < self.label_width:
            raise MXNetError("ImageIter: %s has %d label(s), label_width is %d"
                             % (self._sample_name, values.size, self.label_width))
        return values[0] if self.label_width == 1 else values[:self.label_width]

    def next(self):
        """The next DataBatch (see the module doc for the last batch)."""
        if self._cache_data is not None:
            batch_data, batch_label, i = self._cache_data, self._cache_label, self._cache_idx
        else:
            batch_data = np.zeros(self.provide_data[0].shape, np.float32)
            batch_label = np.zeros(self.provide_label[0].shape, np.float32)
            i = self._batchify(batch_data, batch_label)
        pad = self.batch_size - i
        if pad:
            if self.last_batch_handle == "discard":
                raise StopIteration
            if self.last_batch_handle == "roll_over" and self._cache_data is None:
                self._cache_data, self._cache_label, self._cache_idx = batch_data, batch_label, i
                raise StopIteration
            self._batchify(batch_data, batch_label, i)
            if self.last_batch_handle == "pad":
                self._allow_read = False
            else:
                self._cache_data = self._cache_label = self._cache_idx = None
        return DataBatch([array(batch_data)], [array(batch_label)], pad=pad)

    # ---- per sample ------------------------------------------------------------------------------------------
    def check_data_shape(self, data_shape):
        """data_shape must be (3, height, width)."""
        if len(data_shape) != 3:
            raise ValueError("data_shape should have length 3, with dimensions CxHxW")
        if data_shape[0] != 3:
            raise ValueError("This iterator expects inputs to have 3 channels.")

    def check_valid_image(self, data):
        """Raises RuntimeError for an image to skip."""
        if len(data[0].shape) == 0:
            raise RuntimeError("Data shape is wrong")

    def imdecode(self, s):
        """The decoded image (H, W, 3) uint8 RGB NDArray; a broken image raises an MXNetError (a RuntimeError)
        naming the file or record."""
        try:
            return imdecode(s)
        except Exception as error:
            raise MXNetError("Broken image %s, %s" % (self._sample_name, error)) from None

    def read_image(self, fname):
        """The bytes of the image file `fname` under path_root."""
        path = os.path.join(self.path_root, fname) if self.path_root else fname
        try:
            with open(path, "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            source = " (listed in %s)" % self.path_imglist if self.path_imglist else ""
            raise MissingImageError(2, "ImageIter: no image file %s%s" % (path, source), path) from None

    def augmentation_transform(self, data):
        """`data` through every augmenter of auglist."""
        for aug in self.auglist:
            data = aug(data)
        return data

    def postprocess_data(self, datum):
        """The augmented (H, W, C) image as (C, H, W)."""
        return _nd_transpose(datum, axes=(2, 0, 1))


def _as_numpy(value):
    return value.asnumpy() if isinstance(value, NDArray) else np.asarray(value)
