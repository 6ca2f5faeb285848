"""Record MXNet 1.9.1's mx.image augmenters, helpers and ImageIter batches, and ImageRecordIter's augmentations.

Run with /work/mxvenv/bin/python. Writes tests/fixtures/mxnet-1.9.1/image_aug/ (see the README there): small random
images and what MXNet makes of them, ImageIter batches over the image files and records of the recordio fixtures
(tests/fixtures/mxnet-1.9.1/recordio, read only), and ImageRecordIter's augmented samples of two synthetic images.
Random augmenters are recorded after `random.seed(s); np.random.seed(s)`: MXNet's Python augmenters draw from those
two generators only. ImageRecordIter's draws come from MXNet's C++ generator: its random augmentations are recorded
as features of many samples (see record_iter_augmentations) for statistical comparisons.
"""
import io
import json
import os
import random

import numpy as np

os.environ["MXNET_MKLDNN_ENABLED"] = "0"
import mxnet as mx  # noqa: E402
from PIL import Image  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1")
OUT = os.path.join(FIXTURES, "image_aug")
RECORDIO = os.path.join(FIXTURES, "recordio")


def seeded(seed):
    random.seed(seed)
    np.random.seed(seed)


def images(rng):
    return {"small": rng.randint(0, 256, (13, 17, 3)).astype(np.uint8),
            "wide": rng.randint(0, 256, (20, 28, 3)).astype(np.uint8),
            "tall": rng.randint(0, 256, (24, 18, 3)).astype(np.uint8)}


def deterministic(imgs, out):
    """Outputs that depend on no random draw."""
    wide = mx.nd.array(imgs["wide"], dtype="uint8")
    small = mx.nd.array(imgs["small"], dtype="uint8")
    tall = mx.nd.array(imgs["tall"], dtype="uint8")
    for interp in (0, 1, 2, 3):
        out["resize_short_wide_%d" % interp] = mx.image.ResizeAug(10, interp)(wide)
        out["resize_short_tall_%d" % interp] = mx.image.ResizeAug(12, interp)(tall)
        out["force_resize_%d" % interp] = mx.image.ForceResizeAug((11, 9), interp)(wide)
    out["imresize_lanczos_shrink"] = mx.image.imresize(wide, 11, 9, interp=4)
    out["imresize_lanczos_enlarge"] = mx.image.imresize(small, 30, 25, interp=4)
    out["imresize_area_enlarge"] = mx.image.imresize(small, 30, 25, interp=3)
    out["imresize_area_mixed"] = mx.image.imresize(wide, 35, 12, interp=3)
    out["imresize_area_integer"] = mx.image.imresize(wide, 14, 10, interp=3)
    out["resize_short_enlarge_2"] = mx.image.ResizeAug(20, 2)(small)
    out["resize_short_enlarge_9"] = mx.image.ResizeAug(20, 9)(small)
    out["center_crop"] = mx.image.CenterCropAug((10, 8))(wide)
    out["center_crop_tall"] = mx.image.CenterCropAug((15, 21))(tall)
    out["center_crop_upsampled"] = mx.image.CenterCropAug((20, 18), 1)(small)
    out["fixed_crop"] = mx.image.fixed_crop(wide, 3, 4, 9, 7)
    out["fixed_crop_resized"] = mx.image.fixed_crop(wide, 3, 4, 9, 7, size=(12, 10), interp=1)
    out["flip"] = mx.image.HorizontalFlipAug(1.0)(wide)
    out["cast"] = mx.image.CastAug()(wide)
    out["cast_float64"] = mx.image.CastAug("float64")(small)
    floats = wide.astype("float32")
    out["gray"] = mx.image.RandomGrayAug(1.0)(floats.copy())
    out["normalize"] = mx.image.ColorNormalizeAug(mx.nd.array([120.0, 110.0, 100.0]),
                                                  mx.nd.array([50.0, 60.0, 70.0]))(floats.copy())
    out["normalize_mean_only"] = mx.image.ColorNormalizeAug([120.0, 110.0, 100.0], None)(floats.copy())
    for border in range(5):
        out["border_%d" % border] = mx.image.copyMakeBorder(small, 2, 3, 4, 1, type=border,
                                                            values=(10.0, 20.0, 30.0))
    out["border_value"] = mx.image.copyMakeBorder(small, 1, 1, 2, 2, value=7.0)
    chw = floats.transpose((2, 0, 1))
    out["rotate_30"] = mx.image.imrotate(chw, 30)
    out["rotate_batch"] = mx.image.imrotate(mx.nd.stack(chw, chw[:, ::-1]), mx.nd.array([-45.0, 90.0]))
    out["rotate_zoom_in"] = mx.image.imrotate(chw, 20, zoom_in=True)
    out["rotate_zoom_out"] = mx.image.imrotate(chw, 20, zoom_out=True)


