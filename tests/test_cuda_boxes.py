"""box_nms's CUDA kernel against its CPU kernel, bit for bit: tests/cuda_boxes_cases.py under numba's simulator, in
a subprocess, since numba.cuda reads NUMBA_ENABLE_CUDASIM at import. Run these alone with `pytest -m cuda`."""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.cuda

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_box_kernels_under_the_simulator():
    pytest.importorskip("numba_cuda", reason="needs the cuda extra: pip install -e '.[cuda]'")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/cuda_boxes_cases.py", "-q", "-p",
                           "no:cacheprovider", "-p", "no:warnings", "-x"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
