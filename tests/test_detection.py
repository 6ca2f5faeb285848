"""The detection ops (ops/detection.py) against MXNet 1.9.1's fixture (tests/fixtures/mxnet-1.9.1/detection/, made
by reference/detection_fixtures.py): MultiBoxPrior's anchors, MultiBoxTarget's targets (greedy matching, threshold
matching, hard negative mining, padded and empty labels), ROIAlign's outputs and data gradients (rois partly or
wholly outside the map, sample_ratio -1/0/2, aligned, position-sensitive), plus MXNet's errors. PSROIPooling's CPU
kernel is a stub in MXNet 1.9.1: its values are checked against tests/reference_detection.py (here and in the spec
rows) and a case worked by hand. Generic kernel/shape/gradient checks: tests/specs_detection.py.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import dataflow as mx
from dataflow import autograd, nd
from ops.errors import DTypeError, MXNetError, ShapeError
from tests import reference_detection as R

HERE = os.path.dirname(os.path.abspath(__file__))
_DIR = os.path.join(HERE, "fixtures", "mxnet-1.9.1", "detection")
FIXTURE = np.load(os.path.join(_DIR, "ops.npz"))
with open(os.path.join(_DIR, "ops.json")) as _fh:
    META = json.load(_fh)

PRIOR_CASES = sorted(k.split("/")[1] for k in META if k.startswith("prior/") and "error" not in k)
TARGET_CASES = ("default", "mining", "mining_min", "threshold_low", "threshold_zero")
ALIGN_CASES = ("adaptive", "ratio0", "ratio2", "aligned", "aligned_ratio2", "position_sensitive", "ps_aligned")
TARGET_OUTPUTS = ("loc_target", "loc_mask", "cls_target")


# ---- MultiBoxPrior ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", PRIOR_CASES)
def test_multibox_prior_matches_mxnet(case):
    meta = META["prior/" + case]
    out = nd.contrib.MultiBoxPrior(nd.zeros(tuple(meta["shape"])), **meta["kwargs"])
    want = FIXTURE["prior/%s/out" % case]
    assert out.dtype == np.float32 and out.shape == want.shape
    np.testing.assert_array_equal(out.asnumpy(), want)          # the same float32 arithmetic, to the bit


def test_multibox_prior_symbol_and_zero_gradient():
    meta = META["prior/sizes_ratios"]
    data = mx.sym.var("data")
    anchors = mx.sym.contrib.MultiBoxPrior(data, **meta["kwargs"])
    assert anchors.infer_shape(data=tuple(meta["shape"]))[1] == [FIXTURE["prior/sizes_ratios/out"].shape]
    x = nd.ones(tuple(meta["shape"]))
    x.attach_grad()
    with autograd.record():
        out = nd.contrib.MultiBoxPrior(x, **meta["kwargs"])
    out.backward()
    np.testing.assert_array_equal(out.asnumpy(), FIXTURE["prior/sizes_ratios/out"])
    assert not x.grad.asnumpy().any()


def test_multibox_prior_errors_are_mxnets():
    assert "Unsupported data type" in META["prior/error_float64"] and "4D" in META["prior/error_3d"]
    with pytest.raises(DTypeError, match="MultiBoxPrior.*float64"):
        nd.contrib.MultiBoxPrior(nd.zeros((1, 1, 2, 2), dtype="float64"))
    with pytest.raises(ShapeError, match=r"MultiBoxPrior.*data.*4-D.*\[1,2,2\]"):
        nd.contrib.MultiBoxPrior(nd.zeros((1, 2, 2)))


# ---- MultiBoxTarget -----------------------------------------------------------------------------------------------
def _target_inputs(label_key="target/label"):
    return [nd.array(FIXTURE[k]) for k in ("target/anchor", label_key, "target/cls_pred")]


def _check_targets(outs, prefix):
    for name, got in zip(TARGET_OUTPUTS, outs):
        want = FIXTURE["%s/%s" % (prefix, name)]
        assert got.shape == want.shape and got.dtype == np.float32
        if name == "loc_target":        # logf / float32 division: last-bit differences
            np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-6, atol=1e-6)
        else:
            np.testing.assert_array_equal(got.asnumpy(), want)


@pytest.mark.parametrize("case", TARGET_CASES)
def test_multibox_target_matches_mxnet(case):
    outs = nd.contrib.MultiBoxTarget(*_target_inputs(), **META["target/" + case])
    _check_targets(outs, "target/" + case)


def test_multibox_target_fixture_covers_the_paths():
    """Image 0 has 3 objects and a padding row, image 1 one object, image 2 none (every anchor ignored); mining
    leaves anchors ignored; minimum_negative_samples changes nothing (MXNet ignores it)."""
    cls = {case: FIXTURE["target/%s/cls_target" % case] for case in TARGET_CASES}
    assert [(row > 0).sum() for row in cls["default"]] == [3, 1, 0]
    assert (cls["default"][2] == -1).all() and (cls["default"][:2] >= 0).all()
    assert (cls["mining"][:2] == -1).any() and (cls["mining"][:2] == 0).sum() == 3 * (cls["mining"][:2] > 0).sum()
    assert (cls["mining_min"][:2] == 0).sum() == 2 * (cls["mining_min"][:2] > 0).sum() < 10
    assert (FIXTURE["target/threshold_low/cls_target"][2] == -3).all()          # ignore_label=-3


def test_multibox_target_agrees_with_the_reference_on_the_fixture():
    """tests/reference_detection.py (the spec row's truth) is MXNet's algorithm: same targets on the fixture."""
    from ops import registry
    op = registry.get("_contrib_MultiBoxTarget")
    for case in TARGET_CASES:
        want = R.multibox_target(op.parse_params(META["target/" + case]),
                                 *(FIXTURE[k] for k in ("target/anchor", "target/label", "target/cls_pred")))
        for name, got in zip(TARGET_OUTPUTS, want):
            np.testing.assert_allclose(got, FIXTURE["target/%s/%s" % (case, name)], rtol=1e-5, atol=1e-5)


def test_multibox_target_wider_labels_and_symbol():
    """A sixth label column is ignored; the symbol binds and gives the same targets, with zero gradients."""
    outs = nd.contrib.MultiBoxTarget(*_target_inputs("target/wide/label"))
    _check_targets(outs, "target/wide")
    names = ("anchor", "label", "cls_pred")
    sym = mx.sym.contrib.MultiBoxTarget(*(mx.sym.var(n) for n in names))
    assert sym.list_outputs() == ["multiboxtarget0_loc_target", "multiboxtarget0_loc_mask",
                                  "multiboxtarget0_cls_target"]
    args = dict(zip(names, _target_inputs()))
    ex = sym.bind(mx.cpu(), args, args_grad={n: nd.ones(a.shape) for n, a in args.items()})
    ex.forward(is_train=True)
    _check_targets(ex.outputs, "target/default")
    ex.backward([nd.ones(o.shape) for o in ex.outputs])
    assert META["target/grads_zero"] == [True, True, True]
    assert all(not g.asnumpy().any() for g in ex.grad_arrays)


def test_multibox_target_errors():
    assert "first dimension should be 1" in META["target/error_anchor_shape"]
    assert "Label width" in META["target/error_label_width"]
    assert "Unsupported data type" in META["target/error_float64"]
    assert "-1" in META["target/error_bad_padding"]
    anchor, label, cls_pred = _target_inputs()
    with pytest.raises(ShapeError, match=r"MultiBoxTarget.*anchor.*\[2,48,4\]"):
        nd.contrib.MultiBoxTarget(nd.zeros((2, 48, 4)), label, cls_pred)
    with pytest.raises(ShapeError, match=r"MultiBoxTarget.*label.*\[3,4,4\].*5 columns"):
        nd.contrib.MultiBoxTarget(anchor, nd.zeros((3, 4, 4)), cls_pred)
    with pytest.raises(ShapeError, match=r"MultiBoxTarget.*cls_pred.*\(3, 4, 47\).*\(3, 4, 48\)"):
        nd.contrib.MultiBoxTarget(anchor, label, nd.zeros((3, 4, 47)))
    with pytest.raises(DTypeError, match="MultiBoxTarget.*float64"):
        nd.contrib.MultiBoxTarget(anchor.astype("float64"), label.astype("float64"), cls_pred.astype("float64"))
    with pytest.raises(MXNetError, match=r"MultiBoxTarget: label row 0 has class -1.*padding"):
        nd.contrib.MultiBoxTarget(anchor, nd.array([[[-1, 0.1, 0.1, 0.5, 0.5]]]), cls_pred[:1])[0].asnumpy()


def test_multibox_target_too_few_negative_candidates_is_an_error():
    """MXNet checks that enough anchors lie below negative_mining_thresh; so do we (an MXNetError, not a crash)."""
    anchors = nd.array([[[0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.5, 0.6], [0.0, 0.0, 0.6, 0.5]]])
    label = nd.array([[[1, 0.0, 0.0, 0.5, 0.5]]])
    with pytest.raises(MXNetError, match=r"MultiBoxTarget: image 0 needs 2 negatives"):
        nd.contrib.MultiBoxTarget(anchors, label, nd.zeros((1, 2, 3)), overlap_threshold=0.95,
                                  negative_mining_ratio=2, negative_mining_thresh=0.1)[0].asnumpy()


# ---- ROIAlign -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ALIGN_CASES)
def test_roi_align_forward_and_gradient_match_mxnet(case):
    x, rois = nd.array(FIXTURE["roialign/data"]), nd.array(FIXTURE["roialign/rois"])
    x.attach_grad()
    rois.attach_grad()
    with autograd.record():
        out = nd.contrib.ROIAlign(x, rois, **META["roialign/" + case])
    out.backward(nd.array(FIXTURE["roialign/%s/dy" % case]))
    np.testing.assert_allclose(out.asnumpy(), FIXTURE["roialign/%s/out" % case], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.asnumpy(), FIXTURE["roialign/%s/dx" % case], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(rois.grad.asnumpy(), FIXTURE["roialign/%s/drois" % case])     # zeros


def test_roi_align_negative_batch_index_pools_to_zero():
    """MXNet documents a negative batch index as 'ignored, output 0'; its CPU kernel instead zeroes the flat output
    element whose index is the roi's (here element 1, of roi 0: the fixture shows it) and leaves the roi's own
    outputs as allocated. Here the whole roi is 0 and the others are untouched; it gets no gradient, as in MXNet."""
    neg = nd.array(FIXTURE["roialign/negative/rois"])
    x = nd.array(FIXTURE["roialign/data"])
    x.attach_grad()
    with autograd.record():
        out = nd.contrib.ROIAlign(x, neg, pooled_size=(2, 2), spatial_scale=1.0)
    out.backward(nd.ones(out.shape))
    want = FIXTURE["roialign/negative/out0"]
    assert want.flat[1] == 0 and out.asnumpy()[0].flat[1] != 0                  # MXNet's stray zero
    np.testing.assert_allclose(np.delete(out.asnumpy()[0], 1), np.delete(want, 1), rtol=1e-5, atol=1e-6)
    assert not out.asnumpy()[1].any()
    np.testing.assert_allclose(x.grad.asnumpy(), FIXTURE["roialign/negative/dx"], rtol=1e-5, atol=1e-6)


def test_roi_align_symbol_matches_imperative():
    data, rois = mx.sym.var("data"), mx.sym.var("rois")
    sym = mx.sym.contrib.ROIAlign(data, rois, **META["roialign/ratio2"])
    assert sym.list_arguments() == ["data", "rois"]
    args = {"data": nd.array(FIXTURE["roialign/data"]), "rois": nd.array(FIXTURE["roialign/rois"])}
    grads = {"data": nd.zeros(args["data"].shape), "rois": nd.zeros(args["rois"].shape)}
    ex = sym.bind(mx.cpu(), args, args_grad=grads)
    ex.forward(is_train=True)
    ex.backward(nd.array(FIXTURE["roialign/ratio2/dy"]))
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), FIXTURE["roialign/ratio2/out"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grads["data"].asnumpy(), FIXTURE["roialign/ratio2/dx"], rtol=1e-5, atol=1e-6)


def test_roi_align_errors():
    assert "shape [batch, 5]" in META["roialign/error_rois_4"]
    assert "divided by pooled_size" in META["roialign/error_ps_channels"]
    data = nd.array(FIXTURE["roialign/data"])
    with pytest.raises(ShapeError, match=r"ROIAlign: rois \[3,4\] must have 5 columns"):
        nd.contrib.ROIAlign(data, nd.zeros((3, 4)), pooled_size=(2, 2), spatial_scale=1.0)
    with pytest.raises(ShapeError, match=r"ROIAlign: data \[2,6,6,7\].*multiple of pooled_size h \* w = 4"):
        nd.contrib.ROIAlign(data[:, :6], nd.zeros((3, 5)), pooled_size=(2, 2), spatial_scale=1.0,
                            position_sensitive=True)
    # MXNet aborts the process on an empty roi with aligned=True (a failed CHECK inside OpenMP): an error here
    with pytest.raises(MXNetError, match=r"ROIAlign: with aligned=True.*positive width.*row 0"):
        nd.contrib.ROIAlign(data, nd.array([[0, 2, 2, 2, 3]]), pooled_size=(2, 2), spatial_scale=1.0,
                            aligned=True).asnumpy()
    # MXNet reads outside the data for a batch index past the batch: refused
    with pytest.raises(MXNetError, match=r"ROIAlign: rois row 1 has batch index 2.0, outside the data's batch of 2"):
        nd.contrib.ROIAlign(data, nd.array([[0, 1, 1, 3, 3], [2, 1, 1, 3, 3]]), pooled_size=(2, 2),
                            spatial_scale=1.0).asnumpy()


# ---- PSROIPooling -------------------------------------------------------------------------------------------------
def test_psroi_pooling_by_hand():
    """R-FCN's pooling worked by hand: a 4 x 4 map, one roi covering it (corners 0..3, scale 1: 4 pixels wide),
    pooled_size 2, output_dim 1, group_size 2: bin (i, j) averages its 2 x 2 block of channel 2 i + j."""
    data = np.arange(4 * 16, dtype=np.float32).reshape(1, 4, 4, 4)
    out = nd.contrib.PSROIPooling(nd.array(data), nd.array([[0, 0, 0, 3, 3]]), spatial_scale=1.0, output_dim=1,
                                  pooled_size=2).asnumpy()
    want = [[data[0, 2 * i + j, 2 * i:2 * i + 2, 2 * j:2 * j + 2].mean() for j in range(2)] for i in range(2)]
    np.testing.assert_allclose(out, np.array(want, np.float32).reshape(1, 1, 2, 2), rtol=1e-6)


def test_psroi_pooling_shape_attrs_and_gradient():
    assert META["psroi/arguments"] == ["data", "rois"]
    sym = mx.sym.contrib.PSROIPooling(mx.sym.var("data"), mx.sym.var("rois"), spatial_scale=0.5, output_dim=2,
                                      pooled_size=3)
    assert sym.list_attr() == META["psroi/attrs"]
    assert sym.infer_shape(data=(1, 18, 5, 5), rois=(2, 5))[1] == [tuple(META["psroi/shape"])]
    rng = np.random.RandomState(0)
    data = rng.uniform(-1, 1, (2, 18, 6, 5)).astype(np.float32)
    rois = np.array([[1, 0.4, 1.0, 7.0, 9.6], [0, -2, -2, 3, 2]], np.float32)
    x = nd.array(data)
    x.attach_grad()
    with autograd.record():
        out = nd.contrib.PSROIPooling(x, nd.array(rois), spatial_scale=0.5, output_dim=2, pooled_size=3)
    dy = rng.uniform(-1, 1, out.shape).astype(np.float32)
    out.backward(nd.array(dy))
    from ops import registry
    params = registry.get("_contrib_PSROIPooling").parse_params(META["psroi/attrs"])
    np.testing.assert_allclose(out.asnumpy(), R.psroi_pooling(params, data, rois), rtol=1e-5, atol=1e-6)
    # the output is linear in the data: its gradient is the transpose, <dy, out(x)> = <dx, x>
    np.testing.assert_allclose((dy * out.asnumpy()).sum(), (x.grad.asnumpy() * data).sum(), rtol=1e-4)


def test_psroi_pooling_errors():
    with pytest.raises(MXNetError, match=r"PSROIPooling: rois row 0 has batch index -1.0"):
        nd.contrib.PSROIPooling(nd.zeros((1, 18, 5, 5)), nd.array([[-1, 0, 0, 3, 3]]), spatial_scale=0.5,
                                output_dim=2, pooled_size=3).asnumpy()
    with pytest.raises(ShapeError, match=r"PSROIPooling: data \[1,8,5,5\] has fewer channels"):
        nd.contrib.PSROIPooling(nd.zeros((1, 8, 5, 5)), nd.zeros((1, 5)), spatial_scale=0.5, output_dim=2,
                                pooled_size=3)


# ---- DeformableConvolution ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ("basic", "strided_groups", "no_bias"))
def test_deformable_convolution_forward_and_gradients_match_mxnet(case):
    """Offsets of up to 1.5 pixels move taps across pixels and off the map; every input's gradient is MXNet's."""
    meta = META["dcn/" + case]
    inputs = [nd.array(FIXTURE["dcn/%s/%s" % (case, name)]) for name in meta["arguments"]]
    for x in inputs:
        x.attach_grad()
    with autograd.record():
        out = nd.contrib.DeformableConvolution(*inputs, **meta["kwargs"])
    out.backward(nd.array(FIXTURE["dcn/%s/dy" % case]))
    np.testing.assert_allclose(out.asnumpy(), FIXTURE["dcn/%s/out" % case], rtol=1e-5, atol=1e-5)
    for name, x in zip(meta["arguments"], inputs):
        np.testing.assert_allclose(x.grad.asnumpy(), FIXTURE["dcn/%s/grad_%s" % (case, name)], rtol=1e-5,
                                   atol=1e-5, err_msg=name)


def test_deformable_convolution_zero_offsets_is_convolution():
    """With zero offsets the op is Convolution (an independent kernel of this project)."""
    rng = np.random.RandomState(3)
    x, w, b = (rng.uniform(-1, 1, s).astype(np.float32) for s in ((2, 4, 5, 6), (6, 2, 3, 3), (6,)))
    kwargs = dict(kernel=(3, 3), pad=(1, 1), stride=(2, 1), num_filter=6, num_group=2)
    got = nd.contrib.DeformableConvolution(nd.array(x), nd.zeros((2, 18, 3, 6)), nd.array(w), nd.array(b), **kwargs)
    want = nd.Convolution(nd.array(x), nd.array(w), nd.array(b), **kwargs)
    np.testing.assert_allclose(got.asnumpy(), want.asnumpy(), rtol=1e-5, atol=1e-5)


def test_deformable_convolution_symbol_names_its_parameters():
    sym = mx.sym.contrib.DeformableConvolution(mx.sym.var("data"), mx.sym.var("offset"), kernel=(3, 3),
                                               num_filter=4, name="dcn")
    assert sym.list_arguments() == ["data", "offset", "dcn_weight", "dcn_bias"]
    _, outs, _ = sym.infer_shape(data=(1, 2, 5, 5), offset=(1, 18, 3, 3))
    assert outs == [(1, 4, 3, 3)]
    with pytest.raises(ShapeError, match=r"offset"):
        sym.infer_shape(data=(1, 2, 5, 5), offset=(1, 18, 4, 4))


# ---- in a Gluon block -------------------------------------------------------------------------------------------
def test_hybridized_block_matches_imperative():
    """Anchors, ROIAlign and PSROIPooling on a convolution's features: the compiled graph (forward and backward
    through _backward_ROIAlign and _backward__contrib_PSROIPooling) gives the imperative run's loss and gradients."""
    class Head(mx.gluon.HybridBlock):
        def __init__(self):
            super().__init__()
            with self.name_scope():
                self.conv = mx.gluon.nn.Conv2D(8, 3, padding=1)

        def hybrid_forward(self, F, x, rois):
            features = self.conv(x)
            anchors = F.contrib.MultiBoxPrior(features, sizes=(0.5,), ratios=(1, 2))
            aligned = F.contrib.ROIAlign(features, rois, pooled_size=(2, 2), spatial_scale=0.5, sample_ratio=2)
            pooled = F.contrib.PSROIPooling(features, rois, spatial_scale=0.5, output_dim=2, pooled_size=2)
            return (aligned ** 2).sum() + pooled.sum() + (anchors * 0).sum()

    net = Head()
    net.initialize(mx.init.Uniform(0.5))
    x = nd.array(np.random.RandomState(5).uniform(-1, 1, (2, 3, 8, 8)))
    rois = nd.array([[0, 1, 1, 6, 6], [1, 0, 2, 5, 7]])
    runs = []
    for hybridize in (False, True):
        if hybridize:
            net.hybridize()
        with autograd.record():
            loss = net(x, rois)
        loss.backward()
        runs.append((loss.asscalar(), net.conv.weight.grad().asnumpy().copy()))
    assert runs[0][1].any()
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-5)
    np.testing.assert_allclose(runs[1][1], runs[0][1], rtol=1e-5, atol=1e-6)


# ---- CUDA ---------------------------------------------------------------------------------------------------------
@pytest.mark.cuda
def test_detection_kernels_under_the_simulator():
    """tests/cuda_detection_cases.py (the CUDA kernels against the CPU's and MXNet's fixture) under numba's
    simulator, in a subprocess: numba.cuda reads NUMBA_ENABLE_CUDASIM at import."""
    pytest.importorskip("numba.cuda", reason="needs the cuda extra: pip install -e '.[cuda]'")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/cuda_detection_cases.py", "-q", "-p",
                           "no:cacheprovider", "-p", "no:warnings", "-x"], cwd=os.path.dirname(HERE), env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
