"""The `dist` workload: data-parallel training with a dist_sync KVStore over MPI, on 1 and on N processes of this
machine, each started by `python -m dataflow.launch -n N` (bench/harness.py calls `measure`).

Every worker trains the same model on its own batch of `batch` samples (weak scaling: the global batch grows with
the workers), `gluon.Trainer(..., kvstore='dist_sync')` summing the gradients over the workers in buckets
(dataflow/kvstore/buckets.py) before each SGD update: by default in engine ops that overlap the backward (Note
[overlapped reduction] in dataflow/kvstore/overlap.py); on N processes also, in alternate blocks of the same job,
after the backward (what the overlap buys) and one message per key (what bucketing buys). A row's time is one
training step (forward, backward, gradient allreduce, update) on rank 0, median over the timed blocks; the row's
note gives images/s of all workers together, the scaling efficiency (images/s on N processes / (N x images/s on
1)), and, where the reduction does not overlap the backward, the part of a step spent in `trainer.step`
(reduction + update). No peer runs this workload (MXNet's dist_sync needs its parameter-server processes, which the
peers' installs do not start here).

`python -m bench.dist --worker ...` is one worker (it imports dataflow); the rest of this file is standard library.
"""
import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

if __package__ in (None, ""):                 # run as a file: make `bench` importable
    sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import machine, spec

TIMEOUT = 900


# The worker's ways to reduce the gradients, timed in alternate blocks of one job: the default (buckets reduced by
# engine ops overlapping a segmented backward), the same buckets reduced after the backward (what the overlap buys),
# and one message per parameter after the backward (what bucketing buys); name -> the environment it runs under
REDUCTIONS = {"buckets": {},
              "no-overlap": {"DATAFLOW_KVSTORE_OVERLAP": "0"},
              "per-key": {"DATAFLOW_KVSTORE_OVERLAP": "0", "DATAFLOW_KVSTORE_BUCKET_BYTES": "1"}}
SUFFIX = {"buckets": "", "no-overlap": ", reduced after the backward", "per-key": ", one message per key"}


def jobs(p):
    """[(model, batch, processes, reductions)] of the dist workload's params `p`: one MPI job each."""
    return [(model, batch, n, ("buckets",) if n == 1 else ("buckets", "no-overlap") +
             (("per-key",) if p.get("per_key") == model else ()))
            for model, batch in p["models"] for n in p["procs"]]


def variant_name(model, batch, n, reduction):
    return "%s b%d %d proc%s%s" % (model, batch, n, "" if n == 1 else "s", SUFFIX[reduction])


def steps(p):
    """Progress steps of `measure` (one per job)."""
    return len(jobs(p))


def measure(p, repeat, progress):
    """The workload's result dict (rows, notes, extras) as bench/harness.py records it."""
    out = {"title": spec.WORKLOADS["dist"]["title"], "params": p, "rows": [], "notes": [], "extras": {}}
    if importlib.util.find_spec("mpi4py") is None:
        out["skipped"] = "needs mpi4py and an MPI: pip install -e '.[dist]'"
        out["notes"].append("skipped: " + out["skipped"])
        return out
    single = {}
    for model, batch, n, reductions in jobs(p):
        job = variant_name(model, batch, n, "buckets")
        progress.step("dist: %s" % job)
        got = _run_job(p, model, batch, n, reductions, repeat, out["notes"], job)
        if got is None:
            continue
        for reduction in reductions:
            blocks = got["block_s"][reduction]
            median = statistics.median(blocks)
            images = n * batch / median
            if n == 1:
                single[model] = images
            share = got["step_share"][reduction]
            note = "%.0f images/s" % images + (", trainer.step %.0f%% of a step" % (100 * share) if share else "")
            if n > 1 and model in single:
                note += ", scaling efficiency %.0f%%" % (100 * images / (n * single[model]))
            name = variant_name(model, batch, n, reduction)
            out["rows"].append({"impl": "dataflow", "variant": name, "env": "", "times_s": blocks,
                                "median_s": median, "min_s": min(blocks), "calls": p["calls"],
                                "first_call_s": got["first_call_s"], "build_s": got["build_s"],
                                "numba_compile_s": got["numba_compile_s"], "note": note,
                                "images_per_s": images, "processes": n})
            out["notes"].append("%s: %s" % (name, note))
        out["extras"].setdefault("models", {})[model] = {k: got[k] for k in ("parameters", "gradient_bytes",
                                                                             "buckets")}
    out["notes"].append("weak scaling: every worker trains on its own batch; time = one step on rank 0 (forward, "
                        "backward, allreduce, SGD); the default overlaps the bucketed allreduce with a segmented "
                        "backward, 'reduced after the backward' and 'one message per key' alternate their blocks "
                        "with it in the same job; no peers (MXNet's dist_sync needs parameter servers); all "
                        "processes share this machine's %s cores" % (os.cpu_count(),))
    return out


