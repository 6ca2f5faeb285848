"""Fused elementwise loops (scheduler/codegen.py): chains holding vmath's float32 functions run tile by tile (Note
[tiled fusion]) and give what the unfused bodies give, bit for bit, and what the interpreted Plan gives within float32
rounding; and sizes are read at run time, so a second batch size reuses the module and the compiled function.

The truth: the same Plan compiled without fusion (`DATAFLOW_JIT=nofuse`: one body call per step, each equal to the
op's CPU kernel in tests/test_jit_bodies.py), the interpreted Plan (the CPU kernels) and numpy.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dataflow as mx
from scheduler import codegen, plan_cache
from scheduler.compile import CompiledPlan
from tests.test_compile import _real_bodies, _values, check


@pytest.fixture(autouse=True, scope="module")
def _numba_array_support_loaded():
    import numba.np.arraymath  # noqa: F401  (the first compile of a process would go to the background)


@pytest.fixture(autouse=True)
def _compile_from_the_first_run(monkeypatch):
    from scheduler import compile as jit
    monkeypatch.setattr(jit, "COMPILE_AFTER_RUNS", 0)


# ---- chains ----------------------------------------------------------------------------------------------------
# (name, apply(sym, x)): unary ops, vmath's (tanh, exp, sigmoid, log, ...) among them, scalar ops and the chain's
# input again (a second memory input of the loop); every step has a body, so any chain of two or more fuses
STEPS = [
    ("tanh", lambda y, x: mx.sym.tanh(y)), ("exp", lambda y, x: mx.sym.exp(mx.sym.tanh(y) * 5)),
    ("sigmoid", lambda y, x: mx.sym.sigmoid(y)), ("log", lambda y, x: mx.sym.log(mx.sym.abs(y) + 0.5)),
    ("expm1", lambda y, x: mx.sym.expm1(y * 0.5)), ("log1p", lambda y, x: mx.sym.log1p(mx.sym.abs(y))),
    ("erf", lambda y, x: mx.sym.erf(y)), ("softsign", lambda y, x: mx.sym.softsign(y)),
    ("relu", lambda y, x: mx.sym.relu(y)), ("square", lambda y, x: mx.sym.square(y)),
    ("sqrt", lambda y, x: mx.sym.sqrt(mx.sym.abs(y))), ("affine", lambda y, x: y * 1.5 - 0.25),
    ("times_x", lambda y, x: y * x), ("plus_x", lambda y, x: y + x),
    ("softrelu", lambda y, x: mx.sym.Activation(y, act_type="softrelu")),
]


def chain(names):
    x = mx.sym.Variable("x")
    y = x
    for name in names:
        y = dict(STEPS)[name](y, x)
    return y


def run(sym, values, monkeypatch, jit="1", grad_req="null", runs=3):
    """Forward (and backward when some grad_req is not null) through an Executor, `runs` times, under
    DATAFLOW_JIT=jit; returns (outputs, gradients, the executor's plan)."""
    monkeypatch.setenv("DATAFLOW_JIT", jit)
    args = {n: mx.nd.array(v, dtype=v.dtype) for n, v in values.items()}
    grads = {n: mx.nd.full(v.shape, 0.5, dtype=v.dtype) for n, v in values.items()} if grad_req != "null" else None
    ex = sym.bind(mx.cpu(), args, args_grad=grads, grad_req=grad_req)
    for _ in range(runs):
        ex.forward(is_train=grad_req != "null")
        if grad_req != "null":
            ex.backward([mx.nd.ones(o.shape) for o in ex.outputs])
        mx.nd.waitall()
        if isinstance(ex._plan, CompiledPlan):
            ex._plan.wait()
    outs = [o.asnumpy() for o in ex.outputs]
    return outs, {n: g.asnumpy() for n, g in (grads or {}).items()}, ex._plan


def forward_info(plan):
    infos = [r.info for r in plan.shared.ranges.values() if r.info is not None]
    assert infos and all(i["error"] is None for i in infos), infos
    return infos[0]


@settings(max_examples=8, deadline=None)     # each chain is a module of its own to compile
@given(names=st.lists(st.sampled_from([n for n, _ in STEPS]), min_size=2, max_size=6),
       size=st.sampled_from([(3, 5), (7, 300), (2, 1500)]), seed=st.integers(0, 2 ** 16))
def test_fused_chains_equal_unfused_and_interpreted(names, size, seed):
    with pytest.MonkeyPatch.context() as monkeypatch:
        sym, values = chain(names), _values(["x"], size, np.float32, seed)
        fused, _, plan = run(sym, values, monkeypatch)
        plain, _, _ = run(sym, values, monkeypatch, jit="nofuse")
    assert isinstance(plan, CompiledPlan) and forward_info(plan)["fused"]
    # bit for bit: the unfused bodies equal the kernels (test_jit_bodies.py), which may run numpy's SIMD loops
    # where the bodies run vmath (1-2 ulps per op, which a chain such as sqrt(log(...)) near 0 amplifies)
    np.testing.assert_array_equal(fused[0], plain[0])


def elemwise10(x):
    """bench's elemwise10 chain: log(sigmoid(sqrt(exp(tanh(x*0.5+0.25)**2)-1)))*x."""
    y = mx.sym.log(mx.sym.sigmoid(mx.sym.sqrt(mx.sym.exp(mx.sym.square(mx.sym.tanh(x * 0.5 + 0.25))) - 1)))
    return y * x


def elemwise10_numpy(x):
    x64 = x.astype(np.float64)
    t = np.tanh(x64 * 0.5 + 0.25)
    return np.log(1 / (1 + np.exp(-np.sqrt(np.exp(t * t) - 1)))) * x64


def test_elemwise10_is_one_tiled_loop_equal_to_numpy_and_the_kernels(monkeypatch):
    values = _values(["x"], (3, codegen.TILE + 77), np.float32)       # a partial last tile
    got, _, plan = run(elemwise10(mx.sym.Variable("x")), values, monkeypatch)
    info = forward_info(plan)
    assert info["fused"] == [10], info
    assert "for base in range(0, n, %d)" % codegen.TILE in info["source"]      # small: no two-thread form
    assert "prefer_wide_vectors" in info["source"]        # 16 floats wide (Note [512-bit vectors] in vmath.py)
    assert 'fastmath={"contract"}' in info["source"]        # the vmath stages, as vmath's own loops
    want, _, _ = run(elemwise10(mx.sym.Variable("x")), values, monkeypatch, jit="0")
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-6)
    # against float64: exp(t*t) - 1 cancels for small t, which float32 rounding of t shows at ~2e-5
    np.testing.assert_allclose(got[0], elemwise10_numpy(values["x"]), rtol=1e-4, atol=1e-6)


