"""Comparing results in tests: `assert_almost_equal` and its relatives, `same`, `assert_exception`, `retry`,
`environment`.

The rule of `assert_almost_equal(a, b)`: it passes exactly when `numpy.allclose(a, b, rtol, atol, equal_nan)` holds,
that is |a - b| <= atol + rtol * |b| elementwise (b is the reference), with rtol and atol from `get_tols` (the
larger default of the two dtypes unless given). When it fails, the message names the worst violation (the element
with the largest |a - b| / (atol + rtol * |b|)), its location and both values, and the share of elements that
violate the tolerance, as MXNet's does.
"""
import contextlib
import json
import os

import numpy as np
import numpy.testing as npt

from .tolerance import get_atol, get_etol, get_rtol, get_tols


def _as_numpy(x):
    return x.asnumpy() if hasattr(x, "asnumpy") else x


def same(a, b):
    """True when the two arrays have the same shape and elements."""
    return np.array_equal(_as_numpy(a), _as_numpy(b))


def checkShapes(a, b):  # noqa: N802 - MXNet's name
    """Raise AssertionError when `a` and `b` differ in shape."""
    if a.shape != b.shape:
        raise AssertionError(npt.build_err_msg([a, b], err_msg="a.shape = %s and b.shape = %s are not equal"
                                               % (a.shape, b.shape)))


def almost_equal(a, b, rtol=None, atol=None, equal_nan=False, use_broadcast=True):
    """`numpy.allclose(a, b)` with the float64 defaults for tolerances left as None (rtol 1e-5, atol 1e-20)."""
    a, b = _as_numpy(a), _as_numpy(b)
    if not use_broadcast:
        checkShapes(a, b)
    return bool(np.allclose(a, b, rtol=get_rtol(rtol), atol=get_atol(atol), equal_nan=equal_nan))


def _find_max_violation(a, b, rtol, atol):
    """(index, ratio) of the element with the largest |a - b| / (atol + rtol |b|); equal infinities count as 0."""
    with np.errstate(invalid="ignore", over="ignore"):
        absdiff = np.where(np.equal(a, b), 0, np.abs(a - b))
        violation = absdiff / (atol + rtol * np.abs(b) + 1e-20)
    index = np.unravel_index(np.argmax(violation), violation.shape)
    return tuple(int(i) for i in index), np.max(violation)


def locationError(a, b, index, names, maxError=False):  # noqa: N802, N803 - MXNet's names
    """'Location of [maximum ]error: <index>, <name a>=<value>, <name b>=<value>'."""
    return "Location of %serror: %s, %s=%.8f, %s=%.8f" % ("maximum " if maxError else "", index, names[0],
                                                          a[index], names[1], b[index])


def assert_almost_equal(a, b, rtol=None, atol=None, names=("a", "b"), equal_nan=False, use_broadcast=True,
                        mismatches=(10, 10)):
    """Assert that `a` and `b` (numpy arrays, NDArrays or numbers) are close; see the module's rule.

    `rtol`/`atol` are None (dtype defaults), numbers, or dicts dtype -> number. `names` label the arrays in the
    message; `mismatches` = (how many violations to list, how many to count before saying 'at least'). Boolean
    arrays must be equal."""
    if not use_broadcast:
        checkShapes(a, b)
    rtol, atol = get_tols(a, b, rtol, atol)
    a, b = _as_numpy(a), _as_numpy(b)
    if getattr(a, "dtype", None) == np.bool_ and getattr(b, "dtype", None) == np.bool_:
        np.testing.assert_equal(a, b)
        return
    if almost_equal(a, b, rtol, atol, equal_nan=equal_nan):
        return
    raise AssertionError(_mismatch_message(np.asarray(a), np.asarray(b), rtol, atol, names, equal_nan, mismatches))


def _mismatch_message(a, b, rtol, atol, names, equal_nan, mismatches):
    a, b = np.broadcast_arrays(a, b)
    index, worst = _find_max_violation(a, b, rtol, atol)
    if index == ():
        message = "Error %f exceeds tolerance rtol=%e, atol=%e.\n" % (worst, rtol, atol)
    else:
        close = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
        bad = np.argwhere(~close)
        # list the violations worst first, as MXNet prints them
        with np.errstate(invalid="ignore", over="ignore"):
            ratio = np.where(np.equal(a, b), 0, np.abs(a - b)) / (atol + rtol * np.abs(b) + 1e-20)
        ratios = ratio[tuple(bad.T)]
        order = np.argsort(-np.nan_to_num(ratios, nan=np.inf), kind="stable")
        shown = ["%3d: Error %f  %s" % (k + 1, ratios[j], locationError(a, b, tuple(int(i) for i in bad[j]), names))
                 for k, j in enumerate(order[:max(mismatches[0], 0)])]
        count = len(bad)
        capped = mismatches[1] > 0 and count > mismatches[1]
        counted = mismatches[1] + 1 if capped else count
        message = "Error %f exceeds tolerance rtol=%e, atol=%e (mismatch %s%f%%).\n%s" % (
            worst, rtol, atol, "at least " if capped else "", 100.0 * counted / a.size,
            locationError(a, b, index, names, maxError=True))
        message += "\n*** Maximum errors for vector of size %d:  rtol=%s, atol=%s\n%s" % (a.size, rtol, atol,
                                                                                         "\n".join(shown))
    with np.printoptions(threshold=4, suppress=True):
        return npt.build_err_msg([a, b], err_msg=message, names=names)


