"""Smoke test of the benchmark harness (bench/): every workload once at a tiny size, no peers, no timing asserts.

Benchmarks are not tests: this only checks that `python -m bench --smoke` runs every workload and writes the JSON
fields that the README and the chart are made from.
"""
import importlib.util
import json
import math

import pytest

from bench import cli, protocol, spec
from bench.peers import numpy_runner


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    path = out / "smoke.json"
    assert cli.main(["--smoke", "--json", str(path), "--png", str(out / "smoke.png"), "--no-progress",
                     "--quiet"]) == 0
    with open(path) as fh:
        return json.load(fh)


def _finite(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x >= 0


def test_machine_and_config(smoke):
    m = smoke["machine"]
    for key in ("date", "cpu_model", "cores", "load_average_start", "load_average_end", "env", "python"):
        assert key in m
    assert smoke["config"]["level"] == "smoke"
    assert smoke["peers"] == {}
    info = smoke["runners"]["dataflow"]
    assert {"numba", "numpy", "dataflow"} <= set(info["versions"])
    assert "blas" in info


def test_every_workload_ran(smoke):
    assert set(smoke["workloads"]) == set(spec.WORKLOAD_NAMES)
    for name, wl in smoke["workloads"].items():
        if name in ("memory", "coldstart"):
            continue
        if name == "dist" and importlib.util.find_spec("mpi4py") is None:     # the dist extra is not installed
            assert "skipped" in wl and not wl["rows"], wl
            continue
        rows = [r for r in wl["rows"] if r["impl"] == "dataflow"]
        assert rows, (name, wl["notes"])
        for r in rows:
            assert "failed" not in r, (name, r)
            assert _finite(r["median_s"]) and _finite(r["min_s"]) and _finite(r["first_call_s"])
            assert r["calls"] == spec.params(name, "smoke")["calls"]
            assert r["numba_compile_s"] is not None


def test_variants(smoke):
    variants = {(n, r["variant"]) for n, wl in smoke["workloads"].items() for r in wl["rows"]}
    for want in [("mlp1", "imperative"), ("mlp1", "hybridized"), ("mlp64", "hybridized"),
                 ("mlp1024", "hybridized"), ("fcnet-train", "fwd+bwd"), ("elemwise10", "symbol"),
                 ("inception", "inference"), ("inception", "training"),
                 ("coldstart", "empty cache"), ("coldstart", "warm cache")]:
        assert want in variants


def test_memory_fields(smoke):
    mem = smoke["workloads"]["memory"]["extras"]["dataflow"]["memory"]
    assert set(mem) == {"fcnet", "inception", "resnet50"}
    for graph in mem.values():
        for mode in ("inference", "training"):
            st = graph[mode]
            assert 0 < st["lower_bound"] <= st["planned"] <= st["naive"]


def test_coldstart_fields(smoke):
    rows = {r["variant"]: r for r in smoke["workloads"]["coldstart"]["rows"]}
    for variant in ("empty cache", "warm cache"):
        r = rows[variant]
        assert _finite(r["median_s"]) and _finite(r["import_s"]) and _finite(r["first_call_s"])


def test_goals_listed(smoke):
    ids = {g["id"] for g in smoke["goals"]}
    assert {"mlp1-hybridized", "inception-training", "coldstart-warm-cache"} <= ids
    for g in smoke["goals"]:
        assert g["met"] in (True, False, None)


def test_numpy_runner_in_process():
    """The peer protocol on the one peer that is always there: build, first call, one block."""
    for name in ("mlp1", "mlp64", "fcnet-train", "elemwise10"):
        worker = protocol.Worker(numpy_runner, name, spec.params(name, "smoke"))
        ready = worker.prepare()
        assert ready["ready"] and ready["variants"] and not ready["skipped"], ready
        times = worker.run_once()["times"]
        assert all(_finite(t) for t in times.values()), times
    ready = protocol.Worker(numpy_runner, "inception", spec.params("inception", "smoke")).prepare()
    assert ready["not_applicable"]


def test_runner_subprocess(tmp_path):
    """A runner in its own interpreter, over the --serve conversation."""
    import sys
    from bench import peers
    cmd = [sys.executable, peers.path("numpy"), "--workload", "elemwise10", "--params",
           json.dumps(spec.params("elemwise10", "smoke")), "--serve"]
    w = protocol.SubprocessWorker(cmd, label="numpy")
    try:
        ready = w.receive(120)
        assert set(ready["variants"]) == {"numpy", "copy floor"}
        times = w.request("run", 120)["times"]
        assert all(_finite(t) for t in times.values())
    finally:
        w.close()
