"""`mx.np` / `mx.npx` (issue 23, first slice): functions against NumPy on random inputs (zero-dim included),
gradients against numeric ones, MXNet's recorded dtype defaults (tests/fixtures/mxnet-1.9.1/numpy/), NumPy's error
kinds, and Dive into Deep Learning's linear regression (3.2 from scratch, 3.3 concise) in numpy mode."""
import json
import os
import random

import numpy as onp
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import dataflow as mx
from dataflow import autograd, gluon, np, npx
from dataflow.base import MXNetError
from tests import numpy_cases
from tests.numpy_func_cases import numeric_grad

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "numpy")

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
floats = st.floats(-3, 3, width=32)


def host(shape, draw_floats=floats):
    return hnp.arrays(onp.float32, shape, elements=draw_floats)


@pytest.fixture
def np_mode():
    npx.set_np()
    yield
    npx.reset_np()


def check(ours, expected, rtol=1e-5, atol=1e-6):
    assert isinstance(ours, np.ndarray), type(ours)
    expected = onp.asarray(expected)
    assert ours.shape == expected.shape, (ours.shape, expected.shape)
    onp.testing.assert_allclose(ours.asnumpy(), expected, rtol=rtol, atol=atol)


# -- the array -------------------------------------------------------------------------------------------------------
@given(host(shapes))
def test_array_roundtrip_and_properties(x):
    a = np.array(x)
    assert (a.shape, a.dtype, a.size, a.ndim) == (x.shape, x.dtype, x.size, x.ndim)
    check(a, x)
    check(a.T, x.T)
    if x.size == 1:
        assert a.item() == x.item()
        assert float(a) == float(x.reshape(()))


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "abs", "tanh", "square", "negative"])
@given(x=host(shapes, st.floats(0.125, 3, width=32)))
def test_unary_ufuncs_equal_numpy(name, x):
    check(getattr(np, name)(np.array(x)), getattr(onp, name)(x), rtol=1e-5)


broadcastable = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)


@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "divide", "maximum", "minimum", "power"])
@given(shapes=broadcastable, data=st.data())
def test_binary_functions_broadcast_as_numpy(op, shapes, data):
    positive = st.floats(0.5, 2, width=32)
    x = data.draw(host(shapes.input_shapes[0], positive))
    y = data.draw(host(shapes.input_shapes[1], positive))
    check(getattr(np, op)(np.array(x), np.array(y)), getattr(onp, op)(x, y), rtol=1e-5)
    check(getattr(np, op)(np.array(x), 1.5), getattr(onp, op)(x, onp.float32(1.5)), rtol=1e-5)
    check(getattr(np, op)(1.5, np.array(y)), getattr(onp, op)(onp.float32(1.5), y), rtol=1e-5)


@given(shapes=broadcastable, data=st.data())
def test_operators_and_comparisons(shapes, data):
    x = data.draw(host(shapes.input_shapes[0]))
    y = data.draw(host(shapes.input_shapes[1]))
    a, b = np.array(x), np.array(y)
    check(a + b, x + y)
    check(a - b, x - y)
    check(a * b, x * y)
    check(2 - a, 2 - x)
    check(-a, -x)
    check(a ** 2, x ** 2, rtol=1e-5)
    for ours, theirs in ((a < b, x < y), (a >= b, x >= y), (a == b, x == y), (a != 1, x != 1), (a > 0, x > 0)):
        assert ours.dtype == onp.bool_
        check(ours, theirs)


def test_inplace_operators_write_into_the_array():
    x = onp.arange(6, dtype=onp.float32).reshape(2, 3)
    a = np.array(x)
    before = a
    a += np.array([1, 2, 3])
    a *= 2
    a -= 1
    assert a is before
    check(a, (x + [1, 2, 3]) * 2 - 1)
    s = np.array(2.0)
    s += 1
    check(s, onp.float32(3))


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@given(x=host(shapes), data=st.data())
def test_reductions_equal_numpy(name, x, data):
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1) if x.ndim else st.none())
    keepdims = data.draw(st.booleans())
    check(getattr(np, name)(np.array(x), axis=axis, keepdims=keepdims), getattr(onp, name)(x, axis=axis,
                                                                                       keepdims=keepdims), rtol=1e-5)
    check(getattr(np.array(x), name)(axis=axis), getattr(x, name)(axis=axis), rtol=1e-5)


