"""mx.image's augmenters, CreateAugmenter and helpers against MXNet 1.9.1's outputs on the same images
(tests/fixtures/mxnet-1.9.1/image_aug, made by reference/image_aug_fixtures.py), and statistics of the random ones."""
import json
import os
import random

import numpy as np
import pytest

import dataflow as mx
from dataflow.base import MXNetError

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "image_aug")
REF = np.load(os.path.join(HERE, "augmenters.npz"))
with open(os.path.join(HERE, "info.json")) as _fh:
    DUMPS = json.load(_fh)["dumps"]
EIGVAL = np.array([55.46, 4.794, 1.148])
EIGVEC = np.array([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140], [-0.5836, -0.6948, 0.4203]])


def image(name, dtype="uint8"):
    return mx.nd.array(REF["input_" + name], dtype="uint8").astype(dtype)


def seeded(seed):
    random.seed(seed)
    np.random.seed(seed)


def check(got, name, atol=1e-4):
    want = REF[name]
    got = got.asnumpy() if isinstance(got, mx.nd.NDArray) else got
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.shape, want.dtype)
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=1e-5, atol=atol)


# ---- deterministic augmenters: MXNet's outputs ---------------------------------------------------------------
@pytest.mark.parametrize("interp", [0, 1, 2, 3])
def test_resize_augmenters_are_within_one_grey_level_of_opencv(interp):
    check(mx.image.ResizeAug(10, interp)(image("wide")), "resize_short_wide_%d" % interp, atol=1)
    check(mx.image.ResizeAug(12, interp)(image("tall")), "resize_short_tall_%d" % interp, atol=1)
    check(mx.image.ForceResizeAug((11, 9), interp)(image("wide")), "force_resize_%d" % interp, atol=1)


@pytest.mark.parametrize("name, source, size, interp, tolerance", [
    ("imresize_lanczos_shrink", "wide", (11, 9), 4, 2), ("imresize_lanczos_enlarge", "small", (30, 25), 4, 2),
    ("imresize_area_enlarge", "small", (30, 25), 3, 1), ("imresize_area_mixed", "wide", (35, 12), 3, 1),
    ("imresize_area_integer", "wide", (14, 10), 3, 1)])
def test_lanczos_and_area_resizing_are_close_to_opencv(name, source, size, interp, tolerance):
    check(mx.image.imresize(image(source), *size, interp=interp), name, atol=tolerance)


def test_random_interpolation_picks_every_method():
    seeded(0)
    shapes = {mx.image.ResizeAug(20, 10)(image("small")).shape for _ in range(20)}      # 0-4, enlarging included
    assert shapes == {(20, 26, 3)}


def test_enlarging_and_cropping():
    check(mx.image.ResizeAug(20, 2)(image("small")), "resize_short_enlarge_2", atol=1)
    check(mx.image.ResizeAug(20, 9)(image("small")), "resize_short_enlarge_9", atol=1)
    check(mx.image.CenterCropAug((10, 8))(image("wide")), "center_crop", atol=0)
    check(mx.image.CenterCropAug((15, 21))(image("tall")), "center_crop_tall", atol=0)
    check(mx.image.CenterCropAug((20, 18), 1)(image("small")), "center_crop_upsampled", atol=1)
    check(mx.image.fixed_crop(image("wide"), 3, 4, 9, 7), "fixed_crop", atol=0)
    check(mx.image.fixed_crop(image("wide"), 3, 4, 9, 7, size=(12, 10), interp=1), "fixed_crop_resized", atol=1)


def test_flip_cast_gray_and_normalize_equal_mxnets():
    check(mx.image.HorizontalFlipAug(1.0)(image("wide")), "flip", atol=0)
    check(mx.image.CastAug()(image("wide")), "cast", atol=0)
    check(mx.image.CastAug("float64")(image("small")), "cast_float64", atol=0)
    check(mx.image.RandomGrayAug(1.0)(image("wide", "float32")), "gray")
    normalize = mx.image.ColorNormalizeAug(mx.nd.array([120.0, 110.0, 100.0]), mx.nd.array([50.0, 60.0, 70.0]))
    check(normalize(image("wide", "float32")), "normalize")
    check(mx.image.ColorNormalizeAug([120.0, 110.0, 100.0], None)(image("wide", "float32")), "normalize_mean_only")
    # the augmenters that do not draw leave Python's and numpy's generators alone
    seeded(1)
    mx.image.ColorNormalizeAug([1.0, 2.0, 3.0], [1.0, 1.0, 1.0])(image("wide", "float32"))
    mx.image.CenterCropAug((10, 8))(image("wide"))
    assert (random.random(), np.random.random()) == (seeded(1) or (random.random(), np.random.random()))


@pytest.mark.parametrize("border", range(5))
def test_copy_make_border_types(border):
    check(mx.image.copyMakeBorder(image("small"), 2, 3, 4, 1, type=border, values=(10.0, 20.0, 30.0)),
          "border_%d" % border, atol=0)


