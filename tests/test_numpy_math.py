"""`mx.np`'s maths beyond the first slice (dataflow/numpy/elementwise.py, reductions.py, contraction.py,
sorting.py, random.py) against NumPy on random inputs (hypothesis over shapes with zero-dim and zero-size ones),
gradients against numeric ones, sampling functions against their distributions' moments, and bad input against
NumPy's error kinds."""
import numpy as onp
import pytest
from hypothesis import assume, given, strategies as st
from hypothesis.extra import numpy as hnp

import dataflow as mx
from dataflow import np
from tests import numpy_func_dtype_cases
from tests.numpy_func_cases import check, check_all, check_gradient, host, shapes

broadcastable = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
special = st.sampled_from([0.0, -0.0, 1.5, -2.5, 0.5, onp.inf, -onp.inf, onp.nan])


# -- element-wise -----------------------------------------------------------------------------------------------------
UNARY_DOMAINS = {
    "arcsin": (-0.875, 0.875), "arccos": (-0.875, 0.875), "arctan": (-3, 3), "sinh": (-3, 3), "cosh": (-3, 3),
    "tan": (-1.25, 1.25), "arcsinh": (-3, 3), "arccosh": (1.125, 3), "arctanh": (-0.875, 0.875),
    "log2": (0.125, 3), "log10": (0.125, 3), "cbrt": (-3, 3), "reciprocal": (0.25, 3), "rint": (-3, 3),
    "trunc": (-3, 3),
    "fix": (-3, 3), "degrees": (-3, 3), "radians": (-3, 3), "rad2deg": (-3, 3), "deg2rad": (-3, 3),
    "fabs": (-3, 3), "positive": (-3, 3), "around": (-3, 3), "round": (-3, 3),
}


@pytest.mark.parametrize("name", sorted(UNARY_DOMAINS))
@given(shape=shapes, data=st.data())
def test_unary_functions_equal_numpy(name, shape, data):
    lo, hi = UNARY_DOMAINS[name]
    x = data.draw(host(shape, st.floats(lo, hi, width=32)))
    check(getattr(np, name)(np.array(x)), REFERENCES.get(name, getattr(onp, name))(x), rtol=1e-5, atol=1e-5)


def rint_as_mxnet(x):
    """MXNet's rint rounds halves down (-0.5 -> -1, 0.5 -> 0; fixture numpy_func/dtypes.json 'rint_halves')."""
    below = onp.floor(x)
    return onp.where(x - below <= 0.5, below, onp.ceil(x)).astype(x.dtype)


REFERENCES = {"rint": rint_as_mxnet}


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "logical_not", "signbit"])
@given(x=host(shapes, special))
def test_tests_give_bool_arrays_as_numpy(name, x):
    if name == "signbit":
        x = onp.where(x == 0, onp.float32(0), x)     # -0.0: ours counts it positive
    check(getattr(np, name)(np.array(x)), getattr(onp, name)(x))


@given(x=host(shapes, special))
def test_nan_to_num(x):
    check(np.nan_to_num(np.array(x)), onp.nan_to_num(x))
    check(np.nan_to_num(np.array(x), nan=-1.0, posinf=9.0, neginf=-9.0),
          onp.nan_to_num(x, nan=-1.0, posinf=9.0, neginf=-9.0))


@pytest.mark.parametrize("name", ["hypot", "arctan2", "copysign", "remainder", "equal", "not_equal", "greater",
                                  "greater_equal", "less", "less_equal", "logical_and", "logical_or",
                                  "logical_xor"])
@given(shapes=broadcastable, data=st.data())
def test_binary_functions_equal_numpy(name, shapes, data):
    values = st.sampled_from([-2.0, -1.5, -0.5, 0.0, 0.5, 1.0, 2.5]) if name != "remainder" else \
        st.sampled_from([-2.5, -1.0, 0.5, 1.5, 3.0])
    x = data.draw(host(shapes.input_shapes[0], values))
    y = data.draw(host(shapes.input_shapes[1], values))
    check(getattr(np, name)(np.array(x), np.array(y)), getattr(onp, name)(x, y), rtol=1e-5, atol=1e-6)
    check(getattr(np, name)(np.array(x), 1.5), getattr(onp, name)(x, onp.float32(1.5)), rtol=1e-5, atol=1e-6)
    check(getattr(np, name)(-1.5, np.array(y)), getattr(onp, name)(onp.float32(-1.5), y), rtol=1e-5, atol=1e-6)


