"""The benchmark harness of dataflow: `python -m bench` (see bench/README.md).

Named workloads (bench/spec.py) run on dataflow and, side by side, on peers in their own interpreters (numpy,
real MXNet 1.9.1, PyTorch, JAX: bench/peers/), interleaved per repeat so that every ratio comes from one run on
one machine. Importing this package imports neither dataflow nor any peer framework: peer interpreters import
`bench.spec` and `bench.protocol` from it.
"""
