"""NDArray: creation, arithmetic with broadcasting and scalars, views, indexing and the engine's error model."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import dataflow as mx
from dataflow.base import MXNetError, ShapeError


def test_creation_functions():
    assert mx.nd.zeros((2, 3)).asnumpy().tolist() == [[0.0] * 3] * 2
    assert mx.nd.ones(4, dtype="int32").asnumpy().tolist() == [1, 1, 1, 1]
    assert mx.nd.ones(4, dtype="int32").dtype is np.int32
    np.testing.assert_array_equal(mx.nd.full((2, 2), 7.5).asnumpy(), np.full((2, 2), 7.5, np.float32))
    np.testing.assert_array_equal(mx.nd.arange(0, 5, 2).asnumpy(), np.array([0, 2, 4], np.float32))
    np.testing.assert_array_equal(mx.nd.arange(3, repeat=2).asnumpy(), np.array([0, 0, 1, 1, 2, 2], np.float32))
    assert mx.nd.empty((3, 1)).shape == (3, 1)
    x = mx.nd.array([[1, 2], [3, 4]])
    assert x.dtype is np.float32 and x.shape == (2, 2) and x.size == 4 and x.ndim == 2
    assert x.context == mx.cpu(0) and str(x.context) == "cpu(0)"


def test_array_from_int64_numpy_is_float32_like_mxnet():
    assert mx.nd.array(np.arange(3, dtype=np.int64)).dtype is np.float32
    assert mx.nd.array(np.arange(3, dtype=np.int64), dtype="int64").dtype is np.int64
    assert mx.nd.array(mx.nd.ones(2, dtype="int32")).dtype is np.int32


def test_repr_like_mxnet():
    assert repr(mx.nd.ones((2, 3))) == "\n[[1. 1. 1.]\n [1. 1. 1.]]\n<NDArray 2x3 @cpu(0)>"


_floats = st.floats(-100, 100, width=32)
_shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4)


@given(shapes=_shapes, data=st.data(), op=st.sampled_from(["+", "-", "*", "/"]))
def test_arithmetic_broadcasts_like_numpy(shapes, data, op):
    a = data.draw(hnp.arrays(np.float32, shapes.input_shapes[0], elements=_floats))
    b = data.draw(hnp.arrays(np.float32, shapes.input_shapes[1], elements=_floats.filter(lambda v: abs(v) > 0.1)))
    fn = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}[op]
    got = eval("x %s y" % op, {"x": mx.nd.array(a), "y": mx.nd.array(b)})
    np.testing.assert_allclose(got.asnumpy(), fn(a, b), rtol=1e-6)


_nonzero = st.floats(0.5, 100, width=32) | st.floats(-100, -0.5, width=32)


@given(a=hnp.arrays(np.float32, hnp.array_shapes(max_dims=3, max_side=4), elements=_nonzero),
       s=st.floats(0.5, 4), op=st.sampled_from(["+", "-", "*", "/"]))
def test_scalar_arithmetic_both_sides(a, s, op):
    # a float scalar is applied in the array's dtype, on either side
    x = mx.nd.array(a)
    s32 = np.float32(s)
    fn = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}[op]
    np.testing.assert_allclose(eval("x %s s" % op, {"x": x, "s": s}).asnumpy(), fn(a, s32), rtol=1e-6)
    np.testing.assert_allclose(eval("s %s x" % op, {"x": x, "s": s}).asnumpy(), fn(s32, a), rtol=1e-6)
    np.testing.assert_array_equal((-x).asnumpy(), -a)


def test_inplace_operators_write_into_the_same_array():
    x = mx.nd.ones((2, 3))
    y = x
    x += 2
    x *= mx.nd.array([1, 2, 3])
    x -= 1
    x /= 2
    assert x is y
    np.testing.assert_allclose(x.asnumpy(), ((np.ones((2, 3)) + 2) * [1, 2, 3] - 1) / 2)


def test_slices_on_the_first_axis_are_views():
    x = mx.nd.array(np.arange(12).reshape(4, 3))
    v = x[1:3]
    v[:] = 0
    np.testing.assert_array_equal(x.asnumpy()[1:3], np.zeros((2, 3)))
    row = x[3]
    assert row.shape == (3,)
    x[3] = 5
    np.testing.assert_array_equal(row.asnumpy(), [5, 5, 5])


def test_strided_indexing_copies():
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = mx.nd.array(base)
    col = x[:, 1]
    np.testing.assert_array_equal(col.asnumpy(), base[:, 1])
    col[:] = -1
    np.testing.assert_array_equal(x.asnumpy(), base)          # a copy: x is unchanged
    np.testing.assert_array_equal(x[mx.nd.array([2, 0])].asnumpy(), base[[2, 0]])


def test_setitem_forms():
    x = mx.nd.zeros((2, 3))
    x[:] = 1.5
    x[0, 1] = 4
    x[1] = np.array([7, 8, 9])
    x[:, 2] = mx.nd.array([-1, -2])
    np.testing.assert_array_equal(x.asnumpy(), [[1.5, 4, -1], [7, 8, -2]])
    source = np.ones((2, 3), np.float32)
    x[:] = source
    source[:] = 5               # the assignment copied the value when it was made
    np.testing.assert_array_equal(x.asnumpy(), np.ones((2, 3)))


def test_copies_conversions_and_reshape():
    x = mx.nd.array(np.arange(6).reshape(2, 3))
    y = mx.nd.zeros((2, 3))
    x.copyto(y)
    np.testing.assert_array_equal(y.asnumpy(), x.asnumpy())
    z = x.copyto(mx.cpu())
    z[:] = 0
    assert x.asnumpy().sum() == 15
    assert x.astype("int32").dtype is np.int32 and x.astype(np.float32, copy=False) is x
    r = x.reshape((3, -1))
    assert r.shape == (3, 2)
    r[:] = 1                    # a view shares storage
    assert x.asnumpy().sum() == 6
    assert x.reshape(0, -1).shape == (2, 3) and x.reshape(-3).shape == (6,) and x.reshape(shape=(-4, 1, 2, 3)).shape \
        == (1, 2, 3)
    assert mx.nd.full((1,), 3).asscalar() == 3
    with pytest.raises(ValueError, match="not a scalar"):
        x.asscalar()
    with pytest.raises(ShapeError):
        x.copyto(mx.nd.zeros((3, 2)))
    with pytest.raises(MXNetError):
        x.reshape((4, -1))


def test_imperative_op_functions():
    x = mx.nd.array([[1, -2], [3, -4]])
    w = mx.nd.array([[1, 0], [0, 1], [1, 1]])
    out = mx.nd.FullyConnected(x, w, mx.nd.zeros(3), num_hidden=3)
    np.testing.assert_array_equal(out.asnumpy(), [[1, -2, -1], [3, -4, -1]])
    np.testing.assert_array_equal(mx.nd.Activation(x, act_type="relu").asnumpy(), [[1, 0], [3, 0]])
    np.testing.assert_array_equal(mx.nd.dot(x, x).asnumpy(), np.dot(x.asnumpy(), x.asnumpy()))
    target = mx.nd.zeros((2, 2))
    result = mx.nd.elemwise_add(x, x, out=target)
    assert result is target
    np.testing.assert_array_equal(target.asnumpy(), 2 * x.asnumpy())
    with pytest.raises(MXNetError, match="elemwise_add.*\\(2, 2\\).*\\(3,\\)|elemwise_add.*\\(3,\\).*\\(2, 2\\)"):
        mx.nd.elemwise_add(x, mx.nd.ones(3))


def test_kernel_error_is_raised_at_the_wait_and_the_engine_keeps_working():
    from scheduler.engine import get_engine
    engine = get_engine()
    x = mx.nd.ones((2,))

    def boom():
        raise RuntimeError("kaput")
    engine.push(boom, [], [x._var], "boom_op")
    with pytest.raises(Exception, match="boom_op.*kaput"):
        x.asnumpy()
    with pytest.raises(Exception, match="kaput"):
        mx.nd.waitall()
    y = mx.nd.ones((2,)) + 1                    # the engine still runs new work
    np.testing.assert_array_equal(y.asnumpy(), [2, 2])
    mx.nd.waitall()


def test_gpu_context_gives_a_clear_error():
    with pytest.raises(MXNetError, match="gpu"):
        mx.nd.zeros((2,), ctx=mx.gpu())


def test_fluent_methods_and_binary_helpers():
    base = np.array([[1, -2], [3, 4]], np.float32)
    x = mx.nd.array(base)
    np.testing.assert_array_equal(x.abs().sum(axis=1).asnumpy(), np.abs(base).sum(axis=1))
    np.testing.assert_array_equal(x.T.asnumpy(), base.T)
    np.testing.assert_array_equal(x.transpose(axes=(1, 0)).asnumpy(), base.T)
    np.testing.assert_array_equal(x.argmax(axis=1).asnumpy(), base.argmax(axis=1))
    np.testing.assert_array_equal(mx.nd.maximum(x, 0).asnumpy(), np.maximum(base, 0))
    np.testing.assert_array_equal(mx.nd.maximum(1, x).asnumpy(), np.maximum(1, base))
    np.testing.assert_array_equal(mx.nd.power(2, x).asnumpy(), np.power(2, base))
    np.testing.assert_array_equal(mx.nd.lesser(2, x).asnumpy(), (2 < base).astype(np.float32))
    np.testing.assert_array_equal(mx.nd.subtract(10, x).asnumpy(), 10 - base)
    np.testing.assert_array_equal(mx.nd.minimum(x, mx.nd.zeros((1, 2))).asnumpy(), np.minimum(base, 0))
    with pytest.raises(TypeError, match="maximum"):
        mx.nd.maximum(1, 2)
    a = mx.sym.var("a")
    assert a.reshape((-1, 1)).infer_shape(a=(2, 3))[1] == [(6, 1)]
    assert mx.sym.maximum(a, 2).infer_shape(a=(2,))[1] == [(2,)]
