"""ImageRecordIter's augmentations (rotation, shear, scale, aspect ratio, pad, crop sizes, random resized crop, HLS
shifts, brightness/contrast/saturation, PCA noise) against MXNet 1.9.1's samples of the same records
(tests/fixtures/mxnet-1.9.1/image_aug: ruler.rec, two.rec, record_iter.npz, made by reference/image_aug_fixtures.py).

MXNet draws its random numbers from its C++ generator, so single samples cannot match: a parameter that fixes the
result is compared pixel for pixel; a random one compares the distribution of 128 samples with MXNet's 128
(two-sample Kolmogorov-Smirnov tests). The ruler's pixels encode their coordinates, so an augmented ruler gives the
affine map the augmentation applied; the two-colour image's two colours give what the colour jitter did."""
import colorsys
import json
import os

import numpy as np
import pytest
from scipy import stats

import dataflow as mx
from dataflow.base import MXNetError
from dataflow.io import image_record_aug

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "image_aug")
REF = np.load(os.path.join(HERE, "record_iter.npz"))
with open(os.path.join(HERE, "info.json")) as _fh:
    CASES = json.load(_fh)["record_iter_cases"]
RULERS, TWOS = os.path.join(HERE, "ruler.rec"), os.path.join(HERE, "two.rec")


def samples(path, epochs, seed=0, iterator=mx.io.ImageRecordUInt8Iter, **kwargs):
    kwargs = dict(kwargs)
    kwargs["data_shape"] = tuple(kwargs.get("data_shape", (3, 20, 24) if path == RULERS else (3, 16, 16)))
    it = iterator(path_imgrec=path, batch_size=8, preprocess_threads=2, seed=seed, **kwargs)
    batches = []
    for _ in range(epochs):
        batches += [batch.data[0].asnumpy() for batch in it]
        it.reset()
    return np.concatenate(batches)


def affine_fit(sample):
    """As reference/image_aug_fixtures.py: the affine map from an augmented ruler's (col, row, 1) to the ruler's
    (x, y), fitted on the pixels away from the fill and the border."""
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


def same_distribution(ours, theirs, what):
    ours, theirs = ours.reshape(len(ours), -1), theirs.reshape(len(theirs), -1)
    for column in range(ours.shape[1]):
        a, b = ours[:, column], theirs[:, column]
        if np.ptp(a) < 1e-3 and np.ptp(b) < 1e-3:       # a constant: equal
            assert abs(a.mean() - b.mean()) < 0.02, (what, column, a.mean(), b.mean())
            continue
        p = stats.ks_2samp(a, b).pvalue
        assert p > 1e-3, "%s, value %d: p = %.2g, ours %s, MXNet's %s" % (what, column, p, stats.describe(a),
                                                                         stats.describe(b))


@pytest.mark.parametrize("name", sorted(CASES["deterministic"]))
def test_fixed_augmentations_equal_mxnets(name):
    ours = samples(RULERS, 1, **CASES["deterministic"][name])[0].astype(int)
    theirs = REF["record_" + name].astype(int)
    assert ours.shape == theirs.shape
    difference = np.abs(ours - theirs)
    # OpenCV warps and resizes in fixed point: a grey level or two, a little more where the fill blends in
    assert difference.max() <= 12 and (difference <= 2).mean() > 0.97, (difference.max(), (difference <= 2).mean())


@pytest.mark.parametrize("name", sorted(CASES["geometry"]))
def test_random_geometry_is_distributed_as_mxnets(name):
    ours = np.stack([affine_fit(sample) for sample in samples(RULERS, 16, **CASES["geometry"][name])])
    same_distribution(ours, REF["record_affine_" + name], name)


@pytest.mark.parametrize("name", sorted(CASES["colour"]))
def test_random_colours_are_distributed_as_mxnets(name):
    ours = samples(TWOS, 16, **CASES["colour"][name])[:, :, 0, [0, -1]].transpose(0, 2, 1)
    same_distribution(ours.astype(np.float64), REF["record_colours_" + name].astype(np.float64), name)