@given(x=hnp.arrays(onp.float32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), elements=floats,
                    unique=True), data=st.data())
def test_argmax_equals_numpy(x, data):
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    out = np.argmax(np.array(x), axis=axis)
    assert out.dtype == onp.int64
    check(out, onp.argmax(x, axis=axis))


@given(x=host(hnp.array_shapes(min_dims=1, max_dims=4, max_side=3)), data=st.data())
def test_shape_functions_equal_numpy(x, data):
    a = np.array(x)
    check(a.reshape(-1), x.reshape(-1))
    check(np.reshape(a, (x.size, 1)), x.reshape(x.size, 1))
    axes = data.draw(st.permutations(range(x.ndim)))
    check(np.transpose(a, axes), onp.transpose(x, axes))
    axis = data.draw(st.integers(-x.ndim - 1, x.ndim))
    check(np.expand_dims(a, axis), onp.expand_dims(x, axis))
    check(np.squeeze(a), onp.squeeze(x))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    check(np.concatenate([a, a * 2], axis=axis), onp.concatenate([x, x * 2], axis=axis))
    check(np.stack([a, a + 1], axis=axis), onp.stack([x, x + 1], axis=axis))


@given(data=st.data(), n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(1, 4))
def test_dot_and_matmul_equal_numpy(data, n, k, m):
    a, b, v = data.draw(host((n, k))), data.draw(host((k, m))), data.draw(host((k,)))
    check(np.dot(np.array(a), np.array(b)), onp.dot(a, b), rtol=1e-4, atol=1e-5)
    check(np.dot(np.array(a), np.array(v)), onp.dot(a, v), rtol=1e-4, atol=1e-5)
    check(np.dot(np.array(v), np.array(v)), onp.dot(v, v), rtol=1e-4, atol=1e-5)
    check(np.matmul(np.array(a), np.array(b)), onp.matmul(a, b), rtol=1e-4, atol=1e-5)
    batch_a, batch_b = data.draw(host((2, n, k))), data.draw(host((2, k, m)))
    check(np.matmul(np.array(batch_a), np.array(batch_b)), onp.matmul(batch_a, batch_b), rtol=1e-4, atol=1e-5)


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3), data=st.data())
def test_where_and_clip_equal_numpy(shapes, data):
    c = data.draw(hnp.arrays(onp.bool_, shapes.input_shapes[0]))
    x, y = data.draw(host(shapes.input_shapes[1])), data.draw(host(shapes.input_shapes[2]))
    check(np.where(np.array(c, dtype="bool"), np.array(x), np.array(y)), onp.where(c, x, y))
    check(np.where(np.array(x) > 0, np.array(x), 0.0), onp.where(x > 0, x, onp.float32(0)))
    check(np.clip(np.array(x), -1, 1), onp.clip(x, -1, 1))


def test_creation_functions_equal_numpy():
    check(np.zeros((2, 3)), onp.zeros((2, 3), onp.float32))
    check(np.ones(4, dtype="int32"), onp.ones(4, onp.int32))
    assert np.ones(4, dtype="int32").dtype == onp.int32
    check(np.full((2, 2), 3.5), onp.full((2, 2), 3.5, onp.float32))
    assert np.empty((3, 0)).shape == (3, 0)
    check(np.arange(2, 9, 3), onp.arange(2, 9, 3, dtype=onp.float32))
    check(np.linspace(-1, 1, 7), onp.linspace(-1, 1, 7, dtype=onp.float32))
    check(np.eye(3, 4, k=1), onp.eye(3, 4, k=1, dtype=onp.float32))
    x = np.array(onp.arange(6, dtype=onp.int32).reshape(2, 3))
    check(np.zeros_like(x), onp.zeros((2, 3), onp.int32))
    check(np.ones_like(x), onp.ones((2, 3), onp.int32))
    assert np.array(3.0).shape == ()


