"""`mx.nd.image` ops and `gluon.data.vision.transforms` against MXNet 1.9.1's recorded outputs
(tests/fixtures/mxnet-1.9.1/vision_transforms/, made by reference/vision_transform_fixtures.py), the random
transforms statistically, and hybridized pipelines against the same blocks run imperatively."""
import colorsys
import json
import os
import warnings

import numpy as np
import pytest

import dataflow as mx
from dataflow.base import MXNetError
from dataflow.gluon.block import HybridBlock
from dataflow.gluon.data import ArrayDataset, DataLoader
from dataflow.gluon.data.vision import transforms as T

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "vision_transforms")
with open(os.path.join(FIXTURES, "cases.json")) as _fh:
    CASES = json.load(_fh)
ARRAYS = np.load(os.path.join(FIXTURES, "cases.npz"))


def _nd(x):
    return mx.nd.array(x, dtype=x.dtype)


def _check(case, got):
    want = ARRAYS[case["key"] + "_out"]
    assert got.shape == want.shape and got.dtype == want.dtype, case
    got, want = got.astype(np.float64), want.astype(np.float64)
    if case["name"] == "resize" or case["kind"] == "transform" and _resizes(case):
        # OpenCV rounds uint8 through fixed-point weights: 1 apart at most (x 1/255/std after ToTensor+Normalize)
        atol = 1.0 if want.max() > 2 else 1.01 / 255 / 0.224
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=atol if case["in_dtype"] == "uint8" else 2e-4,
                                   err_msg=str(case))
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4 if want.dtype.kind == "f" else 0,
                                   err_msg=str(case))


def _resizes(case):
    return any(cls in ("Resize", "CropResize", "CenterCrop") for cls, _ in case["attrs"]["spec"])


for _case in CASES:
    _case["in_dtype"] = ARRAYS[_case["key"] + "_in"].dtype.name
OPS = [c for c in CASES if c["kind"] == "op"]
TRANSFORMS = [c for c in CASES if c["kind"] == "transform"]


@pytest.mark.parametrize("case", OPS, ids=lambda c: "%s-%s-%s" % (c["key"], c["name"], c["in_dtype"]))
def test_image_op_equals_mxnet(case):
    x = ARRAYS[case["key"] + "_in"]
    attrs = {k: tuple(v) if isinstance(v, list) else v for k, v in case["attrs"].items()}
    op = getattr(mx.nd.image, case["name"])
    _check(case, op(_nd(x), **attrs).asnumpy())
    if "dy" in case["extra"]:
        data = _nd(x)
        data.attach_grad()
        with mx.autograd.record():
            out = op(data, **attrs)
        out.backward(_nd(ARRAYS[case["key"] + "_dy"]))
        np.testing.assert_allclose(data.grad.asnumpy(), ARRAYS[case["key"] + "_dx"], rtol=1e-6, atol=1e-7)


def _build(spec):
    blocks = [getattr(T, cls)(*[tuple(a) if isinstance(a, list) else a for a in args]) for cls, args in spec]
    return blocks[0] if len(blocks) == 1 else T.Compose(blocks)


@pytest.mark.parametrize("case", TRANSFORMS, ids=lambda c: "%s-%s" % (c["key"], c["name"]))
def test_transform_equals_mxnet(case):
    block = _build(case["attrs"]["spec"])
    if case["attrs"]["hybridize"]:
        block.hybridize()
    _check(case, block(_nd(ARRAYS[case["key"] + "_in"])).asnumpy())


# MXNet 1.9.1's classes: which transforms are HybridBlocks there (they must be here too)
HYBRID = {"Cast": ("float16",), "ToTensor": (), "Normalize": (0.5, 0.25), "CropResize": (0, 0, 2, 2),
          "Resize": (3,), "RandomFlipLeftRight": (), "RandomFlipTopBottom": (), "RandomBrightness": (0.1,),
          "RandomContrast": (0.1,), "RandomSaturation": (0.1,), "RandomHue": (0.1,),
          "RandomColorJitter": (0.1, 0.1, 0.1, 0.1), "RandomLighting": (0.1,)}
