"""Record MXNet 1.9.1's box operators for tests/test_boxes.py (run with the oracle's python).

    MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/boxes_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/boxes/cases.npz and cases.json (see the README there): for each case the op, its
attrs, its inputs and MXNet's visible outputs; box_nms cases with `grad` also hold an output gradient and the data
gradient MXNet's `_backward_contrib_box_nms` gives for it; `record<k>` entries hold box_nms's hidden output, read
through a graph of MXNet's.
"""
import json
import os

import numpy as np

import mxnet as mx
from mxnet import nd

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "boxes")
rng = np.random.RandomState(20261206)

arrays, meta = {}, []


def record(op, attrs, inputs, grad=False):
    key = "c%03d" % len(meta)
    xs = [nd.array(x, dtype=x.dtype) for x in inputs]
    if grad:
        xs[0].attach_grad()
        with mx.autograd.record():
            out = getattr(nd.contrib, op)(*xs, **attrs)
        dy = rng.uniform(-1, 1, out.shape).astype(inputs[0].dtype)
        out.backward(nd.array(dy, dtype=dy.dtype))
        arrays[key + "_dy"] = dy
        arrays[key + "_dx"] = xs[0].grad.asnumpy()
    else:
        out = getattr(nd.contrib, op)(*xs, **attrs)
    outs = out if isinstance(out, (list, tuple)) else [out]
    for i, x in enumerate(inputs):
        arrays["%s_in%d" % (key, i)] = x
    for i, y in enumerate(outs):
        arrays["%s_out%d" % (key, i)] = y.asnumpy()
    meta.append({"key": key, "op": op, "attrs": attrs, "inputs": len(inputs), "outputs": len(outs), "grad": grad})


def random_boxes(shape, lo=-0.2, hi=1.2, step=0.05):
    """Corner boxes (x1 <= x2, y1 <= y2) on a grid of `step`: coordinates outside [0, 1] included."""
    a = np.round(rng.uniform(lo, hi, shape + (2, 2)) / step) * step
    a.sort(axis=-2)
    return np.concatenate([a[..., 0, :], a[..., 1, :]], axis=-1)


# ---- box_nms ------------------------------------------------------------------------------------------------------
def nms_data(lead, n, width=6, ids=3, coord_start=2, score_index=1, id_index=0, dtype="float32"):
    """Rows [id, score, x1, y1, x2, y2] (or the layout given): scores on a 0.1 grid (ties), some negative (invalid),
    a few whole -1 padding rows."""
    d = np.zeros(lead + (n, width))
    d[..., coord_start:coord_start + 4] = random_boxes(lead + (n,), 0, 1, 0.1)
    d[..., score_index] = np.round(rng.uniform(-0.2, 1.0, lead + (n,)), 1)
    if id_index >= 0:
        d[..., id_index] = rng.randint(0, ids, lead + (n,))
    pad = rng.uniform(size=lead + (n,)) < 0.15
    d[pad] = -1
    return d.astype(dtype)


base = nms_data((2,), 12)
record("box_nms", {}, [base], grad=True)
record("box_nms", {"overlap_thresh": 0.3}, [base])
record("box_nms", {"overlap_thresh": 0.3, "valid_thresh": 0.35}, [base])
record("box_nms", {"overlap_thresh": 0.4, "topk": 3}, [base], grad=True)
record("box_nms", {"overlap_thresh": 0.3, "id_index": 0}, [base], grad=True)
record("box_nms", {"overlap_thresh": 0.3, "id_index": 0, "force_suppress": True}, [base])
record("box_nms", {"overlap_thresh": 0.3, "id_index": 0, "background_id": 0}, [base], grad=True)
record("box_nms", {"overlap_thresh": 0.3, "id_index": 0, "background_id": 1, "topk": 4}, [base])
record("box_nms", {"overlap_thresh": 0.5, "out_format": "center"}, [base])
record("box_nms", {"valid_thresh": 1.0}, [base], grad=True)                     # everything filtered
record("box_nms", {"overlap_thresh": 0.0}, [base])                              # any overlap suppresses
center = nms_data((3,), 10)
record("box_nms", {"overlap_thresh": 0.3, "in_format": "center"}, [center])
record("box_nms", {"overlap_thresh": 0.3, "in_format": "center", "out_format": "center"}, [center])
# another layout: [score, id, pad, x1, y1, x2, y2], two leading dims, float64
layout = nms_data((2, 2), 9, width=7, coord_start=3, score_index=0, id_index=1, dtype="float64")
record("box_nms", {"overlap_thresh": 0.25, "coord_start": 3, "score_index": 0, "id_index": 1}, [layout], grad=True)
record("box_nms", {"overlap_thresh": 0.25, "coord_start": 3, "score_index": 0}, [layout])
# equal scores everywhere: the order of ties
ties = nms_data((1,), 16)
ties[..., 1] = 0.5
record("box_nms", {"overlap_thresh": 0.3}, [ties], grad=True)
record("box_nms", {"overlap_thresh": 0.3, "topk": 5}, [ties])
# 2-D data, float16
record("box_nms", {"overlap_thresh": 0.45}, [nms_data((), 8, dtype="float16")])
# iou exactly at the threshold is kept (suppression needs iou > overlap_thresh)
edge = np.array([[0, 0.9, 0, 0, 2, 1], [0, 0.8, 0, 0, 1, 1], [0, 0.7, 0, 0, 0.5, 0.25]], np.float32)
record("box_nms", {"overlap_thresh": 0.5}, [edge])
record("box_nms", {"overlap_thresh": 0.125}, [edge])

