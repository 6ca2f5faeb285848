"""`mx.np`'s manipulation functions (dataflow/numpy/manipulation.py) equal NumPy's on random inputs (hypothesis over
shapes with zero-dim and zero-size ones), autograd's gradients through them equal numeric ones, and bad input
raises NumPy's error kinds."""
import numpy as onp
import pytest
from hypothesis import assume, given, strategies as st
from hypothesis.extra import numpy as hnp

from dataflow import np
from tests.numpy_func_cases import check, check_all, check_gradient, host, nonempty, shapes

positive_dims = hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4)


def axis_of(data, ndim):
    return data.draw(st.integers(-ndim, ndim - 1))


@given(x=host(positive_dims), data=st.data())
def test_swapaxes_moveaxis_rollaxis(x, data):
    a = np.array(x)
    i, j = axis_of(data, x.ndim), axis_of(data, x.ndim)
    check(np.swapaxes(a, i, j), onp.swapaxes(x, i, j))
    check(np.moveaxis(a, i, j), onp.moveaxis(x, i, j))
    start = data.draw(st.integers(-x.ndim, x.ndim))
    check(np.rollaxis(a, i, start), onp.rollaxis(x, i, start))
    if x.ndim >= 2:
        check(np.moveaxis(a, [0, 1], [-1, -2]), onp.moveaxis(x, [0, 1], [-1, -2]))


@given(x=host(positive_dims), data=st.data())
def test_split_and_array_split(x, data):
    a = np.array(x)
    axis = axis_of(data, x.ndim)
    n = data.draw(st.integers(1, 5))
    check_all(np.array_split(a, n, axis=axis), onp.array_split(x, n, axis=axis))
    if x.shape[axis] % n == 0:
        check_all(np.split(a, n, axis=axis), onp.split(x, n, axis=axis))
    else:
        with pytest.raises(ValueError, match="equal division"):
            np.split(a, n, axis=axis)
    points = data.draw(st.lists(st.integers(-5, 6), max_size=3))
    check_all(np.split(a, points, axis=axis), onp.split(x, points, axis=axis))


def test_hsplit_vsplit_dsplit():
    x = onp.arange(24, dtype=onp.float32).reshape(2, 4, 3)
    a = np.array(x)
    check_all(np.hsplit(a, 2), onp.hsplit(x, 2))
    check_all(np.vsplit(a, [1]), onp.vsplit(x, [1]))
    check_all(np.dsplit(a, 3), onp.dsplit(x, 3))
    check_all(np.hsplit(np.array(x[0, 0]), [1]), onp.hsplit(x[0, 0], [1]))
    with pytest.raises(ValueError):
        np.vsplit(np.ones(3), 3)
    with pytest.raises(ValueError):
        np.split(np.array(1.0), 1)


@given(x=host(shapes), data=st.data())
def test_tile_and_repeat(x, data):
    a = np.array(x)
    reps = data.draw(st.integers(0, 3) | st.lists(st.integers(0, 3), max_size=4).map(tuple))
    check(np.tile(a, reps), onp.tile(x, reps))
    count = data.draw(st.integers(0, 3))
    check(np.repeat(a, count), onp.repeat(x, count))
    if x.ndim:
        axis = axis_of(data, x.ndim)
        check(np.repeat(a, count, axis=axis), onp.repeat(x, count, axis=axis))
        counts = data.draw(st.lists(st.integers(0, 3), min_size=x.shape[axis], max_size=x.shape[axis]))
        check(np.repeat(a, counts, axis=axis), onp.repeat(x, counts, axis=axis))


@given(x=host(shapes), data=st.data())
def test_flip_roll_rot90(x, data):
    a = np.array(x)
    check(np.flip(a), onp.flip(x))
    shift = data.draw(st.integers(-7, 7))
    check(np.roll(a, shift), onp.roll(x, shift))
    if x.ndim:
        axis = axis_of(data, x.ndim)
        check(np.flip(a, axis), onp.flip(x, axis))
        check(np.flipud(a), onp.flipud(x))
        check(np.roll(a, shift, axis=axis), onp.roll(x, shift, axis=axis))
    if x.ndim >= 2:
        check(np.fliplr(a), onp.fliplr(x))
        check(np.roll(a, (1, shift), axis=(0, 1)), onp.roll(x, (1, shift), axis=(0, 1)))
        k = data.draw(st.integers(-3, 5))
        check(np.rot90(a, k), onp.rot90(x, k))
        check(np.rot90(a, k, axes=(1, 0)), onp.rot90(x, k, axes=(1, 0)))


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "maximum", "minimum"])
@given(x=host(nonempty), data=st.data())
def test_pad_equals_numpy(mode, x, data):
    widths = data.draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=x.ndim,
                                max_size=x.ndim))
    kwargs = {"constant_values": 1.5} if mode == "constant" else {}
    check(np.pad(np.array(x), widths, mode=mode, **kwargs), onp.pad(x, widths, mode=mode, **kwargs))
    check(np.pad(np.array(x), 2, mode=mode), onp.pad(x, 2, mode=mode))