def random_augmenters(imgs, out):
    """Seeded outputs of the augmenters that draw."""
    wide = mx.nd.array(imgs["wide"], dtype="uint8")
    floats = wide.astype("float32")
    cases = {
        "brightness": lambda: mx.image.BrightnessJitterAug(0.4)(floats.copy()),
        "contrast": lambda: mx.image.ContrastJitterAug(0.4)(floats.copy()),
        "saturation": lambda: mx.image.SaturationJitterAug(0.4)(floats.copy()),
        "hue": lambda: mx.image.HueJitterAug(0.4)(floats.copy()),
        "color_jitter": lambda: mx.image.ColorJitterAug(0.3, 0.3, 0.3)(floats.copy()),
        "lighting": lambda: mx.image.LightingAug(0.1, np.array([55.46, 4.794, 1.148]),
                                                 np.array([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140],
                                                           [-0.5836, -0.6948, 0.4203]]))(floats.copy()),
        "random_crop": lambda: mx.image.RandomCropAug((10, 9))(wide),
        "random_sized_crop": lambda: mx.image.RandomSizedCropAug((10, 9), 0.3, (0.75, 1.33), 1)(wide),
        "random_gray": lambda: mx.nd.stack(*[mx.image.RandomGrayAug(0.5)(floats.copy()) for _ in range(6)]),
        "random_flip": lambda: mx.nd.stack(*[mx.image.HorizontalFlipAug(0.5)(wide) for _ in range(6)]),
    }
    for name, make in cases.items():
        seeded(5)
        out["seeded_" + name] = make()
    pipelines = {
        "pipeline_crop": dict(data_shape=(3, 12, 14), rand_crop=True, rand_mirror=True, mean=True, std=True,
                              brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1, pca_noise=0.1, rand_gray=0.3),
        "pipeline_center": dict(data_shape=(3, 12, 14), mean=np.array([100.0, 110.0, 120.0]),
                                std=np.array([30.0, 40.0, 50.0])),
    }
    for name, kwargs in pipelines.items():
        augs = mx.image.CreateAugmenter(**kwargs)
        seeded(7)
        results = []
        for _ in range(3):
            img = wide
            for aug in augs:
                img = aug(img)
            results.append(img)
        out[name] = mx.nd.stack(*results)


def dumps():
    """CreateAugmenter's lists, dumped."""
    cases = {
        "default": dict(data_shape=(3, 24, 24)),
        "everything": dict(data_shape=(3, 24, 20), resize=30, rand_crop=True, rand_resize=True, rand_mirror=True,
                           mean=True, std=True, brightness=0.1, contrast=0.2, saturation=0.3, hue=0.4,
                           pca_noise=0.05, rand_gray=0.2, inter_method=10),
        "arrays": dict(data_shape=(3, 8, 8), rand_crop=True, mean=np.array([1.0, 2.0, 3.0]), std=np.array([2.0]),
                       contrast=0.5),
    }
    return {name: [aug.dumps() for aug in mx.image.CreateAugmenter(**kwargs)] for name, kwargs in cases.items()}


