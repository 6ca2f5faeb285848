"""The box operators (ops/boxes.py) against MXNet 1.9.1's own numbers (tests/fixtures/mxnet-1.9.1/boxes/, written
by reference/boxes_fixtures.py), and what the spec rows in tests/specs_boxes.py cannot say: the front ends
(mx.nd.contrib, mx.sym.contrib, Gluon's F.contrib), box_nms's gradient as MXNet computes it, hidden outputs and
output names, and the errors bad input gets.

Fixture cases cover ties in scores, rows of -1 padding, boxes outside [0, 1], everything filtered or suppressed,
IoU exactly at the threshold, topk, id_index with force_suppress both ways, background_id, center formats, other row
layouts, float16/float64, MultiBoxDetection's leftover rows after nms_topk, and Proposal's cyclic repetition.
"""
import json
import os

import numpy as np
import pytest

import dataflow as mx
from ops import registry
from ops.errors import MXNetError
from tests import reference_boxes as R
from tests.paths import FIXTURES

BOXES = os.path.join(FIXTURES, "boxes")
with open(os.path.join(BOXES, "cases.json")) as _fh:
    CASES = json.load(_fh)
ARRAYS = dict(np.load(os.path.join(BOXES, "cases.npz")))


def _inputs(case):
    return [ARRAYS["%s_in%d" % (case["key"], i)] for i in range(case["inputs"])]


def _outputs(case):
    return [ARRAYS["%s_out%d" % (case["key"], i)] for i in range(case["outputs"])]


def _attrs(case):
    return {k: tuple(v) if isinstance(v, list) else v for k, v in case["attrs"].items()}


def _close(got, want, dtype):
    """MXNet's numbers: the selection and order exactly, values to float32 rounding (exp and the order of float
    operations differ in the last bits)."""
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape, got.dtype, want.dtype)
    tol = 2e-3 if dtype == np.float16 else 1e-5
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol, atol=tol)


@pytest.mark.parametrize("case", CASES, ids=["%s-%s" % (c["key"], c["op"]) for c in CASES])
def test_imperative_matches_mxnet(case):
    ins = [mx.nd.array(x, dtype=x.dtype) for x in _inputs(case)]
    out = getattr(mx.nd.contrib, case["op"])(*ins, **_attrs(case))
    outs = out if isinstance(out, (list, tuple)) else [out]
    assert len(outs) == case["outputs"]
    for got, want in zip(outs, _outputs(case), strict=True):
        _close(got.asnumpy(), want, ins[0].dtype)


REFERENCES = {"box_nms": R.box_nms, "box_iou": R.box_iou, "box_encode": R.box_encode, "box_decode": R.box_decode,
              "bipartite_matching": R.bipartite_matching, "MultiBoxDetection": R.multibox_detection,
              "Proposal": R.proposal, "MultiProposal": R.proposal}


@pytest.mark.parametrize("case", CASES, ids=["%s-%s" % (c["key"], c["op"]) for c in CASES])
def test_references_match_mxnet(case):
    """The spec table's references (tests/reference_boxes.py) are MXNet's semantics too."""
    p = registry.get("_contrib_" + case["op"]).parse_params(case["attrs"])
    got = REFERENCES[case["op"]](p, *_inputs(case))
    got = got if isinstance(got, tuple) else (got,)
    for g, want in zip(got, _outputs(case)):
        _close(g, want, want.dtype)


@pytest.mark.parametrize("case", [c for c in CASES if c["op"] in ("box_nms", "MultiBoxDetection", "MultiProposal")],
                         ids=lambda c: "%s-%s" % (c["key"], c["op"]))
def test_symbolic_matches_mxnet(case):
    arrays = _inputs(case)
    names = ["in%d" % i for i in range(len(arrays))]
    sym = getattr(mx.sym.contrib, case["op"])(*[mx.sym.var(n) for n in names], **_attrs(case))
    exe = sym.bind(mx.cpu(), {n: mx.nd.array(x, dtype=x.dtype) for n, x in zip(names, arrays)})
    outs = exe.forward()
    for got, want in zip(outs, _outputs(case), strict=True):
        _close(got.asnumpy(), want, arrays[0].dtype)


