"""`gluon.contrib.nn` (Concurrent, HybridConcurrent, Identity, SparseEmbedding, SyncBatchNorm, PixelShuffle1D/2D/3D),
the `mx.contrib` namespaces, and the extra `gluon.nn` layers GroupNorm, ReflectionPad2D, Lambda/HybridLambda by
name, each against a numpy reference (and MXNet's documented examples where it gives numbers).
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import dataflow as mx
from dataflow import autograd, nd
from dataflow.gluon import nn
from dataflow.gluon.contrib import nn as cnn


@pytest.fixture(autouse=True)
def fresh_names():
    with mx.name.NameManager():
        yield


def _both(block, *inputs):
    """The block's outputs imperative, then hybridized (each as numpy)."""
    first = block(*inputs).asnumpy()
    block.hybridize()
    return first, block(*inputs).asnumpy()


# -- namespaces ----------------------------------------------------------------------------------------------------

def test_contrib_namespaces_are_the_front_ends_contrib_modules():
    assert mx.contrib.nd is mx.contrib.ndarray is mx.nd.contrib
    assert mx.contrib.sym is mx.contrib.symbol is mx.sym.contrib
    assert mx.gluon.contrib.nn.HybridConcurrent is cnn.HybridConcurrent


# -- Concurrent, HybridConcurrent, Identity -----------------------------------------------------------------------

def test_concurrent_concatenates_its_children_outputs():
    net = cnn.Concurrent(axis=1)
    with net.name_scope():
        net.add(cnn.Identity(), nn.Lambda(lambda x: x * 3), nn.Lambda("square"))
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(net(nd.array(x)).asnumpy(), np.concatenate([x, 3 * x, x * x], axis=1))


def test_hybrid_concurrent_names_and_outputs():
    net = cnn.HybridConcurrent()             # axis -1
    with net.name_scope():
        net.add(nn.Dense(3, in_units=4), cnn.Identity(), nn.Dense(2, in_units=4, use_bias=False))
    assert list(net.collect_params()) == ["hybridconcurrent0_dense0_weight", "hybridconcurrent0_dense0_bias",
                                          "hybridconcurrent0_dense1_weight"]
    net.initialize(mx.init.Uniform(1.0))
    x = np.random.RandomState(0).uniform(-1, 1, (5, 4)).astype(np.float32)
    w0, b0, w1 = (p.data().asnumpy() for p in net.collect_params().values())
    expected = np.concatenate([x @ w0.T + b0, x, x @ w1.T], axis=-1)
    for out in _both(net, nd.array(x)):
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_identity_passes_values_and_gradients():
    x = nd.array([[1.0, -2.0]])
    x.attach_grad()
    with autograd.record():
        y = cnn.Identity()(x)
    y.backward(nd.array([[3.0, 4.0]]))
    np.testing.assert_array_equal(y.asnumpy(), [[1.0, -2.0]])
    np.testing.assert_array_equal(x.grad.asnumpy(), [[3.0, 4.0]])


# -- SparseEmbedding (row_sparse weight in the Trainer's kvstore; MXNet's runs: tests/test_sparse_gluon.py) -------

def test_sparse_embedding_rows_and_row_sparse_gradient():
    emb = cnn.SparseEmbedding(10, 4)
    assert repr(emb) == "SparseEmbedding(10 -> 4, float32)"
    emb.initialize()
    weight = emb.weight._reduce().asnumpy()
    with pytest.raises(RuntimeError, match="when no Trainer is created with it"):
        emb(nd.array([1]))          # MXNet: the rows are pulled from the Trainer's kvstore
    mx.gluon.Trainer(emb.collect_params(), "sgd")
    idx = np.array([[1, 3], [3, 9]])
    with autograd.record():
        out = emb(nd.array(idx))
    out.backward(nd.ones(out.shape))
    np.testing.assert_array_equal(out.asnumpy(), weight[idx])
    expected = np.zeros((10, 4), np.float32)
    np.add.at(expected, idx.ravel(), 1.0)
    grad = emb.weight.grad()
    assert grad.stype == "row_sparse" and grad.indices.asnumpy().tolist() == [1, 3, 9]
    np.testing.assert_array_equal(grad.asnumpy(), expected)


# -- SyncBatchNorm (one device: BatchNorm's maths) -------------------------------------------------------------------

