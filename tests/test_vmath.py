"""ops/cpu/vmath.py against numpy/scipy in float64, to the error bound stated per function in SPECS; apply() on
both of its routes (vmath.ROUTES)."""
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numba import njit

from ops.cpu import vmath

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

EPS = float(np.finfo(np.float32).eps)        # 1.19e-7
DENORMAL = 2.0 ** -149                       # the float32 denormal ulp: slack for results that land there
OVERFLOW = 2.0 ** 128                        # float32 overflow; float64 values beyond it compare as inf
FMAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Spec:
    name: str
    ref: Callable                             # float64 -> float64 reference
    lo: float                                 # inputs drawn from [lo, hi]
    hi: float
    rtol: float                               # max relative error against the float64 reference
    approach: tuple = ()                      # points the dense grid also approaches geometrically


SPECS = [
    Spec("exp", np.exp, -110.0, 95.0, 1.0 * EPS),
    Spec("expm1", np.expm1, -110.0, 95.0, 1.5 * EPS),
    Spec("log", np.log, -10.0, FMAX, 1.0 * EPS, approach=(0.0, 1.0)),
    Spec("log1p", np.log1p, -1.5, FMAX, 1.5 * EPS, approach=(-1.0, 0.0)),
    Spec("tanh", np.tanh, -20.0, 20.0, 1.5 * EPS, approach=(0.0,)),
    Spec("sigmoid", scipy.special.expit, -110.0, 110.0, 2.0 * EPS),
    Spec("softrelu", lambda x: np.logaddexp(x, 0.0), -110.0, 110.0, 2.0 * EPS),
    Spec("softsign", lambda x: x / (1 + np.abs(x)), -1e6, 1e6, 1.5 * EPS, approach=(0.0,)),
    Spec("erf", scipy.special.erf, -6.0, 6.0, 2.0 * EPS, approach=(0.0,)),
]
ids = [s.name for s in SPECS]


def run(spec, x, out=None):
    out = np.empty_like(x) if out is None else out
    vmath.FLOAT32[spec.name](x, out)
    return out


def check(spec, x, y):
    """y (float32) is within spec.rtol of the float64 reference, NaN exactly where it is NaN."""
    with np.errstate(all="ignore"):
        r = np.clip(spec.ref(x.astype(np.float64)), -OVERFLOW, OVERFLOW)
    y = np.clip(y.astype(np.float64), -OVERFLOW, OVERFLOW)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(r), err_msg=f"{spec.name}: NaN pattern")
    ok = np.isnan(r) | (np.abs(y - r) <= spec.rtol * np.abs(r) + DENORMAL)
    if not ok.all():
        bad = np.flatnonzero(~ok)[:5]
        pytest.fail(f"{spec.name}: x={x[bad]!r} got {y[bad]!r} want {r[bad]!r} (rtol {spec.rtol:.2e})")


def grid(spec, n=100_001):
    """A linear grid over [lo, hi], plus magnitudes 1e-40 .. 1e38 around 0 and each approach point."""
    mags = np.geomspace(1e-40, 1e38, n)
    parts = [np.linspace(spec.lo, spec.hi, n)]
    parts += [p + s * mags for p in (0.0,) + spec.approach for s in (1, -1)]
    x = np.concatenate(parts).astype(np.float32)
    return x[(x >= spec.lo) & (x <= spec.hi)]


def float32_arrays(spec):
    # lengths 0..300 leave every remainder modulo the vector width (8 or 16) for the scalar tail loop
    return arrays(np.float32, st.integers(0, 300), elements=st.floats(spec.lo, spec.hi, width=32))


@pytest.mark.parametrize("spec", SPECS, ids=ids)
@settings(deadline=None, max_examples=30)
@given(data=st.data())
def test_random_arrays(spec, data):
    x = data.draw(float32_arrays(spec))
    check(spec, x, run(spec, x))


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_dense_grid(spec):
    x = grid(spec)
    check(spec, x, run(spec, x))


@pytest.mark.parametrize("spec", SPECS, ids=ids)
@settings(deadline=None, max_examples=15)
@given(data=st.data())
def test_in_place_matches_out_of_place(spec, data):
    # in place runs its own loop (see vmath on LLVM's overlap check): the same bits as out-of-place
    x = data.draw(float32_arrays(spec))
    expected = run(spec, x)
    run(spec, x, out=x)
    np.testing.assert_array_equal(x, expected)


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_in_place_dense_grid(spec):
    x = grid(spec)
    y = x.copy()
    run(spec, y, out=y)
    check(spec, x, y)


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_special_values(spec):
    f32 = np.finfo(np.float32)
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, f32.max, -f32.max, f32.tiny, DENORMAL, -DENORMAL,
                  1.0, -1.0, np.nan], np.float32)
    check(spec, x, run(spec, x))