@given(x=host(shapes))
def test_atleast_and_stacking(x):
    a = np.array(x)
    for name in ("atleast_1d", "atleast_2d", "atleast_3d"):
        check(getattr(np, name)(a), getattr(onp, name)(x))
    check_all(np.atleast_2d(a, a), onp.atleast_2d(x, x))
    if x.ndim and x.shape[0]:
        for name in ("hstack", "vstack", "dstack", "row_stack"):
            check(getattr(np, name)([a, a * 2]), getattr(onp, name if name != "row_stack" else "vstack")
                  ([x, x * 2]))
    if x.ndim <= 2:
        check(np.column_stack([a, a + 1]) if x.ndim else np.column_stack([a.reshape(1)]),
              onp.column_stack([x, x + 1]) if x.ndim else onp.column_stack([x.reshape(1)]))


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3), data=st.data())
def test_broadcast_arrays(shapes, data):
    xs = [data.draw(host(s)) for s in shapes.input_shapes]
    check_all(np.broadcast_arrays(*[np.array(x) for x in xs]), onp.broadcast_arrays(*xs))


@given(x=host(shapes), data=st.data())
def test_append_delete_take(x, data):
    a = np.array(x)
    check(np.append(a, np.array(x)), onp.append(x, x))
    if x.ndim:
        axis = axis_of(data, x.ndim)
        check(np.append(a, a, axis=axis), onp.append(x, x, axis=axis))
        n = x.shape[axis]
        if n:
            index = data.draw(st.lists(st.integers(-n, n - 1), max_size=4))
            check(np.delete(a, index, axis=axis), onp.delete(x, index, axis=axis))
            check(np.take(a, index, axis=axis), onp.take(x, index, axis=axis))
            check(np.take(a, onp.array(index) + n, axis=axis, mode="wrap"),
                  onp.take(x, onp.array(index, dtype=onp.int64) + n, axis=axis, mode="wrap"))
            check(np.delete(a, slice(0, None, 2), axis=axis), onp.delete(x, slice(0, None, 2), axis=axis))
    with pytest.raises(IndexError, match="out of bounds"):
        np.take(np.ones(3), [3])


@given(x=host(hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=4)), k=st.integers(-4, 4))
def test_diag_diagflat_tril_triu(x, k):
    a = np.array(x)
    check(np.diag(a, k), onp.diag(x, k))
    check(np.diagflat(a, k), onp.diagflat(x, k))
    check(np.tril(a, k), onp.tril(x, k))
    check(np.triu(a, k), onp.triu(x, k))


@given(x=host(hnp.array_shapes(min_dims=2, max_dims=4, min_side=0, max_side=4)), data=st.data())
def test_diagonal_and_trace(x, data):
    a = np.array(x)
    i, j = axis_of(data, x.ndim), axis_of(data, x.ndim)
    assume(i % x.ndim != j % x.ndim)
    k = data.draw(st.integers(-4, 4))
    check(np.diagonal(a, k, i, j), onp.diagonal(x, k, i, j))
    check(np.trace(a, k, i, j), onp.trace(x, k, i, j), rtol=1e-5, atol=1e-5)
    check(np.tril(a, k), onp.tril(x, k))
    check(np.triu(a, k), onp.triu(x, k))


def test_bad_input_raises_numpy_error_kinds():
    with pytest.raises(getattr(onp, "exceptions", onp).AxisError):  # numpy.exceptions: NumPy >= 1.25
        np.swapaxes(np.ones((2, 3)), 0, 2)
    with pytest.raises(ValueError, match="same number"):
        np.moveaxis(np.ones((2, 3)), [0, 1], [0])
    with pytest.raises(ValueError, match="larger than 0"):
        np.array_split(np.ones(4), 0)
    with pytest.raises(ValueError, match="negative"):
        np.tile(np.ones(2), -1)
    with pytest.raises(ValueError, match="mode"):
        np.pad(np.ones(3), 1, mode="wrap")
    with pytest.raises(ValueError, match="empty axis"):
        np.pad(np.ones((0, 2)), 1, mode="edge")
    with pytest.raises(ValueError, match="Input must be >= 2-d"):
        np.fliplr(np.ones(3))
    with pytest.raises(ValueError, match="1- or 2-d"):
        np.diag(np.ones((2, 2, 2)))
    with pytest.raises(IndexError, match="integer"):
        np.take(np.ones(3), [0.5])
    with pytest.raises(ValueError, match="broadcast"):
        np.broadcast_arrays(np.ones(2), np.ones(3))


