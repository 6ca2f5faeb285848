"""The per-element `_sample_*` ops, the `*_like` ops and `_sample_unique_zipfian`, and how `mx.nd.random` /
`mx.sym.random` pick between `_random_*` and `_sample_*`.

Shapes, dtypes, JSON nodes, errors and (zero) gradients against MXNet 1.9.1 (tests/fixtures/mxnet-1.9.1/random/,
recorded by reference/random_fixtures.py); the draws themselves, which cannot match MXNet's generator, against their
distributions (moments and Kolmogorov-Smirnov tests with fixed seeds).
"""
import json
import os

import numpy as np
import pytest
from scipy import stats

import dataflow as mx
from tests.paths import FIXTURES

nd = mx.nd
with open(os.path.join(FIXTURES, "random", "cases.json")) as _fh:
    CASES = json.load(_fh)


def _outcome(fn):
    """What the fixture script records for a call: shapes and dtypes, or the error kind."""
    try:
        out = fn()
        outs = out if isinstance(out, (list, tuple)) else [out]
        for o in outs:
            o.wait_to_read()
        return {"shapes": [list(o.shape) for o in outs], "dtypes": [np.dtype(o.dtype).name for o in outs]}
    except mx.MXNetError as err:
        return {"error": "MXNetError", "message": str(err)}
    except (AssertionError, TypeError, ValueError) as err:
        return {"error": type(err).__name__, "message": str(err)}


def _legacy(op):
    """`mx.nd.sample_uniform` for `_sample_uniform`: MXNet's old top-level name of the op itself."""
    return getattr(nd, op.lstrip("_"))


def _check(case, got):
    if "error" in case:
        assert got.get("error") == case["error"], (case, got)
    else:
        assert got == {"shapes": case["shapes"], "dtypes": case["dtypes"]}, (case, got)


@pytest.mark.parametrize("case", CASES["sample"], ids=lambda c: "%s-%s" % (c["op"], c.get("case", c.get("kwargs"))))
def test_sample_ops_shapes_dtypes_and_errors_match_mxnet(case):
    from reference.random_fixtures import SAMPLE_INPUTS, VALUES
    dist = case["op"][len("_sample_"):]
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in case.get("kwargs", {}).items()}
    shapes = case.get("in_shapes", [case.get("in_shape", [2, 3])] * len(SAMPLE_INPUTS[dist]))
    ins = [nd.array(np.full(s, v), dtype=case.get("in_dtype", "float32")) for s, v in zip(shapes, VALUES[dist])]
    _check(case, _outcome(lambda: _legacy(case["op"])(*ins, **kwargs)))


@pytest.mark.parametrize("case", CASES["like"], ids=lambda c: "%s-%s" % (c["op"], c["dtype"]))
def test_like_ops_take_the_shape_and_float_dtype_of_their_input(case):
    data = nd.array(np.random.RandomState(0).rand(*case["shape"]), dtype=case["dtype"])
    dist = case["op"][len("_random_"):-len("_like")]
    _check(case, _outcome(lambda: getattr(nd.random, dist + "_like")(data)))


@pytest.mark.parametrize("case", CASES["like_errors"], ids=lambda c: c["op"])
def test_like_ops_check_their_params_as_mxnet(case):
    dist = case["op"][len("_random_"):-len("_like")]
    with pytest.raises(mx.MXNetError) as info:
        getattr(nd.random, dist + "_like")(nd.ones((2, 2)), **case["kwargs"]).wait_to_read()
    assert case["message"].split(" : ")[-1] in str(info.value)


def test_random_ops_check_their_params_as_mxnet_too():
    with pytest.raises(mx.MXNetError, match="low must be less or equal to high"):
        nd.random.uniform(2, 1, shape=2).wait_to_read()
    with pytest.raises(mx.MXNetError, match="lambda parameter in exponential distribution has to be positive"):
        nd.random.exponential(-1, shape=2).wait_to_read()


@pytest.mark.parametrize("case", CASES["zipfian"], ids=lambda c: str(c["kwargs"]))
def test_unique_zipfian_shapes_dtypes_and_errors_match_mxnet(case):
    kwargs = {k: tuple(v) if k == "shape" else v for k, v in case["kwargs"].items()}
    _check(case, _outcome(lambda: nd._internal._sample_unique_zipfian(**kwargs)))