def test_ldexp():
    x = onp.array([0.5, -1.5, 3.0], onp.float32)
    check(np.ldexp(np.array(x), np.array([1., 3., -2.])), onp.ldexp(x, [1, 3, -2]))


# -- reductions -------------------------------------------------------------------------------------------------------
def axis_or_none(data, ndim):
    return data.draw(st.none() | st.integers(-ndim, ndim - 1)) if ndim else None


@given(x=host(shapes), data=st.data())
def test_statistics_equal_numpy(x, data):
    a = np.array(x)
    axis = axis_or_none(data, x.ndim)
    keepdims = data.draw(st.booleans())
    for name in ("any", "all", "count_nonzero", "nansum"):
        check(getattr(np, name)(a, axis=axis, keepdims=keepdims), getattr(onp, name)(x, axis=axis, keepdims=keepdims),
              rtol=1e-5, atol=1e-5)
    assume(x.size and (axis is None or x.shape[axis]))
    ddof = data.draw(st.integers(0, 1))
    n = x.size if axis is None else x.shape[axis]
    if n > ddof:
        check(np.var(a, axis=axis, ddof=ddof, keepdims=keepdims), onp.var(x, axis=axis, ddof=ddof, keepdims=keepdims),
              rtol=1e-4, atol=1e-5)
        check(np.std(a, axis=axis, ddof=ddof), onp.std(x, axis=axis, ddof=ddof), rtol=1e-4, atol=1e-5)
    check(np.ptp(a, axis=axis, keepdims=keepdims), onp.ptp(x, axis=axis, keepdims=keepdims))
    check(np.average(a, axis=axis), onp.average(x, axis=axis), rtol=1e-5, atol=1e-6)
    if axis is not None:
        w = data.draw(host((x.shape[axis],), st.floats(0.5, 2, width=32)))
        check(np.average(a, axis=axis, weights=np.array(w)), onp.average(x, axis=axis, weights=w),
              rtol=1e-4, atol=1e-5)


@given(x=host(shapes), data=st.data())
def test_cumsum_and_diff_equal_numpy(x, data):
    a = np.array(x)
    axis = axis_or_none(data, x.ndim)
    check(np.cumsum(a, axis=axis), onp.cumsum(x, axis=axis), rtol=1e-5, atol=1e-5)
    check(np.cumsum(a, axis=axis, dtype="float64"), onp.cumsum(x, axis=axis, dtype="float64"), rtol=1e-5)
    ints = (x * 2).astype(onp.int32)
    check(np.cumsum(np.array(ints), axis=axis), onp.cumsum(ints, axis=axis).astype(onp.int32))    # MXNet: int32
    check(np.cumsum(np.array(x > 0), axis=axis), onp.cumsum(x > 0, axis=axis))
    if x.ndim:
        axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
        n = data.draw(st.integers(0, 3))
        check(np.diff(a, n, axis=axis), onp.diff(x, n, axis=axis), rtol=1e-5, atol=1e-5)
        check(np.diff(a, axis=axis, prepend=1.0), onp.diff(x, axis=axis, prepend=onp.float32(1.0)), atol=1e-6)
    check(np.ediff1d(a, to_end=np.array([5.0])), onp.ediff1d(x, to_end=onp.float32(5)), atol=1e-6)


# -- contractions ---------------------------------------------------------------------------------------------------
@given(data=st.data(), n=st.integers(0, 3), k=st.integers(0, 3), m=st.integers(0, 3), b=st.integers(1, 3))
def test_tensordot_and_products(data, n, k, m, b):
    x, y = data.draw(host((b, n, k))), data.draw(host((k, b, m)))
    check(np.tensordot(np.array(x), np.array(y), ([2, 0], [0, 1])), onp.tensordot(x, y, ([2, 0], [0, 1])),
          rtol=1e-4, atol=1e-5)
    check(np.tensordot(np.array(x), np.array(y), 1), onp.tensordot(x, y, 1), rtol=1e-4, atol=1e-5)
    check(np.tensordot(np.array(x), np.array(y), 0), onp.tensordot(x, y, 0), rtol=1e-4, atol=1e-5)
    check(np.outer(np.array(x), np.array(y)), onp.outer(x, y))
    check(np.inner(np.array(x), np.array(x)), onp.inner(x, x), rtol=1e-4, atol=1e-5)
    check(np.vdot(np.array(x), np.array(x)), onp.vdot(x, x), rtol=1e-4, atol=1e-5)


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=2), data=st.data(),
       m=st.integers(0, 3), k=st.integers(0, 3), n=st.integers(0, 3), vectors=st.sampled_from(["", "a", "b", "ab"]))