PLAIN = {"RandomResizedCrop": (3,), "CenterCrop": (3,), "Rotate": (10.0,), "RandomRotation": ((-5.0, 5.0),),
         "RandomApply": (T.ToTensor(),), "Compose": ([],)}


def test_transforms_are_hybrid_where_mxnet_s_are():
    for name, args in HYBRID.items():
        assert isinstance(getattr(T, name)(*args), HybridBlock), name
    for name, args in PLAIN.items():
        assert not isinstance(getattr(T, name)(*args), HybridBlock), name


def _image(seed, shape=(6, 7, 3), dtype=np.uint8):
    return np.random.RandomState(seed).randint(0, 256, shape).astype(dtype)


def test_hybrid_compose_runs_as_one_graph_and_equals_imperative():
    steps = [T.Resize((5, 4)), T.CropResize(1, 0, 3, 4), T.ToTensor(), T.Normalize((0.5, 0.4, 0.3), (0.2, 0.3, 0.4)),
             T.Cast("float64")]
    eager, hybrid = T.HybridCompose(steps), T.HybridCompose(steps)
    hybrid.hybridize()
    x = _nd(_image(0))
    np.testing.assert_array_equal(hybrid(x).asnumpy(), eager(x).asnumpy())
    assert hybrid(x).dtype == np.float64 and hybrid(x).shape == (3, 4, 3)
    ops = [node["op"] for node in json.loads(hybrid(mx.sym.var("data")).tojson())["nodes"]]
    assert ops == ["null", "_image_resize", "_image_crop", "_image_to_tensor", "_image_normalize", "Cast"]
    with pytest.raises(ValueError, match="not a HybridBlock, try use `Compose`"):
        T.HybridCompose([T.CenterCrop(3)])


def test_compose_groups_hybrid_runs_as_mxnet():
    pipeline = T.Compose([T.ToTensor(), T.Normalize(0.5, 0.25), T.CenterCrop(2), T.RandomApply(T.Cast(), 1.0),
                          T.Resize(3)])
    kinds = [type(b).__name__ for b in pipeline]
    assert kinds == ["HybridSequential", "CenterCrop", "RandomApply", "Resize"]
    assert pipeline[0]._active       # hybridized, as MXNet does for a run of two or more


def test_seeded_random_transforms_repeat_and_hybridized_equals_imperative():
    steps = [T.RandomFlipLeftRight(), T.RandomBrightness(0.4), T.RandomContrast(0.4), T.RandomSaturation(0.4),
             T.RandomHue(0.2), T.RandomColorJitter(0.2, 0.2, 0.2, 0.1), T.RandomLighting(0.1), T.ToTensor()]
    x = _nd(_image(1, dtype=np.float32))
    runs = []
    for hybridize in (False, True, True):
        block = T.HybridCompose(steps)
        if hybridize:
            block.hybridize()
        mx.random.seed(7)
        runs.append([block(x).asnumpy() for _ in range(3)])
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(runs[1], runs[2])
    assert not np.array_equal(runs[0][0], runs[0][1])     # each call draws anew


def test_a_pipeline_already_run_goes_to_worker_processes():
    images = np.random.RandomState(8).randint(0, 256, (6, 7, 8, 3)).astype(np.uint8)
    pipeline = T.Compose([T.Resize((5, 4)), T.ToTensor(), T.Normalize(0.5, 0.25)])
    want = np.stack([pipeline(_nd(image)).asnumpy() for image in images])     # compiled here first
    dataset = ArrayDataset(mx.nd.array(images, dtype="uint8"), np.arange(6)).transform_first(pipeline)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no fallback to threads: the compiled pipeline pickles
        loader = DataLoader(dataset, batch_size=4, num_workers=2)
    assert loader._uses_processes
    batches = list(loader)
    loader.close()
    np.testing.assert_allclose(np.concatenate([x.asnumpy() for x, _ in batches]), want, rtol=1e-6, atol=1e-6)
    assert np.concatenate([y.asnumpy() for _, y in batches]).tolist() == list(range(6))


