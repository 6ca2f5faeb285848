"""`mx.io.ImageRecordIter` and `ImageRecordUInt8Iter`: batches of images from a RecordIO file (as im2rec writes).

Each record is unpacked (`recordio.unpack`), decoded with Pillow (RGB, or gray when data_shape[0] is 1), then
MXNet's default augmenter runs in its order: resize the shorter side to `resize` (bilinear, integer sizes as MXNet
computes them); enlarge, keeping the aspect, an image smaller than data_shape until it covers it; crop
data_shape's (h, w) at the centre or, with rand_crop, at a random place; mirror (always with `mirror`, half of the
time with rand_mirror); and for ImageRecordIter (x - mean) / std * scale per channel in float32. Batches are NCHW.
With round_batch (the default) the last batch is filled from the start of the data and `pad` counts those samples
(the next epoch then starts after them, as MXNet's does); without it the rest of the last batch is zeros and, as in
MXNet 1.9.1, `pad` is 0.

Differences from MXNet: the random choices (shuffle, crops, mirrors) use numpy's RandomState(seed), not MXNet's
generator, so they are not MXNet's draws; parts (num_parts) split the records by count (ceil(n / num_parts) each,
as MXNet does with an index; without one MXNet splits by bytes); the other augmentations of MXNet's default
augmenter (rotation, aspect ratio, colour, PCA noise ...) are not implemented and raise MXNetError when set.
`preprocess_threads` threads decode and augment the samples of a batch (Pillow decodes without the GIL); the file
is read and the random numbers drawn in the calling thread, so the batches do not depend on the thread count.
Resizing is `image.imresize`, which may differ from OpenCV by 1 in uint8 pixels.
"""
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import image as _image
from .. import recordio
from ..base import MXNetError
from ..ndarray import array
from .io import BatchHoldingIter, DataBatch, DataDesc

__all__ = ["ImageRecordIter", "ImageRecordUInt8Iter"]

# MXNet parameters accepted and ignored here: they tune threads, prefetching, devices or logging only.
_IGNORED = {"prefetch_buffer", "verbose", "device_id", "ctx", "seed_aug", "aug_seq",
            "shuffle_chunk_size", "shuffle_chunk_seed", "path_imglist"}
# augmentations of MXNet's default augmenter not implemented here, with the value that turns each off
_UNSUPPORTED = {"random_resized_crop": False, "max_rotate_angle": 0, "max_aspect_ratio": 0, "min_aspect_ratio": None,
                "max_shear_ratio": 0, "max_crop_size": -1, "min_crop_size": -1, "max_random_scale": 1,
                "min_random_scale": 1, "max_random_area": 1, "min_random_area": 1, "brightness": 0, "contrast": 0,
                "saturation": 0, "pca_noise": 0, "random_h": 0, "random_s": 0, "random_l": 0, "rotate": -1, "pad": 0,
                "mean_img": "", "max_random_contrast": 0, "max_random_illumination": 0}


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


