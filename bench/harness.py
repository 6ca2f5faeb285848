"""Runs the workloads: one interpreter per (implementation, workload), repeats interleaved across them.

For each workload every runner is started and set up in turn (alone on the machine, so its first call and compile
time are its own), then repeat r times one block of every variant in every runner, the runners' order rotated each
repeat, so that slow drifts of a shared machine hit every implementation alike. Ratios therefore come from one run
on one machine. `coldstart` is different: every measure is a fresh interpreter, started by the harness.

Where OPENBLAS_CORETYPE is set (it halves GEMM speed here), the BLAS-bound workloads also run dataflow and numpy with
it unset, in those runners' environment alone; where it is not set, they also run with OPENBLAS_CORETYPE=Haswell
(the value these machines set), so both are on record either way.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bench import dist, machine, peers, spec
from bench.protocol import InProcessWorker, SubprocessWorker, WorkerError

ROOT = machine.ROOT
PEER_PROBE = {"numpy": "import numpy", "mxnet": "import mxnet", "torch": "import torch", "jax": "import jax"}
DEFAULT_PEER_PYTHON = {"mxnet": "/tmp/mxvenv/bin/python", "torch": "/tmp/torchvenv/bin/python",
                       "jax": "/tmp/jaxvenv/bin/python"}
HAVE_BLAS_ON_NUMPY = ("dataflow", "numpy")      # the runners whose GEMMs are numpy's/scipy's OpenBLAS
SETUP_TIMEOUT = 900
RUN_TIMEOUT = 600


class Progress:
    """tqdm when it is installed, else one line per step on stderr; silent when disabled."""

    def __init__(self, total, enabled=True):
        self.bar = None
        self.enabled = enabled
        self.total, self.n = total, 0
        if enabled:
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, unit="step", file=sys.stderr, dynamic_ncols=True, leave=False)
            except ImportError:
                self.bar = None

    def step(self, text, n=1):
        self.n += n
        if self.bar is not None:
            self.bar.set_description_str(text[:60])
            self.bar.update(n)
        elif self.enabled:
            print("[%d/%d] %s" % (self.n, self.total, text), file=sys.stderr, flush=True)

    def note(self, text):
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        elif self.enabled:
            print(text, file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def blas_variant():
    """(label, env changes) of the second BLAS environment, or None where there is nothing to vary."""
    if os.environ.get("OPENBLAS_CORETYPE"):
        return "CORETYPE unset", {"OPENBLAS_CORETYPE": None, "OPENBLAS_L2_SIZE": None}
    return "CORETYPE=Haswell", {"OPENBLAS_CORETYPE": "Haswell"}


def _compile_sources():
    """Byte-compile our packages first, as installing them would (pip writes the .pyc files): the peers start from
    their installed .pyc files, and with PYTHONDONTWRITEBYTECODE set a source checkout would otherwise be compiled
    again by every fresh interpreter (~0.2 s here)."""
    import compileall
    for package in ("dataflow", "ops", "scheduler", "bench"):
        compileall.compile_dir(os.path.join(ROOT, package), quiet=1)


def _env(changes=None):
    env = dict(os.environ)
    for k, v in (changes or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    # the runners find `bench` through the path of their file; `python -m bench.ours` through the cwd (ROOT)
    return env


def probe_peers(requested, pythons, progress=None):
    """{impl: {"python", "status": "ok" | "skipped", "note"}} for the requested peers."""
    out = {}
    for impl in requested:
        py = pythons.get(impl) or (sys.executable if impl == "numpy" else None)
        if impl != "numpy" and not py:
            default = DEFAULT_PEER_PYTHON.get(impl)
            if default and os.path.exists(default):
                py = default
        flag = "--%s-python" % impl
        if not py:
            out[impl] = {"python": None, "status": "skipped",
                         "note": "no interpreter: give %s PATH (the default %s does not exist)"
                                 % (flag, DEFAULT_PEER_PYTHON.get(impl))}
            continue
        if not os.path.exists(py) and shutil.which(py) is None:
            out[impl] = {"python": py, "status": "skipped", "note": "%s %s: no such interpreter" % (flag, py)}
            continue
        try:
            r = subprocess.run([py, "-c", PEER_PROBE[impl]], capture_output=True, text=True, timeout=180,
                               env=_env())
            ok = r.returncode == 0
            why = (r.stderr.strip().splitlines() or [""])[-1]
        except (OSError, subprocess.SubprocessError) as e:
            ok, why = False, str(e)
        out[impl] = {"python": py, "status": "ok" if ok else "skipped",
                     "note": "" if ok else "%s cannot %s: %s" % (py, PEER_PROBE[impl], why)}
        if progress is not None and not ok:
            progress.note("peer %s skipped: %s" % (impl, out[impl]["note"]))
    return out


def _stats(times):
    ok = [t for t in times if isinstance(t, float)]
    if not ok:
        return None, None
    return statistics.median(ok), min(ok)


class Run:
    def __init__(self, workloads, level="default", repeat=None, peer_pythons=None, peers_wanted=("numpy",),
                 in_process=False, blas_variant_on=True, gap=0.02, progress=True):
        self.workloads = list(workloads)
        self.level = level
        self.repeat = repeat if repeat is not None else spec.REPEATS[level]
        self.peer_pythons = peer_pythons or {}
        self.peers_wanted = list(peers_wanted)
        self.in_process = in_process
        self.blas_variant = blas_variant() if blas_variant_on else None
        self.gap = gap
        self.show_progress = progress
        self.results = None

    # -- the pieces ------------------------------------------------------------------------------------------------
    def _worker(self, impl, workload, p, env_changes, label):
        if impl == "dataflow":
            if self.in_process and not env_changes:
                from bench import ours
                w = InProcessWorker(ours, workload, p, label)
                w.start()
                return w
            cmd = [sys.executable, "-m", "bench.ours"]
        else:
            cmd = [self.peers[impl]["python"], peers.path(impl)]
        cmd += ["--workload", workload, "--params", _json(p), "--serve"]
        return SubprocessWorker(cmd, env=_env(env_changes), cwd=ROOT, label=label)

    def _impls(self):
        return ["dataflow"] + [i for i in self.peers_wanted if self.peers[i]["status"] == "ok"]

    def _coldstart_impls(self):
        """The peers with a coldstart measure (numpy has none: it is no framework to start)."""
        return [i for i in self._impls() if i not in ("dataflow", "numpy")]

    def _plan(self, name):
        """[(impl, env label, env changes)] of the runners for workload `name`."""
        plan = [(impl, "", None) for impl in self._impls()]
        if self.blas_variant and spec.WORKLOADS[name]["blas_bound"] and self.level != "smoke":
            label, changes = self.blas_variant
            plan += [(impl, label, changes) for impl, _, _ in list(plan) if impl in HAVE_BLAS_ON_NUMPY]
        impls = self._impls()
        for impl, variants in spec.WORKLOADS[name].get("peer_envs", {}).items():
            plan += [(impl, label, changes) for label, changes in variants if impl in impls]
        return plan

    def _timed_workload(self, name, p, progress):
        out = {"title": spec.WORKLOADS[name]["title"], "params": p, "rows": [], "notes": [], "extras": {}}
        runners = []
        for impl, env_label, changes in self._plan(name):
            label = impl + (" [%s]" % env_label if env_label else "")
            progress.step("%s: set up %s" % (name, label))
            try:
                w = self._worker(impl, name, p, changes, label)
                ready = w.receive(SETUP_TIMEOUT)
            except (WorkerError, OSError) as e:
                out["notes"].append("%s: failed to start: %s" % (label, e))
                progress.note("%s: %s failed: %s" % (name, label, e))
                if p.get("calls"):
                    progress.step("%s: %s failed" % (name, label), n=self.repeat)
                continue
            self._record_info(impl, env_label, ready.get("info"))
            if not ready.get("ready") or ready.get("not_applicable"):
                if ready.get("not_applicable"):
                    out["notes"].append("%s: not applicable (%s)" % (label, ready["not_applicable"]))
                else:
                    out["notes"].append("%s: %s" % (label, ready.get("error", "not ready")))
                w.close(kill=not ready.get("ready"))
                if p.get("calls"):
                    progress.step("%s: %s has nothing to time" % (name, label), n=self.repeat)
                continue
            for variant, why in ready.get("skipped", {}).items():
                out["notes"].append("%s %s: %s" % (label, variant, why))
            if ready.get("extras"):
                out["extras"][label] = ready["extras"]
            rows = {}
            for variant in ready["variants"]:
                s = ready["setup"][variant]
                rows[variant] = {"impl": impl, "variant": variant, "env": env_label, "times_s": [],
                                 "calls": s["calls"], "first_call_s": s["first_call_s"], "build_s": s["build_s"],
                                 "numba_compile_s": s["numba_compile_s"], "note": s.get("note", "")}
                out["rows"].append(rows[variant])
            if rows:
                runners.append((label, w, rows))
            else:
                w.close()
                if p.get("calls"):
                    progress.step("%s: %s has nothing to time" % (name, label), n=self.repeat)
        for r in range(self.repeat if p.get("calls") else 0):
            k = r % max(len(runners), 1)
            for label, w, rows in runners[k:] + runners[:k]:
                progress.step("%s: repeat %d/%d %s" % (name, r + 1, self.repeat, label))
                try:
                    times = w.request("run", RUN_TIMEOUT)["times"]
                except WorkerError as e:
                    out["notes"].append("%s: died during repeat %d: %s" % (label, r + 1, e))
                    continue
                for variant, t in times.items():
                    rows[variant]["times_s"].append(t)
                if self.gap:
                    time.sleep(self.gap)
        for _, w, _ in runners:
            w.close()
        for row in out["rows"]:
            row["median_s"], row["min_s"] = _stats(row["times_s"])
            failed = [t for t in row["times_s"] if not isinstance(t, float)]
            if failed:
                row["failed"] = failed[0]
        return out

    def _record_info(self, impl, env_label, info):
        if not info:
            return
        key = impl + (" [%s]" % env_label if env_label else "")
        self.infos.setdefault(key, info)

    def _coldstart(self, p, progress):
        out = {"title": spec.WORKLOADS["coldstart"]["title"], "params": p, "rows": [], "notes": [], "extras": {}}
        rows = {}

        def row(impl, variant):
            if (impl, variant) not in rows:
                rows[impl, variant] = {"impl": impl, "variant": variant, "env": "", "times_s": [], "import_s": [],
                                       "first_call_s": [], "numba_compile_s": [], "cpu_s": [], "calls": 1,
                                       "note": ""}
                out["rows"].append(rows[impl, variant])
            return rows[impl, variant]

        def measure(impl, variant, env_changes=None):
            if impl == "dataflow":
                cmd = [sys.executable, "-m", "bench.ours"]
            else:
                cmd = [self.peers[impl]["python"], peers.path(impl)]
            cmd += ["--coldstart", "--params", _json(p)]
            t0 = time.perf_counter()
            w = SubprocessWorker(cmd, env=_env(env_changes), cwd=ROOT, label="%s coldstart" % impl)
            try:
                msg = w.receive(SETUP_TIMEOUT)
                wall = time.perf_counter() - t0
            except WorkerError as e:
                out["notes"].append("%s %s: %s" % (impl, variant, e))
                return
            finally:
                w.close(kill=False)
            if "not_applicable" in msg:
                return
            if "error" in msg:
                out["notes"].append("%s %s: %s" % (impl, variant, msg["error"]))
                return
            rw = row(impl, variant)
            rw.setdefault("runs", []).append(dict(msg, wall_s=wall))
            rw["times_s"].append(wall)
            rw["import_s"].append(msg.get("import_s"))
            rw["first_call_s"].append(msg.get("first_call_s"))
            rw["numba_compile_s"].append(msg.get("numba_compile_s"))
            rw["cpu_s"].append(msg.get("cpu_s"))
            if msg.get("variant"):
                rw["note"] = "first call: %s" % msg["variant"]

        impls = self._coldstart_impls()
        _compile_sources()
        for r in range(p.get("runs", 1)):
            cache = tempfile.mkdtemp(prefix="bench-numba-cache-")
            try:
                progress.step("coldstart %d: dataflow, empty numba cache" % (r + 1))
                measure("dataflow", "empty cache", {"NUMBA_CACHE_DIR": cache})
                progress.step("coldstart %d: dataflow, warm numba cache" % (r + 1))
                measure("dataflow", "warm cache", {"NUMBA_CACHE_DIR": cache})
            finally:
                shutil.rmtree(cache, ignore_errors=True)
            for impl in impls:
                progress.step("coldstart %d: %s" % (r + 1, impl))
                measure(impl, "first call")
        for rw in out["rows"]:
            rw["median_s"], rw["min_s"] = _stats(rw["times_s"])
            rw["first_call_s"] = _median_or_none(rw["first_call_s"])
            rw["import_s"] = _median_or_none(rw["import_s"])
            rw["numba_compile_s"] = _median_or_none(rw["numba_compile_s"])
            rw["cpu_s"] = _median_or_none(rw["cpu_s"])
        out["notes"].append("wall = from starting the interpreter to the first call's result (median of %d); "
                            "cpu = the runner's CPU time from its start to that result (what a busy host "
                            "inflates less); empty cache = a fresh NUMBA_CACHE_DIR; our sources byte-compiled "
                            "first, as an install does" % p.get("runs", 1))
        return out

    def _steps(self):
        n = 0
        for name in self.workloads:
            p = spec.params(name, self.level)
            if name == "coldstart":
                n += p.get("runs", 1) * (2 + len(self._coldstart_impls()))
                continue
            if name == "dist":
                n += dist.steps(p)
                continue
            k = len(self._plan(name))
            n += k + (k * self.repeat if p.get("calls") else 0)
        return n

    # -- the run ---------------------------------------------------------------------------------------------------
    def run(self):
        t_start = time.perf_counter()
        self.infos = {}
        meta = machine.info()
        tmp_progress = Progress(0, enabled=False)
        self.peers = probe_peers(self.peers_wanted, self.peer_pythons, tmp_progress)
        progress = Progress(self._steps(), enabled=self.show_progress)
        for impl, st in self.peers.items():
            if st["status"] != "ok":
                progress.note("peer %s skipped: %s" % (impl, st["note"]))
        workloads = {}
        try:
            for name in self.workloads:
                p = spec.params(name, self.level)
                if name == "coldstart":
                    workloads[name] = self._coldstart(p, progress)
                elif name == "dist":            # MPI jobs of 1 and 2 processes, dataflow only (bench/dist.py)
                    workloads[name] = dist.measure(p, self.repeat, progress)
                else:
                    workloads[name] = self._timed_workload(name, p, progress)
        finally:
            progress.close()
        meta["load_average_end"] = machine.load_average()
        self.results = {
            "schema": 1,
            "machine": meta,
            "config": {"level": self.level, "repeat": self.repeat, "workloads": self.workloads,
                       "blas_variant": self.blas_variant[0] if self.blas_variant else None,
                       "in_process": self.in_process, "gap_s": self.gap},
            "peers": {impl: dict(st, info=self.infos.get(impl)) for impl, st in self.peers.items()},
            "runners": self.infos,
            "versions": {k: (v or {}).get("versions") for k, v in self.infos.items()},
            "workloads": workloads,
            "duration_s": time.perf_counter() - t_start,
        }
        from bench import report
        self.results["goals"] = report.goals(self.results)
        return self.results


def _median_or_none(xs):
    xs = [x for x in xs if isinstance(x, (int, float))]
    return statistics.median(xs) if xs else None


def _json(obj):
    import json
    return json.dumps(obj, separators=(",", ":"))