def test_indexing_equals_numpy():
    x = onp.arange(24, dtype=onp.float32).reshape(2, 3, 4)
    a = np.array(x)
    for key in (0, -1, (1, 2), (1, 2, 3), slice(0, 1), (slice(None), 1), (0, slice(1, 3), slice(None, None, 2)),
                (Ellipsis, 1), (None, 0)):
        check(a[key], x[key])
    check(a[onp.array([1, 0, 1])], x[[1, 0, 1]])
    check(a[np.array([1, 0])], x[[1, 0]])
    check(a[x > 10], x[x > 10])
    check(a[np.array(x[:, 0, 0] > 5, dtype="bool")], x[x[:, 0, 0] > 5])
    a[0, 1] = 7.0
    x[0, 1] = 7.0
    check(a, x)


def test_storage_is_shared_with_legacy_arrays():
    legacy = mx.nd.array([[1, 2], [3, 4]])
    a = legacy.as_np_ndarray()
    assert isinstance(a, np.ndarray) and not isinstance(legacy, np.ndarray)
    a[0, 0] = 9
    assert legacy.asnumpy()[0, 0] == 9
    back = a.as_nd_ndarray()
    assert type(back) is mx.nd.NDArray
    back[1, 1] = -1
    assert a.asnumpy()[1, 1] == -1


def test_repr_matches_mxnet():
    recorded = _fixture()
    assert repr(np.array([[1., 2.], [3., 4.]])) == recorded["repr_2d"]["repr"]
    assert str(np.array([[1., 2.], [3., 4.]])) == recorded["repr_2d"]["str"]
    assert repr(np.array(2.5)) == recorded["repr_0d"]["repr"]
    assert str(np.array(2.5)) == recorded["repr_0d"]["str"]
    assert repr(np.ones(3, dtype="float64")) == recorded["repr_float64"]["repr"]
    assert str(np.ones(3, dtype="float64")) == recorded["repr_float64"]["str"]
    assert repr(np.array([1, 2], dtype="int32")) == recorded["repr_int32"]["repr"]
    assert repr(np.array([1., 0.]) > 0) == recorded["repr_bool"]["repr"]


# -- MXNet's dtype defaults (recorded) ------------------------------------------------------------------------------
def _fixture():
    with open(os.path.join(FIXTURES, "dtypes.json")) as fh:
        return json.load(fh)


CASES = numpy_cases.cases(np, onp)


@pytest.mark.parametrize("name", sorted(CASES))
def test_dtype_defaults_match_mxnet(name):
    recorded = _fixture()[name]
    ours = CASES[name]()
    assert isinstance(ours, np.ndarray)
    assert str(ours.dtype) == recorded["dtype"]
    assert list(ours.shape) == recorded["shape"]
    if "value" in recorded:
        onp.testing.assert_allclose(ours.asnumpy(), onp.array(recorded["value"]), rtol=1e-6)


# -- errors ---------------------------------------------------------------------------------------------------------
def test_bad_input_raises_numpy_error_kinds():
    with pytest.raises(ValueError, match=r"could not be broadcast together with shapes \(2, 3\) \(4,\)") as err:
        np.ones((2, 3)) + np.ones((4,))
    assert isinstance(err.value, MXNetError)         # MXNet raises MXNetError here (fixture broadcast_error)
    with pytest.raises(ValueError, match="cannot reshape array of size 6"):
        np.ones((2, 3)).reshape(4, 2)
    with pytest.raises(ValueError, match="not aligned"):
        np.dot(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="same shape"):
        np.stack([np.ones(2), np.ones(3)])
    with pytest.raises(ValueError, match="non-broadcastable output"):
        a = np.ones(3)
        a += np.ones((2, 3))
    with pytest.raises(getattr(onp, "exceptions", onp).AxisError):  # numpy.exceptions: NumPy >= 1.25
        np.sum(np.ones((2, 3)), axis=2)
    with pytest.raises(ValueError, match="ambiguous"):
        bool(np.ones(2))


# -- autograd -------------------------------------------------------------------------------------------------------

