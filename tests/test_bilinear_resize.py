"""`_contrib_BilinearResize2D` (ops/resize.py) against MXNet 1.9.1: the output size of every mode, values and
gradients with and without align_corners (an output side of 1, down- and upscaling, scales, `like`).

Truth: tests/fixtures/mxnet-1.9.1/contrib_nlp/ (reference/contrib_nlp_fixtures.py, README there). The kernel
against a numpy reference and numeric gradients: tests/specs_resize.py. The models it serves (GluonCV's FCN,
PSPNet, DeepLab): tests/test_gluon_models_contrib.py.
"""
import json
import os

import numpy as np
import pytest

import dataflow as mx
from ops.errors import MXNetError
from tests.paths import FIXTURES

HERE = os.path.join(FIXTURES, "contrib_nlp")
OPS = np.load(os.path.join(HERE, "ops.npz"))
with open(os.path.join(HERE, "ops.json")) as _f:
    META = json.load(_f)["cases"]


@pytest.mark.parametrize("case", sorted(META["bilinear_resize_sizes"]))
def test_output_size_of_each_mode_is_mxnets(case):
    height, width, mode, scale_h, scale_w = case.split(",")
    kwargs = {"mode": mode, "height": 3, "width": 4}
    if scale_h != "None":
        kwargs.update(scale_height=float(scale_h), scale_width=float(scale_w))
    want = META["bilinear_resize_sizes"][case]
    x = mx.nd.ones((1, 1, int(height), int(width)))
    if want == "error" or 0 in want:        # MXNet's error, or its empty output (refused here, see ops/resize.py)
        with pytest.raises(MXNetError, match="BilinearResize2D"):
            mx.nd.contrib.BilinearResize2D(x, **kwargs)
    else:
        assert list(mx.nd.contrib.BilinearResize2D(x, **kwargs).shape) == want


def _recorded(key, kwargs):
    n = len([k for k in OPS.files if k.startswith(key + "/in")])
    xs = [mx.nd.array(OPS["%s/in%d" % (key, k)], dtype=OPS["%s/in%d" % (key, k)].dtype) for k in range(n)]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record():
        out = mx.nd.contrib.BilinearResize2D(*xs, **kwargs)
    out.backward(mx.nd.array(OPS[key + "/dy"], dtype=OPS[key + "/dy"].dtype))
    for got, name in [(out, "out")] + [(x.grad, "grad%d" % k) for k, x in enumerate(xs)]:
        want = OPS["%s/%s" % (key, name)]
        assert got.dtype == want.dtype and got.shape == want.shape, (name, got.dtype, want.dtype)
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("align", [True, False])
@pytest.mark.parametrize("case", sorted(META["bilinear_resize"]))
def test_values_and_gradient_are_mxnets(case, align):
    _recorded("bilinear_resize/%s/%s" % (case, align), dict(META["bilinear_resize"][case], align_corners=align))


def test_like_mode_in_float64_is_mxnets_and_like_gets_no_gradient():
    _recorded("bilinear_resize/like_float64", {"mode": "like", "align_corners": False})


def test_bilinear_resize_in_a_hybridized_block():
    class Up(mx.gluon.HybridBlock):
        def hybrid_forward(self, F, x, like):
            return F.contrib.BilinearResize2D(x, like, mode="like", align_corners=False) * 2

    key = "bilinear_resize/like_float64"
    x, like = (mx.nd.array(OPS["%s/in%d" % (key, k)], dtype="float64") for k in range(2))
    block = Up()
    block.hybridize()
    # MXNet's float64 results carry float32-precision weights: they agree to ~1e-6, not to float64's precision
    np.testing.assert_allclose(block(x, like).asnumpy(), 2 * OPS[key + "/out"], rtol=1e-5, atol=1e-6)


def test_integer_data_is_refused_as_in_mxnet():
    with pytest.raises(MXNetError, match="BilinearResize2D.*floating point"):
        mx.nd.contrib.BilinearResize2D(mx.nd.ones((1, 1, 3, 3), dtype="int32"), height=5, width=5)
