"""Sparse NDArrays (issue 22, core): the classes, constructors, conversions, check_format, csr row slices, the
storage fallback and nd.save/nd.load of sparse arrays, against MXNet 1.9.1's recorded behaviour
(reference/sparse_core_fixtures.py -> tests/fixtures/mxnet-1.9.1/sparse_core/), numpy and scipy."""
import hashlib
import json
import os
import pickle
import re
import struct
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import dataflow as mx
from dataflow.base import MXNetError, NotSupportedForSparseNDArray
from dataflow.ndarray.serialization import FormatError
from dataflow.ndarray.sparse import CSRNDArray, StorageFallbackWarning, _csr, _rsp

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "sparse_core")
with open(os.path.join(FIXTURES, "cases.json")) as _fh:
    META = json.load(_fh)
EXPECTED = dict(np.load(os.path.join(FIXTURES, "expected.npz")))
INPUTS = {k.split("/", 1)[1]: v for k, v in EXPECTED.items() if k.startswith("input/")}
CASES = META["cases"]


def evaluate(expr):
    return eval(expr, dict(mx=mx, np=np, sp=sp, **INPUTS))      # noqa: S307 - the fixture's own case texts


def _same(ours, theirs):
    """Equal values, dtype and shape."""
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_array_equal(ours, theirs)


def _assert_like_mxnet(name, value):
    info = CASES[name]
    assert type(value).__name__ == info["type"]
    assert value.stype == info["stype"]
    assert np.dtype(value.dtype).name == info["dtype"]
    assert list(value.shape) == info["shape"]
    assert str(value.context) == info["context"]
    _same(value.asnumpy(), EXPECTED[name + "/dense"])
    if info["stype"] == "default":
        return
    assert repr(value).strip() == info["repr"]
    _same(value.data.asnumpy(), EXPECTED[name + "/data"])
    _same(value.indices.asnumpy(), EXPECTED[name + "/indices"])
    if info["stype"] == "csr":
        _same(value.indptr.asnumpy(), EXPECTED[name + "/indptr"])
    assert [np.dtype(t).name for t in value._aux_types] == info["aux_dtypes"]


# -- every recorded case: constructors, conversions, copies, row slices, and their errors ----------------------------

@pytest.mark.parametrize("name", sorted(n for n in CASES if "error" not in CASES[n]))
def test_case_gives_mxnets_array(name):
    _assert_like_mxnet(name, evaluate(CASES[name]["expr"]))


_EXCEPTION_TYPES = {"ValueError": ValueError, "TypeError": TypeError, "AssertionError": AssertionError,
                    "NotImplementedError": NotImplementedError, "Exception": Exception, "MXNetError": MXNetError,
                    "NotSupportedForSparseNDArray": NotSupportedForSparseNDArray}


@pytest.mark.parametrize("name", sorted(n for n in CASES if "error" in CASES[n]))
def test_case_raises_mxnets_error(name):
    info = CASES[name]
    with pytest.raises(_EXCEPTION_TYPES[info["error"]]) as caught:
        evaluate(info["expr"])
    if info["error"] == "MXNetError":
        # MXNet's message is a C++ size check ("copying size mismatch"); ours names the parts and their sizes
        assert re.search(r"\d+ (values|row indices)|does not fit|one index per value", str(caught.value))
    elif info["message"] and not info["message"].startswith("("):
        assert str(caught.value) == info["message"]


# -- check_format ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(META["checks"]))
def test_check_format_as_mxnet(name):
    info = META["checks"][name]
    array = evaluate(info["expr"])
    if info["error"] is None:
        array.check_format(full_check=info["full_check"])
        return
    expected = info["error"].split(" : ", 1)[1]       # "MXNetError: Check failed: err != kX (3 vs. 3) : <message>"
    with pytest.raises(MXNetError) as caught:
        array.check_format(full_check=info["full_check"])
    assert str(caught.value).startswith(expected + " (")     # MXNet's message, then what is wrong


def test_check_format_default_is_full():
    bad = mx.nd.sparse.row_sparse_array(([[1, 2], [3, 4]], [4, 1]), shape=(6, 2))
    with pytest.raises(MXNetError, match="ascending order"):
        bad.check_format()


