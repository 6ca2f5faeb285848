"""The mx.sym.np / mx.sym.npx functions MXNet 1.9.1 has that hybridized numpy-mode blocks lacked (issue 23): each
runs in a hybridized block and as the array call, against NumPy or MXNet's answers recorded in
tests/fixtures/mxnet-1.9.1/np_graph_names/ (reference/np_graph_names_fixtures.py). unique and nonzero, whose shapes
depend on values, are refused with an error naming them (MXNet's graphs have dynamic shapes, dataflow's do not)."""
import json
import os

import numpy as onp
import pytest
import scipy.stats
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import dataflow as mx
from dataflow import autograd, np, npx
from ops.errors import MXNetError
from tests.numpy_blocks import Apply, hybridized, np_mode  # noqa: F401 - np_mode: the autouse fixture

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "np_graph_names", "names.json")
with open(FIXTURES) as _f:
    MXNET = json.load(_f)
EXAMPLES = 20 if os.environ.get("CI") else 40


def both(function, *arrays):
    """(the hybridized block's result, the array call's), as host arrays (lists for several outputs)."""
    def host(out):
        return [o.asnumpy() for o in out] if isinstance(out, (list, tuple)) else out.asnumpy()
    arrays = [onp.asarray(a) for a in arrays]
    graph = host(hybridized(function, *arrays))
    eager = host(function(mx, *[np.array(a, dtype=a.dtype) for a in arrays]))
    return graph, eager


def assert_both(function, want, *arrays, rtol=1e-5, atol=1e-6):
    """Both ways give `want` (NumPy's answer): values, shape and dtype."""
    for got in both(function, *arrays):
        for ours, theirs in zip(*[x if isinstance(want, (list, tuple)) else [x] for x in (got, want)]):
            theirs = onp.asarray(theirs)
            assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, (ours.shape, ours.dtype, theirs.dtype)
            onp.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


# -- einsum: repeated labels (diagonals), '...', broadcasting --------------------------------------------------------
EINSUMS = [("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("iij->j", [(3, 3, 2)]), ("iji->ji", [(3, 2, 3)]),
           ("ijij->", [(2, 3, 2, 3)]), ("ii,i->i", [(3, 3), (3,)]), ("iik,kj->ij", [(2, 2, 3), (3, 4)]),
           ("bii->bi", [(2, 3, 3)]), ("...j->...", [(4, 5)]), ("...ij,...jk->...ik", [(3, 1, 2, 4), (2, 4, 2)]),
           ("ij,ij->i", [(1, 4), (2, 4)]), ("..., ...", [(), (2, 3)]), ("ki,...k->i...", [(3, 2), (4, 3)]),
           ("ij,jk", [(5, 0), (0, 4)]), ("i,j", [(2,), (3,)])]


@pytest.mark.parametrize("subscripts, shapes", EINSUMS)
def test_einsum_is_numpys(subscripts, shapes):
    rs = onp.random.RandomState(0)
    arrays = [rs.uniform(-1, 1, s).astype("float32") for s in shapes]
    want = onp.asarray(onp.einsum(subscripts, *arrays)).astype("float32")
    assert_both(lambda F, *a: F.np.einsum(subscripts, *a), want, *arrays)


@pytest.mark.parametrize("subscripts, shapes", [c for c in EINSUMS if 0 not in sum(c[1], ())])
def test_einsum_gradients_are_the_numeric_ones(subscripts, shapes):
    """The gradients for a head gradient `head` against central differences of sum(einsum(...) * head), float64."""
    rs = onp.random.RandomState(1)
    arrays = [rs.uniform(-1, 1, s) for s in shapes]
    head = rs.uniform(-1, 1, onp.shape(onp.einsum(subscripts, *arrays)))
    inputs = [np.array(a) for a in arrays]
    for x in inputs:
        x.attach_grad()
    block = Apply(lambda F, *a: F.np.einsum(subscripts, *a))
    block.hybridize()
    with autograd.record():
        y = block(*inputs)
    y.backward(np.array(head))
    for k, a in enumerate(arrays):
        numeric = onp.zeros_like(a)
        for index in onp.ndindex(*a.shape):
            step = onp.zeros_like(a)
            step[index] = 1e-6
            plus = [b + step if j == k else b for j, b in enumerate(arrays)]
            minus = [b - step if j == k else b for j, b in enumerate(arrays)]
            numeric[index] = ((onp.einsum(subscripts, *plus) - onp.einsum(subscripts, *minus)) * head).sum() / 2e-6
        onp.testing.assert_allclose(inputs[k].grad.asnumpy(), numeric, rtol=1e-6, atol=1e-8)


# -- sort / argsort's kind, full_like's ctx ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", [None, "quicksort", "mergesort", "heapsort", "stable"])
def test_sort_and_argsort_accept_kind(kind):
    x = onp.array([[3, 1, 2, 3], [0, -1, 5, 2]], "float32")
    assert_both(lambda F, a: F.np.sort(a, kind=kind), onp.sort(x, kind=kind), x)
    assert_both(lambda F, a: F.np.argsort(a, kind=kind), onp.argsort(x, kind="stable"), x)


def test_full_like_takes_ctx():
    x = onp.zeros((2, 3), "float32")
    assert_both(lambda F, a: F.np.full_like(a, 2.5, ctx=mx.cpu()), onp.full_like(x, 2.5), x)


# -- npx.reshape's special values -------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", MXNET["npx_reshape"], ids=lambda c: "%s-%s%s" % (c["shape"], c["newshape"],
                                                                                   "-reverse" * c["reverse"]))