def test_batches_where_mxnet_takes_them():
    batch = _nd(_image(2, (2, 6, 7, 3)))
    assert T.ToTensor()(batch).shape == (2, 3, 6, 7)
    assert T.Normalize(0.5, 0.2)(T.ToTensor()(batch)).shape == (2, 3, 6, 7)
    assert T.Resize((4, 3))(batch).shape == (2, 3, 4, 3)
    assert T.CropResize(1, 1, 4, 3, size=(2, 2))(batch).shape == (2, 2, 2, 3)
    for block in (T.RandomFlipLeftRight(), T.RandomBrightness(0.1), T.RandomHue(0.1), T.RandomLighting(0.1)):
        with pytest.raises(MXNetError, match=r"\(height, width, channels\), but got \(2, 6, 7, 3\)"):
            block(batch).wait_to_read()


def test_bad_input_is_a_clear_error():
    with pytest.raises(MXNetError, match="Invalid mean.*either 1 or 3 elements"):
        T.Normalize((0.5, 0.5))(mx.nd.ones((3, 2, 2)))
    with pytest.raises(MXNetError, match="x \\+ width should not be greater"):
        T.CropResize(3, 0, 5, 2)(mx.nd.ones((4, 6, 3)))
    with pytest.raises(MXNetError, match="resize takes uint8, float32 or float64"):
        T.Resize(3)(mx.nd.ones((4, 6, 3), dtype="int32"))
    with pytest.raises(MXNetError, match="Unknown interpolation method 7"):
        T.Resize(3, interpolation=7)(mx.nd.ones((4, 6, 3)))
    with pytest.raises(MXNetError, match="min_factor must be >= 0, got -0.5"):
        mx.nd.image.random_contrast(mx.nd.ones((2, 2, 3)), min_factor=-0.5, max_factor=1.0)
    with pytest.raises(TypeError, match="only supports float32"):
        T.Rotate(10.0)(mx.nd.ones((3, 4, 4), dtype="uint8"))
    with pytest.raises(MXNetError, match="has no gradient"):
        x = mx.nd.ones((3, 4, 3))
        x.attach_grad()
        with mx.autograd.record():
            y = T.RandomBrightness(0.5)(x)
        y.backward()


# ---- random transforms: distributions ---------------------------------------------------------------------------

DRAWS = 400


def _factors(block, x):
    """The factor each call applied, from out = x * factor (brightness) on a constant image."""
    return np.array([float(block(x).asnumpy()[0, 0, 0]) for _ in range(DRAWS)]) / float(x.asnumpy()[0, 0, 0])


def _uniform_ok(values, low, high):
    assert values.min() >= low - 1e-4 and values.max() <= high + 1e-4
    # mean and spread of U(low, high), within 5 standard errors
    mean, sd = (low + high) / 2, (high - low) / np.sqrt(12)
    assert abs(values.mean() - mean) < 5 * sd / np.sqrt(len(values))
    assert abs(values.std() - sd) < 0.15 * sd


def test_random_brightness_and_jitter_factors_are_uniform():
    mx.random.seed(11)
    x = mx.nd.full((2, 2, 3), 100.0)
    _uniform_ok(_factors(T.RandomBrightness(0.3), x), 0.7, 1.3)
    _uniform_ok(_factors(T.RandomBrightness(1.5), x), 0.0, 2.5)         # max(0, 1 - 1.5)
    _uniform_ok(_factors(T.RandomColorJitter(brightness=0.2), x), 0.8, 1.2)


def test_random_contrast_and_saturation_blend_factors_are_uniform():
    mx.random.seed(12)
    img = _image(3, (3, 4, 3)).astype(np.float64)
    luma = img @ [0.299, 0.587, 0.114]
    for block, other in ((T.RandomContrast(0.5), luma.mean()),
                         (T.RandomSaturation(0.5), img[..., 2:3] * 0.114)):     # MXNet 1.9.1's "gray": blue alone
        x = _nd(img.astype(np.float32))
        alphas = []
        for _ in range(DRAWS):
            out = block(x).asnumpy().astype(np.float64)
            # out = alpha * img + (1 - alpha) * other: alpha by least squares
            a, b = (img - other).ravel(), (out - other).ravel()
            alphas.append(a @ b / (a @ a))
        _uniform_ok(np.array(alphas), 0.5, 1.5)


def _hue_degrees(rgb):
    return colorsys.rgb_to_hls(*(np.asarray(rgb, np.float64) / 255))[0] * 360


