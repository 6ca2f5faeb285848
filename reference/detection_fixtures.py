"""Record MXNet 1.9.1's detection contrib ops for tests/test_detection.py (run with the oracle's python):

    MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/detection_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/detection/{ops.npz, ops.json} (MultiBoxPrior, MultiBoxTarget, ROIAlign and
DeformableConvolution); see the README there. Every case is a key prefix
`<op>/<case>/` in ops.npz with its keyword arguments in ops.json. PSROIPooling's values are not recorded: MXNet
1.9.1's CPU kernel is an empty stub (psroi/cpu_stub_value), so their truth is tests/reference_detection.py.
"""
import json
import os

import numpy as np

import mxnet as mx
from mxnet import autograd, nd

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "detection")
rng = np.random.RandomState(20261206)
arrays, meta = {}, {}


def record_error(key, call):
    try:
        call()
        nd.waitall()
        meta[key] = None
    except mx.base.MXNetError as e:
        lines = [line for line in str(e).split("\n") if "Error" in line or "Check failed" in line]
        meta[key] = (lines or [str(e)])[-1][:300]


# ---- MultiBoxPrior: anchors of a data shape ----
PRIOR = {
    "default": ((1, 3, 2, 3), {}),
    "sizes_ratios": ((2, 1, 3, 4), {"sizes": (0.5, 0.25, 0.1), "ratios": (1, 2, 0.5)}),
    "first_ratio_2": ((1, 1, 2, 2), {"sizes": (0.4, 0.2), "ratios": (2, 1, 0.5)}),
    "clip": ((1, 2, 3, 3), {"sizes": (0.9, 0.5), "ratios": (1, 3), "clip": True}),
    "steps_offsets": ((1, 1, 4, 2), {"sizes": (0.3,), "ratios": (1, 2), "steps": (0.2, 0.3), "offsets": (0.2, 0.7)}),
    "wide": ((1, 1, 2, 5), {"sizes": (0.3, 0.6), "ratios": (1, 0.25)}),
}
for case, (shape, kwargs) in PRIOR.items():
    out = nd.contrib.MultiBoxPrior(nd.zeros(shape), **kwargs)
    arrays["prior/%s/out" % case] = out.asnumpy()
    meta["prior/" + case] = {"shape": shape, "kwargs": kwargs, "out_dtype": np.dtype(out.dtype).name}
record_error("prior/error_float64", lambda: nd.contrib.MultiBoxPrior(nd.zeros((1, 1, 2, 2), dtype="float64")))
record_error("prior/error_3d", lambda: nd.contrib.MultiBoxPrior(nd.zeros((1, 2, 2))))

# ---- MultiBoxTarget ----
anchors = nd.contrib.MultiBoxPrior(nd.zeros((1, 1, 4, 4)), sizes=(0.5, 0.25), ratios=(1, 2)).asnumpy()   # 48


def labels(rows, pad):
    """rows of [class, x1, y1, x2, y2] with boxes inside [0, 1], then `pad` rows of -1."""
    out = []
    for _ in range(rows):
        x1, y1 = rng.uniform(0, 0.7, 2)
        w, h = rng.uniform(0.1, 0.5, 2)
        out.append([rng.randint(0, 3), x1, y1, min(x1 + w, 1), min(y1 + h, 1)])
    return np.array(out + [[-1] * 5] * pad, np.float32).reshape(rows + pad, 5)


label = np.stack([labels(3, 1), labels(1, 3), np.full((4, 5), -1, np.float32)])    # image 2: no objects
cls_pred = rng.uniform(-2, 2, (3, 4, anchors.shape[1])).astype(np.float32)
arrays.update({"target/anchor": anchors, "target/label": label, "target/cls_pred": cls_pred})
TARGET = {
    "default": {},
    "mining": {"negative_mining_ratio": 3, "negative_mining_thresh": 0.5},
    "mining_min": {"negative_mining_ratio": 2, "negative_mining_thresh": 0.4, "minimum_negative_samples": 10},
    "threshold_low": {"overlap_threshold": 0.1, "ignore_label": -3, "variances": (0.2, 0.3, 0.1, 0.4)},
    "threshold_zero": {"overlap_threshold": 0.0, "negative_mining_ratio": 1, "negative_mining_thresh": 0.3},
}
for case, kwargs in TARGET.items():
    outs = nd.contrib.MultiBoxTarget(nd.array(anchors), nd.array(label), nd.array(cls_pred), **kwargs)
    for name, value in zip(("loc_target", "loc_mask", "cls_target"), outs):
        arrays["target/%s/%s" % (case, name)] = value.asnumpy()
    meta["target/" + case] = kwargs
