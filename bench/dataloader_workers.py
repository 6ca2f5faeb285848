"""Benchmark (not a test): DataLoader with 0 workers, 2 worker threads and 2 worker processes on a Python-heavy
transform (a pure-Python loop per sample, which holds the GIL). Run: `python -m bench.dataloader_workers`.

Prints, per loader, the median seconds per pass over `--repeat` passes (the passes of the loaders interleaved; the
process pool is started before the timing and reused, as a training loop would), the speed-up over 0 workers, and
the CPU seconds a pass cost in this process and in the worker processes (their sum against 0 workers' is the
loader's overhead). The `ceiling` row runs the same per-sample work on a plain `spawn` pool of 2 processes with no
DataLoader at all: the speed-up this machine can give two processes right now. On a shared machine the two can be
far from 2x: Linux's autogroup scheduling (`/proc/sys/kernel/sched_autogroup_enabled`) shares the CPUs fairly
between sessions, not processes, so a session's workers split its one share when other sessions keep the cores
busy.
"""
import argparse
import multiprocessing
import os
import statistics
import time

import numpy as np

from dataflow.gluon.data import DataLoader, Dataset


def python_work(i, work):
    """`work` iterations of pure-Python arithmetic seeded by i."""
    acc = float(i)
    for k in range(work):
        acc = (acc * 1.000001 + k) % 1000.0
    return acc


class PythonHeavyDataset(Dataset):
    """Sample i: a float32 vector made by `work` iterations of pure-Python arithmetic."""

    def __init__(self, n, work):
        self._n, self._work = n, work

    def __len__(self):
        return self._n

    def __getitem__(self, i):
        return np.full(64, python_work(i, self._work), np.float32), i


def _cpu_seconds(pids):
    """User + system CPU seconds used so far by the processes `pids` (from /proc; 0 where it is missing)."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _autogroup():
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            return "on" if f.read().strip() == "1" else "off"
    except OSError:
        return "unknown"


class _Loader:
    """A DataLoader timed per pass: wall seconds, CPU seconds here and in its worker processes."""

    def __init__(self, loader):
        self.loader = loader
        pool = loader._worker_pool if loader._uses_processes else None
        self._pids = [p.pid for p in pool._pool] if pool is not None else []

    def run(self):
        cpu, workers, start = time.process_time(), _cpu_seconds(self._pids), time.perf_counter()
        for x, _y in self.loader:
            x.wait_to_read()
        wall = time.perf_counter() - start
        return wall, time.process_time() - cpu, _cpu_seconds(self._pids) - workers


class _Ceiling:
    """The same samples' work on a plain pool of 2 spawned processes, in chunks of a batch: no DataLoader."""

    def __init__(self, samples, work, batch):
        self._pool = multiprocessing.get_context("spawn").Pool(2)
        self._args = [(i, work) for i in range(samples)]
        self._batch = batch
        self._pids = [p.pid for p in self._pool._pool]

    def run(self):
        cpu, workers, start = time.process_time(), _cpu_seconds(self._pids), time.perf_counter()
        self._pool.starmap(python_work, self._args, chunksize=self._batch)
        wall = time.perf_counter() - start
        return wall, time.process_time() - cpu, _cpu_seconds(self._pids) - workers

    def close(self):
        self._pool.terminate()
        self._pool.join()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--work", type=int, default=60000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    dataset = PythonHeavyDataset(args.samples, args.work)
    runners = {"0 workers": _Loader(DataLoader(dataset, batch_size=16)),
               "2 threads": _Loader(DataLoader(dataset, batch_size=16, num_workers=2, thread_pool=True)),
               "2 processes": _Loader(DataLoader(dataset, batch_size=16, num_workers=2)),
               "ceiling": _Ceiling(args.samples, args.work, 16)}
    print("load average before: %s; autogroup scheduling: %s; cpus: %d"
          % (" ".join("%.2f" % v for v in os.getloadavg()), _autogroup(), os.cpu_count()))
    times = {name: [] for name in runners}
    for runner in runners.values():
        runner.run()                # warm: workers started, kernels loaded
    for _ in range(args.repeat):    # interleaved, so that the machine's load changes hit every loader alike
        for name, runner in runners.items():
            times[name].append(runner.run())
    base = statistics.median(t[0] for t in times["0 workers"])
    for name, rows in times.items():
        wall, here, workers = (statistics.median(column) for column in zip(*rows))
        print("%-12s %.3f s/pass median of %d  (%.2fx of 0 workers)  cpu s/pass: %.3f here + %.3f in workers"
              % (name, wall, len(rows), base / wall, here, workers))
    print("load average after: %s" % " ".join("%.2f" % v for v in os.getloadavg()))
    runners["2 processes"].loader.close()
    runners["ceiling"].close()


if __name__ == "__main__":
    main()
