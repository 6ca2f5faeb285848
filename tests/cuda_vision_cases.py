"""The CUDA kernels of the vision ops' backward ops (ops/cuda/vision.py) against the CPU kernels.

Not collected by a plain `pytest` run: numba.cuda must be imported in simulator mode first.
tests/test_new_ops.py::test_vision_kernels_under_the_simulator runs this file in a subprocess with
NUMBA_ENABLE_CUDASIM=1 (the forward kernels are compared through their spec rows by tests/cuda_cases.py).
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops import cuda as ops_cuda
from ops import registry
from ops.registry import ADD, WRITE, OpContext
from tests.cuda_cases import close, run_gpu
from tests.op_specs import SPECS

pytestmark = pytest.mark.cuda

ops_cuda.register()
SPEC = {s.name: s for s in SPECS}
# backward op -> (forward op, which forward inputs and outputs it reads after the head gradient)
BACKWARD = {"_backward_ROIPooling": ("ROIPooling", lambda ins, outs: [ins[0], ins[1], outs[1]]),
            "_backward_GridGenerator": ("GridGenerator", lambda ins, outs: [ins[0]]),
            "_backward_BilinearSampler": ("BilinearSampler", lambda ins, outs: [ins[0], ins[1]]),
            "_backward_SpatialTransformer": ("SpatialTransformer", lambda ins, outs: [ins[0], outs[2]])}


def _cpu_forward(opdef, p, inputs):
    from scheduler.graph import Node
    from scheduler.infer import apply_rule
    node = Node(opdef, opdef.name, params=p)
    n_out = opdef.num_outputs(p)
    _, shapes = apply_rule(node, [x.shape for x in inputs], [None] * n_out, "shape")
    outs = [np.zeros(s, inputs[0].dtype) for s in shapes]
    opdef.cpu(OpContext(), p, inputs, outs, [WRITE] * n_out)
    return outs


def test_every_vision_backward_kernel_is_listed():
    assert set(BACKWARD) == set(ops_cuda.vision.TESTED_THROUGH_GRADIENTS)
    assert all(ops_cuda.register()[name] == "cuda" for name in BACKWARD)


@pytest.mark.parametrize("name", sorted(BACKWARD))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@settings(max_examples=3, derandomize=True, database=None)
@given(data=st.data())
def test_backward_kernel_matches_cpu(name, dtype, data):
    forward, reads = BACKWARD[name]
    fwd = registry.get(forward)
    attrs, inputs = SPEC[forward].sample(data.draw, np.dtype(dtype))
    p = fwd.parse_params(attrs)
    outs = _cpu_forward(fwd, p, inputs)
    rng = np.random.default_rng(1)
    dy = rng.standard_normal(outs[0].shape).astype(dtype)
    opdef = registry.get(name)
    bwd_in = [dy] + reads(inputs, outs)
    grads = [np.zeros(x.shape, dtype) for x in inputs][:opdef.num_outputs(opdef.parse_params(attrs))]
    for req in (WRITE, ADD):
        init = [g + (rng.uniform(-1, 1, g.shape).astype(dtype) if req == ADD else 0) for g in grads]
        cpu_out = [g.copy() for g in init]
        with np.errstate(all="ignore"):
            opdef.cpu(OpContext(), p, [x.copy() for x in bwd_in], cpu_out, [req] * len(init))
            gpu_out, _ = run_gpu(opdef, p, bwd_in, init, [req] * len(init), False)
        for k, (g, c) in enumerate(zip(gpu_out, cpu_out)):
            close(name, g, c, "output %d, req %s" % (k, req))