def _front_calls(a, b):
    return {
        "uniform(nd, nd, shape=2)": lambda: nd.random.uniform(a, b, shape=2),
        "uniform(nd, nd)": lambda: nd.random.uniform(a, b),
        "uniform(nd, 2)": lambda: nd.random.uniform(a, 2),
        "uniform(1, nd)": lambda: nd.random.uniform(1, b),
        "normal(nd, nd, shape=3, dtype=float64)": lambda: nd.random.normal(a, b, shape=3, dtype="float64"),
        "exponential(nd, shape=3)": lambda: nd.random.exponential(a, shape=3),
        "gamma(nd, nd, shape=(1, 2))": lambda: nd.random.gamma(a, b, shape=(1, 2)),
        "poisson(nd)": lambda: nd.random.poisson(a),
        "negative_binomial(nd, nd)": lambda: nd.random.negative_binomial(a, b * 0.25),
        "generalized_negative_binomial(nd, nd, shape=4)": lambda: nd.random.generalized_negative_binomial(a, b,
                                                                                                          shape=4),
        "randint(nd, nd, shape=3)": lambda: nd.random.randint(a, b, shape=3),
        "normal('a', nd)": lambda: nd.random.normal("a", b),
        "uniform(nd, nd, shape=2, out=zeros((2, 3, 2)))": lambda: nd.random.uniform(a, b, shape=2,
                                                                                     out=nd.zeros((2, 3, 2))),
        "mx.random.normal(nd, nd)": lambda: mx.random.normal(a, b),
        "nd.sample_uniform(nd, nd, shape=2)": lambda: nd.sample_uniform(a, b, shape=2),
        "nd.sample_normal(mu=nd, sigma=nd)": lambda: nd.sample_normal(mu=a, sigma=b),
        "nd.random.uniform_like(nd, low=-1, high=1)": lambda: nd.random.uniform_like(a, low=-1, high=1),
    }


@pytest.mark.parametrize("case", CASES["front"], ids=lambda c: c["call"])
def test_ndarray_front_end_dispatch_matches_mxnet(case):
    call = _front_calls(nd.array(np.ones((2, 3))), nd.array(np.full((2, 3), 2.0)))[case["call"]]
    got = _outcome(call)
    _check(case, got)
    if case.get("error") == "AssertionError":          # MXNet's message, with our class names
        assert got["message"] == case["message"].replace("mxnet.ndarray.ndarray", "dataflow.ndarray.ndarray")


def _symbol_calls():
    lo, hi, d = mx.sym.var("lo"), mx.sym.var("hi"), mx.sym.var("d")
    return {
        "sym.random.uniform(lo, hi, shape=(2,))": lambda: mx.sym.random.uniform(lo, hi, shape=(2,)),
        "sym.random.exponential(lo)": lambda: mx.sym.random.exponential(lo),
        "sym.random.normal(lo, hi, dtype=float64)": lambda: mx.sym.random.normal(lo, hi, dtype="float64"),
        "sym.random.uniform_like(d, low=-1)": lambda: mx.sym.random.uniform_like(d, low=-1),
        "sym.random.gamma_like(data=d)": lambda: mx.sym.random.gamma_like(data=d),
        "sym.sample_gamma(alpha=lo, beta=hi, shape=(3,))": lambda: mx.sym.sample_gamma(alpha=lo, beta=hi, shape=(3,)),
        "sym.random.normal(lo, 1)": lambda: mx.sym.random.normal(lo, 1),
    }


@pytest.mark.parametrize("case", CASES["symbols"], ids=lambda c: c["call"])
def test_symbol_front_end_builds_mxnets_nodes(case):
    with mx.name.NameManager():
        if "error" in case:
            with pytest.raises(AssertionError, match="must all have the same type"):
                _symbol_calls()[case["call"]]()
            return
        s = _symbol_calls()[case["call"]]()
    nodes = [dict(op=n["op"], name=n["name"], attrs=n.get("attrs", {})) for n in json.loads(s.tojson())["nodes"]]
    assert nodes == case["nodes"]
    assert s.list_arguments() == case["arguments"]
    shapes = {k: tuple(v) for k, v in case["in_shapes"].items()}
    assert [list(o) for o in s.infer_shape(**shapes)[1]] == case["out_shapes"]
    assert [np.dtype(t).name for t in s.infer_type(**{k: "float32" for k in shapes})[1]] == case["out_dtypes"]
    assert s.eval(**{k: nd.ones(v) + 1 for k, v in shapes.items()})[0].shape == tuple(case["out_shapes"][0])


@pytest.mark.parametrize("case", CASES["grads"], ids=lambda c: c["call"])
def test_no_gradient_flows_into_the_params(case):
    calls = {"_sample_normal(mu, sigma, shape=2)": lambda m, s: nd.sample_normal(m, s, shape=2),
             "_sample_uniform(mu, sigma)": lambda m, s: nd.sample_uniform(m, s),
             "_sample_gamma(mu, sigma)": lambda m, s: nd.sample_gamma(m, s),
             "uniform_like(mu) * sigma": lambda m, s: nd.random.uniform_like(m) * s}
    m, s = nd.array([1.0, 2.0]), nd.array([2.0, 3.0])
    m.attach_grad()
    s.attach_grad()
    with mx.autograd.record():
        y = calls[case["call"]](m, s)
    y.backward()
    np.testing.assert_array_equal(m.grad.asnumpy(), case["mu_grad"])
    assert bool((s.grad.asnumpy() == 0).all()) == case["sigma_grad_is_zero"]


# -- the draws ------------------------------------------------------------------------------------------------------

N = 4000


