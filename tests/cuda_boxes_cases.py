"""box_nms's and MultiBoxDetection's CUDA kernels (ops/cuda/boxes.py) against their CPU kernels (ops/cpu/boxes.py).

box_nms, output for output and bit for bit: the kept rows, MXNet's stable order of equal scores, the -1 padding and
the hidden record output. Random boxes with many tied scores and overlaps, corner and center formats both ways, ids
with and without force_suppress, a background id, valid_thresh, topk, several leading indices (more than the
simulator's two blocks) and more rows than a block's threads, float16/32/64, req write and add; plus the edge cases
(every box but one suppressed, none valid, NaN scores and infinite boxes).

MultiBoxDetection: random class probabilities (ties, NaN), offsets and anchors, clip, nms_topk (with MXNet's
leftover rows), force_suppress, several images. The decoded boxes take an exp, which the GPU's libdevice and
numpy's float32 exp may round differently (an ulp), so its scores and boxes are compared within float tolerance,
while the classes (the NMS decisions, -1 when suppressed) must be equal. tests/cuda_cases.py compares the spec
rows' samples too.

Not collected by a plain `pytest` run: numba.cuda must be imported in simulator mode first.
tests/test_cuda_sim.py runs this file in a subprocess with NUMBA_ENABLE_CUDASIM=1.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops import cuda as ops_cuda
from ops import registry
from ops.registry import ADD, WRITE, OpContext
from tests.cuda_cases import run_gpu

pytestmark = pytest.mark.cuda

KINDS = ops_cuda.register()
NMS = registry.get("_contrib_box_nms")
DETECTION = registry.get("_contrib_MultiBoxDetection")


def _compare(attrs, data, req=WRITE, rng=None):
    """The CUDA kernel's two outputs equal the CPU kernel's exactly; returns the CPU's (output, record)."""
    p = NMS.parse_params(attrs)
    shapes = [data.shape, data.shape[:-1]]
    rng = rng or np.random.default_rng(0)
    init = [rng.uniform(-2, 2, s).astype(data.dtype) if req == ADD else np.zeros(s, data.dtype) for s in shapes]
    want = [o.copy() for o in init]
    NMS.cpu(OpContext(), p, [data.copy()], want, [req, req])
    got, _ = run_gpu(NMS, p, [data], init, [req, req], False)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape, (k, g.dtype, w.dtype, g.shape, w.shape)
        np.testing.assert_array_equal(g, w, err_msg="output %d of %s, req %s" % (k, attrs, req))
    return want


@pytest.mark.parametrize("name", ["_contrib_box_nms", "_contrib_MultiBoxDetection"])
def test_runs_a_cuda_kernel(name):
    assert KINDS[name] == "cuda"
    assert name not in ops_cuda.without_cuda_kernel()


def _data(draw, lead, n, width, coord_start, score_index, id_column, center):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    data = np.zeros(lead + (n, width))
    xy = rng.uniform(0, 4, lead + (n, 2))
    size = rng.choice([0.0, 0.5, 1.0, 2.0, 1.3], lead + (n, 2)) * rng.uniform(0.9, 1.1, lead + (n, 2))
    if center:
        boxes = np.concatenate([xy, size], axis=-1)
    else:
        boxes = np.concatenate([xy, xy + size * rng.choice([1, 1, 1, -1], lead + (n, 2))], axis=-1)
    data[..., coord_start:coord_start + 4] = boxes
    data[..., score_index] = rng.choice([-0.5, 0.1, 0.25, 0.5, 0.5, 0.9], lead + (n,))      # ties and invalid rows
    data[..., id_column] = rng.integers(0, 3, lead + (n,))
    other = [c for c in range(width) if c not in (score_index, id_column) and not coord_start <= c < coord_start + 4]
    data[..., other] = rng.standard_normal(lead + (n, len(other)))
    return data


