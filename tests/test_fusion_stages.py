"""How a tiled fused loop is cut into stages and how its stages touch memory (Note [tiled fusion], Note [memory
through views] in scheduler/codegen.py).

Cheap steps right after a vmath step run in its stage, which is compiled with FMA contraction, only where that cannot
change their bits: a sum reading a product made in the stage keeps a stage of its own. The truth: the same Plan
compiled without fusion (`DATAFLOW_JIT=nofuse`: one body per step, each equal to the op's CPU kernel in
tests/test_jit_bodies.py), bit for bit, and numpy within float32 rounding. Memory is read and written through views
of the tile or chunk, so the compiled loops need no gathers or scatters (checked in their x86 assembly).
"""
import importlib.util
import platform
import sys

import numpy as np
import pytest

import dataflow as mx
from scheduler import codegen
from tests.test_compile import _values
from tests.test_fusion import elemwise10, elemwise10_numpy, forward_info, run

X86 = platform.machine().lower() in ("x86_64", "amd64")


@pytest.fixture(autouse=True, scope="module")
def _numba_array_support_loaded():
    import numba.np.arraymath  # noqa: F401  (the first compile of a process would go to the background)


@pytest.fixture(autouse=True)
def _compile_from_the_first_run(monkeypatch):
    from scheduler import compile as jit
    monkeypatch.setattr(jit, "COMPILE_AFTER_RUNS", 0)


def stages(source, name="fused_0"):
    """The ops of each stage function of the tiled loop `name`, in order, from the comments of its tile loop."""
    calls = [line.strip() for line in source.splitlines() if line.strip().startswith(name + "_")
             and line.strip()[len(name) + 1].isdigit() and "#" in line]
    return [[op.strip() for op in call.split("#", 1)[1].split(",")] for call in calls]


