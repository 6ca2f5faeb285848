"""CUDA kernels of ops/contrib_ops.py (none yet: they run through the host, see WITHOUT)."""
KERNELS = {}
WITHOUT = {"_contrib_SyncBatchNorm": "BatchNorm's maths over axis 1 with the variance as output: runs through the "
                                     "host until a multi-GPU SyncBatchNorm exists"}
