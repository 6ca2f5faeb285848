"""Two-thread fused loops (Note [two threads] in scheduler/codegen.py): a fused loop whose work reaches
`codegen.PARALLEL_WORK` also gets a form whose threads take chunks of `codegen.CHUNK` elements from an atomic
counter. Run on two threads it gives what the unfused bodies give, bit for bit, above the threshold (one partial
chunk, several chunks and a partial last one) and below it (no such form); float64 chains too, and float16 chains
still run interpreted and right. `LoopThreads` picks the thread count per call: blas_threads' policy, never in a
forked child.

The truth: the same Plan compiled without fusion (`DATAFLOW_JIT=nofuse`: one body call per step, each equal to the
op's CPU kernel in tests/test_jit_bodies.py), the interpreted Plan (the CPU kernels) and numpy.
"""
import os
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dataflow as mx
from scheduler import codegen
from scheduler import compile as jit
from scheduler import loop_threads
from scheduler.compile import CompiledPlan
from tests.test_compile import _values
from tests.test_fusion import STEPS, chain, elemwise10, elemwise10_numpy, forward_info, run

# A small threshold keeps the arrays small: elemwise10's work is 38 per element (4 vmath steps of VMATH_WORK, 6
# others), so from 431 elements on it gets a two-thread form.
THRESHOLD = 1 << 14


@pytest.fixture(autouse=True, scope="module")
def _numba_array_support_loaded():
    import numba.np.arraymath  # noqa: F401  (the first compile of a process would go to the background)


@pytest.fixture(autouse=True)
def _small_threshold_compiled_from_the_first_run(monkeypatch):
    monkeypatch.setattr(jit, "COMPILE_AFTER_RUNS", 0)
    monkeypatch.setattr(codegen, "PARALLEL_WORK", THRESHOLD)


def threads_available():
    return loop_threads.parallel_ok()


def thread_counts(plan):
    """The thread count each two-thread loop of the plan's compiled ranges ran with last."""
    return [int(sizes[k]) for r in plan.shared.ranges.values() if isinstance(r.site, loop_threads.LoopThreads)
            for sizes, k in r.site._flags]


def on_two_threads(sym, values, monkeypatch, grad_req="null"):
    """Outputs (and gradients) of `sym` with every two-thread loop run on all its threads, of the unfused bodies,
    and the two-thread plan."""
    monkeypatch.setenv("DATAFLOW_JIT_PARALLEL", "1")
    got, got_grads, plan = run(sym, values, monkeypatch, grad_req=grad_req)
    plain, plain_grads, _ = run(sym, values, monkeypatch, jit="nofuse", grad_req=grad_req)
    return (got, got_grads), (plain, plain_grads), plan


@pytest.mark.parametrize("n", [400, 5000, 3 * codegen.CHUNK + 77], ids=["below", "one-partial-chunk", "chunks"])
def test_elemwise10_on_two_threads_equals_unfused_and_numpy(n, monkeypatch):
    values = _values(["x"], (1, n), np.float32, seed=n)
    (got, _), (plain, _), plan = on_two_threads(elemwise10(mx.sym.Variable("x")), values, monkeypatch)
    source = forward_info(plan)["source"]
    above = 38 * n >= THRESHOLD
    assert ("fused_0_par" in source) == (above and threads_available()), source
    if above and threads_available():
        assert "numba.prange(threads)" in source and thread_counts(plan) == [loop_threads.thread_count()]
    np.testing.assert_array_equal(got[0], plain[0])
    # against float64: exp(t*t) - 1 cancels for small t (x near -0.5), which float32 rounding of t shows at up to
    # ~1.3e-4 relative over these inputs
    np.testing.assert_allclose(got[0], elemwise10_numpy(values["x"]), rtol=5e-4, atol=1e-6)


