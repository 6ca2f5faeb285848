"""Every CUDA kernel compiles to real PTX for sm_90: the simulator runs kernels as Python and does not type-check
like the compiler, so this is what proves they build. Needs the `cuda` extra (numba-cuda and the NVVM/NVRTC 13.0
wheels), no GPU. The compiles run in two subprocesses (tests/cuda_ptx.py) in parallel, away from this process's
numba, and the test prints the list of kernels it compiled."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.cuda

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARTS = 2


def test_every_cuda_kernel_compiles_to_ptx_sm90(capsys):
    pytest.importorskip("numba_cuda", reason="needs the cuda extra: pip install -e '.[cuda]'")
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_ENABLE_CUDASIM", "CUDA_HOME", "CUDA_PATH")}
    procs = [subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "cuda_ptx.py"), str(i), str(PARTS)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(PARTS)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        results += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    failed = [r for r in results if "error" in r]
    compiled = sorted(r["name"] for r in results if "error" not in r)
    with capsys.disabled():
        print("\nPTX for sm_90: %d kernels, %d signatures:" % (len(compiled), sum(r.get("signatures", 0)
                                                                              for r in results)))
        print(textwrap.fill(", ".join(compiled), 118, initial_indent="  ", subsequent_indent="  "))
    assert not failed, "\n".join("%s: %s" % (r["name"], r["error"]) for r in failed)
    assert len(compiled) > 100