GRAD_CASES = {
    "swapaxes": (lambda m, x: m.sum(m.swapaxes(x, 0, 2) * m.arange(24.).reshape(4, 3, 2)), (2, 3, 4)),
    "moveaxis": (lambda m, x: m.sum(m.moveaxis(x, 0, -1) * m.arange(24.).reshape(3, 4, 2)), (2, 3, 4)),
    "split": (lambda m, x: m.sum(m.split(x, [1, 3], axis=1)[1] ** 2) + m.sum(m.array_split(x, 3)[2]), (3, 4)),
    "tile": (lambda m, x: m.sum(m.tile(x, (2, 1, 3)) ** 2), (2, 3)),
    "repeat": (lambda m, x: m.sum(m.repeat(x, 2, axis=1) * m.arange(12.).reshape(2, 6))
               + m.sum(m.repeat(x, [0, 2], axis=0) ** 2), (2, 3)),
    "flip": (lambda m, x: m.sum(m.flip(x, 1) * m.arange(6.).reshape(2, 3)), (2, 3)),
    "roll": (lambda m, x: m.sum(m.roll(x, 2, axis=1) * m.arange(8.).reshape(2, 4)), (2, 4)),
    "rot90": (lambda m, x: m.sum(m.rot90(x) * m.arange(6.).reshape(3, 2)), (2, 3)),
    "pad_reflect": (lambda m, x: m.sum(m.pad(x, ((1, 2), (2, 1)), mode="reflect") ** 2), (3, 4)),
    "pad_edge": (lambda m, x: m.sum(m.pad(x, 2, mode="edge") ** 2), (2, 3)),
    "pad_constant": (lambda m, x: m.sum(m.pad(x, 1, mode="constant", constant_values=2.0) ** 2), (3,)),
    "stacks": (lambda m, x: m.sum(m.vstack([x, x * 2]) ** 2) + m.sum(m.dstack([x, x]) ** 2)
               + m.sum(m.column_stack([x[0], x[1]]) ** 3), (2, 3)),
    "broadcast_arrays": (lambda m, x: m.sum(m.broadcast_arrays(x, m.ones((2, 1, 3)))[0] ** 2), (3,)),
    "append_delete": (lambda m, x: m.sum(m.append(x, x * 3) ** 2) + m.sum(m.delete(x, 1, axis=0) ** 3), (3, 2)),
    "diag": (lambda m, x: m.sum(m.diag(x, 1) ** 2) + m.sum(m.diag(x[0]) ** 2), (3, 3)),
    "diagonal_trace": (lambda m, x: m.sum(m.diagonal(x, 0, 1, 2) ** 2) + m.trace(x[0]) ** 2, (2, 3, 3)),
    "tril_triu": (lambda m, x: m.sum(m.tril(x, -1) ** 2) + m.sum(m.triu(x) * 3), (3, 4)),
    "take": (lambda m, x: m.sum(m.take(x, [2, 0, 2], axis=1) ** 2), (2, 3)),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradients_equal_numeric(name):
    f, shape = GRAD_CASES[name]
    check_gradient(f, shape)


@given(x=host(shapes), data=st.data())
def test_insert_equals_numpy(x, data):
    a = np.array(x)
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1)) if x.ndim else None
    n = x.size if axis is None else x.shape[axis]
    index = data.draw(st.integers(-n, n) | st.lists(st.integers(-n, n), max_size=3))
    count = 1 if isinstance(index, int) else len(index)
    values = data.draw(host((count,) if axis is None or x.ndim == 1 else (1,)))
    expected = onp.insert(x, index, values, axis=axis)
    check(np.insert(a, index, np.array(values), axis=axis), expected)


@given(sizes=st.lists(st.integers(0, 3), min_size=1, max_size=3), indexing=st.sampled_from(["xy", "ij"]),
       sparse=st.booleans())
def test_meshgrid_equals_numpy(sizes, indexing, sparse):
    vectors = [onp.arange(n, dtype=onp.float32) + i for i, n in enumerate(sizes)]
    check_all(np.meshgrid(*[np.array(v) for v in vectors], indexing=indexing, sparse=sparse),
              onp.meshgrid(*vectors, indexing=indexing, sparse=sparse))


def test_insert_and_meshgrid_gradients():
    check_gradient(lambda m, x: m.sum(m.insert(x, 1, x[0] * 2, axis=0) ** 2), (2, 3))
    check_gradient(lambda m, x: m.sum(m.meshgrid(x[0], x[1])[0] * m.meshgrid(x[0], x[1])[1] ** 2), (2, 3))