def test_npx_reshape_is_mxnets(case):
    x = onp.arange(int(onp.prod(case["shape"])), dtype="float32").reshape(case["shape"])

    def function(F, a):
        return F.npx.reshape(a, tuple(case["newshape"]), reverse=case["reverse"])
    if isinstance(case["result"], dict):        # -3 on an axis of size > 1
        with pytest.raises(MXNetError, match="squeeze axis .* its size is"):
            hybridized(function, x).asnumpy()
        with pytest.raises(MXNetError, match="-3 drops a dimension of size 1"):
            function(mx, np.array(x))
        return
    assert_both(function, x.reshape(case["result"]), x)


def test_npx_reshape_gradient_reaches_the_input_shape():
    x = np.array(onp.arange(6, dtype="float32").reshape(2, 1, 3))
    x.attach_grad()
    block = Apply(lambda F, a: F.npx.reshape(a, (-2, -3, -1)) * 2)
    block.hybridize()
    with autograd.record():
        y = block(x)
    y.backward()
    assert y.shape == (2, 3)
    onp.testing.assert_array_equal(x.grad.asnumpy(), onp.full((2, 1, 3), 2, "float32"))


# -- resize, diag_indices_from ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("key, new_shape, data", [
    ("(2, 4)", (2, 4), MXNET["resize"]["data"]), ("7", 7, MXNET["resize"]["data"]),
    ("(2, 3) of (2, 3) int32", (3, 2), onp.arange(6, dtype="int32").reshape(2, 3)),
    (None, (2, 2), onp.zeros((2, 0, 1), "int8")), (None, (), onp.array([7.0], "float32"))])
def test_resize_is_mxnets_and_numpys(key, new_shape, data):
    data = onp.asarray(data, "float32" if isinstance(data, list) else data.dtype)
    want = onp.resize(data, new_shape)     # an empty array resizes to zeros
    if key is not None:
        recorded = MXNET["resize"][key]
        assert recorded["shape"] == list(want.shape) and recorded["dtype"] == str(want.dtype)
        onp.testing.assert_array_equal(recorded["value"], want.reshape(-1))
    assert_both(lambda F, a: F.np.resize(a, new_shape), want, data)


@settings(max_examples=EXAMPLES, deadline=None)
@given(hnp.arrays("float32", hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                  elements=st.integers(-5, 5).map(float)),
       st.one_of(st.integers(1, 9), st.tuples(st.integers(1, 3), st.integers(1, 4))))
def test_resize_repeats_the_flattened_array(data, new_shape):
    graph = hybridized(lambda F, a: F.np.resize(a, new_shape), data).asnumpy()
    onp.testing.assert_array_equal(graph, onp.resize(data, new_shape))


def test_resize_gradient_sums_the_repeats():
    x = np.array([1.0, 2.0, 3.0])
    x.attach_grad()
    block = Apply(lambda F, a: F.np.resize(a, (2, 4)))
    block.hybridize()
    with autograd.record():
        y = block(x)
    y.backward()
    onp.testing.assert_array_equal(x.grad.asnumpy(), [3, 3, 2])     # 8 positions over 3 elements