@settings(max_examples=12, derandomize=True, database=None, deadline=None)
@given(data=st.data())
def test_box_nms_matches_cpu(data):
    draw = data.draw
    lead = draw(st.sampled_from([(), (1,), (3,), (2, 2)]))
    n = draw(st.integers(1, 11))
    width, coord_start, score_index, id_column = draw(st.sampled_from([(6, 2, 1, 0), (7, 3, 0, 1), (5, 1, 0, 0)]))
    center = draw(st.booleans())
    attrs = {"overlap_thresh": draw(st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.7])),
             "in_format": "center" if center else "corner", "out_format": draw(st.sampled_from(["center", "corner"])),
             "coord_start": coord_start, "score_index": score_index,
             "valid_thresh": draw(st.sampled_from([0.0, 0.2, 0.5])), "topk": draw(st.sampled_from([-1, 1, 3, 20]))}
    if draw(st.booleans()):
        attrs.update(id_index=id_column, force_suppress=draw(st.booleans()),
                     background_id=draw(st.sampled_from([-1, 0, 2])))
    dtype = draw(st.sampled_from(["float32", "float64", "float16"]))
    req = draw(st.sampled_from([WRITE, ADD]))
    _compare(attrs, _data(draw, lead, n, width, coord_start, score_index, id_column, center).astype(dtype), req)


@pytest.mark.parametrize("force_suppress", [False, True])
def test_box_nms_ids_with_and_without_force_suppress(force_suppress):
    """Equal boxes of two classes: by class, one of each survives; forced, only the best."""
    rows = [[0, 0.9, 0, 0, 1, 1], [1, 0.8, 0, 0, 1, 1], [0, 0.7, 0, 0, 1, 1], [1, 0.9, 0, 0, 1, 1]]
    out, record = _compare({"id_index": 0, "force_suppress": force_suppress}, np.array(rows, np.float32))
    assert list(record) == ([0, -1, -1, -1] if force_suppress else [0, 3, -1, -1])


def test_box_nms_ties_keep_the_input_order():
    rows = [[0, 0.5, i, 0, i + 1, 1] for i in range(9)]               # disjoint boxes, one score
    _, record = _compare({}, np.array(rows, np.float32)[None].repeat(3, axis=0))
    np.testing.assert_array_equal(record, np.arange(27).reshape(3, 9))


def test_box_nms_all_suppressed_but_one_and_none_valid():
    same = np.array([[0, s, 1, 1, 2, 2] for s in (0.3, 0.6, 0.6, 0.1, 0.9)], np.float64)
    out, record = _compare({"overlap_thresh": 0.5}, same)
    assert list(record) == [4, -1, -1, -1, -1] and (out[1:] == -1).all()
    out, record = _compare({"valid_thresh": 1.0}, same)
    assert (record == -1).all() and (out == -1).all()


def test_box_nms_center_in_corner_out_and_back():
    rows = np.array([[0, 0.9, 1.0, 1.0, 2.0, 2.0], [0, 0.8, 3.0, 3.0, 1.0, 1.0], [0, 0.7, 1.2, 1.0, 2.0, 2.0]])
    out, _ = _compare({"in_format": "center", "out_format": "corner"}, rows.astype(np.float32))
    np.testing.assert_allclose(out[0, 2:], [0, 0, 2, 2])
    _compare({"in_format": "corner", "out_format": "center"}, out[:2])


def test_box_nms_more_rows_than_threads_and_items_than_blocks():
    rng = np.random.default_rng(5)
    data = np.zeros((5, 23, 6), np.float32)
    data[..., 0] = rng.integers(0, 2, (5, 23))
    data[..., 1] = rng.choice([0.2, 0.4, 0.6], (5, 23))
    xy = rng.uniform(0, 3, (5, 23, 2))
    data[..., 2:4], data[..., 4:6] = xy, xy + rng.uniform(0.5, 2, (5, 23, 2))
    _compare({"id_index": 0, "topk": 15, "overlap_thresh": 0.3}, data)


def test_box_nms_nan_scores_and_infinite_boxes():
    rows = np.array([[0, np.nan, 0, 0, 1, 1], [0, 0.9, 0, 0, np.inf, 1], [0, 0.8, 0, 0, 1, 1],
                     [0, np.inf, -np.inf, 0, 1, 1], [0, 0.7, 0, 0, np.nan, 1], [0, 0.6, 0.5, 0, 1, 1]], np.float32)
    for fmt in ("corner", "center"):
        _compare({"in_format": fmt, "out_format": "corner", "overlap_thresh": 0.2}, rows)


