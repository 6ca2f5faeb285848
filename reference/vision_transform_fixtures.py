"""Record MXNet 1.9.1's `image` ops and `gluon.data.vision.transforms` for tests/test_vision_transforms_mx.py (run
with the oracle's python):

    MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/vision_transform_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/vision_transforms/cases.npz and cases.json (see the README there). Each case is
one call of `mx.nd.image.<op>(input, **attrs)` or of a transform built from (class name, args), its input and
MXNet's output; `grad` cases also hold an output gradient and the input gradient MXNet gives. The random colour
ops are recorded with min_factor == max_factor, which makes them deterministic.
"""
import json
import os

import numpy as np

import mxnet as mx
from mxnet import nd
from mxnet.gluon.data.vision import transforms

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "vision_transforms")
rng = np.random.RandomState(20261207)
arrays, meta = {}, []


def _store(kind, name, attrs, x, out, **extra):
    key = "c%03d" % len(meta)
    arrays[key + "_in"] = x
    arrays[key + "_out"] = out.asnumpy()
    for k, v in extra.items():
        arrays["%s_%s" % (key, k)] = v
    meta.append({"key": key, "kind": kind, "name": name, "attrs": attrs, "extra": sorted(extra)})


def op(name, image_in, grad=False, **attrs):
    x = image_in
    data = nd.array(x, dtype=x.dtype)
    if not grad:
        return _store("op", name, attrs, x, getattr(nd.image, name)(data, **attrs))
    data.attach_grad()
    with mx.autograd.record():
        out = getattr(nd.image, name)(data, **attrs)
    dy = rng.uniform(-1, 1, out.shape).astype(x.dtype)
    out.backward(nd.array(dy, dtype=dy.dtype))
    _store("op", name, attrs, x, out, dy=dy, dx=data.grad.asnumpy())


def transform(spec, x, hybridize=False):
    """spec: a list of (class name, args) run through Compose (one entry: the transform itself)."""
    blocks = [getattr(transforms, cls)(*args) for cls, args in spec]
    block = blocks[0] if len(blocks) == 1 else transforms.Compose(blocks)
    if hybridize:
        block.hybridize()
    _store("transform", "compose" if len(blocks) > 1 else spec[0][0], {"spec": spec, "hybridize": hybridize}, x,
           block(nd.array(x, dtype=x.dtype)))


def image(h, w, c=3, dtype=np.uint8, n=None):
    shape = (h, w, c) if n is None else (n, h, w, c)
    return rng.randint(0, 256, shape).astype(dtype)


def main():
    img, imgf = image(7, 9), image(7, 9, dtype=np.float32)
    batch = image(7, 9, n=2)
    # to_tensor, normalize
    op("to_tensor", img)
    op("to_tensor", batch)
    op("to_tensor", image(5, 4, 1, np.float64))
    chw = rng.uniform(0, 1, (3, 5, 4)).astype(np.float32)
    op("normalize", chw, grad=True, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    op("normalize", rng.uniform(0, 1, (2, 3, 5, 4)).astype(np.float32), mean=(0.5,), std=(0.25,))
    op("normalize", rng.uniform(0, 1, (1, 5, 4)).astype(np.float64), mean=(0.5,), std=(2.0,))
    # resize: every interpolation, shrinking and enlarging, uint8 and float32, keep_ratio, a batch
    for interp in range(5):
        for size in ((4, 3), (13, 11), (5, 9)):
            op("resize", img, size=size, interp=interp)
            op("resize", imgf, size=size, interp=interp)
    op("resize", img, size=5, keep_ratio=True)
    op("resize", image(9, 7), size=5, keep_ratio=True)
    op("resize", img, size=5, keep_ratio=False)
    op("resize", batch, size=(4, 5))
    op("resize", image(6, 5, 1, np.float64), size=(3, 4))
    # crop, flips
    op("crop", imgf, grad=True, x=2, y=1, width=4, height=5)
    op("crop", batch, x=0, y=3, width=9, height=4)
    op("flip_left_right", image(7, 8))     # even: MXNet 1.9.1 leaves the middle column of an odd width unwritten
    op("flip_top_bottom", image(4, 5, 1))
    # colour ops, deterministic through min_factor == max_factor
    for name, factors in (("random_brightness", (0.4, 1.7)), ("random_contrast", (0.3, 1.6)),
                          ("random_saturation", (0.2, 1.5)), ("random_hue", (0.1, 0.55, 1.3, 1.8))):
        for factor in factors:
            op(name, img, min_factor=factor, max_factor=factor)
            op(name, imgf, min_factor=factor, max_factor=factor)
    op("random_brightness", image(4, 5, 1, np.float32), min_factor=1.5, max_factor=1.5)
    op("random_contrast", image(4, 5, 1, np.float32), min_factor=0.5, max_factor=0.5)
    op("random_saturation", image(4, 5, 1, np.float32), min_factor=0.5, max_factor=0.5)
    op("adjust_lighting", img, alpha=(0.1, -0.2, 0.3))
    op("adjust_lighting", imgf, alpha=(-1.0, 0.5, 2.0))
    # Gluon transforms
    transform([("ToTensor", ())], batch)
    transform([("Normalize", ((0.4, 0.5, 0.6), (0.2, 0.3, 0.4)))], chw)
    transform([("Resize", (5,))], img)
    transform([("Resize", (5, True))], image(9, 7))
    transform([("Resize", ((6, 4), False, 2))], img)
    transform([("CropResize", (1, 2, 5, 4))], img)
    transform([("CropResize", (1, 2, 5, 4, (3, 3), 1))], imgf)
    transform([("CenterCrop", (5,))], img)
    transform([("CenterCrop", ((8, 4), 1))], img)
    transform([("Cast", ("float64",))], img)
    pipeline = [("Resize", ((6, 5),)), ("ToTensor", ()), ("Normalize", ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)))]
    transform(pipeline, img)
    transform(pipeline, img, hybridize=True)
    transform([("CenterCrop", (6,)), ("ToTensor", ()), ("Normalize", (0.5, 0.25))], img, hybridize=True)
    rotated = rng.uniform(0, 1, (3, 6, 7)).astype(np.float32)
    transform([("Rotate", (30.0,))], rotated)
    transform([("Rotate", (-45.0, True))], rotated)
    transform([("Rotate", (60.0, False, True))], rotated[None])
    os.makedirs(OUT, exist_ok=True)
    np.savez_compressed(os.path.join(OUT, "cases.npz"), **arrays)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print("%d cases" % len(meta))


if __name__ == "__main__":
    main()
