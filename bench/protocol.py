"""How a runner times a workload and talks to the harness. Standard library only: peers import it too.

A runner module (bench/ours.py, bench/peers/*_runner.py) defines

    IMPL = "torch"                       # the name in the table
    def build(workload, p) -> dict       # variant name -> factory() returning a Case; raise NotApplicable
    def info() -> dict                   # versions, BLAS kernel ... (called after build, so imports are done)
    def coldstart(p) -> dict             # optional: {"import_s", "first_call_s"} measured in a fresh interpreter
    def settle()                         # optional: after the warm-up, wait for work the runtime does in the
                                         # background (dataflow's JIT compiles); the warm-up then runs once more

and ends with `protocol.main(sys.modules[__name__])`. The harness runs it as

    PYTHON runner.py --workload mlp1 --params '{"batch": 1, ...}' --serve

The runner builds every variant (timing the build, the first call, and the numba compilation where it can), warms
up, prints one "ready" message, then times one block of `calls` calls of every variant per "run" line it reads on
stdin, and leaves on "quit". Messages are single JSON lines prefixed with MARK on stdout; anything else a library
prints is ignored. Without --serve it runs --repeat blocks itself and prints one JSON document (standalone use).
"""
import argparse
import json
import os
import platform
import queue
import sys
import tempfile
import threading
import time
import traceback

MARK = "@@bench "
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "MKL_NUM_THREADS",
              "NUMBA_NUM_THREADS", "NUMBA_THREADING_LAYER", "NUMBA_CACHE_DIR", "MXNET_ENGINE_TYPE",
              "MXNET_CPU_WORKER_NTHREADS", "KMP_BLOCKTIME", "KMP_AFFINITY", "OMP_WAIT_POLICY", "XLA_FLAGS",
              "TORCHINDUCTOR_CACHE_DIR", "PYTHONDONTWRITEBYTECODE")


class NotApplicable(Exception):
    """This runner has no version of the workload (or of one variant): a note, not an error."""


class Case:
    """One timed variant: `fn()` is one call; `sync(last)` waits for asynchronous work (the last call's result)."""

    def __init__(self, fn, calls, sync=None, note=""):
        self.fn, self.calls, self.sync, self.note = fn, calls, sync, note

    def block(self, calls=None):
        """Seconds per call over one block of `calls` calls, waited for at the end."""
        n = self.calls if calls is None else calls
        fn, sync = self.fn, self.sync
        t0 = time.perf_counter()
        out = None
        for _ in range(n):
            out = fn()
        if sync is not None:
            sync(out)
        return (time.perf_counter() - t0) / max(n, 1)


def thread_env():
    return {k: os.environ[k] for k in THREAD_ENV if k in os.environ}