@pytest.mark.parametrize("make", [
    lambda: mx.nd.sparse.row_sparse_array(([[1, 2], [3, 4]], [1, 7]), shape=(6, 2)),
    lambda: mx.nd.sparse.row_sparse_array(([[1, 2], [3, 4]], [-1, 2]), shape=(6, 2)),
    lambda: mx.nd.sparse.csr_matrix(([1, 2, 3], [1, 0, 5], [0, 1, 2, 2, 3]), shape=(4, 3)),
    lambda: mx.nd.sparse.csr_matrix(([1, 2, 3], [1, 0, 2], [0, 1, 4, 2, 3]), shape=(4, 3)),
    lambda: mx.nd.sparse.csr_matrix(([1, 2, 3], [1, 0, 2], [0, 1, 2, 3]), shape=(4, 3)),
])
def test_storage_indexing_outside_the_array_is_a_clear_error(make):
    """MXNet reads such storage out of bounds; here converting it to dense names what is wrong."""
    with pytest.raises(MXNetError, match="(Indices|IndPtr|Shape mismatch) of (this )?(csr|row_sparse)"):
        make().asnumpy()


# -- round trips against numpy and scipy (hypothesis) ---------------------------------------------------------------

def _sparse_dense(draw, ndim):
    rows = draw(st.integers(0, 7))
    cols = draw(st.lists(st.integers(1, 5), min_size=ndim - 1, max_size=ndim - 1))
    density = draw(st.sampled_from([0.0, 0.2, 0.5, 1.0]))
    seed = draw(st.integers(0, 2 ** 31 - 1))
    rng = np.random.RandomState(seed)
    shape = (rows, *cols)
    dtype = draw(st.sampled_from(["float32", "float64", "int32"]))
    values = (rng.randn(*shape) * 10).astype(dtype)
    values[values == 0] = 1
    return values * (rng.rand(*shape) < density).astype(dtype)


@st.composite
def matrices(draw):
    return _sparse_dense(draw, 2)


@st.composite
def tensors(draw):
    return _sparse_dense(draw, draw(st.integers(1, 3)))


@settings(deadline=None)
@given(matrices())
def test_csr_round_trip_equals_scipy(dense):
    csr = mx.nd.array(dense, dtype=dense.dtype).tostype("csr")
    expected = sp.csr_matrix(dense)
    _same(csr.indptr.asnumpy(), expected.indptr.astype(np.int64))
    _same(csr.indices.asnumpy(), expected.indices.astype(np.int64))
    _same(csr.data.asnumpy(), expected.data)
    _same(csr.asnumpy(), dense)
    _same(csr.tostype("default").asnumpy(), dense)
    assert (csr.asscipy() != expected).nnz == 0
    csr.check_format()
    again = mx.nd.sparse.csr_matrix((csr.data, csr.indices, csr.indptr), shape=dense.shape)
    _same(again.asnumpy(), dense)
    _same(mx.nd.sparse.csr_matrix(expected).asnumpy(), dense)


@settings(deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 12), st.integers(0, 2 ** 31 - 1))
def test_csr_from_coordinates_equals_scipy(rows, cols, count, seed):
    """Duplicates are summed, columns sorted (scipy's coo -> csr, which MXNet uses)."""
    rng = np.random.RandomState(seed)
    row, col = rng.randint(0, rows, count), rng.randint(0, cols, count)
    data = rng.randn(count)
    ours = mx.nd.sparse.csr_matrix((data, (row, col)), shape=(rows, cols))
    expected = sp.coo_matrix((data, (row, col)), shape=(rows, cols)).tocsr()
    expected.sum_duplicates()
    expected.sort_indices()
    assert ours.dtype == np.float64
    _same(ours.indptr.asnumpy(), expected.indptr.astype(np.int64))
    _same(ours.indices.asnumpy(), expected.indices.astype(np.int64))
    np.testing.assert_allclose(ours.data.asnumpy(), expected.data, rtol=1e-12)
    ours.check_format()


@settings(deadline=None)
@given(matrices(), st.integers(0, 2 ** 31 - 1))
def test_check_format_finds_a_swapped_pair(dense, seed):
    csr = mx.nd.sparse.csr_matrix(dense)
    indptr, indices = csr.indptr.asnumpy(), csr.indices.asnumpy()
    long_rows = np.flatnonzero(np.diff(indptr) >= 2)
    if not len(long_rows):
        return
    row = long_rows[np.random.RandomState(seed).randint(len(long_rows))]
    pair = [indptr[row], indptr[row] + 1]
    swapped, values = indices.copy(), csr.data.asnumpy()
    swapped[pair], values[pair] = swapped[pair[::-1]], values[pair[::-1]]
    bad = mx.nd.sparse.csr_matrix((values, swapped, indptr), shape=dense.shape)
    bad.check_format(full_check=False)
    with pytest.raises(MXNetError, match="row %d: column index" % row):
        bad.check_format()
    _same(bad.asnumpy(), dense)         # order is not needed to convert (MXNet converts it as well)