def _run_job(p, model, batch, n, reductions, repeat, notes, job):
    """Rank 0's measures of one `python -m dataflow.launch -n N` job, or None (with a note) when it failed."""
    with tempfile.TemporaryDirectory(prefix="bench-dist-") as tmp:
        path = os.path.join(tmp, "rank0.json")
        cmd = [sys.executable, "-m", "dataflow.launch", "-n", str(n), sys.executable, "-m", "bench.dist",
               "--worker", "--model", model, "--batch", str(batch), "--hw", str(p["hw"]),
               "--classes", str(p["classes"]), "--calls", str(p["calls"]), "--warmup", str(p["warmup"]),
               "--repeat", str(repeat), "--reductions", ",".join(reductions), "--out", path]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, cwd=machine.ROOT)
        except subprocess.TimeoutExpired:
            notes.append("%s: did not finish in %d s" % (job, TIMEOUT))
            return None
        if r.returncode != 0 or not os.path.exists(path):
            tail = (r.stderr.strip() or r.stdout.strip()).splitlines()[-3:]
            notes.append("%s: the job failed (exit %d): %s" % (job, r.returncode, " | ".join(tail)))
            return None
        with open(path) as fh:
            return json.load(fh)


# -- one worker (imports dataflow) -------------------------------------------------------------------------------------
def _model(mx, name, classes):
    from bench import graphs
    if name == "mlp":
        return graphs.mlp_net(mx)
    mx.random.seed(42)
    net = mx.gluon.model_zoo.vision.get_model(name, classes=classes)
    net.initialize(mx.init.Xavier())
    return net


def worker(args):
    t0 = time.perf_counter()
    import numpy as np
    import dataflow as mx
    from bench import ours
    from dataflow import kvstore
    from dataflow.kvstore import buckets
    ours.compile_clock()
    kv = kvstore.create("dist_sync")
    net = _model(mx, args.model, args.classes)
    net.hybridize()
    rs = np.random.RandomState(kv.rank)
    if args.model == "mlp":
        shape, classes = (args.batch, spec.MLP_IN), spec.MLP_HIDDEN[-1]
    else:
        shape, classes = (args.batch, 3, args.hw, args.hw), args.classes
    x = mx.nd.array(rs.uniform(-1, 1, shape).astype(np.float32))
    label = mx.nd.array(rs.randint(0, classes, args.batch).astype(np.float32))
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01, "momentum": 0.9}, kvstore=kv)
    in_step = [0.0]

    def step():
        with mx.autograd.record():
            loss = loss_fn(net(x), label)
        loss.backward()
        overlapped = kvstore.overlap.applies(kv._group, [x])
        if not overlapped:          # the reduction waits for the backward anyway: time trainer.step alone
            mx.nd.waitall()
        t = time.perf_counter()
        trainer.step(args.batch)
        mx.nd.waitall()
        if not overlapped:
            in_step[0] += time.perf_counter() - t

    def reduce_as(reduction):
        for name in ("DATAFLOW_KVSTORE_OVERLAP", "DATAFLOW_KVSTORE_BUCKET_BYTES"):
            os.environ.pop(name, None)
        os.environ.update(REDUCTIONS[reduction])

    t_built = time.perf_counter()
    step()
    first = time.perf_counter() - t_built
    for _ in range(args.warmup):
        step()
    ours.settle()                    # the Plans the warm-up queued for compiling, compiled before timing
    reductions = args.reductions.split(",")
    blocks = {r: [] for r in reductions}
    in_trainer = dict.fromkeys(reductions, 0.0)
    for repeat in range(args.repeat):
        for reduction in reductions if repeat % 2 == 0 else reductions[::-1]:
            reduce_as(reduction)
            kv.barrier()
            in_step[0] = 0.0
            t = time.perf_counter()
            for _ in range(args.calls):
                step()
            blocks[reduction].append((time.perf_counter() - t) / args.calls)
            in_trainer[reduction] += in_step[0]
    reduce_as("buckets")
    params = [p for p in net.collect_params().values() if p.grad_req != "null"]
    entries = [(p.shape, np.float32) for p in params][::-1]
    if kv.rank == 0:
        with open(args.out, "w") as fh:
            json.dump({"block_s": blocks, "first_call_s": first, "build_s": t_built - t0,
                       "numba_compile_s": ours._clock.total,
                       "step_share": {r: in_trainer[r] / (sum(blocks[r]) * args.calls) for r in reductions},
                       "parameters": len(params), "gradient_bytes": sum(int(np.prod(s)) * 4 for s, _ in entries),
                       "buckets": len(buckets.plan(entries, buckets.bucket_bytes()))}, fh)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.dist", description=__doc__.splitlines()[0])
    ap.add_argument("--worker", action="store_true", required=True)
    ap.add_argument("--model", required=True)
    for name in ("batch", "hw", "classes", "calls", "warmup", "repeat"):
        ap.add_argument("--" + name, type=int, required=True)
    ap.add_argument("--reductions", default="buckets", help="comma-separated, from %s" % ", ".join(REDUCTIONS))
    ap.add_argument("--out", required=True)
    worker(ap.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
