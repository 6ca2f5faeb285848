"""`mx.runtime`: which features this runtime has, under MXNet 1.9.1's feature names.

MXNet reports the options its native library was compiled with; dataflow compiles its kernels on this machine, so
a feature is on when the thing it names is there now:

- CUDA: numba-cuda sees a real GPU (not its simulator). CUDNN, NCCL, CUDA_RTC, TENSORRT: never (not used).
- CPU_SSE ... CPU_AVX2, F16C: the host CPU has the instruction set (LLVM, which numba compiles with, targets it).
- BLAS_OPEN / BLAS_MKL / BLAS_ATLAS / BLAS_APPLE: the BLAS numpy and scipy (hence numba's `np.dot`) link to;
  LAPACK: scipy's LAPACK, always present.
- INT64_TENSOR_SIZE: on (sizes and indices are int64 throughout). OPENMP, MKLDNN, OPENCV, CAFFE, PROFILER,
  DIST_KVSTORE, JEMALLOC, SIGNAL_HANDLER, DEBUG, TVM_OP, SSE, CXX14: off (none of them is part of dataflow).

Examples
--------
>>> import dataflow as mx
>>> features = mx.runtime.Features()
>>> features.is_enabled("cudnn"), features.is_enabled("LAPACK")
(False, True)
"""
import collections

__all__ = ["Feature", "feature_list", "Features"]

# MXNet 1.9.1's features, in its order
FEATURE_NAMES = ("CUDA", "CUDNN", "NCCL", "CUDA_RTC", "TENSORRT", "CPU_SSE", "CPU_SSE2", "CPU_SSE3", "CPU_SSE4_1",
                 "CPU_SSE4_2", "CPU_SSE4A", "CPU_AVX", "CPU_AVX2", "OPENMP", "SSE", "F16C", "JEMALLOC", "BLAS_OPEN",
                 "BLAS_ATLAS", "BLAS_MKL", "BLAS_APPLE", "LAPACK", "MKLDNN", "OPENCV", "CAFFE", "PROFILER",
                 "DIST_KVSTORE", "CXX14", "INT64_TENSOR_SIZE", "SIGNAL_HANDLER", "DEBUG", "TVM_OP")

# feature -> LLVM's name of the host CPU feature
_CPU_FEATURES = {"CPU_SSE": "sse", "CPU_SSE2": "sse2", "CPU_SSE3": "sse3", "CPU_SSE4_1": "sse4.1",
                 "CPU_SSE4_2": "sse4.2", "CPU_SSE4A": "sse4a", "CPU_AVX": "avx", "CPU_AVX2": "avx2", "F16C": "f16c"}


class Feature:
    """One feature: `name` and `enabled`; printed as '✔ NAME' or '✖ NAME'."""
    __slots__ = ("name", "enabled")

    def __init__(self, name, enabled):
        self.name = name
        self.enabled = bool(enabled)

    def __repr__(self):
        return "%s %s" % ("✔" if self.enabled else "✖", self.name)


def feature_list():
    """The features (a list of Feature, in MXNet's order)."""
    enabled = _enabled_features()
    return [Feature(name, name in enabled) for name in FEATURE_NAMES]


class Features(collections.OrderedDict):
    """name -> Feature for every feature; one shared instance, as in MXNet."""
    instance = None

    def __new__(cls):
        if cls.instance is None:
            cls.instance = super().__new__(cls)
            super().__init__(cls.instance, [(f.name, f) for f in feature_list()])
        return cls.instance

    def __init__(self):     # filled once in __new__; calling Features() again must not reset it
        pass

    def __repr__(self):
        return str(list(self.values()))

    def is_enabled(self, feature_name):
        """Whether the feature (any letter case) is on; RuntimeError naming the known ones for an unknown name."""
        name = feature_name.upper()
        if name not in self:
            raise RuntimeError("Feature '%s' is unknown, known features are: %s" % (name, list(self.keys())))
        return self[name].enabled


def _enabled_features():
    enabled = {"LAPACK", "INT64_TENSOR_SIZE"}
    if _real_gpu_count() > 0:
        enabled.add("CUDA")
    host = _host_cpu_features()
    enabled.update(name for name, llvm_name in _CPU_FEATURES.items() if host.get(llvm_name))
    blas = _blas_vendor()
    if blas:
        enabled.add(blas)
    return enabled


def _real_gpu_count():
    from ops.cuda import storage
    return 0 if storage.simulator() else storage.num_gpus()


def _host_cpu_features():
    try:
        from llvmlite import binding
        return {name: bool(on) for name, on in binding.get_host_cpu_features().items()}
    except Exception:  # noqa: BLE001 - a platform LLVM cannot describe: report no CPU extensions
        return {}


def _blas_vendor():
    """BLAS_OPEN, BLAS_MKL, BLAS_ATLAS or BLAS_APPLE for the BLAS numpy links to (None if it cannot tell)."""
    import numpy as np
    try:
        config = np.show_config(mode="dicts")
        name = str(config["Build Dependencies"]["blas"].get("name", "")).lower()
    except Exception:  # noqa: BLE001 - numpy < 1.26 has no dict form
        return None
    for key, feature in (("openblas", "BLAS_OPEN"), ("mkl", "BLAS_MKL"), ("atlas", "BLAS_ATLAS"),
                         ("accelerate", "BLAS_APPLE"), ("blis", "BLAS_OPEN")):
        if key in name:
            return feature
    return None
