"""Peer runners: small scripts that a peer's own interpreter runs (`PYTHON bench/peers/X_runner.py --workload W
--params JSON --serve`). They import `bench.spec` and `bench.protocol` (standard library only) and their own
framework, never dataflow (the torch runner also imports its zoo models, `torch_zoo.py`). Each defines IMPL,
build(workload, p), info() and, where it has one, coldstart(p).
"""
import os

RUNNERS = {
    "numpy": "numpy_runner.py",
    "mxnet": "mxnet_runner.py",
    "torch": "torch_runner.py",
    "jax": "jax_runner.py",
}


def path(impl):
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), RUNNERS[impl])