@settings(deadline=None)
@given(tensors())
def test_row_sparse_round_trip_equals_numpy(dense):
    rsp = mx.nd.array(dense, dtype=dense.dtype).tostype("row_sparse")
    rows = np.flatnonzero(dense.reshape(dense.shape[0], int(np.prod(dense.shape[1:]))).any(axis=1))
    _same(rsp.indices.asnumpy(), rows.astype(np.int64))
    _same(rsp.data.asnumpy(), dense[rows])
    _same(rsp.asnumpy(), dense)
    rsp.check_format()
    if dense.ndim > 1 or len(rows):
        again = mx.nd.sparse.row_sparse_array((rsp.data, rsp.indices), shape=dense.shape)
        _same(again.asnumpy(), dense)


@settings(deadline=None)
@given(matrices(), st.integers(-8, 8), st.integers(-8, 8))
def test_csr_row_slices_equal_numpy(dense, start, stop):
    csr = mx.nd.sparse.csr_matrix(dense)
    rows = dense.shape[0]
    begin = start if start else 0
    end = stop if stop else rows            # MXNet's rule: a stop of 0 or None is the end
    b, e = begin + rows * (begin < 0), end + rows * (end < 0)
    if not 0 <= b < e <= rows:
        with pytest.raises(MXNetError, match="slice"):
            csr[start:stop]
        return
    part = csr[start:stop]
    assert isinstance(part, CSRNDArray)
    _same(part.asnumpy(), dense[b:e])
    part.check_format()


# -- the classes' surface ----------------------------------------------------------------------------------------------

def test_namespace_as_mxnet():
    for name in ("CSRNDArray", "RowSparseNDArray", "BaseSparseNDArray", "csr_matrix", "row_sparse_array", "zeros",
                 "empty", "array"):
        assert hasattr(mx.nd.sparse, name), name
    assert issubclass(mx.nd.sparse.CSRNDArray, mx.nd.NDArray)
    assert mx.nd.ones((2, 2)).stype == "default"
    import importlib
    assert importlib.import_module("dataflow.ndarray.sparse") is mx.nd.sparse


def test_internal_constructors_take_the_arrays_as_they_are():
    data, indices = np.ones((2, 3), np.float32), np.array([0, 4], np.int64)
    rsp = _rsp(data, indices, (5, 3))
    assert rsp._data is data and rsp._indices is indices and rsp.context == mx.current_context()
    csr = _csr(np.ones(2, np.float32), np.array([0, 2]), np.array([0, 1, 2]), (2, 3), mx.cpu(0))
    assert csr._indices.dtype == np.int64 and csr._indptr.dtype == np.int64
    _same(csr.asnumpy(), np.array([[1, 0, 0], [0, 0, 1]], np.float32))


def test_data_and_indices_are_copies():
    rsp = mx.nd.sparse.row_sparse_array(([[1., 2.]], [1]), shape=(3, 2))
    data = rsp.data
    data[:] = 9
    _same(rsp.asnumpy(), np.array([[0, 0], [1, 2], [0, 0]], np.float32))


def test_copyto_and_setitem_replace_the_value():
    target = mx.nd.sparse.zeros("row_sparse", (3, 2))
    source = mx.nd.sparse.row_sparse_array(([[1., 2.]], [2]), shape=(3, 2))
    assert source.copyto(target) is target
    _same(target.asnumpy(), source.asnumpy())
    with pytest.raises(ValueError, match="shape"):
        source.copyto(mx.nd.sparse.zeros("row_sparse", (4, 2)))
    with pytest.warns(RuntimeWarning, match="copy an array to itself"):
        assert source.copyto(source) is False
    csr = mx.nd.sparse.zeros("csr", (2, 2))
    with pytest.warns(RuntimeWarning, match="not efficient"):
        csr[:] = np.eye(2)
    _same(csr.asnumpy(), np.eye(2, dtype=np.float32))
    with pytest.raises(ValueError, match="not implemented"):
        csr[0:1] = np.eye(2)