# ---- box_iou ------------------------------------------------------------------------------------------------------
lhs = random_boxes((2, 3))
rhs = random_boxes((5,))
lhs[0, 0] = [0.5, 0.5, 0.2, 0.9]        # reversed corners: no area
rhs[1] = [0.3, 0.3, 0.3, 0.3]           # a point
rhs[2] = lhs[1, 1]                      # the same box
record("box_iou", {}, [lhs.astype(np.float32), rhs.astype(np.float32)])
record("box_iou", {"format": "center"}, [lhs.astype(np.float32), rhs.astype(np.float32)])
record("box_iou", {}, [lhs.astype(np.float64), rhs[None].astype(np.float64)])

# ---- box_encode / box_decode ----------------------------------------------------------------------------------------
samples = rng.choice([-1.0, 0.0, 1.0], (2, 7)).astype(np.float32)
matches = rng.randint(0, 4, (2, 7)).astype(np.float32)
anchors = random_boxes((2, 7), 0.0, 1.0, 0.05) + np.array([0, 0, 0.05, 0.05])
refs = random_boxes((2, 4), 0.0, 1.0, 0.05) + np.array([0, 0, 0.05, 0.05])
means = np.array([0.0, 0.1, -0.1, 0.2], np.float32)
stds = np.array([0.1, 0.1, 0.2, 0.2], np.float32)
record("box_encode", {}, [samples, matches, anchors.astype(np.float32), refs.astype(np.float32), means, stds])
record("box_encode", {}, [samples.astype(np.float64), matches.astype(np.float64), anchors, refs,
                          means.astype(np.float64), stds.astype(np.float64)])
deltas = rng.uniform(-2, 2, (2, 7, 4)).astype(np.float32)
one = anchors[:1].astype(np.float32)
record("box_decode", {}, [deltas, one])
record("box_decode", {"format": "corner"}, [deltas, one])
record("box_decode", {"format": "corner", "std0": 0.1, "std1": 0.1, "std2": 0.2, "std3": 0.3, "clip": 0.25},
       [deltas, one])
record("box_decode", {"std2": 2.0, "clip": 1.5}, [deltas.astype(np.float64), one.astype(np.float64)])

# ---- bipartite_matching ---------------------------------------------------------------------------------------------
scores = np.round(rng.uniform(0, 1, (2, 5, 4)), 1).astype(np.float32)     # ties on a 0.1 grid
for attrs in ({"threshold": 0.2}, {"threshold": 0.5}, {"threshold": 0.2, "topk": 1}, {"threshold": 0.2, "topk": 2},
              {"threshold": 0.4, "is_ascend": True}, {"threshold": 0.8, "is_ascend": True, "topk": 2}):
    record("bipartite_matching", attrs, [scores])
record("bipartite_matching", {"threshold": 0.3}, [scores[0].T.copy()])
record("bipartite_matching", {"threshold": 0.3}, [np.full((3, 3), 0.3, np.float32)])       # score == threshold
record("bipartite_matching", {"threshold": 0.3, "is_ascend": True}, [np.full((3, 3), 0.3, np.float32)])
record("bipartite_matching", {"threshold": 0.1}, [scores.reshape(2, 1, 5, 4).astype(np.float64)])

# ---- MultiBoxDetection --------------------------------------------------------------------------------------------
def multibox_inputs(batch, classes, anchors_n):
    logits = rng.normal(0, 1.5, (batch, classes, anchors_n))
    prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    prob = np.round(prob, 2)                                         # ties between classes and anchors
    loc = rng.normal(0, 1, (batch, anchors_n * 4))
    anc = random_boxes((1, anchors_n), -0.1, 1.1, 0.05)
    return [prob.astype(np.float32), loc.astype(np.float32), anc.astype(np.float32)]