@pytest.mark.parametrize("name", sorted(CASES["normalized"]))
def test_random_contrast_and_illumination_are_distributed_as_mxnets(name):
    ours = samples(TWOS, 16, iterator=mx.io.ImageRecordIter, **CASES["normalized"][name])
    same_distribution(ours[:, :, 0, [0, -1]].transpose(0, 2, 1), REF["record_normalized_" + name], name)
    with pytest.raises(MXNetError, match="unknown parameter 'max_random_contrast'"):
        mx.io.ImageRecordUInt8Iter(path_imgrec=TWOS, data_shape=(3, 16, 16), batch_size=2, max_random_contrast=0.1)


def test_mean_image_is_made_read_and_subtracted_as_mxnets(tmp_path):
    theirs = os.path.join(HERE, "ruler_mean.nd")
    ours = str(tmp_path / "mean.nd")
    mx.io.ImageRecordIter(path_imgrec=RULERS, data_shape=(3, 16, 16), batch_size=8, mean_img=ours)
    np.testing.assert_array_equal(mx.nd.load(ours)["mean_img"].asnumpy(), mx.nd.load(theirs)["mean_img"].asnumpy())
    sample = samples(TWOS, 1, iterator=mx.io.ImageRecordIter, mean_img=theirs, std_r=2.0, scale=0.5)[0]
    np.testing.assert_allclose(sample, REF["record_mean_img_sample"], rtol=1e-6, atol=1e-5)
    with pytest.raises(MXNetError, match=r"mean image in .*mean.nd has shape \(3, 16, 16\), data_shape is "
                                         r"\(3, 12, 12\)"):
        mx.io.ImageRecordIter(path_imgrec=RULERS, data_shape=(3, 12, 12), batch_size=8, mean_img=ours)
    with pytest.raises(MXNetError, match="unknown parameter 'mean_img'"):
        mx.io.ImageRecordUInt8Iter(path_imgrec=RULERS, data_shape=(3, 12, 12), batch_size=8, mean_img=ours)


def test_labels_from_an_image_list_equal_mxnets(tmp_path):
    records = os.path.join(HERE, "..", "recordio", "imgs.rec")
    it = mx.io.ImageRecordIter(path_imgrec=records, data_shape=(3, 16, 16), batch_size=5, label_width=2,
                               path_imglist=os.path.join(HERE, "relabel.lst"))
    np.testing.assert_array_equal(it.next().label[0].asnumpy(), REF["record_relabelled_labels"])
    (tmp_path / "short.lst").write_text("0\t1.0\ta.png\n")
    with pytest.raises(MXNetError, match="record id [1-4] is not in the image list"):
        mx.io.ImageRecordIter(path_imgrec=records, data_shape=(3, 16, 16), batch_size=5,
                              path_imglist=str(tmp_path / "short.lst")).next()
    with pytest.raises(MXNetError, match="line 1 of .*short.lst is not 'index<TAB>2 label"):
        mx.io.ImageRecordIter(path_imgrec=records, data_shape=(3, 16, 16), batch_size=5, label_width=2,
                              path_imglist=str(tmp_path / "short.lst"))