@pytest.mark.parametrize("key, shape", [("3x3", (3, 3)), ("2x2x2", (2, 2, 2))])
def test_diag_indices_from_is_mxnets(key, shape):
    recorded = MXNET["diag_indices_from"][key]
    want = onp.array(onp.diag_indices_from(onp.zeros(shape)))
    assert recorded["dtype"] == "int64" and recorded["shape"] == list(want.shape)
    onp.testing.assert_array_equal(recorded["value"], want.reshape(-1))
    graph = hybridized(lambda F, a: F.np.diag_indices_from(a), onp.zeros(shape, "float32"))
    assert graph.dtype == onp.int64
    onp.testing.assert_array_equal(graph.asnumpy(), want)
    onp.testing.assert_array_equal(onp.array([i.asnumpy() for i in np.diag_indices_from(np.zeros(shape))]), want)


# -- linalg: tensorinv, tensorsolve, eig, eigvals ---------------------------------------------------------------------
def _well_conditioned(rs, shape):
    n = int(onp.prod(shape[:len(shape) // 2]))
    return (onp.eye(n) * 4 + rs.uniform(-1, 1, (n, n))).reshape(shape).astype("float32")


@pytest.mark.parametrize("shape, ind", [((4, 6, 8, 3), 2), ((6, 2, 3), 1), ((2, 3, 4, 24), 3), ((5, 5), 1)])
def test_tensorinv_is_numpys(shape, ind):
    a = _well_conditioned(onp.random.RandomState(1), shape) if ind != 3 else \
        (onp.eye(24) * 4 + onp.random.RandomState(1).uniform(-1, 1, (24, 24))).reshape(shape).astype("float32")
    assert_both(lambda F, x: F.np.linalg.tensorinv(x, ind=ind), onp.linalg.tensorinv(a, ind=ind), a,
                rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("a_shape, b_shape, axes", [((6, 4, 2, 3, 4), (6, 4), None), ((2, 3, 6), (2, 3), None),
                                                    ((2, 6, 3), (2, 3), (1,)), ((4, 4), (4,), None)])
def test_tensorsolve_is_numpys(a_shape, b_shape, axes):
    rs = onp.random.RandomState(2)
    n = int(onp.prod(b_shape))
    moved = [d for i, d in enumerate(a_shape) if i not in (axes or ())] + [a_shape[i] for i in (axes or ())]
    system = (onp.eye(n) * 4 + rs.uniform(-1, 1, (n, n))).reshape(moved).astype("float32")
    order = [i for i in range(len(a_shape)) if i not in (axes or ())] + list(axes or ())
    a = onp.transpose(system, onp.argsort(order)).copy()
    b = rs.uniform(-1, 1, b_shape).astype("float32")
    want = onp.linalg.tensorsolve(a, b, axes=axes)
    assert_both(lambda F, x, y: F.np.linalg.tensorsolve(x, y, axes=axes), want, a, b, rtol=1e-4, atol=1e-5)


def test_tensorsolve_gradient_is_the_numeric_one():
    rs = onp.random.RandomState(3)
    a = (onp.eye(6) * 4 + rs.uniform(-1, 1, (6, 6))).reshape(2, 3, 6)
    b = rs.uniform(-1, 1, (2, 3))

    def loss(a_, b_):
        return (onp.linalg.tensorsolve(a_, b_) ** 2).sum()
    xa, xb = np.array(a), np.array(b)
    xa.attach_grad()
    xb.attach_grad()
    block = Apply(lambda F, p, q: (F.np.linalg.tensorsolve(p, q) ** 2).sum())
    block.hybridize()
    with autograd.record():
        y = block(xa, xb)
    y.backward()
    for value, grad, other, first in ((a, xa.grad.asnumpy(), b, True), (b, xb.grad.asnumpy(), a, False)):
        numeric = onp.zeros_like(value)
        for index in onp.ndindex(*value.shape):
            step = onp.zeros_like(value)
            step[index] = 1e-6
            args = ((value + step, other), (value - step, other)) if first else ((other, value + step),
                                                                                 (other, value - step))
            numeric[index] = (loss(*args[0]) - loss(*args[1])) / 2e-6
        onp.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


def _recorded(result):
    return onp.array(result["value"], result["dtype"]).reshape(result["shape"])


@pytest.mark.parametrize("name", ["symmetric", "triangular", "general"])
def test_eig_and_eigvals_are_mxnets(name):
    matrix = onp.array(MXNET["matrices"][name], "float32")
    values, vectors = (_recorded(r) for r in MXNET["eig"][name])
    onp.testing.assert_allclose(matrix @ vectors, vectors * values, rtol=1e-5, atol=1e-5)    # a V = V diag(w)
    assert_both(lambda F, a: F.np.linalg.eig(a), [values, vectors], matrix, rtol=1e-5, atol=1e-6)
    assert_both(lambda F, a: F.np.linalg.eigvals(a), _recorded(MXNET["eigvals"][name]), matrix, rtol=1e-5,
                atol=1e-6)


def test_complex_eigenvalues_are_refused_as_by_mxnet():
    rotation = onp.array(MXNET["matrices"]["rotation"], "float32")
    assert MXNET["eig"]["rotation"] == {"error": "MXNetError"} == MXNET["eigvals"]["rotation"]
    for function in (lambda F, a: F.np.linalg.eigvals(a), lambda F, a: F.np.linalg.eig(a)[0]):
        with pytest.raises(MXNetError, match="complex"):
            hybridized(function, rotation).asnumpy()


# -- npx.constraint_check; unique and nonzero refused -----------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1,), (2, 3), 6])
def test_constraint_check_passes_true_or_raises_its_message(shape):
    holds = MXNET["constraint_check"]["holds"]
    assert (holds["dtype"], holds["shape"], holds["value"]) == ("bool", [], [1.0])
    x = onp.random.RandomState(4).normal(size=shape).astype("float32")
    for got in both(lambda F, a, ok: a * F.npx.constraint_check(ok, "never"), x, onp.ones(shape, bool)):
        onp.testing.assert_array_equal(got, x)
    out = hybridized(lambda F, ok: F.npx.constraint_check(ok), onp.ones(shape, bool))
    assert out.shape == () and out.dtype == onp.bool_ and bool(out.asnumpy())
    # MXNet raises a ValueError; dataflow's engine reports the op's ValueError as an MXNetError naming the op
    assert MXNET["constraint_check"]["fails"] == {"error": "ValueError"}
    failing = onp.zeros(shape, bool)
    with pytest.raises(MXNetError, match="_npx_constraint_check.*condition violated"):
        hybridized(lambda F, ok: F.npx.constraint_check(ok, "condition violated"), failing).asnumpy()
    with pytest.raises(ValueError, match="condition violated"):
        npx.constraint_check(np.array(failing), "condition violated")


@pytest.mark.parametrize("function, name", [(lambda F, a: F.np.unique(a), "np.unique"),
                                            (lambda F, a: F.np.unique(a, return_counts=True), "np.unique"),
                                            (lambda F, a: F.npx.nonzero(a), "npx.nonzero")])
def test_value_dependent_shapes_are_refused_naming_the_function(function, name):
    """MXNet 1.9.1's graph runs them (dynamic shapes, recorded); dataflow's graphs need static shapes."""
    assert "error" not in MXNET["dynamic"]["unique"] and "error" not in MXNET["dynamic"]["nonzero"]
    with pytest.raises(NotImplementedError, match=name + " of a Symbol.*depends on the input's values"):
        hybridized(function, onp.array([3, 1, 2, 3, 1], "float32"))


# -- random samplers with Symbol parameters ---------------------------------------------------------------------------
@pytest.mark.parametrize("op_name", ["normal", "logistic", "gumbel"])
@pytest.mark.parametrize("shape1, shape2, out_shape", [((3, 2), (3, 2), (3, 2)), ((3, 2, 2), (3, 2, 2), (4, 3, 2, 2)),
                                                       ((3, 4, 5), (4, 1), (3, 4, 5))])
def test_location_scale_samplers_of_symbols_have_gradients(op_name, shape1, shape2, out_shape):
    """MXNet's test_np_random_grad, hybridized: d(sum of samples)/d(loc) is one per sample."""
    loc, scale = np.zeros(shape1), np.ones(shape2)
    loc.attach_grad()
    scale.attach_grad()
    block = Apply(lambda F, a, b: getattr(F.np.random, op_name)(loc=a, scale=b, size=out_shape))
    block.hybridize()
    with autograd.record():
        samples = block(loc, scale)
    samples.backward()
    assert samples.shape == out_shape
    assert loc.grad.shape == shape1 and scale.grad.shape == shape2
    onp.testing.assert_allclose(loc.grad.asnumpy().sum(), onp.prod(out_shape), rtol=1e-3)


@pytest.mark.parametrize("function, params, want_shape", [
    (lambda F, a, b: F.np.random.beta(a, b, size=(2, 3)), [(1,), (1,)], (2, 3)),
    (lambda F, a, b: F.np.random.beta(a, b), [(4,), (4,)], (4,)),
    (lambda F, a: F.np.random.chisquare(a, size=(4, 0, 5)), [(1,)], (4, 0, 5)),
    (lambda F, a: F.np.random.chisquare(a), [(3,)], (3,)),
    (lambda F, a: F.np.random.rayleigh(a, (2, 3)), [(2, 3)], (2, 3)),
    (lambda F, a: F.np.random.weibull(a), [(2, 3)], (2, 3)),
    (lambda F, a: F.np.random.pareto(a, size=(5, 2)), [(2,)], (5, 2)),
    (lambda F, a: F.np.random.power(a), [(3,)], (3,)),
    (lambda F, a: F.np.random.gamma(a, 2.0), [(3, 1)], (3, 1)),
    (lambda F, a, b: F.np.random.lognormal(a, b, (3, 4, 5)), [(3, 4, 5), (4, 1)], (3, 4, 5)),
    (lambda F, a, b: F.npx.random.normal_n(a, b, batch_shape=(2, 3)), [(2, 2), (2, 2)], (2, 3, 2, 2)),
    (lambda F, a, b: F.npx.random.uniform_n(a, b, batch_shape=6), [(), ()], (6,)),
    (lambda F, a: F.npx.random.bernoulli(prob=a), [(2, 3)], (2, 3)),
    (lambda F, a: F.npx.random.bernoulli(logit=a.astype("float16"), size=(4, 2, 3)), [(2, 3)], (4, 2, 3))])
def test_samplers_of_symbols_take_numpys_shapes(function, params, want_shape):
    """Shapes as MXNet's tests (test_np_random_beta, _chisquare, _rayleigh, test_npx_sample_n ...) ask: `size`,
    else the parameters' broadcast shape (npx's *_n: batch_shape + that)."""
    arrays = [onp.full(shape, 0.5, "float32") for shape in params]
    out = hybridized(function, *arrays)
    assert out.shape == want_shape


def test_samplers_of_symbols_draw_each_element_independently():
    """Without `size`, a Symbol parameter of n elements gives n independent draws of its distribution
    (Kolmogorov-Smirnov against scipy's), not one draw broadcast."""
    n = 4000
    ones = onp.ones(n, "float32")
    cases = [(lambda F, a: F.np.random.normal(loc=a * 0.0, scale=a), scipy.stats.norm.cdf),
             (lambda F, a: F.np.random.uniform(low=a * 0.0, high=a), scipy.stats.uniform.cdf),
             (lambda F, a: F.np.random.gamma(a * 2.0), scipy.stats.gamma(2.0).cdf),
             (lambda F, a: F.np.random.logistic(a * 0.0, a), scipy.stats.logistic.cdf),
             (lambda F, a: F.np.random.gumbel(a * 0.0, a), scipy.stats.gumbel_r.cdf),
             (lambda F, a: F.np.random.weibull(a * 2.0), scipy.stats.weibull_min(2.0).cdf),
             (lambda F, a: F.np.random.beta(a * 2.0, a * 3.0), scipy.stats.beta(2.0, 3.0).cdf),
             (lambda F, a: F.npx.random.normal_n(a * 0.0, a), scipy.stats.norm.cdf)]
    mx.random.seed(23)
    for function, cdf in cases:
        samples = hybridized(function, ones).asnumpy()
        assert samples.shape == (n,)
        assert scipy.stats.kstest(samples, cdf).pvalue > 1e-4


def test_bernoulli_of_symbols_follows_its_probabilities():
    mx.random.seed(5)
    prob = onp.array([0.1, 0.5, 0.9], "float32")
    for function in (lambda F, p: F.npx.random.bernoulli(prob=p, size=(5000, 3)),
                     lambda F, p: F.npx.random.bernoulli(logit=F.np.log(p / (1 - p)), size=(5000, 3))):
        samples = hybridized(function, prob).asnumpy()
        assert set(onp.unique(samples)) <= {0.0, 1.0} and samples.dtype == onp.float32
        onp.testing.assert_allclose(samples.mean(axis=0), prob, atol=0.03)


@pytest.mark.parametrize("replace", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_choice_from_a_symbols_elements(replace, weighted):
    """MXNet's test_np_choice, hybridized: 5 of the elements of `a` (distinct without replacement), and their
    frequencies over many draws follow `p` (uniform without it)."""
    a = onp.arange(10, 20).astype("float32")
    p = onp.random.RandomState(6).dirichlet([1.0] * 10).astype("float32") if weighted else None
    function = ((lambda F, x, w: F.np.random.choice(x, 5, replace, w)) if weighted else
                (lambda F, x: F.np.random.choice(x, size=5, replace=replace)))
    arrays = (a, p) if weighted else (a,)
    samples = hybridized(function, *arrays).asnumpy()
    assert samples.shape == (5,) and set(samples) <= set(a)
    if not replace:
        assert len(set(samples)) == 5
    mx.random.seed(7)
    draws = onp.concatenate([hybridized(lambda F, *x: F.np.random.choice(
        x[0], size=(4000,) if replace else None, replace=replace, p=x[1] if weighted else None), *arrays).asnumpy()
        .reshape(-1) for _ in range(1 if replace else 300)])
    frequencies = onp.bincount((draws - 10).astype(int), minlength=10) / draws.size
    onp.testing.assert_allclose(frequencies, p if weighted else onp.full(10, 0.1), atol=0.06 if not replace else 0.03)


def test_choice_of_a_range_without_replacement_is_a_sample_of_distinct_indices():
    out = hybridized(lambda F, x: F.np.random.choice(8, size=(2, 3), replace=False) + x * 0, onp.zeros((), "int64"))
    samples = out.asnumpy()
    assert samples.shape == (2, 3) and samples.dtype == onp.int64
    assert len(set(samples.reshape(-1))) == 6 and set(samples.reshape(-1)) <= set(range(8))


@pytest.mark.parametrize("size", [None, 1, (), (2, 3), (2, 0)])
@pytest.mark.parametrize("mean_shape, cov_shape", [((2,), (2, 2)), ((3, 2), (2, 2)), ((2,), (3, 2, 2)),
                                                   ((3, 2), (4, 3, 2, 2))])
def test_multivariate_normal_of_symbols_broadcasts_batches(size, mean_shape, cov_shape):
    """MXNet's test_np_multivariate_normal, hybridized: shape `size` + the batch axes of mean and cov broadcast."""
    mean = onp.broadcast_to(onp.array([0.5, 10.0], "float32"), mean_shape)
    cov = onp.broadcast_to(onp.array([[1.0, 0.5], [0.5, 10.0]], "float32"), cov_shape)
    out = hybridized(lambda F, m, c: F.np.random.multivariate_normal(m, c, size), mean, cov)
    leading = () if size is None else ((size,) if isinstance(size, int) else size)
    assert out.shape == leading + onp.broadcast_shapes(mean_shape, cov_shape[:-1])
    assert out.dtype == onp.float32


def test_multivariate_normal_of_symbols_has_the_covariance():
    mx.random.seed(11)
    cov = onp.array([[1.0, 0.5], [0.5, 2.0]], "float32")
    samples = hybridized(lambda F, m, c: F.np.random.multivariate_normal(m, c, (20000,)),
                         onp.array([1.0, -1.0], "float32"), cov).asnumpy()
    onp.testing.assert_allclose(samples.mean(axis=0), [1.0, -1.0], atol=0.05)
    onp.testing.assert_allclose(onp.cov(samples.T), cov, atol=0.08)


# -- mx.sym.npx's names -----------------------------------------------------------------------------------------------
def test_sym_npx_has_mxnets_names():
    """MXNet's helpers that leak into the modules (current_context) are not its API."""
    modules = {"sym_npx": mx.sym.npx, "sym_npx_random": mx.sym.npx.random, "sym_npx_image": mx.sym.npx.image}
    missing = {key: [name for name in MXNET[key] if not hasattr(module, name) and name != "current_context"]
               for key, module in modules.items()}
    assert missing == {"sym_npx": [], "sym_npx_random": [], "sym_npx_image": []}


def test_sym_npx_image_runs_the_image_ops():
    pixels = onp.random.RandomState(8).randint(0, 256, (4, 5, 3)).astype("uint8")
    want = pixels.transpose(2, 0, 1).astype("float32") / 255
    got = hybridized(lambda F, x: F.npx.image.to_tensor(x), pixels)
    onp.testing.assert_allclose(got.asnumpy(), want, rtol=1e-6)
    flipped = hybridized(lambda F, x: F.npx.image.flip_left_right(x), pixels)
    onp.testing.assert_array_equal(flipped.asnumpy(), pixels[:, ::-1])


# -- pinv: tall matrices, an array rcond, the gradient ----------------------------------------------------------------
@pytest.mark.parametrize("a_shape, rcond_shape", [((5, 6), None), ((6, 5), None), ((2, 4, 3), (2,)),
                                                  ((2, 2, 3, 4), (2, 1)), ((4, 6, 5), ())])
def test_pinv_is_numpys(a_shape, rcond_shape):
    rs = onp.random.RandomState(9)
    a = rs.uniform(-10, 10, a_shape).astype("float32")
    if rcond_shape is None:
        assert_both(lambda F, x: F.np.linalg.pinv(x), onp.linalg.pinv(a), a, rtol=1e-3, atol=1e-4)
        return
    rcond = rs.uniform(0, 0.1, rcond_shape).astype("float32")
    graph = hybridized(lambda F, x, r: F.np.linalg.pinv(x, r), a, rcond)
    onp.testing.assert_allclose(graph.asnumpy(), onp.linalg.pinv(a, rcond), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (2, 3, 3)])
def test_pinv_gradient_is_the_numeric_one(shape):
    rs = onp.random.RandomState(10)
    a = rs.uniform(-1, 1, shape) + onp.eye(*shape[-2:]) * 2
    head = rs.uniform(-1, 1, onp.linalg.pinv(a).shape)
    x = np.array(a)
    x.attach_grad()
    block = Apply(lambda F, m: F.np.linalg.pinv(m))
    block.hybridize()
    with autograd.record():
        y = block(x)
    y.backward(np.array(head))
    numeric = onp.zeros_like(a)
    for index in onp.ndindex(*a.shape):
        step = onp.zeros_like(a)
        step[index] = 1e-6
        numeric[index] = ((onp.linalg.pinv(a + step) - onp.linalg.pinv(a - step)) * head).sum() / 2e-6
    onp.testing.assert_allclose(x.grad.asnumpy(), numeric, rtol=1e-5, atol=1e-7)


# -- eigh / eigvalsh: the UPLO triangle, integer matrices --------------------------------------------------------------
@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize("dtype", ["float32", "int32", "uint8"])
def test_eigh_reads_its_triangle_and_takes_integers(uplo, dtype):
    """As MXNet's _npi_eigh: the matrix the UPLO triangle describes (the other triangle ignored); integer input
    gives float64."""
    a = onp.array([[4, 1, 9], [2, 5, 7], [3, 0, 6]], dtype)
    want_values, want_vectors = onp.linalg.eigh(a.astype("float64"), UPLO=uplo)
    out_dtype = "float32" if dtype == "float32" else "float64"
    values, vectors = hybridized(lambda F, x: F.np.linalg.eigh(x, UPLO=uplo), a)
    assert values.dtype == vectors.dtype == onp.dtype(out_dtype)
    onp.testing.assert_allclose(values.asnumpy(), want_values, rtol=1e-5)
    onp.testing.assert_allclose(onp.abs(vectors.asnumpy()), onp.abs(want_vectors), rtol=1e-4, atol=1e-5)
    only_values = hybridized(lambda F, x: F.np.linalg.eigvalsh(x, UPLO=uplo), a)
    onp.testing.assert_allclose(only_values.asnumpy(), want_values, rtol=1e-5)
