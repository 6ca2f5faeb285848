"""CUDA kernels of ops/transformer.py.

None yet: these ops run on the GPU through `host_fallback` (the CPU kernel on host copies). div_sqrt_dim and
arange_like are one elementwise pass each; the interleaved products are batched GEMMs over strided views.
"""
KERNELS = {}

_ELEMWISE = "elementwise (GluonNLP's attention scaling / positions): runs through the host; a CUDA port is a follow-up"
_GEMM = "batched matmuls over the interleaved layout: run through the host (numpy BLAS); a cuBLAS port is a follow-up"
WITHOUT = {"_contrib_div_sqrt_dim": _ELEMWISE, "_contrib_arange_like": _ELEMWISE,
           **{prefix + "interleaved_matmul_%s_%s" % (kind, product): _GEMM
              for prefix in ("_contrib_", "_backward_") for kind in ("selfatt", "encdec")
              for product in ("qk", "valatt")}}