@pytest.mark.parametrize("case", [c for c in CASES if c["grad"]], ids=lambda c: c["key"])
def test_box_nms_gradient_matches_mxnet(case):
    """_backward_contrib_box_nms: each output row's gradient goes to the input row it came from, unconverted."""
    data = _inputs(case)[0]
    x = mx.nd.array(data, dtype=data.dtype)
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.box_nms(x, **_attrs(case))
    y.backward(mx.nd.array(ARRAYS[case["key"] + "_dy"], dtype=data.dtype))
    np.testing.assert_array_equal(x.grad.asnumpy(), ARRAYS[case["key"] + "_dx"])


def test_box_nms_gradient_through_an_executor():
    case = next(c for c in CASES if c["grad"] and "id_index" in c["attrs"])
    data = _inputs(case)[0]
    sym = mx.sym.contrib.box_nms(mx.sym.var("data"), **_attrs(case))
    grad = mx.nd.zeros(data.shape)
    exe = sym.bind(mx.cpu(), {"data": mx.nd.array(data)}, args_grad={"data": grad})
    exe.forward(is_train=True)
    exe.backward(mx.nd.array(ARRAYS[case["key"] + "_dy"]))
    np.testing.assert_array_equal(grad.asnumpy(), ARRAYS[case["key"] + "_dx"])


def test_box_nms_gradient_is_the_derivative_for_separated_boxes():
    """Where no decision is near a tie and the format is kept, MXNet's scatter is the true derivative: compare with
    central differences of sum(w * box_nms(x))."""
    rng = np.random.RandomState(0)
    data = np.array([[0, 0.9, 0.0, 0.0, 1.0, 1.0], [0, 0.8, 0.1, 0.1, 1.1, 1.1], [1, 0.7, 2.0, 2.0, 3.0, 3.0],
                     [0, 0.05, 5.0, 5.0, 6.0, 6.0], [0, 0.6, 4.0, 4.0, 4.5, 4.5]])
    weights = rng.uniform(-1, 1, data.shape)
    attrs = dict(overlap_thresh=0.5, valid_thresh=0.1, id_index=0)

    def f(d):
        return float((mx.nd.contrib.box_nms(mx.nd.array(d, dtype=np.float64), **attrs).asnumpy() * weights).sum())
    x = mx.nd.array(data, dtype=np.float64)
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.box_nms(x, **attrs)
    y.backward(mx.nd.array(weights, dtype=np.float64))
    numeric = np.zeros(data.shape)
    for index in np.ndindex(data.shape):
        if index[1] == 0:       # class ids are compared for equality: a step there changes the classes
            continue
        step = np.zeros(data.shape)
        step[index] = 1e-6
        numeric[index] = (f(data + step) - f(data - step)) / 2e-6
    np.testing.assert_allclose(x.grad.asnumpy()[:, 1:], numeric[:, 1:], atol=1e-6)
    assert np.count_nonzero(numeric.any(axis=1)) == 3      # rows 1 (suppressed) and 3 (invalid) get nothing


def test_zero_gradients_as_mxnet():
    """box_iou, box_encode/decode, bipartite_matching, MultiBoxDetection and Proposal pass no gradient."""
    case = next(c for c in CASES if c["op"] == "MultiBoxDetection")
    ins = [mx.nd.array(x) for x in _inputs(case)]
    for x in ins:
        x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.MultiBoxDetection(*ins) + mx.nd.contrib.box_iou(ins[2], ins[2]).sum()
    y.backward()
    for x in ins:
        assert not x.grad.asnumpy().any()


def test_output_names_and_hidden_outputs():
    d = mx.sym.var("d")
    assert mx.sym.contrib.box_nms(d, name="nms").list_outputs() == ["nms_output0"]
    assert mx.sym.contrib.box_non_maximum_suppression(d, name="nms").list_outputs() == ["nms_output0"]
    args = [mx.sym.var(n) for n in ("cls", "bbox", "info")]
    assert mx.sym.contrib.Proposal(*args, name="p").list_outputs() == ["p_output"]
    assert mx.sym.contrib.Proposal(*args, output_score=True, name="p").list_outputs() == ["p_output", "p_score"]
    assert mx.sym.contrib.MultiBoxDetection(*args, name="det").list_outputs() == ["det_output"]
    assert mx.sym.contrib.bipartite_matching(d, threshold=0.1, name="m").list_outputs() == ["m_output0", "m_output1"]
    # MXNet's JSON counts box_nms's hidden record output: two rows for the node
    graph = json.loads(mx.sym.contrib.box_nms(d).tojson())
    assert graph["nodes"][1]["op"] == "_contrib_box_nms" and graph["node_row_ptr"] == [0, 1, 3]
    _, outs, _ = mx.sym.contrib.box_nms(d).infer_shape(d=(2, 3, 7, 6))
    assert outs == [(2, 3, 7, 6)]


