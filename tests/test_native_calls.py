"""What the Plan compiler's generated code is built from (Note [bodies called by address] in scheduler/codegen.py):
calls through a compiled function's address (ops/jit/native.py) and views made by intrinsics (ops/jit/views.py).
The truth is a direct call of the same function and numpy's own views.
"""
import gc

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba.core import types
from numba.core.errors import TypingError

from ops.jit import native
from ops.jit.views import arena_view, flat


@numba.njit(cache=True)
def _scale_into(x, out, factor, add):
    for i in range(x.size):
        out[i] = x[i] * factor + (out[i] if add else 0)


@numba.njit(cache=True)
def _sum_of(out, *values):
    total = 0.0
    for v in values:
        total += v
    out[0] = total


@numba.njit(cache=True)
def _raises(out, n):
    if n > 2:
        raise ValueError("n is too big")
    out[0] = n


F64 = types.Array(types.float64, 1, "C")


def _caller(argtypes, passed, packed=-1):
    """A jitted `caller(where, x, y)` calling the function at address `where` with the arguments `passed` (source),
    stated to be of `argtypes`."""
    signature = native.signature_text(native.native_types(argtypes, packed))
    scope = {"call_native": native.call_native}
    exec("def caller(where, x, y):\n    call_native(where, %r, %d, %s)\n" % (signature, packed, passed), scope)
    return numba.njit(scope["caller"])


def test_a_call_by_address_equals_a_direct_call():
    argtypes = (F64, F64, types.float64, types.boolean)
    caller = _caller(argtypes, "x, y, 2.5, True")
    x, out = np.arange(5.0), np.ones(5)
    caller(native.address(_scale_into, argtypes), x, out)
    want = np.ones(5)
    _scale_into(x, want, 2.5, True)
    np.testing.assert_array_equal(out, want)


def test_a_star_args_tail_is_packed_as_numba_packs_it():
    assert native.packed_from(_sum_of) == 1 and native.by_address(_sum_of)
    argtypes = (F64, types.float64, types.float64, types.float64)
    caller = _caller(argtypes, "x, 1.5, 2.5, 3.0", packed=1)
    out = np.zeros(1)
    caller(native.address(_sum_of, argtypes), out, 0)
    assert out[0] == 7.0


def test_a_call_whose_types_differ_from_the_address_signature_does_not_compile():
    argtypes = (types.Array(types.float32, 1, "C"), types.Array(types.float32, 1, "C"), types.float64,
                types.boolean)
    caller = _caller(argtypes, "x, y, 2.5, True")       # states float32 arrays, is given float64 ones
    with pytest.raises(TypingError, match="call_native"):
        caller(native.address(_scale_into, argtypes), np.zeros(3), np.zeros(3))


def test_an_exception_in_the_callee_reaches_the_caller():
    argtypes = (F64, types.int64)
    caller = _caller(argtypes, "x, y")
    where = native.address(_raises, argtypes)
    out = np.zeros(1)
    caller(where, out, 2)
    assert out[0] == 2
    with pytest.raises(ValueError, match="too big"):
        caller(where, out, 3)


def test_a_function_with_defaults_is_called_directly():
    @numba.njit
    def with_default(x, k=2):
        return x * k
    assert not native.by_address(with_default)


@numba.njit
def _views(arena, offset, rows, cols):
    v = arena_view(arena, offset, np.float32, (rows, cols))
    return v, flat(v, rows * cols)


@settings(deadline=None, max_examples=30)
@given(offset=st.integers(0, 16).map(lambda k: 4 * k), rows=st.integers(1, 5), cols=st.integers(1, 6))
def test_arena_views_are_numpy_views(offset, rows, cols):
    arena = np.random.RandomState(0).randint(0, 255, offset + 4 * rows * cols + 8).astype(np.uint8)
    view, flat_view = _views(arena, offset, rows, cols)
    want = arena[offset:offset + 4 * rows * cols].view(np.float32).reshape(rows, cols)
    np.testing.assert_array_equal(view, want)
    np.testing.assert_array_equal(flat_view, want.reshape(-1))
    assert view.flags.c_contiguous and flat_view.shape == (rows * cols,)
    view[0, 0] = 7.0                        # the arena's memory, not a copy
    assert want[0, 0] == 7.0 and flat_view[0] == 7.0


def test_a_view_keeps_its_arena_alive():
    arena = np.zeros(64, np.uint8)
    view, _ = _views(arena, 8, 2, 3)
    del arena
    gc.collect()
    view[:] = 1.5
    np.testing.assert_array_equal(np.asarray(view), np.full((2, 3), 1.5, np.float32))