def test_matmul_and_dot_broadcast_as_numpy(shapes, data, m, k, n, vectors):
    a_shape = (k,) if "a" in vectors else shapes.input_shapes[0] + (m, k)
    b_shape = (k,) if "b" in vectors else shapes.input_shapes[1] + (k, n)
    x, y = data.draw(host(a_shape)), data.draw(host(b_shape))
    check(np.matmul(np.array(x), np.array(y)), onp.matmul(x, y), rtol=1e-4, atol=1e-5)
    check(np.dot(np.array(x), np.array(y)), onp.dot(x, y), rtol=1e-4, atol=1e-5)
    ints = (x * 4).astype(onp.int32), (y * 4).astype(onp.int32)
    check(np.matmul(np.array(ints[0]), np.array(ints[1])), onp.matmul(*ints))


EINSUMS = ["ij,jk->ik", "ij,jk", "ii->i", "ii", "ij->ji", "ij->", "i,i->", "i,j->ij", "bij,bjk->bik",
           "...ij,...jk->...ik", "ij...,jk...->ik...", "ijk,ikl->jl", "ij,ij->ij", "iij,jk->ik", "i,i,i->i",
           "abc,cd,de->abe", ",ij->ij", "ijk"]


@pytest.mark.parametrize("subscripts", EINSUMS)
@given(data=st.data())
def test_einsum_equals_numpy(subscripts, data):
    sizes = {c: data.draw(st.integers(0, 3)) for c in "ijklabcde"}
    extra = tuple(data.draw(st.lists(st.integers(1, 2), max_size=2)))
    operands = []
    for term in subscripts.split("->")[0].split(","):
        shape = tuple(sizes[c] for c in term.replace("...", ""))
        if term.startswith("..."):
            shape = extra + shape
        elif term.endswith("..."):
            shape = shape + extra
        operands.append(data.draw(host(shape)))
    check(np.einsum(subscripts, *[np.array(o) for o in operands]), onp.einsum(subscripts, *operands),
          rtol=1e-4, atol=1e-5)


def test_einsum_of_integers_keeps_the_dtype():
    x = onp.arange(6, dtype=onp.int32).reshape(2, 3)
    check(np.einsum("ij,kj->ik", np.array(x), np.array(x)), onp.einsum("ij,kj->ik", x, x))


# -- sorting and searching ------------------------------------------------------------------------------------------
@given(x=host(shapes, st.sampled_from([-1.0, 0.0, 0.5, 2.0, 3.0])), data=st.data())
def test_sorting_equals_numpy(x, data):
    a = np.array(x)
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1)) if x.ndim else None
    check(np.sort(a, axis=axis), onp.sort(x, axis=axis))
    check(np.argsort(a, axis=axis), onp.argsort(x, axis=axis, kind="stable"))
    check(np.sort(a > 0, axis=axis), onp.sort(x > 0, axis=axis))
    check(np.flatnonzero(a), onp.flatnonzero(x))
    check(np.argwhere(a), onp.argwhere(x))
    if x.ndim:
        check_all(np.nonzero(a), onp.nonzero(x))
    values = onp.unique(x)
    check(np.unique(a), values)
    found = np.unique(a, return_index=True, return_inverse=True, return_counts=True)
    expected = onp.unique(x, return_index=True, return_inverse=True, return_counts=True)
    check_all(found, [expected[0], expected[1], expected[2].reshape(-1), expected[3]])
    probes = data.draw(host(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3)))
    for side in ("left", "right"):
        check(np.searchsorted(np.array(values), np.array(probes), side=side),
              onp.searchsorted(values, probes, side=side))


