"""The Plan compiler's economies (scheduler/codegen.py, scheduler/compile_range.py): generated functions with the same
code are one function (Note [one function per code]); background compiles that have not started are dropped by
`cancel_pending` and at interpreter exit, and a dropped one is queued again. The truth is the interpreted Plan.
"""
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import dataflow as mx
from scheduler import compile_range
from tests import jit_test_bodies as tb
from tests.test_compile import ROOT, _real_bodies, _values, check, pair


@pytest.fixture(autouse=True)
def _compile_from_the_first_run(monkeypatch):
    from scheduler import compile as jit
    monkeypatch.setattr(jit, "COMPILE_AFTER_RUNS", 0)
    import numba.np.arraymath  # noqa: F401  (numba's setup paid: a first compile does not go to the background)


def test_repeated_layers_share_one_function():
    # four identical Dense + tanh layers (the GEMM's bias and the tanh fused after it: Note [GEMM epilogue])
    y = mx.sym.Variable("x")
    for k in range(4):
        y = mx.sym.Activation(mx.sym.FullyConnected(y, num_hidden=6, name="fc%d" % k), act_type="relu")
    rng = np.random.RandomState(0)
    values = {n: rng.uniform(-1, 1, s).astype(np.float32)
              for n, s in zip(y.list_arguments(), y.infer_shape(x=(3, 6))[0])}
    compiled = check(y, values, {n: "write" for n in values}, bodies=_real_bodies, exact=False)
    forward = compiled.info(0, 8)
    assert forward["fused"] == [2, 2, 2, 2], forward
    # the three inner layers' loops are one function; the last one's stores to the bound output instead
    assert forward["source"].count("\ndef fused_") == 2, forward["source"]
    assert forward["source"].count("Activation: fused_0\n") == 3, forward["source"]     # called by address


def test_segments_calling_a_body_with_other_types_are_two_functions():
    # relu(a) and relu(b), cut apart by exp (no body here), their arguments float32 and float64: the same code but
    # for the types of the body each calls by address, which the call states (Note [bodies called by address])
    a, b, c = mx.sym.Variable("a"), mx.sym.Variable("b"), mx.sym.Variable("c")
    heads = mx.sym.Group([mx.sym.relu(a), mx.sym.exp(c), mx.sym.relu(b)])
    values = {"a": np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3), "c": np.zeros((2, 3), np.float32),
              "b": np.linspace(-2, 1, 6).reshape(2, 3)}
    compiled = check(heads, values, bodies=tb.provider({"relu"}))
    info = compiled.info(0, 3)
    assert info["segments"] == 2 and info["source"].count("\ndef segment_") == 2, info
    assert "'array(float32, 2d, C), array(float32, 2d, C)" in info["source"], info["source"]
    assert "'array(float64, 2d, C), array(float64, 2d, C)" in info["source"], info["source"]


def test_a_cancelled_background_compile_is_queued_again():
    x = mx.sym.Variable("x")
    y = mx.sym.relu(x * 0.75 - 0.25)
    gate = threading.Event()
    blocker = compile_range.executor().submit(gate.wait, 60)   # holds the compile thread: the next compile queues
    try:
        ref, cmp, compiled = pair(y, _values(["x"], (3, 4), np.float32, seed=2), background_steps=1)
        want = ref.run(ref.plan, backward=False)[0][0]
        np.testing.assert_array_equal(cmp.run(compiled, backward=False)[0][0], want)
        r = compiled.shared.ranges[(0, cmp.n_forward)]
        assert r.future is not None and not r.future.done()
        compile_range.cancel_pending()
        assert r.future.cancelled()
    finally:
        gate.set()
    blocker.result()
    np.testing.assert_array_equal(cmp.run(compiled, backward=False)[0][0], want)   # interpreted, queued again
    assert r.info is None and r.future is not None
    compiled.wait()
    np.testing.assert_array_equal(cmp.run(compiled, backward=False)[0][0], want)   # compiled
    assert r.info["error"] is None and r.info["fused"] == [3]


_EXIT_CHILD = textwrap.dedent("""
    import concurrent.futures.thread, threading
    import numpy as np
    import dataflow as mx
    from scheduler import compile_range
    gate = threading.Event()
    # runs at exit after compile_range's hook (exit hooks run last registered first) and before the executor's
    # join: the compile thread is held until the queued compiles are dropped
    threading._register_atexit(gate.set)
    compile_range.executor().submit(gate.wait, 60)
    for k in range(3):
        net = mx.gluon.nn.HybridSequential()
        for _ in range(2 + k):
            net.add(mx.gluon.nn.Dense(4, activation="tanh"))
        net.initialize()
        net.hybridize()
        for _ in range(3):
            net(mx.nd.ones((2, 4))).wait_to_read()
    print("queued", sum(1 for f in compile_range._queued if not f.done()), flush=True)
""")


def test_exit_drops_the_compiles_not_started(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), PYTHONPATH=ROOT, DATAFLOW_JIT="1", DATAFLOW_DEBUG="1")
    out = subprocess.run([sys.executable, "-c", _EXIT_CHILD], env=env, capture_output=True, text=True, timeout=600,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    queued = int([line for line in lines if line.startswith("queued")][0].split()[1])
    assert queued >= 3, out.stdout
    assert not [line for line in lines if line.startswith("jit: steps")], out.stdout     # none compiled at exit