GRAD_CASES = {
    "exp_sum": (lambda m, x: m.sum(m.exp(x)), (2, 3)),
    "tanh_mean_axis": (lambda m, x: m.sum(m.mean(m.tanh(x), axis=1) ** 2), (3, 4)),
    "dot_square": (lambda m, x: m.sum(m.dot(x, x.T) ** 2), (2, 3)),
    "maximum_where": (lambda m, x: m.sum(m.where(x > 0, m.maximum(x, 0.5), x * x)), (5,)),
    "zero_dim_chain": (lambda m, x: m.sum(x.reshape(-1)[0] * x), (2, 2)),
    "index_and_broadcast": (lambda m, x: m.sum((x[1] + x) ** 2), (3, 2)),
    "reduce_a_zero_dim": (lambda m, x: m.sum(m.exp(m.sum(x) / 4)) + m.max(x[0, 1] * x[1, 0]), (2, 2)),
    "norm_and_divide": (lambda m, x: m.sum(x / m.linalg.norm(x, axis=1, keepdims=True)) * m.mean(x), (2, 3)),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_autograd_gradients_equal_numeric(name):
    f, shape = GRAD_CASES[name]
    x = onp.random.RandomState(3).uniform(-1, 1, shape).astype(onp.float32)
    a = np.array(x)
    a.attach_grad()
    with autograd.record():
        y = f(np, a)
    assert y.shape == ()
    y.backward()
    expected = numeric_grad(lambda v: float(f(onp, v.astype(onp.float64))), x.astype(onp.float64))
    assert isinstance(a.grad, np.ndarray)
    onp.testing.assert_allclose(a.grad.asnumpy(), expected, rtol=1e-3, atol=1e-3)


# -- npx --------------------------------------------------------------------------------------------------------------
@given(x=host(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)))
def test_npx_activations_equal_numpy(x):
    a = np.array(x)
    check(npx.relu(a), onp.maximum(x, 0))
    check(npx.sigmoid(a), 1 / (1 + onp.exp(-x)), rtol=1e-5)
    shifted = onp.exp(x - x.max(axis=-1, keepdims=True))
    check(npx.softmax(a), shifted / shifted.sum(axis=-1, keepdims=True), rtol=1e-5)
    check(npx.log_softmax(a), onp.log(shifted / shifted.sum(axis=-1, keepdims=True)), rtol=1e-4, atol=1e-5)


def test_npx_one_hot_and_pick():
    labels = onp.array([0, 2, 1])
    check(npx.one_hot(np.array(labels), 3), onp.eye(3, dtype=onp.float32)[labels])
    x = onp.arange(9, dtype=onp.float32).reshape(3, 3)
    check(npx.pick(np.array(x), np.array(labels)), x[onp.arange(3), labels])
    assert npx.num_gpus() == mx.context.num_gpus() and npx.cpu() == mx.cpu()
    npx.waitall()


def test_switches_and_use_np_on_a_block():
    assert not npx.is_np_array()

    @npx.use_np
    class Twice(gluon.HybridBlock):
        def hybrid_forward(self, F, x):
            assert npx.is_np_array()
            return x * 2

    out = Twice()(mx.nd.ones((2,)).as_np_ndarray())
    assert isinstance(out, np.ndarray) and not npx.is_np_array()
    check(out, onp.full(2, 2, onp.float32))
    npx.set_np()
    try:
        assert npx.is_np_array() and mx.util.is_np_shape()
    finally:
        npx.reset_np()
    assert not npx.is_np_array()


def test_random_is_seeded_by_mx_random_seed():
    mx.random.seed(7)
    first = np.random.normal(0, 1, (100,)).asnumpy()
    np.random.seed(7)
    assert onp.array_equal(first, np.random.normal(0, 1, (100,)).asnumpy())
    big = np.random.normal(2.0, 0.5, (20000,)).asnumpy()
    assert abs(big.mean() - 2.0) < 0.02 and abs(big.std() - 0.5) < 0.02
    u = np.random.uniform(-1, 3, (2, 5000))
    assert u.shape == (2, 5000) and -1 <= float(u.min()) and float(u.max()) < 3
    ints = np.random.randint(2, 5, size=(1000,))
    assert ints.dtype == onp.int64 and set(onp.unique(ints.asnumpy())) == {2, 3, 4}
    assert np.random.uniform().shape == ()