class ImageRecordIter(BatchHoldingIter):
    """Batches (data NCHW float32, label, pad) of the images in the RecordIO file `path_imgrec` (see the module
    doc for the augmentation order and the differences from MXNet)."""

    _DTYPE = np.float32
    _NORMALIZES = True

    def __init__(self, path_imgrec, data_shape, batch_size, path_imgidx="", label_width=1, shuffle=False, seed=0,
                 round_batch=True, num_parts=1, part_index=0, resize=-1, rand_crop=False, mirror=False,
                 rand_mirror=False, inter_method=1, mean_r=0.0, mean_g=0.0, mean_b=0.0, mean_a=0.0, std_r=1.0,
                 std_g=1.0, std_b=1.0, std_a=1.0, scale=1.0, dtype=None, fill_value=255, max_img_size=1e10,
                 min_img_size=0.0, preprocess_threads=4, data_name="data", label_name="softmax_label", **kwargs):
        super().__init__(batch_size)
        for name, value in kwargs.items():
            if name in _UNSUPPORTED:
                if value != _UNSUPPORTED[name]:
                    raise MXNetError("%s: the augmentation %s=%r is not implemented in dataflow"
                                     % (type(self).__name__, name, value))
            elif name not in _IGNORED:
                raise MXNetError("%s: unknown parameter %r" % (type(self).__name__, name))
        data_shape = tuple(int(d) for d in data_shape)
        if len(data_shape) != 3 or data_shape[0] not in (1, 3):
            raise MXNetError("%s: data_shape must be (channels 1 or 3, height, width), got %s"
                             % (type(self).__name__, data_shape))
        if not 0 <= part_index < num_parts:
            raise MXNetError("%s: part_index %d must be in [0, num_parts=%d)" % (type(self).__name__, part_index,
                                                                              num_parts))
        if inter_method not in (0, 1, 2, 3, 9):
            raise MXNetError("%s: inter_method %d is not implemented here (use 0, 1, 2, 3 or 9)"
                             % (type(self).__name__, inter_method))
        self.path_imgrec, self.data_shape, self.label_width = path_imgrec, data_shape, int(label_width)
        self.shuffle, self.round_batch, self.resize, self.inter_method = shuffle, round_batch, resize, inter_method
        self.rand_crop, self.mirror, self.rand_mirror = rand_crop, mirror, rand_mirror
        self.dtype = np.dtype(dtype) if dtype else np.dtype(self._DTYPE)
        channels = data_shape[0]
        self._mean = np.array([mean_r, mean_g, mean_b][:channels], np.float32).reshape(-1, 1, 1)
        self._std = np.array([std_r, std_g, std_b][:channels], np.float32).reshape(-1, 1, 1)
        self._scale = np.float32(scale)
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
        draws = self._rng.random_sample((len(positions), 3))
        if self._threads > 1 and len(positions) > 1:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="ImageRecordIter")
            samples = list(self._pool.map(self._sample, offsets, records, draws))
        else:
            samples = list(map(self._sample, offsets, records, draws))
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

    def _sample(self, offset, record, draw):
        """(image CHW in self.dtype, label) of the record read at byte `offset`, augmented with the uniform
        random numbers `draw` (numpy and Pillow only: this runs in the decoding threads)."""
        header, payload = recordio.unpack(record)
        what = "record id %d (byte %d of %s)" % (header.id, offset, self.path_imgrec)
        try:
            if self.data_shape[0] == 1:
                img = recordio._decode_opencv_style(payload, 0, what)[:, :, None]
            else:
                img = recordio._decode_opencv_style(payload, 1, what)[:, :, ::-1]      # BGR -> RGB
        except MXNetError as error:
            raise MXNetError("%s: %s" % (type(self).__name__, error)) from None
        img = self._augment(img, draw)
        chw = img.transpose(2, 0, 1)
        if self._NORMALIZES:
            chw = (chw.astype(np.float32) - self._mean) / self._std * self._scale
        return chw.astype(self.dtype, copy=False), self._label(header)

    def _label(self, header):
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

    def _augment(self, img, draw):
        """MXNet's default augmenter on an (H, W, C) uint8 image: resize, crop, mirror (`draw`: 3 uniform numbers
        for the crop's y, x and the mirror)."""
        if self.resize > 0:
            rows, cols = img.shape[:2]
            if rows > cols:
                size = (self.resize * rows // cols, self.resize)
            else:
                size = (self.resize, self.resize * cols // rows)
            img = _image.imresize(img, size[1], size[0], self.inter_method)
        height, width = self.data_shape[1:]
        rows, cols = img.shape[:2]
        if rows < height or cols < width:       # enlarged, keeping its aspect, until the crop fits (as MXNet)
            ratio = max(height / rows, width / cols)
            rows, cols = max(height, int(rows * ratio)), max(width, int(cols * ratio))
            img = _image.imresize(img, cols, rows, self.inter_method)
        if self.rand_crop:
            y, x = int(draw[0] * (rows - height + 1)), int(draw[1] * (cols - width + 1))
        else:
            y, x = (rows - height) // 2, (cols - width) // 2
        img = img[y:y + height, x:x + width]
        if self.mirror or (self.rand_mirror and draw[2] < 0.5):
            img = img[:, ::-1]
        return img


class ImageRecordUInt8Iter(ImageRecordIter):
    """ImageRecordIter giving the augmented uint8 pixels, without mean/std/scale."""

    _DTYPE = np.uint8
    _NORMALIZES = False