# -- random ---------------------------------------------------------------------------------------------------------
SAMPLERS = {        # name: (our call, NumPy's same distribution)
    "gamma": (lambda r, n: r.gamma(2.0, 3.0, size=n), lambda r, n: r.gamma(2.0, 3.0, n)),
    "beta": (lambda r, n: r.beta(2.0, 3.0, size=n), lambda r, n: r.beta(2.0, 3.0, n)),
    "chisquare": (lambda r, n: r.chisquare(3, size=n), lambda r, n: r.chisquare(3, n)),
    "exponential": (lambda r, n: r.exponential(2.0, size=n), lambda r, n: r.exponential(2.0, n)),
    "lognormal": (lambda r, n: r.lognormal(0.5, 0.5, size=n), lambda r, n: r.lognormal(0.5, 0.5, n)),
    "logistic": (lambda r, n: r.logistic(1.0, 2.0, size=n), lambda r, n: r.logistic(1.0, 2.0, n)),
    "gumbel": (lambda r, n: r.gumbel(1.0, 2.0, size=n), lambda r, n: r.gumbel(1.0, 2.0, n)),
    "weibull": (lambda r, n: r.weibull(1.5, size=n), lambda r, n: r.weibull(1.5, n)),
    "pareto": (lambda r, n: r.pareto(5.0, size=n), lambda r, n: r.pareto(5.0, n)),
    "power": (lambda r, n: r.power(3.0, size=n), lambda r, n: r.power(3.0, n)),
    "rayleigh": (lambda r, n: r.rayleigh(2.0, size=n), lambda r, n: r.rayleigh(2.0, n)),
    "laplace": (lambda r, n: r.laplace(1.0, 2.0, size=n), lambda r, n: r.laplace(1.0, 2.0, n)),
    "gamma_array": (lambda r, n: r.gamma(np.array([1.0, 4.0]), 0.5, size=(n, 2))[:, 1],
                    lambda r, n: r.gamma(4.0, 0.5, n)),
    "choice_p": (lambda r, n: r.choice(4, n, p=[0.1, 0.2, 0.3, 0.4]),
                 lambda r, n: r.choice(4, n, p=[0.1, 0.2, 0.3, 0.4])),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_sampling_distributions(name):
    """Two-sample Kolmogorov-Smirnov against NumPy's sampler of the same distribution (p > 1e-4)."""
    from scipy import stats
    ours, theirs = SAMPLERS[name]
    mx.random.seed(17)
    samples = ours(np.random, 4000)
    assert isinstance(samples, np.ndarray) and samples.shape == (4000,)
    assert samples.dtype == (onp.int64 if name.startswith("choice") else onp.float32)
    reference = theirs(onp.random.RandomState(5), 4000)
    assert stats.ks_2samp(samples.asnumpy(), reference).pvalue > 1e-4


def test_choice_permutation_multinomial():
    mx.random.seed(3)
    picks = np.random.choice(10, 10, replace=False)
    assert picks.dtype == onp.int64 and sorted(picks.asnumpy().tolist()) == list(range(10))
    weighted = np.random.choice(5, 4, replace=False, p=np.array([0.1, 0.1, 0.1, 0.1, 0.6])).asnumpy()
    assert len(set(weighted.tolist())) == 4
    elements = np.random.choice(np.array([5.0, 7.0]), size=(3, 2))
    assert elements.shape == (3, 2) and set(elements.asnumpy().ravel()) <= {5.0, 7.0}
    assert sorted(np.random.permutation(6).asnumpy().tolist()) == list(range(6))
    rows = np.random.permutation(np.arange(12.0).reshape(4, 3)).asnumpy()
    assert sorted(rows[:, 0].tolist()) == [0, 3, 6, 9] and (rows[:, 1] == rows[:, 0] + 1).all()
    counts = np.random.multinomial(20, [0.25, 0.75], size=(500,))
    assert counts.dtype == onp.int64 and counts.shape == (500, 2)
    assert (counts.asnumpy().sum(axis=1) == 20).all() and abs(counts.asnumpy()[:, 0].mean() - 5) < 0.3
    mean, cov = onp.array([1.0, -2.0]), onp.array([[1.0, 0.6], [0.6, 2.0]])
    draws = np.random.multivariate_normal(np.array(mean), np.array(cov), size=20000).asnumpy()
    onp.testing.assert_allclose(draws.mean(axis=0), mean, atol=0.05)
    onp.testing.assert_allclose(onp.cov(draws.T), cov, atol=0.08)
    with pytest.raises(ValueError, match="larger sample"):
        np.random.choice(3, 4, replace=False)
    with pytest.raises(ValueError, match="same size"):
        np.random.choice(3, 2, p=[0.5, 0.5])


# -- errors and gradients -------------------------------------------------------------------------------------------
def test_bad_input_raises_numpy_error_kinds():
    with pytest.raises(ValueError, match="shape-mismatch"):
        np.tensordot(np.ones((2, 3)), np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match="einsum"):
        np.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="einsum"):
        np.einsum("ij->k", np.ones((2, 3)))
    with pytest.raises(TypeError, match="subscripts"):
        np.einsum(np.ones(2))
    with pytest.raises(getattr(onp, "exceptions", onp).AxisError):  # numpy.exceptions: NumPy >= 1.25
        np.cumsum(np.ones((2, 3)), axis=2)
    with pytest.raises(getattr(onp, "exceptions", onp).AxisError):  # numpy.exceptions: NumPy >= 1.25
        np.sort(np.ones((2, 3)), axis=-3)
    with pytest.raises(ValueError, match="0d"):
        np.nonzero(np.array(1.0))
    with pytest.raises(ValueError, match="non-negative"):
        np.diff(np.ones(3), -1)
    with pytest.raises(TypeError, match="Axis must be specified"):
        np.average(np.ones((2, 3)), weights=np.ones(3))