def test_sync_batch_norm_is_batch_norm_on_one_device():
    with pytest.warns(UserWarning, match="num_devices"):
        cnn.SyncBatchNorm()
    bn = cnn.SyncBatchNorm(num_devices=1, momentum=0.8)
    assert repr(bn) == ("SyncBatchNorm(eps=1e-05, momentum=0.8, fix_gamma=False, use_global_stats=False, "
                        "ndev=1, key='syncbatchnorm1_', in_channels=None)")
    bn.initialize()
    x = np.random.RandomState(1).normal(2.0, 3.0, (4, 3, 2, 2)).astype(np.float32)
    with autograd.record():
        y = bn(nd.array(x))
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    expected = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(y.asnumpy(), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(bn.running_mean.data().asnumpy(), [0, 0, 0])   # MXNet updates in the backward
    y.backward()
    np.testing.assert_allclose(bn.running_mean.data().asnumpy(), 0.2 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.data().asnumpy(), 0.8 + 0.2 * var, rtol=1e-4)


# -- PixelShuffle ------------------------------------------------------------------------------------------------------

def _shuffle_reference(x, factors):
    """out[n, c, d0*f0 + i0, ...] = x[n, c*prod(f) + flat(i0, ...), d0, ...], written with numpy's n-D transpose."""
    n, channels = x.shape[:2]
    spatial = x.shape[2:]
    k = len(factors)
    c = channels // int(np.prod(factors))
    y = x.reshape((n, c) + tuple(factors) + spatial)
    order = [0, 1] + [axis for d in range(k) for axis in (2 + k + d, 2 + d)]
    return y.transpose(order).reshape((n, c) + tuple(s * f for s, f in zip(spatial, factors)))


@given(st.integers(1, 3), st.lists(st.integers(1, 3), min_size=1, max_size=3), st.integers(1, 2))
def test_pixel_shuffle_against_numpy(c, factors, n):
    k = len(factors)
    layer = {1: cnn.PixelShuffle1D, 2: cnn.PixelShuffle2D, 3: cnn.PixelShuffle3D}[k]
    arg = factors[0] if k == 1 else tuple(factors)
    spatial = (2, 3, 2)[:k]
    x = np.arange(n * c * int(np.prod(factors)) * int(np.prod(spatial)), dtype=np.float32)
    x = x.reshape((n, c * int(np.prod(factors))) + spatial)
    for out in _both(layer(arg), nd.array(x)):
        np.testing.assert_array_equal(out, _shuffle_reference(x, factors))


def test_pixel_shuffle_docstring_shapes_and_reprs():
    assert cnn.PixelShuffle1D(2)(nd.zeros((1, 8, 3))).shape == (1, 4, 6)
    assert cnn.PixelShuffle2D((2, 3))(nd.zeros((1, 12, 3, 5))).shape == (1, 2, 6, 15)
    assert cnn.PixelShuffle3D((2, 3, 4))(nd.zeros((1, 48, 3, 5, 7))).shape == (1, 2, 6, 15, 28)
    assert repr(cnn.PixelShuffle2D(2)) == "PixelShuffle2D((2, 2))"
    with pytest.raises(AssertionError, match="wrong length 2"):
        cnn.PixelShuffle3D((2, 2))


# -- GroupNorm ---------------------------------------------------------------------------------------------------------

def _group_norm_reference(x, groups, gamma, beta, eps):
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1).astype(np.float64)
    normed = (g - g.mean(axis=2, keepdims=True)) / np.sqrt(g.var(axis=2, keepdims=True) + eps)
    return normed * gamma[None, :, None] + beta[None, :, None]


@pytest.mark.skipif(not hasattr(nd, "GroupNorm"), reason="the GroupNorm op is not registered")
def test_group_norm_mxnet_doc_example_and_numpy():
    layer = nn.GroupNorm()
    assert repr(layer) == "GroupNorm(eps=1e-05, num_groups=1, center=True, scale=True)"
    layer.initialize()
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    row = [-1.5932543, -1.3035717, -1.0138891, -0.7242065, -0.4345239, -0.1448413, 0.1448413, 0.4345239,
           0.7242065, 1.0138891, 1.3035717, 1.5932543]         # MXNet's docstring output, per sample
    np.testing.assert_allclose(layer(nd.array(x)).asnumpy().reshape(2, 12), [row, row], rtol=1e-5)

    layer = nn.GroupNorm(num_groups=2, epsilon=1e-3, gamma_initializer=mx.init.Constant(1.5),
                         beta_initializer=mx.init.Constant(0.25))
    layer.initialize()
    assert [p.shape for p in layer.collect_params().values()] == [(2,), (2,)]
    x = np.random.RandomState(2).normal(size=(3, 4, 2, 3)).astype(np.float32)
    expected = _group_norm_reference(x, 2, np.full(2, 1.5), np.full(2, 0.25), 1e-3).reshape(x.shape)
    for out in _both(layer, nd.array(x)):
        np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


# -- ReflectionPad2D, Lambda, HybridLambda ---------------------------------------------------------------------------

def test_reflection_pad_2d_against_numpy():
    x = np.random.RandomState(3).normal(size=(2, 3, 4, 5)).astype(np.float32)
    for out in _both(nn.ReflectionPad2D(2), nd.array(x)):
        np.testing.assert_array_equal(out, np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="reflect"))
    out = nn.ReflectionPad2D((0, 0, 0, 0, 1, 2, 3, 0))(nd.array(x)).asnumpy()
    np.testing.assert_array_equal(out, np.pad(x, ((0, 0), (0, 0), (1, 2), (3, 0)), mode="reflect"))


def test_lambda_and_hybrid_lambda_by_name_and_by_function():
    x = np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(nn.Lambda("tanh")(nd.array(x)).asnumpy(), np.tanh(x), rtol=1e-6)
    by_name = nn.HybridLambda("tanh")
    assert repr(by_name) == "HybridLambda(tanh)"
    for out in _both(by_name, nd.array(x)):
        np.testing.assert_allclose(out, np.tanh(x), rtol=1e-6)
    by_function = nn.HybridLambda(lambda F, a, b: F.broadcast_add(a, b) * 2)
    for out in _both(by_function, nd.array(x), nd.array(x[:1])):
        np.testing.assert_allclose(out, (x + x[:1]) * 2, rtol=1e-6)


def test_lambda_errors_are_mxnets():
    with pytest.raises(AssertionError, match="Function name no_such_op is not found in ndarray"):
        nn.Lambda("no_such_op")
    with pytest.raises(AssertionError, match="Function name no_such_op is not found in symbol/ndarray"):
        nn.HybridLambda("no_such_op")
    with pytest.raises(ValueError, match="Unrecognized function in lambda"):
        nn.HybridLambda(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.HybridLambda("relu")


def test_docstring_examples():
    import doctest

    from dataflow.gluon.contrib.nn import basic_layers
    result = doctest.testmod(basic_layers, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