def test_pickle_round_trip():
    for value in (mx.nd.sparse.csr_matrix(INPUTS["dense34"]), mx.nd.sparse.row_sparse_array(INPUTS["dense534"])):
        again = pickle.loads(pickle.dumps(value))
        assert type(again) is type(value)
        _same(again.asnumpy(), value.asnumpy())


def test_detach_and_astype_keep_the_class():
    csr = mx.nd.sparse.csr_matrix(INPUTS["dense34"])
    assert isinstance(csr.detach(), CSRNDArray) and csr.detach()._data is csr._data
    assert csr.astype("float32", copy=False) is csr
    assert isinstance(csr.astype("float16"), CSRNDArray)


def test_zero_size_shapes():
    csr = mx.nd.sparse.zeros("csr", (0, 3))
    assert csr.shape == (0, 3) and csr.asnumpy().shape == (0, 3)
    csr.check_format()
    rsp = mx.nd.empty((0, 2)).tostype("row_sparse")
    assert rsp.shape == (0, 2) and rsp.indices.shape == (0,)


def test_attach_grad_with_a_sparse_stype():
    x = mx.nd.array([[1., 2.], [3., 4.], [5., 6.]])
    x.attach_grad(stype="row_sparse")
    with mx.autograd.record():
        y = (mx.nd.take(x, mx.nd.array([0, 2])) * 2).sum()
    y.backward()
    grad = x.grad
    assert isinstance(grad, mx.nd.sparse.RowSparseNDArray)
    _same(grad.indices.asnumpy(), np.array([0, 2], np.int64))
    _same(grad.asnumpy(), np.array([[2, 2], [0, 0], [2, 2]], np.float32))
    x.attach_grad()
    assert x.grad.stype == "default"
    with pytest.raises(ValueError, match="storage type 'foo'"):
        x.attach_grad(stype="foo")
    with pytest.raises(ValueError, match="2-D"):
        mx.nd.ones((2,)).attach_grad(stype="csr")


def test_size_and_scalar_are_undefined_as_in_mxnet():
    csr = mx.nd.sparse.zeros("csr", (1, 1))
    for what in (lambda: csr.size, csr.asscalar, lambda: bool(csr)):
        with pytest.raises(NotImplementedError):
            what()
    for what in (lambda: csr.reshape((1,)), csr.attach_grad, csr.to_dlpack_for_read):
        with pytest.raises(NotSupportedForSparseNDArray):
            what()
    with pytest.raises(ValueError, match="stype csr"):
        csr.as_np_ndarray()


def test_dense_assignment_from_a_sparse_value():
    dense = mx.nd.zeros((3, 4))
    dense[:] = mx.nd.sparse.csr_matrix(INPUTS["dense34"])
    _same(dense.asnumpy(), INPUTS["dense34"])
    dense[:] = 0
    mx.nd.sparse.csr_matrix(INPUTS["dense34"]).copyto(dense)
    _same(dense.asnumpy(), INPUTS["dense34"])
    target = mx.nd.sparse.zeros("csr", (3, 4), dtype="float64")
    mx.nd.array(INPUTS["dense34"]).copyto(target)
    assert isinstance(target, CSRNDArray) and target.dtype == np.float64
    _same(target.asnumpy(), INPUTS["dense34"].astype(np.float64))


# -- the storage fallback ----------------------------------------------------------------------------------------------

def _mxnet_message(logged):
    """MXNet's logged message without its timestamp prefix and the lines after it."""
    text = logged.split("utils.h:472: ", 1)[1]
    return text.split("\n[", 1)[0].rstrip("\n")


def test_fallback_warns_with_mxnets_message_once():
    from dataflow.ndarray.sparse import fallback
    fallback._WARNED.clear()
    csr = mx.nd.sparse.csr_matrix(INPUTS["dense34"])
    with pytest.warns(StorageFallbackWarning) as caught:
        out = mx.nd.exp(csr)
    assert type(out) is mx.nd.NDArray
    _same(out.asnumpy(), EXPECTED["fallback/exp_csr"])
    assert str(caught[0].message) == _mxnet_message(META["fallback"]["exp_csr"])
    assert META["fallback"]["exp_csr_again"] == ""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mx.nd.exp(csr)          # the same message again: not repeated, as MXNet logs it once


