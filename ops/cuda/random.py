"""CUDA kernels of the random sampling ops (ops/random.py).

The numbers are drawn on the host with exactly the CPU kernel's generator calls (`ops.random_state.generator()`),
so a seeded program gives the same numbers on cpu and gpu (as Dropout's mask in ops/cuda/nn.py), then copied to
the device and stored there as req says. `_shuffle` draws its permutation on the host and gathers the rows on the
device. Ops with inputs (`_sample_multinomial`, `_sample_<dist>`, `_random_<dist>_like`) read them back to the host
first: the CPU kernel itself runs there.
"""
import numpy as np
from numba import cuda, types

from .. import random as cpu_random
from ..random_state import generator
from .. import registry
from ..registry import ADD, NULL, WRITE
from .common import copy_into, declare, empty, flat, launch, put, stream


def _to_device(value, out, req):
    """out (req) value: value converted to out's dtype on the host (C++ casts, as `assign`), copied over."""
    if req == NULL or out.size == 0:
        return
    from . import storage as gpu_storage
    host = np.empty(out.shape, out.dtype)
    with np.errstate(all="ignore"):
        np.copyto(host, np.asarray(value).reshape(out.shape) if np.ndim(value) else value, casting="unsafe")
    tmp = empty(out.shape, out.dtype)
    gpu_storage.from_host(host, tmp, gpu_storage.current_device())
    copy_into(tmp, out, req)


def _drawn_on_host(op_name):
    """A kernel running the CPU kernel of `op_name` on host copies of the inputs (the same generator calls, so
    the same numbers), then copying each output to the device as req says."""
    def kernel(ctx, p, inputs, outputs, req):
        from . import storage as gpu_storage
        dev = gpu_storage.current_device()
        host_in = [gpu_storage.to_host(x, dev) for x in inputs]
        host_out = [np.empty(o.shape, o.dtype) for o in outputs]
        registry.get(op_name).cpu(ctx, p, host_in, host_out, [WRITE] * len(outputs))
        for h, o, r in zip(host_out, outputs, req):
            _to_device(h, o, r)
    kernel.__name__ = "host_draw" + op_name
    return kernel


# every sampling op of ops/random.py (all but _shuffle, which gathers on the device)
_DRAWN = ["_random_" + d for d in cpu_random.SAMPLERS] + \
    ["_random_%s_like" % d for d in cpu_random.SAMPLERS if d != "randint"] + \
    ["_sample_" + d for d in cpu_random._SAMPLE_INPUTS] + ["_sample_multinomial", "_sample_unique_zipfian"]


@cuda.jit
def _gather_rows_kernel(out, x, perm, row, add, n):
    # out row r (req) x row perm[r]; rows of `row` elements
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        r = i // row
        j = perm[r] * row + (i - r * row)
        put(out, i, x[j], add)
        i += step


_1D = {t: types.Array(t, 1, "C") for t in (types.float32, types.float64, types.int32, types.int64)}
declare("random.gather_rows", _gather_rows_kernel,
        [(_1D[t], _1D[t], _1D[types.int64], types.int64, types.boolean, types.int64)
         for t in (types.float32, types.float64, types.int32)])


def shuffle(ctx, p, inputs, outputs, req):
    from . import storage as gpu_storage
    x, out = inputs[0], outputs[0]
    perm_host = generator().permutation(x.shape[0]).astype(np.int64)
    if req[0] == NULL or out.size == 0:
        return
    perm = empty(perm_host.shape, np.int64)
    gpu_storage.from_host(perm_host, perm, gpu_storage.current_device())
    n = out.size
    row = n // x.shape[0]
    _gather_rows_kernel[launch(n) + (stream(),)](flat(out), flat(x), perm, row, req[0] == ADD, n)


# op name -> CUDA kernel (attached by ops/cuda/__init__.py::register)
KERNELS = dict({name: _drawn_on_host(name) for name in _DRAWN}, _shuffle=shuffle)

# ops of this family still without a CUDA kernel, and why (they run through the host)
WITHOUT = {"_backward_sample_multinomial": "scatters one value per draw into the probabilities' gradient, which "
                                            "is tiny: runs through the host"}

# ops without a spec row that the simulator tests still run: these have no pointwise spec reference (see EXEMPT in
# tests/op_specs.py); tests/cuda_cases.py::test_random_kernels_match_cpu compares each, seeded, with the CPU kernel
TESTED_THROUGH_GRADIENTS = set(KERNELS)