def collect(it, epochs=1, hard=False):
    data, label, pad = [], [], []
    for _ in range(epochs):
        for batch in it:
            data.append(batch.data[0].asnumpy())
            label.append(batch.label[0].asnumpy())
            pad.append(batch.pad)
        if hard:
            it.hard_reset()
        else:
            it.reset()
    return np.stack(data), np.stack(label), np.array(pad)


def image_iters(out):
    """ImageIter over the recordio fixtures; the paths are relative to tests/fixtures/mxnet-1.9.1/recordio."""
    images = os.path.join(RECORDIO, "images")
    lst, rec, idx = (os.path.join(RECORDIO, name) for name in ("imgs.lst", "imgs.rec", "imgs.idx"))
    with open(lst) as fh:
        listed = [line.strip().split("\t") for line in fh]
    cases = {
        "rec": dict(batch_size=2, data_shape=(3, 16, 16), path_imgrec="imgs.rec"),
        "rec_idx_shuffle": dict(batch_size=2, data_shape=(3, 16, 16), path_imgrec="imgs.rec",
                                path_imgidx="imgs.idx", shuffle=True),
        "lst": dict(batch_size=2, data_shape=(3, 16, 16), path_imglist="imgs.lst", path_root="images"),
        "lst_discard": dict(batch_size=2, data_shape=(3, 16, 16), path_imglist="imgs.lst", path_root="images",
                            last_batch_handle="discard"),
        "lst_roll_over": dict(batch_size=2, data_shape=(3, 16, 16), path_imglist="imgs.lst", path_root="images",
                              last_batch_handle="roll_over"),
        "imglist": dict(batch_size=3, data_shape=(3, 16, 16), path_root="images",
                        imglist=[[float(row[1]), row[2]] for row in listed]),
        "imglist_width2": dict(batch_size=2, data_shape=(3, 16, 16), path_root="images", label_width=2,
                               imglist=[[float(row[1]), float(row[0]), row[2]] for row in listed]),
        "parts": dict(batch_size=1, data_shape=(3, 16, 16), path_imgrec="imgs.rec", path_imgidx="imgs.idx",
                      num_parts=2, part_index=1),
        "multi": dict(batch_size=2, data_shape=(3, 16, 16), path_imgrec="multi.rec", label_width=2),
        "augmented": dict(batch_size=2, data_shape=(3, 16, 16), path_imglist="imgs.lst", path_root="images",
                          shuffle=True, rand_crop=True, rand_mirror=True, mean=True, std=True, brightness=0.1,
                          pca_noise=0.1),
    }
    recorded = {}
    for name, kwargs in cases.items():
        real = {key: (os.path.join(RECORDIO, value) if key.startswith("path_") else value)
                for key, value in kwargs.items()}
        seeded(11)
        it = mx.image.ImageIter(**real)
        epochs = 3 if "roll_over" in name or name in ("lst", "rec_idx_shuffle") else 1
        data, label, pad = collect(it, epochs)
        out["iter_%s_data" % name], out["iter_%s_label" % name], out["iter_%s_pad" % name] = data, label, pad
        recorded[name] = {key: (list(value) if isinstance(value, tuple) else value) for key, value in kwargs.items()}
        recorded[name]["epochs"] = epochs
        if name == "lst_roll_over":          # and a hard_reset drops the rolled-over samples
            seeded(11)
            it = mx.image.ImageIter(**real)
            data, label, pad = collect(it, 2, hard=True)
            out["iter_hard_reset_data"], out["iter_hard_reset_label"], out["iter_hard_reset_pad"] = data, label, pad
        assert os.path.isdir(images)
    return recorded


# ---- ImageRecordIter --------------------------------------------------------------------------------------------
def ruler():
    """A 20 x 24 image whose pixels encode their own coordinates: R = 10 x, G = 12 y, B = 255 - 5 x."""
    y, x = np.mgrid[0:20, 0:24]
    return np.stack([x * 10, y * 12, 255 - x * 5], -1).astype(np.uint8)