def test_a_tiled_loop_stores_an_intermediate_someone_reads(monkeypatch):
    """A value of an early stage that is also a head is stored from its stage; the rest stay in tile buffers."""
    x = mx.sym.Variable("x")
    mid = mx.sym.tanh(x * 2.0)
    end = mx.sym.exp(mx.sym.sigmoid(mid) - mid)
    values = _values(["x"], (5, 997), np.float32)
    got, _, plan = run(mx.sym.Group([end, mid]), values, monkeypatch)
    plain, _, _ = run(mx.sym.Group([end, mid]), values, monkeypatch, jit="nofuse")
    assert forward_info(plan)["fused"] == [5]
    for g, p in zip(got, plain):
        np.testing.assert_array_equal(g, p)
    np.testing.assert_allclose(got[1], np.tanh(values["x"] * 2), rtol=1e-5, atol=1e-6)


def test_an_input_several_stages_read_is_loaded_once_per_tile(monkeypatch):
    """x is read by the tanh stage, the add after it and the last multiply: the first stage loads it from memory and
    keeps it in a tile buffer for the others (Note [tiled fusion])."""
    x = mx.sym.Variable("x")
    y = mx.sym.sigmoid(mx.sym.tanh(x) + x) * x
    values = _values(["x"], (3, codegen.TILE + 77), np.float32)
    got, _, plan = run(y, values, monkeypatch)
    plain, _, _ = run(y, values, monkeypatch, jit="nofuse")
    source = forward_info(plan)["source"]
    stage_heads = [line for line in source.splitlines() if line.startswith("def fused_0_") and line[12].isdigit()]
    assert len(stage_heads) == 2, stage_heads       # tanh, add | sigmoid, mul (cheap steps join the vmath stage)
    loads = [head for head in stage_heads if " m0" in head or "(m0" in head or ", m0" in head]
    assert loads == stage_heads[:1], stage_heads     # only the first stage reads x from memory
    np.testing.assert_array_equal(got[0], plain[0])
    v = values["x"].astype(np.float64)
    np.testing.assert_allclose(got[0], v / (1 + np.exp(-(np.tanh(v) + v))), rtol=1e-5, atol=1e-6)