# a wider label (6 columns: the extra one is ignored) and an all-negative batch
wide = np.concatenate([label, rng.uniform(0, 1, label.shape[:2] + (1,)).astype(np.float32)], axis=2)
outs = nd.contrib.MultiBoxTarget(nd.array(anchors), nd.array(wide), nd.array(cls_pred))
arrays["target/wide/label"] = wide
for name, value in zip(("loc_target", "loc_mask", "cls_target"), outs):
    arrays["target/wide/%s" % name] = value.asnumpy()
# gradients: zero for every input
a, lab, cp = nd.array(anchors), nd.array(label), nd.array(cls_pred)
for v in (a, lab, cp):
    v.attach_grad()
with autograd.record():
    outs = nd.contrib.MultiBoxTarget(a, lab, cp)
    total = sum(o.sum() for o in outs)
total.backward()
meta["target/grads_zero"] = [bool((v.grad.asnumpy() == 0).all()) for v in (a, lab, cp)]
record_error("target/error_anchor_shape", lambda: nd.contrib.MultiBoxTarget(
    nd.zeros((2, 48, 4)), nd.array(label), nd.array(cls_pred)))
record_error("target/error_label_width", lambda: nd.contrib.MultiBoxTarget(
    nd.array(anchors), nd.zeros((3, 4, 4)), nd.array(cls_pred)))
record_error("target/error_float64", lambda: nd.contrib.MultiBoxTarget(
    nd.array(anchors, dtype="float64"), nd.array(label, dtype="float64"), nd.array(cls_pred, dtype="float64")))
record_error("target/error_bad_padding", lambda: nd.contrib.MultiBoxTarget(
    nd.array(anchors), nd.array(np.array([[[-1, 0.1, 0.1, 0.5, 0.5]]], np.float32)), nd.array(cls_pred[:1])))

# ---- ROIAlign: forward and the data gradient ----
data = rng.uniform(-1, 1, (2, 8, 6, 7)).astype(np.float32)
rois = np.array([[0, 0.5, 0.5, 4.2, 3.7],
                 [1, 2.0, 1.0, 6.0, 5.0],
                 [0, -3.0, -2.0, 2.5, 1.5],        # partly outside the map
                 [1, 5.0, 4.0, 12.0, 9.0],         # partly outside, beyond the far edge
                 [0, 3.1, 2.2, 3.3, 2.3],          # smaller than a pixel
                 [1, 8.0, 7.5, 14.0, 11.0]],       # wholly outside (scaled: beyond width/height)
                np.float32)
arrays.update({"roialign/data": data, "roialign/rois": rois})
ALIGN = {
    "adaptive": {"pooled_size": (2, 3), "spatial_scale": 1.0},
    "ratio0": {"pooled_size": (2, 2), "spatial_scale": 0.5, "sample_ratio": 0},
    "ratio2": {"pooled_size": (3, 2), "spatial_scale": 0.8, "sample_ratio": 2},
    "aligned": {"pooled_size": (2, 3), "spatial_scale": 1.0, "aligned": True},
    "aligned_ratio2": {"pooled_size": (2, 2), "spatial_scale": 0.5, "sample_ratio": 2, "aligned": True},
    "position_sensitive": {"pooled_size": (2, 2), "spatial_scale": 1.0, "position_sensitive": True},
    "ps_aligned": {"pooled_size": (2, 1), "spatial_scale": 0.7, "sample_ratio": 1, "position_sensitive": True,
                   "aligned": True},
}
for case, kwargs in ALIGN.items():
    x, r = nd.array(data), nd.array(rois)
    x.attach_grad()
    r.attach_grad()
    with autograd.record():
        out = nd.contrib.ROIAlign(x, r, **kwargs)
    dy = rng.uniform(-1, 1, out.shape).astype(np.float32)
    out.backward(nd.array(dy))
    arrays.update({"roialign/%s/out" % case: out.asnumpy(), "roialign/%s/dy" % case: dy,
                   "roialign/%s/dx" % case: x.grad.asnumpy(), "roialign/%s/drois" % case: r.grad.asnumpy()})
    meta["roialign/" + case] = kwargs
# a negative batch index: MXNet documents the roi's output as 0 (its CPU kernel zeroes one element only: the
# rest of that roi is left as allocated), and gives it no gradient
neg = np.array([[1, 1.0, 1.0, 4.0, 4.0], [-1, 1.0, 1.0, 4.0, 4.0]], np.float32)
x = nd.array(data)
x.attach_grad()
with autograd.record():
    out = nd.contrib.ROIAlign(x, nd.array(neg), pooled_size=(2, 2), spatial_scale=1.0)