GRAD_CASES = {
    "arcsin_cbrt": (lambda m, x: m.sum(m.arcsin(x * 0.5) * m.cbrt(x + 2)), (2, 3)),
    "hypot_arctan2": (lambda m, x: m.sum(m.hypot(x, x + 2) + m.arctan2(x, x * x + 1)), (2, 3)),
    "copysign_ldexp": (lambda m, x: m.sum(m.copysign(x, x[0] - 0.2) ** 2 + m.ldexp(x, 2)), (2, 3)),
    "var_std": (lambda m, x: m.var(x, axis=1).sum() + m.std(x) ** 2, (3, 4)),
    "average_weights": (lambda m, x: m.average(x * x, axis=0, weights=m.array([1.0, 2.0, 3.0])).sum(), (3, 2)),
    "cumsum": (lambda m, x: m.sum(m.cumsum(x, axis=1) ** 2) + m.sum(m.cumsum(x) * m.arange(6.0)), (2, 3)),
    "diff": (lambda m, x: m.sum(m.diff(x, 2, axis=0) ** 2), (4, 2)),
    "tensordot": (lambda m, x: m.sum(m.tensordot(x, x, ([0], [1])) ** 2), (3, 3)),
    "einsum_matmul": (lambda m, x: m.sum(m.einsum("ij,jk->ik", x, x.T) ** 2), (2, 3)),
    "matmul_broadcast": (lambda m, x: m.sum(m.matmul(m.stack([x, 2 * x]).reshape(2, 1, 2, 3), x.reshape(3, 2)) ** 2)
                         + m.sum(m.dot(x.reshape(3, 2), x) ** 2), (2, 3)),
    "einsum_trace_outer": (lambda m, x: m.einsum("ii", x) ** 2 + m.sum(m.einsum("i,j->ij", x[0], x[1]) ** 2),
                           (3, 3)),
    "einsum_three": (lambda m, x: m.sum(m.einsum("ab,bc,ca->a", x, x, x)), (3, 3)),
    "inner_outer_vdot": (lambda m, x: m.sum(m.inner(x, x)) + m.sum(m.outer(x, x[0]) ** 2) + m.vdot(x, x * x),
                         (2, 3)),
    "sort": (lambda m, x: m.sum(m.sort(x, axis=1) * m.arange(4.0)), (3, 4)),
    "nan_to_num_ptp": (lambda m, x: m.sum(m.nan_to_num(x) ** 2) + m.ptp(x, axis=0).sum(), (3, 2)),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradients_equal_numeric(name):
    f, shape = GRAD_CASES[name]
    check_gradient(f, shape, low=0.1 if name != "sort" else -1, high=1)


# -- MXNet's recorded results -------------------------------------------------------------------------------------
def _recorded():
    import json
    import os
    path = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "numpy_func", "dtypes.json")
    with open(path) as fh:
        return json.load(fh)


DTYPE_CASES = numpy_func_dtype_cases.cases(np, onp)