def blas_info():
    """The BLAS libraries loaded in this process, as threadpoolctl sees them (None without threadpoolctl)."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    keep = ("user_api", "internal_api", "version", "architecture", "num_threads", "threading_layer", "filepath")
    return [{k: lib.get(k) for k in keep} for lib in threadpoolctl.threadpool_info()]


def base_info():
    return {"python": platform.python_version(), "executable": sys.executable, "pid": os.getpid(),
            "env": thread_env()}


class Worker:
    """The runner side: builds the cases of one workload and times them on request."""

    def __init__(self, module, workload, p):
        self.module, self.workload, self.p = module, workload, p
        self.cases, self.setup, self.skipped, self.extras = {}, {}, {}, {}
        self.compile_clock = getattr(module, "compile_clock", None)

    def _clock(self):
        return self.compile_clock() if self.compile_clock is not None else None

    def prepare(self):
        """Build every variant: time its build and first call (and numba's compilation), then warm it up."""
        try:
            factories = self.module.build(self.workload, self.p)
        except NotApplicable as e:
            return {"ready": True, "not_applicable": str(e) or "no such workload here", "variants": [],
                    "info": self._info()}
        if isinstance(factories, tuple):        # (factories, extras): workloads that report more than times
            factories, self.extras = factories
        for name, factory in factories.items():
            c0 = self._clock()
            t0 = time.perf_counter()
            try:
                case = factory()
                t1 = time.perf_counter()
                first = case.block(1)
                t2 = time.perf_counter()
                c1 = self._clock()
                if self.p.get("warmup", 0):
                    case.block(self.p["warmup"])
                settle = getattr(self.module, "settle", None)
                if settle is not None:
                    settle()
                    case.block(max(2, self.p.get("warmup", 0)))
            except NotApplicable as e:
                self.skipped[name] = str(e)
                continue
            except Exception as e:  # noqa: BLE001 - a failing variant is reported, the others still run
                self.skipped[name] = "failed: %s: %s" % (type(e).__name__, _short(e))
                print(traceback.format_exc(), file=sys.stderr, flush=True)
                continue
            self.cases[name] = case
            self.setup[name] = {"build_s": t1 - t0, "first_call_s": first, "first_total_s": t2 - t0,
                                "numba_compile_s": None if c0 is None else c1 - c0, "calls": case.calls,
                                "note": case.note}
        return {"ready": True, "variants": list(self.cases), "setup": self.setup, "skipped": self.skipped,
                "extras": self.extras, "info": self._info()}

    def _info(self):
        info = base_info()
        try:
            info.update(self.module.info())
        except Exception as e:  # noqa: BLE001
            info["info_error"] = _short(e)
        return info

    def run_once(self):
        """One block of every variant: {variant: seconds per call} (failures as strings)."""
        out = {}
        for name, case in self.cases.items():
            try:
                out[name] = case.block()
            except Exception as e:  # noqa: BLE001
                out[name] = "failed: %s: %s" % (type(e).__name__, _short(e))
        return {"times": out}


def _short(e, n=300):
    s = str(e).strip().splitlines()
    s = s[0] if s else ""
    return s[:n]


def emit(obj):
    sys.stdout.write(MARK + json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(module, argv=None):
    """Command line of a runner (see the module doc)."""
    ap = argparse.ArgumentParser(description="bench runner for %s" % module.IMPL)
    ap.add_argument("--workload")
    ap.add_argument("--params", help="the workload's params as JSON (default: spec.params(workload, --level))")
    ap.add_argument("--level", default="default")
    ap.add_argument("--serve", action="store_true", help="talk to the harness on stdin/stdout")
    ap.add_argument("--repeat", type=int, default=5, help="standalone: timed blocks per variant")
    ap.add_argument("--coldstart", action="store_true", help="measure import + first call, print, exit")
    args = ap.parse_args(argv)
    if not args.workload and not args.coldstart:
        ap.error("--workload is required (or --coldstart)")
    if args.params:
        p = json.loads(args.params)
    else:
        from bench import spec
        p = spec.params(args.workload or "coldstart", args.level)
    if args.coldstart:
        fn = getattr(module, "coldstart", None)
        if fn is None:
            emit({"not_applicable": "no coldstart measure for %s" % module.IMPL})
            return 0
        try:
            emit(fn(p))
        except Exception as e:  # noqa: BLE001
            emit({"error": "%s: %s" % (type(e).__name__, _short(e))})
            raise
        return 0
    worker = Worker(module, args.workload, p)
    try:
        ready = worker.prepare()
    except Exception as e:  # noqa: BLE001
        emit({"ready": False, "error": "%s: %s" % (type(e).__name__, _short(e))})
        raise
    if args.serve:
        emit(ready)
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "run":
                emit(worker.run_once())
            elif cmd == "quit":
                break
        return 0
    times = [worker.run_once()["times"] for _ in range(args.repeat if worker.cases else 0)]
    ready["times"] = {v: [t[v] for t in times] for v in worker.cases}
    print(json.dumps(ready, indent=1))
    return 0


# -- the harness side ------------------------------------------------------------------------------------------------
class WorkerError(RuntimeError):
    pass


class SubprocessWorker:
    """A runner in its own interpreter (fork+exec through subprocess: never a bare fork after numba's threads ran)."""

    def __init__(self, cmd, env=None, cwd=None, label=""):
        import subprocess       # the harness's side only: a runner's start (the coldstart measure) needs none of it
        self.label = label
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     env=env, cwd=cwd, text=True, bufsize=1)
        self._q = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith(MARK):
                self._q.put(line[len(MARK):])
        self._q.put(None)

    def receive(self, timeout):
        try:
            line = self._q.get(timeout=timeout)
        except queue.Empty:
            self.close(kill=True)
            raise WorkerError("%s: no answer in %.0f s" % (self.label, timeout)) from None
        if line is None:
            self.proc.wait()
            raise WorkerError("%s exited (%s) without answering: %s"
                              % (self.label, self.proc.returncode, self.stderr_tail()))
        return json.loads(line)

    def send(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()

    def request(self, cmd, timeout):
        self.send(cmd)
        return self.receive(timeout)

    def stderr_tail(self, n=600):
        try:
            self.log.seek(0)
            text = self.log.read()
        except (OSError, ValueError):
            return ""
        lines = [ln for ln in text.strip().splitlines() if ln.strip()]
        return " | ".join(lines[-4:])[-n:]

    def close(self, kill=False):
        import subprocess
        if self.proc.poll() is None:
            try:
                if not kill:
                    self.send("quit")
                    self.proc.wait(timeout=30)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class InProcessWorker:
    """The same conversation with a runner module imported into this process (--smoke, --in-process)."""

    def __init__(self, module, workload, p, label=""):
        self.label = label
        self.worker = Worker(module, workload, p)
        self._pending = None

    def receive(self, timeout=None):
        out, self._pending = self._pending, None
        return out

    def start(self):
        try:
            self._pending = self.worker.prepare()
        except Exception as e:  # noqa: BLE001 - reported like a runner that could not start
            traceback.print_exc()
            self._pending = {"ready": False, "error": "%s: %s" % (type(e).__name__, _short(e))}

    def request(self, cmd, timeout=None):
        if cmd == "run":
            return self.worker.run_once()
        return {}

    def stderr_tail(self, n=600):
        return ""

    def close(self, kill=False):
        self.worker = None
