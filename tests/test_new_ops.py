"""The ops of issue 13 item 7 against MXNet 1.9.1's own numbers (tests/fixtures/mxnet-1.9.1/ops/, written by
reference/ops_fixtures.py), and the behaviour the generic spec-table tests cannot reach: gradients of loss heads
(which ignore the head gradient), hidden outputs in the JSON, the AMP dtype rules, errors raised by the inference
pass, and the Python wrappers linspace, moveaxis and onehot_encode.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import dataflow as mx
from dataflow.base import MXNetError
from tests.paths import FIXTURES

nd = mx.nd
OPS = os.path.join(FIXTURES, "ops")
with open(os.path.join(OPS, "structure.json")) as _fh:
    STRUCTURE = json.load(_fh)
F32 = dict(rtol=1e-5, atol=1e-5)


def fixture(name):
    with np.load(os.path.join(OPS, name + ".npz")) as f:
        return {k: f[k] for k in f.files}


def run(fn, inputs, dy, differentiable):
    """Outputs of fn(*inputs) and the gradients of the `differentiable` inputs for head gradient dy."""
    arrays = [nd.array(x, dtype=x.dtype) for x in inputs]
    for i in differentiable:
        arrays[i].attach_grad()
    with mx.autograd.record():
        out = fn(*arrays)
    head = out[0] if isinstance(out, (list, tuple)) else out
    head.backward(nd.array(dy, dtype=head.dtype))
    outs = [o.asnumpy() for o in out] if isinstance(out, (list, tuple)) else [out.asnumpy()]
    return outs, [arrays[i].grad.asnumpy() for i in differentiable]


def close(got, want, **tol):
    np.testing.assert_allclose(got, want, **(tol or F32))


# ---- against MXNet's numbers ----------------------------------------------------------------------------------------
def test_group_norm_matches_mxnet():
    f = fixture("group_norm")
    (out, mean, std), (dx, dgamma, dbeta) = run(
        lambda a, g, b: nd.GroupNorm(a, g, b, num_groups=3, eps=1e-3, output_mean_var=True),
        [f["x"], f["gamma"], f["beta"]], f["dy"], [0, 1, 2])
    for got, key in ((out, "out"), (mean, "mean"), (std, "std"), (dx, "dx"), (dgamma, "dgamma"), (dbeta, "dbeta")):
        close(got, f[key], rtol=1e-4, atol=1e-5)


def test_adaptive_avg_pooling_matches_mxnet():
    f = fixture("adaptive_pooling")
    pool = nd.contrib.AdaptiveAvgPooling2D
    (out,), (dx,) = run(lambda a: pool(a, output_size=(3, 2)), [f["x"]], f["dy"], [0])
    close(out, f["out_3x2"])
    close(dx, f["dx_3x2"])
    x = nd.array(f["x"])
    close(pool(x, output_size=(8, 9)).asnumpy(), f["out_8x9"])
    close(pool(x, output_size=4).asnumpy(), f["out_4"])
    close(pool(x).asnumpy(), f["out_default"])
    close(mx.sym.contrib.AdaptiveAvgPooling2D(mx.sym.var("x"), output_size=4).eval(x=x)[0].asnumpy(), f["out_4"])


def test_softmin_matches_mxnet():
    f = fixture("softmin")
    (out,), (dx,) = run(lambda a: nd.softmin(a, axis=0, temperature=2.0), [f["x"]], f["dy"], [0])
    close(out, f["out"])
    close(dx, f["dx"])
    close(nd.softmin(nd.array(f["x"])).asnumpy(), f["out_default"])


def test_linspace_matches_mxnet():
    f = fixture("linspace")
    for i, (start, stop, num, endpoint, dtype) in enumerate(STRUCTURE["linspace_cases"]):
        got = nd.linspace(start, stop, num, endpoint=endpoint, dtype=dtype).asnumpy()
        want = f["case%d" % i]
        assert got.dtype == want.dtype, (i, got.dtype, want.dtype)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=str((start, stop, num, endpoint)))


def test_loss_heads_ignore_the_head_gradient_as_mxnet():
    f = fixture("make_loss")
    x = f["x"]
    for i, kw in enumerate(STRUCTURE["make_loss_cases"]):
        (out,), (dx,) = run(lambda a, kw=kw: nd.MakeLoss(a, **kw), [x], 3 * np.ones_like(x), [0])
        close(out, x)
        close(dx, f["dx%d" % i])
    (_,), (dx,) = run(lambda a: nd.make_loss(a * 2), [x], 3 * np.ones_like(x), [0])
    close(dx, f["make_loss_dx"])


def test_svm_output_matches_mxnet():
    f = fixture("svm")
    for i, kw in enumerate(STRUCTURE["svm_cases"]):
        (out,), (dx,) = run(lambda a, b, kw=kw: nd.SVMOutput(a, b, **kw), [f["x"], f["label"]],
                            3 * np.ones_like(f["x"]), [0])
        close(out, f["out%d" % i])
        close(dx, f["dx%d" % i])
    (_,), (dx,) = run(lambda a, b: nd.SVMOutput(a, b), [f["x3"], f["label3"]], np.ones_like(f["x3"]), [0])
    close(dx, f["dx_3d"])


def test_roi_pooling_matches_mxnet():
    f = fixture("roi_pooling")
    (out,), (dx,) = run(lambda a, r: nd.ROIPooling(a, r, pooled_size=(3, 2), spatial_scale=0.5),
                        [f["x"], f["rois"]], f["dy"], [0])
    close(out, f["out"])
    close(dx, f["dx"])


def test_spatial_transforms_match_mxnet():
    f = fixture("spatial")
    (out,), (dx, dloc) = run(lambda a, b: nd.SpatialTransformer(a, b, target_shape=(4, 5), transform_type="affine",
                                                                sampler_type="bilinear"),
                             [f["x"], f["loc"]], f["dy"], [0, 1])
    close(out, f["st"])
    close(dx, f["st_dx"])
    close(dloc, f["st_dloc"], rtol=1e-4, atol=1e-4)
    (grid,), (dloc,) = run(lambda b: nd.GridGenerator(b, transform_type="affine", target_shape=(4, 5)), [f["loc"]],
                           f["dgrid"], [0])
    close(grid, f["affine"])
    close(dloc, f["affine_dloc"], rtol=1e-4, atol=1e-4)
    (grid,), (dflow,) = run(lambda b: nd.GridGenerator(b, transform_type="warp"), [f["flow"]], f["dgrid"], [0])
    close(grid, f["warp"])
    close(dflow, f["warp_dflow"])
    (out,), (dx, dgrid) = run(lambda a, g: nd.BilinearSampler(a, g), [f["x"], f["grid"]], f["dy"], [0, 1])
    close(out, f["bs"])
    close(dx, f["bs_dx"])
    close(dgrid, f["bs_dgrid"], rtol=1e-4, atol=1e-4)


def test_size_one_affine_grids_are_nan_as_in_mxnet():
    """MXNet 1.9.1 computes the target grid as -1 + k * 2 / (size - 1): 0 * inf along an axis of size 1."""
    grid = nd.GridGenerator(nd.array([[1, 0, 0, 0, 1, 0]]), transform_type="affine", target_shape=(1, 3)).asnumpy()
    assert np.isnan(grid).all()
    out = nd.SpatialTransformer(nd.ones((1, 1, 3, 3)), nd.array([[1, 0, 0, 0, 1, 0]]), target_shape=(1, 1),
                                transform_type="affine", sampler_type="bilinear").asnumpy()
    assert np.isnan(out).all()


@pytest.mark.parametrize("name", ["GroupNorm", "softmin", "MakeLoss", "make_loss", "SVMOutput", "ROIPooling",
                                  "SpatialTransformer", "GridGenerator", "BilinearSampler", "AdaptiveAvgPooling2D",
                                  "amp_multicast", "linspace"])
def test_outputs_arguments_and_json_match_mxnet(name):
    want = STRUCTURE[name]
    v = mx.sym.var
    make = {
        "GroupNorm": lambda: mx.sym.GroupNorm(v("d"), num_groups=2, output_mean_var=True),
        "softmin": lambda: mx.sym.softmin(v("d")), "MakeLoss": lambda: mx.sym.MakeLoss(v("d")),
        "make_loss": lambda: mx.sym.make_loss(v("d")), "SVMOutput": lambda: mx.sym.SVMOutput(v("d")),
        "ROIPooling": lambda: mx.sym.ROIPooling(v("d"), v("r"), pooled_size=(2, 3), spatial_scale=0.5),
        "SpatialTransformer": lambda: mx.sym.SpatialTransformer(v("d"), v("l"), target_shape=(3, 4),
                                                                transform_type="affine", sampler_type="bilinear"),
        "GridGenerator": lambda: mx.sym.GridGenerator(v("l"), transform_type="affine", target_shape=(3, 4)),
        "BilinearSampler": lambda: mx.sym.BilinearSampler(v("d"), v("g")),
        "AdaptiveAvgPooling2D": lambda: mx.sym.contrib.AdaptiveAvgPooling2D(v("d"), output_size=2),
        "amp_multicast": lambda: mx.sym.amp_multicast(v("a"), v("b"), num_outputs=2),
        "linspace": lambda: mx.sym.linspace(0, 1, 3),
    }[name]
    with mx.name.NameManager():            # the fixture made each op once: automatic names end in 0
        sym = make()
    graph = json.loads(sym.tojson())
    assert sym.list_outputs() == want["list_outputs"]
    assert sym.list_arguments() == want["list_arguments"]
    assert graph["node_row_ptr"] == want["node_row_ptr"]
    assert graph["nodes"][-1]["op"] == want["op"]
    assert graph["nodes"][-1].get("attrs", {}) == want["attrs"]


# ---- AMP dtype rules ----------------------------------------------------------------------------------------------
def test_amp_cast_and_multicast_dtypes_match_mxnet():
    for case in STRUCTURE["amp_cast_dtypes"]:
        got = nd.amp_cast(nd.array([1.5, 2], dtype=case["input"]), dtype=case["dtype"])
        assert np.dtype(got.dtype).name == case["output"], case
    for case in STRUCTURE["amp_multicast_dtypes"]:
        outs = nd.amp_multicast(*[nd.array([1.3, 2], dtype=d) for d in case["inputs"]],
                                num_outputs=len(case["inputs"]), cast_narrow=case["cast_narrow"])
        assert [np.dtype(o.dtype).name for o in outs] == case["outputs"], case


def test_amp_gradients_cast_back_to_the_input_dtypes():
    a = nd.array([1.3, 2], dtype="float16")
    b = nd.array([1.3, 2])
    a.attach_grad()
    b.attach_grad()
    with mx.autograd.record():
        ya, yb = nd.amp_multicast(a, b, num_outputs=2)
        z = ya * 2 + yb * 3
    z.backward()
    assert a.grad.dtype == np.float16 and b.grad.dtype == np.float32
    np.testing.assert_array_equal(a.grad.asnumpy(), [2, 2])
    np.testing.assert_array_equal(b.grad.asnumpy(), [3, 3])
    x = nd.array([1.3, 2])
    x.attach_grad()
    with mx.autograd.record():
        y = nd.amp_cast(x, dtype="float16")
    assert y.dtype == np.float16
    y.backward(nd.array([1, 2], dtype="float16"))
    np.testing.assert_array_equal(x.grad.asnumpy(), [1, 2])


def test_amp_multicast_needs_num_outputs_and_names_inputs_data_i():
    with pytest.raises(MXNetError, match="num_outputs"):
        nd.amp_multicast(nd.ones(2), nd.ones(2))
    assert mx.sym.amp_multicast(num_outputs=3, name="m").list_arguments() == ["m_data_0", "m_data_1", "m_data_2"]


# ---- sample_multinomial ------------------------------------------------------------------------------------------
def test_sample_multinomial_names_and_log_prob_gradient():
    assert nd.sample_multinomial is not None and mx.sym.sample_multinomial is not None
    assert mx.sym.sample_multinomial(mx.sym.var("d"), get_prob=True, name="s").list_outputs() == ["s_output0",
                                                                                                   "s_output1"]
    assert nd.sample_multinomial(nd.array([0.2, 0.8])).shape == (1,)
    mx.random.seed(3)
    probs = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]], np.float32)
    x = nd.array(probs)
    x.attach_grad()
    dy = np.arange(1, 9, dtype=np.float32).reshape(2, 4)
    with mx.autograd.record():
        samples, logp = nd.sample_multinomial(x, shape=(4,), get_prob=True)
    logp.backward(nd.array(dy))
    s = samples.asnumpy()
    np.testing.assert_allclose(logp.asnumpy(), np.log(np.take_along_axis(probs, s, axis=1)), rtol=1e-6)
    want = np.zeros_like(probs)                      # d log p[s] / d p = 1 / p[s], per draw
    for i, j in np.ndindex(*s.shape):
        want[i, s[i, j]] += dy[i, j] / probs[i, s[i, j]]
    np.testing.assert_allclose(x.grad.asnumpy(), want, rtol=1e-5)


# ---- errors the inference pass raises, and the Python wrappers --------------------------------------------------
def test_errors_name_the_op_and_input():
    a = nd.array([[1, 2], [3, 4], [5, 6]])
    with pytest.raises(MXNetError, match=r"batch_take.*indices.*float32.*int32"):
        nd.batch_take(a, nd.array([0, 1, 0]))
    with pytest.raises(MXNetError, match=r"_onehot_encode.*lhs"):
        nd.onehot_encode(nd.array([0, 2, 1]), nd.zeros((2, 4)))
    with pytest.raises(MXNetError, match=r"GroupNorm.*gamma"):
        mx.sym.GroupNorm(mx.sym.var("d"), num_groups=2, name="gn").infer_shape(d=(2, 4, 3), gn_gamma=(4,))
    with pytest.raises(MXNetError, match=r"broadcast_axis.*axis 1.*size 2"):
        nd.broadcast_axis(nd.ones((1, 2, 1)), axis=1, size=3)
    with pytest.raises(MXNetError, match=r"softmin.*use_length"):
        nd.softmin(nd.ones((2, 3)), use_length=True)


def test_batch_take_onehot_and_fill_element_edge_cases():
    a = nd.array([[1, 2], [3, 4], [5, 6]])
    idx = nd.array([0, -1, 5], dtype="int32")                 # out-of-range indices clip
    np.testing.assert_array_equal(nd.batch_take(a, idx).asnumpy(), [1, 3, 6])
    out = nd.ones((3, 4))
    assert nd.onehot_encode(nd.array([0, 2, 5]), out) is out   # writes `out`; an index out of range: a zero row
    np.testing.assert_array_equal(out.asnumpy(), [[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]])
    got = nd.fill_element_0index(nd.zeros((3, 4)), nd.array([1.5, 2, 3]), nd.array([0, 3.7, -1]))
    np.testing.assert_array_equal(got.asnumpy(), [[1.5, 0, 0, 0], [0, 0, 0, 2], [0, 0, 0, 0]])


def test_linspace_and_moveaxis_wrappers():
    assert nd.linspace(0, 1, 0).shape == (0,)
    np.testing.assert_allclose(nd.linspace(2.0, 3.0, 5, endpoint=False).asnumpy(), [2, 2.2, 2.4, 2.6, 2.8],
                               rtol=1e-6)
    assert mx.sym.linspace(0, 1, 3).list_attr() == {"start": "0", "stop": "1", "num": "3", "endpoint": "True",
                                                    "dtype": "float32"}
    x = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    for src, dst in ((0, 1), ([0, 1], [-1, -2]), (2, 0), ((0, 2), (2, 0))):
        np.testing.assert_array_equal(nd.moveaxis(nd.array(x), src, dst).asnumpy(), np.moveaxis(x, src, dst))
    with pytest.raises(ValueError):
        nd.moveaxis(nd.array(x), 3, 0)
    with pytest.raises(ValueError):
        nd.moveaxis(nd.array(x), [0, 1], [0])


def test_shape_and_size_arrays_are_int64_and_stop_gradients():
    x = nd.ones((2, 3, 4))
    x.attach_grad()
    with mx.autograd.record():
        y = nd.shape_array(x).astype("float32").sum() + (x * 2).sum() + nd.size_array(x).astype("float32")
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), np.full((2, 3, 4), 2.0))
    assert nd.shape_array(x).dtype == np.int64 and nd.size_array(x).asnumpy().tolist() == [24]


def test_fluent_methods_of_mxnet():
    x = nd.array([[1.0, 2.0]])
    assert x.broadcast_axes(axis=0, size=3).shape == (3, 2)
    assert x.shape_array().asnumpy().tolist() == [1, 2] and x.size_array().asnumpy().tolist() == [2]
    np.testing.assert_allclose(x.softmin().asnumpy(), nd.softmin(x).asnumpy())
    assert mx.sym.var("x").softmin(name="s").list_outputs() == ["s_output"]


def test_adaptive_pooling_in_a_hybridized_se_block():
    """GluonCV's SE blocks squeeze with F.contrib.AdaptiveAvgPooling2D(x, output_size=1) inside hybrid_forward."""
    from dataflow.gluon import nn

    class SqueezeExcite(nn.HybridBlock):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.fc = nn.Conv2D(4, 1)

        def hybrid_forward(self, F, x):
            return F.broadcast_mul(x, F.sigmoid(self.fc(F.contrib.AdaptiveAvgPooling2D(x, output_size=1))))

    x = nd.array(np.random.RandomState(0).uniform(size=(2, 4, 5, 5)))
    net = SqueezeExcite()
    net.initialize()
    eager = net(x).asnumpy()
    net.hybridize()
    with mx.autograd.record():
        y = net(x)
    y.backward()
    np.testing.assert_allclose(y.asnumpy(), eager, rtol=1e-5, atol=1e-6)
    squeeze = x.asnumpy().mean(axis=(2, 3), keepdims=True)
    w = net.fc.weight.data().asnumpy()[:, :, 0, 0]
    gate = 1 / (1 + np.exp(-(np.einsum("oc,ncij->noij", w, squeeze) + net.fc.bias.data().asnumpy()[None, :, None,
                                                                                                     None])))
    np.testing.assert_allclose(eager, x.asnumpy() * gate, rtol=1e-5, atol=1e-6)
    assert np.abs(net.fc.weight.grad().asnumpy()).sum() > 0


@pytest.mark.cuda
def test_vision_kernels_under_the_simulator():
    """tests/cuda_vision_cases.py (the vision backward ops' CUDA kernels against the CPU's) under numba's simulator,
    in a subprocess: numba.cuda reads NUMBA_ENABLE_CUDASIM at import."""
    pytest.importorskip("numba.cuda", reason="needs the cuda extra: pip install -e '.[cuda]'")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/cuda_vision_cases.py", "-q", "-p",
                           "no:cacheprovider", "-p", "no:warnings", "-x"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