def two_colours():
    """A 16 x 16 image: its left half one colour, its right half another."""
    img = np.zeros((16, 16, 3), np.uint8)
    img[:, :8], img[:, 8:] = (200, 100, 50), (20, 60, 120)
    return img


def write_records(path, img, count):
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    writer = mx.recordio.MXRecordIO(path, "w")
    for i in range(count):
        writer.write(mx.recordio.pack(mx.recordio.IRHeader(0, float(i), i, 0), buf.getvalue()))
    writer.close()


def affine_fit(sample):
    """The affine map (2 x 3) from a (3, H, W) augmented ruler's pixel (col, row, 1) to the ruler's (x, y),
    least squares over the pixels at least 1 away from the fill (255, 255, 255) and from the border."""
    hwc = sample.transpose(1, 2, 0).astype(np.float64)
    fill = (hwc == 255).all(axis=2)
    near = fill.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near |= np.roll(np.roll(fill, dy, 0), dx, 1)
    near[0], near[-1], near[:, 0], near[:, -1] = True, True, True, True
    rows, cols = np.nonzero(~near)
    design = np.stack([cols, rows, np.ones_like(cols)], 1).astype(np.float64)
    target = np.stack([hwc[rows, cols, 0] / 10, hwc[rows, cols, 1] / 12], 1)
    return np.linalg.lstsq(design, target, rcond=None)[0].T


RULER_SHAPE = (3, 20, 24)
ITER_DETERMINISTIC = {       # one sample each: no random draw changes them
    "rotate_90": dict(rotate=90),
    "rotate_30": dict(rotate=30, fill_value=7),
    "rotate_30_cubic": dict(rotate=30, inter_method=2),
    "rotate_30_lanczos": dict(rotate=30, inter_method=4),
    "resize_lanczos": dict(resize=30, inter_method=4, data_shape=(3, 30, 36)),
    "resize_area": dict(resize=30, inter_method=3, data_shape=(3, 30, 36)),
    "scale_up": dict(min_random_scale=1.5, max_random_scale=1.5),
    "scale_down": dict(min_random_scale=0.6, max_random_scale=0.6, data_shape=(3, 10, 12)),
    "img_size": dict(max_img_size=16, data_shape=(3, 16, 16)),
    "pad": dict(pad=3, fill_value=7, data_shape=(3, 26, 30)),
    "crop_size": dict(min_crop_size=12, max_crop_size=12, data_shape=(3, 10, 10)),
    "resized_crop_whole": dict(random_resized_crop=True, min_random_area=1, max_random_area=1,
                               min_aspect_ratio=1.2, max_aspect_ratio=1.2, data_shape=(3, 10, 12)),
}
ITER_GEOMETRY = {            # the affine fit of 128 samples each
    "rotate": dict(max_rotate_angle=30),
    "shear": dict(max_shear_ratio=0.3),
    "scale": dict(min_random_scale=0.8, max_random_scale=1.4),
    "aspect": dict(max_aspect_ratio=0.3),
    "resized_crop": dict(random_resized_crop=True, min_random_area=0.3, max_random_area=1.0,
                         min_aspect_ratio=0.75, max_aspect_ratio=1.33, data_shape=(3, 12, 12)),
    "crop_size": dict(min_crop_size=8, max_crop_size=16, rand_crop=True, data_shape=(3, 10, 10)),
    "rand_crop_pad": dict(pad=4, rand_crop=True),
}
ITER_COLOUR = {              # the two colours of 128 samples each
    "brightness": dict(brightness=0.3),
    "contrast": dict(contrast=0.3),
    "saturation": dict(saturation=0.3),
    "pca_noise": dict(pca_noise=0.1),
    "jitter": dict(brightness=0.2, contrast=0.2, saturation=0.2),
    "random_h": dict(random_h=20),
    "random_s": dict(random_s=40),
    "random_l": dict(random_l=30),
}

ITER_NORMALIZED = {          # ImageRecordIter's float output, the two colours of 128 samples each
    "contrast_illumination": dict(max_random_contrast=0.3, max_random_illumination=20, mean_g=10.0, std_r=2.0,
                                  scale=0.5),
}