@pytest.mark.parametrize("key", sorted(k[:-len("_record")] for k in ARRAYS if k.endswith("_record")))
def test_hidden_record_output_matches_mxnet(key):
    """MXNet's graph reading box_nms's hidden output (a _copy of entry [nms, 1]): each kept row's input row counted
    over all leading indices, -1 for padding."""
    sym = mx.sym.load_json(ARRAYS[key + "_graph"].tobytes().decode())
    data = ARRAYS[key + "_data"]
    exe = sym.bind(mx.cpu(), {"data": mx.nd.array(data, dtype=data.dtype)})
    np.testing.assert_array_equal(exe.forward()[1].asnumpy(), ARRAYS[key + "_record"])


def test_hybridized_block_matches_imperative(tmp_path):
    case = next(c for c in CASES if c["op"] == "box_nms" and "id_index" in c["attrs"])
    data = _inputs(case)[0]

    class Post(mx.gluon.HybridBlock):
        def hybrid_forward(self, F, x):
            kept = F.contrib.box_nms(x, **_attrs(case))
            return kept, F.contrib.box_iou(F.slice_axis(kept, axis=-1, begin=2, end=6),
                                           F.slice_axis(x, axis=-1, begin=2, end=6))
    block = Post()
    eager = [y.asnumpy() for y in block(mx.nd.array(data))]
    block.hybridize()
    hybrid = [y.asnumpy() for y in block(mx.nd.array(data))]
    block.export(str(tmp_path / "post"))
    imported = mx.gluon.SymbolBlock.imports(str(tmp_path / "post-symbol.json"), ["data"])
    reloaded = [y.asnumpy() for y in imported(mx.nd.array(data))]
    _close(eager[0], _outputs(case)[0], np.float32)
    for a, b, c in zip(eager, hybrid, reloaded, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("call, match", [
    (lambda: mx.nd.contrib.box_nms(mx.nd.zeros((1, 3, 5))), r"_contrib_box_nms.*coord_start=2 \.\. 5.*data \[1,3,5\]"),
    (lambda: mx.nd.contrib.box_nms(mx.nd.zeros((1, 3, 6)), score_index=6), r"_contrib_box_nms.*score_index=6.*data"),
    (lambda: mx.nd.contrib.box_nms(mx.nd.zeros((1, 3, 6)), score_index=-2), r"score_index=-2"),
    (lambda: mx.nd.contrib.box_iou(mx.nd.zeros((2, 3)), mx.nd.zeros((2, 4))), r"_contrib_box_iou.*lhs \[2,3\]"),
    (lambda: mx.nd.contrib.box_decode(mx.nd.zeros((2, 5, 4)), mx.nd.zeros((2, 5, 4))), r"box_decode.*anchors"),
    (lambda: mx.nd.contrib.box_encode(mx.nd.ones((1, 2)), mx.nd.array([[0, 3]]), mx.nd.ones((1, 2, 4)),
                                      mx.nd.ones((1, 2, 4)), mx.nd.zeros(4), mx.nd.ones(4))[0].asnumpy(),
     r"box_encode.*matches\[0, 1\]"),
    (lambda: mx.nd.contrib.MultiBoxDetection(mx.nd.zeros((1, 3, 4)), mx.nd.zeros((1, 12)), mx.nd.zeros((1, 4, 4))),
     r"MultiBoxDetection.*loc_pred \[1,12\]"),
    (lambda: mx.nd.contrib.Proposal(mx.nd.zeros((1, 6, 2, 2)), mx.nd.zeros((1, 12, 2, 2)), mx.nd.zeros((1, 3))),
     r"_contrib_Proposal.*cls_prob \[1,6,2,2\].*2 x 12"),
    (lambda: mx.nd.contrib.box_nms(mx.nd.zeros((1, 3, 6), dtype="int32")), r"_contrib_box_nms.*int32"),
])
def test_bad_input_is_a_clear_error(call, match):
    with pytest.raises(MXNetError, match=match):
        call()
        mx.nd.waitall()
