"""mx.profiler records operators (dataflow/profiler.py, scheduler/op_timing.py): each step of a Plan and each
imperative call, as MXNet's `operator` category, only while it runs with an operator profile on; results are the
same with and without it."""
import json
import time

import numpy as np
import pytest

import dataflow as mx
from dataflow import profiler
from scheduler import op_timing


@pytest.fixture(autouse=True)
def _profiler_stopped_after():
    yield
    profiler.set_state("stop")
    profiler.set_config(profile_all=False, profile_symbolic=True, profile_imperative=True, aggregate_stats=False)
    profiler.dumps(reset=True)
    assert op_timing.timer is None


def _net():
    mx.random.seed(1)
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Dense(16, activation="relu"), mx.gluon.nn.Dense(4))
    net.initialize()
    net.hybridize()
    return net


def _steps(net, x, calls):
    grads = []
    for _ in range(calls):
        with mx.autograd.record():
            y = net(x)
        y.backward()
        grads.append([p.grad().asnumpy() for p in net.collect_params().values()])
    return y.asnumpy(), grads


def test_operators_of_plans_and_imperative_calls_are_recorded(tmp_path):
    fname = str(tmp_path / "profile.json")
    x = mx.nd.array(np.random.RandomState(0).rand(8, 10))
    want = _steps(_net(), x, 3)
    net = _net()
    _steps(net, x, 1)                       # plans built (and compiled where they compile) before profiling
    profiler.set_config(profile_all=True, aggregate_stats=True, filename=fname)
    profiler.set_state("run")
    began = time.perf_counter()
    got = _steps(net, x, 2)
    z = mx.nd.dot(x, x.T)
    z.wait_to_read()
    wall_ms = (time.perf_counter() - began) * 1e3
    profiler.set_state("stop")
    mx.nd.dot(x, x.T).wait_to_read()        # after stop: not recorded
    stats = json.loads(profiler.dumps(format="json"))["Time"]["operator"]
    profiler.dump()
    # the two Dense layers' forward and backward in each of the two calls, and the imperative dot once
    assert stats["FullyConnected"]["Count"] == 4 and stats["_backward_FullyConnected"]["Count"] == 4
    assert stats["Activation"]["Count"] == 2 and stats["dot"]["Count"] == 1
    assert all(0 <= s["Min"] <= s["Avg"] <= s["Max"] and s["Total"] <= wall_ms for s in stats.values())
    with open(fname) as f:
        events = [e for e in json.load(f)["traceEvents"] if e.get("cat") == "operator"]
    begins = [e for e in events if e["ph"] == "B"]
    ends = [e for e in events if e["ph"] == "E"]
    assert len(begins) == len(ends) == sum(s["Count"] for s in stats.values())
    assert all(b["name"] == e["name"] and b["ts"] <= e["ts"] for b, e in zip(begins, ends))
    np.testing.assert_array_equal(got[0], _steps(_net(), x, 2)[0])          # the same outputs while profiled
    for g, w in zip(got[1][-1], want[1][1], strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-6)


@pytest.mark.parametrize("how", ["paused", "no operator profile", "stopped"])
def test_no_operator_is_recorded_unless_running_with_an_operator_profile(how):
    profiler.set_config(profile_all=False, profile_symbolic=how != "no operator profile",
                        profile_imperative=how != "no operator profile", aggregate_stats=True)
    profiler.set_state("stop" if how == "stopped" else "run")
    if how == "paused":
        profiler.pause()
    assert op_timing.timer is None
    mx.nd.dot(mx.nd.ones((3, 3)), mx.nd.ones((3, 3))).wait_to_read()
    assert "operator" not in json.loads(profiler.dumps(format="json"))["Time"]
    if how == "paused":
        profiler.resume()
        assert op_timing.timer is not None
