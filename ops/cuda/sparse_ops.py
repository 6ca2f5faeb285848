"""CUDA kernels of the sparse family (ops/sparse_ops.py) on the dense arrays a graph node sees: cast_storage is
`_copy`'s kernel, SparseEmbedding is Embedding's (ops/cuda/rows.py); the others run through the host."""
from . import elemwise, rows

KERNELS = {"cast_storage": elemwise.KERNELS["_copy"], "_contrib_SparseEmbedding": rows.KERNELS["Embedding"]}

WITHOUT = {
    "_sparse_retain": "a row mask on host-checked indices, used by sparse optimizers on small index sets: runs "
                      "through the host (ops/cpu/sparse_ops.py)",
    "_square_sum": "a sum of squares; `sum(square(x))` has CUDA kernels where speed matters: runs through the host "
                   "(ops/cpu/sparse_ops.py)",
}