def test_one_thread_and_two_threads_agree(monkeypatch):
    """The serial form of a loop that has a two-thread form (what LoopThreads picks on a busy machine)."""
    values = _values(["x"], (2, codegen.CHUNK + 5), np.float32, seed=1)
    sym = elemwise10(mx.sym.Variable("x"))
    monkeypatch.setenv("DATAFLOW_JIT_PARALLEL", "1")
    two, _, _ = run(sym, values, monkeypatch)
    monkeypatch.setenv("DATAFLOW_JIT_PARALLEL", "auto")
    monkeypatch.setattr(loop_threads, "_other_load", lambda: _Load(free=False))       # the other core is busy
    one, _, plan = run(sym, values, monkeypatch)
    if threads_available():
        assert thread_counts(plan) == [1]
    np.testing.assert_array_equal(one[0], two[0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_plain_loop_and_its_gradient_on_two_threads(dtype, monkeypatch):
    """A chain without vmath (one pass, not tiled), forward and backward (req add accumulates), float64 too."""
    x = mx.sym.Variable("x")
    sym = mx.sym.relu(x * 1.5 + 0.25) * x - mx.sym.square(x) * 0.5
    values = _values(["x"], (3, 2 * codegen.CHUNK + 11), dtype, seed=2)
    (got, got_grads), (plain, plain_grads), plan = on_two_threads(sym, values, monkeypatch, grad_req="add")
    if threads_available():
        assert any("_par(" in r.info["source"] for r in plan.shared.ranges.values() if r.info)
    np.testing.assert_array_equal(got[0], plain[0])
    np.testing.assert_array_equal(got_grads["x"], plain_grads["x"])
    v = values["x"].astype(np.float64)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(got[0], np.maximum(v * 1.5 + 0.25, 0) * v - v * v * 0.5, rtol=rtol, atol=rtol)
    # gradient of a head summed over 3 runs, each adding 0.5 + dy to the initial 0.5 (grad_req add, dy = 1)
    dx = np.where(v * 1.5 + 0.25 > 0, 1.5 * v + (v * 1.5 + 0.25), 0) - v
    np.testing.assert_allclose(got_grads["x"], 0.5 + 3 * dx, rtol=rtol * 10, atol=rtol * 10)


def test_a_float16_chain_runs_interpreted_and_right(monkeypatch):
    x = mx.sym.Variable("x")
    sym = mx.sym.exp(mx.sym.tanh(x * 0.5 + 0.25)) * x
    values = _values(["x"], (4, 5000), np.float16, seed=3)
    (got, _), (plain, _), plan = on_two_threads(sym, values, monkeypatch)
    assert forward_info(plan)["segments"] == 0      # float16 has no bodies: the kernels run, interpreted
    v = values["x"].astype(np.float32)
    np.testing.assert_allclose(got[0].astype(np.float32), np.exp(np.tanh(v * 0.5 + 0.25)) * v, rtol=4e-3, atol=4e-3)


@settings(max_examples=4, deadline=None)     # each chain is a module of its own to compile, with a parallel form
@given(names=st.lists(st.sampled_from([n for n, _ in STEPS]), min_size=2, max_size=5),
       n=st.sampled_from([300, 3000, codegen.CHUNK + 999]), seed=st.integers(0, 2 ** 16))
def test_random_chains_on_two_threads_equal_unfused(names, n, seed):
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(jit, "COMPILE_AFTER_RUNS", 0)
        monkeypatch.setattr(codegen, "PARALLEL_WORK", THRESHOLD)
        (got, _), (plain, _), plan = on_two_threads(chain(names), _values(["x"], (1, n), np.float32, seed),
                                                    monkeypatch)
    assert isinstance(plan, CompiledPlan) and forward_info(plan)["fused"]
    np.testing.assert_array_equal(got[0], plain[0])


# ---- LoopThreads: the thread count per call --------------------------------------------------------------------
class _Load:
    def __init__(self, free):
        self.free_now = free

    def free(self, threads):
        return self.free_now


def test_loop_threads_follow_the_gemm_policy(monkeypatch):
    sizes = np.ones(3, np.int64)
    site = loop_threads.LoopThreads([(sizes, 2)])
    if not site.active:
        pytest.skip("one usable core: no two-thread loops")
    load = _Load(free=False)
    monkeypatch.setattr(loop_threads, "_other_load", lambda: load)
    monkeypatch.setattr(loop_threads, "_threads_pid", os.getpid())
    monkeypatch.setenv("DATAFLOW_JIT_PARALLEL", "auto")
    with site:
        assert sizes[2] == 1                    # the other cores are busy
        time.sleep(0.03)                        # (one thread's calls take 30 ms here, two threads' 1 ms)
    load.free_now = True
    seen = []
    for _ in range(6):                          # two threads are tried, and kept while they win
        with site:
            seen.append(int(sizes[2]))
            time.sleep(0.001 if sizes[2] > 1 else 0.03)
    assert seen[0] > 1 and seen[-2:] == [site._many] * 2, seen
    with site:
        time.sleep(0.1)                         # a slow call on two threads: back to one
    with site:
        assert sizes[2] == 1
    monkeypatch.setenv("DATAFLOW_JIT_PARALLEL", "1")
    load.free_now = False
    with site:
        assert sizes[2] == site._many           # forced
    monkeypatch.setattr(loop_threads, "_threads_pid", -1)
    with site:
        assert sizes[2] == 1                    # a forked child never enters the parallel layer


def test_switched_off_writes_no_parallel_code(monkeypatch):
    monkeypatch.setenv("DATAFLOW_JIT_PARALLEL", "0")
    values = _values(["x"], (1, 5000), np.float32)
    got, _, plan = run(elemwise10(mx.sym.Variable("x")), values, monkeypatch)
    source = forward_info(plan)["source"]
    assert "parallel=True" not in source and "prange" not in source
    np.testing.assert_allclose(got[0], elemwise10_numpy(values["x"]), rtol=5e-4, atol=1e-6)


def test_a_graph_bound_again_keeps_its_timings():
    """A range of the same source and sizes (a graph bound again: a benchmark's repeats) shares the thread timings."""
    flags = [(np.ones(2, np.int64), 1)]
    first, again = loop_threads.LoopThreads(flags, key=("src", b"sizes")), loop_threads.LoopThreads(
        flags, key=("src", b"sizes"))
    other = loop_threads.LoopThreads(flags, key=("src", b"other sizes"))
    if not first.active:
        pytest.skip("one usable core: no two-thread loops")
    assert first._chooser is again._chooser and other._chooser is not first._chooser


def test_no_two_thread_loops_in_a_range_whose_gemm_picks_the_threads(monkeypatch):
    """A range with a GEMM of PARALLEL_FLOPS runs inside its GemmSite (BLAS threads): its loops stay serial."""
    from ops.cpu import blas_threads
    x = mx.sym.Variable("x")
    sym = mx.sym.tanh(mx.sym.FullyConnected(x, num_hidden=256, name="fc")) * 2.0
    rows = blas_threads.PARALLEL_FLOPS // (2 * 256 * 256) + 1
    values = {n: np.random.RandomState(6).uniform(-1, 1, s).astype(np.float32)
              for n, s in zip(sym.list_arguments(), sym.infer_shape(x=(rows, 256))[0])}
    monkeypatch.setenv("DATAFLOW_JIT_PARALLEL", "1")
    got, _, plan = run(sym, values, monkeypatch)
    info = forward_info(plan)
    assert info["fused"] and 8 * rows * 256 >= THRESHOLD
    assert ("_par(" in info["source"]) == (not any(r.site.active for r in plan.shared.ranges.values())), info
    w, b = values["fc_weight"], values["fc_bias"]
    np.testing.assert_allclose(got[0], np.tanh(values["x"] @ w.T + b) * 2.0, rtol=1e-4, atol=1e-5)
