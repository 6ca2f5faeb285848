"""CUDA kernels of ops/init.py's ops beyond the constant fills (those are in ops/cuda/elemwise.py)."""
KERNELS = {}
WITHOUT = {"_linspace": "a no-input op writing num values once (usually a constant of a graph): computed on the host"}