def test_fallback_message_names_the_params():
    from dataflow.ndarray.sparse import fallback
    fallback._WARNED.clear()
    rsp = mx.nd.sparse.row_sparse_array(INPUTS["dense534"])
    with pytest.warns(StorageFallbackWarning) as caught:
        out = mx.nd.softmax(rsp, axis=0)
    assert str(caught[0].message) == _mxnet_message(META["fallback"]["softmax_rsp_axis"])
    dense = INPUTS["dense534"]
    expected = np.exp(dense - dense.max(0)) / np.exp(dense - dense.max(0)).sum(0)
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-6)


def test_fallback_can_be_silenced_and_writes_sparse_out(monkeypatch):
    from dataflow.ndarray.sparse import fallback
    fallback._WARNED.clear()
    monkeypatch.setenv("MXNET_STORAGE_FALLBACK_LOG_VERBOSE", "0")
    csr = mx.nd.sparse.csr_matrix(INPUTS["dense34"])
    out = mx.nd.sparse.zeros("csr", (3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mx.nd.square(csr, out=out) is out
    assert isinstance(out, CSRNDArray)
    _same(out.asnumpy(), INPUTS["dense34"] ** 2)
    dense = mx.nd.ones((3, 4))
    _same((mx.nd.broadcast_add(csr, dense)).asnumpy(), INPUTS["dense34"] + 1)


def test_sparse_implementation_is_preferred():
    from dataflow.ndarray.sparse import fallback
    calls = []

    @fallback.implements("_test_only_op_name")
    def _impl(inputs, params, out):
        calls.append(1)
        return NotImplemented
    try:
        assert fallback._IMPLEMENTATIONS["_test_only_op_name"] is _impl
    finally:
        del fallback._IMPLEMENTATIONS["_test_only_op_name"]


# -- nd.save / nd.load -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fname", ["list.params", "dict.params"])
def test_mxnet_files_load(fname):
    info = META["files"][fname]
    loaded = mx.nd.load(os.path.join(FIXTURES, fname))
    values = loaded if fname.startswith("list") else [loaded[name] for name in info["cases"]]
    if not fname.startswith("list"):
        assert list(loaded) == info["cases"]
    for name, value in zip(info["cases"], values):
        _assert_like_mxnet(name, value)
        assert value.context == mx.cpu(0)


@pytest.mark.parametrize("fname", ["list.params", "dict.params"])
def test_saved_bytes_equal_mxnets(tmp_path, fname):
    info = META["files"][fname]
    values = [evaluate(CASES[name]["expr"]) for name in info["cases"]]
    path = tmp_path / fname
    mx.nd.save(str(path), values if fname.startswith("list") else dict(zip(info["cases"], values)))
    raw = path.read_bytes()
    with open(os.path.join(FIXTURES, fname), "rb") as fh:
        assert raw == fh.read()
    assert hashlib.sha256(raw).hexdigest() == info["sha256"]


def test_mixed_dense_and_sparse_file(tmp_path):
    loaded = mx.nd.load(os.path.join(FIXTURES, "mixed.params"))
    assert loaded["w"].stype == "default" and loaded["g"].stype == "row_sparse"
    _same(loaded["w"].asnumpy(), INPUTS["dense34"])
    _same(loaded["g"].asnumpy(), INPUTS["dense534"])
    mx.nd.save(str(tmp_path / "m.params"), loaded)
    assert hashlib.sha256((tmp_path / "m.params").read_bytes()).hexdigest() == META["files"]["mixed.params"]["sha256"]


def test_corrupted_sparse_record_names_the_record():
    with open(os.path.join(FIXTURES, "list.params"), "rb") as fh:
        raw = bytearray(fh.read())
    # record 0 is csr (4, 3) with 3 values: magic 24, stype 28, storage shape 32 (ndim) / 36 (nnz)
    assert struct.unpack_from("<iiq", raw, 28) == (2, 1, 3)
    bad = bytearray(raw)
    struct.pack_into("<q", bad, 36, 2 ** 40)
    with pytest.raises(FormatError, match="record 0 .*truncated"):
        mx.nd.load_frombuffer(bytes(bad))
    bad = bytearray(raw)
    struct.pack_into("<q", bad, 36, 2)      # 2 values but 3 column indices
    with pytest.raises(FormatError, match="record 0 .*inconsistent sparse record"):
        mx.nd.load_frombuffer(bytes(bad))
