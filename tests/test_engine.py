"""Tests for scheduler/engine.py: ThreadedEngine agrees with NaiveEngine on random push programs; reads
overlap, writes are exclusive; errors are stored on vars and raised at the wait that reads them."""
import sys
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler import engine as eng_mod
from scheduler.engine import EngineError, NaiveEngine, ThreadedEngine

# Engines are reused across hypothesis examples: their worker threads live as long as the process.
ENGINES = {"naive": NaiveEngine(), "threaded1": ThreadedEngine(1), "threaded2": ThreadedEngine(2),
           "threaded3": ThreadedEngine(3)}
THREADED = ["threaded1", "threaded2", "threaded3"]


# ---- random push programs ----------------------------------------------------------------------------------

def _op_strategy(k):
    var = st.integers(0, k - 1)
    return st.fixed_dictionaries({
        "reads": st.lists(var, max_size=3),            # duplicates allowed, may overlap writes
        "writes": st.lists(var, max_size=2),
        "sleep_us": st.sampled_from([0, 0, 0, 50, 300, 1000]),
        "fails": st.integers(0, 7).map(lambda n: n == 0),  # about one op in eight raises
    })


@st.composite
def programs(draw):
    k = draw(st.integers(1, 4))
    return k, draw(st.lists(_op_strategy(k), min_size=1, max_size=20))


def _run_program(engine, k, ops):
    """Push the program; return the outcome of every var, what every op read, and whether waitall raised."""
    state = {i: i + 1 for i in range(k)}
    seen = {}
    vars_ = [engine.new_var(f"v{i}") for i in range(k)]

    def make_fn(i, op):
        def fn():
            if op["sleep_us"]:
                time.sleep(op["sleep_us"] * 1e-6)
            got = tuple(state[r] for r in op["reads"])
            seen[i] = got
            if op["fails"]:
                raise ValueError(f"boom {i}")
            acc = sum((j + 1) * x for j, x in enumerate(got)) * 31 + i
            for w in op["writes"]:
                state[w] = (acc + 7 * w + state[w] * (w in op["reads"])) % 1_000_003
        return fn

    for i, op in enumerate(ops):
        engine.push(make_fn(i, op), [vars_[r] for r in op["reads"]], [vars_[w] for w in op["writes"]],
                    name=f"op{i}")
    outcome = {}
    for i, v in enumerate(vars_):
        try:
            engine.wait_for_var(v)
            outcome[i] = ("ok", state[i])
        except EngineError as e:
            outcome[i] = ("err", e.op_name, type(e.original).__name__)
    try:
        engine.waitall()
        raised = False
    except EngineError:
        raised = True
    engine.waitall()  # the engine is usable again
    return outcome, dict(seen), dict(state), raised


@settings(deadline=None)  # max_examples from the profile in conftest.py: 50 (dev), 20 (ci)
@given(programs())
def test_threaded_matches_naive(program):
    k, ops = program
    expected = _run_program(ENGINES["naive"], k, ops)
    assert expected[3] == any(op["fails"] for op in ops)
    for name in THREADED:
        assert _run_program(ENGINES[name], k, ops) == expected, name


# ---- concurrency: reads overlap, writes are exclusive ------------------------------------------------------

def test_reads_run_concurrently():
    engine = ENGINES["threaded2"]
    x = engine.new_var("x")
    barrier = threading.Barrier(2, timeout=10)  # breaks unless both reads are inside at once
    engine.push(lambda: None, writes=[x], name="init")
    engine.push(barrier.wait, reads=[x], name="r1")
    engine.push(barrier.wait, reads=[x], name="r2")
    engine.waitall()  # a BrokenBarrierError would be raised here


def test_writes_are_exclusive():
    engine = ENGINES["threaded3"]
    x = engine.new_var("x")
    log = []

    def step(tag):
        def fn():
            log.append(tag + "+")
            time.sleep(0.001)
            log.append(tag + "-")
        return fn

    program = ["r0", "w1", "r2", "r3", "w4", "w5", "r6", "w7", "r8", "r9", "w10"]
    for tag in program:
        if tag[0] == "w":
            engine.push(step(tag), writes=[x], name=tag)
        else:
            engine.push(step(tag), reads=[x], name=tag)
    engine.waitall()
    at = {entry: i for i, entry in enumerate(log)}
    for tag in program:
        if tag[0] == "w":  # nothing else happens while a write runs
            assert at[tag + "-"] == at[tag + "+"] + 1, log
    for i, before in enumerate(program):  # an op starts after every earlier op ends, unless both are reads
        for after in program[i + 1:]:
            if "w" in (before[0], after[0]):
                assert at[before + "-"] < at[after + "+"], log


@pytest.mark.parametrize("name", list(ENGINES))
def test_duplicates_and_read_write_overlap(name):
    engine = ENGINES[name]
    x = engine.new_var("x")
    box = [1]
    engine.push(lambda: box.__setitem__(0, box[0] + 1), reads=[x, x], writes=[x, x], name="inc")
    engine.push(lambda: box.__setitem__(0, box[0] * 10), reads=[x], writes=(x,), name="mul")
    engine.wait_for_var(x)
    assert box[0] == 20
    engine.waitall()


@pytest.mark.parametrize("name", list(ENGINES))
def test_fn_may_push(name):
    engine = ENGINES[name]
    x = engine.new_var("x")
    out = []
    engine.push(lambda: engine.push(lambda: out.append("inner"), writes=[x], name="inner"),
                writes=[x], name="outer")
    engine.waitall()
    assert out == ["inner"]


