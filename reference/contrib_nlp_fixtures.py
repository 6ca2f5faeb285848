"""Record MXNet 1.9.1's encoder-decoder attention products, contrib indexing ops, gelu, masked softmax and
BilinearResize2D for tests/test_contrib_indexing_ops.py and tests/test_transformer_ops.py (run with the oracle's
python):

    MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/contrib_nlp_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/contrib_nlp/{ops.npz, ops.json}; see the README there. Every input comes from
one numpy.random.RandomState(20261206) stream, drawn in the order below; head gradients are random too.
"""
import json
import os

import numpy as np

import mxnet as mx
from mxnet import autograd, nd

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "contrib_nlp")
rng = np.random.RandomState(20261206)
arrays, meta = {}, {}


def record(key, fn, inputs, grad_of=None, head=None):
    """fn(*NDArrays) under autograd; stores inputs, output and (for the inputs grad_of lists) gradients."""
    xs = [nd.array(x, dtype=x.dtype) for x in inputs]
    for k, x in enumerate(xs):
        arrays["%s/in%d" % (key, k)] = inputs[k]
        if grad_of is None or k in grad_of:
            x.attach_grad()
    with autograd.record():
        out = fn(*xs)
    arrays[key + "/out"] = out.asnumpy()
    if grad_of == ():
        return
    dy = rng.uniform(-1, 1, out.shape).astype(out.dtype) if head is None else head
    arrays[key + "/dy"] = dy
    out.backward(nd.array(dy, dtype=dy.dtype))
    for k, x in enumerate(xs):
        if grad_of is None or k in grad_of:
            arrays["%s/grad%d" % (key, k)] = x.grad.asnumpy()


# ---- interleaved encoder-decoder products (float32: MXNet's CPU kernels take nothing else) ----
q_seq, k_seq, batch, heads, dim = 3, 5, 2, 2, 3
queries = rng.uniform(-1, 1, (q_seq, batch, heads * dim)).astype(np.float32)
keys_values = rng.uniform(-1, 1, (k_seq, batch, heads * 2 * dim)).astype(np.float32)
att = rng.uniform(0, 1, (batch * heads, q_seq, k_seq)).astype(np.float32)
record("encdec_qk", lambda q, kv: nd.contrib.interleaved_matmul_encdec_qk(q, kv, heads=heads), [queries, keys_values])
record("encdec_valatt", lambda kv, a: nd.contrib.interleaved_matmul_encdec_valatt(kv, a, heads=heads),
       [keys_values, att])
meta["encdec"] = {"heads": heads}

# ---- index_copy: float indices truncate, a repeated index keeps the last row; gradients of both tensors ----
old = rng.uniform(-1, 1, (6, 3, 2)).astype(np.float32)
new = rng.uniform(-1, 1, (4, 3, 2)).astype(np.float32)
INDEX_COPY = {"plain": np.array([5, 0, 3, 1], np.int64), "float": np.array([0.7, 4.2, 2.9, 5.0], np.float32),
              "repeated": np.array([2, 2, 4, 2], np.float32)}
for key, index in INDEX_COPY.items():
    record("index_copy/" + key, nd.contrib.index_copy, [old, index, new], grad_of=(0, 2))
arrays["index_copy/int32"] = nd.contrib.index_copy(nd.array(old * 10, dtype="int32"),
                                                   nd.array([5, 0, 3, 1], dtype="int32"),
                                                   nd.array(new * 10, dtype="int32")).asnumpy()
arrays["index_copy/int32_old"] = (old * 10).astype(np.int32)
arrays["index_copy/int32_new"] = (new * 10).astype(np.int32)

# ---- index_array ----
INDEX_ARRAY = {"all": {}, "axes_1_0": {"axes": (1, 0)}, "negative": {"axes": (-1,)}, "repeat": {"axes": (2, 2, 0)},
               "none": {"axes": ()}}
for key, kwargs in INDEX_ARRAY.items():
    arrays["index_array/" + key] = nd.contrib.index_array(nd.ones((3, 2, 4)), **kwargs).asnumpy()
arrays["index_array/vector"] = nd.contrib.index_array(nd.ones((5,), dtype="int32")).asnumpy()
meta["index_array"] = {"data_shape": [3, 2, 4], "cases": {k: {a: list(v) for a, v in kw.items()}
                                                          for k, kw in INDEX_ARRAY.items()}}

# ---- boolean_mask: any non-zero keeps the row; no rows kept; index dtypes ----
data = rng.uniform(-1, 1, (5, 3, 2)).astype(np.float32)
BOOLEAN_MASK = {"binary": np.array([1, 0, 1, 1, 0], np.float32), "values": np.array([2, -1, 0, 0.5, 0], np.float32),
                "all": np.ones(5, np.float32), "int32": np.array([0, 0, 1, 0, 1], np.int32),
                "uint8": np.array([1, 1, 0, 0, 1], np.uint8)}
