"""Test data: random arrays and shapes, the large-tensor helpers, `DummyIter`, and statistical checks of random
generators (`verify_generator` and its chi-square test)."""
import contextlib
import logging
import os
import sys
import urllib.request

import numpy as np

from .. import ndarray as nd
from ..context import num_gpus
from ..io import DataIter
from .tolerance import default_context, default_dtype

def random_arrays(*shapes):
    """Standard-normal numpy arrays (default dtype) of the given shapes; one array when one shape is given."""
    arrays = [np.array(np.random.randn(), dtype=default_dtype()) if len(s) == 0
              else np.random.randn(*s).astype(default_dtype()) for s in shapes]
    return arrays[0] if len(arrays) == 1 else arrays


def random_uniform_arrays(*shapes, **kwargs):
    """A list of numpy arrays uniform on [low, high) (keywords low=0, high=1, dtype=float32)."""
    low, high = kwargs.pop("low", 0.0), kwargs.pop("high", 1.0)
    dtype = kwargs.pop("dtype", default_dtype())
    if kwargs:
        raise TypeError("Got unexpected argument/s : " + str(kwargs.keys()))
    return [np.random.uniform(low, high, size=s).astype(dtype) for s in shapes]


def random_sample(population, k):
    """`k` distinct elements of the list `population`, in random order."""
    assert 0 <= k <= len(population)
    population = population[:]
    np.random.shuffle(population)
    return population[:k]


def rand_ndarray(shape, stype="default", density=None, dtype=None, modifier_func=None, shuffle_csr_indices=False,
                 distribution=None, ctx=None):
    """A random NDArray of `shape` on `ctx` (default context): standard-normal values for stype 'default' (float32
    unless `dtype` is given), else a random sparse array (`rand_sparse_ndarray`, whose keywords the rest are)."""
    if stype != "default":
        from .sparse import rand_sparse_ndarray
        return rand_sparse_ndarray(shape, stype, density=density, modifier_func=modifier_func, dtype=dtype,
                                   shuffle_csr_indices=shuffle_csr_indices, distribution=distribution, ctx=ctx)[0]
    return nd.array(random_arrays(shape), dtype=dtype, ctx=ctx or default_context())


def rand_shape_2d(dim0=10, dim1=10, allow_zero_size=False):
    """A random 2-D shape with sizes in [1, dim] ([0, dim] with allow_zero_size)."""
    low = 0 if allow_zero_size else 1
    return np.random.randint(low, dim0 + 1), np.random.randint(low, dim1 + 1)


def rand_shape_3d(dim0=10, dim1=10, dim2=10, allow_zero_size=False):
    """A random 3-D shape with sizes in [1, dim] ([0, dim] with allow_zero_size)."""
    low = 0 if allow_zero_size else 1
    return np.random.randint(low, dim0 + 1), np.random.randint(low, dim1 + 1), np.random.randint(low, dim2 + 1)


def rand_shape_nd(num_dim, dim=10, allow_zero_size=False):
    """A random shape of `num_dim` sizes in [1, dim] ([0, dim] with allow_zero_size)."""
    low = 0 if allow_zero_size else 1
    return tuple(np.random.randint(low, dim + 1, size=num_dim))


def rand_coord_2d(x_low, x_high, y_low, y_high):
    """A random integer point (x, y) with x in [x_low, x_high), y in [y_low, y_high)."""
    return np.random.randint(x_low, x_high, dtype=np.int64), np.random.randint(y_low, y_high, dtype=np.int64)


def create_vector(size, dtype=np.int64):
    """The NDArray [0, 1, ..., size-1] (MXNet's large-tensor tests)."""
    return nd.arange(0, size, dtype=dtype)


def create_2d_tensor(rows, columns, dtype=np.int64):
    """A rows x columns NDArray whose row i holds i."""
    return nd.broadcast_to(nd.arange(0, rows, dtype=dtype).reshape(rows, 1), shape=(rows, columns))


def get_identity_mat(size):
    """The size x size identity as an NDArray."""
    return nd.array(np.eye(size))


def get_identity_mat_batch(size):
    """Two size x size identities stacked."""
    return nd.array(np.stack([np.eye(size)] * 2))


