"""CUDA kernels of ops/resize.py.

None yet: BilinearResize2D runs on the GPU through `host_fallback` (the CPU kernel on host copies).
"""
KERNELS = {}

WITHOUT = {name: "two small interpolation-matrix GEMMs per image: run through the host; a CUDA port is a follow-up"
           for name in ("_contrib_BilinearResize2D", "_backward_contrib_BilinearResize2D")}
