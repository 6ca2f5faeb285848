"""`mx.io.ImageRecordIter` and `ImageRecordUInt8Iter`: batches of images from a RecordIO file (as im2rec writes).

Each record is unpacked (`recordio.unpack`), decoded with Pillow (RGB, or gray when data_shape[0] is 1), then
MXNet's default augmenter runs in its order (image_record_aug.py: resize, rotation/shear/scale/aspect warp, pad,
crop (centre, random, random-sized or random-resized), HLS shifts, colour jitter, PCA noise); then the image is
mirrored (always with `mirror`, half of the time with rand_mirror) and for ImageRecordIter becomes
((x - mean) * c + i) / std * scale per channel in float32 (mean: mean_r/g/b, or the image `mean_img`, computed
and saved there on first use as MXNet does), c uniform in 1 +- max_random_contrast and i in +-
max_random_illumination per image (1 and 0 by default). Batches are NCHW. With `path_imglist` the labels come from
that .lst file (index, labels, path per line), looked up by each record's header id, as MXNet does.
With round_batch (the default) the last batch is filled from the start of the data and `pad` counts those samples
(the next epoch then starts after them, as MXNet's does); without it the rest of the last batch is zeros and, as in
MXNet 1.9.1, `pad` is 0.

Differences from MXNet: the random choices (shuffle, augmentations, mirrors) use numpy's RandomState(seed), not
MXNet's generator, so they are not MXNet's draws; parts (num_parts) split the records by count (ceil(n /
num_parts) each, as MXNet does with an index; without one MXNet splits by bytes). `preprocess_threads` threads
decode and augment the samples of a batch (Pillow decodes without the GIL); the file is read and each sample's
random seed drawn in the calling thread, so the batches do not depend on the thread count. Resizing is
`image.imresize` and warping `image_record_aug.warp_affine`, which may differ from OpenCV by 1 or 2 in uint8 pixels.
"""
import logging
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import recordio
from ..base import MXNetError
from ..ndarray import array
from ..ndarray import load as nd_load
from ..ndarray import save as nd_save
from .image_record_aug import DEFAULTS as _AUGMENTATIONS
from .image_record_aug import DefaultAugmenter
from .io import BatchHoldingIter, DataBatch, DataDesc

__all__ = ["ImageRecordIter", "ImageRecordUInt8Iter"]

# MXNet parameters accepted and ignored here: they tune threads, prefetching, devices or logging only.
_IGNORED = {"prefetch_buffer", "verbose", "device_id", "ctx", "seed_aug", "aug_seq",
            "shuffle_chunk_size", "shuffle_chunk_seed"}


def _record_offsets(path_imgrec, path_imgidx):
    """The byte offsets of the records, in file order: from the index when given, else by reading the file."""
    if path_imgidx:
        reader = recordio.MXIndexedRecordIO(path_imgidx, path_imgrec, "r")
        offsets = sorted(reader.idx.values())
        reader.close()
        return offsets
    reader = recordio.MXRecordIO(path_imgrec, "r")
    offsets = reader._scan_offsets()
    reader.close()
    return offsets


def _read_label_list(path, label_width):
    """{image index: its label_width labels} from a .lst file ("index<TAB>labels...<TAB>path" lines): with
    path_imglist, MXNet takes the labels from there, by the records' header id."""
    labels = {}
    for number, fields, line in recordio.lst_rows(path):
        try:
            values = [float(field) for field in fields[1:1 + label_width]]
            if len(values) < label_width or len(fields) < label_width + 2:
                raise ValueError
            labels[int(float(fields[0]))] = np.array(values, np.float32)
        except ValueError:
            raise MXNetError("ImageRecordIter: line %d of %s is not 'index<TAB>%d label(s)<TAB>path': %r"
                             % (number, path, label_width, line)) from None
    return labels