for key, index in BOOLEAN_MASK.items():
    record("boolean_mask/" + key, nd.contrib.boolean_mask, [data, index], grad_of=(0,))
arrays["boolean_mask/none/out"] = nd.contrib.boolean_mask(nd.array(data), nd.zeros(5)).asnumpy()
arrays["boolean_mask/int32_data/out"] = nd.contrib.boolean_mask(nd.array(data * 10, dtype="int32"),
                                                                nd.array(BOOLEAN_MASK["binary"])).asnumpy()

# ---- LeakyReLU(act_type='gelu') (the erf form) ----
for dtype in ("float32", "float64"):
    x = np.concatenate([np.linspace(-6, 6, 25), rng.uniform(-3, 3, 15)]).astype(dtype)
    record("gelu/" + dtype, lambda t: nd.LeakyReLU(t, act_type="gelu"), [x])

# ---- softmax with length (use_length=True): integer lengths; 0 and full lengths included ----
x = rng.uniform(-2, 2, (2, 3, 5)).astype(np.float32)
length = np.array([[1, 3, 5], [0, 2, 4]], np.int32)
record("softmax_length/last", lambda t, n: nd.softmax(t, n, use_length=True, axis=-1), [x, length], grad_of=(0,))
record("softmax_length/temperature", lambda t, n: nd.softmax(t, n, use_length=True, axis=-1, temperature=2.0),
       [x, length], grad_of=(0,))
length1 = np.array([[2, 0, 3, 1, 2], [3, 1, 1, 2, 0]], np.int64)
record("softmax_length/axis1", lambda t, n: nd.softmax(t, n, use_length=True, axis=1), [x, length1], grad_of=(0,))

# ---- div_sqrt_dim's gradient, and arange_like with axis and repeat together ----
x = rng.uniform(-1, 1, (2, 3, 6)).astype(np.float32)
record("div_sqrt_dim", nd.contrib.div_sqrt_dim, [x])
arrays["arange_like/axis_repeat"] = nd.contrib.arange_like(nd.zeros((4, 6)), start=1.5, step=0.25, repeat=4,
                                                          axis=1).asnumpy()
meta["arange_like"] = {"axis_repeat": {"start": 1.5, "step": 0.25, "repeat": 4, "axis": 1, "data_shape": [4, 6]}}

# ---- BilinearResize2D: output sizes per mode, values and gradients ----
sizes = {}
for height, width in [(1, 4), (3, 5), (4, 6), (2, 7)]:
    for mode in ("size", "odd_scale", "to_even_down", "to_even_up", "to_odd_down", "to_odd_up"):
        for scales in ((None, None), (2.0, 0.5), (1.5, 0.3), (0.5, 3.0)):
            kwargs = {"mode": mode, "height": 3, "width": 4}
            if scales[0] is not None:
                kwargs.update(scale_height=scales[0], scale_width=scales[1])
            try:
                shape = list(nd.contrib.BilinearResize2D(nd.ones((1, 1, height, width)), **kwargs).shape)
            except mx.base.MXNetError:
                shape = "error"
            sizes["%d,%d,%s,%s,%s" % (height, width, mode, scales[0], scales[1])] = shape
meta["bilinear_resize_sizes"] = sizes
RESIZE = {"up": ((1, 2, 3, 5), {"height": 6, "width": 9}), "down": ((2, 1, 7, 9), {"height": 2, "width": 3}),
          "to_one": ((1, 2, 4, 5), {"height": 1, "width": 2}), "mixed": ((1, 3, 2, 3), {"height": 7, "width": 1}),
          "scale": ((1, 2, 4, 6), {"scale_height": 1.5, "scale_width": 0.5}),
          "odd_scale": ((1, 1, 5, 4), {"mode": "odd_scale", "scale_height": 2.0, "scale_width": 1.5}),
          "to_odd_up": ((1, 1, 4, 5), {"mode": "to_odd_up"})}
for key, (shape, kwargs) in RESIZE.items():
    for align in (True, False):
        x = rng.uniform(-1, 1, shape).astype(np.float32)
        record("bilinear_resize/%s/%s" % (key, align),
               lambda t, align=align, kwargs=kwargs: nd.contrib.BilinearResize2D(t, align_corners=align, **kwargs),
               [x])
x = rng.uniform(-1, 1, (1, 2, 3, 4))
record("bilinear_resize/like_float64", lambda t, like: nd.contrib.BilinearResize2D(t, like, mode="like",
                                                                                    align_corners=False),
       [x, np.zeros((2, 5, 5, 7))])
meta["bilinear_resize"] = {k: kw for k, (_, kw) in RESIZE.items()}

with open(os.path.join(OUT, "ops.json"), "w") as f:
    json.dump({"mxnet": mx.__version__, "cases": meta}, f, indent=1, sort_keys=True)
np.savez_compressed(os.path.join(OUT, "ops.npz"), **arrays)
print("wrote", len(arrays), "arrays")
