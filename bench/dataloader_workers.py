"""Benchmark (not a test): DataLoader with 0 workers, 2 worker threads and 2 worker processes on a Python-heavy
transform (a pure-Python loop per sample, which holds the GIL). Run: `python -m bench.dataloader_workers`.

Prints the median seconds per pass over `--repeat` passes of each loader, the passes of the loaders interleaved (the
process pool is started before the timing and reused, as a training loop would), and the speed-up over 0
workers."""
import argparse
import statistics
import time

import numpy as np

from dataflow.gluon.data import DataLoader, Dataset


class PythonHeavyDataset(Dataset):
    """Sample i: a float32 vector made by `work` iterations of pure-Python arithmetic."""

    def __init__(self, n, work):
        self._n, self._work = n, work

    def __len__(self):
        return self._n

    def __getitem__(self, i):
        acc = float(i)
        for k in range(self._work):
            acc = (acc * 1.000001 + k) % 1000.0
        return np.full(64, acc, np.float32), i


def _pass_seconds(loader):
    start = time.perf_counter()
    for x, _y in loader:
        x.wait_to_read()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--work", type=int, default=60000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    dataset = PythonHeavyDataset(args.samples, args.work)
    loaders = {"0 workers": DataLoader(dataset, batch_size=16),
               "2 threads": DataLoader(dataset, batch_size=16, num_workers=2, thread_pool=True),
               "2 processes": DataLoader(dataset, batch_size=16, num_workers=2)}
    times = {name: [] for name in loaders}
    for loader in loaders.values():
        _pass_seconds(loader)       # warm: workers started, kernels loaded
    for _ in range(args.repeat):    # interleaved, so that the machine's load changes hit every loader alike
        for name, loader in loaders.items():
            times[name].append(_pass_seconds(loader))
    base = statistics.median(times["0 workers"])
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print("%-12s %.3f s/pass median of %d  (%.2fx of 0 workers)" % (name, median, len(seconds), base / median))
    loaders["2 processes"].close()


if __name__ == "__main__":
    main()