# -- Dive into Deep Learning, chapter 3, written the book's way ----------------------------------------------------
def synthetic_data(w, b, num_examples):
    """y = Xw + b + noise (d2l.synthetic_data)."""
    X = np.random.normal(0, 1, (num_examples, len(w)))
    y = np.dot(X, w) + b
    y += np.random.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def test_d2l_linear_regression_from_scratch(np_mode):
    mx.random.seed(42)
    random.seed(42)
    true_w, true_b = np.array([2, -3.4]), 4.2
    features, labels = synthetic_data(true_w, true_b, 1000)

    def data_iter(batch_size, features, labels):
        num_examples = len(features)
        indices = list(range(num_examples))
        random.shuffle(indices)
        for i in range(0, num_examples, batch_size):
            batch_indices = np.array(indices[i: min(i + batch_size, num_examples)])
            yield features[batch_indices], labels[batch_indices]

    w = np.random.normal(0, 0.01, (2, 1))
    b = np.zeros(1)
    w.attach_grad()
    b.attach_grad()

    def linreg(X, w, b):
        return np.dot(X, w) + b

    def squared_loss(y_hat, y):
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2

    def sgd(params, lr, batch_size):
        for param in params:
            param[:] = param - lr * param.grad / batch_size

    lr, num_epochs, batch_size = 0.03, 3, 10
    for _ in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            with autograd.record():
                l = squared_loss(linreg(X, w, b), y)  # noqa: E741 - the book's name
            l.backward()
            sgd([w, b], lr, batch_size)
    train_l = squared_loss(linreg(features, w, b), labels)
    # the book: loss ~5e-05 after 3 epochs, errors in w and b of a few 1e-4
    assert float(train_l.mean()) < 1e-4
    assert float(np.abs(true_w - w.reshape(true_w.shape)).max()) < 0.01
    assert abs(float(true_b - b)) < 0.01


def test_d2l_linear_regression_concise(np_mode):
    from dataflow import init
    from dataflow.gluon import nn
    mx.random.seed(43)
    true_w, true_b = np.array([2, -3.4]), 4.2
    features, labels = synthetic_data(true_w, true_b, 1000)

    def load_array(data_arrays, batch_size, is_train=True):
        dataset = gluon.data.ArrayDataset(*data_arrays)
        return gluon.data.DataLoader(dataset, batch_size, shuffle=is_train)

    data_iter = load_array((features, labels), 10)
    X, y = next(iter(data_iter))
    assert isinstance(X, np.ndarray) and X.shape == (10, 2) and y.shape == (10, 1)
    net = nn.Sequential()
    net.add(nn.Dense(1))
    net.initialize(init.Normal(sigma=0.01))
    loss = gluon.loss.L2Loss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.03})
    for _ in range(3):
        for X, y in data_iter:
            with autograd.record():
                l = loss(net(X), y)  # noqa: E741 - the book's name
            assert isinstance(l, np.ndarray)
            l.backward()
            trainer.step(10)
    l = loss(net(features), labels)  # noqa: E741
    assert float(l.mean()) < 1e-4
    w, b = net[0].weight.data(), net[0].bias.data()
    assert isinstance(w, np.ndarray) and isinstance(net[0].weight.grad(), np.ndarray)
    assert float(np.abs(true_w - w.reshape(true_w.shape)).max()) < 0.01
    assert abs(float(true_b - b)) < 0.01


def test_hybridized_classifier_in_numpy_mode(np_mode):
    from dataflow.gluon import nn
    mx.random.seed(5)
    X = np.random.normal(0, 1, (200, 5))
    y = np.argmax(np.dot(X, np.random.normal(0, 1, (5, 3))), axis=1)
    net = nn.HybridSequential()
    net.add(nn.Dense(16, activation="relu"), nn.Dense(3))
    net.initialize(mx.init.Normal(0.1))
    net.hybridize()
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5})
    batches = gluon.data.DataLoader(gluon.data.ArrayDataset(X, y), 20, shuffle=True)
    for _ in range(10):
        for xb, yb in batches:
            with autograd.record():
                l = loss(net(xb), yb)  # noqa: E741
            l.backward()
            trainer.step(20)
    out = net(X)
    assert isinstance(out, np.ndarray) and out.shape == (200, 3)
    accuracy = float((np.argmax(out, axis=1) == y).mean())
    assert accuracy > 0.9        # a separable 3-class problem: a 2-layer net fits it


