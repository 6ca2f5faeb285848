"""InceptionFactoryA from the seed: MXNet's shapes, a forward+backward run, and the memory plan of the batch-32
training bind set beside what MXNet 1.9.1 allocates (165 MiB training, 55 MiB inference)."""
import os

import numpy as np
import pytest

import dataflow as mx
from tests.paths import FIXTURES

MIB = 1 << 20


def _in3a():
    return mx.sym.load(os.path.join(FIXTURES, "symbols", "in3a-symbol.json"))


def _bytes(arrays):
    return sum(a.size * np.dtype(a.dtype).itemsize for a in arrays if a is not None)


def test_forward_backward_runs_and_gradients_are_finite():
    sym = _in3a()
    ex = sym.simple_bind(mx.cpu(), **{"Previous Output": (2, 3, 8, 8)})
    rs = np.random.RandomState(0)
    for array in ex.arg_dict.values():
        array[:] = rs.uniform(-0.5, 0.5, array.shape)
    out = ex.forward(is_train=True)[0]
    assert out.shape == (2, 256, 8, 8)
    ex.backward(mx.nd.ones(out.shape))
    for name, grad in ex.grad_dict.items():
        g = grad.asnumpy()
        assert np.isfinite(g).all(), name
        if name.endswith("_weight"):
            assert np.abs(g).sum() > 0, name
    assert np.abs(ex.aux_dict["bn_in3a_1x1_moving_mean"].asnumpy()).sum() > 0     # training updated the stats


@pytest.mark.parametrize("grad_req, mxnet_mib", [("write", 165), ("null", 55)])
def test_memory_plan_beside_mxnet(grad_req, mxnet_mib, capsys):
    ex = _in3a().simple_bind(mx.cpu(), grad_req=grad_req, **{"Previous Output": (32, 3, 28, 28)})
    stats = ex.memory_stats()
    external = _bytes(ex.arg_arrays + ex.aux_arrays + ex.outputs + ex.grad_arrays)
    total = stats["planned"] + external
    with capsys.disabled():
        print("\nInceptionFactoryA batch 32 (%s): naive %.1f MiB -> planned %.1f MiB (lower bound %.1f MiB); "
              "with arguments, outputs and gradients %.1f MiB; MXNet 1.9.1 allocates %d MiB"
              % ("training" if grad_req == "write" else "inference", stats["naive"] / MIB,
                 stats["planned"] / MIB, stats["lower_bound"] / MIB, total / MIB, mxnet_mib))
    assert stats["lower_bound"] <= stats["planned"] <= stats["naive"]
    if grad_req == "write":
        assert total <= mxnet_mib * MIB