def test_a_scalar_input_in_a_tiled_loop():
    x, s = mx.sym.Variable("x"), mx.sym.Variable("s")
    y = mx.sym.exp(mx.sym.tanh(mx.sym.broadcast_mul(x, s)) + x)
    values = {"x": _values(["x"], (4, 700), np.float32)["x"], "s": np.array([[-0.75]], np.float32)}
    compiled = check(y, values, {"x": "write", "s": "write"}, bodies=_real_bodies, exact=False)
    assert compiled.info(0, 4)["fused"] == [4]


@pytest.mark.parametrize("req", ["write", "add"])
def test_tiled_gradients_equal_the_interpreted_plan(req):
    """erf's gradient holds an exp: its backward chain runs tiled too, storing into the gradient (req add: adding)."""
    x = mx.sym.Variable("x")
    y = mx.sym.erf(x * 1.5) * 2.0
    compiled = check(y, _values(["x"], (3, 1100), np.float32), {"x": req}, bodies=_real_bodies, exact=False)
    backward = compiled.info(3, len(compiled.steps))
    assert backward["fused"] == [7] and "for base in range(" in backward["source"], backward


# ---- sizes at run time -----------------------------------------------------------------------------------------

def _segment_dispatchers(plan):
    import sys
    info = forward_info(plan)
    module = next(m for m in list(sys.modules.values())
                  if getattr(m, "__name__", "").startswith("dataflow_plan_" + info["key"][:32]))
    return info["key"], [getattr(module, name) for name in dir(module) if name.startswith("segment_")]


@pytest.mark.parametrize("make", [elemwise10, lambda x: mx.sym.FullyConnected(mx.sym.relu(x * 2.0), num_hidden=3,
                                                                                no_bias=True, name="fc")],
                         ids=["elemwise10", "relu-fc"])
def test_a_second_batch_size_reuses_the_compiled_function(make, monkeypatch):
    x = mx.sym.Variable("x")
    sym = make(x)
    w = np.random.RandomState(3).uniform(-1, 1, (3, 40)).astype(np.float32)
    outs, keys, segments = [], [], []
    for batch in (4, 9):
        values = _values(["x"], (batch, 40), np.float32, seed=batch)
        if "fc_weight" in sym.list_arguments():
            values["fc_weight"] = w
        got, _, plan = run(sym, values, monkeypatch)
        want, _, _ = run(sym, values, monkeypatch, jit="0")
        np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-6)
        key, dispatchers = _segment_dispatchers(plan)
        keys.append(key)
        segments.append(dispatchers)
        outs.append(got[0])
    assert keys[0] == keys[1]                           # one module: the source names no size
    assert segments[0] == segments[1]
    assert all(len(d.overloads) == 1 for d in segments[1]), [d.signatures for d in segments[1]]


def test_a_second_hybridized_batch_size_reuses_the_module(monkeypatch):
    import collections

    from scheduler import compile as jit
    monkeypatch.setattr(plan_cache, "_modules", collections.OrderedDict())     # the modules loaded from here on
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Dense(8, activation="tanh", in_units=6), mx.gluon.nn.Dense(3, in_units=8))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    w1, b1, w2, b2 = [p.data().asnumpy() for p in net.collect_params().values()]
    loaded = []
    for batch in (2, 5):
        x = np.random.RandomState(batch).randn(batch, 6).astype(np.float32)
        for _ in range(3):
            got = net(mx.nd.array(x)).asnumpy()
            jit.wait_all()
        np.testing.assert_allclose(got, np.tanh(x @ w1.T + b1) @ w2.T + b2, rtol=1e-5, atol=1e-6)
        loaded.append(list(plan_cache._modules))
    assert len(loaded[0]) == 1 and loaded[1] == loaded[0], loaded


# ---- Note [GEMM epilogue] (scheduler/codegen.py): a FullyConnected's bias add joins the loop after it ------------
def _epilogue_pair(sym, values, grad_req, monkeypatch):
    """Outputs and gradients of `sym` compiled with fusion (the epilogue) and without, same BLAS, and the fused
    CompiledPlan."""
    from tests.test_compile import _real_bodies, pair
    results = []
    for mode in ("1", "nofuse"):
        monkeypatch.setenv("DATAFLOW_JIT", mode)
        _, bound, compiled = pair(sym, values, grad_req, bodies=_real_bodies)
        bound.run(compiled, backward=True)      # ranges are lowered at their first run
        compiled.wait()
        results.append((bound.run(compiled, backward=True), _sources(compiled)))
    return results