def test_random_with_array_parameters_broadcast():
    mx.random.seed(11)
    loc = np.array([0., 10., -10.])
    draws = np.random.normal(loc, np.array([1., 0.1, 0.1]), size=(4000, 3)).asnumpy()
    onp.testing.assert_allclose(draws.mean(axis=0), [0, 10, -10], atol=0.06)
    onp.testing.assert_allclose(draws.std(axis=0), [1, 0.1, 0.1], rtol=0.06)
    u = np.random.uniform(np.zeros((2, 1)), 2.0, size=(2, 3)).asnumpy()
    assert u.shape == (2, 3) and (0 <= u).all() and (u < 2).all()


def test_an_element_read_waits_for_pending_writes():
    # x[i] of a 1-D array is a view ordered after the writes pushed before it (it once read the storage at once)
    legacy = mx.nd.zeros(3)
    legacy[1:] = mx.nd.array([1., 2.])
    assert legacy[2].asnumpy().tolist() == [2.0]
    v = np.zeros(3)
    v[1:] = np.array([1., 2.])
    v[2] += 1
    assert v.asnumpy().tolist() == [0.0, 1.0, 3.0]


@given(x=host(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)), data=st.data())
def test_linalg_norm_equals_numpy(x, data):
    check(np.linalg.norm(np.array(x)), onp.linalg.norm(x), rtol=1e-5)
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    for order in (None, 1, onp.inf):
        check(np.linalg.norm(np.array(x), order, axis=axis), onp.linalg.norm(x, order, axis=axis), rtol=1e-5)


def test_d2l_autograd_control_flow(np_mode):
    """D2L 2.5: the gradient of a function with Python control flow is d/a."""
    def f(a):
        b = a * 2
        while np.linalg.norm(b) < 1000:
            b = b * 2
        if b.sum() > 0:
            c = b
        else:
            c = 100 * b
        return c

    mx.random.seed(1)
    a = np.random.normal()
    assert a.shape == ()
    a.attach_grad()
    with autograd.record():
        d = f(a)
    d.backward()
    assert bool(a.grad == d / a)
    x = np.arange(4.0)
    x.attach_grad()
    with autograd.record():
        y = 2 * np.dot(x, x)
    y.backward()
    assert (x.grad == 4 * x).asnumpy().all()


def test_d2l_softmax_regression_from_scratch(np_mode):
    """D2L 3.6's functions (softmax, cross-entropy by fancy indexing, accuracy) on a synthetic 3-class problem."""
    mx.random.seed(8)
    num_inputs, num_outputs, n = 4, 3, 300
    features = np.random.normal(0, 1, (n, num_inputs))
    labels = np.argmax(np.dot(features, np.random.normal(0, 2, (num_inputs, num_outputs))), axis=1)
    W = np.random.normal(0, 0.01, (num_inputs, num_outputs))
    b = np.zeros(num_outputs)
    W.attach_grad()
    b.attach_grad()

    def softmax(X):
        X_exp = np.exp(X)
        partition = X_exp.sum(1, keepdims=True)
        return X_exp / partition

    def net(X):
        return softmax(np.dot(X.reshape((-1, W.shape[0])), W) + b)

    def cross_entropy(y_hat, y):
        return -np.log(y_hat[range(len(y_hat)), y])

    def accuracy(y_hat, y):
        y_hat = y_hat.argmax(axis=1)
        cmp = y_hat.astype(y.dtype) == y
        return float(cmp.astype(y.dtype).sum())

    for _ in range(30):
        for i in range(0, n, 30):
            X, y = features[i:i + 30], labels[i:i + 30]
            with autograd.record():
                l = cross_entropy(net(X), y)  # noqa: E741
            l.backward()
            for param in (W, b):
                param[:] = param - 0.1 * param.grad / 30
    assert accuracy(net(features), labels) / n > 0.9
    probabilities = net(features).asnumpy()
    onp.testing.assert_allclose(probabilities.sum(axis=1), onp.ones(n), rtol=1e-5)