def assign_each(the_input, function):
    """A float64 array of `function(x)` for each element x (a copy when `function` is None)."""
    if function is None:
        return np.array(the_input)
    return np.vectorize(function, otypes=[np.float64])(the_input) if np.size(the_input) else \
        np.zeros(np.shape(the_input))


def assign_each2(input1, input2, function):
    """A float64 array of `function(x, y)` for each pair of elements (a copy of input1 when `function` is None)."""
    if function is None:
        return np.array(input1)
    assert input1.shape == input2.shape
    return np.vectorize(function, otypes=[np.float64])(input1, input2) if input1.size else np.zeros(input1.shape)


def list_gpus():
    """range(n) over the n GPUs available."""
    return range(num_gpus())


def download(url, fname=None, dirname=None, overwrite=False, retries=5):
    """Download `url` to `fname` (default: its last path part) in `dirname`; skip an existing file unless
    `overwrite`; retry failures `retries` times. Returns the file name."""
    assert retries >= 0, "Number of retries should be at least 0"
    fname = fname or url.split("/")[-1]
    if dirname is None:
        dirname = os.path.dirname(fname)
    else:
        fname = os.path.join(dirname, fname)
    if dirname:
        os.makedirs(dirname, exist_ok=True)
    if not overwrite and os.path.exists(fname):
        logging.info("%s exists, skipping download", fname)
        return fname
    while True:
        try:
            with urllib.request.urlopen(url) as response, open(fname, "wb") as f:
                f.write(response.read())
            break
        except Exception:  # noqa: BLE001 - any failure is retried, the last one raised
            retries -= 1
            if retries <= 0:
                raise
            print("download failed, retrying, %d attempt%s left" % (retries, "s" if retries > 1 else ""))
    logging.info("downloaded %s into %s successfully", url, fname)
    return fname


@contextlib.contextmanager
def discard_stderr():
    """`with discard_stderr():` sends the process's stderr (file descriptor 2) to /dev/null for the block."""
    # descriptor 2 itself, not sys.stderr (which test runners replace): native code writes to the descriptor
    sys.stderr.flush()
    with open(os.devnull, "w") as sink:
        saved = os.dup(2)
        try:
            os.dup2(sink.fileno(), 2)
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


class DummyIter(DataIter):
    """An iterator returning the first batch of `real_iter` forever (for speed tests)."""

    def __init__(self, real_iter):
        super().__init__(real_iter.batch_size)
        self.real_iter = real_iter
        self.provide_data = real_iter.provide_data
        self.provide_label = real_iter.provide_label
        self.the_batch = next(real_iter)

    def __iter__(self):
        return self

    def next(self):
        """The first batch of the real iterator, again; never StopIteration."""
        return self.the_batch


# -- checking random generators ---------------------------------------------------------------------------------------

def gen_buckets_probs_with_ppf(ppf, nbuckets):
    """`nbuckets` equally likely buckets [(ppf(i/n), ppf((i+1)/n))] of a distribution with quantile function `ppf`,
    and their probabilities (1/n each)."""
    assert nbuckets > 0
    probs = [1.0 / nbuckets] * nbuckets
    buckets = [(ppf(i / float(nbuckets)), ppf((i + 1) / float(nbuckets))) for i in range(nbuckets)]
    return buckets, probs


def mean_check(generator, mu, sigma, nsamples=1000000):
    """True when the mean of `generator(nsamples)` lies within mu +- 3 sigma / sqrt(n)."""
    mean = np.array(generator(nsamples)).mean()
    return bool(mu - 3 * sigma / np.sqrt(nsamples) < mean < mu + 3 * sigma / np.sqrt(nsamples))


def var_check(generator, sigma, nsamples=1000000):
    """True when the sample variance of `generator(nsamples)` lies within sigma^2 +- 3 sqrt(2 sigma^4 / (n-1))."""
    var = np.array(generator(nsamples)).var(ddof=1)
    spread = 3 * np.sqrt(2 * sigma ** 4 / (nsamples - 1))
    return bool(sigma ** 2 - spread < var < sigma ** 2 + spread)


