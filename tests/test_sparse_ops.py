"""The sparse ops (mx.nd.sparse.*, dataflow/ndarray/sparse_ops.py) and their kernels (ops/cpu/sparse.py):
every op against MXNet 1.9.1's recorded output and storage type (reference/sparse_ops_fixtures.py), and the kernels
against the dense numpy computation and scipy.sparse over shapes and densities 0, small, 1 (hypothesis)."""
import json
import os
import warnings

import numpy as np
import pytest
import scipy.sparse as spsp
from hypothesis import given, settings
from hypothesis import strategies as st

import dataflow as mx
from dataflow.base import MXNetError
from ops.cpu import sparse as kernels
from scheduler import loop_threads

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "sparse_ops")
with open(os.path.join(FIXTURES, "cases.json")) as _f:
    CASES = json.load(_f)
ARRAYS = np.load(os.path.join(FIXTURES, "arrays.npz"))
S = mx.nd.sparse


def make(stype, value):
    dense = mx.nd.array(value, dtype=value.dtype)
    return dense if stype == "default" else dense.tostype(stype)


def stored_keys(indices, indptr, ncols):
    """The (row, col) entries a csr stores, as sorted keys (MXNet's csr * csr may leave a row's columns unsorted)."""
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    return np.sort(rows * ncols + indices[:indptr[-1]])     # MXNet's csr - csr may leave spare slots at the end


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_mxnet(case):
    name = case["name"]
    env = {"nd": mx.nd, "S": S}
    for i, stype in enumerate(case["stypes"]):
        env["x%d" % i] = make(stype, ARRAYS["%s/in%d" % (name, i)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "error" in case:
            with pytest.raises(MXNetError):
                eval(case["expr"], env).wait_to_read()
            return
        out = eval(case["expr"], env)
    assert out.stype == case["stype"], case["expr"]
    expected = ARRAYS[name + "/out"]
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-5, atol=1e-6)
    if out.stype == "row_sparse":
        np.testing.assert_array_equal(out.indices.asnumpy(), ARRAYS[name + "/indices"])
    elif out.stype == "csr":
        want = stored_keys(ARRAYS[name + "/indices"], ARRAYS[name + "/indptr"], out.shape[1])
        np.testing.assert_array_equal(stored_keys(out.indices.asnumpy(), out.indptr.asnumpy(), out.shape[1]), want)
        out.check_format()


# -- kernels and ops against numpy / scipy over densities --------------------------------------------------------------

DENSITIES = st.sampled_from([0.0, 0.05, 0.3, 1.0])
DIMS = st.integers(1, 9)


def random_sparse(seed, shape, density, rowwise=False):
    rs = np.random.RandomState(seed)
    values = rs.uniform(0.5, 2, shape).astype(np.float32) * rs.choice([-1, 1], shape)
    mask = rs.rand(shape[0], 1) < density if rowwise else rs.rand(*shape) < density
    return (values * mask).astype(np.float32)


@settings(deadline=None)
@given(m=DIMS, k=DIMS, n=DIMS, density=DENSITIES, seed=st.integers(0, 2 ** 16))
def test_csr_dot_dense_all_forms(m, k, n, density, seed):
    a = random_sparse(seed, (m, k), density)
    rs = np.random.RandomState(seed + 1)
    csr = make("csr", a)
    b, bt = rs.rand(k, n).astype(np.float32), rs.rand(m, n).astype(np.float32)
    np.testing.assert_allclose(S.dot(csr, mx.nd.array(b)).asnumpy(), a @ b, rtol=1e-5, atol=1e-5)
    out = S.dot(csr, mx.nd.array(bt), transpose_a=True)
    assert out.stype == "row_sparse"
    np.testing.assert_allclose(out.asnumpy(), a.T @ bt, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(out.indices.asnumpy(), np.unique(spsp.csr_matrix(a).indices))
    left = rs.rand(n, m).astype(np.float32)
    out = S.dot(mx.nd.array(left), csr)
    assert out.stype == "csr"
    np.testing.assert_allclose(out.asnumpy(), left @ a, rtol=1e-5, atol=1e-5)
    left = rs.rand(n, k).astype(np.float32)
    np.testing.assert_allclose(S.dot(mx.nd.array(left), csr, transpose_b=True).asnumpy(), left @ a.T,
                               rtol=1e-5, atol=1e-5)


@settings(deadline=None)
@given(m=DIMS, k=DIMS, n=DIMS, density=DENSITIES, seed=st.integers(0, 2 ** 16))
def test_dots_with_row_sparse(m, k, n, density, seed):
    a = random_sparse(seed, (m, k), 0.4)
    r = random_sparse(seed + 2, (k, n), density, rowwise=True)
    rs = np.random.RandomState(seed)
    np.testing.assert_allclose(S.dot(make("csr", a), make("row_sparse", r)).asnumpy(), a @ r, rtol=1e-5, atol=1e-5)
    rm = random_sparse(seed + 3, (m, n), density, rowwise=True)
    out = S.dot(make("csr", a), make("row_sparse", rm), transpose_a=True)
    assert out.stype == "row_sparse"
    np.testing.assert_allclose(out.asnumpy(), a.T @ rm, rtol=1e-5, atol=1e-5)
    d = rs.rand(n, m).astype(np.float32)
    d2 = rs.rand(k, n).astype(np.float32)
    np.testing.assert_allclose(S.dot(make("row_sparse", rm), mx.nd.array(d2), transpose_b=True).asnumpy(),
                               rm @ d2.T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(S.dot(mx.nd.array(d), make("row_sparse", rm)).asnumpy(), d @ rm, rtol=1e-5,
                               atol=1e-5)


def test_parallel_csr_dot_matches_scipy():
    """Large enough for the prange path (Note [parallel csr dot])."""
    a = spsp.random(300, 500, density=0.05, format="csr", dtype=np.float32, random_state=3)
    b = np.random.RandomState(4).rand(500, 128).astype(np.float32)
    assert a.nnz * b.shape[1] >= kernels.PARALLEL_MIN_WORK
    loop_threads.parallel_ok()      # numba's threads started as the project starts them
    for threads in (1, 2, 3):
        out = kernels.csr_dot(a.data, a.indices.astype(np.int64), a.indptr.astype(np.int64), b, threads=threads)
        np.testing.assert_allclose(out, a @ b, rtol=1e-4, atol=1e-4)
    csr = S.csr_matrix((a.data, a.indices, a.indptr), shape=a.shape)
    np.testing.assert_allclose(mx.nd.dot(csr, mx.nd.array(b)).asnumpy(), a @ b, rtol=1e-4, atol=1e-4)


@settings(deadline=None)
@given(m=DIMS, n=DIMS, d1=DENSITIES, d2=DENSITIES, seed=st.integers(0, 2 ** 16))
def test_elementwise_against_dense(m, n, d1, d2, seed):
    for stype, rowwise in (("csr", False), ("row_sparse", True)):
        a = random_sparse(seed, (m, n), d1, rowwise)
        b = random_sparse(seed + 1, (m, n), d2, rowwise)
        x, y = make(stype, a), make(stype, b)
        for f, want in ((S.elemwise_add, a + b), (S.elemwise_sub, a - b), (S.elemwise_mul, a * b)):
            out = f(x, y)
            assert out.stype == stype
            np.testing.assert_allclose(out.asnumpy(), want, rtol=1e-6)
            out.check_format()
        d = np.random.RandomState(seed).rand(m, n).astype(np.float32)
        out = S.multiply(x, mx.nd.array(d))
        assert out.stype == stype
        np.testing.assert_allclose(out.asnumpy(), a * d, rtol=1e-6)
        np.testing.assert_allclose((x + mx.nd.array(d)).asnumpy(), a + d, rtol=1e-6)


@settings(deadline=None)
@given(m=DIMS, n=DIMS, density=DENSITIES, seed=st.integers(0, 2 ** 16))
def test_reductions_against_numpy(m, n, density, seed):
    a = random_sparse(seed, (m, n), density)
    csr = make("csr", a)
    for axis in (None, 0, 1):
        np.testing.assert_allclose(S.sum(csr, axis=axis).asnumpy(), np.atleast_1d(a.sum(axis=axis)),
                                   rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(S.mean(csr, axis=axis).asnumpy(), np.atleast_1d(a.mean(axis=axis)),
                                   rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(S.norm(csr).asnumpy(), [np.sqrt((a.astype(np.float64) ** 2).sum())], rtol=1e-5)
    r = random_sparse(seed, (m, n), density, rowwise=True)
    rsp = make("row_sparse", r)
    for axis in (0, 1):
        np.testing.assert_allclose(mx.nd._internal._square_sum(rsp, axis=axis).asnumpy(), (r * r).sum(axis=axis),
                                   rtol=1e-5, atol=1e-5)
    out = mx.nd._internal._square_sum(rsp, axis=1, keepdims=True)
    assert out.stype == "row_sparse"
    np.testing.assert_allclose(out.asnumpy(), (r * r).sum(axis=1, keepdims=True), rtol=1e-5)


@settings(deadline=None)
@given(m=DIMS, n=DIMS, density=DENSITIES, seed=st.integers(0, 2 ** 16))
def test_conversions_against_scipy(m, n, density, seed):
    a = random_sparse(seed, (m, n), density)
    data, indices, indptr = kernels.dense_to_csr(a)
    ref = spsp.csr_matrix(a)
    np.testing.assert_array_equal(indptr, ref.indptr)
    np.testing.assert_array_equal(indices, ref.indices)
    np.testing.assert_array_equal(data, ref.data)
    np.testing.assert_array_equal(kernels.csr_to_dense(data, indices, indptr, a.shape), a)
    rows, keep = kernels.dense_to_rsp(a)
    np.testing.assert_array_equal(keep, np.flatnonzero(np.abs(a).sum(axis=1)))
    np.testing.assert_array_equal(kernels.rsp_to_dense(rows, keep, a.shape), a)
    csr = S.cast_storage(mx.nd.array(a), "csr")
    assert csr.stype == "csr"
    np.testing.assert_array_equal(csr.asnumpy(), a)


@settings(deadline=None)
@given(m=st.integers(1, 8), n=st.integers(1, 8), density=DENSITIES, seed=st.integers(0, 2 ** 16),
       bounds=st.tuples(st.integers(0, 8), st.integers(0, 8), st.integers(0, 8), st.integers(0, 8)))
def test_csr_slice_and_retain(m, n, density, seed, bounds):
    a = random_sparse(seed, (m, n), density)
    b0, e0 = sorted((bounds[0] % (m + 1), bounds[1] % (m + 1)))
    b1, e1 = sorted((bounds[2] % (n + 1), bounds[3] % (n + 1)))
    out = S.slice(make("csr", a), begin=(b0, b1), end=(e0, e1))
    assert out.stype == "csr"
    np.testing.assert_array_equal(out.asnumpy(), a[b0:e0, b1:e1])
    out.check_format()
    r = random_sparse(seed, (m, n), density, rowwise=True)
    keep = np.random.RandomState(seed).choice(m, size=min(m, 3), replace=False)
    out = S.retain(make("row_sparse", r), mx.nd.array(keep, dtype="int64"))
    want = np.zeros_like(r)
    want[keep] = r[keep]
    np.testing.assert_array_equal(out.asnumpy(), want)
    np.testing.assert_array_equal(out.indices.asnumpy(), np.sort(keep))
    out.check_format()


def test_unary_keeps_storage_and_values():
    a = random_sparse(0, (5, 6), 0.4)
    for name in ("abs", "square", "negative", "sin", "relu"):
        out = getattr(S, name)(make("csr", a))
        assert out.stype == "csr"
        np.testing.assert_allclose(out.asnumpy(), getattr(mx.nd, name)(mx.nd.array(a)).asnumpy(), rtol=1e-6)
        out = getattr(mx.nd, name)(make("row_sparse", a))       # the plain front end serves sparse inputs too
        assert out.stype == "row_sparse"


def test_fully_connected_on_csr():
    a = random_sparse(1, (4, 9), 0.3)
    rs = np.random.RandomState(2)
    w, b = rs.rand(5, 9).astype(np.float32), rs.rand(5).astype(np.float32)
    out = mx.nd.FullyConnected(make("csr", a), mx.nd.array(w), mx.nd.array(b), num_hidden=5)
    assert out.stype == "default"
    np.testing.assert_allclose(out.asnumpy(), a @ w.T + b, rtol=1e-5)
    out = mx.nd.FullyConnected(make("csr", a), mx.nd.array(w), num_hidden=5, no_bias=True)
    np.testing.assert_allclose(out.asnumpy(), a @ w.T, rtol=1e-5)
    # a (num_hidden, 1) bias is accepted too (MXNet's shape rule; case fc_bias_column records it for dense data)
    out = S.FullyConnected(make("csr", a), mx.nd.array(w), mx.nd.array(b.reshape(5, 1)), num_hidden=5)
    np.testing.assert_allclose(out.asnumpy(), a @ w.T + b, rtol=1e-5)
    with pytest.raises(MXNetError, match="bias shape"):
        S.FullyConnected(make("csr", a), mx.nd.array(w), mx.nd.array(b[:4]), num_hidden=5)


def test_fallback_warns_like_mxnet():
    x = random_sparse(5, (3, 4), 0.5, rowwise=True)
    with pytest.warns(UserWarning, match="(?s)Storage type fallback.*operator = norm.*row_sparse.*ord.*: 1"):
        out = S.norm(make("row_sparse", x), ord=1, axis=1)    # MXNet warns once per message: params make it new
    assert out.stype == "default"
    np.testing.assert_allclose(out.asnumpy(), np.abs(x).sum(axis=1), rtol=1e-6)


# -- bad input ---------------------------------------------------------------------------------------------------------

def test_errors_name_op_and_shapes():
    csr = make("csr", random_sparse(0, (4, 5), 0.5))
    with pytest.raises(MXNetError, match=r"dot.*\(4, 5\).*\(4, 3\)"):
        S.dot(csr, mx.nd.ones((4, 3)))
    with pytest.raises(MXNetError, match=r"elemwise_add.*\(4, 5\).*\(4, 6\)"):
        S.elemwise_add(csr, make("csr", np.ones((4, 6), np.float32)))
    with pytest.raises(MXNetError, match="retain"):
        S.retain(csr, mx.nd.array([0]))
    with pytest.raises(MXNetError, match="_square_sum"):
        mx.nd._internal._square_sum(make("row_sparse", np.ones((3, 2), np.float32)))
    with pytest.raises(MXNetError, match="clip"):
        S.clip(csr, 0.1, 0.5)
    with pytest.raises(MXNetError, match="FullyConnected"):
        mx.nd.FullyConnected(csr, mx.nd.ones((3, 4)), mx.nd.ones(3), num_hidden=3)


@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_dots_keep_the_dtype(dtype):
    a = random_sparse(3, (5, 6), 0.4).astype(dtype)
    rs = np.random.RandomState(3)
    b, c = rs.rand(6, 3).astype(dtype), rs.rand(5, 3).astype(dtype)
    csr = make("csr", a)
    tol = 1e-12 if dtype == "float64" else 2e-3
    for out, want in ((S.dot(csr, mx.nd.array(b, dtype=dtype)), a.astype(np.float64) @ b),
                      (S.dot(csr, mx.nd.array(c, dtype=dtype), transpose_a=True), a.T.astype(np.float64) @ c),
                      (S.dot(mx.nd.array(c.T, dtype=dtype), csr), c.T.astype(np.float64) @ a)):
        assert out.dtype == np.dtype(dtype)
        np.testing.assert_allclose(out.asnumpy().astype(np.float64), want, rtol=tol, atol=tol)


def test_recorded_sparse_ops_give_gradients():
    """Under autograd.record() a sparse op runs as the recorded dense op: the dense input's gradient is right."""
    a = random_sparse(4, (4, 6), 0.4)
    w = mx.nd.array(np.random.RandomState(5).rand(6, 2).astype(np.float32))
    w.attach_grad()
    for dot in (S.dot, mx.nd.dot):
        with mx.autograd.record(), warnings.catch_warnings():
            warnings.simplefilter("ignore")     # the fallback's warning (once per message)
            y = dot(make("csr", a), w)
        y.backward()
        np.testing.assert_allclose(w.grad.asnumpy(), a.T @ np.ones((4, 2), np.float32), rtol=1e-6)


@settings(deadline=None)
@given(m=st.integers(2, 9), n=st.integers(2, 9), density=DENSITIES, seed=st.integers(0, 2 ** 16),
       scalar=st.floats(0.5, 4))
def test_broadcast_and_scalar_ops_against_numpy(m, n, density, seed, scalar):
    """(m, 1) and (1, n) operands broadcast (a same-shape divide is elemwise_div: dense, in the fixture cases)."""
    a = random_sparse(seed, (m, n), density)
    rs = np.random.RandomState(seed)
    col, row = rs.uniform(0.5, 2, (m, 1)).astype(np.float32), rs.uniform(0.5, 2, (1, n)).astype(np.float32)
    csr = make("csr", a)
    for vector in (col, row):
        for f, want in ((S.multiply, a * vector), (S.divide, a / vector), (S.broadcast_mul, a * vector)):
            out = f(csr, mx.nd.array(vector))
            assert out.stype == "csr"
            np.testing.assert_allclose(out.asnumpy(), want, rtol=1e-6)
    for x in (csr, make("row_sparse", a)):
        for out, want, stype in ((x * scalar, a * np.float32(scalar), x.stype),
                                 (x / scalar, a / np.float32(scalar), x.stype),
                                 (x + scalar, a + np.float32(scalar), "default")):
            assert out.stype == stype
            np.testing.assert_allclose(out.asnumpy(), want, rtol=1e-6)


# -- scalar comparisons, take(csr), contrib.getnnz (dataflow/ndarray/sparse/more_ops.py) ------------------------------

COMPARISONS = {"==": np.equal, "!=": np.not_equal, ">": np.greater, ">=": np.greater_equal, "<": np.less,
               "<=": np.less_equal}


@settings(deadline=None)
@given(m=DIMS, n=DIMS, density=DENSITIES, seed=st.integers(0, 2 ** 16), stype=st.sampled_from(["csr", "row_sparse"]),
       op=st.sampled_from(sorted(COMPARISONS)), scalar=st.sampled_from([0, 1, -0.5, 2.0]), swapped=st.booleans())
def test_scalar_comparisons_against_numpy(m, n, density, seed, stype, op, scalar, swapped):
    """Sparse stays sparse exactly when comparing 0 with the scalar is false (MXNet's rule, cases cmp_* above)."""
    a = random_sparse(seed, (m, n), density, rowwise=stype == "row_sparse")
    x = make(stype, a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = eval("s %s x" % op if swapped else "x %s s" % op, {"x": x, "s": scalar})
    expected = COMPARISONS[op](scalar, a) if swapped else COMPARISONS[op](a, scalar)
    zero_result = COMPARISONS[op](scalar, 0) if swapped else COMPARISONS[op](0, scalar)
    assert out.stype == ("default" if zero_result else stype)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.asnumpy(), expected.astype(np.float32))
    if out.stype != "default":
        out.check_format()
    np.testing.assert_array_equal(x.asnumpy(), a)       # not in place


@settings(deadline=None)
@given(m=DIMS, n=DIMS, density=DENSITIES, seed=st.integers(0, 2 ** 16), mode=st.sampled_from(["clip", "wrap"]),
       count=st.integers(0, 12), dtype=st.sampled_from(["float32", "int32", "float64"]))
def test_take_csr_rows_against_numpy(m, n, density, seed, mode, count, dtype):
    a = random_sparse(seed, (m, n), density).astype(dtype)
    rows = np.random.RandomState(seed + 1).randint(-2 * m, 2 * m + 1, size=count)
    out = mx.nd.take(make("csr", a), mx.nd.array(rows), mode=mode)
    assert out.stype == "csr" and out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out.asnumpy(), np.take(a, rows, axis=0, mode=mode))
    out.check_format()
    assert out.indptr[0].asscalar() == 0


def test_take_csr_other_forms_are_dense():
    a = random_sparse(3, (5, 4), 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        by_column = mx.nd.take(make("csr", a), mx.nd.array([3, 0]), axis=1)
        raising = mx.nd.take(make("csr", a), mx.nd.array([4, 1]), mode="raise")
    assert by_column.stype == raising.stype == "default"
    np.testing.assert_array_equal(by_column.asnumpy(), a[:, [3, 0]])
    np.testing.assert_array_equal(raising.asnumpy(), a[[4, 1]])


@settings(deadline=None)
@given(m=DIMS, n=DIMS, density=DENSITIES, seed=st.integers(0, 2 ** 16))
def test_getnnz_against_scipy(m, n, density, seed):
    a = random_sparse(seed, (m, n), density)
    csr, sp = make("csr", a), spsp.csr_matrix(a)
    whole, per_row = mx.nd.contrib.getnnz(csr), mx.nd.contrib.getnnz(csr, axis=1)
    assert whole.dtype == per_row.dtype == np.int64 and whole.shape == (1,)
    np.testing.assert_array_equal(whole.asnumpy(), [sp.getnnz()])
    np.testing.assert_array_equal(per_row.asnumpy(), sp.getnnz(axis=1))


def test_getnnz_and_retain_errors():
    with pytest.raises(MXNetError, match="axis = 0"):
        mx.nd.contrib.getnnz(make("csr", np.eye(3, dtype=np.float32)), axis=0)
    with pytest.raises(MXNetError, match="CSRNDArray"):
        mx.nd.contrib.getnnz(mx.nd.ones((2, 2)))
    # MXNet's _sparse_retain has no parameters: an unknown keyword is ignored, a dense input is the error
    rsp = make("row_sparse", np.arange(6, dtype=np.float32).reshape(3, 2))
    kept = S.retain(rsp, mx.nd.array([2]), invalid_arg="garbage_value")
    np.testing.assert_array_equal(kept.asnumpy(), [[0, 0], [0, 0], [4, 5]])
    with pytest.raises(MXNetError):
        S.retain(mx.nd.ones((2, 2)), mx.nd.array([0]), invalid_arg="garbage_value")
    with pytest.raises(MXNetError, match="indices"):
        S.retain(rsp)


@settings(deadline=None)
@given(m=DIMS, n=DIMS, d1=DENSITIES, d2=DENSITIES, seed=st.integers(0, 2 ** 16),
       stype=st.sampled_from(["csr", "row_sparse"]), op=st.sampled_from(["maximum", "minimum", "hypot"]))
def test_maximum_minimum_hypot_against_numpy(m, n, d1, d2, seed, stype, op):
    rowwise = stype == "row_sparse"
    a, b = random_sparse(seed, (m, n), d1, rowwise), random_sparse(seed + 1, (m, n), d2, rowwise)
    # MXNet's elementwise _maximum (mx.nd.maximum of two arrays is broadcast_maximum, dense for sparse inputs)
    out = getattr(mx.nd._internal, "_" + op)(make(stype, a), make(stype, b))
    expected = getattr(np, op)(a, b)
    assert out.stype == stype
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-6)
    out.check_format()
    if stype == "csr":      # MXNet stores only the nonzero results of csr o csr
        assert out.data.shape[0] == np.count_nonzero(expected)
    else:                   # and every row either row_sparse stores
        np.testing.assert_array_equal(out.indices.asnumpy(), np.flatnonzero(a.any(axis=1) | b.any(axis=1)))


@settings(deadline=None)
@given(m=DIMS, n=DIMS, density=DENSITIES, seed=st.integers(0, 2 ** 16), rhs_stype=st.sampled_from(
       ["row_sparse", "default", "csr"]), scalar=st.sampled_from([2.5, -1.0, 0.0]))
def test_scatter_ops_touch_stored_values_only(m, n, density, seed, rhs_stype, scalar):
    a = random_sparse(seed, (m, n), density, rowwise=True)
    b = np.random.RandomState(seed + 1).uniform(0.5, 2, (m, n)).astype(np.float32)
    rsp, rows = make("row_sparse", a), np.flatnonzero(a.any(axis=1))
    out = mx.nd._internal._scatter_elemwise_div(rsp, make(rhs_stype, b))
    expected = np.zeros_like(a)
    expected[rows] = a[rows] / b[rows]
    assert out.stype == "row_sparse"
    np.testing.assert_array_equal(out.indices.asnumpy(), rows)
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-6)
    for stype in ("row_sparse", "csr"):
        x = make(stype, a)
        stored = x.asnumpy() != 0 if stype == "csr" else np.isin(np.arange(m), rows)[:, None] & np.ones((1, n), bool)
        plus = mx.nd._internal._scatter_plus_scalar(x, scalar=scalar)
        minus = mx.nd._internal._scatter_minus_scalar(x, scalar=scalar)
        assert plus.stype == minus.stype == stype
        np.testing.assert_allclose(plus.asnumpy(), np.where(stored, a + scalar, 0), rtol=1e-6)
        np.testing.assert_allclose(minus.asnumpy(), np.where(stored, a - scalar, 0), rtol=1e-6)