@pytest.mark.parametrize("op, params, dist", [
    ("sample_uniform", ([-1.0, 2.0], [1.0, 5.0]), lambda a, b: stats.uniform(a, b - a)),
    ("sample_normal", ([0.0, 3.0], [1.0, 0.5]), lambda m, s: stats.norm(m, s)),
    ("sample_gamma", ([0.5, 3.0], [2.0, 1.0]), lambda a, b: stats.gamma(a, scale=b)),
    ("sample_exponential", ([0.5, 4.0],), lambda lam: stats.expon(scale=1 / lam)),
])
def test_sample_ops_draw_each_element_from_its_distribution(op, params, dist):
    mx.random.seed(3)
    x = getattr(nd, op)(*[nd.array(p) for p in params], shape=(N,)).asnumpy()
    assert x.shape == (2, N)
    for i in range(2):
        assert stats.kstest(x[i], dist(*[p[i] for p in params]).cdf).pvalue > 1e-3, i


@pytest.mark.parametrize("op, params, mean, var", [
    ("sample_poisson", ([1.5, 6.0],), lambda lam: lam, lambda lam: lam),
    ("sample_negative_binomial", ([3.0, 5.0], [0.4, 0.7]), lambda k, p: k * (1 - p) / p,
     lambda k, p: k * (1 - p) / p ** 2),
    ("sample_generalized_negative_binomial", ([2.0, 4.0], [0.5, 0.0]), lambda mu, a: mu,
     lambda mu, a: mu + a * mu ** 2),
])
def test_sample_ops_discrete_moments(op, params, mean, var):
    mx.random.seed(4)
    x = getattr(nd, op)(*[nd.array(p) for p in params], shape=(N,)).asnumpy().astype(np.float64)
    assert np.all(x == np.round(x)) and np.all(x >= 0)
    for i in range(2):
        m, v = mean(*[p[i] for p in params]), var(*[p[i] for p in params])
        assert abs(x[i].mean() - m) < 5 * np.sqrt(v / N), i
        assert abs(x[i].var() / v - 1) < 0.15, i


@pytest.mark.parametrize("make, dist", [
    (lambda d: nd.random.uniform_like(d, low=-2, high=2), stats.uniform(-2, 4)),
    (lambda d: nd.random.normal_like(d, loc=1, scale=3), stats.norm(1, 3)),
    (lambda d: nd.random.gamma_like(d, alpha=2, beta=0.5), stats.gamma(2, scale=0.5)),
    (lambda d: nd.random.exponential_like(d, lam=4), stats.expon(scale=0.25)),
])
def test_like_ops_draw_from_their_distribution(make, dist):
    mx.random.seed(5)
    x = make(nd.zeros((40, 100), dtype="float64"))
    assert x.shape == (40, 100) and x.dtype == np.float64
    assert stats.kstest(x.asnumpy().ravel(), dist.cdf).pvalue > 1e-3


def test_like_ops_discrete_means():
    mx.random.seed(6)
    d = nd.zeros((N,))
    for x, mean in ((nd.random.poisson_like(d, lam=3), 3.0), (nd.random.negative_binomial_like(d, k=4, p=0.5), 4.0),
                    (nd.random.generalized_negative_binomial_like(d, mu=2, alpha=0.5), 2.0)):
        assert abs(x.asnumpy().mean() - mean) < 0.15


def test_new_ops_repeat_under_a_seed():
    def draw():
        mx.random.seed(11)
        lo = nd.array([0.0, 1.0])
        return [nd.sample_uniform(lo, lo + 1, shape=3), nd.random.normal_like(nd.zeros((2, 2))),
                nd._internal._sample_unique_zipfian(50, shape=(2, 5))[0], nd.sample_poisson(lo + 2, shape=4)]
    for a, b in zip([x.asnumpy() for x in draw()], [x.asnumpy() for x in draw()]):
        np.testing.assert_array_equal(a, b)


def test_unique_zipfian_rows_are_distinct_log_uniform_classes():
    mx.random.seed(2)
    samples, trials = nd._internal._sample_unique_zipfian(20, shape=(200, 6))
    s, t = samples.asnumpy(), trials.asnumpy()
    assert all(len(set(row)) == 6 for row in s) and s.min() >= 0 and s.max() < 20
    assert np.all(t >= 6)
    # one sample per row is one plain draw: its frequencies follow P(class)
    first, one_trial = nd._internal._sample_unique_zipfian(20, shape=(N, 1))
    assert np.all(one_trial.asnumpy() == 1)
    p = np.log((np.arange(20) + 2) / (np.arange(20) + 1)) / np.log(21)
    counts = np.bincount(first.asnumpy().ravel(), minlength=20)
    assert stats.chisquare(counts, p * N).pvalue > 1e-3


def test_bad_params_are_clear_errors_not_hangs():
    with pytest.raises(mx.MXNetError, match="cannot draw 8 distinct classes from range_max=5"):
        nd._internal._sample_unique_zipfian(5, shape=(2, 8))[0].wait_to_read()
    with pytest.raises(mx.MXNetError, match="_sample_gamma"):        # MXNet loops forever here
        nd.sample_gamma(nd.array([-1.0]), nd.array([1.0])).wait_to_read()
