"""`mx.rtc`: MXNet's runtime-compiled CUDA kernels (NVRTC) for NDArrays.

Not provided: dataflow compiles its CUDA kernels with numba, and `CudaModule` raises an MXNetError saying so.
"""
from .base import MXNetError

class CudaModule:
    """MXNet's NVRTC module (`source`, `options`, `exports`); raises MXNetError: not supported."""

    def __init__(self, source, options=(), exports=()):
        raise MXNetError("mx.rtc.CudaModule is not supported by dataflow: it has no NVRTC runtime compiler "
                         "(its CUDA kernels are numba functions, see ops/cuda/)")


class CudaKernel:
    """A kernel of a CudaModule; none can exist (see CudaModule)."""

    def __init__(self, handle, name, is_ndarray, dtypes):
        raise MXNetError("mx.rtc.CudaKernel is not supported by dataflow (see mx.rtc.CudaModule)")