# ---- MultiBoxDetection -------------------------------------------------------------------------------------------
def _compare_detection(attrs, cls, loc, anchors, req=WRITE):
    p = DETECTION.parse_params(attrs)
    shape = (cls.shape[0], cls.shape[2], 6)
    init = np.random.default_rng(3).uniform(-2, 2, shape).astype(cls.dtype) if req == ADD else np.zeros(shape,
                                                                                                       cls.dtype)
    want = init.copy()
    with np.errstate(all="ignore"):
        DETECTION.cpu(OpContext(), p, [cls.copy(), loc.copy(), anchors.copy()], [want], [req])
    (got,), _ = run_gpu(DETECTION, p, [cls, loc, anchors], [init], [req], False)
    assert got.dtype == want.dtype and got.shape == want.shape
    what = "MultiBoxDetection %s, req %s" % (attrs, req)
    np.testing.assert_array_equal(got[..., 0], want[..., 0], err_msg=what)        # classes: the NMS decisions
    tol = 2e-3 if cls.dtype == np.float16 else 1e-5
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol, atol=tol, equal_nan=True,
                               err_msg=what)
    return want


@settings(max_examples=12, derandomize=True, database=None, deadline=None)
@given(data=st.data())
def test_multibox_detection_matches_cpu(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    b, c, n = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 11))
    cls = rng.choice([0.0, 0.1, 0.3, 0.3, 0.6, 0.9], (b, c, n))
    if draw(st.booleans()):
        cls[rng.random((b, c, n)) < 0.1] = np.nan
    loc = rng.uniform(-1, 1, (b, n * 4)) * rng.choice([0, 1], (b, n * 4))
    xy = rng.uniform(0, 0.8, (n, 2))
    anchors = np.concatenate([xy, xy + rng.uniform(0.05, 0.5, (n, 2))], axis=-1)[None]
    attrs = {"clip": draw(st.booleans()), "threshold": draw(st.sampled_from([0.01, 0.3, 0.5])),
             "nms_threshold": draw(st.sampled_from([0.0, 0.2, 0.5, 0.8])), "force_suppress": draw(st.booleans()),
             "nms_topk": draw(st.sampled_from([-1, 1, 3, 50])),
             "variances": draw(st.sampled_from([(0.1, 0.1, 0.2, 0.2), (0.5, 0.5, 0.25, 0.25)]))}
    dtype = draw(st.sampled_from(["float32", "float64", "float16"]))
    _compare_detection(attrs, cls.astype(dtype), loc.astype(dtype), anchors.astype(dtype),
                       draw(st.sampled_from([WRITE, ADD])))


def test_multibox_detection_topk_leftovers_and_suppression():
    """Equal anchors, scores 0.2 .. 0.9 in anchor order reversed: nms_topk 2 keeps the two best (the second
    suppressed, class -1); the other valid anchors follow in anchor order from the 2nd on, class -1."""
    n = 6
    cls = np.zeros((1, 2, n), np.float32)
    cls[0, 1] = [0.9, 0.2, 0.8, 0.05, 0.5, 0.6]
    anchors = np.tile(np.array([0.1, 0.1, 0.5, 0.5], np.float32), (1, n, 1))
    out = _compare_detection({"nms_topk": 2, "threshold": 0.1}, cls, np.zeros((1, 4 * n), np.float32), anchors)
    np.testing.assert_array_equal(out[0, :, 0], [0, -1, -1, -1, -1, -1])
    np.testing.assert_allclose(out[0, :5, 1], [0.9, 0.8, 0.8, 0.5, 0.6])
    assert (out[0, 5] == -1).all()


def test_multibox_detection_only_a_background_class():
    _compare_detection({}, np.ones((2, 1, 3), np.float32), np.zeros((2, 12), np.float32),
                       np.tile(np.array([0, 0, 1, 1], np.float32), (1, 3, 1)))


def test_multibox_detection_suppresses_at_an_iou_equal_to_the_threshold():
    """MultiBoxDetection suppresses at IoU >= nms_threshold (box_nms: >): IoU 0.5 exactly, and disjoint boxes at 0."""
    cls = np.array([[[0.1, 0.1, 0.1], [0.9, 0.8, 0.7]]], np.float32)
    anchors = np.array([[[0, 0, 0.5, 0.25], [0, 0, 0.25, 0.25], [0.75, 0.75, 1, 1]]], np.float32)
    loc = np.zeros((1, 12), np.float32)
    out = _compare_detection({"nms_threshold": 0.5}, cls, loc, anchors)
    np.testing.assert_array_equal(out[0, :, 0], [0, -1, 0])
    out = _compare_detection({"nms_threshold": 0.0}, cls, loc, anchors)
    np.testing.assert_array_equal(out[0, :, 0], [0, -1, -1])
