"""The contrib indexing ops (ops/contrib_indexing.py: index_copy, index_array, boolean_mask) against MXNet 1.9.1.

Truth: tests/fixtures/mxnet-1.9.1/contrib_nlp/ (reference/contrib_nlp_fixtures.py, README there): outputs and
gradients recorded with MXNet, and numeric gradients for boolean_mask, whose output shape depends on its index's
values and so runs only imperatively. Kernels against numpy references and the rules: tests/specs_contrib_indexing.py.
"""
import json
import os

import numpy as np
import pytest

import dataflow as mx
from ops.errors import MXNetError, ShapeError
from tests.paths import FIXTURES

HERE = os.path.join(FIXTURES, "contrib_nlp")
OPS = np.load(os.path.join(HERE, "ops.npz"))
with open(os.path.join(HERE, "ops.json")) as _f:
    META = json.load(_f)["cases"]


def _same(got, want, rtol=1e-6):
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, want.dtype, got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


def _recorded(key, fn, grad_of):
    """Run fn on the fixture's inputs under autograd with its head gradient; compare output and gradients."""
    n = len([k for k in OPS.files if k.startswith(key + "/in")])
    xs = [mx.nd.array(OPS["%s/in%d" % (key, k)], dtype=OPS["%s/in%d" % (key, k)].dtype) for k in range(n)]
    for k in grad_of:
        xs[k].attach_grad()
    with mx.autograd.record():
        out = fn(*xs)
    out.backward(mx.nd.array(OPS[key + "/dy"]))
    _same(out.asnumpy(), OPS[key + "/out"])
    for k in grad_of:
        _same(xs[k].grad.asnumpy(), OPS["%s/grad%d" % (key, k)])


@pytest.mark.parametrize("case", ["plain", "float", "repeated"])
def test_index_copy_and_its_gradients_match_mxnet(case):
    _recorded("index_copy/" + case, mx.nd.contrib.index_copy, grad_of=(0, 2))


def test_index_copy_of_integers_matches_mxnet():
    got = mx.nd.contrib.index_copy(mx.nd.array(OPS["index_copy/int32_old"], dtype="int32"),
                                   mx.nd.array([5, 0, 3, 1], dtype="int32"),
                                   mx.nd.array(OPS["index_copy/int32_new"], dtype="int32"))
    _same(got.asnumpy(), OPS["index_copy/int32"])


def test_index_copy_bad_input_is_a_clear_error():
    old, new = mx.nd.zeros((5, 3)), mx.nd.ones((3, 3))
    for index in ([0, 5, 2], [0, -1, 2]):           # MXNet writes out of bounds here
        with pytest.raises(MXNetError, match=r"index_copy.*outside \[0, 5\)"):
            mx.nd.contrib.index_copy(old, mx.nd.array(index), new).asnumpy()
    with pytest.raises(ShapeError, match=r"index_copy.*new_tensor.*\(3, 2\).*\(3, 3\)"):
        mx.nd.contrib.index_copy(old, mx.nd.array([0, 1, 2]), mx.nd.ones((3, 2)))
    with pytest.raises(ShapeError, match=r"index_copy.*'new_tensor'.*\(3, 3\).*\(2, 3\)"):
        mx.nd.contrib.index_copy(old, mx.nd.array([0, 1]), new)
    with pytest.raises(MXNetError, match=r"index_copy.*new_tensor.*float64.*float32"):
        mx.nd.contrib.index_copy(old, mx.nd.array([0, 1, 2]), mx.nd.ones((3, 3), dtype="float64"))


def test_index_copy_in_a_bound_graph_trains_as_imperative():
    key = "index_copy/float"
    old, index, new = (OPS["%s/in%d" % (key, k)] for k in range(3))
    sym = mx.sym.contrib.index_copy(mx.sym.var("old"), mx.sym.var("index"), mx.sym.var("new"))
    args = {"old": mx.nd.array(old), "index": mx.nd.array(index), "new": mx.nd.array(new)}
    grads = {k: mx.nd.zeros(a.shape) for k, a in args.items()}
    executor = sym.bind(mx.cpu(), args, args_grad=grads, grad_req={"old": "write", "index": "null", "new": "write"})
    _same(executor.forward(is_train=True)[0].asnumpy(), OPS[key + "/out"])
    executor.backward(mx.nd.array(OPS[key + "/dy"]))
    _same(grads["old"].asnumpy(), OPS[key + "/grad0"])
    _same(grads["new"].asnumpy(), OPS[key + "/grad2"])


