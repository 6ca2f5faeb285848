"""CUDA kernels of ops/rnn.py: `_rnn_param_concat` is Concat's kernel; the RNN op itself runs through the host
(see WITHOUT)."""
from .nn import KERNELS as _NN

KERNELS = {"_rnn_param_concat": _NN["Concat"]}

_HOST = ("a sequential time loop of small GEMMs and fused gate loops (ops/cpu/rnn.py) with a packed parameter "
         "layout; it runs through the host until a CUDA version (per-step cuBLAS GEMM + gate kernel) is written")
WITHOUT = {"RNN": _HOST, "_backward_RNN": _HOST}
