"""`mx.threads`: dataflow's BLAS thread policy. It lives in ops/cpu/blas_threads.py (Notes [one BLAS thread] and
[when a 2-thread GEMM pays]), below `dataflow`, because the kernels and the Plan compiler apply it; this is its
public face. The switch: DATAFLOW_BLAS_THREADS=auto (default) | N | 0, or `set_blas_threads("auto" | n | None)`.
"""
from ops.cpu.blas_threads import (ENV, PARALLEL_FLOPS, GemmSite, _init, apply_policy, blas_info,  # noqa: F401
                                  gemm_site, get_blas_threads, set_blas_threads)

__all__ = ["set_blas_threads", "get_blas_threads", "blas_info", "apply_policy", "GemmSite", "gemm_site",
           "PARALLEL_FLOPS", "ENV"]