def chi_square_check(generator, buckets, probs, nsamples=1000000):
    """Chi-square test of `generator(nsamples)` against bucket probabilities.

    `buckets` is a list of (low, high) ranges (continuous, ascending, disjoint) or of the possible values (discrete).
    Returns (p value, observed counts, expected counts)."""
    import scipy.stats
    assert isinstance(buckets, list)
    assert len(probs) == len(buckets)
    samples = np.asarray(generator(nsamples))
    if isinstance(buckets[0], (list, tuple)):
        edges = np.zeros(len(buckets) * 2, dtype=np.float32)
        for i, (low, high) in enumerate(buckets):
            assert low <= high
            if i < len(buckets) - 1:
                assert high <= buckets[i + 1][0]
            edges[2 * i], edges[2 * i + 1] = low, high
        # a sample in [low_i, high_i) lands at position 2i+1 of the sorted edges
        bucket_of = np.searchsorted(edges, samples, side="right") // 2
        observed = np.array([(bucket_of == i).sum() for i in range(len(buckets))], dtype=np.int64)
    else:
        observed = np.array([(samples == value).sum() for value in buckets], dtype=np.int64)
    expected = (nsamples * np.array(probs, dtype=np.float32)).astype(np.int32)
    # Pearson's statistic with len(buckets) - 1 degrees of freedom. Computed here rather than with
    # scipy.stats.chisquare, which now refuses expected counts whose sum differs from the observed one (they do
    # after truncation to integers, as MXNet computes them).
    statistic = np.sum((observed - expected) ** 2 / expected.astype(np.float64))
    p = float(scipy.stats.chi2.sf(statistic, len(buckets) - 1))
    return p, observed, expected


def verify_generator(generator, buckets, probs, nsamples=1000000, nrepeat=5, success_rate=0.2, alpha=0.05):
    """Run `chi_square_check` `nrepeat` times; raise AssertionError when fewer than `success_rate` of the runs have
    p > `alpha`. Returns the p values."""
    results = [chi_square_check(generator, buckets, probs, nsamples) for _ in range(nrepeat)]
    p_values = [r[0] for r in results]
    if (np.array(p_values) > alpha).sum() < nrepeat * success_rate:
        raise AssertionError("Generator test fails, Chi-square p=%s, obs_freq=%s, expected_freq=%s.\nbuckets=%s, "
                             "probs=%s" % (p_values, [r[1] for r in results], [r[2] for r in results], buckets,
                                           probs))
    return p_values


# -- matrices for linear-algebra tests --------------------------------------------------------------------------------

def new_matrix_with_real_eigvals_2d(n):
    """A well-conditioned n x n matrix Q^-1 D Q whose eigenvalues (D) are real, uniform in [-10, 10)."""
    while True:
        diagonal = np.diag(np.random.uniform(-1.0, 1.0, n))
        v = np.random.uniform(-1.0, 1.0, (n, 1))
        v = v / np.linalg.norm(v)
        q = (np.eye(n) - 2 * v @ v.T) @ diagonal          # a Householder reflection, scaled
        if np.linalg.cond(q, 2) < 3:
            break
    return np.linalg.inv(q) @ np.diag(np.random.uniform(-10.0, 10.0, n)) @ q


def new_matrix_with_real_eigvals_nd(shape):
    """A batch of `new_matrix_with_real_eigvals_2d` of the given shape (..., n, n)."""
    count = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return np.array([new_matrix_with_real_eigvals_2d(shape[-1]) for _ in range(count)]).reshape(shape)


def new_orthonormal_matrix_2d(n):
    """A random n x n orthonormal matrix (the Q of a QR factorisation)."""
    x = np.random.randn(n, n)
    return np.linalg.qr(x.T @ x)[0]


def new_sym_matrix_with_real_eigvals_2d(n):
    """A random symmetric n x n matrix Q^T D Q, eigenvalues uniform in [-10, 10)."""
    q = new_orthonormal_matrix_2d(n)
    return q.T @ np.diag(np.random.uniform(-10.0, 10.0, n)) @ q


def new_sym_matrix_with_real_eigvals_nd(shape):
    """A batch of `new_sym_matrix_with_real_eigvals_2d` of the given shape (..., n, n)."""
    count = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return np.array([new_sym_matrix_with_real_eigvals_2d(shape[-1]) for _ in range(count)]).reshape(shape)


def is_cd_run():
    """True inside MXNet's continuous-delivery jobs (CD_JOB=1)."""
    return os.environ.get("CD_JOB", 0) == "1"


def is_aarch64_run():
    """True on an aarch64 machine."""
    import platform
    return platform.machine() == "aarch64"