@pytest.mark.parametrize("name", sorted(DTYPE_CASES))
def test_results_match_mxnet(name):
    """dtype, shape and (deterministic cases) values of MXNet 1.9.1 (reference/numpy_func_fixtures.py)."""
    recorded = _recorded()[name]
    mx.random.seed(0)
    ours = DTYPE_CASES[name]()
    assert isinstance(ours, np.ndarray)
    assert (str(ours.dtype), list(ours.shape)) == (recorded["dtype"], recorded["shape"])
    if name not in numpy_func_dtype_cases.RANDOM | numpy_func_dtype_cases.SIGN_AMBIGUOUS:
        onp.testing.assert_allclose(ours.asnumpy(), onp.array(recorded["value"]), rtol=1e-5, atol=1e-6)


def test_creation_and_host_index_functions():
    check(np.logspace(0, 2, 5), onp.logspace(0, 2, 5).astype(onp.float32))
    check(np.indices((2, 3)), onp.indices((2, 3)).astype(onp.int32))
    for name in ("hanning", "hamming", "blackman"):
        check(getattr(np, name)(6), getattr(onp, name)(6).astype(onp.float32), atol=1e-6)
    x = onp.array([0, 3, 1, 1, 5], onp.int32)
    check(np.bincount(np.array(x)), onp.bincount(x))
    check(np.bincount(np.array(x), weights=np.array([0.5] * 5), minlength=8),
          onp.bincount(x, [0.5] * 5, 8).astype(onp.float32))
    check_all(np.unravel_index(np.array([5, 1, 0]), (2, 3)), onp.unravel_index([5, 1, 0], (2, 3)))
    check(np.polyval(np.array([3.0, -1.0, 2.0]), np.array([[0.5, 2.0]])),
          onp.polyval(onp.array([3.0, -1.0, 2.0], onp.float32), onp.array([[0.5, 2.0]], onp.float32)))
    check_gradient(lambda m, x: m.sum(m.polyval(x[0], x[1])), (2, 3))
    c = np.copy(np.ones(2))
    assert isinstance(c, np.ndarray)


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
@given(x=host(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)), data=st.data())
def test_quantiles_equal_numpy(method, x, data):
    a = np.array(x)
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    q = data.draw(st.floats(0, 1) | st.lists(st.floats(0, 1), min_size=1, max_size=3))
    keepdims = data.draw(st.booleans())
    check(np.quantile(a, q, axis=axis, interpolation=method, keepdims=keepdims),
          onp.quantile(x, q, axis=axis, method=method, keepdims=keepdims).astype(onp.float32), rtol=1e-5, atol=1e-5)
    check(np.percentile(a, onp.multiply(q, 100), axis=axis, interpolation=method),
          onp.percentile(x, onp.multiply(q, 100), axis=axis, method=method).astype(onp.float32), rtol=1e-5,
          atol=1e-4)
    check(np.median(a, axis=axis), onp.median(x, axis=axis), rtol=1e-5, atol=1e-5)


def test_quantile_gradient_and_errors():
    check_gradient(lambda m, x: m.sum(m.quantile(x, [0.25, 0.6], axis=1) ** 2), (3, 5))
    with pytest.raises(ValueError, match="range"):
        np.quantile(np.ones(3), 1.5)
    with pytest.raises(ValueError, match="interpolation"):
        np.quantile(np.ones(3), 0.5, interpolation="cubic")


def test_host_fallbacks_equal_numpy():
    """The functions MXNet 1.9.1 runs through NumPy itself (dataflow/numpy/fallback.py)."""
    x = onp.array([[3.0, onp.nan, 1.0], [2.0, 5.0, 4.0]], onp.float32)
    a = np.array(x)
    check(np.nanmax(a, axis=1), onp.nanmax(x, axis=1))
    check(np.nancumsum(a), onp.nancumsum(x))
    check(np.take_along_axis(a, np.array(onp.array([[2], [0]])), 1), onp.take_along_axis(x, onp.array([[2], [0]]), 1))
    check(np.isclose(a, a + 1e-9), onp.isclose(x, x + 1e-9))
    check(np.bitwise_and(np.array([3, 6], dtype="int32"), np.array([1, 4], dtype="int32")), onp.array([1, 4], "int32"))
    check(np.interp(np.array([1.5]), np.array([1.0, 2.0]), np.array([10.0, 20.0])), onp.array([15.0]))
    counts, edges = np.histogram(np.array([1.0, 2.0, 2.5]), 2)
    check(counts, onp.histogram([1.0, 2.0, 2.5], 2)[0])
    assert isinstance(edges, np.ndarray) and bool(np.allclose(a[1], a[1]))
    assert np.finfo is onp.finfo and np.promote_types("float32", "int32") == onp.float64