mb = multibox_inputs(2, 4, 16)
record("MultiBoxDetection", {}, mb)
record("MultiBoxDetection", {"clip": False, "threshold": 0.2}, mb)
record("MultiBoxDetection", {"force_suppress": True, "nms_threshold": 0.3}, mb)
record("MultiBoxDetection", {"nms_topk": 5, "threshold": 0.1}, mb)
record("MultiBoxDetection", {"variances": (0.2, 0.2, 0.1, 0.1), "nms_threshold": 0.45, "background_id": 2}, mb)
record("MultiBoxDetection", {"threshold": 0.99}, mb)                     # nothing passes
mb_edge = [np.array([[[0.2, 0.1, 0.5], [0.3, 0.5, 0.25], [0.5, 0.4, 0.25]]], np.float32),
           np.zeros((1, 12), np.float32),
           np.array([[[0, 0, 0.5, 0.5], [0, 0, 0.25, 0.5], [0.5, 0.5, 1, 1]]], np.float32)]
record("MultiBoxDetection", {"nms_threshold": 0.5, "threshold": 0.5}, mb_edge)   # iou == threshold, score == threshold
record("MultiBoxDetection", {"nms_threshold": 0.5, "threshold": 0.5, "force_suppress": True}, mb_edge)


# ---- Proposal / MultiProposal ----------------------------------------------------------------------------------------
def proposal_inputs(batch, anchors_n, h, w, im_info):
    cls = rng.uniform(0, 1, (batch, 2 * anchors_n, h, w))
    bbox = rng.normal(0, 0.3, (batch, 4 * anchors_n, h, w))
    return [cls.astype(np.float32), bbox.astype(np.float32), np.array(im_info, np.float32)]


small = dict(rpn_pre_nms_top_n=40, rpn_post_nms_top_n=12, threshold=0.6, rpn_min_size=4, scales=(2.0, 4.0),
             ratios=(0.5, 1.0, 2.0), feature_stride=4)
prop = proposal_inputs(1, 6, 4, 5, [[14, 18, 1.0]])              # the image covers 3 x 4 of the 4 x 5 positions
record("Proposal", small, prop)
record("Proposal", dict(small, output_score=True), prop)
record("Proposal", dict(small, output_score=True, iou_loss=True), prop)
record("Proposal", dict(small, output_score=True, rpn_post_nms_top_n=60, rpn_pre_nms_top_n=-1, threshold=0.3), prop)
record("Proposal", dict(small, output_score=True, rpn_min_size=12, threshold=0.9), prop)
prop1 = proposal_inputs(1, 3, 3, 3, [[40, 40, 2.0]])
record("Proposal", {"scales": (8.0,), "ratios": (0.5, 1.0, 2.0), "rpn_pre_nms_top_n": 20, "rpn_post_nms_top_n": 5,
                    "output_score": True}, prop1)
mprop = proposal_inputs(2, 6, 4, 5, [[14, 18, 1.0], [16, 20, 0.5]])
record("MultiProposal", dict(small, output_score=True), mprop)
record("MultiProposal", dict(small, rpn_post_nms_top_n=30, threshold=0.5), mprop)



# ---- box_nms's hidden second output, read through a graph whose _copy node takes entry [nms, 1] --------------------
def hidden_record(attrs, data):
    graph = json.loads(mx.sym.contrib.box_nms(mx.sym.var("data"), name="nms", **attrs).tojson())
    graph["nodes"].append({"op": "_copy", "name": "record", "inputs": [[1, 1, 0]]})
    graph["heads"] = [[1, 0, 0], [2, 0, 0]]
    sym = mx.sym.load_json(json.dumps(graph))
    exe = sym.bind(mx.cpu(), {"data": nd.array(data, dtype=data.dtype)})
    key = "record%d" % sum(1 for k in arrays if k.endswith("_record"))
    arrays[key + "_graph"] = np.frombuffer(json.dumps(graph).encode(), np.uint8)
    arrays[key + "_data"] = data
    arrays[key + "_record"] = exe.forward()[1].asnumpy()


hidden_record({"overlap_thresh": 0.3, "id_index": 0}, base)
hidden_record({"overlap_thresh": 0.4, "topk": 3, "in_format": "center", "out_format": "center"}, center)

os.makedirs(OUT, exist_ok=True)
np.savez_compressed(os.path.join(OUT, "cases.npz"), **arrays)
with open(os.path.join(OUT, "cases.json"), "w") as fh:
    json.dump(meta, fh, indent=1, sort_keys=True)
print(len(meta), "cases")