def test_random_hue_rotates_by_uniform_turns_and_keeps_lightness_and_saturation():
    mx.random.seed(13)
    pixel = np.array([[[200.0, 60.0, 30.0]]], np.float32)
    hue, light, sat = colorsys.rgb_to_hls(*(pixel[0, 0] / 255))
    shifts = []
    for _ in range(DRAWS):
        out = T.RandomHue(0.1)(_nd(pixel)).asnumpy()[0, 0]
        h, l_out, s_out = colorsys.rgb_to_hls(*(out.astype(np.float64) / 255))
        assert abs(l_out - light) < 1e-5 and abs(s_out - sat) < 1e-4
        shifts.append(((h - hue) * 360 + 180) % 360 - 180)
    _uniform_ok(np.array(shifts) / 360, -0.1, 0.1)


@pytest.mark.parametrize("turn", [0.1, 0.55, 1.3])
def test_hue_rotation_equals_colorsys(turn):
    img = _image(4, (5, 6, 3)).astype(np.float32)
    got = mx.nd.image.random_hue(_nd(img), min_factor=turn, max_factor=turn).asnumpy()
    for pixel, out in zip(img.reshape(-1, 3), got.reshape(-1, 3)):
        h, l_in, s_in = colorsys.rgb_to_hls(*(pixel.astype(np.float64) / 255))
        want = np.array(colorsys.hls_to_rgb((h + turn) % 1.0, l_in, s_in)) * 255
        np.testing.assert_allclose(out, want, atol=2e-3)


def test_random_lighting_alphas_are_normal():
    mx.random.seed(14)
    eig = np.array([55.46, 4.794, 1.148]) * np.array([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140],
                                                       [-0.5836, -0.6948, 0.4203]])
    x = mx.nd.full((1, 1, 3), 100.0)
    alphas = np.array([np.linalg.solve(eig, T.RandomLighting(0.2)(x).asnumpy()[0, 0] - 100.0)
                       for _ in range(DRAWS)])
    assert np.all(np.abs(alphas.mean(axis=0)) < 5 * 0.2 / np.sqrt(DRAWS))
    np.testing.assert_allclose(alphas.std(axis=0), 0.2, rtol=0.15)


def test_random_flips_flip_half_the_time():
    mx.random.seed(15)
    img = _image(5, (4, 6, 3))
    for block, flipped in ((T.RandomFlipLeftRight(), img[:, ::-1]), (T.RandomFlipTopBottom(), img[::-1])):
        outs = [block(_nd(img)).asnumpy() for _ in range(DRAWS)]
        count = sum(np.array_equal(o, flipped) for o in outs)
        assert all(np.array_equal(o, img) or np.array_equal(o, flipped) for o in outs)
        assert abs(count - DRAWS / 2) < 5 * np.sqrt(DRAWS / 4)


def test_color_jitter_applies_its_steps_in_a_random_order():
    """Contrast then saturation and saturation then contrast scale the pixels alike but shift them by different
    constants (contrast's mean luma is taken before or after saturation): fit each output, and both orders show."""
    mx.random.seed(16)
    x = _image(6, (4, 4, 3)).astype(np.float64)
    luma = (x @ [0.299, 0.587, 0.114]).mean()
    red, blue = x[..., 0].ravel(), x[..., 2].ravel()
    features = np.stack([red, blue, np.ones_like(red)], axis=1)
    jitter = T.RandomColorJitter(contrast=0.5, saturation=0.5)
    orders = set()
    for _ in range(60):
        out = jitter(_nd(x.astype(np.float32))).asnumpy().astype(np.float64)
        # red out = s*c * red + (1 - s)*0.114*c * blue + shift
        (sc, blue_part, shift), *_ = np.linalg.lstsq(features, out[..., 0].ravel(), rcond=None)
        c = sc + blue_part / 0.114
        s = sc / c
        contrast_first = (1 - c) * luma * (s + 0.114 * (1 - s))
        saturation_first = (1 - c) * (s * luma + (1 - s) * 0.114 * blue.mean())
        assert min(abs(shift - contrast_first), abs(shift - saturation_first)) < 1e-2
        orders.add(abs(shift - contrast_first) < abs(shift - saturation_first))
    assert orders == {True, False}
