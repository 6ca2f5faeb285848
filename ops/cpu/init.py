"""CPU kernels of ops/init.py beyond the constant fills (which share ops/cpu/elemwise.py's): _linspace."""
import numpy as np

from .common import assign


def linspace(ctx, p, inputs, outputs, req):
    """start + i * step in float64, converted to the output's dtype (integers truncate toward zero, as C++ casts
    do); step = (stop - start) / (num - 1) with the endpoint, / num without; one sample is start."""
    n = p.num
    step = (p.stop - p.start) / ((n - 1) if p.endpoint else n) if n > 1 or (n == 1 and not p.endpoint) else 0.0
    assign(outputs[0], req[0], p.start + np.arange(n, dtype=np.float64) * step)
