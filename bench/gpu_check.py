"""GPU check, for a machine with a real GPU: the CUDA tests without the simulator, then elementwise bandwidth against
the card's peak and GEMM throughput. Finishes in a few minutes (the tests take most of it: numba compiles each
kernel for the real device on first use).

    pip install -e '.[test,cuda]'
    python bench/gpu_check.py                 # tests + measurements, prints a table, exit status 1 on a failure
    python bench/gpu_check.py --no-tests      # measurements only
    python bench/gpu_check.py --json out.json # also write the numbers

It refuses to run under NUMBA_ENABLE_CUDASIM (that is what CI does; see tests/test_cuda_sim.py).
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# Peak memory bandwidth (GB/s) by device name, where the driver does not report clock and bus width.
_PEAK_GBS = {"H200": 4800, "H100 SXM": 3350, "H100 NVL": 3900, "H100 PCIe": 2000, "H100": 3350, "A100-SXM4-80GB": 2039,
             "A100-SXM4-40GB": 1555, "A100-PCIE-80GB": 1935, "A100": 1555, "L40S": 864, "L4": 300, "A10": 600,
             "V100": 900, "T4": 320}


def run_tests(timeout):
    """The CUDA case files on the real GPU (no simulator): every CUDA kernel against the CPU's, and the GPU path."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["CI"] = "true"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/cuda_cases.py", "tests/cuda_boxes_cases.py",
                           "tests/cuda_contrib_cases.py", "tests/cuda_rnn_cases.py", "-q", "-p", "no:cacheprovider",
                           "-p", "no:warnings"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    return {"ok": proc.returncode == 0, "seconds": round(time.perf_counter() - start, 1),
            "tail": "\n".join(lines[-25:] if proc.returncode else lines[-3:])}


def peak_bandwidth_gbs(device):
    """Theoretical DRAM bandwidth: 2 * memory clock * bus width, from the driver; else the table by name."""
    try:
        clock_khz = device.MEMORY_CLOCK_RATE
        bus_bits = device.GLOBAL_MEMORY_BUS_WIDTH
        if clock_khz and bus_bits:
            return 2 * clock_khz * 1e3 * bus_bits / 8 / 1e9, "driver attributes"
    except Exception:  # noqa: BLE001 - attribute missing in this driver: use the table
        pass
    name = _device_name(device)
    for key, gbs in _PEAK_GBS.items():
        if key in name:
            return float(gbs), "table (%s)" % key
    return None, "unknown card"


def _time(fn, stream, repeat):
    fn()                                     # compile and warm up
    stream.synchronize()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        stream.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def _device_name(device):
    name = getattr(device, "name", "simulator")
    return name.decode() if isinstance(name, bytes) else str(name)


def _bandwidth(n_elems, stream, repeat):
    """Seconds of three elementwise kernels over n_elems float32 (c = a + b, c += a, c = a * 3)."""
    import numpy as np

    from ops.cpu import elemwise as cpu_elemwise
    from ops.cuda import common, elemwise, storage
    a, b, c = (storage.empty((n_elems,), np.float32, 0) for _ in range(3))
    common.fill(a, 1.0)
    common.fill(b, 2.0)
    return (("add (2 reads, 1 write)", 3,
             _time(lambda: elemwise.map_binary(cpu_elemwise.add, a, b, c, "write"), stream, repeat)),
            ("c += a (2 reads, 1 write)", 3, _time(lambda: common.copy_into(a, c, "add"), stream, repeat)),
            ("x * scalar (1 read, 1 write)", 2,
             _time(lambda: elemwise.map_scalar(cpu_elemwise.mul, a, np.float32(3), c, "write"), stream, repeat)))


def _gemm(n, stream, repeat):
    """(seconds, correct) of one n x n x n float32 GEMM through the tiled kernel."""
    import numpy as np

    from ops.cuda import common, matrix, storage
    x, w, y = (storage.empty((n, n), np.float32, 0) for _ in range(3))
    common.fill(x, 0.5)
    common.fill(w, 0.25)
    mats = [matrix.Mat.rowmajor(v, n, n) for v in (x, w, y)]
    seconds = _time(lambda: matrix.gemm(*mats), stream, repeat)
    return seconds, bool(np.allclose(storage.to_host(y[:1], 0), 0.125 * n, rtol=1e-3))


def measure(n_elems, gemm_n, repeat):
    from numba import cuda

    from ops import cuda as ops_cuda
    from ops.cuda import storage
    ops_cuda.register()
    device = cuda.get_current_device()
    results = {"device": _device_name(device), "compute_capability": list(device.compute_capability)}
    peak, source = peak_bandwidth_gbs(device)
    with storage.on_device(0) as stream:
        for name, moved, seconds in _bandwidth(n_elems, stream, repeat):
            gbs = moved * n_elems * 4 / 1e9 / seconds
            results["bandwidth " + name] = {"GB/s": round(gbs, 1), "ms": round(seconds * 1e3, 3),
                                            "of peak": round(gbs / peak, 3) if peak else None}
        results["peak GB/s"] = {"value": round(peak, 1) if peak else None, "source": source}
        for n in gemm_n:
            seconds, correct = _gemm(n, stream, max(1, repeat // 2))
            results["gemm f32 %d^3" % n] = {"TFLOPS": round(2 * n ** 3 / seconds / 1e12, 3),
                                            "ms": round(seconds * 1e3, 2), "correct": correct}
        results["pool"] = storage.pool(0).stats()
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-tests", action="store_true", help="skip the CUDA tests")
    parser.add_argument("--elements", type=int, default=1 << 27, help="elements per bandwidth array (float32)")
    parser.add_argument("--gemm", type=int, nargs="*", default=[1024, 4096], help="square GEMM sizes")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--test-timeout", type=int, default=200, help="seconds allowed for the tests")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"):
        sys.exit("gpu_check: unset NUMBA_ENABLE_CUDASIM; this check is for a real GPU")
    from ops.cuda import storage
    if storage.num_gpus() == 0:
        sys.exit("gpu_check: no GPU found (mx.context.num_gpus() is 0); install the cuda extra on a GPU machine")
    report = {"environment": storage.environment_note()}
    if not args.no_tests:
        report["tests"] = run_tests(args.test_timeout)
        print("CUDA tests on the GPU: %s in %.1f s\n%s" % ("passed" if report["tests"]["ok"] else "FAILED",
                                                          report["tests"]["seconds"], report["tests"]["tail"]))
    report.update(measure(args.elements, args.gemm, args.repeat))
    for key, value in report.items():
        if key != "tests":
            print("%-36s %s" % (key, value))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    sys.exit(0 if report.get("tests", {"ok": True})["ok"] else 1)


if __name__ == "__main__":
    main()