def test_elemwise10_runs_in_five_stages_equal_to_the_unfused_bodies(monkeypatch):
    values = _values(["x"], (3, codegen.TILE + 77), np.float32)
    got, _, plan = run(elemwise10(mx.sym.Variable("x")), values, monkeypatch)
    plain, _, _ = run(elemwise10(mx.sym.Variable("x")), values, monkeypatch, jit="nofuse")
    assert stages(forward_info(plan)["source"]) == [
        ["_mul_scalar", "_plus_scalar"], ["tanh", "square"], ["exp", "_minus_scalar", "sqrt"], ["sigmoid"],
        ["log", "elemwise_mul"]]
    np.testing.assert_array_equal(got[0], plain[0])
    np.testing.assert_allclose(got[0], elemwise10_numpy(values["x"]), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("make, want", [
    # a product joins the exp stage; the sum reading it would become an FMA there, so it starts a stage
    (lambda x: mx.sym.exp(x) * 3.1 + 0.7, [["exp", "_mul_scalar"], ["_plus_scalar"]]),
    (lambda x: mx.sym.square(mx.sym.tanh(x)) - x, [["tanh", "square"], ["elemwise_sub"]]),
    # a sum reading the vmath value itself, and a product after it, join
    (lambda x: (mx.sym.sigmoid(x) + 0.5) * x, [["sigmoid", "_plus_scalar", "elemwise_mul"]]),
    # a step whose arithmetic is not known (power: a libm call) stays out
    (lambda x: mx.sym.exp(x) ** 1.5, [["exp"], ["_power_scalar"]]),
])
def test_no_contraction_changes_a_cheap_step_in_a_vmath_stage(make, want, monkeypatch):
    values = _values(["x"], (4, 1500), np.float32, seed=3)
    got, _, plan = run(make(mx.sym.Variable("x")), values, monkeypatch)
    plain, _, _ = run(make(mx.sym.Variable("x")), values, monkeypatch, jit="nofuse")
    assert stages(forward_info(plan)["source"]) == want
    np.testing.assert_array_equal(got[0], plain[0])


@pytest.mark.parametrize("req", ["write", "add"])
def test_a_product_added_into_memory_stays_out_of_a_vmath_stage(req, monkeypatch):
    """erf's gradient multiplies an exp by dy: with req add that product is added into the gradient, which in a
    stage with contraction would be one FMA; the gradients equal the unfused bodies' bit for bit either way."""
    sym = mx.sym.erf(mx.sym.Variable("x") * 1.5) * 2.0
    values = _values(["x"], (4, 1500), np.float32, seed=3)
    _, grads, plan = run(sym, values, monkeypatch, grad_req=req)
    _, plain, _ = run(sym, values, monkeypatch, jit="nofuse", grad_req=req)
    backward = [r.info["source"] for r in plan.shared.ranges.values() if r.info and "exp" in r.info["source"]]
    # dx = ((-2x * ...) exp(...)) * c1 * c2: the last product is the one written (or added) into the gradient
    want = {"write": [["exp", "elemwise_mul", "_mul_scalar", "_mul_scalar"]],
            "add": [["exp", "elemwise_mul", "_mul_scalar"], ["_mul_scalar"]]}[req]
    assert stages(backward[0])[1:] == want, stages(backward[0])
    np.testing.assert_array_equal(grads["x"], plain["x"])


def _uncached_module(source):
    """The generated module compiled afresh (numba shows no assembly of code loaded from its cache)."""
    name = "_fusion_stages_check_%d" % abs(hash(source))
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    exec(compile(source.replace("cache=True", "cache=False"), name, "exec"), module.__dict__)
    return module


def _assembly(dispatcher):
    return "\n".join(dispatcher.inspect_asm().values())


@pytest.mark.skipif(not X86, reason="the check reads x86 assembly")
def test_tiled_stages_read_and_write_memory_without_gathers(monkeypatch):
    values = _values(["x"], (2, codegen.TILE + 5), np.float32)
    _, _, plan = run(elemwise10(mx.sym.Variable("x")), values, monkeypatch)
    source = forward_info(plan)["source"]
    assert "[base + j]" not in source and "m0_ = m0[base:base + m]" in source
    module = _uncached_module(source)
    x = values["x"].reshape(-1)
    out = np.empty_like(x)
    module.fused_0(x, out, x.size)
    first, last = module.fused_0_0, module.fused_0_4       # the stages that read x and write the output
    for stage in (first, last):
        text = _assembly(stage)
        assert "gather" not in text and "scatter" not in text, stage.__name__
        assert "ymm" in text or "zmm" in text, stage.__name__      # vectorised


@pytest.mark.skipif(not X86, reason="the check reads x86 assembly")
def test_the_two_thread_form_of_a_plain_loop_reads_its_chunk_through_views(monkeypatch):
    monkeypatch.setattr(codegen, "PARALLEL_WORK", 1 << 12)
    monkeypatch.setenv("DATAFLOW_JIT_PARALLEL", "1")
    sym = mx.sym.relu(mx.sym.Variable("x") * 1.5 + 0.25)
    values = _values(["x"], (4, 3000), np.float32)
    got, _, plan = run(sym, values, monkeypatch)
    source = forward_info(plan)["source"]
    if "def fused_0_run(" not in source:
        pytest.skip("no two-thread form here (one usable core or no thread-safe threading layer)")
    np.testing.assert_allclose(got[0], np.maximum(values["x"] * np.float32(1.5) + np.float32(0.25), 0), rtol=1e-6)
    module = _uncached_module(source)
    x = values["x"].reshape(-1)
    out = np.empty_like(x)
    module.fused_0_run(0, 1, x, out, x.size)
    text = _assembly(module.fused_0_run)
    assert "gather" not in text and "scatter" not in text


def test_the_two_thread_form_in_place_over_an_arena_entry_reads_through_the_output_view(monkeypatch):
    """The chain runs in place over the GEMM's output: its chunk loop reads that memory through the view of the
    output parameter (one name for one memory, Note [memory through views])."""
    monkeypatch.setattr(codegen, "PARALLEL_WORK", 1 << 8)
    monkeypatch.setenv("DATAFLOW_JIT_PARALLEL", "1")
    x = mx.sym.Variable("x")
    chain = mx.sym.relu(mx.sym.FullyConnected(x, num_hidden=64, name="fc", no_bias=True) * 2.0 + 1.0) * 3.0
    sym = mx.sym.FullyConnected(chain, num_hidden=3, name="out", no_bias=True)
    values = {n: np.random.RandomState(4).uniform(-1, 1, s).astype(np.float32)
              for n, s in zip(sym.list_arguments(), sym.infer_shape(x=(40, 5))[0])}
    got, _, plan = run(sym, values, monkeypatch)
    want, _, _ = run(sym, values, monkeypatch, jit="0")
    source = forward_info(plan)["source"]
    if "def fused_0_run(" not in source:
        pytest.skip("no two-thread form here (one usable core or no thread-safe threading layer)")
    start = source.index("def fused_0_run(")
    loop = source[start:source.index("\n\n", start)]
    reads = [line.split("= ")[1].split("[")[0] for line in loop.splitlines() if line.rstrip().endswith("[i]")]
    writes = [line.split("[")[0].strip() for line in loop.splitlines() if line.strip().startswith("o")]
    assert reads and set(reads) <= set(writes) and all(r.endswith("_") for r in reads), loop
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-6)
