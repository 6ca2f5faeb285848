"""Random ops: seeded runs repeat exactly, shapes and dtypes follow the params, samples follow their distribution."""
import numpy as np
import pytest

import dataflow as mx

N = 20000


def test_seed_repeats_every_distribution():
    def draw():
        mx.random.seed(7)
        return [mx.nd.random.uniform(shape=(5,)), mx.nd.random.normal(2, 3, shape=(5,)),
                mx.nd.random.randint(0, 9, shape=(5,)), mx.nd.random.exponential(2.0, shape=(5,)),
                mx.nd.random.gamma(2.0, 1.5, shape=(5,)), mx.nd.random.poisson(3.0, shape=(5,)),
                mx.nd.random.shuffle(mx.nd.arange(5)),
                mx.nd.random.multinomial(mx.nd.array([[0.2, 0.8]]), shape=5)]
    first, second = [a.asnumpy() for a in draw()], [a.asnumpy() for a in draw()]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    mx.random.seed(8)
    assert not np.array_equal(mx.nd.random.uniform(shape=(5,)).asnumpy(), first[0])


@pytest.mark.parametrize("make, mean, var", [
    (lambda: mx.nd.random.uniform(-1, 3, shape=(N,)), 1.0, 16 / 12),
    (lambda: mx.nd.random.normal(2, 0.5, shape=(N,)), 2.0, 0.25),
    (lambda: mx.nd.random.exponential(4.0, shape=(N,)), 4.0, 16.0),      # MXNet's wrapper takes the scale
    (lambda: mx.nd.random.gamma(3.0, 2.0, shape=(N,)), 6.0, 12.0),
    (lambda: mx.nd.random.poisson(5.0, shape=(N,)), 5.0, 5.0),
    (lambda: mx.nd.random.randint(0, 10, shape=(N,)), 4.5, 99 / 12),
])
def test_sample_moments(make, mean, var):
    mx.random.seed(0)
    x = make().asnumpy().astype(np.float64)
    assert abs(x.mean() - mean) < 5 * np.sqrt(var / N)
    assert abs(x.var() / var - 1) < 0.1


def test_shapes_dtypes_and_symbols():
    assert mx.nd.random.uniform(shape=(2, 3)).dtype is np.float32
    assert mx.nd.random.uniform(shape=(2,), dtype="float64").dtype is np.float64
    assert mx.nd.random.randint(0, 3, shape=(4,)).dtype is np.int32
    r = mx.nd.random.randint(-3, 3, shape=(1000,)).asnumpy()
    assert r.min() >= -3 and r.max() < 3
    s = mx.sym.random.normal(shape=(2, 2), name="noise")
    assert s.infer_shape()[1] == [(2, 2)] and s.list_arguments() == []
    assert s.eval()[0].shape == (2, 2)


def test_shuffle_is_a_permutation_of_rows():
    x = mx.nd.array(np.arange(12).reshape(6, 2))
    y = mx.nd.random.shuffle(x).asnumpy()
    assert sorted(map(tuple, y.tolist())) == sorted(map(tuple, x.asnumpy().tolist()))


def test_multinomial_frequencies_and_probabilities():
    mx.random.seed(1)
    probs = mx.nd.array([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25]])
    samples, logp = mx.nd.random.multinomial(probs, shape=4000, get_prob=True)
    s = samples.asnumpy()
    assert s.shape == (2, 4000) and samples.dtype is np.int32
    for row, p in zip(s, probs.asnumpy()):
        np.testing.assert_allclose(np.bincount(row, minlength=3) / 4000, p, atol=0.03)
    np.testing.assert_allclose(logp.asnumpy(), np.log(np.take_along_axis(probs.asnumpy(), s, axis=1)), rtol=1e-6)
