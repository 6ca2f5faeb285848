"""Compile every declared CUDA kernel to PTX for sm_90 (no GPU needed); run by tests/test_cuda_ptx.py.

`python tests/cuda_ptx.py PART PARTS` compiles every PARTS-th kernel starting at PART (sorted by name) and prints
one JSON line per kernel: {"name", "signatures", "ptx_bytes"}; a kernel that does not compile prints "error".

How this works with the pinned wheels (numba-cuda 0.30.4, nvidia-nvvm 13.0, nvidia-cuda-nvrtc 13.0): numba-cuda
finds libnvvm, libnvrtc and libdevice in site-packages (nvidia/cu13/...) through cuda-pathfinder, so no CUDA_HOME
is needed (the caller removes CUDA_HOME/CUDA_PATH so that a system toolkit cannot take precedence), and
`cuda.compile_ptx(pyfunc, argtypes, cc=(9, 0))` emits `.version 9.0` / `.target sm_90`. One catch: compiling a
kernel that calls a `cuda.jit(device=True)` function compiles that function for the *current device's* compute
capability, and without a GPU there is no current device, so `numba.cuda.dispatcher.get_current_device` is
replaced here (this process only) by a stand-in reporting (9, 0).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class _SM90:
    compute_capability = (9, 0)


def main(part, parts):
    from numba import cuda
    import numba.cuda.dispatcher as dispatcher
    dispatcher.get_current_device = lambda: _SM90()
    from ops import cuda as ops_cuda
    from ops.cuda import common
    ops_cuda.register()                       # builds (declares) every template kernel an op may launch
    names = sorted(common.KERNELS)[part::parts]
    for name in names:
        kernel, signatures = common.KERNELS[name]
        try:
            size = 0
            for sig in signatures:
                ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=(9, 0))
                assert ".target sm_90" in ptx, "not an sm_90 target"
                size += len(ptx)
            print(json.dumps({"name": name, "signatures": len(signatures), "ptx_bytes": size}), flush=True)
        except Exception as err:  # noqa: BLE001 - reported to the test, which fails
            print(json.dumps({"name": name, "error": "%s: %s" % (type(err).__name__, str(err)[:2000])}), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