@pytest.mark.parametrize("spec", SPECS, ids=ids)
@pytest.mark.parametrize("n", [1, 7, 8, 9, 16, 17, 33, 100])
def test_nan_in_nan_out(spec, n):
    # NaN in the vector body, in the scalar tail, and next to ordinary values
    x = np.linspace(0.05, 0.9, n).astype(np.float32)      # inside every function's domain
    x[::3] = np.nan
    y = run(spec, x)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(x))


def test_exp_overflow_matches_numpy_float32():
    x = np.array([88.0, 88.72, 88.73, 89.0, 100.0, 1e30, -87.0, -100.0, -103.0, -104.0, -1e30], np.float32)
    with np.errstate(all="ignore"):
        want = np.exp(x)
    np.testing.assert_array_equal(np.isinf(run(SPECS[0], x)), np.isinf(want))
    np.testing.assert_array_equal(run(SPECS[0], x) == 0, want == 0)


def user_loop(scalar, **flags):
    @njit(**flags)
    def loop(x, out):
        for i in range(x.shape[0]):
            out[i] = scalar(x[i])
    return loop


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_scalar_function_in_a_user_kernel(spec):
    x = grid(spec, n=1001)
    y = np.empty_like(x)
    # compiled with vmath's flags: the very same bits as the array function
    user_loop(vmath.SCALAR[spec.name], **vmath.JIT_FLAGS)(x, y)
    np.testing.assert_array_equal(y, run(spec, x))
    # compiled with numba's defaults (no FMA, Python's division errors): within the bound, no exception
    user_loop(vmath.SCALAR[spec.name])(x, y)
    check(spec, x, y)


@pytest.fixture(params=["vmath", "numpy"])
def route(request, monkeypatch):
    """Every function routed to vmath, or to numpy, as apply() would on one host or another."""
    monkeypatch.setattr(vmath, "ROUTES", {name: request.param for name in vmath.FLOAT32})
    return request.param


@pytest.mark.parametrize("name", list(vmath.FLOAT32))
def test_apply(name, route):
    x = np.linspace(-3, 3, 2 * 3 * 5).reshape(2, 3, 5).astype(np.float32)
    flat = x.reshape(-1).copy()
    if route == "vmath":
        vmath.FLOAT32[name](x.reshape(-1), flat)
    else:
        vmath.NUMPY[name](x.reshape(-1), out=flat)
    np.testing.assert_array_equal(vmath.apply(name, x), flat.reshape(x.shape))
    # in place, through a multi-dimensional array
    y = x.copy()
    assert vmath.apply(name, y, out=y) is y
    np.testing.assert_array_equal(y, flat.reshape(x.shape))
    # other dtypes and strided views fall back to numpy/scipy with out=
    spec = SPECS[ids.index(name)]
    with np.errstate(all="ignore"):
        x64 = x.astype(np.float64)
        np.testing.assert_allclose(vmath.apply(name, x64), spec.ref(x64), rtol=1e-14)
        strided = x[:, :, ::2]
        want = spec.ref(strided.astype(np.float64))
        np.testing.assert_allclose(vmath.apply(name, strided), want, rtol=1e-6)
    assert vmath.apply(name, x.astype(np.float16)).dtype == np.float16
    assert vmath.apply(name, np.zeros((0, 3), np.float32)).shape == (0, 3)
    assert vmath.apply(name, np.float32(0.5) * np.ones((), np.float32)).shape == ()


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_either_route_within_the_bound(spec, route):
    # numpy's float32 loops are within 4 ulp (1 ulp where numpy runs SVML); vmath's within spec.rtol
    if route == "numpy" and vmath.choose_routes(True)[spec.name] != "numpy":
        pytest.skip("never routed to numpy")
    x = grid(spec, n=20_001)
    with np.errstate(all="ignore"):
        y = vmath.apply(spec.name, x)
    check(Spec(spec.name, spec.ref, spec.lo, spec.hi, max(spec.rtol, 4 * EPS)), x, y)


def test_routes_follow_the_host():
    # numpy's float32 expm1/log/log1p/tanh beat vmath only where numpy runs its AVX-512 (SVML) loops
    assert vmath.choose_routes(True) == {name: "numpy" if name in ("expm1", "log", "log1p", "tanh") else "vmath"
                                         for name in vmath.FLOAT32}
    assert set(vmath.choose_routes(False).values()) == {"vmath"}
    assert vmath.ROUTES == vmath.choose_routes(vmath.numpy_has_svml())


def test_numpy_without_avx512_routes_to_vmath():
    # numpy with its AVX-512 dispatch turned off, as on an AVX2 host (NPY_DISABLE_CPU_FEATURES), in a fresh process
    code = "from ops.cpu import vmath; print(sorted(set(vmath.ROUTES.values())), vmath.numpy_has_svml())"
    env = dict(os.environ, NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["['vmath']", "False"]


def test_tables_agree():
    assert set(vmath.FLOAT32) == set(vmath.SCALAR) == set(vmath.NUMPY) == set(ids)