# ---- wait_for_var ------------------------------------------------------------------------------------------

def test_wait_for_var_waits_for_writes_only():
    engine = ENGINES["threaded1"]
    x = engine.new_var("x")
    gate, state = threading.Event(), {}
    engine.push(lambda: (time.sleep(0.002), state.__setitem__("x", 5)), writes=[x], name="write")
    engine.push(lambda: (gate.wait(10), state.__setitem__("read", state["x"])), reads=[x], name="slow_read")
    engine.wait_for_var(x)  # returns while the (only) worker is stuck inside slow_read
    assert state == {"x": 5}
    gate.set()
    engine.waitall()
    assert state == {"x": 5, "read": 5}


@pytest.mark.parametrize("name", list(ENGINES))
def test_wait_for_var_sees_latest_write(name):
    engine = ENGINES[name]
    x, y = engine.new_var("x"), engine.new_var("y")
    state = {"x": 0}
    for i in range(1, 30):
        engine.push(lambda i=i: state.__setitem__("x", state["x"] * 2 + i), writes=[x], name=f"w{i}")
        engine.push(lambda: state.__setitem__("y", state["x"]), reads=[x], writes=[y], name="copy")
    engine.wait_for_var(y)
    assert state["y"] == state["x"]
    engine.wait_for_var(x)
    assert state["x"] == sum(i * 2 ** (29 - i) for i in range(1, 30))
    engine.waitall()


# ---- errors ------------------------------------------------------------------------------------------------

def _fail():
    raise ValueError("bad input")


@pytest.mark.parametrize("name", list(ENGINES))
def test_error_is_stored_and_propagates(name):
    engine = ENGINES[name]
    x, y, z = engine.new_var("x"), engine.new_var("y"), engine.new_var("z")
    ran = []
    engine.push(_fail, writes=[x], name="fc1")  # NaiveEngine too: nothing raised at push
    engine.push(lambda: ran.append("dependent"), reads=[x], writes=[y], name="relu1")
    engine.push(lambda: ran.append("unrelated"), writes=[z], name="other")

    for var in (x, y, x):  # the output and a dependent output raise, and keep raising
        with pytest.raises(EngineError, match=r"Error in operator fc1: bad input") as info:
            engine.wait_for_var(var)
        assert isinstance(info.value.original, ValueError)
        assert info.value.__cause__ is info.value.original
        assert info.value.op_name == "fc1"
    engine.wait_for_var(z)
    assert ran == ["unrelated"]

    with pytest.raises(EngineError, match="fc1"):
        engine.waitall()
    engine.waitall()  # raised once; the engine keeps working
    engine.push(lambda: ran.append("later"), writes=[z], name="later")
    engine.wait_for_var(z)
    assert ran == ["unrelated", "later"]

    engine.push(lambda: ran.append("rmw"), reads=[x], writes=[x], name="rmw")  # reads the error: skipped
    with pytest.raises(EngineError, match="fc1"):
        engine.wait_for_var(x)
    engine.push(lambda: ran.append("overwrite"), writes=[x], name="overwrite")  # a full write clears it
    engine.wait_for_var(x)
    engine.push(lambda: ran.append("dependent2"), reads=[x], writes=[y], name="relu2")
    engine.wait_for_var(y)
    engine.waitall()
    assert ran == ["unrelated", "later", "overwrite", "dependent2"]


@pytest.mark.parametrize("name", list(ENGINES))
def test_waitall_raises_error_of_op_without_outputs(name):
    engine = ENGINES[name]
    engine.push(_fail, name="side_effect")
    with pytest.raises(EngineError, match="side_effect"):
        engine.waitall()
    engine.waitall()


def test_worker_survives_base_exception():
    engine = ENGINES["threaded1"]
    x = engine.new_var("x")
    engine.push(lambda: sys.exit(3), writes=[x], name="exit")  # would end a worker thread silently
    with pytest.raises(EngineError, match="exit") as info:
        engine.wait_for_var(x)
    assert isinstance(info.value.original, SystemExit)
    with pytest.raises(EngineError):
        engine.waitall()
    engine.push(lambda: None, writes=[x], name="after")
    engine.waitall()


# ---- the process-wide engine -------------------------------------------------------------------------------

@pytest.mark.parametrize("env, cls", [("NaiveEngine", NaiveEngine), ("ThreadedEngine", ThreadedEngine),
                                      ("ThreadedEnginePerDevice", ThreadedEngine), (None, ThreadedEngine)])
def test_get_engine_from_environment(monkeypatch, env, cls):
    if env is None:
        monkeypatch.delenv("MXNET_ENGINE_TYPE", raising=False)
    else:
        monkeypatch.setenv("MXNET_ENGINE_TYPE", env)
    monkeypatch.setenv("MXNET_CPU_WORKER_NTHREADS", "2")
    old = eng_mod.set_engine(None)
    try:
        engine = eng_mod.get_engine()
        assert type(engine) is cls and eng_mod.get_engine() is engine
        if cls is ThreadedEngine:
            assert engine.num_workers == 2
    finally:
        assert eng_mod.set_engine(old) is engine


def test_unknown_engine_type(monkeypatch):
    monkeypatch.setenv("MXNET_ENGINE_TYPE", "Bogus")
    old = eng_mod.set_engine(None)
    try:
        with pytest.raises(ValueError, match="Bogus"):
            eng_mod.get_engine()
    finally:
        eng_mod.set_engine(old)

