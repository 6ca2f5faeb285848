"""The CUDA kernels and the GPU path under numba-cuda's simulator, plus what needs no simulator.

`test_cases_under_the_simulator` runs tests/cuda_cases.py (and the box and contrib case files) in a subprocess
with NUMBA_ENABLE_CUDASIM=1 (numba.cuda reads it at import, and simulated and real CUDA cannot mix in one
process). The coverage test lists which ops have
a CUDA kernel and fails for an op without one that has no reason in ops.cuda.without_cuda_kernel(). Run these alone
with `pytest -m cuda`.
"""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.cuda

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# the generic cases of every op with a spec row; box_nms/MultiBoxDetection bit for bit; the contrib ops
# (BilinearResize2D, index_copy/index_array/boolean_mask, the interleaved attention products), forward and backward
@pytest.mark.parametrize("cases", ["tests/cuda_cases.py", "tests/cuda_boxes_cases.py", "tests/cuda_contrib_cases.py",
                                   "tests/cuda_rnn_cases.py"])
def test_cases_under_the_simulator(cases):
    pytest.importorskip("numba_cuda", reason="needs the cuda extra: pip install -e '.[cuda]'")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-m", "pytest", cases, "-q", "-p", "no:cacheprovider",
                           "-p", "no:warnings", "-x"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)
    tail = (proc.stdout + proc.stderr)[-6000:]
    assert proc.returncode == 0, tail


def test_every_op_has_a_gpu_kernel_or_a_reason(capsys):
    """ops/cuda attaches a CUDA kernel to each op it covers; every other op runs through the host and must say why
    in ops.cuda.without_cuda_kernel() (and nothing listed there may have a CUDA kernel by now)."""
    pytest.importorskip("numba_cuda", reason="needs the cuda extra: pip install -e '.[cuda]'")
    from ops import cuda as ops_cuda
    from ops import registry
    kinds = ops_cuda.register()
    cuda_ops = sorted(n for n, k in kinds.items() if k == "cuda")
    host_ops = sorted(n for n, k in kinds.items() if k == "host")
    with capsys.disabled():
        print("\nGPU kernels: %d ops run CUDA kernels, %d run through the host (%d registered)"
              % (len(cuda_ops), len(host_ops), len(registry.all_ops())))
    assert all(op.gpu is not None for op in registry.all_ops() if op.cpu is not None)
    without = ops_cuda.without_cuda_kernel()
    unexplained = [n for n in host_ops if n not in without]
    assert not unexplained, "ops without a CUDA kernel and without a reason in ops.cuda.WITHOUT_CUDA_KERNEL: %s" \
        % unexplained
    stale = [n for n in without if kinds.get(n) == "cuda"]
    assert not stale, "listed in WITHOUT_CUDA_KERNEL but they have CUDA kernels: %s" % stale
    unknown = [n for n in without if n not in kinds]
    assert not unknown, "WITHOUT_CUDA_KERNEL names ops that are not registered: %s" % unknown


def test_gpu_without_a_gpu_is_a_clear_error():
    """In this process numba.cuda is not simulated and there is no GPU: mx.gpu() arrays fail with a message that
    names mx.context.num_gpus() (the context object itself can still be made, as in MXNet)."""
    pytest.importorskip("numba_cuda", reason="needs the cuda extra: pip install -e '.[cuda]'")
    import dataflow as mx
    if mx.context.num_gpus() > 0:
        pytest.skip("a GPU is present")
    ctx = mx.gpu(0)
    assert str(ctx) == "gpu(0)"
    with pytest.raises(mx.MXNetError, match=r"mx\.context\.num_gpus\(\) is 0"):
        mx.nd.ones((2, 2), ctx)
    x = mx.nd.ones((2, 2))
    with pytest.raises(mx.MXNetError, match="num_gpus"):
        x.as_in_context(mx.gpu())
    with pytest.raises(mx.MXNetError, match="num_gpus"):
        (mx.sym.var("a") * 2).simple_bind(mx.gpu(), a=(2,))
