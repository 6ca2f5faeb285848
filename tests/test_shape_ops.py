"""Shape and indexing ops: what the spec rows in tests/specs_shape.py cannot express.

Kernel-time errors (take's mode='raise', gather_nd out of range), the front ends MXNet writes in Python
(`mx.sym.arange`, `mx.sym.eye`) with the JSON attrs MXNet 1.9.1 writes for them, gradients through a split whose
outputs are partly unused, the tiled transpose against numpy over every permutation, and Embedding bound with no
gradient for its indices. Expected values were checked on MXNet 1.9.1.
"""
import itertools
import json

import numpy as np
import pytest

import dataflow as mx
from ops import registry
from ops.errors import MXNetError
from ops.registry import ADD, WRITE, OpContext


# An error inside an engine op is re-raised at the wait as the engine's error, carrying the kernel's message.
_ERRORS = (MXNetError, RuntimeError)


def test_take_raise_and_gather_nd_out_of_range_name_the_op():
    x = mx.nd.array(np.arange(6).reshape(2, 3))
    with pytest.raises(_ERRORS, match=r"take: index 5.* size 3"):
        mx.nd.take(x, mx.nd.array([0, 5]), axis=1, mode="raise").asnumpy()
    with pytest.raises(_ERRORS, match=r"take: index -1"):
        mx.nd.take(x, mx.nd.array([0, -1]), axis=1, mode="raise").asnumpy()
    with pytest.raises(_ERRORS, match=r"gather_nd: index \(-3(\.0)?,\)"):
        mx.nd.gather_nd(x, mx.nd.array([[-3]])).asnumpy()
    # negative indices within range count from the end
    np.testing.assert_array_equal(mx.nd.gather_nd(x, mx.nd.array([[-1, -2]])).asnumpy(), [[3, 4, 5], [0, 1, 2]])


def test_sym_arange_and_eye_write_mxnet_attrs():
    with mx.name.NameManager():                   # names as in a fresh MXNet process
        node = json.loads(mx.sym.arange(5).tojson())["nodes"][0]
    assert node["op"] == "_arange" and node["name"] == "_arange0"
    assert node["attrs"] == {"dtype": "float32", "infer_range": "False", "repeat": "1", "start": "5",
                             "step": "1.0", "stop": "None"}
    assert mx.sym.arange(5).infer_shape()[1] == [(5,)]
    np.testing.assert_array_equal(mx.sym.arange(1, 4, 0.5, repeat=2).eval()[0].asnumpy(),
                                  np.repeat(np.arange(1, 4, 0.5), 2))
    node = json.loads(mx.sym.eye(3).tojson())["nodes"][0]
    assert node["attrs"] == {"M": "0", "N": "3", "dtype": "float32", "k": "0"}
    np.testing.assert_array_equal(mx.sym.eye(3, 4, 1, dtype="int32").eval()[0].asnumpy(), np.eye(3, 4, 1))


def test_arange_infer_range_takes_its_length_from_the_consumer():
    z = mx.sym.var("z")
    ex = (z + mx.sym.arange(start=2, step=3, infer_range=True)).simple_bind(mx.cpu(), z=(4,))
    np.testing.assert_array_equal(ex.forward()[0].asnumpy(), [2, 5, 8, 11])


def test_split_gradient_with_unused_outputs():
    x = mx.nd.array(np.arange(12).reshape(2, 6))
    x.attach_grad()
    with mx.autograd.record():
        _, b, _ = mx.nd.split(x, num_outputs=3, axis=1)
        y = (b * 2).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), np.tile([0, 0, 2, 2, 0, 0], (2, 1)))
    with mx.autograd.record():
        parts = mx.nd.split(x, num_outputs=6, axis=1, squeeze_axis=True)
        y = parts[4] * 3
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), np.tile([0, 0, 0, 0, 3, 0], (2, 1)))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bool", "int8"])
def test_transpose_every_permutation(dtype):
    op = registry.get("transpose")
    rng = np.random.default_rng(0)
    for ndim in range(1, 5):
        shape = tuple(int(d) for d in rng.integers(1, 5, ndim))
        x = rng.uniform(-5, 5, shape).astype(dtype)
        for perm in itertools.permutations(range(ndim)):
            want = x.transpose(perm)
            out = np.ones(want.shape, dtype)
            op.cpu(OpContext(), op.parse_params({"axes": perm}), [x], [out], [WRITE])
            np.testing.assert_array_equal(out, want, err_msg=str((shape, perm)))
            if dtype == "float32":
                op.cpu(OpContext(), op.parse_params({"axes": perm}), [x], [out], [ADD])
                np.testing.assert_array_equal(out, want * 2, err_msg=str((shape, perm)))


def test_embedding_weight_gradient_accumulates_repeated_rows():
    sym = mx.sym.Embedding(mx.sym.var("data"), input_dim=5, output_dim=3, name="emb")
    assert sym.list_arguments() == ["data", "emb_weight"]
    ex = sym.simple_bind(mx.cpu(), data=(2, 4), grad_req={"data": "null", "emb_weight": "write"})
    ex.arg_dict["data"][:] = np.array([[0, 1, 1, 4], [2, 2, 2, 9]])          # 9 clips to 4
    ex.arg_dict["emb_weight"][:] = np.arange(15).reshape(5, 3)
    ex.forward(is_train=True)
    ex.backward(mx.nd.ones((2, 4, 3)))
    np.testing.assert_array_equal(ex.outputs[0].asnumpy()[1, 3], [12, 13, 14])
    np.testing.assert_array_equal(ex.grad_dict["emb_weight"].asnumpy()[:, 0], [1, 2, 3, 0, 2])


def test_clip_compares_in_double_and_tests_a_max_first():
    x = mx.nd.array([0.5, 0.0], dtype="float64")
    np.testing.assert_array_equal(mx.nd.clip(x, a_min=0.1, a_max=0.2).asnumpy(), [0.2, 0.1])
    np.testing.assert_array_equal(mx.nd.clip(mx.nd.array([-3, 0.5, 7]), a_min=2, a_max=-1).asnumpy(), [2, -1, -1])
    # float32 data: the inward-rounded float32 bounds give the double comparison's answers at the bounds
    edge = np.float32(0.1)                                          # 0.100000001..., above the double 0.1
    got = mx.nd.clip(mx.nd.array([edge, np.nextafter(edge, np.float32(0))]), a_min=-1, a_max=0.1).asnumpy()
    np.testing.assert_array_equal(got, [np.float32(0.1), np.nextafter(edge, np.float32(0))])