out.backward(nd.ones(out.shape))
arrays.update({"roialign/negative/rois": neg, "roialign/negative/out0": out.asnumpy()[0],
               "roialign/negative/dx": x.grad.asnumpy()})
record_error("roialign/error_rois_4", lambda: nd.contrib.ROIAlign(
    nd.array(data), nd.zeros((3, 4)), pooled_size=(2, 2), spatial_scale=1.0))
record_error("roialign/error_ps_channels", lambda: nd.contrib.ROIAlign(
    nd.array(data[:, :6]), nd.array(rois), pooled_size=(2, 2), spatial_scale=1.0, position_sensitive=True))
# (aligned=True with an roi of width or height <= 0 fails a CHECK inside an OpenMP loop: the process aborts, not
# recorded; dataflow raises instead)

# ---- PSROIPooling: record only MXNet's shape rule and its defaults (the CPU kernel is a stub) ----
ps = nd.contrib.PSROIPooling(nd.zeros((1, 2 * 9, 5, 5)), nd.array(rois[:2]), spatial_scale=0.5, output_dim=2,
                             pooled_size=3)
meta["psroi/shape"] = list(ps.shape)
meta["psroi/cpu_stub_value"] = float(ps.asnumpy().ravel()[0])
sym = mx.sym.contrib.PSROIPooling(mx.sym.var("data"), mx.sym.var("rois"), spatial_scale=0.5, output_dim=2,
                                  pooled_size=3)
meta["psroi/attrs"] = sym.list_attr()
meta["psroi/arguments"] = sym.list_arguments()
meta["roialign/attrs"] = mx.sym.contrib.ROIAlign(mx.sym.var("data"), mx.sym.var("rois"), pooled_size=(2, 2),
                                                 spatial_scale=1.0).list_attr()

# ---- DeformableConvolution: forward and gradients (head gradient: random) ----
DCN = {
    "basic": ((2, 4, 5, 6), {"kernel": (3, 3), "pad": (1, 1), "num_filter": 3}),
    "strided_groups": ((1, 4, 7, 6), {"kernel": (3, 2), "stride": (2, 1), "dilate": (1, 2), "pad": (1, 0),
                                      "num_filter": 4, "num_group": 2, "num_deformable_group": 2}),
    "no_bias": ((1, 2, 4, 4), {"kernel": (2, 2), "num_filter": 2, "no_bias": True}),
}
for case, (shape, kwargs) in DCN.items():
    sym = mx.sym.contrib.DeformableConvolution(mx.sym.var("data"), mx.sym.var("offset"), **kwargs)
    k, st_, dl, pd = (kwargs.get(key, default) for key, default in (("kernel", None), ("stride", (1, 1)),
                                                                    ("dilate", (1, 1)), ("pad", (0, 0))))
    out_hw = tuple((shape[2 + a] + 2 * pd[a] - dl[a] * (k[a] - 1) - 1) // st_[a] + 1 for a in range(2))
    offset_shape = (shape[0], 2 * k[0] * k[1] * kwargs.get("num_deformable_group", 1)) + out_hw
    arg_shapes, out_shapes, _ = sym.infer_shape(data=shape, offset=offset_shape)
    names = sym.list_arguments()
    values = {}
    for name, s in zip(names, arg_shapes):
        scale = 1.5 if name == "offset" else 1.0        # offsets move taps across pixels and off the map
        values[name] = rng.uniform(-scale, scale, s).astype(np.float32)
    inputs = [nd.array(values[k]) for k in names]
    for v in inputs:
        v.attach_grad()
    with autograd.record():
        out = nd.contrib.DeformableConvolution(*inputs, **kwargs)
    dy = rng.uniform(-1, 1, out.shape).astype(np.float32)
    out.backward(nd.array(dy))
    for k, v in zip(names, inputs):
        arrays["dcn/%s/%s" % (case, k)] = values[k]
        arrays["dcn/%s/grad_%s" % (case, k)] = v.grad.asnumpy()
    arrays["dcn/%s/out" % case] = out.asnumpy()
    arrays["dcn/%s/dy" % case] = dy
    meta["dcn/" + case] = {"kwargs": kwargs, "arguments": names}

# the registered names (aliases included) of these ops
meta["op_names"] = sorted(n for n in mx.operator.get_all_registered_operators()
                          if any(k in n for k in ("MultiBox", "ROIAlign", "PSROI", "DeformableConv")))

os.makedirs(OUT, exist_ok=True)
np.savez_compressed(os.path.join(OUT, "ops.npz"), **arrays)
with open(os.path.join(OUT, "ops.json"), "w") as fh:
    json.dump(meta, fh, indent=1, sort_keys=True)
print("wrote %d arrays, %d meta keys" % (len(arrays), len(meta)))