def _sources(compiled):
    return "".join(r.info["source"] for r in compiled.shared.ranges.values() if r.info)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chain", ["relu", "scaled relu"])
def test_gemm_epilogue_equals_the_separate_passes_to_the_bit(dtype, chain, monkeypatch):
    x = mx.sym.Variable("x")
    fc1 = mx.sym.FullyConnected(x, num_hidden=12, name="fc1")
    h = mx.sym.Activation(fc1, act_type="relu") if chain == "relu" else mx.sym.relu(fc1 * 2.0 - 0.25) * 0.5
    sym = mx.sym.Group([mx.sym.FullyConnected(h, num_hidden=3, name="fc2"), fc1])    # fc1's output is read twice
    rng = np.random.RandomState(5)
    values = {n: rng.uniform(-1, 1, s).astype(dtype)
              for n, s in zip(sym.list_arguments(), sym.infer_shape(x=(7, 9))[0])}
    (fused, source), (plain, plain_source) = _epilogue_pair(sym, values, {n: "write" for n in values}, monkeypatch)
    assert "+ mb[j])  # FullyConnected fc1: + bias" in source and "fully_connected_no_bias" in source, source
    assert plain_source and "+ bias" not in plain_source
    for a, b in zip(fused[0] + list(fused[1].values()), plain[0] + list(plain[1].values())):
        np.testing.assert_array_equal(a, b)
    # and both equal numpy's formulas
    x_, w1, b1 = values["x"], values["fc1_weight"], values["fc1_bias"]
    z = x_ @ w1.T + b1
    np.testing.assert_allclose(fused[0][1], z, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_gemm_epilogue_skips_a_tiled_run_and_a_bias_free_layer(monkeypatch):
    x = mx.sym.Variable("x")
    sym = mx.sym.Activation(mx.sym.FullyConnected(x, num_hidden=8, name="fc1"), act_type="tanh")     # vmath
    sym = mx.sym.relu(mx.sym.FullyConnected(sym, num_hidden=4, name="fc2", no_bias=True))
    values = {n: np.random.RandomState(2).uniform(-1, 1, s).astype(np.float32)
              for n, s in zip(sym.list_arguments(), sym.infer_shape(x=(5, 6))[0])}
    (fused, source), (plain, _) = _epilogue_pair(sym, values, {n: "write" for n in values}, monkeypatch)
    assert source and "+ bias" not in source
    for a, b in zip(fused[0] + list(fused[1].values()), plain[0] + list(plain[1].values())):
        np.testing.assert_array_equal(a, b)


def test_a_loop_in_place_over_an_arena_entry_reads_through_its_output_parameter(monkeypatch):
    # the chain runs in place over the GEMM's output (an arena entry): one parameter for that memory, not two
    x = mx.sym.Variable("x")
    chain = mx.sym.relu(mx.sym.FullyConnected(x, num_hidden=16, name="fc", no_bias=True) * 2.0 + 1.0) * 3.0
    sym = mx.sym.FullyConnected(chain, num_hidden=3, name="out", no_bias=True)
    values = {n: np.random.RandomState(4).uniform(-1, 1, s).astype(np.float32)
              for n, s in zip(sym.list_arguments(), sym.infer_shape(x=(6, 5))[0])}
    monkeypatch.setenv("DATAFLOW_JIT", "1")
    from tests.test_compile import pair
    ref, bound, compiled = pair(sym, values, {})
    bound.run(compiled)
    compiled.wait()
    got = bound.run(compiled)
    source = _sources(compiled)
    loop = source[source.index("def fused_0"):source.index("\n\n", source.index("def fused_0"))]
    reads = [line.split("= ")[1].split("[")[0] for line in loop.splitlines() if "[i]" in line.split("=")[-1]]
    writes = [line.split("[")[0].strip() for line in loop.splitlines() if line.strip().startswith("o")]
    assert reads and set(reads) <= set(writes), loop       # the in-place input is read through the output's name
    want = ref.run(ref.plan)
    np.testing.assert_allclose(got[0][0], want[0][0], rtol=1e-5, atol=1e-6)