def test_copy_make_border_value_and_bad_type():
    check(mx.image.copyMakeBorder(image("small"), 1, 1, 2, 2, value=7.0), "border_value", atol=0)
    with pytest.raises(MXNetError, match="unknown border type 7"):
        mx.image.copyMakeBorder(image("small"), 1, 1, 1, 1, type=7)


def test_imrotate_equals_mxnets():
    chw = image("wide", "float32").transpose((2, 0, 1))
    check(mx.image.imrotate(chw, 30), "rotate_30", atol=1e-3)
    batch = mx.nd.stack(chw, chw[:, ::-1])
    check(mx.image.imrotate(batch, mx.nd.array([-45.0, 90.0])), "rotate_batch", atol=1e-3)
    check(mx.image.imrotate(chw, 20, zoom_in=True), "rotate_zoom_in", atol=1e-3)
    check(mx.image.imrotate(chw, 20, zoom_out=True), "rotate_zoom_out", atol=1e-3)
    with pytest.raises(ValueError, match="cannot be both True"):
        mx.image.imrotate(chw, 20, zoom_in=True, zoom_out=True)
    with pytest.raises(TypeError, match="float32"):
        mx.image.imrotate(image("wide").transpose((2, 0, 1)), 20)
    with pytest.raises(ValueError, match="number of images"):
        mx.image.imrotate(batch, mx.nd.array([1.0, 2.0, 3.0]))


def test_random_rotate_draws_its_angle_from_numpy():
    chw = image("wide", "float32").transpose((2, 0, 1))
    np.random.seed(4)
    angle = np.random.uniform(-30, 30)
    np.random.seed(4)
    np.testing.assert_allclose(mx.image.random_rotate(chw, (-30, 30)).asnumpy(),
                               mx.image.imrotate(chw, angle).asnumpy(), rtol=1e-6, atol=1e-5)


# ---- random augmenters: seeded as MXNet, they draw MXNet's numbers ---------------------------------------------
RANDOM_CASES = {
    "brightness": lambda w, f: mx.image.BrightnessJitterAug(0.4)(f),
    "contrast": lambda w, f: mx.image.ContrastJitterAug(0.4)(f),
    "saturation": lambda w, f: mx.image.SaturationJitterAug(0.4)(f),
    "hue": lambda w, f: mx.image.HueJitterAug(0.4)(f),
    "color_jitter": lambda w, f: mx.image.ColorJitterAug(0.3, 0.3, 0.3)(f),
    "lighting": lambda w, f: mx.image.LightingAug(0.1, EIGVAL, EIGVEC)(f),
    "random_crop": lambda w, f: mx.image.RandomCropAug((10, 9))(w),
    "random_gray": lambda w, f: mx.nd.stack(*[mx.image.RandomGrayAug(0.5)(f.copy()) for _ in range(6)]),
    "random_flip": lambda w, f: mx.nd.stack(*[mx.image.HorizontalFlipAug(0.5)(w) for _ in range(6)]),
}


@pytest.mark.parametrize("name", sorted(RANDOM_CASES))
def test_seeded_random_augmenters_equal_mxnets(name):
    seeded(5)
    check(RANDOM_CASES[name](image("wide"), image("wide", "float32")), "seeded_" + name, atol=2e-3)


def test_seeded_random_sized_crop_is_mxnets_crop():
    seeded(5)
    check(mx.image.RandomSizedCropAug((10, 9), 0.3, (0.75, 1.33), 1)(image("wide")), "seeded_random_sized_crop",
          atol=1)


@pytest.mark.parametrize("name, kwargs", [
    ("pipeline_crop", dict(data_shape=(3, 12, 14), rand_crop=True, rand_mirror=True, mean=True, std=True,
                           brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1, pca_noise=0.1, rand_gray=0.3)),
    ("pipeline_center", dict(data_shape=(3, 12, 14), mean=np.array([100.0, 110.0, 120.0]),
                             std=np.array([30.0, 40.0, 50.0]))),
])
def test_seeded_create_augmenter_pipelines_equal_mxnets(name, kwargs):
    augs = mx.image.CreateAugmenter(**kwargs)
    seeded(7)
    results = []
    for _ in range(3):
        img = image("wide")
        for aug in augs:
            img = aug(img)
        results.append(img)
    check(mx.nd.stack(*results), name, atol=1e-4)