def test_colour_space_conversions_agree_with_colorsys():
    rng = np.random.RandomState(0)
    img = rng.randint(0, 256, (20, 20, 3)).astype(np.uint8)
    hue, light, sat = image_record_aug.rgb_to_hls(img)
    expected = np.array([colorsys.rgb_to_hls(*(pixel / 255.0)) for pixel in img.reshape(-1, 3)]).reshape(20, 20, 3)
    assert np.abs(hue - expected[..., 0] * 180).max() <= 0.5 + 1e-9
    assert np.abs(light - expected[..., 1] * 255).max() <= 0.5 + 1e-9
    assert np.abs(sat - expected[..., 2] * 255).max() <= 0.5 + 1e-9
    back = image_record_aug.hls_to_rgb(hue, light, sat)
    exact = np.array([colorsys.hls_to_rgb(h / 180, l_ / 255, s / 255) for h, l_, s in
                      zip(hue.ravel(), light.ravel(), sat.ravel())]).reshape(20, 20, 3) * 255
    assert np.abs(back - exact).max() <= 0.5 + 1e-9
    hue, light, sat = image_record_aug.rgb_to_hls(np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 128, 128]]],
                                                           np.uint8))
    np.testing.assert_array_equal(hue, [[0, 60, 120, 0]])           # OpenCV's 8-bit hue: degrees / 2
    np.testing.assert_array_equal(light, [[128, 128, 128, 128]])
    np.testing.assert_array_equal(sat, [[255, 255, 255, 0]])


def test_seeded_augmentation_does_not_depend_on_threads():
    kwargs = dict(max_rotate_angle=20, random_resized_crop=True, min_random_area=0.5, max_aspect_ratio=0.2,
                  brightness=0.2, pca_noise=0.1, random_l=10, rand_mirror=True, seed=5)
    it_one = mx.io.ImageRecordIter(path_imgrec=RULERS, data_shape=(3, 12, 12), batch_size=8, preprocess_threads=1,
                                   **kwargs)
    it_four = mx.io.ImageRecordIter(path_imgrec=RULERS, data_shape=(3, 12, 12), batch_size=8, preprocess_threads=4,
                                    **kwargs)
    one, four = it_one.next().data[0].asnumpy(), it_four.next().data[0].asnumpy()
    np.testing.assert_array_equal(one, four)
    assert len({sample.tobytes() for sample in one}) == 8        # and the samples differ


def test_random_interpolation_uses_every_method():
    """inter_method 10 draws one of OpenCV's five per resize: enlarging the ruler by 1.5 gives five different
    images (nearest, bilinear, bicubic, area, Lanczos), each one of the fixed methods' results."""
    fixed = {samples(RULERS, 1, resize=30, inter_method=k, data_shape=(3, 30, 36))[0].tobytes() for k in range(5)}
    assert len(fixed) == 5
    drawn = {sample.tobytes() for sample in samples(RULERS, 8, resize=30, inter_method=10, data_shape=(3, 30, 36))}
    assert drawn == fixed


def test_bad_augmentation_parameters_are_clear_errors():
    base = dict(path_imgrec=RULERS, data_shape=(3, 12, 12), batch_size=2)
    with pytest.raises(MXNetError, match="min_crop_size .* <= max_crop_size"):
        mx.io.ImageRecordIter(**base, min_crop_size=10, max_crop_size=5)
    with pytest.raises(MXNetError, match="aspect ratio range .* empty"):
        mx.io.ImageRecordIter(**base, random_resized_crop=True, min_aspect_ratio=2.0, max_aspect_ratio=1.0)
    with pytest.raises(MXNetError, match="min_random_area"):
        mx.io.ImageRecordIter(**base, random_resized_crop=True, min_random_area=0.9, max_random_area=0.5)
    with pytest.raises(MXNetError, match="min_random_scale"):
        mx.io.ImageRecordIter(**base, min_random_scale=2.0)
    with pytest.raises(MXNetError, match=r"record id 0 .*smaller than max_crop_size 30"):
        mx.io.ImageRecordIter(**base, min_crop_size=25, max_crop_size=30).next()
    with pytest.raises(MXNetError, match="saturation, random_h need colour images"):
        mx.io.ImageRecordIter(**dict(base, data_shape=(1, 12, 12)), saturation=0.1, random_h=3)
    grey = mx.io.ImageRecordIter(**dict(base, data_shape=(1, 12, 12)), brightness=0.3, max_rotate_angle=10, pad=2)
    assert grey.next().data[0].shape == (2, 1, 12, 12)
    with pytest.raises(MXNetError, match="invalid inter_method 8"):
        mx.io.ImageRecordIter(**base, inter_method=8)
