"""GluonCV 0.10.5's detection models that run on the box ops of issue 18 (`ssd_512_mobilenet1.0_voc`,
`faster_rcnn_resnet50_v1b_voc`), through `install_as_mxnet()`, against MXNet 1.9.1: the same recipe parameters
(tests/param_recipe.py) and inputs give MXNet's class ids, scores and boxes imperative, hybridized, and after
export -> SymbolBlock.imports, at rtol 1e-3 (post-processing: the order of equal scores must be MXNet's, which the
class ids compared exactly check).

Truth: tests/fixtures/mxnet-1.9.1/gluon_detection_models/ (reference/gluon_detection_models_fixtures.py, README
there). Skipped when gluoncv is not installed (tests/install_mxnet_libs.sh installs it).
"""
import importlib.util
import json
import os

import numpy as np
import pytest

import dataflow
from tests.paths import FIXTURES, load_reference

mx = dataflow.install_as_mxnet()
REF = load_reference("gluon_detection_models_fixtures")
HERE = os.path.join(FIXTURES, "gluon_detection_models")
EXPECTED = np.load(os.path.join(HERE, "outputs.npz"))
with open(os.path.join(HERE, "models.json")) as _f:
    INFO = json.load(_f)["models"]

pytestmark = pytest.mark.skipif(importlib.util.find_spec("gluoncv") is None,
                                reason="gluoncv is not installed (tests/install_mxnet_libs.sh)")


def _assert_mxnets(name, outs, how):
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    assert [list(o.shape) for o in outs] == INFO[name]["outputs"], how
    ids, scores, boxes = (o.asnumpy() for o in outs)
    want_ids, want_scores, want_boxes = (EXPECTED["%s/out%d" % (name, k)] for k in range(3))
    np.testing.assert_array_equal(ids, want_ids, err_msg="%s %s: class ids (and so the order)" % (name, how))
    np.testing.assert_allclose(scores, want_scores, rtol=1e-3, atol=1e-5, err_msg="%s %s: scores" % (name, how))
    scale = max(1.0, float(np.abs(want_boxes).max()))
    np.testing.assert_allclose(boxes, want_boxes, rtol=1e-3, atol=1e-3 * scale, err_msg="%s %s: boxes" % (name, how))


@pytest.mark.parametrize("name", sorted(REF.SIZES))
def test_gluoncv_detection_model_is_mxnets(name, tmp_path, monkeypatch):
    if not hasattr(np, "float"):
        # GluonCV 0.10.5's RPN anchors use np.float, gone since numpy 1.24 (MXNet's oracle has numpy 1.23)
        monkeypatch.setattr(np, "float", float, raising=False)
    net = REF.build(mx, name)
    assert net.prefix == INFO[name]["prefix"]
    assert len(net.collect_params().keys()) == INFO[name]["num_params"]
    xs = REF.inputs(mx, name)
    _assert_mxnets(name, net(*xs), "imperative")
    net.hybridize()
    _assert_mxnets(name, net(*xs), "hybridized")
    prefix = str(tmp_path / "exported")
    net.export(prefix)
    imported = mx.gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data"], prefix + "-0000.params")
    _assert_mxnets(name, imported(*xs), "exported and imported")