def record_iter_augmentations(out):
    """MXNet's ImageRecordUInt8Iter samples of ruler.rec and two.rec (8 records each) under each case."""
    rulers, twos = os.path.join(OUT, "ruler.rec"), os.path.join(OUT, "two.rec")
    write_records(rulers, ruler(), 8)
    write_records(twos, two_colours(), 8)

    def samples(path, epochs, iterator=mx.io.ImageRecordUInt8Iter, **kwargs):
        kwargs.setdefault("data_shape", RULER_SHAPE if path == rulers else (3, 16, 16))
        it = iterator(path_imgrec=path, batch_size=8, preprocess_threads=1, **kwargs)
        batches = []
        for _ in range(epochs):
            batches += [batch.data[0].asnumpy() for batch in it]
            it.reset()
        return np.concatenate(batches)

    for name, kwargs in ITER_DETERMINISTIC.items():
        out["record_" + name] = samples(rulers, 1, **kwargs)[0]
    for name, kwargs in ITER_GEOMETRY.items():
        out["record_affine_" + name] = np.stack([affine_fit(sample) for sample in samples(rulers, 16, **kwargs)])
    for name, kwargs in ITER_COLOUR.items():
        out["record_colours_" + name] = samples(twos, 16, **kwargs)[:, :, 0, [0, -1]].transpose(0, 2, 1)
    for name, kwargs in ITER_NORMALIZED.items():
        out["record_normalized_" + name] = samples(twos, 16, mx.io.ImageRecordIter,
                                                   **kwargs)[:, :, 0, [0, -1]].transpose(0, 2, 1)
    # mean_img: MXNet computes the mean of ruler.rec's (centre-cropped) images into a file, then subtracts it
    mean_path = os.path.join(OUT, "ruler_mean.nd")
    if os.path.exists(mean_path):
        os.remove(mean_path)
    mx.io.ImageRecordIter(path_imgrec=rulers, data_shape=(3, 16, 16), batch_size=8, mean_img=mean_path)
    out["record_mean_img_sample"] = samples(twos, 1, mx.io.ImageRecordIter, mean_img=mean_path, std_r=2.0,
                                            scale=0.5)[0]
    # path_imglist: the labels come from the list, by the records' ids
    with open(os.path.join(OUT, "relabel.lst"), "w") as fh:
        fh.writelines("%d\t%f\t%f\tignored/path.png\n" % (key, key * 10.0, key + 0.5) for key in range(5))
    it = mx.io.ImageRecordIter(path_imgrec=os.path.join(RECORDIO, "imgs.rec"), data_shape=(3, 16, 16), batch_size=5,
                               path_imglist=os.path.join(OUT, "relabel.lst"), label_width=2)
    out["record_relabelled_labels"] = it.next().label[0].asnumpy()
    return {"deterministic": ITER_DETERMINISTIC, "geometry": ITER_GEOMETRY, "colour": ITER_COLOUR,
            "normalized": ITER_NORMALIZED}


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.RandomState(0)
    imgs = images(rng)
    out = {}
    deterministic(imgs, out)
    random_augmenters(imgs, out)
    arrays = {"input_" + name: value for name, value in imgs.items()}
    arrays.update({name: value.asnumpy() if isinstance(value, mx.nd.NDArray) else value
                   for name, value in out.items()})
    iters = {}
    iters_cases = image_iters(iters)
    records = {}
    record_cases = record_iter_augmentations(records)
    np.savez_compressed(os.path.join(OUT, "augmenters.npz"), **arrays)
    np.savez_compressed(os.path.join(OUT, "image_iter.npz"), **iters)
    np.savez_compressed(os.path.join(OUT, "record_iter.npz"), **records)
    with open(os.path.join(OUT, "info.json"), "w") as fh:
        json.dump({"dumps": dumps(), "iter_cases": iters_cases, "record_iter_cases": record_cases}, fh, indent=1)


if __name__ == "__main__":
    main()