class ImageRecordIter(BatchHoldingIter):
    """Batches (data NCHW float32, label, pad) of the images in the RecordIO file `path_imgrec` (see the module
    doc for the augmentation order and the differences from MXNet)."""

    _DTYPE = np.float32
    _NORMALIZES = True

    def __init__(self, path_imgrec, data_shape, batch_size, path_imgidx="", label_width=1, shuffle=False, seed=0,
                 round_batch=True, num_parts=1, part_index=0, resize=-1, rand_crop=False, mirror=False,
                 rand_mirror=False, inter_method=1, mean_r=0.0, mean_g=0.0, mean_b=0.0, mean_a=0.0, std_r=1.0,
                 std_g=1.0, std_b=1.0, std_a=1.0, scale=1.0, max_random_contrast=0.0, max_random_illumination=0.0,
                 mean_img="", dtype=None, fill_value=255, preprocess_threads=4, data_name="data",
                 label_name="softmax_label", path_imglist="", **kwargs):
        super().__init__(batch_size)
        normalizing = {"max_random_contrast": max_random_contrast, "max_random_illumination": max_random_illumination,
                       "mean_img": mean_img}
        for name, value in normalizing.items():
            if value and not self._NORMALIZES:
                raise MXNetError("%s: unknown parameter %r" % (type(self).__name__, name))
        augmentations = {}
        for name, value in kwargs.items():
            if name in _AUGMENTATIONS:
                augmentations[name] = value
            elif name not in _IGNORED:
                raise MXNetError("%s: unknown parameter %r" % (type(self).__name__, name))
        data_shape = tuple(int(d) for d in data_shape)
        if len(data_shape) != 3 or data_shape[0] not in (1, 3):
            raise MXNetError("%s: data_shape must be (channels 1 or 3, height, width), got %s"
                             % (type(self).__name__, data_shape))
        if not 0 <= part_index < num_parts:
            raise MXNetError("%s: part_index %d must be in [0, num_parts=%d)" % (type(self).__name__, part_index,
                                                                              num_parts))
        if inter_method not in (0, 1, 2, 3, 4, 9, 10):
            raise MXNetError("%s: invalid inter_method %r (use 0, 1, 2, 3, 4, 9 or 10)"
                             % (type(self).__name__, inter_method))
        self._augmenter = DefaultAugmenter(data_shape, resize, rand_crop, inter_method, fill_value, **augmentations)
        self.path_imgrec, self.data_shape, self.label_width = path_imgrec, data_shape, int(label_width)
        self.shuffle, self.round_batch, self.resize, self.inter_method = shuffle, round_batch, resize, inter_method
        self.rand_crop, self.mirror, self.rand_mirror = rand_crop, mirror, rand_mirror
        self.dtype = np.dtype(dtype) if dtype else np.dtype(self._DTYPE)
        channels = data_shape[0]
        self._mean = np.array([mean_r, mean_g, mean_b][:channels], np.float32).reshape(-1, 1, 1)
        self._std = np.array([std_r, std_g, std_b][:channels], np.float32).reshape(-1, 1, 1)
        self._scale = np.float32(scale)
        self._max_contrast, self._max_illumination = max_random_contrast, max_random_illumination
        offsets = _record_offsets(path_imgrec, path_imgidx)
        step = math.ceil(len(offsets) / num_parts)
        self._offsets = offsets[part_index * step:(part_index + 1) * step]
        if not self._offsets:
            raise MXNetError("%s: no records in %s (part %d of %d)" % (type(self).__name__, path_imgrec, part_index,
                                                                       num_parts))
        self._reader = recordio.MXRecordIO(path_imgrec, "r")
        self._rng = np.random.RandomState(seed)
        self._threads, self._pool = max(1, int(preprocess_threads)), None
        self._wrapped = 0
        self._listed_labels = _read_label_list(path_imglist, self.label_width) if path_imglist else None
        if mean_img:
            self._mean = self._mean_image(os.fspath(mean_img))
        label_shape = (batch_size,) if self.label_width == 1 else (batch_size, self.label_width)
        self.provide_data = [DataDesc(data_name, (batch_size,) + data_shape, self.dtype)]
        self.provide_label = [DataDesc(label_name, label_shape, np.float32)]
        self.reset()

    def reset(self):
        """Back to the start; as in MXNet, after an epoch whose last batch wrapped round to the first samples the
        next epoch starts after those samples instead (so no sample is seen twice in a row)."""
        if self.round_batch and self._wrapped:
            self._cursor, self._wrapped = self._wrapped, 0
        else:
            count = len(self._offsets)
            self._order = self._rng.permutation(count) if self.shuffle else np.arange(count)
            self._cursor = 0
        self._batch = None

    def iter_next(self):
        count = len(self._order)
        if self._cursor >= count:
            return False
        positions = list(range(self._cursor, min(self._cursor + self.batch_size, count)))
        self._cursor += self.batch_size
        filled = len(positions)
        if self.round_batch:
            positions += [i % count for i in range(self.batch_size - filled)]
        # the file is read and the random numbers drawn here, in order, so threads change nothing in the result
        offsets = [self._offsets[self._order[position]] for position in positions]
        records = [self._reader._read_at(offset, "the record at byte %d" % offset) for offset in offsets]
        seeds = self._rng.randint(0, 2 ** 31 - 1, size=len(positions))
        if self._threads > 1 and len(positions) > 1:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="ImageRecordIter")
            samples = list(self._pool.map(self._sample, offsets, records, seeds))
        else:
            samples = list(map(self._sample, offsets, records, seeds))
        data = np.zeros(self.provide_data[0].shape, self.dtype)
        label = np.zeros(self.provide_label[0].shape, np.float32)
        for row, (image, labels) in enumerate(samples):
            data[row], label[row] = image, labels
        pad = self.batch_size - filled if self.round_batch else 0
        self._wrapped = pad
        self._batch = DataBatch([array(data, dtype=self.dtype)], [array(label)], pad=pad,
                                provide_data=self.provide_data, provide_label=self.provide_label)
        return True

    def __del__(self):
        if getattr(self, "_pool", None) is not None:
            self._pool.shutdown(wait=False)

    def _sample(self, offset, record, seed, normalize=True):
        """(image CHW in self.dtype, label) of the record read at byte `offset`, augmented with the random
        numbers of a PCG64 generator seeded with `seed` (numpy and Pillow only: this runs in the decoding
        threads)."""
        header, payload = recordio.unpack(record)
        what = "record id %d (byte %d of %s)" % (header.id, offset, self.path_imgrec)
        try:
            if self.data_shape[0] == 1:
                img = recordio._decode_opencv_style(payload, 0, what)[:, :, None]
            else:
                img = recordio._decode_opencv_style(payload, 1, what)[:, :, ::-1]      # BGR -> RGB
        except MXNetError as error:
            raise MXNetError("%s: %s" % (type(self).__name__, error)) from None
        rng = np.random.Generator(np.random.PCG64(seed))      # 10x cheaper to make than a RandomState
        try:
            img = self._augmenter(img, rng)
        except MXNetError as error:
            raise MXNetError("%s: %s: %s" % (type(self).__name__, what, error)) from None
        if self.mirror or (self.rand_mirror and rng.uniform() < 0.5):
            img = img[:, ::-1]
        chw = img.transpose(2, 0, 1)
        if self._NORMALIZES and normalize:
            chw = chw.astype(np.float32) - self._mean
            if self._max_contrast or self._max_illumination:        # per image: (x - mean) * c + i
                contrast = 1 + rng.uniform(-self._max_contrast, self._max_contrast)
                chw = chw * np.float32(contrast) + np.float32(rng.uniform(-1, 1) * self._max_illumination)
            chw = chw / self._std * self._scale
        return chw.astype(self.dtype, copy=False), self._label(header)

    def _mean_image(self, path):
        """The (C, H, W) mean image of `mean_img`: read from the file (nd.save format, key "mean_img") or, as MXNet
        does when it does not exist, the mean of one pass over the augmented images, saved there."""
        shape = self.data_shape
        if os.path.exists(path):
            try:
                saved = nd_load(path)
            except MXNetError as error:
                raise MXNetError("%s: cannot read the mean image %s: %s" % (type(self).__name__, path, error)) from None
            if isinstance(saved, dict) and "mean_img" in saved:
                mean = saved["mean_img"]
            elif len(saved) == 1:
                mean = list(saved.values())[0] if isinstance(saved, dict) else saved[0]
            else:
                raise MXNetError("%s: %s holds no array 'mean_img'" % (type(self).__name__, path))
            if tuple(mean.shape) != shape:
                raise MXNetError("%s: the mean image in %s has shape %s, data_shape is %s"
                                 % (type(self).__name__, path, tuple(mean.shape), shape))
            return mean.asnumpy().astype(np.float32)
        logging.info("%s: cannot find %s: creating the mean image, this will take some time...",
                     type(self).__name__, path)
        total = np.zeros(shape, np.float64)
        for offset in self._offsets:
            record = self._reader._read_at(offset, "the record at byte %d" % offset)
            total += self._sample(offset, record, self._rng.randint(0, 2 ** 31 - 1), normalize=False)[0]
        mean = (total / len(self._offsets)).astype(np.float32)
        nd_save(path, {"mean_img": array(mean)})
        return mean

    def _label(self, header):
        if self._listed_labels is not None:
            if header.id not in self._listed_labels:
                raise MXNetError("%s: record id %d is not in the image list" % (type(self).__name__, header.id))
            labels = self._listed_labels[header.id]
            return labels[0] if self.label_width == 1 else labels
        if header.flag == 0:
            if self.label_width > 1:
                raise MXNetError("%s: record id %d has one label, label_width is %d" % (type(self).__name__,
                                                                                       header.id, self.label_width))
            return header.label
        labels = np.asarray(header.label, np.float32)
        if labels.size < self.label_width:
            raise MXNetError("%s: record id %d has %d labels, label_width is %d" % (type(self).__name__, header.id,
                                                                                  labels.size, self.label_width))
        return labels[0] if self.label_width == 1 else labels[:self.label_width]


class ImageRecordUInt8Iter(ImageRecordIter):
    """ImageRecordIter giving the augmented uint8 pixels, without mean/std/scale."""

    _DTYPE = np.uint8
    _NORMALIZES = False