def test_index_copy_second_order_gradient():
    rng = np.random.RandomState(3)
    x, t = mx.nd.array(rng.rand(5, 3)), mx.nd.array(rng.rand(3, 3))
    x.attach_grad()
    t.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.index_copy(x, mx.nd.array([0, 4, 2]), t) ** 3
        gx, gt = mx.autograd.grad(y, [x, t], create_graph=True)
        z = mx.nd.concat(gx * gx, gt * gt, dim=0)
    z.backward()
    # y = o^3 with o = x except rows 0, 4, 2 = t: gx = 3 x^2 (off those rows), gt = 3 t^2; z' = 36 (.)^3
    kept = np.ones((5, 1))
    kept[[0, 4, 2]] = 0
    np.testing.assert_allclose(x.grad.asnumpy(), 36 * x.asnumpy() ** 3 * kept, rtol=1e-5)
    np.testing.assert_allclose(t.grad.asnumpy(), 36 * t.asnumpy() ** 3, rtol=1e-5)


@pytest.mark.parametrize("case", sorted(["all", "axes_1_0", "negative", "repeat", "none"]))
def test_index_array_matches_mxnet(case):
    kwargs = {k: tuple(v) for k, v in META["index_array"]["cases"][case].items()}
    got = mx.nd.contrib.index_array(mx.nd.ones(tuple(META["index_array"]["data_shape"])), **kwargs)
    _same(got.asnumpy(), OPS["index_array/" + case])
    _same(mx.nd.contrib.index_array(mx.nd.ones((5,), dtype="int32")).asnumpy(), OPS["index_array/vector"])


def test_index_array_in_a_graph_gives_no_gradient():
    x = mx.nd.ones((3, 2))
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.index_array(x).astype("float32") * x.expand_dims(-1)
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [[0, 1], [1, 2], [2, 3]])       # i + k: the product only
    sym = mx.sym.contrib.index_array(mx.sym.var("x"), axes=(0,))
    assert sym.infer_shape(x=(3, 2))[1] == [(3, 2, 1)]
    assert sym.infer_type(x="float32")[1] == [np.int64]


@pytest.mark.parametrize("case", ["binary", "values", "all", "int32", "uint8"])
def test_boolean_mask_and_its_gradient_match_mxnet(case):
    _recorded("boolean_mask/" + case, mx.nd.contrib.boolean_mask, grad_of=(0,))


def test_boolean_mask_keeping_no_rows_and_of_integers_match_mxnet():
    data = OPS["boolean_mask/binary/in0"]
    _same(mx.nd.contrib.boolean_mask(mx.nd.array(data), mx.nd.zeros(5)).asnumpy(), OPS["boolean_mask/none/out"])
    got = mx.nd.contrib.boolean_mask(mx.nd.array(data * 10, dtype="int32"), mx.nd.array(OPS["boolean_mask/binary/in1"]))
    _same(got.asnumpy(), OPS["boolean_mask/int32_data/out"])


def test_boolean_mask_gradient_is_the_numeric_one():
    rng = np.random.RandomState(7)
    data, index = rng.uniform(-1, 1, (6, 2)), np.array([1, 0, 0, 1, 1, 0.0])
    weights = rng.uniform(-1, 1, (3, 2))

    def loss(values):
        return float((np.tanh(mx.nd.contrib.boolean_mask(mx.nd.array(values, dtype="float64"),
                                                         mx.nd.array(index)).asnumpy()) * weights).sum())
    x = mx.nd.array(data, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = (mx.nd.tanh(mx.nd.contrib.boolean_mask(x, mx.nd.array(index))) * mx.nd.array(weights, dtype="float64"))
    y.backward()
    numeric = np.zeros_like(data)
    for position in np.ndindex(*data.shape):
        step = np.zeros_like(data)
        step[position] = 1e-6
        numeric[position] = (loss(data + step) - loss(data - step)) / 2e-6
    np.testing.assert_allclose(x.grad.asnumpy(), numeric, rtol=1e-6, atol=1e-9)


def test_boolean_mask_where_mxnet_refuses_it():
    data = mx.nd.ones((4, 3))
    with pytest.raises(ShapeError, match="axis=1 is not supported"):
        mx.nd.contrib.boolean_mask(data, mx.nd.ones(3), axis=1)
    with pytest.raises(ShapeError, match=r"boolean_mask.*\(3,\).*one entry per row.*\(4, 3\)"):
        mx.nd.contrib.boolean_mask(data, mx.nd.ones(3))
    sym = mx.sym.contrib.boolean_mask(mx.sym.var("d"), mx.sym.var("m"))
    with pytest.raises(ShapeError, match="boolean_mask.*depends on the values of `index`"):
        sym.simple_bind(mx.cpu(), d=(4, 3), m=(4,))


def test_boolean_mask_in_a_hybridized_block_is_a_clear_error():
    """MXNet's CachedOp runs dynamic shapes; dataflow's compiled graphs cannot (yet): a clear error, not a wrong
    shape. The block still runs imperatively."""
    class Masked(mx.gluon.HybridBlock):
        def hybrid_forward(self, F, x, m):
            return F.contrib.boolean_mask(x, m) * 2

    block = Masked()
    x, m = mx.nd.ones((4, 3)), mx.nd.array([1, 0, 1, 0])
    assert block(x, m).shape == (2, 3)
    block.hybridize()
    with pytest.raises(ShapeError, match="boolean_mask.*depends on the values of `index`"):
        block(x, m)