def test_jitter_statistics():
    """Brightness scales by a factor uniform in [1 - b, 1 + b]; contrast keeps the mean luma; saturation keeps
    each pixel's luma; hue keeps luma and rotates the chroma."""
    img = image("wide", "float32")
    luma = np.array([0.299, 0.587, 0.114])
    seeded(0)
    factors = [(mx.image.BrightnessJitterAug(0.3)(img.copy()).asnumpy() / img.asnumpy().clip(1))[5, 5, 0]
               for _ in range(400)]
    factors = np.array(factors)
    assert 0.7 <= factors.min() < 0.75 and 1.25 < factors.max() <= 1.3 and abs(factors.mean() - 1) < 0.03
    contrast = mx.image.ContrastJitterAug(0.5)(img.copy()).asnumpy()
    np.testing.assert_allclose((contrast @ luma).mean(), (img.asnumpy() @ luma).mean(), rtol=1e-4)
    saturated = mx.image.SaturationJitterAug(0.5)(img.copy()).asnumpy()
    np.testing.assert_allclose(saturated @ luma, img.asnumpy() @ luma, rtol=1e-4, atol=1e-3)
    hued = mx.image.HueJitterAug(0.5)(img.copy()).asnumpy()
    np.testing.assert_allclose(hued @ luma, img.asnumpy() @ luma, rtol=1e-2, atol=0.5)


def test_random_choices_statistics():
    seeded(3)
    flips = sum(np.array_equal(mx.image.HorizontalFlipAug(0.3)(image("wide")).asnumpy(), REF["flip"])
                for _ in range(500))
    assert 110 < flips < 190
    grays = sum(bool((np.ptp(mx.image.RandomGrayAug(0.7)(image("small", "float32")).asnumpy(), axis=2) < 1e-3)
                     .all()) for _ in range(300))
    assert 180 < grays < 240
    offsets = [mx.image.random_crop(image("wide"), (10, 9))[1][:2] for _ in range(500)]
    xs, ys = np.array(offsets).T
    assert set(xs) == set(range(19)) and set(ys) == set(range(12))
    noise = np.array([(mx.image.LightingAug(0.1, EIGVAL, EIGVEC)(image("small", "float32")).asnumpy()
                       - REF["input_small"])[0, 0] for _ in range(400)])
    # rgb = eigvec @ (eigval * alpha), alpha ~ N(0, 0.1): the covariance of the noise is eigvec diag(eigval*0.1)^2 ..
    expected = EIGVEC @ np.diag((EIGVAL * 0.1) ** 2) @ EIGVEC.T
    np.testing.assert_allclose(np.cov(noise.T), expected, atol=0.25 * expected.max())


def test_random_sized_crop_areas_and_ratios():
    seeded(2)
    src = mx.nd.zeros((60, 80, 3), dtype="uint8")
    areas, ratios = [], []
    for _ in range(300):
        out, (x0, y0, w, h) = mx.image.random_size_crop(src, (16, 16), (0.2, 0.6), (0.5, 2.0))
        assert out.shape == (16, 16, 3) and 0 <= x0 <= 80 - w and 0 <= y0 <= 60 - h
        areas.append(w * h / 4800.0)
        ratios.append(w / h)
    assert 0.17 < min(areas) < 0.25 and 0.5 < max(areas) < 0.65
    assert 0.45 < min(ratios) < 0.6 and 1.7 < max(ratios) < 2.2


# ---- CreateAugmenter and dumps ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs", [
    ("default", dict(data_shape=(3, 24, 24))),
    ("everything", dict(data_shape=(3, 24, 20), resize=30, rand_crop=True, rand_resize=True, rand_mirror=True,
                        mean=True, std=True, brightness=0.1, contrast=0.2, saturation=0.3, hue=0.4, pca_noise=0.05,
                        rand_gray=0.2, inter_method=10)),
    ("arrays", dict(data_shape=(3, 8, 8), rand_crop=True, mean=np.array([1.0, 2.0, 3.0]), std=np.array([2.0]),
                    contrast=0.5)),
])
def test_create_augmenter_lists_and_dumps_equal_mxnets(name, kwargs):
    dumped = [aug.dumps() for aug in mx.image.CreateAugmenter(**kwargs)]
    assert json.loads(json.dumps(dumped)) == DUMPS[name]


def test_augmenter_lists_and_bad_arguments():
    seq = mx.image.SequentialAug([mx.image.CastAug(), mx.image.HorizontalFlipAug(1.0)])
    np.testing.assert_array_equal(seq(image("wide")).asnumpy(), REF["flip"].astype(np.float32))
    assert seq.dumps() == ["sequentialaug", ['["castaug", {"type": "float32"}]', '["horizontalflipaug", {"p": 1.0}]']]
    assert not isinstance(mx.image.RandomOrderAug([]), mx.image.SequentialAug)
    with pytest.raises(ValueError, match="rand_resize=True needs rand_crop=True"):
        mx.image.CreateAugmenter((3, 8, 8), rand_resize=True)
    with pytest.raises(ValueError, match="mean must be"):
        mx.image.CreateAugmenter((3, 8, 8), mean=[1, 2, 3])
    with pytest.raises(TypeError, match="unexpected keyword"):
        mx.image.RandomSizedCropAug((8, 8), 0.1, (0.5, 2), colour=1)
    with pytest.warns(DeprecationWarning, match="min_area"):
        aug = mx.image.RandomSizedCropAug((8, 8), 0.1, (0.5, 2), min_area=0.5)
    assert aug.area == 0.5
    with pytest.raises(NotImplementedError):
        mx.image.Augmenter()(image("small"))
    assert mx.img is mx.image
