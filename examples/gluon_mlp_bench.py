"""The seed benchmark: 1000 calls of the seed MLP on a (1, 512) input, before and after `hybridize()`.

The MLP is `HybridSequential(Dense(256, relu), Dense(128, relu), Dense(2))`, as in the seed tutorial [S1]. Each
timing is 1000 calls followed by `nd.waitall()`, after one warm-up call (which compiles kernels and, once
hybridized, plans the graph). The machine is usually shared, so each timing is the minimum over `--repeat` runs.

    python examples/gluon_mlp_bench.py               # prints both times and the hybridized time per call
    python examples/gluon_mlp_bench.py --repeat 5 --calls 1000
"""
import argparse
import time

import dataflow as mx
from dataflow import nd
from dataflow.gluon import nn


def get_net():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dense(256, activation="relu"), nn.Dense(128, activation="relu"), nn.Dense(2))
    net.initialize()
    return net


def bench(net, x, calls):
    """Seconds for `calls` forward calls, waiting for the last result."""
    start = time.perf_counter()
    for _ in range(calls):
        net(x)
    nd.waitall()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="report the minimum of this many timings")
    args = parser.parse_args()
    mx.random.seed(42)
    x = nd.random.uniform(shape=(1, 512))
    net = get_net()
    net(x).wait_to_read()                                   # deferred initialisation, kernel compilation
    before = min(bench(net, x, args.calls) for _ in range(args.repeat))
    net.hybridize()
    net(x).wait_to_read()                                   # trace and plan once
    after = min(bench(net, x, args.calls) for _ in range(args.repeat))
    print("Before hybridizing: %.4f sec (%d calls)" % (before, args.calls))
    print("After hybridizing: %.4f sec (%d calls)" % (after, args.calls))
    print("Hybridized: %.1f us per call" % (after / args.calls * 1e6))


if __name__ == "__main__":
    main()