def assert_allclose(a, b, rtol=1e-07, atol=0, equal_nan=True):
    """`assert_almost_equal` with numpy's `assert_allclose` defaults."""
    assert_almost_equal(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def assert_almost_equal_with_err(a, b, rtol=None, atol=None, etol=None, names=("a", "b"), equal_nan=False,
                                 mismatches=(10, 10)):
    """Like `assert_almost_equal`, but a fraction `etol` of the elements may violate the tolerance."""
    etol = get_etol(etol)
    if etol <= 0:
        assert_almost_equal(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
        return
    rtol, atol = get_tols(a, b, rtol, atol)
    a, b = np.asarray(_as_numpy(a)), np.asarray(_as_numpy(b))
    close = np.isclose(a, b, rtol=rtol, atol=atol)
    if 1 - np.count_nonzero(close) / close.size > etol:
        raise AssertionError(_mismatch_message(a, b, rtol, atol, names, equal_nan, mismatches))


def assert_almost_equal_ignore_nan(a, b, rtol=None, atol=None, names=("a", "b")):
    """`assert_almost_equal` after setting every position that is NaN in either array to 0 in both."""
    a, b = np.copy(_as_numpy(a)), np.copy(_as_numpy(b))
    nan = np.logical_or(np.isnan(a), np.isnan(b))
    a[nan] = 0
    b[nan] = 0
    assert_almost_equal(a, b, rtol, atol, names)


def assert_exception(f, exception_type, *args, **kwargs):
    """Assert that `f(*args, **kwargs)` raises `exception_type`."""
    try:
        f(*args, **kwargs)
    except exception_type:
        return
    raise AssertionError("%s did not raise %s" % (getattr(f, "__name__", f), getattr(exception_type, "__name__",
                                                                                      exception_type)))


def assertRaises(expected_exception, func, *args, **kwargs):  # noqa: N802 - the name MXNet's unit tests import
    """Assert that `func(*args, **kwargs)` raises `expected_exception` (MXNet's tests/python/unittest/common.py)."""
    assert_exception(func, expected_exception, *args, **kwargs)


def retry(n):
    """Decorator: run a stochastic test up to `n` times, failing only when every run raises AssertionError."""
    assert n > 0

    def decorate(f):
        def wrapper(*args, **kwargs):
            for attempt in range(n):
                try:
                    f(*args, **kwargs)
                    return
                except AssertionError:
                    if attempt == n - 1:
                        raise
                    from .. import ndarray
                    ndarray.waitall()
        wrapper.__name__, wrapper.__doc__ = f.__name__, f.__doc__
        return wrapper
    return decorate


@contextlib.contextmanager
def environment(*args):
    """`with environment(name, value):` or `with environment({name: value, ...}):` sets environment variables
    (None unsets one) for the block and restores their previous state afterwards, even on an exception."""
    if len(args) == 1 and isinstance(args[0], dict):
        settings = args[0]
    else:
        assert len(args) == 2, "Expecting one dict arg or two args: env var name and value"
        settings = {args[0]: args[1]}
    before = {name: os.environ.get(name) for name in settings}

    def apply(values):
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    apply(settings)
    try:
        yield
    finally:
        from .. import ndarray
        ndarray.waitall()       # pending work may still read the settings
        apply(before)


def same_array(array1, array2):
    """True when two NDArrays share memory (checked by changing one and looking at the other)."""
    array1[:] += 1
    shared = same(array1.asnumpy(), array2.asnumpy())
    array1[:] -= 1
    return shared and same(array1.asnumpy(), array2.asnumpy())


def same_symbol_structure(sym1, sym2):
    """True when the two symbols' nodes have the same ops in the same order."""
    nodes1, nodes2 = (json.loads(s.tojson())["nodes"] for s in (sym1, sym2))
    return all(n1["op"] == n2["op"] for n1, n2 in zip(nodes1, nodes2))


def compare_ndarray_tuple(t1, t2, rtol=None, atol=None):
    """`assert_almost_equal` over (nested tuples of) arrays; None on either side compares nothing."""
    if t1 is None or t2 is None:
        return
    if isinstance(t1, tuple):
        for s1, s2 in zip(t1, t2):
            compare_ndarray_tuple(s1, s2, rtol, atol)
    else:
        assert_almost_equal(t1, t2, rtol=rtol, atol=atol)


def np_reduce(dat, axis, keepdims, numpy_reduce_func):
    """Reduce `dat` with `numpy_reduce_func` (np.sum ...) over `axis` (None, an int or several), one axis at a
    time from the last; with `keepdims` the reduced axes stay as size 1."""
    axes = [axis] if isinstance(axis, int) else (list(axis) if axis is not None else list(range(dat.ndim)))
    result = dat
    for i in sorted(axes, reverse=True):
        result = numpy_reduce_func(result, axis=i)
    if keepdims:
        shape = list(dat.shape)
        for i in axes:
            shape[i] = 1
        result = result.reshape(tuple(shape))
    return result


def collapse_sum_like(a, shape):
    """Sum `a` over the axes where `shape` (broadcastable to a.shape) has no axis or size 1."""
    assert a.ndim >= len(shape)
    if np.prod(shape) == 0 or a.size == 0:
        return np.zeros(shape, dtype=a.dtype)
    lead = a.ndim - len(shape)
    axes = list(range(lead))
    for i, n in enumerate(shape):
        if n != a.shape[lead + i]:
            assert n == 1, "shape %s does not broadcast to %s" % (tuple(shape), a.shape)
            axes.append(lead + i)
    return np.sum(a, axis=tuple(axes)).reshape(shape)
